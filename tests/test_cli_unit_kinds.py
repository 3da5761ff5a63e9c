"""The command line with Potts machines, categorical and Gaussian-Bernoulli RBMs."""

import io

import numpy as np
import pandas as pd
import pytest

from pgm_energy import CategoricalRBM, PottsMachine, exact
from pgm_energy.cli import main
from pgm_energy.models import GaussianBernoulliRBM


def potts(path):
    g = np.random.default_rng(0)
    model = PottsMachine([3, 2, 3], [g.normal(size=3), g.normal(size=2), g.normal(size=3)],
                         {(0, 1): g.normal(size=(3, 2)), (1, 2): g.normal(size=(2, 3))},
                         state_names={"v0": ["red", "green", "blue"]})
    model.save(path)
    return model


def test_sample_writes_state_names_and_takes_evidence_by_state_name(tmp_path, capsys):
    path = tmp_path / "potts.npz"
    potts(path)
    assert main(["sample", str(path), "-n", "4", "--chains", "2", "--burn-in", "3", "--seed", "1",
                 "--evidence", "v0=green", "--no-progress"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert frame.columns.tolist() == ["v0", "v1", "v2"] and len(frame) == 8
    assert (frame["v0"] == "green").all()
    assert set(frame["v2"]) <= {0, 1, 2}
    output = tmp_path / "draws.npy"
    assert main(["sample", str(path), "-n", "4", "--seed", "1", "--evidence", "v0=2", "-o", str(output),
                 "--no-progress"]) == 0
    states = np.load(output)
    assert states.shape == (1, 4, 3) and (states[:, :, 0] == 2).all()  # an index as pgmpy accepts it too


def test_sample_of_a_gaussian_rbm_writes_every_bit_of_the_real_values(tmp_path, capsys):
    path = tmp_path / "gaussian.npz"
    GaussianBernoulliRBM.random(3, 2, scale=0.5, rng=0).save(path)
    arguments = ["sample", str(path), "-n", "5", "--chains", "2", "--burn-in", "2", "--seed", "4", "--no-progress",
                 "--evidence", "v1=0.25"]
    assert main(arguments) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    output = tmp_path / "draws.npy"
    assert main([*arguments, "-o", str(output)]) == 0
    states = np.load(output)
    np.testing.assert_array_equal(frame.to_numpy(), states.reshape(-1, 5))  # %.17g: the exact doubles
    assert (states[:, :, 1] == 0.25).all() and set(np.unique(states[:, :, 3:])) <= {0.0, 1.0}


def test_logz_of_every_kind_is_exact_when_small_and_ais_for_the_rbms(tmp_path, capsys):
    path = tmp_path / "potts.npz"
    model = potts(path)
    assert main(["logz", str(path)]) == 0
    assert float(capsys.readouterr().out.split()[3]) == pytest.approx(exact.log_partition_function(model), abs=1e-8)
    g = np.random.default_rng(2)
    rbm = CategoricalRBM(g.normal(0, 0.5, (5, 3)), g.normal(size=5), g.normal(size=3), cardinalities=[3, 2])
    rbm.save(tmp_path / "crbm.npz")
    assert main(["logz", str(tmp_path / "crbm.npz"), "--method", "ais", "--runs", "50", "--seed", "0"]) == 0
    words = capsys.readouterr().out.split()
    estimate, spread = float(words[3]), float(words[5])
    assert abs(estimate - exact.log_partition_function(rbm)) < 4 * spread + 0.02
    gaussian = GaussianBernoulliRBM.random(3, 2, rng=1)
    gaussian.save(tmp_path / "grbm.npz")
    assert main(["logz", str(tmp_path / "grbm.npz")]) == 0
    assert "exact" in capsys.readouterr().out
    assert main(["logz", str(tmp_path / "grbm.npz"), "--method", "ais", "--data", str(tmp_path / "x.npy")]) == 2
    assert "--data" in capsys.readouterr().err


def test_bad_evidence_values_are_named(tmp_path, capsys):
    path = tmp_path / "potts.npz"
    potts(path)
    assert main(["sample", str(path), "-n", "2", "--no-progress", "--evidence", "v0=purple"]) == 2
    assert "v0=purple" in capsys.readouterr().err
    assert main(["sample", str(path), "-n", "2", "--no-progress", "--evidence", "v0"]) == 2
    assert "name=value" in capsys.readouterr().err
    assert main(["sample", str(path), "-n", "2", "--no-progress", "--evidence", "v0=nan"]) == 2
    assert "finite" in capsys.readouterr().err
