"""Issue 11 (hardening) for the trainers: resume at the end, runaway divergence, checkpoints.

Every test here failed before its fix (see the comment on each).
"""

from __future__ import annotations

import numpy as np
import pytest

from pgm_energy.exceptions import TrainingDivergedError, ValidationError
from pgm_energy.learning import ContrastiveDivergence, ExactGradient
from pgm_energy.learning._trainer import RUNAWAY_BOUND
from pgm_energy.learning.boltzmann import BoltzmannLearning


def _data(rows=40, columns=6, seed=0):
    return np.random.default_rng(seed).integers(0, 2, size=(rows, columns)).astype(np.uint8)


# ---------------------------------------------------------------------------- item 4: resume at the end
@pytest.mark.parametrize("averaging", [2, 0.5])
def test_resuming_a_finished_averaged_run_returns_the_averaged_model(tmp_path, averaging):
    # Before: the resumed run (no epoch left) returned the last, un-averaged parameters.
    data = _data()
    options = dict(epochs=4, batch_size=10, monitor=None, persistent=True, averaging=averaging, learning_rate=0.1)
    path = tmp_path / "run.npz"
    full = ContrastiveDivergence(**options, checkpoint_every=2, checkpoint_path=path).fit(3, data, rng=5, progress=False)
    resumed = ContrastiveDivergence(**options).fit(3, data, resume_from=path, progress=False)
    assert resumed.stop_reason == "completed" and len(resumed.history) == 4
    for name in ("weights", "visible_bias", "hidden_bias"):
        assert np.array_equal(getattr(resumed.model, name), getattr(full.model, name))
    last = ContrastiveDivergence(**{**options, "averaging": None}).fit(3, data, rng=5, progress=False)
    assert not np.array_equal(resumed.model.weights, last.model.weights)  # the average, not the last parameters


def test_resume_refuses_a_checkpoint_beyond_epochs_or_another_averaging_window(tmp_path):
    # Before: epochs=2 "completed" from an epoch-4 checkpoint, and another averaging window
    # silently averaged the wrong epochs.
    data = _data()
    options = dict(batch_size=10, monitor=None, averaging=2)
    path = tmp_path / "run.npz"
    ContrastiveDivergence(epochs=4, **options, checkpoint_every=4, checkpoint_path=path).fit(3, data, rng=5, progress=False)
    plain = tmp_path / "plain.npz"
    ContrastiveDivergence(epochs=4, batch_size=10, monitor=None, checkpoint_every=4, checkpoint_path=plain).fit(
        3, data, rng=5, progress=False
    )
    with pytest.raises(ValidationError, match="epoch 4, beyond .*epochs=2"):
        ContrastiveDivergence(epochs=2, batch_size=10, monitor=None).fit(3, data, resume_from=plain, progress=False)
    with pytest.raises(ValidationError, match="epochs=4, this trainer has 6"):
        ContrastiveDivergence(epochs=6, **options).fit(3, data, resume_from=path, progress=False)
    with pytest.raises(ValidationError, match="averaging=2, this trainer has 3"):
        ContrastiveDivergence(epochs=4, batch_size=10, monitor=None, averaging=3).fit(3, data, resume_from=path, progress=False)


# ---------------------------------------------------------------------------- item 6: runaway growth
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_finite_runaway_growth_raises_with_the_last_good_model(dtype):
    # Before: float64 "completed" with |W| ~ 1e39 (learning_rate * weight_decay = 100 > 2).
    data = _data()
    trainer = ContrastiveDivergence(learning_rate=1e6, epochs=3, batch_size=10, dtype=dtype, monitor=None)
    seen = []
    with pytest.raises(TrainingDivergedError, match=r"a parameter reached magnitude .* runaway bound") as caught:
        trainer.fit(3, data, rng=0, callbacks=[lambda epoch, model, history: seen.append(model)], progress=False)
    error = caught.value
    assert len(error.history) == error.epoch - 1 == len(seen)
    assert error.model is (seen[-1] if seen else error.model)  # the model of the last good epoch
    assert np.abs(error.model.weights).max() <= RUNAWAY_BOUND[np.dtype(dtype)]
    assert ("dtype='float64'" in str(error)) == (dtype == "float32")  # advised only to float32 runs


@pytest.mark.parametrize("trainer", [
    ExactGradient(learning_rate=1e6, weight_decay=1e-4, epochs=8, monitor=None),
    BoltzmannLearning(learning_rate=1e6, weight_decay=1e-4, epochs=3, monitor=None, burn_in=0),
], ids=["ExactGradient", "BoltzmannLearning"])
def test_finite_runaway_growth_raises_in_the_other_trainers(trainer):
    # Before: both "completed" with finite weights of 1e8 to 1e39.
    with pytest.raises(TrainingDivergedError, match="runaway bound for float64"):
        trainer.fit(2, _data(), rng=0, progress=False)


def test_runaway_bound_spares_large_but_sane_parameters():
    # A model with weights of 1000 (far beyond any trained RBM, far below the bound) still trains.
    assert RUNAWAY_BOUND[np.dtype(np.float32)] > 1e6 and RUNAWAY_BOUND[np.dtype(np.float64)] > 1e14
    from pgm_energy import RestrictedBoltzmannMachine

    start = RestrictedBoltzmannMachine(np.full((6, 2), 1000.0), np.zeros(6), np.zeros(2))
    result = ContrastiveDivergence(epochs=2, batch_size=10, monitor=None).fit(start, _data(), rng=0, progress=False)
    assert result.stop_reason == "completed"


# ---------------------------------------------------------------------------- item 3: checkpoint paths
def _epochs_seen():
    seen = []

    def remember(epoch, model, history):
        seen.append(model)

    return seen, remember


@pytest.mark.parametrize("where", ["missing folder", "a directory"])
def test_unwritable_checkpoint_path_is_refused_before_the_first_epoch(tmp_path, where):
    # Before: training ran, then the first checkpoint raised FileNotFoundError / IsADirectoryError.
    path = tmp_path / "missing" / "run.npz" if where == "missing folder" else tmp_path
    seen, remember = _epochs_seen()
    trainer = ContrastiveDivergence(epochs=2, batch_size=10, monitor=None, checkpoint_every=1, checkpoint_path=path)
    with pytest.raises(ValidationError, match="checkpoint_path"):
        trainer.fit(3, _data(), rng=0, callbacks=[remember], progress=False)
    assert seen == []


def test_disk_full_mid_run_keeps_the_model_and_the_previous_checkpoint(tmp_path, monkeypatch):
    # Before: OSError(ENOSPC) from the writer discarded the trained model.
    import errno

    from pgm_energy.exceptions import CheckpointWriteError
    from pgm_energy.learning import _trainer

    data = _data()
    options = dict(epochs=6, batch_size=10, monitor=None)
    seen, remember = _epochs_seen()
    full = ContrastiveDivergence(**options).fit(3, data, rng=1, callbacks=[remember], progress=False)
    path = tmp_path / "run.npz"
    real_write = _trainer.atomic_savez
    calls = []

    def full_disk(target, arrays):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(target, arrays)

    monkeypatch.setattr(_trainer, "atomic_savez", full_disk)
    trainer = ContrastiveDivergence(**options, checkpoint_every=2, checkpoint_path=path)
    with pytest.raises(CheckpointWriteError, match="epoch 4.*No space left") as caught:
        trainer.fit(3, data, rng=1, progress=False)
    error = caught.value
    assert isinstance(error, OSError) and error.errno == errno.ENOSPC and error.epoch == 4 and len(error.history) == 4
    assert np.array_equal(error.model.weights, seen[3].weights)
    monkeypatch.setattr(_trainer, "atomic_savez", real_write)
    # the epoch-2 checkpoint is intact: resuming from it ends as the uninterrupted run
    resumed = ContrastiveDivergence(**options).fit(3, data, resume_from=path, progress=False)
    assert np.array_equal(resumed.model.weights, full.model.weights)


def test_checkpoint_folder_removed_mid_run_keeps_the_final_averaged_model(tmp_path):
    # Before: the error of the last checkpoint lost the (averaged) result of the whole run.
    import shutil

    from pgm_energy.exceptions import CheckpointWriteError

    data = _data()
    options = dict(epochs=3, batch_size=10, monitor=None, averaging=2)
    full = ContrastiveDivergence(**options).fit(3, data, rng=2, progress=False)
    folder = tmp_path / "run"
    folder.mkdir()

    def remove_folder(epoch, model, history):
        if epoch == 2:
            shutil.rmtree(folder)

    trainer = ContrastiveDivergence(**options, checkpoint_every=1, checkpoint_path=folder / "run.npz")
    with pytest.raises(CheckpointWriteError, match="epoch 3") as caught:
        trainer.fit(3, data, rng=2, callbacks=[remove_folder], progress=False)
    assert caught.value.epoch == 3 and np.array_equal(caught.value.model.weights, full.model.weights)
