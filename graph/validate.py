"""Consistency checks of a layer graph against its source: counts, declarations, dataflow."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from llm_transform.source.model import LayerSource
from llm_transform.source.vocabulary import vocabulary

from .build import EnumInfo, count_values, evaluate, node_room, param_assigns, read_elsewhere
from .catalogue import catalogue
from .conditions import holds
from .layer_graph import Finding, LayerGraph


def validate(lg: LayerGraph) -> list[Finding]:
    model: LayerSource = lg.source
    info: EnumInfo = lg.meta["enum_info"]
    out: list[Finding] = []

    def add(sev: str, msg: str, which: str | None = None, offset: int | None = None, *, code: str = "",
            subject: str = "", at: tuple[str, int] | None = None) -> None:
        path = str(model.file(which).path) if which else lg.path
        line = model.line(which, offset) if which is not None and offset is not None else None
        if at is not None:  # a place a compiler reported: path and line as it gave them
            path, line = at
        out.append(Finding(sev, msg, path, line, code, subject))

    _check_enum_reading(lg, info, add)
    if not info.entries and not model.layer.tensor_vars and not model.string_tensors:
        add("error", "no tensor ids found: no enum, no ids counted at run time, no tensor-name lists", "cpp",
            model.layer.func.span[0], code="no-enum")
        return out
    names = count_values(model, info)
    kinds = {t: lg.tensor_kind(t) for t in lg.tensors()}
    actuals = lg.group_counts()
    _check_count_constants(model, names, actuals, add)
    _check_id_ranges(info, kinds, actuals, add)
    _check_graph_counts(model, names, actuals, add)
    _check_nodes(lg, model, names, add)
    _check_own_names(lg, model, add)
    _check_dataflow(lg, model, add)
    _check_fields(lg, add)
    return out


def _check_enum_reading(lg: LayerGraph, info: EnumInfo, add) -> None:
    for msg, which, off in info.problems:
        add("error", msg, which, off, code="enum")
    # libclang evaluates enum constants reliably even without the ATB headers: a disagreement means the
    # tool misread the enum, and every slot it would wire is suspect
    clang_values = lg.meta.get("clang_enum_values") or {}
    for name, value, e, idx in info.entries:
        if name in clang_values and clang_values[name] != value:
            add("error", f"enum entry {name} is {clang_values[name]} for libclang but {value} for the tool; "
                "please report this file", e.file, e.entries[idx].span[0], code="enum-clang", subject=name)


def _check_count_constants(model: LayerSource, names: dict[str, int], actuals: dict[str, int], add) -> None:
    counts = catalogue().conventions.count_constants
    read = read_elsewhere(model, {n for _, names_of in counts for n in names_of})
    for what, names_of in counts:
        actual = actuals[what]
        for cname in names_of:
            c = model.constant(cname)
            if c is None or cname not in read:
                continue
            v = names.get(cname)
            if v is None:
                add("warning", f"cannot evaluate {cname} = {c.value}", c.file, c.span[0], code="count-eval",
                    subject=cname)
            elif v != actual:
                add("error", f"{cname} is {v} but the enum has {actual} {what} entries", c.file, c.span[0],
                    code="count", subject=cname)


def _check_id_ranges(info: EnumInfo, kinds: dict[str, str], actuals: dict[str, int], add) -> None:
    """A graph numbers its inputs first, then its outputs, then its intermediates: an id outside its kind's
    range (an input entry placed after the outputs) makes the graph read another tensor."""
    n_in, n_out = actuals["input"], actuals["output"]
    ranges = {"input": (0, n_in), "output": (n_in, n_in + n_out), "intermediate": (n_in + n_out, None)}
    for name, value, e, idx in info.entries:
        kind = {"weight": "input", "placeholder": "input"}.get(kinds.get(name, ""), kinds.get(name, ""))
        lo, hi = ranges.get(kind, (None, None))
        if lo is not None and not (lo <= value and (hi is None or value < hi)):
            span = f"{lo} and up" if hi is None else str(lo) if hi == lo + 1 else f"{lo}..{hi - 1}"
            add("error", f"enum entry {name} is {value}, but the graph numbers its {kind}s {span}; entries go "
                "inputs first, then outputs, then intermediates", e.file, e.entries[idx].span[0],
                code="id-range", subject=name)


def _check_graph_counts(model: LayerSource, names: dict[str, int], actuals: dict[str, int], add) -> None:
    """`opGraph.inTensorNum = 17;` written as a literal is a count like the constants; one set from another
    group's count (`internalTensorNum = IN_TENSOR_COUNT`, seen in real layers) changes with the rewrite."""
    groups = dict(catalogue().conventions.graph_counts)
    for s in model.layer.settings:
        if s.what not in groups:
            continue
        actual = actuals[groups[s.what]]
        v = s.value.strip().rstrip("uUlL")
        if v.isdigit() and int(v) != actual:
            add("error", f"{model.layer.graph_var}.{s.what} is {v} but the enum has {actual}", "cpp", s.span[0],
                code="count", subject=s.what)
        elif not v.isdigit() and not s.cond and (value := evaluate(s.value, names)) not in (None, actual):
            add("warning", f"{model.layer.graph_var}.{s.what} = {' '.join(s.value.split())} is {value} but the "
                f"enum has {actual}; it follows that expression through the rewrite", "cpp", s.span[0],
                code="count-expression", subject=s.what)


_NAMED = re.compile(r"^(?:unknown type name|use of undeclared identifier|no member named) '(\w+)'"
                    r"(?: in (?:namespace )?'([\w:]+)')?")


def _check_own_names(lg: LayerGraph, model: LayerSource, add) -> None:
    """libclang, even without the ATB headers, knows the pair's own types and functions: an error that says
    one of them is unknown where it is used (a line moved above the include or the declaration), or that
    the layer's own struct lacks a field the pair reads and the struct does not declare, is the float layer's
    own defect. Rewriting it would carry the defect over under new names."""
    parsed = lg.meta.get("clang")
    if parsed is None:
        return
    # where each name is declared; one whose declaration libclang could not read (a return type from an
    # unread header) is unknown to it everywhere, which says nothing about the pair
    heads = [(s.name, s.file, s.span[0], s.name_span[1]) for s in model.structs]
    heads += [(e.name, e.file, e.span[0], e.name_span[1]) for e in model.enums if e.name and e.name_span]
    heads += [(f.short_name, f.file, f.span[0], f.name_span[1]) for f in model.functions
              if not vocabulary().name_is_fixed(f.short_name)]
    bad = {(Path(d.file).name if d.file else None, d.line) for d in parsed.errors()}
    own = {name for name, which, a, b in heads
           if not any((model.file(which).path.name, ln) in bad
                      for ln in range(model.line(which, a), model.line(which, b) + 1))}
    fields = {s.name: {f.name for f in s.fields} for s in model.structs}
    for d in parsed.errors():
        m = _NAMED.match(d.spelling)
        if m is None:
            continue
        name, scope = m.group(1), (m.group(2) or "").rsplit("::", 1)[-1]
        member_of_own = d.spelling.startswith("no member") and scope in fields and name not in fields[scope]
        unknown_own = name in own and (not d.spelling.startswith("no member") or " in namespace " in d.spelling)
        if member_of_own or unknown_own:
            add("error", f"the float layer does not compile: {d.spelling}, although the pair declares "
                f"{name if unknown_own else scope}", code="own-name", subject=name,
                at=(d.file or lg.path or "", d.line))
            return


def _check_fields(lg: LayerGraph, add) -> None:
    """Without the user's headers the catalogue says which fields a type declares (where it lists them):
    a field it does not declare would not compile. A warning, since a header version may have more."""
    cat = catalogue()
    seen: set[tuple[str, str]] = set()
    for op in lg.ops():
        optype = cat.lookup(lg.param_type(op))
        members = set(optype.entry.members) if optype else set()
        if not members:
            continue
        for a in param_assigns(lg, op):
            top = a.path.split(".")[0]
            if top and top not in members and (a.param.var, top) not in seen:
                seen.add((a.param.var, top))
                add("warning", f"{a.param.var}.{a.path} is set, but {optype.name} declares no field {top}", "cpp",
                    a.span[0], code="unknown-field", subject=f"{a.param.var}.{top}")


def _check_nodes(lg: LayerGraph, model: LayerSource, names: dict[str, int], add) -> None:
    """The room ``nodes.resize`` makes (a literal, a count constant of any name, or an expression of one
    such as ``NODE_COUNT + 4``) against the nodes the layer declares."""
    layer = model.layer
    room = node_room(model)
    if room is None:
        return  # sized per branch, by a branch-dependent expression, or only by nodeId
    declared = evaluate(room.setting.value, names)
    if declared is None:
        return
    what = " ".join(room.setting.value.split())
    where = (room.constant.file, room.constant.span[0]) if room.constant else ("cpp", room.setting.span[0])
    subject = room.constant.name if room.constant else room.setting.what
    conditional = [n for n in layer.nodes if n.cond]
    unconditional = len(layer.nodes) - len(conditional)
    # a layer that shrinks the list to what it used (a later `nodes.resize(nodeId)`) reserves room first: its
    # size is an upper bound, too small only when fewer than the nodes created
    if not conditional and layer.resize_to_node_id and unconditional > declared:
        add("error", f"{what} is {declared} but the layer creates {unconditional} nodes", *where,
            code="node-count", subject=subject)
    elif not conditional and not layer.resize_to_node_id and unconditional != declared:
        add("error", f"{what} is {declared} but the layer declares {unconditional} nodes", *where,
            code="node-count", subject=subject)
    elif conditional and unconditional + len(conditional) > declared and not layer.resize_to_node_id:
        atoms = sorted({a for n in conditional for a, _ in n.cond})
        worst = 0
        for values in itertools.product((True, False), repeat=min(len(atoms), 10)):
            asg = dict(zip(atoms, values, strict=False))
            worst = max(worst, unconditional + sum(1 for n in conditional if holds(n.cond, asg)))
        if worst > declared:
            add("error", f"{what} is {declared} but up to {worst} nodes are declared", *where,
                code="node-count", subject=subject)


def _check_dataflow(lg: LayerGraph, model: LayerSource, add) -> None:
    g = lg.graph
    layer = model.layer
    list_span = {}
    for lst in layer.lists:
        for e in lst.elems:
            list_span.setdefault(e.text, e.span[0])
    tensors = lg.tensors()
    producers_of = {t: lg.producers(t) for t in tensors}
    for t in tensors:
        kind = lg.tensor_kind(t)
        consumers = lg.consumers(t)
        producers = producers_of[t]
        if kind == "undeclared":
            add("error", f"tensor {t} is used but not declared in the tensor enum", "cpp", list_span.get(t),
                code="undeclared", subject=t)
        elif kind in ("input", "placeholder") and not consumers and not producers:
            add("warning", f"{kind} {t} is read by no node", *_entry_where(lg, t), code="unread-input", subject=t)
        elif kind == "intermediate":
            if consumers and not producers:
                add("error", f"intermediate {t} is read but never written", *_entry_where(lg, t),
                    code="unwritten", subject=t)
            elif not consumers and not producers:
                add("warning", f"intermediate {t} is declared but never used", *_entry_where(lg, t),
                    code="unused-intermediate", subject=t)
            elif producers and not consumers and any(len(lg.outputs_of(p)) == 1 for p in producers):
                # an op with several outputs must fill every output slot, read or not (a quant LayerNorm
                # writes its float output beside the int8 one its consumers read)
                add("warning", f"intermediate {t} is written but never read", *_entry_where(lg, t),
                    code="unread-intermediate", subject=t)
        elif kind == "output" and not producers:
            add("error", f"output {t} is never written", *_entry_where(lg, t), code="unwritten", subject=t)
    # written twice under one assignment of the conditions
    for t in tensors:
        if len(producers_of[t]) < 2 or lg.tensor_kind(t) not in ("intermediate", "output"):
            continue
        # an op that reads the tensor it writes updates it in place (a scale, a residual add into it)
        prods = [p for p in producers_of[t] if t not in lg.inputs_of(p)]
        if len(prods) < 2:
            continue
        for a, b in itertools.combinations(prods, 2):
            va = g.nodes[a]["variant"]
            if lg.set_up_together(a, b) and g.nodes[a]["node"] != g.nodes[b]["node"]:
                add("error", f"tensor {t} is written by both {a} and {b}", "cpp",
                    va.out_list.span[0] if va.out_list else None, code="written-twice", subject=t)
                break
    cycle = lg.cycle_ops()
    if cycle:
        add("error", f"the dataflow has a cycle through {', '.join(cycle)}", "cpp", None, code="cycle")


def _entry_where(lg: LayerGraph, t: str) -> tuple[str | None, int | None]:
    declared_at = lg.graph.nodes[t].get("declared_at") if t in lg.graph else None
    if declared_at is not None:
        return declared_at[0], declared_at[1][0]
    info: EnumInfo = lg.meta["enum_info"]
    for name, _v, e, idx in info.entries:
        if name == t:
            return e.file, e.entries[idx].span[0]
    return None, None
