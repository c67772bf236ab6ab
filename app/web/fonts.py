"""Chinese text in the page on any machine: the Noto Sans CJK glyphs the page uses, embedded as
a web font.

Solara's theme uses Roboto, which has no Chinese glyphs, and a machine without CJK system fonts
(a server, CI's Chromium) shows boxes. ``cjk_css`` subsets Noto Sans CJK SC (the font the
charts already use, from ``noto-cjk-sans-otc``) to the characters of the page's text and puts it
behind Roboto in every element's font list, so Latin text keeps Roboto and Chinese text falls
back to Noto wherever it appears (a face added to the Roboto family itself loses to Roboto's
own faces, which claim every code point). About 80 KB (WOFF) and 3 s, once per server process.
"""

from __future__ import annotations

import base64
import functools
import io
from importlib import resources
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

from reports.charts import CJK_FAMILY, FONT_FILE, FONT_PACKAGE

FAMILY = "Workbench CJK"
CJK_RANGES = "U+2E80-2FFF, U+3000-303F, U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF, U+FF00-FFEF"
"""Unicode ranges the embedded face serves: CJK radicals, punctuation, ideographs, full-width forms."""


def page_text() -> str:
    """Every Chinese text the page can show: its labels, and the levers' names and meanings."""
    from app.web.state import LABELS, lever_controls

    labels = "".join(text for texts in LABELS.values() for text in texts.values())
    levers = "".join(c.title["zh"] + c.meaning + c.section for c in lever_controls())
    return labels + levers


@functools.cache
def cjk_css() -> str:
    """A ``@font-face`` rule for the subset (``FAMILY``, ``CJK_RANGES``) and a rule putting it
    behind Roboto everywhere but in icons."""
    path = Path(str(resources.files(FONT_PACKAGE).joinpath(FONT_FILE)))
    collection = TTCollection(str(path))
    font = next(f for f in collection.fonts if CJK_FAMILY in str(f["name"].getDebugName(1)))
    subsetter = subset.Subsetter()
    subsetter.populate(text="".join(sorted(set(page_text()))))
    subsetter.subset(font)
    font.flavor = "woff"  # zlib-compressed; WOFF2 would need the brotli package
    buffer = io.BytesIO()
    font.save(buffer)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'@font-face {{ font-family: "{FAMILY}"; font-weight: 100 900; '
        f"src: url(data:font/woff;base64,{data}) format('woff'); unicode-range: {CJK_RANGES}; }}\n"
        f'.v-application, .v-application *:not(.v-icon):not(.mdi):not(pre) {{ font-family: Roboto, "{FAMILY}", '
        "sans-serif !important; }\n"
    )
