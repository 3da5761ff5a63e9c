"""Potts machines: pairwise Markov random fields over categorical variables."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._validation import (check_categorical_states, check_energy_scale, check_finite_array, check_names,
                           check_positive_temperature, describe)
from ..exceptions import ConversionError, EvidenceError, ParameterTypeError, ValidationError
from ._base import EnergyModel, check_visible, default_names, readonly
from ._potts_parts import (arguments_from_file, check_cardinalities, check_couplings, check_fields, check_state_names,
                           file_arrays, variable_index)

__all__ = ["PottsMachine"]


class PottsMachine(EnergyModel):
    r"""A Potts machine: a pairwise Markov random field over categorical variables.

    Variable ``i`` takes the states :math:`s_i \in \{0, \dots, k_i - 1\}`. The energy and
    distribution are

    .. math::

        E(s) = -\sum_i f_i(s_i) - \sum_{(i, j) \in \mathcal{E}} C_{ij}(s_i, s_j) + \text{offset},
        \qquad p(s) = e^{-E(s)/T} / Z(T),

    with a field vector :math:`f_i` of length :math:`k_i` per variable and a coupling matrix
    :math:`C_{ij}` of shape :math:`k_i \times k_j` per edge. The local field of state ``a`` of
    variable ``i`` is :math:`z_{ia} = f_i(a) + \sum_j C_{ij}(a, s_j)`, and
    :math:`p(s_i = a \mid s_{-i}) = \operatorname{softmax}_a(z_{i\cdot} / T)`. With every
    :math:`k_i = 2`, this is a :class:`BoltzmannMachine` (:meth:`to_boltzmann_machine`, exact).

    Parameters
    ----------
    cardinalities : sequence of int, length n_variables
        The number of states of each variable, each at least 1.
    fields : sequence of array_like, or array_like of shape (n_variables, k), or None
        ``fields[i]`` of length ``cardinalities[i]`` (a 2-d array when all cardinalities are equal);
        None for zeros.
    couplings : mapping
        ``{(a, b): matrix}``, ``a`` and ``b`` variable names or indices, ``matrix`` of shape
        ``(k_a, k_b)``. An edge given as ``(j, i)`` is stored transposed as ``(i, j)``, ``i < j``;
        each edge at most once.
    names : sequence of str, optional
        Unique variable names (default ``v0, v1, ...`` for visible and ``h0, ...`` for hidden ones).
    state_names : mapping, optional
        ``{variable name: sequence of k_i state names}``, each a str or an int (pgmpy's
        convention); default ``0 .. k_i - 1`` for every variable not given.
    visible : array_like of bool, shape (n_variables,), optional
        Which variables are visible (default: all).
    temperature : float, default 1.0
    offset : float, default 0.0
        Constant added to every energy (kept so that conversions preserve log Z).

    Raises
    ------
    ValidationError
        For a cardinality below 1, fields or couplings of the wrong shape or not finite, an edge
        from a variable to itself or given twice, unknown variables, repeated state names,
        ``temperature <= 0``, or parameters whose absolute values sum beyond ``MAX_ENERGY_SCALE``.

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy.models import PottsMachine
    >>> potts = PottsMachine([3, 2], [[0.0, 1.0, 0.5], [0.0, -1.0]], {(0, 1): np.eye(3, 2)})
    >>> float(potts.energy([1, 1]))
    -1.0
    """

    _FILE_KIND = "PottsMachine"

    def __init__(self, cardinalities, fields, couplings, *, names=None, state_names=None, visible=None,
                 temperature=1.0, offset=0.0):
        self._cardinalities = check_cardinalities(cardinalities)
        cards = self._cardinalities
        n = cards.shape[0]
        self._visible = check_visible(visible, n)
        self._names = default_names(self._visible) if names is None else check_names(names, n)
        self._field_offsets = readonly(np.concatenate([[0], np.cumsum(cards)]).astype(np.int64))
        self._fields = readonly(check_fields(fields, cards))
        edges, coupling_offsets, flat = check_couplings(couplings, self._names, cards)
        self._edges, self._coupling_offsets, self._couplings = readonly(edges), readonly(coupling_offsets), readonly(flat)
        self._state_names = check_state_names(state_names, self._names, cards)
        self._temperature = check_positive_temperature(temperature)
        offset_array = check_finite_array(offset, "offset", ndim=0)
        self._offset = float(offset_array)
        self._energy_bound = check_energy_scale(
            {"fields": self._fields, "couplings": self._couplings, "offset": offset_array}, "the PottsMachine"
        )
        check_positive_temperature(self._temperature, energy_scale=self._energy_bound)
        self._freeze()

    def _variable(self, key, what: str) -> int:
        """The index of the variable named (or indexed) by ``key``."""
        return variable_index(key, self._names, what)

    # ------------------------------------------------------------------ parameters
    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    @property
    def n_variables(self) -> int:
        """Number of variables (the same as ``n_units``)."""
        return len(self._names)

    @property
    def cardinalities(self) -> tuple[int, ...]:
        """The number of states of each variable."""
        return tuple(self._cardinalities.tolist())

    @property
    def fields(self) -> tuple[np.ndarray, ...]:
        """``fields[i]``: read-only vector of length ``k_i``."""
        o = self._field_offsets
        return tuple(self._fields[o[i]:o[i + 1]] for i in range(self.n_variables))

    @property
    def edges(self) -> np.ndarray:
        """The coupled pairs ``(i, j)``, ``i < j``, in lexicographic order; read-only int64, shape (n_edges, 2)."""
        return self._edges

    @property
    def n_edges(self) -> int:
        return int(self._edges.shape[0])

    @property
    def couplings(self) -> dict[tuple[int, int], np.ndarray]:
        """A new dict ``{(i, j): C_ij}`` over the edges, ``i < j``; each matrix read-only, shape ``(k_i, k_j)``."""
        cards, o = self._cardinalities, self._coupling_offsets
        return {
            (int(i), int(j)): self._couplings[o[e]:o[e + 1]].reshape(int(cards[i]), int(cards[j]))
            for e, (i, j) in enumerate(self._edges)
        }

    def coupling(self, a, b) -> np.ndarray:
        """The coupling matrix of variables ``a`` and ``b`` (names or indices), shape ``(k_a, k_b)``.

        Zeros when they share no edge; a new writable array.
        """
        i, j = self._variable(a, "a"), self._variable(b, "b")
        if i == j:
            raise ValidationError(f"a and b must be two variables, got {self._names[i]!r} twice")
        low, high = min(i, j), max(i, j)
        matrix = self.couplings.get((low, high))
        if matrix is None:
            return np.zeros((int(self._cardinalities[i]), int(self._cardinalities[j])))
        return (matrix if i < j else matrix.T).copy()

    @property
    def field_offsets(self) -> np.ndarray:
        """Start of each variable's states in the flat arrays, read-only int64, shape (n_variables + 1,)."""
        return self._field_offsets

    @property
    def flat_fields(self) -> np.ndarray:
        """Every variable's field vector, one after another (variable ``i`` at ``field_offsets[i]:``), read-only."""
        return self._fields

    @property
    def coupling_offsets(self) -> np.ndarray:
        """Start of each edge's matrix in :attr:`flat_couplings`, read-only int64, shape (n_edges + 1,)."""
        return self._coupling_offsets

    @property
    def flat_couplings(self) -> np.ndarray:
        """Every edge's coupling matrix, row-major, in the order of :attr:`edges`, read-only."""
        return self._couplings

    @property
    def state_names(self) -> dict[str, list]:
        """``{variable name: [state names]}`` (pgmpy's ``state_names``); a new dict."""
        return {name: list(states) for name, states in zip(self._names, self._state_names)}

    @property
    def state_labels(self) -> tuple[tuple, ...]:
        """Each variable's state names, in the order of ``names`` (the tuples :attr:`state_names` is built from)."""
        return self._state_names

    @property
    def visible(self) -> np.ndarray:
        """Boolean mask of the visible variables, read-only."""
        return self._visible

    @property
    def n_visible(self) -> int:
        return int(self._visible.sum())

    @property
    def n_hidden(self) -> int:
        return self.n_variables - self.n_visible

    @property
    def visible_names(self) -> tuple[str, ...]:
        return tuple(n for n, v in zip(self._names, self._visible.tolist()) if v)

    @property
    def hidden_names(self) -> tuple[str, ...]:
        return tuple(n for n, v in zip(self._names, self._visible.tolist()) if not v)

    @property
    def offset(self) -> float:
        return self._offset

    @property
    def n_states(self) -> int:
        """The number of joint states, ``prod(k_i)`` (a Python int: it may be huge)."""
        return math.prod(self.cardinalities)

    def state_index(self, variable, state) -> int:
        """The index of ``state`` of ``variable``: a state name of the variable, or an index ``0 .. k - 1``.

        A name is looked up first, so a variable whose states are named by other integers
        (``[10, 20]``) takes those; evidence and queries use this (pgmpy's convention).

        Raises
        ------
        EvidenceError
            When ``state`` is neither.
        """
        i = self._variable(variable, "variable")
        labels = self._state_names[i]
        if not isinstance(state, (bool, np.bool_)) and isinstance(state, (str, numbers.Integral)):
            for code, label in enumerate(labels):
                if type(label) is str and isinstance(state, str) and label == state:
                    return code
                if type(label) is int and isinstance(state, numbers.Integral) and int(state) == label:
                    return code
            if isinstance(state, numbers.Integral) and all(type(label) is str for label in labels) \
                    and 0 <= int(state) < len(labels):
                return int(state)
        raise EvidenceError(
            f"{state!r} is not a state of variable {self._names[i]!r}, whose states are {list(labels)!r}"
        )

    def _replace(self, **changes) -> "PottsMachine":
        arguments = dict(
            cardinalities=self._cardinalities, fields=self.fields, couplings=self.couplings, names=self._names,
            state_names=self.state_names, visible=self._visible, temperature=self._temperature, offset=self._offset,
        )
        arguments.update(changes)
        return PottsMachine(arguments.pop("cardinalities"), arguments.pop("fields"), arguments.pop("couplings"),
                            **arguments)

    def with_temperature(self, temperature) -> "PottsMachine":
        """The same machine at another temperature."""
        return self._replace(temperature=temperature)

    # ------------------------------------------------------------------ energies
    def _batch(self, states):
        return check_categorical_states(states, self._cardinalities)

    def energy(self, states):
        """Energy ``E(s)``.

        Parameters
        ----------
        states : array_like of int, shape (n_variables,) or (n_states, n_variables)
            State indices ``0 .. k_i - 1``.

        Returns
        -------
        float or ndarray of shape (n_states,)
        """
        batch, single = self._batch(states)
        energies = np.full(batch.shape[0], self._offset)
        energies -= self._fields[self._field_offsets[:-1] + batch].sum(axis=1)
        cards, o = self._cardinalities, self._coupling_offsets
        for e, (i, j) in enumerate(self._edges):
            energies -= self._couplings[o[e] + batch[:, i] * cards[j] + batch[:, j]]
        return float(energies[0]) if single else energies

    def unnormalized_log_probability(self, states):
        """``-E(s) / T``: log p(s) up to the constant log Z."""
        return self.energy(states) / -self._temperature

    def local_fields(self, states) -> np.ndarray:
        """``z[i, a] = f_i(a) + sum_j C_ij(a, s_j)`` for every variable and state, flat.

        Returns
        -------
        ndarray, shape (sum(k_i),) or (n_states, sum(k_i))
            Variable ``i``'s states at ``state_slices[i]``.
        """
        batch, single = self._batch(states)
        fields = np.tile(self._fields, (batch.shape[0], 1))
        cards, fo, co = self._cardinalities, self._field_offsets, self._coupling_offsets
        for e, (i, j) in enumerate(self._edges):
            block = self._couplings[co[e]:co[e + 1]].reshape(cards[i], cards[j])
            fields[:, fo[i]:fo[i + 1]] += block[:, batch[:, j]].T
            fields[:, fo[j]:fo[j + 1]] += block[batch[:, i], :]
        return fields[0] if single else fields

    @property
    def state_slices(self) -> tuple[slice, ...]:
        """``slice`` of each variable's states in the flat arrays of :meth:`local_fields`."""
        o = self._field_offsets.tolist()
        return tuple(slice(o[i], o[i + 1]) for i in range(self.n_variables))

    def conditional_probabilities(self, states) -> np.ndarray:
        """``p(s_i = a | s_{-i})``, the softmax of ``z[i, :] / T`` per variable, flat as :meth:`local_fields`."""
        z = np.atleast_2d(self.local_fields(states)) / self._temperature
        out = np.empty_like(z)
        for part in self.state_slices:
            block = z[:, part]
            block = np.exp(block - block.max(axis=1, keepdims=True))
            out[:, part] = block / block.sum(axis=1, keepdims=True)
        return out[0] if np.ndim(states) == 1 else out

    # ------------------------------------------------------------------ conversions
    @classmethod
    def from_boltzmann_machine(cls, machine) -> "PottsMachine":
        """The exact 2-state form of a :class:`BoltzmannMachine` or :class:`RestrictedBoltzmannMachine`.

        Unit value ``s`` is state ``s`` (named 0 and 1): ``f_i = (0, b_i)`` and ``C_ij`` is zero but for
        ``C_ij(1, 1) = W_ij``. Names, visibility, temperature and offset are kept.
        """
        from .boltzmann import BoltzmannMachine
        from .rbm import RestrictedBoltzmannMachine

        if isinstance(machine, RestrictedBoltzmannMachine):
            machine = machine.to_boltzmann_machine()
        if not isinstance(machine, BoltzmannMachine):
            raise ParameterTypeError(f"machine must be a BoltzmannMachine or RestrictedBoltzmannMachine, got {describe(machine)}")
        import scipy.sparse as sp

        upper = sp.triu(sp.csr_array(machine.weights), k=1, format="coo")
        couplings = {}
        for i, j, w in zip(upper.row.tolist(), upper.col.tolist(), upper.data.tolist()):
            if w != 0.0:
                couplings[(i, j)] = np.array([[0.0, 0.0], [0.0, w]])
        fields = np.stack([np.zeros(machine.n_units), machine.biases], axis=1)
        return cls([2] * machine.n_units, fields, couplings, names=machine.names, visible=machine.visible,
                   temperature=machine.temperature, offset=machine.offset)

    def to_boltzmann_machine(self):
        """The exact :class:`BoltzmannMachine` of a machine whose variables all have two states.

        State 0 is unit value 0. A coupling matrix ``C`` becomes ``W_ij = C11 - C10 - C01 + C00``, with
        ``C10 - C00`` and ``C01 - C00`` added to the biases and ``C00`` taken from the offset; the
        energy of every state is unchanged, so is log Z.

        Raises
        ------
        ConversionError
            When a variable does not have exactly two states.
        """
        from .boltzmann import BoltzmannMachine

        wrong = [name for name, k in zip(self._names, self.cardinalities) if k != 2]
        if wrong:
            raise ConversionError(
                f"a Boltzmann machine has binary units; variables {wrong[:5]!r} have other than 2 states"
            )
        n = self.n_variables
        fields = self._fields.reshape(n, 2)
        biases = fields[:, 1] - fields[:, 0]
        offset = self._offset - float(fields[:, 0].sum())
        weights = np.zeros((n, n))
        for (i, j), c in self.couplings.items():
            weights[i, j] = weights[j, i] = c[1, 1] - c[1, 0] - c[0, 1] + c[0, 0]
            biases[i] += c[1, 0] - c[0, 0]
            biases[j] += c[0, 1] - c[0, 0]
            offset -= c[0, 0]
        return BoltzmannMachine(weights, biases, visible=self._visible, names=self._names,
                                temperature=self._temperature, offset=offset)

    def to_markov_network(self):
        """The machine as a pgmpy ``DiscreteMarkovNetwork`` with its state names and the same Z(T).

        See :func:`pgm_energy.interop.pgmpy_potts.to_markov_network`.
        """
        from ..interop.pgmpy_potts import to_markov_network

        return to_markov_network(self)

    @classmethod
    def from_markov_network(cls, markov_network) -> "PottsMachine":
        """Exact conversion of any pairwise pgmpy ``DiscreteMarkovNetwork`` (any cardinalities).

        See :func:`pgm_energy.interop.pgmpy_potts.from_markov_network`.
        """
        from ..interop.pgmpy_potts import from_markov_network

        return from_markov_network(markov_network)

    @property
    def graph(self):
        """A new networkx ``Graph``: nodes carry ``cardinality``, ``fields``, ``state_names`` and ``visible``;
        edges carry ``couplings`` (the matrix oriented from the edge's first node, as ``graph.edges`` lists it).
        """
        import networkx as nx

        graph = nx.Graph(temperature=self._temperature, offset=self._offset)
        for i, name in enumerate(self._names):
            graph.add_node(name, cardinality=int(self._cardinalities[i]), fields=self.fields[i].copy(),
                           state_names=list(self._state_names[i]), visible=bool(self._visible[i]))
        for (i, j), matrix in self.couplings.items():
            graph.add_edge(self._names[i], self._names[j], couplings=matrix.copy())
        return graph

    # ------------------------------------------------------------------ files
    def _to_arrays(self) -> dict[str, np.ndarray]:
        return file_arrays(self)

    @classmethod
    def _from_arrays(cls, arrays) -> "PottsMachine":
        return cls(**arguments_from_file(arrays))

    def __repr__(self) -> str:
        return (
            f"PottsMachine(n_variables={self.n_variables}, cardinalities={_short(self.cardinalities)}, "
            f"n_edges={self.n_edges}, n_visible={self.n_visible}, temperature={self._temperature:g})"
        )


def _short(values: tuple[int, ...]) -> str:
    if len(values) <= 8:
        return repr(list(values))
    return f"[{', '.join(map(str, values[:6]))}, ... {len(values)} variables]"
