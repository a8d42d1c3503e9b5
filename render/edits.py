"""Non-overlapping text replacements applied to the original text."""

from __future__ import annotations

from dataclasses import dataclass

# What an edit is for, where another step of the spelling acts on it (other edits say why in free words).
RENAME = "rename"  # an identifier the pair owns, renamed
RENAME_IN_STRING = "rename in string"  # the same name inside a string literal
GUARD = "guard"  # the header's include guard
OWN_HEADER = "own header"  # the .cpp's include of its own header
DELETE = "delete"  # code removed (a folded add, an unused param)
#: what a branch's float form keeps of the edits inside it: the names that make the pair its own
BOTH_FORMS = frozenset({RENAME, RENAME_IN_STRING, GUARD, OWN_HEADER})


@dataclass(frozen=True, order=True)
class Edit:
    offset: int
    length: int
    text: str
    why: str = ""


class EditConflict(ValueError):
    pass


def apply_edits(text: str, edits: list[Edit]) -> str:
    """Apply replacements given as offsets into ``text``; insertions at one offset keep their order."""
    ordered = sorted(enumerate(edits), key=lambda ie: (ie[1].offset, ie[1].length > 0, ie[0]))
    out: list[str] = []
    pos = 0
    for _, e in ordered:
        if e.offset < pos:
            raise EditConflict(f"edits overlap at offset {e.offset} ({e.why})")
        out.append(text[pos : e.offset])
        out.append(e.text)
        pos = e.offset + e.length
    out.append(text[pos:])
    return "".join(out)
