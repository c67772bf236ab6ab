"""Firms: one representative employer per node and sector (Mesa agents; docs/architecture.md, phase 2).

A firm demands talents by occupation group, posts vacancies where demand exceeds its staff, and
moves its wages with excess demand. Demand grows with the sector's output, less productivity
growth, plus the upgrading of jobs to ones that need a degree; dearer talent lowers it.

The sector mix of each node and the group mix of each sector are assumptions (ASSUMPTIONS.md,
"Firms"): a pole's typical mix, tilted towards the industries of its demonstration zone
(plan 二(四)).
"""

from __future__ import annotations

from collections.abc import Mapping

import mesa
import numpy as np

from model.layout import Layout

SECTORS: tuple[str, ...] = (
    "frontier_tech",
    "advanced_manufacturing",
    "modern_services",
    "logistics_aviation",
    "port_marine",
    "green_energy",
    "public_services",
    "traditional_industry",
)

# Share of a sector's talent jobs by group (rows: SECTORS; columns: GROUPS). Assumption F1.
GROUP_MIX = np.array(
    [
        [0.30, 0.40, 0.15, 0.10, 0.05],
        [0.05, 0.40, 0.10, 0.05, 0.40],
        [0.05, 0.10, 0.35, 0.40, 0.10],
        [0.02, 0.25, 0.20, 0.13, 0.40],
        [0.03, 0.30, 0.15, 0.12, 0.40],
        [0.10, 0.40, 0.15, 0.10, 0.25],
        [0.10, 0.02, 0.08, 0.75, 0.05],
        [0.02, 0.25, 0.10, 0.08, 0.55],
    ]
)

# A group's wage relative to the average talent's at its node (columns: GROUPS). Assumption F4:
# the earlier premiums over the average wage (1.5, 1.4, 1.7, 1.2, 1.0) over an engineer's 1.4.
GROUP_WAGE = np.array([1.5, 1.4, 1.7, 1.2, 1.0]) / 1.4

# Share of a pole's talent jobs by sector (columns: SECTORS). Assumption F2.
POLE_SECTOR_MIX = {
    "beijing": [0.20, 0.05, 0.35, 0.04, 0.00, 0.02, 0.28, 0.06],
    "tianjin": [0.08, 0.22, 0.22, 0.06, 0.04, 0.03, 0.25, 0.10],
    "hebei": [0.04, 0.12, 0.18, 0.05, 0.01, 0.04, 0.36, 0.20],
}

# Demonstration zones tilt the mix towards their industries (plan 二(四)). Assumption F3.
ZONE_TILT = {
    "coastal": ("port_marine", 0.08),
    "eco": ("green_energy", 0.06),
    "central": ("logistics_aviation", 0.06),
    "xiongan": ("frontier_tech", 0.06),
    "tongwulang": ("modern_services", 0.05),
    "south": ("modern_services", 0.02),
}


def sector_mix(layout: Layout) -> np.ndarray:
    """Share of each node's talent jobs by sector, shape (nodes, sectors); rows sum to 1."""
    mix = np.array([POLE_SECTOR_MIX[pole] for pole in layout.nodes["pole"]], dtype=float)
    for i, zones in enumerate(layout.nodes["zones"]):
        for zone in str(zones).split(";"):
            if zone in ZONE_TILT:
                sector, tilt = ZONE_TILT[zone]
                mix[i, SECTORS.index(sector)] += tilt
    return mix / mix.sum(axis=1, keepdims=True)


def sector_weights(layout: Layout) -> np.ndarray:
    """Chance that a talent of group g at node n works in sector s, shape (nodes, groups, sectors):
    proportional to the node's sector mix times the sector's need for the group."""
    joint = sector_mix(layout)[:, None, :] * GROUP_MIX.T[None, :, :]
    return joint / joint.sum(axis=2, keepdims=True)


def talent_wages(average_wage: np.ndarray, tertiary_share: np.ndarray, premium: float) -> np.ndarray:
    """Talents' wage by node and group in the base year, CNY a year, shape (nodes, groups).

    A node's average wage w̄ (ASSUMPTIONS A6) mixes its tertiary-educated workers, paid w_T, with
    the others, paid w_N = w_T / (1 + ρ), in the shares s and 1 - s:
        w̄ = s w_T + (1 - s) w_T / (1 + ρ),   so   w_T = w̄ (1 + ρ) / (1 + ρ s),
    and a group earns GROUP_WAGE[g] x w_T. One premium times w̄ would count a node's education
    mix twice: Beijing's average is high partly because more of its workers have a degree.
    ρ is ``tertiary_wage_premium``; s is the node's tertiary share of residents (ASSUMPTIONS F4).
    """
    talent = average_wage * (1.0 + premium) / (1.0 + premium * tertiary_share)
    return talent[:, None] * GROUP_WAGE[None, :]


class Firm(mesa.Agent):
    """The talents' employer of one sector in one node.

    Attributes:
        index: position in the model's firm list; talents' ``firm`` column points here.
        node: node index.
        sector: index into ``SECTORS``.
        demand: persons wanted, by group.
        wage: CNY a year paid, by group.
    """

    def __init__(
        self,
        model: mesa.Model,
        index: int,
        node: int,
        sector: int,
        staff: np.ndarray,
        wage: np.ndarray,
        vacancy_rate: float,
    ) -> None:
        super().__init__(model)
        self.index = index
        self.node = node
        self.sector = sector
        self.demand = staff * (1.0 + vacancy_rate)
        self.wage = wage.astype(float)

    def plan(
        self,
        staff: np.ndarray,
        seekers: np.ndarray,
        growth: float,
        trend: float,
        params: Mapping[str, float],
    ) -> None:
        """A year's labour demand and wages: the wage grows by the node's trend times
        ``wage_trend_share`` (the drift), plus ``wage_adjust_speed`` x excess demand within
        ``wage_change_bound``; demand falls with the real wage rise, (1 + change) / (1 + drift).

        Args:
            staff: persons employed now, by group.
            seekers: persons looking for work that this firm can expect to see, by group.
            growth: output growth of the firm's sector this year.
            trend: the node's nominal wage growth this year's drift stands on (a year; ASSUMPTIONS
                A6).
            params: behavioural parameters.
        """
        vacancies = np.maximum(self.demand - staff, 0.0)
        excess = (vacancies - seekers) / np.maximum(self.demand, 1.0)
        bound = params["wage_change_bound"]
        drift = trend * params["wage_trend_share"]
        change = drift + np.clip(params["wage_adjust_speed"] * excess, -bound, bound)
        self.wage = self.wage * (1.0 + change)
        real_wage_change = (1.0 + change) / (1.0 + drift)
        self.demand = (
            self.demand
            * (1.0 + growth - params["productivity_growth"] + params["skill_upgrading"])
            * real_wage_change ** -params["wage_elasticity_of_demand"]
        )

    def add_demand(self, persons: float, group: int | None = None) -> None:
        """Add (or, if negative, remove) persons to demand: to one group, or to all groups in
        proportion to the firm's demand (its sector's group mix where it has none)."""
        if group is not None:
            self.demand[group] = max(self.demand[group] + persons, 0.0)
            return
        mix = self.demand / self.demand.sum() if self.demand.sum() > 0 else GROUP_MIX[self.sector]
        self.demand = np.maximum(self.demand + persons * mix, 0.0)

    def vacancies(self, staff: np.ndarray) -> np.ndarray:
        """Persons wanted but not employed, by group."""
        return np.maximum(self.demand - staff, 0.0)
