"""Gaussian-Bernoulli restricted Boltzmann machines: real-valued visible units, binary hidden units."""

from __future__ import annotations

import numpy as np

from .._math import sigmoid, softplus
from .._validation import (
    check_array_size,
    check_energy_scale,
    check_finite_array,
    check_int,
    check_names,
    check_positive_temperature,
    check_rng,
    check_states,
)
from ..exceptions import ConversionError, StateError, ValidationError
from ._base import MAX_PARAMETERS, EnergyModel, check_bias, check_file_members, file_member, file_names, file_scalar, readonly
from ._gaussian_parts import check_real_states, check_sigma, energy_bound, refuse_overflow

__all__ = ["GaussianBernoulliRBM"]


class GaussianBernoulliRBM(EnergyModel):
    r"""A Gaussian-Bernoulli RBM: real-valued visible units with learned standard deviations, binary hidden units.

    .. math::

        E(v, h) = \sum_i \frac{(v_i - b_i)^2}{2\sigma_i^2} - c^\top h
                  - \sum_{i, j} \frac{v_i}{\sigma_i^2} W_{ij} h_j, \qquad
        p(v, h) = e^{-E(v, h)/T} / Z(T),

    (Cho, Ilin & Raiko 2011, the :math:`v / \sigma^2` form) with ``W = weights`` of shape
    (n_visible, n_hidden), ``b = visible_bias``, ``c = hidden_bias`` and ``sigma`` the
    per-unit standard deviations, :math:`v \in \mathbb{R}^{n_v}` and :math:`h \in \{0, 1\}^{n_h}`.
    Completing the square in :math:`v`, the conditionals are

    .. math::

        p(v \mid h) = \prod_i \mathcal{N}\!\left(v_i;\ b_i + (W h)_i,\ \sigma_i^2 T\right), \qquad
        p(h_j = 1 \mid v) = \operatorname{sigmoid}\!\left(\frac{c_j + \sum_i W_{ij} v_i / \sigma_i^2}{T}\right),

    and summing out the hidden layer gives the free energy

    .. math::

        F_T(v) = \sum_i \frac{(v_i - b_i)^2}{2\sigma_i^2}
                 - T \sum_j \operatorname{softplus}\!\left(\frac{c_j + \sum_i W_{ij} v_i / \sigma_i^2}{T}\right),

    with :math:`p(v) = e^{-F_T(v)/T} / Z(T)` a density. Unlike the binary machines, a model at
    temperature ``T`` is not the model with its parameters divided by ``T``: the visible noise
    grows to :math:`\sigma \sqrt{T}` around the same means. Exact answers (``log Z``, hidden
    marginals and queries, likelihoods) come from :mod:`pgm_energy.exact`, which hands this model
    to :mod:`pgm_energy._gaussian_enumeration`.

    Parameters
    ----------
    weights : array_like, shape (n_visible, n_hidden)
    visible_bias : array_like, shape (n_visible,)
    hidden_bias : array_like, shape (n_hidden,)
    sigma : array_like, shape (n_visible,)
        Standard deviations of the visible units (at T = 1), each finite and > 0.
    visible_names, hidden_names : sequence of str, optional
        Default ``v0, v1, ...`` and ``h0, h1, ...``; all names must be unique.
    temperature : float, default 1.0

    Raises
    ------
    ValidationError
        For non-finite or non-real arrays, mismatched lengths, a standard deviation that is not
        > 0, ``temperature <= 0``, weights and biases whose absolute values sum beyond
        ``MAX_ENERGY_SCALE`` (1e150), or standard deviations so small that energies could
        overflow float64 (see :attr:`energy_bound`).

    Examples
    --------
    >>> from pgm_energy.models.gaussian_rbm import GaussianBernoulliRBM
    >>> model = GaussianBernoulliRBM.random(4, 3, sigma=0.5, rng=0)
    >>> model.free_energy([[0.1, -1.2, 0.3, 2.0], [0.0, 0.0, 0.0, 0.0]]).shape
    (2,)
    >>> model.visible_std
    array([0.5, 0.5, 0.5, 0.5])
    """

    _FILE_KIND = "GaussianBernoulliRBM"

    def __init__(
        self,
        weights,
        visible_bias,
        hidden_bias,
        sigma,
        *,
        visible_names=None,
        hidden_names=None,
        temperature=1.0,
    ):
        weights = check_finite_array(weights, "weights", ndim=2)
        n_visible, n_hidden = weights.shape
        if n_visible == 0 or n_hidden == 0:
            raise ValidationError(f"weights must have at least one visible and one hidden unit, got shape {weights.shape}")
        self._weights = readonly(weights)
        self._visible_bias = readonly(check_bias(visible_bias, "visible_bias", n_visible, "weights", weights.shape))
        self._hidden_bias = readonly(check_bias(hidden_bias, "hidden_bias", n_hidden, "weights", weights.shape))
        self._sigma = readonly(check_sigma(sigma, n_visible, weights.shape))
        visible_names = (
            tuple(f"v{i}" for i in range(n_visible))
            if visible_names is None
            else check_names(visible_names, n_visible, "visible_names")
        )
        hidden_names = (
            tuple(f"h{j}" for j in range(n_hidden))
            if hidden_names is None
            else check_names(hidden_names, n_hidden, "hidden_names")
        )
        self._names = check_names(visible_names + hidden_names, n_visible + n_hidden, "visible_names + hidden_names")
        self._temperature = check_positive_temperature(temperature)
        # The package-wide limit on the parameters themselves (the visible means b + W h stay
        # finite), then the one that involves sigma: energies and the log-weights of hidden states.
        check_energy_scale(
            {"weights": self._weights, "visible_bias": self._visible_bias, "hidden_bias": self._hidden_bias},
            "the GaussianBernoulliRBM",
        )
        self._energy_bound = energy_bound(self._weights, self._visible_bias, self._hidden_bias, self._sigma)
        # every log-weight is divided by T: a tiny temperature would overflow them
        check_positive_temperature(self._temperature, energy_scale=self._energy_bound)
        self._freeze()

    @classmethod
    def random(cls, n_visible, n_hidden, *, scale=0.01, sigma=1.0, rng=None, **options) -> "GaussianBernoulliRBM":
        """A machine with weights drawn from N(0, scale^2), zero biases and the given standard deviations.

        Parameters
        ----------
        n_visible, n_hidden : int >= 1
        scale : float >= 0
            Standard deviation of the weights.
        sigma : float or array_like of shape (n_visible,), default 1.0
            Standard deviations of the visible units, each > 0 (a float is used for every unit).
            With data standardised to unit variance, 1 is the usual start.
        rng : None, int or numpy.random.Generator
        **options
            ``visible_names``, ``hidden_names``, ``temperature``.
        """
        n_visible = check_int(n_visible, "n_visible", minimum=1)
        n_hidden = check_int(n_hidden, "n_hidden", minimum=1)
        check_array_size(
            n_visible * n_hidden, f"n_visible={n_visible} by n_hidden={n_hidden} weights", limit=MAX_PARAMETERS
        )
        scale = float(check_finite_array(scale, "scale", ndim=0))
        if scale < 0:
            raise ValidationError(f"scale must be >= 0, got {scale!r}")
        sigma = check_finite_array(sigma, "sigma")
        if sigma.ndim == 0:
            sigma = np.full(n_visible, float(sigma))
        generator = check_rng(rng)
        weights = generator.normal(0.0, scale, size=(n_visible, n_hidden)) if scale > 0 else np.zeros((n_visible, n_hidden))
        return cls(weights, np.zeros(n_visible), np.zeros(n_hidden), sigma, **options)

    # ------------------------------------------------------------------ parameters
    @property
    def weights(self) -> np.ndarray:
        """Weights, shape (n_visible, n_hidden), read-only."""
        return self._weights

    @property
    def visible_bias(self) -> np.ndarray:
        """Visible biases ``b`` (the visible means when every hidden unit is off), shape (n_visible,), read-only."""
        return self._visible_bias

    @property
    def hidden_bias(self) -> np.ndarray:
        """Hidden biases, shape (n_hidden,), read-only."""
        return self._hidden_bias

    @property
    def sigma(self) -> np.ndarray:
        """Standard deviations of the visible units at T = 1, shape (n_visible,), read-only."""
        return self._sigma

    @property
    def log_sigma(self) -> np.ndarray:
        """``log(sigma)``, shape (n_visible,), a new read-only array.

        The parameterisation gradient learning uses: it is unconstrained, while ``sigma`` must
        stay positive.
        """
        return readonly(np.log(self._sigma))

    @property
    def energy_bound(self) -> float:
        """``sum_j |c_j| + sum_i (1 + |b_i| + sum_j |W_ij|)^2 / (2 sigma_i^2)``.

        A bound on ``|E(v, h)|`` for every hidden state and every visible state within one
        unit of the visible biases, and on ``T`` times the log-weight of every hidden state
        in the exact enumeration. The constructor refuses a model whose bound exceeds
        ``MAX_ENERGY_SCALE`` (1e150), or whose bound divided by the temperature does.
        """
        return self._energy_bound

    @property
    def n_visible(self) -> int:
        return self._weights.shape[0]

    @property
    def n_hidden(self) -> int:
        return self._weights.shape[1]

    @property
    def names(self) -> tuple[str, ...]:
        """Visible names followed by hidden names."""
        return self._names

    @property
    def visible_names(self) -> tuple[str, ...]:
        return self._names[: self.n_visible]

    @property
    def hidden_names(self) -> tuple[str, ...]:
        return self._names[self.n_visible :]

    def with_temperature(self, temperature) -> "GaussianBernoulliRBM":
        """The same machine at another temperature (visible noise ``sigma sqrt(T)``, hidden inputs divided by ``T``)."""
        return GaussianBernoulliRBM(
            self._weights,
            self._visible_bias,
            self._hidden_bias,
            self._sigma,
            visible_names=self.visible_names,
            hidden_names=self.hidden_names,
            temperature=temperature,
        )

    # ------------------------------------------------------------------ energies
    def _precision_scaled(self, v: np.ndarray) -> np.ndarray:
        """``v / sigma^2`` per unit, as ``(v / sigma) / sigma``: ``sigma^2`` itself may overflow or underflow."""
        return v / self._sigma / self._sigma

    def _hidden_inputs(self, v: np.ndarray, name: str = "visible") -> np.ndarray:
        """``c_j + sum_i W_ij v_i / sigma_i^2``, shape (n_states, n_hidden); overflow: a StateError naming ``name``."""
        with np.errstate(over="ignore", invalid="ignore"):
            inputs = self._precision_scaled(v) @ self._weights + self._hidden_bias
        return refuse_overflow(inputs, name)

    def _layers(self, visible, hidden):
        """Validate both layers and broadcast a single state against a batch."""
        v, v_single = check_real_states(visible, self.n_visible, "visible")
        h, h_single = check_states(hidden, self.n_hidden, "hidden")
        if v.shape[0] != h.shape[0] and 1 not in (v.shape[0], h.shape[0]):
            raise StateError(
                f"visible and hidden must hold the same number of states, got {v.shape[0]} and {h.shape[0]}"
            )
        n_states = v.shape[0] if h.shape[0] == 1 else h.shape[0]  # a single state broadcasts (against 0 rows too)
        v = np.broadcast_to(v, (n_states, self.n_visible))
        h = np.broadcast_to(h, (n_states, self.n_hidden))
        return v, h, v_single and h_single

    def energy(self, visible, hidden):
        """Energy ``E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - c^T h - sum_ij (v_i / sigma_i^2) W_ij h_j``.

        Parameters
        ----------
        visible : array_like of real numbers, shape (n_visible,) or (n_states, n_visible)
        hidden : array_like of 0/1, shape (n_hidden,) or (n_states, n_hidden)
            A single state is broadcast against a batch.

        Returns
        -------
        float or ndarray of shape (n_states,)

        Raises
        ------
        StateError
            For visible values that are not finite real numbers, hidden values other than 0
            and 1, mismatched shapes, or visible values so large that the energy overflows.
        """
        v, h, single = self._layers(visible, hidden)
        energies = self._energies(v, h, "visible")
        return float(energies[0]) if single else energies

    def _energies(self, v: np.ndarray, h: np.ndarray, name: str) -> np.ndarray:
        """:meth:`energy` of checked float64 batches of equal length; an overflow is a StateError naming ``name``."""
        with np.errstate(over="ignore", invalid="ignore"):
            deviation = (v - self._visible_bias) / self._sigma
            energies = (
                0.5 * np.einsum("ij,ij->i", deviation, deviation)
                - h @ self._hidden_bias
                - np.einsum("ij,ij->i", self._precision_scaled(v), h @ self._weights.T)
            )
        return refuse_overflow(energies, name)

    def unnormalized_log_probability(self, visible, hidden):
        """``-E(v, h) / T``; shape as :meth:`energy`."""
        v, h, single = self._layers(visible, hidden)
        with np.errstate(over="ignore"):
            values = self._energies(v, h, "visible") / -self._temperature
        refuse_overflow(values, "visible")
        return float(values[0]) if single else values

    def free_energy(self, visible):
        """Free energy ``F_T(v) = -T log sum_h exp(-E(v, h) / T)``, the hidden layer summed in closed form.

        ``F_T(v) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - T sum_j softplus((c_j + sum_i W_ij v_i / sigma_i^2) / T)``,
        so that ``log p(v) = -F_T(v) / T - log Z(T)`` (a log density, in nats).

        Parameters
        ----------
        visible : array_like of real numbers, shape (n_visible,) or (n_states, n_visible)

        Returns
        -------
        float or ndarray of shape (n_states,)
        """
        v, single = check_real_states(visible, self.n_visible, "visible")
        energies = self._free_energies(v, "visible")
        return float(energies[0]) if single else energies

    def _free_energies(self, v: np.ndarray, name: str) -> np.ndarray:
        """:meth:`free_energy` of a checked float64 batch; an overflow is a StateError naming ``name``."""
        temperature = self._temperature
        inputs = self._hidden_inputs(v, name)
        with np.errstate(over="ignore", invalid="ignore"):
            deviation = (v - self._visible_bias) / self._sigma
            squares = 0.5 * np.einsum("ij,ij->i", deviation, deviation)
            energies = squares - temperature * softplus(inputs / temperature).sum(axis=1)
        return refuse_overflow(energies, name)

    # ------------------------------------------------------------------ conditionals
    def hidden_probabilities(self, visible) -> np.ndarray:
        """``p(h_j = 1 | v) = sigmoid((c_j + sum_i W_ij v_i / sigma_i^2) / T)``.

        Parameters
        ----------
        visible : array_like of real numbers, shape (n_visible,) or (n_states, n_visible)

        Returns
        -------
        ndarray, shape (n_hidden,) or (n_states, n_hidden)
        """
        v, single = check_real_states(visible, self.n_visible, "visible")
        with np.errstate(over="ignore"):  # an input beyond float64 after dividing by T: probability 0 or 1
            probabilities = sigmoid(self._hidden_inputs(v) / self._temperature)
        return probabilities[0] if single else probabilities

    def visible_mean(self, hidden) -> np.ndarray:
        """Mean of ``p(v | h)``: ``b + W h`` (the same at every temperature).

        Parameters
        ----------
        hidden : array_like of 0/1, shape (n_hidden,) or (n_states, n_hidden)

        Returns
        -------
        ndarray, shape (n_visible,) or (n_states, n_visible)
        """
        h, single = check_states(hidden, self.n_hidden, "hidden")
        means = h @ self._weights.T + self._visible_bias
        return means[0] if single else means

    @property
    def visible_std(self) -> np.ndarray:
        """Standard deviations of ``p(v | h)``: ``sigma sqrt(T)``, shape (n_visible,), a new read-only array."""
        return readonly(self._sigma * np.sqrt(self._temperature))

    # ------------------------------------------------------------------ conversions
    @property
    def graph(self):
        """A new networkx ``Graph``: visible nodes carry ``bias`` and ``sigma``, hidden nodes ``bias``.

        Every node has ``visible`` and ``bipartite`` (0 visible, 1 hidden); edges carry ``weight``
        (zero weights are no edge); the graph attribute ``temperature`` holds T.
        """
        import networkx as nx

        graph = nx.Graph(temperature=self._temperature)
        for name, bias, sigma in zip(self.visible_names, self._visible_bias.tolist(), self._sigma.tolist()):
            graph.add_node(name, bias=bias, sigma=sigma, visible=True, bipartite=0)
        for name, bias in zip(self.hidden_names, self._hidden_bias.tolist()):
            graph.add_node(name, bias=bias, visible=False, bipartite=1)
        rows, cols = np.nonzero(self._weights)
        hidden_names = self.hidden_names
        graph.add_weighted_edges_from(
            (self._names[i], hidden_names[j], float(self._weights[i, j])) for i, j in zip(rows.tolist(), cols.tolist())
        )
        return graph

    def to_markov_network(self):
        """Refused: pgmpy's ``DiscreteMarkovNetwork`` holds discrete variables, and the visible units are real-valued.

        Raises
        ------
        ConversionError
            Always; the hidden layer alone is discrete, and its exact distribution is given by
            :mod:`pgm_energy._gaussian_enumeration`.
        """
        raise ConversionError(
            "a GaussianBernoulliRBM has real-valued visible units, which a discrete pgmpy Markov network cannot "
            "hold; query its binary hidden units with the exact functions instead"
        )

    # ------------------------------------------------------------------ files
    def _to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "weights": self._weights,
            "visible_bias": self._visible_bias,
            "hidden_bias": self._hidden_bias,
            "sigma": self._sigma,
            "visible_names": np.array(self.visible_names, dtype=str),
            "hidden_names": np.array(self.hidden_names, dtype=str),
            "temperature": np.float64(self._temperature),
        }

    _FILE_MEMBERS = ("weights", "visible_bias", "hidden_bias", "sigma", "visible_names", "hidden_names", "temperature")

    @classmethod
    def _from_arrays(cls, arrays) -> "GaussianBernoulliRBM":
        check_file_members(arrays, cls._FILE_MEMBERS)
        return cls(
            file_member(arrays, "weights", ndim=2),
            file_member(arrays, "visible_bias", ndim=1),
            file_member(arrays, "hidden_bias", ndim=1),
            file_member(arrays, "sigma", ndim=1),
            visible_names=file_names(arrays, "visible_names"),
            hidden_names=file_names(arrays, "hidden_names"),
            temperature=file_scalar(arrays, "temperature"),
        )

    def __repr__(self) -> str:
        return (
            f"GaussianBernoulliRBM(n_visible={self.n_visible}, n_hidden={self.n_hidden}, "
            f"temperature={self._temperature:g})"
        )
