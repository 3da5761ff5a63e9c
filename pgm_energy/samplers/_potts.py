"""Sampling Potts machines: the categorical counterpart of the binary samplers' single-site path.

:class:`~pgm_energy.samplers.GibbsSampler` and
:class:`~pgm_energy.samplers.SimulatedAnnealingSampler` hand a
:class:`~pgm_energy.models.PottsMachine` to :func:`sample_potts` with their sweeps: a constant
inverse temperature or a schedule. The sweeps are heat-bath updates in
:mod:`pgm_energy._kernels.potts_gibbs` (sequential: variables in index order; chromatic:
colour class after colour class of a greedy colouring, the order in which the updates of a class
are conditionally independent); chains run in parallel, each on its own stream.
"""

from __future__ import annotations

import functools
import weakref

import numpy as np

from .._potts_enumeration import check_evidence
from .._validation import check_categorical_states, describe
from ..exceptions import StateError, ValidationError
from ..models._potts_parts import neighbour_lists
from . import _pipeline as pipeline
from ._layout import colouring_of_pattern
from .categorical_sampleset import CategoricalSampleSet

__all__ = ["sample_potts", "potts_chains", "POTTS_SCANS", "potts_weights"]

#: the scans of a Potts machine ("auto": chromatic when the graph is sparse and bipartite, as the binary rule)
POTTS_SCANS = ("sequential", "chromatic")

_WEIGHTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def potts_weights(model):
    """The kernels' :class:`~pgm_energy._kernels.potts_gibbs.PottsWeights` of ``model`` (cached: models are immutable)."""
    from .._kernels.potts_gibbs import PottsWeights

    weights = _WEIGHTS.get(model)
    if weights is not None:
        return weights
    cards = np.array(model.cardinalities, dtype=np.int64)
    edges = model.edges
    block_start, couplings = _shared_blocks(model)
    lists = neighbour_lists(model.n_variables, edges[:, 0], edges[:, 1], cards[edges[:, 1]], block_start)
    weights = PottsWeights(cards, model.flat_fields, model.field_offsets, *lists, couplings)
    _WEIGHTS[model] = weights
    return weights


def _shared_blocks(model) -> tuple[np.ndarray, np.ndarray]:
    """Each edge's start in a store of the distinct coupling matrices, and that store.

    Lattices and other homogeneous models repeat one matrix on every edge (``J I_q`` for the
    standard Potts model): stored once, it stays in cache, where one copy per edge (100 numbers
    an edge for q = 10) would be read from memory at every update.
    """
    cards = np.array(model.cardinalities, dtype=np.int64)
    edges, offsets, flat = model.edges, model.coupling_offsets, model.flat_couplings
    block_start = np.empty(edges.shape[0], dtype=np.int64)
    if edges.shape[0] == 0:
        return block_start, flat
    shapes = np.stack([cards[edges[:, 0]], cards[edges[:, 1]]], axis=1)
    pieces, stored = [], 0
    for shape in np.unique(shapes, axis=0):
        members = np.flatnonzero((shapes == shape).all(axis=1))
        size = int(shape[0] * shape[1])
        matrices = flat[offsets[members][:, None] + np.arange(size)]  # (members, size)
        distinct, which = np.unique(matrices, axis=0, return_inverse=True)
        block_start[members] = stored + which.ravel() * size
        pieces.append(distinct.ravel())
        stored += distinct.size
    return block_start, np.ascontiguousarray(np.concatenate(pieces))


def potts_update_order(model, free: np.ndarray, scan: str) -> np.ndarray:
    if scan == "sequential":
        return free
    import scipy.sparse as sp

    edges = model.edges
    n = model.n_variables
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    pattern = sp.csr_array((np.ones(rows.shape[0], dtype=np.int8), (rows, cols)), shape=(n, n))
    colours = colouring_of_pattern(pattern)[free]
    return np.ascontiguousarray(free[np.lexsort((free, colours))])


def initial_potts_states(initial_states, model, n_chains: int) -> np.ndarray | None:
    if initial_states is None:
        return None
    cards = np.array(model.cardinalities, dtype=np.int64)
    try:
        shape = np.shape(initial_states)
    except (TypeError, ValueError):
        shape = None
    if shape not in ((model.n_variables,), (n_chains, model.n_variables)):
        raise StateError(
            f"initial_states must have shape ({model.n_variables},) or (n_chains, {model.n_variables}) = "
            f"({n_chains}, {model.n_variables}), got {describe(initial_states)}"
        )
    batch, _ = check_categorical_states(initial_states, cards, "initial_states")
    return np.array(np.broadcast_to(batch, (n_chains, model.n_variables)), dtype=np.int64)


def sample_potts(model, *, n_samples: int, n_chains: int, burn_in: int, thin: int, keep: str, scan: str, evidence,
                 initial_states, betas_of, temperature: float, generator, progress: bool, watch, sampler: str,
                 description: str, client=None) -> CategoricalSampleSet:
    """Run the sweeps of a Potts machine and wrap the draws.

    Parameters
    ----------
    betas_of : callable(start, stop) -> float64 array of shape (stop - start,)
        Inverse temperature of each sweep.
    temperature : float
        The temperature the draws target (the final one for annealing), for the sample set.
    client : None or the samplers' ``client`` (resolved here)
        Run the chains in blocks on a Dask cluster (same draws: see :func:`potts_chains`).
    Others as the samplers' ``sample``, already checked but for ``evidence`` and ``initial_states``.
    """
    from .._cluster import resolve_client
    from .._kernels.rng import seed_streams

    if scan not in POTTS_SCANS:
        raise ValidationError(f"scan must be one of {', '.join(map(repr, POTTS_SCANS))} for a PottsMachine, got {scan!r}")
    n_variables = model.n_variables
    n_sweeps = pipeline.check_draw_sizes(n_samples, n_chains, n_variables, burn_in, thin, keep)
    clamped = check_evidence(model, evidence)
    initial = initial_potts_states(initial_states, model, n_chains)
    cards = np.array(model.cardinalities, dtype=np.int64)
    states = generator.integers(0, cards, size=(n_chains, n_variables)) if initial is None else initial
    for index, value in clamped.items():
        states[:, index] = value
    # the smallest integer type: a chain's states stay in cache (the updates read neighbours at random)
    states = np.ascontiguousarray(states, dtype=pipeline.state_dtype(cards))
    free = pipeline.free_units(n_variables, clamped)
    order = potts_update_order(model, free, scan)
    weights = potts_weights(model)
    streams = seed_streams(generator, n_chains)
    client = resolve_client(client)
    watch.prepared()
    average_degree = 2.0 * model.n_edges / max(n_variables, 1)
    cost = order.shape[0] * float(cards.mean()) * (1.0 + average_degree)  # a sweep of one chain
    slots_of = functools.partial(pipeline.record_slots, n_sweeps=n_sweeps, burn_in=burn_in, thin=thin, keep=keep)
    out, threads = pipeline.run_chains(
        client, potts_chains, (weights, order, n_sweeps, betas_of, slots_of, n_samples if keep == "all" else 1,
                               cost, description), (states, streams), progress=progress, description=description,
    )
    watch.sampled()
    info = {"sampler": sampler, "scan": scan, "sweeps": n_sweeps, "burn_in": burn_in, "thin": thin}
    pipeline.with_cluster(info, client, len(threads))
    sampling = watch.sampling
    unit_updates = n_chains * n_sweeps * order.shape[0]
    info.update(
        n_threads=max(threads), unit_updates=unit_updates,
        unit_updates_per_second=unit_updates / sampling if sampling > 0 else float("inf"),
        seconds={"setup": watch.prepared_at - watch.started, "sampling": sampling, "energies": 0.0},
    )

    def energies():
        return model.energy(out.reshape(-1, n_variables)).reshape(out.shape[:2])

    return CategoricalSampleSet._with_lazy_energies(out, energies, model.names, temperature=temperature, info=info,
                                                    state_labels=model.state_labels)


def potts_chains(weights, order: np.ndarray, n_sweeps: int, betas_of, slots_of, n_draws: int, cost: float,
                 description: str, progress: bool, states: np.ndarray, streams: np.ndarray):
    """Heat-bath chains of a Potts machine from their starting states and streams: one block of a (split) run.

    Module-level so that a cluster's workers run it (:func:`pgm_energy.samplers._pipeline.run_chains`);
    each chain depends only on its row of ``states`` and ``streams``.

    Parameters
    ----------
    weights : PottsWeights
    order : int64 ndarray
        The free variables in update order.
    betas_of, slots_of : callable(start, stop)
        Inverse temperature and record slot of each sweep.
    cost : float
        Work of one chain's sweep (sizes the first kernel call).
    states : unsigned integer ndarray, shape (n_chains, n_variables)
    streams : uint64 ndarray, shape (n_chains,)

    Returns
    -------
    draws : ndarray, shape (n_chains, n_draws, n_variables), dtype of ``states``
    n_threads : int
    """
    from .._kernels.potts_gibbs import run_potts_chains

    states, streams = np.array(states, order="C"), np.array(streams)  # updated in place
    out = np.empty((states.shape[0], n_draws, states.shape[1]), dtype=states.dtype)

    def run(start, stop):
        run_potts_chains(states, streams, order, betas_of(start, stop), slots_of(start, stop), out, weights)

    pipeline.run_sweeps(n_sweeps, run, cost_per_sweep=cost * states.shape[0], progress=progress,
                        description=description)
    return out, pipeline.thread_count()


def update_costs(model, clamped: dict) -> tuple[float, float, int]:
    """The annealing schedule's ends for a Potts machine: (largest update cost, smallest excitation, free variables).

    An update of variable ``u`` moves between states whose local fields differ by at most the
    spread of ``f_u`` plus, per neighbour, the largest spread of a column of their coupling
    matrix; that bound is the largest cost. The smallest excitation is the smallest non-zero
    difference between two entries of a field vector or of a coupling matrix's column (two states
    of one variable against a fixed neighbour state). Clamped variables are left out of both.
    """
    free = pipeline.free_units(model.n_variables, clamped)
    if free.size == 0:
        return 0.0, 0.0, 0
    is_free = np.zeros(model.n_variables, dtype=bool)
    is_free[free] = True
    spread = np.array([np.ptp(f) for f in model.fields])
    gaps = [np.diff(np.unique(model.fields[u])) for u in free.tolist()]
    for (i, j), matrix in model.couplings.items():
        if is_free[i]:
            spread[i] += np.ptp(matrix, axis=0).max()
            gaps.extend(np.diff(np.sort(matrix, axis=0), axis=0).ravel()[None, :])
        if is_free[j]:
            spread[j] += np.ptp(matrix, axis=1).max()
            gaps.extend(np.diff(np.sort(matrix, axis=1), axis=1).ravel()[None, :])
    values = np.concatenate([np.ravel(g) for g in gaps]) if gaps else np.zeros(0)
    values = values[values > 0]
    return float(spread[free].max()), float(values.min()) if values.size else 0.0, int(free.size)
