"""Matrix products whose left operand is mostly zeros: binary data and sampled 0/1 states.

Training data of binary RBMs are sparse (binarised MNIST: 13% of the pixels are on), and so
are the visible states of chains that model them. A product ``X @ W`` with such an ``X`` is a
sum of the rows of ``W`` picked by the non-zero entries of each row of ``X``; ``X' @ P`` is, for
each column ``i`` of ``X``, a sum of the rows of ``P`` picked by the non-zero entries of that
column. Both skip the zeros that a dense BLAS product multiplies, and win below a density of
about a third (float32, one BLAS thread; measured in docs/benchmarks.md). The callers count
the non-zeros first (:func:`index_rows`) and use BLAS above :data:`pgm_energy.learning._cd_engine`'s
limit.

Every product weights the picked rows by the entries of ``X`` (0/1 states give products by
1.0, which are exact), and sums them in a fixed order: four rows per pass as
``(a + b) + (c + d)``, then the rest one by one. Results are deterministic, whatever the
threads, and differ from BLAS's only in rounding.
"""

from numba import njit

__all__ = ["index_rows", "rows_product", "columns_product"]


@njit(cache=True, nogil=True)
def index_rows(values, index, counts):
    """``index[r, :counts[r]]`` = the columns of the non-zero entries of row ``r``; returns their total.

    Parameters
    ----------
    values : ndarray, shape (n_rows, n_columns)
    index : int32 ndarray, shape (>= n_rows, n_columns)
    counts : int64 ndarray, shape (>= n_rows,)

    Branch-free (a store every step, the count advances by the test): random 0/1 rows
    would mispredict every other branch.
    """
    total = 0
    n_rows, n_columns = values.shape
    for r in range(n_rows):
        row = values[r]
        where = index[r]
        count = 0
        for i in range(n_columns):
            where[count] = i
            count += 1 if row[i] != 0 else 0
        counts[r] = count
        total += count
    return total


@njit(cache=True, nogil=True)
def rows_product(values, index, counts, right, out):
    """``out = values @ right`` from the non-zero entries listed by :func:`index_rows`.

    Parameters
    ----------
    values : ndarray, shape (n_rows, n_inner)
    index, counts : from ``index_rows(values, index, counts)``
    right : ndarray, shape (n_inner, n_out), C-contiguous
    out : ndarray, shape (n_rows, n_out)
    """
    n_out = right.shape[1]
    for r in range(values.shape[0]):
        x = values[r]
        where = index[r]
        count = counts[r]
        target = out[r]
        for j in range(n_out):
            target[j] = 0.0
        t = 0
        while t + 4 <= count:
            # 2-d indexing, not row views: a view costs a reference-count update
            i0, i1, i2, i3 = where[t], where[t + 1], where[t + 2], where[t + 3]
            x0, x1, x2, x3 = x[i0], x[i1], x[i2], x[i3]
            for j in range(n_out):
                target[j] += (x0 * right[i0, j] + x1 * right[i1, j]) + (x2 * right[i2, j] + x3 * right[i3, j])
            t += 4
        while t < count:
            i0 = where[t]
            x0 = x[i0]
            for j in range(n_out):
                target[j] += x0 * right[i0, j]
            t += 1


@njit(cache=True, nogil=True)
def columns_product(values, index, counts, right, out, column_rows, column_counts):
    """``out = values.T @ right`` from the non-zero entries listed by :func:`index_rows`.

    Each row of ``out`` (one column of ``values``) is summed whole while it sits in the
    first-level cache, reading the rows of ``right`` it needs; the lists of those rows are
    built first, in row order, from ``index``.

    Parameters
    ----------
    values : ndarray, shape (n_rows, n_columns)
    index, counts : from ``index_rows(values, index, counts)``
    right : ndarray, shape (n_rows, n_out), C-contiguous
    out : ndarray, shape (n_columns, n_out)
    column_rows : int32 ndarray, shape (>= n_columns, >= n_rows)
        Scratch: the rows of each column's non-zero entries.
    column_counts : int64 ndarray, shape (>= n_columns,)
        Scratch.
    """
    n_rows, n_columns = values.shape
    n_out = right.shape[1]
    for i in range(n_columns):
        column_counts[i] = 0
    for r in range(n_rows):
        where = index[r]
        for t in range(counts[r]):
            i = where[t]
            column_rows[i, column_counts[i]] = r
            column_counts[i] += 1
    for i in range(n_columns):
        rows = column_rows[i]
        count = column_counts[i]
        target = out[i]
        for j in range(n_out):
            target[j] = 0.0
        t = 0
        while t + 4 <= count:
            r0, r1, r2, r3 = rows[t], rows[t + 1], rows[t + 2], rows[t + 3]
            x0, x1, x2, x3 = values[r0, i], values[r1, i], values[r2, i], values[r3, i]
            for j in range(n_out):
                target[j] += (x0 * right[r0, j] + x1 * right[r1, j]) + (x2 * right[r2, j] + x3 * right[r3, j])
            t += 4
        while t < count:
            r0 = rows[t]
            x0 = values[r0, i]
            for j in range(n_out):
                target[j] += x0 * right[r0, j]
            t += 1
