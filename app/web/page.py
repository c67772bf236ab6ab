"""The workbench page (Solara): pick a shipped scenario, edit its levers, check it, run it
against a reference, and keep the finished runs side by side.

Served by ``jjj-talent app`` (``solara run app.web.page``). Everything the page decides is in
``app/web/state.py``; this module only lays it out. Module-level reactive values are per
browser session in Solara, so two planners do not see each other's drafts or runs.
"""

from __future__ import annotations

import functools
import html
import io
import math
import tempfile
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import solara
import solara.lab

from app.web import state as st
from app.web.fonts import cjk_css
from model.errors import ScenarioError
from reports.compare_report import render_charts, write_compare_report

matplotlib.use("Agg")  # figures are drawn to PNG on the server; there is no display

CONTROLS = {control.lever: control for control in st.lever_controls()}
CJK_CSS = cjk_css()  # once, when the server loads the page, not when the first planner opens it

lang = solara.reactive("en")
base_name = solara.reactive(st.REFERENCE)
draft: solara.Reactive[dict[str, Any] | None] = solara.reactive(None)
lever = solara.reactive(next(iter(CONTROLS)))
reference_name = solara.reactive(st.REFERENCE)
replicates = solara.reactive(3)
scale_text = solara.reactive("")
end_year_text = solara.reactive("")
runs: solara.Reactive[list[st.RunJob]] = solara.reactive([])
current: solara.Reactive[st.RunJob | None] = solara.reactive(None)
done_runs = solara.reactive(0)
shown = solara.reactive("")
notice = solara.reactive("")
run_error = solara.reactive("")


def _load(name: str) -> None:
    data = st.draft_from_file(st.scenarios_folder() / f"{name}.yaml")
    draft.set(st.set_field(data, "name", f"{data['name']}-edited"))
    base_name.set(name)
    notice.set("")


def _scenario(name: str) -> Any:
    checked = st.check(st.draft_from_file(st.scenarios_folder() / f"{name}.yaml"))
    return checked.scenario


@solara.lab.task(prefer_threaded=True)
def run_task(comparison: Any) -> None:
    job = st.RunJob(name=f"{comparison.labels[-1]} · {len(runs.value) + 1}", total=comparison.runs)
    current.set(job)
    done_runs.set(0)
    st.execute(job, comparison, on_change=lambda j: done_runs.set(j.done))
    current.set(None)
    if job.status == "done":
        runs.set([*runs.value, job])
        shown.set(job.name)
        run_error.set("")
    else:
        run_error.set(f"{job.name}: {st.label(job.status, lang.value)}: {job.message}")


def _optional_int(text: str, key: str) -> int | None:
    if not text.strip():
        return None
    try:
        return int(text.strip())
    except ValueError:
        raise ScenarioError(f"{st.SOURCE}: {key}: value {text!r}: must be a whole number") from None


def _start_run(scenario: Any) -> None:
    try:
        reference = _scenario(reference_name.value)
        settings = st.RunSettings(
            replicates=replicates.value,
            scale=_optional_int(scale_text.value, "scale"),
            end_year=_optional_int(end_year_text.value, "end_year"),
        )
        comparison = st.plan_run(reference, scenario, settings)
    except ScenarioError as err:
        run_error.set(str(err))
        return
    run_error.set("")
    run_task(comparison)


@solara.component
def LeverEditor(data: dict[str, Any]) -> None:
    language = lang.value
    control = CONTROLS[lever.value]
    rows = st.lever_rows(data, control.lever)
    setting = (data.get("levers") or {}).get(control.lever) or {}

    def set_rows(new_rows: list[tuple[str, str]] | None, targets: dict[str, list[str]] | None = None) -> None:
        draft.set(st.set_lever(data, control.lever, new_rows, targets))

    title = control.title[language]
    where = control.section if title == control.lever else f"{control.lever}, {control.section}"
    with solara.Card(f"{title} ({where})"):
        solara.HTML(tag="p", unsafe_innerHTML=html.escape(control.meaning))
        solara.HTML(
            tag="p",
            unsafe_innerHTML=html.escape(
                f"{st.label('unit', language)}: {control.unit} · {st.label('bounds', language)}: "
                f"{control.bounds_text()}"
            ),
        )
        solara.Checkbox(
            label=st.label("lever_on", language),
            value=bool(rows),
            on_value=lambda on: set_rows([(st.DEFAULT_DATE, st.number_text(control.lower))] if on else None),
        )
        if not rows:
            return
        for index, (date, value) in enumerate(rows):

            def change(i: int, column: int, text: str) -> None:
                new = [list(row) for row in rows]
                new[i][column] = text
                set_rows([(row[0], row[1]) for row in new])

            def remove(i: int) -> None:
                set_rows([row for k, row in enumerate(rows) if k != i] or None)

            with solara.Row():
                solara.InputText(
                    st.label("date", language),
                    value=date,
                    on_value=functools.partial(change, index, 0),
                    classes=["lever-date"],
                )
                solara.InputText(
                    f"{st.label('value', language)} ({control.unit})",
                    value=value,
                    on_value=functools.partial(change, index, 1),
                    classes=["lever-value"],
                )
                solara.Button(
                    st.label("remove", language),
                    on_click=functools.partial(remove, index),
                    text=True,
                    disabled=len(rows) == 1,
                )
        solara.Button(
            st.label("add_row", language),
            on_click=lambda: set_rows([*rows, st.next_row(rows, control)]),
            text=True,
        )

        def set_targets(kind: str, names: list[str]) -> None:
            set_rows(rows, {kind: names})

        for kind, (choices, default) in control.targets.items():
            chosen = list(setting.get(kind) or default)
            solara.SelectMultiple(
                st.label(kind, language),
                values=chosen,
                all_values=list(choices),
                on_value=functools.partial(set_targets, kind),
            )


@solara.component
def Results() -> None:
    language = lang.value
    finished = runs.value
    solara.HTML(tag="h2", unsafe_innerHTML=html.escape(st.label("runs", language)))
    if not finished:
        solara.Text(st.label("no_runs", language))
        return
    solara.HTML(tag="div", unsafe_innerHTML=_runs_table(finished, language), classes=["runs-table"])
    names = [job.name for job in finished]
    solara.Select(st.label("show_run", language), values=names, value=shown)
    job = next((job for job in finished if job.name == shown.value), finished[-1])
    RunView(job, language)


@solara.component
def RunView(job: st.RunJob, language: str) -> None:
    images = solara.use_memo(lambda: _chart_pngs(job, language), dependencies=[job.name, language])
    with solara.Columns([1, 1]):
        for name in ("hebei_share", "effect_by_pole"):
            if name in images:
                solara.Image(images[name], width="100%")
    with solara.Columns([1, 1]):
        for name in ("effect_by_node", "spending"):
            if name in images:
                solara.Image(images[name], width="100%")
    assert job.tables is not None
    solara.HTML(tag="h3", unsafe_innerHTML=html.escape(st.label("effects_title", language)))
    solara.HTML(tag="div", unsafe_innerHTML=_table(st.effects_by_place(job.tables)))
    solara.HTML(tag="h3", unsafe_innerHTML=html.escape(st.label("spending_title", language)))
    solara.HTML(tag="div", unsafe_innerHTML=_table(st.cost_table(job.tables)))
    solara.FileDownload(
        lambda: _report_html(job, language),
        filename=f"{job.name.split(' ')[0]}-report.html",
        label=st.label("download_report", language),
        mime_type="text/html",
    )


def _chart_pngs(job: st.RunJob, language: str) -> dict[str, bytes]:
    assert job.comparison is not None and job.tables is not None
    pngs = {}
    for name, figure in render_charts(job.comparison, job.tables, language).items():
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=90)
        pngs[name] = buffer.getvalue()
    return pngs


def _report_html(job: st.RunJob, language: str) -> bytes:
    """The comparison report in the page's language."""
    assert job.comparison is not None and job.tables is not None
    with tempfile.TemporaryDirectory(prefix="jjj-talent-report-") as folder:
        path = write_compare_report(Path(folder), job.comparison, job.tables, job.manifest, lang=language)
        return path.read_bytes()


def _runs_table(finished: list[st.RunJob], language: str) -> str:
    rows = []
    for job in finished:
        head = st.headline(job)
        settings = job.manifest
        rows.append(
            {
                "run": job.name,
                "reference": head["reference"],
                "replicates": head["replicates"],
                "scale": settings.get("scale"),
                "years": f"{settings.get('start_year')}–{head['year']}",
                st.label("hebei_share", language, year=head["year"])
                + " (ref)": f"{head['reference_share']:.4f}",
                st.label("hebei_share", language, year=head["year"]): f"{head['scenario_share']:.4f}",
                st.label("effect", language) + " [90%]": (
                    f"{head['effect']:+.4f} [{head['effect_low']:+.4f}, {head['effect_high']:+.4f}]"
                ),
                "s": f"{job.seconds:.0f}",
            }
        )
    return _table(pd.DataFrame(rows))


def _table(frame: pd.DataFrame) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            if math.isnan(value):
                return ""
            return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.0f}"
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return (
        '<table style="border-collapse:collapse;font-size:13px" border="1" cellpadding="3">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


@solara.component
def Page() -> None:
    if draft.value is None:
        _load(base_name.value)
    data = draft.value
    assert data is not None
    language = lang.value
    checked = st.check(data)
    shipped = st.shipped_scenarios()
    solara.Title(st.label("title", language))
    solara.Style(CJK_CSS)
    job = current.value

    with solara.Sidebar():
        solara.Button(
            st.label("language", language),
            on_click=lambda: lang.set("zh" if lang.value == "en" else "en"),
            classes=["lang-switch"],
        )
        solara.Select(st.label("start_from", language), values=shipped, value=base_name.value, on_value=_load)
        solara.InputText(
            st.label("name", language),
            value=str(data.get("name", "")),
            on_value=lambda text: draft.set(st.set_field(data, "name", text.strip())),
        )
        solara.Select(st.label("reference", language), values=shipped, value=reference_name)
        solara.SliderInt(
            f"{st.label('replicates', language)}: {replicates.value}",
            value=replicates,
            min=st.REPLICATES[0],
            max=st.REPLICATES[1],
        )
        solara.InputText(
            st.label("scale", language) + f" ({data.get('scale')})", value=scale_text, classes=["run-scale"]
        )
        solara.InputText(
            st.label("end_year", language) + f" ({data.get('end_year')})",
            value=end_year_text,
            classes=["run-end"],
        )
        with solara.Row():
            solara.Button(
                st.label("run", language),
                on_click=lambda: _start_run(checked.scenario),
                disabled=not checked.ok or job is not None,
                color="primary",
                classes=["run-button"],
            )
            solara.Button(
                st.label("cancel", language),
                on_click=lambda: job.cancel() if job is not None else None,
                disabled=job is None,
                classes=["cancel-button"],
            )
        if job is not None:
            solara.Text(f"{st.label('running', language)} {job.name}: {done_runs.value}/{job.total}")
            solara.ProgressLinear(100 * done_runs.value / max(job.total, 1) if done_runs.value else True)
        if run_error.value:
            solara.Error(run_error.value, classes=["run-error"])
        if checked.ok:
            assert checked.scenario is not None
            text = st.scenario_yaml(checked.scenario, _scenario(st.REFERENCE))
            with solara.Row():
                solara.Button(st.label("save", language), on_click=lambda: _save(text, checked.scenario.name))
                solara.FileDownload(
                    text.encode("utf-8"),
                    filename=f"{checked.scenario.name}.yaml",
                    label=st.label("download_yaml", language),
                    mime_type="text/yaml",
                )
        if notice.value:
            solara.Info(notice.value)

    with solara.Column(style={"padding": "0 24px 24px 24px"}):
        Main(data, checked, language)


@solara.component
def Main(data: dict[str, Any], checked: st.Checked, language: str) -> None:
    if checked.ok:
        solara.Success(st.label("valid", language), classes=["validation"])
    else:
        solara.Error(st.label("invalid", language), classes=["validation"])
        solara.HTML(tag="pre", unsafe_innerHTML=html.escape(checked.message), classes=["validation-message"])
    set_levers = [name for name in CONTROLS if name in (data.get("levers") or {})]
    solara.Text(f"{st.label('levers_set', language)}: {', '.join(set_levers) or '—'}")
    solara.Select(st.label("lever", language), values=list(CONTROLS), value=lever, classes=["lever-select"])
    LeverEditor(data)
    Results()


def _save(text: str, name: str) -> None:
    try:
        path = st.save_scenario(text, name)
    except ScenarioError as err:
        notice.set(str(err))
        return
    notice.set(f"{path}: jjj-talent run {path}")
