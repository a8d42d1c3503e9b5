"""The plan spelled as text edits on the original pair, one step per concern; the steps decide nothing, they
place what the plan says where the source model's spans say."""

from __future__ import annotations

from dataclasses import dataclass, field

from llm_transform.graph.layer_graph import LayerGraph
from llm_transform.graph.plan import Plan
from llm_transform.source.errors import LayerError
from llm_transform.source.model import LayerSource

from .branches import write_branches
from .count_values import write_counts
from .edits import EditConflict, apply_edits
from .list_edits import rewrite_lists
from .param_edits import write_params
from .removals import remove
from .renames import write_renames
from .struct_fields import write_fields
from .tensor_decls import declare_tensors
from .text import Edits


@dataclass
class Rendered:
    cpp: str
    h: str | None
    renames: dict[str, str] = field(default_factory=dict)
    #: (kind, name) of the names the plan made up for declarations (param variables); the verifier checks them
    introduced: list[tuple[str, str]] = field(default_factory=list)


def spell(model: LayerSource, before: LayerGraph, plan: Plan) -> Rendered:
    ed = Edits(model, before, plan)
    remove(ed)
    declare_tensors(ed)
    write_counts(ed)
    rewrite_lists(ed)
    introduced = write_params(ed)
    write_fields(ed)
    renames = write_renames(ed)
    write_branches(ed)  # last: it moves the edits inside each branched op's setup into its quant form
    try:
        cpp = apply_edits(model.cpp.text, ed.edits["cpp"])
        h = apply_edits(model.h.text, ed.edits["h"]) if model.h else None
    except EditConflict as exc:
        raise LayerError(model.cpp.path, None, f"internal: {exc}; please report this file") from None
    return Rendered(cpp, h, renames, introduced)
