"""Names the rewrite makes up, in the casing of the name they come from.

A renamed helper must read as if a person had named it: ``reshapeHeads`` becomes ``sparseQuantReshapeHeads``,
``ReshapeHeads`` ``SparseQuantReshapeHeads``, ``reshape_heads`` ``sparse_quant_reshape_heads``. The words of
the mode (``Quant``, ``Sparse Quant``) are spelled in the style of the name they join.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from llm_transform.source.vocabulary import vocabulary


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
    from .catalogue import catalogue

    conv = catalogue().conventions
    if casing(name) != "upper_camel":
        return prefixed(name, words)
    camel = spell(words, "upper_camel")
    if conv.float_word in name:
        return name.replace(conv.float_word, camel, 1)
    i = name.rfind(conv.layer_word)
    if i != -1:
        return name[:i] + camel + name[i:]
    m = re.search(f"({'|'.join(map(re.escape, conv.role_suffixes))})$", name)
    return name[: m.start()] + camel + m.group(1) if m else name + camel


def node_stem(node: str, suffix: str) -> str:
    """A node variable without its suffix and its number (``selfNormNode@2`` -> ``selfNorm``): what names made
    after a node start with."""
    base = node.split("@")[0]
    return base[: -len(suffix)] if suffix and base.endswith(suffix) and base != suffix else base


def first_free(named: Callable[[str], str], taken: Callable[[str], bool]) -> str:
    """The first of ``named("")``, ``named("2")``, ``named("3")``... that is not taken: a name the rewrite
    makes up never meets one the pair has or one it made before."""
    name, k = named(""), 2
    while taken(name):
        name, k = named(str(k)), k + 1
    return name


# -- the rewrite's names ---------------------------------------------------------------------------------
RENAMED_TYPES = ("types the header defines besides the layer's own are renamed, so that the float and quant headers "
                 "can be included together; model code that uses them with the quant layer needs the new names")
HEADER_CLASH = ("the float and quant headers cannot both be included in one translation unit: both define these "
                "in one namespace (renaming them would break the model code that uses them)")


def plan_names(rw) -> None:
    """The names the rewrite gives what the pair defines, so that both layers build into one program and
    both headers can be included: the layer function, its param struct, binder, creator, enum types, the
    header's other types, the .cpp's helpers, the include guard, and the header the .cpp includes."""
    from .plan import Followup, Rename

    model = rw.float.source
    if model is None or model.layer is None:
        return
    conv = rw.conventions
    words = list(dict(conv.mode_words)[rw.plan.mode])
    prefix = dict(conv.file_prefixes)[rw.plan.mode]
    renames: list[Rename] = []
    if model.h is not None:
        renames.append(Rename(model.h.path.name, f"{prefix}_{model.h.path.name}", "header"))
    if rw.opts.keep_names:
        rw.note(renames=tuple(renames))
        return
    names, moved = _identifier_names(model, words)
    renames += [Rename(old, new, kind) for old, (new, kind) in names.items()]
    rw.graph.name = names.get(rw.graph.name, (rw.graph.name,))[0]  # the rewritten layer's function
    upper = spell(words, "upper_snake")
    renames += [Rename(gd.name, guard_name(gd.name, model.cpp.path.stem, upper), "guard") for gd in model.guards]
    rw.note(renames=tuple(renames))
    if moved:
        rw.note(followups=(Followup(RENAMED_TYPES, ", ".join(moved)),))
    kept = _kept_in_header(model, {old for old in names})
    if kept:
        rw.note(followups=(Followup(HEADER_CLASH, f"{model.h.path.name}: {', '.join(kept)}"),))


def _identifier_names(model, words: list[str]) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """Old name -> (new name, what it names), and the header's other types that moved."""
    from .catalogue import catalogue

    layer = model.layer
    names: dict[str, tuple[str, str]] = {layer.func.short_name: (type_name(layer.func.short_name, words), "function")}
    if model.param_struct:
        names[model.param_struct.name] = (type_name(model.param_struct.name, words), "struct")
    if model.binder:
        names[model.binder.name] = (type_name(model.binder.name, words), "binder")
    # another type the header defines would be defined twice where both headers are included: it takes a
    # name of its own too, unless code outside the pair takes it (a function the pair declares only)
    moved = []
    for st in model.structs:
        if st.file == "h" and st.name not in names and not model.used_outside(st.name):
            names[st.name] = (type_name(st.name, words), "type")
            moved.append(f"{st.name} -> {names[st.name][0]}")
    for e in model.enums:
        if e.name:
            names[e.name] = (type_name(e.name, words), "enum")
    for f in model.functions:
        short = f.short_name
        # statics in the .cpp are file-local; in the header they would clash with the float header's
        if f.owner or (f.is_static and f.file == "cpp") or short in names or vocabulary().name_is_fixed(short):
            continue
        creator = catalogue().conventions.creator_prefix
        if short.startswith(creator) and short != creator:
            names[short] = (creator + type_name(short[len(creator):], words), "creator")
        elif f.file == "cpp" and f.body is not None and not short.startswith(creator):
            names[short] = (prefixed(short, words), "helper")
    return names, moved


def _kept_in_header(model, renamed: set[str]) -> list[str]:
    """What the header defines under the same name in both headers: enumerators of plain enums, structs,
    constants and functions the rename leaves as they are."""
    kept = []
    for e in model.enums:
        if e.file == "h" and e.entries and not (e.scoped and e.name in renamed):
            kept.append(f"the entries of enum {e.name}" if e.name else f"enum entry {e.entries[0].name}...")
    kept += [f"struct {st.name}" for st in model.structs if st.file == "h" and st.name not in renamed]
    kept += [c.name for c in model.constants if c.file == "h" and c.name not in renamed]
    kept += [f"{f.short_name}()" for f in model.functions
             if f.file == "h" and f.body is not None and not f.owner and f.short_name not in renamed
             and not vocabulary().name_is_fixed(f.short_name)]  # overloaded on the renamed struct
    return kept


def guard_name(name: str, stem: str, upper: str) -> str:
    """The include guard of the rewrite's header: the mode's words before the file stem it names."""
    s = stem.upper()
    if s in name:
        return name.replace(s, f"{upper}_{s}", 1)
    if name.endswith("_H"):
        return name[:-2] + f"_{upper}_H"
    return name + f"_{upper}"
