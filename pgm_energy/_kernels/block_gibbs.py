"""The fused sigmoid-and-sample step of RBM block Gibbs sampling.

Layout: chain-minor. Every state buffer has one row per unit and one column per chain
(shape (units, n_columns), ``n_columns >= n_chains``: the caller may pad with zero
columns that give BLAS a better shape). The caller computes the products of one layer
with BLAS, ``pre = W_layer.T @ other`` (weights already divided by the temperature; the
same GEMM cost as the chain-major product, measured), and :func:`layer_sampler` does the
rest in contiguous, vectorised loops over the chains, a chunk of 16 units at a time:
add the bias and take the logistic sigmoid in place (one pass), then draw and compare
(a second pass, reading the probabilities back from L1), then write the chunk's 0/1
states in the dtype of the buffers (float32 or float64), so the next product uses them
directly; when the sweep is recorded, a transposing pass copies the layer into the
uint8 ``states`` (eight units packed into one 8-byte store per chain).

Random streams. One xorshift64* stream per chain (:mod:`pgm_energy._kernels.rng`); a
chain uses its draws in unit order, so its states do not depend on the other chains.

* float64: one step per unit, the 53-bit uniform of ``rng.next_uniform`` (unchanged
  from earlier versions: the same ``rng`` gives the same float64 samples).
* float32: one step per *pair* of units (0 and 1, 2 and 3, ...; an odd last unit uses
  the first half of its own step): the two uniforms ``k / 2**24`` are bits 40-63 and
  16-39 of the output ``x * M``, disjoint fields above the lowest bits, the only ones
  with (mild) linear artifacts (https://xoshiro.di.unimi.it/xorshift.php). This halves
  the 64-bit multiplies, which AVX2 emulates. A 24-bit uniform rounds every conditional
  probability ``p`` up to a multiple of ``2**-24``: ``P(s = 1) = ceil(p 2**24) / 2**24``,
  at most 6e-8 above ``p``, the size of float32's own rounding of ``p`` near 1/2 and far
  below what any Monte Carlo estimate resolves. (This changed the float32 stream; the
  earlier kernel drew one 53-bit uniform per unit in float32 too.)

Speed. Numba has no vectorised ``exp`` (no SVML), so the sigmoid is branch-free code
that LLVM vectorises (``error_model="numpy"`` removes the division check that would
block it; no fastmath): float32 ``2**t`` with a degree-6 fitted polynomial, float64 a
Cody-Waite reduction and a degree-13 Taylor polynomial, both in Estrin's scheme (short
dependency chains, so the vectorised loop is not latency-bound as with Horner's). Maximum
errors on a grid of 2e6 points over [-60, 60]: absolute 9.3e-8 (float32), relative
5.1e-16 (float64). Each xorshift step depends on the previous one of the same chain, but
the chains are independent, so the loop over the chains vectorises too (float64 converts
the 53-bit integer as two exact 32-bit halves, :func:`.rng.state_uniform`; float32
converts 24-bit fields through int32). The step runs serially between the BLAS calls:
Numba threads there would fight the BLAS thread pool.

Thread-count independence. BLAS products are not bitwise reproducible across BLAS
thread counts (nor even across row blockings, in float32 and float64). The sampled state is therefore *defined* as

    s = [u < sigmoid(a)],  a = bias_j + sum_k w_jk x_k  summed in float64 in a fixed order,

and computed cheaply: the fast probability ``p_hat`` (from the BLAS product) is within
``limit[j]`` of ``sigmoid(a)`` (a rigorous bound, see :func:`layer_margins`), so when
``|u - p_hat| > limit[j]`` the comparison with ``p_hat`` gives the same answer; only the
rare draws closer than that (about ``2 * limit`` of them: 1e-4 to 1e-3 of the float32
updates of a 784x500 RBM with weights of scale 0.05, ~1e-13 in float64) recompute ``a``
exactly. The uniforms are not stored: the rare exact decisions recompute them from the
streams' new states. The states therefore depend on the streams, the parameters (in the
buffer dtype) and the other layer only, never on the BLAS or Numba thread count. The
kernel is serial (no ``parallel=True``), so it can alternate with multi-threaded BLAS
without the two thread pools fighting.

Clamped units (evidence) keep their value in ``out``; their draws are still made (and
thrown away), so a chain's stream advances by the same amount per layer update
whatever the evidence.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.extending import overload

from .rng import state_uniform, uniform_pair32, xorshift_next

__all__ = ["Layer", "layer_sampler", "layer_margins", "layer_scratch", "summation_error_bound", "sigmoid_row"]

_LOG2E = 1.4426950408889634
# Cody-Waite split of ln 2: n * _LN2_HI is exact for the |n| that occur here.
_LN2_HI_64 = 6.93147180369123816490e-01
_LN2_LO_64 = 1.90821492927058770002e-10
_LOG2E_32 = np.float32(_LOG2E)
# 2**f ~ sum_k _EXP2_32[k] f**k on [-1/2, 1/2]: a least-squares fit of the relative error with
# Lawson's reweighting (near-minimax), rounded to float32; max relative error 1.6e-8.
_EXP2_32 = (
    np.float32(1.0),
    np.float32(0.6931471824645996),
    np.float32(0.24022646248340607),
    np.float32(0.05550328642129898),
    np.float32(0.009618489071726799),
    np.float32(0.0013399930903688073),
    np.float32(0.00015345810970757157),
)
# Adding 1.5 * 2**52 (2**23) rounds to an integer held in the low mantissa bits.
_ROUND_64 = 6755399441055744.0
_ROUND_64_BITS = np.int64(0x4338000000000000)
_ROUND_32 = np.float32(12582912.0)
_ROUND_32_BITS = np.int32(0x4B400000)
# |x| is capped before exp: sigmoid(-700) < 1e-304, sigmoid(-80) < 2e-35; the cap
# changes p by less than that and keeps 2**n a normal number.
_CAP_64 = 700.0
_CAP_32 = np.float32(80.0)

# Bounds on |p_hat - sigmoid(a_hat)| (absolute, p <= 1) for the polynomial sigmoids, generous
# against the measured maxima on a grid of 2e6 points over [-60, 60]: 9.3e-8 (float32) and
# 2.3e-16 (float64; relative 5.1e-16).
SIGMOID_ERROR = {np.dtype(np.float32): 2.0**-19, np.dtype(np.float64): 2.0**-47}


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _sigmoid64(a):
    x = min(max(-a, -_CAP_64), _CAP_64)
    t = x * _LOG2E + _ROUND_64
    n = t - _ROUND_64
    r = (x - n * _LN2_HI_64) - n * _LN2_LO_64  # |r| <= ln(2) / 2
    # Taylor polynomial of degree 13 in Estrin's scheme (short dependency chains: measured
    # faster than Horner's in the vectorised loops).
    r2 = r * r
    r4 = r2 * r2
    low = (1.0 + r) + r2 * (1.0 / 2.0 + r * (1.0 / 6.0)) + r4 * ((1.0 / 24.0 + r * (1.0 / 120.0))
                                                                  + r2 * (1.0 / 720.0 + r * (1.0 / 5040.0)))
    high = ((1.0 / 40320.0 + r * (1.0 / 362880.0)) + r2 * (1.0 / 3628800.0 + r * (1.0 / 39916800.0))) + r4 * (
        1.0 / 479001600.0 + r * (1.0 / 6227020800.0))
    q = low + (r4 * r4) * high
    bits = (np.float64(t).view(np.int64) - _ROUND_64_BITS + np.int64(1023)) << np.int64(52)
    return 1.0 / (1.0 + q * np.int64(bits).view(np.float64))


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _sigmoid32(a):
    """``1 / (1 + 2**t)``, ``t = -a log2(e)``: ``2**t = 2**n 2**f`` with ``n = round(t)``, ``|f| <= 1/2``.

    ``2**f`` is a degree-6 polynomial (coefficients ``_EXP2_32``, a relative-error fit on
    [-1/2, 1/2], 1.6e-8) evaluated in Estrin's scheme: a short dependency chain, so the
    vectorised loop is not latency-bound as a Horner chain was (measured 1.6x faster than the
    degree-8 Taylor-Horner version with Cody-Waite reduction). Rounding ``t`` perturbs ``a`` by
    a relative 2**-23, which changes ``p`` by at most ``p (1 - p) |a| 2**-23 < 3e-8``.
    """
    x = min(max(-a, -_CAP_32), _CAP_32)
    t = x * _LOG2E_32 + _ROUND_32
    f = x * _LOG2E_32 - (t - _ROUND_32)
    f2 = f * f
    q = ((_EXP2_32[0] + _EXP2_32[1] * f) + f2 * (_EXP2_32[2] + _EXP2_32[3] * f)) + (f2 * f2) * (
        (_EXP2_32[4] + _EXP2_32[5] * f) + f2 * _EXP2_32[6])
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


# The per-unit helpers below take whole 2-d arrays, a row index and unsigned chain bounds
# ``c0 <= c < c1`` rather than 1-d row views: a view per row and call (with its reference
# counting) cost 5-20% of the step (measured: 4 chains 10.3 -> 8.4 ns per unit update,
# 100 chains 1.76 -> 1.69). The bounds must be unsigned (np.uint64): with signed indices
# Numba emits negative-index wraparound code and LLVM does not vectorise the loops.


@njit(cache=True, nogil=True, error_model="numpy")
def _sigmoid_rows(pre, bias, first, last, c0, c1):
    """``pre[j, c] = sigmoid(pre[j, c] + bias[j])`` for ``first <= j < last``, ``c0 <= c < c1``.

    Vectorised loops over the chains (kept apart from the draws: fused into one loop,
    measured slower).
    """
    for j in range(first, last):
        shift = bias[j]
        for c in range(c0, c1):
            pre[j, c] = _sigmoid(pre[j, c] + shift)


@njit(cache=True, nogil=True, error_model="numpy")
def _draw_row64(probs, limit, streams, out, j, c0, c1):
    """Unit ``j``, float64: advance the streams of chains ``c0 <= c < c1``, ``out[j, c] = [u_c < probs[j, c]]``;
    whether any draw was a close call.

    A branch-free loop over independent chains, so LLVM vectorises it; the uniforms are not
    stored (:func:`_uniforms64` recomputes them from the new states for the rare close calls).
    """
    close = False
    for c in range(c0, c1):
        x = xorshift_next(streams[c])
        streams[c] = x
        u = state_uniform(x)
        p = probs[j, c]
        out[j, c] = 1.0 if u < p else 0.0
        close |= abs(u - p) <= limit
    return close


@njit(cache=True, nogil=True, error_model="numpy")
def _uniforms64(streams, uniforms, c0, c1):
    """The uniform of the latest step of chains ``c0 <= c < c1`` (recomputed from the new states)."""
    for c in range(c0, c1):
        uniforms[0, c] = state_uniform(streams[c])


@njit(cache=True, nogil=True, error_model="numpy")
def _draw_pair32(probs, j_a, j_b, target_a, target_b, streams, c0, c1):
    """Units ``j_a`` and ``j_b``, float32, from one step of each chain's stream; whether any draw
    was a close call.

    ``target_a = (out_a, row_a, limit_a)``: ``out_a[row_a, c] = [u_a < probs[j_a, c]]``, a
    close call when ``|u_a - probs[j_a, c]| <= limit_a``; likewise for b (the output row is a
    scratch row for a clamped unit), with ``(u_a, u_b)`` from one xorshift64* step
    (:func:`.rng.uniform_pair32`): half the 64-bit multiplies, which AVX2 emulates. A
    branch-free loop over independent chains that LLVM vectorises; the uniforms are not
    stored (:func:`_pair_uniforms32` recomputes them from the new states).
    """
    out_a, row_a, limit_a = target_a
    out_b, row_b, limit_b = target_b
    close = False
    for c in range(c0, c1):
        x = xorshift_next(streams[c])
        streams[c] = x
        u_a, u_b = uniform_pair32(x)
        p_a = probs[j_a, c]
        p_b = probs[j_b, c]
        out_a[row_a, c] = np.float32(1.0) if u_a < p_a else np.float32(0.0)
        out_b[row_b, c] = np.float32(1.0) if u_b < p_b else np.float32(0.0)
        close |= (abs(u_a - p_a) <= limit_a) | (abs(u_b - p_b) <= limit_b)
    return close


@njit(cache=True, nogil=True, error_model="numpy")
def _pair_uniforms32(streams, uniforms, c0, c1):
    """The two uniforms of the latest step of chains ``c0 <= c < c1``, in ``uniforms[0]`` and ``uniforms[1]``."""
    for c in range(c0, c1):
        uniforms[0, c], uniforms[1, c] = uniform_pair32(streams[c])


@njit(cache=True, nogil=True, error_model="numpy")
def _settle_row(probs, limit, uniforms, rows, bias, other, out, j, c0, c1):
    """Decide exactly the draws of unit ``j`` too close to call with ``probs[j]``.

    Rare. ``uniforms[c]`` is chain ``c``'s draw. The test uses three times the limit of
    the vectorised pass, so that it would catch every draw that pass flagged even if the
    scalar and vector arithmetic differed in the last bit (they do not: same operations,
    no fastmath); extra exact decisions are harmless.
    """
    wide = 3.0 * np.float64(limit)
    for c in range(c0, c1):
        u = np.float64(uniforms[c])
        if abs(u - np.float64(probs[j, c])) <= wide:
            out[j, c] = 1.0 if u < _exact_probability(bias, rows, other, c, j) else 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _skip_row(streams, c0, c1):
    """Advance the streams of chains ``c0 <= c < c1`` by one step (a clamped unit)."""
    for c in range(c0, c1):
        streams[c] = xorshift_next(streams[c])


_BYTE = np.uint64(0xFF)


@njit(cache=True, nogil=True, error_model="numpy")
def _record_block(out, c0, c1, states, record, offset, words):
    """``states[c, record, offset + j] = out[j, c]`` (uint8) for every unit ``j`` and ``c0 <= c < c1``.

    A transpose. Eight units at a time: a vectorised loop over the chains packs their
    eight 0/1 values into one little-endian word per chain (``words``), then a loop over
    the chains writes each word's eight bytes to consecutive addresses, which LLVM merges
    into one 8-byte store. Measured 3-4x faster than storing one byte per unit and chain.
    """
    m = out.shape[0]
    j = 0
    while j + 8 <= m:
        for c in range(c0, c1):
            word = np.uint64(0)
            for k in range(8):
                word |= np.uint64(out[j + k, c] != 0) << np.uint64(8 * k)
            words[c - c0] = word
        # unsigned indices: no negative-index wraparound code, which would keep LLVM from
        # merging the eight byte stores into one
        first = np.uint64(offset + j)
        for c in range(c0, c1):
            word = words[c - c0]
            line = states[c, record]
            for k in range(8):
                line[first + np.uint64(k)] = np.uint8((word >> np.uint64(8 * k)) & _BYTE)
        j += 8
    for k in range(j, m):
        for c in range(c0, c1):
            states[c, record, offset + k] = np.uint8(out[k, c] != 0)


class Layer(NamedTuple):
    """The arrays of one layer's update (all of one float dtype except ``clamped``).

    Attributes
    ----------
    pre : float32 or float64 array, shape (m, n_columns), n_columns >= n_chains
        ``W_layer.T @ other`` from BLAS, without the bias. Scratch: overwritten with the
        fast probabilities (when ``n_chains >= _FEW``). Columns past ``n_chains`` (padding
        that gives BLAS a better shape) are ignored, here and in ``other`` and ``out``.
    bias : array, shape (m,)
    limit : array, shape (m,)
        A draw ``u`` with ``|u - p_hat| > limit[j]`` is decided with the fast ``p_hat``,
        closer ones exactly (:func:`layer_margins`).
    rows : array, shape (m, k), C-contiguous
        ``rows[j]`` holds the weights into unit ``j`` (the same values as used by BLAS).
    other : array, shape (k, n_columns)
        The other layer's 0/1 states (the right operand of ``pre``).
    clamped : uint8 array, shape (m,)
        1 for units whose value in ``out`` is kept (their draws are still consumed).
    """

    pre: np.ndarray
    bias: np.ndarray
    limit: np.ndarray
    rows: np.ndarray
    other: np.ndarray
    clamped: np.ndarray


# Chains per block of the fused step: a block's rows of scratch and its lines of ``states``
# stay in cache while all the block's units are updated.
_BLOCK = 256
# Units per chunk of the step: the sigmoid pass over a chunk's rows, then the draws read them
# back from L1. Even, so that float32's pairs of units never straddle two chunks.
_CHUNK = 16
# Below this many chains, loop over the units of one chain at a time instead (the sigmoid
# then vectorises over the units; a loop over so few chains would be all overhead).
_FEW = 4


# The two kernels below take the fields of Layer and the recording target as plain arguments: they are
# called twice per sweep from Python, and Numba's dispatcher types tuple arguments in Python
# (about 2.2 us a call against 0.7 us for plain arrays), which cost small RBMs half their speed.
@njit(cache=True, nogil=True, error_model="numpy")
def _sample_layer64(pre, bias, limit, rows, other, clamped, streams, out, states, record, offset, scratch, words):
    """:func:`layer_sampler` in float64 (the fields of :class:`Layer`, then where to record and the scratch)."""
    m = pre.shape[0]
    n = streams.shape[0]  # the chains; buffers may have more (padding) columns, never touched
    probs = scratch[0]
    if n < _FEW:
        for c in range(n):
            for j in range(m):
                probs[j] = _sigmoid64(pre[j, c] + bias[j])
            x = streams[c]
            for j in range(m):
                x = xorshift_next(x)
                if clamped[j] == 0:
                    u = state_uniform(x)
                    p = probs[j]
                    d = 1.0 if u < p else 0.0
                    if abs(u - p) <= limit[j]:  # rare: too close to call with the fast p
                        d = 1.0 if u < _exact_probability(bias, rows, other, c, j) else 0.0
                    out[j, c] = d
                if record >= 0:
                    states[c, record, offset + j] = np.uint8(out[j, c] != 0)
            streams[c] = x
        return
    for block in range(0, n, _BLOCK):
        # unsigned chain bounds: the helpers' loops then need no negative-index wraparound,
        # without which LLVM does not vectorise them
        c0 = np.uint64(block)
        c1 = np.uint64(min(block + _BLOCK, n))
        for start in range(0, m, _CHUNK):
            stop = min(start + _CHUNK, m)
            _sigmoid_rows(pre, bias, start, stop, c0, c1)  # pre now holds p_hat
            for j in range(start, stop):
                if clamped[j] != 0:
                    _skip_row(streams, c0, c1)
                elif _draw_row64(pre, limit[j], streams, out, j, c0, c1):
                    _uniforms64(streams, scratch, c0, c1)
                    _settle_row(pre, limit[j], scratch[0], rows, bias, other, out, j, c0, c1)
        if record >= 0:
            _record_block(out, c0, c1, states, record, offset, words)


@njit(cache=True, nogil=True, error_model="numpy")
def _sample_layer32(pre, bias, limit, rows, other, clamped, streams, out, states, record, offset, scratch, words):
    """:func:`layer_sampler` in float32 (the fields of :class:`Layer`, then where to record and the scratch)."""
    m = pre.shape[0]
    n = streams.shape[0]  # the chains; buffers may have more (padding) columns, never touched
    if n < _FEW:
        probs = scratch[0]
        for c in range(n):
            for j in range(m):
                probs[j] = _sigmoid32(pre[j, c] + bias[j])
            x = streams[c]
            for j in range(0, m, 2):
                x = xorshift_next(x)
                u_pair = uniform_pair32(x)
                for k in range(j, min(j + 2, m)):
                    if clamped[k] == 0:
                        u = u_pair[k - j]
                        p = probs[k]
                        d = np.float32(1.0) if u < p else np.float32(0.0)
                        if abs(u - p) <= limit[k]:  # rare: too close to call with the fast p
                            exact = _exact_probability(bias, rows, other, c, k)
                            d = np.float32(1.0) if np.float64(u) < exact else np.float32(0.0)
                        out[k, c] = d
                    if record >= 0:
                        states[c, record, offset + k] = np.uint8(out[k, c] != 0)
            streams[c] = x
        return
    never = np.float32(-1.0)  # the limit of a clamped unit: never a close call
    for block in range(0, n, _BLOCK):
        c0 = np.uint64(block)  # unsigned: see _sample_layer64
        c1 = np.uint64(min(block + _BLOCK, n))
        for start in range(0, m, _CHUNK):
            stop = min(start + _CHUNK, m)
            _sigmoid_rows(pre, bias, start, stop, c0, c1)  # pre now holds p_hat
            for j in range(start, stop, 2):
                k = j + 1 if j + 1 < m else j  # an odd last unit is paired with itself, its second draw unused
                free_a = clamped[j] == 0
                free_b = k != j and clamped[k] == 0
                # a clamped unit's draw goes to scratch row 2 (its value in out is kept)
                target_a = (out, j, limit[j]) if free_a else (scratch, 2, never)
                target_b = (out, k, limit[k]) if free_b else (scratch, 2, never)
                if _draw_pair32(pre, j, k, target_a, target_b, streams, c0, c1):
                    _pair_uniforms32(streams, scratch, c0, c1)
                    if free_a:
                        _settle_row(pre, limit[j], scratch[0], rows, bias, other, out, j, c0, c1)
                    if free_b:
                        _settle_row(pre, limit[k], scratch[1], rows, bias, other, out, k, c0, c1)
        if record >= 0:
            _record_block(out, c0, c1, states, record, offset, words)


def layer_scratch(dtype, n_chains, n_units):
    """Scratch of :func:`layer_sampler` for layers of at most ``n_units`` units.

    Returns ``(floats, words)``: an array of ``dtype``, shape (3, max(n_chains, n_units))
    (indexed by chain, or by unit on the one-chain-at-a-time path), and a uint64 array,
    shape (min(n_chains, _BLOCK),).
    """
    return np.empty((3, max(n_chains, n_units)), dtype=dtype), np.empty(min(n_chains, _BLOCK), dtype=np.uint64)


def layer_sampler(layer, streams, out, states, offset, scratch):
    """A function ``draw(record)`` that samples one layer of every chain given the other layer, in place.

    The work is laid out chain-minor: every state array holds one row per unit and one column
    per chain, so the work for a unit (float64) or a pair of units (float32) is a contiguous,
    branch-free loop over the chains that LLVM vectorises (each chain's stream still gives its
    draws in unit order: the streams are independent). Chains are processed in blocks of
    ``_BLOCK``; with fewer than ``_FEW`` chains, one chain at a time (same draws, same results).
    The arguments are bound once, because ``draw`` runs twice per sweep from Python.

    Parameters
    ----------
    layer : Layer
        The layer's pre-activations, bias, margins, weight rows, the other layer and the clamped units.
    streams : uint64 array, shape (n_chains,)
        One xorshift64* state per chain, advanced by ``m`` steps (float64) or
        ``ceil(m / 2)`` steps (float32) at each draw.
    out : array of the dtype of ``layer``, shape (m, n_columns)
        The layer's states, overwritten (except clamped units and padding columns).
    states : uint8 array, shape (n_chains, n_draws, n_units)
        ``draw(record)`` with ``record >= 0`` also sets ``states[c, record, offset + j] = out[j, c]``.
    offset : int
        The layer's first unit in ``states``.
    scratch : tuple
        :func:`layer_scratch` for at least ``n_chains`` chains and ``m`` units.
    """
    kernel = _sample_layer32 if layer.pre.dtype == np.float32 else _sample_layer64
    before = (*layer, streams, out, states)
    after = (offset, *scratch)

    def draw(record: int) -> None:
        kernel(*before, record, *after)

    return draw


def layer_margins(rows, bias, dtype):
    """The tolerance of :func:`layer_sampler` for each unit of one layer: ``limit``, shape (m,).

    ``rows`` (shape (m, k)) and ``bias`` hold the parameters in the buffer ``dtype``.
    Let ``a*`` be the exact real value of ``bias_j + sum_k rows[j, k] x_k``. With
    ``L_j = sum_k |rows[j, k]| + |bias_j|``, any summation order (BLAS blocking, FMA)
    of these k + 1 terms has error at most ``gamma(k + 1) L_j``, ``gamma(n) = n u / (1 - n u)``,
    ``u`` the unit roundoff (Higham, *Accuracy and Stability of Numerical Algorithms*,
    2nd ed., sec. 3.1): ``u = 2**-24`` for the fast float32 value ``a_hat`` and
    ``2**-53`` for the exact path, so ``|a_hat - a_exact| <= D_j`` (the sum of both,
    :func:`summation_error_bound`). The sigmoid's slope is at most 1/4, so with ``eps`` the
    error of the fast sigmoid (``SIGMOID_ERROR``)

        |p_hat - sigmoid(a_exact)| <= D_j / 4 + eps + 2**-49,

    the last term covering the float64 sigmoid of the exact path. The returned limit is
    that bound raised by a relative ``2**-20`` and rounded up to ``dtype``, which covers
    the rounding of ``|u - p_hat|`` computed in ``dtype`` (relative error ``<= u``): when
    the computed difference exceeds the limit, the true one exceeds the bound, and then
    ``u < p_hat`` if and only if ``u < sigmoid(a_exact)``.
    """
    dtype = np.dtype(dtype)
    spread = summation_error_bound(rows, bias, dtype)
    bound = 0.25 * spread + SIGMOID_ERROR[dtype] + 2.0**-49
    limit = (bound * (1.0 + 2.0**-20)).astype(dtype)
    return np.nextafter(limit, np.inf, dtype=dtype)


def summation_error_bound(rows, bias, dtype):
    """``D_j``, a bound on ``|a_hat - a_exact|`` for unit ``j`` (see :func:`layer_margins`); float64, shape (m,)."""
    dtype = np.dtype(dtype)
    k = rows.shape[1] + 1
    unit = np.finfo(dtype).eps / 2.0
    gamma = k * unit / (1.0 - k * unit) + k * 2.0**-53 / (1.0 - k * 2.0**-53)
    size = np.abs(rows.astype(np.float64)).sum(axis=1) + np.abs(bias.astype(np.float64))
    return gamma * size * (1.0 + 1e-6)
