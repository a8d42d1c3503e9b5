"""Source model -> LayerGraph."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from llm_transform.source.errors import LayerError
from llm_transform.source.lexer import IDENT, PREPROC
from llm_transform.source.model import (
    Constant,
    CreateCall,
    EnumDecl,
    FieldAssign,
    GraphSetting,
    LayerSource,
    ParamDecl,
    TensorList,
)

from .catalogue import catalogue
from .conditions import MAX_ATOMS, Assignment, Cond, as_text, assignments, describe, exclusive, holds
from .layer_graph import OP, TENSOR, WEIGHT_ROLES, LayerGraph, OpGraph, add_tensor


@dataclass
class EnumInfo:
    """Tensor enum entries with their values, in enum order, sentinels set aside."""

    entries: list[tuple[str, int, EnumDecl, int]] = field(default_factory=list)  # name, value, enum, idx
    sentinels: dict[str, int] = field(default_factory=dict)
    values: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[str, str, int]] = field(default_factory=list)  # (message, file, offset)
    from_clang: dict[str, int] = field(default_factory=dict)  # values only libclang could evaluate
    unevaluated: list[str] = field(default_factory=list)  # entries this module cannot evaluate by itself


def evaluate(expr: str, names: dict[str, int]) -> int | None:
    """Value of a small integer expression over known names (enum entries, constants)."""
    expr = expr.strip()
    if expr.isdecimal() and (expr == "0" or expr[0] != "0"):  # most are a plain number or one name
        return int(expr)
    if expr in names:
        return names[expr]
    if not re.fullmatch(r"[\w\s+\-*()]+", expr):
        return None
    expr = re.sub(r"\b(\d+)[uUlL]+\b", r"\1", expr)

    def repl(m: re.Match[str]) -> str:
        w = m.group(0)
        if w.isdigit():
            return w
        w = w.rsplit("::", 1)[-1]
        if w in names:
            return str(names[w])
        raise KeyError(w)

    try:
        py = re.sub(r"[A-Za-z_][\w:]*|\d+", repl, expr)
        return int(eval(py, {"__builtins__": {}}, {}))
    except Exception:
        return None


def tensor_enums(model: LayerSource) -> list[EnumDecl]:
    used: set[str] = set()
    if model.layer:
        for lst in model.layer.lists:
            for e in lst.elems:
                if e.ternary:
                    used.update(e.ternary[1:])
                else:
                    used.add(e.text)
    out = []
    for e in model.enums:
        if e.owner is not None:  # a sub-graph's tensors
            continue
        names = {x.name for x in e.entries}
        if names & used or (e.name and "Tensor" in e.name and names):
            out.append(e)
    return out


@dataclass(frozen=True)
class NodeRoom:
    """What sizes the node list: ``opGraph.nodes.resize(X)`` with X a literal, a count constant
    (``NODE_COUNT``, ``NODE_COUNT_MAX``...) or an expression of one (``NODE_COUNT + 4``)."""

    setting: GraphSetting
    constant: Constant | None  # the count constant X names, if any


_INT_LITERAL = re.compile(r"\s*(\d+)([uUlL]*)\s*")


def int_literal(text: str) -> int | None:
    """The value of an integer literal (``17``, ``17u``), or None for anything else (an expression)."""
    parts = int_literal_parts(text)
    return parts[0] if parts else None


def int_literal_parts(text: str) -> tuple[int, str] | None:
    """An integer literal's value and suffix (``17u`` -> 17, "u"), or None for anything else."""
    m = _INT_LITERAL.fullmatch(text)
    return (int(m.group(1)), m.group(2)) if m else None


def node_room(model: LayerSource) -> NodeRoom | None:
    """The one fixed ``nodes.resize`` of the layer (a later ``resize(nodeId)`` aside), or None when there is
    none or several (sizes per branch) or it names more than one constant."""
    fixed = [s for s in model.layer.settings if s.node_room and not s.by_counter]
    if len(fixed) != 1:
        return None
    names = [c for w in dict.fromkeys(re.findall(r"[A-Za-z_]\w*", fixed[0].value))
             if (c := model.constant(w)) is not None]
    if len(names) > 1 or (not names and int_literal(fixed[0].value) is None):
        return None
    return NodeRoom(fixed[0], names[0] if names else None)


def count_values(model: LayerSource, info: EnumInfo, counts: dict[str, int] | None = None) -> dict[str, int]:
    """Enum entries and the pair's constants with their values (``counts`` overriding constants)."""
    names = dict(info.values)
    for c in model.constants:
        v = (counts or {}).get(c.name, evaluate(c.value, names))
        if v is not None:
            names[c.name] = v
    return names


def read_elsewhere(model: LayerSource, names: set[str]) -> set[str]:
    """The constants among ``names`` that something besides their declaration names (a layer whose counts
    follow its tensor-name lists may keep an old count constant that nothing reads)."""
    decls = {n: c for n in names if (c := model.constant(n)) is not None}
    found: set[str] = set()
    if not decls:
        return found
    # the text is searched at C speed; a hit counts where a name token starts there (not in a comment)
    for which, src in (("cpp", model.cpp), ("h", model.h)):
        if src is None:
            continue
        for name, c in decls.items():
            at = src.text.find(name)
            while at != -1 and name not in found:
                if not (c.file == which and c.span[0] <= at < c.span[1]):
                    k = bisect.bisect_left(src.tokens, at, key=_start)
                    if k < len(src.tokens) and src.tokens[k].start == at and src.tokens[k].kind == IDENT \
                            and src.tokens[k].text == name:
                        found.add(name)
                at = src.text.find(name, at + 1)
    return found


def _start(token) -> int:
    return token.start


def declared_counts(model: LayerSource, values: dict[str, int],
                    settings: dict[str, int] | None = None) -> dict[str, tuple[str, int]]:
    """What the layer says each tensor group counts: every count constant something reads and every graph
    count written as a number, with its group and value (``settings`` overriding the graph counts)."""
    conv = catalogue().conventions
    out: dict[str, tuple[str, int]] = {}
    constants = {name: group for group, names in conv.count_constants for name in names}
    for name in read_elsewhere(model, set(constants)):
        if (v := values.get(name)) is not None:
            out[name] = (constants[name], v)
    groups = dict(conv.graph_counts)
    for s in model.layer.settings:
        if s.what in groups and not s.cond:
            v = (settings or {}).get(s.what)
            if v is None:
                v = int_literal(s.value)
            if v is not None:
                out[s.what] = (groups[s.what], v)
    return out


def needs_compiler_values(model: LayerSource) -> bool:
    """Whether libclang's enum values are worth reading (walking its AST costs a third of a parse): when an
    entry is beyond this module's evaluator, or a directive inside an enum may drop entries that this
    reader keeps, the compiler's values decide or cross-check them."""
    if read_enums(model).unevaluated:
        return True
    for e in tensor_enums(model):
        src = model.h if e.file == "h" else model.cpp
        if src is not None and any(t.kind == PREPROC and e.open_brace < t.start < e.close_brace for t in src.tokens):
            return True
    return False


def read_enums(model: LayerSource, known: dict[str, int] | None = None) -> EnumInfo:
    info = EnumInfo()
    enums = tensor_enums(model)
    # order enums so that one starting at another's sentinel comes after it
    values: dict[str, int] = {}
    pending = list(enums)
    ordered: list[EnumDecl] = []
    for _ in range(len(pending) + 1):
        progress = False
        for e in list(pending):
            first = e.entries[0] if e.entries else None
            if first and first.value and evaluate(first.value, values) is None and re.search(r"[A-Za-z]", first.value):
                continue
            pending.remove(e)
            ordered.append(e)
            progress = True
            _enum_values(e, values, info, known or {})
        if not pending or not progress:
            break
    for e in pending:  # unresolvable references: still list them
        ordered.append(e)
        _enum_values(e, values, info, known or {})
    referenced = set()
    for c in model.constants:
        referenced.update(re.findall(r"\w+", c.value))
    for e in ordered:
        for ent in e.entries:
            if ent.value:
                referenced.update(re.findall(r"\w+", ent.value))
    for e in ordered:
        for idx, ent in enumerate(e.entries):
            is_last = idx == len(e.entries) - 1
            if ent.name.endswith("_MAX") and (is_last or ent.name in referenced):
                info.sentinels[ent.name] = values.get(ent.name, -1)
                continue
            info.entries.append((ent.name, values.get(ent.name, -1), e, idx))
    info.values = values
    return info


def _enum_values(e: EnumDecl, values: dict[str, int], info: EnumInfo, known: dict[str, int]) -> None:
    nxt = 0
    seen: dict[int, str] = {}
    for ent in e.entries:
        if ent.value is not None:
            v = evaluate(ent.value, values)
            if v is None:
                info.unevaluated.append(ent.name)
            if v is None and ent.name in known:
                v = known[ent.name]  # libclang could evaluate it (a constant from elsewhere, a shift...)
                info.from_clang[ent.name] = v
            if v is None:
                info.problems.append((f"cannot evaluate the value of enum entry {ent.name} = {ent.value}",
                                      e.file, ent.span[0]))
                v = nxt
            elif v < nxt and seen and v not in seen:
                info.problems.append((f"enum entry {ent.name} = {ent.value} goes back to {v}; explicit values "
                                      "must increase", e.file, ent.span[0]))
        else:
            v = nxt
        if v in seen:
            info.problems.append((f"enum entries {seen[v]} and {ent.name} have the same value {v}",
                                  e.file, ent.span[0]))
        seen[v] = ent.name
        values[ent.name] = v
        nxt = v + 1


def tensor_kind_by_name(name: str, declared_by: str = "") -> str:
    """Kind from the name (enum entries and run-time ids IN_ / INPUT_, OUT_ / OUTPUT_; tensor-name strings
    in_ / input_, out / output), else from the list or map that declares a string name, as the catalogue's
    tensor-name conventions say."""
    return catalogue().tensor_kind(name, declared_by)


@dataclass
class Variant:
    node: str
    create: CreateCall | None
    inputs: list[str]
    outputs: list[str]
    in_list: TensorList | None
    out_list: TensorList | None
    group: list[Assignment]
    condition: str = ""
    #: per input / output: the further condition under which the op reads / writes it ("" always), and its
    #: slot (an input added under a branch takes the next slot; alternatives share one)
    in_conds: list[str] = field(default_factory=list)
    out_conds: list[str] = field(default_factory=list)
    in_slots: list[int] = field(default_factory=list)
    out_slots: list[int] = field(default_factory=list)

    @property
    def optional_io(self) -> bool:
        """Some input or output is there only under a further branch (a push inside an ``if``)."""
        return any(self.in_conds) or any(self.out_conds)

    @property
    def param(self) -> ParamDecl | None:
        """The param declaration the op is created from, when it is a local variable of the pair."""
        return self.create.param if self.create is not None else None

    def setup_spans(self) -> list[tuple[int, int]] | None:
        """Where the op is set up: its creation statement and its tensor lists; None without a creation
        and an input list."""
        if self.create is None or self.in_list is None:
            return None
        return [(self.create.statement_start, self.create.span[1]), self.in_list.span,
                *([self.out_list.span] if self.out_list else [])]


def node_variants(model: LayerSource, var: str) -> list[Variant]:
    """The distinct setups of one node over every assignment of the branch conditions it depends on."""
    layer = model.layer
    assert layer is not None
    ref = next(n for n in layer.nodes if n.var == var)
    creates = [c for c in layer.creates if c.node == var]
    lists = [lst for lst in layer.lists if lst.node == var]
    atoms = _atoms(ref, creates, lists)
    if len(atoms) > MAX_ATOMS:
        raise LayerError(model.cpp.path, model.line("cpp", ref.span[0]),
                         f"node {var} depends on {len(atoms)} branch conditions; too many to model")
    results: dict[Any, Variant] = {}
    absent: list[Assignment] = []
    for asg in assignments(atoms):
        create = next((c for c in reversed(creates) if holds(c.cond, asg)), None)
        lists_now = {lst.which: lst for lst in lists if holds(lst.cond, asg)}
        if not holds(ref.cond, asg) or (create is None and not lists_now):
            absent.append(asg)
            continue
        ins = _elems(lists_now.get("in"), asg)
        outs = _elems(lists_now.get("out"), asg)
        key = (id(create), tuple(ins), tuple(outs))
        if key not in results:
            results[key] = Variant(var, create, [n for n, _ in ins], [n for n, _ in outs], lists_now.get("in"),
                                   lists_now.get("out"), [], in_conds=[as_text(c) for _, c in ins],
                                   out_conds=[as_text(c) for _, c in outs], in_slots=_slots(ins),
                                   out_slots=_slots(outs))
        results[key].group.append(asg)
    variants = list(results.values())
    if len(variants) == 1:
        v = variants[0]
        v.condition = describe(v.group, absent, atoms) if absent else ""
    else:
        for v in variants:
            others = [a for w in variants if w is not v for a in w.group]
            v.condition = describe(v.group, others, atoms)
    return variants


def _atoms(ref, creates, lists) -> list[str]:
    """The branch conditions a node's setup depends on, in the order the source states them."""
    atoms: list[str] = []
    conds = [ref.cond, *(c.cond for c in creates)]
    for lst in lists:
        conds.append(lst.cond)
        for e in lst.elems:
            conds.append(e.cond)
            if e.ternary:
                conds.append(((e.ternary[0], True),))
    for cond in conds:
        for a, _ in cond:
            if a not in atoms:
                atoms.append(a)
    return atoms


def _elems(lst: TensorList | None, asg: Assignment) -> list[tuple[str, Cond]]:
    """The list's tensors under one assignment of the variant conditions, each with what is left of the
    condition it was added under (literals the assignment decides are dropped, or drop the element)."""
    if lst is None:
        return []
    out = []
    for e in lst.elems:
        if not holds(e.cond, asg):
            continue
        rest = tuple((a, p) for a, p in e.optional if a not in asg)
        if any(asg[a] != p for a, p in e.optional if a in asg):
            continue
        if e.ternary:
            c, a, b = e.ternary
            out.append((a if asg.get(c, False) else b, rest))
        else:
            out.append((e.text, rest))
    return out


def _slots(items: list[tuple[str, Cond]]) -> list[int]:
    """Each tensor's slot: the tensors before it that can be there together with it (alternatives, such as
    the two sides of a pushed ``c ? a : b``, share a slot)."""
    return [sum(1 for _, other in items[:k] if not exclusive(other, cond)) for k, (_, cond) in enumerate(items)]


def build_graph(model: LayerSource, clang_enum_values: dict[str, int] | None = None) -> LayerGraph:
    layer = model.layer
    assert layer is not None
    g = OpGraph()
    info = read_enums(model, clang_enum_values)
    _declare_tensors(g, model, info)
    ns_of_cpp = _namespaces_at(model, layer.func.span[0])
    order = 0
    written: dict[str, set[str]] = {}  # tensor -> the nodes that wrote it so far
    lg = LayerGraph(g, name=layer.func.name, path=str(model.cpp.path), source=model)
    lg.meta["enum_info"] = info
    lg.meta["declared_counts"] = declared_counts(model, count_values(model, info))
    lg.meta["variants"] = {}
    for ref in layer.nodes:
        variants = node_variants(model, ref.var)
        lg.meta["variants"][ref.var] = variants
        for v in variants:
            op_id = ref.var if len(variants) == 1 else f"{ref.var}[{v.condition}]"
            if op_id in g:
                op_id = f"op:{op_id}"
            g.add_node(op_id, kind=OP, name=op_id, node=ref.var, order=order, condition=v.condition, variant=v,
                       **_op_type(v.create, ns_of_cpp))
            order += 1
            if v.optional_io:
                g.nodes[op_id]["optional_io"] = True
            _wire(g, op_id, v, written)
    _mark_weights(lg)
    return lg


def _declare_tensors(g: OpGraph, model: LayerSource, info: EnumInfo) -> None:
    """The enum's entries, then the ids counted at run time and the tensor-name strings: positions in
    declaration order after the enum's."""
    declared: dict[str, int] = {}
    for name, value, _e, _ in info.entries:
        if name not in declared:
            declared[name] = value
            add_tensor(g, name, tensor_kind_by_name(name), value)
    for tv in [*model.layer.tensor_vars, *model.string_tensors]:
        if tv.name not in declared:
            declared[tv.name] = len(declared)
            add_tensor(g, tv.name, tensor_kind_by_name(tv.name, tv.context), declared[tv.name],
                       declared_at=(tv.file, tv.span))


def _op_type(create, ns_of_cpp) -> dict[str, Any]:
    """What an op's creation says of it: the param type written (resolved in the catalogue), the param
    variable, the callee."""
    written_type = None
    callee = ""
    param_var = None
    if create is not None:
        callee = create.callee
        if create.is_new:
            written_type = create.callee
        elif create.param is not None:
            written_type = create.param.type_text
            param_var = create.param.var
        elif create.param_arg:
            m = re.match(r"\s*([\w:]+(?:<[^{(]*>)?)\s*[{(]", create.param_arg)
            written_type = m.group(1) if m else None
            param_var = create.param_arg.strip()
    optype = catalogue().resolve(written_type, ns_of_cpp, callee)
    role = "plugin" if create is not None and create.is_new else optype.role
    return {"role": role, "param_type": optype.name or (written_type or ""), "param_var": param_var,
            "callee": callee}


def _wire(g: OpGraph, op_id: str, v: Variant, written: dict[str, set[str]]) -> None:
    for k, t in enumerate(v.inputs):
        if t not in g:
            add_tensor(g, t, "undeclared", float("inf"))
        # an input read after this op's own earlier write reads the newest version
        _edge(g, _latest(g, t), op_id, v.in_slots[k], v.condition, v.in_conds[k])
    for k, t in enumerate(v.outputs):
        if t not in g:
            add_tensor(g, t, "undeclared", float("inf"))
        target = t
        if g.nodes[t]["tensor_kind"] in ("input", "placeholder", "weight") or t in v.inputs or (
            t in written and (not v.condition or written[t] - {v.node})
        ):
            # written in place (KV cache) or rewritten: a new version keeps the graph acyclic
            n = 2
            while f"{t}#{n}" in g:
                n += 1
            target = f"{t}#{n}"
            attrs = {kk: vv for kk, vv in g.nodes[t].items() if kk not in ("name", "role_in")}
            g.add_node(target, name=t, version=n, role_in={}, **attrs)
        written.setdefault(t, set()).add(v.node)
        _edge(g, op_id, target, v.out_slots[k], v.condition, v.out_conds[k])


def _and(a: str, b: str) -> str:
    if not a or not b:
        return a or b
    return " && ".join(f"({x})" if " || " in x else x for x in (a, b))


def _edge(g: nx.MultiDiGraph, u: str, v: str, slot: int, condition: str, when: str) -> None:
    """One edge per tensor and slot. ``condition``: the op variant's; ``when``: the further branch under which
    the op reads or writes the tensor (an element pushed inside an ``if``). A tensor the op reads at one slot
    under several such branches (a renamed element's old name, kept where the rename's branch is not taken)
    gets them joined."""
    same = [d for d in g.succ[u].get(v, {}).values() if d["slot"] == slot]
    if not same:
        g.add_edge(u, v, slot=slot, condition=_and(condition, when), when=when)
        return
    d = same[0]
    if not d["when"] or not when:
        d["when"] = ""
    elif when not in d.setdefault("alternatives", [d["when"]]):
        d["alternatives"].append(when)
        d["when"] = " || ".join(f"({c})" if " && " in c else c for c in d["alternatives"])
    d["condition"] = _and(condition, d["when"])


def _latest(g: nx.MultiDiGraph, t: str) -> str:
    k = 2
    best = t
    while f"{t}#{k}" in g:
        best = f"{t}#{k}"
        k += 1
    return best


def _mark_weights(lg: LayerGraph) -> None:
    g = lg.graph
    cat = catalogue()
    for op in lg.ops():
        d = g.nodes[op]
        role = d["role"]
        if role not in WEIGHT_ROLES:
            continue
        entry = cat.entry(d["param_type"])
        slots = dict(entry.float_slots) if entry else {}
        if entry and entry.packed_slots and is_packed(lg, op):
            slots = dict(entry.packed_slots)
        for u, _, e in g.in_edges(op, data=True):
            nd = g.nodes[u]
            if e["slot"] >= 1 and nd["tensor_kind"] == "input":
                nd["tensor_kind"] = "weight"
            site = slots.get(e["slot"])
            if site and nd["tensor_kind"] == "weight":
                nd["role_in"][op] = site


def param_assigns(lg: LayerGraph, op: str) -> list[FieldAssign]:
    """The field assignments, in source order, to the param variable the op is created from."""
    param = lg.graph.nodes[op]["variant"].param
    if param is None or lg.source is None:
        return []
    return [a for a in lg.source.layer.assigns if a.param is param]


def is_packed(lg: LayerGraph, op: str) -> bool:
    """The op's param says it packs gate and up into one weight (the catalogue says which field and value)."""
    entry = catalogue().entry(lg.graph.nodes[op]["param_type"])
    packing = entry.packing if entry else None
    if packing is None:
        return False
    for a in param_assigns(lg, op):
        if a.path == packing.field:
            return a.value.strip() == packing.packed
    return False


def _namespaces_at(model: LayerSource, offset: int) -> list[str]:
    names: list[str] = []
    for which, name, span in model.namespaces:
        if which == "cpp" and span[0] <= offset < span[1]:
            names.extend(name.split("::"))
    return names


__all__ = ["TENSOR", "build_graph", "is_packed", "node_variants", "param_assigns", "read_enums"]
