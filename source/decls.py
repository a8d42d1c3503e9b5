"""Namespace-level declarations of a layer file: guard, includes, enums, structs, constants, functions."""

from __future__ import annotations

import re

from .lexer import IDENT, PUNCT, STRING
from .model import (
    Constant,
    EnumDecl,
    EnumEntry,
    FunctionDef,
    Guard,
    Include,
    JsonRead,
    LayerSource,
    MacroCall,
    Span,
    StructDecl,
    StructField,
)
from .tokens import OPEN, TokenView, qualified_name_before
from .vocabulary import vocabulary

_INCLUDE_RE = re.compile(r'#\s*include\s*([<"])([^>"]+)[>"]')
_IFNDEF_RE = re.compile(r"#\s*ifndef\s+(\w+)")
_DEFINE_RE = re.compile(r"#\s*define\s+(\w+)\s*$")
_ENDIF_RE = re.compile(r"#\s*endif\b")
_DECL_KEYWORDS = {"static", "inline", "extern", "constexpr", "virtual", "explicit", "const", "friend"}


def read_directives(view: TokenView, model: LayerSource) -> None:
    which = view.which
    directives = view.directives
    for d in directives:
        m = _INCLUDE_RE.match(d.text)
        if m:
            model.includes.append(Include(which, m.group(2), (d.start, d.end),
                                          (d.start + m.start(2), d.start + m.end(2))))
    # Include guard: the first directive is #ifndef X, the next #define X, the last #endif.
    if len(directives) >= 2:
        m1 = _IFNDEF_RE.match(directives[0].text)
        m2 = _DEFINE_RE.match(directives[1].text.split("//")[0].rstrip())
        if m1 and m2 and m1.group(1) == m2.group(1):
            name = m1.group(1)
            endif = directives[-1] if _ENDIF_RE.match(directives[-1].text) else None
            spans = []
            for d in (directives[0], directives[1], endif):
                if d is None:
                    continue
                for m in re.finditer(r"\b" + re.escape(name) + r"\b", d.text):
                    spans.append((d.start + m.start(), d.start + m.end()))
            model.guards.append(
                Guard(which, name, (directives[0].start, directives[0].end),
                      (directives[1].start, directives[1].end),
                      (endif.start, endif.end) if endif else None, spans)
            )


class DeclReader:
    """Walks the namespace-level token stream of one file and fills the model."""

    def __init__(self, view: TokenView, model: LayerSource):
        self.v = view
        self.m = model
        self.which = view.which

    def run(self) -> None:
        self.scope(0, len(self.v), [])

    # -- scopes -----------------------------------------------------------------------------------
    def scope(self, i: int, end: int, ns: list[str]) -> None:
        v = self.v
        while i < end:
            t = v.toks[i]
            if t.text == ";":
                i += 1
            elif t.text == "namespace" and t.kind == IDENT:
                i = self.namespace(i, ns)
            elif t.text in ("enum",) and t.kind == IDENT:
                i = self.enum(i)
            elif t.text in ("struct", "class") and t.kind == IDENT and self._is_class_def(i + 1):
                i = self.class_def(i)
            elif t.text == "template":
                i = self._skip_template_header(i)
            elif t.text in ("using", "typedef") or (t.text == "extern" and v.is_(i + 1, '"C"')):
                i = self._statement_end(i) + 1
            else:
                i = self.declaration(i, ns)

    def namespace(self, i: int, ns: list[str]) -> int:
        v = self.v
        j = i + 1
        names = []
        while j < len(v) and v.toks[j].text != "{":
            if v.toks[j].kind == IDENT:
                names.append(v.toks[j].text)
            elif v.toks[j].text == "=" or v.toks[j].text == ";":  # namespace alias
                return self._statement_end(i) + 1
            j += 1
        if j >= len(v):
            raise v.error(i, "namespace without a body")
        close = v.match[j]
        name = "::".join(names)
        self.m.namespaces.append((self.which, name, (v.toks[i].start, v.toks[close].end)))
        self.scope(j + 1, close, [*ns, *names])
        return close + 1

    def _is_class_def(self, j: int) -> bool:
        v = self.v
        while j < len(v) and v.toks[j].text not in ("{", ";", "(", "="):
            j += 1
        return j < len(v) and v.toks[j].text == "{"

    def _skip_template_header(self, i: int) -> int:
        v = self.v
        depth = 0
        j = i + 1
        while j < len(v):
            if v.toks[j].text == "<":
                depth += 1
            elif v.toks[j].text == ">":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        return j

    def _statement_end(self, i: int) -> int:
        k = self.v.find(i, len(self.v), ";")
        if k == -1:
            raise self.v.error(i, "declaration is not terminated by ';'")
        return k

    # -- enums ------------------------------------------------------------------------------------
    def enum(self, i: int) -> int:
        v = self.v
        j = i + 1
        scoped = v.toks[j].text in ("class", "struct")
        if scoped:
            j += 1
        name = None
        name_span = None
        if v.toks[j].kind == IDENT:
            name = v.toks[j].text
            name_span = (v.toks[j].start, v.toks[j].end)
            j += 1
        underlying = None
        if v.toks[j].text == ":":
            k = j + 1
            while v.toks[k].text not in ("{", ";"):
                k += 1
            underlying = v.squash(j + 1, k)
            j = k
        if v.toks[j].text == ";":  # forward declaration
            return j + 1
        if v.toks[j].text != "{":
            return self._statement_end(i) + 1
        close = v.match[j]
        entries = []
        for a, b in v.split_commas(j + 1, close):
            if a >= b:
                continue
            nt = v.toks[a]
            value = None
            end_tok = v.toks[b - 1]
            if b - a >= 3 and v.toks[a + 1].text == "=":
                value = v.text(a + 2, b)
            comma_end = v.toks[b].end if b < close and v.toks[b].text == "," else None
            entries.append(EnumEntry(nt.text, (nt.start, nt.end), value, (nt.start, end_tok.end), comma_end))
        semi = close + 1 if v.is_(close + 1, ";") else close
        self.m.enums.append(EnumDecl(self.which, name, name_span, underlying, entries,
                                     v.toks[j].start, v.toks[close].start,
                                     (v.toks[i].start, v.toks[semi].end), scoped=scoped))
        return semi + 1

    # -- structs and classes ----------------------------------------------------------------------
    def class_def(self, i: int) -> int:
        v = self.v
        j = i + 1
        name = ""
        name_span = (v.toks[i].start, v.toks[i].end)
        while v.toks[j].text != "{":
            if v.toks[j].kind == IDENT and not name and v.toks[j].text not in ("final", "alignas"):
                name = v.toks[j].text
                name_span = (v.toks[j].start, v.toks[j].end)
            if v.toks[j].text == ":":
                break
            j += 1
        bases = ""
        if v.toks[j].text == ":":
            k = j
            while v.toks[k].text != "{":
                k += 1
            bases = v.squash(j + 1, k)
            j = k
        close = v.match[j]
        fields = self._members(j + 1, close, name)
        end = close + 1
        while end < len(v) and v.toks[end].text != ";":
            end += 1  # `} var;` declarators
        self.m.structs.append(StructDecl(self.which, name, name_span, fields, v.toks[j].start,
                                         v.toks[close].start, (v.toks[i].start, v.toks[min(end, len(v) - 1)].end),
                                         bases))
        return end + 1

    def _members(self, i: int, end: int, cls: str) -> list[StructField]:
        v = self.v
        fields: list[StructField] = []
        while i < end:
            t = v.toks[i]
            if t.text in ("public", "private", "protected") and v.is_(i + 1, ":"):
                i += 2
                continue
            if t.text == ";":
                i += 1
                continue
            if t.text in ("struct", "class", "enum") and self._is_class_def(i + 1):
                k = self.v.find(i, end, ";")
                i = (k if k != -1 else end) + 1
                continue
            # a member: up to ';' at depth 0, or a function body
            k = i
            paren = -1
            while k < end and v.toks[k].text != ";":
                if v.toks[k].text == "(" and paren == -1:
                    paren = k
                if v.toks[k].text == "{" and paren != -1:
                    break  # inline method body
                if v.toks[k].text in OPEN:
                    k = v.match[k]
                k += 1
            if k < end and v.toks[k].text == "{":  # method with body
                close = v.match[k]
                self._record_function(i, paren, k, close, [], member_of=cls)
                i = close + 1
                continue
            if paren == -1 or self._eq_before(i, paren):
                fld = self._field(i, k)
                if fld is not None:
                    fields.append(fld)
            else:
                self._record_function(i, paren, None, k, [], member_of=cls)
            i = k + 1
        return fields

    def _eq_before(self, i: int, k: int) -> bool:
        return any(t.text in ("=", "{") for t in self.v.toks[i:k])

    def _field(self, i: int, semi: int) -> StructField | None:
        v = self.v
        eq = -1
        k = i
        while k < semi:
            if v.toks[k].text in ("=", "{") and v.toks[k].kind == PUNCT:
                eq = k
                break
            if v.toks[k].text in OPEN:
                k = v.match[k]
            k += 1
        decl_end = eq if eq != -1 else semi
        name_idx = decl_end - 1
        while name_idx > i and v.toks[name_idx].text == "]":
            name_idx = v.match[name_idx] - 1
        if name_idx < i or v.toks[name_idx].kind != IDENT:
            return None
        type_text = v.squash(i, name_idx)
        default = None
        if eq != -1:
            default = v.text(eq + 1, semi) if v.toks[eq].text == "=" else v.text(eq, semi)
        end_off = v.toks[semi].end if semi < len(v) else v.toks[semi - 1].end
        return StructField(v.toks[name_idx].text, type_text, default, (v.toks[i].start, end_off))

    # -- everything else at namespace scope -------------------------------------------------------
    def declaration(self, i: int, ns: list[str]) -> int:
        v = self.v
        n = len(v)
        k = i
        paren = -1
        while k < n:
            t = v.toks[k]
            if t.text == ";":
                break
            if t.text == "=" and paren == -1:
                k = self._statement_end(k)  # variable with initialiser (lambdas included)
                break
            if t.text == "(" and paren == -1:
                paren = k
            if t.text == "{":
                if paren != -1:
                    close = v.match[k]
                    self._record_function(i, paren, k, close, ns)
                    return close + 1
                # brace initialiser of a variable
                k = v.match[k]
            elif t.text in OPEN:
                k = v.match[k]
            k += 1
        semi = min(k, n - 1)
        words = [t.text for t in v.toks[i:semi]]
        if paren == i + 1 and v.toks[i].kind == IDENT and v.toks[i].text.isupper():
            # MACRO(args); at namespace scope, e.g. REGISTER_OPERATION(model, CreateX);
            self.m.macros.append(MacroCall(self.which, v.toks[i].text, v.text(paren + 1, v.match[paren]),
                                           (v.toks[i].start, v.toks[semi].end)))
        elif paren != -1 and "=" not in words:
            self._record_function(i, paren, None, semi, ns)
        else:
            self._constant(i, semi)
        return semi + 1

    def _constant(self, i: int, semi: int) -> None:
        v = self.v
        eq = -1
        for k in range(i, semi):
            if v.toks[k].text == "=":
                eq = k
                break
        if eq <= i or v.toks[eq - 1].kind != IDENT:
            return
        words = {t.text for t in v.toks[i:eq]}
        if not ({"const", "constexpr"} & words):
            return
        name_t = v.toks[eq - 1]
        type_text = v.squash(i, eq - 1)
        self.m.constants.append(Constant(self.which, name_t.text, type_text, v.text(eq + 1, semi).strip(),
                                         (v.toks[eq + 1].start, v.toks[semi - 1].end),
                                         (v.toks[i].start, v.toks[semi].end)))

    def _record_function(self, i: int, paren: int, body_open: int | None, end: int, ns: list[str],
                         member_of: str | None = None) -> None:
        v = self.v
        name, first = qualified_name_before(v, paren, i)
        if not name:
            return
        if member_of and "::" not in name:
            name = f"{member_of}::{name}"
        words = {t.text for t in v.toks[i:first]}
        close_paren = v.match[paren]
        body = (v.toks[body_open].start, v.toks[end].end) if body_open is not None else None
        if body_open is not None:
            v.remember(body_open)
        span_end = v.toks[end].end if end < len(v) else v.toks[-1].end
        self.m.functions.append(
            FunctionDef(self.which, name, (v.toks[paren - 1].start, v.toks[paren - 1].end),
                        "static" in words, v.text(paren + 1, close_paren), v.squash(i, first),
                        body, (v.toks[i].start, span_end))
        )
        if body_open is not None and self._reads_json(name.rsplit("::", 1)[-1], v.text(paren + 1, close_paren)):
            self._json_reads(name, body_open, end)

    @staticmethod
    def _reads_json(name: str, params: str) -> bool:
        """A function that reads the layer param from JSON: a reader, or a creator given the JSON."""
        voc = vocabulary()
        return name in voc.json_readers or (name.startswith(voc.json_creator_prefix) and voc.json_param_word in params)

    # -- JSON reads -------------------------------------------------------------------------------
    def _json_reads(self, func: str, body_open: int, close: int) -> None:
        v = self.v
        contains = vocabulary().json_contains
        guarded_ranges: list[tuple[int, int]] = []
        k = body_open + 1
        while k < close:
            t = v.toks[k]
            if t.text == "if" and v.is_(k + 1, "("):
                cond_close = v.match[k + 1]
                if contains in v.text(k + 2, cond_close):
                    if v.is_(cond_close + 1, "{"):
                        guarded_ranges.append((cond_close + 1, v.match[cond_close + 1]))
                    else:
                        guarded_ranges.append((cond_close + 1, v.find(cond_close + 1, close, ";")))
                k = cond_close + 1
                continue
            if t.text in (";", "{", "}"):
                k += 1
                continue
            semi = v.find(k, close, ";")
            if semi == -1:
                break
            read = self._json_read(func, k, semi)
            if read is not None:
                read.guarded = any(a < k < b for a, b in guarded_ranges)
                self.m.json_reads.append(read)
            k = semi + 1

    def _json_read(self, func: str, a: int, semi: int) -> JsonRead | None:
        v = self.v
        toks = v.toks
        texts = v.texts[a:semi]
        span = (toks[a].start, toks[semi].end)
        indent = v.src.indent_at(toks[a].start)
        key = None
        for t in toks[a:semi]:
            if t.kind in (STRING, "char"):
                key, key_span = t.text[1:-1], (t.start + 1, t.end - 1)
                break
        if key is None:
            return None
        get = vocabulary().json_get
        if get in texts:
            g = texts.index(get)
            inner = [t for t in texts[g + 2 : -1]]
            fld = "".join(inner).split(".", 1)[-1] if inner else ""
            if fld:
                return JsonRead(func, key, fld, get, span, False, indent, key_span,
                                _after_dot(toks, a + g + 2, semi - 1))
        elif "=" in texts:
            e = texts.index("=")
            lhs = "".join(texts[:e])
            if "." in lhs and "[" in texts[e:]:
                return JsonRead(func, key, lhs.split(".", 1)[1], "bracket", span, False, indent, key_span,
                                _after_dot(toks, a, a + e), _template_argument(toks, a + e, semi))
        return None


def _after_dot(toks, a: int, b: int) -> Span | None:
    """The span of tokens a..b (exclusive) after the first ``.``: a field written on its target."""
    dot = next((k for k in range(a, b) if toks[k].text == "."), None)
    return (toks[dot + 1].start, toks[b - 1].end) if dot is not None and dot + 1 < b else None


def _template_argument(toks, a: int, b: int) -> Span | None:
    """The span between the ``<`` and ``>`` of the last template argument list among tokens a..b."""
    close = next((k for k in range(b - 1, a, -1) if toks[k].text in (">", ">>")), None)
    if close is None:
        return None
    depth = 0
    for k in range(close, a, -1):
        t = toks[k].text
        depth += t.count(">") if t in (">", ">>") else -1 if t == "<" else 0
        if depth == 0:
            return (toks[k].end, toks[close].end - 1)
    return None
