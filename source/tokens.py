"""Token-stream helpers shared by the declaration and function-body readers."""

from __future__ import annotations

import bisect
import itertools
from functools import cached_property
from operator import itemgetter

from .errors import LayerError
from .lexer import IDENT, PREPROC, PUNCT, STRING, Token
from .source_file import SourceFile

OPEN = {"(": ")", "[": "]", "{": "}"}
CLOSE = {")": "(", "]": "[", "}": "{"}
_BRACKETS = frozenset(OPEN) | frozenset(CLOSE)


class TokenView:
    """The code tokens of one file (directives set aside) with bracket pairs resolved once."""

    def __init__(self, src: SourceFile, which: str):
        self.src = src
        self.which = which
        self.directives = [t for t in src.tokens if t.kind == PREPROC]
        self.toks: list[Token] = [t for t in src.tokens if t.kind != PREPROC]
        self.texts: list[str] = [t.text for t in self.toks]  # for slices and searches that run in C
        self.match: dict[int, int] = {}
        self._known: dict[int, int] = {}
        stack: list[int] = []
        brackets = _BRACKETS
        for i in [i for i, text in enumerate(self.texts) if text in brackets]:  # only punctuation spells these
            t = self.toks[i]
            if t.text in OPEN:
                stack.append(i)
            elif t.text in CLOSE:
                if not stack or self.toks[stack[-1]].text != CLOSE[t.text]:
                    raise self._stray_brace() or LayerError(
                        src.path, src.line_of(t.start), f"unbalanced '{t.text}'; fix the syntax error and run again")
                j = stack.pop()
                self.match[i] = j
                self.match[j] = i
        if stack:
            t = self.toks[stack[-1]]
            raise self._stray_brace() or LayerError(
                src.path, src.line_of(t.start), f"'{t.text}' is never closed; fix the syntax error and run again")

    def _stray_brace(self) -> LayerError | None:
        """Where braces stop balancing, the compiler's view (the outermost brace never closed) points far
        from the typo. People indent blocks, so with one brace too many, the one to blame is the one
        without which every block brace (last on its line) is closed by a brace (first on its line) at the
        same indentation as often as possible."""
        src = self.src
        braces = []  # (token index, is opener, indent of its statement's first line, block-style)
        start = 0  # where the current statement began
        for i, t in enumerate(self.toks):
            if t.text in ("{", "}"):
                block = self._ends_line(i) if t.text == "{" else self._starts_line(i)
                head = self.toks[start] if t.text == "{" else t
                braces.append((i, t.text == "{", src.indent_at(head.start), block))
            if t.text in (";", "{", "}"):
                start = i + 1
        opens = sum(1 for b in braces if b[1])
        extra = opens - (len(braces) - opens)
        if extra not in (1, -1):
            return None
        best: tuple[int, int] | None = None
        for k, b in enumerate(braces):
            if b[1] != (extra == 1):
                continue
            score = _block_score(braces, skip=k)
            # removing any brace between the stray one and where its partner should be fits as well:
            # the stray '{' is the first of those, the stray '}' the last
            if score is not None and (best is None or score > best[0] or (score == best[0] and extra == -1)):
                best = (score, k)
        if best is None:
            return None
        t = self.toks[braces[best[1]][0]]
        return LayerError(src.path, src.line_of(t.start), f"unbalanced braces: this '{t.text}' looks like one too "
                          "many (without it every block closes at its own indentation); fix it and run again")

    def _ends_line(self, i: int) -> bool:
        nxt = self.toks[i + 1] if i + 1 < len(self.toks) else None
        return nxt is None or self.src.line_of(nxt.start) != self.src.line_of(self.toks[i].start)

    def _starts_line(self, i: int) -> bool:
        t = self.toks[i]
        return not self.src.text[self.src.line_start(t.start):t.start].strip()

    def __len__(self) -> int:
        return len(self.toks)

    @cached_property
    def strings(self) -> list[int]:
        """The indices of the string literals, in order."""
        return list(itertools.compress(range(len(self.toks)), map(STRING.__eq__, map(itemgetter(0), self.toks))))

    def has_string(self, i: int, j: int) -> bool:
        """Whether a string literal is among tokens i..j-1."""
        k = bisect.bisect_left(self.strings, i)
        return k < len(self.strings) and self.strings[k] < j

    def remember(self, i: int) -> None:
        """Token i starts a span others will look up (a function body): ``at`` finds it without a search."""
        self._known[self.toks[i].start] = i

    @cached_property
    def _starts(self) -> list[int]:
        return [t.start for t in self.toks]

    def at(self, offset: int) -> int:
        """The index of the token that starts at ``offset`` (a span's start read from this file)."""
        i = self._known.get(offset)
        if i is None:
            i = bisect.bisect_left(self._starts, offset)
            if i == len(self.toks) or self.toks[i].start != offset:
                raise KeyError(offset)
        return i

    def braces(self, span: tuple[int, int]) -> tuple[int, int]:
        """The token indices of the braces that a body span (``{`` .. ``}`` inclusive) begins and ends with."""
        a = self.at(span[0])
        return a, self.match[a]

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
        texts, match = self.texts, self.match
        k = i
        while k < end:
            here = texts[k]
            if here == text and self.toks[k].kind == PUNCT:
                return k
            if here in OPEN:  # only punctuation spells a bracket
                k = match[k] + 1
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


def string_value(text: str) -> str:
    """A string literal's contents (after any prefix such as ``u8``), escapes as written."""
    return text[text.index('"') + 1:-1]


def normalise_condition(text: str) -> str:
    text = " ".join(text.split())
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(s: str) -> bool:
    depth = 0
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


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


def _block_score(braces: list[tuple[int, bool, str, bool]], skip: int) -> int | None:
    """Pairs that look right (block braces closed at their own indentation, initialiser braces by initialiser
    braces) when all braces but ``skip`` are matched; None: still unbalanced."""
    stack: list[tuple[int, bool, str, bool]] = []
    score = 0
    for k, b in enumerate(braces):
        if k == skip:
            continue
        if b[1]:
            stack.append(b)
        elif not stack:
            return None
        else:
            o = stack.pop()
            # a block brace closes a block at its indentation; an initialiser's brace closes an initialiser
            score += o[3] == b[3] and (not o[3] or o[2] == b[2])
    return None if stack else score
