"""The public entry points that tie the stages together."""

from __future__ import annotations

from pathlib import Path

from .graph.build import build_graph, needs_compiler_values
from .graph.layer_graph import LayerGraph
from .graph.validate import validate
from .source.clang_check import ClangResult, syntax_check
from .source.model import LayerSource
from .source.reader import include_dirs_from_env, read_pair


def load_layer(path: str | Path, *, include_dirs: list[str] | None = None, clang: bool = True) -> LayerGraph:
    """Read a layer ``.cpp`` (and its same-named header) into a validated ``LayerGraph``.

    Raises ``LayerError`` for anything that cannot be modelled.
    """
    cpp = Path(path)
    return checked_graph(read_pair(cpp), cpp, include_dirs=include_dirs, clang=clang)


def checked_graph(model: LayerSource, cpp: Path, *, include_dirs: list[str] | None = None,
                  clang: bool = True) -> LayerGraph:
    """libclang syntax check, graph, and the validation findings (with libclang's enum values where they
    are needed: an entry this tool cannot evaluate itself, or a directive inside an enum)."""
    # libclang gets the bytes already read: each file goes from disk to the lexer and to libclang once
    parsed = syntax_check(cpp, include_dirs_from_env(include_dirs), text=model.cpp.encode(),
                          unsaved=model.header_as_included(), enums=needs_compiler_values(model)) if clang \
        else ClangResult()
    lg = build_graph(model, parsed.enum_values)
    lg.meta["clang_enum_values"] = parsed.enum_values
    lg.meta["clang"] = parsed
    lg.validation = validate(lg)
    return lg
