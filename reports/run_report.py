"""The self-contained HTML report of one run.

``write_report(run_dir)`` draws the run's charts in English and Chinese into ``run_dir/charts/``
and writes ``run_dir/report.html``: one file with its CSS inline and its charts embedded as
base64 PNG data URIs, no scripts and no external references, so it can be mailed, archived or
printed as it is. All text from the run goes through ``html.escape``.

Numbers follow one style: persons with thousands separators (``19.40 million`` in headlines),
shares as percentages with one decimal (``36.0%``), money in CNY million.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.files import write_text
from model.plan import MILESTONE_YEARS
from reports.charts import (
    CHART_NAMES,
    LANGS,
    POLES,
    RunData,
    indicator_series,
    label,
    node_names,
    pole_name,
    read_run,
    term_name,
    write_charts,
)
from reports.fonts import font_face_css

TABLE_YEARS = (2015, *MILESTONE_YEARS)
"""Years the report's tables show (with the run's first and last): the base year and the milestones."""
STATUS_ORDER = ("observed", "derived", "unverified", "assumption")

POLE_TITLES = {"beijing": "Beijing (北京)", "tianjin": "Tianjin (天津)", "hebei": "Hebei (河北)"}

CHART_CAPTIONS: dict[str, str] = {
    "talents_by_pole": "Talents by pole, stacked; the region's total is the top edge.",
    "talents_by_node": "Talents by node, each panel on its own scale, with the change since the "
    "first year the node has talents.",
    "hebei_share": "Hebei's share of the region's talents. Dashed lines mark the plan's "
    "milestone years 2020, 2025 and 2030 (近期/中期/远期); the plan sets no "
    "numeric share, so the years are marked, not target values.",
    "talents_map": "Talents by node in the last year (colour), province outlines, and arrows for the "
    "largest net flows between nodes in that year, their width in proportion to persons.",
    "change_map": "Change in talents by node since the first year (diverging colours centred on "
    "zero), with the largest net flows between nodes over the whole run.",
    "price_wage": "House price and mean talent wage by node (log scales).",
    "drivers": "Net talents each province gained or lost over the run because of each term of "
    "the location choice.",
}

FIXED_INDICATORS: dict[str, str] = {
    "talents.jjj": "Talents in the region (京津冀人才总量)",
    "hebei_share": "Hebei's share of the region's talents (河北人才占比)",
    "bj_hb_density_gap": "Talent density gap, Beijing minus Hebei, per 100,000 residents (京冀人才密度差)",
    "foreign_share": "Foreign share of talents (外籍人才占比)",
    "xiongan_talents": "Talents in Xiong'an (雄安新区人才)",
    "unemployment_rate": "Unemployment rate of talents (人才失业率)",
    "services_gap": "Public-service index gap, Beijing minus Hebei (公共服务差距)",
}
INDICATOR_ORDER = (
    ["talents.jjj"]
    + [f"talents.pole.{pole}" for pole in POLES]
    + [f"talents.province.{pole}" for pole in POLES]
    + ["hebei_share", "bj_hb_density_gap"]
    + [f"high_end.pole.{pole}" for pole in POLES]
    + ["foreign_share", "xiongan_talents", "unemployment_rate", "services_gap"]
    + [f"tertiary_per_100k.{pole}" for pole in POLES]
    + [f"population.province.{pole}" for pole in POLES]
)

METHOD_HTML = """
<p>jjj-talent is an agent-based model built on Mesa 3 (version in the <a href="#manifest">manifest</a>). Talents
(tertiary-educated residents, the census definition; see <a href="#assumptions">Assumptions</a>)
are held as rows of
NumPy arrays, each row carrying a weight: high-end talents are one person a row, others one row
per <em>scale</em> persons, and every behavioural rule is applied to all rows at once. Firms and
cities (the 17 nodes) are Mesa agents.</p>
<p>Each simulated year runs these phases in order:</p>
<ol>
<li><strong>Levers</strong>: the year's value of every policy lever is read from the scenario
(dated values; a lever past its last date keeps its last value, and the report's notes say so).</li>
<li><strong>Firms</strong>: labour demand by occupation group, relocations of non-capital
functions, vacancies; wages adjust to excess demand.</li>
<li><strong>Cities</strong>: house prices respond to demand over supply; housing supply and talent
housing grow; public services converge as the levers say.</li>
<li><strong>Demography</strong>: ageing, retirement and mortality; students enter and graduate;
inflows from the rest of China and abroad, outflows.</li>
<li><strong>Location choice</strong>: talents who consider moving choose among all nodes, staying
included, by a multinomial logit over wage, jobs, housing cost, public services, amenity,
agglomeration, distance, hukou and credential barriers and lever terms (位置选择, 多项Logit).</li>
<li><strong>Matching</strong>: movers and job seekers fill vacancies where they chose; the
unmatched are unemployed and search again.</li>
<li><strong>Flexible talent</strong>: part-time and multi-site service (柔性引才) counted as
full-time equivalents where it is served.</li>
<li><strong>Collect</strong>: stocks, flows, prices, wages, lever spending and indicators.</li>
</ol>
<p>Every behavioural coefficient is a parameter with a default, unit, bounds and source (see
<a href="#parameters">Parameters</a>); base-year data carry their provenance (see
<a href="#sources">Data sources</a>). The plan's targets are qualitative, so the model reports
measurable indicators (Hebei's share, the Beijing–Hebei density gap, the foreign share, high-end
talents per pole) at the milestone years 2020, 2025 and 2030.</p>
"""

EMBEDDED_FAMILY = "jjj-talent Noto Sans CJK SC"
"""The page's own copy of Noto Sans CJK SC: a WOFF2 subset of the characters it shows beyond ASCII
(``reports.fonts.font_face_css``), under a family name no system font has, named first in
``font-family`` (behind a system font Chromium draws bold Chinese as boxes rather than fall back), so
Chinese renders the same on a machine without CJK fonts; Latin text, not in the subset, keeps the
system font."""

CSS = """
body { font-family: "%(embedded)s", system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC",
  "PingFang SC", "Microsoft YaHei", sans-serif; max-width: 1120px; margin: 2rem auto; padding: 0 1rem;
  color: #222; line-height: 1.5; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.5rem; }
h3 { margin-top: 1.5rem; }
.muted { color: #666; }
.lead { font-size: 1.05rem; }
nav ol { columns: 2; font-size: 0.95rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.2rem; font-size: 0.88rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left;
  vertical-align: top; }
th { background: #f4f4f4; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.changed td { background: #fff6dd; font-weight: 600; }
figure { margin: 1.5rem 0 2rem; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.9rem; color: #444; margin-top: 0.3rem; }
details { margin: 0.4rem 0 1rem; }
details > summary { cursor: pointer; color: #0b5394; }
code { background: #f4f4f4; padding: 0 0.2rem; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; }
.url { color: #555; word-break: break-all; }
@page { margin: 15mm; }
@media print {
  body { max-width: none; margin: 0; color: #000; font-size: 10.5pt; }
  nav, details > summary { display: none; }
  details, details > * { display: block; }
  h2 { break-after: avoid; }
  figure, table, tr { break-inside: avoid; }
  figure img { border: none; max-height: 235mm; }
  a { color: inherit; text-decoration: none; }
}
""".replace("%(embedded)s", EMBEDDED_FAMILY)

SECTIONS = (
    ("summary", "Summary (概要)"),
    ("charts", "Charts (图表)"),
    ("indicators", "Indicators at milestone years (阶段指标)"),
    ("drivers", "Drivers (驱动因素)"),
    ("levers", "Lever spending (政策投入)"),
    ("notes", "Notes (说明)"),
    ("method", "Method (方法)"),
    ("assumptions", "Assumptions (假设)"),
    ("sources", "Data sources (数据来源)"),
    ("parameters", "Parameters (参数)"),
    ("manifest", "Manifest (运行记录)"),
)


# --- number formats -----------------------------------------------------------------------------


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def format_share(value: float) -> str:
    """A share in [0, 1] as a percentage with one decimal: 0.3604 -> ``36.0%``."""
    return f"{float(value) * 100:.1f}%" if _finite(value) else "–"


def format_persons(value: float) -> str:
    """Persons for headlines: ``19.40 million`` from a million up, else ``52,300``."""
    if not _finite(value):
        return "–"
    value = float(value)
    return f"{value / 1e6:,.2f} million" if abs(value) >= 1e6 else f"{value:,.0f}"


def format_count(value: float) -> str:
    return f"{float(value):,.0f}" if _finite(value) else "–"


def format_signed(value: float) -> str:
    """``+1,234`` / ``−1,234`` (minus sign) / ``0``."""
    if not _finite(value):
        return "–"
    text = f"{float(value):+,.0f}".replace("-", "−")
    return "0" if text in ("+0", "−0") else text


def format_number(value: Any) -> str:
    """A value of unknown meaning: from 100 up (and whole numbers) with separators and no
    decimals, below that three significant digits."""
    if not _finite(value):
        return "–" if value is None or str(value) in ("", "nan", "None") else str(value)
    number = float(value)
    if abs(number) >= 100 or number == int(number):
        return f"{number:,.0f}"
    return f"{number:.3g}"


def format_indicator(name: str, value: float) -> str:
    """An indicator value in the style its name implies (share, persons or plain number)."""
    if not _finite(value):
        return "–"
    if name.endswith("share") or name.endswith("_rate"):
        return format_share(value)
    if name.startswith(("talents.", "high_end.")) or name.endswith("_talents"):
        return format_count(value)
    if name.startswith(("population.", "tertiary_per_100k.")) or name == "bj_hb_density_gap":
        return f"{float(value):,.0f}"
    return format_number(value)


def format_cny_million(value: float) -> str:
    return f"{float(value) / 1e6:,.1f}" if _finite(value) else "–"


# --- HTML pieces --------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _table(
    header: Sequence[str] | None,
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Iterable[int] = (),
    row_classes: Sequence[str] | None = None,
) -> str:
    """An HTML table of escaped text (no header row if ``header`` is None); columns in
    ``numeric`` are right-aligned."""
    numeric = set(numeric)

    def cell(tag: str, index: int, value: Any) -> str:
        css = ' class="num"' if index in numeric else ""
        return f"<{tag}{css}>{_e(value)}</{tag}>"

    head = (
        ""
        if header is None
        else ("<thead><tr>" + "".join(cell("th", i, name) for i, name in enumerate(header)) + "</tr></thead>")
    )
    body = []
    for r, row in enumerate(rows):
        css = f' class="{_e(row_classes[r])}"' if row_classes and row_classes[r] else ""
        body.append(f"<tr{css}>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>")
    return f"<table>{head}<tbody>{''.join(body)}</tbody></table>"


def _section(anchor: str, title: str, content: str) -> str:
    return f'<section id="{anchor}">\n<h2>{_e(title)}</h2>\n{content}\n</section>'


def _p(text: str, css: str = "") -> str:
    klass = f' class="{css}"' if css else ""
    return f"<p{klass}>{_e(text)}</p>"


def _inline_markdown(text: str) -> str:
    """Escape ``text`` and render `code`, **strong**, *em* and [text](url) (url shown as text:
    the report links to nothing outside itself)."""
    parts = re.split(r"(`[^`]+`)", text)
    out = []
    for part in parts:
        if len(part) >= 2 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{_e(part[1:-1])}</code>")
            continue
        escaped = _e(part)
        escaped = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'\1 (<span class="url">\2</span>)', escaped)
        escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
        escaped = re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])", r"<em>\1</em>", escaped)
        out.append(escaped)
    return "".join(out)


def _markdown_row(tag: str, row: list[str], right: list[bool]) -> str:
    """Cells of a Markdown table row; ``right``: columns aligned right (``---:``)."""
    out = []
    for i, cell in enumerate(row):
        css = ' class="num"' if i < len(right) and right[i] else ""
        out.append(f"<{tag}{css}>{_inline_markdown(cell)}</{tag}>")
    return "".join(out)


def _split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def markdown_to_html(text: str, *, heading_offset: int = 2) -> str:
    """A small Markdown subset as HTML: ATX headings (shifted down by ``heading_offset`` so they
    nest under the report's sections), paragraphs, ``-``/``*``/``1.`` lists, pipe tables,
    fenced code, block quotes and rules. Everything else is text; all text is escaped."""
    lines = text.replace("\r\n", "\n").split("\n")
    out: list[str] = []
    paragraph: list[str] = []
    index = 0

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline_markdown(' '.join(paragraph))}</p>")
            paragraph.clear()

    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if not stripped:
            flush()
            index += 1
        elif stripped.startswith("```"):
            flush()
            code = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith("```"):
                code.append(lines[index])
                index += 1
            index += 1
            out.append(f"<pre><code>{_e(chr(10).join(code))}</code></pre>")
        elif match := re.match(r"(#{1,6})\s+(.*?)\s*#*\s*$", stripped):
            flush()
            level = min(len(match.group(1)) + heading_offset, 6)
            out.append(f"<h{level}>{_inline_markdown(match.group(2))}</h{level}>")
            index += 1
        elif re.fullmatch(r"(-{3,}|\*{3,}|_{3,})", stripped):
            flush()
            out.append("<hr>")
            index += 1
        elif (
            stripped.startswith("|")
            and index + 1 < len(lines)
            and re.fullmatch(r"\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?", lines[index + 1].strip())
        ):
            flush()
            header = _split_row(stripped)
            right = [cell.endswith(":") and not cell.startswith(":") for cell in _split_row(lines[index + 1])]
            index += 2
            rows = []
            while index < len(lines) and lines[index].strip().startswith("|"):
                rows.append(_split_row(lines[index]))
                index += 1
            head = _markdown_row("th", header, right)
            body = "".join(f"<tr>{_markdown_row('td', row, right)}</tr>" for row in rows)
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif re.match(r"\s*([-*+]|\d+[.)])\s+", line):
            flush()
            ordered = bool(re.match(r"\s*\d+[.)]\s+", line))
            items: list[str] = []
            while index < len(lines):
                current = lines[index]
                item = re.match(r"\s*(?:[-*+]|\d+[.)])\s+(.*)", current)
                if item:
                    items.append(item.group(1))
                elif current.strip() and current.startswith((" ", "\t")) and items:
                    items[-1] += " " + current.strip()  # continuation line
                else:
                    break
                index += 1
            tag = "ol" if ordered else "ul"
            body = "".join(f"<li>{_inline_markdown(item)}</li>" for item in items)
            out.append(f"<{tag}>{body}</{tag}>")
        elif stripped.startswith(">"):
            flush()
            quote = []
            while index < len(lines) and lines[index].strip().startswith(">"):
                quote.append(lines[index].strip().lstrip(">").strip())
                index += 1
            out.append(f"<blockquote><p>{_inline_markdown(' '.join(quote))}</p></blockquote>")
        else:
            paragraph.append(stripped)
            index += 1
    flush()
    return "\n".join(out)


# --- sections -----------------------------------------------------------------------------------


def _names(run: RunData) -> dict[str, str]:
    """Node id -> ``English (中文)`` short names."""
    english = node_names(run.layout, "en")
    chinese = node_names(run.layout, "zh")
    return {node: f"{english[node]} ({chinese[node]})" for node in english}


def indicator_label(name: str, node_labels: Mapping[str, str]) -> str | None:
    """A readable label for a known indicator, None for one the report does not know."""
    if name in FIXED_INDICATORS:
        return FIXED_INDICATORS[name]
    if match := re.fullmatch(r"talents\.(province|pole)\.(\w+)", name):
        kind, pole = match.groups()
        return f"Talents, {kind}: {POLE_TITLES.get(pole, pole)}"
    if match := re.fullmatch(r"high_end\.pole\.(\w+)", name):
        return f"High-end talents (高端人才), pole: {POLE_TITLES.get(match.group(1), match.group(1))}"
    if match := re.fullmatch(r"tertiary_per_100k\.(\w+)", name):
        return (
            f"Talents per 100,000 residents (每十万人人才数), province: "
            f"{POLE_TITLES.get(match.group(1), match.group(1))}"
        )
    if match := re.fullmatch(r"population\.province\.(\w+)", name):
        return f"Residents (常住人口), province: {POLE_TITLES.get(match.group(1), match.group(1))}"
    if match := re.fullmatch(r"talents\.([^.]+)", name):
        return f"Talents in {node_labels.get(match.group(1), match.group(1))}"
    return None


def table_years(run: RunData) -> list[int]:
    """The milestone years present in the run, with its first and last year."""
    present = set(int(year) for year in run.indicators["year"].dropna().unique())
    present |= set(run.years)
    if not present:
        return []
    wanted = {year for year in TABLE_YEARS if year in present} | {min(present), max(present)}
    return sorted(wanted)


def _value_at(series: pd.Series, year: int) -> float:
    return float(series.loc[year]) if year in series.index else float("nan")


def _summary(run: RunData) -> str:
    manifest = run.manifest
    years = run.years
    first, last = (years[0], years[-1]) if years else (None, None)
    region = indicator_series(run.indicators, "talents.jjj")
    share = indicator_series(run.indicators, "hebei_share")
    xiongan = indicator_series(run.indicators, "xiongan_talents")
    parts = [f'<p class="lead"><strong>{_e(manifest.get("scenario", "?"))}</strong>']
    if manifest.get("description"):
        parts[0] += f" — {_e(manifest['description'])}"
    parts[0] += "</p>"
    facts = [
        ("Scenario (情景)", manifest.get("scenario", "?")),
        ("Years (年份)", f"{first}–{last}" if years else "–"),
        ("Seed (随机种子)", manifest.get("seed", "–")),
        ("Scale (persons per agent row)", manifest.get("scale", "–")),
        ("Agent rows", format_number(manifest.get("agent_rows", "–"))),
        ("Created", manifest.get("created", "–")),
    ]
    parts.append(_table(None, facts))

    sentences = []
    if first is not None and last is not None and not region.empty:
        start, end = _value_at(region, first), _value_at(region, last)
        change = f" ({(end / start - 1) * 100:+.1f}%)" if _finite(start) and start else ""
        sentences.append(
            f"Talents in the region go from {format_persons(start)} in {first} to "
            f"{format_persons(end)} in {last}{change}."
        )
    if first is not None and last is not None and not share.empty:
        milestones = "; ".join(
            f"{year}: {format_share(_value_at(share, year))}"
            for year in MILESTONE_YEARS
            if year in share.index
        )
        text = (
            f"Hebei's share of the region's talents is {format_share(_value_at(share, first))} "
            f"in {first} and {format_share(_value_at(share, last))} in {last}"
        )
        sentences.append(text + (f" (at the plan's milestone years {milestones})." if milestones else "."))
    if last is not None and not xiongan.empty:
        sentences.append(f"Xiong'an has {format_persons(_value_at(xiongan, last))} talents in {last}.")
    if sentences:
        parts.append(_p(" ".join(sentences)))

    columns = table_years(run)
    rows = []
    for name in ("talents.jjj", "hebei_share", "xiongan_talents", "bj_hb_density_gap", "foreign_share"):
        series = indicator_series(run.indicators, name)
        if series.empty:
            continue
        rows.append(
            [FIXED_INDICATORS[name]] + [format_indicator(name, _value_at(series, year)) for year in columns]
        )
    if rows:
        parts.append("<h3>Headline numbers (主要指标)</h3>")
        parts.append(
            _table(["indicator"] + [str(year) for year in columns], rows, numeric=range(1, len(columns) + 1))
        )
    return "\n".join(parts)


def _charts(run: RunData, pngs: Mapping[str, Mapping[str, bytes]]) -> str:
    english = pngs.get("en", {})
    chinese = pngs.get("zh", {})
    parts = [
        _p(
            "Charts in English; each has a Chinese version below it. PNG and SVG files of "
            "both are in the run's charts/ folder.",
            "muted",
        )
    ]
    for name in CHART_NAMES:
        if name not in english and name not in chinese:
            continue
        parts.append(
            figure_html(
                name,
                english.get(name),
                chinese.get(name),
                f"{label(name, 'en')} ({label(name, 'zh')})",
                CHART_CAPTIONS.get(name, ""),
                label(name, "en"),
                label(name, "zh"),
            )
        )
    if "drivers" not in english:
        parts.append(_p("No drivers chart: the run recorded no driver decomposition.", "muted"))
    return "\n".join(parts)


def figure_html(
    name: str,
    english: bytes | None,
    chinese: bytes | None,
    title: str,
    caption: str,
    alt_en: str,
    alt_zh: str,
) -> str:
    """One chart as a figure: the English PNG, its caption, the Chinese PNG folded away."""
    figure = [f'<figure id="chart-{_e(name)}">']
    if english is not None:
        figure.append(_img(english, alt_en))
    figure.append(f"<figcaption><strong>{_e(title)}.</strong> {_e(caption)}</figcaption>")
    if chinese is not None:
        figure.append(
            f"<details><summary>中文图 (Chinese version)</summary>{_img(chinese, alt_zh)}</details>"
        )
    figure.append("</figure>")
    return "\n".join(figure)


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}">'


def _indicators(run: RunData) -> str:
    columns = table_years(run)
    header = ["indicator"] + [str(year) for year in columns]
    numeric = range(1, len(columns) + 1)
    node_labels = _names(run)
    names = list(dict.fromkeys(str(name) for name in run.indicators["indicator"].dropna()))

    def row(name: str, title: str) -> list[str]:
        series = indicator_series(run.indicators, name)
        return [title] + [format_indicator(name, _value_at(series, year)) for year in columns]

    known = [name for name in INDICATOR_ORDER if name in names]
    known += sorted(
        name
        for name in names
        if name not in known
        and not name.startswith("talents.")
        and indicator_label(name, node_labels) is not None
    )
    known += sorted(
        name for name in names if re.fullmatch(r"talents\.(province|pole)\.\w+", name) and name not in known
    )
    node_rows = [f"talents.{node}" for node in run.layout["node_id"] if f"talents.{node}" in names]
    node_rows += sorted(
        name
        for name in names
        if re.fullmatch(r"talents\.[^.]+", name) and name not in node_rows and name not in known
    )
    unknown = [name for name in names if name not in known and name not in node_rows]

    parts = [
        _p(
            "Values at the plan's milestone years and the run's first and last year. "
            "Shares are percentages; talents are persons.",
            "muted",
        )
    ]
    if known:
        parts.append(
            _table(
                header,
                [row(name, indicator_label(name, node_labels) or name) for name in known],
                numeric=numeric,
            )
        )
    if node_rows:
        parts.append("<h3>Talents by node (各节点人才)</h3>")
        parts.append(
            _table(
                ["node"] + header[1:],
                [row(name, indicator_label(name, node_labels) or name) for name in node_rows],
                numeric=numeric,
            )
        )
    if unknown:
        parts.append("<h3>Other indicators (其他指标)</h3>")
        parts.append(
            _p("Indicators this report has no label for, by their names in indicators.csv.", "muted")
        )
        parts.append(_table(header, [row(name, name) for name in unknown], numeric=numeric))
    structure = _structure(run)
    if structure:
        parts.append(structure)
    if not (known or node_rows or unknown):
        parts.append(_p("indicators.csv has no rows."))
    return "\n".join(parts)


def _structure(run: RunData) -> str:
    """Persons by pole and occupation group in the last year, from the stocks table."""
    stocks = run.stocks
    if stocks.empty:
        return ""
    last = int(stocks["year"].max())
    now = stocks[stocks["year"] == last]
    poles = dict(zip(run.layout["node_id"], run.layout["pole"], strict=True))
    now = now.assign(pole=now["node"].map(lambda node: poles.get(node, "other")))
    groups = list(
        dict.fromkeys(
            ["research", "engineering", "management", "professional", "skilled"]
            + sorted(now["group"].unique())
        )
    )
    groups = [group for group in groups if group in set(now["group"])]
    rows = []
    for pole in list(POLES) + sorted(set(now["pole"]) - set(POLES)):
        part = now[now["pole"] == pole]
        if part.empty:
            continue
        by_group = part.groupby("group")["persons"].sum()
        rows.append(
            [POLE_TITLES.get(pole, pole)]
            + [format_count(by_group.get(group, 0)) for group in groups]
            + [
                format_count(part.loc[part["is_high_end"].astype(bool), "persons"].sum()),
                format_count(part.loc[part["is_foreign"].astype(bool), "persons"].sum()),
                format_count(part["persons"].sum()),
            ]
        )
    header = (
        ["pole"]
        + [f"{group} ({label(group, 'zh')})" for group in groups]
        + ["high-end (高端)", "foreign (外籍)", "total"]
    )
    return (
        f"<h3>Talent structure in {last} (人才结构)</h3>"
        + _p(
            "Persons in stocks.parquet by pole and occupation group, all statuses "
            "(students, employed, unemployed, retired).",
            "muted",
        )
        + _table(header, rows, numeric=range(1, len(header)))
    )


def _drivers(run: RunData) -> str:
    drivers = run.drivers
    if drivers.empty:
        return _p("The run recorded no driver decomposition (drivers.csv is empty).")
    drivers = drivers.assign(persons=pd.to_numeric(drivers["persons"], errors="coerce").fillna(0))
    table = drivers.pivot_table(
        index="term", columns="province", values="persons", aggfunc="sum", fill_value=0
    )
    provinces = [p for p in POLES if p in table.columns] + [p for p in table.columns if p not in POLES]
    table = table[provinces]
    magnitude = table.abs().sum(axis=1).sort_values(ascending=False, kind="stable")
    table = table.loc[magnitude.index]

    def term_title(term: str) -> str:
        english, chinese = term_name(term, "en"), term_name(term, "zh")
        return english if english == chinese else f"{english} ({chinese})"

    top = []
    for term in magnitude.index[:3]:
        detail = ", ".join(
            f"{pole_name(p, 'en')} {format_signed(table.loc[term, p])}"
            for p in provinces
            if table.loc[term, p] != 0
        )
        top.append(f"{term_title(str(term))}: {format_count(magnitude[term])} persons ({detail})")
    sentence = (
        "The terms of the location choice that drive the largest changes (ranked by the "
        "provinces' net gains and losses added up without sign) are " + "; ".join(top) + "."
    )
    rows = [
        [term_title(str(term))]
        + [format_signed(table.loc[term, p]) for p in provinces]
        + [format_signed(table.loc[term].sum()), format_count(magnitude[term])]
        for term in table.index
    ]
    header = ["term"] + [POLE_TITLES.get(str(p), str(p)) for p in provinces] + ["net", "absolute"]
    return (
        _p(sentence)
        + _p(
            "Each cell: the net talents a province gained (+) or lost (−) over the run because of the term.",
            "muted",
        )
        + _table(header, rows, numeric=range(1, len(header)))
    )


def _levers(run: RunData) -> str:
    spending = run.lever_spending
    if spending.empty:
        return _p("No lever spending was recorded (lever_spending.csv is empty).")
    spending = spending.assign(cny=pd.to_numeric(spending["cny"], errors="coerce").fillna(0.0))
    provinces = dict(zip(run.layout["node_id"], run.layout["province"], strict=True))
    names = _names(run)
    spending = spending.assign(province=spending["node"].map(lambda node: provinces.get(node, "other")))
    columns = [p for p in POLES if p in set(spending["province"])] + sorted(
        set(spending["province"]) - set(POLES)
    )
    rows = []
    for lever, part in spending.groupby("lever", sort=True):
        years = part["year"].astype(int)
        nodes = ", ".join(names.get(node, str(node)) for node in dict.fromkeys(part["node"]))
        by_province = part.groupby("province")["cny"].sum()
        rows.append(
            [lever, f"{years.min()}–{years.max()}", nodes]
            + [format_cny_million(by_province.get(p, 0.0)) for p in columns]
            + [format_cny_million(part["cny"].sum())]
        )
    total = float(spending["cny"].sum())
    header = ["lever", "years", "nodes"] + [f"{POLE_TITLES.get(p, p)}" for p in columns] + ["total"]
    by_year = spending.pivot_table(index="year", columns="lever", values="cny", aggfunc="sum", fill_value=0.0)
    year_rows = [[int(year)] + [format_cny_million(v) for v in values] for year, values in by_year.iterrows()]
    return (
        _p(f"Levers spent CNY {format_cny_million(total)} million in all (amounts below in CNY million).")
        + _table(header, rows, numeric=range(3, len(header)))
        + "<details><summary>By year (按年份)</summary>"
        + _table(
            ["year"] + [str(c) for c in by_year.columns],
            year_rows,
            numeric=range(1, len(by_year.columns) + 1),
        )
        + "</details>"
    )


def _notes(run: RunData) -> str:
    if not run.notes:
        return _p("The run left no notes.")
    return "<ul>" + "".join(f"<li>{_e(note)}</li>" for note in run.notes) + "</ul>"


def _assumptions(text: str | None, source: str) -> str:
    if text is None:
        return _p(f"{source} is not written yet; the assumptions will appear here once it is.", "muted")
    return _p(f"From {source}.", "muted") + markdown_to_html(text)


def _sources(run: RunData) -> str:
    provenance = run.provenance
    if provenance.empty:
        return _p("The run has no provenance table (provenance.csv is empty).")
    counts = provenance["status"].value_counts()
    order = [s for s in STATUS_ORDER if s in counts.index] + sorted(
        s for s in counts.index if s not in STATUS_ORDER
    )
    total = int(counts.sum())
    rows = [[status, format_count(counts[status]), format_share(counts[status] / total)] for status in order]
    rows.append(["all", format_count(total), format_share(1.0)])
    columns = list(provenance.columns)
    values = [
        [_exact(value) if column == "value" else value for column, value in zip(columns, row)]
        for row in provenance[columns].astype(str).itertuples(index=False, name=None)
    ]
    full = _table(columns, values, numeric=[columns.index("value")] if "value" in columns else [])
    return (
        _p(
            "Base-year data by status: observed (published), derived (computed from published "
            "data), unverified (from a source not yet checked), assumption (set by the "
            "modellers)."
        )
        + _table(["status", "values", "share"], rows, numeric=(1, 2))
        + f"<details><summary>All {total} values (全部数据来源)</summary>{full}</details>"
    )


def _exact(value: str) -> str:
    """A data value for display: separators and no decimals from 100 up, else six significant
    digits; text stays as it is."""
    if not _finite(value):
        return value
    number = float(value)
    return f"{number:,.0f}" if abs(number) >= 100 else f"{number:.6g}"


def _parameters(run: RunData) -> str:
    parameters = run.parameters
    if parameters.empty:
        return _p("The run has no parameter table (parameters.csv is empty).")
    columns = [
        column
        for column in ("name", "value", "default", "unit", "lower", "upper", "meaning", "source")
        if column in parameters.columns
    ]
    rows = parameters[columns].astype(str).values.tolist()
    changed = [
        "changed" if _differs(row["value"], row["default"]) else "" for _, row in parameters.iterrows()
    ]
    numeric = [columns.index(c) for c in ("value", "default", "lower", "upper") if c in columns]
    note = (
        f"{sum(1 for c in changed if c)} of {len(rows)} parameters differ from their default (highlighted)."
    )
    return _p(note) + _table(columns, rows, numeric=numeric, row_classes=changed)


def _differs(value: Any, default: Any) -> bool:
    if _finite(value) and _finite(default):
        return not math.isclose(float(value), float(default), rel_tol=1e-12, abs_tol=0.0)
    return str(value).strip() != str(default).strip()


def _flatten(mapping: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            rows += _flatten(value, prefix=f"{name}.")
        elif key == "wall_seconds" and _finite(value):
            rows.append((name, f"{float(value):,.1f} s"))
        else:
            rows.append((name, str(value)))
    return rows


def _manifest(run: RunData) -> str:
    return _table(["key", "value"], _flatten(run.manifest))


# --- the page -----------------------------------------------------------------------------------


def default_assumptions_path() -> Path:
    return Path(str(resources.files("model").joinpath("data", "ASSUMPTIONS.md")))


def read_assumptions(path: Path | None = None) -> str | None:
    """The text of the assumptions file, None if it does not exist (yet)."""
    path = default_assumptions_path() if path is None else Path(path)
    return path.read_text(encoding="utf-8") if path.is_file() else None


def _text_sections(run: RunData, assumptions: str | None) -> dict[str, str]:
    """Every section but the charts, by anchor."""
    return {
        "summary": _summary(run),
        "indicators": _indicators(run),
        "drivers": _drivers(run),
        "levers": _levers(run),
        "notes": _notes(run),
        "method": METHOD_HTML,
        "assumptions": _assumptions(assumptions, "model/data/ASSUMPTIONS.md"),
        "sources": _sources(run),
        "parameters": _parameters(run),
        "manifest": _manifest(run),
    }


def html_page(
    *,
    title: str,
    generator: str,
    heading: str,
    subtitle: str,
    sections: Sequence[tuple[str, str, str]],
    footer: str,
) -> str:
    """A self-contained report page: ``sections`` are (anchor, title, html) in page order, each
    listed in the contents. ``subtitle`` and ``footer`` are HTML; the rest is escaped here."""
    toc = "".join(f'<li><a href="#{anchor}">{_e(name)}</a></li>' for anchor, name, _ in sections)
    body = "\n".join(_section(anchor, name, html) for anchor, name, html in sections)
    shown = html.unescape(re.sub(r"<[^>]*>", " ", " ".join((title, heading, subtitle, toc, body, footer))))
    fonts = font_face_css("".join(sorted({c for c in shown if ord(c) > 0x7F})), family=EMBEDDED_FAMILY)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="jjj-talent {_e(generator)}">
<title>{_e(title)}</title>
<style>{fonts}{CSS}</style>
</head>
<body>
<header>
<h1>{_e(heading)}</h1>
<p class="muted">{subtitle}</p>
</header>
<nav><ol>{toc}</ol></nav>
{body}
<footer><p class="muted">{footer}</p></footer>
</body>
</html>
"""


def _page(run: RunData, sections: Mapping[str, str]) -> str:
    scenario = str(run.manifest.get("scenario", "?"))
    years = run.years
    span = f"{years[0]}–{years[-1]}" if years else ""
    created = run.manifest.get("created", "")
    return html_page(
        title=f"{scenario} — jjj-talent run report",
        generator="reports/run_report.py",
        heading=f"Talent flows in Beijing–Tianjin–Hebei: {scenario}",
        subtitle=(
            f"jjj-talent run report (京津冀人才一体化模拟报告) · {_e(span)} · "
            f"seed {_e(run.manifest.get('seed', '–'))} · {_e(created)}"
        ),
        sections=[(anchor, title, sections[anchor]) for anchor, title in SECTIONS if anchor in sections],
        footer=(
            "Written by jjj-talent from the files in the run directory; every number is a "
            "model result for this scenario and seed, not an observation."
        ),
    )


def render_report(run: RunData, pngs: Mapping[str, Mapping[str, bytes]], assumptions: str | None) -> str:
    """The report page: ``pngs`` maps language -> chart name -> PNG bytes."""
    sections = dict(_text_sections(run, assumptions))
    sections["charts"] = _charts(run, pngs)
    return _page(run, sections)


def write_report(run_dir: Path, *, assumptions: Path | None = None) -> Path:
    """Draw the charts of the run in ``run_dir`` (both languages, into ``run_dir/charts/``) and
    write ``run_dir/report.html``; returns its path.

    The text sections are built before any file is written and every file is replaced
    atomically, so a failure leaves the previous report as it was. ``assumptions`` defaults to
    ``model/data/ASSUMPTIONS.md``; a missing file is reported in the page, not an error.
    """
    run_dir = Path(run_dir)
    run = read_run(run_dir)
    sections = dict(_text_sections(run, read_assumptions(assumptions)))
    pngs: dict[str, dict[str, bytes]] = {}
    for lang in LANGS:
        paths = write_charts(run_dir, run_dir / "charts", lang, run=run)
        pngs[lang] = {path.name.split(".")[0]: path.read_bytes() for path in paths if path.suffix == ".png"}
    sections["charts"] = _charts(run, pngs)
    return write_text(run_dir / "report.html", _page(run, sections))
