"""What every trainer returns: the trained model and its per-epoch history."""

from __future__ import annotations

import math
import numbers
from typing import Any, NamedTuple

import numpy as np

from .._validation import describe
from ..exceptions import ParameterTypeError, UnknownMetricError, ValidationError

__all__ = ["TrainingHistory", "TrainingResult", "STOP_REASONS"]

#: why a run ended: all epochs done, a callback asked to stop, or the user pressed Ctrl-C
STOP_REASONS = ("completed", "callback", "interrupted")


class TrainingHistory:
    """Per-epoch records of a training run, one dict of floats per epoch.

    Each record holds ``"epoch"`` (counted from 1), ``"seconds"`` (wall time of the
    epoch) and whichever monitors ran that epoch (for example
    ``"reconstruction_error"``, ``"free_energy_gap"``, ``"pseudo_log_likelihood"``,
    ``"log_likelihood"``, ``"validation_log_likelihood"``). A monitor that did not run
    in an epoch is absent from its record and reads as NaN in :meth:`__getitem__`.

    Examples
    --------
    >>> from pgm_energy.learning import TrainingHistory
    >>> history = TrainingHistory()
    >>> history.append({"epoch": 1, "seconds": 0.5, "reconstruction_error": 0.25})
    >>> history.append({"epoch": 2, "seconds": 0.4})
    >>> history["reconstruction_error"]
    array([0.25,  nan])
    """

    __slots__ = ("_records",)

    def __init__(self, records=()):
        self._records: list[dict[str, float]] = []
        if isinstance(records, (str, bytes, dict)) or not isinstance(records, (list, tuple)):
            raise ParameterTypeError(f"records must be a list or tuple of dicts, got {describe(records)}")
        for record in records:
            self.append(record)

    def append(self, record: dict[str, Any]) -> None:
        """Add the record of the next epoch (a mapping of metric name to number)."""
        if not isinstance(record, dict):
            raise ValidationError(f"record must be a dict of metric name to number, got {describe(record)}")
        if "epoch" not in record:
            raise ValidationError(f"record must have an 'epoch' entry, got {describe(record)}")
        clean = {}
        for name, value in record.items():
            if not isinstance(name, str) or not name:
                raise ValidationError(f"record keys must be non-empty strings, got {name!r}")
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
                raise ParameterTypeError(f"record[{name!r}] must be a real number, got {describe(value)}")
            clean[name] = float(value)
        self._records.append(clean)

    @property
    def records(self) -> tuple[dict[str, float], ...]:
        """Copies of the per-epoch records, oldest first."""
        return tuple(dict(record) for record in self._records)

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every metric name recorded, in order of first appearance."""
        seen: dict[str, None] = {}
        for record in self._records:
            seen.update(dict.fromkeys(record))
        return tuple(seen)

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, metric: str) -> np.ndarray:
        """Values of ``metric`` per epoch, shape (n_epochs,), NaN where it was not measured.

        Raises
        ------
        ParameterTypeError
            If ``metric`` is not a string.
        UnknownMetricError
            (also a ``KeyError``) if no epoch recorded ``metric``.
        """
        if not isinstance(metric, str):
            raise ParameterTypeError(f"metric must be a metric name (str), got {describe(metric)}")
        if metric not in self.metrics:
            raise UnknownMetricError(f"metric {metric!r} is not in this history; recorded: {list(self.metrics)}")
        return np.array([record.get(metric, math.nan) for record in self._records], dtype=np.float64)

    def last_record(self) -> dict[str, float]:
        """A copy of the most recent epoch's record (empty when no epoch is recorded)."""
        return dict(self._records[-1]) if self._records else {}

    def last(self, metric: str) -> float:
        """The most recent measured (non-NaN) value of ``metric``, NaN if never measured."""
        values = self[metric]
        measured = values[~np.isnan(values)]
        return float(measured[-1]) if measured.size else math.nan

    def to_pandas(self):
        """The history as a ``pandas.DataFrame``, one row per epoch, indexed by epoch."""
        import pandas as pd

        frame = pd.DataFrame([dict(record) for record in self._records], columns=list(self.metrics))
        if len(frame):
            frame = frame.set_index(frame["epoch"].astype(int)).drop(columns="epoch")
        return frame

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The history as float64 arrays, one per metric (for ``.npz`` checkpoints)."""
        return {metric: self[metric] for metric in self.metrics}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "TrainingHistory":
        """Inverse of :meth:`to_arrays` (NaN entries become absent)."""
        if not isinstance(arrays, dict):
            raise ParameterTypeError(f"arrays must be a dict of metric name to 1-d array, got {describe(arrays)}")
        columns = {}
        for name, values in arrays.items():
            if not isinstance(name, str) or not name:
                raise ValidationError(f"arrays keys must be non-empty metric names, got {name!r}")
            raw = np.asarray(values) if isinstance(values, np.ndarray) else None
            if raw is None or raw.dtype.kind not in "biuf" or raw.ndim != 1:
                raise ValidationError(f"arrays[{name!r}] must be a 1-d array of real numbers, got {describe(values)}")
            columns[name] = raw.astype(np.float64)
        lengths = {values.shape for values in columns.values()}
        if len(lengths) > 1:
            raise ValidationError(f"arrays must have one length, got shapes {sorted(lengths)}")
        n_epochs = next(iter(lengths))[0] if lengths else 0
        if n_epochs and ("epoch" not in columns or np.isnan(columns["epoch"]).any()):
            raise ValidationError(f"arrays must hold an 'epoch' entry for every epoch, got metrics {list(columns)[:8]!r}")
        history = cls()
        for row in range(n_epochs):
            history.append({name: values[row] for name, values in columns.items() if not np.isnan(values[row])})
        return history

    def __eq__(self, other) -> bool:
        if not isinstance(other, TrainingHistory):
            return NotImplemented
        return self._records == other._records

    def __repr__(self) -> str:
        return f"TrainingHistory({len(self)} epochs, metrics={list(self.metrics)})"


class TrainingResult(NamedTuple):
    """A trained model, the history that produced it, and why training stopped.

    Attributes
    ----------
    model : EnergyModel
        The trained model (a new immutable object; the input model is untouched).
    history : TrainingHistory
        One record per completed epoch.
    stop_reason : str
        One of :data:`STOP_REASONS`: ``"completed"``, ``"callback"`` (for example early
        stopping) or ``"interrupted"`` (Ctrl-C: the model is the last completed update).
    """

    model: Any
    history: TrainingHistory
    stop_reason: str = "completed"
