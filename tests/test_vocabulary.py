"""The source floor's ATB words come from the catalogue's [source] table, through a loader the top package
registers: the readers follow the table, and a table that does not fit is an error naming the key."""

from __future__ import annotations

import dataclasses

import pytest

from llm_transform.graph.catalogue import catalogue_data
from llm_transform.graph.source_vocabulary import VocabularyError, source_vocabulary, vocabulary_from
from llm_transform.source import vocabulary as vocab


def test_the_top_package_registers_the_catalogue_as_the_loader() -> None:
    assert vocab.vocabulary() == source_vocabulary()
    assert vocab.vocabulary().tensor_lists == (catalogue_data()["source"]["in_tensors"],
                                               catalogue_data()["source"]["out_tensors"])


@pytest.mark.parametrize(("change", "message"), [
    ({"graph_nodez": "nodes"}, "unknown key 'graph_nodez'"),
    ({"graph_nodes": None}, "missing key 'graph_nodes'"),
    ({"op_members": "operation"}, "source.op_members: expected a list of words"),
    ({"node_type": ["atb::Node"]}, "source.node_type: expected a word"),
    ({"list_types": []}, "source.list_types: expected a list of words"),
])
def test_a_table_that_does_not_fit_names_the_key(change: dict, message: str) -> None:
    table = dict(catalogue_data()["source"])
    for key, value in change.items():
        if value is None:
            del table[key]
        else:
            table[key] = value
    with pytest.raises(VocabularyError, match=message):
        vocabulary_from(table)


def test_without_a_loader_the_reader_says_what_to_do() -> None:
    saved = vocab._loader
    try:
        vocab._loader = None
        vocab.vocabulary.cache_clear()
        with pytest.raises(RuntimeError, match="import the top package"):
            vocab.vocabulary()
    finally:
        vocab.set_loader(saved)


def test_every_key_of_the_table_is_a_field() -> None:
    assert set(catalogue_data()["source"]) == {f.name for f in dataclasses.fields(vocab.Vocabulary)}


ZETA_H = """#ifndef ZETA_LAYER_H
#define ZETA_LAYER_H
namespace zeta {
struct ZetaParam {
    float eps = 0;
};
zeta::Status ZetaLayer(const ZetaParam &param, zeta::Kernel **kernel);
}  // namespace zeta
#endif
"""

ZETA_CPP = """#include "zeta_layer.h"
namespace zeta {
enum ZetaTensorId : int { IN_X = 0, IN_W, OUT_Y, INTER_H };

zeta::Status ZetaLayer(const ZetaParam &param, zeta::Kernel **kernel)
{
    zeta::Plan plan;
    plan.steps.resize(2);
    size_t stepId = 0;
    zeta::Step &normStep = plan.steps.at(stepId++);
    zeta::Step &linStep = plan.steps.at(stepId++);
    NormParam normParam;
    CreateOp(normParam, &normStep.kernel);
    normStep.inputIds = {IN_X};
    normStep.outputIds = {INTER_H};
    std::vector<uint32_t> linIn = {INTER_H};
    linIn.push_back(IN_W);
    LinearParam linParam;
    CreateOp(linParam, &linStep.kernel);
    linStep.inputIds = GetIds(linIn);
    linStep.outputIds = {OUT_Y};
    plan.steps.resize(stepId);
    return CreateOp(plan, kernel);
}
}  // namespace zeta
"""


@pytest.fixture
def zeta_words():
    """The reader given another spelling of the same ideas (a node is a `zeta::Step` in `plan.steps`, its
    tensor lists `inputIds` / `outputIds`, its operation `kernel`)."""
    zeta = dataclasses.replace(source_vocabulary(), node_type="zeta::Step", graph_type="zeta::Plan",
                               operation_type="zeta::Kernel", graph_var="plan", graph_nodes="steps",
                               node_counter="stepId", op_members=("kernel",), in_tensors="inputIds",
                               out_tensors="outputIds", list_types=("zeta::List",))
    saved = vocab._loader
    vocab.set_loader(lambda: zeta)
    try:
        yield zeta
    finally:
        vocab.set_loader(saved)


def _zeta_pair(tmp_path):
    (tmp_path / "zeta_layer.h").write_text(ZETA_H)
    cpp = tmp_path / "zeta_layer.cpp"
    cpp.write_text(ZETA_CPP.replace("std::vector<uint32_t>", "zeta::List<uint32_t>"))
    return cpp


def test_the_readers_follow_the_vocabulary(tmp_path, zeta_words) -> None:
    from llm_transform.source.reader import read_pair

    layer = read_pair(_zeta_pair(tmp_path)).layer
    assert layer.graph_var == "plan"
    assert [n.var for n in layer.nodes] == ["normStep", "linStep"]
    assert [(c.node, c.param_arg) for c in layer.creates] == [("normStep", "normParam"), ("linStep", "linParam")]
    assert [(lst.node, lst.which, [e.text for e in lst.elems]) for lst in layer.lists] == [
        ("normStep", "in", ["IN_X"]), ("normStep", "out", ["INTER_H"]),
        ("linStep", "in", ["INTER_H", "IN_W"]), ("linStep", "out", ["OUT_Y"])]
    assert [s.what for s in layer.settings] == ["steps.resize", "steps.resize"]
    assert layer.resize_to_node_id


def test_the_catalogue_words_do_not_read_another_spelling(tmp_path) -> None:
    from llm_transform import LayerError
    from llm_transform.source.reader import read_pair

    with pytest.raises(LayerError, match="no layer-building function") as exc:
        read_pair(_zeta_pair(tmp_path))
    assert "atb::GraphParam" in str(exc.value) and "inTensorIds" in str(exc.value)
