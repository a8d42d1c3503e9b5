"""The public entry points that tie the stages together."""

from __future__ import annotations

from pathlib import Path

from graph.build import build_graph
from graph.layer_graph import LayerGraph
from graph.validate import validate

from .reader import read_pair


def load_layer(path: str | Path) -> LayerGraph:
    """Read a layer ``.cpp`` (and its same-named header) into a validated ``LayerGraph``."""
    model = read_pair(Path(path))
    lg = build_graph(model)
    lg.findings = validate(lg)
    return lg
