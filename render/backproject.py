"""Back-projection: turn the difference between the float graph and the rewritten graph into text edits
on the original pair. Decisions were made by the passes; this module only finds where each goes."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from llm_transform.graph.build import evaluate, node_room
from llm_transform.graph.fallback import Branch
from llm_transform.graph.layer_graph import LayerGraph
from llm_transform.graph.naming import prefixed, spell, type_name
from llm_transform.graph.passes import ChangeLog, Followup, Plan
from llm_transform.source.errors import LayerError
from llm_transform.source.lexer import IDENT, STRING
from llm_transform.source.model import CreateCall, LayerSource, ListElem, ParamDecl, TensorList
from llm_transform.source.names import replace_words

from .edits import Edit, EditConflict, apply_edits

IN_KINDS = ("input", "weight", "placeholder")
COUNT_FOLLOWS = ("a graph count is set from another count's constant and follows it through the rewrite; check "
                 "the value it gets")
RENAMED_TYPES = ("types the header defines besides the layer's own are renamed, so that the float and quant headers "
                 "can be included together; model code that uses them with the quant layer needs the new names")
HEADER_CLASH = ("the float and quant headers cannot both be included in one translation unit: both define these "
                "in one namespace (renaming them would break the model code that uses them)")


@dataclass
class Rendered:
    cpp: str
    h: str | None
    renames: dict[str, str] = field(default_factory=dict)
    notes: list[Followup] = field(default_factory=list)
    #: (kind, name) of the names the rendering made up (param variables); the verifier checks them
    introduced: list[tuple[str, str]] = field(default_factory=list)


class Renderer:
    def __init__(self, model: LayerSource, old: LayerGraph, new: LayerGraph, log: ChangeLog, *,
                 prefix: str, keep_names: bool = False):
        self.m = model
        self.old = old
        self.new = new
        self.log = log
        self.prefix = prefix  # "quant" | "sparse_quant"
        self.keep_names = keep_names
        self.edits: dict[str, list[Edit]] = {"cpp": [], "h": []}
        self.notes: list[Followup] = []
        self.renames: dict[str, str] = {}
        self.introduced: list[tuple[str, str]] = []
        self._done_includes: set[str] = set()

    # -- helpers ----------------------------------------------------------------------------------
    def edit(self, which: str, offset: int, length: int, text: str, why: str = "") -> None:
        self.edits[which].append(Edit(offset, length, text, why))

    def nl(self, which: str) -> str:
        return self.m.file(which).newline

    def line_end(self, which: str, offset: int) -> int:
        """Where the line holding ``offset`` ends: before its line break (both characters of a CRLF), so that
        text inserted there never splits a CRLF into a lone CR."""
        text = self.m.file(which).text
        i = text.find("\n", offset)
        if i == -1:
            return len(text)
        return i - 1 if i > offset and text[i - 1] == "\r" else i

    def next_line(self, which: str, offset: int) -> int:
        """Where the line after the one holding ``offset`` starts (the end of the text on the last line)."""
        text = self.m.file(which).text
        i = text.find("\n", offset)
        return len(text) if i == -1 else i + 1

    def run(self) -> Rendered:
        self.removals()
        self.enum()
        self.counts()
        self.lists()
        self.params()
        self.struct_and_json()
        if not self.keep_names:
            self.rename()
        self.own_header()
        self.branches()
        try:
            cpp = apply_edits(self.m.cpp.text, self.edits["cpp"])
            h = apply_edits(self.m.h.text, self.edits["h"]) if self.m.h else None
        except EditConflict as exc:
            raise LayerError(self.m.cpp.path, None, f"internal: {exc}; please report this file") from None
        return Rendered(cpp, h, self.renames, self.notes, self.introduced)

    # -- enum -------------------------------------------------------------------------------------
    def enum(self) -> None:
        g = self.new.graph
        info = self.old.meta["enum_info"]
        where = {name: (e, idx) for name, _v, e, idx in info.entries}
        groups: dict[tuple[str, bool], list[tuple[float, str]]] = defaultdict(list)
        for t in self.new.added_tensors():
            d = g.nodes[t]
            if d.get("replaces"):  # the entry keeps its place and takes the new name
                e, idx = where[d["replaces"]]
                span = e.entries[idx].name_span
                self.edit(e.file, span[0], span[1] - span[0], t, "enum rename")
                continue
            groups[(d["anchor"], bool(d.get("before")))].append((d["index"], t))
        moved: list[tuple[object, int, str]] = []  # (enum, first entry after it, new name)
        for (anchor, before), items in groups.items():
            names = [t for _, t in sorted(items)]
            if anchor not in where:  # a run-time id or a tensor-name string
                self._declare_beside(anchor, names, before)
                continue
            e, idx = where[anchor]
            moved += [(e, idx if before else idx + 1, n) for n in names]
            ent = e.entries[idx]
            src = self.m.file(e.file)
            text = src.text
            indent = src.indent_at(ent.span[0])
            nl = src.newline
            if before:
                start = src.line_start(ent.span[0])
                if text[start: ent.span[0]].strip():  # shares its line: insert inline
                    self.edit(e.file, ent.span[0], 0, "".join(f"{n}, " for n in names), "enum")
                else:  # above the comment lines that label the anchor, if any
                    floor = e.entries[idx - 1].span[1] if idx else e.open_brace + 1
                    while start > floor:
                        above = src.line_start(start - 1)
                        line = text[above:start].strip()
                        if above < floor or not (line.startswith("//") or (line.startswith("/*")
                                                                          and line.endswith("*/"))):
                            break
                        start = above
                    self.edit(e.file, start, 0, "".join(f"{indent}{n},{nl}" for n in names), "enum")
                continue
            nxt = e.entries[idx + 1] if idx + 1 < len(e.entries) else None
            last_without_comma = nxt is None and ent.comma_end is None
            if ent.comma_end is None:
                self.edit(e.file, ent.span[1], 0, ",", "enum comma")
            after = ent.comma_end if ent.comma_end is not None else ent.span[1]
            items = [f"{n}," for n in names]
            if last_without_comma:
                items[-1] = names[-1]
            end = self.line_end(e.file, after)
            rest = text[after:end].strip()
            if rest == "" or rest.startswith("//") or (rest.startswith("/*") and rest.endswith("*/")):
                # the anchor ends its line (perhaps with a comment): one new line per entry below it
                self.edit(e.file, end, 0, "".join(f"{nl}{indent}{it}" for it in items), "enum")
            else:
                # more entries (or the closing brace) follow on the line: insert right after the comma
                self.edit(e.file, after, 0, "".join(f" {it}" for it in items), "enum")
        if moved:
            self._shift_explicit_values(moved)

    def _shift_explicit_values(self, moved: list[tuple[object, int, str]]) -> None:
        """An entry written with its value (``OUT_LAYEROUT = 20,``) after inserted entries, in its own enum or an
        earlier one of the chain, moves by as many: a number grows by them, a value computed from the tensor
        enums' entries follows them; one computed from anything else cannot move, and only then is the rewrite
        refused, naming both."""
        enums = list({id(e): e for _n, _v, e, _i in self.old.meta["enum_info"].entries}.values())
        order = {(id(e), idx): k for k, (e, idx) in enumerate((e, idx) for e in enums for idx in range(len(e.entries)))}
        at = [(order[(id(e), k)] if k < len(e.entries) else order[(id(e), k - 1)] + 1, n) for e, k, n in moved]
        names = {x.name for e in enums for x in e.entries}
        for e in enums:
            src = self.m.file(e.file)
            for idx, ent in enumerate(e.entries):
                before = [n for k, n in at if k <= order[(id(e), idx)]]
                if ent.value is not None and before:
                    self._move_value(e, ent, before, names, src)

    def _move_value(self, e, ent, before: list[str], names: set[str], src) -> None:
        m = re.fullmatch(r"\s*(\d+)([uUlL]*)\s*", ent.value)
        if m is not None:
            start = ent.span[1] - len(ent.value.strip())  # the entry's span ends with its value
            self.edit(e.file, start, len(ent.value.strip()), f"{int(m.group(1)) + len(before)}{m.group(2)}",
                      "enum value")
        elif not set(re.findall(r"[A-Za-z_]\w*", ent.value)) <= names:
            raise LayerError(src.path, src.line_of(ent.span[0]),
                             f"enum entry {ent.name} = {ent.value.strip()} is placed explicitly, after where the "
                             f"new input {before[0]} goes; write its value as a number (or leave it implicit) so "
                             "it can move")

    def _declare_beside(self, anchor: str, names: list[str], before: bool) -> None:
        """New tensors declared next to one that is no enum entry: another id counted at run time
        (`const uint64_t IN_X = TENSOR_ID++;`), or another string of its tensor-name list."""
        layer = self.m.layer
        tv = next((t for t in layer.tensor_vars if t.name == anchor), None)
        if tv is not None:
            src = self.m.file(tv.file)
            stmt = src.text[tv.span[0]:tv.span[1]]
            prefix = stmt[:re.search(rf"\b{re.escape(anchor)}\b", stmt).start()]  # `const uint64_t `
            counter = re.search(r"(\w+)\s*\+\+", stmt).group(1)
            indent, nl = src.indent_at(tv.span[0]), src.newline
            decls = [f"{prefix}{n} = {counter}++;" for n in names]
            text = src.text
            if before:
                start = src.line_start(tv.span[0])
                if text[start:tv.span[0]].strip():  # the line holds more code: insert right before it
                    self.edit(tv.file, tv.span[0], 0, "".join(f"{d} " for d in decls), "tensor id")
                else:
                    self.edit(tv.file, start, 0, "".join(f"{indent}{d}{nl}" for d in decls), "tensor id")
            else:
                end = self.line_end(tv.file, tv.span[1])
                rest = text[tv.span[1]:end].strip()
                if rest and not rest.startswith("//"):  # more code follows on the line: insert right after
                    self.edit(tv.file, tv.span[1], 0, "".join(f" {d}" for d in decls), "tensor id")
                else:
                    self.edit(tv.file, end, 0, "".join(f"{nl}{indent}{d}" for d in decls), "tensor id")
            return
        st = next((t for t in self.m.string_tensors if t.name == anchor), None)
        if st is None:
            raise LayerError(self.m.cpp.path, None, f"cannot declare {names[0]}: {anchor} is declared where the "
                             "tool cannot add beside it")
        src = self.m.file(st.file)
        text = src.text
        quoted = [f'"{n}"' for n in names]
        if before:
            self.edit(st.file, st.span[0], 0, "".join(f"{q}, " for q in quoted), "tensor name")
            return
        after = st.span[1]
        while after < len(text) and text[after] in " \t":
            after += 1
        rest = text[after + 1:self.line_end(st.file, after)].strip() if text[after:after + 1] == "," else None
        indent, nl = src.indent_at(st.span[0]), src.newline
        alone = text[src.line_start(st.span[0]):st.span[0]].strip() == ""
        if alone and rest is not None and (rest == "" or rest.startswith("//")):  # one name a line: so the new
            self.edit(st.file, self.line_end(st.file, after), 0, "".join(f"{nl}{indent}{q}," for q in quoted),
                      "tensor name")
        else:  # several names a line: each new one on a line of its own, so no line grows
            self.edit(st.file, st.span[1], 0, "".join(f",{nl}{indent}{q}" for q in quoted), "tensor name")

    # -- removed nodes (anti-outlier beta adds folded into the norm) ---------------------------------
    def removals(self) -> None:
        removed_ops = self.new.meta.get("removed_ops", [])
        if not removed_ops:
            return
        layer = self.m.layer
        src = self.m.cpp
        for op in removed_ops:
            var = self.old.graph.nodes[op]["node"]
            spans = [n.span for n in layer.nodes if n.var == var]
            spans += [c.span for c in layer.creates if c.node == var]
            spans += [lst.span for lst in layer.lists if lst.node == var]
            for span in spans:
                self._delete_statement(span)
            body = layer.func.body
            left = [t for t in src.tokens if t.text == var and body[0] <= t.start < body[1]
                    and not any(a <= t.start < b for a, b in spans)]
            if left:
                raise LayerError(src.path, src.line_of(left[0].start),
                                 f"cannot remove node {var}: it is used outside its setup")
        removed_vars = {self.old.graph.nodes[op]["node"] for op in removed_ops}
        dropped: set[int] = set()
        for op in removed_ops:  # a param only removed nodes were created from goes with them
            create = next((c for c in layer.creates if c.node == self.old.graph.nodes[op]["node"]), None)
            if create is None or create.param is None or id(create.param) in dropped:
                continue
            if all(c.node in removed_vars for c in layer.creates if c.param is create.param):
                dropped.add(id(create.param))
                self._delete_statement(create.param.span)
                for a in self._assigns(create.param):
                    self._delete_statement(a.span)
        self._close_blank_gaps()
        info = self.old.meta["enum_info"]
        for t in self.new.meta.get("removed_tensors", []):
            e, idx = next((e, idx) for name, _v, e, idx in info.entries if name == t)
            self._delete_enum_entry(e.file, e.entries[idx])
        self._shrink_node_room(len(removed_ops))

    def _shrink_node_room(self, removed: int) -> None:
        """The node list's size (the literal `nodes.resize` names, directly or through its count constant)
        drops by the nodes removed; a layer sized only by `resize(nodeId)` needs nothing."""
        layer = self.m.layer
        room = node_room(self.m)
        if room is None:
            if any(s.what == "nodes.resize" and s.value.strip() != "nodeId" for s in layer.settings):
                s = next(s for s in layer.settings if s.what == "nodes.resize")
                raise LayerError(self.m.cpp.path, self.m.line("cpp", s.span[0]),
                                 f"nodes.resize({s.value.strip()}) is not sized by one literal or count constant; "
                                 "cannot remove the folded nodes")
            return
        which, value, span = (room.constant.file, room.constant.value, room.constant.value_span) if room.constant \
            else ("cpp", room.setting.value, room.setting.value_span)
        m = re.fullmatch(r"(\d+)([uUlL]*)", value.strip())
        number = evaluate(value, self._names()) if span is not None else None
        if number is None:
            name = room.constant.name if room.constant else "nodes.resize"
            raise LayerError(self.m.file(which).path, self.m.line(which, span[0] if span else 0),
                             f"{name} = {value.strip()} cannot be evaluated; cannot remove the folded nodes")
        # a literal keeps its suffix; an expression of literals (`11 + 2`) becomes the number it now is
        self.edit(which, span[0], span[1] - span[0], f"{number - removed}{m.group(2) if m else ''}", "node count")

    def _names(self, counts: dict[str, int] | None = None) -> dict[str, int]:
        """Enum entries and the pair's constants with their values (``counts`` overriding constants)."""
        names = dict(self.old.meta["enum_info"].values)
        for c in self.m.constants:
            v = (counts or {}).get(c.name, evaluate(c.value, names))
            if v is not None:
                names[c.name] = v
        return names

    def _delete_enum_entry(self, which: str, ent) -> None:
        src = self.m.file(which)
        text = src.text
        start = ent.span[0]
        end = ent.comma_end if ent.comma_end is not None else ent.span[1]
        line_start = src.line_start(start)
        line_end = self.line_end(which, end)
        rest = text[end:line_end].strip()
        if not text[line_start:start].strip() and (rest == "" or rest.startswith("//")):
            self.edit(which, line_start, self.next_line(which, end) - line_start, "", "enum delete")
        else:
            while end < len(text) and text[end] in " \t":
                end += 1
            self.edit(which, start, end - start, "", "enum delete")

    # -- counts -----------------------------------------------------------------------------------
    def counts(self) -> None:
        new_kinds = {t: self.new.tensor_kind(t) for t in self.new.tensors()}
        n_in = sum(1 for k in new_kinds.values() if k in IN_KINDS)
        n_mid = sum(1 for k in new_kinds.values() if k == "intermediate")
        new_counts: dict[str, int] = {}
        for cname, value in (("IN_TENSOR_COUNT", n_in), ("INTERMEDIATE_TENSOR_COUNT", n_mid),
                             ("INTERNAL_TENSOR_COUNT", n_mid), ("INTERMIDATE_TENSOR_COUNT", n_mid)):
            c = self.m.constant(cname)
            if c is None:
                continue
            m = re.fullmatch(r"(\d+)([uUlL]*)", c.value.strip())
            if not m:
                continue  # an expression over sentinels: stays, the verifier checks it
            new_counts[cname] = value
            if int(m.group(1)) != value:
                self.edit(c.file, c.value_span[0], c.value_span[1] - c.value_span[0], f"{value}{m.group(2)}",
                          cname)
        before, after = self._names(), self._names(new_counts)
        for s in self.m.layer.settings:  # `opGraph.inTensorNum = 17;` written as a literal
            value = {"inTensorNum": n_in, "internalTensorNum": n_mid}.get(s.what)
            m = re.fullmatch(r"(\d+)([uUlL]*)", s.value.strip())
            if value is not None and m and s.value_span and int(m.group(1)) != value:
                self.edit("cpp", s.value_span[0], s.value_span[1] - s.value_span[0], f"{value}{m.group(2)}", s.what)
            elif value is not None and not m:  # an expression: it follows the constants it names
                old, new = evaluate(s.value, before), evaluate(s.value, after)
                if old is not None and new is not None and old != new and new != value:
                    self.notes.append(Followup(COUNT_FOLLOWS, f"{self.m.layer.graph_var}.{s.what} = "
                                               f"{' '.join(s.value.split())} becomes {new} (was {old}); the "
                                               f"layer has {value}"))

    # -- tensor lists -----------------------------------------------------------------------------
    def lists(self) -> None:
        done: dict[tuple, list[str]] = {}
        for op in self.new.changed_ops():
            src = self.new.graph.nodes[op].get("source_op", op)  # a quant form of a branched op: its float op
            v = self.old.graph.nodes[src]["variant"]
            for which_list, old_names, new_names in (
                (v.in_list, self.old.inputs_of(src), self.new.inputs_of(op)),
                (v.out_list, self.old.outputs_of(src), self.new.outputs_of(op)),
            ):
                if which_list is None or old_names == new_names:
                    continue
                stepped = which_list.var is not None or bool(which_list.steps)
                held = _held(which_list, v.group[0]) if stepped else []
                key = (id(which_list), tuple(held))  # a list built in steps holds other elements per variant
                if key in done:
                    if done[key] != new_names:
                        raise LayerError(self.m.cpp.path, self.m.line("cpp", which_list.span[0]),
                                         f"{op}: one tensor list serves branches that need different rewiring")
                    continue
                done[key] = new_names
                if stepped:
                    self._rewrite_steps(op, which_list, held, old_names, new_names)
                else:
                    self._rewrite_list(which_list, new_names)

    def _rewrite_steps(self, op: str, lst: TensorList, held: list[int], old: list[str], new: list[str]) -> None:
        """A list built in steps (a list variable initialised, reassigned, pushed onto, extended by another
        list; or a node's list with pushes): a changed slot is changed where its element is written, unless it
        is read only under a branch, or comes from a list something else reads too; new elements follow the
        last one the op reads, in its brace list or as pushes like its push."""
        src = self.m.cpp
        where = {id(e): st for st in lst.steps for e in st.elems}
        by_span = {e.span: st for st in lst.steps for e in st.elems}
        elems = [lst.elems[k] for k in held]

        def refuse(e, why: str) -> LayerError:
            return LayerError(src.path, src.line_of(e.span[0]), f"{op}: {why}; the tool cannot place the rewrite there")

        if len(elems) != len(old) or any(e.text != o and not (e.ternary and o in e.ternary[1:])
                                         for e, o in zip(elems, old, strict=True)):
            raise LayerError(src.path, src.line_of(lst.span[0]), f"internal: {op}'s list reads {old}; please report "
                             "this file")
        for i, e in enumerate(elems[: len(new)]):
            if e.text == new[i] or (e.ternary and new[i] in e.ternary[1:]):
                continue
            step = where.get(id(e)) or by_span.get(e.span)
            if e.ternary:
                raise refuse(e, f"slot {i} is a choice between tensors that the rewrite must change")
            if e.optional:
                raise refuse(e, f"slot {i} is read only under a branch")
            if step is not None and step.kind == "append" and step.shared:
                raise refuse(e, f"slot {i} comes from {step.source}, which other lists read too")
            if step is not None and step.kind in ("rename", "replace"):
                raise refuse(e, f"slot {i} is renamed by position")
            self.edit("cpp", e.span[0], e.span[1] - e.span[0], _spelled(lst, new[i]), "list slot")
        braces = {e.span: p for st in lst.steps for p in (st, *st.parts) if p.brace for e in p.elems}
        for step in {id(p): p for p in braces.values()}.values():  # brace lists whose lines grew: wrapped
            mine = [k for k, e in enumerate(elems) if braces.get(e.span) is step]
            if step.brace is not None and mine and mine == list(range(mine[0], mine[-1] + 1)) and mine[-1] < len(new):
                part = TensorList(lst.node, lst.which, [elems[k] for k in mine], step.span, step.brace, step.cond,
                                  lst.named)
                self._rewrap(part, [new[k] for k in mine])
        if len(new) < len(old):
            raise LayerError(src.path, src.line_of(lst.span[0]), f"{lst.node}: the rewrite would drop inputs; "
                             "not supported")
        if len(new) == len(old):
            return
        last = elems[-1]
        step = where.get(id(last)) or by_span.get(last.span)
        tail = new[len(old):]
        if step is None:  # the node's own brace list, pushed onto later: its last element is in the brace
            part = TensorList(lst.node, lst.which, [e for e in lst.elems if by_span.get(e.span) is None],
                              lst.span, lst.brace, lst.cond, lst.named)
            self._append_in_brace(part, last, tail)
        elif step.kind in ("init", "assign") and step.brace is not None and step.elems[-1].span == last.span \
                and not last.optional:
            part = TensorList(lst.node, lst.which, step.elems, step.span, step.brace, step.cond, lst.named)
            self._append_in_brace(part, last, tail)
        elif step.kind == "push" and not last.optional and last.ternary is None:
            stmt = src.text[step.span[0]:step.span[1]]
            at = _outer(last)
            form = src.text[at[0]:at[1]]
            name_at = (last.span[0] - at[0], last.span[1] - at[0])
            lines = []
            for n in tail:
                item = form[:name_at[0]] + _spelled(lst, n) + form[name_at[1]:]
                lines.append(stmt[:at[0] - step.span[0]] + item + stmt[at[1] - step.span[0]:])
            end = self.line_end("cpp", step.span[1])
            self.edit("cpp", end, 0, "".join(f"{src.newline}{step.indent}{ln}" for ln in lines), "list push")
        else:
            what = {"append": f"comes from {step.source}", "push": "is pushed under a branch"}.get(
                step.kind, "is not written where a new one can follow")
            raise refuse(last, f"the last tensor its list holds ({last.text}) {what}")

    def _append_in_brace(self, part: TensorList, last: ListElem, tail: list[str]) -> None:
        """New elements after ``last`` inside its brace list, wrapped like it."""
        names = [_spelled(part, n) for n in tail]
        if last.item is not None:  # one call per tensor: each added one is a call like the last
            text = self.m.cpp.text
            prefix = re.sub(r"\s+", " ", text[last.item[0]:last.span[0]])
            suffix = re.sub(r"\s+", " ", text[last.span[1]:last.item[1]])
            names = [prefix + t + suffix for t in names]
        end = _outer(last)[1]
        col = end - self.m.cpp.line_start(end)
        self.edit("cpp", end, 0, self._wrapped_tail(part, names, col, end), "list append")

    def _rewrite_list(self, lst: TensorList, new: list[str]) -> None:
        elems = lst.elems
        for i, e in enumerate(elems[: len(new)]):
            if e.ternary:
                if new[i] not in e.ternary[1:]:
                    raise LayerError(self.m.cpp.path, self.m.line("cpp", e.span[0]),
                                     f"{lst.node}: slot {i} is a conditional tensor id that the rewrite must change")
                continue
            if e.text != new[i]:
                self.edit("cpp", e.span[0], e.span[1] - e.span[0], _spelled(lst, new[i]), "list slot")
        col = self._rewrap(lst, new)
        if len(new) > len(elems):
            last = elems[-1]
            tail = [_spelled(lst, n) for n in new[len(elems):]]
            if last.item is not None:  # one call per tensor: each added one is a call like the last
                text = self.m.cpp.text
                prefix = re.sub(r"\s+", " ", text[last.item[0]:last.span[0]])
                suffix = re.sub(r"\s+", " ", text[last.span[1]:last.item[1]])
                tail = [prefix + t + suffix for t in tail]
            end = _outer(last)[1]
            self.edit("cpp", end, 0, self._wrapped_tail(lst, tail, col, end), "list append")
        elif len(new) < len(elems):
            raise LayerError(self.m.cpp.path, self.m.line("cpp", lst.span[0]),
                             f"{lst.node}: the rewrite would drop inputs; not supported")

    def _continuation(self, lst: TensorList) -> str:
        """How a new line of the list starts: as the list's own continuation lines do, else under its first
        element."""
        src = self.m.cpp
        for e in reversed(lst.elems[1:]):
            at = _outer(e)[0]
            if not src.text[src.line_start(at):at].strip():
                return src.text[src.line_start(at):at]
        first = _outer(lst.elems[0])[0]
        if src.line_of(first) == src.line_of(lst.brace[0]):
            return " " * (first - src.line_start(first))
        return src.indent_at(first)

    def _rewrap(self, lst: TensorList, new: list[str], width: int = 120) -> int:
        """A source line of the list that grows past ``width`` because of replaced slots is broken before the
        first element that no longer fits; what spills over is joined with the next line when that line
        changes too and there is room, so no element is left alone on a line. Lines the rewrite does not
        touch keep their layout. Returns the column just past the last element as it will read, where
        appended elements continue."""
        src = self.m.cpp
        text = src.text
        cont = self._continuation(lst)
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
                    self.edit("cpp", prev_end, len(gap), f",{src.newline}{cont}", "wrap")
                    spilled, col = True, len(cont)
                elif not same_line and spilled and col + 2 + w <= width:
                    self.edit("cpp", prev_end, len(gap), ", ", "join")  # the next line joins the spill
                    spilled, laid_out = False, True
                    col += 2
                elif not same_line:
                    spilled, laid_out = False, line in changed_lines
                    col = at - src.line_start(at)
                else:
                    col += len(gap)
            col += shown_width(i)
        return col

    def _wrapped_tail(self, lst: TensorList, names: list[str], col: int, last_end: int, width: int = 120) -> str:
        """`, A, B` after the last element (ending at ``last_end``), broken into lines aligned with the
        list's first element when the line would grow past ``width``."""
        src = self.m.cpp
        rest = src.text[last_end:self.line_end("cpp", last_end)].rstrip("\r")
        cont = self._continuation(lst)
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

    # -- params -----------------------------------------------------------------------------------
    def params(self) -> None:
        layer = self.m.layer
        by_decl: dict[int, list[tuple[str, CreateCall]]] = defaultdict(list)
        decls: dict[int, ParamDecl] = {}
        for op in self.old.ops():
            create = self.old.graph.nodes[op]["variant"].create
            if create is not None and create.param is not None:
                by_decl[id(create.param)].append((op, create))
                decls[id(create.param)] = create.param
        branched = self._branched()
        for key, users in by_decl.items():
            decl = decls[key]
            plans = [self._plan_of(op, branched) for op, _ in users]
            if all(p is None for p in plans):
                continue
            if any(op in branched for op, _ in users):
                # the float form of a branched op still reads this param: every rewritten user gets its own,
                # a branched one inside its quant branch
                for (op, c), plan in zip(users, plans, strict=True):
                    if plan is not None and op in branched:
                        self._fresh_params(decl, [(op, c)], [plan], copy_from=decl.var)
                rest = [(u, p) for u, p in zip(users, plans, strict=True) if p is not None and u[0] not in branched]
                if rest:
                    self._fresh_params(decl, [u for u, _ in rest], [p for _, p in rest], copy_from=decl.var)
                continue
            keys = {p.key() if p else None for p in plans}
            same_shape = None not in keys and len({(p.type, tuple(f for f, _ in p.fields)) for p in plans}) == 1
            if len(keys) == 1:
                self._apply_in_place(decl, plans[0], users)
            elif same_shape:
                # the first user takes the change in place; the others copy it and set their own values
                self._apply_in_place(decl, plans[0], users[:1])
                self._fresh_params(decl, users[1:], plans[1:], copy_from=decl.var)
            else:
                self._fresh_params(decl, [u for u, p in zip(users, plans, strict=True) if p],
                                   [p for p in plans if p], copy_from=None)
        del layer

    def _branched(self) -> dict[str, Branch]:
        """Ops of the float graph set up twice by a float fallback, by op."""
        fb = self.new.meta.get("fallback")
        return {b.op: b for b in fb.branches} if fb else {}

    def _plan_of(self, op: str, branched: dict[str, Branch]) -> Plan | None:
        node = branched[op].quant_op if op in branched else op
        return self.new.graph.nodes[node].get("plan") if node in self.new.graph else None

    def _assigns(self, decl: ParamDecl):
        return [a for a in self.m.layer.assigns if a.param is decl]

    def _apply_in_place(self, decl: ParamDecl, plan: Plan, users) -> None:
        assigns = self._assigns(decl)
        first_create = min((c for _, c in users), key=lambda c: c.span[0])
        set_fields = list(plan.fields)
        if plan.type:
            absorbed = self._retype(decl, plan, assigns)
            set_fields = [(p, v) for p, v in plan.fields if p not in absorbed]
        brace = self._brace_fields(decl)
        lines = []
        for path, value in set_fields:
            existing = [a for a in assigns if a.path == path and not a.cond and a.span[0] < first_create.span[0]]
            if path in plan.only_if_set:  # the type's default is the wanted value: edit only what differs
                if path in brace and brace[path][0].strip() != value:
                    s = brace[path][1]
                    self.edit("cpp", s[0], s[1] - s[0], value, f"brace {path}")
                if existing and existing[-1].value.strip() != value:
                    self._replace_value(existing[-1], value)
                if any(a.path == path and a.cond and a.span[0] < first_create.span[0] and a.value.strip() != value
                       for a in assigns):
                    lines.append(f"{decl.var}.{path} = {value};")  # set otherwise in some branch: override
                continue
            kept = plan.type is None or plan.keep_fields is None or path in plan.keep_fields
            if existing and kept:  # edit the float's assignment, never add a second one after it
                self._replace_value(existing[-1], value)
            elif path in brace and plan.type is None:
                s = brace[path][1]
                if self.m.cpp.text[s[0]:s[1]].strip() != value:
                    self.edit("cpp", s[0], s[1] - s[0], value, f"brace {path}")
            else:
                lines.append(f"{decl.var}.{path} = {value};")
        self._insert_before(first_create, lines)
        if plan.callee:
            for _, c in users:
                self.edit("cpp", c.callee_span[0], c.callee_span[1] - c.callee_span[0], plan.callee, "callee")
        if plan.include:
            self._include(plan.include, plan.old_include)

    def _replace_value(self, a, value: str) -> None:
        text = self.m.cpp.text
        eq = text.index("=", a.span[0])
        semi = text.rindex(";", a.span[0], a.span[1])
        self.edit("cpp", eq + 1, semi - eq - 1, f" {value}", f"value {a.path}")

    def _retype(self, decl: ParamDecl, plan: Plan, assigns) -> set[str]:
        """Change the declared type; returns the plan fields the new brace initialiser already sets."""
        from llm_transform.graph.catalogue import catalogue

        absorbed: set[str] = set()
        self.edit("cpp", decl.type_span[0], decl.type_span[1] - decl.type_span[0], plan.type, "param type")
        if plan.init is not None:
            if decl.init_span is not None:
                self.edit("cpp", decl.init_span[0], decl.init_span[1] - decl.init_span[0], plan.init, "init")
            else:
                end = decl.span[1] - 1  # before ';'
                self.edit("cpp", end, 0, f" = {plan.init}", "init")
        elif decl.init_span is not None and decl.init and decl.init.strip().startswith("{"):
            # a positional initialiser is re-laid for the new type's field order, plan values first
            new_type = catalogue().lookup(plan.type)
            names = (new_type.get("brace_fields") if new_type else None) or []
            old = self._brace_fields(decl)
            wanted = dict(plan.fields)
            values = []
            for n in names:
                if n in wanted:
                    values.append(wanted[n])
                    absorbed.add(n)
                elif n in old:
                    values.append(old[n][0].strip())
                else:
                    break
            self.edit("cpp", decl.init_span[0], decl.init_span[1] - decl.init_span[0],
                      "{" + ", ".join(values) + "}", "init")
        for a in assigns:
            if plan.renames and a.path.split(".")[0] in plan.renames:
                head = a.path.partition(".")[0]
                start = self.m.cpp.text.index(a.path.split(".")[0], a.span[0] + len(decl.var))
                self.edit("cpp", start, len(head), plan.renames[head], "rename field")
            elif plan.keep_fields is not None and a.path not in plan.keep_fields:
                self._delete_statement(a.span)
        return absorbed

    def _close_blank_gaps(self) -> None:
        """Whole lines deleted between two blank lines would leave two blank lines in a row: the blank line
        below them goes too. Comments are never deleted: one above removed code now speaks for what replaced
        it (a quant norm that adds the beta itself)."""
        src = self.m.cpp
        lines = src.text.split("\n")
        starts = src.line_starts
        index = {at: i for i, at in enumerate(starts)}
        gone = {i for e in self.edits["cpp"] if e.why == "delete" and e.offset in index
                for i in range(index[e.offset], src.line_of(e.offset + e.length - 1))}
        for i in sorted(gone):
            if i - 1 in gone or i == 0:
                continue
            j = i
            while j in gone:
                j += 1
            if j < len(lines) - 1 and not lines[i - 1].strip() and not lines[j].strip():
                self.edit("cpp", starts[j], starts[j + 1] - starts[j], "", "delete blank")

    def _delete_statement(self, span) -> None:
        src = self.m.cpp
        start = src.line_start(span[0])
        end = self.line_end("cpp", span[1])
        if src.text[start:span[0]].strip() == "" and src.text[span[1]:end].strip() == "":
            self.edit("cpp", start, self.next_line("cpp", span[1]) - start, "", "delete")
        else:
            self.edit("cpp", span[0], span[1] - span[0], "", "delete")

    def _brace_fields(self, decl: ParamDecl) -> dict[str, tuple[str, tuple[int, int]]]:
        if not decl.init or not decl.init.strip().startswith("{") or decl.init_span is None:
            return {}
        names = None
        from llm_transform.graph.catalogue import catalogue

        t = catalogue().lookup(decl.type_text)
        if t is not None:
            names = t.get("brace_fields")
        if not names:
            return {}
        text = self.m.cpp.text
        start = text.index("{", decl.init_span[0]) + 1
        end = text.rindex("}", decl.init_span[0], decl.init_span[1])
        out = {}
        pos = start
        for i, part in enumerate(text[start:end].split(",")):
            lead = len(part) - len(part.lstrip())
            s = (pos + lead, pos + len(part.rstrip()))
            if i < len(names):
                out[names[i]] = (part, s)
            pos += len(part) + 1
        return out

    def _fresh_params(self, decl: ParamDecl, users, plans: list[Plan], copy_from: str | None) -> None:
        taken = {p.var for p in self.m.layer.params} | {n for _, n in self.introduced}
        groups: dict[tuple, list] = {}
        for (op, create), plan in zip(users, plans, strict=True):
            groups.setdefault(plan.key(), []).append((op, create, plan))
        for items in groups.values():
            op, create, plan = items[0]
            node = self.old.graph.nodes[op]["node"]
            base = re.sub(r"Node$", "", node.split("@")[0]) + "Param"
            name = base
            k = 2
            while name in taken:
                name = f"{base}{k}"
                k += 1
            taken.add(name)
            self.introduced.append(("param variable", name))
            typ = plan.type or decl.type_text
            lines = []
            if copy_from and plan.type is None:
                lines.append(f"{typ} {name} = {copy_from};")
            else:
                lines.append(f"{typ} {name}{' = ' + plan.init if plan.init else ''};" if plan.init
                             else f"{typ} {name};")
                if plan.init is None:
                    for a in self._assigns(decl):
                        head = a.path.split(".")[0]
                        if plan.keep_fields is not None and a.path not in plan.keep_fields:
                            continue
                        path = plan.renames.get(head, head) + a.path[len(head):]
                        lines.append(f"{name}.{path} = {a.value.strip()};")
            for path, value in plan.fields:
                lines.append(f"{name}.{path} = {value};")
            self._insert_before(create, lines)
            for _, c, _ in items:
                arg = c.param_arg or ""
                text = self.m.cpp.text
                pos = text.index(arg, c.callee_span[1]) if arg else -1
                if pos != -1:
                    self.edit("cpp", pos, len(arg), name, "param arg")
                if plan.callee:
                    self.edit("cpp", c.callee_span[0], c.callee_span[1] - c.callee_span[0], plan.callee, "callee")
            if plan.include:
                self._include(plan.include, plan.old_include)

    def _insert_before(self, create: CreateCall, lines: list[str]) -> None:
        if not lines:
            return
        src = self.m.cpp
        at = create.statement_start
        start = src.line_start(at)
        indent = src.indent_at(at)
        if src.text[start:at].strip():
            # the call shares its line with other code: put the lines before the statement itself
            self.edit("cpp", at, 0, " ".join(lines) + " ", "fields")
            return
        nl = src.newline
        self.edit("cpp", start, 0, "".join(f"{indent}{ln}{nl}" for ln in lines), "fields")

    def _include(self, include: str, old: str | None) -> None:
        if include in self._done_includes:
            return
        self._done_includes.add(include)
        if any(i.target.endswith(include) for i in self.m.includes):
            return
        olds = [i for i in self.m.includes if old and i.target.endswith(old)]
        if olds:  # the V1 header is replaced by its V2 counterpart, directory kept
            inc = olds[0]
            text = self.m.file(inc.file).text[inc.span[0]:inc.span[1]]
            pos = text.rfind(old)
            self.edit(inc.file, inc.span[0] + pos, len(old), include, "include")
            return
        cpp_inc = [i for i in self.m.includes if i.file == "cpp"]
        if not cpp_inc:
            return
        anchor = cpp_inc[-1]
        self.edit(anchor.file, anchor.span[1], 0, f'{self.nl(anchor.file)}#include "{include}"', "include")

    # -- float fallback branches -------------------------------------------------------------------
    #: edits that hold for the float form as much as for the quant one
    _BOTH_FORMS = frozenset({"rename", "rename in string", "guard", "own header"})

    def branches(self) -> None:
        """Each branched op's statements become `if (flag) { float form } else { quant form }`: the float form
        is the original text, the quant form that text with the rewrite's edits inside it."""
        src = self.m.cpp
        nl = src.newline
        for b in self._branched().values():
            v = self.old.graph.nodes[b.op]["variant"]
            own = [(v.create.statement_start, v.create.span[1]), v.in_list.span,
                   *([v.out_list.span] if v.out_list else [])]
            lo, hi = src.line_start(min(a for a, _ in own)), self.next_line("cpp", max(e for _, e in own))
            inside = [e for e in self.edits["cpp"] if lo <= e.offset and e.offset + e.length <= hi
                      and not (e.length == 0 and e.offset == hi)]
            if any(e.offset < lo < e.offset + e.length or e.offset < hi < e.offset + e.length
                   for e in self.edits["cpp"]):
                raise LayerError(src.path, src.line_of(lo), f"internal: an edit crosses the setup of {b.op}; "
                                 "please report this file")
            self.edits["cpp"] = [e for e in self.edits["cpp"] if e not in inside]
            block = src.text[lo:hi]
            shifted = [Edit(e.offset - lo, e.length, e.text, e.why) for e in inside]
            float_form = apply_edits(block, [e for e in shifted if e.why in self._BOTH_FORMS])
            quant_form = apply_edits(block, shifted)
            indent = src.indent_at(v.create.statement_start)
            unit = "\t" if indent.startswith("\t") else "    "

            def deeper(text: str, unit: str = unit) -> str:
                return "".join(unit + ln if ln.strip() else ln for ln in text.splitlines(keepends=True))

            text = (f"{indent}if ({b.condition}) {{{nl}{deeper(float_form)}{indent}}} else {{{nl}"
                    f"{deeper(quant_form)}{indent}}}{nl}")
            self.edit("cpp", lo, hi - lo, text, "fallback branch")

    # -- param struct and JSON --------------------------------------------------------------------
    def struct_and_json(self) -> None:
        scales = self.new.meta.get("scale_fields", [])
        fb = self.new.meta.get("fallback")
        # (name, type, default) of every field the rewrite adds: scale / offset pairs, then fallback flags
        fields = [(n, typ, d) for f in scales for n, typ, d in ((f.scale, "float", "1"), (f.offset, "int", "0"))]
        fields += [(f.name, "bool", "false") for f in (fb.flags if fb else [])]
        st = self.m.param_struct
        if not fields or st is None:
            return
        src = self.m.file(st.file)
        nl = src.newline
        if st.fields:
            last = st.fields[-1]
            indent = src.indent_at(last.span[0])
            at = self.line_end(st.file, last.span[1])
            rest = src.text[last.span[1]:at].strip()
            if rest and not rest.startswith("//"):  # more code (the closing brace) shares the line
                at = last.span[1]
            text = "".join(f"{nl}{indent}{typ} {n} = {d};" for n, typ, d in fields)
            self.edit(st.file, at, 0, text, "struct fields")
        else:
            indent = src.indent_at(st.span[0]) + "    "
            text = "".join(f"{indent}{typ} {n} = {d};{nl}" for n, typ, d in fields)
            self.edit(st.file, src.line_start(st.close_brace), 0, text, "struct fields")
        reads = self.m.json_reads
        by_func: dict[str, list] = defaultdict(list)
        for r in reads:
            by_func[r.function].append(r)
        for func, rs in by_func.items():
            fdef = next((f for f in self.m.functions if f.name == func and f.body), None)
            if fdef is None:
                continue
            fsrc = self.m.file(fdef.file)
            style = "get_to" if any(r.style == "get_to" for r in rs) else "bracket"
            unguarded = [r for r in rs if not r.guarded and r.style == style]
            if unguarded:
                last = unguarded[-1]
                indent = last.indent
                at = last.span[1]
            else:
                close = fdef.body[1] - 1
                at = fsrc.line_start(close)
                indent = fsrc.indent_at(rs[0].span[0]).split("    ")[0] + "    "
                at = at - len(fsrc.newline) if at >= len(fsrc.newline) else at
            obj = "paramJson"
            target = "param"
            mm = re.search(r"(\w+)\s*\.at\(|(\w+)\s*\[", fsrc.text[rs[0].span[0]:rs[0].span[1]])
            if mm:
                obj = mm.group(1) or mm.group(2)
            mt = re.search(r"(\w+)\.\w", rs[0].field and fsrc.text[rs[0].span[0]:rs[0].span[1]].split("get_to")[-1]
                           if style == "get_to" else fsrc.text[rs[0].span[0]:rs[0].span[1]])
            if mt:
                target = mt.group(1)
            lines = []
            for fld, typ, _ in fields:
                if style == "get_to":
                    lines.append(f'{obj}.at("{fld}").get_to({target}.{fld});')
                else:
                    lines.append(f'{target}.{fld} = {obj}["{fld}"].get<{typ}>();')
            nl = fsrc.newline
            self.edit(fdef.file, at, 0, "".join(f"{nl}{indent}{ln}" for ln in lines), "json reads")

    # -- names ------------------------------------------------------------------------------------
    def rename(self) -> None:
        words = ["Sparse", "Quant"] if self.prefix == "sparse_quant" else ["Quant"]
        upper = spell(words, "upper_snake")
        names: dict[str, str] = {}
        layer = self.m.layer

        def layer_name(n: str) -> str:
            return type_name(n, words)

        names[layer.func.short_name] = layer_name(layer.func.short_name)
        if self.m.param_struct:
            names[self.m.param_struct.name] = layer_name(self.m.param_struct.name)
        if self.m.binder:
            names[self.m.binder.name] = layer_name(self.m.binder.name)
        # another type the header defines would be defined twice where both headers are included: it takes a
        # name of its own too, unless code outside the pair takes it (a function the pair declares only)
        own = {layer.func.short_name, *(s.name for s in (self.m.param_struct, self.m.binder) if s)}
        moved = []
        for st in self.m.structs:
            if st.file == "h" and st.name not in own and not self.m.used_outside(st.name):
                names[st.name] = layer_name(st.name)
                moved.append(f"{st.name} -> {names[st.name]}")
        if moved:
            self.notes.append(Followup(RENAMED_TYPES, ", ".join(moved)))
        for e in self.m.enums:
            if e.name:
                names[e.name] = layer_name(e.name)
        for f in self.m.functions:
            short = f.short_name
            # statics in the .cpp are file-local; in the header they would clash with the float header's
            if f.owner or (f.is_static and f.file == "cpp") or short in names or short in ("from_json", "main"):
                continue
            if f.file == "cpp" or short.startswith("Create"):
                if short.startswith("Create"):
                    names[short] = "Create" + layer_name(short[len("Create"):]) if short != "Create" else short
                elif f.body is not None:
                    names[short] = prefixed(short, words)
        self.renames = names
        # the layer's own strings (`opGraph.name`, log texts) name it too: whole words inside them follow
        renamed = replace_words(names)
        for which in ("cpp", "h"):
            src = self.m.file(which) if (which == "cpp" or self.m.h) else None
            if src is None:
                continue
            own = {name.rsplit("::", 1)[-1] for _w, name, _s in self.m.namespaces} | set(names) | {
                s.name for s in self.m.structs}
            toks = src.tokens
            for k, t in enumerate(toks):
                # `atb::infer::SelfAttentionParam` is another type than the layer's own `SelfAttentionParam`:
                # a name qualified by a namespace or class other than the pair's is not the pair's
                foreign = k >= 2 and toks[k - 1].text == "::" and toks[k - 2].text not in own
                if t.kind == IDENT and t.text in names and not foreign:
                    self.edit(which, t.start, t.end - t.start, names[t.text], "rename")
                elif t.kind == STRING and renamed(t.text) != t.text:
                    self.edit(which, t.start, t.end - t.start, renamed(t.text), "rename in string")
        stem = self.m.cpp.path.stem
        for gd in self.m.guards:
            new = _guard_name(gd.name, stem, upper)
            for s in gd.name_spans:
                self.edit(gd.file, s[0], s[1] - s[0], new, "guard")
        kept = self._kept_in_header(names)
        if kept:
            self.notes.append(Followup(HEADER_CLASH, f"{self.m.h.path.name}: {', '.join(kept)}"))

    def _kept_in_header(self, names: dict[str, str]) -> list[str]:
        """What the header defines under the same name in both headers: enumerators of plain enums, structs,
        constants and functions the rename leaves as they are."""
        kept = []
        for e in self.m.enums:
            if e.file == "h" and e.entries and not (e.scoped and e.name in names):
                kept.append(f"the entries of enum {e.name}" if e.name else f"enum entry {e.entries[0].name}...")
        kept += [f"struct {st.name}" for st in self.m.structs if st.file == "h" and st.name not in names]
        kept += [c.name for c in self.m.constants if c.file == "h" and c.name not in names]
        kept += [f"{f.short_name}()" for f in self.m.functions
                 if f.file == "h" and f.body is not None and not f.owner and f.short_name not in names
                 and f.short_name != "from_json"]  # overloaded on the renamed struct
        return kept


    def own_header(self) -> None:
        """The .cpp includes its own new header, whatever the names: the float header lacks the new fields."""
        if self.m.h is None:
            return
        hname = self.m.h.path.name
        src = self.m.cpp
        for inc in self.m.own_header_includes():
            seg = src.text[inc.span[0]:inc.span[1]]
            pos = seg.rfind(hname)
            self.edit("cpp", inc.span[0] + pos, len(hname), f"{self.prefix}_{hname}", "own header")


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


def _guard_name(name: str, stem: str, upper: str) -> str:
    s = stem.upper()
    if s in name:
        return name.replace(s, f"{upper}_{s}", 1)
    if name.endswith("_H"):
        return name[:-2] + f"_{upper}_H"
    return name + f"_{upper}"
