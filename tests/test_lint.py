"""lint: graph invariants, checked on the graph alone, after every pass on every fixture."""

from __future__ import annotations

import pytest

from llm_transform import load_layer
from llm_transform.graph.layer_graph import add_tensor
from llm_transform.graph.lint import lint
from llm_transform.graph.passes import Options, quantize
from llm_transform.graph.rewrite import rewrite
from llm_transform.source.errors import LayerError
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
        found = []
        try:
            rewrite(lg, opts, lambda step, g: found.extend(f"{step}: {f.message}" for f in lint(g)))  # noqa: B023
        except LayerError:
            continue  # a layer this option set refuses: nothing to lint
        assert found == [], name


def test_the_shipped_example_lints_clean():
    lg = load_layer(FIXTURES.parent.parent / "examples" / "aster" / "flash_attention_layer.cpp")
    for name, opts in OPTION_SETS.items():
        found = []
        rewrite(lg, opts, lambda step, g: found.extend(f"{step}: {f.message}" for f in lint(g)))  # noqa: B023
        assert found == [], name


def _rewritten():
    lg = load_layer(layer_cpp(FIXTURES / "layers" / "full_fused_qkv_rope"))
    return quantize(lg, Options())[0]


def test_an_added_tensor_nothing_reads():
    g = _rewritten()
    add_tensor(g.graph, "IN_STRAY_DEQSCALE", "weight", 3.5, added=True, quant_role="deqscale")
    # nothing reads it, and the input count the layer declares no longer covers it
    assert sorted((f.code, f.subject) for f in lint(g)) == [("lint-count", "IN_TENSOR_COUNT"),
                                                            ("lint-unread", "IN_STRAY_DEQSCALE")]


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
    assert g.meta["declared_counts"]["IN_TENSOR_COUNT"][0] == "input"
    assert lint(g) == []
    # the float layer's counts, as if the counts pass had left the constants alone
    g.meta["declared_counts"] = load_layer(layer_cpp(FIXTURES / "layers" / "full_fused_qkv_rope")).meta[
        "declared_counts"]
    assert ("lint-count", "IN_TENSOR_COUNT") in [(f.code, f.subject) for f in lint(g)]


def test_a_count_constant_named_only_in_comments_and_strings_is_not_declared(tmp_path):
    import shutil

    from llm_transform.graph.build import read_elsewhere
    from llm_transform.source.reader import read_pair

    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8")
    text = text.replace("opGraph.internalTensorNum = INTERMEDIATE_TENSOR_COUNT;",
                        'opGraph.internalTensorNum = 12;  // was INTERMEDIATE_TENSOR_COUNT\n'
                        '    ATB_LOG(INFO) << "INTERMEDIATE_TENSOR_COUNT";')
    cpp.write_text(text, encoding="utf-8")
    model = read_pair(cpp)
    assert read_elsewhere(model, {"INTERMEDIATE_TENSOR_COUNT", "IN_TENSOR_COUNT"}) == {"IN_TENSOR_COUNT"}
    assert "INTERMEDIATE_TENSOR_COUNT" not in load_layer(cpp).meta["declared_counts"]
