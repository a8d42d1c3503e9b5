"""Which linear-like ops the rewrite quantizes, and with which contract (and which also get sparse)."""

from __future__ import annotations

import dataclasses

from .catalogue import Contract, OpEntry, catalogue
from .layer_graph import LINEAR_ROLES, LayerGraph
from .plan import SiteNote
from .rewrite import Options, Rewrite, Site


def select_sites(rw: Rewrite) -> None:
    """Each linear-like op that has a contract and whose float layout the contract can carry over."""
    lg = rw.float
    cat = catalogue()
    for op in lg.ops_with_role(*LINEAR_ROLES):
        entry = cat.entry(lg.param_type(op))
        reason, contract, target = _contract(lg.param_type(op), entry, rw.opts)
        reason = reason or _cannot_rewire(rw, op, contract)
        if reason:
            rw.note(left_float=(SiteNote(op, reason),))
            continue
        rw.sites[op] = Site(op, contract, entry, target)


def _contract(name: str, entry: OpEntry | None, opts: Options) -> tuple[str, Contract | None, OpEntry | None]:
    """(why the op stays float, or "") with the contract and the type the op takes."""
    if entry is None:
        return f"no quantization precedent for {name or 'this op'} in hand-written quant layers; left float", None, None
    if entry.quantized or entry.quant_aware:
        return f"{name} is already a quant type", None, entry
    if entry.upgrade is not None:
        if not opts.upgrade_v1:
            return f"V1 type {name} kept float (--no-upgrade)", None, entry
        target = catalogue().types[entry.upgrade.type]
        return "", target.quant, target
    quant = entry.quant_linear_quant if opts.qkv_style == "linear-quant" and entry.quant_linear_quant else entry.quant
    if quant is None:
        return f"no quantization precedent for {name} in hand-written quant layers; left float", None, entry
    if quant.opt_in is not None and not getattr(opts, quant.opt_in, True):
        return f"model-local type {name} kept float (enable with --{quant.opt_in})", None, entry
    return "", quant, entry


def _cannot_rewire(rw: Rewrite, op: str, contract: Contract | None) -> str:
    lg = rw.float
    if contract is None:
        return ""
    if not lg.site_tensors(op):
        return "its weight slots are not filled; nothing to quantize"
    if lg.op_attr(op, "optional_io"):
        return f"{optional_io(lg, op)}; its slots are not fixed, left float"
    if rw.layer_param(op) is None and reads_layer_param(contract):
        return f"{no_layer_param(lg, op)}; left float"
    stray = _unplaced_input(lg, op)
    if stray is not None:  # rewiring would leave a tensor the float layer feeds unread
        slot, t = stray
        return (f"slot {slot} reads {t}, which the float layout of {lg.param_type(op)} does not place; left "
                "float so that no input goes unread")
    return ""


def sparsify(rw: Rewrite) -> None:
    """Sparse W8A8 on top of W8A8: each site whose type has a sparse precedent takes its sparse contract (an
    index tensor per linear, isSparse or a sparse type); the others stay plain W8A8, and the user is told."""
    for op, site in list(rw.sites.items()):
        sparse = site.type.sparse
        if sparse is None:
            rw.note(not_sparse=(SiteNote(op, f"no sparse precedent for {site.type.name}; quantized without "
                                             "sparsity"),))
            continue
        fields = sparse.fields if sparse.type else site.contract.fields + sparse.fields
        merged = dataclasses.replace(
            site.contract, slots=sparse.slots, fields=fields, type=sparse.type or site.contract.type,
            init=sparse.init or site.contract.init,
            keep_fields=sparse.keep_fields if sparse.type else site.contract.keep_fields)
        rw.sites[op] = dataclasses.replace(site, contract=merged)


def reads_layer_param(contract: Contract) -> bool:
    return any("{layer_param}" in v for pairs in (contract.fields, contract.self_quant_fields) for _, v in pairs)


def no_layer_param(lg: LayerGraph, op: str) -> str:
    param = lg.graph.nodes[op]["variant"].param
    where = (f"is set in {param.function}, which is not given the layer param" if param is not None
             else "is no local variable")
    return f"its param {where}, so it cannot read an activation scale"


def optional_io(lg: LayerGraph, op: str) -> str:
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
