"""Goodness-of-fit helpers for samplers checked against exact probabilities.

Declared error rates: every test function that uses :class:`GoodnessOfFit`
runs ``m`` chi-squared tests at level ``alpha / m`` (Bonferroni), so the
function fails by chance with probability at most ``alpha`` (default 1e-4),
provided the draws' autocorrelation is accounted for. It is: the chi-squared
statistic is divided by the integrated autocorrelation time ``tau`` of the cell
indicators (``tau = N / ESS``, the largest over the cells, never below 1),
i.e. the counts are treated as ``N / tau`` independent draws.

The helper refuses to run (:class:`TooFewSamples`) when an expected count
``N_eff * p_cell`` is below 5, where the chi-squared approximation fails.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import chi2

from pgm_energy.samplers import SampleSet

#: probability that a whole test function fails although the sampler is exact
ALPHA = 1e-4
#: smallest expected count per cell for which the chi-squared approximation is trusted
MIN_EXPECTED = 5.0


class TooFewSamples(RuntimeError):
    """Raised instead of running a chi-squared test whose expected counts are too small."""


def cell_index(states: np.ndarray, columns) -> np.ndarray:
    """Joint cell of each draw over ``columns``: the first column is the most significant bit.

    This is the C order of ``exact.query(model, [names[c] for c in columns]).values``.

    Parameters
    ----------
    states : ndarray of 0/1, shape (..., n_units)

    Returns
    -------
    ndarray of int64, shape (...)
    """
    columns = list(columns)
    weights = 1 << np.arange(len(columns) - 1, -1, -1)
    return states[..., columns].astype(np.int64) @ weights


def integrated_time(cells: np.ndarray, n_cells: int) -> float:
    """Largest integrated autocorrelation time of the cell indicators, at least 1.

    Parameters
    ----------
    cells : ndarray of int, shape (n_chains, n_draws)
    """
    indicators = (cells[:, :, None] == np.arange(n_cells)).astype(np.uint8)
    ess = SampleSet(indicators, np.zeros(cells.shape), [f"c{k}" for k in range(n_cells)], temperature=1.0).effective_sample_size()
    ess = ess[np.isfinite(ess)]
    if ess.size == 0:
        return 1.0
    return max(1.0, float(cells.size / ess.min()))


def chi2_p_value(counts: np.ndarray, probabilities: np.ndarray, tau: float = 1.0) -> float:
    """p-value of Pearson's chi-squared test of ``counts`` against ``probabilities``.

    The statistic is divided by ``tau`` (draws worth ``N / tau`` independent ones).

    Raises
    ------
    TooFewSamples
        If any expected count ``(N / tau) * p`` is below :data:`MIN_EXPECTED`.
    """
    counts = np.asarray(counts, dtype=np.float64)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if counts.shape != probabilities.shape:
        raise ValueError(f"counts {counts.shape} and probabilities {probabilities.shape} differ in shape")
    if not np.isclose(probabilities.sum(), 1.0, rtol=0, atol=1e-9):
        raise ValueError(f"probabilities must sum to 1, got {probabilities.sum()!r}")
    total = counts.sum()
    expected_effective = total / tau * probabilities
    if expected_effective.min() < MIN_EXPECTED:
        raise TooFewSamples(
            f"an expected count is {expected_effective.min():.3g} < {MIN_EXPECTED} "
            f"(N = {total:g}, tau = {tau:.3g}, smallest p = {probabilities.min():.3g}): draw more samples or merge cells"
        )
    expected = total * probabilities
    statistic = float(np.sum((counts - expected) ** 2 / expected)) / tau
    return float(chi2.sf(statistic, probabilities.size - 1))


def total_variation(counts: np.ndarray, probabilities: np.ndarray) -> float:
    """Total-variation distance between the empirical distribution of ``counts`` and ``probabilities``."""
    counts = np.asarray(counts, dtype=np.float64)
    return 0.5 * float(np.abs(counts / counts.sum() - probabilities).sum())


class GoodnessOfFit:
    """Collect chi-squared tests of one sample set, then check them together with Bonferroni.

    Usage::

        gof = GoodnessOfFit(states)           # (n_chains, n_draws, n_units)
        gof.add([0, 1, 2], exact_joint)       # probabilities in C order
        gof.check(alpha=ALPHA)                # fails if any p-value < alpha / m
    """

    def __init__(self, states: np.ndarray):
        self.states = np.asarray(states)
        self.tests: list[tuple[tuple[int, ...], float]] = []

    def add(self, columns, probabilities) -> float:
        columns = tuple(int(c) for c in columns)
        probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
        n_cells = 1 << len(columns)
        if probabilities.size != n_cells:
            raise ValueError(f"{len(columns)} columns need {n_cells} probabilities, got {probabilities.size}")
        cells = cell_index(self.states, columns)
        counts = np.bincount(cells.ravel(), minlength=n_cells)
        p_value = chi2_p_value(counts, probabilities, integrated_time(cells, n_cells))
        self.tests.append((columns, p_value))
        return p_value

    def add_marginals(self, columns, marginals) -> None:
        """One two-cell test per unit: ``marginals[c]`` is the exact ``p(s_c = 1)``."""
        for column in columns:
            p = float(np.clip(marginals[column], 0.0, 1.0))
            self.add([column], [1.0 - p, p])

    def check(self, alpha: float = ALPHA) -> None:
        if not self.tests:
            raise AssertionError("no goodness-of-fit test was added")
        level = alpha / len(self.tests)
        failed = [(columns, p) for columns, p in self.tests if p < level]
        assert not failed, f"chi-squared tests rejected at level {level:.3g} (alpha={alpha}, m={len(self.tests)}): {failed}"


def joint_counts(states: np.ndarray, columns) -> np.ndarray:
    """Counts of each joint cell over ``columns`` (C order), pooled over chains and draws."""
    return np.bincount(cell_index(np.asarray(states), columns).ravel(), minlength=1 << len(list(columns)))
