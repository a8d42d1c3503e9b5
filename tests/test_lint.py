"""lint: graph invariants, checked on the graph alone, after every pass on every fixture."""

from __future__ import annotations

import pytest

from llm_transform import load_layer
from llm_transform.graph.layer_graph import add_tensor
from llm_transform.graph.lint import lint
from llm_transform.graph.passes import Options, quantize
from tests.conftest import FIXTURES, LAYER_DIRS, NEW_IDIOM_DIRS, layer_cpp

ALL = [*LAYER_DIRS, *NEW_IDIOM_DIRS]
OPTION_SETS = {"default": Options(), "sparse": Options(sparse=True), "per-norm": Options(beta="per-norm"),
               "keep-packed": Options(unpack_mlp=False), "no-upgrade": Options(upgrade_v1=False),
               "linear-quant": Options(qkv_style="linear-quant"), "fallback": Options(float_fallback=("all",)),
               "sparse-fallback": Options(sparse=True, float_fallback=("all",))}


@pytest.mark.parametrize("folder", ALL, ids=[d.name for d in ALL])
def test_float_graphs_and_every_pass_output_lint_clean(folder):
    lg = load_layer(layer_cpp(folder))
    assert lint(lg) == []
    for name, opts in OPTION_SETS.items():
        after, _ = quantize(lg, opts)
        assert [f.message for f in lint(after)] == [], name


def test_the_shipped_example_lints_clean():
    lg = load_layer(FIXTURES.parent.parent / "examples" / "aster" / "flash_attention_layer.cpp")
    for opts in OPTION_SETS.values():
        assert lint(quantize(lg, opts)[0]) == []


def _rewritten():
    lg = load_layer(layer_cpp(FIXTURES / "layers" / "full_fused_qkv_rope"))
    return quantize(lg, Options())[0]


def test_an_added_tensor_nothing_reads():
    g = _rewritten()
    add_tensor(g.graph, "IN_STRAY_DEQSCALE", "weight", 3.5, added=True, quant_role="deqscale")
    assert [(f.code, f.subject) for f in lint(g)] == [("lint-unread", "IN_STRAY_DEQSCALE")]


def test_an_intermediate_nothing_reads():
    g = _rewritten()
    g.graph.remove_edge("INTERMIDATE_MIXEDQKV", "splitQkvNode")
    codes = {(f.code, f.subject) for f in lint(g)}
    assert ("lint-unread", "INTERMIDATE_MIXEDQKV") in codes


def test_a_slot_that_reads_the_wrong_tensor():
    g = _rewritten()
    op = "qkvLinearNode"
    ins = g.inputs_of(op)
    deq = next(u for u, _, d in g.graph.in_edges(op, data=True) if d["slot"] == 3)
    g.graph.remove_edge(deq, op)
    g.graph.add_edge(ins[1], op, slot=3, condition="")
    found = [(f.code, f.message) for f in lint(g)]
    assert ("lint-slot-role", "qkvLinearNode slot 3 (d_) reads IN_QKVMIXEDLINEARWEIGHT, a weight") in found


def test_a_cycle():
    g = _rewritten()
    g.graph.add_edge("INTERMIDATE_MLPOUT", "inputNormNode", slot=3, condition="")
    assert "lint-cycle" in {f.code for f in lint(g)}


def test_counts_against_the_tensor_groups():
    g = _rewritten()
    n_in = sum(1 for t in g.tensors() if g.tensor_kind(t) in ("input", "weight", "placeholder"))
    g.meta["declared_counts"] = {"input": n_in}
    assert lint(g) == []
    g.meta["declared_counts"] = {"input": n_in - 1}
    assert [f.code for f in lint(g)] == ["lint-count"]
