"""Moment statistics over the edges of a sparse Boltzmann machine (for Boltzmann learning).

Dense machines get their pair statistics from BLAS products (``S W`` for the fields,
``S.T @ X`` for the pairs); a sparse machine with many units would waste ``n_units**2``
work and memory on couplings that do not exist, and NumPy would build several
``n_samples x n_units`` temporaries, so its statistics are fused and summed edge by edge here.
"""

from typing import NamedTuple

import numpy as np
from numba import njit

__all__ = ["CSRWeights", "Edges", "csr_moment_sums"]


class CSRWeights(NamedTuple):
    """Symmetric weights in CSR: ``indptr`` (int64, n_units + 1), ``indices`` (int64), ``data`` (float64)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray


class Edges(NamedTuple):
    """The edges ``(rows[e], cols[e])`` whose moments are summed (int64 arrays of one length)."""

    rows: np.ndarray
    cols: np.ndarray


@njit(cache=True, nogil=True)
def csr_moment_sums(states, clamped, conditional, beta, biases, weights, edges, pair_sums, mean_sums):
    """Sums over samples of the moment estimates of a sparse machine, without ``n_samples x n_units`` temporaries.

    With ``conditional`` each free unit's state is replaced by its conditional mean
    ``x_i = sigmoid(beta z_i)``, ``z_i = b_i + sum_j W_ij s_j`` (``x_i = s_i`` on clamped units);
    otherwise ``x = s``. Then ``mean_sums[i] = sum_n x_i`` and
    ``pair_sums[e] = sum_n s_i x_j + x_i s_j`` for edge ``e = (i, j)``.

    Parameters
    ----------
    states : uint8, shape (n_samples, n_units)
    clamped : bool, shape (n_units,)
    conditional : bool
    beta : float
    biases : float64, shape (n_units,)
    weights : CSRWeights
    edges : Edges, n_edges each
    pair_sums : float64, shape (n_edges,), overwritten
    mean_sums : float64, shape (n_units,), overwritten
    """
    indptr, indices, data = weights
    rows, cols = edges
    n_samples, n_units = states.shape
    x = np.empty(n_units)
    s = np.empty(n_units)
    pair_sums[:] = 0.0
    mean_sums[:] = 0.0
    for n in range(n_samples):
        for i in range(n_units):
            s[i] = states[n, i]
        for i in range(n_units):
            if conditional and not clamped[i]:
                z = biases[i]
                for k in range(indptr[i], indptr[i + 1]):
                    z += data[k] * s[indices[k]]
                y = beta * z
                # sigmoid without overflow: exp of a non-positive number only
                if y >= 0.0:
                    x[i] = 1.0 / (1.0 + np.exp(-y))
                else:
                    e = np.exp(y)
                    x[i] = e / (1.0 + e)
            else:
                x[i] = s[i]
            mean_sums[i] += x[i]
        for e in range(rows.shape[0]):
            i = rows[e]
            j = cols[e]
            pair_sums[e] += s[i] * x[j] + x[i] * s[j]
