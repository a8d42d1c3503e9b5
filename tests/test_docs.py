"""The examples in docs/api.md run and their assertions hold."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_api_examples_run(capsys):
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 7
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        namespace: dict = {}
        for i, code in enumerate(blocks):
            exec(compile(code, f"docs/api.md block {i + 1}", "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert "FlashAttentionLayer" in capsys.readouterr().out
