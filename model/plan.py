"""The 2017-2030 talent integration plan's milestones and measurable targets, declared once.

Source: 《京津冀人才一体化发展规划（2017—2030年）》, section 二(三) (development targets) and the
sections named beside each target. The plan sets no numeric value for any of these indicators:
a target says which way an indicator should move and by when, so the model reports the
indicator at each milestone year and leaves the judgement to the reader.

``model/indicators.py`` computes the indicators; ``experiments/compare.py`` tabulates them at the
milestone years (``milestones.csv``); the reports mark the years on their charts.
"""

from __future__ import annotations

MILESTONE_YEARS: tuple[int, ...] = (2020, 2025, 2030)
"""The plan's near-, mid- and long-term target years (二(三))."""

MILESTONE_NAMES: dict[int, dict[str, str]] = {
    2020: {"en": "near-term target 近期", "zh": "近期目标"},
    2025: {"en": "mid-term target 中期", "zh": "中期目标"},
    2030: {"en": "long-term target 远期", "zh": "远期目标"},
}
"""Each milestone year's name, as the plan words it (近期/中期/远期), for tables and charts."""

COST_YEARS: tuple[int, ...] = (2025, 2030)
"""Years at which a comparison sets a scenario's cumulative lever spending against its effect:
the two later milestones (by 2020 only the first years of spending have passed)."""

TARGETS: dict[str, str] = {
    "hebei_share": "2025: talent structure fits the functional roles of the region and the three",
    "bj_hb_density_gap": "2025: talent structure fits the functional roles of the region and the three",
    "foreign_share": "2025: international competitiveness clearly higher",
    "high_end.pole.*": "2025: international competitiveness clearly higher",
    "xiongan_talents": "四(五): talents gather in Xiong'an",
    "services_gap": "2025: basic public services clearly more equal (2030: balanced)",
    "unemployment_rate": "2030: one unified talent market",
    "talents.jjj": "一体: the region's talents as one body",
}
"""The plan's measurable targets: indicator (``*`` stands for every pole) -> the qualitative
target it stands for."""
