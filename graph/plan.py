"""The plan: every decision a rewrite makes, as plain frozen data, each with its reason.

The passes decide (graph/passes.py and the pass modules it runs); the renderer (render/) only spells a plan
as text edits, reading positions from the source model; the change log and the follow-ups are read off the
plan in one place. Nothing here knows about text.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NewTensor:
    """A tensor the rewrite adds, and where its declaration goes: after (or before) ``anchor``, an existing
    tensor, ordered by ``rank`` among those placed at the same anchor."""

    name: str
    kind: str  # weight | placeholder | intermediate
    role: str  # deqscale | bias | index | beta | holder | weight | int8_out
    anchor: str
    rank: int = 0
    before: bool = False
    replaces: str | None = None  # the entry it renames in place (a packed weight split into up and gate)
    reason: str = ""


@dataclass(frozen=True)
class FieldSet:
    """A param field the rewrite sets. ``only_if_set``: the type's default is already the value, so only a
    float assignment of another value is edited."""

    path: str
    value: str
    only_if_set: bool = False


@dataclass(frozen=True)
class OpChange:
    """What one op becomes: its param (type, initialiser, creation function, fields), its input slots."""

    op: str
    node: str  # the node variable
    fields: tuple[FieldSet, ...] = ()
    type: str | None = None  # a new param type
    init: str | None = None  # its brace initialiser
    callee: str | None = None  # a new creation function
    renames: tuple[tuple[str, str], ...] = ()  # float field -> new field (a V1 type upgraded)
    keep_fields: tuple[str, ...] | None = None  # on a type change: the float assignments kept (None: all)
    dropped: tuple[str, ...] = ()  # float assignments the new type has no field for
    include: str | None = None  # the header the new type needs
    old_include: str | None = None  # the header it replaces
    slots: tuple[str, ...] = ()  # what each input slot holds (contract slot names)
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    reason: str = ""

    def key(self) -> tuple[Any, ...]:
        """Two ops whose param changes alike can share one param declaration."""
        return (self.type, self.init, self.callee, self.fields, tuple(sorted(self.renames)), self.keep_fields)

    @property
    def field_paths(self) -> tuple[str, ...]:
        return tuple(f.path for f in self.fields)


@dataclass(frozen=True)
class ParamSpelling:
    """How the rewrite spells the param declaration ``var`` that ``users`` (op ids) are created from.

    ``in_place``: the change the declaration itself takes (its users share it); ``fresh``: new declarations,
    each for some of the users."""

    var: str
    users: tuple[str, ...]
    in_place: OpChange | None = None
    in_place_users: tuple[str, ...] = ()
    fresh: tuple[FreshParam, ...] = ()


@dataclass(frozen=True)
class FreshParam:
    name: str
    change: OpChange
    users: tuple[str, ...]
    copy_from: str | None = None  # `T name = copy_from;` (else the float assignments are written again)
    in_branch: bool = False  # declared inside the quant branch of a float fallback


@dataclass(frozen=True)
class NewField:
    """A layer param field the rewrite adds; read from JSON wherever the pair reads its other fields."""

    name: str
    type: str
    default: str
    point: str  # the quant point it belongs to
    label: str = ""  # the point's label (qkv, dense...), or the fallback site (qkv, down...) of a flag
    reason: str = ""


@dataclass(frozen=True)
class CountUpdate:
    """A count the rewrite changes: a constant (``IN_TENSOR_COUNT``) or a graph setting (``inTensorNum``)
    written as a number."""

    name: str
    value: int
    setting: bool = False


@dataclass(frozen=True)
class Rename:
    old: str
    new: str
    kind: str  # function | struct | binder | enum | helper | creator | type | guard | header


@dataclass(frozen=True)
class Branch:
    """An op set up twice by a float fallback: the float form under ``condition``, the quant form otherwise."""

    op: str
    node: str
    condition: str
    float_op: str
    quant_op: str


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


@dataclass(frozen=True)
class SiteNote:
    """A site the rewrite left float, or quantized without sparsity, and why."""

    op: str
    reason: str


@dataclass(frozen=True)
class Plan:
    mode: str = "quant"  # quant | sparse
    ops: tuple[OpChange, ...] = ()
    tensors: tuple[NewTensor, ...] = ()
    removed_ops: tuple[SiteNote, ...] = ()  # ops the rewrite removes, and why
    removed_tensors: tuple[str, ...] = ()
    removed_params: tuple[str, ...] = ()  # removed ops whose param declaration goes with them (no other user)
    params: tuple[ParamSpelling, ...] = ()
    fields: tuple[NewField, ...] = ()
    counts: tuple[CountUpdate, ...] = ()
    renames: tuple[Rename, ...] = ()
    branches: tuple[Branch, ...] = ()
    left_float: tuple[SiteNote, ...] = ()
    not_sparse: tuple[SiteNote, ...] = ()
    followups: tuple[Followup, ...] = ()

    def change(self, op: str) -> OpChange | None:
        return next((c for c in self.ops if c.op == op), None)

    def but(self, **changes: Any) -> Plan:
        """A copy with some parts replaced (the plan itself never changes)."""
        return dataclasses.replace(self, **changes)

    def adding(self, **more: tuple[Any, ...]) -> Plan:
        """A copy with items appended to tuple parts: ``plan.adding(followups=(f,))``."""
        return dataclasses.replace(self, **{k: getattr(self, k) + tuple(v) for k, v in more.items()})
