"""A source file as bytes we must give back unchanged except where the rewrite edits it."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from .errors import LayerError
from .lexer import Comment, LexError, Token, tokenize

BOM = b"\xef\xbb\xbf"
#: Layer files are a few hundred lines; anything far larger is not a layer and would only waste time.
MAX_SOURCE_BYTES = 2 * 1024 * 1024


@dataclass
class SourceFile:
    """Decoded text plus what is needed to write it back byte-identically.

    Offsets everywhere in the source model are character offsets into ``text``; ``byte_offset``
    converts one into the file's byte offset (they differ after a BOM or non-ASCII characters).
    """

    path: Path
    text: str
    has_bom: bool = False
    tokens: list[Token] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)

    @classmethod
    def from_bytes(cls, path: Path, data: bytes) -> SourceFile:
        if len(data) > MAX_SOURCE_BYTES:
            raise LayerError(path, None, f"file is {len(data)} bytes, larger than the "
                             f"{MAX_SOURCE_BYTES} bytes a layer file can be; is it really a layer?")
        if not data.strip():
            raise LayerError(path, None, "file is empty; give the float layer .cpp/.h pair")
        if b"\0" in data:
            raise LayerError(path, None, "file contains NUL bytes (binary?); give the C++ source")
        has_bom = data.startswith(BOM)
        body = data[len(BOM):] if has_bom else data
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = body[: exc.start].count(b"\n") + 1
            raise LayerError(path, line, "file is not UTF-8; convert it to UTF-8 and run again") from None
        src = cls(path=path, text=text, has_bom=has_bom)
        try:
            src.tokens, src.comments = tokenize(text)
        except LexError as exc:
            raise LayerError(path, src.line_of(exc.offset), f"cannot tokenize: {exc}") from None
        return src

    @classmethod
    def read(cls, path: Path) -> SourceFile:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise LayerError(path, None, "file not found; check the path") from None
        except IsADirectoryError:
            raise LayerError(path, None, "is a folder, not a file") from None
        except OSError as exc:
            raise LayerError(path, None, f"cannot read: {exc.strerror}") from None
        return cls.from_bytes(path, data)

    @cached_property
    def line_starts(self) -> list[int]:
        starts = [0]
        text = self.text
        i = text.find("\n")
        while i != -1:
            starts.append(i + 1)
            i = text.find("\n", i + 1)
        return starts

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self.line_starts, offset)

    def line_start(self, offset: int) -> int:
        return self.line_starts[self.line_of(offset) - 1]

    def indent_at(self, offset: int) -> str:
        """The white space that begins the line holding ``offset``."""
        start = self.line_start(offset)
        end = start
        while end < len(self.text) and self.text[end] in " \t":
            end += 1
        return self.text[start:end]

    @cached_property
    def newline(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"

    def byte_offset(self, offset: int) -> int:
        return len(self.text[:offset].encode("utf-8")) + (len(BOM) if self.has_bom else 0)

    def encode(self, text: str | None = None) -> bytes:
        body = (self.text if text is None else text).encode("utf-8")
        return BOM + body if self.has_bom else body

    def where(self, offset: int) -> str:
        return f"{self.path}:{self.line_of(offset)}"
