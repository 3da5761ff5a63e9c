"""Annealed importance sampling (AIS) for Gaussian-Bernoulli RBMs: the whole schedule of one run in one kernel.

The caller whitens the visible units (``u_i = v_i / s_i`` with ``s_i = sigma_i sqrt(T)``, the
visible standard deviation at the model's temperature): the target is then, at T = 1,

    E(u, h) = ||u - b~||^2 / 2 - c~'h - u' W~ h,   b~ = b / s,  W~ = W / s (per row),  c~ = c / T,

and the base a product of N(m~_i, 1) visible units (``m~ = m / s``, the base means) and fair
coins. The path interpolates the visible means and scales the coupling and hidden biases:

    E_beta(u, h) = ||u - m~ - beta delta||^2 / 2 - beta c~'h - beta u' W~ h,   delta = b~ - m~,

so every intermediate model is a Gaussian-Bernoulli RBM with unit variances (its ``Z_beta`` is
finite for every beta: the quadratic term does not depend on beta). Summing ``h`` out,

    p*_beta(u) = exp(-||u - m~ - beta delta||^2 / 2) prod_j (1 + exp(beta x_j(u))),   x = c~ + W~'u,

and the transition at ``beta`` is one block-Gibbs sweep of ``E_beta``: ``h_j ~ sigmoid(beta x_j)``,
then ``u_i ~ N(m~_i + beta (delta_i + (W~ h)_i), 1)``. The increment
``log p*_k(u) - log p*_{k-1}(u)``, with ``Delta = beta_k - beta_{k-1}``, is

    Delta (delta'(u - m~) - (beta_k + beta_{k-1}) ||delta||^2 / 2 + sum_j max(x_j, 0))
      + log prod_j (1 + e^{-beta_k |x_j|}) / (1 + e^{-beta_{k-1} |x_j|}),

from exponentials of non-positive numbers only, as in :mod:`.ais`. ``half_norm`` is
``||delta||^2 / 2``, computed by the caller.

Normal draws: Box-Muller, ``z = sqrt(-2 log(1 - u1)) cos(2 pi u2)``, with ``u1``, ``u2`` two
consecutive uniforms of the unit's lane (one normal per pair: simple, and exact in distribution).
Layout and randomness as in :mod:`.ais`: one run per thread (``prange`` over runs), each run owns
``LANES`` xorshift64* streams; visible unit ``i`` and hidden unit ``j`` draw from lanes
``i % LANES`` and ``j % LANES`` in a fixed order, so a run's result depends only on its streams;
its state (the whitened visible values) is carried between calls, so a split run gives the bits
of one call.
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
_TWO_PI = 2.0 * math.pi


class Target(NamedTuple):
    """The whitened target and base, as :func:`ais_steps` reads them.

    Attributes
    ----------
    weights : float64 array, shape (n_visible, n_hidden), C-contiguous
        ``W~ = W / s`` (row ``i`` divided by ``s_i``).
    weights_t : float64 array, shape (n_hidden, n_visible), C-contiguous
        The same, transposed.
    hidden_bias : float64 array, shape (n_hidden,)
        ``c~ = c / T``.
    base_mean : float64 array, shape (n_visible,)
        ``m~``, the base model's whitened means.
    delta : float64 array, shape (n_visible,)
        ``b~ - m~``.
    half_norm : float
        ``||delta||^2 / 2``.
    """

    weights: np.ndarray
    weights_t: np.ndarray
    hidden_bias: np.ndarray
    base_mean: np.ndarray
    delta: np.ndarray
    half_norm: float


@njit(cache=True, nogil=True)
def _hidden_input(weights, hidden_bias, base_mean, delta, state, x):
    """``x = hidden_bias + W~'u``; returns ``delta'(u - m~)``."""
    n_hidden = hidden_bias.shape[0]
    for j in range(n_hidden):
        x[j] = hidden_bias[j]
    dv = 0.0
    for i in range(state.shape[0]):
        ui = state[i]
        dv += delta[i] * (ui - base_mean[i])
        row = weights[i]
        for j in range(n_hidden):
            x[j] += ui * row[j]
    return dv


@njit(cache=True, nogil=True)
def _draw_visible(base_mean, delta, weights_t, hidden_on, n_hidden_on, beta, lanes, acc, state):
    """``u_i ~ N(base_mean_i + beta (delta_i + sum_{j on} weights_t[j, i]), 1)``; ``acc`` is scratch.

    Unit ``i`` takes two uniforms of lane ``i % LANES`` (Box-Muller).
    """
    n_visible = base_mean.shape[0]
    for i in range(n_visible):
        acc[i] = delta[i]
    for t in range(n_hidden_on):
        row = weights_t[hidden_on[t]]
        for i in range(n_visible):
            acc[i] += row[i]
    lane = 0
    for i in range(n_visible):
        s = xorshift_next(lanes[lane])
        u1 = state_uniform(s)
        s = xorshift_next(s)
        u2 = state_uniform(s)
        lanes[lane] = s
        lane = lane + 1 if lane + 1 < LANES else 0
        z = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(_TWO_PI * u2)
        state[i] = base_mean[i] + beta * acc[i] + z


@njit(cache=True, nogil=True)
def _run_steps(target, betas, lanes, first, last, state, log_weight):
    """Steps ``first .. last - 1`` of one AIS run on ``target`` (:class:`Target`; ``lanes`` advanced in place).

    Step 0 is the exact draw from the base; step ``k >= 1`` adds the weight increment at
    ``betas[k]`` and, unless it is the last, moves with the transition at ``betas[k]``. The
    run's whitened visible state ``state`` is updated in place and carried between calls.

    Returns
    -------
    float
        The log weight accumulated so far.
    """
    weights, weights_t, hidden_bias, base_mean, delta, half_norm = target
    n_hidden = weights.shape[1]
    acc = np.empty(base_mean.shape[0])
    hidden_on = np.empty(n_hidden, dtype=np.int64)
    x = np.empty(n_hidden)

    none_on = min(n_hidden, 0)  # a computed zero (a literal would compile a second specialisation)
    if first == 0:
        _draw_visible(base_mean, delta, weights_t, hidden_on, none_on, 0.0, lanes, acc, state)
        first = 1
    dv = _hidden_input(weights, hidden_bias, base_mean, delta, state, x)

    n_steps = betas.shape[0] - 1
    for k in range(first, min(last, n_steps + 1)):
        beta = betas[k]
        previous = betas[k - 1]
        linear = dv - (beta + previous) * half_norm
        log_ratio = 0.0
        numerator = 1.0
        denominator = 1.0
        n_hidden_on = none_on
        sample = k < n_steps
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
        _draw_visible(base_mean, delta, weights_t, hidden_on, n_hidden_on, beta, lanes, acc, state)
        dv = _hidden_input(weights, hidden_bias, base_mean, delta, state, x)
    return log_weight


def _ais_steps(target, betas, streams, first, last, states, log_weights):
    """Steps ``first .. last - 1`` of AIS runs on a whitened Gaussian-Bernoulli RBM, one run per row of ``streams``.

    Parameters
    ----------
    target : Target
    betas : float64 array, shape (K + 1,)
        Increasing, ``betas[0] = 0`` and ``betas[K] = 1``, K >= 1.
    streams : uint64 array, shape (n_runs, LANES)
        Non-zero xorshift64* states, advanced in place.
    first, last : int
        The steps to run; successive calls over consecutive ranges give the bits of one call.
    states : float64 array, shape (n_runs, n_visible)
        Each run's whitened visible state, updated in place.
    log_weights : float64 array, shape (n_runs,)
        ``log w_r`` accumulated so far (zeros before step 0), updated in place.
    """
    for r in prange(streams.shape[0]):
        log_weights[r] = _run_steps(target, betas, streams[r], first, last, states[r], log_weights[r])


def ais_log_weights(weights, hidden_bias, base_mean, delta, betas, streams):
    """Log importance weights and final whitened visible states of AIS runs on a Gaussian-Bernoulli RBM.

    The whole schedule in time-bounded kernel calls (Ctrl-C is answered between them; the
    split changes no bit). Parameters as the attributes of :class:`Target` (``weights_t`` and
    ``half_norm`` are made here), ``betas`` and ``streams`` as in :func:`ais_steps`.

    Returns
    -------
    log_weights : float64 array, shape (n_runs,)
    states : float64 array, shape (n_runs, n_visible)
        Each run's last whitened visible state (for ``betas = [0, 1]``: its draw from the base).
    """
    from .._launch import call, first_chunk, run_chunked

    n_runs = streams.shape[0]
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    delta = np.ascontiguousarray(delta, dtype=np.float64)
    target = Target(weights, np.ascontiguousarray(weights.T), np.ascontiguousarray(hidden_bias, dtype=np.float64),
                    np.ascontiguousarray(base_mean, dtype=np.float64), delta, 0.5 * float(delta @ delta))
    states = np.zeros((n_runs, weights.shape[0]))
    log_weights = np.zeros(n_runs)
    kernel = ais_steps if n_runs > 1 else ais_steps_serial  # a pool for one run only costs a wake-up
    cost = n_runs * 2 * (weights.shape[0] + 1) * max(weights.shape[1], 1)  # the two layers' inputs
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
