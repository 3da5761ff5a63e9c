"""BoltzmannMachine: energies, fields, conditionals, immutability, Ising form, sparse models.

Expected values are worked out by hand in the comments or recomputed here with
plain Python loops over pairs (never with the package's 1/2 s'Ws formula).
"""

from __future__ import annotations

import itertools
import math
import time
import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from pgm_energy import BoltzmannMachine, IsingModel

# W01 = 1.5, W02 = -2, W12 = 0.5; b = (-0.5, 0.25, 1); offset 0.75
W = np.array([[0.0, 1.5, -2.0], [1.5, 0.0, 0.5], [-2.0, 0.5, 0.0]])
B = np.array([-0.5, 0.25, 1.0])
OFFSET = 0.75

# E(s) = -(1.5 s0 s1 - 2 s0 s2 + 0.5 s1 s2) - (-0.5 s0 + 0.25 s1 + s2) + 0.75, state by state:
HAND_ENERGIES = {
    (0, 0, 0): 0.75,
    (1, 0, 0): 0.5 + 0.75,  # 1.25
    (0, 1, 0): -0.25 + 0.75,  # 0.5
    (0, 0, 1): -1.0 + 0.75,  # -0.25
    (1, 1, 0): -1.5 - (-0.5 + 0.25) + 0.75,  # -0.5
    (1, 0, 1): 2.0 - (-0.5 + 1.0) + 0.75,  # 2.25
    (0, 1, 1): -0.5 - (0.25 + 1.0) + 0.75,  # -1.0
    (1, 1, 1): -(1.5 - 2.0 + 0.5) - (-0.5 + 0.25 + 1.0) + 0.75,  # 0.0
}


def machine(**options):
    options.setdefault("offset", OFFSET)
    return BoltzmannMachine(W, B, **options)


def pair_sum_energy(weights, biases, offset, state):
    """-sum_{i<j} W_ij s_i s_j - sum_i b_i s_i + offset, in plain Python."""
    n = len(biases)
    energy = offset
    for i in range(n):
        energy -= biases[i] * state[i]
        for j in range(i + 1, n):
            energy -= weights[i][j] * state[i] * state[j]
    return energy


# --------------------------------------------------------------------------- energies
@pytest.mark.parametrize("state, expected", list(HAND_ENERGIES.items()))
def test_energy_hand_values(state, expected):
    value = machine().energy(state)
    assert isinstance(value, float)
    assert value == pytest.approx(expected, abs=1e-15)


def test_docstring_example_by_hand():
    # E(1, 1) = -1.5 - (-0.5 + 0.25) = -1.25
    assert BoltzmannMachine([[0.0, 1.5], [1.5, 0.0]], [-0.5, 0.25]).energy([1, 1]) == -1.25


def test_energy_of_a_batch_matches_the_pair_sum_for_every_state():
    rng = np.random.default_rng(0)
    upper = np.triu(rng.normal(size=(6, 6)), 1)
    weights, biases = upper + upper.T, rng.normal(size=6)
    bm = BoltzmannMachine(weights, biases, offset=-1.5)
    states = np.array(list(itertools.product((0, 1), repeat=6)))
    energies = bm.energy(states)
    assert isinstance(energies, np.ndarray) and energies.shape == (64,)
    expected = [pair_sum_energy(weights, biases, -1.5, s) for s in states.tolist()]
    np.testing.assert_allclose(energies, expected, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    "states",
    [
        np.array([[0, 1, 1], [1, 0, 1]], dtype=bool),
        np.array([[0, 1, 1], [1, 0, 1]], dtype=np.int8),
        np.array([[0, 1, 1], [1, 0, 1]], dtype=np.uint64),
        np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]], dtype=np.float32),
        [[0, 1, 1], [1, 0, 1]],
    ],
    ids=["bool", "int8", "uint64", "float32", "list"],
)
def test_energy_accepts_any_binary_dtype(states):
    np.testing.assert_allclose(machine().energy(states), [-1.0, 2.25], atol=1e-15)


def test_unnormalized_log_probability_is_minus_energy_over_temperature():
    bm = machine(temperature=2.0)
    for state, energy in HAND_ENERGIES.items():
        assert bm.unnormalized_log_probability(state) == pytest.approx(-energy / 2.0, abs=1e-15)


def test_offset_shifts_every_energy():
    shifted = machine(offset=OFFSET + 10.0)
    for state, energy in HAND_ENERGIES.items():
        assert shifted.energy(state) == pytest.approx(energy + 10.0, abs=1e-14)
    assert shifted.offset == OFFSET + 10.0


# --------------------------------------------------------------------------- fields and conditionals
def test_local_fields_hand_values():
    bm = machine()
    # z = b + W s; s = (1, 0, 1): z0 = -0.5 + 0 - 2 = -2.5, z1 = 0.25 + 1.5 + 0.5 = 2.25, z2 = 1 - 2 + 0 = -1
    np.testing.assert_allclose(bm.local_fields([1, 0, 1]), [-2.5, 2.25, -1.0], atol=1e-15)
    # s = (0, 0, 0): z = b
    np.testing.assert_allclose(bm.local_fields([0, 0, 0]), B, atol=0)
    batch = bm.local_fields([[1, 0, 1], [1, 1, 1]])
    # s = (1, 1, 1): z0 = -0.5 + 1.5 - 2 = -1, z1 = 0.25 + 1.5 + 0.5 = 2.25, z2 = 1 - 2 + 0.5 = -0.5
    np.testing.assert_allclose(batch, [[-2.5, 2.25, -1.0], [-1.0, 2.25, -0.5]], atol=1e-15)


def test_local_fields_do_not_depend_on_temperature():
    np.testing.assert_array_equal(machine(temperature=3.0).local_fields([1, 0, 1]), machine().local_fields([1, 0, 1]))


def test_local_field_is_the_energy_drop_of_switching_a_unit_on():
    bm = machine()
    for state in HAND_ENERGIES:
        fields = bm.local_fields(state)
        for i in range(3):
            on, off = list(state), list(state)
            on[i], off[i] = 1, 0
            assert fields[i] == pytest.approx(HAND_ENERGIES[tuple(off)] - HAND_ENERGIES[tuple(on)], abs=1e-14)


@pytest.mark.parametrize("temperature", [0.5, 1.0, 3.0])
def test_conditional_probabilities_from_energies(temperature):
    """p(s_i = 1 | rest) = e^{-E(on)/T} / (e^{-E(on)/T} + e^{-E(off)/T}), from the hand energies."""
    bm = machine(temperature=temperature)
    for state in HAND_ENERGIES:
        probabilities = bm.conditional_probabilities(state)
        for i in range(3):
            on, off = list(state), list(state)
            on[i], off[i] = 1, 0
            a, b = -HAND_ENERGIES[tuple(on)] / temperature, -HAND_ENERGIES[tuple(off)] / temperature
            assert probabilities[i] == pytest.approx(math.exp(a) / (math.exp(a) + math.exp(b)), rel=1e-13)


def test_conditional_probabilities_hand_values_and_shapes():
    bm = machine(temperature=0.5)
    # s = (1, 0, 1): z = (-2.5, 2.25, -1) -> sigma(z / 0.5)
    expected = [1 / (1 + math.exp(5.0)), 1 / (1 + math.exp(-4.5)), 1 / (1 + math.exp(2.0))]
    np.testing.assert_allclose(bm.conditional_probabilities([1, 0, 1]), expected, rtol=1e-14)
    assert bm.conditional_probabilities([[1, 0, 1]] * 4).shape == (4, 3)


def test_conditional_probabilities_saturate_without_warnings():
    bm = BoltzmannMachine([[0.0, 800.0], [800.0, 0.0]], [-900.0, 900.0], temperature=0.5)
    probabilities = bm.conditional_probabilities([[1, 1], [0, 0]])  # error::RuntimeWarning is on
    # s = (1, 1): z = (-900 + 800, 900 + 800) / 0.5 = (-200, 3400); s = (0, 0): z = (-1800, 1800)
    np.testing.assert_allclose(probabilities, [[1 / (1 + math.exp(200)), 1.0], [0.0, 1.0]], rtol=1e-13, atol=0)


# --------------------------------------------------------------------------- temperature
def test_with_temperature_returns_a_changed_copy():
    bm = machine(visible=[True, False, True], names=["x", "y", "z"])
    hot = bm.with_temperature(4.0)
    assert hot is not bm and type(hot) is BoltzmannMachine
    assert hot.temperature == 4.0 and bm.temperature == 1.0
    np.testing.assert_array_equal(hot.weights, bm.weights)
    np.testing.assert_array_equal(hot.biases, bm.biases)
    np.testing.assert_array_equal(hot.visible, bm.visible)
    assert hot.names == bm.names and hot.offset == bm.offset
    for state, energy in HAND_ENERGIES.items():
        assert hot.energy(state) == pytest.approx(energy, abs=1e-15)  # energies are temperature-free
        assert hot.unnormalized_log_probability(state) == pytest.approx(-energy / 4.0, abs=1e-15)


def test_with_temperature_keeps_sparse_storage():
    hot = machine_sparse().with_temperature(2.0)
    assert hot.is_sparse and sp.issparse(hot.weights)


def test_temperature_equals_scaled_parameters():
    """A model at T has p(s_i | rest) of the model with W/T, b/T at T = 1."""
    cold = machine(temperature=0.25)
    scaled = BoltzmannMachine(W / 0.25, B / 0.25)
    for state in HAND_ENERGIES:
        np.testing.assert_allclose(cold.conditional_probabilities(state), scaled.conditional_probabilities(state), rtol=1e-14)


# --------------------------------------------------------------------------- immutability
def test_parameter_arrays_are_read_only():
    bm = machine()
    for array in (bm.weights, bm.biases, bm.visible):
        assert not array.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1


def test_input_arrays_are_copied():
    weights, biases = W.copy(), B.copy()
    visible = np.array([True, False, True])
    bm = BoltzmannMachine(weights, biases, visible=visible)
    weights[0, 1] = weights[1, 0] = 100.0
    biases[0] = 100.0
    visible[1] = True
    assert bm.weights[0, 1] == 1.5 and bm.biases[0] == -0.5 and not bm.visible[1]
    assert weights.flags.writeable and biases.flags.writeable  # the caller's arrays are left writable


@pytest.mark.parametrize("attribute", ["weights", "biases", "temperature", "offset", "names", "_weights", "new_attribute"])
def test_attribute_assignment_raises(attribute):
    bm = machine()
    with pytest.raises(AttributeError, match="immutable|can't set|has no setter"):
        setattr(bm, attribute, 2.0)
    assert bm.temperature == 1.0 and bm.energy([1, 1, 1]) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("attribute", ["_weights", "_biases", "_temperature"])
def test_attribute_deletion_raises(attribute):
    bm = machine()
    with pytest.raises(AttributeError):
        delattr(bm, attribute)
    assert bm.energy([1, 0, 1]) == pytest.approx(2.25)


def machine_sparse(**options):
    options.setdefault("offset", OFFSET)
    return BoltzmannMachine(sp.csr_array(W), B, **options)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda w: w.__imul__(2.0),
        lambda w: setattr(w, "data", np.full_like(w.data, 9.0)),
        lambda w: w.data.__iadd__(1.0),
        lambda w: w.data.__setitem__(0, 7.0),
        lambda w: w.__setitem__((0, 1), 7.0),
        lambda w: w.__setitem__((0, 0), 7.0),  # a new entry: scipy reallocates the arrays
        lambda w: setattr(w, "indices", np.zeros_like(w.indices)),
    ],
    ids=["in_place_multiply", "replace_data", "in_place_add_to_data", "write_data", "set_entry", "new_entry", "replace_indices"],
)
def test_sparse_model_cannot_be_changed_through_its_weights(mutate):
    """Whatever a caller does to the matrix ``weights`` returns, the model itself stays as built."""
    bm = machine_sparse()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sp.SparseEfficiencyWarning)
            mutate(bm.weights)
    except (ValueError, AttributeError, TypeError, NotImplementedError):
        pass  # refusing is fine (read-only arrays); silently changing the model is not
    np.testing.assert_array_equal(bm.dense_weights(), W)
    for state, energy in HAND_ENERGIES.items():
        assert bm.energy(state) == pytest.approx(energy, abs=1e-14)


def test_dense_weights_is_a_writable_copy():
    for bm in (machine(), machine_sparse()):
        copy = bm.dense_weights()
        assert isinstance(copy, np.ndarray) and copy.flags.writeable
        copy[0, 1] = 99.0
        assert bm.energy([1, 1, 0]) == pytest.approx(HAND_ENERGIES[(1, 1, 0)])


# --------------------------------------------------------------------------- Ising form
def ising_energy(h, J, offset, sigma):
    """-sum_{i<j} J_ij sigma_i sigma_j - sum_i h_i sigma_i + offset, in plain Python."""
    return pair_sum_energy(J, h, offset, sigma)


def test_to_ising_hand_example():
    # W = [[0, 2], [2, 0]], b = (1, -1): J = W/4 = 0.5, h_i = b_i/2 + (sum_j W_ij)/4 = (1, 0),
    # offset = 0 - (sum W)/8 - (sum b)/2 = -0.5
    ising = BoltzmannMachine([[0.0, 2.0], [2.0, 0.0]], [1.0, -1.0]).to_ising()
    assert isinstance(ising, IsingModel)
    np.testing.assert_allclose(ising.h, [1.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(ising.J, [[0.0, 0.5], [0.5, 0.0]], atol=1e-15)
    assert ising.offset == pytest.approx(-0.5, abs=1e-15)
    # spot check: s = (1, 1), sigma = (1, 1): E_BM = -2 - 0 = -2; E_Ising = -0.5 - 1 - 0.5 = -2
    assert ising_energy(ising.h, ising.J, ising.offset, [1, 1]) == pytest.approx(-2.0)


def test_from_ising_hand_example():
    bm = BoltzmannMachine.from_ising([1.0, 0.0], [[0.0, 0.5], [0.5, 0.0]], -0.5)
    np.testing.assert_allclose(bm.weights, [[0.0, 2.0], [2.0, 0.0]], atol=1e-15)
    np.testing.assert_allclose(bm.biases, [1.0, -1.0], atol=1e-15)
    assert bm.offset == pytest.approx(0.0, abs=1e-15)


def test_to_ising_energy_equals_bm_energy_for_every_state():
    bm = machine()
    h, J, offset = bm.to_ising()
    for state, energy in HAND_ENERGIES.items():
        sigma = [2 * s - 1 for s in state]
        assert ising_energy(h, J, offset, sigma) == pytest.approx(energy, abs=1e-14)


def test_from_ising_energy_equals_ising_energy_for_every_state():
    rng = np.random.default_rng(3)
    upper = np.triu(rng.normal(size=(5, 5)), 1)
    J, h, offset = upper + upper.T, rng.normal(size=5), 2.5
    bm = BoltzmannMachine.from_ising(h, J, offset, names=list("abcde"), temperature=1.5)
    assert bm.names == tuple("abcde") and bm.temperature == 1.5
    for state in itertools.product((0, 1), repeat=5):
        sigma = [2 * s - 1 for s in state]
        assert bm.energy(state) == pytest.approx(ising_energy(h, J, offset, sigma), abs=1e-12)


def test_ising_round_trip():
    bm = machine(visible=[True, False, True])
    back = BoltzmannMachine.from_ising(*bm.to_ising(), visible=bm.visible)
    np.testing.assert_allclose(back.weights, bm.weights, atol=1e-14)
    np.testing.assert_allclose(back.biases, bm.biases, atol=1e-14)
    assert back.offset == pytest.approx(bm.offset, abs=1e-14)


def test_ising_form_of_a_sparse_model_stays_sparse():
    ising = machine_sparse().to_ising()
    assert sp.issparse(ising.J)
    back = BoltzmannMachine.from_ising(ising.h, ising.J, ising.offset)
    assert back.is_sparse
    for state, energy in HAND_ENERGIES.items():
        assert back.energy(state) == pytest.approx(energy, abs=1e-14)


# --------------------------------------------------------------------------- sparse models
def lattice(side, coupling):
    """Nearest-neighbour grid of side x side units as CSR, never dense; unit (r, c) is index r*side + c."""
    path = sp.diags_array([np.ones(side - 1), np.ones(side - 1)], offsets=[-1, 1], shape=(side, side))
    eye = sp.eye_array(side)
    return sp.csr_array(coupling * (sp.kron(path, eye) + sp.kron(eye, path)))


def lattice_energy(grid, coupling, biases):
    """Energy on a 2-D grid: -J * (number of neighbouring pairs both on) - b.s."""
    pairs = np.sum(grid[:, :-1] * grid[:, 1:]) + np.sum(grid[:-1, :] * grid[1:, :])
    return -coupling * pairs - biases @ grid.ravel()


@pytest.fixture(scope="module")
def big_lattice():
    side = 256
    biases = np.random.default_rng(4).normal(size=side * side)
    start = time.perf_counter()
    bm = BoltzmannMachine(lattice(side, 0.75), biases)
    return bm, biases, time.perf_counter() - start


def test_256_by_256_lattice_builds_fast_and_stays_sparse(big_lattice):
    bm, _, seconds = big_lattice
    assert seconds < 3.0
    assert bm.n_units == 65_536
    assert bm.is_sparse and sp.issparse(bm.weights)
    assert bm.n_edges == 2 * 256 * 255  # 255 horizontal and 255 vertical edges per row/column
    assert bm.weights.nnz == 2 * bm.n_edges
    assert "sparse" in repr(bm) and "n_edges=130560" in repr(bm)


def test_256_by_256_lattice_energies_of_a_batch(big_lattice):
    bm, biases, _ = big_lattice
    rng = np.random.default_rng(5)
    states = rng.integers(0, 2, size=(16, 65_536)).astype(np.int8)
    start = time.perf_counter()
    energies = bm.energy(states)
    fields = bm.local_fields(states[:4])
    seconds = time.perf_counter() - start
    assert seconds < 2.0
    expected = [lattice_energy(s.reshape(256, 256).astype(float), 0.75, biases) for s in states]
    np.testing.assert_allclose(energies, expected, rtol=1e-12)
    # the field of a corner unit (0, 0) has two neighbours: (0, 1) and (1, 0)
    s = states[0].reshape(256, 256)
    assert fields[0, 0] == pytest.approx(biases[0] + 0.75 * (s[0, 1] + s[1, 0]), rel=1e-14)
    # an interior unit (10, 20) has four
    k = 10 * 256 + 20
    expected_interior = biases[k] + 0.75 * (s[9, 20] + s[11, 20] + s[10, 19] + s[10, 21])
    assert fields[0, k] == pytest.approx(expected_interior, rel=1e-14)


def test_sparse_and_dense_machines_agree():
    rng = np.random.default_rng(6)
    upper = np.triu(rng.normal(size=(7, 7)) * (rng.random((7, 7)) < 0.4), 1)
    weights = upper + upper.T
    biases = rng.normal(size=7)
    dense = BoltzmannMachine(weights, biases, offset=1.0)
    sparse = BoltzmannMachine(sp.csr_array(weights), biases, offset=1.0)
    states = np.array(list(itertools.product((0, 1), repeat=7)))
    np.testing.assert_allclose(sparse.energy(states), dense.energy(states), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(sparse.local_fields(states), dense.local_fields(states), rtol=1e-13, atol=1e-13)
    assert sparse.n_edges == dense.n_edges == int(np.count_nonzero(upper))


@pytest.mark.parametrize("fmt", ["coo", "csc", "lil", "dok"])
def test_other_sparse_formats_become_csr(fmt):
    bm = BoltzmannMachine(sp.csr_array(W).asformat(fmt), B)
    assert bm.is_sparse and bm.weights.format == "csr"
    assert bm.energy([1, 0, 1]) == pytest.approx(HAND_ENERGIES[(1, 0, 1)] - OFFSET)


def test_sparse_explicit_zeros_and_duplicates():
    # duplicates (0, 1) = 1.0 + 0.5 are summed; explicit stored zeros on (1, 2) are no edge
    rows = np.array([0, 0, 1, 1, 2, 1])
    cols = np.array([1, 1, 0, 2, 1, 0])
    data = np.array([1.0, 0.5, 1.0, 0.0, 0.0, 0.5])
    bm = BoltzmannMachine(sp.coo_array((data, (rows, cols)), shape=(3, 3)), np.zeros(3))
    assert bm.n_edges == 1
    assert bm.energy([1, 1, 1]) == pytest.approx(-1.5)


# --------------------------------------------------------------------------- names, units, graph, repr
def test_default_names_follow_the_visible_mask():
    bm = machine(visible=[False, True, False])
    assert bm.names == ("h0", "v0", "h1")
    assert bm.visible_names == ("v0",) and bm.hidden_names == ("h0", "h1")
    assert bm.n_units == 3 and bm.n_visible == 1 and bm.n_hidden == 2


def test_all_units_visible_by_default():
    bm = machine()
    assert bm.names == ("v0", "v1", "v2") and bm.hidden_names == () and bm.n_hidden == 0
    assert bm.visible.dtype == np.bool_ and bm.visible.all()


def test_custom_names_and_index():
    bm = machine(names=["rain", "sprinkler", "wet"], visible=[False, True, True])
    assert bm.index("wet") == 2 and bm.index("rain") == 0
    assert bm.visible_names == ("sprinkler", "wet")
    with pytest.raises(KeyError, match="'snow'"):
        bm.index("snow")


def test_n_edges_dense():
    assert machine().n_edges == 3
    weights = W.copy()
    weights[0, 2] = weights[2, 0] = 0.0
    assert BoltzmannMachine(weights, B).n_edges == 2
    assert BoltzmannMachine(np.zeros((4, 4)), np.zeros(4)).n_edges == 0


def test_graph_property():
    bm = machine(names=["a", "b", "c"], visible=[True, False, True], temperature=2.0)
    graph = bm.graph
    assert isinstance(graph, nx.Graph) and not graph.is_directed()
    assert list(graph.nodes) == ["a", "b", "c"]
    assert dict(graph.nodes(data="bias")) == {"a": -0.5, "b": 0.25, "c": 1.0}
    assert dict(graph.nodes(data="visible")) == {"a": True, "b": False, "c": True}
    assert {frozenset(e): w for *e, w in graph.edges(data="weight")} == {
        frozenset("ab"): 1.5,
        frozenset("ac"): -2.0,
        frozenset("bc"): 0.5,
    }
    assert graph.graph["temperature"] == 2.0 and graph.graph["offset"] == OFFSET


def test_graph_is_a_new_object_each_time():
    bm = machine()
    graph = bm.graph
    graph.remove_edge("v0", "v1")
    graph.nodes["v2"]["bias"] = 100.0
    assert bm.graph.number_of_edges() == 3
    assert bm.graph.nodes["v2"]["bias"] == 1.0
    assert bm.energy([1, 1, 0]) == pytest.approx(HAND_ENERGIES[(1, 1, 0)])


def test_graph_leaves_out_zero_weights():
    weights = W.copy()
    weights[0, 2] = weights[2, 0] = 0.0
    graph = BoltzmannMachine(weights, B).graph
    assert graph.number_of_edges() == 2 and not graph.has_edge("v0", "v2")
    assert graph.number_of_nodes() == 3


def test_repr():
    text = repr(machine(visible=[True, False, True], temperature=0.5))
    assert text.startswith("BoltzmannMachine(")
    for part in ("n_units=3", "n_visible=2", "n_edges=3", "dense", "temperature=0.5"):
        assert part in text
    assert "sparse" in repr(machine_sparse())
