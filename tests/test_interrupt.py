"""Ctrl-C on a tree run: exit 130, the summary of what was written so far (marked as interrupted), and no
half-written pair or temporary file left behind, with and without worker processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
CASES = ["full_fused_qkv_rope", "full_paged_attention", "v1_types", "json_hand_parse"]
COPIES = 60  # 240 layers: several seconds of work, so the interrupt lands in the middle


@pytest.fixture
def big_tree(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    for i in range(COPIES):
        for case in CASES:
            shutil.copytree(FIXTURES / "layers" / case, root / f"m{i:03d}" / case)
    return root


def _targets(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("quant_*") if p.suffix in (".cpp", ".h"))


def _interrupt(root: Path, *extra: str, group: bool) -> subprocess.CompletedProcess:
    """Start a tree run, wait until it has written something, then send SIGINT: to the whole process group,
    as a terminal's Ctrl-C does (worker processes get it too), or to the main process only."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "llm_transform", "transform", "-s", str(root), "--recursive",
                             *extra], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while not _targets(root) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    if group:
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _listed_targets(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    if "Transformed target files: [" not in lines:
        return []
    i = lines.index("Transformed target files: [")
    j = lines.index("]", i)
    return sorted(ln.strip() for ln in lines[i + 1:j])


@pytest.mark.parametrize(("extra", "group"), [(["-j", "1"], False), (["-j", "2"], True), (["-j", "2"], False)],
                         ids=["serial", "workers-ctrl-c", "workers-main-only"])
def test_interrupted_run_exits_130_lists_what_it_wrote_and_leaves_no_partial_pair(big_tree, extra, group):
    r = _interrupt(big_tree, *extra, group=group)
    assert r.returncode == 130, r.stderr[-2000:]
    assert "Traceback" not in r.stderr and "Aborted!" not in r.stderr + r.stdout
    on_disk = _targets(big_tree)
    total = len(CASES) * COPIES
    assert 0 < len(on_disk) < 2 * total
    # every pair complete: a .cpp target has its .h, and the other way round
    stems = {p.with_suffix("") for p in on_disk}
    assert all(s.with_suffix(".cpp").is_file() and s.with_suffix(".h").is_file() for s in stems)
    assert not [p for p in big_tree.rglob("*") if p.name.endswith(".tmp")]
    # the summary lists exactly what was written, and says the run was interrupted
    assert _listed_targets(r.stdout) == sorted(str(p) for p in on_disk)
    lines = r.stdout.splitlines()
    done = len(on_disk) // 2
    assert f"Interrupted: {done} of {total} files done; the others were not looked at" in lines
    assert lines[-1] == f"Totals: {done} transformed (0 unchanged, 0 partial), 0 not candidates, 0 failed, " \
                        "0 skipped by name"


def test_interrupted_json_run_says_so(big_tree):
    import json

    r = _interrupt(big_tree, "-j", "2", "--json", group=True)
    assert r.returncode == 130
    data = json.loads(r.stdout)
    assert data["interrupted"] is True
    assert len(data["files"]) == data["totals"]["transformed"] == len(_targets(big_tree)) // 2


def test_ctrl_c_before_the_files_exits_130_too(tmp_path, monkeypatch):
    """Ctrl-C while the tree is read (or anything before the files) is no failure of a file: 130, not 1."""
    from click.testing import CliRunner

    from llm_transform import discovery
    from llm_transform.cli import main

    def stop(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(discovery, "discover", stop)
    r = CliRunner().invoke(main, ["transform", "-s", str(tmp_path)])
    assert r.exit_code == 130 and "interrupted" in r.output and "Aborted" not in r.output
