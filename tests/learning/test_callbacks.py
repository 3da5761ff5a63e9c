"""EarlyStopping: the stopping rule on a scripted history, and the best model returned by a real run."""

from __future__ import annotations

import numpy as np
import pytest

from pgm_energy import RestrictedBoltzmannMachine, exact
from pgm_energy.exceptions import ValidationError
from pgm_energy.learning import ContrastiveDivergence, EarlyStopping, ExactGradient, TrainingHistory
from pgm_energy.learning.monitors import Monitor, history_keys


class ScoreMonitor(Monitor):
    """A user-defined monitor: defining it makes its key known to EarlyStopping."""

    name = "score"
    keys = ("score",)

    def __call__(self, model, epoch):
        return {"score": float(epoch)}


MODELS = {epoch: RestrictedBoltzmannMachine.random(2, 1, rng=epoch) for epoch in range(1, 10)}
LAST = RestrictedBoltzmannMachine.random(2, 1, rng=99)


def drive(stopper, values):
    """Feed values as epochs 1, 2, ...; return the epoch at which the stopper asked to stop (or None)."""
    history = TrainingHistory()
    for epoch, value in enumerate(values, start=1):
        record = {"epoch": epoch}
        if value is not None:
            record["score"] = value
        history.append(record)
        if stopper(epoch, MODELS[epoch], history):
            return epoch
    return None


def test_stops_after_patience_measurements_without_improvement():
    stopper = EarlyStopping("score", patience=2)
    assert drive(stopper, [1.0, 2.0, 1.5, 1.9, 1.8, 3.0]) == 5
    assert stopper.best_epoch == 2 and stopper.best_value == 2.0 and stopper.stopped_epoch == 5
    assert stopper.final_model(LAST, None) is MODELS[2]


def test_unmeasured_epochs_are_skipped_and_min_delta_and_min_mode():
    stopper = EarlyStopping("score", patience=1, mode="min", min_delta=0.1)
    # 0.95 is not 0.1 below 1.0; None epochs do not count
    assert drive(stopper, [1.0, None, 0.95, None, None, 0.97]) == 6
    assert stopper.best_epoch == 1
    never = EarlyStopping("score", patience=0)
    assert drive(never, [1.0, 2.0, 3.0]) is None
    no_restore = EarlyStopping("score", patience=0, restore_best=False)
    drive(no_restore, [2.0, 1.0])
    assert no_restore.final_model(LAST, None) is LAST


def test_reused_stopper_starts_afresh():
    stopper = EarlyStopping("score", patience=0)
    assert drive(stopper, [5.0, 4.0]) == 2
    assert drive(stopper, [1.0, 2.0, 3.0]) is None
    assert stopper.best_value == 3.0


def test_bad_arguments():
    with pytest.raises(ValidationError, match="mode"):
        EarlyStopping("score", patience=1, mode="up")
    with pytest.raises(ValidationError, match="mode"):
        EarlyStopping("score", patience=1, mode=np.array(["max", "min"]))  # no ambiguous truth value
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


def test_misspelt_metric_is_refused_at_construction_with_the_known_names():
    with pytest.raises(ValidationError, match=r"metric='log_likelihod'.*'log_likelihood'"):
        EarlyStopping("log_likelihod", patience=1)
    assert {"score", "log_likelihood", "validation_log_likelihood", "reconstruction_error"} <= set(history_keys())


def test_a_custom_monitor_gets_its_validation_key_by_default():
    class Entropy(Monitor):
        name = "entropy"

        def __call__(self, model, epoch):
            return {"entropy": 0.0}

    assert Entropy.keys == ("entropy", "validation_entropy")
    EarlyStopping("validation_entropy", patience=1)


def test_metric_the_run_does_not_measure_is_refused_after_the_first_epoch(bas3):
    stopper = EarlyStopping("validation_log_likelihood", patience=2)
    trainer = ContrastiveDivergence(epochs=3, batch_size=7, monitor=["log_likelihood"], monitor_every=1)
    with pytest.raises(ValidationError, match=r"validation_log_likelihood.*not measured.*\['log_likelihood'\]"):
        trainer.fit(3, bas3, rng=0, callbacks=[stopper], progress=False)
    # epoch keys may legitimately be missing (PCD records no reconstruction error unless asked)
    quiet = EarlyStopping("reconstruction_error", patience=2)
    pcd = ContrastiveDivergence(epochs=2, batch_size=7, persistent=True, monitor=["log_likelihood"], monitor_every=1)
    assert pcd.fit(3, bas3, rng=0, callbacks=[quiet], progress=False).stop_reason == "completed"


def test_every_key_the_trainers_record_is_a_known_history_key(bas3):
    known = {"epoch", *history_keys()}
    cd = ContrastiveDivergence(epochs=1, batch_size=7, monitor="auto").fit(3, bas3, validation=bas3, rng=0, progress=False)
    exact_gradient = ExactGradient(epochs=1, monitor="auto").fit(3, bas3, validation=bas3, rng=0, progress=False)
    for result in (cd, exact_gradient):
        assert set(result.history.metrics) <= known


def test_call_and_final_model_check_their_arguments():
    from pgm_energy.exceptions import ParameterTypeError

    stopper = EarlyStopping("score", patience=1)
    history = TrainingHistory([{"epoch": 1, "score": 1.0}])
    with pytest.raises(ParameterTypeError, match="history must be a TrainingHistory"):
        stopper(1, LAST, [{"epoch": 1}])
    with pytest.raises(ValidationError, match="epoch"):
        stopper(0, LAST, history)
    with pytest.raises(ParameterTypeError, match="model must be a pgm_energy model"):
        stopper(1, float("nan"), history)
    with pytest.raises(ParameterTypeError, match="model must be a pgm_energy model"):
        stopper.final_model(float("nan"), history)
