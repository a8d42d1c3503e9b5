"""Compile layer files with g++ against the ATB test stubs (tests/atb_stub), for the compile tests."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

STUBS = Path(__file__).parent / "atb_stub"
_PATH_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]*/[^"]*)"', re.M)


def nlohmann_include() -> Path | None:
    """The folder holding nlohmann/json.hpp: the `nlohmann-json` package of the test extra, else the system's."""
    try:
        import nlohmann_json
    except ImportError:
        pass
    else:
        inc = Path(nlohmann_json.__file__).parent / "include"
        if (inc / "nlohmann" / "json.hpp").is_file():
            return inc
    system = Path("/usr/include")
    return system if (system / "nlohmann" / "json.hpp").is_file() else None


def available() -> str | None:
    """None when g++ and nlohmann/json are here, else why not."""
    if shutil.which("g++") is None:
        return "g++ is not installed (Debian: apt-get install g++)"
    if nlohmann_include() is None:
        return "nlohmann/json is not installed (pip install nlohmann-json, part of the test extra)"
    return None


def include_args() -> list[str]:
    inc = nlohmann_include()
    return [f"-I{STUBS}"] + ([f"-I{inc}"] if inc is not None and inc != Path("/usr/include") else [])


def include_tree(cpp: Path, root: Path) -> list[str]:
    """Serve `#include "models/m/layer/x.h"` from a mirror tree when x.h sits next to the .cpp."""
    args: list[str] = []
    for inc in _PATH_INCLUDE.findall(cpp.read_text(encoding="utf-8-sig")):
        local = cpp.parent / Path(inc).name
        if local.is_file():
            dst = root / inc
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(local, dst)
            if f"-I{root}" not in args:
                args.append(f"-I{root}")
    return args


def compile_cpp(cpp: Path, *, tree_root: Path, objects: Path | None = None) -> tuple[bool, str]:
    """(ok, first error). With ``objects`` the file is compiled to an object file there."""
    args = ["g++", "-std=c++17", "-Wno-unused", *include_args(), f"-I{cpp.parent}",
            *include_tree(cpp, tree_root)]
    if objects is None:
        args += ["-fsyntax-only", str(cpp)]
    else:
        args += ["-c", "-fPIC", "-O0", "-o", str(objects / (cpp.stem + ".o")), str(cpp)]
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode == 0:
        return True, ""
    first = next((ln for ln in proc.stderr.splitlines() if "error" in ln), proc.stderr[:300])
    return False, first
