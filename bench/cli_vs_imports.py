"""Time one layer through the command line (a whole process: ``transform -s X.cpp --dry-run``) against a
Python that only imports the libraries the tool stands on (networkx, clang.cindex, click). Prints the ratio
of CPU seconds (user + system of the child processes), best of N runs each, measured alternately in one run.
Then what the tool adds to that floor, step by step in one process: importing its own modules (and how much
of that is Python creating their dataclasses), reading the catalogue and loading libclang, and the layer
itself, the first time and again.

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
    _where_it_goes(args.layer, min(floor), args.runs)


# One process that does what the command does, in steps, stamping each: what the tool adds to the floor.
_STEPS = r"""
import dataclasses, sys, time
stamps = [time.process_time()]
import networkx, clang.cindex, click
stamps.append(time.process_time())
made = [0.0]
real = dataclasses._process_class
def timed(*a, **k):
    t = time.process_time()
    try:
        return real(*a, **k)
    finally:
        made[0] += time.process_time() - t
dataclasses._process_class = timed
import llm_transform.cli, llm_transform.pipeline, llm_transform.run
stamps.append(time.process_time())
from llm_transform.graph.catalogue import catalogue
from llm_transform.source.vocabulary import vocabulary
catalogue(); vocabulary(); clang.cindex.Index.create()
stamps.append(time.process_time())
from llm_transform.cli import main
for _ in range(2):
    try:
        main(["transform", "-s", sys.argv[1], "--dry-run", "--quiet"], standalone_mode=False)
    except SystemExit:
        pass
    stamps.append(time.process_time())
print(*[b - a for a, b in zip(stamps, stamps[1:])], made[0], file=sys.stderr)
"""


def _where_it_goes(layer: Path, floor: float, runs: int) -> None:
    """The tool's extra time over the floor, in steps, each the best of the runs, as a share of the floor."""
    best: list[float] = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _STEPS, str(layer)], check=True, capture_output=True,
                             text=True, env=_WRITES_BYTECODE).stderr.split()
        best = [min(a, float(b)) for a, b in zip(best, out, strict=True)] if best else [float(b) for b in out]
    _libs, imports, setup, first, again, dataclasses = best
    print("what the tool adds, in floors (best of each step in one process; the floor also starts Python):")
    for what, seconds in (("importing the tool's own modules", imports),
                          ("  of which creating its dataclasses", dataclasses),
                          ("reading the op catalogue, loading libclang", setup),
                          ("the layer: read, rewrite, spell, verify (two libclang parses)", first),
                          ("  the same layer again (the process keeps its float pair read)", again)):
        print(f"  {what:64s} {seconds / floor:5.2f}")


if __name__ == "__main__":
    main()
