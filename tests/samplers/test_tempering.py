"""ParallelTemperingSampler: ladder handling, swap statistics, validation, reproducibility."""

import numba
import numpy as np
import pytest

from pgm_energy import BoltzmannMachine, EvidenceError, ParameterTypeError, RestrictedBoltzmannMachine, ValidationError
from pgm_energy.samplers import ParallelTemperingSampler

SCANS = ["sequential", "random", "chromatic"]


def machine(n_units=8, seed=0, temperature=1.0):
    rng = np.random.default_rng(seed)
    weights = np.triu(rng.normal(scale=2.0, size=(n_units, n_units)), 1)
    return BoltzmannMachine(weights + weights.T, rng.normal(size=n_units), temperature=temperature, offset=0.5)


def test_result_layout_and_swap_statistics():
    model = machine()
    sampler = ParallelTemperingSampler([2.0, 1.0, 4.0], burn_in=10, thin=2, swap_interval=3)
    np.testing.assert_array_equal(sampler.temperatures, [1.0, 2.0, 4.0])
    result = sampler.sample(model, 40, n_chains=3, rng=0)
    assert result.states.shape == (3, 40, model.n_units)
    np.testing.assert_allclose(result.energies.ravel(), model.energy(result.flat_states()), atol=1e-12)
    info = result.info
    assert result.temperature == 1.0 and info["target_index"] == 0
    assert info["sweeps"] == 10 + 40 * 2 and info["swap_interval"] == 3
    rates = info["swap_acceptance"]
    assert rates.shape == (2,) and np.all((rates >= 0) & (rates <= 1))
    # 90 sweeps -> 30 rounds alternating even/odd pairs: 15 rounds per pair, 3 ensembles
    np.testing.assert_array_equal(info["swap_attempts"], [45, 45])


def test_target_is_the_model_temperature_when_on_the_ladder_else_the_lowest():
    sampler = ParallelTemperingSampler([0.5, 1.3, 3.0], burn_in=5)
    assert sampler.sample(machine(temperature=1.3), 5, rng=0).temperature == 1.3
    assert sampler.sample(machine(temperature=2.0), 5, rng=0).temperature == 0.5


def test_swaps_are_accepted_between_close_temperatures_and_rejected_between_far_ones():
    model = machine(10, 1)
    close = ParallelTemperingSampler([1.0, 1.05], burn_in=0).sample(model, 2000, rng=1).info["swap_acceptance"][0]
    far = ParallelTemperingSampler([0.2, 50.0], burn_in=0).sample(model, 2000, rng=1).info["swap_acceptance"][0]
    assert close > 0.8 and far < 0.2


def test_single_temperature_ladder_is_plain_gibbs():
    result = ParallelTemperingSampler([1.0], burn_in=5).sample(machine(), 10, rng=0)
    assert result.info["swap_acceptance"].shape == (0,)


@pytest.mark.parametrize("scan", SCANS)
def test_reproducible_and_thread_count_independent(scan):
    model = machine(9, 2)
    sampler = ParallelTemperingSampler([1.0, 1.6, 2.5], burn_in=5, scan=scan)
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = sampler.sample(model, 30, n_chains=3, rng=5)
        numba.set_num_threads(2)
        two = sampler.sample(model, 30, n_chains=3, rng=5)
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(one.states, two.states)
    np.testing.assert_array_equal(one.info["swap_acceptance"], two.info["swap_acceptance"])
    assert not np.array_equal(one.states, sampler.sample(model, 30, n_chains=3, rng=6).states)


def test_evidence_is_clamped_in_every_draw():
    model = machine()
    result = ParallelTemperingSampler([1.0, 2.0], burn_in=5).sample(model, 50, evidence={"v2": 1, "v5": 0}, rng=0)
    assert np.all(result.states[:, :, 2] == 1) and np.all(result.states[:, :, 5] == 0)


def test_rbm_is_sampled_as_its_boltzmann_machine():
    rbm = RestrictedBoltzmannMachine.random(4, 3, scale=1.0, rng=0)
    result = ParallelTemperingSampler([1.0, 2.0], burn_in=5).sample(rbm, 10, rng=0)
    states = result.flat_states()
    np.testing.assert_allclose(result.energies.ravel(), rbm.energy(states[:, :4], states[:, 4:]), atol=1e-12)


@pytest.mark.parametrize(
    "args, options, error",
    [
        (([],), {}, ValidationError),
        (([1.0, 0.0],), {}, ValidationError),
        (([1.0, -2.0],), {}, ValidationError),
        (([1.0, 1.0],), {}, ValidationError),
        (([1.0, np.inf],), {}, ValidationError),
        (("hot",), {}, ValidationError),
        (([1.0, 2.0],), {"swap_interval": 0}, ValidationError),
        (([1.0, 2.0],), {"swap_interval": 1.5}, ParameterTypeError),
        (([1.0, 2.0],), {"thin": 0}, ValidationError),
        (([1.0, 2.0],), {"scan": "any"}, ValidationError),
        (([1.0, 2.0],), {"n_sweeps": 3}, TypeError),
    ],
)
def test_bad_constructor_arguments(args, options, error):
    with pytest.raises(error):
        ParallelTemperingSampler(*args, **options)


@pytest.mark.parametrize(
    "args, options, error",
    [
        ((0,), {}, ValidationError),
        ((5,), {"n_chains": 0}, ValidationError),
        ((5,), {"evidence": {"v0": -1}}, EvidenceError),
        ((5,), {"rng": "x"}, ParameterTypeError),
        ((5,), {"temperature": 2.0}, TypeError),
    ],
)
def test_bad_sample_arguments(args, options, error):
    with pytest.raises(error):
        ParallelTemperingSampler([1.0, 2.0], burn_in=1).sample(machine(), *args, **options)


def test_non_model_is_rejected():
    with pytest.raises(ParameterTypeError):
        ParallelTemperingSampler([1.0, 2.0]).sample("model", 5)
