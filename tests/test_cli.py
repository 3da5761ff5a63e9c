"""The pgm-energy command line."""

import io

import numpy as np
import pytest
from scipy.special import logsumexp

from pgm_energy import RestrictedBoltzmannMachine
from pgm_energy.cli import main
from pgm_energy.demo import run_demo
from pgm_energy.datasets import load_digits


def test_demo_figures_are_consistent_with_an_independent_computation(tmp_path):
    out = io.StringIO()
    figures = run_demo(n_hidden=6, epochs=3, seed=3, output_dir=tmp_path / "figures", progress=False, out=out)
    text = out.getvalue()
    for heading in ("Data", "Training", "exact and annealed importance sampling", "Figures", "A deep belief network", "hidden causes", "Sampling"):
        assert heading in text
    assert "check_model() passed" in text
    split = load_digits(test_size=0.2, rng=0)
    # independent pixels, recomputed: Laplace-smoothed frequencies
    p = (split.train.sum(axis=0) + 1) / (len(split.train) + 2)
    assert figures["baseline"] == pytest.approx(np.mean(np.log(np.where(split.test == 1, p, 1 - p)).sum(axis=1)))
    # the trained model's log Z and test log-likelihood by brute force over the 6 hidden units
    rbm = figures["model"]
    hidden = np.array(np.meshgrid(*[[0, 1]] * 6, indexing="ij")).reshape(6, -1).T
    log_terms = hidden @ rbm.hidden_bias + np.logaddexp(0.0, hidden @ rbm.weights.T + rbm.visible_bias).sum(axis=1)
    log_z = logsumexp(log_terms)
    assert figures["log_z"] == pytest.approx(log_z, rel=1e-12)
    joint = split.test.astype(float) @ rbm.visible_bias + np.logaddexp(0.0, split.test @ rbm.weights + rbm.hidden_bias).sum(axis=1)
    assert figures["test_log_likelihood"] == pytest.approx(np.mean(joint) - log_z, rel=1e-10)
    estimate = figures["ais"]
    assert abs(estimate.log_z - log_z) <= 4 * estimate.log_z_std + 0.05
    assert figures["posterior"].sum() == pytest.approx(1.0)
    network = figures["deep_belief"]
    assert np.isfinite(network["greedy_bound"].mean) and np.isfinite(network["tuned_bound"].mean)
    assert network["greedy_bound"].log_z_method == "exact"
    assert set(figures["figures"]) == {"filters", "samples", "deep_belief_samples"}
    for path in figures["figures"].values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_main_runs_the_demo(tmp_path, capsys):
    assert main(["demo", "--hidden", "3", "--epochs", "2", "--output-dir", str(tmp_path), "--no-progress"]) == 0
    assert "AIS   log Z" in capsys.readouterr().out
    assert (tmp_path / "filters.png").exists() and (tmp_path / "samples.png").exists()


@pytest.mark.parametrize(
    "arguments",
    [["demo", "--hidden", "0"], ["demo", "--hidden", "21"], ["demo", "--epochs", "0"], ["nonsense"], ["train", "x.npy"]],
)
def test_main_rejects_bad_arguments(arguments, capsys):
    assert main(arguments) == 2
    assert capsys.readouterr().err.startswith("pgm-energy: error: ")


def test_train_then_logz_from_csv_and_npy(tmp_path, capsys):
    data = load_digits().data[:200, :12]
    names = [f"pixel{i}" for i in range(12)]
    import pandas as pd

    pd.DataFrame(data, columns=names).to_csv(tmp_path / "data.csv", index=False)
    np.save(tmp_path / "data.npy", data)
    model_path = tmp_path / "model.npz"
    assert main(["train", str(tmp_path / "data.csv"), "--hidden", "3", "--epochs", "2", "-o", str(model_path), "--seed", "1", "--no-progress"]) == 0
    assert "completed: 2 epochs" in capsys.readouterr().out
    from pgm_energy import exact, load

    model = load(model_path)
    assert model.visible_names == tuple(names) and model.n_hidden == 3
    assert main(["logz", str(model_path), "--method", "exact"]) == 0
    printed = capsys.readouterr().out
    assert float(printed.split("=")[1].split()[0]) == pytest.approx(exact.log_partition_function(model), rel=1e-9)
    assert main(["logz", str(model_path), "--method", "ais", "--runs", "20", "--seed", "0", "--data", str(tmp_path / "data.npy")]) == 0
    ais_line = capsys.readouterr().out
    assert "AIS, 20 runs, data base" in ais_line
    assert float(ais_line.split("=")[1].split()[0]) == pytest.approx(exact.log_partition_function(model), abs=0.1)


def test_train_refuses_unknown_data_format(tmp_path, capsys):
    assert main(["train", str(tmp_path / "data.txt"), "--hidden", "3", "-o", str(tmp_path / "m.npz")]) == 2
    assert "must end in .npy or .csv" in capsys.readouterr().err


def test_sample_writes_csv_and_npy_with_the_model_names(tmp_path, capsys):
    model_path = tmp_path / "model.npz"
    RestrictedBoltzmannMachine.random(4, 2, scale=1.0, rng=0).save(model_path)
    assert main(["sample", str(model_path), "-n", "5", "--chains", "3", "--burn-in", "2", "--seed", "7", "--no-progress"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "v0,v1,v2,v3,h0,h1"
    assert len(lines) == 1 + 3 * 5
    assert all(set(line.split(",")) <= {"0", "1"} for line in lines[1:])
    output = tmp_path / "draws.npy"
    assert main(["sample", str(model_path), "-n", "5", "--chains", "3", "--seed", "7", "--evidence", "v1=1", "-o", str(output), "--no-progress"]) == 0
    states = np.load(output)
    assert states.shape == (3, 5, 6) and states.dtype == np.uint8
    assert np.all(states[:, :, 1] == 1)


@pytest.mark.parametrize(
    "extra, message",
    [(["--evidence", "nope=1"], "nope"), (["--evidence", "v0=2"], "v0=2"), (["-o", "draws.txt"], "draws.txt")],
)
def test_sample_reports_bad_arguments(tmp_path, capsys, extra, message):
    model_path = tmp_path / "model.npz"
    RestrictedBoltzmannMachine.random(4, 2, rng=0).save(model_path)
    assert main(["sample", str(model_path), "-n", "2", "--no-progress", *extra]) == 2
    assert message in capsys.readouterr().err


def test_the_demo_compiles_ahead_in_a_second_process_and_stops_it(monkeypatch):
    from pgm_energy import _warmup, demo

    started = []

    class Helper:
        def __init__(self, argv, **kwargs):
            self.argv, self.killed, self.waited = argv, False, False
            started.append(self)

        def kill(self):
            self.killed = True

        def wait(self):
            self.waited = True

    monkeypatch.setattr("subprocess.Popen", Helper)
    monkeypatch.setattr(__import__("os"), "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(_warmup, "cache_location", lambda: _warmup.CacheLocation("/cache", "NUMBA_CACHE_DIR", True))
    run_demo(n_hidden=3, epochs=1, seed=0, output_dir=None, progress=False, out=io.StringIO())
    helper, = started
    assert "_compile_later_sections(3)" in helper.argv[-1] and helper.killed and helper.waited

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "_run_sections", interrupted)  # Ctrl-C in the middle: the helper is stopped too
    with pytest.raises(KeyboardInterrupt):
        run_demo(n_hidden=3, epochs=1, seed=0, output_dir=None, progress=False, out=io.StringIO())
    assert len(started) == 2 and started[1].killed and started[1].waited
    # one core, or a cache it cannot write: no helper (it would only repeat the work)
    monkeypatch.setattr(__import__("os"), "sched_getaffinity", lambda pid: {0})
    assert demo._start_compiling_ahead(3) is None
    monkeypatch.setattr(__import__("os"), "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(_warmup, "cache_location", lambda: _warmup.CacheLocation("/cache", "user cache", False))
    assert demo._start_compiling_ahead(3) is None


def test_the_compile_ahead_stand_ins_run():
    # the stand-ins of the later sections run: their shapes and options are ones the public calls accept
    from pgm_energy.demo import _compile_later_sections

    _compile_later_sections(5)


def test_the_compile_ahead_helper_imports_the_running_package_whatever_the_working_directory(tmp_path):
    # A decoy package in the working directory (as a source checkout beside an installed copy):
    # `python -c` would import it first; the helper must compile the package that is running.
    import subprocess
    import sys

    import pgm_energy
    from pgm_energy import demo

    decoy = tmp_path / "pgm_energy"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise ImportError('the decoy was imported')\n")
    command = demo._this_package_command("import pgm_energy; print(pgm_energy.__file__)")
    assert command[0] == sys.executable
    answer = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.strip() == pgm_energy.__file__
