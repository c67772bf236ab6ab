"""Cities: one Mesa agent per node, owning its housing market, public services and the residents
who are not talents (docs/architecture.md, phase 3).

Housing prices follow incomes and UrbanSim's price feedback (ASSUMPTIONS H1). Each year
construction closes a share of the gap between residents R and housing H (Beijing's nodes a
smaller share: land quotas and purchase limits), and the price moves with the node's wage growth
g_w and with what remains of the ratio of residents to housing:

    H' = H + s_j * max(R - H, 0),   s_j = housing_supply_response (x beijing_supply_share in Beijing)
    P' = P * (1 + clip(price_income_passthrough * g_w + price_elasticity * (R / H' - 1)
                       + price_rate_elasticity * log(r_(t-1) / r_t), +-bound))

with r_t the year's mean benchmark lending rate over five years (ASSUMPTIONS H2): credit that
gets cheaper raises prices everywhere, dearer credit lowers them. P is the market price, which
sets the cost of living (location choice, talent flats). Where purchase limits keep buyers out
(lever ``purchase_limits``, value w; Beijing from 2011 in the baseline, ASSUMPTIONS H3), homes
sell below it, and the published average price of new housing is

    P_published = P * (1 - w)

Public services close a share of their gap to Beijing's level each year. Residents without
tertiary education N follow the node's 2010-2015 trend g_N, moved by as many points as all its
residents' growth departs from its own 2010-2015 mean g_P on a path fading as its province's
growth faded over those years (ASSUMPTIONS A15, A16), plus the share of them who become talents
where they live (adult degrees, resident university entrants), whom the model takes off
explicitly each year (E3):

    N_t = N_(t-1) * (1 + g_N + g_P * (f_t - 1) + c),   f_t = inputs.trend_fade(s, t)

with s the province's slowdown a year (f_t averages 1 over 2011-2015, so those steps keep the
observed mean g_N) and c the share becoming talents. Where growth slowed, the residents without
a degree take the slowdown; the talents' growth is the model's own. The path depends on the
calendar year only, so a run from 2010 and a run from 2015 follow the same trend.
"""

from __future__ import annotations

from collections.abc import Mapping

import mesa
import numpy as np

from model.inputs import trend_fade


class City(mesa.Agent):
    """A node's housing, services and non-talent population.

    Attributes:
        node: node index.
        price_cny_m2: market price of new housing, P (module docstring; the published price
            is lower where purchase limits are in force).
        housing_supply: residents the housing stock holds at base-year density (persons).
        services_index: public-service level, Beijing = 1.
        nontalent: residents without tertiary education (persons).
        nontalent_trend: g_N, their net yearly growth 2010-2015 (module docstring).
        population_trend: g_P, all residents' yearly growth 2010-2015.
        slowdown: s, the yearly relative decline of the province's growth (A16).
        to_talents: c, the yearly share of them who become talents at the node, added back to
            the net trend since the model takes them off explicitly.
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
        nontalent_trend: float,
        population_trend: float,
        slowdown: float,
        to_talents: float,
        supply_share: float = 1.0,
    ) -> None:
        super().__init__(model)
        self.node = node
        self.price_cny_m2 = float(price_cny_m2)
        self.housing_supply = float(residents)
        self.services_index = float(services_index)
        self.nontalent = float(nontalent)
        self.nontalent_trend = float(nontalent_trend)
        self.population_trend = float(population_trend)
        self.slowdown = float(slowdown)
        self.to_talents = float(to_talents)
        self.talent_units = 0.0
        self.supply_share = float(supply_share)

    def nontalent_growth(self, year: int) -> float:
        """g_N + g_P * (f_t - 1) + c: the growth of residents without a degree from the end of
        ``year - 1`` to the end of ``year`` (module docstring)."""
        fade = trend_fade(self.slowdown, year)
        return self.nontalent_trend + self.population_trend * (fade - 1.0) + self.to_talents

    def grow_nontalent(self, year: int) -> None:
        """Residents without a degree grow by the trend of ``year``."""
        self.nontalent *= 1.0 + self.nontalent_growth(year)

    def become_talents(self, persons: float) -> None:
        """Residents without a degree who gain one (or enter university) here become talents."""
        self.nontalent -= persons

    def add_talent_units(self, units: float, residents_per_unit: float) -> None:
        """Talent housing adds to the housing stock as well as to the programme's units."""
        self.talent_units += units
        self.housing_supply += units * residents_per_unit

    def update_housing(
        self, residents: float, wage_growth: float, rate_fall: float, params: Mapping[str, float]
    ) -> None:
        """Supply catches up part of the way; the price follows the node's wage growth, residents
        over supply and the fall of the lending rate, ``rate_fall`` = log(r_(t-1) / r_t) (module
        docstring)."""
        response = params["housing_supply_response"] * self.supply_share
        self.housing_supply += response * max(residents - self.housing_supply, 0.0)
        change = (
            params["price_income_passthrough"] * wage_growth
            + params["price_elasticity"] * (residents / self.housing_supply - 1.0)
            + params["price_rate_elasticity"] * rate_fall
        )
        bound = params["price_change_bound"]
        self.price_cny_m2 *= 1.0 + float(np.clip(change, -bound, bound))

    def converge_services(self, leader: float, speed: float) -> None:
        """Close a share ``speed`` of the gap to the leader's service level."""
        self.services_index += speed * max(leader - self.services_index, 0.0)
