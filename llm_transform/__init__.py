"""llm-transform: rewrite float ATB layers into W8A8 and sparse-W8A8 layers through their dataflow graph.

This top floor holds the pipeline (classify, transform, verify, write), the public API, file discovery
and the command line; it may import every floor below it: ``llm_transform.render``, ``llm_transform.graph``
and ``llm_transform.source`` (the repository folders ``render/``, ``graph/``, ``source/``, reached through
the symlinks of the same names in this folder).
The public names are imported on first use so that the command line stays quick to start. The source
floor's vocabulary (the ATB words its readers look for) comes from the graph floor's catalogue through a
loader registered here, so the source floor imports nothing above it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["LayerError", "LayerGraph", "TransformResult", "load_layer", "transform_file"]

from .source import vocabulary as _vocabulary


def _catalogue_vocabulary() -> _vocabulary.Vocabulary:
    """The source floor's words, from the catalogue (read on first use: importing the package stays cheap)."""
    from .graph.source_vocabulary import source_vocabulary

    return source_vocabulary()


_vocabulary.set_loader(_catalogue_vocabulary)

if TYPE_CHECKING:  # pragma: no cover
    from .api import load_layer
    from .graph.layer_graph import LayerGraph
    from .pipeline import TransformResult, transform_file
    from .source.errors import LayerError


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def __getattr__(name: str) -> Any:
    if name == "LayerError":
        from .source.errors import LayerError

        return LayerError
    if name == "load_layer":
        from .api import load_layer

        return load_layer
    if name == "LayerGraph":
        from .graph.layer_graph import LayerGraph

        return LayerGraph
    if name in ("transform_file", "TransformResult"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
