"""Read a layer pair into a ``LayerSource``."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .body import BodyReader
from .decls import DeclReader, read_directives
from .errors import LayerError
from .lexer import IDENT, STRING
from .model import Binder, Constant, FunctionDef, LayerSource, TensorVar
from .source_file import SourceFile
from .tokens import TokenView

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
            model.string_tensors += _string_tensor_lists(views[which], which)
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
    candidates: list[FunctionDef] = []
    builders: list[FunctionDef] = []  # functions that make a graph, whoever fills its nodes
    for f in model.functions:
        if f.file != "cpp" or f.body is None or f.owner is not None or "Operation" not in f.params_text:
            continue
        if _fills_nodes(view, f):
            candidates.append(f)
        elif _declares_graph(view, f):
            builders.append(f)
    candidates = candidates or builders
    if not candidates:
        raise LayerError(view.src.path, None, "no layer-building function (one that declares an "
                         "atb::GraphParam or fills graph nodes with inTensorIds) found; is this a layer .cpp?")
    if len(candidates) > 1:
        names = ", ".join(f.name for f in candidates)
        raise LayerError(view.src.path, model.line("cpp", candidates[1].span[0]),
                         f"several graph-building functions ({names}); the tool rewrites one layer per file")
    helpers = [f for f in model.functions if f.file == "cpp" and f.owner is None]
    model.layer = BodyReader(view, candidates[0], helpers=helpers).run()
    # count constants declared inside the layer function count as constants too
    known = {c.name for c in model.constants}
    for p in model.layer.params:
        if p.var.endswith("_COUNT") and p.var not in known and p.init and p.init_span and not p.cond:
            model.constants.append(Constant("cpp", p.var, p.type_text, p.init.strip(), p.init_span, p.span))
    if not model.layer.nodes:
        raise LayerError(view.src.path, model.line("cpp", candidates[0].span[0]),
                         "the layer function declares no graph nodes (atb::Node &x = opGraph.nodes.at(...))")


def _fills_nodes(view: TokenView, f: FunctionDef) -> bool:
    """Token-wise (so layout does not matter): the body names `x.nodes` and a tensor id list."""
    assert f.body is not None
    toks = [t for t in view.toks if f.body[0] <= t.start < f.body[1]]
    texts = [t.text for t in toks]
    has_nodes = any(texts[i] == "." and texts[i + 1] == "nodes" for i in range(len(texts) - 1))
    return has_nodes and ("inTensorIds" in texts or "outTensorIds" in texts)


def _declares_graph(view: TokenView, f: FunctionDef) -> bool:
    assert f.body is not None
    return any(t.text == "GraphParam" for t in view.toks if f.body[0] <= t.start < f.body[1])


def _string_tensor_lists(view: TokenView, which: str) -> list[TensorVar]:
    """The strings of `std::vector<std::string> xxxTensorList = {"in_a", ...}` declarations: tensor names."""
    toks = view.toks
    out: list[TensorVar] = []
    for k in range(len(toks) - 8):
        if not (toks[k].text == "vector" and toks[k + 1].text == "<" and toks[k + 2].text == "std"
                and toks[k + 4].text == "string" and toks[k + 5].text == ">"):
            continue
        j = k + 6
        if j >= len(toks) or toks[j].kind != IDENT or "tensor" not in toks[j].text.lower():
            continue
        j += 1
        if j < len(toks) and toks[j].text == "=":
            j += 1
        if j >= len(toks) or toks[j].text != "{":
            continue
        out += [TensorVar(t.text[1:-1], which, (t.start, t.end)) for t in toks[j + 1:view.match[j]]
                if t.kind == STRING]
    return out


def _find_binder(model: LayerSource) -> None:
    for s in model.structs:
        if "HostTensorBinder" in s.bases or "Binder" in s.bases:
            methods = [f for f in model.functions if f.owner == s.name]
            model.binder = Binder(s.name, s, methods)
            return
