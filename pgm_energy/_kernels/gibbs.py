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
- ``acceptance``: :data:`HEAT_BATH` or :data:`METROPOLIS` (finite ``beta`` only).

Heat bath: ``s_i <- 1`` with probability ``1 / (1 + exp(-beta z_i))``, tested as
``u (1 + exp(-beta z_i)) < 1``. Metropolis: flip ``s_i`` to ``1 - s_i`` (a change
``delta = 1 - 2 s_i``, which changes the energy by ``-delta z_i``) with probability
``min(1, exp(beta delta z_i))``, tested as ``u < exp(beta delta z_i)``. The
exponential is :func:`.expo.exp_clamped` (the same decisions as the exact
exponential, see its module). Sequential and random scans evaluate both tests in
log space with :func:`.expo.log_approx` of the uniform (off the critical path of
dependent field updates), falling back to the exact test within a tiny margin of
the boundary, so the decisions are those of the exact tests; chromatic sweeps,
whose updates are independent, use the exact tests directly.

Each sequential/random-scan chain keeps its xorshift state in a local variable
(written back once per call) and, when no unit is clamped (``all_free``),
visits ``range(n_units)`` instead of reading ``free``.
"""

import numpy as np
from numba import njit, prange

from .expo import LOG_ERROR, exp_clamped, log_approx
from .rng import counter_uniform, next_uniform, xorshift_step

__all__ = [
    "SEQUENTIAL",
    "RANDOM",
    "CHROMATIC",
    "HEAT_BATH",
    "METROPOLIS",
    "initialise_fields",
    "run_chains",
    "run_chromatic",
    "run_chromatic_chains",
    "run_tempering",
]

SEQUENTIAL = 0
RANDOM = 1
CHROMATIC = 2
HEAT_BATH = 0
METROPOLIS = 1
#: units of a colour class handed to a thread at a time in chromatic sweeps
_BLOCK = 1024
#: in log space, decisions closer than this to the boundary are taken by the exact test
#: (far above the error of ``log_approx`` and the rounding of the exact test)
_MARGIN = 100.0 * LOG_ERROR
#: CSR sweeps update neighbours' fields without testing for a flip when the mean degree is at most this
_UNCONDITIONAL_DEGREE = 16


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
def _update_direct(old, z, beta, u, acceptance):
    """The same decisions as :func:`_update` by the exact tests themselves.

    Cheaper where updates are independent (chromatic classes): no chain of
    dependent fields to shorten, so one ``exp_clamped`` beats a division and a log.
    """
    if acceptance == METROPOLIS:
        if u < exp_clamped(beta * (1.0 - 2.0 * np.float64(old)) * z):
            return np.uint8(1) - old
        return old
    return np.uint8(u * (1.0 + exp_clamped(-beta * z)) < 1.0)


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
@njit(cache=True, nogil=True, inline="always")
def _flip_csr(zc, i, delta, indptr, indices, data):
    for k in range(indptr[i], indptr[i + 1]):
        zc[indices[k]] += delta * data[k]


@njit(cache=True, nogil=True, inline="always")
def _flip_dense(zc, i, delta, dense_w):
    row = dense_w[i]
    for j in range(zc.shape[0]):
        zc[j] += delta * row[j]


@njit(cache=True, nogil=True)
def _sweep_sequential(sc, zc, free, all_free, beta, acceptance, x, indptr, indices, data, dense_w, dense):
    """Update every free unit once, in index order (cached fields); returns the advanced xorshift state ``x``.

    Specialised loops (zero temperature or not, CSR or dense) keep the inner loop free of
    loop-invariant branches.
    """
    n = sc.shape[0] if all_free else free.shape[0]
    if beta == np.inf:
        for t in range(n):
            i = t if all_free else free[t]
            old = sc[i]
            new = _hopfield(old, zc[i])
            if new != old:
                sc[i] = new
                _add_flip(zc, i, np.float64(new) - np.float64(old), indptr, indices, data, dense_w, dense)
        return x
    if dense:
        for t in range(n):
            i = t if all_free else free[t]
            x, u = xorshift_step(x)
            old = sc[i]
            new = _update(old, zc[i], beta, u, acceptance)
            if new != old:
                sc[i] = new
                _flip_dense(zc, i, np.float64(new) - np.float64(old), dense_w)
    else:
        # Few neighbours: add the (possibly zero) change unconditionally; a data-dependent
        # branch on "flipped?" is mispredicted about as often as units flip, and each miss
        # costs the whole chain of dependent field updates.
        unconditional = indptr[indptr.shape[0] - 1] <= _UNCONDITIONAL_DEGREE * (indptr.shape[0] - 1)
        for t in range(n):
            i = t if all_free else free[t]
            x, u = xorshift_step(x)
            old = sc[i]
            new = _update(old, zc[i], beta, u, acceptance)
            sc[i] = new
            if unconditional or new != old:
                _flip_csr(zc, i, np.float64(new) - np.float64(old), indptr, indices, data)
    return x


@njit(cache=True, nogil=True)
def _sweep_random(sc, zc, free, beta, acceptance, x, indptr, indices, data, dense_w, dense):
    """``len(free)`` updates of units drawn uniformly with replacement (cached fields); returns ``x``."""
    n_free = free.shape[0]
    for _ in range(n_free):
        x, u = xorshift_step(x)
        i = free[min(np.int64(u * n_free), n_free - 1)]
        old = sc[i]
        if beta == np.inf:
            new = _hopfield(old, zc[i])
        else:
            x, u = xorshift_step(x)
            new = _update(old, zc[i], beta, u, acceptance)
        if new != old:
            sc[i] = new
            _add_flip(zc, i, np.float64(new) - np.float64(old), indptr, indices, data, dense_w, dense)
    return x


@njit(cache=True, nogil=True, inline="always")
def _chromatic_block(s, c, class_units, lo, hi, key, counter_base, beta, acceptance, b, indptr, indices, data, dense_w, dense):
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
            s[c, i] = _update_direct(s[c, i], z, beta, counter_uniform(key, counter_base + np.uint64(i)), acceptance)


@njit(cache=True, nogil=True)
def _sweep_chromatic_serial(s, c, class_units, key, counter_base, beta, acceptance, b, indptr, indices, data, dense_w, dense):
    """One chromatic sweep of chain ``c``, class after class (the same draws as :func:`run_chromatic`)."""
    _chromatic_block(
        s, c, class_units, 0, class_units.shape[0], key, counter_base, beta, acceptance, b, indptr, indices, data, dense_w, dense
    )


# ---------------------------------------------------------------------------- drivers
@njit(cache=True, nogil=True, parallel=True)
def run_chains(s, z, free, scan, acceptance, betas, slots, out, streams, indptr, indices, data, dense_w, dense):
    """Sequential- or random-scan sweeps, chains in parallel, one xorshift stream per chain.

    ``z`` must hold the fields of ``s`` (see :func:`initialise_fields`); both are
    left current, and ``streams`` advanced, so a run can continue with another call.
    """
    n_sweeps = betas.shape[0]
    n_columns = betas.shape[1]
    all_free = free.shape[0] == s.shape[1]
    for c in prange(s.shape[0]):
        x = streams[c]  # a local: no false sharing between threads
        sc = s[c]
        zc = z[c]
        column = c % n_columns
        for sweep in range(n_sweeps):
            beta = betas[sweep, column]
            if scan == SEQUENTIAL:
                x = _sweep_sequential(sc, zc, free, all_free, beta, acceptance, x, indptr, indices, data, dense_w, dense)
            else:
                x = _sweep_random(sc, zc, free, beta, acceptance, x, indptr, indices, data, dense_w, dense)
            slot = slots[sweep]
            if slot >= 0:
                out[c, slot, :] = sc
        streams[c] = x


@njit(cache=True, nogil=True, parallel=True)
def run_chromatic(s, class_ptr, class_units, keys, sweep_offset, acceptance, betas, slots, out, b, indptr, indices, data, dense_w, dense):
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
                    s, c, class_units, lo, hi, keys[c], counter_base, betas[sweep, c % n_columns], acceptance,
                    b, indptr, indices, data, dense_w, dense,
                )
        slot = slots[sweep]
        if slot >= 0:
            for c in prange(n_chains):
                out[c, slot, :] = s[c]


@njit(cache=True, nogil=True, parallel=True)
def run_chromatic_chains(s, class_units, keys, sweep_offset, acceptance, betas, slots, out, b, indptr, indices, data, dense_w, dense):
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
            _sweep_chromatic_serial(
                s, c, class_units, keys[c], base, betas[sweep, c % n_columns], acceptance, b, indptr, indices, data, dense_w, dense
            )
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
    all_free = free.shape[0] == s.shape[1]
    for g in prange(n_groups):
        swap_stream = swap_streams[g : g + 1].copy()
        for sweep in range(n_sweeps):
            global_sweep = sweep_offset + sweep
            for k in range(n_ladder):
                c = slot_replica[g, k]
                beta = ladder[k]
                if scan == SEQUENTIAL:
                    streams[c] = _sweep_sequential(
                        s[c], z[c], free, all_free, beta, HEAT_BATH, streams[c], indptr, indices, data, dense_w, dense
                    )
                elif scan == RANDOM:
                    streams[c] = _sweep_random(s[c], z[c], free, beta, HEAT_BATH, streams[c], indptr, indices, data, dense_w, dense)
                else:
                    base = np.uint64(global_sweep) * np.uint64(s.shape[1])
                    _sweep_chromatic_serial(s, c, class_units, keys[c], base, beta, HEAT_BATH, b, indptr, indices, data, dense_w, dense)
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
