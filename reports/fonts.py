"""Chinese text that renders anywhere: in charts, in SVG files and in HTML pages.

One font for everything: Noto Sans CJK SC (Regular) from the ``noto-cjk-sans-otc`` wheel (SIL Open
Font Licence), so nothing depends on the fonts of the machine that draws or shows a report.

- charts: ``register_cjk_font`` puts the family first in matplotlib's ``font.family`` (a family in
  ``font.sans-serif`` alone did not fall back to it).
- SVG: ``svg_bytes`` writes text as paths (``svg.fonttype = "path"``), so an SVG shows its Chinese
  labels on a machine without the font; the cost is file size (see ``svg_bytes``).
- HTML: ``font_face_css`` returns an ``@font-face`` rule whose ``src`` is a WOFF2 subset of the
  font, base64 in a ``data:`` URL, holding exactly the characters of the page (fontTools; the
  WOFF2 flavour needs ``brotli``).
"""

from __future__ import annotations

import base64
import io
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure

from model.errors import JJJError

CJK_FAMILY = "Noto Sans CJK SC"
FONT_PACKAGE = "noto_cjk_sans_otc"
FONT_FILE = "NotoSansCJK-Regular.ttc"
# OpenType name table: name ID 1 is the font family (the collection holds JP, KR, SC, TC and HK).
FAMILY_NAME_ID = 1


def font_path() -> Path:
    """Path of the Noto Sans CJK collection shipped by ``noto-cjk-sans-otc``."""
    try:
        path = Path(str(resources.files(FONT_PACKAGE).joinpath(FONT_FILE)))
    except ModuleNotFoundError as error:
        raise JJJError(
            "Chinese text needs the noto-cjk-sans-otc package (pip install noto-cjk-sans-otc)"
        ) from error
    if not path.is_file():
        raise JJJError(f"the noto-cjk-sans-otc package has no font file at {path}")
    return path


def register_cjk_font() -> str:
    """Register Noto Sans CJK with matplotlib and put it first in ``font.family``; idempotent.

    Returns the family name. The font's Latin glyphs serve English labels too, so both languages
    look alike; the families that were there stay behind it as fallback.
    """
    path = font_path()
    if path not in {Path(entry.fname) for entry in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(path))
    families = matplotlib.rcParams["font.family"]
    matplotlib.rcParams["font.family"] = [CJK_FAMILY] + [
        family for family in families if family != CJK_FAMILY
    ]
    return CJK_FAMILY


def svg_bytes(figure: Figure) -> bytes:
    """The figure as SVG with every glyph drawn as a path, so it needs no font where it is shown.

    Each distinct glyph is stored once (``<defs>``) and reused, so the cost grows with the number of
    distinct characters, measured at about 1 KB per CJK character and 0.6 KB per Latin one (a
    chart with 46 distinct Chinese characters: 55 KB against 10 KB with text kept as text; a node
    map: 570-620 KB against 530-600 KB, most of it the boundaries). No date and a fixed hash salt,
    so the same figure gives the same bytes.
    """
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "jjj-talent"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


@cache
def _font_number(path: Path, family: str) -> int:
    """Index of ``family`` in the collection at ``path``."""
    from fontTools.ttLib import TTCollection

    collection = TTCollection(str(path), lazy=True)
    for number, font in enumerate(collection.fonts):
        if font["name"].getDebugName(FAMILY_NAME_ID) == family:
            return number
    raise JJJError(f"{path} holds no font named {family!r}")


def subset_woff2(text: str) -> bytes:
    """WOFF2 bytes of Noto Sans CJK SC holding exactly the characters of ``text`` (and .notdef)."""
    return _subset_woff2("".join(sorted(set(text))))


@lru_cache(maxsize=32)
def _subset_woff2(characters: str) -> bytes:
    from fontTools.subset import Options, Subsetter
    from fontTools.ttLib import TTFont

    path = font_path()
    options = Options()
    options.flavor = "woff2"
    # No OpenType layout features: a feature (vertical forms, ligatures) would pull in glyphs for
    # characters the page does not have. Horizontal CJK and Latin text needs none of them.
    options.layout_features = []
    options.hinting = False  # browsers ignore CFF hints at screen sizes; dropping them saves bytes
    options.desubroutinize = True  # WOFF2's compression does better on plain charstrings
    options.notdef_outline = False
    font = TTFont(str(path), fontNumber=_font_number(path, CJK_FAMILY), lazy=False)
    subsetter = Subsetter(options=options)
    subsetter.populate(text=characters)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.flavor = "woff2"
    try:
        font.save(buffer)
    except ImportError as error:  # fontTools raises this when brotli is missing
        raise JJJError("embedding a WOFF2 font needs the brotli package (pip install brotli)") from error
    return buffer.getvalue()


def font_face_css(text: str, family: str = CJK_FAMILY) -> str:
    """An ``@font-face`` rule embedding the glyphs of ``text`` as a base64 WOFF2 subset.

    Put it in the page's ``<style>`` and name ``family`` first in ``font-family``. Cached per set of
    characters, so pages sharing their characters subset the font once.
    """
    if not text:
        return ""
    if '"' in family or "\\" in family:
        raise ValueError(f"font family {family!r}: quotes and backslashes are not allowed")
    data = base64.b64encode(subset_woff2(text)).decode("ascii")
    return (
        "@font-face {\n"
        f'  font-family: "{family}";\n'
        f'  src: url("data:font/woff2;base64,{data}") format("woff2");\n'
        "  font-style: normal;\n"
        "  font-weight: 100 900;\n"  # every weight: bold headings use it too (else Chromium falls back past it)
        "  font-display: block;\n"
        "}\n"
    )
