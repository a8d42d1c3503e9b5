"""No function outside the tests is longer than 60 lines: a longer one does several things, and is split by
concern."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 60
# llm_transform/graph, /source and /render are links to the floors' folders: each file is checked once
CHECKED = [p for d in ("source", "graph", "render", "llm_transform", "bench") for p in sorted((ROOT / d).glob("*.py"))]


def long_functions(source: str) -> list[tuple[str, int]]:
    """(name, lines) of every function or method longer than MAX_LINES, from its `def` to its last line."""
    return [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno - node.lineno >= MAX_LINES]


@pytest.mark.parametrize("path", CHECKED, ids=[str(p.relative_to(ROOT)) for p in CHECKED])
def test_no_function_is_longer_than_60_lines(path: Path) -> None:
    assert not long_functions(path.read_text(encoding="utf-8")), path.relative_to(ROOT)


def test_the_check_sees_a_long_function() -> None:
    body = "".join(f"    x{k} = {k}\n" for k in range(MAX_LINES - 1))
    assert long_functions(f"def ok():\n{body}") == []
    assert long_functions(f"class C:\n    def long(self):\n{body.replace('    ', '        ')}        y = 0\n") == [
        ("long", MAX_LINES + 1)]
