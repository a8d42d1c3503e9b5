"""Read a layer pair into a ``LayerSource``."""

from __future__ import annotations

import itertools
import logging
import os
from pathlib import Path

from .body import BodyReader
from .decls import DeclReader, read_directives
from .errors import LayerError
from .lexer import IDENT
from .model import Binder, Constant, FunctionDef, Idiom, LayerSource
from .source_file import SourceFile
from .tensor_names import declared_names, name_maps
from .tokens import TokenView
from .vocabulary import short_name, vocabulary

log = logging.getLogger(__name__)

HEADER_SUFFIXES = (".h", ".hpp")


def header_for(cpp: Path) -> Path | None:
    for suffix in HEADER_SUFFIXES:
        h = cpp.with_suffix(suffix)
        if h.is_file():
            return h
    return None


def include_dirs_from_env(extra: list[str] | None = None) -> list[str]:
    dirs = list(extra or [])
    for var in ("ATB_HOME_PATH", "ATB_SPEED_HOME_PATH"):
        val = os.environ.get(var)
        if val:
            for sub in ("include", "", "../include"):
                d = os.path.normpath(os.path.join(val, sub))
                if os.path.isdir(d) and d not in dirs:
                    dirs.append(d)
    return dirs


def read_pair(cpp_path: Path, h_path: Path | None = None, *, cpp_text: bytes | None = None,
              h_text: bytes | None = None) -> LayerSource:
    """Read the pair from disk, or from the given bytes (the verifier reads generated text)."""
    return read_sources(*source_files(cpp_path, h_path, cpp_text=cpp_text, h_text=h_text))


def source_files(cpp_path: Path, h_path: Path | None = None, *, cpp_text: bytes | None = None,
                 h_text: bytes | None = None) -> tuple[SourceFile, SourceFile | None]:
    """The pair's files, decoded and lexed (what the classifier's content rules read)."""
    if cpp_path.suffix not in (".cpp", ".cc", ".cxx"):
        raise LayerError(cpp_path, None, "not a .cpp file; give the layer's .cpp (its .h comes along)")
    cpp = SourceFile.from_bytes(cpp_path, cpp_text) if cpp_text is not None else SourceFile.read(cpp_path)
    if h_path is None and h_text is None:
        h_path = header_for(cpp_path)
    h = None
    if h_text is not None:
        h = SourceFile.from_bytes(h_path or cpp_path.with_suffix(".h"), h_text)
    elif h_path is not None:
        h = SourceFile.read(h_path)
    return cpp, h


def read_sources(cpp: SourceFile, h: SourceFile | None) -> LayerSource:
    """The source model of a pair already lexed."""
    cpp_path = cpp.path
    model = LayerSource(cpp=cpp, h=h)
    views = {}
    for which, src in (("h", h), ("cpp", cpp)):
        if src is None:
            continue
        view = TokenView(src, which)
        views[which] = view
        read_directives(view, model)
        DeclReader(view, model).run()
    for which in ("h", "cpp"):
        if which in views:
            maps = name_maps(views[which], model.functions)
            model.name_maps.update(maps)
            model.string_tensors += declared_names(views[which], maps)
    _find_layer(model, views["cpp"])
    _find_binder(model)
    if model.param_struct is None and model.layer is not None and model.layer.struct_name:
        line = model.line("cpp", model.layer.func.span[0])
        if h is None:
            raise LayerError(cpp_path, line, f"param struct {model.layer.struct_name} is declared in the "
                             f"header, and {cpp_path.with_suffix('.h').name} is missing; put the .h next "
                             "to the .cpp")
        raise LayerError(cpp_path, line, f"param struct {model.layer.struct_name} is declared in neither "
                         "file of the pair; the tool needs it to add scale fields")
    return model


def _find_layer(model: LayerSource, view: TokenView) -> None:
    voc = vocabulary()
    fillers: list[FunctionDef] = []
    builders: list[FunctionDef] = []  # functions that make a graph, whoever fills its nodes
    operation = short_name(voc.operation_type)
    for f in model.functions:
        if f.file != "cpp" or f.body is None or f.owner is not None or operation not in f.params_text:
            continue
        if _fills_nodes(view, f):
            fillers.append(f)
        elif _declares_graph(view, f):
            builders.append(f)
    if not fillers and not builders:
        raise LayerError(view.src.path, None, f"no layer-building function (one that declares an {voc.graph_type} "
                         f"or fills graph nodes with {voc.in_tensors}) found; is this a layer .cpp?")
    layer, subgraphs, calls = _layer_and_subgraphs(model, view, fillers, builders)
    model.subgraphs = subgraphs
    helpers = [f for f in model.functions if f.file == "cpp" and f.owner is None]
    model.layer = BodyReader(view, layer, helpers=helpers, name_maps=model.name_maps).run()
    if calls is not None:
        _mark_subgraph_declarations(model, view, layer, calls)
    for g in subgraphs:
        model.layer.idioms.append(Idiom(f"sub-graphs built beside the layer: {g.name} (one node of {layer.name})",
                                        "cpp", g.span))
    # the strings of a list a node reads name its tensors, they do not declare them
    node_lists = {lst.var for lst in model.layer.lists if lst.var}
    model.string_tensors = [tv for tv in model.string_tensors if tv.context not in node_lists]
    # count constants declared inside the layer function count as constants too
    known = {c.name for c in model.constants}
    for p in model.layer.params:
        if p.var.endswith(voc.count_suffix) and p.var not in known and p.init and p.init_span and not p.cond:
            model.constants.append(Constant("cpp", p.var, p.type_text, p.init.strip(), p.init_span, p.span))
    if not model.layer.nodes:
        raise LayerError(view.src.path, model.line("cpp", layer.span[0]), "the layer function declares no graph "
                         f"nodes ({voc.node_type} &x = {voc.graph_var}.{voc.graph_nodes}.at(...))")


def _calls(view: TokenView, functions: list[FunctionDef]) -> dict[str, set[str]]:
    """Which functions of the .cpp each one calls (by name, token-wise)."""
    names = {f.short_name for f in functions}
    out: dict[str, set[str]] = {}
    for f in functions:
        a, close = view.braces(f.body)
        toks = view.toks[a:close]
        out.setdefault(f.short_name, set()).update(
            t.text for t, nxt in itertools.pairwise(toks)
            if t.kind == IDENT and nxt.text == "(" and t.text in names and t.text != f.short_name)
    return out


def _reach(calls: dict[str, set[str]], start: str, stop: frozenset[str] = frozenset()) -> set[str]:
    """The functions ``start`` calls, directly or not (not entering those in ``stop``)."""
    seen, todo = {start}, [start]
    while todo:
        for g in calls.get(todo.pop(), ()):
            if g not in seen and g not in stop:
                seen.add(g)
                todo.append(g)
    return seen


def _layer_and_subgraphs(model: LayerSource, view: TokenView, fillers: list[FunctionDef],
                         builders: list[FunctionDef]) -> tuple[FunctionDef, list[FunctionDef],
                                                            dict[str, set[str]] | None]:
    """The layer among several graph-building functions: the one no other one uses. A graph function another
    one calls (directly or through its helpers), e.g. a position-embedding operation whose graph becomes one
    node of the layer, is a sub-graph of it. Of several unused ones, the one the file's creator calls (a
    function that builds none, such as ``CreateXLayer(json)``), else the one that fills its nodes itself. Also
    which function calls which, when there are several (None when there is one)."""
    graphs = fillers + builders
    if len(graphs) == 1:
        return graphs[0], [], None
    calls = _calls(view, _cpp_functions(model))
    reached = {f.short_name: _reach(calls, f.short_name) for f in graphs}
    node_ops, handed_out = _graph_calls(view, {f.short_name for f in graphs})
    roots = [f for f in graphs if f.short_name not in node_ops
             and not any(f.short_name in reached[g.short_name] for g in graphs if g is not f)]
    if len(roots) > 1:
        called = [r for r in roots if r.short_name in handed_out]
        roots = called if len(called) == 1 else [r for r in roots if r in fillers] or roots
    if len(roots) != 1:
        names = ", ".join(f.name for f in (roots or graphs))
        raise LayerError(view.src.path, model.line("cpp", (roots or graphs)[1].span[0]),
                         f"several graph-building functions ({names}), none of which uses the others; the tool "
                         "rewrites one layer per file")
    return roots[0], [f for f in graphs if f is not roots[0]], calls


def _cpp_functions(model: LayerSource) -> list[FunctionDef]:
    return [f for f in model.functions if f.file == "cpp" and f.body is not None]


def _graph_calls(view: TokenView, names: set[str]) -> tuple[set[str], set[str]]:
    """Graph functions called to create a node's operation (``F(p, &node.operation)``: a sub-graph), and those
    called to hand the operation out (``F(p, operation)`` in a creator)."""
    toks = view.toks
    members = vocabulary().op_members
    as_node: set[str] = set()
    out: set[str] = set()
    for k in range(len(toks) - 1):
        if toks[k].kind != IDENT or toks[k].text not in names or toks[k + 1].text != "(":
            continue
        args = toks[k + 2:view.match[k + 1]]
        prev = toks[k - 1] if k else None
        if not args or (prev is not None and ((prev.kind == IDENT and prev.text != "return") or prev.text in "*&")):
            continue  # the definition or a declaration (`atb::Status F(...)`)
        if any(a.text in members and b.text == "." for b, a in itertools.pairwise(args)):
            as_node.add(toks[k].text)
        else:
            out.add(toks[k].text)
    return as_node, out


def _mark_subgraph_declarations(model: LayerSource, view: TokenView, layer: FunctionDef,
                                calls: dict[str, set[str]]) -> None:
    """Enums and count constants only the sub-graphs (and their helpers) use are theirs, not the layer's."""
    if not model.subgraphs:
        return
    funcs = _cpp_functions(model)
    own = _reach(calls, layer.short_name, frozenset(g.short_name for g in model.subgraphs))
    theirs = [(g, _reach(calls, g.short_name) - own) for g in model.subgraphs]
    by_name = {f.short_name: f for f in funcs}

    def used_in(names: set[str]) -> set[str]:
        out: set[str] = set()
        for n in names:
            f = by_name[n]
            a, close = view.braces(f.body)
            out.update(t.text for t in view.toks[a:close + 1] if t.kind == IDENT)
        return out

    layer_words = used_in(own)
    for g, names in theirs:
        words = used_in(names)
        for e in model.enums:
            entries = {x.name for x in e.entries}
            if e.owner is None and entries & words and not entries & layer_words:
                e.owner = g.short_name
        for c in model.constants:
            if c.owner is None and c.name in words and c.name not in layer_words:
                c.owner = g.short_name


def _fills_nodes(view: TokenView, f: FunctionDef) -> bool:
    """Token-wise (so layout does not matter): the body names `x.nodes` and a tensor id list."""
    assert f.body is not None
    voc = vocabulary()
    a, close = view.braces(f.body)
    texts = view.texts[a:close + 1]
    has_nodes = any(texts[i] == "." and texts[i + 1] == voc.graph_nodes for i in range(len(texts) - 1))
    return has_nodes and any(name in texts for name in voc.tensor_lists)


def _declares_graph(view: TokenView, f: FunctionDef) -> bool:
    assert f.body is not None
    graph = short_name(vocabulary().graph_type)
    a, close = view.braces(f.body)
    return any(t.text == graph for t in view.toks[a:close + 1])


def _find_binder(model: LayerSource) -> None:
    bases = vocabulary().binder_bases
    for s in model.structs:
        if any(b in s.bases for b in bases):
            methods = [f for f in model.functions if f.owner == s.name]
            model.binder = Binder(s.name, s, methods)
            return
