"""Chinese text without system fonts: the WOFF2 subset, its ``@font-face`` rule, SVG glyphs as paths."""

from __future__ import annotations

import base64
import io
import re
import warnings
import xml.etree.ElementTree as ET

import matplotlib
from fontTools.ttLib import TTFont
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reports.fonts import CJK_FAMILY, font_face_css, register_cjk_font, subset_woff2, svg_bytes

TEXT = "京津冀人才 Hebei 2030"
SVG_NS = "{http://www.w3.org/2000/svg}"


def _font(data: bytes) -> TTFont:
    return TTFont(io.BytesIO(data))


def test_subset_holds_exactly_the_characters_of_the_text():
    font = _font(subset_woff2(TEXT))
    assert font.flavor == "woff2"
    assert {chr(code) for code in font.getBestCmap()} == set(TEXT)
    # One glyph per distinct character, and .notdef, which every font must have.
    assert len(font.getGlyphOrder()) == len(set(TEXT)) + 1
    assert "冀" in TEXT and ord("北") not in font.getBestCmap()


def test_subset_is_cached_per_set_of_characters():
    assert subset_woff2(TEXT) is subset_woff2(TEXT)
    assert subset_woff2("京津冀") is subset_woff2("冀京津京")


def test_font_face_rule_embeds_the_subset_as_base64_woff2():
    css = font_face_css(TEXT, family="JJJ Test CJK")
    lines = css.splitlines()
    assert lines[0] == "@font-face {" and lines[-1] == "}"
    declarations = dict(re.fullmatch(r"  ([a-z-]+): (.+);", line).groups() for line in lines[1:-1])
    assert declarations["font-family"] == '"JJJ Test CJK"'
    source = re.fullmatch(
        r'url\("data:font/woff2;base64,([A-Za-z0-9+/=]+)"\) format\("woff2"\)', declarations["src"]
    )
    assert source
    assert base64.b64decode(source.group(1)) == subset_woff2(TEXT)
    assert font_face_css("") == ""


def test_registered_font_draws_chinese_without_missing_glyphs():
    assert register_cjk_font() == CJK_FAMILY
    assert matplotlib.rcParams["font.family"][0] == CJK_FAMILY
    figure = Figure()
    FigureCanvasAgg(figure)
    figure.suptitle("河北省人才占比")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" is a warning
        figure.canvas.draw()


def test_svg_has_its_glyphs_as_paths_and_no_text_elements():
    register_cjk_font()
    figure = Figure(figsize=(3, 2))
    FigureCanvasAgg(figure)
    figure.suptitle("河北省人才占比 Hebei share")
    figure.add_subplot().plot([0, 1], [0, 1])
    data = svg_bytes(figure)
    root = ET.fromstring(data)
    assert not list(root.iter(f"{SVG_NS}text"))
    # Each distinct glyph is defined once as a path and used where it appears.
    glyph_ids = {element.get("id") for element in root.iter(f"{SVG_NS}path") if element.get("id")}
    assert len([glyph for glyph in glyph_ids if "-" in glyph]) >= len(set("河北省人才占比Hebeisr"))
    assert svg_bytes(figure) == data  # no date, fixed ids: the same figure gives the same bytes
