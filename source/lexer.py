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


def tokenize(text: str) -> tuple[list[Token], list[Comment]]:
    """Split ``text`` into tokens and comments; preprocessor lines become one PREPROC token each."""
    tokens: list[Token] = []
    comments: list[Comment] = []
    append = tokens.append
    match = _TOKEN_RE.match
    pos, n = 0, len(text)
    while pos < n:
        m = match(text, pos)
        kind = m.lastgroup
        if kind is None:  # the white space at the end
            break
        start, pos = m.span(kind)
        if kind == "ident":
            append(Token(IDENT, m.group(kind), start, pos))
        elif kind == "punct":
            append(Token(PUNCT, m.group(kind), start, pos))
        elif kind in ("lcomment", "bcomment"):
            comments.append(Comment(m.group(kind), start, pos))
        elif kind == "preproc":
            if text[text.rfind("\n", 0, start) + 1:start].strip(" \t"):  # a '#' inside a line: punctuation
                pos = start + 1
                append(Token(PUNCT, "#", start, pos))
            else:
                append(Token(PREPROC, m.group(kind), start, pos))
        elif kind == "bad":
            if text.startswith("/*", start):
                raise LexError(start, "unterminated /* comment")
            raise LexError(start, f"cannot read character {m.group(kind)!r}")
        else:
            append(Token(STRING if kind in ("rawstr", "delim") else kind, m.group(kind), start, pos))
    return tokens, comments
