"""transform_file on every fixture layer, in both modes: the output reads back clean and keeps the bytes."""

from __future__ import annotations

import difflib
import re
import shutil

import pytest

from llm_transform import LayerError, load_layer, transform_file
from llm_transform.source.clang_check import syntax_check
from tests.conftest import FIXTURES, LAYER_DIRS, layer_cpp

MODES = [False, True]


def _copy(folder, tmp_path):
    dst = tmp_path / folder.name
    shutil.copytree(folder, dst)
    return layer_cpp(dst)


def _transformable(folder):
    try:
        transform_file(layer_cpp(folder), write=False)
        return True
    except LayerError:
        return False


CANDIDATES = [d for d in LAYER_DIRS if _transformable(d)]


@pytest.mark.parametrize("sparse", MODES, ids=["quant", "sparse"])
@pytest.mark.parametrize("folder", CANDIDATES, ids=[d.name for d in CANDIDATES])
def test_generated_pair_checks_clean(folder, sparse, tmp_path):
    cpp = _copy(folder, tmp_path)
    before_cpp, before_h = cpp.read_bytes(), cpp.with_suffix(".h").read_bytes()
    r = transform_file(cpp, sparse=sparse)
    assert r.written and r.target_cpp.is_file() and r.target_h.is_file()
    # sources untouched
    assert cpp.read_bytes() == before_cpp and cpp.with_suffix(".h").read_bytes() == before_h
    lg = load_layer(r.target_cpp)
    assert lg.errors() == [], [f.one_line() for f in lg.errors()]
    syntax_check(r.target_cpp, [])
    # every added tensor is wired into some node
    for t in r.after.added_tensors():
        assert lg.consumers(t) or lg.producers(t), t
    # the generated layer has its own names
    cpp_text = r.target_cpp.read_text(encoding="utf-8-sig")
    h_text = r.target_h.read_text(encoding="utf-8-sig")
    prefix = "SparseQuant" if sparse else "Quant"
    assert prefix in lg.name
    assert f'"{r.target_h.name}"' in cpp_text or f'/{r.target_h.name}"' in cpp_text
    if "#pragma once" not in h_text:  # a header guarded by #pragma once has no guard name to change
        guard = re.search(r"#ifndef (\w+)", h_text).group(1)
        assert ("SPARSE_QUANT" if sparse else "QUANT") in guard
    # every param field read by generated code is declared in the struct
    for m in re.finditer(r"param\.(\w+(?:InputScale|InputOffset))", cpp_text):
        assert re.search(rf"\b(float|int) {m.group(1)} = ", h_text + cpp_text), m.group(1)


@pytest.mark.parametrize("folder", CANDIDATES, ids=[d.name for d in CANDIDATES])
def test_bytes_outside_edits_survive(folder, tmp_path):
    cpp = _copy(folder, tmp_path)
    r = transform_file(cpp)
    for src, out in ((cpp.read_bytes(), r.cpp_text), (cpp.with_suffix(".h").read_bytes(), r.h_text)):
        assert src.startswith(b"\xef\xbb\xbf") == out.startswith(b"\xef\xbb\xbf")
        assert src.endswith(b"\n") == out.endswith(b"\n")
        if b"\r\n" in src:
            assert out.count(b"\n") == out.count(b"\r\n")
        non_ascii = [ch for ch in src.decode("utf-8-sig") if ord(ch) > 127]
        assert [ch for ch in out.decode("utf-8-sig") if ord(ch) > 127] == non_ascii
        # comments are kept verbatim (the guard named after #endif is renamed with the guard)
        guard = re.search(rb"#ifndef (\w+)", src)
        for c in re.findall(rb"//[^\n]*", src):
            if guard is None or guard.group(1) not in c:
                assert c in out


@pytest.mark.parametrize("folder", CANDIDATES, ids=[d.name for d in CANDIDATES])
def test_second_run_is_a_no_op(folder, tmp_path):
    cpp = _copy(folder, tmp_path)
    first = transform_file(cpp, sparse=True)
    second = transform_file(cpp, sparse=True)
    assert first.written and second.unchanged and not second.written
    assert second.cpp_text == first.cpp_text


def test_edited_target_is_not_overwritten_without_force(tmp_path):
    cpp = _copy(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path)
    r = transform_file(cpp)
    r.target_cpp.write_text("// edited by hand\n")
    with pytest.raises(LayerError) as exc:
        transform_file(cpp)
    assert "--force" in exc.value.reason
    assert r.target_cpp.read_text() == "// edited by hand\n"
    transform_file(cpp, force=True)
    assert r.target_cpp.read_bytes() == r.cpp_text


def _touched_names(r) -> set[str]:
    """Identifiers the rewrite has a reason to change on a line."""
    model = r.before.source
    names = set(r.renames) | {g.name for g in model.guards}
    names |= {"IN_TENSOR_COUNT", "INTERMEDIATE_TENSOR_COUNT", "INTERNAL_TENSOR_COUNT", "NODE_COUNT", "include"}
    names |= set(r.after.meta["plan"].removed_tensors)
    for op in [*r.after.changed_ops(), *(n.op for n in r.after.meta["plan"].removed_ops)]:
        d = r.before.graph.nodes[op]
        names.add(d["node"])
        if d.get("param_var"):
            names.add(d["param_var"])
        names.update(r.before.inputs_of(op))
        names.update(r.before.outputs_of(op))
        if d["variant"].create is not None:
            names.add(d["variant"].create.callee.rsplit("::", 1)[-1])
    return names


@pytest.mark.parametrize("sparse", MODES, ids=["quant", "sparse"])
@pytest.mark.parametrize("folder", CANDIDATES, ids=[d.name for d in CANDIDATES])
def test_only_lines_with_a_reason_change(folder, sparse):
    r = transform_file(layer_cpp(folder), sparse=sparse, write=False)
    touched = _touched_names(r)
    for src_path, out in ((r.source_cpp, r.cpp_text), (r.source_h, r.h_text)):
        old = src_path.read_bytes().decode("utf-8-sig").splitlines()
        new = out.decode("utf-8-sig").splitlines()
        for tag, i1, i2, _j1, _j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
            if tag in ("replace", "delete"):
                for line in old[i1:i2]:
                    words = set(re.findall(r"\w+", line))
                    assert line.strip() == "" or words & touched or any(t in line for t in touched), \
                        f"{src_path.name}: line changed without a reason: {line!r}"
