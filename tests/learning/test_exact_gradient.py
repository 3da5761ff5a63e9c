"""ExactGradient: the gradient against finite differences of the exact log-likelihood, and training."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pgm_energy import RestrictedBoltzmannMachine, exact
from pgm_energy.exceptions import ModelSizeError, ParameterTypeError, ValidationError
from pgm_energy.learning import ExactGradient
from pgm_energy.learning import exact_gradient
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
@pytest.mark.parametrize("low_bits", [12, 1])  # one block of states; blocks of 2 states with the rest fixed
def test_gradient_matches_finite_differences_of_the_exact_log_likelihood(shape, low_bits, monkeypatch):
    monkeypatch.setattr(exact_gradient, "_MAX_LOW_BITS", low_bits)
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


@pytest.mark.parametrize("scale", [40.0, 300.0])  # factored exponentials; direct ones (fields beyond +-350)
@pytest.mark.parametrize("low_bits", [12, 1])
def test_model_term_against_brute_force_with_large_weights(scale, low_bits, monkeypatch):
    """Weights of +-40 and +-300: the log-space sums must neither overflow nor lose the dominant states."""
    monkeypatch.setattr(exact_gradient, "_MAX_LOW_BITS", low_bits)
    rbm = random_rbm(4, 3, seed=3, scale=scale)
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


def test_threaded_enumeration_gives_the_same_bits_as_one_thread(monkeypatch):
    """Blocks are combined in a fixed order, so the worker count cannot change the result."""
    rbm = random_rbm(14, 15, seed=7, scale=0.3)
    data = np.random.default_rng(8).integers(0, 2, size=(30, 14))
    monkeypatch.setattr(exact_gradient, "_MAX_LOW_BITS", 6)
    monkeypatch.setattr(exact_gradient, "_PARALLEL_WORK", 0)
    results = []
    for workers in (1, 2, 3):
        monkeypatch.setattr(exact_gradient, "_worker_count", lambda workers=workers: workers)
        results.append(log_likelihood_gradient(rbm, data))
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)
    assert results[0].log_z == pytest.approx(exact.log_partition_function(rbm), abs=1e-10)


def test_size_guard():
    rbm = RestrictedBoltzmannMachine.random(32, 31, rng=0)
    with pytest.raises(ModelSizeError, match="max_units=30"):
        log_likelihood_gradient(rbm, np.zeros((1, 32)))
    with pytest.raises(ModelSizeError):
        ExactGradient(epochs=1, monitor=None).fit(rbm, np.zeros((2, 32)), progress=False)
    with pytest.raises(ModelSizeError):
        ExactGradient(epochs=1, monitor=None).fit(31, np.zeros((2, 32)), progress=False)


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


def penalized_objective(model, data, weight_decay):
    return exact.log_likelihood(model, data) - 0.5 * weight_decay * float(np.sum(model.weights**2))


def test_lbfgs_climbs_monotonically_and_records_the_true_objective(small_binary):
    start = random_rbm(8, 4, seed=5, scale=0.5)
    weight_decay = 1e-2
    recorded = []

    def record(epoch, model, history):
        recorded.append(penalized_objective(model, small_binary, weight_decay))

    result = ExactGradient(method="lbfgs", weight_decay=weight_decay, epochs=40, monitor=None).fit(
        start, small_binary, callbacks=[record], progress=False
    )
    objective = np.asarray(result.history["objective"])
    # the history's objective is the penalized log-likelihood of the model after each iteration
    np.testing.assert_allclose(objective, recorded, atol=1e-10)
    # Armijo line search: every accepted iteration increases the objective (rounding aside)
    assert np.all(np.diff(objective) >= -1e-12)
    assert objective[-1] > penalized_objective(start, small_binary, weight_decay) + 0.5


def test_lbfgs_converges_to_a_stationary_point_by_finite_differences(small_binary):
    """At the end the finite-difference gradient of the penalized exact log-likelihood vanishes."""
    start = random_rbm(8, 3, seed=6, scale=0.3)
    weight_decay = 0.05  # the penalty makes the optimum well defined (no weights running off to infinity)
    result = ExactGradient(method="lbfgs", weight_decay=weight_decay, epochs=150, monitor=None).fit(
        start, small_binary, progress=False
    )
    model = result.model
    assert result.history["gradient_norm"][-1] < 1e-5

    def objective(arrays):
        return penalized_objective(RestrictedBoltzmannMachine(**arrays), small_binary, weight_decay)

    base = {"weights": model.weights, "visible_bias": model.visible_bias, "hidden_bias": model.hidden_bias}
    step = 1e-5
    for which, values in base.items():
        for index in np.ndindex(values.shape):
            plus, minus = ({k: v.copy() for k, v in base.items()} for _ in range(2))
            plus[which][index] += step
            minus[which][index] -= step
            # central-difference error ~1e-9 here; a point 1e-4 away from the optimum would show ~1e-5
            assert abs(objective(plus) - objective(minus)) / (2 * step) < 1e-6


def test_lbfgs_resumes_exactly_from_a_checkpoint(small_binary, tmp_path):
    start = random_rbm(8, 4, seed=5, scale=0.5)
    options = dict(method="lbfgs", weight_decay=1e-3, epochs=9, monitor=None)
    full = ExactGradient(**options).fit(start, small_binary, progress=False)
    path = tmp_path / "run.npz"
    ExactGradient(**options, checkpoint_every=2, checkpoint_path=path).fit(
        start, small_binary, callbacks=[lambda epoch, model, history: epoch == 5], progress=False
    )
    resumed = ExactGradient(**options).fit(start, small_binary, resume_from=path, progress=False)
    np.testing.assert_array_equal(resumed.model.weights, full.model.weights)
    np.testing.assert_array_equal(resumed.model.hidden_bias, full.model.hidden_bias)
    assert list(resumed.history["objective"]) == list(full.history["objective"])


def test_lbfgs_option_errors():
    with pytest.raises(ValidationError, match="method"):
        ExactGradient(method="newton")
    with pytest.raises(ParameterTypeError, match="method"):
        ExactGradient(method=1)
    with pytest.raises(ValidationError, match="batch_size=10"):
        ExactGradient(method="lbfgs", batch_size=10)
    with pytest.raises(ValidationError, match="memory"):
        ExactGradient(method="lbfgs", memory=0)
