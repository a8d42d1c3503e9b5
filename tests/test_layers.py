"""The floors import one way: source <- graph <- render <- llm_transform (pipeline, API, CLI)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: repository folder -> (installed package, floor); a module may import only floors at or below its own
FLOORS = {"source": ("llm_transform.source", 1), "graph": ("llm_transform.graph", 2),
          "render": ("llm_transform.render", 3), "llm_transform": ("llm_transform", 4)}


def _floor_of(module: str) -> int | None:
    """The floor an imported module name belongs to (None: not ours)."""
    best = None
    for package, floor in FLOORS.values():
        ours = module == package or module.startswith(package + ".")
        if ours and (best is None or len(package) > len(best[0])):
            best = (package, floor)
    return best[1] if best else None


def _imports(path: Path, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:  # `from . import x`: each name may be a module
                    out += [(node.lineno, f"{mod}.{a.name}") for a in node.names]
                    continue
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
    return out


MODULES = [(folder, p) for folder in FLOORS for p in sorted((ROOT / folder).glob("*.py"))]


@pytest.mark.parametrize(("folder", "path"), MODULES, ids=[f"{f}/{p.name}" for f, p in MODULES])
def test_imports_point_down(folder: str, path: Path) -> None:
    package, floor = FLOORS[folder]
    upward = [(line, mod) for line, mod in _imports(path, package)
              if (f := _floor_of(mod)) is not None and f > floor]
    assert not upward, f"{folder}/{path.name} imports a higher floor: {upward}"


def test_generic_top_level_names_are_not_imported() -> None:
    """`import graph` / `from render import ...` would reach someone else's package once installed."""
    bad = []
    for folder, path in MODULES:
        for line, mod in _imports(path, FLOORS[folder][0]):
            if mod.split(".")[0] in ("graph", "render", "source"):
                bad.append(f"{folder}/{path.name}:{line}: {mod}")
    assert not bad


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The rule is not vacuous: a graph module reaching the pipeline, relatively or absolutely, is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from ..pipeline import transform_file\nimport llm_transform.render.picture\n")
    found = [mod for _, mod in _imports(bad, "llm_transform.graph")]
    assert found == ["llm_transform.pipeline", "llm_transform.render.picture"]
    assert [_floor_of(m) for m in found] == [4, 3]


def test_every_floor_has_a_docstring_saying_what_it_may_import() -> None:
    for folder in FLOORS:
        doc = ast.get_docstring(ast.parse((ROOT / folder / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "import" in doc, folder
