"""The verifier's comparison of compiler errors cannot be fooled by a message the float pair also has.

Without the ATB headers both pairs have many errors; an error about the pair's own names counts as the
float's only where the float has it at the same place. The property test moves, swaps and renames lines of
correct outputs and checks the verifier against an independent oracle: errors compared with the text of the
line they stand on.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_transform import LayerError, load_layer, transform_file
from llm_transform.new_errors import declared_names, external
from llm_transform.source.clang_check import parse
from llm_transform.source.names import replace_words
from llm_transform.source.reader import read_pair
from llm_transform.verify import verify
from tests.conftest import FIXTURES, layer_cpp

STRAY = "    qkvLinearParam.transposeA = false;\n"  # a use before the declaration: the float's own error


def _float_with_a_stray_use(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8")
    anchor = "    atb::infer::LinearParam qkvLinearParam = {false, false, false};\n"
    cpp.write_text(text.replace(anchor, STRAY + "\n" + anchor, 1), encoding="utf-8")
    return cpp


def _generated_paths(float_cpp: Path, sparse: bool) -> tuple[Path, Path]:
    prefix = "sparse_quant_" if sparse else "quant_"
    cpp = float_cpp.with_name(prefix + float_cpp.name)
    return cpp, cpp.with_suffix(".h")


def _rejections(float_cpp: Path, cpp_text: str, h_text: str, renames, sparse: bool = False) -> list[tuple[str, str]]:
    """What the verifier refuses in a generated pair given as text ((kind, message)); a pair that does not
    read back is refused as such, as the pipeline does."""
    before = load_layer(float_cpp)
    gen_cpp, gen_h = _generated_paths(float_cpp, sparse)
    gen_cpp.write_text(cpp_text, encoding="utf-8")
    gen_h.write_text(h_text, encoding="utf-8")
    try:
        generated = read_pair(gen_cpp)
    except LayerError as exc:
        return [("read-back", exc.reason)]
    _, rejections = verify(before, generated, renames=renames)
    return [(r.kind, r.message) for r in rejections]


def _compiler_rejections(float_cpp: Path, cpp_text: str, h_text: str, renames) -> list[str]:
    return [m for k, m in _rejections(float_cpp, cpp_text, h_text, renames) if k == "compiler"]


def test_a_moved_line_is_refused_although_the_float_has_the_same_message(tmp_path):
    cpp = _float_with_a_stray_use(tmp_path)
    r = transform_file(cpp, write=False, header=False)
    text, h = r.cpp_text.decode(), r.h_text.decode()
    assert _compiler_rejections(cpp, text, h, r.renames) == []  # as written: clean
    added = "    qkvLinearParam.linearType = atb::infer::LinearType::LINEAR_INT8INT8_INT32_FP16;\n"
    assert added in text
    moved = text.replace(added, "", 1).replace(STRAY, STRAY + added, 1)
    found = _compiler_rejections(cpp, moved, h, r.renames)
    assert found == ["libclang error the float pair does not have: use of undeclared identifier 'qkvLinearParam'"]


def test_a_float_that_uses_its_own_struct_before_including_it_is_inconsistent(tmp_path):
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8")
    include = '#include "flash_attention_layer.h"\n'
    text = text.replace(include, "", 1).replace("} // namespace aster\n", "} // namespace aster\n" + include, 1)
    cpp.write_text(text, encoding="utf-8")
    lg = load_layer(cpp)
    assert [f.code for f in lg.errors()][:1] == ["own-name"]
    assert "the float layer does not compile: unknown type name 'FlashAttentionLayerParam'" in lg.errors()[0].message
    with pytest.raises(LayerError, match="inconsistent"):
        transform_file(cpp, write=False)


def test_a_field_moved_out_of_the_layer_struct_is_inconsistent(tmp_path):
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path / "l")
    h = tmp_path / "l" / "flash_attention_layer.h"
    text = h.read_text(encoding="utf-8")
    assert "    int headNum = 0;\n" in text
    h.write_text(text.replace("    int headNum = 0;\n", "", 1).replace("struct FlashAttentionLayerParam {",
                                                                       "int headNum = 0;\nstruct "
                                                                       "FlashAttentionLayerParam {", 1),
                 encoding="utf-8")
    errors = load_layer(layer_cpp(tmp_path / "l")).errors()
    assert any(f.code == "own-name" and "no member named 'headNum'" in f.message for f in errors)


# -- the property: mutations of correct outputs ------------------------------------------------------------
CASES = ["full_fused_qkv_rope", "full_separate_qkv_layernorm", "v1_types", "beta_present"]


@cache
def _written(case: str, sparse: bool) -> tuple[Path, str, str, dict[str, str]]:
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="verr-"))
    shutil.copytree(FIXTURES / "layers" / case, tmp / case)
    cpp = layer_cpp(tmp / case)
    # the float with a stray use before a declaration, so that the float has messages about its own names
    text = cpp.read_text(encoding="utf-8")
    decl = re.search(r"\n(    atb::infer::\w+Param (\w+)[^\n]*;\n)", text)
    cpp.write_text(text.replace(decl.group(1), f"    {decl.group(2)}.stray = 1;\n\n" + decl.group(1), 1),
                   encoding="utf-8")
    r = transform_file(cpp, sparse=sparse, write=False, header=False)
    return cpp, r.cpp_text.decode(), r.h_text.decode(), dict(r.renames)


def _oracle(float_cpp: Path, cpp_text: str, h_text: str, renames: dict[str, str], sparse: bool) -> Counter:
    """(message, text of its line) of every error that is not about a header-declared name, renames undone."""
    undo = replace_words({new: old for old, new in renames.items()})
    declared = declared_names(read_pair(float_cpp))
    gen_cpp, gen_h = _generated_paths(float_cpp, sparse)
    gen_cpp.write_text(cpp_text, encoding="utf-8")
    gen_h.write_text(h_text, encoding="utf-8")
    # the header also where the .cpp includes it by a path form (models/x/layer/quant_x.h), as a build finds it
    unsaved = {gen_cpp.parent / inc.target: h_text.encode() for inc in read_pair(float_cpp).own_header_includes()}
    for p in list(unsaved):
        unsaved[p.with_name(gen_h.name)] = unsaved.pop(p)
    result = parse(gen_cpp, [], unsaved, enums=False)
    lines = {gen_cpp.absolute(): cpp_text.split("\n"), gen_h.absolute(): h_text.split("\n")}
    out: Counter = Counter()
    for d in result.errors():
        msg = undo(d.spelling)
        if external(msg, declared):
            continue
        text = lines.get(Path(d.file).absolute(), [""] * (d.line + 1))[d.line - 1] if d.file else ""
        out[(msg, undo(text).strip())] += 1
    return out


def _mutate(text: str, data) -> str:
    lines = text.split("\n")
    kind = data.draw(st.sampled_from(["move", "swap", "unrename", "to-stray"]), label="kind")
    i = data.draw(st.integers(0, len(lines) - 2), label="line")
    if kind == "to-stray":  # a line naming the same param, next to the float's own error about it
        j = next(k for k, line in enumerate(lines) if ".stray = 1;" in line)
        var = lines[j].split(".")[0].strip()
        users = [k for k, line in enumerate(lines) if re.search(rf"\b{var}\b", line) and k != j]
        k = users[data.draw(st.integers(0, len(users) - 1), label="user")]
        lines.insert(j + 1, lines.pop(k))
    elif kind == "swap":
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    elif kind == "move":
        j = data.draw(st.integers(0, len(lines) - 1), label="to")
        lines.insert(j, lines.pop(i))
    else:
        lines[i] = re.sub(r"(\w*)(Sparse)?Quant(\w*)", r"\1\3", lines[i])
    return "\n".join(lines)


@pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])
@pytest.mark.parametrize("case", CASES)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_comparison_of_errors_cannot_be_fooled(case, sparse, data):
    cpp, text, h, renames = _written(case, sparse)
    mutated = _mutate(text, data)
    new = _oracle(cpp, mutated, h, renames, sparse) - _oracle(cpp, text, h, renames, sparse)
    rejected = _rejections(cpp, mutated, h, renames, sparse)
    if new:
        assert rejected, f"new errors {sorted(new)} not refused"
