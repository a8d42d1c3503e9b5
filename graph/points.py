"""Activation-quant points: which norms become quant norms, which ops quantize their own input, the scale
fields each point reads, and the anti-outlier adds a quant norm absorbs."""

from __future__ import annotations

from .build import param_assigns
from .catalogue import catalogue
from .layer_graph import LayerGraph
from .naming import first_free, node_stem
from .plan import NewField, SiteNote
from .rewrite import Point, Rewrite
from .sites import no_layer_param, optional_io, reads_layer_param


def quant_points(rw: Rewrite) -> None:
    """A norm is quantized when every consumer of its output takes int8 (RmsNorm), or at least one does
    (LayerNorm, which keeps a float output for the others); a site that reads only int8 needs such a norm."""
    lg = rw.float
    for op in lg.ops_with_role("norm"):
        _norm_point(rw, op)
    for op, site in list(rw.sites.items()):  # plain linears (int8-input contracts) must be fed by a quant norm
        if site.contract.needs_int8_input and op not in rw.int8_feeds:
            rw.note(left_float=(SiteNote(op, "plain linear not fed by a quantized norm; no precedent adds a "
                                             "quantize step, left float"),))
            del rw.sites[op]
    for c in list(rw.int8_feeds):
        if c not in rw.sites:
            del rw.int8_feeds[c]
    # a norm whose takers all got dropped is not a quant point after all
    for op, (_, out) in list(rw.norms.items()):
        if not any(c in rw.sites for c in lg.consumers(out) if rw.int8_feeds.get(c) == out):
            del rw.norms[op]
            rw.folds.pop(op, None)


def _norm_point(rw: Rewrite, op: str) -> None:
    lg = rw.float
    entry = catalogue().entry(lg.param_type(op))
    contract = entry.quant if entry else None
    outs = lg.outputs_of(op)
    if contract is None or not outs:
        return
    if lg.op_attr(op, "optional_io"):
        rw.note(left_float=(SiteNote(op, f"{optional_io(lg, op)}; norm left float"),))
        return
    if rw.layer_param(op) is None and reads_layer_param(contract):
        rw.note(left_float=(SiteNote(op, f"{no_layer_param(lg, op)}; norm left float"),))
        return
    out = outs[0]
    fold = None if contract.extra_output else _beta_add(lg, op)
    if fold is not None:  # anti-outlier: norm -> ADD(beta); the quant norm takes the beta itself
        out = fold[2]
    consumers = lg.consumers(out)
    takers = [c for c in consumers if c in rw.sites and lg.inputs_of(c)[:1] == [out]]
    if not takers:
        return
    if not contract.extra_output and len(takers) != len(consumers):
        others = ", ".join(c for c in consumers if c not in takers)
        rw.note(left_float=(SiteNote(op, f"output {out} also feeds {others}, which needs float input; norm left "
                                         "float"),))
        return
    rw.norms[op] = (contract, out)
    if fold is not None:
        rw.folds[op] = fold
    for c in takers:
        rw.int8_feeds[c] = out


def _beta_add(lg: LayerGraph, norm: str) -> tuple[str, str, str] | None:
    """The anti-outlier idiom: the norm's only consumer is an add (the catalogue says which elementwise ops
    fold into a norm) of an input tensor, the beta. Returns (add op, beta, add output)."""
    outs = lg.outputs_of(norm)
    if len(outs) != 1 or len(lg.inputs_of(norm)) != 2:
        return None
    consumers = lg.consumers(outs[0])
    if len(consumers) != 1:
        return None
    add = consumers[0]
    if lg.condition(add) or lg.condition(norm) or not _folds(lg, add):
        return None
    ins, add_outs = lg.inputs_of(add), lg.outputs_of(add)
    if len(ins) != 2 or len(add_outs) != 1 or outs[0] not in ins:
        return None
    beta = ins[1] if ins[0] == outs[0] else ins[0]
    if lg.tensor_kind(beta) not in ("input", "weight"):
        return None
    return add, beta, add_outs[0]


def _folds(lg: LayerGraph, op: str) -> bool:
    entry = catalogue().entry(lg.param_type(op))
    fold = entry.folds_into_norm if entry else None
    param = lg.graph.nodes[op]["variant"].param
    if fold is None or param is None:
        return False
    values = [a.value for a in param_assigns(lg, op) if a.path == fold.field]
    if param.init:
        values.append(param.init)
    return any(fold.value in v for v in values)


def point_labels(rw: Rewrite) -> list[tuple[str, str]]:
    """(point, label) of every activation-quant point, in the order their fields are declared."""
    lg, labels = rw.float, dict(rw.conventions.point_labels)
    out: list[tuple[str, str]] = []
    for op, (_, norm_out) in rw.norms.items():
        roles = {lg.role(c) for c in lg.consumers(norm_out) if c in rw.sites}
        kind = "norm->mlp" if "mlp" in roles else "norm->linear" if "linear" in roles else "norm->parallel_linear"
        out.append((op, labels[kind]))
    for op in rw.sites:
        if op in rw.int8_feeds:
            if lg.role(op) == "mlp":
                out.append((op + "#down", labels["mlp_down"]))
            continue
        if lg.role(op) == "parallel_linear":
            out.append((op, labels["parallel_linear"]))
        elif lg.role(op) == "mlp":
            out += [(op, labels["mlp_up"]), (op + "#down", labels["mlp_down"])]
    return out


def name_scale_fields(rw: Rewrite) -> None:
    """One float scale and one int offset field per point, named after the point's label where the layer has
    one point of that kind, else after its op, unless the user named it (--scale-names)."""
    conv = rw.conventions
    labels = point_labels(rw)
    counts: dict[str, int] = {}
    for _, label in labels:
        counts[label] = counts.get(label, 0) + 1
    used = set(rw.float.source.identifiers) if rw.float.source is not None else set()  # no clash
    names = rw.opts.scale_names
    for point, label in labels:
        op = point.split("#")[0]
        base = names.get(point) or names.get(op if "#" not in point else point)
        base = base or names.get(label) if counts[label] == 1 else base
        if not base:
            down = conv.down_word if "#down" in point else ""
            base = label if counts[label] == 1 else node_stem(op, conv.node_suffix) + down
        base = first_free(lambda k, base=base: base + k, lambda b: conv.scale_field.format(base=b) in used
                          or conv.offset_field.format(base=b) in used)
        scale, offset = conv.scale_field.format(base=base), conv.offset_field.format(base=base)
        used.update((scale, offset))
        rw.points[point] = Point(point, label, scale, offset)
        rw.note(fields=(NewField(scale, "float", "1", point, label, f"activation scale of {point}"),
                        NewField(offset, "int", "0", point, label, f"activation offset of {point}")))


def fold_anti_outlier(rw: Rewrite) -> None:
    """The quant norm adds the beta itself: the add after it and the norm's own output go, and so does the
    add's param where only folded adds were created from it."""
    removed = {add_op for add_op, _, _ in rw.folds.values()}
    params = [rw.float.graph.nodes[o]["variant"].param for o in rw.float.ops()]
    gone_params: list[str] = []
    seen: set[int] = set()
    for op, (add_op, beta, add_out) in rw.folds.items():
        norm_out, *more = rw.float.outputs_of(op)
        rw.graph.remove(add_op, norm_out)
        rw.graph.rewire(op, rw.float.inputs_of(op), [add_out, *more])  # the norm writes what the add wrote
        rw.note(removed_ops=(SiteNote(add_op, f"anti-outlier beta {beta} folded into {op}"),),
                removed_tensors=(norm_out,))
        param = rw.float.graph.nodes[add_op]["variant"].param
        if param is None or id(param) in seen:
            continue
        seen.add(id(param))
        users = {rw.float.graph.nodes[o]["node"] for o, p in zip(rw.float.ops(), params, strict=True) if p is param}
        if users <= {rw.float.graph.nodes[a]["node"] for a in removed}:
            gone_params.append(add_op)
    rw.note(removed_params=tuple(gone_params))
