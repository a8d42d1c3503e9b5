"""Branch conditions: enumerate assignments of the atoms a node depends on and name the variants."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence

Cond = tuple[tuple[str, bool], ...]
Assignment = dict[str, bool]

#: Beyond this many independent conditions on one node the enumeration is not worth it.
MAX_ATOMS = 10
_SIMPLE = re.compile(r"^[A-Za-z_][\w.]*(?:->[\w.]+)*$")


def holds(cond: Cond, assignment: Assignment) -> bool:
    return all(assignment.get(atom, False) == pol for atom, pol in cond)


def exclusive(a: Cond, b: Cond) -> bool:
    """No assignment satisfies both: they hold a literal with opposite polarity."""
    pols = dict(a)
    return any(atom in pols and pols[atom] != pol for atom, pol in b)


def assignments(atoms: Sequence[str]) -> Iterable[Assignment]:
    for values in itertools.product((True, False), repeat=len(atoms)):
        yield dict(zip(atoms, values, strict=True))


def literal(atom: str, pol: bool) -> str:
    if pol:
        return atom
    return f"!{atom}" if _SIMPLE.match(atom) else f"!({atom})"


def describe(group: list[Assignment], others: list[Assignment], atoms: Sequence[str]) -> str:
    """Shortest conjunction (or disjunction of them) of literals that holds on ``group`` and on none of
    ``others``; assignments in neither are don't-cares."""
    if not others:
        return ""
    remaining = list(group)
    cubes: list[list[tuple[str, bool]]] = []
    while remaining:
        best = None
        for size in range(1, len(atoms) + 1):
            for subset in itertools.combinations(atoms, size):
                target = remaining[0]
                cube = [(a, target[a]) for a in subset]
                if any(all(o[a] == p for a, p in cube) for o in others):
                    continue
                best = cube
                break
            if best:
                break
        if best is None:  # pragma: no cover - a full assignment always separates
            best = [(a, remaining[0][a]) for a in atoms]
        cubes.append(best)
        remaining = [g for g in remaining if not all(g[a] == p for a, p in best)]
    texts = [" && ".join(literal(a, p) for a, p in cube) for cube in cubes]
    if len(texts) == 1:
        return texts[0]
    return " || ".join(f"({t})" if " && " in t else t for t in texts)


def as_text(cond: Cond) -> str:
    return " && ".join(literal(a, p) for a, p in cond)
