"""A C++ tokenizer that keeps exact offsets into the decoded source text.

libclang's own lexer drops comments and costs a ctypes round trip per token; the rewrite needs every
token's span and the comments between them (to keep them), so the token stream is produced here and
libclang is used for what only a compiler front end knows (diagnostics, see ``clang_check``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

IDENT = "ident"
NUMBER = "number"
STRING = "string"
CHAR = "char"
PUNCT = "punct"
PREPROC = "preproc"


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    start: int  # character offset into the decoded text
    end: int

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Token({self.kind}, {self.text!r}, {self.start})"


@dataclass(frozen=True, slots=True)
class Comment:
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
    (?P<ws>[ \t\r\n\f\v]+)
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
    """,
    re.VERBOSE | re.DOTALL,
)

# A directive runs to the end of its line, joined with backslash continuations.
_PREPROC_RE = re.compile(r"#(?:[^\n\\]|\\.|\\\n)*", re.DOTALL)


def tokenize(text: str) -> tuple[list[Token], list[Comment]]:
    """Split ``text`` into tokens and comments; preprocessor lines become one PREPROC token each."""
    tokens: list[Token] = []
    comments: list[Comment] = []
    pos = 0
    n = len(text)
    line_start_only_ws = True
    match = _TOKEN_RE.match
    while pos < n:
        if text[pos] == "#" and line_start_only_ws:
            m = _PREPROC_RE.match(text, pos)
            assert m is not None
            end = m.end()
            # A trailing // comment belongs to the line but not to the directive's meaning.
            body = m.group(0)
            tokens.append(Token(PREPROC, body, pos, end))
            pos = end
            continue
        m = match(text, pos)
        if m is None:
            raise LexError(pos, f"cannot read character {text[pos]!r}")
        kind = m.lastgroup
        end = m.end()
        if kind == "delim":  # the raw-string delimiter group can be the last one to match
            kind = "rawstr"
        if kind == "ws":
            if "\n" in m.group(0):
                line_start_only_ws = True
        elif kind in ("lcomment", "bcomment"):
            comments.append(Comment(m.group(0), pos, end))
        else:
            line_start_only_ws = False
            if kind == "rawstr":
                kind = STRING
            elif kind == "punct" and m.group(0) == "/" and text.startswith("/*", pos):
                raise LexError(pos, "unterminated /* comment")
            tokens.append(Token(kind, m.group(0), pos, end))
        pos = end
    return tokens, comments
