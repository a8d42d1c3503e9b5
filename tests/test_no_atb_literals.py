"""No ATB word is written in the code of the modules below: each comes from the catalogue (docstrings and comments
may name them). A word is an ATB word when the catalogue's own data names it (types, callees, members, fields
and values its contracts set, its [source] and [quant_markers] tables), or when it is on a short fixed list
that stays here even if an entry moves. A string without white space (a word, a token, a pattern) may hold
none of them; a message may hold none of the ones that cannot be English (camelCase, with `_`, a digit or
`::`): it names them through the vocabulary too. Docstrings and the refusal classes (``kind=...``) are the
product's own words."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

from llm_transform.graph.catalogue import catalogue_data

ROOT = Path(__file__).resolve().parent.parent
SCANNED = [*sorted((ROOT / "source").glob("*.py")), ROOT / "llm_transform" / "classify.py",
           ROOT / "graph" / "source_vocabulary.py", ROOT / "graph" / "quant_markers.py"]
#: words that must never come back as literals, whatever the catalogue holds
FIXED = ["atb::Node", "atb::GraphParam", "atb::Operation", "inTensorIds", "outTensorIds", "opGraph", "nodeId",
         "nodes", "operation", "HostTensorBinder", "GetTensorIdx", "GetTensorIdxList", "AddTensorToList",
         "atb::SVector", "paramJson", "from_json", "get_to", "contains", "QUANT_INT8", "isQuantOp", "packQuantType",
         "linearQuantType", "quantModel", "isQuant", "isSparse", "atb::infer::LinearQuantParam",
         "atb::infer::LinearSparseParam", "atb_speed::common::FusionAttentionParam", "atb_speed::common::MlpParam"]
#: C++ and its standard library: not ATB's
CXX = {"std", "vector", "string", "true", "false", "const", "int", "uint32_t", "nullptr", "new"}
_PIECE = re.compile(r"[A-Za-z_]\w*")


def _pieces(text: str) -> set[str]:
    """The identifiers a catalogue value names (``{placeholders}`` of the tool's own left out)."""
    return set(_PIECE.findall(re.sub(r"\{[^}]*\}", "", text))) - CXX


def _values(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [v for x in node for v in _values(x)]
    if isinstance(node, dict):
        return [v for x in node.values() for v in _values(x)]
    return []


@cache
def atb_words() -> frozenset[str]:
    data = catalogue_data()
    words = set().union(*map(_pieces, FIXED))
    for name, entry in data["types"].items():
        words |= _pieces(name.removesuffix("<>"))
        for key in ("callees", "brace_fields", "members", "recent_members"):
            words |= set().union(set(), *map(_pieces, entry.get(key, [])))
        for key in ("quant", "quant_linear_quant", "sparse", "upgrade"):
            contract = entry.get(key, {})
            for k in ("type", "callee"):
                words |= _pieces(contract.get(k, ""))
            for k in ("fields", "self_quant_fields", "field_renames", "fallback_switches", "keep_fields"):
                words |= set().union(set(), *map(_pieces, _values(contract.get(k, []))))
    words |= set().union(*map(_pieces, _values(data["source"])))
    markers = data["quant_markers"]
    words |= {w for w in _values(markers) if re.fullmatch(r"\w+", w)} | _pieces(" ".join(markers["branch_types"]))
    return frozenset(words)


def _distinctive(word: str) -> bool:
    """A word that cannot be English prose: camelCase, or with `_` or a digit."""
    return not word.islower() or not word.isalpha()


def _exempt(tree: ast.AST) -> set[int]:
    """Docstrings, and the refusal classes (``kind="operation"``): the product's own words."""
    docs = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
    kinds = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.keyword) and node.arg == "kind"}
    return docs | kinds


def literals(source: str) -> list[tuple[int, str, str]]:
    """(line, ATB word, the string) for every string constant of the code that holds one."""
    tree = ast.parse(source)
    docs = _exempt(tree)
    words = atb_words()
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in docs:
            continue
        text = node.value
        prose = any(c.isspace() for c in text)
        for piece in _PIECE.findall(text):
            if piece in words and (not prose or _distinctive(piece)):
                found.append((node.lineno, piece, text))
    return found


@pytest.mark.parametrize("path", SCANNED, ids=[str(p.relative_to(ROOT)) for p in SCANNED])
def test_no_atb_word_is_written_in_the_code(path: Path) -> None:
    found = literals(path.read_text(encoding="utf-8"))
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


def test_the_words_come_from_the_catalogue_too() -> None:
    words = atb_words()
    assert {"RowParallelLinearV2", "quantUpParam", "ELEWISE_QUANT", "commDownParam", "Binder", "SVector"} <= words
    assert not words & CXX
