"""Behavioural parameters: each declared once, with unit, bounds, default and where the value
comes from.

Validation, the JSON Schema, sweep bounds and the report's methods table all read
``PARAMETERS``; nothing else restates a default. A scenario overrides values by name
(``parameters: {beta_wage: 2.0}``); calibration (``jjj-talent calibrate``) writes fitted values
into a scenario layer with a record of how they were obtained.

Defaults are judgement or published evidence, as each ``source`` says; they are where the fit
starts. ``experiments/calibration-2015.yaml`` fits 19 of them jointly to the numbers published
up to 2015 and writes the fitted values to ``scenarios/calibrated-2015.yaml``, which
``baseline`` (and so every shipped scenario) extends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Parameter:
    """A behavioural coefficient.

    Attributes:
        name: the key used in scenario files.
        default: value used when a scenario does not set it.
        unit: unit of the value.
        lower, upper: inclusive bounds; also the sweep range unless an experiment narrows it.
        meaning: one sentence on what it does in the model.
        source: one sentence on where the default comes from.
    """

    name: str
    default: float
    unit: str
    lower: float
    upper: float
    meaning: str
    source: str
    integer: bool = False

    def check(self, value: float) -> str | None:
        """Return why ``value`` is not allowed, or None when it is."""
        if self.integer and float(value) != int(value):
            return f"must be a whole number between {self.lower:g} and {self.upper:g}"
        if not self.lower <= value <= self.upper:
            return f"must be between {self.lower:g} and {self.upper:g} ({self.unit})"
        return None


_GUESS = (
    "Judgement default; where experiments/calibration-2015.yaml fits it, the fitted value is in "
    "scenarios/calibrated-2015.yaml, which every shipped scenario extends"
)

_DECLARED = [
    # --- location choice: utility terms (multinomial logit, docs/architecture.md phase 5) ---
    Parameter(
        "beta_wage",
        1.5,
        "utility per log CNY",
        0.0,
        5.0,
        "Weight of the log of the wage a talent of its group earns at the node.",
        "Income elasticities of skilled internal migration in China are mostly 1-2; " + _GUESS,
    ),
    Parameter(
        "beta_jobs",
        1.0,
        "utility per log probability",
        0.0,
        5.0,
        "Weight of the log chance of finding a job of one's group at the node.",
        "Harris-Todaro expected-income logic gives 1 when wage and job chance weigh alike; " + _GUESS,
    ),
    Parameter(
        "beta_housing",
        8.0,
        "utility per (cost / income)",
        0.0,
        10.0,
        "Penalty on a year's housing cost at the node as a share of the talent's wage.",
        "At 2 (the first judgement) a 10 % price rise moved graduates leaving by 0.5 pp against "
        "2-3 pp published (docs/evidence-levers.md 6.3; python -m experiments.evidence): "
        "4x, within the fit's evidence interval [4, 10].",
    ),
    Parameter(
        "beta_services",
        0.5,
        "utility per index point",
        0.0,
        10.0,
        "Weight of the public-service index (schools, health, social insurance; Beijing = 1).",
        "At 1.5 (the first judgement) a 10 % better service index raised a node's choice by 8 % "
        "against 1-4 % published, and services must weigh less than wages (evidence-levers 6.4; "
        "python -m experiments.evidence): a third, within the fit's interval [0.3, 1].",
    ),
    Parameter(
        "beta_agglomeration",
        0.3,
        "utility per log ratio",
        0.0,
        2.0,
        "Pull of a node where one's own group is over-represented (log of its share there "
        "over its regional share).",
        _GUESS,
    ),
    Parameter(
        "beta_distance",
        0.8,
        "utility per 100 km",
        0.0,
        5.0,
        "Cost of distance between the current node and the destination (great-circle).",
        "Distance decay of interprovincial migration in gravity models is of this order; " + _GUESS,
    ),
    Parameter(
        "beta_stay",
        2.0,
        "utility",
        0.0,
        10.0,
        "Utility of staying put for a talent who considers moving (moving costs, ties).",
        _GUESS,
    ),
    Parameter(
        "beta_province_barrier",
        1.0,
        "utility",
        0.0,
        5.0,
        "Cost of crossing a provincial border: titles, skills and social insurance not "
        "recognised across the three (plan 三(三)).",
        _GUESS,
    ),
    Parameter(
        "hukou_barrier_beijing",
        1.5,
        "utility",
        0.0,
        5.0,
        "Cost of living in Beijing without its hukou (schools, housing purchase, health).",
        "Beijing's hukou is the hardest to obtain of the three; " + _GUESS,
    ),
    Parameter(
        "hukou_barrier_tianjin",
        0.6,
        "utility",
        0.0,
        5.0,
        "Cost of living in Tianjin without its hukou.",
        _GUESS,
    ),
    Parameter(
        "hukou_barrier_hebei",
        0.2,
        "utility",
        0.0,
        5.0,
        "Cost of living in Hebei without its hukou.",
        "Hebei's cities admit residents with few conditions; " + _GUESS,
    ),
    Parameter(
        "hukou_barrier_outside",
        0.6,
        "utility",
        0.0,
        5.0,
        "Cost, to a talent registered in the region, of leaving it: where it goes it lacks the hukou. "
        "A talent registered elsewhere in China is taken to go home and bears none.",
        "Judgement default, Tianjin's: those who leave go mostly to large cities, whose hukou is "
        "harder to get than Hebei's and easier than Beijing's. Fitted (experiments/calibration-2015.yaml) "
        "with Beijing's 2015 graduates in work by origin: 93 % of those from Beijing took jobs in "
        "Beijing, 48 % of the others (ASSUMPTIONS D7).",
    ),
    Parameter(
        "outside_choice_share",
        0.12,
        "share",
        0.0,
        0.5,
        "Share of talents considering a move who leave the region in the base year; the "
        "outside option's utility is solved at the start to give it.",
        "Judgement default, the fit's start. Fitted (experiments/calibration-2015.yaml) with Beijing's "
        "graduates in work by origin among the targets (93 % of those from Beijing in Beijing in 2015, "
        "48 % of the others; ASSUMPTIONS D7): without them the targets up to 2015 could not tell 0.04 "
        "from 0.12 (docs/fit-history.md).",
    ),
    Parameter(
        "money_discount_rate",
        0.05,
        "share a year",
        0.01,
        0.15,
        "Discount rate at which a one-off payment (subsidy) is turned into its annuity over the "
        "expected stay, which enters utility as a raise of that much a year (model/choice.py).",
        "docs/evidence-levers.md 6.1 uses 5 %; of the order of Chinese deposit and "
        "mortgage rates of the 2010s; assumption.",
    ),
    Parameter(
        "expected_stay_years",
        8.0,
        "years",
        2.0,
        30.0,
        "Years over which a talent expects to enjoy a one-off payment tied to a place (its "
        "annuity's horizon).",
        "docs/evidence-levers.md 6.1 brackets it by 5-10 years for graduates; midpoint, "
        "assumption. At 8 years and 5 %, 30,000 CNY is worth 4,640 CNY a year.",
    ),
    # --- where a talent lives, given the job node (nested home choice, model/choice.py) ---
    Parameter(
        "commute_max_km",
        50.0,
        "km",
        0.0,
        120.0,
        "A talent may live in another node than the job's when their seats are at most this far "
        "apart (great-circle); 0 is no commuting between nodes. At 50 km: Beijing with Tongzhou "
        "and Langfang, Tongzhou-Langfang, Tianjin with Binhai and Wuqing, Wuqing-Langfang, "
        "Baoding-Xiong'an, Handan-Xingtai.",
        "About an hour each way door to door; judgement.",
    ),
    Parameter(
        "commute_speed_kmh",
        40.0,
        "km per hour",
        10.0,
        120.0,
        "Door-to-door speed of a commute between two nodes' seats (road and suburban rail).",
        "Judgement: expressway and suburban-rail speeds less access and waiting time.",
    ),
    Parameter(
        "commute_time_value_share",
        0.5,
        "share of the wage rate",
        0.0,
        1.5,
        "Value of an hour of commuting as a share of the hourly wage; the commute's cost is this "
        "share of the daily hours spent travelling, as a share of the wage (model/choice.py).",
        "Small (2012), 'Valuation of travel time', Economics of Transportation 1(1-2):2-14: "
        "commuters' value of time is about half the gross wage rate in most studies.",
    ),
    Parameter(
        "commute_home_constant",
        -2.0,
        "utility",
        -6.0,
        0.0,
        "Utility of living in another node than the job's, besides its housing cost, services "
        "and commute: ties to the job's city and what a long commute costs beyond time.",
        "No count of commuters between nodes up to 2015 is in the data; the fit sets it from the "
        "2010-2015 residents of the nodes around Beijing and Tianjin. " + _GUESS,
    ),
    Parameter(
        "commute_nest_scale",
        0.5,
        "scale",
        0.1,
        1.0,
        "Nested-logit scale of the home choice: how alike the homes within one job's commuting "
        "range are (1: as different as any two alternatives, the flat logit over home-job pairs).",
        "Must lie in (0, 1] for the nested logit to be consistent with utility maximisation "
        "(McFadden 1978); the middle of that range, " + _GUESS,
    ),
    # --- how levers act (model/levers.py names each lever's mechanism) ---
    Parameter(
        "talent_housing_discount",
        0.3,
        "share",
        0.0,
        1.0,
        "Share of housing cost a talent-housing tenant does not pay (plan 四(十三)).",
        "Talent apartments are typically let at 50-80 % of market rent; assumption.",
    ),
    Parameter(
        "credential_barrier_share",
        0.5,
        "share",
        0.0,
        1.0,
        "Part of the cross-province barrier due to titles and skill certificates not being "
        "recognised (credential_recognition removes it); the rest is social insurance that does "
        "not follow the talent (insurance_portability removes it). Plan 三(三).",
        "No estimate of the split was found; an even split, assumption.",
    ),
    Parameter(
        "international_community_amenity",
        0.5,
        "utility per community",
        0.0,
        3.0,
        "Utility an international talent community adds for foreign talents (plan 四(十)).",
        _GUESS,
    ),
    Parameter(
        "fund_cost_per_job",
        500_000.0,
        "CNY per talent job",
        50_000.0,
        5e6,
        "Money from the entrepreneurship fund that creates one talent job a year (plan 三(五)).",
        "Public venture funds in China report a few hundred thousand CNY per job; assumption.",
    ),
    Parameter(
        "part_time_fte",
        0.2,
        "full-time equivalent",
        0.05,
        1.0,
        "Work a part-time or multi-site talent gives the node served (plan 三(一)).",
        "One day a week; assumption.",
    ),
    Parameter(
        "fte_services_gain",
        0.04,
        "index points per full-time equivalent per 1,000 residents",
        0.0,
        0.2,
        "Services index (Beijing = 1) that one full-time equivalent of team, part-time or "
        "poverty-belt service adds per 1,000 residents of the node served, while it serves.",
        "One more professional per 1,000 residents is about 1/25 of Beijing's density of health "
        "and education staff (of the order of 25 per 1,000 residents in the 2010s); assumption, "
        "not fitted.",
    ),
    Parameter(
        "job_keeping_bonus",
        3.5,
        "utility",
        0.0,
        10.0,
        "Utility of keeping one's job, employer and tenure when the job is relocated: added "
        "to following it in the follow-or-stay choice (plan 二(二)).",
        "Judgement default: with it about a quarter to a third of the staff of relocated jobs "
        "follow them in plan-2017; no data in model/data to fit it.",
    ),
    Parameter(
        "ceiling_talent_weight",
        1.0,
        "share",
        0.0,
        1.0,
        "How far Beijing's population ceiling (lever population_ceiling) bears on talents: of the "
        "residents above it at a year's end, talents make up this times their share of the "
        "residents, and so many of the talents who would arrive next year are refused "
        "(model/choice.py refuse_arrivals); residents without a degree make up the rest at once. "
        "1 is in proportion to their numbers, 0 only on residents without a degree.",
        "The ceiling was to be held through jobs, housing and settlement alike (以业控人, 以房管人; "
        "Beijing's 2016 and 2017 plans), and no source found splits it between residents with a "
        "degree and others: in proportion is the neutral judgement (ASSUMPTIONS P10). Not fitted: "
        "the ceiling is in force from 2016, after the fit's years.",
    ),
    # --- moving hazard ---
    Parameter(
        "constant_trend_weight",
        10.0,
        "per unit of yearly population growth",
        0.0,
        40.0,
        "Tilt of the base year's expected moves towards nodes whose residents grew faster in "
        "2010-2015: arrivals at node j are weighted by exp(weight x growth_j) (model/choice.py, "
        "balance_targets). The constants' lean fades each year as the node's province's growth "
        "did (A16; model/simulation.py, _leaning_constants). 0 is a still start: moves balance "
        "at every node.",
        "Judgement: a node growing 1 % a year faster draws 10 % more of the arrivals; fitted to the "
        "2011-2015 populations (experiments/calibration-2015.yaml). 0 is the balance used before issue 10.",
    ),
    Parameter(
        "move_hazard_base",
        0.05,
        "per year",
        0.0,
        0.5,
        "Yearly chance that an employed talent aged 30 or under, settled two years or more, "
        "considers moving.",
        "Yearly inter-city mobility of young graduates in China is a few per cent; " + _GUESS,
    ),
    Parameter(
        "move_hazard_age_decay",
        0.06,
        "per year of age",
        0.0,
        0.3,
        "Relative fall of the hazard for each year of age over 30.",
        _GUESS,
    ),
    Parameter(
        "move_hazard_unemployed_ratio",
        4.0,
        "ratio",
        1.0,
        20.0,
        "Hazard of an unemployed talent relative to an employed one.",
        _GUESS,
    ),
    Parameter(
        "move_hazard_retired_ratio",
        0.3,
        "ratio",
        0.0,
        2.0,
        "Hazard of a retired talent relative to an employed one.",
        _GUESS,
    ),
    Parameter(
        "move_hazard_newcomer_ratio",
        2.0,
        "ratio",
        1.0,
        10.0,
        "Hazard in the first two years at a node relative to later years.",
        _GUESS,
    ),
    # --- firms and wages (phase 2) ---
    Parameter(
        "productivity_growth",
        0.06,
        "per year",
        0.0,
        0.1,
        "Labour productivity growth: output growth beyond it creates labour demand.",
        "China's GDP grew about 7 % a year in 2012-2019 with employment nearly flat, so labour "
        "productivity grew about 6-7 % a year (NBS); rounded down.",
    ),
    Parameter(
        "skill_upgrading",
        0.03,
        "per year",
        0.0,
        0.15,
        "Yearly growth of firms' demand for talents beyond output growth, as jobs come to require a degree.",
        "The tertiary-educated share of China's employed roughly doubled over 2010-2020 "
        "(censuses), about 7 % a year; part of it is output growth; " + _GUESS,
    ),
    Parameter(
        "wage_elasticity_of_demand",
        1.0,
        "elasticity",
        0.0,
        3.0,
        "Fall of labour demand per unit relative wage increase (firms substitute away from dearer talent).",
        _GUESS,
    ),
    Parameter(
        "growth_frontier_tech",
        0.09,
        "per year",
        -0.1,
        0.3,
        "Output growth of frontier technology firms (ICT, biotech, AI).",
        _GUESS,
    ),
    Parameter(
        "growth_advanced_manufacturing",
        0.06,
        "per year",
        -0.1,
        0.3,
        "Output growth of advanced manufacturing.",
        _GUESS,
    ),
    Parameter(
        "growth_modern_services",
        0.07,
        "per year",
        -0.1,
        0.3,
        "Output growth of finance, business and other modern services.",
        _GUESS,
    ),
    Parameter(
        "growth_logistics_aviation",
        0.06,
        "per year",
        -0.1,
        0.3,
        "Output growth of logistics and aviation.",
        _GUESS,
    ),
    Parameter(
        "growth_port_marine",
        0.05,
        "per year",
        -0.1,
        0.3,
        "Output growth of port, shipping and marine industries.",
        _GUESS,
    ),
    Parameter(
        "growth_green_energy",
        0.07,
        "per year",
        -0.1,
        0.3,
        "Output growth of renewable energy and environmental services.",
        _GUESS,
    ),
    Parameter(
        "growth_public_services",
        0.04,
        "per year",
        -0.1,
        0.3,
        "Growth of public services (education, health, administration).",
        _GUESS,
    ),
    Parameter(
        "growth_traditional_industry",
        0.0,
        "per year",
        -0.1,
        0.3,
        "Output growth of traditional heavy industry (steel, cement, chemicals).",
        "Capacity cuts in Hebei's steel and cement after 2013; " + _GUESS,
    ),
    Parameter(
        "tertiary_wage_premium",
        0.8,
        "share of the non-tertiary wage",
        0.3,
        1.5,
        "How much more a tertiary-educated worker earns than one without tertiary education, in "
        "every node; with the node's tertiary share it turns the average wage into talents' wage "
        "(ASSUMPTIONS F4, model/firms.py).",
        "Urban China around 2010: about 8 % a year of schooling by OLS (Asadullah and Xiao 2020, "
        "CGSS 2010), so about 0.3 log points for college over high school and 0.55-0.65 over the "
        "mostly middle-school non-tertiary workforce, a premium of 0.75-0.9; the college premium "
        "was higher in more developed regions and fell by 20 points 2007-2018 (Hanushek, Wang and "
        "Zhang, J. Comp. Econ. 53, 2025). Not fitted: the node constants absorb a level.",
    ),
    Parameter(
        "wage_trend_share",
        1.0,
        "share",
        0.0,
        1.5,
        "Nominal wage growth when demand equals supply, as a share of the node's wage trend: its "
        "published growth up to 2015 in the back-cast's years (wage_trend: Beijing 11.3 %, "
        "Tianjin 9.9 %, Hebei 9.6 % a year), its 2012-2015 growth after them (wage_trend_recent: "
        "Beijing 9.5 %); five Hebei cities their own 2012-2015 growth, 6.4-12.1 %.",
        "The trend is the published growth of the node's (or else its market's) average wage up "
        "to 2015 (ASSUMPTIONS A6); 1 continues it. " + _GUESS,
    ),
    Parameter(
        "wage_adjust_speed",
        0.3,
        "per unit excess demand",
        0.0,
        2.0,
        "Extra wage growth per unit of (vacancies - seekers) / demand.",
        _GUESS,
    ),
    Parameter(
        "wage_change_bound",
        0.10,
        "per year",
        0.0,
        0.5,
        "Largest yearly wage change from excess demand, either way.",
        _GUESS,
    ),
    Parameter(
        "initial_unemployment",
        0.04,
        "share",
        0.0,
        0.3,
        "Share of talents of working age who are looking for work in the base year.",
        "China's surveyed urban unemployment rate was about 5 % in 2015-2018; graduates' is "
        "lower after the first year; assumption.",
    ),
    Parameter(
        "vacancy_rate",
        0.03,
        "share",
        0.0,
        0.2,
        "Frictional vacancies as a share of demand in the base year.",
        _GUESS,
    ),
    Parameter(
        "matching_efficiency",
        0.8,
        "share",
        0.0,
        1.0,
        "Share of the possible matches min(seekers, vacancies) made in a year.",
        _GUESS,
    ),
    # --- housing and services (phase 3) ---
    Parameter(
        "price_elasticity",
        1.0,
        "per unit excess demand",
        0.0,
        5.0,
        "Price change per unit of (demand / supply - 1) in a year (UrbanSim-style feedback).",
        _GUESS,
    ),
    Parameter(
        "price_income_passthrough",
        1.0,
        "per unit of wage growth",
        0.0,
        2.0,
        "Price growth per unit of the node's wage growth in the year, when residents equal housing "
        "(incomes pay for housing).",
        "1 keeps the price-to-income ratio; 2010-2015 the ratio fell in Beijing and Tianjin "
        "(prices +5 % a year against wages +10-11 %) and rose in SJZ (+15 %): ASSUMPTIONS H1. " + _GUESS,
    ),
    Parameter(
        "price_rate_elasticity",
        0.75,
        "per unit of log rate",
        0.0,
        3.0,
        "Price growth per unit fall of the log of the benchmark lending rate over five years, "
        "year average on year average (ASSUMPTIONS H2): cheaper credit raises what buyers pay.",
        "User-cost theory (Poterba 1984, QJE 99(4):729-752): with a user cost of r + 2 % at "
        "r = 6 %, a price that keeps rent over user cost moves by r / (r + 0.02) = 0.75 per unit "
        "of log r. " + _GUESS,
    ),
    Parameter(
        "price_change_bound",
        0.3,
        "per year",
        0.0,
        0.5,
        "Largest yearly price change, either way.",
        "New-housing prices rose 40 % in Shijiazhuang and 20 % in Beijing in 2015 (NBS, "
        "annual-2010-2015.csv, nbs-2014-2015.csv): 0.3 lets the rules reach most of what "
        "2010-2015 shows; judgement.",
    ),
    Parameter(
        "housing_supply_response",
        0.5,
        "share per year",
        0.0,
        1.0,
        "Share of the gap between residents and housing (at base-year density) that new "
        "construction closes each year; what remains moves the price.",
        _GUESS,
    ),
    Parameter(
        "beijing_supply_share",
        0.5,
        "share",
        0.0,
        1.0,
        "Beijing's nodes' housing supply response as a share of housing_supply_response elsewhere "
        "(land quotas and purchase limits).",
        "Beijing sold 10-15 million m2 of new housing a year in 2010-2013, less than Tianjin's "
        "13-17 million with a third more residents growing 2 % a year (annual-2010-2015.csv); "
        "ASSUMPTIONS H1. " + _GUESS,
    ),
    Parameter(
        "floor_area_m2",
        30.0,
        "m2 per talent",
        10.0,
        80.0,
        "Floor area a talent occupies.",
        "Urban living space per person in China was about 33 m2 in 2012 (NBS); rounded.",
    ),
    Parameter(
        "user_cost_rate",
        0.05,
        "per year",
        0.01,
        0.15,
        "Yearly cost of housing as a share of its price (rent or interest and upkeep).",
        "Gross rental yields in Chinese cities are 2-5 %; plus upkeep; " + _GUESS,
    ),
    Parameter(
        "services_convergence",
        0.01,
        "per year",
        0.0,
        0.5,
        "Share of the gap to Beijing's service level that other nodes close each year without levers.",
        _GUESS,
    ),
    # --- demography (phase 4) ---
    Parameter(
        "mortality_a",
        3.6e-5,
        "per year",
        0.0,
        1e-3,
        "Gompertz mortality level: death probability at age x is a * exp(b x).",
        "Fitted by eye so that q(60) is about 0.8 % and q(80) about 5 %, near China's 2010 "
        "life table; assumption.",
    ),
    Parameter(
        "mortality_b", 0.09, "per year of age", 0.05, 0.12, "Gompertz mortality slope.", "As mortality_a."
    ),
    Parameter(
        "retirement_age",
        60,
        "years",
        50,
        70,
        "Age at which employed and unemployed talents retire.",
        "Statutory retirement age of men in China (women 50-55) before the 2025 reform; simplification.",
        integer=True,
    ),
    Parameter(
        "study_years",
        4,
        "years",
        2,
        7,
        "Years from university entry to graduation.",
        "Bachelor's degrees take four years, short-cycle three, masters two to three more; simplification.",
        integer=True,
    ),
    Parameter(
        "entrants_growth",
        0.01,
        "per year",
        -0.05,
        0.1,
        "Growth of university entrants by node a year, on the path through the observed 2015 "
        "intake (ASSUMPTIONS A9): E_t = E_2015 (1 + g) ** (t - 2015), from either base year.",
        "The provinces' bachelor intakes grew 0.8 % (Beijing), 1.2 % (Tianjin) and 1.7 % (Hebei) "
        "from 2014 to 2015 (nbs-2014-2015.csv); 1 % is a round value within them; not fitted.",
    ),
    Parameter(
        "adult_first_degree_share",
        0.6,
        "share",
        0.0,
        1.0,
        "Share of the degrees adults gain a year (adult higher education, online and self-study; "
        "inputs.degree_rates) that are a first tertiary degree: those persons move from the node's "
        "non-talent residents to its talents (the rest upgrade a degree they had).",
        "In 2014 short-cycle (专科) graduates were 59 % of adult and 65 % of online graduates "
        "(MOE-2014, model/data/education-pipeline.csv); bachelor graduates of these channels are "
        "mostly upgraders (专升本). Rounded; self-study assumed alike (ASSUMPTIONS.md E1).",
    ),
    Parameter(
        "adult_degree_factor_beijing",
        2.5,
        "ratio",
        1.0,
        5.0,
        "Adults' degrees a year per non-tertiary resident in Beijing's nodes, as a multiple of "
        "China's rate (inputs.degree_rates); elsewhere the national rate holds (ASSUMPTIONS.md E1).",
        "Beijing's institutions taught 4.96 % of China's adult higher-education students in 2010 "
        "(266,000 of 5,360,400; BJ-BUL2010, MOE-BUL2010) with 1.10 % of its residents without a "
        "degree: 4.5 times China's rate if all of them lived in Beijing. About 44 % of China's adult "
        "students studied by correspondence (EDU-ADULT, 2002), many far from their "
        "institution; with those elsewhere, 4.5 x 0.56 = 2.5. Fitted within 1-4.5 "
        "(experiments/calibration-2015.yaml).",
    ),
    Parameter(
        "resident_entrant_share",
        0.6,
        "share",
        0.0,
        1.0,
        "Share of a node's university entrants of local origin (its province's hukou, "
        "students_local_share) who were its own residents without a degree (they move from its "
        "non-talent residents to its talents); the rest come from elsewhere and add to its residents.",
        "Some of a province's own entrants come from its other cities; no count by node in "
        "model/data; judgement default, fitted within 0.2-1 (ASSUMPTIONS.md E3).",
    ),
    Parameter(
        "inflow_rate",
        0.03,
        "arrivals per graduate of China's universities",
        0.0,
        0.2,
        "Talents arriving from the rest of China each year, per graduate of China's regular "
        "universities that year (about 5.9 million in 2010, 6.8 million in 2015; ASSUMPTIONS.md D1).",
        "Residents born outside the region rose from 8.88 to 10.07 million in 2010-2015 "
        "(BJ-BLUE), about 0.24 million net a year, 0.04 per graduate; talents are a large part "
        "of the gross flow; " + _GUESS,
    ),
    Parameter(
        "foreign_inflow",
        8000.0,
        "persons per year",
        0.0,
        1e6,
        "Foreign talents arriving from abroad each year.",
        "Foreign residents are under 1 % of residents (plan 一(二)2); " + _GUESS,
    ),
    Parameter(
        "high_end_inflow",
        150.0,
        "persons per year",
        0.0,
        1e5,
        "High-end talents (leading talents, academicians, national programme recruits) "
        "arriving each year, all origins.",
        _GUESS,
    ),
    Parameter(
        "hukou_settlement_rate",
        0.05,
        "per year",
        0.0,
        0.5,
        "Yearly chance that a talent registered elsewhere in China, at its node five years or "
        "more, gains the hukou there; multiplied by exp(-hukou barrier of the province), so "
        "Beijing's is lowest, and raised where hukou_openness lowers the barrier.",
        "Points-based and talent-based settlement admits a few per cent of long-term migrants "
        "a year in large Chinese cities; the fit sets it by Beijing's and Tianjin's migrants "
        "2012-2015 (ASSUMPTIONS.md A11). " + _GUESS,
    ),
]

PARAMETERS: Mapping[str, Parameter] = MappingProxyType({p.name: p for p in _DECLARED})


def resolve_parameters(overrides: Mapping[str, float]) -> dict[str, float]:
    """Defaults with ``overrides`` applied; callers validate overrides before (see scenario.py)."""
    values = {name: p.default for name, p in PARAMETERS.items()}
    values.update(overrides)
    return values
