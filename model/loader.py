"""Every input file goes through here: scenario, experiment and calibration YAML, observation CSVs.

A bad file is refused with ``ScenarioError`` naming the file, the line where there is one,
the value and what is allowed; no traceback escapes, and nothing in a file can run code.

What is refused before a value reaches pydantic or pandas:

- any file: unreadable, over ``MAX_BYTES``, binary (a NUL byte) or not UTF-8;
- YAML: an unknown or language tag (``!!python/object``, ``!foo``), more than ``MAX_NODES``
  values once aliases are expanded (the "billion laughs" file), nesting deeper than
  ``MAX_DEPTH``, an alias inside its own anchor, duplicate keys, a key that is a list or a
  mapping, more than one document, a top level that is not a mapping, invalid YAML;
- observation CSV: see ``read_observation_csv``.

YAML is read from libyaml's event stream (PyYAML's C parser when it is built, its Python parser
otherwise) and composed here, one event at a time and without recursion, so the limits are
checked as the file is read: an alias bomb is refused by arithmetic on its anchors' sizes, never
expanded, and a deep file never reaches Python's recursion limit. Composing here rather than in
PyYAML's Python composer is also what makes a 1 MiB file load in about a second instead of ten.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from model.errors import ScenarioError

Mark = tuple[str, int, int]
"""Where a key path stands: file, line, column (1-based)."""

MAX_BYTES = 1 << 20
"""Largest input file read, bytes (1 MiB): a scenario is a few kB, the observation files tens of
kB; anything larger is a mistake, and refusing it first keeps a huge file from taking minutes."""
MAX_NODES = 100_000
"""Most values (scalars, lists, mappings) a YAML file may hold once its aliases are expanded: far
above any real experiment file (hundreds), far below what makes a run slow."""
MAX_DEPTH = 50
"""Deepest nesting of YAML lists and mappings; a scenario goes five levels deep."""
PROBLEM_LIMIT = 20
"""Problems listed in one message; the rest are counted."""

_STANDARD = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_STANDARD + name for name in ("str", "int", "float", "bool", "null", "timestamp")}
_SCALAR_KINDS = {
    _STANDARD + "int": "whole number",
    _STANDARD + "float": "number",
    _STANDARD + "bool": "true or false",
    _STANDARD + "null": "null",
    _STANDARD + "timestamp": "date (YYYY-MM-DD) or time",
}
_ALLOWED_TAGS = "no tag, or one of !!str, !!int, !!float, !!bool, !!null, !!timestamp, !!seq, !!map"
_MERGE_TAG = _STANDARD + "merge"
_YamlMark = Any  # PyYAML's or libyaml's mark (0-based line and column); parser events always carry one
_Parser: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# --- any file --------------------------------------------------------------------------------


def read_text(path: str | Path, kind: str) -> str:
    """A file's text, refused when unreadable, over ``MAX_BYTES``, binary or not UTF-8.

    Args:
        path: the file.
        kind: what the file is, for messages ("scenario", "observations", ...).
    """
    path = Path(path)
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
        size = path.stat().st_size
    except OSError as err:
        raise ScenarioError(f"{path}: cannot read {kind} file ({err.strerror or err})") from err
    if len(raw) > MAX_BYTES:
        shown = f"{size:,} bytes ({size / (1 << 20):.1f} MiB)" if size > MAX_BYTES else "over 1 MiB"
        raise ScenarioError(f"{path}: {kind} file is {shown}; allowed: at most {MAX_BYTES:,} bytes (1 MiB)")
    nul = raw.find(b"\0")
    if nul >= 0:
        line = raw.count(b"\n", 0, nul) + 1
        raise ScenarioError(
            f"{path}:{line}: binary content (a NUL byte at byte {nul:,}); allowed: a UTF-8 text {kind} file"
        )
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark (Excel's CSVs) is not content
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise ScenarioError(
            f"{path}:{line}: not UTF-8 text (byte 0x{raw[err.start]:02x} at byte {err.start:,}); "
            f"allowed: a UTF-8 text {kind} file (save it as UTF-8)"
        ) from None


def problems_message(
    source: str, what: str, lines: list[str], limit: int = PROBLEM_LIMIT, *, total: int | None = None
) -> str:
    """One message for many problems: a header, the first ``limit`` lines, a count of the rest.

    Args:
        source: the file or other origin named first.
        what: what was invalid ("scenario", "observations").
        lines: one line a problem (they may be only the first ones, see ``total``).
        limit: lines shown.
        total: how many problems there are, when ``lines`` holds only the first of them (so a
            file of 400,000 problems need not have them all formatted).
    """
    count = len(lines) if total is None else total
    shown = lines[:limit]
    text = "\n".join([f"{source}: invalid {what} ({count:,} problem{'' if count == 1 else 's'}):", *shown])
    if count > len(shown):
        text += f"\n  ... and {count - len(shown):,} more problem{'' if count - len(shown) == 1 else 's'}"
    return text


# --- YAML ------------------------------------------------------------------------------------


@dataclass
class _Open:
    """A list or mapping being composed."""

    value: Any  # the list or dict
    path: tuple[str, ...]
    depth: int
    anchor: str | None
    nodes_before: int
    deepest: int
    key: tuple[Any, str, _YamlMark] | None = None  # a mapping's key awaiting its value
    is_merge: bool = False
    lines: dict[Any, int] = field(default_factory=dict)  # key -> line it was set on (0: merged)


class _Composer:
    """Data and marks from a YAML event stream, with the module's limits checked event by event."""

    def __init__(self, path: Path, kind: str) -> None:
        self.path, self.kind = path, kind
        self.marks: dict[tuple[str, ...], Mark] = {}
        self.stack: list[_Open] = []
        self.anchors: dict[str, tuple[Any, int, int]] = {}  # value, node count, height
        self.open_anchors: set[str] = set()
        self.nodes = 0
        self.root: Any = None
        self.root_mark: _YamlMark = None
        self.documents = 0
        self.helper = yaml.SafeLoader("")  # PyYAML's own resolver and scalar constructors

    def refuse(self, mark: _YamlMark, text: str) -> ScenarioError:
        return ScenarioError(f"{self.path}:{mark.line + 1}:{mark.column + 1}: {text}")

    def compose(self, text: str) -> tuple[Any, _YamlMark]:
        for event in yaml.parse(text, Loader=_Parser):
            if isinstance(event, yaml.DocumentStartEvent):
                self.documents += 1
                if self.documents > 1:
                    raise self.refuse(
                        event.start_mark, f"a second YAML document (---); allowed: one {self.kind} a file"
                    )
            elif isinstance(event, yaml.AliasEvent):
                self.alias(event)
            elif isinstance(event, yaml.ScalarEvent):
                self.scalar(event)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                self.start(event)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                self.end()
        return self.root, self.root_mark

    # limits

    def count(self, nodes: int, depth: int, mark: _YamlMark) -> None:
        self.nodes += nodes
        if self.nodes > MAX_NODES:
            raise self.refuse(
                mark,
                f"the file holds more than {MAX_NODES:,} values once its aliases (*name) "
                f"are expanded; allowed: at most {MAX_NODES:,}",
            )
        if depth > MAX_DEPTH:
            raise self.refuse(
                mark,
                f"nesting {depth} levels deep; allowed: at most {MAX_DEPTH} levels of lists and mappings",
            )
        if self.stack:
            self.stack[-1].deepest = max(self.stack[-1].deepest, depth)

    def check_tag(self, event: Any, allowed: set[str]) -> None:
        tag = event.tag
        if tag is None or tag == "!" or tag in allowed:
            return
        shown = "!!" + tag.removeprefix(_STANDARD) if tag.startswith(_STANDARD) else tag
        raise self.refuse(
            event.start_mark,
            f"tag {shown!r} is not allowed (a file may not create "
            f"objects or run code); allowed: {_ALLOWED_TAGS}",
        )

    # events

    def alias(self, event: yaml.AliasEvent) -> None:
        name = event.anchor
        if name in self.open_anchors:
            raise self.refuse(
                event.start_mark,
                f"alias *{name} stands inside its own anchor &{name}; allowed: aliases to finished values",
            )
        if name not in self.anchors:
            raise self.refuse(
                event.start_mark,
                f"alias *{name} has no anchor &{name} before it; "
                "allowed: aliases to anchors defined earlier in the file",
            )
        value, nodes, height = self.anchors[name]
        self.count(nodes, len(self.stack) + height, event.start_mark)
        self.add(value, event.start_mark, raw=None)

    def scalar(self, event: yaml.ScalarEvent) -> None:
        self.check_tag(event, _SCALAR_TAGS)
        self.count(1, len(self.stack) + 1, event.start_mark)
        if event.tag in (None, "!"):
            tag = self.helper.resolve(yaml.ScalarNode, event.value, event.implicit)
        else:
            tag = event.tag
        is_merge = (
            tag == _MERGE_TAG
            and bool(self.stack)
            and self.stack[-1].key is None
            and isinstance(self.stack[-1].value, dict)
        )
        if is_merge:
            value: Any = "<<"
        elif tag == _STANDARD + "str":
            value = event.value
        else:
            node = yaml.ScalarNode(tag, event.value, style=event.style)  # marks: our messages give them
            try:
                value = self.helper.yaml_constructors[tag](self.helper, node)
            except (ValueError, TypeError, OverflowError, KeyError, yaml.YAMLError):
                kind = _SCALAR_KINDS.get(tag, tag.removeprefix(_STANDARD))
                raise self.refuse(
                    event.start_mark,
                    f"value {event.value!r} is not a valid {kind}; allowed: a {kind}, or the text quoted",
                ) from None
        if event.anchor:
            self.anchors[event.anchor] = (value, 1, 1)
        self.add(value, event.start_mark, raw=event.value, is_merge=is_merge)

    def start(self, event: yaml.MappingStartEvent | yaml.SequenceStartEvent) -> None:
        is_mapping = isinstance(event, yaml.MappingStartEvent)
        self.check_tag(event, {_STANDARD + ("map" if is_mapping else "seq")})
        if self.stack and isinstance(self.stack[-1].value, dict) and self.stack[-1].key is None:
            self.refuse_key(self.stack[-1], event.start_mark)
        depth = len(self.stack) + 1
        self.count(1, depth, event.start_mark)
        path = self.place(event.start_mark)
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Open({} if is_mapping else [], path, depth, event.anchor, self.nodes - 1, depth))

    def end(self) -> None:
        done = self.stack.pop()
        if done.anchor:
            self.open_anchors.discard(done.anchor)
            self.anchors[done.anchor] = (
                done.value,
                self.nodes - done.nodes_before,
                done.deepest - done.depth + 1,
            )
        if self.stack:
            self.stack[-1].deepest = max(self.stack[-1].deepest, done.deepest)
        self.add(done.value, None, raw=None, placed=True)

    # placing values

    def place(self, mark: _YamlMark) -> tuple[str, ...]:
        """The key path of a value starting at ``mark``, recorded in the marks.

        A mapping entry stands at its key, a list item at itself.
        """
        if not self.stack:
            self.root_mark = mark
            self.marks[()] = (str(self.path), mark.line + 1, mark.column + 1)
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            path, at = top.path + (str(len(top.value)),), mark
        elif top.key is None:  # a key: not placed
            return top.path
        else:
            path, at = top.path + (top.key[1],), top.key[2]
        self.marks[path] = (str(self.path), at.line + 1, at.column + 1)
        return path

    def add(
        self,
        value: Any,
        mark: _YamlMark,
        raw: str | None,
        *,
        placed: bool = False,
        is_merge: bool = False,
    ) -> None:
        if not placed and mark is not None:
            self.place(mark)
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top.value, list):
            top.value.append(value)
        elif top.key is None:
            self.take_key(top, value, mark, raw, is_merge)
        else:
            key, _, key_mark = top.key
            top.key = None
            if top.is_merge:
                top.is_merge = False
                self.merge(top, value, key_mark)
            else:
                top.value[key] = value
                top.lines[key] = key_mark.line + 1

    def take_key(self, top: _Open, key: Any, mark: _YamlMark, raw: str | None, is_merge: bool) -> None:
        if mark is None or isinstance(key, (list, dict)):
            self.refuse_key(top, mark)
        if is_merge:
            top.is_merge = True
            top.key = ("<<", "<<", mark)
            return
        try:
            line = top.lines.get(key)
        except TypeError:  # an unhashable key cannot come from a scalar, but be sure
            line = None
        if line:
            raise self.refuse(mark, f"duplicate key {key!r} (first on line {line}); each key may appear once")
        top.key = (key, raw if raw is not None else str(key), mark)

    def refuse_key(self, top: _Open, mark: _YamlMark) -> None:
        at = f"{mark.line + 1}:{mark.column + 1}" if mark else str(self.marks.get(top.path, ("", 0))[1])
        raise ScenarioError(
            f"{self.path}:{at}: {'.'.join(top.path) or '(top level)'}: a key is a list or a "
            "mapping; allowed: keys that are text, numbers or dates"
        )

    def merge(self, top: _Open, value: Any, mark: _YamlMark) -> None:
        """``<<: *anchor`` (or a list of them): the anchor's keys, unless the mapping sets them."""
        sources = value if isinstance(value, list) else [value]
        if not all(isinstance(source, dict) for source in sources):
            raise self.refuse(
                mark,
                "a merge key (<<) is followed by something other than a mapping; "
                "allowed: <<: *anchor of a mapping, or a list of them",
            )
        for source in sources:
            for key, item in source.items():
                if key not in top.value:
                    top.value[key] = item
                    top.lines[key] = 0


def load_yaml(
    path: str | Path, *, kind: str = "scenario", keys: str = "name, start_year, ..."
) -> tuple[dict[str, Any], dict[tuple[str, ...], Mark]]:
    """A YAML mapping and where each key path stands in it, for error messages.

    Args:
        path: the file.
        kind: what the file is ("scenario", "experiment", "calibration config"), for messages.
        keys: the top-level keys it should have, for the message when it is not a mapping.

    Returns:
        The data (PyYAML's safe types: str, int, float, bool, None, date, datetime, list, dict)
        and ``{key path: (file, line, column)}``; a value reached through an alias is marked
        where the alias stands.

    Raises:
        ScenarioError: any of the cases in the module docstring; the message names the file and,
            where there is one, the line and column.
    """
    path = Path(path)
    text = read_text(path, kind)
    composer = _Composer(path, kind)
    try:
        data, root_mark = composer.compose(text)
    except yaml.MarkedYAMLError as err:
        raise ScenarioError(_yaml_error(path, err)) from None
    except yaml.reader.ReaderError as err:  # a character YAML does not allow, e.g. a control character
        at = text.find(chr(err.character)) if isinstance(err.character, int) else -1
        line = f":{text.count(chr(10), 0, at) + 1}" if at >= 0 else ""
        shown = f"#x{err.character:04x}" if isinstance(err.character, int) else repr(err.character)
        raise ScenarioError(
            f"{path}{line}: not valid YAML: character {shown} is not allowed ({err.reason}); "
            "allowed: printable text, tabs and line breaks"
        ) from None
    except yaml.YAMLError as err:
        raise ScenarioError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        line = f":{root_mark.line + 1}" if root_mark is not None else ""
        got = "an empty file" if data is None and root_mark is None else type(data).__name__
        article = "an" if kind[:1] in "aeiou" else "a"
        raise ScenarioError(f"{path}{line}: {article} {kind} must be a mapping of keys ({keys}), got {got}")
    return data, composer.marks


def _yaml_error(path: Path, err: yaml.MarkedYAMLError) -> str:
    mark = err.problem_mark or err.context_mark
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
    if "nesting depth" in str(err.problem):  # libyaml's own limit (1000) came before ours
        return f"{where}: nesting more than 1,000 levels deep; allowed: at most {MAX_DEPTH} levels of lists and mappings"
    text = (
        f"{where}: not valid YAML at line {mark.line + 1}, column {mark.column + 1}"
        if mark
        else f"{where}: not valid YAML"
    )
    text += f": {err.problem}" if err.problem else ""
    if err.context:
        text += (
            f" ({err.context}"
            + (
                f" that starts at line {err.context_mark.line + 1}, column {err.context_mark.column + 1}"
                if err.context_mark
                else ""
            )
            + ")"
        )
    return text


# --- observation CSV -------------------------------------------------------------------------

REQUIRED_COLUMNS = ("unit", "indicator", "year", "value")
CARRIED_COLUMNS = ("uom", "status", "source", "note", "use", "vintage", "model_use")
"""Kept when present, as text ("" when absent, so every frame has them)."""
VINTAGES: dict[str, str] = {
    "first-release": (
        "as first published, before the statistics bureau's revisions after the 2020 census and the "
        "2018 economic census (a year up to 2015: as published by 2016); carries no later information"
    ),
    "revised-2020": (
        "the bureau's current series, revised after the 2020 census (populations) or the 2018 "
        "economic census (GDP): it carries information from after 2015"
    ),
    "final": (
        "a number the bureau did not revise (census and sample-survey counts, prices, floor space, "
        "education counts, wage releases read once, plan figures)"
    ),
}
"""Allowed values of an observations file's ``vintage`` column and what each means (issue 10,
item 1; data/README.md of the shared data). A file without the column has ``vintage`` "" on every
row; a file with it names one of these on every row."""
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_POSITIVE = (
    "a positive finite number (the observed indicators are counts, prices, wages and rates, "
    "all > 0; leave a number out rather than writing 0)"
)


def read_observation_csv(path: str | Path, *, first_year: int = 2000, last_year: int = 2030) -> pd.DataFrame:
    """An observations file: one published number a row.

    Columns ``unit, indicator, year, value`` are required; ``CARRIED_COLUMNS`` are kept as text;
    other columns are ignored. Rows that repeat another row's (unit, indicator, year[, vintage])
    and value are dropped (the first is kept).

    Args:
        path: the CSV file (UTF-8, comma-separated, a header line).
        first_year: earliest year allowed.
        last_year: latest year allowed.

    Returns:
        The rows in file order: ``unit, indicator`` (text, stripped), ``year`` (int),
        ``value`` (float, positive and finite), the carried columns, and ``line``: the file line
        the row starts on, for later messages.

    Raises:
        ScenarioError: an unreadable, empty, binary or non-UTF-8 file, a header without rows,
            missing or repeated columns, an unclosed quote, a row with more or fewer fields than the header,
            a year that is not a whole number in [first_year, last_year], a value that is not a
            positive finite number, or two rows giving different values for the same (unit,
            indicator, year) with no ``vintage`` column telling them apart, a ``vintage`` that
            is not one of ``VINTAGES`` (empty included) where the column exists. Every row problem is
            listed (the first ``PROBLEM_LIMIT``), each with file:line, column, value and what is
            allowed.
    """
    path = Path(path)
    text = read_text(path, "observations")
    rows, header_line = _csv_rows(path, text)
    if not rows:
        raise ScenarioError(
            f"{path}: empty file; allowed: a header line ({', '.join(REQUIRED_COLUMNS)}, ...) "
            "and one observation a row"
        )
    (_, header), body = rows[0], rows[1:]
    header = [name.strip() for name in header]
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise ScenarioError(
            f"{path}:{header_line}: column {', '.join(repeated)} appears more than once in the header; "
            "allowed: each column once"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ScenarioError(
            f"{path}:{header_line}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} (the header has: {', '.join(header)}); required: "
            f"{', '.join(REQUIRED_COLUMNS)}; kept when present: {', '.join(CARRIED_COLUMNS)}"
        )
    if not body:
        raise ScenarioError(
            f"{path}: a header line and no observations; allowed: one observation a row after the header"
        )
    where = {name: header.index(name) for name in (*REQUIRED_COLUMNS, *CARRIED_COLUMNS) if name in header}
    problems: list[str] = []
    records: list[dict[str, Any]] = []
    for line, fields in body:
        if len(fields) > len(header) or len(fields) <= max(where[c] for c in REQUIRED_COLUMNS):
            problems.append(
                f"  {path}:{line}: {len(fields)} fields, the header has {len(header)}; allowed: "
                "one field a column (quote a field that holds a comma; trailing empty fields "
                "may be left out)"
            )
            continue
        fields = fields + [""] * (len(header) - len(fields))
        record: dict[str, Any] = {
            name: fields[where[name]].strip() if name in where else ""
            for name in (*REQUIRED_COLUMNS, *CARRIED_COLUMNS)
        }
        year = _year(record["year"], first_year, last_year)
        value = _value(record["value"])
        for column, problem in (("year", year), ("value", value)):
            if isinstance(problem, str):
                problems.append(f"  {path}:{line}: column {column}: value {record[column]!r}: {problem}")
        for column in ("unit", "indicator"):
            if not record[column]:
                problems.append(f"  {path}:{line}: column {column}: empty; allowed: a {column} name")
        if "vintage" in where and record["vintage"] not in VINTAGES:
            shown = f"value {record['vintage']!r}: unknown vintage" if record["vintage"] else "empty"
            problems.append(
                f"  {path}:{line}: column vintage: {shown}; allowed: {', '.join(VINTAGES)} "
                "(the vintage column names the release of every row)"
            )
        if isinstance(year, int) and isinstance(value, float):
            records.append({**record, "year": year, "value": value, "line": line, "text": record["value"]})
    records = _without_repeats(path, records, "vintage" in header, problems)
    if problems:
        raise ScenarioError(problems_message(str(path), "observations", problems))
    table = pd.DataFrame.from_records(records, columns=[*REQUIRED_COLUMNS, *CARRIED_COLUMNS, "line"])
    return table.astype({"year": int, "value": float, "line": int})


def _csv_rows(path: Path, text: str) -> tuple[list[tuple[int, list[str]]], int]:
    """Non-blank rows with the line each starts on, and the header's line."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as err:
            problem = 'a quote (") opened here is never closed' if "end of data" in str(err) else str(err)
            raise ScenarioError(
                f"{path}:{start}: {problem}; allowed: a quoted field ends with a quote "
                '(write a quote inside one as "")'
            ) from None
        if any(f.strip() for f in fields):
            rows.append((start, fields))
    return rows, rows[0][0] if rows else 1


def _year(text: str, first: int, last: int) -> int | str:
    if not re.fullmatch(r"[+-]?\d+", text):
        return f"not a whole number; allowed: a year from {first} to {last}"
    year = int(text)
    if not first <= year <= last:
        return f"outside the model's years; allowed: {first} to {last}"
    return year


def _value(text: str) -> float | str:
    if not _NUMBER.fullmatch(text):
        finite = "finite " if text.lower().lstrip("+-") in ("nan", "inf", "infinity") else ""
        return f"not a {finite}number; allowed: {_POSITIVE}"
    value = float(text)
    if math.isinf(value):
        return f"overflows a 64-bit float; allowed: {_POSITIVE}"
    if value <= 0:
        return f"{'zero' if value == 0 else 'negative'}; allowed: {_POSITIVE}"
    return value


def _without_repeats(
    path: Path, records: list[dict[str, Any]], has_vintage: bool, problems: list[str]
) -> list[dict[str, Any]]:
    """Drop rows repeating an earlier row's key and value; a different value is a problem."""
    first: dict[tuple[Any, ...], dict[str, Any]] = {}
    kept = []
    for record in records:
        key = (record["unit"], record["indicator"], record["year"]) + (
            (record["vintage"],) if has_vintage else ()
        )
        earlier = first.setdefault(key, record)
        if earlier is record:
            kept.append(record)
        elif earlier["value"] != record["value"]:
            told = f"vintage {record['vintage']!r}" if has_vintage else "no vintage column"
            problems.append(
                f"  {path}:{record['line']}: {record['unit']}, {record['indicator']}, {record['year']}: value "
                f"{record['text']} here, {earlier['text']} on line {earlier['line']} ({told}); allowed: one "
                f"value per (unit, indicator, year), or a vintage column ({', '.join(VINTAGES)}) "
                "telling them apart"
            )
    return kept
