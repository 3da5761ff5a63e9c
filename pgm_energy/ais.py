r"""Annealed importance sampling (AIS): estimates of an RBM's log Z and log-likelihood; variational bounds of deep networks.

The method of Neal (2001, "Annealed importance sampling", *Statistics and Computing* 11)
applied to RBMs as in Salakhutdinov & Murray (2008, "On the quantitative analysis of deep
belief networks", ICML). A base RBM ``A`` with zero weights, zero hidden biases and
visible bias ``a`` has a closed-form partition function,
``log Z_A = n_hidden log 2 + sum_i softplus(a_i)``. The target ``B`` (the model, at T = 1:
``W/T``, ``b/T``, ``c/T``) is reached through the distributions

.. math::

    p^*_k(v) = e^{(1-\beta_k) a^\top v} \, e^{\beta_k b^\top v}
               \prod_j \left(1 + e^{\beta_k (c_j + (v^\top W)_j)}\right),
    \qquad 0 = \beta_0 < \beta_1 < \dots < \beta_K = 1,

so ``p*_0 = Z_A p_A`` and ``p*_K`` is the target's unnormalised marginal. Each run draws
``v_1`` exactly from ``A``; for ``k = 1..K`` it multiplies its weight by
``p*_k(v_k) / p*_{k-1}(v_k)`` and moves with one block-Gibbs sweep that leaves ``p_k``
invariant (``h ~ p_k(h | v)``, then ``v ~ p_k(v | h)``). The weights ``w_r`` of independent
runs satisfy ``E[w] = Z_B / Z_A``, so ``Z_B`` is estimated by ``Z_A`` times their mean.

Two consequences the user should know:

- ``exp(log_z)`` is unbiased for ``Z``; ``log_z`` is therefore biased *low* on average
  (Jensen's inequality), and the log-likelihood estimate ``-F(v)/T - log_z`` biased high.
  The bias shrinks with the spread of the weights (report ``log_z_std``; more
  intermediate distributions and a better base both shrink it).
- The ``±3σ`` band is a sample-based estimate: when all runs miss the regions holding most
  of the target's mass (too short a schedule), the weights can look consistent and the
  band can exclude the truth. Compare schedules of different lengths when in doubt.
- The spread of the log weights, hence ``log_z_std`` for a given ``n_runs``, belongs to the
  model: it comes from how slowly the Gibbs transitions mix along the path, and shrinks only as
  ``1/sqrt(n_runs)`` (``benchmarks/bench_ais.py`` measures it on trained models).

Deep Boltzmann machines are handed to :mod:`pgm_energy._ais_deep`: AIS on their exact bipartite
embedding (:meth:`~pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine.to_bipartite_rbm`) through
this module's RBM AIS, and the mean-field lower bound on ``log p(v)``
(:func:`log_likelihood_bound`). They have no closed-form free energy, so
:func:`estimate_log_likelihood` refuses them.

Computation: the schedule runs in Numba kernels (:mod:`pgm_energy._kernels.ais`), runs in
parallel over Numba threads, in successive time-bounded calls (so Ctrl-C is answered; a
run carries its state between calls and the split changes no bit); each run has its own
random streams, so the same ``rng`` gives the same bits whatever the thread count.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _mean_field
from ._math import sigmoid, softplus
from ._validation import (
    DEFAULT_MAX_UNITS,
    MarkedDefault,
    check_array_size,
    check_bool,
    check_finite_array,
    check_int,
    check_rng,
    check_states,
    describe,
    refuse_out_of_memory,
)
from .exceptions import ParameterTypeError, StateError, ValidationError
from .models import DeepBoltzmannMachine, RestrictedBoltzmannMachine
from .models._base import visible_rows
from .models.deep_belief import DeepBeliefNetwork, network_rows
from .schedules import ais_betas, check_length

__all__ = [
    "AISResult",
    "LikelihoodEstimate",
    "LikelihoodBound",
    "log_partition_function",
    "estimate_log_likelihood",
    "log_likelihood_bound",
    "base_visible_bias",
]

_BASES = ("data", "model", "uniform")
# Width of the reported band, in standard deviations of the mean weight.
_BAND = 3.0


class AISResult(NamedTuple):
    """An AIS estimate of ``log Z``.

    Attributes
    ----------
    log_z : float
        ``log Z_A + log mean_r w_r``: the log of an unbiased estimate of ``Z``.
    log_z_std : float
        Standard deviation of ``log_z`` by the delta method, ``s / (sqrt(n) mean(w))`` with
        ``s`` the sample standard deviation of the weights (``inf`` for a single run).
    lower, upper : float
        ``log Z_A + log(mean(w) -/+ 3 s / sqrt(n))``; ``lower`` is ``-inf`` when the
        difference is not positive, both are infinite for a single run.
    log_weights : ndarray, shape (n_runs,)
        The runs' log importance weights ``log w_r`` (without ``log Z_A``).
    log_z_base : float
        ``log Z_A`` of the base model (closed form).
    n_steps : int
        ``K``, the number of intermediate distributions after the base.
    """

    log_z: float
    log_z_std: float
    lower: float
    upper: float
    log_weights: np.ndarray
    log_z_base: float
    n_steps: int


class LikelihoodEstimate(NamedTuple):
    """An AIS estimate of the mean log-likelihood ``(1/m) sum_k log p(v_k)`` in nats.

    Attributes
    ----------
    mean : float
        ``-mean_k F(v_k) / T - log_z.log_z``.
    lower, upper : float
        The same with ``log_z.upper`` and ``log_z.lower`` (``upper`` is ``+inf`` when
        the lower bound of ``log Z`` is ``-inf``).
    log_z : AISResult
        The estimate of ``log Z`` used.
    """

    mean: float
    lower: float
    upper: float
    log_z: AISResult


#: model kinds whose AIS lives in a module of its own (this layer), by class name: the public functions
#: hand such a model to the function of the same name there (imported on use: those modules import this one)
_ESTIMATORS = {"CategoricalRBM": "_ais_categorical", "GaussianBernoulliRBM": "_ais_gaussian",
               "DeepBoltzmannMachine": "_ais_deep"}


def _estimator(model):
    """The module that runs AIS for ``model``'s kind, or None for the binary RBM (this module)."""
    from importlib import import_module

    from .models import CategoricalRBM, GaussianBernoulliRBM

    if isinstance(model, (CategoricalRBM, GaussianBernoulliRBM, DeepBoltzmannMachine)):
        return import_module(f"{__package__}.{_ESTIMATORS[type(model).__name__]}")
    return None


def _check_rbm(rbm) -> None:
    if not isinstance(rbm, RestrictedBoltzmannMachine):
        raise ParameterTypeError(
            f"rbm must be a RestrictedBoltzmannMachine, CategoricalRBM or GaussianBernoulliRBM, "
            f"got {type(rbm).__name__}: {describe(rbm)}"
        )


def _check_betas(betas) -> np.ndarray:
    if betas is None:
        return ais_betas()
    if isinstance(betas, bool):
        raise ParameterTypeError(f"betas must be None, an int >= 1 or an array of increasing values from 0 to 1, got {betas!r}")
    if isinstance(betas, (int, np.integer)):
        if betas < 1:
            raise ValidationError(f"betas must be >= 1 when an int (the number of intermediate distributions), got {betas}")
        return ais_betas(check_length(int(betas), "betas"))
    values = check_finite_array(betas, "betas")
    if values.ndim != 1:
        raise ValidationError(
            f"betas must be None, an int or a 1-dimensional array of increasing values from 0 to 1, got shape {values.shape}"
        )
    if values.size < 2 or values[0] != 0.0 or values[-1] != 1.0:
        raise ValidationError(
            f"betas must start at exactly 0 and end at exactly 1 (at least 2 values), got {describe(values)}"
            + (f" from {values[0]!r} to {values[-1]!r}" if values.size else "")
        )
    steps = np.diff(values)
    if np.any(steps <= 0):
        index = int(np.flatnonzero(steps <= 0)[0])
        raise ValidationError(
            f"betas must be strictly increasing, got {values[index]!r} then {values[index + 1]!r} at index {index + 1}"
        )
    return values


def base_visible_bias(data) -> np.ndarray:
    """The visible bias of the ``base="data"`` model: ``log(p / (1 - p))`` of smoothed pixel means.

    ``p_i = (n_i + 1) / (n + 2)`` with ``n_i`` the number of rows where unit ``i`` is on and
    ``n`` the number of rows (Laplace's rule of succession): the data marginals, kept inside
    ``[1/(n+2), (n+1)/(n+2)]`` so that a unit that is always off (or on) in the data gets a
    finite bias.

    Parameters
    ----------
    data : array_like of 0/1, shape (n_samples, n_visible)

    Returns
    -------
    ndarray of float64, shape (n_visible,)

    Raises
    ------
    StateError
        For data that is not a 2-D array of 0/1 values (a grey level would give NaN).
    ValidationError
        For data without rows.
    """
    try:
        shape = np.shape(data)
    except (TypeError, ValueError) as error:
        raise StateError(f"data must be a 2-D array of 0/1 values, got {describe(data)}") from error
    if len(shape) != 2:
        raise StateError(f"data must be a 2-D array of 0/1 values (n_samples, n_visible), got shape {shape}")
    batch, _ = check_states(data, shape[1], "data")
    if batch.shape[0] == 0:
        raise ValidationError("data must hold at least one sample, got 0 rows")
    n = batch.shape[0]
    on = batch.sum(axis=0)
    return np.log(on + 1.0) - np.log(n - on + 1.0)


def _base_bias(rbm, base, data) -> np.ndarray:
    """The base model's visible bias (at T = 1); ``base=None`` is ``"data"`` with data, else ``"model"``."""
    if base is None:
        base = "model" if data is None else "data"
    if not isinstance(base, str) or base not in _BASES:
        raise ValidationError(f"base must be None or one of {_BASES!r}, got {describe(base)}")
    if base == "data":
        if data is None:
            raise ValidationError("base='data' needs data= (the visible data whose marginals define the base model)")
        return base_visible_bias(visible_rows(rbm, data))
    if data is not None:
        raise ValidationError(f"data= is only used with base='data'; got base={base!r} and data")
    if base == "model":
        return np.array(rbm.visible_bias / rbm.temperature, dtype=np.float64)
    return np.zeros(rbm.n_visible)


def _summarise(log_weights: np.ndarray, log_z_base: float, n_steps: int) -> AISResult:
    """``log Z`` and its band from the log weights, in log space (the largest weight scaled to 1)."""
    n = log_weights.shape[0]
    top = float(np.max(log_weights))
    weights = np.exp(log_weights - top)
    mean = float(np.mean(weights))
    shift = log_z_base + top
    log_z = shift + math.log(mean)
    if n < 2:
        return AISResult(log_z, math.inf, -math.inf, math.inf, log_weights, log_z_base, n_steps)
    error = float(np.std(weights, ddof=1)) / math.sqrt(n)  # standard deviation of the mean weight
    low = mean - _BAND * error
    lower = shift + math.log(low) if low > 0.0 else -math.inf
    upper = shift + math.log(mean + _BAND * error)
    return AISResult(log_z, error / mean, lower, upper, log_weights, log_z_base, n_steps)


def log_partition_function(rbm, *, n_runs=100, betas=None, base=None, data=None, rng=None, client=None,
                           progress=True) -> AISResult:
    """AIS estimate of ``log Z`` of an RBM at its own temperature.

    A :class:`~pgm_energy.CategoricalRBM`, :class:`~pgm_energy.GaussianBernoulliRBM` or
    :class:`~pgm_energy.DeepBoltzmannMachine` is handed to the AIS of its kind, with the same
    parameters; a deep Boltzmann machine's AIS runs on its exact bipartite RBM (even layers
    Gibbs-sampled, odd layers summed in closed form), and its ``base`` sets the even layers' base
    biases (``"data"``: the visible layer's from ``data``, the other even layers' the model's own).

    Parameters
    ----------
    rbm : RestrictedBoltzmannMachine
        The target; a model at temperature ``T`` is treated as ``W/T``, ``b/T``, ``c/T`` at T = 1.
    n_runs : int >= 1, default 100
        Independent AIS runs (importance weights).
    betas : None, int >= 1 or array_like of float, shape (K + 1,)
        ``None``: the 14,500-step schedule of Salakhutdinov & Murray (2008),
        :func:`pgm_energy.schedules.ais_betas`. An int ``K``: ``K`` equal steps.
        An array: strictly increasing, from exactly 0 to exactly 1 (``[0, 1]`` is plain
        importance sampling from the base).
    base : {None, "data", "model", "uniform"}, default None
        The base model, always with zero weights and zero hidden biases. ``"data"``:
        visible biases from the smoothed data marginals (:func:`base_visible_bias`),
        needs ``data``; usually the best base. ``"model"``: the target's own visible
        biases (needs nothing; better than uniform when the visible biases dominate).
        ``"uniform"``: all parameters zero (every state equally likely). ``None``:
        ``"data"`` when ``data`` is given, else ``"model"``, so the bare call works and
        ``data=`` improves it.
    data : array_like of 0/1, shape (n_samples, n_visible), optional
        Only with ``base="data"`` (or None); a pandas DataFrame is reordered by its column names.
    rng : None, int or numpy.random.Generator
    client : None, "local", "local:N", a scheduler address or distributed.Client
        Where the runs go (:mod:`pgm_energy._cluster`): in process (None), or split in blocks across
        a Dask cluster. The same ``rng`` gives the same bits either way: every run's random
        streams are drawn here before any run starts.
    progress : bool, default True
        On a cluster, a tqdm progress bar over the runs of the blocks done, on stderr when it is a
        terminal and the call lasts more than half a second. In process the runs are one parallel
        kernel call, with no bar.

    Returns
    -------
    AISResult
        ``(log_z, log_z_std, lower, upper, log_weights, log_z_base, n_steps)``.

    Raises
    ------
    ParameterTypeError
        If ``rbm`` is not a RestrictedBoltzmannMachine (or one of the kinds above), or ``n_runs``
        is not an int.
    ValidationError
        For a bad ``n_runs``, ``betas`` or ``base``, missing or superfluous ``data``, a
        temperature so small that the parameters divided by it overflow;
        :class:`~pgm_energy.exceptions.StateError` for data that is not 0/1 or has the
        wrong number of columns.

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy import RestrictedBoltzmannMachine, ais, exact
    >>> rbm = RestrictedBoltzmannMachine.random(12, 6, scale=0.5, rng=0)
    >>> result = ais.log_partition_function(rbm, base="uniform", betas=1000, rng=0)
    >>> bool(abs(result.log_z - exact.log_partition_function(rbm)) < 0.05)
    True
    """

    if (estimator := _estimator(rbm)) is not None:
        return estimator.log_partition_function(rbm, n_runs=n_runs, betas=betas, base=base, data=data, rng=rng,
                                                client=client, progress=progress)
    _check_rbm(rbm)
    n_runs = check_int(n_runs, "n_runs", minimum=1)
    schedule = _check_betas(betas)
    base_bias = _base_bias(rbm, base, data)
    generator = check_rng(rng)
    return _run(rbm, n_runs, schedule, base_bias, generator, client, progress)


def _run(rbm, n_runs: int, schedule: np.ndarray, base_bias: np.ndarray, generator, client=None,
         progress=False) -> AISResult:
    """AIS from the base with visible bias ``base_bias`` (at T = 1) to ``rbm``, all arguments checked.

    Apart from :func:`log_partition_function` so that a model whose exact embedding is an RBM
    (a deep Boltzmann machine) can run it from a base of its own.
    """
    from ._cluster import resolve_client, run_by_blocks
    from ._kernels import ais as kernels
    from ._kernels.rng import seed_streams

    temperature = rbm.temperature
    weights = np.ascontiguousarray(rbm.weights / temperature)
    delta = rbm.visible_bias / temperature - base_bias
    with refuse_out_of_memory(f"n_runs={n_runs} AIS runs of {rbm.n_visible} visible units"):
        streams = seed_streams(generator, n_runs * kernels.LANES).reshape(n_runs, kernels.LANES)
        log_weights = run_by_blocks(
            resolve_client(client), kernels.ais_log_weights,
            (weights, np.ascontiguousarray(weights.T), rbm.hidden_bias / temperature, base_bias, delta,
             kernels.visible_margins(weights, base_bias, delta), schedule),
            streams, progress=check_bool(progress, "progress"), description="AIS", unit="run",
        )
    log_z_base = rbm.n_hidden * math.log(2.0) + float(np.sum(softplus(base_bias)))
    return _summarise(log_weights, log_z_base, schedule.shape[0] - 1)


def estimate_log_likelihood(rbm, data, *, n_runs=100, betas=None, base=None, rng=None,
                            client=None, progress=True) -> LikelihoodEstimate:
    """Mean log-likelihood of visible data, with ``log Z`` estimated by AIS.

    ``log p(v) = -F_T(v) / T - log Z`` (``F_T`` the model's :meth:`free_energy`); the
    free energies are exact, only ``log Z`` is estimated. With ``base="data"`` (the default,
    ``None``) the base model is built from ``data`` itself.

    Parameters
    ----------
    rbm : RestrictedBoltzmannMachine
    data : array_like of 0/1, shape (n_samples, n_visible) or (n_visible,)
        A pandas DataFrame is reordered by its column names.
    n_runs, betas, base, rng, client, progress
        As in :func:`log_partition_function`.

    Returns
    -------
    LikelihoodEstimate
        ``(mean, lower, upper, log_z)`` in nats per sample.

    Raises
    ------
    ParameterTypeError
        For a :class:`~pgm_energy.DeepBoltzmannMachine`: its hidden layers are not independent
        given ``v``, so ``F(v)`` has no closed form; use :func:`log_likelihood_bound` (a lower
        bound) or :func:`pgm_energy.exact.log_likelihood` (small machines).
    """
    if (estimator := _estimator(rbm)) is not None:
        return estimator.estimate_log_likelihood(rbm, data, n_runs=n_runs, betas=betas, base=base, rng=rng,
                                                 client=client, progress=progress)
    _check_rbm(rbm)
    batch = visible_rows(rbm, data)
    uses_data = base is None or (isinstance(base, str) and base == "data")
    log_z = log_partition_function(
        rbm, n_runs=n_runs, betas=betas, base=base, data=batch if uses_data else None, rng=rng, client=client,
        progress=progress,
    )
    mean_log_numerator = float(np.mean(-rbm.free_energy(batch) / rbm.temperature))
    return LikelihoodEstimate(
        mean_log_numerator - log_z.log_z,
        mean_log_numerator - log_z.upper,
        mean_log_numerator - log_z.lower,
        log_z,
    )


# ---------------------------------------------------------------------------- deep networks
class LikelihoodBound(NamedTuple):
    """The variational lower bound on the mean log-likelihood of data under a deep belief network or deep Boltzmann machine.

    Attributes
    ----------
    mean : float
        ``(1/m) sum_r B(v_r)`` in nats, ``B(v) <= log p(v)``: a Monte Carlo estimate for a deep
        belief network; for a deep Boltzmann machine the mean-field bound itself.
    standard_error : float
        Monte Carlo standard error of ``mean`` from the samples of ``q`` (NaN with one
        sample per row); 0.0 for a deep Boltzmann machine, whose bound is deterministic given
        ``log_z``. The error of ``log_z`` is apart, in ``log_z_std``.
    per_row : ndarray, shape (n_rows,)
        ``B(v_r)`` of each row (its estimate, for a deep belief network).
    log_z : float
        The ``log Z`` used: of the top RBM (deep belief network) or of the whole machine (deep
        Boltzmann machine).
    log_z_std : float
        0 when exact or given, else the AIS standard deviation of ``log_z``.
    log_z_method : {"exact", "ais", "given"}
    """

    mean: float
    standard_error: float
    per_row: np.ndarray
    log_z: float
    log_z_std: float
    log_z_method: str


def _bernoulli_entropy(pre_activation: np.ndarray) -> np.ndarray:
    """Entropy of Bernoulli(sigmoid(a)) summed over the last axis: ``softplus(a) - sigmoid(a) a``."""
    return np.sum(softplus(pre_activation) - sigmoid(pre_activation) * pre_activation, axis=-1)


def _check_log_z(model, log_z, what: str = "the top RBM", symbol: str = "log Z_top") -> float:
    """A given ``log Z`` of the binary ``model`` as a float, within the range its parameters allow.

    With ``|E| <= B`` (:attr:`energy_bound`) over its ``n`` units, ``Z`` lies in
    ``[2**n e**-B, 2**n e**B]``; a value outside is not that model's (and one like 1e308 would
    overflow the bound's sums). ``what`` and ``symbol`` name the model and its ``log Z`` in the
    message (the defaults: a deep belief network's top RBM).
    """
    value = float(check_finite_array(log_z, "log_z", ndim=0))
    centre, radius = model.n_units * math.log(2.0), model.energy_bound / model.temperature
    slack = 1e-9 * (abs(centre) + radius + 1.0)  # rounding of an exactly computed extreme value
    if not abs(value - centre) <= radius + slack:
        raise ValidationError(
            f"log_z={log_z!r} is impossible for {what}: its parameters bound {symbol} to "
            f"[{centre - radius:.6g}, {centre + radius:.6g}]"
        )
    return value


# Defaults of the options that apply to one kind of deep network only, told apart from the same
# value passed explicitly, so that passing one for the other kind is refused rather than ignored
# (the mean-field ones are pgm_energy._mean_field's).
_DEFAULT_SAMPLES = MarkedDefault(10)
_DEFAULT_ITERATIONS = MarkedDefault(_mean_field.DEFAULT_MAX_ITERATIONS)


class _MarkedFloat(float):
    """A float default told apart from the same value passed explicitly (as :class:`MarkedDefault`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(float(self))


_DEFAULT_TOLERANCE = _MarkedFloat(_mean_field.DEFAULT_TOLERANCE)


def _refuse_options(kind: str, reason: str, **given) -> None:
    """Refuse the options of ``given`` (name -> whether the caller passed it), which do not apply to ``kind``."""
    passed = [name for name, was_passed in given.items() if was_passed]
    if passed:
        raise ValidationError(
            f"{' and '.join(passed)} {'does' if len(passed) == 1 else 'do'} not apply to a {kind}: {reason}; "
            "leave it out"
        )


def log_likelihood_bound(dbn, data, *, n_samples=_DEFAULT_SAMPLES, log_z=None, n_runs=100, betas=None,
                         max_iterations=_DEFAULT_ITERATIONS, tolerance=_DEFAULT_TOLERANCE,
                         max_units=DEFAULT_MAX_UNITS, rng=None):
    r"""The variational lower bound on ``log p(v)`` of a deep belief network or deep Boltzmann machine, averaged over ``data``.

    A :class:`~pgm_energy.DeepBoltzmannMachine` gets its mean-field bound
    (:func:`pgm_energy._ais_deep.log_likelihood_bound`: ``max_iterations`` and ``tolerance`` apply,
    ``n_samples`` does not); what follows is a deep belief network's (``n_samples`` applies,
    ``max_iterations`` and ``tolerance`` do not). Passing an option of the other kind is refused.

    With ``q`` the recognition model (factorial at each layer, sampled bottom-up:
    ``x^(1) ~ q(. | v)``, ``x^(2) ~ q(. | x^(1))``, ...),

    .. math::

        \log p(v) \ge \mathbb{E}_q\Bigl[\sum_{k=0}^{L-2} \log p(x^{(k)} \mid x^{(k+1)})
          + \log p^*(x^{(L-1)})\Bigr] - \log Z_{top} + \mathbb{E}_q\Bigl[\sum_{k=0}^{L-2}
          H\bigl(q(\cdot \mid x^{(k)})\bigr)\Bigr],

    with :math:`x^{(0)} = v` and :math:`\log p^*(x) = -F_{top}(x)` the top RBM's unnormalized
    log-marginal of its lower layer; for a 2-layer network this is
    ``E_q[log p(v|h1)] + E_q[log p*(h1)] - log Z_top + H(q)`` (Salakhutdinov & Murray, 2008).
    The expectation is estimated from ``n_samples`` draws of ``q`` per row; each factorial
    entropy is taken in closed form given the layer below.

    ``log Z_top`` is exact (:func:`pgm_energy.exact.log_partition_function`) when the top RBM's
    smaller layer has at most ``max_units`` units, else an AIS estimate
    (:func:`log_partition_function` with the recognition pass's samples of layer ``L - 1`` as the
    base data). AIS's ``log Z`` is biased low on average, so the bound computed with it can be
    slightly optimistic; see ``log_z_std``.

    Parameters
    ----------
    dbn : DeepBeliefNetwork or DeepBoltzmannMachine
    data : array_like of 0/1, shape (n_rows, n_visible), or pandas.DataFrame
    n_samples : int >= 1, default 10
        Draws of ``q`` per row (deep belief networks only).
    log_z : float, optional
        A known ``log Z_top`` (skips its computation; reported with ``log_z_std = 0`` and
        ``log_z_method = "given"``).
    n_runs, betas
        AIS runs and schedule (see :func:`log_partition_function`).
    max_iterations : int >= 0, default 100
        Mean-field sweeps (deep Boltzmann machines only).
    tolerance : float >= 0, default 1e-7
        Mean-field convergence threshold (deep Boltzmann machines only).
    max_units : int, default 30
    rng : None, int or numpy.random.Generator

    Returns
    -------
    LikelihoodBound

    Raises
    ------
    ParameterTypeError
        If ``dbn`` is neither a DeepBeliefNetwork nor a DeepBoltzmannMachine.
    ValidationError
        For an option of the other kind of network, or a ``log_z`` outside the range the
        parameters allow.
    """
    if not isinstance(dbn, (DeepBeliefNetwork, DeepBoltzmannMachine)):
        raise ParameterTypeError(f"dbn must be a DeepBeliefNetwork or a DeepBoltzmannMachine, got {describe(dbn)}")
    if isinstance(dbn, DeepBoltzmannMachine):
        _refuse_options("DeepBoltzmannMachine", "its mean-field bound draws no samples",
                        n_samples=n_samples is not _DEFAULT_SAMPLES)
        return _estimator(dbn).log_likelihood_bound(
            dbn, data, log_z=log_z, n_runs=n_runs, betas=betas, max_iterations=max_iterations, tolerance=tolerance,
            max_units=max_units, rng=rng,
        )
    _refuse_options("DeepBeliefNetwork", "its bound samples the recognition model, it runs no mean field",
                    max_iterations=max_iterations is not _DEFAULT_ITERATIONS,
                    tolerance=tolerance is not _DEFAULT_TOLERANCE)
    batch = network_rows(dbn, data)
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    max_units = check_int(max_units, "max_units", minimum=0)
    weights, biases = dbn.weights, dbn.biases
    recognition_weights, recognition_biases = dbn.recognition_weights, dbn.recognition_biases
    top = len(weights)
    n_rows = batch.shape[0]
    widest = max(dbn.layer_sizes)
    check_array_size(n_rows * n_samples * widest, f"n_samples={n_samples} draws for each of {n_rows} rows, of up to {widest} units")
    rbm = dbn.top_rbm
    if log_z is not None:
        log_z = _check_log_z(rbm, log_z)
    generator = check_rng(rng)
    rows = np.repeat(batch, n_samples, axis=0)  # row r's draws are rows r*S .. r*S + S - 1
    values = np.zeros(rows.shape[0])
    below = rows
    for layer in range(top - 1):
        pre = below @ recognition_weights[layer] + recognition_biases[layer]
        values += _bernoulli_entropy(pre)
        above = (generator.random(pre.shape) < sigmoid(pre)).astype(np.float64)
        activation = above @ weights[layer].T + biases[layer]
        values += np.sum(below * activation - softplus(activation), axis=1)
        below = above
    field = below @ weights[-1] + biases[top]
    values += below @ biases[top - 1] + np.sum(softplus(field), axis=1)
    if log_z is not None:
        log_z_value, log_z_std, method = log_z, 0.0, "given"
    elif min(rbm.n_visible, rbm.n_hidden) <= max_units:
        from . import exact

        log_z_value, log_z_std, method = exact.log_partition_function(rbm, max_units=max_units), 0.0, "exact"
    else:
        estimate = log_partition_function(
            rbm, n_runs=n_runs, betas=betas, base="data", data=below.astype(np.uint8), rng=generator
        )
        log_z_value, log_z_std, method = estimate.log_z, estimate.log_z_std, "ais"
    values = (values - log_z_value).reshape(n_rows, n_samples)
    per_row = values.mean(axis=1)
    if n_samples > 1:
        error = math.sqrt(float(np.mean(values.var(axis=1, ddof=1))) / (n_samples * n_rows))
    else:
        error = float("nan")
    return LikelihoodBound(float(per_row.mean()), error, per_row, float(log_z_value), float(log_z_std), method)
