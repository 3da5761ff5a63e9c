"""Per-block conditionals of a bipartite model, for the exact log-likelihood gradient.

For ``E(x, y) = -x^T C y - e^T x - a^T y`` the layer ``x`` (``n_x`` units) is enumerated
and ``y`` summed in closed form: with ``f(x) = a + C^T x``,

    log weight(x) = e.x + sum_j softplus(f_j(x)),    E[y | x] = sigmoid(f(x)).

The caller splits ``x`` into ``n_low`` low units, whose ``S = 2**n_low`` patterns form one
block, and high units fixed per block, so ``f = A[s] + B`` with ``A = C_low^T x_low``
(the same for every block) and ``B = a + C_high^T x_high`` (one vector per block). These
kernels turn a block's fields into its log-weights and weighted conditional means; the
caller sums them with matrix products (BLAS).

Arrays are laid out ``(n_y, S)`` so the inner loops run over states with no dependency
between iterations (they vectorise; the per-state sums over ``j`` become elementwise updates).
``error_model="numpy"`` drops Python's zero-division check on ``1 / (1 + e)`` (the divisor is
at least 1): with the check's branch in the loop LLVM does not vectorise it (10x slower).

Two ways to get ``e^{-|f|}``:

- factored (fast): ``e^{-|A + B|} = e^{-A} e^{-B}`` when ``f >= 0``, else ``e^{A} e^{B}``,
  from exponentials computed once per gradient (``e^{+-A}``) and once per block (``e^{+-B}``):
  no exponential in the inner loop. Valid when ``|A|, |B| <= FACTORED_LIMIT`` (each factor and
  their product stay inside the float64 range: ``e^{2 * 350} < e^{709}``); the relative error
  is that of one extra rounding.
- direct: ``exp(-|f|)`` per element, for any finite parameters.

Softplus sums are taken in log space: ``sum_j softplus(f_j) = sum_j max(f_j, 0) +
log prod_j (1 + e^{-|f_j|})`` with the product of at most ``_PRODUCT_TERMS`` factors in
``[1, 2]`` taken before each log (below ``2**512``: no overflow).
"""

import math

import numpy as np
from numba import njit

__all__ = ["FACTORED_LIMIT", "block_conditionals_factored", "block_conditionals_direct"]

#: largest |A| and |B| for which the factored exponentials stay finite and non-zero
FACTORED_LIMIT = 350.0
# Factors 1 + e^-|f| in [1, 2] multiplied before one log: 512 of them stay below 2**512.
_PRODUCT_TERMS = 512


@njit(cache=True, nogil=True, inline="always")
def _start_block(log_weight, product, low_linear, high_linear):
    """Log-weights start at the linear terms ``e.x``; the running products of ``1 + e^{-|f|}`` at 1."""
    for s in range(log_weight.shape[0]):
        log_weight[s] = low_linear[s] + high_linear
        product[s] = 1.0


@njit(cache=True, nogil=True, inline="always")
def _conditional(f, e, nonnegative):
    """From ``f``, ``e = e^{-|f|}`` and ``f >= 0``: ``(sigmoid(f), max(f, 0), 1 + e)``, the terms one unit adds."""
    one_plus = 1.0 + e
    inverse = 1.0 / one_plus
    return (inverse if nonnegative else e * inverse), (f if nonnegative else 0.0), one_plus


@njit(cache=True, nogil=True, inline="always")
def _fold_product(j, log_weight, product):
    """After every :data:`_PRODUCT_TERMS` units ``j``: move the running products into the log weights
    (before they can overflow) and restart them at 1."""
    if (j + 1) % _PRODUCT_TERMS == 0:
        for s in range(product.shape[0]):
            log_weight[s] += math.log(product[s])
            product[s] = 1.0


@njit(cache=True, nogil=True, error_model="numpy")
def _weigh(sigmoid, log_weight, product):
    """Finish the log-weights, then turn them into weights relative to the block maximum.

    On return ``log_weight[s]`` holds ``w_s = exp(logw_s - top)`` and ``sigmoid[j, s]`` holds
    ``w_s sigmoid(f_j(x_s))``; returns ``top``.
    """
    n_states = log_weight.shape[0]
    top = -np.inf
    for s in range(n_states):
        log_weight[s] += math.log(product[s])
        if log_weight[s] > top:
            top = log_weight[s]
    for s in range(n_states):
        log_weight[s] = math.exp(log_weight[s] - top)
    for j in range(sigmoid.shape[0]):
        row = sigmoid[j]
        for s in range(n_states):
            row[s] *= log_weight[s]
    return top


@njit(cache=True, nogil=True, error_model="numpy")
def block_conditionals_factored(low_fields, exp_neg_low, exp_pos_low, high_field, low_linear, high_linear,
                                sigmoid, log_weight, product):
    """One block's weighted conditional means, without exponentials in the inner loop.

    Parameters
    ----------
    low_fields, exp_neg_low, exp_pos_low : float64, shape (n_y, S)
        ``A``, ``e^{-A}`` and ``e^{A}``, ``|A| <= FACTORED_LIMIT``.
    high_field : float64, shape (n_y,)
        ``B`` for this block, ``|B| <= FACTORED_LIMIT``.
    low_linear : float64, shape (S,)
        ``e_low . x_low`` per state.
    high_linear : float
        ``e_high . x_high`` of this block.
    sigmoid : float64, shape (n_y, S), output
        ``w_s sigmoid(f_j(x_s))``.
    log_weight : float64, shape (S,), output
        ``w_s = exp(log weight(x_s) - top)``.
    product : float64, shape (S,)
        Scratch.

    Returns
    -------
    top : float
        The block's largest log-weight.
    """
    n_y, n_states = low_fields.shape
    _start_block(log_weight, product, low_linear, high_linear)
    for j in range(n_y):
        b = high_field[j]
        neg_b = math.exp(-b)
        pos_b = math.exp(b)
        fields = low_fields[j]
        neg = exp_neg_low[j]
        pos = exp_pos_low[j]
        out = sigmoid[j]
        for s in range(n_states):
            f = fields[s] + b
            # both products, then a select: unconditional loads let the loop vectorise
            for_nonnegative = neg[s] * neg_b
            for_negative = pos[s] * pos_b
            nonnegative = f >= 0.0
            out[s], linear, one_plus = _conditional(f, for_nonnegative if nonnegative else for_negative, nonnegative)
            log_weight[s] += linear
            product[s] *= one_plus
        _fold_product(j, log_weight, product)
    return _weigh(sigmoid, log_weight, product)


@njit(cache=True, nogil=True, error_model="numpy")
def block_conditionals_direct(low_fields, high_field, low_linear, high_linear, sigmoid, log_weight, product):
    """As :func:`block_conditionals_factored`, with one ``exp(-|f|)`` per element (any finite fields)."""
    n_y, n_states = low_fields.shape
    _start_block(log_weight, product, low_linear, high_linear)
    for j in range(n_y):
        b = high_field[j]
        fields = low_fields[j]
        out = sigmoid[j]
        for s in range(n_states):
            f = fields[s] + b
            out[s], linear, one_plus = _conditional(f, math.exp(-abs(f)), f >= 0.0)
            log_weight[s] += linear
            product[s] *= one_plus
        _fold_product(j, log_weight, product)
    return _weigh(sigmoid, log_weight, product)
