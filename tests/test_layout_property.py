"""The graph does not depend on layout: re-spacing every token of a fixture (spaces, tabs, newlines,
CRLF) gives the same ops, wiring and tensors."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_transform.graph.build import build_graph
from llm_transform.source.lexer import PREPROC, tokenize
from llm_transform.source.reader import read_pair
from tests.conftest import LAYER_DIRS, NEW_IDIOM_DIRS, layer_cpp

PAIRS = [(layer_cpp(d), layer_cpp(d).read_bytes(), layer_cpp(d).with_suffix(".h").read_bytes())
         for d in [*LAYER_DIRS, *NEW_IDIOM_DIRS]]


SPACES = [" ", "  ", "\t", "\n", "\r\n", " \n    "]


def _respace(text: str, rng: random.Random) -> str:
    tokens, comments = tokenize(text)
    items = sorted([(t.start, t.end, t.kind == PREPROC) for t in tokens]
                   + [(c.start, c.end, c.text.startswith("//")) for c in comments])
    out = []
    for start, end, needs_newline in items:
        piece = text[start:end]
        if needs_newline:
            out.append("\n" + piece + "\n")
        else:
            out.append(rng.choice(SPACES) + piece)
    return "".join(out)


def _signature(cpp: Path, cpp_text: bytes, h_text: bytes):
    lg = build_graph(read_pair(cpp, cpp.with_suffix(".h"), cpp_text=cpp_text, h_text=h_text))
    return lg.signature(), [(t, lg.tensor_kind(t)) for t in lg.tensors()]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_respaced_layer_builds_the_same_graph(data):
    cpp, cpp_bytes, h_bytes = data.draw(st.sampled_from(PAIRS))
    want = _signature(cpp, cpp_bytes, h_bytes)
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    cpp_new = _respace(cpp_bytes.decode("utf-8-sig"), rng).encode()
    h_new = _respace(h_bytes.decode("utf-8-sig"), rng).encode()
    assert _signature(cpp, cpp_new, h_new) == want


TRANSFORMABLE = [p for p in PAIRS if p[0].parent.name not in ("method_call_creation",)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_respaced_layer_still_transforms(data, tmp_path_factory):
    from llm_transform import load_layer, transform_file

    cpp, cpp_bytes, h_bytes = data.draw(st.sampled_from(TRANSFORMABLE))
    folder = tmp_path_factory.mktemp("respaced")
    target = folder / cpp.name
    rng = random.Random(data.draw(st.integers(0, 2**32)))
    target.write_bytes(_respace(cpp_bytes.decode("utf-8-sig"), rng).encode())
    target.with_suffix(".h").write_bytes(_respace(h_bytes.decode("utf-8-sig"), rng).encode())
    for sparse in (False, True):
        r = transform_file(target, sparse=sparse)
        assert load_layer(r.target_cpp, clang=False).errors() == []
