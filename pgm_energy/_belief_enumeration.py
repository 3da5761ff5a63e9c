r"""Exact inference in belief networks by enumeration: posterior queries, ``log p(v)``, ``log p(x)``.

Sigmoid belief networks are summed with the Numba kernel :func:`pgm_energy._kernels.sigmoid_belief
.enumerate_cells` (Gray-code order, one flip per step, a running log-sum-exp per cell). Deep belief
networks are summed in vectorised blocks of :meth:`DeepBeliefNetwork._log_mass`, whose top layer is
summed in closed form (its units are independent given the layer below), so only the free units
below the top layer and the queried top units are enumerated. Every enumeration is refused
(:class:`~pgm_energy.exceptions.ModelSizeError`) above ``max_units`` enumerated units.

The model methods (``query``, ``log_marginal_likelihood``, ``log_probability``) hand off here.
"""

from __future__ import annotations

import numpy as np

from ._math import log_sum_exp
from ._validation import DEFAULT_MAX_UNITS, check_bool, check_evidence, check_int, check_query_variables, check_states
from .exceptions import ModelSizeError

__all__ = [
    "DEFAULT_MAX_UNITS",
    "check_enumeration_size",
    "check_query",
    "sigmoid_belief_query",
    "sigmoid_belief_log_marginal_likelihood",
    "deep_belief_query",
    "deep_belief_log_marginal_likelihood",
    "deep_belief_log_probability",
]

# Free units used as the sigmoid-belief enumeration's cell index: 2**6 cells share the work between threads.
_PARALLEL_PREFIX = 6
# States of a deep belief network evaluated per vectorised block (about 2**14 x n_units floats).
_CHUNK = 1 << 14


def check_enumeration_size(n_enumerated: int, max_units: int, what: str, alternative: str) -> None:
    """Refuse (ModelSizeError) an enumeration of more than ``max_units`` units, saying what else to do."""
    if n_enumerated <= max_units:
        return
    raise ModelSizeError(
        f"exact enumeration of {what} visits 2**{n_enumerated} = {2.0**n_enumerated:.3g} configurations, "
        f"more than max_units={max_units} allows; pass max_units={n_enumerated} to run it anyway, "
        f"give more evidence, or use {alternative}"
    )


def check_query(network, variables, evidence, joint):
    """The checked arguments of a query: ``(clamped, joint, variables, targets)``.

    ``clamped`` maps unit index -> 0/1, ``targets`` are the indices of ``variables``.
    """
    clamped = check_evidence(evidence, network.names)
    joint = check_bool(joint, "joint")
    variables = check_query_variables(variables, network.names, clamped, joint=joint)
    return clamped, joint, variables, [network.index(name) for name in variables]


def _joint_factor(variables, log_cells):
    """The normalized joint factor of ``variables`` from the log mass of each of their assignments (C order)."""
    from .interop.pgmpy import binary_factor

    return binary_factor(variables, np.exp(log_cells - log_sum_exp(log_cells)))


def _marginal_factors(variables, log_mass, n_bits: int) -> dict:
    """One factor per variable from the log masses of all ``2**n_bits`` assignments (C order)
    of the enumerated units, the ``variables`` being the most significant bits."""
    from .interop.pgmpy import binary_factor

    log_total = log_sum_exp(log_mass)
    codes = np.arange(log_mass.shape[0], dtype=np.int64)
    result = {}
    for position, name in enumerate(variables):
        on = ((codes >> (n_bits - 1 - position)) & 1).astype(bool)
        p = float(np.clip(np.exp(log_sum_exp(log_mass[on]) - log_total), 0.0, 1.0))
        result[name] = binary_factor([name], [1.0 - p, p])
    return result


# ---------------------------------------------------------------------------- sigmoid belief networks
def _sigmoid_belief_cells(sbn, clamped: dict[int, int], prefix, rest, *, with_units: bool):
    """Log mass of each assignment (C order) of ``prefix``, summed over ``rest``; see the kernel.

    Returns ``log_mass`` (2**len(prefix),) and, with ``with_units``, ``log_on``
    (2**len(prefix), n_units): the log mass of each cell's states with unit i on (-inf if none).
    """
    from ._kernels.sigmoid_belief import Children, enumerate_cells

    template = np.zeros(sbn.n_units, dtype=np.uint8)
    for index, value in clamped.items():
        template[index] = value
    peak, total, on = enumerate_cells(
        template,
        np.concatenate(sbn.biases) / sbn.temperature,
        Children(*sbn._csr(children=False)),  # the parents, in the same CSR layout
        Children(*sbn._csr(children=True)),
        np.asarray(prefix, dtype=np.int64),
        np.asarray(rest, dtype=np.int64),
        with_units,
    )
    log_mass = peak + np.log(total)
    if not with_units:
        return log_mass, None
    with np.errstate(divide="ignore"):  # a unit never on in a cell: log 0 = -inf
        return log_mass, peak[:, None] + np.log(on)


def sigmoid_belief_query(sbn, variables, evidence=None, joint=True, *, max_units=DEFAULT_MAX_UNITS):
    """Exact posterior of a :class:`~pgm_energy.SigmoidBeliefNetwork`; see its ``query``."""
    from .interop.pgmpy import binary_factor

    clamped, joint, variables, targets = check_query(sbn, variables, evidence, joint)
    max_units = check_int(max_units, "max_units", minimum=0)
    chosen = set(targets)
    others = [i for i in range(sbn.n_units) if i not in clamped and i not in chosen]
    n_free = len(targets) + len(others)
    check_enumeration_size(
        n_free, max_units, f"the {n_free} unobserved units of a sigmoid belief network", "gibbs_posterior()"
    )
    if joint:
        # Extra prefix units only split the work into more cells (threads); summed out below.
        extra = others[: max(0, _PARALLEL_PREFIX - len(targets))]
        log_mass, _ = _sigmoid_belief_cells(sbn, clamped, targets + extra, others[len(extra) :], with_units=False)
        return _joint_factor(variables, log_sum_exp(log_mass.reshape(2 ** len(targets), 2 ** len(extra)), axis=1))
    free = targets + others
    log_mass, log_on = _sigmoid_belief_cells(
        sbn, clamped, free[:_PARALLEL_PREFIX], free[_PARALLEL_PREFIX:], with_units=True
    )
    probabilities = np.exp(log_sum_exp(log_on[:, targets], axis=0) - log_sum_exp(log_mass))
    probabilities = np.clip(probabilities, 0.0, 1.0)
    return {name: binary_factor([name], [1.0 - p, p]) for name, p in zip(variables, probabilities.tolist())}


def sigmoid_belief_log_marginal_likelihood(sbn, visible, *, max_units=DEFAULT_MAX_UNITS):
    """Exact ``log p(v)`` of a :class:`~pgm_energy.SigmoidBeliefNetwork`; see its ``log_marginal_likelihood``."""
    batch, single = check_states(visible, sbn.n_visible, "visible")
    max_units = check_int(max_units, "max_units", minimum=0)
    n_hidden = sbn.n_hidden
    check_enumeration_size(
        n_hidden, max_units, f"the {n_hidden} hidden units of a sigmoid belief network", "gibbs_posterior()"
    )
    hidden = list(range(sbn.n_visible, sbn.n_units))
    rows, inverse = np.unique(batch.astype(np.uint8), axis=0, return_inverse=True)
    values = np.empty(rows.shape[0])
    for r, row in enumerate(rows):
        log_mass, _ = _sigmoid_belief_cells(
            sbn, dict(enumerate(row.tolist())), hidden[:_PARALLEL_PREFIX], hidden[_PARALLEL_PREFIX:], with_units=False
        )
        values[r] = log_sum_exp(log_mass)
    values = values[inverse.ravel()]
    return float(values[0]) if single else values


# ---------------------------------------------------------------------------- deep belief networks
def _deep_belief_masses(dbn, clamped: dict[int, int], enumerated: list[int], max_units: int, what: str) -> np.ndarray:
    """Log masses of every assignment of ``enumerated`` (C order: the first unit is the most significant bit).

    Units of the top layer neither clamped nor enumerated are summed exactly (they are
    independent given the layer below); every other unit must be clamped or enumerated.
    """
    n_enumerated = len(enumerated)
    check_enumeration_size(n_enumerated, max_units, what, "method='gibbs'")
    template = np.zeros(dbn.n_units)
    for index, value in clamped.items():
        template[index] = value
    chosen = set(enumerated) | set(clamped)
    summed = np.array([i not in chosen for i in dbn._top_indices()], dtype=bool)
    columns = np.asarray(enumerated, dtype=np.int64)
    shifts = np.arange(n_enumerated - 1, -1, -1, dtype=np.int64)
    total = 1 << n_enumerated
    out = np.empty(total)
    for start in range(0, total, _CHUNK):
        stop = min(total, start + _CHUNK)
        codes = np.arange(start, stop, dtype=np.int64)
        batch = np.repeat(template[None, :], stop - start, axis=0)
        if n_enumerated:
            batch[:, columns] = (codes[:, None] >> shifts) & 1
        out[start:stop] = dbn._log_mass(batch, summed)
    return out


def deep_belief_query(dbn, variables, evidence=None, joint=True, *, max_units=DEFAULT_MAX_UNITS):
    """Exact posterior of a :class:`~pgm_energy.DeepBeliefNetwork`; see its ``query`` (``method="exact"``)."""
    clamped, joint, variables, targets = check_query(dbn, variables, evidence, joint)
    max_units = check_int(max_units, "max_units", minimum=0)
    others = dbn._free_lower(clamped, exclude=targets)
    n_enumerated = len(targets) + len(others)
    log_mass = _deep_belief_masses(
        dbn, clamped, targets + others, max_units,
        f"the {n_enumerated} free units below the top layer and the queried ones",
    )
    if joint:
        return _joint_factor(variables, log_sum_exp(log_mass.reshape(1 << len(targets), 1 << len(others)), axis=1))
    return _marginal_factors(variables, log_mass, n_enumerated)


def deep_belief_log_marginal_likelihood(dbn, visible, *, max_units=DEFAULT_MAX_UNITS):
    """Exact ``log p(v)`` of a :class:`~pgm_energy.DeepBeliefNetwork`; see its ``log_marginal_likelihood``."""
    from . import exact

    batch, single = check_states(visible, dbn.n_visible, "visible")
    max_units = check_int(max_units, "max_units", minimum=0)
    hidden = list(range(dbn.n_visible, dbn._top_indices().start))
    # refused before log Z_top is computed
    check_enumeration_size(
        len(hidden), max_units, f"the {len(hidden)} hidden units below the top layer", "method='gibbs'"
    )
    log_z = exact.log_partition_function(dbn.top_rbm)
    rows, inverse = np.unique(batch.astype(np.uint8), axis=0, return_inverse=True)
    values = np.empty(rows.shape[0])
    for r, row in enumerate(rows):
        masses = _deep_belief_masses(dbn, dict(enumerate(row.tolist())), hidden, max_units, "the hidden units")
        values[r] = log_sum_exp(masses) - log_z
    values = values[inverse.ravel()]
    return float(values[0]) if single else values


def deep_belief_log_probability(dbn, states, *, max_units=DEFAULT_MAX_UNITS):
    """Exact ``log p(x)`` of complete configurations of a :class:`~pgm_energy.DeepBeliefNetwork`."""
    from . import exact

    log_z = exact.log_partition_function(dbn.top_rbm, max_units=max_units)
    return dbn.unnormalized_log_probability(states) - log_z
