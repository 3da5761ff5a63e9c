"""General Boltzmann machines: any undirected graph of binary stochastic units."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._math import is_sparse, sigmoid
from .._validation import (
    check_energy_scale,
    check_finite_array,
    check_names,
    check_positive_temperature,
    check_sparse_matrix,
    check_states,
    describe,
)
from ..exceptions import ParameterTypeError, ValidationError
from ._base import (BOOLEAN, INTEGER, REAL, UndirectedModel, check_bias, check_file_members, check_visible, default_names,
                    file_member, file_names, file_scalar, readonly)
from ._symmetric import check_symmetric_weights
from ._ising import IsingModel, boltzmann_form, ising_form

__all__ = ["BoltzmannMachine", "IsingModel"]

#: members of a model file besides the weights
_FILE_MEMBERS = ("biases", "visible", "names", "temperature", "offset")
_SPARSE_MEMBERS = ("weights_data", "weights_indices", "weights_indptr")


class _CSRParts(NamedTuple):
    """The CSR arrays of a file, shaped like a scipy matrix for :func:`check_sparse_matrix`."""

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]
    format: str = "csr"


def _length(values) -> int | None:
    """Length of a vector-like ``values``, or None when it is not one (its own check says why)."""
    if isinstance(values, np.ndarray):
        return values.shape[0] if values.ndim == 1 else None
    try:
        return len(values) if not isinstance(values, (str, bytes, dict)) else None
    except TypeError:
        return None


class BoltzmannMachine(UndirectedModel):
    r"""A Boltzmann machine: an undirected graph of binary stochastic units.

    Units take states :math:`s_i \in \{0, 1\}`. The energy and distribution are

    .. math::

        E(s) = -\tfrac12 s^\top W s - b^\top s + \text{offset}, \qquad
        p(s) = e^{-E(s)/T} / Z(T),

    and the local field of unit *i* is :math:`z_i = b_i + \sum_j W_{ij} s_j`, so
    :math:`p(s_i = 1 \mid s_{-i}) = \sigma(z_i / T)`.

    Parameters
    ----------
    weights : array_like or scipy.sparse matrix, shape (n_units, n_units)
        Symmetric, zero diagonal, finite, real. Sparse input of any scipy format is kept sparse
        (CSR); its index arrays are checked before scipy uses them, duplicates add up.
    biases : array_like, shape (n_units,)
    visible : array_like of bool, shape (n_units,), optional
        Which units are visible (default: all).
    names : sequence of str, optional
        Unique unit names (default ``v0, v1, ...`` for visible and ``h0, ...`` for hidden units).
    temperature : float, default 1.0
    offset : float, default 0.0
        Constant added to every energy; it cancels in probabilities but is kept
        so conversions (Ising, pgmpy) are exact including log Z.

    Raises
    ------
    ValidationError
        For a non-square, asymmetric, non-finite, complex or non-zero-diagonal ``weights``
        (or a malformed sparse matrix), a wrong-length ``biases``/``visible``/``names``,
        ``temperature <= 0``, or parameters whose absolute values sum beyond
        ``MAX_ENERGY_SCALE`` (1e150: energies could overflow float64).

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy import BoltzmannMachine
    >>> bm = BoltzmannMachine([[0.0, 1.5], [1.5, 0.0]], [-0.5, 0.25])
    >>> float(bm.energy([1, 1]))
    -1.25
    """

    _FILE_KIND = "BoltzmannMachine"

    def __init__(self, weights, biases, *, visible=None, names=None, temperature=1.0, offset=0.0):
        self._weights = check_symmetric_weights(weights, n_units=_length(biases))
        n_units = self._weights.shape[0]
        self._biases = readonly(check_bias(biases, "biases", n_units, "weights", self._weights.shape))
        self._visible = check_visible(visible, n_units)
        self._names = default_names(self._visible) if names is None else check_names(names, n_units)
        self._temperature = check_positive_temperature(temperature)
        offset_array = check_finite_array(offset, "offset", ndim=0)
        self._offset = float(offset_array)
        self._energy_bound = check_energy_scale(
            {
                "weights": self._weights.data if self.is_sparse else self._weights,
                "biases": self._biases,
                "offset": offset_array,
            },
            "the BoltzmannMachine",
        )
        # a temperature so small that parameters / T overflow would turn every answer into NaN
        check_positive_temperature(self._temperature, energy_scale=self._energy_bound)
        self._freeze()

    # ------------------------------------------------------------------ parameters
    @property
    def weights(self):
        """Symmetric weight matrix, shape (n_units, n_units), read-only (dense or CSR).

        A sparse matrix is handed out as a new CSR object over the model's
        read-only arrays, so reassigning its attributes cannot change the model.
        """
        if self.is_sparse:
            import scipy.sparse as sp

            stored = self._weights
            return sp.csr_array((stored.data, stored.indices, stored.indptr), shape=stored.shape, copy=False)
        return self._weights

    @property
    def biases(self) -> np.ndarray:
        """Biases, shape (n_units,), read-only."""
        return self._biases

    @property
    def visible(self) -> np.ndarray:
        """Boolean mask of the visible units, shape (n_units,), read-only."""
        return self._visible

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    @property
    def offset(self) -> float:
        """Constant energy offset."""
        return self._offset

    @property
    def is_sparse(self) -> bool:
        """True when the weights are stored as a sparse CSR matrix."""
        return is_sparse(self._weights)

    @property
    def n_visible(self) -> int:
        return int(self._visible.sum())

    @property
    def n_hidden(self) -> int:
        return self.n_units - self.n_visible

    @property
    def visible_names(self) -> tuple[str, ...]:
        return tuple(n for n, v in zip(self._names, self._visible.tolist()) if v)

    @property
    def hidden_names(self) -> tuple[str, ...]:
        return tuple(n for n, v in zip(self._names, self._visible.tolist()) if not v)

    @property
    def n_edges(self) -> int:
        """Number of non-zero couplings (each undirected edge once)."""
        if self.is_sparse:
            return int(self._weights.nnz // 2)
        return int(np.count_nonzero(np.triu(self._weights, 1)))

    def dense_weights(self) -> np.ndarray:
        """A writable dense float64 copy of the weights, shape (n_units, n_units)."""
        return self._weights.toarray() if self.is_sparse else self._weights.copy()

    def _replace(self, **changes) -> "BoltzmannMachine":
        arguments = dict(
            weights=self._weights,
            biases=self._biases,
            visible=self._visible,
            names=self._names,
            temperature=self._temperature,
            offset=self._offset,
        )
        arguments.update(changes)
        weights = arguments.pop("weights")
        biases = arguments.pop("biases")
        return BoltzmannMachine(weights, biases, **arguments)

    def with_temperature(self, temperature) -> "BoltzmannMachine":
        """The same machine at another temperature."""
        return self._replace(temperature=temperature)

    # ------------------------------------------------------------------ energies
    def _products(self, batch: np.ndarray) -> np.ndarray:
        """W s for each row s of ``batch``: shape (n_states, n_units)."""
        return np.asarray(self._weights @ batch.T).T

    def local_fields(self, states) -> np.ndarray:
        """Local fields ``z = b + W s`` (temperature-independent).

        Parameters
        ----------
        states : array_like of 0/1, shape (n_units,) or (n_states, n_units)

        Returns
        -------
        ndarray, same shape as ``states``
        """
        batch, single = check_states(states, self.n_units)
        fields = self._biases + self._products(batch)
        return fields[0] if single else fields

    def energy(self, states):
        """Energy ``E(s) = -1/2 s^T W s - b^T s + offset``.

        Parameters
        ----------
        states : array_like of 0/1, shape (n_units,) or (n_states, n_units)

        Returns
        -------
        float or ndarray of shape (n_states,)
        """
        batch, single = check_states(states, self.n_units)
        energies = (
            -0.5 * np.einsum("ij,ij->i", batch, self._products(batch))
            - batch @ self._biases
            + self._offset
        )
        return float(energies[0]) if single else energies

    def unnormalized_log_probability(self, states):
        """``-E(s) / T``: log p(s) up to the constant log Z.

        Returns
        -------
        float or ndarray of shape (n_states,)
        """
        return self.energy(states) / -self._temperature

    def conditional_probabilities(self, states) -> np.ndarray:
        """``p(s_i = 1 | s_{-i}) = sigmoid(z_i / T)`` for every unit.

        Returns
        -------
        ndarray, same shape as ``states``
        """
        return sigmoid(self.local_fields(states) / self._temperature)

    # ------------------------------------------------------------------ Ising form
    def to_ising(self) -> IsingModel:
        """Exact Ising form over spins ``sigma = 2 s - 1``.

        Returns
        -------
        IsingModel
            ``(h, J, offset)`` with ``E(sigma) = -1/2 sigma^T J sigma - h^T sigma + offset``
            equal to this machine's energy for every state; ``J = W / 4`` keeps
            the storage (dense or CSR) of the weights.
        """
        return ising_form(self._weights, self._biases, self._offset)

    @classmethod
    def from_ising(cls, h, J, offset=0.0, *, visible=None, names=None, temperature=1.0) -> "BoltzmannMachine":
        """Build the machine whose energy equals the Ising energy for every state.

        Parameters
        ----------
        h : array_like, shape (n_units,)
        J : array_like or scipy.sparse matrix, shape (n_units, n_units)
            Symmetric, zero diagonal: ``E(sigma) = -1/2 sigma^T J sigma - h^T sigma + offset``.
        offset : float
        """
        weights, biases, bm_offset = boltzmann_form(h, J, offset)
        return cls(weights, biases, visible=visible, names=names, temperature=temperature, offset=bm_offset)

    @classmethod
    def hebbian(cls, patterns, *, names=None, temperature=1.0) -> "BoltzmannMachine":
        """A Hopfield memory storing ``patterns`` with Hebb's rule.

        With spins ``sigma = 2 s - 1`` the couplings are ``J = (1/n) sum_p sigma_p sigma_p^T``
        with a zero diagonal and no external field; the machine is that Ising model in
        binary units (:meth:`from_ising`), so at ``T -> 0`` asynchronous updates descend to
        stored patterns (and to spurious states: their mixtures and negations).

        Parameters
        ----------
        patterns : array_like of 0/1, shape (n_patterns, n_units)
        names : sequence of str, optional
        temperature : float, default 1.0

        Returns
        -------
        BoltzmannMachine
            All units visible.

        Examples
        --------
        >>> from pgm_energy import BoltzmannMachine
        >>> memory = BoltzmannMachine.hebbian([[1, 0, 1, 0], [1, 1, 0, 0]])
        >>> memory.n_units
        4
        """
        if is_sparse(patterns):
            # np.asarray would wrap it in a 0-d object array; refuse it rather than densify silently
            raise ParameterTypeError(
                f"patterns must be a dense array of 0/1 values, got a sparse {type(patterns).__name__} of shape "
                f"{patterns.shape}; pass patterns.toarray()"
            )
        try:
            shape = np.shape(patterns)
        except (TypeError, ValueError):  # ragged nesting: check_states names it below
            shape = ()
        batch, _ = check_states(patterns, shape[-1] if shape else 0, "patterns")
        if batch.shape[0] == 0 or batch.shape[1] == 0:
            raise ValidationError(f"patterns must hold at least one pattern of at least one unit, got shape {batch.shape}")
        spins = 2.0 * batch - 1.0
        n_units = spins.shape[1]
        couplings = spins.T @ spins / n_units
        np.fill_diagonal(couplings, 0.0)
        return cls.from_ising(np.zeros(n_units), couplings, 0.0, names=names, temperature=temperature)

    # ------------------------------------------------------------------ learning
    def fit(self, data, *, trainer=None, visible=None, **fit_options) -> "BoltzmannMachine":
        """Train this machine on ``data`` (the pgmpy way) and return the trained machine.

        Parameters
        ----------
        data : array_like of 0/1, shape (n_samples, n_visible), or pandas.DataFrame
            Columns in the order of the visible units (or named by them).
        trainer : BoltzmannLearning, optional
            The training recipe (default ``BoltzmannLearning()``).
        visible : sequence of str or int, or boolean mask, optional
            Which units the data clamps (default: this machine's ``visible`` mask).
        **fit_options
            Passed to ``trainer.fit`` (``rng``, ``validation``, ``callbacks``, ``progress``,
            ``resume_from``).

        Returns
        -------
        BoltzmannMachine
            A new machine (this one is unchanged); use ``trainer.fit`` for the history.
        """
        from ..learning.boltzmann import BoltzmannLearning

        if trainer is None:
            trainer = BoltzmannLearning()
        elif not isinstance(trainer, BoltzmannLearning):
            raise ParameterTypeError(f"trainer must be a BoltzmannLearning, got {describe(trainer)}")
        return trainer.fit(self, data, visible=visible, **fit_options).model

    # ------------------------------------------------------------------ graphs
    @classmethod
    def from_networkx(cls, graph, *, nodes=None, sparse=None, default_weight=None) -> "BoltzmannMachine":
        """Build a machine from a networkx graph (see :func:`pgm_energy.interop.networkx.from_networkx`)."""
        from ..interop.networkx import from_networkx

        return from_networkx(graph, nodes=nodes, sparse=sparse, default_weight=default_weight)

    @classmethod
    def from_markov_network(cls, markov_network) -> "BoltzmannMachine":
        """Exact conversion of a binary pairwise pgmpy ``DiscreteMarkovNetwork``.

        See :func:`pgm_energy.interop.pgmpy.from_markov_network`.
        """
        from ..interop.pgmpy import from_markov_network

        return from_markov_network(markov_network)

    # ------------------------------------------------------------------ files
    def _to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            "biases": self._biases,
            "visible": self._visible,
            "names": np.array(self._names, dtype=str),
            "temperature": np.float64(self._temperature),
            "offset": np.float64(self._offset),
        }
        if self.is_sparse:
            arrays.update(
                weights_data=self._weights.data,
                weights_indices=self._weights.indices,
                weights_indptr=self._weights.indptr,
            )
        else:
            arrays["weights"] = self._weights
        return arrays

    @classmethod
    def _from_arrays(cls, arrays) -> "BoltzmannMachine":
        biases = file_member(arrays, "biases", ndim=1)
        n_units = biases.shape[0]
        if "weights" in arrays:
            check_file_members(arrays, _FILE_MEMBERS + ("weights",))
            weights = file_member(arrays, "weights", ndim=2)
        else:
            import scipy.sparse as sp

            check_file_members(arrays, _FILE_MEMBERS + _SPARSE_MEMBERS)
            data, indices, indptr = (
                file_member(arrays, key, ndim=1, kinds=kinds)
                for key, kinds in zip(_SPARSE_MEMBERS, (REAL, INTEGER, INTEGER))
            )
            # the CSR layout is checked with NumPy before scipy is given it (a bad index would crash)
            carrier = _CSRParts(data, indices, indptr, (n_units, n_units))
            check_sparse_matrix(carrier, "weights")
            weights = sp.csr_array((data, indices, indptr), shape=(n_units, n_units))
        return cls(
            weights,
            biases,
            visible=file_member(arrays, "visible", ndim=1, kinds=BOOLEAN),
            names=file_names(arrays, "names"),
            temperature=file_scalar(arrays, "temperature"),
            offset=file_scalar(arrays, "offset"),
        )

    def __repr__(self) -> str:
        storage = "sparse" if self.is_sparse else "dense"
        return (
            f"BoltzmannMachine(n_units={self.n_units}, n_visible={self.n_visible}, "
            f"n_edges={self.n_edges}, {storage}, temperature={self._temperature:g})"
        )
