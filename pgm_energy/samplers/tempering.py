"""Parallel tempering (replica exchange) for Boltzmann machines."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import schedules
from .._cluster import resolve_client
from .._launch import call
from .._validation import (
    check_array_size,
    check_bool,
    check_evidence,
    check_int,
    check_rng,
    check_sweeps,
    refuse_out_of_memory,
)
from ..exceptions import ValidationError
from ..models import CategoricalRBM, GaussianBernoulliRBM, PottsMachine
from ._layout import as_boltzmann_machine, colour_classes, layout_of
from . import _pipeline as pipeline
from .sampleset import SampleSet

__all__ = ["ParallelTemperingSampler"]


class ParallelTemperingSampler:
    """Replica-exchange Monte Carlo over a ladder of temperatures.

    Each ensemble holds one replica per temperature; replicas do single-site
    heat-bath sweeps at their own temperature, and every ``swap_interval`` sweeps
    neighbouring temperatures ``T_k < T_k+1`` try to exchange their states, accepted
    with probability ``min(1, exp((1/T_k - 1/T_k+1) (E_k - E_k+1)))`` (even and
    odd pairs in alternate rounds). Hot replicas cross energy barriers and hand
    their states down, so the cold chain mixes between modes that trap plain Gibbs.

    Parameters
    ----------
    temperatures : array_like of float > 0
        The ladder, in the model's energy units; sorted ascending internally, no
        duplicates. The draws returned are those at the model's own temperature
        when it is on the ladder, otherwise those at the lowest temperature.
    swap_interval : int >= 1, default 1
        Sweeps between exchange rounds.
    burn_in : int >= 0, default 1000
    thin : int >= 1, default 1
    scan : {"sequential", "random", "chromatic"}, default "sequential"

    Examples
    --------
    >>> from pgm_energy import BoltzmannMachine
    >>> from pgm_energy.samplers import ParallelTemperingSampler
    >>> bm = BoltzmannMachine([[0.0, 4.0], [4.0, 0.0]], [-2.0, -2.0])
    >>> sampler = ParallelTemperingSampler([1.0, 2.0, 4.0], burn_in=10)
    >>> result = sampler.sample(bm, 50, n_chains=2, rng=0)
    >>> result.temperature, len(result.info["swap_acceptance"])
    (1.0, 2)
    """

    def __init__(self, temperatures, *, swap_interval=1, burn_in=1000, thin=1, scan="sequential"):
        ladder = schedules.as_temperatures(temperatures, "temperatures", allow_zero=False)
        ladder = np.sort(ladder)
        if np.any(np.diff(ladder) == 0):
            duplicate = float(ladder[np.flatnonzero(np.diff(ladder) == 0)[0]])
            raise ValidationError(f"temperatures must be distinct, got {duplicate!r} twice")
        ladder.flags.writeable = False
        self.temperatures = ladder
        self.swap_interval = check_int(swap_interval, "swap_interval", minimum=1)
        self.burn_in = check_int(burn_in, "burn_in", minimum=0)
        self.thin = check_int(thin, "thin", minimum=1)
        check_sweeps(self.burn_in, 1, self.thin)  # the fewest sweeps a call with these settings runs
        self.scan = pipeline.check_scan(scan)

    def __repr__(self) -> str:
        return (
            f"ParallelTemperingSampler(temperatures={self.temperatures.tolist()}, swap_interval={self.swap_interval}, "
            f"burn_in={self.burn_in}, thin={self.thin}, scan={self.scan!r})"
        )

    def _target(self, model) -> int:
        matches = np.flatnonzero(np.isclose(self.temperatures, model.temperature, rtol=1e-12, atol=0.0))
        return int(matches[0]) if matches.size else 0

    def sample(self, model, n_samples, *, n_chains=4, evidence=None, initial_states=None, rng=None,
               progress=True, client=None) -> SampleSet:
        """Draw ``n_samples`` states per ensemble at the target temperature.

        Parameters
        ----------
        model : BoltzmannMachine, RestrictedBoltzmannMachine, PottsMachine, CategoricalRBM or GaussianBernoulliRBM
            An RBM is sampled as its equivalent general machine (visible units first); a
            categorical RBM as its Potts embedding with the chromatic scan; a Gaussian-Bernoulli
            RBM by block Gibbs at each temperature (a RealSampleSet). A Potts machine
            returns a CategoricalSampleSet, its exchange rounds run in Python between kernel calls
            (one call per temperature): with small machines, a ``swap_interval`` of a few sweeps
            keeps that overhead down.
        n_samples : int >= 1
            Draws per ensemble, after ``burn_in`` sweeps, one every ``thin`` sweeps.
        n_chains : int >= 1, default 4
            Independent ensembles (each of ``len(temperatures)`` replicas), run in parallel.
        evidence : dict of str -> 0/1, optional
            Units clamped in every replica.
        initial_states : array_like of 0/1, optional
            Starting states (evidence overrides the clamped units; for an RBM, visible
            units then hidden units), of shape

            * ``(n_units,)``: every replica of every ensemble starts there;
            * ``(n_chains, n_units)``: row ``g`` starts every replica of ensemble ``g``;
            * ``(n_chains, n_temperatures, n_units)``: one start per replica, the second
              axis following :attr:`temperatures` (sorted ascending).

            Default: uniformly random states from ``rng``.
        rng : None, int or numpy.random.Generator
        progress : bool, default True
            Show a tqdm progress bar on stderr when it is a terminal and the call lasts more
            than half a second (updated after each short kernel call; the draws do not depend
            on how the run is cut).
        client : None, "local", "local:N", scheduler address or distributed.Client, optional
            Run the ensembles in blocks on a Dask cluster; the same ``rng`` gives the in-process
            draws, bit for bit (see :class:`~pgm_energy.samplers.GibbsSampler`; a
            ``GaussianBernoulliRBM``'s ensembles run in fixed groups of 16, as block Gibbs).

        Returns
        -------
        SampleSet
            Draws at the target temperature (``result.temperature``); ``info`` holds
            ``temperatures``, ``target_index``, ``swap_acceptance`` (one rate per adjacent
            pair, pooled over ensembles), ``swap_attempts``, ``swap_interval``, ``burn_in``,
            ``thin``, ``storage`` and the keys every sampler gives (``sampler``, ``scan``,
            ``sweeps``, ``n_threads``, ``unit_updates``, ``unit_updates_per_second``, ``seconds``).
        """
        watch = pipeline.Stopwatch()
        if isinstance(model, (PottsMachine, CategoricalRBM)):
            return self._sample_potts(model, n_samples, n_chains, evidence, initial_states, rng, progress, watch,
                                      client)
        if isinstance(model, GaussianBernoulliRBM):
            return self._sample_gaussian(model, n_samples, n_chains, evidence, initial_states, rng, progress, watch,
                                         client)
        pipeline.check_model(model)
        n_samples = check_int(n_samples, "n_samples", minimum=1)
        n_chains = check_int(n_chains, "n_chains", minimum=1)
        n_ladder, n_units = self.temperatures.shape[0], model.n_units
        # before the initial states, which would otherwise be blamed for an impossible n_chains
        check_array_size(
            n_chains * max(n_ladder, n_samples) * n_units,
            f"n_chains={n_chains} ensembles of {n_ladder} replicas and n_samples={n_samples} draws of {n_units} units",
        )
        n_sweeps = check_sweeps(self.burn_in, n_samples, self.thin)
        progress = check_bool(progress, "progress")
        original, model = model, as_boltzmann_machine(model)
        clamped = check_evidence(evidence, model.names)
        generator = check_rng(rng)
        target = self._target(original)
        with refuse_out_of_memory(f"n_chains={n_chains} ensembles of {n_ladder} replicas of {n_units} units"):
            initial = pipeline.check_initial_states(initial_states, n_units, n_chains=n_chains, n_ladder=n_ladder)
            states = pipeline.starting_states(initial, n_chains * n_ladder, n_units, clamped, generator)
            out, accepted, attempted, n_free, details = self._exchange(
                model, states, clamped, target, n_samples, n_sweeps, generator, progress, watch, resolve_client(client)
            )
        tried = attempted.sum(axis=0)[: n_ladder - 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            rates = np.where(tried > 0, accepted.sum(axis=0)[: n_ladder - 1] / np.maximum(tried, 1), np.nan)
        info = {
            "sampler": "ParallelTemperingSampler",
            "scan": self.scan,
            "burn_in": self.burn_in,
            "thin": self.thin,
            "sweeps": n_sweeps,
            "swap_interval": self.swap_interval,
            "temperatures": np.array(self.temperatures),
            "target_index": target,
            "swap_acceptance": rates,
            "swap_attempts": tried,
            "storage": details[0]["storage"],
            "n_threads": max(block["n_threads"] for block in details),
        }
        pipeline.with_cluster(info, client, len(details))
        return pipeline.wrap(original, out, temperature=float(self.temperatures[target]), watch=watch,
                             unit_updates=n_chains * n_ladder * n_sweeps * n_free, info=info)

    def _sample_potts(self, model, n_samples, n_chains, evidence, initial_states, rng, progress, watch, client):
        """Replica exchange of a Potts machine (:mod:`._potts_tempering`); a categorical RBM as its Potts
        embedding with the chromatic scan (one block-Gibbs step per sweep). Returns a CategoricalSampleSet."""
        from ._potts_tempering import temper_potts

        scan = self.scan
        if isinstance(model, CategoricalRBM):
            if scan not in ("sequential", "chromatic"):
                raise ValidationError(f"a CategoricalRBM is tempered with scan 'chromatic', got scan={scan!r}")
            target_model, model, scan = model, model.to_potts_machine(), "chromatic"
        else:
            target_model = model
        return temper_potts(
            model, temperatures=self.temperatures, target=self._target(target_model),
            n_samples=check_int(n_samples, "n_samples", minimum=1), n_chains=check_int(n_chains, "n_chains", minimum=1),
            burn_in=self.burn_in, thin=self.thin, swap_interval=self.swap_interval, scan=scan, evidence=evidence,
            initial_states=initial_states, generator=check_rng(rng), progress=check_bool(progress, "progress"),
            watch=watch, client=client,
        )

    def _sample_gaussian(self, model, n_samples, n_chains, evidence, initial_states, rng, progress, watch, client):
        """Replica exchange of block-Gibbs chains of a Gaussian-Bernoulli RBM (:mod:`._gaussian`)."""
        from ._gaussian import sample_gaussian_rbm

        if self.scan != "sequential":
            raise ValidationError(
                f"a GaussianBernoulliRBM is sampled by block Gibbs (the default scan), got scan={self.scan!r}")
        return sample_gaussian_rbm(
            model, temperatures=np.array(self.temperatures), target=self._target(model),
            swap_interval=self.swap_interval, n_samples=check_int(n_samples, "n_samples", minimum=1),
            n_chains=check_int(n_chains, "n_chains", minimum=1), burn_in=self.burn_in, thin=self.thin, keep="all",
            evidence=evidence, initial_states=initial_states, generator=check_rng(rng),
            progress=check_bool(progress, "progress"), watch=watch, sampler="ParallelTemperingSampler", client=client,
        )

    def _exchange(self, model, states, clamped, target, n_samples, n_sweeps, generator, progress, watch, client):
        """Run the replica-exchange sweeps of ``states`` (one row per replica), in process or on ``client``.

        Returns the target's draws (n_chains, n_samples, n_units), the accepted and attempted swaps,
        each (n_chains, max(n_ladder - 1, 1)), the free-unit count and the blocks' details.
        """
        from .._kernels.rng import seed_streams

        n_ladder = self.temperatures.shape[0]
        n_chains = states.shape[0] // n_ladder
        streams = seed_streams(generator, states.shape[0])
        swap_streams = seed_streams(generator, n_chains)
        free = pipeline.free_units(model.n_units, clamped)
        watch.prepared()
        ladder = Ladder(1.0 / self.temperatures, target, self.swap_interval, n_sweeps, self.burn_in, self.thin,
                        n_samples)
        out, accepted, attempted, details = pipeline.run_chains(
            client, exchange_chains, (model, free, self.scan, ladder),
            (states.reshape(n_chains, n_ladder, -1), streams.reshape(n_chains, n_ladder), swap_streams),
            progress=progress, description="tempering",
        )
        watch.sampled()
        return out, accepted, attempted, int(free.shape[0]), details


class Ladder(NamedTuple):
    """What every ensemble of a tempering run shares: inverse temperatures, target, swaps and records."""

    betas: np.ndarray
    target: int
    swap_interval: int
    n_sweeps: int
    burn_in: int
    thin: int
    n_samples: int


def exchange_chains(model, free: np.ndarray, scan: str, ladder: Ladder, progress: bool, states: np.ndarray,
                    streams: np.ndarray, swap_streams: np.ndarray):
    """Replica-exchange ensembles from their starting states and streams: one block of a (split) tempering run.

    Module-level so that a cluster's workers run it (:func:`pgm_energy.samplers._pipeline.run_chains`);
    each ensemble depends only on its rows of ``states``, ``streams`` and ``swap_streams``.

    Parameters
    ----------
    model : BoltzmannMachine
    free : int64 ndarray
        Units that may change.
    scan : {"sequential", "random", "chromatic"}
    ladder : Ladder
    states : uint8 ndarray, shape (n_chains, n_ladder, n_units)
        Starting states of each ensemble's replicas, evidence applied.
    streams : uint64 ndarray, shape (n_chains, n_ladder)
        One stream per replica.
    swap_streams : uint64 ndarray, shape (n_chains,)
        One stream per ensemble for its exchanges.

    Returns
    -------
    draws : uint8 ndarray, shape (n_chains, n_samples, n_units)
        The target temperature's draws.
    accepted, attempted : int64 ndarray, shape (n_chains, max(n_ladder - 1, 1))
        Swaps of each adjacent pair.
    details : dict
        ``storage`` ("csr" or "dense") and ``n_threads``.
    """
    from .._kernels import gibbs as kernels

    n_chains, n_ladder, n_units = states.shape
    n_replicas = n_chains * n_ladder
    states = np.array(states.reshape(n_replicas, n_units), order="C")  # updated in place
    streams = np.array(streams.reshape(n_replicas))
    swap_streams = np.array(swap_streams)
    out = pipeline.allocate_draws((n_chains, ladder.n_samples, n_units))
    layout = layout_of(model)
    if scan == "chromatic":
        class_ptr, class_units = colour_classes(model, free)
        code = kernels.CHROMATIC
    else:
        class_ptr = np.zeros(1, dtype=np.int64)
        class_units = np.zeros(0, dtype=np.int64)
        code = kernels.SEQUENTIAL if scan == "sequential" else kernels.RANDOM
    arrays = (layout.biases, *layout.weight_arrays)
    fields = np.empty(states.shape)
    call(kernels.initialise_fields, states, fields, *arrays)
    slot_replica = np.arange(n_replicas, dtype=np.int64).reshape(n_chains, n_ladder)
    accepted = np.zeros((n_chains, max(n_ladder - 1, 1)), dtype=np.int64)
    attempted = np.zeros_like(accepted)
    keys = streams.copy()  # the chromatic scan's counter keys: fixed for the whole run
    n_sweeps, burn_in, thin = ladder.n_sweeps, ladder.burn_in, ladder.thin

    # Each call continues exactly where the previous one stopped (states, streams, ladder
    # slots and the global sweep index), so the draws do not depend on the split.
    chains = kernels.Chains(states, fields, streams)
    colouring = kernels.Colouring(class_ptr, class_units)
    exchange = kernels.Exchange(np.array(ladder.betas), slot_replica, ladder.swap_interval, ladder.target,
                                swap_streams, accepted, attempted)

    def run(start, stop):
        record = kernels.Record(pipeline.record_slots(start, stop, n_sweeps, burn_in, thin, "all"), out)
        call(kernels.tempering_driver(code), chains, free, colouring, keys, start, exchange, record, layout.biases,
             layout.weights)

    pipeline.run_sweeps(
        n_sweeps, run, cost_per_sweep=layout.sweep_cost(n_replicas, free.shape[0]), progress=progress,
        description="tempering",
    )
    return out, accepted, attempted, {"storage": layout.storage, "n_threads": pipeline.thread_count()}
