"""Exact answers for deep Boltzmann machines through their bipartite embedding (even layers | odd layers).

:mod:`pgm_energy.exact` hands a :class:`~pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine` to the
functions here. No edge joins two layers of the same parity, so
:meth:`~pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine.to_bipartite_rbm` is an exact RBM
with the even layers (``v, h2, ...``) on one side and the odd layers (``h1, h3, ...``) on the other,
units named as in the deep machine: the RBM's exact answers are the deep machine's. The RBM
enumerates its smaller side and sums the other in closed form, so a ``v - h1 - h2`` machine is
exact whenever ``|h1|`` (or ``|v| + |h2|``) is at most ``max_units``. Answers are given in the deep
machine's unit order.

``log_likelihood`` sums over the hidden units of the even side as evidence-conditioned
partition functions, one per distinct data row (``log p(v) = log Z(v) - log Z``): exact, at the
cost of one enumeration per distinct row.
"""

from __future__ import annotations

import numpy as np

from . import exact
from ._validation import check_states
from .exceptions import ValidationError

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
    visible_names = model.visible_names
    if hasattr(data, "columns"):
        missing = [name for name in visible_names if name not in data.columns]
        if missing:
            raise ValidationError(f"data is missing columns for visible units {missing[:5]!r}")
        data = data[list(visible_names)].to_numpy()
    batch, _ = check_states(data, len(visible_names), "data")
    if batch.shape[0] == 0:
        raise ValidationError("data must hold at least one sample, got 0 rows")
    rbm = _rbm(model)
    log_z = exact.log_partition_function(rbm, max_units=max_units)
    rows, counts = np.unique(batch.astype(np.int8), axis=0, return_counts=True)
    total = 0.0
    for row, count in zip(rows, counts):
        evidence = dict(zip(visible_names, row.tolist()))
        total += count * exact.log_partition_function(rbm, evidence=evidence, max_units=max_units)
    return float(total / batch.shape[0] - log_z)


def mean_energy(model, *, max_units) -> float:
    return exact.mean_energy(_rbm(model), max_units=max_units)


def entropy(model, *, max_units) -> float:
    return exact.entropy(_rbm(model), max_units=max_units)
