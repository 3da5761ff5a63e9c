"""A clamped exponential for acceptance tests, cheaper than a libm ``exp`` call.

Without a vectorised ``exp`` (SVML) in Numba, the libm call would dominate a
single-site update. :func:`exp_clamped` evaluates ``exp(x)`` for ``x`` clamped to
``[-40, 40]`` by table reduction (``exp(x) = 2**m * 2**(j/256) * exp(r)``,
``|r| <= ln2/512``) and a degree-4 Taylor polynomial (truncation error < 4e-17): at most 2 ulp from
``math.exp`` (checked in tests/kernels/test_expo.py).

Why clamping is exact for the acceptance tests of :mod:`.gibbs`: uniforms are
multiples of ``2**-53`` in ``[0, 1)``. Heat bath tests ``u (1 + e) < 1``: for
``x <= -40``, ``1 + e`` rounds to 1 (true for every ``u``, as with the exact
``e``); for ``x >= 40`` only ``u = 0`` passes, as with the exact ``e``.
Metropolis tests ``u < e``: for ``x >= 40`` always true, for ``x <= -40`` only
``u = 0`` passes, again as with the exact ``e``.
"""

import math
from fractions import Fraction

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import types
from numba.extending import intrinsic

__all__ = ["exp_clamped", "log_approx", "EXP_LIMIT", "LOG_ERROR"]

EXP_LIMIT = 40.0
_STEPS = 256  # table entries per octave (2 KiB)
_FRACTIONS = 2.0 ** (np.arange(_STEPS) / _STEPS)  # 2**(j/256)
_POWERS = 2.0 ** np.arange(-64, 65, dtype=np.float64)  # 2**m, m in [-64, 64]
_INV_STEP = _STEPS / math.log(2.0)
# ln2/256 split as hi + lo, hi with a short mantissa so that k * hi is exact for |k| < 2**15
_LN2 = Fraction("0.69314718055994530941723212145817656807550013436")
_STEP_HI = float(np.float32(math.log(2.0) / _STEPS))
_STEP_LO = float(_LN2 / _STEPS - Fraction(_STEP_HI))
_OFFSET = 1 << 15  # makes x / step + 1/2 positive so int() truncation is floor()


@njit(cache=True, nogil=True, inline="always")
def exp_clamped(x):
    """``exp(min(max(x, -40), 40))`` to within 2 ulp (float64)."""
    if x > EXP_LIMIT:
        x = EXP_LIMIT
    elif x < -EXP_LIMIT:
        x = -EXP_LIMIT
    k = np.int64(x * _INV_STEP + (_OFFSET + 0.5)) - _OFFSET  # round(x / step)
    kf = np.float64(k)
    r = (x - kf * _STEP_HI) - kf * _STEP_LO
    j = k & (_STEPS - 1)
    m = (k - j) >> 8
    r2 = r * r
    p = (1.0 + r) + r2 * ((0.5 + r * (1.0 / 6.0)) + r2 * (1.0 / 24.0))
    return _POWERS[m + 64] * _FRACTIONS[j] * p


# ---------------------------------------------------------------------------- logarithm (approximate)
@intrinsic
def _float_bits(typingctx, x):
    """The IEEE-754 bits of a float64 as an int64 (a bit cast)."""
    if not (isinstance(x, types.Float) and x.bitwidth == 64):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _bits_float(typingctx, x):
    """The float64 with the IEEE-754 bits of an int64 (a bit cast)."""
    if not (isinstance(x, types.Integer) and x.bitwidth == 64):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(x), codegen


_LOG_BITS = 7
_LOG_CENTRES = 1.0 + (np.arange(1 << _LOG_BITS) + 0.5) / (1 << _LOG_BITS)  # mantissa cells [1, 2)
_LOG_INVERSES = 1.0 / _LOG_CENTRES
_LOG_VALUES = np.log(_LOG_CENTRES)
_LN2_F = math.log(2.0)
_MANTISSA = np.int64((1 << 52) - 1)
_ONE_BITS = np.int64(1023 << 52)
#: bound on ``|log_approx(x) - log(x)|`` for normal ``x`` in ``(0, 2**60)`` (checked in the tests)
LOG_ERROR = 1e-11


@njit(cache=True, nogil=True, inline="always")
def log_approx(x):
    """``log(x)`` for a normal positive float64 ``x`` below ``2**60``, to within :data:`LOG_ERROR` (absolute).

    ``x = 2**e m`` with ``m`` in ``[1, 2)``; ``log m = log c_j + log1p(m / c_j - 1)`` with
    ``c_j`` the centre of one of 128 cells, ``|m / c_j - 1| < 1/256``, and a degree-4 series.
    Meant for acceptance tests that fall back to an exact comparison near the boundary.
    """
    bits = _float_bits(x)
    e = (bits >> 52) - 1023
    j = (bits >> (52 - _LOG_BITS)) & ((1 << _LOG_BITS) - 1)
    m = _bits_float((bits & _MANTISSA) | _ONE_BITS)
    r = m * _LOG_INVERSES[j] - 1.0
    r2 = r * r
    series = (r - 0.5 * r2) + r2 * r * ((1.0 / 3.0) - 0.25 * r)
    return np.float64(e) * _LN2_F + _LOG_VALUES[j] + series
