"""Restricted Boltzmann machines: bipartite Boltzmann machines."""

from __future__ import annotations

import numpy as np

from .._validation import (
    check_array_size,
    check_energy_scale,
    check_finite_array,
    check_int,
    check_names,
    check_positive_temperature,
    check_rng,
    check_states,
    describe,
)
from .._math import sigmoid, softplus
from ..exceptions import ParameterTypeError, StateError, ValidationError
from ._base import MAX_PARAMETERS, UndirectedModel, check_bias, check_file_members, file_member, file_names, file_scalar, readonly
from .boltzmann import BoltzmannMachine

__all__ = ["RestrictedBoltzmannMachine"]


class RestrictedBoltzmannMachine(UndirectedModel):
    r"""A restricted Boltzmann machine: visible and hidden binary layers, no intra-layer edges.

    .. math::

        E(v, h) = -v^\top W h - b^\top v - c^\top h, \qquad
        p(v, h) = e^{-E(v, h)/T} / Z(T),

    with ``W = weights`` of shape (n_visible, n_hidden), ``b = visible_bias`` and
    ``c = hidden_bias``. The free energy sums out the hidden layer in closed form,
    :math:`F_T(v) = -b^\top v - T \sum_j \operatorname{softplus}((c_j + (v^\top W)_j)/T)`.

    Parameters
    ----------
    weights : array_like, shape (n_visible, n_hidden)
    visible_bias : array_like, shape (n_visible,)
    hidden_bias : array_like, shape (n_hidden,)
    visible_names, hidden_names : sequence of str, optional
        Default ``v0, v1, ...`` and ``h0, h1, ...``; all names must be unique.
    temperature : float, default 1.0

    Raises
    ------
    ValidationError
        For non-finite or non-real arrays, mismatched lengths, ``temperature <= 0``, or
        parameters whose absolute values sum beyond ``MAX_ENERGY_SCALE`` (1e150: energies
        could overflow float64).

    Examples
    --------
    >>> from pgm_energy import RestrictedBoltzmannMachine
    >>> rbm = RestrictedBoltzmannMachine.random(6, 3, rng=0)
    >>> rbm.free_energy([[1, 0, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0]]).shape
    (2,)
    """

    _FILE_KIND = "RestrictedBoltzmannMachine"

    def __init__(
        self,
        weights,
        visible_bias,
        hidden_bias,
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
        self._energy_bound = check_energy_scale(
            {"weights": self._weights, "visible_bias": self._visible_bias, "hidden_bias": self._hidden_bias},
            "the RestrictedBoltzmannMachine",
        )
        # a temperature so small that parameters / T overflow would turn every answer into NaN
        check_positive_temperature(self._temperature, energy_scale=self._energy_bound)
        self._freeze()

    @classmethod
    def random(cls, n_visible, n_hidden, *, scale=0.01, rng=None, **options) -> "RestrictedBoltzmannMachine":
        """An RBM with weights drawn from N(0, scale^2) and zero biases.

        Parameters
        ----------
        n_visible, n_hidden : int >= 1
        scale : float >= 0
            Standard deviation of the weights (Hinton's guide suggests 0.01).
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
        generator = check_rng(rng)
        weights = generator.normal(0.0, scale, size=(n_visible, n_hidden)) if scale > 0 else np.zeros((n_visible, n_hidden))
        return cls(weights, np.zeros(n_visible), np.zeros(n_hidden), **options)

    # ------------------------------------------------------------------ parameters
    @property
    def weights(self) -> np.ndarray:
        """Weights, shape (n_visible, n_hidden), read-only."""
        return self._weights

    @property
    def visible_bias(self) -> np.ndarray:
        """Visible biases, shape (n_visible,), read-only."""
        return self._visible_bias

    @property
    def hidden_bias(self) -> np.ndarray:
        """Hidden biases, shape (n_hidden,), read-only."""
        return self._hidden_bias

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

    def with_temperature(self, temperature) -> "RestrictedBoltzmannMachine":
        """The same machine at another temperature."""
        return RestrictedBoltzmannMachine(
            self._weights,
            self._visible_bias,
            self._hidden_bias,
            visible_names=self.visible_names,
            hidden_names=self.hidden_names,
            temperature=temperature,
        )

    # ------------------------------------------------------------------ energies
    def _layers(self, visible, hidden):
        """Validate both layers and broadcast a single state against a batch."""
        v, v_single = check_states(visible, self.n_visible, "visible")
        h, h_single = check_states(hidden, self.n_hidden, "hidden")
        if v.shape[0] != h.shape[0] and 1 not in (v.shape[0], h.shape[0]):
            raise StateError(
                f"visible and hidden must hold the same number of states, got {v.shape[0]} and {h.shape[0]}"
            )
        n_states = max(v.shape[0], h.shape[0])
        v = np.broadcast_to(v, (n_states, self.n_visible))
        h = np.broadcast_to(h, (n_states, self.n_hidden))
        return v, h, v_single and h_single

    def energy(self, visible, hidden):
        """Energy ``E(v, h) = -v^T W h - b^T v - c^T h``.

        Parameters
        ----------
        visible : array_like of 0/1, shape (n_visible,) or (n_states, n_visible)
        hidden : array_like of 0/1, shape (n_hidden,) or (n_states, n_hidden)
            A single state is broadcast against a batch.

        Returns
        -------
        float or ndarray of shape (n_states,)
        """
        v, h, single = self._layers(visible, hidden)
        energies = (
            -np.einsum("ij,ij->i", v @ self._weights, h)
            - v @ self._visible_bias
            - h @ self._hidden_bias
        )
        return float(energies[0]) if single else energies

    def unnormalized_log_probability(self, visible, hidden):
        """``-E(v, h) / T``; shape as :meth:`energy`."""
        return self.energy(visible, hidden) / -self._temperature

    def hidden_probabilities(self, visible) -> np.ndarray:
        """``p(h_j = 1 | v) = sigmoid((c_j + (v^T W)_j) / T)``.

        Parameters
        ----------
        visible : array_like of 0/1, shape (n_visible,) or (n_states, n_visible)

        Returns
        -------
        ndarray, shape (n_hidden,) or (n_states, n_hidden)
        """
        v, single = check_states(visible, self.n_visible, "visible")
        probabilities = sigmoid((v @ self._weights + self._hidden_bias) / self._temperature)
        return probabilities[0] if single else probabilities

    def visible_probabilities(self, hidden) -> np.ndarray:
        """``p(v_i = 1 | h) = sigmoid((b_i + (W h)_i) / T)``.

        Parameters
        ----------
        hidden : array_like of 0/1, shape (n_hidden,) or (n_states, n_hidden)

        Returns
        -------
        ndarray, shape (n_visible,) or (n_states, n_visible)
        """
        h, single = check_states(hidden, self.n_hidden, "hidden")
        probabilities = sigmoid((h @ self._weights.T + self._visible_bias) / self._temperature)
        return probabilities[0] if single else probabilities

    def free_energy(self, visible):
        """Free energy ``F_T(v) = -T log sum_h exp(-E(v, h) / T)``, computed in log space.

        Parameters
        ----------
        visible : array_like of 0/1, shape (n_visible,) or (n_states, n_visible)

        Returns
        -------
        float or ndarray of shape (n_states,)
        """
        v, single = check_states(visible, self.n_visible, "visible")
        temperature = self._temperature
        pre_activation = (v @ self._weights + self._hidden_bias) / temperature
        energies = -(v @ self._visible_bias) - temperature * softplus(pre_activation).sum(axis=1)
        return float(energies[0]) if single else energies

    # ------------------------------------------------------------------ learning
    def fit(self, data, *, trainer=None, **fit_options) -> "RestrictedBoltzmannMachine":
        """Train a copy of this machine on ``data`` and return it (pgmpy's ``model.fit(data)`` style).

        Parameters
        ----------
        data : array_like of 0/1, shape (n_samples, n_visible), or pandas.DataFrame
            A DataFrame's columns are matched to :attr:`visible_names`.
        trainer : Trainer of RBMs, optional
            For example ``ContrastiveDivergence(k=1, epochs=20)`` or ``ExactGradient()``; anything
            else raises ``ParameterTypeError``.
            Default: ``ContrastiveDivergence()`` with its defaults (PCD-1, batches of 20, learning
            rate 0.03, weight decay 1e-3, averaging over the last 10% of epochs, as many epochs as
            make 100,000 parameter updates: see its docstring).
        **fit_options
            ``validation``, ``rng``, ``callbacks``, ``progress``, ``resume_from`` of the trainer's ``fit``.

        Returns
        -------
        RestrictedBoltzmannMachine
            The trained machine (this one is unchanged). For the history, call
            ``trainer.fit(model, data)`` directly: it returns a ``TrainingResult``.
        """
        from ..learning import ContrastiveDivergence
        from ..learning._trainer import Trainer

        if trainer is None:
            trainer = ContrastiveDivergence()
        elif not (isinstance(trainer, Trainer) and issubclass(RestrictedBoltzmannMachine, trainer._model_types)):
            raise ParameterTypeError(
                "trainer must be a trainer of restricted Boltzmann machines such as ContrastiveDivergence() "
                f"or ExactGradient(), got {describe(trainer)}"
            )
        return trainer.fit(self, data, **fit_options).model

    # ------------------------------------------------------------------ conversions
    def to_boltzmann_machine(self) -> BoltzmannMachine:
        """The exact embedding as a general machine with block weights ``[[0, W], [W^T, 0]]``.

        Visible units come first; names, temperature and energies are kept.
        """
        n_visible, n_hidden = self._weights.shape
        full = np.zeros((n_visible + n_hidden, n_visible + n_hidden))
        full[:n_visible, n_visible:] = self._weights
        full[n_visible:, :n_visible] = self._weights.T
        visible = np.zeros(n_visible + n_hidden, dtype=bool)
        visible[:n_visible] = True
        return BoltzmannMachine(
            full,
            np.concatenate([self._visible_bias, self._hidden_bias]),
            visible=visible,
            names=self._names,
            temperature=self._temperature,
        )

    # ------------------------------------------------------------------ files
    def _to_arrays(self) -> dict[str, np.ndarray]:
        return {
            "weights": self._weights,
            "visible_bias": self._visible_bias,
            "hidden_bias": self._hidden_bias,
            "visible_names": np.array(self.visible_names, dtype=str),
            "hidden_names": np.array(self.hidden_names, dtype=str),
            "temperature": np.float64(self._temperature),
        }

    _FILE_MEMBERS = ("weights", "visible_bias", "hidden_bias", "visible_names", "hidden_names", "temperature")

    @classmethod
    def _from_arrays(cls, arrays) -> "RestrictedBoltzmannMachine":
        check_file_members(arrays, cls._FILE_MEMBERS)
        return cls(
            file_member(arrays, "weights", ndim=2),
            file_member(arrays, "visible_bias", ndim=1),
            file_member(arrays, "hidden_bias", ndim=1),
            visible_names=file_names(arrays, "visible_names"),
            hidden_names=file_names(arrays, "hidden_names"),
            temperature=file_scalar(arrays, "temperature"),
        )

    def __repr__(self) -> str:
        return (
            f"RestrictedBoltzmannMachine(n_visible={self.n_visible}, n_hidden={self.n_hidden}, "
            f"temperature={self._temperature:g})"
        )
