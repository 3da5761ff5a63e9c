"""Shared builders of the Gaussian-Bernoulli RBM tests: random machines, every hidden state, the energy by hand."""

import itertools
import math
import sys

import numpy as np

from pgm_energy.models.gaussian_rbm import GaussianBernoulliRBM

# the test modules import these helpers as ``conftest_gaussian`` (pytest's importlib mode has no package here)
sys.modules.setdefault("conftest_gaussian", sys.modules[__name__])


def random_gaussian_rbm(seed, n_visible=3, n_hidden=4, *, weight_scale=1.0, temperature=1.0):
    """Weights, biases of order ``weight_scale``, standard deviations between about 0.5 and 2."""
    g = np.random.default_rng(seed)
    return GaussianBernoulliRBM(
        g.normal(0.0, weight_scale, (n_visible, n_hidden)),
        g.normal(0.0, 1.0, n_visible),
        g.normal(0.0, weight_scale, n_hidden),
        np.exp(g.uniform(-0.7, 0.7, n_visible)),
        temperature=temperature,
    )


def hidden_states(n_hidden):
    """Every hidden state, shape (2**n_hidden, n_hidden), in itertools.product order."""
    return np.array(list(itertools.product((0.0, 1.0), repeat=n_hidden)))


def direct_energy(model, v, h):
    """E(v, h) written from its definition, one term at a time."""
    W, b, c, sigma = model.weights, model.visible_bias, model.hidden_bias, model.sigma
    energy = 0.0
    for i in range(model.n_visible):
        energy += (v[i] - b[i]) ** 2 / (2.0 * sigma[i] ** 2)
    for j in range(model.n_hidden):
        energy -= c[j] * h[j]
    for i in range(model.n_visible):
        for j in range(model.n_hidden):
            energy -= v[i] / sigma[i] ** 2 * W[i, j] * h[j]
    return energy


def closed_form_log_weights(model):
    """log of the integral over v of exp(-E(v, h) / T), per hidden state (the module docstring's formula, in NumPy)."""
    T = model.temperature
    W, b, c, sigma = model.weights, model.visible_bias, model.hidden_bias, model.sigma
    H = hidden_states(model.n_hidden)
    means = b + H @ W.T
    phi = H @ c / T + (((means**2 - b**2) / (2.0 * sigma**2 * T))).sum(axis=1)
    return 0.5 * model.n_visible * math.log(2.0 * math.pi * T) + np.log(sigma).sum() + phi
