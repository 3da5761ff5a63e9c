"""``BoltzmannSampler``: pgm_energy's simulated annealer as a ``dimod.Sampler``.

Imported (with dimod) only through ``pgm_energy.interop.dimod.BoltzmannSampler``.
"""

from __future__ import annotations

import numbers
import time
import warnings

import dimod
import numpy as np

from .. import schedules
from .._validation import check_array_size, check_int, check_rng, describe
from ..exceptions import ParameterTypeError, ValidationError
from .dimod import _bqm_arrays, _check_bqm, _machine_from_arrays

__all__ = ["BoltzmannSampler"]

_SCHEDULE_TYPES = ("linear", "geometric", "custom")
_SCANS = ("sequential", "random", "chromatic")
# neal's names of the acceptance rules -> SimulatedAnnealingSampler's
_ACCEPTANCE = {"Gibbs": "heat-bath", "Metropolis": "metropolis"}
#: internal models store weights sparse above this many variables, like from_bqm
_SPARSE_ABOVE = 2048


def _check_optional_int(value, name: str):
    return None if value is None else check_int(value, name, minimum=1)


def _check_reads(num_reads: int, n_variables: int) -> None:
    """Refuse a ``num_reads`` whose states (and dimod's sample set) could not be held in memory."""
    check_array_size(
        num_reads * max(n_variables, 1), f"num_reads={num_reads} reads of {n_variables} variables"
    )


def _check_betas(values, name: str) -> np.ndarray:
    """A 1-D array of inverse temperatures ``0 < beta <= inf``.

    The dtype is looked at before converting: NumPy would drop an imaginary part (with only
    a ``ComplexWarning``) and read booleans and numeric strings as numbers.
    """
    try:
        raw = np.asarray(values)
        if raw.dtype.kind not in "iufO":  # (object arrays of numbers convert below, others fail there)
            kind = "real, got complex values" if raw.dtype.kind == "c" else f"an array of numbers, got dtype {raw.dtype}"
            raise ValidationError(f"{name} must be {kind}: {describe(values)}")
        betas = np.array(raw, dtype=np.float64)
    except (TypeError, ValueError) as error:
        if isinstance(error, ValidationError):
            raise
        raise ValidationError(f"{name} must be an array of numbers, got {describe(values)}") from error
    if betas.ndim != 1 or betas.size == 0:
        raise ValidationError(f"{name} must be a non-empty 1-D sequence of inverse temperatures, got shape {betas.shape}")
    if np.any(np.isnan(betas)) or np.any(betas <= 0):
        index = int(np.flatnonzero(np.isnan(betas) | (betas <= 0))[0])
        raise ValidationError(
            f"{name} values must be > 0 (this heat-bath annealer has no infinite-temperature sweep; "
            f"start at a small beta such as 1e-3 instead), got {betas[index]!r} at index {index}"
        )
    return betas


class BoltzmannSampler(dimod.Sampler, dimod.Initialized):
    """pgm_energy's Numba simulated annealer as a ``dimod.Sampler``.

    A drop-in for ``dwave.samplers.SimulatedAnnealingSampler`` (neal): the same
    parameter names and ``sample`` / ``sample_ising`` / ``sample_qubo``,
    returning a ``dimod.SampleSet`` whose energies dimod computes from the bqm.
    Each read anneals the bqm's energy ``E`` by single-site heat-bath updates
    (``p(flip accepted) = 1 / (1 + exp(beta * dE))``, neal's
    ``proposal_acceptance_criteria="Gibbs"``) down a schedule of inverse
    temperatures ``beta``; it runs :class:`pgm_energy.samplers.SimulatedAnnealingSampler`
    on the Boltzmann machine with the same energy (reads in parallel threads).

    Parameters of ``sample``
    ------------------------
    num_reads : int >= 1, optional
        Independent annealing runs (default: the number of ``initial_states``, else 1).
    num_sweeps : int >= 1, optional
        Sweeps in all (default 1000; with ``beta_schedule_type="custom"``:
        ``len(beta_schedule) * num_sweeps_per_beta``).
    num_sweeps_per_beta : int >= 1, default 1
    beta_range : (float, float), optional
        First (hot) and last (cold) inverse temperature, both > 0. Default: from
        :func:`pgm_energy.samplers.annealing.default_schedule` (the costliest possible
        flip accepted with probability 1/2 at the hot end; at the cold end a whole sweep
        accepts a flip costing the smallest coupling or bias with probability about 1/100).
    beta_schedule_type : {"geometric", "linear", "custom"}, default "geometric"
        How the betas are spaced between ``beta_range`` (as neal), or ``custom``:
        the given ``beta_schedule``.
    beta_schedule : sequence of float > 0, optional
        Only with ``beta_schedule_type="custom"``. ``inf`` gives zero-temperature
        (deterministic descent) sweeps.
    seed : None, int >= 0 or numpy.random.Generator
        Same seed, same samples (whatever the number of Numba threads).
    initial_states, initial_states_generator
        As in every ``dimod.Initialized`` sampler (samples-like; "random", "tile" or "none").
    randomize_order : bool, default False
        Update ``n`` randomly chosen variables per sweep instead of sweeping in order.
    scan : {"sequential", "random", "chromatic"}, optional
        Update order (see :class:`pgm_energy.samplers.GibbsSampler`); ``"chromatic"``
        updates each colour class of a graph colouring in parallel threads.
        Default: ``"random"`` if ``randomize_order`` else ``"sequential"``.
    proposal_acceptance_criteria : {"Gibbs", "Metropolis"}, default "Gibbs"
        Heat-bath updates, or Metropolis flips (neal's default rule); see
        ``acceptance`` of :class:`pgm_energy.samplers.SimulatedAnnealingSampler`.

    Unknown keyword arguments are dropped with a ``dimod.exceptions.SamplerUnknownArgWarning``,
    as the ``dimod.Sampler`` contract requires.

    Examples
    --------
    >>> from pgm_energy.interop.dimod import BoltzmannSampler
    >>> sampler = BoltzmannSampler()
    >>> sampleset = sampler.sample_ising({"a": 0.0, "b": 0.0}, {("a", "b"): -1.0}, num_reads=4, seed=0)
    >>> float(sampleset.first.energy)
    -1.0
    """

    def __init__(self):
        self._parameters = {
            "num_reads": [],
            "num_sweeps": [],
            "num_sweeps_per_beta": [],
            "beta_range": [],
            "beta_schedule_type": ["beta_schedule_options"],
            "beta_schedule": [],
            "seed": [],
            "initial_states": [],
            "initial_states_generator": [],
            "randomize_order": [],
            "scan": ["scan_options"],
            "proposal_acceptance_criteria": ["proposal_acceptance_criteria_options"],
        }
        self._properties = {
            "beta_schedule_options": _SCHEDULE_TYPES,
            "scan_options": _SCANS,
            "proposal_acceptance_criteria_options": ("Gibbs", "Metropolis"),
        }

    @property
    def parameters(self) -> dict:
        """Keyword arguments of ``sample`` (dimod's ``Sampler.parameters``), each with the properties it relates to."""
        return self._parameters

    @property
    def properties(self) -> dict:
        """Allowed values of the enumerated parameters (dimod's ``Sampler.properties``)."""
        return self._properties

    def __repr__(self) -> str:
        return "BoltzmannSampler()"

    # -------------------------------------------------------------------- schedule
    @staticmethod
    def _betas(model, num_sweeps, num_sweeps_per_beta, beta_range, beta_schedule_type, beta_schedule):
        """The inverse temperature of every sweep, and the beta range reported in ``info``."""
        if not isinstance(beta_schedule_type, str) or beta_schedule_type not in _SCHEDULE_TYPES:
            raise ValidationError(
                f"beta_schedule_type must be one of {', '.join(map(repr, _SCHEDULE_TYPES))}, got {describe(beta_schedule_type)}"
            )
        if beta_range is not None:
            beta_range = _check_betas(beta_range, "beta_range")
            if beta_range.shape != (2,):
                raise ValidationError(f"beta_range must be two numbers (hot, cold), got {describe(beta_range)}")
            if np.any(np.isinf(beta_range)):
                raise ValidationError(f"beta_range must be finite, got {beta_range.tolist()!r}")
        if beta_schedule_type == "custom":
            if beta_schedule is None:
                raise ValidationError("beta_schedule must be given when beta_schedule_type='custom'")
            betas = _check_betas(beta_schedule, "beta_schedule")
            schedules.check_length(betas.shape[0] * num_sweeps_per_beta, "len(beta_schedule) * num_sweeps_per_beta")
            if num_sweeps is not None and num_sweeps != betas.shape[0] * num_sweeps_per_beta:
                raise ValidationError(
                    f"num_sweeps must be None or len(beta_schedule) * num_sweeps_per_beta = "
                    f"{betas.shape[0] * num_sweeps_per_beta} with a custom schedule, got {num_sweeps}"
                )
            if beta_range is not None and (beta_range[0] != betas[0] or beta_range[1] != betas[-1]):
                raise ValidationError("beta_range must be None or equal the first and last beta_schedule values")
            used_range = [float(betas[0]), float(betas[-1])]
        else:
            if beta_schedule is not None:
                raise ValidationError(
                    f"beta_schedule is only used with beta_schedule_type='custom', got beta_schedule_type={beta_schedule_type!r}"
                )
            num_sweeps = 1000 if num_sweeps is None else num_sweeps
            n_betas, remainder = divmod(num_sweeps, num_sweeps_per_beta)
            if remainder:
                raise ValidationError(
                    f"num_sweeps must be a multiple of num_sweeps_per_beta = {num_sweeps_per_beta}, got {num_sweeps}"
                )
            if beta_range is None:
                from ..samplers.annealing import default_schedule

                t_hot, t_cold = default_schedule(model, 2)[[0, -1]]
                beta_range = np.array([1.0 / t_hot, 1.0 / t_cold])
            if n_betas == 1:
                betas = beta_range[1:]
            elif beta_schedule_type == "linear":
                betas = np.linspace(beta_range[0], beta_range[1], n_betas)
            else:
                betas = np.geomspace(beta_range[0], beta_range[1], n_betas)
            used_range = [float(beta_range[0]), float(beta_range[1])]
        return np.repeat(betas, num_sweeps_per_beta), used_range

    # -------------------------------------------------------------------- sampling
    def sample(
        self,
        bqm,
        num_reads=None,
        num_sweeps=None,
        num_sweeps_per_beta=1,
        beta_range=None,
        beta_schedule_type="geometric",
        beta_schedule=None,
        seed=None,
        initial_states=None,
        initial_states_generator="random",
        randomize_order=False,
        scan=None,
        proposal_acceptance_criteria="Gibbs",
        **kwargs,
    ):
        """Anneal ``num_reads`` times and return the final states as a ``dimod.SampleSet``.

        See the class docstring for the parameters.

        Returns
        -------
        dimod.SampleSet
            In the bqm's vartype and variable order; energies from ``bqm.energies``.
            ``info`` holds ``beta_range``, ``beta_schedule_type``, ``scan``,
            ``n_threads`` and ``timing`` (``preprocessing_ns``, ``sampling_ns``,
            ``postprocessing_ns``, as neal reports).
        """
        started = time.perf_counter_ns()
        kwargs = self.remove_unknown_kwargs(**kwargs)
        _check_bqm(bqm)
        num_reads = _check_optional_int(num_reads, "num_reads")
        if num_sweeps is not None:
            num_sweeps = schedules.check_length(num_sweeps, "num_sweeps")
        num_sweeps_per_beta = schedules.check_length(num_sweeps_per_beta, "num_sweeps_per_beta")
        if not isinstance(randomize_order, (bool, np.bool_)):
            raise ParameterTypeError(f"randomize_order must be True or False, got {describe(randomize_order)}")
        if scan is None:
            scan = "random" if randomize_order else "sequential"
        elif not isinstance(scan, str) or scan not in _SCANS:
            raise ValidationError(f"scan must be one of {', '.join(map(repr, _SCANS))}, got {describe(scan)}")
        elif randomize_order and scan != "random":
            raise ValidationError(f"randomize_order=True contradicts scan={scan!r}")
        acceptance = _ACCEPTANCE.get(proposal_acceptance_criteria) if isinstance(proposal_acceptance_criteria, str) else None
        if acceptance is None:
            raise ValidationError(
                "proposal_acceptance_criteria must be 'Gibbs' (heat bath) or 'Metropolis', "
                f"got {describe(proposal_acceptance_criteria)}"
            )
        if not (seed is None or isinstance(seed, np.random.Generator)) and (
            isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0
        ):
            raise ValidationError(f"seed must be None, a non-negative int or a numpy Generator, got {describe(seed)}")
        generator = check_rng(seed)

        variables = list(bqm.variables)
        n = len(variables)
        if num_reads is not None:
            _check_reads(num_reads, n)
        states = None
        if initial_states is not None:
            try:
                with warnings.catch_warnings():
                    # dimod's arithmetic on junk (an int64 overflow) warns; the states are refused below
                    warnings.simplefilter("error", RuntimeWarning)
                    parsed = self.parse_initial_states(
                        bqm,
                        initial_states=initial_states,
                        initial_states_generator=initial_states_generator,
                        num_reads=num_reads,
                        seed=int(generator.integers(2**32)),
                    )
            except (TypeError, ValueError, KeyError, RuntimeWarning) as error:
                raise ValidationError(
                    f"initial_states must be samples-like over the bqm's variables in its vartype "
                    f"({bqm.vartype.name}), usable with initial_states_generator={describe(initial_states_generator)}"
                    f" and num_reads={num_reads!r}; dimod says: {error}; got initial_states={describe(initial_states)}"
                ) from error
            num_reads = parsed.num_reads
            _check_reads(num_reads, n)
            given = parsed.initial_states
            order = [given.variables.index(v) for v in variables]
            states = np.asarray(given.record.sample)[:, order]
            if bqm.vartype is dimod.SPIN:
                states = (states + 1) // 2
            states = np.ascontiguousarray(states, dtype=np.uint8)
        elif not isinstance(initial_states_generator, str) or initial_states_generator not in self._generators:
            raise ValidationError(
                f"initial_states_generator must be one of {sorted(self._generators)!r}, got {describe(initial_states_generator)}"
            )
        num_reads = 1 if num_reads is None else num_reads

        if n == 0:  # nothing to anneal: num_reads empty samples, each of energy bqm.offset
            if not isinstance(beta_schedule_type, str) or beta_schedule_type not in _SCHEDULE_TYPES:
                raise ValidationError(
                    f"beta_schedule_type must be one of {', '.join(map(repr, _SCHEDULE_TYPES))}, "
                    f"got {describe(beta_schedule_type)}"
                )
            samples = np.empty((num_reads, 0), dtype=np.int8)
            info = {"beta_range": beta_range, "beta_schedule_type": beta_schedule_type, "scan": scan}
            return dimod.SampleSet.from_samples_bqm((samples, variables), bqm, info=info)

        linear, quadratic, offset = _bqm_arrays(bqm, variables)
        model = _machine_from_arrays(
            dimod,
            bqm.vartype,
            linear,
            quadratic,
            offset,
            names=[f"x{i}" for i in range(n)],
            temperature=1.0,
            sparse=n > _SPARSE_ABOVE,
        )
        betas, used_range = self._betas(
            model, num_sweeps, num_sweeps_per_beta, beta_range, beta_schedule_type, beta_schedule
        )
        with np.errstate(divide="ignore"):
            temperatures = 1.0 / betas  # beta = inf -> T = 0: zero-temperature sweeps

        from ..samplers import SimulatedAnnealingSampler

        annealer = SimulatedAnnealingSampler(schedule=temperatures, scan=scan, acceptance=acceptance)
        sampling = time.perf_counter_ns()
        result = annealer.sample(model, num_reads, initial_states=states, rng=generator, progress=False)
        finished = time.perf_counter_ns()

        samples = result.states[:, 0, :].astype(np.int8)  # dimod's sample dtype (uint8 breaks qubo_energy)
        if bqm.vartype is dimod.SPIN:
            samples = 2 * samples - 1
        info = {
            "beta_range": used_range,
            "beta_schedule_type": beta_schedule_type,
            "scan": scan,
            "n_threads": result.info.get("n_threads"),
        }
        sampleset = dimod.SampleSet.from_samples_bqm((samples, variables), bqm, info=info)
        sampleset.info["timing"] = {
            "preprocessing_ns": sampling - started,
            "sampling_ns": finished - sampling,
            "postprocessing_ns": time.perf_counter_ns() - finished,
        }
        return sampleset


# documented and pickled under its public home (found there through the module's __getattr__)
BoltzmannSampler.__module__ = "pgm_energy.interop.dimod"
