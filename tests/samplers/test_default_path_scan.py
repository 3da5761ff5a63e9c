"""``scan="auto"``, GibbsSampler's default: chromatic on sparse bipartite machines, sequential otherwise."""

from __future__ import annotations

import networkx as nx
import numba
import numpy as np
import pytest
import scipy.sparse as sp

from pgm_energy import BoltzmannMachine, ValidationError
from pgm_energy.samplers import GibbsSampler
from pgm_energy.samplers._scan_choice import MAX_COMPONENTS, choose_scan, is_bipartite


def periodic_lattice(side):
    """side x side periodic Ising lattice (even side: bipartite), sparse weights."""
    index = np.arange(side * side).reshape(side, side)
    rows = np.concatenate([index.ravel(), index.ravel()])
    cols = np.concatenate([np.roll(index, 1, 0).ravel(), np.roll(index, 1, 1).ravel()])
    couplings = sp.coo_array((np.ones(rows.size), (rows, cols)), shape=(side * side,) * 2).tocsr()
    return BoltzmannMachine.from_ising(np.zeros(side * side), couplings + couplings.T, temperature=2.5)


def from_graph(graph, *, dense=False):
    """A machine on ``graph`` (weights 0.3 on its edges), given as a sparse or a dense array."""
    weights = nx.to_scipy_sparse_array(graph, nodelist=sorted(graph), format="csr", dtype=float) * 0.3
    return BoltzmannMachine(weights.toarray() if dense else weights, np.zeros(graph.number_of_nodes()))


def csr(graph):
    matrix = nx.to_scipy_sparse_array(graph, nodelist=sorted(graph), format="csr")
    return matrix.indptr.astype(np.int64), matrix.indices.astype(np.int64)


@pytest.mark.parametrize("seed", range(40))
def test_is_bipartite_agrees_with_networkx(seed):
    generator = np.random.default_rng(seed)
    n = int(generator.integers(2, 60))
    graph = nx.gnp_random_graph(n, float(generator.random() * 6 / n), seed=seed)  # often disconnected
    if seed % 3 == 0:  # forests and grids: bipartite by construction
        graph = nx.random_labeled_tree(n, seed=seed) if seed % 2 else nx.convert_node_labels_to_integers(
            nx.grid_2d_graph(2 + seed % 5, 3))
    assert is_bipartite(*csr(graph)) == nx.is_bipartite(graph)


def test_more_components_than_the_bound_count_as_not_bipartite():
    pairs = nx.from_edgelist([(2 * k, 2 * k + 1) for k in range(MAX_COMPONENTS + 1)])
    assert nx.is_bipartite(pairs) and not is_bipartite(*csr(pairs))
    assert is_bipartite(*csr(nx.from_edgelist([(2 * k, 2 * k + 1) for k in range(MAX_COMPONENTS)])))


@pytest.mark.parametrize(
    "model, expected",
    [
        (periodic_lattice(8), "chromatic"),
        (from_graph(nx.path_graph(30)), "chromatic"),
        (from_graph(nx.cycle_graph(31)), "sequential"),  # an odd cycle
        (from_graph(nx.path_graph(30), dense=True), "chromatic"),  # a sparse graph in a dense array: stored CSR
        (from_graph(nx.complete_bipartite_graph(6, 6)), "sequential"),  # bipartite but dense: stored dense
        (BoltzmannMachine([[0.0, 1.0], [1.0, 0.0]], [0.0, 0.0]), "sequential"),
    ],
    ids=["lattice", "path", "odd_ring", "path_in_array", "complete_bipartite", "two_units"],
)
def test_auto_picks_from_the_model_and_reports_the_scan_it_ran(model, expected):
    assert choose_scan(model) == expected
    auto = GibbsSampler(burn_in=3).sample(model, 5, n_chains=2, rng=4)
    explicit = GibbsSampler(burn_in=3, scan=expected).sample(model, 5, n_chains=2, rng=4)
    assert auto.info["scan"] == expected
    np.testing.assert_array_equal(auto.states, explicit.states)


def test_auto_is_the_default_and_is_validated():
    assert GibbsSampler().scan == "auto" and "scan='auto'" in repr(GibbsSampler())
    with pytest.raises(ValidationError, match="scan.*'auto'.*'bogus'"):
        GibbsSampler(scan="bogus")


@pytest.mark.parametrize("n_chains", [1, 3])
def test_auto_draws_do_not_depend_on_the_thread_count(n_chains):
    model = periodic_lattice(96)  # classes of 4608 units: one chain runs its classes in parallel on 2+ threads
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = GibbsSampler(burn_in=2).sample(model, 3, n_chains=n_chains, rng=5)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = GibbsSampler(burn_in=2).sample(model, 3, n_chains=n_chains, rng=5)
    finally:
        numba.set_num_threads(before)
    assert one.info["scan"] == many.info["scan"] == "chromatic"
    np.testing.assert_array_equal(one.states, many.states)
