"""Rewrite details on idioms the renderer must respect: creation inside an `if` condition, a field set
`false` only in one branch."""

from __future__ import annotations

import re
import shutil

import pytest

from llm_transform import transform_file
from tests import cxx
from tests.conftest import FIXTURES, layer_cpp


@pytest.fixture
def guarded_creation(tmp_path):
    shutil.copytree(FIXTURES / "layers" / "enum_in_cpp", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8")
    call = "    CREATE_OPERATION(qkvLinearParam, &qkvLinearNode.operation);"
    assert call in text
    text = text.replace(call, "    if (param.rank > 1) {\n        qkvLinearParam.hasBias = false;\n    }\n"
                              "    if (CreateOperation(qkvLinearParam, &qkvLinearNode.operation) != atb::NO_ERROR) {\n"
                              "        return atb::ERROR_INVALID_GRAPH;\n    }")
    cpp.write_text(text, encoding="utf-8")
    return cpp


def test_fields_go_before_the_if_that_creates_the_op(guarded_creation):
    text = transform_file(guarded_creation, write=False).cpp_text.decode()
    block = text[text.index("if (param.rank > 1)"):text.index("qkvLinearNode.inTensorIds")]
    assert re.search(r"\}\n    qkvLinearParam\.hasBias = true;\n    qkvLinearParam\.linearType = [^\n]+\n"
                     r"    if \(CreateOperation\(qkvLinearParam, &qkvLinearNode\.operation\) != atb::NO_ERROR\)",
                     block), block


@pytest.mark.skipif(cxx.available() is not None, reason=str(cxx.available()))
def test_guarded_creation_output_compiles(guarded_creation, tmp_path):
    for sparse in (False, True):
        r = transform_file(guarded_creation, sparse=sparse)
        ok, err = cxx.compile_cpp(r.target_cpp, tree_root=tmp_path / f"t{sparse}")
        assert ok, err


def _lone_list_lines(text: str) -> int:
    """Lines in the middle of `inTensorIds = {...};` lists that hold a single element."""
    import re

    count = 0
    for body in re.findall(r"inTensorIds = \{(.*?)\};", text, re.S):
        lines = body.split("\n")[1:-1]  # not the first line (after the brace), nor the last (greedy wrap)
        count += sum(1 for ln in lines if re.fullmatch(r"\s*[A-Za-z_]\w*,?\s*(//.*)?", ln))
    return count


@pytest.mark.parametrize(("case", "sparse"), [("beta_present", True), ("full_paged_attention", True),
                                              ("full_fused_qkv_rope", True), ("full_separate_qkv_layernorm", True)])
def test_wrapped_lists_leave_no_element_alone(case, sparse):
    """A list line that overflows is broken, and what spills over joins the next line when there is room:
    the generated lists have no more one-element lines than the float ones."""
    cpp = layer_cpp(FIXTURES / "layers" / case)
    r = transform_file(cpp, sparse=sparse, write=False)
    text = r.cpp_text.decode()
    assert _lone_list_lines(text) <= _lone_list_lines(cpp.read_text(encoding="utf-8"))
