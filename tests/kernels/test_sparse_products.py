"""Products with a sparse left operand (pgm_energy._kernels.sparse_products) against NumPy's dense products."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgm_energy._kernels.sparse_products import columns_product, index_rows, rows_product


def _operands(seed, n_rows, n_inner, n_out, density, real, dtype):
    g = np.random.default_rng(seed)
    values = (g.random((n_rows, n_inner)) < density).astype(dtype)
    if real:  # Bernoulli means: real values in [0, 1] where non-zero
        values *= g.random((n_rows, n_inner)).astype(dtype)
    return values, g.normal(size=(n_inner, n_out)).astype(dtype), g.normal(size=(n_rows, n_out)).astype(dtype)


def _index(values):
    index = np.full((values.shape[0] + 2, values.shape[1]), -7, dtype=np.int32)  # larger than needed, as the engine's
    counts = np.full(values.shape[0] + 2, -7, dtype=np.int64)
    total = index_rows(values, index, counts)
    return index, counts, total


@given(seed=st.integers(0, 2**32 - 1), n_rows=st.integers(1, 9), n_inner=st.integers(1, 13),
       n_out=st.integers(1, 11), density=st.sampled_from([0.0, 0.1, 0.5, 1.0]), real=st.booleans(),
       dtype=st.sampled_from([np.float32, np.float64]))
@settings(max_examples=60, deadline=None)
def test_products_equal_the_dense_products(seed, n_rows, n_inner, n_out, density, real, dtype):
    values, right, right_rows = _operands(seed, n_rows, n_inner, n_out, density, real, dtype)
    index, counts, total = _index(values)
    assert total == np.count_nonzero(values)
    for r in range(n_rows):  # the non-zero columns of each row, in order
        np.testing.assert_array_equal(index[r, :counts[r]], np.flatnonzero(values[r]))
    out = np.full((n_rows, n_out), np.nan, dtype=dtype)  # every entry is written, zero rows included
    rows_product(values, index, counts, right, out)
    tolerance = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out, values.astype(float) @ right.astype(float), **tolerance)
    grad = np.full((n_inner, n_out), np.nan, dtype=dtype)
    column_rows = np.empty((n_inner, n_rows), dtype=np.int32)
    column_counts = np.empty(n_inner, dtype=np.int64)
    columns_product(values, index, counts, right_rows, grad, column_rows, column_counts)
    np.testing.assert_allclose(grad, values.T.astype(float) @ right_rows.astype(float), **tolerance)


def test_binary_rows_sum_in_the_documented_order():
    # 0/1 rows: the picked rows are added four at a time as (a + b) + (c + d), then one by one;
    # the products by 1.0 are exact, so the bits follow from that order alone.
    values = np.zeros((1, 6), dtype=np.float32)
    values[0, [0, 1, 2, 3, 5]] = 1.0
    right = np.array([[1e8], [1.0], [-1e8], [1.0], [7.0], [0.5]], dtype=np.float32)
    index, counts, _ = _index(values)
    out = np.empty((1, 1), dtype=np.float32)
    rows_product(values, index, counts, right, out)
    a, b, c, d, e = (np.float32(x) for x in (1e8, 1.0, -1e8, 1.0, 0.5))
    assert out[0, 0] == (np.float32(0) + ((a + b) + (c + d))) + e


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_results_do_not_depend_on_the_buffers_sizes_or_previous_contents(dtype):
    values, right, right_rows = _operands(3, 12, 30, 8, 0.2, True, dtype)
    results = []
    for extra in (0, 5):
        index = np.full((12 + extra, 30 + extra), 99, dtype=np.int32)
        counts = np.full(12 + extra, 99, dtype=np.int64)
        index_rows(values, index, counts)
        grad = np.full((30, 8), 3.0, dtype=dtype)
        columns_product(values, index, counts, right_rows, grad, np.full((30 + extra, 12 + extra), 5, dtype=np.int32),
                        np.full(30 + extra, 5, dtype=np.int64))
        results.append(grad)
    np.testing.assert_array_equal(results[0], results[1])
