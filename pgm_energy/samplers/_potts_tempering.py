"""Parallel tempering of Potts machines (and categorical RBMs through their Potts embedding).

Each of the ``n_chains`` ensembles holds one replica per temperature of the ladder. The replicas
of one temperature are swept together by the Potts Gibbs kernel (:mod:`._potts`'s), at that
temperature; after every ``swap_interval`` sweeps, neighbouring temperatures ``T_k < T_k+1``
exchange the states of each ensemble with probability
``min(1, exp((1/T_k - 1/T_k+1) (E_k - E_k+1)))``, the even pairs and the odd pairs in alternate
rounds, as the binary sampler does. States move between temperatures, the random streams stay
with their temperature, and the exchange draws come from the call's generator at fixed sweeps,
so the draws do not depend on how the run is cut.
"""

from __future__ import annotations

import numpy as np

from .._potts_enumeration import check_evidence
from . import _pipeline as pipeline
from ._potts import POTTS_SCANS, initial_potts_states, potts_update_order, potts_weights
from .categorical_sampleset import CategoricalSampleSet

__all__ = ["temper_potts"]


def temper_potts(model, *, temperatures: np.ndarray, target: int, n_samples: int, n_chains: int, burn_in: int,
                 thin: int, swap_interval: int, scan: str, evidence, initial_states, generator, progress: bool,
                 watch) -> CategoricalSampleSet:
    """Replica exchange over ``temperatures`` (ascending); the draws of rung ``target`` in a CategoricalSampleSet.

    Arguments as :meth:`ParallelTemperingSampler.sample`, already checked but for ``evidence``,
    ``initial_states`` and ``scan`` (``"sequential"`` or ``"chromatic"``).
    """
    from .._kernels.potts_gibbs import run_potts_chains
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
    # states[r] holds the n_chains replicas at temperature r (contiguous: one kernel call per rung)
    if initial is None:
        states = generator.integers(0, cards, size=(n_ladder, n_chains, n_variables))
    else:
        states = np.broadcast_to(initial, (n_ladder, n_chains, n_variables))
    states = np.array(states, dtype=dtype)
    for index, value in clamped.items():
        states[:, :, index] = value
    free = pipeline.free_units(n_variables, clamped)
    order = potts_update_order(model, free, scan)
    weights = potts_weights(model)
    streams = seed_streams(generator, n_ladder * n_chains).reshape(n_ladder, n_chains)
    out = np.empty((n_chains, n_samples, n_variables), dtype=dtype)
    idle = np.empty((n_chains, 1, n_variables), dtype=dtype)  # the other rungs record nothing
    betas = 1.0 / temperatures
    accepted = np.zeros(max(n_ladder - 1, 1), dtype=np.int64)
    attempted = np.zeros_like(accepted)
    watch.prepared()

    def exchange(round_index: int) -> None:
        energies = np.stack([model.energy(states[r]) for r in range(n_ladder)])  # (n_ladder, n_chains)
        for k in range(round_index % 2, n_ladder - 1, 2):
            log_ratio = (betas[k] - betas[k + 1]) * (energies[k] - energies[k + 1])
            with np.errstate(over="ignore"):
                swap = generator.random(n_chains) < np.exp(np.minimum(log_ratio, 0.0))
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

    average_degree = 2.0 * model.n_edges / max(n_variables, 1)
    cost = n_ladder * n_chains * order.shape[0] * float(cards.mean()) * (1.0 + average_degree)
    pipeline.run_sweeps(n_sweeps, run, cost_per_sweep=cost, progress=progress, description="tempering")
    watch.sampled()
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(attempted > 0, accepted / np.maximum(attempted, 1), np.nan)[: n_ladder - 1]
    sampling = watch.sampling
    unit_updates = n_ladder * n_chains * n_sweeps * order.shape[0]
    info = {
        "sampler": "ParallelTemperingSampler", "scan": scan, "sweeps": n_sweeps, "burn_in": burn_in, "thin": thin,
        "swap_interval": swap_interval, "temperatures": np.array(temperatures), "target_index": target,
        "swap_acceptance": rates, "swap_attempts": attempted[: n_ladder - 1].copy(),
        "n_threads": pipeline.thread_count(), "unit_updates": unit_updates,
        "unit_updates_per_second": unit_updates / sampling if sampling > 0 else float("inf"),
        "seconds": {"setup": watch.prepared_at - watch.started, "sampling": sampling, "energies": 0.0},
    }
    temperature = float(temperatures[target])

    def energies():
        return model.energy(out.reshape(-1, n_variables)).reshape(out.shape[:2])

    return CategoricalSampleSet._with_lazy_energies(out, energies, model.names, temperature=temperature, info=info,
                                                    state_labels=model.state_labels)
