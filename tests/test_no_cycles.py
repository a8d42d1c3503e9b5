"""A run makes no reference cycles per file: a file's source model, tokens and graphs go with reference
counting once nothing uses them, instead of waiting for the cycle collector (which cost a batch run about a
sixth of its time). networkx's cached views, the body and list readers, and a kept refusal's traceback each
made one before."""

from __future__ import annotations

import gc
import shutil

import networkx as nx
import pytest

from llm_transform import LayerError, pipeline
from llm_transform.graph.layer_graph import OpGraph
from tests.conftest import FIXTURES, layer_cpp

OURS = ("llm_transform.", "networkx.")


def _cyclic_garbage(run) -> list[str]:
    """Type names of our objects (and networkx's) that only the cycle collector would free after ``run``
    (run once before, so that what a process sets up once, such as networkx compiling its decorators on
    first use, is not counted)."""
    run()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        run()
        gc.collect()
        found = sorted({f"{type(o).__module__}.{type(o).__qualname__}" for o in gc.garbage
                        if type(o).__module__.startswith(OURS)})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    return found


def test_transforms_in_both_modes_leave_no_cycles(tmp_path):
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")

    def run():
        for sparse in (False, True):
            pipeline.transform_file(cpp, sparse=sparse, write=False)
        pipeline.clear_caches()  # what a long run does as it moves on: forget the pair

    assert _cyclic_garbage(run) == []


def test_a_refusal_kept_for_the_other_mode_holds_no_frames(tmp_path):
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    cpp.write_text(cpp.read_text(encoding="utf-8").replace("IN_TENSOR_COUNT = 17", "IN_TENSOR_COUNT = 18"),
                   encoding="utf-8")

    def run():
        for sparse in (False, True):  # the second mode is refused from the kept refusal
            with pytest.raises(LayerError, match="inconsistent"):
                pipeline.transform_file(cpp, sparse=sparse, write=False)
        pipeline.clear_caches()

    assert _cyclic_garbage(run) == []


def test_graph_copies_are_networkx_copies():
    g = OpGraph()
    g.add_node("x", kind="tensor", roles={"a": 1})
    g.add_edge("x", "op", slot=0, condition="")
    g.add_edge("x", "op", slot=1, condition="c")
    g.add_edge("op", "y", slot=0, condition="")
    ours, theirs = g.copy(), nx.MultiDiGraph.copy(g)
    assert dict(ours.nodes(data=True)) == dict(theirs.nodes(data=True))
    assert list(ours.edges(keys=True, data=True)) == list(theirs.edges(keys=True, data=True))
    assert list(ours.in_edges("op", keys=True, data=True)) == list(theirs.in_edges("op", keys=True, data=True))
    ours.edges["x", "op", 1]["slot"] = 9  # one edge record, seen from both ends, and the original untouched
    assert ours.pred["op"]["x"][1]["slot"] == 9 and g.edges["x", "op", 1]["slot"] == 1
    ours.nodes["x"]["kind"] = "op"
    assert g.nodes["x"]["kind"] == "tensor" and ours.node_changes == g.node_changes
