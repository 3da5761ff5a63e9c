"""Exact enumeration of binary energy models by Gray code, streamed in log space.

The states are split into ``2**n_prefix`` blocks by fixing the last
``n_prefix`` enumerated units; blocks run in parallel (``prange``) and each block
walks its remaining units in Gray-code order, so consecutive states differ in
one unit and the energy and fields are updated in O(n) instead of recomputed.
Every block returns its own log-mass and conditional moments; the caller
combines blocks in a fixed order, so the result does not depend on the thread count.
A joint table (:func:`cell_log_masses`) is one such walk that closes a log-sum-exp
every ``2**n_summed`` states: the states sharing an assignment of the other units.

Energies here carry no offset and no temperature: callers pass ``W / T`` and ``b / T``.
"""

import math

import numpy as np
from numba import njit, prange

from .._launch import serial_twin
from .logspace import add_term, log_weight, softplus, softplus_and_sigmoid

__all__ = [
    "pairwise_block_sums",
    "pairwise_block_sums_serial",
    "bipartite_block_sums",
    "bipartite_block_sums_serial",
    "cell_log_masses",
    "cell_log_masses_serial",
]


@njit(cache=True, nogil=True)
def _lowest_set_bit(t):
    """Index of the lowest set bit of t > 0 (the unit a Gray-code step flips)."""
    index = 0
    while (t >> index) & 1 == 0:
        index += 1
    return index


# ---------------------------------------------------------------------------- block walks, shared with .ground_state
@njit(cache=True, nogil=True, inline="always")
def _prefix_units(block, n_prefix, state):
    """Set the last ``n_prefix`` units of ``state`` to the bits of ``block`` (bit k: unit ``n - n_prefix + k``)."""
    n_low = state.shape[0] - n_prefix
    for k in range(n_prefix):
        state[n_low + k] = (block >> k) & 1


@njit(cache=True, nogil=True, inline="always")
def pairwise_block_start(weights, biases, block, n_prefix, state):
    """The first state of a block of a pairwise walk: ``(fields, energy)``.

    ``state`` (zeros, any numeric dtype, shape (n,)) receives the block's fixed units
    (:func:`_prefix_units`); ``fields = b + W s`` and ``energy = -1/2 s.(fields + b)``
    (``E(s) = -1/2 s^T W s - b^T s``) of that state.
    """
    _prefix_units(block, n_prefix, state)
    n = biases.shape[0]
    fields = biases.copy()
    for i in range(n - n_prefix, n):
        if state[i] != 0:
            for j in range(n):
                fields[j] += weights[i, j]
    energy = 0.0
    for i in range(n - n_prefix, n):
        if state[i] != 0:
            # -1/2 s^T W s - b^T s = -1/2 s.(z - b) - b.s = -1/2 s.(z + b)
            energy -= 0.5 * (fields[i] + biases[i])
    return fields, energy


@njit(cache=True, nogil=True, inline="always")
def pairwise_step(weights, state, fields, energy, i):
    """Flip unit ``i`` (a Gray-code step) of a pairwise walk: ``state`` and ``fields`` in place; the new energy."""
    delta = 1.0 - 2.0 * state[i]
    energy -= delta * fields[i]
    state[i] = 1 - state[i]
    row = weights[i]
    for j in range(fields.shape[0]):
        fields[j] += delta * row[j]
    return energy


@njit(cache=True, nogil=True, inline="always")
def bipartite_block_start(coupling, analytic_bias, enumerated_bias, block, n_prefix, state):
    """The first state of a block of a bipartite walk: ``(fields, linear)``.

    ``state`` (zeros, shape (n_enumerated,)) receives the block's fixed units;
    ``fields = p + C^T e`` and ``linear = q.e`` of that state ``e``.
    """
    _prefix_units(block, n_prefix, state)
    n_enum, n_an = coupling.shape
    fields = analytic_bias.copy()
    linear = 0.0
    for i in range(n_enum - n_prefix, n_enum):
        if state[i] != 0:
            linear += enumerated_bias[i]
            for j in range(n_an):
                fields[j] += coupling[i, j]
    return fields, linear


@njit(cache=True, nogil=True, inline="always")
def bipartite_step(coupling, enumerated_bias, state, fields, linear, i):
    """Flip enumerated unit ``i`` of a bipartite walk: ``state`` and ``fields`` in place; the new ``linear``."""
    delta = 1.0 - 2.0 * state[i]
    state[i] = 1 - state[i]
    row = coupling[i]
    for j in range(fields.shape[0]):
        fields[j] += delta * row[j]
    return linear + delta * enumerated_bias[i]


def _pairwise_block_sums(weights, biases, n_prefix, with_moments, first=0, count=-1):
    """Enumerate ``E(s) = -1/2 s^T W s - b^T s`` over all 2**n states (or some blocks), block by block.

    Parameters
    ----------
    weights : float64 array, shape (n, n), C-contiguous, symmetric, zero diagonal
    biases : float64 array, shape (n,)
    n_prefix : int, 0 <= n_prefix <= n
        Units ``n - n_prefix .. n - 1`` are fixed per block: bit k of the block
        index is the state of unit ``n - n_prefix + k``.
    with_moments : bool
        Also accumulate the conditional mean state of each block.
    first, count : int
        Enumerate only the blocks ``first .. first + count - 1`` (``count < 0``: all from
        ``first``). Each block's results do not depend on the range, so the blocks of
        successive calls concatenate to the same bits as one call.

    Returns
    -------
    log_mass : shape (n_blocks,)
        ``log sum_{s in block} exp(-E(s))``, ``n_blocks = count`` (default ``2**n_prefix``).
    mean_energy : shape (n_blocks,)
        ``E[E(s) | block]``.
    mean_state : shape (n_blocks, n) if with_moments else (n_blocks, 0)
        ``E[s | block]``.
    """
    n = biases.shape[0]
    n_low = n - n_prefix
    n_blocks = (1 << n_prefix) - first if count < 0 else count
    log_mass = np.empty(n_blocks)
    mean_energy = np.empty(n_blocks)
    mean_state = np.zeros((n_blocks, n if with_moments else 0))
    for slot in prange(n_blocks):
        state = np.zeros(n)
        fields, energy = pairwise_block_start(weights, biases, first + slot, n_prefix, state)
        top = -energy
        total = 1.0
        energy_sum = energy
        state_sum = state.copy() if with_moments else np.zeros(0)
        for t in range(1, 1 << n_low):
            energy = pairwise_step(weights, state, fields, energy, _lowest_set_bit(t))
            top, scale, weight = log_weight(-energy, top)
            total = total * scale + weight
            energy_sum = energy_sum * scale + weight * energy
            if with_moments:
                add_term(state_sum, state, scale, weight)
        log_mass[slot] = top + math.log(total)
        mean_energy[slot] = energy_sum / total
        if with_moments:
            for j in range(n):
                mean_state[slot, j] = state_sum[j] / total
    return log_mass, mean_energy, mean_state


def _bipartite_block_sums(coupling, analytic_bias, enumerated_bias, n_prefix, with_moments, first=0, count=-1):
    """Enumerate one layer of a bipartite model and sum the other analytically.

    For ``E(a, e) = -a^T C^T e - p^T a - q^T e`` with ``a`` the analytic layer
    and ``e`` the enumerated one, ``log sum_a exp(-E(a, e)) = q.e + sum_i softplus(x_i)``
    with ``x = p + C^T e``.

    Parameters
    ----------
    coupling : float64 array, shape (n_enumerated, n_analytic), C-contiguous
    analytic_bias : shape (n_analytic,)
    enumerated_bias : shape (n_enumerated,)
    n_prefix : int
        Enumerated units ``n_enumerated - n_prefix ..`` are fixed per block.
    with_moments : bool
        Also accumulate the conditional mean energy and mean states.
    first, count : int
        Only the blocks ``first .. first + count - 1`` (``count < 0``: all from ``first``),
        as in :func:`pairwise_block_sums`.

    Returns
    -------
    log_mass : shape (n_blocks,)
        log of the block's share of Z, ``n_blocks = count`` (default ``2**n_prefix``).
    mean_energy : shape (n_blocks,)
        ``E[E | block]`` (zeros unless with_moments).
    mean_analytic : shape (n_blocks, n_analytic) or (n_blocks, 0)
    mean_enumerated : shape (n_blocks, n_enumerated) or (n_blocks, 0)
    """
    n_enum, n_an = coupling.shape
    n_low = n_enum - n_prefix
    n_blocks = (1 << n_prefix) - first if count < 0 else count
    log_mass = np.empty(n_blocks)
    mean_energy = np.zeros(n_blocks)
    mean_analytic = np.zeros((n_blocks, n_an if with_moments else 0))
    mean_enumerated = np.zeros((n_blocks, n_enum if with_moments else 0))
    for slot in prange(n_blocks):
        state = np.zeros(n_enum)
        fields, linear = bipartite_block_start(coupling, analytic_bias, enumerated_bias, first + slot, n_prefix, state)
        top = -np.inf
        total = 0.0
        energy_sum = 0.0
        analytic_sum = np.zeros(n_an if with_moments else 0)
        enumerated_sum = np.zeros(n_enum if with_moments else 0)
        probabilities = np.zeros(n_an if with_moments else 0)
        for t in range(1 << n_low):
            if t > 0:
                linear = bipartite_step(coupling, enumerated_bias, state, fields, linear, _lowest_set_bit(t))
            x = linear
            energy = -linear
            if with_moments:
                for j in range(n_an):
                    term, probability = softplus_and_sigmoid(fields[j])
                    x += term
                    probabilities[j] = probability
                    energy -= probability * fields[j]
            else:
                for j in range(n_an):
                    x += softplus(fields[j])
            top, scale, weight = log_weight(x, top)
            total = total * scale + weight
            if with_moments:
                energy_sum = energy_sum * scale + weight * energy
                add_term(analytic_sum, probabilities, scale, weight)
                add_term(enumerated_sum, state, scale, weight)
        log_mass[slot] = top + math.log(total)
        if with_moments:
            mean_energy[slot] = energy_sum / total
            for j in range(n_an):
                mean_analytic[slot, j] = analytic_sum[j] / total
            for j in range(n_enum):
                mean_enumerated[slot, j] = enumerated_sum[j] / total
    return log_mass, mean_energy, mean_analytic, mean_enumerated


def _cell_log_masses(weights, biases, coupling, analytic_bias, n_summed, n_prefix, first=0, count=-1):
    """Log-mass of every assignment of the last units (a *cell*), the first ``n_summed`` summed out.

    For ``n`` enumerated units ``e`` with pairwise energy ``-1/2 e^T W e - b^T e`` and an
    analytic layer ``a`` coupled to them by ``-a^T C^T e - p^T a`` (its units independent
    given ``e``), the log-weight of a state is
    ``1/2 e^T W e + b^T e + sum_i softplus(p_i + (C^T e)_i)``. One Gray-code walk per block
    visits every state; the states of one cell are ``2**n_summed`` consecutive steps, so a
    whole joint table costs one enumeration, with a streamed log-sum-exp per cell.

    Parameters
    ----------
    weights : float64 array, shape (n, n), C-contiguous, symmetric, zero diagonal
    biases : float64 array, shape (n,)
    coupling : float64 array, shape (n, n_analytic), C-contiguous (``n_analytic`` may be 0)
    analytic_bias : float64 array, shape (n_analytic,)
    n_summed : int
        Units ``0 .. n_summed - 1`` are summed within each cell; the other ``n - n_summed``
        units are the cell's bits (bit k: unit ``n_summed + k``).
    n_prefix : int, 0 <= n_prefix <= n - n_summed
        Units ``n - n_prefix .. n - 1`` are fixed per block (block index = the cell's top bits).
    first, count : int
        Only the blocks ``first .. first + count - 1`` (``count < 0``: all from ``first``),
        as in :func:`pairwise_block_sums`.

    Returns
    -------
    (log_mass,) : tuple of one array, shape (n_blocks, 2**(n - n_summed - n_prefix))
        Row ``r``, column ``c``: the cell ``(first + r) * 2**(n - n_summed - n_prefix) + c``.
    """
    n = biases.shape[0]
    n_an = analytic_bias.shape[0]
    n_low = n - n_prefix
    summed_mask = (1 << n_summed) - 1
    n_blocks = (1 << n_prefix) - first if count < 0 else count
    log_mass = np.empty((n_blocks, 1 << (n_low - n_summed)))
    for slot in prange(n_blocks):
        state = np.zeros(n)
        fields, energy = pairwise_block_start(weights, biases, first + slot, n_prefix, state)
        # the analytic fields p + C^T e; its second value (b.e) is already part of ``energy``
        analytic, _ = bipartite_block_start(coupling, analytic_bias, biases, first + slot, n_prefix, state)
        top = -np.inf
        total = 0.0
        for t in range(1 << n_low):
            if t > 0:
                i = _lowest_set_bit(t)
                delta = 1.0 - 2.0 * state[i]
                energy = pairwise_step(weights, state, fields, energy, i)
                row = coupling[i]
                for j in range(n_an):
                    analytic[j] += delta * row[j]
            x = -energy
            for j in range(n_an):
                x += softplus(analytic[j])
            top, scale, weight = log_weight(x, top)
            total = total * scale + weight
            if t & summed_mask == summed_mask:  # the cell's last state: the Gray code of t >> n_summed
                cell = t >> n_summed
                log_mass[slot, cell ^ (cell >> 1)] = top + math.log(total)
                top = -np.inf
                total = 0.0
    return (log_mass,)  # a tuple of per-block arrays, as every block kernel returns


# Each kernel is compiled twice: a parallel version for large enumerations and a
# serial one for small ones, where waking a thread pool costs more than the work
# (milliseconds on a busy machine), and for forked children that cannot start threads.
# ``prange`` runs as ``range`` in the serial one; both combine blocks identically, so they
# return the same bits. The twin is a renamed copy (see ``serial_twin``): Numba's cache is
# keyed by the function's name, so two dispatchers of one function share a cache entry.
pairwise_block_sums = njit(cache=True, nogil=True, parallel=True)(_pairwise_block_sums)
pairwise_block_sums_serial = serial_twin(pairwise_block_sums)
bipartite_block_sums = njit(cache=True, nogil=True, parallel=True)(_bipartite_block_sums)
bipartite_block_sums_serial = serial_twin(bipartite_block_sums)
cell_log_masses = njit(cache=True, nogil=True, parallel=True)(_cell_log_masses)
cell_log_masses_serial = serial_twin(cell_log_masses)
