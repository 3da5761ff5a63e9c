"""Temperature schedules shared by annealing, tempering and annealed importance sampling.

A schedule is a 1-D float64 array of temperatures, one per sweep (annealing) or
per replica (tempering). ``0`` is allowed where a sampler supports the
zero-temperature limit (deterministic asynchronous Hopfield updates).
"""

from __future__ import annotations

import numpy as np

from ._validation import check_bool, check_finite_array, check_int, describe
from .exceptions import ModelSizeError, ParameterTypeError, ValidationError

__all__ = ["linear", "geometric", "exponential", "inverse_linear", "as_temperatures", "ais_betas", "MAX_LENGTH"]

#: longest schedule built here (one float64 per step: 0.8 GB); longer ones are refused
#: with a ModelSizeError instead of a MemoryError
MAX_LENGTH = 10**8


def check_length(n, name: str) -> int:
    """``n`` as an int in ``[1, MAX_LENGTH]``: the length of a schedule to be built."""
    n = check_int(n, name, minimum=1)
    if n > MAX_LENGTH:
        raise ModelSizeError(
            f"{name} must be at most {MAX_LENGTH:,} (a schedule holds one float64 per step: "
            f"{n * 8 / 1e9:.3g} GB), got {n}"
        )
    return n


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
    n = check_length(n, "n")
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
    n = check_length(n, "n")
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
    n = check_length(n, "n")
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
    n = check_length(n, "n")
    t_start = _check_endpoint(t_start, "t_start")
    t_end = _check_endpoint(t_end, "t_end")
    for name, value in (("t_start", t_start), ("t_end", t_end)):
        with np.errstate(over="ignore"):
            beta = np.float64(1.0) / value
        if not np.isfinite(beta):  # a subnormal temperature: its beta is inf, and the betas between NaN
            raise ValidationError(f"{name} is too small: 1 / {name} overflows float64, got {name}={value!r}")
    return 1.0 / (np.linspace(1.0 / t_start, 1.0 / t_end, n) if n > 1 else np.array([1.0 / t_end]))


def as_temperatures(schedule, name: str = "schedule", *, allow_zero: bool = True) -> np.ndarray:
    """Validate any array of temperatures (>= 0, or > 0 without ``allow_zero``) as a schedule.

    Parameters
    ----------
    schedule : array_like of float, shape (n,)
        The temperatures, ``n >= 1``.
    name : str, default "schedule"
        The parameter's name in error messages.
    allow_zero : bool, default True
        Accept temperatures equal to 0 (the zero-temperature limit).

    Returns
    -------
    ndarray of float64, shape (n,)
    """
    if not isinstance(name, str):
        raise ParameterTypeError(f"name must be a string (the parameter's name), got {describe(name)}")
    allow_zero = check_bool(allow_zero, "allow_zero")
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


def ais_betas(n_steps=None) -> np.ndarray:
    """Interpolation parameters ``0 = beta_0 < beta_1 < ... < beta_K = 1`` for annealed importance sampling.

    ``beta`` moves the AIS intermediate distributions from the base model (``beta = 0``)
    to the target (``beta = 1``); for the hidden layer of an RBM it acts as an inverse
    temperature (see :mod:`pgm_energy.ais`).

    Parameters
    ----------
    n_steps : int >= 1, optional
        ``K``, the number of intermediate distributions after the base (importance-weight
        factors per run). ``None`` gives the schedule of Salakhutdinov & Murray (2008):
        steps of 1e-3 from 0 to 0.5, 1e-4 from 0.5 to 0.9 and 1e-5 from 0.9 to 1,
        ``K = 500 + 4000 + 10000 = 14500``. An int gives ``K`` equal steps, ``beta_k = k / K``.

    Returns
    -------
    ndarray of float64, shape (K + 1,)
        Starts at exactly 0 and ends at exactly 1.

    Examples
    --------
    >>> from pgm_energy.schedules import ais_betas
    >>> ais_betas().shape
    (14501,)
    >>> ais_betas(4).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if n_steps is None:
        # linspace on each segment (not arange): the segment ends 0.5, 0.9, 1 are hit exactly.
        return np.concatenate([
            np.linspace(0.0, 0.5, 501),
            np.linspace(0.5, 0.9, 4001)[1:],
            np.linspace(0.9, 1.0, 10001)[1:],
        ])
    n_steps = check_length(n_steps, "n_steps")
    return np.linspace(0.0, 1.0, n_steps + 1)
