"""The source floor's ATB words come from the catalogue's [source] table, through a loader the top package
registers: the readers follow the table, and a table that does not fit is an error naming the key."""

from __future__ import annotations

import dataclasses

import pytest

from llm_transform.graph.catalogue import catalogue_data
from llm_transform.graph.source_vocabulary import VocabularyError, source_vocabulary, vocabulary_from
from llm_transform.source import vocabulary as vocab


def test_the_top_package_registers_the_catalogue_as_the_loader() -> None:
    assert vocab.vocabulary() == source_vocabulary()
    assert vocab.vocabulary().tensor_lists == (catalogue_data()["source"]["in_tensors"],
                                               catalogue_data()["source"]["out_tensors"])


@pytest.mark.parametrize(("change", "message"), [
    ({"graph_nodez": "nodes"}, "unknown key 'graph_nodez'"),
    ({"graph_nodes": None}, "missing key 'graph_nodes'"),
    ({"op_members": "operation"}, "source.op_members: expected a list of words"),
    ({"node_type": ["atb::Node"]}, "source.node_type: expected a word"),
    ({"list_types": []}, "source.list_types: expected a list of words"),
])
def test_a_table_that_does_not_fit_names_the_key(change: dict, message: str) -> None:
    table = dict(catalogue_data()["source"])
    for key, value in change.items():
        if value is None:
            del table[key]
        else:
            table[key] = value
    with pytest.raises(VocabularyError, match=message):
        vocabulary_from(table)


def test_without_a_loader_the_reader_says_what_to_do() -> None:
    saved = vocab._loader
    try:
        vocab._loader = None
        vocab.vocabulary.cache_clear()
        with pytest.raises(RuntimeError, match="import the top package"):
            vocab.vocabulary()
    finally:
        vocab.set_loader(saved)


def test_every_key_of_the_table_is_a_field() -> None:
    assert set(catalogue_data()["source"]) == {f.name for f in dataclasses.fields(vocab.Vocabulary)}
