"""Layers in the newer ATB idioms: read into the same graph (see test_graph_fixtures for the exact
graphs), queried and drawn like the others, and rewritten where each idiom keeps things."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from llm_transform import load_layer, transform_file
from llm_transform.cli import main
from llm_transform.render.picture import to_dot
from tests import cxx
from tests.conftest import FIXTURES, NEW_IDIOM_DIRS, layer_cpp

IDIOM_WORDS = {"push_back_nodes": "push_back", "helper_nodes": "helper", "runtime_ids": "counted at run time",
               "string_tensors": "string-named tensors", "list_steps": "built in steps",
               "subgraph_steps": "sub-graphs", "candidate_maps": "built in steps"}


@pytest.mark.parametrize("folder", NEW_IDIOM_DIRS, ids=[d.name for d in NEW_IDIOM_DIRS])
def test_check_and_graph_work(folder, tmp_path):
    r = CliRunner().invoke(main, ["check", str(layer_cpp(folder))])
    assert r.exit_code == 0, r.output
    lg = load_layer(layer_cpp(folder))
    assert to_dot(lg).startswith("digraph")
    assert lg.upstream(lg.ops()[-1])


@pytest.mark.parametrize("folder", NEW_IDIOM_DIRS, ids=[d.name for d in NEW_IDIOM_DIRS])
@pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])
def test_rewrite(folder, sparse, tmp_path):
    """The edits land where the idiom keeps things: in helpers, beside run-time ids, in tensor-name
    lists; the verifier checks the result as for any layer."""
    import shutil

    shutil.copytree(folder, tmp_path / folder.name)
    cpp = layer_cpp(tmp_path / folder.name)
    r = transform_file(cpp, sparse=sparse)
    assert r.written
    assert IDIOM_WORDS[folder.name].split()[0] in " ".join(r.report()["idioms"])
    mlp = next(o for o in r.after.ops() if r.after.role(o) == "mlp")
    assert len(r.after.inputs_of(mlp)) == 19
    for t in r.after.added_tensors():
        assert r.after.consumers(t), t
    again = load_layer(r.target_cpp)
    assert again.errors() == [] and again.ops() == r.after.ops()
    old = set(cpp.read_text().splitlines())
    new_lines = [ln for ln in r.target_cpp.read_text().splitlines()[1:] if ln not in old]
    assert all(len(ln) <= 120 for ln in new_lines), max(new_lines, key=len)  # lists wrap, '};' included


def test_string_tensors_take_the_layers_spelling():
    r = transform_file(layer_cpp(FIXTURES / "layers_new" / "string_tensors"), write=False)
    assert "in_qkv_deqscale" in r.after.added_tensors() and "in_beta" in r.after.added_tensors()
    text = r.cpp_text.decode()
    assert '"in_qkv_weight",\n        "in_qkv_deqscale",\n        "in_qkv_bias",' in text
    assert '"in_hidden_states", "in_input_norm_weight", "in_beta"}' in text


def test_run_time_ids_are_declared_beside_their_weight():
    r = transform_file(layer_cpp(FIXTURES / "layers_new" / "runtime_ids"), write=False)
    text = r.cpp_text.decode()
    assert "const uint64_t IN_QKV_WEIGHT = TENSOR_ID++;\n    const uint64_t IN_QKV_DEQSCALE = TENSOR_ID++;" in text


@pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])
def test_a_list_of_one_call_per_tensor_grows_by_calls_like_its_own(tmp_path, sparse):
    import shutil

    src = FIXTURES / "layers_new" / "string_tensors"
    shutil.copytree(src, tmp_path / "s")
    cpp = layer_cpp(tmp_path / "s")
    text = cpp.read_text()
    old = 'atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_input_norm_out", "in_qkv_weight"});'
    assert old in text
    cpp.write_text(text.replace(old, '{atb_speed::common::GetTensorIdx(tensorMap, "intermediate_input_norm_out"), '
                                     'atb_speed::common::GetTensorIdx(tensorMap, "in_qkv_weight")};'))
    r = transform_file(cpp, sparse=sparse, write=False)  # the verifier reads it back as planned
    added = ["in_qkv_bias", "in_qkv_deqscale", *(["in_qkv_index"] if sparse else [])]
    # the line was past 120 columns already: each added call goes on its own line, under the first call
    tail = "".join(f',\n         atb_speed::common::GetTensorIdx(tensorMap, "{n}")' for n in added) + "};"
    assert 'atb_speed::common::GetTensorIdx(tensorMap, "in_qkv_weight")' + tail in r.cpp_text.decode()
    qkv = next(o for o in r.after.ops() if "in_qkv_weight" in r.after.inputs_of(o))
    assert r.after.inputs_of(qkv)[2:] == added


def _calls_list(tmp_path, replacement: str):
    import shutil

    shutil.copytree(FIXTURES / "layers_new" / "string_tensors", tmp_path / "s")
    cpp = layer_cpp(tmp_path / "s")
    old = 'atb_speed::common::GetTensorIdxList(tensorMap, {"intermediate_input_norm_out", "in_qkv_weight"});'
    cpp.write_text(cpp.read_text().replace(old, replacement))
    return cpp


def test_a_list_of_calls_continues_as_its_own_lines_do(tmp_path):
    cpp = _calls_list(tmp_path, '{GetTensorIdx(tensorMap, "intermediate_input_norm_out"),\n'
                                '        GetTensorIdx(tensorMap, "in_qkv_weight")};')
    text = transform_file(cpp, write=False).cpp_text.decode()
    assert ('        {GetTensorIdx(tensorMap, "intermediate_input_norm_out"),\n'
            '        GetTensorIdx(tensorMap, "in_qkv_weight"), GetTensorIdx(tensorMap, "in_qkv_bias"),\n'
            '        GetTensorIdx(tensorMap, "in_qkv_deqscale")};\n') in text


@pytest.mark.skipif(cxx.available() is not None, reason=str(cxx.available()))
@pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])
def test_a_list_of_calls_compiles_after_the_rewrite(tmp_path, sparse):
    cpp = _calls_list(tmp_path, '{atb_speed::common::GetTensorIdx(tensorMap, "intermediate_input_norm_out"),\n'
                                '        atb_speed::common::GetTensorIdx(tensorMap, "in_qkv_weight")};')
    assert cxx.compile_cpp(cpp, tree_root=tmp_path / "float") == (True, "")
    r = transform_file(cpp, sparse=sparse)
    assert cxx.compile_cpp(r.target_cpp, tree_root=tmp_path / "gen") == (True, "")


def test_a_quant_bias_beside_a_float_bias_of_the_same_name():
    """The float adds its own bias in a separate node; the int32 bias the linear now reads is another tensor,
    named so a reader tells them apart (not `_2`)."""
    r = transform_file(layer_cpp(FIXTURES / "layers_new" / "push_back_nodes"), write=False)
    assert "IN_SELF_OUT_QUANT_BIAS" in r.after.inputs_of("selfOutLinearNode")
    assert r.after.consumers("IN_SELF_OUT_BIAS")  # the float bias is still read by its add


def _helper_layer(tmp_path, old: str, new: str):
    """The helper-nodes fixture with AddMlp's parameter list (and its reads of the layer param) changed."""
    import shutil

    shutil.copytree(FIXTURES / "layers_new" / "helper_nodes", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8")
    i, j = text.index("static atb::Status AddMlp"), text.index("atb::Status OrcaDecoderLayer")
    helper = text[i:j].replace("const OrcaLayerParam &param", old)
    cpp.write_text(text[:i] + helper.replace("= param.", new) + text[j:], encoding="utf-8")
    return cpp


@pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])
def test_a_helper_reads_the_scales_through_its_own_name_for_the_layer_param(tmp_path, sparse):
    cpp = _helper_layer(tmp_path, "const OrcaLayerParam &layerParam", "= layerParam.")
    r = transform_file(cpp, sparse=sparse, write=False)
    text = r.cpp_text.decode()
    helper = text[text.index("AddMlp("):text.index("atb::Status OrcaDecoder")]
    assert "quantDownParam.inputScale = layerParam.ffnOutInputScale;" in helper
    assert "param." not in helper.replace("layerParam.", "").replace("mlpParam.", "")


def test_a_helper_not_given_the_layer_param_leaves_its_op_float(tmp_path):
    cpp = _helper_layer(tmp_path, "bool transposed, int rank, int rankSize, const std::string &backend",
                        "= ")
    text = cpp.read_text(encoding="utf-8")
    cpp.write_text(text.replace("= transposedWeight;", "= transposed;").replace("AddMlp(feedForwardNode, param)",
                   "AddMlp(feedForwardNode, param.transposedWeight, param.rank, param.rankSize, param.backend)"),
                   encoding="utf-8")
    r = transform_file(cpp, write=False)  # and the verifier passes it
    mlp = next(o for o in r.after.ops() if r.after.role(o) == "mlp")
    assert mlp not in r.after.changed_ops()
    reason = next(s["reason"] for s in r.changes.skipped if s["node"] == mlp)
    assert "AddMlp, which is not given the layer param" in reason
