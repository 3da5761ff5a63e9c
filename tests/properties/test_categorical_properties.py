"""Invariants of the models beyond binary units, over hypothesis-drawn models.

Potts machines: energy against its definition and ``-T log p`` up to log Z; conditionals normalised
and matching energy differences; the pgmpy round trip and the binary embedding keep log Z and
every marginal. Categorical RBMs: the Potts embedding keeps log Z and the free energy. Gaussian-
Bernoulli RBMs: the free energy is ``-T log sum_h exp(-E/T)``, hidden conditionals match energy
differences, and log Z at any temperature is the Gaussian integral summed over every hidden state.
"""

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from pgm_energy import PottsMachine, exact
from pgm_energy.testing import (
    categorical_evidence,
    categorical_rbms,
    categorical_states,
    gaussian_bernoulli_rbms,
    potts_machines,
    real_states,
    temperatures,
)

potts = potts_machines(max_variables=4, max_states=3, state_names=st.booleans(), temperature=temperatures(),
                       offset=st.floats(-3, 3, allow_subnormal=False))


def all_states(cardinalities):
    return np.array(list(itertools.product(*[range(k) for k in cardinalities])), dtype=np.int64).reshape(
        -1, len(cardinalities))


@given(potts, st.data())
def test_potts_energy_is_its_definition_and_log_probability(model, data):
    states = data.draw(categorical_states(model, batch=st.integers(1, 4)))
    expected = np.full(states.shape[0], model.offset)
    for i, f in enumerate(model.fields):
        expected -= f[states[:, i]]
    for (i, j), c in model.couplings.items():
        expected -= c[states[:, i], states[:, j]]
    np.testing.assert_allclose(model.energy(states), expected, atol=1e-12)
    every = all_states(model.cardinalities)
    log_z = logsumexp(model.unnormalized_log_probability(every))
    np.testing.assert_allclose(exact.log_probability(model, states), -expected / model.temperature - log_z, atol=1e-10)


@given(potts, st.data())
def test_potts_conditionals_are_normalised_and_match_energy_differences(model, data):
    state = data.draw(categorical_states(model))
    probabilities = model.conditional_probabilities(state)
    for i, part in enumerate(model.state_slices):
        row = probabilities[part]
        assert abs(row.sum() - 1.0) < 1e-12
        changed = np.repeat(state[None, :], model.cardinalities[i], axis=0)
        changed[:, i] = np.arange(model.cardinalities[i])
        energies = model.energy(changed)
        expected = np.exp(-(energies - energies.min()) / model.temperature)
        np.testing.assert_allclose(row, expected / expected.sum(), atol=1e-12)


@settings(max_examples=25)
@given(potts, st.data())
def test_the_pgmpy_round_trip_keeps_log_z_and_every_marginal(model, data):
    network = model.to_markov_network()
    back = PottsMachine.from_markov_network(network)
    evidence = data.draw(categorical_evidence(model, max_size=1))
    assert abs(exact.log_partition_function(back, evidence=evidence) -
               exact.log_partition_function(model, evidence=evidence)) < 1e-10
    np.testing.assert_allclose(exact.marginals(back, evidence=evidence).to_numpy(),
                               exact.marginals(model, evidence=evidence).to_numpy(), atol=1e-12)
    assert back.state_names == model.state_names


@given(potts_machines(max_variables=5, min_states=2, max_states=2, temperature=temperatures()))
def test_two_state_machines_embed_in_boltzmann_machines_exactly(model):
    binary = model.to_boltzmann_machine()
    states = all_states(model.cardinalities)
    np.testing.assert_allclose(binary.energy(states.astype(float)), model.energy(states), atol=1e-10)
    assert abs(exact.log_partition_function(binary) - exact.log_partition_function(model)) < 1e-10


@given(categorical_rbms(max_visible=3, max_states=3, max_hidden=3, temperature=temperatures()), st.data())
def test_categorical_rbms_embed_in_potts_machines_exactly(rbm, data):
    embedded = rbm.to_potts_machine()
    assert abs(exact.log_partition_function(embedded) - exact.log_partition_function(rbm)) < 1e-10
    visible = data.draw(categorical_states(rbm, batch=st.integers(1, 3)))
    hidden = all_states([2] * rbm.n_hidden)
    joint = np.array([[rbm.energy(v, h) for h in hidden] for v in visible])
    expected = -rbm.temperature * logsumexp(-joint / rbm.temperature, axis=1)
    np.testing.assert_allclose(rbm.free_energy(visible), expected, atol=1e-10)


@given(gaussian_bernoulli_rbms(max_visible=3, max_hidden=4, temperature=temperatures()), st.data())
def test_gaussian_rbm_free_energy_sums_the_hidden_layer(rbm, data):
    visible = data.draw(real_states(rbm, batch=st.integers(1, 3)))
    hidden = all_states([2] * rbm.n_hidden).astype(float)
    joint = np.stack([rbm.energy(np.repeat(v[None, :], hidden.shape[0], axis=0), hidden) for v in visible])
    expected = -rbm.temperature * logsumexp(-joint / rbm.temperature, axis=1)
    np.testing.assert_allclose(rbm.free_energy(visible), expected, rtol=1e-10, atol=1e-9)
    # p(h_j = 1 | v) from energy differences
    p = rbm.hidden_probabilities(visible)
    for j in range(rbm.n_hidden):
        on, off = np.zeros((visible.shape[0], rbm.n_hidden)), np.zeros((visible.shape[0], rbm.n_hidden))
        on[:, j] = 1.0
        gap = (rbm.energy(visible, off) - rbm.energy(visible, on)) / rbm.temperature
        np.testing.assert_allclose(p[:, j], 1.0 / (1.0 + np.exp(-gap)), atol=1e-12)


@given(gaussian_bernoulli_rbms(max_visible=3, max_hidden=3), temperatures())
def test_gaussian_rbm_log_z_at_any_temperature_is_the_gaussian_integral(rbm, temperature):
    # log Z(T) = (n/2) log(2 pi T) + sum log sigma + logsumexp_h phi(h), phi summed here over every h
    hot = rbm.with_temperature(temperature)
    hidden = all_states([2] * rbm.n_hidden).astype(float)
    b, c, w, s = rbm.visible_bias, rbm.hidden_bias, rbm.weights, rbm.sigma
    mean = b + hidden @ w.T
    phi = hidden @ c / temperature + (((mean**2 - b**2) / (2 * s**2 * temperature)).sum(axis=1))
    expected = 0.5 * rbm.n_visible * np.log(2 * np.pi * temperature) + np.log(s).sum() + logsumexp(phi)
    assert abs(exact.log_partition_function(hot) - expected) < 1e-9 * max(1.0, abs(expected))
