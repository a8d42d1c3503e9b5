"""The tokenizer gives every token and comment with its exact span; checked against a plain reference lexer
(one match per token or run of white space, the order of the C++ grammar) on generated C++-like text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from llm_transform.source.lexer import IDENT, PREPROC, PUNCT, STRING, Comment, LexError, Token, tokenize

_REF = re.compile(
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
  | (?P<punct>::|->\*?|\+\+|--|<<=|<=|>=|==|!=|&&|\|\||[-+*/%&|^]=|<<|\.\.\.|[][(){};:,.<>?~!=+\-*/%&|^#@\\])
  | (?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def _reference(text: str):
    tokens, comments = [], []
    for m in _REF.finditer(text):
        kind = m.lastgroup
        start, end = m.span()
        if kind == "ws":
            continue
        if kind in ("lcomment", "bcomment"):
            comments.append(Comment(m.group(), start, end))
        elif kind == "preproc":
            body = m.group()
            lead = len(body) - len(body.lstrip(" \t"))
            tokens.append(Token(PREPROC, body[lead:], start + lead, end))
        elif kind == "bad" or (kind == "punct" and text.startswith("/*", start)):
            return "error"
        else:
            kind = {"ident": IDENT, "punct": PUNCT, "rawstr": STRING, "delim": STRING}.get(kind, kind)
            tokens.append(Token(kind, m.group(), start, end))
    return tokens, comments


_PIECES = ["atb::infer::LinearParam", " ", "\n", "\t", "  ", "x", "u8", "L", "R", "u", '"a b"', "'c'", 'R"(raw)"',
           'u8"s"', "L'w'", "// note\n", "/* c */", "/*", "*/", "#include \"x.h\"\n", "#define A \\\n  1\n",
           "#", "\\\n", "12", "0x1F", "1.5e+3", ".5", "1'000", "->", "->*", "::", "<<=", "...", "/", "*", "=",
           "{", "}", "(", ")", ";", ",", "é", "中", "@", "$x", "\r\n", "a.b", "p.q = {1, 2};"]


@settings(max_examples=500)
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_same_tokens_as_the_reference(pieces):
    text = "".join(pieces)
    try:
        got = tokenize(text)
    except LexError:
        got = "error"
    assert got == _reference(text)


def test_spans_are_exact():
    text = '#include "a.h"\nint x = y->z; // tail\n/* block */ R"(q)";\n'
    tokens, comments = tokenize(text)
    for t in tokens:
        assert text[t.start:t.end] == t.text
    for c in comments:
        assert text[c.start:c.end] == c.text
    assert [t.kind for t in tokens][:2] == [PREPROC, IDENT]
