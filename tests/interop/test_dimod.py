"""D-Wave Ocean interop: to_bqm / from_bqm and the BoltzmannSampler dimod.Sampler.

dimod is in the ``test`` extra; ``dimod.ExactSolver`` and ``bqm.energy`` are the
independent oracles (they never see our energy code).
"""

from __future__ import annotations

import itertools
import pickle
import subprocess
import sys
import unittest
import warnings

import dimod
import dimod.testing
import numpy as np
import pytest
import scipy.sparse as sp

from pgm_energy import (
    BoltzmannMachine,
    ConversionError,
    ParameterTypeError,
    RestrictedBoltzmannMachine,
    ValidationError,
)
from pgm_energy.interop.dimod import BoltzmannSampler, from_bqm, to_bqm


# ---------------------------------------------------------------------------- helpers
def all_states(n: int) -> np.ndarray:
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.int8)


def random_machine(n: int, seed: int, *, scale: float = 1.0, density: float = 1.0, sparse: bool = False):
    rng = np.random.default_rng(seed)
    weights = rng.uniform(-scale, scale, size=(n, n)) * (rng.random((n, n)) < density)
    weights = np.triu(weights, 1)
    weights = weights + weights.T
    biases = rng.uniform(-scale, scale, size=n)
    names = [f"u{i}" for i in range(n)]
    visible = rng.random(n) < 0.5
    return BoltzmannMachine(
        sp.csr_array(weights) if sparse else weights,
        biases,
        names=names,
        visible=visible,
        temperature=1.7,
        offset=float(rng.uniform(-scale, scale)),
    )


def bqm_energies(bqm, states01: np.ndarray, variables) -> np.ndarray:
    """dimod's energies of 0/1 states (turned into spins for a SPIN bqm)."""
    samples = states01 if bqm.vartype is dimod.BINARY else 2 * states01 - 1
    return bqm.energies((samples, list(variables)))


def random_bqm(n: int, seed: int, vartype, *, scale: float = 1.0, labels=None):
    rng = np.random.default_rng(seed)
    labels = [f"x{i}" for i in range(n)] if labels is None else labels
    linear = {v: float(rng.uniform(-scale, scale)) for v in labels}
    quadratic = {
        (labels[i], labels[j]): float(rng.uniform(-scale, scale))
        for i, j in itertools.combinations(range(n), 2)
        if rng.random() < 0.6
    }
    return dimod.BinaryQuadraticModel(linear, quadratic, float(rng.uniform(-scale, scale)), vartype)


def lattice_bqm(side: int, seed: int):
    """A periodic ±J lattice in SPIN form with string labels (a sparse problem)."""
    rng = np.random.default_rng(seed)
    index = np.arange(side * side).reshape(side, side)
    rows = np.concatenate([index.ravel(), index.ravel()])
    cols = np.concatenate([np.roll(index, -1, axis=1).ravel(), np.roll(index, -1, axis=0).ravel()])
    values = rng.choice([-1.0, 1.0], size=rows.shape[0])
    return dimod.BinaryQuadraticModel.from_numpy_vectors(
        np.zeros(side * side), (rows, cols, values), 0.0, "SPIN", variable_order=[f"s{i}" for i in range(side * side)]
    )


# ---------------------------------------------------------------------------- to_bqm
def test_to_bqm_hand_example_signs():
    # E(s) = -1.5 s_a s_b + 0.5 s_a - 0.25 s_b + 2  ->  QUBO a = -b, q = -W, same offset
    bm = BoltzmannMachine([[0.0, 1.5], [1.5, 0.0]], [-0.5, 0.25], names=["a", "b"], offset=2.0)
    bqm = to_bqm(bm)
    assert bqm.vartype is dimod.BINARY
    assert list(bqm.variables) == ["a", "b"]
    assert dict(bqm.linear) == {"a": 0.5, "b": -0.25}
    assert dict(bqm.quadratic) in ({("a", "b"): -1.5}, {("b", "a"): -1.5})
    assert bqm.offset == 2.0
    # SPIN: our Ising h, J, offset with the sign of h and J flipped for dimod
    h, J, offset = bm.to_ising()
    spin = to_bqm(bm, vartype="SPIN")
    assert spin.vartype is dimod.SPIN
    assert dict(spin.linear) == {"a": -h[0], "b": -h[1]}
    assert spin.get_quadratic("a", "b") == -J[0, 1]
    assert spin.offset == offset


@pytest.mark.parametrize("vartype", ["BINARY", "SPIN", dimod.BINARY, dimod.SPIN])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("seed", range(4))
def test_to_bqm_energies_equal_model_energies_on_every_state(vartype, sparse, seed):
    bm = random_machine(10, seed, scale=50.0, density=0.3 if sparse else 1.0, sparse=sparse)
    bqm = to_bqm(bm, vartype=vartype)
    assert bqm.vartype is dimod.as_vartype(vartype)
    assert list(bqm.variables) == list(bm.names)
    assert bqm.num_interactions == bm.n_edges
    states = all_states(bm.n_units)
    np.testing.assert_allclose(bqm_energies(bqm, states, bm.names), bm.energy(states), rtol=1e-12, atol=1e-9)


def test_to_bqm_of_a_restricted_boltzmann_machine():
    rng = np.random.default_rng(5)
    rbm = RestrictedBoltzmannMachine(rng.normal(size=(4, 3)) * 10, rng.normal(size=4), rng.normal(size=3))
    bqm = to_bqm(rbm)
    assert list(bqm.variables) == list(rbm.names)
    states = all_states(7)
    np.testing.assert_allclose(
        bqm_energies(bqm, states, rbm.names), rbm.energy(states[:, :4], states[:, 4:]), rtol=1e-12, atol=1e-10
    )
    # no interactions inside a layer
    assert all((u[0], v[0]) in {("v", "h"), ("h", "v")} for u, v in bqm.quadratic)


def test_to_bqm_of_a_model_without_couplings():
    bm = BoltzmannMachine(np.zeros((3, 3)), [1.0, -2.0, 0.0], offset=-1.0)
    for vartype in ("BINARY", "SPIN"):
        bqm = to_bqm(bm, vartype=vartype)
        assert bqm.num_interactions == 0 and bqm.num_variables == 3
        states = all_states(3)
        np.testing.assert_allclose(bqm_energies(bqm, states, bm.names), bm.energy(states), atol=1e-12)


# ---------------------------------------------------------------------------- from_bqm
@pytest.mark.parametrize("vartype", ["BINARY", "SPIN"])
@pytest.mark.parametrize("seed", range(4))
def test_from_bqm_energies_equal_bqm_energies_on_every_state(vartype, seed):
    bqm = random_bqm(10, seed, vartype, scale=50.0)
    bm = from_bqm(bqm, temperature=0.5)
    assert isinstance(bm, BoltzmannMachine)
    assert bm.names == tuple(bqm.variables)
    assert bm.temperature == 0.5 and bm.n_visible == 10 and not bm.is_sparse
    states = all_states(10)
    np.testing.assert_allclose(bm.energy(states), bqm_energies(bqm, states, bqm.variables), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("vartype", ["BINARY", "SPIN"])
@pytest.mark.parametrize("sparse", [False, True])
def test_round_trips_keep_every_energy(vartype, sparse):
    bm = random_machine(9, 11, scale=50.0, density=0.5, sparse=sparse)
    back = from_bqm(to_bqm(bm, vartype=vartype), temperature=bm.temperature, sparse=sparse)
    assert back.names == bm.names and back.is_sparse == sparse
    states = all_states(9)
    np.testing.assert_allclose(back.energy(states), bm.energy(states), rtol=1e-12, atol=1e-9)
    if vartype == "BINARY":  # no arithmetic on the way: exact
        np.testing.assert_array_equal(back.dense_weights(), bm.dense_weights())
        np.testing.assert_array_equal(back.biases, bm.biases)
        assert back.offset == bm.offset
    bqm = random_bqm(8, 3, vartype)
    again = to_bqm(from_bqm(bqm), vartype=vartype)
    dimod.testing.assert_bqm_almost_equal(again, bqm, places=12)


def test_float32_bqm_converts():
    bqm = dimod.Float32BQM(random_bqm(6, 2, "BINARY"))
    bm = from_bqm(bqm)
    states = all_states(6)
    np.testing.assert_allclose(bm.energy(states), bqm_energies(bqm, states, bqm.variables), rtol=1e-5, atol=1e-5)


def test_large_sparse_lattice_converts_without_densifying():
    bqm = lattice_bqm(256, seed=0)  # 65,536 spins: a dense W would need 34 GB
    bm = from_bqm(bqm)
    assert bm.is_sparse and bm.n_units == 65536 and bm.n_edges == 2 * 65536
    rng = np.random.default_rng(1)
    states = rng.integers(0, 2, size=(3, 65536), dtype=np.int8)
    np.testing.assert_allclose(bm.energy(states), bqm_energies(bqm, states, bqm.variables), rtol=1e-12)
    back = to_bqm(bm, vartype="SPIN")
    assert back.num_variables == 65536 and back.num_interactions == 2 * 65536
    np.testing.assert_allclose(bqm_energies(back, states, bm.names), bm.energy(states), rtol=1e-12)


# ---------------------------------------------------------------------------- conversion errors
@pytest.mark.parametrize("label", [0, ("a", 1), "", frozenset({1}), 1.5, np.int64(3)])
def test_from_bqm_refuses_labels_that_are_not_non_empty_strings(label):
    bqm = dimod.BinaryQuadraticModel({"a": 1.0, label: -1.0}, {}, 0.0, "BINARY")
    with pytest.raises(ConversionError, match="labels must be non-empty strings") as error:
        from_bqm(bqm)
    assert repr(label) in str(error.value) and "relabel" in str(error.value)
    assert isinstance(error.value, ValueError)


def test_from_bqm_errors():
    with pytest.raises(ConversionError, match="no variables"):
        from_bqm(dimod.BinaryQuadraticModel("BINARY"))
    with pytest.raises(ParameterTypeError, match="dimod.BinaryQuadraticModel"):
        from_bqm({("a", "b"): 1.0})
    bqm = random_bqm(3, 0, "SPIN")
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValidationError, match="temperature"):
            from_bqm(bqm, temperature=bad)
    with pytest.raises(ParameterTypeError, match="sparse"):
        from_bqm(bqm, sparse="yes")
    with pytest.raises(TypeError):
        from_bqm(bqm, 1.0)  # options are keyword-only
    with pytest.raises(TypeError):
        from_bqm(bqm, temprature=1.0)


def test_to_bqm_errors():
    bm = random_machine(3, 0)
    with pytest.raises(ValidationError, match="vartype must be 'BINARY' or 'SPIN'") as error:
        to_bqm(bm, vartype="INTEGER")
    assert "INTEGER" in str(error.value)
    with pytest.raises(ParameterTypeError, match="BoltzmannMachine"):
        to_bqm(np.zeros((3, 3)))
    with pytest.raises(TypeError):
        to_bqm(bm, "SPIN")


def test_importing_the_module_does_not_import_dimod():
    code = (
        "import sys\n"
        "import pgm_energy.interop.dimod as m\n"
        "assert 'dimod' not in sys.modules, 'dimod imported at module import'\n"
        "m.BoltzmannSampler\n"
        "assert 'dimod' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------- the sampler: dimod's own checks
def test_sampler_api():
    sampler = BoltzmannSampler()
    dimod.testing.assert_sampler_api(sampler)
    assert set(sampler.parameters) >= {"num_reads", "num_sweeps", "beta_range", "beta_schedule", "seed"}
    for related in sampler.parameters.values():
        assert all(key in sampler.properties for key in related)
    assert pickle.loads(pickle.dumps(sampler)).parameters == sampler.parameters
    assert type(sampler).__module__ == "pgm_energy.interop.dimod"


@dimod.testing.load_sampler_bqm_tests(BoltzmannSampler)
class TestDimodSamplerSuite(unittest.TestCase):
    """dimod's generated tests: empty, 1-variable, path problems; every BQM class; SPIN and BINARY."""


@pytest.mark.parametrize("vartype", ["BINARY", "SPIN"])
@pytest.mark.parametrize("sparse_labels", [False, True])
def test_sampleset_energies_and_layout(vartype, sparse_labels):
    labels = [(i, "t") for i in range(12)] if sparse_labels else None  # any hashable label works here
    bqm = random_bqm(12, 7, vartype, scale=50.0, labels=labels)
    sampleset = BoltzmannSampler().sample(bqm, num_reads=20, num_sweeps=200, seed=1)
    assert isinstance(sampleset, dimod.SampleSet)
    assert sampleset.vartype is bqm.vartype
    assert set(sampleset.variables) == set(bqm.variables)  # dimod sorts sortable labels
    assert len(sampleset) == 20
    dimod.testing.assert_sampleset_energies(sampleset, bqm, precision=9)
    info = sampleset.info
    assert info["beta_schedule_type"] == "geometric" and len(info["beta_range"]) == 2
    assert set(info["timing"]) == {"preprocessing_ns", "sampling_ns", "postprocessing_ns"}


def test_sample_ising_and_sample_qubo_energies():
    sampler = BoltzmannSampler()
    h = {"a": 0.5, "b": -1.0, 3: 0.25}
    J = {("a", "b"): -2.0, ("b", 3): 1.5}
    ising = sampler.sample_ising(h, J, num_reads=5, num_sweeps=50, seed=0)
    assert ising.vartype is dimod.SPIN
    for sample, energy in ising.data(["sample", "energy"]):
        assert energy == pytest.approx(dimod.ising_energy(sample, h, J))
    Q = {("a", "a"): -1.0, ("a", "b"): 2.0, ("b", "c"): -3.0}
    qubo = sampler.sample_qubo(Q, num_reads=5, num_sweeps=50, seed=0)
    assert qubo.vartype is dimod.BINARY
    for sample, energy in qubo.data(["sample", "energy"]):
        assert energy == pytest.approx(dimod.qubo_energy(sample, Q))


# ---------------------------------------------------------------------------- the sampler finds ground states
@pytest.mark.parametrize("vartype", ["BINARY", "SPIN"])
@pytest.mark.parametrize("seed", range(3))
def test_ground_state_matches_exact_solver(vartype, seed):
    bqm = random_bqm(14, 100 + seed, vartype, scale=50.0)
    exact = dimod.ExactSolver().sample(bqm).first
    found = BoltzmannSampler().sample(bqm, num_reads=50, num_sweeps=1000, seed=seed)
    assert found.first.energy == pytest.approx(exact.energy, abs=1e-9)
    # Many reads get there. On these continuous +-50 instances the per-read success rate of
    # a 1000-sweep anneal is 0.5-1.0 for this sampler and for dwave-samplers' alike
    # (measured on 12 instances, 100 reads each), so a third is a safe floor.
    assert np.mean(np.isclose(found.record.energy, exact.energy, atol=1e-9)) >= 1 / 3


@pytest.mark.parametrize("schedule", ["linear", "geometric"])
@pytest.mark.parametrize("scan", ["sequential", "random", "chromatic"])
def test_frustrated_ring_ground_state_every_schedule_and_scan(schedule, scan):
    # antiferromagnetic odd ring: frustrated, degenerate ground states of energy -(n - 2)
    n = 9
    J = {(f"s{i}", f"s{(i + 1) % n}"): 1.0 for i in range(n)}
    sampleset = BoltzmannSampler().sample_ising(
        {}, J, num_reads=10, num_sweeps=300, beta_range=(0.1, 5.0), beta_schedule_type=schedule, scan=scan, seed=4
    )
    assert sampleset.first.energy == pytest.approx(-(n - 2))
    assert sampleset.info["scan"] == scan and sampleset.info["beta_range"] == [0.1, 5.0]


def test_same_seed_same_samples_and_generator_seed():
    bqm = random_bqm(10, 0, "SPIN")
    sampler = BoltzmannSampler()
    first = sampler.sample(bqm, num_reads=8, num_sweeps=20, seed=123)
    second = sampler.sample(bqm, num_reads=8, num_sweeps=20, seed=123)
    np.testing.assert_array_equal(first.record.sample, second.record.sample)
    third = sampler.sample(bqm, num_reads=8, num_sweeps=20, seed=np.random.default_rng(123))
    np.testing.assert_array_equal(first.record.sample, third.record.sample)


def test_initial_states_and_zero_temperature_descent():
    bqm = random_bqm(12, 9, "SPIN", scale=5.0)
    ground = dimod.ExactSolver().sample(bqm).first
    # beta = inf: deterministic descent, so a ground state stays put
    sampleset = BoltzmannSampler().sample(
        bqm, initial_states=ground.sample, beta_schedule_type="custom", beta_schedule=[np.inf] * 3, seed=0
    )
    assert len(sampleset) == 1
    assert sampleset.first.sample == ground.sample
    # BINARY initial states for a SPIN bqm are converted; "tile" repeats them
    binary_state = {v: (x + 1) // 2 for v, x in ground.sample.items()}
    tiled = BoltzmannSampler().sample(
        bqm,
        num_reads=4,
        initial_states=dimod.SampleSet.from_samples(binary_state, "BINARY", 0.0),
        initial_states_generator="tile",
        beta_schedule_type="custom",
        beta_schedule=[np.inf],
    )
    assert all(sample == ground.sample for sample in tiled.samples())
    # descent never raises the energy of any start
    starts = [{v: int(x) for v, x in zip(bqm.variables, row)} for row in np.random.default_rng(0).choice([-1, 1], (5, 12))]
    descended = BoltzmannSampler().sample(
        bqm, initial_states=starts, beta_schedule_type="custom", beta_schedule=[np.inf] * 5
    )
    by_start = dict(zip(range(5), descended.record.energy))  # same order as the starts
    for k, start in enumerate(starts):
        assert by_start[k] <= bqm.energy(start) + 1e-12


def test_num_sweeps_per_beta_and_custom_schedule():
    bqm = random_bqm(6, 1, "BINARY")
    sampleset = BoltzmannSampler().sample(
        bqm, num_reads=2, beta_schedule_type="custom", beta_schedule=[0.5, 1.0, 2.0], num_sweeps_per_beta=2, seed=0
    )
    assert sampleset.info["beta_range"] == [0.5, 2.0]
    dimod.testing.assert_sampleset_energies(sampleset, bqm)


# ---------------------------------------------------------------------------- sampler errors
@pytest.mark.parametrize(
    "options, match",
    [
        ({"beta_schedule_type": "custom"}, "beta_schedule must be given"),
        ({"beta_schedule": [1.0, 2.0]}, "only used with beta_schedule_type='custom'"),
        ({"beta_schedule_type": "custom", "beta_schedule": [0.0, 1.0]}, "must be > 0"),
        ({"beta_schedule_type": "custom", "beta_schedule": [1.0, 2.0], "num_sweeps": 3}, "num_sweeps must be None"),
        ({"beta_range": (0.0, 1.0)}, "must be > 0"),
        ({"beta_range": (1.0, 2.0, 3.0)}, "two numbers"),
        ({"beta_range": (1.0, np.inf)}, "finite"),
        ({"beta_schedule_type": "cubic"}, "beta_schedule_type must be one of"),
        ({"num_sweeps": 10, "num_sweeps_per_beta": 3}, "multiple of num_sweeps_per_beta"),
        ({"num_reads": 0}, "num_reads"),
        ({"num_sweeps": 0}, "num_sweeps"),
        ({"seed": -1}, "seed"),
        ({"scan": "diagonal"}, "scan must be one of"),
        ({"randomize_order": True, "scan": "chromatic"}, "contradicts"),
        ({"proposal_acceptance_criteria": "Glauber"}, "proposal_acceptance_criteria"),
        ({"initial_states_generator": "zeros"}, "initial_states_generator"),
    ],
)
def test_sampler_refuses_bad_parameters(options, match):
    with pytest.raises(ValueError, match=match):
        BoltzmannSampler().sample(random_bqm(4, 0, "SPIN"), **options)


def test_sampler_type_errors_and_unknown_arguments():
    sampler = BoltzmannSampler()
    with pytest.raises(ParameterTypeError, match="dimod.BinaryQuadraticModel"):
        sampler.sample({"a": 1.0})
    with pytest.raises(TypeError, match="num_reads"):
        sampler.sample(random_bqm(3, 0, "SPIN"), num_reads=2.5)
    with pytest.raises(TypeError, match="randomize_order"):
        sampler.sample(random_bqm(3, 0, "SPIN"), randomize_order="yes")
    # dimod's contract: unknown keywords are dropped with a warning
    with pytest.warns(dimod.exceptions.SamplerUnknownArgWarning):
        sampleset = sampler.sample(random_bqm(3, 0, "SPIN"), num_sweeps=5, interrupt_function=None)
    assert len(sampleset) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sampler.sample(random_bqm(3, 0, "SPIN"), num_sweeps=5)


def test_metropolis_acceptance_finds_exact_ground_states():
    bqm = random_bqm(10, 3, "SPIN")
    ground = dimod.ExactSolver().sample(bqm).first.energy
    result = BoltzmannSampler().sample(
        bqm, num_reads=10, num_sweeps=500, proposal_acceptance_criteria="Metropolis", seed=5
    )
    assert result.first.energy == pytest.approx(ground)
    dimod.testing.assert_sampleset_energies(result, bqm)
