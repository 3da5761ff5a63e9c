"""The pgm-energy command line."""

import io

import numpy as np
import pytest
from scipy.special import logsumexp

from pgm_energy import RestrictedBoltzmannMachine
from pgm_energy.cli import main, run_demo
from pgm_energy.datasets import load_digits


def test_demo_figures_are_consistent_with_an_independent_computation():
    out = io.StringIO()
    figures = run_demo(n_hidden=6, seed=3, n_digits=3, out=out)
    text = out.getvalue()
    for heading in ("Model", "Exact partition function", "Free energy of real digits", "Hidden causes"):
        assert heading in text
    assert "check_model() passed" in text
    # Rebuild the demo's model by its documented recipe and compute log Z by brute force over h.
    data = load_digits().data
    frequency = np.clip(data.mean(axis=0), 0.01, 0.99)
    base = RestrictedBoltzmannMachine.random(64, 6, scale=0.1, rng=3)
    hidden = np.array(np.meshgrid(*[[0, 1]] * 6, indexing="ij")).reshape(6, -1).T
    log_terms = hidden @ base.hidden_bias + np.logaddexp(
        0.0, hidden @ base.weights.T + np.log(frequency / (1 - frequency))
    ).sum(axis=1)
    assert figures["log_z"] == pytest.approx(logsumexp(log_terms), rel=1e-12)
    np.testing.assert_allclose(figures["log_probabilities"], -figures["free_energies"] - figures["log_z"])
    assert np.all(figures["log_probabilities"] < 0)
    assert figures["posterior"].sum() == pytest.approx(1.0)


def test_main_runs_the_demo(capsys):
    assert main(["demo", "--hidden", "4", "--digits", "1"]) == 0
    assert "log Z =" in capsys.readouterr().out


@pytest.mark.parametrize("arguments", [["demo", "--hidden", "0"], ["demo", "--hidden", "31"], ["demo", "--digits", "0"], ["nonsense"]])
def test_main_rejects_bad_arguments(arguments, capsys):
    with pytest.raises(SystemExit) as raised:
        main(arguments)
    assert raised.value.code == 2


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
    with pytest.raises(SystemExit) as raised:
        main(["sample", str(model_path), "-n", "2", "--no-progress", *extra])
    assert raised.value.code == 2
    assert message in capsys.readouterr().err
