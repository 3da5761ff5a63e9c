"""A deep belief network taken apart and put together: its hybrid graph, its directed part, a stack of RBMs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._validation import check_finite_array, describe
from ..exceptions import ParameterTypeError, ValidationError
from ._base import readonly
from ._layered import DEFAULT_MAX_UNITS, check_layer_weights, check_list
from .rbm import RestrictedBoltzmannMachine
from .sigmoid_belief import SigmoidBeliefNetwork

__all__ = ["HybridGraph", "hybrid_graph", "check_recognition", "stack_rbms", "directed_part"]

# Probabilities of the factorial prior of directed_part() are kept in [eps, 1 - eps] so that
# their log-odds stay finite.
_PRIOR_CLIP = 1e-12


class HybridGraph(NamedTuple):
    """The graph of a deep belief network: an undirected part and a directed part sharing nodes.

    Attributes
    ----------
    undirected : networkx.Graph
        The top RBM: nodes of the top two layers, an edge per non-zero weight (attribute
        ``weight``). Nodes carry ``bias`` (the top RBM's visible or hidden bias), ``layer``.
    directed : networkx.DiGraph
        The sigmoid layers: nodes of every layer but the top one, an edge parent -> child per
        non-zero generative weight (attribute ``weight``). Nodes carry ``layer`` and ``bias``
        (the generative bias; for the parentless layer ``L - 1`` the top RBM's visible bias).

    The nodes of layer ``L - 1`` belong to both parts under the same names.
    """

    undirected: Any
    directed: Any

    @property
    def shared_nodes(self) -> list:
        """Nodes of both parts (the lower layer of the top RBM), in the order of the directed part."""
        return [node for node in self.directed.nodes if node in self.undirected]

    def moral_graph(self):
        """The undirected graph of the compiled Markov network, a new networkx ``Graph``.

        The top RBM's edges, every directed edge without its direction, and the
        moralization edges joining the parents of each unit (co-parents). Node
        attributes are those of the two parts; moral edges carry ``moral=True``.
        """
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(self.directed.nodes(data=True))
        graph.add_nodes_from(self.undirected.nodes(data=True))
        graph.add_edges_from(self.undirected.edges(data=True))
        graph.add_edges_from(self.directed.edges(data=True))
        for child in self.directed.nodes:
            parents = list(self.directed.predecessors(child))
            for a, parent_a in enumerate(parents):
                for parent_b in parents[a + 1 :]:
                    if not graph.has_edge(parent_a, parent_b):
                        graph.add_edge(parent_a, parent_b, moral=True)
        return graph


def hybrid_graph(dbn) -> HybridGraph:
    """A new :class:`HybridGraph` of ``dbn``: the top RBM (undirected) and the sigmoid layers (directed)."""
    import networkx as nx

    top = len(dbn.weights)
    layers = dbn.layers
    undirected = nx.Graph()
    for k in (top - 1, top):
        for name, bias in zip(layers[k], dbn.biases[k].tolist()):
            undirected.add_node(name, bias=bias, layer=k, visible=k == 0)
    rows, cols = np.nonzero(dbn.weights[-1])
    for i, j in zip(rows.tolist(), cols.tolist()):
        undirected.add_edge(layers[top - 1][i], layers[top][j], weight=float(dbn.weights[-1][i, j]))
    directed = nx.DiGraph()
    for k in range(top):
        for name, bias in zip(layers[k], dbn.biases[k].tolist()):
            directed.add_node(name, bias=bias, layer=k, visible=k == 0)
    for k in range(top - 1):
        rows, cols = np.nonzero(dbn.weights[k])
        for i, j in zip(rows.tolist(), cols.tolist()):
            directed.add_edge(layers[k + 1][j], layers[k][i], weight=float(dbn.weights[k][i, j]))
    return HybridGraph(undirected, directed)


def stack_rbms(rbms, names) -> tuple:
    """The constructor arguments of :meth:`DeepBeliefNetwork.from_rbms`, the RBMs checked.

    Returns
    -------
    (weights, biases, recognition_weights, recognition_biases, names)
    """
    if isinstance(rbms, RestrictedBoltzmannMachine) or not isinstance(rbms, Sequence):
        raise ParameterTypeError(f"rbms must be a list of RestrictedBoltzmannMachine, got {describe(rbms)}")
    rbms = list(rbms)
    for k, rbm in enumerate(rbms):
        if not isinstance(rbm, RestrictedBoltzmannMachine):
            raise ParameterTypeError(f"rbms[{k}] must be a RestrictedBoltzmannMachine, got {describe(rbm)}")
        if rbm.temperature != 1.0:
            raise ValidationError(
                f"rbms[{k}] has temperature {rbm.temperature!r}; stack machines at temperature 1 "
                "(divide the parameters by T)"
            )
    if len(rbms) < 2:
        raise ValidationError(
            f"rbms must hold at least 2 machines, got {len(rbms)}; a single RBM is already the model"
        )
    for k in range(len(rbms) - 1):
        if rbms[k].n_hidden != rbms[k + 1].n_visible:
            raise ValidationError(
                f"rbms[{k}] has {rbms[k].n_hidden} hidden units but rbms[{k + 1}] has "
                f"{rbms[k + 1].n_visible} visible units; they must be equal to stack them"
            )
    if names is None:
        names = list(rbms[0].visible_names)
        for k, rbm in enumerate(rbms, start=1):
            names += [f"h{k}_{j}" for j in range(rbm.n_hidden)]
    return (
        [rbm.weights for rbm in rbms],
        [rbm.visible_bias for rbm in rbms] + [rbms[-1].hidden_bias],
        [rbm.weights for rbm in rbms[:-1]],
        [rbm.hidden_bias for rbm in rbms[:-1]],
        names,
    )


def directed_part(dbn, prior) -> SigmoidBeliefNetwork:
    """:meth:`DeepBeliefNetwork.directed_part`: layers ``0 .. L - 1`` with a factorial prior on the top one."""
    top = len(dbn.weights)
    if prior is None:
        from .. import exact

        rbm = dbn.top_rbm
        prior = exact._marginal_array(rbm, max_units=DEFAULT_MAX_UNITS)[: rbm.n_visible]
    else:
        prior = check_finite_array(prior, "prior", ndim=1)
        if prior.shape != (dbn.layer_sizes[top - 1],):
            raise ValidationError(
                f"prior must have shape ({dbn.layer_sizes[top - 1]},) (layer {top - 1}), got {prior.shape}"
            )
        if np.any((prior < 0) | (prior > 1)):
            raise ValidationError(f"prior must hold probabilities in [0, 1], got {describe(prior)}")
    prior = np.clip(prior, _PRIOR_CLIP, 1.0 - _PRIOR_CLIP)
    return SigmoidBeliefNetwork(
        list(dbn.weights[: top - 1]),
        list(dbn.biases[: top - 1]) + [np.log(prior) - np.log1p(-prior)],
        names=dbn.names[: dbn._offsets[top]],
    )


def _per_directed_layer(values, name: str, n_directed: int, what: str) -> list:
    """``values`` as a list of ``n_directed`` entries, one per directed layer."""
    values = check_list(values, name, "arrays (one per pair of layers)")
    if len(values) != n_directed:
        raise ValidationError(f"{name} must hold {n_directed} {what} (one per directed layer), got {len(values)}")
    return values


def check_recognition(recognition_weights, recognition_biases, weights, sizes) -> tuple[tuple, tuple]:
    """Read-only copies of the recognition weights and biases of a network of layer ``sizes``.

    Defaults: ``weights[:-1]`` (tied) and zeros.
    """
    n_directed = len(weights) - 1
    if recognition_weights is None:
        recognition_weights = [matrix.copy() for matrix in weights[:n_directed]]
    else:
        recognition_weights = _per_directed_layer(recognition_weights, "recognition_weights", n_directed, "matrices")
    checked_weights = tuple(check_layer_weights(recognition_weights, sizes, "recognition_weights"))
    if recognition_biases is None:
        recognition_biases = [np.zeros(sizes[k + 1]) for k in range(n_directed)]
    else:
        recognition_biases = _per_directed_layer(recognition_biases, "recognition_biases", n_directed, "vectors")
    checked = []
    for k, vector in enumerate(recognition_biases):
        vector = check_finite_array(vector, f"recognition_biases[{k}]", ndim=1)
        if vector.shape != (sizes[k + 1],):
            raise ValidationError(
                f"recognition_biases[{k}] must have shape ({sizes[k + 1]},) (the units of layer {k + 1}), "
                f"got {vector.shape}"
            )
        checked.append(readonly(vector.copy()))
    return checked_weights, tuple(checked)
