"""Exact answers for Gaussian-Bernoulli RBMs against numerical integration and the closed form in NumPy."""

import math
import os

import numpy as np
import pytest
from scipy import integrate
from scipy.special import logsumexp

from pgm_energy import RestrictedBoltzmannMachine
from pgm_energy import _gaussian_enumeration as exact
from pgm_energy._kernels.gaussian_enumeration import gaussian_block_sums, gaussian_block_sums_serial
from pgm_energy.exceptions import EvidenceError, ModelSizeError, ParameterTypeError, StateError, ValidationError
from pgm_energy.models.gaussian_rbm import GaussianBernoulliRBM

from conftest_gaussian import closed_form_log_weights, direct_energy, hidden_states, random_gaussian_rbm

MAX = 30  # max_units of every call that should run


def integrand(model, shift=0.0):
    """v -> sum_h exp(-E(v, h) / T - shift), the energy written out (independent of the package's formulas)."""
    H = hidden_states(model.n_hidden)

    def mass(*v):
        v = np.array(v[::-1]) if len(v) > 1 else np.array(v)  # dblquad passes (y, x)
        return math.fsum(math.exp(-direct_energy(model, v, h) / model.temperature - shift) for h in H)

    return mass


def bounds(model, i):
    """An interval that holds all but a negligible part of visible unit ``i``'s mass."""
    means = model.visible_mean(hidden_states(model.n_hidden))[:, i]
    spread = 14.0 * model.visible_std[i]
    return means.min() - spread, means.max() + spread


def numerical_log_z(model, shift):
    if model.n_visible == 1:
        lo, hi = bounds(model, 0)
        value, error = integrate.quad(integrand(model, shift), lo, hi, epsabs=0.0, epsrel=1e-13, limit=200)
    else:
        (lo0, hi0), (lo1, hi1) = bounds(model, 0), bounds(model, 1)
        value, error = integrate.dblquad(integrand(model, shift), lo0, hi0, lo1, hi1, epsabs=0.0, epsrel=1e-11)
    return math.log(value) + shift


# --------------------------------------------------------------------------- log Z
@pytest.mark.parametrize("temperature", [1.0, 0.6, 2.3])
@pytest.mark.parametrize("n_hidden", [1, 2, 3])
def test_log_z_of_one_visible_unit_matches_quadrature(n_hidden, temperature):
    model = random_gaussian_rbm(n_hidden, 1, n_hidden, temperature=temperature)
    log_z = exact.log_partition_function(model, max_units=MAX)
    assert log_z == pytest.approx(numerical_log_z(model, shift=log_z), abs=1e-11)


@pytest.mark.parametrize("temperature", [1.0, 1.8])
@pytest.mark.parametrize("n_hidden", [1, 2])
def test_log_z_of_two_visible_units_matches_double_quadrature(n_hidden, temperature):
    model = random_gaussian_rbm(10 + n_hidden, 2, n_hidden, temperature=temperature)
    log_z = exact.log_partition_function(model, max_units=MAX)
    assert log_z == pytest.approx(numerical_log_z(model, shift=log_z), abs=1e-9)


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (7, 8), (2, 10), (12, 9)])
@pytest.mark.parametrize("temperature", [1.0, 0.3, 4.0])
def test_log_z_matches_the_closed_form_summed_in_numpy(shape, temperature):
    model = random_gaussian_rbm(sum(shape), *shape, temperature=temperature)
    expected = logsumexp(closed_form_log_weights(model))
    assert exact.log_partition_function(model, max_units=MAX) == pytest.approx(expected, rel=1e-13, abs=1e-12)


def test_weights_of_fifty_neither_overflow_nor_underflow():
    model = random_gaussian_rbm(5, 4, 9, weight_scale=50.0)
    expected = logsumexp(closed_form_log_weights(model))
    assert abs(expected) > 1e4
    assert exact.log_partition_function(model, max_units=MAX) == pytest.approx(expected, rel=1e-13)


@pytest.mark.skipif(os.environ.get("PGM_ENERGY_PARALLEL_TWIN_TESTS") != "1",
                    reason="compiles the parallel kernel (seconds on an empty cache): set PGM_ENERGY_PARALLEL_TWIN_TESTS=1")
def test_parallel_kernel_and_serial_twin_give_the_same_bits():
    model = random_gaussian_rbm(7, 4, 20, weight_scale=0.3)
    u = 1.0 / model.sigma
    arguments = (np.ascontiguousarray((model.weights * u[:, None]).T), model.visible_bias * u, model.hidden_bias.copy())
    # first and count given as the launcher gives them, so that no other specialisation compiles
    parallel = gaussian_block_sums(*arguments, 8, True, 0, 256)
    serial = gaussian_block_sums_serial(*arguments, 8, True, 0, 256)
    for a, b in zip(parallel, serial):
        np.testing.assert_array_equal(a, b)
    # blocks computed by separate calls concatenate to the bits of one call
    pieces = [gaussian_block_sums_serial(*arguments, 8, True, first, 64) for first in range(0, 256, 64)]
    for k in range(3):
        np.testing.assert_array_equal(np.concatenate([piece[k] for piece in pieces]), serial[k])
    # and the public answer (which takes the parallel kernel here) agrees with them
    log_z = exact.log_partition_function(model, max_units=MAX)
    constant = 2.0 * math.log(2.0 * math.pi) + np.log(model.sigma).sum()
    assert log_z == logsumexp(serial[0]) + constant


# --------------------------------------------------------------------------- marginals, evidence, queries
def hidden_distribution(model):
    log_weights = closed_form_log_weights(model)
    return np.exp(log_weights - logsumexp(log_weights)), hidden_states(model.n_hidden)


@pytest.mark.parametrize("seed", range(3))
def test_hidden_marginals_match_brute_force(seed):
    model = random_gaussian_rbm(seed, 4, 6, temperature=0.8)
    p, H = hidden_distribution(model)
    marginals = exact.marginals(model, max_units=MAX)
    assert marginals.name == "p(on)" and list(marginals.index) == list(model.hidden_names)
    np.testing.assert_allclose(marginals.to_numpy(), p @ H, rtol=1e-12, atol=1e-14)


def test_clamped_hidden_units():
    model = random_gaussian_rbm(4, 3, 6, temperature=1.4)
    log_weights, H = closed_form_log_weights(model), hidden_states(6)
    keep = (H[:, 1] == 1) & (H[:, 4] == 0)
    evidence = {"h1": 1, "h4": 0}
    assert exact.log_partition_function(model, evidence=evidence, max_units=MAX) == pytest.approx(
        logsumexp(log_weights[keep]), abs=1e-12)
    p = np.exp(log_weights[keep] - logsumexp(log_weights[keep]))
    marginals = exact.marginals(model, evidence=evidence, max_units=MAX).to_numpy()
    np.testing.assert_allclose(marginals, p @ H[keep], atol=1e-13)
    assert marginals[1] == 1.0 and marginals[4] == 0.0


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_clamping_every_visible_unit_gives_the_free_energy(temperature):
    model = random_gaussian_rbm(2, 3, 5, temperature=temperature)
    v = np.array([0.3, -1.2, 2.1])
    evidence = dict(zip(model.visible_names, v.tolist()))
    log_mass = exact.log_partition_function(model, evidence=evidence, max_units=MAX)
    assert log_mass == pytest.approx(-model.free_energy(v) / temperature, abs=1e-12)
    np.testing.assert_allclose(exact.marginals(model, evidence=evidence, max_units=MAX).to_numpy(),
                               model.hidden_probabilities(v), atol=1e-13)
    # with a hidden unit clamped too: the brute-force sum over the other hidden units
    H = hidden_states(5)
    H = H[H[:, 2] == 1]
    expected = logsumexp([-direct_energy(model, v, h) / temperature for h in H])
    assert exact.log_partition_function(model, evidence={**evidence, "h2": 1}, max_units=MAX) == pytest.approx(
        expected, abs=1e-12)


@pytest.mark.parametrize("temperature", [1.0, 1.5])
def test_one_clamped_visible_unit_integrates_the_other(temperature):
    model = random_gaussian_rbm(6, 2, 3, temperature=temperature)
    x = 0.8
    lo, hi = bounds(model, 1)
    value, _ = integrate.quad(lambda y: integrand(model)(y, x), lo, hi, epsabs=0.0, epsrel=1e-13, limit=200)
    evidence = {"v0": x, "h0": 0}
    H = hidden_states(3)
    clamped = H[H[:, 0] == 0]
    value_h0, _ = integrate.quad(
        lambda y: math.fsum(math.exp(-direct_energy(model, np.array([x, y]), h) / temperature) for h in clamped),
        lo, hi, epsabs=0.0, epsrel=1e-13, limit=200)
    assert exact.log_partition_function(model, evidence={"v0": x}, max_units=MAX) == pytest.approx(
        math.log(value), abs=1e-11)
    assert exact.log_partition_function(model, evidence=evidence, max_units=MAX) == pytest.approx(
        math.log(value_h0), abs=1e-11)


def test_joint_and_single_queries_over_hidden_units():
    model = random_gaussian_rbm(8, 3, 7, temperature=0.9)
    log_weights, H = closed_form_log_weights(model), hidden_states(7)
    keep = H[:, 5] == 1
    p = np.exp(log_weights[keep] - logsumexp(log_weights[keep]))
    factor = exact.query(model, ["h3", "h0", "h6"], evidence={"h5": 1}, max_units=MAX)
    assert factor.variables == ["h3", "h0", "h6"]
    expected = np.zeros((2, 2, 2))
    for weight, h in zip(p, H[keep].astype(int)):
        expected[h[3], h[0], h[6]] += weight
    np.testing.assert_allclose(factor.values, expected, atol=1e-13)
    singles = exact.query(model, ["h2"], evidence={"h5": 1}, joint=False, max_units=MAX)
    np.testing.assert_allclose(singles["h2"].values, [1 - p @ H[keep, 2], p @ H[keep, 2]], atol=1e-13)
    # every hidden unit queried: the whole hidden distribution
    whole = exact.query(model, list(model.hidden_names), max_units=MAX)
    np.testing.assert_allclose(whole.values.ravel(), np.exp(log_weights - logsumexp(log_weights)), atol=1e-13)
    with pytest.raises(ValidationError, match="'v1', a real-valued visible unit"):
        exact.query(model, ["v1"], max_units=MAX)
    with pytest.raises(EvidenceError, match="both queried and given"):
        exact.query(model, ["h5"], evidence={"h5": 1}, max_units=MAX)


# --------------------------------------------------------------------------- densities and thermodynamics
@pytest.mark.parametrize("temperature", [1.0, 0.5, 2.0])
def test_the_visible_density_integrates_to_one(temperature):
    model = random_gaussian_rbm(3, 1, 3, temperature=temperature)
    log_z = exact.log_partition_function(model, max_units=MAX)
    lo, hi = bounds(model, 0)
    total, _ = integrate.quad(lambda v: math.exp(-model.free_energy([v]) / temperature - log_z), lo, hi,
                              epsabs=0.0, epsrel=1e-13, limit=200)
    assert total == pytest.approx(1.0, abs=1e-11)
    # and log_likelihood is that density's log, averaged over the rows
    data = np.array([[0.4], [-1.5], [2.0]])
    expected = np.mean([math.log(integrand(model)(v)) for v in data[:, 0]]) - log_z
    assert exact.log_likelihood(model, data, max_units=MAX) == pytest.approx(expected, abs=1e-11)


def test_log_likelihood_is_the_direct_formula():
    import pandas as pd

    model = random_gaussian_rbm(9, 4, 6, temperature=1.3)
    data = np.random.default_rng(0).normal(size=(7, 4))
    log_z = logsumexp(closed_form_log_weights(model))
    H = hidden_states(6)
    expected = np.mean([logsumexp([-direct_energy(model, v, h) / 1.3 for h in H]) for v in data]) - log_z
    assert exact.log_likelihood(model, data, max_units=MAX) == pytest.approx(expected, abs=1e-11)
    frame = pd.DataFrame(data[:, ::-1], columns=list(model.visible_names)[::-1])
    assert exact.log_likelihood(model, frame, max_units=MAX) == pytest.approx(expected, abs=1e-11)
    with pytest.raises(ValidationError, match="missing columns"):
        exact.log_likelihood(model, frame.drop(columns="v2"), max_units=MAX)
    with pytest.raises(StateError, match="data must hold finite"):
        exact.log_likelihood(model, [[0.0, np.inf, 0.0, 0.0]], max_units=MAX)
    with pytest.raises(ValidationError, match="at least one sample"):
        exact.log_likelihood(model, np.zeros((0, 4)), max_units=MAX)
    with pytest.raises(StateError, match="data\\[0\\] is too far"):
        exact.log_likelihood(model, [[1e300, 0.0, 0.0, 0.0]], max_units=MAX)


def test_joint_log_density_integrates_to_one():
    model = random_gaussian_rbm(4, 1, 2, temperature=0.8)
    H = hidden_states(2)
    lo, hi = bounds(model, 0)
    total = 0.0
    for h in H:
        def density(v):
            return math.exp(exact.log_probability(model, np.concatenate([[v], h]), max_units=MAX))

        part, _ = integrate.quad(density, lo, hi, epsabs=0.0, epsrel=1e-12, limit=200)
        total += part
    assert total == pytest.approx(1.0, abs=1e-10)
    states = np.array([[0.5, 1, 0], [-2.0, 1, 1]])
    log_z = exact.log_partition_function(model, max_units=MAX)
    expected = [-direct_energy(model, s[:1], s[1:]) / 0.8 - log_z for s in states]
    np.testing.assert_allclose(exact.log_probability(model, states, max_units=MAX), expected, atol=1e-12)
    with pytest.raises(StateError, match="states\\[:, 1:\\]"):
        exact.log_probability(model, [0.5, 0.5, 1.0], max_units=MAX)


@pytest.mark.parametrize("temperature", [1.0, 0.6, 1.9])
def test_mean_energy_and_entropy_match_quadrature(temperature):
    model = random_gaussian_rbm(5, 1, 3, temperature=temperature)
    log_z = exact.log_partition_function(model, max_units=MAX)
    lo, hi = bounds(model, 0)
    energy, entropy = 0.0, 0.0
    for h in hidden_states(3):
        def log_density(v):
            return -direct_energy(model, np.array([v]), h) / temperature - log_z

        energy += integrate.quad(lambda v: math.exp(log_density(v)) * direct_energy(model, np.array([v]), h), lo, hi,
                                 epsabs=1e-14, epsrel=1e-12, limit=200)[0]
        entropy -= integrate.quad(lambda v: math.exp(log_density(v)) * log_density(v), lo, hi,
                                  epsabs=1e-14, epsrel=1e-12, limit=200)[0]
    assert exact.mean_energy(model, max_units=MAX) == pytest.approx(energy, abs=1e-10)
    assert exact.entropy(model, max_units=MAX) == pytest.approx(entropy, abs=1e-10)


def test_entropy_is_the_hidden_entropy_plus_the_gaussian_ones():
    model = random_gaussian_rbm(6, 5, 8, temperature=0.7)
    p, _ = hidden_distribution(model)
    gaussian = 0.5 * np.log(2 * np.pi * np.e * model.visible_std**2).sum()
    assert exact.entropy(model, max_units=MAX) == pytest.approx(-(p @ np.log(p)) + gaussian, abs=1e-11)
    log_z = exact.log_partition_function(model, max_units=MAX)
    # S = log Z + U / T
    assert exact.entropy(model, max_units=MAX) == pytest.approx(log_z + exact.mean_energy(model, max_units=MAX) / 0.7,
                                                                 abs=1e-11)


# --------------------------------------------------------------------------- refusals
def test_the_size_guard_counts_free_hidden_units_before_any_work():
    model = GaussianBernoulliRBM.random(3, 500, rng=0)
    with pytest.raises(ModelSizeError, match=r"500 free hidden units .* 2\*\*500 = 3.27e\+150 hidden states"):
        exact.log_partition_function(model, max_units=MAX)
    small = random_gaussian_rbm(0, 2, 12)
    with pytest.raises(ModelSizeError, match="max_units=10 allows; pass max_units=12"):
        exact.marginals(small, max_units=10)
    evidence = {"h0": 0, "h1": 1}
    keep = (hidden_states(12)[:, 0] == 0) & (hidden_states(12)[:, 1] == 1)
    assert exact.log_partition_function(small, evidence=evidence, max_units=10) == pytest.approx(
        logsumexp(closed_form_log_weights(small)[keep]), abs=1e-12)
    # a joint table: max_units bounds the units summed per entry
    assert exact.query(small, ["h0", "h1"], max_units=10).values.shape == (2, 2)
    with pytest.raises(ModelSizeError, match="4 joint table entries"):
        exact.query(small, ["h0", "h1"], max_units=9)


@pytest.mark.parametrize(
    "evidence, error, match",
    [
        ({"zz": 1}, EvidenceError, "'zz', which is not a unit"),
        ({"h0": 0.5}, EvidenceError, r"evidence\['h0'\] must be 0 or 1"),
        ({"v0": np.nan}, EvidenceError, r"evidence\['v0'\] must be a finite real number"),
        ({"v0": True}, EvidenceError, r"evidence\['v0'\] must be a finite real number"),
        ({"v0": "1.0"}, EvidenceError, r"evidence\['v0'\] must be a finite real number"),
        ({"v0": 1e300}, EvidenceError, "too far from the model's visible means"),
        ([("h0", 1)], ParameterTypeError, "evidence must be a dict"),
    ],
)
def test_bad_evidence_is_refused_by_name(evidence, error, match):
    model = random_gaussian_rbm(0, 2, 3)
    with pytest.raises(error, match=match):
        exact.log_partition_function(model, evidence=evidence, max_units=MAX)


def test_other_models_and_bad_max_units_are_refused():
    with pytest.raises(ParameterTypeError, match="GaussianBernoulliRBM"):
        exact.log_partition_function(RestrictedBoltzmannMachine.random(2, 2), max_units=MAX)
    with pytest.raises(ValidationError, match="max_units"):
        exact.marginals(random_gaussian_rbm(0), max_units=-1)
    with pytest.raises(ParameterTypeError, match="max_units"):
        exact.entropy(random_gaussian_rbm(0), max_units=2.5)
