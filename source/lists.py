"""Tensor lists built in steps: a list variable declared, reassigned under branches, pushed onto, extended by
another list in a loop, and finally handed to a node (``GetTensorIdxList(map, names)``); pushes onto a node's
own ``inTensorIds``; tensor names held in ``std::string`` variables.

The value of a list is its elements in order, each with the condition under which the list holds it
(``ListElem.cond``: a reassignment under a branch, which decides the node's variants like an ``if``/``else``
around whole lists) and the condition under which it was added (``ListElem.optional``: a push inside an
``if``, an input the op takes only then). Conditions are kept relative to the list's declaration."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING

from .lexer import IDENT, NUMBER, STRING
from .model import Cond, ListElem, ListStep, TensorList
from .tokens import normalise_condition, string_value
from .vocabulary import Vocabulary, vocabulary

if TYPE_CHECKING:
    from .body import BodyReader

_NAME_TYPE = re.compile(r"(?:const)?std::string")
#: what a statement may do to a list variable without changing it
_READS = {"size", "begin", "end", "cbegin", "cend", "empty", "at", "front", "back", "data", "reserve"}


@cache
def _list_type_re(voc: Vocabulary) -> re.Pattern[str]:
    """A list variable's type when it holds tensors: one of the vocabulary's containers (qualified by one of
    their namespaces, or not) of names (strings) or ids."""
    spaces = dict.fromkeys(t.rsplit("::", 1)[0] + "::" for t in voc.list_types if "::" in t)
    names = dict.fromkeys(t.rsplit("::", 1)[-1] for t in voc.list_types)
    return re.compile(rf"(?:const)?(?:{'|'.join(map(re.escape, spaces))})?(?:{'|'.join(map(re.escape, names))})<"
                      r"(?:const)?(?:std::)?(string|u?int(?:32|64)?_t|int|size_t|unsigned|unsignedint)>")


def list_type(type_text: str) -> str | None:
    """"names" or "ids" for a vector of tensor names or ids, else None."""
    m = _list_type_re(vocabulary()).fullmatch(re.sub(r"\s+", "", type_text))
    if m is None:
        return None
    return "names" if m.group(1) == "string" else "ids"


def is_name_type(type_text: str) -> bool:
    return bool(_NAME_TYPE.fullmatch(re.sub(r"\s+", "", type_text)))


def extra(cond: Cond, base: Cond) -> Cond:
    """The literals of ``cond`` beyond those of ``base`` (the branches entered since)."""
    return tuple(lit for lit in cond if lit not in base)


def negate(cond: Cond) -> list[Cond]:
    """``!(l1 && l2 && ...)`` as disjoint conjunctions: ``!l1``, ``l1 && !l2``, ..."""
    out = []
    for k, (atom, pol) in enumerate(cond):
        out.append((*cond[:k], (atom, not pol)))
    return out


@dataclass
class ListVar:
    name: str
    kind: str  # "names" | "ids"
    decl_cond: Cond
    elems: list[ListElem] = field(default_factory=list)
    steps: list[ListStep] = field(default_factory=list)
    #: why the value cannot be read (filled by a function, changed in a way the tool does not model), with the
    #: token where that happened; an error only if a node's list reads it
    unknown: tuple[str, int] | None = None


@dataclass
class NameVar:
    """``std::string x = "a";`` or ``std::string x = c ? "a" : "b";``: the element a list gets for ``x``."""

    name: str
    text: str
    ternary: tuple[str, str, str] | None
    unknown: tuple[str, int] | None = None
    span: tuple[int, int] | None = None  # where the name is written, when it is one string (a literal argument)
    #: set by assignments under branches (`std::string x; if (c) { x = "a"; } else { x = "b"; }`): the names
    #: with the branch each holds under, relative to the declaration's
    alts: list[tuple[str, Cond]] | None = None
    decl_cond: Cond = ()


class ListReader:
    """The list variables and name variables of one function body, read statement by statement."""

    def __init__(self, body: BodyReader, names: dict[str, NameVar] | None = None):
        self.b = body
        self.v = body.v
        self.lists: dict[str, ListVar] = {}
        self.names: dict[str, NameVar] = dict(names or {})  # a helper's string parameters, as called
        self.maps: dict[str, str] = {}  # local variable -> the function building the tensor-name map it holds
        self.uses: dict[str, int] = {}  # list variable -> how many lists read it (appends, nodes)

    # -- declarations -----------------------------------------------------------------------------
    def declare(self, name: str, type_text: str, init: tuple[int, int] | None, span, cond: Cond, start: int) -> bool:
        """A local ``std::vector<std::string>`` / ``std::vector<uint32_t>`` (init: token range of the
        initialiser, braces included, or None) or ``std::string``; True when it is one."""
        kind = list_type(type_text)
        if kind is not None:
            lv = ListVar(name, kind, cond)
            self.lists[name] = lv
            step = ListStep("init", span, cond, indent=self.v.src.indent_at(self.v.toks[start].start))
            lv.steps.append(step)
            if init is not None:
                self._assign(lv, init, step, cond)
            return True
        if is_name_type(type_text):
            self.names[name] = self._name_value(name, init, cond)
            return True
        if init is not None and self._map_entries(*self._call_in(init)) is not None:  # auto m = GetXCandidates();
            a, b = self._call_in(init)
            self.maps[name] = self.v.toks[b - 3].text if b - a >= 3 else self.maps[self.v.toks[a].text]
            return True
        return False

    def _call_in(self, init: tuple[int, int]) -> tuple[int, int]:
        a, b = init
        return (a + 1, b) if self.v.toks[a].text == "=" else (a, b)

    def _name_value(self, name: str, init: tuple[int, int] | None, cond: Cond = ()) -> NameVar:
        v = self.v
        if init is None:
            return NameVar(name, name, None, ("is declared without a tensor name", 0), alts=[], decl_cond=cond)
        a, b = init
        if v.toks[a].text in ("{", "(") and v.match[a] == b - 1:
            a, b = a + 1, b - 1
        q = v.find(a, b, "?")
        if q != -1:
            c = v.find(q + 1, b, ":")
            one, two = self._string_in(q + 1, c), self._string_in(c + 1, b) if c != -1 else None
            if one is not None and two is not None:
                return NameVar(name, name, (normalise_condition(v.canonical(a, q)), one, two))
        else:
            one = self._string_in(a, b)
            if one is not None:
                return NameVar(name, one, None)
        return NameVar(name, name, None, (f"is set to '{v.squash(a, b)}', not a tensor name", a))

    def argument(self, name: str, a: int, b: int) -> NameVar | None:
        """A helper's ``const std::string &name`` parameter given tokens [a, b) of the call: a string, or a
        name variable of the caller."""
        toks = self.v.toks
        if b - a == 1 and toks[a].kind == STRING:
            return NameVar(name, string_value(toks[a].text), None, span=(toks[a].start, toks[a].end))
        if b - a == 1 and toks[a].text in self.names:
            return replace(self.names[toks[a].text], name=name)
        return None

    def _set_name(self, nv: NameVar, i: int, semi: int, cond: Cond) -> NameVar:
        """``x = "a";`` for a name variable declared without a value: under the statement's branch it holds
        that name (or the names of a choice); an assignment to one that had a value is not followed."""
        if nv.alts is None:
            return replace(nv, unknown=(f"is set again at line {self._line(i)}", i))
        new = []
        for x, y, w in self._alternatives(i + 2, semi):
            name = self._string_in(x, y)
            if name is None:
                return replace(nv, unknown=(f"is set to '{self.v.squash(i + 2, semi)}', not a tensor name", i))
            new.append((name, w))
        when = extra(cond, nv.decl_cond)
        kept = [] if not when else [(t, (*d, *c)) for t, c in nv.alts for d in negate(when)]
        return replace(nv, alts=kept + [(t, (*when, *w)) for t, w in new], unknown=None)

    def _string_in(self, a: int, b: int) -> str | None:
        toks = self.v.toks
        if b - a == 1 and toks[a].kind == STRING:
            return string_value(toks[a].text)
        return None

    # -- statements -------------------------------------------------------------------------------
    def statement(self, i: int, semi: int, cond: Cond, span) -> bool:
        """A statement that changes a list variable or pushes onto a node's list; True when handled."""
        toks = self.v.toks
        texts = self.v.texts[i:semi]
        n = len(texts)
        if n >= 3 and toks[i].kind == IDENT and texts[0] in self.lists:
            done = self._list_statement(self.lists[texts[0]], i, semi, texts, cond, span)
            if done is not None:
                return done
        if n >= 3 and toks[i].kind == IDENT and texts[0] in self.names and texts[1] == "=":
            self.names[texts[0]] = self._set_name(self.names[texts[0]], i, semi, cond)
            return True
        which = self.b.voc.which_list(texts[2]) if n >= 4 and texts[1] == "." else None
        if (which is not None and n >= 7 and toks[i].kind == IDENT and texts[3] == "." and texts[5] == "("
                and self.v.match[i + 5] == semi - 1 and self._node_list_call(which, i, semi, texts, cond, span)):
            return True
        if which is not None and texts[3] == "=":
            return False  # a node's list read from a list variable: the body reader takes it
        return self._list_passed(i, semi, cond, span)

    def _list_statement(self, lv: ListVar, i: int, semi: int, texts: list[str], cond: Cond, span) -> bool | None:
        """A statement on list variable ``lv``: True when handled, False when it only reads the list (nothing
        else reads the statement as a list's), None when it is not one of the forms read here."""
        v = self.v
        toks = v.toks
        n = len(texts)
        if texts[1] == "=":  # names = {...};  names = std::vector<std::string>{...};
            step = ListStep("assign", span, cond, indent=v.src.indent_at(toks[i].start))
            lv.steps.append(step)
            self._assign(lv, (i + 2, semi), step, cond)
            return True
        if texts[1] == "." and n >= 5 and texts[3] == "(" and v.match[i + 3] == semi - 1:
            return self._list_method(lv, texts[2], i, semi, cond, span)
        if (texts[1] == "[" and n >= 6 and toks[i + 2].kind == NUMBER and texts[3] == "]" and texts[4] == "="
                and toks[i + 2].text.isdigit()):  # names[0] = "x";
            choice = self.choices(i + 5, semi, lv.kind)
            if len(choice) == 1 and choice[0].ternary is None:
                self._replace_at(lv, {int(toks[i + 2].text): choice[0]}, span, cond, "replace")
                return True
        if texts[1] in ("[", "+=", "-="):
            lv.unknown = lv.unknown or (f"has an element changed at line {self._line(i)}", i)
            return True
        return None

    def _list_method(self, lv: ListVar, method: str, i: int, semi: int, cond: Cond, span) -> bool:
        """``names.push_back(x);``, ``names.insert(...);``, ``names.clear();``...: False for a method that only
        reads the list."""
        if method in ("push_back", "emplace_back"):
            self._push(lv, i + 4, semi - 1, span, cond)
            return True
        if method == "insert":
            self._insert(lv, i + 4, semi - 1, span, cond)
            return True
        if method == "clear":
            lv.elems = [] if not extra(cond, lv.decl_cond) else lv.elems
            if extra(cond, lv.decl_cond):
                lv.unknown = lv.unknown or (f"is cleared under a branch at line {self._line(i)}", i)
            return True
        if method in _READS:
            return False
        lv.unknown = lv.unknown or (f"is changed by {method}() at line {self._line(i)}", i)
        return True

    def _node_list_call(self, which: str, i: int, semi: int, texts: list[str], cond: Cond, span) -> bool:
        """``node.inTensorIds.push_back(X);`` or ``node.inTensorIds.insert(node.inTensorIds.end(), ids.begin(),
        ids.end());``; any other change of a node's list is refused; False for a method that only reads it."""
        v = self.v
        node = self.b._node(texts[0])
        if texts[4] in ("push_back", "emplace_back"):
            self.push_node(node, which, self.choices(i + 6, semi - 1, "ids", pushed=True), span, cond, i)
            return True
        other = self._inserted_list(i + 6, semi - 1, f"{texts[0]}.{texts[2]}") if texts[4] == "insert" else None
        if other is not None and other in self.lists:
            self.append_to_node(node, which, other, span, cond, i, f"{texts[0]}.{texts[2]}")
            return True
        if texts[4] not in _READS:
            raise v.error(i, f"{texts[0]}.{texts[2]}.{texts[4]}(...) changes a node's tensor list in a way the "
                             "tool does not follow; write the list, push_back onto it, or insert another list "
                             "at its end")
        return False

    def _list_passed(self, i: int, semi: int, cond: Cond, span) -> bool:
        """A list variable handed to a function: the entry of a tensor-name map appended to it
        (``AddTensorToList(candidates, "key", names)``), or something the tool cannot follow."""
        v = self.v
        toks = v.toks
        if self.lists.keys().isdisjoint(v.texts[i:semi]):
            return False
        for k in range(i, semi):
            if not (toks[k].kind == IDENT and toks[k].text in self.lists and toks[k - 1].text in ("(", ",")
                    and toks[k + 1].text in (")", ",")):
                continue
            lv = self.lists[toks[k].text]
            opens = [j for j in range(i, k) if toks[j].text == "(" and v.match[j] > k]
            if not opens:
                continue
            o = opens[-1]
            args = v.split_commas(o + 1, v.match[o])
            callee = toks[o - 1].text if toks[o - 1].kind == IDENT else "a function"
            if len(args) == 3 and args[2] == (k, k + 1) and args[1][1] - args[1][0] == 1 \
                    and toks[args[1][0]].kind == STRING:
                entries = self._map_entries(*args[0])
                if entries is not None:
                    key = string_value(toks[args[1][0]].text)
                    if key in entries:
                        self._append_elems(lv, entries[key], span, cond, i, f'{v.squash(*args[0])}["{key}"]')
                    else:
                        lv.unknown = lv.unknown or (f"gets entry \"{key}\" of a tensor-name map that has none, at "
                                                    f"line {self._line(i)}", i)
                    return True
            lv.unknown = lv.unknown or (f"is passed to {callee}() at line {self._line(i)}, which may change it", i)
        return False

    def _map_entries(self, a: int, b: int) -> dict[str, list[ListElem]] | None:
        """The entries of the tensor-name map that tokens [a, b) name: a map variable, or a call of the function
        that builds one."""
        toks = self.v.toks
        maps = self.b.name_maps
        if b - a == 1 and toks[a].text in self.maps:
            return maps[self.maps[toks[a].text]].entries
        if b - a >= 3 and toks[b - 1].text == ")" and toks[b - 2].text == "(" and toks[b - 3].text in maps:
            return maps[toks[b - 3].text].entries
        return None

    def _line(self, i: int) -> int:
        return self.v.src.line_of(self.v.toks[i].start)

    def _assign(self, lv: ListVar, rng: tuple[int, int], step: ListStep, cond: Cond) -> None:
        """``= {...}``, ``{...}``, ``= std::vector<std::string>{...}``, ``= other``, ``= F(...)``."""
        v = self.v
        toks = v.toks
        a, b = rng
        while a < b and toks[a].text != "{" and not (toks[a].kind == IDENT and b - a == 1):
            if toks[a].text == "(" and toks[a - 1].kind == IDENT and v.match[a] == b - 1:  # = F(...)
                got = self._returned(toks[a - 1].text, a, cond)
                if got is None:
                    lv.elems, lv.unknown = [], (f"is filled by {toks[a - 1].text}() at line {self._line(a)}", a)
                    return
                lv.elems, lv.unknown = [], None
                self._append_elems(lv, got.elems, step.span, cond, a, f"{toks[a - 1].text}()", got.steps)
                lv.steps[-1].shared = True  # what a function returns is written in it, for every caller
                return
            a += 1
        new: list[ListElem] = []
        if a < b and toks[a].text == "{" and v.match[a] == b - 1:
            step.brace = (toks[a].start, toks[b - 1].end)
            for x, y in v.split_commas(a + 1, b - 1):
                if x < y:
                    new += self.choices(x, y, lv.kind)
        elif a < b and toks[a].text in self.lists:  # = other list
            new = [replace(e) for e in self.lists[toks[a].text].elems]
        elif a < b:
            lv.elems, lv.unknown = [], (f"is set to '{v.squash(rng[0], rng[1])}' at line {self._line(a)}", a)
            return
        when = extra(cond, lv.decl_cond)
        if not when:
            lv.elems, lv.unknown = [], None
        else:  # the earlier elements stay where the branch is not taken
            lv.elems = [replace(e, cond=(*e.cond, *d)) for e in lv.elems for d in negate(when)]
            new = [replace(e, cond=(*when, *e.cond)) for e in new]
        lv.elems += new
        step.elems = new

    def _returned(self, name: str, paren: int, cond: Cond) -> ListVar | None:
        """The list a function of the pair returns (``return names;``), read as the call gives it its tensor
        names; None when it is no such function."""
        from .body import BodyReader

        f = self.b.helpers.get(name)
        if f is None or f.body is None or list_type(f.return_text.replace("static", "")) is None:
            return None
        v = self.v
        toks = v.toks
        a = v.at(f.body[0])
        rets = [k for k in range(a, v.match[a]) if toks[k].text == "return" and toks[k + 2].text == ";"]
        if not rets or name in self.b._reading:
            return None
        reader = BodyReader(v, f, parent=self.b)
        self.b._reading.append(name)
        try:
            reader.run(cond)
        finally:
            self.b._reading.pop()
        return reader.lists.lists.get(toks[rets[-1] + 1].text)

    def _push(self, lv: ListVar, a: int, b: int, span, cond: Cond) -> None:
        when = extra(cond, lv.decl_cond)
        elems = [replace(e, optional=(*when, *e.optional)) for e in self.choices(a, b, lv.kind, pushed=True)]
        lv.elems += elems
        lv.steps.append(ListStep("push", span, cond, elems=elems, indent=self.v.src.indent_at(self.v.toks[a].start)))

    def _insert(self, lv: ListVar, a: int, b: int, span, cond: Cond) -> None:
        """``names.insert(names.end(), other.begin(), other.end());``"""
        other = self._inserted_list(a, b, lv.name)
        if other is not None:
            self.append(lv, other, span, cond, a)
            return
        lv.unknown = lv.unknown or (f"gets elements inserted at line {self._line(a)}", a)

    def _inserted_list(self, a: int, b: int, target: str) -> str | None:
        """The list whose elements ``insert`` arguments (tokens a..b-1) append to ``target``:
        ``target.end(), other.begin(), other.end()``; None for any other insert."""
        v = self.v
        parts = [v.squash(x, y).replace(" ", "") for x, y in v.split_commas(a, b)]
        m = [re.fullmatch(r"(\w+)\.c?(begin|end)\(\)", p) for p in parts]
        if (len(parts) == 3 and parts[0] == f"{target}.end()" and m[1] and m[2] and m[1].group(1) == m[2].group(1)
                and m[1].group(2) == "begin" and m[2].group(2) == "end"):
            return m[1].group(1)
        return None

    def append_to_node(self, node: str, which: str, other: str, span, cond: Cond, at: int, shown: str) -> None:
        """The elements of a list variable appended to a node's own list (a loop pushing each, or
        ``insert``); refused when that list is not one the reader follows. ``shown``: the node's list as
        written."""
        src = self.lists.get(other)
        if src is None or src.unknown is not None:
            why = src.unknown[0] if src is not None and src.unknown else "is not a list of this function"
            raise self.v.error(at, f"{shown} gets the elements of {other}, which {why}")
        self.uses[other] = self.uses.get(other, 0) + 1
        self.push_node(node, which, src.elems, span, cond, at, step_kind="append", source=other, parts=src.steps)

    def append(self, lv: ListVar, other: str, span, cond: Cond, at: int) -> None:
        """The elements of another list variable appended (a loop pushing each, or ``insert``)."""
        src = self.lists.get(other)
        if src is None or src.unknown is not None:
            why = src.unknown[0] if src is not None and src.unknown else "is not a tensor list of this function"
            lv.unknown = lv.unknown or (f"gets the elements of {other}, which {why}", at)
            return
        self.uses[other] = self.uses.get(other, 0) + 1
        self._append_elems(lv, src.elems, span, cond, at, other, list(src.steps))

    def _append_elems(self, lv: ListVar, elems: list[ListElem], span, cond: Cond, at: int, source: str,
                      parts: list[ListStep] | None = None) -> None:
        when = extra(cond, lv.decl_cond)
        added = [replace(e, optional=(*when, *e.optional)) for e in elems]
        lv.elems += added
        lv.steps.append(ListStep("append", span, cond, elems=added, indent=self.v.src.indent_at(self.v.toks[at].start),
                                 source=source, shared=source not in self.lists, parts=parts or []))

    def finish(self) -> None:
        """Once the function is read: an appended list that other lists read too is shared."""
        steps = [st for lv in self.lists.values() for st in lv.steps]
        steps += [st for lst in self.b.layer.lists for st in lst.steps]
        for step in steps:
            if step.kind == "append" and step.source in self.lists:
                step.shared = self.uses.get(step.source, 0) > 1

    def rename(self, lv: ListVar, first: int, stop: int, suffix: str, span, cond: Cond) -> None:
        """``for (int i = first; i < stop; i++) { names[i] += "suffix"; }``: under the loop's branch those
        elements have other names."""
        if stop > len(lv.elems):
            lv.unknown = lv.unknown or (f"has elements renamed past its end at line {self._line_at(span)}", 0)
            return
        self._replace_at(lv, {k: replace(lv.elems[k], text=lv.elems[k].text + suffix) for k in range(first, stop)},
                         span, cond, "rename")

    def _replace_at(self, lv: ListVar, new: dict[int, ListElem], span, cond: Cond, kind: str) -> None:
        """Elements replaced by position (``names[0] = "x";``): where the statement's branch is taken the list
        holds the new ones; the old ones stay where it is not."""
        if any(e.cond or e.optional for e in lv.elems[:max(new) + 1]) or max(new) >= len(lv.elems):
            lv.unknown = lv.unknown or (f"has elements changed by position at line {self._line_at(span)}, where "
                                        "its length depends on branches", 0)
            return
        when = extra(cond, lv.decl_cond)
        out: list[ListElem] = []
        added: list[ListElem] = []
        for k, e in enumerate(lv.elems):
            if k not in new:
                out.append(e)
                continue
            if when:
                out += [replace(e, cond=(*d, *e.cond)) for d in negate(when)]
            put = replace(new[k], cond=(*when, *new[k].cond))
            added.append(put)
            out.append(put)
        lv.elems = out
        lv.steps.append(ListStep(kind, span, cond, elems=added))

    def _line_at(self, span) -> int:
        return self.v.src.line_of(span[0])

    # -- elements ---------------------------------------------------------------------------------
    def choices(self, a: int, b: int, kind: str, *, pushed: bool = False) -> list[ListElem]:
        """The element(s) one list item stands for. ``c ? "x" : "y"`` in an initialiser is one element whose
        choice makes variants, as in a brace list; written in a push, or nested (``c ? "x" : d ? "y" : "z"``),
        it is one element per name, each taken under its side of the conditions (``optional`` in a push,
        ``cond`` otherwise)."""
        v = self.v
        toks = v.toks
        alts = self._alternatives(a, b)
        whole = (toks[a].start, toks[b - 1].end)
        nv = self.names.get(toks[a].text) if b - a == 1 else None
        if nv is not None and nv.alts and nv.unknown is None:  # a name variable set under branches
            if len(nv.alts) == 1 and not nv.alts[0][1]:
                return [ListElem(nv.alts[0][0], whole)]
            return [ListElem(t, whole, optional=w) if pushed else ListElem(t, whole, cond=w) for t, w in nv.alts]
        if len(alts) == 1:
            e = self.element(a, b, kind)
            if e.ternary is None or not pushed:
                return [e]
            c, one, two = e.ternary  # a name variable holding a choice, pushed
            alts_named = [(one, ((c, True),)), (two, ((c, False),))]
            return [replace(e, text=t, ternary=None, optional=w) for t, w in alts_named]
        if len(alts) == 2 and not pushed and all(len(c) == 1 for _, _, c in alts):
            one, two = (self._single(x, y) for x, y, _ in alts)
            if one is not None and two is not None:
                return [ListElem(v.squash(a, b), whole, (alts[0][2][0][0], one, two))]
        out = []
        for x, y, when in alts:
            e = self.element(x, y, kind)
            if e.ternary is not None:
                raise v.error(x, f"cannot read the tensor in '{v.squash(a, b)}'; write the names in the choice")
            e = replace(e, item=whole)
            out.append(replace(e, optional=when) if pushed else replace(e, cond=when))
        return out

    def _alternatives(self, a: int, b: int) -> list[tuple[int, int, Cond]]:
        """The names a (possibly nested) choice ``c ? x : y`` can take: token ranges with their conditions."""
        v = self.v
        if v.toks[a].text == "(" and v.match[a] == b - 1:  # (c ? "x" : "y")
            return self._alternatives(a + 1, b - 1)
        q = v.find(a, b, "?")
        if q == -1 and b - a > 2 and v.toks[b - 1].text == ")" and v.toks[v.match[b - 1] - 1].kind == IDENT:
            args = v.split_commas(v.match[b - 1] + 1, b - 1)  # GetTensorIdx(map, c ? "x" : "y")
            if args and v.find(*args[-1], "?") != -1:
                return self._alternatives(*args[-1])
        if q == -1:
            return [(a, b, ())]
        depth, k, colon = 0, q + 1, -1
        while k < b:
            t = v.toks[k].text
            if t in ("(", "[", "{"):
                k = v.match[k] + 1
                continue
            if t == "?":
                depth += 1
            elif t == ":":
                if depth == 0:
                    colon = k
                    break
                depth -= 1
            k += 1
        if colon == -1:
            raise v.error(a, f"cannot read the tensor in '{v.squash(a, b)}'")
        c = normalise_condition(v.canonical(a, q))
        return ([(x, y, ((c, True), *w)) for x, y, w in self._alternatives(q + 1, colon)]
                + [(x, y, ((c, False), *w)) for x, y, w in self._alternatives(colon + 1, b)])

    def element(self, a: int, b: int, kind: str) -> ListElem:
        """One tensor of a list: a string, an enum name, a name variable, or a call around one of them
        (``GetTensorIdx(map, "x")``, ``static_cast<uint32_t>(X)``)."""
        v = self.v
        toks = v.toks
        while toks[a].text == "(" and v.match[a] == b - 1:
            a, b = a + 1, b - 1
        strings = [k for k in range(a, b) if toks[k].kind == STRING]
        if len(strings) == 1:
            t = toks[strings[0]]
            item = (toks[a].start, toks[b - 1].end) if b - a > 1 else None
            return ListElem(string_value(t.text), (t.start, t.end), item=item)
        idents = [k for k in range(a, b) if toks[k].kind == IDENT and toks[k + 1].text not in ("(", "<", "::")
                  and toks[k - 1].text not in (".", "->")]
        if not strings and idents:
            k = idents[-1]
            t = toks[k]
            nv = self.names.get(t.text)
            if nv is not None:
                if nv.unknown is not None:
                    raise v.error(nv.unknown[1] or k, f"tensor name variable {nv.name} {nv.unknown[0]}; the tool "
                                                      "reads `std::string x = c ? \"a\" : \"b\";`")
                return ListElem(nv.text, nv.span or (t.start, t.end), nv.ternary)
            if kind == "ids" and (b - a == 1 or re.fullmatch(r"(?:static_cast<[\w:]+>|uint32_t|int)\([\w:]+\)",
                                                              v.squash(a, b).replace(" ", ""))):
                return ListElem(t.text, (t.start, t.end))
        raise v.error(a, f"cannot read the tensor in '{v.squash(a, b)}'; write a tensor name or id")

    def _single(self, a: int, b: int) -> str | None:
        toks = self.v.toks
        if b - a == 1 and toks[a].kind == STRING:
            return string_value(toks[a].text)
        text = self.v.squash(a, b).replace(" ", "")
        if re.fullmatch(r"[\w:]+", text):
            return text.rsplit("::", 1)[-1]
        return None

    # -- node lists -------------------------------------------------------------------------------
    def node_list(self, node: str, which: str, var: str, span, brace, cond: Cond, at: int) -> TensorList:
        """``node.inTensorIds = GetTensorIdxList(map, names);``"""
        lv = self.lists[var]
        self.uses[var] = self.uses.get(var, 0) + 1
        if lv.unknown is not None:
            raise self.v.error(lv.unknown[1] or at, f"{node}.{self.b.voc.tensor_list(which)} "
                                                    f"reads {var}, which {lv.unknown[0]}; the tool reads lists "
                                                    "written in the layer (initialised, reassigned, pushed onto)")
        return TensorList(node, which, [replace(e) for e in lv.elems], span, brace, cond,
                          "list" if lv.kind == "names" else "", var=var, steps=list(lv.steps))

    def push_node(self, node: str, which: str, elems: list[ListElem], span, cond: Cond, at: int,
                  step_kind: str = "push", source: str | None = None, parts: list[ListStep] | None = None) -> None:
        """``node.inTensorIds.push_back(X)``: every list set on the node so far grows by X where the push's
        branch is taken."""
        lists = [lst for lst in self.b.layer.lists if lst.node == node and lst.which == which]
        if not lists:
            lst = TensorList(node, which, [], span, span, self.b.base_cond, steps=[])
            self.b.layer.lists.append(lst)
            lists = [lst]
        indent = self.v.src.indent_at(self.v.toks[at].start)
        for lst in lists:
            when = extra(cond, lst.cond)
            new = [replace(e, optional=(*when, *e.optional)) for e in elems]
            lst.elems += new
            lst.steps.append(ListStep(step_kind, span, cond, elems=new, indent=indent, source=source,
                                      parts=list(parts or [])))


__all__ = ["ListReader", "ListVar", "NameVar", "extra", "is_name_type", "list_type", "negate"]
