"""Sampling Potts machines: Gibbs and annealing paths, reproducibility, evidence, the categorical sample set."""

import pickle

import numba
import numpy as np
import pytest

from pgm_energy.exceptions import EvidenceError, StateError, ValidationError
from pgm_energy.samplers import GibbsSampler, SimulatedAnnealingSampler
from pgm_energy.samplers.annealing import default_schedule
from pgm_energy.samplers.categorical_sampleset import CategoricalSampleSet

from conftest_potts import all_states, random_potts


def test_same_rng_same_bits_whatever_the_threads():
    model = random_potts(0, state_names={"v0": ["a", "b", "c"]})
    runs = []
    previous = numba.get_num_threads()
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            runs.append(GibbsSampler(burn_in=5).sample(model, 50, n_chains=3, rng=7, progress=False).states)
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(runs[0], runs[1])
    other = GibbsSampler(burn_in=5).sample(model, 50, n_chains=3, rng=8, progress=False).states
    assert not np.array_equal(runs[0], other)


def test_keep_last_is_the_last_draw_and_states_fit_their_cardinalities():
    model = random_potts(1)
    sampler = GibbsSampler(burn_in=3, thin=2)
    every = sampler.sample(model, 20, n_chains=2, rng=1, progress=False)
    last = sampler.sample(model, 20, n_chains=2, rng=1, keep="last", progress=False)
    np.testing.assert_array_equal(last.states[:, 0], every.states[:, -1])
    assert every.states.dtype == np.uint8 and every.states.shape == (2, 20, 4)
    assert (every.states.max(axis=(0, 1)) < np.array(model.cardinalities)).all()
    np.testing.assert_allclose(every.energies, model.energy(every.states.reshape(-1, 4)).reshape(2, 20))


def test_evidence_initial_states_and_scans_are_checked():
    model = random_potts(2, state_names={"v0": ["a", "b", "c"]})
    sampler = GibbsSampler(burn_in=2)
    draws = sampler.sample(model, 10, n_chains=2, evidence={"v0": "c", "v2": 3}, rng=0, progress=False)
    assert (draws.states[:, :, 0] == 2).all() and (draws.states[:, :, 2] == 3).all()
    with pytest.raises(EvidenceError, match="not a state of variable 'v2'"):
        sampler.sample(model, 5, evidence={"v2": 4}, rng=0, progress=False)
    with pytest.raises(StateError, match="not a state of variable 1"):
        sampler.sample(model, 5, n_chains=2, initial_states=[0, 2, 0, 0], rng=0, progress=False)
    with pytest.raises(StateError, match="shape"):
        sampler.sample(model, 5, n_chains=2, initial_states=np.zeros((3, 4), dtype=int), rng=0, progress=False)
    with pytest.raises(ValidationError, match="'sequential', 'chromatic'"):
        GibbsSampler(scan="random").sample(model, 5, rng=0, progress=False)
    start = GibbsSampler(burn_in=0).sample(model, 1, n_chains=2, initial_states=[[1, 1, 3, 2], [0, 0, 0, 0]],
                                           rng=0, keep="last", progress=False)
    assert start.states.shape == (2, 1, 4)


def test_the_sample_set_speaks_in_state_names_and_survives_pickling():
    model = random_potts(3, state_names={"v0": ["red", "green", "blue"], "v3": [10, 20, 30]})
    draws = GibbsSampler(burn_in=10).sample(model, 200, n_chains=2, rng=3, progress=False)
    frame = draws.to_pandas()
    assert list(frame.columns) == list(model.names)
    assert set(frame["v0"]) <= {"red", "green", "blue"} and set(frame["v3"]) <= {10, 20, 30}
    marginals = draws.marginals()
    assert list(marginals["v0"].index) == ["red", "green", "blue"]
    np.testing.assert_allclose(marginals.groupby(level="variable", sort=False).sum().to_numpy(), 1.0)
    assert draws.effective_sample_size().shape == (4,) and draws.split_r_hat().shape == (4,)
    copy = pickle.loads(pickle.dumps(draws))
    assert copy.state_names == draws.state_names
    np.testing.assert_array_equal(copy.states, draws.states)
    np.testing.assert_array_equal(copy.energies, draws.energies)


def test_the_public_constructor_checks_states_against_the_state_names():
    names = {"a": [0, 1, 2], "b": ["x", "y"]}
    good = CategoricalSampleSet(np.array([[[2, 1], [0, 0]]]), np.zeros((1, 2)), ["a", "b"], state_names=names,
                                temperature=1.0)
    assert good.cardinalities == (3, 2)
    with pytest.raises(ValidationError, match="state indices"):
        CategoricalSampleSet(np.array([[[2, 2]]]), np.zeros((1, 1)), ["a", "b"], state_names=names, temperature=1.0)


def test_annealing_finds_the_ground_state_of_small_machines():
    for seed in range(3):
        model = random_potts(seed, cardinalities=(3, 4, 2, 3, 3))
        energies = model.energy(all_states(model.cardinalities))
        result = SimulatedAnnealingSampler(n_sweeps=300).sample(model, 8, rng=seed, progress=False)
        assert result.lowest()[1][0] == pytest.approx(energies.min(), abs=1e-12)
        assert result.info["sampler"] == "SimulatedAnnealingSampler" and result.info["schedule"].shape == (300,)


def test_zero_temperature_sweeps_never_raise_the_energy():
    model = random_potts(5, cardinalities=(4,) * 8, p_edge=0.5)
    start = np.random.default_rng(0).integers(0, 4, (6, 8))
    energy = model.energy(start)
    states = start
    for _ in range(4):
        result = SimulatedAnnealingSampler(schedule=[0.0]).sample(model, 6, initial_states=states, rng=0,
                                                                  progress=False)
        states = result.states[:, 0].astype(np.int64)
        new = model.energy(states)
        assert (new <= energy + 1e-12).all()
        energy = new


def test_default_schedule_of_a_potts_machine():
    model = random_potts(6)
    schedule = default_schedule(model, 50)
    assert schedule.shape == (50,) and schedule[0] > schedule[-1] > 0
    assert (np.diff(schedule) < 0).all()
    with pytest.raises(ValidationError, match="heat bath"):
        SimulatedAnnealingSampler(acceptance="metropolis").sample(model, 2, rng=0, progress=False)
