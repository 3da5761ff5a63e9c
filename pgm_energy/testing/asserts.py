"""Statistical asserts with declared error rates, for tests of samplers and of models.

Each assert is a hypothesis test at a level you choose: with ``alpha=1e-3`` it fails with
probability at most 1e-3 when the samples do come from the target (its *false-failure rate*), so
a suite of ``N`` such asserts fails by chance with probability at most ``N * alpha`` (with fixed
seeds, a run is reproducible: the rate is over seeds). An assert that makes several tests at
once (one per variable) splits ``alpha`` among them (Bonferroni), so ``alpha`` is the rate of the
whole assert. Each refuses to run (:class:`TooFewSamples`) where its approximation fails: an
expected count below ``min_expected`` (5 by default, the textbook rule for Pearson's χ² and the
G-test).

Draws of a Markov chain are correlated: pass them as ``(n_chains, n_draws, n_variables)`` (or a
sample set) and the statistic is divided by the largest integrated autocorrelation time of the
cells' indicators (counts treated as ``N / tau`` independent draws), so the declared rate holds
approximately for chains that mix (measured: 8% at a declared 5% on a lazy two-state chain whose
draws are worth 19 times fewer, 4 chains of 3,000 draws, against 72% without the correction);
rows of a 2-D array are taken as independent draws.

- :func:`assert_samples_match`: the joint of a few variables against target probabilities.
- :func:`assert_marginals_match`: each variable's marginal, one test per variable.
- :class:`GoodnessOfFit`: several joints and marginals of one sample set, checked together at one rate.
- :func:`assert_same_distribution`: two models' normalised distributions, exactly (enumeration).
- :func:`joint_frequencies` and :func:`total_variation`: the empirical joint, and its distance to a
  target (a descriptive bound, no declared rate).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping

import numpy as np

from .._validation import check_int, check_sequence, describe
from ..exceptions import ParameterTypeError, StateError, ValidationError
from ._samples import NO_TARGET, Draws, is_factor, probabilities_array

__all__ = [
    "DistributionMismatch",
    "GoodnessOfFit",
    "TooFewSamples",
    "assert_marginals_match",
    "assert_same_distribution",
    "assert_samples_match",
    "joint_frequencies",
    "total_variation",
]

#: smallest expected count per cell for which the χ² / G approximation is trusted
MIN_EXPECTED = 5.0
_TESTS = ("chi2", "g")


class DistributionMismatch(AssertionError):
    """The samples (or the two models) do not have the target distribution, at the declared level.

    Attributes
    ----------
    p_value : float
        The smallest p-value of the assert's tests (NaN for :func:`assert_same_distribution`).
    """

    def __init__(self, message: str, p_value: float = math.nan):
        super().__init__(message)
        self.p_value = p_value


class TooFewSamples(ValidationError):
    """An expected count is below the minimum for which the test's approximation holds: draw more."""


# ---------------------------------------------------------------------------- options
def _check_level(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise ParameterTypeError(f"alpha must be a probability in (0, 1), got {describe(alpha)}")
    if not 0.0 < float(alpha) < 1.0:
        raise ValidationError(f"alpha must be a probability in (0, 1), got {alpha!r}")
    return float(alpha)


def _check_options(test, min_expected, rare) -> float:
    if not isinstance(test, str) or test not in _TESTS:
        raise ValidationError(f"test must be 'chi2' or 'g', got {describe(test)}")
    if not isinstance(rare, str) or rare not in ("refuse", "pool"):
        raise ValidationError(f"rare must be 'refuse' or 'pool', got {describe(rare)}")
    if isinstance(min_expected, bool) or not isinstance(min_expected, numbers.Real):
        raise ParameterTypeError(f"min_expected must be a positive number, got {describe(min_expected)}")
    if not 0.0 < float(min_expected) < math.inf:
        raise ValidationError(f"min_expected must be a positive number, got {min_expected!r}")
    return float(min_expected)


def _integrated_time(cells: np.ndarray, n_cells: int) -> float:
    """Largest integrated autocorrelation time over the cell indicators (1 for a single chain of independent
    rows is not assumed: a single chain is measured too), at least 1; NaN-free."""
    n_chains, n_draws = cells.shape
    if n_draws < 4:
        return 1.0
    worst = 1.0
    for cell in range(n_cells):
        x = (cells == cell).astype(np.float64)
        x -= x.mean(axis=1, keepdims=True)
        variance = float((x * x).mean())
        if variance == 0.0:
            continue
        # Geyer's initial positive sequence on the chains' mean autocovariance
        spectrum = np.fft.rfft(x, n=2 * n_draws, axis=1)
        autocovariance = np.fft.irfft(spectrum * np.conj(spectrum), axis=1)[:, :n_draws].mean(axis=0) / n_draws
        rho = autocovariance / autocovariance[0]
        tau, lag = 1.0, 1
        while lag + 1 < n_draws:
            pair = rho[lag] + rho[lag + 1]
            if pair <= 0:
                break
            tau += 2.0 * pair
            lag += 2
        worst = max(worst, tau)
    return worst


def _statistic(counts: np.ndarray, probabilities: np.ndarray, tau: float, test: str, min_expected: float,
               pool: bool) -> float:
    """p-value of the goodness-of-fit test of ``counts`` (draws worth ``N / tau`` independent ones)."""
    from scipy.stats import chi2

    total = counts.sum()
    support = probabilities > 0
    if counts[~support].sum() > 0:
        return 0.0  # a state of probability zero was drawn: no distribution test is needed
    probabilities = probabilities[support]
    counts = counts[support]
    if pool:
        counts, probabilities = _pooled(counts, probabilities, total / tau, min_expected)
    effective = total / tau * probabilities
    if effective.min() < min_expected:
        raise TooFewSamples(
            f"samples: an expected count is {effective.min():.3g} < min_expected={min_expected:g} (N = {total:g} draws worth "
            f"{total / tau:.3g} independent ones, smallest probability {probabilities.min():.3g}): draw more "
            "samples, test fewer variables together, or pass rare='pool'"
        )
    if probabilities.size < 2:
        return 1.0  # one cell (all the mass, or all pooled): nothing to test
    expected = total * probabilities
    if test == "chi2":
        statistic = float(np.sum((counts - expected) ** 2 / expected))
    else:  # G-test: twice the log-likelihood ratio
        observed = counts > 0
        statistic = 2.0 * float(np.sum(counts[observed] * np.log(counts[observed] / expected[observed])))
    return float(chi2.sf(statistic / tau, probabilities.size - 1))


def _pooled(counts: np.ndarray, probabilities: np.ndarray, n_effective: float, min_expected: float):
    """Cells expected fewer than ``min_expected`` times pooled into one; a pool still too small joins the
    least likely of the other cells."""
    rare = n_effective * probabilities < min_expected
    if not rare.any() or rare.all():
        return counts, probabilities  # nothing to pool, or nothing to pool into (refused by the caller)
    kept_counts, kept_p = counts[~rare], probabilities[~rare]
    pool_count, pool_p = counts[rare].sum(), probabilities[rare].sum()
    if n_effective * pool_p >= min_expected:
        return np.append(kept_counts, pool_count), np.append(kept_p, pool_p)
    smallest = int(np.argmin(kept_p))
    kept_counts, kept_p = kept_counts.copy(), kept_p.copy()
    kept_counts[smallest] += pool_count
    kept_p[smallest] += pool_p
    return kept_counts, kept_p


def _cells(picked: np.ndarray, cards: list) -> np.ndarray:
    """Joint cell of each draw in C order (the first variable slowest), shape (n_chains, n_draws)."""
    return np.ravel_multi_index(tuple(np.moveaxis(picked, -1, 0)), tuple(cards))


class _Fit:
    """One goodness-of-fit test of a joint: its counts, target, autocorrelation time and p-value."""

    def __init__(self, draws: Draws, target, variables, cardinalities, state_names, test, min_expected, pool):
        picked, self.columns, self.cards, table = draws.select(variables, target, cardinalities, state_names)
        self.table = table.ravel()
        cells = _cells(picked, self.cards)
        self.counts = np.bincount(cells.ravel(), minlength=self.table.size).astype(np.float64)
        self.tau = _integrated_time(cells, self.table.size) if draws.chains else 1.0
        self.test = test
        self.p_value = _statistic(self.counts, self.table, self.tau, test, min_expected, pool)

    def describe(self) -> str:
        frequencies = self.counts / self.counts.sum()
        worst = int(np.argmax(np.abs(frequencies - self.table)))
        return (f"variables {self.columns}: {self.test} p-value {self.p_value:.3g}; largest gap at cell "
                f"{tuple(int(i) for i in np.unravel_index(worst, tuple(self.cards)))}: frequency {frequencies[worst]:.4f} against "
                f"{self.table[worst]:.4f} (N = {self.counts.sum():g}, tau = {self.tau:.3g})")


# ---------------------------------------------------------------------------- asserts
def assert_samples_match(samples, target, *, variables=None, cardinalities=None, state_names=None, alpha=1e-3,
                         test="chi2", min_expected=MIN_EXPECTED, rare="refuse") -> float:
    """Assert that the joint of ``variables`` in ``samples`` has the distribution ``target``.

    Parameters
    ----------
    samples : SampleSet, pandas DataFrame, or array of state indices
        Shape (n_draws, n_variables) or a DataFrame (independent rows, as pgmpy's
        ``forward_sample`` returns), or (n_chains, n_draws, n_variables) or a sample set (chains:
        their autocorrelation is accounted for; pass one chain's rows as shape
        (1, n_draws, n_variables)). A frame's columns hold state indices or state names.
    target : array_like of probabilities, or a pgmpy ``DiscreteFactor``
        An array is the joint over ``variables`` in C order (the last variable fastest), shape
        ``cardinalities`` or flat, summing to 1. A factor (``VariableElimination.query(...,
        joint=True)``, ``exact.query``) is matched to the samples by variable and state names
        where the samples have them (frames, sample sets), and normalised.
    variables : sequence, optional
        The columns to test together: labels of a frame's columns, names or positions of a
        sample set's variables, positions of an array's columns (default: the factor's
        variables, else every column). The cells multiply: test a few at a time.
    cardinalities : sequence of int, optional
        States of each variable (default: the factor's, else the array target's shape, else 2 each).
    state_names : mapping of column -> sequence of states, optional
        For frames holding state names: a column's states in index order (pgmpy's
        ``model.states``). A factor target supplies its own.
    alpha : float in (0, 1), default 1e-3
        The false-failure rate: the probability that this assert fails for samples that do
        come from ``target``.
    test : {"chi2", "g"}, default "chi2"
        Pearson's χ² or the G-test (likelihood ratio); the same asymptotic distribution.
    min_expected : float, default 5
        The smallest expected count (in independent-draw units) the test's approximation is
        trusted with.
    rare : {"refuse", "pool"}, default "refuse"
        What to do with cells expected fewer than ``min_expected`` times: refuse to test
        (:class:`TooFewSamples`), or pool them into one cell (folded into the least likely
        other cell if the pool is still too small), the usual remedy for rare states (a drawn
        state of probability zero still fails; a test left with one cell has nothing to test and
        passes).

    Returns
    -------
    float
        The p-value.

    Raises
    ------
    DistributionMismatch
        When the p-value is below ``alpha`` (also when a state of target probability zero was drawn).
    TooFewSamples
        When an expected count is below ``min_expected`` (``rare="refuse"``, or too few draws
        for even two pooled cells).

    Examples
    --------
    >>> import numpy as np
    >>> draws = np.random.default_rng(0).choice(3, size=(5000, 1), p=[0.2, 0.3, 0.5])
    >>> p = assert_samples_match(draws, [0.2, 0.3, 0.5], cardinalities=[3])
    """
    checks = GoodnessOfFit(samples, alpha=alpha, test=test, min_expected=min_expected, rare=rare,
                           state_names=state_names)
    p_value = checks.joint(variables, target, cardinalities=cardinalities)
    checks.check()
    return p_value


def assert_marginals_match(samples, marginals, *, state_names=None, alpha=1e-3, test="chi2",
                           min_expected=MIN_EXPECTED, rare="refuse") -> list:
    """Assert that each variable's marginal in ``samples`` is its target marginal: one test per variable.

    Parameters
    ----------
    samples : as :func:`assert_samples_match`
    marginals : sequence, or mapping of variable -> distribution
        A mapping's keys are variables as in :func:`assert_samples_match`; a sequence gives the
        columns in order. Each distribution is an array over the variable's states, a pgmpy
        factor of that one variable, or a number: ``p(s = 1)`` of a binary unit (so a 1-D array
        gives every binary unit's marginal).
    state_names, alpha, test, min_expected, rare : as :func:`assert_samples_match`
        ``alpha`` is the rate of the whole assert: each of the ``m`` tests runs at ``alpha / m``.

    Returns
    -------
    list of float
        The p-values, in the order given.
    """
    checks = GoodnessOfFit(samples, alpha=alpha, test=test, min_expected=min_expected, rare=rare,
                           state_names=state_names)
    p_values = checks.marginals(marginals)
    checks.check()
    return p_values


class GoodnessOfFit:
    """Several goodness-of-fit tests of one sample set, checked together at one false-failure rate.

    Add the joints and marginals to test with :meth:`joint` and :meth:`marginals` (each computes
    its p-value at once, and refuses with :class:`TooFewSamples` where the test's approximation
    fails), then call :meth:`check`: it runs each of the ``m`` tests at level ``alpha / m``
    (Bonferroni), so the whole collection fails with probability at most ``alpha`` when the samples
    come from the targets, however the tests depend on each other.

    Parameters
    ----------
    samples, state_names, test, min_expected, rare : as :func:`assert_samples_match`
    alpha : float in (0, 1), default 1e-3
        The false-failure rate of :meth:`check`.

    Attributes
    ----------
    p_values : list of (tuple, float)
        The variables and p-value of each test added, in order.

    Examples
    --------
    >>> import numpy as np
    >>> draws = np.random.default_rng(1).integers(0, 2, size=(8000, 3))
    >>> checks = GoodnessOfFit(draws, alpha=1e-3)
    >>> _ = checks.marginals([0.5, 0.5, 0.5])
    >>> _ = checks.joint([0, 2], np.full((2, 2), 0.25))
    >>> checks.check()
    """

    def __init__(self, samples, *, alpha=1e-3, test="chi2", min_expected=MIN_EXPECTED, rare="refuse",
                 state_names=None):
        self.alpha = _check_level(alpha)
        self._min_expected = _check_options(test, min_expected, rare)
        self._test, self._pool = test, rare == "pool"
        self._draws = Draws(samples)
        self._state_names = state_names
        self._fits: list[_Fit] = []

    @property
    def p_values(self) -> list:
        return [(tuple(fit.columns), fit.p_value) for fit in self._fits]

    def joint(self, variables, target, *, cardinalities=None) -> float:
        """Add the test of the joint of ``variables`` against ``target`` (as in :func:`assert_samples_match`).

        Returns
        -------
        float
            Its p-value.
        """
        fit = _Fit(self._draws, target, variables, cardinalities, self._state_names, self._test,
                   self._min_expected, self._pool)
        self._fits.append(fit)
        return fit.p_value

    def marginals(self, marginals) -> list:
        """Add one test per variable of ``marginals`` (the forms of :func:`assert_marginals_match`).

        Returns
        -------
        list of float
            Their p-values, in the order given.
        """
        p_values = []
        for variable, distribution in _marginal_items(marginals, self._draws):
            cardinalities = None if is_factor(distribution) else [distribution.size]
            try:
                p_values.append(self.joint([variable], distribution, cardinalities=cardinalities))
            except (StateError, ValidationError) as error:  # TooFewSamples too: say which marginal
                raise type(error)(f"marginals[{variable!r}]: {error}") from error
        return p_values

    def check(self) -> None:
        """Raise :class:`DistributionMismatch` naming every test whose p-value is below ``alpha / m``."""
        if not self._fits:
            raise StateError("GoodnessOfFit.check: no test was added (call joint or marginals first)")
        level = self.alpha / len(self._fits)
        failed = [fit for fit in self._fits if fit.p_value < level]
        if failed:
            what = "the samples do not follow the target" if len(self._fits) == 1 else \
                f"{len(failed)} of {len(self._fits)} tests rejected at level {level:.3g} each"
            raise DistributionMismatch(
                f"{what} (alpha={self.alpha:g}):\n" + "\n".join(fit.describe() for fit in failed),
                min(fit.p_value for fit in failed))


def _marginal_items(marginals, draws: Draws) -> list:
    """``[(variable, distribution or factor)]`` from the forms :func:`assert_marginals_match` takes."""
    if isinstance(marginals, Mapping):
        items = list(marginals.items())
    else:
        values = check_sequence(marginals, "marginals")
        if len(values) > draws.shape[2]:
            raise ValidationError(f"marginals gives {len(values)} distributions for {draws.shape[2]} columns")
        items = [(draws.label(k), value) for k, value in enumerate(values)]
    if not items:
        raise ValidationError("marginals must name at least one variable")
    return [(variable, value if is_factor(value) else _distribution(value, variable)) for variable, value in items]


def _distribution(p, variable) -> np.ndarray:
    """A variable's distribution over its states; a number is ``p(s = 1)`` of a binary unit."""
    distribution = probabilities_array(p, f"marginals[{variable!r}]")
    if distribution.ndim == 0:  # p(s = 1) of a binary unit
        distribution = np.array([1.0 - float(distribution), float(distribution)])
    if distribution.ndim != 1 or distribution.size == 0:
        raise ValidationError(f"marginals[{variable!r}] must be a 1-D distribution, got {describe(p)}")
    return distribution


def joint_frequencies(samples, *, variables=None, cardinalities=None, state_names=None) -> np.ndarray:
    """Empirical joint distribution of ``variables`` in ``samples``, pooled over chains and draws.

    Parameters
    ----------
    samples, variables, state_names : as :func:`assert_samples_match`
    cardinalities : sequence of int, optional
        States of each variable (default: the number of ``state_names``, else 2 each).

    Returns
    -------
    ndarray of float64, shape ``cardinalities``
        Frequencies in C order (the first variable slowest), summing to 1.
    """
    picked, _, cards, _ = Draws(samples).select(variables, NO_TARGET, cardinalities, state_names)
    counts = np.bincount(_cells(picked, cards).ravel(), minlength=int(np.prod(cards)))
    return (counts / counts.sum()).reshape(tuple(cards))


def total_variation(samples, target, *, variables=None, cardinalities=None, state_names=None) -> float:
    """Total-variation distance between the empirical joint of ``variables`` and ``target``.

    A descriptive distance (half the L1 distance, in [0, 1]), not a test: it has no declared
    error rate, and an exact sampler's distance shrinks like ``sqrt(cells / N)``.

    Parameters
    ----------
    samples, target, variables, cardinalities, state_names : as :func:`assert_samples_match`

    Returns
    -------
    float
    """
    picked, _, cards, table = Draws(samples).select(variables, target, cardinalities, state_names)
    counts = np.bincount(_cells(picked, cards).ravel(), minlength=table.size)
    return 0.5 * float(np.abs(counts / counts.sum() - table.ravel()).sum())


def assert_same_distribution(model_a, model_b, *, max_units=20, rtol=1e-9, atol=1e-12) -> None:
    """Assert that two models of the package define the same normalised distribution, by enumeration.

    Compares ``log p(x)`` of every joint state (``-E(x)/T - log Z``) of binary machines, RBMs
    (visible and hidden units), Potts machines or categorical RBMs, computed by
    :mod:`pgm_energy.exact`; the models must have the same variables in the same order. A
    difference in the energies' offsets or in a common factor of the potentials does not count.

    Parameters
    ----------
    model_a, model_b : models of the package
    max_units : int, default 20
        Refuse (ValueError) models of more units: the enumeration is exponential.
    rtol, atol : float
        Tolerance on the probabilities (``numpy.isclose``).

    Raises
    ------
    DistributionMismatch
        Naming the state with the largest difference.
    """
    from .. import exact

    max_units = check_int(max_units, "max_units", minimum=1)
    for name, value in (("rtol", rtol), ("atol", atol)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) < math.inf:
            raise ValidationError(f"{name} must be a non-negative number, got {describe(value)}")
    a = _log_probabilities(model_a, "model_a", max_units, exact)
    b = _log_probabilities(model_b, "model_b", max_units, exact)
    if a[0] != b[0]:
        raise DistributionMismatch(f"the models have different variables: {a[0][:6]} and {b[0][:6]}")
    pa, pb = np.exp(a[1]), np.exp(b[1])
    close = np.isclose(pa, pb, rtol=rtol, atol=atol)
    if not close.all():
        worst = int(np.argmax(np.abs(pa - pb)))
        raise DistributionMismatch(
            f"the distributions differ at {int((~close).sum())} of {pa.size} states; most at state index {worst}: "
            f"p = {pa[worst]:.6g} against {pb[worst]:.6g}"
        )


def _log_probabilities(model, name: str, max_units: int, exact) -> tuple:
    """(names, log p of every joint state in C order) of a model, through exact enumeration."""
    from ..models import BoltzmannMachine, CategoricalRBM, PottsMachine, RestrictedBoltzmannMachine

    if not isinstance(model, (BoltzmannMachine, RestrictedBoltzmannMachine, PottsMachine, CategoricalRBM)):
        raise ParameterTypeError(f"{name} must be a binary, Potts or categorical model of the package, got "
                                 f"{describe(model)}")
    names = tuple(model.names)
    if len(names) > max_units:
        raise ValidationError(f"assert_same_distribution enumerates every state: {name} has {len(names)} units > "
                              f"max_units={max_units}")
    query = exact.query(model, list(names), joint=True, max_units=max_units)
    values = np.asarray(query.values, dtype=np.float64).ravel()
    with np.errstate(divide="ignore"):
        return names, np.log(values / values.sum())
