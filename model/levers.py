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

TARGET_KINDS: tuple[str, ...] = ("nodes", "groups", "sectors", "origins", "graduated_in")
"""What a lever's setting may name: where it applies (``nodes``), to whom (``groups``), which
firms (``sectors``), for relocation where jobs come from (``origins``) and, for the graduate
subsidy, where a graduate must have studied to qualify (``graduated_in``)."""


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
        default_nodes, default_groups, default_sectors, default_origins, default_graduated_in:
            targets when a scenario does not name them (place names as in ``Layout.mask``).
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
    default_graduated_in: tuple[str, ...] = ("jjj",)


_MONEY = (
    "Adds beta_wage * log(1 + annuity(value) / wage) to the utility of target nodes for {who}: "
    "a one-off payment is worth a raise of its annuity over expected_stay_years at "
    "money_discount_rate (model/choice.py)"
)
_FTE = (
    "The full-time equivalents served raise the services index of the nodes served by "
    "fte_services_gain per full-time equivalent per 1,000 residents while they serve (phase 7; "
    "seen by next year's choices); the talents keep living where they live."
)
_NO_SPENDING = "none counted: {why}"

_DECLARED = [
    # --- 三(一) a new regional pattern: help for Hebei ---
    Lever(
        "graduate_subsidy",
        "三(一)",
        "高校毕业生就业河北计划: tuition subsidy and living allowance paid once to a graduate of a "
        "university in the graduated_in nodes (the plan's graduates of renowned universities, by "
        "default Beijing's and Tianjin's) who takes a first job in a target node.",
        "CNY per graduate",
        0.0,
        500_000.0,
        _MONEY.format(who="graduates of the graduated_in nodes choosing where to start work")
        + "; paid to each such graduate matched to a job there in the year of graduation.",
        "value x graduates paid",
        targets=("nodes", "groups", "graduated_in"),
        default_graduated_in=("beijing", "tianjin"),
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
        "Full-time equivalents served in the target nodes, shared by their residents. " + _FTE,
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
        "Full-time equivalents (part_time_fte a person) served in the target nodes, shared by "
        "their residents. " + _FTE,
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
        "Full-time equivalents served in the target nodes, shared by their residents. " + _FTE,
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
        "Moves labour demand (and the staff's employer) between firms of the same sector, in equal "
        "shares to the target nodes; the staff of each firm's moved jobs are assigned to the "
        "target nodes in the same shares as its jobs (not at random), and each chooses by logit between following (the destination's utility with the job "
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
        "实现三地人才职称、技能人才资格互认: mutual recognition of professional titles and skill "
        "certificates among the target nodes, for the target groups (those whose careers rest on "
        "titles or certificates).",
        "share of titles and certificates recognised",
        0.0,
        1.0,
        "Removes value x credential_barrier_share of the cross-province barrier of moves between "
        "two target nodes, both ways (mutual), for the target groups.",
        _NO_SPENDING.format(why="an administrative reform"),
        default_groups=("research", "engineering", "professional", "skilled"),
    ),
    Lever(
        "insurance_portability",
        "三(三)",
        "推动社会保险互通: portability of social insurance among the target nodes.",
        "share of social insurance portable",
        0.0,
        1.0,
        "Removes value x (1 - credential_barrier_share) of the cross-province barrier of moves "
        "between two target nodes, both ways (mutual).",
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
        "Adds value skilled workers a year to each target node (new entries, aged 25-40, local "
        "hukou, looking for work, without a tertiary degree): they work and move like the skilled "
        "group but are counted apart from talents (indicator skilled_trainees).",
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
        "university_places",
        "二(二), 四(五)",
        "University capacity: regular (bachelor and short-cycle) places added a year in each "
        "target node, by new campuses or universities moved out of Beijing (Xiong'an's "
        "universities; higher education is one of the non-capital functions to be moved).",
        "entrants a year per node",
        0.0,
        200_000.0,
        "Adds value to the target nodes' university entrants each year, on top of their base-year "
        "entrants grown at entrants_growth: new students, who are talents (census definition) and "
        "graduate after study_years where they studied (model/simulation.py, phase 4).",
        _NO_SPENDING.format(why="university construction and running costs are an education outlay"),
        targets=("nodes",),
        default_nodes=("XA",),
    ),
    Lever(
        "talent_card",
        "四(十二)",
        "京津冀人才卡: cards issued a year by the target nodes' provinces to their talents of the "
        "target groups in work there (high-end talents first); holders get residence (落户居留), "
        "health care and school services (医疗保健、子女入学) from the province that issued the card.",
        "cards a year",
        0.0,
        1_000_000.0,
        "Holders pay no hukou barrier (the cost of lacking access to schools and health care) at "
        "the nodes of the province that issued the card; nothing elsewhere.",
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
    # --- the setting of the plan, not one of its measures ---
    Lever(
        "population_ceiling",
        "Beijing 13th five-year plan (2016), master plan 2016-2035 (2017)",
        "常住人口上限: Beijing's ceiling on its resident population, 23 million by 2020 and held "
        "there, enforced by closing low-end markets and industries and by tighter housing and "
        "settlement (以业控人, 以房管人). Part of the baseline: Beijing's own policy, not a "
        "measure of the talent plan.",
        "residents (persons)",
        0.0,
        100_000_000.0,
        "Where the target nodes' residents (talents and others) exceed the value at the year's "
        "end (after choices and matching), the excess is shared in proportion to their numbers "
        "(parameter ceiling_talent_weight): residents without a degree are reduced at once, and "
        "they leave the region; the talents' part are turned away from the target nodes in the "
        "next year's choices (each who would arrive with the same chance) and choose again "
        "among the other nodes and leaving. Talents who live there are not moved. 0 is no "
        "ceiling.",
        _NO_SPENDING.format(why="enforcement is not a talent-policy outlay"),
        targets=("nodes",),
        default_nodes=("beijing",),
    ),
    Lever(
        "purchase_limits",
        "Beijing's housing-market measures of February 2011",
        "限购: Beijing's home-purchase restrictions (京十五条, February 2011; tightened 2013 and "
        "2017): a household without a Beijing hukou may buy a home only after five years of "
        "Beijing taxes or social insurance, one home at most; households with a hukou two at most. "
        "Part of the baseline: Beijing's own policy, not a measure of the talent plan. Sun, Zheng, "
        "Geltner and Wang (2017, J. Real Estate Finance and Economics 55: 288-312) find that the "
        "2011 measures lowered resale prices by 17-24 % at the discontinuity, rents unchanged.",
        "share of the price",
        0.0,
        0.5,
        "Buyers kept out of the market lower the price at which homes sell, not the cost of "
        "living there: the published average price of new housing at the target nodes is the "
        "market price x (1 - value), while the housing term of location choice, the price "
        "dynamics and the cost of talent flats keep the market price (model/cities.py). Where "
        "the value is in force in the base year, the market price starts at the published price "
        "/ (1 - value).",
        _NO_SPENDING.format(why="a regulation, not an outlay"),
        targets=("nodes",),
        default_nodes=("beijing",),
    ),
    Lever(
        "hukou_points_quota",
        "Beijing points-based settlement measures (2016), first round 2018",
        "积分落户: Beijing's points-based settlement of long-term residents: an applicant holds a "
        "Beijing residence permit, is below retirement age and has paid Beijing social insurance "
        "for seven consecutive years; the city admits those with the most points (education, "
        "stable work and housing, innovation, taxes) up to a yearly quota. Part of the baseline: "
        "Beijing's own policy, not a measure of the talent plan.",
        "persons a year",
        0.0,
        1_000_000.0,
        "Talents in work at the target nodes, registered elsewhere (another province of the "
        "region or of China, not abroad) and at their node POINTS_YEARS or more, gain the hukou "
        "of the node's province with chance min(1, value / eligible persons at the target "
        "nodes), so that the value a year settle on average; on top of the yearly settlement "
        "of hukou_settlement_rate (model/demography.py settle_by_points). All admissions are "
        "counted as talents: the points favour degrees.",
        _NO_SPENDING.format(why="settlement is an administrative decision"),
        targets=("nodes",),
        default_nodes=("beijing",),
    ),
    Lever(
        "graduate_hukou_quota",
        "Beijing's yearly quota of graduates from elsewhere hired with its hukou (rules of 2013, 2015)",
        "进京指标: each year Beijing lets its employers hire a quota of the graduates of its "
        "universities who come from elsewhere with a Beijing hukou (about 10,000 a year in "
        "2013, no more than 9,000 for 2015). Beijing's own policy, not a measure of the talent "
        "plan; set in scenarios/baseline-with-graduate-quota.yaml, not yet in the baseline "
        "(ASSUMPTIONS D6).",
        "persons a year",
        0.0,
        1_000_000.0,
        "The year's graduates of the target nodes' universities in work at a target node of the "
        "same province by the year's end, registered elsewhere (another province of the region or "
        "of China, not abroad), gain the hukou of the node's province with chance min(1, value / "
        "eligible persons at the target nodes), so that the value a year settle on average; on "
        "top of the yearly settlement of hukou_settlement_rate and the points scheme "
        "(model/demography.py settle_graduates_at_hiring). Counted after the graduates' shares "
        "by origin: a graduate keeps its origin in them. From then on the graduate holds the "
        "province's hukou in every choice: no hukou barrier at its nodes, and "
        "hukou_barrier_outside on leaving the region (ASSUMPTIONS D6).",
        _NO_SPENDING.format(why="settlement is an administrative decision"),
        targets=("nodes",),
        default_nodes=("beijing",),
    ),
    Lever(
        "commute_time_cut",
        "三(二); Jing-Jin-Ji transport integration plan (2015)",
        "Transport integration of neighbouring nodes (通武廊: Tongzhou, Wuqing, Langfang; the "
        "northern three counties of Langfang with Beijing): suburban rail, metro extensions and "
        "cross-border buses that shorten the commute between the target nodes. A measure of the "
        "region's transport plan, which the talent plan's 通武廊 zone relies on, not of the talent "
        "plan itself.",
        "share of commute time",
        0.0,
        0.8,
        "Cuts the commute time between any two target nodes within commute_max_km by the value, "
        "both ways: the commute's cost in the home choice falls, so more of those who work in one "
        "target node live in another, and the job node's option value of such homes rises "
        "(model/choice.py, nested home choice).",
        _NO_SPENDING.format(why="infrastructure is an outlay of the transport plan"),
        targets=("nodes",),
        default_nodes=("BJ", "TZ", "WQ", "LF"),
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
        graduated_in: where a graduate must have studied to qualify, a mask over the nodes.
    """

    lever: Lever
    values: tuple[tuple[dt.date, float], ...]
    nodes: np.ndarray
    groups: np.ndarray = field(default_factory=lambda: np.ones(len(GROUPS), dtype=bool))
    sectors: np.ndarray = field(default_factory=lambda: np.ones(len(SECTORS), dtype=bool))
    origins: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    graduated_in: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

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
    graduated_in: np.ndarray

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
        none = np.zeros(layout.size, dtype=bool)
        states[name] = LeverState(
            schedule.in_year(year),
            schedule.nodes,
            schedule.groups,
            schedule.sectors,
            schedule.origins if len(schedule.origins) else none,
            schedule.graduated_in if len(schedule.graduated_in) else none,
        )
        note = schedule.held_note(year)
        if note:
            notes.append(note)
    return states, notes
