"""Single-site heat-bath Gibbs kernels for general Boltzmann machines.

Conventions shared by every kernel here (the wrapper in
:mod:`pgm_energy.samplers.gibbs` prepares the arrays):

- ``s``: uint8 states, shape (n_chains, n_units), updated in place.
- ``z``: float64 cached local fields ``z_i = b_i + sum_j W_ij s_j``, same shape,
  kept exact up to rounding by adding ``W_ij * (new - old)`` on each flip.
- Weights come either as CSR (``indptr``, ``indices``, ``data``; ``dense`` False)
  or as a dense C-contiguous matrix ``dense_w`` (``dense`` True); the unused
  storage is passed as an empty array. The drivers (``run_*``) take these flat
  arrays and bundle them once (:class:`Weights`, :class:`PaddedRows`,
  :class:`Colouring`) for the kernels below them.
- ``free``: int64 indices of the units that may change (clamped units are absent).
- ``betas``: float64 inverse temperatures, shape (n_sweeps, n_columns); chain ``c``
  reads column ``c % n_columns``. ``beta = inf`` is the zero-temperature limit:
  the deterministic asynchronous Hopfield update ``s_i = [z_i > 0]`` (a unit with
  ``z_i == 0`` keeps its state), under which the energy never increases.
- ``slots``: int64, shape (n_sweeps,): after sweep ``k`` the states are copied to
  ``out[:, slots[k]]`` when ``slots[k] >= 0``.
- ``acceptance``: :data:`HEAT_BATH` or :data:`METROPOLIS` (finite ``beta`` only).

Heat bath: ``s_i <- 1`` with probability ``1 / (1 + exp(-beta z_i))``, tested as
``u (1 + exp(-beta z_i)) < 1``. Metropolis: flip ``s_i`` to ``1 - s_i`` (a change
``delta = 1 - 2 s_i``, which changes the energy by ``-delta z_i``) with probability
``min(1, exp(beta delta z_i))``, tested as ``u < exp(beta delta z_i)``. The
exponential is :func:`.expo.exp_clamped` (the same decisions as the exact
exponential, see its module).

How a decision is taken (the same way in every scan; it is what bounds a sweep):
the uniform ``u`` comes from 64 random bits whose top :data:`_CELL_BITS` bits give
the cell ``[j / 2**B, (j + 1) / 2**B)`` holding ``u``. The test is ``y > logit(u)``
(heat bath, ``y = beta z_i``) or ``y > log(u)`` (Metropolis, ``y = beta delta z_i``),
and both are increasing in ``u``, so a table of the cell's range of ``logit`` (or
``log``), widened by :data:`_PAD`, decides it with two loads and two comparisons
unless ``y`` falls inside that range (about one update in 2**B). Only then is the
uniform formed and the log-space test of :func:`_heat_bath` / :func:`_metropolis`
run, itself exact up to its fallback to the exact test. Outside the widened range
that log-space test decides the same way (its error is below ``_PAD``), so the
decisions, and the samples, are those of the log-space test in every case
(checked in tests/kernels/test_gibbs_kernels.py).

Sequential and chromatic sweeps over CSR weights update up to four chains in one
loop ("lanes"). In a sequential sweep one chain's updates form a chain of dependent
field updates (each flip changes the next unit's field), and interleaving
independent chains lets the processor overlap them; in a chromatic sweep the chains
share the loads of each unit's neighbours and weights. A chain's states depend only
on its own random numbers and its own arithmetic, done in the same order, so lanes
give exactly the states of one chain at a time, whatever the grouping (which the
wrapper picks from the thread count, :func:`lane_width`).

The lane count is not written into the code: a group's streams and inverse
temperatures are tuples, whose length is part of their type, so one body per scan
compiles to a 2-lane and a 4-lane loop that LLVM unrolls (:func:`_lanes_body`). The grouped
drivers (:func:`chain_groups_driver`, :func:`chromatic_groups_driver`) are compiled per lane
count, rule and row layout, and each compiles only its own loop: a first call pays for the
one it runs.

Each sequential/random-scan chain keeps its xorshift state in a local variable
(written back once per call) and, when no unit is clamped, visits
``range(n_units)`` instead of reading ``free``. Array positions are cast
to unsigned integers before indexing: Numba then skips the negative-index check.
"""

import functools
import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange
from numba.cpython.unsafe.tuple import tuple_setitem

from .expo import LOG_ERROR, exp_clamped, log_approx
from .rng import bits_uniform, block_stream, next_uniform, xorshift_bits

__all__ = [
    "PAD_WIDTHS",
    "SEQUENTIAL",
    "RANDOM",
    "CHROMATIC",
    "HEAT_BATH",
    "METROPOLIS",
    "Chains",
    "Colouring",
    "Exchange",
    "PaddedRows",
    "Record",
    "Weights",
    "initialise_fields",
    "lane_width",
    "padded_rows",
    "padded_width",
    "chain_groups_driver",
    "chromatic_groups_driver",
    "run_chains",
    "run_chromatic",
    "run_chromatic_chains",
    "tempering_driver",
]

SEQUENTIAL = 0
RANDOM = 1
CHROMATIC = 2
HEAT_BATH = 0
METROPOLIS = 1
#: units of a colour class handed to a thread at a time in chromatic sweeps, each block with its own stream
_BLOCK = 1024
#: in log space, decisions closer than this to the boundary are taken by the exact test
#: (far above the error of ``log_approx`` and the rounding of the exact test)
_MARGIN = 100.0 * LOG_ERROR
#: CSR sweeps update neighbours' fields without testing for a flip when the mean degree is at most this
_UNCONDITIONAL_DEGREE = 16
#: the top bits of a uniform's random bits that pick its decision cell (2**_CELL_BITS cells, 16 KiB a table)
_CELL_BITS = 10
_CELL_SHIFT = np.uint64(64 - _CELL_BITS)
#: widening of each cell's range of logit(u) or log(u): beyond it the log-space test of
#: :func:`_heat_bath` / :func:`_metropolis` is out of its fallback margin and decides the same way
_PAD = 2.0 * _MARGIN


def _cell_table(edge_values: np.ndarray) -> np.ndarray:
    """``[lo_0, hi_0, lo_1, hi_1, ...]``: the range of a test statistic over each cell, widened by ``_PAD``."""
    table = np.empty(2 * (edge_values.shape[0] - 1))
    table[0::2] = edge_values[:-1] - _PAD
    table[1::2] = edge_values[1:] + _PAD
    return table


def _decision_tables() -> tuple[np.ndarray, np.ndarray]:
    """Cell tables of ``logit(u)`` (heat bath) and ``log(u)`` (Metropolis) for uniforms ``k / 2**53``.

    The largest uniform is ``1 - 2**-53``, so the last cell's upper ends are taken as
    ``log(2**53) >= logit(1 - 2**-53)`` and ``log(1) = 0``; the first cell's lower ends are ``-inf``.
    """
    edges = np.arange((1 << _CELL_BITS) + 1) / (1 << _CELL_BITS)
    inner = edges[1:-1]
    logits = np.concatenate([[-np.inf], np.log(inner) - np.log1p(-inner), [53.0 * math.log(2.0)]])
    logs = np.concatenate([[-np.inf], np.log(edges[1:])])
    return _cell_table(logits), _cell_table(logs)


_LOGIT_CELLS, _LOG_CELLS = _decision_tables()


# ---------------------------------------------------------------------------- one site
@njit(cache=True, nogil=True, inline="always")
def _heat_bath(z, beta, u):
    """New state of a unit with local field ``z`` at finite ``beta``, given a uniform ``u``.

    The decision is that of ``u (1 + exp(-beta z)) < 1`` (``u < sigmoid(beta z)``), taken
    as ``beta z > log(u / (1 - u))`` with an approximate log: the log depends on ``u``
    alone, so it is computed off the chain of dependent field updates, which is what
    bounds a sequential sweep (each flip changes the next unit's field). Within
    :data:`_MARGIN` of the boundary the exact test decides, so the decisions (and the
    random stream) are those of the exact test.
    """
    if u == 0.0:
        return np.uint8(1)
    y = beta * z
    d = y - log_approx(u / (1.0 - u))
    new = np.uint8(d > 0.0)
    if abs(d) <= _MARGIN:
        new = np.uint8(u * (1.0 + exp_clamped(-y)) < 1.0)
    return new


@njit(cache=True, nogil=True, inline="always")
def _metropolis(old, z, beta, u):
    """New state after a Metropolis flip proposal ``old -> 1 - old``, given a uniform ``u``.

    Accepted with probability ``min(1, exp(beta delta z))``, ``delta = 1 - 2 old``: the
    decision of ``u < exp(beta delta z)``, taken as ``log(u) < beta delta z`` with an
    approximate log and the exact test within :data:`_MARGIN` of the boundary (as in
    :func:`_heat_bath`).
    """
    if u == 0.0:
        return np.uint8(1) - old
    y = beta * (1.0 - 2.0 * np.float64(old)) * z
    d = y - log_approx(u)
    accept = d > 0.0
    if abs(d) <= _MARGIN:
        accept = u < exp_clamped(y)
    return np.uint8(1) - old if accept else old


@njit(cache=True, nogil=True, inline="always")
def _update(old, z, beta, u, acceptance):
    """New state at finite ``beta`` under ``acceptance`` (log-space tests: for dependent chains of updates)."""
    if acceptance == METROPOLIS:
        return _metropolis(old, z, beta, u)
    return _heat_bath(z, beta, u)


@njit(cache=True, nogil=True, inline="always")
def _cell_flag(old, z, beta, bits, acceptance, summed):
    """The cell-table test (see the module notes): ``(flag, ambiguous)``.

    ``flag``: heat bath, the new state is 1; Metropolis, the flip is accepted. When
    ``ambiguous`` is True the flag may be wrong and the caller must take the decision
    of :func:`_decide_exactly` instead. ``summed`` (a constant at each call) picks how
    ``ambiguous`` is formed: the same value, different machine code (see below).
    """
    cell = (bits >> _CELL_SHIFT) << np.uint64(1)
    if acceptance == METROPOLIS:
        y = beta * (1.0 - 2.0 * np.float64(old)) * z
        lo = _LOG_CELLS[cell]
        hi = _LOG_CELLS[cell + np.uint64(1)]
    else:
        y = beta * z
        lo = _LOGIT_CELLS[cell]
        hi = _LOGIT_CELLS[cell + np.uint64(1)]
    above = y > hi
    if summed:
        # 0: below the cell's range, 1: inside (ambiguous), 2: above. Where updates are
        # independent LLVM turns ``(y >= lo) & (y <= hi)`` into two branches, one as
        # unpredictable as the decision (measured 2x slower chromatic sweeps); the sum stays
        # branch-free. Interleaved sequential lanes run ~6% faster with the and (measured).
        return above, np.int64(y >= lo) + np.int64(above) == 1
    return above, (y >= lo) & (y <= hi)


@njit(cache=True, nogil=True, inline="always")
def _decide(old, z, beta, bits, acceptance, summed):
    """New state at finite ``beta`` from the random ``bits``: ``(new, ambiguous)`` (see :func:`_cell_flag`)."""
    flag, ambiguous = _cell_flag(old, z, beta, bits, acceptance, summed)
    if acceptance == METROPOLIS:
        return old ^ np.uint8(flag), ambiguous
    return np.uint8(flag), ambiguous


@njit(cache=True, nogil=True)
def _decide_exactly(old, z, beta, bits, acceptance):
    """The decision :func:`_decide` stands for, by the log-space test (rare: not inlined)."""
    return _update(old, z, beta, bits_uniform(bits), acceptance)


@njit(cache=True, nogil=True, inline="always")
def _outcome(old, flag, acceptance):
    """``(new, new - old)`` from a flag of :func:`_cell_flag`, the change written as a choice.

    In a single chain's sequential sweep LLVM turns the choice into a branch that the
    processor predicts, so the next field update need not wait for the decision
    (measured 1.1-1.4x faster than the branch-free ``float(new) - float(old)`` at
    beta = 0.1, 0.44 and 1 on a 256x256 lattice). Interleaved chains keep the
    branch-free form: there the mispredictions cost more than the shorter chain saves.
    """
    fold = np.float64(old)
    if acceptance == METROPOLIS:
        return old ^ np.uint8(flag), (1.0 - 2.0 * fold) if flag else 0.0
    return np.uint8(flag), (1.0 - fold) if flag else -fold


@njit(cache=True, nogil=True, inline="always")
def _hopfield(old, z):
    """Zero-temperature update: the sign of the field, ties keep the state."""
    if z > 0.0:
        return np.uint8(1)
    if z < 0.0:
        return np.uint8(0)
    return old


# ---------------------------------------------------------------------------- argument bundles
class Weights(NamedTuple):
    """The weights of a Boltzmann machine as the kernels read them: CSR rows or a dense matrix.

    The unused storage holds empty arrays.

    Attributes
    ----------
    indptr : int64 array, shape (n_units + 1,)
    indices : int64 array, shape (nnz,)
    data : float64 array, shape (nnz,)
        CSR rows of the symmetric weight matrix (zero diagonal).
    dense_w : float64 array, shape (n_units, n_units) C-contiguous, or (0, 0)
    dense : bool
        Whether ``dense_w`` is the storage.
    """

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    dense_w: np.ndarray
    dense: bool


class PaddedRows(NamedTuple):
    """CSR rows padded to a constant ``width`` for the lane kernels (:func:`padded_rows`); ``width`` 0: none.

    Attributes
    ----------
    indices : int64 array, shape (n_units * width,)
    data : float64 array, shape (n_units * width,)
    width : int
    """

    indices: np.ndarray
    data: np.ndarray
    width: int


class Colouring(NamedTuple):
    """Colour classes of the free units: class ``k`` is ``units[ptr[k]:ptr[k + 1]]``.

    Attributes
    ----------
    ptr : int64 array, shape (n_classes + 1,)
    units : int64 array, shape (n_free,)
    """

    ptr: np.ndarray
    units: np.ndarray


class Chains(NamedTuple):
    """The chains a single-site driver sweeps; all are left current, so a run can continue with another call.

    Attributes
    ----------
    states : uint8 array, shape (n_chains, n_units)
    fields : float64 array, shape (n_chains, n_units)
        Local fields of ``states`` (:func:`initialise_fields`); shape (n_chains, 0) for the chromatic drivers,
        which sum fields as they go.
    streams : uint64 array, shape (n_chains,)
        One xorshift stream per chain (advanced in place), or the chromatic scan's fixed block keys.
    """

    states: np.ndarray
    fields: np.ndarray
    streams: np.ndarray


class Record(NamedTuple):
    """Where the states after each sweep go.

    Attributes
    ----------
    slots : int64 array, shape (n_sweeps,)
        Draw index written after each sweep of the call, -1: none.
    out : uint8 array, shape (n_chains, n_draws, n_units)
    """

    slots: np.ndarray
    out: np.ndarray


class Exchange(NamedTuple):
    """The replica-exchange state of :func:`run_tempering`: ``n_groups`` ensembles of ``K`` replicas.

    Attributes
    ----------
    ladder : float64 array, shape (K,)
        Inverse temperatures, descending.
    slot_replica : int64 array, shape (n_groups, K)
        The replica at each rung (updated in place by the swaps).
    interval : int
        Sweeps between swap rounds.
    target : int
        The rung whose states are recorded.
    swap_streams : uint64 array, shape (n_groups,)
        One xorshift stream per group for the swap decisions (advanced in place).
    accepted, attempted : int64 arrays, shape (n_groups, max(K - 1, 1))
        Swap counters per adjacent rung pair (incremented in place).
    """

    ladder: np.ndarray
    slot_replica: np.ndarray
    interval: int
    target: int
    swap_streams: np.ndarray
    accepted: np.ndarray
    attempted: np.ndarray


class _Rows(NamedTuple):
    """The rows a lane kernel reads neighbours from: ``indptr`` and CSR ``indices``, ``data``, or padded ones (:func:`_row_range`)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray


# ---------------------------------------------------------------------------- fields
# The hot loops take the arrays out of a bundle once, before the loop: an array taken out
# of a tuple inside a loop costs reference counting on every pass (measured 1.6x slower
# chromatic sweeps). The helpers they inline therefore take the arrays themselves.
@njit(cache=True, nogil=True, inline="always")
def _field(sc, i, b, indptr, indices, data, dense_w, dense):
    """Local field of unit ``i`` computed from the states ``sc`` of one chain (a row or a chain-minor column)."""
    total = b[i]
    if not dense:
        for k in range(indptr[i], indptr[i + 1]):
            total += data[k] * sc[indices[k]]
        return total
    row = dense_w[i]
    for j in range(sc.shape[0]):
        total += row[j] * sc[j]
    return total


@njit(cache=True, nogil=True, inline="always")
def _flip_csr(zc, i, delta, indptr, indices, data):
    for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
        zc[np.uint64(indices[k])] += delta * data[k]


@njit(cache=True, nogil=True, inline="always")
def _flip_dense(zc, i, delta, dense_w):
    row = dense_w[i]
    for j in range(zc.shape[0]):
        zc[j] += delta * row[j]


@njit(cache=True, nogil=True, inline="always")
def _add_flip(zc, i, delta, indptr, indices, data, dense_w, dense):
    """Update the cached fields ``zc`` of one chain after unit ``i`` changed by ``delta``."""
    if dense:
        _flip_dense(zc, i, delta, dense_w)
    else:
        _flip_csr(zc, i, delta, indptr, indices, data)


@njit(cache=True, nogil=True)
def _chain_fields(sc, zc, b, weights):
    """Recompute every cached field of one chain from scratch."""
    indptr, indices, data, dense_w, dense = weights
    for i in range(sc.shape[0]):
        zc[i] = _field(sc, i, b, indptr, indices, data, dense_w, dense)


@njit(cache=True, nogil=True)
def _chain_energy(sc, b, weights):
    """Energy ``-1/2 s'Ws - b's`` of one chain (no offset), from scratch."""
    indptr, indices, data, dense_w, dense = weights
    total = 0.0
    for i in range(sc.shape[0]):
        if sc[i]:
            total += b[i] + 0.5 * (_field(sc, i, b, indptr, indices, data, dense_w, dense) - b[i])
    return -total


@njit(cache=True, nogil=True)
def initialise_fields(s, z, b, indptr, indices, data, dense_w, dense):
    """Fill ``z`` with the local fields of every chain of ``s``.

    Serial: it costs one sweep's field sums, while a parallel loop costs a first call about a
    second of compilation.
    """
    weights = Weights(indptr, indices, data, dense_w, dense)
    for c in range(s.shape[0]):
        _chain_fields(s[c], z[c], b, weights)


# ---------------------------------------------------------------------------- one sweep of one chain
@njit(cache=True, nogil=True)
def _unconditional(indptr):
    """Whether CSR sweeps add field changes without testing for a flip (few neighbours per unit).

    A data-dependent branch on "flipped?" is mispredicted about as often as units flip,
    and each miss costs the whole chain of dependent field updates; adding a zero change is cheaper.
    """
    return indptr[indptr.shape[0] - 1] <= _UNCONDITIONAL_DEGREE * (indptr.shape[0] - 1)


@njit(cache=True, nogil=True, inline="always")
def _sequential_body(sc, zc, free, beta, acceptance, x, weights, dense, unconditional):
    """The loop of :func:`_sweep_sequential` at finite ``beta``, for ``dense`` (a constant at each call) storage or CSR.

    ``unconditional``: add the field changes of every update, a zero one when the unit
    kept its state (:func:`_unconditional`; CSR only).
    """
    indptr, indices, data, dense_w, _ = weights
    all_free = free.shape[0] == sc.shape[0]
    for t in range(free.shape[0]):
        i = t if all_free else free[t]
        x, bits = xorshift_bits(x)
        old = sc[i]
        flag, ambiguous = _cell_flag(old, zc[i], beta, bits, acceptance, False)
        if ambiguous:
            exact = _decide_exactly(old, zc[i], beta, bits, acceptance)
            flag = (exact != old) if acceptance == METROPOLIS else (exact == 1)
        new, delta = _outcome(old, flag, acceptance)
        sc[i] = new
        if unconditional or new != old:
            if dense:
                _flip_dense(zc, i, delta, dense_w)
            else:
                _flip_csr(zc, i, delta, indptr, indices, data)
    return x


@njit(cache=True, nogil=True)
def _sweep_sequential(sc, zc, free, beta, acceptance, x, weights):
    """Update every free unit once, in index order (cached fields); returns the advanced xorshift state ``x``.

    When no unit is clamped (``free`` lists them all) the loop visits ``range(n_units)``
    instead of reading ``free``. Specialised loops (zero temperature or not, CSR or
    dense) keep the inner loop free of loop-invariant branches.
    """
    if beta == np.inf:
        indptr, indices, data, dense_w, dense = weights
        all_free = free.shape[0] == sc.shape[0]
        for t in range(free.shape[0]):
            i = t if all_free else free[t]
            old = sc[i]
            new = _hopfield(old, zc[i])
            if new != old:
                sc[i] = new
                _add_flip(zc, i, np.float64(new) - np.float64(old), indptr, indices, data, dense_w, dense)
        return x
    if weights.dense:
        return _sequential_body(sc, zc, free, beta, acceptance, x, weights, True, False)
    return _sequential_body(sc, zc, free, beta, acceptance, x, weights, False, _unconditional(weights.indptr))


@njit(cache=True, nogil=True)
def _sweep_random(sc, zc, free, beta, acceptance, x, weights):
    """``len(free)`` updates of units drawn uniformly with replacement (cached fields); returns ``x``."""
    indptr, indices, data, dense_w, dense = weights
    n_free = free.shape[0]
    for _ in range(n_free):
        x, bits = xorshift_bits(x)
        i = free[min(np.int64(bits_uniform(bits) * n_free), n_free - 1)]
        old = sc[i]
        if beta == np.inf:
            new = _hopfield(old, zc[i])
        else:
            x, bits = xorshift_bits(x)
            new, ambiguous = _decide(old, zc[i], beta, bits, acceptance, True)
            if ambiguous:
                new = _decide_exactly(old, zc[i], beta, bits, acceptance)
        if new != old:
            sc[i] = new
            _add_flip(zc, i, np.float64(new) - np.float64(old), indptr, indices, data, dense_w, dense)
    return x


@njit(cache=True, nogil=True, inline="always")
def _chromatic_block(sc, units, lo, hi, key, counter, beta, acceptance, b, weights):
    """Update units ``units[lo:hi]`` of one chain's states ``sc`` (one colour class, so independent).

    Fields are computed from the states (no cache: a class may share neighbours). The
    block's uniforms come from one xorshift stream started at ``block_stream(key, counter)``
    (``counter`` names the block: the sweep's base plus ``lo``), one draw per unit in
    turn; ``beta = inf`` (Hopfield) draws none. ``sc`` may be a row of row-major states
    or a column of chain-minor ones.
    """
    x = block_stream(key, counter)
    indptr, indices, data, dense_w, dense = weights
    for t in range(lo, hi):
        i = np.uint64(units[t])
        # the sum of _field, written out with unsigned indices: through a call of _field
        # (inlined or not) this loop ran 2.3x slower (measured)
        z = b[i]
        if dense:
            row = dense_w[i]
            for j in range(sc.shape[0]):
                z += row[j] * sc[j]
        else:
            for k in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                z += data[k] * sc[np.uint64(indices[k])]
        old = np.uint8(sc[i])  # sc may hold float64 states (chain-minor copies)
        if beta == np.inf:
            sc[i] = _hopfield(old, z)
        else:
            x, bits = xorshift_bits(x)
            new, ambiguous = _decide(old, z, beta, bits, acceptance, True)
            if ambiguous:
                new = _decide_exactly(old, z, beta, bits, acceptance)
            sc[i] = new


@njit(cache=True, nogil=True)
def _chromatic_task(sc, units, lo, hi, key, counter, beta, acceptance, b, weights):
    """:func:`_chromatic_block` as a call, for the parallel loop of :func:`run_chromatic`.

    Inlined into a ``prange`` body, its unpacking of ``weights`` breaks Numba's parfor
    array analysis (an ``IndexError`` at compile time); a call per block costs nothing.
    """
    _chromatic_block(sc, units, lo, hi, key, counter, beta, acceptance, b, weights)


@njit(cache=True, nogil=True)
def _sweep_chromatic_serial(sc, colouring, key, counter_base, beta, acceptance, b, weights):
    """One chromatic sweep of one chain's states ``sc``, class after class, block after block (the draws of :func:`run_chromatic`)."""
    ptr, units = colouring
    for k in range(ptr.shape[0] - 1):
        stop = ptr[k + 1]
        for lo in range(ptr[k], stop, _BLOCK):
            counter = counter_base + np.uint64(lo)
            _chromatic_block(sc, units, lo, min(lo + _BLOCK, stop), key, counter, beta, acceptance, b, weights)


# ---------------------------------------------------------------------------- one sweep of a group of chains ("lanes")
@njit(cache=True, nogil=True, inline="always")
def _lane_draw(x, old, z, beta, acceptance):
    """One lane's draw and cell-table decision for a unit in state ``old`` with field ``z``.

    Returns ``(x, bits, new, ambiguous)``. Scalars only: arrays passed to an inlined
    helper in a hot loop can leave reference-count calls in it.
    """
    x, bits = xorshift_bits(x)
    new, ambiguous = _decide(old, z, beta, bits, acceptance, False)
    return x, bits, new, ambiguous


@njit(cache=True, nogil=True, inline="always")
def _row_range(i, width, indptr):
    """Positions ``start, stop`` of unit ``i``'s neighbours: CSR (``width`` 0) or padded rows of ``width``.

    ``width`` is a constant at each call, so a padded row's loop has a constant trip
    count and is unrolled (measured 1.2x faster lane sweeps on a square lattice).
    """
    if width:
        start = i * np.uint64(width)
        return start, start + np.uint64(width)
    return np.uint64(indptr[i]), np.uint64(indptr[i + 1])


@njit(cache=True, nogil=True, inline="always")
def _flip_lane(Z, lane, i, delta, indptr, indices, data, width):
    """:func:`_flip_csr` on column ``lane`` of chain-minor fields ``Z`` (n_units, n_lanes), rows as in :func:`_row_range`."""
    first, last = _row_range(i, width, indptr)
    for k in range(first, last):
        Z[np.uint64(indices[k]), lane] += delta * data[k]


@njit(cache=True, nogil=True)
def _settle_lane(news, lane, old, z, beta, bits, acceptance):
    """``news`` with lane ``lane``'s decision taken exactly if its cell test was ambiguous (rare: not inlined).

    The lane bodies keep only whether any lane was ambiguous (one flag on the hot path);
    this repeats the cell test of the one lane to find out.
    """
    _, unsure = _decide(old, z, beta, bits, acceptance, True)
    if unsure:
        return tuple_setitem(news, lane, np.uint64(_decide_exactly(old, z, beta, bits, acceptance)))
    return news


@njit(cache=True, nogil=True, inline="always")
def _lanes_body(S, Z, free, betas, acceptance, xs, rows, unconditional, width):
    """:func:`_sweep_sequential` (CSR, finite betas) of the chains held in ``S``, ``Z``, in one loop.

    ``S`` (uint8) and ``Z`` (float64), shape (n_units, n_lanes): states and cached fields
    of ``n_lanes`` chains, chain-minor, so the lanes' fields of a neighbour share a cache
    line. ``betas`` (float64) and ``xs`` (uint64, the xorshift states, returned advanced):
    tuples of ``n_lanes`` values. The length of a tuple is part of its type, so every
    ``for lane in range(n_lanes)`` loop has a constant trip count: LLVM unrolls it and
    keeps the lanes' tuples in registers (:func:`tuple_setitem` at a constant position is
    a register move), the code of a hand-unrolled loop. Every chain sees exactly the
    draws, decisions and field updates (in the same order) of a sweep of its own, so its
    states are those :func:`_sweep_sequential` gives. Inlined by :func:`_sweep_lanes` where
    ``acceptance`` and ``width`` (see :func:`_row_range`) are constants: one loop per rule
    and row width, no per-update test of them (measured 1.1-1.2x faster).
    """
    n_lanes = len(xs)
    all_free = free.shape[0] == S.shape[0]
    indptr, indices, data = rows
    for t in range(free.shape[0]):
        i = np.uint64(t) if all_free else np.uint64(free[t])
        olds = news = draws = xs  # uint64 tuples, filled lane by lane
        ambiguous = False
        for lane in range(n_lanes):
            old = S[i, lane]
            x, bits, new, unsure = _lane_draw(xs[lane], old, Z[i, lane], betas[lane], acceptance)
            xs = tuple_setitem(xs, lane, x)
            draws = tuple_setitem(draws, lane, bits)
            olds = tuple_setitem(olds, lane, np.uint64(old))
            news = tuple_setitem(news, lane, np.uint64(new))
            ambiguous |= unsure
        if ambiguous:  # one rarely taken branch for all the lanes: find which (the fields are unchanged)
            for lane in range(n_lanes):
                news = _settle_lane(news, lane, np.uint8(olds[lane]), Z[i, lane], betas[lane], draws[lane], acceptance)
        deltas = betas
        for lane in range(n_lanes):
            S[i, lane] = np.uint8(news[lane])
            # one conversion, not two
            deltas = tuple_setitem(deltas, lane, np.float64(np.int64(news[lane]) - np.int64(olds[lane])))
        if unconditional:
            first, last = _row_range(i, width, indptr)
            for k in range(first, last):
                j = np.uint64(indices[k])
                w = data[k]
                for lane in range(n_lanes):
                    Z[j, lane] += deltas[lane] * w
        else:
            for lane in range(n_lanes):
                if news[lane] != olds[lane]:
                    _flip_lane(Z, lane, i, deltas[lane], indptr, indices, data, width)
    return xs


@njit(cache=True, nogil=True, inline="always")
def _lane_rows(weights, padded, width):
    """The rows the lane loops read: the padded rows when ``width`` is 4 (:func:`padded_rows`), else the CSR rows.

    Inlined into a driver, where ``width`` is a compile-time constant, so Numba drops the
    other branch (it prunes branches on constants, not on a callee's literal arguments).
    One value, not a tuple: a tuple unpacked in a parallel function breaks Numba's array analysis.
    """
    if width == 4:
        return _Rows(weights.indptr, padded.indices, padded.data)
    return _Rows(weights.indptr, weights.indices, weights.data)


@njit(cache=True, nogil=True, inline="always")
def _lane_unconditional(weights, width):
    """Whether the lane loops over the rows of :func:`_lane_rows` add field changes without testing for a flip."""
    if width == 4:
        return True
    return _unconditional(weights.indptr)


@njit(cache=True, nogil=True)
def _sweep_lanes(S, Z, free, betas, acceptance, xs, x, rows, unconditional, width):
    """:func:`_lanes_body` of the chains of ``S``, ``Z``; their streams ``xs`` (a tuple) written advanced to ``x``.

    Compiled for the driver's ``acceptance`` and ``width`` (literal arguments) and the
    length of the tuples, so one loop per driver (:func:`chain_groups_driver`), not one per
    rule and row layout. ``rows``, ``unconditional``: of :func:`_lane_rows`, :func:`_lane_unconditional`. The streams go
    back through the array ``x``: a caller inlined into a parallel loop must not unpack a tuple.
    """
    xs = _lanes_body(S, Z, free, betas, acceptance, xs, rows, unconditional, width)
    for lane in range(len(xs)):
        x[lane] = xs[lane]


@njit(cache=True, nogil=True, inline="always")
def _chromatic_lanes_body(S, colouring, keys, counter_base, betas, acceptance, b, rows, width):
    """:func:`_sweep_chromatic_serial` (CSR or padded rows, finite betas) of the chains held in chain-minor ``S``.

    ``S``: float64 0/1 states, shape (n_units, n_lanes). The lanes share the loads
    of each unit's neighbours and weights, and their states of a neighbour are adjacent
    in memory; each chain's fields are summed in the same order, and its uniforms drawn
    from the same block streams, as in a sweep of its own, so its states are the same.
    ``keys`` (uint64), ``betas`` (float64): tuples of the lanes' keys and inverse
    temperatures (tuples: see :func:`_lanes_body`). Inlined by :func:`_sweep_chromatic_lanes`
    where ``acceptance`` and ``width`` are constants. The exact test of an ambiguous cell
    is one rarely taken branch for all the lanes, after their table tests: a call in each
    lane's path would keep the lanes' streams and sums in memory across it (measured).
    """
    n_lanes = len(keys)
    ptr, units = colouring
    indptr, indices, data = rows
    for c in range(ptr.shape[0] - 1):
        stop = ptr[c + 1]
        for lo in range(ptr[c], stop, _BLOCK):
            counter = counter_base + np.uint64(lo)
            xs = keys
            for lane in range(n_lanes):
                xs = tuple_setitem(xs, lane, block_stream(keys[lane], counter))
            for t in range(lo, min(lo + _BLOCK, stop)):
                i = np.uint64(units[t])
                fields = betas
                for lane in range(n_lanes):
                    fields = tuple_setitem(fields, lane, b[i])
                first, last = _row_range(i, width, indptr)
                for k in range(first, last):
                    j = np.uint64(indices[k])
                    w = data[k]
                    for lane in range(n_lanes):
                        fields = tuple_setitem(fields, lane, fields[lane] + w * S[j, lane])
                # uint64 tuples, filled lane by lane; loads, draws and table tests in separate
                # loops, as the processor best overlaps them (measured 2-4% faster than one loop)
                olds = news = draws = flags = xs
                ambiguous = False
                for lane in range(n_lanes):
                    olds = tuple_setitem(olds, lane, np.uint64(np.uint8(S[i, lane])))
                for lane in range(n_lanes):
                    x, bits = xorshift_bits(xs[lane])
                    xs = tuple_setitem(xs, lane, x)
                    draws = tuple_setitem(draws, lane, bits)
                for lane in range(n_lanes):
                    new, unsure = _decide(np.uint8(olds[lane]), fields[lane], betas[lane], draws[lane], acceptance, True)
                    news = tuple_setitem(news, lane, np.uint64(new))
                    flags = tuple_setitem(flags, lane, np.uint64(unsure))
                    ambiguous |= unsure
                if ambiguous:
                    for lane in range(n_lanes):
                        if flags[lane]:
                            exact = _decide_exactly(np.uint8(olds[lane]), fields[lane], betas[lane], draws[lane], acceptance)
                            news = tuple_setitem(news, lane, np.uint64(exact))
                for lane in range(n_lanes):
                    S[i, lane] = np.int64(news[lane])  # through a signed integer: the cheap conversion to float


@njit(cache=True, nogil=True)
def _sweep_chromatic_lanes(S, colouring, keys, counter_base, betas, acceptance, b, rows, width):
    """:func:`_chromatic_lanes_body` compiled for the driver's ``acceptance`` and ``width`` (see :func:`_sweep_lanes`)."""
    _chromatic_lanes_body(S, colouring, keys, counter_base, betas, acceptance, b, rows, width)


# ---------------------------------------------------------------------------- padded rows
#: row widths the lane kernels unroll (see :func:`_row_range`); each adds two inlined copies of
#: every lane loop to the compiled drivers, so only the square lattice's (and smaller degrees')
PAD_WIDTHS = (4,)


def padded_rows(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """CSR rows padded to a constant width for the lane kernels: ``(pad_indices, pad_data, width)``.

    Row ``i`` occupies ``[i * width, (i + 1) * width)``: its neighbours in CSR order, then
    entries with weight 0 pointing at ``i`` itself (a zero weight adds exactly 0 to a
    field sum and to a field update, so sums and samples are those of the CSR rows).
    ``width`` is the smallest of :data:`PAD_WIDTHS` holding the longest row, or 0 (and
    empty arrays) when none does or padding would more than double the entries.

    Returns
    -------
    pad_indices : ndarray of int64, shape (n_units * width,)
    pad_data : ndarray of float64, shape (n_units * width,)
    width : int
    """
    n = indptr.shape[0] - 1
    degree = np.diff(indptr)
    longest = int(degree.max(initial=0))
    width = next((w for w in PAD_WIDTHS if longest <= w), 0)
    if n == 0 or width == 0 or n * width > 2 * max(indices.shape[0], 1):
        return np.zeros(0, dtype=np.int64), np.zeros(0), 0
    pad_indices = np.repeat(np.arange(n, dtype=np.int64), width)
    pad_data = np.zeros(n * width)
    slots = np.repeat(np.arange(n, dtype=np.int64) * width - indptr[:-1], degree) + np.arange(indices.shape[0])
    pad_indices[slots] = indices
    pad_data[slots] = data
    return pad_indices, pad_data, width


def padded_width(pad_indices: np.ndarray, n_units: int) -> int:
    """Width of the padded rows ``pad_indices`` of :func:`padded_rows` for ``n_units`` units (0: none)."""
    return pad_indices.shape[0] // n_units if n_units else 0


# ---------------------------------------------------------------------------- drivers
def lane_width(n_chains: int, n_threads: int) -> int:
    """Chains :func:`run_chains` should interleave in one loop: 4 when every thread gets four, else 2, else 1."""
    if n_chains >= 4 * n_threads:
        return 4
    if n_chains >= 2 * n_threads:
        return 2
    return 1


@njit(cache=True, nogil=True)
def _to_chain_minor(rows, first, last, like):
    """Columns ``0 .. last-first-1`` of the result are rows ``first .. last-1`` of ``rows``: shape (n_units, last - first), dtype of ``like``."""
    columns = np.empty((rows.shape[1], last - first), dtype=like.dtype)
    for i in range(rows.shape[1]):
        for lane in range(last - first):
            columns[i, lane] = rows[first + lane, i]
    return columns


@njit(cache=True, nogil=True)
def _from_chain_minor(columns, rows, first):
    """Write the columns of ``columns`` (n_units, n_lanes) back to rows ``first ..`` of ``rows``."""
    for lane in range(columns.shape[1]):
        for i in range(columns.shape[0]):
            rows[first + lane, i] = columns[i, lane]


@njit(cache=True, nogil=True, inline="always")
def _record_chain(out, slot, c, sc):
    """``out[c, slot] = sc`` when ``slot >= 0`` (the sweep is recorded)."""
    if slot >= 0:
        out[c, slot, :] = sc


@njit(cache=True, nogil=True)
def _record_group(out, slot, first, S):
    """:func:`_record_chain` for the chains ``first ..`` held in the columns of chain-minor ``S`` (any dtype of 0/1)."""
    if slot >= 0:
        for lane in range(S.shape[1]):
            for i in range(S.shape[0]):
                out[first + lane, slot, i] = np.uint8(S[i, lane])


@njit(cache=True, nogil=True)
def _lane_betas(betas, sweep, c, lane_betas):
    """Fill ``lane_betas`` with the inverse temperatures of chains ``c, c+1, ...`` at ``sweep``."""
    for lane in range(lane_betas.shape[0]):
        lane_betas[lane] = betas[sweep, (c + lane) % betas.shape[1]]


@njit(cache=True, nogil=True, inline="always")
def _all_finite(betas):
    """Whether no inverse temperature in ``betas`` is ``inf`` (a zero-temperature lane is swept on its own)."""
    for beta in betas:
        if beta == np.inf:
            return False
    return True


@njit(cache=True, nogil=True)
def _group_bounds(n_chains, lanes):
    """Chain groups for the drivers: ``bounds[g] .. bounds[g+1]-1``, groups of ``lanes`` chains, then single chains.

    Every group has ``lanes`` chains or one, so a driver compiles one lane loop (the
    remainder runs one chain at a time, as :func:`run_chains` does).
    """
    full = n_chains // lanes
    n_groups = full + n_chains - full * lanes
    bounds = np.empty(n_groups + 1, dtype=np.int64)
    for g in range(full + 1):
        bounds[g] = g * lanes
    for g in range(full + 1, n_groups + 1):
        bounds[g] = bounds[g - 1] + 1
    return bounds


@njit(cache=True, nogil=True)
def _sweep_column(S, Z, lane, free, beta, acceptance, x, weights):
    """:func:`_sweep_sequential` of the chain in column ``lane`` of chain-minor ``S``, ``Z``; returns its stream.

    The column is copied to contiguous rows and back: a sweep of the strided column itself
    would compile a second specialisation of the sweep for a first call to pay for.
    """
    sc = S[:, lane].copy()
    zc = Z[:, lane].copy()
    x = _sweep_sequential(sc, zc, free, beta, acceptance, x, weights)
    for i in range(sc.shape[0]):  # element by element: a slice assignment compiles its error message's formatting
        S[i, lane] = sc[i]
        Z[i, lane] = zc[i]
    return x


@njit(cache=True, nogil=True, inline="always")
def _sequential_group(S, Z, free, betas, acceptance, x, weights, rows, unconditional, lanes, width):
    """One sequential sweep of the ``lanes`` (2 or 4) chains held chain-minor in ``S``, ``Z``; streams ``x`` advanced.

    ``betas``: the chains' inverse temperatures (float64 array, one per column). In one loop
    (:func:`_sweep_lanes`) at finite temperatures; with a zero-temperature lane, one chain at a time.
    Inlined into the driver, whose ``lanes`` is a compile-time constant: Numba keeps only the
    branch of its lane count. (No tuple unpacking here: inlined into a parallel loop, it
    breaks Numba's array analysis.)
    """
    if not _all_finite(betas):
        for lane in range(S.shape[1]):
            x[lane] = _sweep_column(S, Z, lane, free, betas[lane], acceptance, x[lane], weights)
    elif lanes == 4:
        quad = (betas[0], betas[1], betas[2], betas[3])
        _sweep_lanes(S, Z, free, quad, acceptance, (x[0], x[1], x[2], x[3]), x, rows, unconditional, width)
    else:
        _sweep_lanes(S, Z, free, (betas[0], betas[1]), acceptance, (x[0], x[1]), x, rows, unconditional, width)


@njit(cache=True, nogil=True)
def _chromatic_column(S, lane, colouring, key, counter_base, beta, acceptance, b, weights):
    """:func:`_sweep_chromatic_serial` of the chain in column ``lane`` of chain-minor float64 ``S``, as uint8 rows.

    Copied for the reason of :func:`_sweep_column`: the sweep keeps the one specialisation the drivers use.
    """
    sc = np.empty(S.shape[0], dtype=np.uint8)
    for i in range(S.shape[0]):
        sc[i] = np.uint8(S[i, lane])
    _sweep_chromatic_serial(sc, colouring, key, counter_base, beta, acceptance, b, weights)
    for i in range(S.shape[0]):
        S[i, lane] = sc[i]


@njit(cache=True, nogil=True, inline="always")
def _chromatic_group(S, colouring, keys, counter_base, betas, acceptance, b, weights, rows, lanes, width):
    """One chromatic sweep of the ``lanes`` chains held chain-minor (float64) in ``S``, with their ``keys`` (uint64).

    As :func:`_sequential_group` (inlined into the driver): in one loop
    (:func:`_sweep_chromatic_lanes`) at finite temperatures, else one chain at a time.
    """
    if not _all_finite(betas):
        for lane in range(S.shape[1]):
            _chromatic_column(S, lane, colouring, keys[lane], counter_base, betas[lane], acceptance, b, weights)
    elif lanes == 4:
        quad = (betas[0], betas[1], betas[2], betas[3])
        _sweep_chromatic_lanes(S, colouring, (keys[0], keys[1], keys[2], keys[3]), counter_base, quad, acceptance, b, rows,
                               width)
    else:
        _sweep_chromatic_lanes(S, colouring, (keys[0], keys[1]), counter_base, (betas[0], betas[1]), acceptance, b, rows,
                               width)


@njit(cache=True, nogil=True, inline="always")
def _sweep_base(sweep_offset, sweep, n_units):
    """The counter of a chromatic sweep's first block stream: ``(sweep_offset + sweep) * n_units`` (uint64)."""
    return np.uint64(sweep_offset + sweep) * np.uint64(n_units)


@njit(cache=True, nogil=True, parallel=True)
def run_chains(chains, free, scan, acceptance, betas, record, weights):
    """Sequential- or random-scan sweeps, one chain per loop, chains in parallel, one xorshift stream per chain.

    ``chains.fields`` must hold the fields of ``chains.states`` (see :func:`initialise_fields`); both are
    left current, and the streams advanced, so a run can continue with another call.
    :func:`chain_groups_driver` draws the same states faster with several chains per thread;
    this driver is the small one (quick to load in a fresh process).

    Parameters
    ----------
    chains : Chains
    free : int64 array, shape (n_free,)
        The units updated, in this order for the sequential scan.
    scan : int
        ``SEQUENTIAL`` or ``RANDOM``.
    acceptance : int
        ``HEAT_BATH`` or ``METROPOLIS``.
    betas : float64 array, shape (n_sweeps, n_columns)
        Inverse temperature of each sweep; chain ``c`` reads column ``c % n_columns``.
    record : Record
    weights : Weights
    """
    # Arrays taken out of the bundles once: one taken out of a tuple in a loop costs reference counting on
    # every pass. By attribute, not by tuple unpacking: Numba's parfors lost the writes of a prange body to
    # an array unpacked from a tuple argument (streams not advanced).
    s, z, streams = chains.states, chains.fields, chains.streams
    slots, out = record.slots, record.out
    for c in prange(s.shape[0]):
        x = streams[c : c + 1].copy()  # a local: no false sharing between threads
        for sweep in range(betas.shape[0]):
            beta = betas[sweep, c % betas.shape[1]]
            if scan == SEQUENTIAL:
                x[0] = _sweep_sequential(s[c], z[c], free, beta, acceptance, x[0], weights)
            else:
                x[0] = _sweep_random(s[c], z[c], free, beta, acceptance, x[0], weights)
            _record_chain(out, slots[sweep], c, s[c])
        streams[c] = x[0]


def _group_variant(lanes: int, acceptance: int, width: int) -> tuple[int, int, int]:
    """The compiled variant serving ``lanes`` (4 when at least 4, else 2), ``acceptance``, ``width`` (4 or 0)."""
    return (4 if lanes >= 4 else 2), (METROPOLIS if acceptance == METROPOLIS else HEAT_BATH), (4 if width == 4 else 0)


def chain_groups_driver(lanes: int, acceptance: int, width: int):
    """The driver of sequential sweeps over CSR weights with the chains in groups of ``lanes``.

    Draws the states :func:`run_chains` draws (``SEQUENTIAL``), faster, with several chains
    per thread. ``lanes`` (2 or 4; see :func:`lane_width`), ``acceptance`` (``HEAT_BATH`` or
    ``METROPOLIS``) and ``width`` (of the padded rows, :func:`padded_rows`; 0: CSR rows) are
    compile-time constants of the returned kernel: a first call compiles the one lane loop it
    runs (:func:`_sweep_lanes`), not one per lane count, rule and row layout.

    Returns
    -------
    numba dispatcher
        ``driver(chains, free, betas, record, weights, padded)``: a parallel kernel, arguments as
        :func:`run_chains` plus the ``padded`` rows (:class:`PaddedRows` of width ``width``).
        Groups of ``lanes`` chains run in parallel, each held chain-minor for the call and, at
        finite temperatures, swept in one loop; the chains left over run one at a time.
        ``weights`` must be CSR (``weights.dense`` False). The states do not depend on
        ``lanes`` nor on the padding.
    """
    return _chain_groups_driver(*_group_variant(lanes, acceptance, width))


@functools.lru_cache(maxsize=None)
def _chain_groups_driver(lanes, acceptance, width):
    @njit(cache=True, nogil=True, parallel=True)
    def run_chain_groups(chains, free, betas, record, weights, padded):
        s, z, streams = chains.states, chains.fields, chains.streams  # by attribute: see run_chains
        slots, out = record.slots, record.out
        rows = _lane_rows(weights, padded, width)
        unconditional = _lane_unconditional(weights, width)
        bounds = _group_bounds(s.shape[0], lanes)
        for g in prange(bounds.shape[0] - 1):
            first = bounds[g]
            size = bounds[g + 1] - first
            x = streams[first : first + size].copy()  # a local: no false sharing between threads
            if size == 1:
                for sweep in range(betas.shape[0]):
                    beta = betas[sweep, first % betas.shape[1]]
                    x[0] = _sweep_sequential(s[first], z[first], free, beta, acceptance, x[0], weights)
                    _record_chain(out, slots[sweep], first, s[first])
            else:
                S = _to_chain_minor(s, first, first + size, s)
                Z = _to_chain_minor(z, first, first + size, z)
                lane_betas = np.empty(size)
                for sweep in range(betas.shape[0]):
                    _lane_betas(betas, sweep, first, lane_betas)
                    _sequential_group(S, Z, free, lane_betas, acceptance, x, weights, rows, unconditional, lanes, width)
                    _record_group(out, slots[sweep], first, S)
                _from_chain_minor(S, s, first)
                _from_chain_minor(Z, z, first)
            streams[first : first + size] = x

    return run_chain_groups


@njit(cache=True, nogil=True, parallel=True)
def run_chromatic(chains, colouring, sweep_offset, acceptance, betas, record, b, weights):
    """Chromatic sweeps: each colour class of every chain updated in parallel blocks.

    Units of one class are conditionally independent. The uniforms of the block of
    class positions ``lo .. lo+_BLOCK-1`` (blocks start at each class's first position)
    in chain ``c`` at global sweep ``t`` come from one xorshift stream started at
    ``block_stream(keys[c], t * n_units + lo)``, so the result does not depend on the
    number of threads, nor on which driver runs it (:func:`run_chromatic_chains`).

    Parameters
    ----------
    chains : Chains
        ``streams`` holds the keys (not advanced); ``fields`` is not read.
    colouring : Colouring
        Colour classes of the free units.
    sweep_offset : int
        Global index ``t`` of the call's first sweep.
    acceptance, betas, record, weights
        As :func:`run_chains`.
    b : float64 array, shape (n_units,)
        Biases.
    """
    s, keys = chains.states, chains.streams  # by attribute: see run_chains
    class_ptr, class_units = colouring.ptr, colouring.units
    slots, out = record.slots, record.out
    n_chains, n_units = s.shape
    for sweep in range(betas.shape[0]):
        counter_base = _sweep_base(sweep_offset, sweep, n_units)
        for k in range(class_ptr.shape[0] - 1):
            start = class_ptr[k]
            stop = class_ptr[k + 1]
            n_blocks = (stop - start + _BLOCK - 1) // _BLOCK
            for task in prange(n_chains * n_blocks):
                c = task // n_blocks
                lo = start + (task - c * n_blocks) * _BLOCK
                beta = betas[sweep, c % betas.shape[1]]
                counter = counter_base + np.uint64(lo)
                _chromatic_task(s[c], class_units, lo, min(lo + _BLOCK, stop), keys[c], counter, beta, acceptance, b, weights)
        if slots[sweep] >= 0:
            for c in prange(n_chains):
                out[c, slots[sweep], :] = s[c]


@njit(cache=True, nogil=True, parallel=True)
def run_chromatic_chains(chains, colouring, sweep_offset, acceptance, betas, record, b, weights):
    """Chromatic sweeps with the chains in parallel and each chain's classes in turn, one chain per loop.

    Draws exactly the same states as :func:`run_chromatic` (same block streams, same
    arithmetic, same parameters); cheaper when colour classes are small or chains are many, since it
    opens one parallel region per call instead of one per class and sweep.
    :func:`chromatic_groups_driver` draws the same states faster with several chains per thread.
    """
    s, keys = chains.states, chains.streams  # by attribute: see run_chains
    slots, out = record.slots, record.out
    for c in prange(s.shape[0]):
        for sweep in range(betas.shape[0]):
            base = _sweep_base(sweep_offset, sweep, s.shape[1])
            beta = betas[sweep, c % betas.shape[1]]
            _sweep_chromatic_serial(s[c], colouring, keys[c], base, beta, acceptance, b, weights)
            _record_chain(out, slots[sweep], c, s[c])


def chromatic_groups_driver(lanes: int, acceptance: int, width: int):
    """The driver of :func:`run_chromatic_chains` over CSR weights with the chains in groups of ``lanes`` (same states).

    Groups of ``lanes`` chains (2 or 4; see :func:`lane_width`) are held chain-minor (as float64:
    measured faster field sums) for the call and, at finite temperatures, swept in one
    loop (:func:`_sweep_chromatic_lanes`), the groups in parallel; the chains left over run one
    at a time. ``lanes``, ``acceptance`` and ``width`` are compile-time constants of the
    returned kernel, as in :func:`chain_groups_driver`.

    Returns
    -------
    numba dispatcher
        ``driver(chains, colouring, sweep_offset, betas, record, b, weights, padded)``: a parallel
        kernel, arguments as :func:`run_chromatic_chains` plus the ``padded`` rows of width
        ``width``. ``weights`` must be CSR.
    """
    return _chromatic_groups_driver(*_group_variant(lanes, acceptance, width))


@functools.lru_cache(maxsize=None)
def _chromatic_groups_driver(lanes, acceptance, width):
    @njit(cache=True, nogil=True, parallel=True)
    def run_chromatic_groups(chains, colouring, sweep_offset, betas, record, b, weights, padded):
        s, keys = chains.states, chains.streams  # by attribute: see run_chains
        slots, out = record.slots, record.out
        n_units = s.shape[1]
        rows = _lane_rows(weights, padded, width)
        bounds = _group_bounds(s.shape[0], lanes)
        for g in prange(bounds.shape[0] - 1):
            first = bounds[g]
            size = bounds[g + 1] - first
            if size == 1:
                for sweep in range(betas.shape[0]):
                    base = _sweep_base(sweep_offset, sweep, n_units)
                    beta = betas[sweep, first % betas.shape[1]]
                    _sweep_chromatic_serial(s[first], colouring, keys[first], base, beta, acceptance, b, weights)
                    _record_chain(out, slots[sweep], first, s[first])
            else:
                S = _to_chain_minor(s, first, first + size, np.empty(0))
                group_keys = keys[first : first + size]
                lane_betas = np.empty(size)
                for sweep in range(betas.shape[0]):
                    base = _sweep_base(sweep_offset, sweep, n_units)
                    _lane_betas(betas, sweep, first, lane_betas)
                    _chromatic_group(S, colouring, group_keys, base, lane_betas, acceptance, b, weights, rows, lanes,
                                     width)
                    _record_group(out, slots[sweep], first, S)
                _from_chain_minor(S, s, first)

    return run_chromatic_groups


def tempering_driver(scan: int):
    """The replica-exchange driver for ``scan`` (``SEQUENTIAL``, ``RANDOM`` or ``CHROMATIC``, heat-bath updates).

    ``scan`` is a compile-time constant of the returned kernel, so a first call compiles the
    sweep of its own scan only.

    Returns
    -------
    numba dispatcher
        ``driver(chains, free, colouring, keys, sweep_offset, exchange, record, b, weights)``, a
        parallel kernel running ``n_groups`` independent ensembles of ``K = len(ladder)`` replicas.

    Notes
    -----
    Replica ``g * K + r`` belongs to group ``g``; ``slot_replica[g, k]`` is the
    replica currently at inverse temperature ``ladder[k]`` (ascending
    temperatures, so descending betas). Every ``swap_interval`` sweeps, adjacent
    pairs ``(k, k+1)`` with ``k`` of alternating parity attempt a Metropolis swap
    with acceptance ``min(1, exp((beta_k - beta_k+1) (E_k - E_k+1)))``. Groups run
    in parallel, each with its own replica streams and swap stream, so results do
    not depend on the thread count. Recorded draws are the states at slot ``target``.

    The driver's parameters:

    chains : Chains
        One row per replica (``n_groups * K``), fields current.
    free : int64 array, shape (n_free,)
    colouring : Colouring
        Colour classes of the free units (chromatic scan only).
    keys : uint64 array, shape (n_groups * K,)
        The chromatic scan's block keys, fixed for the whole run.
    sweep_offset : int
        Global index of the call's first sweep.
    exchange : Exchange
        Ladder, rung occupancy, swap interval, recorded rung, swap streams and counters.
    record : Record
        ``slots`` has one entry per sweep of the call: its length is the number of sweeps.
    b : float64 array, shape (n_units,)
    weights : Weights
    """
    return _tempering_driver(SEQUENTIAL if scan == SEQUENTIAL else RANDOM if scan == RANDOM else CHROMATIC)


@functools.lru_cache(maxsize=None)
def _tempering_driver(scan):
    @njit(cache=True, nogil=True, parallel=True)
    def run_tempering(chains, free, colouring, keys, sweep_offset, exchange, record, b, weights):
        s, z, streams = chains.states, chains.fields, chains.streams  # by attribute: see run_chains
        ladder, slot_replica, swap_interval, target = exchange.ladder, exchange.slot_replica, exchange.interval, exchange.target
        swap_streams, accepted, attempted = exchange.swap_streams, exchange.accepted, exchange.attempted
        slots, out = record.slots, record.out
        n_sweeps = slots.shape[0]
        n_groups, n_ladder = slot_replica.shape
        for g in prange(n_groups):
            swap_stream = swap_streams[g : g + 1].copy()
            for sweep in range(n_sweeps):
                global_sweep = sweep_offset + sweep
                for k in range(n_ladder):
                    c = slot_replica[g, k]
                    beta = ladder[k]
                    if scan == SEQUENTIAL:
                        streams[c] = _sweep_sequential(s[c], z[c], free, beta, HEAT_BATH, streams[c], weights)
                    elif scan == RANDOM:
                        streams[c] = _sweep_random(s[c], z[c], free, beta, HEAT_BATH, streams[c], weights)
                    else:
                        base = _sweep_base(global_sweep, 0, s.shape[1])
                        _sweep_chromatic_serial(s[c], colouring, keys[c], base, beta, HEAT_BATH, b, weights)
                if n_ladder > 1 and (global_sweep + 1) % swap_interval == 0:
                    parity = ((global_sweep + 1) // swap_interval) % 2
                    for k in range(parity, n_ladder - 1, 2):
                        low = slot_replica[g, k]
                        high = slot_replica[g, k + 1]
                        log_ratio = (ladder[k] - ladder[k + 1]) * (
                            _chain_energy(s[low], b, weights) - _chain_energy(s[high], b, weights)
                        )
                        attempted[g, k] += 1
                        if log_ratio >= 0.0 or next_uniform(swap_stream, 0) < np.exp(log_ratio):
                            slot_replica[g, k] = high
                            slot_replica[g, k + 1] = low
                            accepted[g, k] += 1
                slot = slots[sweep]
                if slot >= 0:
                    out[g, slot, :] = s[slot_replica[g, target]]
            swap_streams[g] = swap_stream[0]

    return run_tempering
