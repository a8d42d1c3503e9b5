"""The one exception type a user may see from the library."""

from __future__ import annotations

from pathlib import Path

MAX_REASON = 400


def one_line(text: str) -> str:
    """Messages quote source text, which may span lines; what the user reads is always one line."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


class LayerError(Exception):
    """A file the tool cannot read, model or rewrite, with the place to look.

    Every refusal goes through this type so the CLI can print one line per file and carry on with the
    next; anything else escaping the library is a bug.
    """

    def __init__(self, path: str | Path | None, line: int | None, reason: str, *, kind: str = "error"):
        self.path = str(path) if path is not None else None
        self.line = line
        self.reason = one_line(reason)
        #: "error" for unreadable/unmodellable input, or a non-candidate class
        #: (w8a8, template, sparse_branches, plugin_ops, quant_branches, operation, embedding).
        self.kind = kind
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.reason}"
