"""What the summary and the JSON report say about a transformed layer: partial quantization, sites
quantized without sparsity, and the JSON keys or fields the model must now provide."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from llm_transform import transform_file
from llm_transform.cli import main
from tests.conftest import FIXTURES, layer_cpp

LAYERS = FIXTURES / "layers"
PARTIAL = "float_parallel_no_holder"  # one plain linear quantized, three LinearParallelParam sites left float


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _copy(tmp_path: Path, *cases: str) -> Path:
    root = tmp_path / "models"
    for case in cases:
        shutil.copytree(LAYERS / case, root / case)
    return root


def test_a_partly_quantized_layer_is_partial_in_text_and_json(tmp_path):
    root = _copy(tmp_path, PARTIAL, "full_fused_qkv_rope")
    r = _cli("transform", "-s", root, "--recursive", "--dry-run")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[-1].startswith("Totals: 2 transformed (0 unchanged, 1 partial), ")
    partial = [ln for ln in r.output.splitlines() if ln.startswith("partial: ")]
    assert partial == [f"partial: {layer_cpp(root / PARTIAL)}: 1 of 4 linear sites quantized"]
    data = json.loads(_cli("transform", "-s", root, "--recursive", "--dry-run", "--json").stdout)
    by_name = {Path(f["file"]).parent.name: f for f in data["files"]}
    assert by_name[PARTIAL]["quantized"] == {"linears": 4, "quantized": 1, "share": 0.25}
    assert by_name[PARTIAL]["partial"] is True
    assert by_name["full_fused_qkv_rope"]["quantized"] == {"linears": 3, "quantized": 3, "share": 1.0}
    assert by_name["full_fused_qkv_rope"]["partial"] is False
    assert data["totals"]["partial"] == 1 and data["totals"]["transformed"] == 2


@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_strict_fails_on_partial_layers_and_says_so_even_quiet(tmp_path, quiet):
    root = _copy(tmp_path, PARTIAL)
    r = _cli("transform", "-s", root, "--recursive", "--dry-run", "--strict", *quiet)
    assert r.exit_code == 1
    assert any(ln.startswith("partial: ") for ln in r.output.splitlines())
    full = _copy(tmp_path / "full", "full_fused_qkv_rope")
    assert _cli("transform", "-s", full, "--recursive", "--dry-run", "--strict", *quiet).exit_code == 0


def test_strict_quiet_still_names_non_candidates(tmp_path):
    shutil.copytree(FIXTURES / "refuse" / "template_layer", tmp_path / "t")
    r = _cli("transform", "-s", tmp_path / "t", "--strict", "--quiet")
    assert r.exit_code == 1 and "refused (template): " in r.output


def test_quantized_without_sparsity_is_not_left_float(tmp_path):
    root = _copy(tmp_path, "telechat_local")
    cpp = layer_cpp(root / "telechat_local")
    r = transform_file(cpp, sparse=True, write=False)
    assert r.changes.skipped == []
    assert {s["node"] for s in r.changes.not_sparse} == {"selfOutLinearNode", "mlpNode"}
    assert all("quantized without sparsity" in s["reason"] for s in r.changes.not_sparse)
    out = _cli("transform", "-s", cpp, "--enable-sparse", "--dry-run")
    assert out.exit_code == 0
    assert not [ln for ln in out.output.splitlines() if ln.startswith("left float: ")]
    assert len([ln for ln in out.output.splitlines() if ln.startswith("not sparse: ")]) == 2
    assert "(0 unchanged, 0 partial)" in out.output.splitlines()[-1]
    rep = json.loads(_cli("transform", "-s", cpp, "--enable-sparse", "--dry-run", "--json").stdout)["files"][0]
    assert rep["skipped"] == [] and len(rep["not_sparse"]) == 2
    assert rep["quantized"] == {"linears": 3, "quantized": 3, "share": 1.0, "sparse": 1}


def _followups(r) -> dict[str, str]:
    return {f["kind"]: f["detail"] for f in r.report()["followups"]}


@pytest.mark.parametrize("case", ["full_fused_qkv_rope", "json_hand_parse", "json_from_json_create",
                                  "json_static_in_header"])
def test_a_pair_that_reads_json_names_the_keys_the_model_must_pass(case):
    r = transform_file(layer_cpp(LAYERS / case), write=False)
    keys = [n for f in r.changes.scale_fields for n in (f.scale, f.offset)]
    assert keys
    found = {k: v for k, v in _followups(r).items() if "JSON" in k}
    assert list(found.values()) == [", ".join(keys)], found
    assert "must pass" in next(iter(found))


def test_a_pair_that_reads_no_json_names_the_fields_to_fill():
    r = transform_file(layer_cpp(LAYERS / "beta_present"), write=False)
    fields = ", ".join(n for f in r.changes.scale_fields for n in (f.scale, f.offset))
    assert [k for k, v in _followups(r).items() if v == fields and "fill" in k]
    assert not [k for k in _followups(r) if "must pass" in k]


def test_the_keys_follow_up_is_in_the_text_summary_per_layer(tmp_path):
    root = _copy(tmp_path, "full_fused_qkv_rope", "json_hand_parse")
    r = _cli("transform", "-s", root, "--recursive", "--dry-run")
    lines = r.output.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith("follow-up: ") and "must pass" in ln)
    assert lines[i + 1].startswith(f"    {layer_cpp(root / 'full_fused_qkv_rope')}: qkvInputScale, ")
    assert lines[i + 2].startswith(f"    {layer_cpp(root / 'json_hand_parse')}: ")
