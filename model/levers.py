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
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from model.firms import SECTORS
from model.layout import Layout, year_share_after
from model.talents import GROUPS

TARGET_KINDS: tuple[str, ...] = ("nodes", "groups", "sectors", "origins")
"""What a lever's setting may name: where it applies (``nodes``), to whom (``groups``), which
firms (``sectors``) and, for relocation, where jobs come from (``origins``)."""


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
        spending: how its yearly spending (CNY) is counted, or why none is.
        unit_cost_cny: CNY per unit of value and recipient where ``spending`` says so (an
            assumption with its basis in ``cost_basis``); 0 where spending is the value itself
            or not tracked.
        targets: which target kinds a scenario may set (``TARGET_KINDS``).
        default: value before its first date (off).
        default_nodes, default_groups, default_sectors, default_origins: targets when a
            scenario does not name them (place names as in ``Layout.mask``).
    """

    name: str
    section: str
    meaning: str
    unit: str
    lower: float
    upper: float
    mechanism: str
    spending: str
    unit_cost_cny: float = 0.0
    cost_basis: str = ""
    targets: tuple[str, ...] = ("nodes", "groups")
    default: float = 0.0
    default_nodes: tuple[str, ...] = ("jjj",)
    default_groups: tuple[str, ...] = GROUPS
    default_sectors: tuple[str, ...] = SECTORS
    default_origins: tuple[str, ...] = ("BJ",)


_MONEY = "Adds beta_wage * log(1 + value / money_utility_cny) to the utility of target nodes for {who}"
_NO_SPENDING = "none counted: {why}"

_DECLARED = [
    # --- 三(一) a new regional pattern: help for Hebei ---
    Lever(
        "graduate_subsidy",
        "三(一)",
        "高校毕业生就业河北计划: tuition subsidy and living allowance paid once to a graduate who "
        "takes a first job in a target node.",
        "CNY per graduate",
        0.0,
        500_000.0,
        _MONEY.format(who="graduates choosing where to start work") + "; paid to each graduate "
        "matched to a job there in the year of graduation.",
        "value x graduates paid",
    ),
    Lever(
        "settlement_subsidy",
        "三(一), 四(五)",
        "A one-off settling-in payment to talents of the target groups who move to a target "
        "node from elsewhere (Xiong'an's and other cities' talent-attraction packages).",
        "CNY per talent",
        0.0,
        2_000_000.0,
        _MONEY.format(who="talents considering a move and arrivals, except for those already there")
        + "; paid to each such talent who settles there.",
        "value x talents settling",
    ),
    Lever(
        "team_service",
        "三(一)",
        "组团服务河北: innovation and enterprise teams placed in the target nodes each year, "
        "drawn from Beijing's and Tianjin's research and engineering talents.",
        "full-time equivalents a year",
        0.0,
        100_000.0,
        "Counted as full-time equivalents served in the target nodes, shared by their residents "
        "(phase 7); the talents keep living where they live.",
        "value x unit cost",
        150_000.0,
        "Allowance and travel per full-time equivalent a year; assumption (the plan gives no amount).",
        targets=("nodes",),
        default_nodes=("hebei",),
    ),
    Lever(
        "flexible_service",
        "三(一)",
        "兼职兼薪、多点执业、京津专家河北行: share of Beijing's and Tianjin's talents of the target "
        "groups who serve the target nodes part-time (0.2 of full time each).",
        "share of eligible talents",
        0.0,
        0.2,
        "Counted as full-time equivalents served in the target nodes, shared by their residents "
        "(phase 7), part_time_fte a person; no move.",
        "part-timers x unit cost",
        30_000.0,
        "Part-time allowance a year; assumption.",
        default_nodes=("hebei",),
        default_groups=("research", "professional"),
    ),
    Lever(
        "poverty_support",
        "三(一)",
        "人才智力精准扶持: talents sent to poor counties around Beijing and Tianjin each year.",
        "full-time equivalents a year",
        0.0,
        50_000.0,
        "Counted as full-time equivalents served in the target nodes, shared by their residents (phase 7).",
        "value x unit cost",
        100_000.0,
        "Allowance per full-time equivalent a year; assumption.",
        targets=("nodes",),
        default_nodes=("hebei",),
    ),
    Lever(
        "function_relocation",
        "二(二), 三(一)",
        "疏解非首都功能: talent jobs moved each year from the origin nodes' firms of the target "
        "sectors to the target nodes. Staff follow their jobs or stay and look for work.",
        "talent jobs a year",
        0.0,
        500_000.0,
        "Moves labour demand (and the staff's employer) between firms of the same sector; each "
        "employee chooses by logit between following (the destination's utility with the job "
        "kept) and staying (the origin's utility, looking for work).",
        "none counted: relocation costs are borne by firms and are not a talent-policy outlay",
        targets=("nodes", "sectors", "origins"),
        default_nodes=("hebei",),
        default_sectors=(
            "advanced_manufacturing",
            "logistics_aviation",
            "traditional_industry",
            "public_services",
        ),
    ),
    Lever(
        "service_following",
        "三(三)",
        "公共服务跟随机制: talents who move with relocated functions keep Beijing's schools, "
        "health care and social insurance.",
        "share of followers covered",
        0.0,
        1.0,
        "A share value of the staff of relocated jobs keep Beijing's public services: their "
        "follow-or-stay choice (function_relocation) and later choices count Beijing's services "
        "index wherever they live.",
        "followers covered x service gap x unit cost, each year",
        20_000.0,
        "Cost a year of keeping one follower's Beijing services per full index point of gap; assumption.",
        targets=(),
    ),
    # --- 三(二), 四(一), 四(十) international ---
    Lever(
        "overseas_recruitment",
        "三(二), 四(一)",
        "全球高端人才延揽: foreign and returnee high-end talents recruited each year to the target nodes.",
        "persons a year",
        0.0,
        10_000.0,
        "Adds high-end arrivals from abroad, placed in the target nodes in proportion to their "
        "talents; half are foreign nationals (assumption).",
        "value x unit cost",
        1_000_000.0,
        "National 'Thousand Talents' recruits received a one-off grant of 1 million CNY; assumption "
        "that regional programmes match it.",
        targets=("nodes",),
    ),
    Lever(
        "international_community",
        "三(二), 四(十)",
        "国际人才社区: 'overseas-like' communities (schools, health care, services) in the target nodes.",
        "communities per node",
        0.0,
        5.0,
        "Adds international_community_amenity x value to the utility of target nodes for foreign talents.",
        "value x nodes x unit cost",
        50_000_000.0,
        "Running cost of one community a year; assumption.",
        targets=("nodes",),
    ),
    # --- 三(三) institutions ---
    Lever(
        "credential_recognition",
        "三(三)",
        "职称、技能资格互认: mutual recognition of professional titles and skill certificates.",
        "share of barrier removed",
        0.0,
        1.0,
        "Multiplies the cross-province barrier of moves into target nodes by (1 - value/2): "
        "recognition removes up to half of it.",
        _NO_SPENDING.format(why="an administrative reform"),
        targets=("nodes",),
    ),
    Lever(
        "insurance_portability",
        "三(三)",
        "社会保险互通: portability of social insurance and shared schools and hospitals.",
        "share of barrier removed",
        0.0,
        1.0,
        "Multiplies the cross-province barrier of moves into target nodes by (1 - value/2): "
        "portability removes the other half.",
        _NO_SPENDING.format(why="an administrative reform"),
        targets=("nodes",),
    ),
    Lever(
        "hukou_openness",
        "三(三), 三(五)",
        "Easier household registration for talents of the target groups in the target nodes "
        "(e.g. Tianjin's 2018 Haihe programme).",
        "share of barrier removed",
        0.0,
        1.0,
        "Multiplies the hukou barrier of target nodes by (1 - value) for target groups.",
        _NO_SPENDING.format(why="services for new residents are in the services index"),
    ),
    Lever(
        "services_equalisation",
        "三(三), 二(三)",
        "公共服务均等化: investment that makes the target nodes' public services converge faster "
        "to Beijing's.",
        "share of gap closed a year",
        0.0,
        0.5,
        "Adds value to the yearly convergence of the target nodes' services index.",
        "residents x index points closed x unit cost",
        5_000.0,
        "CNY per resident per full index point (Beijing's level) closed; illustrative assumption.",
        targets=("nodes",),
    ),
    # --- 四 projects ---
    Lever(
        "entrepreneurship_fund",
        "三(五), 四(二)",
        "人才创新创业支持工程 and talent guidance fund: money spent each year on talent start-ups "
        "and firm growth in the target nodes.",
        "CNY a year per node",
        0.0,
        1e11,
        "Adds value / fund_cost_per_job talent jobs to the demand of the target nodes' firms of "
        "the target sectors (by their demand).",
        "value x target nodes",
        targets=("nodes", "sectors"),
        default_sectors=("frontier_tech", "modern_services"),
    ),
    Lever(
        "youth_programme",
        "四(三)",
        "圆梦京津冀菁英计划: research posts and grants for young talents in the target nodes.",
        "posts a year per node",
        0.0,
        50_000.0,
        "Keeps value funded research posts in the demand of each target node's frontier_tech "
        "firm while the programme runs (posts end when the value falls).",
        "posts x target nodes x unit cost",
        200_000.0,
        "Grant and salary top-up per post a year; assumption.",
        targets=("nodes",),
    ),
    Lever(
        "high_skill_alliance",
        "四(四)",
        "高技能人才联合体: skilled workers trained to high-skill level each year in the target nodes.",
        "persons a year per node",
        0.0,
        200_000.0,
        "Adds value skilled talents a year to each target node (new entries, aged 25-40, local "
        "hukou, looking for work).",
        "value x target nodes x unit cost",
        20_000.0,
        "Training cost per person; assumption.",
        targets=("nodes",),
    ),
    Lever(
        "winter_olympics_project",
        "四(六)",
        "冬奥人才发展工程: talent demand of the 2022 Winter Olympics in Zhangjiakou (and Beijing's "
        "venues): extra output growth of the target sectors in the target nodes.",
        "growth a year",
        0.0,
        0.3,
        "Adds value to the yearly output growth of the target nodes' firms of the target sectors.",
        _NO_SPENDING.format(why="project investment is not a talent-policy outlay"),
        targets=("nodes", "sectors"),
        default_nodes=("ZJK",),
        default_sectors=("green_energy", "modern_services"),
    ),
    Lever(
        "coastal_port_project",
        "四(七)",
        "沿海临港产业人才集聚工程: ports of Tianjin, Tangshan, Qinhuangdao and Huanghua: extra output "
        "growth of the target sectors in the target nodes.",
        "growth a year",
        0.0,
        0.3,
        "Adds value to the yearly output growth of the target nodes' firms of the target sectors.",
        _NO_SPENDING.format(why="project investment is not a talent-policy outlay"),
        targets=("nodes", "sectors"),
        default_nodes=("zone:coastal",),
        default_sectors=("port_marine", "advanced_manufacturing", "logistics_aviation"),
    ),
    Lever(
        "airport_economy_project",
        "四(八)",
        "临空经济产业人才集聚工程: Beijing's new (Daxing) airport economic zone: extra output growth "
        "of the target sectors in the target nodes.",
        "growth a year",
        0.0,
        0.3,
        "Adds value to the yearly output growth of the target nodes' firms of the target sectors.",
        _NO_SPENDING.format(why="project investment is not a talent-policy outlay"),
        targets=("nodes", "sectors"),
        default_nodes=("zone:central",),
        default_sectors=("logistics_aviation", "frontier_tech", "modern_services"),
    ),
    Lever(
        "matching_efficiency",
        "四(九), 四(十一)",
        "人力资源服务产业园 and 人才互联 (expert database, information platform): better "
        "matching of job seekers and vacancies in the target nodes.",
        "share",
        0.0,
        0.2,
        "Adds value to the matching efficiency of the target nodes, up to 1.",
        _NO_SPENDING.format(why="platform costs are small and not given by the plan"),
        targets=("nodes",),
    ),
    Lever(
        "talent_card",
        "四(十二)",
        "京津冀人才卡: cards issued a year to talents of the target groups in the target nodes "
        "(high-end talents first); holders get residence, housing, health care and school "
        "services wherever they move in the region.",
        "cards a year",
        0.0,
        1_000_000.0,
        "Holders pay no hukou barrier, half the cross-province barrier, and have at least "
        "card_services_level of public services at every node.",
        "holders x unit cost",
        10_000.0,
        "Service cost per holder a year; assumption.",
        default_groups=("research", "engineering", "management"),
    ),
    Lever(
        "talent_housing",
        "四(十三)",
        "人才安居工程: talent housing units added a year in each target node, for talents of the "
        "target groups who move there from elsewhere.",
        "units a year per node",
        0.0,
        100_000.0,
        "Adds units to the node's housing; eligible newcomers get a unit while any is free and "
        "pay talent_housing_discount less housing cost, which enters their housing term in "
        "proportion to the chance of a free unit.",
        "occupants x discount x housing cost",
        default_groups=("research", "engineering", "management"),
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
        sectors: which firms it applies to, a mask over ``SECTORS``.
        origins: where relocated jobs come from, a mask over the layout's nodes.
    """

    lever: Lever
    values: tuple[tuple[dt.date, float], ...]
    nodes: np.ndarray
    groups: np.ndarray = field(default_factory=lambda: np.ones(len(GROUPS), dtype=bool))
    sectors: np.ndarray = field(default_factory=lambda: np.ones(len(SECTORS), dtype=bool))
    origins: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def in_year(self, year: int) -> float:
        """Time-weighted mean value over calendar ``year``."""
        shares = [year_share_after(date, year) for date, _ in self.values] + [0.0]
        mean = (1.0 - shares[0]) * self.lever.default
        for k, (_, value) in enumerate(self.values):
            mean += (shares[k] - shares[k + 1]) * value
        return mean

    def held_note(self, year: int) -> str | None:
        """Say so when ``year`` is past the last dated value (the same words every such year)."""
        last_date, last_value = self.values[-1]
        if year > last_date.year:
            return (
                f"lever {self.lever.name}: no value dated after {last_date.isoformat()}; "
                f"held at {last_value:g} {self.lever.unit} from {last_date.year + 1} on"
            )
        return None


@dataclass(frozen=True)
class LeverState:
    """A lever as the model sees it in one year: its value and its targets (masks as in
    ``LeverSchedule``)."""

    value: float
    nodes: np.ndarray
    groups: np.ndarray
    sectors: np.ndarray
    origins: np.ndarray

    @property
    def is_on(self) -> bool:
        return self.value != 0.0 and bool(self.nodes.any())

    def by_node(self) -> np.ndarray:
        """Value by node, zero outside its targets."""
        return np.where(self.nodes, self.value, 0.0)

    def by_group_node(self) -> np.ndarray:
        """Value by (group, node), zero outside its targets."""
        return np.outer(self.groups, self.by_node())


def off(layout: Layout) -> LeverState:
    """A lever that does nothing this year."""
    return LeverState(
        0.0,
        np.zeros(layout.size, dtype=bool),
        np.zeros(len(GROUPS), dtype=bool),
        np.zeros(len(SECTORS), dtype=bool),
        np.zeros(layout.size, dtype=bool),
    )


def resolve_year(
    schedules: Mapping[str, LeverSchedule], layout: Layout, year: int
) -> tuple[dict[str, LeverState], list[str]]:
    """Every declared lever's state in ``year`` (off when the scenario does not set it), and
    notes on levers held past their last date."""
    states = {name: off(layout) for name in LEVERS}
    notes = []
    for name, schedule in schedules.items():
        origins = schedule.origins if len(schedule.origins) else np.zeros(layout.size, dtype=bool)
        states[name] = LeverState(
            schedule.in_year(year), schedule.nodes, schedule.groups, schedule.sectors, origins
        )
        note = schedule.held_note(year)
        if note:
            notes.append(note)
    return states, notes
