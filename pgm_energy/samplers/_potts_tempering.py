"""Parallel tempering of Potts machines (and categorical RBMs through their Potts embedding).

Each of the ``n_chains`` ensembles holds one replica per temperature of the ladder. The replicas
of one temperature are swept together by the Potts Gibbs kernel (:mod:`._potts`'s), at that
temperature; after every ``swap_interval`` sweeps, neighbouring temperatures ``T_k < T_k+1``
exchange the states of each ensemble with probability
``min(1, exp((1/T_k - 1/T_k+1) (E_k - E_k+1)))``, the even pairs and the odd pairs in alternate
rounds, as the binary sampler does. States move between temperatures, the random streams stay
with their temperature, and each ensemble draws its exchanges from a stream of its own at fixed
sweeps, so the draws do not depend on how the run is cut, nor on which ensembles run together
(a run on a Dask cluster: :func:`potts_exchange_chains`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._potts_enumeration import check_evidence
from . import _pipeline as pipeline
from ._potts import POTTS_SCANS, initial_potts_states, potts_update_order, potts_weights
from .categorical_sampleset import CategoricalSampleSet

__all__ = ["temper_potts", "potts_exchange_chains"]


def temper_potts(model, *, temperatures: np.ndarray, target: int, n_samples: int, n_chains: int, burn_in: int,
                 thin: int, swap_interval: int, scan: str, evidence, initial_states, generator, progress: bool,
                 watch, client=None) -> CategoricalSampleSet:
    """Replica exchange over ``temperatures`` (ascending); the draws of rung ``target`` in a CategoricalSampleSet.

    Arguments as :meth:`ParallelTemperingSampler.sample`, already checked but for ``evidence``,
    ``initial_states``, ``scan`` (``"sequential"`` or ``"chromatic"``) and ``client`` (resolved here).
    """
    from .._cluster import resolve_client
    from .._kernels.rng import seed_streams
    from ..exceptions import ValidationError

    if scan not in POTTS_SCANS:
        raise ValidationError(f"scan must be one of {', '.join(map(repr, POTTS_SCANS))} for a PottsMachine, got {scan!r}")
    n_ladder, n_variables = temperatures.shape[0], model.n_variables
    n_sweeps = pipeline.check_draw_sizes(n_samples, n_chains * n_ladder, n_variables, burn_in, thin, "all")
    clamped = check_evidence(model, evidence)
    initial = initial_potts_states(initial_states, model, n_chains)
    cards = np.array(model.cardinalities, dtype=np.int64)
    dtype = pipeline.state_dtype(cards)
    # states[r] holds the n_chains replicas at temperature r
    if initial is None:
        states = generator.integers(0, cards, size=(n_ladder, n_chains, n_variables))
    else:
        states = np.broadcast_to(initial, (n_ladder, n_chains, n_variables))
    states = np.array(states, dtype=dtype)
    for index, value in clamped.items():
        states[:, :, index] = value
    free = pipeline.free_units(n_variables, clamped)
    order = potts_update_order(model, free, scan)
    streams = seed_streams(generator, n_ladder * n_chains).reshape(n_ladder, n_chains)
    swap_streams = seed_streams(generator, n_chains)
    client = resolve_client(client)
    watch.prepared()
    average_degree = 2.0 * model.n_edges / max(n_variables, 1)
    cost = n_ladder * order.shape[0] * float(cards.mean()) * (1.0 + average_degree)  # a sweep of one ensemble
    ladder = PottsLadder(1.0 / temperatures, target, swap_interval, n_sweeps, burn_in, thin, n_samples, cost)
    out, accepted, attempted, threads = pipeline.run_chains(
        client, potts_exchange_chains, (model, order, ladder),
        (states.transpose(1, 0, 2), streams.T, swap_streams), progress=progress, description="tempering",
    )
    watch.sampled()
    accepted, attempted = accepted.sum(axis=0), attempted.sum(axis=0)  # one row per block
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(attempted > 0, accepted / np.maximum(attempted, 1), np.nan)[: n_ladder - 1]
    sampling = watch.sampling
    unit_updates = n_ladder * n_chains * n_sweeps * order.shape[0]
    info = {
        "sampler": "ParallelTemperingSampler", "scan": scan, "sweeps": n_sweeps, "burn_in": burn_in, "thin": thin,
        "swap_interval": swap_interval, "temperatures": np.array(temperatures), "target_index": target,
        "swap_acceptance": rates, "swap_attempts": attempted[: n_ladder - 1].copy(),
        "n_threads": max(threads), "unit_updates": unit_updates,
        "unit_updates_per_second": unit_updates / sampling if sampling > 0 else float("inf"),
        "seconds": {"setup": watch.prepared_at - watch.started, "sampling": sampling, "energies": 0.0},
    }
    pipeline.with_cluster(info, client, len(threads))
    temperature = float(temperatures[target])

    def energies():
        return model.energy(out.reshape(-1, n_variables)).reshape(out.shape[:2])

    return CategoricalSampleSet._with_lazy_energies(out, energies, model.names, temperature=temperature, info=info,
                                                    state_labels=model.state_labels)


class PottsLadder(NamedTuple):
    """What every ensemble of a Potts tempering run shares: the ladder, the swaps, the records, the cost."""

    betas: np.ndarray
    target: int
    swap_interval: int
    n_sweeps: int
    burn_in: int
    thin: int
    n_samples: int
    cost: float  # work of one ensemble's sweep (sizes the first kernel call)


def potts_exchange_chains(model, order: np.ndarray, ladder: PottsLadder, progress: bool, states: np.ndarray,
                          streams: np.ndarray, swap_streams: np.ndarray):
    """Replica-exchange ensembles of a Potts machine from their starting states and streams: one block of a run.

    Module-level so that a cluster's workers run it (:func:`pgm_energy.samplers._pipeline.run_chains`);
    each ensemble depends only on its rows of ``states``, ``streams`` and ``swap_streams``.

    Parameters
    ----------
    model : PottsMachine
    order : int64 ndarray
        The free variables in update order.
    ladder : PottsLadder
    states : unsigned integer ndarray, shape (n_chains, n_ladder, n_variables)
        Starting states of each ensemble's replicas, evidence applied.
    streams : uint64 ndarray, shape (n_chains, n_ladder)
        One stream per replica (it stays with its temperature).
    swap_streams : uint64 ndarray, shape (n_chains,)
        One stream per ensemble for its exchanges.

    Returns
    -------
    draws : ndarray, shape (n_chains, n_samples, n_variables)
        The target temperature's draws.
    accepted, attempted : int64 ndarray, shape (1, max(n_ladder - 1, 1))
        The block's swaps of each adjacent pair (one row: a run's blocks are summed).
    n_threads : int
    """
    from .._kernels.potts_gibbs import run_potts_chains
    from .._kernels.rng import uniforms

    n_chains, n_ladder, n_variables = states.shape
    states = np.ascontiguousarray(states.transpose(1, 0, 2))  # (n_ladder, n_chains, n_variables): a rung per call
    streams = np.ascontiguousarray(streams.T)
    swap_streams = np.array(swap_streams)
    weights = potts_weights(model)
    betas, target, swap_interval = ladder.betas, ladder.target, ladder.swap_interval
    n_sweeps, burn_in, thin = ladder.n_sweeps, ladder.burn_in, ladder.thin
    out = np.empty((n_chains, ladder.n_samples, n_variables), dtype=states.dtype)
    idle = np.empty((n_chains, 1, n_variables), dtype=states.dtype)  # the other rungs record nothing
    accepted = np.zeros(max(n_ladder - 1, 1), dtype=np.int64)
    attempted = np.zeros_like(accepted)

    def exchange(round_index: int) -> None:
        energies = np.stack([model.energy(states[r]) for r in range(n_ladder)])  # (n_ladder, n_chains)
        for k in range(round_index % 2, n_ladder - 1, 2):
            log_ratio = (betas[k] - betas[k + 1]) * (energies[k] - energies[k + 1])
            with np.errstate(over="ignore"):
                swap = uniforms(swap_streams) < np.exp(np.minimum(log_ratio, 0.0))
            attempted[k] += n_chains
            accepted[k] += int(swap.sum())
            states[k, swap], states[k + 1, swap] = states[k + 1, swap], states[k, swap].copy()
            energies[k, swap], energies[k + 1, swap] = energies[k + 1, swap], energies[k, swap].copy()

    def run(start, stop):
        sweep = start
        while sweep < stop:
            # up to the next exchange (after sweep s when (s + 1) % swap_interval == 0) or the end of the call
            end = min(stop, (sweep // swap_interval + 1) * swap_interval)
            slots = pipeline.record_slots(sweep, end, n_sweeps, burn_in, thin, "all")
            nothing = np.full(end - sweep, -1, dtype=np.int64)
            for r in range(n_ladder):
                run_potts_chains(states[r], streams[r], order, np.full(end - sweep, betas[r]),
                                 slots if r == target else nothing, out if r == target else idle, weights)
            if end % swap_interval == 0 and n_ladder > 1:
                exchange(end // swap_interval)
            sweep = end

    pipeline.run_sweeps(n_sweeps, run, cost_per_sweep=ladder.cost * n_chains, progress=progress,
                        description="tempering")
    return out, accepted[None, :], attempted[None, :], pipeline.thread_count()
