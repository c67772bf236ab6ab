"""The workbench in a real browser: `jjj-talent app` on 127.0.0.1, driven by Playwright with
Debian's Chromium. The page loads (not just Solara's "Loading app"), a bad value shows the
files' validation message, an edited lever run at a coarse scale shows its effect against the
baseline, and the language switch turns the page into Chinese. A screenshot goes to
outputs/browser/app.png.

Skipped when /usr/bin/chromium (``apt-get install -y chromium``) or Playwright is missing,
unless ``CI=true``: then a missing browser fails the run.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_browser

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "outputs" / "browser" / "app.png"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_browser()
    port = _free_port()
    log = tmp_path_factory.mktemp("app") / "server.log"
    env = {**os.environ, "MPLCONFIGDIR": str(ROOT / ".tmp" / "matplotlib")}
    command = [str(Path(sys.executable).with_name("jjj-talent")), "app", "--port", str(port)]
    with log.open("wb") as out:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`jjj-talent app` did not serve {url}:\n{log.read_text(errors='replace')}")
            time.sleep(0.5)
        assert f"open {url}" in log.read_text()
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


def _shares(text: str) -> list[float]:
    """Numbers of the runs table's first row after the run name: reference and scenario share."""
    return [float(x) for x in re.findall(r"\b0\.\d{4}\b", text)]


def test_edit_validate_run_and_switch_language(app_url: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(30_000)
            started = time.monotonic()
            page.goto(app_url)
            expect(page.get_by_text("The scenario is valid.")).to_be_visible(timeout=30_000)
            expect(page.get_by_text("Loading app")).to_have_count(0)
            expect(page.get_by_text("No run yet.")).to_be_visible()

            # a coarse run: 2 replicates, 4000 persons a row, to 2019
            slider = page.get_by_role("slider")
            slider.focus()
            slider.press("ArrowLeft")
            expect(slider).to_have_attribute("aria-valuenow", "2")
            page.get_by_label(re.compile("^Persons per talent row")).fill("4000")
            page.get_by_label(re.compile("^Persons per talent row")).press("Enter")
            page.get_by_label(re.compile("^Last year")).fill("2019")
            page.get_by_label(re.compile("^Last year")).press("Enter")

            # switch graduate_subsidy on, then type a value above its bound
            page.get_by_text("Set in this scenario").click()
            value = page.get_by_label("Value (CNY per graduate)")
            expect(value).to_have_value("0")
            value.fill("9999999")
            value.press("Enter")
            message = page.locator(".validation-message")
            expect(message).to_contain_text("levers.graduate_subsidy.values.2017-07-01: value 9999999.0")
            expect(message).to_contain_text("allowed: 0 to 500000 (CNY per graduate)")
            expect(page.get_by_role("button", name="Run")).to_be_disabled()

            value.fill("200000")
            value.press("Enter")
            expect(page.get_by_text("The scenario is valid.")).to_be_visible()
            expect(page.get_by_text("Levers set: graduate_subsidy")).to_be_visible()
            print(f"page loaded and edited in {time.monotonic() - started:.1f} s")
            page.get_by_role("button", name="Run").click()
            table = page.locator(".runs-table")
            expect(table).to_be_visible(timeout=90_000)
            expect(table).to_contain_text("baseline-edited · 1")
            expect(table).to_contain_text("2015–2019")
            row = table.locator("tbody tr").first.inner_text()
            reference, scenario = _shares(row)[:2]
            assert 0 < reference < 1 and 0 < scenario < 1
            # the subsidy reached the run: the region keeps more of Beijing's and Tianjin's
            # graduates (Hebei's share need not move at four decimals: Hebei gains about its
            # share of what the region gains)
            region = page.locator("tr").filter(has=page.locator("td", has_text=re.compile(r"^jjj$"))).first
            cells = [cell.replace(",", "") for cell in region.locator("td").all_inner_texts()]
            reference_talents, scenario_talents = float(cells[1]), float(cells[2])
            assert scenario_talents > reference_talents
            expect(page.locator("img").first).to_be_visible()  # the charts
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)

            print(f"run shown after {time.monotonic() - started:.1f} s")
            page.get_by_role("button", name="中文").click()
            expect(page.get_by_text("情景有效。")).to_be_visible(timeout=30_000)
            expect(page.get_by_text("运行结果")).to_be_visible(timeout=30_000)
            # the Chinese text is drawn with the embedded font, not as boxes of a missing one
            print(f"Chinese shown after {time.monotonic() - started:.1f} s")
            loaded = page.evaluate(
                "() => [...document.fonts].filter(f => f.family.includes('Workbench CJK')).map(f => f.status)"
            )
            assert loaded == ["loaded"]
            width = page.evaluate(
                "() => { const c = document.createElement('canvas').getContext('2d');"
                " c.font = '20px \"Workbench CJK\"'; const cjk = c.measureText('情景有效').width;"
                " c.font = '20px monospace'; return [cjk, c.measureText('情景有效').width]; }"
            )
            assert width[0] == pytest.approx(80, abs=2)  # four full-width glyphs of 20 px
        finally:
            browser.close()
