"""Quantization and sparsification as rewrites of a LayerGraph.

A pass reads the float graph and returns a new graph in which added tensors are new tensor nodes
(``added=True``, with the enum entry they follow in ``anchor``), rewired ops have new input/output
edges, and every op whose param must change carries a ``plan`` (type, callee, fields to set) — plus a
change log. Passes never look at text: the renderer turns the difference into edits.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from .build import is_packed, param_assigns
from .catalogue import OpType, catalogue
from .fallback import FlagField, float_fallback
from .layer_graph import LayerGraph, add_tensor

_WEIGHT_SUFFIX = re.compile(r"_?(WEIGHTS?|WEIGTH|WIGHT|WEIGHT_ID)$", re.IGNORECASE)
STANDARD_LABELS = {"norm->linear": "qkv", "norm->mlp": "selfLn", "parallel_linear": "dense", "mlp_down": "ffnOut",
                   "mlp_up": "mlpIn", "norm->parallel_linear": "normOut"}


@dataclass
class Options:
    sparse: bool = False
    qkv_style: str = "linear"  # "linear" (LinearParam + linearType) | "linear-quant" (LinearQuantParam)
    upgrade_v1: bool = True
    telechat: bool = True
    scale_names: dict[str, str] = field(default_factory=dict)  # point label or op name -> field base name
    #: "shared" (one IN_BETA for every quant RmsNorm) | "per-norm" (IN_<NORM>_BETA each) | None: as the layer's
    #: family does it (catalogue styles), else shared
    beta: str | None = None
    unpack_mlp: bool = True  # split a packed gate-up MLP weight into up and gate weights (the precedent)
    #: quant points kept float at run time by a layer param flag: sites (qkv, dense, mlp, down), "all", or
    #: node names
    float_fallback: tuple[str, ...] = ()


@dataclass
class Plan:
    """What an op's param becomes."""

    type: str | None = None  # new param type (None: unchanged)
    init: str | None = None  # new brace initialiser for a type change
    callee: str | None = None
    fields: list[tuple[str, str]] = field(default_factory=list)
    #: fields whose type default is already the wanted value: changed only where the float sets another one
    only_if_set: list[str] = field(default_factory=list)
    renames: dict[str, str] = field(default_factory=dict)  # float field path -> new path (V1 upgrade)
    keep_fields: list[str] | None = None  # on a type change: float assignments kept (None: all)
    dropped: list[str] = field(default_factory=list)  # float assignments the new type has no field for
    include: str | None = None
    old_include: str | None = None
    slots: tuple[str, ...] = ()  # what each input slot of the rewritten op holds (the contract's slot names)

    def key(self) -> tuple:
        return (self.type, self.init, self.callee, tuple(self.fields), tuple(self.only_if_set),
                tuple(sorted(self.renames.items())), tuple(self.keep_fields or ()))


@dataclass
class ScaleField:
    point: str  # the op whose input is quantized
    label: str
    scale: str
    offset: str


@dataclass(frozen=True)
class Followup:
    """Something the user must do or decide after the rewrite. ``kind`` is the same sentence for every file
    it applies to (a run over a tree groups by it); ``detail`` is what it is about in this file."""

    kind: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.detail}: {self.kind}" if self.detail else self.kind

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "detail": self.detail}


UPGRADED = "V1 type upgraded to V2; check that the comm fields moved into commParam / commDownParam"
DROPPED = "float assignment dropped: the upgraded type has no such field"
SPLIT = "packed gate-up weight split into up and gate weights; the model must supply the two weights"
KEPT_PACKED = ("packed gate-up MLP kept packed; the model must supply the packed weight's deqscale and bias in "
               "the up slots (without --keep-packed-mlp it is split)")
NOT_SPLIT = "packed gate-up MLP not split"
RECENT = ("fields set that older atb_speed versions lack; check that yours declares them (with your headers on -I "
          "the verifier checks it)")


@dataclass
class ChangeLog:
    changes: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    #: sparse runs: sites quantized but not made sparse (no sparse precedent for their type), and why
    not_sparse: list[dict[str, str]] = field(default_factory=list)
    followups: list[Followup] = field(default_factory=list)
    scale_fields: list[ScaleField] = field(default_factory=list)
    flag_fields: list[FlagField] = field(default_factory=list)

    def change(self, op: str, **kw: Any) -> None:
        self.changes.append({"node": op, **kw})

    def skip(self, op: str, reason: str) -> None:
        self.skipped.append({"node": op, "reason": reason})

    def without_sparsity(self, op: str, reason: str) -> None:
        self.not_sparse.append({"node": op, "reason": reason})


def _copy_graph(lg: LayerGraph) -> LayerGraph:
    new = lg.copy()
    g = new.graph
    for _n, d in g.nodes(data=True):
        for k, v in list(d.items()):
            if isinstance(v, dict | list) and k != "variant":
                d[k] = copy.deepcopy(v)
    return new


def _contract(optype: OpType, opts: Options) -> tuple[str | None, dict[str, Any] | None, OpType]:
    """(skip reason, quant entry, effective type) for a linear-like op."""
    cat = catalogue()
    if optype.get("quantized") or optype.get("quant_aware"):
        return f"{optype.name} is already a quant type", None, optype
    upgrade = optype.get("upgrade")
    if upgrade:
        if not opts.upgrade_v1:
            return f"V1 type {optype.name} kept float (--no-upgrade)", None, optype
        target = cat.lookup(upgrade["type"])
        assert target is not None
        return None, target.get("quant"), target
    quant = optype.get("quant")
    if opts.qkv_style == "linear-quant" and optype.get("quant_linear_quant"):
        quant = optype.get("quant_linear_quant")
    if quant is None:
        reason = f"no quantization precedent for {optype.name or 'this op'} in hand-written quant layers; left float"
        return reason, None, optype
    if quant.get("opt_in") == "telechat" and not opts.telechat:
        return f"model-local type {optype.name} kept float (enable with --telechat)", None, optype
    return None, quant, optype


def quantize(lg: LayerGraph, opts: Options) -> tuple[LayerGraph, ChangeLog]:
    cat = catalogue()
    new = _copy_graph(lg)
    g = new.graph
    log = ChangeLog()
    placeholder = _placeholder(lg)
    # -- 1. linear-like sites and their contracts
    sites: dict[str, tuple[dict[str, Any], OpType, OpType]] = {}
    for op in lg.ops_with_role("linear", "parallel_linear", "mlp"):
        optype = cat.lookup(lg.param_type(op)) or OpType(lg.param_type(op), lg.role(op), {})
        reason, quant, eff = _contract(optype, opts)
        if reason:
            log.skip(op, reason)
            continue
        if not lg.site_tensors(op):
            log.skip(op, "its weight slots are not filled; nothing to quantize")
            continue
        if lg.op_attr(op, "optional_io"):
            log.skip(op, f"{_optional_io(lg, op)}; its slots are not fixed, left float")
            continue
        if _layer_param(lg, op) is None and _reads_layer_param(quant):
            log.skip(op, f"{_no_layer_param(lg, op)}; left float")
            continue
        stray = _unplaced_input(lg, op)
        if stray is not None:  # rewiring would leave a tensor the float layer feeds unread
            slot, t = stray
            log.skip(op, f"slot {slot} reads {t}, which the float layout of {optype.name} does not place; left "
                     "float so that no input goes unread")
            continue
        sites[op] = (quant, optype, eff)
    # -- 2. norms: quantized when every consumer of the output takes int8 (RmsNorm), or at least one
    #       does (LayerNorm, which keeps a float output for the others)
    quant_norm_out: dict[str, str] = {}  # consumer op -> int8 tensor it reads
    folds: dict[str, tuple[str, str, str]] = {}  # norm -> (beta ADD op, beta tensor, ADD output)
    norm_points: list[tuple[str, dict[str, Any], str]] = []
    for op in lg.ops_with_role("norm"):
        optype = cat.lookup(lg.param_type(op))
        quant = optype.get("quant") if optype else None
        outs = lg.outputs_of(op)
        if quant is None or not outs:
            continue
        if lg.op_attr(op, "optional_io"):
            log.skip(op, f"{_optional_io(lg, op)}; norm left float")
            continue
        if _layer_param(lg, op) is None and _reads_layer_param(quant):
            log.skip(op, f"{_no_layer_param(lg, op)}; norm left float")
            continue
        out = outs[0]
        fold = None if quant.get("extra_output") else _beta_add(lg, op)
        if fold is not None:  # anti-outlier: norm -> ADD(beta); the quant norm takes the beta itself
            out = fold[2]
        consumers = lg.consumers(out)
        takers = [c for c in consumers if c in sites and lg.inputs_of(c)[:1] == [out]]
        if not takers:
            continue
        if not quant.get("extra_output") and len(takers) != len(consumers):
            others = ", ".join(c for c in consumers if c not in takers)
            log.skip(op, f"output {out} also feeds {others}, which needs float input; norm left float")
            continue
        norm_points.append((op, quant, out))
        if fold is not None:
            folds[op] = fold
        for c in takers:
            quant_norm_out[c] = out
    # plain linears (int8-input contracts) must be fed by a quant norm
    for op in list(sites):
        quant, _, _ = sites[op]
        if quant.get("needs_int8_input") and op not in quant_norm_out:
            log.skip(op, "plain linear not fed by a quantized norm; no precedent adds a quantize step, left float")
            del sites[op]
    # a norm whose takers all got dropped is not a quant point after all
    norm_points = [(op, q, out) for op, q, out in norm_points
                   if any(c in sites for c in lg.consumers(out) if quant_norm_out.get(c) == out)]
    for c in list(quant_norm_out):
        if c not in sites:
            del quant_norm_out[c]
    # -- 3. scale fields: one pair per activation-quant point
    labels: list[tuple[str, str]] = []
    for op, _, out in norm_points:
        roles = {lg.role(c) for c in lg.consumers(out) if c in sites}
        labels.append((op, STANDARD_LABELS["norm->mlp" if "mlp" in roles else
                                            "norm->linear" if "linear" in roles else "norm->parallel_linear"]))
    for op in sites:
        if op in quant_norm_out:
            if lg.role(op) == "mlp":
                labels.append((op + "#down", STANDARD_LABELS["mlp_down"]))
            continue
        if lg.role(op) == "parallel_linear":
            labels.append((op, STANDARD_LABELS["parallel_linear"]))
        elif lg.role(op) == "mlp":
            labels.append((op, STANDARD_LABELS["mlp_up"]))
            labels.append((op + "#down", STANDARD_LABELS["mlp_down"]))
    fields_by_point = _scale_fields(lg, labels, opts, log)
    # -- 4. tensors: deqscale / bias / index per site, beta per RmsNorm, int8 output per LayerNorm
    in_names = set(lg.tensors())
    beta_name = None
    # names follow the layer's own spelling: enum entries IN_X_DEQSCALE, tensor-name strings in_x_deqscale
    lower = sum(t.islower() for t in in_names) > len(in_names) / 2

    def fresh(name: str) -> str:
        name = name.lower() if lower else name
        # `X_BIAS` taken by a float tensor (a bias another op adds): the int32 one is `X_QUANT_BIAS`
        stem, _, word = name.rpartition("_")
        if name in in_names and stem and word.upper() in ("BIAS", "DEQSCALE", "INDEX", "BETA"):
            name = f"{stem}_{'quant' if lower else 'QUANT'}_{word}"
        base = name
        k = 2
        while name in in_names:
            name = f"{base}_{k}"
            k += 1
        in_names.add(name)
        return name

    def add_in(name: str, anchor: str, rank: int, qrole: str) -> str:
        name = fresh(name)
        base = g.nodes[anchor]["index"] if anchor in g else 0
        add_tensor(g, name, "weight", base + rank / 100.0, added=True, anchor=anchor, quant_role=qrole)
        return name

    int8_out: dict[str, str] = {}
    per_norm_beta: dict[str, str] = {}  # norm gamma -> its own beta (--beta per-norm)
    style = _style(sites)
    beta_mode = opts.beta or style.get("beta", "shared")
    beta_template = style.get("beta_name", "{stem}_BETA")
    for op, quant, out in norm_points:
        fields = _fill(quant["fields"], {**fields_by_point[op], "layer_param": _layer_param(lg, op)})
        plan = Plan(fields=fields, slots=tuple(quant["slots"]))
        ins = lg.inputs_of(op)
        outs = lg.outputs_of(op)
        new_ins, new_outs = list(ins), list(outs)
        added: list[str] = []
        if quant.get("extra_output"):
            q = int8_out.get(out)
            if q is None:  # one int8 output per float output, shared by branch variants
                q = int8_out[out] = fresh(f"{out}_QUANT")
                add_tensor(g, q, "intermediate", g.nodes[out]["index"] + 0.5, added=True, anchor=out,
                           quant_role="int8_out")
                added.append(q)
            new_outs = [*outs, q]
            for c in lg.consumers(out):
                if quant_norm_out.get(c) == out:
                    quant_norm_out[c] = q
        elif op in folds:
            add_op, beta, add_out = folds[op]
            new_ins = [*ins[:2], beta]
            new_outs = [add_out, *outs[1:]]
            g.remove_node(add_op)
            g.remove_node(outs[0])
            new.meta.setdefault("removed_ops", []).append(add_op)
            new.meta.setdefault("removed_tensors", []).append(outs[0])
            log.change(add_op, removed=True, reason=f"anti-outlier beta {beta} folded into {op}")
        elif len(ins) < 3 and beta_mode == "per-norm":
            gamma = ins[1]
            beta = per_norm_beta.get(gamma)
            if beta is None:  # branch variants of one norm share its beta
                name = beta_template.format(stem=_WEIGHT_SUFFIX.sub("", gamma))
                beta = per_norm_beta[gamma] = add_in(name, gamma, 1, "beta")
                added.append(beta)
            new_ins = [*ins[:2], beta]
        elif len(ins) < 3:
            if beta_name is None:
                anchor = placeholder if placeholder and placeholder in g else _last_input(lg)
                beta_name = fresh("IN_BETA")
                base = g.nodes[anchor]["index"]
                before = anchor == placeholder
                add_tensor(g, beta_name, "weight", base - 0.5 if before else base + 0.5, added=True,
                           anchor=anchor, before=before, quant_role="beta")
                added.append(beta_name)
            new_ins = [*ins[:2], beta_name]
        _rewire(g, op, new_ins, new_outs)
        g.nodes[op].update(changed=True, plan=plan)
        log.change(op, old_inputs=ins, new_inputs=new_ins, old_outputs=outs, new_outputs=new_outs,
                   fields=[f"{p} = {v}" for p, v in fields], added=added)
    per_weight: dict[str, dict[str, str | None]] = {}  # weight -> its bias / deqscale / index tensors
    split: dict[str, tuple[str, str, str]] = {}  # packed gate-up weight -> (it, up weight, gate weight)
    for op, (quant, optype, eff) in sites.items():
        contract = quant
        if opts.sparse:
            sparse = eff.get("sparse")
            if sparse is None:
                log.without_sparsity(op, f"no sparse precedent for {eff.name}; quantized without sparsity")
            else:
                contract = {**quant, **sparse, "fields": [*quant.get("fields", []), *sparse.get("fields", [])]}
                if "type" in sparse:
                    contract["fields"] = list(sparse.get("fields", []))
        ins = lg.inputs_of(op)
        site_t = lg.site_tensors(op)
        by_slot = {v: k for k, v in site_t.items()}  # "w_up" -> tensor
        x_in = quant_norm_out.get(op, ins[0])
        fill: dict[str, str] = {"x": x_in}
        added: list[str] = []
        # where each weight's new tensors go in the enum: (entry they follow, rank offset among its followers)
        place: dict[str, tuple[str, int]] = {}
        unpacked = None
        if opts.unpack_mlp and _is_packed(lg, op):
            unpacked = split.get(by_slot["w_up"]) or _unpack(lg, op, by_slot, log)
            if unpacked is not None:
                packed, up, gate = unpacked
                if packed not in split:  # first variant of the site: the two weights replace the packed one
                    split[packed] = unpacked
                    add_tensor(g, up, "weight", g.nodes[packed]["index"], added=True, anchor=packed,
                               replaces=packed, quant_role="weight")
                    add_tensor(g, gate, "weight", g.nodes[packed]["index"] + 0.04, added=True, anchor=packed,
                               quant_role="weight")
                    in_names.update((up, gate))
                    added += [up, gate]
                by_slot["w_up"], by_slot["w_gate"] = up, gate
                place = {up: (packed, 0), gate: (packed, 4)}
        suffixes = sorted({s[2:] for s in by_slot if s.startswith("w_")}, key=["", "up", "gate", "down"].index)
        for s in suffixes:
            w = by_slot[f"w_{s}"]
            fill[f"w_{s}"] = w
            wants_index = any(sl == f"i_{s}" for sl in contract["slots"])
            if w in per_weight:  # another branch variant of the same site: same tensors
                got = per_weight[w]
                fill.update({f"{k}_{s}": v for k, v in got.items() if v and (k != "i" or wants_index)})
                continue
            stem = _WEIGHT_SUFFIX.sub("", w)
            at, offset = place.get(w, (w, 0))
            if f"b_{s}" in by_slot:
                bias = by_slot[f"b_{s}"]
                fill[f"b_{s}"] = bias
                anchor, rank = bias, 1
            else:
                fill[f"b_{s}"] = add_in(f"{stem}_BIAS", at, offset + 2, "bias")
                added.append(fill[f"b_{s}"])
                anchor, rank = at, offset + 1
            fill[f"d_{s}"] = add_in(f"{stem}_DEQSCALE", anchor, rank, "deqscale")
            added.append(fill[f"d_{s}"])
            if wants_index:
                fill[f"i_{s}"] = add_in(f"{stem}_INDEX", anchor if anchor != at else at, offset + 3, "index")
                added.append(fill[f"i_{s}"])
            per_weight[w] = {"b": fill[f"b_{s}"], "d": fill[f"d_{s}"], "i": fill.get(f"i_{s}")}
        unfilled = [sl for sl in contract["slots"] if sl not in fill]
        holder = placeholder
        if unfilled and holder is None:  # declared only when some slot reads it
            holder = placeholder = _ensure_placeholder(lg, g, fresh)
            added.append(holder)
        new_ins = [fill.get(sl, holder) for sl in contract["slots"]]
        points = fields_by_point.get(op, {})
        down = fields_by_point.get(op + "#down", {})
        values = {**points, **{f"down_{k}": v for k, v in down.items()}, "layer_param": _layer_param(lg, op)}
        fields = list(contract.get("fields", []))
        if lg.role(op) == "mlp" and op not in quant_norm_out and quant.get("self_quant_fields"):
            fields = _merge(fields, quant["self_quant_fields"])
        if lg.role(op) == "parallel_linear" and op in quant_norm_out:
            fields = [(p, "false" if p == "quantParam.isQuantOp" else v) for p, v in fields
                      if not p.startswith(("quantParam.inputScale", "quantParam.inputOffset"))]
        if lg.role(op) == "mlp" and "w_gate" not in by_slot:
            fields = [(p, v) for p, v in fields if not p.startswith("quantGateParam")]
        plan = Plan(fields=_fill(fields, values), type=contract.get("type"), init=contract.get("init"),
                    slots=tuple(sl if sl in fill else "holder" for sl in contract["slots"]),
                    keep_fields=contract.get("keep_fields"))
        only = quant.get("only_change_fields") or []
        plan.only_if_set = [p for p, _ in plan.fields if p in only]
        if eff is not optype:  # V1 upgrade
            up = optype.get("upgrade")
            plan.type, plan.callee, plan.renames = eff.name, up["callee"], dict(up.get("field_renames", {}))
            plan.include, plan.old_include = up.get("include"), up.get("old_include")
            members = set(eff.get("members", []))
            float_paths = [a.path for a in param_assigns(lg, op)]
            plan.dropped = sorted({p for p in float_paths if members and p.split(".")[0] not in plan.renames
                                   and p.split(".")[0] not in members})
            if plan.dropped:
                plan.keep_fields = [p for p in float_paths if p not in plan.dropped]
                log.followups.append(Followup(DROPPED, f"{op}: {eff.name} has no field "
                                                       f"{', '.join(plan.dropped)}"))
            log.followups.append(Followup(UPGRADED, f"{op}: {optype.name} -> {eff.name}"))
        if unpacked is not None:
            plan.fields.append(("isPack", "false"))
            plan.only_if_set.append("isPack")  # false is the default: only the float's `true` is edited
            log.followups.append(Followup(SPLIT, f"{op}: {unpacked[0]} -> {unpacked[1]}, {unpacked[2]}"))
        elif _is_packed(lg, op):
            plan.fields = [(p, v) for p, v in plan.fields if p not in ("isPack", "quantGateParam.quantType",
                                                                      "quantGateParam.isQuantOp")]
            log.followups.append(Followup(KEPT_PACKED, op))
        recent = set(eff.get("recent_members", []))
        for path, _ in plan.fields:
            if path.split(".")[0] in recent:
                log.followups.append(Followup(RECENT, f"{op}: {eff.name.rsplit('::', 1)[-1]}.{path}"))
        _rewire(g, op, new_ins, lg.outputs_of(op))
        g.nodes[op].update(changed=True, plan=plan)
        if plan.type:
            g.nodes[op]["param_type"] = plan.type
        log.change(op, old_inputs=ins, new_inputs=new_ins, fields=[f"{p} = {v}" for p, v in plan.fields],
                   type=plan.type, added=added, dropped_fields=plan.dropped)
    for packed in split:  # its enum entry now names the up weight
        g.remove_node(packed)
    for sk in log.skipped:  # what a reviewer looks for: sites the rewrite did not quantize, and why
        if sk["node"] in g and not g.nodes[sk["node"]].get("changed"):
            g.nodes[sk["node"]]["left_float"] = sk["reason"]
    if opts.float_fallback:
        new, fb = float_fallback(lg, new, log.scale_fields, opts.float_fallback)
        log.flag_fields = fb.flags
        log.followups += [Followup(kind, detail) for kind, detail in fb.notes]
        new.meta["fallback"] = fb
    new.meta["scale_fields"] = log.scale_fields
    new.meta["mode"] = "sparse" if opts.sparse else "quant"
    return new, log


def _style(sites: dict[str, tuple[dict[str, Any], OpType, OpType]]) -> dict[str, Any]:
    """The layer-wide choices of the family whose types the layer quantizes (one family, else none)."""
    names = {quant.get("style") for quant, _, _ in sites.values()} - {None}
    return catalogue().styles.get(names.pop(), {}) if len(names) == 1 else {}


def _beta_add(lg: LayerGraph, norm: str) -> tuple[str, str, str] | None:
    """The anti-outlier idiom: the norm's only consumer is an ELEWISE_ADD of an input tensor (the beta).
    Returns (add op, beta, add output)."""
    outs = lg.outputs_of(norm)
    if len(outs) != 1 or len(lg.inputs_of(norm)) != 2:
        return None
    consumers = lg.consumers(outs[0])
    if len(consumers) != 1:
        return None
    add = consumers[0]
    if lg.role(add) != "elementwise" or lg.condition(add) or lg.condition(norm):
        return None
    ins = lg.inputs_of(add)
    add_outs = lg.outputs_of(add)
    if len(ins) != 2 or len(add_outs) != 1 or outs[0] not in ins:
        return None
    beta = ins[1] if ins[0] == outs[0] else ins[0]
    if lg.tensor_kind(beta) not in ("input", "weight") or not _elewise_is_add(lg, add):
        return None
    return add, beta, add_outs[0]


def _elewise_is_add(lg: LayerGraph, op: str) -> bool:
    variant = lg.graph.nodes[op]["variant"]
    param = variant.create.param if variant.create is not None else None
    if param is None:
        return False
    values = [a.value for a in param_assigns(lg, op) if a.path == "elewiseType"]
    if param.init:
        values.append(param.init)
    return any("ELEWISE_ADD" in v for v in values)


def _unpack(lg: LayerGraph, op: str, by_slot: dict[str, str], log: ChangeLog) -> tuple[str, str, str] | None:
    """(packed weight, up weight, gate weight) names for splitting the op's packed gate-up weight, or None
    (with the reason in the log) when it stays packed."""
    packed = by_slot["w_up"]
    node = lg.graph.nodes[op]["node"]
    others = [c for c in lg.consumers(packed) if lg.graph.nodes[c]["node"] != node]
    if "b_up" in by_slot:
        log.followups.append(Followup(NOT_SPLIT, f"{op}: it has a packed bias {by_slot['b_up']}"))
        return None
    if others:
        log.followups.append(Followup(NOT_SPLIT, f"{op}: {packed} is also read by {', '.join(others)}"))
        return None
    base = re.sub(r"_?(GATE_?UP|UP_?GATE)$", "", _WEIGHT_SUFFIX.sub("", packed))
    taken = set(lg.tensors()) | (lg.source.identifiers if lg.source is not None else set())
    names = []
    for part in ("UP", "GATE"):
        name, k = f"{base}_{part}_WEIGHT", 2
        while name in taken:
            name, k = f"{base}_{part}_WEIGHT_{k}", k + 1
        names.append(name)
    return packed, names[0], names[1]


def _optional_io(lg: LayerGraph, op: str) -> str:
    """What an op reads or writes only under a further branch (a push inside an ``if``), in one phrase."""
    opt = lg.optional_inputs(op)
    if not opt:
        return "it writes some outputs only under further branches"
    name, when = next(iter(opt.items()))
    more = f" (and {len(opt) - 1} more)" if len(opt) > 1 else ""
    return f"it reads {name} only when {when}{more}"


def _unplaced_input(lg: LayerGraph, op: str) -> tuple[int, str] | None:
    """The first (slot, tensor) past the activation that is neither a placed weight / bias of the op's float
    layout nor the placeholder: a tensor the contract would not carry over."""
    placed = lg.site_tensors(op)
    for slot, t in enumerate(lg.inputs_of(op)):
        if slot and t not in placed and lg.tensor_kind(t) != "placeholder":
            return slot, t
    return None


def _merge(base: list, extra: list) -> list:
    out = [list(x) for x in base]
    for p, v in extra:
        for item in out:
            if item[0] == p:
                item[1] = v
                break
        else:
            out.append([p, v])
    return [tuple(x) for x in out]


def _fill(fields: list, values: dict[str, str | None]) -> list[tuple[str, str]]:
    out = []
    for p, v in fields:
        try:
            out.append((p, v.format(**values)))
        except KeyError:
            continue  # a scale the point does not have (e.g. no down point): field not set
    assert "None." not in "".join(v for _, v in out), "a site without the layer param was not left float"
    return out


def _layer_param(lg: LayerGraph, op: str) -> str | None:
    """How the function that sets the op's param names the layer param, or None when it has none."""
    create = lg.graph.nodes[op]["variant"].create
    return create.param.layer_param if create is not None and create.param is not None else None


def _reads_layer_param(quant: dict[str, Any]) -> bool:
    return any("{layer_param}" in v for key in ("fields", "self_quant_fields") for _, v in quant.get(key, []))


def _no_layer_param(lg: LayerGraph, op: str) -> str:
    create = lg.graph.nodes[op]["variant"].create
    where = (f"is set in {create.param.function}, which is not given the layer param"
             if create is not None and create.param is not None else "is no local variable")
    return f"its param {where}, so it cannot read an activation scale"


def _scale_fields(lg: LayerGraph, labels: list[tuple[str, str]], opts: Options, log: ChangeLog) -> dict:
    model = lg.source
    existing = set(model.identifiers) if model is not None else set()  # a new field must not clash
    counts: dict[str, int] = {}
    for _, label in labels:
        counts[label] = counts.get(label, 0) + 1
    out: dict[str, dict[str, str]] = {}
    used = set(existing)
    for point, label in labels:
        op = point.split("#")[0]
        base = opts.scale_names.get(point) or opts.scale_names.get(op if "#" not in point else point)
        base = base or opts.scale_names.get(label) if counts[label] == 1 else base
        if not base:
            base = label if counts[label] == 1 else re.sub(r"Node$", "", op) + ("Down" if "#down" in point else "")
        scale, offset = f"{base}InputScale", f"{base}InputOffset"
        k = 2
        while scale in used or offset in used:
            scale, offset = f"{base}{k}InputScale", f"{base}{k}InputOffset"
            k += 1
        used.update((scale, offset))
        out[point] = {"scale": scale, "offset": offset}
        log.scale_fields.append(ScaleField(point, label, scale, offset))
    return out


def _rewire(g, op: str, inputs: list[str], outputs: list[str]) -> None:
    cond = g.nodes[op].get("condition", "")
    for u, v, k in list(g.in_edges(op, keys=True)):
        g.remove_edge(u, v, k)
    for u, v, k in list(g.out_edges(op, keys=True)):
        g.remove_edge(u, v, k)
    for slot, t in enumerate(inputs):
        g.add_edge(t, op, slot=slot, condition=cond)
    for slot, t in enumerate(outputs):
        g.add_edge(op, t, slot=slot, condition=cond)


def _placeholder(lg: LayerGraph) -> str | None:
    used = [t for t in lg.tensors() if lg.tensor_kind(t) == "placeholder" and lg.consumers(t)]
    if used:
        return used[0]
    declared = lg.tensors_of_kind("placeholder")
    return declared[0] if declared else None


def _last_input(lg: LayerGraph) -> str:
    ins = [t for t in lg.tensors() if lg.tensor_kind(t) in ("input", "weight", "placeholder")]
    return ins[-1]


def _ensure_placeholder(lg: LayerGraph, g, fresh) -> str:
    anchor = _last_input(lg)
    name = fresh("IN_HOLDER")
    add_tensor(g, name, "placeholder", g.nodes[anchor]["index"] + 0.9, added=True, anchor=anchor,
               quant_role="holder")
    return name


def _is_packed(lg: LayerGraph, op: str) -> bool:
    return lg.role(op) == "mlp" and is_packed(lg, op)
