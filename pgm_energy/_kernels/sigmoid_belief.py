"""Sigmoid belief network kernels: Markov-blanket Gibbs sampling and exact enumeration.

Conventions (the wrapper :func:`pgm_energy.samplers.belief.gibbs_posterior` prepares the
arrays, already divided by the temperature):

- ``s``: uint8 states, shape (n_chains, n_units), updated in place.
- ``a``: float64 cached pre-activations ``a_c = b_c + sum_p w_cp s_p`` of every unit's own
  conditional ``p(s_c = 1 | parents) = sigmoid(a_c)``, same shape; kept exact up to
  rounding by adding ``w_ci * (new - old)`` to each child ``c`` when unit ``i`` flips.
- Children in CSR form: the children of unit ``i`` are ``child_index[child_ptr[i]:child_ptr[i + 1]]``
  with weights ``child_weight[...]`` (the weight ``w_ci`` of the edge ``i -> c``).
- ``free``: int64 indices of the units updated, in scan order (evidence units are absent).
- ``slots``: int64, shape (n_sweeps,): after sweep ``k`` the states are copied to
  ``out[:, slots[k]]`` when ``slots[k] >= 0``.
- ``streams``: one xorshift64* state per chain (:mod:`.rng`): a chain's draws depend only
  on its own seed, whichever thread runs it.

The full conditional of unit ``i`` given everything else depends on its Markov blanket
(parents through ``a_i``; children and the children's other parents through ``a_c``)::

    log-odds_i = a_i + sum_c [ l(s_c, a_c | s_i = 1) - l(s_c, a_c | s_i = 0) ],
    l(x, a) = x a - softplus(a) = log Bernoulli(x; sigmoid(a)),

and since the two pre-activations of child ``c`` differ by ``w_ci``, each child term is
``s_c w_ci - softplus(a_c^(1)) + softplus(a_c^(0))``: everything stays in log space.

:func:`enumerate_cells` sums ``p(x)`` over the completions of a partial assignment with the
same incremental bookkeeping (Gray-code order: one unit flips per step, so only its own
term and its children's terms change), streaming a running log-sum-exp per cell.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .._launch import run_blocks
from .logspace import softplus
from .rng import bernoulli_log_odds, next_uniform

__all__ = ["Children", "log_odds", "sweep", "run_chains", "enumerate_cells"]


class Children(NamedTuple):
    """The children of every unit in CSR form: those of unit ``i`` are ``index[ptr[i]:ptr[i + 1]]``."""

    ptr: np.ndarray  # int64, (n_units + 1,)
    index: np.ndarray  # int64, (n_edges,)
    weight: np.ndarray  # float64, (n_edges,): the weight w_ci of each edge i -> c


@njit(cache=True, nogil=True)
def log_odds(sc, ac, i, child_ptr, child_index, child_weight):
    """Log-odds of ``s_i = 1`` against ``s_i = 0`` given the rest of one chain's state."""
    value = ac[i]
    current = sc[i]
    for k in range(child_ptr[i], child_ptr[i + 1]):
        c = child_index[k]
        w = child_weight[k]
        # pre-activation of child c with s_i = 1 and with s_i = 0
        on = ac[c] + (1 - current) * w
        off = ac[c] - current * w
        value += sc[c] * w - softplus(on) + softplus(off)
    return value


@njit(cache=True, nogil=True)
def sweep(sc, ac, free, streams, chain, child_ptr, child_index, child_weight):
    """One sequential scan of chain ``chain`` over the units ``free``, each drawn from its full conditional.

    A flip of unit ``i`` adds ``+-w_ci`` to the cached pre-activation of each child ``c``.
    """
    for k in range(free.shape[0]):
        i = free[k]
        new = bernoulli_log_odds(log_odds(sc, ac, i, child_ptr, child_index, child_weight), next_uniform(streams, chain))
        old = sc[i]
        if new != old:
            sc[i] = new
            delta = 1.0 if new == 1 else -1.0
            for j in range(child_ptr[i], child_ptr[i + 1]):
                ac[child_index[j]] += delta * child_weight[j]


@njit(cache=True, nogil=True, parallel=True)
def run_chains(s, a, free, children, slots, out, streams):
    """Run ``slots.shape[0]`` sequential-scan sweeps on every chain (chains in parallel).

    ``children`` is a :class:`Children`. One call of a time-bounded series: a chain carries
    its states, pre-activations and stream to the next call, so the draws do not depend on how
    the sweeps are split (the sampler cuts them, :func:`pgm_energy.samplers._pipeline.run_sweeps`).
    """
    child_ptr, child_index, child_weight = children
    n_sweeps = slots.shape[0]
    for c in prange(s.shape[0]):
        sc = s[c]
        ac = a[c]
        for step in range(n_sweeps):
            sweep(sc, ac, free, streams, c, child_ptr, child_index, child_weight)
            slot = slots[step]
            if slot >= 0:
                out[c, slot, :] = sc


# --------------------------------------------------------------------------- exact enumeration
@njit(cache=True, nogil=True, inline="always")
def _log_bernoulli(x, a):
    """``log p(x)`` of a unit with value ``x`` and pre-activation ``a``: ``x a - softplus(a)``."""
    return x * a - softplus(a)


@njit(cache=True, nogil=True, parallel=True)
def _enumerate_cells_kernel(template, bias, parents, children, prefix, rest, with_units, first, count):
    """Sum ``p(x)`` over every completion of ``template``, one cell per assignment of ``prefix``.

    Cell ``c`` sets ``prefix[j]`` to bit ``len(prefix) - 1 - j`` of ``c`` (C order) and runs through
    the ``2**len(rest)`` assignments of ``rest`` in Gray-code order, updating ``log p(x)``
    incrementally (the flipped unit's own term and its children's terms). Cells run in parallel
    and each writes only its own outputs, so the result does not depend on the thread count.

    Parameters
    ----------
    template : uint8, (n_units,)
        Values of the clamped units (others are overwritten).
    bias : float64, (n_units,)
        Biases divided by the temperature.
    parents, children : Children
        The parents and the children of every unit in CSR form (the same layout), weights
        divided by the temperature.
    prefix, rest : int64
        Disjoint free units; every unit not in them keeps its template value.
    with_units : bool
        Also accumulate, per cell, the mass of the states with each unit on.
    first, count : int
        Only the cells ``first .. first + count - 1`` (results in that order); a cell's results
        do not depend on the range.

    Returns
    -------
    peak : float64, (n_cells,)
        The largest ``log p(x)`` met in the cell.
    total : float64, (n_cells,)
        ``sum exp(log p(x) - peak)`` over the cell.
    on : float64, (n_cells, n_units) or (n_cells, 0)
        ``sum x_i exp(log p(x) - peak)`` over the cell.
    """
    # out of the bundles once, before the parallel loop (by attribute: see docs/architecture.md)
    parent_ptr = parents.ptr
    parent_index = parents.index
    parent_weight = parents.weight
    child_ptr = children.ptr
    child_index = children.index
    child_weight = children.weight
    n_units = template.shape[0]
    n_prefix = prefix.shape[0]
    n_rest = rest.shape[0]
    n_cells = count
    peak = np.empty(n_cells)
    total = np.empty(n_cells)
    on = np.zeros((n_cells, n_units if with_units else 0))
    for slot in prange(n_cells):
        cell = first + slot
        x = template.copy()
        for j in range(n_prefix):
            x[prefix[j]] = (cell >> (n_prefix - 1 - j)) & 1
        for j in range(n_rest):
            x[rest[j]] = 0
        a = np.empty(n_units)
        log_p = 0.0
        for i in range(n_units):
            value = bias[i]
            for k in range(parent_ptr[i], parent_ptr[i + 1]):
                value += parent_weight[k] * x[parent_index[k]]
            a[i] = value
            log_p += _log_bernoulli(x[i], value)
        best = log_p
        mass = 1.0
        if with_units:
            for i in range(n_units):
                on[slot, i] = x[i]
        for step in range(1, 1 << n_rest):
            bit = 0
            while (step >> bit) & 1 == 0:
                bit += 1
            i = rest[bit]
            delta = 1 - 2 * np.int64(x[i])
            # a unit's own pre-activation does not depend on its value; its children's do
            log_p += delta * a[i]
            for k in range(child_ptr[i], child_ptr[i + 1]):
                c = child_index[k]
                before = _log_bernoulli(x[c], a[c])
                a[c] += delta * child_weight[k]
                log_p += _log_bernoulli(x[c], a[c]) - before
            x[i] = np.uint8(1 - x[i])
            if log_p > best:
                scale = np.exp(best - log_p)
                mass = mass * scale + 1.0
                if with_units:
                    for u in range(n_units):
                        on[slot, u] = on[slot, u] * scale + x[u]
                best = log_p
            else:
                weight = np.exp(log_p - best)
                mass += weight
                if with_units:
                    for u in range(n_units):
                        if x[u]:
                            on[slot, u] += weight
        peak[slot] = best
        total[slot] = mass
    return peak, total, on


def enumerate_cells(template, bias, parents, children, prefix, rest, with_units):
    """Sum ``p(x)`` over every completion of ``template``, one cell per assignment of ``prefix``.

    See :func:`_enumerate_cells_kernel` for the parameters and results; the cells are computed
    in time-bounded kernel calls (Ctrl-C between them, the bits of one call), launched
    thread and fork safely (:func:`pgm_energy._launch.run_blocks`).
    """
    cost = float(2 ** rest.shape[0]) * (1.0 + children.index.shape[0] / max(template.shape[0], 1))
    return run_blocks(
        _enumerate_cells_kernel, 1 << prefix.shape[0], template, bias, parents, children, prefix, rest, with_units,
        cost_per_block=cost,
    )
