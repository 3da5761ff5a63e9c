"""SimulatedAnnealingSampler: schedules, zero temperature, validation, reproducibility."""

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgm_energy import BoltzmannMachine, EvidenceError, ParameterTypeError, RestrictedBoltzmannMachine, StateError, ValidationError
from pgm_energy import schedules
from pgm_energy.samplers import SimulatedAnnealingSampler
from pgm_energy.samplers.annealing import default_schedule
from pgm_energy.testing import binary_states, boltzmann_machines

SCANS = ["sequential", "random", "chromatic"]


def machine(n_units=10, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    weights = np.triu(rng.normal(size=(n_units, n_units)), 1)
    return BoltzmannMachine(weights + weights.T, rng.normal(size=n_units), offset=offset)


def test_result_layout_and_info():
    model = machine(offset=0.75)
    result = SimulatedAnnealingSampler(n_sweeps=50).sample(model, 6, rng=0)
    assert result.states.shape == (6, 1, model.n_units) and result.states.dtype == np.uint8
    np.testing.assert_allclose(result.energies.ravel(), model.energy(result.flat_states()), atol=1e-12)
    schedule = result.info["schedule"]
    assert schedule.shape == (50,) and result.info["sweeps"] == 50
    assert result.temperature == schedule[-1]
    assert np.all(np.diff(schedule) < 0)


def test_default_schedule_follows_the_flip_costs():
    weights = np.array([[0.0, 2.0, -0.5], [2.0, 0.0, 0.0], [-0.5, 0.0, 0.0]])
    model = BoltzmannMachine(weights, [1.0, -0.25, 0.0])
    schedule = default_schedule(model, 20)
    # field ranges [b + negative couplings, b + positive couplings]: unit 0 [0.5, 3], unit 1
    # [-0.25, 1.75], unit 2 [-0.5, 0]; the costliest flip costs 3; the smallest excitation is
    # min(|W| / 2, |b|) = min(0.25, 0.25)
    assert schedule[0] == pytest.approx(3.0 / np.log(2.0))
    assert schedule[-1] == pytest.approx(0.25 / np.log(300.0))
    # Metropolis acceptance at the ends: 1/2 for the costliest flip; 1/100 for a cheapest
    # excitation by any of the 3 units in a sweep
    assert np.exp(-3.0 / schedule[0]) == pytest.approx(0.5)
    assert 3 * np.exp(-0.25 / schedule[-1]) == pytest.approx(0.01)
    # evidence folds into the biases: clamping unit 0 to 1 leaves fields -0.25 + 2 and -0.5 on
    # units 1, 2 and no coupling between them
    clamped = default_schedule(model, 20, evidence={"v0": 1})
    assert clamped[0] == pytest.approx(1.75 / np.log(2.0))
    assert clamped[-1] == pytest.approx(0.5 / np.log(200.0))
    assert np.all(default_schedule(BoltzmannMachine(np.zeros((2, 2)), [0.0, 0.0]), 5) == 1.0)


@pytest.mark.parametrize("sparse", [False, True])
def test_default_schedule_hot_end_is_the_largest_flip_cost_by_enumeration(sparse):
    import scipy.sparse as sp

    dense = machine(8, 5)
    model = BoltzmannMachine(sp.csr_array(dense.weights), dense.biases) if sparse else dense
    states = (np.arange(2**8)[:, None] >> np.arange(8)) & 1
    fields = states @ dense.weights + dense.biases
    assert default_schedule(model, 3)[0] == pytest.approx(np.abs(fields).max() / np.log(2.0))


def test_default_schedule_of_an_ising_problem_is_neals_beta_range():
    # dwave-samplers' default beta range for the ferromagnetic 3x3 periodic lattice (measured with
    # dwave-samplers 1.8: 0.0866434 -> 3.4011974):
    # hot beta ln 2 / 8 (largest field 8), cold beta ln(100 n) / 2 (a frustrated bond costs 2)
    side = 3
    index = np.arange(side * side).reshape(side, side)
    rows = np.concatenate([index.ravel(), index.ravel()])
    cols = np.concatenate([np.roll(index, -1, axis=1).ravel(), np.roll(index, -1, axis=0).ravel()])
    couplings = np.zeros((9, 9))
    couplings[rows, cols] = couplings[cols, rows] = 1.0  # our from_ising: E = -sum J s s - sum h s
    model = BoltzmannMachine.from_ising(np.zeros(9), couplings)
    schedule = default_schedule(model, 10)
    assert 1.0 / schedule[0] == pytest.approx(np.log(2.0) / 8.0)
    assert 1.0 / schedule[-1] == pytest.approx(np.log(100.0 * 9) / 2.0)


def test_explicit_schedule_is_used():
    model = machine()
    schedule = schedules.linear(3.0, 0.0, 40)
    sampler = SimulatedAnnealingSampler(schedule=schedule)
    assert sampler.n_sweeps == 40
    result = sampler.sample(model, 4, rng=1)
    np.testing.assert_array_equal(result.info["schedule"], schedule)
    assert result.temperature == 0.0


@pytest.mark.parametrize("acceptance", ["heat-bath", "metropolis"])
@pytest.mark.parametrize("scan", SCANS)
def test_reproducible_and_thread_count_independent(scan, acceptance):
    model = machine(12, 3)
    sampler = SimulatedAnnealingSampler(n_sweeps=30, scan=scan, acceptance=acceptance)
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = sampler.sample(model, 5, rng=11).states
        numba.set_num_threads(2)
        two = sampler.sample(model, 5, rng=11).states
    finally:
        numba.set_num_threads(previous)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one, sampler.sample(model, 5, rng=np.random.default_rng(11)).states)


def test_zero_temperature_is_deterministic_hopfield_dynamics():
    model = machine(8, 4)
    start = np.random.default_rng(0).integers(0, 2, (5, 8))
    sampler = SimulatedAnnealingSampler(schedule=np.zeros(20))
    first = sampler.sample(model, 5, initial_states=start, rng=1)
    second = sampler.sample(model, 5, initial_states=start, rng=2)  # no randomness is used at T = 0
    np.testing.assert_array_equal(first.states, second.states)
    # after 20 zero-temperature sweeps on 8 units the states are fixed points: s_i = [z_i > 0] or z_i = 0
    fields = model.local_fields(first.flat_states())
    states = first.flat_states()
    assert np.all((fields > 0) <= (states == 1)) and np.all((fields < 0) <= (states == 0))


@pytest.mark.parametrize("scan", SCANS)
def test_acceptance_rules_differ_at_finite_and_agree_at_zero_temperature(scan):
    model = machine(10, 5)
    start = np.random.default_rng(3).integers(0, 2, (8, 10))

    def run(acceptance, schedule):
        sampler = SimulatedAnnealingSampler(schedule=schedule, scan=scan, acceptance=acceptance)
        return sampler.sample(model, 8, initial_states=start, rng=2).states

    assert SimulatedAnnealingSampler().acceptance == "heat-bath"
    assert not np.array_equal(run("heat-bath", np.full(5, 2.0)), run("metropolis", np.full(5, 2.0)))
    np.testing.assert_array_equal(run("heat-bath", np.zeros(5)), run("metropolis", np.zeros(5)))


def test_metropolis_always_accepts_downhill_and_level_flips():
    # Independent units (W = 0) at T = 0.01: unit 0 (z = 0) flips at every sweep, 0 -> 1 -> 0 -> 1;
    # unit 1 (z = 3) flips up at once and its way back, dE = 3, is accepted with probability exp(-300).
    model = BoltzmannMachine(np.zeros((2, 2)), [0.0, 3.0])
    sampler = SimulatedAnnealingSampler(schedule=np.full(3, 0.01), acceptance="metropolis")
    result = sampler.sample(model, 16, initial_states=[0, 0], rng=0)
    assert np.all(result.states[:, 0, :] == 1)


def test_zero_temperature_keeps_a_unit_with_zero_field():
    model = BoltzmannMachine(np.zeros((3, 3)), [0.0, 1.0, -1.0])
    for start in ([0, 0, 1], [1, 0, 1]):
        result = SimulatedAnnealingSampler(schedule=[0.0]).sample(model, 1, initial_states=start, rng=0)
        assert result.states[0, 0].tolist() == [start[0], 1, 0]


@settings(max_examples=40, deadline=None)
@given(
    boltzmann_machines(max_units=8, sparse=st.booleans(), offset=st.floats(-5, 5)),
    st.sampled_from(SCANS),
    st.data(),
)
def test_energy_never_increases_at_zero_temperature(model, scan, data):
    state = np.asarray(data.draw(binary_states(model)), dtype=np.uint8)
    clamp = data.draw(st.lists(st.sampled_from(model.names), unique=True, max_size=2))
    evidence = {name: int(state[model.index(name)]) for name in clamp}
    sampler = SimulatedAnnealingSampler(schedule=[0.0], scan=scan)
    energy = model.energy(state)
    for sweep in range(2 * model.n_units + 2):
        state = sampler.sample(model, 1, initial_states=state, evidence=evidence, rng=sweep).states[0, 0]
        new_energy = model.energy(state)
        assert new_energy <= energy + 1e-9 * max(1.0, abs(energy))
        energy = new_energy
        for name, value in evidence.items():
            assert state[model.index(name)] == value
    if scan == "random":
        return  # a random scan may skip a unit in every sweep; the sequential and chromatic ones cannot
    # converged: a fixed point of the Hopfield update on the free units
    fields = model.local_fields(state)
    free = [i for i in range(model.n_units) if model.names[i] not in evidence]
    assert np.all((fields[free] > 1e-9) <= (state[free] == 1)) and np.all((fields[free] < -1e-9) <= (state[free] == 0))


def test_evidence_is_clamped():
    model = machine()
    evidence = {"v1": 1, "v2": 0}
    result = SimulatedAnnealingSampler(n_sweeps=30).sample(model, 8, evidence=evidence, rng=0)
    assert np.all(result.states[:, 0, 1] == 1) and np.all(result.states[:, 0, 2] == 0)


def test_rbm_is_annealed_as_its_boltzmann_machine():
    rbm = RestrictedBoltzmannMachine.random(5, 3, scale=1.0, rng=0)
    result = SimulatedAnnealingSampler(n_sweeps=100).sample(rbm, 4, rng=0)
    assert result.names == rbm.names
    states = result.flat_states()
    np.testing.assert_allclose(result.energies.ravel(), rbm.energy(states[:, :5], states[:, 5:]), atol=1e-12)


@pytest.mark.parametrize(
    "options, error",
    [
        ({"schedule": [1.0, -0.5]}, ValidationError),
        ({"schedule": []}, ValidationError),
        ({"schedule": [[1.0]]}, ValidationError),
        ({"schedule": [1.0, np.nan]}, ValidationError),
        ({"schedule": [1.0, 0.5], "n_sweeps": 3}, ValidationError),
        ({"n_sweeps": 0}, ValidationError),
        ({"n_sweeps": 2.5}, ParameterTypeError),
        ({"scan": "zigzag"}, ValidationError),
        ({"acceptance": "glauber"}, ValidationError),
        ({"acceptance": None}, ValidationError),
        ({"burn_in": 5}, TypeError),
    ],
)
def test_bad_constructor_arguments(options, error):
    with pytest.raises(error):
        SimulatedAnnealingSampler(**options)


@pytest.mark.parametrize(
    "args, options, error",
    [
        ((0,), {}, ValidationError),
        ((2,), {"evidence": {"x": 1}}, EvidenceError),
        ((2,), {"initial_states": np.zeros((3, 10))}, StateError),
        ((2,), {"initial_states": [0.5] * 10}, StateError),
        ((2,), {"rng": 1.5}, ParameterTypeError),
        ((2,), {"temperature": 1.0}, TypeError),
    ],
)
def test_bad_sample_arguments(args, options, error):
    with pytest.raises(error):
        SimulatedAnnealingSampler(n_sweeps=5).sample(machine(), *args, **options)
