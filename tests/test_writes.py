"""Writing targets: the file modes a plain `open()` would give, kept on regeneration; atomic pairs."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from llm_transform import transform_file
from tests.conftest import FIXTURES

FUSED = FIXTURES / "layers" / "full_fused_qkv_rope"


@pytest.fixture
def layer(tmp_path: Path) -> Path:
    shutil.copytree(FUSED, tmp_path / "l")
    return tmp_path / "l" / "flash_attention_layer.cpp"


@pytest.fixture
def umask():
    """Set the process umask for one test, and put the old one back."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002])
def test_new_targets_get_the_mode_open_gives(layer, umask, mask):
    umask(mask)
    r = transform_file(layer)
    assert r.written
    assert _mode(r.target_cpp) == 0o666 & ~mask
    assert _mode(r.target_h) == 0o666 & ~mask


def test_regenerated_targets_keep_their_mode(layer, umask):
    umask(0o022)
    r = transform_file(layer)
    r.target_cpp.chmod(0o640)
    r.target_h.chmod(0o664)
    layer.write_text(layer.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # the float layer changed
    again = transform_file(layer)
    assert again.written
    assert _mode(again.target_cpp) == 0o640 and _mode(again.target_h) == 0o664


def test_forced_targets_keep_their_mode(layer, umask):
    umask(0o022)
    r = transform_file(layer)
    r.target_cpp.write_text("// mine\n", encoding="utf-8")
    r.target_cpp.chmod(0o660)
    again = transform_file(layer, force=True)
    assert again.written and _mode(again.target_cpp) == 0o660
    assert not [p for p in layer.parent.iterdir() if p.name.endswith(".tmp")]


def test_an_exception_between_the_two_renames_leaves_neither_target(layer, monkeypatch):
    """Whatever stops the write after the first rename (here a KeyboardInterrupt), the first target is
    taken back and no temporary file stays."""
    import llm_transform.pipeline as pipeline

    real_replace = os.replace
    calls = []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_replace(src, dst)

    monkeypatch.setattr(pipeline.os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        transform_file(layer)
    assert not [p.name for p in layer.parent.iterdir() if "quant" in p.name or p.name.endswith(".tmp")]


def test_signals_wait_for_the_pair(layer, monkeypatch):
    """Ctrl-C and SIGTERM are held while the two targets are written, and delivered after."""
    import signal

    import llm_transform.pipeline as pipeline

    masks = []
    real_write = pipeline._write_both

    def write(pairs):
        masks.append(signal.pthread_sigmask(signal.SIG_BLOCK, set()))
        real_write(pairs)

    monkeypatch.setattr(pipeline, "_write_both", write)
    transform_file(layer)
    assert {signal.SIGINT, signal.SIGTERM} <= masks[0]
    assert signal.SIGINT not in signal.pthread_sigmask(signal.SIG_BLOCK, set())
