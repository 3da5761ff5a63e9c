"""Conversion between Boltzmann machines and networkx graphs.

Nodes are unit names with attributes ``bias`` (float) and ``visible`` (bool);
edges carry ``weight``; a zero weight is no edge. Graph attributes
``temperature`` and ``offset`` hold the rest of the model.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..exceptions import ConversionError, ParameterTypeError
from ..models import BoltzmannMachine, RestrictedBoltzmannMachine

__all__ = ["to_networkx", "from_networkx"]


def to_networkx(model):
    """The model's graph as a new ``networkx.Graph``.

    Parameters
    ----------
    model : BoltzmannMachine or RestrictedBoltzmannMachine
        An RBM is converted through its BM embedding; its nodes also get the
        attribute ``bipartite`` (0 visible, 1 hidden), as networkx's bipartite algorithms expect.

    Returns
    -------
    networkx.Graph
    """
    import networkx as nx

    rbm = isinstance(model, RestrictedBoltzmannMachine)
    machine = model.to_boltzmann_machine() if rbm else model
    if not isinstance(machine, BoltzmannMachine):
        raise ParameterTypeError(f"model must be a BoltzmannMachine or RestrictedBoltzmannMachine, got {type(model).__name__}")
    graph = nx.Graph(temperature=machine.temperature, offset=machine.offset)
    names = machine.names
    for name, bias, visible in zip(names, machine.biases.tolist(), machine.visible.tolist()):
        attributes = {"bias": bias, "visible": visible}
        if rbm:
            attributes["bipartite"] = 0 if visible else 1
        graph.add_node(name, **attributes)
    upper = sp.triu(sp.csr_array(machine.weights), k=1, format="coo")
    graph.add_weighted_edges_from(
        (names[i], names[j], w) for i, j, w in zip(upper.row.tolist(), upper.col.tolist(), upper.data.tolist())
    )
    return graph


def from_networkx(graph, *, nodes=None, sparse=None) -> BoltzmannMachine:
    """Build a machine from an undirected networkx graph.

    Parameters
    ----------
    graph : networkx.Graph
        Nodes must be non-empty strings. Node attributes ``bias`` (default 0.0)
        and ``visible`` (default True); every edge needs a ``weight``. Graph
        attributes ``temperature`` (default 1.0) and ``offset`` (default 0.0).
    nodes : sequence, optional
        Unit order (default ``list(graph.nodes)``); must list every node once.
    sparse : bool, optional
        Store the weights sparse (default: when the graph has more than 2048 nodes).

    Raises
    ------
    ConversionError
        For a directed or multi-graph, self-loops, edges without ``weight``, or
        a ``nodes`` list that is not a permutation of the graph's nodes.
    """
    import networkx as nx

    if not isinstance(graph, nx.Graph) or graph.is_directed() or graph.is_multigraph():
        raise ConversionError(f"graph must be an undirected networkx.Graph, got {type(graph).__name__}")
    order = list(graph.nodes) if nodes is None else list(nodes)
    if len(order) != graph.number_of_nodes() or set(order) != set(graph.nodes):
        raise ConversionError("nodes must list every node of the graph exactly once")
    index = {node: k for k, node in enumerate(order)}
    rows, cols, data = [], [], []
    for u, v, attributes in graph.edges(data=True):
        if u == v:
            raise ConversionError(f"graph has a self-loop on {u!r}; Boltzmann machines have no self-connections")
        if "weight" not in attributes:
            raise ConversionError(f"edge ({u!r}, {v!r}) has no 'weight' attribute")
        rows += [index[u], index[v]]
        cols += [index[v], index[u]]
        data += [float(attributes["weight"])] * 2
    n_units = len(order)
    weights = sp.csr_array((np.array(data, dtype=np.float64), (rows, cols)), shape=(n_units, n_units))
    if sparse is None:
        sparse = n_units > 2048
    biases = [graph.nodes[node].get("bias", 0.0) for node in order]
    visible = np.array([graph.nodes[node].get("visible", True) for node in order])
    return BoltzmannMachine(
        weights if sparse else weights.toarray(),
        biases,
        visible=visible,
        names=order,
        temperature=graph.graph.get("temperature", 1.0),
        offset=graph.graph.get("offset", 0.0),
    )
