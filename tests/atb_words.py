"""The ATB vocabulary the code must not spell itself: every type, field, function, header and naming convention
the catalogue knows. A string literal in the code of the tool's floors that names one of them is op
knowledge outside the catalogue."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from llm_transform.graph.catalogue import catalogue_data

ROOT = Path(__file__).resolve().parent.parent
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: words of the catalogue that are the tool's own vocabulary too (roles, kinds, slot names, TOML keys)
_OURS = {"norm", "linear", "mlp", "attention", "rope", "elementwise", "activation", "communication", "split", "shape",
         "moe", "plugin", "unknown", "parallel_linear", "input", "output", "weight", "placeholder", "intermediate",
         "true", "false", "base", "stem", "name", "site", "up", "gate", "down", "quant", "sparse", "rms", "layer",
         "holder", "beta", "gamma", "deqscale", "bias", "index", "scale", "offset", "layer_param", "telechat",
         "int", "float", "bool", "std", "include", "h", "x", "w_", "b_", "d_", "i_", "QUANT"}


def _strings(value, out: set[str]) -> None:
    if isinstance(value, str):
        out.update(w for w in _WORD.findall(value) if len(w) > 2)
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


def literals(path: Path):
    """(line, text) of every string literal of a module that is not a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docs.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node.lineno, node.value


def offences(paths: list[Path]) -> list[str]:
    words = atb_words()
    prefixes = {w for w in words if w.endswith("_")}
    out = []
    for path in paths:
        for line, text in literals(path):
            for w in _WORD.findall(text):
                if w in words or any(w.startswith(p) and w != p[:-1] for p in prefixes):
                    out.append(f"{path.relative_to(ROOT)}:{line}: {w!r} in {text[:60]!r}")
                    break
    return out
