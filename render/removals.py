"""What the rewrite removes: a folded op's node reference, creation call and tensor lists, a param only
removed ops were created from, a removed tensor's enum entry; comments stay, and no two blank lines are
left in a row."""

from __future__ import annotations

from llm_transform.source.errors import LayerError

from .edits import DELETE
from .tensor_decls import delete_enum_entry
from .text import Edits


def remove(ed: Edits) -> None:
    plan = ed.plan
    if not plan.removed_ops:
        return
    layer, src = ed.m.layer, ed.m.cpp
    for note in plan.removed_ops:
        var = ed.old.graph.nodes[note.op]["node"]
        spans = [n.span for n in layer.nodes if n.var == var]
        spans += [c.span for c in layer.creates if c.node == var]
        spans += [lst.span for lst in layer.lists if lst.node == var]
        for span in spans:
            ed.delete_statement(span)
        body = layer.func.body
        left = [t for t in src.tokens if t.text == var and body[0] <= t.start < body[1]
                and not any(a <= t.start < b for a, b in spans)]
        if left:
            raise LayerError(src.path, src.line_of(left[0].start), f"cannot remove node {var}: it is used outside "
                             "its setup")
    for op in plan.removed_params:  # a param only removed ops were created from goes with them
        decl = ed.decl_of(op)
        ed.delete_statement(decl.span)
        for a in ed.assigns(decl):
            ed.delete_statement(a.span)
    _close_blank_gaps(ed)
    info = ed.old.meta["enum_info"]
    for t in plan.removed_tensors:
        e, idx = next((e, idx) for name, _v, e, idx in info.entries if name == t)
        delete_enum_entry(ed, e.file, e.entries[idx])


def _close_blank_gaps(ed: Edits) -> None:
    """Whole lines deleted between two blank lines would leave two blank lines in a row: the blank line below
    them goes too. Comments are never deleted: one above removed code now speaks for what replaced it (a quant
    norm that adds the beta itself)."""
    src = ed.m.cpp
    lines = src.text.split("\n")
    starts = src.line_starts
    index = {at: i for i, at in enumerate(starts)}
    gone = {i for e in ed.edits["cpp"] if e.why == DELETE and e.offset in index
            for i in range(index[e.offset], src.line_of(e.offset + e.length - 1))}
    for i in sorted(gone):
        if i - 1 in gone or i == 0:
            continue
        j = i
        while j in gone:
            j += 1
        if j < len(lines) - 1 and not lines[i - 1].strip() and not lines[j].strip():
            ed.edit("cpp", starts[j], starts[j + 1] - starts[j], "", "delete blank")
