"""Exact enumeration of the hidden layer of a Gaussian-Bernoulli RBM, the visible layer integrated out.

The caller whitens the model at its temperature (``u_i = 1 / (sigma_i sqrt(T))``) and hands over

* ``coupling[j, i] = W_ij u_i``, shape (n_hidden, n_visible): row ``j`` is hidden unit ``j``'s
  shift of the whitened visible means;
* ``centre[i] = b_i u_i``, the whitened visible biases;
* ``hidden_bias[j] = c_j / T``.

With ``a = coupling^T h`` (the whitened ``W h``), the Gaussian integral over ``v`` of
``exp(-E(v, h) / T)`` is a constant times ``exp(phi(h))``,

    phi(h) = hidden_bias . h + sum_i a_i (centre_i + a_i / 2),

which is ``[(b_i + (W h)_i)^2 - b_i^2] / (2 sigma_i^2 T)`` summed over ``i``, written so that a
small shift ``a`` loses no digits to the cancellation of two large squares.

The hidden states are split into ``2**n_prefix`` blocks by fixing the last ``n_prefix`` hidden
units (bit ``k`` of the block index is unit ``n_hidden - n_prefix + k``). Blocks run in parallel
(``prange``); each walks its other units in Gray-code order, so a step flips one hidden unit and
updates ``a`` by one row of ``coupling`` (O(n_visible)), and streams its log-sum-exp
(:func:`.logspace.log_weight`). Every block writes its own row of results, which the caller
combines in a fixed order: the bits do not depend on the thread count, nor on whether the
parallel kernel or its serial twin ran.
"""

import math

import numpy as np
from numba import njit, prange

from .._launch import serial_twin
from .enumeration import _lowest_set_bit, bipartite_block_start, bipartite_step
from .logspace import add_term, log_weight

__all__ = ["gaussian_block_sums", "gaussian_block_sums_serial"]


def _gaussian_block_sums(coupling, centre, hidden_bias, n_prefix, with_moments, first=0, count=-1):
    """Log-mass of each block of hidden states, and optionally its mean ``phi`` and mean hidden state.

    Parameters
    ----------
    coupling : float64 array, shape (n_hidden, n_visible), C-contiguous
        Whitened weights, one row per hidden unit (module docstring).
    centre : float64 array, shape (n_visible,)
        Whitened visible biases.
    hidden_bias : float64 array, shape (n_hidden,)
        Hidden biases divided by the temperature.
    n_prefix : int, 0 <= n_prefix <= n_hidden
        Hidden units ``n_hidden - n_prefix ..`` are fixed per block.
    with_moments : bool
        Also accumulate ``E[phi | block]`` and ``E[h | block]``.
    first, count : int
        Only the blocks ``first .. first + count - 1`` (``count < 0``: all from ``first``). A
        block's results do not depend on the range, so successive calls concatenate to the
        bits of one call (what :func:`pgm_energy._launch.run_blocks` relies on).

    Returns
    -------
    log_mass : shape (n_blocks,)
        ``log sum_{h in block} exp(phi(h))``, ``n_blocks = count`` (default ``2**n_prefix``).
    mean_phi : shape (n_blocks,)
        ``E[phi(h) | block]`` under weights ``exp(phi)`` (zeros unless ``with_moments``).
    mean_hidden : shape (n_blocks, n_hidden) if with_moments else (n_blocks, 0)
        ``E[h | block]``.
    """
    n_hidden, n_visible = coupling.shape
    n_low = n_hidden - n_prefix
    n_blocks = (1 << n_prefix) - first if count < 0 else count
    log_mass = np.empty(n_blocks)
    mean_phi = np.zeros(n_blocks)
    mean_hidden = np.zeros((n_blocks, n_hidden if with_moments else 0))
    for slot in prange(n_blocks):
        state = np.zeros(n_hidden)
        # the whitened shift a = coupling^T h of the block's first state, and hidden_bias . h
        shift, linear = bipartite_block_start(coupling, np.zeros(n_visible), hidden_bias, first + slot, n_prefix, state)
        top = -np.inf
        total = 0.0
        phi_sum = 0.0
        hidden_sum = np.zeros(n_hidden if with_moments else 0)
        for t in range(1 << n_low):
            if t > 0:
                linear = bipartite_step(coupling, hidden_bias, state, shift, linear, _lowest_set_bit(t))
            phi = linear
            for i in range(n_visible):
                a = shift[i]
                phi += a * (centre[i] + 0.5 * a)
            top, scale, weight = log_weight(phi, top)
            total = total * scale + weight
            if with_moments:
                phi_sum = phi_sum * scale + weight * phi
                add_term(hidden_sum, state, scale, weight)
        log_mass[slot] = top + math.log(total)
        if with_moments:
            mean_phi[slot] = phi_sum / total
            for j in range(n_hidden):
                mean_hidden[slot, j] = hidden_sum[j] / total
    return log_mass, mean_phi, mean_hidden


# A parallel kernel for large enumerations and a serial twin for small ones (waking the thread
# pool costs more than their work) and for forked children that cannot start threads; both
# give the same bits (see ``pgm_energy._launch.serial_twin``).
gaussian_block_sums = njit(cache=True, nogil=True, parallel=True)(_gaussian_block_sums)
gaussian_block_sums_serial = serial_twin(gaussian_block_sums)
