"""A run's random numbers, keyed to who draws them and for what, so that two runs on one seed
differ only where their rules differ (common random numbers).

Scenarios are compared, and a fit's candidates judged, on the same seeds: the difference between
two runs should be the difference their rules make, not chance. With one generator read in
sequence, one talent who chooses otherwise shifts every later draw of the run, and within a
year or two the paired runs drift apart by chance (README, *A short tour*: a graduate subsidy's
interval was fifteen times as wide). So the draws are keyed:

- **Per talent row**, for a purpose in a year (does it die, consider moving, where does it go,
  where does it live, its place in a hiring queue, ...), the row's number is

      u = SplitMix64(key(seed, year, purpose), id)

  the SplitMix64 output (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number
  generators", OOPSLA; Java's ``SplittableRandom``) at position ``id + 1`` of the stream seeded
  ``key``, a 64-bit key spawned from (seed, year, purpose) by NumPy's ``SeedSequence``. It does
  not depend on how many rows there are or in which order: a lever that moves one talent leaves
  every other talent's draws as they were.
- **For rows being made**, the row is named first (its id, below), and its attributes at
  making (an entrant's hukou, an arrival's age, ...) are read from its keyed numbers too
  (``Making``): the k-th entrant of a cell gets the same hukou in both runs however many rows
  another cell made. Only two kinds of row are still drawn from a NumPy generator read in
  sequence, one per (year, purpose): the base year's rows, firms and statuses (made before any
  lever acts, so the same in every run of a seed whose base-year counts are the same), and
  overseas recruits, whose nodes and groups are drawn before they can be named (their number is
  the lever's alone).

A row's ``id`` (``Talents.id``) says when and how it was made and its place among the rows made
with it (``new_ids``): the k-th arrival of group g in year t has the same id, and so the same keyed
draws, in both runs even if one run made more arrivals of another group.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from model import kernels
from model.talents import Talents


class Purpose(IntEnum):
    """What a year's draws are for: each has its own key (the codes are part of the key: never
    renumber them, or every run changes)."""

    INITIAL = 0  # the base year's rows, firms and statuses (a generator, read in sequence)
    TALENT_CARD = 1  # order of the eligible for talent cards
    RELOCATED_STAFF = 2  # whether an employee of a relocating firm has its job moved
    RELOCATION_ORDER = 3  # order of a relocating firm's staff among its targets
    FOLLOWS_JOB = 4  # whether a relocated employee follows the job
    KEEPS_SERVICES = 5  # whether a follower keeps Beijing's services
    DEATH = 6
    SETTLEMENT = 7  # hukou settlement after SETTLEMENT_YEARS
    POINTS = 8  # points-based settlement
    ENTRANT_HUKOU = 9  # a university entrant's hukou
    ADULT_AGE = 10  # the age of an adult gaining a first degree
    ADULT_EMPLOYER = 11  # the employer of such an adult
    TRAINEE_AGE = 12  # a trainee's age (the high-skill alliance)
    RECRUITS = 13  # overseas recruits (a generator: their nodes and groups come before their ids)
    ARRIVAL_AGE = 14  # an arrival's age (from outside the region)
    CONSIDERS_MOVING = 15  # the moving hazard
    DESTINATION = 16  # the node chosen (movers and arrivals)
    HOME = 17  # the home chosen given the job's node
    HIRING_ORDER = 18  # place in the queue of a node's job seekers
    EMPLOYER = 19  # the firm a hire joins
    TALENT_HOUSING = 20  # order of the eligible for talent housing
    ADULT_HUKOU = 21  # the hukou of an adult gaining a first degree
    BASE_YEAR_JOB = 22  # the base year's job node of a talent in work (given its home)
    BASE_YEAR_EMPLOYER = 23  # the firm of a base-year talent who works away from home
    GRADUATE_HUKOU = 24  # settlement at hiring of a graduate from elsewhere (graduate_hukou_quota)


class Source(IntEnum):
    """How a row was made: part of its id (``new_ids``)."""

    INITIAL = 0
    ENTRANT = 1
    ADULT_DEGREE = 2
    TRAINEE = 3
    RECRUIT = 4
    ARRIVAL = 5
    SHORT_CYCLE_ENTRANT = 6
    """An entrant to a three-year course: apart from ENTRANT, so that a node's bachelor entrants
    and its short-cycle entrants are counted (ranked) each among their own."""


# The fields of an id, low to high: the row's place among those made with it, its status, foreign,
# high-end, group, node, source and year (from ID_YEAR_0) at making: 38 + 2+1+1+3+7+4+7 = 63 bits.
_FIELDS = (("status", 2), ("is_foreign", 1), ("is_high_end", 1), ("group", 3), ("node", 7))
RANK_BITS = 38
ID_YEAR_0 = 2000
_SOURCE_BITS, _YEAR_BITS = 4, 7
_BITS = np.array([bits for _, bits in _FIELDS] + [_SOURCE_BITS], np.int64)  # for ``kernels.row_ids``


class Draws:
    """The random numbers of one run (``seed``)."""

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed {seed}: allowed: an integer >= 0")
        self.seed = int(seed)

    def _sequence(self, year: int, purpose: Purpose) -> np.random.SeedSequence:
        return np.random.SeedSequence([self.seed, int(year), int(purpose)])

    def stream(self, year: int, purpose: Purpose) -> np.random.Generator:
        """A generator read in sequence, for the draws that cannot be keyed to rows: the base
        year's rows (``Purpose.INITIAL``) and overseas recruits (``Purpose.RECRUITS``)."""
        return np.random.default_rng(self._sequence(year, purpose))

    def keyed(self, year: int, purpose: Purpose) -> Keyed:
        """The per-row numbers of ``purpose`` in ``year``."""
        return Keyed(self._sequence(year, purpose).generate_state(1, np.uint64)[0])


class Keyed:
    """Per-row uniforms in [0, 1) of one (seed, year, purpose): ``of(ids)``, or ``key`` for a
    compiled pass that makes each row's number where it uses it (``kernels.keyed_uniform``: no
    array of 8 bytes a row, 300 MB at full scale). Each is m / 2^53 for an integer m, as NumPy's
    ``Generator.random`` gives."""

    def __init__(self, key: np.uint64) -> None:
        self.key = np.uint64(key)

    def of(self, ids: np.ndarray) -> np.ndarray:
        """One number per id, in order (the rows' ``Talents.id``)."""
        ids = np.ascontiguousarray(ids, np.int64)
        out = np.empty(len(ids))
        kernels.in_parts(lambda p: kernels.keyed_uniforms(ids[p], self.key, out[p]), len(ids))
        return out


def new_ids(
    year: int,
    source: Source | np.ndarray,
    node: np.ndarray,
    group: np.ndarray,
    **flags: np.ndarray | bool,
) -> np.ndarray:
    """Ids of rows made in ``year`` by ``source``: the year, the source, the row's node, group,
    high-end and foreign flags and status at making, and its rank among the rows made with the
    same ones (in the order given). Unique among all rows of a run.

    Args:
        year: the year the rows are made (``ID_YEAR_0`` to 127 years after).
        source: how they are made (one for all rows, or each row's).
        node: each row's node at making (below 128).
        group: each row's group.
        flags: ``is_high_end``, ``is_foreign`` and ``status`` (arrays or one value for all; 0 if
            not given).
    """
    n = len(node)
    values = {"node": node, "group": group, **flags}
    columns = {}
    for name, bits in _FIELDS:
        value = np.asarray(values.get(name, 0))
        if value.ndim == 0:
            value = np.full(n, value, np.int64)
        if value.shape != (n,):
            raise ValueError(f"row id: {name} has {len(value)} values for {n} rows")
        if n and (value.min() < 0 or value.max() >= 1 << bits):
            raise ValueError(f"row id: {name} {value.max()}: allowed: 0 to {(1 << bits) - 1}")
        columns[name] = value
    if not 0 <= year - ID_YEAR_0 < 1 << _YEAR_BITS:
        raise ValueError(f"row id: year {year}: allowed: {ID_YEAR_0} to {ID_YEAR_0 + (1 << _YEAR_BITS) - 1}")
    sources = np.asarray(source, np.int64)
    if sources.ndim and sources.shape != (n,):
        raise ValueError(f"row id: source has {len(sources)} values for {n} rows")
    if n and (sources.min() < 0 or sources.max() >= 1 << _SOURCE_BITS):
        raise ValueError(f"row id: source {sources.max()}: allowed: 0 to {(1 << _SOURCE_BITS) - 1}")
    ids = np.empty(n, np.int64)
    one_source = int(sources) if sources.ndim == 0 else 0
    each_source = sources if sources.ndim else np.zeros(0, np.int64)
    most = kernels.row_ids(
        year - ID_YEAR_0,
        each_source,
        one_source,
        columns["status"],
        columns["is_foreign"],
        columns["is_high_end"],
        columns["group"],
        columns["node"],
        _BITS,
        RANK_BITS,
        ids,
    )
    if most > 1 << RANK_BITS:
        raise ValueError(f"row id: {most} rows made alike: allowed: up to {1 << RANK_BITS}")
    return ids


class Making:
    """Rows made in ``year`` by ``source``: named (their ids, ``new_ids``), then given their
    attributes at making from numbers keyed to those ids (``uniforms``).

    Rows made by several sources at once (bachelor and short-cycle entrants) take each row's
    source in ``name``."""

    def __init__(self, draws: Draws, year: int, source: Source) -> None:
        self.draws, self.year, self.source = draws, int(year), source

    def name(self, rows: Talents, source: np.ndarray | None = None) -> Talents:
        """Give ``rows`` their ids, from the node, group, flags and status they were made with,
        and the making's source (or each row's ``source``)."""
        rows.id[:] = new_ids(
            self.year,
            self.source if source is None else source,
            rows.node,
            rows.group,
            is_high_end=rows.is_high_end,
            is_foreign=rows.is_foreign,
            status=rows.status,
        )
        return rows

    def stream(self, purpose: Purpose) -> np.random.Generator:
        """This year's generator for ``purpose``, for rows drawn before they can be named."""
        return self.draws.stream(self.year, purpose)

    def uniforms(self, rows: Talents, purpose: Purpose) -> np.ndarray:
        """Each named row's number in [0, 1) for ``purpose`` this year."""
        return self.draws.keyed(self.year, purpose).of(rows.id)


def whole_between(u: np.ndarray, low: int, high: int) -> np.ndarray:
    """Integers uniform on ``low``..``high`` (both included) from uniforms ``u`` in [0, 1):
    low + floor(u (high - low + 1))."""
    return low + np.floor(np.asarray(u) * (high - low + 1)).astype(np.int64)
