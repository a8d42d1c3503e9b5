"""Ask libclang about a layer pair: real syntax errors (as opposed to the ATB headers being absent), the
error diagnostics a rewrite can be compared on, enum values, and where a param type is declared."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

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
ERROR = 3


class Diagnostic(NamedTuple):
    """A tuple, not a dataclass: a layer parsed without the ATB headers has hundreds of errors, and the
    verifier parses each generated pair too."""

    severity: int  # libclang's: 3 error, 4 fatal
    spelling: str
    file: str | None
    line: int
    category: str
    column: int = 0

    @property
    def missing_header(self) -> bool:
        """Not finding an include is the normal state without the ATB headers, never the text's fault."""
        return self.spelling.endswith("file not found")


@dataclass
class ClangResult:
    """What one libclang parse of a pair tells: its error diagnostics, and the enum constant values it
    evaluated without an error on their line (the part of the AST that stays reliable without the ATB
    headers)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    enum_values: dict[str, int] = field(default_factory=dict)
    tu: Any = None  # the translation unit, kept only when the caller asked for it

    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity >= ERROR and not d.missing_header]


def clang_args(include_dirs: list[str]) -> list[str]:
    # -nostdinc keeps the check independent of the machine's C++ library: without the ATB headers the
    # standard ones add nothing to what we ask, and parsing them costs hundreds of milliseconds.
    args = ["-x", "c++", "-std=c++17", "-ferror-limit=0", "-nostdinc", "-nostdinc++"]
    for d in include_dirs:
        args += ["-I", d]
    return args


def parse(cpp: Path, include_dirs: list[str], unsaved: dict[Path, bytes] | None = None, *,
          keep_tu: bool = False, enums: bool = True, known: frozenset[str] = frozenset()) -> ClangResult:
    """Parse ``cpp`` (its folder first on the include path); ``unsaved`` gives file contents not on disk,
    such as a generated pair before it is written. An empty result when libclang is not installed.

    ``enums``: also read the enum values. ``known``: error messages the caller already knows about; such
    errors are kept without their location (every property read crosses into libclang, and a layer parsed
    without the ATB headers has hundreds of errors)."""
    try:
        from clang import cindex
    except ImportError:  # pragma: no cover - libclang is a dependency
        log.warning("libclang is not installed; skipping the libclang checks of %s", cpp)
        return ClangResult()
    try:
        index = cindex.Index.create()
        # libclang matches unsaved files by the path it resolves an include to: give it absolute ones
        files = [(str(p.absolute()), data) for p, data in (unsaved or {}).items()] or None
        tu = index.parse(str(cpp.absolute()), args=clang_args([str(cpp.absolute().parent), *include_dirs]),
                         unsaved_files=files, options=KEEP_GOING)
    except cindex.TranslationUnitLoadError as exc:
        raise LayerError(cpp, None, f"libclang could not parse the file ({exc})") from None
    diags = _errors(tu, cindex, known)
    values = {}
    if enums:
        bad_lines: dict[str | None, set[int]] = {}
        for d in diags:
            bad_lines.setdefault(d.file, set()).add(d.line)
        values = _enum_values(tu.cursor, cindex, bad_lines)
    return ClangResult(diags, values, tu if keep_tu else None)


#: how libclang's formatted diagnostic names a severity
_SEVERITY_WORDS = {3: "error", 4: "fatal error"}
_LOCATION = 0x1 | 0x2  # Diagnostic.DisplaySourceLocation | DisplayColumn


def _errors(tu: Any, cindex: Any, known: frozenset[str]) -> list[Diagnostic]:
    """The parse's errors. Each property read crosses into libclang, and a layer parsed without the ATB
    headers has a hundred errors: the place is read from one formatted line (file:line:column: error: ...)
    instead of four calls, and the category once per category."""
    lib = cindex.conf.lib
    categories: dict[int, str] = {}
    diags = []
    for d in tu.diagnostics:
        severity = d.severity
        if severity < ERROR:
            continue
        spelling = d.spelling
        if spelling in known:
            diags.append(Diagnostic(severity, spelling, None, 0, ""))
            continue
        number = lib.clang_getDiagnosticCategory(d)
        if number not in categories:
            categories[number] = d.category_name
        place = _place(d.format(_LOCATION), _SEVERITY_WORDS.get(severity, ""), spelling)
        if place is None:  # a line this reading does not expect: ask libclang for each part
            loc = d.location
            f = loc.file
            place = (f.name if f is not None else None, loc.line, loc.column)
        diags.append(Diagnostic(severity, spelling, place[0], place[1], categories[number], place[2]))
    return diags


def _place(formatted: str, word: str, spelling: str) -> tuple[str | None, int, int] | None:
    """(file, line, column) from ``file:line:column: error: message``; (None, 0, 0) for a diagnostic
    without a place; None when the line has another shape."""
    tail = f"{word}: {spelling}"
    if formatted == tail:
        return None, 0, 0
    if not word or not formatted.endswith(": " + tail):
        return None
    parts = formatted[: -len(tail) - 2].rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return parts[0], int(parts[1]), int(parts[2])


def syntax_check(cpp: Path, include_dirs: list[str], text: bytes | None = None,
                 unsaved: dict[Path, bytes] | None = None, *, enums: bool = True) -> ClangResult:
    """Raise LayerError at the first real syntax error libclang reports; otherwise the parse's result.
    ``enums``: also read the enum values (walking the AST costs a third of the parse)."""
    files = dict(unsaved or {})
    if text is not None:
        files[cpp] = text
    result = parse(cpp, include_dirs, files or None, enums=enums)
    # only the pair's own text counts: a header found on the include path may not parse without the
    # system headers this check leaves out, and it is not the user's file to fix
    own = {str(p.absolute()) for p in (cpp, cpp.with_suffix(".h"), cpp.with_suffix(".hpp"), *files)}
    for d in result.diagnostics:
        if d.category != "Parse Issue" or (d.file is not None and str(Path(d.file).absolute()) not in own):
            continue
        if _SYNTAX.match(d.spelling) or (d.spelling == "expected expression" and _empty_expression(d, files)):
            if _explained_by_missing_names(d, result.diagnostics, files) or \
                    _after_unknown_template(d, result.diagnostics, files):
                continue
            where = _shown(d.file, cpp)
            raise LayerError(where, d.line, f"syntax error: {d.spelling}; fix it and run again")
    return result


def _shown(file: str | None, cpp: Path) -> Path:
    """The user's own spelling of a path libclang reports absolute."""
    if file is None:
        return cpp
    p = Path(file)
    return cpp.parent / p.name if p.parent == cpp.absolute().parent else p


#: what libclang says of a name whose declaration is in a header it did not read
_UNKNOWN_NAME = ("use of undeclared identifier", "no template named", "no member named", "unknown type name",
                 "use of undeclared", "unknown template name")


def _explained_by_missing_names(d: Diagnostic, diags: list[Diagnostic], files: dict[Path, bytes]) -> bool:
    """`std::copy(std::begin(a), std::end(a), out);` without the system headers: libclang, not knowing
    `std`, misreads the call and expects a ')' that the text has. A bracket it expects on a line where it
    already met a name it does not know, while the line's own brackets balance, is the missing headers'
    doing, not the text's."""
    m = re.fullmatch(r"expected '([)\]])'", d.spelling)
    if m is None or d.file is None:
        return False
    if not any(o.file == d.file and o.line == d.line and o.column < d.column and o.spelling.startswith(_UNKNOWN_NAME)
               for o in diags):
        return False
    line = _line_text(d, files)
    if line is None:
        return False
    opening = "(" if m.group(1) == ")" else "["
    return line.count(opening.encode()) == line.count(m.group(1).encode())


def _line_text(d: Diagnostic, files: dict[Path, bytes]) -> bytes | None:
    text = _file_bytes(d.file, files)
    if text is None:
        return None
    lines = text.split(b"\n")
    return lines[d.line - 1] if 0 < d.line <= len(lines) else None


def _file_bytes(file: str | None, files: dict[Path, bytes]) -> bytes | None:
    if file is None:
        return None
    path = Path(file)
    data = next((v for k, v in files.items() if k.absolute() == path.absolute()), None)
    try:
        return data if data is not None else path.read_bytes()
    except OSError:
        return None


def _offset(text: bytes, line: int, column: int) -> int:
    """The byte offset of a 1-based line and (byte) column, as libclang counts them."""
    start = 0
    for _ in range(line - 1):
        start = text.index(b"\n", start) + 1
    return start + max(column - 1, 0)


def _after_unknown_template(d: Diagnostic, diags: list[Diagnostic], files: dict[Path, bytes]) -> bool:
    """A parse issue in a declaration that writes template arguments of a name the missing headers leave
    undeclared (``std::map<std::string, std::vector<std::string>> F()``, ``void F(ns::MlpParam<T> &p)``):
    libclang reads the name and its ``<`` as an expression, and what follows stops parsing. The headers
    explain it, not the text."""
    text = _file_bytes(d.file, files)
    if text is None or not d.column:
        return False
    try:
        at = _offset(text, d.line, d.column)
    except ValueError:
        return False
    start = max(text.rfind(c, 0, at) for c in (b";", b"{", b"}")) + 1
    if b"<" not in text[start:at + 1]:
        return False
    for u in diags:
        if u.file != d.file or not u.spelling.startswith(_UNKNOWN_NAME) or not u.column:
            continue
        try:
            if start <= _offset(text, u.line, u.column) < at:
                return True
        except ValueError:
            continue
    return False


def _empty_expression(d: Diagnostic, files: dict[Path, bytes]) -> bool:
    """`x = ;` or `f(a, )`: an expression is missing where the text has none, which no absent header can
    explain (an unknown template such as `std::vector<int>` also gives "expected expression", but not
    right after an `=` or a comma)."""
    if d.file is None or not d.column:
        return False
    line = _line_text(d, files)
    if line is None:
        return False
    before, rest = line[:d.column - 1].rstrip(), line[d.column - 1:]
    # `= ;`, `= ,`, `(a, )`; not `get<std::vector<int>>()` (an empty call after an unknown template)
    return rest[:1] in (b";", b",", b")", b"]", b"}") and before[-1:] in (b"=", b",")


def _enum_values(root, cindex, bad_lines: dict[str | None, set[int]]) -> dict[str, int]:
    """Enum constants libclang evaluated without an error on their line (an initializer naming something
    undeclared still gets a value, and it is not one to trust)."""
    values: dict[str, int] = {}
    stack = [root]
    namespace, enum_decl, constant = (cindex.CursorKind.NAMESPACE, cindex.CursorKind.ENUM_DECL,
                                      cindex.CursorKind.ENUM_CONSTANT_DECL)
    while stack:
        cur = stack.pop()
        for ch in cur.get_children():
            kind = ch.kind
            if kind == namespace:
                stack.append(ch)
            elif kind == enum_decl and ch.is_definition():
                f = ch.location.file
                bad = bad_lines.get(f.name if f is not None else None, set())
                for e in ch.get_children():
                    if e.kind != constant:
                        continue
                    if bad:  # only then is the constant's extent worth reading
                        extent = e.extent
                        if any(line in bad for line in range(extent.start.line, extent.end.line + 1)):
                            continue
                    values[e.spelling] = e.enum_value
    return values


def declaring_header(tu: Any, type_name: str) -> str | None:
    """The file that declares the struct ``type_name`` (qualified, e.g. ``atb_speed::common::X``) in a
    parse made with the user's headers: where to look for the fields that version has."""
    try:
        from clang import cindex
    except ImportError:  # pragma: no cover
        return None
    parts = type_name.split("::")
    level = [tu.cursor]
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        wanted = ((cindex.CursorKind.STRUCT_DECL, cindex.CursorKind.CLASS_DECL) if last
                  else (cindex.CursorKind.NAMESPACE,))
        level = [ch for cur in level for ch in cur.get_children() if ch.kind in wanted and ch.spelling == part]
        if not level:
            return None
    for cur in level:
        if cur.is_definition() and cur.location.file is not None:
            return cur.location.file.name
    return None
