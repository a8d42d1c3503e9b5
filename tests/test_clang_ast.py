"""libclang's AST is used where it stays reliable without the ATB headers: enum constant values."""

from __future__ import annotations

import shutil

from llm_transform import load_layer, transform_file
from llm_transform.graph.build import build_graph
from llm_transform.graph.validate import validate
from llm_transform.source.reader import read_pair
from tests.conftest import FIXTURES, layer_cpp


def _with_external_first_value(tmp_path):
    shutil.copytree(FIXTURES / "layers" / "enum_in_cpp", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8")
    i = text.index("enum ToyDecoderLayerTensorId")
    text = text[:i] + "constexpr int FIRST_TENSOR_ID = 0;\n" + text[i:]
    cpp.write_text(text.replace("IN_HIDDENSTATES = 0,", "IN_HIDDENSTATES = FIRST_TENSOR_ID,", 1), encoding="utf-8")
    return cpp


def test_enum_value_only_libclang_can_evaluate(tmp_path):
    cpp = _with_external_first_value(tmp_path)
    without = load_layer(cpp, clang=False)
    assert any("cannot evaluate" in f.message for f in without.errors())
    with_clang = load_layer(cpp)
    assert with_clang.errors() == []
    r = transform_file(cpp, write=False)  # and the self-check reads the output back the same way
    assert r.after.added_tensors()[:2] == ["IN_QKVMIXEDLINEAR_DEQSCALE", "IN_QKVMIXEDLINEAR_BIAS"]
    assert "IN_HIDDENSTATES = FIRST_TENSOR_ID," in r.cpp_text.decode()


def test_disagreement_with_libclang_is_an_error():
    cpp = layer_cpp(FIXTURES / "layers" / "enum_in_cpp")
    lg = build_graph(read_pair(cpp))
    lg.meta["clang_enum_values"] = {"IN_HIDDENSTATES": 0, "IN_HOLDER": 99}
    msgs = [f.message for f in validate(lg) if f.severity == "error"]
    assert any("IN_HOLDER is 99 for libclang" in m for m in msgs)
    assert not any("IN_HIDDENSTATES" in m for m in msgs)


def test_libclang_value_of_an_invalid_initializer_is_not_trusted(tmp_path):
    import pytest

    from llm_transform import LayerError

    shutil.copytree(FIXTURES / "layers" / "enum_chained_sentinels", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8")
    cpp.write_text(text.replace("    OUT_TENSOR_MAX,\n", "", 1), encoding="utf-8")  # the sentinel is gone
    assert any("cannot evaluate" in f.message and "OUT_TENSOR_MAX" in f.message for f in load_layer(cpp).errors())
    with pytest.raises(LayerError):
        transform_file(cpp, write=False)


def test_enum_values_are_read_from_libclang_only_where_needed(tmp_path):
    plain = load_layer(layer_cpp(FIXTURES / "layers" / "enum_in_cpp"))
    assert plain.meta["clang_enum_values"] == {}  # every entry is plain: no AST walk
    assert load_layer(_with_external_first_value(tmp_path)).meta["clang_enum_values"]["IN_HIDDENSTATES"] == 0


def test_directive_inside_the_enum_is_cross_checked_with_libclang(tmp_path):
    shutil.copytree(FIXTURES / "layers" / "enum_in_cpp", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8")
    end = text.index("\n", text.index("IN_HIDDENSTATES = 0,")) + 1
    cpp.write_text(text[:end] + "#if 0\n    IN_RETIRED,\n#endif\n" + text[end:], encoding="utf-8")
    lg = load_layer(cpp)
    assert lg.meta["clang_enum_values"]
    assert any("for libclang" in f.message for f in lg.errors())
