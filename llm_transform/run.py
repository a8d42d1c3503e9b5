"""A run over many layer files: one plain-data outcome per file, computed in a process pool when asked and
returned in input order, so that output, summary and JSON read the same however many workers ran."""

from __future__ import annotations

import difflib
import gc
import itertools
import logging
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Future

from .graph.passes import Options
from .source.errors import LayerError

log = logging.getLogger(__name__)

#: Refusal classes of files that are not rewrite candidates: saying so is a correct answer, not a failure.
NON_CANDIDATE = frozenset({"w8a8", "quant_named", "template", "sparse_branches", "plugin_ops", "quant_branches",
                           "quant_aware", "operation", "embedding"})


@dataclass(frozen=True)
class Job:
    cpp: Path
    out_dir: Path  # where the targets go (the source's folder, or its mirror under -o)
    sparse: bool = False
    write: bool = True
    force: bool = False
    header: bool = True
    options: Options = field(default_factory=Options)
    keep_names: bool = False
    include_dirs: tuple[str, ...] = ()
    diff: bool = False
    picture: Path | None = None


@dataclass(frozen=True)
class Outcome:
    """What became of one file; plain data, so it crosses a process boundary cheaply."""

    file: str
    status: str  # "transformed" | "unchanged" | "refused" | "failed" | "skipped"
    kind: str = ""  # refusal class, or what failed (error, verifier, edited, write, collision, internal)
    line: int | None = None
    reason: str = ""  # one line, without the path
    where: str = ""  # the file the reason is about, when it is not ``file`` (a target, a header)
    sources: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    report: dict[str, Any] | None = None
    diff: str = ""
    picture: str = ""  # the picture drawn for it
    picture_error: str = ""  # why its picture could not be drawn
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    @property
    def partial(self) -> bool:
        """Transformed with some linear sites left float."""
        return bool((self.report or {}).get("partial"))

    @property
    def failed_picture(self) -> bool:
        """A picture asked for and not drawn: a failure of the run, though the file itself was transformed."""
        return bool(self.picture_error)

    def one_line(self) -> str:
        path = self.where or self.file
        return f"{path}:{self.line}: {self.reason}" if self.line else f"{path}: {self.reason}"

    def as_dict(self) -> dict[str, Any]:
        if self.report is not None:
            out = dict(self.report)
            out["status"] = self.status
            if self.diff:
                out["diff"] = self.diff
            if self.picture:
                out["picture"] = self.picture
            if self.picture_error:
                out["picture_error"] = self.picture_error
            return out
        out = {"file": self.where or self.file, "status": self.status, "class": self.kind, "line": self.line,
               "reason": self.reason}
        if self.where and self.where != self.file:
            out["source"] = self.file
        return out


def refused(file: Path | str, exc: LayerError, seconds: float = 0.0) -> Outcome:
    status = "refused" if exc.kind in NON_CANDIDATE else "failed"
    where = exc.path if exc.path and exc.path != str(file) else ""
    return Outcome(str(file), status, exc.kind, exc.line, exc.reason, where, seconds=seconds)


def run_one(job: Job) -> Outcome:
    """Transform one file; every error becomes an outcome (a bug too: one line, and the run goes on)."""
    from .pipeline import plan_write, transform_file

    start = time.perf_counter()
    try:
        r = transform_file(job.cpp, sparse=job.sparse, write=job.write, output_dir=job.out_dir, force=job.force,
                           options=job.options, keep_names=job.keep_names, include_dirs=list(job.include_dirs),
                           header=job.header)
        if not job.write:  # a dry run refuses what the write would refuse, and says what it would replace
            plan = plan_write(r, force=job.force, header=job.header)
            r.unchanged, r.replaced = plan.unchanged, plan.replaced
    except LayerError as exc:
        return refused(job.cpp, exc, time.perf_counter() - start)
    except Exception as exc:  # a bug: say so in one line and carry on with the other files
        log.debug("internal error on %s", job.cpp, exc_info=True)
        return Outcome(str(job.cpp), "failed", "internal", None,
                       f"internal error ({type(exc).__name__}: {exc}); please report this file",
                       seconds=time.perf_counter() - start)
    picture_error = ""
    if job.picture is not None:
        picture_error = draw(r.after, job.picture) or ""
    picture = str(job.picture) if job.picture is not None and not picture_error else ""
    diff = _diff(r) if job.diff else ""
    status = "unchanged" if r.unchanged else "transformed"
    return Outcome(str(job.cpp), status, sources=tuple(str(p) for p in (r.source_cpp, r.source_h) if p),
                   targets=tuple(str(p) for p in (r.target_cpp, r.target_h) if p), report=r.report(), diff=diff,
                   picture=picture, picture_error=picture_error, seconds=time.perf_counter() - start)


def _diff(r) -> str:
    """The diff of each target against its source, from the text already read (no second read)."""
    parts = []
    model = r.before.source
    for src, text, new, tgt in ((r.source_cpp, model.cpp, r.cpp_text, r.target_cpp),
                                (r.source_h, model.h, r.h_text, r.target_h)):
        if src is None or text is None or new is None:
            continue
        old = text.text.splitlines(keepends=True)
        parts.extend(unified_diff(old, new.decode("utf-8-sig").splitlines(keepends=True), str(src), str(tgt)))
    return "".join(parts)


def unified_diff(a: list[str], b: list[str], fromfile: str, tofile: str, n: int = 3) -> Iterator[str]:
    """``difflib.unified_diff`` without its junk heuristic: in a layer file `{` and `}` lines are common
    enough to count as junk there, so an unchanged `{` between two renamed lines showed as removed and
    added again."""
    started = False
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(n):
        if not started:
            started = True
            yield f"--- {fromfile}\n+++ {tofile}\n"
        (_, i1, _, j1, _), (_, _, i2, _, j2) = group[0], group[-1]
        yield f"@@ -{_range(i1, i2)} +{_range(j1, j2)} @@\n"
        for tag, a1, a2, b1, b2 in group:
            if tag == "equal":
                yield from (" " + line for line in a[a1:a2])
                continue
            yield from ("-" + line for line in a[a1:a2])
            yield from ("+" + line for line in b[b1:b2])


def _range(start: int, stop: int) -> str:
    """A hunk's line range as unified diffs write it."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


def draw(lg, path: Path, before=None, *, collapse: frozenset[str] = frozenset()) -> str | None:
    """Write the picture; the one-line reason when it cannot be drawn."""
    from .render.picture import PictureError, side_by_side, to_dot, to_json_data, write_picture

    dot = side_by_side(before, lg, collapse=collapse) if before is not None else to_dot(lg, collapse=collapse)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_picture(dot, path, json_data=to_json_data(lg))
    except PictureError as exc:
        return str(exc).split(": ", 1)[-1]
    except OSError as exc:
        return f"cannot write the picture ({exc.strerror})"
    log.debug("drew %s", path)  # the caller announces it
    return None


def collect_garbage_less_often() -> None:
    """A batch run allocates millions of short-lived tuples and nodes and makes few reference cycles; at the
    default threshold the cycle collector keeps rescanning the float layers it keeps, about a tenth of the
    run. Set once per process by the command line (and its workers), not by the library."""
    gc.set_threshold(50_000, 20, 100)


def _worker_start() -> None:
    """Each worker process: fewer garbage collections, and Ctrl-C left to the main process, which lets the
    file in progress finish (a terminal sends Ctrl-C to every process of the run)."""
    collect_garbage_less_often()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Interrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C. ``outcomes``: the files finished (every one written is among them), in input
    order; ``total``: how many files the run had."""

    def __init__(self, outcomes: list[Outcome], total: int):
        super().__init__(f"interrupted after {len(outcomes)} of {total} files")
        self.outcomes = outcomes
        self.total = total


class _StopOnCtrlC:
    """While a run is on, Ctrl-C asks it to stop once the files in progress are done, instead of raising
    in the middle of one: no pair is left half-written and every file written is reported. Further
    Ctrl-Cs change nothing (the wait is a file or two per worker). Outside the main thread, where no
    handler can be set, Ctrl-C keeps its usual meaning."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> _StopOnCtrlC:
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:
            self._previous = None
        return self

    def _handle(self, _signum: int, _frame: Any) -> None:
        if not self.requested:
            self.requested = True
            log.warning("interrupted: finishing the files in progress, then stopping")

    def __exit__(self, *_exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def run_all(jobs: list[Job], *, workers: int = 1, on_done: Callable[[Outcome], None] | None = None
            ) -> list[Outcome]:
    """Every job's outcome, in the order of ``jobs``. With more than one worker the files are spread over a
    process pool (started here, after the imports, so each worker has the modules loaded already).
    Ctrl-C stops the run after the files in progress: ``Interrupted`` then carries the outcomes so far."""
    results: list[Outcome] = []
    with _StopOnCtrlC() as stop:
        for outcome in _outcomes(jobs, workers, stop):
            results.append(outcome)
            if on_done is not None:
                on_done(outcome)
    if stop.requested and len(results) < len(jobs):
        raise Interrupted(results, len(jobs))
    return results


def _outcomes(jobs: list[Job], workers: int, stop: _StopOnCtrlC) -> Iterator[Outcome]:
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            if stop.requested:
                return
            yield run_one(job)
        return
    # a few files per worker in flight, yielded in input order; on Ctrl-C the ones not started are
    # cancelled and the ones started are waited for
    pending = iter(jobs)
    from concurrent.futures import ProcessPoolExecutor  # a one-file run never needs it: loaded here

    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), initializer=_worker_start) as pool:
        flight: deque[Future[Outcome]] = deque(pool.submit(run_one, j) for j in itertools.islice(pending, 2 * workers))
        while flight:
            if stop.requested:
                for fut in flight:
                    fut.cancel()
                yield from (fut.result() for fut in flight if not fut.cancelled())
                return
            yield flight.popleft().result()
            job = next(pending, None)
            if job is not None:
                flight.append(pool.submit(run_one, job))


def mirrored_dir(source_root: Path, cpp: Path, output_dir: Path | None) -> Path:
    """Where a file's targets go: next to it, or under ``output_dir`` at the same place relative to the
    folder the run started from."""
    if output_dir is None:
        return cpp.parent
    if source_root.is_dir():
        return output_dir / cpp.parent.relative_to(source_root)
    return output_dir


def planned_targets(job: Job) -> list[Path]:
    from .pipeline import target_paths
    from .source.reader import header_for

    return [p for p in target_paths(job.cpp, header_for(job.cpp), job.out_dir, job.sparse) if p is not None]


def collisions(jobs: list[Job]) -> dict[int, Outcome]:
    """Jobs whose targets another job of the run would write too: each is refused, naming the other."""
    owner: dict[Path, int] = {}
    clash: dict[int, tuple[int, Path]] = {}
    for i, job in enumerate(jobs):
        for t in planned_targets(job):
            key = t.resolve()
            if key in owner and owner[key] != i:
                clash.setdefault(i, (owner[key], t))
                clash.setdefault(owner[key], (i, t))
            else:
                owner[key] = i
    return {i: Outcome(str(jobs[i].cpp), "failed", "collision", None,
                       f"{jobs[j].cpp} would write the same target {t}; give them different output folders")
            for i, (j, t) in clash.items()}
