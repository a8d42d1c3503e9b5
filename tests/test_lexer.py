"""The tokenizer gives every token and comment with its exact span; checked against a plain reference lexer
(one match per token or run of white space, the order of the C++ grammar) on generated C++-like text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from llm_transform.source.lexer import IDENT, PREPROC, PUNCT, STRING, Comment, LexError, Token, scan, tokenize

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


def _lexed(text: str, lex=tokenize):
    try:
        return lex(text)
    except LexError as exc:
        return "error", exc.offset


#: lines whose reading depends on what comes before them (inside a comment, a raw string, a continued directive)
_CONTEXTS = ["/* open\n", 'R"x(\n', "#define M \\\n", '"s\\\n', "// c \\\n", "*/\n", ')x";\n', "\n"]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(_PIECES), max_size=40), st.sampled_from(_CONTEXTS), st.integers(0, 40))
def test_a_line_seen_before_reads_as_where_it_stands(pieces, context, at):
    """Lines lexed once are taken from memory after: the same line inside a comment, a raw string or a continued
    directive elsewhere must still read as the scanner reads it there."""
    text = "".join(pieces)
    _lexed(text)  # its lines are remembered
    lines = text.split("\n")
    at = min(at, len(lines))
    edited = "\n".join([*lines[:at], context.rstrip("\n"), *lines[at:]])
    assert _lexed(edited) == _lexed(edited, scan)
    assert _lexed(text) == _lexed(text, scan)


def test_a_generated_file_reads_as_the_scanner_reads_it():
    """Every fixture layer, and the same text with lines moved into a block comment and out again."""
    from tests.conftest import FIXTURES

    for path in sorted(FIXTURES.rglob("*.cpp")) + sorted(FIXTURES.rglob("*.h")):
        text = path.read_bytes().decode("utf-8-sig")
        tokenize(text)
        lines = text.split("\n")
        mid = len(lines) // 2
        for edited in (text, "\n".join([*lines[:mid], "/*", *lines[mid:mid + 5], "*/", *lines[mid + 5:]])):
            assert tokenize(edited) == scan(edited), path


def test_a_raw_string_that_ends_on_a_later_line_is_not_taken_from_memory():
    """`R"x(a" + b;` reads as `R`, a string and more where no `)x"` follows, and as a raw string running on to a
    later line where one does: the line alone does not say, so it is never taken from memory."""
    alone = 'R"x(a" + b;\n'
    assert [t.kind for t in tokenize(alone)[0]] == [IDENT, STRING, PUNCT, IDENT, PUNCT]
    closed = alone + 'c )x";\n'
    assert tokenize(closed) == scan(closed)
    assert [t.kind for t in tokenize(closed)[0]] == [STRING, PUNCT]
