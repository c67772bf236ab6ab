"""Policy levers of the plan: what each one is, and its value in a given year.

A lever is declared once here, with the plan section it implements, its unit, bounds and the
term of the model it changes (``LEVERS``). A scenario gives each lever dated values and
targets; ``LeverSchedule.in_year`` turns those into the value for one simulated year:

- values are piecewise constant from their dates: ``{2017-01-01: 0, 2018-07-01: 20000}``;
- a year's value is the time-weighted mean over that calendar year, so a lever that starts on
  2017-04-01 acts at three quarters strength in 2017 (Xiong'an's founding date, plan 四(五));
- before its first date a lever has its declared default (off);
- past its last date it keeps its last value, and the year's note says so.

The mechanism of each lever lives where the term it changes is computed (``choice.py`` for
utility terms); this module only knows values, dates and targets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np

from model.layout import Layout, year_share_after
from model.talents import GROUPS



@dataclass(frozen=True)
class Lever:
    """A policy lever of the plan.

    Attributes:
        name: key in scenario files.
        section: the plan's section, e.g. ``三(一)``.
        meaning: what the policy is.
        unit: unit of its values.
        lower, upper: inclusive bounds of a value.
        mechanism: which choice, cost or demand term it changes, and for whom.
        default: value before its first date (off).
    """

    name: str
    section: str
    meaning: str
    unit: str
    lower: float
    upper: float
    mechanism: str
    default: float = 0.0


_DECLARED = [
    Lever(
        name="graduate_subsidy",
        section="三(一)",
        meaning="高校毕业生就业河北计划: tuition subsidy and living allowance paid once to a "
                "graduate who takes a first job in a target node.",
        unit="CNY per graduate",
        lower=0.0,
        upper=500_000.0,
        mechanism="Adds beta_wage * log(1 + value / money_utility_cny) to the utility of target "
                  "nodes for graduates choosing where to start work; paid to each graduate who "
                  "is matched to a job there in the year of graduation.",
    ),
]

LEVERS: Mapping[str, Lever] = MappingProxyType({lever.name: lever for lever in _DECLARED})


@dataclass(frozen=True)
class LeverSchedule:
    """A lever's dated values and targets, as a scenario sets them (already validated).

    Attributes:
        lever: the declaration.
        values: (date, value) pairs in date order.
        nodes: where it applies, a mask over the layout's nodes.
        groups: which occupation groups it applies to, a mask over ``GROUPS``.
    """

    lever: Lever
    values: tuple[tuple[dt.date, float], ...]
    nodes: np.ndarray
    groups: np.ndarray = field(default_factory=lambda: np.ones(len(GROUPS), dtype=bool))

    def in_year(self, year: int) -> float:
        """Time-weighted mean value over calendar ``year``."""
        shares = [year_share_after(date, year) for date, _ in self.values] + [0.0]
        mean = (1.0 - shares[0]) * self.lever.default
        for k, (_, value) in enumerate(self.values):
            mean += (shares[k] - shares[k + 1]) * value
        return mean

    def held_note(self, year: int) -> str | None:
        """Say so when ``year`` is past the last dated value."""
        last_date, last_value = self.values[-1]
        if year > last_date.year:
            return (f"lever {self.lever.name}: no value dated after {last_date.isoformat()}; "
                    f"held at {last_value:g} {self.lever.unit} in {year}")
        return None


@dataclass(frozen=True)
class LeverState:
    """A lever as the model sees it in one year: its value and where it applies."""

    value: float
    nodes: np.ndarray
    groups: np.ndarray

    def by_node(self) -> np.ndarray:
        """Value by node, zero outside its targets."""
        return np.where(self.nodes, self.value, 0.0)


def off(layout: Layout) -> LeverState:
    """A lever that does nothing this year."""
    return LeverState(0.0, np.zeros(layout.size, dtype=bool), np.zeros(len(GROUPS), dtype=bool))


def resolve_year(schedules: Mapping[str, LeverSchedule], layout: Layout,
                 year: int) -> tuple[dict[str, LeverState], list[str]]:
    """Every declared lever's state in ``year`` (off when the scenario does not set it), and
    notes on levers held past their last date."""
    states = {name: off(layout) for name in LEVERS}
    notes = []
    for name, schedule in schedules.items():
        states[name] = LeverState(schedule.in_year(year), schedule.nodes, schedule.groups)
        note = schedule.held_note(year)
        if note:
            notes.append(note)
    return states, notes
