"""Log-space helpers of the enumeration kernels: values, no overflow, and the streamed sum's bits."""

import math

import numpy as np
from numba import njit
from scipy.special import logsumexp

from pgm_energy._kernels.logspace import add_term, log_sum_exp, log_weight, softplus, softplus_and_sigmoid


@njit(cache=False)
def _streamed(xs, values):
    """The streamed log-sum-exp through log_weight/add_term: (log total, weighted mean of the rows of values)."""
    top = -np.inf
    total = 0.0
    sums = np.zeros(values.shape[1])
    for t in range(xs.shape[0]):
        top, scale, weight = log_weight(xs[t], top)
        total = total * scale + weight
        add_term(sums, values[t], scale, weight)
    return top + math.log(total), sums / total


@njit(cache=False)
def _streamed_by_branches(xs, values):
    """The same sums written with a branch per case (the enumeration kernels' earlier form)."""
    top = -np.inf
    total = 0.0
    sums = np.zeros(values.shape[1])
    for t in range(xs.shape[0]):
        x = xs[t]
        if x > top:
            scale = math.exp(top - x)
            total = total * scale + 1.0
            for j in range(sums.shape[0]):
                sums[j] = sums[j] * scale + values[t, j]
            top = x
        else:
            weight = math.exp(x - top)
            total += weight
            for j in range(sums.shape[0]):
                sums[j] += weight * values[t, j]
    return top + math.log(total), sums / total


@njit(cache=False)
def _apply(f, xs):
    out = np.empty(xs.shape[0])
    for t in range(xs.shape[0]):
        out[t] = f(xs[t])
    return out


@njit(cache=False)
def _softplus_pairs(xs):
    out = np.empty((xs.shape[0], 2))
    for t in range(xs.shape[0]):
        out[t, 0], out[t, 1] = softplus_and_sigmoid(xs[t])
    return out


def test_streamed_sum_has_the_bits_of_the_branchy_form_and_the_right_value():
    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.normal(0, 30, 500), np.sort(rng.normal(0, 5, 100))])  # many new maxima
    values = rng.normal(size=(xs.shape[0], 3))
    log_total, mean = _streamed(xs, values)
    expected_log, expected_mean = _streamed_by_branches(xs, values)
    assert log_total == expected_log
    np.testing.assert_array_equal(mean, expected_mean)
    np.testing.assert_allclose(log_total, logsumexp(xs), rtol=1e-13)
    weights = np.exp(xs - logsumexp(xs))
    np.testing.assert_allclose(mean, weights @ values, rtol=1e-10, atol=1e-12)


def test_log_sum_exp_and_softplus_match_numpy_without_overflow():
    rng = np.random.default_rng(1)
    values = rng.normal(0, 400, 1000)
    np.testing.assert_allclose(log_sum_exp(values), logsumexp(values), rtol=1e-13)
    xs = np.concatenate([rng.normal(0, 20, 1000), [0.0, -0.0, 700.0, -700.0, 1e300, -1e300]])
    expected = np.logaddexp(0.0, xs)
    np.testing.assert_allclose(_apply(softplus, xs), expected, rtol=1e-14, atol=1e-300)
    pairs = _softplus_pairs(xs)
    np.testing.assert_array_equal(pairs[:, 0], _apply(softplus, xs))
    with np.errstate(over="ignore"):
        sigmoid = 1.0 / (1.0 + np.exp(-xs))
    np.testing.assert_allclose(pairs[:, 1], sigmoid, rtol=1e-14, atol=1e-300)
