"""Exact enumeration of a categorical RBM's hidden layer, the softmax visible layer summed in closed form.

At T = 1, with binary hidden units ``h`` (``n`` of them) and categorical visible variables
(variable ``i`` with states ``field_start[i] .. field_start[i + 1] - 1`` of a flat axis of
``sum(k)`` states), the energy is ``E(v, h) = -sum_i z_i(v_i; h) - c.h`` with the visible
inputs ``z = b + W h`` (flat, one entry per visible state). The visible variables are
independent given ``h``, so summing them out gives the log-weight of a hidden state

    x(h) = c.h + sum_i log sum_a exp(z_ia(h)).

Blocks fix the last ``n_prefix`` hidden units (bit ``k`` of the block index is unit
``n - n_prefix + k``, as in :mod:`.enumeration`); within a block the other units are walked
in Gray-code order, so consecutive states differ in one unit and the inputs ``z`` change by
one row of ``W^T``: O(sum k) per state, the same order as the per-variable log-sum-exps that
follow. Each block streams its sums in log space (:func:`.logspace.log_weight`), so no
table of states is held and no weight overflows; blocks run in parallel (``prange``) and
every block's result is independent of the thread count and of the range a call covers.
"""

import math

import numpy as np
from numba import njit, prange

from .._launch import serial_twin
from .enumeration import _lowest_set_bit, _prefix_units
from .logspace import add_term, log_weight

__all__ = ["categorical_block_sums", "categorical_block_sums_serial"]


def _categorical_block_sums(hidden_rows, visible_bias, field_start, hidden_bias, n_prefix, with_moments, first=0,
                            count=-1):
    """Sum every hidden state of a categorical RBM (or the blocks ``first .. first + count - 1``).

    Parameters
    ----------
    hidden_rows : float64 array, shape (n, sum(k)), C-contiguous
        Row ``j`` is what hidden unit ``j`` adds to the visible inputs: ``W[:, j] / T``.
    visible_bias : float64 array, shape (sum(k),)
        ``b / T``, variable ``i``'s states at ``field_start[i] .. field_start[i + 1] - 1``.
    field_start : int64 array, shape (n_variables + 1,)
        Where each visible variable's states start; every variable has at least one state.
    hidden_bias : float64 array, shape (n,)
        ``c / T``.
    n_prefix : int, 0 <= n_prefix <= n
        Hidden units ``n - n_prefix .. n - 1`` are fixed per block.
    with_moments : bool
        Also accumulate each block's conditional mean energy and marginals.
    first, count : int
        Only the blocks ``first .. first + count - 1`` (``count < 0``: all from ``first``); each
        block's result does not depend on the range, so successive calls concatenate to the bits
        of one call (:func:`pgm_energy._launch.run_blocks`).

    Returns
    -------
    log_mass : shape (n_blocks,)
        ``log sum_{h in block} sum_v exp(-E(v, h))``.
    moments : shape (n_blocks, 1 + n + sum(k)) if with_moments else (n_blocks, 0)
        Given the block: column 0 ``E[E(v, h)]``, columns ``1 .. n`` ``p(h_j = 1)``, then
        ``p(v_i = a)`` at ``1 + n + field_start[i] + a``.
    """
    n = hidden_bias.shape[0]
    n_variables = field_start.shape[0] - 1
    n_states = visible_bias.shape[0]
    n_low = n - n_prefix
    width = 1 + n + n_states if with_moments else 0
    n_blocks = (1 << n_prefix) - first if count < 0 else count
    log_mass = np.empty(n_blocks)
    moments = np.zeros((n_blocks, width))
    for slot in prange(n_blocks):
        state = np.zeros(n)
        _prefix_units(first + slot, n_prefix, state)
        inputs = visible_bias.copy()
        linear = 0.0
        for j in range(n_low, n):
            if state[j] != 0.0:
                linear += hidden_bias[j]
                row = hidden_rows[j]
                for a in range(n_states):
                    inputs[a] += row[a]
        # exp(z - max) of each visible state, kept for the conditional probabilities
        scaled = np.empty(n_states)
        values = np.empty(width)
        sums = np.zeros(width)
        top = -np.inf
        total = 0.0
        for t in range(1 << n_low):
            if t > 0:
                j = _lowest_set_bit(t)
                delta = 1.0 - 2.0 * state[j]
                state[j] = 1.0 - state[j]
                linear += delta * hidden_bias[j]
                row = hidden_rows[j]
                for a in range(n_states):
                    inputs[a] += delta * row[a]
            x = linear
            mean_input = linear  # E[c.h + sum_i z_i(v_i)] over v given h: minus the conditional mean energy
            for i in range(n_variables):
                low, high = field_start[i], field_start[i + 1]
                largest = inputs[low]
                for a in range(low + 1, high):
                    if inputs[a] > largest:
                        largest = inputs[a]
                mass = 0.0
                for a in range(low, high):
                    e = math.exp(inputs[a] - largest)
                    scaled[a] = e
                    mass += e
                x += largest + math.log(mass)
                if with_moments:
                    weighted = 0.0
                    for a in range(low, high):
                        p = scaled[a] / mass
                        values[1 + n + a] = p
                        weighted += p * inputs[a]
                    mean_input += weighted
            top, scale, weight = log_weight(x, top)
            total = total * scale + weight
            if with_moments:
                values[0] = -mean_input
                for j in range(n):
                    values[1 + j] = state[j]
                add_term(sums, values, scale, weight)
        log_mass[slot] = top + math.log(total)
        for c in range(width):
            moments[slot, c] = sums[c] / total
    return log_mass, moments


# The serial twin runs small enumerations without waking the thread pool (same bits; see
# :func:`pgm_energy._launch.serial_twin`).
categorical_block_sums = njit(cache=True, nogil=True, parallel=True)(_categorical_block_sums)
categorical_block_sums_serial = serial_twin(categorical_block_sums)
