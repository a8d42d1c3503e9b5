"""The source model gives the renderer every position it edits: a field assignment's value and first field,
a creation's param argument, an include's path, a brace initialiser's elements, a run-time id's name and
counter, a JSON read's key, field and type. The renderer never searches text for them."""

from __future__ import annotations

from pathlib import Path

from llm_transform.source.reader import read_pair

CPP = """#include "toy/layer/span_layer.h"
#include "atb_speed/log.h"

namespace toy {
static uint64_t ID = 0;

void from_json(const nlohmann::json &paramJson, SpanParam &param)
{
    paramJson.at("rmsNormEps").get_to(param.rmsNormEps);
    param.rank = paramJson["rank"].get<std::vector<int>>();
}

atb::Status SpanLayer(const SpanParam &param, atb::Operation **operation)
{
    atb::GraphParam opGraph;
    const uint64_t IN_HIDDEN = ID++;
    const uint64_t IN_WEIGHT = ID++;
    const uint64_t OUT = ID++;
    opGraph.inTensorNum = 2;
    opGraph.outTensorNum = 1;
    opGraph.nodes.resize(1);
    size_t nodeId = 0;
    atb::Node &linearNode = opGraph.nodes.at(nodeId++);
    atb::infer::LinearParam linearParam = {false, Pick(1, 2), true};
    linearParam.hasBias =  false ;
    CreateOperation( linearParam , &linearNode.operation);
    linearNode.inTensorIds = {IN_HIDDEN, IN_WEIGHT};
    linearNode.outTensorIds = {OUT};
    return atb::CreateOperation(opGraph, operation);
}
}  // namespace toy
"""


H = """#ifndef SPAN_LAYER_H
#define SPAN_LAYER_H
namespace toy {
struct SpanParam {
    float rmsNormEps = 0;
    std::vector<int> rank;
};
}
#endif
"""


def _model(tmp_path: Path):
    cpp = tmp_path / "span_layer.cpp"
    cpp.write_text(CPP, encoding="utf-8")
    (tmp_path / "span_layer.h").write_text(H, encoding="utf-8")
    return read_pair(cpp), CPP


def _at(text: str, span) -> str:
    return text[span[0]:span[1]]


def test_field_assignment_value_and_head(tmp_path):
    m, text = _model(tmp_path)
    a = next(a for a in m.layer.assigns if a.path == "hasBias")
    assert _at(text, a.value_span) == "  false "
    assert _at(text, a.head_span) == "hasBias"


def test_creation_param_argument(tmp_path):
    m, text = _model(tmp_path)
    c = next(c for c in m.layer.creates if c.node == "linearNode")
    assert _at(text, c.param_arg_span) == "linearParam"


def test_include_path(tmp_path):
    m, text = _model(tmp_path)
    assert [_at(text, i.target_span) for i in m.includes] == ["toy/layer/span_layer.h", "atb_speed/log.h"]


def test_brace_elements_keep_nested_commas(tmp_path):
    m, text = _model(tmp_path)
    p = next(p for p in m.layer.params if p.var == "linearParam")
    assert [_at(text, s) for s in p.init_elems] == ["false", "Pick(1, 2)", "true"]


def test_run_time_id_name_and_counter(tmp_path):
    m, text = _model(tmp_path)
    tv = next(t for t in m.layer.tensor_vars if t.name == "IN_WEIGHT")
    assert _at(text, tv.name_span) == "IN_WEIGHT" and tv.counter == "ID"


def test_json_read_key_field_and_type(tmp_path):
    m, text = _model(tmp_path)
    by_key = {r.key: r for r in m.json_reads}
    get_to, bracket = by_key["rmsNormEps"], by_key["rank"]
    assert (_at(text, get_to.key_span), _at(text, get_to.field_span), get_to.type_span) == (
        "rmsNormEps", "rmsNormEps", None)
    assert (_at(text, bracket.key_span), _at(text, bracket.field_span), _at(text, bracket.type_span)) == (
        "rank", "rank", "std::vector<int>")
