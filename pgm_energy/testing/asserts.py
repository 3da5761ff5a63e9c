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
from collections.abc import Mapping, Sequence

import numpy as np

from .._validation import check_int, describe
from ..exceptions import ParameterTypeError, StateError, ValidationError

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


# ---------------------------------------------------------------------------- inputs
def _as_draws(samples) -> tuple[np.ndarray, bool]:
    """Integer draws of shape (n_chains, n_draws, n_variables), and whether they are chains.

    A sample set or a 3-D array holds chains (their autocorrelation is measured); a 2-D array or
    a DataFrame holds independent rows (one "chain" of them).
    """
    if hasattr(samples, "states") and hasattr(samples, "info"):  # a SampleSet of the package
        states, chains = np.asarray(samples.states), True
    elif hasattr(samples, "columns") and hasattr(samples, "to_numpy"):  # a DataFrame of state indices
        states, chains = samples.to_numpy()[None, :, :], False
    else:
        if samples is None or isinstance(samples, (str, bytes, Mapping)) or not hasattr(samples, "__len__"):
            raise ParameterTypeError(f"samples must be an array of state indices or a SampleSet, got "
                                     f"{describe(samples)}")
        try:
            states = np.asarray(samples)
        except (TypeError, ValueError) as error:
            raise StateError(f"samples must be an array of state indices, got {describe(samples)}") from error
        chains = states.ndim == 3
        if states.ndim == 2:
            states = states[None, :, :]
    if states.ndim != 3 or states.shape[1] == 0 or states.shape[2] == 0:
        raise StateError(
            f"samples must be draws of shape (n_draws, n_variables) or (n_chains, n_draws, n_variables), "
            f"got shape {states.shape}"
        )
    if not (np.issubdtype(states.dtype, np.integer) or states.dtype == np.bool_):
        numeric = np.issubdtype(states.dtype, np.number) and not np.iscomplexobj(states)
        if not numeric or not np.all(np.isfinite(states)) or not np.all(np.equal(np.mod(states, 1), 0)):
            raise StateError("samples must hold state indices (integers); real-valued draws need another test")
    return states.astype(np.int64, copy=False), chains


def _check_level(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise ParameterTypeError(f"alpha must be a probability in (0, 1), got {describe(alpha)}")
    if not 0.0 < float(alpha) < 1.0:
        raise ValidationError(f"alpha must be a probability in (0, 1), got {alpha!r}")
    return float(alpha)


def _check_options(test, min_expected) -> float:
    if not isinstance(test, str) or test not in _TESTS:
        raise ValidationError(f"test must be 'chi2' or 'g', got {describe(test)}")
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


def _statistic(counts: np.ndarray, probabilities: np.ndarray, tau: float, test: str, min_expected: float) -> float:
    """p-value of the goodness-of-fit test of ``counts`` (draws worth ``N / tau`` independent ones)."""
    from scipy.stats import chi2

    total = counts.sum()
    support = probabilities > 0
    if counts[~support].sum() > 0:
        return 0.0  # a state of probability zero was drawn: no distribution test is needed
    probabilities = probabilities[support]
    counts = counts[support]
    effective = total / tau * probabilities
    if effective.min() < min_expected:
        raise TooFewSamples(
            f"samples: an expected count is {effective.min():.3g} < min_expected={min_expected:g} (N = {total:g} draws worth "
            f"{total / tau:.3g} independent ones, smallest probability {probabilities.min():.3g}): draw more "
            "samples or test fewer variables together"
        )
    expected = total * probabilities
    if test == "chi2":
        statistic = float(np.sum((counts - expected) ** 2 / expected))
    else:  # G-test: twice the log-likelihood ratio
        observed = counts > 0
        statistic = 2.0 * float(np.sum(counts[observed] * np.log(counts[observed] / expected[observed])))
    return float(chi2.sf(statistic / tau, probabilities.size - 1))


def _target_table(target, cards: Sequence[int]) -> np.ndarray:
    try:
        table = np.asarray(getattr(target, "values", target), dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ParameterTypeError(f"target must be an array of probabilities, got {describe(target)}") from error
    if table.size != int(np.prod(cards)):
        raise ValidationError(f"target must hold {int(np.prod(cards))} probabilities (cardinalities {list(cards)}), "
                              f"got {table.size}")
    if np.any(table < 0) or not np.all(np.isfinite(table)):
        raise ValidationError("target must hold finite non-negative probabilities")
    total = table.sum()
    if not abs(total - 1.0) <= 1e-9:
        raise ValidationError(f"target probabilities must sum to 1, got {total!r}")
    return table.reshape(tuple(cards))


def _columns_and_cards(draws, target, variables, cardinalities) -> tuple[list, list]:
    if variables is None:
        columns = list(range(draws.shape[2]))
    else:
        if isinstance(variables, (str, bytes)) or not hasattr(variables, "__iter__"):
            raise ParameterTypeError(f"variables must be a sequence of column indices, got {describe(variables)}")
        columns = [check_int(v, "variables", minimum=0) for v in variables]
        if not columns or max(columns) >= draws.shape[2] or len(set(columns)) < len(columns):
            raise ValidationError(f"variables must be distinct columns of samples (0 to {draws.shape[2] - 1}), got "
                                  f"{describe(variables)}")
    if cardinalities is None:
        shape = np.shape(getattr(target, "values", target))
        cardinalities = list(shape) if len(shape) == len(columns) else [2] * len(columns)
    if isinstance(cardinalities, (str, bytes)) or not hasattr(cardinalities, "__iter__"):
        raise ParameterTypeError(f"cardinalities must be a sequence of ints, got {describe(cardinalities)}")
    cards = [check_int(c, "cardinalities", minimum=1) for c in cardinalities]
    if len(cards) != len(columns):
        raise ValidationError(f"cardinalities must give one count per variable ({len(columns)}), got {cards}")
    if int(np.prod(cards)) > 2**24:
        raise ValidationError(f"cardinalities {cards} make {int(np.prod(cards))} cells: test fewer variables")
    return columns, cards


def _cells(draws: np.ndarray, columns: list, cards: list) -> np.ndarray:
    """Joint cell of each draw over ``columns`` in C order (the first column slowest), shape (n_chains, n_draws)."""
    picked = draws[:, :, columns]
    if np.any(picked < 0) or np.any(picked >= np.array(cards)):
        raise StateError(f"samples hold states outside the cardinalities {cards} of variables {columns}")
    return np.ravel_multi_index(tuple(np.moveaxis(picked, -1, 0)), tuple(cards))


class _Fit:
    """One goodness-of-fit test of a joint: its counts, target, autocorrelation time and p-value."""

    def __init__(self, draws, chains, target, variables, cardinalities, test, min_expected):
        self.columns, self.cards = _columns_and_cards(draws, target, variables, cardinalities)
        self.table = _target_table(target, self.cards).ravel()
        cells = _cells(draws, self.columns, self.cards)
        self.counts = np.bincount(cells.ravel(), minlength=self.table.size).astype(np.float64)
        self.tau = _integrated_time(cells, self.table.size) if chains else 1.0
        self.test = test
        self.p_value = _statistic(self.counts, self.table, self.tau, test, min_expected)

    def describe(self) -> str:
        frequencies = self.counts / self.counts.sum()
        worst = int(np.argmax(np.abs(frequencies - self.table)))
        return (f"variables {self.columns}: {self.test} p-value {self.p_value:.3g}; largest gap at cell "
                f"{tuple(int(i) for i in np.unravel_index(worst, tuple(self.cards)))}: frequency {frequencies[worst]:.4f} against "
                f"{self.table[worst]:.4f} (N = {self.counts.sum():g}, tau = {self.tau:.3g})")


# ---------------------------------------------------------------------------- asserts
def assert_samples_match(samples, target, *, variables=None, cardinalities=None, alpha=1e-3, test="chi2",
                         min_expected=MIN_EXPECTED) -> float:
    """Assert that the joint of ``variables`` in ``samples`` has the distribution ``target``.

    Parameters
    ----------
    samples : SampleSet, DataFrame of state indices, or array of state indices
        Shape (n_draws, n_variables) or a DataFrame (independent rows), or
        (n_chains, n_draws, n_variables) or a sample set (chains: their autocorrelation is
        accounted for; pass one chain's rows as shape (1, n_draws, n_variables)).
    target : array_like of probabilities
        The joint over ``variables`` in C order (the last variable fastest), shape
        ``cardinalities`` or flat; a pgmpy ``DiscreteFactor`` with its variables in that order
        (normalised) works too.
    variables : sequence of int, optional
        Columns of ``samples`` (default: all of them). Test a few together: the cells multiply.
    cardinalities : sequence of int, optional
        States of each variable (default: the target's shape, else 2 each).
    alpha : float in (0, 1), default 1e-3
        The false-failure rate: the probability that this assert fails for samples that do
        come from ``target``.
    test : {"chi2", "g"}, default "chi2"
        Pearson's χ² or the G-test (likelihood ratio); the same asymptotic distribution.
    min_expected : float, default 5
        Refuse to test when an expected count (in independent-draw units) is below this.

    Returns
    -------
    float
        The p-value.

    Raises
    ------
    DistributionMismatch
        When the p-value is below ``alpha`` (also when a state of target probability zero was drawn).
    TooFewSamples
        When an expected count is below ``min_expected``.

    Examples
    --------
    >>> import numpy as np
    >>> draws = np.random.default_rng(0).choice(3, size=(5000, 1), p=[0.2, 0.3, 0.5])
    >>> p = assert_samples_match(draws, [0.2, 0.3, 0.5], cardinalities=[3])
    """
    checks = GoodnessOfFit(samples, alpha=alpha, test=test, min_expected=min_expected)
    p_value = checks.joint(variables, target, cardinalities=cardinalities)
    checks.check()
    return p_value


def assert_marginals_match(samples, marginals, *, alpha=1e-3, test="chi2", min_expected=MIN_EXPECTED) -> list:
    """Assert that each variable's marginal in ``samples`` is its target marginal: one test per variable.

    Parameters
    ----------
    samples : as :func:`assert_samples_match`
    marginals : sequence or mapping (column -> probabilities), or 2-D array for binary units
        ``marginals[k]`` is the distribution of column ``k`` over its states; a 1-D array of
        numbers is read as ``p(s_k = 1)`` of binary units.
    alpha : float in (0, 1), default 1e-3
        The false-failure rate of the whole assert: each of the ``m`` tests runs at ``alpha / m``.

    Returns
    -------
    list of float
        The p-values, in column order.
    """
    checks = GoodnessOfFit(samples, alpha=alpha, test=test, min_expected=min_expected)
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
    samples : as :func:`assert_samples_match`
    alpha : float in (0, 1), default 1e-3
        The false-failure rate of :meth:`check`.
    test : {"chi2", "g"}, default "chi2"
    min_expected : float, default 5

    Attributes
    ----------
    p_values : list of (tuple of int, float)
        The columns and p-value of each test added, in order.

    Examples
    --------
    >>> import numpy as np
    >>> draws = np.random.default_rng(1).integers(0, 2, size=(8000, 3))
    >>> checks = GoodnessOfFit(draws, alpha=1e-3)
    >>> _ = checks.marginals([0.5, 0.5, 0.5])
    >>> _ = checks.joint([0, 2], np.full((2, 2), 0.25))
    >>> checks.check()
    """

    def __init__(self, samples, *, alpha=1e-3, test="chi2", min_expected=MIN_EXPECTED):
        self.alpha = _check_level(alpha)
        self._min_expected = _check_options(test, min_expected)
        self._test = test
        self._draws, self._chains = _as_draws(samples)
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
        fit = _Fit(self._draws, self._chains, target, variables, cardinalities, self._test, self._min_expected)
        self._fits.append(fit)
        return fit.p_value

    def marginals(self, marginals) -> list:
        """Add one test per variable of ``marginals`` (the forms of :func:`assert_marginals_match`).

        Returns
        -------
        list of float
            Their p-values, in the order given.
        """
        return [self.joint([column], distribution, cardinalities=[distribution.size])
                for column, distribution in _marginal_items(marginals)]

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


def _marginal_items(marginals) -> list:
    """``[(column, distribution)]`` from the forms :func:`assert_marginals_match` takes."""
    if marginals is None or isinstance(marginals, (str, bytes)) or not hasattr(marginals, "__iter__"):
        raise ParameterTypeError(f"marginals must be a sequence or a mapping of distributions, got "
                                 f"{describe(marginals)}")
    try:
        if isinstance(marginals, Mapping):
            items = [(check_int(column, "marginals", minimum=0), np.asarray(p, dtype=np.float64))
                     for column, p in marginals.items()]
        elif all(np.ndim(p) == 0 for p in marginals):  # p(s_k = 1) of binary units
            items = [(k, np.array([1.0 - float(p), float(p)])) for k, p in enumerate(marginals)]
        else:
            items = [(k, np.asarray(p, dtype=np.float64)) for k, p in enumerate(marginals)]
    except (TypeError, ValueError) as error:
        raise ParameterTypeError(f"marginals must hold probabilities, got {describe(marginals)}") from error
    if not items:
        raise ValidationError("marginals must name at least one variable")
    for column, distribution in items:
        if distribution.ndim != 1 or distribution.size == 0:
            raise ValidationError(f"marginals[{column}] must be a 1-D distribution, got {describe(distribution)}")
    return items


def joint_frequencies(samples, *, variables=None, cardinalities=None) -> np.ndarray:
    """Empirical joint distribution of ``variables`` in ``samples``, pooled over chains and draws.

    Parameters
    ----------
    samples : as :func:`assert_samples_match`
    variables : sequence of int, optional
        Columns (default: all).
    cardinalities : sequence of int, optional
        States of each variable (default: 2 each).

    Returns
    -------
    ndarray of float64, shape ``cardinalities``
        Frequencies in C order (the first variable slowest), summing to 1.
    """
    draws, _ = _as_draws(samples)
    columns, cards = _columns_and_cards(draws, None, variables, cardinalities)
    counts = np.bincount(_cells(draws, columns, cards).ravel(), minlength=int(np.prod(cards)))
    return (counts / counts.sum()).reshape(tuple(cards))


def total_variation(samples, target, *, variables=None, cardinalities=None) -> float:
    """Total-variation distance between the empirical joint of ``variables`` and ``target``.

    A descriptive distance (half the L1 distance, in [0, 1]), not a test: it has no declared
    error rate, and an exact sampler's distance shrinks like ``sqrt(cells / N)``.

    Parameters
    ----------
    samples, target, variables, cardinalities : as :func:`assert_samples_match`

    Returns
    -------
    float
    """
    draws, _ = _as_draws(samples)
    columns, cards = _columns_and_cards(draws, target, variables, cardinalities)
    table = _target_table(target, cards)
    return 0.5 * float(np.abs(joint_frequencies(draws, variables=columns, cardinalities=cards) - table).sum())


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
