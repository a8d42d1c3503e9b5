"""Names the rewrite makes up, in the casing of the name they come from.

A renamed helper must read as if a person had named it: ``reshapeHeads`` becomes ``sparseQuantReshapeHeads``,
``ReshapeHeads`` ``SparseQuantReshapeHeads``, ``reshape_heads`` ``sparse_quant_reshape_heads``. The words of
the mode (``Quant``, ``Sparse Quant``) are spelled in the style of the name they join.
"""

from __future__ import annotations

import re

_ROLE_SUFFIX = re.compile(r"(HostBinder|Binder|Param|TensorIdx|TensorId)$")


def casing(name: str) -> str:
    """``upper_snake``, ``snake``, ``upper_camel`` or ``lower_camel``: how the name joins its words."""
    core = name.strip("_")
    if "_" in core and core.upper() == core:
        return "upper_snake"
    if "_" in core or core.lower() == core:
        return "snake" if not core[:1].isupper() else "upper_snake"
    return "upper_camel" if core[:1].isupper() else "lower_camel"


def spell(words: list[str], style: str) -> str:
    """The words (each capitalised, ``["Sparse", "Quant"]``) joined in the given style."""
    if style == "upper_snake":
        return "_".join(w.upper() for w in words)
    if style == "snake":
        return "_".join(w.lower() for w in words)
    joined = "".join(w[:1].upper() + w[1:] for w in words)
    return joined if style == "upper_camel" else joined[:1].lower() + joined[1:]


def prefixed(name: str, words: list[str]) -> str:
    """The mode's words put before ``name``, in its casing."""
    style = casing(name)
    if style in ("snake", "upper_snake"):
        return f"{spell(words, style)}_{name}"
    return spell(words, style) + name[:1].upper() + name[1:]


def type_name(name: str, words: list[str]) -> str:
    """A type or layer name with the mode's words put where the hand-written layers put them:
    ``FlashAttentionLayer`` -> ``FlashAttentionQuantLayer``, ``AntiFloatLayer`` -> ``AntiQuantLayer``,
    ``ZetaParam`` -> ``ZetaQuantParam``; a name in another casing takes them as a prefix."""
    if casing(name) != "upper_camel":
        return prefixed(name, words)
    camel = spell(words, "upper_camel")
    if "Float" in name:
        return name.replace("Float", camel, 1)
    i = name.rfind("Layer")
    if i != -1:
        return name[:i] + camel + name[i:]
    m = _ROLE_SUFFIX.search(name)
    return name[: m.start()] + camel + m.group(1) if m else name + camel
