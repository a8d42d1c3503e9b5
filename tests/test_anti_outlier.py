"""ATB_LAYERS.md §3.3: an anti-outlier float layer (norm -> ADD(beta)) becomes a quant layer whose norms
take the beta as third input; the two ADD nodes and their inputs' intermediates go away."""

from __future__ import annotations

from llm_transform import transform_file
from tests.conftest import FIXTURES, layer_cpp

CPP = layer_cpp(FIXTURES / "layers" / "beta_present")


def test_beta_adds_are_folded_into_the_quant_norms():
    r = transform_file(CPP, write=False)
    g = r.after
    assert "inputNormBetaAddNode" not in g.ops() and "selfNormBetaAddNode" not in g.ops()
    assert len(g.ops()) == len(r.before.ops()) - 2
    assert g.inputs_of("inputNormNode") == ["IN_HIDDENSTATES", "IN_NORMWEIGHT", "IN_BETA"]
    assert g.outputs_of("inputNormNode") == ["INTERMIDATE_INPUTNORMBETAOUT"]
    assert g.inputs_of("qLinearNode")[0] == "INTERMIDATE_INPUTNORMBETAOUT"
    assert "INTERMIDATE_INPUTNORMOUT" not in g.tensors()
    text = r.cpp_text.decode()
    assert "static const uint64_t NODE_COUNT = 11;" in text
    assert "static const uint64_t INTERMEDIATE_TENSOR_COUNT = 11;" in text
    assert "inputNormBetaAddNode" not in text
    assert "addParam.elewiseType" in text  # still used by the residual adds
    assert "WrenAntiQuantLayer(" in text
    assert any(c.get("removed") for c in r.changes.changes)


def _variant(tmp_path, *edits):
    import shutil

    shutil.copytree(FIXTURES / "layers" / "anti_outlier_v1_mlp_bias", tmp_path / "l")
    cpp = layer_cpp(tmp_path / "l")
    text = cpp.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    cpp.write_text(text, encoding="utf-8")
    return cpp


ADD = "    addParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;\n"


def test_a_param_only_the_folded_adds_used_goes_with_them(tmp_path):
    own = ("    atb::infer::ElewiseParam betaParam;\n"
           "    betaParam.elewiseType = atb::infer::ElewiseParam::ElewiseType::ELEWISE_ADD;\n")
    cpp = _variant(tmp_path, (ADD, ADD + own),
                   ("(addParam, &inputNormBetaAddNode", "(betaParam, &inputNormBetaAddNode"),
                   ("(addParam, &selfNormBetaAddNode", "(betaParam, &selfNormBetaAddNode"))
    text = transform_file(cpp, write=False).cpp_text.decode()  # verified: nothing else changes
    assert "betaParam" not in text and ADD in text


def test_a_comment_above_a_folded_add_stays(tmp_path):
    """Every comment of the float layer stays where it was: one above a folded add now speaks for the quant
    norm that adds the beta itself."""
    beta = "    CREATE_OPERATION(addParam, &selfNormBetaAddNode.operation);\n"
    decl = "    atb::infer::ElewiseParam addParam;\n"
    cpp = _variant(tmp_path, (beta, "    // the anti-outlier beta, after the post norm\n" + beta),
                   (decl, "    // one add param for the beta and residual adds\n" + decl))
    text = transform_file(cpp, write=False).cpp_text.decode()
    assert "    // the anti-outlier beta, after the post norm\n" in text
    assert "selfNormBetaAddNode" not in text
    assert "    // one add param for the beta and residual adds\n" + decl in text
