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

from .build import Variant
from .conditions import literal
from .layer_graph import LayerGraph
from .naming import first_free, node_stem
from .plan import Branch, FieldSet, Followup, NewField
from .rewrite import Point, Rewrite, replace_change

#: the site a quant point is chosen by, from its kind (the keys of the catalogue's point labels: the labels
#: themselves are naming conventions and may change)
SITE_OF_KIND = {"norm->linear": "qkv", "norm->parallel_linear": "dense", "parallel_linear": "dense",
                "norm->mlp": "mlp", "mlp_up": "mlp", "mlp_down": "down"}
SITES = ("qkv", "dense", "mlp", "down")
FALLBACK = ("float fallback flags added: the model sets them (from JSON where the layer reads JSON) to keep a "
            "quant point float in the layers whose activations do not quantize well")
NO_FALLBACK = "float fallback not added"
WHOLE_MLP = ("the MLP type has no switch for its down linear alone: the flag keeps the whole MLP, and the norm "
             "that feeds it, float")


def float_fallback(rw: Rewrite) -> None:
    """The chosen points set up twice (or their switch set), their flags, and what could not be."""
    wanted = rw.opts.float_fallback
    taken = set(rw.float.source.identifiers) if rw.float.source is not None else set()
    conditions: dict[str, list[str]] = {}  # op -> the flags that keep it float
    flags: list[NewField] = []
    refused: list[tuple[str, str]] = []
    kind_of_label = {label: kind for kind, label in rw.conventions.point_labels}
    for point in rw.points.values():
        site = SITE_OF_KIND.get(kind_of_label.get(point.label, ""), "")
        op = point.op.split("#")[0]
        node = rw.graph.graph.nodes[op]["node"] if op in rw.graph.graph else op
        if "all" not in wanted and site not in wanted and point.op not in wanted and node not in wanted:
            continue
        ops, switch = _point_ops(rw, point)
        reason = _cannot_branch(rw, ops) if switch is None else None
        layer_param = rw.layer_param(ops[0])
        if layer_param is None:
            reason = f"the param of {ops[0]} is set where the layer param is not given"
        if reason:
            refused.append((point.op, reason))
            continue
        flag = _flag_name(rw, site, node, [f.name for f in flags], taken)
        flags.append(NewField(flag, "bool", "false", point.op, site, f"float fallback of {point.op}"))
        if switch is not None:  # before branching: the quant form of a branched op has it too
            change = rw.plan.change(op)
            replace_change(rw, op, fields=tuple(FieldSet(f.path, f"!{layer_param}.{flag}") if f.path == switch
                                                else f for f in change.fields))
            continue
        if point.op.endswith("#down"):
            rw.note(followups=(Followup(WHOLE_MLP, f"{op}: {flag}"),))
        for o in ops:
            conditions.setdefault(o, []).append(f"{layer_param}.{flag}")
    for op, names in conditions.items():
        rw.note(branches=(_branch(rw, op, " || ".join(names)),))
    rw.note(fields=tuple(flags))
    if flags:
        rw.note(followups=(Followup(FALLBACK, ", ".join(f.name for f in flags)),))
    rw.note(followups=tuple(Followup(NO_FALLBACK, f"{point}: {reason}") for point, reason in refused))


def _point_ops(rw: Rewrite, point: Point) -> tuple[list[str], str | None]:
    """The ops a point's flag sets up twice, or the switch field that reads it instead."""
    op = point.op.split("#")[0]
    if point.op.endswith("#down"):
        site = rw.sites.get(op)
        switch = dict(site.contract.fallback_switches).get("down") if site is not None else None
        if switch:
            return [op], switch
        # no switch: the down linear is float only with the whole MLP, so the point that feeds the MLP
        for other in rw.points.values():
            if other.op != point.op:
                ops, _ = _point_ops(rw, other)
                if op in ops:
                    return ops, None
        return [op], None
    if op not in rw.norms:
        return [op], None
    _, out = rw.norms[op]
    int8 = rw.int8_outputs.get(out, out)
    takers = [c for c in rw.graph.consumers(int8)
              if rw.graph.graph.nodes[c].get("changed") and rw.graph.inputs_of(c)[:1] == [int8]]
    return [op, *takers], None


def _cannot_branch(rw: Rewrite, ops: list[str]) -> str | None:
    """Why the ops of a point cannot be set up twice, or None."""
    before, after = rw.float, rw.graph
    for op in ops:
        if op not in before.graph or before.condition(op):
            return f"{op} is already set up under a branch"
        change = rw.plan.change(op)
        if change is not None and change.callee:
            return f"{op} changes its op type's library ({before.param_type(op)} -> {change.type}); its float form " \
                   "would need the old one too"
        gone = [t for t in before.inputs_of(op) + before.outputs_of(op) if t not in after.graph]
        if gone or before.outputs_of(op) != [t for t in after.outputs_of(op) if t in before.outputs_of(op)]:
            what = ", ".join(gone) or "a folded add"
            return f"the float form of {op} reads or writes what the rewrite replaces ({what})"
        if before.source is not None and not _contiguous(before, op):
            return f"the statements that set up {op} are not next to each other"
    return None


def _contiguous(before: LayerGraph, op: str) -> bool:
    """The op's creation call and tensor lists follow each other, with only statements of the same node
    between them: one if/else can hold them."""
    v: Variant = before.graph.nodes[op]["variant"]
    layer = before.source.layer
    own = v.setup_spans()
    if own is None:
        return False
    lo, hi = min(a for a, _ in own), max(b for _, b in own)
    scope = next((s.scope for s in layer.statements if s.span[0] == own[0][0]), None)
    for s in layer.statements:
        if (lo <= s.span[0] < hi and s.scope == scope and s.head != v.node.split("@")[0]
                and not any(a <= s.span[0] < b for a, b in own)):
            return False
    return scope is not None


def _flag_name(rw: Rewrite, site: str, node: str, used: list[str], taken: set[str]) -> str:
    template = rw.conventions.fallback_flag
    base = template.format(site=site[:1].upper() + site[1:])
    if base in used:  # a second point of the same site: named after its op
        stem = node_stem(node, rw.conventions.node_suffix)
        base = template.format(site=stem[:1].upper() + stem[1:])
    return first_free(lambda k: base + k, lambda name: name in taken or name in used)


def _branch(rw: Rewrite, op: str, condition: str) -> Branch:
    before, g = rw.float, rw.graph.graph
    quant = dict(g.nodes[op])
    var = quant["node"]
    quant_cond = literal(condition, False)
    float_id, quant_id = f"{var}[{condition}]", f"{var}[{quant_cond}]"
    source: Variant = before.graph.nodes[op]["variant"]
    ins = [(u, d["slot"]) for u, _, d in g.in_edges(op, data=True)]
    outs = [(v, d["slot"]) for _, v, d in g.out_edges(op, data=True)]
    float_ins = [(u, d["slot"]) for u, _, d in before.graph.in_edges(op, data=True)]
    float_outs = [(v, d["slot"]) for _, v, d in before.graph.out_edges(op, data=True)]
    rw.graph.remove(op)
    g.add_node(float_id, **{**before.graph.nodes[op], "name": float_id, "condition": condition, "source_op": op,
                            "fallback": "float", "variant": dataclasses.replace(source, group=[{condition: True}],
                                                                                 condition=condition)})
    g.add_node(quant_id, **{**quant, "name": quant_id, "condition": quant_cond, "source_op": op, "fallback": "quant",
                            "order": quant["order"] + 0.5,
                            "variant": dataclasses.replace(source, group=[{condition: False}], condition=quant_cond)})
    _role_in(rw, op, quant_id, [t for t, _ in ins], g)
    _role_in(rw, op, float_id, [t for t, _ in float_ins], before.graph)
    for node_id, edges_in, edges_out in ((float_id, float_ins, float_outs), (quant_id, ins, outs)):
        rw.graph.rewire(node_id, [t for t, _ in sorted(edges_in, key=lambda e: e[1])],
                        [t for t, _ in sorted(edges_out, key=lambda e: e[1])])
    return Branch(op, var, condition, float_id, quant_id)


def _role_in(rw: Rewrite, op: str, new_id: str, tensors: list[str], roles_from) -> None:
    """Each form reads its weights in the roles the float and quant ops gave them."""
    g = rw.graph.graph
    for t in tensors:
        roles = dict(g.nodes[t].get("role_in", {}))
        role = roles_from.nodes[t].get("role_in", {}).get(op)
        if role:
            roles[new_id] = role
        g.nodes[t]["role_in"] = roles
