"""Training deep Boltzmann machines: pretraining, joint mean-field PCD on the shared loop, monitors.

Quality is judged by exact log-likelihoods (the odd layers are enumerated), against a teacher
machine whose held-out log-likelihood is known exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pgm_energy import DeepBoltzmannMachine, ais, exact
from pgm_energy.exceptions import ParameterTypeError, TrainingDivergedError, ValidationError
from pgm_energy.learning import DeepBoltzmannPCD, pretrain_deep_boltzmann
from pgm_energy.learning.monitors import MeanFieldBound


PROTOTYPES = np.random.default_rng(0).random((4, 10)) < 0.5
FLIP = 0.08


def mixture_rows(n_rows, generator):
    """Rows of a known distribution: one of 4 prototype patterns, each pixel flipped with probability 0.08."""
    which = generator.integers(0, 4, n_rows)
    return (PROTOTYPES[which] ^ (generator.random((n_rows, 10)) < FLIP)).astype(np.uint8)


def true_log_likelihood(rows):
    """The exact mean log-likelihood of ``rows`` under the mixture that drew them: the best any model can do."""
    flips = (rows[:, None, :] != PROTOTYPES[None]).sum(axis=-1)
    log_p = flips * np.log(FLIP) + (10 - flips) * np.log(1 - FLIP) + np.log(0.25)
    return float(np.mean(np.logaddexp.reduce(log_p, axis=1)))


@pytest.fixture(scope="module")
def teacher_data():
    g = np.random.default_rng(0)
    return mixture_rows(2000, g), mixture_rows(500, g)


def test_pretraining_builds_the_composed_machine_and_beats_independent_units(teacher_data):
    train, test = teacher_data
    frame = pd.DataFrame(train, columns=[f"pixel{i}" for i in range(10)])
    machine, errors = pretrain_deep_boltzmann(frame, [6, 3], epochs=15, rng=0, return_errors=True)
    assert machine.layer_sizes == (10, 6, 3)
    assert machine.names[:10] == tuple(frame.columns)
    assert machine.names[10:] == tuple(f"h1_{j}" for j in range(6)) + ("h2_0", "h2_1", "h2_2")
    assert len(errors) == 2 and all(len(layer) == 15 for layer in errors)
    assert errors[0][-1] < errors[0][0]  # CD-1 reduces the reconstruction error of each RBM
    p = np.clip(train.mean(axis=0), 1e-3, 1 - 1e-3)
    independent = float(np.mean(test @ np.log(p) + (1 - test) @ np.log(1 - p)))  # -5.39
    assert exact.log_likelihood(machine, test) > independent + 0.8  # measured -4.27


def test_joint_training_approaches_the_true_log_likelihood(teacher_data):
    train, test = teacher_data
    start = pretrain_deep_boltzmann(train, [6, 3], epochs=5, rng=0)
    result = DeepBoltzmannPCD(epochs=60, batch_size=50, learning_rate=0.01, averaging=0.3, monitor="auto").fit(
        start, train, validation=test, rng=1, progress=False)
    assert result.stop_reason == "completed"
    trained = exact.log_likelihood(result.model, test)
    # the true distribution scores -4.12 on these rows; the start -4.55; measured after training: -4.2
    assert trained > exact.log_likelihood(start, test) + 0.15
    assert trained > true_log_likelihood(test) - 0.2
    # "auto" measured the exact log-likelihood (odd layer of 6 units), on both sets
    history = result.history
    assert np.isfinite(history["validation_log_likelihood"][-1]) and np.isfinite(history["log_likelihood"][-1])
    assert np.all(np.isfinite(history["mean_field_sweeps"]))


def test_resuming_from_a_checkpoint_ends_bit_for_bit_as_the_uninterrupted_run(tmp_path, teacher_data):
    data = teacher_data[0][:400]
    start = pretrain_deep_boltzmann(data, [5, 3], epochs=2, rng=0)
    options = dict(epochs=4, batch_size=40, averaging=2, monitor=None, n_chains=13, dtype="float64")
    whole = DeepBoltzmannPCD(**options).fit(start, data, rng=5, progress=False)
    path = tmp_path / "run.npz"
    first = DeepBoltzmannPCD(**options, checkpoint_every=2, checkpoint_path=path)
    stopped = first.fit(start, data, rng=5, progress=False, callbacks=[lambda epoch, model, history: epoch == 2])
    assert stopped.stop_reason == "callback"
    resumed = DeepBoltzmannPCD(**options).fit(start, data, resume_from=path, progress=False)
    for a, b in zip(whole.model.weights + whole.model.biases, resumed.model.weights + resumed.model.biases):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(whole.history["mean_field_sweeps"], resumed.history["mean_field_sweeps"])
    # a size spec that does not describe the checkpoint's machine is refused
    with pytest.raises(ValidationError, match="model_or_size"):
        DeepBoltzmannPCD(**options).fit([5, 4], data, resume_from=path, progress=False)


def test_the_bound_monitor_is_the_mean_field_bound_with_the_log_z_it_reports(teacher_data):
    train, valid = teacher_data[0][:300], teacher_data[1][:100]
    start = pretrain_deep_boltzmann(train, [5, 3], epochs=2, rng=0)
    result = DeepBoltzmannPCD(epochs=2, batch_size=50, monitor=["log_likelihood", MeanFieldBound(exact_log_z=True)],
                              dtype="float64").fit(start, train, validation=valid, rng=0, progress=False)
    model, history = result.model, result.history
    assert history["log_z"][-1] == pytest.approx(exact.log_partition_function(model), abs=1e-9)
    assert history["log_z_std"][-1] == 0.0
    expected = ais.log_likelihood_bound(model, valid, log_z=exact.log_partition_function(model)).mean
    assert history["validation_log_likelihood_bound"][-1] == pytest.approx(expected, abs=1e-9)
    assert history["validation_log_likelihood_bound"][-1] <= history["validation_log_likelihood"][-1] + 1e-9
    # by AIS: the estimate of log Z carries its spread
    result = DeepBoltzmannPCD(epochs=1, batch_size=50, monitor=[MeanFieldBound(n_runs=20, betas=200)]).fit(
        start, train, rng=0, progress=False)
    assert result.history["log_z_std"][-1] > 0
    assert abs(result.history["log_z"][-1] - exact.log_partition_function(result.model)) < 0.2


def test_a_runaway_learning_rate_raises_with_the_last_good_machine(teacher_data):
    data = teacher_data[0]
    with pytest.raises(TrainingDivergedError) as raised:
        DeepBoltzmannPCD(epochs=50, batch_size=50, learning_rate=1e12, momentum=0.0, monitor=None).fit(
            [5, 3], data[:200], rng=0, progress=False)
    assert isinstance(raised.value.model, DeepBoltzmannMachine)
    assert all(np.isfinite(w).all() for w in raised.value.model.weights)


def test_a_new_machine_from_sizes_and_data_frame_names(teacher_data):
    data = teacher_data[0]
    frame = pd.DataFrame(data[:200], columns=[f"x{i}" for i in range(10)])
    result = DeepBoltzmannPCD(epochs=1, batch_size=50, monitor=None).fit([4, 2], frame, rng=0, progress=False)
    assert result.model.layer_sizes == (10, 4, 2)
    assert result.model.visible_names == tuple(frame.columns)
    # the frame's columns are matched to a given machine's names, whatever their order
    again = DeepBoltzmannPCD(epochs=1, batch_size=50, monitor=None).fit(result.model, frame[frame.columns[::-1]],
                                                                       rng=0, progress=False)
    assert again.model.visible_names == tuple(frame.columns)


@pytest.mark.parametrize(
    "options, error, match",
    [
        ({"n_chains": 0}, ValidationError, "n_chains"),
        ({"k": 0}, ValidationError, "k"),
        ({"mean_field_iterations": 0}, ValidationError, "mean_field_iterations"),
        ({"mean_field_tolerance": -1.0}, ValidationError, "mean_field_tolerance"),
        ({"averaging": 1.5}, ValidationError, "averaging"),
        ({"averaging": "all"}, ParameterTypeError, "averaging"),
        ({"learning_rate": 0.0}, ValidationError, "learning_rate"),
        ({"monitor": "ais"}, ValidationError, "ais"),
        ({"monitor": "free_energy_gap"}, ValidationError, "free_energy_gap"),
    ],
)
def test_bad_options_are_named(options, error, match):
    with pytest.raises(error, match=match):
        DeepBoltzmannPCD(**options)


def test_bad_fit_arguments_are_named(teacher_data):
    data = teacher_data[0]
    trainer = DeepBoltzmannPCD(epochs=1, batch_size=50, monitor=None)
    with pytest.raises(ValidationError, match="at least 2 hidden layer sizes"):
        trainer.fit([5], data[:100], progress=False)
    with pytest.raises(ValidationError, match=r"model_or_size\[1\]"):
        trainer.fit([5, 0], data[:100], progress=False)
    with pytest.raises(ParameterTypeError, match="model_or_size"):
        trainer.fit("5,3", data[:100], progress=False)
    hot = DeepBoltzmannMachine.random([10, 5, 3], rng=0, temperature=2.0)
    with pytest.raises(ValidationError, match="temperature"):
        trainer.fit(hot, data[:100], progress=False)
    with pytest.raises(ValidationError, match="columns"):
        trainer.fit(DeepBoltzmannMachine.random([7, 5, 3], rng=0), data[:100], progress=False)
    with pytest.raises(ValidationError, match="hidden_sizes"):
        pretrain_deep_boltzmann(data[:100], [4])
    with pytest.raises(ValidationError, match="batch_size"):
        pretrain_deep_boltzmann(data[:10], [4, 2], batch_size=20)


def test_ctrl_c_in_the_middle_of_an_epoch_returns_the_last_completed_epochs_machine(teacher_data, monkeypatch):
    data = teacher_data[0][:200]
    start = pretrain_deep_boltzmann(data, [5, 3], epochs=2, rng=0)
    options = dict(batch_size=50, monitor=None, dtype="float64")
    two = DeepBoltzmannPCD(epochs=2, **options).fit(start, data, rng=3, progress=False)
    update, calls = DeepBoltzmannPCD._update, []

    def interrupted_in_epoch_three(self, *args):
        calls.append(1)
        if len(calls) == 2 * 4 + 2:  # 4 updates per epoch: the second update of epoch 3
            raise KeyboardInterrupt
        return update(self, *args)

    monkeypatch.setattr(DeepBoltzmannPCD, "_update", interrupted_in_epoch_three)
    result = DeepBoltzmannPCD(epochs=5, **options).fit(start, data, rng=3, progress=False)
    assert result.stop_reason == "interrupted"
    assert len(result.history) == 2
    for a, b in zip(two.model.weights + two.model.biases, result.model.weights + result.model.biases):
        np.testing.assert_array_equal(a, b)
