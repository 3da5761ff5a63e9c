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
binary machines. The random numbers are drawn sweep after sweep from the call's generator, so
the draws do not depend on how the run is cut into the time-bounded calls that let Ctrl-C through.
"""

from __future__ import annotations

import numpy as np

from .._gaussian_enumeration import check_evidence
from .._validation import describe
from ..exceptions import StateError
from ..models._gaussian_parts import check_real_states
from . import _pipeline as pipeline
from .real_sampleset import RealSampleSet

__all__ = ["sample_gaussian_rbm"]


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
                        progress: bool, watch, sampler: str) -> RealSampleSet:
    """Run block Gibbs on a Gaussian-Bernoulli RBM at each temperature of a ladder and wrap the draws of one.

    Parameters
    ----------
    temperatures : float64 array, shape (n_ladder,), ascending
        One temperature: plain block Gibbs. Several: replica exchange between them.
    target : int
        The rung whose draws are returned.
    swap_interval : int >= 1
        Sweeps between exchange rounds (unused with one temperature).
    Others as the samplers' ``sample``, already checked but for ``evidence`` and ``initial_states``.

    Returns
    -------
    RealSampleSet
        States (visible values, hidden 0/1) at ``temperatures[target]``; with a ladder, ``info``
        adds ``temperatures``, ``target_index``, ``swap_interval``, ``swap_acceptance`` and ``swap_attempts``.
    """
    n_visible, n_hidden = model.n_visible, model.n_hidden
    n_units, n_ladder = n_visible + n_hidden, temperatures.shape[0]
    n_sweeps = pipeline.check_draw_sizes(n_samples, n_chains * n_ladder, n_units, burn_in, thin, keep)
    hidden_evidence, visible_evidence = check_evidence(model, evidence)
    initial = _initial(initial_states, model, n_chains)
    # per rung: (n_ladder, 1, 1) scales broadcast over the chains
    temperature = temperatures[:, None, None]
    spread = model.sigma * np.sqrt(temperature)  # (n_ladder, 1, n_visible)
    if initial is None:
        visible = model.visible_bias + spread * generator.standard_normal((n_ladder, n_chains, n_visible))
        hidden = np.zeros((n_ladder, n_chains, n_hidden))
    else:
        visible = np.array(np.broadcast_to(initial[:, :n_visible], (n_ladder, n_chains, n_visible)))
        hidden = np.array(np.broadcast_to(initial[:, n_visible:], (n_ladder, n_chains, n_hidden)))
    visible_free = np.ones(n_visible, dtype=bool)
    hidden_free = np.ones(n_hidden, dtype=bool)
    for index, value in visible_evidence.items():
        visible[:, :, index], visible_free[index] = value, False
    for index, value in hidden_evidence.items():
        hidden[:, :, index], hidden_free[index] = value, False
    hidden_values = hidden[0, 0, ~hidden_free].copy()
    visible_values = visible[0, 0, ~visible_free].copy()
    precision_weights = model.weights / model.sigma[:, None] ** 2  # W_ij / sigma_i^2
    out = pipeline.allocate_draws((n_chains, n_samples if keep == "all" else 1, n_units), np.float64)
    betas = 1.0 / temperatures
    accepted = np.zeros(max(n_ladder - 1, 1), dtype=np.int64)
    attempted = np.zeros_like(accepted)
    watch.prepared()

    def exchange(round_index: int) -> None:
        energies = model.energy(visible.reshape(-1, n_visible), hidden.reshape(-1, n_hidden)).reshape(n_ladder, n_chains)
        for k in range(round_index % 2, n_ladder - 1, 2):
            log_ratio = (betas[k] - betas[k + 1]) * (energies[k] - energies[k + 1])
            with np.errstate(over="ignore"):
                swap = generator.random(n_chains) < np.exp(np.minimum(log_ratio, 0.0))
            attempted[k] += n_chains
            accepted[k] += int(swap.sum())
            for layer in (visible, hidden):
                layer[k, swap], layer[k + 1, swap] = layer[k + 1, swap], layer[k, swap].copy()
            energies[k, swap], energies[k + 1, swap] = energies[k + 1, swap], energies[k, swap].copy()

    def run(start, stop):
        slots = pipeline.record_slots(start, stop, n_sweeps, burn_in, thin, keep)
        for offset in range(stop - start):
            inputs = (visible @ precision_weights + model.hidden_bias) / temperature
            hidden[...] = generator.random((n_ladder, n_chains, n_hidden)) * (1.0 + np.exp(-inputs)) < 1.0  # u < sigmoid
            hidden[:, :, ~hidden_free] = hidden_values
            means = hidden @ model.weights.T + model.visible_bias
            visible[...] = means + spread * generator.standard_normal((n_ladder, n_chains, n_visible))
            visible[:, :, ~visible_free] = visible_values
            sweep = start + offset
            if n_ladder > 1 and (sweep + 1) % swap_interval == 0:
                exchange((sweep + 1) // swap_interval)
            slot = slots[offset]
            if slot >= 0:
                out[:, slot, :n_visible] = visible[target]
                out[:, slot, n_visible:] = hidden[target]

    cost = 2.0 * n_ladder * n_chains * n_visible * n_hidden
    with np.errstate(over="ignore"):  # exp(-inputs) overflows to inf for very negative inputs: sigmoid 0, as meant
        pipeline.run_sweeps(n_sweeps, run, cost_per_sweep=cost, progress=progress,
                            description="Gibbs" if n_ladder == 1 else "tempering")
    watch.sampled()
    sampling = watch.sampling
    unit_updates = n_ladder * n_chains * n_sweeps * int(visible_free.sum() + hidden_free.sum())
    info = {
        "sampler": sampler, "scan": "block", "sweeps": n_sweeps, "burn_in": burn_in, "thin": thin,
        "n_threads": 1, "unit_updates": unit_updates,
        "unit_updates_per_second": unit_updates / sampling if sampling > 0 else float("inf"),
        "seconds": {"setup": watch.prepared_at - watch.started, "sampling": sampling, "energies": 0.0},
    }
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
