"""Gibbs sampling of Boltzmann machines: single-site heat bath, or block Gibbs for RBMs.

The wrapper validates, turns the model into flat arrays (CSR or dense weights,
whichever is cheaper), runs a Numba kernel of :mod:`pgm_energy._kernels.gibbs`,
and wraps the states in a :class:`~pgm_energy.samplers.SampleSet`.
"""

from __future__ import annotations

import time
import weakref
from typing import NamedTuple

import numpy as np

from .._launch import call, first_chunk, run_chunked
from .._math import is_sparse
from .._validation import (
    check_evidence,
    check_float_dtype,
    check_array_size,
    check_bool,
    check_int,
    check_positive_temperature,
    check_rng,
    check_states,
    check_sweeps,
    describe,
    refuse_out_of_memory,
)
from ..exceptions import ModelSizeError, ParameterTypeError, StateError, ValidationError
from ..models import BoltzmannMachine, RestrictedBoltzmannMachine
from .sampleset import SampleSet

__all__ = ["GibbsSampler"]

_SCANS = ("sequential", "random", "chromatic")
_KEEP = ("all", "last")
#: weights with at most this fraction of non-zero entries are stored as CSR in the kernels
_CSR_DENSITY = 0.25
#: energies are evaluated this many state entries at a time (bounds the float64 temporaries)
_ENERGY_CHUNK = 1 << 21
#: colour classes of at least this many units (on average) are split across threads
_PARALLEL_CLASS_SIZE = 4096


class _Problem(NamedTuple):
    """A Boltzmann machine as the flat arrays the kernels read (energies in model units, T = 1)."""

    dense: bool
    indptr: np.ndarray  # int64 (n_units + 1,), or empty when dense
    indices: np.ndarray  # int64
    data: np.ndarray  # float64
    dense_w: np.ndarray  # float64 (n_units, n_units) C-contiguous, or (0, 0) when CSR
    biases: np.ndarray  # float64 (n_units,)
    pad_indices: np.ndarray  # int64 (n_units * width,): CSR rows padded for the lane kernels, or empty
    pad_data: np.ndarray  # float64, same shape


_PROBLEMS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_COLOURINGS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _csr_arrays(weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, indices, data)`` of ``weights`` (dense or scipy.sparse), indices sorted in each row.

    A dense array is converted with NumPy alone: importing scipy.sparse would add ~0.15 s
    to the first sample of a process.
    """
    if is_sparse(weights):
        import scipy.sparse as sp

        csr = sp.csr_array(weights)
        csr.sort_indices()
        return csr.indptr.astype(np.int64), csr.indices.astype(np.int64), np.array(csr.data, dtype=np.float64)
    rows, cols = np.nonzero(weights)  # row-major order: sorted within each row
    indptr = np.zeros(weights.shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=weights.shape[0]), out=indptr[1:])
    return indptr, cols.astype(np.int64), np.array(weights[rows, cols], dtype=np.float64)


def _prepare(model: BoltzmannMachine) -> _Problem:
    """Flat arrays of ``model`` (cached per model: models are immutable)."""
    problem = _PROBLEMS.get(model)
    if problem is not None:
        return problem
    n = model.n_units
    weights = model.weights
    nnz = weights.nnz if is_sparse(weights) else int(np.count_nonzero(weights))
    biases = np.array(model.biases, dtype=np.float64)
    if nnz <= _CSR_DENSITY * n * n:
        from .._kernels.gibbs import padded_rows

        indptr, indices, data = _csr_arrays(weights)
        pad_indices, pad_data, _ = padded_rows(indptr, indices, data)
        problem = _Problem(False, indptr, indices, data, np.zeros((0, 0)), biases, pad_indices, pad_data)
    else:
        dense = weights.toarray() if is_sparse(weights) else weights
        problem = _Problem(
            True,
            np.zeros(0, dtype=np.int64),
            np.zeros(0, dtype=np.int64),
            np.zeros(0),
            np.array(dense, dtype=np.float64, order="C"),
            biases,
            np.zeros(0, dtype=np.int64),
            np.zeros(0),
        )
    _PROBLEMS[model] = problem
    return problem


def _two_colouring(pattern) -> np.ndarray | None:
    """A proper 2-colouring of the graph of the CSR ``pattern`` if it is bipartite, else None.

    Uses the bipartite double cover (node ``i`` -> ``i`` and ``i + n``, edge ``ij`` ->
    ``i -- j+n`` and ``i+n -- j``): a component is bipartite iff ``i`` and ``i + n``
    fall in different components, and ``[label(i) > label(i + n)]`` then alternates
    along every edge. One C call (SciPy) instead of a Python-level colouring.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    n = pattern.shape[0]
    cover = sp.bmat([[None, pattern], [pattern, None]], format="csr")
    _, labels = connected_components(cover, directed=False)
    if np.any(labels[:n] == labels[n:]):
        return None
    return (labels[:n] > labels[n:]).astype(np.int64)


def _colouring(model: BoltzmannMachine) -> np.ndarray:
    """Colour of each unit: 2 colours for bipartite graphs, else networkx's greedy colouring.

    Bipartite graphs (lattices, RBMs) are 2-coloured directly (:func:`_two_colouring`,
    what networkx's BFS-order greedy colouring gives too, ~50x faster on a 256x256
    lattice); other graphs use ``networkx.greedy_color`` with the
    ``connected_sequential_bfs`` strategy.
    """
    colours = _COLOURINGS.get(model)
    if colours is not None:
        return colours
    import scipy.sparse as sp

    weights = model.weights
    pattern = sp.csr_array(weights != 0) if not sp.issparse(weights) else sp.csr_array(
        (np.ones(weights.nnz, dtype=np.int8), weights.indices, weights.indptr), shape=weights.shape
    )
    colours = _two_colouring(pattern)
    if colours is None:
        import networkx as nx

        rows, cols = pattern.nonzero()
        graph = nx.Graph()
        graph.add_nodes_from(range(model.n_units))
        upper = rows < cols
        graph.add_edges_from(zip(rows[upper].tolist(), cols[upper].tolist()))
        assignment = nx.greedy_color(graph, strategy="connected_sequential_bfs")
        colours = np.array([assignment[i] for i in range(model.n_units)], dtype=np.int64)
    _COLOURINGS[model] = colours
    return colours


def _colour_classes(model: BoltzmannMachine, free: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Colour classes of the free units as (class_ptr, class_units), units ascending within a class."""
    colours = _colouring(model)[free]
    order = np.lexsort((free, colours))
    units = np.ascontiguousarray(free[order])
    counts = np.bincount(colours, minlength=int(colours.max(initial=-1)) + 1)
    counts = counts[counts > 0]
    class_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return class_ptr, units


# ---------------------------------------------------------------------------- validation helpers
def _check_scan(scan) -> str:
    if not isinstance(scan, str) or scan not in _SCANS:
        raise ValidationError(f"scan must be one of {', '.join(map(repr, _SCANS))}, got {describe(scan)}")
    return scan


def _check_model(model, *, allow_rbm: bool = True):
    allowed = (BoltzmannMachine, RestrictedBoltzmannMachine) if allow_rbm else (BoltzmannMachine,)
    if not isinstance(model, allowed):
        kinds = "a BoltzmannMachine or RestrictedBoltzmannMachine" if allow_rbm else "a BoltzmannMachine"
        raise ParameterTypeError(f"model must be {kinds}, got {type(model).__name__}: {describe(model)}")
    return model


def _check_sizes(n_samples: int, n_chains: int, n_units: int, burn_in: int, thin: int, keep) -> None:
    """Refuse a run of too many sweeps or too many states to hold, before anything is allocated.

    Checked before the initial states, which would otherwise be blamed for a shape that
    follows from an impossible ``n_chains``.
    """
    if not isinstance(keep, str) or keep not in _KEEP:
        raise ValidationError(f"keep must be 'all' or 'last', got {describe(keep)}")
    n_draws = n_samples if keep == "all" else 1
    check_array_size(
        n_chains * n_draws * n_units,  # the draws kept (the running states are one draw per chain)
        f"n_chains={n_chains} chains of " + (f"n_samples={n_samples} draws of " if keep == "all" else "")
        + f"{n_units} units",
    )
    check_sweeps(burn_in, n_samples, thin)


def _initial_states(initial_states, n_chains: int, n_units: int, clamped: dict, generator,
                    count_name: str = "n_chains") -> np.ndarray:
    """uint8 starting states, shape (n_chains, n_units): random from ``generator`` or validated, evidence applied.

    ``count_name`` is the caller's name for ``n_chains`` (``"n_reads"``), for the messages.
    """
    if initial_states is None:
        states = generator.integers(0, 2, size=(n_chains, n_units), dtype=np.uint8)
    else:
        batch, single = check_states(initial_states, n_units, "initial_states")
        if single:
            batch = np.broadcast_to(batch, (n_chains, n_units))
        elif batch.shape[0] != n_chains:
            raise StateError(
                f"initial_states must have shape ({n_units},) or ({count_name}, {n_units}) = ({n_chains}, {n_units}), "
                f"got {np.shape(initial_states)}"
            )
        states = np.ascontiguousarray(batch, dtype=np.uint8)
    for index, value in clamped.items():
        states[:, index] = value
    return states


def _allocate_states(shape: tuple) -> np.ndarray:
    """An empty uint8 array for the draws; one too large for memory is a named error, not a MemoryError."""
    try:
        return np.empty(shape, dtype=np.uint8)
    except (MemoryError, ValueError) as error:
        size = float(np.prod([float(n) for n in shape]))
        raise ModelSizeError(
            f"the draws would take {size:.3g} bytes (n_chains x n_draws x n_units = {' x '.join(map(str, shape))}); "
            "ask for fewer samples or chains, or keep='last'"
        ) from error


def _free_units(n_units: int, clamped: dict) -> np.ndarray:
    mask = np.ones(n_units, dtype=bool)
    mask[list(clamped)] = False
    return np.flatnonzero(mask).astype(np.int64)


def _energies(model, states: np.ndarray) -> np.ndarray:
    """``model.energy`` of every state of ``states`` (n_chains, n_draws, n_units), a chunk at a time."""
    n_chains, n_draws, n_units = states.shape
    flat = states.reshape(-1, n_units)
    energies = np.empty(flat.shape[0])
    step = max(1, _ENERGY_CHUNK // max(n_units, 1))
    rbm = isinstance(model, RestrictedBoltzmannMachine)
    for start in range(0, flat.shape[0], step):
        block = flat[start : start + step]
        if rbm:
            energies[start : start + step] = model.energy(block[:, : model.n_visible], block[:, model.n_visible :])
        else:
            energies[start : start + step] = model.energy(block)
    return energies.reshape(n_chains, n_draws)


def _record_slots(start: int, stop: int, n_sweeps: int, burn_in: int, thin: int, keep: str) -> np.ndarray:
    """Draw index recorded after each sweep ``start .. stop - 1`` (-1: none): after burn_in, every thin-th sweep.

    Made a chunk at a time: a long run never holds an array per sweep.
    """
    sweeps = np.arange(start, stop, dtype=np.int64)
    if keep == "last":
        return np.where(sweeps == n_sweeps - 1, 0, -1).astype(np.int64)
    offset = sweeps - (burn_in + thin - 1)
    return np.where((offset >= 0) & (offset % thin == 0), offset // thin, -1).astype(np.int64)


class _Sweeps(NamedTuple):
    """The sweeps of a run: their number, and their inverse temperatures and record slots by range.

    ``betas(start, stop)`` is a C-contiguous (stop - start, n_columns) float64 array and
    ``slots(start, stop)`` the int64 slots (see :func:`_record_slots`), made per kernel call.
    """

    n: int
    betas: object
    slots: object


def _run_single_site(model, problem: _Problem, states, free, scan, sweeps: _Sweeps, out, generator, progress,
                     acceptance="heat-bath"):
    """Run the single-site kernels over all ``sweeps``; fill ``out``.

    ``acceptance``: ``"heat-bath"`` or ``"metropolis"`` (finite temperatures; ``beta = inf`` is Hopfield).

    Returns the dict of details (colours, storage) for ``info``.
    """
    from .._kernels import gibbs as kernels
    from .._kernels.rng import seed_streams

    streams = seed_streams(generator, states.shape[0])
    rule = kernels.METROPOLIS if acceptance == "metropolis" else kernels.HEAT_BATH
    details = {"storage": "dense" if problem.dense else "csr"}
    arrays = (problem.indptr, problem.indices, problem.data, problem.dense_w, problem.dense)
    # several chains per thread: the grouped drivers (larger, so loaded only when they pay)
    n_threads = _thread_count()
    lanes = kernels.lane_width(states.shape[0], n_threads)
    padding = (problem.pad_indices, problem.pad_data, kernels.padded_width(problem.pad_indices, states.shape[1]))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=sweeps.n, unit="sweep", desc="Gibbs")
    # Time-bounded kernel calls (Ctrl-C between them); each call continues from the states,
    # streams and sweep index where the previous one stopped, so the split changes nothing.
    on_chunk = None if bar is None else bar.update
    try:
        if scan == "chromatic":
            class_ptr, class_units = _colour_classes(model, free)
            details["n_colours"] = int(class_ptr.shape[0] - 1)
            # Both kernels draw the same states; parallel classes pay off only for large classes.
            per_class = class_units.shape[0] / max(details["n_colours"], 1)
            by_class = states.shape[0] < n_threads and per_class >= _PARALLEL_CLASS_SIZE
            details["parallel_over"] = "classes" if by_class else "chains"

            def run(start, stop):
                betas, slots = sweeps.betas(start, stop), sweeps.slots(start, stop)
                if by_class:
                    call(
                        kernels.run_chromatic, states, class_ptr, class_units, streams, start, rule, betas, slots, out,
                        problem.biases, *arrays,
                    )
                elif lanes > 1 and not problem.dense:
                    call(
                        kernels.run_chromatic_groups, states, class_ptr, class_units, streams, start, rule, betas, slots,
                        out, problem.biases, problem.indptr, problem.indices, problem.data, lanes, *padding,
                    )
                else:
                    call(
                        kernels.run_chromatic_chains, states, class_ptr, class_units, streams, start, rule, betas, slots,
                        out, problem.biases, *arrays,
                    )
        else:
            fields = np.empty(states.shape, dtype=np.float64)
            call(kernels.initialise_fields, states, fields, problem.biases, *arrays)
            code = kernels.SEQUENTIAL if scan == "sequential" else kernels.RANDOM

            def run(start, stop):
                betas, slots = sweeps.betas(start, stop), sweeps.slots(start, stop)
                if code == kernels.SEQUENTIAL and lanes > 1 and not problem.dense:
                    call(
                        kernels.run_chain_groups, states, fields, free, rule, betas, slots, out, streams,
                        problem.indptr, problem.indices, problem.data, lanes, *padding,
                    )
                else:
                    call(kernels.run_chains, states, fields, free, code, rule, betas, slots, out, streams, *arrays)

        first = first_chunk(_sweep_cost(problem, states.shape[0], free))
        run_chunked(sweeps.n, run, first=first, on_chunk=on_chunk)
    finally:
        if bar is not None:
            bar.close()
    return details


def _sweep_cost(problem: _Problem, n_chains: int, free: np.ndarray) -> float:
    """Unit updates of one sweep of all chains, at most (a first kernel call's size, see ``first_chunk``)."""
    per_update = problem.dense_w.shape[0] if problem.dense else problem.data.shape[0] / max(problem.biases.shape[0], 1)
    return n_chains * free.shape[0] * (1.0 + per_update)


def _thread_count() -> int:
    import numba

    return int(numba.get_num_threads())


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
    scan : {"sequential", "random", "chromatic"}, default "sequential"
        Order of single-site updates in a sweep: every free unit in index order;
        ``n_free`` units drawn uniformly with replacement; or colour class after
        colour class of a greedy graph colouring, each class updated in parallel
        (units of a class are conditionally independent). Ignored for RBMs.
    dtype : {"float64", "float32"}, default "float64"
        Precision of the block-Gibbs matrix products for RBMs (float32 is about
        twice as fast and samples the machine with float32-rounded parameters).
        Ignored for general machines.

    Notes
    -----
    A sweep is ``n_free`` single-site updates (``n_free``: units not clamped by
    evidence). Each chain has its own random stream seeded from ``rng``; the
    chromatic scan draws the number for unit ``i`` at sweep ``t`` from a
    counter-based generator keyed by the chain. Either way the same ``rng``
    gives the same samples whatever the number of Numba threads.

    With sparse weights, sequential and chromatic sweeps interleave up to four
    chains of a thread in one loop: two to four chains per Numba thread update
    about 1.5-2.5x as many spins per second as one (benchmarks/bench_ising.py).

    Examples
    --------
    >>> from pgm_energy import BoltzmannMachine
    >>> from pgm_energy.samplers import GibbsSampler
    >>> bm = BoltzmannMachine([[0.0, 1.0], [1.0, 0.0]], [-0.5, 0.5])
    >>> result = GibbsSampler(burn_in=10).sample(bm, 100, n_chains=2, rng=0)
    >>> result.states.shape
    (2, 100, 2)
    """

    def __init__(self, *, burn_in=1000, thin=1, scan="sequential", dtype="float64"):
        self.burn_in = check_int(burn_in, "burn_in", minimum=0)
        self.thin = check_int(thin, "thin", minimum=1)
        check_sweeps(self.burn_in, 1, self.thin)  # the fewest sweeps a call with these settings runs
        self.scan = _check_scan(scan)
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
        progress=False,
        keep="all",
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
        progress : bool, default False
            Show a tqdm progress bar (updated after each kernel call; every run is cut
            into calls of ~0.15 s so that Ctrl-C is answered, and the samples do not
            depend on the cut).
        keep : {"all", "last"}, default "all"
            Keep every draw, or only the last one of each chain (``n_draws = 1``:
            a long run that needs only its final states keeps no history).

        Returns
        -------
        SampleSet
            ``states`` (n_chains, n_draws, n_units) uint8, ``energies`` equal to
            ``model.energy`` of each state (offset included), ``info`` with
            ``timings`` (seconds), ``sweeps``, ``scan``, ``n_threads``, ``storage``.

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
        started = time.perf_counter()
        _check_model(model)
        n_samples = check_int(n_samples, "n_samples", minimum=1)
        n_chains = check_int(n_chains, "n_chains", minimum=1)
        _check_sizes(n_samples, n_chains, model.n_units, self.burn_in, self.thin, keep)
        clamped = check_evidence(evidence, model.names)
        temperature = (
            model.temperature
            if temperature is None
            else check_positive_temperature(temperature, energy_scale=model.energy_bound)
        )
        generator = check_rng(rng)
        progress = check_bool(progress, "progress")
        with refuse_out_of_memory(f"n_chains={n_chains} chains of {model.n_units} units"):
            if isinstance(model, RestrictedBoltzmannMachine):
                return self._sample_rbm(
                    model, n_samples, n_chains, evidence, initial_states, temperature, generator, progress, keep,
                    started,
                )
            return self._sample_general(
                model, n_samples, n_chains, clamped, initial_states, temperature, generator, progress, keep, started
            )

    def _sample_general(self, model, n_samples, n_chains, clamped, initial_states, temperature, generator, progress,
                        keep, started):
        n_units = model.n_units
        states = _initial_states(initial_states, n_chains, n_units, clamped, generator)
        problem = _prepare(model)
        free = _free_units(n_units, clamped)
        n_sweeps = self.burn_in + n_samples * self.thin
        beta = 1.0 / temperature
        burn_in, thin = self.burn_in, self.thin
        sweeps = _Sweeps(
            n_sweeps,
            lambda start, stop: np.full((stop - start, 1), beta),
            lambda start, stop: _record_slots(start, stop, n_sweeps, burn_in, thin, keep),
        )
        out = _allocate_states((n_chains, n_samples if keep == "all" else 1, n_units))
        prepared = time.perf_counter()
        details = _run_single_site(model, problem, states, free, self.scan, sweeps, out, generator, progress)
        sampled = time.perf_counter()
        energies = _energies(model, out)
        finished = time.perf_counter()
        updates = n_chains * n_sweeps * free.shape[0]
        info = {
            "sampler": "GibbsSampler",
            "scan": self.scan,
            "burn_in": self.burn_in,
            "thin": self.thin,
            "sweeps": n_sweeps,
            "n_threads": _thread_count(),
            "unit_updates": updates,
            "unit_updates_per_second": updates / max(sampled - prepared, 1e-12),
            "timings": {"setup": prepared - started, "sampling": sampled - prepared, "energies": finished - sampled},
            **details,
        }
        return SampleSet(out, energies, model.names, temperature=temperature, info=info)

    def _sample_rbm(self, model, n_samples, n_chains, evidence, initial_states, temperature, generator, progress, keep, started):
        from ._block import sample_rbm

        # keep="last": run the same sweeps but record only the final one.
        burn_in = self.burn_in if keep == "all" else self.burn_in + (n_samples - 1) * self.thin
        states, details = sample_rbm(
            model,
            n_samples if keep == "all" else 1,
            n_chains=n_chains,
            burn_in=burn_in,
            thin=self.thin,
            evidence=evidence,
            initial_states=initial_states,
            temperature=temperature,
            rng=generator,
            progress=progress,
            dtype=self.dtype,
        )
        sampled = time.perf_counter()
        energies = _energies(model, states)
        details = dict(details)
        timings = dict(details.pop("seconds", {}))
        timings["energies"] = time.perf_counter() - sampled
        # The block sampler's own burn_in/sweeps differ with keep="last"; report the sampler's settings.
        info = {
            **details,
            "sampler": "GibbsSampler",
            "scan": "block",
            "burn_in": self.burn_in,
            "thin": self.thin,
            "sweeps": self.burn_in + n_samples * self.thin,
            "n_threads": _thread_count(),
            "timings": timings,
        }
        return SampleSet(states, energies, model.names, temperature=temperature, info=info)
