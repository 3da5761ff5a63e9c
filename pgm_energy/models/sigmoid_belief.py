"""Sigmoid belief networks: layered directed graphs of binary stochastic units."""

from __future__ import annotations

import numpy as np

from .._math import sigmoid, softplus
from .._validation import (
    MAX_QUERY_VARIABLES,
    check_array_size,
    check_finite_array,
    check_positive_temperature,
    check_rng,
    check_states,
)
from ..exceptions import ModelSizeError, ValidationError
from ._base import MAX_PARAMETERS, file_scalar
from ._layered import (
    DEFAULT_MAX_UNITS, LayeredModel, check_layer_biases, check_layer_sizes, check_layer_weights,
    check_layers_energy_scale, check_list,
)

__all__ = ["SigmoidBeliefNetwork", "DEFAULT_MAX_UNITS", "MAX_QUERY_VARIABLES", "MAX_CPD_PARENTS"]

#: most parents a unit may have in :meth:`SigmoidBeliefNetwork.conditional_table` (2**16 columns)
MAX_CPD_PARENTS = 16


class SigmoidBeliefNetwork(LayeredModel):
    r"""A sigmoid belief network: layers of binary units, each layer caused by the one above.

    Layers are listed **bottom first**: layer 0 is the visible (observed) layer and layer
    ``L - 1`` the top. Each unit ``i`` of layer ``k < L - 1`` has the units of layer ``k + 1``
    as parents (those joined by a non-zero weight) and

    .. math::

        p(x^{(k)}_i = 1 \mid x^{(k+1)}) = \sigma\bigl((b^{(k)}_i + \textstyle\sum_j W^{(k)}_{ij} x^{(k+1)}_j) / T\bigr),

    while the top layer has a factorial prior :math:`p(x^{(L-1)}_j = 1) = \sigma(b^{(L-1)}_j / T)`.
    ``W^{(k)}`` has shape (n_k, n_{k+1}), the orientation of an RBM's ``weights`` (lower layer
    by upper layer), so the generative weights of a deep belief net's layer are its RBM's weights.
    ``p(x)`` is the product of these conditionals (no partition function); ``T`` is the
    temperature (the network at ``T`` equals the one with ``W / T, b / T`` at ``T = 1``).

    Units are ordered layer by layer, bottom first; states, names and the columns of samples
    follow that order.

    Parameters
    ----------
    weights : sequence of L - 1 array_like
        ``weights[k]`` has shape (n_k, n_{k+1}); an exactly zero weight is no edge.
    biases : sequence of L array_like
        ``biases[k]`` has shape (n_k,); ``biases[-1]`` are the prior log-odds of the top layer.
    names : sequence of str, optional
        One unique name per unit in unit order. Default ``v{i}`` for layer 0 and
        ``h{k}_{j}`` for unit ``j`` of hidden layer ``k >= 1``.
    temperature : float > 0, default 1.0

    Examples
    --------
    >>> from pgm_energy import SigmoidBeliefNetwork
    >>> sbn = SigmoidBeliefNetwork([[[2.0, 2.0]]], [[-3.0], [-1.0, -1.0]],
    ...                            names=["effect", "cause_a", "cause_b"])
    >>> sbn.layer_sizes
    (1, 2)
    >>> round(sbn.log_probability([1, 1, 0]), 4)
    -2.9398
    """

    _FILE_KIND = "SigmoidBeliefNetwork"

    def __init__(self, weights, biases, *, names=None, temperature=1.0):
        biases = check_list(biases, "biases", "bias vectors (one per layer)")
        weights = check_list(weights, "weights", "weight matrices (one per pair of layers)")
        if len(biases) == 0:
            raise ValidationError("biases must hold at least one layer, got []")
        if len(weights) != len(biases) - 1:
            raise ValidationError(
                f"weights must hold one matrix per pair of adjacent layers: {len(biases) - 1} for "
                f"{len(biases)} bias vectors, got {len(weights)}"
            )
        self._biases = tuple(check_layer_biases(biases))
        sizes = tuple(vector.shape[0] for vector in self._biases)
        self._weights = tuple(check_layer_weights(weights, sizes))
        self._set_layers(sizes, names)
        self._temperature = check_positive_temperature(temperature)
        self._energy_bound = check_layers_energy_scale(
            "the SigmoidBeliefNetwork", weights=self._weights, biases=self._biases
        )
        # a temperature so small that parameters / T overflow would turn every answer into NaN
        check_positive_temperature(self._temperature, energy_scale=self._energy_bound)
        self._freeze()

    @classmethod
    def random(cls, layer_sizes, *, scale=1.0, rng=None, **options) -> "SigmoidBeliefNetwork":
        """A network with weights and biases drawn from N(0, scale^2).

        Parameters
        ----------
        layer_sizes : sequence of int >= 1
            Units per layer, bottom (visible) layer first.
        scale : float >= 0
        rng : None, int or numpy.random.Generator
        **options
            ``names``, ``temperature``.
        """
        sizes = check_layer_sizes(layer_sizes)
        if not sizes:
            raise ValidationError("layer_sizes must hold at least one layer, got []")
        n_parameters = sum(sizes) + sum(lower * upper for lower, upper in zip(sizes, sizes[1:]))
        check_array_size(n_parameters, f"layer_sizes={sizes} weights and biases", limit=MAX_PARAMETERS)
        scale = float(check_finite_array(scale, "scale", ndim=0))
        if scale < 0:
            raise ValidationError(f"scale must be >= 0, got {scale!r}")
        generator = check_rng(rng)
        weights = [generator.normal(0.0, scale, size=(sizes[k], sizes[k + 1])) for k in range(len(sizes) - 1)]
        biases = [generator.normal(0.0, scale, size=size) for size in sizes]
        return cls(weights, biases, **options)

    # ------------------------------------------------------------------ parameters
    def parents(self, name: str) -> tuple[str, ...]:
        """Parents of the unit called ``name``: the units of the layer above joined by a non-zero weight."""
        layer = self.layer_of(name)
        if layer == self.n_layers - 1:
            return ()
        row = self._weights[layer][self.index(name) - self._offsets[layer]]
        start = self._offsets[layer + 1]
        return tuple(self._names[start + j] for j in np.flatnonzero(row).tolist())

    def with_temperature(self, temperature) -> "SigmoidBeliefNetwork":
        """The same network at another temperature."""
        return SigmoidBeliefNetwork(self._weights, self._biases, names=self._names, temperature=temperature)

    # ------------------------------------------------------------------ probabilities
    def _pre_activations(self, batch: np.ndarray) -> np.ndarray:
        """``a_i / T`` of every unit for each state of ``batch`` (n_states, n_units) -> same shape."""
        offsets, temperature = self._offsets, self._temperature
        out = np.empty(batch.shape, dtype=np.float64)
        for k in range(self.n_layers):
            lo, hi = offsets[k], offsets[k + 1]
            if k == self.n_layers - 1:
                out[:, lo:hi] = self._biases[k]
            else:
                out[:, lo:hi] = batch[:, hi : offsets[k + 2]] @ self._weights[k].T + self._biases[k]
        if temperature != 1.0:
            out /= temperature
        return out

    def _log_probabilities(self, batch: np.ndarray) -> np.ndarray:
        """``log p(x)`` of each row of a validated float batch: sum of log-Bernoulli terms."""
        activations = self._pre_activations(batch)
        # log sigmoid(a) = a - softplus(a), log(1 - sigmoid(a)) = -softplus(a)
        return np.sum(batch * activations - softplus(activations), axis=1)

    def log_probability(self, states):
        """``log p(x)`` of complete configurations (every unit, visible and hidden).

        Parameters
        ----------
        states : array_like of 0/1, shape (n_units,) or (n_states, n_units)
            Columns in the order of :attr:`names`.

        Returns
        -------
        float or ndarray of shape (n_states,)
        """
        batch, single = check_states(states, self.n_units)
        values = self._log_probabilities(batch)
        return float(values[0]) if single else values

    def conditional_probabilities(self, states) -> np.ndarray:
        """``p(x_i = 1 | parents of i)`` of every unit, given the parents' values in ``states``.

        Parameters
        ----------
        states : array_like of 0/1, shape (n_units,) or (n_states, n_units)

        Returns
        -------
        ndarray, shape (n_units,) or (n_states, n_units)
            Top-layer entries are the prior probabilities; a unit's own value is ignored.
        """
        batch, single = check_states(states, self.n_units)
        probabilities = sigmoid(self._pre_activations(batch))
        return probabilities[0] if single else probabilities

    def conditional_table(self, name: str) -> tuple[tuple[str, ...], np.ndarray]:
        """The conditional probability table of one unit, in pgmpy's ``TabularCPD`` layout.

        Parameters
        ----------
        name : str

        Returns
        -------
        parents : tuple of str, length k
            As :meth:`parents`.
        table : ndarray, shape (2, 2**k)
            ``table[x, col] = p(unit = x | parents = col)``; column ``col`` is the parent
            assignment of ``itertools.product((0, 1), repeat=k)`` number ``col`` (the last
            parent changes fastest). ``table[0]`` is computed as ``sigmoid(-a)``, not ``1 - sigmoid(a)``,
            so tiny probabilities keep their precision.

        Raises
        ------
        ModelSizeError
            If the unit has more than 16 parents (above 2**16 columns).
        """
        parents = self.parents(name)
        fan_in = len(parents)
        if fan_in > MAX_CPD_PARENTS:
            raise ModelSizeError(
                f"the conditional table of unit {name!r} has fan-in {fan_in}: 2**{fan_in} columns, above the "
                f"limit of 2**{MAX_CPD_PARENTS}; use query(), log_marginal_likelihood() or gibbs_posterior() instead"
            )
        layer = self.layer_of(name)
        local = self.index(name) - self._offsets[layer]
        if layer == self.n_layers - 1:
            activations = np.array([self._biases[layer][local]])
        else:
            row = self._weights[layer][local]
            parent_weights = row[np.flatnonzero(row)]
            columns = (np.arange(2**fan_in)[:, None] >> np.arange(fan_in - 1, -1, -1)) & 1
            activations = self._biases[layer][local] + columns @ parent_weights
        activations = activations / self._temperature
        return parents, np.stack([sigmoid(-activations), sigmoid(activations)])

    # ------------------------------------------------------------------ sampling
    def sample(self, n_samples, *, rng=None):
        """Independent draws of ``p(x)`` by ancestral sampling (top layer first, then each layer below).

        Parameters
        ----------
        n_samples : int >= 1
        rng : None, int or numpy.random.Generator

        Returns
        -------
        SampleSet
            One chain of ``n_samples`` independent draws: ``states`` of shape
            (1, n_samples, n_units) uint8 in the order of :attr:`names`, ``energies`` equal
            to ``-log p(x)`` of each draw, ``info["sampler"] == "ancestral"``.
        """
        from ..samplers.belief import ancestral_sample

        return ancestral_sample(self, n_samples, rng=rng)

    def gibbs_posterior(self, evidence, n_samples, *, n_chains=4, burn_in=1000, thin=1, rng=None, progress=True):
        """Draws of ``p(x | evidence)`` by single-site Gibbs sampling over each unit's Markov blanket.

        Every unit not in ``evidence`` is updated in a sequential scan from its full conditional;
        chains start from ancestral draws with the evidence clamped; ``n_samples`` draws per chain,
        one every ``thin`` sweeps after ``burn_in``. See :func:`pgm_energy.samplers.belief.gibbs_posterior`.

        Returns
        -------
        SampleSet
            ``states`` (n_chains, n_samples, n_units) uint8, ``energies`` equal to ``-log p(x)``.
        """
        from ..samplers.belief import gibbs_posterior

        return gibbs_posterior(
            self, evidence, n_samples, n_chains=n_chains, burn_in=burn_in, thin=thin, rng=rng, progress=progress
        )

    # ------------------------------------------------------------------ layout
    def _csr(self, *, children: bool):
        """Parents (or children) of every unit in CSR form, weights divided by T: (ptr, index, weight)."""
        counts = [np.zeros(self._layer_sizes[-1 if not children else 0], dtype=np.int64)]
        blocks = []
        for k, matrix in enumerate(self._weights):
            # matrix[i, j]: edge from unit j of layer k+1 to unit i of layer k
            oriented = matrix.T if children else matrix
            rows, cols = np.nonzero(oriented)  # sorted by row
            counts.append(np.bincount(rows, minlength=oriented.shape[0]).astype(np.int64))
            targets = cols + (self._offsets[k] if children else self._offsets[k + 1])
            blocks.append((targets.astype(np.int64), oriented[rows, cols] / self._temperature))
        if not children:
            # parent counts come per layer k = 0 .. L-2, then the parentless top layer
            counts = counts[1:] + counts[:1]
        ptr = np.concatenate([[0], np.cumsum(np.concatenate(counts))]).astype(np.int64)
        index = np.concatenate([b[0] for b in blocks]) if blocks else np.empty(0, dtype=np.int64)
        weight = np.concatenate([b[1] for b in blocks]) if blocks else np.empty(0, dtype=np.float64)
        return ptr, np.ascontiguousarray(index, dtype=np.int64), np.ascontiguousarray(weight, dtype=np.float64)

    # ------------------------------------------------------------------ exact inference
    def query(self, variables, evidence=None, joint=True, *, max_units=DEFAULT_MAX_UNITS):
        """Exact posterior over ``variables`` given ``evidence``, by enumeration, as pgmpy factors.

        Interchangeable with ``pgmpy.inference.VariableElimination(sbn.to_bayesian_network()).query``
        (normalized, variables in the order asked).

        Parameters
        ----------
        variables : list of str
            Variables to query (not in ``evidence``); at most 20 for a joint table.
        evidence : dict of str -> 0/1, optional
        joint : bool, default True
            One joint factor (values in C order, the last variable fastest), or a dict
            name -> single-variable factor.
        max_units : int, default 30
            Most units the enumeration may sum over (every unit not in ``evidence``).

        Returns
        -------
        pgmpy.factors.discrete.DiscreteFactor or dict of str -> DiscreteFactor
            States are named 0 and 1.

        Raises
        ------
        ModelSizeError
            If more than ``max_units`` units are free, or a joint table over more than 20 variables.
        EvidenceError
            For unknown variables, values other than 0/1, or a variable both queried and observed.
        """
        from .._belief_enumeration import sigmoid_belief_query

        return sigmoid_belief_query(self, variables, evidence, joint, max_units=max_units)

    def log_marginal_likelihood(self, visible, *, max_units=DEFAULT_MAX_UNITS):
        """Exact ``log p(v)`` of visible vectors, summing ``p(v, h)`` over every hidden configuration.

        Parameters
        ----------
        visible : array_like of 0/1, shape (n_visible,) or (n_states, n_visible)
            Columns in the order of :attr:`visible_names`.
        max_units : int, default 30
            Most hidden units the enumeration may sum over.

        Returns
        -------
        float or ndarray of shape (n_states,)

        Raises
        ------
        ModelSizeError
            If the network has more than ``max_units`` hidden units.
        """
        from .._belief_enumeration import sigmoid_belief_log_marginal_likelihood

        return sigmoid_belief_log_marginal_likelihood(self, visible, max_units=max_units)

    # ------------------------------------------------------------------ conversions
    def to_bayesian_network(self):
        """The network as a pgmpy ``DiscreteBayesianNetwork`` with one sigmoid ``TabularCPD`` per unit.

        See :func:`pgm_energy.interop.pgmpy.to_bayesian_network`.
        """
        from ..interop.pgmpy import to_bayesian_network

        return to_bayesian_network(self)

    def to_markov_network(self):
        """The moral graph as a pgmpy ``DiscreteMarkovNetwork`` (one factor per unit's CPD; Z = 1).

        Built by pgmpy's ``DiscreteBayesianNetwork.to_markov_model`` from :meth:`to_bayesian_network`.
        """
        return self.to_bayesian_network().to_markov_model()

    @property
    def graph(self):
        """A new networkx ``DiGraph``: an edge parent -> child per non-zero weight.

        Nodes carry ``bias`` (the unit's own bias), ``layer`` (0 = bottom) and ``visible``;
        edges carry ``weight``; the graph attribute ``temperature`` holds T.
        """
        import networkx as nx

        graph = nx.DiGraph(temperature=self._temperature)
        for k, names in enumerate(self.layers):
            for name, bias in zip(names, self._biases[k].tolist()):
                graph.add_node(name, bias=bias, layer=k, visible=k == 0)
        for k, matrix in enumerate(self._weights):
            rows, cols = np.nonzero(matrix)
            for i, j in zip(rows.tolist(), cols.tolist()):
                graph.add_edge(
                    self._names[self._offsets[k + 1] + j], self._names[self._offsets[k] + i], weight=float(matrix[i, j])
                )
        return graph

    # ------------------------------------------------------------------ files
    def _to_arrays(self) -> dict[str, np.ndarray]:
        return {**self._layer_arrays(), "temperature": np.float64(self._temperature)}

    @classmethod
    def _from_arrays(cls, arrays) -> "SigmoidBeliefNetwork":
        weights, biases, names = cls._read_layer_arrays(arrays, lambda n_layers: ["temperature"])
        return cls(weights, biases, names=names, temperature=file_scalar(arrays, "temperature"))

    def __repr__(self) -> str:
        return f"SigmoidBeliefNetwork(layer_sizes={self._layer_sizes}, temperature={self._temperature:g})"
