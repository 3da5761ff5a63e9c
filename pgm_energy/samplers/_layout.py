"""The weight layout of a Boltzmann machine as the single-site kernels read it, cached per model.

Models are immutable, so everything here is computed once per model object and kept in
weak-keyed caches (an entry goes when its model does): the flat weight arrays
(:func:`layout_of`), the greedy colouring (:func:`colour_classes`), and the general machine
equivalent to a restricted one (:func:`as_boltzmann_machine`), so that annealing and tempering
an RBM reuse one conversion and therefore one layout.
"""

from __future__ import annotations

import weakref
from typing import NamedTuple

import numpy as np

from .._math import is_sparse
from ..models import BoltzmannMachine, RestrictedBoltzmannMachine

__all__ = ["Layout", "as_boltzmann_machine", "colour_classes", "colouring_of_pattern", "layout_of"]

#: weights with at most this fraction of non-zero entries are stored as CSR in the kernels
CSR_DENSITY = 0.25

_LAYOUTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_COLOURINGS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_GENERAL: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class Layout(NamedTuple):
    """A Boltzmann machine as the flat arrays the kernels read (energies in model units, T = 1)."""

    dense: bool
    indptr: np.ndarray  # int64 (n_units + 1,), or empty when dense
    indices: np.ndarray  # int64
    data: np.ndarray  # float64
    dense_w: np.ndarray  # float64 (n_units, n_units) C-contiguous, or (0, 0) when CSR
    biases: np.ndarray  # float64 (n_units,)
    pad_indices: np.ndarray  # int64 (n_units * width,): CSR rows padded for the lane kernels, or empty
    pad_data: np.ndarray  # float64, same shape

    @property
    def weight_arrays(self) -> tuple:
        """``(indptr, indices, data, dense_w, dense)``: the weight arguments every single-site kernel takes."""
        return self.indptr, self.indices, self.data, self.dense_w, self.dense

    @property
    def weights(self):
        """:attr:`weight_arrays` as the kernels' :class:`~pgm_energy._kernels.gibbs.Weights` bundle."""
        from .._kernels.gibbs import Weights

        return Weights(*self.weight_arrays)

    def padded(self, n_units: int):
        """The padded rows as the lane kernels' :class:`~pgm_energy._kernels.gibbs.PaddedRows` (width 0: none)."""
        from .._kernels.gibbs import PaddedRows, padded_width

        return PaddedRows(self.pad_indices, self.pad_data, padded_width(self.pad_indices, n_units))

    @property
    def storage(self) -> str:
        return "dense" if self.dense else "csr"

    def sweep_cost(self, n_chains: int, n_free: int) -> float:
        """Unit updates of one sweep of ``n_chains`` chains, at most (a first kernel call's size)."""
        per_update = self.dense_w.shape[0] if self.dense else self.data.shape[0] / max(self.biases.shape[0], 1)
        return n_chains * n_free * (1.0 + per_update)


def as_boltzmann_machine(model) -> BoltzmannMachine:
    """``model`` itself, or the general machine equal to the restricted ``model`` (visible units first), cached."""
    if not isinstance(model, RestrictedBoltzmannMachine):
        return model
    general = _GENERAL.get(model)
    if general is None:
        general = model.to_boltzmann_machine()
        _GENERAL[model] = general
    return general


def _csr_arrays(weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, indices, data)`` of ``weights`` (dense or scipy.sparse), indices sorted in each row.

    A dense array is converted with NumPy alone: importing scipy.sparse would slow down the
    first sample of a process.
    """
    if is_sparse(weights):
        import scipy.sparse as sp

        csr = sp.csr_array(weights)
        csr.sort_indices()
        return csr.indptr.astype(np.int64), csr.indices.astype(np.int64), np.array(csr.data, dtype=np.float64)
    rows, cols = np.nonzero(weights)  # row-major order: sorted within each row
    indptr = np.zeros(weights.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=weights.shape[0]), out=indptr[1:])
    return indptr, cols.astype(np.int64), np.array(weights[rows, cols], dtype=np.float64)


def layout_of(model: BoltzmannMachine) -> Layout:
    """Flat arrays of ``model``: CSR when at most :data:`CSR_DENSITY` of the weights are non-zero, else dense."""
    layout = _LAYOUTS.get(model)
    if layout is not None:
        return layout
    n = model.n_units
    weights = model.weights
    nnz = weights.nnz if is_sparse(weights) else int(np.count_nonzero(weights))
    biases = np.array(model.biases, dtype=np.float64)
    if nnz <= CSR_DENSITY * n * n:
        from .._kernels.gibbs import padded_rows

        indptr, indices, data = _csr_arrays(weights)
        pad_indices, pad_data, _ = padded_rows(indptr, indices, data)
        layout = Layout(False, indptr, indices, data, np.zeros((0, 0)), biases, pad_indices, pad_data)
    else:
        dense = weights.toarray() if is_sparse(weights) else weights
        empty_int = np.zeros(0, dtype=np.int64)
        layout = Layout(
            True, empty_int, empty_int.copy(), np.zeros(0), np.array(dense, dtype=np.float64, order="C"), biases,
            empty_int.copy(), np.zeros(0),
        )
    _LAYOUTS[model] = layout
    return layout


def _two_colouring(pattern) -> np.ndarray | None:
    """A proper 2-colouring of the graph of the CSR ``pattern`` if it is bipartite, else None.

    Uses the bipartite double cover (node ``i`` -> ``i`` and ``i + n``, edge ``ij`` ->
    ``i -- j+n`` and ``i+n -- j``): a component is bipartite iff ``i`` and ``i + n``
    fall in different components, and ``[label(i) > label(i + n)]`` then alternates
    along every edge. One C call (SciPy) instead of a Python-level colouring.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    n = pattern.shape[0]
    cover = sp.bmat([[None, pattern], [pattern, None]], format="csr")
    _, labels = connected_components(cover, directed=False)
    if np.any(labels[:n] == labels[n:]):
        return None
    return (labels[:n] > labels[n:]).astype(np.int64)


def _colouring(model: BoltzmannMachine) -> np.ndarray:
    """Colour of each unit: 2 colours for bipartite graphs, else networkx's greedy colouring.

    Bipartite graphs (lattices, RBMs) are 2-coloured directly (:func:`_two_colouring`,
    the colouring networkx's BFS-order greedy colouring gives too, much faster); other
    graphs use ``networkx.greedy_color`` with the ``connected_sequential_bfs`` strategy.
    """
    colours = _COLOURINGS.get(model)
    if colours is not None:
        return colours
    import scipy.sparse as sp

    weights = model.weights
    pattern = sp.csr_array(weights != 0) if not sp.issparse(weights) else sp.csr_array(
        (np.ones(weights.nnz, dtype=np.int8), weights.indices, weights.indptr), shape=weights.shape
    )
    colours = colouring_of_pattern(pattern)
    _COLOURINGS[model] = colours
    return colours


def colouring_of_pattern(pattern) -> np.ndarray:
    """Colour of each node of the symmetric CSR ``pattern`` (shape (n, n)): 2 colours when bipartite, else greedy.

    See :func:`_colouring`; shared with the Potts machines' chromatic scan.
    """
    colours = _two_colouring(pattern)
    if colours is None:
        import networkx as nx

        rows, cols = pattern.nonzero()
        graph = nx.Graph()
        graph.add_nodes_from(range(pattern.shape[0]))
        upper = rows < cols
        graph.add_edges_from(zip(rows[upper].tolist(), cols[upper].tolist()))
        assignment = nx.greedy_color(graph, strategy="connected_sequential_bfs")
        colours = np.array([assignment[i] for i in range(pattern.shape[0])], dtype=np.int64)
    return colours


def colour_classes(model: BoltzmannMachine, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Colour classes of the ``free`` units of ``model``, units ascending within a class.

    Returns
    -------
    class_ptr : int64 ndarray, shape (n_colours + 1,)
        Class ``k`` is ``class_units[class_ptr[k]:class_ptr[k + 1]]``.
    class_units : int64 ndarray, shape (n_free,)
    """
    colours = _colouring(model)[free]
    order = np.lexsort((free, colours))
    units = np.ascontiguousarray(free[order])
    counts = np.bincount(colours, minlength=int(colours.max(initial=-1)) + 1)
    counts = counts[counts > 0]
    class_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return class_ptr, units
