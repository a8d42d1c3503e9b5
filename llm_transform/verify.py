"""The verifier: what a careful reviewer would reject in a generated pair, found before anything is written.

It compares the generated pair with the float pair it came from, so that only what the rewrite introduced
counts: a validation finding the float graph does not have, a libclang error the float pair does not have,
a field assigned twice in a row where the float assigned it once, an added param field that the JSON
parsing or the ops do not read, a name kept from the float pair where the two would clash, a name the
tool made up that is no C++ identifier or clashes with one already in the pair, and, when the pass's graph
is known, a generated pair that reads back as a different graph or with a planned field at another value.
``llm-transform check --against`` runs the same code on two pairs on disk (without the pass's graph, so
without the read-back).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .graph.build import build_graph
from .graph.layer_graph import LayerGraph
from .graph.validate import validate
from .new_errors import declared_names, external, new_errors
from .source.clang_check import ClangResult, declaring_header, parse
from .source.errors import LayerError, one_line
from .source.model import FieldAssign, LayerFunction, LayerSource
from .source.names import replace_words
from .source.source_file import SourceFile
from .source.vocabulary import vocabulary

#: C++ keywords and alternative tokens: never a name
CXX_KEYWORDS = frozenset({
    "alignas", "alignof", "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch",
    "char", "char8_t", "char16_t", "char32_t", "class", "compl", "concept", "const", "consteval", "constexpr",
    "constinit", "const_cast", "continue", "co_await", "co_return", "co_yield", "decltype", "default", "delete",
    "do", "double", "dynamic_cast", "else", "enum", "explicit", "export", "extern", "false", "float", "for",
    "friend", "goto", "if", "inline", "int", "long", "mutable", "namespace", "new", "noexcept", "not", "not_eq",
    "nullptr", "operator", "or", "or_eq", "private", "protected", "public", "register", "reinterpret_cast",
    "requires", "return", "short", "signed", "sizeof", "static", "static_assert", "static_cast", "struct",
    "switch", "template", "this", "thread_local", "throw", "true", "try", "typedef", "typeid", "typename", "union",
    "unsigned", "using", "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NO_MEMBER = re.compile(r"no member named '(\w+)' in '([\w:]+)'")


@dataclass(frozen=True)
class Rejection:
    """One thing the verifier refuses, with the place in the generated pair."""

    kind: str  # finding | compiler | double-assignment | unwired-field | float-clash | bad-name | read-back
    path: str
    line: int | None
    message: str

    def one_line(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {one_line(self.message)}"

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "file": self.path, "line": self.line, "message": self.message}


def is_identifier(name: str) -> bool:
    return bool(_IDENTIFIER.fullmatch(name)) and name not in CXX_KEYWORDS


def verify(before: LayerGraph, generated: LayerSource, *, expected: LayerGraph | None = None,
           introduced: list[tuple[str, str]] | None = None, renames: dict[str, str] | None = None,
           include_dirs: list[str] | None = None, clang: bool = True,
           beside_float: bool = True) -> tuple[LayerGraph | None, list[Rejection]]:
    """Check ``generated`` against the float layer ``before`` (built with ``checked_graph``).

    ``introduced``: (kind, name) of every name the rewrite made up; without it, every identifier of the
    generated pair that the float pair does not have. ``renames``: float name -> generated name, to
    compare compiler messages across the rename. ``beside_float``: the pair must link and be included
    beside the float pair (False when the user kept the float's names on purpose). Returns the generated
    pair's graph (None when it does not read back) and what is refused, in file order.
    """
    float_model: LayerSource = before.source
    cpp_path = str(generated.cpp.path)
    out: list[Rejection] = []
    external = before.meta["enum_info"].from_clang
    try:
        got = build_graph(generated, external)
    except LayerError as exc:
        return None, [Rejection("read-back", exc.path or cpp_path, exc.line, f"does not read back: {exc.reason}")]
    got.validation = validate(got)
    old_keys = {f.key for f in before.findings()}
    for f in got.findings():
        if f.key not in old_keys:
            out.append(Rejection("finding", f.path or cpp_path, f.line, f"{f.severity}: {f.message}"))
    if expected is not None:
        out += _read_back(expected, got, cpp_path, renames or {})
    out += _double_assignments(float_model.layer, generated, cpp_path)
    out += _unwired_fields(float_model, generated, renames or {})
    if beside_float:
        out += _shared_with_float(float_model, generated)
    if introduced is None:
        old = float_model.identifiers
        introduced = [("name", n) for n in sorted(generated.identifiers - old - CXX_KEYWORDS)]
    out += _bad_names(introduced, float_model.identifiers, cpp_path)
    if clang:
        out += _compiler(before, generated, renames or {}, include_dirs or [])
    return got, out


def _read_back(expected: LayerGraph, got: LayerGraph, cpp_path: str, renames: dict[str, str]) -> list[Rejection]:
    own = {n for _w, name, _s in expected.source.namespaces for n in name.split("::")} if expected.source else set()

    def renamed(t: str) -> str:  # a param type the pair itself defines takes its new name
        ns, _, short = t.rpartition("::")
        if short in renames and all(part in own for part in ns.split("::") if part):
            return f"{ns}::{renames[short]}" if ns else renames[short]
        return t

    want = [(renamed(t), ins, outs) for _, t, ins, outs in expected.signature()]
    have = [(t, ins, outs) for _, t, ins, outs in got.signature()]
    if want == have:
        return _fields_read_back(expected, got, cpp_path) + _scale_fields_read_back(expected, got.source)
    for i, (a, b) in enumerate(zip(want, have, strict=False)):
        if a != b:
            op = expected.ops()[i]
            return [Rejection("read-back", cpp_path, None, f"node {op} reads back as {b[0]} {list(b[1])} "
                              f"instead of {a[0]} {list(a[1])}")]
    return [Rejection("read-back", cpp_path, None, f"reads back with {len(have)} nodes instead of {len(want)}")]


def _fields_read_back(expected: LayerGraph, got: LayerGraph, cpp_path: str) -> list[Rejection]:
    """Every field the pass planned for a changed op reads back with the planned value: a scale field of
    another quant point, or a value the text edit got wrong, wires a layer that compiles and computes
    garbage."""
    out = []
    for op in expected.changed_ops():
        change = expected.graph.nodes[op].get("change")
        if change is None:
            continue
        effective = {e["field"]: e for e in got.params(op)}  # the last value set wins
        for f in change.fields:
            path, value = f.path, f.value
            e = effective.get(path)
            if e is None:
                if not f.only_if_set:
                    out.append(Rejection("read-back", cpp_path, None, f"node {op} does not set {path}; the "
                                         f"rewrite planned {path} = {value}"))
            elif " ".join(e["value"].split()) != " ".join(value.split()):
                out.append(Rejection("read-back", cpp_path, e["line"], f"node {op} sets {path} = {e['value']} "
                                     f"instead of {value}"))
    return out


def _scale_fields_read_back(expected: LayerGraph, generated: LayerSource) -> list[Rejection]:
    """Each field the plan adds is declared as planned (`float` scale = 1, `int` offset = 0: an int scale
    would truncate every scale the model sets), and JSON reads it under its own name."""
    st = generated.param_struct
    plan = expected.meta.get("plan")
    if st is None or plan is None:
        return []
    declared = {f.name: f for f in st.fields}
    keys = {r.field: r for r in generated.json_reads}
    out = []
    for nf in plan.fields:
        for name, typ, default in ((nf.name, nf.type, nf.default),):
            if not is_identifier(name):
                continue  # a bad name, said as such
            f = declared.get(name)
            where = (str(generated.file(st.file).path), generated.line(st.file, f.span[0]) if f else None)
            if f is None:
                out.append(Rejection("read-back", *where, f"the param struct does not declare {name}"))
            elif (" ".join(f.type_text.split()), (f.default or "").strip()) != (typ, default):
                out.append(Rejection("read-back", *where, f"{name} is declared as {f.type_text} = {f.default} "
                                     f"instead of {typ} = {default}"))
            r = keys.get(name)
            if r is not None and r.key != name:
                which = _file_of(generated, r.function)
                out.append(Rejection("read-back", str(generated.file(which).path), generated.line(which, r.span[0]),
                                     f"{name} is read from JSON key {r.key!r} instead of {name!r}"))
    return out


def _file_of(model: LayerSource, function: str) -> str:
    return next((f.file for f in model.functions if f.short_name == function and f.body is not None), "cpp")


def repeated_assignments(layer: LayerFunction) -> list[tuple[FieldAssign, FieldAssign]]:
    """Pairs of assignments to the same field of the same param in one straight run of statements: the
    same branch, and no creation call reading the param in between (the first value is never used)."""
    runs: dict[tuple[int, str, tuple], list[FieldAssign]] = {}
    for a in layer.assigns:
        runs.setdefault((id(a.param), a.path, a.cond), []).append(a)
    reads: dict[int, list[int]] = {}
    for c in layer.creates:
        if c.param is not None:
            reads.setdefault(id(c.param), []).append(c.span[0])
    pairs = []
    for (pid, _path, _cond), items in runs.items():
        items.sort(key=lambda a: a.span[0])
        for prev, cur in itertools.pairwise(items):
            if not any(prev.span[1] <= at < cur.span[0] for at in reads.get(pid, [])):
                pairs.append((prev, cur))
    return pairs


def _double_assignments(float_layer: LayerFunction, generated: LayerSource, cpp_path: str) -> list[Rejection]:
    assert generated.layer is not None
    had = Counter((a.param.var, a.path) for a, _ in repeated_assignments(float_layer))
    out = []
    for first, second in repeated_assignments(generated.layer):
        key = (second.param.var, second.path)
        if had[key] > 0:
            had[key] -= 1
            continue
        out.append(Rejection("double-assignment", cpp_path, generated.line("cpp", second.span[0]),
                             f"{key[0]}.{key[1]} is assigned again right after line "
                             f"{generated.line('cpp', first.span[0])} ({first.value.strip()} then "
                             f"{second.value.strip()}); the rewrite must edit the existing assignment"))
    return out


def _unwired_fields(float_model: LayerSource, generated: LayerSource, renames: dict[str, str]) -> list[Rejection]:
    """A param field the rewrite adds must be read where the pair reads the layer's other fields from JSON
    (else the model cannot set it, and the scale stays at its default), and some op's param must read it
    (else it is a field nothing uses)."""
    old_struct, new_struct = float_model.param_struct, generated.param_struct
    if old_struct is None or new_struct is None or generated.layer is None:
        return []
    had = {f.name for f in old_struct.fields}
    added = [f for f in new_struct.fields if f.name not in had]
    readers = sorted({renames.get(r.function, r.function) for r in float_model.json_reads})
    reads = {(r.function, r.field) for r in generated.json_reads}
    layer = generated.layer
    # an op's param reads a field in a value, or through the branch that chooses the op's form
    conds = {atom for item in (*layer.creates, *layer.lists, *layer.assigns) for atom, _ in item.cond}
    values = " ".join([*(a.value for a in layer.assigns), *conds])
    out = []
    for f in added:
        where = (str(generated.file(new_struct.file).path), generated.line(new_struct.file, f.span[0]))
        for func in readers:
            if (func, f.name) not in reads:
                out.append(Rejection("unwired-field", *where, f"the param field {f.name} it adds is not read in "
                                     f"{func}, which reads the layer's other fields from JSON; the model could "
                                     "not set it"))
        if not re.search(rf"\b{re.escape(f.name)}\b", values):
            out.append(Rejection("unwired-field", *where, f"the param field {f.name} it adds is read by no op's "
                                 "param or branch"))
    return out


def _linked_names(model: LayerSource) -> dict[str, tuple[str, str, int]]:
    """Names that must differ between a float pair and its rewrite for both to build into one program and
    to be included together: functions defined with linkage (and statics defined in the header), the param
    struct, the binder class, the include guard. ``from_json`` overloads on the struct, so it follows the
    struct's name."""
    names: dict[str, tuple[str, str, int]] = {}
    for f in model.functions:  # definitions: declaring a function twice is no clash
        if f.body is None or f.owner or vocabulary().name_is_fixed(f.short_name) or (f.is_static and f.file == "cpp"):
            continue
        names.setdefault(f.short_name, ("function", f.file, f.name_span[0]))
    for kind, decl in (("struct", model.param_struct), ("class", model.binder.decl if model.binder else None)):
        if decl is not None:
            names[decl.name] = (kind, decl.file, decl.name_span[0])
    for st in model.structs:  # a type defined in both headers is defined twice where both are included
        if st.file == "h" and not model.used_outside(st.name):
            names.setdefault(st.name, ("type", st.file, st.name_span[0]))
    for g in model.guards:
        names.setdefault(g.name, ("include guard", g.file, g.define_span[0]))
    return names


def _shared_with_float(float_model: LayerSource, generated: LayerSource) -> list[Rejection]:
    """The rewrite links beside the float layer: a name it keeps from the float pair where the two would
    clash (a duplicate symbol, or a header whose guard hides the other) is refused."""
    old = _linked_names(float_model)
    out = []
    for name, (kind, which, offset) in _linked_names(generated).items():
        if name in old:
            out.append(Rejection("float-clash", str(generated.file(which).path), generated.line(which, offset),
                                 f"the {kind} {name} has the float pair's name; building or including both "
                                 "layers would clash"))
    return out


def _bad_names(introduced: list[tuple[str, str]], taken: set[str], cpp_path: str) -> list[Rejection]:
    out = []
    seen: set[str] = set()
    for kind, name in introduced:
        if name in seen:
            continue
        seen.add(name)
        if not is_identifier(name):
            out.append(Rejection("bad-name", cpp_path, None, f"the {kind} name {name!r} it introduces is not a "
                                 "valid C++ identifier"))
        elif name in taken:
            out.append(Rejection("bad-name", cpp_path, None, f"the {kind} name {name} it introduces is already "
                                 "used in the float pair"))
    return out


def _compiler(before: LayerGraph, generated: LayerSource, renames: dict[str, str],
              include_dirs: list[str]) -> list[Rejection]:
    """libclang errors of the generated pair that the float pair does not have at the same place (see
    ``new_errors``): added lines that mention an absent ATB header's names give the float's messages, but an
    error about the pair's own names counts only where the float has it too."""
    float_model: LayerSource = before.source
    parsed: ClangResult | None = before.meta.get("clang")
    if parsed is None:  # the float layer was loaded without libclang: nothing to compare with
        return []
    unsaved = {generated.cpp.path: generated.cpp.encode(), **generated.header_as_included()}
    if generated.h is not None:
        unsaved[generated.h.path] = generated.h.encode()
    dirs = [str(float_model.cpp.path.parent), *include_dirs]
    # messages about names only an unread header declares may stand anywhere: no need to locate those
    redo = replace_words(renames)
    declared = declared_names(float_model)
    known = frozenset(redo(m) for m in {d.spelling for d in parsed.errors()} if external(m, declared))
    result = parse(generated.cpp.path, dirs, unsaved, keep_tu=bool(include_dirs), enums=False, known=known)
    out = []
    for d in new_errors(float_model, parsed, generated, result, renames, declared):
        message = f"libclang error the float pair does not have: {d.spelling}"
        m = _NO_MEMBER.search(d.spelling)
        if m and result.tu is not None:
            header = declaring_header(result.tu, m.group(2))
            where = f" as declared in {header}" if header else ""
            message = (f"sets {m.group(1)}, which {m.group(2)}{where} does not declare; this header version "
                       "does not support that field")
        out.append(Rejection("compiler", d.file or str(generated.cpp.path), d.line, message))
    return out


def generated_signs(cpp: SourceFile, h: SourceFile | None) -> list[str]:
    """What says a pair is a quantized one (written by this tool or by hand): this tool's header line, a
    name that says quant or w8a8, quant fields set in its code. Empty for a pair that looks float."""
    from . import classify, provenance

    signs = []
    if any(provenance.state(f.encode()) != "foreign" for f in (cpp, h) if f is not None):
        signs.append("llm-transform's header")
    try:
        classify.check_name(cpp.path)
    except LayerError:
        signs.append("a name that says quant")
    try:
        classify.check_content(cpp, h)
    except LayerError as exc:
        if exc.kind in ("quant_branches", "sparse_branches", "quant_aware"):
            signs.append(f"quant fields (line {exc.line})" if exc.line else "quant fields")
    return signs


def check_order(float_pair: tuple[SourceFile, SourceFile | None],
                generated_pair: tuple[SourceFile, SourceFile | None]) -> None:
    """LayerError of kind ``usage`` when the float side looks generated or the generated side looks float:
    verifying them that way round would compare nothing the rewrite made and find nothing."""
    float_cpp, generated_cpp = float_pair[0].path, generated_pair[0].path
    float_signs, generated = generated_signs(*float_pair), generated_signs(*generated_pair)
    if float_signs and not generated:
        raise LayerError(float_cpp, None, f"the pairs look swapped: a generated pair ({', '.join(float_signs)}); "
                         f"run check --against {generated_cpp} {float_cpp}", kind="usage")
    if float_signs:
        raise LayerError(float_cpp, None, f"a generated pair ({', '.join(float_signs)}); --against takes the float "
                         "layer the generated one was made from", kind="usage")
    if not generated:
        raise LayerError(generated_cpp, None, "not a generated pair (no llm-transform header, no quant name, no "
                         f"quant fields); give the generated layer to verify against {float_cpp}", kind="usage")


def check_against(float_cpp: Path, generated_cpp: Path, *, include_dirs: list[str] | None = None
                  ) -> tuple[LayerGraph | None, list[Rejection]]:
    """``llm-transform check --against FLOAT GENERATED``: the verifier on two pairs on disk (after a check
    that they are given in that order)."""
    from .api import checked_graph
    from .source.reader import read_sources, source_files

    float_pair, generated_pair = source_files(float_cpp), source_files(generated_cpp)  # each file read once
    check_order(float_pair, generated_pair)
    before = checked_graph(read_sources(*float_pair), float_cpp, include_dirs=include_dirs)
    generated = read_sources(*generated_pair)
    return verify(before, generated, renames=_paired_names(before.source, generated),
                  include_dirs=include_dirs)


def _paired_names(old: LayerSource, new: LayerSource) -> dict[str, str]:
    """What was renamed, by pairing the declarations both pairs have in the same places."""
    pairs: dict[str, str] = {}
    if old.layer and new.layer:
        pairs[old.layer.func.short_name] = new.layer.func.short_name
    if old.param_struct and new.param_struct:
        pairs[old.param_struct.name] = new.param_struct.name
    if old.binder and new.binder:
        pairs[old.binder.name] = new.binder.name
    for a, b in zip([e.name for e in old.enums], [e.name for e in new.enums], strict=False):
        if a and b:
            pairs[a] = b
    if len(old.functions) == len(new.functions):
        for fa, fb in zip(old.functions, new.functions, strict=True):
            pairs.setdefault(fa.short_name, fb.short_name)
    return {a: b for a, b in pairs.items() if a != b}
