"""Categorical RBMs: softmax (one-of-k) visible variables and binary hidden units."""

from __future__ import annotations

import numpy as np

from .._math import sigmoid, softplus
from .._validation import (check_array_size, check_categorical_states, check_energy_scale, check_finite_array,
                           check_int, check_names, check_positive_temperature, check_rng, check_states)
from ..exceptions import StateError, ValidationError
from ._base import MAX_PARAMETERS, EnergyModel, check_bias, readonly
from ._categorical_parts import (arguments_from_file, check_visible_cardinalities, check_visible_state_names,
                                 check_weights, file_arrays, segment_softmax)
from ._potts_parts import variable_index
from .potts import PottsMachine

__all__ = ["CategoricalRBM"]


class CategoricalRBM(EnergyModel):
    r"""A restricted Boltzmann machine with categorical (softmax) visible variables and binary hidden units.

    Visible variable ``i`` takes the states :math:`v_i \in \{0, \dots, k_i - 1\}`, hidden unit ``j``
    the values :math:`h_j \in \{0, 1\}`:

    .. math::

        E(v, h) = -\sum_i b_i(v_i) - \sum_j c_j h_j - \sum_i \sum_j W_i(v_i, j)\, h_j, \qquad
        p(v, h) = e^{-E(v, h)/T} / Z(T).

    The parameters are stored flat, as a :class:`PottsMachine` stores its fields: row
    ``field_offsets[i] + a`` of ``weights`` is :math:`W_i(a, \cdot)` and entry ``field_offsets[i] + a``
    of ``visible_bias`` is :math:`b_i(a)`, so that ``one_hot(v) @ weights`` is
    :math:`\sum_i W_i(v_i, \cdot)`. Given ``h`` each visible variable is a softmax over its
    states; given ``v`` each hidden unit is a sigmoid; the free energy sums the hidden layer out,
    :math:`F_T(v) = -\sum_i b_i(v_i) - T \sum_j \operatorname{softplus}((c_j + \sum_i W_i(v_i, j))/T)`.
    With every :math:`k_i = 2` it is a :class:`RestrictedBoltzmannMachine` with
    :math:`b = b(1) - b(0)` and :math:`W = W(1) - W(0)` (up to a constant energy).

    Parameters
    ----------
    weights : array_like, shape (sum(k_i), n_hidden)
    visible_bias : array_like, shape (sum(k_i),)
    hidden_bias : array_like, shape (n_hidden,)
    cardinalities : sequence of int, length n_visible
        The number of states of each visible variable, each at least 1.
    visible_names, hidden_names : sequence of str, optional
        Default ``v0, v1, ...`` and ``h0, h1, ...``; all names must be unique.
    state_names : mapping, optional
        ``{visible variable name: sequence of k_i state names}``, each a str or an int (pgmpy's
        convention); default ``0 .. k_i - 1``. Hidden units always have the states 0 and 1.
    temperature : float, default 1.0

    Raises
    ------
    ValidationError
        For a cardinality below 1, arrays of the wrong shape or not finite, repeated names or
        state names, state names for a hidden unit, ``temperature <= 0``, or parameters whose
        absolute values sum beyond ``MAX_ENERGY_SCALE`` (1e150).

    Examples
    --------
    >>> from pgm_energy.models.categorical_rbm import CategoricalRBM
    >>> crbm = CategoricalRBM.random([3, 2, 4], 2, rng=0)
    >>> crbm.weights.shape, crbm.field_offsets.tolist()
    ((9, 2), [0, 3, 5, 9])
    >>> crbm.free_energy([[2, 0, 3], [0, 1, 1]]).shape
    (2,)
    """

    _FILE_KIND = "CategoricalRBM"

    def __init__(self, weights, visible_bias, hidden_bias, *, cardinalities, visible_names=None, hidden_names=None,
                 state_names=None, temperature=1.0):
        self._cardinalities = check_visible_cardinalities(cardinalities)
        cards = self._cardinalities
        n_visible = cards.shape[0]
        self._weights = readonly(check_weights(weights, cards))
        total, n_hidden = self._weights.shape
        self._field_offsets = readonly(np.concatenate([[0], np.cumsum(cards)]).astype(np.int64))
        self._visible_bias = readonly(check_bias(visible_bias, "visible_bias", total, "weights", self._weights.shape))
        self._hidden_bias = readonly(check_bias(hidden_bias, "hidden_bias", n_hidden, "weights", self._weights.shape))
        visible_names = (tuple(f"v{i}" for i in range(n_visible)) if visible_names is None
                         else check_names(visible_names, n_visible, "visible_names"))
        hidden_names = (tuple(f"h{j}" for j in range(n_hidden)) if hidden_names is None
                        else check_names(hidden_names, n_hidden, "hidden_names"))
        self._names = check_names(visible_names + hidden_names, n_visible + n_hidden, "visible_names + hidden_names")
        # every unit's state names, hidden units' (0, 1) included: state_index and evidence read them
        self._state_names = (check_visible_state_names(state_names, visible_names, hidden_names, cards)
                             + ((0, 1),) * n_hidden)
        self._temperature = check_positive_temperature(temperature)
        self._energy_bound = check_energy_scale(
            {"weights": self._weights, "visible_bias": self._visible_bias, "hidden_bias": self._hidden_bias},
            "the CategoricalRBM",
        )
        # a temperature so small that parameters / T overflow would turn every answer into NaN
        check_positive_temperature(self._temperature, energy_scale=self._energy_bound)
        self._freeze()

    @classmethod
    def random(cls, cardinalities, n_hidden, *, scale=0.01, rng=None, **options) -> "CategoricalRBM":
        """A categorical RBM with weights drawn from N(0, scale^2) and zero biases.

        Parameters
        ----------
        cardinalities : sequence of int >= 1, length n_visible
        n_hidden : int >= 1
        scale : float >= 0
            Standard deviation of the weights.
        rng : None, int or numpy.random.Generator
        **options
            ``visible_names``, ``hidden_names``, ``state_names``, ``temperature``.
        """
        cards = check_visible_cardinalities(cardinalities)
        n_hidden = check_int(n_hidden, "n_hidden", minimum=1)
        total = int(cards.sum())
        check_array_size(total * n_hidden, f"sum(cardinalities)={total} by n_hidden={n_hidden} weights",
                         limit=MAX_PARAMETERS)
        scale = float(check_finite_array(scale, "scale", ndim=0))
        if scale < 0:
            raise ValidationError(f"scale must be >= 0, got {scale!r}")
        generator = check_rng(rng)
        weights = generator.normal(0.0, scale, size=(total, n_hidden)) if scale > 0 else np.zeros((total, n_hidden))
        return cls(weights, np.zeros(total), np.zeros(n_hidden), cardinalities=cards.tolist(), **options)

    # ------------------------------------------------------------------ parameters
    @property
    def weights(self) -> np.ndarray:
        """Weights, shape (sum(k_i), n_hidden), read-only: row ``field_offsets[i] + a`` is ``W_i(a, .)``."""
        return self._weights

    @property
    def visible_bias(self) -> np.ndarray:
        """Visible biases, shape (sum(k_i),), read-only: entry ``field_offsets[i] + a`` is ``b_i(a)``."""
        return self._visible_bias

    @property
    def hidden_bias(self) -> np.ndarray:
        """Hidden biases, shape (n_hidden,), read-only."""
        return self._hidden_bias

    @property
    def cardinalities(self) -> tuple[int, ...]:
        """The number of states of each visible variable."""
        return tuple(self._cardinalities.tolist())

    @property
    def field_offsets(self) -> np.ndarray:
        """Where each visible variable's states start in the flat arrays; read-only int64, shape (n_visible + 1,)."""
        return self._field_offsets

    @property
    def state_slices(self) -> tuple[slice, ...]:
        """``slice`` of each visible variable's states in the flat arrays (rows of ``weights``, ``one_hot``)."""
        o = self._field_offsets.tolist()
        return tuple(slice(o[i], o[i + 1]) for i in range(self.n_visible))

    @property
    def n_visible(self) -> int:
        """Number of visible (categorical) variables."""
        return self._cardinalities.shape[0]

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

    @property
    def state_names(self) -> dict[str, list]:
        """``{name: [state names]}`` of every unit (pgmpy's ``state_names``; hidden units ``[0, 1]``); a new dict."""
        return {name: list(states) for name, states in zip(self._names, self._state_names)}

    def _variable(self, key, what: str) -> int:
        """The index of the unit named (or indexed) by ``key``, for :meth:`state_index`."""
        return variable_index(key, self._names, what)

    def state_index(self, variable, state) -> int:
        """The index of ``state`` of ``variable`` (a name or an index): a state name of it, or an index ``0 .. k - 1``.

        The semantics of :meth:`PottsMachine.state_index`: a name is looked up first, and an integer
        is taken as an index only when the variable's state names are strings. Hidden units have
        the states 0 and 1.

        Raises
        ------
        EvidenceError
            When ``state`` is neither.
        """
        # PottsMachine's own lookup, which reads only the attributes both classes keep (_names,
        # _state_names, _variable): evidence means the same for a model and its to_potts_machine()
        return PottsMachine.state_index(self, variable, state)

    def with_temperature(self, temperature) -> "CategoricalRBM":
        """The same machine at another temperature."""
        return CategoricalRBM(
            self._weights, self._visible_bias, self._hidden_bias, cardinalities=self._cardinalities,
            visible_names=self.visible_names, hidden_names=self.hidden_names,
            state_names={name: self._state_names[i] for i, name in enumerate(self.visible_names)},
            temperature=temperature,
        )

    # ------------------------------------------------------------------ energies
    def _visible_batch(self, visible, name: str = "visible"):
        return check_categorical_states(visible, self._cardinalities, name)

    def _hidden_input(self, batch: np.ndarray) -> np.ndarray:
        """``sum_i W_i(v_i, .)`` of each row of state indices: shape (n_rows, n_hidden)."""
        import scipy.sparse as sp

        # the one-hot rows as a sparse matrix: one stored 1 per variable, so the product reads
        # n_visible rows of the weights per state instead of sum(k)
        n_rows, n_visible = batch.shape
        columns = (self._field_offsets[:-1] + batch).ravel()
        one_hot = sp.csr_array((np.ones(columns.shape[0]), columns, np.arange(0, n_rows * n_visible + 1, n_visible)),
                               shape=(n_rows, self._weights.shape[0]))
        return np.asarray(one_hot @ self._weights)

    def one_hot(self, visible) -> np.ndarray:
        """The one-hot encoding of rows of state indices.

        Parameters
        ----------
        visible : array_like of int, shape (n_visible,) or (n_states, n_visible)
            State indices ``0 .. k_i - 1``.

        Returns
        -------
        ndarray of float64 0/1, shape (sum(k_i),) or (n_states, sum(k_i))
            A 1 at ``field_offsets[i] + v_i`` for each variable, so ``one_hot(v) @ weights`` is
            ``sum_i W_i(v_i, .)``.
        """
        batch, single = self._visible_batch(visible)
        encoded = np.zeros((batch.shape[0], self._weights.shape[0]))
        encoded[np.arange(batch.shape[0])[:, None], self._field_offsets[:-1] + batch] = 1.0
        return encoded[0] if single else encoded

    def _layers(self, visible, hidden):
        """Validate both layers and broadcast a single state against a batch."""
        v, v_single = self._visible_batch(visible)
        h, h_single = check_states(hidden, self.n_hidden, "hidden")
        if v.shape[0] != h.shape[0] and 1 not in (v.shape[0], h.shape[0]):
            raise StateError(
                f"visible and hidden must hold the same number of states, got {v.shape[0]} and {h.shape[0]}"
            )
        n_states = h.shape[0] if v.shape[0] == 1 else v.shape[0]  # a single state meets a batch, also an empty one
        return (np.broadcast_to(v, (n_states, self.n_visible)), np.broadcast_to(h, (n_states, self.n_hidden)),
                v_single and h_single)

    def energy(self, visible, hidden):
        """Energy ``E(v, h) = -sum_i b_i(v_i) - c.h - sum_i W_i(v_i, .).h``.

        Parameters
        ----------
        visible : array_like of int, shape (n_visible,) or (n_states, n_visible)
            State indices ``0 .. k_i - 1``.
        hidden : array_like of 0/1, shape (n_hidden,) or (n_states, n_hidden)
            A single state is broadcast against a batch.

        Returns
        -------
        float or ndarray of shape (n_states,)
        """
        v, h, single = self._layers(visible, hidden)
        energies = (-np.einsum("ij,ij->i", self._hidden_input(v), h)
                    - self._visible_bias[self._field_offsets[:-1] + v].sum(axis=1)
                    - h @ self._hidden_bias)
        return float(energies[0]) if single else energies

    def unnormalized_log_probability(self, visible, hidden):
        """``-E(v, h) / T``: log p(v, h) up to the constant log Z; shape as :meth:`energy`."""
        return self.energy(visible, hidden) / -self._temperature

    def free_energy(self, visible):
        """Free energy ``F_T(v) = -T log sum_h exp(-E(v, h) / T)``, in closed form and in log space.

        ``F_T(v) = -sum_i b_i(v_i) - T sum_j softplus((c_j + sum_i W_i(v_i, j)) / T)``.

        Parameters
        ----------
        visible : array_like of int, shape (n_visible,) or (n_states, n_visible)

        Returns
        -------
        float or ndarray of shape (n_states,)
        """
        v, single = self._visible_batch(visible)
        temperature = self._temperature
        pre_activation = (self._hidden_input(v) + self._hidden_bias) / temperature
        energies = (-self._visible_bias[self._field_offsets[:-1] + v].sum(axis=1)
                    - temperature * softplus(pre_activation).sum(axis=1))
        return float(energies[0]) if single else energies

    def hidden_probabilities(self, visible) -> np.ndarray:
        """``p(h_j = 1 | v) = sigmoid((c_j + sum_i W_i(v_i, j)) / T)``.

        Parameters
        ----------
        visible : array_like of int, shape (n_visible,) or (n_states, n_visible)

        Returns
        -------
        ndarray, shape (n_hidden,) or (n_states, n_hidden)
        """
        v, single = self._visible_batch(visible)
        probabilities = sigmoid((self._hidden_input(v) + self._hidden_bias) / self._temperature)
        return probabilities[0] if single else probabilities

    def visible_probabilities(self, hidden) -> np.ndarray:
        """``p(v_i = a | h)``: the softmax over ``a`` of ``(b_i(a) + W_i(a, .).h) / T``, per variable.

        Parameters
        ----------
        hidden : array_like of 0/1, shape (n_hidden,) or (n_states, n_hidden)

        Returns
        -------
        ndarray, shape (sum(k_i),) or (n_states, sum(k_i))
            Flat as :meth:`PottsMachine.conditional_probabilities`: variable ``i``'s states at
            ``state_slices[i]``, each slice summing to 1.
        """
        h, single = check_states(hidden, self.n_hidden, "hidden")
        probabilities = segment_softmax((h @ self._weights.T + self._visible_bias) / self._temperature,
                                        self._field_offsets)
        return probabilities[0] if single else probabilities

    # ------------------------------------------------------------------ conversions
    def to_potts_machine(self) -> PottsMachine:
        """The exact embedding as a :class:`PottsMachine`: the same energy for every state, hence the same Z(T).

        The visible variables keep their cardinalities ``k_i``, fields ``b_i`` and state names; each
        hidden unit becomes a 2-state variable (states 0 and 1) with fields ``(0, c_j)``, marked not
        visible; visible ``i`` and hidden ``j`` are coupled by the ``k_i x 2`` matrix
        ``[0, W_i(., j)]`` (no edge where ``W_i(., j)`` is zero). Names and temperature are kept.
        """
        n_visible = self.n_visible
        offsets = self._field_offsets
        fields = [self._visible_bias[offsets[i]:offsets[i + 1]] for i in range(n_visible)]
        fields += [np.array([0.0, c]) for c in self._hidden_bias.tolist()]
        couplings = {}
        for i in range(n_visible):
            block = self._weights[offsets[i]:offsets[i + 1]]
            for j in np.flatnonzero(np.any(block != 0.0, axis=0)).tolist():
                couplings[(i, n_visible + j)] = np.stack([np.zeros(block.shape[0]), block[:, j]], axis=1)
        visible = np.zeros(n_visible + self.n_hidden, dtype=bool)
        visible[:n_visible] = True
        return PottsMachine(
            list(self.cardinalities) + [2] * self.n_hidden, fields, couplings, names=self._names,
            state_names={name: self._state_names[i] for i, name in enumerate(self.visible_names)},
            visible=visible, temperature=self._temperature,
        )

    def to_markov_network(self):
        """The machine as a pgmpy ``DiscreteMarkovNetwork`` with its state names and the same Z(T).

        That of :meth:`to_potts_machine`: hidden units are the network's ``latents``, with states 0 and 1.
        """
        return self.to_potts_machine().to_markov_network()

    @property
    def graph(self):
        """A new networkx ``Graph`` of :meth:`to_potts_machine` (nodes carry ``cardinality``, ``fields``,
        ``state_names`` and ``visible``; edges carry ``couplings``)."""
        return self.to_potts_machine().graph

    # ------------------------------------------------------------------ files
    def _to_arrays(self) -> dict[str, np.ndarray]:
        return file_arrays(self)

    @classmethod
    def _from_arrays(cls, arrays) -> "CategoricalRBM":
        return cls(**arguments_from_file(arrays))

    def __repr__(self) -> str:
        cards = self.cardinalities
        shown = (repr(list(cards)) if len(cards) <= 8
                 else f"[{', '.join(map(str, cards[:6]))}, ... {len(cards)} variables]")
        return (f"CategoricalRBM(n_visible={self.n_visible}, cardinalities={shown}, n_hidden={self.n_hidden}, "
                f"temperature={self._temperature:g})")
