"""New layer param fields: declared after the struct's last field, and read from JSON in every function that
reads the layer's other fields from JSON, in that function's own style."""

from __future__ import annotations

from collections import defaultdict

from llm_transform.source.errors import LayerError

from .text import Edits, ends_line


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
        if not ends_line(src.text[last.span[1]:at]):  # more code (the closing brace) shares the line
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
        # new reads are written as the function's reads are (a method call's form preferred, then an unguarded one)
        form = min((r for r in rs if r.key_span and r.field_span), key=lambda r: (r.style == "bracket", r.guarded),
                   default=None)
        if form is None:
            raise LayerError(fsrc.path, fsrc.line_of(rs[0].span[0]), f"{func}: cannot tell how it reads a key "
                             "from JSON; add the new fields' reads by hand")
        same = [r for r in rs if not r.guarded and r.style == form.style]
        if same:
            indent, at = same[-1].indent, same[-1].span[1]
        else:
            at = fsrc.line_start(fdef.body[1] - 1)
            indent = fsrc.indent_at(rs[0].span[0]).split("    ")[0] + "    "
            at = at - len(fsrc.newline) if at >= len(fsrc.newline) else at
        lines = [_spelled_read(fsrc.text, form, fld, typ) for fld, typ, _ in fields]
        ed.edit(fdef.file, at, 0, "".join(f"{fsrc.newline}{indent}{ln}" for ln in lines), "json reads")


def _spelled_read(text: str, form, field: str, typ: str) -> str:
    """An existing read with its key, field and ``get<T>`` type replaced."""
    parts = [(form.key_span, field), (form.field_span, field)]
    if form.type_span is not None:
        parts.append((form.type_span, typ))
    out, pos = [], form.span[0]
    for (a, b), new in sorted(parts, key=lambda p: p[0][0]):
        out += [text[pos:a], new]
        pos = b
    return "".join([*out, text[pos:form.span[1]]])
