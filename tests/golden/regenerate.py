"""Rewrite the golden files from the current output. Review `git diff tests/golden` by hand afterwards."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from llm_transform import transform_file
from tests.conftest import layer_cpp
from tests.test_golden import CASES, OPTION_CASES, _source, golden_paths

for case in sorted(CASES):
    for sparse in (False, True):
        r = transform_file(layer_cpp(_source(case)), sparse=sparse, write=False, header=False)
        cpp, h = golden_paths(case, sparse)
        cpp.parent.mkdir(parents=True, exist_ok=True)
        cpp.write_bytes(r.cpp_text)
        h.write_bytes(r.h_text)
        print(cpp, h)

for case, (fixture, options) in sorted(OPTION_CASES.items()):
    for sparse in (False, True):
        r = transform_file(layer_cpp(_source(fixture)), sparse=sparse, write=False, header=False, options=options)
        cpp, h = golden_paths(case, sparse)
        cpp.parent.mkdir(parents=True, exist_ok=True)
        cpp.write_bytes(r.cpp_text)
        h.write_bytes(r.h_text)
        print(cpp, h)
