from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
LAYER_DIRS = sorted(d for d in (FIXTURES / "layers").iterdir() if (d / "expected_graph.json").is_file())
REFUSE_DIRS = sorted(d for d in (FIXTURES / "refuse").iterdir() if (d / "expected_refusal.json").is_file())
#: layers in the newer idioms (push_back, helpers, run-time ids, tensor-name strings): read, not yet rewritten
NEW_IDIOM_DIRS = sorted(d for d in (FIXTURES / "layers_new").iterdir() if (d / "expected_graph.json").is_file()) \
    if (FIXTURES / "layers_new").is_dir() else []


def layer_cpp(folder: Path) -> Path:
    cpps = sorted(folder.glob("*.cpp"))
    assert len(cpps) == 1, f"{folder} should hold exactly one .cpp"
    return cpps[0]


def expected(folder: Path, name: str = "expected_graph.json") -> dict:
    return json.loads((folder / name).read_text(encoding="utf-8"))


@pytest.fixture(params=LAYER_DIRS, ids=[d.name for d in LAYER_DIRS])
def layer_dir(request) -> Path:
    return request.param


# Property tests: a quick run by default, the full 2,000 examples in CI (`HYPOTHESIS_PROFILE=ci`).
import os  # noqa: E402

from hypothesis import settings  # noqa: E402

settings.register_profile("ci", max_examples=2000, derandomize=True)
settings.register_profile("dev", max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say in one line which system tools were missing, so skipped tests are never silent."""
    import shutil

    from tests import cxx

    missing = []
    why = cxx.available()
    if why is not None:
        missing.append(f"the compile tests were skipped: {why}")
    if shutil.which("dot") is None:
        missing.append("the picture tests that need Graphviz were skipped: dot is not installed "
                       "(Debian: apt-get install graphviz)")
    for line in missing:
        terminalreporter.write_line(line, yellow=True)
