"""Chinese text in the page on any machine: the Noto Sans CJK glyphs the page uses, embedded as
a web font.

Solara's theme uses Roboto, which has no Chinese glyphs, and a machine without CJK system fonts
(a server, CI's Chromium) shows boxes. ``cjk_css`` subsets Noto Sans CJK SC (the font the
charts already use, from ``noto-cjk-sans-otc``) to the characters of the page's text and puts it
behind Roboto in every element's font list, so Latin text keeps Roboto and Chinese text falls
back to Noto wherever it appears (a face added to the Roboto family itself loses to Roboto's
own faces, which claim every code point). The subset is ``reports.fonts.font_face_css``'s WOFF2;
it takes about 3 s, once per server process.
"""

from __future__ import annotations

import functools

from reports.fonts import font_face_css

FAMILY = "Workbench CJK"


def page_text() -> str:
    """Every Chinese text the page can show: its labels, and the levers' names and meanings."""
    from app.web.state import LABELS, lever_controls

    labels = "".join(text for texts in LABELS.values() for text in texts.values())
    levers = "".join(c.title["zh"] + c.meaning + c.section for c in lever_controls())
    return labels + levers


@functools.cache
def cjk_css() -> str:
    """An ``@font-face`` rule for the subset of the page's non-ASCII characters (``FAMILY``), and a
    rule putting it behind Roboto everywhere but in icons."""
    characters = "".join(sorted({c for c in page_text() if ord(c) > 0x7F}))
    return font_face_css(characters, family=FAMILY) + (
        f'.v-application, .v-application *:not(.v-icon):not(.mdi):not(pre) {{ font-family: Roboto, "{FAMILY}", '
        "sans-serif !important; }\n"
    )
