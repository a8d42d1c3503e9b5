"""What every spelling step shares: the source model, the float graph, the edits made so far, and how text
is placed (line ends before a CRLF, statements deleted with their line, lines inserted before a statement)."""

from __future__ import annotations

from dataclasses import dataclass, field

from llm_transform.graph.catalogue import catalogue
from llm_transform.graph.layer_graph import LayerGraph
from llm_transform.graph.plan import Plan
from llm_transform.source.model import CreateCall, LayerSource, ParamDecl

from .edits import DELETE, Edit


def ends_line(rest: str, *, block_comment: bool = False) -> bool:
    """The rest of a line holds no more code: nothing, or a ``//`` comment (with ``block_comment``, a
    ``/* */`` one too)."""
    rest = rest.strip()
    return rest == "" or rest.startswith("//") or (block_comment and rest.startswith("/*") and rest.endswith("*/"))


@dataclass
class Edits:
    m: LayerSource
    old: LayerGraph  # the float layer's graph (its variants hold each op's source setup)
    plan: Plan
    edits: dict[str, list[Edit]] = field(default_factory=lambda: {"cpp": [], "h": []})
    includes_done: set[str] = field(default_factory=set)

    def edit(self, which: str, offset: int, length: int, text: str, why: str = "") -> None:
        self.edits[which].append(Edit(offset, length, text, why))

    def nl(self, which: str) -> str:
        return self.m.file(which).newline

    def line_end(self, which: str, offset: int) -> int:
        """Where the line holding ``offset`` ends: before its line break (both characters of a CRLF), so that
        text inserted there never splits a CRLF into a lone CR."""
        text = self.m.file(which).text
        i = text.find("\n", offset)
        if i == -1:
            return len(text)
        return i - 1 if i > offset and text[i - 1] == "\r" else i

    def next_line(self, which: str, offset: int) -> int:
        """Where the line after the one holding ``offset`` starts (the end of the text on the last line)."""
        text = self.m.file(which).text
        i = text.find("\n", offset)
        return len(text) if i == -1 else i + 1

    def delete_statement(self, span: tuple[int, int]) -> None:
        """A statement of the .cpp goes: with its line where it has the line to itself."""
        src = self.m.cpp
        start = src.line_start(span[0])
        end = self.line_end("cpp", span[1])
        if src.text[start:span[0]].strip() == "" and src.text[span[1]:end].strip() == "":
            self.edit("cpp", start, self.next_line("cpp", span[1]) - start, "", DELETE)
        else:
            self.edit("cpp", span[0], span[1] - span[0], "", DELETE)

    def insert_before(self, create: CreateCall, lines: list[str]) -> None:
        """Statements right before a creation call's statement, each on a line of its own at its indent."""
        if not lines:
            return
        src = self.m.cpp
        at = create.statement_start
        start = src.line_start(at)
        if src.text[start:at].strip():
            # the call shares its line with other code: put the lines before the statement itself
            self.edit("cpp", at, 0, " ".join(lines) + " ", "fields")
            return
        nl, indent = src.newline, src.indent_at(at)
        self.edit("cpp", start, 0, "".join(f"{indent}{ln}{nl}" for ln in lines), "fields")

    def assigns(self, decl: ParamDecl):
        return [a for a in self.m.layer.assigns if a.param is decl]

    def decl_of(self, op: str) -> ParamDecl | None:
        return self.old.graph.nodes[op]["variant"].param

    def create_of(self, op: str) -> CreateCall | None:
        return self.old.graph.nodes[op]["variant"].create

    def brace_fields(self, decl: ParamDecl) -> dict[str, tuple[str, tuple[int, int]]]:
        """A brace initialiser's elements by the field each sets (the catalogue gives the type's field order):
        field -> (text, span)."""
        if not decl.init or not decl.init.strip().startswith("{") or decl.init_span is None:
            return {}
        entry = catalogue().entry(decl.type_text)
        names = entry.brace_fields if entry else ()
        if not names:
            return {}
        text = self.m.cpp.text
        return {name: (text[a:b], (a, b)) for name, (a, b) in zip(names, decl.init_elems, strict=False)}
