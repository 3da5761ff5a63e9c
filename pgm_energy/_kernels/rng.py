"""Random numbers inside kernels that do not depend on thread scheduling.

Generators far cheaper than ``np.random`` inside Numba:

- *streams*: one xorshift64* state per chain (``uint64`` array), advanced in
  place by :func:`next_uniform`. A chain's draws depend only on its own seed.
- *counters*: :func:`counter_bits` hashes ``(key, counter)`` with the
  SplitMix64 finaliser, so the bits for a given counter are fixed whichever
  thread asks for them;
- *block streams*: :func:`block_stream` starts a xorshift64* stream at the hash of
  ``(key, counter)``, for a block of draws taken in a fixed order: where one chain's
  units are updated in parallel blocks, a hash per block instead of one per draw.

Seeds come from a ``numpy.random.Generator`` with :func:`seed_streams`.
"""

import numpy as np
from numba import njit

__all__ = [
    "seed_streams",
    "next_uniform",
    "xorshift_step",
    "xorshift_bits",
    "counter_bits",
    "bits_uniform",
    "block_stream",
]

_XORSHIFT_MULTIPLIER = np.uint64(0x2545F4914F6CDD1D)
_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT_INTERVAL = 1.0 / 9007199254740992.0  # 2**-53


def seed_streams(generator: np.random.Generator, n_streams: int) -> np.ndarray:
    """Non-zero uint64 seeds, one per stream, drawn from ``generator``.

    Returns
    -------
    ndarray of uint64, shape (n_streams,)
    """
    return generator.integers(1, np.iinfo(np.uint64).max, size=n_streams, dtype=np.uint64, endpoint=True)


@njit(cache=True, nogil=True, inline="always")
def next_uniform(streams, index):
    """Advance ``streams[index]`` (xorshift64*) and return a float64 uniform in [0, 1)."""
    x = streams[index]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    streams[index] = x
    return np.float64((x * _XORSHIFT_MULTIPLIER) >> np.uint64(11)) * _TO_UNIT_INTERVAL


@njit(cache=True, nogil=True, inline="always")
def xorshift_step(x):
    """The same generator as :func:`next_uniform` on a state held in a local variable.

    Returns ``(new_state, uniform)``; a kernel keeps the state in a register and writes
    it back once, instead of a load and store per draw.
    """
    x, bits = xorshift_bits(x)
    return x, bits_uniform(bits)


@njit(cache=True, nogil=True, inline="always")
def xorshift_bits(x):
    """One step of :func:`xorshift_step` returning ``(new_state, bits)`` instead of the uniform.

    ``bits_uniform(bits)`` is the uniform :func:`xorshift_step` returns; the top bits of
    ``bits`` are the top bits of that uniform (a kernel can index a table with them
    without converting to float).
    """
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    return x, x * _XORSHIFT_MULTIPLIER


@njit(cache=True, nogil=True, inline="always")
def bits_uniform(bits):
    """The float64 uniform in [0, 1) of 64 random ``bits``: their top 53 bits times ``2**-53``."""
    return np.float64(bits >> np.uint64(11)) * _TO_UNIT_INTERVAL


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
