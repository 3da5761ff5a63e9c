"""PottsMachine: parameters, energies, conditionals, conversions to and from binary machines, files."""

import numpy as np
import pytest

from pgm_energy import BoltzmannMachine, PottsMachine, RestrictedBoltzmannMachine, load

from conftest_potts import all_states, random_potts
from pgm_energy.exceptions import (ConversionError, EvidenceError, ModelFileError, ParameterTypeError, StateError,
                                   UnknownUnitError, ValidationError)


def direct_energy(model, state):
    """The energy written from its definition, one term at a time."""
    energy = model.offset
    for i, f in enumerate(model.fields):
        energy -= f[state[i]]
    for (i, j), c in model.couplings.items():
        energy -= c[state[i], state[j]]
    return energy


@pytest.mark.parametrize("seed", range(4))
def test_energy_is_the_definition_for_every_state(seed):
    model = random_potts(seed, offset=0.25, temperature=0.8)
    states = all_states(model.cardinalities)
    expected = np.array([direct_energy(model, s) for s in states])
    np.testing.assert_allclose(model.energy(states), expected, rtol=0, atol=1e-12)
    assert model.energy(states[5]) == pytest.approx(expected[5], abs=1e-12)
    np.testing.assert_allclose(model.unnormalized_log_probability(states), -expected / 0.8, atol=1e-12)


def test_couplings_given_either_way_round_are_the_same_edge():
    g = np.random.default_rng(1)
    c = g.normal(size=(3, 2))
    forward = PottsMachine([3, 2], None, {(0, 1): c})
    backward = PottsMachine([3, 2], None, {("v1", "v0"): c.T})
    np.testing.assert_array_equal(forward.couplings[(0, 1)], backward.couplings[(0, 1)])
    np.testing.assert_array_equal(forward.coupling("v1", "v0"), c.T)
    np.testing.assert_array_equal(forward.coupling(0, 1), c)
    assert forward.edges.tolist() == [[0, 1]]


@pytest.mark.parametrize("seed", range(3))
def test_conditionals_are_normalised_and_match_energy_differences(seed):
    model = random_potts(seed, temperature=1.3)
    states = all_states(model.cardinalities)[::5]
    probabilities = model.conditional_probabilities(states)
    for r, state in enumerate(states):
        for i, part in enumerate(model.state_slices):
            row = probabilities[r, part]
            assert row.sum() == pytest.approx(1.0, abs=1e-12)
            # p(a) / p(b) = exp(-(E(s with a) - E(s with b)) / T)
            changed = np.repeat(state[None, :], model.cardinalities[i], axis=0)
            changed[:, i] = np.arange(model.cardinalities[i])
            log_ratio = -(model.energy(changed) - model.energy(changed[0])) / model.temperature
            np.testing.assert_allclose(np.log(row) - np.log(row[0]), log_ratio, atol=1e-10)


def test_binary_machines_convert_both_ways_exactly():
    g = np.random.default_rng(4)
    w = np.triu(g.normal(size=(5, 5)), 1)
    bm = BoltzmannMachine(w + w.T, g.normal(size=5), visible=[1, 1, 0, 1, 0], temperature=0.6, offset=-0.4)
    potts = PottsMachine.from_boltzmann_machine(bm)
    states = all_states([2] * 5)
    np.testing.assert_allclose(potts.energy(states), bm.energy(states.astype(float)), atol=1e-12)
    assert potts.names == bm.names and potts.hidden_names == bm.hidden_names and potts.temperature == 0.6
    # and back, from a 2-state machine with general 2 x 2 couplings and fields
    general = random_potts(7, cardinalities=(2, 2, 2, 2), offset=1.5)
    binary = general.to_boltzmann_machine()
    np.testing.assert_allclose(binary.energy(all_states([2] * 4).astype(float)), general.energy(all_states([2] * 4)),
                               atol=1e-12)
    rbm = RestrictedBoltzmannMachine.random(3, 2, rng=0)
    from_rbm = PottsMachine.from_boltzmann_machine(rbm)
    assert from_rbm.n_variables == 5 and from_rbm.n_edges == 6


def test_to_boltzmann_machine_refuses_other_cardinalities():
    with pytest.raises(ConversionError, match="other than 2 states"):
        random_potts(0).to_boltzmann_machine()


def test_state_names_and_state_index_follow_pgmpy():
    model = PottsMachine([3, 2, 2], None, {}, names=["colour", "size", "code"],
                         state_names={"colour": ["red", "green", "blue"], "code": [10, 20]})
    assert model.state_names == {"colour": ["red", "green", "blue"], "size": [0, 1], "code": [10, 20]}
    assert model.state_index("colour", "blue") == 2
    assert model.state_index("colour", 1) == 1  # string names: an index is accepted too
    assert model.state_index("size", 1) == 1
    assert model.state_index("code", 20) == 1
    with pytest.raises(EvidenceError, match="not a state of variable 'code'"):
        model.state_index("code", 1)  # integer names are names, not indices
    with pytest.raises(EvidenceError):
        model.state_index("colour", "purple")
    with pytest.raises(EvidenceError):
        model.state_index("colour", True)


@pytest.mark.parametrize("arguments, error, match", [
    (([0, 2], None, {}), ValidationError, "cardinalities\\[0\\]"),
    (([], None, {}), ValidationError, "at least one variable"),
    (("ab", None, {}), ParameterTypeError, "cardinalities"),
    (([2.5, 2], None, {}), ParameterTypeError, "cardinalities\\[0\\]"),
    (([2, 3], [[0.0, 1.0], [1.0, 2.0]], {}), ValidationError, "fields\\[1\\] must have length 3"),
    (([2, 3], [[0.0, np.nan], [1.0, 2.0, 3.0]], {}), ValidationError, "fields\\[0\\]"),
    (([2, 3], None, {(0, 1): np.ones((3, 2))}), ValidationError, "shape \\(2, 3\\)"),
    (([2, 3], None, {(0, 0): np.ones((2, 2))}), ValidationError, "with itself"),
    (([2, 3], None, {(0, 1): np.ones((2, 3)), (1, 0): np.ones((3, 2))}), ValidationError, "twice"),
    (([2, 3], None, {(0, 5): np.ones((2, 3))}), UnknownUnitError, "index 5"),
    (([2, 3], None, {("v0", "x"): np.ones((2, 3))}), UnknownUnitError, "'x'"),
    (([2, 3], None, {(0,): np.ones((2, 3))}), ValidationError, "pairs"),
    (([2, 3], None, [np.ones((2, 3))]), ParameterTypeError, "mapping"),
    (([2, 3], None, {(True, 1): np.ones((2, 3))}), ParameterTypeError, "by name"),
])
def test_bad_parameters_are_refused_with_their_names(arguments, error, match):
    with pytest.raises(error, match=match):
        PottsMachine(*arguments)


@pytest.mark.parametrize("state_names, match", [
    ({"v0": ["a"]}, "must hold 2 names"),
    ({"v0": ["a", "a"]}, "unique"),
    ({"v0": ["a", 1.5]}, "str or int"),
    ({"zz": ["a", "b"]}, "'zz'"),
    ({"v0": "ab"}, "sequence"),
])
def test_bad_state_names_are_refused(state_names, match):
    with pytest.raises((ValidationError, ParameterTypeError, UnknownUnitError), match=match):
        PottsMachine([2, 2], None, {}, state_names=state_names)


def test_states_are_checked():
    model = random_potts(0)
    with pytest.raises(StateError, match="not a state of variable 1"):
        model.energy([0, 2, 0, 0])
    with pytest.raises(StateError, match="whole numbers"):
        model.energy([0.5, 0, 0, 0])
    with pytest.raises(StateError, match="shape"):
        model.energy([0, 0, 0])
    assert model.energy(np.array([1.0, 0.0, 3.0, 2.0])) == model.energy([1, 0, 3, 2])


def test_the_model_is_immutable():
    model = random_potts(0)
    with pytest.raises(AttributeError):
        model.fields = None
    with pytest.raises(ValueError):
        model.fields[0][0] = 5.0
    with pytest.raises(ValueError):
        model.couplings[(0, 1)][0, 0] = 5.0
    changed = model.couplings
    changed[(0, 1)] = None  # a new dict each time
    assert model.couplings[(0, 1)] is not None


def test_files_round_trip_with_state_names(tmp_path):
    model = random_potts(2, names=["a", "b", "c", "d"], state_names={"a": ["x", "y", "z"], "d": [5, 6, 7]},
                         visible=[True, False, True, True], temperature=1.7, offset=-2.0)
    model.save(tmp_path / "potts.npz")
    back = load(tmp_path / "potts.npz")
    assert isinstance(back, PottsMachine)
    assert back.state_names == model.state_names and back.names == model.names
    assert back.temperature == 1.7 and back.offset == -2.0 and back.hidden_names == ("b",)
    states = all_states(model.cardinalities)
    np.testing.assert_array_equal(back.energy(states), model.energy(states))


def test_a_damaged_file_is_a_model_file_error(tmp_path):
    model = random_potts(2)
    arrays = model._to_arrays()
    arrays["couplings"] = arrays["couplings"][:-1]
    from pgm_energy.io import _KIND_KEY, _VERSION_KEY, FORMAT_VERSION

    np.savez(tmp_path / "bad.npz", **arrays, **{_KIND_KEY: np.array("PottsMachine"),
                                                _VERSION_KEY: np.array(FORMAT_VERSION)})
    with pytest.raises(ModelFileError, match="couplings"):
        load(tmp_path / "bad.npz")


def test_graph_carries_the_parameters():
    model = random_potts(3, state_names={"v0": ["a", "b", "c"]})
    graph = model.graph
    assert graph.nodes["v0"]["cardinality"] == 3 and graph.nodes["v0"]["state_names"] == ["a", "b", "c"]
    for (i, j), c in model.couplings.items():
        np.testing.assert_array_equal(graph.edges[model.names[i], model.names[j]]["couplings"], c)
    assert graph.number_of_edges() == model.n_edges


def test_repr_names_the_shape():
    assert repr(random_potts(0)).startswith("PottsMachine(n_variables=4, cardinalities=[3, 2, 4, 3]")
