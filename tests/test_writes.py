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
