"""In a real browser, Chinese text renders with the embedded font subset.

Chromium (Debian's, at ``/usr/bin/chromium``) is driven by Playwright. The embedded font gets a
family name no system font has, and the test asks Chromium itself which font drew the glyphs
(DevTools ``CSS.getPlatformFontsForNode``) and checks the rendered width against the advance widths
in the subset, so it proves the embedded font renders even where system CJK fonts are installed.
Where none are (``fc-list :lang=zh`` finds nothing), it also shows that without the ``@font-face``
the same text renders differently (as missing-glyph boxes).

Skipped when Chromium or Playwright is missing, except with ``CI=true``, where that fails.
"""

from __future__ import annotations

import html
import io
import shutil
import subprocess
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from reports.fonts import font_face_css, subset_woff2
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, require_browser

pytestmark = pytest.mark.browser

EMBEDDED_FAMILY = "JJJ Embedded Noto CJK Test"  # unique: no system font can answer to it
MISSING_FAMILY = "JJJ No Such Font"
TEXT = "京津冀人才一体化 Hebei 2030"
FONT_SIZE_PX = 32
SCREENSHOTS = Path(__file__).resolve().parent.parent / "outputs" / "browser"


@pytest.fixture(scope="module")
def page():
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 300})
            yield page
        finally:
            browser.close()


def _system_has_cjk_fonts() -> bool:
    if shutil.which("fc-list") is None:
        return False
    found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


def _expected_width_px(text: str) -> float:
    """Width of ``text`` in the subset font at FONT_SIZE_PX: the sum of its advance widths."""
    font = TTFont(io.BytesIO(subset_woff2(text)))
    cmap, metrics = font.getBestCmap(), font["hmtx"].metrics
    units = sum(metrics[cmap[ord(character)]][0] for character in text)
    return units * FONT_SIZE_PX / font["head"].unitsPerEm


def _page_html(text: str) -> str:
    escaped = html.escape(text)
    return f"""<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><style>
{font_face_css(text, family=EMBEDDED_FAMILY)}
span {{ font-size: {FONT_SIZE_PX}px; white-space: pre; }}
#embedded {{ font-family: "{EMBEDDED_FAMILY}"; }}
#fallback {{ font-family: "{MISSING_FAMILY}"; }}
</style></head><body>
<p><span id="embedded">{escaped}</span></p>
<p><span id="fallback">{escaped}</span></p>
</body></html>"""


def _platform_fonts(page, selector: str) -> list[dict]:
    """The fonts Chromium used to draw the text of ``selector``'s element."""
    session = page.context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    root = session.send("DOM.getDocument")["root"]["nodeId"]
    node = session.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts = session.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    session.detach()
    return fonts


def test_chinese_text_renders_with_the_embedded_font(page):
    page.set_content(_page_html(TEXT))
    page.evaluate("document.fonts.ready")
    faces = page.evaluate("[...document.fonts].map(face => [face.family, face.status])")
    assert [f'"{EMBEDDED_FAMILY}"', "loaded"] in faces or [EMBEDDED_FAMILY, "loaded"] in faces
    rule = page.evaluate("document.styleSheets[0].cssRules[0].constructor.name")
    assert rule == "CSSFontFaceRule"  # the CSS parsed

    # Chromium drew every glyph of the text (spaces included) with the embedded web font.
    fonts = _platform_fonts(page, "#embedded")
    assert [font["isCustomFont"] for font in fonts] == [True], fonts
    assert fonts[0]["familyName"] == "Noto Sans CJK SC"
    assert fonts[0]["glyphCount"] == len(TEXT)

    width = page.evaluate("document.getElementById('embedded').getBoundingClientRect().width")
    assert width == pytest.approx(_expected_width_px(TEXT), abs=1.0)

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "embedded-cjk-font.png"))


def test_without_the_font_face_the_text_renders_differently(page):
    if _system_has_cjk_fonts():
        pytest.skip("this machine has system CJK fonts; the embedded font is proved by the test above")
    page.set_content(_page_html(TEXT))
    page.evaluate("document.fonts.ready")
    fonts = _platform_fonts(page, "#fallback")
    assert not any(font["isCustomFont"] for font in fonts), fonts
    widths = page.evaluate(
        "['embedded', 'fallback'].map(id => document.getElementById(id).getBoundingClientRect().width)"
    )
    chinese = TEXT.split(" ")[0]
    assert abs(widths[0] - widths[1]) > 0.05 * _expected_width_px(chinese), widths


def test_a_run_report_draws_its_chinese_with_its_own_font_and_prints(page, tmp_path, reported_fake_run):
    from reports.run_report import EMBEDDED_FAMILY as REPORT_FAMILY

    report = reported_fake_run[0] / "report.html"
    page.set_viewport_size({"width": 1200, "height": 900})
    page.goto(report.as_uri())
    page.evaluate("document.fonts.ready")
    faces = page.evaluate("[...document.fonts].map(face => [face.family.replaceAll('\"', ''), face.status])")
    assert [REPORT_FAMILY, "loaded"] in faces
    # The contents list mixes English and Chinese: the Chinese glyphs come from the embedded font.
    item = page.locator("nav li").first.inner_text()
    chinese = [character for character in item if ord(character) > 0x7F and not character.isspace()]
    assert chinese, item
    fonts = _platform_fonts(page, "nav li")
    embedded = [font for font in fonts if font["isCustomFont"]]
    assert embedded and embedded[0]["familyName"] == "Noto Sans CJK SC", fonts
    assert embedded[0]["glyphCount"] >= len(chinese)
    heading = [font for font in _platform_fonts(page, "#summary h2") if font["isCustomFont"]]
    assert heading, "bold Chinese headings use the embedded font too"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "run-report.png"))
    pdf = page.pdf(format="A4", print_background=True)  # the print stylesheet
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") > 2
