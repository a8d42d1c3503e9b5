"""Per-site float fallback: a layer param flag that keeps one quant point float at run time.

Users keep a few layers float where the activations do not quantize well. Each chosen quant point gets a
``bool isFloat<Site>Layer = false;`` field, and each op of the point is set up twice: ``if (flag) { the float
form } else { the quant form }``. The unit is the quant point (a quant norm with the linears it feeds, or an
op that quantizes its own input): a linear that reads a quant norm's int8 output cannot stay float alone.
Where the op type has a switch for one of its linears (a telechat MLP's ``isDownQuant``), that switch reads
the flag instead of a branch: ``isDownQuant = !param.isFloatDownLayer``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from .build import Variant
from .catalogue import catalogue
from .conditions import literal
from .layer_graph import LayerGraph

#: the site a quant point is chosen by, from the label of its scale fields
SITE_OF_LABEL = {"qkv": "qkv", "normOut": "dense", "dense": "dense", "selfLn": "mlp", "mlpIn": "mlp",
                 "ffnOut": "down"}
SITES = ("qkv", "dense", "mlp", "down")
FALLBACK = ("float fallback flags added: the model sets them (from JSON where the layer reads JSON) to keep a "
            "quant point float in the layers whose activations do not quantize well")
NO_FALLBACK = "float fallback not added"
WHOLE_MLP = ("the MLP type has no switch for its down linear alone: the flag keeps the whole MLP, and the norm "
             "that feeds it, float")


@dataclass(frozen=True)
class FlagField:
    """A bool layer param field that keeps a quant point float."""

    name: str
    site: str
    point: str


@dataclass(frozen=True)
class Branch:
    """An op set up twice: the float form under ``condition``, the quant form otherwise."""

    op: str  # the op of the quant graph
    condition: str
    float_op: str  # the op ids of the two forms in the new graph
    quant_op: str


@dataclass
class Fallback:
    flags: list[FlagField] = dataclasses.field(default_factory=list)
    branches: list[Branch] = dataclasses.field(default_factory=list)
    switches: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # (op, field, value)
    refused: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (point, reason)
    notes: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # (kind, detail)


def float_fallback(before: LayerGraph, after: LayerGraph, scale_fields: list, wanted: tuple[str, ...]
                   ) -> tuple[LayerGraph, Fallback]:
    """The quant graph with the chosen points set up twice, and what was decided."""
    result = Fallback()
    if not wanted:
        return after, result
    new = after.copy()
    taken = set(before.source.identifiers) if before.source is not None else set()
    conditions: dict[str, list[str]] = {}  # op -> the flags that keep it float
    for sf in scale_fields:
        site = SITE_OF_LABEL.get(sf.label, "")
        op = sf.point.split("#")[0]
        node = after.graph.nodes[op]["node"] if op in after.graph else op
        if "all" not in wanted and site not in wanted and sf.point not in wanted and node not in wanted:
            continue
        ops, switch = _point_ops(after, sf, scale_fields)
        reason = _cannot_branch(before, after, ops) if switch is None else None
        layer_param = _layer_param(before, ops[0])
        if layer_param is None:
            reason = f"the param of {ops[0]} is set where the layer param is not given"
        if reason:
            result.refused.append((sf.point, reason))
            continue
        flag = _flag_name(site, node, [f.name for f in result.flags], taken)
        result.flags.append(FlagField(flag, site, sf.point))
        if switch is not None:
            result.switches.append((op, switch, f"!{layer_param}.{flag}"))
            continue
        if sf.point.endswith("#down"):
            result.notes.append((WHOLE_MLP, f"{op}: {flag}"))
        for o in ops:
            conditions.setdefault(o, []).append(f"{layer_param}.{flag}")
    for op, path, value in result.switches:  # before branching: the quant form of a branched op has it too
        plan = new.graph.nodes[op]["plan"]
        new.graph.nodes[op]["plan"] = dataclasses.replace(
            plan, fields=[(p, value if p == path else v) for p, v in plan.fields])
    for op, flags in conditions.items():
        result.branches.append(_branch(before, new, op, " || ".join(flags)))
    if result.flags:
        result.notes.append((FALLBACK, ", ".join(f.name for f in result.flags)))
    for point, reason in result.refused:
        result.notes.append((NO_FALLBACK, f"{point}: {reason}"))
    return new, result


def _point_ops(after: LayerGraph, sf, scale_fields: list) -> tuple[list[str], str | None]:
    """The ops a point's flag sets up twice, or the switch field that reads it instead."""
    op = sf.point.split("#")[0]
    if sf.point.endswith("#down"):
        optype = catalogue().lookup(after.param_type(op))
        switch = ((optype.get("quant") or {}).get("fallback_switches") or {}).get("down") if optype else None
        if switch:
            return [op], switch
        # no switch: the down linear is float only with the whole MLP, so the point that feeds the MLP
        for other in scale_fields:
            if other.point != sf.point:
                ops, _ = _point_ops(after, other, scale_fields)
                if op in ops:
                    return ops, None
        return [op], None
    if after.role(op) != "norm":
        return [op], None
    outs = after.outputs_of(op)
    int8 = next((t for t in outs if after.graph.nodes[t].get("quant_role") == "int8_out"), outs[0])
    takers = [c for c in after.consumers(int8)
              if after.graph.nodes[c].get("changed") and after.inputs_of(c)[:1] == [int8]]
    return [op, *takers], None


def _cannot_branch(before: LayerGraph, after: LayerGraph, ops: list[str]) -> str | None:
    """Why the ops of a point cannot be set up twice, or None."""
    layer = before.source.layer if before.source is not None else None
    for op in ops:
        if op not in before.graph or before.condition(op):
            return f"{op} is already set up under a branch"
        plan = after.graph.nodes[op].get("plan")
        if plan is not None and plan.callee:
            return f"{op} changes its op type's library ({before.param_type(op)} -> {plan.type}); its float form " \
                   "would need the old one too"
        gone = [t for t in before.inputs_of(op) + before.outputs_of(op) if t not in after.graph]
        if gone or before.outputs_of(op) != [t for t in after.outputs_of(op) if t in before.outputs_of(op)]:
            what = ", ".join(gone) or "a folded add"
            return f"the float form of {op} reads or writes what the rewrite replaces ({what})"
        if layer is not None and not _contiguous(before, op):
            return f"the statements that set up {op} are not next to each other"
    return None


def _layer_param(before: LayerGraph, op: str) -> str | None:
    create = before.graph.nodes[op]["variant"].create
    return create.param.layer_param if create is not None and create.param is not None else None


def _contiguous(before: LayerGraph, op: str) -> bool:
    """The op's creation call and tensor lists follow each other, with only statements of the same node
    between them: one if/else can hold them."""
    v: Variant = before.graph.nodes[op]["variant"]
    layer = before.source.layer
    if v.create is None or v.in_list is None:
        return False
    own = [(v.create.statement_start, v.create.span[1]), v.in_list.span] + ([v.out_list.span] if v.out_list else [])
    lo, hi = min(a for a, _ in own), max(b for _, b in own)
    scope = next((s.scope for s in layer.statements if s.span[0] == own[0][0]), None)
    for s in layer.statements:
        if (lo <= s.span[0] < hi and s.scope == scope and s.head != v.node.split("@")[0]
                and not any(a <= s.span[0] < b for a, b in own)):
            return False
    return scope is not None


def _flag_name(site: str, node: str, used: list[str], taken: set[str]) -> str:
    base = f"isFloat{site[:1].upper()}{site[1:]}Layer"
    if base in used:  # a second point of the same site: named after its op
        stem = re.sub(r"Node$", "", node.split("@")[0])
        base = f"isFloat{stem[:1].upper()}{stem[1:]}Layer"
    name, k = base, 2
    while name in taken or name in used:
        name, k = f"{base}{k}", k + 1
    return name


def _branch(before: LayerGraph, new: LayerGraph, op: str, condition: str) -> Branch:
    g = new.graph
    quant = dict(g.nodes[op])
    var = quant["node"]
    float_id, quant_id = f"{var}[{condition}]", f"{var}[{literal(condition, False)}]"
    source: Variant = before.graph.nodes[op]["variant"]
    ins = [(u, d["slot"]) for u, _, d in g.in_edges(op, data=True)]
    outs = [(v, d["slot"]) for _, v, d in g.out_edges(op, data=True)]
    float_ins = [(u, d["slot"]) for u, _, d in before.graph.in_edges(op, data=True)]
    float_outs = [(v, d["slot"]) for _, v, d in before.graph.out_edges(op, data=True)]
    g.remove_node(op)
    float_attrs = {**before.graph.nodes[op], "name": float_id, "condition": condition, "source_op": op,
                   "fallback": "float", "variant": dataclasses.replace(source, group=[{condition: True}],
                                                                        condition=condition)}
    quant_cond = literal(condition, False)
    quant_attrs = {**quant, "name": quant_id, "condition": quant_cond, "source_op": op, "fallback": "quant",
                   "order": quant["order"] + 0.5,
                   "variant": dataclasses.replace(source, group=[{condition: False}], condition=quant_cond)}
    g.add_node(float_id, **float_attrs)
    g.add_node(quant_id, **quant_attrs)
    for t, _ in ins:  # each form reads its weights in the roles the float and quant ops gave them
        roles = dict(g.nodes[t].get("role_in", {}))
        if op in roles:
            roles[quant_id] = roles[op]
        g.nodes[t]["role_in"] = roles
    for t, _ in float_ins:
        roles = dict(g.nodes[t].get("role_in", {}))
        float_role = before.graph.nodes[t].get("role_in", {}).get(op)
        if float_role:
            roles[float_id] = float_role
        g.nodes[t]["role_in"] = roles
    for node_id, cond, edges_in, edges_out in ((float_id, condition, float_ins, float_outs),
                                              (quant_id, quant_cond, ins, outs)):
        for t, slot in edges_in:
            g.add_edge(t, node_id, slot=slot, condition=cond)
        for t, slot in edges_out:
            g.add_edge(node_id, t, slot=slot, condition=cond)
    return Branch(op, condition, float_id, quant_id)
