"""The layer-building function body: node references, params, creation calls, tensor lists, branches."""

from __future__ import annotations

import re

from .lexer import IDENT, PUNCT
from .model import (
    Cond,
    CreateCall,
    FieldAssign,
    FunctionDef,
    GraphSetting,
    LayerFunction,
    ListElem,
    NodeRef,
    ParamDecl,
    TensorList,
)
from .tokens import OPEN, TokenView, qualified_name_before

_STRUCT_PARAM_RE = re.compile(r"const\s+([\w:]+)\s*&\s*(\w+)")
_NOT_TYPES = {"return", "if", "else", "for", "while", "do", "switch", "case", "delete", "new", "throw",
              "goto", "break", "continue", "using", "typedef"}


def normalise_condition(text: str) -> str:
    text = " ".join(text.split())
    while text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
        text = text[1:-1].strip()
    return text


def _balanced(s: str) -> bool:
    depth = 0
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


class BodyReader:
    """Reads the statements of the layer function, tracking the branch condition of each."""

    def __init__(self, view: TokenView, func: FunctionDef):
        self.v = view
        self.func = func
        m = _STRUCT_PARAM_RE.search(func.params_text)
        self.layer = LayerFunction(func=func, struct_name=m.group(1) if m else None, graph_var="opGraph")
        self._param_scopes: list[ParamDecl] = []
        self._block_counter = 0
        self._node_vars: set[str] = set()

    def run(self) -> LayerFunction:
        v = self.v
        assert self.func.body is not None
        open_i = next(i for i, t in enumerate(v.toks) if t.start == self.func.body[0])
        self.block(open_i + 1, v.match[open_i], (), (0,))
        return self.layer

    # -- blocks and control flow ------------------------------------------------------------------
    def block(self, i: int, end: int, cond: Cond, scope: tuple[int, ...]) -> None:
        while i < end:
            i = self.statement(i, end, cond, scope)

    def _new_scope(self, scope: tuple[int, ...]) -> tuple[int, ...]:
        self._block_counter += 1
        return (*scope, self._block_counter)

    def statement(self, i: int, end: int, cond: Cond, scope: tuple[int, ...]) -> int:
        v = self.v
        t = v.toks[i]
        if t.text == ";":
            return i + 1
        if t.text == "{":
            close = v.match[i]
            self.block(i + 1, close, cond, self._new_scope(scope))
            return close + 1
        if t.kind == IDENT and t.text == "if":
            return self.if_chain(i, end, cond, scope)
        if t.kind == IDENT and t.text in ("for", "while", "switch", "do"):
            return self.loop(i, end, cond, scope)
        semi = v.find(i, end, ";")
        if semi == -1:
            raise v.error(i, "statement is not terminated by ';'")
        self.simple(i, semi, cond, scope)
        return semi + 1

    def _branch_body(self, i: int, end: int, cond: Cond, scope: tuple[int, ...]) -> int:
        """Read one branch (block or single statement) starting at token i; return the index after it."""
        if self.v.toks[i].text == "{":
            close = self.v.match[i]
            self.block(i + 1, close, cond, self._new_scope(scope))
            return close + 1
        return self.statement(i, end, cond, self._new_scope(scope))

    def if_chain(self, i: int, end: int, cond: Cond, scope: tuple[int, ...]) -> int:
        v = self.v
        negated: list[tuple[str, bool]] = []
        while True:
            if v.is_(i + 1, "constexpr"):
                i += 1
            if not v.is_(i + 1, "("):
                raise v.error(i, "'if' without a condition")
            close = v.match[i + 1]
            text = normalise_condition(v.canonical(i + 2, close))
            # `if (CreateOperation(p, &node.operation) != atb::NO_ERROR)`: the call is the statement
            if self._creation_in(i + 2, close):
                self.simple(i + 2, close, (*cond, *negated), scope)
                if self.layer.creates:
                    self.layer.creates[-1].stmt_start = v.toks[i].start
            atom = (text, True)
            i = self._branch_body(close + 1, end, (*cond, *negated, atom), scope)
            negated.append((text, False))
            if v.is_(i, "else"):
                if v.is_(i + 1, "if"):
                    i += 1
                    continue
                return self._branch_body(i + 1, end, (*cond, *negated), scope)
            return i

    def loop(self, i: int, end: int, cond: Cond, scope: tuple[int, ...]) -> int:
        v = self.v
        kw = v.toks[i].text
        j = i + 1
        if kw == "do":
            body_end = self._branch_end(j, end)
            k = v.find(body_end, end, ";")
            stop = k + 1
            inner = (j, body_end)
        else:
            close = v.match[j]
            body_end = self._branch_end(close + 1, end)
            stop = body_end
            inner = (close + 1, body_end)
        if any(t.text in ("inTensorIds", "outTensorIds", "nodes", "operation")
               for t in v.toks[inner[0]:inner[1]]):
            raise v.error(i, f"graph nodes are set up inside a '{kw}' statement; the tool only models "
                             "straight-line code with if/else branches")
        return stop

    def _branch_end(self, i: int, end: int) -> int:
        if self.v.toks[i].text == "{":
            return self.v.match[i] + 1
        k = self.v.find(i, end, ";")
        return k + 1

    # -- simple statements ------------------------------------------------------------------------
    def _creation_in(self, i: int, end: int) -> bool:
        toks = self.v.toks
        return any(toks[k].text == "&" and toks[k + 2].text == "." and toks[k + 3].text == "operation"
                   for k in range(i, end - 3))

    def simple(self, i: int, semi: int, cond: Cond, scope: tuple[int, ...]) -> None:
        v = self.v
        toks = v.toks
        texts = [t.text for t in toks[i:semi]]
        span = (toks[i].start, toks[semi].end if semi < len(toks) else toks[semi - 1].end)
        n = len(texts)
        if n == 0:
            return
        # node reference: `atb::Node &x = opGraph.nodes.at(nodeId++);` / `auto &x = g.nodes[nodeId++];`
        if "&" in texts and "nodes" in texts and "=" in texts:
            amp = texts.index("&")
            eq = texts.index("=")
            if amp + 2 == eq and toks[i + amp + 1].kind == IDENT:
                rhs = texts[eq + 1 :]
                if "nodes" in rhs:
                    k = rhs.index("nodes")
                    if k + 1 < len(rhs) and rhs[k + 1] in (".", "["):
                        var = texts[amp + 1]
                        self.layer.nodes.append(NodeRef(var, len(self.layer.nodes), span, cond))
                        self._node_vars.add(var)
                        if k >= 1:
                            self.layer.graph_var = rhs[k - 2] if k >= 2 else rhs[0]
                        return
        # creation call: any call with `&node.operation` among its arguments
        if self._creation_in(i, semi):
            self._creation(i, semi, span, cond, scope)
            return
        # node member assignment: inTensorIds / outTensorIds / operation = new ...
        if n >= 4 and toks[i].kind == IDENT and texts[1] == "." and texts[3] == "=":
            target, member = texts[0], texts[2]
            if member in ("inTensorIds", "outTensorIds"):
                self._tensor_list(i, semi, target, member, span, cond)
                return
            if member == "operation" and n > 4 and texts[4] == "new":
                k = i + 5
                j = k
                while j < semi and toks[j].text != "(":
                    j += 1
                callee = v.squash(k, j)
                self.layer.creates.append(CreateCall(target, None, None, callee, (toks[k].start, toks[j - 1].end),
                                                     span, cond, is_new=True))
                return
        # graph settings on the graph variable
        if n >= 3 and texts[0] == self.layer.graph_var and texts[1] == ".":
            if texts[2] == "nodes" and n >= 6 and texts[3] == "." and texts[4] == "resize":
                value = v.text(i + 6, semi - 1)
                self.layer.settings.append(GraphSetting("nodes.resize", value, span, cond))
                if value.strip() in ("nodeId",):
                    self.layer.resize_to_node_id = True
                return
            if n >= 4 and texts[3] == "=":
                self.layer.settings.append(GraphSetting(texts[2], v.text(i + 4, semi), span, cond,
                                                        (toks[i + 4].start, toks[semi - 1].end)))
                return
        # declaration of a local variable (params among them)
        decl = self._declaration(i, semi, span, cond, scope)
        if decl is not None:
            self._param_scopes.append(decl)
            self.layer.params.append(decl)
            return
        # field assignment on a local param: `p.a.b = value;`
        if toks[i].kind == IDENT and n >= 4 and texts[1] == ".":
            eq = self._assign_op(i, semi)
            if eq != -1:
                param = self.resolve_param(texts[0], toks[i].start, scope)
                if param is not None:
                    path = v.squash(i + 2, eq).replace(" ", "")
                    self.layer.assigns.append(
                        FieldAssign(param, path, v.text(eq + 1, semi), span, cond))
                    return
        # brace re-assignment of a whole param: `p = {...};`
        if toks[i].kind == IDENT and n >= 3 and texts[1] == "=":
            param = self.resolve_param(texts[0], toks[i].start, scope)
            if param is not None:
                self.layer.assigns.append(FieldAssign(param, "", v.text(i + 2, semi), span, cond))

    def _assign_op(self, i: int, semi: int) -> int:
        toks = self.v.toks
        for k in range(i, semi):
            if toks[k].text == "=" and toks[k].kind == PUNCT:
                return k
            if toks[k].text in ("(",):
                return -1
        return -1

    def _declaration(self, i: int, semi: int, span, cond: Cond, scope) -> ParamDecl | None:
        """`T name;`, `T name = init;`, `T name{...};`, `T name = {...};` with T a (qualified) type."""
        v = self.v
        toks = v.toks
        if toks[i].kind != IDENT or toks[i].text in _NOT_TYPES:
            return None
        k = i
        # type: [const] ident (:: ident)* [<...>]
        while k < semi and toks[k].text in ("const", "static", "constexpr", "struct", "typename"):
            k += 1
        type_start = k
        if k < semi and toks[k].text == "::":
            k += 1
        if k >= semi or toks[k].kind != IDENT:
            return None
        k += 1
        while k + 1 < semi and toks[k].text == "::" and toks[k + 1].kind == IDENT:
            k += 2
        if k < semi and toks[k].text == "<":
            depth = 0
            while k < semi:
                if toks[k].text == "<":
                    depth += 1
                elif toks[k].text == ">":
                    depth -= 1
                    if depth == 0:
                        break
                elif toks[k].text in OPEN:
                    k = v.match[k]
                k += 1
            k += 1
        type_end = k
        if k >= semi or toks[k].kind != IDENT:
            return None
        name_t = toks[k]
        k += 1
        init = None
        init_span = None
        if k < semi:
            if toks[k].text == "=":
                init = v.text(k + 1, semi)
                init_span = (toks[k + 1].start, toks[semi - 1].end)
            elif (toks[k].text == "{" and v.match[k] == semi - 1) or (toks[k].text == "(" and v.match[k] == semi - 1):
                init = v.text(k, semi)
                init_span = (toks[k].start, toks[semi - 1].end)
            else:
                return None
        type_text = v.squash(type_start, type_end)
        if type_text in ("auto", "return"):
            # `auto p = atb::infer::LinearParam{...};`: the type is in the initialiser
            if init and re.match(r"[\w:]+(?:<[^{]*>)?\s*[{(]", init):
                type_text = re.match(r"[\w:]+(?:<[^{]*>)?", init).group(0)
            else:
                return None
        return ParamDecl(name_t.text, type_text.replace(" ", ""), (toks[type_start].start, toks[type_end - 1].end),
                         init, init_span, span, cond, scope, v.src.indent_at(toks[i].start))

    def resolve_param(self, name: str, offset: int, scope: tuple[int, ...]) -> ParamDecl | None:
        best = None
        for d in self._param_scopes:
            if d.var != name or d.span[0] > offset:
                continue
            if scope[: len(d.scope)] == d.scope and (best is None or len(d.scope) >= len(best.scope)):
                best = d
        return best

    def _creation(self, i: int, semi: int, span, cond: Cond, scope: tuple[int, ...]) -> None:
        v = self.v
        toks = v.toks
        amp = next(k for k in range(i, semi - 3)
                   if toks[k].text == "&" and toks[k + 2].text == "." and toks[k + 3].text == "operation")
        node = toks[amp + 1].text
        # the innermost call whose argument list holds `&node.operation`
        open_i = -1
        for k in range(i, amp):
            if toks[k].text == "(" and v.match[k] > amp:
                open_i = k
        if open_i == -1:
            raise v.error(i, "cannot find the creation call around '&node.operation'")
        callee, first = qualified_name_before(v, open_i, i)
        callee_span = (toks[first].start, toks[open_i - 1].end)
        if first - 1 >= i and toks[first - 1].text in (".", "->") and first - 2 >= i:
            # method on a local object: obj.Attention(...)
            callee = f"{toks[first - 2].text}{toks[first - 1].text}{callee}"
            callee_span = (toks[first - 2].start, toks[open_i - 1].end)
        args = v.split_commas(open_i + 1, v.match[open_i])
        param_arg = None
        param = None
        for a, b in args:
            if a <= amp < b:
                continue
            param_arg = v.text(a, b)
            if b - a == 1 and toks[a].kind == IDENT:
                param = self.resolve_param(toks[a].text, toks[a].start, scope)
            break
        self.layer.creates.append(CreateCall(node, param_arg, param, callee, callee_span, span, cond))

    def _tensor_list(self, i: int, semi: int, target: str, member: str, span, cond: Cond) -> None:
        v = self.v
        toks = v.toks
        brace = i + 4
        if toks[brace].text != "{" or v.match[brace] != semi - 1:
            raise v.error(i, f"{target}.{member} is not assigned a brace list; the tool reads "
                             "`node.inTensorIds = {...};` lists only")
        elems = []
        for a, b in v.split_commas(brace + 1, semi - 1):
            if a >= b:
                continue
            text = v.squash(a, b)
            q = v.find(a, b, "?")
            ternary = None
            if q != -1:
                c = v.find(q + 1, b, ":")
                if c == -1:
                    raise v.error(a, f"cannot read tensor id expression '{text}'")
                ternary = (normalise_condition(v.canonical(a, q)), _last_ident(v.squash(q + 1, c)),
                           _last_ident(v.squash(c + 1, b)))
            elif not re.fullmatch(r"[\w:]+", text.replace(" ", "")):
                m = re.fullmatch(r"(?:static_cast<[\w:]+>|uint32_t|int)\(([\w:]+)\)", text.replace(" ", ""))
                if not m:
                    raise v.error(a, f"cannot read tensor id expression '{text}'; write enum names in "
                                     f"{member} lists")
                text = m.group(1)
            elems.append(ListElem(_last_ident(text) if ternary is None else text,
                                  (toks[a].start, toks[b - 1].end), ternary))
        self.layer.lists.append(TensorList(target, "in" if member == "inTensorIds" else "out", elems, span,
                                           (toks[brace].start, toks[semi - 1].end), cond))


def _last_ident(text: str) -> str:
    return text.replace(" ", "").rsplit("::", 1)[-1]
