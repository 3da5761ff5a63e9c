"""Multi-state pgmpy networks through PottsMachine: every VariableElimination query kept to 1e-12.

pgmpy's bundled example networks all have nodes with two or more parents, so moralised they hold
factors over three or more variables, which a pairwise model cannot hold: the conversion refuses
them by name. Tree-shaped Bayesian networks (one parent at most) and grid Markov networks of any
cardinality are pairwise, and are built here at random.
"""

import itertools

import numpy as np
import pytest

from pgm_energy import PottsMachine, exact
from pgm_energy.exceptions import ConversionError
from pgm_energy.interop.pgmpy import variable_elimination_query


def random_tree_network(seed, n_nodes=8):
    """A Bayesian network on a random tree, cardinalities 2-4, string state names, no zero entries."""
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    g = np.random.default_rng(seed)
    names = [f"x{i}" for i in range(n_nodes)]
    cards = g.integers(2, 5, n_nodes)
    parents = [None] + [int(g.integers(0, i)) for i in range(1, n_nodes)]
    network = DiscreteBayesianNetwork([(names[p], names[i]) for i, p in enumerate(parents) if p is not None])
    network.add_nodes_from(names)
    states = {name: [f"{name}_{a}" for a in range(k)] for name, k in zip(names, cards)}
    cpds = []
    for i, p in enumerate(parents):
        columns = 1 if p is None else cards[p]
        table = g.dirichlet(np.ones(cards[i]), size=columns).T  # (k_i, k_parent), columns sum to 1
        evidence = None if p is None else [names[p]]
        cpds.append(TabularCPD(names[i], cards[i], table, evidence=evidence,
                               evidence_card=None if p is None else [cards[p]],
                               state_names={names[i]: states[names[i]], **({} if p is None else {names[p]: states[names[p]]})}))
    network.add_cpds(*cpds)
    network.check_model()
    return network


def grid_network(seed, side=3, q=3):
    from pgmpy.factors.discrete import DiscreteFactor
    from pgmpy.models import DiscreteMarkovNetwork

    g = np.random.default_rng(seed)
    name = [[f"g{i}{j}" for j in range(side)] for i in range(side)]
    edges = [(name[i][j], name[i][j + 1]) for i in range(side) for j in range(side - 1)]
    edges += [(name[i][j], name[i + 1][j]) for i in range(side - 1) for j in range(side)]
    network = DiscreteMarkovNetwork(edges)
    network.add_factors(*[DiscreteFactor([u, v], [q, q], np.exp(g.normal(0, 0.7, q * q))) for u, v in edges])
    network.add_factors(*[DiscreteFactor([v], [q], np.exp(g.normal(0, 0.5, q))) for row in name for v in row])
    network.check_model()
    return network


def assert_queries_agree(network, model, rng):
    nodes = list(network.nodes())
    state_names = model.state_names
    for _ in range(6):
        chosen = list(rng.permutation(nodes))
        targets, given = chosen[:2], chosen[2:4]
        evidence = {v: state_names[v][int(rng.integers(0, len(state_names[v])))] for v in given}
        reference = variable_elimination_query(network, targets, evidence=evidence)
        ours = exact.query(model, targets, evidence=evidence)
        np.testing.assert_allclose(ours.values, reference.values, rtol=0, atol=1e-12)
        assert ours.state_names == reference.state_names
    marginals = exact.marginals(model)
    for v in nodes:
        reference = variable_elimination_query(network, [v])
        np.testing.assert_allclose(marginals[v].to_numpy(), reference.values, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tree_bayesian_networks_moralised_convert_exactly(seed):
    network = random_tree_network(seed)
    markov = network.to_markov_model()
    model = PottsMachine.from_markov_network(markov)
    assert model.cardinalities == tuple(network.get_cardinality(v) for v in markov.nodes())
    # a Bayesian network is normalised: Z = 1
    assert exact.log_partition_function(model) == pytest.approx(0.0, abs=1e-12)
    assert_queries_agree(markov, model, np.random.default_rng(seed))


@pytest.mark.parametrize("seed, q", [(0, 3), (1, 4)])
def test_grid_markov_networks_convert_exactly_both_ways(seed, q):
    network = grid_network(seed, q=q)
    model = PottsMachine.from_markov_network(network)
    assert_queries_agree(network, model, np.random.default_rng(seed))
    again = model.to_markov_network()
    again.check_model()
    assert_queries_agree(again, PottsMachine.from_markov_network(again), np.random.default_rng(seed + 10))


@pytest.mark.parametrize("name", ["cancer", "earthquake", "survey"])
def test_bundled_networks_with_two_parents_are_refused_by_name(name):
    import warnings

    from pgmpy.utils import get_example_model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        markov = get_example_model(name).to_markov_model()
    with pytest.raises(ConversionError, match="3 variables; a Potts machine holds only unary and pairwise"):
        PottsMachine.from_markov_network(markov)
