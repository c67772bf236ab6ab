"""The best lever package for a budget: a search over lever values with spending as a constraint.

A package x sets the levers that may change (each within its bounds). Running the model on a
set of replicate seeds gives, for each package, the mean of the objective f(x) (e.g. Hebei's
talents in 2030) and the mean cumulative spending c(x) (an outcome of the run: recipients times
amounts). For a budget B the optimiser seeks

    max f(x)  subject to  c(x) <= B

with Optuna's TPE sampler, whose constraint handling keeps proposing packages near the feasible
ones (a package whose mean spending exceeds the budget is infeasible: its violation c(x) - B is
reported to the sampler). Packages are proposed and evaluated in synchronous batches
(``study.ask`` a batch, run it through the project's runner, ``study.tell`` the results), so a
search is reproducible for a given seed whatever the number of workers. Every package is
evaluated on the same seeds (common random numbers), so packages are compared without the noise
of different draws. The best feasible package is re-run on fresh seeds to confirm it; if the
confirmation breaks the budget, the next best is confirmed instead.

This module is the search; the command (``jjj-talent optimise``) builds packages into scenarios
and evaluates them through the runner.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import optuna

log = logging.getLogger(__name__)

CONFIRMATIONS = 3  # best packages re-run, in order, until one keeps within the budget


@dataclass(frozen=True)
class Decision:
    """One lever value the search may change.

    Attributes:
        path: what it sets, as a dotted scenario path (``levers.NAME.values.YYYY-MM-DD``).
        lower, upper: its range, within the lever's declared bounds.
        step: the search's grid, in the lever's unit (None: any value); a planner's amounts are
            round numbers, and a coarse grid spends no trials on differences below the noise.
    """

    path: str
    lower: float
    upper: float
    step: float | None = None

    def admits(self, value: float) -> bool:
        """Whether the search can propose ``value``: within the range, and on the grid if any."""
        if not self.lower <= value <= self.upper:
            return False
        if self.step is None:
            return True
        steps = (value - self.lower) / self.step
        return abs(steps - round(steps)) < 1e-9 * max(1.0, steps)


@dataclass(frozen=True)
class Outcome:
    """A package's results over the replicate seeds: means of objective and spending (CNY),
    and, where the evaluator gives them, the values replicate by replicate (for intervals)."""

    objective: float
    spending_cny: float
    objective_values: tuple[float, ...] = ()
    spending_values: tuple[float, ...] = ()


Evaluate = Callable[[Sequence[Mapping[str, float]], str], list[Outcome]]
"""Evaluates packages (path -> value) on a set of seeds named by the second argument: "search"
(the common seeds of the search) or "confirm" (fresh ones)."""


@dataclass(frozen=True)
class Trial:
    package: Mapping[str, float]
    outcome: Outcome
    feasible: bool


@dataclass(frozen=True)
class BudgetResult:
    """The search for one budget.

    Attributes:
        budget_cny: the budget.
        trials: every package evaluated, in order.
        best: the confirmed best package (None if no package kept within the budget).
        confirmed: its outcome on fresh seeds.
    """

    budget_cny: float
    trials: list[Trial]
    best: Mapping[str, float] | None
    confirmed: Outcome | None


def optimise(
    decisions: Sequence[Decision],
    evaluate: Evaluate,
    budget_cny: float,
    *,
    trials: int,
    batch: int,
    seed: int,
    maximise: bool = True,
    start: Mapping[str, float] | None = None,
) -> BudgetResult:
    """Search the best package within ``budget_cny`` in ``trials`` evaluations, ``batch`` at a time.

    ``start`` (e.g. the base scenario's values) is the first package evaluated, where every
    decision admits its value (``Decision.admits``): the planner's own package competes, so a
    search of few trials never returns one worse than it, noise aside.
    """
    sign = 1.0 if maximise else -1.0

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our log says how far it is
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, max(2, trials // 3)))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    if start is not None and all(d.admits(start.get(d.path, math.nan)) for d in decisions):
        study.enqueue_trial({d.path: float(start[d.path]) for d in decisions})
    done: list[Trial] = []
    while len(done) < trials:
        asked = [study.ask() for _ in range(min(batch, trials - len(done)))]
        packages = [
            {d.path: trial.suggest_float(d.path, d.lower, d.upper, step=d.step) for d in decisions}
            for trial in asked
        ]
        outcomes = evaluate(packages, "search")
        for trial, package, outcome in zip(asked, packages, outcomes):
            trial.set_constraint("budget", outcome.spending_cny - budget_cny)  # feasible when <= 0
            study.tell(trial, sign * outcome.objective)
            done.append(Trial(package, outcome, outcome.spending_cny <= budget_cny))
        log.info("budget %.3g CNY: %d of %d packages evaluated", budget_cny, len(done), trials)
    ranked = sorted((t for t in done if t.feasible), key=lambda t: -sign * t.outcome.objective)
    for candidate in ranked[:CONFIRMATIONS]:
        confirmed = evaluate([candidate.package], "confirm")[0]
        if confirmed.spending_cny <= budget_cny:
            return BudgetResult(budget_cny, done, candidate.package, confirmed)
        log.info(
            "budget %.3g CNY: a package broke the budget on fresh seeds; confirming the next", budget_cny
        )
    return BudgetResult(budget_cny, done, None, None)


def frontier(results: Sequence[BudgetResult]) -> list[dict[str, float]]:
    """One row per budget: the confirmed objective and spending of its best package."""
    rows = []
    for result in results:
        row = {
            "budget_cny": result.budget_cny,
            "objective": result.confirmed.objective if result.confirmed else math.nan,
            "spending_cny": result.confirmed.spending_cny if result.confirmed else math.nan,
            "feasible_trials": sum(t.feasible for t in result.trials),
            "trials": len(result.trials),
        }
        row.update(result.best or {})
        rows.append(row)
    return rows
