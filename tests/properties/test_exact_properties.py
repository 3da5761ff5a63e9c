"""The enumeration oracle (pgm_energy.exact) against a plain NumPy brute force."""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine, exact
from pgm_energy.testing import (
    boltzmann_machines,
    evidence,
    restricted_boltzmann_machines,
    temperatures,
    visible_states,
)

from _property_helpers import (
    all_states,
    bm_parameters,
    consistent_with,
    joint_energies,
    joint_log_probabilities,
    log_sum_exp,
    rbm_energies,
    tolerance,
)

offsets = st.floats(-5, 5, allow_subnormal=False)
machines = boltzmann_machines(max_units=8, sparse=st.booleans(), temperature=temperatures(), offset=offsets)
rbms = restricted_boltzmann_machines(max_visible=6, max_hidden=5, temperature=temperatures())
any_model = st.one_of(machines, rbms)
PROBABILITY_ATOL = 1e-10


@settings(max_examples=50)
@given(any_model)
def test_log_partition_function_and_marginals_match_brute_force(model):
    log_p, log_z = joint_log_probabilities(model)
    np.testing.assert_allclose(exact.log_partition_function(model), log_z, rtol=1e-12, atol=tolerance(model, 1e-12))
    p = np.exp(log_p)
    np.testing.assert_allclose(exact.marginals(model), p @ all_states(model.n_units), rtol=1e-9, atol=PROBABILITY_ATOL)


@given(any_model)
def test_log_probabilities_sum_to_one_and_match_brute_force(model):
    states = all_states(model.n_units)
    log_p = exact.log_probability(model, states)
    expected, _ = joint_log_probabilities(model)
    np.testing.assert_allclose(log_p, expected, rtol=1e-12, atol=tolerance(model, 1e-12))
    np.testing.assert_allclose(np.exp(log_p).sum(), 1.0, rtol=0, atol=1e-10)
    assert isinstance(exact.log_probability(model, states[0]), float)


@settings(max_examples=60)
@given(any_model, st.data())
def test_evidence_restricts_the_sum(model, data):
    observed = data.draw(evidence(model))
    states = all_states(model.n_units)
    log_weights = -joint_energies(model) / model.temperature
    mask = consistent_with(states, model, observed)
    log_z_evidence = log_sum_exp(log_weights[mask])
    np.testing.assert_allclose(
        exact.log_partition_function(model, evidence=observed), log_z_evidence, rtol=1e-12, atol=tolerance(model, 1e-12)
    )
    posterior = np.exp(log_weights[mask] - log_z_evidence)
    np.testing.assert_allclose(
        exact.marginals(model, evidence=observed), posterior @ states[mask], rtol=1e-9, atol=PROBABILITY_ATOL
    )


@given(any_model, st.data())
def test_log_likelihood_of_visible_data(model, data):
    assume(model.n_visible > 0)
    rows = visible_states(model, batch=st.integers(1, 4))
    batch = data.draw(rows)
    log_p, _ = joint_log_probabilities(model)
    states = all_states(model.n_units)
    visible_columns = [model.names.index(name) for name in model.visible_names]
    expected = []
    for row in batch:
        mask = np.all(states[:, visible_columns] == row, axis=1)
        expected.append(log_sum_exp(log_p[mask]))
    np.testing.assert_allclose(exact.log_likelihood(model, batch), np.mean(expected), rtol=1e-10, atol=tolerance(model, 1e-11))


@settings(max_examples=40)
@given(any_model)
def test_thermodynamic_identities(model):
    """F = U - T S, with S = -sum p log p and U = sum p E by brute force."""
    temperature = model.temperature
    log_p, log_z = joint_log_probabilities(model)
    p = np.exp(log_p)
    energies = joint_energies(model)
    free_energy = exact.helmholtz_free_energy(model)
    mean_energy = exact.mean_energy(model)
    entropy = exact.entropy(model)
    atol = tolerance(model, 1e-10)
    np.testing.assert_allclose(entropy, -np.sum(p * log_p), rtol=1e-9, atol=atol)
    np.testing.assert_allclose(mean_energy, np.sum(p * energies), rtol=1e-9, atol=atol * temperature)
    np.testing.assert_allclose(free_energy, -temperature * log_z, rtol=1e-11, atol=atol * temperature)
    np.testing.assert_allclose(free_energy, mean_energy - temperature * entropy, rtol=1e-9, atol=atol * temperature)
    assert -1e-9 <= entropy <= model.n_units * np.log(2) + 1e-9


def _scaled(model):
    """The same model with every energy parameter divided by T, at T = 1."""
    t = model.temperature
    if isinstance(model, RestrictedBoltzmannMachine):
        return RestrictedBoltzmannMachine(
            np.array(model.weights) / t, np.array(model.visible_bias) / t, np.array(model.hidden_bias) / t,
            visible_names=model.visible_names, hidden_names=model.hidden_names,
        )
    weights, biases, offset, _ = bm_parameters(model)
    return BoltzmannMachine(weights / t, biases / t, visible=model.visible, names=model.names, offset=offset / t)


@settings(max_examples=30)
@given(any_model)
def test_temperature_equals_scaled_parameters(model):
    scaled = _scaled(model)
    assert scaled.temperature == 1.0
    t = model.temperature
    atol = tolerance(model, 1e-11)
    log_z = exact.log_partition_function(model)
    np.testing.assert_allclose(log_z, exact.log_partition_function(scaled), rtol=1e-11, atol=atol)
    np.testing.assert_allclose(exact.marginals(model), exact.marginals(scaled), rtol=1e-9, atol=PROBABILITY_ATOL)
    # F = -T log Z scales with T for the same distribution
    np.testing.assert_allclose(exact.helmholtz_free_energy(model), t * exact.helmholtz_free_energy(scaled), rtol=1e-11, atol=atol * t)
    np.testing.assert_allclose(exact.helmholtz_free_energy(model), -t * log_z, rtol=1e-12, atol=atol * t)
    np.testing.assert_allclose(exact.entropy(model), exact.entropy(scaled), rtol=1e-9, atol=atol)
    # the same holds at another temperature reached through with_temperature
    reheated = model.with_temperature(2.0 * t)
    np.testing.assert_allclose(
        exact.log_partition_function(reheated), exact.log_partition_function(_scaled(reheated)), rtol=1e-11, atol=atol
    )


@settings(max_examples=30)
@given(boltzmann_machines(max_units=7, temperature=temperatures(), offset=offsets), st.data())
def test_permuting_units_permutes_marginals(bm, data):
    perm = np.array(data.draw(st.permutations(range(bm.n_units))), dtype=np.int64)
    weights, biases, offset, temperature = bm_parameters(bm)
    permuted = BoltzmannMachine(
        weights[np.ix_(perm, perm)], biases[perm], visible=np.array(bm.visible)[perm],
        names=[bm.names[k] for k in perm], temperature=temperature, offset=offset,
    )
    observed = data.draw(evidence(bm, max_size=2))
    np.testing.assert_allclose(
        exact.marginals(permuted, evidence=observed), exact.marginals(bm, evidence=observed).to_numpy()[perm], rtol=1e-9, atol=PROBABILITY_ATOL
    )
    np.testing.assert_allclose(
        exact.log_partition_function(permuted), exact.log_partition_function(bm), rtol=1e-11, atol=tolerance(bm, 1e-11)
    )
    states = all_states(bm.n_units)
    np.testing.assert_allclose(permuted.energy(states[:, perm]), bm.energy(states), rtol=1e-12, atol=tolerance(bm, 1e-12) * temperature)


@settings(max_examples=30)
@given(rbms)
def test_rbm_free_energy_sums_out_the_hidden_layer(rbm):
    t = rbm.temperature
    visible = all_states(rbm.n_visible)
    hidden = all_states(rbm.n_hidden)
    expected = []
    for v in visible:
        energies = rbm_energies(rbm, np.repeat(v[None, :], hidden.shape[0], axis=0), hidden)
        expected.append(-t * log_sum_exp(-energies / t))
    np.testing.assert_allclose(rbm.free_energy(visible), expected, rtol=1e-11, atol=tolerance(rbm, 1e-11) * t)
    assert isinstance(rbm.free_energy(visible[0]), float)


@settings(max_examples=30)
@given(rbms)
def test_rbm_conditionals_factorize(rbm):
    """p(h | v) from the enumerated joint equals the product of hidden_probabilities, and likewise p(v | h)."""
    t = rbm.temperature
    visible = all_states(rbm.n_visible)
    hidden = all_states(rbm.n_hidden)
    for layer_states, other_states, given_layer in ((visible, hidden, "visible"), (hidden, visible, "hidden")):
        for state in layer_states:
            repeated = np.repeat(state[None, :], other_states.shape[0], axis=0)
            if given_layer == "visible":
                log_weights = -rbm_energies(rbm, repeated, other_states) / t
                p = rbm.hidden_probabilities(state)
            else:
                log_weights = -rbm_energies(rbm, other_states, repeated) / t
                p = rbm.visible_probabilities(state)
            conditional = np.exp(log_weights - log_sum_exp(log_weights))
            product = np.prod(np.where(other_states == 1, p, 1.0 - p), axis=1)
            np.testing.assert_allclose(product, conditional, rtol=1e-9, atol=1e-12)


@settings(max_examples=30)
@given(rbms, st.data())
def test_rbm_and_its_embedding_agree(rbm, data):
    bm = rbm.to_boltzmann_machine()
    assert bm.names == rbm.names and bm.temperature == rbm.temperature
    assert list(bm.visible) == [True] * rbm.n_visible + [False] * rbm.n_hidden
    states = all_states(rbm.n_units)
    n_visible = rbm.n_visible
    atol = tolerance(rbm, 1e-12)
    np.testing.assert_allclose(bm.energy(states), rbm.energy(states[:, :n_visible], states[:, n_visible:]), rtol=1e-12, atol=atol * rbm.temperature)
    np.testing.assert_allclose(exact.log_partition_function(bm), exact.log_partition_function(rbm), rtol=1e-11, atol=atol * 10)
    observed = data.draw(evidence(rbm))
    np.testing.assert_allclose(
        exact.marginals(bm, evidence=observed), exact.marginals(rbm, evidence=observed), rtol=1e-9, atol=PROBABILITY_ATOL
    )
    # the free energy is -T log of the embedding's Z restricted to v
    v = data.draw(visible_states(rbm))
    clamp = dict(zip(rbm.visible_names, v.tolist()))
    np.testing.assert_allclose(
        rbm.free_energy(v), -rbm.temperature * exact.log_partition_function(bm, evidence=clamp), rtol=1e-11, atol=atol * 10 * rbm.temperature
    )


@settings(max_examples=30)
@given(
    st.one_of(
        boltzmann_machines(max_units=8, weight_scale=50.0, sparse=st.booleans(), temperature=temperatures(), offset=st.floats(-100, 100)),
        restricted_boltzmann_machines(max_visible=6, max_hidden=5, weight_scale=50.0, temperature=temperatures()),
    ),
    st.data(),
)
def test_weights_of_fifty_neither_overflow_nor_lose_accuracy(model, data):
    """Weights of +-50 at T down to 0.25 put exp(-E/T) far outside float64; log space must hold."""
    observed = data.draw(evidence(model, max_size=2))
    states = all_states(model.n_units)
    log_weights = -joint_energies(model) / model.temperature
    mask = consistent_with(states, model, observed)
    log_z = log_sum_exp(log_weights[mask])
    actual = exact.log_partition_function(model, evidence=observed)
    assert np.isfinite(actual)
    np.testing.assert_allclose(actual, log_z, rtol=1e-12, atol=tolerance(model, 1e-12))
    posterior = np.exp(log_weights[mask] - log_z)
    np.testing.assert_allclose(exact.marginals(model, evidence=observed), posterior @ states[mask], rtol=1e-8, atol=1e-9)
    if not observed:
        p = np.exp(log_weights - log_z)
        entropy = -np.sum(p[p > 0] * (log_weights[p > 0] - log_z))
        np.testing.assert_allclose(exact.entropy(model), entropy, rtol=1e-8, atol=tolerance(model, 1e-10))
