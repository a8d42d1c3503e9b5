"""Mutated fixture layers: the tool raises nothing but LayerError, and what it produces checks clean."""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.build import build_graph
from graph.passes import Options, quantize
from graph.validate import validate
from llm_transform import LayerError
from llm_transform.pipeline import transform_file
from llm_transform.reader import read_pair
from tests.conftest import LAYER_DIRS, layer_cpp

SOURCES = [(layer_cpp(d), layer_cpp(d).read_bytes(), layer_cpp(d).with_suffix(".h").read_bytes())
           for d in LAYER_DIRS]


@st.composite
def mutated(draw):
    cpp, text, h = draw(st.sampled_from(SOURCES))
    lines = text.split(b"\n")
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "truncate", "rename", "count"]))
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, max(0, len(lines[i]) - 1)))]
        elif op == "rename":
            lines = [ln.replace(b"IN_HOLDER", b"IN_HOLDR") if k == i else ln for k, ln in enumerate(lines)]
        else:
            lines = [ln.replace(b"COUNT = 1", b"COUNT = 2") for ln in lines]
        if not lines:
            lines = [b""]
    return cpp, b"\n".join(lines), h


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_only_layer_errors_and_clean_output(case):
    cpp, text, h = case
    try:
        model = read_pair(Path(cpp), Path(cpp).with_suffix(".h"), cpp_text=text, h_text=h)
        lg = build_graph(model)
        lg.findings = validate(lg)
        if lg.errors():
            return
        for sparse in (False, True):
            quantize(lg, Options(sparse=sparse))
    except LayerError:
        return


def test_mutation_through_pipeline_writes_nothing_on_refusal(tmp_path):
    cpp, text, h = SOURCES[0]
    (tmp_path / cpp.name).write_bytes(text.replace(b"};", b"}", 1))
    (tmp_path / cpp.with_suffix(".h").name).write_bytes(h)
    with contextlib.suppress(LayerError):
        transform_file(tmp_path / cpp.name)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(("quant_", "."))]
    assert all(not n.endswith(".tmp") for n in leftovers)
