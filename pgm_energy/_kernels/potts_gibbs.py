"""Single-site heat-bath sweeps of Potts machines (categorical variables), chains in parallel.

The update of variable ``u`` draws its new state from ``p(a) ∝ exp(beta z_a)``, with the local
fields ``z_a = f_u(a) + sum_v C_uv(a, s_v)`` computed from the neighbour lists of
:mod:`.mixed_radix` (one stored coupling matrix read from both ends). One uniform per update,
from the chain's xorshift stream, is compared with the running sum of the unnormalised
probabilities (state order 0 .. k - 1), so the same ``rng`` gives the same states whatever the
number of threads. At ``beta = inf`` (annealing's last sweeps) the variable takes the state of
largest field, the lowest such index on ties: a deterministic descent, as the binary kernels'
Hopfield rule.

The weights ``exp(beta (z_a - max z))`` use :func:`.expo.exp_clamped` (a libm ``exp`` per state
cost most of an update): a weight below ``exp(-40) = 4.2e-18`` is raised to it, so a state that
improbable is drawn with probability at most ``4.2e-18`` per update instead of its own, smaller one.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .expo import exp_clamped
from .rng import xorshift_step

__all__ = ["PottsWeights", "run_potts_chains"]


class PottsWeights(NamedTuple):
    """A Potts machine's parameters for the kernels (all at T = 1; the sweeps multiply by ``beta``).

    Attributes
    ----------
    cardinalities : int64 array, shape (n,)
    fields : float64 array, shape (sum(k),); ``field_start`` int64 (n + 1,)
    adjacency_start : int64 array, shape (n + 1,)
    neighbour, block_start, stride_self, stride_other : int64 arrays, shape (2 * n_edges,)
    couplings : float64 array
    """

    cardinalities: np.ndarray
    fields: np.ndarray
    field_start: np.ndarray
    adjacency_start: np.ndarray
    neighbour: np.ndarray
    block_start: np.ndarray
    stride_self: np.ndarray
    stride_other: np.ndarray
    couplings: np.ndarray


@njit(cache=True, nogil=True, inline="always")
def _update(u, state, beta, x, z, cardinalities, fields, field_start, adjacency_start, neighbour, block_start,
            stride_self, stride_other, couplings):
    """Draw variable ``u`` of ``state`` from its conditional; returns the stream's new state."""
    k = cardinalities[u]
    first = field_start[u]
    for a in range(k):
        z[a] = fields[first + a]
    for t in range(adjacency_start[u], adjacency_start[u + 1]):
        base = block_start[t] + state[neighbour[t]] * stride_other[t]
        step = stride_self[t]
        for a in range(k):
            z[a] += couplings[base + a * step]
    top = z[0]
    best = 0
    for a in range(1, k):
        if z[a] > top:
            top, best = z[a], a
    if math.isinf(beta):
        state[u] = best
        return x
    total = 0.0
    for a in range(k):
        z[a] = exp_clamped(beta * (z[a] - top))
        total += z[a]
    x, r = xorshift_step(x)
    target = r * total
    chosen = k - 1  # rounding may leave the running sum a hair below the target at the end
    running = 0.0
    for a in range(k):
        running += z[a]
        if target < running:
            chosen = a
            break
    state[u] = chosen
    return x


@njit(cache=True, nogil=True, parallel=True)
def run_potts_chains(states, streams, free, betas, slots, out, weights):
    """Sweeps of every chain (in parallel): each sweep updates the ``free`` variables in order.

    Parameters
    ----------
    states : unsigned or signed integer array, shape (n_chains, n)
        Updated in place (continue with another call).
    streams : uint64 array, shape (n_chains,)
        One xorshift stream per chain, advanced in place.
    free : int64 array
        The variables a sweep updates, in order (clamped variables are left out).
    betas : float64 array, shape (n_sweeps,)
        Inverse temperature of each sweep (``inf``: the deterministic descent).
    slots : int64 array, shape (n_sweeps,)
        Draw index written after each sweep, -1: none.
    out : unsigned int array, shape (n_chains, n_draws, n)
    weights : PottsWeights
    """
    cardinalities, fields, field_start = weights.cardinalities, weights.fields, weights.field_start
    adjacency_start, neighbour, block_start = weights.adjacency_start, weights.neighbour, weights.block_start
    stride_self, stride_other, couplings = weights.stride_self, weights.stride_other, weights.couplings
    largest = 1
    for i in range(cardinalities.shape[0]):
        largest = max(largest, cardinalities[i])
    for c in prange(states.shape[0]):
        state = states[c]
        z = np.empty(largest)
        x = streams[c]
        for sweep in range(betas.shape[0]):
            beta = betas[sweep]
            for t in range(free.shape[0]):
                x = _update(free[t], state, beta, x, z, cardinalities, fields, field_start, adjacency_start,
                            neighbour, block_start, stride_self, stride_other, couplings)
            slot = slots[sweep]
            if slot >= 0:
                for i in range(state.shape[0]):
                    out[c, slot, i] = state[i]
        streams[c] = x
