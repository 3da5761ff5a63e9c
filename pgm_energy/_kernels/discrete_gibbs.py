"""Single-site Gibbs sampling on a discrete factor graph compiled to flat arrays.

The model is ``p(x) ∝ exp(Σ_f L_f[x_{scope(f)}])`` with one log-potential table ``L_f``
per factor (``-inf`` where the potential is zero). Layout (all integer arrays int64):

- ``cards[v]``: cardinality of variable ``v``; the state is ``state[v]`` in ``0..cards[v]-1``.
- ``log_table``: every factor's table, flattened in C order (last scope variable
  fastest) and concatenated; factor ``f`` starts at ``factor_offset[f]``.
- ``factor_ptr`` / ``factor_vars`` / ``factor_strides`` (CSR over factors): the scope of
  factor ``f`` is ``factor_vars[factor_ptr[f]:factor_ptr[f+1]]`` with C-order strides.
- ``var_ptr`` / ``entry_factor`` / ``entry_stride`` (CSR over variables): the factors
  touching variable ``v`` and the stride of ``v`` inside each of them.
- ``position[f]``: flat index into ``log_table`` of factor ``f`` at the current state. It
  is kept up to date on every change of a variable (``O(degree)``), so a site update costs
  ``O(degree × cardinality)`` whatever the factors' arity.

A site update draws ``x_v`` from ``p(x_v | rest) ∝ exp(Σ_{f ∋ v} L_f)``; variables not in
``free_vars`` (evidence) are never updated. Each chain has its own xorshift stream.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

from .rng import next_uniform

__all__ = ["FactorGraph", "factor_positions", "count_impossible", "gibbs_run", "repair_state"]


class FactorGraph(NamedTuple):
    """The arrays a site update reads (described in the module docstring).

    Attributes
    ----------
    cards : int64 array, shape (n_vars,)
    var_ptr : int64 array, shape (n_vars + 1,)
    entry_factor, entry_stride : int64 arrays, shape (n_entries,)
        CSR over variables: the factors touching each variable and its stride in them.
    log_table : float64 array, shape (total table size,)
    """

    cards: np.ndarray
    var_ptr: np.ndarray
    entry_factor: np.ndarray
    entry_stride: np.ndarray
    log_table: np.ndarray


@njit(cache=True, nogil=True)
def factor_positions(state, factor_offset, factor_ptr, factor_vars, factor_strides, position):
    """Fill ``position[f]`` with the flat table index of every factor at ``state``."""
    for f in range(factor_offset.shape[0]):
        index = factor_offset[f]
        for k in range(factor_ptr[f], factor_ptr[f + 1]):
            index += state[factor_vars[k]] * factor_strides[k]
        position[f] = index


@njit(cache=True, nogil=True)
def count_impossible(log_table, position):
    """Number of factors whose potential is zero at the current positions."""
    count = 0
    for f in range(position.shape[0]):
        if log_table[position[f]] == -np.inf:
            count += 1
    return count


@njit(cache=True, nogil=True, inline="always")
def _draw(weights, c, u):
    """Index drawn with probability proportional to ``weights[:c]`` (>= 0), given a uniform ``u``."""
    total = 0.0
    for s in range(c):
        total += weights[s]
    target = u * total
    acc = 0.0
    last = 0
    for s in range(c):
        if weights[s] > 0.0:
            last = s
            acc += weights[s]
            if target < acc:
                return s
    return last  # rounding at the top end


@njit(cache=True, nogil=True, inline="always")
def _conditional(v, state, cards, var_ptr, entry_factor, entry_stride, log_table, position, logp, zeros, count_zeros):
    """Fill ``logp[:cards[v]]`` with the unnormalised log-conditional of ``v``; return its max.

    ``count_zeros`` (a constant at each call): instead add only the finite log-potentials
    to ``logp`` and count in ``zeros[s]`` the factors that are zero at ``x_v = s``. (The
    arrays come one by one, not in a tuple: this is inlined in the sweeps' loops, where
    taking arrays out of a tuple would cost reference counting on every update.)
    """
    c = cards[v]
    for s in range(c):
        logp[s] = 0.0
        if count_zeros:
            zeros[s] = 0
    current = state[v]
    for e in range(var_ptr[v], var_ptr[v + 1]):
        stride = entry_stride[e]
        base = position[entry_factor[e]] - current * stride
        for s in range(c):
            value = log_table[base + s * stride]
            if count_zeros and value == -np.inf:
                zeros[s] += 1
            else:
                logp[s] += value
    top = logp[0]
    for s in range(1, c):
        if logp[s] > top:
            top = logp[s]
    return top


@njit(cache=True, nogil=True, inline="always")
def _move(v, new, state, var_ptr, entry_factor, entry_stride, position):
    delta = new - state[v]
    if delta != 0:
        for e in range(var_ptr[v], var_ptr[v + 1]):
            position[entry_factor[e]] += delta * entry_stride[e]
        state[v] = new


@njit(cache=True, nogil=True)
def gibbs_run(graph, state, position, free_vars, streams, chain, n_burn, thin, out):
    """Run ``n_burn`` sweeps, record ``state`` in ``out[0]``, then ``thin`` sweeps per further row.

    A sweep updates ``free_vars`` in order. ``state`` and ``position`` are updated in place
    (``position`` must match ``state`` on entry); ``streams[chain]`` is the RNG stream.

    Parameters
    ----------
    graph : FactorGraph
    state : int64 array, shape (n_vars,)
    position : int64 array, shape (n_factors,)
        Flat table index of each factor at ``state`` (:func:`factor_positions`).
    free_vars : int64 array, shape (n_free,)
    streams : uint64 array
    chain : int
        The stream used.
    n_burn, thin : int
        Sweeps before ``out[0]``, and between further rows.
    out : int64 array, shape (n_rows, n_vars)

    Returns
    -------
    (variable, sweep) : (int, int)
        ``(-1, -1)`` on success; otherwise the variable every state of which had probability
        zero given the others, and the 0-based sweep where it happened (the run stops there).
    """
    cards, var_ptr, entry_factor, entry_stride, log_table = graph  # once: not in the loops (reference counting)
    logp = np.empty(cards.max() if cards.shape[0] > 0 else 1, dtype=np.float64)
    no_counts = np.empty(0, dtype=np.int64)
    n_rows = out.shape[0]
    n_vars = state.shape[0]
    sweep = 0
    total_sweeps = n_burn + (n_rows - 1) * thin
    row = 0
    if n_burn == 0 and n_rows > 0:
        for j in range(n_vars):
            out[0, j] = state[j]
        row = 1
    while sweep < total_sweeps:
        for k in range(free_vars.shape[0]):
            v = free_vars[k]
            c = cards[v]
            if c == 2:
                # binary fast path: p(1) = 1 / (1 + exp(l0 - l1)), exact limits when one side is -inf
                current = state[v]
                l0 = 0.0
                l1 = 0.0
                for e in range(var_ptr[v], var_ptr[v + 1]):
                    stride = entry_stride[e]
                    base = position[entry_factor[e]] - current * stride
                    l0 += log_table[base]
                    l1 += log_table[base + stride]
                if l0 == -np.inf and l1 == -np.inf:
                    return v, sweep
                p1 = 1.0 / (1.0 + np.exp(l0 - l1))
                new = 1 if next_uniform(streams, chain) < p1 else 0
            else:
                top = _conditional(v, state, cards, var_ptr, entry_factor, entry_stride, log_table, position, logp,
                                   no_counts, False)
                if top == -np.inf:
                    return v, sweep
                for s in range(c):
                    logp[s] = np.exp(logp[s] - top)
                new = _draw(logp, c, next_uniform(streams, chain))
            _move(v, new, state, var_ptr, entry_factor, entry_stride, position)
        sweep += 1
        if sweep >= n_burn and (sweep - n_burn) % thin == 0 and row < n_rows:
            for j in range(n_vars):
                out[row, j] = state[j]
            row += 1
    return -1, -1


@njit(cache=True, nogil=True)
def repair_state(graph, state, position, free_vars, streams, chain, max_sweeps, noise):
    """Move ``state`` to a state of positive probability by a noisy descent on the zero count.

    Each site takes, among its values, one that makes the fewest of its factors zero
    (ties broken by drawing from the finite part of the conditional); with probability
    ``noise`` it takes a uniformly random value instead, to leave local minima
    (WalkSAT-style). Stops as soon as no factor is zero.

    Parameters as :func:`gibbs_run`; ``max_sweeps`` bounds the sweeps, ``noise`` is the
    probability of a random value.

    Returns
    -------
    int
        The number of zero factors left (0 on success) after at most ``max_sweeps`` sweeps.
    """
    cards, var_ptr, entry_factor, entry_stride, log_table = graph
    c_max = cards.max() if cards.shape[0] > 0 else 1
    logp = np.empty(c_max, dtype=np.float64)
    zeros = np.empty(c_max, dtype=np.int64)
    remaining = count_impossible(log_table, position)
    sweep = 0
    while remaining > 0 and sweep < max_sweeps:
        for k in range(free_vars.shape[0]):
            v = free_vars[k]
            c = cards[v]
            if next_uniform(streams, chain) < noise:
                new = min(int(next_uniform(streams, chain) * c), c - 1)
            else:
                _conditional(v, state, cards, var_ptr, entry_factor, entry_stride, log_table, position, logp, zeros, True)
                fewest = zeros[0]
                for s in range(1, c):
                    if zeros[s] < fewest:
                        fewest = zeros[s]
                top = -np.inf
                for s in range(c):
                    if zeros[s] == fewest and logp[s] > top:
                        top = logp[s]
                for s in range(c):
                    logp[s] = np.exp(logp[s] - top) if zeros[s] == fewest else 0.0
                new = _draw(logp, c, next_uniform(streams, chain))
            _move(v, new, state, var_ptr, entry_factor, entry_stride, position)
        remaining = count_impossible(log_table, position)
        sweep += 1
    return remaining
