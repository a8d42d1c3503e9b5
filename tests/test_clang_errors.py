"""libclang's errors are read from one formatted line each (file:line:column: error: message): they must be
what reading each property from libclang gives, wherever the file is (a folder name with a colon too)."""

from __future__ import annotations

import shutil

import pytest

from llm_transform.source.clang_check import _place, clang_args, parse
from tests.conftest import FIXTURES, layer_cpp

cindex = pytest.importorskip("clang.cindex")


def _by_property(cpp):
    """The errors as each property read from libclang gives them."""
    tu = cindex.Index.create().parse(str(cpp.absolute()), args=clang_args([str(cpp.absolute().parent)]),
                                     options=0x200)
    out = []
    for d in tu.diagnostics:
        if d.severity >= 3 and not d.spelling.endswith("file not found"):
            f = d.location.file
            out.append((d.severity, d.spelling, f.name if f else None, d.location.line, d.category_name,
                        d.location.column))
    return out


@pytest.mark.parametrize("folder", ["plain", "odd: name"])
def test_errors_match_libclang_property_by_property(tmp_path, folder):
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path / folder)
    cpp = layer_cpp(tmp_path / folder)
    cpp.write_text(cpp.read_text(encoding="utf-8") + "\nint broken = ;\nundeclared_thing x;\n", encoding="utf-8")
    got = [(d.severity, d.spelling, d.file, d.line, d.category, d.column) for d in parse(cpp, []).errors()]
    assert got == _by_property(cpp)
    assert any(d[2] is not None and d[2].endswith(cpp.name) for d in got)  # the layer's own errors are placed


def test_a_formatted_line_of_another_shape_is_not_guessed():
    assert _place("/a/b:c.cpp:12:5: error: expected ';'", "error", "expected ';'") == ("/a/b:c.cpp", 12, 5)
    assert _place("error: no input files", "error", "no input files") == (None, 0, 0)
    assert _place("/a/x.cpp:12: error: expected ';'", "error", "expected ';'") is None  # no column
    assert _place("/a/x.cpp:1:2: warning: w", "error", "w") is None
