"""The kernels' clamped exponential and approximate logarithm against NumPy."""

import numpy as np
from numba import njit

from pgm_energy._kernels.expo import EXP_LIMIT, LOG_ERROR, exp_clamped, log_approx


@njit(cache=False)
def _apply_exp(x, out):
    for i in range(x.shape[0]):
        out[i] = exp_clamped(x[i])


@njit(cache=False)
def _apply_log(x, out):
    for i in range(x.shape[0]):
        out[i] = log_approx(x[i])


def test_exp_clamped_is_within_a_few_ulp_and_clamps():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-EXP_LIMIT, EXP_LIMIT, 200_000), np.linspace(-EXP_LIMIT, EXP_LIMIT, 10_001), [0.0, -0.0, 1e-300]])
    out = np.empty_like(x)
    _apply_exp(x, out)
    expected = np.exp(x)
    assert np.max(np.abs(out - expected) / np.spacing(expected)) <= 4
    far = np.array([-1e300, -745.0, -41.0, 41.0, 800.0, np.inf, -np.inf])
    out = np.empty_like(far)
    _apply_exp(far, out)
    np.testing.assert_allclose(out, np.exp(np.clip(far, -EXP_LIMIT, EXP_LIMIT)), rtol=1e-15)


def test_log_approx_error_bound_on_the_uniforms_and_their_odds():
    rng = np.random.default_rng(1)
    u = rng.integers(1, 2**53, 200_000) * 2.0**-53
    edges = np.array([2.0**-53, 0.5, 1 - 2.0**-53, np.nextafter(0.5, 0), np.nextafter(0.5, 1)])
    x = np.concatenate([u, u / (1 - u), edges, edges / (1 - edges), 2.0 ** np.arange(-60, 60), 1 + np.arange(-4, 5) * 2.0**-52])
    out = np.empty_like(x)
    _apply_log(x, out)
    assert np.max(np.abs(out - np.log(x))) <= LOG_ERROR / 10
