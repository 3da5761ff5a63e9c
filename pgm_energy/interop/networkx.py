"""Conversion between Boltzmann machines and networkx graphs.

Nodes are unit names with attributes ``bias`` (float) and ``visible`` (bool);
edges carry ``weight``; a zero weight is no edge. Graph attributes
``temperature`` and ``offset`` hold the rest of the model. :func:`from_networkx`
accepts any hashable node labels (names are their strings, the mapping returned on request).
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp

from .._validation import check_bool, describe
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


def _unit_names(order) -> tuple[list[str], dict[str, object]]:
    """Unit names for the graph's node labels: strings kept, other labels through ``str``.

    Returns the names and the mapping name -> original label. Two labels with the same
    string (``1`` and ``"1"``) are refused: the model could not tell their units apart.
    """
    names, mapping = [], {}
    for label in order:
        name = label if isinstance(label, str) else str(label)
        if name in mapping:
            raise ConversionError(
                f"graph nodes {mapping[name]!r} and {label!r} both become the unit name {name!r}; "
                "relabel one of them (networkx.relabel_nodes)"
            )
        names.append(name)
        mapping[name] = label
    return names, mapping


def _edge_weight(u, v, attributes, default_weight) -> float:
    if "weight" not in attributes:
        if default_weight is None:
            raise ConversionError(
                f"edge ({u!r}, {v!r}) has no 'weight' attribute; give every edge a weight, "
                "or pass default_weight= (for example default_weight=1.0, networkx's usual default)"
            )
        return default_weight
    weight = attributes["weight"]
    if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, numbers.Real):
        raise ConversionError(f"edge ({u!r}, {v!r}) has weight {weight!r}; weights must be real numbers")
    return float(weight)


def _node_visible(label, attributes) -> bool:
    visible = attributes.get("visible", True)
    if isinstance(visible, (bool, np.bool_)):
        return bool(visible)
    if isinstance(visible, numbers.Integral) and visible in (0, 1):
        return bool(visible)
    raise ConversionError(f"node {label!r} has visible={visible!r}; it must be True/False or 1/0")


def from_networkx(graph, *, nodes=None, sparse=None, default_weight=None, return_mapping=False):
    """Build a machine from an undirected networkx graph.

    Parameters
    ----------
    graph : networkx.Graph
        Nodes may be any hashable labels (integers from networkx's generators, tuples from
        ``grid_2d_graph``, strings, ...). A string label is the unit's name as is; any other
        label becomes ``str(label)`` (``0`` -> ``"0"``, ``(0, 1)`` -> ``"(0, 1)"``), and
        ``return_mapping=True`` gives the mapping back. Node attributes: ``bias`` (default
        0.0) and ``visible`` (True/False or 1/0, default True). Edge attribute ``weight``:
        required unless ``default_weight`` is given. Graph attributes ``temperature``
        (default 1.0) and ``offset`` (default 0.0).
    nodes : sequence, optional
        Unit order, as graph labels (default ``list(graph.nodes)``); must list every node once.
    sparse : bool, optional
        Store the weights sparse (default: when the graph has more than 2048 nodes).
    default_weight : float, optional
        The weight of an edge without a ``weight`` attribute. Default None: such an edge is
        an error (a weight is a model parameter; it is not invented silently). Pass ``1.0``
        for networkx's usual convention (``networkx.to_numpy_array``).
    return_mapping : bool, default False
        Also return a dict unit name -> original node label.

    Returns
    -------
    BoltzmannMachine, or (BoltzmannMachine, dict) with ``return_mapping=True``

    Raises
    ------
    ConversionError
        For a directed or multi-graph, self-loops, an edge without a real ``weight`` (and
        no ``default_weight``), a ``visible`` that is not a bool or 0/1, two labels with the
        same string (``1`` and ``"1"``), or a ``nodes`` list that is not a permutation of
        the graph's nodes.
    ParameterTypeError
        For a ``default_weight`` that is not a real number or a non-bool ``return_mapping``.

    Examples
    --------
    >>> import networkx as nx
    >>> from pgm_energy.interop.networkx import from_networkx
    >>> bm, mapping = from_networkx(nx.cycle_graph(3), default_weight=-1.0, return_mapping=True)
    >>> bm.names, mapping
    (('0', '1', '2'), {'0': 0, '1': 1, '2': 2})
    """
    import networkx as nx

    if not isinstance(graph, nx.Graph) or graph.is_directed() or graph.is_multigraph():
        raise ConversionError(f"graph must be an undirected networkx.Graph, got {type(graph).__name__}")
    if default_weight is not None:
        if isinstance(default_weight, (bool, np.bool_)) or not isinstance(default_weight, numbers.Real):
            raise ParameterTypeError(f"default_weight must be a real number or None, got {describe(default_weight)}")
        default_weight = float(default_weight)
    return_mapping = check_bool(return_mapping, "return_mapping")
    if sparse is not None:
        sparse = check_bool(sparse, "sparse")
    if nodes is None:
        order = list(graph.nodes)
    else:
        if isinstance(nodes, (str, bytes)):
            raise ParameterTypeError(f"nodes must be a sequence of node labels, got the string {nodes!r}")
        if not isinstance(nodes, (list, tuple, range, np.ndarray)):
            # not any iterable: a set has no order, and iterating a malformed sparse matrix reads out of bounds
            raise ParameterTypeError(f"nodes must be a list or tuple of node labels, got {describe(nodes)}")
        try:
            order = list(nodes)
            complete = len(order) == graph.number_of_nodes() and set(order) == set(graph.nodes)
        except TypeError:  # not iterable, or unhashable entries
            raise ConversionError(f"nodes must list every node of the graph exactly once, got {describe(nodes)}") from None
        if not complete:
            raise ConversionError("nodes must list every node of the graph exactly once")
    names, mapping = _unit_names(order)
    index = {node: k for k, node in enumerate(order)}
    rows, cols, data = [], [], []
    for u, v, attributes in graph.edges(data=True):
        if u == v:
            raise ConversionError(f"graph has a self-loop on {u!r}; Boltzmann machines have no self-connections")
        weight = _edge_weight(u, v, attributes, default_weight)
        rows += [index[u], index[v]]
        cols += [index[v], index[u]]
        data += [weight] * 2
    n_units = len(order)
    weights = sp.csr_array((np.array(data, dtype=np.float64), (rows, cols)), shape=(n_units, n_units))
    if sparse is None:
        sparse = n_units > 2048
    biases = [graph.nodes[node].get("bias", 0.0) for node in order]
    visible = np.array([_node_visible(node, graph.nodes[node]) for node in order], dtype=bool)
    machine = BoltzmannMachine(
        weights if sparse else weights.toarray(),
        biases,
        visible=visible,
        names=names,
        temperature=graph.graph.get("temperature", 1.0),
        offset=graph.graph.get("offset", 0.0),
    )
    return (machine, mapping) if return_mapping else machine
