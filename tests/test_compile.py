"""Generated layers compile wherever the float layer compiles, and coexist with it in one library.

Compiled with g++ against tests/atb_stub, hand-written stand-ins for the ATB headers that declare the
float API the fixtures use plus the W8A8 / sparse API of ATB_LAYERS.md §3 (and nothing more: e.g.
LinearSparseParam has no linearType / hasBias, V1 params have no quant fields).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from llm_transform import LayerError, transform_file
from tests import cxx
from tests.conftest import LAYER_DIRS, NEW_IDIOM_DIRS, layer_cpp

if cxx.available() is not None and os.environ.get("LLM_TRANSFORM_REQUIRE_CXX"):
    raise RuntimeError(f"compile tests required (LLM_TRANSFORM_REQUIRE_CXX) but {cxx.available()}")
# about a minute of g++ on two cores: a quick run (`-m "not slow"`) leaves it out, CI runs it
pytestmark = [pytest.mark.skipif(cxx.available() is not None, reason=str(cxx.available())), pytest.mark.slow]


def _candidates() -> list[Path]:
    out = []
    for d in [*LAYER_DIRS, *NEW_IDIOM_DIRS]:
        try:
            transform_file(layer_cpp(d), write=False)
            out.append(d)
        except LayerError:
            pass
    return out


CANDIDATES = _candidates()
LINKED = ["full_fused_qkv_rope", "full_separate_qkv_layernorm", "full_paged_attention", "full_parallel_mlp_v1"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every candidate transformed in both modes next to a copy of its float pair; all files compiled
    once, in parallel."""
    root = tmp_path_factory.mktemp("compile")
    jobs: dict[tuple[str, str], Path] = {}
    results: dict[str, object] = {}
    for d in CANDIDATES:
        dst = root / d.name
        shutil.copytree(d, dst)
        cpp = layer_cpp(dst)
        jobs[(d.name, "float")] = cpp
        for sparse, mode in ((False, "quant"), (True, "sparse")):
            r = transform_file(cpp, sparse=sparse)
            jobs[(d.name, mode)] = r.target_cpp
            results[(d.name, mode, "result")] = r

    def run(key):
        name, mode = key
        tree = root / "trees" / f"{name}-{mode}"
        objects = None
        if name in LINKED:
            objects = root / "obj" / name
            objects.mkdir(parents=True, exist_ok=True)
        return key, cxx.compile_cpp(jobs[key], tree_root=tree, objects=objects)

    with ThreadPoolExecutor() as pool:
        for key, res in pool.map(run, jobs):
            results[key] = res
    results["root"] = root
    return results


@pytest.mark.parametrize("mode", ["quant", "sparse"])
@pytest.mark.parametrize("folder", CANDIDATES, ids=[d.name for d in CANDIDATES])
def test_generated_compiles_where_float_compiles(built, folder, mode):
    float_ok, float_err = built[(folder.name, "float")]
    if not float_ok:
        pytest.skip(f"the float layer does not compile against the stubs: {float_err}")
    ok, err = built[(folder.name, mode)]
    assert ok, err


@pytest.mark.parametrize("name", LINKED)
def test_float_quant_and_sparse_link_into_one_library(built, name):
    """Distinct function, struct, class and registration names: no duplicate symbols when linked."""
    objs = sorted((built["root"] / "obj" / name).glob("*.o"))
    assert len(objs) == 3
    out = built["root"] / "obj" / f"lib{name}.so"
    proc = subprocess.run(["g++", "-shared", "-o", str(out), *map(str, objs)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[:2000]


@pytest.mark.parametrize("folder", CANDIDATES, ids=[d.name for d in CANDIDATES])
def test_float_and_generated_headers_in_one_translation_unit(built, folder, tmp_path):
    """Distinct guards and names: including all three headers compiles (except where the header defines
    names the rewrite keeps, such as a tensor enum's entries, which the tool reports instead)."""
    quant = built[(folder.name, "quant", "result")]
    sparse = built[(folder.name, "sparse", "result")]
    if any("cannot both be included" in n.kind for n in quant.notes):
        pytest.skip("the header keeps names of the float header: reported to the user")
    if not built[(folder.name, "float")][0]:
        pytest.skip("the float layer does not compile against the stubs")
    tu = tmp_path / "all_headers.cpp"
    tu.write_text("".join(f'#include "{p.name}"\n' for p in (quant.source_h, quant.target_h, sparse.target_h)))
    proc = subprocess.run(cxx.gxx("-fsyntax-only", f"-I{quant.target_h.parent}", str(tu)), capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[:2000]
