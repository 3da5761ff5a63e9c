"""Conversion between Boltzmann machines and networkx graphs."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from pgm_energy import BoltzmannMachine, ConversionError, PGMEnergyError, RestrictedBoltzmannMachine
from pgm_energy.interop.networkx import from_networkx, to_networkx

W = np.array([[0.0, 1.5, -2.0, 0.0], [1.5, 0.0, 0.5, 0.0], [-2.0, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
B = np.array([-0.5, 0.25, 1.0, 3.0])


def machine(**options):
    options.setdefault("names", ["a", "b", "c", "d"])
    return BoltzmannMachine(W, B, visible=[True, False, True, True], temperature=2.0, offset=-0.5, **options)


def test_to_networkx_hand_example():
    graph = to_networkx(machine())
    assert type(graph) is nx.Graph
    assert list(graph.nodes) == ["a", "b", "c", "d"]
    assert dict(graph.nodes(data="bias")) == {"a": -0.5, "b": 0.25, "c": 1.0, "d": 3.0}
    assert dict(graph.nodes(data="visible")) == {"a": True, "b": False, "c": True, "d": True}
    assert {frozenset((u, v)): w for u, v, w in graph.edges(data="weight")} == {
        frozenset("ab"): 1.5,
        frozenset("ac"): -2.0,
        frozenset("bc"): 0.5,
    }
    assert graph.degree("d") == 0  # an isolated unit is still a node
    assert graph.graph == {"temperature": 2.0, "offset": -0.5}
    assert all(type(w) is float for *_, w in graph.edges(data="weight"))
    assert all(type(b) is float for _, b in graph.nodes(data="bias"))
    assert all(type(v) is bool for _, v in graph.nodes(data="visible"))


@pytest.mark.parametrize("sparse", [False, True])
def test_round_trip(sparse):
    bm = machine()
    if sparse:
        bm = BoltzmannMachine(sp.csr_array(W), B, visible=bm.visible, names=bm.names, temperature=2.0, offset=-0.5)
    back = from_networkx(to_networkx(bm), sparse=sparse)
    assert back.is_sparse == sparse
    np.testing.assert_array_equal(back.dense_weights(), W)
    np.testing.assert_array_equal(back.biases, B)
    np.testing.assert_array_equal(back.visible, bm.visible)
    assert back.names == bm.names and back.temperature == 2.0 and back.offset == -0.5


def test_round_trip_through_the_graph_property_and_classmethod():
    bm = machine()
    back = BoltzmannMachine.from_networkx(bm.graph)
    for state in itertools.product((0, 1), repeat=4):
        assert back.energy(state) == bm.energy(state)


def test_from_networkx_defaults():
    graph = nx.Graph()
    graph.add_edge("x", "y", weight=2.0)
    graph.add_node("z", bias=-1.0, visible=False)
    bm = from_networkx(graph)
    assert bm.names == ("x", "y", "z")
    np.testing.assert_array_equal(bm.biases, [0.0, 0.0, -1.0])
    np.testing.assert_array_equal(bm.visible, [True, True, False])
    assert bm.temperature == 1.0 and bm.offset == 0.0 and not bm.is_sparse
    # E(1, 1, 1) = -2 + 1 = -1
    assert bm.energy([1, 1, 1]) == pytest.approx(-1.0)


def test_from_networkx_node_order():
    graph = to_networkx(machine())
    bm = from_networkx(graph, nodes=["d", "c", "b", "a"])
    assert bm.names == ("d", "c", "b", "a")
    np.testing.assert_array_equal(bm.biases, B[::-1])
    np.testing.assert_array_equal(bm.dense_weights(), W[::-1, ::-1])
    np.testing.assert_array_equal(bm.visible, [True, True, False, True])


def test_large_graphs_become_sparse_by_default():
    graph = nx.path_graph([f"u{i}" for i in range(3000)])
    nx.set_edge_attributes(graph, 0.5, "weight")
    bm = from_networkx(graph)
    assert bm.is_sparse and bm.n_units == 3000 and bm.n_edges == 2999


def test_rbm_graph_is_bipartite():
    rbm = RestrictedBoltzmannMachine.random(4, 3, scale=1.0, rng=1, hidden_names=["x", "y", "z"])
    graph = to_networkx(rbm)
    assert dict(graph.nodes(data="bipartite")) == {"v0": 0, "v1": 0, "v2": 0, "v3": 0, "x": 1, "y": 1, "z": 1}
    assert dict(graph.nodes(data="visible")) == {"v0": True, "v1": True, "v2": True, "v3": True, "x": False, "y": False, "z": False}
    assert nx.is_bipartite(graph)
    assert graph.number_of_edges() == 12
    top = {n for n, d in graph.nodes(data=True) if d["bipartite"] == 0}
    assert nx.bipartite.is_bipartite_node_set(graph, top)
    for i, j in itertools.product(range(4), range(3)):
        assert graph.edges[rbm.visible_names[i], rbm.hidden_names[j]]["weight"] == rbm.weights[i, j]
    back = from_networkx(graph)
    for v in itertools.product((0, 1), repeat=4):
        for h in itertools.product((0, 1), repeat=3):
            assert back.energy(v + h) == pytest.approx(rbm.energy(v, h), abs=1e-14)


def test_bm_graph_has_no_bipartite_attribute():
    assert all("bipartite" not in data for _, data in to_networkx(machine()).nodes(data=True))


def self_loop_graph():
    graph = nx.Graph()
    graph.add_edge("a", "b", weight=1.0)
    graph.add_edge("b", "b", weight=2.0)
    return graph


def missing_weight_graph():
    graph = nx.Graph()
    graph.add_edge("a", "b", weight=1.0)
    graph.add_edge("b", "c")
    return graph


def directed_graph():
    graph = nx.DiGraph()
    graph.add_edge("a", "b", weight=1.0)
    return graph


def multigraph():
    graph = nx.MultiGraph()
    graph.add_edge("a", "b", weight=1.0)
    graph.add_edge("a", "b", weight=2.0)
    return graph


@pytest.mark.parametrize(
    "make, options, pattern",
    [
        (self_loop_graph, {}, r"self-loop.*'b'"),
        (missing_weight_graph, {}, r"edge \('b', 'c'\).*weight"),
        (directed_graph, {}, r"undirected.*DiGraph"),
        (multigraph, {}, r"undirected.*MultiGraph"),
        (lambda: nx.Graph([("a", "b", {"weight": 1.0})]), {"nodes": ["a"]}, r"nodes.*every node"),
        (lambda: nx.Graph([("a", "b", {"weight": 1.0})]), {"nodes": ["a", "a"]}, r"nodes.*every node"),
        (lambda: nx.Graph([("a", "b", {"weight": 1.0})]), {"nodes": ["a", "c"]}, r"nodes.*every node"),
    ],
    ids=["self_loop", "missing_weight", "directed", "multigraph", "nodes_missing", "nodes_repeated", "nodes_foreign"],
)
def test_from_networkx_errors(make, options, pattern):
    with pytest.raises(ConversionError, match=pattern) as info:
        from_networkx(make(), **options)
    assert isinstance(info.value, PGMEnergyError) and isinstance(info.value, ValueError)


def test_from_networkx_rejects_a_non_graph():
    with pytest.raises((ConversionError, TypeError), match=r"networkx\.Graph.*dict"):
        from_networkx({"a": ["b"]})


def test_from_networkx_bad_values_are_validation_errors():
    graph = nx.Graph()
    graph.add_edge("a", "b", weight=float("nan"))
    with pytest.raises(ValueError, match=r"weights.*nan"):
        from_networkx(graph)
    graph = nx.Graph()
    graph.add_edge("", "b", weight=1.0)  # a unit name must not be empty
    with pytest.raises(ValueError, match=r"names.*non-empty"):
        from_networkx(graph)


def test_generator_graphs_with_integer_and_tuple_labels():
    """networkx's generators label nodes with ints (or tuples); names are their strings, the mapping returned."""
    ring = nx.cycle_graph(4)
    nx.set_edge_attributes(ring, -1.0, "weight")
    bm, mapping = from_networkx(ring, return_mapping=True)
    assert bm.names == ("0", "1", "2", "3") and mapping == {"0": 0, "1": 1, "2": 2, "3": 3}
    assert bm.energy([1, 1, 1, 1]) == pytest.approx(4.0)
    assert from_networkx(ring, nodes=[3, 2, 1, 0]).names == ("3", "2", "1", "0")
    grid, mapping = from_networkx(nx.grid_2d_graph(2, 2), default_weight=1.0, return_mapping=True)
    assert grid.names == ("(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)") and mapping["(1, 0)"] == (1, 0)
    assert grid.n_edges == 4 and grid.dense_weights()[0, 1] == 1.0


def test_missing_weight_default_and_bad_weights():
    path = nx.path_graph(3)
    with pytest.raises(ConversionError, match=r"edge \(0, 1\) has no 'weight'.*default_weight"):
        from_networkx(path)
    assert from_networkx(path, default_weight=0.5).dense_weights()[1, 2] == 0.5
    for bad in ("1.0", None, True, 1j):
        graph = nx.Graph([("a", "b", {"weight": bad})])
        with pytest.raises(ConversionError, match=r"edge \('a', 'b'\) has weight"):
            from_networkx(graph)
    with pytest.raises(TypeError, match="default_weight"):
        from_networkx(path, default_weight="1")
    with pytest.raises(TypeError, match="return_mapping"):
        from_networkx(path, default_weight=1.0, return_mapping="yes")


def test_labels_with_the_same_string_are_refused():
    graph = nx.Graph([(1, "1", {"weight": 1.0})])
    with pytest.raises(ConversionError, match=r"1 and '1' both become the unit name '1'"):
        from_networkx(graph)


@pytest.mark.parametrize("flag, expected", [(1, True), (0, False), (np.int64(1), True), (np.bool_(False), False)])
def test_visible_accepts_booleans_and_zero_one(flag, expected):
    graph = nx.Graph([("a", "b", {"weight": 1.0})])
    graph.nodes["b"]["visible"] = flag
    assert list(from_networkx(graph).visible) == [True, expected]


@pytest.mark.parametrize("flag", [2, -1, 0.5, 1.0, "yes", None])
def test_visible_refuses_other_values(flag):
    graph = nx.Graph([("a", "b", {"weight": 1.0})])
    graph.nodes["a"]["visible"] = flag
    with pytest.raises(ConversionError, match=r"node 'a' has visible="):
        from_networkx(graph)


def test_nodes_that_are_not_a_list_of_labels():
    graph = nx.Graph([("a", "b", {"weight": 1.0})])
    with pytest.raises(ConversionError, match="every node"):
        from_networkx(graph, nodes=[["a"], "b"])  # unhashable entry
    with pytest.raises(TypeError, match="nodes must be a list or tuple"):
        from_networkx(graph, nodes=3)
    with pytest.raises(TypeError, match="nodes must be a list or tuple"):
        from_networkx(graph, nodes={"a", "b"})  # a set has no order
    bad = sp.csr_array((np.array([1.0, 1.0]), np.array([1, 0]), np.array([0, 7, 2, 2])), shape=(3, 3), copy=False)
    with pytest.raises(TypeError, match="nodes must be a list or tuple"):
        from_networkx(graph, nodes=bad)
    with pytest.raises(TypeError, match="string"):
        from_networkx(graph, nodes="ab")


@pytest.mark.parametrize("junk", [np.array([True, False]), 1, "yes"])
def test_sparse_option_is_a_bool(junk):
    with pytest.raises(TypeError, match="sparse must be True or False"):
        from_networkx(nx.Graph([("a", "b", {"weight": 1.0})]), sparse=junk)
