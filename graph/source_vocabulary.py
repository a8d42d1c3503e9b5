"""The source reader's vocabulary built from the catalogue's ``[source]`` table.

The source floor may not import this floor, so it does not read the catalogue itself: the top package
registers ``source_vocabulary`` as its loader (see ``llm_transform.source.vocabulary``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from llm_transform.source.vocabulary import Vocabulary

from .catalogue import catalogue_data


class VocabularyError(ValueError):
    """The ``[source]`` table does not say what the reader needs, or says something it does not know."""


def vocabulary_from(table: dict[str, Any]) -> Vocabulary:
    """A ``Vocabulary`` from the ``[source]`` table; lists become tuples. A missing, unknown or mistyped key is
    an error naming it."""
    fields = {f.name: f for f in dataclasses.fields(Vocabulary)}
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise VocabularyError(f"source: unknown key {unknown[0]!r} (known: {', '.join(sorted(fields))})")
    missing = sorted(set(fields) - set(table))
    if missing:
        raise VocabularyError(f"source: missing key {missing[0]!r}")
    values: dict[str, Any] = {}
    for name, value in table.items():
        many = str(fields[name].type).startswith("tuple")
        ok = (isinstance(value, list) and value and all(isinstance(v, str) and v for v in value)) if many \
            else (isinstance(value, str) and bool(value))
        if not ok:
            raise VocabularyError(f"source.{name}: expected {'a list of words' if many else 'a word'}, got {value!r}")
        values[name] = tuple(value) if many else value
    return Vocabulary(**values)


def source_vocabulary() -> Vocabulary:
    return vocabulary_from(catalogue_data()["source"])
