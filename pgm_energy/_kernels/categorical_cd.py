"""Kernels of CD-k / PCD-k for categorical RBMs (softmax visible variables, binary hidden units).

Products with the weights are gathers: a one-hot row of ``n_visible`` variables picks
``n_visible`` rows of the ``(sum k, n_hidden)`` weights, so the hidden input costs
``n_visible * n_hidden`` additions instead of a dense ``sum k`` product; the visible input of a
variable reads a transposed copy of the weights kept in step with them. Every row and chain draws
from its own xorshift stream (one uniform per hidden unit, one per visible variable, in order),
and sums run in float64 in a fixed order: the same state gives the same bits whatever the thread
count or the cut of an epoch into calls. The trainer is :mod:`pgm_energy.learning.categorical_cd`.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from .expo import exp_clamped
from .rng import xorshift_step

__all__ = ["CategoricalCDState", "Work", "Settings", "train_batches"]


class CategoricalCDState(NamedTuple):
    """The working state of a run: parameters and velocities in the training dtype, chains, streams, sums."""

    weights: np.ndarray  # (S, H), S = sum(k)
    visible_bias: np.ndarray  # (S,)
    hidden_bias: np.ndarray  # (H,)
    weights_velocity: np.ndarray
    visible_velocity: np.ndarray
    hidden_velocity: np.ndarray
    chains: np.ndarray  # int64 (n_chains, n_visible): state indices of the persistent chains (0 rows for CD)
    streams: np.ndarray  # uint64 (n_streams,)
    sum_weights: np.ndarray  # float64 running sums for averaging
    sum_visible_bias: np.ndarray
    sum_hidden_bias: np.ndarray
    sum_count: np.ndarray  # int64 (1,): epochs summed
    monitor_seed: np.ndarray  # int64 (1,): seeds the monitors' training subset


class Work(NamedTuple):
    """Buffers of one epoch (float64 gradients; hidden layers of the rows and chains)."""

    grad_weights: np.ndarray  # (S, H)
    grad_visible: np.ndarray  # (S,)
    grad_hidden: np.ndarray  # (H,)
    probabilities: np.ndarray  # (max(batch, chains), H): P0, then the chains' kept Pk
    hidden: np.ndarray  # (max(batch, chains), H) float64 0/1: sampled hidden states
    negative: np.ndarray  # int64 (batch, n_visible): CD's negative visible states
    field: np.ndarray  # (S,): the visible fields of one chain
    weights_t: np.ndarray  # (H, S) float64: the weights transposed, kept in step with them


class Settings(NamedTuple):
    batch_size: int
    k: int
    persistent: bool
    learning_rate: float
    momentum: float
    weight_decay: float


@njit(cache=True, nogil=True, inline="always")
def _sigmoid(x):
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


@njit(cache=True, nogil=True)
def _hidden_probabilities(weights, hidden_bias, offsets, states, out):
    """``out = sigmoid(c + sum_i W[o_i + states[i]])`` (float64)."""
    n_hidden = out.shape[0]
    for j in range(n_hidden):
        out[j] = hidden_bias[j]
    for i in range(states.shape[0]):
        s = offsets[i] + states[i]
        for j in range(n_hidden):
            out[j] += weights[s, j]
    for j in range(n_hidden):
        out[j] = _sigmoid(out[j])


@njit(cache=True, nogil=True)
def _sample_hidden(probabilities, x, out):
    """``out[j] = u_j < probabilities[j]``, one uniform per unit in index order; returns the stream's state."""
    for j in range(out.shape[0]):
        x, u = xorshift_step(x)
        out[j] = 1.0 if u < probabilities[j] else 0.0
    return x


@njit(cache=True, nogil=True)
def _sample_visible(weights_t, visible_bias, offsets, hidden, field, x, out, data_row, want_error):
    """``out[i] ~ softmax_a(b[o_i + a] + W[o_i + a] . hidden)`` per variable; returns ``(x, error)``.

    ``weights_t`` is the transposed weights (n_hidden, sum(k)), so that the fields of every state
    are a sum of the rows of the hidden units that are on (a vectorised loop). ``error`` is
    ``sum_i sum_a (onehot(data_row)[o_i + a] - p(a))**2`` when ``want_error``, else 0.
    """
    n_states = field.shape[0]
    for s in range(n_states):
        field[s] = visible_bias[s]
    for j in range(hidden.shape[0]):
        if hidden[j] != 0.0:
            row = weights_t[j]
            for s in range(n_states):
                field[s] += row[s]
    error = 0.0
    for i in range(out.shape[0]):
        first = offsets[i]
        k = offsets[i + 1] - first
        top = field[first]
        for a in range(1, k):
            if field[first + a] > top:
                top = field[first + a]
        total = 0.0
        for a in range(k):
            value = exp_clamped(field[first + a] - top)
            field[first + a] = value
            total += value
        x, u = xorshift_step(x)
        target = u * total
        chosen = k - 1  # rounding may leave the running sum a hair below the target at the end
        running = 0.0
        for a in range(k):
            running += field[first + a]
            if target < running:
                chosen = a
                break
        out[i] = chosen
        if want_error:
            squares = 0.0
            for a in range(k):
                squares += field[first + a] * field[first + a]
            p_data = field[first + data_row[i]] / total
            error += squares / (total * total) - 2.0 * p_data + 1.0
    return x, error


@njit(cache=True, nogil=True)
def _transpose_into(weights, weights_t):
    for s in range(weights.shape[0]):
        for j in range(weights.shape[1]):
            weights_t[j, s] = weights[s, j]


@njit(cache=True, nogil=True)
def _add_statistics(grad_weights, grad_visible, grad_hidden, offsets, states, probabilities, scale):
    """``grad_W[o_i + s_i] += scale P``, ``grad_b[o_i + s_i] += scale``, ``grad_c += scale P``."""
    n_hidden = probabilities.shape[0]
    for i in range(states.shape[0]):
        s = offsets[i] + states[i]
        grad_visible[s] += scale
        for j in range(n_hidden):
            grad_weights[s, j] += scale * probabilities[j]
    for j in range(n_hidden):
        grad_hidden[j] += scale * probabilities[j]


@njit(cache=True, nogil=True)
def _apply(parameters, velocity, gradient, learning_rate, momentum, decay):
    """``velocity = momentum velocity + lr (gradient - decay parameters)``, ``parameters += velocity``; gradient zeroed."""
    flat_p = parameters.reshape(-1)
    flat_v = velocity.reshape(-1)
    flat_g = gradient.reshape(-1)
    for e in range(flat_p.shape[0]):
        step = momentum * flat_v[e] + learning_rate * (flat_g[e] - decay * flat_p[e])
        flat_v[e] = step
        flat_p[e] += step
        flat_g[e] = 0.0


@njit(cache=True, nogil=True)
def train_batches(state, work, data, order, offsets, settings, first_batch, stop_batch, error):
    """Batches ``first_batch .. stop_batch - 1`` of the epoch (rows ``order[b * batch_size ...]``); returns the error sum.

    ``data`` holds state indices (int64, (n_rows, n_visible)). PCD: batch 0 computes the chains'
    hidden probabilities afresh; later batches draw from those the previous update kept.
    """
    weights, visible_bias, hidden_bias = state.weights, state.visible_bias, state.hidden_bias
    chains, streams = state.chains, state.streams
    grad_w, grad_b, grad_c = work.grad_weights, work.grad_visible, work.grad_hidden
    probabilities, hidden, negative, field, weights_t = (work.probabilities, work.hidden, work.negative, work.field,
                                                        work.weights_t)
    batch_size, k, persistent = settings.batch_size, settings.k, settings.persistent
    n_rows = order.shape[0]
    n_hidden = hidden_bias.shape[0]
    scratch = np.empty(n_hidden)
    for batch in range(first_batch, stop_batch):
        start = batch * batch_size
        size = min(batch_size, n_rows - start)
        if size <= 0:
            break
        inverse_n = 1.0 / size
        # positive phase: probabilities, and CD's starting hidden sample
        for r in range(size):
            row = data[order[start + r]]
            _hidden_probabilities(weights, hidden_bias, offsets, row, scratch)
            _add_statistics(grad_w, grad_b, grad_c, offsets, row, scratch, inverse_n)
            if not persistent:
                streams[r] = _sample_hidden(scratch, streams[r], hidden[r])
        # negative phase
        m = chains.shape[0] if persistent else size
        inverse_m = 1.0 / m
        for r in range(m):
            x = streams[r]
            if persistent:
                visible = chains[r]
                if batch == 0:
                    _hidden_probabilities(weights, hidden_bias, offsets, visible, probabilities[r])
                x = _sample_hidden(probabilities[r], x, hidden[r])
                data_row = visible  # unused (no error for PCD)
            else:
                visible = negative[r]
                data_row = data[order[start + r]]
            for step in range(1, k + 1):
                x, e = _sample_visible(weights_t, visible_bias, offsets, hidden[r], field, x, visible, data_row,
                                       (not persistent) and step == 1)
                error += e
                _hidden_probabilities(weights, hidden_bias, offsets, visible, probabilities[r])
                if step < k:
                    x = _sample_hidden(probabilities[r], x, hidden[r])
            streams[r] = x
            _add_statistics(grad_w, grad_b, grad_c, offsets, visible, probabilities[r], -inverse_m)
        lr, momentum = settings.learning_rate, settings.momentum
        _apply(weights, state.weights_velocity, grad_w, lr, momentum, settings.weight_decay)
        _transpose_into(weights, weights_t)
        _apply(visible_bias, state.visible_velocity, grad_b, lr, momentum, 0.0)
        _apply(hidden_bias, state.hidden_velocity, grad_c, lr, momentum, 0.0)
    return error
