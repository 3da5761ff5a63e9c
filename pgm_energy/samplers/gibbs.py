"""Gibbs sampling of Boltzmann machines: single-site heat bath, or block Gibbs for RBMs.

The wrapper validates, turns the model into flat arrays (CSR or dense weights,
whichever is cheaper), runs a Numba kernel of :mod:`pgm_energy._kernels.gibbs`,
and wraps the states in a :class:`~pgm_energy.samplers.SampleSet`.
"""

from __future__ import annotations

import functools

import numpy as np

from .._cluster import resolve_client
from .._validation import (
    check_bool,
    check_evidence,
    check_float_dtype,
    check_int,
    check_positive_temperature,
    check_rng,
    check_sweeps,
    refuse_out_of_memory,
)
from ..exceptions import ValidationError
from ..models import (CategoricalRBM, DeepBoltzmannMachine, GaussianBernoulliRBM, PottsMachine,
                      RestrictedBoltzmannMachine)
from ._block import run_block_gibbs
from . import _pipeline as pipeline
from ._scan_choice import AUTO, choose_scan
from ._single_site import merge_details, single_site_chains
from .sampleset import SampleSet

__all__ = ["GibbsSampler"]


def _constant_betas(beta: float, start: int, stop: int) -> np.ndarray:
    """Inverse temperatures of sweeps ``start .. stop - 1`` of a run at one temperature: shape (stop - start, 1)."""
    return np.full((stop - start, 1), beta)


class GibbsSampler:
    """Gibbs sampler for Boltzmann machines and restricted Boltzmann machines.

    General machines get single-site heat-bath updates
    ``s_i <- 1 with probability sigmoid(z_i / T)`` with cached local fields
    ``z = b + W s`` (CSR or dense weights, whichever is cheaper); restricted
    machines get block Gibbs (all hidden units, then all visible units).

    Parameters
    ----------
    burn_in : int >= 0, default 1000
        Sweeps discarded before the first draw.
    thin : int >= 1, default 1
        Sweeps between successive draws. One call runs at most ``MAX_SWEEPS``
        (2**28) sweeps, ``burn_in + n_samples * thin``.
    scan : {"auto", "sequential", "random", "chromatic"}, default "auto"
        Order of single-site updates in a sweep: every free unit in index order;
        ``n_free`` units drawn uniformly with replacement; or colour class after
        colour class of a greedy graph colouring, each class updated in parallel
        (units of a class are conditionally independent). ``"auto"`` picks
        ``"chromatic"`` for a machine whose weights are sparse (stored CSR: at most a
        quarter of them non-zero) and whose graph is bipartite (two colour classes:
        lattices, grids, trees, RBM-shaped graphs), where it is at least as fast as the
        sequential scan and the classes of even one chain run on several threads; and
        ``"sequential"`` otherwise (dense weights, odd cycles, more than 64 connected
        components). The choice depends on the model only, never on threads or chains;
        ``info["scan"]`` says which scan ran. Ignored for RBMs (block Gibbs).
    dtype : {"float64", "float32"}, default "float64"
        Precision of the block-Gibbs matrix products for RBMs (float32 is faster and
        samples the machine with float32-rounded parameters). Ignored for general
        machines. Accepts what NumPy reads as one of the two (``np.float32``,
        ``"f4"``, a dtype object), as the trainers do; stored as the dtype's name.

    Notes
    -----
    A sweep is ``n_free`` single-site updates (``n_free``: units not clamped by
    evidence). Each chain has its own random stream seeded from ``rng``; the
    chromatic scan draws the number for unit ``i`` at sweep ``t`` from a
    counter-based generator keyed by the chain. Either way the same ``rng``
    gives the same samples whatever the number of Numba threads.

    With sparse weights, sequential and chromatic sweeps interleave up to four
    chains of a thread in one loop, which updates more spins per second than one
    chain at a time (figures in docs/benchmarks.md, from benchmarks/bench_ising.py).

    Examples
    --------
    >>> from pgm_energy import BoltzmannMachine
    >>> from pgm_energy.samplers import GibbsSampler
    >>> bm = BoltzmannMachine([[0.0, 1.0], [1.0, 0.0]], [-0.5, 0.5])
    >>> result = GibbsSampler(burn_in=10).sample(bm, 100, n_chains=2, rng=0)
    >>> result.states.shape
    (2, 100, 2)
    """

    def __init__(self, *, burn_in=1000, thin=1, scan="auto", dtype="float64"):
        self.burn_in = check_int(burn_in, "burn_in", minimum=0)
        self.thin = check_int(thin, "thin", minimum=1)
        check_sweeps(self.burn_in, 1, self.thin)  # the fewest sweeps a call with these settings runs
        self.scan = pipeline.check_scan(scan, (AUTO, *pipeline.SCANS))
        self.dtype = check_float_dtype(dtype).name

    def __repr__(self) -> str:
        return f"GibbsSampler(burn_in={self.burn_in}, thin={self.thin}, scan={self.scan!r}, dtype={self.dtype!r})"

    def sample(
        self,
        model,
        n_samples,
        *,
        n_chains=4,
        evidence=None,
        initial_states=None,
        temperature=None,
        rng=None,
        progress=True,
        keep="all",
        client=None,
    ) -> SampleSet:
        """Draw ``n_samples`` states per chain from ``model``'s Boltzmann distribution.

        Parameters
        ----------
        model : BoltzmannMachine or RestrictedBoltzmannMachine
        n_samples : int >= 1
            Draws per chain, taken after ``burn_in`` sweeps, one every ``thin`` sweeps
            (``burn_in + n_samples * thin`` sweeps in all, at most ``MAX_SWEEPS`` = 2**28,
            even with ``keep="last"``).
        n_chains : int >= 1, default 4
            Independent chains (run in parallel).
        evidence : dict of str -> 0/1, optional
            Units clamped to a value: never updated, so the draws follow the
            conditional distribution given the evidence.
        initial_states : array_like of 0/1, shape (n_units,) or (n_chains, n_units), optional
            Starting states (default: uniformly random from ``rng``); evidence overrides
            the clamped units. For an RBM: visible units then hidden units.
        temperature : float > 0, optional
            Sample at this temperature instead of the model's.
        rng : None, int or numpy.random.Generator
        progress : bool, default True
            Show a tqdm progress bar on stderr when it is a terminal and the call lasts more
            than half a second (updated after each kernel call; every run is cut into short
            calls so that Ctrl-C is answered, and the samples do not depend on the cut).
        keep : {"all", "last"}, default "all"
            Keep every draw, or only the last one of each chain (``n_draws = 1``:
            a long run that needs only its final states keeps no history).
        client : None, "local", "local:N", scheduler address or distributed.Client, optional
            Run the chains in blocks on a Dask cluster (``pip install "pgm_energy[distributed]"``;
            see :mod:`pgm_energy.distributed`). Each chain's stream and starting state are drawn
            here from ``rng``, so the draws are the in-process draws, bit for bit, whatever the
            number of workers; the progress bar then counts finished chains. Block Gibbs (RBMs,
            deep and Gaussian-Bernoulli machines) multiplies fixed groups of 16 chains on a
            cluster: the same bits for every number of workers, the in-process bits up to 16 chains
            (beyond, up to the products' rounding: docs/scaling_out.md).

        Returns
        -------
        SampleSet
            ``states`` (n_chains, n_draws, n_units) uint8, ``energies`` equal to
            ``model.energy`` of each state (offset included; computed when first read),
            ``info`` with the keys every sampler gives (``sampler``, ``scan`` (the scan
            that ran), ``sweeps``, ``n_threads``, ``unit_updates``,
            ``unit_updates_per_second``, ``seconds``: ``setup``, ``sampling``,
            ``energies``, 0.0 until the energies are read), ``burn_in`` and ``thin``; with ``client``,
            ``cluster`` (``workers``, ``blocks``) and the workers' ``n_threads``; single-site runs add
            ``storage`` (and ``n_colours``, ``parallel_over`` for the chromatic scan, and with
            ``parallel_over="classes"`` the ``sweeps_over_classes`` that ran split across threads),
            RBMs (``scan="block"``) add ``n_chains``, ``dtype``, ``temperature``, ``threads``.

        Raises
        ------
        ParameterTypeError
            For a model that is not a Boltzmann machine, or arguments of the wrong type.
        ValidationError, StateError, EvidenceError
            For bad values, non-0/1 or wrongly shaped initial states, unknown
            evidence variables or evidence values other than 0/1.
        ModelSizeError
            For more than ``MAX_SWEEPS`` sweeps, or draws (or chains) too many to hold
            (over ``MAX_ARRAY_ENTRIES`` = 2**31 unit states).
        """
        watch = pipeline.Stopwatch()
        if isinstance(model, DeepBoltzmannMachine):
            return self._sample_deep(model, n_samples, n_chains=n_chains, evidence=evidence,
                                     initial_states=initial_states, temperature=temperature, rng=rng,
                                     progress=progress, keep=keep, client=client)
        if isinstance(model, GaussianBernoulliRBM):
            return self._sample_gaussian(model, n_samples, n_chains, evidence, initial_states, temperature, rng,
                                         progress, keep, watch, client)
        if isinstance(model, (PottsMachine, CategoricalRBM)):
            return self._sample_potts(model, n_samples, n_chains, evidence, initial_states, temperature, rng,
                                      progress, keep, watch, client)
        pipeline.check_model(model)
        n_samples = check_int(n_samples, "n_samples", minimum=1)
        n_chains = check_int(n_chains, "n_chains", minimum=1)
        n_sweeps = pipeline.check_draw_sizes(n_samples, n_chains, model.n_units, self.burn_in, self.thin, keep)
        clamped = check_evidence(evidence, model.names)
        temperature = (
            model.temperature
            if temperature is None
            else check_positive_temperature(temperature, energy_scale=model.energy_bound)
        )
        generator = check_rng(rng)
        progress = check_bool(progress, "progress")
        with refuse_out_of_memory(f"n_chains={n_chains} chains of {model.n_units} units"):
            initial = pipeline.check_initial_states(initial_states, model.n_units, n_chains=n_chains)
            run = self._sample_rbm if isinstance(model, RestrictedBoltzmannMachine) else self._sample_general
            draws, info = run(
                model, n_samples, n_chains, clamped, initial, temperature, generator, progress, keep, watch,
                resolve_client(client),
            )
            info.update(sampler="GibbsSampler", burn_in=self.burn_in, thin=self.thin, sweeps=n_sweeps)
            return pipeline.wrap(
                model, draws, temperature=temperature, watch=watch, unit_updates=info.pop("unit_updates"), info=info
            )

    def _sample_deep(self, model, n_samples, *, initial_states, **options) -> SampleSet:
        """A deep Boltzmann machine sampled as its bipartite RBM: block Gibbs of the odd layers given the even
        ones, then the even layers given the odd ones (the two-colour sampler); draws in the machine's unit order.

        Evidence goes by name (the RBM keeps the names); ``initial_states`` are in the machine's order.
        """
        rbm = model.to_bipartite_rbm()
        to_rbm = np.array([model.index(name) for name in rbm.names])
        if initial_states is not None:
            n_chains = check_int(options["n_chains"], "n_chains", minimum=1)
            batch = pipeline.check_initial_states(initial_states, model.n_units, n_chains=n_chains)
            initial_states = batch[..., to_rbm]
        draws = self.sample(rbm, n_samples, initial_states=initial_states, **options)
        back = np.argsort(to_rbm)
        return SampleSet(draws.states[..., back], draws.energies, model.names, temperature=draws.temperature,
                         info=draws.info)

    def _sample_gaussian(self, model, n_samples, n_chains, evidence, initial_states, temperature, rng, progress, keep,
                         watch, client):
        """Block Gibbs of a Gaussian-Bernoulli RBM (:mod:`._gaussian`); returns a RealSampleSet."""
        from ._gaussian import sample_gaussian_rbm

        if self.scan != AUTO:
            raise ValidationError(
                f"a GaussianBernoulliRBM is sampled by block Gibbs (scan='auto'), got scan={self.scan!r}"
            )
        n_samples = check_int(n_samples, "n_samples", minimum=1)
        n_chains = check_int(n_chains, "n_chains", minimum=1)
        temperature = (
            model.temperature
            if temperature is None
            else check_positive_temperature(temperature, energy_scale=model.energy_bound)
        )
        return sample_gaussian_rbm(
            model, temperatures=np.array([temperature]), target=0, swap_interval=1, n_samples=n_samples,
            n_chains=n_chains, burn_in=self.burn_in, thin=self.thin, keep=keep, evidence=evidence,
            initial_states=initial_states, generator=check_rng(rng), progress=check_bool(progress, "progress"),
            watch=watch, sampler="GibbsSampler", client=client,
        )

    def _sample_potts(self, model, n_samples, n_chains, evidence, initial_states, temperature, rng, progress, keep,
                      watch, client):
        """Heat-bath sweeps of a Potts machine (:mod:`._potts`); returns a CategoricalSampleSet.

        A categorical RBM is sampled as its exact Potts embedding with the chromatic scan: its graph
        is bipartite, so the two colour classes are the hidden and the visible layer and a sweep is
        one block-Gibbs step (every hidden unit, then every visible variable).
        """
        from ._potts import sample_potts

        scan = "sequential" if self.scan == AUTO else self.scan
        if isinstance(model, CategoricalRBM):
            if self.scan not in (AUTO, "chromatic"):
                raise ValidationError(
                    f"a CategoricalRBM is sampled by block Gibbs (scan 'auto' or 'chromatic'), got scan={self.scan!r}"
                )
            model, scan = model.to_potts_machine(), "chromatic"

        n_samples = check_int(n_samples, "n_samples", minimum=1)
        n_chains = check_int(n_chains, "n_chains", minimum=1)
        temperature = (
            model.temperature
            if temperature is None
            else check_positive_temperature(temperature, energy_scale=model.energy_bound)
        )
        beta = 1.0 / temperature
        return sample_potts(
            model, n_samples=n_samples, n_chains=n_chains, burn_in=self.burn_in, thin=self.thin, keep=keep,
            scan=scan, evidence=evidence, initial_states=initial_states,
            betas_of=lambda start, stop: np.full(stop - start, beta), temperature=temperature,
            generator=check_rng(rng), progress=check_bool(progress, "progress"), watch=watch,
            sampler="GibbsSampler", description="Gibbs", client=client,
        )

    def _sample_general(self, model, n_samples, n_chains, clamped, initial, temperature, generator, progress, keep,
                        watch, client):
        """Single-site sweeps; returns the draws and the ``info`` entries of this path."""
        from .._kernels.rng import seed_streams

        n_units = model.n_units
        states = pipeline.starting_states(initial, n_chains, n_units, clamped, generator)
        streams = seed_streams(generator, n_chains)
        n_sweeps = self.burn_in + n_samples * self.thin
        scan = choose_scan(model) if self.scan == AUTO else self.scan
        sweeps = pipeline.Sweeps(
            n_sweeps, functools.partial(_constant_betas, 1.0 / temperature),
            functools.partial(pipeline.record_slots, n_sweeps=n_sweeps, burn_in=self.burn_in, thin=self.thin,
                              keep=keep),
        )
        free = pipeline.free_units(n_units, clamped)
        n_draws = n_samples if keep == "all" else 1
        watch.prepared()
        out, details = pipeline.run_chains(
            client, single_site_chains, (model, free, scan, "heat-bath", sweeps, n_draws, "Gibbs"), (states, streams),
            progress=progress, description="Gibbs",
        )
        watch.sampled()
        info = {"scan": scan, "unit_updates": n_chains * n_sweeps * free.shape[0], **merge_details(details)}
        return out, pipeline.with_cluster(info, client, len(details))

    def _sample_rbm(self, model, n_samples, n_chains, clamped, initial, temperature, generator, progress, keep,
                    watch, client):
        """Block Gibbs; returns the draws and the ``info`` entries of this path."""
        # keep="last": run the same sweeps but record only the final one.
        burn_in = self.burn_in if keep == "all" else self.burn_in + (n_samples - 1) * self.thin
        draws, details = run_block_gibbs(
            model, n_samples if keep == "all" else 1, n_chains=n_chains, burn_in=burn_in, thin=self.thin,
            clamped=clamped, initial=initial, temperature=temperature, generator=generator, progress=progress,
            dtype=np.dtype(self.dtype), watch=watch, client=client,
        )
        # The block run's own burn_in/sweeps differ with keep="last"; the caller reports the sampler's settings.
        for key in ("burn_in", "thin", "sweeps"):
            del details[key]
        return draws, {"scan": "block", **details}
