"""No ATB word is written in the code of the floors (source/, graph/, render/, the pipeline modules): each
comes from the catalogue (docstrings and comments may name them). A word is an ATB word when the catalogue's
own data names it (types, callees, members, fields and values its contracts set, its [conventions], [source]
and [quant_markers] tables), or when it is on a short fixed list that stays even if an entry moves. A string
without white space (a word, a token, a pattern) may hold none of them; a message may hold none of the ones
that cannot be English (camelCase, with `_`, a digit or `::`): it names them through the vocabulary too.
Docstrings and the refusal classes (``kind=...``) are the product's own words."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.atb_words import CXX, ROOT, literals, refusal_classes
from tests.atb_words import all_atb_words as atb_words

PIPELINE = ("classify.py", "pipeline.py", "verify.py", "api.py", "run.py", "new_errors.py", "discovery.py",
            "provenance.py", "__init__.py")
SCANNED = [*(p for d in ("source", "graph", "render") for p in sorted((ROOT / d).glob("*.py"))),
           *(ROOT / "llm_transform" / n for n in PIPELINE)]


@pytest.mark.parametrize("path", SCANNED, ids=[str(p.relative_to(ROOT)) for p in SCANNED])
def test_no_atb_word_is_written_in_the_code(path: Path) -> None:
    found = literals(path.read_text(encoding="utf-8"), refusal_classes(SCANNED))
    assert not found, "\n".join(f"{path.relative_to(ROOT)}:{line}: {word} in {text!r}" for line, word, text in found)


def test_the_scan_finds_what_it_should() -> None:
    """The rule is not vacuous: words, patterns and messages naming ATB are caught; docstrings and prose are not."""
    code = '''
"""Reads `node.inTensorIds = {...};` lists."""
def f(t):
    """A docstring may say opGraph.nodes."""
    if t == "inTensorIds" or t.what == "nodes.resize":
        raise ValueError(f"{t} is not a brace list; write `node.outTensorIds = {{...}};`")
    pat = r"(?:std::|atb::)?(?:vector|SVector)<"
    raise LookupError("not an operation", kind="operation")
    return "nodes it pushes", "an operation", "contains no op", "operation"
'''
    found = {(line, word) for line, word, _ in literals(code)}
    assert found == {(5, "inTensorIds"), (5, "nodes"), (6, "outTensorIds"), (7, "atb"), (7, "SVector"),
                     (9, "operation")}
    # a refusal class is the product's word wherever it is written
    assert (9, "operation") not in {(line, word) for line, word, _ in literals(code, frozenset({"operation"}))}


def test_the_words_come_from_the_catalogue_too() -> None:
    words = atb_words()
    assert {"RowParallelLinearV2", "quantUpParam", "ELEWISE_QUANT", "commDownParam", "Binder", "SVector"} <= words
    assert not words & CXX
