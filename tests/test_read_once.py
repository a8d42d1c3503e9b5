"""Each file goes from disk to the lexer and to libclang once; nothing is read, parsed or verified twice."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from llm_transform import pipeline
from llm_transform.cli import main
from tests.conftest import FIXTURES, layer_cpp


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "layers" / "full_fused_qkv_rope", tmp_path / "l")
    return layer_cpp(tmp_path / "l")


def test_libclang_gets_the_bytes_already_read(tmp_path, monkeypatch):
    from llm_transform.source import clang_check

    cpp = _copy(tmp_path)
    seen = []
    real = clang_check.parse
    monkeypatch.setattr(clang_check, "parse", lambda path, dirs, unsaved=None, **k: (
        seen.append((Path(path), dict(unsaved or {}))), real(path, dirs, unsaved, **k))[1])
    pipeline.transform_file(cpp, write=False)
    float_parse = next(u for p, u in seen if p == cpp)
    assert cpp in float_parse and float_parse[cpp] == cpp.read_bytes()


def test_a_run_in_both_modes_reads_and_lexes_each_pair_once(tmp_path, monkeypatch):
    from llm_transform.source.source_file import SourceFile

    cpp = _copy(tmp_path)
    lexed = []
    real = SourceFile.from_bytes.__func__
    monkeypatch.setattr(SourceFile, "from_bytes",
                        classmethod(lambda cls, p, data: (lexed.append(Path(p)), real(cls, p, data))[1]))
    for sparse in (False, True):
        pipeline.transform_file(cpp, sparse=sparse, write=False)
    # the generated pairs are lexed when the verifier reads them back, the float pair once
    assert lexed.count(cpp) == 1 and lexed.count(cpp.with_suffix(".h")) == 1


def test_diff_does_not_read_the_source_again(tmp_path, monkeypatch):
    cpp = _copy(tmp_path)
    real = Path.read_bytes
    count = {"n": 0}

    def counting(self):
        if self == cpp:
            count["n"] += 1
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    r = CliRunner().invoke(main, ["transform", "-s", str(cpp), "--diff", "--dry-run", "-j", "1"])
    assert r.exit_code == 0, r.output
    assert "+#include \"quant_flash_attention_layer.h\"" in r.output
    assert count["n"] == 1


def test_graph_of_the_rewrite_needs_no_text(tmp_path, monkeypatch):
    """Drawing the rewrite runs the passes only: no spelling, no verifier."""
    from llm_transform import verify
    from llm_transform.render import spell

    cpp = _copy(tmp_path)

    def boom(*a, **k):
        raise AssertionError("not needed to draw")

    monkeypatch.setattr(spell, "spell", boom)
    monkeypatch.setattr(verify, "verify", boom)
    monkeypatch.setattr(pipeline, "spell", boom)
    monkeypatch.setattr(pipeline, "verify", boom)
    out = tmp_path / "g.dot"
    r = CliRunner().invoke(main, ["graph", str(cpp), "--quant", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "FlashAttentionQuantLayer" in out.read_text()


def test_node_names_checked_on_the_command_line_share_the_read(tmp_path, monkeypatch):
    cpp = _copy(tmp_path)
    reads = []
    real = pipeline.read_pair
    monkeypatch.setattr(pipeline, "read_pair", lambda p, *a, **k: (reads.append(Path(p)), real(p, *a, **k))[1])
    r = CliRunner().invoke(main, ["transform", "-s", str(cpp), "--float-fallback", "qkvLinearNode", "--dry-run",
                                  "-j", "1"])
    assert r.exit_code == 0, r.output
    assert reads.count(cpp) == 1


def test_a_pair_the_content_rules_refuse_is_not_read_further(tmp_path, monkeypatch):
    from llm_transform import LayerError

    shutil.copytree(FIXTURES / "refuse" / "quant_branch_layer", tmp_path / "q")
    cpp = layer_cpp(tmp_path / "q")
    models = []
    real = pipeline.read_sources
    monkeypatch.setattr(pipeline, "read_sources", lambda *a: (models.append(a), real(*a))[1])
    try:
        pipeline.transform_file(cpp, write=False)
    except LayerError as exc:
        assert exc.kind == "quant_branches"
    else:
        raise AssertionError("a layer with quant branches was rewritten")
    assert models == []  # refused from its lexed text: no declarations, no body, no graph


def test_clear_caches_starts_from_a_fresh_state(tmp_path, monkeypatch):
    from llm_transform.source import lexer
    from llm_transform.source.source_file import SourceFile

    cpp = _copy(tmp_path)
    pipeline.transform_file(cpp, write=False)
    lexed = []
    real = SourceFile.from_bytes.__func__
    monkeypatch.setattr(SourceFile, "from_bytes",
                        classmethod(lambda cls, p, data: (lexed.append(Path(p)), real(cls, p, data))[1]))
    pipeline.transform_file(cpp, write=False)
    assert cpp not in lexed  # the float pair is kept between calls...
    pipeline.clear_caches()
    assert not lexer._LINES
    pipeline.transform_file(cpp, write=False)
    assert cpp in lexed  # ...until the caches are cleared

