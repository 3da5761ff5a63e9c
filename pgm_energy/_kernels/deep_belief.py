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
- Children of the units of ``lower`` in CSR form, as in :mod:`.sigmoid_belief`.
- ``top_weights`` (n_penultimate, n_top), ``penultimate_bias``, ``top_bias``; ``penultimate``
  is the index in ``lower`` of the first unit of layer ``L - 1``.
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

from numba import njit, prange

from .._launch import call, first_chunk, run_chunked
from .rng import bernoulli_log_odds, next_uniform
from .sigmoid_belief import sweep as sigmoid_belief_sweep

__all__ = ["run_chains"]


@njit(cache=True, nogil=True)
def _sweep(lc, uc, ac, free, top_free, child_ptr, child_index, child_weight, top_weights, penultimate_bias, top_bias,
           penultimate, streams, chain):
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
    sigmoid_belief_sweep(lc, ac, free, streams, chain, child_ptr, child_index, child_weight)


@njit(cache=True, nogil=True, parallel=True)
def _run_chains_kernel(lower, upper, a, free, top_free, child_ptr, child_index, child_weight, top_weights,
                       penultimate_bias, top_bias, penultimate, slots, out, streams):
    """Run ``slots.shape[0]`` sweeps on every chain (chains in parallel); see the module docstring."""
    n_lower = lower.shape[1]
    for c in prange(lower.shape[0]):
        lc = lower[c]
        uc = upper[c]
        ac = a[c]
        for sweep in range(slots.shape[0]):
            _sweep(lc, uc, ac, free, top_free, child_ptr, child_index, child_weight, top_weights, penultimate_bias,
                   top_bias, penultimate, streams, c)
            slot = slots[sweep]
            if slot >= 0:
                out[c, slot, :n_lower] = lc
                out[c, slot, n_lower:] = uc


def run_chains(lower, upper, a, free, top_free, child_ptr, child_index, child_weight, top_weights, penultimate_bias,
               top_bias, penultimate, slots, out, streams):
    """Run ``slots.shape[0]`` sweeps on every chain (chains in parallel); see the module docstring.

    In time-bounded kernel calls (Ctrl-C between them; each chain carries its states,
    pre-activations and stream across calls, so the draws do not depend on the split),
    launched thread and fork safely (:mod:`pgm_energy._launch`).
    """
    cost = lower.shape[0] * (free.shape[0] + child_index.shape[0] + top_weights.size)  # unit updates per sweep
    run_chunked(
        slots.shape[0],
        lambda start, stop: call(
            _run_chains_kernel, lower, upper, a, free, top_free, child_ptr, child_index, child_weight, top_weights,
            penultimate_bias, top_bias, penultimate, slots[start:stop], out, streams,
        ),
        first=first_chunk(cost),
    )
