"""Time one layer through the command line (a whole process: ``transform -s X.cpp --dry-run``) against a
Python that only imports the libraries the tool stands on (networkx, clang.cindex, click). Prints the ratio
of CPU seconds (user + system of the child processes), best of N runs each, measured alternately in one run.

    python bench/cli_vs_imports.py [LAYER.cpp] [--runs N]

LAYER.cpp defaults to the example shipped in the repository.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "aster" / "flash_attention_layer.cpp"


# Python writes no byte-code cache when PYTHONDONTWRITEBYTECODE is set to any non-empty value, "0" included: a
# module edited since its last cache would then be compiled again on every run, which no installed copy does.
_WRITES_BYTECODE = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _cpu(cmd: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_WRITES_BYTECODE)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("layer", nargs="?", type=Path, default=EXAMPLE)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    tool = [sys.executable, "-m", "llm_transform", "transform", "-s", str(args.layer), "--dry-run"]
    bare = [sys.executable, "-c", "import networkx, clang.cindex, click"]
    _cpu(tool)  # warm the file cache and the byte-code caches once
    _cpu(bare)
    ours, floor = [], []
    for _ in range(args.runs):
        ours.append(_cpu(tool))
        floor.append(_cpu(bare))
    print(f"one layer through the command line ({args.layer.name}, --dry-run, a whole process) / a Python "
          f"importing networkx, clang.cindex and click: {min(ours) / min(floor):.2f}x "
          f"(best of {args.runs} each; median {sorted(ours)[len(ours) // 2] / sorted(floor)[len(floor) // 2]:.2f}x)")


if __name__ == "__main__":
    main()
