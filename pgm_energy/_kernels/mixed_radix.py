"""Exact enumeration of a pairwise model over categorical variables (Potts machines), in mixed radix.

The free variables ``0 .. n - 1`` (variable ``i`` with ``k_i`` states) at T = 1 have the energy
``E(s) = -sum_i f_i(s_i) - sum_edges C_ij(s_i, s_j)``. Blocks fix the leading ``n_prefix``
variables (block ``b`` is their state in mixed radix, C order: the last prefix variable changes
fastest, so consecutive blocks list the cells of a joint table in pgmpy's order); within a block an
odometer walks the other variables, the last one fastest. Each step changes one variable (or a
few at a carry) and updates the energy by the change of that variable's local field, so a state
costs about its variable's degree, not the whole energy. Blocks run in parallel (``prange``) and
each block's sums are streamed in log space (:mod:`.logspace`), so no table of states is held
and no energy overflows.

Neighbours are a compressed list per variable: for the ``t``-th neighbour entry of variable ``u``
(``adjacency_start[u] <= t < adjacency_start[u + 1]``), ``neighbour[t]`` is the other variable
and ``C(a, b) = couplings[block_start[t] + a * stride_self[t] + b * stride_other[t]]`` with ``a``
the state of ``u`` and ``b`` that of the neighbour (one stored matrix serves both directions).
"""

import math

import numpy as np
from numba import njit, prange

from .._launch import serial_twin
from .logspace import log_weight

__all__ = ["potts_block_sums", "potts_block_sums_serial"]


@njit(cache=True, nogil=True, inline="always")
def _local_field(u, a, state, fields, field_start, adjacency_start, neighbour, block_start, stride_self,
                 stride_other, couplings):
    """``f_u(a) + sum_v C_uv(a, s_v)``."""
    z = fields[field_start[u] + a]
    for t in range(adjacency_start[u], adjacency_start[u + 1]):
        z += couplings[block_start[t] + a * stride_self[t] + state[neighbour[t]] * stride_other[t]]
    return z


@njit(cache=True, nogil=True, inline="always")
def _block_energy(state, fields, field_start, adjacency_start, neighbour, block_start, stride_self,
                  stride_other, couplings):
    """``E(state)`` from scratch: each edge counted once (from its lower variable)."""
    energy = 0.0
    for u in range(state.shape[0]):
        energy -= fields[field_start[u] + state[u]]
        for t in range(adjacency_start[u], adjacency_start[u + 1]):
            v = neighbour[t]
            if v > u:
                energy -= couplings[block_start[t] + state[u] * stride_self[t] + state[v] * stride_other[t]]
    return energy


def _potts_block_sums(cardinalities, fields, field_start, adjacency_start, neighbour, block_start, stride_self,
                      stride_other, couplings, n_prefix, with_marginals, first=0, count=-1):
    """Enumerate every state of the free variables, block by block (or the blocks ``first .. first + count - 1``).

    Parameters
    ----------
    cardinalities : int64 array, shape (n,)
    fields : float64 array, shape (sum(k),); ``field_start`` int64, shape (n + 1,)
    adjacency_start, neighbour, block_start, stride_self, stride_other : int64 arrays
        The neighbour lists (module docstring); ``adjacency_start`` has shape (n + 1,).
    couplings : float64 array
        Every edge's matrix, row-major, one after another.
    n_prefix : int, 0 <= n_prefix <= n
        Variables fixed per block.
    with_marginals : bool
        Also accumulate each block's conditional marginals.
    first, count : int
        As in :func:`.enumeration.pairwise_block_sums`: each block's results do not depend on
        the range, so successive calls concatenate to the bits of one call.

    Returns
    -------
    log_mass : shape (n_blocks,)
        ``log sum_{s in block} exp(-E(s))``.
    mean_energy : shape (n_blocks,)
        ``E[E(s) | block]``.
    marginals : shape (n_blocks, sum(k)) if with_marginals else (n_blocks, 0)
        ``p(s_i = a | block)`` at ``field_start[i] + a``.
    """
    n = cardinalities.shape[0]
    n_states_total = fields.shape[0]
    n_all_blocks = 1
    for i in range(n_prefix):
        n_all_blocks *= cardinalities[i]
    n_blocks = n_all_blocks - first if count < 0 else count
    log_mass = np.empty(n_blocks)
    mean_energy = np.empty(n_blocks)
    marginals = np.zeros((n_blocks, n_states_total if with_marginals else 0))
    for slot in prange(n_blocks):
        state = np.zeros(n, dtype=np.int64)
        rest = first + slot
        for i in range(n_prefix - 1, -1, -1):
            state[i] = rest % cardinalities[i]
            rest //= cardinalities[i]
        energy = _block_energy(state, fields, field_start, adjacency_start, neighbour, block_start, stride_self,
                               stride_other, couplings)
        top = -energy
        total = 1.0
        energy_sum = energy
        sums = np.zeros(n_states_total if with_marginals else 0)
        if with_marginals:
            for i in range(n):
                sums[field_start[i] + state[i]] = 1.0
        while True:
            # the odometer's next state: the last variable that can move moves, those after it return to 0
            p = n - 1
            while p >= n_prefix:
                a = state[p]
                b = a + 1 if a + 1 < cardinalities[p] else 0
                energy -= (
                    _local_field(p, b, state, fields, field_start, adjacency_start, neighbour, block_start,
                                 stride_self, stride_other, couplings)
                    - _local_field(p, a, state, fields, field_start, adjacency_start, neighbour, block_start,
                                   stride_self, stride_other, couplings)
                )
                state[p] = b
                if b != 0:
                    break
                p -= 1
            if p < n_prefix:
                break
            top, scale, weight = log_weight(-energy, top)
            total = total * scale + weight
            energy_sum = energy_sum * scale + weight * energy
            if with_marginals:
                if scale != 1.0:
                    for j in range(n_states_total):
                        sums[j] *= scale
                for i in range(n):
                    sums[field_start[i] + state[i]] += weight
        log_mass[slot] = top + math.log(total)
        mean_energy[slot] = energy_sum / total
        if with_marginals:
            for j in range(n_states_total):
                marginals[slot, j] = sums[j] / total
    return log_mass, mean_energy, marginals


# The serial twin runs small enumerations without waking the thread pool (same bits).
potts_block_sums = njit(cache=True, nogil=True, parallel=True)(_potts_block_sums)
potts_block_sums_serial = serial_twin(potts_block_sums)
