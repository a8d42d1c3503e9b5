"""The examples in docs/api.md run and their assertions hold."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


#: `print(x)   # -> text`: the page says what the line prints; the test holds it to that
_SAYS_IT_PRINTS = re.compile(r"^(\s*)print\((.*)\)\s+# -> (.*)$", re.M)


def _checked_prints(code: str) -> str:
    """The block with each `print(x)  # -> text` turned into a check that ``str(x)`` is exactly that text."""
    return _SAYS_IT_PRINTS.sub(lambda m: f"{m[1]}__says__(' '.join(map(str, ({m[2]},))), {m[3]!r})", code)


def _says(value, text: str) -> None:
    assert str(value) == text, f"docs/api.md says {text!r}, the code prints {str(value)!r}"


def test_api_examples_run(capsys):
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 7
    assert len(_SAYS_IT_PRINTS.findall(text)) >= 2
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        namespace: dict = {"__says__": _says}
        for i, code in enumerate(blocks):
            exec(compile(_checked_prints(code), f"docs/api.md block {i + 1}", "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert "template" in capsys.readouterr().out  # the prints without a stated output ran too


def test_a_stated_output_that_is_wrong_fails():
    """The check is not vacuous: a sample output that differs from what the code prints is caught."""
    code = _checked_prints("print(1 + 1)  # -> 3\n")
    try:
        exec(code, {"__says__": _says})
    except AssertionError as exc:
        assert "says '3', the code prints '2'" in str(exc)
    else:
        raise AssertionError("a wrong sample output passed")


def _quick_start() -> list[str]:
    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start\n\n```sh\n(.*?)```", guide, re.S)
    assert block, "the user guide has a quick start"
    return [ln.split("  #")[0].strip() for ln in block[1].splitlines() if ln.strip()]


def test_user_guide_quick_start_runs_in_a_checkout(tmp_path, monkeypatch):
    """Every command of the quick start works in a fresh checkout: the folders it names are there."""
    import shlex
    import shutil

    from click.testing import CliRunner

    from llm_transform.cli import main

    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    commands = _quick_start()
    assert len(commands) >= 4
    for line in commands:
        args = shlex.split(line)
        assert args[0] == "llm-transform"
        if "graph" in args and shutil.which("dot") is None and not line.endswith((".dot", ".json")):
            continue  # drawing an .svg needs Graphviz
        r = CliRunner().invoke(main, args[1:])
        assert r.exit_code == 0, f"{line}\n{r.output}"


def test_user_guide_names_every_scale_names_key():
    from llm_transform.graph.passes import STANDARD_LABELS

    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    row = next(ln for ln in guide.splitlines() if ln.startswith("| `--scale-names FILE`"))
    missing = [k for k in STANDARD_LABELS.values() if f"`{k}`" not in row]
    assert not missing, f"the --scale-names row does not say what {missing} are"


def test_what_the_guide_says_about_missing_system_headers_holds(tmp_path):
    """The guide says a standard template called in an argument list, which libclang cannot parse without the
    system headers, is not reported as a syntax error, and that a bracket really missing still is."""
    from llm_transform.source.clang_check import syntax_check
    from llm_transform.source.errors import LayerError

    cpp = tmp_path / "toy.cpp"
    body = "    std::copy(std::begin(a.dims), std::end(a.dims), std::begin(b.dims));\n"
    text = ("#include <algorithm>\n#include <iterator>\nstruct Dims { long dims[8]; };\n"
            "void Copy(const Dims &a, Dims &b)\n{\n" + body + "}\n")
    cpp.write_text(text)
    syntax_check(cpp, [])  # no syntax error
    cpp.write_text(text.replace(body, body.replace("b.dims));", "b.dims);")))
    with pytest.raises(LayerError, match="syntax error"):
        syntax_check(cpp, [])
    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    assert "std::copy(std::begin(" in guide and "is still\nreported" in guide


def test_example_outputs_are_ignored_by_git():
    """The README's first command writes the example's rewrite next to it: git does not list it."""
    import shutil
    import subprocess

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        import pytest

        pytest.skip("not a git checkout")
    outputs = ["examples/aster/quant_flash_attention_layer.cpp", "examples/aster/quant_flash_attention_layer.h",
               "examples/aster/sparse_quant_flash_attention_layer.cpp", "examples/zeta/quant_zeta_layer.h",
               "out/layer.svg"]
    r = subprocess.run(["git", "check-ignore", *outputs], cwd=ROOT, capture_output=True, text=True)
    assert sorted(r.stdout.split()) == sorted(outputs)
    kept = subprocess.run(["git", "check-ignore", "examples/aster/flash_attention_layer.cpp"], cwd=ROOT,
                          capture_output=True, text=True)
    assert kept.returncode == 1
