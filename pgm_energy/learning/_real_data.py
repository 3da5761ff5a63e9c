"""The check of real-valued training data, shared by the trainers of Gaussian-Bernoulli RBMs."""

from __future__ import annotations

import numpy as np

from .._validation import check_names, describe
from ..exceptions import StateError, ValidationError
from ._trainer import RUNAWAY_BOUND

#: the trainers refuse data beyond the runaway bound of their dtype divided by this (float32: 65536,
#: float64: about 3.5e13): the visible biases start at the column means and must stay below the
#: bound with room to move (standardise the data)
DATA_HEADROOM = 16.0


def check_real_data(data, visible_names, name: str, dtype: np.dtype) -> tuple[np.ndarray, tuple[str, ...]]:
    """A trainer's real-valued rows as a C-contiguous array of ``dtype``, and the visible names.

    Accepts an array or a DataFrame (columns matched to ``visible_names`` by name); refuses
    non-numbers, non-finite values and values beyond the runaway bound of ``dtype`` / 16.
    """
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        columns = [str(column) if isinstance(column, str) else column for column in data.columns]
        if visible_names is None:
            visible_names = check_names(columns, len(columns), f"{name} columns")
        else:
            missing = [unit for unit in visible_names if unit not in columns]
            extra = [column for column in columns if column not in visible_names]
            if missing or extra:
                raise ValidationError(
                    f"{name} columns must be the visible names of the model; missing {missing[:5]!r}, "
                    f"unexpected {extra[:5]!r}"
                )
            data = data[list(visible_names)]
        try:
            array = data.to_numpy()
        except (TypeError, ValueError) as error:
            raise StateError(f"{name} must hold numbers, got {describe(data)}") from error
    else:
        try:
            array = np.asarray(data)
        except (TypeError, ValueError) as error:
            raise StateError(f"{name} must be a 2-D array of real numbers, got {describe(data)}") from error
    if array.dtype == object:
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as error:
            raise StateError(f"{name} must hold real numbers, got dtype object") from error
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_) or np.iscomplexobj(array):
        raise StateError(f"{name} must be a 2-D array of real numbers, got dtype {array.dtype}")
    if array.ndim != 2:
        raise StateError(f"{name} must be 2-D (n_samples, n_visible), got shape {array.shape}")
    n_features = array.shape[1] if visible_names is None else len(visible_names)
    if array.shape[1] != n_features:
        raise ValidationError(f"{name} must have {n_features} columns (one per visible unit"
                              + (" of the model" if name == "data" else ", as in the model and data")
                              + f"), got shape {array.shape}")
    if array.shape[0] == 0:
        raise ValidationError(f"{name} must hold at least one sample, got shape {array.shape}")
    if array.shape[1] == 0:
        raise ValidationError(f"{name} must have at least one column, got shape {array.shape}")
    if visible_names is None:
        visible_names = tuple(f"v{i}" for i in range(n_features))
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise StateError(f"{name} must hold finite real numbers, got {array[bad]!r} at index {bad}")
    limit = RUNAWAY_BOUND[dtype] / DATA_HEADROOM
    beyond = np.abs(array) > limit
    if beyond.any():
        bad = tuple(int(i) for i in np.argwhere(beyond)[0])
        raise StateError(
            f"{name} holds {array[bad]!r} at index {bad}, beyond {limit:.6g} (the runaway bound of "
            f"dtype={dtype.name!r} / {DATA_HEADROOM:g}: the visible biases start at the column means); "
            "standardise the data" + (" (or use dtype='float64')" if dtype == np.float32 else "")
        )
    return np.ascontiguousarray(array, dtype=dtype), visible_names
