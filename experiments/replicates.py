"""Replicates: the seeds a scenario is run on, and the interval reported over them.

Every command that runs a scenario more than once (compare, validate, calibrate, sweep) takes its
seeds from ``replicate_seeds`` and reports the spread over them as the 5th to 95th percentile
(``LOWER``, ``UPPER``; linear interpolation), in columns named with ``P05`` and ``P95``. The same
root gives the same seeds, so replicate ``r`` of two scenarios shares its random numbers (common
random numbers) and their difference is measured seed by seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from model.errors import ScenarioError

LOWER, UPPER = 0.05, 0.95
"""Quantiles bounding the 90 % interval over replicates."""
P05, P95 = "p05", "p95"
"""The names of those bounds in every table (``simulated_p05``, ``effect_p95``, ``p05``, ...)."""


def replicate_seeds(root: int, replicates: int) -> list[int]:
    """``replicates`` integer seeds from ``np.random.SeedSequence(root).spawn(replicates)``, each
    below 2**63 (the range a scenario's seed may take).

    Raises:
        ScenarioError: ``replicates`` is not a whole number >= 1.
    """
    if isinstance(replicates, bool) or not isinstance(replicates, int) or replicates < 1:
        raise ScenarioError(f"command line: --replicates: value {replicates!r}: must be a whole number >= 1")
    return _seeds(np.random.SeedSequence(root).spawn(replicates))


def keyed_seeds(root: int, key: Sequence[int], count: int) -> list[int]:
    """``count`` seeds of the stream ``key`` under ``root``:
    ``np.random.SeedSequence(root, spawn_key=key).spawn(count)``. Their spawn keys are ``key``
    and one more number, so with a ``key`` of one number or more none is one of
    ``replicate_seeds(root, n)`` (spawn keys of one number), whatever ``n``."""
    return _seeds(np.random.SeedSequence(root, spawn_key=tuple(key)).spawn(count))


def _seeds(children: Sequence[np.random.SeedSequence]) -> list[int]:
    """One integer seed below 2**63 from each child sequence."""
    return [int(child.generate_state(1, np.uint64)[0] >> np.uint64(1)) for child in children]


def interval(values: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """The 5th and 95th percentiles of ``values``."""
    low, high = np.quantile(np.asarray(values, dtype=float), [LOWER, UPPER])
    return float(low), float(high)


def grouped_interval(groups: pd.core.groupby.SeriesGroupBy) -> tuple[pd.Series, pd.Series]:
    """The 5th and 95th percentiles of each group."""
    return groups.quantile(LOWER), groups.quantile(UPPER)
