"""Is a float layer pair a rewrite candidate? The non-candidate classes in order; the first matching rule wins."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path

from .source.errors import LayerError
from .source.lexer import PREPROC
from .source.model import LayerSource
from .source.source_file import SourceFile


@dataclass(frozen=True)
class Rule:
    kind: str
    pattern: re.Pattern[str] | None
    reason: str


# (class, code pattern, what to tell the user) in the order they are tried; the name rules are checked separately.
_RULES = [
    Rule("template", re.compile(r"FusionAttentionParam\s*<|MlpParam\s*<|\bpackQuantType\b|\blinearQuantType\b"),
         "layer is quant-aware through its templates; quantize by setting packQuantType/linearQuantType "
         "from the model, not by rewriting"),
    Rule("sparse_branches", re.compile(r"\bLinearSparseParam\b|\bisSparse\s*=\s*true\b"),
         "already supports W8A8 and sparse W8A8 (quantModel / sparseModel branches); nothing to do"),
    Rule("plugin_ops", re.compile(r"\bW8A16\w*|\bW8A8\w*Operation\b|\bnew\s+[\w:]*Operation\s*\("),
         "uses weight-only/plugin quant ops; not a float layer"),
    Rule("quant_branches", re.compile(r"\bparam\s*\.\s*(quantModel|quantmodel|isQuant\w*)\b|\bisQuant\s*=\s*param\b"
                                      r"|\bQUANT_INT8\b|\bLinearQuantParam\b|\bisQuantOp\b"),
         "layer already contains a quant branch (enable it with param.<flag>); nothing to rewrite"),
]


#: a param field that switches quantization (its type or on/off), not a scale or offset of it
_QUANT_SWITCH = re.compile(r"^(?i:is_?|input_?|use_?)?[qQ]uant(?:_?[tT]ype)?$|QuantType$")


def check_name(cpp: Path) -> None:
    stem = cpp.stem.lower()
    if "w8a8" in stem:
        raise LayerError(cpp, None, "already a W8A8 layer (name contains w8a8); nothing to do", kind="w8a8")
    if "quant" in stem:
        raise LayerError(cpp, None, "already a quantized layer (name contains quant); give the float layer",
                         kind="quant_named")


def check_content(src: SourceFile, h: SourceFile | None) -> None:
    for rule in _RULES:
        for f in (src, h):
            if f is None:
                continue
            hit = _search(f, rule.pattern)
            if hit is None:
                continue
            if rule.kind != "quant_branches":
                head, _, rest = rule.reason.partition(";")
                raise LayerError(f.path, f.line_of(hit), f"{head} (`{_statement_at(f, hit)}`);{rest}", kind=rule.kind)
            flag = _flag(f, hit)
            if flag is None:  # no branch turns it on: the layer is quantized, whatever its param says
                construct = _statement_at(f, hit)
                raise LayerError(f.path, f.line_of(hit), f"layer is already quantized: `{construct}` is set whatever "
                                 "the layer param says (no flag turns it off); nothing to rewrite", kind="quant_aware")
            raise LayerError(f.path, f.line_of(hit), rule.reason.replace("param.<flag>", flag), kind=rule.kind)


def _flag(f: SourceFile, offset: int) -> str | None:
    """What turns on the quant construct at ``offset``: a flag of the layer param named by it
    (``param.quantModel``, ``isQuant = param.x``), else the condition of the innermost ``if`` (or ``else``, or
    ``c ? ... : ...``) around it; None when nothing does."""
    m = re.match(r"(?:\bisQuant\s*=\s*)?(param\s*\.\s*\w+)", f.text[offset:offset + 120])
    if m:
        return re.sub(r"\s+", "", m.group(1))
    toks = [t for t in f.tokens if t.kind != PREPROC]
    at = bisect.bisect_left([t.start for t in toks], offset)
    start = at
    while start > 0 and toks[start - 1].text not in (";", "{", "}"):
        start -= 1
    q = next((k for k in range(start, at) if toks[k].text == "?"), None)
    if q is not None:  # x = param.flag ? QUANT_INT8 : ...
        eq = max((k for k in range(start, q) if toks[k].text == "="), default=start - 1)
        return " ".join(t.text for t in toks[eq + 1:q]).replace(" . ", ".").replace(" ", "")
    opened: list[int] = []
    for k in range(at):
        if toks[k].text == "{":
            opened.append(k)
        elif toks[k].text == "}" and opened:
            opened.pop()
    for k in reversed(opened):
        before = toks[k - 1].text if k else ""
        if before == ")":
            cond = _condition_before(toks, k - 1)
            if cond is None:
                return None  # a function body (or a loop): no branch inside the function encloses it
            return cond
        if before == "else":
            closing = k - 2  # `} else {`: the if whose block ends there
            depth = 0
            for j in range(closing, -1, -1):
                depth += toks[j].text == "}"
                depth -= toks[j].text == "{"
                if depth == 0 and toks[j].text == "{":
                    cond = _condition_before(toks, j - 1) if j and toks[j - 1].text == ")" else None
                    return f"!({cond})" if cond else None
            return None
    return None


def _condition_before(toks, close: int) -> str | None:
    """The condition of ``if (...)`` whose ``)`` is at ``close``; None when the parenthesis is not an if's."""
    depth = 0
    for j in range(close, -1, -1):
        depth += toks[j].text == ")"
        depth -= toks[j].text == "("
        if depth == 0:
            if j and toks[j - 1].text == "if":
                text = " ".join(t.text for t in toks[j + 1:close])
                return re.sub(r"\s*([.()!])\s*", r"\1", text)
            return None
    return None


def _statement_at(f: SourceFile, offset: int, width: int = 90) -> str:
    """The statement the construct at ``offset`` is in, on one line; a long one from the construct's qualified
    name, cut at a word."""
    text = f.text
    a = max(text.rfind(c, 0, offset) for c in ";{}") + 1
    b = min((i for i in (text.find(";", offset), text.find("{", offset)) if i != -1), default=len(text))
    whole = " ".join(text[a:b].split())
    if len(whole) <= width:
        return whole
    while offset > a and (text[offset - 1].isalnum() or text[offset - 1] in "_:"):
        offset -= 1
    part = " ".join(text[offset:b].split())
    if len(part) <= width:
        return part
    cut = max(part.rfind(" ", 0, width), part.rfind(",", 0, width))
    return part[:cut if cut > width // 2 else width].rstrip(", ") + " ..."


def check_quant_aware(model: LayerSource) -> None:
    """A layer whose ops already take their quant type from the layer param is quant-aware: the model turns
    quantization on by filling that param, and a rewrite would only duplicate it."""
    layer = model.layer
    if layer is None:
        return
    m = re.search(r"&\s*(\w+)\s*$", layer.func.params_text.split(",")[0])
    holder = m.group(1) if m else "param"
    setter = re.compile(rf"\b{re.escape(holder)}\s*\.")
    for a in layer.assigns:
        if _QUANT_SWITCH.search(a.path.rsplit(".", 1)[-1]) and setter.search(a.value):
            raise LayerError(model.cpp.path, model.line("cpp", a.span[0]),
                             f"layer is already quant-aware: {a.param.var}.{a.path} = {a.value.strip()} takes the "
                             f"quant type from the layer param; quantize it by setting {a.value.strip()} from the "
                             "model, not by rewriting", kind="quant_aware")


#: what a whole layer builds: a norm, an attention and something that multiplies by a weight
LAYER_ROLES = ({"norm"}, {"attention"}, {"linear", "parallel_linear", "mlp", "moe"})


def check_operation(cpp: Path, roles: set[str] | None) -> None:
    """A file named as an operation (``*_operation.cpp``, ``llamalayer_*``) is judged by what it builds: with a
    norm, an attention and a linear-like op it is a whole layer (fused layers are often named so); else it is a
    sub-graph of some layer. ``roles``: those of its graph, or None when it does not read into one."""
    stem = cpp.stem
    if not (stem.endswith("_operation") or stem.startswith("llamalayer_")):
        return
    if roles is not None and all(roles & need for need in LAYER_ROLES):
        return
    lacks = "" if roles is None else ": it builds no " + " and no ".join(
        sorted(need)[0] if len(need) == 1 else "linear" for need in LAYER_ROLES if not roles & need)
    raise LayerError(cpp, None, f"this is an operation (a sub-graph{lacks}), not a decoder layer; rewrite the "
                     "layer that uses it", kind="operation")


def check_quantized_ops(lg) -> None:
    """A layer some op of which is created from a quantized type (a model-local quant linear, a dequant MLP)
    is already quantized, whatever its names say."""
    from .graph.catalogue import catalogue

    cat = catalogue()
    for op in lg.ops():
        written = lg.param_type(op)
        if written and cat.is_quantized(written):
            v = lg.op_attr(op, "variant")
            line = lg.source.line("cpp", v.create.span[0]) if v is not None and v.create is not None else None
            raise LayerError(lg.source.cpp.path, line, f"layer is already quantized: {lg.op_attr(op, 'node')} is "
                             f"created from {written}, a quantized type; nothing to rewrite", kind="quant_aware")


def check_embedding(cpp: Path, roles: set[str]) -> None:
    if "embedding" in cpp.stem.lower() and not roles & {"linear", "parallel_linear", "mlp"}:
        raise LayerError(cpp, None, "embedding layer with no linear op; no linear layer to quantize",
                         kind="embedding")


def _search(f: SourceFile, pattern: re.Pattern[str] | None) -> int | None:
    """First match in code (comments and directives excluded); the offset in the file."""
    if pattern is None:
        return None
    joined, starts, offsets = _code_text(f)
    m = pattern.search(joined)
    if m is None:
        return None
    i = bisect.bisect_right(starts, m.start()) - 1
    return offsets[max(i, 0)] if offsets else None


def _code_text(f: SourceFile) -> tuple[str, list[int], list[int]]:
    """The file's code tokens joined by single spaces, with where each token starts in the joined text
    and in the file; computed once per file."""
    cached = getattr(f, "_code_text", None)
    if cached is None:
        parts: list[str] = []
        starts: list[int] = []
        offsets: list[int] = []
        pos = 0
        for t in f.tokens:
            if t.kind == PREPROC:
                continue
            parts.append(t.text)
            starts.append(pos)
            offsets.append(t.start)
            pos += len(t.text) + 1
        cached = (" ".join(parts), starts, offsets)
        f._code_text = cached  # type: ignore[attr-defined]
    return cached
