"""The counts a rewrite changes: tensor counts written as numbers follow the tensor groups, the node list's
size drops by the nodes removed, and a count written as an expression of other counts is reported where it
ends up at another value than the layer has."""

from __future__ import annotations

from llm_transform.source.errors import LayerError

from .build import count_values, declared_counts, evaluate, int_literal, node_room
from .plan import CountUpdate, Followup
from .rewrite import Rewrite

COUNT_FOLLOWS = ("a graph count is set from another count's constant and follows it through the rewrite; check "
                 "the value it gets")


def plan_counts(rw: Rewrite) -> None:
    model = rw.float.source
    if model is None or model.layer is None:
        return
    groups = rw.graph.group_counts()
    conv = rw.conventions
    updates: dict[str, int] = {}
    for group, names in conv.count_constants:
        for name in names:
            c = model.constant(name)
            if c is None or group not in groups or (number := int_literal(c.value)) is None:
                continue  # an expression over sentinels stays: the verifier checks it
            updates[name] = groups[group]
            if number != groups[group]:
                rw.note(counts=(CountUpdate(name, groups[group]),))
    before, after = _values(rw), _values(rw, updates)
    settings = dict(conv.graph_counts)
    set_to: dict[str, int] = {}
    for s in model.layer.settings:  # `opGraph.inTensorNum = 17;`
        group = settings.get(s.what)
        if group not in groups or group == "output":
            continue
        value = groups[group]
        number = int_literal(s.value)
        if number is not None and s.value_span:
            set_to[s.what] = value
            if number != value:
                rw.note(counts=(CountUpdate(s.what, value, setting=True),))
        elif number is None:  # an expression: it follows the constants it names
            old, new = evaluate(s.value, before), evaluate(s.value, after)
            if old is not None and new is not None and old != new and new != value:
                rw.note(followups=(Followup(COUNT_FOLLOWS, f"{model.layer.graph_var}.{s.what} = "
                                                          f"{' '.join(s.value.split())} becomes {new} (was {old}); "
                                                          f"the layer has {value}"),))
    # what the rewritten layer will say it counts, for lint to hold against its graph
    # (a count written as an expression over the enum's sentinels is the verifier's to check)
    rw.graph.meta["declared_counts"] = declared_counts(model, updates, set_to)
    if rw.plan.removed_ops:
        _shrink_node_room(rw, len(rw.plan.removed_ops))


def _values(rw: Rewrite, counts: dict[str, int] | None = None) -> dict[str, int]:
    return count_values(rw.float.source, rw.float.meta["enum_info"], counts)


def _shrink_node_room(rw: Rewrite, removed: int) -> None:
    """The node list's size (the literal or count constant `nodes.resize` names) drops by the nodes removed;
    a layer sized only by the node counter needs nothing."""
    model = rw.float.source
    room = node_room(model)
    if room is None:
        fixed = [s for s in model.layer.settings if s.node_room and not s.by_counter]
        if fixed:
            raise LayerError(model.cpp.path, model.line("cpp", fixed[0].span[0]),
                             f"{fixed[0].what}({fixed[0].value.strip()}) is not sized by one literal or count "
                             "constant; cannot remove the folded nodes")
        return
    which, value, span = (room.constant.file, room.constant.value, room.constant.value_span) if room.constant \
        else ("cpp", room.setting.value, room.setting.value_span)
    number = evaluate(value, _values(rw)) if span is not None else None
    name = room.constant.name if room.constant else room.setting.what
    if number is None:
        raise LayerError(model.file(which).path, model.line(which, span[0] if span else 0),
                         f"{name} = {value.strip()} cannot be evaluated; cannot remove the folded nodes")
    rw.note(counts=(CountUpdate(name, number - removed, setting=room.constant is None),))
