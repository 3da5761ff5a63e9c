"""Annealed importance sampling (AIS) for RBMs: the whole schedule of one run in one kernel.

For a target RBM ``B`` (``W``, ``b``, ``c`` at T = 1) and a base ``A`` with zero weights,
zero hidden biases and visible bias ``a`` (Salakhutdinov & Murray 2008), the intermediate
distributions over the visible layer are

    p*_beta(v) = exp(a'v + beta d'v) prod_j (1 + exp(beta x_j(v))),   d = b - a,  x = c + W'v,

and the transition at ``beta`` is one block-Gibbs sweep of the joint that has this marginal:
``h_j ~ sigmoid(beta x_j)``, then ``v_i ~ sigmoid(a_i + beta (d_i + (W h)_i))``. Each run starts
from an exact draw of the base and, for ``k = 1..K``, adds
``log p*_k(v_k) - log p*_{k-1}(v_k)`` to its log weight before moving with the transition at ``beta_k``.

The increment, with ``softplus(y) = max(y, 0) + log1p(exp(-|y|))`` and ``beta >= 0``, is

    (beta_k - beta_{k-1}) (d'v + sum_j max(x_j, 0)) + log prod_j (1 + e_j^k) / (1 + e_j^{k-1}),

``e_j^k = exp(-beta_k |x_j|)`` in (0, 1]: only exponentials of non-positive numbers (no overflow
for any weights) and one ``log`` per step for up to ``_LOG_CHUNK`` hidden units (each product
stays within [1, 2**_LOG_CHUNK]). The product of ratios near 1 keeps the increment accurate to a
few ulps of 1 per hidden unit. The weights, the hidden input ``x`` and the hidden
probabilities ``sigmoid(beta_k x_j)`` (from the same ``e_j^k``) are float64.

Visible layer: a float32 fast path (twice the units per vector operation of float64, whose
polynomial sigmoid dominated the run time) with an exact fallback, as in :mod:`.block_gibbs`: the float32
probability is within a rigorous ``margin`` of the float64 one (:func:`visible_margins`), so
``u < p32`` is the float64 decision unless ``|u - p32| <= margin`` (a few draws per million),
which are decided again in float64. The states are those of the float64 comparison.

Layout: everything for one run (one AIS "chain") is done by one thread, runs in parallel with
``prange``. No BLAS: the layers are binary, so the pre-activations are sums of the weight rows of
the units that are on (contiguous rows of ``W`` for the hidden input, of ``W'`` for the visible
input). Randomness: each run owns ``LANES`` xorshift64* streams (the generator of
:mod:`.rng`); visible unit ``i`` and hidden unit ``j`` draw from lanes ``i % LANES`` and
``j % LANES``, one draw per unit and sweep; the visible draws of the eight lanes are made side
by side in one vectorised loop. A run's result therefore depends only on its own streams and
the parameters, never on the thread count or scheduling.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .._launch import serial_twin
from .block_gibbs import SIGMOID_ERROR, _sigmoid32
from .rng import state_uniform, xorshift_next

__all__ = ["LANES", "Target", "ais_log_weights", "ais_steps", "ais_steps_serial", "visible_margins"]

#: xorshift64* streams per run
LANES = 8
# Hidden units per partial product of (1 + e) factors (each in [1, 2]; 2**512 is far from overflow).
_LOG_CHUNK = 512


def visible_margins(weights, base_bias, delta):
    """Bounds on ``|p32_i - p64_i|`` between the fast float32 and the float64 visible probabilities.

    ``a_i = base_bias_i + beta (delta_i + sum_{j on} W_ij)`` with ``0 <= beta <= 1`` has, in
    any summation order, an error of at most ``gamma(k) L_i`` with ``k = n_hidden + 6``
    roundings (the parameters' conversion to float32, the sum, ``beta``'s conversion, the
    product and the last sum), ``L_i = |base_bias_i| + |delta_i| + sum_j |W_ij|`` and
    ``gamma(k) = k u / (1 - k u)``, ``u`` the unit roundoff (Higham, *Accuracy and Stability
    of Numerical Algorithms*, 2nd ed., sec. 3.1): ``2**-24`` for float32, ``2**-53`` for the
    float64 path. The sigmoid's slope is at most 1/4, the polynomial float32 sigmoid is
    within ``SIGMOID_ERROR`` of the exact one, and ``2**-49`` covers the float64 sigmoid
    and the subtraction ``u - p``.

    Parameters
    ----------
    weights : float64 array, shape (n_visible, n_hidden)
    base_bias, delta : float64 arrays, shape (n_visible,)

    Returns
    -------
    float64 array, shape (n_visible,)
    """
    k = weights.shape[1] + 6
    gamma = sum(k * unit / (1.0 - k * unit) for unit in (2.0**-24, 2.0**-53))
    size = np.abs(base_bias) + np.abs(delta) + np.abs(weights).sum(axis=1)
    return (0.25 * gamma * size + SIGMOID_ERROR[np.dtype(np.float32)] + 2.0**-49) * (1.0 + 1e-6)


@njit(cache=True, nogil=True, error_model="numpy")
def _fast_visible_probabilities(base_bias, delta, weights_t, hidden_on, n_hidden_on, beta, acc, prob):
    """float32 ``prob[i] ~ sigmoid(base_bias[i] + beta (delta[i] + sum_{j on} weights_t[j, i]))``.

    All arrays float32: eight units per AVX2 operation. The error against the exact
    value is bounded by the caller's ``margin`` (see ``visible_margins`` in pgm_energy.ais).
    """
    n_visible = base_bias.shape[0]
    for i in range(n_visible):
        acc[i] = delta[i]
    for t in range(n_hidden_on):
        row = weights_t[hidden_on[t]]
        for i in range(n_visible):
            acc[i] += row[i]
    b = np.float32(beta)
    for i in range(n_visible):
        prob[i] = _sigmoid32(base_bias[i] + b * acc[i])


@njit(cache=True, nogil=True, error_model="numpy")
def _uniforms(lanes, uniforms):
    """Fill ``uniforms`` (n,) so that entry ``i`` is the next draw of lane ``i % LANES``.

    The loop over the lanes is independent work that LLVM vectorises (four 64-bit lanes
    per AVX2 operation).
    """
    n = uniforms.shape[0]
    rows = n // LANES
    for r in range(rows):
        for s in range(LANES):
            x = xorshift_next(lanes[s])
            lanes[s] = x
            uniforms[r * LANES + s] = state_uniform(x)
    for s in range(n - rows * LANES):
        x = xorshift_next(lanes[s])
        lanes[s] = x
        uniforms[rows * LANES + s] = state_uniform(x)


@njit(cache=True, nogil=True)
def _exact_visible_probability(base_bias, delta, weights_t, hidden_on, n_hidden_on, beta, i):
    """``sigmoid(base_bias[i] + beta (delta[i] + sum_{j on} weights_t[j, i]))`` in float64, in a fixed order."""
    total = delta[i]
    for t in range(n_hidden_on):
        total += weights_t[hidden_on[t], i]
    a = base_bias[i] + beta * total
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


@njit(cache=True, nogil=True)
def _draw_visible(prob, uniforms, margin, base_bias, delta, weights_t, hidden_on, n_hidden_on, beta, on):
    """``v_i = [u_i < p_i]`` with ``p_i`` the exact probability; the indices of the units on go to ``on``.

    The float32 ``prob`` decides unless ``u_i`` is within ``margin[i]`` of it (rare: a few
    per million draws); then the float64 probability does. So the states are those of the
    exact comparison whatever the rounding of the fast path. Branch-free compaction:
    the index is always written, the count only moves when the unit is on. Returns the count.
    """
    count = 0
    for i in range(prob.shape[0]):
        u = uniforms[i]
        p = np.float64(prob[i])
        hit = u < p
        if abs(u - p) <= margin[i]:
            hit = u < _exact_visible_probability(base_bias, delta, weights_t, hidden_on, n_hidden_on, beta, i)
        on[count] = i
        count += 1 if hit else 0
    return count


@njit(cache=True, nogil=True)
def _hidden_input(weights, hidden_bias, delta, visible_on, n_visible_on, x):
    """``x = hidden_bias + sum_{i on} weights[i]``; returns ``sum_{i on} delta[i]`` (= d'v)."""
    n_hidden = hidden_bias.shape[0]
    for j in range(n_hidden):
        x[j] = hidden_bias[j]
    dv = 0.0
    for t in range(n_visible_on):
        i = visible_on[t]
        dv += delta[i]
        row = weights[i]
        for j in range(n_hidden):
            x[j] += row[j]
    return dv


class Target(NamedTuple):
    """The target RBM and the base's visible bias, as :func:`ais_steps` reads them.

    Attributes
    ----------
    weights : float64 array, shape (n_visible, n_hidden), C-contiguous
        Target weights at T = 1.
    weights_t : float64 array, shape (n_hidden, n_visible), C-contiguous
        The same, transposed.
    hidden_bias : float64 array, shape (n_hidden,)
        Target hidden bias.
    base_bias : float64 array, shape (n_visible,)
        The base model's visible bias ``a``.
    delta : float64 array, shape (n_visible,)
        Target visible bias minus ``base_bias``.
    weights_t32, base_bias32, delta32 : float32 arrays
        ``weights_t``, ``base_bias`` and ``delta`` rounded to float32 (the fast path).
    margin : float64 array, shape (n_visible,)
        Bound on ``|p32_i - p_i|``, the float32 visible probability against the exact one
        (:func:`visible_margins`).
    """

    weights: np.ndarray
    weights_t: np.ndarray
    hidden_bias: np.ndarray
    base_bias: np.ndarray
    delta: np.ndarray
    weights_t32: np.ndarray
    base_bias32: np.ndarray
    delta32: np.ndarray
    margin: np.ndarray


@njit(cache=True, nogil=True)
def _run_steps(target, betas, lanes, first, last, visible_on, n_visible_on, log_weight):
    """Steps ``first .. last - 1`` of one AIS run on ``target`` (:class:`Target`; ``lanes`` advanced in place).

    Step 0 is the exact draw from the base; step ``k >= 1`` adds the weight increment at
    ``betas[k]`` and, unless it is the last, moves with the transition at ``betas[k]``. The
    run's visible state is carried between calls as the ascending indices of its units that
    are on (``visible_on[:n_visible_on]``), from which the hidden input is recomputed in the
    same order, so a run split into several calls gives the bits of one call.

    Returns
    -------
    (n_visible_on, log_weight) : (int, float)
        The state and the log weight accumulated so far (``log_weight`` passed in, plus
        this call's increments).
    """
    weights, weights_t, hidden_bias, base_bias, delta, weights_t32, base_bias32, delta32, margin = target
    n_visible, n_hidden = weights.shape
    acc = np.empty(n_visible, dtype=np.float32)
    prob = np.empty(n_visible, dtype=np.float32)
    uniforms = np.empty(n_visible)
    hidden_on = np.empty(n_hidden, dtype=np.int64)
    x = np.empty(n_hidden)

    # A computed zero for the counts of hidden units on: with a constant 0 (even np.int64(0)) Numba
    # compiles a second specialisation of the callees below for the literal value.
    none_on = min(n_hidden, 0)
    if first == 0:
        # An exact draw from the base (beta = 0: the hidden layer plays no part).
        _fast_visible_probabilities(base_bias32, delta32, weights_t32, hidden_on, none_on, 0.0, acc, prob)
        _uniforms(lanes, uniforms)
        n_visible_on = _draw_visible(prob, uniforms, margin, base_bias, delta, weights_t, hidden_on, none_on, 0.0,
                                     visible_on)
        first = 1
    dv = _hidden_input(weights, hidden_bias, delta, visible_on, n_visible_on, x)

    n_steps = betas.shape[0] - 1
    for k in range(first, min(last, n_steps + 1)):
        beta = betas[k]
        previous = betas[k - 1]
        # Weight increment log p*_k(v_k) - log p*_{k-1}(v_k), then the hidden draws at beta_k.
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
                # sigmoid(beta x_j) from the same exponential, exact in float64
                p = 1.0 / (1.0 + e) if xj >= 0.0 else e / (1.0 + e)
                state = xorshift_next(lanes[lane])
                lanes[lane] = state
                hidden_on[n_hidden_on] = j
                n_hidden_on += 1 if state_uniform(state) < p else 0
                lane = lane + 1 if lane + 1 < LANES else 0
        log_ratio += math.log(numerator / denominator)
        log_weight += (beta - previous) * linear + log_ratio
        if not sample:
            break
        _fast_visible_probabilities(base_bias32, delta32, weights_t32, hidden_on, n_hidden_on, beta, acc, prob)
        _uniforms(lanes, uniforms)
        n_visible_on = _draw_visible(
            prob, uniforms, margin, base_bias, delta, weights_t, hidden_on, n_hidden_on, beta, visible_on
        )
        dv = _hidden_input(weights, hidden_bias, delta, visible_on, n_visible_on, x)
    return n_visible_on, log_weight


def _ais_steps(target, betas, streams, first, last, visible_on, n_visible_on, log_weights):
    """Steps ``first .. last - 1`` of AIS runs on an RBM, one run per row of ``streams``.

    A whole run is steps ``0 .. K`` (``K = len(betas) - 1``); successive calls over
    consecutive ranges give the bits of one call over ``0 .. K + 1``.

    Parameters
    ----------
    target : Target
        The target RBM and the base.
    betas : float64 array, shape (K + 1,)
        Increasing, ``betas[0] = 0`` and ``betas[K] = 1``, K >= 1.
    streams : uint64 array, shape (n_runs, LANES)
        Non-zero xorshift64* states, advanced in place.
    first, last : int
        The steps to run.
    visible_on : int64 array, shape (n_runs, n_visible)
    n_visible_on : int64 array, shape (n_runs,)
        Each run's visible state (ascending indices of the units on), updated in place.
    log_weights : float64 array, shape (n_runs,)
        ``log w_r`` accumulated so far (zeros before step 0), updated in place. After step
        ``K``, ``log Z_B = log Z_0 + log mean_r w_r`` with
        ``Z_0 = 2**n_hidden prod_i (1 + exp(a_i))``.
    """
    for r in prange(streams.shape[0]):
        n_visible_on[r], log_weights[r] = _run_steps(
            target, betas, streams[r], first, last, visible_on[r], n_visible_on[r], log_weights[r]
        )


def ais_log_weights(weights, weights_t, hidden_bias, base_bias, delta, margin, betas, streams):
    """Log importance weights of AIS runs on an RBM, one run per row of ``streams``.

    The whole schedule in time-bounded kernel calls of :func:`ais_steps` (Ctrl-C is answered
    between them; the split changes no bit). Parameters as the attributes of
    :class:`Target`, ``betas`` and ``streams`` as in :func:`ais_steps`.

    Returns
    -------
    float64 array, shape (n_runs,)
        ``log w_r``.
    """
    from .._launch import call, first_chunk, run_chunked

    n_runs = streams.shape[0]
    n_visible = weights.shape[0]
    visible_on = np.empty((n_runs, n_visible), dtype=np.int64)
    n_visible_on = np.zeros(n_runs, dtype=np.int64)
    log_weights = np.zeros(n_runs)
    target = Target(weights, weights_t, hidden_bias, base_bias, delta, weights_t.astype(np.float32),
                    base_bias.astype(np.float32), delta.astype(np.float32), margin)
    # One thread per run: a pool for one run only costs a wake-up.
    kernel = ais_steps if n_runs > 1 else ais_steps_serial
    run_chunked(
        betas.shape[0],
        lambda first, last: call(
            kernel, target, betas, streams, first, last, visible_on, n_visible_on, log_weights, serial=ais_steps_serial,
        ),
        first=first_chunk(n_runs * weights.shape[0] * weights.shape[1]),  # a step costs at most n_v n_h per run
    )
    return log_weights


# Parallel over runs, and a serial twin for one run or a forked child (no thread pool).
ais_steps = njit(cache=True, nogil=True, parallel=True)(_ais_steps)
ais_steps_serial = serial_twin(ais_steps)
