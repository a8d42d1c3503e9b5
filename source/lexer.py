"""A C++ tokenizer that keeps exact offsets into the decoded source text.

libclang's own lexer drops comments and costs a ctypes round trip per token; the rewrite needs every
token's span and the comments between them (to keep them), so the token stream is produced here and
libclang is used for what only a compiler front end knows (diagnostics, see ``clang_check``).
"""

from __future__ import annotations

import re
from typing import NamedTuple

IDENT = "ident"
NUMBER = "number"
STRING = "string"
CHAR = "char"
PUNCT = "punct"
PREPROC = "preproc"


class Token(NamedTuple):
    """A tuple, not a dataclass: a layer pair has tens of thousands of tokens, and a tuple is made at C speed."""

    kind: str
    text: str
    start: int  # character offset into the decoded text
    end: int


class Comment(NamedTuple):
    text: str
    start: int
    end: int


class LexError(ValueError):
    def __init__(self, offset: int, message: str):
        self.offset = offset
        super().__init__(message)


_PUNCT = r"::|->\*?|\+\+|--|<<=|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|<<|\.\.\.|[][(){};:,.<>?~!=+\-*%&|^#@\\]|/(?![/*])"
# White space before a token is part of its match (half as many matches as tokens and spaces apart), and
# the commonest tokens are tried first; a string prefix (u8, L, R...) is no identifier where a string follows.
_TOKEN_RE = re.compile(
    r"""(?:[ \t\f\v\r\n]|\\\r?\n)*(?:
    (?P<ident>(?!(?:u8|[uUL])?(?:R"(?P<d2>[^ ()\\\t\n]{0,16})\(.*?\)(?P=d2)"|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
              [A-Za-z_$][\w$]*)
  | (?P<preproc>\#(?:[^\n\\]|\\.|\\\n)*)
  | (?P<number>\.?\d(?:[eEpP][+-]|[\w.']|)*)
  | (?P<punct>"""
    + _PUNCT
    + r""")
  | (?P<lcomment>//[^\n]*)
  | (?P<bcomment>/\*.*?\*/)
  | (?P<rawstr>(?:u8|u|U|L)?R"(?P<delim>[^ ()\\\t\n]{0,16})\(.*?\)(?P=delim)")
  | (?P<string>(?:u8|u|U|L)?"(?:\\.|[^"\\\n])*")
  | (?P<char>(?:u8|u|U|L)?'(?:\\.|[^'\\\n])*')
  | \Z
  | (?P<bad>.)
)""",
    re.VERBOSE | re.DOTALL,
)


#: white space inside a line (a line's tokens end before its trailing white space)
_LINE_SPACE = " \t\f\v\r"
#: lines already lexed (their text -> tokens and comments with offsets from the line's start): a layer's lines
#: recur across its files, and a generated file is its float file with a few lines changed
_LINES: dict[str, tuple[tuple[tuple[str, str, int, int], ...], tuple[tuple[str, int, int], ...]]] = {}
_LINES_KEPT = 20_000  # about 1 kB each


def tokenize(text: str) -> tuple[list[Token], list[Comment]]:
    """Split ``text`` into tokens and comments; preprocessor lines become one PREPROC token each.

    Line by line: a line that starts outside any token (no comment, string or directive runs into it) lexes
    the same wherever it stands, so the tokens of a line seen before are taken from ``_LINES``, moved to its
    offset. That holds for every line whose tokens all end in it and that has no backslash (a continuation,
    or an escape that could run a string on) and no ``R"`` (a raw string's end is looked for past the line);
    other lines, and whatever runs on from a token crossing a line end, are lexed with the scanner."""
    tokens: list[Token] = []
    comments: list[Comment] = []
    new = tuple.__new__
    lines = _LINES
    n = len(text)
    line = pos = 0  # where the current line starts; where the last token ended
    while line < n:
        end = text.find("\n", line)
        if end == -1:
            end = n
        if pos > line:  # a token ran into this line: go on from its end
            if pos < end:
                pos = _scan(text, pos, end, tokens, comments)
            line = end + 1
            continue
        seg = text[line:end]
        seen = lines.get(seg)
        if seen is not None:
            if seen[0]:
                tokens += [new(Token, (kind, tok, start + line, stop + line)) for kind, tok, start, stop in seen[0]]
            if seen[1]:
                comments += [new(Comment, (tok, start + line, stop + line)) for tok, start, stop in seen[1]]
        else:
            first_token, first_comment = len(tokens), len(comments)
            pos = _scan(text, line, end, tokens, comments)
            if pos <= end and "\\" not in seg and 'R"' not in seg:
                if len(lines) >= _LINES_KEPT:
                    lines.clear()
                lines[seg] = (tuple((t.kind, t.text, t.start - line, t.end - line) for t in tokens[first_token:]),
                              tuple((c.text, c.start - line, c.end - line) for c in comments[first_comment:]))
        line = end + 1
    return tokens, comments


def forget_lines() -> None:
    """Forget the lines lexed so far."""
    _LINES.clear()


def scan(text: str) -> tuple[list[Token], list[Comment]]:
    """The whole text lexed with the scanner alone, no line taken from ``_LINES``: what ``tokenize`` must
    give."""
    tokens: list[Token] = []
    comments: list[Comment] = []
    _scan(text, 0, len(text), tokens, comments)
    return tokens, comments


def _scan(text: str, pos: int, end: int, tokens: list[Token], comments: list[Comment]) -> int:
    """Lex from ``pos`` until only white space is left before ``end`` (a line's end), or a token runs past it;
    return where the last token ended.

    One scanner walks the text (each match starts where the last ended), and tokens are made with
    ``tuple.__new__``: a named tuple's own constructor is a Python function, a frame per token."""
    append = tokens.append
    new = tuple.__new__
    stop = pos + len(text[pos:end].rstrip(_LINE_SPACE))  # no token starts after this
    match = _TOKEN_RE.scanner(text, pos).match
    while pos < stop:
        m = match()
        kind = m.lastgroup
        if kind is None:  # the white space at the end
            break
        start, pos = m.span(kind)
        if kind == "ident":
            append(new(Token, (IDENT, m.group(kind), start, pos)))
        elif kind == "punct":
            append(new(Token, (PUNCT, m.group(kind), start, pos)))
        elif kind in ("lcomment", "bcomment"):
            comments.append(new(Comment, (m.group(kind), start, pos)))
        elif kind == "preproc":
            if text[text.rfind("\n", 0, start) + 1:start].strip(" \t"):  # a '#' inside a line: punctuation
                pos = start + 1
                append(Token(PUNCT, "#", start, pos))
                match = _TOKEN_RE.scanner(text, pos).match
            else:
                append(Token(PREPROC, m.group(kind), start, pos))
        elif kind == "bad":
            if text.startswith("/*", start):
                raise LexError(start, "unterminated /* comment")
            raise LexError(start, f"cannot read character {m.group(kind)!r}")
        else:
            append(Token(STRING if kind in ("rawstr", "delim") else kind, m.group(kind), start, pos))
        if pos > end:  # it ran on past the line
            break
    return pos
