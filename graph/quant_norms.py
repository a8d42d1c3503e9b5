"""Quant norms: each norm that is a quant point gets its quant fields, and a beta (RmsNorm: one shared by every
quant norm, or one per norm as the layer's family does it; a folded anti-outlier beta) or an int8 output
beside its float one (LayerNorm)."""

from __future__ import annotations

import re

from .catalogue import Contract, Style, catalogue
from .layer_graph import IN_KINDS
from .naming import first_free
from .plan import FieldSet, NewTensor, OpChange
from .rewrite import Rewrite


def fresh_name(rw: Rewrite, name: str) -> str:
    """A tensor name no tensor has, spelled as the layer spells its tensors (enum entries IN_X_DEQSCALE,
    tensor-name strings in_x_deqscale); ``X_BIAS`` taken by a float tensor gives ``X_QUANT_BIAS``."""
    conv = rw.conventions
    lower = rw.lower_names
    name = name.lower() if lower else name
    words = {v.rsplit("_", 1)[-1].upper() for _, v in conv.added_names}
    stem, _, word = name.rpartition("_")
    if name in rw.names and stem and word.upper() in words:
        infix = conv.taken_infix.lower() if lower else conv.taken_infix
        name = f"{stem}_{infix}_{word}"
    base = name
    name = first_free(lambda k: f"{base}_{k}" if k else base, rw.names.__contains__)
    rw.names.add(name)
    return name


def add_input(rw: Rewrite, name: str, anchor: str, rank: int, role: str, *, before: bool = False,
              kind: str = "weight", replaces: str | None = None, fresh: bool = True) -> str:
    """A new input declared next to ``anchor``, in the graph and in the plan."""
    name = fresh_name(rw, name) if fresh else name
    offset = -rank / 100.0 if before else rank / 100.0
    rw.graph.add_tensor(name, kind, near=anchor, offset=offset, quant_role=role, anchor=anchor, before=before,
                        **({"replaces": replaces} if replaces else {}))
    rw.note(tensors=(NewTensor(name, kind, role, anchor, rank, before, replaces),))
    return name


def fill(fields: tuple[tuple[str, str], ...], values: dict[str, str | None]) -> tuple[FieldSet, ...]:
    """The contract's field values with the point's scale fields and the layer param filled in; a field
    that names a scale the point does not have (no down point) is not set."""
    out = []
    for path, value in fields:
        try:
            out.append(FieldSet(path, value.format(**values)))
        except KeyError:
            continue
    assert "None." not in "".join(f.value for f in out), "a site without the layer param was not left float"
    return tuple(out)


def quantize_norms(rw: Rewrite) -> None:
    lg = rw.float
    style = _style(rw)
    beta_mode = rw.opts.beta or style.beta or "shared"
    template = style.beta_name or dict(rw.conventions.added_names)["beta"]
    for op, (contract, out) in rw.norms.items():
        ins, outs = lg.inputs_of(op), lg.outputs_of(op)
        new_ins, new_outs = list(ins), list(outs)
        if contract.extra_output:
            q = _int8_output(rw, out)
            new_outs = [*outs, q]
            for c in lg.consumers(out):
                if rw.int8_feeds.get(c) == out:
                    rw.int8_feeds[c] = q
        elif op in rw.folds:
            _, beta, add_out = rw.folds[op]
            new_ins, new_outs = [*ins[:2], beta], [add_out, *outs[1:]]
        elif len(ins) < 3 and beta_mode == "per-norm":
            new_ins = [*ins[:2], _own_beta(rw, ins[1], template)]
        elif len(ins) < 3:
            new_ins = [*ins[:2], _shared_beta(rw)]
        point = rw.points[op]
        values = {"scale": point.scale, "offset": point.offset, "layer_param": rw.layer_param(op)}
        change = OpChange(op, lg.graph.nodes[op]["node"], fill(contract.fields, values), slots=contract.slots,
                          inputs=tuple(new_ins), outputs=tuple(new_outs))
        rw.graph.rewire(op, new_ins, new_outs)
        rw.graph.mark(op, changed=True, change=change)
        rw.note(ops=(change,))


def _int8_output(rw: Rewrite, out: str) -> str:
    """One int8 output per float output, shared by branch variants of the norm."""
    if out not in rw.int8_outputs:
        name = fresh_name(rw, rw.conventions.int8_output.format(name=out))
        rw.graph.add_tensor(name, "intermediate", near=out, offset=0.5, quant_role="int8_out", anchor=out)
        rw.note(tensors=(NewTensor(name, "intermediate", "int8_out", out, 50),))
        rw.int8_outputs[out] = name
    return rw.int8_outputs[out]


def _own_beta(rw: Rewrite, gamma: str, template: str) -> str:
    """A beta right after the norm's weight, named after it; branch variants of one norm share it."""
    if gamma not in rw.betas:
        rw.betas[gamma] = add_input(rw, template.format(stem=weight_stem(rw, gamma)), gamma, 1, "beta")
    return rw.betas[gamma]


def _shared_beta(rw: Rewrite) -> str:
    """The one beta every quant RmsNorm shares: right before the placeholder, else after the last input."""
    if rw.shared_beta is None:
        holder = placeholder(rw)
        if holder is not None and holder in rw.graph.graph:
            rw.shared_beta = add_input(rw, rw.conventions.shared_beta, holder, 50, "beta", before=True)
        else:
            rw.shared_beta = add_input(rw, rw.conventions.shared_beta, last_input(rw), 50, "beta")
    return rw.shared_beta


def weight_stem(rw: Rewrite, weight: str) -> str:
    """A weight's name without what ends weight names (``IN_QKV_WEIGHT`` -> ``IN_QKV``)."""
    return re.sub(rw.conventions.weight_suffix, "", weight)


def placeholder(rw: Rewrite) -> str | None:
    """The layer's placeholder input (one some op reads, else one declared), or None."""
    lg = rw.float
    used = [t for t in lg.tensors() if lg.tensor_kind(t) == "placeholder" and lg.consumers(t)]
    if used:
        return used[0]
    declared = lg.tensors_of_kind("placeholder")
    return declared[0] if declared else None


def last_input(rw: Rewrite) -> str:
    lg = rw.float
    return [t for t in lg.tensors() if lg.tensor_kind(t) in IN_KINDS][-1]


def _style(rw: Rewrite) -> Style:
    """The layer-wide choices of the family whose types the layer quantizes (one family, else none)."""
    names = {site.contract.style for site in rw.sites.values()} - {None}
    return catalogue().styles.get(names.pop(), Style()) if len(names) == 1 else Style()


__all__ = ["Contract", "add_input", "fill", "fresh_name", "last_input", "placeholder", "quantize_norms",
           "weight_stem"]
