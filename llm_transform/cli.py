"""The ``llm-transform`` command line. Heavy modules (libclang, networkx) load inside the commands."""

from __future__ import annotations

import functools
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import click

LEVELS = ["debug", "info", "warning", "error", "fatal", "critical"]
INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C (128 + SIGINT)
log = logging.getLogger("llm_transform")


def _setup_logging(level: str | None) -> None:
    """The level given after the subcommand, else the one given before it, else info."""
    if level is None:
        ctx = click.get_current_context(silent=True)
        level = (ctx.find_root().params.get("log_level") if ctx else None) or "info"
    lvl = {"fatal": logging.FATAL}.get(level.lower(), getattr(logging, level.upper()))
    logging.basicConfig(level=lvl, format="%(levelname)s: %(message)s", stream=sys.stderr, force=True)


def log_level_option(f):
    return click.option("-l", "--log-level", type=click.Choice(LEVELS, case_sensitive=False), default=None,
                        help="How much to log: debug, info (default), warning, error, fatal, critical.")(f)


_GROUP_OPTIONS_WITH_VALUE = ("-l", "--log-level")
_ARGS = "llm_transform.args"  # the command line as given, kept in the context for the usage-error handler


class _Main(click.Group):
    """Users of the tool this one replaces type ``llm-transform -s X``: that means ``transform -s X``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        args = list(args)
        i = 0
        while i < len(args):
            a = args[i]
            if a in self.commands or not a.startswith("-"):
                break
            if a in ("-s", "--source") or a.startswith("--source=") or (a.startswith("-s") and a[2:3] != "-"):
                args.insert(i, "transform")
                break
            i += 2 if a in _GROUP_OPTIONS_WITH_VALUE else 1
        ctx.meta[_ARGS] = args
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:  # an option of the program itself, before any command is chosen
            _json_usage_error_or_raise(ctx, exc)
            raise

    def invoke(self, ctx: click.Context):
        """Ctrl-C outside a tree run's files (reading the tree, starting up) exits 130 too, not click's 1. A
        command line mistake under --json is told in JSON, as the command's own output is."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(INTERRUPTED)
        except click.UsageError as exc:
            _json_usage_error_or_raise(ctx, exc)
            raise


def _json_usage_error_or_raise(ctx: click.Context, exc: click.UsageError) -> None:
    """Under --json, a command line mistake is printed as JSON in the command's shape, exit 2; otherwise
    return, and click shows its usage text."""
    args = ctx.meta.get(_ARGS, [])
    options = args[: args.index("--")] if "--" in args else args
    if "--json" not in options:
        return
    where = exc.ctx or ctx
    command = where.command.name if where.command is not ctx.command else ""
    message = f"{exc.format_message()} (see {where.command_path} --help)"
    _echo_json_error(command or "", message, None, against="--against" in options)
    sys.exit(2)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="llm-transform")
@log_level_option
def main(log_level: str | None) -> None:
    """Rewrite float ATB transformer layers into W8A8 / sparse-W8A8 layers.

    `llm-transform -s LAYER.cpp ...` is short for `llm-transform transform -s LAYER.cpp ...`.
    """
    from .run import collect_garbage_less_often

    collect_garbage_less_often()


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--recursive", is_flag=True, help="Descend into sub-folders.")
@click.option("--json", "as_json", is_flag=True, help="Print the summaries and findings as JSON.")
@click.option("-I", "include_dirs", multiple=True, type=click.Path(path_type=Path), help="Extra include folder.")
@click.option("--against", "float_cpp", type=click.Path(path_type=Path),
              help="Verify SOURCE, a generated layer .cpp, against this float layer .cpp, as transform does "
                   "before it writes.")
@log_level_option
def check(sources: tuple[Path, ...], recursive: bool, as_json: bool, include_dirs: tuple[Path, ...],
          float_cpp: Path | None, log_level: str | None) -> None:
    """Build the graph of each layer and report counts, roles and consistency findings."""
    _setup_logging(log_level)
    from .api import load_layer
    from .source.errors import LayerError

    if float_cpp is not None:
        if len(sources) != 1:
            raise click.UsageError("--against FLOAT.cpp takes exactly one generated .cpp")
        sys.exit(_check_against(_layer_or_exit(float_cpp, as_json), _layer_or_exit(sources[0], as_json),
                                [str(d) for d in include_dirs], as_json))

    found = {source: _discover_or_exit(source, recursive, as_json, float_only=False) for source in sources}
    reports = []
    failed = False
    for source in sources:
        for path, why in found[source].unreadable:
            reports.append({"file": str(path), "status": "error", "reason": f"{path}: cannot read this folder ({why})"})
            failed = True
        for cpp in found[source].layers:
            try:
                lg = load_layer(cpp, include_dirs=[str(d) for d in include_dirs])
            except LayerError as exc:
                reports.append({"file": str(cpp), "status": "error", "reason": exc.one_line()})
                failed = True
                continue
            errors = lg.errors()
            failed |= bool(errors)
            reports.append({"file": str(cpp), "status": "error" if errors else "ok", "layer": lg.name,
                            **lg.summary(), "findings": [f.as_dict() for f in lg.findings()]})
    if as_json:
        click.echo(json.dumps(reports, indent=2))
    else:
        for r in reports:
            if "reason" in r:
                click.echo(r["reason"])
                continue
            roles = ", ".join(f"{k} {v}" for k, v in sorted(r["ops_by_role"].items()))
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(r["tensors_by_kind"].items()))
            click.echo(f"{r['file']}: {r['layer']}: {r['ops']} ops ({roles}); {r['tensors']} tensors ({kinds})")
            for f in r["findings"]:
                where = f"{f['path']}:{f['line']}" if f["line"] else f["path"]
                click.echo(f"  {where}: {f['severity']}: {f['message']}")
    sys.exit(1 if failed else 0)


def _layer_or_exit(path: Path, as_json: bool) -> Path:
    """The layer a path argument names (a header's .cpp), or a usage error (exit 2)."""
    from .discovery import layer_path
    from .source.errors import LayerError

    try:
        return layer_path(path)
    except LayerError as exc:
        _fail_early(exc.one_line(), as_json, usage=True, path=path)
        raise  # not reached


def _discover_or_exit(source: Path, recursive: bool, as_json: bool, *, float_only: bool = True):
    """The files SOURCE names; a usage error (exit 2) when it names none: a missing path, a header without
    its .cpp, a folder without layers (with a hint when they are in its sub-folders)."""
    from .discovery import discover
    from .source.errors import LayerError

    try:
        found = discover(source, recursive=recursive, float_only=float_only)
    except LayerError as exc:
        _fail_early(exc.one_line(), as_json, usage=True, path=source)
    if not found.layers and not found.skipped and not found.unreadable:
        hint = (f"; it has {found.subfolders_with_layers} sub-folder(s) with .cpp files: add --recursive"
                if found.subfolders_with_layers else "; give a layer .cpp or its folder")
        _fail_early(f"{source}: no layer .cpp files here{hint}", as_json, usage=True, path=source)
    return found


def _check_against(float_cpp: Path, generated: Path, include_dirs: list[str], as_json: bool) -> int:
    from .source.errors import LayerError
    from .verify import check_against

    try:
        _, rejections = check_against(float_cpp, generated, include_dirs=include_dirs)
    except LayerError as exc:
        click.echo(json.dumps([{"kind": "error", "file": exc.path, "line": exc.line, "message": exc.reason}])
                   if as_json else exc.one_line())
        return 2 if exc.kind == "usage" else 1
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rejections], indent=2))
    else:
        for r in rejections:
            click.echo(f"{r.one_line()} [{r.kind}]")
        click.echo(f"{generated}: {len(rejections)} finding(s) against {float_cpp}" if rejections
                   else f"{generated}: verified against {float_cpp}, nothing to reject")
    return 1 if rejections else 0


def _scale_names(path: Path, node_names: Callable[[], set[str]]) -> dict[str, str]:
    """The --scale-names map, checked before anything runs: keys are quant points or node names of the
    layers given, values distinct C++ identifiers. Usage errors otherwise."""
    from .graph.passes import standard_labels
    from .verify import is_identifier

    try:
        names = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"{path}: cannot read a JSON object from it ({exc})") from None
    if not isinstance(names, dict):
        raise click.UsageError(f"{path}: must be a JSON object of quant point or node name -> field name base")
    points = set(standard_labels().values())
    for key, value in names.items():
        if not isinstance(value, str) or not is_identifier(value):
            raise click.UsageError(f"{path}: {key!r} maps to {value!r}, which is not a C++ identifier; give a name "
                                   "such as \"qkv\" (fields become <name>InputScale / <name>InputOffset)")
    seen: dict[str, str] = {}
    for key, value in names.items():
        if value in seen:
            raise click.UsageError(f"{path}: {seen[value]!r} and {key!r} both map to {value!r}; each quant point "
                                   "needs its own field names")
        seen[value] = key
    node_keys = {k: k.removesuffix("#down") for k in names if k not in points}
    if node_keys:
        nodes = node_names()
        unknown = sorted(k for k, node in node_keys.items() if node not in nodes)
        if unknown:
            raise click.UsageError(f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; keys are quant points "
                                   f"({', '.join(sorted(points))}) or node names of the layers given "
                                   "(add #down for an MLP's down projection)")
    return names


def _fallback_sites(text: str, node_names: Callable[[], set[str]]) -> tuple[str, ...]:
    """The --float-fallback sites, checked before anything runs: site names or node names of the layers given."""
    from .graph.fallback import SITES

    sites = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in sites if s not in (*SITES, "all") and s.removesuffix("#down") not in node_names()]
    if unknown:
        raise click.UsageError(f"--float-fallback: unknown site(s) {', '.join(map(repr, unknown))}; give "
                               f"{', '.join(SITES)}, all, or node names of the layers given")
    return sites


def _node_names(files: list[Path]) -> set[str]:
    from .pipeline import read_model
    from .source.errors import LayerError

    nodes: set[str] = set()
    for cpp in files:
        try:
            layer = read_model(cpp).layer
        except LayerError:
            continue  # the run reports that file on its own
        nodes.update(n.var for n in layer.nodes)
    return nodes


@main.command()
@click.option("-s", "--source", "source", required=True, type=click.Path(path_type=Path),
              help="A float layer .cpp (its .h comes along) or a folder of layer pairs.")
@click.option("--enable-sparse", is_flag=True, help="Write the sparse-W8A8 layer (sparse_quant_*) instead of W8A8.")
@click.option("-o", "--output-dir", type=click.Path(path_type=Path),
              help="Write the targets here, mirroring the source folder's tree, not next to the sources.")
@click.option("--recursive", is_flag=True, help="With a folder: descend into sub-folders.")
@click.option("--dry-run", is_flag=True, help="Do everything but write.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of each target against its source.")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON on stdout: one report per file and the totals.")
@click.option("--quiet", is_flag=True, help="Print only failures and the totals.")
@click.option("--strict", is_flag=True,
              help="Count files that are not rewrite candidates, and partly quantized layers, as failures (exit 1).")
@click.option("--force", is_flag=True, help="Overwrite targets edited by hand.")
@click.option("--no-header", is_flag=True,
              help="Write no provenance header line; then any differing target needs --force.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Files transformed at once (default: the number of cores).")
@click.option("--qkv-style", type=click.Choice(["linear", "linear-quant"]), default="linear", show_default=True,
              help="QKV linears: LinearParam + linearType INT8 (majority), or LinearQuantParam.")
@click.option("--beta", type=click.Choice(["shared", "per-norm"]), default=None,
              help="RmsNorm betas: one IN_BETA shared by every quantized norm, or one IN_<NORM>_BETA per norm "
                   "(default: as hand-written layers of the layer's family do, else shared).")
@click.option("--unpack-mlp/--keep-packed-mlp", default=True, show_default=True,
              help="Split a packed gate-up MLP weight into separate up and gate weights (isPack = false), as "
                   "hand-written quant layers do, or keep it packed.")
@click.option("--float-fallback", "float_fallback", default="", metavar="SITES",
              help="Add a layer param flag per quant point that keeps it float at run time (if (flag) {float} else "
                   "{quant}): qkv, dense, mlp, down, all, or node names, comma-separated.")
@click.option("--no-upgrade", is_flag=True, help="Keep V1 ParallelParam/MlpGateParam sites float instead of upgrading.")
@click.option("--no-telechat", is_flag=True, help="Keep telechat-local parallel/MLP types float.")
@click.option("--keep-names", is_flag=True, help="Do not rename the layer function, struct, binder, guard...")
@click.option("--scale-names", type=click.Path(exists=True, path_type=Path),
              help="JSON file mapping quant points (qkv, selfLn, dense, ffnOut, or a node name) to field name bases.")
@click.option("--graph", "graph_out", type=click.Path(path_type=Path),
              help="Draw the rewritten layer (.svg, .png, .pdf, .dot, .json); with a folder SOURCE, a folder "
                   "(mirrored like -o).")
@click.option("-I", "include_dirs", multiple=True, type=click.Path(path_type=Path), help="Extra include folder.")
@log_level_option
def transform(source: Path, enable_sparse: bool, output_dir: Path | None, recursive: bool, dry_run: bool,
              show_diff: bool, as_json: bool, quiet: bool, strict: bool, force: bool, no_header: bool,
              jobs: int | None, qkv_style: str, beta: str | None, unpack_mlp: bool, float_fallback: str,
              no_upgrade: bool, no_telechat: bool, keep_names: bool, scale_names: Path | None, graph_out: Path | None,
              include_dirs: tuple[Path, ...], log_level: str | None) -> None:
    """Write quant_<name>.cpp/.h (or sparse_quant_<name>.cpp/.h) for each float layer."""
    _setup_logging(log_level)
    import os

    from . import run
    from .graph.passes import Options

    found = _discover_or_exit(source, recursive, as_json)
    source = _layer_or_exit(source, as_json)
    many = len(found.layers) > 1 or source.is_dir()
    if graph_out is not None and not _picture_folder(graph_out, many):
        _picture_format_or_exit(graph_out, as_json)
    node_names = functools.cache(lambda: _node_names(found.layers))  # read only when a key or site needs it
    names = _scale_names(scale_names, node_names) if scale_names is not None else {}
    fallback = _fallback_sites(float_fallback, node_names)
    opts = Options(qkv_style=qkv_style, upgrade_v1=not no_upgrade, telechat=not no_telechat, scale_names=names,
                   beta=beta, unpack_mlp=unpack_mlp, float_fallback=fallback)
    job_list = [run.Job(cpp, run.mirrored_dir(source, cpp, output_dir), sparse=enable_sparse, write=not dry_run,
                        force=force, header=not no_header, options=opts, keep_names=keep_names,
                        include_dirs=tuple(str(d) for d in include_dirs), diff=show_diff,
                        picture=_picture_path(graph_out, source, cpp, enable_sparse, many) if graph_out else None)
                for cpp in found.layers]
    clashes = run.collisions(job_list)
    todo = [j for i, j in enumerate(job_list) if i not in clashes]
    workers = jobs or os.cpu_count() or 1
    log.debug("%d file(s), %d worker(s)", len(todo), workers)
    try:
        done = _run_with_progress(run, todo, workers, quiet or as_json)
        interrupted = None
    except run.Interrupted as stop:  # Ctrl-C: report the files finished, every one written among them
        done = stop.outcomes
        interrupted = f"Interrupted: {len(done)} of {stop.total} files done; the others were not looked at"
    by_file = {o.file: o for o in done}
    outcomes = [clashes[i] if i in clashes else by_file[str(j.cpp)] for i, j in enumerate(job_list)
                if i in clashes or str(j.cpp) in by_file]
    outcomes += [run.Outcome(str(p), "failed", "unreadable", None, f"cannot read this folder ({why}); its layers "
                             "were not looked at") for p, why in found.unreadable]
    outcomes += [run.Outcome(str(p), "skipped", "name", None, why) for p, why in found.skipped]
    failed = any(o.failed or o.failed_picture for o in outcomes) or \
        (strict and any(o.status == "refused" or o.partial for o in outcomes))
    if as_json:
        click.echo(json.dumps({"files": [o.as_dict() for o in outcomes], "totals": _totals(outcomes),
                               "dry_run": dry_run, "interrupted": interrupted is not None,
                               "not_done": len(todo) - len(done)}, indent=2))
    else:
        _print_summary(outcomes, dry_run=dry_run, quiet=quiet, show_diff=show_diff, strict=strict,
                       interrupted=interrupted)
    sys.exit(INTERRUPTED if interrupted else 1 if failed else 0)


def _fail_early(message: str, as_json: bool, *, usage: bool = False, path: Path | None = None) -> None:
    """One line (or JSON in the running command's shape) and the exit: 2 for a usage error, else 1."""
    if as_json:
        ctx = click.get_current_context()
        _echo_json_error(ctx.command.name or "", message, path, against=ctx.params.get("float_cpp") is not None)
    else:
        click.echo(message, err=True)
    sys.exit(2 if usage else 1)


def _echo_json_error(command: str, message: str, path: Path | None, *, against: bool) -> None:
    """An error before any file is looked at, shaped like the command's JSON output: ``check`` prints a list
    of per-file reports (with --against, a list of findings), ``transform`` an object with its files."""
    file = str(path) if path is not None else None
    if command == "check" and against:
        click.echo(json.dumps([{"kind": "error", "file": file, "line": None, "message": message}]))
    elif command == "check":
        click.echo(json.dumps([{"file": file, "status": "error", "reason": message}]))
    else:
        click.echo(json.dumps({"files": [], "error": message}))


class Estimate:
    """The time a run has left, once there is a basis for it: a few files done and a second gone since the
    first one finished. The first file carries the start-up (imports, worker processes), so the pace is
    taken from there on; an estimate from the first files alone is off by minutes."""

    FILES = 5
    SECONDS = 1.0

    def __init__(self, total: int, *, clock=None):
        import time

        self.total = total
        self.clock = clock or time.monotonic
        self.first: float | None = None

    def __call__(self, done: int) -> str:
        now = self.clock()
        if self.first is None:
            self.first = now
        if done < self.FILES or done >= self.total or now - self.first < self.SECONDS:
            return ""
        left = round((now - self.first) / (done - 1) * (self.total - done))
        return f"about {left // 60}m{left % 60:02d}s left" if left >= 60 else f"about {left}s left"


def _run_with_progress(run, jobs, workers: int, silent: bool):
    """The outcomes, with a progress bar on a terminal for runs of more than a few files: files done out
    of all, and an estimate of the time left once there is a basis for one."""
    if silent or len(jobs) <= 3 or not sys.stderr.isatty():
        return run.run_all(jobs, workers=workers)
    estimate = Estimate(len(jobs))
    with click.progressbar(length=len(jobs), label="Transforming", file=sys.stderr, show_eta=False,
                           show_percent=False, show_pos=True, item_show_func=lambda text: text) as bar:
        return run.run_all(jobs, workers=workers,
                           on_done=lambda _o: bar.update(1, current_item=estimate(bar.pos + 1)))


def _totals(outcomes) -> dict:
    by_class: dict[str, int] = {}
    for o in outcomes:
        if o.status == "refused":
            by_class[o.kind] = by_class.get(o.kind, 0) + 1
    return {"transformed": sum(o.status in ("transformed", "unchanged") for o in outcomes),
            "unchanged": sum(o.status == "unchanged" for o in outcomes),
            "partial": sum(o.partial for o in outcomes),
            "refused": by_class, "failed": sum(o.failed or o.failed_picture for o in outcomes),
            "failed_pictures": sum(o.failed_picture for o in outcomes),
            "skipped_by_name": sum(o.status == "skipped" for o in outcomes)}


def _print_summary(outcomes, *, dry_run: bool, quiet: bool, show_diff: bool, strict: bool = False,
                   interrupted: str | None = None) -> None:
    """The run in the order a reader needs it; ``quiet`` keeps what counts as a failure (with ``strict``,
    non-candidates and partial layers too) and the totals."""
    done = [o for o in outcomes if o.status in ("transformed", "unchanged")]
    if not quiet and done:
        _print_transformed(done, dry_run=dry_run, show_diff=show_diff)
    _print_per_file(outcomes, quiet=quiet, strict=strict)
    for o in done:
        if o.partial and (strict or not quiet):
            q = o.report["quantized"]
            click.echo(f"partial: {o.file}: {q['quantized']} of {q['linears']} linear sites quantized")
    if not quiet:
        _print_sites_and_followups(done, dry_run=dry_run)
    if interrupted:
        click.echo(interrupted)
    t = _totals(outcomes)
    refused = ", ".join(f"{k} {v}" for k, v in sorted(t["refused"].items()))
    pictures = f" ({t['failed_pictures']} picture{'s' if t['failed_pictures'] > 1 else ''})" \
        if t["failed_pictures"] else ""
    click.echo(f"Totals: {t['transformed']} transformed ({t['unchanged']} unchanged, {t['partial']} partial), "
               f"{sum(t['refused'].values())} not candidates{f' ({refused})' if refused else ''}, "
               f"{t['failed']} failed{pictures}, {t['skipped_by_name']} skipped by name")


def _print_transformed(done, *, dry_run: bool, show_diff: bool) -> None:
    if show_diff:
        for o in done:
            sys.stdout.write(o.diff)
    # the format of the tool this one replaces, one path a line, so scripts that read it keep working
    click.echo("Transformed source files: [")
    for o in done:
        for p in o.sources:
            click.echo(f"    {p}")
    click.echo("]")
    click.echo("Transformed target files: [" + (" (dry run, nothing written)" if dry_run else ""))
    for o in done:
        for p in o.targets:
            click.echo(f"    {p}")
    click.echo("]")


def _print_per_file(outcomes, *, quiet: bool, strict: bool) -> None:
    for o in outcomes:
        if o.failed:
            click.echo(f"failed: {o.one_line()}")
        elif (strict or not quiet) and o.status == "refused":
            click.echo(f"refused ({o.kind}): {o.one_line()}")
        elif not quiet and o.status == "skipped":
            click.echo(f"skipped: {o.file}: {o.reason}")
        if o.picture_error:
            click.echo(f"failed: picture for {o.file}: {o.picture_error}")
        elif not quiet and o.picture:
            click.echo(f"picture: {o.picture}")


def _print_sites_and_followups(done, *, dry_run: bool) -> None:
    for o in done:
        for r in (o.report or {}).get("replaced", []):
            click.echo(f"{'would replace' if dry_run else 'replaced'} (--force): {r['file']}: {r['why']}")
    for o in done:
        for s in (o.report or {}).get("skipped", []):
            click.echo(f"left float: {o.file}: {s['node']}: {s['reason']}")
    for o in done:
        for s in (o.report or {}).get("not_sparse", []):
            click.echo(f"not sparse: {o.file}: {s['node']}: {s['reason']}")
    groups: dict[str, list[tuple[str, str]]] = {}
    for o in done:
        for f in (o.report or {}).get("followups", []):
            groups.setdefault(f["kind"], []).append((o.file, f["detail"]))
    for kind, items in groups.items():
        click.echo(f"follow-up: {kind}:")
        for file, detail in items:
            click.echo(f"    {file}: {detail}" if detail else f"    {file}")


def _picture_path(graph_out: Path, source: Path, cpp: Path, sparse: bool, many: bool) -> Path:
    """The picture of one layer: GRAPH itself, or, for a folder or with GRAPH a folder, GRAPH mirroring the
    source tree like -o."""
    from .pipeline import target_paths
    from .run import mirrored_dir

    if _picture_folder(graph_out, many):
        target_cpp, _ = target_paths(cpp, None, mirrored_dir(source, cpp, graph_out), sparse)
        return target_cpp.with_suffix(".svg")
    return graph_out


def _picture_folder(graph_out: Path, many: bool) -> bool:
    """GRAPH names a folder of pictures (one per layer) rather than one picture."""
    return many or graph_out.is_dir() or str(graph_out).endswith(("/", "\\"))


def _picture_format_or_exit(path: Path, as_json: bool) -> None:
    """A picture format the tool cannot draw is a usage error, told before any layer is read."""
    from .render.picture import format_problem

    problem = format_problem(path)
    if problem:
        _fail_early(problem, as_json, usage=True, path=path)


@main.command("graph")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Picture to write: .svg, .png, .pdf, .dot or .json.")
@click.option("--quant", is_flag=True, help="Draw the W8A8 rewrite.")
@click.option("--sparse", is_flag=True, help="Draw the sparse-W8A8 rewrite.")
@click.option("--before-after", is_flag=True, help="Draw the float layer and the rewrite side by side.")
@click.option("--collapse", default="", metavar="BLOCKS",
              help="Draw these blocks as one node each: attention, mlp, or attention,mlp.")
@click.option("-I", "include_dirs", multiple=True, type=click.Path(path_type=Path), help="Extra include folder.")
@log_level_option
def graph_command(source: Path, output: Path, quant: bool, sparse: bool, before_after: bool, collapse: str,
                  include_dirs: tuple[Path, ...], log_level: str | None) -> None:
    """Draw a layer's dataflow graph: the float layer, or its rewrite with what changed highlighted."""
    _setup_logging(log_level)
    from .source.errors import LayerError

    if quant and sparse:
        raise click.UsageError("--quant and --sparse draw different rewrites; give one of them")
    mode = "sparse" if sparse else "quant" if quant else None
    _picture_format_or_exit(output, False)
    blocks = {b.strip() for b in collapse.split(",") if b.strip()}
    unknown = blocks - {"attention", "mlp", "block"}
    if unknown:
        raise click.UsageError(f"--collapse takes attention, mlp or block, not {', '.join(sorted(unknown))}")
    source = _layer_or_exit(source, False)
    dirs = [str(d) for d in include_dirs]
    try:
        if mode is None and not before_after:
            from .api import load_layer

            lg, before = load_layer(source, include_dirs=dirs), None
        else:
            from .pipeline import rewrite_layer

            float_graph, lg, _ = rewrite_layer(source, sparse=mode == "sparse", include_dirs=dirs)
            before = float_graph if before_after else None
    except LayerError as exc:
        click.echo(exc.one_line(), err=True)
        sys.exit(1)
    from .run import draw

    err = draw(lg, output, before, collapse=frozenset(blocks))
    if err:
        click.echo(f"{output}: {err}", err=True)
        sys.exit(1)
    click.echo(f"Graph written: {output}")


if __name__ == "__main__":  # pragma: no cover
    main()
