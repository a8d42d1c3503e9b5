"""The ATB vocabulary the code must not spell itself: every type, field, function, header and naming convention
the catalogue knows (its types and contracts, its [conventions], [source] and [quant_markers] tables), and a
short fixed list that stays even if an entry moves. A string literal in the code of the tool's floors that
names one of them is op knowledge outside the catalogue. Docstrings and the refusal classes (``kind=...``) are
the product's own words."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

from llm_transform.graph.catalogue import catalogue_data

ROOT = Path(__file__).resolve().parent.parent
_PIECE = re.compile(r"[A-Za-z_]\w*")
#: words that must never come back as literals, whatever the catalogue holds
FIXED = ["atb::Node", "atb::GraphParam", "atb::Operation", "inTensorIds", "outTensorIds", "opGraph", "nodeId",
         "nodes", "operation", "HostTensorBinder", "GetTensorIdx", "GetTensorIdxList", "AddTensorToList",
         "atb::SVector", "paramJson", "from_json", "get_to", "contains", "QUANT_INT8", "isQuantOp", "packQuantType",
         "linearQuantType", "quantModel", "isQuant", "isSparse", "atb::infer::LinearQuantParam",
         "atb::infer::LinearSparseParam", "atb_speed::common::FusionAttentionParam", "atb_speed::common::MlpParam"]
#: C++ and its standard library: not ATB's
CXX = {"std", "vector", "string", "true", "false", "const", "int", "uint32_t", "nullptr", "new"}
#: words of the catalogue that are the tool's own vocabulary too (roles, kinds, slot names, TOML keys)
_OURS = {"norm", "linear", "mlp", "attention", "rope", "elementwise", "activation", "communication", "split", "shape",
         "moe", "plugin", "unknown", "parallel_linear", "input", "output", "weight", "placeholder", "intermediate",
         "true", "false", "base", "stem", "name", "site", "up", "gate", "down", "quant", "sparse", "rms", "layer",
         "holder", "beta", "gamma", "deqscale", "bias", "index", "scale", "offset", "layer_param", "telechat",
         "int", "float", "bool", "std", "include", "h", "x", "w_", "b_", "d_", "i_", "QUANT",
         # the graph's node kinds, a file format, and the modes the tool writes
         "op", "tensor", "json", "W8A8"}


def _strings(value, out: set[str]) -> None:
    if isinstance(value, str):
        out.update(w for w in _PIECE.findall(value) if len(w) > 2)
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and (not k.isidentifier() or k[:1].isupper()):  # keys that are names
                _strings(k, out)
            _strings(v, out)
    elif isinstance(value, list | tuple):
        for v in value:
            _strings(v, out)


def _contract_words(entry: dict, out: set[str]) -> None:
    """Field paths and values of a type's entry; its slot names and roles are the catalogue's own words."""
    for key, value in entry.items():
        if key in ("role", "tier", "norm", "slots", "float_slots", "packed_slots", "site_fields", "opt_in", "style"):
            continue
        if isinstance(value, dict) and key in ("quant", "sparse", "quant_linear_quant", "upgrade"):
            _contract_words(value, out)
        elif key in ("include", "old_include"):
            _strings(Path(str(value)).name, out)
        else:
            _strings(value, out)


def atb_words() -> set[str]:
    data = catalogue_data()
    words: set[str] = set()
    for name, entry in data["types"].items():
        _strings(name, words)
        _contract_words(entry, words)
    conventions = {k: v for k, v in data.get("conventions", {}).items() if k != "point_labels"}
    for table in (conventions, data.get("source", {}), data.get("quant_markers", {}), data.get("namespaces", {})):
        _strings(table, words)
    for pats in data.get("tensor_names", {}).values():
        for p in pats:
            words.update(w.strip("_") + "_" for w in re.findall(r"\^(?:\(\?i:)?([A-Za-z_]+)", p) if len(w) > 2)
    source = set()
    _strings(data.get("source", {}), source)
    # a lower-case word alone (rank, layers) is as likely English as ATB: only the reader's vocabulary counts
    return {w for w in words if w not in _OURS and w.lower() not in _OURS
            and (w in source or w != w.lower() or "_" in w.strip("_") or w.endswith("_"))}


def _fixed_and_contract_words() -> set[str]:
    """Words that must never come back as literals, whatever the catalogue holds, and every piece of a
    contract's types, callees, members and fields."""
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
    return words


@cache
def all_atb_words() -> frozenset[str]:
    return frozenset(w for w in atb_words() | _fixed_and_contract_words() if w not in _OURS and w not in CXX)


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


def _distinctive(word: str) -> bool:
    """A word that cannot be English prose: camelCase, or with `_` or a digit."""
    return not word.islower() or not word.isalpha()


def _exempt(tree: ast.AST) -> set[int]:
    """Docstrings, refusal classes (``kind="operation"``) and the names a module exports (``__all__``): the
    product's own words."""
    docs = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)}
    exported = {id(c) for node in ast.walk(tree) if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
                for c in ast.walk(node.value)}
    kinds = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.keyword) and node.arg == "kind"}
    return docs | exported | kinds


def refusal_classes(paths: list[Path]) -> frozenset[str]:
    """The refusal classes the code names (``kind="operation"``): the product's own words wherever they are
    written."""
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "kind" and isinstance(node.value, ast.Constant):
                found.add(node.value.value)
    return frozenset(found)


def literals(source: str, classes: frozenset[str] = frozenset()) -> list[tuple[int, str, str]]:
    """(line, ATB word, the string) for every string constant of the code that holds one: a string without
    white space (a word, a token, a pattern) may hold none; a message none that cannot be English."""
    tree = ast.parse(source)
    docs = _exempt(tree)
    words = all_atb_words()
    prefixes = {w for w in words if w.endswith("_")}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in docs \
                or node.value in classes:
            continue
        text = node.value
        prose = any(c.isspace() for c in text)
        for piece in _PIECE.findall(text):
            hit = piece in words or any(piece.startswith(p) and piece != p[:-1] for p in prefixes)
            if hit and (not prose or _distinctive(piece)):
                found.append((node.lineno, piece, text))
    return found


def offences(paths: list[Path]) -> list[str]:
    classes = refusal_classes(paths)
    return [f"{path.relative_to(ROOT)}:{line}: {word} in {text[:60]!r}"
            for path in paths for line, word, text in literals(path.read_text(encoding="utf-8"), classes)]
