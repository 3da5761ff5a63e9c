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
