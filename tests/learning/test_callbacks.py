"""EarlyStopping: the stopping rule on a scripted history, and the best model returned by a real run."""

from __future__ import annotations

import numpy as np
import pytest

from pgm_energy import exact
from pgm_energy.exceptions import ValidationError
from pgm_energy.learning import ContrastiveDivergence, EarlyStopping, TrainingHistory


def drive(stopper, values):
    """Feed values as epochs 1, 2, ...; return the epoch at which the stopper asked to stop (or None)."""
    history = TrainingHistory()
    for epoch, value in enumerate(values, start=1):
        record = {"epoch": epoch}
        if value is not None:
            record["score"] = value
        history.append(record)
        if stopper(epoch, f"model{epoch}", history):
            return epoch
    return None


def test_stops_after_patience_measurements_without_improvement():
    stopper = EarlyStopping("score", patience=2)
    assert drive(stopper, [1.0, 2.0, 1.5, 1.9, 1.8, 3.0]) == 5
    assert stopper.best_epoch == 2 and stopper.best_value == 2.0 and stopper.stopped_epoch == 5
    assert stopper.final_model("last", None) == "model2"


def test_unmeasured_epochs_are_skipped_and_min_delta_and_min_mode():
    stopper = EarlyStopping("score", patience=1, mode="min", min_delta=0.1)
    # 0.95 is not 0.1 below 1.0; None epochs do not count
    assert drive(stopper, [1.0, None, 0.95, None, None, 0.97]) == 6
    assert stopper.best_epoch == 1
    never = EarlyStopping("score", patience=0)
    assert drive(never, [1.0, 2.0, 3.0]) is None
    no_restore = EarlyStopping("score", patience=0, restore_best=False)
    drive(no_restore, [2.0, 1.0])
    assert no_restore.final_model("last", None) == "last"


def test_reused_stopper_starts_afresh():
    stopper = EarlyStopping("score", patience=0)
    assert drive(stopper, [5.0, 4.0]) == 2
    assert drive(stopper, [1.0, 2.0, 3.0]) is None
    assert stopper.best_value == 3.0


def test_bad_arguments():
    with pytest.raises(ValidationError, match="mode"):
        EarlyStopping("score", patience=1, mode="up")
    with pytest.raises(ValidationError, match="patience"):
        EarlyStopping("score", patience=-1)
    with pytest.raises(TypeError):
        EarlyStopping("score", 3)  # patience is keyword-only


def test_early_stopping_in_a_run_returns_the_best_model(engine, bas3):
    data = np.tile(bas3, (6, 1))
    # A learning rate far too large makes the log-likelihood fall after a few epochs.
    stopper = EarlyStopping("log_likelihood", patience=2)
    trainer = ContrastiveDivergence(epochs=60, batch_size=6, learning_rate=2.0, momentum=0.9, monitor=["log_likelihood"], monitor_every=1)
    result = trainer.fit(10, data, rng=1, callbacks=[stopper], progress=False)
    values = result.history["log_likelihood"]
    assert result.stop_reason == "callback"
    assert len(result.history) == stopper.stopped_epoch < 60
    best = int(np.argmax(values))
    assert stopper.best_epoch == best + 1
    # the returned model is the best epoch's, whose monitor value is the maximum of the run
    monitored_subset = data  # 36 rows < 1000: the monitor's subset is all rows (in sorted order)
    assert exact.log_likelihood(result.model, monitored_subset) == pytest.approx(values[best], abs=1e-9)
