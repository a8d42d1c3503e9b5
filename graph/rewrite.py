"""The rewrite of a float layer graph into its W8A8 (or sparse W8A8) graph, as a sequence of small passes.

Each pass is a plain function of the rewrite in progress: it reads the float graph, changes the new graph
through LayerGraph's few mutation methods, and adds its decisions to the plan. The plan (graph/plan.py) is
what the renderer spells; ``lint`` checks the graph after every pass when debug logging is on, and the
tests lint every pass output on every fixture.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .catalogue import Contract, OpEntry, catalogue
from .layer_graph import LayerGraph
from .lint import lint
from .plan import Plan

log = logging.getLogger(__name__)


@dataclass
class Options:
    sparse: bool = False
    qkv_style: str = "linear"  # "linear" (LinearParam + linearType) | "linear-quant" (LinearQuantParam)
    upgrade_v1: bool = True
    telechat: bool = True
    scale_names: dict[str, str] = field(default_factory=dict)  # point label or op name -> field base name
    #: "shared" (one beta for every quant RmsNorm) | "per-norm" (one per norm) | None: as the layer's family
    #: does it (catalogue styles), else shared
    beta: str | None = None
    unpack_mlp: bool = True  # split a packed gate-up MLP weight into up and gate weights (the precedent)
    #: quant points kept float at run time by a layer param flag: sites (qkv, dense, mlp, down), "all", or
    #: node names
    float_fallback: tuple[str, ...] = ()
    keep_names: bool = False  # keep the float layer's names (the user links only one of them)
    headers_given: bool = False  # the user's ATB headers are on the include path (the verifier checks fields)


@dataclass(frozen=True)
class Site:
    """A linear-like op the rewrite quantizes, and with what contract."""

    op: str
    contract: Contract
    float_type: OpEntry | None  # the op's own type
    type: OpEntry  # the type it takes (its own, or the V2 type a V1 one is upgraded to)


@dataclass(frozen=True)
class Point:
    """An activation-quant point: where an fp16 activation becomes int8 (a quant norm, or an op that
    quantizes its own input), with the label and the scale / offset fields its scale is read from."""

    op: str  # the op; ``op#down`` for an MLP's down projection
    label: str
    scale: str = ""
    offset: str = ""


@dataclass
class Rewrite:
    """A rewrite in progress: the float graph (never changed), the new graph, the plan so far, and what the
    passes hand each other on the way (analysis, not decisions)."""

    float: LayerGraph
    graph: LayerGraph
    opts: Options
    plan: Plan
    sites: dict[str, Site] = field(default_factory=dict)
    norms: dict[str, tuple[Contract, str]] = field(default_factory=dict)  # quant norm -> (contract, output)
    folds: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # norm -> (add op, beta, add output)
    int8_feeds: dict[str, str] = field(default_factory=dict)  # op -> the quant norm output it reads
    points: dict[str, Point] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)  # tensor names taken
    lower_names: bool = False  # the layer names its tensors by lower-case strings
    int8_outputs: dict[str, str] = field(default_factory=dict)  # a LayerNorm's float output -> its int8 one
    betas: dict[str, str] = field(default_factory=dict)  # a norm weight -> its own beta
    shared_beta: str | None = None
    holder: str | None = None  # the placeholder unused slots read
    weight_tensors: dict[str, dict[str, str | None]] = field(default_factory=dict)  # weight -> b / d / i tensors
    split: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # packed weight -> (it, up, gate)

    @property
    def conventions(self):
        return catalogue().conventions

    def layer_param(self, op: str) -> str | None:
        """How the function that sets the op's param names the layer param, or None when it has none."""
        param = self.float.graph.nodes[op]["variant"].param
        return param.layer_param if param is not None else None

    def note(self, **more: tuple) -> None:
        self.plan = self.plan.adding(**more)


Pass = Callable[[Rewrite], None]


def passes(opts: Options) -> list[Pass]:
    """The passes, in order."""
    from .counts import plan_counts
    from .fallback import float_fallback
    from .naming import plan_names
    from .param_spelling import plan_params
    from .points import fold_anti_outlier, name_scale_fields, quant_points
    from .quant_norms import quantize_norms
    from .quant_sites import quantize_sites
    from .sites import select_sites, sparsify
    from .user_followups import plan_user_followups

    steps: list[Pass] = [select_sites, quant_points]
    if opts.sparse:
        steps.append(sparsify)
    steps += [name_scale_fields, fold_anti_outlier, quantize_norms, quantize_sites]
    if opts.float_fallback:
        steps.append(float_fallback)
    return [*steps, plan_params, plan_counts, plan_names, plan_user_followups]


def rewrite(lg: LayerGraph, opts: Options,
            after_pass: Callable[[str, LayerGraph], None] | None = None) -> tuple[LayerGraph, Plan]:
    """The float layer graph's rewrite: the new graph and the plan of every decision. ``after_pass`` sees
    the graph after each pass (the tests lint it there); under debug logging lint's findings are logged."""
    names = set(lg.tensors())
    work = lg.detached()
    work.meta.pop("declared_counts", None)  # unknown until the counts pass says what the new layer declares
    rw = Rewrite(lg, work, opts, Plan(mode="sparse" if opts.sparse else "quant"), names=names,
                 lower_names=sum(t.islower() for t in names) > len(names) / 2)
    debug = log.isEnabledFor(logging.DEBUG)
    for step in passes(opts):
        step(rw)
        if after_pass is not None:
            after_pass(step.__name__, rw.graph)
        if debug:
            for f in lint(rw.graph):
                log.debug("%s: lint after %s: %s", lg.path, step.__name__, f.message)
    rw.graph.meta["plan"] = rw.plan
    rw.graph.meta["mode"] = rw.plan.mode
    return rw.graph, rw.plan


def replace_change(rw: Rewrite, op: str, **changes: Any) -> None:
    """Replace parts of an op's planned change (the plan never changes in place)."""
    old = rw.plan.change(op)
    new = dataclasses.replace(old, **changes)
    rw.plan = rw.plan.but(ops=tuple(new if c is old else c for c in rw.plan.ops))
    rw.graph.mark(op, change=new)
