"""`pip install llm-transform` installs one top-level package, `llm_transform`, and the script; the package
imports the same way installed, installed editable, and straight from the repository root (where the
repository's own `llm_transform/` folder comes first on `sys.path` and shadows an installed copy)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: what the API examples need from the repository, imported with the working directory at the root
API_PROBE = ("import llm_transform; from llm_transform import load_layer; "
             "g = load_layer('examples/aster/flash_attention_layer.cpp'); "
             "print(llm_transform.__file__); print(g.name)")


def _copy_project(dst: Path) -> Path:
    """The files a build reads, symlinks kept as symlinks (as a git checkout has them)."""
    dst.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dst / name)
    for folder in ("llm_transform", "source", "graph", "render"):
        shutil.copytree(ROOT / folder, dst / folder, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


@pytest.fixture(scope="module")
def wheel_path(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools", minversion="77")
    work = tmp_path_factory.mktemp("build")
    src = _copy_project(work / "src")
    out = work / "dist"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(out), str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    (whl,) = out.glob("*.whl")
    return whl


@pytest.fixture(scope="module")
def wheel(wheel_path: Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(wheel_path)


def test_one_top_level_package(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"llm_transform"}
    top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    assert wheel.read(top_level).decode().split() == ["llm_transform"]


def test_floors_and_catalogue_are_inside(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for module in ("llm_transform/cli.py", "llm_transform/source/reader.py", "llm_transform/graph/passes.py",
                   "llm_transform/graph/op_catalogue.toml", "llm_transform/render/spell.py"):
        assert module in names
    data = [n for n in names if not n.endswith(".py") and ".dist-info/" not in n]
    assert data == ["llm_transform/graph/op_catalogue.toml"]


def test_console_script(wheel: zipfile.ZipFile) -> None:
    ep = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    text = wheel.read(ep).decode()
    assert "llm-transform = llm_transform.cli:main" in text


# -- importing it: a fresh environment that sees this one's dependencies but not its llm_transform ----------

def _fresh_venv(where: Path) -> Path:
    """A venv without pip whose `sys.path` ends with this environment's site-packages: the dependencies
    (and pip, setuptools) come from there, offline; this environment's editable install of llm_transform
    does not, because the .pth files of a folder added that way are not run."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def _pip_install(python: Path, *args: str) -> None:
    proc = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                           "--no-build-isolation", "--ignore-installed", *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _run(python: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH")}
    return subprocess.run([str(python), *args], cwd=cwd, capture_output=True, text=True, env=env)


def _assert_api_works(python: Path, cwd: Path) -> str:
    proc = _run(python, ["-c", API_PROBE], cwd)
    assert proc.returncode == 0, proc.stderr[-2000:]
    where, name = proc.stdout.split()
    assert name == "FlashAttentionLayer"
    check = _run(python, ["-m", "llm_transform", "check", "examples/aster/flash_attention_layer.cpp"], cwd)
    assert check.returncode == 0, check.stderr[-2000:] + check.stdout
    return where


@pytest.mark.slow
def test_installed_wheel_imports_from_the_repository_root_and_elsewhere(wheel_path: Path, tmp_path: Path) -> None:
    python = _fresh_venv(tmp_path / "venv")
    _pip_install(python, str(wheel_path))
    # at the root the repository's llm_transform/ comes first on sys.path: it must work by itself
    assert Path(_assert_api_works(python, ROOT)).resolve() == (ROOT / "llm_transform" / "__init__.py").resolve()
    # elsewhere the installed copy answers, catalogue included
    outside = tmp_path / "elsewhere"
    shutil.copytree(ROOT / "examples", outside / "examples")
    assert str(tmp_path / "venv") in _assert_api_works(python, outside)


@pytest.mark.slow
def test_editable_install_imports_from_the_repository_root_and_elsewhere(tmp_path: Path) -> None:
    pytest.importorskip("setuptools", minversion="77")
    src = _copy_project(tmp_path / "src")
    shutil.copytree(ROOT / "examples", src / "examples")
    python = _fresh_venv(tmp_path / "venv")
    _pip_install(python, "-e", str(src))
    assert Path(_assert_api_works(python, src)).resolve() == (src / "llm_transform" / "__init__.py").resolve()
    outside = tmp_path / "elsewhere"
    shutil.copytree(ROOT / "examples", outside / "examples")
    assert Path(_assert_api_works(python, outside)).resolve() == (src / "llm_transform" / "__init__.py").resolve()


def test_repository_root_imports_with_nothing_installed(tmp_path: Path) -> None:
    """Only the dependencies installed: `python -c` at the root finds everything through llm_transform/."""
    python = _fresh_venv(tmp_path / "venv")
    _assert_api_works(python, ROOT)


def test_floors_resolve_to_the_repository_folders() -> None:
    """`llm_transform.graph` is the repository's `graph/` folder (one copy of the code, for editors and type
    checkers too), not a second copy."""
    for floor in ("source", "graph", "render"):
        link = ROOT / "llm_transform" / floor
        assert link.is_dir(), f"llm_transform/{floor} is missing"
        assert link.resolve() == (ROOT / floor).resolve()
