"""Exact minimum-energy states of binary energy models by enumeration.

General machines are walked in Gray-code order with incremental local fields
(one unit flips per step, O(n) per state), tracking the argmin. Bipartite
models enumerate one layer ``e`` and minimise the other in closed form:
``min_a -a.x = -sum_i max(x_i, 0)``, attained at ``a_i = [x_i > 0]``, with
``x = p + C^T e``; or, with ``marginalize=True``, sum it out
(``-sum_i softplus(x_i)``), which gives the most probable ``e`` alone.

States are split into ``2**n_prefix`` blocks by fixing the last ``n_prefix``
enumerated units; blocks run in parallel (``prange``) and the per-block winners
are combined in block order by the same rule, so the answer does not depend on
the thread count.

Ties: two energies within ``tolerance`` of each other count as equal and the
state that comes first in lexicographic order wins (unit 0 most significant, as
in ``itertools.product((0, 1), repeat=n)`` and pgmpy's C-order tables), i.e. the
state with the lowest index. With energies that are exact in floating point
(integer or dyadic weights) ties are therefore resolved exactly. The kernels
work on flat float64 arrays with no offset and no temperature.
"""

import numpy as np
from numba import njit, prange

from .._launch import block_prefix_bits, run_blocks
from .enumeration import _lowest_set_bit, bipartite_block_start, bipartite_step, pairwise_block_start, pairwise_step
from .logspace import softplus

__all__ = ["pairwise_ground_state", "bipartite_ground_state", "default_tolerance"]

#: relative tolerance under which two energies count as tied (times 1 + the largest possible |E|)
RELATIVE_TOLERANCE = 1e-10


def default_tolerance(*arrays) -> float:
    """``RELATIVE_TOLERANCE * (1 + sum |entries|)``: a bound on the rounding of incremental energies.

    Pass the weights (each pair once, or the full symmetric matrix halved) and biases.
    """
    scale = 0.0
    for array in arrays:
        scale += float(np.abs(array).sum())
    return RELATIVE_TOLERANCE * (1.0 + scale)


@njit(cache=True, nogil=True)
def _compare(a, b):
    """-1, 0 or 1 as state ``a`` comes before, equals or follows ``b`` lexicographically."""
    for i in range(a.shape[0]):
        if a[i] != b[i]:
            return -1 if a[i] < b[i] else 1
    return 0


@njit(cache=True, nogil=True)
def _precedes_pair(first_a, second_a, first_b, second_b):
    """Lexicographic order on the concatenations ``first_a + second_a`` and ``first_b + second_b``."""
    order = _compare(first_a, first_b)
    if order != 0:
        return order < 0
    return _compare(second_a, second_b) < 0


@njit(cache=True, nogil=True, parallel=True)
def pairwise_block_minima(weights, biases, n_prefix, tolerance, first=0, count=-1):
    """Per-block minimum of ``E(s) = -1/2 s^T W s - b^T s`` over all 2**n states (or some blocks).

    Parameters
    ----------
    weights, biases, n_prefix
        As in :func:`.enumeration.pairwise_block_sums` (bit k of the block index is the
        state of unit ``n - n_prefix + k``).
    tolerance : float >= 0
        Energies closer than this tie; the lexicographically first state wins.
    first, count : int
        Only the blocks ``first .. first + count - 1`` (``count < 0``: all from ``first``);
        a block's result does not depend on the range.

    Returns
    -------
    energy : float64 array, shape (n_blocks,)
        Smallest energy found in each block (incrementally updated; callers
        recompute the energy of the final state exactly); ``n_blocks = count``
        (default ``2**n_prefix``).
    state : uint8 array, shape (n_blocks, n)
        The block's winning state.
    """
    n = biases.shape[0]
    n_low = n - n_prefix
    n_blocks = (1 << n_prefix) - first if count < 0 else count
    best_energy = np.empty(n_blocks)
    best_state = np.zeros((n_blocks, n), dtype=np.uint8)
    for slot in prange(n_blocks):
        state = np.zeros(n, dtype=np.uint8)
        fields, energy = pairwise_block_start(weights, biases, first + slot, n_prefix, state)
        best = energy
        winner = state.copy()
        for t in range(1, 1 << n_low):
            energy = pairwise_step(weights, state, fields, energy, _lowest_set_bit(t))
            if energy < best - tolerance:
                best = energy
                winner[:] = state
            elif energy <= best + tolerance and _compare(state, winner) < 0:
                best = min(best, energy)
                winner[:] = state
        best_energy[slot] = best
        best_state[slot] = winner
    return best_energy, best_state


@njit(cache=True, nogil=True, parallel=True)
def bipartite_block_minima(coupling, analytic_bias, enumerated_bias, n_prefix, marginalize, enumerated_first, tolerance,
                           first=0, count=-1):
    """Per-block minimum over ``e`` of ``-q.e - sum_i g(p_i + (C^T e)_i)``.

    With ``g(x) = max(x, 0)`` this is ``min_a E(a, e)`` for
    ``E(a, e) = -a^T C^T e - p^T a - q^T e``; with ``g = softplus``
    (``marginalize=True``) it is the free energy ``-log sum_a exp(-E(a, e))``.

    Parameters
    ----------
    coupling : float64 array, shape (n_enumerated, n_analytic), C-contiguous
    analytic_bias : shape (n_analytic,)  (``p``)
    enumerated_bias : shape (n_enumerated,)  (``q``)
    n_prefix : int
        Enumerated units ``n_enumerated - n_prefix ..`` are fixed per block.
    marginalize : bool
        Sum the analytic layer out instead of minimising over it.
    enumerated_first : bool
        Whether the enumerated layer precedes the analytic one in the
        lexicographic tie-break (ignored when ``marginalize``: only ``e`` counts).
    tolerance : float >= 0
    first, count : int
        Only the blocks ``first .. first + count - 1`` (``count < 0``: all from ``first``).

    Returns
    -------
    score : shape (n_blocks,)
        Smallest ``min_a E`` (or free energy) in each block (``n_blocks = count``,
        default ``2**n_prefix``).
    enumerated_state : uint8, shape (n_blocks, n_enumerated)
    analytic_state : uint8, shape (n_blocks, n_analytic)
        ``[x_i > 0]`` for the winning ``e`` (the minimiser, lowest on ``x_i = 0``).
    """
    n_enum, n_an = coupling.shape
    n_low = n_enum - n_prefix
    n_blocks = (1 << n_prefix) - first if count < 0 else count
    best_score = np.empty(n_blocks)
    best_enumerated = np.zeros((n_blocks, n_enum), dtype=np.uint8)
    best_analytic = np.zeros((n_blocks, n_an), dtype=np.uint8)
    for slot in prange(n_blocks):
        state = np.zeros(n_enum, dtype=np.uint8)
        fields, linear = bipartite_block_start(coupling, analytic_bias, enumerated_bias, first + slot, n_prefix, state)
        analytic = np.zeros(n_an, dtype=np.uint8)
        winner = np.zeros(n_enum, dtype=np.uint8)
        winner_analytic = np.zeros(n_an, dtype=np.uint8)
        best = np.inf
        for t in range(1 << n_low):
            if t > 0:
                linear = bipartite_step(coupling, enumerated_bias, state, fields, linear, _lowest_set_bit(t))
            score = -linear
            if marginalize:
                for j in range(n_an):
                    score -= softplus(fields[j])
            else:
                for j in range(n_an):
                    if fields[j] > 0.0:
                        score -= fields[j]
            if score > best + tolerance:
                continue
            for j in range(n_an):
                analytic[j] = 1 if fields[j] > 0.0 else 0
            if score < best - tolerance:
                better = True
            elif marginalize:
                better = _compare(state, winner) < 0
            elif enumerated_first:
                better = _precedes_pair(state, analytic, winner, winner_analytic)
            else:
                better = _precedes_pair(analytic, state, winner_analytic, winner)
            if better:
                best = min(best, score)
                winner[:] = state
                winner_analytic[:] = analytic
        best_score[slot] = best
        best_enumerated[slot] = winner
        best_analytic[slot] = winner_analytic
    return best_score, best_enumerated, best_analytic


def _combine(scores, precedes, tolerance) -> int:
    """Index of the winning block: lowest score, ties (within tolerance) to the earliest state."""
    best = 0
    best_score = scores[0]
    for block in range(1, scores.shape[0]):
        score = scores[block]
        if score < best_score - tolerance:
            best, best_score = block, score
        elif score <= best_score + tolerance and precedes(block, best):
            best, best_score = block, min(best_score, score)
    return best


def _prefix_bits(n: int, n_prefix: int | None, cost_per_state: float) -> int:
    """``n_prefix``, or by default 8 (more when a block would be long: :func:`block_prefix_bits`)."""
    return block_prefix_bits(n, cost_per_state) if n_prefix is None else int(n_prefix)


def pairwise_ground_state(weights, biases, *, n_prefix=None, tolerance=None):
    """Exact minimum of ``E(s) = -1/2 s^T W s - b^T s``.

    Parameters
    ----------
    weights : float64 array, shape (n, n), C-contiguous, symmetric, zero diagonal
    biases : float64 array, shape (n,)
    n_prefix : int, optional
        Units fixed per parallel block (default ``min(n, 8)``, more beyond about 2**30 unit
        updates so that a block stays short); never changes the answer.
    tolerance : float, optional
        Default :func:`default_tolerance` of the upper triangle and biases.

    Returns
    -------
    state : uint8 array, shape (n,)
    energy : float
        Its energy as accumulated by the walk (within rounding of the exact value).
    """
    n = biases.shape[0]
    n_prefix = _prefix_bits(n, n_prefix, n)
    if tolerance is None:
        tolerance = default_tolerance(0.5 * weights, biases)
    energies, states = run_blocks(
        pairwise_block_minima, 1 << n_prefix, weights, biases, n_prefix, tolerance, cost_per_block=2.0 ** (n - n_prefix) * n
    )
    best = _combine(energies, lambda a, b: tuple(states[a]) < tuple(states[b]), tolerance)
    return states[best].copy(), float(energies[best])


def bipartite_ground_state(
    coupling, analytic_bias, enumerated_bias, *, marginalize=False, enumerated_first=True, n_prefix=None, tolerance=None
):
    """Exact minimum over ``e`` (and ``a`` unless ``marginalize``) of a bipartite energy.

    ``E(a, e) = -a^T C^T e - p^T a - q^T e``, with ``C = coupling`` of shape
    (n_enumerated, n_analytic), ``p = analytic_bias``, ``q = enumerated_bias``.
    The cost is ``2**n_enumerated * n_analytic``: enumerate the smaller layer.

    Returns
    -------
    enumerated_state : uint8 array, shape (n_enumerated,)
    analytic_state : uint8 array, shape (n_analytic,)
        The minimiser ``[x_i > 0]`` given ``enumerated_state`` (also when marginalizing).
    score : float
        ``min E`` or, when marginalizing, the smallest free energy ``-log sum_a exp(-E)``.
    """
    n_enum = enumerated_bias.shape[0]
    # a softplus per analytic unit costs ~64 multiply-adds (exp, log1p); a max ~2
    cost_per_state = (64.0 if marginalize else 2.0) * coupling.shape[1]
    n_prefix = _prefix_bits(n_enum, n_prefix, cost_per_state)
    if tolerance is None:
        tolerance = default_tolerance(coupling, analytic_bias, enumerated_bias)
    scores, enumerated, analytic = run_blocks(
        bipartite_block_minima, 1 << n_prefix,
        coupling, analytic_bias, enumerated_bias, n_prefix, marginalize, enumerated_first, tolerance,
        cost_per_block=2.0 ** (n_enum - n_prefix) * cost_per_state,
    )

    def precedes(a, b):
        if marginalize:
            return tuple(enumerated[a]) < tuple(enumerated[b])
        if enumerated_first:
            return tuple(enumerated[a]) + tuple(analytic[a]) < tuple(enumerated[b]) + tuple(analytic[b])
        return tuple(analytic[a]) + tuple(enumerated[a]) < tuple(analytic[b]) + tuple(enumerated[b])

    best = _combine(scores, precedes, tolerance)
    return enumerated[best].copy(), analytic[best].copy(), float(scores[best])
