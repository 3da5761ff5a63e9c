"""The single-site drivers write through their argument bundles: a run cut into two calls is the run in one call.

Guards against Numba's parfors losing the writes of a prange body to an array taken out of a
tuple argument (the streams, rung occupancy and swap counters would silently not advance).
"""

import numpy as np
import pytest

from pgm_energy._kernels import gibbs as kernels
from pgm_energy._kernels.rng import seed_streams


def _machine(n_units=12, seed=0):
    rng = np.random.default_rng(seed)
    weights = np.triu(rng.normal(size=(n_units, n_units)) * (rng.random((n_units, n_units)) < 0.3), 1)
    weights = weights + weights.T
    rows, cols = np.nonzero(weights)
    indptr = np.zeros(n_units + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_units), out=indptr[1:])
    csr = kernels.Weights(indptr, cols.astype(np.int64), weights[rows, cols].copy(), np.zeros((0, 0)), False)
    return csr, rng.normal(size=n_units), rng


def _in_two_calls(run, n_sweeps):
    """``run(parts)`` from a fresh state: sweeps ``0 .. n_sweeps`` in one call, then cut into two calls."""
    whole = run([(0, n_sweeps)])
    cut = run([(0, n_sweeps // 2), (n_sweeps // 2, n_sweeps)])
    return whole, cut


@pytest.mark.parametrize("lanes", [1, 4])
def test_sequential_drivers_continue_where_they_stopped(lanes):
    weights, biases, rng = _machine()
    n_chains, n_sweeps, n_units = 5, 6, biases.shape[0]
    start_states = rng.integers(0, 2, size=(n_chains, n_units), dtype=np.uint8)
    start_streams = seed_streams(rng, n_chains)
    free = np.arange(n_units, dtype=np.int64)
    betas = np.full((n_sweeps, 1), 0.7)

    def run(parts):
        chains = kernels.Chains(start_states.copy(), np.empty((n_chains, n_units)), start_streams.copy())
        kernels.initialise_fields(chains.states, chains.fields, biases, *weights)
        out = np.empty((n_chains, n_sweeps, n_units), dtype=np.uint8)
        for a, b in parts:
            record = kernels.Record(np.arange(a, b, dtype=np.int64), out)
            if lanes == 1:
                kernels.run_chains(chains, free, kernels.SEQUENTIAL, kernels.HEAT_BATH, betas[a:b], record, weights)
            else:
                padded = kernels.PaddedRows(np.zeros(0, dtype=np.int64), np.zeros(0), 0)
                driver = kernels.chain_groups_driver(lanes, kernels.HEAT_BATH, padded.width)
                driver(chains, free, betas[a:b], record, weights, padded)
        return out, chains.streams

    (out, streams), (cut_out, cut_streams) = _in_two_calls(run, n_sweeps)
    np.testing.assert_array_equal(cut_out, out)
    np.testing.assert_array_equal(cut_streams, streams)
    assert not np.array_equal(streams, start_streams)


def test_tempering_continues_where_it_stopped():
    weights, biases, rng = _machine(seed=1)
    n_groups, n_ladder, n_sweeps, n_units = 2, 3, 8, biases.shape[0]
    n_replicas = n_groups * n_ladder
    start_states = rng.integers(0, 2, size=(n_replicas, n_units), dtype=np.uint8)
    start_streams = seed_streams(rng, n_replicas)
    start_swaps = seed_streams(rng, n_groups)
    free = np.arange(n_units, dtype=np.int64)
    colouring = kernels.Colouring(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64))

    def run(parts):
        chains = kernels.Chains(start_states.copy(), np.empty((n_replicas, n_units)), start_streams.copy())
        kernels.initialise_fields(chains.states, chains.fields, biases, *weights)
        exchange = kernels.Exchange(
            np.array([1.0, 0.5, 0.1]), np.arange(n_replicas, dtype=np.int64).reshape(n_groups, n_ladder), 1, 0,
            start_swaps.copy(), np.zeros((n_groups, n_ladder - 1), dtype=np.int64),
            np.zeros((n_groups, n_ladder - 1), dtype=np.int64),
        )
        out = np.empty((n_groups, n_sweeps, n_units), dtype=np.uint8)
        for a, b in parts:
            record = kernels.Record(np.arange(a, b, dtype=np.int64), out)
            kernels.tempering_driver(kernels.SEQUENTIAL)(chains, free, colouring, chains.streams.copy(), a, exchange,
                                                         record, biases, weights)
        return out, chains.streams, exchange.slot_replica, exchange.swap_streams, exchange.accepted, exchange.attempted

    whole, cut = _in_two_calls(run, n_sweeps)
    for got, expected in zip(cut, whole):
        np.testing.assert_array_equal(got, expected)
    assert whole[5].sum() > 0 and not np.array_equal(whole[3], start_swaps)
