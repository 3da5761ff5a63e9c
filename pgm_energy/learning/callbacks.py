"""Callbacks for the trainers' fit loop.

The protocol
------------
A callback is any callable ``callback(epoch, model, history) -> bool``, called after every
completed epoch with the epoch number (from 1), the model of that epoch (immutable) and the
:class:`~pgm_energy.learning.TrainingHistory` so far (its last record is this epoch's). A true
return value stops training after this epoch (``stop_reason="callback"``); every callback is
still called for that epoch. A callback may also define ``final_model(model, history) -> model``,
called once when training ends (however it ends, except by an exception), to replace the
returned model; :class:`EarlyStopping` uses it to return the best model.

Raising ``KeyboardInterrupt`` from a callback behaves as Ctrl-C: the run returns the model of the
epoch just completed with ``stop_reason="interrupted"``.

Callbacks are not stored in checkpoints: a resumed run starts them afresh.
"""

from __future__ import annotations

import math
import numbers

from .._validation import check_int, describe
from ..exceptions import ParameterTypeError, ValidationError

__all__ = ["EarlyStopping"]


def _check_model(model, name: str) -> None:
    from ..models._base import EnergyModel

    if not isinstance(model, EnergyModel):
        raise ParameterTypeError(f"{name} must be a pgm_energy model, got {describe(model)}")


class EarlyStopping:
    """Stop when a monitored metric has not improved for ``patience`` measurements; keep the best model.

    Parameters
    ----------
    metric : str
        A history key, for example ``"validation_log_likelihood"`` or ``"free_energy_gap"``:
        one of :func:`pgm_energy.learning.monitors.history_keys` (the trainers' epoch keys and
        the keys of every :class:`~pgm_energy.learning.monitors.Monitor` subclass, including
        your own). Epochs in which it was not measured (see ``monitor_every``) are skipped;
        but if the monitors ran in the run's first epoch without recording it (for example
        ``"validation_log_likelihood"`` without ``validation=``), the stopper raises at once
        rather than never firing.
    patience : int >= 0
        Measurements without improvement tolerated before stopping.
    mode : "max" or "min", default "max"
        Whether larger or smaller values are better.
    min_delta : float >= 0, default 0.0
        Smallest change that counts as an improvement.
    restore_best : bool, default True
        Return the model of the best measurement instead of the last one.

    Attributes
    ----------
    best_value : float
        Best value seen (NaN before the first measurement).
    best_epoch : int or None
    stopped_epoch : int or None
        The epoch at which it asked to stop.

    Raises
    ------
    ValidationError
        If ``metric`` is not a known history key (at construction), or is not measured in a
        run whose monitors ran in its first epoch (from the callback, after that epoch).

    Examples
    --------
    >>> from pgm_energy.learning import EarlyStopping
    >>> stopper = EarlyStopping("validation_log_likelihood", patience=3)
    """

    def __init__(self, metric, *, patience, mode="max", min_delta=0.0, restore_best=True):
        if not isinstance(metric, str) or not metric:
            raise ParameterTypeError(f"metric must be a history key (non-empty str), got {describe(metric)}")
        from .monitors import history_keys

        known = history_keys()
        if metric not in known:
            # A misspelt metric would never be measured, and the stopper would never fire.
            raise ValidationError(
                f"metric={metric!r} is not a history key; known: {sorted(known)} "
                "(a custom Monitor subclass declares its keys in its `keys` attribute)"
            )
        if not isinstance(mode, str) or mode not in ("max", "min"):
            raise ValidationError(f"mode must be 'max' or 'min', got {describe(mode)}")
        if isinstance(min_delta, bool) or not isinstance(min_delta, numbers.Real):
            raise ParameterTypeError(f"min_delta must be a real number >= 0, got {describe(min_delta)}")
        if not math.isfinite(min_delta) or min_delta < 0:
            raise ValidationError(f"min_delta must be finite and >= 0, got {min_delta!r}")
        if not isinstance(restore_best, bool):
            raise ParameterTypeError(f"restore_best must be True or False, got {describe(restore_best)}")
        self.metric = metric
        self.patience = check_int(patience, "patience", minimum=0)
        self.mode = mode
        self.min_delta = float(min_delta)
        self.restore_best = restore_best
        self._reset()

    def _reset(self) -> None:
        self.best_value = math.nan
        self.best_epoch = None
        self.best_model = None
        self.stopped_epoch = None
        self._waited = 0
        self._first_call = True

    def _improves(self, value: float) -> bool:
        if math.isnan(self.best_value):
            return True
        if self.mode == "max":
            return value > self.best_value + self.min_delta
        return value < self.best_value - self.min_delta

    def __call__(self, epoch, model, history) -> bool:
        from ._result import TrainingHistory

        epoch = check_int(epoch, "epoch", minimum=1)
        if not isinstance(history, TrainingHistory):
            raise ParameterTypeError(f"history must be a TrainingHistory, got {describe(history)}")
        _check_model(model, "model")
        if len(history) <= 1 or (self.best_epoch is not None and epoch <= self.best_epoch):
            self._reset()  # a new run (the same object may be reused)
        # The last record only (history.records copies every record: quadratic over a long run).
        record = history.last_record()
        if self._first_call:
            self._first_call = False
            self._check_measured(record)
        value = record.get(self.metric, math.nan)
        if math.isnan(value):
            return False
        if self._improves(value):
            self.best_value, self.best_epoch, self.best_model = value, epoch, model
            self._waited = 0
            return False
        self._waited += 1
        if self._waited > self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def _check_measured(self, record) -> None:
        """Refuse a metric that this run's monitors, which ran in this epoch, did not record."""
        from .monitors import EPOCH_KEYS

        if self.metric in record or self.metric in EPOCH_KEYS:
            return  # an epoch key may be absent by design (e.g. PCD without a reconstruction error)
        measured = sorted(key for key in record if key not in EPOCH_KEYS and key != "epoch")
        if measured:
            raise ValidationError(
                f"metric={self.metric!r} is not measured in this run (its monitors record {measured}); "
                "name it in the trainer's monitor= option, or pass validation= for a validation_ metric"
            )

    def final_model(self, model, history):
        """The best model seen when ``restore_best`` (else ``model``)."""
        _check_model(model, "model")
        if self.restore_best and self.best_model is not None:
            return self.best_model
        return model

    def __repr__(self) -> str:
        return (
            f"EarlyStopping({self.metric!r}, patience={self.patience}, mode={self.mode!r}, "
            f"min_delta={self.min_delta!r}, restore_best={self.restore_best})"
        )
