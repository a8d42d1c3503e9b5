"""Which layer files a SOURCE argument names, which it skips by name, and which folders could not be read."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .source.errors import LayerError

CPP_SUFFIXES = (".cpp", ".cc", ".cxx")
HEADER_SUFFIXES = (".h", ".hpp", ".hh", ".hxx")
#: LayerError kind of a path argument that names nothing to work on: the command line's usage error
USAGE = "usage"


def layer_path(source: Path) -> Path:
    """What a path argument names: itself, or for a layer header the layer ``.cpp`` beside it (people
    reach for the file that declares the layer). LayerError of kind ``usage`` when it names nothing."""
    if not source.exists():
        raise LayerError(source, None, "no such file or folder; check the path", kind=USAGE)
    if source.is_file() and source.suffix in HEADER_SUFFIXES:
        for suffix in CPP_SUFFIXES:
            cpp = source.with_suffix(suffix)
            if cpp.is_file():
                return cpp
        raise LayerError(source, None, f"a header; no {source.stem}.cpp beside it: give the layer's .cpp (its "
                         "header comes along)", kind=USAGE)
    return source


def name_skip_reason(path: Path) -> str | None:
    """Why a file is not a float layer by its name alone (None: it may be one)."""
    stem = path.stem.lower()
    if "w8a8" in stem:
        return "name contains w8a8: already a W8A8 layer"
    if "quant" in stem:
        return "name contains quant: already a quantized layer (or one this tool wrote)"
    return None


@dataclass
class Found:
    layers: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (file, why) skipped by name
    unreadable: list[tuple[Path, str]] = field(default_factory=list)  # (folder, why)
    subfolders_with_layers: int = 0  # without --recursive: sub-folders that hold .cpp files


def discover(source: Path, *, recursive: bool = False, float_only: bool = True) -> Found:
    """The .cpp files of layer pairs under ``source`` (a file is returned as it is, a header as its .cpp)."""
    source = layer_path(source)
    found = Found()
    if source.is_file():
        found.layers.append(source)
        return found
    seen: set[tuple[int, int]] = set()

    def unreadable(err: OSError) -> None:
        found.unreadable.append((Path(err.filename or source), err.strerror or str(err)))

    for root, dirs, files in os.walk(source, followlinks=recursive, onerror=unreadable):
        st = os.stat(root)
        if (st.st_dev, st.st_ino) in seen:  # a symlink loop
            dirs[:] = []
            continue
        seen.add((st.st_dev, st.st_ino))
        dirs.sort()
        for f in sorted(files):
            p = Path(root) / f
            if p.suffix not in CPP_SUFFIXES:
                continue
            why = name_skip_reason(p) if float_only else None
            if why is None:
                found.layers.append(p)
            else:
                found.skipped.append((p, why))
        if not recursive:
            found.subfolders_with_layers = sum(1 for d in dirs if _has_cpp(Path(root) / d))
            break
    return found


def _has_cpp(folder: Path) -> bool:
    try:
        return any(p.suffix in CPP_SUFFIXES for p in folder.rglob("*"))
    except OSError:
        return False


def find_layers(source: Path, *, recursive: bool = False, float_only: bool = True) -> list[Path]:
    """The .cpp files of layer pairs under ``source`` (a file is returned as it is)."""
    return discover(source, recursive=recursive, float_only=float_only).layers
