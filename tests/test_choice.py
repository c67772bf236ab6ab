"""Location-choice rules (model/choice.py) on hand-made inputs with known answers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from model.choice import (
    TERMS,
    UNCHOSEN,
    WORK_HOURS_PER_DAY,
    CellGrid,
    Conditions,
    LeverTerms,
    balance_targets,
    commuting_value,
    draw_choices,
    home_probabilities,
    home_utility,
    jobs_given_homes,
    logit_probabilities,
    moving_hazard,
    net_gain_by_province,
    refuse_arrivals,
    solve_constants,
    term_effects,
    utility,
    utility_terms,
)
from model.parameters import PARAMETERS, resolve_parameters
from model.talents import Status

PARAMS = resolve_parameters({})


# --- logit_probabilities ------------------------------------------------------------------


def test_one_dominant_option_takes_nearly_everything() -> None:
    probabilities = logit_probabilities(np.array([[0.0, 50.0, 1.0, -2.0]]))
    assert probabilities[0, 1] == pytest.approx(1.0, abs=1e-12)
    assert probabilities[0, [0, 2, 3]].sum() < 1e-20


def test_equal_utilities_give_equal_shares() -> None:
    probabilities = logit_probabilities(np.full((3, 4), 7.5))
    np.testing.assert_allclose(probabilities, 0.25)


def test_shares_follow_the_logit_formula() -> None:
    utilities = np.array([[0.0, np.log(2.0), np.log(3.0)]])
    np.testing.assert_allclose(logit_probabilities(utilities), [[1 / 6, 2 / 6, 3 / 6]])


def test_unavailable_option_is_never_chosen() -> None:
    utilities = np.array([[1.0, -np.inf, 2.0], [-np.inf, 0.0, -np.inf]])
    probabilities = logit_probabilities(utilities)
    assert probabilities[0, 1] == 0.0
    np.testing.assert_allclose(probabilities[1], [0.0, 1.0, 0.0])


def test_large_utilities_do_not_overflow() -> None:
    probabilities = logit_probabilities(np.array([[1000.0, 1000.0, 990.0]]))
    assert np.isfinite(probabilities).all()
    assert probabilities[0, 0] == pytest.approx(probabilities[0, 1])


finite_utilities = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=12),
    elements=st.floats(-500, 500, allow_nan=False),
)


@settings(deadline=None, max_examples=60)
@given(finite_utilities)
def test_probabilities_are_shares_of_one(utilities: np.ndarray) -> None:
    probabilities = logit_probabilities(utilities)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)


@settings(deadline=None, max_examples=60)
@given(finite_utilities, st.floats(-100, 100))
def test_adding_a_constant_changes_nothing(utilities: np.ndarray, shift: float) -> None:
    np.testing.assert_allclose(
        logit_probabilities(utilities + shift), logit_probabilities(utilities), atol=1e-12
    )


@settings(deadline=None, max_examples=60)
@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=12),
        elements=st.floats(-500, 500, allow_nan=False),
    ),
    st.data(),
)
def test_minus_infinity_gets_zero_probability(utilities: np.ndarray, data: st.DataObject) -> None:
    column = data.draw(st.integers(0, utilities.shape[1] - 1))
    utilities = utilities.copy()
    utilities[:, column] = -np.inf
    probabilities = logit_probabilities(utilities)
    assert (probabilities[:, column] == 0).all()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)


# --- draw_choices -------------------------------------------------------------------------


def test_draw_frequencies_match_probabilities() -> None:
    probabilities = np.array([[0.1, 0.2, 0.0, 0.7], [0.25, 0.25, 0.25, 0.25], [0.0, 0.0, 1.0, 0.0]])
    rows = 60_000
    cell_of_row = np.repeat([0, 1, 2], rows)
    np.random.default_rng(0).shuffle(cell_of_row)  # rows of a cell need not be contiguous
    choice = draw_choices(probabilities, cell_of_row, np.random.default_rng(42).random(len(cell_of_row)))
    assert choice.shape == cell_of_row.shape
    for cell in range(3):
        frequencies = np.bincount(choice[cell_of_row == cell], minlength=4) / rows
        # 5 standard errors of a share estimated from 60,000 draws is at most 0.01
        np.testing.assert_allclose(frequencies, probabilities[cell], atol=0.01)
    assert not (choice[cell_of_row == 0] == 2).any(), "a zero-probability option was drawn"
    assert (choice[cell_of_row == 2] == 2).all()


def test_a_row_keeps_its_choice_while_its_draw_and_its_cells_chances_stay() -> None:
    """A row's alternative depends on its own draw and its cell's chances only: other rows'
    draws, and other cells' chances, do not move it (what common random numbers rest on)."""
    probabilities = np.array([[0.3, 0.3, 0.4], [0.5, 0.5, 0.0]])
    cells = np.array([0, 1, 0, 1] * 250, dtype=np.int64)
    u = np.random.default_rng(5).random(len(cells))
    first = draw_choices(probabilities, cells, u)
    shaken = u.copy()
    shaken[1::2] = np.random.default_rng(6).random(len(cells) // 2)  # cell 1's rows draw anew
    changed = probabilities.copy()
    changed[1] = [0.1, 0.1, 0.8]
    again = draw_choices(changed, cells, shaken)
    np.testing.assert_array_equal(again[cells == 0], first[cells == 0])
    assert (again[cells == 1] != first[cells == 1]).any()


def test_draw_never_picks_an_unavailable_last_option() -> None:
    probabilities = logit_probabilities(np.array([[0.0] * 10 + [-np.inf]]))
    assert probabilities[0, -1] == 0.0
    highest = np.full(3, np.nextafter(1.0, 0.0))  # the largest double below 1
    choice = draw_choices(probabilities, np.zeros(3, dtype=np.int64), highest)
    assert (choice < 10).all()


def test_draw_with_no_rows_gives_no_choices() -> None:
    choice = draw_choices(np.array([[0.5, 0.5]]), np.zeros(0, dtype=np.int64), np.zeros(0))
    assert choice.shape == (0,)


# --- refuse_arrivals (a population ceiling) -------------------------------------------------

# three cells choosing among a capped node, two others and leaving: the first two cells arrive
# from elsewhere, the third lives at the capped node already
CEILING_P = np.array([[0.5, 0.3, 0.1, 0.1], [0.2, 0.2, 0.4, 0.2], [0.7, 0.1, 0.1, 0.1]])
CEILING_CAPPED = np.array([True, False, False, False])
CEILING_ARRIVING = np.array([True, True, False])
CEILING_PERSONS = np.array([1000.0, 500.0, 2000.0])  # 600 would arrive: 1000 x 0.5 + 500 x 0.2


def test_refusing_arrivals_by_hand() -> None:
    """150 of the 600 who would arrive are turned away: p = 1/4; each refused chooses again
    among the rest in proportion to their probabilities; those living there choose as before."""
    new, turned_away = refuse_arrivals(CEILING_P, CEILING_ARRIVING, CEILING_CAPPED, CEILING_PERSONS, 150.0)
    # first cell: 0.5 x 3/4 stays capped; 0.125 refused goes to the rest (0.5) pro rata
    np.testing.assert_allclose(new[0], [0.375, 0.3 * 1.25, 0.1 * 1.25, 0.1 * 1.25])
    np.testing.assert_allclose(new[1], [0.15, 0.2 * 1.0625, 0.4 * 1.0625, 0.2 * 1.0625])
    np.testing.assert_array_equal(new[2], CEILING_P[2])
    np.testing.assert_allclose(new.sum(axis=1), 1.0)
    np.testing.assert_allclose(turned_away, [150.0, 0.0, 0.0, 0.0])
    assert CEILING_PERSONS @ (CEILING_P - new)[:, 0] == pytest.approx(150.0)


def test_refusing_more_than_would_arrive_turns_every_arrival_away() -> None:
    new, turned_away = refuse_arrivals(CEILING_P, CEILING_ARRIVING, CEILING_CAPPED, CEILING_PERSONS, 10_000.0)
    np.testing.assert_array_equal(new[:2, 0], 0.0)
    np.testing.assert_allclose(new.sum(axis=1), 1.0)
    assert turned_away[0] == pytest.approx(600.0)


def test_refusing_nobody_changes_nothing() -> None:
    new, turned_away = refuse_arrivals(CEILING_P, CEILING_ARRIVING, CEILING_CAPPED, CEILING_PERSONS, 0.0)
    np.testing.assert_array_equal(new, CEILING_P)
    np.testing.assert_array_equal(turned_away, 0.0)


# --- moving_hazard ------------------------------------------------------------------------


def hazard(
    age: int | np.ndarray,
    status: Status | np.ndarray,
    years: int | np.ndarray = 5,
    params: dict[str, float] = PARAMS,
) -> np.ndarray:
    age, status, years = np.broadcast_arrays(np.atleast_1d(age), np.atleast_1d(status), np.atleast_1d(years))
    return moving_hazard(age, status, years, params)


def test_students_never_consider_moving() -> None:
    assert (hazard(np.arange(18, 40), Status.STUDENT, 0) == 0).all()
    assert (hazard(np.arange(18, 40), Status.STUDENT, 5) == 0).all()


def test_unemployed_consider_moving_more_than_employed() -> None:
    ages = np.arange(22, 60)
    unemployed = hazard(ages, Status.UNEMPLOYED)
    employed = hazard(ages, Status.EMPLOYED)
    assert (unemployed > employed).all()
    np.testing.assert_allclose(unemployed / employed, PARAMS["move_hazard_unemployed_ratio"])


def test_young_settled_employed_have_the_base_hazard() -> None:
    assert hazard(30, Status.EMPLOYED, 5)[0] == pytest.approx(PARAMS["move_hazard_base"])


def test_newcomers_consider_moving_more() -> None:
    assert hazard(35, Status.EMPLOYED, 0)[0] == pytest.approx(
        hazard(35, Status.EMPLOYED, 5)[0] * PARAMS["move_hazard_newcomer_ratio"]
    )


def test_hazard_falls_with_age_over_30_and_is_flat_before() -> None:
    young = hazard(np.arange(20, 31), Status.EMPLOYED)
    older = hazard(np.arange(30, 70), Status.EMPLOYED)
    np.testing.assert_allclose(young, young[0])
    assert (np.diff(older) < 0).all()


def test_hazard_is_capped_at_one() -> None:
    params = dict(
        PARAMS, move_hazard_base=0.5, move_hazard_unemployed_ratio=20.0, move_hazard_newcomer_ratio=10.0
    )
    assert hazard(25, Status.UNEMPLOYED, 0, params)[0] == 1.0


@settings(deadline=None, max_examples=50)
@given(
    st.fixed_dictionaries(
        {
            name: st.floats(PARAMETERS[name].lower, PARAMETERS[name].upper)
            for name in PARAMS
            if name.startswith("move_hazard")
        }
    ),
    hnp.arrays(np.int16, 20, elements=st.integers(16, 100)),
    hnp.arrays(np.int8, 20, elements=st.sampled_from([int(s) for s in Status])),
    hnp.arrays(np.int16, 20, elements=st.integers(0, 60)),
)
def test_hazard_is_a_probability_for_any_declared_parameters(
    overrides: dict[str, float], age: np.ndarray, status: np.ndarray, years: np.ndarray
) -> None:
    result = moving_hazard(age, status, years, dict(PARAMS, **overrides))
    assert ((result >= 0) & (result <= 1)).all()
    assert (result[status == Status.STUDENT] == 0).all()


# --- solve_constants ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_nodes() -> tuple[CellGrid, dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """A 3-node grid with hand-made terms: node 0 pays best, node 2 is far from node 0, and
    staying put is worth 2; persons considering a move in every cell, arrivals included; where
    earlier arrivals of each kind settled (rows summing to 1)."""
    grid = CellGrid(3)
    origin = grid.attributes()[0]
    wage = np.array([0.5, 0.0, -0.3, 0.0])
    distance = np.array([[0, 1, 3, 0], [1, 0, 2, 0], [3, 2, 0, 0], [0, 0, 0, 0]], dtype=float)
    terms = {
        "wage": np.broadcast_to(wage, (grid.size, 4)).copy(),
        "distance": -0.8 * distance[origin],
        "stay": 2.0 * (origin[:, None] == np.arange(4)[None, :]),
    }
    rng = np.random.default_rng(3)
    persons = rng.uniform(1, 100, grid.size)
    arrival_shares = rng.dirichlet(np.ones(3), grid.n_kinds)
    return grid, terms, persons, arrival_shares


def hand_targets(
    grid: CellGrid, persons: np.ndarray, share_out: float, arrival_shares: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The balance written out cell by cell: residents arrive at each node in the numbers that
    consider leaving it, less those who leave the region; arrivals settle like earlier ones."""
    origin, cls = grid.attributes()[0], grid.constant_class()
    target = np.zeros((grid.n_classes, grid.n_nodes))
    target_out = np.zeros(grid.n_classes)
    for cell in range(grid.size):
        if origin[cell] < grid.n_nodes:
            target[cls[cell], origin[cell]] += persons[cell] * (1 - share_out)
            target_out[cls[cell]] += persons[cell] * share_out
        else:
            target[cls[cell]] += persons[cell] * arrival_shares[cls[cell] - grid.n_kinds]
    return target, target_out


def chosen(
    grid: CellGrid,
    terms: dict[str, np.ndarray],
    persons: np.ndarray,
    constants: np.ndarray,
    outside: np.ndarray,
) -> np.ndarray:
    """Expected persons choosing each alternative, per constant class."""
    probabilities = logit_probabilities(utility(terms, constants, outside, grid))
    out = np.zeros((grid.n_classes, grid.n_nodes + 1))
    np.add.at(out, grid.constant_class(), probabilities * persons[:, None])
    return out


def test_balance_targets_match_the_hand_written_balance(three_nodes) -> None:  # type: ignore[no-untyped-def]
    grid, _, persons, arrival_shares = three_nodes
    target, target_out = balance_targets(persons, grid, 0.12, arrival_shares)
    expected, expected_out = hand_targets(grid, persons, 0.12, arrival_shares)
    np.testing.assert_allclose(target, expected, rtol=1e-12)
    np.testing.assert_allclose(target_out, expected_out, rtol=1e-12)
    # the balance loses nobody: every chooser is somewhere in the targets
    assert target.sum() + target_out.sum() == pytest.approx(persons.sum(), rel=1e-12)


def test_a_tilt_moves_arrivals_towards_growing_nodes_and_keeps_each_kinds_total(three_nodes) -> None:  # type: ignore[no-untyped-def]
    grid, _, persons, arrival_shares = three_nodes
    balanced, balanced_out = balance_targets(persons, grid, 0.12, arrival_shares)
    tilt = np.array([1.0, 2.0, 0.5])
    target, target_out = balance_targets(persons, grid, 0.12, arrival_shares, tilt)
    np.testing.assert_allclose(target.sum(axis=1), balanced.sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(target_out, balanced_out)
    # by hand: each class's row weighted by the tilt, then scaled back to its total
    rows = balanced.sum(axis=1) > 0
    expected = balanced[rows] * tilt
    expected *= (balanced[rows].sum(axis=1) / expected.sum(axis=1))[:, None]
    np.testing.assert_allclose(target[rows], expected, rtol=1e-12)
    # a tilt of ones is the balance
    same, _ = balance_targets(persons, grid, 0.12, arrival_shares, np.ones(3))
    np.testing.assert_allclose(same, balanced, rtol=1e-12)


def test_constants_make_the_base_year_a_balance(three_nodes) -> None:  # type: ignore[no-untyped-def]
    grid, terms, persons, arrival_shares = three_nodes
    share_out = 0.12
    target, target_out = hand_targets(grid, persons, share_out, arrival_shares)
    constants, outside = solve_constants(terms, persons, grid, target, target_out)
    result = chosen(grid, terms, persons, constants, outside)
    np.testing.assert_allclose(result[:, :3], target, rtol=1e-7)
    np.testing.assert_allclose(result[:, 3], target_out, rtol=1e-7, atol=1e-9)
    residents = grid.attributes()[0] < 3
    by_class = np.bincount(grid.constant_class()[residents], persons[residents], grid.n_classes)
    resident_classes = by_class > 0
    np.testing.assert_allclose(result[resident_classes, 3] / by_class[resident_classes], share_out, rtol=1e-7)


def test_no_outside_share_means_nobody_leaves(three_nodes) -> None:  # type: ignore[no-untyped-def]
    grid, terms, persons, arrival_shares = three_nodes
    target, target_out = hand_targets(grid, persons, 0.0, arrival_shares)
    constants, outside = solve_constants(terms, persons, grid, target, target_out)
    result = chosen(grid, terms, persons, constants, outside)
    assert result[:, 3].sum() < 1e-6 * persons.sum()
    np.testing.assert_allclose(result[:, :3], target, rtol=1e-7)


def test_a_kind_that_is_to_arrive_nowhere_leaves_the_others_balanced(three_nodes) -> None:  # type: ignore[no-untyped-def]
    """Nobody of kind 0 lives at node 2, so its residents' target there is 0, which no finite
    constant meets: with that constant at 0 the correction raises the kind's others without end,
    by about log k after k steps, and leaves their targets short (0.11 % after 200 steps). That
    constant is ``UNCHOSEN`` from the start, and within 200 steps every other target is met."""
    grid, terms, persons, arrival_shares = three_nodes
    origin, kind = grid.attributes()[0], grid.kind()
    persons = np.where((kind == 0) & (origin == 2), 0.0, persons)
    target, target_out = hand_targets(grid, persons, 0.12, arrival_shares)
    nowhere = target == 0
    assert np.argwhere(nowhere).tolist() == [[0, 2]]
    constants, outside = solve_constants(terms, persons, grid, target, target_out, iterations=200)
    assert constants[0, 2] == UNCHOSEN
    result = chosen(grid, terms, persons, constants, outside)
    np.testing.assert_allclose(result[:, :3][~nowhere], target[~nowhere], rtol=1e-7)
    assert result[0, 2] < 1e-9 * persons.sum()
    np.testing.assert_allclose(result[:, 3], target_out, rtol=1e-7, atol=1e-9)


# --- net_gain_by_province -----------------------------------------------------------------


def test_net_gain_by_province_by_hand() -> None:
    """Nodes 0 and 1 are in Beijing, node 2 in Hebei. 100 persons at node 0 go 50 % to node 0
    (stay), 30 % to node 1 (same province), 10 % to node 2 and 10 % out of the region; 10
    persons from outside go 20/30/50 % to nodes 0/1/2. Beijing: -20 + 5 = -15; Tianjin: 0;
    Hebei: +10 + 5 = +15."""
    grid = CellGrid(3)
    origin = grid.attributes()[0]
    from_node_0 = np.flatnonzero(origin == 0)[0]
    from_outside = np.flatnonzero(origin == 3)[0]
    probabilities = np.full((grid.size, 4), 0.25)
    probabilities[from_node_0] = [0.5, 0.3, 0.1, 0.1]
    probabilities[from_outside] = [0.2, 0.3, 0.5, 0.0]
    persons = np.zeros(grid.size)
    persons[from_node_0] = 100.0
    persons[from_outside] = 10.0
    gains = net_gain_by_province(probabilities, persons, grid, np.array([0, 0, 2]))
    np.testing.assert_allclose(gains, [-15.0, 0.0, 15.0])


def test_terms_that_did_not_change_explain_nothing(three_nodes) -> None:  # type: ignore[no-untyped-def]
    grid, terms, persons, arrival_shares = three_nodes
    constants, outside = solve_constants(
        terms, persons, grid, *hand_targets(grid, persons, 0.12, arrival_shares)
    )
    base_terms = {term: np.zeros((grid.size, 4)) for term in TERMS}
    base_terms.update(terms)
    now = dict(base_terms)
    now["wage"] = terms["wage"] + np.array([0.0, 0.0, 0.4, 0.0])  # node 2 (Hebei) pays more
    effects = term_effects(now, base_terms, constants, outside, grid, persons, np.array([0, 1, 2]))
    assert set(effects) == set(TERMS)
    for term, effect in effects.items():
        if term != "wage":
            assert (effect == 0).all(), term
    assert effects["wage"][2] > 0 > effects["wage"][0]


# --- home and job: the nested home choice ---------------------------------------------------


def commuting_conditions(cut: float = 0.0) -> Conditions:
    """Two nodes 40 km apart and a third 300 km away: node 0 dear, node 1 cheap."""
    n = 3
    levers = LeverTerms.none(n)
    commute_cut = np.zeros((n, n))
    commute_cut[0, 1] = commute_cut[1, 0] = cut
    return Conditions(
        wage=np.full((5, n), 100_000.0),
        job_chance=np.ones((5, n)),
        price=np.array([40_000.0, 10_000.0, 10_000.0]),
        services=np.array([1.0, 0.6, 0.6]),
        group_share_ratio=np.ones((5, n)),
        outside_wage=1.0,
        levers=replace(levers, commute_cut=commute_cut),
    )


DISTANCE = np.array([[0.0, 40.0, 300.0], [40.0, 0.0, 300.0], [300.0, 300.0, 0.0]])


def test_home_utility_by_hand() -> None:
    p = PARAMS
    home = home_utility(commuting_conditions(), DISTANCE, p)
    housing = -p["beta_housing"] * 10_000.0 * p["floor_area_m2"] * p["user_cost_rate"] / 100_000.0
    hours = 2 * 40.0 / p["commute_speed_kmh"]
    commute = p["beta_wage"] * np.log(1 - p["commute_time_value_share"] * hours / WORK_HOURS_PER_DAY)
    expected = housing + p["beta_services"] * 0.6 + commute + p["commute_home_constant"]
    assert home[0, 0, 1] == pytest.approx(expected)  # works at 0, lives at 1
    assert home[0, 0, 2] == -np.inf  # 300 km: out of range
    assert home[0, 2, 0] == -np.inf and home[0, 2, 1] == -np.inf


def test_option_value_is_the_logsum_and_zero_without_homes_in_range() -> None:
    p = PARAMS
    home = home_utility(commuting_conditions(), DISTANCE, p)
    value = commuting_value(home, p)
    lam = p["commute_nest_scale"]
    assert value[0, 0] == pytest.approx(lam * np.log(1 + np.exp((home[0, 0, 1] - home[0, 0, 0]) / lam)))
    assert value[0, 2] == 0.0  # node 2 has no other home in range
    no_commuting = {**p, "commute_max_km": 0.0}
    np.testing.assert_array_equal(
        commuting_value(home_utility(commuting_conditions(), DISTANCE, no_commuting), no_commuting), 0.0
    )


def test_home_probabilities_are_a_nested_logit_and_a_faster_commute_raises_living_away() -> None:
    p = PARAMS
    home = home_utility(commuting_conditions(), DISTANCE, p)
    probabilities = home_probabilities(home, p)
    np.testing.assert_allclose(probabilities.sum(axis=2), 1.0)
    assert probabilities[0, 2, 2] == 1.0  # nowhere else to live
    faster = home_probabilities(home_utility(commuting_conditions(cut=0.5), DISTANCE, p), p)
    assert faster[0, 0, 1] > probabilities[0, 0, 1] > 0
    assert faster[0, 2, 2] == 1.0  # the cut is between nodes 0 and 1 only


def test_jobs_given_homes_turns_the_home_choice_round_by_hand() -> None:
    # one group, two nodes: a fifth of node 0's workers live at 1, all of node 1's live there;
    # 800 in work live at 0, 300 at 1
    homes = np.array([[[0.8, 0.2], [0.0, 1.0]]])  # P(h | j): rows j, columns h
    in_work = np.array([[800.0, 300.0]])
    jobs = jobs_given_homes(homes, in_work)  # P(j | h): rows h, columns j
    np.testing.assert_allclose(jobs[0, 0], [1.0, 0.0])  # nobody living at 0 works at 1
    # living at 1: 0.2 x 800 = 160 work at 0 against 1.0 x 300 = 300 at 1
    np.testing.assert_allclose(jobs[0, 1], [160 / 460, 300 / 460])
    # a group with nobody in work keeps its home node
    np.testing.assert_allclose(jobs_given_homes(homes, np.zeros((1, 2)))[0], np.eye(2))


def test_leaving_the_region_pays_what_china_s_wage_has_gained_to_those_in_work() -> None:
    """OUT's wage term is beta_wage x log(W_out), W_out = 1 in the base year; the retired draw
    no wage, so theirs stays 0; no other alternative changes."""
    grid = CellGrid(3)
    base = commuting_conditions()
    now = replace(base, outside_wage=1.25)
    before = utility_terms(grid, base, DISTANCE, np.array([0, 0, 1]), PARAMS)
    after = utility_terms(grid, now, DISTANCE, np.array([0, 0, 1]), PARAMS)
    is_retired = grid.attributes()[4] == 1
    expected = np.where(is_retired, 0.0, PARAMS["beta_wage"] * np.log(1.25))
    np.testing.assert_allclose(after["wage"][:, 3] - before["wage"][:, 3], expected)
    np.testing.assert_array_equal(after["wage"][:, :3], before["wage"][:, :3])
    assert (before["wage"][:, 3] == 0).all()


def test_leaving_the_region_costs_a_talent_of_the_region_s_hukou_its_barrier() -> None:
    """OUT's barrier is -hukou_barrier_outside for a hukou of one of the region's provinces
    (0-2); a talent registered elsewhere in China goes home and a foreign one holds no hukou:
    theirs is 0. The nodes' barriers do not change with it."""
    grid = CellGrid(3)
    province = np.array([0, 0, 1])
    low = utility_terms(
        grid, commuting_conditions(), DISTANCE, province, PARAMS | {"hukou_barrier_outside": 0.0}
    )
    high = utility_terms(
        grid, commuting_conditions(), DISTANCE, province, PARAMS | {"hukou_barrier_outside": 2.5}
    )
    hukou = grid.attributes()[3]
    np.testing.assert_array_equal(high["barriers"][:, 3], np.where(hukou <= 2, -2.5, 0.0))
    assert (low["barriers"][:, 3] == 0).all()
    np.testing.assert_array_equal(high["barriers"][:, :3], low["barriers"][:, :3])
