"""Which libclang errors of a generated pair the float pair does not have.

Without the ATB headers both pairs have hundreds of errors, nearly all about names a header would declare
(`atb`, `CREATE_OPERATION`, ...): those may stand anywhere, and added lines bring more of them. Any other
error counts as the float's only where the float has it at the same place: on the line the generated line
comes from (lines are paired by a diff with the rewrite's renames undone), or inside the block of float
lines an edited block replaces. A message alone is not enough: a rewrite that puts a statement where a name
is not declared yet gives the same message as a float line that did so elsewhere.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .source.clang_check import ClangResult, Diagnostic
from .source.model import LayerSource

#: messages about a name that some unread header declares; the name is the quoted word
_MISSING_NAME = re.compile(r"^(?:use of undeclared identifier|unknown type name|no template named|no type named|"
                           r"use of undeclared label|unknown template name|no member named) '(\w+)'")


def declared_names(model: LayerSource) -> frozenset[str]:
    """The names the pair itself declares: a message about one of them is about the pair's own code."""
    names: set[str] = set()
    for e in model.enums:
        names.update(x.name for x in e.entries)
        if e.name:
            names.add(e.name)
    names.update(c.name for c in model.constants)
    for s in model.structs:
        names.add(s.name)
        names.update(f.name for f in s.fields)
    names.update(f.short_name for f in model.functions)
    names.update(n.rsplit("::", 1)[-1] for _w, n, _s in model.namespaces)
    if model.layer is not None:
        names.update(p.var for p in model.layer.params)
        names.update(n.var.split("@")[0] for n in model.layer.nodes)
        names.update(t.name for t in model.layer.tensor_vars)
    return frozenset(names)


def external(message: str, declared: frozenset[str]) -> bool:
    """A message about a name only an unread header declares."""
    m = _MISSING_NAME.match(message)
    return m is not None and m.group(1) not in declared


@dataclass(frozen=True)
class _Place:
    which: str  # "cpp" | "h"
    lines: tuple[int, int]  # the float lines (1-based, inclusive) a generated line comes from


class LineMap:
    """Generated line -> the float lines it comes from, per file, by a diff of the two texts with the
    rewrite's renames undone in the generated one."""

    def __init__(self, float_model: LayerSource, generated: LayerSource, undo: Callable[[str], str]):
        self.float_model, self.generated, self.undo = float_model, generated, undo
        self.maps: dict[str, dict[int, tuple[int, int]]] = {}

    def _map(self, which: str) -> dict[int, tuple[int, int]]:
        """Made on first use: most generated errors are decided by their message alone."""
        if which not in self.maps:
            old = self.float_model.cpp if which == "cpp" else self.float_model.h
            new = self.generated.cpp if which == "cpp" else self.generated.h
            self.maps[which] = {} if old is None or new is None else self._diff(old.text, new.text)
        return self.maps[which]

    def _diff(self, old: str, new: str) -> dict[int, tuple[int, int]]:
        a = old.split("\n")
        b = self.undo(new).split("\n")  # renames never cross a line
        m: dict[int, tuple[int, int]] = {}
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if tag == "equal":
                for k in range(j2 - j1):
                    m[j1 + k + 1] = (i1 + k + 1, i1 + k + 1)
            elif tag == "replace":
                for j in range(j1, j2):
                    m[j + 1] = (i1 + 1, i2)
        return m

    def place(self, which: str, line: int) -> _Place | None:
        lines = self._map(which).get(line)
        return _Place(which, lines) if lines else None


def new_errors(float_model: LayerSource, float_parse: ClangResult, generated: LayerSource,
               generated_parse: ClangResult, renames: dict[str, str],
               declared: frozenset[str] | None = None) -> list[Diagnostic]:
    """The generated pair's errors that the float pair does not have at the same place, each message once.
    ``declared``: the float pair's ``declared_names``, when the caller has them."""
    from .source.names import replace_words

    unrename = replace_words({new: old for old, new in renames.items()})

    undone: dict[str, str] = {}  # a layer's hundreds of errors repeat a few dozen messages

    def undo(message: str) -> str:
        out = undone.get(message)
        if out is None:
            # a renamed function's __func__ or a renamed graph name is a char array of another length
            out = undone[message] = re.sub(r"char ?\[\d+\]", "char[N]", unrename(message))
        return out

    if declared is None:
        declared = declared_names(float_model)
    float_files = _roles(float_model)
    gen_files = _roles(generated)
    had: dict[str, set[tuple[str | None, int]]] = {}
    for d in float_parse.errors():
        had.setdefault(undo(d.spelling), set()).add((float_files.get(_abs(d.file)), d.line))
    lines = LineMap(float_model, generated, unrename)
    out: list[Diagnostic] = []
    seen: set[str] = set()
    for d in generated_parse.errors():
        key = undo(d.spelling)
        if key in seen or (key in had and external(key, declared)):
            continue
        which = gen_files.get(_abs(d.file))
        if which is None:  # a header on the include path, not the pair's: compared by message
            if key not in had:
                seen.add(key)
                out.append(d)
            continue
        place = lines.place(which, d.line)
        places = had.get(key, set())
        if place is not None and any(w == which and place.lines[0] <= ln <= place.lines[1] for w, ln in places):
            continue
        seen.add(key)
        out.append(d)
    return out


@cache
def _abs(file: str | None) -> str | None:
    return str(Path(file).absolute()) if file else None


def _roles(model: LayerSource) -> dict[str | None, str]:
    """Absolute path -> "cpp" / "h" for every path under which libclang may report the pair's files."""
    roles: dict[str | None, str] = {str(model.cpp.path.absolute()): "cpp"}
    if model.h is not None:
        roles[str(model.h.path.absolute())] = "h"
        for p in model.header_as_included():
            roles[str(p.absolute())] = "h"
    return roles
