"""Per-site float fallback: a layer param flag per chosen quant point, and `if (flag) {float} else {quant}`.

As the hand-written telechat quant layer keeps some layers float: the flag is a bool field of the layer param,
read from JSON like the others; every op of the point is set up twice; a type with a switch for one of its
linears (the telechat MLP's isDownQuant) reads the flag through it.
"""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner

from llm_transform import LayerError, transform_file
from llm_transform.cli import main
from llm_transform.graph.passes import Options
from tests import cxx
from tests.conftest import FIXTURES, LAYER_DIRS, layer_cpp

MODES = pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])


def _run(case: str, sites: tuple[str, ...], sparse: bool = False):
    return transform_file(layer_cpp(FIXTURES / "layers" / case), sparse=sparse, write=False, header=False,
                          options=Options(float_fallback=sites))


@MODES
def test_each_op_of_a_point_is_set_up_twice(sparse):
    r = _run("full_fused_qkv_rope", ("qkv",), sparse)
    g = r.after
    flag = "param.isFloatQkvLayer"
    for node in ("inputNormNode", "qkvLinearNode"):
        float_op, quant_op = f"{node}[{flag}]", f"{node}[!{flag}]"
        assert g.inputs_of(float_op) == r.before.inputs_of(node)
        assert g.param_type(float_op) == r.before.param_type(node)
        assert len(g.inputs_of(quant_op)) > len(g.inputs_of(float_op))
    assert "mlpNode" in g.ops() and "selfNormNode" in g.ops()  # other points: quantized as usual
    assert [f.name for f in r.changes.flag_fields] == ["isFloatQkvLayer"]


@MODES
def test_the_float_form_is_the_float_text(sparse):
    r = _run("full_fused_qkv_rope", ("qkv",), sparse)
    text = r.cpp_text.decode()
    float_setup = ("        CREATE_OPERATION(qkvLinearParam, &qkvLinearNode.operation);\n"
                   "        qkvLinearNode.inTensorIds = {INTERMIDATE_INPUTNORMOUT, IN_QKVMIXEDLINEARWEIGHT};\n"
                   "        qkvLinearNode.outTensorIds = {INTERMIDATE_MIXEDQKV};\n")
    assert "    if (param.isFloatQkvLayer) {\n" + float_setup + "    } else {\n" in text
    # the float param is not touched: the quant form declares its own inside the else branch
    assert "qkvLinearParam.linearType" not in text and "qkvLinearParam.transposeB" not in text


def test_flags_are_fields_read_from_json():
    r = _run("full_fused_qkv_rope", ("qkv", "dense"))
    h, cpp = r.h_text.decode(), r.cpp_text.decode()
    assert "    bool isFloatQkvLayer = false;\n    bool isFloatDenseLayer = false;\n" in h
    assert 'paramJson.at("isFloatQkvLayer").get_to(param.isFloatQkvLayer);' in cpp
    assert 'paramJson.at("isFloatDenseLayer").get_to(param.isFloatDenseLayer);' in cpp
    assert "if (param.isFloatDenseLayer) {" in cpp


def test_bracket_parsing_reads_a_bool():
    r = _run("json_hand_parse", ("all",))
    text = r.cpp_text.decode() + r.h_text.decode()
    flags = re.findall(r"bool (isFloat\w+) = false;", text)
    assert flags
    for flag in flags:
        assert re.search(rf'\w+\.{flag} = \w+\["{flag}"\]\.get<bool>\(\);', text), flag


def test_a_switch_reads_the_flag_instead_of_a_branch():
    r = _run("telechat_local", ("down",))
    text = r.cpp_text.decode()
    assert re.search(r"\w+\.isDownQuant = !param\.isFloatDownLayer;", text)
    assert "if (param.isFloatDownLayer)" not in text
    assert "mlpNode" in r.after.ops()  # one op, not two forms


def test_down_without_a_switch_keeps_the_whole_mlp_float():
    r = _run("full_fused_qkv_rope", ("down",))
    assert {"mlpNode[param.isFloatDownLayer]", "selfNormNode[param.isFloatDownLayer]"} <= set(r.after.ops())
    assert any("no switch for its down linear" in f["kind"] for f in r.report()["followups"])


def test_two_flags_on_one_point_are_or_ed():
    r = _run("full_fused_qkv_rope", ("mlp", "down"))
    cond = "param.isFloatMlpLayer || param.isFloatDownLayer"
    assert f"mlpNode[{cond}]" in r.after.ops() and f"mlpNode[!({cond})]" in r.after.ops()
    assert f"if ({cond}) {{" in r.cpp_text.decode()


@pytest.mark.parametrize(("case", "why"), [
    ("beta_present", "reads or writes what the rewrite replaces"),  # the beta add is folded into the norm
    ("v1_types", "changes its op type's library"),  # upgraded V1 types
])
def test_points_that_cannot_be_set_up_twice_are_said(case, why):
    r = _run(case, ("all",))
    refused = [f["detail"] for f in r.report()["followups"] if f["kind"] == "float fallback not added"]
    assert refused and all(why in d or "reads or writes" in d or "library" in d for d in refused)
    assert any(why in d for d in refused)


@MODES
def test_all_sites_on_every_fixture_answer_in_one_line(sparse, tmp_path):
    written = 0
    for d in LAYER_DIRS:
        shutil.copytree(d, tmp_path / d.name)
        try:
            r = transform_file(layer_cpp(tmp_path / d.name), sparse=sparse, write=False,
                               options=Options(float_fallback=("all",)))
        except LayerError as exc:
            assert exc.kind != "verifier", exc.one_line()
            continue
        written += bool(r.changes.flag_fields)
    assert written >= 10


def test_unknown_sites_are_a_usage_error(tmp_path):
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    r = CliRunner().invoke(main, ["transform", "-s", str(cpp), "--float-fallback", "qkv,attn"])
    assert r.exit_code == 2 and "unknown site(s) 'attn'" in r.output
    r = CliRunner().invoke(main, ["transform", "-s", str(cpp), "--float-fallback", "qkv,qkvLinearNode", "--json"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "l" / "quant_flash_attention_layer.cpp").read_text().count("if (param.isFloat") >= 2


@pytest.mark.skipif(cxx.available() is not None, reason=str(cxx.available()))
@pytest.mark.parametrize("case", ["full_fused_qkv_rope", "telechat_local", "full_separate_qkv_layernorm",
                                  "full_paged_attention"])
def test_fallback_outputs_compile(case, tmp_path):
    shutil.copytree(FIXTURES / "layers" / case, tmp_path / case)
    cpp = layer_cpp(tmp_path / case)
    float_ok, _ = cxx.compile_cpp(cpp, tree_root=tmp_path / "float")
    for sparse in (False, True):
        r = transform_file(cpp, sparse=sparse, options=Options(float_fallback=("all",)))
        assert r.changes.flag_fields
        ok, err = cxx.compile_cpp(r.target_cpp, tree_root=tmp_path / f"tree-{sparse}")
        assert ok or not float_ok, err


def test_the_json_report_names_the_flags():
    r = _run("full_fused_qkv_rope", ("qkv",))
    assert r.report()["fallback_flags"] == [{"flag": "isFloatQkvLayer", "site": "qkv", "point": "inputNormNode",
                                             "json_key": "isFloatQkvLayer"}]
