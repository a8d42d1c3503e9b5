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


_PUNCT = r"::|->\*?|\+\+|--|<<=|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|<<|\.\.\.|[][(){};:,.<>?~!=+\-*/%&|^#@\\]"
_TOKEN_RE = re.compile(
    r"""
    (?P<preproc>(?m:^)[ \t]*\#(?:[^\n\\]|\\.|\\\n)*)
  | (?P<ws>[ \t\f\v\r]*\n|[ \t\f\v\r]+|\\\r?\n)
  | (?P<lcomment>//[^\n]*)
  | (?P<bcomment>/\*.*?\*/)
  | (?P<rawstr>(?:u8|u|U|L)?R"(?P<delim>[^ ()\\\t\n]{0,16})\(.*?\)(?P=delim)")
  | (?P<string>(?:u8|u|U|L)?"(?:\\.|[^"\\\n])*")
  | (?P<char>(?:u8|u|U|L)?'(?:\\.|[^'\\\n])*')
  | (?P<number>\.?\d(?:[eEpP][+-]|[\w.']|)*)
  | (?P<ident>[A-Za-z_$][\w$]*)
  | (?P<punct>"""
    + _PUNCT
    + r""")
  | (?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokenize(text: str) -> tuple[list[Token], list[Comment]]:
    """Split ``text`` into tokens and comments; preprocessor lines become one PREPROC token each."""
    tokens: list[Token] = []
    comments: list[Comment] = []
    append = tokens.append
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        if kind == "ws":
            continue
        start, end = m.span()
        if kind == "ident":
            append(Token(IDENT, m.group(), start, end))
        elif kind == "punct":
            if m.group() == "/" and text.startswith("/*", start):
                raise LexError(start, "unterminated /* comment")
            append(Token(PUNCT, m.group(), start, end))
        elif kind in ("lcomment", "bcomment"):
            comments.append(Comment(m.group(), start, end))
        elif kind == "preproc":
            body = m.group()
            lead = len(body) - len(body.lstrip(" \t"))
            append(Token(PREPROC, body[lead:], start + lead, end))
        elif kind == "bad":
            raise LexError(start, f"cannot read character {m.group()!r}")
        else:
            if kind in ("rawstr", "delim"):
                kind = STRING
            append(Token(kind, m.group(), start, end))
    return tokens, comments
