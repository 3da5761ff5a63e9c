"""The launcher of a categorical RBM's CD epoch: buffers, settings and time-bounded kernel calls."""

from __future__ import annotations

import math

import numpy as np

from .._kernels.categorical_cd import Settings, Work, train_batches
from .._launch import first_chunk, run_chunked

__all__ = ["categorical_cd_epoch"]


def _new_work(state, batch_size, n_visible):
    n_states, n_hidden = state.weights.shape
    rows = max(batch_size, state.chains.shape[0])
    return Work(
        np.zeros((n_states, n_hidden)), np.zeros(n_states), np.zeros(n_hidden),
        np.zeros((rows, n_hidden)), np.zeros((rows, n_hidden)), np.zeros((batch_size, n_visible), dtype=np.int64),
        np.zeros(n_states), np.ascontiguousarray(state.weights.T, dtype=np.float64),
    )


def categorical_cd_epoch(state, data, order, offsets, *, batch_size, k, persistent, learning_rate, momentum,
                         weight_decay) -> float:
    """One epoch of CD-k / PCD-k over ``data[order]``, updating ``state`` in place; returns the reconstruction error sum.

    ``data`` is an int64 C-contiguous array of state indices, ``offsets`` the model's
    ``field_offsets``. The batches run in time-bounded kernel calls (about 0.15 s each, so that
    Ctrl-C is answered quickly), bit-identical to one call. PCD returns NaN (no reconstruction).
    """
    batch_size = min(int(batch_size), order.shape[0])
    settings = Settings(batch_size, int(k), bool(persistent), float(learning_rate), float(momentum),
                         float(weight_decay))
    work = _new_work(state, batch_size, data.shape[1])
    error = [0.0]

    def run(first, stop):
        error[0] = train_batches(state, work, data, order, offsets, settings, first, stop, error[0])

    n_states, n_hidden = state.weights.shape
    negative_rows = state.chains.shape[0] if persistent else batch_size
    per_batch = n_hidden * (3.0 * batch_size * data.shape[1] + negative_rows * k * (n_states / 2 + 2 * data.shape[1])
                            + 3.0 * n_states)
    run_chunked(-(-order.shape[0] // batch_size), run, first=first_chunk(per_batch))
    return math.nan if persistent else error[0]
