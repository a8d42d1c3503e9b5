"""The follow-ups every rewrite gives the model's author: the new input order the weight loader must feed, and
the new JSON keys to pass (or, where the pair reads no JSON, the new fields to fill)."""

from __future__ import annotations

from .layer_graph import IN_KINDS
from .plan import Followup
from .rewrite import Rewrite

NEW_ORDER = "the model code must feed the layer's inputs in the new enum order; added inputs as name@index"
FILL_SCALES = "the pair parses no JSON: the model code must fill the new scale fields"
PASS_KEYS = "the pair reads its param from JSON: the model must pass these new keys in it"


def plan_user_followups(rw: Rewrite) -> None:
    g = rw.graph
    inputs = [t for t in g.tensors() if g.tensor_kind(t) in IN_KINDS]
    positions = [f"{t}@{i}" for i, t in enumerate(inputs) if g.graph.nodes[t].get("added")]
    if positions:
        rw.note(followups=(Followup(NEW_ORDER, ", ".join(positions)),))
    scales = [f.name for f in rw.plan.fields if f.type != "bool"]
    if scales:  # where the pair reads JSON, it now reads these keys too
        source = rw.float.source
        parses_json = bool(source is not None and source.json_reads)
        rw.note(followups=(Followup(PASS_KEYS if parses_json else FILL_SCALES, ", ".join(scales)),))
