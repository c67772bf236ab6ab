"""The budget optimiser on a problem with a known optimum."""

from __future__ import annotations

import math

import pytest

from experiments.optimise import Decision, Outcome, frontier, optimise

DECISIONS = [Decision("x", 0.0, 100.0), Decision("y", 0.0, 100.0)]


def evaluate(packages, seeds):
    """Objective 10 sqrt(x) + 20 sqrt(y) at spending x + y; under a budget B the optimum spends
    it all with x / y = 10^2 / 20^2."""
    return [Outcome(10 * math.sqrt(p["x"]) + 20 * math.sqrt(p["y"]), p["x"] + p["y"]) for p in packages]


def best_possible(budget):
    x = budget * 100 / 500
    return 10 * math.sqrt(x) + 20 * math.sqrt(budget - x)


@pytest.mark.parametrize("budget", [50.0, 100.0])
def test_finds_the_known_optimum_within_the_budget(budget):
    result = optimise(DECISIONS, evaluate, budget, trials=80, batch=8, seed=3)
    assert result.confirmed is not None
    assert result.confirmed.spending_cny <= budget
    assert result.confirmed.objective == pytest.approx(best_possible(budget), rel=0.03)


def test_the_search_is_reproducible_for_a_seed():
    first = optimise(DECISIONS, evaluate, 100.0, trials=20, batch=4, seed=7)
    again = optimise(DECISIONS, evaluate, 100.0, trials=20, batch=4, seed=7)
    assert [t.package for t in first.trials] == [t.package for t in again.trials]


def test_a_budget_no_package_meets_returns_no_package():
    def dear(packages, seeds):
        return [Outcome(p["x"], 1000.0 + p["x"]) for p in packages]

    result = optimise(DECISIONS, dear, 100.0, trials=6, batch=3, seed=1)
    assert result.best is None and result.confirmed is None
    assert math.isnan(frontier([result])[0]["objective"])


def test_a_package_that_breaks_the_budget_on_fresh_seeds_is_not_returned():
    def noisy(packages, seeds):
        extra = 30.0 if seeds == "confirm" else 0.0
        return [Outcome(p["x"] + p["y"], p["x"] + p["y"] + extra * (p["x"] > 50)) for p in packages]

    result = optimise(DECISIONS, noisy, 100.0, trials=30, batch=6, seed=2)
    assert result.confirmed is not None and result.confirmed.spending_cny <= 100.0


def test_the_start_package_is_evaluated_first_and_one_outside_the_ranges_is_not():
    start = {"x": 30.0, "y": 40.0}
    result = optimise(DECISIONS, evaluate, 100.0, trials=6, batch=3, seed=4, start=start)
    assert dict(result.trials[0].package) == start
    outside = optimise(DECISIONS, evaluate, 100.0, trials=6, batch=3, seed=4, start={"x": 30.0, "y": 400.0})
    assert dict(outside.trials[0].package) != {"x": 30.0, "y": 400.0}
    on_a_grid = [Decision("x", 0.0, 100.0, step=20.0), Decision("y", 0.0, 100.0, step=20.0)]
    off_grid = optimise(on_a_grid, evaluate, 100.0, trials=3, batch=3, seed=4, start=start)
    assert dict(off_grid.trials[0].package) != start
