r"""Annealed importance sampling and the mean-field likelihood bound for deep Boltzmann machines.

:mod:`pgm_energy.ais` hands a :class:`~pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine` to the
functions here, which take the same arguments and return the same
:class:`~pgm_energy.ais.AISResult` and :class:`~pgm_energy.ais.LikelihoodBound`.

``log Z``. No edge joins two layers of the same parity, so the machine *is* the RBM of
:meth:`~pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine.to_bipartite_rbm`: the even layers
(``v, h2, ...``) on its visible side, the odd ones (``h1, h3, ...``) on its hidden side, energies equal
state for state. The RBM AIS of :mod:`pgm_energy.ais` on that RBM estimates the deep machine's
``log Z``: each run Gibbs-samples the even layers and sums the odd layers out in closed form in its
weights, as Salakhutdinov & Hinton (2009, "Deep Boltzmann machines", AISTATS, section 4) sum out
``h1`` of a two-layer machine. The base has zero weights, zero odd-layer biases and even-layer
biases ``a`` (at T = 1), so ``log Z_A = n_odd log 2 + sum_i softplus(a_i)``:

- ``"model"``: ``a`` the machine's own even-layer biases over ``T`` (needs no data);
- ``"uniform"``: ``a = 0``;
- ``"data"``: the visible layer's ``a`` from the smoothed data marginals
  (:func:`pgm_energy.ais.base_visible_bias`), the other even layers' the machine's own.

The bound. For any distribution ``q`` of the hidden units given ``v``,

.. math::

    \log p(v) = \mathbb{E}_q\bigl[-E(v, h)/T\bigr] + \mathcal{H}(q) - \log Z
                + \mathrm{KL}\bigl(q \,\|\, p(h \mid v)\bigr)
              \ge \mathbb{E}_q\bigl[-E(v, h)/T\bigr] + \mathcal{H}(q) - \log Z ,

and ``q`` here is the factorial mean-field fixed point (:mod:`pgm_energy._mean_field`) reached from
the bottom-up start, which makes the gap ``KL(q || p(h | v))`` locally smallest. Given ``log Z`` the
bound is computed, not sampled: its standard error is 0. ``log Z`` is exact when the bipartite RBM's
smaller side has at most ``max_units`` units, else the AIS estimate from the ``"model"`` base; that
estimate is biased low on average, so the bound computed with it can be slightly optimistic (see
``log_z_std``).
"""

from __future__ import annotations

import warnings

import numpy as np

from ._mean_field import bound_terms, initial_means, mean_field
from ._validation import DEFAULT_MAX_UNITS, check_finite_array, check_int, check_rng, describe
from .ais import AISResult, LikelihoodBound, _check_betas, _check_log_z, _run, base_visible_bias
from .exceptions import ConvergenceWarning, ParameterTypeError, ValidationError
from .models._base import visible_rows
from .models.deep_boltzmann import DeepBoltzmannMachine

__all__ = ["log_partition_function", "estimate_log_likelihood", "log_likelihood_bound"]

_BASES = ("data", "model", "uniform")


def _check_model(model) -> None:
    if not isinstance(model, DeepBoltzmannMachine):
        raise ParameterTypeError(
            f"model must be a DeepBoltzmannMachine, got {type(model).__name__}: {describe(model)}"
        )


def _base_bias(model: DeepBoltzmannMachine, rbm, base, data) -> np.ndarray:
    """The base's even-layer biases at T = 1, in ``rbm``'s visible order.

    ``base=None`` is ``"data"`` with data, else ``"model"``.
    """
    if base is None:
        base = "model" if data is None else "data"
    if not isinstance(base, str) or base not in _BASES:
        raise ValidationError(f"base must be None or one of {_BASES!r}, got {describe(base)}")
    if base == "data" and data is None:
        raise ValidationError("base='data' needs data= (the visible rows whose marginals define the base's visible biases)")
    if base != "data" and data is not None:
        raise ValidationError(f"data= is only used with base='data'; got base={base!r} and data")
    if base == "uniform":
        return np.zeros(rbm.n_visible)
    bias = np.array(rbm.visible_bias / rbm.temperature, dtype=np.float64)
    if base == "data":
        # the RBM's visible side lists the even layers in layer order: the visible layer comes first
        bias[: model.n_visible] = base_visible_bias(visible_rows(model, data))
    return bias


def log_partition_function(model, *, n_runs=100, betas=None, base=None, data=None, rng=None,
                           client=None, progress=True) -> AISResult:
    """AIS estimate of ``log Z`` of a deep Boltzmann machine at its own temperature.

    Parameters
    ----------
    model : DeepBoltzmannMachine
    n_runs : int >= 1, default 100
    betas : None, int >= 1 or array_like of float
        As in :func:`pgm_energy.ais.log_partition_function`.
    base : {None, "data", "model", "uniform"}, default None
        The base's even-layer biases (its weights and odd-layer biases are zero): the machine's own
        (``"model"``), zero (``"uniform"``), or the visible layer's from the smoothed marginals of
        ``data`` and the other even layers' the machine's own (``"data"``). ``None``: ``"data"``
        with ``data``, else ``"model"``.
    data : array_like of 0/1, shape (n_samples, n_visible), or a pandas DataFrame, optional
        Visible rows, only with ``base="data"`` (or None); a DataFrame's columns are picked by the
        machine's visible names.
    rng : None, int or numpy.random.Generator
        Same seed, same bits: the result equals that of
        ``pgm_energy.ais.log_partition_function(model.to_bipartite_rbm(), ...)`` with the same base.
    client : None, "local", "local:N", a scheduler address or distributed.Client
        As in :func:`pgm_energy.ais.log_partition_function`.

    Returns
    -------
    AISResult

    Raises
    ------
    ParameterTypeError
        If ``model`` is not a DeepBoltzmannMachine, or ``n_runs`` is not an int.
    ValidationError
        For a bad ``n_runs``, ``betas`` or ``base``, missing or superfluous ``data``;
        :class:`~pgm_energy.exceptions.StateError` for data that is not 0/1 or has the wrong
        number of columns.
    """
    _check_model(model)
    n_runs = check_int(n_runs, "n_runs", minimum=1)
    schedule = _check_betas(betas)
    rbm = model.to_bipartite_rbm()
    base_bias = _base_bias(model, rbm, base, data)
    generator = check_rng(rng)
    return _run(rbm, n_runs, schedule, base_bias, generator, client, progress)


def estimate_log_likelihood(model, data, *, n_runs=100, betas=None, base=None, rng=None, client=None, progress=True):
    """Refused: a deep Boltzmann machine's ``log p*(v)`` has no closed form.

    Raises
    ------
    ParameterTypeError
        Always (after checking that ``model`` is a DeepBoltzmannMachine); the message points to
        :func:`pgm_energy.ais.log_likelihood_bound` and :func:`pgm_energy.exact.log_likelihood`.
    """
    _check_model(model)
    raise ParameterTypeError(
        "a DeepBoltzmannMachine has no closed-form free energy F(v) (its hidden layers are not independent given "
        "v), which ais.estimate_log_likelihood needs; use ais.log_likelihood_bound(model, data) for the mean-field "
        "lower bound on log p(v), or exact.log_likelihood(model, data) for a machine small enough to enumerate"
    )


def _check_tolerance(tolerance) -> float:
    if isinstance(tolerance, (bool, np.bool_)):
        raise ParameterTypeError(f"tolerance must be a float >= 0, got {tolerance!r}")
    value = float(check_finite_array(tolerance, "tolerance", ndim=0))
    if value < 0:
        raise ValidationError(f"tolerance must be >= 0, got {tolerance!r}")
    return value


def log_likelihood_bound(model, data, *, log_z=None, n_runs=100, betas=None, max_iterations=100, tolerance=1e-7,
                         max_units=DEFAULT_MAX_UNITS, rng=None) -> LikelihoodBound:
    """The mean-field lower bound on ``log p(v)`` of a deep Boltzmann machine, averaged over ``data``.

    Per row, ``B(v) = E_q[-E(v, h) / T] + H(q) - log Z <= log p(v)`` with ``q`` the factorial
    mean-field posterior of the hidden layers (see the module docstring).

    Parameters
    ----------
    model : DeepBoltzmannMachine
    data : array_like of 0/1, shape (n_rows, n_visible), or pandas.DataFrame
    log_z : float, optional
        A known ``log Z`` of the machine (skips its computation; reported with ``log_z_std = 0``
        and ``log_z_method = "given"``); refused outside the range the parameters allow.
    n_runs, betas
        AIS runs and schedule, used when ``log Z`` is estimated (see
        :func:`pgm_energy.ais.log_partition_function`); checked in any case.
    max_iterations : int >= 0, default 100
        Mean-field parity sweeps at most.
    tolerance : float >= 0, default 1e-7
        Mean field stops once no mean moves by more than this in a sweep.
    max_units : int >= 0, default 30
        ``log Z`` is exact when the smaller side of :meth:`to_bipartite_rbm` has at most this many
        units (:func:`pgm_energy.exact.log_partition_function`), else estimated by AIS from the
        ``"model"`` base.
    rng : None, int or numpy.random.Generator
        For AIS only.

    Returns
    -------
    LikelihoodBound
        ``standard_error`` is 0.0: given ``log_z`` the bound is deterministic.

    Warns
    -----
    ConvergenceWarning
        When mean field stops at ``max_iterations`` before meeting ``tolerance``; the bound of the
        last iterate is still a lower bound, only a looser one.
    """
    _check_model(model)
    batch = visible_rows(model, data)
    n_runs = check_int(n_runs, "n_runs", minimum=1)
    schedule = _check_betas(betas)
    max_iterations = check_int(max_iterations, "max_iterations", minimum=0)
    tolerance = _check_tolerance(tolerance)
    max_units = check_int(max_units, "max_units", minimum=0)
    if log_z is not None:
        log_z = _check_log_z(model, log_z, "this DeepBoltzmannMachine", "log Z")
    generator = check_rng(rng)

    fit = mean_field(model, initial_means(model, batch), max_iterations=max_iterations, tolerance=tolerance)
    if not fit.converged:
        warnings.warn(
            f"mean field did not converge in max_iterations={max_iterations} sweeps (a mean still moved by more "
            f"than tolerance={tolerance:g}); the bound of the last iterate is returned, a valid but looser lower "
            "bound: raise max_iterations or loosen tolerance",
            ConvergenceWarning,
            stacklevel=3,  # the caller of pgm_energy.ais.log_likelihood_bound
        )
    terms = bound_terms(model, fit.means)

    rbm = model.to_bipartite_rbm()
    if log_z is not None:
        log_z_value, log_z_std, method = log_z, 0.0, "given"
    elif min(rbm.n_visible, rbm.n_hidden) <= max_units:  # decided by size: exact never refuses here
        from . import exact

        log_z_value, log_z_std, method = exact.log_partition_function(model, max_units=max_units), 0.0, "exact"
    else:
        # the data-free base: the bound's data is the visible layer only, while AIS samples every even layer
        estimate = _run(rbm, n_runs, schedule, _base_bias(model, rbm, "model", None), generator)
        log_z_value, log_z_std, method = estimate.log_z, estimate.log_z_std, "ais"
    per_row = terms - log_z_value
    return LikelihoodBound(float(np.mean(per_row)), 0.0, per_row, float(log_z_value), float(log_z_std), method)
