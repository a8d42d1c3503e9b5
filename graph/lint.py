"""Invariants every layer graph keeps, checked on the graph alone.

A pass that breaks one is caught here, before any text exists: the pipeline lints the graph after every
pass (under debug logging) and the tests lint every pass output on every fixture. ``validate`` compares a
graph with the source it came from; ``lint`` needs nothing but the graph.
"""

from __future__ import annotations

import itertools

from .catalogue import catalogue
from .layer_graph import IN_KINDS, TENSOR, Finding, LayerGraph

#: what may stand in a contract slot, by the slot's name (its part before the site suffix)
_SLOT_HOLDS = {
    "w": ("weight",), "b": ("bias", "weight"), "d": ("deqscale",), "i": ("index",), "gamma": ("weight",),
    "beta": ("beta", "weight", "input"), "holder": ("placeholder",),
}


def lint(lg: LayerGraph) -> list[Finding]:
    """What is wrong with the graph as a graph: each tensor written once (per branch) and read, or a layer
    input or output; every op's inputs as its contract places them; the declared counts those of the tensor
    groups and nodes; no cycle."""
    out: list[Finding] = []
    _tensors(lg, out)
    _slots(lg, out)
    _counts(lg, out)
    cycle = lg.cycle_ops()
    if cycle:
        out.append(_finding(f"the dataflow has a cycle through {', '.join(cycle)}", "cycle", ""))
    return out


def _finding(message: str, code: str, subject: str) -> Finding:
    return Finding("error", message, None, None, f"lint-{code}", subject)


def _tensors(lg: LayerGraph, out: list[Finding]) -> None:
    g = lg.graph
    # a tensor written again under a branch gets a new version; a later op reads whichever was written last,
    # so a name is read when some version of it is
    read_names = {d["name"] for t, d in g.nodes(data=True) if d["kind"] == TENSOR and g.out_degree(t)}
    for t, d in g.nodes(data=True):
        if d["kind"] != TENSOR:
            continue
        kind, name = d["tensor_kind"], d["name"]
        writers = [u for u in g.predecessors(t)]
        readers = list(g.successors(t)) or ([name] if name in read_names else [])
        if kind == "undeclared":
            out.append(_finding(f"tensor {name} is used but not declared", "undeclared", name))
            continue
        if kind in IN_KINDS and writers and not d.get("version"):
            out.append(_finding(f"input {name} is written by {', '.join(writers)}", "input-written", name))
        if kind in ("intermediate", "output") and not d.get("version") and not writers:
            out.append(_finding(f"{kind} {name} is never written", "unwritten", name))
        if kind == "intermediate" and writers and not readers and not _all_outputs_kept(lg, writers, t):
            out.append(_finding(f"intermediate {name} is written but never read", "unread", name))
        if kind in IN_KINDS and not readers and not writers and d.get("added"):
            out.append(_finding(f"added input {name} is read by no op", "unread", name))
        for a, b in itertools.combinations(writers, 2):
            if g.nodes[a]["node"] != g.nodes[b]["node"] and lg.set_up_together(a, b):
                out.append(_finding(f"tensor {name} is written by both {a} and {b}", "written-twice", name))
                break


def _all_outputs_kept(lg: LayerGraph, writers: list[str], t: str) -> bool:
    """An op with several outputs fills each of them, read or not (a quant LayerNorm's float output)."""
    return all(lg.graph.out_degree(w) > 1 for w in writers)


def _slots(lg: LayerGraph, out: list[Finding]) -> None:
    """A rewritten op's inputs fill the slots its plan names (a deqscale where the contract wants one, the
    placeholder in every unused slot); an op the rewrite left alone reads weights in its float weight
    slots."""
    g = lg.graph
    cat = catalogue()
    for op in lg.ops():
        d = g.nodes[op]
        ins = lg.inputs_of(op)
        change = d.get("change")
        slots = change.slots if change is not None else None
        if slots:
            if len(ins) != len(slots):
                out.append(_finding(f"{op} reads {len(ins)} inputs where its contract has {len(slots)} slots",
                                    "slot-count", op))
                continue
            for i, (slot, t) in enumerate(zip(slots, ins, strict=True)):
                wanted = _SLOT_HOLDS.get(slot.split("_")[0])
                if wanted and _role(lg, op, t) not in wanted:
                    out.append(_finding(f"{op} slot {i} ({slot}) reads {t}, a {_role(lg, op, t)}", "slot-role", op))
            continue
        entry = cat.entry(d["param_type"])
        for i, site in entry.float_slots if entry else ():
            if site.startswith("w_") and i < len(ins) and lg.tensor_kind(ins[i]) not in ("weight", "placeholder"):
                out.append(_finding(f"{op} slot {i} ({site}) reads {ins[i]}, a {lg.tensor_kind(ins[i])}",
                                    "slot-role", op))


def _role(lg: LayerGraph, op: str, t: str) -> str:
    """What a tensor is to an op: the role a pass gave it (deqscale, bias, index, beta...), its site role in
    the float layout (a float bias), else its kind."""
    d = lg.graph.nodes[t]
    role = d.get("quant_role")
    if role == "holder":
        return "placeholder"
    if role in ("deqscale", "index", "beta", "bias"):
        return role
    site = d.get("role_in", {}).get(op, "")
    if site.startswith("b_"):
        return "bias"
    return d["tensor_kind"]


def _counts(lg: LayerGraph, out: list[Finding]) -> None:
    """The counts the layer declares (as the graph carries them) against its tensor groups."""
    declared = lg.meta.get("declared_counts") or {}
    if not declared:
        return
    kinds = lg.group_counts()
    for name, (group, value) in declared.items():
        if group in kinds and value != kinds[group]:
            out.append(_finding(f"{name} says {value} {group} tensors but the graph has {kinds[group]}", "count",
                                name))
