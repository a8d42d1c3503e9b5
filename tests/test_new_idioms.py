"""Layers in the newer ATB idioms: read into the same graph (see test_graph_fixtures for the exact
graphs), queried and drawn like the others, and refused by the rewrite with the idiom and its line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from llm_transform import LayerError, load_layer, transform_file
from llm_transform.cli import main
from llm_transform.render.picture import to_dot
from tests.conftest import NEW_IDIOM_DIRS, layer_cpp

IDIOM_WORDS = {"push_back_nodes": "push_back", "helper_nodes": "helper", "runtime_ids": "counted at run time",
               "string_tensors": "string-named tensors"}


@pytest.mark.parametrize("folder", NEW_IDIOM_DIRS, ids=[d.name for d in NEW_IDIOM_DIRS])
def test_check_and_graph_work(folder, tmp_path):
    r = CliRunner().invoke(main, ["check", str(layer_cpp(folder))])
    assert r.exit_code == 0, r.output
    lg = load_layer(layer_cpp(folder))
    assert to_dot(lg).startswith("digraph")
    assert lg.upstream(lg.ops()[-1])


REWRITTEN = [d for d in NEW_IDIOM_DIRS if d.name in ("push_back_nodes", "helper_nodes")]
REFUSED = [d for d in NEW_IDIOM_DIRS if d not in REWRITTEN]


@pytest.mark.parametrize("folder", REWRITTEN, ids=[d.name for d in REWRITTEN])
@pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])
def test_rewrite_of_helper_and_push_back_layers(folder, sparse, tmp_path):
    """Their edits land in ordinary statements (inside the helpers too); the verifier vouches for them."""
    import shutil

    shutil.copytree(folder, tmp_path / folder.name)
    cpp = layer_cpp(tmp_path / folder.name)
    r = transform_file(cpp, sparse=sparse)
    assert r.written
    mlp = next(o for o in r.after.ops() if r.after.role(o) == "mlp")
    assert len(r.after.inputs_of(mlp)) == 19
    for t in r.after.added_tensors():
        assert r.after.consumers(t), t
    again = load_layer(r.target_cpp)
    assert again.errors() == [] and again.ops() == r.after.ops()
    old = set(cpp.read_text().splitlines())
    new_lines = [ln for ln in r.target_cpp.read_text().splitlines()[1:] if ln not in old]
    assert all(len(ln) <= 120 for ln in new_lines), max(new_lines, key=len)  # lists wrap, '};' included


@pytest.mark.parametrize("folder", REFUSED, ids=[d.name for d in REFUSED])
@pytest.mark.parametrize("sparse", [False, True], ids=["quant", "sparse"])
def test_rewrite_refuses_naming_the_idiom_and_line(folder, sparse):
    with pytest.raises(LayerError) as exc:
        transform_file(layer_cpp(folder), sparse=sparse, write=False)
    e = exc.value
    assert e.kind == "unsupported_idiom" and e.line is not None
    assert IDIOM_WORDS.get(folder.name, "") in e.reason
    assert "is this a layer" not in e.reason
