"""Temperature schedules shared by annealing, tempering and annealed importance sampling.

A schedule is a 1-D float64 array of temperatures, one per sweep (annealing) or
per replica (tempering). ``0`` is allowed where a sampler supports the
zero-temperature limit (deterministic asynchronous Hopfield updates).
"""

from __future__ import annotations

import numpy as np

from ._validation import check_finite_array, check_int
from .exceptions import ValidationError

__all__ = ["linear", "geometric", "exponential", "inverse_linear", "as_temperatures"]


def _check_endpoint(value, name: str, *, allow_zero: bool = False) -> float:
    value = float(check_finite_array(value, name, ndim=0))
    if value < 0 or (value == 0 and not allow_zero):
        raise ValidationError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return value


def linear(t_start, t_end, n) -> np.ndarray:
    """``n`` temperatures evenly spaced from ``t_start`` to ``t_end`` (both included); ``t_end`` may be 0.

    Returns
    -------
    ndarray, shape (n,)
    """
    n = check_int(n, "n", minimum=1)
    t_start = _check_endpoint(t_start, "t_start", allow_zero=True)
    t_end = _check_endpoint(t_end, "t_end", allow_zero=True)
    return np.linspace(t_start, t_end, n) if n > 1 else np.array([t_end])


def geometric(t_start, t_end, n) -> np.ndarray:
    """``n`` temperatures with a constant ratio from ``t_start`` to ``t_end`` (both > 0).

    The usual choice for parallel tempering ladders and annealing.

    Returns
    -------
    ndarray, shape (n,)
    """
    n = check_int(n, "n", minimum=1)
    t_start = _check_endpoint(t_start, "t_start")
    t_end = _check_endpoint(t_end, "t_end")
    return np.geomspace(t_start, t_end, n) if n > 1 else np.array([t_end])


def exponential(t_start, decay, n) -> np.ndarray:
    """``T_k = t_start * decay**k`` for k = 0..n-1 (Kirkpatrick's exponential cooling).

    Parameters
    ----------
    decay : float, 0 < decay <= 1

    Returns
    -------
    ndarray, shape (n,)
    """
    n = check_int(n, "n", minimum=1)
    t_start = _check_endpoint(t_start, "t_start")
    decay = float(check_finite_array(decay, "decay", ndim=0))
    if not 0 < decay <= 1:
        raise ValidationError(f"decay must be in (0, 1], got {decay!r}")
    return t_start * decay ** np.arange(n, dtype=np.float64)


def inverse_linear(t_start, t_end, n) -> np.ndarray:
    """Temperatures whose inverses ``beta = 1/T`` are evenly spaced (linear in beta, as neal uses).

    Returns
    -------
    ndarray, shape (n,)
    """
    n = check_int(n, "n", minimum=1)
    t_start = _check_endpoint(t_start, "t_start")
    t_end = _check_endpoint(t_end, "t_end")
    return 1.0 / (np.linspace(1.0 / t_start, 1.0 / t_end, n) if n > 1 else np.array([1.0 / t_end]))


def as_temperatures(schedule, name: str = "schedule", *, allow_zero: bool = True) -> np.ndarray:
    """Validate any array of temperatures (>= 0, or > 0 without ``allow_zero``) as a schedule.

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    temperatures = check_finite_array(schedule, name, ndim=1)
    if temperatures.size == 0:
        raise ValidationError(f"{name} must hold at least one temperature, got an empty array")
    bad = temperatures < 0 if allow_zero else temperatures <= 0
    if np.any(bad):
        index = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"{name} temperatures must be {'>= 0' if allow_zero else '> 0'}, got {temperatures[index]!r} at index {index}"
        )
    return temperatures
