"""The fixed structure of a Boltzmann machine under Boltzmann learning, and its weights as the kernels read them.

Only the couplings of the model's graph are learned (the non-zero pattern of the initial
weights): :class:`BoltzmannGraph` holds those edges, the visible units and the symmetric CSR
pattern, and the parameters are a vector of edge weights; :func:`kernel_weights` turns them
into the weight arrays of :mod:`pgm_energy._kernels.gibbs` (dense or CSR, by the same density
rule as the samplers' layout, :data:`pgm_energy.samplers._layout.CSR_DENSITY`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..samplers._layout import CSR_DENSITY, Layout

__all__ = ["BoltzmannGraph", "model_graph", "edges_graph", "dense_weights", "csr_data", "kernel_weights", "kernel_layout"]


class BoltzmannGraph(NamedTuple):
    """The fixed structure of a machine under training: its edges, visible units and kernel storage.

    Attributes
    ----------
    n_units : int
    rows, cols : ndarray of int64, shape (n_edges,)
        The learned couplings ``(i, j)``, ``i < j``, in CSR (row-major) order of the upper triangle.
    visible, hidden : ndarray of int64
        Indices of the visible (clamped in the data phase) and hidden units, ascending.
    indptr, indices : ndarray of int64, shapes (n_units + 1,) and (2 n_edges,)
        Symmetric CSR pattern of the weights (both directions of every edge, indices sorted).
    entry_edge : ndarray of int64, shape (2 n_edges,)
        Edge of each CSR entry, so the CSR data is ``edge_weights[entry_edge]``.
    dense : bool
        Whether the Gibbs kernels read a dense matrix (more than 25% non-zeros) or the CSR arrays.
    """

    n_units: int
    rows: np.ndarray
    cols: np.ndarray
    visible: np.ndarray
    hidden: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    entry_edge: np.ndarray
    dense: bool

    @property
    def n_edges(self) -> int:
        return int(self.rows.shape[0])


def model_graph(model, visible: np.ndarray) -> tuple[BoltzmannGraph, np.ndarray]:
    """The graph of ``model``'s non-zero couplings with the units of mask ``visible`` clamped, and its edge weights."""
    import scipy.sparse as sp

    n_units = model.n_units
    upper = sp.triu(sp.csr_array(model.weights), k=1, format="csr")
    upper.sum_duplicates()
    upper.sort_indices()
    rows = np.repeat(np.arange(n_units, dtype=np.int64), np.diff(upper.indptr))
    graph = edges_graph(n_units, rows, upper.indices, visible)
    return graph, np.array(upper.data, dtype=np.float64)


def edges_graph(n_units: int, rows, cols, visible: np.ndarray) -> BoltzmannGraph:
    """The :class:`BoltzmannGraph` of edges ``(rows[e], cols[e])`` (checked: ``rows < cols``, row-major order)."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    cols = np.ascontiguousarray(cols, dtype=np.int64)
    n_edges = rows.shape[0]
    # Symmetric CSR: each edge in both directions, sorted by (row, column).
    both_rows = np.concatenate([rows, cols])
    both_cols = np.concatenate([cols, rows])
    both_edges = np.concatenate([np.arange(n_edges), np.arange(n_edges)]).astype(np.int64)
    order = np.lexsort((both_cols, both_rows))
    counts = np.bincount(both_rows, minlength=n_units)
    return BoltzmannGraph(
        n_units=int(n_units),
        rows=rows,
        cols=cols,
        visible=np.flatnonzero(visible).astype(np.int64),
        hidden=np.flatnonzero(~np.asarray(visible, dtype=bool)).astype(np.int64),
        indptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        indices=np.ascontiguousarray(both_cols[order]),
        entry_edge=np.ascontiguousarray(both_edges[order]),
        dense=2 * n_edges > CSR_DENSITY * n_units * n_units,
    )


def dense_weights(graph: BoltzmannGraph, edge_weights: np.ndarray) -> np.ndarray:
    """The symmetric weight matrix, shape (n_units, n_units), C-contiguous float64."""
    matrix = np.zeros((graph.n_units, graph.n_units))
    matrix[graph.rows, graph.cols] = edge_weights
    matrix[graph.cols, graph.rows] = edge_weights
    return matrix


def csr_data(graph: BoltzmannGraph, edge_weights: np.ndarray) -> np.ndarray:
    """The CSR data array (in the order of ``graph.indices``) for ``edge_weights``."""
    return np.ascontiguousarray(edge_weights[graph.entry_edge], dtype=np.float64)


def kernel_layout(graph: BoltzmannGraph, edge_weights: np.ndarray, biases: np.ndarray) -> Layout:
    """The parameters as the samplers' :class:`~pgm_energy.samplers._layout.Layout` of a machine (no padded rows).

    The same arrays the samplers build for a model (dense, or CSR with the pattern of the graph),
    rebuilt from the edge weights after every update; only the weights change, not the pattern.
    """
    empty_int = np.zeros(0, dtype=np.int64)
    if graph.dense:
        return Layout(True, empty_int, empty_int, np.zeros(0), dense_weights(graph, edge_weights), biases, empty_int,
                      np.zeros(0))
    return Layout(False, graph.indptr, graph.indices, csr_data(graph, edge_weights), np.zeros((0, 0)), biases,
                  empty_int, np.zeros(0))


def kernel_weights(graph: BoltzmannGraph, edge_weights: np.ndarray):
    """``(indptr, indices, data, dense_w, dense)`` as :mod:`pgm_energy._kernels.gibbs` reads them."""
    return kernel_layout(graph, edge_weights, np.zeros(0)).weight_arrays
