"""Float fallbacks spelled: each op the plan sets up twice becomes `if (flag) { float form } else { quant
form }` around its statements. The float form is the original text (with the renames that hold for both);
the quant form is that text with every edit the rewrite made inside it."""

from __future__ import annotations

from llm_transform.source.errors import LayerError

from .edits import BOTH_FORMS, Edit, apply_edits
from .text import Edits

#: edits that hold for the float form as much as for the quant one


def write_branches(ed: Edits) -> None:
    src = ed.m.cpp
    nl = src.newline
    for b in ed.plan.branches:
        v = ed.old.graph.nodes[b.op]["variant"]
        own = v.setup_spans()
        lo, hi = src.line_start(min(a for a, _ in own)), ed.next_line("cpp", max(e for _, e in own))
        inside = [e for e in ed.edits["cpp"] if lo <= e.offset and e.offset + e.length <= hi
                  and not (e.length == 0 and e.offset == hi)]
        if any(e.offset < lo < e.offset + e.length or e.offset < hi < e.offset + e.length for e in ed.edits["cpp"]):
            raise LayerError(src.path, src.line_of(lo), f"internal: an edit crosses the setup of {b.op}; please "
                             "report this file")
        ed.edits["cpp"] = [e for e in ed.edits["cpp"] if e not in inside]
        block = src.text[lo:hi]
        shifted = [Edit(e.offset - lo, e.length, e.text, e.why) for e in inside]
        float_form = apply_edits(block, [e for e in shifted if e.why in BOTH_FORMS])
        quant_form = apply_edits(block, shifted)
        indent = src.indent_at(v.create.statement_start)
        unit = "\t" if indent.startswith("\t") else "    "

        def deeper(text: str, unit: str = unit) -> str:
            return "".join(unit + ln if ln.strip() else ln for ln in text.splitlines(keepends=True))

        text = f"{indent}if ({b.condition}) {{{nl}{deeper(float_form)}{indent}}} else {{{nl}{deeper(quant_form)}" \
               f"{indent}}}{nl}"
        ed.edit("cpp", lo, hi - lo, text, "fallback branch")
