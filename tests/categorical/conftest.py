"""Shared builders of the categorical RBM tests: random machines and every joint state, by brute force."""

import itertools
import sys

import numpy as np
from scipy.special import logsumexp

from pgm_energy.models.categorical_rbm import CategoricalRBM

# the test modules import these helpers as ``conftest_categorical`` (pytest's importlib mode has no package here)
sys.modules.setdefault("conftest_categorical", sys.modules[__name__])


def random_crbm(seed, cardinalities=(3, 2, 4), n_hidden=3, scale=1.0, **options):
    """A machine with every parameter drawn from N(0, scale^2)."""
    g = np.random.default_rng(seed)
    total = sum(cardinalities)
    return CategoricalRBM(g.normal(0, scale, (total, n_hidden)), g.normal(0, scale, total),
                          g.normal(0, scale, n_hidden), cardinalities=list(cardinalities), **options)


def all_visible(cardinalities):
    return np.array(list(itertools.product(*[range(k) for k in cardinalities])), dtype=np.int64).reshape(
        -1, len(cardinalities))


def all_hidden(n_hidden):
    return np.array(list(itertools.product([0, 1], repeat=n_hidden)), dtype=np.int64).reshape(-1, n_hidden)


def joint_states(model):
    """Every (v, h): visible state indices (n, n_visible) and hidden 0/1 (n, n_hidden), visible slowest."""
    v, h = all_visible(model.cardinalities), all_hidden(model.n_hidden)
    return np.repeat(v, len(h), axis=0), np.tile(h, (len(v), 1))


def brute_force(model, clamped=None):
    """(log Z, probabilities, visible, hidden) over every joint state, those disagreeing with ``clamped`` dropped.

    ``clamped``: {unit index in ``model.names``: state index}.
    """
    v, h = joint_states(model)
    states = np.hstack([v, h])
    keep = np.ones(len(states), dtype=bool)
    for i, a in (clamped or {}).items():
        keep &= states[:, i] == a
    v, h = v[keep], h[keep]
    log_weights = model.unnormalized_log_probability(v, h)
    log_z = logsumexp(log_weights)
    return log_z, np.exp(log_weights - log_z), v, h
