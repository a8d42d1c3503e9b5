"""The words layer code uses to build its graph, as data the readers are given.

The readers of this floor know C++, not ATB: which type a graph node has, which members hold a node's tensor
lists or its operation, how a layer param is read from JSON. Those words belong to the op catalogue, which
lives on the floor above; this floor may not import it. So the top package registers a loader here
(``set_loader``), and the readers ask ``vocabulary()`` for what they need: the catalogue is read on first use,
not when the package is imported, and no import points upward.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Vocabulary:
    """Field names are the keys of the catalogue's ``[source]`` table (docs/catalogue.md says what each is)."""

    node_type: str  # a graph node's type, qualified
    graph_type: str  # the graph a layer function declares, qualified
    operation_type: str  # what a layer function creates, qualified
    graph_var: str  # the graph variable's name until the code names another
    graph_nodes: str  # the graph's member holding its nodes
    node_counter: str  # the running node index
    op_members: tuple[str, ...]  # the node member holding its operation, newest spelling first
    in_tensors: str  # a node's input tensor id list
    out_tensors: str  # a node's output tensor id list
    list_types: tuple[str, ...]  # containers a list of tensor names or ids is declared as, qualified
    binder_bases: tuple[str, ...]  # base classes of the class binding host tensors
    helper_namespaces: tuple[str, ...]  # a helper called through one of these is still the pair's own
    count_suffix: str  # what ends the name of a tensor count constant
    tensor_word: str  # a string list whose name holds it declares tensor names
    json_readers: tuple[str, ...]  # functions reading the layer param from JSON
    json_creator_prefix: str  # creators given the JSON start so...
    json_param_word: str  # ...and take a parameter whose text holds this
    json_get: str  # the JSON method copying a value into a field
    json_contains: str  # the JSON method asking whether a key is there

    def tensor_list(self, which: str) -> str:
        """The member of a node holding its ``"in"`` or ``"out"`` tensor ids."""
        return self.in_tensors if which == "in" else self.out_tensors

    def which_list(self, member: str) -> str | None:
        """``"in"`` / ``"out"`` for a node's tensor list member, else None."""
        if member == self.in_tensors:
            return "in"
        if member == self.out_tensors:
            return "out"
        return None

    @property
    def tensor_lists(self) -> tuple[str, str]:
        return self.in_tensors, self.out_tensors

    def name_is_fixed(self, function: str) -> bool:
        """A function whose name the language or the JSON library looks up (``main``, a JSON reader
        overloaded on the param struct): a rename never takes it."""
        return function == "main" or function in self.json_readers

    @property
    def node_types(self) -> frozenset[str]:
        """The node type as it may be written: qualified, or by its own name inside its namespace."""
        return frozenset({self.node_type, short_name(self.node_type)})


def short_name(qualified: str) -> str:
    """``a::b::C`` -> ``C``."""
    return qualified.rsplit("::", 1)[-1]


_loader: Callable[[], Vocabulary] | None = None


def set_loader(loader: Callable[[], Vocabulary]) -> None:
    """Say where the vocabulary comes from (the top package does, with the catalogue's); it is loaded on
    first use."""
    global _loader
    _loader = loader
    vocabulary.cache_clear()


@cache
def vocabulary() -> Vocabulary:
    if _loader is None:
        raise RuntimeError("no source vocabulary loader is registered; import the top package (llm_transform) "
                           "before reading layers")
    return _loader()
