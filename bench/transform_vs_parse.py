"""Time the whole transform (both modes, verifier included) against a bare libclang parse of the same
files, in one process. Prints ratios, not seconds: machines differ, ratios travel.

    python bench/transform_vs_parse.py [FOLDER] [--copies N]

FOLDER: a tree of float layer pairs (default: the test fixtures, copied N times, default 5). The floor the
tool is held to is the parse without system headers (-nostdinc, the file's folder on -I): that is what the
tool itself must parse. The parse with system headers is what a user calling libclang would see.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from clang import cindex

from llm_transform import LayerError, transform_file
from llm_transform.discovery import find_layers

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "layers"


def _time(fn, items) -> float:
    t0 = time.perf_counter()
    for item in items:
        fn(item)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path)
    ap.add_argument("--copies", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.folder is not None:
            cpps = find_layers(args.folder, recursive=True)
        else:
            cpps = []
            for k in range(args.copies):
                for d in sorted(FIXTURES.iterdir()):
                    if any(d.glob("*.cpp")):
                        dst = Path(tmp) / f"{d.name}_{k}"
                        shutil.copytree(d, dst)
                        cpps.extend(dst.glob("*.cpp"))
        index = cindex.Index.create()
        with_std = _time(lambda cpp: index.parse(str(cpp), args=["-x", "c++", "-std=c++17", "-I", str(cpp.parent)]),
                         cpps)
        floor = _time(lambda cpp: index.parse(str(cpp), args=["-x", "c++", "-std=c++17", "-nostdinc", "-nostdinc++",
                                                              "-I", str(cpp.parent)], options=0x200), cpps)
        counts = {"transformed": 0, "refused": 0}

        def run(cpp: Path) -> None:
            for sparse in (False, True):
                try:
                    transform_file(cpp, sparse=sparse, write=False)
                    counts["transformed"] += 1
                except LayerError:
                    counts["refused"] += 1

        ours = _time(run, cpps)
    print(f"{len(cpps)} layer files, {counts['transformed']} transforms, {counts['refused']} refusals "
          "(both modes, verifier included)")
    print(f"transform / bare libclang parse without system headers (the floor): {ours / floor:.2f}x")
    print(f"transform / bare libclang parse with system headers:                {ours / with_std:.2f}x")


if __name__ == "__main__":
    main()
