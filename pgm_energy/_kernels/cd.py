"""Kernels of contrastive-divergence training for RBMs (CD-k and persistent CD).

Two families, chosen by size in ``pgm_energy.learning._cd_engine``:

* :func:`train_epoch`: one whole epoch (all mini-batches, every update) in one call,
  products as plain loops. For small layers (digits: 64 x 64) the cost of a Python
  call per batch would dominate; here there is none.
* the per-batch pieces of the BLAS path, which do everything *between* the matrix
  products of NumPy/BLAS: :func:`gather_batch`, :func:`hidden_phase`,
  :func:`visible_phase`, :func:`apply_update`.

Both families update a :class:`CDState` (parameters, velocities, chains, streams) with one
definition of the update, :func:`apply_update`, from the :class:`BatchStatistics` of a batch
and the :class:`UpdateSettings` of the epoch.

Layout: row-major, one row per data row or chain (as the data and ``CDState.chains``).
States and probabilities are held in the training dtype (float32 or float64), so BLAS
uses them directly; statistics that are summed over a batch are accumulated in float64.

Randomness: row ``r`` of a batch (and persistent chain ``r``) draws from stream ``r``
(xorshift64*, :mod:`.rng`), its units in index order, one uniform per sampled unit;
a unit is on when ``u < p``. Both families consume the streams in the same order
(per stream: the data-driven hidden layer, then each visible and hidden layer of the
negative phase in turn), so given equal probabilities they draw equal states.

Products with a sparse left operand. Every product of :func:`train_epoch` has a left
operand that is a data row (0/1, or real values in [0, 1]: Bernoulli means) or sampled
0/1 states, so it is a sum of the weight rows of the non-zero units (scaled by the data
value for data rows): the active indices are gathered first (branch-free) and the rows
added with contiguous loops that LLVM vectorises without reassociating any sum (no
fastmath). The visible layer's input uses a transposed copy of the weights, refreshed
after every update.

The logistic sigmoid is the vectorisable polynomial of :mod:`.block_gibbs`
(relative error 1.5e-7 in float32, 5.6e-16 in float64).

Compilation (what a first fit pays before Numba's cache holds the kernels). The helpers
called at several places of an epoch (a layer's input, the sigmoid of a layer, a layer's
sampling) are separate compiled functions, each typed and optimised once; Numba's
``inline="always"`` would type and optimise a copy at every call site (the epoch ran as fast
with the calls as with the copies). The small helpers stay inlined. One kernel serves CD and
PCD (the negative phase shares one code path): with the helpers compiled once, a kernel per
variant would save little on a first fit and cost a second compilation in a session that runs
both (CD for a deep belief network's layers, PCD for an RBM).
"""

import numpy as np
from numba import njit

from typing import NamedTuple

from .block_gibbs import _sigmoid
from .rng import bernoulli

__all__ = [
    "CDState",
    "BatchStatistics",
    "UpdateSettings",
    "EpochSettings",
    "train_epoch",
    "gather_batch",
    "sample_states",
    "hidden_phase",
    "visible_phase",
    "apply_update",
]


class CDState(NamedTuple):
    """Mutable working state of CD training; every array is updated in place by the kernels.

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


class BatchStatistics(NamedTuple):
    """The statistics of one batch that :func:`apply_update` turns into an update.

    Attributes
    ----------
    weights_grad : ndarray, shape (n_visible, n_hidden), training dtype
        ``<v h>_data - <v h>_model``, averaged over each phase's rows.
    data_sum, negative_visible_sum : float64 ndarrays, shape (n_visible,)
        Column sums of the batch and of the negative visible states.
    positive_hidden_sum, negative_hidden_sum : float64 ndarrays, shape (n_hidden,)
        Column sums of ``p(h | data)`` and of the negative phase's last hidden probabilities.
    penalty : ndarray, shape (n_hidden,), training dtype
        Scratch (the sparsity push of each hidden unit).
    """

    weights_grad: np.ndarray
    data_sum: np.ndarray
    positive_hidden_sum: np.ndarray
    negative_visible_sum: np.ndarray
    negative_hidden_sum: np.ndarray
    penalty: np.ndarray


class UpdateSettings(NamedTuple):
    """The step of :func:`apply_update` (floats; ``sparsity_cost`` 0 disables the sparsity term)."""

    learning_rate: float
    momentum: float
    weight_decay: float
    sparsity_cost: float
    sparsity_target: float
    sparsity_decay: float


class EpochSettings(NamedTuple):
    """How :func:`train_epoch` runs its batches: ``batch_size`` and ``k`` (ints >= 1), ``persistent`` and
    ``reconstruction`` (bools)."""

    batch_size: int
    k: int
    persistent: bool
    reconstruction: bool


# ----------------------------------------------------------------------------------------
# shared row helpers


@njit(cache=True, nogil=True, inline="always")
def _active(states, index):
    """Write the indices of the non-zero entries of ``states`` to ``index``; return their count.

    Branch-free (a store every step, the count advances by the test): no mispredictions
    on random 0/1 states.
    """
    count = np.int64(0)  # not a literal 0: a compiled callee given the count would be compiled twice
    for i in range(states.shape[0]):
        index[count] = i
        count += 1 if states[i] != 0 else 0
    return count


def _make_layer_input(weighted):
    """``_layer_input(rows, index, count, values, bias, out)`` with ``weighted`` a compile-time constant.

    ``out = bias + sum_t x_t * rows[i_t]`` over the ``count`` indices ``i_t = index[t]`` of non-zero
    ``values``: a product with a sparse left operand. ``x_t = values[i_t]`` when ``weighted``
    (data rows, which may hold real values in [0, 1]: Bernoulli means), else 1 (0/1 states:
    the rows are added, with no multiplication; on 0/1 values the products by 1.0 are exact,
    so both give the same bits). ``weighted`` is a closure constant, not an argument, so that
    Numba prunes the other branch before typing; the function is compiled once per ``weighted``
    and type. Four rows are added per pass, as ``(r0 + r1) + (r2 + r3)``: a fixed order (so a
    deterministic result) with a quarter of the loads and stores of ``out``.
    """

    @njit(cache=True, nogil=True)
    def layer_input(rows, index, count, values, bias, out):
        n = out.shape[0]
        for j in range(n):
            out[j] = bias[j]
        t = 0
        while t + 4 <= count:
            # 2-d indexing, not row views: a view costs a reference-count update (atomic)
            i0, i1, i2, i3 = index[t], index[t + 1], index[t + 2], index[t + 3]
            if weighted:
                x0, x1, x2, x3 = values[i0], values[i1], values[i2], values[i3]
                for j in range(n):
                    out[j] += (x0 * rows[i0, j] + x1 * rows[i1, j]) + (x2 * rows[i2, j] + x3 * rows[i3, j])
            else:
                for j in range(n):
                    out[j] += (rows[i0, j] + rows[i1, j]) + (rows[i2, j] + rows[i3, j])
            t += 4
        while t < count:
            i0 = index[t]
            if weighted:
                x0 = values[i0]
                for j in range(n):
                    out[j] += x0 * rows[i0, j]
            else:
                for j in range(n):
                    out[j] += rows[i0, j]
            t += 1

    return layer_input


#: the input of a layer from a data row (weighted by its values) and from 0/1 states
_data_input = _make_layer_input(True)
_states_input = _make_layer_input(False)


@njit(cache=True, nogil=True, error_model="numpy")
def _sigmoid_inplace(values):
    """``values = sigmoid(values)`` in place (compiled once per type, called at every layer of an epoch)."""
    for j in range(values.shape[0]):
        values[j] = _sigmoid(values[j])


@njit(cache=True, nogil=True)
def _draw(x, p):
    """One Bernoulli(``p``) draw from stream state ``x`` (:func:`.rng.bernoulli`): ``(new_state, 1.0 or 0.0)``.

    Compiled once per type and left for LLVM to inline (not inlined by Numba at each of its
    call sites): the generator's chain of inlined helpers would otherwise be re-typed at every use.
    """
    x, on = bernoulli(x, p)
    return x, 1.0 if on else 0.0


@njit(cache=True, nogil=True)
def _sample(probs, streams, stream, out):
    """``out[j] = [u_j < probs[j]]`` with the uniforms of ``streams[stream]``, in index order.

    Compiled once per type (not inlined by Numba at its several call sites in an epoch).
    """
    x = streams[stream]
    for j in range(probs.shape[0]):
        x, out[j] = _draw(x, np.float64(probs[j]))
    streams[stream] = x


@njit(cache=True, nogil=True, inline="always")
def _sample_rows(probs, streams, states):
    """``_sample`` for every row ``r`` of ``probs`` with stream ``r``, four rows side by side.

    Each stream's steps depend on each other (about 6 cycles a draw); four independent
    streams interleaved keep the core busy. Same draws, same states as one row at a time.
    """
    n_rows, n = probs.shape
    r = 0
    while r + 4 <= n_rows:
        p0, p1, p2, p3 = probs[r], probs[r + 1], probs[r + 2], probs[r + 3]
        s0, s1, s2, s3 = states[r], states[r + 1], states[r + 2], states[r + 3]
        x0, x1, x2, x3 = streams[r], streams[r + 1], streams[r + 2], streams[r + 3]
        for j in range(n):
            x0, s0[j] = _draw(x0, np.float64(p0[j]))
            x1, s1[j] = _draw(x1, np.float64(p1[j]))
            x2, s2[j] = _draw(x2, np.float64(p2[j]))
            x3, s3[j] = _draw(x3, np.float64(p3[j]))
        streams[r], streams[r + 1], streams[r + 2], streams[r + 3] = x0, x1, x2, x3
        r += 4
    while r < n_rows:
        _sample(probs[r], streams, r, states[r])
        r += 1


@njit(cache=True, nogil=True, inline="always")
def _add_outer(grad, index, count, values, scale):
    """``grad[index[t], :] += scale * values`` for the ``count`` active rows (a rank-1 update).

    Two rows per pass share the loads of ``scale * values``.
    """
    n = values.shape[0]
    t = 0
    while t + 2 <= count:
        i0, i1 = index[t], index[t + 1]
        for j in range(n):
            step = scale * values[j]
            grad[i0, j] += step
            grad[i1, j] += step
        t += 2
    if t < count:
        i0 = index[t]
        for j in range(n):
            grad[i0, j] += scale * values[j]


@njit(cache=True, nogil=True, inline="always")
def _add_weighted_outer(grad, index, count, weights, values, scale):
    """``grad[i, :] += (scale * weights[i]) * values`` for the ``count`` indices ``i`` in ``index``."""
    n = values.shape[0]
    for t in range(count):
        i0 = index[t]
        factor = scale * weights[i0]
        for j in range(n):
            grad[i0, j] += factor * values[j]


@njit(cache=True, nogil=True, inline="always")
def _accumulate(total, values):
    for j in range(values.shape[0]):
        total[j] += np.float64(values[j])


# ----------------------------------------------------------------------------------------
# the update (both families)


@njit(cache=True, nogil=True, error_model="numpy")
def apply_update(state, statistics, n_positive, n_negative, settings):
    """One parameter update from a batch's statistics, in place (Hinton 2010, secs. 9-11).

    With the batch means ``x_bar = data_sum / n_positive`` (and likewise for the other sums),
    the gradients are ``weights_grad`` (given), ``x_bar - v_bar_model`` and ``p_bar_data - p_bar_model``.
    Sparsity: ``q = sparsity_decay * q + (1 - sparsity_decay) * p_bar_data`` and
    ``s_j = sparsity_cost * (sparsity_target - q_j)`` is added to the hidden-bias gradient,
    ``s_j * x_bar_i`` to the weight gradient (the chain rule through the total input
    ``c_j + sum_i v_i W_ij``). Then ``velocity = momentum * velocity + learning_rate *
    (grad - weight_decay * W [weights only])`` and ``theta += velocity``.

    Parameters
    ----------
    state : CDState
        Parameters and velocities are updated; ``hidden_activity`` (the running mean ``q``) too.
    statistics : BatchStatistics
        ``weights_grad`` is the batch average ``<v h>_data - <v h>_model``; ``penalty`` is scratch.
    n_positive, n_negative : int
        Rows of the batch and of the negative phase.
    settings : UpdateSettings
        ``sparsity_cost`` 0 disables the sparsity term (``q`` is still tracked).

    Notes
    -----
    The bundles are read by position, so plain tuples of their fields in the same order are
    accepted too: Numba types a plain tuple in its C dispatcher, several times faster than a
    NamedTuple, which matters for the BLAS path's one call per batch.
    """
    (weights, visible_bias, hidden_bias, weights_velocity, visible_velocity, hidden_velocity, _, _,
     hidden_activity) = state
    weights_grad, data_sum, positive_hidden_sum, negative_visible_sum, negative_hidden_sum, penalty = statistics
    learning_rate, momentum, weight_decay, sparsity_cost, sparsity_target, sparsity_decay = settings
    dtype = weights.dtype.type
    n_visible, n_hidden = weights.shape
    lr = dtype(learning_rate)
    mom = dtype(momentum)
    decay = dtype(learning_rate * weight_decay)
    for j in range(n_hidden):
        positive = positive_hidden_sum[j] / n_positive
        q = sparsity_decay * np.float64(hidden_activity[j]) + (1.0 - sparsity_decay) * positive
        hidden_activity[j] = q
        push = sparsity_cost * (sparsity_target - q)
        penalty[j] = push
        step = momentum * np.float64(hidden_velocity[j]) + learning_rate * (
            positive - negative_hidden_sum[j] / n_negative + push)
        hidden_velocity[j] = step
        hidden_bias[j] += step
    for i in range(n_visible):
        w = weights[i]
        v = weights_velocity[i]
        g = weights_grad[i]
        mean = data_sum[i] / n_positive
        shift = dtype(mean)
        for j in range(n_hidden):
            step = mom * v[j] + lr * (g[j] + penalty[j] * shift) - decay * w[j]
            v[j] = step
            w[j] += step
        step = momentum * np.float64(visible_velocity[i]) + learning_rate * (
            mean - negative_visible_sum[i] / n_negative)
        visible_velocity[i] = step
        visible_bias[i] += step


# ----------------------------------------------------------------------------------------
# the whole-epoch kernel (small layers)


@njit(cache=True, nogil=True, inline="always")
def _transpose_into(weights, weights_t):
    for i in range(weights.shape[0]):
        for j in range(weights.shape[1]):
            weights_t[j, i] = weights[i, j]


@njit(cache=True, nogil=True, error_model="numpy")
def train_epoch(state, data, order, epoch, settings, error_start, chain_probs, probs_ready):
    """One epoch of CD-k or PCD-k, every mini-batch and update, in place; serial.

    The caller may run an epoch as several calls over consecutive slices of its ``order``
    (each a whole number of batches), passing each call's result as the next one's
    ``error_start``: the updates and the error are then bit-identical to one call.

    Parameters
    ----------
    state : CDState
        Float arrays C-contiguous in the training dtype; ``chains`` (persistent 0/1 visible
        states) are advanced by k steps per update when ``epoch.persistent``;
        ``streams`` has at least ``max(batch_size, n_chains)`` entries.
    data : array, shape (n_rows, n_visible), training dtype
        0/1, or real values in [0, 1] (used as given in the positive phase and the error).
    order : int64 array, shape (n_used,)
        Rows of ``data`` in the order of the epoch (indices in range); batches are
        consecutive slices, the last may be smaller.
    epoch : EpochSettings
        With ``persistent`` the negative phase runs ``chains``; else it starts from each
        row's data-driven hidden sample. ``reconstruction`` samples the data-driven hidden
        states and measures the reconstruction error; it must be True for CD (whose chains
        start there).
    settings : UpdateSettings
        See :func:`apply_update`.
    error_start : float
        The error summed so far (0.0 for a whole epoch in one call).
    chain_probs : array, shape (n_chains, n_hidden), training dtype
        PCD: ``p(h | chain)`` of the last update's negative statistics, which the next update
        draws the chains' first hidden states from (see :func:`train_epoch`'s Notes); written
        after every update. Shape (0, n_hidden) for CD.
    probs_ready : bool
        Whether ``chain_probs`` already holds those probabilities (a later call of the same
        epoch); False: the first update computes ``p(h | chain)`` with the current parameters.

    Returns
    -------
    float
        ``error_start`` plus the sum over rows and visible units of
        ``(v - p(v | h_sampled_from_data))**2`` (nothing added when PCD runs without ``reconstruction``).

    Notes
    -----
    PCD keeps each chain's hidden layer between updates as scikit-learn's ``BernoulliRBM`` and
    Tieleman (2008) do: the chain's first hidden states of an update are drawn from the
    probabilities ``p(h | v_k)`` that the previous update computed for its negative statistics
    (with the parameters before that update), so an update costs no product for them.
    """
    weights, visible_bias, hidden_bias = state.weights, state.visible_bias, state.hidden_bias
    chains, streams = state.chains, state.streams
    batch_size, k = epoch.batch_size, epoch.k
    persistent, reconstruction = epoch.persistent, epoch.reconstruction
    n_rows = order.shape[0]
    n_visible = data.shape[1]
    n_hidden = weights.shape[1]
    dtype = weights.dtype
    weights_t = np.empty((n_hidden, n_visible), dtype=dtype)
    _transpose_into(weights, weights_t)
    statistics = BatchStatistics(
        np.empty((n_visible, n_hidden), dtype=dtype), np.empty(n_visible, dtype=np.float64),
        np.empty(n_hidden, dtype=np.float64), np.empty(n_visible, dtype=np.float64),
        np.empty(n_hidden, dtype=np.float64), np.empty(n_hidden, dtype=dtype),
    )
    grad, hidden_sum, data_sum = statistics.weights_grad, statistics.positive_hidden_sum, statistics.data_sum
    negative_visible, negative_hidden = statistics.negative_visible_sum, statistics.negative_hidden_sum
    hidden_input = np.empty(n_hidden, dtype=dtype)
    hidden_states = np.empty(n_hidden, dtype=dtype)
    visible_input = np.empty(n_visible, dtype=dtype)
    visible_index = np.empty(n_visible, dtype=np.int64)
    hidden_index = np.empty(n_hidden, dtype=np.int64)
    # per batch row: the data-driven hidden sample h0 and p(v | h0) (the reconstruction, and
    # CD's first visible step), and CD's negative visible states
    n_chains = chains.shape[0]
    rows = min(batch_size, n_rows)
    start_hidden = np.empty((rows, n_hidden), dtype=dtype)
    start_visible = np.empty((rows, n_visible), dtype=dtype)
    cd_visible = np.empty((0 if persistent else rows, n_visible), dtype=dtype)
    negative = chains if persistent else cd_visible
    if persistent and not probs_ready:  # p(h | chain) with the current parameters
        for r in range(n_chains):
            visible = chains[r]
            n_on = _active(visible, visible_index)
            _states_input(weights, visible_index, n_on, visible, hidden_bias, chain_probs[r])
            _sigmoid_inplace(chain_probs[r])
    error = error_start
    for start in range(0, n_rows, batch_size):
        size = min(batch_size, n_rows - start)
        grad[:] = 0.0
        hidden_sum[:] = 0.0
        data_sum[:] = 0.0
        negative_visible[:] = 0.0
        negative_hidden[:] = 0.0
        scale = dtype.type(1.0 / size)
        # positive phase: p(h | v_data) for the statistics; h0 and p(v | h0) for the error
        for r in range(size):
            row = data[order[start + r]]
            n_on = _active(row, visible_index)
            _data_input(weights, visible_index, n_on, row, hidden_bias, hidden_input)
            _sigmoid_inplace(hidden_input)
            _add_weighted_outer(grad, visible_index, n_on, row, hidden_input, scale)
            _accumulate(hidden_sum, hidden_input)
            _accumulate(data_sum, row)
            if reconstruction:
                h0 = start_hidden[r]
                _sample(hidden_input, streams, r, h0)
                n_on = _active(h0, hidden_index)
                reconstructed = start_visible[r]
                _states_input(weights_t, hidden_index, n_on, h0, visible_bias, reconstructed)
                _sigmoid_inplace(reconstructed)
                for i in range(n_visible):
                    diff = np.float64(row[i]) - np.float64(reconstructed[i])
                    error += diff * diff
        # negative phase: k Gibbs steps from the chains (PCD) or from each row's h0 (CD)
        negative_size = n_chains if persistent else size
        negative_scale = dtype.type(1.0 / negative_size)
        for r in range(negative_size):
            visible = negative[r]
            hidden = hidden_states
            if persistent:
                _sample(chain_probs[r], streams, r, hidden_states)
            else:
                hidden = start_hidden[r]
            for step in range(k):
                probabilities = visible_input
                if persistent or step > 0:
                    n_on = _active(hidden, hidden_index)
                    _states_input(weights_t, hidden_index, n_on, hidden, visible_bias, visible_input)
                    _sigmoid_inplace(visible_input)
                else:
                    probabilities = start_visible[r]  # CD's first step: the reconstruction's p(v | h0)
                _sample(probabilities, streams, r, visible)
                n_on = _active(visible, visible_index)
                _states_input(weights, visible_index, n_on, visible, hidden_bias, hidden_input)
                _sigmoid_inplace(hidden_input)
                if step < k - 1:
                    _sample(hidden_input, streams, r, hidden_states)
                    hidden = hidden_states
            _add_outer(grad, visible_index, n_on, hidden_input, -negative_scale)
            _accumulate(negative_visible, visible)
            _accumulate(negative_hidden, hidden_input)
            if persistent:
                for j in range(n_hidden):  # not a slice assignment: that compiles its shape-error message
                    chain_probs[r, j] = hidden_input[j]
        apply_update(state, statistics, size, negative_size, settings)
        _transpose_into(weights, weights_t)
    return error


# ----------------------------------------------------------------------------------------
# the pieces of the BLAS path (one call per layer and batch)


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _activate(pre, bias):
    """``pre = sigmoid(pre + bias)`` in place: a layer's probabilities from its product."""
    for j in range(pre.shape[0]):
        pre[j] = _sigmoid(pre[j] + bias[j])


@njit(cache=True, nogil=True, inline="always")
def _scaled_copy(values, scale, out):
    for j in range(values.shape[0]):
        out[j] = scale * values[j]


@njit(cache=True, nogil=True, inline="always")
def _add_squared_error(data, probs, error_sum):
    """``error_sum += (data - probs)**2`` per unit, in float64."""
    for i in range(probs.shape[0]):
        diff = np.float64(data[i]) - np.float64(probs[i])
        error_sum[i] += diff * diff


@njit(cache=True, nogil=True)
def sample_states(probs, streams, states):
    """``states[r] = [u < probs[r]]`` for every row ``r``, from stream ``r`` (probabilities already computed)."""
    _sample_rows(probs, streams, states)


@njit(cache=True, nogil=True)
def gather_batch(data, order, start, out, data_sum):
    """``out[r] = data[order[start + r]]`` for every row of ``out``; ``data_sum`` = their column sums (float64)."""
    data_sum[:] = 0.0
    for r in range(out.shape[0]):
        source = data[order[start + r]]
        target = out[r]
        for i in range(source.shape[0]):
            target[i] = source[i]
            data_sum[i] += np.float64(source[i])


@njit(cache=True, nogil=True, error_model="numpy")
def hidden_phase(pre, bias, streams, sample, states, write_probs, probs, scale, prob_sum):
    """The hidden layer given a BLAS product ``pre = visible @ W`` (shape (rows, n_hidden)).

    For every row ``r``: ``p = sigmoid(pre[r] + bias)``; with ``sample``,
    ``states[r] = [u < p]`` from stream ``r``; with ``write_probs``, ``probs[r] = scale * p``
    (the rows of the right operand of the gradient product) and ``prob_sum`` (float64)
    receives the column sums of ``p``. ``pre`` is overwritten with ``p``.
    """
    if write_probs:
        prob_sum[:] = 0.0
    for r in range(pre.shape[0]):
        p = pre[r]
        _activate(p, bias)
        if write_probs:
            _scaled_copy(p, scale, probs[r])
            _accumulate(prob_sum, p)
    if sample:
        _sample_rows(pre, streams, states)


@njit(cache=True, nogil=True, error_model="numpy")
def visible_phase(pre, bias, streams, sample, states, state_sum, data, with_error, error_sum):
    """The visible layer given a BLAS product ``pre = hidden @ W.T`` (shape (rows, n_visible)).

    For every row ``r``: ``p = sigmoid(pre[r] + bias)``; with ``sample``, ``states[r] = [u < p]``
    from stream ``r`` and ``state_sum`` (float64) receives their column sums. With
    ``with_error``, returns ``sum (data - p)**2`` (else 0), accumulated per unit in the
    float64 scratch ``error_sum`` (shape (n_visible,)) so that the loop vectorises.
    ``pre`` is overwritten with ``p``.
    """
    if with_error:
        error_sum[:] = 0.0
    for r in range(pre.shape[0]):
        p = pre[r]
        _activate(p, bias)
        if with_error:
            _add_squared_error(data[r], p, error_sum)
    if sample:
        _sample_rows(pre, streams, states)
        state_sum[:] = 0.0
        for r in range(states.shape[0]):
            _accumulate(state_sum, states[r])
    error = 0.0
    if with_error:
        for i in range(error_sum.shape[0]):
            error += error_sum[i]
    return error
