"""The op catalogue is data with a schema: the shipped one loads and is coherent; an unknown, misspelt or
missing key fails at load time naming the entry and the key; and no ATB name is spelled in the code of the
floors instead."""

from __future__ import annotations

import copy

import pytest

from llm_transform.graph.catalogue import CatalogueError, catalogue, catalogue_data, load

ROLES = {"norm", "linear", "parallel_linear", "mlp", "attention", "rope", "elementwise", "activation",
         "communication", "split", "shape", "moe", "plugin", "unknown"}
SLOT_STARTS = ("x", "w_", "b_", "d_", "i_", "gamma", "beta", "holder")


def test_the_shipped_catalogue_loads_and_is_coherent():
    cat = catalogue()
    assert len(cat.types) > 30
    for name, entry in cat.types.items():
        assert entry.role in ROLES, name
        for contract in (entry.quant, entry.sparse, entry.quant_linear_quant):
            if contract is None:
                continue
            assert contract.slots and all(s.startswith(SLOT_STARTS) for s in contract.slots), name
            assert contract.style is None or contract.style in cat.styles, name
        if entry.upgrade is not None:
            assert entry.upgrade.type in cat.types, name
            assert cat.types[entry.upgrade.type].quant is not None, name
    labels = dict(cat.conventions.point_labels)
    assert set(labels) == {"norm->linear", "norm->mlp", "norm->parallel_linear", "parallel_linear", "mlp_down",
                           "mlp_up"}


def _data():
    return copy.deepcopy(catalogue_data())


@pytest.mark.parametrize(("change", "says"), [
    (lambda d: d.update(typos={}), "unknown table 'typos'"),
    (lambda d: d["types"]["atb::infer::LinearParam"].update(rol="linear"),
     "types.'atb::infer::LinearParam': unknown key 'rol'"),
    (lambda d: d["types"]["atb::infer::LinearParam"]["quant"].update(slot=["x"]),
     "types.'atb::infer::LinearParam'.quant: unknown key 'slot'"),
    (lambda d: d["types"]["atb::infer::RopeParam"].pop("role"), "types.'atb::infer::RopeParam': missing key 'role'"),
    (lambda d: d["types"]["atb::infer::LinearParam"]["quant"].update(slots="x"),
     "types.'atb::infer::LinearParam'.quant.slots: expected a list"),
    (lambda d: d["conventions"].update(shared_beta=3), "conventions.shared_beta: expected str"),
    (lambda d: d["conventions"].pop("placeholder"), "conventions: missing key 'placeholder'"),
    (lambda d: d["styles"]["telechat"].update(betas="per-norm"), "styles.telechat: unknown key 'betas'"),
])
def test_a_misspelt_or_missing_key_fails_at_load(change, says):
    data = _data()
    change(data)
    with pytest.raises(CatalogueError) as exc:
        load(data)
    assert says in str(exc.value)





def test_invented_scale_names_follow_the_conventions(monkeypatch):
    """The words of an invented scale field come from [conventions]: two MLPs' down projections are named
    after their ops and the convention's down word."""
    import dataclasses
    from types import SimpleNamespace

    from llm_transform.graph import points

    conv = dataclasses.replace(catalogue().conventions, down_word="Lower", scale_field="{base}ActScale")
    monkeypatch.setattr(points, "point_labels", lambda rw: [("textMlpNode#down", "ffnOut"),
                                                            ("imageMlpNode#down", "ffnOut")])
    notes = []
    rw = SimpleNamespace(conventions=conv, float=SimpleNamespace(source=None), opts=SimpleNamespace(scale_names={}),
                         points={}, note=lambda **k: notes.append(k))
    points.name_scale_fields(rw)
    assert [p.scale for p in rw.points.values()] == ["textMlpLowerActScale", "imageMlpLowerActScale"]
