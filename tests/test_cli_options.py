"""transform options: --json report, --qkv-style, --no-upgrade, --keep-names, --scale-names, -o."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner

from llm_transform.cli import main
from tests.conftest import FIXTURES


def _run(*args):
    return CliRunner().invoke(main, ["transform", *map(str, args)])


def _copy(case, tmp_path):
    dst = tmp_path / case
    shutil.copytree(FIXTURES / "layers" / case, dst)
    return next(dst.glob("*.cpp"))


def test_json_report_lists_changes_inputs_and_keys(tmp_path):
    cpp = _copy("full_fused_qkv_rope", tmp_path)
    r = _run("-s", cpp, "--json", "--dry-run")
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)["files"][0]
    assert rep["status"] == "transformed" and rep["tier"] == "A"
    qkv = next(c for c in rep["changes"] if c["node"] == "qkvLinearNode")
    assert qkv["old_inputs"] == ["INTERMIDATE_INPUTNORMOUT", "IN_QKVMIXEDLINEARWEIGHT"]
    assert qkv["new_inputs"][2:] == ["IN_QKVMIXEDLINEAR_BIAS", "IN_QKVMIXEDLINEAR_DEQSCALE"]
    roles = {i["name"]: i["role"] for i in rep["inputs"]}
    assert roles["IN_QKVMIXEDLINEAR_DEQSCALE"] == "deqscale" and roles["IN_BETA"] == "beta"
    assert [i["name"] for i in rep["inputs"]].index("IN_QKVMIXEDLINEAR_DEQSCALE") == 3
    keys = {k for f in rep["scale_fields"] for k in f["json_keys"]}
    assert "qkvInputScale" in keys and "ffnOutInputOffset" in keys
    assert any("new enum order" in f["kind"] for f in rep["followups"])
    assert not list(cpp.parent.glob("quant_*"))


def test_refusal_in_json_carries_its_class(tmp_path):
    shutil.copytree(FIXTURES / "refuse" / "template_layer", tmp_path / "t")
    r = _run("-s", tmp_path / "t", "--json")
    assert r.exit_code == 0  # not a candidate: a correct answer
    rep = json.loads(r.output)["files"][0]
    assert rep["status"] == "refused" and rep["class"] == "template"
    assert rep["file"].endswith("template_layer.cpp") and isinstance(rep["line"], int)
    assert rep["file"] not in rep["reason"]
    assert _run("-s", tmp_path / "t", "--json", "--strict").exit_code == 1


def test_qkv_style_linear_quant(tmp_path):
    cpp = _copy("full_fused_qkv_rope", tmp_path)
    assert _run("-s", cpp, "--qkv-style", "linear-quant").exit_code == 0
    text = (cpp.parent / f"quant_{cpp.name}").read_text(encoding="utf-8")
    assert "atb::infer::LinearQuantParam qkvLinearParam = {false, true, true};" in text
    assert "qkvLinearParam.linearType" not in text


def test_no_upgrade_keeps_v1_sites_float(tmp_path):
    cpp = _copy("v1_types", tmp_path)
    r = _run("-s", cpp, "--no-upgrade")
    assert r.exit_code == 0, r.output
    assert "selfOutLinearNode: V1 type atb_speed::common::ParallelParam kept float (--no-upgrade)" in r.output
    text = (cpp.parent / f"quant_{cpp.name}").read_text(encoding="utf-8")
    assert "RowParallelLinearV2" not in text and "layers/parallel_layer.h" in text


def test_keep_names_and_scale_names(tmp_path):
    cpp = _copy("full_fused_qkv_rope", tmp_path)
    names = tmp_path / "names.json"
    names.write_text(json.dumps({"qkv": "wPack", "dense": "oProj", "selfLn": "gateProj", "ffnOut": "downProj"}))
    r = _run("-s", cpp, "--keep-names", "--scale-names", names, "-o", tmp_path / "out")
    assert r.exit_code == 0, r.output
    text = (tmp_path / "out" / f"quant_{cpp.name}").read_text(encoding="utf-8")
    h = (tmp_path / "out" / f"quant_{cpp.with_suffix('.h').name}").read_text(encoding="utf-8")
    assert "atb::Status FlashAttentionLayer(" in text
    assert "float wPackInputScale = 1;" in h and "int downProjInputOffset = 0;" in h
    assert "param.oProjInputScale" in text and "param.gateProjInputScale" in text


def test_bad_scale_names_file_is_a_usage_error(tmp_path):
    cpp = _copy("full_fused_qkv_rope", tmp_path)
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert _run("-s", cpp, "--scale-names", bad).exit_code == 2
