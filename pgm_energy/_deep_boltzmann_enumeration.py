"""Exact answers for deep Boltzmann machines through their bipartite embedding (even layers | odd layers).

:mod:`pgm_energy.exact` hands a :class:`~pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine` to the
functions here. No edge joins two layers of the same parity, so
:meth:`~pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine.to_bipartite_rbm` is an exact RBM
with the even layers (``v, h2, ...``) on one side and the odd layers (``h1, h3, ...``) on the other,
units named as in the deep machine: the RBM's exact answers are the deep machine's. The RBM
enumerates its smaller side and sums the other in closed form, so a ``v - h1 - h2`` machine is
exact whenever ``|h1|`` (or ``|v| + |h2|``) is at most ``max_units``. Answers are given in the deep
machine's unit order.

``log_likelihood`` enumerates the odd layers once for all rows, in blocks (one matrix product per
block), and sums the even hidden layers in closed form given them; when only the even side is
small enough, it sums per distinct row (``log p(v) = log Z(v) - log Z``, one enumeration each).
"""

from __future__ import annotations

import numpy as np

from . import exact
from ._validation import check_states

__all__ = ["log_partition_function", "marginals", "query", "log_probability", "log_likelihood", "mean_energy",
           "entropy"]


def _rbm(model):
    return model.to_bipartite_rbm()


def _to_rbm_order(model, rbm, states):
    """Columns of ``states`` (the deep machine's unit order) in the RBM's order (even layers, then odd)."""
    order = [model.index(name) for name in rbm.names]
    return states[..., order]


def log_partition_function(model, *, evidence=None, max_units) -> float:
    return exact.log_partition_function(_rbm(model), evidence=evidence, max_units=max_units)


def marginals(model, *, evidence=None, max_units):
    """``p(x_i = 1 | evidence)`` of every unit, a Series in the deep machine's unit order."""
    return exact.marginals(_rbm(model), evidence=evidence, max_units=max_units).reindex(list(model.names))


def query(model, variables, *, evidence=None, joint=True, max_units):
    return exact.query(_rbm(model), variables, evidence=evidence, joint=joint, max_units=max_units)


def log_probability(model, states, *, max_units):
    batch, single = check_states(states, model.n_units)
    rbm = _rbm(model)
    values = exact.log_probability(rbm, _to_rbm_order(model, rbm, batch), max_units=max_units)
    return float(values[0]) if single else values


def log_likelihood(model, data, *, max_units) -> float:
    """Mean ``log p(v)``: the hidden units of both parities summed (``data`` in visible-name order)."""
    from .models._base import visible_rows

    visible_names = model.visible_names
    batch = visible_rows(model, data)
    rbm = _rbm(model)
    log_z = exact.log_partition_function(rbm, max_units=max_units)
    rows, counts = np.unique(batch.astype(np.int8), axis=0, return_counts=True)
    if rbm.n_hidden <= max_units and _blocked_is_cheaper(model, rbm, rows.shape[0]):
        # the odd side enumerated once for every row
        return float(counts @ _log_unnormalised_visible(model, rbm, rows) / batch.shape[0] - log_z)
    total = 0.0
    for row, count in zip(rows, counts):
        evidence = dict(zip(visible_names, row.tolist()))
        total += count * exact.log_partition_function(rbm, evidence=evidence, max_units=max_units)
    return float(total / batch.shape[0] - log_z)


#: the cost of one exact call per row beyond its enumeration (checks, kernel launch), in unit updates
_CALL_COST = 1e5


def _blocked_is_cheaper(model, rbm, n_rows: int) -> bool:
    """Whether enumerating the odd side once for all rows costs less than one small enumeration per row.

    Given a row, the rest is an RBM between the odd layers and the even hidden ones, whose smaller
    side is enumerated: ``2**min(odd, even hidden)`` states per row (a 64-20-10 machine: 2**10 per
    row against 2**20 for the blocked table).
    """
    n_odd, n_even_hidden = rbm.n_hidden, rbm.n_visible - model.n_visible
    blocked = 2.0**n_odd * (n_even_hidden + model.n_visible + n_rows)
    per_row = n_rows * (2.0 ** min(n_odd, n_even_hidden) * max(n_odd, n_even_hidden, 1) + _CALL_COST)
    return blocked <= per_row


#: odd-side patterns per block (the block's table is rows x patterns)
_PATTERNS_PER_BLOCK = 1 << 14


def _log_unnormalised_visible(model, rbm, visible) -> np.ndarray:
    """``log sum_{hidden} exp(-E / T)`` for each visible row, the odd layers enumerated in blocks.

    With the odd pattern ``o`` fixed, the even units are independent: the visible ones are given
    and every other even unit sums to ``softplus`` of its input. So
    ``log p~(v) = b_v.v / T + logsumexp_o [g(o) + v^T W_vo o / T]`` with
    ``g(o) = c.o / T + sum_{even hidden e} softplus((b_e + W_eo o) / T)``, one matrix product per block.
    """
    from ._math import log_sum_exp

    temperature = model.temperature
    n_visible = model.n_visible  # the visible layer leads the even side
    weights, even_bias, odd_bias = rbm.weights / temperature, rbm.visible_bias / temperature, rbm.hidden_bias / temperature
    n_odd = rbm.n_hidden
    visible = np.asarray(visible, dtype=np.float64)
    totals = []
    for start in range(0, 1 << n_odd, _PATTERNS_PER_BLOCK):
        codes = np.arange(start, min(start + _PATTERNS_PER_BLOCK, 1 << n_odd))
        patterns = ((codes[:, None] >> np.arange(n_odd)) & 1).astype(np.float64)  # (P, n_odd)
        hidden_inputs = patterns @ weights[n_visible:].T + even_bias[n_visible:]  # (P, n_even_hidden)
        g = patterns @ odd_bias + np.logaddexp(0.0, hidden_inputs).sum(axis=1)  # (P,)
        table = visible @ (weights[:n_visible] @ patterns.T)  # (rows, P)
        table += g
        totals.append(log_sum_exp(table, axis=1))
    return visible @ even_bias[:n_visible] + log_sum_exp(np.stack(totals, axis=1), axis=1)


def mean_energy(model, *, max_units) -> float:
    return exact.mean_energy(_rbm(model), max_units=max_units)


def entropy(model, *, max_units) -> float:
    return exact.entropy(_rbm(model), max_units=max_units)
