"""Defects a reviewer found in generated layers, each on a fixture written to reproduce it.

Every fixture here made the earlier rewrite produce a layer that compiled but that no reviewer would
accept; each test states what the correct rewrite does instead, in both modes where both apply.
"""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner

from llm_transform import transform_file
from llm_transform.cli import main
from tests.conftest import FIXTURES, layer_cpp

MODES = pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])


def _run(case: str, sparse: bool = False, **kw):
    return transform_file(layer_cpp(FIXTURES / "layers" / case), sparse=sparse, write=False, **kw)


def _float_inputs_still_read(r) -> None:
    """No tensor the float layer's nodes read is left unread by the generated layer."""
    for t in r.before.tensors():
        if r.before.tensor_kind(t) in ("input", "weight", "placeholder") and r.before.consumers(t):
            assert t in r.after.graph and r.after.consumers(t), f"{t} is no longer read"
    for t in r.after.added_tensors():
        assert r.after.consumers(t), f"added {t} is read by no node"


@MODES
def test_v1_mlp_keeps_the_float_biases(sparse):
    """Anti-outlier layer with a V1 MLP whose up / gate biases the float already feeds."""
    r = _run("anti_outlier_v1_mlp_bias", sparse)
    _float_inputs_still_read(r)
    mlp = r.after.inputs_of("mlpNode")
    assert mlp[7:10] == ["IN_MLPUP_BIAS", "IN_MLPGATE_BIAS", mlp[9]]
    added = r.after.added_tensors()
    assert not [t for t in added if re.search(r"_\d+$", t)], added
    assert {"IN_MLPUP_BIAS", "IN_MLPGATE_BIAS"}.isdisjoint(added)
    # in the MLP only the down linear, which had no bias, gets a new one
    assert [t for t in mlp if t in added and t.endswith("_BIAS")] == [mlp[9]]


@MODES
def test_telechat_mlp_keeps_its_down_bias(sparse):
    r = _run("telechat_mlp_down_bias", sparse)
    _float_inputs_still_read(r)
    before = r.before.inputs_of("mlpNode")
    after = r.after.inputs_of("mlpNode")
    assert after[9] == before[9] != "IN_HOLDER"
    assert not [t for t in r.after.added_tensors() if "MLPDOWN" in t and t.endswith("BIAS")]


@pytest.mark.parametrize("case", ["telechat_mlp_down_bias", "telechat_local"])
def test_telechat_mlp_down_linear_quantizes_its_input(case):
    text = _run(case).cpp_text.decode()
    assert re.search(r"\w+\.quantDownParam\.isQuantOp = true;", text)


@MODES
def test_no_placeholder_unless_a_slot_reads_it(sparse):
    """Only the QKV linear is quantized; its contract has no placeholder slot."""
    r = _run("float_parallel_no_holder", sparse)
    _float_inputs_still_read(r)
    assert not [t for t in r.after.added_tensors() if "HOLDER" in t]
    assert "HOLDER" not in r.cpp_text.decode() + r.h_text.decode()


@MODES
def test_quant_linears_transpose_one_way(sparse):
    r = _run("qkv_transpose_from_param", sparse)
    text = r.cpp_text.decode()
    assert "transposeB = param.transposedWeight" not in text
    for var in set(re.findall(r"(\w+)\.transposeB = ", text)):
        assert len(re.findall(rf"\b{var}\.transposeB = ", text)) == 1, var
    assert not re.search(r"\w+\.transposeB = (?!true;)", text)


@MODES
def test_v1_upgrade_drops_fields_the_v2_type_lacks(sparse):
    r = _run("v1_isbf16", sparse)
    text = r.cpp_text.decode()
    assert re.findall(r"\w+\.isBF16 = ", text) == []
    dropped = [c["dropped_fields"] for c in r.changes.changes if c.get("dropped_fields")]
    assert dropped == [["isBF16"], ["isBF16"]]
    assert sum("has no field isBF16" in f["detail"] for f in r.report()["followups"]) == 2


@MODES
def test_layer_strings_follow_the_rename(sparse):
    r = _run("full_fused_qkv_rope", sparse)
    camel = "SparseQuant" if sparse else "Quant"
    text = r.cpp_text.decode()
    assert f'"Create{"FlashAttention" + camel + "Layer"}, param: "' in text
    assert f'"aster FlashAttention{camel}Layer headNum: "' in text
    assert '"aster FlashAttentionLayer ' not in text


def test_quant_aware_layer_names_the_line(tmp_path):
    src = FIXTURES / "refuse" / "quant_aware_layer"
    shutil.copytree(src, tmp_path / "q")
    r = CliRunner().invoke(main, ["transform", "-s", str(next((tmp_path / "q").glob("*.cpp")))])
    assert r.exit_code == 0  # not a candidate: a correct answer, not a failure
    line = next(ln for ln in r.output.splitlines() if ln.startswith("refused (quant_aware):"))
    assert ":86: layer is already quant-aware: inputNormParam.normParam.quantType = param.normQuantType" in line


@pytest.mark.parametrize(("mapping", "says"), [
    ({"qkv": 5}, "is not a C++ identifier"),
    ({"qkv": "5x"}, "is not a C++ identifier"),
    ({"qkv": "int"}, "is not a C++ identifier"),
    ({"qkv": "same", "dense": "same"}, "both map to 'same'"),
    ({"qvk": "wPack"}, "unknown key(s) 'qvk'"),
    ({"noSuchNode#down": "down"}, "unknown key(s) 'noSuchNode#down'"),
])
def test_scale_names_are_checked_before_anything_runs(tmp_path, mapping, says):
    import json

    dst = tmp_path / "l"
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", dst)
    names = tmp_path / "names.json"
    names.write_text(json.dumps(mapping))
    r = CliRunner().invoke(main, ["transform", "-s", str(layer_cpp(dst)), "--scale-names", str(names)])
    assert r.exit_code == 2, r.output
    assert says in r.output
    assert not list(dst.glob("quant_*"))


def test_scale_names_accept_node_names(tmp_path):
    import json

    dst = tmp_path / "l"
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", dst)
    names = tmp_path / "names.json"
    names.write_text(json.dumps({"qkv": "wPack", "mlpNode#down": "downProj"}))
    r = CliRunner().invoke(main, ["transform", "-s", str(layer_cpp(dst)), "--scale-names", str(names)])
    assert r.exit_code == 0, r.output
    text = (dst / "quant_flash_attention_layer.h").read_text()
    assert "float wPackInputScale = 1;" in text and "float downProjInputScale = 1;" in text


@pytest.mark.parametrize(("added", "reported"), [
    ("enum RotaryMode : int {\n    ROTARY_HALF = 0,\n    ROTARY_FULL,\n};\n", "the entries of enum RotaryMode"),
    ("static const int MAX_BATCH = 64;\n", "MAX_BATCH"),
    ("enum class RotaryMode : int {\n    HALF = 0,\n    FULL,\n};\n", None),  # scoped: nothing clashes
])
def test_header_definitions_the_rewrite_keeps_are_reported(tmp_path, added, reported):
    """Both headers define what the rewrite does not rename (model code uses those names): one file cannot
    include both, and the user is told which names are in the way."""
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path / "l")
    h = tmp_path / "l" / "flash_attention_layer.h"
    text = h.read_text(encoding="utf-8")
    h.write_text(text.replace("struct FlashAttentionLayerParam {", added + "struct FlashAttentionLayerParam {", 1),
                 encoding="utf-8")
    r = transform_file(layer_cpp(tmp_path / "l"), write=False)
    notes = [n for n in r.notes if "cannot both be included" in n.kind]
    if reported is None:
        assert notes == []
    else:
        assert [n.detail for n in notes] == [f"flash_attention_layer.h: {reported}"]
