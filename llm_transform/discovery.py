"""Which layer files a SOURCE argument names."""

from __future__ import annotations

import os
from pathlib import Path

from .source.errors import LayerError

CPP_SUFFIXES = (".cpp", ".cc", ".cxx")


def is_float_layer_name(path: Path) -> bool:
    stem = path.stem.lower()
    return "quant" not in stem and "w8a8" not in stem


def find_layers(source: Path, *, recursive: bool = False, float_only: bool = True) -> list[Path]:
    """The .cpp files of layer pairs under ``source`` (a file is returned as it is)."""
    if not source.exists():
        raise LayerError(source, None, "no such file or folder; check the path")
    if source.is_file():
        return [source]
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    for root, dirs, files in os.walk(source, followlinks=recursive):
        st = os.stat(root)
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs.sort()
        for f in sorted(files):
            p = Path(root) / f
            if p.suffix in CPP_SUFFIXES and (not float_only or is_float_layer_name(p)):
                found.append(p)
        if not recursive:
            break
    return found
