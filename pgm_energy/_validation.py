"""Checks at the public boundary.

Every function here either returns a clean NumPy array (or Python scalar) or
raises an exception from :mod:`pgm_energy.exceptions` that names the parameter
and echoes the offending value.  Kernels downstream trust their inputs.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

from ._math import is_sparse
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
    "check_binary",
    "check_categorical_states",
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


def check_positive_temperature(temperature, name: str = "temperature", *, energy_scale: float | None = None) -> float:
    """Return ``temperature`` as a float; it must be a finite real number > 0.

    With ``energy_scale`` (a bound on the model's ``|energy|``, e.g. the sum of the absolute
    values of its parameters), the temperature must also keep ``energy_scale / temperature``
    within :data:`MAX_ENERGY_SCALE`: computations at T = 1 divide every parameter by it, and
    a tiny temperature (say 1e-310) would make them overflow to inf and the results NaN.
    """
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise ParameterTypeError(f"{name} must be a real number > 0, got {describe(temperature)}")
    value = float(temperature)
    if not np.isfinite(value) or value <= 0.0:
        raise ValidationError(f"{name} must be finite and > 0, got {temperature!r}")
    if energy_scale is not None:
        with np.errstate(over="ignore"):
            scaled = float(energy_scale) / value
        if not scaled <= MAX_ENERGY_SCALE:
            raise ValidationError(
                f"{name} is too small for the model: {name}={temperature!r} with parameters whose absolute "
                f"values sum to {float(energy_scale):.3g} gives energies of up to {scaled:.3g} in units of the "
                f"temperature, beyond {MAX_ENERGY_SCALE:.0e} (float64 would overflow to inf and NaN); use a "
                "larger temperature"
            )
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
    """Return a float64 copy of ``values``; reject non-numeric, complex, NaN and inf entries.

    The dtype is looked at before converting: NumPy would drop an imaginary part (with only a
    ``ComplexWarning``) and parse text such as ``"1.5"``, and neither is a real number given.
    """
    try:
        raw = np.asarray(values)
        if raw.dtype.kind == "c":
            raise ValidationError(f"{name} must be real, got complex values (dtype {raw.dtype})")
        if raw.dtype.kind not in "biufO":
            raise ValidationError(f"{name} must be an array of real numbers, got dtype {raw.dtype}: {describe(values)}")
        array = np.array(raw, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as error:
        if isinstance(error, ValidationError):
            raise
        raise ValidationError(
            f"{name} must be an array of real numbers, got {describe(values)}"
        ) from error
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
    if (
        isinstance(names, (str, bytes))
        or not isinstance(names, (Sequence, np.ndarray))
        or (isinstance(names, np.ndarray) and names.ndim != 1)  # 0-d arrays cannot be iterated
    ):
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
    array = check_binary(states, n_units, name)
    return np.atleast_2d(array).astype(np.float64), array.ndim == 1


def check_binary(states, n_units: int, name: str = "states") -> np.ndarray:
    """The checks of :func:`check_states` without its float64 copy: ``states`` as an array, dtype kept.

    Returns
    -------
    ndarray, shape (n_units,) or (n_states, n_units)
        ``np.asarray(states)``: numeric or bool, every value 0 or 1.
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
    return array


def check_categorical_states(states, cardinalities: np.ndarray, name: str = "states") -> tuple[np.ndarray, bool]:
    """Validate states of categorical variables: variable ``i`` takes the integers ``0 .. k_i - 1``.

    Parameters
    ----------
    states : array_like, shape (n_variables,) or (n_states, n_variables)
        Integers (any integer dtype, or floats holding whole numbers, as pandas hands them over);
        booleans are refused.
    cardinalities : int64 ndarray, shape (n_variables,)

    Returns
    -------
    batch : int64 ndarray, shape (n_states, n_variables)
    single : bool
        True when a single state (1-D input) was given.
    """
    n_variables = cardinalities.shape[0]
    try:
        array = np.asarray(states)
    except (TypeError, ValueError) as error:
        raise StateError(f"{name} must be an array of state indices, got {describe(states)}") from error
    if array.dtype.kind not in "iuf":
        raise StateError(f"{name} must be an array of integer state indices, got dtype {array.dtype}")
    if array.ndim not in (1, 2) or array.shape[-1] != n_variables:
        raise StateError(f"{name} must have shape ({n_variables},) or (n_states, {n_variables}), got {array.shape}")
    if array.dtype.kind == "f":
        whole = np.isfinite(array) & (array == np.round(array)) if array.size else np.ones(array.shape, dtype=bool)
        if not np.all(whole):
            bad = tuple(int(i) for i in np.argwhere(~whole)[0])
            raise StateError(f"{name} must hold whole numbers (state indices), got {array[bad]!r} at index {bad}")
    batch = np.atleast_2d(array)
    inside = (batch >= 0) & (batch < cardinalities)
    if not np.all(inside):
        row, column = (int(i) for i in np.argwhere(~inside)[0])
        raise StateError(
            f"{name}[{row}, {column}] = {batch[row, column]!r} is not a state of variable {column}, "
            f"which has {int(cardinalities[column])} states (0 to {int(cardinalities[column]) - 1})"
        )
    return batch.astype(np.int64), array.ndim == 1


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
    if is_sparse(variables):
        # iterating a (possibly malformed) sparse matrix runs scipy on unchecked indices
        raise ParameterTypeError(f"variables must be a list of variable names, got {describe(variables)}")
    try:
        variables = list(variables)
    except TypeError:
        raise ParameterTypeError(f"variables must be a list of variable names, got {describe(variables)}") from None
    if not variables and not allow_empty:
        raise ValidationError("variables must name at least one variable, got []")
    for variable in variables:
        if not isinstance(variable, str):  # before hashing: arrays and other unhashables would raise TypeError
            raise EvidenceError(f"variables names {describe(variable)}, which is not a variable of the model")
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


# --------------------------------------------------------------------------- sparse matrices
def _sparse_shape(matrix, name: str) -> tuple[int, int]:
    shape = getattr(matrix, "shape", None)
    if (
        not isinstance(shape, tuple)
        or len(shape) != 2
        or not all(isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 0 for n in shape)
    ):
        raise ValidationError(f"{name} must be a 2-dimensional sparse matrix, got shape {shape!r}")
    return int(shape[0]), int(shape[1])


def _sparse_index_vector(values, length: int | None, bound: int, part: str, name: str) -> np.ndarray:
    """``values`` as an int64 vector of entries in ``[0, bound)`` (checked before any cast)."""
    array = np.asarray(values)
    if array.ndim != 1 or array.dtype.kind not in "iu":
        raise ValidationError(
            f"{name} is a malformed sparse matrix: its {part} must be a 1-dimensional integer array, "
            f"got {describe(array)}"
        )
    if length is not None and array.shape[0] != length:
        raise ValidationError(
            f"{name} is a malformed sparse matrix: its {part} has {array.shape[0]} entries, expected {length}"
        )
    if array.size and (array.min() < 0 or array.max() >= bound):
        bad = int(np.flatnonzero((array < 0) | (array >= bound))[0])
        raise ValidationError(
            f"{name} is a malformed sparse matrix: its {part}[{bad}] = {array[bad]!r} is outside [0, {bound})"
        )
    return array.astype(np.int64, copy=False)


def _compressed_triplets(data, indices, indptr, n_major: int, n_minor: int, name: str):
    """Major and minor indices of a CSR/CSC/BSR layout, every invariant checked with NumPy."""
    pointer = np.asarray(indptr)
    if pointer.ndim != 1 or pointer.dtype.kind not in "iu" or pointer.shape[0] != n_major + 1:
        raise ValidationError(
            f"{name} is a malformed sparse matrix: its indptr must be an integer vector of length "
            f"{n_major + 1}, got {describe(pointer)}"
        )
    n_stored = len(data)
    if pointer[0] != 0 or pointer[-1] != n_stored:
        raise ValidationError(
            f"{name} is a malformed sparse matrix: its indptr must start at 0 and end at the number of "
            f"stored entries {n_stored}, got {pointer[0]!r} ... {pointer[-1]!r}"
        )
    steps = np.diff(pointer.astype(np.int64))
    if np.any(steps < 0):
        bad = int(np.flatnonzero(steps < 0)[0])
        raise ValidationError(
            f"{name} is a malformed sparse matrix: its indptr must not decrease, got indptr[{bad}] = "
            f"{pointer[bad]!r} > indptr[{bad + 1}] = {pointer[bad + 1]!r}"
        )
    minor = _sparse_index_vector(indices, n_stored, n_minor, "indices", name)
    major = np.repeat(np.arange(n_major, dtype=np.int64), steps)
    return major, minor


def check_sparse_matrix(matrix, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """Take a scipy.sparse matrix or array of any format apart, checking it with NumPy only.

    scipy's compiled routines (``sum_duplicates``, ``diagonal``, conversions, arithmetic)
    trust the index arrays: an index out of range or a decreasing ``indptr`` makes them
    read and write out of bounds (a crash, or a corrupted heap). Nothing of scipy runs here;
    the triplets returned are safe to hand to ``scipy.sparse.coo_array``.

    Parameters
    ----------
    matrix : scipy.sparse matrix or array (csr, csc, coo, bsr, dia, lil, dok)
    name : str
        The parameter's name, for error messages.

    Returns
    -------
    rows, cols : ndarray of int64, shape (n_stored,)
        Within the shape; duplicates are possible (they add up, as in scipy).
    values : ndarray of float64, shape (n_stored,)
        Finite.
    shape : tuple of int

    Raises
    ------
    ValidationError
        A malformed layout (index arrays of the wrong dtype, length, order or range),
        complex, non-numeric or non-finite values, or a shape that is not 2-D.
    ParameterTypeError
        An unknown sparse format.
    """
    n_rows, n_cols = _sparse_shape(matrix, name)
    layout = getattr(matrix, "format", None)
    data = np.asarray(getattr(matrix, "data", None)) if layout != "dok" else None
    if layout in ("csr", "csc"):
        n_major, n_minor = (n_rows, n_cols) if layout == "csr" else (n_cols, n_rows)
        if data.ndim != 1:
            raise ValidationError(f"{name} is a malformed sparse matrix: its data must be 1-dimensional, got {describe(data)}")
        major, minor = _compressed_triplets(data, matrix.indices, matrix.indptr, n_major, n_minor, name)
        rows, cols = (major, minor) if layout == "csr" else (minor, major)
        values = data
    elif layout == "bsr":
        if data.ndim != 3 or data.shape[1] == 0 or data.shape[2] == 0 or n_rows % data.shape[1] or n_cols % data.shape[2]:
            raise ValidationError(
                f"{name} is a malformed sparse matrix: its blocks {describe(data)} do not tile the shape {(n_rows, n_cols)}"
            )
        height, width = data.shape[1], data.shape[2]
        block_rows, block_cols = _compressed_triplets(data, matrix.indices, matrix.indptr, n_rows // height, n_cols // width, name)
        rows = (block_rows[:, None, None] * height + np.arange(height)[None, :, None]) + np.zeros(width, np.int64)
        cols = (block_cols[:, None, None] * width + np.arange(width)[None, None, :]) + np.zeros((height, 1), np.int64)
        rows, cols, values = rows.ravel(), cols.ravel(), data.ravel()
    elif layout == "coo":
        coords = getattr(matrix, "coords", None)
        if not isinstance(coords, tuple) or len(coords) != 2:
            raise ValidationError(f"{name} is a malformed sparse matrix: it needs 2 coordinate arrays, got {describe(coords)}")
        if data.ndim != 1:
            raise ValidationError(f"{name} is a malformed sparse matrix: its data must be 1-dimensional, got {describe(data)}")
        rows = _sparse_index_vector(coords[0], data.shape[0], n_rows, "row indices", name)
        cols = _sparse_index_vector(coords[1], data.shape[0], n_cols, "column indices", name)
        values = data
    elif layout == "dia":
        offsets = np.asarray(getattr(matrix, "offsets", None))
        if data.ndim != 2 or offsets.ndim != 1 or offsets.dtype.kind not in "iu" or offsets.shape[0] != data.shape[0]:
            raise ValidationError(
                f"{name} is a malformed sparse matrix: diagonal data {describe(data)} and offsets "
                f"{describe(offsets)} do not match"
            )
        # data[k, j] is entry (j - offsets[k], j); diagonals wholly outside the matrix hold nothing
        inside = (offsets > -n_rows) & (offsets < n_cols)
        width = min(data.shape[1], n_cols)
        columns = np.arange(width, dtype=np.int64)
        kept = offsets[inside].astype(np.int64)
        row_grid = columns[None, :] - kept[:, None]
        mask = (row_grid >= 0) & (row_grid < n_rows)
        rows = row_grid[mask]
        cols = np.broadcast_to(columns, row_grid.shape)[mask]
        values = data[inside][:, :width][mask]
    elif layout == "lil":
        row_lists = np.asarray(getattr(matrix, "rows", None), dtype=object)
        if row_lists.shape != (n_rows,) or data.shape != (n_rows,):
            raise ValidationError(f"{name} is a malformed sparse matrix: it needs {n_rows} row lists, got {describe(row_lists)}")
        rows_parts, cols_parts, value_parts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
        for i in range(n_rows):
            row_values = np.asarray(data[i])
            columns = np.asarray(row_lists[i])
            if columns.size == 0 and columns.dtype.kind == "f":
                columns = columns.astype(np.int64)  # an empty list
            if row_values.ndim != 1:
                raise ValidationError(f"{name} is a malformed sparse matrix: its data[{i}] must be a list, got {describe(row_values)}")
            cols_parts.append(_sparse_index_vector(columns, row_values.shape[0], n_cols, f"rows[{i}]", name))
            rows_parts.append(np.full(columns.shape[0], i, dtype=np.int64))
            value_parts.append(row_values)
        rows, cols, values = np.concatenate(rows_parts), np.concatenate(cols_parts), np.concatenate(value_parts)
    elif layout == "dok":
        # scipy >= 1.13 keeps the entries in ``_dict``; older versions in the dict itself
        storage = getattr(matrix, "_dict", None)
        items = list(storage.items()) if isinstance(storage, dict) else list(dict.items(matrix))
        keys = [key for key, _ in items]
        if not all(
            isinstance(key, tuple)
            and len(key) == 2
            and all(isinstance(k, numbers.Integral) and not isinstance(k, bool) for k in key)
            for key in keys
        ):
            raise ValidationError(f"{name} is a malformed sparse matrix: its keys must be (row, column) integer pairs")
        outside = next((key for key in keys if not (0 <= key[0] < n_rows and 0 <= key[1] < n_cols)), None)
        if outside is not None:
            raise ValidationError(
                f"{name} is a malformed sparse matrix: key {outside!r} is outside the shape {(n_rows, n_cols)}"
            )
        rows = np.array([int(key[0]) for key in keys], dtype=np.int64)
        cols = np.array([int(key[1]) for key in keys], dtype=np.int64)
        values = np.array([value for _, value in items]) if items else np.zeros(0)
    else:
        raise ParameterTypeError(f"{name} has an unsupported sparse format {layout!r}: {type(matrix).__name__}")
    values = np.asarray(values)
    if values.dtype.kind == "c":
        raise ValidationError(f"{name} must be real, got complex values (dtype {values.dtype}); pass its .real explicitly")
    if values.dtype.kind not in "biuf":
        raise ValidationError(f"{name} must hold real numbers, got dtype {values.dtype}")
    values = values.astype(np.float64)
    if not np.all(np.isfinite(values)):
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise ValidationError(
            f"{name} must be finite, got {values[bad]!r} at index ({int(rows[bad])}, {int(cols[bad])})"
        )
    return rows, cols, values, (n_rows, n_cols)


# --------------------------------------------------------------------------- magnitudes
#: Largest bound on |energy| a model may have: the sum of the absolute values of all its
#: weights, biases and offset. Energies and local fields are bounded by it, so their sums,
#: differences and squares (log-sum-exp, AIS weights, variances, gradients) stay finite in
#: float64 (max ~1.8e308 = (1.3e154)**2). Far beyond any trained model (training stops as
#: diverged at 5.6e14 per parameter).
MAX_ENERGY_SCALE = 1e150


def check_energy_scale(parameters: Mapping[str, np.ndarray], what: str) -> float:
    """Refuse parameters whose energies or local fields could overflow float64; return their scale.

    Parameters
    ----------
    parameters : mapping of str to ndarray
        Parameter name -> finite float array (for a sparse matrix, its stored values).
    what : str
        The model, for the message (``"BoltzmannMachine"``).

    Returns
    -------
    float
        The sum of the absolute values of all parameters: a bound on ``|E(s)|`` and on every
        local field at temperature 1 (``model.energy_bound``).

    Raises
    ------
    ValidationError
        If the sum of the absolute values of all parameters exceeds :data:`MAX_ENERGY_SCALE`;
        the message names the parameter holding the largest entry and echoes it.
    """
    with np.errstate(over="ignore"):
        totals = {name: float(np.abs(values).sum()) for name, values in parameters.items()}
        total = float(sum(totals.values()))
    if total <= MAX_ENERGY_SCALE:
        return total
    name, values = max(
        ((name, values) for name, values in parameters.items() if np.size(values)),
        key=lambda item: float(np.abs(item[1]).max()),
    )
    values = np.asarray(values)
    where = np.unravel_index(int(np.argmax(np.abs(values))), values.shape)
    # just above the bound, three digits would print the bound itself
    shown = f"{total:.3g}" if total > 1.01 * MAX_ENERGY_SCALE else repr(total)
    raise ValidationError(
        f"{name} is too large: {name}{list(int(i) for i in where) if values.ndim else ''} = {values[where]!r}; "
        f"the absolute values of {what}'s parameters sum to {shown}, beyond {MAX_ENERGY_SCALE:.0e}, "
        "so its energies and local fields could overflow float64 (NaN); rescale the parameters "
        "(or raise the temperature instead of scaling the weights up)"
    )


def check_sequence(value, name: str) -> list:
    """``list(value)`` of a sequence parameter, or a ParameterTypeError naming it.

    Refuses strings, mappings and sparse matrices (whose iteration builds rows and may fail inside
    scipy on a damaged one), and anything whose iteration fails (a 0-d array).
    """
    if value is None or isinstance(value, (str, bytes, Mapping)) or hasattr(value, "nnz") \
            or not hasattr(value, "__iter__"):
        raise ParameterTypeError(f"{name} must be a sequence, got {describe(value)}")
    try:
        return list(value)
    except (TypeError, ValueError) as error:
        raise ParameterTypeError(f"{name} must be a sequence, got {describe(value)}") from error


def check_state_names_map(state_names, name: str = "state_names") -> dict:
    """``{variable: [state, ...]}`` from a mapping of each variable to a non-empty sequence of its states."""
    if not isinstance(state_names, Mapping):
        raise ParameterTypeError(f"{name} must map a variable to its states, got {describe(state_names)}")
    checked = {}
    for variable, states in state_names.items():
        if isinstance(states, (str, bytes)) or not isinstance(states, Sequence) or len(states) == 0:
            raise ParameterTypeError(f"{name}[{variable!r}] must be a non-empty sequence of states, got "
                                     f"{describe(states)}")
        checked[variable] = list(states)
    return checked


def check_bool(value, name: str) -> bool:
    """Return ``value`` as a bool; only ``True``/``False`` (or NumPy bools) are accepted, not any truthy object."""
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterTypeError(f"{name} must be True or False, got {describe(value)}")
    return bool(value)


class refuse_out_of_memory:
    """Context manager: a failed allocation for ``what`` becomes a ModelSizeError naming it.

    NumPy raises ``MemoryError`` (or, for sizes past the address space, a ``ValueError``
    such as "array is too big") when asked for arrays sized by a user's counts (chains,
    runs, samples); the caller describes them, e.g. ``"n_chains=10**12 chains of 784 units"``.
    """

    def __init__(self, what: str):
        self.what = what

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        too_big = kind is ValueError and not isinstance(error, ValidationError) and (
            "array is too big" in str(error) or "Maximum allowed" in str(error)
        )
        if kind is not None and (issubclass(kind, MemoryError) or too_big):
            raise ModelSizeError(f"not enough memory for {self.what}: {error}; ask for fewer") from error
        return False


_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """Return ``dtype`` as ``numpy.dtype('float32')`` or ``numpy.dtype('float64')``.

    Accepts what NumPy accepts for those two (``"float32"``, ``np.float64``, a dtype object);
    anything else (other dtypes, arrays, None, bools) is refused without comparing it to
    anything, since ``==`` on arrays or sparse matrices raises errors of its own.
    """
    resolved = None
    if isinstance(dtype, (str, type, np.dtype)) and not isinstance(dtype, (bool, np.bool_)):
        try:
            resolved = np.dtype(dtype)
        except TypeError:
            pass
    # (``np.dtype("float64") == None`` is True: test for None first)
    if resolved is None or resolved not in _FLOAT_DTYPES:
        raise ValidationError(f"{name} must be 'float32' or 'float64', got {describe(dtype)}")
    return resolved


# --------------------------------------------------------------------------- sizes
#: Most entries an array sized by a caller's counts may hold (draws x units, chains x draws x
#: units): 2**31, i.e. 2 GiB as uint8 states and 16 GiB as float64. Beyond that NumPy raises
#: MemoryError or "Maximum allowed dimension exceeded" - or, with memory overcommit, hands out
#: memory that gets the process killed once it is filled - so such counts are refused up front.
MAX_ARRAY_ENTRIES = 2**31
#: Most sweeps one sampling call may run (burn-in plus recorded sweeps): its schedule is an int64
#: array of one slot per sweep (2 GiB at this bound), and 2**28 sweeps take hours even for a tiny model.
MAX_SWEEPS = 2**28
#: Default ``max_units`` of every exact enumeration (queries, log Z, likelihoods, exact gradients):
#: 2**30 states, which a dense Boltzmann machine runs through in tens of seconds and a belief
#: network in a few minutes. One value across the package, so that a model exact in one place is
#: exact in all.
DEFAULT_MAX_UNITS = 30


def check_array_size(n_entries: int, what: str, *, limit: int = MAX_ARRAY_ENTRIES, unit: str = "entries") -> int:
    """Refuse, before allocating, an array of ``n_entries`` entries sized by the caller's counts.

    Parameters
    ----------
    n_entries : int
        The product of the counts (a Python int: it cannot overflow).
    what : str
        The counts with their parameter names and values, for the message, e.g.
        ``"n_samples=1000000000000 draws of 5 units"``.
    limit : int, default :data:`MAX_ARRAY_ENTRIES`
        The largest accepted ``n_entries``.
    unit : str, default "entries"
        What is counted, for the message (``"sweeps"``).

    Returns
    -------
    int
        ``n_entries``.

    Raises
    ------
    ModelSizeError
        If ``n_entries > limit``.
    """
    if n_entries > limit:
        raise ModelSizeError(f"{what} make {n_entries} {unit}, more than the {limit} allowed; ask for fewer")
    return n_entries


def check_sweeps(burn_in: int, n_draws: int, thin: int, *, n_draws_name: str = "n_samples") -> int:
    """Return ``burn_in + n_draws * thin``, the sweeps of one sampling call, at most :data:`MAX_SWEEPS`.

    The three counts are already checked ints (Python ints: the total cannot overflow, while the
    kernels count sweeps in int64); call with ``n_draws=0`` to bound ``burn_in`` alone.

    Raises
    ------
    ModelSizeError
        If the total exceeds :data:`MAX_SWEEPS`; the message gives the three counts by name.
    """
    what = f"burn_in={burn_in}" if n_draws == 0 else f"burn_in={burn_in} + {n_draws_name}={n_draws} x thin={thin}"
    return check_array_size(burn_in + n_draws * thin, what, limit=MAX_SWEEPS, unit="sweeps")


# --------------------------------------------------------------------------- renamed options
class MarkedDefault(int):
    """An int default told apart from the same value passed explicitly (``value is default``).

    Lets a renamed option refuse its old name together with an explicit new one, while the
    signature still shows the plain number.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(int(self))


def renamed_option(value, old_value, *, name: str, old_name: str, where: str, default: MarkedDefault):
    """``(value, name used)`` of an option renamed from ``old_name`` to ``name``.

    The old name still works for one release, with a DeprecationWarning naming the new one; the
    name returned is the one the caller used, so that messages about the value speak the
    caller's words.

    Raises
    ------
    TypeError
        When both names are given.
    """
    if old_value is None:
        return value, name
    if value is not default:
        raise TypeError(f"{where}() got both {name} and its deprecated alias {old_name}")
    warnings.warn(f"{where}({old_name}=...) is deprecated; use {name}=... instead", DeprecationWarning, stacklevel=3)
    return old_value, old_name
