"""The layer as a dataflow DAG: tensor nodes and op nodes, edges carrying slot order."""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from typing import Any, TypedDict

import networkx as nx

TENSOR = "tensor"
OP = "op"
#: the roles of ops that multiply by a weight: the sites a rewrite quantizes
LINEAR_ROLES = ("linear", "parallel_linear", "mlp")
WEIGHT_ROLES = frozenset({"norm", *LINEAR_ROLES})
#: the tensor kinds of the layer's input group (the input count counts weights and placeholders too)
IN_KINDS = frozenset({"input", "weight", "placeholder"})


@dataclass
class Finding:
    severity: str  # "error" | "warning"
    message: str
    path: str | None = None
    line: int | None = None
    #: what was checked and of what: the same (code, subject) in a float layer and in its rewrite is the
    #: same finding even when the numbers in the message or the line moved
    code: str = ""
    subject: str = ""

    def __post_init__(self) -> None:
        from llm_transform.source.errors import one_line

        self.message = one_line(self.message)

    def one_line(self) -> str:
        where = self.path or "<layer>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.severity}: {self.message}"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.severity, self.code or self.message, self.subject)

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "message": self.message, "path": self.path, "line": self.line,
                "code": self.code}


class OpGraph(nx.MultiDiGraph):
    """A MultiDiGraph that counts node additions and removals. ``LayerGraph.ops`` caches the op order
    against that count: a pass may remove as many nodes as it adds (an anti-outlier fold and sparse index
    tensors), so the node count alone does not tell a changed graph from the same one."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.node_changes = 0
        super().__init__(*args, **kwargs)

    def copy(self, as_view: bool = False) -> OpGraph:
        """What networkx's copy makes (node and edge attribute dicts copied one level deep), built at once:
        each pass's graph starts as a copy, and networkx adds the nodes and edges one by one."""
        if as_view:
            return super().copy(as_view=True)
        new = self.__class__()
        new.graph.update(self.graph)
        new._node = {n: dict(d) for n, d in self._node.items()}
        succ: dict[Any, dict] = {}
        pred: dict[Any, dict] = {n: {} for n in self._node}
        for u, nbrs in self._succ.items():
            out = succ[u] = {}
            for v, keys in nbrs.items():
                out[v] = pred[v][u] = {k: dict(d) for k, d in keys.items()}
        new._succ = new._adj = succ
        new._pred = pred
        new.node_changes = self.node_changes
        return new

    def add_node(self, node_for_adding: Any, **attr: Any) -> None:
        self.node_changes += 1
        super().add_node(node_for_adding, **attr)

    def add_nodes_from(self, nodes_for_adding: Any, **attr: Any) -> None:
        self.node_changes += 1
        super().add_nodes_from(nodes_for_adding, **attr)

    def remove_node(self, n: Any) -> None:
        self.node_changes += 1
        super().remove_node(n)

    def remove_nodes_from(self, nodes: Any) -> None:
        self.node_changes += 1
        super().remove_nodes_from(nodes)


def _uncached(name: str) -> property:
    view = getattr(nx.MultiDiGraph, name)  # networkx's cached_property: its function makes the view
    return property(view.func, doc=view.__doc__)


# networkx keeps each view in the graph's __dict__, a reference cycle through the graph: every graph, and
# whatever its nodes hold (a layer's source model, its tokens), would then wait for the cycle collector,
# which a batch run spends a sixth of its time on. A view made on each use costs less.
for _name in {k for cls in nx.MultiDiGraph.__mro__ for k, v in vars(cls).items()
              if isinstance(v, functools.cached_property)}:
    setattr(OpGraph, _name, _uncached(_name))



class TensorPayload(TypedDict, total=False):
    """What a tensor node of the graph carries."""

    kind: str  # "tensor"
    name: str  # the tensor's name (a version ``X#2`` has the name ``X``)
    tensor_kind: str  # input | weight | placeholder | output | intermediate | undeclared
    index: float  # its place among the tensors (enum order; an added one sits after its anchor)
    version: int  # 2, 3...: a tensor written again (in place, or under a branch)
    role_in: dict[str, str]  # op -> its site slot name there (w_, b_up, ...)
    declared_at: tuple[str, tuple[int, int]]  # where a run-time id or tensor-name string is declared
    added: bool  # the rewrite added it
    quant_role: str  # deqscale | bias | index | beta | holder | weight | int8_out (added tensors)


class OpPayload(TypedDict, total=False):
    """What an op node of the graph carries."""

    kind: str  # "op"
    name: str  # the op id: the node variable, with the branch condition of a variant
    node: str  # the node variable
    order: float  # its place among the ops (node order)
    role: str  # norm | linear | parallel_linear | mlp | attention | ... (from the catalogue)
    param_type: str
    param_var: str | None
    callee: str
    condition: str  # the branch it is set up under
    variant: Any  # the source setup it was read from (graph.build.Variant)
    optional_io: bool  # it reads or writes some tensor only under a further branch
    changed: bool  # the rewrite changes it
    change: Any  # ...and how (graph.plan.OpChange)
    left_float: str  # the rewrite could have quantized it, and why it did not
    source_op: str  # a form of an op set up twice (a float fallback): the op it comes from
    fallback: str  # float | quant: which form


@dataclass
class LayerGraph:
    """A ``networkx.MultiDiGraph`` of the layer plus the queries people ask of it.

    Node ids are the op's node variable (``name[condition]`` per branch variant) and the tensor's enum
    name; a tensor written in place (an op output that is also read, like a KV cache) gets a second
    node ``NAME#2`` so the graph stays acyclic. Every node has ``kind`` (op or tensor); edges carry
    ``slot`` and, under a branch, ``condition``.
    """

    graph: nx.MultiDiGraph
    name: str = ""
    path: str | None = None
    source: Any = None  # the LayerSource it was built from, when there is one
    validation: list[Finding] = field(default_factory=list)  # what validate() found; ask findings()
    meta: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        # every role, in the order the layer first uses it: attention and MLP are what people look for
        by_role = ", ".join(f"{r} {n}" for r, n in self.summary()["ops_by_role"].items())
        changed, added = len(self.changed_ops()), len(self.added_tensors())
        rewrite = f", {changed} ops changed, {added} tensors added" if changed or added else ""
        return _short(f"<LayerGraph {self.name}: {len(self.ops())} ops ({by_role}), {len(self.tensors())} "
                      f"tensors{rewrite}>")

    # -- listings ---------------------------------------------------------------------------------
    def ops(self) -> list[str]:
        return list(self._op_order())

    def _op_order(self) -> dict[str, int]:
        """Op -> its place among the ops. Queries ask constantly; an op's order never changes once built,
        only which nodes exist."""
        changes = getattr(self.graph, "node_changes", None)
        key = (id(self.graph), changes)
        cached = self.meta.get("_ops")
        if changes is None or cached is None or cached[0] != key:
            nodes = [(d["order"], n) for n, d in self.graph.nodes(data=True) if d["kind"] == OP]
            cached = (key, {n: k for k, (_, n) in enumerate(sorted(nodes))})
            self.meta["_ops"] = cached
        return cached[1]

    def tensors(self) -> list[str]:
        seen: dict[str, float] = {}
        for _, d in self.graph.nodes(data=True):
            if d["kind"] == TENSOR and d["name"] not in seen:
                seen[d["name"]] = d.get("index", float("inf"))
        return [n for n, _ in sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))]

    def tensor_kind(self, tensor: str) -> str:
        return self.graph.nodes[self._tensor(tensor)]["tensor_kind"]

    def group_counts(self) -> dict[str, int]:
        """How many tensors each group the layer's counts count holds: input, output, intermediate."""
        counts = {"input": 0, "output": 0, "intermediate": 0}
        for t in self.tensors():
            kind = self.tensor_kind(t)
            group = "input" if kind in IN_KINDS else kind
            if group in counts:
                counts[group] += 1
        return counts

    def cycle_ops(self) -> list[str]:
        """The ops of a cycle in the dataflow; empty when there is none."""
        if nx.is_directed_acyclic_graph(self.graph):
            return []
        return [u for u, *_ in nx.find_cycle(self.graph) if self.graph.nodes[u]["kind"] == OP]

    def set_up_together(self, a: str, b: str) -> bool:
        """Whether two ops can both be set up under one assignment of the branch conditions."""
        va, vb = self.graph.nodes[a].get("variant"), self.graph.nodes[b].get("variant")
        if va is None or vb is None or not va.group or not vb.group:
            return True
        return any(x == y for x in va.group for y in vb.group)

    def tensors_of_kind(self, kind: str) -> list[str]:
        return [t for t in self.tensors() if self.tensor_kind(t) == kind]

    # -- per op -----------------------------------------------------------------------------------
    def resolve(self, name: str) -> str:
        """The op id for ``name``: an op id, or a node name whose branch variants are one op. Raises
        KeyError with the close matches, or with the variants when the name is ambiguous."""
        g = self.graph
        if name in g and g.nodes[name]["kind"] == OP:
            return name
        variants = [o for o in self.ops() if g.nodes[o].get("node") == name]
        if len(variants) == 1:
            return variants[0]
        if variants:
            raise KeyError(f"{name!r} has branch variants; name one of: {', '.join(variants)}")
        raise KeyError(_unknown("op", name, [*self.ops(), *{g.nodes[o]["node"] for o in self.ops()}]))

    def _op(self, op: str) -> dict[str, Any]:
        return self.graph.nodes[self.resolve(op)]

    def _tensor(self, tensor: str) -> str:
        if tensor in self.graph and self.graph.nodes[tensor]["kind"] == TENSOR:
            return tensor
        raise KeyError(_unknown("tensor", tensor, self.tensors()))

    def _node(self, name: str) -> str:
        """An op or a tensor, for the queries that take either."""
        if name in self.graph:
            return name
        try:
            return self.resolve(name)
        except KeyError:
            raise KeyError(_unknown("op or tensor", name, [*self.ops(), *self.tensors()])) from None

    def inputs_of(self, op: str) -> list[str]:
        op = self.resolve(op)
        nodes = self.graph.nodes
        edges = sorted((d["slot"], nodes[u]["name"]) for u, keys in self.graph.pred[op].items() for d in keys.values())
        return [name for _, name in edges]

    def outputs_of(self, op: str) -> list[str]:
        op = self.resolve(op)
        nodes = self.graph.nodes
        edges = sorted((d["slot"], nodes[v]["name"]) for v, keys in self.graph.succ[op].items() for d in keys.values())
        return [name for _, name in edges]

    def optional_inputs(self, op: str) -> dict[str, str]:
        """The tensors the op reads only under a further branch (pushed onto its list inside an ``if``), with
        that branch; its slot counts the optional tensors before it as there."""
        op = self.resolve(op)
        return {self.graph.nodes[u]["name"]: d["when"] for u, _, d in self.graph.in_edges(op, data=True)
                if d.get("when")}

    def params(self, op: str) -> list[dict[str, Any]]:
        """The param fields the source sets on the op, in source order: ``{"field", "value", "line"}``;
        a positional brace initialiser gives one entry per field it sets."""
        d = self._op(op)
        variant = d.get("variant")
        decl = variant.param if variant is not None else None
        if decl is None or self.source is None:
            return []
        out = []
        line = self.source.line("cpp", decl.span[0])
        init = (decl.init or "").strip()
        if init.startswith("{") and init.endswith("}"):
            from .catalogue import catalogue

            entry = catalogue().entry(d["param_type"]) or catalogue().entry(decl.type_text)
            names = entry.brace_fields if entry else ()
            text = self.source.cpp.text
            values = [text[a:b].strip() for a, b in decl.init_elems]
            out += [{"field": n, "value": v, "line": line} for n, v in zip(names, values, strict=False)]
        from .conditions import holds

        for a in self.source.layer.assigns:
            # an assignment under a branch applies to the variants set up under that branch
            if a.param is decl and (not a.cond or any(holds(a.cond, asg) for asg in variant.group)):
                out.append({"field": a.path, "value": a.value.strip(), "line": self.source.line("cpp", a.span[0])})
        return out

    def role(self, op: str) -> str:
        return self._op(op)["role"]

    def param_type(self, op: str) -> str:
        return self._op(op)["param_type"]

    def op_attr(self, op: str, key: str, default: Any = None) -> Any:
        return self._op(op).get(key, default)

    def condition(self, op: str) -> str:
        return self._op(op).get("condition", "")

    def ops_with_role(self, *roles: str) -> list[str]:
        return [o for o in self.ops() if self.role(o) in roles]

    # -- per tensor -------------------------------------------------------------------------------
    def _versions(self, tensor: str) -> list[str]:
        self._tensor(tensor)
        out = [tensor]
        k = 2
        while f"{tensor}#{k}" in self.graph:
            out.append(f"{tensor}#{k}")
            k += 1
        return out

    def consumers(self, tensor: str) -> list[str]:
        order = self._op_order()
        return sorted({v for t in self._versions(tensor) for v in self.graph.succ[t] if v in order}, key=order.get)

    def producers(self, tensor: str) -> list[str]:
        order = self._op_order()
        return sorted({u for t in self._versions(tensor) for u in self.graph.pred[t] if u in order}, key=order.get)

    def producer(self, tensor: str) -> str | None:
        prods = self.producers(tensor)
        return prods[0] if prods else None

    # -- richer queries ---------------------------------------------------------------------------
    def slot_of(self, op: str, tensor: str) -> list[int]:
        op = self.resolve(op)
        return [d["slot"] for u, _, d in self.graph.in_edges(op, data=True) if self.graph.nodes[u]["name"] == tensor]

    def linears(self) -> dict[str, list[str]]:
        """Ops that multiply by a weight, with the weights they read (slot order)."""
        out = {}
        for op in self.ops_with_role(*LINEAR_ROLES):
            out[op] = [t for t in self.inputs_of(op) if self.graph.nodes[t]["tensor_kind"] == "weight"
                       and not self.graph.nodes[t].get("role_in", {}).get(op, "").startswith("b_")]
        return out

    def linears_with_bias(self) -> list[str]:
        return [op for op in self.ops_with_role(*LINEAR_ROLES)
                if any(r.startswith("b_") for r in self.site_tensors(op).values())]

    def site_tensors(self, op: str) -> dict[str, str]:
        """Tensor -> site slot name (``w_``, ``b_up`` ...) of the op's weight-like inputs."""
        res = {}
        op = self.resolve(op)
        for t in self.inputs_of(op):
            r = self.graph.nodes[t].get("role_in", {}).get(op)
            if r:
                res[t] = r
        return res

    def upstream(self, name: str) -> list[str]:
        """Every op the value of a tensor (or the inputs of an op) depends on, in node order."""
        node = self._node(name)
        nodes = self._versions(node) if self.graph.nodes[node]["kind"] == TENSOR else [node]
        anc = set().union(*(nx.ancestors(self.graph, n) for n in nodes))
        return [o for o in self.ops() if o in anc]

    def downstream(self, name: str) -> list[str]:
        """Every op that depends on a tensor (or on an op's outputs), in node order."""
        node = self._node(name)
        nodes = self._versions(node) if self.graph.nodes[node]["kind"] == TENSOR else [node]
        desc = set().union(*(nx.descendants(self.graph, n) for n in nodes))
        return [o for o in self.ops() if o in desc]

    def feeding(self, tensor: str) -> list[str]:
        """Every op upstream of ``tensor`` (what its value depends on), in node order."""
        return self.upstream(self._tensor(tensor))

    def paths_between(self, src: str, dst: str) -> list[list[str]]:
        """Every dataflow path (alternating tensors and ops) from ``src`` to ``dst``, shortest first."""
        a, b = self._node(src), self._node(dst)
        targets = self._versions(b) if self.graph.nodes[b]["kind"] == TENSOR else [b]
        paths = [p for t in targets for p in nx.all_simple_paths(self.graph, a, t)]
        named = {tuple(self.graph.nodes[n]["name"] for n in p) for p in paths}
        return [list(p) for p in sorted(named, key=lambda p: (len(p), p))]

    def path_between(self, src: str, dst: str) -> list[str]:
        """One shortest dataflow path from ``src`` to ``dst`` ([] when there is none)."""
        paths = self.paths_between(src, dst)
        return paths[0] if paths else []

    def added_tensors(self) -> list[str]:
        return [t for t in self.tensors() if self.graph.nodes[t].get("added")]

    def changed_ops(self) -> list[str]:
        return [o for o in self.ops() if self.graph.nodes[o].get("changed")]

    def is_dag(self) -> bool:
        return nx.is_directed_acyclic_graph(self.graph)

    def summary(self) -> dict[str, Any]:
        roles: dict[str, int] = {}
        for o in self.ops():
            roles[self.role(o)] = roles.get(self.role(o), 0) + 1
        kinds: dict[str, int] = {}
        for t in self.tensors():
            k = self.tensor_kind(t)
            kinds[k] = kinds.get(k, 0) + 1
        return {"ops": len(self.ops()), "ops_by_role": roles, "tensors": len(self.tensors()),
                "tensors_by_kind": kinds}

    def findings(self) -> list[Finding]:
        """What the consistency checks found, errors and warnings."""
        return list(self.validation)

    def errors(self) -> list[Finding]:
        return [f for f in self.validation if f.severity == "error"]

    def copy(self) -> LayerGraph:
        return LayerGraph(self.graph.copy(), self.name, self.path, self.source, list(self.validation),
                          dict(self.meta))

    # -- the few mutations passes make (MLIR's rewriter: every change goes through one of these) ---------
    def detached(self) -> LayerGraph:
        """A copy a pass may change: node payloads are copied, so the float graph never changes with it."""
        new = self.copy()
        for _n, d in new.graph.nodes(data=True):
            for k, v in list(d.items()):
                if isinstance(v, dict | list) and k != "variant":
                    d[k] = type(v)(v)
        return new

    def add_tensor(self, name: str, kind: str, *, near: str | None = None, offset: float = 0.0,
                   **payload: Any) -> None:
        """A tensor the rewrite adds, ordered ``offset`` after ``near`` (a tensor of the graph) in tensors()."""
        at = self.graph.nodes[near]["index"] if near is not None and near in self.graph else 0
        add_tensor(self.graph, name, kind, at + offset, added=True, **payload)

    def rewire(self, op: str, inputs: list[str], outputs: list[str]) -> None:
        """The op reads ``inputs`` and writes ``outputs``, slot by slot, under its own condition."""
        g = self.graph
        cond = g.nodes[op].get("condition", "")
        g.remove_edges_from(list(g.in_edges(op, keys=True)) + list(g.out_edges(op, keys=True)))
        for slot, t in enumerate(inputs):
            g.add_edge(t, op, slot=slot, condition=cond)
        for slot, t in enumerate(outputs):
            g.add_edge(op, t, slot=slot, condition=cond)

    def remove(self, *nodes: str) -> None:
        """Ops or tensors the rewrite removes, with their edges."""
        self.graph.remove_nodes_from(nodes)

    def mark(self, node: str, **payload: Any) -> None:
        """Set payload fields of an op or tensor (``changed``, ``change``, ``param_type``, ``left_float``...)."""
        self.graph.nodes[node].update(payload)

    def signature(self) -> list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
        """What the verifier compares on read-back: per op its type and wiring."""
        return [(o, self.param_type(o), tuple(self.inputs_of(o)), tuple(self.outputs_of(o))) for o in self.ops()]


def _unknown(what: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, sorted(set(known)), n=5, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; there are {len(set(known))}, see ops() / tensors()"
    return f"no {what} named {name!r}{hint}"


def _short(text: str, width: int = 199) -> str:
    return text if len(text) <= width else text[: width - 4] + "...>"


def add_tensor(g: nx.MultiDiGraph, name: str, kind: str, index: float, **attrs: Any) -> None:
    g.add_node(name, kind=TENSOR, name=name, tensor_kind=kind, index=index, role_in={}, **attrs)
