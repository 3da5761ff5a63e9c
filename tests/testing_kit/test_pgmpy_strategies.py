"""The pgmpy strategies generate models pgmpy accepts, deterministic ones included, with evidence of positive
probability and a source note that rebuilds them."""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
from hypothesis import find, given, settings
from hypothesis import strategies as st

from pgm_energy.testing import discrete_bayesian_networks, discrete_markov_networks, pgmpy_evidence
from pgm_energy.testing.pgmpy_strategies import _bayesian_source, _markov_source

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")
    from pgmpy.inference import VariableElimination


@settings(max_examples=60)
@given(st.data())
def test_bayesian_networks_pass_check_model_and_evidence_has_positive_probability(data):
    network = data.draw(discrete_bayesian_networks(max_nodes=5))
    assert network.check_model()
    evidence = data.draw(pgmpy_evidence(network))
    free = [node for node in network.nodes() if node not in evidence]
    if free:
        answer = VariableElimination(network).query(free[:2], evidence=evidence or None, show_progress=False)
        assert np.isfinite(answer.values).all() and abs(answer.values.sum() - 1.0) < 1e-9


@settings(max_examples=60)
@given(st.data())
def test_markov_networks_pass_check_model_with_a_positive_partition_function(data):
    network = data.draw(discrete_markov_networks(max_nodes=5))
    assert network.check_model()
    evidence = data.draw(pgmpy_evidence(network))
    free = [node for node in network.nodes() if node not in evidence]
    if free:
        answer = VariableElimination(network).query(free[:1], evidence=evidence or None, joint=True,
                                                    show_progress=False)
        assert answer.values.sum() > 0  # unnormalised on a Markov network: positive


def test_deterministic_models_are_generated_and_models_shrink_to_small_ones():
    has_zero = find(discrete_bayesian_networks(), lambda n: any((np.asarray(c.get_values()) == 0).any()
                                                                for c in n.cpds),
                    settings=settings(max_examples=500, database=None))
    assert any((np.asarray(c.get_values()) == 0).any() for c in has_zero.cpds)
    markov = find(discrete_markov_networks(), lambda n: any((f.values == 0).any() for f in n.get_factors()),
                  settings=settings(max_examples=500, database=None))
    assert any((f.values == 0).any() for f in markov.get_factors())
    # the simplest models are one binary node without zeros
    simplest = find(discrete_bayesian_networks(), lambda n: True)
    assert len(simplest.nodes()) == 1 and simplest.get_cpds("X0").variable_card == 2
    assert (np.asarray(simplest.get_cpds("X0").get_values()) > 0).all()
    assert len(find(discrete_markov_networks(), lambda n: True).nodes()) == 1


DAG = nx.DiGraph([("rain", "wet"), ("sprinkler", "wet")])
RING = nx.cycle_graph(["a", "b", "c", "d"])


@settings(max_examples=10)
@given(discrete_bayesian_networks(dag=DAG), discrete_markov_networks(graph=RING))
def test_given_structures_are_kept(network, markov):
    assert set(network.edges()) == set(DAG.edges())
    assert {frozenset(e) for e in markov.edges()} == {frozenset(e) for e in RING.edges()}


def test_the_note_is_source_that_rebuilds_the_model():
    network = find(discrete_bayesian_networks(min_nodes=3, zero_probability=0.5),
                   lambda n: len(n.edges()) >= 2 and any((np.asarray(c.get_values()) == 0).any() for c in n.cpds),
                   settings=settings(max_examples=500, database=None))
    nodes = list(network.nodes())
    cards = {node: network.get_cpds(node).variable_card for node in nodes}
    names = {node: list(network.get_cpds(node).state_names[node]) for node in nodes}
    scope = {}
    exec(_bayesian_source(network, nodes, list(network.edges()), cards, names), scope)
    for node in nodes:
        np.testing.assert_array_equal(scope["network"].get_cpds(node).get_values(), network.get_cpds(node).get_values())
    markov = find(discrete_markov_networks(min_nodes=3), lambda n: len(n.edges()) >= 2,
                  settings=settings(max_examples=200, database=None))
    scope = {}
    exec(_markov_source(markov, list(markov.nodes()), list(markov.edges())), scope)
    assert len(scope["network"].get_factors()) == len(markov.get_factors())
    assert scope["network"].check_model()
