"""Block Gibbs for Gaussian-Bernoulli RBMs: every hidden unit given the visible ones, then every visible one.

:class:`~pgm_energy.samplers.GibbsSampler` and :class:`~pgm_energy.samplers.ParallelTemperingSampler`
hand a :class:`~pgm_energy.models.gaussian_rbm.GaussianBernoulliRBM` to :func:`sample_gaussian_rbm`.
At temperature ``T`` the two conditionals of the energy (docs: concepts) are

* ``h_j | v ~ Bernoulli(sigmoid((c_j + sum_i W_ij v_i / sigma_i^2) / T))``, independent given ``v``;
* ``v_i | h ~ N(b_i + (W h)_i, sigma_i^2 T)``, independent given ``h``;

so one sweep (hidden layer, then visible layer) is exact block Gibbs. Evidence clamps hidden units
to 0/1 and visible units to real values: they are never updated, and the draws follow the
conditional distribution. The chains of every temperature advance together, vectorised (two
matrix products per sweep). With a ladder of temperatures, every ``swap_interval`` sweeps
neighbouring temperatures ``T_k < T_k+1`` exchange the states of each ensemble with probability
``min(1, exp((1/T_k - 1/T_k+1) (E_k - E_k+1)))``, even and odd pairs in alternate rounds, as for
binary machines. Every replica draws its numbers from a stream of its own (uniforms for the
hidden layer, polar-method normals for the visible one) and every ensemble its exchanges, so the
draws do not depend on how the run is cut into the time-bounded calls that let Ctrl-C through,
nor on which chains run together but through the products' rounding (a run on a Dask cluster
multiplies fixed groups of chains: :func:`gaussian_chain_groups`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._gaussian_enumeration import check_evidence
from .._validation import describe
from ..exceptions import StateError
from ..models._gaussian_parts import check_real_states
from . import _pipeline as pipeline
from .real_sampleset import RealSampleSet

__all__ = ["sample_gaussian_rbm", "gaussian_chains", "gaussian_chain_groups"]


def _initial(initial_states, model, n_chains: int) -> np.ndarray | None:
    """Checked starting states (visible reals, then hidden 0/1), shape (n_chains, n_units), or None."""
    if initial_states is None:
        return None
    n_units = model.n_visible + model.n_hidden
    try:
        shape = np.shape(initial_states)
    except (TypeError, ValueError):
        shape = None
    if shape not in ((n_units,), (n_chains, n_units)):
        raise StateError(
            f"initial_states must have shape ({n_units},) or (n_chains, {n_units}) = ({n_chains}, {n_units}) "
            f"(visible values, then hidden 0/1), got {describe(initial_states)}"
        )
    rows, _ = check_real_states(initial_states, n_units, "initial_states")
    hidden = rows[:, model.n_visible:]
    if not np.isin(hidden, (0.0, 1.0)).all():
        raise StateError("initial_states must hold 0/1 for the hidden units (the last n_hidden columns)")
    return np.array(np.broadcast_to(rows, (n_chains, n_units)), dtype=np.float64)


def sample_gaussian_rbm(model, *, temperatures: np.ndarray, target: int, swap_interval: int, n_samples: int,
                        n_chains: int, burn_in: int, thin: int, keep: str, evidence, initial_states, generator,
                        progress: bool, watch, sampler: str, client=None) -> RealSampleSet:
    """Run block Gibbs on a Gaussian-Bernoulli RBM at each temperature of a ladder and wrap the draws of one.

    Parameters
    ----------
    temperatures : float64 array, shape (n_ladder,), ascending
        One temperature: plain block Gibbs. Several: replica exchange between them.
    target : int
        The rung whose draws are returned.
    swap_interval : int >= 1
        Sweeps between exchange rounds (unused with one temperature).
    client : None or the samplers' ``client`` (resolved here)
        Run the chains on a Dask cluster, in groups of :data:`~pgm_energy.samplers._block.CHAINS_PER_PRODUCT`.
    Others as the samplers' ``sample``, already checked but for ``evidence`` and ``initial_states``.

    Returns
    -------
    RealSampleSet
        States (visible values, hidden 0/1) at ``temperatures[target]``; with a ladder, ``info``
        adds ``temperatures``, ``target_index``, ``swap_interval``, ``swap_acceptance`` and ``swap_attempts``.
    """
    from .._cluster import resolve_client
    from .._kernels.rng import seed_streams
    from ._block import CHAINS_PER_PRODUCT

    n_visible, n_hidden = model.n_visible, model.n_hidden
    n_units, n_ladder = n_visible + n_hidden, temperatures.shape[0]
    n_sweeps = pipeline.check_draw_sizes(n_samples, n_chains * n_ladder, n_units, burn_in, thin, keep)
    hidden_evidence, visible_evidence = check_evidence(model, evidence)
    initial = _initial(initial_states, model, n_chains)
    spread = model.sigma * np.sqrt(temperatures[:, None, None])  # (n_ladder, 1, n_visible)
    if initial is None:
        visible = model.visible_bias + spread * generator.standard_normal((n_ladder, n_chains, n_visible))
        hidden = np.zeros((n_ladder, n_chains, n_hidden))
    else:
        visible = np.array(np.broadcast_to(initial[:, :n_visible], (n_ladder, n_chains, n_visible)))
        hidden = np.array(np.broadcast_to(initial[:, n_visible:], (n_ladder, n_chains, n_hidden)))
    clamps = Clamps(np.ones(n_visible, dtype=bool), np.ones(n_hidden, dtype=bool), np.zeros(0), np.zeros(0))
    for index, value in visible_evidence.items():
        visible[:, :, index], clamps.visible_free[index] = value, False
    for index, value in hidden_evidence.items():
        hidden[:, :, index], clamps.hidden_free[index] = value, False
    clamps = clamps._replace(visible_values=visible[0, 0, ~clamps.visible_free].copy(),
                             hidden_values=hidden[0, 0, ~clamps.hidden_free].copy())
    streams = seed_streams(generator, n_ladder * n_chains).reshape(n_ladder, n_chains)
    swap_streams = seed_streams(generator, n_chains)
    client = resolve_client(client)
    watch.prepared()
    ladder = GaussianLadder(np.array(temperatures), target, swap_interval, n_sweeps, burn_in, thin,
                            n_samples if keep == "all" else 1, keep)
    out, accepted, attempted = pipeline.run_chains(
        client, gaussian_chains if client is None else gaussian_chain_groups, (model, clamps, ladder),
        (visible.transpose(1, 0, 2), hidden.transpose(1, 0, 2), streams.T, swap_streams), progress=progress,
        description="Gibbs" if n_ladder == 1 else "tempering", multiple=CHAINS_PER_PRODUCT,
    )
    watch.sampled()
    n_blocks = accepted.shape[0]
    accepted, attempted = accepted.sum(axis=0), attempted.sum(axis=0)  # one row per block
    sampling = watch.sampling
    unit_updates = n_ladder * n_chains * n_sweeps * int(clamps.visible_free.sum() + clamps.hidden_free.sum())
    info = {
        "sampler": sampler, "scan": "block", "sweeps": n_sweeps, "burn_in": burn_in, "thin": thin,
        "n_threads": 1, "unit_updates": unit_updates,
        "unit_updates_per_second": unit_updates / sampling if sampling > 0 else float("inf"),
        "seconds": {"setup": watch.prepared_at - watch.started, "sampling": sampling, "energies": 0.0},
    }
    pipeline.with_cluster(info, client, n_blocks)
    if n_ladder > 1:
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = np.where(attempted > 0, accepted / np.maximum(attempted, 1), np.nan)[: n_ladder - 1]
        info.update(temperatures=np.array(temperatures), target_index=target, swap_interval=swap_interval,
                    swap_acceptance=rates, swap_attempts=attempted[: n_ladder - 1].copy())

    def energies():
        flat = out.reshape(-1, n_units)
        return model.energy(flat[:, :n_visible], flat[:, n_visible:]).reshape(out.shape[:2])

    return RealSampleSet._with_lazy_energies(out, energies, model.names, temperature=float(temperatures[target]),
                                             info=info)


class Clamps(NamedTuple):
    """Evidence of a Gaussian-Bernoulli RBM run: which units are free, and the clamped units' values."""

    visible_free: np.ndarray
    hidden_free: np.ndarray
    visible_values: np.ndarray
    hidden_values: np.ndarray


class GaussianLadder(NamedTuple):
    """What every ensemble of a run shares: temperatures, target, exchanges and records."""

    temperatures: np.ndarray
    target: int
    swap_interval: int
    n_sweeps: int
    burn_in: int
    thin: int
    n_draws: int
    keep: str


def gaussian_chains(model, clamps: Clamps, ladder: GaussianLadder, progress: bool, visible: np.ndarray,
                    hidden: np.ndarray, streams: np.ndarray, swap_streams: np.ndarray):
    """Block-Gibbs ensembles of a Gaussian-Bernoulli RBM from their starting states and streams.

    Every chain's numbers come from its own streams; its states depend on the other chains run
    with it only through the rounding of the matrix products (see :func:`gaussian_chain_groups`).

    Parameters
    ----------
    visible : float64 ndarray, shape (n_chains, n_ladder, n_visible)
    hidden : float64 ndarray, shape (n_chains, n_ladder, n_hidden)
        Starting states of each ensemble's replicas, evidence applied.
    streams : uint64 ndarray, shape (n_chains, n_ladder)
        One stream per replica (it stays with its temperature).
    swap_streams : uint64 ndarray, shape (n_chains,)

    Returns
    -------
    draws : float64 ndarray, shape (n_chains, n_draws, n_visible + n_hidden)
    accepted, attempted : int64 ndarray, shape (1, max(n_ladder - 1, 1))
        The swaps of each adjacent pair (one row: a run's blocks are summed).
    """
    from .._kernels.rng import fill_normals, fill_uniforms, uniforms

    n_chains, n_ladder, n_visible = visible.shape
    n_hidden = hidden.shape[2]
    visible = np.ascontiguousarray(visible.transpose(1, 0, 2))  # (n_ladder, n_chains, n): the products' layout
    hidden = np.ascontiguousarray(hidden.transpose(1, 0, 2))
    streams = np.ascontiguousarray(streams.T).reshape(-1)  # replica r * n_chains + c, as the flattened layers
    swap_streams = np.array(swap_streams)
    temperatures, target, swap_interval = ladder.temperatures, ladder.target, ladder.swap_interval
    temperature = temperatures[:, None, None]
    spread = model.sigma * np.sqrt(temperature)
    precision_weights = model.weights / model.sigma[:, None] ** 2  # W_ij / sigma_i^2
    visible_free, hidden_free = clamps.visible_free, clamps.hidden_free
    out = pipeline.allocate_draws((n_chains, ladder.n_draws, n_visible + n_hidden), np.float64)
    betas = 1.0 / temperatures
    accepted = np.zeros(max(n_ladder - 1, 1), dtype=np.int64)
    attempted = np.zeros_like(accepted)
    noise_hidden = np.empty((n_ladder * n_chains, n_hidden))
    noise_visible = np.empty((n_ladder * n_chains, n_visible))

    def exchange(round_index: int) -> None:
        energies = model.energy(visible.reshape(-1, n_visible), hidden.reshape(-1, n_hidden)).reshape(n_ladder, n_chains)
        for k in range(round_index % 2, n_ladder - 1, 2):
            log_ratio = (betas[k] - betas[k + 1]) * (energies[k] - energies[k + 1])
            with np.errstate(over="ignore"):
                swap = uniforms(swap_streams) < np.exp(np.minimum(log_ratio, 0.0))
            attempted[k] += n_chains
            accepted[k] += int(swap.sum())
            for layer in (visible, hidden):
                layer[k, swap], layer[k + 1, swap] = layer[k + 1, swap], layer[k, swap].copy()
            energies[k, swap], energies[k + 1, swap] = energies[k + 1, swap], energies[k, swap].copy()

    def run(start, stop):
        slots = pipeline.record_slots(start, stop, ladder.n_sweeps, ladder.burn_in, ladder.thin, ladder.keep)
        for offset in range(stop - start):
            inputs = (visible @ precision_weights + model.hidden_bias) / temperature
            fill_uniforms(streams, noise_hidden)
            hidden[...] = noise_hidden.reshape(hidden.shape) * (1.0 + np.exp(-inputs)) < 1.0  # u < sigmoid
            hidden[:, :, ~hidden_free] = clamps.hidden_values
            means = hidden @ model.weights.T + model.visible_bias
            fill_normals(streams, noise_visible)
            visible[...] = means + spread * noise_visible.reshape(visible.shape)
            visible[:, :, ~visible_free] = clamps.visible_values
            sweep = start + offset
            if n_ladder > 1 and (sweep + 1) % swap_interval == 0:
                exchange((sweep + 1) // swap_interval)
            slot = slots[offset]
            if slot >= 0:
                out[:, slot, :n_visible] = visible[target]
                out[:, slot, n_visible:] = hidden[target]

    cost = 2.0 * n_ladder * n_chains * n_visible * n_hidden
    with np.errstate(over="ignore"):  # exp(-inputs) overflows to inf for very negative inputs: sigmoid 0, as meant
        pipeline.run_sweeps(ladder.n_sweeps, run, cost_per_sweep=cost, progress=progress,
                            description="Gibbs" if n_ladder == 1 else "tempering")
    return out, accepted[None, :], attempted[None, :]


def gaussian_chain_groups(model, clamps: Clamps, ladder: GaussianLadder, progress: bool, visible: np.ndarray,
                          hidden: np.ndarray, streams: np.ndarray, swap_streams: np.ndarray):
    """:func:`gaussian_chains` of each group of ``CHAINS_PER_PRODUCT`` chains in turn: one block of a run on a
    cluster, whose draws are then the same for any number of workers (see ``_block.CHAINS_PER_PRODUCT``)."""
    from ._block import CHAINS_PER_PRODUCT

    groups = [
        gaussian_chains(model, clamps, ladder, progress, *(part[first:first + CHAINS_PER_PRODUCT]
                                                           for part in (visible, hidden, streams, swap_streams)))
        for first in range(0, visible.shape[0], CHAINS_PER_PRODUCT)
    ]
    return (np.concatenate([draws for draws, _, _ in groups]), sum(group[1] for group in groups),
            sum(group[2] for group in groups))
