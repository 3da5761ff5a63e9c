"""Files and networkx graphs keep a model exactly."""

import itertools

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import pgm_energy
from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine
from pgm_energy.testing import boltzmann_machines, restricted_boltzmann_machines, temperatures

from _property_helpers import all_states, bm_energies, rbm_energies, tolerance

offsets = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
# Any non-empty string without NUL is a valid unit name (NUL is refused at construction);
# the second branch stresses whitespace and non-ASCII, which fixed-width string arrays may mangle.
_name_characters = st.characters(exclude_characters="\x00")
unit_names = st.text(_name_characters, min_size=1, max_size=4) | st.text(alphabet="a \t\u00e9", min_size=1, max_size=3)
_counter = itertools.count()


def _same_array(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


@settings(max_examples=30)
@given(
    boltzmann_machines(
        max_units=6, weight_scale=1e3, sparse=st.booleans(), temperature=temperatures(min_value=1e-3, max_value=1e3),
        offset=offsets, names=unit_names,
    )
)
def test_boltzmann_machine_file_round_trip_is_exact(tmp_path_factory, bm):
    path = tmp_path_factory.mktemp("bm") / f"model{next(_counter)}.npz"
    bm.save(path)
    loaded = pgm_energy.load(path)
    assert type(loaded) is BoltzmannMachine
    assert loaded.names == bm.names
    assert loaded.temperature == bm.temperature and loaded.offset == bm.offset
    assert loaded.is_sparse == bm.is_sparse
    if bm.is_sparse:
        for part in ("data", "indices", "indptr"):
            _same_array(getattr(loaded.weights, part), getattr(bm.weights, part))
    else:
        _same_array(loaded.weights, bm.weights)
    _same_array(loaded.biases, bm.biases)
    _same_array(loaded.visible, bm.visible)
    states = all_states(bm.n_units)
    _same_array(loaded.energy(states), bm.energy(states))


@settings(max_examples=30)
@given(
    restricted_boltzmann_machines(
        max_visible=5, max_hidden=4, weight_scale=1e3, temperature=temperatures(min_value=1e-3, max_value=1e3),
        names=unit_names,
    )
)
def test_rbm_file_round_trip_is_exact(tmp_path_factory, rbm):
    path = tmp_path_factory.mktemp("rbm") / f"model{next(_counter)}.npz"
    pgm_energy.save(rbm, path)
    loaded = pgm_energy.load(path)
    assert type(loaded) is RestrictedBoltzmannMachine
    assert loaded.visible_names == rbm.visible_names and loaded.hidden_names == rbm.hidden_names
    assert loaded.temperature == rbm.temperature
    _same_array(loaded.weights, rbm.weights)
    _same_array(loaded.visible_bias, rbm.visible_bias)
    _same_array(loaded.hidden_bias, rbm.hidden_bias)


@settings(max_examples=30)
@given(
    boltzmann_machines(max_units=7, sparse=st.booleans(), temperature=temperatures(), offset=st.floats(-5, 5)),
    st.data(),
)
def test_networkx_round_trip_preserves_energies(bm, data):
    graph = bm.graph
    assert set(graph.nodes) == set(bm.names)
    assert graph.number_of_edges() == bm.n_edges
    assert graph.graph["temperature"] == bm.temperature and graph.graph["offset"] == bm.offset
    back = BoltzmannMachine.from_networkx(graph)
    assert back.names == bm.names
    assert list(back.visible) == list(bm.visible)
    assert back.temperature == bm.temperature
    states = all_states(bm.n_units)
    atol = tolerance(bm, 1e-12) * bm.temperature
    np.testing.assert_allclose(bm_energies(back, states), bm_energies(bm, states), rtol=1e-12, atol=atol)
    # another unit order permutes the state vector and nothing else
    order = data.draw(st.permutations(bm.names))
    reordered = BoltzmannMachine.from_networkx(graph, nodes=order)
    assert reordered.names == tuple(order)
    perm = [bm.index(name) for name in order]
    np.testing.assert_allclose(bm_energies(reordered, states[:, perm]), bm_energies(bm, states), rtol=1e-12, atol=atol)
    assert list(reordered.visible) == [bool(bm.visible[k]) for k in perm]


@settings(max_examples=30)
@given(restricted_boltzmann_machines(max_visible=5, max_hidden=4, temperature=temperatures()))
def test_rbm_graph_is_bipartite_and_keeps_energies(rbm):
    graph = rbm.graph
    for name in rbm.visible_names:
        assert graph.nodes[name]["bipartite"] == 0 and graph.nodes[name]["visible"] is True
    for name in rbm.hidden_names:
        assert graph.nodes[name]["bipartite"] == 1 and graph.nodes[name]["visible"] is False
    back = BoltzmannMachine.from_networkx(graph)
    states = all_states(rbm.n_units)
    expected = rbm_energies(rbm, states[:, : rbm.n_visible], states[:, rbm.n_visible :])
    order = [back.index(name) for name in rbm.names]
    back_states = np.empty_like(states)
    back_states[:, order] = states
    np.testing.assert_allclose(bm_energies(back, back_states), expected, rtol=1e-12, atol=tolerance(rbm, 1e-12) * rbm.temperature)
    assert not sp.issparse(back.weights)
