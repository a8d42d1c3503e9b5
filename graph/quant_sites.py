"""Quant sites: each linear-like op the rewrite quantizes gets a deqscale, a bias (unless the float layer
already feeds one) and, in sparse mode, an index per linear, in the slots its contract names; its param gets
the contract's fields, type, creation function and include; a packed gate-up MLP is split."""

from __future__ import annotations

import re

from .build import is_packed as packs
from .build import param_assigns
from .naming import first_free
from .plan import Followup, OpChange
from .quant_norms import add_input, fill, fresh_name, last_input, placeholder, weight_stem
from .rewrite import Rewrite, Site

UPGRADED = "V1 type upgraded to its V2 counterpart; check the fields it moved"
DROPPED = "float assignment dropped: the upgraded type has no such field"
SPLIT = "packed gate-up weight split into up and gate weights; the model must supply the two weights"
KEPT_PACKED = ("packed gate-up MLP kept packed; the model must supply the packed weight's deqscale and bias in "
               "the up slots (without --keep-packed-mlp it is split)")
NOT_SPLIT = "packed gate-up MLP not split"
RECENT = ("fields set that older versions of the library declaring the type lack; check that yours declares them "
          "(with your headers on -I the verifier checks it)")
_SITE_ORDER = ["", "up", "gate", "down"]


def quantize_sites(rw: Rewrite) -> None:
    for op, site in rw.sites.items():
        by_slot = {v: k for k, v in rw.float.site_tensors(op).items()}  # "w_up" -> tensor
        split = _split_packed(rw, op, site, by_slot)
        fill_slots = _site_tensors(rw, op, site, by_slot, split)
        slots = site.contract.slots
        if any(sl not in fill_slots for sl in slots) and rw.holder is None:
            rw.holder = placeholder(rw) or _add_placeholder(rw)
        inputs = [fill_slots.get(sl, rw.holder) for sl in slots]
        change = _op_change(rw, op, site, by_slot, split, fill_slots, inputs)
        rw.graph.rewire(op, inputs, rw.float.outputs_of(op))
        rw.graph.mark(op, changed=True, change=change, **({"param_type": change.type} if change.type else {}))
        rw.note(ops=(change,))
    for packed in rw.split:  # its enum entry now names the up weight
        rw.graph.remove(packed)
    for note in rw.plan.left_float:  # what a reviewer looks for: sites the rewrite did not quantize, and why
        if note.op in rw.graph.graph and not rw.graph.graph.nodes[note.op].get("changed"):
            rw.graph.mark(note.op, left_float=note.reason)


def _add_placeholder(rw: Rewrite) -> str:
    """A placeholder input for the unused slots, declared only when some slot reads it."""
    return add_input(rw, rw.conventions.placeholder, last_input(rw), 90, "holder", kind="placeholder")


def _site_tensors(rw: Rewrite, op: str, site: Site, by_slot: dict[str, str],
                  split: tuple[str, str, str] | None) -> dict[str, str]:
    """Slot name -> tensor: the activation (int8 from a quant norm where one feeds it), the weights, and per
    weight its bias, deqscale and index, added once per weight (branch variants of a site share them)."""
    fill_slots: dict[str, str] = {"x": rw.int8_feeds.get(op, rw.float.inputs_of(op)[0])}
    place: dict[str, tuple[str, int]] = {}  # weight -> (the entry its new tensors follow, rank offset there)
    if split is not None:
        packed, up, gate = split
        by_slot["w_up"], by_slot["w_gate"] = up, gate
        place = {up: (packed, 0), gate: (packed, 4)}
    suffixes = sorted({s[2:] for s in by_slot if s.startswith("w_")}, key=_SITE_ORDER.index)
    for s in suffixes:
        w = fill_slots[f"w_{s}"] = by_slot[f"w_{s}"]
        wants_index = f"i_{s}" in site.contract.slots
        if w in rw.weight_tensors:  # another branch variant of the same site: same tensors
            got = rw.weight_tensors[w]
            fill_slots.update({f"{k}_{s}": v for k, v in got.items() if v and (k != "i" or wants_index)})
            continue
        names = dict(rw.conventions.added_names)
        stem = weight_stem(rw, w)
        at, offset = place.get(w, (w, 0))
        if f"b_{s}" in by_slot:  # the float layer feeds a bias already: it is reused
            fill_slots[f"b_{s}"] = by_slot[f"b_{s}"]
            anchor, rank = by_slot[f"b_{s}"], 1
        else:
            fill_slots[f"b_{s}"] = add_input(rw, names["bias"].format(stem=stem), at, offset + 2, "bias")
            anchor, rank = at, offset + 1
        fill_slots[f"d_{s}"] = add_input(rw, names["deqscale"].format(stem=stem), anchor, rank, "deqscale")
        if wants_index:
            fill_slots[f"i_{s}"] = add_input(rw, names["index"].format(stem=stem), anchor, offset + 3, "index")
        rw.weight_tensors[w] = {"b": fill_slots[f"b_{s}"], "d": fill_slots[f"d_{s}"], "i": fill_slots.get(f"i_{s}")}
    return fill_slots


def _split_packed(rw: Rewrite, op: str, site: Site, by_slot: dict[str, str]) -> tuple[str, str, str] | None:
    """(packed weight, up weight, gate weight) where the op's packed gate-up weight is split (the first branch
    variant of a site declares the two weights; the others share them), else None."""
    if not rw.opts.unpack_mlp or not is_packed(rw, op):
        return None
    packed = by_slot["w_up"]
    if packed in rw.split:
        return rw.split[packed]
    node = rw.float.graph.nodes[op]["node"]
    others = [c for c in rw.float.consumers(packed) if rw.float.graph.nodes[c]["node"] != node]
    if "b_up" in by_slot:
        rw.note(followups=(Followup(NOT_SPLIT, f"{op}: it has a packed bias {by_slot['b_up']}"),))
        return None
    if others:
        rw.note(followups=(Followup(NOT_SPLIT, f"{op}: {packed} is also read by {', '.join(others)}"),))
        return None
    conv = rw.conventions
    base = re.sub(conv.packed_suffix, "", weight_stem(rw, packed))
    taken = set(rw.float.tensors()) | (rw.float.source.identifiers if rw.float.source is not None else set())
    names = []
    for part in ("up", "gate"):
        name = dict(conv.split_names)[part].format(base=base)
        names.append(first_free(lambda k, name=name: f"{name}_{k}" if k else name, taken.__contains__))
    up = add_input(rw, names[0], packed, 0, "weight", replaces=packed, fresh=False)
    gate = add_input(rw, names[1], packed, 4, "weight", fresh=False)
    rw.names.update((up, gate))
    rw.split[packed] = (packed, up, gate)
    return rw.split[packed]


def is_packed(rw: Rewrite, op: str) -> bool:
    """The MLP's param says it packs gate and up into one weight."""
    return rw.float.role(op) == "mlp" and packs(rw.float, op)


def _op_change(rw: Rewrite, op: str, site: Site, by_slot: dict[str, str], split, fill_slots: dict[str, str],
               inputs: list[str]) -> OpChange:
    contract, lg = site.contract, rw.float
    fields = list(contract.fields)
    fed = op in rw.int8_feeds
    if not fed and contract.self_quant_fields:  # no quant norm feeds it: it quantizes its own input
        fields = _merge(fields, contract.self_quant_fields)
    if fed and contract.int8_fed_fields:
        fields = [(p, v) for p, v in _merge(fields, contract.int8_fed_fields)
                  if not p.startswith(contract.int8_fed_drop)]
    lacks = [prefix for s, prefix in contract.site_fields if f"w_{s}" not in by_slot]
    fields = [(p, v) for p, v in fields if not p.startswith(tuple(lacks))]
    point, down = rw.points.get(op), rw.points.get(op + "#down")
    values = {"layer_param": rw.layer_param(op)}
    if point is not None:
        values.update(scale=point.scale, offset=point.offset)
    if down is not None:
        values.update(down_scale=down.scale, down_offset=down.offset)
    filled = [f if f.path not in contract.only_change_fields else type(f)(f.path, f.value, True)
              for f in fill(tuple(fields), values)]
    change = OpChange(op, lg.graph.nodes[op]["node"], tuple(filled), type=contract.type, init=contract.init,
                      keep_fields=contract.keep_fields, slots=tuple(sl if sl in fill_slots else "holder"
                                                                    for sl in contract.slots),
                      inputs=tuple(inputs), outputs=tuple(lg.outputs_of(op)))
    change = _upgrade(rw, op, site, change)
    change = _packing(rw, op, site, split, change)
    _recent_fields(rw, op, site, change)
    return change


def _merge(base: list[tuple[str, str]], extra: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """``base`` with each of ``extra``'s fields set (in its place when ``base`` sets it, else appended)."""
    out = [list(x) for x in base]
    for p, v in extra:
        for item in out:
            if item[0] == p:
                item[1] = v
                break
        else:
            out.append([p, v])
    return [(p, v) for p, v in out]


def _upgrade(rw: Rewrite, op: str, site: Site, change: OpChange) -> OpChange:
    """A V1 type becomes its V2 counterpart: new type, creation function, include, moved comm fields; a float
    assignment the V2 type has no field for is dropped and reported."""
    up = site.float_type.upgrade if site.float_type is not None else None
    if up is None or site.type is site.float_type:
        return change
    import dataclasses

    renames = tuple(up.field_renames)
    members = set(site.type.members)
    heads = {old for old, _ in renames}
    float_paths = [a.path for a in param_assigns(rw.float, op)]
    dropped = tuple(sorted({p for p in float_paths if members and p.split(".")[0] not in heads
                            and p.split(".")[0] not in members}))
    keep = tuple(p for p in float_paths if p not in dropped) if dropped else change.keep_fields
    if dropped:
        rw.note(followups=(Followup(DROPPED, f"{op}: {site.type.name} has no field {', '.join(dropped)}"),))
    moved = ", ".join(f"{a} -> {b}" for a, b in renames if any(p.split(".")[0] == a for p in float_paths))
    rw.note(followups=(Followup(UPGRADED, f"{op}: {rw.float.param_type(op)} -> {site.type.name}"
                                          + (f" ({moved})" if moved else "")),))
    return dataclasses.replace(change, type=site.type.name, callee=up.callee, renames=renames, dropped=dropped,
                               keep_fields=keep, include=up.include, old_include=up.old_include)


def _packing(rw: Rewrite, op: str, site: Site, split, change: OpChange) -> OpChange:
    import dataclasses

    from .plan import FieldSet

    if split is not None:  # the default value is the unpacked one: only the float's `packed` is edited
        packing = site.float_type.packing
        target = site.type.packing or packing
        rw.note(followups=(Followup(SPLIT, f"{op}: {split[0]} -> {split[1]}, {split[2]}"),))
        return dataclasses.replace(change, fields=(*change.fields, FieldSet(target.field, target.unpacked, True)))
    if is_packed(rw, op):
        packing = site.type.packing or site.float_type.packing
        rw.note(followups=(Followup(KEPT_PACKED, op),))
        return dataclasses.replace(change, fields=tuple(f for f in change.fields if f.path != packing.field))
    return change


def _recent_fields(rw: Rewrite, op: str, site: Site, change: OpChange) -> None:
    if rw.opts.headers_given:  # the verifier checks every field against the user's headers
        return
    recent = set(site.type.recent_members)
    for f in change.fields:
        if f.path.split(".")[0] in recent:
            rw.note(followups=(Followup(RECENT, f"{op}: {site.type.name.rsplit('::', 1)[-1]}.{f.path}"),))


__all__ = ["DROPPED", "KEPT_PACKED", "NOT_SPLIT", "RECENT", "SPLIT", "UPGRADED", "fresh_name", "quantize_sites"]
