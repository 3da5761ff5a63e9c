"""A plain-NumPy CD/PCD epoch with the engine's signature (an independent check of _cd_engine).

Written from Hinton's guide (2010) without looking at the engine: per batch,
positive statistics with p(h | v_data); the chain is driven by sampled hidden states
and sampled visible states; the final (negative) hidden statistics use probabilities.
Randomness comes from a NumPy generator seeded by the state's streams, which are
replaced by fresh draws at the end of the epoch, so the state alone determines the
next epoch (as with the engine).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class CDState(NamedTuple):
    weights: np.ndarray
    visible_bias: np.ndarray
    hidden_bias: np.ndarray
    weights_velocity: np.ndarray
    visible_velocity: np.ndarray
    hidden_velocity: np.ndarray
    chains: np.ndarray
    streams: np.ndarray
    hidden_activity: np.ndarray


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow warnings for large |x|


def new_state(weights, visible_bias, hidden_bias, *, n_chains, n_streams, dtype, rng):
    dtype = np.dtype(dtype)
    n_visible, n_hidden = np.shape(weights)
    weights = np.array(weights, dtype=dtype, order="C")
    visible_bias = np.array(visible_bias, dtype=dtype)
    hidden_bias = np.array(hidden_bias, dtype=dtype)
    # Persistent chains start from the visible biases alone (a cheap draw from a nearby model).
    chains = (rng.random((n_chains, n_visible)) < _sigmoid(visible_bias.astype(np.float64))).astype(dtype)
    streams = rng.integers(1, np.iinfo(np.uint64).max, size=max(n_streams, 1), dtype=np.uint64, endpoint=True)
    return CDState(
        weights, visible_bias, hidden_bias,
        np.zeros_like(weights), np.zeros_like(visible_bias), np.zeros_like(hidden_bias),
        chains, streams, np.zeros(n_hidden, dtype=dtype),
    )


def cd_epoch(state, data, order, *, batch_size, k, persistent, learning_rate, momentum, weight_decay,
             sparsity_target, sparsity_cost, sparsity_decay=0.95, reconstruction=True):
    generator = np.random.default_rng([int(s) for s in state.streams[:4]])
    W, b, c = state.weights, state.visible_bias, state.hidden_bias
    dtype = W.dtype
    error = 0.0
    for start in range(0, order.shape[0], batch_size):
        v0 = data[order[start : start + batch_size]]
        m = v0.shape[0]
        ph0 = _sigmoid(v0 @ W + c)
        h = (generator.random(ph0.shape) < ph0).astype(dtype)
        pv = _sigmoid(h @ W.T + b)
        error += float(((v0 - pv) ** 2).sum())
        if persistent:
            v = state.chains
            for _ in range(k):
                h = (generator.random((v.shape[0], c.shape[0])) < _sigmoid(v @ W + c)).astype(dtype)
                v = (generator.random(v.shape) < _sigmoid(h @ W.T + b)).astype(dtype)
            state.chains[...] = v
        else:
            v = (generator.random(pv.shape) < pv).astype(dtype)
            for _ in range(k - 1):
                h = (generator.random((m, c.shape[0])) < _sigmoid(v @ W + c)).astype(dtype)
                v = (generator.random(v.shape) < _sigmoid(h @ W.T + b)).astype(dtype)
        phk = _sigmoid(v @ W + c)
        n_negative = v.shape[0]
        grad_W = v0.T @ ph0 / m - v.T @ phk / n_negative
        grad_b = v0.mean(axis=0) - v.mean(axis=0)
        grad_c = ph0.mean(axis=0) - phk.mean(axis=0)
        if sparsity_target is not None:
            state.hidden_activity[...] = sparsity_decay * state.hidden_activity + (1 - sparsity_decay) * ph0.mean(axis=0)
            push = sparsity_cost * (sparsity_target - state.hidden_activity)
            grad_c = grad_c + push
            grad_W = grad_W + np.outer(v0.mean(axis=0), push)
        state.weights_velocity[...] = momentum * state.weights_velocity + learning_rate * (grad_W - weight_decay * W)
        state.visible_velocity[...] = momentum * state.visible_velocity + learning_rate * grad_b
        state.hidden_velocity[...] = momentum * state.hidden_velocity + learning_rate * grad_c
        W += state.weights_velocity
        b += state.visible_velocity
        c += state.hidden_velocity
    state.streams[...] = generator.integers(1, np.iinfo(np.uint64).max, size=state.streams.shape[0], dtype=np.uint64, endpoint=True)
    return error if (reconstruction or not persistent) else float("nan")
