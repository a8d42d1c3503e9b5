"""The source model: what a layer pair declares and wires, each element with its span in its file.

Spans are ``(start, end)`` character offsets into ``SourceFile.text`` of the file named by ``file``
("cpp" or "h"). The model holds facts, not decisions: the graph builder and the passes interpret it,
the renderer uses its spans to place edits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .source_file import SourceFile

Span = tuple[int, int]
#: A conjunction of branch literals: ((condition text, polarity), ...), outermost first.
Cond = tuple[tuple[str, bool], ...]


@dataclass
class Include:
    file: str
    target: str
    span: Span
    target_span: Span | None = None  # the path between the quotes or brackets


@dataclass
class Guard:
    file: str
    name: str
    ifndef_span: Span
    define_span: Span
    endif_span: Span | None
    name_spans: list[Span]


@dataclass
class EnumEntry:
    name: str
    name_span: Span
    value: str | None  # explicit initialiser text
    span: Span  # name through the end of the initialiser
    comma_end: int | None  # offset just past the trailing comma, if any


@dataclass
class EnumDecl:
    file: str
    name: str | None
    name_span: Span | None
    underlying: str | None
    entries: list[EnumEntry]
    open_brace: int
    close_brace: int
    span: Span
    scoped: bool = False  # `enum class` / `enum struct`: its entries are not names of the namespace
    owner: str | None = None  # the sub-graph function whose tensors it numbers, when it is not the layer's


@dataclass
class Constant:
    file: str
    name: str
    type_text: str
    value: str
    value_span: Span
    span: Span
    owner: str | None = None  # the sub-graph function it counts for, when it is not the layer's


@dataclass
class StructField:
    name: str
    type_text: str
    default: str | None
    span: Span


@dataclass
class StructDecl:
    file: str
    name: str
    name_span: Span
    fields: list[StructField]
    open_brace: int
    close_brace: int
    span: Span
    bases: str = ""


@dataclass
class FunctionDef:
    file: str
    name: str  # as written, possibly qualified (Binder::ParseParam)
    name_span: Span
    is_static: bool
    params_text: str
    return_text: str
    body: Span | None  # braces, inclusive; None for a declaration
    span: Span

    @property
    def short_name(self) -> str:
        return self.name.rsplit("::", 1)[-1]

    @property
    def owner(self) -> str | None:
        return self.name.rsplit("::", 1)[0] if "::" in self.name else None


@dataclass
class MacroCall:
    file: str
    name: str
    args: str
    span: Span


@dataclass
class JsonRead:
    """One parameter read from JSON: ``paramJson.at("k").get_to(param.f)`` or ``param.f = paramJson["k"]...``."""

    function: str
    key: str
    field: str
    style: str  # "get_to" | "bracket"
    span: Span  # the statement
    guarded: bool  # inside ``if (paramJson.contains(...))``
    indent: str = ""
    key_span: Span | None = None  # the key, inside its quotes
    field_span: Span | None = None  # the field after the target's ``.``
    type_span: Span | None = None  # the ``get<T>`` argument of a bracket read


# ---------------------------------------------------------------------------------------------------
# The layer-building function body


@dataclass
class NodeRef:
    var: str
    index: int
    span: Span
    cond: Cond


@dataclass
class ParamDecl:
    var: str
    type_text: str
    type_span: Span
    init: str | None  # brace or expression initialiser text, braces included
    init_span: Span | None
    span: Span  # the statement, without the trailing newline
    cond: Cond
    scope: tuple[int, ...]  # block path, to resolve shadowing across branches
    line_indent: str = ""
    #: how the function declaring it names the layer param (``param``, or a helper's own parameter name);
    #: None when that function is not given the layer param
    layer_param: str | None = None
    function: str = ""  # the function declaring it (the layer function, or a helper it calls)
    #: a brace initialiser's elements, in order (``{a, b}`` or ``Type{a, b}``)
    init_elems: tuple[Span, ...] = ()
    name_span: Span | None = None


@dataclass
class FieldAssign:
    param: ParamDecl
    path: str  # "normParam.epsilon"
    value: str
    span: Span
    cond: Cond
    value_span: Span | None = None  # between the ``=`` and the ``;``
    head_span: Span | None = None  # the path's first field


@dataclass
class ListElem:
    text: str
    span: Span
    #: for ``c ? A : B``: (c, A, B)
    ternary: tuple[str, str, str] | None = None
    #: the whole element when it is more than the name: ``GetTensorIdx(map, "a")`` around ``"a"``
    item: Span | None = None
    #: the list holds the element only when this holds: a list variable (re)assigned under a branch. Its atoms
    #: decide the node's variants, as an ``if``/``else`` around whole lists does
    cond: Cond = ()
    #: added under a further branch (a push inside an ``if``): the op reads it only then. Not a variant of the
    #: node: an input the op takes under that condition
    optional: Cond = ()


@dataclass
class ListStep:
    """One statement that builds a tensor list in steps: the declaration of a list variable (``init``), a
    reassignment (``assign``), ``push_back`` (``push``), the elements of another list appended in a loop or
    with ``insert`` (``append``), elements renamed in a loop (``rename``). The renderer places new elements
    by these."""

    kind: str
    span: Span  # the statement (for a loop: the whole loop)
    cond: Cond
    brace: Span | None = None  # "{" .. "}" of an init / assign written as a brace list
    elems: list[ListElem] = field(default_factory=list)  # the elements it adds, as the list holds them
    indent: str = ""  # the statement's line indentation
    #: for ``append``: what the elements come from (another list variable, or a tensor-name map's entry), and
    #: whether anything else reads it too (then its elements are not this list's to change)
    source: str | None = None
    shared: bool = False
    parts: list[ListStep] = field(default_factory=list)  # for ``append``: how the other list was built


@dataclass
class TensorList:
    node: str
    which: str  # "in" | "out"
    elems: list[ListElem]
    span: Span  # the whole statement
    brace: Span  # "{" .. "}" inclusive
    cond: Cond
    #: tensors named by strings: "" (enum names), "list" (`GetTensorIdxList(map, {"a", ...})`, element spans
    #: are the string literals), or "calls" (`{GetTensorIdx(map, "a"), ...}`, one call per element)
    named: str = ""
    #: the list variable it reads (`GetTensorIdxList(map, names)`), when it is one
    var: str | None = None
    #: how the list was built, when it was built in steps (a list variable, or pushes onto the node's own list)
    steps: list[ListStep] = field(default_factory=list)


@dataclass
class CreateCall:
    node: str
    param_arg: str | None
    param: ParamDecl | None
    callee: str
    callee_span: Span
    span: Span
    cond: Cond
    is_new: bool = False  # ``node.operation = new X(...)``
    stmt_start: int | None = None  # where the enclosing statement begins (``if (Create...(...) != ...)``)
    param_arg_span: Span | None = None

    @property
    def statement_start(self) -> int:
        return self.span[0] if self.stmt_start is None else self.stmt_start


@dataclass
class GraphSetting:
    """``opGraph.nodes.resize(X)``, ``opGraph.inTensorNum = X``..."""

    what: str
    value: str
    span: Span
    cond: Cond
    value_span: Span | None = None
    #: the node list's size (``nodes.resize(X)``); by_counter: sized by the running node index, to the nodes used
    node_room: bool = False
    by_counter: bool = False


@dataclass
class TensorVar:
    """A tensor id that is not an enum entry: a local counted at run time (``uint64_t IN_X = ID++;``) or a
    string in a tensor-name list (``{"in_hidden_states", ...}``)."""

    name: str
    file: str
    span: Span
    cond: Cond = ()
    #: what declares a tensor-name string: its list variable, or the map (or the function building the map)
    context: str = ""
    name_span: Span | None = None  # the id's name where it is declared (a run-time id)
    counter: str = ""  # the variable a run-time id is counted by (``ID`` of ``ID++``)


@dataclass
class NameMap:
    """The entries of the tensor-name maps a function builds or fills (``{{"default", {"in_x", ...}}}``,
    ``candidates["lora"] = {...};``): key -> names with their spans."""

    function: str
    entries: dict[str, list[ListElem]] = field(default_factory=dict)


@dataclass
class Idiom:
    """A newer way of building the layer the reader met (reported, and where it was first seen)."""

    what: str  # one line, as the user should read it
    file: str
    span: Span


@dataclass
class Statement:
    """One statement of the layer function (a helper's are not its own): where it is, the block it is in,
    and its first token."""

    span: Span
    scope: tuple[int, ...]
    head: str


@dataclass
class LayerFunction:
    func: FunctionDef
    struct_name: str | None
    graph_var: str
    nodes: list[NodeRef] = field(default_factory=list)
    params: list[ParamDecl] = field(default_factory=list)
    assigns: list[FieldAssign] = field(default_factory=list)
    lists: list[TensorList] = field(default_factory=list)
    creates: list[CreateCall] = field(default_factory=list)
    settings: list[GraphSetting] = field(default_factory=list)
    resize_to_node_id: bool = False
    tensor_vars: list[TensorVar] = field(default_factory=list)  # ids counted at run time, in order
    idioms: list[Idiom] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)  # in the order they end (inner before outer)


@dataclass
class Binder:
    name: str
    decl: StructDecl
    methods: list[FunctionDef]


@dataclass
class LayerSource:
    """Everything read from one layer pair."""

    cpp: SourceFile
    h: SourceFile | None
    includes: list[Include] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)
    namespaces: list[tuple[str, str, Span]] = field(default_factory=list)  # (file, name, span)
    enums: list[EnumDecl] = field(default_factory=list)
    constants: list[Constant] = field(default_factory=list)
    structs: list[StructDecl] = field(default_factory=list)
    functions: list[FunctionDef] = field(default_factory=list)
    macros: list[MacroCall] = field(default_factory=list)
    json_reads: list[JsonRead] = field(default_factory=list)
    layer: LayerFunction | None = None
    #: other graph-building functions of the file, used by the layer (a sub-graph becomes one of its nodes)
    subgraphs: list[FunctionDef] = field(default_factory=list)
    binder: Binder | None = None
    string_tensors: list[TensorVar] = field(default_factory=list)  # tensor-name lists, in declaration order
    name_maps: dict[str, NameMap] = field(default_factory=dict)  # function -> the tensor-name maps it builds

    def file(self, which: str) -> SourceFile:
        if which == "cpp":
            return self.cpp
        assert self.h is not None
        return self.h

    def line(self, which: str, offset: int) -> int:
        return self.file(which).line_of(offset)

    def where(self, which: str, offset: int) -> str:
        return self.file(which).where(offset)

    @property
    def param_struct(self) -> StructDecl | None:
        if self.layer is None or self.layer.struct_name is None:
            return None
        short = self.layer.struct_name.rsplit("::", 1)[-1]
        for s in self.structs:
            if s.name == short:
                return s
        return None

    @cached_property
    def identifiers(self) -> frozenset[str]:
        """Every identifier written in the pair's code (not in comments or strings)."""
        from .lexer import IDENT

        return frozenset(t.text for f in (self.cpp, self.h) if f is not None for t in f.tokens if t.kind == IDENT)

    def own_header_includes(self) -> list[Include]:
        """The .cpp's includes of its own header (bare ``"x.h"`` or a path form ``"models/m/layer/x.h"``)."""
        if self.h is None:
            return []
        name = self.h.path.name
        return [i for i in self.includes if i.file == "cpp" and i.target.rsplit("/", 1)[-1] == name]

    def header_as_included(self) -> dict[Path, bytes]:
        """The header's bytes under every path the .cpp includes it by, relative to the .cpp's folder: a
        compiler looking for ``models/m/layer/x.h`` finds the header next to the .cpp, as the build would."""
        if self.h is None:
            return {}
        return {self.cpp.path.parent / i.target: self.h.encode() for i in self.own_header_includes()}

    def used_outside(self, type_name: str) -> bool:
        """Whether code outside the pair takes the type: a function the pair declares but does not define
        has it among its parameters."""
        defined = {f.short_name for f in self.functions if f.body is not None}
        word = re.compile(rf"\b{re.escape(type_name)}\b")
        return any(f.body is None and f.short_name not in defined and word.search(f.params_text)
                   for f in self.functions)

    def constant(self, name: str) -> Constant | None:
        """The layer's constant of that name (a sub-graph's constants are not the layer's)."""
        for c in self.constants:
            if c.name == name and c.owner is None:
                return c
        return None
