"""Golden outputs: complete fixture layers in both modes, compared byte for byte.

Each golden pair was read by hand against ATB_LAYERS.md §3 when it was (re)generated with
``python tests/golden/regenerate.py``; a failing test here means the output changed — review the diff,
then regenerate.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_transform import transform_file
from llm_transform.graph.passes import Options
from tests.conftest import FIXTURES, layer_cpp

GOLDEN = Path(__file__).parent / "golden"
#: what each case stands for in the issue's list
CASES = {
    "full_fused_qkv_rope": "RmsNorm, fused QKV, V2 parallel + MLP, shared norm param",
    "full_separate_qkv_layernorm": "LayerNorm dual output, separate Q/K/V sharing a param, pre-existing biases",
    "full_paged_attention": "prefill/decode branches, IN_PLACE_HOLDER",
    "full_parallel_mlp_v1": "V1 ParallelParam + packed V1 MlpGateParam upgraded, no placeholder, hand-parsing Create",
    "v1_types": "V1 types with biases, enum in the header",
    "enum_in_header": "enum in the header, names without 'Layer', brace-initialised params",
    "enum_chained_sentinels": "three enums chained by *_MAX sentinels, expression counts",
    "telechat_local": "telechat-local parallel / MLP contracts",
    "json_hand_parse": "static Create in the header parsing JSON by hand",
    "beta_present": "anti-outlier norm -> ADD(beta) folded into the quant norm, ADD nodes removed",
    "fused_operation": "a whole layer in a file named as an operation, Paddle style",
    "layers_new/push_back_nodes": "nodes appended with push_back, one under an if",
    "layers_new/helper_nodes": "nodes filled by helper functions, one call wrapped in a macro",
    "layers_new/runtime_ids": "tensor ids counted at run time, one node variable per block",
    "layers_new/string_tensors": "tensors named by strings in GetTensorIdxList lists",
    "layers_new/list_steps": "tensor-name lists built in steps: list variables, pushes, loops, a name variable",
    "layers_new/candidate_maps": "names declared in maps of candidate lists, helpers given tensor names",
    "layers_new/subgraph_steps": "a sub-graph operation beside the layer, id pushes, an explicit output value",
}


#: golden outputs of options that change the layout, as (fixture, options)
OPTION_CASES = {
    "telechat_local_fallback": ("telechat_local", Options(float_fallback=("qkv", "down"))),
    "full_fused_qkv_rope_fallback": ("full_fused_qkv_rope", Options(float_fallback=("all",))),
}


def _source(case: str) -> Path:
    return FIXTURES / case if "/" in case else FIXTURES / "layers" / case


def golden_paths(case: str, sparse: bool) -> tuple[Path, Path]:
    cpp = layer_cpp(_source(OPTION_CASES[case][0] if case in OPTION_CASES else case))
    prefix = "sparse_quant" if sparse else "quant"
    folder = GOLDEN / case.rsplit("/", 1)[-1]
    return folder / f"{prefix}_{cpp.name}", folder / f"{prefix}_{cpp.with_suffix('.h').name}"


@pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case, sparse):
    r = transform_file(layer_cpp(_source(case)), sparse=sparse, write=False, header=False)
    want_cpp, want_h = golden_paths(case, sparse)
    assert r.cpp_text == want_cpp.read_bytes(), f"{want_cpp.name} changed; review and regenerate"
    assert r.h_text == want_h.read_bytes(), f"{want_h.name} changed; review and regenerate"


@pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])
@pytest.mark.parametrize("case", sorted(OPTION_CASES))
def test_golden_with_options(case, sparse):
    fixture, options = OPTION_CASES[case]
    r = transform_file(layer_cpp(_source(fixture)), sparse=sparse, write=False, header=False, options=options)
    want_cpp, want_h = golden_paths(case, sparse)
    assert r.cpp_text == want_cpp.read_bytes(), f"{want_cpp.name} changed; review and regenerate"
    assert r.h_text == want_h.read_bytes(), f"{want_h.name} changed; review and regenerate"
