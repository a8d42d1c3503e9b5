"""Where a layer that names its tensors by strings declares them.

Two forms: vectors of names (``std::vector<std::string> inTensorList = {"in_hidden_states", ...};``), and maps
from a key to such a list (``std::map<std::string, std::vector<std::string>>``), built in a function
(``GetXInTensorCandidates()`` returning ``{{"default", {...}}, {"lora", {...}}}``) or filled through a
reference (``candidates["default"] = {...};``), whose entries the layer copies into its lists
(``AddTensorToList(candidates, "default", inTensorList)``). Each name keeps the name of what declares it (the
list variable, the map, or the function building the map): the graph decides kinds from it where the name
itself does not tell."""

from __future__ import annotations

import bisect

from .lexer import IDENT, STRING
from .model import FunctionDef, ListElem, NameMap, TensorVar
from .tokens import TokenView, string_value
from .vocabulary import vocabulary


def name_maps(view: TokenView, functions: list[FunctionDef]) -> dict[str, NameMap]:
    """Per function of the file: the map entries it writes, itself or through the functions it calls that fill
    a map given to them (``void SetDefaults(std::map<...> &candidates)``)."""
    toks = view.toks
    own: dict[str, NameMap] = {}
    bodies: dict[str, tuple[int, int]] = {}
    for f in functions:
        if f.file != view.which or f.body is None:
            continue
        a = view.at(f.body[0])
        bodies[f.short_name] = (a, view.match[a])
        nm = NameMap(f.short_name)
        for key, elems in _entries(view, a + 1, view.match[a]):
            nm.entries.setdefault(key, []).extend(elems)
        own[f.short_name] = nm
    out: dict[str, NameMap] = {}
    if not any(nm.entries for nm in own.values()):
        return out  # no map anywhere: none to merge through calls either
    for name, nm in own.items():
        merged = NameMap(name, {k: list(v) for k, v in nm.entries.items()})
        a, b = bodies[name]
        for k in range(a, b):
            callee = toks[k].text
            if toks[k].kind == IDENT and toks[k + 1].text == "(" and callee in own and callee != name:
                for key, elems in own[callee].entries.items():
                    merged.entries.setdefault(key, []).extend(elems)
        if merged.entries:
            out[name] = merged
    return out


def _entries(view: TokenView, a: int, b: int):
    """``{"key", {"x", "y"}}`` pairs and ``m["key"] = {"x", "y"};`` statements in tokens [a, b)."""
    toks = view.toks
    # both forms have a string one or two tokens in: only those places are looked at
    strings = view.strings
    near = strings[bisect.bisect_left(strings, a + 1):bisect.bisect_left(strings, b + 2)]
    starts = sorted({k for s in near for k in (s - 1, s - 2) if a <= k < b})
    skip = a
    for k in starts:
        if k < skip:
            continue
        t = toks[k]
        if (t.text == "{" and toks[k + 1].kind == STRING and toks[k + 2].text == "," and toks[k + 3].text == "{"
                and view.match[k + 3] + 1 == view.match[k]):
            yield string_value(toks[k + 1].text), _strings(view, k + 3)
            skip = view.match[k] + 1
            continue
        if (t.kind == IDENT and toks[k + 1].text == "[" and toks[k + 2].kind == STRING and toks[k + 3].text == "]"
                and toks[k + 4].text == "=" and toks[k + 5].text == "{"):
            yield string_value(toks[k + 2].text), _strings(view, k + 5)
            skip = view.match[k + 5] + 1


def _strings(view: TokenView, brace: int) -> list[ListElem]:
    return [ListElem(string_value(t.text), (t.start, t.end)) for t in view.toks[brace + 1:view.match[brace]]
            if t.kind == STRING]


def declared_names(view: TokenView, maps: dict[str, NameMap]) -> list[TensorVar]:
    """Every tensor name the file may declare, in file order: the strings of ``std::vector<std::string> x =
    {...}`` and ``x.push_back("...")`` whose variable is named for tensors, and of the tensor-name maps, each with
    what declares it. Strings that turn out to be a node's list (read by the body reader) are dropped later."""
    toks = view.toks
    word = vocabulary().tensor_word.lower()
    found: list[TensorVar] = []
    texts = view.texts
    for k in [k for k in range(len(toks) - 8) if texts[k] == "vector"]:
        if not (toks[k + 1].text == "<" and toks[k + 2].text == "std"
                and toks[k + 4].text == "string" and toks[k + 5].text == ">"):
            continue
        j = k + 6
        if j >= len(toks) or toks[j].kind != IDENT or word not in toks[j].text.lower():
            continue
        name = toks[j].text
        j += 1
        if j < len(toks) and toks[j].text == "=":
            j += 1
        if j >= len(toks) or toks[j].text != "{":
            continue
        found += [TensorVar(string_value(t.text), view.which, (t.start, t.end), context=name)
                  for t in toks[j + 1:view.match[j]] if t.kind == STRING]
    for k in [s - 4 for s in view.strings if 0 <= s - 4 < len(toks) - 5]:  # inTensorList.push_back("in_q_len");
        if (toks[k].kind == IDENT and word in toks[k].text.lower() and toks[k + 1].text == "."
                and toks[k + 2].text in ("push_back", "emplace_back") and toks[k + 3].text == "("
                and toks[k + 4].kind == STRING and toks[k + 5].text == ")"):
            found.append(TensorVar(string_value(toks[k + 4].text), view.which, (toks[k + 4].start, toks[k + 4].end),
                                   context=toks[k].text))
    for nm in maps.values():
        for elems in nm.entries.values():
            found += [TensorVar(e.text, view.which, e.span, context=nm.function) for e in elems]
    seen: set[tuple[int, int]] = set()
    out = []
    for tv in sorted(found, key=lambda tv: tv.span[0]):
        if tv.span not in seen:
            seen.add(tv.span)
            out.append(tv)
    return out
