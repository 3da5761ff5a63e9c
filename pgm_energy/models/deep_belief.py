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

import numpy as np

from .._math import sigmoid, softplus
from .._validation import check_int, check_states, describe
from ..exceptions import ParameterTypeError, ValidationError
from ._base import file_member, visible_rows
from ._deep_belief_parts import HybridGraph, check_recognition, hybrid_graph
from ._layered import (
    DEFAULT_MAX_UNITS, LayeredModel, check_layer_biases, check_layer_weights, check_layers_energy_scale, check_list,
)
from .rbm import RestrictedBoltzmannMachine
from .sigmoid_belief import SigmoidBeliefNetwork

__all__ = ["DeepBeliefNetwork", "HybridGraph", "DEFAULT_MAX_UNITS"]

_METHODS = ("exact", "gibbs")


def network_rows(dbn, data) -> np.ndarray:
    """:func:`~pgm_energy.models._base.visible_rows` of ``dbn``, refusing anything but a :class:`DeepBeliefNetwork`."""
    if not isinstance(dbn, DeepBeliefNetwork):
        raise ParameterTypeError(f"dbn must be a DeepBeliefNetwork, got {describe(dbn)}")
    return visible_rows(dbn, data)


def _recognition_members(n_layers: int) -> list[str]:
    """Members a model file holds for the recognition layers (all but the top RBM's)."""
    return [f"recognition_{part}_{k}" for part in ("weights", "biases") for k in range(n_layers - 2)]


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
        weights = check_list(weights, "weights", "arrays (one per pair of layers)")
        biases = check_list(biases, "biases", "bias vectors (one per layer)")
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
        self._biases = tuple(check_layer_biases(biases))
        sizes = tuple(vector.shape[0] for vector in self._biases)
        self._weights = tuple(check_layer_weights(weights, sizes))
        recognition = check_recognition(recognition_weights, recognition_biases, self._weights, sizes)
        self._recognition_weights, self._recognition_biases = recognition
        self._set_layers(sizes, names)
        self._temperature = 1.0
        self._energy_bound = check_layers_energy_scale(
            "the DeepBeliefNetwork", weights=self._weights, biases=self._biases,
            recognition_weights=self._recognition_weights, recognition_biases=self._recognition_biases,
        )
        self._freeze()

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
        from ._deep_belief_parts import stack_rbms

        weights, biases, recognition_weights, recognition_biases, names = stack_rbms(rbms, names)
        return cls(weights, biases, recognition_weights=recognition_weights, recognition_biases=recognition_biases,
                   names=names)

    @classmethod
    def fit_greedy(cls, data, layer_sizes, *, trainer=None, rng=None, progress=True) -> "DeepBeliefNetwork":
        """Greedy layer-wise training, one RBM per layer bottom up, stacked with tied recognition weights.

        ``layer_sizes`` lists the hidden layers, bottom first; ``trainer`` (one, or one per
        layer) defaults to ``ContrastiveDivergence()``. See
        :func:`pgm_energy.learning.deep_belief.fit_greedy`.

        Returns
        -------
        DeepBeliefNetwork
        """
        from ..learning.deep_belief import fit_greedy

        return fit_greedy(data, layer_sizes, trainer=trainer, rng=rng, progress=progress)

    # ------------------------------------------------------------------ parameters
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
        from ._deep_belief_parts import directed_part

        return directed_part(self, prior)

    def to_bayesian_network(self, prior=None):
        """The directed part (:meth:`directed_part`) as a pgmpy ``DiscreteBayesianNetwork``.

        One sigmoid ``TabularCPD`` per unit of layers ``0 .. L - 1``; layer ``L - 1`` carries the factorial ``prior``.
        """
        return self.directed_part(prior).to_bayesian_network()

    # ------------------------------------------------------------------ graphs and pgmpy
    @property
    def hybrid_graph(self) -> HybridGraph:
        """A new :class:`HybridGraph`: the top RBM (undirected) and the sigmoid layers (directed)."""
        return hybrid_graph(self)

    @property
    def graph(self):
        """The moral graph (a new networkx ``Graph``): the structure of :meth:`to_markov_network`."""
        return self.hybrid_graph.moral_graph()

    def to_markov_network(self):
        """Compile the exact joint distribution into one pgmpy ``DiscreteMarkovNetwork``.

        The top RBM's factors, one sigmoid-CPD factor per unit below and the moralization edges;
        its partition function is the top RBM's ``Z``. See
        :func:`pgm_energy.interop._deep_belief.compile_markov_network`.
        """
        from ..interop._deep_belief import compile_markov_network

        return compile_markov_network(self)

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

    def log_probability(self, states, *, max_units=DEFAULT_MAX_UNITS):
        """Exact ``log p(x)`` of complete configurations (``log Z_top`` by :mod:`pgm_energy.exact`)."""
        from .._belief_enumeration import deep_belief_log_probability

        return deep_belief_log_probability(self, states, max_units=max_units)

    def _top_indices(self) -> range:
        top = len(self._weights)
        return range(self._offsets[top], self._offsets[top + 1])

    def _free_lower(self, clamped, exclude=()) -> list[int]:
        """Unclamped units below the top layer, in unit order, without ``exclude``."""
        excluded = set(exclude)
        return [i for i in range(self._offsets[len(self._weights)]) if i not in clamped and i not in excluded]

    def log_marginal_likelihood(self, visible, *, max_units=DEFAULT_MAX_UNITS):
        """Exact ``log p(v)`` by enumeration of the hidden layers below the top one (the top summed exactly).

        Parameters
        ----------
        visible : array_like of 0/1, shape (n_visible,) or (n_states, n_visible)
        max_units : int, default 30
            Most units enumerated per visible vector (the hidden units below the top layer);
            ``log Z_top`` is computed by :func:`pgm_energy.exact.log_partition_function`.

        Returns
        -------
        float or ndarray of shape (n_states,)
        """
        from .._belief_enumeration import deep_belief_log_marginal_likelihood

        return deep_belief_log_marginal_likelihood(self, visible, max_units=max_units)

    # ------------------------------------------------------------------ recognition
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
        activity = visible_rows(self, data)
        for k in range(min(layer, top - 1)):
            activity = sigmoid(activity @ self._recognition_weights[k] + self._recognition_biases[k])
        if layer == top:
            activity = sigmoid(activity @ self._weights[-1] + self._biases[top])
        return activity

    # ------------------------------------------------------------------ sampling
    def sample(self, n_samples, *, burn_in=1000, rng=None, progress=True):
        """Draws of the network: ``burn_in`` block-Gibbs sweeps of the top RBM, then one ancestral pass down.

        A :class:`~pgm_energy.samplers.SampleSet` of one chain of ``n_samples`` independent draws,
        energies ``-unnormalized_log_probability``; see :func:`pgm_energy.samplers.belief.deep_belief_sample`.
        """
        from ..samplers.belief import deep_belief_sample

        return deep_belief_sample(self, n_samples, burn_in=burn_in, rng=rng, progress=progress)

    def gibbs_posterior(self, evidence, n_samples, *, n_chains=4, burn_in=1000, thin=1, rng=None, progress=True):
        """Draws of ``p(x | evidence)`` by Gibbs sampling of every unit not in ``evidence``.

        A sweep draws the top layer as a block, then every free unit below one at a time from its
        full conditional. A :class:`~pgm_energy.samplers.SampleSet` (n_chains, n_samples, n_units),
        energies ``-unnormalized_log_probability``; see :func:`pgm_energy.samplers.belief.gibbs_posterior`.
        """
        from ..samplers.belief import gibbs_posterior

        return gibbs_posterior(
            self, evidence, n_samples, n_chains=n_chains, burn_in=burn_in, thin=thin, rng=rng, progress=progress
        )

    # ------------------------------------------------------------------ queries
    def query(self, variables, evidence=None, joint=True, *, method="exact", max_units=DEFAULT_MAX_UNITS,
              n_samples=10_000, n_chains=4, burn_in=1000, rng=None):
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
        max_units : int, default 30
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
            An exact answer enumerating more than ``max_units`` units; a joint table over more than 20.
        EvidenceError
            Unknown variables, values other than 0/1, a variable both queried and observed.
        """
        if not isinstance(method, str) or method not in _METHODS:
            raise ValidationError(f"method must be one of {_METHODS!r}, got {describe(method)}")
        if method == "gibbs":
            from ..samplers.belief import gibbs_query

            return gibbs_query(self, variables, evidence, joint, n_samples=n_samples, n_chains=n_chains,
                               burn_in=burn_in, rng=rng)
        from .._belief_enumeration import deep_belief_query

        return deep_belief_query(self, variables, evidence, joint, max_units=max_units)

    # ------------------------------------------------------------------ learning
    def fine_tune(self, data, *, epochs=10, learning_rate=0.01, k=3, batch_size=20, weight_decay=0.0, rng=None):
        """Up-down fine-tuning (contrastive wake-sleep) by :class:`~pgm_energy.learning.UpDownFineTuning`.

        The options are the trainer's; a ``batch_size`` larger than the data is one batch of every
        row. For the history, callbacks and checkpoints call ``UpDownFineTuning(...).fit(self, data)``.

        Returns
        -------
        DeepBeliefNetwork
            A new network with untied recognition weights (this one is unchanged).

        Raises
        ------
        TrainingDivergedError
            As the trainer: ``model`` is the network after the last good epoch (this one if the
            first epoch diverged).
        """
        from ..learning.deep_belief import fine_tune

        return fine_tune(self, data, epochs=epochs, learning_rate=learning_rate, k=k, batch_size=batch_size,
                         weight_decay=weight_decay, rng=rng)

    # ------------------------------------------------------------------ the variational bound
    def log_likelihood_bound(self, data, *, n_samples=10, log_z=None, n_runs=100, betas=None,
                             max_units=DEFAULT_MAX_UNITS, rng=None):
        """The variational lower bound on ``log p(v)``, averaged over ``data``: see :func:`pgm_energy.ais.log_likelihood_bound`.

        Returns
        -------
        pgm_energy.ais.LikelihoodBound
        """
        from ..ais import log_likelihood_bound

        return log_likelihood_bound(self, data, n_samples=n_samples, log_z=log_z, n_runs=n_runs, betas=betas,
                                    max_units=max_units, rng=rng)

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
        recognition_weights = [file_member(arrays, f"recognition_weights_{k}", ndim=2) for k in range(n_directed)]
        recognition_biases = [file_member(arrays, f"recognition_biases_{k}", ndim=1) for k in range(n_directed)]
        return cls(weights, biases, recognition_weights=recognition_weights, recognition_biases=recognition_biases,
                   names=names)

    def __repr__(self) -> str:
        return f"DeepBeliefNetwork(layer_sizes={self._layer_sizes}, tied={self.is_tied})"
