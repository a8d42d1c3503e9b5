"""Renaming whole words inside text that is not a single identifier (strings, compiler messages)."""

from __future__ import annotations

import re
from collections.abc import Callable


def replace_words(mapping: dict[str, str]) -> Callable[[str], str]:
    """A function that replaces every whole-word occurrence of a key by its value (longest key first)."""
    if not mapping:
        return lambda text: text
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(mapping, key=len, reverse=True))) + r")\b")
    return lambda text: pattern.sub(lambda m: mapping[m.group(1)], text)
