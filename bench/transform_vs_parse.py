"""Time the whole transform (both modes, verifier included) against a bare libclang parse of the same
files, in one process. Prints ratios, not seconds: machines differ, ratios travel.

    python bench/transform_vs_parse.py [FOLDER] [--copies N]

FOLDER: a tree of float layer pairs (default: the test fixtures, copied N times, default 5). The floor the
tool is held to is the parses it cannot avoid, without system headers (-nostdinc, the file's folder on -I):
one of each float layer per mode, plus one of each generated .cpp (the verifier's compiler check). The
parse with system headers is what a user calling libclang would see.

Then where the time goes, each stage in units of the floor: the pipeline's own stage clock, and the time
spent inside libclang's parse calls (already part of the stages that make them): at most one floor when
the float pair is parsed once per mode and each generated .cpp once.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from clang import cindex

from llm_transform import LayerError, transform_file
from llm_transform.discovery import find_layers
from llm_transform.pipeline import STAGE_SECONDS, clear_caches
from llm_transform.run import collect_garbage_less_often

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "layers"


def _time(fn, items) -> float:
    t0 = time.perf_counter()
    for item in items:
        fn(item)
    return time.perf_counter() - t0


def _bare_parse(index, cpp: Path, unsaved=None):
    return index.parse(str(cpp), args=["-x", "c++", "-std=c++17", "-nostdinc", "-nostdinc++", "-I", str(cpp.parent)],
                       unsaved_files=unsaved, options=0x200)


def _unsaved(result) -> list[tuple[str, bytes]]:
    """A generated pair as the verifier sees it: in memory, beside its float pair."""
    files = [(str(result.target_cpp), result.cpp_text)]
    if result.target_h is not None and result.h_text is not None:
        files.append((str(result.target_h), result.h_text))
    return files


def _fixtures(tmp: Path, copies: int) -> list[Path]:
    cpps: list[Path] = []
    for k in range(copies):
        for d in sorted(FIXTURES.iterdir()):
            if any(d.glob("*.cpp")):
                dst = tmp / f"{d.name}_{k}"
                shutil.copytree(d, dst)
                cpps.extend(dst.glob("*.cpp"))
    return cpps


class _LibclangClock:
    """Every libclang parse the tool makes goes through ``TranslationUnit.from_source``: time them."""

    def __init__(self) -> None:
        self.seconds, self.parses = 0.0, 0
        self._real = cindex.TranslationUnit.from_source.__func__

    def __enter__(self) -> _LibclangClock:
        real = self._real

        def timed(cls, *a, **k):
            t0 = time.perf_counter()
            try:
                return real(cls, *a, **k)
            finally:
                self.seconds += time.perf_counter() - t0
                self.parses += 1

        cindex.TranslationUnit.from_source = classmethod(timed)
        return self

    def __exit__(self, *_exc: object) -> None:
        cindex.TranslationUnit.from_source = classmethod(self._real)


def _tool_round(cpps: list[Path]) -> tuple[float, list, dict[str, int], Counter, _LibclangClock]:
    """One run of the tool in both modes over every file, from the state a fresh process starts in."""
    clear_caches()
    STAGE_SECONDS.clear()
    generated, counts = [], {"transformed": 0, "refused": 0}

    def run(cpp: Path) -> None:
        for sparse in (False, True):
            try:
                generated.append(transform_file(cpp, sparse=sparse, write=False))
                counts["transformed"] += 1
            except LayerError:
                counts["refused"] += 1

    with _LibclangClock() as clock:
        seconds = _time(run, cpps)
    return seconds, generated, counts, Counter(STAGE_SECONDS), clock


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path)
    ap.add_argument("--copies", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3, help="rounds of each measure, alternated; the fastest counts")
    args = ap.parse_args()
    collect_garbage_less_often()  # as the command line does
    with tempfile.TemporaryDirectory() as tmp:
        cpps = find_layers(args.folder, recursive=True) if args.folder is not None else _fixtures(Path(tmp),
                                                                                                   args.copies)
        index = cindex.Index.create()
        best: dict[str, float] = {}
        tool = None
        for _ in range(args.rounds):  # alternated, so that a slow spell of the machine hits every measure
            with_std = _time(lambda cpp: index.parse(str(cpp), args=["-x", "c++", "-std=c++17", "-I",
                                                                     str(cpp.parent)]), cpps)
            float_floor = _time(lambda cpp: _bare_parse(index, cpp), cpps)
            this = _tool_round(cpps)
            generated_floor = _time(lambda r: _bare_parse(index, r.target_cpp, _unsaved(r)), this[1])
            for key, value in (("with_std", with_std), ("float", float_floor), ("generated", generated_floor)):
                best[key] = min(best.get(key, value), value)
            if tool is None or this[0] < tool[0]:
                tool = this
    _report(cpps, tool, best, args.rounds)


def _report(cpps: list[Path], tool, best: dict[str, float], rounds: int) -> None:
    ours, _generated, counts, stages, clock = tool
    floor = 2 * best["float"] + best["generated"]
    print(f"{len(cpps)} layer files, {counts['transformed']} transforms, {counts['refused']} refusals "
          f"(both modes, verifier included); fastest of {rounds} alternated rounds of each measure")
    print(f"transform / the parses it cannot avoid (the floor: each float layer per mode and each generated "
          f".cpp, without system headers): {ours / floor:.2f}x")
    print(f"transform / one bare parse of each float layer without system headers: {ours / best['float']:.2f}x")
    print(f"transform / one bare parse of each float layer with system headers:    {ours / best['with_std']:.2f}x")
    print("where the time goes, in floors:")
    for stage, seconds in stages.most_common():
        print(f"  {stage:45s} {seconds / floor:6.2f}")
    print(f"  {'(inside libclang parse calls, all stages)':45s} {clock.seconds / floor:6.2f}"
          f"  ({clock.parses / len(cpps):.1f} parses per file)")


if __name__ == "__main__":
    main()
