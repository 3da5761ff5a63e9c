"""The check of a symmetric, zero-diagonal weight matrix (dense or sparse) of a Boltzmann machine."""

from __future__ import annotations

import numpy as np

from .._math import is_sparse
from .._validation import check_finite_array, check_sparse_matrix
from ..exceptions import ValidationError
from ._base import readonly

__all__ = ["check_symmetric_weights"]


def check_symmetric_weights(weights, name: str = "weights", n_units: int | None = None):
    """Validate a symmetric, zero-diagonal, finite square weight matrix called ``name``.

    ``n_units`` (the length of the biases, when known) is checked against a sparse
    matrix's shape before the matrix is converted, so a shape that cannot be right
    does not allocate anything.
    """
    if is_sparse(weights):
        import scipy.sparse as sp  # only sparse models pay for importing scipy.sparse

        # Every index is checked with NumPy before scipy's unchecked compiled code sees the matrix.
        rows, cols, values, shape = check_sparse_matrix(weights, name)
        if shape[0] != shape[1] or shape[0] == 0:
            raise ValidationError(f"{name} must be a non-empty square matrix, got shape {shape}")
        if n_units is not None and shape[0] != n_units:
            raise ValidationError(f"{name} has shape {shape} but biases has {n_units} entries")
        matrix = sp.coo_array((values, (rows, cols)), shape=shape).tocsr()
        matrix.sum_duplicates()
        if not np.all(np.isfinite(matrix.data)):
            raise ValidationError(f"{name} must be finite, got NaN or inf entries")
        matrix.eliminate_zeros()
        matrix.sort_indices()
        diagonal = matrix.diagonal()
        if np.any(diagonal != 0):
            i = int(np.flatnonzero(diagonal)[0])
            raise ValidationError(
                f"{name} must have a zero diagonal (no self-connections), got {name}[{i}, {i}] = {diagonal[i]!r}"
            )
        difference = abs(matrix - matrix.T)
        if difference.nnz and difference.max() != 0:
            rows, cols = difference.nonzero()
            i, j = int(rows[0]), int(cols[0])
            raise ValidationError(
                f"{name} must be symmetric, got {name}[{i}, {j}] = {matrix[i, j]!r} but "
                f"{name}[{j}, {i}] = {matrix[j, i]!r}; use ({name} + {name}.T) / 2 to symmetrize"
            )
        for part in (matrix.data, matrix.indices, matrix.indptr):
            readonly(part)
        return matrix
    matrix = check_finite_array(weights, name, ndim=2)
    if matrix.shape[0] != matrix.shape[1] or matrix.shape[0] == 0:
        raise ValidationError(f"{name} must be a non-empty square matrix, got shape {matrix.shape}")
    diagonal = np.diagonal(matrix)
    if np.any(diagonal != 0):
        i = int(np.flatnonzero(diagonal)[0])
        raise ValidationError(
            f"{name} must have a zero diagonal (no self-connections), got {name}[{i}, {i}] = {diagonal[i]!r}"
        )
    asymmetric = np.argwhere(matrix != matrix.T)
    if asymmetric.size:
        i, j = (int(k) for k in asymmetric[0])
        raise ValidationError(
            f"{name} must be symmetric, got {name}[{i}, {j}] = {matrix[i, j]!r} but "
            f"{name}[{j}, {i}] = {matrix[j, i]!r}; use ({name} + {name}.T) / 2 to symmetrize"
        )
    return readonly(matrix)
