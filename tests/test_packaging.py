"""`pip install llm-transform` installs one top-level package, `llm_transform`, and the script."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    pytest.importorskip("setuptools", minversion="77")
    work = tmp_path_factory.mktemp("build")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("llm_transform", "source", "graph", "render"):
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    out = work / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (whl,) = out.glob("*.whl")
    return zipfile.ZipFile(whl)


def test_one_top_level_package(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"llm_transform"}
    top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    assert wheel.read(top_level).decode().split() == ["llm_transform"]


def test_floors_and_catalogue_are_inside(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for module in ("llm_transform/cli.py", "llm_transform/source/reader.py", "llm_transform/graph/passes.py",
                   "llm_transform/graph/op_catalogue.toml", "llm_transform/render/backproject.py"):
        assert module in names


def test_console_script(wheel: zipfile.ZipFile) -> None:
    ep = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    text = wheel.read(ep).decode()
    assert "llm-transform = llm_transform.cli:main" in text
