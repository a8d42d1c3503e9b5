"""Counts the plan changes, written where the layer writes them: a count constant's value, or a graph
setting's (a literal keeps its suffix; an expression of literals becomes the number it now is)."""

from __future__ import annotations

import re

from .text import Edits


def write_counts(ed: Edits) -> None:
    for update in ed.plan.counts:
        if update.setting:
            s = next(s for s in ed.m.layer.settings if s.what == update.name and s.value_span)
            which, value, span = "cpp", s.value, s.value_span
        else:
            c = ed.m.constant(update.name)
            which, value, span = c.file, c.value, c.value_span
        m = re.fullmatch(r"\s*\d+([uUlL]*)\s*", value)
        ed.edit(which, span[0], span[1] - span[0], f"{update.value}{m.group(1) if m else ''}", update.name)
