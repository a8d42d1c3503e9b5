"""Today's ATB layers (issue 20): idioms of MindIE-style and PaddleCustomDevice-style layers read into the same
graph, and every file answered precisely. The fixtures are in tests/fixtures/layers_new (exact graphs in
test_graph_fixtures, rewrites in test_new_idioms and the goldens)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from llm_transform import LayerError, load_layer, transform_file
from llm_transform.source.clang_check import syntax_check
from tests.conftest import FIXTURES, layer_cpp

CANDIDATES_AT_FILE_SCOPE = """\
namespace atb_speed {
namespace toy {
std::map<std::string, std::vector<std::string>> GetToyLayerInTensorCandidates()
{
    std::map<std::string, std::vector<std::string>> candidates = {
        {"default", {"in_hidden_states", "in_norm_weight"}},
    };
    return candidates;
}
}  // namespace toy
}  // namespace atb_speed
"""


def test_nested_template_arguments_of_unknown_types_are_no_syntax_error(tmp_path: Path):
    """Without the standard headers `std::map<..., std::vector<std::string>>` is an expression to libclang, whose
    `>>` then reads as a shift: the missing headers explain the parse issue, the file compiles."""
    cpp = tmp_path / "toy_layer.cpp"
    cpp.write_text(CANDIDATES_AT_FILE_SCOPE)
    syntax_check(cpp, [])


def test_a_real_syntax_error_beside_them_is_still_one(tmp_path: Path):
    cpp = tmp_path / "toy_layer.cpp"
    cpp.write_text(CANDIDATES_AT_FILE_SCOPE + "int Twice(int x)\n{\n    int y = x * 2\n    return y;\n}\n")
    with pytest.raises(LayerError) as exc:
        syntax_check(cpp, [])
    assert exc.value.line == 14 and "syntax error: expected ';'" in exc.value.reason


# -- tensor-name lists built in steps (fixture list_steps) ------------------------------------------------------

HERON = FIXTURES / "layers_new" / "list_steps"


def _heron(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    shutil.copytree(HERON, tmp_path / "heron")
    cpp = layer_cpp(tmp_path / "heron")
    text = cpp.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    cpp.write_text(text, encoding="utf-8")
    return cpp


QKV_LIST = 'std::vector<std::string> qkvInTensorNames = {"intermediate_input_norm_out", "in_qkv_weight"};'


def test_a_list_variable_grows_where_it_is_written():
    text = transform_file(layer_cpp(HERON), write=False).cpp_text.decode()
    assert ('std::vector<std::string> qkvInTensorNames = {"intermediate_input_norm_out", "in_qkv_weight", '
            '"in_qkv_bias",\n                                                 "in_qkv_deqscale"};') in text
    # the dense list's placeholders come from another list only it reads: the slots change there
    assert '"in_attention_out_bias", "in_attention_out_deqscale", "in_placeholder", "in_placeholder"' in text


def test_new_tensors_after_a_pushed_one_are_pushed_like_it(tmp_path):
    cpp = _heron(tmp_path, (QKV_LIST, 'std::vector<std::string> qkvInTensorNames = {"intermediate_input_norm_out"};\n'
                                      '    qkvInTensorNames.push_back("in_qkv_weight");'))
    r = transform_file(cpp, write=False)
    assert ('    qkvInTensorNames.push_back("in_qkv_weight");\n    qkvInTensorNames.push_back("in_qkv_bias");\n'
            '    qkvInTensorNames.push_back("in_qkv_deqscale");\n') in r.cpp_text.decode()
    assert r.after.inputs_of("qkvLinearNode")[2:] == ["in_qkv_bias", "in_qkv_deqscale"]


def test_a_slot_from_a_list_other_lists_read_too_is_refused(tmp_path):
    cpp = _heron(tmp_path, ("    attentionOutLinearNode.inTensorIds =",
                            "    std::vector<std::string> spareTensorNames = {};\n"
                            "    for (auto tensor : denseHolderNames) {\n"
                            "        spareTensorNames.push_back(tensor);\n"
                            "    }\n"
                            "    attentionOutLinearNode.inTensorIds ="))
    with pytest.raises(LayerError) as exc:
        transform_file(cpp, write=False)
    assert "slot 2 comes from denseHolderNames, which other lists read too" in exc.value.reason
    assert exc.value.line == 134  # the placeholder in denseHolderNames


def test_a_linear_that_reads_an_input_only_under_a_branch_stays_float(tmp_path):
    cpp = _heron(tmp_path, (QKV_LIST, QKV_LIST + '\n    if (param.useAlibi) {\n'
                                      '        qkvInTensorNames.push_back("in_alibi_slopes");\n    }'))
    lg = load_layer(cpp)
    assert lg.optional_inputs("qkvLinearNode") == {"in_alibi_slopes": "param.useAlibi"}
    r = transform_file(cpp, write=False)
    skipped = {s["node"]: s["reason"] for s in r.changes.skipped}
    assert skipped["qkvLinearNode"].startswith("it reads in_alibi_slopes only when param.useAlibi")


def test_a_list_changed_in_a_loop_the_tool_does_not_follow_is_named(tmp_path):
    cpp = _heron(tmp_path, ("    attentionNode.inTensorIds =",
                            "    for (size_t i = 0; i < 2; ++i) {\n"
                            "        attnInTensorNames.push_back(\"in_q_len\");\n"
                            "    }\n"
                            "    attentionNode.inTensorIds ="))
    with pytest.raises(LayerError) as exc:
        load_layer(cpp)
    assert exc.value.line == 121
    assert "reads attnInTensorNames, which is changed inside a 'for' statement at line 121" in exc.value.reason


def test_a_loop_that_wires_nodes_is_refused_naming_its_line(tmp_path):
    cpp = _heron(tmp_path, ("    attentionNode.inTensorIds =",
                            "    for (size_t i = 0; i < 2; ++i) {\n"
                            "        attentionNode.inTensorIds.push_back(1);\n"
                            "    }\n"
                            "    attentionNode.inTensorIds ="))
    with pytest.raises(LayerError) as exc:
        load_layer(cpp)
    assert exc.value.line == 121 and "created or wired inside a 'for' statement" in exc.value.reason


def test_a_name_variable_set_again_is_named(tmp_path):
    cpp = _heron(tmp_path, ("    CREATE_OPERATION(addParam, &mlpResidualAddNode.operation);",
                            "    if (param.headNum > 8) {\n"
                            "        mlpResidualInput = \"intermediate_mlp_out\";\n    }\n"
                            "    CREATE_OPERATION(addParam, &mlpResidualAddNode.operation);"))
    with pytest.raises(LayerError) as exc:
        load_layer(cpp)
    assert exc.value.line == 182 and "mlpResidualInput is set again at line 182" in exc.value.reason


# -- several graph-building functions, explicit enum values (fixture subgraph_steps) -----------------------------

IBIS = FIXTURES / "layers_new" / "subgraph_steps"


def _ibis(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    shutil.copytree(IBIS, tmp_path / "ibis")
    cpp = layer_cpp(tmp_path / "ibis")
    text = cpp.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    cpp.write_text(text, encoding="utf-8")
    return cpp


def test_the_layer_is_the_graph_function_no_other_one_uses():
    lg = load_layer(layer_cpp(IBIS))
    assert lg.name.endswith("IbisDecoderLayer")
    assert [f.short_name for f in lg.source.subgraphs] == ["IbisRopeOperation"]
    # the sub-graph's enum and counts are its own: INTERNAL_TENSOR_COUNT = 2 is not the layer's 10 intermediates
    assert lg.errors() == [] and lg.source.constant("INTERNAL_TENSOR_COUNT") is None
    assert "IN_ROPE_QKV" not in lg.tensors()


ROPE_FROM_ELSEWHERE = ("IbisRopeOperation(ropeParam, &ropeNode.operation)", "Rope(ropeParam, &ropeNode.operation)")
CREATOR = ("static atb::Status AddRope(", "atb::Operation *CreateIbisDecoderLayer(const IbisLayerParam &p)\n{\n"
           "    atb::Operation *op = nullptr;\n    IbisDecoderLayer(p, &op);\n    return op;\n}\n\n"
           "static atb::Status AddRope(")


def test_independent_graph_functions_are_told_apart_by_the_creator(tmp_path):
    cpp = _ibis(tmp_path, ROPE_FROM_ELSEWHERE, CREATOR)  # the layer no longer uses the rope operation
    lg = load_layer(cpp)
    assert lg.name.endswith("IbisDecoderLayer") and lg.source.subgraphs[0].short_name == "IbisRopeOperation"


def test_independent_graph_functions_without_a_creator_are_named(tmp_path):
    cpp = _ibis(tmp_path, ROPE_FROM_ELSEWHERE)
    with pytest.raises(LayerError) as exc:
        load_layer(cpp)
    assert "(IbisRopeOperation, IbisDecoderLayer), none of which uses the others" in exc.value.reason


def test_an_explicit_output_value_moves_with_the_inputs():
    text = transform_file(layer_cpp(IBIS), write=False).cpp_text.decode()
    assert "    IN_BETA,\n    IN_HOLDER,\n    OUT_LAYEROUT = 31, // the outputs follow the inputs\n" in text


def test_an_explicit_value_that_cannot_move_is_named_with_the_input_before_it(tmp_path):
    cpp = _ibis(tmp_path, ("enum IbisLayerTensorId : int {", "static const int IBIS_OUT_BASE = 20;\n"
                                                             "enum IbisLayerTensorId : int {"),
                ("    OUT_LAYEROUT = 20,", "    OUT_LAYEROUT = IBIS_OUT_BASE,"))
    assert load_layer(cpp).errors() == []
    with pytest.raises(LayerError) as exc:
        transform_file(cpp, write=False)
    assert exc.value.line == 48
    assert ("enum entry OUT_LAYEROUT = IBIS_OUT_BASE is placed explicitly, after where the new input "
            "IN_QKVMIXEDLINEAR_DEQSCALE goes") in exc.value.reason


# -- tensor kinds and run-time ids --------------------------------------------------------------------------------

TARSIER = FIXTURES / "layers_new" / "runtime_ids"


def _tarsier(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    shutil.copytree(TARSIER, tmp_path / "tarsier")
    cpp = layer_cpp(tmp_path / "tarsier")
    text = cpp.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    cpp.write_text(text, encoding="utf-8")
    return cpp


def test_a_run_time_id_counted_on_the_else_side(tmp_path):
    """`c ? 0 : ID++` counts the id where c does not hold (`c ? ID++ : 0` where it does)."""
    cpp = _tarsier(tmp_path, ("IN_QKV_BIAS = param.hasQkvBias ? TENSOR_ID++ : 0;",
                              "IN_QKV_BIAS = !param.hasQkvBias ? 0 : TENSOR_ID++;"),
                   ("INTERMEDIATE_QKV_NO_BIAS = param.hasQkvBias ? TENSOR_ID++ : 0;",
                    "INTERMEDIATE_QKV_NO_BIAS = param.hasQkvBias ? INTERMEDIATE_K : TENSOR_ID++;"))
    lg = load_layer(cpp)
    conds = {tv.name: tv.cond for tv in lg.source.layer.tensor_vars}
    assert conds["IN_QKV_BIAS"] == (("!param.hasQkvBias", False),)
    assert conds["INTERMEDIATE_QKV_NO_BIAS"] == (("param.hasQkvBias", False),)


def test_a_lone_output_name_is_an_output(tmp_path):
    cpp = _tarsier(tmp_path, ("OUT_LAYER_OUT", "OUTPUT"))
    lg = load_layer(cpp)
    assert lg.tensor_kind("OUTPUT") == "output" and lg.errors() == []


def test_a_count_constant_nothing_reads_is_not_compared(tmp_path):
    """A layer whose counts follow its name lists may keep an old IN_TENSOR_COUNT that nothing reads."""
    shutil.copytree(FIXTURES / "layers_new" / "string_tensors", tmp_path / "w")
    cpp = layer_cpp(tmp_path / "w")
    text = cpp.read_text(encoding="utf-8")
    cpp.write_text(text.replace("static const uint64_t NODE_COUNT = 9;",
                                "static const uint64_t NODE_COUNT = 9;\nstatic const uint64_t IN_TENSOR_COUNT = 69;"),
                   encoding="utf-8")
    assert load_layer(cpp).errors() == []
    cpp.write_text(cpp.read_text(encoding="utf-8").replace("opGraph.inTensorNum = inTensorList.size();",
                                                           "opGraph.inTensorNum = IN_TENSOR_COUNT;"), encoding="utf-8")
    assert [f.subject for f in load_layer(cpp).errors()] == ["IN_TENSOR_COUNT"]


def test_a_tensor_rewritten_under_a_branch_by_another_node_is_a_new_version(tmp_path):
    """`if (c) { fix: reads the residual sum, writes the linear's output again }`: the later readers read the new
    version; the graph stays acyclic (it had a cycle through the residual add)."""
    cpp = _ibis(tmp_path, ("static const uint64_t NODE_COUNT = 9;", "static const uint64_t NODE_COUNT = 10;"),
                ("    CREATE_OPERATION(rmsNormParam, &selfNormNode.operation);",
                 "    if (param.useAlibi) {\n"
                 "        atb::Node &fixNode = opGraph.nodes.at(nodeId++);\n"
                 "        CREATE_OPERATION(addParam, &fixNode.operation);\n"
                 "        fixNode.inTensorIds = {INTERMIDATE_SELFRESIDUALADDOUT, IN_HIDDENSTATES};\n"
                 "        fixNode.outTensorIds = {INTERMIDATE_SELFLINEAROUT};\n"
                 "    }\n"
                 "    CREATE_OPERATION(rmsNormParam, &selfNormNode.operation);"))
    lg = load_layer(cpp)
    assert lg.is_dag() and [f.code for f in lg.errors()] == []
    assert lg.producers("INTERMIDATE_SELFLINEAROUT") == ["selfOutLinearNode", "fixNode"]


def test_updates_in_place_are_not_two_writes(tmp_path):
    cpp = _ibis(tmp_path, ("static const uint64_t NODE_COUNT = 9;", "static const uint64_t NODE_COUNT = 10;"),
                ("    atb::Node &mlpResidualAddNode = opGraph.nodes.at(nodeId++);",
                 "    atb::Node &mlpResidualAddNode = opGraph.nodes.at(nodeId++);\n"
                 "    atb::Node &selfOutScaleNode = opGraph.nodes.at(nodeId++);"),
                ("    atb::infer::ElewiseParam addParam;",
                 "    atb::infer::ElewiseParam scaleParam;\n"
                 "    scaleParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_MULS;\n"
                 "    CREATE_OPERATION(scaleParam, &selfOutScaleNode.operation);\n"
                 "    selfOutScaleNode.inTensorIds = {INTERMIDATE_SELFLINEAROUT};\n"
                 "    selfOutScaleNode.outTensorIds = {INTERMIDATE_SELFLINEAROUT};\n"
                 "    atb::infer::ElewiseParam addParam;"))
    lg = load_layer(cpp)
    assert lg.errors() == [] and lg.producers("INTERMIDATE_SELFLINEAROUT") == ["selfOutLinearNode",
                                                                                 "selfOutScaleNode"]


def test_a_message_naming_the_renamed_function_text_is_the_float_ones(tmp_path):
    """Without the ATB headers `LOG(__func__ << " called")` is an error about `const char[N]` whose N is the
    function name's length: the renamed layer has another N, and still no new error."""
    cpp = _heron(tmp_path, ("    std::vector<std::string> inTensorList = {",
                            "    ATB_SPEED_LOG_DEBUG(__func__ << \" called, headNum: \" << param.headNum);\n"
                            "    std::vector<std::string> inTensorList = {"))
    assert transform_file(cpp, write=False).after.changed_ops()


# -- answers: quant branches name their flag, quantized layers are quant-aware -------------------------------------

REFUSE = FIXTURES / "refuse"


def _refusal(tmp_path: Path, case: str, *edits: tuple[str, str]) -> LayerError:
    shutil.copytree(REFUSE / case, tmp_path / case)
    cpp = layer_cpp(tmp_path / case)
    text = cpp.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    cpp.write_text(text, encoding="utf-8")
    with pytest.raises(LayerError) as exc:
        transform_file(cpp, write=False)
    return exc.value


def test_a_quant_branch_names_the_flag_that_enables_it_not_a_scale(tmp_path):
    err = _refusal(tmp_path, "quant_branch_layer", ("param.quantModel", "param.enableInt8"))
    assert err.kind == "quant_branches" and err.line == 99  # the first QUANT_INT8, inside if (param.enableInt8)
    assert "enable it with param.enableInt8" in err.reason and "InputScale" not in err.reason


def test_a_choice_of_quant_type_names_its_condition(tmp_path):
    err = _refusal(tmp_path, "always_quantized_layer",
                   ("inputNormParam.normParam.quantType = atb::infer::QUANT_INT8;",
                    "inputNormParam.normParam.quantType = param.int8Norm ? atb::infer::QUANT_INT8 : "
                    "atb::infer::QUANT_UNDEFINED;"))
    assert err.kind == "quant_branches" and "enable it with param.int8Norm" in err.reason


def test_an_always_quantized_layer_is_quant_aware_naming_the_statement(tmp_path):
    err = _refusal(tmp_path, "always_quantized_layer")
    assert err.kind == "quant_aware" and err.line == 88
    assert "`inputNormParam.normParam.quantType = atb::infer::QUANT_INT8` is set whatever the layer param" in err.reason


def test_nodes_of_the_older_api_create_their_op_member(tmp_path):
    """Older ATB nodes hold their operation in `op`: `CreateOp(p, &node.op)` creates it as `&node.operation`."""
    shutil.copytree(FIXTURES / "layers" / "enum_in_cpp", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8")
    cpp.write_text(text.replace(".operation)", ".op)"), encoding="utf-8")
    lg = load_layer(cpp)
    assert "unknown" not in {lg.role(o) for o in lg.ops()}
    assert [lg.role(o) for o in lg.ops()] == [load_layer(layer_cpp(FIXTURES / "layers" / "enum_in_cpp")).role(o)
                                              for o in lg.ops()]


def test_a_layer_built_from_quantized_model_local_ops_is_quant_aware(tmp_path):
    """A fused layer whose linears are model-local quant ops (`MultiLayerLinearQuantParam`, created by a
    function of the model) is already quantized, though no quant marker of a library type appears."""
    shutil.copytree(FIXTURES / "layers" / "enum_in_cpp", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8")
    old = "    atb::infer::LinearParam qkvLinearParam"
    assert old in text
    text = text.replace(old, "    MultiLayerLinearQuantParam qkvMixParam;\n"
                             "    CreateMultiLayerLinearQuantOperation(qkvMixParam, &qkvLinearNode.operation);\n"
                             "    atb::infer::LinearParam qkvLinearParam", 1)
    text = text.replace("CREATE_OPERATION(qkvLinearParam, &qkvLinearNode.operation);", "", 1)
    cpp.write_text(text, encoding="utf-8")
    with pytest.raises(LayerError) as exc:
        transform_file(cpp, write=False)
    assert exc.value.kind == "quant_aware"
    assert "qkvLinearNode is created from MultiLayerLinearQuantParam, a quantized type" in exc.value.reason


# -- operations judged by what they build ----------------------------------------------------------------------------


def test_a_whole_layer_named_as_an_operation_is_rewritten():
    r = transform_file(layer_cpp(FIXTURES / "layers" / "fused_operation"), write=False)
    assert r.target_cpp.name == "quant_jay_fused_operation.cpp" and len(r.after.changed_ops()) == 5


def test_a_sub_graph_named_as_an_operation_says_what_it_lacks(tmp_path):
    err = _refusal(tmp_path, "toy_dense_operation")
    assert err.kind == "operation" and "it builds no norm and no attention" in err.reason


def test_an_operation_that_reads_into_no_graph_is_refused_by_its_name(tmp_path):
    """libclang finds a syntax error: what the file builds is unknown, its name decides (as before)."""
    err = _refusal(tmp_path, "toy_dense_operation", ("CREATE_OPERATION(splitParam, &splitNode.operation);",
                                                     "CREATE_OPERATION(splitParam, &splitNode.operation)"))
    assert err.kind == "operation" and "builds no" not in err.reason


# -- names declared in maps of candidate lists (fixture candidate_maps) ---------------------------------------------

KITE = FIXTURES / "layers_new" / "candidate_maps"


def test_a_name_that_does_not_tell_its_kind_takes_the_kind_of_what_declares_it():
    lg = load_layer(layer_cpp(KITE))
    assert lg.tensor_kind("position_ids") == "input" and lg.tensor_kind("place_holder") == "placeholder"
    assert lg.errors() == []


def test_new_names_are_declared_in_the_candidate_map_beside_their_weight():
    text = transform_file(layer_cpp(KITE), write=False).cpp_text.decode()
    new = '"in_qkv_weight",\n            "in_qkv_deqscale",\n            "in_qkv_bias", "in_attention_out_weight",'
    assert new in text
    assert '"in_layer_id", "in_beta", "place_holder"}},' in text  # the shared beta before the placeholder


def test_tensor_names_handed_to_a_helper_are_read_where_it_uses_them():
    lg = load_layer(layer_cpp(KITE))
    assert lg.inputs_of("residualAddNode@2") == ["intermediate_attention_residual_out", "intermediate_mlp_out"]
    assert lg.outputs_of("residualAddNode@2") == ["out_decoder_layer"]


def test_another_list_inserted_into_a_nodes_list_is_appended(tmp_path):
    cpp = _ibis(tmp_path, ("        for (auto tensorId : loraInTensorIds) {\n"
                           "            selfAttentionNode.inTensorIds.push_back(tensorId);\n        }",
                           "        selfAttentionNode.inTensorIds.insert(selfAttentionNode.inTensorIds.end(), "
                           "loraInTensorIds.begin(),\n            loraInTensorIds.end());"))
    lg = load_layer(cpp)
    assert lg.optional_inputs("selfAttentionNode") == {"IN_ALIBI_SLOPES": "param.useAlibi",
                                                        "IN_QKV_LORA_A": "param.supportLora",
                                                        "IN_QKV_LORA_B": "param.supportLora"}


LORA_LOOP = ("        for (auto tensorId : loraInTensorIds) {\n"
             "            selfAttentionNode.inTensorIds.push_back(tensorId);\n        }")


@pytest.mark.parametrize("append", [LORA_LOOP, "        selfAttentionNode.inTensorIds.insert("
                                    "selfAttentionNode.inTensorIds.end(), loraInTensorIds.begin(),\n"
                                    "            loraInTensorIds.end());"], ids=["loop", "insert"])
def test_a_list_the_reader_cannot_follow_is_refused_when_appended_to_a_nodes_list(tmp_path, append):
    """Appended in a loop or with insert, a list changed in a way the reader does not follow (here resized)
    must not be read as if it held all its elements."""
    cpp = _ibis(tmp_path, (LORA_LOOP, "        loraInTensorIds.resize(1);\n" + append))
    with pytest.raises(LayerError) as exc:
        load_layer(cpp)
    assert "loraInTensorIds" in exc.value.reason and "resize()" in exc.value.reason


def test_a_nodes_list_changed_otherwise_is_named_not_ignored(tmp_path):
    cpp = _ibis(tmp_path, ("        selfAttentionNode.inTensorIds.push_back(IN_ALIBI_SLOPES);",
                           "        selfAttentionNode.inTensorIds.resize(10);"))
    with pytest.raises(LayerError) as exc:
        load_layer(cpp)
    assert exc.value.line == 159 and "selfAttentionNode.inTensorIds.resize(...)" in exc.value.reason


def test_a_list_a_function_of_the_pair_returns_is_read_from_it(tmp_path):
    cpp = _heron(tmp_path, ("atb::Status HeronDecoderLayer(",
                            "static std::vector<std::string> QkvInTensorNames(const HeronLayerParam &param)\n{\n"
                            "    std::vector<std::string> names = {\"intermediate_input_norm_out\",\n"
                            "        \"in_qkv_weight\"};\n"
                            "    if (param.useAlibi) {\n        names.push_back(\"in_alibi_slopes\");\n    }\n"
                            "    return names;\n}\n\natb::Status HeronDecoderLayer("),
                 (QKV_LIST, "std::vector<std::string> qkvInTensorNames = QkvInTensorNames(param);"))
    lg = load_layer(cpp)
    assert lg.inputs_of("qkvLinearNode") == ["intermediate_input_norm_out", "in_qkv_weight", "in_alibi_slopes"]
    assert lg.optional_inputs("qkvLinearNode") == {"in_alibi_slopes": "param.useAlibi"}


def test_a_quant_aware_file_the_reader_cannot_read_is_still_refused_with_its_class(tmp_path):
    """A class-based template layer (its graph built in methods) does not read into a graph; its templates still
    tell what it is."""
    cpp = tmp_path / "toy_class_layer.cpp"
    cpp.write_text("namespace atb_speed {\nnamespace toy {\n"
                   "template <typename NormType>\natb::Status ToyLayer<NormType>::BuildGraph(atb::Operation **op)\n{\n"
                   "    this->fusionAttentionParam.packQuantType = this->param.packQuantType.at(0);\n"
                   "    return atb::NO_ERROR;\n}\n}\n}\n")
    with pytest.raises(LayerError) as exc:
        transform_file(cpp, write=False)
    assert exc.value.kind == "template" and exc.value.line == 6


def test_a_name_variable_set_in_each_branch_is_a_branch_between_the_names(tmp_path):
    cpp = _heron(tmp_path, ('    std::string mlpResidualInput = param.residualFromNorm ? '
                            '"intermediate_post_norm_out" :\n        "intermediate_attention_residual_out";',
                            '    std::string mlpResidualInput;\n    if (param.residualFromNorm) {\n'
                            '        mlpResidualInput = "intermediate_post_norm_out";\n    } else {\n'
                            '        mlpResidualInput = "intermediate_attention_residual_out";\n    }'))
    lg = load_layer(cpp)
    assert lg.inputs_of("mlpResidualAddNode[param.residualFromNorm]")[0] == "intermediate_post_norm_out"
    assert lg.inputs_of("mlpResidualAddNode[!param.residualFromNorm]")[0] == "intermediate_attention_residual_out"


def test_an_explicit_value_in_a_later_enum_moves_too(tmp_path):
    """The outputs numbered by an enum of their own, from a written value: it moves by the inputs inserted into
    the input enum."""
    cpp = _ibis(tmp_path, ("    IN_HOLDER,\n    OUT_LAYEROUT = 20, // the outputs follow the inputs\n",
                           "    IN_HOLDER,\n};\nenum IbisLayerOutTensorId : int {\n"
                           "    OUT_LAYEROUT = 20, // the outputs follow the inputs\n"))
    assert load_layer(cpp).errors() == []
    text = transform_file(cpp, write=False).cpp_text.decode()
    assert "enum IbisQuantLayerOutTensorId : int {\n    OUT_LAYEROUT = 31," in text


def test_a_layer_with_no_site_names_the_ops_the_catalogue_does_not_know(tmp_path):
    """A fused layer whose QKV linear is a model-local type the catalogue does not know, and whose other linears
    have no quantization precedent: the failure names that op and its type first."""
    shutil.copytree(FIXTURES / "layers" / "fused_operation", tmp_path / "f")
    cpp = layer_cpp(tmp_path / "f")
    text = cpp.read_text(encoding="utf-8")
    text = text.replace("atb::infer::LinearParam qkvLinearParam;", "MultiLayerLinearParam qkvLinearParam;")
    text = text.replace("atb::CreateOperation(qkvLinearParam, &qkvLinearNode.operation);",
                        "CreateMultiLayerLinearOperation(qkvLinearParam, &qkvLinearNode.operation);")
    text = text.replace("atb_speed::common::ParallelParamV2", "atb::infer::LinearParallelParam")
    text = text.replace("atb_speed::common::MlpGateParamV2 mlpParam;", "JayMlpParam mlpParam;")
    cpp.write_text(text, encoding="utf-8")
    with pytest.raises(LayerError) as exc:
        transform_file(cpp, write=False)
    assert exc.value.reason.startswith("no site to quantize: qkvLinearNode: MultiLayerLinearParam is not in the "
                                       "op catalogue")
