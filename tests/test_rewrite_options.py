"""Options that hand-written quant layers use: a beta per norm, and an unpacked gate-up MLP."""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner

from llm_transform import transform_file
from llm_transform.cli import main
from llm_transform.graph.passes import Options
from tests.conftest import FIXTURES, layer_cpp

MODES = pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])


@MODES
def test_beta_per_norm(sparse):
    cpp = layer_cpp(FIXTURES / "layers" / "full_fused_qkv_rope")
    r = transform_file(cpp, sparse=sparse, write=False, options=Options(beta="per-norm"))
    assert r.after.inputs_of("inputNormNode") == ["IN_HIDDENSTATES", "IN_NORMWEIGHT", "IN_NORM_BETA"]
    assert r.after.inputs_of("selfNormNode")[2] == "IN_SELFOUTNORM_BETA"
    assert "IN_BETA" not in r.after.graph
    # each beta right after its norm weight in the input order
    order = [t for t in r.after.tensors() if r.after.tensor_kind(t) != "intermediate"]
    assert order[order.index("IN_NORMWEIGHT") + 1] == "IN_NORM_BETA"
    assert order[order.index("IN_SELFOUTNORMWEIGHT") + 1] == "IN_SELFOUTNORM_BETA"


def test_beta_shared_is_the_default(tmp_path):
    dst = tmp_path / "l"
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", dst)
    cpp = layer_cpp(dst)
    r = CliRunner().invoke(main, ["transform", "-s", str(cpp), "--beta", "per-norm"])
    assert r.exit_code == 0, r.output
    text = (dst / "quant_flash_attention_layer.cpp").read_text()
    assert "IN_NORM_BETA" in text and "IN_BETA," not in text
    shared = transform_file(cpp, write=False)
    assert shared.after.inputs_of("inputNormNode")[2] == shared.after.inputs_of("selfNormNode")[2] == "IN_BETA"


def test_beta_per_norm_keeps_an_existing_beta():
    """Norms that already read a beta (anti-outlier layers) keep it whatever the option says."""
    cpp = layer_cpp(FIXTURES / "layers" / "beta_present")
    r = transform_file(cpp, write=False, options=Options(beta="per-norm"))
    assert not [t for t in r.after.added_tensors() if t.endswith("_BETA")]


@MODES
@pytest.mark.parametrize("case", ["full_parallel_mlp_v1", "v1_types", "enum_mixed_prefixes"])
def test_packed_mlp_is_unpacked_by_default(case, sparse):
    """As the hand-written quant layers do: separate up and gate weights, each with its own deqscale and bias,
    `isPack = false`; `unpack_mlp=False` (`--keep-packed-mlp`) keeps the packed form."""
    cpp = layer_cpp(FIXTURES / "layers" / case)
    packed = transform_file(cpp, sparse=sparse, write=False, options=Options(unpack_mlp=False))
    r = transform_file(cpp, sparse=sparse, write=False)
    mlp = next(op for op in r.after.ops() if r.after.role(op) == "mlp")
    float_w = r.before.inputs_of(mlp)[1]
    ins = r.after.inputs_of(mlp)
    up, gate = ins[1], ins[2]
    assert up.endswith("_UP_WEIGHT") and gate.endswith("_GATE_WEIGHT")
    assert float_w not in r.after.graph  # its enum entry now names the up weight, in the same place
    text = r.cpp_text.decode() + r.h_text.decode()
    assert float_w not in text.split("//")[0] or float_w not in re.sub(r"//[^\n]*", "", text)
    assert re.search(r"\w+\.isPack = false;", text) and not re.search(r"\w+\.isPack = true;", text)
    assert ins[4] != "IN_HOLDER" and ins[5] != "IN_HOLDER"  # a deqscale for each of up and gate
    order = r.after.tensors()
    assert order.index(up) < order.index(ins[4]) < order.index(gate) < order.index(ins[5])
    # more inputs than the packed rewrite: the gate weight, plus its deqscale and bias
    n_in = sum(1 for t in r.after.tensors() if r.after.tensor_kind(t) in ("input", "weight", "placeholder"))
    n_packed = sum(1 for t in packed.after.tensors()
                   if packed.after.tensor_kind(t) in ("input", "weight", "placeholder"))
    assert n_in == n_packed + (4 if sparse else 3)  # sparse: the gate index too
    assert any("split into" in f["kind"] for f in r.report()["followups"])


def test_keep_packed_mlp_option():
    r = transform_file(layer_cpp(FIXTURES / "layers" / "v1_types"), write=False, options=Options(unpack_mlp=False))
    assert any("kept packed" in f["kind"] for f in r.report()["followups"])
    assert re.search(r"\w+\.isPack = true;", r.cpp_text.decode())


def test_keep_packed_mlp_on_the_command_line(tmp_path):
    shutil.copytree(FIXTURES / "layers" / "v1_types", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    kept = CliRunner().invoke(main, ["transform", "-s", str(cpp), "--keep-packed-mlp", "--dry-run", "--json"])
    split = CliRunner().invoke(main, ["transform", "-s", str(cpp), "--dry-run", "--json"])
    assert kept.exit_code == split.exit_code == 0, kept.output + split.output
    assert "kept packed" in kept.output and "split into" not in kept.output
    assert "split into" in split.output and "kept packed" not in split.output


OPTION_SETS = {"linear-quant": Options(qkv_style="linear-quant"), "per-norm": Options(beta="per-norm"),
               "keep-packed-mlp": Options(unpack_mlp=False), "no-upgrade": Options(upgrade_v1=False),
               "no-telechat": Options(telechat=False), "float-fallback-all": Options(float_fallback=("all",))}


@pytest.mark.parametrize("option", list(OPTION_SETS))
def test_every_option_on_every_layer_answers_in_one_line(option, tmp_path):
    """Each option set, in both modes, on every fixture: an output the verifier accepts, or a one-line
    refusal; never a traceback (the fold of an anti-outlier add once left a stale op order behind when a
    sparse run added as many tensors as the fold removed)."""
    from llm_transform import LayerError
    from tests.conftest import LAYER_DIRS, NEW_IDIOM_DIRS

    for d in [*LAYER_DIRS, *NEW_IDIOM_DIRS]:
        shutil.copytree(d, tmp_path / d.name)
        for sparse in (False, True):
            try:
                transform_file(layer_cpp(tmp_path / d.name), sparse=sparse, write=False, options=OPTION_SETS[option])
            except LayerError as exc:
                assert exc.kind != "verifier", f"{d.name}: {exc}"
