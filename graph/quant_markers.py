"""What marks a layer that already computes (or can compute) in int8, as the classifier reads it from code
before any graph exists: built from the catalogue's ``[quant_markers]`` table and its type entries, so the
classifier repeats none of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from .catalogue import catalogue_data

Pairs = tuple[tuple[str, str], ...]


class MarkersError(ValueError):
    """The ``[quant_markers]`` table does not fit what the classifier needs."""


@dataclass(frozen=True)
class QuantMarkers:
    template_types: tuple[str, ...]  # short names of the quant-aware template types
    template_fields: tuple[str, ...]
    sparse_types: tuple[str, ...]  # short names of the types a sparse contract gives an op
    sparse_fields: Pairs  # (field, value) a sparse contract sets to true
    plugin_words: tuple[str, ...]  # patterns
    plugin_types: tuple[str, ...]  # patterns of plugin type names (created with `new`)
    layer_param: str
    branch_flags: tuple[str, ...]  # patterns
    branch_switch: str
    branch_words: tuple[str, ...]
    branch_types: tuple[str, ...]  # short names
    mode_flags: tuple[str, str]
    quant_switch: str  # a pattern


_TABLE = {"template_fields": list, "plugin_words": list, "layer_param": str, "branch_flags": list,
          "branch_switch": str, "branch_words": list, "branch_types": list, "mode_flags": list, "quant_switch": str}


def _short(name: str) -> str:
    return name.removesuffix("<>").rsplit("::", 1)[-1]


def _leaf(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _table(data: dict[str, Any]) -> dict[str, Any]:
    table = data.get("quant_markers", {})
    unknown = sorted(set(table) - set(_TABLE))
    if unknown:
        raise MarkersError(f"quant_markers: unknown key {unknown[0]!r} (known: {', '.join(sorted(_TABLE))})")
    for key, kind in _TABLE.items():
        value = table.get(key)
        if value is None:
            raise MarkersError(f"quant_markers: missing key {key!r}")
        if not isinstance(value, kind) or (kind is list and not all(isinstance(v, str) and v for v in value)):
            raise MarkersError(f"quant_markers.{key}: expected {'a list of words' if kind is list else 'a word'}, "
                               f"got {value!r}")
    if len(table["mode_flags"]) != 2:
        raise MarkersError(f"quant_markers.mode_flags: expected the quant flag and the sparse flag, got "
                           f"{table['mode_flags']!r}")
    return table


def _sparse(types: dict[str, Any]) -> tuple[tuple[str, ...], Pairs]:
    """The types sparse contracts give an op (marked quantized), and the fields they set to true."""
    names: dict[str, None] = {}
    fields: dict[tuple[str, str], None] = {}
    for entry in types.values():
        contract = entry.get("sparse") or {}
        target = contract.get("type")
        if target and types.get(target, {}).get("quantized"):
            names[_short(target)] = None
        for path, value in contract.get("fields", []):
            if value == "true":
                fields[(_leaf(path), value)] = None
    return tuple(names), tuple(fields)


def markers_from(data: dict[str, Any]) -> QuantMarkers:
    """The markers from the catalogue's TOML data; a table that does not fit is an error naming the key."""
    table = _table(data)
    types = data["types"]
    for name in table["branch_types"]:
        if not types.get(name, {}).get("quantized"):
            raise MarkersError(f"quant_markers.branch_types: {name!r} is not a type the catalogue marks quantized")
    sparse_types, sparse_fields = _sparse(types)
    values = {key: tuple(v) if isinstance(v, list) else v for key, v in table.items()}
    values["branch_types"] = tuple(_short(n) for n in table["branch_types"])
    return QuantMarkers(
        template_types=tuple(_short(n) for n, e in types.items() if n.endswith("<>") and e.get("quant_aware")),
        sparse_types=sparse_types, sparse_fields=sparse_fields,
        plugin_types=tuple(data.get("patterns", {}).get("plugin", ())), **values)


@cache
def quant_markers() -> QuantMarkers:
    return markers_from(catalogue_data())


__all__ = ["MarkersError", "QuantMarkers", "markers_from", "quant_markers"]
