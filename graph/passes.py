"""Quantization and sparsification of a LayerGraph, and the change log read off their plan.

``quantize`` runs the passes (graph/rewrite.py) and returns the rewritten graph with a change log that the
report, the command line and the API show: every change, the sites left float and why, the sites quantized
without sparsity, the follow-ups, the new scale and flag fields. The log is a view of the plan; the plan
itself (``graph.meta["plan"]``) is what the renderer spells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalogue import catalogue
from .fallback import SITES
from .layer_graph import LayerGraph
from .plan import Followup, Plan
from .quant_sites import RECENT
from .rewrite import Options, rewrite

__all__ = ["RECENT", "SITES", "ChangeLog", "Followup", "Options", "ScaleField", "change_log", "quantize",
           "standard_labels"]


def standard_labels() -> dict[str, str]:
    """The quant points' labels by kind, as the catalogue's conventions name them."""
    return dict(catalogue().conventions.point_labels)


def __getattr__(name: str) -> Any:
    if name == "STANDARD_LABELS":  # read from the catalogue on first use: importing this module stays cheap
        return standard_labels()
    raise AttributeError(name)


@dataclass(frozen=True)
class ScaleField:
    """A quant point's activation scale and offset fields."""

    point: str  # the op whose input is quantized (``op#down`` for an MLP's down projection)
    label: str
    scale: str
    offset: str


@dataclass(frozen=True)
class FlagField:
    """A float fallback flag: a bool layer param field that keeps one quant point float."""

    name: str
    site: str
    point: str


@dataclass
class ChangeLog:
    changes: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    #: sparse runs: sites quantized but not made sparse (no sparse precedent for their type), and why
    not_sparse: list[dict[str, str]] = field(default_factory=list)
    followups: list[Followup] = field(default_factory=list)
    scale_fields: list[ScaleField] = field(default_factory=list)
    flag_fields: list[FlagField] = field(default_factory=list)


def change_log(before: LayerGraph, plan: Plan) -> ChangeLog:
    """What the plan does, as the report and the command line show it."""
    log = ChangeLog(followups=list(plan.followups))
    for note in plan.removed_ops:
        log.changes.append({"node": note.op, "removed": True, "reason": note.reason})
    added = {t.name for t in plan.tensors}
    for c in plan.ops:
        entry: dict[str, Any] = {"node": c.op, "old_inputs": before.inputs_of(c.op), "new_inputs": list(c.inputs)}
        if list(c.outputs) != before.outputs_of(c.op):
            entry.update(old_outputs=before.outputs_of(c.op), new_outputs=list(c.outputs))
        entry.update(fields=[f"{f.path} = {f.value}" for f in c.fields], type=c.type,
                     added=[t for t in (*c.inputs, *c.outputs) if t in added], dropped_fields=list(c.dropped))
        log.changes.append(entry)
    log.skipped = [{"node": n.op, "reason": n.reason} for n in plan.left_float]
    log.not_sparse = [{"node": n.op, "reason": n.reason} for n in plan.not_sparse]
    scales = [f for f in plan.fields if f.type == "float"]
    offsets = {f.point: f for f in plan.fields if f.type == "int"}
    log.scale_fields = [ScaleField(f.point, f.label, f.name, offsets[f.point].name) for f in scales]
    log.flag_fields = [FlagField(f.name, f.label, f.point) for f in plan.fields if f.type == "bool"]
    return log


def quantize(lg: LayerGraph, opts: Options) -> tuple[LayerGraph, ChangeLog]:
    """The rewritten graph (its plan in ``meta["plan"]``) and the change log."""
    new, plan = rewrite(lg, opts)
    return new, change_log(lg, plan)
