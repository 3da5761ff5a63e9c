"""Invariants of deep Boltzmann machines, on machines drawn by pgm_energy.testing.deep_boltzmann_machines."""

import itertools

import numpy as np
from hypothesis import given, strategies as st
from scipy.special import logsumexp

from pgm_energy import DeepBoltzmannMachine, exact
from pgm_energy.testing import binary_states, deep_boltzmann_machines, temperatures


@given(deep_boltzmann_machines(), st.data())
def test_energy_is_kept_by_both_embeddings(dbm, data):
    states = data.draw(binary_states(dbm, batch=3)).astype(float)
    np.testing.assert_allclose(dbm.to_boltzmann_machine().energy(states), dbm.energy(states), rtol=1e-12, atol=1e-12)
    rbm = dbm.to_bipartite_rbm()
    reordered = states[:, [dbm.index(name) for name in rbm.names]]
    np.testing.assert_allclose(rbm.energy(reordered[:, : rbm.n_visible], reordered[:, rbm.n_visible :]),
                               dbm.energy(states), rtol=1e-12, atol=1e-12)


@given(deep_boltzmann_machines(max_layers=4, max_units=2, temperature=temperatures(min_value=0.5, max_value=2.0)))
def test_exact_log_z_is_the_brute_force_sum_and_temperature_is_a_rescaling(dbm):
    states = np.array(list(itertools.product([0, 1], repeat=dbm.n_units)), dtype=float)
    log_z = exact.log_partition_function(dbm)
    np.testing.assert_allclose(log_z, logsumexp(-dbm.energy(states) / dbm.temperature), rtol=1e-12, atol=1e-12)
    scaled = DeepBoltzmannMachine([w / dbm.temperature for w in dbm.weights], [b / dbm.temperature for b in dbm.biases])
    np.testing.assert_allclose(exact.log_partition_function(scaled), log_z, rtol=1e-12, atol=1e-12)


@given(deep_boltzmann_machines(), st.data())
def test_layer_conditionals_match_energy_differences(dbm, data):
    states = data.draw(binary_states(dbm, batch=2)).astype(float)
    layer = data.draw(st.integers(0, dbm.n_layers - 1))
    probabilities = dbm.layer_probabilities(states, layer)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    for j, name in enumerate(dbm.layers[layer]):
        on, off = states.copy(), states.copy()
        on[:, dbm.index(name)], off[:, dbm.index(name)] = 1, 0
        log_odds = (dbm.energy(off) - dbm.energy(on)) / dbm.temperature
        np.testing.assert_allclose(probabilities[:, j], 1 / (1 + np.exp(-log_odds)), rtol=1e-10, atol=1e-12)
