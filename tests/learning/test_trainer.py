"""The shared fit loop (through ContrastiveDivergence): checks, history, checkpoints, divergence, Ctrl-C."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pgm_energy import RestrictedBoltzmannMachine
from pgm_energy.exceptions import ModelFileError, ParameterTypeError, StateError, TrainingDivergedError, ValidationError
from pgm_energy.learning import ContrastiveDivergence, ExactGradient, TrainingHistory
from pgm_energy.learning._trainer import generator_from_json, generator_state_json


def quick(**options):
    settings = dict(epochs=3, batch_size=10, monitor=None, persistent=False)  # CD: the tests below read its history
    settings.update(options)
    return ContrastiveDivergence(**settings)


# ---------------------------------------------------------------------------- input checks
def test_non_binary_data_is_refused_naming_the_value(engine, small_binary):
    data = small_binary.astype(float)
    data[3, 2] = 0.5
    with pytest.raises(StateError, match=r"0\.5.*binarize"):
        quick().fit(3, data, rng=0, progress=False)


def test_binarize_thresholds_above(engine, small_binary):
    grey = small_binary * 0.8 + 0.1  # 0 -> 0.1, 1 -> 0.9
    binary = quick(binarize=0.5).fit(3, small_binary, rng=0, progress=False).model
    thresholded = quick(binarize=0.5).fit(3, grey, rng=0, progress=False).model
    np.testing.assert_array_equal(binary.weights, thresholded.weights)


def test_nan_is_refused_even_with_binarize(engine, small_binary):
    data = small_binary.astype(float)
    data[0, 0] = np.nan
    with pytest.raises(StateError, match="finite"):
        quick(binarize=0.5).fit(3, data, rng=0, progress=False)


def test_wrong_feature_count_empty_data_and_large_batch(engine, small_binary):
    model = RestrictedBoltzmannMachine.random(7, 3, rng=0)
    with pytest.raises(ValidationError, match="7 columns"):
        quick().fit(model, small_binary, rng=0, progress=False)
    with pytest.raises(ValidationError, match="at least one sample"):
        quick().fit(3, np.zeros((0, 8)), rng=0, progress=False)
    with pytest.raises(ValidationError, match="batch_size=100 is larger than the data"):
        quick(batch_size=100).fit(3, small_binary, rng=0, progress=False)
    with pytest.raises(StateError, match="2-D"):
        quick().fit(3, small_binary[0], rng=0, progress=False)
    with pytest.raises(ValidationError, match="validation must have 8 columns"):
        quick().fit(3, small_binary, validation=small_binary[:, :5], rng=0, progress=False)


def test_bad_options_and_arguments():
    with pytest.raises(TypeError):
        ContrastiveDivergence(learnig_rate=0.1)
    with pytest.raises(ValidationError, match="learning_rate"):
        ContrastiveDivergence(learning_rate=-1)
    with pytest.raises(ValidationError, match="k must be >= 1"):
        ContrastiveDivergence(k=0)
    with pytest.raises(ValidationError, match="n_chains"):
        ContrastiveDivergence(persistent=False, n_chains=10)
    with pytest.raises(ValidationError, match="checkpoint_path"):
        ContrastiveDivergence(checkpoint_every=2)
    with pytest.raises(ValidationError, match="dtype"):
        ContrastiveDivergence(dtype="float16")
    with pytest.raises(ValidationError, match="unknown monitor"):
        ContrastiveDivergence(monitor=["loglik"])
    with pytest.raises(ParameterTypeError, match="model_or_size"):
        quick().fit("3", np.zeros((4, 2)), progress=False)
    with pytest.raises(ParameterTypeError, match="callbacks"):
        quick().fit(3, np.zeros((4, 2)), callbacks=[1], progress=False)


# ---------------------------------------------------------------------------- data frames
def test_dataframe_columns_name_a_new_model_and_match_a_given_one(engine, small_binary):
    names = [f"pixel{i}" for i in range(8)]
    frame = pd.DataFrame(small_binary, columns=names)
    result = quick().fit(3, frame, rng=0, progress=False)
    assert result.model.visible_names == tuple(names)
    # A given model: columns are matched by name, so a shuffled frame trains exactly as the array.
    start = RestrictedBoltzmannMachine.random(8, 3, rng=1, visible_names=names)
    from_array = quick().fit(start, small_binary, rng=5, progress=False).model
    from_frame = quick().fit(start, frame[names[::-1]], rng=5, progress=False).model
    np.testing.assert_array_equal(from_array.weights, from_frame.weights)
    with pytest.raises(ValidationError, match="missing"):
        quick().fit(start, frame.rename(columns={"pixel0": "other"}), rng=5, progress=False)


# ---------------------------------------------------------------------------- history and determinism
def test_history_records_every_epoch_and_monitors_on_schedule(engine, small_binary):
    trainer = quick(epochs=5, monitor=["log_likelihood", "pseudo_log_likelihood"], monitor_every=2)
    result = trainer.fit(3, small_binary[:40], validation=small_binary[40:], rng=0, progress=False)
    history = result.history
    assert isinstance(history, TrainingHistory) and len(history) == 5
    assert result.stop_reason == "completed"
    np.testing.assert_array_equal(history["epoch"], [1, 2, 3, 4, 5])
    assert np.all(history["seconds"] >= 0)
    assert np.all(np.isfinite(history["reconstruction_error"]))
    # measured at epochs 2, 4 and the last one, NaN elsewhere
    measured = ~np.isnan(history["validation_log_likelihood"])
    np.testing.assert_array_equal(measured, [False, True, False, True, True])
    assert np.all(history["log_likelihood"][measured] < 0)
    assert np.all(history["pseudo_log_likelihood"][measured] < 0)


def test_same_seed_same_model_and_input_model_untouched(engine, small_binary):
    start = RestrictedBoltzmannMachine.random(8, 3, rng=1)
    before = start.weights.copy()
    first = quick().fit(start, small_binary, rng=3, progress=False).model
    second = quick().fit(start, small_binary, rng=np.random.default_rng(3), progress=False).model
    np.testing.assert_array_equal(first.weights, second.weights)
    np.testing.assert_array_equal(start.weights, before)
    assert not np.array_equal(first.weights, before)
    other = quick().fit(start, small_binary, rng=4, progress=False).model
    assert not np.array_equal(first.weights, other.weights)


def test_progress_false_is_silent(engine, small_binary, capsys):
    quick().fit(3, small_binary, rng=0, progress=False)
    quick().fit(3, small_binary, rng=0, progress=True)  # stderr is not a terminal under pytest
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


# ---------------------------------------------------------------------------- checkpoints
def without_seconds(history):
    return [{key: value for key, value in record.items() if key != "seconds"} for record in history.records]


@pytest.mark.parametrize("persistent", [False, True])
def test_resume_continues_exactly(engine, small_binary, tmp_path, persistent):
    options = dict(epochs=7, persistent=persistent, monitor=["log_likelihood"], monitor_every=3)
    full = quick(**options).fit(3, small_binary, rng=11, progress=False)
    path = tmp_path / "run.npz"

    def stop_at_five(epoch, model, history):
        return epoch == 5

    stopped = quick(**options, checkpoint_every=2, checkpoint_path=path).fit(
        3, small_binary, rng=11, callbacks=[stop_at_five], progress=False
    )
    assert stopped.stop_reason == "callback" and len(stopped.history) == 5
    # The checkpoint holds epoch 4; resuming replays 5, 6, 7 with the same draws.
    resumed = quick(**options).fit(3, small_binary, resume_from=path, rng=999, progress=False)
    np.testing.assert_array_equal(resumed.model.weights, full.model.weights)
    np.testing.assert_array_equal(resumed.model.visible_bias, full.model.visible_bias)
    np.testing.assert_array_equal(resumed.model.hidden_bias, full.model.hidden_bias)
    assert without_seconds(resumed.history) == without_seconds(full.history)


def test_checkpoint_is_an_npz_with_rng_state_and_refuses_other_data(engine, small_binary, tmp_path):
    path = tmp_path / "run.npz"
    quick(checkpoint_every=1, checkpoint_path=path).fit(3, small_binary, rng=0, progress=False)
    with np.load(path, allow_pickle=False) as content:
        assert int(content["epoch"]) == 3
        state = json.loads(str(content["rng_state"]))
        assert state["bit_generator"] == "PCG64"
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed into place
    with pytest.raises(ValidationError, match="other data"):
        quick().fit(3, small_binary[::-1], resume_from=path, progress=False)
    with pytest.raises(ValidationError, match="batch_size"):
        quick(batch_size=5).fit(3, small_binary, resume_from=path, progress=False)
    with pytest.raises(ValidationError, match="written by ContrastiveDivergence"):
        ExactGradient(epochs=3, monitor=None).fit(3, small_binary, resume_from=path, progress=False)
    junk = tmp_path / "junk.npz"
    np.savez(junk, a=np.zeros(2))
    with pytest.raises(ModelFileError):
        quick().fit(3, small_binary, resume_from=junk, progress=False)


def test_generator_state_round_trips_through_json():
    for generator in (np.random.default_rng(5), np.random.Generator(np.random.MT19937(5))):
        generator.random(3)
        copy = generator_from_json(generator_state_json(generator))
        np.testing.assert_array_equal(copy.random(5), generator.random(5))


# ---------------------------------------------------------------------------- nothing lost
def test_divergence_raises_with_the_last_finite_model(engine, small_binary):
    # The decay step multiplies W by (1 - 1e6 * 1e-3) each update: |factor| ~ 1e3, float32 overflows in a few.
    trainer = quick(epochs=50, learning_rate=1e6, weight_decay=1e-3, dtype="float32", momentum=0.9)
    with pytest.raises(TrainingDivergedError) as caught:
        trainer.fit(3, small_binary, rng=0, progress=False)
    error = caught.value
    assert error.epoch >= 1
    assert len(error.history) == error.epoch - 1
    model = error.model
    assert isinstance(model, RestrictedBoltzmannMachine)
    assert np.all(np.isfinite(model.weights)) and np.all(np.isfinite(model.visible_bias))


def test_keyboard_interrupt_returns_the_model_so_far(engine, small_binary):
    seen = {}

    def interrupt_at_three(epoch, model, history):
        seen[epoch] = model
        if epoch == 3:
            raise KeyboardInterrupt

    result = quick(epochs=10).fit(3, small_binary, rng=0, callbacks=[interrupt_at_three], progress=False)
    assert result.stop_reason == "interrupted"
    assert len(result.history) == 3
    assert result.model is seen[3]


def test_every_callback_sees_the_stopping_epoch(engine, small_binary):
    calls = []
    result = quick(epochs=10).fit(
        3, small_binary, rng=0, progress=False,
        callbacks=[lambda e, m, h: e == 2, lambda e, m, h: calls.append(e)],
    )
    assert result.stop_reason == "callback" and len(result.history) == 2
    assert calls == [1, 2]
