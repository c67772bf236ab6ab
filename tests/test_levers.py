"""Lever values over time (model/levers.py) and place names (model/layout.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from model.errors import ScenarioError
from model.layout import PROVINCES, default_layout, year_share_after
from model.levers import LEVERS, LeverSchedule, resolve_year

LAYOUT = default_layout()
SUBSIDY = LEVERS["graduate_subsidy"]


def schedule(*values: tuple[str, float], nodes: list[str] | None = None) -> LeverSchedule:
    return LeverSchedule(
        lever=SUBSIDY,
        values=tuple((dt.date.fromisoformat(day), value) for day, value in values),
        nodes=LAYOUT.mask(nodes or ["hebei"]),
    )


# --- in_year ------------------------------------------------------------------------------


def test_before_the_first_date_the_lever_has_its_default() -> None:
    lever = schedule(("2017-04-01", 30000.0))
    assert SUBSIDY.default == 0.0
    assert lever.in_year(2015) == 0.0
    assert lever.in_year(2016) == 0.0


def test_a_value_from_april_first_counts_for_275_days_of_its_first_year() -> None:
    lever = schedule(("2017-04-01", 30000.0))
    assert lever.in_year(2017) == pytest.approx(30000.0 * 275 / 365)
    assert lever.in_year(2018) == 30000.0


def test_a_value_from_new_year_counts_whole() -> None:
    lever = schedule(("2018-01-01", 12000.0))
    assert lever.in_year(2017) == 0.0
    assert lever.in_year(2018) == 12000.0


def test_two_dates_in_one_year_weigh_by_days() -> None:
    # 0 for Jan-Mar (90 days), 10,000 for Apr-Sep (183 days), 20,000 for Oct-Dec (92 days)
    lever = schedule(("2017-04-01", 10000.0), ("2017-10-01", 20000.0))
    assert lever.in_year(2017) == pytest.approx((183 * 10000.0 + 92 * 20000.0) / 365)
    assert lever.in_year(2018) == 20000.0


def test_a_lever_switched_off_again_weighs_both_spells() -> None:
    lever = schedule(("2018-01-01", 30000.0), ("2019-07-01", 0.0))
    assert lever.in_year(2019) == pytest.approx(30000.0 * 181 / 365)
    assert lever.in_year(2020) == 0.0


def test_leap_years_count_366_days() -> None:
    lever = schedule(("2020-07-01", 36600.0))
    assert lever.in_year(2020) == pytest.approx(36600.0 * 184 / 366)
    assert year_share_after(dt.date(2020, 3, 1), 2020) == pytest.approx(306 / 366)


def test_past_the_last_date_the_value_is_held_and_noted() -> None:
    lever = schedule(("2017-04-01", 30000.0), ("2019-01-01", 40000.0))
    assert lever.in_year(2025) == 40000.0
    note = lever.held_note(2025)
    assert note is not None
    assert "graduate_subsidy" in note
    assert "2019-01-01" in note
    assert "40000" in note
    assert "from 2020 on" in note
    assert lever.held_note(2020) == note  # the same words every year past it


def test_no_note_up_to_the_year_of_the_last_date() -> None:
    lever = schedule(("2017-04-01", 30000.0), ("2019-01-01", 40000.0))
    for year in (2015, 2016, 2017, 2018, 2019):
        assert lever.held_note(year) is None, year
    assert lever.held_note(2020) is not None


# --- resolve_year -------------------------------------------------------------------------


def test_resolve_year_leaves_unset_levers_off() -> None:
    states, notes = resolve_year({}, LAYOUT, 2025)
    assert set(states) == set(LEVERS)
    for name, state in states.items():
        assert state.value == 0.0, name
        assert not np.asarray(state.nodes).any(), name
        assert (state.by_node() == 0).all(), name
    assert notes == []


def test_resolve_year_gives_set_levers_their_value_and_targets() -> None:
    lever = schedule(("2017-07-01", 30000.0), nodes=["XA", "LF"])
    states, notes = resolve_year({"graduate_subsidy": lever}, LAYOUT, 2018)
    state = states["graduate_subsidy"]
    assert state.value == 30000.0
    expected = np.zeros(LAYOUT.size)
    expected[[LAYOUT.index("XA"), LAYOUT.index("LF")]] = 30000.0
    np.testing.assert_array_equal(state.by_node(), expected)
    assert len(notes) == 1 and "graduate_subsidy" in notes[0]
    for name in set(LEVERS) - {"graduate_subsidy"}:
        assert states[name].value == 0.0, name
    states_2016, notes_2016 = resolve_year({"graduate_subsidy": lever}, LAYOUT, 2016)
    assert states_2016["graduate_subsidy"].value == 0.0
    assert notes_2016 == []


# --- Layout.mask --------------------------------------------------------------------------


def selected(*places: str) -> set[str]:
    mask = LAYOUT.mask(list(places))
    return {node for node, hit in zip(LAYOUT.ids, mask) if hit}


HEBEI = {"SJZ", "TS", "QHD", "HD", "XT", "BD", "ZJK", "CD", "CZ", "LF", "HS", "XA"}


@pytest.mark.parametrize(
    ("places", "nodes"),
    [
        (["XA"], {"XA"}),
        (["BJ", "TZ"], {"BJ", "TZ"}),
        (["beijing"], {"BJ", "TZ"}),
        (["tianjin"], {"TJ", "BH", "WQ"}),
        (["hebei"], HEBEI),
        (["pole:hebei"], HEBEI),
        (["zone:coastal"], {"BH", "TS", "QHD", "CZ"}),
        (["zone:xiongan"], {"XA"}),
        (["zone:tongwulang"], {"TZ", "WQ", "LF"}),
        (["axis:jing_jin"], {"BJ", "TZ", "TJ", "BH", "WQ", "LF"}),
        (["jjj"], set(LAYOUT.ids)),
        (["XA", "zone:eco"], {"XA", "ZJK", "CD"}),
        ([], set()),
    ],
)
def test_mask_resolves_place_names(places: list[str], nodes: set[str]) -> None:
    assert selected(*places) == nodes


def test_mask_covers_every_province_once() -> None:
    masks = [LAYOUT.mask([province]) for province in PROVINCES]
    np.testing.assert_array_equal(np.sum(masks, axis=0), np.ones(LAYOUT.size))


def test_every_listed_place_name_resolves_to_some_node() -> None:
    for name in LAYOUT.place_names():
        assert LAYOUT.mask([name]).any(), name


@pytest.mark.parametrize("name", ["XAA", "zone:nowhere", "pole:shanghai", "axis:", "Hebei", "tier:node_city"])
def test_mask_refuses_unknown_names_listing_allowed_ones(name: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        LAYOUT.mask(["XA", name], where="levers.graduate_subsidy.nodes")
    message = str(caught.value)
    assert "levers.graduate_subsidy.nodes" in message
    assert repr(name) in message
    assert "allowed:" in message
    for allowed in ("jjj", "XA", "hebei", "pole:hebei", "zone:coastal", "axis:jing_jin"):
        assert allowed in message.split("allowed:", 1)[1]


def test_a_lever_section_has_no_chinese_but_the_plan_numerals() -> None:
    """The English report writes a section's numerals as figures (三(一) -> 3(1)); any other
    Chinese in it would reach the English page, so names like 积分落户 belong in ``meaning``."""
    numerals = set("一二三四五六七八九十")
    for lever in LEVERS.values():
        other = {ch for ch in lever.section if "\u4e00" <= ch <= "\u9fff"} - numerals
        assert not other, (lever.name, lever.section)
