"""Random numbers keyed to the row, the year and the purpose (model/draws.py): common random
numbers that survive a change in one talent's choice."""

from __future__ import annotations

import numpy as np
import pytest

from model import demography, kernels, programmes
from model.draws import RANK_BITS, Draws, Keyed, Making, Purpose, Source, new_ids, whole_between
from model.scenario import Scenario
from model.simulation import TalentModel
from model.talents import GROUPS, Status, Talents
from tests.conftest import LAYOUT, ONE_GROUP, SEED, N, at_node

MASK = (1 << 64) - 1


def splitmix64(key: int, position: int) -> int:
    """SplitMix64's output at ``position`` of the stream seeded ``key``, in Python integers
    (Steele, Lea & Flood 2014; Vigna's reference C code, splitmix64.c)."""
    z = (key + position * 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def test_a_rows_number_is_splitmix64_at_its_id() -> None:
    # the first output of SplitMix64 seeded 0 is 0xE220A8397B1DCDAF (splitmix64.c)
    assert splitmix64(0, 1) == 0xE220A8397B1DCDAF
    key, ids = 0xDEADBEEF12345678, np.array([0, 1, 2, 10**12, (1 << 62) + 5])
    got = Keyed(np.uint64(key)).of(ids)
    want = [(splitmix64(key, int(i) + 1) >> 11) / 2.0**53 for i in ids]
    assert got.tolist() == want


def test_a_key_given_as_a_python_int_gives_the_same_numbers() -> None:
    # numba would compile an int64 version, in which int64 + uint64 is a float: the kernel casts
    ids, key = np.arange(5), 0xDEADBEEF
    by_int, by_uint = np.empty(5), np.empty(5)
    kernels.keyed_uniforms(ids, key, by_int)
    kernels.keyed_uniforms(ids, np.uint64(key), by_uint)
    np.testing.assert_array_equal(by_int, by_uint)


def test_hukou_settlement_draws_each_rows_keyed_number() -> None:
    """Every row qualifies (elsewhere's hukou, years enough, taking part): a row settles exactly
    where its keyed number is below the chance, whatever the threads' parts."""
    n, chance = 5_000, 0.3
    keyed = Draws(SEED).keyed(2017, Purpose.SETTLEMENT)
    ids = np.arange(n, dtype=np.int64) * 7 + 3
    hukou = np.full(n, 3, np.int8)
    node, group = np.zeros(n, np.int8), np.zeros(n, np.int8)
    years = np.full(n, 9, np.int16)
    with kernels.threads(3):
        kernels.in_parts(
            lambda p: kernels.settling(
                hukou[p], node[p], group[p], years[p], np.zeros(1, np.int8), np.full((1, 1), chance), ids[p],
                keyed.key, 4, 5, np.ones(n, bool)[p],
            ),
            n,
        )  # fmt: skip
    np.testing.assert_array_equal(hukou == 0, keyed.of(ids) < chance)


def test_a_rows_number_does_not_depend_on_the_other_rows() -> None:
    keyed = Draws(SEED).keyed(2017, Purpose.DEATH)
    ids = np.arange(1000, 3000)
    u = keyed.of(ids)
    order = np.random.default_rng(0).permutation(len(ids))
    np.testing.assert_array_equal(keyed.of(ids[order]), u[order])
    np.testing.assert_array_equal(keyed.of(ids[::7]), u[::7])
    # a compiled pass makes each row's number where it uses it: the same numbers (deaths)
    dying = np.empty(len(ids), bool)
    kernels.below(np.zeros(len(ids), np.int16), np.array([0.3]), ids, keyed.key, dying)
    np.testing.assert_array_equal(dying, u < 0.3)


def test_each_seed_year_and_purpose_has_numbers_of_its_own_spread_evenly() -> None:
    ids = np.arange(200_000)
    keys = [(SEED, 2017, Purpose.DEATH), (SEED, 2018, Purpose.DEATH), (SEED, 2017, Purpose.HOME)]
    draws = [Draws(seed).keyed(year, purpose).of(ids) for seed, year, purpose in [*keys, (SEED + 1, 2017, 6)]]
    for a in range(len(draws)):
        u = draws[a]
        assert 0.0 <= u.min() and u.max() < 1.0
        # each tenth holds 20,000 +- 5 binomial standard deviations (134 each)
        assert np.abs(np.bincount((u * 10).astype(int), minlength=10) - 20_000).max() < 700
        for b in range(a):
            assert abs(np.corrcoef(u, draws[b])[0, 1]) < 0.01
    np.testing.assert_array_equal(Draws(SEED).keyed(2017, Purpose.DEATH).of(ids), draws[0])


def test_streams_read_in_sequence_are_fixed_by_seed_year_and_purpose() -> None:
    draws = Draws(SEED)
    first = draws.stream(2017, Purpose.RECRUITS).random(5)
    assert draws.stream(2017, Purpose.RECRUITS).random(5).tolist() == first.tolist()
    assert draws.stream(2017, Purpose.INITIAL).random(5).tolist() != first.tolist()
    assert draws.stream(2018, Purpose.RECRUITS).random(5).tolist() != first.tolist()


def test_whole_numbers_from_uniforms_cover_their_range_evenly() -> None:
    largest = np.nextafter(1.0, 0.0)  # the largest uniform a draw can give
    assert whole_between(np.array([0.0, largest, 0.5]), 25, 40).tolist() == [25, 40, 33]
    counts = np.bincount(whole_between(np.random.default_rng(SEED).random(160_000), 25, 40) - 25)
    assert len(counts) == 16 and np.abs(counts / 10_000 - 1).max() < 0.05


def _entrants(persons_at: dict[int, float]) -> Talents:
    making = Making(Draws(SEED), 2017, Source.ENTRANT)
    return demography.enrol(at_node(persons_at), np.zeros(N), ONE_GROUP, np.full(N, 0.5), LAYOUT, 1, making)


def test_rows_being_made_keep_their_attributes_when_another_cell_makes_more() -> None:
    """With one generator read in row order, more entrants at node 1 would shift the hukou of
    every entrant after them; keyed to the rows' ids, node 5's keep theirs."""
    fewer, more = _entrants({1: 50, 5: 200}), _entrants({1: 80, 5: 200})
    for rows in (fewer, more):
        assert (rows.id >= 0).all() and len(np.unique(rows.id)) == len(rows)
    at_5 = fewer.node == 5
    np.testing.assert_array_equal(more.id[more.node == 5], fewer.id[at_5])
    np.testing.assert_array_equal(more.hukou[more.node == 5], fewer.hukou[at_5])
    assert len(np.unique(fewer.hukou[at_5])) > 1  # drawn, not one value


def test_short_cycle_entrants_keep_their_attributes_when_their_node_makes_more_bachelor_entrants() -> None:
    """Node 5's 50 short-cycle entrants among 200 entrants, then among 250 (more bachelor places):
    named apart from the bachelor entrants, they keep their ids and hukou."""
    making = Making(Draws(SEED), 2017, Source.ENTRANT)
    made = [
        demography.enrol(
            at_node({5: total}), at_node({5: 50 / total}), ONE_GROUP, np.full(N, 0.5), LAYOUT, 1, making
        )
        for total in (200, 250)
    ]
    short = [rows.years_at_node == demography.SHORT_CYCLE_HEAD_START for rows in made]
    assert [int(s.sum()) for s in short] == [50, 50]
    np.testing.assert_array_equal(made[1].id[short[1]], made[0].id[short[0]])
    np.testing.assert_array_equal(made[1].hukou[short[1]], made[0].hukou[short[0]])
    assert len(np.unique(made[0].hukou[short[0]])) > 1  # drawn, not one value


def test_rows_of_several_sources_get_the_ids_each_source_would_give_them() -> None:
    """One call with each row's source names the rows as one call a source would, and the layout
    is pinned: year, source, cell (status, flags, group, node) and rank, high bits to low."""
    node, group = np.array([4, 4, 9, 4]), np.array([1, 1, 0, 1])
    sources = np.array(
        [Source.ENTRANT, Source.SHORT_CYCLE_ENTRANT, Source.ENTRANT, Source.SHORT_CYCLE_ENTRANT]
    )
    mixed = new_ids(2017, sources, node, group)
    for source in (Source.ENTRANT, Source.SHORT_CYCLE_ENTRANT):
        own = sources == source
        np.testing.assert_array_equal(mixed[own], new_ids(2017, source, node[own], group[own]))
    # 2017 is 17 years after ID_YEAR_0; cell = node 4, group 1 (status and flags 0); rank 1
    assert mixed[3] == ((((17 << 4) | 6) << 14 | (4 << 7 | 1 << 4)) << RANK_BITS) | 1
    with pytest.raises(ValueError, match="source 16: allowed: 0 to 15"):
        new_ids(2017, np.full(4, 16), node, group)
    with pytest.raises(ValueError, match="source has 3 values for 4 rows"):
        new_ids(2017, sources[:3], node, group)
    with pytest.raises(ValueError, match="group has 3 values for 4 rows"):
        new_ids(2017, sources, node, group[:3])


def test_adults_and_trainees_keep_their_attributes_when_another_node_makes_more() -> None:
    """Adults gaining a degree and trainees at node 5 keep their ids, ages and hukou when node 1
    makes more of them; an adult's age and hukou come from keys of their own."""

    def adults(at_1: float) -> Talents:
        making = Making(Draws(SEED), 2017, Source.ADULT_DEGREE)
        return demography.adult_degrees(
            at_node({1: at_1, 5: 400.0}), 1.0, ONE_GROUP, np.full(N, 0.5), LAYOUT, 1, making
        )

    def trained(at_1: float) -> Talents:
        making = Making(Draws(SEED), 2017, Source.TRAINEE)
        return programmes.trainees(at_node({1: at_1, 5: 400.0}), LAYOUT.province, 1, making)

    for make, columns in ((adults, ("id", "age", "hukou")), (trained, ("id", "age"))):
        fewer, more = make(50.0), make(90.0)
        for column in columns:
            np.testing.assert_array_equal(
                getattr(more, column)[more.node == 5], getattr(fewer, column)[fewer.node == 5]
            )
    rows = adults(0.0)
    ages, hukou = rows.age.astype(float), (rows.hukou == LAYOUT.province[rows.node]).astype(float)
    assert abs(np.corrcoef(ages, hukou)[0, 1]) < 0.15  # 400 rows: independent draws


def test_arrivals_keep_their_ages_when_the_mix_of_groups_changes() -> None:
    making = Making(Draws(SEED), 2017, Source.ARRIVAL)
    mix = np.full(len(GROUPS), 1 / len(GROUPS))
    tilted = mix.copy()
    tilted[0], tilted[1] = tilted[0] + 0.05, tilted[1] - 0.05
    one = demography.arrivals(3000, 200, 20, mix, 1, making)
    other = demography.arrivals(3000, 200, 20, tilted, 1, making)
    age_of = dict(zip(one.id.tolist(), one.age.tolist(), strict=True))
    shared = [i for i in other.id.tolist() if i in age_of]
    assert len(shared) > 0.9 * len(one)
    assert all(
        age_of[i] == a for i, a in zip(other.id.tolist(), other.age.tolist(), strict=True) if i in age_of
    )
    high_end = one.is_high_end
    assert one.age[high_end].min() >= 40 and one.age[high_end].max() <= 70  # HIGH_END_AGES
    assert one.age[~high_end].min() >= 23 and one.age[~high_end].max() <= 40  # ARRIVAL_AGES


def test_ids_rank_rows_among_those_made_alike_so_another_kinds_count_does_not_move_them() -> None:
    node, group = np.array([3, 3, 5, 3, 5]), np.array([1, 1, 1, 2, 1])
    ids = new_ids(2017, Source.ARRIVAL, node, group)
    assert len(set(ids.tolist())) == 5 and (ids >= 0).all()
    assert (ids & ((1 << RANK_BITS) - 1)).tolist() == [0, 1, 0, 0, 1]
    # one more row of (node 3, group 2), first: the rows made otherwise keep their ids
    more = new_ids(2017, Source.ARRIVAL, np.r_[3, node], np.r_[2, group])
    other_kinds = group != 2
    np.testing.assert_array_equal(more[1:][other_kinds], ids[other_kinds])
    # ... and last: every row keeps its id
    np.testing.assert_array_equal(new_ids(2017, Source.ARRIVAL, np.r_[node, 3], np.r_[group, 2])[:-1], ids)
    # another year, source, status or flag is another row
    for other in (
        new_ids(2018, Source.ARRIVAL, node, group),
        new_ids(2017, Source.ENTRANT, node, group),
        new_ids(2017, Source.ARRIVAL, node, group, status=int(Status.EMPLOYED)),
        new_ids(2017, Source.ARRIVAL, node, group, is_high_end=True),
    ):
        assert not set(other.tolist()) & set(ids.tolist())


@pytest.mark.parametrize(
    ("year", "node", "message"),
    [(1999, 0, "year 1999: allowed: 2000 to 2127"), (2017, 128, "node 128: allowed: 0 to 127")],
)
def test_an_id_out_of_its_fields_is_refused(year: int, node: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        new_ids(year, Source.ARRIVAL, np.array([node]), np.array([0]))


def test_a_row_without_an_id_cannot_draw() -> None:
    with pytest.raises(ValueError, match="without an id"):
        Draws(SEED).keyed(2017, Purpose.DEATH).of(np.array([5, -1]))


def test_every_row_of_a_run_has_an_id_of_its_own(small_baseline: Scenario) -> None:
    model = TalentModel(small_baseline, seed=SEED)
    for _ in range(3):
        model.step()
    ids = model.talents.id
    assert (ids >= 0).all() and len(np.unique(ids)) == len(ids)


def test_a_lever_leaves_the_deaths_of_the_talents_it_does_not_move_as_they_were(
    small_baseline: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Overseas recruits add rows from 2016; with one generator read in sequence every later
    draw would shift. Keyed draws: a talent in both runs dies in one if and only if it dies in
    the other."""
    died: dict[str, dict[int, bool]] = {}
    real_deaths = demography.deaths

    def recording(talents, params, draws):  # type: ignore[no-untyped-def]
        dying = real_deaths(talents, params, draws)
        died[run].update(zip(talents.id.tolist(), dying.tolist(), strict=True))
        return dying

    monkeypatch.setattr(demography, "deaths", recording)
    recruiting = small_baseline.with_overrides(
        {"levers.overseas_recruitment": {"values": {"2016-01-01": 2000}, "nodes": ["BJ", "XA"]}}
    )
    for run, scenario in (("without", small_baseline), ("with", recruiting)):
        died[run] = {}
        model = TalentModel(scenario, seed=SEED)
        for _ in range(3):
            model.step()
    both = died["without"].keys() & died["with"].keys()
    assert len(both) > 0.9 * len(died["without"])
    assert sum(died["without"][i] for i in both) > 10
    assert all(died["without"][i] == died["with"][i] for i in both)
    assert len(died["with"]) > len(died["without"])  # the recruits


def test_more_entrants_at_one_node_leave_the_other_nodes_entrants_as_they_were(
    small_baseline: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """University places at Xiong'an (the last node) from 2016 put more bachelor entrants before
    every node's short-cycle entrants in row order: read in row order, their hukou would shift.
    Keyed to their ids, every other node's entrants keep theirs."""
    made: dict[str, dict[int, tuple[int, int]]] = {}
    real_enrol = demography.enrol

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        rows = real_enrol(*args, **kwargs)
        made[run].update(zip(rows.id.tolist(), zip(rows.node.tolist(), rows.hukou.tolist()), strict=True))
        return rows

    monkeypatch.setattr(demography, "enrol", recording)
    places = small_baseline.with_overrides(
        {"levers.university_places": {"values": {"2016-01-01": 40_000}, "nodes": ["XA"]}}
    )
    for run, scenario in (("without", small_baseline), ("with", places)):
        made[run] = {}
        TalentModel(scenario, seed=SEED).step()
    xa = LAYOUT.index("XA")
    at_xa = {run: sum(node == xa for node, _ in rows.values()) for run, rows in made.items()}
    assert at_xa["with"] > at_xa["without"]
    elsewhere = [i for i, (node, _) in made["without"].items() if node != xa]
    assert len(elsewhere) > 100 and all(made["with"].get(i) == made["without"][i] for i in elsewhere)
