"""Charts and pages drawn from the tables of runs and analyses."""

REPORT_LANGS = ("en", "zh", "both")
"""Languages of a report page: English, Chinese, or both (the default: English text with the Chinese
titles beside it and each chart in both languages). Chart files are written in both always. Declared
here, apart from the drawing modules, so the command line can offer it without loading matplotlib."""
