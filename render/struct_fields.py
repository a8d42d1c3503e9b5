"""New layer param fields: declared after the struct's last field, and read from JSON in every function that
reads the layer's other fields from JSON, in that function's own style."""

from __future__ import annotations

import re
from collections import defaultdict

from .text import Edits


def write_fields(ed: Edits) -> None:
    fields = [(f.name, f.type, f.default) for f in ed.plan.fields]
    st = ed.m.param_struct
    if not fields or st is None:
        return
    src = ed.m.file(st.file)
    nl = src.newline
    if st.fields:
        last = st.fields[-1]
        indent = src.indent_at(last.span[0])
        at = ed.line_end(st.file, last.span[1])
        rest = src.text[last.span[1]:at].strip()
        if rest and not rest.startswith("//"):  # more code (the closing brace) shares the line
            at = last.span[1]
        ed.edit(st.file, at, 0, "".join(f"{nl}{indent}{typ} {n} = {d};" for n, typ, d in fields), "struct fields")
    else:
        indent = src.indent_at(st.span[0]) + "    "
        ed.edit(st.file, src.line_start(st.close_brace), 0, "".join(f"{indent}{typ} {n} = {d};{nl}"
                                                                    for n, typ, d in fields), "struct fields")
    _json_reads(ed, fields)


def _json_reads(ed: Edits, fields: list[tuple[str, str, str]]) -> None:
    by_func: dict[str, list] = defaultdict(list)
    for r in ed.m.json_reads:
        by_func[r.function].append(r)
    for func, rs in by_func.items():
        fdef = next((f for f in ed.m.functions if f.name == func and f.body), None)
        if fdef is None:
            continue
        fsrc = ed.m.file(fdef.file)
        style = "get_to" if any(r.style == "get_to" for r in rs) else "bracket"
        unguarded = [r for r in rs if not r.guarded and r.style == style]
        if unguarded:
            indent, at = unguarded[-1].indent, unguarded[-1].span[1]
        else:
            at = fsrc.line_start(fdef.body[1] - 1)
            indent = fsrc.indent_at(rs[0].span[0]).split("    ")[0] + "    "
            at = at - len(fsrc.newline) if at >= len(fsrc.newline) else at
        stmt = fsrc.text[rs[0].span[0]:rs[0].span[1]]
        mm = re.search(r"(\w+)\s*\.at\(|(\w+)\s*\[", stmt)
        obj = (mm.group(1) or mm.group(2)) if mm else "paramJson"
        mt = re.search(r"(\w+)\.\w", stmt.split("get_to")[-1] if style == "get_to" else stmt)
        target = mt.group(1) if mt else "param"
        lines = [f'{obj}.at("{fld}").get_to({target}.{fld});' if style == "get_to"
                 else f'{target}.{fld} = {obj}["{fld}"].get<{typ}>();' for fld, typ, _ in fields]
        ed.edit(fdef.file, at, 0, "".join(f"{fsrc.newline}{indent}{ln}" for ln in lines), "json reads")
