"""Deep belief network kernel: Gibbs sampling of every free unit given evidence.

Conventions (the wrapper :func:`pgm_energy.samplers.belief.gibbs_posterior` prepares the
arrays; the network is at temperature 1):

- ``lower``: uint8 states of layers ``0 .. L - 1`` (the sigmoid layers and the top RBM's lower
  layer), shape (n_chains, n_lower); ``upper``: uint8 states of the top layer ``L``, shape
  (n_chains, n_top). Both updated in place.
- ``a``: float64 cached pre-activations of the units of ``lower``, same shape as ``lower``.
  For a unit of layers ``0 .. L - 2`` it is ``b_i + sum_p w_ip x_p`` (its own sigmoid
  conditional); for a unit of layer ``L - 1`` it is ``b_i + sum_j W_ij h_j``, the top RBM's
  log-odds given the top layer, rewritten after each top-layer draw.
- ``children``: the children of the units of ``lower`` (:class:`.sigmoid_belief.Children`).
- ``top``: a :class:`TopLayer`: ``weights`` (n_penultimate, n_top), ``penultimate_bias``,
  ``top_bias``, and ``penultimate``, the index in ``lower`` of the first unit of layer ``L - 1``.
- ``free``: indices in ``lower`` updated one at a time, in scan order; ``top_free``: indices of
  the top-layer units drawn (the others are clamped).
- ``slots``: after sweep ``k`` the states are copied to ``out[:, slots[k]]`` when ``slots[k] >= 0``
  (``lower`` then ``upper``).

A sweep draws the free top units as a block (they are independent given layer ``L - 1``),
then updates every free unit of ``lower`` from its full conditional: given the top layer, the
layers below form a sigmoid belief network whose top layer has the factorial prior with
log-odds ``a``, so the sequential scan is :func:`.sigmoid_belief.sweep` itself.
Every draw of chain ``c`` comes from its own xorshift stream ``streams[c]``.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .rng import bernoulli_log_odds, next_uniform
from .sigmoid_belief import sweep as sigmoid_belief_sweep

__all__ = ["TopLayer", "run_chains"]


class TopLayer(NamedTuple):
    """The top RBM as the sweep sees it: its weights and biases, and where layer ``L - 1`` starts in ``lower``."""

    weights: np.ndarray  # float64, (n_penultimate, n_top)
    penultimate_bias: np.ndarray  # float64, (n_penultimate,)
    top_bias: np.ndarray  # float64, (n_top,)
    penultimate: int  # index in ``lower`` of the first unit of layer L - 1


@njit(cache=True, nogil=True, inline="always")
def _sweep(lc, uc, ac, free, top_free, children, top, streams, chain):
    top_weights, penultimate_bias, top_bias, penultimate = top
    n_penultimate, n_top = top_weights.shape
    for t in range(top_free.shape[0]):
        j = top_free[t]
        field = top_bias[j]
        for i in range(n_penultimate):
            if lc[penultimate + i]:
                field += top_weights[i, j]
        uc[j] = bernoulli_log_odds(field, next_uniform(streams, chain))
    for i in range(n_penultimate):
        value = penultimate_bias[i]
        for j in range(n_top):
            if uc[j]:
                value += top_weights[i, j]
        ac[penultimate + i] = value
    # given the top layer, the layers below are a sigmoid belief network: its scan
    child_ptr, child_index, child_weight = children
    sigmoid_belief_sweep(lc, ac, free, streams, chain, child_ptr, child_index, child_weight)


@njit(cache=True, nogil=True, parallel=True)
def run_chains(lower, upper, a, free, top_free, children, top, slots, out, streams):
    """Run ``slots.shape[0]`` sweeps on every chain (chains in parallel); see the module docstring.

    ``children`` is a :class:`.sigmoid_belief.Children`, ``top`` a :class:`TopLayer`. One call
    of a time-bounded series: each chain carries its states, pre-activations and stream to the
    next call, so the draws do not depend on how the sweeps are split.
    """
    n_lower = lower.shape[1]
    for c in prange(lower.shape[0]):
        lc = lower[c]
        uc = upper[c]
        ac = a[c]
        for sweep in range(slots.shape[0]):
            _sweep(lc, uc, ac, free, top_free, children, top, streams, c)
            slot = slots[sweep]
            if slot >= 0:
                out[c, slot, :n_lower] = lc
                out[c, slot, n_lower:] = uc
