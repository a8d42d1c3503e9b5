"""Bad input gets one line naming the file, exit 1 (2 for usage), no traceback and no output files."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from click.testing import CliRunner

from llm_transform import LayerError, transform_file
from llm_transform import pipeline as pipeline_mod
from llm_transform.cli import main
from tests.conftest import FIXTURES

FUSED = FIXTURES / "layers" / "full_fused_qkv_rope"


def _pair(tmp_path, folder=FUSED):
    dst = tmp_path / "src"
    shutil.copytree(folder, dst)
    return next(dst.glob("*.cpp"))


def _transform(*args):
    return CliRunner().invoke(main, ["transform", *map(str, args)])


def _one_line_refusal(result, needle: str) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith(("failed: ", "refused")) or needle in ln]
    assert lines, result.output
    assert needle in lines[0]
    return lines[0]


def _no_targets(folder):
    assert not [p.name for p in folder.iterdir() if p.name.startswith(("quant_", "sparse_quant_", "."))]


def _mutate(cpp, old: str, new: str, count: int = 1):
    text = cpp.read_text(encoding="utf-8")
    assert old in text
    cpp.write_text(text.replace(old, new, count), encoding="utf-8")


def _enum_to_constants(cpp):
    """The tensor ids as `static const uint32_t` constants instead of an enum."""
    text = cpp.read_text(encoding="utf-8")
    start = text.index("enum FlashAttentionLayerTensorId")
    end = text.index("};", start) + 2
    names = re.findall(r"^\s*(\w+)", re.sub(r"//[^\n]*", "", text[text.index("{", start) + 1 : end - 2]), re.M)
    consts = "".join(f"static const uint32_t {n} = {i};\n" for i, n in enumerate(names))
    cpp.write_text(text[:start] + consts + text[end:], encoding="utf-8")


CASES = {
    "empty file": (lambda cpp: cpp.write_bytes(b""), "file is empty"),
    "binary file": (lambda cpp: cpp.write_bytes(b"\x7fELF\x00\x01\x02" * 50), "binary"),
    "not utf-8": (lambda cpp: cpp.write_bytes(cpp.read_bytes().replace("权重".encode(), "权重".encode("gbk"))),
                  "not UTF-8"),
    "huge file": (lambda cpp: cpp.write_bytes(cpp.read_bytes() + b"// pad\n" * 400_000), "larger than"),
    "missing header": (lambda cpp: cpp.with_suffix(".h").unlink(), "is missing"),
    "unbalanced brace": (lambda cpp: _mutate(cpp, "{", "", 1), "unbalanced"),
    "missing semicolon": (lambda cpp: _mutate(cpp, "CREATE_OPERATION(splitQkvParam, &splitQkvNode.operation);",
                                              "CREATE_OPERATION(splitQkvParam, &splitQkvNode.operation)"),
                          "syntax error"),
    "no tensor enum": (lambda cpp: _enum_to_constants(cpp), "no tensor ids found"),
    "out-of-order enum value": (lambda cpp: (_mutate(cpp, "IN_NORMWEIGHT,", "IN_NORMWEIGHT = 5,"),
                                             _mutate(cpp, "IN_QKVMIXEDLINEARWEIGHT,", "IN_QKVMIXEDLINEARWEIGHT = 1,")),
                                "explicit values must increase"),
    "duplicate enum value": (lambda cpp: _mutate(cpp, "IN_SELFOUTLINEARWEIGHT,", "IN_SELFOUTLINEARWEIGHT = 2,"),
                             "have the same value 2"),
    "count mismatch": (lambda cpp: _mutate(cpp, "NODE_COUNT = 10", "NODE_COUNT = 9"), "NODE_COUNT is 9"),
    "no layer function": (lambda cpp: _mutate(cpp, "opGraph.nodes.at(nodeId++)", "Other()", 20),
                          "declares no graph nodes"),
    "loop around nodes": (lambda cpp: _mutate(cpp, "atb::Node &inputNormNode = opGraph.nodes.at(nodeId++);",
                                              "for (int i = 0; i < 1; ++i) { atb::Node &x = opGraph.nodes.at(nodeId++);"
                                              " x.inTensorIds = {IN_HOLDER}; }\n"
                                              "    atb::Node &inputNormNode = opGraph.nodes.at(nodeId++);"),
                          "'for' statement"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_in_one_line(case, tmp_path):
    cpp = _pair(tmp_path)
    before = {p.name: p.read_bytes() for p in cpp.parent.iterdir()} if case != "missing header" else None
    mutate, needle = CASES[case]
    mutate(cpp)
    snapshot = {p.name: p.read_bytes() for p in cpp.parent.iterdir()}
    r = _transform("-s", cpp)
    assert r.exit_code == 1, r.output
    line = _one_line_refusal(r, needle)
    assert cpp.name in line
    _no_targets(cpp.parent)
    assert {p.name: p.read_bytes() for p in cpp.parent.iterdir()} == snapshot  # sources untouched
    del before


def test_missing_path_and_empty_folder(tmp_path):
    r = _transform("-s", tmp_path / "nope.cpp")
    assert r.exit_code == 2 and "no such file or folder" in r.output
    (tmp_path / "empty").mkdir()
    r = _transform("-s", tmp_path / "empty")
    assert r.exit_code == 2 and "no layer .cpp files here" in r.output
    assert _transform("-s").exit_code == 2
    assert _transform("-s", tmp_path, "--qkv-style", "bogus").exit_code == 2


def test_already_quantized_by_name(tmp_path):
    cpp = _pair(tmp_path)
    q = cpp.with_name("quant_" + cpp.name)
    cpp.rename(q)
    r = _transform("-s", q)
    assert r.exit_code == 0 and "already a quantized layer" in r.output  # not a candidate: no failure


def test_output_folder_that_cannot_be_created(tmp_path):
    cpp = _pair(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    r = _transform("-s", cpp, "-o", blocker / "out")
    assert r.exit_code == 1
    assert "cannot write here" in r.output and "Traceback" not in r.output
    assert f"failed: {blocker / 'out' / 'quant_flash_attention_layer.cpp'}: " in r.output  # the target, no temp
    assert blocker.read_text() == "a file, not a folder"


def test_failure_between_the_two_renames_leaves_neither_target(tmp_path, monkeypatch):
    cpp = _pair(tmp_path)
    real_replace = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(pipeline_mod.os, "replace", flaky)
    with pytest.raises(LayerError) as exc:
        transform_file(cpp)
    assert "nothing was written" in exc.value.reason
    _no_targets(cpp.parent)


def test_failed_overwrite_restores_the_previous_targets(tmp_path, monkeypatch):
    cpp = _pair(tmp_path)
    first = transform_file(cpp)
    first.target_cpp.write_text("// old\n")
    first.target_h.write_text("// old h\n")
    real_replace = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(5, "Input/output error", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(pipeline_mod.os, "replace", flaky)
    with pytest.raises(LayerError):
        transform_file(cpp, force=True)
    assert first.target_cpp.read_text() == "// old\n" and first.target_h.read_text() == "// old h\n"
    assert not [p for p in cpp.parent.iterdir() if p.name.endswith(".tmp")]


def test_symlink_loop_with_recursive(tmp_path):
    root = tmp_path / "tree"
    shutil.copytree(FUSED, root / "a")
    (root / "a" / "loop").symlink_to(root, target_is_directory=True)
    r = _transform("-s", root, "--recursive", "--dry-run")
    assert r.exit_code == 0, r.output
    assert r.output.count("quant_flash_attention_layer.cpp") == 1


def test_folder_mode_carries_on_after_bad_files(tmp_path):
    cpp = _pair(tmp_path)
    (cpp.parent / "garbage_layer.cpp").write_bytes(b"\xff\xfe\x00binary")
    (cpp.parent / "empty_layer.cpp").write_text("")
    r = _transform("-s", cpp.parent)
    assert r.exit_code == 1
    assert r.output.count("failed: ") == 2
    assert (cpp.parent / "quant_flash_attention_layer.cpp").is_file()


STRAYS = [(FUSED, "    CREATE_OPERATION(splitQkvParam, &splitQkvNode.operation);", " {"),
          (FUSED, "    selfOutLinearParam.isBias = false;", " }"),
          (FIXTURES / "layers" / "full_paged_attention", "    atb::infer::RmsNormParam selfNormParam;", " {"),
          (FIXTURES / "layers" / "branch_nested", "", "{")]


@pytest.mark.parametrize(("folder", "after", "stray"), STRAYS, ids=["open", "close", "open-paged", "open-blank"])
def test_stray_brace_is_reported_at_its_own_line(tmp_path, folder, after, stray):
    cpp = _pair(tmp_path, folder)
    lines = cpp.read_text(encoding="utf-8").split("\n")
    if after:
        at = lines.index(after)
        lines[at] += stray
    else:  # a blank line inside the layer function gets the stray brace
        body = next(i for i, ln in enumerate(lines) if ln.startswith("atb::Status ") and "Layer(" in ln)
        at = next(i for i in range(body + 5, len(lines)) if not lines[i].strip())
        lines[at] = "    " + stray
    cpp.write_text("\n".join(lines), encoding="utf-8")
    line = _one_line_refusal(_transform("-s", cpp), "unbalanced braces")
    assert f"{cpp.name}:{at + 1}: unbalanced braces: this '{stray.strip()}' looks like one too many" in line


def test_missing_expression_is_a_syntax_error(tmp_path):
    cpp = _pair(tmp_path)
    _mutate(cpp, "    selfOutLinearParam.isBias = false;", "    int unused = ;\n    selfOutLinearParam.isBias = false;")
    line = _one_line_refusal(_transform("-s", cpp), "syntax error")
    assert "syntax error: expected expression" in line and f"{cpp.name}:" in line
    _no_targets(cpp.parent)


def test_relative_paths_reach_the_generated_header(tmp_path, monkeypatch):
    """libclang resolves unsaved files by absolute path; a relative -s must verify the same."""
    cpp = _pair(tmp_path)
    monkeypatch.chdir(cpp.parent)
    r = _transform("-s", cpp.name, "--dry-run")
    assert r.exit_code == 0, r.output
