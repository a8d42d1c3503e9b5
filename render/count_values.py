"""Counts the plan changes, written where the layer writes them: a count constant's value, or a graph
setting's (a literal keeps its suffix; an expression of literals becomes the number it now is)."""

from __future__ import annotations

from llm_transform.graph.build import int_literal_parts

from .text import Edits


def write_counts(ed: Edits) -> None:
    for update in ed.plan.counts:
        if update.setting:
            s = next(s for s in ed.m.layer.settings if s.what == update.name and s.value_span)
            which, value, span = "cpp", s.value, s.value_span
        else:
            c = ed.m.constant(update.name)
            which, value, span = c.file, c.value, c.value_span
        literal = int_literal_parts(value)  # a literal keeps its suffix
        ed.edit(which, span[0], span[1] - span[0], f"{update.value}{literal[1] if literal else ''}", update.name)
