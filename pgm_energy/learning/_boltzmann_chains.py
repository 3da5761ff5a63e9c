"""Persistent Gibbs chains of Boltzmann learning: both phases' chains, their sweeps and burn-in.

The clamped (data) phase keeps the hidden states of one chain per training vector or per
batch slot, with the visible units set to the data; the free (model) phase keeps fantasy
chains of every unit. Every chain has its own random stream, so the states are the same
whatever the thread count and however the sweeps are cut into kernel calls.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._boltzmann_graph import BoltzmannGraph, kernel_layout

__all__ = ["BoltzmannChains", "fresh_chains", "run_sweeps", "clamp", "run_burn_in", "PARALLEL_WORK"]

#: kernel calls with fewer unit updates than this run on one thread: opening a parallel region
#: costs far more than a small machine's sweeps on a loaded machine (docs/benchmarks.md)
PARALLEL_WORK = 200_000


class BoltzmannChains(NamedTuple):
    """Persistent Gibbs chains of both phases, updated in place by :func:`estimate_gradient`.

    Attributes
    ----------
    clamped : ndarray of uint8, shape (n_clamped, n_units)
        Hidden states of the clamped phase: one row per training vector (``per_example``)
        or per batch slot (``per_slot``); visible entries are overwritten by the data.
    clamped_streams : ndarray of uint64, shape (n_clamped,)
        One xorshift64* stream per clamped chain (see :mod:`pgm_energy._kernels.rng`).
    fantasy : ndarray of uint8, shape (n_chains, n_units)
        Free-phase (fantasy) chains.
    fantasy_streams : ndarray of uint64, shape (n_chains,)
    """

    clamped: np.ndarray
    clamped_streams: np.ndarray
    fantasy: np.ndarray
    fantasy_streams: np.ndarray


def fresh_chains(graph, data, *, n_clamped, n_chains, generator) -> BoltzmannChains:
    from .._kernels.rng import seed_streams

    n_units = graph.n_units
    clamped = generator.integers(0, 2, size=(n_clamped, n_units), dtype=np.uint8)
    fantasy = generator.integers(0, 2, size=(n_chains, n_units), dtype=np.uint8)
    # Starting the free chains at data vectors puts them near the modes that matter (as in PCD).
    starts = generator.integers(0, data.shape[0], size=n_chains)
    fantasy[:, graph.visible] = data[starts]
    return BoltzmannChains(clamped, seed_streams(generator, n_clamped), fantasy, seed_streams(generator, n_chains))


def run_sweeps(states, streams, free, sweeps: int, beta: float, layout, *, record: bool):
    """``sweeps`` sequential heat-bath sweeps over units ``free`` of every row of ``states`` (in place).

    ``layout`` (:func:`~._boltzmann_graph.kernel_layout`) holds the weights and biases, ``beta``
    is the inverse temperature. Returns the states after each sweep, shape
    (n_rows * sweeps, n_units) uint8 (or None when ``record`` is False). ``streams`` (one per
    row) advance in place.
    """
    import numba

    from .._kernels import gibbs as kernels
    from .._launch import call, first_chunk, run_chunked

    n_rows, n_units = states.shape
    weights = kernels.Weights(*layout.weight_arrays)
    fields = np.empty(states.shape, dtype=np.float64)
    betas = np.full((sweeps, 1), beta)
    if record:
        slots = np.arange(sweeps, dtype=np.int64)
        out = np.empty((n_rows, sweeps, n_units), dtype=np.uint8)
    else:
        slots = np.full(sweeps, -1, dtype=np.int64)
        out = np.empty((n_rows, 0, n_units), dtype=np.uint8)

    # Each chain has its own stream, so the states are the same whatever the thread count, and
    # the same when the chains run in several calls: the shared launcher runs them in calls of
    # bounded time, so Ctrl-C is answered within a fraction of a second (also when burning in
    # every training vector), and serialises parallel launches where the threading layer needs it.
    def run(start, stop):
        part = slice(start, stop)
        call(kernels.initialise_fields, states[part], fields[part], layout.biases, *layout.weight_arrays)
        chains = kernels.Chains(states[part], fields[part], streams[part])
        call(kernels.run_chains, chains, free, kernels.SEQUENTIAL, kernels.HEAT_BATH, betas,
             kernels.Record(slots, out[part]), weights)

    threads = numba.get_num_threads()
    if n_rows * sweeps * free.shape[0] < PARALLEL_WORK:
        numba.set_num_threads(1)
    try:
        run_chunked(n_rows, run, first=first_chunk(sweeps * layout.sweep_cost(1, free.shape[0])))
    finally:
        numba.set_num_threads(threads)
    return out.reshape(n_rows * sweeps, n_units) if record else None


def clamp(chains: BoltzmannChains, graph: BoltzmannGraph, batch, rows):
    """The clamped chains of ``rows`` with their visible units set to ``batch``: (states, streams) copies."""
    states = np.ascontiguousarray(chains.clamped[rows])
    states[:, graph.visible] = batch
    return states, np.ascontiguousarray(chains.clamped_streams[rows])


def run_burn_in(graph, edge_weights, biases, beta, chains, data, rows, sweeps) -> None:
    if sweeps == 0:
        return
    layout = kernel_layout(graph, edge_weights, biases)
    all_units = np.arange(graph.n_units, dtype=np.int64)
    run_sweeps(chains.fantasy, chains.fantasy_streams, all_units, sweeps, beta, layout, record=False)
    if graph.hidden.shape[0] and len(rows):
        states, streams = clamp(chains, graph, data, rows)
        run_sweeps(states, streams, graph.hidden, sweeps, beta, layout, record=False)
        chains.clamped[rows] = states
        chains.clamped_streams[rows] = streams
