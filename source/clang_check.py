"""Ask libclang whether a layer has real syntax errors, as opposed to the ATB headers being absent."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from .errors import LayerError

log = logging.getLogger(__name__)

#: Parse issues that missing headers never cause (unknown names give semantic issues, and templates of
#: unknown types give "expected expression"); these mean the text itself is broken.
_SYNTAX = re.compile(
    r"^(expected '[;})\]]'|extraneous closing brace|extraneous '\)'|expected unqualified-id|"
    r"expected member name|missing terminating|unterminated|expected '\{' after|"
    r"expected function body after function declarator)"
)
KEEP_GOING = 0x200


def clang_args(include_dirs: list[str]) -> list[str]:
    # -nostdinc keeps the check independent of the machine's C++ library: without the ATB headers the
    # standard ones add nothing to what we ask, and parsing them costs hundreds of milliseconds.
    args = ["-x", "c++", "-std=c++17", "-ferror-limit=0", "-nostdinc", "-nostdinc++"]
    for d in include_dirs:
        args += ["-I", d]
    return args


def syntax_check(cpp: Path, include_dirs: list[str], text: bytes | None = None) -> dict[str, int]:
    """Raise LayerError at the first real syntax error libclang reports (log and go on if libclang itself
    is unavailable). Returns the enum constant values libclang computed: the part of its AST that stays
    reliable without the ATB headers, used to cross-check the tool's own reading."""
    try:
        from clang import cindex
    except ImportError:  # pragma: no cover - libclang is a dependency
        log.warning("libclang is not installed; skipping the syntax check of %s", cpp)
        return {}
    try:
        index = cindex.Index.create()
        unsaved = [(str(cpp), text)] if text is not None else None
        tu = index.parse(str(cpp), args=[*clang_args([str(cpp.parent), *include_dirs])],
                         unsaved_files=unsaved, options=KEEP_GOING)
    except cindex.TranslationUnitLoadError as exc:
        raise LayerError(cpp, None, f"libclang could not parse the file ({exc})") from None
    for d in tu.diagnostics:
        if d.severity < 3 or d.category_name != "Parse Issue":
            continue
        if _SYNTAX.match(d.spelling):
            where = d.location.file.name if d.location.file else str(cpp)
            raise LayerError(where, d.location.line, f"syntax error: {d.spelling}; fix it and run again")
    bad_lines = {(d.location.file.name, d.location.line) for d in tu.diagnostics
                 if d.severity >= 3 and d.location.file is not None}
    return _enum_values(tu.cursor, cindex, bad_lines)


def _enum_values(root, cindex, bad_lines: set[tuple[str, int]]) -> dict[str, int]:
    """Enum constants libclang evaluated without an error on their line (an initializer naming something
    undeclared still gets a value, and it is not one to trust)."""
    values: dict[str, int] = {}
    stack = [root]
    while stack:
        cur = stack.pop()
        for ch in cur.get_children():
            kind = ch.kind
            if kind == cindex.CursorKind.NAMESPACE:
                stack.append(ch)
            elif kind == cindex.CursorKind.ENUM_DECL and ch.is_definition():
                for e in ch.get_children():
                    if e.kind != cindex.CursorKind.ENUM_CONSTANT_DECL:
                        continue
                    start, end = e.extent.start, e.extent.end
                    fname = start.file.name if start.file else None
                    if any((fname, line) in bad_lines for line in range(start.line, end.line + 1)):
                        continue
                    values[e.spelling] = e.enum_value
    return values
