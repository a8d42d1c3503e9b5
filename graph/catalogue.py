"""Loads the op catalogue (``op_catalogue.toml``) and resolves written param types against it."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

_CATALOGUE_PATH = Path(__file__).with_name("op_catalogue.toml")
_FALLBACK_NAMESPACES = ("atb::infer::", "atb_speed::common::")


@dataclass(frozen=True)
class OpType:
    name: str  # fully qualified, as the catalogue keys it (templates keep their arguments)
    role: str
    entry: dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        return self.entry.get(key, default)

    @property
    def known(self) -> bool:
        return bool(self.entry)


class Catalogue:
    def __init__(self, data: dict[str, Any]):
        self.types: dict[str, dict[str, Any]] = data.get("types", {})
        self.styles: dict[str, dict[str, Any]] = data.get("styles", {})
        self.patterns: list[tuple[str, re.Pattern[str]]] = [
            (role, re.compile(p)) for role, pats in data.get("patterns", {}).items() for p in pats
        ]
        self._by_short: dict[str, list[str]] = {}
        for name in self.types:
            self._by_short.setdefault(_short(name), []).append(name)
        self._by_callee: dict[str, str] = {}
        for name, entry in self.types.items():
            for c in entry.get("callees", []):
                self._by_callee.setdefault(c, name)
        self.quantized_patterns = [re.compile(p) for p in data.get("quantized", {}).get("patterns", [])]
        self.tensor_names = [(kind, re.compile(p)) for kind, pats in data.get("tensor_names", {}).items()
                             for p in pats]
        self.tensor_lists = [(kind, re.compile(p)) for kind, pats in data.get("tensor_lists", {}).items()
                             for p in pats]

    def is_quantized(self, name: str) -> bool:
        """A type that already computes in int8: marked so in its entry, or named so (a model-local quant op)."""
        entry = self.lookup(name)
        if entry is not None and (entry.get("quantized") or entry.get("quant_aware")):
            return True
        short = _short(name)
        return any(p.search(short) for p in self.quantized_patterns)

    def tensor_kind(self, name: str, declared_by: str = "") -> str:
        """A tensor's kind from its name, else from what declares it (a tensor-name list or map), else
        intermediate."""
        for kind, pat in self.tensor_names:
            if pat.search(name):
                return kind
        for kind, pat in self.tensor_lists:
            if declared_by and pat.search(declared_by):
                return kind
        return "intermediate"

    def resolve(self, written: str | None, namespaces: list[str], callee: str = "") -> OpType:
        """The catalogue type for a param type as written in a file inside ``namespaces``."""
        if written:
            written = written.replace(" ", "").lstrip(":")
            base, template = _split_template(written)
            candidates = [base]
            for k in range(len(namespaces), 0, -1):
                candidates.append("::".join(namespaces[:k]) + "::" + base)
            candidates += [ns + base for ns in _FALLBACK_NAMESPACES]
            if "::" in base and not base.startswith(("atb::", "atb_speed::")):
                candidates.append("atb_speed::" + base)
            for cand in candidates:
                key = cand + "<>" if template is not None else cand
                if key in self.types:
                    full = cand + (f"<{template}>" if template is not None else "")
                    return OpType(full, self.types[key]["role"], self.types[key])
            qualified = written
            if "::" not in base and namespaces:
                qualified = "::".join(namespaces) + "::" + written
            for role, pat in self.patterns:
                if pat.search(base):
                    return OpType(written if "::" in base else qualified, role, {})
        short_callee = callee.rsplit("::", 1)[-1].rsplit(".", 1)[-1]
        if short_callee in self._by_callee and not written:
            name = self._by_callee[short_callee]
            return OpType(name, self.types[name]["role"], self.types[name])
        return OpType(written or "", "unknown", {})

    def lookup(self, name: str) -> OpType | None:
        base, template = _split_template(name)
        key = base + "<>" if template is not None else base
        entry = self.types.get(key)
        return OpType(name, entry["role"], entry) if entry else None


def _short(name: str) -> str:
    return _split_template(name)[0].rsplit("::", 1)[-1]


def _split_template(name: str) -> tuple[str, str | None]:
    if "<" in name and name.endswith(">"):
        i = name.index("<")
        return name[:i], name[i + 1 : -1]
    return name, None


@cache
def catalogue_data() -> dict[str, Any]:
    """The catalogue's TOML as read, for the tables another floor reads itself."""
    with _CATALOGUE_PATH.open("rb") as fh:
        return tomllib.load(fh)


@cache
def catalogue() -> Catalogue:
    return Catalogue(catalogue_data())
