"""Pictures: DOT has one node per graph node, SVG names every op and added tensor, JSON round-trips."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET

import networkx as nx
import pytest
from click.testing import CliRunner

from llm_transform import LayerError, load_layer, transform_file
from llm_transform.cli import main
from llm_transform.render import picture
from llm_transform.render.picture import blocks, from_json_data, side_by_side, to_dot, to_json_data, write_picture
from tests.conftest import FIXTURES, LAYER_DIRS, layer_cpp

FUSED = layer_cpp(FIXTURES / "layers" / "full_fused_qkv_rope")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")


def _dot_nodes(src: str) -> set[str]:
    return set(re.findall(r'^\s*"((?:[^"\\]|\\.)*)" \[', src, re.M))


def _drawn(src: str) -> set[str]:
    """Graph nodes a picture shows: its DOT nodes, and the tensors listed in weight tables."""
    nodes = {n for n in _dot_nodes(src) if not n.endswith("#weights")}
    for table in re.findall(r'"([^"]+)#weights" \[.*?label=<(.*?)>, tooltip', src):
        nodes.update(re.findall(r'ALIGN="LEFT">(?:<FONT[^>]*>)?([A-Za-z_]\w*)', table[1]))
    return nodes


@pytest.mark.parametrize("folder", LAYER_DIRS, ids=[d.name for d in LAYER_DIRS])
def test_every_graph_node_is_drawn_once(folder):
    lg = load_layer(layer_cpp(folder))
    src = to_dot(lg)
    shown = {n for n in lg.graph.nodes if lg.graph.nodes[n]["kind"] == "op" or
             lg.graph.nodes[n]["tensor_kind"] != "placeholder"}
    assert _drawn(src) == shown
    assert len(re.findall(r'^\s*"(?:[^"\\]|\\.)*" \[', src, re.M)) == len(_dot_nodes(src))


def _legend_and_body(src: str) -> tuple[str, str]:
    start = src.index("label=<<TABLE")
    end = src.index("</TABLE>>", start)
    return src[start:end], src[:start] + src[end:]


@pytest.mark.parametrize("folder", LAYER_DIRS, ids=[d.name for d in LAYER_DIRS])
@pytest.mark.parametrize("mode", ["float", "quant", "before-after"])
def test_every_colour_is_in_the_legend(folder, mode):
    try:
        if mode == "float":
            src = to_dot(load_layer(layer_cpp(folder)))
        else:
            r = transform_file(layer_cpp(folder), write=False)
            src = side_by_side(r.before, r.after) if mode == "before-after" else to_dot(r.after)
    except LayerError:
        pytest.skip("not a candidate")
    legend, body = _legend_and_body(src)
    used = set(re.findall(r"#[0-9a-fA-F]{6}", body))
    assert used and used <= set(re.findall(r"#[0-9a-fA-F]{6}", legend))
    assert "point" not in body  # no unlabelled placeholder dots


@needs_dot
@pytest.mark.parametrize("case", ["full_fused_qkv_rope", "beta_present", "telechat_local", "branch_nested"])
def test_before_after_shares_one_layout(tmp_path, case):
    """Every node the two panels share is drawn at the same height (one rank) in both."""
    import subprocess

    r = transform_file(layer_cpp(FIXTURES / "layers" / case), write=False)
    src = side_by_side(r.before, r.after)
    plain = subprocess.run(["dot", "-Tplain"], input=src, capture_output=True, text=True, check=True).stdout
    y = {}
    for m in re.finditer(r'^node ("(?:[^"\\]|\\.)*"|\S+) (\S+) (\S+)', plain, re.M):
        y[m.group(1).strip('"')] = float(m.group(3))
    shared = [n[len("before:"):] for n in y if n.startswith("before:") and "after:" + n[len("before:"):] in y]
    assert len(shared) > 10
    for n in shared:
        assert y["before:" + n] == y["after:" + n], n
    assert "cluster_before" in src and "cluster_after" in src and "label=\"attention\"" in src


def test_marks_left_float_sites_unread_inputs_and_removed_nodes():
    r = transform_file(layer_cpp(FIXTURES / "layers" / "float_parallel_no_holder"), write=False)
    dot = to_dot(r.after)
    assert "(left float)" in dot and picture.LEFT_FLOAT in dot
    lg = load_layer(layer_cpp(FIXTURES / "layers" / "full_fused_qkv_rope"))
    lg.graph.remove_edges_from([(u, v) for u, v in list(lg.graph.edges()) if u == "IN_LAYERID"])
    assert "(read by no node)" in to_dot(lg) and picture.PALETTE["unread"][0] in to_dot(lg)
    ba = transform_file(layer_cpp(FIXTURES / "layers" / "beta_present"), write=False)
    assert "(removed)" in side_by_side(ba.before, ba.after)


def test_mlp_weights_are_one_table_with_a_slot_range():
    r = transform_file(FUSED, write=False)
    dot = to_dot(r.after)
    assert '"mlpNode#weights" -> "mlpNode"' in dot and 'label="slots 1-9"' in dot


def test_collapse_draws_a_block_as_one_node():
    lg = load_layer(FUSED)
    dot = to_dot(lg, collapse={"attention", "mlp"})
    assert '"block:0"' in dot and '"block:1"' in dot
    drawn = _dot_nodes(dot)
    assert "selfAttentionKvCacheNode" not in drawn and "mlpNode" not in drawn
    assert "inputNormNode" in drawn and "block:0" in drawn


def test_direction_follows_the_shape():
    lg = load_layer(FUSED)
    assert picture.rankdir(lg) == "TB"
    wide = nx.MultiDiGraph()
    for i in range(8):
        wide.add_node(f"t{i}", kind="tensor", name=f"t{i}", tensor_kind="input")
        wide.add_node(f"o{i}", kind="op", name=f"o{i}")
        wide.add_edge(f"t{i}", f"o{i}")
    assert picture.rankdir(type(lg)(wide)) == "LR"


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


@pytest.mark.parametrize(("folder", "attention_has", "mlp_has"), [
    ("layers/anti_outlier_v1_mlp_bias", ["inputNormBetaAddNode", "selfOutLinearNode"], ["selfNormBetaAddNode"]),
    ("layers/beta_present", ["inputNormBetaAddNode", "vLinearNode"], ["selfNormBetaAddNode", "mlpNode"]),
    ("layers/branch_node_in_if", ["qNormNode", "kNormNode", "selfOutLinearNode"], ["mlpNode"]),
    ("layers_new/push_back_nodes", ["selfOutBiasAddNode"], ["mlpNode"]),
    ("layers/float_parallel_no_holder", ["selfOutLinearNode"], ["ffnOutLinearNode"]),
])
def test_blocks_end_at_the_residual_add_only(folder, attention_has, mlp_has):
    """An add of an input (anti-outlier beta, separate bias) or a q/k norm is inside a block; the residual
    adds, which read the stream the block's norm read, are in none."""
    lg = load_layer(layer_cpp(FIXTURES / folder))
    found = dict(blocks(lg))
    assert list(found) == ["attention", "mlp"]
    assert set(attention_has) <= set(found["attention"]) and set(mlp_has) <= set(found["mlp"])
    members = {m for ms in found.values() for m in ms}
    assert not {o for o in members if "Residual" in o}


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
    r = runner.invoke(main, ["graph", str(FUSED), "-o", str(tmp_path / "c.dot"), "--collapse", "attention,mlp"])
    assert r.exit_code == 0, r.output
    assert '"block:0"' in (tmp_path / "c.dot").read_text()
    assert runner.invoke(main, ["graph", str(FUSED), "-o", str(tmp_path / "c.dot"), "--collapse", "ffn"]).exit_code == 2
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path / "a")
    shutil.copytree(FIXTURES / "layers" / "full_paged_attention", tmp_path / "a", dirs_exist_ok=True)
    r = runner.invoke(main, ["transform", "-s", str(tmp_path / "a"), "--dry-run", "--graph", str(tmp_path / "pics")])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "pics").iterdir()) == [
        "quant_flash_attention_layer.svg", "quant_paged_attention_layer.svg"]


def test_unknown_picture_format_is_a_usage_error(tmp_path, monkeypatch):
    """Asked for before any work: the layer is not even read."""
    import llm_transform.api as api

    monkeypatch.setattr(api, "load_layer", lambda *a, **k: pytest.fail("read a layer for a picture it cannot draw"))
    r = CliRunner().invoke(main, ["graph", str(FUSED), "-o", str(tmp_path / "g.bmp")])
    assert r.exit_code == 2, r.output
    assert "unknown picture format .bmp" in r.output and ".svg" in r.output
    r = _transform_with_picture(tmp_path, "--graph", str(tmp_path / "q.BMP"))
    assert r.exit_code == 2, r.output
    assert "unknown picture format .bmp" in r.output
    assert not list(tmp_path.glob("q*"))
    r = _transform_with_picture(tmp_path / "j", "--graph", str(tmp_path / "q.bmp"), "--json")
    assert r.exit_code == 2 and "unknown picture format .bmp" in json.loads(r.output)["error"]



def test_an_unknown_picture_format_is_told_before_node_names_are_read(tmp_path, monkeypatch):
    import llm_transform.cli as cli

    monkeypatch.setattr(cli, "_node_names", lambda files: pytest.fail("read the layers for node names first"))
    r = _transform_with_picture(tmp_path, "--graph", str(tmp_path / "q.bmp"), "--float-fallback", "mlpNode")
    assert r.exit_code == 2 and "unknown picture format .bmp" in r.output

def _transform_with_picture(tmp_path, *extra):
    shutil.copytree(FUSED.parent, tmp_path / "l")
    return CliRunner().invoke(main, ["transform", "-s", str(tmp_path / "l" / FUSED.name), "--dry-run", *extra])


@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_a_failed_picture_is_a_failure_even_quiet(tmp_path, monkeypatch, quiet):
    monkeypatch.setattr(picture.shutil, "which", lambda _: None)  # no Graphviz: a .png cannot be drawn
    r = _transform_with_picture(tmp_path, "--graph", str(tmp_path / "q.png"), *quiet)
    assert r.exit_code == 1
    assert [ln for ln in r.output.splitlines() if ln.startswith("failed: picture for ")]
    assert "needs Graphviz" in r.output
    assert r.output.splitlines()[-1].endswith("1 failed (1 picture), 0 skipped by name")
    r = _transform_with_picture(tmp_path / "j", "--graph", str(tmp_path / "q.png"), "--json", *quiet)
    data = json.loads(r.stdout)
    assert data["totals"]["failed"] == 1 and data["totals"]["failed_pictures"] == 1
    assert data["files"][0]["picture_error"] and r.exit_code == 1


def test_each_picture_is_announced_once(tmp_path):
    pic = tmp_path / "q.dot"
    r = _transform_with_picture(tmp_path, "--graph", str(pic))
    assert r.exit_code == 0, r.output
    assert r.output.count(str(pic)) == 1 and f"picture: {pic}" in r.stdout
    assert "quant_flash_attention_layer.cpp" in r.output  # the rest of the summary is there
    assert str(pic) not in _transform_with_picture(tmp_path / "q", "--graph", str(pic), "--quiet").output
    r = CliRunner().invoke(main, ["graph", str(FUSED), "-o", str(tmp_path / "g.dot")])
    assert r.exit_code == 0 and r.output.count(str(tmp_path / "g.dot")) == 1
