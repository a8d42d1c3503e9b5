"""Today's ATB layers (issue 20): idioms of MindIE-style and PaddleCustomDevice-style layers read into the same
graph, and every file answered precisely. The fixtures are in tests/fixtures/layers_new (exact graphs in
test_graph_fixtures, rewrites in test_new_idioms and the goldens)."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_transform import LayerError
from llm_transform.source.clang_check import syntax_check

CANDIDATES_AT_FILE_SCOPE = """\
namespace atb_speed {
namespace toy {
std::map<std::string, std::vector<std::string>> GetToyLayerInTensorCandidates()
{
    std::map<std::string, std::vector<std::string>> candidates = {
        {"default", {"in_hidden_states", "in_norm_weight"}},
    };
    return candidates;
}
}  // namespace toy
}  // namespace atb_speed
"""


def test_nested_template_arguments_of_unknown_types_are_no_syntax_error(tmp_path: Path):
    """Without the standard headers `std::map<..., std::vector<std::string>>` is an expression to libclang, whose
    `>>` then reads as a shift: the missing headers explain the parse issue, the file compiles."""
    cpp = tmp_path / "toy_layer.cpp"
    cpp.write_text(CANDIDATES_AT_FILE_SCOPE)
    syntax_check(cpp, [])


def test_a_real_syntax_error_beside_them_is_still_one(tmp_path: Path):
    cpp = tmp_path / "toy_layer.cpp"
    cpp.write_text(CANDIDATES_AT_FILE_SCOPE + "int Twice(int x)\n{\n    int y = x * 2\n    return y;\n}\n")
    with pytest.raises(LayerError) as exc:
        syntax_check(cpp, [])
    assert exc.value.line == 14 and "syntax error: expected ';'" in exc.value.reason
