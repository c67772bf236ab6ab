"""The spatial layout: nodes and their place in 一体三极六区多城 (plan 二(四)).

The layout is data (``model/data/nodes.csv``); a user can supply another file with the same
columns. Places in scenario files are named by node id (``XA``), province (``hebei``), pole,
zone (``zone:coastal``), axis (``axis:jing_jin``) or ``jjj`` for the whole region.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from model.errors import ScenarioError

DATA_DIR = Path(__file__).parent / "data"
PROVINCES: tuple[str, ...] = ("beijing", "tianjin", "hebei")
ZONES: tuple[str, ...] = ("coastal", "eco", "central", "xiongan", "south", "tongwulang")
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Layout:
    """Nodes in a fixed order; every per-node array in the model uses this order.

    Attributes:
        nodes: the node table, index ``node_id``.
        distance_km: great-circle distance between node seats, shape (n, n).
        province: province index (into ``PROVINCES``) of each node.
    """

    nodes: pd.DataFrame
    distance_km: np.ndarray
    province: np.ndarray

    @property
    def ids(self) -> list[str]:
        return list(self.nodes.index)

    @property
    def size(self) -> int:
        return len(self.nodes)

    def index(self, node_id: str) -> int:
        return self.ids.index(node_id)

    def established_year_share(self, year: int) -> np.ndarray:
        """Share of ``year`` during which each node exists (1 for nodes without a date)."""
        share = np.ones(self.size)
        for i, date in enumerate(self.nodes["established"]):
            if isinstance(date, str) and date:
                start = dt.date.fromisoformat(date)
                share[i] = year_share_after(start, year)
        return share

    def place_names(self) -> list[str]:
        """Every name ``mask`` accepts."""
        poles = sorted(set(self.nodes["pole"]))
        axes = sorted({a for cell in self.nodes["axes"] for a in _split(cell)})
        return (
            ["jjj"]
            + self.ids
            + list(PROVINCES)
            + [f"pole:{p}" for p in poles]
            + [f"zone:{z}" for z in ZONES]
            + [f"axis:{a}" for a in axes]
        )

    def mask(self, places: list[str], where: str = "nodes") -> np.ndarray:
        """Boolean mask over nodes for a list of place names; unknown names are refused."""
        selected = np.zeros(self.size, dtype=bool)
        for name in places:
            hit = self._match(name)
            if hit is None:
                raise ScenarioError(
                    f"{where}: unknown place {name!r}; allowed: {', '.join(self.place_names())}"
                )
            selected |= hit
        return selected

    def _match(self, name: str) -> np.ndarray | None:
        nodes = self.nodes
        if name == "jjj":
            return np.ones(self.size, dtype=bool)
        if name in nodes.index:
            return np.asarray(nodes.index == name)
        if name in PROVINCES:
            return np.asarray(nodes["province"] == name)
        kind, _, value = name.partition(":")
        column = {"pole": "pole", "zone": "zones", "axis": "axes"}.get(kind)
        if column is None:
            return None
        hit = np.array([value in _split(cell) for cell in nodes[column]])
        return hit if hit.any() else None


def year_share_after(start: dt.date, year: int) -> float:
    """Share of calendar ``year`` on or after ``start`` (0 before, 1 after)."""
    first, last = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    if start <= first:
        return 1.0
    if start >= last:
        return 0.0
    return (last - start).days / (last - first).days


def _split(cell: object) -> list[str]:
    return [part for part in str(cell).split(";") if part and part != "nan"]


def great_circle_km(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Haversine distances between all pairs of points given in degrees."""
    phi, lam = np.radians(lat), np.radians(lon)
    dphi = phi[:, None] - phi[None, :]
    dlam = lam[:, None] - lam[None, :]
    h = np.sin(dphi / 2) ** 2 + np.cos(phi[:, None]) * np.cos(phi[None, :]) * np.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))


def read_layout(path: Path) -> Layout:
    """Read a layout file; a bad file is refused with its name and what is wrong."""
    nodes = pd.read_csv(
        path, dtype={"zones": str, "axes": str, "established": str}, keep_default_na=False
    ).set_index("node_id")
    required = {
        "name_en",
        "name_zh",
        "province",
        "pole",
        "tier",
        "zones",
        "axes",
        "lat",
        "lon",
        "established",
    }
    missing = required - set(nodes.columns)
    if missing:
        raise ScenarioError(f"{path}: missing columns {sorted(missing)}; required: {sorted(required)}")
    bad = sorted(set(nodes["province"]) - set(PROVINCES))
    if bad:
        raise ScenarioError(f"{path}: column province has {bad}; allowed: {list(PROVINCES)}")
    lat = nodes["lat"].to_numpy(float)
    lon = nodes["lon"].to_numpy(float)
    province = np.array([PROVINCES.index(p) for p in nodes["province"]], dtype=np.int8)
    return Layout(nodes=nodes, distance_km=great_circle_km(lat, lon), province=province)


@cache
def default_layout() -> Layout:
    """The 17-node layout of the plan, read once per process."""
    return read_layout(DATA_DIR / "nodes.csv")
