r"""Annealed importance sampling for :class:`~pgm_energy.models.gaussian_rbm.GaussianBernoulliRBM`.

:mod:`pgm_energy.ais` hands a Gaussian-Bernoulli RBM to the functions here, which take the same
arguments and return the same :class:`~pgm_energy.ais.AISResult` and
:class:`~pgm_energy.ais.LikelihoodEstimate` (``log Z`` of a density: ``Z`` integrates over the
real visible units, as :func:`pgm_energy.exact.log_partition_function` does).

The target at temperature ``T``. With ``s_i = sigma_i sqrt(T)`` (the visible standard deviation
at ``T``), ``E(v, h) / T`` is the energy at T = 1 of the machine with standard deviations ``s``,
the same ``W`` and ``b`` and hidden bias ``c / T``:

.. math::

    \frac{E(v, h)}{T} = \sum_i \frac{(v_i - b_i)^2}{2 s_i^2} - \frac{c^\top h}{T}
                        - \sum_{ij} \frac{v_i}{s_i^2} W_{ij} h_j .

The base ``A``: independent visible units ``N(m_i, s_i^2)`` (the model's visible standard deviations;
``m`` the data means for ``base="data"``, the visible biases ``b`` for ``base="model"``) and fair
hidden coins, ``log Z_A = n_hidden log 2 + sum_i log(sqrt(2 pi) s_i)``. ``base="uniform"`` is
refused: there is no uniform distribution on the real line.

The path. The visible means are interpolated and the coupling and hidden-bias terms scaled by
``beta``, the variances kept:

.. math::

    E_\beta(v, h) = \sum_i \frac{(v_i - \mu_{\beta,i})^2}{2 s_i^2} - \beta \frac{c^\top h}{T}
                    - \beta \sum_{ij} \frac{v_i}{s_i^2} W_{ij} h_j,
    \qquad \mu_\beta = (1 - \beta) m + \beta b,

the Gaussian-Bernoulli RBM with weights ``beta W``, visible bias ``mu_beta``, hidden bias
``beta c / T`` and standard deviations ``s`` at T = 1. Its quadratic term does not depend on
``beta``, so each ``Z_beta`` is a finite integral (a mixture of ``2**n_hidden`` Gaussians); scaling
the variances or the whole energy instead would make ``Z`` infinite near ``beta = 0`` or change the
base. ``E_0`` is the base and ``E_1`` the target. Summing ``h`` out gives the free energy, and the
unnormalised marginal

.. math::

    p^*_\beta(v) = e^{-F_\beta(v)} = e^{-\sum_i (v_i - \mu_{\beta,i})^2 / (2 s_i^2)}
                   \prod_j \bigl(1 + e^{\beta x_j(v)}\bigr), \qquad
    x_j(v) = \frac{c_j}{T} + \sum_i \frac{v_i}{s_i^2} W_{ij} .

The weights. In whitened units ``u_i = v_i / s_i`` (the Jacobian ``prod_i s_i`` is common to all
``Z_beta`` and cancels in every ratio) with ``m~ = m / s``, ``delta = (b - m) / s`` and
``Delta = beta_k - beta_{k-1}``,

.. math::

    \log \frac{p^*_k(u)}{p^*_{k-1}(u)} = \Delta \Bigl(\delta^\top (u - \tilde m)
        - \tfrac{\beta_k + \beta_{k-1}}{2} \lVert \delta \rVert^2\Bigr)
        + \sum_j \bigl(\operatorname{softplus}(\beta_k x_j) - \operatorname{softplus}(\beta_{k-1} x_j)\bigr),

a difference of free energies, ``F_{k-1}(v) - F_k(v)``. A run draws ``v_1`` from ``A`` exactly,
multiplies its weight by that ratio at each ``k = 1..K`` and moves with one block-Gibbs sweep of
``E_{beta_k}`` (``h_j ~ sigmoid(beta x_j)``, then ``v ~ N(mu_beta + beta W h, s^2)``), which leaves
``p_beta`` invariant; hence ``E[w] = Z_B / Z_A`` and ``log Z ~ log Z_A + log mean(w)``
(:mod:`pgm_energy._kernels.ais_gaussian`).
"""

from __future__ import annotations

import math

import numpy as np

from ._validation import check_bool, check_int, check_rng, describe, refuse_out_of_memory
from .ais import AISResult, LikelihoodEstimate, _check_betas, _summarise
from .exceptions import ParameterTypeError, StateError, ValidationError
from .models._gaussian_parts import check_real_states
from .models.gaussian_rbm import GaussianBernoulliRBM

__all__ = ["log_partition_function", "estimate_log_likelihood", "visible_rows"]

_BASES = ("data", "model")


def _check_model(model) -> None:
    if not isinstance(model, GaussianBernoulliRBM):
        raise ParameterTypeError(
            f"model must be a GaussianBernoulliRBM, got {type(model).__name__}: {describe(model)}"
        )


def visible_rows(model: GaussianBernoulliRBM, data, name: str = "data") -> np.ndarray:
    """Rows of real visible values of ``model``: float64, shape (n_rows >= 1, n_visible), all finite.

    A pandas DataFrame's columns are picked by the model's visible names (others are ignored).
    """
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        missing = [unit for unit in model.visible_names if unit not in data.columns]
        if missing:
            raise ValidationError(f"{name} is missing columns for visible units {missing[:5]!r}")
        data = data[list(model.visible_names)].to_numpy()
    batch, _ = check_real_states(data, model.n_visible, name)
    if batch.shape[0] == 0:
        raise ValidationError(f"{name} must hold at least one sample, got 0 rows")
    # C order: a DataFrame's columns picked by name come as a Fortran-ordered array, whose free
    # energies (a matrix product) would round differently from those of the same rows in C order
    return np.ascontiguousarray(batch)


def _base_mean(model: GaussianBernoulliRBM, base, data) -> np.ndarray:
    """The base model's visible means ``m``; ``base=None`` is ``"data"`` with data, else ``"model"``."""
    if base is None:
        base = "model" if data is None else "data"
    if isinstance(base, str) and base == "uniform":
        raise ValidationError(
            "base='uniform' is not available for a GaussianBernoulliRBM: its visible units are real-valued and "
            "there is no uniform distribution on the real line; use base='data' (with data=) or base='model'"
        )
    if not isinstance(base, str) or base not in _BASES:
        raise ValidationError(
            f"base must be None or one of {_BASES!r} for a GaussianBernoulliRBM, got {describe(base)}"
        )
    if base == "data":
        if data is None:
            raise ValidationError("base='data' needs data= (the visible data whose means define the base model)")
        batch = visible_rows(model, data)
        with np.errstate(over="ignore", invalid="ignore"):
            means = np.mean(batch, axis=0)
        if not np.all(np.isfinite(means)):
            raise StateError("data holds values so large that their column means overflow float64")
        return means
    if data is not None:
        raise ValidationError(f"data= is only used with base='data'; got base={base!r} and data")
    return np.array(model.visible_bias, dtype=np.float64)


def _whitened(model: GaussianBernoulliRBM, means: np.ndarray):
    """``(W~, c~, m~, delta, s)``: the target and base in units of the visible standard deviations ``s``."""
    temperature = model.temperature
    std = model.sigma * math.sqrt(temperature)
    with np.errstate(over="ignore", invalid="ignore"):
        weights = model.weights / std[:, None]
        base_mean = means / std
        delta = model.visible_bias / std - base_mean
        hidden_bias = model.hidden_bias / temperature
        half_norm = 0.5 * float(delta @ delta)
    if not (np.all(np.isfinite(weights)) and np.all(np.isfinite(base_mean)) and math.isfinite(half_norm)):
        raise ValidationError(
            "the base means (the data's column means with base='data') are too far from the model's visible "
            "biases in units of its standard deviations (sigma * sqrt(temperature)): the AIS weights would "
            "overflow float64"
        )
    return weights, hidden_bias, base_mean, delta, std


def _run(model, n_runs, betas, base, data, rng, client=None, progress=False):
    """Validate, run the kernel: ``(log_weights, final states in v units, log Z_A, schedule)``."""
    _check_model(model)
    n_runs = check_int(n_runs, "n_runs", minimum=1)
    schedule = _check_betas(betas)
    means = _base_mean(model, base, data)
    generator = check_rng(rng)
    weights, hidden_bias, base_mean, delta, std = _whitened(model, means)

    from ._cluster import resolve_client, run_by_blocks
    from ._kernels import ais_gaussian as kernels
    from ._kernels.rng import seed_streams

    with refuse_out_of_memory(f"n_runs={n_runs} AIS runs of {model.n_visible} visible units"):
        streams = seed_streams(generator, n_runs * kernels.LANES).reshape(n_runs, kernels.LANES)
        log_weights, states = run_by_blocks(
            resolve_client(client), kernels.ais_log_weights, (weights, hidden_bias, base_mean, delta, schedule),
            streams, progress=check_bool(progress, "progress"), description="AIS", unit="run",
        )
    if not np.all(np.isfinite(log_weights)):
        raise ValidationError(
            "AIS weights overflowed float64: the model's parameters are too large relative to its visible "
            "standard deviations (sigma * sqrt(temperature)) for this base"
        )
    log_z_base = model.n_hidden * math.log(2.0) + float(np.sum(0.5 * math.log(2.0 * math.pi) + np.log(std)))
    return log_weights, states * std, log_z_base, schedule


def log_partition_function(model, *, n_runs=100, betas=None, base=None, data=None, rng=None,
                           client=None, progress=True) -> AISResult:
    """AIS estimate of ``log Z`` of a Gaussian-Bernoulli RBM at its own temperature (``Z`` a density's normaliser).

    Parameters
    ----------
    model : GaussianBernoulliRBM
    n_runs : int >= 1, default 100
    betas : None, int >= 1 or array_like of float
        As in :func:`pgm_energy.ais.log_partition_function`.
    base : {None, "data", "model"}, default None
        The base model: independent ``N(m_i, sigma_i^2 T)`` visible units and fair hidden coins,
        ``m`` the column means of ``data`` (``"data"``) or the model's visible biases
        (``"model"``). ``None``: ``"data"`` with ``data``, else ``"model"``. ``"uniform"`` is refused
        (no uniform distribution on the real line).
    data : array_like of real numbers, shape (n_samples, n_visible), or a pandas DataFrame, optional
        Only with ``base="data"`` (or None); a DataFrame is reordered by its column names.
    rng : None, int or numpy.random.Generator
    client : None, "local", "local:N", a scheduler address or distributed.Client
        Where the runs go (:mod:`pgm_energy._cluster`): in process (None), or split in blocks across
        a Dask cluster. The same ``rng`` gives the same bits either way: every run's random
        streams are drawn here before any run starts.

    Returns
    -------
    AISResult
    """
    log_weights, _, log_z_base, schedule = _run(model, n_runs, betas, base, data, rng, client, progress)
    return _summarise(log_weights, log_z_base, schedule.shape[0] - 1)


def estimate_log_likelihood(model, data, *, n_runs=100, betas=None, base=None, rng=None,
                            client=None, progress=True) -> LikelihoodEstimate:
    """Mean log density ``log p(v) = -F_T(v) / T - log Z`` of rows of visible values, ``log Z`` estimated by AIS.

    Parameters
    ----------
    model : GaussianBernoulliRBM
    data : array_like of real numbers, shape (n_samples, n_visible) or (n_visible,), or a pandas DataFrame
    n_runs, betas, base, rng, client, progress
        As in :func:`log_partition_function` (``base=None`` is ``"data"``, built from ``data``).

    Returns
    -------
    LikelihoodEstimate
        In nats per sample (a log density: may be positive).
    """
    _check_model(model)
    batch = visible_rows(model, data)
    uses_data = base is None or (isinstance(base, str) and base == "data")
    log_z = log_partition_function(
        model, n_runs=n_runs, betas=betas, base=base, data=batch if uses_data else None, rng=rng,
        client=client, progress=progress,
    )
    free_energies = model._free_energies(batch, "data")
    with np.errstate(over="ignore"):
        mean_log_numerator = float(np.mean(-free_energies / model.temperature))
    if not math.isfinite(mean_log_numerator):
        raise ValidationError("data holds rows whose log density is below float64's range")
    return LikelihoodEstimate(
        mean_log_numerator - log_z.log_z,
        mean_log_numerator - log_z.upper,
        mean_log_numerator - log_z.lower,
        log_z,
    )
