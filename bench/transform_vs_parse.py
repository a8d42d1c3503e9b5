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
from pathlib import Path

from clang import cindex

from llm_transform import LayerError, transform_file
from llm_transform.discovery import find_layers
from llm_transform.pipeline import STAGE_SECONDS
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path)
    ap.add_argument("--copies", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cpps = find_layers(args.folder, recursive=True) if args.folder is not None else _fixtures(Path(tmp),
                                                                                                   args.copies)
        index = cindex.Index.create()
        with_std = _time(lambda cpp: index.parse(str(cpp), args=["-x", "c++", "-std=c++17", "-I", str(cpp.parent)]),
                         cpps)
        float_floor = _time(lambda cpp: _bare_parse(index, cpp), cpps)
        counts = {"transformed": 0, "refused": 0}
        in_libclang = {"seconds": 0.0, "parses": 0}
        from_source = cindex.TranslationUnit.from_source.__func__

        def timed_from_source(cls, *a, **k):  # every libclang parse the tool makes goes through here
            t0 = time.perf_counter()
            try:
                return from_source(cls, *a, **k)
            finally:
                in_libclang["seconds"] += time.perf_counter() - t0
                in_libclang["parses"] += 1

        generated = []

        def run(cpp: Path) -> None:
            for sparse in (False, True):
                try:
                    generated.append(transform_file(cpp, sparse=sparse, write=False))
                    counts["transformed"] += 1
                except LayerError:
                    counts["refused"] += 1

        STAGE_SECONDS.clear()
        collect_garbage_less_often()  # as the command line does
        cindex.TranslationUnit.from_source = classmethod(timed_from_source)
        try:
            ours = _time(run, cpps)
        finally:
            cindex.TranslationUnit.from_source = classmethod(from_source)
        generated_floor = _time(lambda r: _bare_parse(index, r.target_cpp, _unsaved(r)), generated)
    floor = 2 * float_floor + generated_floor
    print(f"{len(cpps)} layer files, {counts['transformed']} transforms, {counts['refused']} refusals "
          "(both modes, verifier included)")
    print(f"transform / the parses it cannot avoid (the floor: each float layer per mode and each generated "
          f".cpp, without system headers): {ours / floor:.2f}x")
    print(f"transform / one bare parse of each float layer without system headers: {ours / float_floor:.2f}x")
    print(f"transform / one bare parse of each float layer with system headers:    {ours / with_std:.2f}x")
    print("where the time goes, in floors:")
    for stage, seconds in STAGE_SECONDS.most_common():
        print(f"  {stage:45s} {seconds / floor:6.2f}")
    print(f"  {'(inside libclang parse calls, all stages)':45s} {in_libclang['seconds'] / floor:6.2f}"
          f"  ({in_libclang['parses'] / len(cpps):.1f} parses per file)")


if __name__ == "__main__":
    main()
