"""Energy identities of Boltzmann machines and RBMs, checked against plain NumPy."""

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from pgm_energy import BoltzmannMachine
from pgm_energy.testing import (
    binary_states,
    boltzmann_machines,
    hidden_states,
    restricted_boltzmann_machines,
    temperatures,
    visible_states,
)

from _property_helpers import (
    all_states,
    bm_energies,
    bm_parameters,
    joint_log_probabilities,
    rbm_energies,
    state_index,
    tolerance,
)

machines = boltzmann_machines(
    max_units=7, sparse=st.booleans(), temperature=temperatures(), offset=st.floats(-5, 5, allow_subnormal=False)
)
rbms = restricted_boltzmann_machines(max_visible=5, max_hidden=4, temperature=temperatures())


@given(machines, st.data())
def test_energy_equals_sum_over_edges(bm, data):
    states = data.draw(binary_states(bm, batch=st.integers(1, 6)))
    np.testing.assert_allclose(bm.energy(states), bm_energies(bm, states), rtol=1e-12, atol=tolerance(bm, 1e-12))
    np.testing.assert_allclose(bm.energy(states[0]), bm_energies(bm, states[0])[0], rtol=1e-12, atol=tolerance(bm, 1e-12))


@given(machines, st.data())
def test_flip_identity(bm, data):
    """E(s with s_i = 0) - E(s with s_i = 1) = z_i, the local field, which does not depend on s_i."""
    state = data.draw(binary_states(bm))
    unit = data.draw(st.integers(0, bm.n_units - 1))
    off, on = state.copy(), state.copy()
    off[unit], on[unit] = 0, 1
    fields = bm.local_fields(state)
    difference = bm.energy(off) - bm.energy(on)
    atol = tolerance(bm, 1e-12) * bm.temperature
    np.testing.assert_allclose(difference, fields[unit], rtol=1e-12, atol=atol)
    np.testing.assert_allclose(bm.local_fields(off)[unit], fields[unit], rtol=1e-12, atol=atol)
    np.testing.assert_allclose(bm.local_fields(on)[unit], fields[unit], rtol=1e-12, atol=atol)
    # and the field is b_i + sum_j W_ij s_j, written out
    weights, biases, _, _ = bm_parameters(bm)
    expected = biases[unit] + sum(weights[unit, j] * state[j] for j in range(bm.n_units))
    np.testing.assert_allclose(fields[unit], expected, rtol=1e-12, atol=atol)


@settings(max_examples=30)
@given(machines)
def test_conditional_probabilities_are_ratios_of_joint_probabilities(bm):
    log_p, _ = joint_log_probabilities(bm)
    states = all_states(bm.n_units)
    conditionals = bm.conditional_probabilities(states)
    for unit in range(bm.n_units):
        on, off = states.copy(), states.copy()
        on[:, unit], off[:, unit] = 1, 0
        # p(s_i = 1 | rest) = p(s^1) / (p(s^0) + p(s^1)), evaluated stably in log space
        expected = expit(log_p[state_index(on)] - log_p[state_index(off)])
        np.testing.assert_allclose(conditionals[:, unit], expected, rtol=1e-9, atol=1e-12)


@settings(max_examples=30)
@given(rbms)
def test_rbm_conditionals_are_ratios_of_joint_probabilities(rbm):
    log_p, _ = joint_log_probabilities(rbm)
    states = all_states(rbm.n_units)
    n_visible = rbm.n_visible
    hidden_given = rbm.hidden_probabilities(states[:, :n_visible])
    visible_given = rbm.visible_probabilities(states[:, n_visible:])
    for unit in range(rbm.n_units):
        on, off = states.copy(), states.copy()
        on[:, unit], off[:, unit] = 1, 0
        expected = expit(log_p[state_index(on)] - log_p[state_index(off)])
        actual = visible_given[:, unit] if unit < n_visible else hidden_given[:, unit - n_visible]
        np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-12)


@given(rbms, st.data())
def test_rbm_energy_equals_explicit_sum(rbm, data):
    rows = data.draw(st.integers(1, 5))
    v = data.draw(visible_states(rbm, batch=rows))
    h = data.draw(hidden_states(rbm, batch=rows))
    np.testing.assert_allclose(rbm.energy(v, h), rbm_energies(rbm, v, h), rtol=1e-12, atol=tolerance(rbm, 1e-12))
    # a single visible state broadcasts against a batch of hidden states
    np.testing.assert_allclose(
        rbm.energy(v[0], h), rbm_energies(rbm, np.repeat(v[:1], rows, axis=0), h), rtol=1e-12, atol=tolerance(rbm, 1e-12)
    )


def _ising_energy(h, J, offset, spins):
    J = J.toarray() if sp.issparse(J) else np.asarray(J)
    rows, cols = np.triu_indices(J.shape[0], 1)
    return -(spins[:, rows] * spins[:, cols]) @ J[rows, cols] - spins @ np.asarray(h) + offset


@settings(max_examples=30)
@given(machines)
def test_ising_conversion_preserves_every_energy(bm):
    ising = bm.to_ising()
    states = all_states(bm.n_units)
    spins = 2.0 * states - 1.0
    atol = tolerance(bm, 1e-11) * bm.temperature
    np.testing.assert_allclose(_ising_energy(ising.h, ising.J, ising.offset, spins), bm_energies(bm, states), rtol=1e-11, atol=atol)
    assert sp.issparse(ising.J) == bm.is_sparse
    back = BoltzmannMachine.from_ising(
        ising.h, ising.J, ising.offset, visible=bm.visible, names=bm.names, temperature=bm.temperature
    )
    weights, biases, offset, _ = bm_parameters(bm)
    back_weights, back_biases, back_offset, _ = bm_parameters(back)
    np.testing.assert_allclose(back_weights, weights, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(back_biases, biases, rtol=1e-12, atol=atol)
    np.testing.assert_allclose(back_offset, offset, rtol=1e-12, atol=atol)
    np.testing.assert_allclose(bm_energies(back, states), bm_energies(bm, states), rtol=1e-11, atol=atol)


@settings(max_examples=30)
@given(machines)
def test_from_ising_matches_the_ising_energy(model):
    # Use a drawn machine's parameters as an arbitrary Ising model (h, J, offset).
    h, J, offset = np.array(model.biases), model.weights, model.offset
    bm = BoltzmannMachine.from_ising(h, J, offset)
    states = all_states(model.n_units)
    spins = 2.0 * states - 1.0
    np.testing.assert_allclose(
        bm_energies(bm, states), _ising_energy(h, J, offset, spins), rtol=1e-11, atol=tolerance(model, 1e-11) * model.temperature
    )


@settings(max_examples=25)
@given(boltzmann_machines(max_units=7, temperature=temperatures(), offset=st.floats(-5, 5)), st.data())
def test_sparse_and_dense_storage_agree(dense, data):
    sparse = BoltzmannMachine(
        sp.csr_array(dense.weights), dense.biases, visible=dense.visible, names=dense.names,
        temperature=dense.temperature, offset=dense.offset,
    )
    assert sparse.is_sparse and not dense.is_sparse
    assert sparse.n_edges == dense.n_edges == int(np.count_nonzero(np.triu(dense.weights, 1)))
    states = data.draw(binary_states(dense, batch=st.integers(1, 6)))
    atol = tolerance(dense, 1e-12) * dense.temperature
    np.testing.assert_allclose(sparse.energy(states), dense.energy(states), rtol=1e-12, atol=atol)
    np.testing.assert_allclose(sparse.local_fields(states), dense.local_fields(states), rtol=1e-12, atol=atol)
    np.testing.assert_allclose(
        sparse.conditional_probabilities(states), dense.conditional_probabilities(states), rtol=1e-12, atol=1e-15
    )
    from pgm_energy import exact

    np.testing.assert_allclose(
        exact.log_partition_function(sparse), exact.log_partition_function(dense), rtol=1e-11, atol=tolerance(dense, 1e-11)
    )
    np.testing.assert_allclose(exact.marginals(sparse), exact.marginals(dense), rtol=1e-9, atol=1e-11)
