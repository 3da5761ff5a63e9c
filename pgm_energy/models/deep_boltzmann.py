r"""Deep Boltzmann machines: layers of binary units, undirected weights between adjacent layers only.

.. math::

    E(x_0, \dots, x_L) = -\sum_{l=0}^{L-1} x_l^\top W_l\, x_{l+1} - \sum_{l=0}^{L} b_l^\top x_l,
    \qquad p(x) = e^{-E(x)/T} / Z(T),

``x_0 = v`` the visible layer, ``x_1 .. x_L`` the hidden layers. Every edge is undirected (the
deep belief network's are directed but for its top pair): the whole model is one Markov random
field. Given its two neighbouring layers a layer's units are independent,
``p(x_l = 1 | x_{l-1}, x_{l+1}) = sigmoid((b_l + W_{l-1}^T x_{l-1} + W_l x_{l+1}) / T)``.

The graph is bipartite between the even layers (``v, h2, h4, ...``) and the odd ones
(``h1, h3, ...``): :meth:`DeepBoltzmannMachine.to_bipartite_rbm` is the exact embedding as a
restricted Boltzmann machine with the even layers as its "visible" side. Every exact answer of an
RBM (one side enumerated, the other summed in closed form) is therefore an exact answer of the
deep machine: :func:`pgm_energy.exact.log_partition_function` enumerates the smaller side, so a
``v - h1 - h2`` machine with ``|h1| <= 24`` has an exact ``log Z`` however large ``v`` and ``h2``.
"""

from __future__ import annotations

import numpy as np

from .._math import sigmoid
from .._validation import check_int, check_positive_temperature, check_states
from ..exceptions import ValidationError
from ._base import MAX_PARAMETERS, file_member, file_scalar
from ._layered import LayeredModel, check_layer_biases, check_layer_weights, check_layers_energy_scale, check_list
from .boltzmann import BoltzmannMachine
from .rbm import RestrictedBoltzmannMachine

__all__ = ["DeepBoltzmannMachine"]


class DeepBoltzmannMachine(LayeredModel):
    """A deep Boltzmann machine: binary layers ``v, h1, ..., hL``, undirected weights between neighbours.

    Parameters
    ----------
    weights : list of array_like, ``weights[l]`` of shape (n_l, n_{l+1}), at least 2
        Between layer ``l`` and layer ``l + 1`` (one matrix is an RBM: use
        :class:`~pgm_energy.RestrictedBoltzmannMachine`).
    biases : list of array_like, one per layer, ``biases[l]`` of shape (n_l,)
    names : sequence of str, optional
        Unit names layer by layer; default ``v0, v1, ...`` then ``h1_0, h1_1, ...``, ``h2_0, ...``.
    temperature : float > 0, default 1.0

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy.models.deep_boltzmann import DeepBoltzmannMachine
    >>> g = np.random.default_rng(0)
    >>> dbm = DeepBoltzmannMachine([g.normal(size=(4, 3)), g.normal(size=(3, 2))], [np.zeros(4), np.zeros(3), np.zeros(2)])
    >>> dbm.layer_sizes, dbm.n_units
    ((4, 3, 2), 9)
    >>> state = np.ones(9)
    >>> bool(np.isclose(dbm.energy(state), dbm.to_boltzmann_machine().energy(state)))
    True
    """

    _FILE_KIND = "DeepBoltzmannMachine"

    def __init__(self, weights, biases, *, names=None, temperature=1.0):
        weights = check_list(weights, "weights", "arrays (one per pair of adjacent layers)")
        biases = check_list(biases, "biases", "bias vectors (one per layer)")
        if len(weights) < 2:
            raise ValidationError(
                f"weights must hold at least 2 matrices (three layers), got {len(weights)}; "
                "a single pair of layers is a RestrictedBoltzmannMachine"
            )
        if len(biases) != len(weights) + 1:
            raise ValidationError(
                f"biases must hold one vector per layer: {len(weights) + 1} for {len(weights)} weight matrices, "
                f"got {len(biases)}"
            )
        self._biases = tuple(check_layer_biases(biases))
        sizes = [vector.shape[0] for vector in self._biases]
        self._weights = tuple(check_layer_weights(weights, sizes))
        self._set_layers(sizes, names)
        self._temperature = check_positive_temperature(temperature)
        self._energy_bound = check_layers_energy_scale("the DeepBoltzmannMachine", weights=self._weights,
                                                       biases=self._biases)
        check_positive_temperature(self._temperature, energy_scale=self._energy_bound)
        self._freeze()

    @classmethod
    def random(cls, layer_sizes, *, scale=0.01, rng=None, **options) -> "DeepBoltzmannMachine":
        """A machine with weights drawn from N(0, scale^2) and zero biases.

        Parameters
        ----------
        layer_sizes : sequence of int >= 1, at least 3 (visible layer first)
        scale : float >= 0
        rng : None, int or numpy.random.Generator
        **options
            ``names``, ``temperature``.
        """
        from .._validation import check_array_size, check_finite_array, check_rng
        from ._layered import check_layer_sizes

        sizes = check_layer_sizes(layer_sizes)
        if len(sizes) < 3:
            raise ValidationError(f"layer_sizes must list at least 3 layers, got {sizes}")
        n_parameters = sum(sizes) + sum(lower * upper for lower, upper in zip(sizes[:-1], sizes[1:]))
        check_array_size(n_parameters, f"layer_sizes={sizes} weights and biases", limit=MAX_PARAMETERS)
        scale = float(check_finite_array(scale, "scale", ndim=0))
        if scale < 0:
            raise ValidationError(f"scale must be >= 0, got {scale!r}")
        generator = check_rng(rng)
        # scale 0 (also -0.0, which numpy's normal refuses as negative): zero weights
        weights = [generator.normal(0.0, scale, size=(a, b)) if scale > 0 else np.zeros((a, b))
                   for a, b in zip(sizes[:-1], sizes[1:])]
        return cls(weights, [np.zeros(size) for size in sizes], **options)

    @property
    def n_hidden_layers(self) -> int:
        """Hidden layers ``L`` (the layers above the visible one)."""
        return self.n_layers - 1

    def with_temperature(self, temperature) -> "DeepBoltzmannMachine":
        """The same parameters at another temperature."""
        return DeepBoltzmannMachine(list(self._weights), list(self._biases), names=self._names, temperature=temperature)

    # ------------------------------------------------------------------ energies and conditionals
    def _split(self, states) -> tuple[list[np.ndarray], bool]:
        rows, single = check_states(states, self.n_units, "states")
        return [rows[:, self._offsets[k] : self._offsets[k + 1]] for k in range(self.n_layers)], single

    def energy(self, states):
        """``E(x)`` of joint states (offsetless; not divided by the temperature).

        Parameters
        ----------
        states : array_like of 0/1, shape (n_units,) or (n_states, n_units), layer by layer

        Returns
        -------
        float or ndarray of shape (n_states,)
        """
        layers, single = self._split(states)
        energy = -sum(layer @ bias for layer, bias in zip(layers, self._biases))
        for k, matrix in enumerate(self._weights):
            energy = energy - np.einsum("ni,ij,nj->n", layers[k], matrix, layers[k + 1])
        return float(energy[0]) if single else energy

    def unnormalized_log_probability(self, states):
        """``-E(x) / T``: the log-probability up to ``log Z``."""
        return self.energy(states) / -self._temperature

    def layer_probabilities(self, states, layer) -> np.ndarray:
        """``p(x_layer = 1 | the neighbouring layers)`` for each state (the rest of ``states`` is ignored).

        Parameters
        ----------
        states : array_like of 0/1, shape (n_units,) or (n_states, n_units)
        layer : int, 0 (visible) to ``n_layers - 1``

        Returns
        -------
        ndarray, shape (n_states, n_layer) (``(n_layer,)`` for one state)
        """
        layer = check_int(layer, "layer", minimum=0)
        if layer >= self.n_layers:
            raise ValidationError(f"layer must be from 0 to {self.n_layers - 1}, got {layer}")
        layers, single = self._split(states)
        field = np.broadcast_to(self._biases[layer], (layers[0].shape[0], self._layer_sizes[layer])).copy()
        if layer > 0:
            field += layers[layer - 1] @ self._weights[layer - 1]
        if layer < self.n_layers - 1:
            field += layers[layer + 1] @ self._weights[layer].T
        probabilities = sigmoid(field / self._temperature)
        return probabilities[0] if single else probabilities

    # ------------------------------------------------------------------ embeddings
    def to_boltzmann_machine(self) -> BoltzmannMachine:
        """The exact embedding as a general machine: block weights between adjacent layers, units layer by layer.

        Names, temperature and energies are kept; the bottom layer is marked visible.
        """
        n = self.n_units
        full = np.zeros((n, n))
        for k, matrix in enumerate(self._weights):
            rows = slice(self._offsets[k], self._offsets[k + 1])
            columns = slice(self._offsets[k + 1], self._offsets[k + 2])
            full[rows, columns] = matrix
            full[columns, rows] = matrix.T
        visible = np.zeros(n, dtype=bool)
        visible[: self.n_visible] = True
        return BoltzmannMachine(full, np.concatenate(self._biases), visible=visible, names=self._names,
                                temperature=self._temperature)

    def _parity_units(self, parity: int) -> np.ndarray:
        """Unit indices of the even (0) or odd (1) layers, in layer order."""
        return np.concatenate([np.arange(self._offsets[k], self._offsets[k + 1])
                               for k in range(parity, self.n_layers, 2)])

    def to_bipartite_rbm(self) -> RestrictedBoltzmannMachine:
        """The exact embedding as an RBM: the even layers (``v, h2, ...``) visible, the odd ones (``h1, h3, ...``) hidden.

        No edge joins two layers of the same parity, so the machine is bipartite between them.
        Units keep their names (the RBM's visible units are the even layers' in layer order, its
        hidden units the odd layers'), energies are equal state for state, and so are ``log Z``,
        every marginal and every query.
        """
        even, odd = self._parity_units(0), self._parity_units(1)
        full = self.to_boltzmann_machine().dense_weights()
        bias = np.concatenate(self._biases)
        names = np.array(self._names, dtype=object)
        return RestrictedBoltzmannMachine(
            full[np.ix_(even, odd)], bias[even], bias[odd], visible_names=list(names[even]),
            hidden_names=list(names[odd]), temperature=self._temperature,
        )

    @property
    def graph(self):
        """A new undirected networkx ``Graph``: :meth:`to_boltzmann_machine`'s (every edge between adjacent layers)."""
        return self.to_boltzmann_machine().graph

    def to_markov_network(self):
        """The exact pgmpy ``DiscreteMarkovNetwork`` of :meth:`to_boltzmann_machine`."""
        return self.to_boltzmann_machine().to_markov_network()

    # ------------------------------------------------------------------ files
    def _to_arrays(self) -> dict[str, np.ndarray]:
        arrays = self._layer_arrays()
        arrays["temperature"] = np.array(self._temperature)
        return arrays

    @classmethod
    def _from_arrays(cls, arrays) -> "DeepBoltzmannMachine":
        weights, biases, names = cls._read_layer_arrays(arrays, lambda n_layers: ["temperature"])
        file_member(arrays, "temperature", ndim=0)
        return cls(weights, biases, names=names, temperature=file_scalar(arrays, "temperature"))

    def __repr__(self) -> str:
        return f"DeepBoltzmannMachine(layer_sizes={self._layer_sizes}, temperature={self._temperature:g})"
