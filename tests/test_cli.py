"""The command line: exit codes, summary lines, and a light start-up."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from click.testing import CliRunner

from llm_transform.cli import main
from tests.conftest import FIXTURES

FUSED = FIXTURES / "layers" / "full_fused_qkv_rope"


def test_help_does_not_import_libclang_or_networkx():
    code = "import sys, llm_transform.cli; print('clang' in sys.modules, 'networkx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_check_ok_and_json():
    r = CliRunner().invoke(main, ["check", str(FUSED / "flash_attention_layer.cpp"), "--json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)[0]
    assert rep["status"] == "ok" and rep["ops_by_role"]["norm"] == 2


def test_check_reports_count_mismatch(tmp_path):
    dst = tmp_path / "l"
    shutil.copytree(FUSED, dst)
    cpp = dst / "flash_attention_layer.cpp"
    cpp.write_text(cpp.read_text(encoding="utf-8").replace("IN_TENSOR_COUNT = 17", "IN_TENSOR_COUNT = 16"),
                   encoding="utf-8")
    r = CliRunner().invoke(main, ["check", str(cpp)])
    assert r.exit_code == 1
    assert "IN_TENSOR_COUNT is 16 but the enum has 17" in r.output


def test_transform_summary_and_exit_codes(tmp_path):
    dst = tmp_path / "l"
    shutil.copytree(FUSED, dst)
    r = CliRunner().invoke(main, ["transform", "-s", str(dst / "flash_attention_layer.cpp"), "--enable-sparse"])
    assert r.exit_code == 0, r.output
    assert "Transformed source files: [" in r.output
    assert str(dst / "sparse_quant_flash_attention_layer.cpp") in r.output
    assert (dst / "sparse_quant_flash_attention_layer.h").is_file()


def test_transform_missing_path_and_bad_option(tmp_path):
    r = CliRunner().invoke(main, ["transform", "-s", str(tmp_path / "nope.cpp")])
    assert r.exit_code == 2
    r = CliRunner().invoke(main, ["transform", "-s", str(tmp_path), "-l", "loud"])
    assert r.exit_code == 2


def test_folder_mode_skips_quant_names_and_continues_after_refusal(tmp_path):
    shutil.copytree(FUSED, tmp_path, dirs_exist_ok=True)
    (tmp_path / "broken_layer.cpp").write_text("int main( {\n")
    (tmp_path / "quant_old_layer.cpp").write_text("garbage")
    r = CliRunner().invoke(main, ["transform", "-s", str(tmp_path), "--dry-run"])
    assert r.exit_code == 1
    assert "failed: " in r.output and "broken_layer.cpp:1" in r.output
    # skipped by name, and said so
    assert f"skipped: {tmp_path / 'quant_old_layer.cpp'}: name contains quant" in r.output
    assert "quant_flash_attention_layer.cpp" in r.output
    assert not (tmp_path / "quant_flash_attention_layer.cpp").exists()


# -- usage errors (exit 2) and what a path argument may be --------------------------------------------------

def test_missing_path_is_a_usage_error(tmp_path):
    nope = tmp_path / "nope.cpp"
    for args in (["transform", "-s", str(nope)], ["transform", "-s", str(nope), "--json"], ["check", str(nope)],
                 ["check", str(FUSED / "flash_attention_layer.cpp"), str(nope)],
                 ["graph", str(nope), "-o", str(tmp_path / "g.dot")]):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 2, (args, r.output)
        assert "nope.cpp" in r.output and "no such file or folder" in r.output
    r = CliRunner().invoke(main, ["transform", "-s", str(nope), "--json"])
    assert json.loads(r.stdout)["error"].startswith(str(nope))


def test_a_header_names_the_layer_beside_it(tmp_path):
    dst = tmp_path / "l"
    shutil.copytree(FUSED, dst)
    h = dst / "flash_attention_layer.h"
    r = CliRunner().invoke(main, ["transform", "-s", str(h), "--dry-run"])
    assert r.exit_code == 0, r.output
    assert str(dst / "quant_flash_attention_layer.cpp") in r.output
    r = CliRunner().invoke(main, ["check", str(h)])
    assert r.exit_code == 0 and "FlashAttentionLayer" in r.output
    r = CliRunner().invoke(main, ["graph", str(h), "-o", str(tmp_path / "g.dot")])
    assert r.exit_code == 0, r.output
    lonely = tmp_path / "lonely.h"
    lonely.write_text("#pragma once\n")
    r = CliRunner().invoke(main, ["transform", "-s", str(lonely)])
    assert r.exit_code == 2 and f"{lonely}: a header; no lonely.cpp beside it" in r.output


def test_graph_quant_and_sparse_together_is_a_usage_error(tmp_path):
    r = CliRunner().invoke(main, ["graph", str(FUSED / "flash_attention_layer.cpp"), "-o", str(tmp_path / "g.dot"),
                                  "--quant", "--sparse"])
    assert r.exit_code == 2 and "--quant" in r.output and "--sparse" in r.output
    assert not (tmp_path / "g.dot").exists()


def test_check_on_a_folder_of_folders_suggests_recursive(tmp_path):
    shutil.copytree(FUSED, tmp_path / "models" / "a")
    shutil.copytree(FUSED, tmp_path / "models" / "b")
    r = CliRunner().invoke(main, ["check", str(tmp_path / "models")])
    assert r.exit_code == 2
    assert "2 sub-folder(s) with .cpp files: add --recursive" in r.output
    r = CliRunner().invoke(main, ["check", str(tmp_path / "models"), "--recursive"])
    assert r.exit_code == 0, r.output


def test_no_empty_file_blocks_when_nothing_was_transformed(tmp_path):
    shutil.copytree(FIXTURES / "refuse" / "template_layer", tmp_path / "t")
    r = CliRunner().invoke(main, ["transform", "-s", str(tmp_path / "t")])
    assert r.exit_code == 0
    assert "Transformed source files" not in r.output and "Transformed target files" not in r.output
    assert r.output.splitlines()[-1].startswith("Totals: 0 transformed")


def test_a_one_file_run_does_not_load_the_process_pool():
    import subprocess
    import sys

    code = ("import sys; from llm_transform.cli import main; import llm_transform.run, llm_transform.pipeline; "
            "print('concurrent.futures.process' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_json_usage_errors_keep_each_commands_shape(tmp_path):
    """A program reading --json gets JSON whatever the mistake, shaped as that command's normal output:
    transform an object with "files", check a list of per-file reports, check --against a list of findings."""
    nope = tmp_path / "nope.cpp"
    layer = str(FUSED / "flash_attention_layer.cpp")
    cases = {
        ("transform", "-s", layer, "--qkv-style", "bogus", "--json"): lambda out: out["files"] == [] and
        "--qkv-style" in out["error"],
        ("transform", "--json", "-s"): lambda out: out["files"] == [] and "-s" in out["error"],
        ("check", str(nope), "--json"): lambda out: out == [
            {"file": str(nope), "status": "error", "reason": f"{nope}: no such file or folder; check the path"}],
        ("check", "--json"): lambda out: out[0]["status"] == "error" and "SOURCES" in out[0]["reason"],
        ("check", "--json", "--against", str(nope), layer): lambda out: out[0]["kind"] == "error" and
        out[0]["file"] == str(nope),
        ("--bogus", "--json"): lambda out: out["files"] == [] and "--bogus" in out["error"] and
        "llm-transform --help" in out["error"],
        ("frob", "--json"): lambda out: out["files"] == [] and "frob" in out["error"],
    }
    for args, ok in cases.items():
        r = CliRunner().invoke(main, list(args), prog_name="llm-transform")
        assert r.exit_code == 2, (args, r.output)
        out = json.loads(r.stdout)
        assert ok(out), (args, out)
    r = CliRunner().invoke(main, ["check"])  # without --json: click's usage text
    assert r.exit_code == 2 and "Usage:" in r.output
