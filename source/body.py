"""The layer-building function body: node references, params, creation calls, tensor lists, branches."""

from __future__ import annotations

import re

from .lexer import IDENT, PUNCT
from .lists import ListReader, NameVar, is_name_type
from .model import (
    Cond,
    CreateCall,
    FieldAssign,
    FunctionDef,
    GraphSetting,
    Idiom,
    LayerFunction,
    ListElem,
    NameMap,
    NodeRef,
    ParamDecl,
    Statement,
    TensorList,
    TensorVar,
)
from .tokens import OPEN, TokenView, normalise_condition, qualified_name_before
from .vocabulary import short_name, vocabulary

_STRUCT_PARAM_RE = re.compile(r"const\s+([\w:]+)\s*&\s*(\w+)")
_ENUM_NAME = re.compile(r"[A-Za-z_]\w*")
_NOT_TYPES = {"return", "if", "else", "for", "while", "do", "switch", "case", "delete", "new", "throw",
              "goto", "break", "continue", "using", "typedef"}
_COUNTED_ID = re.compile(r"\s*(?:(?P<cond>.+?)\s*\?\s*)?(?P<counter>\w+)\s*\+\+\s*(?::\s*[\w:]+\s*)?"
                         r"|\s*(?P<elsecond>.+?)\s*\?\s*[\w:]+\s*:\s*(?P<elsecounter>\w+)\s*\+\+\s*")  # c ? 0 : ID++
MAX_HELPER_DEPTH = 3


class BodyReader:
    """Reads the statements of the layer function, tracking the branch condition of each.

    Nodes filled by helper functions of the pair (``AddMlp(mlpNode, param)``, ``Attention(opGraph, ...)``)
    are read where they are called, with the helper's parameters standing for the caller's node or
    graph, so the layer's ops are the same whichever way it was written."""

    def __init__(self, view: TokenView, func: FunctionDef, *, helpers: list[FunctionDef] | None = None,
                 parent: BodyReader | None = None, alias: dict[str, str] | None = None,
                 graph_names: set[str] | None = None, name_maps: dict[str, NameMap] | None = None,
                 names: dict[str, NameVar] | None = None):
        self.v = view
        self.func = func
        self.parent = parent
        self.voc = voc = vocabulary()
        if parent is None:
            m = _STRUCT_PARAM_RE.search(func.params_text)
            self.layer = LayerFunction(func=func, struct_name=m.group(1) if m else None, graph_var=voc.graph_var)
            self._node_ids: dict[str, str] = {}  # node variable -> the id of the node it holds now
            self._id_count: dict[str, int] = {}
            self.helpers = {f.short_name: f for f in helpers or [] if f.body is not None and f is not func}
            self._reading: list[str] = [func.short_name]
        else:
            self.layer = parent.layer
            self._node_ids, self._id_count = parent._node_ids, parent._id_count
            self.helpers, self._reading = parent.helpers, parent._reading
        self._alias = alias or {}  # a helper's parameter -> the caller's node id
        self._layer_param = _param_of_type(func.params_text, self.layer.struct_name)
        self._graph_names = graph_names or set()
        self._param_scopes: list[ParamDecl] = []
        self._block_counter = 0
        self._seen_idioms: set[str] = parent._seen_idioms if parent else set()
        self.name_maps: dict[str, NameMap] = parent.name_maps if parent else (name_maps or {})
        self.lists = ListReader(self, names)
        self.base_cond: Cond = ()  # the branch this function is read under (a helper called inside an if)

    def run(self, cond: Cond = ()) -> LayerFunction:
        v = self.v
        assert self.func.body is not None
        self.base_cond = cond
        open_i = v.at(self.func.body[0])
        self.block(open_i + 1, v.match[open_i], cond, (0,))
        self.lists.finish()
        del self.lists.b  # the two readers refer to each other: let them (and the tokens) go with the call
        return self.layer

    # -- nodes ------------------------------------------------------------------------------------
    def _node(self, var: str) -> str:
        """The id of the node a variable (or a helper's parameter) stands for here."""
        return self._alias.get(var) or self._node_ids.get(var, var)

    def _new_node(self, var: str) -> str:
        """A node declared under ``var``; a name used again for another node gets ``var@2``, ``var@3``..."""
        k = self._id_count.get(var, 0) + 1
        self._id_count[var] = k
        self._node_ids[var] = node_id = var if k == 1 else f"{var}@{k}"
        return node_id

    def _is_graph(self, name: str) -> bool:
        return name == self.layer.graph_var or name in self._graph_names

    def _idiom(self, what: str, span) -> None:
        key = what.split(":")[0]
        if key not in self._seen_idioms:
            self._seen_idioms.add(key)
            self.layer.idioms.append(Idiom(what, self.v.which, span))

    # -- blocks and control flow ------------------------------------------------------------------
    def block(self, i: int, end: int, cond: Cond, scope: tuple[int, ...]) -> None:
        while i < end:
            i = self.statement(i, end, cond, scope)

    def _new_scope(self, scope: tuple[int, ...]) -> tuple[int, ...]:
        self._block_counter += 1
        return (*scope, self._block_counter)

    def statement(self, i: int, end: int, cond: Cond, scope: tuple[int, ...]) -> int:
        nxt = self._statement(i, end, cond, scope)
        if self.parent is None and nxt > i:  # the layer function's own statements, each with its block
            toks = self.v.toks
            self.layer.statements.append(Statement((toks[i].start, toks[nxt - 1].end), scope, toks[i].text))
        return nxt

    def _statement(self, i: int, end: int, cond: Cond, scope: tuple[int, ...]) -> int:
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
            if self._creation_at(i + 2, close) != -1:
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
        """A loop is outside the model when it creates or wires nodes (refused, naming its line). Loops that
        build tensor lists are read: a push of each element of another list (``for (auto t : other) {
        names.push_back(t); }``), and a counted loop renaming elements (``names[i] += "_x";``). Any other loop
        (cleanup, logging) is left alone."""
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
        span = (v.toks[i].start, v.toks[stop - 1].end)
        if kw == "for" and (self._list_loop(j, inner, span, cond) or self._rename_loop(j, inner, span, cond)):
            return stop
        if self._builds_nodes(*inner):
            raise v.error(i, f"graph nodes are created or wired inside a '{kw}' statement; the tool only models "
                             "straight-line code with if/else branches")
        for k in range(*inner):  # a list the graph may read, changed in a way the tool does not follow
            t = v.toks[k]
            if t.kind == IDENT and t.text in self.lists.lists and v.toks[k - 1].text not in (".", "->"):
                lv = self.lists.lists[t.text]
                if v.toks[k + 1].text in (".", "[", "=", "+=") and v.toks[k + 2].text not in ("size", "begin", "end"):
                    lv.unknown = lv.unknown or (f"is changed inside a '{kw}' statement at line "
                                                f"{v.src.line_of(v.toks[i].start)}", i)
        return stop

    def _builds_nodes(self, a: int, b: int) -> bool:
        """Whether statements create or wire graph nodes: a creation call, a node's tensor list set or pushed,
        a node appended to or bound from the graph, or a helper of the pair called with a node or the graph."""
        voc = self.voc
        node_type = short_name(voc.node_type)
        texts = self.v.texts[a:b]
        if self._creation_at(a, b) != -1:
            return True
        for k, t in enumerate(texts):
            nxt = texts[k + 1] if k + 1 < len(texts) else ""
            after = texts[k + 2] if k + 2 < len(texts) else ""
            if t in voc.op_members and nxt == "=" and after == "new" and k and texts[k - 1] == ".":
                return True
            if t in voc.tensor_lists and (nxt in ("=", "[") or (nxt == "." and after in (
                    "push_back", "emplace_back", "insert", "resize", "at", "assign"))):
                return True
            if t == voc.graph_nodes and nxt == "." and after in ("push_back", "emplace_back", "insert", "resize"):
                return True
            if t == node_type and nxt == "&":
                return True
            if t in self.helpers and nxt == "(" and (k == 0 or texts[k - 1] not in (".", "->")):
                return True
        return False

    def _list_loop(self, j: int, inner: tuple[int, int], span, cond: Cond) -> bool:
        """``for (auto t : other) { names.push_back(t); }`` (or ``node.inTensorIds.push_back(t)``)."""
        v = self.v
        toks = v.toks
        colon = v.find(j + 1, v.match[j], ":")
        if colon == -1 or v.match[j] - colon != 2 or toks[colon + 1].kind != IDENT or toks[colon - 1].kind != IDENT:
            return False
        var, other = toks[colon - 1].text, toks[colon + 1].text
        a, b = inner
        if toks[a].text == "{":
            a, b = a + 1, b - 1
        stmts = []
        k = a
        while k < b:
            semi = v.find(k, b, ";")
            if semi == -1:
                return False
            stmts.append((k, semi))
            k = semi + 1
        pushes = []
        for x, y in stmts:
            texts = v.texts[x:y]
            if not (len(texts) >= 6 and texts[-3:] == ["(", var, ")"] and texts[-5] == "."
                    and texts[-4] in ("push_back", "emplace_back")):
                return False
            pushes.append(texts[:-5])
        for target in pushes:
            if len(target) == 1 and target[0] in self.lists.lists:
                self.lists.append(self.lists.lists[target[0]], other, span, cond, j)
            elif len(target) == 3 and target[1] == "." and self.voc.which_list(target[2]) is not None:
                self.lists.append_to_node(self._node(target[0]), self.voc.which_list(target[2]), other, span, cond,
                                          j, f"{target[0]}.{target[2]}")
            else:
                return False
        self._idiom(f"tensor lists built in steps: elements of {other} appended in a loop", span)
        return True

    def _rename_loop(self, j: int, inner: tuple[int, int], span, cond: Cond) -> bool:
        """``for (int i = 1; i < 7; i++) { names[i] += "_x"; }``: elements renamed by position."""
        v = self.v
        head = v.squash(j + 1, v.match[j]).replace(" ", "")
        m = re.fullmatch(r"(?:int|size_t|uint32_t|auto)(\w+)=(\d+);\1<(\d+);(?:\1\+\+|\+\+\1|\1\+=1)", head)
        if m is None:
            return False
        a, b = inner
        body = v.squash(a, b).replace(" ", "")
        r = re.fullmatch(rf"{{?(\w+)\[{m.group(1)}\]\+=(\"[^\"]*\");}}?", body)
        if r is None or r.group(1) not in self.lists.lists:
            return False
        self.lists.rename(self.lists.lists[r.group(1)], int(m.group(2)), int(m.group(3)), r.group(2)[1:-1], span,
                          cond)
        self._idiom(f"tensor lists built in steps: elements of {r.group(1)} renamed in a loop", span)
        return True

    def _branch_end(self, i: int, end: int) -> int:
        if self.v.toks[i].text == "{":
            return self.v.match[i] + 1
        k = self.v.find(i, end, ";")
        return k + 1

    # -- simple statements ------------------------------------------------------------------------
    def _creation_at(self, i: int, end: int) -> int:
        """Where ``&node.operation`` stands among tokens i..end-1 (a call creating a node's operation); -1
        when it does not."""
        toks = self.v.toks
        if "&" not in self.v.texts[i:end - 3]:
            return -1
        members = self.voc.op_members
        return next((k for k in range(i, end - 3)
                     if toks[k].text == "&" and toks[k + 2].text == "." and toks[k + 3].text in members), -1)

    def simple(self, i: int, semi: int, cond: Cond, scope: tuple[int, ...]) -> None:
        """One statement (tokens i..semi-1): the first reading that recognises it takes it."""
        toks = self.v.toks
        if semi <= i:
            return
        texts = self.v.texts[i:semi]
        span = (toks[i].start, toks[semi].end if semi < len(toks) else toks[semi - 1].end)
        if (self._node_reference(i, texts, span, cond) or self._node_appended(i, semi, texts, span, cond)
                or self._helper_call(i, semi, span, cond)):
            return
        amp = self._creation_at(i, semi)
        if amp != -1:  # any call with `&node.operation` among its arguments
            self._creation(i, semi, amp, span, cond, scope)
            return
        if self.lists.statement(i, semi, cond, span):  # list variables, pushes onto a node's own list
            self._idiom(f"tensor lists built in steps: {texts[0]}", span)
            return
        if (self._node_member(i, semi, texts, span, cond) or self._graph_setting(i, semi, texts, span, cond)
                or self._local(i, semi, span, cond, scope)):
            return
        self._field_assignment(i, semi, texts, span, cond, scope)

    def _node_reference(self, i: int, texts: list[str], span, cond: Cond) -> bool:
        """``atb::Node &x = opGraph.nodes.at(nodeId++);`` / ``auto &x = g.nodes[nodeId++];``"""
        nodes = self.voc.graph_nodes
        if not ("&" in texts and nodes in texts and "=" in texts):
            return False
        amp = texts.index("&")
        eq = texts.index("=")
        if amp + 2 != eq or self.v.toks[i + amp + 1].kind != IDENT:
            return False
        rhs = texts[eq + 1 :]
        if nodes not in rhs:
            return False
        k = rhs.index(nodes)
        if k + 1 >= len(rhs) or rhs[k + 1] not in (".", "["):
            return False
        node_id = self._new_node(texts[amp + 1])
        self.layer.nodes.append(NodeRef(node_id, len(self.layer.nodes), span, cond))
        if k >= 2 and not self._graph_names:
            self.layer.graph_var = rhs[k - 2]
        return True

    def _node_appended(self, i: int, semi: int, texts: list[str], span, cond: Cond) -> bool:
        """A node filled in place and appended: ``atb::Node x;`` ... ``opGraph.nodes.push_back(x);``"""
        n = len(texts)
        if n in (2, 4) and "".join(texts[:-1]) in self.voc.node_types and self.v.toks[semi - 1].kind == IDENT:
            self._new_node(texts[-1])
            return True
        if (n == 8 and self._is_graph(texts[0]) and texts[1:4] == [".", self.voc.graph_nodes, "."]
                and texts[4] in ("push_back", "emplace_back") and texts[5] == "(" and texts[7] == ")"):
            node_id = self._node(texts[6])
            self.layer.nodes.append(NodeRef(node_id, len(self.layer.nodes), span, cond))
            self._idiom(f"nodes appended with {texts[4]}: {node_id}", span)
            return True
        return False

    def _node_member(self, i: int, semi: int, texts: list[str], span, cond: Cond) -> bool:
        """A node member set: its tensor lists (``x.inTensorIds = ...;``) or ``x.operation = new ...;``."""
        toks = self.v.toks
        n = len(texts)
        if not (n >= 4 and toks[i].kind == IDENT and texts[1] == "." and texts[3] == "="):
            return False
        target, member = self._node(texts[0]), texts[2]
        if self.voc.which_list(member) is not None:
            self._tensor_list(i, semi, target, member, span, cond)
            return True
        if member in self.voc.op_members and n > 4 and texts[4] == "new":
            k = i + 5
            j = k
            while j < semi and toks[j].text != "(":
                j += 1
            callee = self.v.squash(k, j)
            self.layer.creates.append(CreateCall(target, None, None, callee, (toks[k].start, toks[j - 1].end),
                                                 span, cond, is_new=True))
            return True
        return False

    def _graph_setting(self, i: int, semi: int, texts: list[str], span, cond: Cond) -> bool:
        """On the graph variable: ``opGraph.nodes.resize(X);``, ``opGraph.inTensorNum = X;``..."""
        v = self.v
        toks = v.toks
        n = len(texts)
        if not (n >= 3 and self._is_graph(texts[0]) and texts[1] == "."):
            return False
        nodes = self.voc.graph_nodes
        if texts[2] == nodes and n >= 6 and texts[3] == "." and texts[4] == "resize":
            value = v.text(i + 6, semi - 1)
            by_counter = value.strip() == self.voc.node_counter
            self.layer.settings.append(GraphSetting(f"{nodes}.resize", value, span, cond,
                                                    (toks[i + 6].start, toks[semi - 2].end), True, by_counter))
            if by_counter:
                self.layer.resize_to_node_id = True
            return True
        if n >= 4 and texts[3] == "=":
            self.layer.settings.append(GraphSetting(texts[2], v.text(i + 4, semi), span, cond,
                                                    (toks[i + 4].start, toks[semi - 1].end)))
            return True
        return False

    def _local(self, i: int, semi: int, span, cond: Cond, scope: tuple[int, ...]) -> bool:
        """The declaration of a local variable: a tensor list or name, the graph, a tensor id counted at run
        time, or anything else (params among them), kept to resolve later statements."""
        decl = self._declaration(i, semi, span, cond, scope)
        if decl is None:
            return False
        if self._list_declaration(decl, i, semi, span, cond):
            return True
        if short_name(decl.type_text) == short_name(self.voc.graph_type) and self.parent is None:
            self.layer.graph_var = decl.var
        if self._counted_id(decl, span, cond):
            return True
        decl.layer_param, decl.function = self._layer_param, self.func.short_name
        self._param_scopes.append(decl)
        self.layer.params.append(decl)
        return True

    def _counted_id(self, decl: ParamDecl, span, cond: Cond) -> bool:
        """``uint64_t IN_X = param.y ? ID++ : 0;``: a tensor id counted at run time, under its condition."""
        m = _COUNTED_ID.fullmatch(" ".join(decl.init.split())) if decl.init and "++" in decl.init else None
        if m is None or not decl.var.isupper():
            return False
        tcond = cond
        if m.group("cond") or m.group("elsecond"):
            tcond = (*cond, (normalise_condition(m.group("cond") or m.group("elsecond")), m.group("cond") is not None))
        self.layer.tensor_vars.append(TensorVar(decl.var, self.v.which, span, tcond, name_span=decl.name_span,
                                                counter=m.group("counter") or m.group("elsecounter")))
        self._idiom(f"tensor ids counted at run time: {decl.var}", span)
        return True

    def _field_assignment(self, i: int, semi: int, texts: list[str], span, cond: Cond,
                          scope: tuple[int, ...]) -> None:
        """``p.a.b = value;`` on a local param, or ``p = {...};`` for a whole one."""
        v = self.v
        toks = v.toks
        n = len(texts)
        if toks[i].kind == IDENT and n >= 4 and texts[1] == ".":
            eq = self._assign_op(i, semi)
            if eq != -1:
                param = self.resolve_param(texts[0], toks[i].start, scope)
                if param is not None:
                    path = v.squash(i + 2, eq).replace(" ", "")
                    self.layer.assigns.append(FieldAssign(param, path, v.text(eq + 1, semi), span, cond,
                                                          (toks[eq].end, toks[semi].start),
                                                          (toks[i + 2].start, toks[i + 2].end)))
                    return
        if toks[i].kind == IDENT and n >= 3 and texts[1] == "=":
            param = self.resolve_param(texts[0], toks[i].start, scope)
            if param is not None:
                self.layer.assigns.append(FieldAssign(param, "", v.text(i + 2, semi), span, cond,
                                                      (toks[i + 1].end, toks[semi].start)))

    def _list_declaration(self, decl: ParamDecl, i: int, semi: int, span, cond: Cond) -> bool:
        """A local list of tensor names or ids, or a tensor name held in a ``std::string``."""
        init = None
        if decl.init_span is not None:
            first = next((k for k in range(i, semi) if self.v.toks[k].start == decl.init_span[0]), semi)
            init = (first, semi) if first < semi else None
        return self.lists.declare(decl.var, decl.type_text, init, span, cond, i)

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
                         init, init_span, span, cond, scope, v.src.indent_at(toks[i].start),
                         init_elems=self._brace_elements(k, semi) if init is not None else (),
                         name_span=(name_t.start, name_t.end))

    def _brace_elements(self, k: int, semi: int) -> tuple[tuple[int, int], ...]:
        """The spans of the elements of the first brace list among tokens k..semi."""
        v = self.v
        toks = v.toks
        brace = next((j for j in range(k, semi) if toks[j].text == "{"), None)
        if brace is None:
            return ()
        return tuple((toks[a].start, toks[b - 1].end) for a, b in v.split_commas(brace + 1, v.match[brace]) if a < b)

    def resolve_param(self, name: str, offset: int, scope: tuple[int, ...]) -> ParamDecl | None:
        best = None
        for d in self._param_scopes:
            if d.var != name or d.span[0] > offset:
                continue
            if scope[: len(d.scope)] == d.scope and (best is None or len(d.scope) >= len(best.scope)):
                best = d
        return best

    def _creation(self, i: int, semi: int, amp: int, span, cond: Cond, scope: tuple[int, ...]) -> None:
        """The creation call around ``&node.operation`` (its ``&`` at token ``amp``)."""
        v = self.v
        toks = v.toks
        members = self.voc.op_members
        node = self._node(toks[amp + 1].text)
        # the innermost call whose argument list holds `&node.operation`
        open_i = -1
        for k in range(i, amp):
            if toks[k].text == "(" and v.match[k] > amp:
                open_i = k
        if open_i == -1:
            raise v.error(i, f"cannot find the creation call around '&node.{members[0]}'")
        callee, first = qualified_name_before(v, open_i, i)
        callee_span = (toks[first].start, toks[open_i - 1].end)
        if first - 1 >= i and toks[first - 1].text in (".", "->") and first - 2 >= i:
            # method on a local object: obj.Attention(...)
            callee = f"{toks[first - 2].text}{toks[first - 1].text}{callee}"
            callee_span = (toks[first - 2].start, toks[open_i - 1].end)
        args = v.split_commas(open_i + 1, v.match[open_i])
        param_arg = None
        param = None
        arg_span = None
        for a, b in args:
            if a <= amp < b:
                continue
            param_arg, arg_span = v.text(a, b), (toks[a].start, toks[b - 1].end)
            if b - a == 1 and toks[a].kind == IDENT:
                param = self.resolve_param(toks[a].text, toks[a].start, scope)
            break
        self.layer.creates.append(CreateCall(node, param_arg, param, callee, callee_span, span, cond,
                                             param_arg_span=arg_span))

    def _helper_call(self, i: int, semi: int, span, cond: Cond) -> bool:
        """`AddMlp(mlpNode, param);` (also wrapped: `CHECK_OPERATION_STATUS_RETURN(AddMlp(...));`) where
        AddMlp is a function of the pair given a node or the graph: its statements are read here."""
        v = self.v
        toks = v.toks
        if self.helpers.keys().isdisjoint(v.texts[i:semi - 1]):
            return False
        for k in range(i, semi - 1):
            t = toks[k]
            if t.kind != IDENT or toks[k + 1].text != "(" or t.text not in self.helpers:
                continue
            if (k > i and toks[k - 1].text in (".", "->", "::")
                    and toks[k - 2].text not in self.voc.helper_namespaces):
                continue  # a method of some object, or a function of another namespace
            helper = self.helpers[t.text]
            close = v.match[k + 1]
            ranges = v.split_commas(k + 2, close)
            args = [v.text(a, b).strip().lstrip("&").strip() for a, b in ranges]
            alias: dict[str, str] = {}
            graphs: set[str] = set()
            names: dict[str, NameVar] = {}
            for (a, b), arg, (name, ptype) in zip(ranges, args, _params(helper.params_text), strict=False):
                if name and is_name_type(ptype) and (nv := self.lists.argument(name, a, b)) is not None:
                    names[name] = nv  # a tensor name handed to the helper
                if not name or not re.fullmatch(r"\w+", arg):
                    continue
                if self._is_graph(arg):
                    graphs.add(name)
                elif arg in self._node_ids or arg in self._alias:
                    alias[name] = self._node(arg)
            if not alias and not graphs:
                continue
            if t.text in self._reading or len(self._reading) > MAX_HELPER_DEPTH:
                raise v.error(k, f"helper {t.text} is reached again while it is read; the tool follows helpers "
                                 f"{MAX_HELPER_DEPTH} calls deep and not recursively")
            self._reading.append(t.text)
            try:
                BodyReader(v, helper, parent=self, alias=alias, graph_names=graphs, names=names).run(cond)
            finally:
                self._reading.pop()
            filled = ", ".join(sorted(set(alias.values()))) or "nodes it pushes"
            self._idiom(f"nodes filled by helper functions: {filled} by {t.text}", span)
            return True
        return False

    def _named_list(self, start: int, semi: int) -> tuple[list[ListElem], str] | None:
        """The elements of a list of tensors named by strings (or by name variables) and its form ("list" or
        "calls"), or None when it is not one."""
        v = self.v
        toks = v.toks
        if not v.has_string(start, semi) and self.lists.names.keys().isdisjoint(v.texts[start:semi]):
            if toks[start].kind == IDENT and toks[semi - 3].text == "{" and toks[semi - 2].text == "}" \
                    and toks[semi - 1].text == ")":
                return [], "list"  # GetTensorIdxList(map, {}): no tensors
            return None
        if toks[start].kind == IDENT or toks[start].text == "::":  # GetTensorIdxList(map, {"a", "b"})
            inner = next((k for k in range(start, semi) if toks[k].text == "{"), -1)
            if inner == -1:
                return None
            parts = v.split_commas(inner + 1, v.match[inner])
            form = "list"
        elif toks[start].text == "{" and v.match[start] == semi - 1:  # {GetTensorIdx(map, "a"), ...}
            parts = v.split_commas(start + 1, semi - 1)
            form = "calls"
        else:
            return None
        return [e for a, b in parts if a < b for e in self.lists.choices(a, b, "names")], form

    def _tensor_list(self, i: int, semi: int, target: str, member: str, span, cond: Cond) -> None:
        v = self.v
        toks = v.toks
        brace = i + 4
        which = self.voc.which_list(member)
        var = self._list_argument(brace, semi)
        if var is not None:  # `= GetTensorIdxList(map, names)` with a list variable built in steps
            a = var
            self.layer.lists.append(self.lists.node_list(target, which, toks[a].text, span,
                                                         (toks[a].start, toks[a].end), cond, a))
            self._idiom(f"tensor lists built in steps: {target}.{member} from {toks[a].text}", span)
            return
        by_name = self._named_list(brace, semi)
        if by_name is not None:  # `= GetTensorIdxList(map, {"a", "b"})` / `= {GetTensorIdx(map, "a"), ...}`
            elems, form = by_name
            self._idiom(f"string-named tensors: {target}.{member}", span)
            self.layer.lists.append(TensorList(target, which, elems, span,
                                               (toks[brace].start, toks[semi - 1].end), cond, form))
            return
        if toks[brace].text != "{" or v.match[brace] != semi - 1:
            raise v.error(i, f"{target}.{member} is not assigned a brace list; the tool reads "
                             f"`node.{self.voc.in_tensors} = {{...}};` lists and tensor-name lists")
        elems = []
        for a, b in v.split_commas(brace + 1, semi - 1):
            if a >= b:
                continue
            if b - a == 1 and _ENUM_NAME.fullmatch(toks[a].text):  # the common case: one enum name
                elems.append(ListElem(toks[a].text, (toks[a].start, toks[a].end)))
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
        self.layer.lists.append(TensorList(target, which, elems, span,
                                           (toks[brace].start, toks[semi - 1].end), cond))


    def _list_argument(self, start: int, semi: int) -> int | None:
        """The token of the list variable in ``F(map, names)`` (the call's last argument), if it is one."""
        toks = self.v.toks
        if not (toks[start].kind == IDENT or toks[start].text == "::"):
            return None
        paren = next((k for k in range(start, semi) if toks[k].text == "("), -1)
        if paren == -1 or self.v.match[paren] != semi - 1:
            return None
        args = self.v.split_commas(paren + 1, semi - 1)
        if args and args[-1][1] - args[-1][0] == 1 and toks[args[-1][0]].text in self.lists.lists:
            return args[-1][0]
        return None


def _param_of_type(params_text: str, struct_name: str | None) -> str | None:
    """The name of the parameter of type ``struct_name`` (by reference or value, qualified or not)."""
    if not struct_name:
        return None
    short = re.escape(struct_name.rsplit("::", 1)[-1])
    m = re.search(rf"(?<![\w:])(?:[\w]+::)*{short}\s*(?:const\s*)?&?\s*(\w+)\s*(?:[,=)]|$)", params_text)
    return m.group(1) if m else None


def _params(params_text: str) -> list[tuple[str, str]]:
    """Each parameter of a parameter list as (name, type): the name '' where it has none, the type the text
    before the name with ``const``/``&``/``*`` dropped."""
    out = []
    for piece in _split_params(params_text):
        decl = piece.split("=")[0]
        words = re.findall(r"[A-Za-z_]\w*", decl)
        name = words[-1] if len(words) > 1 else ""
        decl = decl.strip()
        out.append((name, re.sub(r"\bconst\b|[&*]|\s+", "", decl[: decl.rfind(name)] if name else decl)))
    return out


def _split_params(params_text: str) -> list[str]:
    out, depth, part = [], 0, []
    for ch in params_text.strip().strip("()") + ",":
        if ch in "(<[{":
            depth += 1
        elif ch in ")>]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(part))
            part = []
        else:
            part.append(ch)
    return out


def _last_ident(text: str) -> str:
    return text.replace(" ", "").rsplit("::", 1)[-1]
