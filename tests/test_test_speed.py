"""The test suite's own speed: compiles share one precompiled header, and the slowest tests carry the
`slow` marker, left out by the README's quick run and run by CI."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import cxx
from tests.conftest import FIXTURES, layer_cpp

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(cxx.available() is not None, reason=str(cxx.available()))
def test_one_precompiled_header_serves_every_compile_with_the_same_results(tmp_path, monkeypatch):
    pch = cxx.precompiled_header()
    assert pch is not None and Path(str(pch) + ".gch").is_file()
    assert cxx.precompiled_header() == pch  # built once
    assert "nlohmann/json.hpp" in pch.read_text()
    good = layer_cpp(FIXTURES / "layers" / "full_fused_qkv_rope")
    bad = tmp_path / "bad" / "zeta_layer.cpp"
    shutil.copytree(good.parent, bad.parent)
    good_text = good.read_text(encoding="utf-8")
    bad.write_text(good_text.replace("return atb::NO_ERROR;", "return atb::NO_ERRORS;"), encoding="utf-8")
    with_pch = [cxx.compile_cpp(c, tree_root=tmp_path / f"t{i}") for i, c in enumerate((good, bad))]
    monkeypatch.setattr(cxx, "_pch", [None])  # every compile parses every header itself
    without = [cxx.compile_cpp(c, tree_root=tmp_path / f"u{i}") for i, c in enumerate((good, bad))]
    assert [ok for ok, _ in with_pch] == [ok for ok, _ in without] == [True, False]
    assert "NO_ERRORS" in with_pch[1][1]


def test_slow_tests_are_marked_left_out_by_the_quick_run_and_run_by_ci():
    quick = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                            "-m", "not slow", "tests/test_compile.py"], cwd=ROOT, capture_output=True, text=True)
    assert re.search(r"\b0 selected\b|no tests collected|deselected", quick.stdout), quick.stdout[-500:]
    assert not re.search(r"^tests/test_compile.py::", quick.stdout, re.M)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    pytest_line = next(ln for ln in ci.splitlines() if "-m pytest" in ln)
    assert " -m " not in pytest_line.split("-m pytest", 1)[1]  # CI selects nothing out
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "-m 'not slow'" in readme and "minutes" in readme
