"""§4 non-candidates are refused with their class and a one-line reason; nothing is written."""

from __future__ import annotations

import shutil

import pytest

from llm_transform import LayerError, transform_file
from tests.conftest import REFUSE_DIRS, expected


@pytest.mark.parametrize("folder", REFUSE_DIRS, ids=[d.name for d in REFUSE_DIRS])
def test_refused_with_class(folder, tmp_path):
    exp = expected(folder, "expected_refusal.json")
    dst = tmp_path / folder.name
    shutil.copytree(folder, dst)
    cpp = next(dst.glob("*.cpp"))
    with pytest.raises(LayerError) as exc:
        transform_file(cpp)
    assert exc.value.kind == exp["class"], exc.value.one_line()
    if exp.get("line") is not None:
        assert exc.value.line == exp["line"]
    assert "\n" not in exc.value.one_line()
    assert sorted(p.name for p in dst.iterdir()) == sorted(p.name for p in folder.iterdir())


def test_real_syntax_error_is_refused(tmp_path):
    from tests.conftest import FIXTURES

    shutil.copytree(FIXTURES / "layers" / "enum_in_cpp", tmp_path / "x")
    cpp = next((tmp_path / "x").glob("*.cpp"))
    text = cpp.read_text(encoding="utf-8")
    cpp.write_text(text.replace("CREATE_OPERATION(qkvLinearParam, &qkvLinearNode.operation);",
                                "CREATE_OPERATION(qkvLinearParam, &qkvLinearNode.operation)"), encoding="utf-8")
    with pytest.raises(LayerError) as exc:
        transform_file(cpp, write=False)
    assert "syntax error" in exc.value.reason and exc.value.line is not None
