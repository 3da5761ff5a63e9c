"""Plain NumPy brute force shared by the property tests.

Nothing here calls pgm_energy's energy, probability or enumeration code: the
models are read only through their parameters (weights, biases, offset,
temperature), and every state is enumerated with ``itertools.product``.
"""

from __future__ import annotations

import itertools

import numpy as np

from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine


def all_states(n_units: int) -> np.ndarray:
    """Every 0/1 state of ``n_units`` units, shape (2**n, n), first unit slowest."""
    return np.array(list(itertools.product((0, 1), repeat=n_units)), dtype=np.float64).reshape(2**n_units, n_units)


def state_index(states: np.ndarray) -> np.ndarray:
    """Row of each state in :func:`all_states` (first unit is the most significant bit)."""
    states = np.atleast_2d(states).astype(np.int64)
    n_units = states.shape[1]
    return states @ (1 << np.arange(n_units - 1, -1, -1))


def log_sum_exp(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=np.float64)
    top = np.max(values)
    return float(top + np.log(np.sum(np.exp(values - top))))


def bm_parameters(bm: BoltzmannMachine):
    weights = bm.weights.toarray() if hasattr(bm.weights, "toarray") else np.array(bm.weights)
    return weights, np.array(bm.biases), bm.offset, bm.temperature


def bm_energies(bm: BoltzmannMachine, states: np.ndarray) -> np.ndarray:
    """``-sum_{i<j} W_ij s_i s_j - sum_i b_i s_i + offset``, summed over explicit pairs."""
    weights, biases, offset, _ = bm_parameters(bm)
    states = np.atleast_2d(np.asarray(states, dtype=np.float64))
    rows, cols = np.triu_indices(weights.shape[0], 1)
    pair_terms = (states[:, rows] * states[:, cols]) @ weights[rows, cols]
    return -pair_terms - states @ biases + offset


def rbm_energies(rbm: RestrictedBoltzmannMachine, visible: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """``-sum_ij v_i W_ij h_j - b.v - c.h`` for paired rows of ``visible`` and ``hidden``."""
    visible = np.atleast_2d(np.asarray(visible, dtype=np.float64))
    hidden = np.atleast_2d(np.asarray(hidden, dtype=np.float64))
    weights = np.array(rbm.weights)
    pair_terms = np.einsum("ki,ij,kj->k", visible, weights, hidden)
    return -pair_terms - visible @ np.array(rbm.visible_bias) - hidden @ np.array(rbm.hidden_bias)


def joint_energies(model) -> np.ndarray:
    """Energies of every complete state (for an RBM: visible units, then hidden ones)."""
    states = all_states(model.n_units)
    if isinstance(model, RestrictedBoltzmannMachine):
        return rbm_energies(model, states[:, : model.n_visible], states[:, model.n_visible :])
    return bm_energies(model, states)


def joint_log_probabilities(model) -> tuple[np.ndarray, float]:
    """``(log p(s) for every state in all_states order, log Z)`` by brute force."""
    log_weights = -joint_energies(model) / model.temperature
    log_z = log_sum_exp(log_weights)
    return log_weights - log_z, log_z


def consistent_with(states: np.ndarray, model, evidence: dict) -> np.ndarray:
    """Boolean mask of the rows of ``states`` that agree with ``evidence``."""
    mask = np.ones(states.shape[0], dtype=bool)
    for name, value in evidence.items():
        mask &= states[:, model.names.index(name)] == value
    return mask


def energy_scale(model) -> float:
    """A bound on ``|E(s)| / T`` over all states: the size of the numbers involved."""
    if isinstance(model, RestrictedBoltzmannMachine):
        total = np.abs(model.weights).sum() + np.abs(model.visible_bias).sum() + np.abs(model.hidden_bias).sum()
    else:
        weights, biases, offset, _ = bm_parameters(model)
        total = np.abs(np.triu(weights, 1)).sum() + np.abs(biases).sum() + abs(offset)
    return float(total) / model.temperature


def tolerance(model, base: float = 1e-9) -> float:
    """Absolute tolerance for log-space quantities of ``model``, scaled by its energy range."""
    return base * (1.0 + energy_scale(model))


def factor_log_table(factor, assignment: dict) -> float:
    """``log factor(assignment)`` read from the factor's table by state name."""
    index = tuple(
        list(factor.state_names[variable]).index(assignment[variable]) for variable in factor.scope()
    )
    return float(np.log(np.asarray(factor.values)[index]))
