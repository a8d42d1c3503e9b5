"""Token-stream helpers shared by the declaration and function-body readers."""

from __future__ import annotations

from .errors import LayerError
from .lexer import IDENT, PREPROC, PUNCT, Token
from .source_file import SourceFile

OPEN = {"(": ")", "[": "]", "{": "}"}
CLOSE = {")": "(", "]": "[", "}": "{"}


class TokenView:
    """The code tokens of one file (directives set aside) with bracket pairs resolved once."""

    def __init__(self, src: SourceFile, which: str):
        self.src = src
        self.which = which
        self.directives = [t for t in src.tokens if t.kind == PREPROC]
        self.toks: list[Token] = [t for t in src.tokens if t.kind != PREPROC]
        self.match: dict[int, int] = {}
        stack: list[int] = []
        for i, t in enumerate(self.toks):
            if t.kind != PUNCT:
                continue
            if t.text in OPEN:
                stack.append(i)
            elif t.text in CLOSE:
                if not stack or self.toks[stack[-1]].text != CLOSE[t.text]:
                    raise LayerError(src.path, src.line_of(t.start),
                                     f"unbalanced '{t.text}'; fix the syntax error and run again")
                j = stack.pop()
                self.match[i] = j
                self.match[j] = i
        if stack:
            t = self.toks[stack[-1]]
            raise LayerError(src.path, src.line_of(t.start),
                             f"'{t.text}' is never closed; fix the syntax error and run again")

    def __len__(self) -> int:
        return len(self.toks)

    def text(self, i: int, j: int) -> str:
        """Source text of tokens i..j-1 (comments inside included)."""
        if i >= j:
            return ""
        return self.src.text[self.toks[i].start : self.toks[j - 1].end]

    def squash(self, i: int, j: int) -> str:
        """Tokens i..j-1 joined with single spaces where C++ needs them, comments dropped."""
        out: list[str] = []
        prev: Token | None = None
        for t in self.toks[i:j]:
            if prev is not None and _needs_space(prev, t):
                out.append(" ")
            out.append(t.text)
            prev = t
        return "".join(out)

    def canonical(self, i: int, j: int) -> str:
        """Tokens i..j-1 with one canonical spacing (``param.a == 1 && !(b)``), so that a name made from
        source text does not depend on its layout."""
        out: list[str] = []
        prev: Token | None = None
        for t in self.toks[i:j]:
            if prev is not None and not (
                t.text in _TIGHT_BEFORE or prev.text in _TIGHT_AFTER
                or (t.text in ("(", "[") and (prev.kind == IDENT or prev.text in (")", "]")))
            ):
                out.append(" ")
            out.append(t.text)
            prev = t
        return "".join(out)

    def error(self, i: int, reason: str) -> LayerError:
        t = self.toks[min(i, len(self.toks) - 1)] if self.toks else None
        line = self.src.line_of(t.start) if t else None
        return LayerError(self.src.path, line, reason)

    def is_(self, i: int, text: str) -> bool:
        return 0 <= i < len(self.toks) and self.toks[i].text == text

    def find(self, i: int, end: int, text: str) -> int:
        """Index of the first ``text`` at bracket depth 0 in [i, end), or -1."""
        k = i
        while k < end:
            t = self.toks[k]
            if t.text == text and t.kind == PUNCT:
                return k
            if t.kind == PUNCT and t.text in OPEN:
                k = self.match[k] + 1
                continue
            k += 1
        return -1

    def split_commas(self, i: int, end: int) -> list[tuple[int, int]]:
        """Top-level comma-separated ranges of [i, end)."""
        parts = []
        start = i
        k = i
        while k < end:
            t = self.toks[k]
            if t.kind == PUNCT and t.text in OPEN:
                k = self.match[k] + 1
                continue
            if t.text == "," and t.kind == PUNCT:
                parts.append((start, k))
                start = k + 1
            elif t.text == "<" and k > i and self.toks[k - 1].kind == IDENT:
                # template argument lists hold commas too: skip to the matching '>' when it is near
                close = self._template_close(k, end)
                if close != -1:
                    k = close + 1
                    continue
            k += 1
        if start < end:
            parts.append((start, end))
        return parts

    def _template_close(self, k: int, end: int) -> int:
        depth = 0
        j = k
        while j < end:
            t = self.toks[j].text
            if t == "<":
                depth += 1
            elif t == ">":
                depth -= 1
                if depth == 0:
                    return j
            elif t in (";", "{", "}", "&&", "||", "?"):
                return -1
            elif t in OPEN:
                j = self.match[j]
            j += 1
        return -1


_TIGHT_BEFORE = {".", "->", "::", ")", "]", ",", ";"}
_TIGHT_AFTER = {".", "->", "::", "(", "[", "!", "~"}


def _needs_space(a: Token, b: Token) -> bool:
    word = (IDENT, "number")
    return (a.kind in word or a.text[-1:].isalnum()) and (b.kind in word or b.text[:1].isalnum())


def qualified_name_before(view: TokenView, k: int, lo: int) -> tuple[str, int]:
    """The ``a::b::c`` (or ``~X``) name ending at token k-1; returns (name, first token index)."""
    j = k - 1
    if j < lo or view.toks[j].kind != IDENT:
        return "", k
    parts = [view.toks[j].text]
    if j - 1 >= lo and view.toks[j - 1].text == "~":  # a destructor: X::~X
        parts[-1] = "~" + parts[-1]
        j -= 1
    while j - 2 >= lo and view.toks[j - 1].text == "::" and view.toks[j - 2].kind == IDENT:
        parts.append("::")
        parts.append(view.toks[j - 2].text)
        j -= 2
    if j - 1 >= lo and view.toks[j - 1].text == "::" and (j - 2 < lo or view.toks[j - 2].kind != IDENT):
        j -= 1  # leading global ::
    return "".join(reversed(parts)), j
