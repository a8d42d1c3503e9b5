"""Op params as the plan spells them: a declaration changed in place (an existing assignment or brace element
edited, never a second assignment after it; a new type, initialiser, creation function or include), or new
declarations, each before the first creation call it serves."""

from __future__ import annotations

from llm_transform.graph.catalogue import catalogue
from llm_transform.graph.plan import FreshParam, OpChange, ParamSpelling
from llm_transform.source.model import ParamDecl

from .text import Edits


def write_params(ed: Edits) -> list[tuple[str, str]]:
    """The edits of every param the plan changes; returns (kind, name) of the declarations it adds."""
    introduced = []
    for spelling in ed.plan.params:
        decl = ed.decl_of(spelling.users[0])
        if spelling.in_place is not None:
            _in_place(ed, decl, spelling.in_place, spelling.in_place_users)
        for fresh in spelling.fresh:
            introduced.append(("param variable", fresh.name))
            _fresh(ed, decl, fresh)
    return introduced


def _in_place(ed: Edits, decl: ParamDecl, change: OpChange, users: tuple[str, ...]) -> None:
    assigns = ed.assigns(decl)
    creates = [ed.create_of(op) for op in users]
    first_create = min(creates, key=lambda c: c.span[0])
    set_fields = list(change.fields)
    if change.type:
        absorbed = _retype(ed, decl, change, assigns)
        set_fields = [f for f in change.fields if f.path not in absorbed]
    brace = ed.brace_fields(decl)
    lines = []
    for f in set_fields:
        path, value = f.path, f.value
        existing = [a for a in assigns if a.path == path and not a.cond and a.span[0] < first_create.span[0]]
        if f.only_if_set:  # the type's default is the wanted value: edit only what differs
            if path in brace and brace[path][0].strip() != value:
                s = brace[path][1]
                ed.edit("cpp", s[0], s[1] - s[0], value, f"brace {path}")
            if existing and existing[-1].value.strip() != value:
                _replace_value(ed, existing[-1], value)
            if any(a.path == path and a.cond and a.span[0] < first_create.span[0] and a.value.strip() != value
                   for a in assigns):
                lines.append(f"{decl.var}.{path} = {value};")  # set otherwise in some branch: override
            continue
        kept = change.type is None or change.keep_fields is None or path in change.keep_fields
        if existing and kept:  # edit the float's assignment, never add a second one after it
            _replace_value(ed, existing[-1], value)
        elif path in brace and change.type is None:
            s = brace[path][1]
            if ed.m.cpp.text[s[0]:s[1]].strip() != value:
                ed.edit("cpp", s[0], s[1] - s[0], value, f"brace {path}")
        else:
            lines.append(f"{decl.var}.{path} = {value};")
    ed.insert_before(first_create, lines)
    if change.callee:
        for c in creates:
            ed.edit("cpp", c.callee_span[0], c.callee_span[1] - c.callee_span[0], change.callee, "callee")
    if change.include:
        _include(ed, change.include, change.old_include)


def _replace_value(ed: Edits, a, value: str) -> None:
    start, end = a.value_span
    ed.edit("cpp", start, end - start, f" {value}", f"value {a.path}")


def _retype(ed: Edits, decl: ParamDecl, change: OpChange, assigns) -> set[str]:
    """Change the declared type; returns the planned fields the new brace initialiser already sets."""
    absorbed: set[str] = set()
    ed.edit("cpp", decl.type_span[0], decl.type_span[1] - decl.type_span[0], change.type, "param type")
    if change.init is not None:
        if decl.init_span is not None:
            ed.edit("cpp", decl.init_span[0], decl.init_span[1] - decl.init_span[0], change.init, "init")
        else:
            ed.edit("cpp", decl.span[1] - 1, 0, f" = {change.init}", "init")  # before ';'
    elif decl.init_span is not None and decl.init and decl.init.strip().startswith("{"):
        # a positional initialiser is re-laid for the new type's field order, planned values first
        entry = catalogue().entry(change.type)
        old = ed.brace_fields(decl)
        wanted = {f.path: f.value for f in change.fields}
        values = []
        for n in entry.brace_fields if entry else ():
            if n in wanted:
                values.append(wanted[n])
                absorbed.add(n)
            elif n in old:
                values.append(old[n][0].strip())
            else:
                break
        ed.edit("cpp", decl.init_span[0], decl.init_span[1] - decl.init_span[0], "{" + ", ".join(values) + "}",
                "init")
    renames = dict(change.renames)
    for a in assigns:
        head = a.path.split(".")[0]
        if renames and head in renames:
            ed.edit("cpp", a.head_span[0], len(head), renames[head], "rename field")
        elif change.keep_fields is not None and a.path not in change.keep_fields:
            ed.delete_statement(a.span)
    return absorbed


def _fresh(ed: Edits, decl: ParamDecl, fresh: FreshParam) -> None:
    change, name = fresh.change, fresh.name
    typ = change.type or decl.type_text
    renames = dict(change.renames)
    if fresh.copy_from:
        lines = [f"{typ} {name} = {fresh.copy_from};"]
    elif change.init is not None:
        lines = [f"{typ} {name} = {change.init};"]
    else:
        lines = [f"{typ} {name};"]
        for a in ed.assigns(decl):
            head = a.path.split(".")[0]
            if change.keep_fields is not None and a.path not in change.keep_fields:
                continue
            lines.append(f"{name}.{renames.get(head, head) + a.path[len(head):]} = {a.value.strip()};")
    lines += [f"{name}.{f.path} = {f.value};" for f in change.fields]
    creates = [ed.create_of(op) for op in fresh.users]
    ed.insert_before(creates[0], lines)
    for c in creates:
        if c.param_arg_span is not None:
            ed.edit("cpp", c.param_arg_span[0], c.param_arg_span[1] - c.param_arg_span[0], name, "param arg")
        if change.callee:
            ed.edit("cpp", c.callee_span[0], c.callee_span[1] - c.callee_span[0], change.callee, "callee")
    if change.include:
        _include(ed, change.include, change.old_include)


def _include(ed: Edits, include: str, old: str | None) -> None:
    """A header the new type needs: it replaces the V1 one (directory kept), else follows the last include."""
    if include in ed.includes_done:
        return
    ed.includes_done.add(include)
    if any(i.target.endswith(include) for i in ed.m.includes):
        return
    olds = [i for i in ed.m.includes if old and i.target.endswith(old)]
    if olds:
        inc = olds[0]
        ed.edit(inc.file, inc.target_span[1] - len(old), len(old), include, "include")
        return
    cpp_inc = [i for i in ed.m.includes if i.file == "cpp"]
    if cpp_inc:
        anchor = cpp_inc[-1]
        ed.edit(anchor.file, anchor.span[1], 0, f'{ed.nl(anchor.file)}#include "{include}"', "include")


__all__ = ["ParamSpelling", "write_params"]
