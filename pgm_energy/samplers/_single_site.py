"""Single-site sweeps of a general Boltzmann machine: picks the kernel of :mod:`pgm_energy._kernels.gibbs`.

Used by Gibbs sampling (a constant temperature) and simulated annealing (a schedule); both
hand over a :class:`~pgm_energy.samplers._pipeline.Sweeps` that says what temperature each
sweep runs at and where its state is recorded.
"""

from __future__ import annotations

import numpy as np

from .._launch import call
from ._layout import Layout, colour_classes
from ._pipeline import Sweeps, run_sweeps, thread_count

__all__ = ["run_single_site"]

#: colour classes of at least this many units (on average) are split across threads
PARALLEL_CLASS_SIZE = 4096


def run_single_site(model, layout: Layout, states: np.ndarray, free: np.ndarray, scan: str, sweeps: Sweeps,
                    out: np.ndarray, generator, *, progress: bool = False, description: str = "Gibbs",
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
    generator : numpy.random.Generator
        Seeds one stream per chain.
    progress : bool
        Show a progress bar labelled ``description``.
    acceptance : {"heat-bath", "metropolis"}
        Rule at finite temperatures (``beta = inf`` is the Hopfield update either way).

    Returns
    -------
    dict
        ``storage`` ("csr" or "dense"), and for the chromatic scan ``n_colours`` and
        ``parallel_over`` ("classes" or "chains"), for ``info``.
    """
    from .._kernels import gibbs as kernels
    from .._kernels.rng import seed_streams

    streams = seed_streams(generator, states.shape[0])
    rule = kernels.METROPOLIS if acceptance == "metropolis" else kernels.HEAT_BATH
    details = {"storage": layout.storage}
    arrays = layout.weight_arrays
    weights = layout.weights
    # several chains per thread: the grouped drivers (larger, so loaded only when they pay)
    n_threads = thread_count()
    lanes = kernels.lane_width(states.shape[0], n_threads)
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

        def run(start, stop):
            betas, record = sweeps.betas(start, stop), kernels.Record(sweeps.slots(start, stop), out)
            common = (chains, colouring, start, rule, betas, record, layout.biases, weights)
            if by_class:
                call(kernels.run_chromatic, *common)
            elif lanes > 1 and not layout.dense:
                driver = kernels.chromatic_groups_driver(lanes, rule, padded.width)
                call(driver, chains, colouring, start, betas, record, layout.biases, weights, padded)
            else:
                call(kernels.run_chromatic_chains, *common)
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

    run_sweeps(sweeps.n, run, cost_per_sweep=layout.sweep_cost(states.shape[0], free.shape[0]), progress=progress,
               description=description)
    return details
