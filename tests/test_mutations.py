"""Mutated fixture layers through the whole pipeline: only LayerError ever escapes, sources are never
touched, and whatever is written passes the tool's own check. 2,000 examples under the `ci` profile."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_transform import LayerError, load_layer, transform_file
from tests.conftest import LAYER_DIRS, NEW_IDIOM_DIRS, layer_cpp

SOURCES = [(layer_cpp(d).name, layer_cpp(d).read_bytes(), layer_cpp(d).with_suffix(".h").read_bytes())
           for d in [*LAYER_DIRS, *NEW_IDIOM_DIRS]]
_TENSOR = re.compile(rb"\b(?:IN|OUT|INTERMIDATE|INTERMEDIATE|INTERNAL)_\w+")


@st.composite
def mutated(draw):
    name, cpp, h = draw(st.sampled_from(SOURCES))
    which = draw(st.sampled_from(["cpp", "cpp", "cpp", "h"]))
    lines = (cpp if which == "cpp" else h).split(b"\n")
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "rename", "count"]))
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]) - 1)))]
        elif op == "rename":
            names = _TENSOR.findall(lines[i])
            if names:
                old = draw(st.sampled_from(names))
                lines[i] = lines[i].replace(old, old + b"_X", 1)
        else:
            counts = [k for k, ln in enumerate(lines) if b"_COUNT = " in ln]
            if counts:
                k = draw(st.sampled_from(counts))
                lines[k] = re.sub(rb"= \d+", b"= " + str(draw(st.integers(0, 80))).encode(), lines[k])
    text = b"\n".join(lines)
    return (name, text, h) if which == "cpp" else (name, cpp, text)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=mutated())
def test_only_layer_errors_and_whatever_is_written_checks_clean(case, tmp_path_factory):
    name, cpp_bytes, h_bytes = case
    folder = tmp_path_factory.mktemp("mut")
    cpp = folder / name
    cpp.write_bytes(cpp_bytes)
    cpp.with_suffix(".h").write_bytes(h_bytes)
    for sparse in (False, True):
        try:
            r = transform_file(cpp, sparse=sparse)
        except LayerError as exc:
            assert exc.one_line().count("\n") == 0
            continue
        assert r.written
        lg = load_layer(r.target_cpp)
        assert lg.errors() == [], [f.one_line() for f in lg.errors()]
    assert cpp.read_bytes() == cpp_bytes and cpp.with_suffix(".h").read_bytes() == h_bytes
    assert not [p for p in Path(folder).iterdir() if p.name.endswith(".tmp")]
