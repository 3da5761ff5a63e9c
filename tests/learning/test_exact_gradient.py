"""ExactGradient: the gradient against finite differences of the exact log-likelihood, and training."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pgm_energy import RestrictedBoltzmannMachine, exact
from pgm_energy.exceptions import ModelSizeError
from pgm_energy.learning import ExactGradient
from pgm_energy.learning.exact_gradient import log_likelihood_gradient


def random_rbm(n_visible, n_hidden, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return RestrictedBoltzmannMachine(
        rng.normal(0, scale, (n_visible, n_hidden)), rng.normal(0, scale, n_visible), rng.normal(0, scale, n_hidden)
    )


def finite_difference(rbm, data, which, index, step=1e-5):
    def value(delta):
        arrays = {"weights": rbm.weights.copy(), "visible_bias": rbm.visible_bias.copy(), "hidden_bias": rbm.hidden_bias.copy()}
        arrays[which][index] += delta
        return exact.log_likelihood(RestrictedBoltzmannMachine(**arrays), data)

    return (value(step) - value(-step)) / (2 * step)


@pytest.mark.parametrize("shape", [(5, 3), (3, 6)])  # enumerates the hidden, then the visible layer
def test_gradient_matches_finite_differences_of_the_exact_log_likelihood(shape):
    rbm = random_rbm(*shape, seed=1)
    data = np.random.default_rng(2).integers(0, 2, size=(25, shape[0]))
    gradient = log_likelihood_gradient(rbm, data)
    assert gradient.log_likelihood == pytest.approx(exact.log_likelihood(rbm, data), abs=1e-12)
    assert gradient.log_z == pytest.approx(exact.log_partition_function(rbm), abs=1e-12)
    for which in ("weights", "visible_bias", "hidden_bias"):
        analytic = getattr(gradient, which)
        assert analytic.shape == getattr(rbm, which).shape
        numeric = np.array([finite_difference(rbm, data, which, index) for index in np.ndindex(analytic.shape)])
        # central differences: error ~ step^2 * third derivative, plus roundoff ~ 1e-16 / step
        np.testing.assert_allclose(analytic.ravel(), numeric, atol=2e-8)


def test_model_term_against_brute_force_with_large_weights():
    """Weights of +-40: the streamed softmax must neither overflow nor lose the dominant states."""
    rbm = random_rbm(4, 3, seed=3, scale=40.0)
    data = np.array([[1, 0, 1, 1]])
    gradient = log_likelihood_gradient(rbm, data)
    states = [(np.array(v), np.array(h)) for v in itertools.product((0, 1), repeat=4) for h in itertools.product((0, 1), repeat=3)]
    log_weights = np.array([-rbm.energy(v, h) for v, h in states])
    p = np.exp(log_weights - log_weights.max())
    p /= p.sum()
    model_vh = sum(pk * np.outer(v, h) for pk, (v, h) in zip(p, states))
    data_vh = np.outer(data[0], rbm.hidden_probabilities(data[0]))
    np.testing.assert_allclose(gradient.weights, data_vh - model_vh, atol=1e-9)
    assert np.all(np.isfinite(gradient.visible_bias)) and np.all(np.isfinite(gradient.hidden_bias))


def test_size_guard():
    rbm = RestrictedBoltzmannMachine.random(22, 21, rng=0)
    with pytest.raises(ModelSizeError, match="max_units=20"):
        log_likelihood_gradient(rbm, np.zeros((1, 22)))
    with pytest.raises(ModelSizeError):
        ExactGradient(epochs=1, monitor=None).fit(rbm, np.zeros((2, 22)), progress=False)
    with pytest.raises(ModelSizeError):
        ExactGradient(epochs=1, monitor=None).fit(21, np.zeros((2, 22)), progress=False)


def test_training_climbs_to_near_the_optimum_on_bars_and_stripes(bas3):
    data = np.tile(bas3, (10, 1))
    optimum = -np.log(len(bas3))  # every pattern equally likely, nothing else
    result = ExactGradient(epochs=300, learning_rate=0.5, momentum=0.9, monitor=None).fit(12, data, rng=0, progress=False)
    reached = exact.log_likelihood(result.model, data)
    # measured -2.669 (optimum -2.639); the independent-unit start is about -6.2
    assert optimum - 0.15 < reached <= optimum + 1e-9
    before = result.history["log_likelihood_before"]
    assert before[-1] > before[0] + 3.0


def test_finishing_a_model_only_improves_it_with_a_small_step(small_binary):
    start = random_rbm(8, 4, seed=5, scale=0.5)
    result = ExactGradient(epochs=30, learning_rate=0.05, momentum=0.0, monitor=None).fit(start, small_binary, progress=False)
    values = result.history["log_likelihood_before"]
    # small steps of plain gradient ascent on a smooth function: monotone
    assert np.all(np.diff(values) > 0)
    assert exact.log_likelihood(result.model, small_binary) > exact.log_likelihood(start, small_binary) + 0.05
    assert result.model.visible_names == start.visible_names
