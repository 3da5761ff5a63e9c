"""The contrastive-divergence update loop (CD-k and persistent CD-k) for RBMs.

The working state is a :class:`CDState` of plain arrays in the training dtype
(float32 or float64) that :func:`cd_epoch` updates in place; the trainer
(``contrastive_divergence.py``) builds it with :func:`new_state`, draws the row order of
each epoch, and turns the arrays back into a model. Nothing here sees a package object.

What one update computes (Hinton 2010, "A Practical Guide to Training RBMs", secs. 3, 9-11)
---------------------------------------------------------------------------------------
For a mini-batch ``X`` of ``n`` rows (the last batch of an epoch may be smaller; it is
averaged over its own size):

* positive statistics from ``P0 = p(h | X)`` (probabilities, never samples);
* CD-k: the chain of row ``r`` starts from ``h0 ~ p(h | x_r)`` (sampled) and alternates
  ``v_t ~ p(v | h_{t-1})``, ``h_t ~ p(h | v_t)`` for ``t = 1..k``; the visible states are
  always binary samples (the guide allows probabilities for the last reconstruction; we
  sample, so that CD-k is an honest k-step Gibbs chain, the same for CD and PCD, at the
  price of some extra variance); the last hidden layer enters the statistics as its
  probabilities ``Pk = p(h | v_k)``;
* PCD-k (Tieleman 2008): the same k steps start from ``state.chains`` (``n_chains`` rows,
  ``h ~ p(h | chain)`` first, under the current parameters) and the final ``v_k`` is
  written back; negative statistics are averaged over the chains;
* ``grad_W = X' P0 / n - V_k' Pk / m``, ``grad_b = mean(X) - mean(V_k)``,
  ``grad_c = mean(P0) - mean(Pk)`` (``m`` = ``n`` for CD, ``n_chains`` for PCD);
* sparsity (guide sec. 11): ``q <- decay q + (1 - decay) mean(P0)``, ``s = cost (target - q)``
  is added to ``grad_c`` and ``s_j mean(X)_i`` to ``grad_W[i, j]``;
* ``velocity = momentum velocity + learning_rate (grad - weight_decay W)`` (decay on the
  weights only), ``theta += velocity``.

The reconstruction error returned is ``sum (x - p(v | h0))**2`` over the epoch's rows and
visible units, ``h0`` the data-driven hidden sample. For CD it is a by-product of the
first negative step; PCD needs one more product for it (``reconstruction=False`` skips it
and returns NaN).

Two paths, one definition
-------------------------
* ``"numba"``: the epoch in serial Numba calls (:func:`.cd.train_epoch`) of many batches each
  (time-bounded by :func:`pgm_energy._launch.run_chunked`; bit-identical to one call), for small
  layers, where a Python call per batch would cost more than the arithmetic.
* ``"blas"``: per batch, the products by NumPy's BLAS (``matmul`` with ``out=``, into
  buffers allocated once per epoch) and everything else in fused serial Numba kernels
  (sigmoid, sampling, statistics, the update). Products per update: the layer products
  (CD-k: 2k + 1; PCD-k: 2k + 2 with the reconstruction, 2k + 1 without) and one gradient
  product ``[X; V_k]' [P0/n; -Pk/m]`` worth two (so CD-1 does the same five as
  scikit-learn's PCD-1, which keeps its chains' hidden states and saves the product that
  our PCD spends on ``p(h | chain)``).
``path="auto"`` picks ``"numba"`` when ``n_visible * n_hidden <= NUMBA_MAX_WEIGHTS``
(see that constant for the measurement).

Randomness and reproducibility
------------------------------
Row ``r`` of a batch and chain ``r`` draw from ``state.streams[r]`` (xorshift64*), units in
index order; a unit is on when ``u < p``. Both paths consume the streams identically, so
they give the same samples whenever they compute the same probabilities. The Numba path
is serial and fixed-order: the same state and order give bit-identical results whatever
the Numba or BLAS thread count. The BLAS path is deterministic for a fixed BLAS library
and thread count, but OpenBLAS rounds differently with other thread counts and row
blockings: a probability may then differ in its last bits, and a draw that falls within
that difference of ``u`` gives another sample, after which the two runs diverge as any
chaotic computation (their distributions are the same; and the parameters differ in their
last bits even while every sample agrees). Measured for 784x500 weights
N(0, 0.05^2) on MNIST rows (OpenBLAS 0.3.31): in float32, 1 vs 2 threads changes 3.6% of
the pre-activations and the expected number of changed samples is 5e-10 per draw (7e-9
with other row blockings), so about 0.006-0.09 per epoch of 10,000 rows; in float64, 2e-18 per draw.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._kernels import cd as _cd
from .._launch import first_chunk, run_chunked
from .._kernels.rng import seed_streams

__all__ = ["CDState", "new_state", "cd_epoch", "NUMBA_MAX_WEIGHTS"]

#: ``path="auto"`` trains in one Numba call per epoch when ``n_visible * n_hidden`` is at
#: most this; above it, with BLAS products per batch. Measured (CPU seconds per CD-1 epoch,
#: 1 BLAS thread, 2000 random rows of density 0.3, batch 10 / 20 / 100; see
#: ``benchmarks/bench_training_speed.py --crossover``): the Numba path is 1.3-2.7x faster
#: at 64x64 and 64x128, 1.05-1.8x at 128x128 and 196x100; BLAS is faster from 256x128
#: (by 0-25%) and 256x256 (by 7-26%) on. 784x20 (15680 weights) is mixed: Numba 5-23%
#: faster at batch 10, BLAS 10-37% faster at batch 20-100 (the Numba loops over 20 hidden
#: units are short); it stays on the Numba side. The Numba path is serial: with two BLAS
#: threads the BLAS path gains, so near the threshold ``path="blas"`` may then be better.
NUMBA_MAX_WEIGHTS = 20000

_PATHS = ("auto", "numba", "blas")

class CDState(NamedTuple):
    """Mutable working state of CD training; every array is updated in place by :func:`cd_epoch`.

    Attributes
    ----------
    weights : ndarray, shape (n_visible, n_hidden)
    visible_bias : ndarray, shape (n_visible,)
    hidden_bias : ndarray, shape (n_hidden,)
    weights_velocity : ndarray, shape (n_visible, n_hidden)
    visible_velocity : ndarray, shape (n_visible,)
    hidden_velocity : ndarray, shape (n_hidden,)
    chains : ndarray, shape (n_chains, n_visible)
        Persistent 0/1 visible states (shape (0, n_visible) for plain CD).
    streams : ndarray of uint64, shape (n_streams,)
        xorshift64* states, one per batch row / chain.
    hidden_activity : ndarray, shape (n_hidden,)
        Running mean ``q`` of the data-driven hidden probabilities (sparsity).

    All float arrays share one dtype (float32 or float64) and are C-contiguous.
    """

    weights: np.ndarray
    visible_bias: np.ndarray
    hidden_bias: np.ndarray
    weights_velocity: np.ndarray
    visible_velocity: np.ndarray
    hidden_velocity: np.ndarray
    chains: np.ndarray
    streams: np.ndarray
    hidden_activity: np.ndarray


def new_state(weights, visible_bias, hidden_bias, *, n_chains, n_streams, dtype, rng, sparsity_target=None):
    """A fresh :class:`CDState`: parameters copied into ``dtype``, zero velocities.

    Parameters
    ----------
    weights : array_like, shape (n_visible, n_hidden)
    visible_bias : array_like, shape (n_visible,)
    hidden_bias : array_like, shape (n_hidden,)
    n_chains : int
        Persistent chains (0 for plain CD). They start as independent samples of
        ``sigmoid(visible_bias)`` (the model without its weights); the caller may
        overwrite ``state.chains`` (for example with data rows).
    n_streams : int
        At least ``max(batch_size, n_chains)`` of the later :func:`cd_epoch` calls.
    dtype : float32 or float64
    rng : numpy.random.Generator
        Seeds the streams, then draws the initial chains.
    sparsity_target : float or None
        Initial ``hidden_activity`` (0 when None).

    Returns
    -------
    CDState
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    weights = np.array(weights, dtype=dtype, order="C", copy=True)
    n_visible, n_hidden = weights.shape
    visible_bias = np.array(visible_bias, dtype=dtype, copy=True).reshape(n_visible)
    hidden_bias = np.array(hidden_bias, dtype=dtype, copy=True).reshape(n_hidden)
    streams = seed_streams(rng, int(n_streams))
    chain_probability = 1.0 / (1.0 + np.exp(-visible_bias.astype(np.float64)))
    chains = (rng.random((int(n_chains), n_visible)) < chain_probability).astype(dtype)
    start = 0.0 if sparsity_target is None else float(sparsity_target)
    return CDState(
        weights=weights,
        visible_bias=visible_bias,
        hidden_bias=hidden_bias,
        weights_velocity=np.zeros_like(weights),
        visible_velocity=np.zeros_like(visible_bias),
        hidden_velocity=np.zeros_like(hidden_bias),
        chains=np.ascontiguousarray(chains),
        streams=streams,
        hidden_activity=np.full(n_hidden, start, dtype=dtype),
    )


def _check(state, data, order, batch_size, k, persistent, path):
    """Cheap consistency checks (the trainer validates user input; these catch wiring mistakes)."""
    dtype = state.weights.dtype
    n_visible, n_hidden = state.weights.shape
    for name in ("weights", "visible_bias", "hidden_bias", "weights_velocity", "visible_velocity",
                 "hidden_velocity", "chains", "hidden_activity"):
        array = getattr(state, name)
        if array.dtype != dtype or not array.flags.c_contiguous or not array.flags.writeable:
            raise ValueError(f"state.{name} must be a writeable C-contiguous {dtype} array")
    if data.dtype != dtype or data.ndim != 2 or data.shape[1] != n_visible or not data.flags.c_contiguous:
        raise ValueError(f"data must be a C-contiguous {dtype} array of shape (n_rows, {n_visible}), "
                         f"got {data.dtype} {data.shape}")
    if not isinstance(order, np.ndarray) or order.dtype != np.int64 or order.ndim != 1 or order.shape[0] == 0:
        raise ValueError(f"order must be a non-empty 1-d int64 array of row indices, got {order!r:.80}")
    if order.min() < 0 or order.max() >= data.shape[0]:
        raise ValueError(f"order must index rows of data (0 to {data.shape[0] - 1}), "
                         f"got values from {order.min()} to {order.max()}")
    if batch_size < 1 or k < 1:
        raise ValueError(f"batch_size and k must be >= 1, got {batch_size} and {k}")
    n_chains = state.chains.shape[0]
    if persistent and n_chains == 0:
        raise ValueError("persistent training needs state.chains with at least one row")
    needed = max(min(batch_size, order.shape[0]), n_chains if persistent else 0)
    if state.streams.dtype != np.uint64 or state.streams.shape[0] < needed:
        raise ValueError(f"state.streams must be uint64 with at least {needed} entries, got {state.streams.shape[0]}")
    if path not in _PATHS:
        raise ValueError(f"path must be one of {_PATHS}, got {path!r}")


def cd_epoch(state, data, order, *, batch_size, k, persistent, learning_rate, momentum, weight_decay,
             sparsity_target, sparsity_cost, sparsity_decay=0.95, reconstruction=True, path="auto"):
    """One epoch of CD-k / PCD-k over ``data`` in the row ``order``; ``state`` is updated in place.

    Parameters
    ----------
    state : CDState
    data : ndarray, shape (n_rows, n_visible)
        In the state's dtype, C-contiguous; 0/1, or real values in [0, 1] (Bernoulli means),
        used as given in the positive statistics and the reconstruction error.
    order : ndarray of int64, shape (n_used,)
        Row indices of ``data`` in the order of the epoch (usually a permutation of all the
        rows; any rows, each index in range, are accepted); batches are consecutive slices
        of it, the last one possibly smaller.
    batch_size, k : int
    persistent : bool
    learning_rate, momentum, weight_decay : float
    sparsity_target : float or None
        None (or ``sparsity_cost == 0``) disables the sparsity term.
    sparsity_cost, sparsity_decay : float
    reconstruction : bool, default True
        PCD only: False skips the reconstruction product and returns NaN.
    path : {"auto", "numba", "blas"}
        See the module docstring.

    Returns
    -------
    float
        Sum over the epoch's rows and visible units of ``(x - p(v | h0))**2``.
    """
    batch_size = int(batch_size)
    k = int(k)
    persistent = bool(persistent)
    _check(state, data, order, batch_size, k, persistent, path)
    reconstruction = bool(reconstruction) or not persistent
    sparse = sparsity_target is not None and sparsity_cost != 0.0
    cost = float(sparsity_cost) if sparse else 0.0
    target = float(sparsity_target) if sparse else 0.0
    args = (float(learning_rate), float(momentum), float(weight_decay), cost, target, float(sparsity_decay))
    if path == "auto":
        path = "numba" if state.weights.size <= NUMBA_MAX_WEIGHTS else "blas"
    if path == "numba":
        error = _numba_epoch(state, data, order, batch_size, k, persistent, reconstruction, args)
    else:
        error = _blas_epoch(state, data, order, batch_size, k, persistent, reconstruction, *args)
    return float(error) if reconstruction else math.nan


def _numba_epoch(state, data, order, batch_size, k, persistent, reconstruction, args) -> float:
    """The Numba path: the epoch's batches in time-bounded kernel calls, bit-identical to one call.

    The shared launcher (:func:`pgm_energy._launch.run_chunked`) sizes the calls (whole batches,
    about 0.15 s each) so that Ctrl-C is answered within a fraction of a second; each call
    continues the previous one's error sum, so updates and error equal one call over the epoch.
    """
    error = [0.0]

    def run(first_batch, stop_batch):
        rows = order[first_batch * batch_size:stop_batch * batch_size]
        error[0] = _cd.train_epoch(*state, data, rows, batch_size, k, persistent, reconstruction, *args, error[0])

    negative_rows = state.chains.shape[0] if persistent else batch_size
    # weight visits of one update: positive phase and reconstruction, k steps, the update
    per_batch = state.weights.size * (2.0 * batch_size + 2.0 * k * negative_rows + 1.0)
    n_batches = -(-order.shape[0] // batch_size)
    run_chunked(n_batches, run, first=first_chunk(per_batch))
    return error[0]


def _blas_epoch(state, data, order, batch_size, k, persistent, reconstruction, learning_rate, momentum,
                weight_decay, sparsity_cost, sparsity_target, sparsity_decay):
    """The BLAS path: per batch, NumPy ``matmul(..., out=)`` for the products, Numba for the rest."""
    weights = state.weights
    dtype = weights.dtype
    n_rows = order.shape[0]
    n_visible = data.shape[1]
    n_hidden = weights.shape[1]
    batch = min(batch_size, n_rows)
    n_chains = state.chains.shape[0] if persistent else batch
    streams = state.streams
    weights_t = weights.T  # a view: BLAS reads it transposed, no copy
    # Buffers for the whole epoch. Rows [0, n) of `stacked_visible` hold the batch, rows
    # [n, n + m) the negative visible states, so the two gradient products are one GEMM.
    stacked_visible = np.empty((batch + n_chains, n_visible), dtype=dtype)
    stacked_hidden = np.empty((batch + n_chains, n_hidden), dtype=dtype)
    hidden_pre = np.empty((max(batch, n_chains), n_hidden), dtype=dtype)
    visible_pre = np.empty((max(batch, n_chains), n_visible), dtype=dtype)
    hidden_states = np.empty((max(batch, n_chains), n_hidden), dtype=dtype)
    weights_grad = np.empty_like(weights)
    data_sum = np.empty(n_visible, dtype=np.float64)
    negative_visible_sum = np.empty(n_visible, dtype=np.float64)
    positive_hidden_sum = np.empty(n_hidden, dtype=np.float64)
    negative_hidden_sum = np.empty(n_hidden, dtype=np.float64)
    penalty = np.empty(n_hidden, dtype=dtype)
    error_sum = np.empty(n_visible, dtype=np.float64)
    unused = np.empty(0, dtype=np.float64)
    unused_states = np.empty((0, 0), dtype=dtype)
    error = [0.0]

    def run(first_batch, stop_batch):
        for start in range(first_batch * batch, min(stop_batch * batch, n_rows), batch):
            size = min(batch, n_rows - start)
            m = n_chains if persistent else size
            positive = stacked_visible[:size]
            negative = stacked_visible[size:size + m]
            pre_h = hidden_pre[:size]
            states_h = hidden_states[:size]
            _cd.gather_batch(data, order, start, positive, data_sum)
            np.matmul(positive, weights, out=pre_h)
            _cd.hidden_phase(pre_h, state.hidden_bias, streams, reconstruction, states_h, True,
                             stacked_hidden[:size], dtype.type(1.0 / size), positive_hidden_sum)
            if reconstruction:
                pre_v = visible_pre[:size]
                np.matmul(states_h, weights_t, out=pre_v)
                # CD: the reconstruction is also the chain's first visible step.
                error[0] += _cd.visible_phase(pre_v, state.visible_bias, streams, not persistent, negative,
                                              negative_visible_sum, positive, True, error_sum)
            pre_h = hidden_pre[:m]
            states_h = hidden_states[:m]
            pre_v = visible_pre[:m]
            if persistent:
                np.matmul(state.chains, weights, out=pre_h)
                _cd.hidden_phase(pre_h, state.hidden_bias, streams, True, states_h, False, unused_states,
                                 dtype.type(0.0), unused)
            for step in range(1, k + 1):
                if persistent or step > 1:
                    np.matmul(states_h, weights_t, out=pre_v)
                    _cd.visible_phase(pre_v, state.visible_bias, streams, True, negative, negative_visible_sum,
                                      unused_states, False, error_sum)
                np.matmul(negative, weights, out=pre_h)
                last = step == k
                _cd.hidden_phase(pre_h, state.hidden_bias, streams, not last, states_h, last,
                                 stacked_hidden[size:size + m], dtype.type(-1.0 / m), negative_hidden_sum)
            if persistent:
                np.copyto(state.chains, negative)
            np.matmul(stacked_visible[:size + m].T, stacked_hidden[:size + m], out=weights_grad)
            _cd.apply_update(weights, state.weights_velocity, weights_grad, state.visible_bias, state.visible_velocity,
                             state.hidden_bias, state.hidden_velocity, state.hidden_activity, data_sum, positive_hidden_sum,
                             negative_visible_sum, negative_hidden_sum, size, m, penalty, learning_rate, momentum,
                             weight_decay, sparsity_cost, sparsity_target, sparsity_decay)
    # Batches in calls of about 0.15 s (the shared launcher): Ctrl-C is held to the end of a
    # call, never raised inside a kernel's return.
    run_chunked(-(-n_rows // batch), run)
    return error[0]
