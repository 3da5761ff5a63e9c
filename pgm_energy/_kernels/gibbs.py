"""Single-site heat-bath Gibbs kernels for general Boltzmann machines.

Conventions shared by every kernel here (the wrapper in
:mod:`pgm_energy.samplers.gibbs` prepares the arrays):

- ``s``: uint8 states, shape (n_chains, n_units), updated in place.
- ``z``: float64 cached local fields ``z_i = b_i + sum_j W_ij s_j``, same shape,
  kept exact up to rounding by adding ``W_ij * (new - old)`` on each flip.
- Weights come either as CSR (``indptr``, ``indices``, ``data``; ``dense`` False)
  or as a dense C-contiguous matrix ``dense_w`` (``dense`` True); the unused
  storage is passed as an empty array.
- ``free``: int64 indices of the units that may change (clamped units are absent).
- ``betas``: float64 inverse temperatures, shape (n_sweeps, n_columns); chain ``c``
  reads column ``c % n_columns``. ``beta = inf`` is the zero-temperature limit:
  the deterministic asynchronous Hopfield update ``s_i = [z_i > 0]`` (a unit with
  ``z_i == 0`` keeps its state), under which the energy never increases.
- ``slots``: int64, shape (n_sweeps,): after sweep ``k`` the states are copied to
  ``out[:, slots[k]]`` when ``slots[k] >= 0``.

Heat bath: ``s_i <- 1`` with probability ``1 / (1 + exp(-beta z_i))``, tested as
``u (1 + exp(-beta z_i)) < 1`` (no division; an overflowing exp gives 0 exactly).
"""

import numpy as np
from numba import njit, prange

from .rng import counter_uniform, next_uniform

__all__ = [
    "SEQUENTIAL",
    "RANDOM",
    "CHROMATIC",
    "initialise_fields",
    "run_chains",
    "run_chromatic",
    "run_chromatic_chains",
    "run_tempering",
]

SEQUENTIAL = 0
RANDOM = 1
CHROMATIC = 2
#: units of a colour class handed to a thread at a time in chromatic sweeps
_BLOCK = 1024


# ---------------------------------------------------------------------------- one site
@njit(cache=True, nogil=True, inline="always")
def _heat_bath(z, beta, u):
    """New state of a unit with local field ``z`` at finite ``beta``, given a uniform ``u``.

    ``s = 1`` iff ``u < sigmoid(beta z)``, tested branch-free as ``u (1 + exp(-beta z)) < 1``
    (an overflowing exp gives 0 exactly). Measured here: cheaper than skipping the
    exp with bounds on the sigmoid, whose extra branches are mispredicted.
    """
    return np.uint8(u * (1.0 + np.exp(-beta * z)) < 1.0)


@njit(cache=True, nogil=True, inline="always")
def _hopfield(old, z):
    """Zero-temperature update: the sign of the field, ties keep the state."""
    if z > 0.0:
        return np.uint8(1)
    if z < 0.0:
        return np.uint8(0)
    return old


@njit(cache=True, nogil=True, inline="always")
def _field(sc, i, b, indptr, indices, data, dense_w, dense):
    """Local field of unit ``i`` computed from the states ``sc`` of one chain."""
    total = b[i]
    if dense:
        row = dense_w[i]
        for j in range(sc.shape[0]):
            total += row[j] * sc[j]
    else:
        for k in range(indptr[i], indptr[i + 1]):
            total += data[k] * sc[indices[k]]
    return total


@njit(cache=True, nogil=True, inline="always")
def _add_flip(zc, i, delta, indptr, indices, data, dense_w, dense):
    """Update the cached fields ``zc`` of one chain after unit ``i`` changed by ``delta``."""
    if dense:
        row = dense_w[i]
        for j in range(zc.shape[0]):
            zc[j] += delta * row[j]
    else:
        for k in range(indptr[i], indptr[i + 1]):
            zc[indices[k]] += delta * data[k]


@njit(cache=True, nogil=True)
def _chain_fields(sc, zc, b, indptr, indices, data, dense_w, dense):
    """Recompute every cached field of one chain from scratch."""
    for i in range(sc.shape[0]):
        zc[i] = _field(sc, i, b, indptr, indices, data, dense_w, dense)


@njit(cache=True, nogil=True)
def _chain_energy(sc, b, indptr, indices, data, dense_w, dense):
    """Energy ``-1/2 s'Ws - b's`` of one chain (no offset), from scratch."""
    total = 0.0
    for i in range(sc.shape[0]):
        if sc[i]:
            total += b[i] + 0.5 * (_field(sc, i, b, indptr, indices, data, dense_w, dense) - b[i])
    return -total


@njit(cache=True, nogil=True, parallel=True)
def initialise_fields(s, z, b, indptr, indices, data, dense_w, dense):
    """Fill ``z`` with the local fields of every chain of ``s``."""
    for c in prange(s.shape[0]):
        _chain_fields(s[c], z[c], b, indptr, indices, data, dense_w, dense)


# ---------------------------------------------------------------------------- one sweep of one chain
@njit(cache=True, nogil=True)
def _sweep_sequential(sc, zc, free, beta, stream, indptr, indices, data, dense_w, dense):
    """Update every free unit once, in index order (cached fields; ``stream`` has one entry)."""
    if beta == np.inf:
        for i in free:
            old = sc[i]
            new = _hopfield(old, zc[i])
            if new != old:
                sc[i] = new
                _add_flip(zc, i, np.float64(new) - np.float64(old), indptr, indices, data, dense_w, dense)
        return
    for i in free:
        old = sc[i]
        new = _heat_bath(zc[i], beta, next_uniform(stream, 0))
        if new != old:
            sc[i] = new
            _add_flip(zc, i, np.float64(new) - np.float64(old), indptr, indices, data, dense_w, dense)


@njit(cache=True, nogil=True)
def _sweep_random(sc, zc, free, beta, stream, indptr, indices, data, dense_w, dense):
    """``len(free)`` updates of units drawn uniformly with replacement (cached fields)."""
    n_free = free.shape[0]
    for _ in range(n_free):
        i = free[min(np.int64(next_uniform(stream, 0) * n_free), n_free - 1)]
        old = sc[i]
        if beta == np.inf:
            new = _hopfield(old, zc[i])
        else:
            new = _heat_bath(zc[i], beta, next_uniform(stream, 0))
        if new != old:
            sc[i] = new
            _add_flip(zc, i, np.float64(new) - np.float64(old), indptr, indices, data, dense_w, dense)


@njit(cache=True, nogil=True, inline="always")
def _chromatic_block(s, c, class_units, lo, hi, key, counter_base, beta, b, indptr, indices, data, dense_w, dense):
    """Update units ``class_units[lo:hi]`` of chain ``c`` (one colour class, so independent).

    Fields are computed from the states (no cache: a class may share neighbours),
    and unit ``i`` uses ``counter_uniform(key, counter_base + i)``.
    """
    for t in range(lo, hi):
        i = class_units[t]
        z = b[i]
        if dense:
            row = dense_w[i]
            for j in range(s.shape[1]):
                z += row[j] * s[c, j]
        else:
            for k in range(indptr[i], indptr[i + 1]):
                z += data[k] * s[c, indices[k]]
        if beta == np.inf:
            s[c, i] = _hopfield(s[c, i], z)
        else:
            s[c, i] = _heat_bath(z, beta, counter_uniform(key, counter_base + np.uint64(i)))


@njit(cache=True, nogil=True)
def _sweep_chromatic_serial(s, c, class_units, key, counter_base, beta, b, indptr, indices, data, dense_w, dense):
    """One chromatic sweep of chain ``c``, class after class (the same draws as :func:`run_chromatic`)."""
    _chromatic_block(s, c, class_units, 0, class_units.shape[0], key, counter_base, beta, b, indptr, indices, data, dense_w, dense)


# ---------------------------------------------------------------------------- drivers
@njit(cache=True, nogil=True, parallel=True)
def run_chains(s, z, free, scan, betas, slots, out, streams, indptr, indices, data, dense_w, dense):
    """Sequential- or random-scan sweeps, chains in parallel, one xorshift stream per chain.

    ``z`` must hold the fields of ``s`` (see :func:`initialise_fields`); both are
    left current, and ``streams`` advanced, so a run can continue with another call.
    """
    n_sweeps = betas.shape[0]
    n_columns = betas.shape[1]
    for c in prange(s.shape[0]):
        stream = streams[c : c + 1].copy()  # private copy: no false sharing between threads
        sc = s[c]
        zc = z[c]
        column = c % n_columns
        for sweep in range(n_sweeps):
            beta = betas[sweep, column]
            if scan == SEQUENTIAL:
                _sweep_sequential(sc, zc, free, beta, stream, indptr, indices, data, dense_w, dense)
            else:
                _sweep_random(sc, zc, free, beta, stream, indptr, indices, data, dense_w, dense)
            slot = slots[sweep]
            if slot >= 0:
                out[c, slot, :] = sc
        streams[c] = stream[0]


@njit(cache=True, nogil=True, parallel=True)
def run_chromatic(s, class_ptr, class_units, keys, sweep_offset, betas, slots, out, b, indptr, indices, data, dense_w, dense):
    """Chromatic sweeps: each colour class of every chain updated in parallel blocks.

    Units of one class are conditionally independent, and the uniform of unit
    ``i`` at global sweep ``t`` is ``counter_uniform(keys[c], t * n_units + i)``,
    so the result does not depend on the number of threads.
    """
    n_chains, n_units = s.shape
    n_sweeps = betas.shape[0]
    n_columns = betas.shape[1]
    n_classes = class_ptr.shape[0] - 1
    for sweep in range(n_sweeps):
        counter_base = np.uint64(sweep_offset + sweep) * np.uint64(n_units)
        for k in range(n_classes):
            start = class_ptr[k]
            stop = class_ptr[k + 1]
            n_blocks = (stop - start + _BLOCK - 1) // _BLOCK
            for task in prange(n_chains * n_blocks):
                c = task // n_blocks
                lo = start + (task - c * n_blocks) * _BLOCK
                hi = min(lo + _BLOCK, stop)
                _chromatic_block(
                    s, c, class_units, lo, hi, keys[c], counter_base, betas[sweep, c % n_columns],
                    b, indptr, indices, data, dense_w, dense,
                )
        slot = slots[sweep]
        if slot >= 0:
            for c in prange(n_chains):
                out[c, slot, :] = s[c]


@njit(cache=True, nogil=True, parallel=True)
def run_chromatic_chains(s, class_units, keys, sweep_offset, betas, slots, out, b, indptr, indices, data, dense_w, dense):
    """Chromatic sweeps with the chains in parallel and each chain's classes in turn.

    Draws exactly the same states as :func:`run_chromatic` (same counters, same
    arithmetic); cheaper when colour classes are small or chains are many, since
    it opens one parallel region per call instead of one per class and sweep.
    """
    n_chains, n_units = s.shape
    n_sweeps = betas.shape[0]
    n_columns = betas.shape[1]
    for c in prange(n_chains):
        for sweep in range(n_sweeps):
            base = np.uint64(sweep_offset + sweep) * np.uint64(n_units)
            _sweep_chromatic_serial(s, c, class_units, keys[c], base, betas[sweep, c % n_columns], b, indptr, indices, data, dense_w, dense)
            slot = slots[sweep]
            if slot >= 0:
                out[c, slot, :] = s[c]


@njit(cache=True, nogil=True, parallel=True)
def run_tempering(
    s, z, free, scan, class_units, ladder, slot_replica, swap_interval, sweep_offset, n_sweeps,
    target, slots, out, streams, keys, swap_streams, accepted, attempted,
    b, indptr, indices, data, dense_w, dense,
):
    """Replica exchange: ``n_groups`` independent ensembles of ``K = len(ladder)`` replicas.

    Replica ``g * K + r`` belongs to group ``g``; ``slot_replica[g, k]`` is the
    replica currently at inverse temperature ``ladder[k]`` (ascending
    temperatures, so descending betas). Every ``swap_interval`` sweeps, adjacent
    pairs ``(k, k+1)`` with ``k`` of alternating parity attempt a Metropolis swap
    with acceptance ``min(1, exp((beta_k - beta_k+1) (E_k - E_k+1)))``. Groups run
    in parallel, each with its own replica streams and swap stream, so results do
    not depend on the thread count. Recorded draws are the states at slot ``target``.
    """
    n_groups, n_ladder = slot_replica.shape
    for g in prange(n_groups):
        swap_stream = swap_streams[g : g + 1].copy()
        for sweep in range(n_sweeps):
            global_sweep = sweep_offset + sweep
            for k in range(n_ladder):
                c = slot_replica[g, k]
                beta = ladder[k]
                if scan == SEQUENTIAL:
                    _sweep_sequential(s[c], z[c], free, beta, streams[c : c + 1], indptr, indices, data, dense_w, dense)
                elif scan == RANDOM:
                    _sweep_random(s[c], z[c], free, beta, streams[c : c + 1], indptr, indices, data, dense_w, dense)
                else:
                    base = np.uint64(global_sweep) * np.uint64(s.shape[1])
                    _sweep_chromatic_serial(s, c, class_units, keys[c], base, beta, b, indptr, indices, data, dense_w, dense)
            if n_ladder > 1 and (global_sweep + 1) % swap_interval == 0:
                parity = ((global_sweep + 1) // swap_interval) % 2
                for k in range(parity, n_ladder - 1, 2):
                    low = slot_replica[g, k]
                    high = slot_replica[g, k + 1]
                    log_ratio = (ladder[k] - ladder[k + 1]) * (
                        _chain_energy(s[low], b, indptr, indices, data, dense_w, dense)
                        - _chain_energy(s[high], b, indptr, indices, data, dense_w, dense)
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
