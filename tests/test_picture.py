"""Pictures: DOT has one node per graph node, SVG names every op and added tensor, JSON round-trips."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
from click.testing import CliRunner

from llm_transform import load_layer, transform_file
from llm_transform.cli import main
from llm_transform.render import picture
from llm_transform.render.picture import blocks, from_json_data, to_dot, to_json_data, write_picture
from tests.conftest import FIXTURES, LAYER_DIRS, layer_cpp

FUSED = layer_cpp(FIXTURES / "layers" / "full_fused_qkv_rope")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")


def _dot_nodes(src: str) -> set[str]:
    return set(re.findall(r'^\s*"((?:[^"\\]|\\.)*)" \[', src, re.M))


@pytest.mark.parametrize("folder", LAYER_DIRS, ids=[d.name for d in LAYER_DIRS])
def test_dot_has_one_node_per_graph_node(folder):
    lg = load_layer(layer_cpp(folder))
    src = to_dot(lg)
    assert _dot_nodes(src) == set(lg.graph.nodes)
    assert len(re.findall(r'^\s*"(?:[^"\\]|\\.)*" \[', src, re.M)) == lg.graph.number_of_nodes()


@needs_dot
def test_svg_names_every_op_and_added_tensor(tmp_path):
    r = transform_file(FUSED, sparse=True, write=False)
    out = write_picture(to_dot(r.after), tmp_path / "g.svg")
    root = ET.parse(out).getroot()
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.text}
    for op in r.after.ops():
        assert op in texts
    added = r.after.added_tensors()
    assert len(added) == 16  # 5 linears x (deqscale, bias, index) + shared beta
    for t in added:
        assert t in texts
    assert any("tensors added" in t for t in texts)  # the legend


def test_json_round_trips_to_an_equal_graph(tmp_path):
    r = transform_file(FUSED, write=False)
    path = write_picture(to_dot(r.after), tmp_path / "g.json", json_data=to_json_data(r.after))
    back = from_json_data(json.loads(path.read_text()))
    assert set(back.nodes) == set(r.after.graph.nodes)
    assert sorted((u, v, d["slot"]) for u, v, d in back.edges(data=True)) == sorted(
        (u, v, d["slot"]) for u, v, d in r.after.graph.edges(data=True))
    for n, d in back.nodes(data=True):
        orig = r.after.graph.nodes[n]
        assert d["kind"] == orig["kind"]
        assert d.get("added", False) == orig.get("added", False)
    assert nx.utils.graphs_equal(back, from_json_data(to_json_data(r.after)))


def test_clusters_find_attention_and_mlp():
    lg = load_layer(FUSED)
    found = dict((name, members) for name, members in blocks(lg))
    assert "selfAttentionKvCacheNode" in found["attention"] and "qkvLinearNode" in found["attention"]
    assert found["mlp"] == ["mlpNode"]


def test_without_dot_only_svg_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(picture.shutil, "which", lambda _: None)
    lg = load_layer(FUSED)
    assert write_picture(to_dot(lg), tmp_path / "g.dot").read_text().startswith("digraph")
    with pytest.raises(picture.PictureError) as exc:
        write_picture(to_dot(lg), tmp_path / "g.svg")
    assert "install" in str(exc.value) and "\n" not in str(exc.value)
    assert not (tmp_path / "g.svg").exists()


@needs_dot
def test_graph_command_and_transform_graph_option(tmp_path):
    runner = CliRunner()
    r = runner.invoke(main, ["graph", str(FUSED), "-o", str(tmp_path / "ba.svg"), "--sparse", "--before-after"])
    assert r.exit_code == 0, r.output
    svg = (tmp_path / "ba.svg").read_text()
    assert "before: FlashAttentionLayer" in svg and "after: FlashAttentionSparseQuantLayer" in svg
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path / "a")
    shutil.copytree(FIXTURES / "layers" / "full_paged_attention", tmp_path / "a", dirs_exist_ok=True)
    r = runner.invoke(main, ["transform", "-s", str(tmp_path / "a"), "--dry-run", "--graph", str(tmp_path / "pics")])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "pics").iterdir()) == [
        "quant_flash_attention_layer.svg", "quant_paged_attention_layer.svg"]


def test_unknown_picture_format_is_a_one_line_error(tmp_path):
    r = CliRunner().invoke(main, ["graph", str(FUSED), "-o", str(tmp_path / "g.bmp")])
    assert r.exit_code == 1
    assert "unknown picture format .bmp" in r.output
