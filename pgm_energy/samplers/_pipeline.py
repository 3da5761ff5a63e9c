"""The chain pipeline every sampler runs: checks, starting states, records, progress, result.

A sampler call is the same few steps whatever the kernel:

1. check the arguments and the sizes they imply (:func:`check_model`, :func:`check_scan`,
   :func:`check_draw_sizes`), evidence once (``_validation.check_evidence``);
2. starting states: :func:`check_initial_states` validates the caller's array (one function for
   chains and for the replicas of a temperature ladder), :func:`starting_states` draws random
   ones and applies the evidence;
3. where the draws go: :func:`allocate_draws`, :func:`record_slots` and :class:`Sweeps`;
4. run the kernel in time-bounded calls behind one progress bar (:func:`run_sweeps`), in process
   or split by chains across a Dask cluster (:func:`run_chains`);
5. wrap the draws, their energies and the ``info`` dict in a :class:`SampleSet` (:func:`wrap`).

Every ``SampleSet.info`` made here holds ``sampler``, ``scan``, ``sweeps``, ``n_threads``,
``unit_updates``, ``unit_updates_per_second`` and ``seconds`` (``setup``, ``sampling``,
``energies``), plus what is particular to the sampler.
"""

from __future__ import annotations

import functools
import time
from typing import Callable, NamedTuple

import numpy as np

from .._launch import first_chunk, run_chunked
from .._progress import progress_bar
from .._validation import check_array_size, check_sweeps, describe
from ..exceptions import ModelSizeError, ParameterTypeError, StateError, ValidationError
from ..models import BoltzmannMachine, RestrictedBoltzmannMachine
from .sampleset import SampleSet

__all__ = [
    "KEEP", "MAX_SWEEPS_PER_CALL", "SCANS", "Stopwatch", "Sweeps", "allocate_draws", "check_draw_sizes", "check_initial_states", "check_model",
    "check_scan", "energies", "free_units", "record_slots", "run_chains", "run_sweeps", "starting_states", "thread_count", "with_cluster", "wrap",
]

SCANS = ("sequential", "random", "chromatic")
KEEP = ("all", "last")
#: energies are evaluated this many state entries at a time (bounds the float64 temporaries)
_ENERGY_CHUNK = 1 << 21
#: most sweeps one kernel call covers: its per-sweep arrays (inverse temperatures and record slots,
#: 16 bytes a sweep, and one temporary) stay a few MB however long the run, while a call of a
#: 2-unit model still lasts milliseconds, far above what a call costs
MAX_SWEEPS_PER_CALL = 1 << 18


# ---------------------------------------------------------------------------- arguments
def check_model(model, *, allow_rbm: bool = True):
    """``model`` if it is a Boltzmann machine (or, with ``allow_rbm``, a restricted one), else ParameterTypeError."""
    allowed = (BoltzmannMachine, RestrictedBoltzmannMachine) if allow_rbm else (BoltzmannMachine,)
    if not isinstance(model, allowed):
        kinds = "a BoltzmannMachine or RestrictedBoltzmannMachine" if allow_rbm else "a BoltzmannMachine"
        raise ParameterTypeError(f"model must be {kinds}, got {type(model).__name__}: {describe(model)}")
    return model


def check_scan(scan, allowed: tuple = SCANS) -> str:
    """``scan`` if it is one of ``allowed`` (default :data:`SCANS`)."""
    if not isinstance(scan, str) or scan not in allowed:
        raise ValidationError(f"scan must be one of {', '.join(map(repr, allowed))}, got {describe(scan)}")
    return scan


def check_draw_sizes(n_samples: int, n_chains: int, n_units: int, burn_in: int, thin: int, keep) -> int:
    """Refuse a run of too many sweeps or too many states to hold, before anything is allocated.

    Checked before the initial states, which would otherwise be blamed for a shape that
    follows from an impossible ``n_chains``.

    Returns
    -------
    int
        The sweeps of the run, ``burn_in + n_samples * thin``.
    """
    if not isinstance(keep, str) or keep not in KEEP:
        raise ValidationError(f"keep must be 'all' or 'last', got {describe(keep)}")
    n_draws = n_samples if keep == "all" else 1
    check_array_size(
        n_chains * n_draws * n_units,  # the draws kept (the running states are one draw per chain)
        f"n_chains={n_chains} chains of " + (f"n_samples={n_samples} draws of " if keep == "all" else "")
        + f"{n_units} units",
    )
    return check_sweeps(burn_in, n_samples, thin)


# ---------------------------------------------------------------------------- starting states
def _shape_message(n_units: int, n_chains: int, n_ladder: int | None, count_name: str, got) -> str:
    shapes = [f"({n_units},)", f"({count_name}, {n_units}) = ({n_chains}, {n_units})"]
    if n_ladder is not None:
        shapes.append(f"({count_name}, n_temperatures, {n_units}) = ({n_chains}, {n_ladder}, {n_units})")
    return f"initial_states must have shape {', '.join(shapes[:-1])} or {shapes[-1]}, got {got}"


def check_initial_states(initial_states, n_units: int, *, n_chains: int, n_ladder: int | None = None,
                         count_name: str = "n_chains") -> np.ndarray | None:
    """The caller's starting states as one uint8 row per chain (or replica), or None when none are given.

    Parameters
    ----------
    initial_states : array_like of 0/1, or None
        Shape ``(n_units,)`` (every chain starts there), ``(n_chains, n_units)`` (one start per
        chain, shared by its ``n_ladder`` replicas) or, with ``n_ladder``,
        ``(n_chains, n_ladder, n_units)`` (one start per replica).
    n_units, n_chains : int
    n_ladder : int, optional
        Replicas per chain (parallel tempering); None for plain chains.
    count_name : str
        The caller's name for ``n_chains``, for the messages.

    Returns
    -------
    ndarray of uint8, shape (n_chains * n_ladder, n_units), C-contiguous and writable; or None
        Replica ``g * n_ladder + k`` is replica ``k`` of chain ``g``.

    Raises
    ------
    StateError
        For values other than 0/1, a non-numeric array or a shape other than those above.
    """
    if initial_states is None:
        return None
    try:
        array = np.asarray(initial_states)
    except (TypeError, ValueError) as error:  # ragged nesting
        raise StateError(f"initial_states must be an array of 0/1 values, got {describe(initial_states)}") from error
    numeric = np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    if array.dtype == object or not numeric or np.iscomplexobj(array):
        raise StateError(f"initial_states must be an array of 0/1 values, got dtype {array.dtype}")
    replicas = 1 if n_ladder is None else n_ladder
    allowed = ((n_units,), (n_chains, n_units)) + (() if n_ladder is None else ((n_chains, n_ladder, n_units),))
    if array.shape not in allowed:
        raise StateError(_shape_message(n_units, n_chains, n_ladder, count_name, array.shape))
    binary = (array == 0) | (array == 1)
    if not np.all(binary):
        bad = tuple(int(i) for i in np.argwhere(~binary)[0])
        raise StateError(f"initial_states must contain only 0 and 1, got {array[bad].item()!r} at index {bad}")
    if array.ndim == 1:
        rows = np.broadcast_to(array, (n_chains * replicas, n_units))
    elif array.ndim == 2 and replicas > 1:
        rows = np.repeat(array, replicas, axis=0)
    else:
        rows = array.reshape(n_chains * replicas, n_units)
    return np.array(rows, dtype=np.uint8, order="C")


def starting_states(checked: np.ndarray | None, n_rows: int, n_units: int, clamped: dict, generator) -> np.ndarray:
    """uint8 starting states, shape (n_rows, n_units): ``checked``, or uniformly random from ``generator``.

    ``checked`` comes from :func:`check_initial_states` (and is overwritten); the units of
    ``clamped`` (unit index -> 0/1) are set to their evidence value in every row.
    """
    states = generator.integers(0, 2, size=(n_rows, n_units), dtype=np.uint8) if checked is None else checked
    for index, value in clamped.items():
        states[:, index] = value
    return states


def free_units(n_units: int, clamped: dict) -> np.ndarray:
    """int64 indices of the units not clamped by evidence, ascending."""
    mask = np.ones(n_units, dtype=bool)
    mask[list(clamped)] = False
    return np.flatnonzero(mask).astype(np.int64)


# ---------------------------------------------------------------------------- records
def allocate_draws(shape: tuple, dtype=np.uint8) -> np.ndarray:
    """An empty array for the draws (uint8 unit states by default); one too large for memory is a named error."""
    try:
        return np.empty(shape, dtype=dtype)
    except (MemoryError, ValueError) as error:
        size = float(np.prod([float(n) for n in shape])) * np.dtype(dtype).itemsize
        raise ModelSizeError(
            f"the draws would take {size:.3g} bytes (n_chains x n_draws x n_units = {' x '.join(map(str, shape))}); "
            "ask for fewer samples or chains, or keep='last'"
        ) from error


def state_dtype(cardinalities) -> np.dtype:
    """The smallest unsigned integer type that holds every state index of variables of these cardinalities."""
    largest = int(np.max(np.asarray(cardinalities, dtype=np.int64))) - 1
    return np.dtype(np.min_scalar_type(max(largest, 0)))


def record_slots(start: int, stop: int, n_sweeps: int, burn_in: int, thin: int, keep: str) -> np.ndarray:
    """Draw index recorded after each sweep ``start .. stop - 1`` (-1: none): after burn_in, every thin-th sweep.

    Made a chunk at a time: a long run never holds an array per sweep.
    """
    slots = np.full(stop - start, -1, dtype=np.int64)
    if keep == "last":
        if start <= n_sweeps - 1 < stop:
            slots[n_sweeps - 1 - start] = 0
        return slots
    first = burn_in + thin - 1  # the sweep of draw 0
    lowest = max(start, first)
    lowest += (first - lowest) % thin  # the first recorded sweep of the range
    if lowest < stop:
        draw = (lowest - first) // thin
        slots[lowest - start :: thin] = np.arange(draw, draw + len(range(lowest, stop, thin)), dtype=np.int64)
    return slots


class Sweeps(NamedTuple):
    """The sweeps of a run: their number, and their inverse temperatures and record slots by range.

    ``betas(start, stop)`` is a C-contiguous (stop - start, n_columns) float64 array and
    ``slots(start, stop)`` the int64 slots (see :func:`record_slots`), made per kernel call.
    """

    n: int
    betas: Callable[[int, int], np.ndarray]
    slots: Callable[[int, int], np.ndarray]


# ---------------------------------------------------------------------------- running
def thread_count() -> int:
    """Numba's thread count (the parallel kernels run on this many threads)."""
    import numba

    return int(numba.get_num_threads())


def _at_most(run, most: int):
    """``run(start, stop)`` made as successive calls of at most ``most`` items each."""

    def in_pieces(start: int, stop: int) -> None:
        for piece in range(start, stop, most):
            run(piece, min(piece + most, stop))

    return in_pieces


def run_sweeps(n_sweeps: int, run, *, cost_per_sweep: float, progress: bool, description: str) -> None:
    """``run(start, stop)`` over sweeps ``0 .. n_sweeps - 1`` in time-bounded kernel calls, behind a progress bar.

    Ctrl-C is answered between calls (:func:`pgm_energy._launch.run_chunked`). ``run`` must
    continue exactly where the previous call stopped (states, streams, sweep index), so the
    draws do not depend on how the run is cut; the first call costs about
    :data:`~pgm_energy._launch.FIRST_CALL_WORK` unit updates at ``cost_per_sweep`` a sweep,
    and no call covers more than :data:`MAX_SWEEPS_PER_CALL` sweeps (memory stays constant
    however long the run).
    """
    run = _at_most(run, MAX_SWEEPS_PER_CALL)
    first = first_chunk(cost_per_sweep)
    if not progress:  # the common case, kept free of the bar's calls (small models sample in microseconds)
        run_chunked(n_sweeps, run, first=first)
        return
    with progress_bar(progress, n_sweeps, unit="sweep", description=description) as bar:
        run_chunked(n_sweeps, run, first=first, on_chunk=bar.update if bar.shown else None)


def run_chains(client, function, args: tuple, per_chain: tuple, *, progress: bool, description: str,
               multiple: int = 1) -> tuple:
    """``function(*args, progress, *per_chain)``: in process, or by blocks of chains on a Dask cluster.

    Every chain depends only on its rows of ``per_chain`` (starting states and random streams
    drawn in this process), so a split run returns the in-process draws bit for bit, whatever
    the number of workers (:func:`pgm_energy._cluster.run_by_blocks`). On a cluster the workers
    show no bar; the caller's bar counts the chains of the blocks done.

    Parameters
    ----------
    client : distributed.Client or None
        From :func:`pgm_energy._cluster.resolve_client`.
    function : module-level callable
        Returns a tuple: per-chain arrays (first axis the chains) and other values.
    args : tuple
        Shared by every block (the model is sent to each worker once).
    per_chain : tuple of ndarray
        Each of shape (n_chains, ...).
    multiple : int, default 1
        Blocks start at multiples of this many chains (for a ``function`` that runs fixed
        groups of chains together: see :func:`pgm_energy._cluster.block_bounds`).

    Returns
    -------
    tuple
        ``function``'s arrays over all the chains; each other value as the list of the blocks' values.
    """
    if client is None:
        result = function(*args, progress, *per_chain)
        return tuple(value if isinstance(value, np.ndarray) else [value] for value in result)
    from .._cluster import run_by_blocks

    return run_by_blocks(client, function, (*args, False), per_chain, multiple=multiple, progress=progress,
                         description=description, unit="chain")


def with_cluster(info: dict, client, n_blocks: int) -> dict:
    """``info`` with ``cluster`` (``workers``, ``blocks``) added when the run went to ``client``."""
    if client is not None:
        from .._cluster import n_workers

        info["cluster"] = {"workers": n_workers(client), "blocks": n_blocks}
    return info


# ---------------------------------------------------------------------------- results
class Stopwatch:
    """Times the phases of a call: made at its start, :meth:`prepared` before the kernels, :meth:`sampled` after."""

    __slots__ = ("started", "prepared_at", "sampled_at")

    def __init__(self):
        self.started = time.perf_counter()
        self.prepared_at = self.sampled_at = self.started

    def prepared(self) -> None:
        self.prepared_at = time.perf_counter()

    def sampled(self) -> None:
        self.sampled_at = time.perf_counter()

    @property
    def sampling(self) -> float:
        return self.sampled_at - self.prepared_at


def energies(model, states: np.ndarray) -> np.ndarray:
    """``model.energy`` of every state of ``states`` (n_chains, n_draws, n_units), a chunk at a time."""
    n_chains, n_draws, n_units = states.shape
    flat = states.reshape(-1, n_units)
    result = np.empty(flat.shape[0])
    step = max(1, _ENERGY_CHUNK // max(n_units, 1))
    rbm = isinstance(model, RestrictedBoltzmannMachine)
    for start in range(0, flat.shape[0], step):
        block = flat[start : start + step]
        if rbm:
            result[start : start + step] = model.energy(block[:, : model.n_visible], block[:, model.n_visible :])
        else:
            result[start : start + step] = model.energy(block)
    return result.reshape(n_chains, n_draws)


def wrap(model, draws: np.ndarray, *, temperature: float, watch: Stopwatch, unit_updates: int, info: dict) -> SampleSet:
    """The :class:`SampleSet` of ``draws`` of ``model``, the common ``info`` keys added.

    The energies are :func:`energies` of the draws, computed on their first access (most
    calls never read them, and on a large model they cost more than the sampling);
    ``info["seconds"]["energies"]`` is 0.0 until then. ``info`` must hold ``sampler``,
    ``scan`` and ``sweeps``; this adds ``n_threads``, ``unit_updates``,
    ``unit_updates_per_second`` and ``seconds``. Call ``watch.sampled()`` first.
    """
    sampling = watch.sampling
    info.setdefault("n_threads", thread_count())  # a run on a cluster reports its workers' threads
    info.update(
        unit_updates=unit_updates,
        unit_updates_per_second=unit_updates / sampling if sampling > 0 else float("inf"),
        seconds={"setup": watch.prepared_at - watch.started, "sampling": sampling, "energies": 0.0},
    )
    return SampleSet._with_lazy_energies(
        draws, functools.partial(energies, model, draws), model.names, temperature=temperature, info=info
    )
