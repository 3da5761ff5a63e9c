"""The pandas side of ``predict`` and ``predict_probability``: checking the data, laying out the answers.

The inference engines (:mod:`pgm_energy.inference`) solve one distinct row of
observations at a time on arrays; this module turns the user's DataFrame into
those rows and the solved rows back into DataFrames in pgmpy's layouts.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from ._validation import describe
from .exceptions import EvidenceError, ParameterTypeError, StateError, ValidationError

__all__ = ["PredictionRows", "prediction_rows", "spread", "prediction_frame", "state_frame"]


class PredictionRows(NamedTuple):
    """The work of one ``predict`` call.

    Attributes
    ----------
    targets : list of int
        Units to predict (model order).
    column_units : list of int
        The unit of each column of the data, in column order.
    unique : ndarray of int8, shape (n_unique, n_columns)
        The distinct observed rows (each solved once).
    inverse : ndarray of int64, shape (n_rows,)
        For each row of the data, its row in ``unique``.
    """

    targets: list
    column_units: list
    unique: np.ndarray
    inverse: np.ndarray

    def clamped(self, k: int) -> dict[int, int]:
        """The observations of distinct row ``k`` as unit index -> value."""
        return dict(zip(self.column_units, self.unique[k].tolist()))


def _is_missing(value) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _check_data(model, data) -> tuple[list[str], np.ndarray]:
    """Validate a DataFrame of observed 0/1 values; return its columns and an int8 array."""
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise ParameterTypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    columns = list(data.columns)
    names = set(model.names)
    for column in columns:
        if not isinstance(column, str) or column not in names:
            raise EvidenceError(f"data has a column {column!r}, which is not a variable of the model")
    if len(set(columns)) != len(columns):
        duplicates = sorted({c for c in columns if columns.count(c) > 1})
        raise ValidationError(f"data has repeated columns {duplicates!r}")
    values = np.empty((len(data), len(columns)), dtype=np.int8)
    for k, column in enumerate(columns):
        raw = data[column].to_numpy()
        if raw.dtype == object or not (np.issubdtype(raw.dtype, np.number) or raw.dtype == np.bool_):
            # Object or categorical columns: every entry must be a real 0/1 (not "1", not None).
            ok = np.array(
                [isinstance(x, (numbers.Real, np.bool_)) and not isinstance(x, str) and x in (0, 1) for x in raw],
                dtype=bool,
            )
        else:
            ok = (raw == 0) | (raw == 1)
        if not ok.all():
            row = int(np.flatnonzero(~ok)[0])
            value = raw[row]
            value = value.item() if isinstance(value, np.generic) else value  # echo 2, not np.int64(2)
            what = "a missing value (NaN)" if _is_missing(value) else f"{value!r}"
            raise StateError(
                f"data[{column!r}] must contain only 0 and 1, got {what} at row {data.index[row]!r}; "
                "fill or drop missing observations before predicting (a column is either observed or predicted)"
            )
        values[:, k] = np.asarray(raw, dtype=np.float64).astype(np.int8)
    return columns, values


def _targets(model, columns, include_latents: bool) -> list[int]:
    observed = set(columns)
    hidden = set(model.hidden_names)
    targets = [
        i for i, name in enumerate(model.names) if name not in observed and (include_latents or name not in hidden)
    ]
    if not targets:
        raise ValidationError(
            "data leaves no variable to predict: every "
            + ("unit" if include_latents else "visible unit (pass include_latents=True to predict hidden units)")
            + " is a column of data"
        )
    return targets


def prediction_rows(model, data, include_latents) -> PredictionRows:
    """Check ``data`` and ``include_latents``; the units to predict and the distinct observed rows."""
    if not isinstance(include_latents, (bool, np.bool_)):
        raise ParameterTypeError(f"include_latents must be True or False, got {describe(include_latents)}")
    columns, values = _check_data(model, data)
    targets = _targets(model, columns, bool(include_latents))
    column_units = [model.index(name) for name in columns]
    if values.shape[0] == 0:
        return PredictionRows(targets, column_units, values, np.zeros(0, dtype=np.int64))
    unique, inverse = np.unique(values, axis=0, return_inverse=True)
    return PredictionRows(targets, column_units, unique, inverse.reshape(-1))


def spread(solved: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """The answers of the distinct rows repeated onto every row of the data."""
    return solved[inverse] if len(inverse) else solved[:0]


def prediction_frame(data, names: list[str], values: np.ndarray, include_observed: bool):
    """``predict``'s answer: the predicted columns, or ``data`` followed by them (pgmpy's whole frame)."""
    import pandas as pd

    predicted = pd.DataFrame(values, index=data.index, columns=names)
    if not include_observed:
        return predicted
    whole = data.copy()
    for name in names:  # by position: the index may repeat labels
        whole[name] = predicted[name].to_numpy()
    return whole


def state_frame(names: list[str], zero, one, index):
    """pgmpy's ``predict_probability`` layout: columns ``{name}_0``, ``{name}_1`` per name.

    ``zero`` and ``one`` (shape (n_rows, len(names))) fill the two columns of each name.
    """
    import pandas as pd

    frame = {}
    for k, name in enumerate(names):
        frame[f"{name}_0"] = zero[:, k]
        frame[f"{name}_1"] = one[:, k]
    return pd.DataFrame(frame, index=index)
