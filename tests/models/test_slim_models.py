"""Issue 12, slim models: models hold parameters and hand off; belief-network training is a Trainer."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pgm_energy
from pgm_energy import (
    BoltzmannMachine,
    DeepBeliefNetwork,
    ParameterTypeError,
    RestrictedBoltzmannMachine,
    SigmoidBeliefNetwork,
)
from pgm_energy._math import log_sum_exp
from pgm_energy.learning.deep_belief import UpDownFineTuning
from pgm_energy.models._base import EnergyModel


@pytest.fixture(scope="module")
def network():
    rbms = [RestrictedBoltzmannMachine.random(6, 4, scale=0.5, rng=0), RestrictedBoltzmannMachine.random(4, 3, scale=0.5, rng=1)]
    return DeepBeliefNetwork.from_rbms(rbms)


@pytest.fixture(scope="module")
def data():
    return (np.random.default_rng(2).random((12, 6)) < 0.5).astype(np.uint8)


def _same_network(a, b):
    for got, want in zip(a.weights + a.biases + a.recognition_weights + a.recognition_biases,
                         b.weights + b.biases + b.recognition_weights + b.recognition_biases):
        np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------- the base class
@pytest.mark.parametrize("method", ["sample", "predict", "predict_probability"])
def test_the_base_class_promises_no_method_a_subclass_refuses(method):
    assert not hasattr(EnergyModel, method)
    assert callable(getattr(BoltzmannMachine, method)) and callable(getattr(RestrictedBoltzmannMachine, method))
    if method != "sample":  # belief networks sample their own way and answer through query()
        assert not hasattr(SigmoidBeliefNetwork, method) and not hasattr(DeepBeliefNetwork, method)


def test_models_import_no_learning_and_no_file_is_over_500_lines():
    code = "import sys, pgm_energy.models; print(any(m.startswith('pgm_energy.learning') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
    folder = Path(pgm_energy.__file__).parent / "models"
    sizes = {path.name: len(path.read_text().splitlines()) for path in folder.glob("*.py")}
    assert max(sizes.values()) <= 500, sizes


def test_log_sum_exp_of_nothing_but_minus_infinity():
    assert log_sum_exp(np.full(3, -np.inf)) == -np.inf
    values = np.array([[-np.inf, -np.inf], [0.0, np.log(3.0)]])
    np.testing.assert_allclose(log_sum_exp(values, axis=1), [-np.inf, np.log(4.0)])


# --------------------------------------------------------------------------- up-down fine-tuning
def test_the_trainer_is_what_fine_tune_does(network, data):
    options = dict(epochs=3, learning_rate=0.05, k=2, batch_size=5, weight_decay=0.001)
    result = UpDownFineTuning(**options).fit(network, data, rng=4, progress=False)
    _same_network(result.model, network.fine_tune(data, rng=4, **options))
    assert result.stop_reason == "completed" and list(result.history.to_arrays()["epoch"]) == [1, 2, 3]
    assert not result.model.is_tied and network.is_tied  # the network given is unchanged


def test_resumed_fine_tuning_ends_as_the_uninterrupted_run(network, data, tmp_path):
    path = tmp_path / "checkpoint.npz"
    whole = UpDownFineTuning(epochs=4, batch_size=5).fit(network, data, rng=5, progress=False).model
    UpDownFineTuning(epochs=2, batch_size=5, checkpoint_every=2, checkpoint_path=path).fit(
        network, data, rng=5, progress=False)
    resumed = UpDownFineTuning(epochs=4, batch_size=5).fit(network, data, resume_from=path, progress=False)
    _same_network(resumed.model, whole)
    assert resumed.history.to_arrays()["epoch"].tolist() == [1, 2, 3, 4]


def test_a_callback_stops_fine_tuning(network, data):
    stopped = UpDownFineTuning(epochs=5, batch_size=5).fit(
        network, data, rng=6, progress=False, callbacks=[lambda epoch, model, history: epoch == 2])
    assert stopped.stop_reason == "callback"
    _same_network(stopped.model, network.fine_tune(data, epochs=2, batch_size=5, rng=6))


def test_fine_tuning_takes_a_deep_belief_network_only(network, data):
    with pytest.raises(ParameterTypeError, match="model_or_size"):
        UpDownFineTuning(epochs=1, batch_size=5).fit(3, data, rng=0, progress=False)
    with pytest.raises(ParameterTypeError, match="trainer"):
        RestrictedBoltzmannMachine.random(6, 2, rng=0).fit(data, trainer=UpDownFineTuning(epochs=1))
    with pytest.raises(ParameterTypeError, match="dbn"):
        pgm_energy.ais.log_likelihood_bound(RestrictedBoltzmannMachine.random(6, 2, rng=0), data)
