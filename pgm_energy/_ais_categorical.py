r"""Annealed importance sampling for :class:`~pgm_energy.models.categorical_rbm.CategoricalRBM`.

:mod:`pgm_energy.ais` hands a categorical RBM to the functions here, which take the same
arguments and return the same :class:`~pgm_energy.ais.AISResult` and
:class:`~pgm_energy.ais.LikelihoodEstimate`.

The path (Salakhutdinov & Murray 2008, with softmax visible variables). A model at temperature
``T`` is its parameters divided by ``T`` at T = 1 (the energy is linear in them). The base ``A``
has independent softmax visible variables with biases ``a_i(.)``, zero weights and zero hidden
biases, so

.. math::

    \log Z_A = \sum_i \log \sum_{s=0}^{k_i - 1} e^{a_i(s)} + n_{hidden} \log 2 .

The intermediate distributions, the hidden layer summed out, are

.. math::

    p^*_\beta(v) = e^{\sum_i a_i(v_i) + \beta \sum_i (b_i - a_i)(v_i)}
                   \prod_j \bigl(1 + e^{\beta (c_j + \sum_i W_i(v_i, j))}\bigr),

the marginal of the RBM whose energy terms are all scaled by ``beta`` but for the base's
visible biases, which are scaled by ``1 - beta``; ``p*_0 = Z_A p_A`` and ``p*_1`` is the target's
unnormalised marginal. The transition at ``beta`` is one block-Gibbs sweep of that RBM
(``h ~ p_beta(h | v)``, then one categorical draw per visible variable from
``p_beta(v | h)``), which leaves ``p_beta`` invariant. A run draws ``v_1`` from ``A`` exactly and
multiplies its weight by ``p*_k(v_k) / p*_{k-1}(v_k)`` for ``k = 1..K``; ``E[w] = Z / Z_A``
(:mod:`pgm_energy._kernels.ais_categorical`).

Bases. ``"data"``: ``a_i(s) = log((n_i(s) + 1) / (n + k_i))``, the data frequencies with Laplace
smoothing (a state that never occurs keeps a finite bias; with ``k_i = 2`` this is the binary
RBM's base up to a constant per variable); ``"model"``: the target's own visible biases
(divided by ``T``); ``"uniform"``: zeros.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from ._validation import (
    check_bool, check_categorical_states, check_int, check_rng, describe, refuse_out_of_memory,
)
from .ais import _BASES, AISResult, LikelihoodEstimate, _check_betas, _summarise
from .exceptions import EvidenceError, ParameterTypeError, StateError, ValidationError
from .models.categorical_rbm import CategoricalRBM

__all__ = ["log_partition_function", "estimate_log_likelihood", "base_visible_bias", "visible_rows"]


def _check_model(model) -> None:
    if not isinstance(model, CategoricalRBM):
        raise ParameterTypeError(f"model must be a CategoricalRBM, got {type(model).__name__}: {describe(model)}")


def visible_rows(model: CategoricalRBM, data, name: str = "data") -> np.ndarray:
    """Rows of visible state indices of ``model``: int64, shape (n_rows >= 1, n_visible).

    An array holds state indices ``0 .. k_i - 1``; a pandas DataFrame's columns are picked by
    the model's visible names (others are ignored) and may hold state names (each value is read
    by :meth:`CategoricalRBM.state_index`).
    """
    visible_names = model.visible_names
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        missing = [unit for unit in visible_names if unit not in data.columns]
        if missing:
            raise ValidationError(f"{name} is missing columns for visible variables {missing[:5]!r}")
        frame = data[list(visible_names)]
        codes = np.empty((len(frame), len(visible_names)), dtype=np.int64)
        for column, unit in enumerate(visible_names):
            known = {}
            for row, value in enumerate(frame[unit].tolist()):
                cacheable = type(value) in (str, int)  # not bool: True == 1 would share a cache entry
                try:
                    code = known.get(value) if cacheable else None
                    if code is None:
                        code = model.state_index(unit, value)
                        if cacheable:
                            known[value] = code
                except EvidenceError as error:
                    raise StateError(f"{name}[{unit!r}] row {row}: {error}") from None
                codes[row, column] = code
        data = codes
    batch, _ = check_categorical_states(data, np.array(model.cardinalities, dtype=np.int64), name)
    if batch.shape[0] == 0:
        raise ValidationError(f"{name} must hold at least one sample, got 0 rows")
    return batch


def base_visible_bias(model: CategoricalRBM, data) -> np.ndarray:
    """The visible bias of the ``base="data"`` model: log Laplace-smoothed state frequencies.

    ``a_i(s) = log((n_i(s) + 1) / (n + k_i))`` with ``n_i(s)`` the number of rows where variable
    ``i`` is in state ``s`` and ``n`` the number of rows: every state keeps a finite bias.

    Parameters
    ----------
    model : CategoricalRBM
    data : array_like of state indices, shape (n_samples, n_visible), or a pandas DataFrame

    Returns
    -------
    ndarray of float64, shape (sum(k_i),)
        Flat as ``model.visible_bias``.
    """
    _check_model(model)
    batch = visible_rows(model, data)
    offsets = model.field_offsets
    counts = np.bincount((offsets[:-1] + batch).ravel(), minlength=int(offsets[-1])).astype(np.float64)
    cards = np.diff(offsets).astype(np.float64)
    return np.log(counts + 1.0) - np.log(batch.shape[0] + np.repeat(cards, np.diff(offsets)))


def _base_bias(model: CategoricalRBM, base, data) -> np.ndarray:
    """The base model's visible bias (at T = 1); ``base=None`` is ``"data"`` with data, else ``"model"``."""
    if base is None:
        base = "model" if data is None else "data"
    if not isinstance(base, str) or base not in _BASES:
        raise ValidationError(f"base must be None or one of {_BASES!r}, got {describe(base)}")
    if base == "data":
        if data is None:
            raise ValidationError(
                "base='data' needs data= (the visible data whose state frequencies define the base model)"
            )
        return base_visible_bias(model, data)
    if data is not None:
        raise ValidationError(f"data= is only used with base='data'; got base={base!r} and data")
    if base == "model":
        return np.array(model.visible_bias / model.temperature, dtype=np.float64)
    return np.zeros(model.visible_bias.shape[0])


def _log_z_base(model: CategoricalRBM, base_bias: np.ndarray) -> float:
    """``sum_i logsumexp(a_i) + n_hidden log 2``, the base model's closed-form ``log Z``."""
    offsets = model.field_offsets.tolist()
    total = sum(float(logsumexp(base_bias[offsets[i]:offsets[i + 1]])) for i in range(model.n_visible))
    return total + model.n_hidden * math.log(2.0)


def _run(model, n_runs, betas, base, data, rng, client=None, progress=False):
    """Validate, run the kernel: ``(log_weights, final states, log Z_A, schedule)``."""
    _check_model(model)
    n_runs = check_int(n_runs, "n_runs", minimum=1)
    schedule = _check_betas(betas)
    base_bias = _base_bias(model, base, data)
    generator = check_rng(rng)

    from ._cluster import resolve_client, run_by_blocks
    from ._kernels import ais_categorical as kernels
    from ._kernels.rng import seed_streams

    temperature = model.temperature
    with refuse_out_of_memory(f"n_runs={n_runs} AIS runs of {model.n_visible} visible variables"):
        streams = seed_streams(generator, n_runs * kernels.LANES).reshape(n_runs, kernels.LANES)
        log_weights, states = run_by_blocks(
            resolve_client(client), kernels.ais_log_weights,
            (model.weights / temperature, model.hidden_bias / temperature, base_bias,
             model.visible_bias / temperature - base_bias, model.field_offsets, schedule),
            streams, progress=check_bool(progress, "progress"), description="AIS", unit="run",
        )
    return log_weights, states, _log_z_base(model, base_bias), schedule


def log_partition_function(model, *, n_runs=100, betas=None, base=None, data=None, rng=None,
                           client=None, progress=True) -> AISResult:
    """AIS estimate of ``log Z`` of a categorical RBM at its own temperature.

    Parameters
    ----------
    model : CategoricalRBM
    n_runs : int >= 1, default 100
    betas : None, int >= 1 or array_like of float
        As in :func:`pgm_energy.ais.log_partition_function`.
    base : {None, "data", "model", "uniform"}, default None
        The base model (independent softmax visible variables, zero weights and hidden biases):
        ``"data"`` the smoothed state frequencies of ``data`` (:func:`base_visible_bias`),
        ``"model"`` the model's visible biases, ``"uniform"`` zeros. ``None``: ``"data"`` with
        ``data``, else ``"model"``.
    data : array_like of state indices, shape (n_samples, n_visible), or a pandas DataFrame, optional
        Only with ``base="data"`` (or None); a DataFrame is reordered by its column names and may
        hold state names.
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
    """Mean ``log p(v) = -F_T(v) / T - log Z`` of rows of visible states, ``log Z`` estimated by AIS.

    Parameters
    ----------
    model : CategoricalRBM
    data : array_like of state indices, shape (n_samples, n_visible) or (n_visible,), or a pandas DataFrame
    n_runs, betas, base, rng, client, progress
        As in :func:`log_partition_function` (``base=None`` is ``"data"``, built from ``data``).

    Returns
    -------
    LikelihoodEstimate
    """
    _check_model(model)
    batch = visible_rows(model, data)
    uses_data = base is None or (isinstance(base, str) and base == "data")
    log_z = log_partition_function(
        model, n_runs=n_runs, betas=betas, base=base, data=batch if uses_data else None, rng=rng,
        client=client, progress=progress,
    )
    mean_log_numerator = float(np.mean(-model.free_energy(batch) / model.temperature))
    return LikelihoodEstimate(
        mean_log_numerator - log_z.log_z,
        mean_log_numerator - log_z.upper,
        mean_log_numerator - log_z.lower,
        log_z,
    )
