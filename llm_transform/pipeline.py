"""source -> source model -> graph -> passes -> edits -> files, for one layer pair."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import stat
import tempfile
import time
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import classify, provenance
from .api import checked_graph
from .graph.catalogue import catalogue
from .graph.layer_graph import IN_KINDS, LINEAR_ROLES, LayerGraph
from .graph.lint import lint
from .graph.passes import ChangeLog, Options, change_log
from .graph.plan import Followup
from .graph.rewrite import rewrite
from .render.spell import spell
from .source.errors import LayerError
from .source.model import LayerSource
from .source.reader import header_for, include_dirs_from_env, read_pair, read_sources, source_files
from .source.source_file import SourceFile
from .verify import verify

log = logging.getLogger(__name__)


@dataclass
class TransformResult:
    source_cpp: Path
    source_h: Path | None
    target_cpp: Path
    target_h: Path | None
    cpp_text: bytes
    h_text: bytes | None
    before: LayerGraph
    after: LayerGraph
    changes: ChangeLog
    tier: str
    renames: dict[str, str] = field(default_factory=dict)
    written: bool = False
    unchanged: bool = False
    #: targets that were not the tool's untouched output and that ``force`` replaced, with why
    replaced: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def notes(self) -> list[Followup]:
        """The follow-ups (kept under this name for the API's users)."""
        return self.changes.followups

    def __repr__(self) -> str:
        state = "written" if self.written else "unchanged" if self.unchanged else "not written"
        text = (f"<TransformResult {self.source_cpp.name} -> {self.target_cpp.name}: {len(self.after.changed_ops())} "
                f"ops changed, {len(self.after.added_tensors())} tensors added, {len(self.changes.skipped)} sites left "
                f"float, {state}>")
        return text if len(text) < 200 else text[:195] + "...>"

    def quantized(self) -> dict[str, Any]:
        """How many of the layer's linear sites (linears, parallel linears, MLPs; each branch variant on its
        own) the rewrite quantized, and in a sparse run how many of those it made sparse."""
        linears = list(self.before.linears())
        changed = set(self.after.changed_ops())
        done = [op for op in linears if op in changed]
        out: dict[str, Any] = {"linears": len(linears), "quantized": len(done),
                               "share": round(len(done) / len(linears), 3) if linears else 1.0}
        if self.after.meta.get("mode") == "sparse":
            dense = {s["node"] for s in self.changes.not_sparse}
            out["sparse"] = sum(op not in dense for op in done)
        return out

    @property
    def partial(self) -> bool:
        """Some linear sites were left float: the layer is only partly quantized."""
        q = self.quantized()
        return q["quantized"] < q["linears"]

    def report(self) -> dict[str, Any]:
        g = self.after
        inputs = [{"name": t, "role": g.graph.nodes[t].get("quant_role") or g.tensor_kind(t),
                   "added": bool(g.graph.nodes[t].get("added"))}
                  for t in g.tensors() if g.tensor_kind(t) in IN_KINDS]
        parses_json = bool(self.before.source is not None and self.before.source.json_reads)
        followups = self.changes.followups
        quantized = self.quantized()
        return {
            "file": str(self.source_cpp), "status": "transformed", "tier": self.tier,
            "targets": [str(p) for p in (self.target_cpp, self.target_h) if p],
            "changes": self.changes.changes, "skipped": self.changes.skipped,
            "not_sparse": self.changes.not_sparse, "quantized": quantized,
            "partial": quantized["quantized"] < quantized["linears"],
            "inputs": inputs,
            "scale_fields": [{"point": f.point, "label": f.label, "fields": [f.scale, f.offset],
                              "json_keys": [f.scale, f.offset] if parses_json else []}
                             for f in self.changes.scale_fields],
            "fallback_flags": [{"flag": f.name, "site": f.site, "point": f.point,
                                "json_key": f.name if parses_json else None} for f in self.changes.flag_fields],
            "renames": self.renames, "followups": [f.as_dict() for f in followups],
            "replaced": [{"file": str(p), "why": why} for p, why in self.replaced],
            "idioms": [i.what.split(":")[0] for i in self.before.source.layer.idioms] if self.before.source else [],
        }


def _tier(before: LayerGraph) -> str:
    """The candidate tier, from the catalogue's `tier` of each linear-like op: C (model-local types with
    a precedent) over B (V1 types to upgrade) over A (full precedent); any op without one makes it D."""
    cat = catalogue()
    tiers = set()
    for op in before.ops_with_role(*LINEAR_ROLES):
        entry = cat.entry(before.param_type(op))
        tiers.add((entry.tier or "D") if entry else "D")
    for t in ("C", "B", "D"):
        if t in tiers:
            return t
    return "A"


_FLOAT_LAYERS: OrderedDict[tuple, tuple[LayerSource, LayerGraph] | LayerError] = OrderedDict()
_FLOAT_LAYERS_KEPT = 8


def float_layer(cpp: Path, include_dirs: list[str] | None = None) -> tuple[LayerSource, LayerGraph]:
    """The float pair read, classified and checked, or the LayerError that refuses it.

    Both modes of a file start from the same float layer, so the last few are kept, keyed by their bytes:
    a run in both modes lexes and parses each float pair once, and the bytes read go to the lexer and to
    libclang. Nothing downstream changes them (the passes work on a copy of the graph)."""
    classify.check_name(cpp)
    h = header_for(cpp)
    data = _read(cpp, h)
    key = (str(cpp.resolve()), str(h), data, tuple(include_dirs_from_env(include_dirs)))
    if data is not None and key in _FLOAT_LAYERS:
        _FLOAT_LAYERS.move_to_end(key)
        found = _FLOAT_LAYERS[key]
        if isinstance(found, LayerError):
            raise LayerError(found.path, found.line, found.reason, kind=found.kind)
        return found
    try:
        found = _checked_float_layer(cpp, h, data, include_dirs)
    except LayerError as exc:
        if data is not None:  # kept without its frames, which would keep the whole reading alive
            _keep(key, LayerError(exc.path, exc.line, exc.reason, kind=exc.kind))
        raise
    if data is not None:
        _keep(key, found)
    return found


def _keep(key: tuple, found: tuple[LayerSource, LayerGraph] | LayerError) -> None:
    _FLOAT_LAYERS[key] = found
    while len(_FLOAT_LAYERS) > _FLOAT_LAYERS_KEPT:
        _FLOAT_LAYERS.popitem(last=False)


def clear_caches() -> None:
    """Forget every pair read so far (float layers, source models, the lexer's remembered lines): the state
    a fresh process starts in, for benchmarks that time several rounds in one process."""
    from .source import lexer

    _FLOAT_LAYERS.clear()
    _MODELS.clear()
    lexer.forget_lines()


def _read(cpp: Path, h: Path | None) -> tuple[bytes, bytes | None] | None:
    try:
        return cpp.read_bytes(), (h.read_bytes() if h else None)
    except OSError:
        return None  # read_pair says what is wrong


_MODELS: OrderedDict[tuple, LayerSource] = OrderedDict()


def read_model(cpp: Path, data: tuple[bytes, bytes | None] | None = None,
               sources: tuple[SourceFile, SourceFile | None] | None = None) -> LayerSource:
    """The pair's source model from its bytes, read once per process for the same bytes (the command line's
    checks of node names and the transform share it). ``sources``: those bytes already lexed."""
    h = header_for(cpp)
    data = data or _read(cpp, h)
    if data is None:
        return read_pair(cpp)  # says what is wrong
    key = _model_key(cpp, h, data)
    if key not in _MODELS:
        _MODELS[key] = read_sources(*sources) if sources is not None else read_pair(
            cpp, h, cpp_text=data[0], h_text=data[1])
        while len(_MODELS) > _FLOAT_LAYERS_KEPT:
            _MODELS.popitem(last=False)
    _MODELS.move_to_end(key)
    return _MODELS[key]


def _model_key(cpp: Path, h: Path | None, data: tuple[bytes, bytes | None]) -> tuple:
    return (str(cpp.resolve()), str(h), data)


def _checked_float_layer(cpp: Path, h: Path | None, data: tuple[bytes, bytes | None] | None,
                         include_dirs: list[str] | None) -> tuple[LayerSource, LayerGraph]:
    clock = _Stages(cpp)
    # the content rules read the lexed text alone: a pair they refuse (a quant-aware layer, read or not) is
    # not read further
    sources = None
    if data is not None:
        known = _MODELS.get(_model_key(cpp, h, data))
        try:
            sources = (known.cpp, known.h) if known else source_files(cpp, h, cpp_text=data[0], h_text=data[1])
        except LayerError:
            _classify_unread(cpp, h)
            raise
        classify.check_content(*sources)
        clock.done("classify")
    model = read_model(cpp, data, sources)  # the content rules have run on these bytes, or they are unreadable
    clock.done("read")
    classify.check_quant_aware(model)
    clock.done("classify")
    try:
        before = checked_graph(model, cpp, include_dirs=include_dirs)
    except LayerError:
        classify.check_operation(cpp, None)  # an operation that does not read into a graph: its name decides
        raise
    clock.done("graph (libclang, build, validate)")
    roles = {before.role(o) for o in before.ops()}
    classify.check_operation(cpp, roles)
    classify.check_quantized_ops(before)
    classify.check_embedding(cpp, roles)
    errors = before.errors()
    if errors:
        f = errors[0]
        raise LayerError(f.path, f.line, f"the float layer is inconsistent ({f.message}); fix it first "
                         "(see `llm-transform check`)")
    return model, before


def _classify_unread(cpp: Path, h: Path | None) -> None:
    """The content rules on a pair the reader could not read (a refusal says more than the reading error)."""
    try:
        src = SourceFile.read(cpp)
        hdr = SourceFile.read(h) if h is not None else None
    except LayerError:
        return  # not even readable as text: the reading error says why
    classify.check_content(src, hdr)


def _reads_input_beside_x(lg: LayerGraph, op: str) -> bool:
    """The op reads a layer input past its first slot, as an op multiplying by a weight does."""
    return any(lg.tensor_kind(t) in ("input", "weight") for t in lg.inputs_of(op)[1:])


def target_prefix(sparse: bool) -> str:
    return dict(catalogue().conventions.file_prefixes)["sparse" if sparse else "quant"]


def target_paths(cpp: Path, h: Path | None, out_dir: Path, sparse: bool) -> tuple[Path, Path | None]:
    """Where the rewrite of a pair goes: `quant_x.cpp/.h` (or `sparse_quant_...`) in ``out_dir``."""
    prefix = target_prefix(sparse)
    return out_dir / f"{prefix}_{cpp.name}", (out_dir / f"{prefix}_{h.name}" if h is not None else None)


#: seconds spent per stage since the process started: what ``bench/`` reports as shares of a run
STAGE_SECONDS: Counter[str] = Counter()


class _Stages:
    """Debug log of where a file's time goes, one line per stage (and the running totals above)."""

    def __init__(self, cpp: Path):
        self.cpp = cpp
        self.t = time.perf_counter()

    def done(self, stage: str) -> None:
        now = time.perf_counter()
        STAGE_SECONDS[stage] += now - self.t
        log.debug("%s: %s %.1f ms", self.cpp, stage, (now - self.t) * 1000)
        self.t = now


def transform_file(cpp_path: str | Path, *, sparse: bool = False, write: bool = True,
                   output_dir: str | Path | None = None, force: bool = False,
                   options: Options | None = None, keep_names: bool = False,
                   include_dirs: list[str] | None = None, header: bool = True) -> TransformResult:
    """Rewrite one float layer pair. Raises LayerError for refusals; writes nothing unless every check
    passes. ``header``: start each generated file with the provenance line (tool, version, source, digest)
    that lets a later run regenerate it safely."""
    cpp = Path(cpp_path)
    model, before = float_layer(cpp, include_dirs)
    clock = _Stages(cpp)
    opts = dataclasses.replace(options or Options(), sparse=sparse, keep_names=keep_names or
                               (options.keep_names if options else False),
                               headers_given=bool(include_dirs_from_env(include_dirs)))
    after, plan = rewrite(before, opts)
    changes = change_log(before, plan)
    clock.done("passes")
    _log_changes(cpp, before, after, changes)
    if not after.changed_ops():
        raise _no_site(cpp, before, changes)
    rendered = spell(model, before, plan)
    clock.done("render")
    out_dir = Path(output_dir) if output_dir else cpp.parent
    target_cpp, target_h = target_paths(cpp, model.h.path if model.h else None, out_dir, sparse)
    cpp_bytes = model.cpp.encode(rendered.cpp)
    h_bytes = model.h.encode(rendered.h) if model.h and rendered.h is not None else None
    introduced = [*(("tensor", t.name) for t in plan.tensors), *(("param field", f.name) for f in plan.fields),
                  *(("renamed", n) for n in rendered.renames.values()), *rendered.introduced]
    verify_pair(before, target_cpp, target_h, cpp_bytes, h_bytes, expected=after, introduced=introduced,
                renames=rendered.renames, include_dirs=include_dirs, clock=clock, beside_float=not opts.keep_names)
    if header:
        cpp_bytes = provenance.stamp(cpp_bytes, cpp.name)
        h_bytes = provenance.stamp(h_bytes, model.h.path.name) if h_bytes is not None and model.h else h_bytes
    result = TransformResult(cpp, model.h.path if model.h else None, target_cpp, target_h, cpp_bytes, h_bytes,
                             before, after, changes, _tier(before), rendered.renames)
    if write:
        write_pair(result, force=force, header=header)
        clock.done("write")
    return result


def rewrite_layer(cpp_path: str | Path, *, sparse: bool = False, options: Options | None = None,
                  include_dirs: list[str] | None = None) -> tuple[LayerGraph, LayerGraph, ChangeLog]:
    """The float layer's graph, its rewrite's graph and change log, without spelling or verifying any text
    (what a picture of the rewrite needs)."""
    cpp = Path(cpp_path)
    _, before = float_layer(cpp, include_dirs)
    opts = dataclasses.replace(options or Options(), sparse=sparse)
    after, plan = rewrite(before, opts)
    changes = change_log(before, plan)
    if not after.changed_ops():
        raise _no_site(cpp, before, changes)
    return before, after, changes


def _log_changes(cpp: Path, before: LayerGraph, after: LayerGraph, changes: ChangeLog) -> None:
    """Debug log: what the passes did to each op, and what the lint finds in their graph."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    for f in lint(after):
        log.debug("%s: lint after the passes: %s", cpp, f.message)
    for c in changes.changes:
        if c.get("removed"):
            log.debug("%s: %s: removed (%s)", cpp, c["node"], c.get("reason", ""))
            continue
        log.debug("%s: %s: %s -> %s; inputs %s; fields %s", cpp, c["node"], before.param_type(c["node"]),
                  c.get("type") or "same type", c.get("new_inputs"), c.get("fields"))
    for sk in changes.skipped:
        log.debug("%s: %s: left float: %s", cpp, sk["node"], sk["reason"])
    for sk in changes.not_sparse:
        log.debug("%s: %s: not sparse: %s", cpp, sk["node"], sk["reason"])


def _no_site(cpp: Path, before: LayerGraph, changes: ChangeLog) -> LayerError:
    unknown = [f"{op}: {before.param_type(op)} is not in the op catalogue (add it if it multiplies by a weight; "
               "see docs/catalogue.md)" for op in before.ops()
               if before.role(op) == "unknown" and before.param_type(op) and _reads_input_beside_x(before, op)]
    return LayerError(cpp, None, "no site to quantize: "
                      + "; ".join([*unknown, *(f"{s['node']}: {s['reason']}" for s in changes.skipped)][:3]))


def verify_pair(before: LayerGraph, target_cpp: Path, target_h: Path | None, cpp: bytes, h: bytes | None, *,
                expected: LayerGraph, introduced: list[tuple[str, str]], renames: dict[str, str],
                include_dirs: list[str] | None, clock: _Stages | None = None, beside_float: bool = True) -> None:
    """Refuse, before anything is written, a generated pair a careful reviewer would reject."""
    try:
        generated = read_pair(target_cpp, target_h, cpp_text=cpp, h_text=h)
    except LayerError as exc:
        raise LayerError(target_cpp, exc.line, f"verifier: the generated file does not read back ({exc.reason}); "
                         "nothing written; please report this layer") from None
    if clock:
        clock.done("verify: read back")
    _, rejections = verify(before, generated, expected=expected, introduced=introduced, renames=renames,
                           include_dirs=include_dirs_from_env(include_dirs),
                           clang=before.meta.get("clang") is not None, beside_float=beside_float)
    if clock:
        clock.done("verify: checks (libclang, graph, names)")
    if rejections:
        first = rejections[0]
        more = f" (and {len(rejections) - 1} more)" if len(rejections) > 1 else ""
        raise LayerError(first.path, first.line, f"verifier refused the output, nothing written: {first.message}"
                         f"{more}; please report this layer", kind="verifier")


def process_umask() -> int:
    """The umask, read without changing it where the system tells it (another thread may be creating
    files); else set and put back at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def target_mode(path: Path) -> int:
    """A regenerated target keeps its permission bits; a new one gets what a plain ``open()`` gives it."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~process_umask()


@dataclass
class WritePlan:
    """What writing a result would do, decided before anything is written (a dry run stops here)."""

    pairs: list[tuple[Path, bytes]]
    unchanged: bool  # every target already holds what would be written
    replaced: list[tuple[Path, str]]  # targets not the tool's untouched output that --force replaces, and why


def plan_write(result: TransformResult, *, force: bool, header: bool = True) -> WritePlan:
    """Which targets a write would replace; LayerError for what the write would refuse (a target that is
    not a regular file, one edited by hand without ``force``, a folder that cannot be written)."""
    pairs = [(result.target_cpp, result.cpp_text)]
    if result.target_h is not None and result.h_text is not None:
        pairs.append((result.target_h, result.h_text))
    if all(p.is_file() and p.read_bytes() == data for p, data in pairs):
        return WritePlan(pairs, True, [])
    for p, _data in pairs:
        if p.is_symlink() or (p.exists() and not p.is_file()):
            raise LayerError(p, None, "target exists and is not a regular file; remove it or use -o")
    replaced: list[tuple[Path, str]] = []
    for p, data in pairs:
        if not p.exists():
            continue
        old = p.read_bytes()
        if old == data:
            continue
        if not header:
            if force:
                replaced.append((p, "differs from what would be written"))
                continue
            raise LayerError(p, None, "target exists and differs from what would be written (edited by "
                             "hand?); use --force to overwrite")
        st = provenance.state(old)
        if st != "untouched":
            why = "edited by hand since it was generated" if st == "edited" else \
                "edited by hand since it was generated, or not generated by llm-transform (no header)"
            if force:
                replaced.append((p, why))
                continue
            raise LayerError(p, None, f"target {why}; kept as it is; use --force to overwrite it", kind="edited")
    for p, _data in pairs:
        folder = next(d for d in (p.parent, *p.parent.parents) if d.exists())
        if not os.access(folder, os.W_OK | os.X_OK):
            raise LayerError(p, None, f"cannot write here (Permission denied); check that the folder {p.parent} "
                             "exists and is writable; nothing was written", kind="write")
    return WritePlan(pairs, False, replaced)


def write_pair(result: TransformResult, *, force: bool, header: bool = True) -> None:
    """Write both targets or neither: temporary files in the target folder, then renames; a failure
    part-way restores what was there before and leaves no temporary file. An existing target is replaced
    when it is the tool's own untouched output (its header vouches for its text), or with ``force``
    (``result.replaced`` then names the targets that were not)."""
    plan = plan_write(result, force=force, header=header)
    if plan.unchanged:
        result.unchanged = True
        return
    with _signals_held():
        _write_both(plan.pairs)
    result.written = True
    result.replaced = plan.replaced


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C (and a plain kill) wait until both targets are in place: a pair is written whole or not at
    all, whoever calls this. Where signals cannot be held (not the main thread's mask to set), nothing
    changes."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _write_both(pairs: list[tuple[Path, bytes]]) -> None:
    temps: list[tuple[str, Path]] = []
    previous: dict[Path, bytes | None] = {}
    renamed: list[Path] = []
    try:
        for p, data in pairs:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
            temps.append((tmp, p))
            os.fchmod(fd, target_mode(p))  # mkstemp's 0600 would make the target private to its owner
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            previous[p] = p.read_bytes() if p.is_file() else None
        for tmp, p in temps:
            os.replace(tmp, p)
            renamed.append(p)
    except BaseException as exc:
        for p in renamed:  # undo: the pair must not be half-written
            old = previous.get(p)
            try:
                if old is None:
                    p.unlink()
                else:
                    p.write_bytes(old)
            except OSError:
                log.error("could not restore %s after a failed write", p)
        for tmp, _ in temps:
            if os.path.exists(tmp):
                os.unlink(tmp)
        if not isinstance(exc, OSError):
            raise
        # name the user's target, never the temporary file the failure happened on
        target = next((p for tmp, p in temps if exc.filename in (tmp, str(p))), pairs[0][0])
        raise LayerError(target, None, f"cannot write here ({exc.strerror}); check that the folder "
                         f"{target.parent} exists and is writable; nothing was written", kind="write") from None
