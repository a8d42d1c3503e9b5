"""Defects seen on real layer files, each reproduced on a fixture of our own.

Each test states what the correct answer is; it failed on the code before its fix.
"""

from __future__ import annotations

import re
import shutil

import pytest

from llm_transform import LayerError, load_layer, transform_file
from tests.conftest import FIXTURES, layer_cpp

MODES = pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])


def _run(case: str, sparse: bool = False, **kw):
    return transform_file(layer_cpp(FIXTURES / "layers" / case), sparse=sparse, write=False, header=False, **kw)


def _comments(text: str) -> list[str]:
    """Every comment of a C++ text, in order (line and block comments; strings hold none in our fixtures)."""
    return re.findall(r"//[^\n]*|/\*.*?\*/", text, flags=re.S)


# -- a node list sized twice: room reserved first, then shrunk to what was used ---------------------------
def test_room_reserved_then_trimmed_is_consistent():
    lg = load_layer(layer_cpp(FIXTURES / "layers" / "node_room_trimmed"))
    assert lg.errors() == []


@MODES
def test_room_reserved_then_trimmed_is_rewritten(sparse):
    r = _run("node_room_trimmed", sparse)
    text = r.cpp_text.decode()
    assert "opGraph.nodes.resize(NODE_COUNT_MAX);" in text and "opGraph.nodes.resize(nodeId);" in text


def test_room_reserved_too_small_is_still_an_error(tmp_path):
    shutil.copytree(FIXTURES / "layers" / "node_room_trimmed", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    cpp.write_text(cpp.read_text(encoding="utf-8").replace("NODE_COUNT_MAX = 16;", "NODE_COUNT_MAX = 9;"),
                   encoding="utf-8")
    errors = load_layer(cpp).errors()
    assert [e.message for e in errors] == ["NODE_COUNT_MAX is 9 but the layer creates 10 nodes"]
    with pytest.raises(LayerError, match="inconsistent"):
        transform_file(cpp, write=False)


# -- the anti-outlier fold removes all it makes useless, and no comment -----------------------------------
@MODES
def test_fold_removes_the_param_only_the_folded_adds_used(sparse):
    r = _run("anti_outlier_add_param", sparse)
    text = r.cpp_text.decode()
    assert "betaAddParam" not in text
    assert "inputNormBetaAddNode" not in text and "selfNormBetaAddNode" not in text
    assert "addParam.elewiseType = " in text  # the residual adds' own param stays


@MODES
def test_fold_keeps_every_comment(sparse):
    r = _run("anti_outlier_add_param", sparse)
    before = _comments(layer_cpp(FIXTURES / "layers" / "anti_outlier_add_param").read_text(encoding="utf-8"))
    after = _comments(r.cpp_text.decode())
    assert after == before


@MODES
def test_fold_treats_both_sites_alike_and_leaves_no_double_blank_line(sparse):
    float_text = layer_cpp(FIXTURES / "layers" / "anti_outlier_add_param").read_text(encoding="utf-8")
    text = _run("anti_outlier_add_param", sparse).cpp_text.decode()
    assert "\n\n\n" not in text and "\n\n\n" not in float_text
    # each site: the comment that introduced the add now stands above the code that follows it
    for comment in ("// 反离群点: 归一化输出加上 beta 偏移 (anti-outlier shift)\n", "// 同样加上 beta 偏移\n"):
        after = text.split(comment, 1)[1]
        assert after.startswith("\n") or not after.lstrip().startswith("CREATE_OPERATION(betaAddParam")


# -- a type the header defines besides the layer's own is not defined twice --------------------------------
def _with_header_type(tmp_path, header_extra: str, cpp_old: str = "", cpp_new: str = ""):
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path / "l")
    h = tmp_path / "l" / "flash_attention_layer.h"
    text = h.read_text(encoding="utf-8")
    h.write_text(text.replace("struct FlashAttentionLayerParam {", header_extra + "struct FlashAttentionLayerParam {",
                              1), encoding="utf-8")
    cpp = layer_cpp(tmp_path / "l")
    if cpp_old:
        text = cpp.read_text(encoding="utf-8")
        assert cpp_old in text
        cpp.write_text(text.replace(cpp_old, cpp_new, 1), encoding="utf-8")
    return cpp


EMBEDDING = "struct EmbeddingLayerParam {\n    int vocabSize = 0;\n};\n"


@MODES
def test_a_second_header_struct_takes_a_name_of_its_own(tmp_path, sparse):
    r = transform_file(_with_header_type(tmp_path, EMBEDDING), sparse=sparse, write=False)
    camel = "SparseQuant" if sparse else "Quant"
    h = r.h_text.decode()
    assert f"struct Embedding{camel}LayerParam {{" in h and "EmbeddingLayerParam" not in h
    notes = [n for n in r.notes if "renamed" in n.kind]
    assert [n.detail for n in notes] == [f"EmbeddingLayerParam -> Embedding{camel}LayerParam"]
    assert not [n for n in r.notes if "cannot both be included" in n.kind]


@MODES
def test_a_header_struct_the_layer_uses_is_renamed_where_it_is_used(tmp_path, sparse):
    """A helper type of the header that the layer function itself uses (a local `SelfAttentionParam`)."""
    extra = "struct SelfAttentionParam {\n    int headNum = 0;\n};\n"
    cpp = _with_header_type(tmp_path, extra, "    atb::GraphParam opGraph;\n",
                            "    SelfAttentionParam localAttention;\n    localAttention.headNum = param.headNum;\n"
                            "    atb::GraphParam opGraph;\n")
    r = transform_file(cpp, sparse=sparse, write=False)
    camel = "SparseQuant" if sparse else "Quant"
    assert f"    SelfAttention{camel}Param localAttention;\n" in r.cpp_text.decode()
    assert f"struct SelfAttention{camel}Param {{" in r.h_text.decode()


def test_a_header_struct_that_code_outside_the_pair_takes_keeps_its_name(tmp_path):
    """A function the header only declares (defined elsewhere) takes the type: renaming it would break that
    code, so the name stays and the user is told the headers cannot be included together."""
    extra = EMBEDDING + ("atb::Status EmbeddingLayer(const EmbeddingLayerParam &param, "
                         "atb::Operation **operation);\n")
    r = transform_file(_with_header_type(tmp_path, extra), write=False)
    assert "struct EmbeddingLayerParam {" in r.h_text.decode()
    notes = [n.detail for n in r.notes if "cannot both be included" in n.kind]
    assert notes == ["flash_attention_layer.h: struct EmbeddingLayerParam"]


def test_the_verifier_refuses_a_header_type_defined_twice(tmp_path):
    from llm_transform.verify import check_against

    cpp = _with_header_type(tmp_path, EMBEDDING)
    r = transform_file(cpp)
    gen_h = r.target_h
    gen_h.write_text(gen_h.read_text(encoding="utf-8").replace("EmbeddingQuantLayerParam", "EmbeddingLayerParam"),
                     encoding="utf-8")
    _, rejections = check_against(cpp, r.target_cpp)
    assert [(x.kind, x.message) for x in rejections] == [
        ("float-clash", "the type EmbeddingLayerParam has the float pair's name; building or including both layers "
                        "would clash")]


# -- invented names keep the casing of the names they come from ---------------------------------------------
def test_a_lower_camel_helper_stays_lower_camel_in_sparse_mode():
    r = _run("full_fused_qkv_rope", sparse=True)
    assert r.renames["reshapeHeads"] == "sparseQuantReshapeHeads"
    assert "sparseQuantReshapeHeads(oldShape, newShape, param.headNum);" in r.cpp_text.decode()


@pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])
def test_every_rename_keeps_its_casing(sparse):
    from llm_transform.graph.naming import casing
    from tests.conftest import LAYER_DIRS, NEW_IDIOM_DIRS

    checked = 0
    for d in [*LAYER_DIRS, *NEW_IDIOM_DIRS]:
        try:
            r = transform_file(layer_cpp(d), sparse=sparse, write=False, header=False)
        except LayerError:
            continue
        for old, new in r.renames.items():
            assert casing(new) == casing(old), (d.name, old, new)
            assert ("sparse" in new.lower()) == sparse and "quant" in new.lower(), (old, new)
            assert not re.search(r"[Ss]parsequant|SPARSEQUANT|sparse_Quant", new), new  # words run together
            checked += 1
        guards = re.findall(r"#ifndef (\w+)", r.h_text.decode())
        assert all(g == g.upper() for g in guards)
    assert checked > 50


@pytest.mark.parametrize(("name", "sparse_name"), [
    ("reshapeHeads", "sparseQuantReshapeHeads"), ("ReshapeHeads", "SparseQuantReshapeHeads"),
    ("reshape_heads", "sparse_quant_reshape_heads"), ("RESHAPE_HEADS", "SPARSE_QUANT_RESHAPE_HEADS"),
    ("squeeze", "sparse_quant_squeeze"), ("_helper", "sparse_quant__helper"),
])
def test_prefixed_names(name, sparse_name):
    from llm_transform.graph.naming import prefixed

    assert prefixed(name, ["Sparse", "Quant"]) == sparse_name


@pytest.mark.parametrize(("name", "quant_name"), [
    ("FlashAttentionLayer", "FlashAttentionQuantLayer"), ("AntiFloatLayer", "AntiQuantLayer"),
    ("ZetaParam", "ZetaQuantParam"), ("layer_param", "quant_layer_param"), ("Zeta", "ZetaQuant"),
])
def test_type_names(name, quant_name):
    from llm_transform.graph.naming import type_name

    assert type_name(name, ["Quant"]) == quant_name


# -- fields older atb_speed versions lack ----------------------------------------------------------------------
def test_sparse_fields_older_versions_lack_are_named_without_headers(monkeypatch):
    monkeypatch.delenv("ATB_HOME_PATH", raising=False)
    monkeypatch.delenv("ATB_SPEED_HOME_PATH", raising=False)
    r = _run("full_fused_qkv_rope", sparse=True)
    details = [f["detail"] for f in r.report()["followups"] if "older versions of the library" in f["kind"]]
    assert details == ["selfOutLinearNode: ParallelParamV2.isSparse", "mlpNode: MlpGateParamV2.isSparse"]
    quant = _run("full_fused_qkv_rope", sparse=False)
    assert not [f for f in quant.report()["followups"] if "older versions of the library" in f["kind"]]


def test_with_headers_the_verifier_checks_instead():
    stub = FIXTURES.parent / "atb_stub"
    r = _run("full_fused_qkv_rope", sparse=True, include_dirs=[str(stub)])
    assert not [f for f in r.report()["followups"] if "older versions of the library" in f["kind"]]


# -- code that only the missing system headers make unreadable is no syntax error ----------------------------
STD_COPY = """        outTensorDescs.at(0) = inTensorDescs.at(0);
        int64_t dims[3] = {1, 2, 3};
        std::copy(std::begin(dims), std::end(dims), outTensorDescs.at(0).shape.dims);
        return atb::NO_ERROR;"""


def _with_std_copy(tmp_path, line: str = STD_COPY):
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8")
    old = "        outTensorDescs.at(0) = inTensorDescs.at(0);\n        return atb::NO_ERROR;"
    assert old in text
    cpp.write_text(text.replace(old, line), encoding="utf-8")
    return cpp


def test_std_calls_without_system_headers_are_no_syntax_error(tmp_path):
    from click.testing import CliRunner

    from llm_transform.cli import main

    cpp = _with_std_copy(tmp_path)
    r = CliRunner().invoke(main, ["check", str(cpp)])
    assert r.exit_code == 0, r.output
    assert "syntax error" not in r.output
    assert transform_file(cpp, write=False).after.changed_ops()


def test_a_real_unbalanced_call_is_still_a_syntax_error(tmp_path):
    cpp = _with_std_copy(tmp_path, STD_COPY.replace("outTensorDescs.at(0).shape.dims);",
                                                    "outTensorDescs.at(0).shape.dims;"))
    with pytest.raises(LayerError, match=r"unbalanced|syntax error"):
        load_layer(cpp)


# -- text inserted at a line's end never splits a CRLF ---------------------------------------------------------
@MODES
@pytest.mark.parametrize("case", ["layers/crlf_bom", "layers/json_from_json_create", "layers_new/runtime_ids",
                                  "layers_new/string_tensors"])
def test_no_lone_carriage_return(tmp_path, case, sparse):
    """Every line of the float ends in CRLF: every inserted line does too, and none is put between the CR and
    the LF of another (a lone CR is a line break to the compiler and to editors, not to the tool)."""
    shutil.copytree(FIXTURES / case, tmp_path / "l")
    for path in (tmp_path / "l").glob("*.[ch]*"):
        data = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        path.write_bytes(data)
    r = transform_file(layer_cpp(tmp_path / "l"), sparse=sparse, write=False, header=False)
    for text in (r.cpp_text, r.h_text):
        assert not re.search(rb"\r(?!\n)", text)
        assert not re.search(rb"(?<!\r)\n", text)
