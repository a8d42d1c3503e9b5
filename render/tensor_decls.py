"""Tensor declarations: each new tensor is declared next to its anchor, as the layer declares tensors (an enum
entry, an id counted at run time, a string in a tensor-name list); an entry written with its value after
inserted ones moves with them; a removed tensor's entry goes."""

from __future__ import annotations

import re
from collections import defaultdict

from llm_transform.graph.build import int_literal_parts
from llm_transform.source.errors import LayerError

from .text import Edits, ends_line


def declare_tensors(ed: Edits) -> None:
    info = ed.old.meta["enum_info"]
    where = {name: (e, idx) for name, _v, e, idx in info.entries}
    groups: dict[tuple[str, bool], list[tuple[int, str]]] = defaultdict(list)
    g = ed.old.graph

    def place(t) -> float:  # where the tensor goes among the layer's tensors
        at = g.nodes[t.anchor]["index"] if t.anchor in g else 0
        return at - t.rank / 100.0 if t.before else at + t.rank / 100.0

    for t in sorted(ed.plan.tensors, key=place):
        if t.replaces:  # the entry keeps its place and takes the new name
            e, idx = where[t.replaces]
            span = e.entries[idx].name_span
            ed.edit(e.file, span[0], span[1] - span[0], t.name, "enum rename")
            continue
        groups[(t.anchor, t.before)].append((t.rank, t.name))
    moved: list[tuple[object, int, str]] = []  # (enum, first entry after it, new name)
    for (anchor, before), items in groups.items():
        names = [n for _, n in sorted(items, key=lambda r: r[0])]
        if anchor not in where:  # a run-time id or a tensor-name string
            _declare_beside(ed, anchor, names, before)
            continue
        e, idx = where[anchor]
        moved += [(e, idx if before else idx + 1, n) for n in names]
        if before:
            _entries_before(ed, e, idx, names)
        else:
            _entries_after(ed, e, idx, names)
    if moved:
        _shift_explicit_values(ed, moved)


def _entries_before(ed: Edits, e, idx: int, names: list[str]) -> None:
    ent = e.entries[idx]
    src = ed.m.file(e.file)
    text, indent, nl = src.text, src.indent_at(ent.span[0]), src.newline
    start = src.line_start(ent.span[0])
    if text[start: ent.span[0]].strip():  # shares its line: insert inline
        ed.edit(e.file, ent.span[0], 0, "".join(f"{n}, " for n in names), "enum")
        return
    floor = e.entries[idx - 1].span[1] if idx else e.open_brace + 1  # above the comments that label the anchor
    while start > floor:
        above = src.line_start(start - 1)
        line = text[above:start].strip()
        if above < floor or not (line.startswith("//") or (line.startswith("/*") and line.endswith("*/"))):
            break
        start = above
    ed.edit(e.file, start, 0, "".join(f"{indent}{n},{nl}" for n in names), "enum")


def _entries_after(ed: Edits, e, idx: int, names: list[str]) -> None:
    ent = e.entries[idx]
    src = ed.m.file(e.file)
    text, indent, nl = src.text, src.indent_at(ent.span[0]), src.newline
    nxt = e.entries[idx + 1] if idx + 1 < len(e.entries) else None
    last_without_comma = nxt is None and ent.comma_end is None
    if ent.comma_end is None:
        ed.edit(e.file, ent.span[1], 0, ",", "enum comma")
    after = ent.comma_end if ent.comma_end is not None else ent.span[1]
    items = [f"{n}," for n in names]
    if last_without_comma:
        items[-1] = names[-1]
    end = ed.line_end(e.file, after)
    if ends_line(text[after:end], block_comment=True):
        # the anchor ends its line (perhaps with a comment): one new line per entry below it
        ed.edit(e.file, end, 0, "".join(f"{nl}{indent}{it}" for it in items), "enum")
    else:  # more entries (or the closing brace) follow on the line: insert right after the comma
        ed.edit(e.file, after, 0, "".join(f" {it}" for it in items), "enum")


def _shift_explicit_values(ed: Edits, moved: list[tuple[object, int, str]]) -> None:
    """An entry written with its value (``OUT_LAYEROUT = 20,``) after inserted entries, in its own enum or an
    earlier one of the chain, moves by as many: a number grows by them, a value computed from the tensor
    enums' entries follows them; one computed from anything else cannot move, and only then is the rewrite
    refused, naming both."""
    enums = list({id(e): e for _n, _v, e, _i in ed.old.meta["enum_info"].entries}.values())
    order = {(id(e), idx): k for k, (e, idx) in enumerate((e, idx) for e in enums for idx in range(len(e.entries)))}
    at = [(order[(id(e), k)] if k < len(e.entries) else order[(id(e), k - 1)] + 1, n) for e, k, n in moved]
    names = {x.name for e in enums for x in e.entries}
    for e in enums:
        src = ed.m.file(e.file)
        for idx, ent in enumerate(e.entries):
            before = [n for k, n in at if k <= order[(id(e), idx)]]
            if ent.value is not None and before:
                _move_value(ed, e, ent, before, names, src)


def _move_value(ed: Edits, e, ent, before: list[str], names: set[str], src) -> None:
    literal = int_literal_parts(ent.value)
    if literal is not None:
        start = ent.span[1] - len(ent.value.strip())  # the entry's span ends with its value
        ed.edit(e.file, start, len(ent.value.strip()), f"{literal[0] + len(before)}{literal[1]}", "enum value")
    elif not set(re.findall(r"[A-Za-z_]\w*", ent.value)) <= names:
        raise LayerError(src.path, src.line_of(ent.span[0]),
                         f"enum entry {ent.name} = {ent.value.strip()} is placed explicitly, after where the new "
                         f"input {before[0]} goes; write its value as a number (or leave it implicit) so it can move")


def _declare_beside(ed: Edits, anchor: str, names: list[str], before: bool) -> None:
    """New tensors declared next to one that is no enum entry: another id counted at run time
    (`const uint64_t IN_X = TENSOR_ID++;`), or another string of its tensor-name list."""
    tv = next((t for t in ed.m.layer.tensor_vars if t.name == anchor), None)
    if tv is not None:
        _run_time_ids(ed, tv, anchor, names, before)
        return
    st = next((t for t in ed.m.string_tensors if t.name == anchor), None)
    if st is None:
        raise LayerError(ed.m.cpp.path, None, f"cannot declare {names[0]}: {anchor} is declared where the tool "
                         "cannot add beside it")
    _tensor_names(ed, st, names, before)


def _run_time_ids(ed: Edits, tv, anchor: str, names: list[str], before: bool) -> None:
    src = ed.m.file(tv.file)
    prefix = src.text[tv.span[0]:tv.name_span[0]]  # `const uint64_t `
    counter = tv.counter
    indent, nl, text = src.indent_at(tv.span[0]), src.newline, src.text
    decls = [f"{prefix}{n} = {counter}++;" for n in names]
    if before:
        start = src.line_start(tv.span[0])
        if text[start:tv.span[0]].strip():  # the line holds more code: insert right before it
            ed.edit(tv.file, tv.span[0], 0, "".join(f"{d} " for d in decls), "tensor id")
        else:
            ed.edit(tv.file, start, 0, "".join(f"{indent}{d}{nl}" for d in decls), "tensor id")
        return
    end = ed.line_end(tv.file, tv.span[1])
    if not ends_line(text[tv.span[1]:end]):  # more code follows on the line: insert right after
        ed.edit(tv.file, tv.span[1], 0, "".join(f" {d}" for d in decls), "tensor id")
    else:
        ed.edit(tv.file, end, 0, "".join(f"{nl}{indent}{d}" for d in decls), "tensor id")


def _tensor_names(ed: Edits, st, names: list[str], before: bool) -> None:
    src = ed.m.file(st.file)
    text = src.text
    quoted = [f'"{n}"' for n in names]
    if before:
        ed.edit(st.file, st.span[0], 0, "".join(f"{q}, " for q in quoted), "tensor name")
        return
    after = st.span[1]
    while after < len(text) and text[after] in " \t":
        after += 1
    rest = text[after + 1:ed.line_end(st.file, after)] if text[after:after + 1] == "," else None
    indent, nl = src.indent_at(st.span[0]), src.newline
    alone = text[src.line_start(st.span[0]):st.span[0]].strip() == ""
    if alone and rest is not None and ends_line(rest):  # one name a line: so the new
        ed.edit(st.file, ed.line_end(st.file, after), 0, "".join(f"{nl}{indent}{q}," for q in quoted),
                "tensor name")
    else:  # several names a line: each new one on a line of its own, so no line grows
        ed.edit(st.file, st.span[1], 0, "".join(f",{nl}{indent}{q}" for q in quoted), "tensor name")


def delete_enum_entry(ed: Edits, which: str, ent) -> None:
    """A removed tensor's enum entry goes, with its line where it has the line to itself."""
    src = ed.m.file(which)
    text = src.text
    start = ent.span[0]
    end = ent.comma_end if ent.comma_end is not None else ent.span[1]
    line_start = src.line_start(start)
    if not text[line_start:start].strip() and ends_line(text[end:ed.line_end(which, end)]):
        ed.edit(which, line_start, ed.next_line(which, end) - line_start, "", "enum delete")
    else:
        while end < len(text) and text[end] in " \t":
            end += 1
        ed.edit(which, start, end - start, "", "enum delete")
