"""What marks an already quantized layer is catalogue data: the classifier's content rules are compiled from the
[quant_markers] table and the type entries, so teaching the catalogue a type teaches the classifier."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from llm_transform import LayerError, classify
from llm_transform.graph.catalogue import catalogue_data
from llm_transform.graph.quant_markers import MarkersError, markers_from, quant_markers
from llm_transform.source.source_file import SourceFile


def test_markers_read_the_type_entries() -> None:
    data = catalogue_data()
    m = quant_markers()
    assert set(m.template_types) == {n.removesuffix("<>").rsplit("::", 1)[-1] for n, e in data["types"].items()
                                     if n.endswith("<>") and e.get("quant_aware")}
    sparse_types = {e["sparse"]["type"].rsplit("::", 1)[-1] for e in data["types"].values()
                    if e.get("sparse", {}).get("type")}
    assert set(m.sparse_types) == sparse_types and m.sparse_types
    assert ("isSparse", "true") in m.sparse_fields
    assert m.plugin_types == tuple(data["patterns"]["plugin"])


def _contract_words(data: dict) -> set[str]:
    """Every field leaf and value leaf the catalogue's quant and sparse contracts set."""
    out: set[str] = set()
    for entry in data["types"].values():
        for key in ("quant", "quant_linear_quant", "sparse"):
            for path, value in entry.get(key, {}).get("fields", []):
                out |= {path.rsplit(".", 1)[-1], value.rsplit("::", 1)[-1]}
    return out


def test_branch_words_are_what_quant_contracts_set() -> None:
    """A word that marks a quant branch is one the rewrite itself would write: a field or value of a contract."""
    words = _contract_words(catalogue_data())
    m = quant_markers()
    assert set(m.branch_words) <= words
    assert m.branch_switch in words


@pytest.mark.parametrize(("change", "message"), [
    ({"branch_wordz": ["x"]}, "unknown key 'branch_wordz'"),
    ({"layer_param": None}, "missing key 'layer_param'"),
    ({"branch_types": ["atb::infer::LinearParam"]}, "'atb::infer::LinearParam' is not a type the catalogue marks"),
    ({"mode_flags": ["quantModel"]}, "mode_flags: expected the quant flag and the sparse flag"),
    ({"branch_words": "QUANT_INT8"}, "branch_words: expected a list of words"),
])
def test_a_table_that_does_not_fit_names_the_key(change: dict, message: str) -> None:
    data = copy.deepcopy(catalogue_data())
    for key, value in change.items():
        if value is None:
            del data["quant_markers"][key]
        else:
            data["quant_markers"][key] = value
    with pytest.raises(MarkersError, match=message):
        markers_from(data)


@pytest.fixture
def zeta_catalogue(monkeypatch):
    """The catalogue with one more quant-aware template type and one more quantized type a branch creates."""
    data = copy.deepcopy(catalogue_data())
    data["types"]["zeta::ZetaAttentionParam<>"] = {"role": "attention", "quant_aware": True}
    data["types"]["zeta::ZetaQuantLinearParam"] = {"role": "linear", "quantized": True}
    data["quant_markers"]["branch_types"].append("zeta::ZetaQuantLinearParam")
    monkeypatch.setattr(classify, "quant_markers", lambda: markers_from(data))
    classify._rules.cache_clear()
    yield
    classify._rules.cache_clear()


def _refusal(tmp_path: Path, body: str) -> LayerError:
    cpp = tmp_path / "zeta_layer.cpp"
    cpp.write_text(f"namespace zeta {{\nvoid Build(const ZetaParam &param)\n{{\n{body}\n}}\n}}\n")
    with pytest.raises(LayerError) as exc:
        classify.check_content(SourceFile.read(cpp), None)
    return exc.value


def test_a_quant_aware_template_type_of_the_catalogue_marks_a_template_layer(tmp_path, zeta_catalogue) -> None:
    err = _refusal(tmp_path, "    zeta::ZetaAttentionParam<QuantType> attn;")
    assert (err.kind, err.line) == ("template", 4)


def test_a_branch_type_of_the_catalogue_marks_a_quant_branch(tmp_path, zeta_catalogue) -> None:
    err = _refusal(tmp_path, "    if (param.useZeta) {\n        zeta::ZetaQuantLinearParam lp;\n    }")
    assert (err.kind, err.line) == ("quant_branches", 5)
    assert "enable it with param.useZeta" in err.reason


def test_without_the_entries_those_words_mark_nothing(tmp_path) -> None:
    cpp = tmp_path / "zeta_layer.cpp"
    cpp.write_text("namespace zeta {\nvoid Build()\n{\n    zeta::ZetaAttentionParam<QuantType> attn;\n"
                   "    zeta::ZetaQuantLinearParam lp;\n}\n}\n")
    classify.check_content(SourceFile.read(cpp), None)


@pytest.mark.parametrize(("body", "kind", "line"), [
    ("    int xQUANT_INT8 = 0;\n    auto t = QUANT_INT8;", "quant_aware", 5),  # a marker inside a word is none
    ("    myparam.quantModel = 1;\n    if (param.quantModel) { x = 1; }", "quant_branches", 5),
    ("    auto *a = renew ZetaOperation(1);\n    auto *b = new ZetaOperation(2);", "plugin_ops", 5),
    ("    auto *a = new Zeta(1);\n    auto *b = new ZetaOperation(2);", "plugin_ops", 5),
    ("    int xW8A16 = 0;\n    LinearW8A16Op op;", None, None),
])
def test_a_mark_begins_a_word(tmp_path, body, kind, line) -> None:
    cpp = tmp_path / "zeta_layer.cpp"
    cpp.write_text(f"namespace zeta {{\nvoid Build(const ZetaParam &param)\n{{\n{body}\n}}\n}}\n")
    if kind is None:
        classify.check_content(SourceFile.read(cpp), None)
        return
    with pytest.raises(LayerError) as exc:
        classify.check_content(SourceFile.read(cpp), None)
    assert (exc.value.kind, exc.value.line) == (kind, line)
