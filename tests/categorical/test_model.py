"""CategoricalRBM: parameters, energies, the free energy, conditionals, the Potts embedding, files, checks."""

import numpy as np
import pytest
from scipy.special import logsumexp

from pgm_energy import PottsMachine, RestrictedBoltzmannMachine
from pgm_energy.exceptions import (EvidenceError, ModelSizeError, ParameterTypeError, StateError, UnknownUnitError,
                                   ValidationError)
from pgm_energy.models.categorical_rbm import CategoricalRBM

from conftest_categorical import all_hidden, all_visible, joint_states, random_crbm


def direct_energy(model, v, h):
    """The energy written from its definition, one term at a time."""
    o = model.field_offsets
    energy = 0.0
    for i, a in enumerate(v):
        energy -= model.visible_bias[o[i] + a]
        for j, on in enumerate(h):
            energy -= model.weights[o[i] + a, j] * on
    for j, on in enumerate(h):
        energy -= model.hidden_bias[j] * on
    return energy


@pytest.mark.parametrize("seed", range(3))
def test_energy_is_the_definition_for_every_state(seed):
    model = random_crbm(seed, temperature=0.7)
    v, h = joint_states(model)
    expected = np.array([direct_energy(model, a, b) for a, b in zip(v, h)])
    np.testing.assert_allclose(model.energy(v, h), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.unnormalized_log_probability(v, h), -expected / 0.7, atol=1e-12)
    # one state, and one state broadcast against a batch of the other layer
    assert model.energy(v[9], h[9]) == pytest.approx(expected[9], abs=1e-12)
    batch = model.energy(v[0], all_hidden(model.n_hidden))
    np.testing.assert_allclose(batch, expected[: 2**model.n_hidden], atol=1e-12)


def test_one_hot_encodes_each_variable_and_selects_the_weight_rows():
    model = random_crbm(1, cardinalities=(3, 1, 4))
    rows = np.array([[2, 0, 3], [0, 0, 0], [1, 0, 2]])
    encoded = model.one_hot(rows)
    assert encoded.shape == (3, 8) and encoded.dtype == np.float64
    np.testing.assert_array_equal(encoded[0], [0, 0, 1, 1, 0, 0, 0, 1])
    for part in model.state_slices:
        np.testing.assert_array_equal(encoded[:, part].sum(axis=1), 1.0)
    o = model.field_offsets
    expected = [sum(model.weights[o[i] + a] for i, a in enumerate(row)) for row in rows]
    np.testing.assert_allclose(encoded @ model.weights, expected, atol=1e-14)
    np.testing.assert_array_equal(model.one_hot(rows[2]), encoded[2])


@pytest.mark.parametrize("temperature", [1.0, 0.6, 2.5])
def test_free_energy_sums_out_the_hidden_layer(temperature):
    model = random_crbm(2, n_hidden=4, scale=1.5, temperature=temperature)
    visible, hidden = all_visible(model.cardinalities), all_hidden(model.n_hidden)
    for v in visible[::3]:
        expected = -temperature * logsumexp(model.unnormalized_log_probability(v, hidden))
        assert model.free_energy(v) == pytest.approx(expected, abs=1e-12)
    np.testing.assert_allclose(
        model.free_energy(visible),
        [-temperature * logsumexp(model.unnormalized_log_probability(v, hidden)) for v in visible], atol=1e-12)


def test_conditionals_match_energy_differences():
    model = random_crbm(3, n_hidden=4, temperature=1.3)
    visible, hidden = all_visible(model.cardinalities), all_hidden(model.n_hidden)
    # hidden units: log p(h_j = 1 | v) / p(h_j = 0 | v) = -(E(v, h with 1) - E(v, h with 0)) / T
    p = model.hidden_probabilities(visible)
    for r, v in enumerate(visible):
        for j in range(model.n_hidden):
            on, off = np.zeros(model.n_hidden), np.zeros(model.n_hidden)
            on[j] = 1
            ratio = -(model.energy(v, on) - model.energy(v, off)) / 1.3
            assert np.log(p[r, j] / (1 - p[r, j])) == pytest.approx(ratio, abs=1e-10)
    # visible variables: a softmax per variable, ratios from energy differences
    q = model.visible_probabilities(hidden)
    assert q.shape == (len(hidden), sum(model.cardinalities))
    base = np.zeros(model.n_visible, dtype=np.int64)
    for r, h in enumerate(hidden):
        for i, part in enumerate(model.state_slices):
            assert q[r, part].sum() == pytest.approx(1.0, abs=1e-14)
            changed = np.repeat(base[None, :], model.cardinalities[i], axis=0)
            changed[:, i] = np.arange(model.cardinalities[i])
            log_ratio = -(model.energy(changed, h) - model.energy(changed[0], h)) / 1.3
            np.testing.assert_allclose(np.log(q[r, part]) - np.log(q[r, part][0]), log_ratio, atol=1e-10)
    np.testing.assert_array_equal(model.visible_probabilities(hidden[5]), q[5])
    np.testing.assert_array_equal(model.hidden_probabilities(visible[4]), p[4])


def test_conditionals_do_not_overflow_with_huge_inputs():
    model = random_crbm(4, scale=400.0)
    q = model.visible_probabilities(all_hidden(3))
    assert np.all(np.isfinite(q)) and np.allclose(q[:, model.state_slices[2]].sum(axis=1), 1.0)
    assert np.all(np.isfinite(model.free_energy(all_visible(model.cardinalities))))


def test_the_potts_embedding_keeps_every_energy_names_and_states():
    model = random_crbm(5, temperature=0.9, state_names={"v0": ["x", "y", "z"], "v2": [10, 20, 30, 40]},
                        hidden_names=["a", "b", "c"])
    potts = model.to_potts_machine()
    assert isinstance(potts, PottsMachine)
    assert potts.cardinalities == (3, 2, 4, 2, 2, 2) and potts.names == model.names
    assert potts.visible.tolist() == [True] * 3 + [False] * 3 and potts.temperature == 0.9
    assert potts.state_names == model.state_names and model.state_names["a"] == [0, 1]
    v, h = joint_states(model)
    np.testing.assert_allclose(potts.energy(np.hstack([v, h])), model.energy(v, h), rtol=0, atol=1e-12)
    # a hidden unit's fields are (0, c_j); the coupling to visible i is [0, W_i(., j)]
    np.testing.assert_array_equal(potts.fields[4], [0.0, model.hidden_bias[1]])
    np.testing.assert_array_equal(potts.coupling("v2", "b")[:, 1], model.weights[model.state_slices[2], 1])
    np.testing.assert_array_equal(potts.coupling("v2", "b")[:, 0], 0.0)
    # no edge where a weight block is zero
    weights = np.array(model.weights)
    weights[model.state_slices[1], 2] = 0.0
    sparse = CategoricalRBM(weights, model.visible_bias, model.hidden_bias, cardinalities=model.cardinalities)
    assert sparse.to_potts_machine().n_edges == 3 * 3 - 1


def test_state_index_has_the_potts_semantics():
    model = random_crbm(6, state_names={"v0": ["x", "y", "z"], "v2": [10, 20, 30, 40]})
    potts = model.to_potts_machine()
    cases = [("v0", "y"), ("v0", 2), (0, "z"), ("v1", 1), ("v2", 30), ("h0", 1), ("h2", 0), (4, 1), ("v1", np.int64(0))]
    for variable, state in cases:
        assert model.state_index(variable, state) == potts.state_index(variable, state)
    for variable, state in [("v2", 2), ("v0", "w"), ("h1", 2), ("h1", True), ("v1", 1.0), ("v0", 3)]:
        with pytest.raises(EvidenceError, match="is not a state of"):
            model.state_index(variable, state)
    with pytest.raises(UnknownUnitError):
        model.state_index("zz", 0)
    with pytest.raises(ParameterTypeError):
        model.state_index(1.5, 0)


def test_two_state_machines_are_binary_rbms_up_to_a_constant():
    model = random_crbm(7, cardinalities=(2, 2, 2, 2), n_hidden=3, temperature=0.8)
    w, b = model.weights, model.visible_bias
    rbm = RestrictedBoltzmannMachine(w[1::2] - w[0::2], b[1::2] - b[0::2], model.hidden_bias + w[0::2].sum(axis=0),
                                     temperature=0.8)
    v, h = joint_states(model)
    constant = b[0::2].sum()  # E_categorical = E_binary - sum_i b_i(0)
    np.testing.assert_allclose(model.energy(v, h), rbm.energy(v, h) - constant, atol=1e-12)
    np.testing.assert_allclose(model.free_energy(v), rbm.free_energy(v) - constant, atol=1e-12)
    np.testing.assert_allclose(model.hidden_probabilities(v), rbm.hidden_probabilities(v), atol=1e-14)
    np.testing.assert_allclose(model.visible_probabilities(h)[:, 1::2], rbm.visible_probabilities(h), atol=1e-14)


def test_parameters_are_read_only_and_the_model_immutable():
    model = random_crbm(8)
    for array in (model.weights, model.visible_bias, model.hidden_bias, model.field_offsets):
        with pytest.raises(ValueError):
            array[0] = 1.0
    with pytest.raises(AttributeError, match="immutable"):
        model.temperature = 2.0
    with pytest.raises(AttributeError, match="immutable"):
        del model._weights
    names = model.state_names
    names["v0"].append("extra")  # a new dict of new lists each time
    assert model.state_names["v0"] == [0, 1, 2]


def test_with_temperature_keeps_everything_else():
    model = random_crbm(9, state_names={"y": ["no", "yes"]}, visible_names=["x", "y", "z"])
    hot = model.with_temperature(3.0)
    assert hot.temperature == 3.0 and model.temperature == 1.0
    assert hot.names == model.names and hot.state_names == model.state_names
    assert hot.cardinalities == model.cardinalities
    np.testing.assert_array_equal(hot.weights, model.weights)
    v, h = joint_states(model)
    np.testing.assert_allclose(hot.unnormalized_log_probability(v, h), model.unnormalized_log_probability(v, h) / 3.0)


def test_random_and_the_read_out_properties():
    model = CategoricalRBM.random([3, 5], 4, scale=0.1, rng=3)
    again = CategoricalRBM.random([3, 5], 4, scale=0.1, rng=3)
    np.testing.assert_array_equal(model.weights, again.weights)
    assert model.weights.shape == (8, 4) and not model.visible_bias.any() and not model.hidden_bias.any()
    assert model.n_visible == 2 and model.n_hidden == 4 and model.n_units == 6
    assert model.names == ("v0", "v1", "h0", "h1", "h2", "h3") and model.index("h1") == 3
    assert model.visible_names == ("v0", "v1") and model.hidden_names == ("h0", "h1", "h2", "h3")
    assert model.field_offsets.tolist() == [0, 3, 8] and model.state_slices == (slice(0, 3), slice(3, 8))
    assert model.energy_bound == pytest.approx(np.abs(model.weights).sum())
    assert repr(model) == "CategoricalRBM(n_visible=2, cardinalities=[3, 5], n_hidden=4, temperature=1)"
    assert not CategoricalRBM.random([2], 1, scale=0.0).weights.any()
    with pytest.raises(ModelSizeError, match="sum\\(cardinalities\\)"):
        CategoricalRBM.random([2**20] * 64, 5)  # 5 * 2**26 > 2**28 weights
    with pytest.raises(ValidationError, match="scale"):
        CategoricalRBM.random([2], 1, scale=-1.0)
    with pytest.raises(ValidationError, match="n_hidden"):
        CategoricalRBM.random([2], 0)


def _arguments(**changes):
    arguments = dict(weights=np.zeros((5, 2)), visible_bias=np.zeros(5), hidden_bias=np.zeros(2), cardinalities=[3, 2])
    arguments.update(changes)
    return arguments


@pytest.mark.parametrize("changes, error, message", [
    (dict(weights=np.zeros((6, 2))), ValidationError, "weights must have one row per visible state"),
    (dict(weights=np.zeros((5, 0))), ValidationError, "weights must have at least one hidden unit"),
    (dict(weights=np.full((5, 2), np.nan)), ValidationError, "weights"),
    (dict(weights=np.zeros(5)), ValidationError, "weights"),
    (dict(visible_bias=np.zeros(4)), ValidationError, "visible_bias of length 5"),
    (dict(hidden_bias=np.zeros(3)), ValidationError, "hidden_bias of length 2"),
    (dict(cardinalities=[3, 0]), ValidationError, "cardinalities\\[1\\]"),
    (dict(cardinalities=[]), ValidationError, "cardinalities"),
    (dict(cardinalities="32"), ParameterTypeError, "cardinalities"),
    (dict(cardinalities=[3, 2**70]), ValidationError, "cardinalities must be integers from 1 to"),
    (dict(cardinalities=[2**62] * 8), ValidationError, "cardinalities sum to 36893488147419103232 visible states"),
    (dict(visible_names=["a"]), ValidationError, "visible_names"),
    (dict(hidden_names=["a", "a"]), ValidationError, "hidden_names"),
    (dict(visible_names=["a", "b"], hidden_names=["b", "c"]), ValidationError, "visible_names \\+ hidden_names"),
    (dict(state_names={"h0": ["off", "on"]}), ValidationError, "hidden units are binary"),
    (dict(state_names={"v0": ["a", "a", "b"]}), ValidationError, "state_names\\['v0'\\] must be unique"),
    (dict(state_names={"v1": ["a"]}), ValidationError, "state_names\\['v1'\\] must hold 2"),
    (dict(state_names={"zz": ["a"]}), UnknownUnitError, "state_names"),
    (dict(state_names=["a"]), ParameterTypeError, "state_names"),
    (dict(temperature=0.0), ValidationError, "temperature"),
    (dict(weights=np.full((5, 2), 2e149)), ValidationError, "weights is too large"),
])
def test_invalid_parameters_are_refused_by_name(changes, error, message):
    with pytest.raises(error, match=message):
        CategoricalRBM(**_arguments(**changes))


def test_invalid_states_are_refused():
    model = random_crbm(10)
    with pytest.raises(StateError, match="is not a state of variable 2"):
        model.free_energy([0, 1, 4])
    with pytest.raises(StateError, match="shape"):
        model.one_hot([0, 1])
    with pytest.raises(StateError, match="whole numbers"):
        model.hidden_probabilities([0.5, 1, 2])
    with pytest.raises(StateError):
        model.energy([0, 1, 2], [0, 2, 1])
    with pytest.raises(StateError, match="same number of states"):
        model.energy(np.zeros((2, 3), dtype=int), np.zeros((3, 3)))
    with pytest.raises(StateError):
        model.visible_probabilities([1, 1])
    # an empty batch against a single state of the other layer is an empty answer
    assert model.energy(np.zeros((0, 3), dtype=int), [0, 1, 1]).shape == (0,)
    assert model.energy([0, 1, 2], np.zeros((0, 3))).shape == (0,)
    assert model.free_energy(np.zeros((0, 3), dtype=int)).shape == (0,)


@pytest.mark.parametrize("state_names", [None, {"v0": ["x", "y", "z"], "v2": [10, 20, 30, 40], "v1": ["0", "1"]}])
def test_files_round_trip(tmp_path, state_names):
    model = random_crbm(11, temperature=1.7, state_names=state_names, hidden_names=["p", "q", "r"])
    arrays = model._to_arrays()
    # through a real .npz file of plain members (pgm_energy.io does not know the kind yet)
    np.savez(tmp_path / "model.npz", **arrays)
    with np.load(tmp_path / "model.npz", allow_pickle=False) as stored:
        back = CategoricalRBM._from_arrays(dict(stored))
    assert back.names == model.names and back.state_names == model.state_names
    assert back.cardinalities == model.cardinalities and back.temperature == 1.7
    for name in ("weights", "visible_bias", "hidden_bias"):
        np.testing.assert_array_equal(getattr(back, name), getattr(model, name))
    assert type(back.state_names["v1"][0]) is type(model.state_names["v1"][0])
    assert CategoricalRBM._FILE_KIND == "CategoricalRBM"


def _damaged(**changes):
    arrays = dict(random_crbm(12, state_names={"v2": [10, 20, 30, 40]})._to_arrays())
    for key, value in changes.items():
        if value is None:
            del arrays[key]
        else:
            arrays[key] = value
    return arrays


@pytest.mark.parametrize("changes, message", [
    (dict(weights=None), "'weights' is missing"),
    (dict(extra=np.zeros(2)), "unexpected members"),
    (dict(weights=np.zeros(9)), "'weights' must be 2-dimensional"),
    (dict(visible_bias=np.array(["a"] * 9)), "'visible_bias' has dtype"),
    (dict(cardinalities=np.array([3.0, 2.0, 4.0])), "'cardinalities' has dtype"),
    (dict(cardinalities=np.array([3, 2, -4])), "'cardinalities' must hold integers"),
    (dict(cardinalities=np.array([3, 2, 2**40])), "'cardinalities' must hold integers"),
    (dict(cardinalities=np.array([3, 2, 5])), "must hold sum\\(cardinalities\\) = 10 entries"),
    (dict(state_labels=np.array(["a"] * 8)), "must hold sum\\(cardinalities\\) = 9 entries"),
    (dict(state_labels=np.array(["a"] * 9), state_label_is_int=np.ones(9, dtype=bool)), "marked an integer"),
    (dict(state_label_is_int=np.ones(9, dtype=np.int8)), "'state_label_is_int' has dtype"),
    (dict(state_labels=np.array(["a"] * 9), state_label_is_int=np.zeros(9, dtype=bool)), "must be unique"),
    (dict(visible_names=np.array(["v0", "v1"])), "visible_names must have 3 entries"),
    (dict(hidden_names=np.array(["v0", "h1", "h2"])), "must be unique"),
    (dict(temperature=np.float64(-1.0)), "temperature"),
    (dict(temperature=np.zeros(2)), "'temperature' must be 0-dimensional"),
    (dict(weights=np.zeros((9, 3, 1))), "'weights' must be 2-dimensional"),
    (dict(hidden_bias=np.zeros(4)), "hidden_bias of length 3"),
])
def test_damaged_file_members_are_validation_errors(changes, message):
    with pytest.raises(ValidationError, match=message):
        CategoricalRBM._from_arrays(_damaged(**changes))


def test_the_markov_network_and_graph_are_those_of_the_potts_embedding():
    model = random_crbm(13, state_names={"v0": ["x", "y", "z"]})
    network = model.to_markov_network()
    assert set(network.latents) == set(model.hidden_names)
    assert set(network.nodes()) == set(model.names)
    graph = model.graph
    assert graph.nodes["v0"]["state_names"] == ["x", "y", "z"] and graph.nodes["h1"]["cardinality"] == 2
    assert not graph.nodes["h1"]["visible"] and graph.number_of_edges() == 9
