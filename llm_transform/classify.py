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
            if hit is not None:
                raise LayerError(f.path, f.line_of(hit), _with_flag(rule, f, hit), kind=rule.kind)


def _with_flag(rule: Rule, f: SourceFile, offset: int) -> str:
    if rule.kind != "quant_branches":
        return rule.reason
    m = re.search(r"param\s*\.\s*(\w*[qQ]uant\w*)", f.text[max(0, offset - 200): offset + 200])
    return rule.reason.replace("param.<flag>", f"param.{m.group(1)}") if m else rule.reason


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
        if a.path.rsplit(".", 1)[-1] == "quantType" and setter.search(a.value):
            raise LayerError(model.cpp.path, model.line("cpp", a.span[0]),
                             f"layer is already quant-aware: {a.param.var}.{a.path} = {a.value.strip()} takes the "
                             f"quant type from the layer param; quantize it by setting {a.value.strip()} from the "
                             "model, not by rewriting", kind="quant_aware")


def check_operation(cpp: Path, has_binder: bool) -> None:
    stem = cpp.stem
    if stem.endswith("_operation") or stem.startswith("llamalayer_"):
        raise LayerError(cpp, None, "this is an operation (a sub-graph), not a decoder layer; rewrite the "
                         "layer that uses it", kind="operation")


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
