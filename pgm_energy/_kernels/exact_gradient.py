"""Exact first and second moments of a bipartite model, for the exact log-likelihood gradient.

For ``E(x, y) = -x^T C y - e^T x - a^T y`` the layer ``x`` (``n_x`` units) is enumerated
and ``y`` summed in closed form: with ``f(x) = a + C^T x``,

    log weight(x) = e.x + sum_j softplus(f_j(x)),    E[y | x] = sigmoid(f(x)),

and the kernel returns, per block of states, the block's log-mass and its weighted sums
of ``x``, ``sigmoid(f)`` and ``x sigmoid(f)^T``, relative to the block's own maximum
log-weight (rescaled whenever a larger one appears: log space, no overflow for any finite
parameters).

States are split into ``2**n_prefix`` blocks by fixing the last ``n_prefix`` units of ``x``;
each block walks the others in Gray-code order, so ``f`` changes by one row of ``C`` per
state. Blocks are independent (``prange`` in the parallel build) and the caller combines
them in a fixed order, so the result does not depend on the thread count.
"""

import math

import numpy as np
from numba import njit, prange

__all__ = ["bipartite_moment_blocks", "bipartite_moment_blocks_serial"]

# Factors 1 + e^-|f| in [1, 2] multiplied before one log: 512 of them stay below 2**512.
_PRODUCT_TERMS = 512


@njit(cache=True, nogil=True, inline="always")
def _lowest_set_bit(t):
    index = 0
    while (t >> index) & 1 == 0:
        index += 1
    return index


def _moment_blocks(coupling, bias_x, bias_y, n_prefix):
    """Per-block log-mass and weighted sums.

    Parameters
    ----------
    coupling : float64, shape (n_x, n_y), C-contiguous
    bias_x : float64, shape (n_x,)
    bias_y : float64, shape (n_y,)
    n_prefix : int, 0 <= n_prefix <= n_x

    Returns
    -------
    top : shape (n_blocks,)
        Largest log-weight of each block (the reference of its sums).
    total : shape (n_blocks,)
        ``sum exp(logw - top)``; the block's log-mass is ``top + log(total)``.
    sum_x : shape (n_blocks, n_x)
    sum_y : shape (n_blocks, n_y)
        Weighted sums of ``x`` and of ``sigmoid(f(x))``, same reference.
    sum_xy : shape (n_blocks, n_x, n_y)
        Weighted sum of ``x_i sigmoid(f_j(x))``.
    """
    n_x, n_y = coupling.shape
    n_low = n_x - n_prefix
    n_blocks = 1 << n_prefix
    top_out = np.empty(n_blocks)
    total_out = np.empty(n_blocks)
    sum_x = np.zeros((n_blocks, n_x))
    sum_y = np.zeros((n_blocks, n_y))
    sum_xy = np.zeros((n_blocks, n_x, n_y))
    for block in prange(n_blocks):
        state = np.zeros(n_x)
        fields = bias_y.copy()
        linear = 0.0
        for k in range(n_prefix):
            i = n_low + k
            if (block >> k) & 1:
                state[i] = 1.0
                linear += bias_x[i]
                for j in range(n_y):
                    fields[j] += coupling[i, j]
        sigmoid = np.empty(n_y)
        top = -np.inf
        total = 0.0
        block_x = sum_x[block]
        block_y = sum_y[block]
        block_xy = sum_xy[block]
        for t in range(1 << n_low):
            if t > 0:
                i = _lowest_set_bit(t)
                delta = 1.0 - 2.0 * state[i]
                state[i] += delta
                linear += delta * bias_x[i]
                row = coupling[i]
                for j in range(n_y):
                    fields[j] += delta * row[j]
            # softplus(f) = max(f, 0) + log(1 + e^-|f|): the logs of up to _PRODUCT_TERMS factors
            # in [1, 2] are taken at once as the log of their product (< 2**512, no overflow).
            log_weight = linear
            product = 1.0
            for j in range(n_y):
                f = fields[j]
                e = math.exp(-abs(f))
                one_plus = 1.0 + e
                inverse = 1.0 / one_plus
                log_weight += max(f, 0.0)
                product *= one_plus
                sigmoid[j] = inverse if f >= 0.0 else e * inverse
                if (j + 1) % _PRODUCT_TERMS == 0:
                    log_weight += math.log(product)
                    product = 1.0
            log_weight += math.log(product)
            if log_weight > top:
                # A new maximum: rescale what the block has summed so far (factor <= 1).
                scale = math.exp(top - log_weight)
                total *= scale
                for i in range(n_x):
                    block_x[i] *= scale
                for j in range(n_y):
                    block_y[j] *= scale
                for i in range(n_x):
                    for j in range(n_y):
                        block_xy[i, j] *= scale
                top = log_weight
            weight = math.exp(log_weight - top)
            total += weight
            for j in range(n_y):
                sigmoid[j] *= weight
                block_y[j] += sigmoid[j]
            for i in range(n_x):
                if state[i] != 0.0:
                    block_x[i] += weight
                    row_xy = block_xy[i]
                    for j in range(n_y):
                        row_xy[j] += sigmoid[j]
        top_out[block] = top
        total_out[block] = total
    return top_out, total_out, sum_x, sum_y, sum_xy


# Parallel build for large enumerations, serial for small ones (waking a thread pool
# costs more than the work); both return the same bits.
bipartite_moment_blocks = njit(cache=True, nogil=True, parallel=True)(_moment_blocks)
bipartite_moment_blocks_serial = njit(cache=True, nogil=True)(_moment_blocks)
