"""How each param declaration is spelled: changed in place where every op created from it changes alike, a
copy per op where they change differently (a norm param both norms share, each with its own scale), and a
copy inside the quant branch where a float fallback keeps the float form reading the declaration."""

from __future__ import annotations

from .naming import first_free, node_stem
from .plan import FreshParam, OpChange, ParamSpelling
from .rewrite import Rewrite


def plan_params(rw: Rewrite) -> None:
    lg = rw.float
    users_of: dict[int, list[str]] = {}
    decls: dict[int, object] = {}
    for op in lg.ops():
        param = lg.graph.nodes[op]["variant"].param
        if param is not None:
            users_of.setdefault(id(param), []).append(op)
            decls[id(param)] = param
    branched = {b.op for b in rw.plan.branches}
    taken = {p.var for p in lg.source.layer.params} if lg.source is not None else set()
    spellings = []
    for key, users in users_of.items():
        changes = [rw.plan.change(op) for op in users]
        if all(c is None for c in changes):
            continue
        spellings.append(_spelling(rw, decls[key].var, users, changes, branched, taken))
    rw.note(params=tuple(spellings))


def _spelling(rw: Rewrite, var: str, users: list[str], changes: list[OpChange | None], branched: set[str],
              taken: set[str]) -> ParamSpelling:
    pairs = [(op, c) for op, c in zip(users, changes, strict=True) if c is not None]
    if any(op in branched for op in users):
        # the float form of a branched op still reads the declaration: every rewritten user gets its own,
        # a branched one inside its quant branch
        fresh = [_fresh(rw, [(op, c)], var, taken, in_branch=True) for op, c in pairs if op in branched]
        rest = [(op, c) for op, c in pairs if op not in branched]
        fresh += _grouped(rw, rest, var, taken, copy=True)
        return ParamSpelling(var, tuple(users), fresh=tuple(fresh))
    keys = {c.key() if c else None for c in changes}
    same_shape = None not in keys and len({(c.type, c.field_paths) for c in changes}) == 1
    if len(keys) == 1:
        return ParamSpelling(var, tuple(users), in_place=changes[0], in_place_users=tuple(users))
    if same_shape:  # the first user takes the change in place; the others copy it and set their own values
        return ParamSpelling(var, tuple(users), in_place=changes[0], in_place_users=(users[0],),
                             fresh=tuple(_grouped(rw, pairs[1:], var, taken, copy=True)))
    return ParamSpelling(var, tuple(users), fresh=tuple(_grouped(rw, pairs, var, taken, copy=False)))


def _grouped(rw: Rewrite, pairs: list[tuple[str, OpChange]], var: str, taken: set[str], *,
             copy: bool) -> list[FreshParam]:
    """One new declaration per group of users that change alike."""
    groups: dict[tuple, list[tuple[str, OpChange]]] = {}
    for op, c in pairs:
        groups.setdefault(c.key(), []).append((op, c))
    return [_fresh(rw, items, var, taken, copy=copy) for items in groups.values()]


def _fresh(rw: Rewrite, items: list[tuple[str, OpChange]], var: str, taken: set[str], *, copy: bool = True,
           in_branch: bool = False) -> FreshParam:
    op, change = items[0]
    node = rw.float.graph.nodes[op]["node"]
    conv = rw.conventions
    base = node_stem(node, conv.node_suffix) + conv.param_suffix
    name = first_free(lambda k: base + k, taken.__contains__)
    taken.add(name)
    copy_from = var if copy and change.type is None else None
    return FreshParam(name, change, tuple(o for o, _ in items), copy_from, in_branch)
