"""The fused sigmoid-and-sample step of RBM block Gibbs sampling.

The caller computes the products of one layer with BLAS, ``pre = other @ W_layer``
(weights already divided by the temperature), and :func:`sample_layer` does the rest
in one pass over the rows: add the bias, take the logistic sigmoid, draw one uniform
per unit from the chain's xorshift64* stream and write the 0/1 state in the dtype of
the buffers (float32 or float64), so the next product uses it directly.

Speed. There is no vectorised ``exp`` in Numba here (no SVML), and NumPy's is not
fast either on this machine (float32 ~2.3 ns, float64 ~8.6 ns per element, measured;
see benchmarks/bench_rbm_gibbs.py). So the sigmoid is computed by a branch-free
Cody-Waite range reduction and a Taylor polynomial that LLVM vectorises
(``error_model="numpy"`` removes the division check that would block it; no fastmath).
Relative error, measured on a grid of 2e6 points over [-60, 60]: 1.5e-7 (float32,
degree 7), 5.6e-16 (float64, degree 13). The random draws are latency bound per chain
(each xorshift step depends on the previous one), so four chains are advanced side by
side.

Thread-count independence. BLAS products are not bitwise reproducible across BLAS
thread counts (nor even across row blockings: measured for OpenBLAS 0.3.31 in float32
and float64). The sampled state is therefore *defined* as

    s = [u < sigmoid(a)],  a = bias_j + sum_k w_jk x_k  summed in float64 in a fixed order,

and computed cheaply: the fast probability ``p_hat`` (from the BLAS product) is within
``limit = slope[j] * (p_hat (1 - p_hat) + floor) + floor`` of ``sigmoid(a)`` (a rigorous
bound, see :func:`layer_margins`), so when ``|u - p_hat| > limit`` the comparison with
``p_hat`` gives the same answer; only the rare draws closer than that (about
``2 * limit`` of them: 1e-4 to 1e-3 of the float32 updates of a 784x500 RBM with
weights of scale 0.05, ~1e-13 in float64) recompute ``a`` exactly. The states therefore depend on
the streams, the parameters (in the buffer dtype) and the other layer only, never on
the BLAS or Numba thread count. The kernel is serial (no ``parallel=True``), so it can
alternate with multi-threaded BLAS without the two thread pools fighting.

Clamped units (evidence) keep their value in ``out``; a uniform is still drawn for
them, so a chain's stream advances by one draw per unit and layer update whatever
the evidence.
"""

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from .rng import next_uniform

__all__ = ["sample_layer", "layer_margins", "sigmoid_row"]

# xorshift64*, exactly as rng.next_uniform (kept in registers for four chains at once).
_MULTIPLIER = np.uint64(0x2545F4914F6CDD1D)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53

_LOG2E = 1.4426950408889634
# Cody-Waite split of ln 2: n * _LN2_HI is exact for the |n| that occur here.
_LN2_HI_64 = 6.93147180369123816490e-01
_LN2_LO_64 = 1.90821492927058770002e-10
_LN2_HI_32 = np.float32(0.693145751953125)
_LN2_LO_32 = np.float32(1.428606765330187045e-06)
# Adding 1.5 * 2**52 (2**23) rounds to an integer held in the low mantissa bits.
_ROUND_64 = 6755399441055744.0
_ROUND_64_BITS = np.int64(0x4338000000000000)
_ROUND_32 = np.float32(12582912.0)
_ROUND_32_BITS = np.int32(0x4B400000)
# |x| is capped before exp: sigmoid(-700) < 1e-304, sigmoid(-80) < 2e-35; the cap
# changes p by less than that and keeps 2**n a normal number.
_CAP_64 = 700.0
_CAP_32 = np.float32(80.0)

# Bounds on |p_hat - sigmoid(a_hat)| (absolute, p <= 1) for the polynomial sigmoid,
# generous against the measured 1.5e-7 and 5.6e-16 relative.
SIGMOID_ERROR = {np.dtype(np.float32): 2.0**-19, np.dtype(np.float64): 2.0**-47}


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _sigmoid64(a):
    x = min(max(-a, -_CAP_64), _CAP_64)
    t = x * _LOG2E + _ROUND_64
    n = t - _ROUND_64
    r = (x - n * _LN2_HI_64) - n * _LN2_LO_64  # |r| <= ln(2) / 2
    q = 1.0 / 6227020800.0
    q = q * r + 1.0 / 479001600.0
    q = q * r + 1.0 / 39916800.0
    q = q * r + 1.0 / 3628800.0
    q = q * r + 1.0 / 362880.0
    q = q * r + 1.0 / 40320.0
    q = q * r + 1.0 / 5040.0
    q = q * r + 1.0 / 720.0
    q = q * r + 1.0 / 120.0
    q = q * r + 1.0 / 24.0
    q = q * r + 1.0 / 6.0
    q = q * r + 0.5
    q = q * r + 1.0
    q = q * r + 1.0
    bits = (np.float64(t).view(np.int64) - _ROUND_64_BITS + np.int64(1023)) << np.int64(52)
    return 1.0 / (1.0 + q * np.int64(bits).view(np.float64))


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _sigmoid32(a):
    x = min(max(-a, -_CAP_32), _CAP_32)
    t = x * np.float32(_LOG2E) + _ROUND_32
    n = t - _ROUND_32
    r = (x - n * _LN2_HI_32) - n * _LN2_LO_32
    q = np.float32(1.0 / 40320.0)
    q = q * r + np.float32(1.0 / 5040.0)
    q = q * r + np.float32(1.0 / 720.0)
    q = q * r + np.float32(1.0 / 120.0)
    q = q * r + np.float32(1.0 / 24.0)
    q = q * r + np.float32(1.0 / 6.0)
    q = q * r + np.float32(0.5)
    q = q * r + np.float32(1.0)
    q = q * r + np.float32(1.0)
    bits = (np.float32(t).view(np.int32) - _ROUND_32_BITS + np.int32(127)) << np.int32(23)
    return np.float32(1.0) / (np.float32(1.0) + q * np.int32(bits).view(np.float32))


def _sigmoid(a):
    """Typed dispatch stub: the polynomial sigmoid in the precision of ``a``."""
    raise NotImplementedError("only callable from Numba-compiled code")


@overload(_sigmoid, inline="always")
def _sigmoid_overload(a):
    if a == types.float32:
        return lambda a: _sigmoid32(a)
    return lambda a: _sigmoid64(a)


@njit(cache=True, nogil=True, error_model="numpy")
def sigmoid_row(pre, bias, out):
    """``out[j] = sigmoid(pre[j] + bias[j])`` in the dtype of ``pre`` (a vectorised loop)."""
    for j in range(pre.shape[0]):
        out[j] = _sigmoid(pre[j] + bias[j])


@njit(cache=True, nogil=True, inline="always")
def _step(x):
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    return x


@njit(cache=True, nogil=True, inline="always")
def _uniform(x):
    return np.float64((x * _MULTIPLIER) >> np.uint64(11)) * _TO_UNIT


@njit(cache=True, nogil=True)
def _exact_probability(bias, rows, other, c, j):
    """sigmoid(bias[j] + sum_k rows[j, k] * other[c, k]) in float64, in a fixed order.

    Four running sums over k = 0, 1, 2, 3 (mod 4), added as ((s0 + s1) + (s2 + s3))
    + bias: a fixed order (so a deterministic result) with four independent chains of
    additions; the 0/1 states multiply exactly, without branches.
    """
    n = rows.shape[1]
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    k = 0
    while k + 4 <= n:
        s0 += np.float64(rows[j, k]) * np.float64(other[c, k])
        s1 += np.float64(rows[j, k + 1]) * np.float64(other[c, k + 1])
        s2 += np.float64(rows[j, k + 2]) * np.float64(other[c, k + 2])
        s3 += np.float64(rows[j, k + 3]) * np.float64(other[c, k + 3])
        k += 4
    while k < n:
        s0 += np.float64(rows[j, k]) * np.float64(other[c, k])
        k += 1
    a = ((s0 + s1) + (s2 + s3)) + np.float64(bias[j])
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


@njit(cache=True, nogil=True)
def _exact_bit(u, bias, rows, other, c, j):
    """[u < sigmoid(a_exact)] as 1.0 or 0.0: the rare draws too close to the fast probability."""
    return 1.0 if u < _exact_probability(bias, rows, other, c, j) else 0.0


@njit(cache=True, nogil=True, inline="always")
def _limit(p, slope, floor):
    """Bound on |p_hat - p_exact| for a fast probability p (see layer_margins)."""
    return slope * (p * (1.0 - p) + floor) + floor


@njit(cache=True, nogil=True)
def _settle(u, bias, rows, other, clamped, out, states, record, offset, c, j):
    """Redo the decision of unit j of chain c with the exact probability."""
    if clamped[j] == 0:
        out[c, j] = _exact_bit(u, bias, rows, other, c, j)
    if record >= 0:
        states[c, record, offset + j] = np.uint8(out[c, j] != 0)


@njit(cache=True, nogil=True)
def sample_layer(pre, bias, slope, floor, rows, other, clamped, streams, out, states, record, offset, probs,
                 pending_index, pending_u):
    """Sample one layer of every chain given the other layer, in place.

    Parameters
    ----------
    pre : float32 or float64 array, shape (n_chains, m)
        ``other @ W_layer`` from BLAS, without the bias.
    bias : array of the same dtype, shape (m,)
    slope : float64 array, shape (m,)
    floor : float
        The bound on ``|p_hat - p_exact|`` is ``slope[j] * (p_hat (1 - p_hat) + floor) + floor``
        (:func:`layer_margins`).
    rows : array of the same dtype, shape (m, k), C-contiguous
        ``rows[j]`` holds the weights into unit ``j`` (the same values as used by BLAS).
    other : array of the same dtype, shape (n_chains, k)
        The other layer's 0/1 states (the left operand of ``pre``).
    clamped : uint8 array, shape (m,)
        1 for units whose value in ``out`` is kept.
    streams : uint64 array, shape (n_chains,)
        One xorshift64* state per chain, advanced by m draws.
    out : array of the same dtype, shape (n_chains, m)
        The layer's states, overwritten (except clamped units).
    states, record, offset
        When ``record >= 0``, also ``states[c, record, offset + j] = out[c, j]`` (uint8).
    probs : array of the same dtype, shape (4, m)
    pending_index : int64 array, shape (4 * m,)
    pending_u : float64 array, shape (4 * m,)
        Scratch.
    """
    n, m = pre.shape
    c = 0
    while c + 4 <= n:
        for i in range(4):
            sigmoid_row(pre[c + i], bias, probs[i])
        x0 = streams[c]
        x1 = streams[c + 1]
        x2 = streams[c + 2]
        x3 = streams[c + 3]
        n_pending = 0
        for j in range(m):
            x0 = _step(x0)
            x1 = _step(x1)
            x2 = _step(x2)
            x3 = _step(x3)
            sj = slope[j]
            u0 = _uniform(x0)
            u1 = _uniform(x1)
            u2 = _uniform(x2)
            u3 = _uniform(x3)
            p0 = np.float64(probs[0, j])
            d0 = 1.0 if u0 < p0 else 0.0
            p1 = np.float64(probs[1, j])
            d1 = 1.0 if u1 < p1 else 0.0
            p2 = np.float64(probs[2, j])
            d2 = 1.0 if u2 < p2 else 0.0
            p3 = np.float64(probs[3, j])
            d3 = 1.0 if u3 < p3 else 0.0
            # Rare: a draw too close to call with the fast p. One predictable branch
            # (branches on each comparison would make the selects above branchy too).
            e0 = abs(u0 - p0) - _limit(p0, sj, floor)
            e1 = abs(u1 - p1) - _limit(p1, sj, floor)
            e2 = abs(u2 - p2) - _limit(p2, sj, floor)
            e3 = abs(u3 - p3) - _limit(p3, sj, floor)
            if min(min(e0, e1), min(e2, e3)) <= 0.0:
                for i, u, e in ((0, u0, e0), (1, u1, e1), (2, u2, e2), (3, u3, e3)):
                    if e <= 0.0:
                        pending_index[n_pending] = i * m + j
                        pending_u[n_pending] = u
                        n_pending += 1
            if clamped[j] == 0:
                out[c, j] = d0
                out[c + 1, j] = d1
                out[c + 2, j] = d2
                out[c + 3, j] = d3
            if record >= 0:
                states[c, record, offset + j] = np.uint8(out[c, j] != 0)
                states[c + 1, record, offset + j] = np.uint8(out[c + 1, j] != 0)
                states[c + 2, record, offset + j] = np.uint8(out[c + 2, j] != 0)
                states[c + 3, record, offset + j] = np.uint8(out[c + 3, j] != 0)
        for t in range(n_pending):
            i = pending_index[t] // m
            j = pending_index[t] - i * m
            _settle(pending_u[t], bias, rows, other, clamped, out, states, record, offset, c + i, j)
        streams[c] = x0
        streams[c + 1] = x1
        streams[c + 2] = x2
        streams[c + 3] = x3
        c += 4
    while c < n:
        sigmoid_row(pre[c], bias, probs[0])
        for j in range(m):
            u = next_uniform(streams, c)
            p = np.float64(probs[0, j])
            d = 1.0 if u < p else 0.0
            if abs(u - p) <= _limit(p, slope[j], floor):
                d = _exact_bit(u, bias, rows, other, c, j)  # rare: too close to call with the fast p
            if clamped[j] == 0:
                out[c, j] = d
            if record >= 0:
                states[c, record, offset + j] = np.uint8(out[c, j] != 0)
        c += 1


def layer_margins(rows, bias, dtype):
    """The tolerances of :func:`sample_layer` for one layer: ``(slope, floor)``.

    ``rows`` (shape (m, k)) and ``bias`` hold the parameters in the buffer ``dtype``.
    Let ``a*`` be the exact real value of ``bias_j + sum_k rows[j, k] x_k``. With
    ``L_j = sum_k |rows[j, k]| + |bias_j|``, any summation order (BLAS blocking, FMA)
    of these k + 1 terms has error at most ``gamma(k + 1) L_j``, ``gamma(n) = n u / (1 - n u)``,
    ``u`` the unit roundoff (Higham, *Accuracy and Stability of Numerical Algorithms*,
    2nd ed., sec. 3.1): ``u = 2**-24`` for the fast float32 value ``a_hat`` and
    ``2**-53`` for the exact path, so ``|a_hat - a_exact| <= D_j`` (the sum of both).
    On an interval of length ``D`` the sigmoid's slope ``s(1 - s)`` changes by a factor
    at most ``e**D``, and ``|s(1 - s) - p_hat (1 - p_hat)| <= |s - p_hat| <= eps`` (the
    polynomial's error, ``SIGMOID_ERROR``), so

        |p_hat - sigmoid(a_exact)| <= D e**D (p_hat (1 - p_hat) + eps) + eps + 2**-49,

    the last term covering the float64 sigmoid of the exact path and the subtraction
    ``u - p_hat``. Returns ``slope = D e**D`` (float64, shape (m,)) and
    ``floor = eps + 2**-49``.
    """
    dtype = np.dtype(dtype)
    k = rows.shape[1] + 1
    unit = np.finfo(dtype).eps / 2.0
    gamma = k * unit / (1.0 - k * unit) + k * 2.0**-53 / (1.0 - k * 2.0**-53)
    size = np.abs(rows.astype(np.float64)).sum(axis=1) + np.abs(bias.astype(np.float64))
    spread = gamma * size * (1.0 + 1e-6)
    return spread * np.exp(spread), float(SIGMOID_ERROR[dtype] + 2.0**-49)
