"""The fused-QKV RmsNorm layer against ATB_LAYERS.md §3.10 (majority choices), both modes."""

from __future__ import annotations

import re

import pytest

from llm_transform import transform_file
from tests.conftest import FIXTURES

CPP = FIXTURES / "layers" / "full_fused_qkv_rope" / "flash_attention_layer.cpp"


@pytest.fixture(scope="module")
def quant():
    return transform_file(CPP, write=False)


@pytest.fixture(scope="module")
def sparse():
    return transform_file(CPP, sparse=True, write=False)


def _enum_inputs(text: str) -> list[str]:
    body = re.search(r"enum \w+ : int \{(.*?)\};", text, re.S).group(1)
    names = re.findall(r"^\s*(IN_\w+)", re.sub(r"//[^\n]*", "", body), re.M)
    return names


def test_enum_places_new_inputs_after_their_weights(quant):
    text = quant.cpp_text.decode()
    ins = _enum_inputs(text)
    i = ins.index("IN_QKVMIXEDLINEARWEIGHT")
    assert ins[i + 1 : i + 3] == ["IN_QKVMIXEDLINEAR_DEQSCALE", "IN_QKVMIXEDLINEAR_BIAS"]
    assert ins[ins.index("IN_HOLDER") - 1] == "IN_BETA"
    assert "static const uint64_t IN_TENSOR_COUNT = 28;" in text  # 17 + 5 x 2 + beta
    assert "static const uint64_t INTERMEDIATE_TENSOR_COUNT = 12;" in text
    assert "static const uint64_t NODE_COUNT = 10;" in text


def test_linear_slots_and_fields(quant):
    text = quant.cpp_text.decode()
    assert "atb::infer::LinearParam qkvLinearParam = {false, true, true};" in text
    assert "qkvLinearParam.linearType = atb::infer::LinearType::LINEAR_INT8INT8_INT32_FP16;" in text
    assert ("qkvLinearNode.inTensorIds = {INTERMIDATE_INPUTNORMOUT, IN_QKVMIXEDLINEARWEIGHT, "
            "IN_QKVMIXEDLINEAR_BIAS, IN_QKVMIXEDLINEAR_DEQSCALE};") in " ".join(text.split())
    assert max(len(line) for line in text.splitlines()) <= 120  # appended slots wrap like the list
    g = quant.after
    assert g.inputs_of("selfOutLinearNode")[2:4] == ["IN_SELFOUTLINEAR_BIAS", "IN_SELFOUTLINEAR_DEQSCALE"]
    assert g.inputs_of("selfOutLinearNode")[4:] == ["IN_HOLDER"] * 3
    assert "selfOutLinearParam.quantParam.inputScale = param.denseInputScale;" in text
    assert "selfOutLinearParam.isBias = true;" in text


def test_mlp_slots_follow_the_contract_not_the_enum(quant):
    ins = quant.after.inputs_of("mlpNode")
    assert len(ins) == 19
    assert ins[4:10] == ["IN_MLPUP_DEQSCALE", "IN_MLPGATE_DEQSCALE", "IN_MLPDOWN_DEQSCALE",
                         "IN_MLPUP_BIAS", "IN_MLPGATE_BIAS", "IN_MLPDOWN_BIAS"]
    assert ins[10:] == ["IN_HOLDER"] * 9


def test_shared_norm_param_is_split_keeping_float_fields(quant):
    text = quant.cpp_text.decode()
    assert "atb::infer::RmsNormParam selfNormParam = rmsNormParam;" in text
    assert "selfNormParam.normParam.quantInputScale = param.selfLnInputScale;" in text
    assert "rmsNormParam.normParam.quantInputScale = param.qkvInputScale;" in text
    assert "rmsNormParam.normParam.epsilon = param.rmsNormEps;" in text  # float field kept
    assert "CREATE_OPERATION(selfNormParam, &selfNormNode.operation);" in text
    assert quant.after.inputs_of("selfNormNode")[2] == "IN_BETA"


def test_struct_and_json(quant):
    h = quant.h_text.decode()
    cpp = quant.cpp_text.decode()
    for base in ("qkv", "selfLn", "dense", "ffnOut"):
        assert f"float {base}InputScale = 1;" in h and f"int {base}InputOffset = 0;" in h
        assert f'paramJson.at("{base}InputScale").get_to(param.{base}InputScale);' in cpp


def test_sparse_delta(sparse):
    text = sparse.cpp_text.decode()
    assert "atb::infer::LinearSparseParam qkvLinearParam = {false, true, 8, 8};" in text
    assert "qkvLinearParam.linearType" not in text
    assert "selfOutLinearParam.isSparse = true;" in text and "mlpParam.isSparse = true;" in text
    g = sparse.after
    assert g.inputs_of("qkvLinearNode")[4] == "IN_QKVMIXEDLINEAR_INDEX"
    assert g.inputs_of("selfOutLinearNode")[4] == "IN_SELFOUTLINEAR_INDEX"
    assert g.inputs_of("mlpNode")[10:13] == ["IN_MLPUP_INDEX", "IN_MLPGATE_INDEX", "IN_MLPDOWN_INDEX"]
    assert "SparseQuant" in g.name
