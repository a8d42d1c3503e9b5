"""Is a float layer pair a rewrite candidate? The non-candidate classes in order; the first matching rule wins.

What marks a quantized layer is the catalogue's (its ``[quant_markers]`` table and its type entries): the
content rules, which run on a pair's code before a graph can be built, compile their patterns from it, and the
rules that run on the built graph ask the catalogue about each op's type."""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .graph.layer_graph import LINEAR_ROLES
from .graph.quant_markers import quant_markers
from .source.errors import LayerError
from .source.lexer import PREPROC
from .source.model import LayerSource
from .source.source_file import SourceFile

#: a pattern searched in the code text, and whether its match must begin a word (``\b`` before it)
Mark = tuple[re.Pattern[str], bool]


@dataclass(frozen=True)
class Rule:
    """A class of non-candidates, what marks one in code, and what to tell the user."""

    kind: str
    marks: tuple[Mark, ...]  # the rule's mark is the first match of any
    reason: str
    created: tuple[re.Pattern[str], ...] = ()  # also marks one: `new X(` with X named by one of these


#: `new X(` beginning a word: an object created on the heap, X its type
_NEW = re.compile(r"new\s+([\w:]*)\s*\(")
_WORD_START = re.compile(r"\b")


def _marks(*alternatives: tuple[str, bool]) -> tuple[Mark, ...]:
    return tuple((re.compile(a), word) for a, word in alternatives if a)


def _words(words: tuple[str, ...], *, patterns: bool = False) -> tuple[str, bool]:
    """Whole words of the code: the given ones, or those the given patterns match in full."""
    return ("(?:" + "|".join(words if patterns else map(re.escape, words)) + r")\b" if words else ""), True


@cache
def _rules() -> tuple[Rule, ...]:
    """The content rules in the order they are tried (the name rules are checked separately). A pattern
    begins with its words, not with ``\\b``, so the regex engine can skip to them; a match not at a word's
    start is passed over (``_first``)."""
    m = quant_markers()
    param, switch = re.escape(m.layer_param), re.escape(m.branch_switch)
    templates = f"(?:{'|'.join(map(re.escape, m.template_types))})\\s*<" if m.template_types else ""
    fields = ((rf"{re.escape(f)}\s*=\s*{re.escape(v)}\b", True) for f, v in m.sparse_fields)
    flags = rf"{param}\s*\.\s*(?:{'|'.join(m.branch_flags)})\b" if m.branch_flags else ""
    return (
        Rule("template", _marks((templates, False), _words(m.template_fields)),
             f"layer is quant-aware through its templates; quantize by setting {'/'.join(m.template_fields)} "
             "from the model, not by rewriting"),
        Rule("sparse_branches", _marks(_words(m.sparse_types), *fields),
             f"already supports W8A8 and sparse W8A8 ({m.mode_flags[0]} / {m.mode_flags[1]} branches); nothing "
             "to do"),
        Rule("plugin_ops", _marks(_words(m.plugin_words, patterns=True)),
             "uses weight-only/plugin quant ops; not a float layer",
             tuple(re.compile(p) for p in m.plugin_types)),
        Rule("quant_branches", _marks((flags, True), (rf"{switch}\s*=\s*{param}\b", True),
                                      _words(m.branch_words + m.branch_types)),
             f"layer already contains a quant branch (enable it with {m.layer_param}.<flag>); nothing to rewrite"),
    )


def _first(pattern: re.Pattern[str], text: str, word: bool, pos: int = 0) -> re.Match[str] | None:
    """The leftmost match from ``pos`` (one that begins a word, when ``word``)."""
    while (m := pattern.search(text, pos)) is not None:
        if not word or _WORD_START.match(text, m.start()):
            return m
        pos = m.start() + 1
    return None


@cache
def _flag_at() -> re.Pattern[str]:
    """The layer-param flag a quant construct names: ``param.x``, or ``isQuant = param.x``."""
    m = quant_markers()
    return re.compile(rf"(?:\b{re.escape(m.branch_switch)}\s*=\s*)?({re.escape(m.layer_param)}\s*\.\s*\w+)")


@cache
def _quant_switch() -> re.Pattern[str]:
    """A param field that switches quantization (its type or on/off), not a scale or offset of it."""
    return re.compile(quant_markers().quant_switch)


def check_name(cpp: Path) -> None:
    stem = cpp.stem.lower()
    if "w8a8" in stem:
        raise LayerError(cpp, None, "already a W8A8 layer (name contains w8a8); nothing to do", kind="w8a8")
    if "quant" in stem:
        raise LayerError(cpp, None, "already a quantized layer (name contains quant); give the float layer",
                         kind="quant_named")


def check_content(src: SourceFile, h: SourceFile | None) -> None:
    markers = quant_markers()
    for rule in _rules():
        for f in (src, h):
            if f is None:
                continue
            hit = _search(f, rule)
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
            raise LayerError(f.path, f.line_of(hit), rule.reason.replace(f"{markers.layer_param}.<flag>", flag),
                             kind=rule.kind)


def _flag(f: SourceFile, offset: int) -> str | None:
    """What turns on the quant construct at ``offset``: a flag of the layer param named by it
    (``param.quantModel``, ``isQuant = param.x``), else the condition of the innermost ``if`` (or ``else``, or
    ``c ? ... : ...``) around it; None when nothing does."""
    m = _flag_at().match(f.text[offset:offset + 120])
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
    switch = _quant_switch()
    for a in layer.assigns:
        holder = a.param.layer_param or quant_markers().layer_param  # as the function setting it names it
        if switch.search(a.path.rsplit(".", 1)[-1]) and re.search(rf"\b{re.escape(holder)}\s*\.", a.value):
            raise LayerError(model.cpp.path, model.line("cpp", a.span[0]),
                             f"layer is already quant-aware: {a.param.var}.{a.path} = {a.value.strip()} takes the "
                             f"quant type from the layer param; quantize it by setting {a.value.strip()} from the "
                             "model, not by rewriting", kind="quant_aware")


#: what a whole layer builds: a norm, an attention and something that multiplies by a weight
LAYER_ROLES = ({"norm"}, {"attention"}, {*LINEAR_ROLES, "moe"})


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
    if "embedding" in cpp.stem.lower() and not roles & set(LINEAR_ROLES):
        raise LayerError(cpp, None, "embedding layer with no linear op; no linear layer to quantize",
                         kind="embedding")


def _search(f: SourceFile, rule: Rule) -> int | None:
    """First mark of the rule in code (comments and directives excluded); the offset in the file."""
    joined, starts, offsets = _code_text(f)
    found = [m.start() for pattern, word in rule.marks if (m := _first(pattern, joined, word)) is not None]
    first = min(found, default=None)
    pos = 0
    while rule.created and (m := _first(_NEW, joined, True, pos)) is not None and (first is None or m.start() < first):
        if any(p.search(m.group(1)) for p in rule.created):
            first = m.start()
            break
        pos = m.end()
    if first is None:
        return None
    i = bisect.bisect_right(starts, first) - 1
    return offsets[max(i, 0)] if offsets else None


def _code_text(f: SourceFile) -> tuple[str, list[int], list[int]]:
    """The file's code tokens joined by single spaces, with where each token starts in the joined text
    and in the file; computed once per file."""
    cached = getattr(f, "_code_text", None)
    if cached is None:
        code = [t for t in f.tokens if t.kind != PREPROC]
        parts = [t.text for t in code]
        starts = list(itertools.accumulate([len(p) + 1 for p in parts], initial=0))
        starts.pop()  # where the text after the last token would start
        cached = (" ".join(parts), starts, [t.start for t in code])
        f._code_text = cached  # type: ignore[attr-defined]
    return cached
