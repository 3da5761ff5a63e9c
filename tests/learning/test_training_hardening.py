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
    ContrastiveDivergence(epochs=4, batch_size=10, monitor=None, averaging=None, checkpoint_every=4,
                          checkpoint_path=plain).fit(3, data, rng=5, progress=False)
    with pytest.raises(ValidationError, match="epoch 4, beyond .*epochs=2"):
        ContrastiveDivergence(epochs=2, batch_size=10, monitor=None, averaging=None).fit(
            3, data, resume_from=plain, progress=False)
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
    from pgm_energy.learning import _checkpoint

    data = _data()
    options = dict(epochs=6, batch_size=10, monitor=None)
    seen, remember = _epochs_seen()
    full = ContrastiveDivergence(**options).fit(3, data, rng=1, callbacks=[remember], progress=False)
    path = tmp_path / "run.npz"
    real_write = _checkpoint.atomic_savez
    calls = []

    def full_disk(target, arrays):
        calls.append(target)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(target, arrays)

    monkeypatch.setattr(_checkpoint, "atomic_savez", full_disk)
    trainer = ContrastiveDivergence(**options, checkpoint_every=2, checkpoint_path=path)
    with pytest.raises(CheckpointWriteError, match="epoch 4.*No space left") as caught:
        trainer.fit(3, data, rng=1, progress=False)
    error = caught.value
    assert isinstance(error, OSError) and error.errno == errno.ENOSPC and error.epoch == 4 and len(error.history) == 4
    assert np.array_equal(error.model.weights, seen[3].weights)
    monkeypatch.setattr(_checkpoint, "atomic_savez", real_write)
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


# ---------------------------------------------------------------------------- item 8: tampered checkpoints
def _pcd(**options):
    return ContrastiveDivergence(epochs=4, batch_size=10, monitor=None, persistent=True, dtype="float64", **options)


@pytest.fixture(scope="module")
def pcd_checkpoint(tmp_path_factory):
    """The members of an intact PCD checkpoint (epoch 2 of 4) and its data."""
    path = tmp_path_factory.mktemp("checkpoint") / "run.npz"
    data = _data()
    _pcd(checkpoint_every=2, checkpoint_path=path).fit(3, data, rng=3, callbacks=[lambda e, m, h: e == 2], progress=False)
    with np.load(path, allow_pickle=False) as content:
        return {key: content[key] for key in content.files}, data


def _replace(key, value):
    return lambda members: members.update({key: value(members[key]) if callable(value) else value})


def _drop(key):
    return lambda members: members.pop(key)


TAMPERING = {
    # before: KeyError
    "missing rng_state": (_drop("rng_state"), "'rng_state' is missing"),
    "missing velocity": (_drop("state__cd_weights_velocity"), "lacks \\['cd_weights_velocity'\\]"),
    "missing model weights": (_drop("model__weights"), "model is unreadable"),
    "missing history epoch": (_drop("history__epoch"), "number the epochs"),
    # before: JSONDecodeError / KeyError / TypeError from the generator
    "settings not JSON": (_replace("settings", np.array("{batch_size: 10")), "'settings' is not valid JSON"),
    "settings a list": (_replace("settings", np.array("[1, 2]")), "'settings' must be a JSON object"),
    "rng_state not JSON": (_replace("rng_state", np.array("{")), "rng_state"),
    "rng_state without state": (_replace("rng_state", np.array('{"bit_generator": "PCG64"}')), "rng_state"),
    "rng_state huge text array": (
        _replace("rng_state", np.array('{"bit_generator": "MT19937", "state": {"key": {"__ndarray__": ["a"], '
                                       '"dtype": "<U200000000"}, "pos": 0}}')),
        "integer arrays, not <U200000000"),
    "settings nested too deep": (_replace("settings", np.array("[" * 100000 + "]" * 100000)), "not valid JSON"),
    # before: a Numba TypingError
    "chains reshaped": (_replace("state__cd_chains", lambda a: a.ravel()), "'cd_chains' must be float64 of shape"),
    # before: broadcast silently, and the run resumed differently
    "velocity broadcasts": (_replace("state__cd_weights_velocity", lambda a: a[:1]), "'cd_weights_velocity' must be"),
    "hidden bias broadcasts": (_replace("state__cd_hidden_bias", lambda a: a[:1]), "'cd_hidden_bias' must be"),
    # wrong dtypes, 0-d arrays
    "streams as int64": (_replace("state__cd_streams", lambda a: a.astype(np.int64)), "'cd_streams' must be uint64"),
    "weights as float32": (_replace("state__cd_weights", lambda a: a.astype(np.float32)), "'cd_weights' must be float64"),
    "epoch 1-d": (_replace("epoch", lambda a: a.reshape(1)), "'epoch' must be an integer scalar"),
    "trainer 0-d number": (_replace("trainer", np.array(3.0)), "'trainer' must be a text scalar"),
    "sum_count 0-d": (_replace("state__sum_count", lambda a: a.reshape(())), "'sum_count' must be int64 of shape \\(1,\\)"),
    "history 0-d": (_replace("history__seconds", np.array(1.0)), "history 'seconds' must be float64 of shape \\(2,\\)"),
    "marker a string": (_replace("__pgm_energy_checkpoint__", np.array("1")), "not a pgm_energy training checkpoint"),
    "epoch 0": (_replace("epoch", np.array(0)), "'epoch' must be a completed epoch"),
    # values: NaN, non-binary chains, zero streams, counts
    "NaN weight": (_replace("state__cd_weights", lambda a: np.where(a == a.flat[0], np.nan, a)), "'cd_weights' holds NaN"),
    "chain of 2": (_replace("state__cd_chains", lambda a: a + 2), "'cd_chains' must hold 0/1"),
    "zero stream": (_replace("state__cd_streams", lambda a: np.zeros_like(a)), "'cd_streams' \\(random streams\\) holds a zero"),
    "sum_count tampered": (_replace("state__sum_count", np.array([5])), "'sum_count' must be 0"),
    "model kind bm": (_replace("model_kind", np.array("bm")), "model of kind 'bm'"),
    "monitor_seed negative": (_replace("monitor_seed", np.array(-1)), "'monitor_seed' must be in"),
    "model altered": (_replace("model__weights", lambda a: a + 1e-3), "not the model of its training state"),
    "weights beyond the bound": (_replace("state__cd_weights", lambda a: a + 1e15), "beyond the runaway bound"),
    "activity out of [0, 1]": (_replace("state__cd_hidden_activity", lambda a: a + 2), "'cd_hidden_activity'"),
    "sums without a count": (_replace("state__sum_weights", lambda a: a + 1), "'sum_weights' is beyond 0 times"),
    "extra state": (_replace("state__pt_betas", np.ones(2)), "unexpected \\['pt_betas'\\]"),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampered_checkpoint_is_refused_naming_the_problem(pcd_checkpoint, tmp_path, case):
    from pgm_energy.exceptions import ModelFileError

    members, data = pcd_checkpoint
    members = {key: value.copy() for key, value in members.items()}
    tamper, message = TAMPERING[case]
    tamper(members)
    path = tmp_path / "tampered.npz"
    np.savez(path, **members)
    with pytest.raises(ModelFileError, match=message):
        _pcd().fit(3, data, resume_from=path, progress=False)


def test_intact_checkpoint_still_resumes_and_damaged_bytes_are_refused(pcd_checkpoint, tmp_path):
    from pgm_energy.exceptions import ModelFileError

    members, data = pcd_checkpoint
    path = tmp_path / "intact.npz"
    np.savez(path, **members)
    full = _pcd().fit(3, data, rng=3, progress=False)
    assert np.array_equal(_pcd().fit(3, data, resume_from=path, progress=False).model.weights, full.model.weights)
    # settings that change the state's layout are the user's choice: a ValidationError naming them
    with pytest.raises(ValidationError, match="n_chains"):
        _pcd(n_chains=7).fit(3, data, resume_from=path, progress=False)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelFileError, match="training checkpoint"):
        _pcd().fit(3, data, resume_from=path, progress=False)


def test_tampered_boltzmann_and_lbfgs_checkpoints_are_refused(tmp_path):
    from pgm_energy.exceptions import ModelFileError

    data = _data(rows=20, columns=4)
    path = tmp_path / "bm.npz"
    options = dict(epochs=2, batch_size=5, monitor=None, burn_in=1)
    BoltzmannLearning(**options, checkpoint_every=1, checkpoint_path=path).fit(2, data, rng=0, progress=False)
    with np.load(path) as content:
        members = {key: content[key] for key in content.files}
    for key, value, message in [
        ("state__edge_rows", members["state__edge_rows"][::-1].copy(), "learned edges"),
        ("state__clamped", members["state__clamped"] * 5, "'clamped' must hold 0/1"),
        ("state__fantasy", members["state__fantasy"][:, :3], "'fantasy' must be uint8 of shape"),
    ]:
        np.savez(path, **{**members, key: value})
        with pytest.raises(ModelFileError, match=message):
            BoltzmannLearning(**options).fit(2, data, resume_from=path, progress=False)
    trainer = ExactGradient(method="lbfgs", epochs=2, memory=3, monitor=None, checkpoint_every=1, checkpoint_path=path)
    trainer.fit(2, data, rng=0, progress=False)
    with np.load(path) as content:
        members = {key: content[key] for key in content.files}
    for key, value, message in [
        ("state__n_pairs", np.array([9]), "'n_pairs' must be at most memory=3"),
        ("state__objective", members["state__objective"] - 1.0, "'objective' and 'gradient' are not those"),
    ]:
        np.savez(path, **{**members, key: value})
        with pytest.raises(ModelFileError, match=message):
            ExactGradient(method="lbfgs", epochs=2, memory=3, monitor=None).fit(2, data, resume_from=path, progress=False)


# ---------------------------------------------------------------------------- item 5: chunked long calls
@pytest.mark.parametrize("persistent", [False, True])
def test_numba_epoch_in_chunks_is_bit_identical_to_one_call(monkeypatch, persistent):
    from pgm_energy import _launch
    from pgm_energy._kernels import cd as kernels
    from pgm_energy.learning import _cd_engine

    data = _data(rows=50).astype(np.float32)
    order = np.random.default_rng(2).permutation(50).astype(np.int64)
    options = dict(learning_rate=0.1, momentum=0.5, weight_decay=1e-4, sparsity_target=0.1, sparsity_cost=0.01)

    def fresh():
        return _cd_engine.new_state(np.full((6, 3), 0.05), np.zeros(6), np.zeros(3), n_chains=10 if persistent else 0,
                                    n_streams=10, dtype=np.float32, rng=np.random.default_rng(1))

    monkeypatch.setattr(_launch, "TARGET_SECONDS", 0.0)  # one batch per kernel call
    chunked = fresh()
    error = _cd_engine.cd_epoch(chunked, data, order, batch_size=10, k=2, persistent=persistent, path="numba", **options)
    whole = fresh()  # the whole epoch in one kernel call
    expected = kernels.train_epoch(whole, data, order, kernels.EpochSettings(10, 2, persistent, True),
                                   kernels.UpdateSettings(0.1, 0.5, 1e-4, 0.01, 0.1, 0.95), 0.0,
                                   np.empty((10 if persistent else 0, 3), dtype=np.float32), False)
    assert error == expected
    for a, b in zip(chunked, whole):
        assert np.array_equal(a, b)


def test_boltzmann_sweeps_in_chunks_are_bit_identical(monkeypatch):
    from pgm_energy import _launch

    data = _data(rows=30, columns=4)
    models = []
    for target in (0.0, 1e9):  # one chain per kernel call / as few calls as the launcher makes
        monkeypatch.setattr(_launch, "TARGET_SECONDS", target)
        trainer = BoltzmannLearning(epochs=2, batch_size=None, burn_in=3, sweeps=2, monitor=None)
        models.append(trainer.fit(2, data, rng=4, progress=False).model)
    assert np.array_equal(models[0].weights, models[1].weights) and np.array_equal(models[0].biases, models[1].biases)


def test_resume_from_errors_name_the_parameter(tmp_path):
    # Before: FileNotFoundError / ModelFileError messages named only the path.
    from pgm_energy.exceptions import ModelFileError

    trainer = _pcd()
    with pytest.raises(FileNotFoundError, match="resume_from=.*no such checkpoint file"):
        trainer.fit(3, _data(), resume_from=tmp_path / "missing.npz", progress=False)
    with pytest.raises(ModelFileError, match="resume_from=.*it is a directory"):
        trainer.fit(3, _data(), resume_from=tmp_path, progress=False)
    with pytest.raises(ValidationError, match="resume_from must name a checkpoint file"):
        trainer.fit(3, _data(), resume_from="", progress=False)


# ---------------------------------------------------------------------------- fuzz findings in the learning modules
def test_public_helpers_refuse_junk_with_named_errors():
    # Before: AttributeError, IndexError, KeyError, TypingError, NaN results or an abort.
    from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine
    from pgm_energy.exceptions import PGMEnergyError, UnknownMetricError
    from pgm_energy.learning import TrainingHistory, boltzmann
    from pgm_energy.learning.contrastive_divergence import hinton_momentum, initial_rbm
    from pgm_energy.learning.exact_gradient import log_likelihood_gradient

    weights = np.zeros((4, 4))
    weights[0, 2] = weights[2, 0] = weights[1, 3] = weights[3, 1] = 0.1
    machine = BoltzmannMachine(weights, np.zeros(4), visible=[True, True, False, False])
    graph, edges = boltzmann.prepare_graph(machine, np.asarray(machine.visible))
    data = np.array([[0, 1], [1, 1]])
    chains = boltzmann.new_chains(graph, data, n_clamped=2, n_chains=2, generator=np.random.default_rng(0))
    history = TrainingHistory([{"epoch": 1, "loss": 0.5}])
    cases = [
        (lambda: history[None], "metric"),
        (lambda: history.last("missing"), "metric 'missing'"),
        (lambda: TrainingHistory(None), "records"),
        (lambda: TrainingHistory.from_arrays([1.0]), "arrays"),
        (lambda: TrainingHistory.from_arrays({"loss": np.ones(2)}), "'epoch'"),
        (lambda: history.append({"epoch": 2, "loss": "high"}), "record\\['loss'\\]"),
        (lambda: hinton_momentum(None), "epoch"),
        (lambda: initial_rbm(2, "data", None, 0), "data"),
        (lambda: initial_rbm(2, np.zeros((3, 2)), ["a"], 0), "visible_names must name the 2 columns of data"),
        (lambda: initial_rbm(2, np.zeros((3, 2)), None, "rng"), "rng"),
        (lambda: log_likelihood_gradient(RestrictedBoltzmannMachine.random(2, 2, rng=0), {1, 2}), "data"),
        (lambda: boltzmann.prepare_graph("model", None), "model"),
        (lambda: boltzmann.resolve_visible([1, 2], None), "model"),
        (lambda: boltzmann.resolve_visible(machine, np.array(1.0)), "visible"),
        (lambda: boltzmann.burn_in(graph, edges, np.zeros(4), 1.0, chains, data, np.arange(2), 10**12), "sweeps"),
        (lambda: BoltzmannLearning(burn_in=10**12), "burn_in"),
        (lambda: initial_rbm(2**63, np.zeros((3, 2)), None, 0), "n_hidden"),
        (lambda: boltzmann.graph_from_edges(4, [0, [1, 2]], [1, 2], np.ones(4, bool)), "rows"),
        (lambda: boltzmann.graph_from_edges(4, [1, 0], [2, 1], np.ones(4, bool)), "row-major"),
        (lambda: boltzmann.new_chains(graph, data, n_clamped=2, n_chains="2", generator=np.random.default_rng(0)), "n_chains"),
        (lambda: boltzmann.new_chains(graph, data, n_clamped=2**40, n_chains=1, generator=np.random.default_rng(0)), "n_clamped"),
        (lambda: boltzmann.burn_in(2**63, edges, np.zeros(4), 1.0, chains, data, np.arange(2), 1), "graph"),
        (lambda: boltzmann.burn_in(graph, edges, np.zeros(4), "1", chains, data, np.arange(2), 1), "beta"),
        (lambda: boltzmann.burn_in(graph, edges, np.zeros(4), 1.0, chains, data, np.array([0, 0]), 1), "rows"),
        (lambda: boltzmann.estimate_gradient(graph, edges, [np.nan, 0, 0, 0], 1.0, data, np.arange(2), chains, sweeps=1), "biases"),
        (lambda: boltzmann.estimate_gradient(graph, edges, np.zeros(4), 1.0, data[:, :1], np.arange(2), chains, sweeps=1), "batch"),
        (lambda: boltzmann.estimate_gradient(graph, edges, np.zeros(4), 1.0, data, np.arange(2), chains._replace(
            fantasy=chains.fantasy * 3), sweeps=1), "chains.fantasy"),
        (lambda: boltzmann.phase_statistics(graph, None, np.zeros(4), 1.0, np.zeros((1, 4)), [0], "conditional"), "storage"),
    ]
    for call, message in cases:
        with pytest.raises(PGMEnergyError, match=message) as caught:
            call()
        assert isinstance(caught.value, (ValueError, TypeError)), message
    with pytest.raises(KeyError):  # an unknown metric is also a KeyError, as for a mapping
        history["missing"]
    assert issubclass(UnknownMetricError, ValueError)


def test_fit_refuses_a_model_too_large_to_create_and_junk_callbacks():
    # Before: numpy's "Maximum allowed dimension exceeded" / MemoryError, scipy's error for a sparse "callbacks".
    import scipy.sparse as sp

    with pytest.raises(ValidationError, match="model_or_size=.*more than"):
        ContrastiveDivergence(epochs=1, monitor=None).fit(2**40, _data(), rng=0, progress=False)
    with pytest.raises(ValidationError, match="model_or_size=.*more than"):
        BoltzmannLearning(epochs=1, monitor=None).fit(2**20, _data(), rng=0, progress=False)
    from pgm_energy.exceptions import ParameterTypeError

    with pytest.raises(ParameterTypeError, match="callbacks"):
        ContrastiveDivergence(epochs=1, monitor=None).fit(2, _data(), callbacks=sp.eye(2, format="csr"), progress=False)
