"""Pictures of a layer graph: DOT source, SVG/PNG through Graphviz, and a JSON form that round-trips.

Drawing decides nothing about the layer: it shows the graph it is given, marking what the rewrite
added (``added`` tensors) or changed (``changed`` ops).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import networkx as nx

from llm_transform.graph.layer_graph import OP, WEIGHT_ROLES, LayerGraph

#: every fill in a picture: key -> (colour, what the legend calls it); each kind has its own colour
PALETTE: dict[str, tuple[str, str]] = {
    "input": ("#dbe9ff", "input"),
    "weight": ("#efe3cf", "weight / bias / scale"),
    "added": ("#fde0dc", "added by the rewrite"),
    "unread": ("#ffc58a", "input nothing reads"),
    "output": ("#a8d5a2", "output"),
    "intermediate": ("#ffffff", "intermediate"),
    "undeclared": ("#f4cccc", "undeclared tensor"),
    "norm": ("#c6e5dc", "norm"),
    "linear": ("#b9cff0", "linear"),
    "mlp": ("#fbd5b0", "MLP"),
    "attention": ("#f0c8dc", "attention"),
    "rope": ("#ddd0f0", "rope"),
    "elementwise": ("#fff0a0", "element-wise / activation"),
    "shape": ("#e3e3e3", "split / shape / communication"),
    "other": ("#f7f7f7", "other op"),
}
ROLE_KEY = {"parallel_linear": "linear", "activation": "elementwise", "split": "shape", "communication": "shape"}
KIND_SHAPE = {"input": "ellipse", "weight": "note", "output": "doubleoctagon", "intermediate": "ellipse",
              "undeclared": "ellipse"}
SLOT_ROLES = WEIGHT_ROLES | {"attention"}
GROUPED_ROLES = WEIGHT_ROLES  # their weight-like inputs are drawn as one table
HIGHLIGHT = "#cc0000"  # added or changed by the rewrite
LEFT_FLOAT = "#e06c00"  # a site the rewrite left float
REMOVED = "#999999"  # removed by the rewrite (before/after)
EDGE = "#555555"
WEIGHT_EDGE = "#a08020"
CLUSTER = "#888888"
FORMATS = (".svg", ".png", ".dot", ".gv", ".json", ".pdf")


class PictureError(ValueError):
    pass


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attrs(d: dict[str, str]) -> str:
    return "[" + ", ".join(f"{k}={_q(v) if not v.startswith('<') else v}" for k, v in d.items()) + "]"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def blocks(lg: LayerGraph) -> list[tuple[str, list[str]]]:
    """Groups of ops between a norm and the residual add that closes its branch, named after what
    they hold (attention / mlp).

    The residual add is the elementwise op that reads the residual stream: the norm's own activation
    input, an intermediate it was computed from, or one made outside the block (a parallel branch's
    sum). An add of an input (an anti-outlier beta after the norm, a bias after a linear) stays inside
    the block, and so does a norm of what the block made (a q/k norm)."""
    g = lg.graph
    ops = lg.ops()
    out: list[tuple[str, list[str]]] = []
    taken: set[str] = set()
    for i, n in enumerate(ops):
        if lg.role(n) != "norm" or n in taken:
            continue
        desc = nx.descendants(g, n)
        ins = lg.inputs_of(n)
        stream = {ins[0], *(t for t in nx.ancestors(g, ins[0]) if g.nodes[t]["kind"] != OP
                             and g.nodes[t]["tensor_kind"] == "intermediate")} if ins else set()
        members = []
        for m in ops[i + 1:]:
            if m not in desc or m in taken:
                continue
            if lg.role(m) == "norm":
                x = lg.inputs_of(m)[:1]
                if not (x and set(g.predecessors(x[0])) & set(members)):
                    break  # the next block's norm; one reading what this block made (a q/k norm) is inside
            elif lg.role(m) == "elementwise" and any(
                    u in stream or (g.nodes[u]["tensor_kind"] == "intermediate" and u not in desc)
                    for u in g.predecessors(m)):
                break  # the residual add
            members.append(m)
        if not members:
            continue
        roles = {lg.role(m) for m in members}
        name = "attention" if "attention" in roles else "mlp" if roles & {"mlp", "activation"} else "block"
        out.append((name, members))
        taken.update(members)
    return out


class _View:
    """What one picture of one graph shows: DOT nodes (with their cluster), edges, the colours used."""

    def __init__(self, lg: LayerGraph, *, prefix: str, cluster: bool, collapse: frozenset[str],
                 removed: frozenset[str] = frozenset()):
        self.lg, self.prefix, self.removed = lg, prefix, removed
        self.used: set[str] = set()  # palette keys and marks
        self.nodes: dict[str, tuple[int | None, dict[str, str]]] = {}  # id -> (cluster, attrs)
        self.edges: list[tuple[str, str, dict[str, str]]] = []
        self.block_names: dict[int, str] = {}
        self.in_block: dict[str, tuple[int, str]] = {}  # op -> (its block, the block's name)
        if cluster or collapse:
            for k, (name, members) in enumerate(blocks(lg)):
                self.block_names[k] = name
                for m in members:
                    self.in_block[m] = (k, name)
        self.collapsed = {m: k for m, (k, name) in self.in_block.items() if name in collapse}
        self.groups = self._weight_groups()
        self.rep: dict[str, str | None] = {}  # graph node -> DOT node drawn for it (None: not drawn)
        self._collapsed_blocks()
        self._graph_nodes()
        self._group_nodes()
        self._edges()
        if self.block_names and set(self.in_block) - set(self.collapsed):
            self.used.add("cluster")

    def _collapsed_blocks(self) -> None:
        g = self.lg.graph
        for k in sorted(set(self.collapsed.values())):
            members = [m for m, kk in self.collapsed.items() if kk == k]
            weights = sum(len(self.groups.get(m, ())) for m in members)
            label = f"{self.block_names[k]}\n{len(members)} ops" + (f", {weights} weights" if weights else "")
            attrs = {"shape": "box3d", "style": "filled", "fillcolor": self._fill(
                "attention" if self.block_names[k] == "attention" else "mlp"), "label": label,
                "tooltip": ", ".join(members)}
            if any(g.nodes[m].get("changed") for m in members):
                attrs.update(color=HIGHLIGHT, penwidth="2.5", fontcolor=HIGHLIGHT)
                self.used.add("changed")
            self.nodes[f"block:{k}"] = (None, attrs)

    def _graph_nodes(self) -> None:
        g = self.lg.graph
        holders: dict[str, int] = {}
        for u, v in g.edges():
            if g.nodes[u]["kind"] != OP and g.nodes[u]["tensor_kind"] == "placeholder":
                holders[v] = holders.get(v, 0) + 1
        if holders:
            self.used.add("placeholder")
        grouped = {t for members in self.groups.values() for t in members}
        for n, d in g.nodes(data=True):
            if d["kind"] == OP:
                if n in self.collapsed:
                    self.rep[n] = f"block:{self.collapsed[n]}"
                    continue
                self.rep[n] = n
                self.nodes[n] = (self.in_block.get(n, (None,))[0], self._op_attrs(n, d, holders.get(n, 0)))
            elif d["tensor_kind"] == "placeholder" or n in grouped:
                self.rep[n] = None  # counted on each op, or in its op's weight table: fans hide the dataflow
            else:
                home = _home(g, n, self.in_block)
                if home is not None and any(kk == home for kk in self.collapsed.values()):
                    self.rep[n] = None  # inside a collapsed block
                    continue
                self.rep[n] = n
                self.nodes[n] = (home, self._tensor_attrs(n, d))

    def _group_nodes(self) -> None:
        g = self.lg.graph
        for op, members in self.groups.items():
            if op in self.collapsed:
                continue
            gid = f"{op}#weights"
            self.nodes[gid] = (self.in_block.get(op, (None,))[0], self._group_attrs(op, members))
            slots = sorted(s for t in members for s in self.lg.slot_of(op, g.nodes[t]["name"]))
            attrs = {"color": WEIGHT_EDGE, "style": "dashed", "label": _ranges(slots)}
            self.used.add("weight-edge")
            if any(g.nodes[t].get("added") for t in members):
                attrs.update(color=HIGHLIGHT, penwidth="1.6")
            self.edges.append((gid, op, attrs))

    def _edges(self) -> None:
        g = self.lg.graph
        seen: set[tuple[str, str]] = set()
        for u, v, d in g.edges(data=True):
            a, b = self.rep.get(u), self.rep.get(v)
            # edges into or out of a collapsed block are drawn once
            if a is None or b is None or a == b or ((a, b) in seen and "block:" in a + b):
                continue
            seen.add((a, b))
            ud, vd = g.nodes[u], g.nodes[v]
            attrs: dict[str, str] = {}
            op = v if vd["kind"] == OP else u
            if b == v and vd["kind"] == OP and g.nodes[op]["role"] in SLOT_ROLES and g.in_degree(op) > 1:
                attrs["label"] = str(d["slot"])
            if ud["kind"] != OP and ud["tensor_kind"] == "weight":
                attrs.update(color=WEIGHT_EDGE, style="dashed")
                self.used.add("weight-edge")
            else:
                self.used.add("edge")
            if ud.get("added") or vd.get("added"):
                attrs.update(color=HIGHLIGHT, penwidth="1.6")
            if d.get("condition"):
                attrs["tooltip"] = d["condition"]
            self.edges.append((a, b, attrs))

    def _fill(self, key: str) -> str:
        self.used.add(key)
        return PALETTE[key][0]

    def _weight_groups(self) -> dict[str, list[str]]:
        """Per weight-carrying op, its weight-like inputs that nothing else reads, in slot order."""
        lg, g = self.lg, self.lg.graph
        out: dict[str, list[str]] = {}
        for op in lg.ops():
            if g.nodes[op]["role"] not in GROUPED_ROLES:
                continue
            members = []
            for u, _, _d in sorted(g.in_edges(op, data=True), key=lambda e: e[2]["slot"]):
                ud = g.nodes[u]
                if ud["kind"] == OP or ud["tensor_kind"] != "weight" or set(g.successors(u)) != {op} or u in members:
                    continue
                members.append(u)
            if len(members) >= 2:  # one weight reads well as a node of its own
                out[op] = members
        return out

    def _op_attrs(self, n: str, d: dict, holders: int) -> dict[str, str]:
        short = d["param_type"].rsplit("::", 1)[-1] or "?"
        label = f"{n}\n{short}"
        if holders:
            label += f"\n({holders} placeholder slot{'s' if holders > 1 else ''})"
        key = ROLE_KEY.get(d["role"], d["role"])
        attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": self._fill(key if key in PALETTE else "other"),
                 "label": label, "tooltip": f"{d['role']}: {d['param_type']}"}
        if d.get("changed"):
            attrs.update(color=HIGHLIGHT, penwidth="2.5", fontcolor=HIGHLIGHT)
            self.used.add("changed")
        elif d.get("left_float"):
            attrs.update(color=LEFT_FLOAT, penwidth="2.5", style="rounded,filled,dashed",
                         label=label + "\n(left float)", tooltip=f"left float: {d['left_float']}")
            self.used.add("left-float")
        if n in self.removed:
            attrs.update(color=REMOVED, fontcolor=REMOVED, style="rounded,filled,dotted", label=label + "\n(removed)")
            self.used.add("removed")
        return attrs

    def _tensor_attrs(self, n: str, d: dict) -> dict[str, str]:
        kind = d["tensor_kind"]
        label = d["name"] + ("\n(written in place)" if d.get("version") else "")
        key = kind if kind in PALETTE else "intermediate"
        unread = kind in ("input", "weight") and not self.lg.graph.out_degree(n) and not self.lg.graph.in_degree(n)
        if d.get("added"):
            key = "added"
        elif unread:
            key = "unread"
            label += "\n(read by no node)"
        attrs = {"shape": KIND_SHAPE.get(kind, "ellipse"), "style": "filled", "fillcolor": self._fill(key),
                 "label": label, "tooltip": f"{kind} {d['name']}"}
        if d.get("added"):
            attrs.update(color=HIGHLIGHT, penwidth="2.5", fontcolor=HIGHLIGHT)
            self.used.add("changed")
        if n in self.removed:
            attrs.update(color=REMOVED, fontcolor=REMOVED, style="filled,dotted", label=label + "\n(removed)")
            self.used.add("removed")
        return attrs

    def _group_attrs(self, op: str, members: list[str]) -> dict[str, str]:
        g = self.lg.graph
        rows = []
        for t in members:
            d = g.nodes[t]
            slots = ",".join(map(str, self.lg.slot_of(op, d["name"])))
            key = "added" if d.get("added") else "weight"
            cell = _html(d["name"])
            if d.get("added"):
                cell = f'<FONT COLOR="{HIGHLIGHT}">{cell}</FONT>'
                self.used.add("changed")
            if t in self.removed:
                cell = f'<FONT COLOR="{REMOVED}">{cell} (removed)</FONT>'
                self.used.add("removed")
            rows.append(f'<TR><TD BGCOLOR="{self._fill(key)}">{slots}</TD>'
                        f'<TD BGCOLOR="{PALETTE[key][0]}" ALIGN="LEFT">{cell}</TD></TR>')
        label = ('<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="2">' + "".join(rows) + "</TABLE>>")
        return {"shape": "plain", "label": label, "tooltip": f"weights of {op}"}

    def lines(self) -> list[str]:
        out: list[str] = []
        by_cluster: dict[int | None, list[str]] = {}
        for n, (k, attrs) in self.nodes.items():
            by_cluster.setdefault(k, []).append(f"  {_q(self.prefix + n)} {_attrs(attrs)};")
        out += by_cluster.pop(None, [])
        tag = self.prefix.strip(":")
        for k, body in sorted(by_cluster.items()):
            out.append(f"  subgraph cluster_{tag}{k} {{")
            out.append(f'    label={_q(self.block_names[k])}; style="rounded,dashed"; color="{CLUSTER}"; '
                       f'fontcolor="{CLUSTER}";')
            out += ["  " + ln for ln in body]
            out.append("  }")
        for a, b, attrs in self.edges:
            out.append(f"  {_q(self.prefix + a)} -> {_q(self.prefix + b)}{' ' + _attrs(attrs) if attrs else ''};")
        return out


def _ranges(slots: list[int]) -> str:
    """`1-3, 7` for slots 1, 2, 3, 7."""
    runs: list[list[int]] = []
    for s in slots:
        if runs and runs[-1][1] == s - 1:
            runs[-1][1] = s
        else:
            runs.append([s, s])
    parts = [f"{a}-{b}" if a != b else str(a) for a, b in runs]
    return "slot" + ("s " if len(slots) > 1 else " ") + ", ".join(parts)


def rankdir(lg: LayerGraph) -> str:
    """Top-down for the usual deep, narrow layer; left-to-right when it is wider than deep."""
    g = lg.graph
    keep = [n for n, d in g.nodes(data=True) if d["kind"] == OP or d["tensor_kind"] not in ("placeholder", "weight")]
    h = g.subgraph(keep)
    generations = list(nx.topological_generations(h)) if nx.is_directed_acyclic_graph(h) else [keep]
    width = max((len(gen) for gen in generations), default=1)
    return "LR" if width > len(generations) else "TB"


def to_dot(lg: LayerGraph, *, title: str | None = None, prefix: str = "", cluster: bool = True,
           collapse: frozenset[str] | set[str] = frozenset()) -> str:
    """DOT source of one graph. ``collapse``: block names (attention, mlp) drawn as one node each."""
    view = _View(lg, prefix=prefix, cluster=cluster, collapse=frozenset(collapse))
    body = view.lines()
    head = [
        f'  graph [rankdir={rankdir(lg)}, fontname="Helvetica", fontsize=12, nodesep=0.3, ranksep=0.35, '
        f"labelloc=t, label={_legend([view], title or lg.name, [lg])}];",
        '  node [fontname="Helvetica", fontsize=10, style=filled];',
        f'  edge [fontname="Helvetica", fontsize=8, color="{EDGE}", arrowsize=0.6];',
    ]
    return "digraph layer {\n" + "\n".join(head + body) + "\n}\n"


_MARKS = {
    "changed": f'<TD COLSPAN="2"><FONT COLOR="{HIGHLIGHT}">red: added or changed by the rewrite</FONT></TD>',
    "left-float": f'<TD COLSPAN="2"><FONT COLOR="{LEFT_FLOAT}">dashed orange: site left float</FONT></TD>',
    "removed": f'<TD COLSPAN="2"><FONT COLOR="{REMOVED}">dotted grey: removed by the rewrite</FONT></TD>',
    "edge": f'<TD COLSPAN="2"><FONT COLOR="{EDGE}">arrow: dataflow (numbers: input slot)</FONT></TD>',
    "weight-edge": f'<TD COLSPAN="2"><FONT COLOR="{WEIGHT_EDGE}">dashed: weight-like input(s), with their slots'
                   "</FONT></TD>",
    "cluster": f'<TD COLSPAN="2"><FONT COLOR="{CLUSTER}">dashed box: attention / MLP block</FONT></TD>',
    "placeholder": '<TD COLSPAN="2">placeholder inputs: counted on their op, not drawn</TD>',
}


def _legend(views: list[_View], head: str, graphs: list[LayerGraph]) -> str:
    """An HTML-like graph label: a legend of exactly the colours and marks the picture uses."""
    used = set().union(*(v.used for v in views))
    cells = [f'<TD BGCOLOR="{colour}">{_html(text)}</TD>' for key, (colour, text) in PALETTE.items() if key in used]
    rows = [f'<TR><TD COLSPAN="4"><B>{_html(head)}</B></TD></TR>']
    rows += ["<TR>" + "".join(cells[i:i + 4]) + "</TR>" for i in range(0, len(cells), 4)]
    marks = [cell for key, cell in _MARKS.items() if key in used]
    rows += ["<TR>" + "".join(marks[i:i + 2]) + "</TR>" for i in range(0, len(marks), 2)]
    added = sum(len(lg.added_tensors()) for lg in graphs)
    changed = sum(len(lg.changed_ops()) for lg in graphs)
    if added or changed:
        rows.append(f'<TR><TD COLSPAN="4"><FONT COLOR="{HIGHLIGHT}">{added} tensors added, {changed} ops changed'
                    "</FONT></TD></TR>")
    return '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">' + "".join(rows) + "</TABLE>>"


def _home(g: nx.MultiDiGraph, t: str, in_block: dict[str, tuple[int, str]]) -> int | None:
    """The cluster a tensor is drawn in: its producer's, or for a weight its only consumer's; a tensor
    that leaves the cluster is drawn outside so the dataflow between blocks stays visible."""
    d = g.nodes[t]
    prods = [u for u in g.predecessors(t)]
    cons = [v for v in g.successors(t)]
    if d["tensor_kind"] == "weight" and cons:
        homes = {in_block.get(v, (None,))[0] for v in cons}
        return homes.pop() if len(homes) == 1 else None
    if d["tensor_kind"] == "intermediate" and prods:
        home = in_block.get(prods[0], (None,))[0]
        if home is not None and all(in_block.get(v, (None,))[0] == home for v in cons):
            return home
    return None


def side_by_side(before: LayerGraph, after: LayerGraph, *, collapse: frozenset[str] | set[str] = frozenset()) -> str:
    """Both graphs in one picture, the float layer left and the rewrite right, on one layout: every node
    the two share sits at the same rank in both panels."""
    removed = frozenset(set(before.graph.nodes) - set(after.graph.nodes))
    views = [("before", _View(before, prefix="before:", cluster=True, collapse=frozenset(collapse), removed=removed)),
             ("after", _View(after, prefix="after:", cluster=True, collapse=frozenset(collapse)))]
    head = f"{before.name} (left) and {after.name} (right)"
    parts = ["digraph layers {",
             f'  graph [newrank=true, rankdir={rankdir(after)}, fontname="Helvetica", fontsize=12, labelloc=t, '
             f"nodesep=0.3, ranksep=0.35, label={_legend([v for _, v in views], head, [after])}];",
             '  node [fontname="Helvetica", fontsize=10, style=filled];',
             f'  edge [fontname="Helvetica", fontsize=8, color="{EDGE}", arrowsize=0.6];']
    for tag, view in views:
        lg = before if tag == "before" else after
        parts.append(f"  subgraph cluster_{tag} {{")
        parts.append(f'    label={_q(f"{tag}: {lg.name}")}; style="solid"; color="{CLUSTER}"; fontcolor="{CLUSTER}";')
        parts += ["  " + ln for ln in view.lines()]
        parts.append("  }")
    shared = [n for n in views[0][1].nodes if n in views[1][1].nodes]
    for n in shared:
        parts.append(f"  {{rank=same; {_q('before:' + n)}; {_q('after:' + n)};}}")
    return "\n".join(parts) + "\n}\n"


# -- JSON ---------------------------------------------------------------------------------------------
_PLAIN = (str, int, float, bool, type(None))


def _plain(v: Any) -> bool:
    if isinstance(v, _PLAIN):
        return True
    if isinstance(v, list | tuple):
        return all(_plain(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _plain(x) for k, x in v.items())
    return False


def to_json_data(lg: LayerGraph) -> dict[str, Any]:
    """The graph as node-link JSON, keeping every attribute that is plain data."""
    g = nx.MultiDiGraph()
    for n, d in lg.graph.nodes(data=True):
        g.add_node(n, **{k: (v if v != float("inf") else None) for k, v in d.items() if _plain(v)})
    for u, v, k, d in lg.graph.edges(keys=True, data=True):
        g.add_edge(u, v, key=k, **{a: x for a, x in d.items() if _plain(x)})
    data = nx.node_link_data(g, edges="edges")
    data["graph"] = {"name": lg.name, "path": lg.path}
    return data


def from_json_data(data: dict[str, Any]) -> nx.MultiDiGraph:
    return nx.node_link_graph(data, directed=True, multigraph=True, edges="edges")


# -- files --------------------------------------------------------------------------------------------
def format_problem(path: Path) -> str | None:
    """Why ``path`` names no picture this module draws, in one line; None when it names one."""
    suffix = path.suffix.lower()
    if suffix in FORMATS:
        return None
    return f"{path}: unknown picture format {suffix or '(none)'}; use one of {', '.join(FORMATS)}"


def write_picture(dot_source: str, path: Path, *, json_data: dict[str, Any] | None = None) -> Path:
    """Write ``path`` in the format its suffix names. Raises PictureError with a one-line reason."""
    problem = format_problem(path)
    if problem:
        raise PictureError(problem)
    suffix = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix in (".dot", ".gv"):
        path.write_text(dot_source, encoding="utf-8")
        return path
    if suffix == ".json":
        path.write_text(json.dumps(json_data, indent=1), encoding="utf-8")
        return path
    if shutil.which("dot") is None:
        raise PictureError(f"{path}: drawing {suffix} needs Graphviz's `dot` program; install it "
                           "(apt-get install graphviz / brew install graphviz) or ask for a .dot or .json file")
    import graphviz

    src = graphviz.Source(dot_source)
    data = src.pipe(format=suffix.lstrip("."))
    path.write_bytes(data)
    return path
