"""Hypothesis strategies for pgmpy's discrete networks: for testing anyone's code that takes pgmpy models.

- :func:`discrete_bayesian_networks`: a ``DiscreteBayesianNetwork`` on a given DAG or a random one,
  with cardinalities, state names and CPD columns that may hold exact zeros (deterministic relations);
- :func:`discrete_markov_networks`: a pairwise ``DiscreteMarkovNetwork`` on a given graph or a random
  one, factors that may hold zeros (never all at once: the all-first-states assignment keeps a
  positive probability, so the partition function is positive);
- :func:`pgmpy_evidence`: evidence (variable -> state name) of positive probability for such a model.

Every generated model passes pgmpy's ``check_model()`` and shrinks towards few nodes, two states and
no zeros. Each is reported with ``hypothesis.note``: the Python source that rebuilds it, so a
falsifying example can be pasted into a test.
"""

from __future__ import annotations

import numbers

import numpy as np
from hypothesis import note
from hypothesis import strategies as st

from .._validation import check_bool, check_int, describe
from ..exceptions import ParameterTypeError, ValidationError
from .strategies import _check_range


def _check_common(min_nodes, max_nodes, max_cardinality, state_names, zero_probability) -> tuple:
    """The options both network strategies take, checked by name."""
    min_nodes, max_nodes = _check_range(min_nodes, max_nodes, "min_nodes", "max_nodes", lower=1)
    if max_nodes > 64:
        raise ValidationError(f"max_nodes must be at most 64, got {max_nodes}")
    max_cardinality = check_int(max_cardinality, "max_cardinality", minimum=2)
    if max_cardinality > 16:
        raise ValidationError(f"max_cardinality must be at most 16, got {max_cardinality}")
    value = zero_probability
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
        raise ValidationError(f"zero_probability must be a probability in [0, 1], got {describe(value)}")
    return min_nodes, max_nodes, max_cardinality, check_bool(state_names, "state_names"), float(value)

__all__ = ["discrete_bayesian_networks", "discrete_markov_networks", "pgmpy_evidence"]


def _probability_columns(draw, n_rows: int, n_columns: int, zero_probability: float) -> np.ndarray:
    """``n_columns`` distributions over ``n_rows`` states (columns sum to 1), some entries exactly 0."""
    values = np.empty((n_rows, n_columns))
    for column in range(n_columns):
        weights = [draw(st.floats(0.05, 1.0, allow_nan=False)) for _ in range(n_rows)]
        if zero_probability > 0 and n_rows > 1:
            zeros = [draw(st.booleans()) and draw(st.floats(0, 1)) < zero_probability for _ in range(n_rows)]
            keep = draw(st.integers(0, n_rows - 1))  # one state keeps a positive probability
            weights = [0.0 if zero and row != keep else w for row, (w, zero) in enumerate(zip(weights, zeros))]
        column_values = np.array(weights)
        values[:, column] = column_values / column_values.sum()
    return values


def _names(draw, node: str, card: int, state_names: bool) -> list:
    if not state_names:
        return list(range(card))
    style = draw(st.sampled_from(["letters", "words"]))
    if style == "letters":
        return [f"{node.lower()}{k}" for k in range(card)]
    return ["low", "mid", "high", "max", "top", "far", "near", "off"][:card] if card <= 8 else [f"s{k}" for k in
                                                                                               range(card)]


def discrete_bayesian_networks(*, dag=None, min_nodes=1, max_nodes=5, max_parents=2, max_cardinality=3,
                               state_names=True, zero_probability=0.2):
    """A strategy of pgmpy ``DiscreteBayesianNetwork`` s that pass ``check_model()``.

    Parameters
    ----------
    dag : networkx.DiGraph, optional
        The structure (node names as given); default a random DAG of ``min_nodes`` to
        ``max_nodes`` nodes ``X0, X1, ...``, each with at most ``max_parents`` parents among the
        earlier ones.
    max_cardinality : int >= 2
        States per node: 2 to this.
    state_names : bool, default True
        Name the states (strings); False keeps pgmpy's integer states.
    zero_probability : float in [0, 1], default 0.2
        Chance that a CPD entry is exactly zero (a column always keeps a positive one).

    Returns
    -------
    SearchStrategy of DiscreteBayesianNetwork

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from pgm_energy.testing import discrete_bayesian_networks
    >>> @settings(max_examples=5)
    ... @given(discrete_bayesian_networks(max_nodes=3))
    ... def test_every_cpd_column_sums_to_one(network):
    ...     for cpd in network.cpds:
    ...         assert abs(cpd.get_values().sum(axis=0) - 1).max() < 1e-9
    >>> test_every_cpd_column_sums_to_one()
    """
    import networkx as nx

    min_nodes, max_nodes, max_cardinality, state_names, zero_probability = _check_common(
        min_nodes, max_nodes, max_cardinality, state_names, zero_probability)
    max_parents = check_int(max_parents, "max_parents", minimum=0)
    if dag is not None:
        if not isinstance(dag, nx.DiGraph) or not nx.is_directed_acyclic_graph(dag) or dag.number_of_nodes() == 0:
            raise ParameterTypeError(f"dag must be a non-empty networkx DiGraph without cycles, got {describe(dag)}")
        if max(dict(dag.in_degree()).values()) > 12:
            raise ValidationError("dag gives a node more than 12 parents: its CPD would be too large to draw")

    @st.composite
    def draw_network(draw):
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.models import DiscreteBayesianNetwork

        if dag is None:
            n = draw(st.integers(min_nodes, max_nodes))
            nodes = [f"X{i}" for i in range(n)]
            edges = []
            for i in range(1, n):
                parents = draw(st.lists(st.integers(0, i - 1), max_size=max_parents, unique=True))
                edges.extend((nodes[p], nodes[i]) for p in sorted(parents))
        else:
            nodes, edges = list(dag.nodes()), list(dag.edges())
        cards = {node: draw(st.integers(2, max_cardinality)) for node in nodes}
        names = {node: _names(draw, str(node), cards[node], state_names) for node in nodes}
        network = DiscreteBayesianNetwork()
        network.add_nodes_from(nodes)
        network.add_edges_from(edges)
        cpds = []
        for node in nodes:
            parents = sorted(network.get_parents(node), key=nodes.index)
            n_columns = int(np.prod([cards[p] for p in parents])) if parents else 1
            values = _probability_columns(draw, cards[node], n_columns, zero_probability)
            cpds.append(TabularCPD(node, cards[node], values, evidence=parents or None,
                                   evidence_card=[cards[p] for p in parents] or None,
                                   state_names={v: names[v] for v in [node, *parents]}))
        network.add_cpds(*cpds)
        network.check_model()
        note(_bayesian_source(network, nodes, edges, cards, names))
        return network

    return draw_network()


def _bayesian_source(network, nodes, edges, cards, names) -> str:
    lines = ["from pgmpy.models import DiscreteBayesianNetwork", "from pgmpy.factors.discrete import TabularCPD",
             f"network = DiscreteBayesianNetwork({edges!r})", f"network.add_nodes_from({nodes!r})"]
    for node in nodes:
        cpd = network.get_cpds(node)
        parents = list(cpd.variables[1:])
        values = np.asarray(cpd.get_values()).tolist()
        lines.append(
            f"network.add_cpds(TabularCPD({node!r}, {int(cards[node])}, {values!r}, evidence={parents or None!r}, "
            f"evidence_card={[int(cards[p]) for p in parents] or None!r}, "
            f"state_names={ {v: names[v] for v in [node, *parents]}!r}))"
        )
    return "\n".join(lines)


def discrete_markov_networks(*, graph=None, min_nodes=1, max_nodes=5, max_degree=3, max_cardinality=3,
                             state_names=True, zero_probability=0.2):
    """A strategy of pairwise pgmpy ``DiscreteMarkovNetwork`` s that pass ``check_model()``, with a positive
    partition function.

    One factor per edge and one per node (pgmpy needs every node in a factor), values in
    [0.05, 2] with exact zeros at ``zero_probability``, except each factor's all-first-states
    entry, which stays positive.

    Parameters
    ----------
    graph : networkx.Graph, optional
        The structure; default a random graph on ``X0, X1, ...`` with degrees at most ``max_degree``.
    min_nodes, max_nodes, max_cardinality, state_names, zero_probability
        As :func:`discrete_bayesian_networks`.

    Returns
    -------
    SearchStrategy of DiscreteMarkovNetwork
    """
    import networkx as nx

    min_nodes, max_nodes, max_cardinality, state_names, zero_probability = _check_common(
        min_nodes, max_nodes, max_cardinality, state_names, zero_probability)
    max_degree = check_int(max_degree, "max_degree", minimum=0)
    if graph is not None and (not isinstance(graph, nx.Graph) or graph.is_directed() or graph.number_of_nodes() == 0):
        raise ParameterTypeError(f"graph must be a non-empty undirected networkx Graph, got {describe(graph)}")

    @st.composite
    def draw_network(draw):
        from pgmpy.factors.discrete import DiscreteFactor
        from pgmpy.models import DiscreteMarkovNetwork

        if graph is None:
            n = draw(st.integers(min_nodes, max_nodes))
            nodes = [f"X{i}" for i in range(n)]
            degree = dict.fromkeys(nodes, 0)
            edges = []
            pairs = [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1:]]
            for a, b in pairs:
                if degree[a] < max_degree and degree[b] < max_degree and draw(st.booleans()):
                    edges.append((a, b))
                    degree[a] += 1
                    degree[b] += 1
        else:
            nodes, edges = list(graph.nodes()), list(graph.edges())
        cards = {node: draw(st.integers(2, max_cardinality)) for node in nodes}
        names = {node: _names(draw, str(node), cards[node], state_names) for node in nodes}

        def table(*scope):
            size = int(np.prod([cards[v] for v in scope]))
            values = np.array([draw(st.floats(0.05, 2.0, allow_nan=False)) for _ in range(size)])
            if zero_probability > 0:
                for k in range(1, size):  # entry 0 (every variable at its first state) stays positive
                    if draw(st.floats(0, 1)) < zero_probability:
                        values[k] = 0.0
            return DiscreteFactor(list(scope), [cards[v] for v in scope], values,
                                  state_names={v: names[v] for v in scope})

        network = DiscreteMarkovNetwork(latents=[])
        network.add_nodes_from(nodes)
        network.add_edges_from(edges)
        network.add_factors(*[table(node) for node in nodes], *[table(a, b) for a, b in edges])
        network.check_model()
        note(_markov_source(network, nodes, edges))
        return network

    return draw_network()


def _markov_source(network, nodes, edges) -> str:
    lines = ["from pgmpy.models import DiscreteMarkovNetwork", "from pgmpy.factors.discrete import DiscreteFactor",
             "network = DiscreteMarkovNetwork(latents=[])", f"network.add_nodes_from({nodes!r})",
             f"network.add_edges_from({edges!r})"]
    for factor in network.get_factors():
        lines.append(
            f"network.add_factors(DiscreteFactor({list(factor.variables)!r}, {[int(c) for c in factor.cardinality]!r}, "
            f"{np.asarray(factor.values).ravel().tolist()!r}, state_names={dict(factor.state_names)!r}))"
        )
    return "\n".join(lines)


def pgmpy_evidence(model, *, max_size=2):
    """A strategy of evidence ``{variable: state name}`` of positive probability for a model of the strategies above.

    A Bayesian network's evidence is read off a forward draw (positive probability by
    construction); a Markov network's puts its variables at their first states (positive in
    every factor of :func:`discrete_markov_networks`).

    Parameters
    ----------
    model : pgmpy DiscreteBayesianNetwork or DiscreteMarkovNetwork
    max_size : int >= 0, default 2
        Most variables in the evidence.

    Returns
    -------
    SearchStrategy of dict
    """
    from pgmpy.models import DiscreteBayesianNetwork, DiscreteMarkovNetwork

    if not isinstance(model, (DiscreteBayesianNetwork, DiscreteMarkovNetwork)):
        raise ParameterTypeError(f"model must be a pgmpy DiscreteBayesianNetwork or DiscreteMarkovNetwork, got "
                                 f"{describe(model)}")
    max_size = check_int(max_size, "max_size", minimum=0)
    nodes = list(model.nodes())

    @st.composite
    def draw_evidence(draw):
        chosen = draw(st.lists(st.sampled_from(nodes), max_size=min(max_size, len(nodes)), unique=True))
        if isinstance(model, DiscreteBayesianNetwork):
            from ..interop.pgmpy_sampling import BayesianModelSampling

            row = BayesianModelSampling(model).forward_sample(size=1, seed=draw(st.integers(0, 2**32 - 1)))
            return {node: row[node].iloc[0] for node in chosen}
        states = {}
        for factor in model.get_factors():
            for variable in factor.variables:
                states.setdefault(variable, factor.state_names[variable][0])
        return {node: states[node] for node in chosen}

    return draw_evidence()
