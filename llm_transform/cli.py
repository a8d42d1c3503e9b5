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
@log_level_option
def check(sources: tuple[Path, ...], recursive: bool, as_json: bool, include_dirs: tuple[Path, ...],
          log_level: str) -> None:
    """Build the graph of each layer and report counts, roles and consistency findings."""
    _setup_logging(log_level)
    from .api import load_layer
    from .discovery import find_layers
    from .errors import LayerError

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


if __name__ == "__main__":  # pragma: no cover
    main()
