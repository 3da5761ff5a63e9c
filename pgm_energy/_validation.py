"""Checks at the public boundary.

Every function here either returns a clean NumPy array (or Python scalar) or
raises an exception from :mod:`pgm_energy.exceptions` that names the parameter
and echoes the offending value.  Kernels downstream trust their inputs.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from .exceptions import EvidenceError, ModelSizeError, ParameterTypeError, StateError, ValidationError

__all__ = [
    "MAX_QUERY_VARIABLES",
    "check_query_variables",
    "describe",
    "check_positive_temperature",
    "check_finite_array",
    "check_vector",
    "check_names",
    "check_states",
    "check_evidence",
    "check_rng",
    "check_int",
]


def describe(value, limit: int = 80) -> str:
    """Short printable form of a value for error messages."""
    if isinstance(value, np.ndarray):
        text = f"array(shape={value.shape}, dtype={value.dtype})"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_positive_temperature(temperature, name: str = "temperature") -> float:
    """Return ``temperature`` as a float; it must be a finite real number > 0."""
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise ParameterTypeError(f"{name} must be a real number > 0, got {describe(temperature)}")
    value = float(temperature)
    if not np.isfinite(value) or value <= 0.0:
        raise ValidationError(f"{name} must be finite and > 0, got {temperature!r}")
    return value


def check_int(value, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as an int (bools rejected), optionally bounded below."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ParameterTypeError(f"{name} must be an integer, got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValidationError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_finite_array(values, name: str, *, ndim: int | None = None) -> np.ndarray:
    """Return a float64 copy of ``values``; reject non-numeric, NaN and inf entries."""
    try:
        array = np.array(values, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as error:
        raise ValidationError(
            f"{name} must be an array of real numbers, got {describe(values)}"
        ) from error
    if np.iscomplexobj(np.asarray(values)):
        raise ValidationError(f"{name} must be real, got complex values")
    if ndim is not None and array.ndim != ndim:
        raise ValidationError(
            f"{name} must be {ndim}-dimensional, got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        raise ValidationError(
            f"{name} must be finite, got {array[tuple(bad)]!r} at index {tuple(int(i) for i in bad)}"
        )
    return array


def check_vector(values, name: str, length: int) -> np.ndarray:
    """Return a finite float64 vector of the given length."""
    array = check_finite_array(values, name, ndim=1)
    if array.shape[0] != length:
        raise ValidationError(f"{name} must have length {length}, got shape {array.shape}")
    return array


def check_names(names, count: int, name: str = "names") -> tuple[str, ...]:
    """Return ``names`` as a tuple of ``count`` unique non-empty strings."""
    if isinstance(names, (str, bytes)) or not isinstance(names, (Sequence, np.ndarray)):
        raise ParameterTypeError(f"{name} must be a sequence of strings, got {describe(names)}")
    names = tuple(names)
    if len(names) != count:
        raise ValidationError(f"{name} must have {count} entries, got {len(names)}")
    for item in names:
        if not isinstance(item, str) or not item:
            raise ValidationError(f"{name} must be non-empty strings, got {item!r}")
        if "\x00" in item:
            # NUL cannot survive NumPy's fixed-width strings (model files) or most file formats.
            raise ValidationError(f"{name} must not contain the NUL character, got {item!r}")
    names = tuple(str(item) for item in names)  # np.str_ -> str
    if len(set(names)) != len(names):
        seen, duplicates = set(), []
        for item in names:
            if item in seen:
                duplicates.append(item)
            seen.add(item)
        raise ValidationError(f"{name} must be unique, got duplicates {duplicates[:5]!r}")
    return names


def check_states(states, n_units: int, name: str = "states") -> tuple[np.ndarray, bool]:
    """Validate binary unit states.

    Parameters
    ----------
    states : array_like, shape (n_units,) or (n_states, n_units)
        Values exactly 0 or 1 (bool, integer or float dtype).
    n_units : int
        Required length of the last axis.

    Returns
    -------
    batch : ndarray of float64, shape (n_states, n_units)
    single : bool
        True when a single state (1-D input) was given.
    """
    try:
        array = np.asarray(states)
    except (TypeError, ValueError) as error:
        raise StateError(f"{name} must be an array of 0/1 values, got {describe(states)}") from error
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_
    ) or np.iscomplexobj(array):
        raise StateError(f"{name} must be an array of 0/1 values, got dtype {array.dtype}")
    if array.ndim not in (1, 2) or array.shape[-1] != n_units:
        raise StateError(
            f"{name} must have shape ({n_units},) or (n_states, {n_units}), got {array.shape}"
        )
    binary = (array == 0) | (array == 1)
    if not np.all(binary):
        bad = tuple(int(i) for i in np.argwhere(~binary)[0])
        raise StateError(
            f"{name} must contain only 0 and 1, got {array[bad]!r} at index {bad}"
        )
    single = array.ndim == 1
    return np.atleast_2d(array).astype(np.float64), single


def check_evidence(evidence, names: Sequence[str], name: str = "evidence") -> dict[int, int]:
    """Validate evidence (variable name -> 0/1) and return unit index -> value."""
    if evidence is None:
        return {}
    if not isinstance(evidence, Mapping):
        raise ParameterTypeError(f"{name} must be a dict of variable name -> 0/1, got {describe(evidence)}")
    index = {unit: i for i, unit in enumerate(names)}
    clean: dict[int, int] = {}
    for variable, value in evidence.items():
        if variable not in index:
            raise EvidenceError(
                f"{name} names {variable!r}, which is not a variable of the model"
            )
        if not isinstance(value, (numbers.Real, np.bool_)) or value not in (0, 1):
            raise EvidenceError(f"{name}[{variable!r}] must be 0 or 1, got {value!r}")
        clean[index[variable]] = int(value)
    return clean


def check_rng(rng) -> np.random.Generator:
    """Turn ``rng`` (None, an int seed or a Generator) into a Generator (SPEC 7)."""
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        if rng is not None and rng < 0:
            raise ValidationError(f"rng must be None, a non-negative int or a Generator, got {rng!r}")
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise ParameterTypeError(f"rng must be None, an int or a numpy.random.Generator, got {describe(rng)}")


#: largest joint query table (2**20 entries) any exact or sampled query builds
MAX_QUERY_VARIABLES = 20


def check_query_variables(
    variables, names: Sequence[str], clamped: Mapping[int, int], *, joint: bool = True, allow_empty: bool = False
) -> list[str]:
    """Check the variables of a query: a non-empty list of distinct names of the model, none observed.

    Parameters
    ----------
    variables : iterable of str
        The queried names.
    names : sequence of str
        The model's unit names, in order.
    clamped : mapping of int to int
        Observed units (index -> value), as returned by :func:`check_evidence`.
    joint : bool, default True
        A joint table over more than :data:`MAX_QUERY_VARIABLES` variables is refused
        (``ModelSizeError``); marginals (``joint=False``) are not limited.
    allow_empty : bool, default False
        Accept an empty list (a MAP query over every unobserved unit).

    Returns
    -------
    list of str
    """
    if isinstance(variables, (str, bytes)):
        raise ParameterTypeError(f"variables must be a list of variable names, got the string {variables!r}")
    try:
        variables = list(variables)
    except TypeError:
        raise ParameterTypeError(f"variables must be a list of variable names, got {describe(variables)}") from None
    if not variables and not allow_empty:
        raise ValidationError("variables must name at least one variable, got []")
    if len(set(variables)) != len(variables):
        raise ValidationError(f"variables must not repeat a name, got {variables!r}")
    index = {name: i for i, name in enumerate(names)}
    for variable in variables:
        if not isinstance(variable, str) or variable not in index:
            raise EvidenceError(f"variables names {variable!r}, which is not a variable of the model")
        if index[variable] in clamped:
            raise EvidenceError(f"variable {variable!r} is both queried and given as evidence")
    if joint and len(variables) > MAX_QUERY_VARIABLES:
        raise ModelSizeError(
            f"a joint query over {len(variables)} variables builds a table of 2**{len(variables)} "
            f"entries; at most {MAX_QUERY_VARIABLES} variables are allowed (use joint=False for marginals)"
        )
    return variables
