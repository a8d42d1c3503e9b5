"""The op catalogue (``op_catalogue.toml``) loaded into frozen, validated entries, and written param types
resolved against it.

The catalogue is the one place that knows ATB: op types, their slot contracts, the fields a rewrite sets,
tensor-name conventions. A misspelt key would be a bug that shows up months later, so every table loads into
a dataclass and an unknown or missing key fails at load time, naming the entry and the key.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

_CATALOGUE_PATH = Path(__file__).with_name("op_catalogue.toml")


class CatalogueError(ValueError):
    """The catalogue data does not follow its schema."""


Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Contract:
    """How an op type becomes W8A8 (or sparse W8A8 on top of that): its input slots and the fields set."""

    slots: tuple[str, ...] = ()
    fields: Pairs = ()
    type: str | None = None  # the param type the op takes instead
    init: str | None = None  # that type's brace initialiser
    keep_fields: tuple[str, ...] | None = None  # on a type change, the float assignments kept
    only_change_fields: tuple[str, ...] = ()  # fields whose default is the wanted value
    needs_int8_input: bool = False  # the op reads int8: only a quant norm can feed it
    extra_output: bool = False  # a quant norm with an int8 output beside its float one
    self_quant_fields: Pairs = ()  # set when the op quantizes its own input (no quant norm feeds it)
    int8_fed_fields: Pairs = ()  # set instead when a quant norm feeds it (its own quantize step is off)
    int8_fed_drop: tuple[str, ...] = ()  # fields not set then (the input scale it no longer needs)
    site_fields: tuple[tuple[str, str], ...] = ()  # (site, field prefix): fields of a site the op lacks
    opt_in: str | None = None  # an option that must allow the contract
    style: str | None = None  # the [styles] entry of the layers that use it
    fallback_switches: Pairs = ()  # (site, field): a field that keeps one linear of the op float


@dataclass(frozen=True)
class Upgrade:
    """A V1 type replaced by its V2 counterpart, as the one hand-written precedent does."""

    type: str
    callee: str
    include: str | None = None
    old_include: str | None = None
    field_renames: Pairs = ()


@dataclass(frozen=True)
class Packing:
    """How a param says its MLP packs gate and up into one weight, and how to say it does not."""

    field: str
    packed: str
    unpacked: str


@dataclass(frozen=True)
class Fold:
    """An elementwise op that a quant norm absorbs (an anti-outlier beta add): recognised by a field value."""

    field: str
    value: str


@dataclass(frozen=True)
class OpEntry:
    name: str
    role: str
    tier: str | None = None
    norm: str | None = None
    callees: tuple[str, ...] = ()
    float_slots: tuple[tuple[int, str], ...] = ()
    packed_slots: tuple[tuple[int, str], ...] = ()
    brace_fields: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    recent_members: tuple[str, ...] = ()
    quantized: bool = False
    quant_aware: bool = False
    packing: Packing | None = None
    folds_into_norm: Fold | None = None
    quant: Contract | None = None
    quant_linear_quant: Contract | None = None
    sparse: Contract | None = None
    upgrade: Upgrade | None = None


@dataclass(frozen=True)
class Style:
    """Layer-wide choices of the hand-written quant layers of one family."""

    beta: str | None = None
    beta_name: str | None = None


@dataclass(frozen=True)
class Conventions:
    """How the tool names what it adds, and which count constants and graph settings the layers write."""

    weight_suffix: str
    added_names: Pairs
    taken_infix: str
    shared_beta: str
    placeholder: str
    int8_output: str
    packed_suffix: str
    split_names: Pairs
    count_constants: tuple[tuple[str, tuple[str, ...]], ...]
    graph_counts: Pairs
    scale_field: str
    offset_field: str
    fallback_flag: str
    point_labels: Pairs
    mode_words: tuple[tuple[str, tuple[str, ...]], ...]
    file_prefixes: Pairs
    creator_prefix: str
    node_suffix: str
    param_suffix: str
    float_word: str
    layer_word: str
    down_word: str
    role_suffixes: tuple[str, ...]


@dataclass(frozen=True)
class OpType:
    """A param type as the layer writes it, resolved: its full name, role and catalogue entry (if any)."""

    name: str  # fully qualified, as the catalogue keys it (templates keep their arguments)
    role: str
    entry: OpEntry | None = None


@dataclass(frozen=True)
class CatalogueData:
    types: dict[str, OpEntry]
    styles: dict[str, Style]
    conventions: Conventions
    patterns: tuple[tuple[str, str], ...] = ()
    quantized: tuple[str, ...] = ()
    tensor_names: tuple[tuple[str, str], ...] = ()
    tensor_lists: tuple[tuple[str, str], ...] = ()
    fallback_namespaces: tuple[str, ...] = ()
    library_namespaces: tuple[str, ...] = ()


# -- loading, with the schema checked -------------------------------------------------------------------
def _convert(value: Any, hint: Any, where: str) -> Any:
    """``value`` from TOML as the annotated type ``hint``; CatalogueError naming ``where`` otherwise."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        return _convert(value, next(a for a in args if a is not type(None)), where)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise CatalogueError(f"{where}: expected a table, got {value!r}")
        return _entry(hint, value, where)
    if origin is tuple:
        if isinstance(value, dict):  # a table of pairs: {1 = "w_"} or {rank = "commParam.rank"}
            value = list(value.items())
        if not isinstance(value, list | tuple):
            raise CatalogueError(f"{where}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise CatalogueError(f"{where}: expected {len(args)} items, got {value!r}")
        return tuple(_convert(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True)))
    if hint is int and isinstance(value, str) and value.isdigit():
        return int(value)
    if hint in (str, int, bool) and not isinstance(value, hint):
        raise CatalogueError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    """The class's field types, resolved once (typing resolves the annotations' strings on every call)."""
    return typing.get_type_hints(cls)


def _entry(cls: type, data: dict[str, Any], where: str, **given: Any) -> Any:
    hints = _hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise CatalogueError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(known - set(given)))})")
    values = dict(given)
    for f in dataclasses.fields(cls):
        if f.name in data:
            values[f.name] = _convert(data[f.name], hints[f.name], f"{where}.{f.name}")
        elif f.name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise CatalogueError(f"{where}: missing key {f.name!r}")
    return cls(**values)


_TOP = {"types", "styles", "conventions", "patterns", "quantized", "tensor_names", "tensor_lists", "namespaces",
        "source", "quant_markers"}


def load(data: dict[str, Any]) -> CatalogueData:
    """The catalogue from its TOML data; CatalogueError on any key the schema does not know."""
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise CatalogueError(f"op_catalogue.toml: unknown table {unknown[0]!r} (known: {', '.join(sorted(_TOP))})")
    typs = {name: _entry(OpEntry, entry, f"types.{name!r}", name=name) for name, entry in data["types"].items()}
    styles = {name: _entry(Style, s, f"styles.{name}") for name, s in data.get("styles", {}).items()}
    ns = data.get("namespaces", {})
    if set(ns) - {"fallback", "library"}:
        raise CatalogueError(f"namespaces: unknown key {sorted(set(ns) - {'fallback', 'library'})[0]!r}")
    quantized = data.get("quantized", {})
    if set(quantized) - {"patterns"}:
        raise CatalogueError(f"quantized: unknown key {sorted(set(quantized) - {'patterns'})[0]!r}")
    return CatalogueData(
        types=typs, styles=styles, conventions=_entry(Conventions, data["conventions"], "conventions"),
        patterns=tuple((role, p) for role, pats in data.get("patterns", {}).items() for p in pats),
        quantized=tuple(quantized.get("patterns", ())),
        tensor_names=tuple((k, p) for k, pats in data.get("tensor_names", {}).items() for p in pats),
        tensor_lists=tuple((k, p) for k, pats in data.get("tensor_lists", {}).items() for p in pats),
        fallback_namespaces=tuple(ns.get("fallback", ())), library_namespaces=tuple(ns.get("library", ())))


# -- resolving written types ------------------------------------------------------------------------------
class Catalogue:
    def __init__(self, data: CatalogueData):
        self.data = data
        self.types = data.types
        self.styles = data.styles
        self.conventions = data.conventions
        self.patterns = [(role, re.compile(p)) for role, p in data.patterns]
        self._by_callee: dict[str, str] = {}
        for name, entry in self.types.items():
            for c in entry.callees:
                self._by_callee.setdefault(c, name)
        self.quantized_patterns = [re.compile(p) for p in data.quantized]
        self.tensor_names = [(kind, re.compile(p)) for kind, p in data.tensor_names]
        self.tensor_lists = [(kind, re.compile(p)) for kind, p in data.tensor_lists]

    def is_quantized(self, name: str) -> bool:
        """A type that already computes in int8: marked so in its entry, or named so (a model-local quant op)."""
        entry = self.lookup(name)
        if entry is not None and (entry.entry.quantized or entry.entry.quant_aware):
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
            candidates += [ns + base for ns in self.data.fallback_namespaces]
            lib = self.data.library_namespaces
            if "::" in base and lib and not base.startswith(tuple(f"{n}::" for n in lib)):
                candidates.append(f"{lib[-1]}::{base}")
            for cand in candidates:
                key = cand + "<>" if template is not None else cand
                if key in self.types:
                    full = cand + (f"<{template}>" if template is not None else "")
                    return OpType(full, self.types[key].role, self.types[key])
            qualified = written
            if "::" not in base and namespaces:
                qualified = "::".join(namespaces) + "::" + written
            for role, pat in self.patterns:
                if pat.search(base):
                    return OpType(written if "::" in base else qualified, role)
        short_callee = callee.rsplit("::", 1)[-1].rsplit(".", 1)[-1]
        if short_callee in self._by_callee and not written:
            name = self._by_callee[short_callee]
            return OpType(name, self.types[name].role, self.types[name])
        return OpType(written or "", "unknown")

    def lookup(self, name: str) -> OpType | None:
        base, template = _split_template(name)
        entry = self.types.get(base + "<>" if template is not None else base)
        return OpType(name, entry.role, entry) if entry else None

    def entry(self, name: str) -> OpEntry | None:
        found = self.lookup(name)
        return found.entry if found else None


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
    return Catalogue(load(catalogue_data()))
