"""The query API: helpful KeyErrors, branch variants by node name, short reprs, all paths, params."""

from __future__ import annotations

import pytest

import llm_transform
from llm_transform import LayerError, load_layer, transform_file
from tests.conftest import FIXTURES, LAYER_DIRS, layer_cpp

FUSED = layer_cpp(FIXTURES / "layers" / "full_fused_qkv_rope")
PAGED = layer_cpp(FIXTURES / "layers" / "full_paged_attention")

OP_QUERIES = ["inputs_of", "outputs_of", "role", "param_type", "condition", "params", "site_tensors"]
TENSOR_QUERIES = ["consumers", "producers", "producer", "tensor_kind", "feeding"]
ANY_QUERIES = ["upstream", "downstream"]


@pytest.fixture(scope="module")
def g():
    return load_layer(FUSED)


@pytest.mark.parametrize("query", OP_QUERIES)
def test_unknown_op_names_suggest(g, query):
    with pytest.raises(KeyError) as exc:
        getattr(g, query)("qkvLinerNode")
    assert "no op named 'qkvLinerNode'" in str(exc.value) and "qkvLinearNode" in str(exc.value)


@pytest.mark.parametrize("query", TENSOR_QUERIES)
def test_unknown_tensor_names_suggest(g, query):
    with pytest.raises(KeyError) as exc:
        getattr(g, query)("IN_HIDENSTATES")
    assert "IN_HIDDENSTATES" in str(exc.value)


@pytest.mark.parametrize("query", ANY_QUERIES)
def test_unknown_names_in_upstream_downstream(g, query):
    with pytest.raises(KeyError) as exc:
        getattr(g, query)("mlpNod")
    assert "mlpNode" in str(exc.value)


@pytest.mark.parametrize("query", ["paths_between", "path_between"])
def test_unknown_names_in_paths(g, query):
    with pytest.raises(KeyError) as exc:
        getattr(g, query)("IN_HIDDENSTATES", "OUT_LAYEROU")
    assert "OUT_LAYEROUT" in str(exc.value)
    assert "networkx" not in type(exc.value).__module__


def test_far_off_names_say_how_many_there_are(g):
    with pytest.raises(KeyError) as exc:
        g.role("zzzzzz")
    assert "see ops() / tensors()" in str(exc.value)


def test_variants_by_node_name():
    pa = load_layer(PAGED)
    with pytest.raises(KeyError) as exc:
        pa.role("attentionNode")
    assert "attentionNode[param.isPrefill]" in str(exc.value) and "attentionNode[!param.isPrefill]" in str(exc.value)
    assert pa.role("qkvLinearNode") == "linear"


def test_a_node_that_exists_only_under_one_branch_resolves():
    lg = load_layer(layer_cpp(FIXTURES / "layers" / "branch_node_in_if"))
    conditional = [o for o in lg.ops() if lg.condition(o) and "[" not in o]
    assert conditional
    for op in conditional:
        assert lg.resolve(op) == op


def test_paths_between_gives_every_path_shortest_first(g):
    paths = g.paths_between("IN_HIDDENSTATES", "OUT_LAYEROUT")
    assert len(paths) >= 2
    assert [len(p) for p in paths] == sorted(len(p) for p in paths)
    assert g.path_between("IN_HIDDENSTATES", "OUT_LAYEROUT") == paths[0]
    assert g.paths_between("OUT_LAYEROUT", "IN_HIDDENSTATES") == []


def test_upstream_and_downstream_are_inverse(g):
    for op in g.ops():
        for d in g.downstream(op):
            assert op in g.upstream(d)


def test_params_of_a_shared_and_a_branch_param():
    pa = load_layer(PAGED)
    prefill = {p["field"]: p["value"] for p in pa.params("attentionNode[param.isPrefill]")}
    decode = {p["field"]: p["value"] for p in pa.params("attentionNode[!param.isPrefill]")}
    assert prefill != decode


@pytest.mark.parametrize("folder", LAYER_DIRS, ids=[d.name for d in LAYER_DIRS])
def test_reprs_are_one_short_line(folder):
    try:
        lg = load_layer(layer_cpp(folder))
    except LayerError:
        pytest.skip("not loadable")
    assert "\n" not in repr(lg) and len(repr(lg)) < 200
    for role, count in lg.summary()["ops_by_role"].items():  # every role, attention and MLP included
        assert f"{role} {count}" in repr(lg)
    try:
        r = transform_file(layer_cpp(folder), write=False)
    except LayerError:
        return
    assert "\n" not in repr(r) and len(repr(r)) < 200 and len(repr(r.after)) < 200


def test_public_api_is_listed():
    assert set(llm_transform.__all__) >= {"load_layer", "transform_file", "LayerError", "LayerGraph"}
    assert set(llm_transform.__all__) <= set(dir(llm_transform))


def test_queries_are_methods(g):
    assert callable(g.findings) and callable(g.errors) and callable(g.ops)
    assert g.findings() == []


def test_op_order_follows_node_changes_that_keep_the_count():
    """Removing an op and adding a tensor leaves the node count as it was; ops() must still change."""
    from llm_transform.graph.layer_graph import add_tensor

    lg = load_layer(layer_cpp(FIXTURES / "layers" / "beta_present"))
    g = lg.copy()
    before = g.ops()
    gone = before[1]
    g.graph.remove_node(gone)
    add_tensor(g.graph, "IN_EXTRA", "input", 99.0)
    assert g.graph.number_of_nodes() == lg.graph.number_of_nodes()
    assert g.ops() == [o for o in before if o != gone]
