"""Log-space arithmetic shared by the enumeration kernels: softplus, log-sum-exp, streamed log-sum-exp.

Nothing here may overflow for any finite input: every ``exp`` is of a non-positive number.
"""

import math

import numpy as np
from numba import njit

__all__ = ["softplus", "softplus_and_sigmoid", "log_sum_exp", "log_weight", "add_term"]


@njit(cache=True, nogil=True, inline="always")
def softplus_and_sigmoid(x):
    """``(log(1 + e^x), 1 / (1 + e^-x))``, stable for any finite ``x`` (one ``exp`` of ``-|x|``)."""
    e = math.exp(-abs(x))
    if x >= 0.0:
        return x + math.log1p(e), 1.0 / (1.0 + e)
    return math.log1p(e), e / (1.0 + e)


@njit(cache=True, nogil=True, inline="always")
def softplus(x):
    """``log(1 + e^x)`` without overflow for any finite ``x``."""
    if x >= 0.0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


@njit(cache=True, nogil=True)
def log_sum_exp(values):
    """``log sum_t exp(values[t])`` of a 1-d array, shifted by its maximum (``-inf`` when empty)."""
    top = -np.inf
    for t in range(values.shape[0]):
        if values[t] > top:
            top = values[t]
    total = 0.0
    for t in range(values.shape[0]):
        total += math.exp(values[t] - top)
    return top + math.log(total)


@njit(cache=True, nogil=True, inline="always")
def log_weight(x, top):
    """One term ``exp(x)`` of a log-sum-exp streamed against its running maximum ``top``.

    Returns ``(top, scale, weight)``: the new maximum, the factor to multiply the sums
    so far by (1 unless ``x`` is a new maximum) and the weight of the new term (1 if it
    is); a sum then becomes ``sum * scale + weight * term`` (:func:`add_term`), and the
    log of the total ``top + log(total)``.
    """
    if x > top:
        return x, math.exp(top - x), 1.0
    return top, 1.0, math.exp(x - top)


@njit(cache=True, nogil=True, inline="always")
def add_term(sums, values, scale, weight):
    """``sums = sums * scale + weight * values`` elementwise (:func:`log_weight`), without the products by 1.

    Skipping a product by 1 (exact) leaves the result bit for bit the same and keeps the
    usual case, a term below the maximum, to one multiply-add.
    """
    if scale != 1.0:
        for j in range(sums.shape[0]):
            sums[j] = sums[j] * scale + weight * values[j]
    else:
        for j in range(sums.shape[0]):
            sums[j] += weight * values[j]
