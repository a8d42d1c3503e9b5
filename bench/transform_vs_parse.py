"""Time the whole transform (both modes, self-check included) against a bare libclang parse of the same
files, in one process. Prints ratios, not seconds: machines differ, ratios travel.

    python bench/transform_vs_parse.py [COPIES]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from clang import cindex

from llm_transform import LayerError, transform_file

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "layers"


def main() -> None:
    copies = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        cpps = []
        for k in range(copies):
            for d in sorted(FIXTURES.iterdir()):
                if not any(d.glob("*.cpp")):
                    continue
                dst = Path(tmp) / f"{d.name}_{k}"
                shutil.copytree(d, dst)
                cpps.extend(dst.glob("*.cpp"))
        index = cindex.Index.create()
        t0 = time.perf_counter()
        for cpp in cpps:  # what a user would call a bare parse: the file, its folder on the include path
            index.parse(str(cpp), args=["-x", "c++", "-std=c++17", "-I", str(cpp.parent)])
        bare_default = time.perf_counter() - t0
        t0 = time.perf_counter()
        for cpp in cpps:  # the same without the system C++ headers (what the tool's syntax check does)
            index.parse(str(cpp), args=["-x", "c++", "-std=c++17", "-nostdinc", "-nostdinc++", "-I", str(cpp.parent)],
                        options=0x200)
        bare_nostd = time.perf_counter() - t0
        t0 = time.perf_counter()
        done = refused = 0
        for cpp in cpps:
            for sparse in (False, True):
                try:
                    transform_file(cpp, sparse=sparse, write=False)
                    done += 1
                except LayerError:
                    refused += 1
        ours = time.perf_counter() - t0
    print(f"{len(cpps)} layer files, {done} transforms, {refused} refusals (both modes, self-check included)")
    print(f"transform / bare libclang parse (system headers):    {ours / bare_default:.2f}x")
    print(f"transform / bare libclang parse (-nostdinc, as ours): {ours / bare_nostd:.2f}x")


if __name__ == "__main__":
    main()
