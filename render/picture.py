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

from llm_transform.graph.layer_graph import OP, LayerGraph

ROLE_FILL = {
    "norm": "#d9ead3", "linear": "#cfe2f3", "parallel_linear": "#cfe2f3", "mlp": "#fce5cd",
    "attention": "#ead1dc", "rope": "#ead1dc", "split": "#eeeeee", "shape": "#eeeeee",
    "elementwise": "#fff2cc", "activation": "#fff2cc", "communication": "#eeeeee",
}
KIND_STYLE = {
    "input": {"shape": "ellipse", "fillcolor": "#e8f0fe"},
    "weight": {"shape": "note", "fillcolor": "#fffbe6"},
    "output": {"shape": "doubleoctagon", "fillcolor": "#d9ead3"},
    "intermediate": {"shape": "ellipse", "fillcolor": "white"},
    "placeholder": {"shape": "point", "fillcolor": "#999999", "width": "0.12"},
    "undeclared": {"shape": "ellipse", "fillcolor": "#f4cccc"},
}
SLOT_ROLES = {"linear", "parallel_linear", "mlp", "attention", "norm"}
HIGHLIGHT = "#cc0000"
FORMATS = (".svg", ".png", ".dot", ".gv", ".json", ".pdf")


class PictureError(ValueError):
    pass


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attrs(d: dict[str, str]) -> str:
    return "[" + ", ".join(f"{k}={_q(v) if not v.startswith('<') else v}" for k, v in d.items()) + "]"


def blocks(lg: LayerGraph) -> list[tuple[str, list[str]]]:
    """Groups of ops between a norm and the residual add that closes its branch, named after what
    they hold (attention / mlp)."""
    g = lg.graph
    ops = lg.ops()
    out: list[tuple[str, list[str]]] = []
    taken: set[str] = set()
    for i, n in enumerate(ops):
        if lg.role(n) != "norm":
            continue
        desc = nx.descendants(g, n)
        members = []
        for m in ops[i + 1:]:
            if m not in desc or m in taken:
                continue
            if lg.role(m) == "norm":
                break
            if lg.role(m) == "elementwise" and any(
                g.nodes[u]["kind"] != OP and u not in desc and g.nodes[u]["tensor_kind"] in ("input", "intermediate")
                for u in g.predecessors(m)
            ):
                break  # the residual add: reads a tensor from before the norm
            members.append(m)
        if not members:
            continue
        roles = {lg.role(m) for m in members}
        name = "attention" if "attention" in roles else "mlp" if roles & {"mlp", "activation"} else "block"
        out.append((name, members))
        taken.update(members)
    return out


def to_dot(lg: LayerGraph, *, title: str | None = None, prefix: str = "", cluster: bool = True) -> str:
    """DOT source: one DOT node per graph node."""
    return "digraph layer {\n" + _body(lg, title=title, prefix=prefix, cluster=cluster) + "}\n"


def _body(lg: LayerGraph, *, title: str | None, prefix: str, cluster: bool) -> str:
    g = lg.graph
    lines = [
        '  graph [rankdir=TB, fontname="Helvetica", fontsize=12, nodesep=0.3, ranksep=0.35, labelloc=t, '
        f'label={_legend(lg, title)}];',
        '  node [fontname="Helvetica", fontsize=10, style=filled];',
        '  edge [fontname="Helvetica", fontsize=8, color="#555555", arrowsize=0.6];',
    ]
    in_block = {}
    if cluster:
        for k, (name, members) in enumerate(blocks(lg)):
            for m in members:
                in_block[m] = (k, name)
    holders: dict[str, int] = {}
    for u, v, _d in g.edges(data=True):
        if g.nodes[u]["kind"] != OP and g.nodes[u]["tensor_kind"] == "placeholder":
            holders[v] = holders.get(v, 0) + 1
    node_lines: dict[int | None, list[str]] = {}
    for n, d in g.nodes(data=True):
        if d["kind"] == OP:
            short = d["param_type"].rsplit("::", 1)[-1] or "?"
            label = f"{n}\n{short}"
            if holders.get(n):
                label += f"\n({holders[n]} placeholder slot{'s' if holders[n] > 1 else ''})"
            attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": ROLE_FILL.get(d["role"], "#ffffff"),
                     "label": label, "tooltip": f"{d['role']}: {d['param_type']}"}
            if d.get("changed"):
                attrs.update(color=HIGHLIGHT, penwidth="2.5", fontcolor=HIGHLIGHT)
            node_lines.setdefault(in_block.get(n, (None,))[0], []).append(f"  {_q(prefix + n)} {_attrs(attrs)};")
        else:
            style = dict(KIND_STYLE.get(d["tensor_kind"], KIND_STYLE["intermediate"]))
            label = d["name"] + ("\n(written in place)" if d.get("version") else "")
            attrs = {**style, "label": "" if d["tensor_kind"] == "placeholder" else label,
                     "tooltip": f"{d['tensor_kind']} {d['name']}"}
            if d.get("added"):
                attrs.update(color=HIGHLIGHT, penwidth="2.5", fontcolor=HIGHLIGHT, fillcolor="#fde0dc")
            node_lines.setdefault(_home(g, n, in_block), []).append(f"  {_q(prefix + n)} {_attrs(attrs)};")
    lines += node_lines.pop(None, [])
    names = {k: name for k, name in set(in_block.values())}
    for k, body in sorted(node_lines.items()):
        lines.append(f"  subgraph cluster_{prefix.strip(':')}{k} {{")
        lines.append(f'    label={_q(names[k])}; style="rounded,dashed"; color="#888888"; fontcolor="#555555";')
        lines += ["  " + ln for ln in body]
        lines.append("  }")
    for u, v, d in g.edges(data=True):
        ud, vd = g.nodes[u], g.nodes[v]
        if ud["kind"] != OP and ud["tensor_kind"] == "placeholder":
            continue  # counted on the op's label instead: a fan of holder edges hides the dataflow
        attrs: dict[str, str] = {}
        op = v if vd["kind"] == OP else u
        if vd["kind"] == OP and g.nodes[op]["role"] in SLOT_ROLES and g.in_degree(op) > 1:
            attrs["label"] = str(d["slot"])
        if ud["kind"] != OP and ud["tensor_kind"] == "weight":
            attrs.update(color="#b59f3b", style="dashed")
        if ud.get("added") or vd.get("added"):
            attrs.update(color=HIGHLIGHT, penwidth="1.6")
        if d.get("condition"):
            attrs["tooltip"] = d["condition"]
        lines.append(f"  {_q(prefix + u)} -> {_q(prefix + v)}{' ' + _attrs(attrs) if attrs else ''};")
    return "\n".join(lines) + "\n"


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


def _legend(lg: LayerGraph, title: str | None) -> str:
    """An HTML-like graph label: a legend that adds no nodes to the picture."""
    head = title or lg.name
    added = len(lg.added_tensors())
    changed = len(lg.changed_ops())
    rows = [
        f'<TR><TD COLSPAN="4"><B>{_html(head)}</B></TD></TR>',
        '<TR><TD BGCOLOR="#e8f0fe">input</TD><TD BGCOLOR="#fffbe6">weight</TD>'
        '<TD BGCOLOR="#d9ead3">output</TD><TD>intermediate</TD></TR>',
        '<TR><TD BGCOLOR="#d9ead3">norm</TD><TD BGCOLOR="#cfe2f3">linear</TD>'
        '<TD BGCOLOR="#fce5cd">mlp</TD><TD BGCOLOR="#ead1dc">attention / rope</TD></TR>',
    ]
    if added or changed:
        rows.append(f'<TR><TD COLSPAN="4"><FONT COLOR="{HIGHLIGHT}">red: {added} tensors added, '
                    f"{changed} ops changed by the rewrite</FONT></TD></TR>")
    return '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">' + "".join(rows) + "</TABLE>>"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def side_by_side(before: LayerGraph, after: LayerGraph) -> str:
    """Both graphs in one picture, left the float layer, right the rewritten one."""
    parts = ["digraph layers {", '  graph [rankdir=TB, compound=true, fontname="Helvetica"];']
    for tag, lg in (("before", before), ("after", after)):
        body = _body(lg, title=f"{tag}: {lg.name}", prefix=f"{tag}:", cluster=False)
        body = body.replace("  graph [", "  graph [", 1)
        parts.append(f"  subgraph cluster_{tag} {{")
        parts.append(body.replace("\n  ", "\n    "))
        parts.append("  }")
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
def write_picture(dot_source: str, path: Path, *, json_data: dict[str, Any] | None = None) -> Path:
    """Write ``path`` in the format its suffix names. Raises PictureError with a one-line reason."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise PictureError(f"{path}: unknown picture format {suffix or '(none)'}; use one of {', '.join(FORMATS)}")
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
