"""Fast exact ``log Z`` of a bipartite (restricted) model: a product kernel without per-unit exp/log.

For ``E(a, e) = -a^T C^T e - p^T a - q^T e`` with ``a`` the analytic layer (``n`` units)
and ``e`` the enumerated one (``m`` units),

    log Z = logsumexp_e [ q.e + sum_i softplus(x_i(e)) ],    x = p + C^T e.

The enumerated units are split into ``m_in`` *inner* units (the first ones) and
``m - m_in`` *outer* units, ``x_i = alpha_i(outer) + beta_i(inner)``. For a fixed outer
state, every analytic unit is put in one of four classes from its range
``[alpha_i + beta_lo_i, alpha_i + beta_hi_i]`` over the ``2**m_in`` inner states:

* high (the whole range ``>= 40``): ``softplus(x) = x + log1p(e^-x)`` and ``e^-x <= e^-40``
  is dropped, so the unit adds ``x_i``, a linear function of the inner bits
  (folded into one subset-sum table per outer state);
* low (the whole range ``<= -40``): ``softplus(x) <= e^-40`` is dropped;
* mid (otherwise, with ``alpha_i + beta_hi_i <= 650``): the unit multiplies a running
  product ``P(inner) *= 1 + A_i * B_i(inner)`` with ``A_i = exp(alpha_i + beta_hi_i)`` per
  outer state and ``B_i = exp(beta_i - beta_hi_i) <= 1`` tabulated once. The product is
  kept below ``2**1000`` by bounding every factor by ``1 + A_i`` and moving the binary
  exponent of ``P`` into an integer counter (exact) before it could overflow; ``P >= 1``
  never underflows. One ``log`` per state at the end.
* wide (a mid unit whose range reaches above 650, only for huge weights): ``x`` per
  inner state, with the same cuts per state and the exact scalar ``softplus`` between.

Accuracy: each dropped term is below ``e^-40 < 4.3e-18``; a mid unit costs a few
roundings of relative size ``2**-53`` (the two tabulated exponentials, ``A * B``,
``1 + A * B`` and the product), so at most about ``6e-16`` absolute per unit and state;
the final ``log`` and the sums add a few roundings relative to the state's log-weight.
Computing ``x`` at all has the same ``2**-53 * |x|`` rounding. In practice the result
matches a ``logaddexp`` reference to about ``1e-15`` relative, as the Gray-code kernel does.

Speed: the inner loop is multiply-add-multiply over contiguous arrays (four analytic
units per pass over ``P``), which LLVM vectorises; there is no ``exp`` or ``log`` per
analytic unit and state.

Determinism: outer states are processed ``group`` at a time (each tabulated row of
``B`` is then loaded once for all of them), groups in parallel, and every outer state
writes its own log-mass, which the caller combines in a fixed order. ``group`` and
``m_in`` depend on the shapes only, so the result is the same bits whatever the
thread count; moving a power of two between ``P`` and its exponent is exact.
"""

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .._launch import call, first_chunk, run_chunked, serial_twin
from .logspace import log_sum_exp, softplus

__all__ = ["bipartite_log_mass", "choose_split"]

# Units whose whole range is beyond +-_CUT are summed as x (high) or dropped (low):
# the neglected term is below e^-40 < 4.3e-18 per unit.
_CUT = 40.0
# A mid unit's largest x; above it, exp(x) would leave too little room under 2**1000.
_X_CAP = 650.0
# Renormalise the running product before its bound would pass 2**_LOG2_LIMIT.
_LOG2_LIMIT = 1000.0
_LN2 = 0.6931471805599453
_INV_LN2 = 1.4426950408889634
# Inner states handled per tile of the product loop (the working set of P stays in L1).
_TILE = 256
_MANTISSA = 0x000FFFFFFFFFFFFF
_EXPONENT = 0x7FF0000000000000
_ONE_BITS = 0x3FF0000000000000


def choose_split(n_enumerated, n_analytic, m_in=None):
    """Inner bits and outer states per group for ``n_enumerated`` units (shapes only).

    At most 10 inner bits, fewer when the table of ``n_analytic * 2**m_in`` float64
    would pass 32 MiB (or ``m_in`` as given); groups of up to 8 outer states (each row of
    the table is then loaded once for 8 of them) while that leaves at least 16 groups to
    share out.
    """
    if m_in is None:
        m_in = min(n_enumerated, 10)
        while m_in > 1 and n_analytic * (1 << m_in) > (1 << 22):
            m_in -= 1
    n_outer = 1 << (n_enumerated - m_in)
    group = 8
    while group > 1 and n_outer // group < 16:
        group //= 2
    return m_in, group


@njit(cache=True, nogil=True)
def _subset_sums(values, base, out):
    """out[t] = base + sum of values[j] over the set bits j of t, for t < 2**len(values)."""
    out[0] = base
    size = 1
    for j in range(values.shape[0]):
        v = values[j]
        for t in range(size):
            out[size + t] = out[t] + v
        size *= 2


@njit(cache=True, nogil=True)
def _inner_tables(coupling, m_in):
    """Per analytic unit: the inner range [beta_lo, beta_hi] and B[i, t] = exp(beta_i(t) - beta_hi_i).

    ``beta_i(t) - beta_hi_i`` is summed from non-positive terms only (no cancellation), so
    ``0 < B <= 1`` up to underflow, which only happens far below the range that matters.
    """
    n_an = coupling.shape[1]
    n_in = 1 << m_in
    beta_lo = np.zeros(n_an)
    beta_hi = np.zeros(n_an)
    table = np.empty((n_an, n_in))
    work = np.empty(n_in)
    for i in range(n_an):
        lo = 0.0
        hi = 0.0
        work[0] = 0.0
        size = 1
        for j in range(m_in):
            c = coupling[j, i]
            on = min(c, 0.0)  # bit j set: c - max(c, 0)
            off = -max(c, 0.0)  # bit j clear: 0 - max(c, 0)
            for t in range(size):
                work[size + t] = work[t] + on
                work[t] += off
            size *= 2
            lo += min(c, 0.0)
            hi += max(c, 0.0)
        beta_lo[i] = lo
        beta_hi[i] = hi
        for t in range(n_in):
            table[i, t] = math.exp(work[t])
    return beta_lo, beta_hi, table


@njit(cache=True, nogil=True)
def _renormalise(product, exponent):
    """Move the binary exponents of product (all >= 1) into exponent: exact."""
    bits = product.view(np.int64)
    rows, cols = bits.shape
    for k in range(rows):
        for t in range(cols):
            word = bits[k, t]
            exponent[k, t] += ((word & _EXPONENT) >> 52) - 1023
            bits[k, t] = (word & _MANTISSA) | _ONE_BITS


class _Problem(NamedTuple):
    """The model and its inner tables (:func:`_inner_tables`), as the kernels read them."""

    coupling: np.ndarray  # float64 (m, n)
    analytic_bias: np.ndarray  # float64 (n,)
    enumerated_bias: np.ndarray  # float64 (m,)
    m_in: int
    beta_lo: np.ndarray  # float64 (n,)
    beta_hi: np.ndarray  # float64 (n,)
    table: np.ndarray  # float64 (n, 2**m_in)


@njit(cache=True, nogil=True)
def _classify(problem, outer, k, scale, bound, log_weight, alpha, slope, xs):
    """Set up outer state ``outer`` (column k of the group).

    Writes to ``log_weight`` (one entry per inner state) everything but the mid units:
    the enumerated biases, the high units (linear in the inner bits) and the wide units;
    puts ``A_i`` of the mid units in ``scale[:, k]`` and raises their ``bound``.
    """
    coupling, analytic_bias, enumerated_bias, m_in, beta_lo, beta_hi, _ = problem
    n_an = coupling.shape[1]
    n_in = log_weight.shape[0]
    for i in range(n_an):
        alpha[i] = analytic_bias[i]
    constant = 0.0
    for r in range(coupling.shape[0] - m_in):
        if (outer >> r) & 1:
            row = m_in + r
            constant += enumerated_bias[row]
            for i in range(n_an):
                alpha[i] += coupling[row, i]
    for j in range(m_in):
        slope[j] = enumerated_bias[j]
    wide = 0
    for i in range(n_an):
        x_lo = alpha[i] + beta_lo[i]
        x_hi = alpha[i] + beta_hi[i]
        if x_lo >= _CUT:  # high: x itself
            constant += alpha[i]
            for j in range(m_in):
                slope[j] += coupling[j, i]
        elif x_hi <= -_CUT:  # low: nothing
            pass
        elif x_hi <= _X_CAP:  # mid: a factor of the product
            scale[i, k] = math.exp(x_hi)
            b = max(x_hi, 0.0) * _INV_LN2 + 1.0  # log2(1 + e^x) <= max(x, 0) / ln 2 + 1
            if b > bound[i]:
                bound[i] = b
        else:
            wide += 1
    _subset_sums(slope, constant, log_weight)
    if wide == 0:
        return
    for i in range(n_an):
        if alpha[i] + beta_lo[i] < _CUT and alpha[i] + beta_hi[i] > _X_CAP:
            _subset_sums(coupling[:m_in, i].copy(), alpha[i], xs)
            for t in range(n_in):  # the same cuts, state by state
                x = xs[t]
                if x >= _CUT:
                    log_weight[t] += x
                elif x > -_CUT:
                    log_weight[t] += softplus(x)


@njit(cache=True, nogil=True)
def _multiply(table, scale, bound, units, start, product, exponent):
    """product[k, t] = prod over ``units`` of (1 + scale[i, k] * table[i, start + t]).

    Starts from 1 and keeps every entry below 2**_LOG2_LIMIT by moving binary exponents
    into ``exponent`` whenever the next factors could pass it.
    """
    group, tile = product.shape
    stop = start + tile
    product[:] = 1.0
    exponent[:] = 0
    running = 0.0  # log2 bound of every entry of product
    n_units = units.shape[0]
    u = 0
    while u < n_units:
        # Four units per pass when their joint bound allows (a quarter of the loads and
        # stores of product), else one.
        if u + 4 <= n_units:
            i1, i2, i3, i4 = units[u], units[u + 1], units[u + 2], units[u + 3]
            joint = bound[i1] + bound[i2] + bound[i3] + bound[i4]
            if joint <= _LOG2_LIMIT - 2.0:
                if running + joint > _LOG2_LIMIT:
                    _renormalise(product, exponent)
                    running = 1.0
                running += joint
                r1 = table[i1, start:stop]
                r2 = table[i2, start:stop]
                r3 = table[i3, start:stop]
                r4 = table[i4, start:stop]
                for k in range(group):
                    s1, s2, s3, s4 = scale[i1, k], scale[i2, k], scale[i3, k], scale[i4, k]
                    block = product[k]
                    for t in range(tile):
                        block[t] *= ((1.0 + s1 * r1[t]) * (1.0 + s2 * r2[t])) * (
                            (1.0 + s3 * r3[t]) * (1.0 + s4 * r4[t])
                        )
                u += 4
                continue
        i = units[u]
        if running + bound[i] > _LOG2_LIMIT:
            _renormalise(product, exponent)
            running = 1.0
        running += bound[i]
        row = table[i, start:stop]
        for k in range(group):
            s1 = scale[i, k]
            if s1 != 0.0:
                block = product[k]
                for t in range(tile):
                    block[t] *= 1.0 + s1 * row[t]
        u += 1


@njit(cache=True, nogil=True, inline="always")
def _group_log_mass(problem, first, group, tile, out):
    """Log-masses of the outer states first .. first + group - 1, written to out[first:].

    Inlined into its one caller (each of the parallel kernel and its serial twin): as a
    separate compiled function, its callees would be optimised again in its own module and
    again in the caller's, which made a first small ``log Z`` compile half as long again.
    """
    n_an = problem.coupling.shape[1]
    m_in = problem.m_in
    n_in = 1 << m_in
    scale = np.zeros((n_an, group))  # A_i per outer state (0: unit not in the product)
    bound = np.zeros(n_an)  # log2 bound of the unit's factor over the group
    log_weight = np.empty((group, n_in))
    alpha = np.empty(n_an)
    slope = np.empty(m_in)
    xs = np.empty(n_in)
    for k in range(group):
        _classify(problem, first + k, k, scale, bound, log_weight[k], alpha, slope, xs)
    n_units = 0
    for i in range(n_an):
        if bound[i] > 0.0:
            n_units += 1
    units = np.empty(n_units, dtype=np.int64)  # the mid units of at least one outer state
    n_units = 0
    for i in range(n_an):
        if bound[i] > 0.0:
            units[n_units] = i
            n_units += 1
    product = np.empty((group, tile))
    exponent = np.empty((group, tile), dtype=np.int64)
    for start in range(0, n_in, tile):
        _multiply(problem.table, scale, bound, units, start, product, exponent)
        for k in range(group):
            for t in range(tile):
                log_weight[k, start + t] += math.log(product[k, t]) + exponent[k, t] * _LN2
    for k in range(group):
        out[first + k] = log_sum_exp(log_weight[k])


@njit(cache=True, nogil=True, parallel=True)
def _some_groups(problem, group, tile, first_group, n_groups, out):
    """Log-masses of the groups ``first_group .. first_group + n_groups - 1``, written to ``out``."""
    for g in prange(n_groups):
        _group_log_mass(problem, (first_group + g) * group, group, tile, out)


# For small problems, and for forked children that cannot start threads: waking the thread
# pool of a parallel kernel costs up to milliseconds, thousands of times a tiny model's work.
_some_groups_serial = serial_twin(_some_groups)


def bipartite_log_mass(coupling, analytic_bias, enumerated_bias, *, m_in=None, group=None, tile=_TILE, parallel=True):
    """Log-mass of each outer state: ``logsumexp`` of the result is ``log Z``.

    Parameters
    ----------
    coupling : float64 array, shape (m, n), C-contiguous
        Row j couples enumerated unit j to the analytic units.
    analytic_bias : float64 array, shape (n,)
    enumerated_bias : float64 array, shape (m,)
    m_in, group : int, optional
        Inner bits (``0 <= m_in <= m``) and outer states per group (a power of two);
        defaults from :func:`choose_split`, which depends on the shapes (and ``m_in``) only.
    tile : int, power of two
        Inner states per pass of the product loop.
    parallel : bool, default True
        Share the groups between Numba's threads; False runs them on the calling thread
        (for small problems, where waking the thread pool costs more than the work).

    The result does not depend on the thread count, nor on ``parallel``. ``group`` and ``tile`` change at
    most the order of a few roundings.

    Returns
    -------
    log_mass : float64 array, shape (2**(m - m_in),)
        Entry ``r`` is the log of the sum over the states whose outer units
        ``m_in + k`` are on exactly for the set bits ``k`` of ``r``.
    """
    m, n = coupling.shape
    if m_in is not None and not 0 <= m_in <= m:
        raise ValueError(f"m_in must be in [0, {m}], got {m_in}")
    m_in, default_group = choose_split(m, n, m_in)
    group = default_group if group is None else group
    group = min(group, 1 << (m - m_in))
    tile = min(tile, 1 << m_in)
    if group < 1 or group & (group - 1) or tile < 1 or tile & (tile - 1):
        raise ValueError(f"group and tile must be powers of two, got {group} and {tile}")
    problem = _Problem(coupling, analytic_bias, enumerated_bias, m_in, *_inner_tables(coupling, m_in))
    out = np.empty(1 << (m - m_in))
    kernel = _some_groups if parallel else _some_groups_serial
    # Groups in time-bounded kernel calls (Ctrl-C between them); every outer state writes its
    # own entry, so the split changes no bit.
    run_chunked(
        out.shape[0] // group,
        lambda start, stop: call(kernel, problem, group, tile, start, stop - start, out, serial=_some_groups_serial),
        first=first_chunk(group * (1 << m_in) * n),
    )
    return out
