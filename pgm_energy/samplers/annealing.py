"""Simulated annealing (and zero-temperature Hopfield dynamics) for Boltzmann machines."""

from __future__ import annotations

import functools
import math

import numpy as np

from .. import schedules
from .._cluster import resolve_client
from .._validation import (
    MarkedDefault,
    check_array_size,
    check_bool,
    check_evidence,
    check_int,
    check_rng,
    describe,
    refuse_out_of_memory,
    renamed_option,
)
from ..exceptions import ValidationError
from ..models import PottsMachine
from ._layout import as_boltzmann_machine
from . import _pipeline as pipeline
from ._single_site import merge_details, single_site_chains
from .sampleset import SampleSet

__all__ = ["SimulatedAnnealingSampler", "default_schedule"]

#: sweeps of the default schedule
DEFAULT_SWEEPS = 1000
_ACCEPTANCES = ("heat-bath", "metropolis")


#: expected number of uphill flips of the cheapest kind that a whole sweep accepts at the
#: default schedule's cold end
COLD_EXCITATIONS_PER_SWEEP = 0.01


def _flip_costs(model, clamped: dict) -> tuple[float, float, int]:
    """Largest possible flip cost of a free unit, the smallest excitation energy, and the free-unit count.

    Flipping unit ``i`` changes the energy by ``|z_i|``, ``z_i = b_i + sum_j W_ij s_j``; over all
    states of the other units ``z_i`` spans ``[b_i + sum_j min(W_ij, 0), b_i + sum_j max(W_ij, 0)]``,
    so the largest cost is exact. The smallest excitation is estimated as the smallest of
    ``|W_ij| / 2`` and ``|b_i|`` over the non-zero ones: a coupling ``W`` between 0/1 units is
    the Ising bond ``J = W / 4``, whose frustration costs ``2 |J| = |W| / 2``, so collective
    moves such as domain walls can cost half a coupling. Evidence is folded into the biases
    first, so clamped units count as constants.
    """
    import scipy.sparse as sp

    free = pipeline.free_units(model.n_units, clamped)
    if free.size == 0:
        return 0.0, 0.0, 0
    weights = model.weights
    biases = np.array(model.biases, dtype=np.float64)
    if clamped:
        index = np.array(sorted(clamped), dtype=np.int64)
        values = np.array([clamped[i] for i in index], dtype=np.float64)
        biases = biases + np.asarray(weights[:, index] @ values).ravel()
    biases = biases[free]
    if sp.issparse(weights):
        block = sp.csr_array(weights[free][:, free])
        highest = biases + np.asarray(block.maximum(0).sum(axis=1)).ravel()
        lowest = biases + np.asarray(block.minimum(0).sum(axis=1)).ravel()
        couplings = block.data
    else:
        block = weights[np.ix_(free, free)]
        highest = biases + np.clip(block, 0.0, None).sum(axis=1)
        lowest = biases + np.clip(block, None, 0.0).sum(axis=1)
        couplings = block[block != 0]
    nonzero = np.abs(np.concatenate([couplings / 2.0, biases]))
    nonzero = nonzero[nonzero != 0]
    largest = float(np.maximum(np.abs(highest), np.abs(lowest)).max())
    return largest, float(nonzero.min()) if nonzero.size else 0.0, int(free.size)


def default_schedule(model, n_sweeps=DEFAULT_SWEEPS, *, evidence=None) -> np.ndarray:
    """The default geometric annealing schedule for ``model``.

    Hot end: the costliest flip any free unit can face, ``dE_max = max_i max |z_i|`` over all
    states, is accepted with probability 1/2 by the Metropolis rule (``T_hot = dE_max / ln 2``).
    Cold end: an excitation costing ``dE_min``, the smallest of ``|W_ij| / 2`` (an Ising bond
    ``W / 4`` frustrated, as by a domain wall) and ``|b_i|``, is accepted with probability
    ``0.01 / n`` for each of the ``n`` free units, so a whole sweep makes such an uphill move
    with probability about 1/100 (``T_cold = dE_min / ln(100 n)``): the final sweeps only
    descend, however large the model. For a model built from an Ising problem both ends equal
    dwave-samplers' default beta range. Evidence is folded into the biases first. A model without
    any coupling or bias gets ``T = 1`` throughout. For a :class:`~pgm_energy.models.PottsMachine` the
    ends come from the same rule with an update's largest change of local field and the smallest
    non-zero difference of two entries of a field vector or a coupling column
    (:func:`pgm_energy.samplers._potts.update_costs`).

    Returns
    -------
    ndarray, shape (n_sweeps,)
        Temperatures in the model's energy units (the model's own temperature is not used).
    """
    n_sweeps = schedules.check_length(n_sweeps, "n_sweeps")
    if isinstance(model, PottsMachine):
        from .._potts_enumeration import check_evidence as check_potts_evidence

        return _default_schedule(model, n_sweeps, check_potts_evidence(model, evidence))
    model = pipeline.check_model(as_boltzmann_machine(model), allow_rbm=False)
    return _default_schedule(model, n_sweeps, check_evidence(evidence, model.names))


def _default_schedule(model, n_sweeps: int, clamped: dict) -> np.ndarray:
    """:func:`default_schedule` of a general machine or a Potts machine with checked arguments (``clamped``: index -> state)."""
    if isinstance(model, PottsMachine):
        from ._potts import update_costs

        largest, smallest, n_free = update_costs(model, clamped)
    else:
        largest, smallest, n_free = _flip_costs(model, clamped)
    if largest == 0.0:
        return np.ones(n_sweeps)
    t_hot = largest / math.log(2.0)
    t_cold = min(smallest / math.log(n_free / COLD_EXCITATIONS_PER_SWEEP), t_hot)
    return schedules.geometric(t_hot, t_cold, n_sweeps)


# the default n_samples, told apart from an explicit 10 so that n_reads together with it is refused
_DEFAULT_SAMPLES = MarkedDefault(10)


class SimulatedAnnealingSampler:
    """Simulated annealing by single-site heat-bath (or Metropolis) sweeps down a temperature schedule.

    Parameters
    ----------
    schedule : array_like of float >= 0, optional
        One temperature per sweep, in the model's energy units (``p ~ exp(-E / T)``;
        the model's own temperature is ignored). Build one with
        :mod:`pgm_energy.schedules`. A temperature of 0 is the zero-temperature
        limit: deterministic asynchronous Hopfield updates ``s_i = [z_i > 0]`` (ties
        keep the state), under which the energy never increases. Default:
        :func:`default_schedule` with ``n_sweeps`` sweeps.
    n_sweeps : int >= 1, optional
        Length of the default schedule (1000). With an explicit ``schedule`` it may
        be omitted, or must equal ``len(schedule)``.
    scan : {"sequential", "random", "chromatic"}, default "sequential"
        Order of the single-site updates in a sweep (see :class:`GibbsSampler`).
    acceptance : {"heat-bath", "metropolis"}, default "heat-bath"
        Single-site rule at a finite temperature ``T``. ``"metropolis"``: propose
        flipping ``s_i``, accept with probability ``min(1, exp(-dE / T))`` where
        ``dE = -(1 - 2 s_i) z_i`` is the energy change and ``z = b + W s`` the local
        field. ``"heat-bath"`` (Gibbs): set ``s_i = 1`` with probability
        ``sigmoid(z_i / T)``. Both leave the Boltzmann distribution at ``T``
        invariant. Metropolis flips more often (it always accepts a downhill or
        level flip), which often ends a schedule at lower energies on glassy
        problems (it is neal's default); but level flips accepted with probability 1
        make sequential sweeps nearly deterministic where fields vanish (on a
        frustrated odd ring, domain walls then chase each other round the ring and
        never annihilate), which is why heat bath stays the default. At ``T = 0``
        both are the Hopfield update.

    Examples
    --------
    >>> from pgm_energy import BoltzmannMachine
    >>> from pgm_energy.samplers import SimulatedAnnealingSampler
    >>> bm = BoltzmannMachine([[0.0, -2.0], [-2.0, 0.0]], [1.0, 1.5])
    >>> result = SimulatedAnnealingSampler(n_sweeps=100).sample(bm, 4, rng=0)
    >>> result.lowest()[0].tolist()
    [[0, 1]]
    """

    def __init__(self, *, schedule=None, n_sweeps=None, scan="sequential", acceptance="heat-bath"):
        if n_sweeps is not None:
            n_sweeps = schedules.check_length(n_sweeps, "n_sweeps")
        if schedule is not None:
            schedule = schedules.as_temperatures(schedule, "schedule", allow_zero=True)
            schedule.flags.writeable = False
            if n_sweeps is not None and n_sweeps != schedule.shape[0]:
                raise ValidationError(
                    f"n_sweeps must equal len(schedule) = {schedule.shape[0]} when both are given, got {n_sweeps}"
                )
        self.schedule = schedule
        self.n_sweeps = (DEFAULT_SWEEPS if schedule is None else schedule.shape[0]) if n_sweeps is None else n_sweeps
        self.scan = pipeline.check_scan(scan)
        if not isinstance(acceptance, str) or acceptance not in _ACCEPTANCES:
            raise ValidationError(
                f"acceptance must be one of {', '.join(map(repr, _ACCEPTANCES))}, got {describe(acceptance)}"
            )
        self.acceptance = acceptance

    def __repr__(self) -> str:
        kind = "default" if self.schedule is None else "custom"
        return (
            f"SimulatedAnnealingSampler(n_sweeps={self.n_sweeps}, schedule={kind}, scan={self.scan!r}, "
            f"acceptance={self.acceptance!r})"
        )

    def sample(self, model, n_samples=_DEFAULT_SAMPLES, *, evidence=None, initial_states=None, rng=None,
               progress=True, n_reads=None, client=None) -> SampleSet:
        """Anneal ``n_samples`` independent chains and return their final states.

        Parameters
        ----------
        model : BoltzmannMachine or RestrictedBoltzmannMachine
            An RBM is annealed as its equivalent general machine (visible units first).
        n_samples : int >= 1, default 10
            Independent annealing runs (run in parallel), one draw each.
        evidence : dict of str -> 0/1, optional
            Clamped units, never updated.
        initial_states : array_like of 0/1, shape (n_units,) or (n_samples, n_units), optional
            Default: uniformly random from ``rng``.
        rng : None, int or numpy.random.Generator
        progress : bool, default True
            Show a tqdm progress bar over the schedule's sweeps on stderr when it is a terminal
            and the call lasts more than half a second.
        n_reads : int, optional
            Deprecated alias of ``n_samples`` (neal's name); emits a DeprecationWarning.
        client : None, "local", "local:N", scheduler address or distributed.Client, optional
            Run the annealing runs in blocks on a Dask cluster; the same ``rng`` gives the
            in-process states, bit for bit (see :class:`~pgm_energy.samplers.GibbsSampler`).

        Returns
        -------
        SampleSet
            ``n_chains = n_samples``, ``n_draws = 1``; ``energies`` equal ``model.energy``;
            ``temperature`` is the last temperature of the schedule; ``info`` holds the
            common keys (``sampler``, ``scan``, ``sweeps``, ``n_threads``, ``unit_updates``,
            ``unit_updates_per_second``, ``seconds``) and ``acceptance``, ``schedule``, ``storage``.

        Raises
        ------
        TypeError
            For both ``n_samples`` and ``n_reads``.
        """
        watch = pipeline.Stopwatch()
        n_samples, count_name = renamed_option(
            n_samples, n_reads, name="n_samples", old_name="n_reads", where="SimulatedAnnealingSampler.sample",
            default=_DEFAULT_SAMPLES,
        )
        n_samples = check_int(n_samples, count_name, minimum=1)
        if isinstance(model, PottsMachine):
            check_array_size(n_samples * model.n_variables, f"{count_name}={n_samples} runs of {model.n_variables} "
                             "variables")
            return self._anneal_potts(model, n_samples, evidence, initial_states, rng, progress, watch, client)
        pipeline.check_model(model)
        runs = f"{count_name}={n_samples} runs of {model.n_units} units"
        check_array_size(n_samples * model.n_units, runs)  # before the initial states are blamed for it
        original, model = model, as_boltzmann_machine(model)
        clamped = check_evidence(evidence, model.names)
        generator = check_rng(rng)
        progress = check_bool(progress, "progress")
        temperatures = (
            _default_schedule(model, self.n_sweeps, clamped) if self.schedule is None else self.schedule
        )
        with refuse_out_of_memory(runs):
            initial = pipeline.check_initial_states(
                initial_states, model.n_units, n_chains=n_samples, count_name=count_name
            )
            states = pipeline.starting_states(initial, n_samples, model.n_units, clamped, generator)
            return self._anneal(model, original, states, clamped, generator, temperatures, watch, progress,
                                resolve_client(client))

    def _anneal_potts(self, model, n_samples, evidence, initial_states, rng, progress, watch, client):
        """Anneal a Potts machine by heat-bath sweeps (:mod:`._potts`); returns a CategoricalSampleSet."""
        from .._potts_enumeration import check_evidence as check_potts_evidence
        from ._potts import sample_potts

        if self.acceptance != "heat-bath":
            raise ValidationError(
                f"acceptance={self.acceptance!r} is for binary units; a PottsMachine is annealed by heat bath"
            )
        temperatures = (
            _default_schedule(model, self.n_sweeps, check_potts_evidence(model, evidence))
            if self.schedule is None else self.schedule
        )
        with np.errstate(divide="ignore"):
            betas = 1.0 / temperatures  # T = 0 -> beta = inf: the descent to the largest local field
        samples = sample_potts(
            model, n_samples=1, n_chains=n_samples, burn_in=temperatures.shape[0] - 1, thin=1, keep="last",
            scan=self.scan, evidence=evidence, initial_states=initial_states,
            betas_of=lambda start, stop: np.ascontiguousarray(betas[start:stop]),
            temperature=float(temperatures[-1]), generator=check_rng(rng), progress=check_bool(progress, "progress"),
            watch=watch, sampler="SimulatedAnnealingSampler", description="annealing", client=client,
        )
        samples.info.update(acceptance="heat-bath", schedule=np.array(temperatures))
        for key in ("burn_in", "thin"):
            del samples.info[key]
        return samples

    def _anneal(self, model, original, states, clamped, generator, temperatures, watch, progress, client):
        from .._kernels.rng import seed_streams

        n_runs, n_units = states.shape
        streams = seed_streams(generator, n_runs)
        free = pipeline.free_units(n_units, clamped)
        with np.errstate(divide="ignore"):
            betas = np.ascontiguousarray((1.0 / temperatures)[:, None])  # T = 0 -> beta = inf: Hopfield updates
        n_sweeps = temperatures.shape[0]
        sweeps = pipeline.Sweeps(
            n_sweeps, functools.partial(_schedule_rows, betas),
            functools.partial(pipeline.record_slots, n_sweeps=n_sweeps, burn_in=0, thin=1, keep="last"),
        )
        watch.prepared()
        out, details = pipeline.run_chains(
            client, single_site_chains, (model, free, self.scan, self.acceptance, sweeps, 1, "annealing"),
            (states, streams), progress=progress, description="annealing",
        )
        watch.sampled()
        info = {
            "sampler": "SimulatedAnnealingSampler",
            "scan": self.scan,
            "acceptance": self.acceptance,
            "sweeps": int(n_sweeps),
            "schedule": np.array(temperatures),
            **merge_details(details),
        }
        return pipeline.wrap(original, out, temperature=float(temperatures[-1]), watch=watch,
                             unit_updates=n_runs * n_sweeps * free.shape[0],
                             info=pipeline.with_cluster(info, client, len(details)))


def _schedule_rows(betas: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Rows ``start .. stop - 1`` of an annealing schedule's inverse temperatures, shape (stop - start, 1)."""
    return betas[start:stop]
