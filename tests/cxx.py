"""Compile layer files with g++ against the ATB test stubs (tests/atb_stub), for the compile tests.

Every compile starts from one precompiled header, built once per test process: nlohmann/json and the
common ATB stub headers are most of what each layer file makes g++ parse (about half its time).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
import threading
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


#: the flags every compile uses; a precompiled header is used only by compiles with the flags it was built with
BASE_FLAGS = ["-std=c++17", "-Wno-unused", "-fPIC", "-O0"]
#: what the precompiled header holds: headers nearly every layer includes, and nothing a layer defines itself
PRECOMPILED = ["cmath", "map", "memory", "string", "vector", "nlohmann/json.hpp", "atb/atb_infer.h",
               "atb_speed/log.h", "atb_speed/base/hosttensor_binder.h", "atb_speed/utils/str_split.h"]
_pch_lock = threading.Lock()
_pch: list[Path | None] = []  # built once: [path of the header beside its .gch], or [None] if it cannot be


def precompiled_header() -> Path | None:
    """The header to `-include` (its `.gch` beside it), built on first use; None when g++ cannot build
    it, and the compiles then parse everything themselves (slower, same results)."""
    with _pch_lock:
        if not _pch:
            _pch.append(_build_pch())
        return _pch[0]


def _build_pch() -> Path | None:
    if os.environ.get("LLM_TRANSFORM_NO_PCH"):
        return None
    folder = Path(tempfile.mkdtemp(prefix="llm-transform-pch-"))
    atexit.register(shutil.rmtree, folder, True)
    header = folder / "layer_prelude.h"
    header.write_text("".join(f"#include <{h}>\n" for h in PRECOMPILED), encoding="utf-8")
    proc = subprocess.run(["g++", *BASE_FLAGS, *include_args(), "-x", "c++-header", str(header), "-o",
                           str(header) + ".gch"], capture_output=True, text=True)
    return header if proc.returncode == 0 else None


def gxx(*args: str) -> list[str]:
    """A g++ command line with the flags, the precompiled header and the include folders of every compile."""
    pch = precompiled_header()
    return ["g++", *BASE_FLAGS, *(["-include", str(pch)] if pch else []), *include_args(), *args]


def compile_cpp(cpp: Path, *, tree_root: Path, objects: Path | None = None) -> tuple[bool, str]:
    """(ok, first error). With ``objects`` the file is compiled to an object file there."""
    args = gxx(f"-I{cpp.parent}", *include_tree(cpp, tree_root))
    if objects is None:
        args += ["-fsyntax-only", str(cpp)]
    else:
        args += ["-c", "-o", str(objects / (cpp.stem + ".o")), str(cpp)]
    proc = subprocess.run(args, capture_output=True, text=True)
    if proc.returncode == 0:
        return True, ""
    first = next((ln for ln in proc.stderr.splitlines() if "error" in ln), proc.stderr[:300])
    return False, first
