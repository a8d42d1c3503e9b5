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
