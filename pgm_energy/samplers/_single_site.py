"""Single-site sweeps of a general Boltzmann machine: picks the kernel of :mod:`pgm_energy._kernels.gibbs`.

Used by Gibbs sampling (a constant temperature) and simulated annealing (a schedule); both
hand over a :class:`~pgm_energy.samplers._pipeline.Sweeps` that says what temperature each
sweep runs at and where its state is recorded.
"""

from __future__ import annotations

import time

import numpy as np

from .._launch import call
from ._layout import Layout, colour_classes, layout_of
from ._pipeline import Sweeps, allocate_draws, run_sweeps, thread_count

__all__ = ["run_single_site", "single_site_chains"]

#: colour classes of at least this many units (on average) are split across threads
PARALLEL_CLASS_SIZE = 4096

#: a call runs the grouped (lane) drivers only when its work (:meth:`Layout.sweep_cost` summed
#: over its sweeps) reaches this: about 0.1 s of the one-chain-per-thread kernels, whose states
#: are the same. The grouped drivers are 1.3-2x faster but take about 5 s to compile, one variant
#: per lane count, rule and row width; below this size they cannot pay that back.
GROUPED_MIN_WORK = 1e8


class FasterOfTwo:
    """Runs each chunk of sweeps with whichever of two bit-identical runners is currently faster.

    The chromatic scan of fewer chains than threads can split each colour class across threads;
    that pays on an idle machine, but every class of every sweep ends at a barrier that waits for
    the slowest thread, so when another process holds a core the split runs many times slower than
    one thread per chain. Both runners draw the same states (the counter-based stream keys each
    unit's number by chain, sweep and unit), so choosing between them by measured speed changes
    no result: the first chunks alternate (the first call of each may include compiling), then
    the faster one runs, and the other is tried again every :attr:`RETRY` chunks.

    Parameters
    ----------
    first, second : callable(start, stop)
        Runners over sweeps ``start .. stop - 1`` that continue from the same state.
    """

    #: chunks between two tries of the runner currently judged slower (load changes)
    RETRY = 8

    def __init__(self, first, second):
        self._runners = (first, second)
        self._best = [float("inf"), float("inf")]  # seconds per sweep, least of the recent chunks
        self._chunks = 0
        self.used = [0, 0]  # sweeps run by each

    def _pick(self) -> int:
        if self._chunks < 4:
            return self._chunks % 2
        faster = 0 if self._best[0] <= self._best[1] else 1
        return 1 - faster if self._chunks % self.RETRY == 0 else faster

    def __call__(self, start: int, stop: int) -> None:
        which = self._pick()
        began = time.perf_counter()
        self._runners[which](start, stop)
        per_sweep = (time.perf_counter() - began) / max(stop - start, 1)
        # A fresh try replaces the old figure (the load may have changed); the probes keep their minimum.
        self._best[which] = min(self._best[which], per_sweep) if self._chunks < 4 else per_sweep
        self._chunks += 1
        self.used[which] += stop - start


def run_single_site(model, layout: Layout, states: np.ndarray, free: np.ndarray, scan: str, sweeps: Sweeps,
                    out: np.ndarray, streams: np.ndarray, *, progress: bool = False, description: str = "Gibbs",
                    acceptance: str = "heat-bath") -> dict:
    """Run ``sweeps`` of single-site updates of ``states`` (n_chains, n_units) in place; fill ``out``.

    Parameters
    ----------
    model : BoltzmannMachine
        The machine of ``layout`` (its colouring is used by the chromatic scan).
    layout : Layout
    states : uint8 ndarray, shape (n_chains, n_units)
        Starting states (evidence applied), updated in place.
    free : int64 ndarray
        Units that may change.
    scan : {"sequential", "random", "chromatic"}
    sweeps : Sweeps
    out : uint8 ndarray, shape (n_chains, n_draws, n_units)
        Receives the recorded states.
    streams : uint64 ndarray, shape (n_chains,)
        One random stream per chain (``_kernels.rng.seed_streams``), advanced in place.
    progress : bool
        Show a progress bar labelled ``description``.
    acceptance : {"heat-bath", "metropolis"}
        Rule at finite temperatures (``beta = inf`` is the Hopfield update either way).

    Returns
    -------
    dict
        ``storage`` ("csr" or "dense"), and for the chromatic scan ``n_colours`` and
        ``parallel_over`` ("classes" or "chains"), for ``info``; with "classes", also
        ``sweeps_over_classes``: the sweeps that ran split across threads (the others ran one
        thread per chain, which was faster at the time; see :class:`FasterOfTwo`).
    """
    from .._kernels import gibbs as kernels

    rule = kernels.METROPOLIS if acceptance == "metropolis" else kernels.HEAT_BATH
    details = {"storage": layout.storage}
    arrays = layout.weight_arrays
    weights = layout.weights
    # several chains per thread: the grouped drivers (larger, so compiled and loaded only when they pay)
    n_threads = thread_count()
    cost = layout.sweep_cost(states.shape[0], free.shape[0])
    lanes = kernels.lane_width(states.shape[0], n_threads) if cost * sweeps.n >= GROUPED_MIN_WORK else 1
    padded = layout.padded(states.shape[1])
    # Each kernel call continues from the states, streams and sweep index where the previous
    # one stopped, so cutting the run into calls changes nothing.
    if scan == "chromatic":
        class_ptr, class_units = colour_classes(model, free)
        details["n_colours"] = int(class_ptr.shape[0] - 1)
        # Both kernels draw the same states; parallel classes pay off only for large classes.
        per_class = class_units.shape[0] / max(details["n_colours"], 1)
        by_class = states.shape[0] < n_threads and per_class >= PARALLEL_CLASS_SIZE
        details["parallel_over"] = "classes" if by_class else "chains"
        chains = kernels.Chains(states, np.empty((states.shape[0], 0)), streams)  # the streams key the blocks
        colouring = kernels.Colouring(class_ptr, class_units)

        def chromatic(kernel):
            def run(start, stop):
                betas, record = sweeps.betas(start, stop), kernels.Record(sweeps.slots(start, stop), out)
                call(kernel, chains, colouring, start, rule, betas, record, layout.biases, weights)
            return run

        def grouped(start, stop):
            betas, record = sweeps.betas(start, stop), kernels.Record(sweeps.slots(start, stop), out)
            driver = kernels.chromatic_groups_driver(lanes, rule, padded.width)
            call(driver, chains, colouring, start, betas, record, layout.biases, weights, padded)

        if by_class:
            run = FasterOfTwo(chromatic(kernels.run_chromatic), chromatic(kernels.run_chromatic_chains))
        elif lanes > 1 and not layout.dense:
            run = grouped
        else:
            run = chromatic(kernels.run_chromatic_chains)
    else:
        fields = np.empty(states.shape, dtype=np.float64)
        call(kernels.initialise_fields, states, fields, layout.biases, *arrays)
        code = kernels.SEQUENTIAL if scan == "sequential" else kernels.RANDOM
        grouped = code == kernels.SEQUENTIAL and lanes > 1 and not layout.dense
        chains = kernels.Chains(states, fields, streams)

        def run(start, stop):
            betas, record = sweeps.betas(start, stop), kernels.Record(sweeps.slots(start, stop), out)
            if grouped:
                call(kernels.chain_groups_driver(lanes, rule, padded.width), chains, free, betas, record, weights, padded)
            else:
                call(kernels.run_chains, chains, free, code, rule, betas, record, weights)

    run_sweeps(sweeps.n, run, cost_per_sweep=cost, progress=progress,
               description=description)
    if isinstance(run, FasterOfTwo):
        details["sweeps_over_classes"] = run.used[0]
    return details


def single_site_chains(model, free: np.ndarray, scan: str, acceptance: str, sweeps: Sweeps, n_draws: int,
                       description: str, progress: bool, states: np.ndarray, streams: np.ndarray):
    """Chains of single-site sweeps from their starting states and streams: what one block of a split run computes.

    Module-level so that a cluster's workers run it (:func:`pgm_energy.samplers._pipeline.run_chains`):
    each chain depends only on its own row of ``states`` and ``streams``.

    Parameters
    ----------
    states : uint8 ndarray, shape (n_chains, n_units)
        Starting states, evidence applied (a worker's copy is updated in place).
    streams : uint64 ndarray, shape (n_chains,)
    Others as :func:`run_single_site`.

    Returns
    -------
    draws : uint8 ndarray, shape (n_chains, n_draws, n_units)
    details : dict
        :func:`run_single_site`'s, and ``n_threads``.
    """
    states, streams = np.array(states, order="C"), np.array(streams)  # a worker's blocks may be read-only views
    out = allocate_draws((states.shape[0], n_draws, states.shape[1]))
    details = run_single_site(model, layout_of(model), states, free, scan, sweeps, out, streams, progress=progress,
                              description=description, acceptance=acceptance)
    details["n_threads"] = thread_count()
    return out, details


def merge_details(blocks: list) -> dict:
    """One ``info`` entry set from the :func:`single_site_chains` details of the blocks of a run, in block order."""
    merged = dict(blocks[0])
    if "parallel_over" in merged:
        kinds = {block["parallel_over"] for block in blocks}
        merged["parallel_over"] = kinds.pop() if len(kinds) == 1 else "chains and classes"
        if any("sweeps_over_classes" in block for block in blocks):
            merged["sweeps_over_classes"] = sum(block.get("sweeps_over_classes", 0) for block in blocks)
    merged["n_threads"] = max(block["n_threads"] for block in blocks)
    return merged
