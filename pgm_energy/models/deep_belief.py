r"""Deep belief networks: an undirected top RBM over a directed sigmoid belief network.

A deep belief network (Hinton, Osindero & Teh, 2006, "A fast learning algorithm for deep
belief nets", *Neural Computation* 18) with layers ``x^(0) = v, x^(1), ..., x^(L)`` (bottom
first) has the joint distribution

.. math::

    p(x) = \frac{e^{-E_{top}(x^{(L-1)}, x^{(L)})}}{Z_{top}}
           \prod_{k=0}^{L-2} p(x^{(k)} \mid x^{(k+1)}),
    \qquad p(x^{(k)}_i = 1 \mid x^{(k+1)}) = \sigma(b^{(k)}_i + (W^{(k)} x^{(k+1)})_i),

where the top two layers form an RBM with energy
``E_top(x, h) = -x'W^{(L-1)}h - b^{(L-1)}'x - b^{(L)}'h`` (undirected part) and each lower
layer is caused by the one above through sigmoid conditionals (directed part). Every
conditional sums to one, so the partition function of the whole network is the top
RBM's, ``Z_top``. As a graph it is a hybrid: an undirected bipartite graph on the top two
layers sharing the nodes of layer ``L - 1`` with a directed acyclic graph on the layers
below (:class:`HybridGraph`); compiled into one Markov network it needs the moralization
edges between co-parents (:meth:`DeepBeliefNetwork.to_markov_network`).

Besides the generative model the network carries a *recognition* model, the factorial
bottom-up approximation ``q(x^(k+1) | x^(k)) = prod_j sigma(r^(k+1)_j + (x^(k) R^(k))_j)`` used
by :meth:`~DeepBeliefNetwork.transform`, the up-down fine-tuning and the variational bound.
After greedy training the recognition weights are tied to the generative ones
(``R^(k) = W^(k)``, the recognition biases being the hidden biases of the stacked RBMs);
:meth:`~DeepBeliefNetwork.fine_tune` unties them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._math import sigmoid, softplus
from .._validation import (
    MAX_SWEEPS,
    check_array_size,
    check_bool,
    check_energy_scale,
    MAX_QUERY_VARIABLES,
    check_query_variables,
    check_evidence,
    check_finite_array,
    check_int,
    check_names,
    check_rng,
    check_states,
    check_sweeps,
    describe,
)
from ..exceptions import (
    EvidenceError,
    ModelSizeError,
    ParameterTypeError,
    StateError,
    TrainingDivergedError,
    ValidationError,
)
from ._base import file_member, readonly
from ._layered import LayeredModel, check_layer_sizes
from .rbm import RestrictedBoltzmannMachine
from .sigmoid_belief import SigmoidBeliefNetwork

__all__ = ["DeepBeliefNetwork", "HybridGraph", "LikelihoodBound", "DEFAULT_MAX_UNITS"]

#: default limit on the number of units an exact enumeration runs through (2**20 configurations)
DEFAULT_MAX_UNITS = 20
#: most variables a joint query table may hold (2**20 entries)
# States evaluated per vectorised block of an exact enumeration (about 2**14 x n_units floats).
_CHUNK = 1 << 14
# Probabilities of the factorial prior of directed_part() are kept in [eps, 1 - eps] so that
# their log-odds stay finite.
_PRIOR_CLIP = 1e-12
_METHODS = ("exact", "gibbs")


def _log_sum_exp(values: np.ndarray, axis=None):
    """``log(sum(exp(values)))`` along ``axis``; an all ``-inf`` slice gives ``-inf``."""
    peak = np.max(values, axis=axis, keepdims=True)
    safe = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        result = safe + np.log(np.sum(np.exp(values - safe), axis=axis, keepdims=True))
    return float(result.ravel()[0]) if axis is None else np.squeeze(result, axis=axis)


def _bernoulli_entropy(pre_activation: np.ndarray) -> np.ndarray:
    """Entropy of Bernoulli(sigmoid(a)) summed over the last axis: ``softplus(a) - sigmoid(a) a``."""
    return np.sum(softplus(pre_activation) - sigmoid(pre_activation) * pre_activation, axis=-1)


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


class LikelihoodBound(NamedTuple):
    """The variational lower bound on the mean log-likelihood of data under a deep belief network.

    Attributes
    ----------
    mean : float
        Monte Carlo estimate of ``(1/m) sum_r B(v_r)`` in nats, ``B(v) <= log p(v)``.
    standard_error : float
        Monte Carlo standard error of ``mean`` from the samples of ``q`` (NaN with one
        sample per row); the error of ``log_z`` is apart, in ``log_z_std``.
    per_row : ndarray, shape (n_rows,)
        The estimate of ``B(v_r)`` of each row.
    log_z : float
        ``log Z`` of the top RBM used.
    log_z_std : float
        0 when exact, else the AIS standard deviation of ``log_z``.
    log_z_method : {"exact", "ais"}
    """

    mean: float
    standard_error: float
    per_row: np.ndarray
    log_z: float
    log_z_std: float
    log_z_method: str


def _recognition_members(n_layers: int) -> list[str]:
    """Members a model file holds for the recognition layers (all but the top RBM's)."""
    return [f"recognition_{part}_{k}" for part in ("weights", "biases") for k in range(n_layers - 2)]


def _check_matrix_list(values, name: str) -> list:
    if not isinstance(values, (list, tuple)):
        raise ParameterTypeError(f"{name} must be a list of arrays (one per pair of layers), got {describe(values)}")
    return list(values)


class DeepBeliefNetwork(LayeredModel):
    r"""A deep belief network: a top RBM over a sigmoid belief network, with a recognition model.

    Layers are listed **bottom first**: layer 0 is visible, layers ``L - 1`` and ``L`` form
    the top RBM (``L = len(weights) >= 2``). ``weights[k]`` has shape (n_k, n_{k+1}), the
    orientation of an RBM's ``weights``: for ``k < L - 1`` the generative weights of layer
    ``k + 1`` onto layer ``k`` (``p(x^(k)_i = 1 | x^(k+1)) = sigmoid(biases[k]_i + (weights[k]
    x^(k+1))_i)``), and ``weights[L - 1]`` the top RBM's weights with visible bias
    ``biases[L - 1]`` and hidden bias ``biases[L]``. See the module docstring for the joint.

    The recognition model is stored apart, never as a view of the generative weights:
    ``recognition_weights[k]`` (shape (n_k, n_{k+1})) and ``recognition_biases[k]`` (shape
    (n_{k+1},)) for ``k < L - 1`` give ``q(x^(k+1)_j = 1 | x^(k)) = sigmoid(recognition_biases[k]_j
    + (x^(k) recognition_weights[k])_j)``. Greedy training ties them (equal values:
    ``recognition_weights[k] == weights[k]``, ``recognition_biases[k]`` the hidden bias of the
    ``k``-th RBM, which the generative model discards); :meth:`fine_tune` unties them. The top
    layer's recognition is the top RBM's own ``p(h | x^(L-1))``.

    Parameters
    ----------
    weights : sequence of L >= 2 array_like
        ``weights[k]`` of shape (n_k, n_{k+1}); an exactly zero weight is no edge.
    biases : sequence of L + 1 array_like
        ``biases[k]`` of shape (n_k,).
    recognition_weights : sequence of L - 1 array_like, optional
        Default: equal to ``weights[:-1]`` (tied).
    recognition_biases : sequence of L - 1 array_like, optional
        ``recognition_biases[k]`` of shape (n_{k+1},). Default: zeros.
    names : sequence of str, optional
        One unique name per unit, layer by layer, bottom first. Default ``v{i}`` for layer 0
        and ``h{k}_{j}`` for unit ``j`` of layer ``k >= 1`` (as :class:`SigmoidBeliefNetwork`).

    Notes
    -----
    The temperature is 1 (``temperature`` is read-only); a network at another temperature is
    the one with every weight and bias divided by it.

    Examples
    --------
    >>> from pgm_energy import DeepBeliefNetwork, RestrictedBoltzmannMachine
    >>> rbms = [RestrictedBoltzmannMachine.random(4, 3, scale=1.0, rng=0),
    ...         RestrictedBoltzmannMachine.random(3, 2, scale=1.0, rng=1)]
    >>> dbn = DeepBeliefNetwork.from_rbms(rbms)
    >>> dbn.layer_sizes, dbn.names[-2:]
    ((4, 3, 2), ('h2_0', 'h2_1'))
    >>> posterior = dbn.query(["h1_0", "h2_1"], {"v0": 1, "v1": 0})
    >>> posterior.variables, posterior.values.shape
    (['h1_0', 'h2_1'], (2, 2))
    """

    _FILE_KIND = "DeepBeliefNetwork"

    def __init__(self, weights, biases, *, recognition_weights=None, recognition_biases=None, names=None):
        weights = _check_matrix_list(weights, "weights")
        if not isinstance(biases, (list, tuple)):
            raise ParameterTypeError(f"biases must be a list of bias vectors (one per layer), got {describe(biases)}")
        if len(weights) < 2:
            raise ValidationError(
                f"weights must hold at least 2 matrices (a directed layer under a top RBM), got {len(weights)}; "
                "a single RBM is a RestrictedBoltzmannMachine"
            )
        if len(biases) != len(weights) + 1:
            raise ValidationError(
                f"biases must hold one vector per layer: {len(weights) + 1} for {len(weights)} weight matrices, "
                f"got {len(biases)}"
            )
        bias_vectors = []
        for k, vector in enumerate(biases):
            vector = check_finite_array(vector, f"biases[{k}]", ndim=1)
            if vector.shape[0] == 0:
                raise ValidationError(f"biases[{k}] must have at least one unit, got shape {vector.shape}")
            bias_vectors.append(readonly(vector.copy()))
        sizes = tuple(vector.shape[0] for vector in bias_vectors)
        self._weights = tuple(self._check_weights(weights, sizes, "weights"))
        self._biases = tuple(bias_vectors)
        n_directed = len(weights) - 1
        if recognition_weights is None:
            recognition = [matrix.copy() for matrix in self._weights[:n_directed]]
        else:
            recognition = _check_matrix_list(recognition_weights, "recognition_weights")
            if len(recognition) != n_directed:
                raise ValidationError(
                    f"recognition_weights must hold {n_directed} matrices (one per directed layer), "
                    f"got {len(recognition)}"
                )
        self._recognition_weights = tuple(self._check_weights(recognition, sizes, "recognition_weights"))
        if recognition_biases is None:
            recognition_biases = [np.zeros(sizes[k + 1]) for k in range(n_directed)]
        else:
            recognition_biases = _check_matrix_list(recognition_biases, "recognition_biases")
            if len(recognition_biases) != n_directed:
                raise ValidationError(
                    f"recognition_biases must hold {n_directed} vectors (one per directed layer), "
                    f"got {len(recognition_biases)}"
                )
        checked = []
        for k, vector in enumerate(recognition_biases):
            vector = check_finite_array(vector, f"recognition_biases[{k}]", ndim=1)
            if vector.shape != (sizes[k + 1],):
                raise ValidationError(
                    f"recognition_biases[{k}] must have shape ({sizes[k + 1]},) (the units of layer {k + 1}), "
                    f"got {vector.shape}"
                )
            checked.append(readonly(vector.copy()))
        self._recognition_biases = tuple(checked)
        self._set_layers(sizes, names)
        self._temperature = 1.0
        self._energy_bound = check_energy_scale(
            {
                **{f"weights[{k}]": matrix for k, matrix in enumerate(self._weights)},
                **{f"biases[{k}]": vector for k, vector in enumerate(self._biases)},
                **{f"recognition_weights[{k}]": matrix for k, matrix in enumerate(self._recognition_weights)},
                **{f"recognition_biases[{k}]": vector for k, vector in enumerate(self._recognition_biases)},
            },
            "the DeepBeliefNetwork",
        )
        self._freeze()

    @staticmethod
    def _check_weights(matrices, sizes, name):
        checked = []
        for k, matrix in enumerate(matrices):
            matrix = check_finite_array(matrix, f"{name}[{k}]", ndim=2)
            expected = (sizes[k], sizes[k + 1])
            if matrix.shape != expected:
                raise ValidationError(
                    f"{name}[{k}] must have shape (n_{k}, n_{k + 1}) = {expected} to match the layer sizes, "
                    f"got {matrix.shape}"
                )
            checked.append(readonly(matrix.copy()))
        return checked

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_rbms(cls, rbms, *, names=None) -> "DeepBeliefNetwork":
        """Stack RBMs, bottom first, into a deep belief network with tied recognition weights.

        RBM ``k`` gives ``weights[k]``; for ``k < L - 1`` its visible bias becomes the generative
        bias of layer ``k`` and its hidden bias the recognition bias of layer ``k + 1`` (the
        generative model discards it: layer ``k + 1`` is generated by the RBM above). The last
        RBM is the top RBM, kept whole.

        Parameters
        ----------
        rbms : sequence of RestrictedBoltzmannMachine, length >= 2
            ``rbms[k].n_hidden == rbms[k + 1].n_visible``, all at temperature 1.
        names : sequence of str, optional
            Default: the first RBM's visible names for layer 0 (``v{i}`` unless renamed) and
            ``h{k}_{j}`` for the hidden layers. The RBMs' hidden names are not used.

        Returns
        -------
        DeepBeliefNetwork
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
        return cls(
            [rbm.weights for rbm in rbms],
            [rbm.visible_bias for rbm in rbms] + [rbms[-1].hidden_bias],
            recognition_weights=[rbm.weights for rbm in rbms[:-1]],
            recognition_biases=[rbm.hidden_bias for rbm in rbms[:-1]],
            names=names,
        )

    @classmethod
    def fit_greedy(cls, data, layer_sizes, *, trainer=None, rng=None, progress=True) -> "DeepBeliefNetwork":
        """Greedy layer-wise training (Hinton, Osindero & Teh, 2006): one RBM per layer, bottom up.

        RBM ``k`` is trained on the data (``k = 0``) or on the activities of the hidden layer of
        RBM ``k - 1`` driven by the data below it. The activities are **binary samples**: each row
        of the layer below gives one sample of ``p(h | x)``, drawn once (not redrawn each epoch).
        Hinton et al. pass samples or probabilities in different places; samples are chosen
        here because each RBM then models binary vectors, as it assumes, and the trainers take
        binary data. The stacked RBMs become a network with tied recognition weights
        (:meth:`from_rbms`).

        Parameters
        ----------
        data : array_like of 0/1, shape (n_samples, n_visible), or pandas.DataFrame
            A DataFrame's columns name the visible units.
        layer_sizes : sequence of int >= 1, length >= 2
            Hidden units per layer, bottom first (the visible layer is given by ``data``).
        trainer : trainer or sequence of trainers, optional
            An object with ``fit(n_hidden, data, rng=..., progress=...) -> TrainingResult``,
            such as :class:`~pgm_energy.learning.ContrastiveDivergence`, for every layer, or one
            per layer. Default ``ContrastiveDivergence()``.
        rng : None, int or numpy.random.Generator
            Drives every trainer and every sample of the hidden activities.
        progress : bool, default True
            Passed to the trainers.

        Returns
        -------
        DeepBeliefNetwork
        """
        sizes = check_layer_sizes(layer_sizes)
        if len(sizes) < 2:
            raise ValidationError(
                f"layer_sizes must hold at least 2 hidden layers, got {list(layer_sizes)!r}; "
                "for one hidden layer train a RestrictedBoltzmannMachine"
            )
        if trainer is None:
            from ..learning import ContrastiveDivergence

            trainers = [ContrastiveDivergence() for _ in sizes]
        elif isinstance(trainer, (list, tuple)):
            if len(trainer) != len(sizes):
                raise ValidationError(
                    f"trainer must be one trainer or one per layer ({len(sizes)}), got a sequence of {len(trainer)}"
                )
            trainers = list(trainer)
        else:
            trainers = [trainer] * len(sizes)
        for k, item in enumerate(trainers):
            if not callable(getattr(item, "fit", None)):
                raise ParameterTypeError(f"trainer must have a fit() method, got {describe(item)} for layer {k}")
        if not isinstance(progress, (bool, np.bool_)):
            raise ParameterTypeError(f"progress must be True or False, got {describe(progress)}")
        visible_names = None
        if hasattr(data, "columns") and hasattr(data, "to_numpy"):
            visible_names = check_names([str(column) for column in data.columns], data.shape[1], "data columns")
            data = data.to_numpy()
        try:
            shape = np.shape(data)
        except (TypeError, ValueError):  # ragged nesting
            shape = None
        if shape is None or len(shape) != 2:
            raise StateError(f"data must be a 2-D array (n_samples, n_visible) of 0/1 values, got {describe(data)}")
        layer_data, _ = check_states(data, shape[1], "data")
        if layer_data.shape[0] == 0:
            raise ValidationError("data must hold at least one sample, got 0 rows")
        generator = check_rng(rng)
        layer_data = layer_data.astype(np.uint8)
        rbms = []
        for k, (n_hidden, fitter) in enumerate(zip(sizes, trainers)):
            result = fitter.fit(n_hidden, layer_data, rng=generator, progress=bool(progress))
            rbm = getattr(result, "model", result)
            if not isinstance(rbm, RestrictedBoltzmannMachine) or rbm.n_hidden != n_hidden:
                raise ParameterTypeError(
                    f"the trainer of layer {k} must return a RestrictedBoltzmannMachine with {n_hidden} hidden units, "
                    f"got {describe(rbm)}"
                )
            rbms.append(rbm)
            if k < len(sizes) - 1:
                probabilities = sigmoid(layer_data @ rbm.weights + rbm.hidden_bias)
                layer_data = (generator.random(probabilities.shape) < probabilities).astype(np.uint8)
        names = None
        if visible_names is not None:
            names = list(visible_names) + [f"h{k}_{j}" for k, size in enumerate(sizes, start=1) for j in range(size)]
        return cls.from_rbms(rbms, names=names)

    # ------------------------------------------------------------------ parameters
    @property
    def weights(self) -> tuple[np.ndarray, ...]:
        """``weights[k]``, shape (n_k, n_{k+1}), read-only; the last is the top RBM's."""
        return self._weights

    @property
    def biases(self) -> tuple[np.ndarray, ...]:
        """``biases[k]``, shape (n_k,), read-only; the last two are the top RBM's visible and hidden biases."""
        return self._biases

    @property
    def recognition_weights(self) -> tuple[np.ndarray, ...]:
        """``recognition_weights[k]``, shape (n_k, n_{k+1}), read-only, for ``k < L - 1``."""
        return self._recognition_weights

    @property
    def recognition_biases(self) -> tuple[np.ndarray, ...]:
        """``recognition_biases[k]``, shape (n_{k+1},), read-only, for ``k < L - 1``."""
        return self._recognition_biases

    @property
    def is_tied(self) -> bool:
        """True when every recognition weight equals its generative weight."""
        return all(np.array_equal(r, w) for r, w in zip(self._recognition_weights, self._weights))

    @property
    def top_rbm(self) -> RestrictedBoltzmannMachine:
        """The undirected part: an RBM over the top two layers, with the network's unit names."""
        top = len(self._weights)
        return RestrictedBoltzmannMachine(
            self._weights[-1],
            self._biases[top - 1],
            self._biases[top],
            visible_names=self.layers[top - 1],
            hidden_names=self.layers[top],
        )

    def directed_part(self, prior=None) -> SigmoidBeliefNetwork:
        """The sigmoid layers as a :class:`SigmoidBeliefNetwork` whose top layer has a factorial prior.

        The conditionals of layers ``0 .. L - 2`` are the network's own. The top RBM's marginal
        over layer ``L - 1`` is replaced by a factorial prior: it is exact only when that marginal
        factorizes, so this network is an approximation of the deep belief network, but the one in
        which explaining away among the hidden causes of a directed layer is seen alone.

        Parameters
        ----------
        prior : array_like of float in [0, 1], shape (n_{L-1},), optional
            ``p(x^(L-1)_j = 1)`` of the factorial prior. Default: the exact marginals of the
            top RBM's lower layer (by enumeration; refused above 20 enumerated units, see
            :func:`pgm_energy.exact.marginals`). Clipped to [1e-12, 1 - 1e-12].

        Returns
        -------
        SigmoidBeliefNetwork
            Layers 0 .. L - 1, unit names as in this network.
        """
        top = len(self._weights)
        if prior is None:
            from .. import exact

            rbm = self.top_rbm
            prior = exact.marginals(rbm, max_units=DEFAULT_MAX_UNITS)[: rbm.n_visible]
        else:
            prior = check_finite_array(prior, "prior", ndim=1)
            if prior.shape != (self._layer_sizes[top - 1],):
                raise ValidationError(
                    f"prior must have shape ({self._layer_sizes[top - 1]},) (layer {top - 1}), got {prior.shape}"
                )
            if np.any((prior < 0) | (prior > 1)):
                raise ValidationError(f"prior must hold probabilities in [0, 1], got {describe(prior)}")
        prior = np.clip(prior, _PRIOR_CLIP, 1.0 - _PRIOR_CLIP)
        return SigmoidBeliefNetwork(
            list(self._weights[: top - 1]),
            list(self._biases[: top - 1]) + [np.log(prior) - np.log1p(-prior)],
            names=self._names[: self._offsets[top]],
        )

    def to_bayesian_network(self, prior=None):
        """The directed part as a pgmpy ``DiscreteBayesianNetwork`` (see :meth:`directed_part`).

        Returns
        -------
        pgmpy.models.DiscreteBayesianNetwork
            One sigmoid ``TabularCPD`` per unit of layers ``0 .. L - 1``; layer ``L - 1`` carries
            the factorial ``prior``.
        """
        return self.directed_part(prior).to_bayesian_network()

    # ------------------------------------------------------------------ graphs and pgmpy
    @property
    def hybrid_graph(self) -> HybridGraph:
        """A new :class:`HybridGraph`: the top RBM (undirected) and the sigmoid layers (directed)."""
        import networkx as nx

        top = len(self._weights)
        layers = self.layers
        undirected = nx.Graph()
        for k in (top - 1, top):
            for name, bias in zip(layers[k], self._biases[k].tolist()):
                undirected.add_node(name, bias=bias, layer=k, visible=k == 0)
        rows, cols = np.nonzero(self._weights[-1])
        for i, j in zip(rows.tolist(), cols.tolist()):
            undirected.add_edge(layers[top - 1][i], layers[top][j], weight=float(self._weights[-1][i, j]))
        directed = nx.DiGraph()
        for k in range(top):
            for name, bias in zip(layers[k], self._biases[k].tolist()):
                directed.add_node(name, bias=bias, layer=k, visible=k == 0)
        for k in range(top - 1):
            rows, cols = np.nonzero(self._weights[k])
            for i, j in zip(rows.tolist(), cols.tolist()):
                directed.add_edge(layers[k + 1][j], layers[k][i], weight=float(self._weights[k][i, j]))
        return HybridGraph(undirected, directed)

    @property
    def graph(self):
        """The moral graph (a new networkx ``Graph``): the structure of :meth:`to_markov_network`."""
        return self.hybrid_graph.moral_graph()

    def to_markov_network(self):
        """Compile the exact joint distribution into one pgmpy ``DiscreteMarkovNetwork``.

        The factors are the top RBM's (one per edge, biases folded in, as
        :func:`pgm_energy.interop.pgmpy.to_markov_network`) and, for every unit of layers
        ``0 .. L - 2``, its sigmoid CPD as a factor over the unit and its parents
        (``TabularCPD.to_factor``); the edges are the top RBM's, each unit's edges to its
        parents and the moralization edges between its parents. Since every CPD sums to one over
        its unit, the product of the factors is ``exp(-E_top) prod_k p(x^(k) | x^(k+1))`` and the
        network's partition function equals the top RBM's ``Z``. Hidden units are ``latents``.

        Raises
        ------
        ModelSizeError
            If a unit has more than 16 parents (its table would exceed 2**16 columns).
        ConversionError
            If a top-RBM factor entry overflows float64 (see the interop function).
        """
        from ..interop.pgmpy import to_bayesian_network, to_markov_network

        top = len(self._weights)
        directed = self.directed_part(np.full(self._layer_sizes[top - 1], 0.5))
        bayesian = to_bayesian_network(directed)  # size errors come first, before anything is built
        network = to_markov_network(self.top_rbm)
        lower = self._names[: self._offsets[top - 1]]
        network.add_nodes_from(lower)
        factors = []
        for name in lower:
            parents = list(bayesian.get_parents(name))
            network.add_edges_from((name, parent) for parent in parents)
            network.add_edges_from(
                (parent, other) for a, parent in enumerate(parents) for other in parents[a + 1 :]
            )
            factors.append(bayesian.get_cpds(name).to_factor())
        network.add_factors(*factors)
        network.latents = list(self.hidden_names)
        return network

    # ------------------------------------------------------------------ probabilities
    def _log_mass(self, batch: np.ndarray, summed=None) -> np.ndarray:
        """Unnormalized ``log p`` of full states, the top units in ``summed`` summed out exactly.

        ``batch``: float64 (n_states, n_units); ``summed``: bool mask over the top layer (those
        columns of ``batch`` are ignored) or None. Returns ``log p(x) + log Z_top``, shape (n_states,).
        """
        top, offsets = len(self._weights), self._offsets
        lower = batch[:, offsets[top - 1] : offsets[top]]
        field = lower @ self._weights[-1] + self._biases[top]
        total = lower @ self._biases[top - 1]
        upper = batch[:, offsets[top] : offsets[top + 1]]
        if summed is None:
            total += np.sum(upper * field, axis=1)
        else:
            kept = ~summed
            total += np.sum(upper[:, kept] * field[:, kept], axis=1) + np.sum(softplus(field[:, summed]), axis=1)
        for k in range(top - 1):
            activation = batch[:, offsets[k + 1] : offsets[k + 2]] @ self._weights[k].T + self._biases[k]
            units = batch[:, offsets[k] : offsets[k + 1]]
            total += np.sum(units * activation - softplus(activation), axis=1)
        return total

    def unnormalized_log_probability(self, states):
        """``log p(x) + log Z_top`` of complete configurations: ``-E_top + sum log p(x^(k) | x^(k+1))``.

        Parameters
        ----------
        states : array_like of 0/1, shape (n_units,) or (n_states, n_units)

        Returns
        -------
        float or ndarray of shape (n_states,)
        """
        batch, single = check_states(states, self.n_units)
        values = self._log_mass(batch)
        return float(values[0]) if single else values

    def log_probability(self, states, *, max_units=30):
        """Exact ``log p(x)`` of complete configurations (``log Z_top`` by :mod:`pgm_energy.exact`)."""
        from .. import exact

        log_z = exact.log_partition_function(self.top_rbm, max_units=max_units)
        values = self.unnormalized_log_probability(states)
        return values - log_z

    def _top_indices(self) -> range:
        top = len(self._weights)
        return range(self._offsets[top], self._offsets[top + 1])

    def _enumerate(self, clamped: dict[int, int], enumerated: list[int], max_units: int, what: str) -> np.ndarray:
        """Log masses of every assignment of ``enumerated`` (C order: the first unit is the most significant bit).

        Units of the top layer neither clamped nor enumerated are summed exactly (they are
        independent given the layer below); every other unit must be clamped or enumerated.
        """
        n_enumerated = len(enumerated)
        if n_enumerated > max_units:
            raise ModelSizeError(
                f"exact enumeration of {what} visits 2**{n_enumerated} = {2.0**n_enumerated:.3g} configurations, "
                f"more than max_units={max_units} allows; pass max_units={n_enumerated} to run it anyway, "
                "give more evidence, or use method='gibbs'"
            )
        template = np.zeros(self.n_units)
        for index, value in clamped.items():
            template[index] = value
        chosen = set(enumerated) | set(clamped)
        summed = np.array([i not in chosen for i in self._top_indices()], dtype=bool)
        columns = np.asarray(enumerated, dtype=np.int64)
        shifts = np.arange(n_enumerated - 1, -1, -1, dtype=np.int64)
        total = 1 << n_enumerated
        out = np.empty(total)
        for start in range(0, total, _CHUNK):
            stop = min(total, start + _CHUNK)
            codes = np.arange(start, stop, dtype=np.int64)
            batch = np.repeat(template[None, :], stop - start, axis=0)
            if n_enumerated:
                batch[:, columns] = (codes[:, None] >> shifts) & 1
            out[start:stop] = self._log_mass(batch, summed)
        return out

    def _free_lower(self, clamped, exclude=()) -> list[int]:
        """Unclamped units below the top layer, in unit order, without ``exclude``."""
        excluded = set(exclude)
        return [i for i in range(self._offsets[len(self._weights)]) if i not in clamped and i not in excluded]

    def log_marginal_likelihood(self, visible, *, max_units=DEFAULT_MAX_UNITS):
        """Exact ``log p(v)`` by enumeration of the hidden layers below the top one (the top summed exactly).

        Parameters
        ----------
        visible : array_like of 0/1, shape (n_visible,) or (n_states, n_visible)
        max_units : int, default 20
            Most units enumerated per visible vector (the hidden units below the top layer);
            ``log Z_top`` is computed by :func:`pgm_energy.exact.log_partition_function`.

        Returns
        -------
        float or ndarray of shape (n_states,)
        """
        from .. import exact

        batch, single = check_states(visible, self.n_visible, "visible")
        max_units = check_int(max_units, "max_units", minimum=0)
        hidden = list(range(self.n_visible, self._offsets[len(self._weights)]))
        if len(hidden) > max_units:
            self._enumerate({}, hidden, max_units, f"the {len(hidden)} hidden units below the top layer")
        log_z = exact.log_partition_function(self.top_rbm)
        rows, inverse = np.unique(batch.astype(np.uint8), axis=0, return_inverse=True)
        values = np.empty(rows.shape[0])
        for r, row in enumerate(rows):
            masses = self._enumerate(dict(enumerate(row.tolist())), hidden, max_units, "the hidden units")
            values[r] = _log_sum_exp(masses) - log_z
        values = values[inverse.ravel()]
        return float(values[0]) if single else values

    # ------------------------------------------------------------------ recognition
    def _visible_batch(self, data, name: str = "data") -> np.ndarray:
        if hasattr(data, "columns") and hasattr(data, "to_numpy"):
            missing = [unit for unit in self.visible_names if unit not in data.columns]
            if missing:
                raise ValidationError(f"{name} is missing columns for visible units {missing[:5]!r}")
            data = data[list(self.visible_names)].to_numpy()
        batch, _ = check_states(data, self.n_visible, name)
        if batch.shape[0] == 0:
            raise ValidationError(f"{name} must hold at least one sample, got 0 rows")
        return batch

    def transform(self, data, *, layer=None) -> np.ndarray:
        """The bottom-up recognition pass: mean activities of a hidden layer given visible vectors.

        Probabilities are passed up deterministically (mean field):
        ``mu^(k+1) = sigmoid(recognition_biases[k] + mu^(k) recognition_weights[k])``, and the top
        layer is the top RBM's ``p(h | x^(L-1) = mu^(L-1))``.

        Parameters
        ----------
        data : array_like of 0/1, shape (n_samples, n_visible), or pandas.DataFrame
        layer : int, optional
            Layer to return (1 .. L); default the top layer.

        Returns
        -------
        ndarray of float64, shape (n_samples, n_layer)
        """
        top = len(self._weights)
        layer = top if layer is None else check_int(layer, "layer", minimum=1)
        if layer > top:
            raise ValidationError(f"layer must be between 1 and {top}, got {layer}")
        activity = self._visible_batch(data)
        for k in range(min(layer, top - 1)):
            activity = sigmoid(activity @ self._recognition_weights[k] + self._recognition_biases[k])
        if layer == top:
            activity = sigmoid(activity @ self._weights[-1] + self._biases[top])
        return activity

    # ------------------------------------------------------------------ sampling
    def sample(self, n_samples, *, burn_in=1000, rng=None):
        """Draws of the network: block Gibbs in the top RBM, then one ancestral pass down.

        Each draw comes from its own chain: ``burn_in`` block-Gibbs sweeps of the top RBM from a
        uniformly random start (chains in parallel), then the layers below are sampled top-down
        from their sigmoid conditionals. The draws are independent; they follow ``p(x)`` as far as
        ``burn_in`` sweeps bring the top RBM to equilibrium.

        Parameters
        ----------
        n_samples : int >= 1
        burn_in : int >= 0, default 1000
        rng : None, int or numpy.random.Generator

        Returns
        -------
        SampleSet
            One chain of ``n_samples`` draws: ``states`` (1, n_samples, n_units) uint8 in the
            order of :attr:`names`, ``energies`` equal to ``-unnormalized_log_probability`` (so
            ``p ~ exp(-energy)`` up to ``Z_top``), ``info["sampler"] == "top_gibbs_then_ancestral"``.
        """
        from ..samplers.gibbs import GibbsSampler
        from ..samplers.sampleset import SampleSet

        started = time.perf_counter()
        n_samples = check_int(n_samples, "n_samples", minimum=1)
        burn_in = check_int(burn_in, "burn_in", minimum=0)
        # checked here, not by the top RBM's sampler, so the errors name this method's parameters
        check_array_size(n_samples * self.n_units, f"n_samples={n_samples} draws of {self.n_units} units")
        check_sweeps(burn_in, 0, 1)
        generator = check_rng(rng)
        top = len(self._weights)
        offsets = self._offsets
        # keep="last" with one draw: burn_in sweeps, then the draw (burn_in + 1 sweeps in all)
        top_draws = GibbsSampler(burn_in=burn_in).sample(
            self.top_rbm, 1, n_chains=n_samples, rng=generator, keep="last"
        )
        states = np.empty((n_samples, self.n_units), dtype=np.uint8)
        states[:, offsets[top - 1] :] = top_draws.states[:, 0, :]
        for k in range(top - 2, -1, -1):
            above = states[:, offsets[k + 1] : offsets[k + 2]].astype(np.float64)
            probabilities = sigmoid(above @ self._weights[k].T + self._biases[k])
            states[:, offsets[k] : offsets[k + 1]] = generator.random(probabilities.shape) < probabilities
        energies = -self._log_mass(states.astype(np.float64))
        info = {
            "sampler": "top_gibbs_then_ancestral",
            "burn_in": burn_in,
            "sweeps": burn_in + 1,
            "timings": {"total": time.perf_counter() - started},
        }
        return SampleSet(states[None], energies[None], self._names, temperature=1.0, info=info)

    def _children_csr(self):
        """Children of every unit of layers ``0 .. L - 1`` in CSR form: (ptr, index, weight)."""
        top = len(self._weights)
        n_lower = self._offsets[top]
        counts = [np.zeros(self._layer_sizes[0], dtype=np.int64)]
        blocks = []
        for k in range(top - 1):
            oriented = self._weights[k].T  # (n_{k+1}, n_k): row j lists the children of unit j of layer k+1
            rows, cols = np.nonzero(oriented)
            counts.append(np.bincount(rows, minlength=oriented.shape[0]).astype(np.int64))
            blocks.append(((cols + self._offsets[k]).astype(np.int64), oriented[rows, cols]))
        ptr = np.concatenate([[0], np.cumsum(np.concatenate(counts))]).astype(np.int64)
        assert ptr.shape[0] == n_lower + 1
        index = np.concatenate([b[0] for b in blocks]) if blocks else np.empty(0, dtype=np.int64)
        weight = np.concatenate([b[1] for b in blocks]) if blocks else np.empty(0)
        return ptr, np.ascontiguousarray(index, dtype=np.int64), np.ascontiguousarray(weight, dtype=np.float64)

    def gibbs_posterior(self, evidence, n_samples, *, n_chains=4, burn_in=1000, thin=1, rng=None):
        """Draws of ``p(x | evidence)`` by Gibbs sampling of every unit not in ``evidence``.

        A sweep draws the top layer as a block from the top RBM's ``p(x^(L) | x^(L-1))`` (its units
        are independent given the layer below), then updates every free unit of layers
        ``0 .. L - 1`` one at a time from its full conditional. Given the top layer, those layers
        form a sigmoid belief network whose top layer has the factorial prior with log-odds
        ``biases[L-1] + weights[L-1] x^(L)``, so the single-site step is the Markov-blanket kernel of
        :mod:`pgm_energy._kernels.sigmoid_belief` (parents, children and the children's other
        parents; Numba, one xorshift stream per chain: the draws do not depend on the thread count).
        Chains start from uniformly random states with the evidence clamped.

        Parameters
        ----------
        evidence : dict of str -> 0/1 or None
        n_samples : int >= 1
            Draws per chain, one every ``thin`` sweeps after ``burn_in`` sweeps.
        n_chains : int >= 1, default 4
        burn_in : int >= 0, default 1000
        thin : int >= 1, default 1
        rng : None, int or numpy.random.Generator

        Returns
        -------
        SampleSet
            ``states`` (n_chains, n_samples, n_units) uint8, ``energies`` equal to
            ``-unnormalized_log_probability``.
        """
        from .._kernels.deep_belief import run_chains
        from .._kernels.rng import seed_streams
        from ..samplers.sampleset import SampleSet

        started = time.perf_counter()
        clamped = check_evidence(evidence, self._names)
        n_samples = check_int(n_samples, "n_samples", minimum=1)
        n_chains = check_int(n_chains, "n_chains", minimum=1)
        burn_in = check_int(burn_in, "burn_in", minimum=0)
        thin = check_int(thin, "thin", minimum=1)
        self._check_chain_sizes(n_samples, n_chains, burn_in, thin)
        generator = check_rng(rng)
        top, offsets = len(self._weights), self._offsets
        n_lower = offsets[top]
        states = generator.integers(0, 2, size=(n_chains, self.n_units), dtype=np.uint8)
        for index, value in clamped.items():
            states[:, index] = value
        lower = np.ascontiguousarray(states[:, :n_lower])
        upper = np.ascontiguousarray(states[:, n_lower:])
        # Pre-activations of layers 0 .. L-2; the kernel writes those of layer L-1 each sweep.
        activations = np.zeros((n_chains, n_lower))
        lower_float = lower.astype(np.float64)
        for k in range(top - 1):
            activations[:, offsets[k] : offsets[k + 1]] = (
                lower_float[:, offsets[k + 1] : offsets[k + 2]] @ self._weights[k].T + self._biases[k]
            )
        free = np.array(self._free_lower(clamped), dtype=np.int64)
        top_free = np.array([j for j, i in enumerate(self._top_indices()) if i not in clamped], dtype=np.int64)
        n_sweeps = burn_in + n_samples * thin
        slots = np.full(n_sweeps, -1, dtype=np.int64)
        recorded = np.arange(burn_in + thin - 1, n_sweeps, thin)
        slots[recorded] = np.arange(recorded.shape[0])
        out = np.empty((n_chains, n_samples, self.n_units), dtype=np.uint8)
        streams = seed_streams(generator, n_chains)
        prepared = time.perf_counter()
        run_chains(
            lower, upper, activations, free, top_free, *self._children_csr(),
            np.ascontiguousarray(self._weights[-1]), np.ascontiguousarray(self._biases[top - 1]),
            np.ascontiguousarray(self._biases[top]), offsets[top - 1], slots, out, streams,
        )
        sampled = time.perf_counter()
        energies = -self._log_mass(out.reshape(-1, self.n_units).astype(np.float64)).reshape(n_chains, n_samples)
        info = {
            "sampler": "gibbs_posterior",
            "scan": "top block, then sequential below",
            "unit_updates": n_chains * n_sweeps * (free.shape[0] + top_free.shape[0]),
            "burn_in": burn_in,
            "thin": thin,
            "sweeps": n_sweeps,
            "evidence": {self._names[i]: v for i, v in clamped.items()},
            "timings": {
                "setup": prepared - started,
                "sampling": sampled - prepared,
                "energies": time.perf_counter() - sampled,
            },
        }
        return SampleSet(out, energies, self._names, temperature=1.0, info=info)

    # ------------------------------------------------------------------ queries
    def query(
        self,
        variables,
        evidence=None,
        joint=True,
        *,
        method="exact",
        max_units=DEFAULT_MAX_UNITS,
        n_samples=10_000,
        n_chains=4,
        burn_in=1000,
        rng=None,
    ):
        """Posterior over hidden causes (or any units) given evidence, as pgmpy factors.

        ``method="exact"`` enumerates every free unit below the top layer and the queried top
        units, summing the other top units exactly; it agrees with pgmpy's
        ``VariableElimination`` on :meth:`to_markov_network` (normalized). ``method="gibbs"``
        estimates the same table from :meth:`gibbs_posterior` draws (relative frequencies).

        Parameters
        ----------
        variables : list of str
            Not in ``evidence``; at most 20 for a joint table.
        evidence : dict of str -> 0/1, optional
        joint : bool, default True
            One joint factor (values in C order, the last variable fastest), or a dict
            name -> single-variable factor.
        method : {"exact", "gibbs"}
        max_units : int, default 20
            ``"exact"`` only: most units enumerated.
        n_samples, n_chains, burn_in, rng
            ``"gibbs"`` only: draws per chain, chains, sweeps discarded, random source.

        Returns
        -------
        pgmpy.factors.discrete.DiscreteFactor or dict of str -> DiscreteFactor
            States named 0 and 1.

        Raises
        ------
        ModelSizeError
            If an exact answer would enumerate more than ``max_units`` units, or a joint table
            holds more than 20 variables.
        EvidenceError
            For unknown variables, values other than 0/1, or a variable both queried and observed.
        """
        from ..interop.pgmpy import binary_factor

        if not isinstance(method, str) or method not in _METHODS:
            raise ValidationError(f"method must be one of {_METHODS!r}, got {describe(method)}")
        clamped = check_evidence(evidence, self._names)
        joint = check_bool(joint, "joint")
        variables = check_query_variables(variables, self._names, clamped, joint=joint)
        targets = [self.index(name) for name in variables]
        if method == "gibbs":
            draws = self.gibbs_posterior(evidence, n_samples, n_chains=n_chains, burn_in=burn_in, rng=rng)
            flat = draws.flat_states()
            if joint:
                shifts = np.arange(len(targets) - 1, -1, -1, dtype=np.int64)
                cells = flat[:, targets].astype(np.int64) @ (1 << shifts)
                counts = np.bincount(cells, minlength=1 << len(targets)).astype(np.float64)
                return binary_factor(variables, counts / counts.sum())
            means = flat[:, targets].mean(axis=0)
            return {name: binary_factor([name], [1.0 - p, p]) for name, p in zip(variables, means.tolist())}
        max_units = check_int(max_units, "max_units", minimum=0)
        others = self._free_lower(clamped, exclude=targets)
        n_enumerated = len(targets) + len(others)
        log_mass = self._enumerate(
            clamped, targets + others, max_units,
            f"the {n_enumerated} free units below the top layer and the queried ones",
        )
        if joint:
            cells = _log_sum_exp(log_mass.reshape(1 << len(targets), 1 << len(others)), axis=1)
            return binary_factor(variables, np.exp(cells - _log_sum_exp(cells)))
        log_total = _log_sum_exp(log_mass)
        codes = np.arange(log_mass.shape[0], dtype=np.int64)
        result = {}
        for position, name in enumerate(variables):
            on = ((codes >> (n_enumerated - 1 - position)) & 1).astype(bool)
            p = float(np.clip(np.exp(_log_sum_exp(log_mass[on]) - log_total), 0.0, 1.0))
            result[name] = binary_factor([name], [1.0 - p, p])
        return result

    # ------------------------------------------------------------------ fine-tuning
    def fine_tune(
        self,
        data,
        *,
        epochs=10,
        learning_rate=0.01,
        k=3,
        batch_size=20,
        weight_decay=0.0,
        rng=None,
    ) -> "DeepBeliefNetwork":
        """Up-down fine-tuning (the contrastive wake-sleep of Hinton, Osindero & Teh, 2006, appendix B).

        For each mini-batch: a *wake* (up) pass samples every layer up to ``L - 1`` from the
        recognition model; the generative weights of each directed layer move towards
        reconstructing the layer below from the layer above (the delta rule
        ``(x^(k) - p(x^(k) | x^(k+1))) x^(k+1)'``); the top RBM is updated by CD-``k``
        started from the wake states of layer ``L - 1``; a *sleep* (down) pass samples the
        directed layers from the generative model, starting at the top RBM's negative-phase
        states, and the recognition weights move towards recovering each layer from the one
        below (``x^(k) (x^(k+1) - q(x^(k+1) | x^(k)))'``). Plain gradient steps of size
        ``learning_rate`` (no momentum), an L2 ``weight_decay`` on the weights only.

        Parameters
        ----------
        data : array_like of 0/1, shape (n_samples, n_visible), or pandas.DataFrame
        epochs : int, 1 to 10**9 (the trainers' ``MAX_EPOCHS``), default 10
        learning_rate : float > 0, default 0.01
        k : int, 1 to 2**28, default 3
            Alternating Gibbs steps of the top RBM's negative phase (the paper uses 3, then more).
        batch_size : int >= 1, default 20
        weight_decay : float >= 0, default 0
        rng : None, int or numpy.random.Generator

        Returns
        -------
        DeepBeliefNetwork
            A new network with untied recognition weights (this one is unchanged).

        Raises
        ------
        TrainingDivergedError
            When a parameter becomes NaN, infinite or larger than the trainers' runaway bound
            (checked at the end of each epoch); its ``model`` is the network after the last good
            epoch (this one if the first epoch diverged), ``history`` is None.
        """
        from ..learning._trainer import MAX_EPOCHS, RUNAWAY_BOUND, check_positive_int

        batch = self._visible_batch(data)
        epochs = check_positive_int(epochs, "epochs", maximum=MAX_EPOCHS)  # the trainers' bound
        k = check_int(k, "k", minimum=1)
        check_array_size(k, f"k={k}", limit=MAX_SWEEPS, unit="Gibbs steps per mini-batch")
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        learning_rate = float(check_finite_array(learning_rate, "learning_rate", ndim=0))
        if learning_rate <= 0:
            raise ValidationError(f"learning_rate must be > 0, got {learning_rate!r}")
        weight_decay = float(check_finite_array(weight_decay, "weight_decay", ndim=0))
        if weight_decay < 0:
            raise ValidationError(f"weight_decay must be >= 0, got {weight_decay!r}")
        generator = check_rng(rng)
        top = len(self._weights)
        G = [w.copy() for w in self._weights[: top - 1]]
        g = [b.copy() for b in self._biases[: top - 1]]
        R = [w.copy() for w in self._recognition_weights]
        r = [b.copy() for b in self._recognition_biases]
        W, b_top, c_top = self._weights[-1].copy(), self._biases[top - 1].copy(), self._biases[top].copy()

        def draw(probabilities):
            return (generator.random(probabilities.shape) < probabilities).astype(np.float64)

        def network(G, g, R, r, W, b_top, c_top):
            return DeepBeliefNetwork(
                G + [W], g + [b_top, c_top], recognition_weights=R, recognition_biases=r, names=self._names
            )

        n_rows = batch.shape[0]
        bound = RUNAWAY_BOUND[np.dtype(np.float64)]
        last_good = None  # the parameters after the last epoch that ended below the bound
        for epoch in range(1, epochs + 1):
            order = generator.permutation(n_rows)
            # a run away overflows to inf and NaN: caught, by name, at the end of the epoch
            with np.errstate(over="ignore", invalid="ignore"):
                for start in range(0, n_rows, batch_size):
                    v = batch[order[start : start + batch_size]]
                    m = v.shape[0]
                    wake = [v]
                    for layer in range(top - 1):
                        wake.append(draw(sigmoid(wake[-1] @ R[layer] + r[layer])))
                    positive_x = wake[-1]
                    positive_h = sigmoid(positive_x @ W + c_top)
                    hidden = draw(positive_h)
                    negative_x = positive_x
                    negative_h = positive_h
                    for _step in range(k):
                        negative_x = draw(sigmoid(hidden @ W.T + b_top))
                        negative_h = sigmoid(negative_x @ W + c_top)
                        hidden = draw(negative_h)
                    sleep = [None] * top
                    sleep[top - 1] = negative_x
                    for layer in range(top - 2, -1, -1):
                        sleep[layer] = draw(sigmoid(sleep[layer + 1] @ G[layer].T + g[layer]))
                    # every gradient is computed from the parameters before this batch's step
                    generative_steps = []
                    for layer in range(top - 1):
                        error = wake[layer] - sigmoid(wake[layer + 1] @ G[layer].T + g[layer])
                        generative_steps.append((error.T @ wake[layer + 1] / m, error.mean(axis=0)))
                    recognition_steps = []
                    for layer in range(top - 1):
                        error = sleep[layer + 1] - sigmoid(sleep[layer] @ R[layer] + r[layer])
                        recognition_steps.append((sleep[layer].T @ error / m, error.mean(axis=0)))
                    top_step = (
                        (positive_x.T @ positive_h - negative_x.T @ negative_h) / m,
                        (positive_x - negative_x).mean(axis=0),
                        (positive_h - negative_h).mean(axis=0),
                    )
                    for layer in range(top - 1):
                        G[layer] += learning_rate * (generative_steps[layer][0] - weight_decay * G[layer])
                        g[layer] += learning_rate * generative_steps[layer][1]
                        R[layer] += learning_rate * (recognition_steps[layer][0] - weight_decay * R[layer])
                        r[layer] += learning_rate * recognition_steps[layer][1]
                    W += learning_rate * (top_step[0] - weight_decay * W)
                    b_top += learning_rate * top_step[1]
                    c_top += learning_rate * top_step[2]
            # as the trainers do: stop a run away (NaN, inf or beyond RUNAWAY_BOUND) at the end of the
            # epoch, handing back the network of the epoch before
            largest = max(float(np.max(np.abs(part))) for part in G + g + R + r + [W, b_top, c_top] if part.size)
            if not largest <= bound:
                raise TrainingDivergedError(
                    f"fine_tune diverged in epoch {epoch}: a parameter reached magnitude {largest:.3g}, beyond "
                    f"{bound:.3g} (try a smaller learning_rate={learning_rate!r} or a smaller learning_rate * "
                    f"weight_decay={learning_rate * weight_decay!r}); the error's .model is the last good network",
                    model=self if last_good is None else network(*last_good),
                    history=None,
                    epoch=epoch,
                )
            if epoch < epochs:
                last_good = tuple(
                    [part.copy() for part in item] if isinstance(item, list) else item.copy()
                    for item in (G, g, R, r, W, b_top, c_top)
                )
        return network(G, g, R, r, W, b_top, c_top)

    # ------------------------------------------------------------------ the variational bound
    def _check_top_log_z(self, log_z) -> float:
        """A given ``log Z_top`` as a float, within the range the top RBM's parameters allow.

        With ``|E| <= B`` (:attr:`energy_bound` of the top RBM) over its ``n`` units, ``Z`` lies in
        ``[2**n e**-B, 2**n e**B]``; a value outside is not that RBM's (and one like 1e308 would
        overflow the bound's sums).
        """
        value = float(check_finite_array(log_z, "log_z", ndim=0))
        rbm = self.top_rbm
        centre, radius = rbm.n_units * math.log(2.0), rbm.energy_bound / rbm.temperature
        slack = 1e-9 * (abs(centre) + radius + 1.0)  # rounding of an exactly computed extreme value
        if not abs(value - centre) <= radius + slack:
            raise ValidationError(
                f"log_z={log_z!r} is impossible for the top RBM: its parameters bound log Z_top to "
                f"[{centre - radius:.6g}, {centre + radius:.6g}]"
            )
        return value

    def log_likelihood_bound(
        self, data, *, n_samples=10, log_z=None, n_runs=100, betas=None, max_units=DEFAULT_MAX_UNITS, rng=None
    ) -> LikelihoodBound:
        r"""The variational lower bound on ``log p(v)``, averaged over ``data``.

        With ``q`` the recognition model (factorial at each layer, sampled bottom-up:
        ``x^(1) ~ q(. | v)``, ``x^(2) ~ q(. | x^(1))``, ...),

        .. math::

            \log p(v) \ge \mathbb{E}_q\Bigl[\sum_{k=0}^{L-2} \log p(x^{(k)} \mid x^{(k+1)})
              + \log p^*(x^{(L-1)})\Bigr] - \log Z_{top} + \mathbb{E}_q\Bigl[\sum_{k=0}^{L-2}
              H\bigl(q(\cdot \mid x^{(k)})\bigr)\Bigr],

        with :math:`x^{(0)} = v` and :math:`\log p^*(x) = -F_{top}(x)` the top RBM's unnormalized
        log-marginal of its lower layer; for a 2-layer network this is
        ``E_q[log p(v|h1)] + E_q[log p*(h1)] - log Z_top + H(q)`` (Salakhutdinov & Murray, 2008).
        The expectation is estimated from ``n_samples`` draws of ``q`` per row; each factorial
        entropy is taken in closed form given the layer below.

        ``log Z_top`` is exact (:func:`pgm_energy.exact.log_partition_function`) when the top RBM's
        smaller layer has at most ``max_units`` units, else an AIS estimate
        (:func:`pgm_energy.ais.log_partition_function` with the recognition pass's samples of
        layer ``L - 1`` as the base data). AIS's ``log Z`` is biased low on average, so the bound
        computed with it can be slightly optimistic; see ``log_z_std``.

        Parameters
        ----------
        data : array_like of 0/1, shape (n_rows, n_visible), or pandas.DataFrame
        n_samples : int >= 1, default 10
            Draws of ``q`` per row.
        log_z : float, optional
            A known ``log Z_top`` (skips its computation; reported with ``log_z_std = 0`` and
            ``log_z_method = "given"``).
        n_runs, betas
            AIS runs and schedule (see :func:`pgm_energy.ais.log_partition_function`).
        max_units : int, default 20
        rng : None, int or numpy.random.Generator

        Returns
        -------
        LikelihoodBound
        """
        batch = self._visible_batch(data)
        n_samples = check_int(n_samples, "n_samples", minimum=1)
        max_units = check_int(max_units, "max_units", minimum=0)
        top = len(self._weights)
        n_rows = batch.shape[0]
        check_array_size(
            n_rows * n_samples * max(self._layer_sizes),
            f"n_samples={n_samples} draws for each of {n_rows} rows, of up to {max(self._layer_sizes)} units",
        )
        if log_z is not None:
            log_z = self._check_top_log_z(log_z)
        generator = check_rng(rng)
        rows = np.repeat(batch, n_samples, axis=0)  # row r's draws are rows r*S .. r*S + S - 1
        values = np.zeros(rows.shape[0])
        below = rows
        for layer in range(top - 1):
            pre = below @ self._recognition_weights[layer] + self._recognition_biases[layer]
            values += _bernoulli_entropy(pre)
            above = (generator.random(pre.shape) < sigmoid(pre)).astype(np.float64)
            activation = above @ self._weights[layer].T + self._biases[layer]
            values += np.sum(below * activation - softplus(activation), axis=1)
            below = above
        field = below @ self._weights[-1] + self._biases[top]
        values += below @ self._biases[top - 1] + np.sum(softplus(field), axis=1)
        rbm = self.top_rbm
        if log_z is not None:
            log_z_value = log_z
            log_z_std, method = 0.0, "given"
        elif min(rbm.n_visible, rbm.n_hidden) <= max_units:
            from .. import exact

            log_z_value, log_z_std, method = exact.log_partition_function(rbm, max_units=max_units), 0.0, "exact"
        else:
            from .. import ais

            estimate = ais.log_partition_function(
                rbm, n_runs=n_runs, betas=betas, base="data", data=below.astype(np.uint8), rng=generator
            )
            log_z_value, log_z_std, method = estimate.log_z, estimate.log_z_std, "ais"
        values = (values - log_z_value).reshape(n_rows, n_samples)
        per_row = values.mean(axis=1)
        if n_samples > 1:
            error = math.sqrt(float(np.mean(values.var(axis=1, ddof=1))) / (n_samples * n_rows))
        else:
            error = float("nan")
        return LikelihoodBound(float(per_row.mean()), error, per_row, float(log_z_value), float(log_z_std), method)

    # ------------------------------------------------------------------ unsupported
    def predict(self, data, **options):
        """Not available: use :meth:`query` (exact or Gibbs)."""
        raise NotImplementedError("DeepBeliefNetwork has no predict(); use query() or gibbs_posterior()")

    def predict_probability(self, data, **options):
        """Not available: use :meth:`query` (exact or Gibbs)."""
        raise NotImplementedError("DeepBeliefNetwork has no predict_probability(); use query() or gibbs_posterior()")

    # ------------------------------------------------------------------ files
    def _to_arrays(self) -> dict[str, np.ndarray]:
        arrays = self._layer_arrays()
        arrays.update({f"recognition_weights_{k}": matrix for k, matrix in enumerate(self._recognition_weights)})
        arrays.update({f"recognition_biases_{k}": vector for k, vector in enumerate(self._recognition_biases)})
        return arrays

    @classmethod
    def _from_arrays(cls, arrays) -> "DeepBeliefNetwork":
        weights, biases, names = cls._read_layer_arrays(arrays, _recognition_members)
        n_directed = len(weights) - 1
        return cls(
            weights,
            biases,
            recognition_weights=[file_member(arrays, f"recognition_weights_{k}", ndim=2) for k in range(n_directed)],
            recognition_biases=[file_member(arrays, f"recognition_biases_{k}", ndim=1) for k in range(n_directed)],
            names=names,
        )

    def __repr__(self) -> str:
        return f"DeepBeliefNetwork(layer_sizes={self._layer_sizes}, tied={self.is_tied})"
