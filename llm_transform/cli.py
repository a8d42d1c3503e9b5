"""The ``llm-transform`` command line. Heavy modules (libclang, networkx) load inside the commands."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

LEVELS = ["debug", "info", "warning", "error", "fatal", "critical"]
log = logging.getLogger("llm_transform")


def _setup_logging(level: str) -> None:
    lvl = {"fatal": logging.FATAL}.get(level, getattr(logging, level.upper()))
    logging.basicConfig(level=lvl, format="%(levelname)s: %(message)s", stream=sys.stderr, force=True)


def log_level_option(f):
    return click.option("-l", "--log-level", type=click.Choice(LEVELS, case_sensitive=False), default="info",
                        show_default=True, help="How much to log.")(f)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="llm-transform")
def main() -> None:
    """Rewrite float ATB transformer layers into W8A8 / sparse-W8A8 layers."""


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
          float_cpp: Path | None, log_level: str) -> None:
    """Build the graph of each layer and report counts, roles and consistency findings."""
    _setup_logging(log_level)
    from .api import load_layer
    from .discovery import find_layers
    from .source.errors import LayerError

    if float_cpp is not None:
        if len(sources) != 1:
            raise click.UsageError("--against FLOAT.cpp takes exactly one generated .cpp")
        sys.exit(_check_against(float_cpp, sources[0], [str(d) for d in include_dirs], as_json))

    reports = []
    failed = False
    for source in sources:
        try:
            files = find_layers(source, recursive=recursive, float_only=False)
        except LayerError as exc:
            reports.append({"file": str(source), "status": "error", "reason": exc.one_line()})
            failed = True
            continue
        if not files:
            reports.append({"file": str(source), "status": "error",
                            "reason": f"{source}: no layer .cpp files here; give a layer .cpp or its folder"})
            failed = True
        for cpp in files:
            try:
                lg = load_layer(cpp, include_dirs=[str(d) for d in include_dirs])
            except LayerError as exc:
                reports.append({"file": str(cpp), "status": "error", "reason": exc.one_line()})
                failed = True
                continue
            errors = lg.errors()
            failed |= bool(errors)
            reports.append({"file": str(cpp), "status": "error" if errors else "ok", "layer": lg.name,
                            **lg.summary(), "findings": [f.as_dict() for f in lg.findings]})
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


def _check_against(float_cpp: Path, generated: Path, include_dirs: list[str], as_json: bool) -> int:
    from .source.errors import LayerError
    from .verify import check_against

    try:
        _, rejections = check_against(float_cpp, generated, include_dirs=include_dirs)
    except LayerError as exc:
        click.echo(json.dumps([{"kind": "error", "file": exc.path, "line": exc.line, "message": exc.reason}])
                   if as_json else exc.one_line())
        return 1
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in rejections], indent=2))
    else:
        for r in rejections:
            click.echo(f"{r.one_line()} [{r.kind}]")
        click.echo(f"{generated}: {len(rejections)} finding(s) against {float_cpp}" if rejections
                   else f"{generated}: verified against {float_cpp}, nothing to reject")
    return 1 if rejections else 0


def _scale_names(path: Path, files: list[Path]) -> dict[str, str]:
    """The --scale-names map, checked before anything runs: keys are quant points or node names of the
    layers given, values distinct C++ identifiers. Usage errors otherwise."""
    from .graph.passes import STANDARD_LABELS
    from .source.errors import LayerError
    from .source.reader import read_pair
    from .verify import is_identifier

    try:
        names = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"{path}: cannot read a JSON object from it ({exc})") from None
    if not isinstance(names, dict):
        raise click.UsageError(f"{path}: must be a JSON object of quant point or node name -> field name base")
    points = set(STANDARD_LABELS.values())
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
        nodes: set[str] = set()
        for cpp in files:
            try:
                layer = read_pair(cpp).layer
            except LayerError:
                continue  # the run reports that file on its own
            nodes.update(n.var for n in layer.nodes)
        unknown = sorted(k for k, node in node_keys.items() if node not in nodes)
        if unknown:
            raise click.UsageError(f"{path}: unknown key(s) {', '.join(map(repr, unknown))}; keys are quant points "
                                   f"({', '.join(sorted(points))}) or node names of the layers given "
                                   "(add #down for an MLP's down projection)")
    return names


@main.command()
@click.option("-s", "--source", "source", required=True, type=click.Path(path_type=Path),
              help="A float layer .cpp (its .h comes along) or a folder of layer pairs.")
@click.option("--enable-sparse", is_flag=True, help="Write the sparse-W8A8 layer (sparse_quant_*) instead of W8A8.")
@click.option("-o", "--output-dir", type=click.Path(path_type=Path),
              help="Write the targets here, not next to the source.")
@click.option("--recursive", is_flag=True, help="With a folder: descend into sub-folders.")
@click.option("--dry-run", is_flag=True, help="Do everything but write.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff of each target against its source.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report per file.")
@click.option("--force", is_flag=True, help="Overwrite targets that differ from what would be written.")
@click.option("--qkv-style", type=click.Choice(["linear", "linear-quant"]), default="linear", show_default=True,
              help="QKV linears: LinearParam + linearType INT8 (majority), or LinearQuantParam.")
@click.option("--beta", type=click.Choice(["shared", "per-norm"]), default="shared", show_default=True,
              help="RmsNorm betas: one IN_BETA shared by every quantized norm, or one IN_<NORM>_BETA per norm.")
@click.option("--unpack-mlp", is_flag=True,
              help="Split a packed gate-up MLP weight into separate up and gate weights (isPack = false).")
@click.option("--no-upgrade", is_flag=True, help="Keep V1 ParallelParam/MlpGateParam sites float instead of upgrading.")
@click.option("--no-telechat", is_flag=True, help="Keep telechat-local parallel/MLP types float.")
@click.option("--keep-names", is_flag=True, help="Do not rename the layer function, struct, binder, guard...")
@click.option("--scale-names", type=click.Path(exists=True, path_type=Path),
              help="JSON file mapping quant points (qkv, selfLn, dense, ffnOut, or a node name) to field name bases.")
@click.option("--graph", "graph_out", type=click.Path(path_type=Path),
              help="Draw the rewritten layer (.svg, .png, .pdf, .dot, .json); with a folder SOURCE, a folder.")
@click.option("-I", "include_dirs", multiple=True, type=click.Path(path_type=Path), help="Extra include folder.")
@log_level_option
def transform(source: Path, enable_sparse: bool, output_dir: Path | None, recursive: bool, dry_run: bool,
              show_diff: bool, as_json: bool, force: bool, qkv_style: str, beta: str, unpack_mlp: bool,
              no_upgrade: bool,
              no_telechat: bool, keep_names: bool, scale_names: Path | None, graph_out: Path | None,
              include_dirs: tuple[Path, ...], log_level: str) -> None:
    """Write quant_<name>.cpp/.h (or sparse_quant_<name>.cpp/.h) for each float layer."""
    _setup_logging(log_level)
    import difflib

    from .discovery import find_layers
    from .graph.passes import Options
    from .pipeline import transform_file
    from .source.errors import LayerError

    try:
        files = find_layers(source, recursive=recursive)
    except LayerError as exc:
        click.echo(exc.one_line(), err=True)
        sys.exit(1)
    names = _scale_names(scale_names, files) if scale_names is not None else {}
    if not files:
        click.echo(f"{source}: no float layer .cpp files here (names containing quant or w8a8 are skipped); "
                   "give a layer .cpp or its folder", err=True)
        sys.exit(1)
    sources_done, targets, refused, reports = [], [], [], []
    for cpp in files:
        opts = Options(qkv_style=qkv_style, upgrade_v1=not no_upgrade, telechat=not no_telechat,
                       scale_names=names, beta=beta, unpack_mlp=unpack_mlp)
        try:
            r = transform_file(cpp, sparse=enable_sparse, write=not dry_run, output_dir=output_dir, force=force,
                               options=opts, keep_names=keep_names, include_dirs=[str(d) for d in include_dirs])
        except LayerError as exc:
            refused.append(exc)
            reports.append({"file": str(cpp), "status": "refused", "class": exc.kind, "reason": exc.one_line()})
            continue
        except Exception as exc:  # a bug: report it as one line and go on with the other files
            log.debug("internal error", exc_info=True)
            err = LayerError(cpp, None, f"internal error ({type(exc).__name__}: {exc}); please report this file")
            refused.append(err)
            reports.append({"file": str(cpp), "status": "failed", "reason": err.one_line()})
            continue
        if graph_out is not None:
            picture = _picture_path(graph_out, r.target_cpp, many=len(files) > 1 or source.is_dir())
            err = _draw(r.after, picture)
            if err:
                refused.append(LayerError(picture, None, err))
        sources_done += [str(p) for p in (r.source_cpp, r.source_h) if p]
        targets += [str(p) for p in (r.target_cpp, r.target_h) if p]
        reports.append(r.report())
        if show_diff:
            for src_path, new in ((r.source_cpp, r.cpp_text), (r.source_h, r.h_text)):
                if src_path is None or new is None:
                    continue
                old = src_path.read_bytes().decode("utf-8-sig").splitlines(keepends=True)
                tgt = str(r.target_cpp if src_path == r.source_cpp else r.target_h)
                sys.stdout.writelines(difflib.unified_diff(old, new.decode("utf-8-sig").splitlines(keepends=True),
                                                           str(src_path), tgt))
    if as_json:
        click.echo(json.dumps(reports, indent=2))
    else:
        click.echo(f"Transformed source files: {sources_done}")
        click.echo(f"Transformed target files: {targets}" + (" (dry run, nothing written)" if dry_run else ""))
        for exc in refused:
            click.echo(f"refused: {exc.one_line()}")
        for rep in reports:
            for s in rep.get("skipped", []):
                click.echo(f"skipped: {rep['file']}: {s['node']}: {s['reason']}")
            for f in rep.get("followups", []):
                click.echo(f"follow-up: {rep['file']}: {f}")
    sys.exit(1 if refused else 0)


def _picture_path(graph_out: Path, target_cpp: Path, *, many: bool) -> Path:
    if many or graph_out.is_dir() or str(graph_out).endswith(("/", "\\")):
        return graph_out / f"{target_cpp.stem}.svg"
    return graph_out


def _draw(lg, path: Path, before=None) -> str | None:
    """Write the picture; the one-line reason when it cannot be drawn."""
    from .render.picture import PictureError, side_by_side, to_dot, to_json_data, write_picture

    dot = side_by_side(before, lg) if before is not None else to_dot(lg)
    try:
        write_picture(dot, path, json_data=to_json_data(lg))
    except PictureError as exc:
        return str(exc).split(": ", 1)[-1]
    except OSError as exc:
        return f"cannot write the picture ({exc.strerror})"
    log.info("drew %s", path)
    return None


@main.command("graph")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="Picture to write: .svg, .png, .pdf, .dot or .json.")
@click.option("--quant", "mode", flag_value="quant", help="Draw the W8A8 rewrite.")
@click.option("--sparse", "mode", flag_value="sparse", help="Draw the sparse-W8A8 rewrite.")
@click.option("--before-after", is_flag=True, help="Draw the float layer and the rewrite side by side.")
@click.option("-I", "include_dirs", multiple=True, type=click.Path(path_type=Path), help="Extra include folder.")
@log_level_option
def graph_command(source: Path, output: Path, mode: str | None, before_after: bool, include_dirs: tuple[Path, ...],
                  log_level: str) -> None:
    """Draw a layer's dataflow graph: the float layer, or its rewrite with what changed highlighted."""
    _setup_logging(log_level)
    from .source.errors import LayerError

    dirs = [str(d) for d in include_dirs]
    try:
        if mode is None and not before_after:
            from .api import load_layer

            lg, before = load_layer(source, include_dirs=dirs), None
        else:
            from .pipeline import transform_file

            r = transform_file(source, sparse=mode == "sparse", write=False, include_dirs=dirs)
            lg, before = r.after, (r.before if before_after else None)
    except LayerError as exc:
        click.echo(exc.one_line(), err=True)
        sys.exit(1)
    err = _draw(lg, output, before)
    if err:
        click.echo(f"{output}: {err}", err=True)
        sys.exit(1)
    click.echo(f"Graph written: {output}")


if __name__ == "__main__":  # pragma: no cover
    main()
