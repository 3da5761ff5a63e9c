"""ParallelTemperingSampler: ladder handling, swap statistics, validation, reproducibility."""

import numba
import numpy as np
import pytest

from pgm_energy import BoltzmannMachine, EvidenceError, ParameterTypeError, RestrictedBoltzmannMachine, ValidationError
from pgm_energy.exceptions import StateError
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


def bistable(n_units=6):
    """All ones and all zeros are both stable: a unit's field is +12.5 among ones, -7.5 among zeros.

    Coupling 4, bias -7.5 (with n_units = 6): at T <= 0.1 a flip out of either state has
    probability below sigmoid(-75) per update, so the draws show where a replica started.
    """
    weights = np.full((n_units, n_units), 4.0)
    np.fill_diagonal(weights, 0.0)
    return BoltzmannMachine(weights, np.full(n_units, -1.5 * (n_units - 1)), temperature=0.05)


# no exchange round happens within these runs, so each replica stays at its temperature
NO_SWAPS = {"burn_in": 0, "swap_interval": 1000}


def test_initial_states_one_state_for_every_replica():
    model = bistable()
    result = ParallelTemperingSampler([0.05, 0.1], **NO_SWAPS).sample(
        model, 5, n_chains=3, initial_states=np.ones(6, int), rng=0)
    assert np.all(result.states == 1)


def test_initial_states_one_per_ensemble():
    model = bistable()
    start = np.array([[1] * 6, [0] * 6, [1] * 6], dtype=bool)
    result = ParallelTemperingSampler([0.05, 0.1], **NO_SWAPS).sample(model, 5, n_chains=3, initial_states=start, rng=0)
    np.testing.assert_array_equal(result.states, np.broadcast_to(start[:, None, :], (3, 5, 6)))


@pytest.mark.parametrize("cold_start", [0, 1])
def test_initial_states_one_per_replica_follow_the_sorted_ladder(cold_start):
    """Axis 1 of (n_chains, n_temperatures, n_units) follows sampler.temperatures (ascending),
    whatever order the ladder was given in; the draws are those of the coldest replica."""
    model = bistable()
    sampler = ParallelTemperingSampler([0.1, 0.05], **NO_SWAPS)  # sorted to [0.05, 0.1]
    start = np.zeros((2, 2, 6))
    start[:, 0] = cold_start
    start[:, 1] = 1 - cold_start
    result = sampler.sample(model, 5, n_chains=2, initial_states=start, rng=0)
    assert result.temperature == 0.05
    assert np.all(result.states == cold_start)


def test_initial_states_do_not_override_evidence_and_are_reproducible():
    model = machine()
    sampler = ParallelTemperingSampler([1.0, 2.0], burn_in=3)
    start = np.random.default_rng(1).integers(0, 2, (2, 2, model.n_units))
    one = sampler.sample(model, 20, n_chains=2, initial_states=start, evidence={"v1": 0}, rng=3)
    two = sampler.sample(model, 20, n_chains=2, initial_states=start.tolist(), evidence={"v1": 0}, rng=3)
    np.testing.assert_array_equal(one.states, two.states)
    assert np.all(one.states[:, :, 1] == 0)
    # the random default start uses the same generator: a given start changes the draws
    assert not np.array_equal(one.states, sampler.sample(model, 20, n_chains=2, evidence={"v1": 0}, rng=3).states)


@pytest.mark.parametrize(
    "initial_states, match",
    [
        (np.zeros(7), r"initial_states must have shape \(8,\), \(n_chains, 8\) = \(2, 8\) or "
                      r"\(n_chains, n_temperatures, 8\) = \(2, 3, 8\), got \(7,\)"),
        (np.zeros((3, 8)), r"got \(3, 8\)"),
        (np.zeros((2, 2, 8)), r"= \(2, 3, 8\), got \(2, 2, 8\)"),
        (np.zeros((1, 2, 3, 8)), r"got \(1, 2, 3, 8\)"),
        (np.full((2, 3, 8), 0.5), r"initial_states must contain only 0 and 1, got 0.5 at index \(0, 0, 0\)"),
        ([["a"] * 8] * 2, "initial_states must be an array of 0/1 values, got dtype <U1"),
        ([[0, 1], [0]], "initial_states must be an array of 0/1 values"),
    ],
)
def test_bad_initial_states(initial_states, match):
    with pytest.raises(StateError, match=match):
        ParallelTemperingSampler([1.0, 2.0, 3.0], burn_in=1).sample(machine(), 3, n_chains=2,
                                                                     initial_states=initial_states)


def test_progress_bar_does_not_change_the_draws(monkeypatch, progress_updates):
    updates = progress_updates
    model = machine(9, 3)
    for scan in SCANS:
        updates.clear()
        sampler = ParallelTemperingSampler([1.0, 1.5, 2.5], burn_in=37, thin=2, swap_interval=3, scan=scan)
        quiet = sampler.sample(model, 60, n_chains=2, rng=4, progress=False)
        # every kernel call one sweep: the most finely split run gives the bits of the default split
        with monkeypatch.context() as patch:
            patch.setattr("pgm_energy._launch.TARGET_SECONDS", 0.0)
            shown = sampler.sample(model, 60, n_chains=2, rng=4, progress=True)
        np.testing.assert_array_equal(quiet.states, shown.states)
        np.testing.assert_array_equal(quiet.info["swap_acceptance"], shown.info["swap_acceptance"])
        np.testing.assert_array_equal(quiet.info["swap_attempts"], shown.info["swap_attempts"])
        assert updates == [1] * (37 + 60 * 2)


def test_progress_bar_is_made_only_when_asked(monkeypatch, capsys):
    import tqdm.auto

    made = []
    monkeypatch.setattr("pgm_energy._progress._stderr_is_terminal", lambda: True)  # bars only on terminals
    monkeypatch.setattr(tqdm.auto, "tqdm", lambda total, **options: made.append(options) or _NullBar())
    sampler = ParallelTemperingSampler([1.0, 2.0], burn_in=5)
    sampler.sample(machine(), 10, rng=0, progress=False)
    assert made == [] and capsys.readouterr() == ("", "")
    sampler.sample(machine(), 10, rng=0)  # progress=True is the default
    assert len(made) == 1 and made[0]["desc"] == "tempering" and made[0]["unit"] == "sweep"


class _NullBar:
    def update(self, n):
        pass

    def close(self):
        pass


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
        ((5,), {"progress": "yes"}, ParameterTypeError),
        ((5,), {"progress": 1}, ParameterTypeError),
    ],
)
def test_bad_sample_arguments(args, options, error):
    with pytest.raises(error):
        ParallelTemperingSampler([1.0, 2.0], burn_in=1).sample(machine(), *args, **options)


def test_non_model_is_rejected():
    with pytest.raises(ParameterTypeError):
        ParallelTemperingSampler([1.0, 2.0]).sample("model", 5)
