"""Random numbers inside kernels that do not depend on thread scheduling: the one home of the generator.

Every kernel of the package draws from the definitions here:

- *streams*: one xorshift64* state per chain (``uint64``), advanced by
  :func:`xorshift_next`. A chain's draws depend only on its own seed. The output
  of a step is ``x * M`` (:func:`xorshift_bits`); its top 53 bits make the float64
  uniform (:func:`bits_uniform`, :func:`next_uniform`, :func:`xorshift_step`,
  :func:`state_uniform`), or two disjoint 24-bit fields make two float32 uniforms
  (:func:`uniform_pair32`).
- *counters*: :func:`counter_bits` hashes ``(key, counter)`` with the
  SplitMix64 finaliser, so the bits for a given counter are fixed whichever
  thread asks for them;
- *block streams*: :func:`block_stream` starts a xorshift64* stream at the hash of
  ``(key, counter)``, for a block of draws taken in a fixed order: where one chain's
  units are updated in parallel blocks, a hash per block instead of one per draw.
- *Bernoulli draws*: :func:`bernoulli` (a step of a stream and ``u < p``) and
  :func:`bernoulli_log_odds` (``u < sigmoid(log_odds)`` for a given uniform).
- *rows of draws*: :func:`uniforms` (one per stream), :func:`fill_uniforms` and
  :func:`fill_normals` (a row of uniforms or standard normals per stream, the normals by
  Marsaglia's polar method), for NumPy code that needs each row's numbers from that row's stream.

Seeds come from a ``numpy.random.Generator`` with :func:`seed_streams`.
"""

import numpy as np
from numba import njit

__all__ = [
    "seed_streams",
    "xorshift_next",
    "xorshift_bits",
    "bits_uniform",
    "state_uniform",
    "xorshift_step",
    "next_uniform",
    "uniforms",
    "fill_uniforms",
    "fill_normals",
    "uniform_pair32",
    "bernoulli",
    "bernoulli_log_odds",
    "counter_bits",
    "block_stream",
]

_XORSHIFT_MULTIPLIER = np.uint64(0x2545F4914F6CDD1D)
_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT_INTERVAL = 1.0 / 9007199254740992.0  # 2**-53
# state_uniform: the 53-bit integer converted as two exact 32-bit halves (see there)
_LOW_MASK = np.uint64(0xFFFFFFFF)
_EXP_52 = np.uint64(0x4330000000000000)  # bits of 2**52: OR-ing k < 2**52 into the mantissa gives 2**52 + k
_EXP_84 = np.uint64(0x4530000000000000)  # bits of 2**84: likewise 2**84 + k * 2**32
_TWO_52 = 4503599627370496.0
_TWO_84 = 19342813113834066795298816.0
# uniform_pair32: two 24-bit fields of one output (bits 40-63 and 16-39), scaled by 2**-24
_SHIFT_FIRST = np.uint64(40)
_SHIFT_SECOND = np.uint64(16)
_MASK_24 = np.uint64(0xFFFFFF)
_TO_UNIT_24 = np.float32(2.0**-24)


def seed_streams(generator: np.random.Generator, n_streams: int) -> np.ndarray:
    """Non-zero uint64 seeds, one per stream, drawn from ``generator``.

    Returns
    -------
    ndarray of uint64, shape (n_streams,)
    """
    return generator.integers(1, np.iinfo(np.uint64).max, size=n_streams, dtype=np.uint64, endpoint=True)


@njit(cache=True, nogil=True, inline="always")
def xorshift_next(x):
    """One xorshift64 step of the state ``x`` (uint64, never 0): the new state.

    Every generator here is this step; its output is ``new_state * M`` (:func:`xorshift_bits`).
    """
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    return x


@njit(cache=True, nogil=True, inline="always")
def xorshift_bits(x):
    """One step returning ``(new_state, bits)``, ``bits`` the 64-bit output of xorshift64*.

    ``bits_uniform(bits)`` is the uniform :func:`xorshift_step` returns; the top bits of
    ``bits`` are the top bits of that uniform (a kernel can index a table with them
    without converting to float).
    """
    x = xorshift_next(x)
    return x, x * _XORSHIFT_MULTIPLIER


@njit(cache=True, nogil=True, inline="always")
def bits_uniform(bits):
    """The float64 uniform in [0, 1) of 64 random ``bits``: their top 53 bits times ``2**-53``.

    The 53-bit integer is converted through int64 (exact below 2**53): one instruction,
    where the uint64 conversion may need a branchy sequence.
    """
    return np.float64(np.int64(bits >> np.uint64(11))) * _TO_UNIT_INTERVAL


@njit(cache=True, nogil=True, inline="always")
def state_uniform(x):
    """The uniform of the step that produced the state ``x``, in operations that vectorise.

    Equal to ``bits_uniform(x * M)``. The 53-bit integer ``v = (x * M) >> 11`` is
    converted to float64 as its high and low 32-bit halves (each by the exact
    2**52 / 2**84 exponent trick): AVX2 has no vector 64-bit integer to float
    conversion, and the sum of the two halves is exact. For loops over independent
    chains that LLVM vectorises; elsewhere :func:`bits_uniform` is cheaper.
    """
    v = (x * _XORSHIFT_MULTIPLIER) >> np.uint64(11)
    low = np.uint64((v & _LOW_MASK) | _EXP_52).view(np.float64) - _TWO_52
    high = np.uint64((v >> np.uint64(32)) | _EXP_84).view(np.float64) - _TWO_84
    return (high + low) * _TO_UNIT_INTERVAL


@njit(cache=True, nogil=True, inline="always")
def xorshift_step(x):
    """One step of a state held in a local variable: ``(new_state, uniform)``.

    A kernel keeps the state in a register and writes it back once, instead of a load
    and store per draw (:func:`next_uniform`).
    """
    x, bits = xorshift_bits(x)
    return x, bits_uniform(bits)


@njit(cache=True, nogil=True, inline="always")
def next_uniform(streams, index):
    """Advance ``streams[index]`` and return its float64 uniform in [0, 1) (:func:`xorshift_step`)."""
    x, u = xorshift_step(streams[index])
    streams[index] = x
    return u


@njit(cache=True, nogil=True)
def uniforms(streams):
    """One float64 uniform in [0, 1) from each stream of ``streams`` (uint64, advanced in place): shape (n,)."""
    out = np.empty(streams.shape[0])
    for index in range(streams.shape[0]):
        out[index] = next_uniform(streams, index)
    return out


@njit(cache=True, nogil=True)
def fill_uniforms(streams, out):
    """Row ``i`` of ``out`` (float64, shape (n, k)) from stream ``i`` of ``streams`` (uint64, advanced in place)."""
    for row in range(out.shape[0]):
        x = streams[row]
        for column in range(out.shape[1]):
            x, out[row, column] = xorshift_step(x)
        streams[row] = x


@njit(cache=True, nogil=True)
def fill_normals(streams, out):
    """Row ``i`` of ``out`` (float64, shape (n, k)): standard normals from stream ``i`` (advanced in place).

    Marsaglia's polar method: a pair of uniforms mapped to ``(a, b)`` in (-1, 1)^2 is redrawn
    until ``0 < s = a^2 + b^2 < 1``, then gives ``a f`` and ``b f`` with ``f = sqrt(-2 log(s) / s)``
    (one logarithm per pair, no trigonometry: faster here than NumPy's ziggurat). An odd last
    column keeps the first of its pair.
    """
    for row in range(out.shape[0]):
        x = streams[row]
        for column in range(0, out.shape[1], 2):
            while True:
                x, first = xorshift_step(x)
                x, second = xorshift_step(x)
                first = 2.0 * first - 1.0
                second = 2.0 * second - 1.0
                radius = first * first + second * second
                if 0.0 < radius < 1.0:
                    break
            factor = np.sqrt(-2.0 * np.log(radius) / radius)
            out[row, column] = first * factor
            if column + 1 < out.shape[1]:
                out[row, column + 1] = second * factor
        streams[row] = x


@njit(cache=True, nogil=True, inline="always")
def uniform_pair32(x):
    """Two float32 uniforms ``k / 2**24`` from the output ``y = x * M`` of the step that produced the state ``x``.

    The first takes bits 40-63 of ``y``, the second bits 16-39: disjoint fields, well
    above the lowest bits, which are the only ones with (mild) linear artifacts
    (https://xoshiro.di.unimi.it/xorshift.php). Both are exact in float32 (24-bit
    integers) and convert through int32, which vectorises.
    """
    y = x * _XORSHIFT_MULTIPLIER
    first = np.float32(np.int32(y >> _SHIFT_FIRST)) * _TO_UNIT_24
    second = np.float32(np.int32((y >> _SHIFT_SECOND) & _MASK_24)) * _TO_UNIT_24
    return first, second


@njit(cache=True, nogil=True, inline="always")
def bernoulli(x, p):
    """A Bernoulli(``p``) draw from the stream state ``x``: ``(new_state, u < p)``, ``u`` of :func:`xorshift_step`."""
    x, u = xorshift_step(x)
    return x, u < p


@njit(cache=True, nogil=True, inline="always")
def bernoulli_log_odds(log_odds, u):
    """1 (uint8) with probability ``sigmoid(log_odds)`` given a uniform ``u``, else 0.

    The decision of ``u < sigmoid(log_odds)`` taken as ``u (1 + exp(-x)) < 1`` or
    ``u (1 + e) < e`` with ``e = exp(x)``: exp only of ``-|log_odds|``, never overflowing.
    """
    if log_odds >= 0.0:
        return np.uint8(u * (1.0 + np.exp(-log_odds)) < 1.0)
    e = np.exp(log_odds)
    return np.uint8(u * (1.0 + e) < e)


@njit(cache=True, nogil=True, inline="always")
def counter_bits(key, counter):
    """64 random bits determined by ``(key, counter)`` alone (SplitMix64 hash); ``bits_uniform`` of them is a uniform."""
    z = key + (np.uint64(counter) + np.uint64(1)) * _GOLDEN_GAMMA
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    z ^= z >> np.uint64(31)
    return z


@njit(cache=True, nogil=True, inline="always")
def block_stream(key, counter):
    """A xorshift64* state for the block of draws named by ``(key, counter)``: :func:`counter_bits`, never zero.

    Draw from it with :func:`xorshift_bits`. The hash spreads neighbouring counters over
    the whole state space, so the blocks' streams are as independent as separately seeded ones.
    """
    return counter_bits(key, counter) | np.uint64(1)
