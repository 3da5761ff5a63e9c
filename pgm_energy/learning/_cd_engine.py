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
  ``h ~ p(h | chain)`` first) and the final ``v_k`` is written back; negative statistics are
  averaged over the chains. The chains keep their hidden layer between updates, as in
  Tieleman's algorithm and scikit-learn's ``BernoulliRBM``: the first ``h`` of an update is
  drawn from the probabilities ``p(h | v_k)`` that the previous update computed for its
  negative statistics (with the parameters before that update), so it costs no product.
  Only the first update of each :func:`cd_epoch` computes ``p(h | chain)`` afresh, with the
  current parameters (so an epoch depends on the state alone, and a checkpoint taken between
  epochs resumes exactly);
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

Two paths, one update
---------------------
* ``"numba"``: the epoch in serial Numba calls (:func:`.cd.train_epoch`) of many batches each
  (time-bounded by :func:`pgm_energy._launch.run_chunked`; bit-identical to one call), for small
  layers, where a Python call per batch would cost more than the arithmetic.
* ``"blas"``: per batch, the products by NumPy's BLAS (``matmul`` with ``out=``, into
  buffers allocated once per epoch), or, for a sparse visible-side left operand (binary data,
  sampled states), by sums of the rows its non-zero entries pick (:data:`SPARSE_MAX_DENSITY`),
  and everything else in fused serial Numba kernels
  (sigmoid, sampling, statistics, the update). The steps of an update (positive phase,
  a negative Gibbs step, the negative statistics, the gradient product and the update) are
  the methods of :class:`BlasBatches`, which tempered PCD (:mod:`._tempered`) shares with
  CD and PCD. Products per update: the layer products
  (CD-k: 2k + 1; PCD-k: 2k + 1 with the reconstruction, 2k without, plus one at the first
  update of an epoch) and one gradient product ``[X; V_k]' [P0/n; -Pk/m]`` worth two (so CD-1
  and PCD-1 without the reconstruction do the same five as scikit-learn's PCD-1).
Both paths end every batch with the same kernel, :func:`pgm_energy._kernels.cd.apply_update`.
``path="auto"`` picks ``"numba"`` when ``n_visible * n_hidden <= NUMBA_MAX_WEIGHTS``
(the measured crossover: docs/benchmarks.md).

Randomness and reproducibility
------------------------------
Row ``r`` of a batch and chain ``r`` draw from ``state.streams[r]`` (xorshift64*), units in
index order; a unit is on when ``u < p``. Both paths consume the streams identically, so
they give the same samples whenever they compute the same probabilities. The Numba path
is serial and fixed-order: the same state and order give bit-identical results whatever
the Numba or BLAS thread count. The BLAS path is deterministic for a fixed BLAS library
and thread count, but a BLAS library may round differently with other thread counts and row
blockings: a probability may then differ in its last bits, and a draw that falls within
that difference of ``u`` gives another sample, after which the two runs diverge as any
chaotic computation (their distributions are the same; and the parameters differ in their
last bits even while every sample agrees). Such a changed sample is rare in float32 and
practically never happens in float64 (docs/benchmarks.md has the measured rates).
"""

from __future__ import annotations

import math
import numpy as np

from .. import _blas
from .._kernels import cd as _cd
from .._kernels import sparse_products as _sparse
from .._kernels.cd import BatchStatistics, CDState, EpochSettings, UpdateSettings
from .._kernels.rng import seed_streams
from .._launch import first_chunk, run_chunked

__all__ = ["CDState", "new_state", "cd_epoch", "check_epoch", "update_settings", "BlasBatches", "BatchViews",
           "NUMBA_MAX_WEIGHTS", "SPARSE_MAX_DENSITY",
           "SPARSE_MAX_DENSITY_THREADED"]

#: ``path="auto"`` trains in one Numba call per epoch when ``n_visible * n_hidden`` is at
#: most this; above it, with BLAS products per batch (the crossover measured by
#: ``benchmarks/bench_training_speed.py --crossover``; the Numba path is serial, so with
#: several BLAS threads ``path="blas"`` may be better near the threshold).
NUMBA_MAX_WEIGHTS = 20000

#: The BLAS path multiplies a visible-side left operand (the batch, the negative rows, and
#: their transpose in the gradient) by skipping its zeros (:mod:`pgm_energy._kernels.sparse_products`)
#: when at most this fraction of its entries is non-zero and BLAS runs on one thread, and at most
#: :data:`SPARSE_MAX_DENSITY_THREADED` when it runs on several (the sparse products are serial).
#: Whole PCD-1 epochs, 784 x 500, random 0/1 data, cross over at a density of 0.3-0.4 against one
#: BLAS thread and at 0.15-0.2 (float32) and 0.2-0.3 (float64) against two
#: (``benchmarks/bench_training_speed.py --sparse-crossover``; docs/benchmarks.md).
SPARSE_MAX_DENSITY = 0.25
SPARSE_MAX_DENSITY_THREADED = 0.15

_PATHS = ("auto", "numba", "blas")

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


def check_epoch(state, data, order, batch_size, k, persistent, path):
    """Cheap consistency checks of an epoch's inputs (the trainer validates user input; these catch wiring mistakes)."""
    dtype = state.weights.dtype
    n_visible, n_hidden = state.weights.shape
    for name in ("weights", "visible_bias", "hidden_bias", "weights_velocity", "visible_velocity",
                 "hidden_velocity", "chains", "hidden_activity"):
        array = getattr(state, name)
        if array.dtype != dtype or not array.flags.c_contiguous or not array.flags.writeable:
            raise ValueError(f"state.{name} must be a writeable C-contiguous {dtype} array")
    contiguous = data.flags.c_contiguous if isinstance(data, np.ndarray) else True  # streamed: each window is
    if data.dtype != dtype or data.ndim != 2 or data.shape[1] != n_visible or not contiguous:
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


def update_settings(learning_rate, momentum, weight_decay, sparsity_target, sparsity_cost, sparsity_decay) -> UpdateSettings:
    """The kernels' :class:`UpdateSettings`; a ``sparsity_target`` of None (or a zero cost) turns sparsity off."""
    sparse = sparsity_target is not None and sparsity_cost != 0.0
    return UpdateSettings(
        float(learning_rate), float(momentum), float(weight_decay),
        float(sparsity_cost) if sparse else 0.0, float(sparsity_target) if sparse else 0.0, float(sparsity_decay),
    )


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
    check_epoch(state, data, order, batch_size, k, persistent, path)
    epoch = EpochSettings(batch_size, k, persistent, bool(reconstruction) or not persistent)
    settings = update_settings(learning_rate, momentum, weight_decay, sparsity_target, sparsity_cost, sparsity_decay)
    if path == "auto":
        path = "numba" if state.weights.size <= NUMBA_MAX_WEIGHTS else "blas"
    if path == "numba":
        error = _numba_epoch(state, data, order, epoch, settings)
    else:
        error = _blas_epoch(state, data, order, epoch, settings)
    return float(error) if epoch.reconstruction else math.nan


def epoch_windows(data, order: np.ndarray, batch_size: int):
    """``(rows, row_order)`` pairs of an epoch: ``(data, order)`` itself in memory, else the streamed windows.

    A bound :class:`~pgm_energy.learning.StreamedRows` yields one window per block, each a
    whole number of batches of ``order`` (see its ``_windows``); the updates are the same as
    over the in-memory rows in the same order.
    """
    if isinstance(data, np.ndarray):
        return ((data, order),)
    return data._windows(order, batch_size)


def _numba_epoch(state, data, order, epoch, settings) -> float:
    """The Numba path: the epoch's batches in time-bounded kernel calls, bit-identical to one call.

    The shared launcher (:func:`pgm_energy._launch.run_chunked`) sizes the calls (whole batches,
    about 0.15 s each) so that Ctrl-C is answered within a fraction of a second; each call
    continues the previous one's error sum, so updates and error equal one call over the epoch.
    Streamed data run the same calls window after window.
    """
    batch_size = epoch.batch_size
    error = [0.0]
    n_chains = state.chains.shape[0] if epoch.persistent else 0
    chain_probs = np.empty((n_chains, state.weights.shape[1]), dtype=state.weights.dtype)
    negative_rows = state.chains.shape[0] if epoch.persistent else batch_size
    # weight visits of one update: positive phase and reconstruction, k steps, the update
    per_batch = state.weights.size * (2.0 * batch_size + 2.0 * epoch.k * negative_rows + 1.0)
    updated = [False]  # chain_probs hold the last update's p(h | chain) (after the epoch's first update)

    def run_window(rows_data, rows_order):
        def run(first_batch, stop_batch):
            rows = rows_order[first_batch * batch_size:stop_batch * batch_size]
            error[0] = _cd.train_epoch(state, rows_data, rows, epoch, settings, error[0], chain_probs, updated[0])
            updated[0] = True

        run_chunked(-(-rows_order.shape[0] // batch_size), run, first=first_chunk(per_batch))

    for rows_data, rows_order in epoch_windows(data, order, batch_size):
        run_window(rows_data, rows_order)
    return error[0]


class BlasBatches:
    """The buffers of one epoch on the BLAS path and the steps of an update every BLAS epoch shares.

    Per batch (a :class:`BatchViews` of ``size`` rows and ``m`` negative rows, from :meth:`views`):
    :meth:`positive_phase` (batch statistics and reconstruction error), the negative phase
    (:meth:`sample_hidden` and :meth:`sample_visible` steps for CD/PCD, the replica ladders for
    tempered PCD), :meth:`negative_statistics` and :meth:`update`. Rows ``[0, size)`` of the stacked
    buffers hold the batch and rows ``[size, size + m)`` the negative phase, so the two gradient
    products are one GEMM. Products are NumPy's ``matmul(..., out=)`` into these buffers;
    everything between them runs in :mod:`pgm_energy._kernels.cd`.

    Parameters
    ----------
    state : CDState
    settings : UpdateSettings
        The epoch's step.
    batch : int
        Largest batch of the epoch.
    n_negative : int
        Largest number of negative rows ``m``.
    n_work : int
        Rows of the per-layer work buffers (at least ``max(batch, n_negative)``).
    """

    # These methods run once per batch: the state's arrays are held as slots (read faster than
    # NamedTuple fields) and the per-batch views are built once per batch shape (see views()).
    __slots__ = ("state", "weights", "weights_t", "visible_bias", "hidden_bias", "streams", "scale", "zero",
                 "stacked_visible", "stacked_hidden", "hidden_pre", "visible_pre", "hidden_states", "negative_pre",
                 "statistics", "_update_bundles", "_views", "error_sum", "unused", "unused_states", "stacked_index",
                 "stacked_counts", "column_rows", "column_counts", "sparse_density", "nonzeros")

    def __init__(self, state, settings, batch, n_negative, n_work):
        self.state = state
        self.weights = weights = state.weights
        self.weights_t = weights.T  # a view: BLAS reads it transposed, no copy
        self.visible_bias, self.hidden_bias, self.streams = state.visible_bias, state.hidden_bias, state.streams
        dtype = weights.dtype
        n_visible, n_hidden = weights.shape
        self.scale = dtype.type
        self.zero = dtype.type(0.0)
        self.stacked_visible = np.empty((batch + n_negative, n_visible), dtype=dtype)
        self.stacked_hidden = np.empty((batch + n_negative, n_hidden), dtype=dtype)
        self.hidden_pre = np.empty((n_work, n_hidden), dtype=dtype)
        self.visible_pre = np.empty((n_work, n_visible), dtype=dtype)
        self.hidden_states = np.empty((n_work, n_hidden), dtype=dtype)
        # p(h | v) of the negative rows, kept until the next update: PCD draws its chains' hidden states from it
        self.negative_pre = np.empty((n_negative, n_hidden), dtype=dtype)
        self.statistics = BatchStatistics(
            np.empty_like(weights), np.empty(n_visible, dtype=np.float64), np.empty(n_hidden, dtype=np.float64),
            np.empty(n_visible, dtype=np.float64), np.empty(n_hidden, dtype=np.float64), np.empty(n_hidden, dtype=dtype),
        )
        # apply_update's bundles as plain tuples: Numba types those in C, a NamedTuple in Python
        self._update_bundles = (tuple(state), tuple(self.statistics), tuple(settings))
        self._views = {}
        self.error_sum = np.empty(n_visible, dtype=np.float64)
        self.unused = np.empty(0, dtype=np.float64)
        self.unused_states = np.empty((0, 0), dtype=dtype)
        # the non-zero entries of the stacked visible rows, for the sparse products
        self.stacked_index = np.empty((batch + n_negative, n_visible), dtype=np.int32)
        self.stacked_counts = np.empty(batch + n_negative, dtype=np.int64)
        self.column_rows = np.empty((n_visible, batch + n_negative), dtype=np.int32)
        self.column_counts = np.empty(n_visible, dtype=np.int64)
        one_thread = max(_blas.thread_counts() or [1]) == 1
        self.sparse_density = SPARSE_MAX_DENSITY if one_thread else SPARSE_MAX_DENSITY_THREADED
        self.nonzeros = [0, 0]  # of the batch rows and the negative rows of the current update

    def views(self, size, m) -> BatchViews:
        """The :class:`BatchViews` of a batch of ``size`` rows and ``m`` negative rows (cached per shape)."""
        views = self._views.get((size, m))
        if views is None:
            views = self._views[(size, m)] = BatchViews(self, size, m)
        return views

    def positive_phase(self, data, order, start, views, reconstruction, first_visible=None) -> float:
        """Batch statistics of ``data[order[start:start + size]]``; returns the reconstruction error (0 without).

        With ``reconstruction`` the data-driven hidden states ``h0`` are sampled and
        ``p(v | h0)`` measured against the data; with ``first_visible`` (CD) its visible
        states are also sampled into those rows: the reconstruction is the chain's first step.
        """
        statistics = self.statistics
        positive, states_h = views.positive, views.positive_hidden_states
        _cd.gather_batch(data, order, start, positive, statistics.data_sum)
        self.nonzeros[0] = self._visible_product(positive, views.positive_index, views.positive_counts,
                                                 views.positive_hidden_pre)
        _cd.hidden_phase(views.positive_hidden_pre, self.hidden_bias, self.streams, reconstruction, states_h, True,
                         views.positive_probs, views.positive_scale, statistics.positive_hidden_sum)
        if not reconstruction:
            return 0.0
        np.matmul(states_h, self.weights_t, out=views.positive_visible_pre)
        sample = first_visible is not None
        return _cd.visible_phase(views.positive_visible_pre, self.visible_bias, self.streams, sample,
                                 first_visible if sample else self.unused_states,
                                 statistics.negative_visible_sum if sample else self.unused, positive, True,
                                 self.error_sum)

    def sample_hidden(self, views, visible):
        """``h ~ p(h | visible)`` (``m`` rows) into the negative hidden states, from the streams of those rows."""
        np.matmul(visible, self.weights, out=views.hidden_pre)
        _cd.hidden_phase(views.hidden_pre, self.hidden_bias, self.streams, True, views.hidden_states, False,
                         self.unused_states, self.zero, self.unused)

    def sample_kept_hidden(self, views):
        """``h ~ p(h | v)`` of the chains from the probabilities kept by the last :meth:`negative_statistics`."""
        _cd.sample_states(views.negative_probabilities, self.streams, views.hidden_states)

    def sample_visible(self, views, visible):
        """``visible ~ p(v | h)`` from the negative hidden states; their column sums are the negative statistics."""
        np.matmul(views.hidden_states, self.weights_t, out=views.visible_pre)
        _cd.visible_phase(views.visible_pre, self.visible_bias, self.streams, True, visible,
                          self.statistics.negative_visible_sum, self.unused_states, False, self.error_sum)

    def negative_statistics(self, views):
        """``p(h | v)`` of the negative visible rows, scaled by ``-1/m`` into the stacked hidden rows.

        The probabilities themselves stay in ``views.negative_probabilities`` until the next call.
        """
        self.nonzeros[1] = self._visible_product(views.negative, views.negative_index, views.negative_counts,
                                                 views.negative_probabilities)
        _cd.hidden_phase(views.negative_probabilities, self.hidden_bias, self.streams, False, self.unused_states, True,
                         views.negative_probs, views.negative_scale, self.statistics.negative_hidden_sum)

    def update(self, views):
        """The gradient product ``[X; V]' [P0/n; -Pk/m]`` and the update of the state."""
        state, statistics, settings = self._update_bundles
        rows = views.size + views.m
        if self.nonzeros[0] + self.nonzeros[1] <= self.sparse_density * rows * self.weights.shape[0]:
            _sparse.columns_product(views.stacked_visible, views.stacked_index, views.stacked_counts,
                                    views.stacked_hidden, self.statistics.weights_grad, self.column_rows, self.column_counts)
        else:
            np.matmul(views.stacked_visible_t, views.stacked_hidden, out=self.statistics.weights_grad)
        _cd.apply_update(state, statistics, views.size, views.m, settings)

    def _visible_product(self, visible, index, counts, out) -> int:
        """``out = visible @ W``, skipping zeros when ``visible`` is sparse enough; returns its non-zero count.

        ``index`` and ``counts`` receive the non-zero entries of ``visible`` (:func:`.sparse_products.index_rows`),
        which the gradient product of :meth:`update` reuses.
        """
        nonzeros = _sparse.index_rows(visible, index, counts)
        if nonzeros <= self.sparse_density * visible.size:
            _sparse.rows_product(visible, index, counts, self.weights, out)
        else:
            np.matmul(visible, self.weights, out=out)
        return nonzeros


class BatchViews:
    """Views of a :class:`BlasBatches`' buffers for a batch of ``size`` rows and ``m`` negative rows.

    ``positive`` and ``negative`` are the stacked visible rows of the batch and of the negative
    phase; ``positive_*`` the work rows of the positive phase, the others those of the ``m``
    negative rows.
    """

    __slots__ = ("size", "m", "positive", "negative", "stacked_visible", "stacked_visible_t", "stacked_hidden",
                 "stacked_index", "stacked_counts", "positive_index", "positive_counts", "negative_index",
                 "negative_counts", "positive_probs",
                 "negative_probs", "positive_hidden_pre", "positive_hidden_states", "positive_visible_pre",
                 "hidden_pre", "hidden_states", "visible_pre", "negative_probabilities", "positive_scale",
                 "negative_scale")

    def __init__(self, buffers, size, m):
        self.size, self.m = size, m
        self.positive = buffers.stacked_visible[:size]
        self.negative = buffers.stacked_visible[size:size + m]
        self.stacked_visible = buffers.stacked_visible[:size + m]
        self.stacked_visible_t = self.stacked_visible.T
        self.stacked_index, self.stacked_counts = buffers.stacked_index[:size + m], buffers.stacked_counts[:size + m]
        self.positive_index, self.positive_counts = buffers.stacked_index[:size], buffers.stacked_counts[:size]
        self.negative_index, self.negative_counts = buffers.stacked_index[size:size + m], buffers.stacked_counts[size:size + m]
        self.stacked_hidden = buffers.stacked_hidden[:size + m]
        self.positive_probs = buffers.stacked_hidden[:size]
        self.negative_probs = buffers.stacked_hidden[size:size + m]
        self.positive_hidden_pre = buffers.hidden_pre[:size]
        self.positive_hidden_states = buffers.hidden_states[:size]
        self.positive_visible_pre = buffers.visible_pre[:size]
        self.hidden_pre = buffers.hidden_pre[:m]
        self.hidden_states = buffers.hidden_states[:m]
        self.visible_pre = buffers.visible_pre[:m]
        self.negative_probabilities = buffers.negative_pre[:m]
        self.positive_scale = buffers.scale(1.0 / size)
        self.negative_scale = buffers.scale(-1.0 / m)


def _blas_epoch(state, data, order, epoch, settings) -> float:
    """The BLAS path: per batch, NumPy ``matmul(..., out=)`` for the products, Numba for the rest."""
    n_rows = order.shape[0]
    batch = min(epoch.batch_size, n_rows)
    persistent, k, reconstruction = epoch.persistent, epoch.k, epoch.reconstruction
    n_chains = state.chains.shape[0] if persistent else batch
    batches = BlasBatches(state, settings, batch, n_chains, max(batch, n_chains))
    error = [0.0]
    updated = [False]  # after the epoch's first update, the chains' p(h | v) are kept from the last one

    def run_window(rows_data, rows_order):
        rows = rows_order.shape[0]

        def run(first_batch, stop_batch):
            for start in range(first_batch * batch, min(stop_batch * batch, rows), batch):
                size = min(batch, rows - start)
                views = batches.views(size, n_chains if persistent else size)
                negative = views.negative
                # CD: the reconstruction is also the chain's first visible step.
                error[0] += batches.positive_phase(rows_data, rows_order, start, views, reconstruction,
                                                   None if persistent else negative)
                if persistent and not updated[0]:
                    batches.sample_hidden(views, state.chains)
                elif persistent:  # the chains' hidden probabilities kept from the last update: no product
                    batches.sample_kept_hidden(views)
                for step in range(1, k + 1):
                    if persistent or step > 1:
                        batches.sample_visible(views, negative)
                    if step < k:
                        batches.sample_hidden(views, negative)
                batches.negative_statistics(views)
                if persistent:
                    np.copyto(state.chains, negative)
                batches.update(views)
                updated[0] = True
        # Batches in calls of about 0.15 s (the shared launcher): Ctrl-C is held to the end of a
        # call, never raised inside a kernel's return.
        run_chunked(-(-rows // batch), run)

    for rows_data, rows_order in epoch_windows(data, order, batch):
        run_window(rows_data, rows_order)
    return error[0]
