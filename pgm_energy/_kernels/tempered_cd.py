"""Kernels of the parallel-tempering negative phase of persistent CD (``learning._tempered``).

The replicas of every persistent fantasy particle sit in one row-major array, temperature-major:
row ``t * n_chains + c`` is particle ``c`` at inverse temperature ``betas[t]`` (``betas[0] = 1``),
so the matrix products of a whole ladder are one BLAS call each and the ``T = 1`` replicas are
the first ``n_chains`` rows. These kernels do what lies between the products: the tempered
conditionals ``sigmoid(beta (pre + bias))`` with their sampling, the joint energies, and the
replica-exchange swaps.

Randomness: row ``r`` samples from ``streams[r]`` (xorshift64*, units in index order, a unit is
on when ``u < p``, as :mod:`.cd`); particle ``c``'s swaps draw from ``swap_streams[c]``, one
uniform per attempted swap whether or not it is needed, in ladder order.
"""

import numpy as np
from numba import njit

from .block_gibbs import _sigmoid
from .cd import _sample_rows
from .rng import xorshift_step

__all__ = ["tempered_hidden", "tempered_visible", "swap_round"]


@njit(cache=True, nogil=True, error_model="numpy")
def tempered_hidden(pre, bias, betas, n_chains, streams, states):
    """Sample every replica's hidden layer given ``pre = replicas @ W``, at its own temperature.

    Parameters
    ----------
    pre : array, shape (n_temperatures * n_chains, n_hidden), training dtype
        Overwritten with ``p = sigmoid(beta_t (pre + bias))``, ``t = row // n_chains``.
    bias : array, shape (n_hidden,)
    betas : float64 array, shape (n_temperatures,)
    n_chains : int
    streams : uint64 array, shape (>= n_temperatures * n_chains,)
    states : array like ``pre``
        Receives the 0/1 samples.
    """
    dtype = pre.dtype.type
    for r in range(pre.shape[0]):
        beta = dtype(betas[r // n_chains])
        p = pre[r]
        for j in range(p.shape[0]):
            p[j] = _sigmoid(beta * (p[j] + bias[j]))
    _sample_rows(pre, streams, states)


@njit(cache=True, nogil=True, error_model="numpy")
def tempered_visible(pre, bias, hidden_bias, hidden, betas, n_chains, streams, probs, states, energies):
    """Sample every replica's visible layer given ``pre = hidden @ W.T``; joint energies of the new states.

    Parameters
    ----------
    pre : array, shape (n_temperatures * n_chains, n_visible), training dtype
        ``(W h)`` of each replica; left unchanged.
    bias : array, shape (n_visible,)
        Visible biases ``b``.
    hidden_bias : array, shape (n_hidden,)
        Hidden biases ``c``.
    hidden : array, shape (n_temperatures * n_chains, n_hidden)
        The hidden states ``h`` the product came from.
    betas : float64 array, shape (n_temperatures,)
    n_chains : int
    streams : uint64 array, shape (>= n_temperatures * n_chains,)
    probs : array like ``pre``
        Scratch: ``sigmoid(beta_t (pre + b))``.
    states : array like ``pre``
        Receives the 0/1 samples ``v`` (the replicas).
    energies : float64 array, shape (n_temperatures * n_chains,)
        Receives ``E(v, h) = -v'Wh - b'v - c'h`` (the energy at temperature 1: the
        replica's distribution is proportional to ``exp(-beta_t E)``), with
        ``v'Wh = v . pre[r]``, so no extra product.
    """
    dtype = pre.dtype.type
    for r in range(pre.shape[0]):
        beta = dtype(betas[r // n_chains])
        a = pre[r]
        p = probs[r]
        for i in range(a.shape[0]):
            p[i] = _sigmoid(beta * (a[i] + bias[i]))
    _sample_rows(probs, streams, states)
    for r in range(pre.shape[0]):
        a = pre[r]
        v = states[r]
        h = hidden[r]
        total = 0.0
        for i in range(a.shape[0]):
            total += np.float64(v[i]) * (np.float64(a[i]) + np.float64(bias[i]))
        for j in range(h.shape[0]):
            total += np.float64(h[j]) * np.float64(hidden_bias[j])
        energies[r] = -total


@njit(cache=True, nogil=True, error_model="numpy")
def swap_round(replicas, energies, betas, n_chains, parity, swap_streams, accepted, attempted):
    """One round of replica-exchange swaps between neighbouring temperatures, in place.

    For every particle ``c`` and every pair ``(t, t + 1)`` with ``t % 2 == parity``, the
    replicas swap with probability ``min(1, exp((beta_t - beta_t+1) (E_t - E_t+1)))``
    (Metropolis on the joint energies of :func:`tempered_visible`), which keeps the product
    of the tempered joint distributions invariant. The visible rows and the energies are
    exchanged (the hidden states are resampled at the next step, so they are not kept).

    Parameters
    ----------
    replicas : array, shape (n_temperatures * n_chains, n_visible)
    energies : float64 array, shape (n_temperatures * n_chains,)
    betas : float64 array, shape (n_temperatures,), decreasing
    n_chains, parity : int
    swap_streams : uint64 array, shape (n_chains,)
    accepted, attempted : int64 arrays, shape (n_temperatures - 1,)
        Incremented per pair.
    """
    n_ladder = betas.shape[0]
    n_visible = replicas.shape[1]
    for c in range(n_chains):
        x = swap_streams[c]
        for t in range(parity, n_ladder - 1, 2):
            a = t * n_chains + c
            b = a + n_chains
            log_ratio = (betas[t] - betas[t + 1]) * (energies[a] - energies[b])
            x, u = xorshift_step(x)
            attempted[t] += 1
            if log_ratio >= 0.0 or u < np.exp(log_ratio):
                accepted[t] += 1
                for i in range(n_visible):
                    keep = replicas[a, i]
                    replicas[a, i] = replicas[b, i]
                    replicas[b, i] = keep
                keep_energy = energies[a]
                energies[a] = energies[b]
                energies[b] = keep_energy
        swap_streams[c] = x
