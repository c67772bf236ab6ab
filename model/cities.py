"""Cities: one Mesa agent per node, owning its housing market, public services and the residents
who are not talents (docs/architecture.md, phase 3).

Housing prices follow incomes and UrbanSim's price feedback (ASSUMPTIONS H1). Each year
construction closes a share of the gap between residents R and housing H (Beijing's nodes a
smaller share: land quotas and purchase limits), and the price moves with the node's wage growth
g_w and with what remains of the ratio of residents to housing:

    H' = H + s_j * max(R - H, 0),   s_j = housing_supply_response (x beijing_supply_share in Beijing)
    P' = P * (1 + clip(price_income_passthrough * g_w + price_elasticity * (R / H' - 1), +-bound))

Public services close a share of their gap to Beijing's level each year. Residents without
tertiary education follow the node's 2010-2015 growth rate gross of those who become talents
where they live (adult degrees, resident university entrants), fading out; those who become
talents leave them each year (ASSUMPTIONS.md E3).
"""

from __future__ import annotations

from collections.abc import Mapping

import mesa
import numpy as np


class City(mesa.Agent):
    """A node's housing, services and non-talent population.

    Attributes:
        node: node index.
        price_cny_m2: average price of new housing.
        housing_supply: residents the housing stock holds at base-year density (persons).
        services_index: public-service level, Beijing = 1.
        nontalent: residents without tertiary education (persons).
        nontalent_growth: their yearly growth rate in the base period, gross of those who
            become talents at the node (their yearly share is added back to the observed net
            rate, since the model takes them off explicitly).
        talent_units: talent-housing units built by the plan's housing programme (四(十三)).
        supply_share: the node's housing supply response relative to the region's (1, or
            ``beijing_supply_share`` in Beijing's nodes).
    """

    def __init__(
        self,
        model: mesa.Model,
        node: int,
        price_cny_m2: float,
        residents: float,
        services_index: float,
        nontalent: float,
        nontalent_growth: float,
        supply_share: float = 1.0,
    ) -> None:
        super().__init__(model)
        self.node = node
        self.price_cny_m2 = float(price_cny_m2)
        self.housing_supply = float(residents)
        self.services_index = float(services_index)
        self.nontalent = float(nontalent)
        self.nontalent_growth = float(nontalent_growth)
        self.talent_units = 0.0
        self.supply_share = float(supply_share)

    def grow_nontalent(self, years_since_base: int, params: Mapping[str, float]) -> None:
        """Residents without a degree grow at the base trend, fading by a share a year."""
        fade = (1.0 - params["nontalent_growth_decay"]) ** years_since_base
        self.nontalent *= 1.0 + self.nontalent_growth * fade

    def become_talents(self, persons: float) -> None:
        """Residents without a degree who gain one (or enter university) here become talents."""
        self.nontalent -= persons

    def add_talent_units(self, units: float, residents_per_unit: float) -> None:
        """Talent housing adds to the housing stock as well as to the programme's units."""
        self.talent_units += units
        self.housing_supply += units * residents_per_unit

    def update_housing(self, residents: float, wage_growth: float, params: Mapping[str, float]) -> None:
        """Supply catches up part of the way; the price follows the node's wage growth and
        residents over supply (module docstring)."""
        response = params["housing_supply_response"] * self.supply_share
        self.housing_supply += response * max(residents - self.housing_supply, 0.0)
        change = params["price_income_passthrough"] * wage_growth + params["price_elasticity"] * (
            residents / self.housing_supply - 1.0
        )
        bound = params["price_change_bound"]
        self.price_cny_m2 *= 1.0 + float(np.clip(change, -bound, bound))

    def converge_services(self, leader: float, speed: float) -> None:
        """Close a share ``speed`` of the gap to the leader's service level."""
        self.services_index += speed * max(leader - self.services_index, 0.0)
