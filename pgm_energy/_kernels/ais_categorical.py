"""Annealed importance sampling (AIS) for categorical RBMs: the whole schedule of one run in one kernel.

At T = 1 (the caller divides the parameters by the temperature), visible variable ``i`` has the
states ``offsets[i] .. offsets[i + 1] - 1`` of a flat axis of ``sum(k)`` states. For a target
with weights ``W`` (flat rows, shape (sum(k), n_hidden)), visible bias ``b`` and hidden bias ``c``,
and a base with zero weights, zero hidden biases and visible bias ``a``, the intermediate
distributions over the visible layer are

    p*_beta(v) = exp(sum_i a_i(v_i) + beta d(v)) prod_j (1 + exp(beta x_j(v))),
    d(v) = sum_i (b - a)_i(v_i),  x_j(v) = c_j + sum_i W_i(v_i, j),

(Salakhutdinov & Murray 2008, the hidden layer summed out), and the transition at ``beta`` is one
block-Gibbs sweep of the joint that has this marginal: ``h_j ~ sigmoid(beta x_j)``, then
``v_i ~ softmax_a(a_i(a) + beta ((b - a)_i(a) + sum_{j on} W_i(a, j)))``. Each run starts from
an exact draw of the base and, for ``k = 1..K``, adds ``log p*_k(v_k) - log p*_{k-1}(v_k)`` to its
log weight before moving with the transition at ``beta_k``.

The increment is computed as in :mod:`.ais` (the binary machine), from exponentials of
non-positive numbers only:

    (beta_k - beta_{k-1}) (d(v) + sum_j max(x_j, 0)) + log prod_j (1 + e^{-beta_k |x_j|}) / (1 + e^{-beta_{k-1} |x_j|}).

Everything is float64 (no fast path: a categorical draw compares one uniform against a
cumulative sum, which has no cheap exact fallback). A categorical draw takes the logits
``z_a`` of the variable, ``m = max z``, the cumulative sums of ``exp(z_a - m)`` in state order, and
picks the first state whose cumulative sum exceeds ``u`` times the total (``u`` uniform in [0, 1)).

Layout and randomness as in :mod:`.ais`: one run per thread (``prange`` over runs), each run owns
``LANES`` xorshift64* streams; visible variable ``i`` and hidden unit ``j`` draw from lanes
``i % LANES`` and ``j % LANES``, one draw per variable and sweep, in a fixed order. A run's
result depends only on its own streams and the parameters, never on the thread count; its
state (the visible state indices) is carried between calls, so a run split into several
kernel calls gives the bits of one call.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .._launch import serial_twin
from .rng import state_uniform, xorshift_next

__all__ = ["LANES", "Target", "ais_log_weights", "ais_steps", "ais_steps_serial"]

#: xorshift64* streams per run
LANES = 8
# Hidden units per partial product of (1 + e) factors (each in [1, 2]; 2**512 is far from overflow).
_LOG_CHUNK = 512


class Target(NamedTuple):
    """The target categorical RBM (at T = 1) and the base's visible bias, as :func:`ais_steps` reads them.

    Attributes
    ----------
    weights : float64 array, shape (sum(k), n_hidden), C-contiguous
        Row ``offsets[i] + a`` is ``W_i(a, .)``.
    weights_t : float64 array, shape (n_hidden, sum(k)), C-contiguous
        The same, transposed.
    hidden_bias : float64 array, shape (n_hidden,)
    base_bias : float64 array, shape (sum(k),)
        The base model's visible bias ``a``.
    delta : float64 array, shape (sum(k),)
        Target visible bias minus ``base_bias``.
    offsets : int64 array, shape (n_visible + 1,)
        Where each visible variable's states start (every variable has at least one state).
    """

    weights: np.ndarray
    weights_t: np.ndarray
    hidden_bias: np.ndarray
    base_bias: np.ndarray
    delta: np.ndarray
    offsets: np.ndarray


@njit(cache=True, nogil=True)
def _hidden_input(weights, hidden_bias, delta, offsets, state, x):
    """``x = hidden_bias + sum_i weights[offsets[i] + state[i]]``; returns ``sum_i delta[offsets[i] + state[i]]``."""
    n_hidden = hidden_bias.shape[0]
    for j in range(n_hidden):
        x[j] = hidden_bias[j]
    dv = 0.0
    for i in range(state.shape[0]):
        r = offsets[i] + state[i]
        dv += delta[r]
        row = weights[r]
        for j in range(n_hidden):
            x[j] += row[j]
    return dv


@njit(cache=True, nogil=True)
def _draw_visible(base_bias, delta, weights_t, offsets, hidden_on, n_hidden_on, beta, lanes, acc, state):
    """``v_i ~ softmax_a(base_bias + beta (delta + sum_{j on} weights_t[j]))`` over each variable's states.

    ``acc`` (shape (sum(k),)) is scratch. Variable ``i`` takes one uniform of lane ``i % LANES``;
    the new state indices go to ``state``.
    """
    n_states = base_bias.shape[0]
    for r in range(n_states):
        acc[r] = delta[r]
    for t in range(n_hidden_on):
        row = weights_t[hidden_on[t]]
        for r in range(n_states):
            acc[r] += row[r]
    for r in range(n_states):
        acc[r] = base_bias[r] + beta * acc[r]
    lane = 0
    for i in range(state.shape[0]):
        start = offsets[i]
        stop = offsets[i + 1]
        top = acc[start]
        for r in range(start + 1, stop):
            if acc[r] > top:
                top = acc[r]
        total = 0.0
        for r in range(start, stop):
            e = math.exp(acc[r] - top)
            acc[r] = e
            total += e
        s = xorshift_next(lanes[lane])
        lanes[lane] = s
        lane = lane + 1 if lane + 1 < LANES else 0
        threshold = state_uniform(s) * total
        # the first state whose cumulative sum exceeds the threshold; rounding can leave none
        # (u * total rounded up to total): then the last state of positive probability
        chosen = -1
        last_positive = start
        cumulative = 0.0
        for r in range(start, stop):
            e = acc[r]
            if e > 0.0:
                last_positive = r
            cumulative += e
            if cumulative > threshold:
                chosen = r
                break
        if chosen < 0:
            chosen = last_positive
        state[i] = chosen - start


@njit(cache=True, nogil=True)
def _run_steps(target, betas, lanes, first, last, state, log_weight):
    """Steps ``first .. last - 1`` of one AIS run on ``target`` (:class:`Target`; ``lanes`` advanced in place).

    Step 0 is the exact draw from the base; step ``k >= 1`` adds the weight increment at
    ``betas[k]`` and, unless it is the last, moves with the transition at ``betas[k]``. The
    run's visible state (``state``, one index per variable) is updated in place and carried
    between calls; the hidden input is recomputed from it in a fixed order.

    Returns
    -------
    float
        The log weight accumulated so far (``log_weight`` passed in plus this call's increments).
    """
    weights, weights_t, hidden_bias, base_bias, delta, offsets = target
    n_hidden = weights.shape[1]
    acc = np.empty(base_bias.shape[0])
    hidden_on = np.empty(n_hidden, dtype=np.int64)
    x = np.empty(n_hidden)

    # a computed zero (a literal would compile a second specialisation of the callee)
    none_on = min(n_hidden, 0)
    if first == 0:
        # an exact draw from the base (beta = 0: the hidden layer plays no part)
        _draw_visible(base_bias, delta, weights_t, offsets, hidden_on, none_on, 0.0, lanes, acc, state)
        first = 1
    dv = _hidden_input(weights, hidden_bias, delta, offsets, state, x)

    n_steps = betas.shape[0] - 1
    for k in range(first, min(last, n_steps + 1)):
        beta = betas[k]
        previous = betas[k - 1]
        linear = dv
        log_ratio = 0.0
        numerator = 1.0
        denominator = 1.0
        n_hidden_on = none_on
        sample = k < n_steps  # the last distribution needs no transition
        lane = 0
        for j in range(n_hidden):
            xj = x[j]
            magnitude = abs(xj)
            e = math.exp(-beta * magnitude)
            numerator *= 1.0 + e
            denominator *= 1.0 + math.exp(-previous * magnitude)
            if xj > 0.0:
                linear += xj
            if (j + 1) % _LOG_CHUNK == 0:
                log_ratio += math.log(numerator / denominator)
                numerator = 1.0
                denominator = 1.0
            if sample:
                # sigmoid(beta x_j) from the same exponential
                p = 1.0 / (1.0 + e) if xj >= 0.0 else e / (1.0 + e)
                s = xorshift_next(lanes[lane])
                lanes[lane] = s
                hidden_on[n_hidden_on] = j
                n_hidden_on += 1 if state_uniform(s) < p else 0
                lane = lane + 1 if lane + 1 < LANES else 0
        log_ratio += math.log(numerator / denominator)
        log_weight += (beta - previous) * linear + log_ratio
        if not sample:
            break
        _draw_visible(base_bias, delta, weights_t, offsets, hidden_on, n_hidden_on, beta, lanes, acc, state)
        dv = _hidden_input(weights, hidden_bias, delta, offsets, state, x)
    return log_weight


def _ais_steps(target, betas, streams, first, last, states, log_weights):
    """Steps ``first .. last - 1`` of AIS runs on a categorical RBM, one run per row of ``streams``.

    Parameters
    ----------
    target : Target
    betas : float64 array, shape (K + 1,)
        Increasing, ``betas[0] = 0`` and ``betas[K] = 1``, K >= 1.
    streams : uint64 array, shape (n_runs, LANES)
        Non-zero xorshift64* states, advanced in place.
    first, last : int
        The steps to run; successive calls over consecutive ranges give the bits of one call.
    states : int64 array, shape (n_runs, n_visible)
        Each run's visible state (state indices), updated in place.
    log_weights : float64 array, shape (n_runs,)
        ``log w_r`` accumulated so far (zeros before step 0), updated in place.
    """
    for r in prange(streams.shape[0]):
        log_weights[r] = _run_steps(target, betas, streams[r], first, last, states[r], log_weights[r])


def ais_log_weights(weights, hidden_bias, base_bias, delta, offsets, betas, streams):
    """Log importance weights and final visible states of AIS runs on a categorical RBM.

    The whole schedule in time-bounded kernel calls (Ctrl-C is answered between them; the
    split changes no bit). Parameters as the attributes of :class:`Target` (``weights_t`` is
    made here), ``betas`` and ``streams`` as in :func:`ais_steps`.

    Returns
    -------
    log_weights : float64 array, shape (n_runs,)
    states : int64 array, shape (n_runs, n_visible)
        Each run's last visible state (for ``betas = [0, 1]``: its draw from the base).
    """
    from .._launch import call, first_chunk, run_chunked

    n_runs = streams.shape[0]
    n_visible = offsets.shape[0] - 1
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    target = Target(weights, np.ascontiguousarray(weights.T), np.ascontiguousarray(hidden_bias, dtype=np.float64),
                    np.ascontiguousarray(base_bias, dtype=np.float64), np.ascontiguousarray(delta, dtype=np.float64),
                    np.ascontiguousarray(offsets, dtype=np.int64))
    states = np.zeros((n_runs, n_visible), dtype=np.int64)
    log_weights = np.zeros(n_runs)
    kernel = ais_steps if n_runs > 1 else ais_steps_serial  # a pool for one run only costs a wake-up
    # a step costs about sum(k) n_hidden per run (the visible input) plus n_visible n_hidden (the hidden one)
    cost = n_runs * (weights.shape[0] + n_visible + 1) * max(weights.shape[1], 1)
    run_chunked(
        betas.shape[0],
        lambda first, last: call(kernel, target, betas, streams, first, last, states, log_weights,
                                 serial=ais_steps_serial),
        first=first_chunk(cost),
    )
    return log_weights, states


# Parallel over runs, and a serial twin for one run or a forked child (no thread pool).
ais_steps = njit(cache=True, nogil=True, parallel=True)(_ais_steps)
ais_steps_serial = serial_twin(ais_steps)
