"""The plan's names spelled: every token of the pair that names what the rewrite renames (a name qualified by
another namespace is another's), whole words inside the pair's own strings (`opGraph.name`, log texts), the
include guard, and the .cpp's include of its own header."""

from __future__ import annotations

from llm_transform.source.lexer import IDENT, STRING
from llm_transform.source.names import replace_words

from .edits import GUARD, OWN_HEADER, RENAME, RENAME_IN_STRING
from .text import Edits


def write_renames(ed: Edits) -> dict[str, str]:
    """The edits; returns old -> new of the identifiers renamed."""
    names = {r.old: r.new for r in ed.plan.renames if r.kind not in ("guard", "header")}
    if names:
        _identifiers(ed, names)
    for r in ed.plan.renames:
        if r.kind == "guard":
            for gd in ed.m.guards:
                if gd.name == r.old:
                    for s in gd.name_spans:
                        ed.edit(gd.file, s[0], s[1] - s[0], r.new, GUARD)
        elif r.kind == "header":
            _own_header(ed, r.old, r.new)
    return names


def _identifiers(ed: Edits, names: dict[str, str]) -> None:
    renamed = replace_words(names)
    own = {name.rsplit("::", 1)[-1] for _w, name, _s in ed.m.namespaces} | set(names) | {s.name for s in ed.m.structs}
    for which in ("cpp", "h"):
        if which == "h" and ed.m.h is None:
            continue
        toks = ed.m.file(which).tokens
        for k, t in enumerate(toks):
            kind = t.kind
            if kind == IDENT:
                # `atb::infer::SelfAttentionParam` is another type than the layer's own `SelfAttentionParam`: a
                # name qualified by a namespace or class other than the pair's is not the pair's
                if t.text in names and not (k >= 2 and toks[k - 1].text == "::" and toks[k - 2].text not in own):
                    ed.edit(which, t.start, t.end - t.start, names[t.text], RENAME)
            elif kind == STRING and (new := renamed(t.text)) != t.text:
                ed.edit(which, t.start, t.end - t.start, new, RENAME_IN_STRING)


def _own_header(ed: Edits, old: str, new: str) -> None:
    """The .cpp includes its own new header, whatever the names: the float header lacks the new fields."""
    for inc in ed.m.own_header_includes():  # its path ends with the header's name
        ed.edit("cpp", inc.target_span[1] - len(old), len(old), new, OWN_HEADER)
