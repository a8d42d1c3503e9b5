"""The verifier refuses what a careful reviewer would reject, for each kind of finding, and only that.

Each test takes a correct generated pair, injects one defect of the kind at hand (the way an earlier
version of the rewrite produced it), and checks that the verifier names it; the same pair without the
defect verifies clean. The pipeline runs the same verifier before every write.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from llm_transform import LayerError, transform_file
from llm_transform.cli import main
from llm_transform.graph.passes import Options
from llm_transform.verify import check_against
from tests.conftest import FIXTURES, LAYER_DIRS, layer_cpp


def _generated(case: str, tmp_path: Path, *, sparse: bool = False) -> tuple[Path, Path, Path]:
    """The float pair copied to tmp_path and its rewrite written beside it: (float cpp, target cpp, target h)."""
    dst = tmp_path / case
    shutil.copytree(FIXTURES / "layers" / case, dst)
    cpp = layer_cpp(dst)
    r = transform_file(cpp, sparse=sparse)
    return cpp, r.target_cpp, r.target_h


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _kinds(float_cpp: Path, gen_cpp: Path, **kw) -> list[tuple[str, str]]:
    _, rejections = check_against(float_cpp, gen_cpp, **kw)
    return [(r.kind, r.message) for r in rejections]


@pytest.mark.parametrize("folder", LAYER_DIRS, ids=[d.name for d in LAYER_DIRS])
@pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])
def test_written_pairs_verify_clean(folder, sparse, tmp_path):
    """What transform writes passes `check --against` (the same code): nothing to reject."""
    try:
        cpp, gen, _ = _generated(folder.name, tmp_path, sparse=sparse)
    except LayerError as exc:
        assert exc.kind != "verifier", exc.one_line()
        pytest.skip(f"not rewritten: {exc.reason}")
    assert _kinds(cpp, gen) == []


def test_unread_added_tensor_is_a_new_finding(tmp_path):
    cpp, gen, _ = _generated("full_fused_qkv_rope", tmp_path)
    # the deqscale stays declared (and counted) but its slot reads the placeholder instead
    _edit(gen, "IN_QKVMIXEDLINEAR_DEQSCALE};", "IN_HOLDER};")
    found = _kinds(cpp, gen)
    assert ("finding", "warning: input IN_QKVMIXEDLINEAR_DEQSCALE is read by no node") in found


def test_orphaned_float_input_is_a_new_finding(tmp_path):
    """The float feeds the MLP's up bias; a rewrite that puts a new tensor in its slot leaves it unread."""
    cpp, gen, _ = _generated("beta_present", tmp_path)
    text = gen.read_text(encoding="utf-8")
    assert "IN_MLPUPBIAS" in text
    start = text.index("mlpNode.inTensorIds")
    end = text.index(";", start)
    gen.write_text(text[:start] + text[start:end].replace("IN_MLPUPBIAS", "IN_HOLDER") + text[end:],
                   encoding="utf-8")
    found = _kinds(cpp, gen)
    assert ("finding", "warning: input IN_MLPUPBIAS is read by no node") in found


def test_new_compiler_error(tmp_path):
    cpp, gen, _ = _generated("full_fused_qkv_rope", tmp_path)
    _edit(gen, "param.qkvInputScale", "param.qkvInputScal")  # in from_json: the field is not read there now
    found = dict(_kinds(cpp, gen))
    assert list(found) == ["unwired-field", "compiler"]
    assert "no member named 'qkvInputScal'" in found["compiler"]


def test_missing_headers_are_no_error(tmp_path):
    """Without the ATB headers every ATB name is undeclared, in the float pair too: not the rewrite's fault."""
    cpp, gen, _ = _generated("full_paged_attention", tmp_path)
    assert _kinds(cpp, gen) == []


def test_double_assignment(tmp_path):
    cpp, gen, _ = _generated("full_fused_qkv_rope", tmp_path)
    _edit(gen, "selfOutLinearParam.isBias = true;", "selfOutLinearParam.isBias = false;\n"
          "    selfOutLinearParam.isBias = true;")
    found = _kinds(cpp, gen)
    assert [k for k, _ in found] == ["double-assignment"]
    assert "selfOutLinearParam.isBias is assigned again" in found[0][1]


def test_assignments_around_a_creation_call_are_no_double_assignment(tmp_path):
    """Setting a field, creating an op from the param, then setting it again for the next op is normal."""
    cpp, gen, _ = _generated("shared_params", tmp_path)
    assert _kinds(cpp, gen) == []


def test_bad_scale_name_through_the_api_is_refused(tmp_path):
    """The CLI validates --scale-names; the API relies on the verifier to catch a non-identifier name."""
    dst = tmp_path / "l"
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", dst)
    with pytest.raises(LayerError) as exc:
        transform_file(layer_cpp(dst), options=Options(scale_names={"qkv": "5"}))
    assert exc.value.kind == "verifier"
    assert "'5InputScale'" in exc.value.reason and "not a valid C++ identifier" in exc.value.reason
    assert not list(dst.glob("quant_*"))


def test_clashing_names(tmp_path):
    """A made-up name must not already mean something in the pair: the pass steps around identifiers it
    finds, and the verifier refuses one that clashes anyway."""
    from llm_transform.verify import _bad_names

    dst = tmp_path / "l"
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", dst)
    cpp = layer_cpp(dst)
    enum = "enum FlashAttentionLayerTensorId"
    _edit(cpp, enum, "static const float qkvInputScale = 1;\n" + enum)
    r = transform_file(cpp, write=False)
    assert [f.scale for f in r.changes.scale_fields if f.label == "qkv"] == ["qkv2InputScale"]
    rej = _bad_names([("tensor", "IN_HOLDER"), ("param field", "int")], {"IN_HOLDER"}, "x.cpp")
    assert [r.message for r in rej] == [
        "the tensor name IN_HOLDER it introduces is already used in the float pair",
        "the param field name 'int' it introduces is not a valid C++ identifier",
    ]


def test_pipeline_refuses_before_writing(tmp_path, monkeypatch):
    """A renderer that appends a contradicting assignment (the old defect) gets nothing written."""
    from llm_transform.render import param_edits

    dst = tmp_path / "l"
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", dst)
    real = param_edits._replace_value

    def append_instead(ed, a, value):
        if a.path == "isBias":
            ed.insert_before(next(c for c in ed.m.layer.creates if c.param is a.param),
                             [f"{a.param.var}.{a.path} = {value};"])
        else:
            real(ed, a, value)

    monkeypatch.setattr(param_edits, "_replace_value", append_instead)
    with pytest.raises(LayerError) as exc:
        transform_file(layer_cpp(dst))
    assert exc.value.kind == "verifier" and "assigned again" in exc.value.reason
    assert exc.value.line is not None and exc.value.path.endswith("quant_flash_attention_layer.cpp")
    assert not list(dst.glob("quant_*"))


def test_an_added_field_the_json_parsing_does_not_read(tmp_path):
    float_cpp, gen_cpp, _ = _generated("json_from_json_create", tmp_path)
    assert _kinds(float_cpp, gen_cpp) == []
    _edit(gen_cpp, '    paramJson.at("denseInputScale").get_to(param.denseInputScale);\n', "")
    assert _kinds(float_cpp, gen_cpp) == [("unwired-field", "the param field denseInputScale it adds is not read "
                                           "in from_json, which reads the layer's other fields from JSON; the "
                                           "model could not set it")]


def test_an_added_field_no_op_reads(tmp_path):
    float_cpp, gen_cpp, gen_h = _generated("beta_present", tmp_path)
    _edit(gen_h, "    float qkvInputScale = 1;\n", "    float qkvInputScale = 1;\n    float strayInputScale = 1;\n")
    assert _kinds(float_cpp, gen_cpp) == [("unwired-field", "the param field strayInputScale it adds is read by "
                                           "no op's param or branch")]


@pytest.mark.parametrize(("where", "old", "new", "kind"), [
    ("h", "ATB_SPEED_MODELS_ASTER_QUANT_FLASH_ATTENTION_LAYER_H", "ATB_SPEED_MODELS_ASTER_FLASH_ATTENTION_LAYER_H",
     "include guard"),
    ("both", "FlashAttentionQuantLayerParam", "FlashAttentionLayerParam", "struct"),
    ("both", "CreateFlashAttentionQuantLayer", "CreateFlashAttentionLayer", "function"),
])
def test_a_name_kept_from_the_float_pair_would_clash(tmp_path, where, old, new, kind):
    float_cpp, gen_cpp, gen_h = _generated("full_fused_qkv_rope", tmp_path)
    for path in [gen_h] if where == "h" else [gen_cpp, gen_h]:
        _edit(path, old, new, count=-1)
    found = _kinds(float_cpp, gen_cpp)
    assert ("float-clash", f"the {kind} {new} has the float pair's name; building or including both layers "
            "would clash") in found
    assert {k for k, _ in found} == {"float-clash"}


def test_a_new_input_placed_after_the_outputs(tmp_path):
    float_cpp, gen_cpp, _ = _generated("json_from_json_create", tmp_path)
    _edit(gen_cpp, "    IN_BETA,\n    IN_HOLDER,\n    OUT_LAYEROUT,\n",
          "    IN_HOLDER,\n    OUT_LAYEROUT,\n    IN_BETA,\n")
    found = _kinds(float_cpp, gen_cpp)
    assert [k for k, _ in found] == ["finding", "finding"]
    assert "error: enum entry IN_BETA is 34, but the graph numbers its inputs 0..33" in found[1][1]


def test_a_field_the_upgraded_type_lacks_without_headers(tmp_path):
    """Without the user's headers the catalogue's member list is the reference for a V2 type."""
    float_cpp, gen_cpp, _ = _generated("v1_isbf16", tmp_path)
    _edit(gen_cpp, "    selfOutLinearParam.isBias = true;\n",
          "    selfOutLinearParam.isBias = true;\n    selfOutLinearParam.isBF16 = param.isBF16;\n")
    assert _kinds(float_cpp, gen_cpp) == [("finding", "warning: selfOutLinearParam.isBF16 is set, but "
                                           "atb_speed::common::ParallelParamV2 declares no field isBF16")]


def test_a_field_that_reads_back_with_another_value_is_refused(tmp_path, monkeypatch):
    """A scale field of another quant point compiles and verifies by every other check; the planned
    field values catch it."""
    from llm_transform.render import text

    dst = tmp_path / "l"
    shutil.copytree(FIXTURES / "layers" / "json_from_json_create", dst)
    real = text.Edits.insert_before

    def wrong_scale(self, create, lines, *a, **k):
        return real(self, create, [ln.replace("param.denseInputScale", "param.qkvInputScale") for ln in lines],
                    *a, **k)

    monkeypatch.setattr(text.Edits, "insert_before", wrong_scale)
    with pytest.raises(LayerError) as exc:
        transform_file(layer_cpp(dst))
    assert exc.value.kind == "verifier" and exc.value.line is not None
    assert "sets quantParam.inputScale = param.qkvInputScale instead of param.denseInputScale" in exc.value.reason
    assert not list(dst.glob("quant_*"))


@pytest.mark.parametrize(("old", "new", "message"), [
    ("float qkvInputScale = 1;", "int qkvInputScale = 1;", "qkvInputScale is declared as int = 1 instead of float = 1"),
    ('paramJson.at("qkvInputScale")', 'paramJson.at("qkv_input_scale")',
     "qkvInputScale is read from JSON key 'qkv_input_scale' instead of 'qkvInputScale'"),
])
def test_a_scale_field_declared_or_read_otherwise_than_planned(tmp_path, monkeypatch, old, new, message):
    from llm_transform.render import text as render_text

    dst = tmp_path / "l"
    shutil.copytree(FIXTURES / "layers" / "json_from_json_create", dst)
    real = render_text.Edits.edit
    monkeypatch.setattr(render_text.Edits, "edit",
                        lambda self, which, at, n, text, why="": real(self, which, at, n, text.replace(old, new), why))
    with pytest.raises(LayerError) as exc:
        transform_file(layer_cpp(dst))
    assert exc.value.kind == "verifier" and message in exc.value.reason and exc.value.line is not None


def test_user_headers_without_a_field(tmp_path):
    """With the user's (older) headers on the include path, a field their version lacks is refused by name."""
    stub = Path(__file__).parent / "atb_stub"
    old = Path(__file__).parent / "atb_stub_old"
    dst = tmp_path / "l"
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", dst)
    with pytest.raises(LayerError) as exc:
        transform_file(layer_cpp(dst), sparse=True, write=False, include_dirs=[str(old), str(stub)])
    assert exc.value.kind == "verifier"
    assert "sets isSparse, which atb_speed::common::MlpGateParamV2 as declared in" in exc.value.reason
    assert "atb_stub_old/layers/mlp_gate_v2.h" in exc.value.reason
    # the headers that have the field: fine
    transform_file(layer_cpp(dst), sparse=True, write=False, include_dirs=[str(stub)])


def test_check_against_cli(tmp_path):
    cpp, gen, _ = _generated("full_fused_qkv_rope", tmp_path)
    runner = CliRunner()
    ok = runner.invoke(main, ["check", "--against", str(cpp), str(gen)])
    assert ok.exit_code == 0 and "nothing to reject" in ok.output
    _edit(gen, "param.qkvInputScale", "param.qkvInputScal")
    bad = runner.invoke(main, ["check", "--against", str(cpp), str(gen)])
    assert bad.exit_code == 1
    assert "[compiler]" in bad.output and f"{gen}:" in bad.output
    js = runner.invoke(main, ["check", "--json", "--against", str(cpp), str(gen)])
    assert js.exit_code == 1 and '"kind": "compiler"' in js.output


def test_a_function_the_pair_only_declares_is_no_clash(tmp_path):
    """A declaration of a function defined elsewhere (a model's shared helper) stays as it is."""
    dst = tmp_path / "l"
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", dst)
    cpp = layer_cpp(dst)
    text = cpp.read_text(encoding="utf-8")
    i = text.index("namespace atb_speed {")
    text = text[:i] + "namespace atb_speed {\nvoid SharedModelHelper();\n}  // namespace atb_speed\n" + text[i:]
    cpp.write_text(text, encoding="utf-8")
    r = transform_file(cpp)
    assert "void SharedModelHelper();" in r.cpp_text.decode()


def _neutral_copy(gen: Path, name: str) -> Path:
    """The generated pair under a name that says nothing about quantization."""
    cpp = gen.with_name(f"{name}.cpp")
    shutil.copyfile(gen, cpp)
    shutil.copyfile(gen.with_suffix(".h"), cpp.with_suffix(".h"))
    return cpp


@pytest.mark.parametrize("sign", ["header", "name", "quant fields"])
def test_check_against_with_the_pairs_swapped_is_a_usage_error(tmp_path, sign):
    """A generated pair is told from a float one by each sign alone: the tool's header, a quant name, and
    the quant fields it sets."""
    dst = tmp_path / "l"
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", dst)
    cpp = layer_cpp(dst)
    r = transform_file(cpp, header=sign == "header")
    gen = r.target_cpp if sign == "name" else _neutral_copy(r.target_cpp, "zeta_layer")
    swapped = CliRunner().invoke(main, ["check", "--against", str(gen), str(cpp)])
    assert swapped.exit_code == 2, swapped.output
    assert "swapped" in swapped.output and sign in swapped.output
    assert f"check --against {cpp} {gen}" in swapped.output
    right = CliRunner().invoke(main, ["check", "--against", str(cpp), str(gen)])
    assert right.exit_code == 0 and "nothing to reject" in right.output


def test_check_against_two_float_pairs_is_a_usage_error(tmp_path):
    dst = tmp_path / "l"
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", dst)
    cpp = layer_cpp(dst)
    other = _neutral_copy(cpp, "zeta_layer")
    r = CliRunner().invoke(main, ["check", "--against", str(cpp), str(other)])
    assert r.exit_code == 2 and f"{other}: not a generated pair" in r.output
    r = CliRunner().invoke(main, ["check", "--json", "--against", str(cpp), str(other)])
    assert r.exit_code == 2 and "not a generated pair" in r.output
