"""Defects seen on real layer files, each reproduced on a fixture of our own.

Each test states what the correct answer is; it failed on the code before its fix.
"""

from __future__ import annotations

import re
import shutil

import pytest

from llm_transform import LayerError, load_layer, transform_file
from tests.conftest import FIXTURES, layer_cpp

MODES = pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])


def _run(case: str, sparse: bool = False, **kw):
    return transform_file(layer_cpp(FIXTURES / "layers" / case), sparse=sparse, write=False, header=False, **kw)


def _comments(text: str) -> list[str]:
    """Every comment of a C++ text, in order (line and block comments; strings hold none in our fixtures)."""
    return re.findall(r"//[^\n]*|/\*.*?\*/", text, flags=re.S)


# -- a node list sized twice: room reserved first, then shrunk to what was used ---------------------------
def test_room_reserved_then_trimmed_is_consistent():
    lg = load_layer(layer_cpp(FIXTURES / "layers" / "node_room_trimmed"))
    assert lg.errors() == []


@MODES
def test_room_reserved_then_trimmed_is_rewritten(sparse):
    r = _run("node_room_trimmed", sparse)
    text = r.cpp_text.decode()
    assert "opGraph.nodes.resize(NODE_COUNT_MAX);" in text and "opGraph.nodes.resize(nodeId);" in text


def test_room_reserved_too_small_is_still_an_error(tmp_path):
    shutil.copytree(FIXTURES / "layers" / "node_room_trimmed", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    cpp.write_text(cpp.read_text(encoding="utf-8").replace("NODE_COUNT_MAX = 16;", "NODE_COUNT_MAX = 9;"),
                   encoding="utf-8")
    errors = load_layer(cpp).errors()
    assert [e.message for e in errors] == ["NODE_COUNT_MAX is 9 but the layer creates 10 nodes"]
    with pytest.raises(LayerError, match="inconsistent"):
        transform_file(cpp, write=False)


# -- the anti-outlier fold removes all it makes useless, and no comment -----------------------------------
@MODES
def test_fold_removes_the_param_only_the_folded_adds_used(sparse):
    r = _run("anti_outlier_add_param", sparse)
    text = r.cpp_text.decode()
    assert "betaAddParam" not in text
    assert "inputNormBetaAddNode" not in text and "selfNormBetaAddNode" not in text
    assert "addParam.elewiseType = " in text  # the residual adds' own param stays


@MODES
def test_fold_keeps_every_comment(sparse):
    r = _run("anti_outlier_add_param", sparse)
    before = _comments(layer_cpp(FIXTURES / "layers" / "anti_outlier_add_param").read_text(encoding="utf-8"))
    after = _comments(r.cpp_text.decode())
    assert after == before


@MODES
def test_fold_treats_both_sites_alike_and_leaves_no_double_blank_line(sparse):
    float_text = layer_cpp(FIXTURES / "layers" / "anti_outlier_add_param").read_text(encoding="utf-8")
    text = _run("anti_outlier_add_param", sparse).cpp_text.decode()
    assert "\n\n\n" not in text and "\n\n\n" not in float_text
    # each site: the comment that introduced the add now stands above the code that follows it
    for comment in ("// 反离群点: 归一化输出加上 beta 偏移 (anti-outlier shift)\n", "// 同样加上 beta 偏移\n"):
        after = text.split(comment, 1)[1]
        assert after.startswith("\n") or not after.lstrip().startswith("CREATE_OPERATION(betaAddParam")
