"""Hardening of the exact oracle, AIS and the chunked kernel launches (issue 11, items 5, 9, 13).

* Bad input gets a named error, never an AttributeError or a NaN result.
* The bare ``ais.log_partition_function(rbm)`` works and agrees with exact log Z.
* Long calls run in time-bounded kernel calls; the most finely split run (one sweep, block
  or step per call) gives the bits of the default split.
"""

import math

import numpy as np
import pytest

from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine, ais, exact
from pgm_energy.exceptions import ParameterTypeError, PGMEnergyError, StateError, ValidationError
from pgm_energy.inference import ExactInference, GibbsInference


def _machine(n, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    w = np.triu(rng.normal(size=(n, n)) * scale, 1)
    return BoltzmannMachine(w + w.T, rng.normal(size=n) * scale)


# ------------------------------------------------------------------------- item 9: named errors
@pytest.mark.parametrize(
    "function", [exact.helmholtz_free_energy, exact.log_partition_function, exact.mean_energy, exact.entropy]
)
def test_thermodynamics_of_a_non_model_is_a_named_type_error(function):
    with pytest.raises(ParameterTypeError, match="model must be a BoltzmannMachine.*None"):
        function(None)


@pytest.mark.parametrize(
    "data, error, match",
    [
        ([[2, 0], [3, 1]], StateError, "only 0 and 1"),
        ([[0.5, 1.0]], StateError, "only 0 and 1"),
        ([0, 1, 1], StateError, "2-D"),
        ([[[0, 1]]], StateError, "2-D"),
        (np.zeros((0, 3)), ValidationError, "at least one sample"),
        ([[0, 1], [1]], StateError, "data"),
        ("01", StateError, "data"),
    ],
)
def test_base_visible_bias_refuses_non_binary_data(data, error, match):
    with pytest.raises(error, match=match):
        ais.base_visible_bias(data)


def test_base_visible_bias_of_binary_data_is_unchanged():
    data = np.array([[1, 0, 1], [1, 0, 0], [1, 1, 0]])
    expected = np.log(data.sum(0) + 1.0) - np.log(3 - data.sum(0) + 1.0)
    np.testing.assert_array_equal(ais.base_visible_bias(data), expected)


@pytest.mark.parametrize("joint", ["yes", 1, 0, None, [True], np.array([True, False])])
def test_joint_must_be_a_bool_everywhere(joint):
    model = _machine(4)
    with pytest.raises(ParameterTypeError, match="joint must be True or False"):
        exact.query(model, ["v0", "v1"], joint=joint)
    with pytest.raises(ParameterTypeError, match="joint must be True or False"):
        ExactInference(model).query(["v0", "v1"], joint=joint)
    sampled = GibbsInference(model, n_samples=5, n_chains=1, burn_in=1, rng=0)
    with pytest.raises(ParameterTypeError, match="joint must be True or False"):
        sampled.query(["v0", "v1"], joint=joint)
    with pytest.raises(ParameterTypeError, match="joint must be True or False"):
        sampled.query_with_errors(["v0", "v1"], joint=joint)


def test_joint_accepts_numpy_bools():
    model = _machine(4)
    assert set(exact.query(model, ["v0", "v1"], joint=np.False_)) == {"v0", "v1"}


@pytest.mark.parametrize("temperature", [1e-310, 5e-324, 1e-160])
def test_temperature_too_small_for_the_parameters_is_refused_not_nan(temperature):
    # refused where the temperature meets the parameters: the model itself, and every temperature= override
    from pgm_energy.samplers import GibbsSampler

    model = _machine(5)
    rbm = RestrictedBoltzmannMachine.random(5, 3, rng=0)
    calls = [
        lambda: model.with_temperature(temperature),
        lambda: rbm.with_temperature(temperature),
        lambda: BoltzmannMachine(model.weights, model.biases, temperature=temperature),
        lambda: GibbsSampler().sample(model, 2, temperature=temperature),
        lambda: GibbsSampler().sample(rbm, 2, temperature=temperature),
    ]
    for call in calls:
        with pytest.raises(ValidationError, match=r"temperature is too small.*temperature=") as caught:
            call()
        assert isinstance(caught.value, PGMEnergyError)


def test_small_but_sound_temperature_still_answers():
    model = BoltzmannMachine([[0.0, 1.0], [1.0, 0.0]], [0.5, -2.0], temperature=1e-100)
    # log Z = -E_min / T = 1.5e100, finite
    assert exact.log_partition_function(model) == pytest.approx(0.5e100, rel=1e-12)
    np.testing.assert_array_equal(exact.marginals(model), [1.0, 0.0])


# ------------------------------------------------------------------------- item 13: bare AIS
def test_bare_ais_call_agrees_with_exact_log_z():
    rbm = RestrictedBoltzmannMachine.random(12, 6, scale=0.5, rng=3)
    truth = exact.log_partition_function(rbm)
    result = ais.log_partition_function(rbm, rng=0)
    assert math.isfinite(result.log_z_std) and result.log_z_std < 0.05
    assert abs(result.log_z - truth) <= 3 * result.log_z_std + 1e-9
    assert result.lower <= truth <= result.upper
    # the base is the model's own visible bias with zero weights: log Z_A in closed form
    expected_base = 6 * math.log(2.0) + float(np.logaddexp(0.0, rbm.visible_bias).sum())
    assert result.log_z_base == pytest.approx(expected_base, rel=1e-14)


def test_bare_ais_call_at_a_temperature_uses_the_scaled_visible_bias():
    rbm = RestrictedBoltzmannMachine.random(10, 5, scale=0.5, rng=4).with_temperature(2.0)
    truth = exact.log_partition_function(rbm)
    result = ais.log_partition_function(rbm, betas=2000, rng=1)
    assert abs(result.log_z - truth) <= 3 * result.log_z_std + 1e-9


def test_data_selects_the_data_base_and_the_bare_call_the_model_base():
    rbm = RestrictedBoltzmannMachine.random(12, 6, scale=0.5, rng=3)
    data = (np.random.default_rng(0).random((50, 12)) < 0.3).astype(np.uint8)
    with_data = ais.log_partition_function(rbm, data=data, betas=500, rng=0)
    explicit = ais.log_partition_function(rbm, base="data", data=data, betas=500, rng=0)
    np.testing.assert_array_equal(with_data.log_weights, explicit.log_weights)
    model_base = ais.log_partition_function(rbm, base="model", betas=500, rng=0)
    np.testing.assert_array_equal(ais.log_partition_function(rbm, betas=500, rng=0).log_weights, model_base.log_weights)
    with pytest.raises(ValidationError, match="only used with base='data'.*'model'"):
        ais.log_partition_function(rbm, base="model", data=data)


# ------------------------------------------------------------------------- item 5: chunking keeps the bits
def _unsplit(monkeypatch):
    monkeypatch.setattr("pgm_energy._launch.TARGET_SECONDS", 1e9)


def test_exact_results_do_not_depend_on_the_split(monkeypatch):
    bm = _machine(11, seed=1)
    rbm = RestrictedBoltzmannMachine.random(9, 10, scale=0.7, rng=2)
    evidence = {"v0": 1}

    def everything():
        return [
            exact.log_partition_function(bm),
            exact.marginals(bm, evidence=evidence).tolist(),
            exact.entropy(rbm),
            exact.marginals(rbm).tolist(),
            exact.log_partition_function(rbm),
            ExactInference(bm).map_query(),
            ExactInference(rbm).map_query(),
            ExactInference(rbm).map_query(["v0", "v1"]),
        ]

    _unsplit(monkeypatch)
    whole = everything()
    monkeypatch.setattr("pgm_energy._launch.TARGET_SECONDS", 0.0)
    assert everything() == whole


def test_exact_log_z_of_an_rbm_with_a_wide_layer_does_not_depend_on_the_split(monkeypatch):
    from pgm_energy._kernels.bipartite import bipartite_log_mass

    rng = np.random.default_rng(5)
    coupling = rng.normal(size=(14, 30))
    analytic, enumerated = rng.normal(size=30), rng.normal(size=14)
    _unsplit(monkeypatch)
    whole = bipartite_log_mass(coupling, analytic, enumerated, m_in=4, group=2)
    monkeypatch.setattr("pgm_energy._launch.TARGET_SECONDS", 0.0)
    np.testing.assert_array_equal(bipartite_log_mass(coupling, analytic, enumerated, m_in=4, group=2), whole)


def test_ais_does_not_depend_on_the_split(monkeypatch):
    rbm = RestrictedBoltzmannMachine.random(13, 7, scale=0.6, rng=1)
    _unsplit(monkeypatch)
    whole = [ais.log_partition_function(rbm, n_runs=n, betas=300, rng=2).log_weights for n in (1, 5)]
    monkeypatch.setattr("pgm_energy._launch.TARGET_SECONDS", 0.0)
    split = [ais.log_partition_function(rbm, n_runs=n, betas=300, rng=2).log_weights for n in (1, 5)]
    for a, b in zip(whole, split):
        np.testing.assert_array_equal(a, b)


def test_annealing_does_not_depend_on_the_split(monkeypatch):
    from pgm_energy.samplers import SimulatedAnnealingSampler

    model = _machine(12, seed=2)
    sampler = SimulatedAnnealingSampler(n_sweeps=60, scan="chromatic")
    _unsplit(monkeypatch)
    whole = [sampler.sample(model, 3, rng=1).states, SimulatedAnnealingSampler(n_sweeps=60).sample(model, 3, rng=1).states]
    monkeypatch.setattr("pgm_energy._launch.TARGET_SECONDS", 0.0)
    split = [sampler.sample(model, 3, rng=1).states, SimulatedAnnealingSampler(n_sweeps=60).sample(model, 3, rng=1).states]
    for a, b in zip(whole, split):
        np.testing.assert_array_equal(a, b)


def test_pgmpy_drop_in_does_not_depend_on_the_split(monkeypatch):
    from pgm_energy.interop.pgmpy_gibbs import GibbsSampling

    network = _machine(6, seed=3).to_markov_network()
    _unsplit(monkeypatch)
    whole = GibbsSampling(network).sample(size=40, seed=3, burn_in=25, thin=3)
    monkeypatch.setattr("pgm_energy._launch.TARGET_SECONDS", 0.0)
    split = GibbsSampling(network).sample(size=40, seed=3, burn_in=25, thin=3)
    assert split.equals(whole)


def test_chunk_sizes_adapt_to_the_speed_of_the_calls(monkeypatch):
    from pgm_energy import _launch

    clock = [0.0]
    monkeypatch.setattr(_launch.time, "perf_counter", lambda: clock[0])
    sizes = []

    def run(start, stop):
        sizes.append(stop - start)
        clock[0] += (stop - start) * 2.0**-10  # ~1 ms per item (binary fractions: exact sums)

    _launch.run_chunked(400, run, first=2, target=50 * 2.0**-10)
    # grows at most 8x a call, then target / (time per item)
    assert sizes == [2, 16, 50, 50, 50, 50, 50, 50, 50, 32]


def test_a_sigint_during_a_chunk_raises_keyboard_interrupt_after_it():
    import os
    import signal

    from pgm_energy import _launch

    done = []

    def run(start, stop):
        if start == 1:
            os.kill(os.getpid(), signal.SIGINT)  # arrives "inside the kernel"
        done.append(start)

    with pytest.raises(KeyboardInterrupt):
        _launch.run_chunked(10, run, target=0.0)
    assert done == [0, 1]  # the chunk in progress finished, no further chunk ran
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
