"""Every fixture layer builds exactly the graph written by hand in its expected_graph.json."""

from __future__ import annotations

import networkx as nx
import pytest

from llm_transform import LayerError, load_layer
from tests.conftest import LAYER_DIRS, NEW_IDIOM_DIRS, expected, layer_cpp

ALL_DIRS = [*LAYER_DIRS, *NEW_IDIOM_DIRS]


@pytest.mark.parametrize("folder", ALL_DIRS, ids=[d.name for d in ALL_DIRS])
def test_exact_graph(folder):
    exp = expected(folder)
    lg = load_layer(layer_cpp(folder))
    assert lg.name.rsplit("::", 1)[-1] == exp["layer_function"]
    assert lg.ops() == [o["name"] for o in exp["ops"]]
    for o in exp["ops"]:
        name = o["name"]
        assert lg.param_type(name) == o["param_type"], name
        assert lg.role(name) == o["role"], name
        assert lg.inputs_of(name) == o["inputs"], name
        assert lg.outputs_of(name) == o["outputs"], name
        if "condition" in o:
            assert lg.condition(name) == o["condition"], name
        assert lg.optional_inputs(name) == o.get("optional_inputs", {}), name
    assert [[t, lg.tensor_kind(t)] for t in lg.tensors()] == exp["tensors"]


@pytest.mark.parametrize("folder", ALL_DIRS, ids=[d.name for d in ALL_DIRS])
def test_fixture_layers_are_consistent(folder):
    lg = load_layer(layer_cpp(folder))
    assert lg.errors() == []
    assert nx.is_directed_acyclic_graph(lg.graph)
    for u, v, d in lg.graph.edges(data=True):
        assert lg.graph.nodes[u]["kind"] != lg.graph.nodes[v]["kind"]
        assert isinstance(d["slot"], int)


def test_consumers_and_producer():
    lg = load_layer(layer_cpp(LAYER_DIRS[0].parent / "full_fused_qkv_rope"))
    norm_out = lg.outputs_of(lg.ops()[0])[0]
    assert lg.producer(norm_out) == lg.ops()[0]
    assert lg.consumers(norm_out) == [lg.ops()[1]]
    assert lg.role(lg.ops()[1]) == "linear"
    assert lg.producer("IN_HOLDER") is None
    with pytest.raises(KeyError):
        lg.inputs_of("noSuchNode")


def test_missing_file_is_a_layer_error(tmp_path):
    with pytest.raises(LayerError) as exc:
        load_layer(tmp_path / "absent_layer.cpp")
    assert exc.value.path.endswith("absent_layer.cpp")
    assert "not found" in exc.value.reason
