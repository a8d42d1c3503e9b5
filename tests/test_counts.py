"""Count idioms beyond namespace-level constants: literal graph counts and constants local to the layer
function are validated and kept in step by the rewrite."""

from __future__ import annotations

import shutil

import pytest

from llm_transform import load_layer, transform_file
from tests.conftest import FIXTURES, layer_cpp


def _variant(tmp_path, *replacements):
    shutil.copytree(FIXTURES / "layers" / "enum_in_cpp", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    cpp.write_text(text, encoding="utf-8")
    return cpp


LITERAL = ("opGraph.inTensorNum = IN_TENSOR_COUNT;", "opGraph.inTensorNum = 17;")
GRAPH = "    atb::GraphParam opGraph;\n"
LOCAL_NODE_COUNT = [("static const uint64_t NODE_COUNT = 10;\n", ""),
                    (GRAPH, "    const uint64_t NODE_COUNT = 10;\n" + GRAPH)]


def test_literal_graph_count_is_rewritten(tmp_path):
    cpp = _variant(tmp_path, LITERAL)
    assert load_layer(cpp).errors() == []
    r = transform_file(cpp, write=False)
    assert "opGraph.inTensorNum = 28;" in r.cpp_text.decode()


def test_wrong_literal_graph_count_is_an_error(tmp_path):
    cpp = _variant(tmp_path, ("opGraph.inTensorNum = IN_TENSOR_COUNT;", "opGraph.inTensorNum = 16;"))
    assert any("inTensorNum is 16 but the enum has 17" in f.message for f in load_layer(cpp).errors())


def test_count_constant_local_to_the_layer_function(tmp_path):
    cpp = _variant(tmp_path, *LOCAL_NODE_COUNT)
    assert load_layer(cpp).errors() == []
    bad = _variant(tmp_path / "b", LOCAL_NODE_COUNT[0],
                   (GRAPH, "    const uint64_t NODE_COUNT = 9;\n" + GRAPH))
    assert any("NODE_COUNT is 9" in f.message for f in load_layer(bad).errors())


def test_an_input_entry_after_the_outputs_is_an_error(tmp_path):
    """The graph numbers inputs, then outputs, then intermediates: an input placed after the output is
    read as another tensor (the old tool inserted new inputs there)."""
    holder = "    IN_HOLDER,                      // fills unused slots of composite ops\n"
    out = "    OUT_TOYLAYEROUT,                // [batch, seqLen, hiddenSize]\n"
    cpp = _variant(tmp_path, (holder, ""), (out, out + holder))
    found = {f.subject: f.message for f in load_layer(cpp).errors() if f.code == "id-range"}
    assert found == {
        "OUT_TOYLAYEROUT": "enum entry OUT_TOYLAYEROUT is 16, but the graph numbers its outputs 17; entries go "
                           "inputs first, then outputs, then intermediates",
        "IN_HOLDER": "enum entry IN_HOLDER is 17, but the graph numbers its inputs 0..16; entries go inputs "
                     "first, then outputs, then intermediates",
    }


def test_nodes_resized_to_an_expression_of_the_count(tmp_path):
    """`opGraph.nodes.resize(NODE_COUNT + 4)` makes room for NODE_COUNT + 4 nodes: that is what must match."""
    cpp = _variant(tmp_path, ("NODE_COUNT = 10;", "NODE_COUNT = 6;"),
                   ("nodes.resize(NODE_COUNT);", "nodes.resize(NODE_COUNT + 4);"))
    assert load_layer(cpp).errors() == []
    assert "static const uint64_t NODE_COUNT = 6;" in transform_file(cpp, write=False).cpp_text.decode()
    wrong = _variant(tmp_path / "w", ("nodes.resize(NODE_COUNT);", "nodes.resize(NODE_COUNT + 4);"))
    assert [f.message for f in load_layer(wrong).errors()] == ["NODE_COUNT + 4 is 14 but the layer declares 10 nodes"]


def test_folded_nodes_leave_the_expression_of_the_count_right(tmp_path):
    """An anti-outlier fold removes two nodes: the constant drops by two, the `+ 4` stays."""
    shutil.copytree(FIXTURES / "layers" / "beta_present", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8")
    cpp.write_text(text.replace("NODE_COUNT = 13;", "NODE_COUNT = 9;").replace(
        "nodes.resize(NODE_COUNT);", "nodes.resize(NODE_COUNT + 4);"), encoding="utf-8")
    r = transform_file(cpp, write=False)  # the verifier validates the output's count too
    assert r.after.meta["plan"].removed_ops and "static const uint64_t NODE_COUNT = 7;" in r.cpp_text.decode()


@pytest.mark.parametrize(("count", "resize", "after"), [
    ("NODE_COUNT_MAX = 13;", "nodes.resize(NODE_COUNT_MAX);", "static const uint64_t NODE_COUNT_MAX = 11;"),
    ("NODE_COUNT = 11 + 2;", "nodes.resize(NODE_COUNT);", "static const uint64_t NODE_COUNT = 11;"),
    ("NODE_COUNT = 13;", "nodes.resize(13);", "opGraph.nodes.resize(11);"),
])
def test_folded_nodes_shrink_whatever_sizes_the_node_list(tmp_path, count, resize, after):
    """The constant the resize names, whatever its name, or the resize's own literal."""
    shutil.copytree(FIXTURES / "layers" / "beta_present", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8").replace("NODE_COUNT = 13;", count)
    cpp.write_text(text.replace("nodes.resize(NODE_COUNT);", resize), encoding="utf-8")
    assert load_layer(cpp).errors() == []
    assert after in transform_file(cpp, write=False).cpp_text.decode()


def test_a_count_constant_of_another_name_is_checked(tmp_path):
    cpp = _variant(tmp_path, ("NODE_COUNT = 10;", "NODE_COUNT_MAX = 9;"),
                   ("nodes.resize(NODE_COUNT);", "nodes.resize(NODE_COUNT_MAX);"))
    assert [f.message for f in load_layer(cpp).errors()] == ["NODE_COUNT_MAX is 9 but the layer declares 10 nodes"]


def test_a_graph_count_set_from_another_groups_constant_is_a_warning(tmp_path):
    """`internalTensorNum = IN_TENSOR_COUNT` (seen in real layers): said, not refused; the rewrite keeps it."""
    cpp = _variant(tmp_path, ("opGraph.internalTensorNum = INTERMEDIATE_TENSOR_COUNT;",
                              "opGraph.internalTensorNum = IN_TENSOR_COUNT;"))
    lg = load_layer(cpp)
    assert lg.errors() == []
    assert [f.message for f in lg.findings()] == [
        "opGraph.internalTensorNum = IN_TENSOR_COUNT is 17 but the enum has 12; it follows that expression "
        "through the rewrite"]
    r = transform_file(cpp, write=False)
    assert "opGraph.internalTensorNum = IN_TENSOR_COUNT;" in r.cpp_text.decode()
    assert [n.detail for n in r.notes if "follows it through the rewrite" in n.kind] == [
        "opGraph.internalTensorNum = IN_TENSOR_COUNT becomes 28 (was 17); the layer has 12"]


def test_an_entry_added_before_the_placeholder_goes_above_its_comment(tmp_path):
    """A comment on its own line above IN_HOLDER labels IN_HOLDER: the shared beta goes above the comment."""
    holder = "    IN_HOLDER,                      // fills unused slots of composite ops\n"
    cpp = _variant(tmp_path, (holder, "    // fills unused slots of composite ops\n    IN_HOLDER,\n"))
    text = transform_file(cpp, write=False).cpp_text.decode()
    assert "    IN_BETA,\n    // fills unused slots of composite ops\n    IN_HOLDER,\n" in text
