"""The examples in docs/api.md run and their assertions hold."""

from __future__ import annotations

import os
import re
from pathlib import Path

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
