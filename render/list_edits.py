"""Tensor lists as the plan rewires them: a changed slot is edited where its element is written, new slots
follow the last one (inside its brace list, or as pushes written like it), and a line that grows past 120
columns is wrapped like the list's own continuation lines."""

from __future__ import annotations

import re

from llm_transform.source.errors import LayerError
from llm_transform.source.model import ListElem, TensorList

from .text import Edits


def rewrite_lists(ed: Edits) -> None:
    """Every list of every op the plan rewires, once (branch variants of a node may share a list)."""
    done: dict[tuple, list[str]] = {}
    for change in ed.plan.ops:
        op = change.op
        v = ed.old.graph.nodes[op]["variant"]
        for which_list, old_names, new_names in (
            (v.in_list, ed.old.inputs_of(op), list(change.inputs)),
            (v.out_list, ed.old.outputs_of(op), list(change.outputs)),
        ):
            if which_list is None or old_names == new_names:
                continue
            stepped = which_list.var is not None or bool(which_list.steps)
            held = _held(which_list, v.group[0]) if stepped else []
            key = (id(which_list), tuple(held))  # a list built in steps holds other elements per variant
            if key in done:
                if done[key] != new_names:
                    raise LayerError(ed.m.cpp.path, ed.m.line("cpp", which_list.span[0]),
                                     f"{op}: one tensor list serves branches that need different rewiring")
                continue
            done[key] = new_names
            if stepped:
                _rewrite_steps(ed, op, which_list, held, old_names, new_names)
            else:
                _rewrite_list(ed, which_list, new_names)


def _rewrite_steps(ed: Edits, op: str, lst: TensorList, held: list[int], old: list[str], new: list[str]) -> None:
    """A list built in steps (a list variable initialised, reassigned, pushed onto, extended by another
    list; or a node's list with pushes): a changed slot is changed where its element is written, unless it
    is read only under a branch, or comes from a list something else reads too; new elements follow the
    last one the op reads, in its brace list or as pushes like its push."""
    src = ed.m.cpp
    elems = [lst.elems[k] for k in held]
    if len(elems) != len(old) or any(e.text != o and not (e.ternary and o in e.ternary[1:])
                                     for e, o in zip(elems, old, strict=True)):
        raise LayerError(src.path, src.line_of(lst.span[0]), f"internal: {op}'s list reads {old}; please report "
                         "this file")
    steps = _Steps(ed, op, lst)
    steps.change_slots(elems, new)
    steps.rewrap_braces(elems, new)
    if len(new) < len(old):
        raise LayerError(src.path, src.line_of(lst.span[0]), f"{lst.node}: the rewrite would drop inputs; "
                         "not supported")
    if len(new) > len(old):
        steps.append_tail(elems[-1], new[len(old):])


class _Steps:
    """Where each element of a list built in steps was written, and the edits at those places."""

    def __init__(self, ed: Edits, op: str, lst: TensorList) -> None:
        self.ed, self.op, self.lst, self.src = ed, op, lst, ed.m.cpp
        self.where = {id(e): st for st in lst.steps for e in st.elems}
        self.by_span = {e.span: st for st in lst.steps for e in st.elems}

    def step_of(self, e):
        return self.where.get(id(e)) or self.by_span.get(e.span)

    def refuse(self, e, why: str) -> LayerError:
        return LayerError(self.src.path, self.src.line_of(e.span[0]),
                          f"{self.op}: {why}; the tool cannot place the rewrite there")

    def change_slots(self, elems: list, new: list[str]) -> None:
        for i, e in enumerate(elems[: len(new)]):
            if e.text == new[i] or (e.ternary and new[i] in e.ternary[1:]):
                continue
            step = self.step_of(e)
            if e.ternary:
                raise self.refuse(e, f"slot {i} is a choice between tensors that the rewrite must change")
            if e.optional:
                raise self.refuse(e, f"slot {i} is read only under a branch")
            if step is not None and step.kind == "append" and step.shared:
                raise self.refuse(e, f"slot {i} comes from {step.source}, which other lists read too")
            if step is not None and step.kind in ("rename", "replace"):
                raise self.refuse(e, f"slot {i} is renamed by position")
            self.ed.edit("cpp", e.span[0], e.span[1] - e.span[0], _spelled(self.lst, new[i]), "list slot")

    def rewrap_braces(self, elems: list, new: list[str]) -> None:
        """Brace lists whose lines grew are wrapped again."""
        lst = self.lst
        braces = {e.span: p for st in lst.steps for p in (st, *st.parts) if p.brace for e in p.elems}
        for step in {id(p): p for p in braces.values()}.values():
            mine = [k for k, e in enumerate(elems) if braces.get(e.span) is step]
            if step.brace is not None and mine and mine == list(range(mine[0], mine[-1] + 1)) \
                    and mine[-1] < len(new):
                part = TensorList(lst.node, lst.which, [elems[k] for k in mine], step.span, step.brace, step.cond,
                                  lst.named)
                _rewrap(self.ed, part, [new[k] for k in mine])

    def append_tail(self, last, tail: list[str]) -> None:
        lst, src = self.lst, self.src
        step = self.step_of(last)
        if step is None:  # the node's own brace list, pushed onto later: its last element is in the brace
            part = TensorList(lst.node, lst.which, [e for e in lst.elems if self.by_span.get(e.span) is None],
                              lst.span, lst.brace, lst.cond, lst.named)
            _append_in_brace(self.ed, part, last, tail)
        elif step.kind in ("init", "assign") and step.brace is not None and step.elems[-1].span == last.span \
                and not last.optional:
            part = TensorList(lst.node, lst.which, step.elems, step.span, step.brace, step.cond, lst.named)
            _append_in_brace(self.ed, part, last, tail)
        elif step.kind == "push" and not last.optional and last.ternary is None:
            stmt = src.text[step.span[0]:step.span[1]]
            at = _outer(last)
            form = src.text[at[0]:at[1]]
            name_at = (last.span[0] - at[0], last.span[1] - at[0])
            lines = []
            for n in tail:
                item = form[:name_at[0]] + _spelled(lst, n) + form[name_at[1]:]
                lines.append(stmt[:at[0] - step.span[0]] + item + stmt[at[1] - step.span[0]:])
            end = self.ed.line_end("cpp", step.span[1])
            self.ed.edit("cpp", end, 0, "".join(f"{src.newline}{step.indent}{ln}" for ln in lines), "list push")
        else:
            what = {"append": f"comes from {step.source}", "push": "is pushed under a branch"}.get(
                step.kind, "is not written where a new one can follow")
            raise self.refuse(last, f"the last tensor its list holds ({last.text}) {what}")

def _append_in_brace(ed: Edits, part: TensorList, last: ListElem, tail: list[str], col: int | None = None) -> None:
    """New elements after ``last`` inside its brace list, wrapped like it (``col``: the column the list's
    lines wrap at, by default where ``last`` ends)."""
    names = [_spelled(part, n) for n in tail]
    if last.item is not None:  # one call per tensor: each added one is a call like the last
        text = ed.m.cpp.text
        prefix = re.sub(r"\s+", " ", text[last.item[0]:last.span[0]])
        suffix = re.sub(r"\s+", " ", text[last.span[1]:last.item[1]])
        names = [prefix + t + suffix for t in names]
    end = _outer(last)[1]
    col = end - ed.m.cpp.line_start(end) if col is None else col
    ed.edit("cpp", end, 0, _wrapped_tail(ed, part, names, col, end), "list append")

def _rewrite_list(ed: Edits, lst: TensorList, new: list[str]) -> None:
    elems = lst.elems
    for i, e in enumerate(elems[: len(new)]):
        if e.ternary:
            if new[i] not in e.ternary[1:]:
                raise LayerError(ed.m.cpp.path, ed.m.line("cpp", e.span[0]),
                                 f"{lst.node}: slot {i} is a conditional tensor id that the rewrite must change")
            continue
        if e.text != new[i]:
            ed.edit("cpp", e.span[0], e.span[1] - e.span[0], _spelled(lst, new[i]), "list slot")
    col = _rewrap(ed, lst, new)
    if len(new) > len(elems):
        _append_in_brace(ed, lst, elems[-1], new[len(elems):], col)
    elif len(new) < len(elems):
        raise LayerError(ed.m.cpp.path, ed.m.line("cpp", lst.span[0]),
                         f"{lst.node}: the rewrite would drop inputs; not supported")

def _continuation(ed: Edits, lst: TensorList) -> str:
    """How a new line of the list starts: as the list's own continuation lines do, else under its first
    element."""
    src = ed.m.cpp
    for e in reversed(lst.elems[1:]):
        at = _outer(e)[0]
        if not src.text[src.line_start(at):at].strip():
            return src.text[src.line_start(at):at]
    first = _outer(lst.elems[0])[0]
    if src.line_of(first) == src.line_of(lst.brace[0]):
        return " " * (first - src.line_start(first))
    return src.indent_at(first)

def _rewrap(ed: Edits, lst: TensorList, new: list[str], width: int = 120) -> int:
    """A source line of the list that grows past ``width`` because of replaced slots is broken before the
    first element that no longer fits; what spills over is joined with the next line when that line
    changes too and there is room, so no element is left alone on a line. Lines the rewrite does not
    touch keep their layout. Returns the column just past the last element as it will read, where
    appended elements continue."""
    src = ed.m.cpp
    text = src.text
    cont = _continuation(ed, lst)
    elems = lst.elems[: len(new)]
    changed_lines = {src.line_of(_outer(e)[0]) for i, e in enumerate(elems) if e.text != new[i] and not e.ternary}
    if not changed_lines:
        last = _outer(lst.elems[-1])[1]
        return last - src.line_start(last)

    def shown_width(i: int) -> int:
        e = elems[i]
        a, b = _outer(e)
        return b - a if e.ternary else b - a - (e.span[1] - e.span[0]) + len(_spelled(lst, new[i]))

    spilled = False  # a break was inserted: what follows on the next line may join the spilled part
    start = _outer(elems[0])[0]
    laid_out = src.line_of(start) in changed_lines  # this line is re-laid
    col = start - src.line_start(start)
    for i in range(len(elems)):
        e = elems[i]
        at = _outer(e)[0]
        line = src.line_of(at)
        if i:
            prev_end = _outer(elems[i - 1])[1]
            gap = text[prev_end:at]
            same_line = "\n" not in gap
            w = shown_width(i) + 1  # and the comma or brace after it
            if gap.strip() != ",":  # a comment or a ternary between: keep the text as it is
                col = at - src.line_start(at) if not same_line else col + len(gap)
                spilled, laid_out = False, line in changed_lines
            elif same_line and laid_out and col + len(gap) + w > width:
                ed.edit("cpp", prev_end, len(gap), f",{src.newline}{cont}", "wrap")
                spilled, col = True, len(cont)
            elif not same_line and spilled and col + 2 + w <= width:
                ed.edit("cpp", prev_end, len(gap), ", ", "join")  # the next line joins the spill
                spilled, laid_out = False, True
                col += 2
            elif not same_line:
                spilled, laid_out = False, line in changed_lines
                col = at - src.line_start(at)
            else:
                col += len(gap)
        col += shown_width(i)
    return col

def _wrapped_tail(ed: Edits, lst: TensorList, names: list[str], col: int, last_end: int, width: int = 120) -> str:
    """`, A, B` after the last element (ending at ``last_end``), broken into lines aligned with the
    list's first element when the line would grow past ``width``."""
    src = ed.m.cpp
    rest = src.text[last_end:ed.line_end("cpp", last_end)].rstrip("\r")
    cont = _continuation(ed, lst)
    if col + sum(len(n) + 2 for n in names) + len(rest) <= width:
        return "".join(f", {n}" for n in names)
    out = []
    for k, n in enumerate(names):
        after = len(rest) if k == len(names) - 1 else 1  # what closes the list, or the next comma
        if col + 2 + len(n) + after > width:
            out.append(f",{src.newline}{cont}{n}")
            col = len(cont) + len(n)
        else:
            out.append(f", {n}")
            col += 2 + len(n)
    return "".join(out)


def _held(lst: TensorList, asg: dict[str, bool]) -> list[int]:
    """The elements of a list built in steps that one variant of its node reads (indices into ``elems``)."""
    out = []
    for k, e in enumerate(lst.elems):
        if all(asg.get(a, False) == p for a, p in e.cond) and all(asg[a] == p for a, p in e.optional if a in asg):
            out.append(k)
    return out


def _outer(e: ListElem) -> tuple[int, int]:
    """The element as it stands in the list: the whole call when the name is an argument of one."""
    return e.item or e.span


def _spelled(lst: TensorList, name: str) -> str:
    """A tensor as its list writes it: an enum name, or a string."""
    return f'"{name}"' if lst.named else name
