"""The layer as a dataflow DAG: tensor nodes and op nodes, edges carrying slot order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

TENSOR = "tensor"
OP = "op"
WEIGHT_ROLES = frozenset({"norm", "linear", "parallel_linear", "mlp"})


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
    findings: list[Finding] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    # -- listings ---------------------------------------------------------------------------------
    def ops(self) -> list[str]:
        # queries call this constantly; op order never changes once built, only the node count does
        key = self.graph.number_of_nodes()
        cached = self.meta.get("_ops")
        if cached is None or cached[0] != key:
            nodes = [(d["order"], n) for n, d in self.graph.nodes(data=True) if d["kind"] == OP]
            cached = (key, [n for _, n in sorted(nodes)])
            self.meta["_ops"] = cached
        return list(cached[1])

    def tensors(self) -> list[str]:
        seen: dict[str, float] = {}
        for _, d in self.graph.nodes(data=True):
            if d["kind"] == TENSOR and d["name"] not in seen:
                seen[d["name"]] = d.get("index", float("inf"))
        return [n for n, _ in sorted(seen.items(), key=lambda kv: (kv[1], kv[0]))]

    def tensor_kind(self, tensor: str) -> str:
        return self.graph.nodes[tensor]["tensor_kind"]

    def tensors_of_kind(self, kind: str) -> list[str]:
        return [t for t in self.tensors() if self.tensor_kind(t) == kind]

    # -- per op -----------------------------------------------------------------------------------
    def _op(self, op: str) -> dict[str, Any]:
        if op not in self.graph or self.graph.nodes[op]["kind"] != OP:
            raise KeyError(f"no op named {op!r}; ops are {', '.join(self.ops())}")
        return self.graph.nodes[op]

    def inputs_of(self, op: str) -> list[str]:
        self._op(op)
        edges = sorted((d["slot"], self.graph.nodes[u]["name"]) for u, _, d in self.graph.in_edges(op, data=True))
        return [name for _, name in edges]

    def outputs_of(self, op: str) -> list[str]:
        self._op(op)
        edges = sorted((d["slot"], self.graph.nodes[v]["name"]) for _, v, d in self.graph.out_edges(op, data=True))
        return [name for _, name in edges]

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
        if tensor not in self.graph:
            raise KeyError(f"no tensor named {tensor!r}")
        out = [tensor]
        k = 2
        while f"{tensor}#{k}" in self.graph:
            out.append(f"{tensor}#{k}")
            k += 1
        return out

    def consumers(self, tensor: str) -> list[str]:
        found = {v for t in self._versions(tensor) for v in self.graph.successors(t)}
        return [o for o in self.ops() if o in found]

    def producers(self, tensor: str) -> list[str]:
        found = {u for t in self._versions(tensor) for u in self.graph.predecessors(t)}
        return [o for o in self.ops() if o in found]

    def producer(self, tensor: str) -> str | None:
        prods = self.producers(tensor)
        return prods[0] if prods else None

    # -- richer queries ---------------------------------------------------------------------------
    def slot_of(self, op: str, tensor: str) -> list[int]:
        return [d["slot"] for u, _, d in self.graph.in_edges(op, data=True) if self.graph.nodes[u]["name"] == tensor]

    def linears(self) -> dict[str, list[str]]:
        """Ops that multiply by a weight, with the weights they read (slot order)."""
        out = {}
        for op in self.ops_with_role("linear", "parallel_linear", "mlp"):
            out[op] = [t for t in self.inputs_of(op) if self.graph.nodes[t]["tensor_kind"] == "weight"
                       and not self.graph.nodes[t].get("role_in", {}).get(op, "").startswith("b_")]
        return out

    def linears_with_bias(self) -> list[str]:
        return [op for op in self.ops_with_role("linear", "parallel_linear", "mlp")
                if any(r.startswith("b_") for r in self.site_tensors(op).values())]

    def site_tensors(self, op: str) -> dict[str, str]:
        """Tensor -> site slot name (``w_``, ``b_up`` ...) of the op's weight-like inputs."""
        res = {}
        for t in self.inputs_of(op):
            r = self.graph.nodes[t].get("role_in", {}).get(op)
            if r:
                res[t] = r
        return res

    def feeding(self, tensor: str) -> list[str]:
        """Every op upstream of ``tensor`` (what its value depends on), in node order."""
        anc = nx.ancestors(self.graph, tensor)
        return [o for o in self.ops() if o in anc]

    def path_between(self, src: str, dst: str) -> list[str]:
        """One shortest dataflow path (alternating tensors and ops) from tensor ``src`` to ``dst``."""
        try:
            return [self.graph.nodes[n]["name"] for n in nx.shortest_path(self.graph, src, dst)]
        except nx.NetworkXNoPath:
            return []

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

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def copy(self) -> LayerGraph:
        return LayerGraph(self.graph.copy(), self.name, self.path, self.source, list(self.findings),
                          dict(self.meta))

    def signature(self) -> list[tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
        """What the verifier compares on read-back: per op its type and wiring."""
        return [(o, self.param_type(o), tuple(self.inputs_of(o)), tuple(self.outputs_of(o))) for o in self.ops()]


def add_tensor(g: nx.MultiDiGraph, name: str, kind: str, index: float, **attrs: Any) -> None:
    g.add_node(name, kind=TENSOR, name=name, tensor_kind=kind, index=index, role_in={}, **attrs)
