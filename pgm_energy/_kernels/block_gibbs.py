"""The fused sigmoid-and-sample step of RBM block Gibbs sampling.

Layout: chain-minor. Every state buffer has one row per unit and one column per chain
(shape (units, n_chains)). The caller computes the products of one layer with BLAS,
``pre = W_layer.T @ other`` (weights already divided by the temperature; the same
GEMM cost as the chain-major product, measured), and :func:`sample_layer` does the
rest, unit by unit, in contiguous loops over the chains: add the bias, take the
logistic sigmoid, draw one uniform per chain from its xorshift64* stream and write the
0/1 state in the dtype of the buffers (float32 or float64), so the next product uses
it directly. Each chain still draws its uniforms in unit order, one per unit, so the
draws are those of ``rng.next_uniform`` (the samples are bit-identical to the previous
chain-major kernel's).

Speed. There is no vectorised ``exp`` in Numba here (no SVML), and NumPy's is not
fast either on this machine (float32 ~2.3 ns, float64 ~8.6 ns per element, measured;
see benchmarks/bench_rbm_gibbs.py). So the sigmoid is computed by a branch-free
Cody-Waite range reduction and a Taylor polynomial that LLVM vectorises
(``error_model="numpy"`` removes the division check that would block it; no fastmath).
Relative error, measured on a grid of 2e6 points over [-60, 60]: 1.5e-7 (float32,
degree 7), 5.6e-16 (float64, degree 13). Each xorshift step depends on the previous
one of the same chain, but the chains are independent, so the loop over the chains
vectorises too (AVX2 has 64-bit shifts and xors; the multiply is emulated; the 53-bit
integer is converted to float64 as two exact 32-bit halves, :func:`_uniform`). Measured
on this machine (784x500, 100 chains, kernel alone, same process, loaded machine):
4.7-5.9 ns per unit update in float32 and 6.4 in float64, against 7.3-7.8 and 9.8-10
for the previous kernel that advanced four chains side by side in scalar code. Running the step with two Numba threads between the BLAS calls
was measured too: 5-10x slower per sweep (the OpenBLAS and OpenMP pools fight), so it
stays serial.

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

__all__ = ["sample_layer", "layer_margins", "sigmoid_row"]

# xorshift64*, exactly as rng.next_uniform (advanced for all chains in one vectorised loop).
_MULTIPLIER = np.uint64(0x2545F4914F6CDD1D)
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53
_LOW_MASK = np.uint64(0xFFFFFFFF)
_EXP_52 = np.uint64(0x4330000000000000)  # bits of 2**52: OR-ing k < 2**52 into the mantissa gives 2**52 + k
_EXP_84 = np.uint64(0x4530000000000000)  # bits of 2**84: likewise 2**84 + k * 2**32
_TWO_52 = 4503599627370496.0
_TWO_84 = 19342813113834066795298816.0

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
    """``rng.next_uniform``'s value for the state ``x``, in operations that vectorise.

    ``v = (x * M) >> 11 < 2**53`` is converted to float64 as its high and low 32-bit
    halves (each by the exact 2**52 / 2**84 exponent trick): AVX2 has no 64-bit
    integer to float conversion, and the sum of the two halves is exact.
    """
    v = (x * _MULTIPLIER) >> np.uint64(11)
    low = np.uint64((v & _LOW_MASK) | _EXP_52).view(np.float64) - _TWO_52
    high = np.uint64((v >> np.uint64(32)) | _EXP_84).view(np.float64) - _TWO_84
    return (high + low) * _TO_UNIT


@njit(cache=True, nogil=True)
def _exact_probability(bias, rows, other, c, j):
    """sigmoid(bias[j] + sum_k rows[j, k] * other[k, c]) in float64, in a fixed order.

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
        s0 += np.float64(rows[j, k]) * np.float64(other[k, c])
        s1 += np.float64(rows[j, k + 1]) * np.float64(other[k + 1, c])
        s2 += np.float64(rows[j, k + 2]) * np.float64(other[k + 2, c])
        s3 += np.float64(rows[j, k + 3]) * np.float64(other[k + 3, c])
        k += 4
    while k < n:
        s0 += np.float64(rows[j, k]) * np.float64(other[k, c])
        k += 1
    a = ((s0 + s1) + (s2 + s3)) + np.float64(bias[j])
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


@njit(cache=True, nogil=True, inline="always")
def _limit(p, slope, floor):
    """Bound on |p_hat - p_exact| for a fast probability p (see layer_margins)."""
    return slope * (p * (1.0 - p) + floor) + floor


@njit(cache=True, nogil=True, error_model="numpy")
def _sigmoid_shifted(pre, shift, out):
    """``out[c] = sigmoid(pre[c] + shift)`` for a scalar ``shift`` (a vectorised loop)."""
    for c in range(pre.shape[0]):
        out[c] = _sigmoid(pre[c] + shift)


@njit(cache=True, nogil=True, error_model="numpy")
def _draw_row(probs, slope, floor, streams, uniforms, out):
    """Advance every chain's stream, ``out[c] = [u_c < probs[c]]``; the count of close calls.

    A branch-free loop over independent chains: LLVM vectorises it. (Kept a separate,
    small function on 1-d arrays: written inline in :func:`sample_layer`, measured 2x slower.)
    """
    close = 0
    for c in range(probs.shape[0]):
        x = _step(streams[c])
        streams[c] = x
        u = _uniform(x)
        uniforms[c] = u
        p = np.float64(probs[c])
        out[c] = 1.0 if u < p else 0.0
        close += 1 if abs(u - p) <= _limit(p, slope, floor) else 0
    return close


@njit(cache=True, nogil=True, error_model="numpy")
def _skip_row(streams):
    """Advance every chain's stream by one draw (a clamped unit)."""
    for c in range(streams.shape[0]):
        streams[c] = _step(streams[c])


@njit(cache=True, nogil=True, error_model="numpy")
def _record_row(out, states, record, column):
    """``states[c, record, column] = out[c]`` as uint8."""
    for c in range(out.shape[0]):
        states[c, record, column] = np.uint8(out[c] != 0)


# Chains per block of the fused step: a block's rows of scratch and its lines of ``states``
# stay in cache while all the block's units are updated.
_BLOCK = 256
# Below this many chains, loop over the units of one chain at a time instead (the sigmoid
# then vectorises over the units; a loop over so few chains would be all overhead).
_FEW = 4


@njit(cache=True, nogil=True, error_model="numpy")
def sample_layer(pre, bias, slope, floor, rows, other, clamped, streams, out, states, record, offset, probs,
                 uniforms):
    """Sample one layer of every chain given the other layer, in place (chain-minor layout).

    All state arrays hold one row per unit and one column per chain, so the work for a
    unit is a contiguous, branch-free loop over the chains that LLVM vectorises (each
    chain's stream still gives its draws in unit order, one per unit: the streams are
    independent). Chains are processed in blocks of ``_BLOCK``; with fewer than ``_FEW``
    chains, one chain at a time (same draws, same results).

    Parameters
    ----------
    pre : float32 or float64 array, shape (m, n_chains)
        ``W_layer.T @ other`` from BLAS, without the bias.
    bias : array of the same dtype, shape (m,)
    slope : float64 array, shape (m,)
    floor : float
        The bound on ``|p_hat - p_exact|`` is ``slope[j] * (p_hat (1 - p_hat) + floor) + floor``
        (:func:`layer_margins`).
    rows : array of the same dtype, shape (m, k), C-contiguous
        ``rows[j]`` holds the weights into unit ``j`` (the same values as used by BLAS).
    other : array of the same dtype, shape (k, n_chains)
        The other layer's 0/1 states (the right operand of ``pre``).
    clamped : uint8 array, shape (m,)
        1 for units whose value in ``out`` is kept (a draw is still consumed).
    streams : uint64 array, shape (n_chains,)
        One xorshift64* state per chain, advanced by m draws.
    out : array of the same dtype, shape (m, n_chains)
        The layer's states, overwritten (except clamped units).
    states, record, offset
        When ``record >= 0``, also ``states[c, record, offset + j] = out[j, c]`` (uint8).
    probs : array of the same dtype, shape (max(n_chains, m),)
    uniforms : float64 array, shape (n_chains,)
        Scratch.
    """
    m, n = pre.shape
    if n < _FEW:
        for c in range(n):
            for j in range(m):
                probs[j] = _sigmoid(pre[j, c] + bias[j])
            x = streams[c]
            for j in range(m):
                x = _step(x)
                if clamped[j] == 0:
                    u = _uniform(x)
                    p = np.float64(probs[j])
                    d = 1.0 if u < p else 0.0
                    if abs(u - p) <= _limit(p, slope[j], floor):  # rare: too close to call with the fast p
                        d = 1.0 if u < _exact_probability(bias, rows, other, c, j) else 0.0
                    out[j, c] = d
                if record >= 0:
                    states[c, record, offset + j] = np.uint8(out[j, c] != 0)
            streams[c] = x
        return
    for c0 in range(0, n, _BLOCK):
        c1 = min(c0 + _BLOCK, n)
        block_streams = streams[c0:c1]
        block_probs = probs[c0:c1]
        block_uniforms = uniforms[c0:c1]
        block_states = states[c0:c1]
        for j in range(m):
            row = out[j, c0:c1]
            if clamped[j] != 0:
                _skip_row(block_streams)
            else:
                _sigmoid_shifted(pre[j, c0:c1], bias[j], block_probs)
                sj = slope[j]
                if _draw_row(block_probs, sj, floor, block_streams, block_uniforms, row) > 0:
                    # Rare: draws too close to call with the fast p; decide them exactly.
                    for c in range(c0, c1):
                        u = uniforms[c]
                        p = np.float64(probs[c])
                        if abs(u - p) <= _limit(p, sj, floor):
                            out[j, c] = 1.0 if u < _exact_probability(bias, rows, other, c, j) else 0.0
            if record >= 0:
                _record_row(row, block_states, record, offset + j)


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
