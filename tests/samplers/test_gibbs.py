"""GibbsSampler: results, validation, reproducibility, thread-count independence, evidence."""

import time
from contextlib import contextmanager

import numba
import numpy as np
import pytest
import scipy.sparse as sp

from pgm_energy import BoltzmannMachine, EvidenceError, ParameterTypeError, StateError, ValidationError
from pgm_energy.samplers import GibbsSampler, SampleSet
from pgm_energy.samplers import _layout as layout_module
from pgm_energy.samplers import _single_site as single_site_module
from pgm_energy.samplers._single_site import FasterOfTwo

SCANS = ["sequential", "random", "chromatic"]


@contextmanager
def numba_threads(n):
    """Numba's thread count set to ``n`` for the block, then restored."""
    previous = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def machine(n_units=9, seed=0, *, sparse=False, offset=0.0):
    rng = np.random.default_rng(seed)
    weights = np.triu(rng.normal(size=(n_units, n_units)) * (rng.random((n_units, n_units)) < 0.5), 1)
    weights = weights + weights.T
    return BoltzmannMachine(sp.csr_array(weights) if sparse else weights, rng.normal(size=n_units), offset=offset)


def lattice(side):
    """Periodic 2-D Ising lattice as a sparse Boltzmann machine (4 neighbours, J = 1)."""
    index = np.arange(side * side).reshape(side, side)
    rows = np.concatenate([index.ravel(), index.ravel()])
    cols = np.concatenate([np.roll(index, 1, 0).ravel(), np.roll(index, 1, 1).ravel()])
    couplings = sp.coo_array((np.ones(rows.size), (rows, cols)), shape=(side * side,) * 2).tocsr()
    return BoltzmannMachine.from_ising(np.zeros(side * side), couplings + couplings.T, temperature=2.5)


@pytest.mark.parametrize("scan", SCANS)
def test_result_layout(scan):
    model = machine(offset=1.5)
    result = GibbsSampler(burn_in=3, thin=2, scan=scan).sample(model, 7, n_chains=3, rng=0)
    assert isinstance(result, SampleSet)
    assert result.states.shape == (3, 7, model.n_units) and result.states.dtype == np.uint8
    assert result.energies.shape == (3, 7)
    np.testing.assert_allclose(result.energies.ravel(), model.energy(result.flat_states()), atol=1e-12)
    assert result.names == model.names and result.temperature == model.temperature
    info = result.info
    assert info["scan"] == scan and info["sweeps"] == 3 + 7 * 2 and info["n_threads"] >= 1
    assert set(info["seconds"]) >= {"setup", "sampling", "energies"}
    if scan == "chromatic":
        assert info["n_colours"] >= 2


@pytest.mark.parametrize("scan", ["sequential", "chromatic"])
def test_grouped_drivers_run_only_for_large_calls_and_draw_the_same_states(scan, monkeypatch):
    """Below GROUPED_MIN_WORK the one-chain-per-thread kernels run; the grouped drivers draw the same bits."""
    rng = np.random.default_rng(3)  # irregular and sparse, degrees above 4: CSR rows, not padded ones
    weights = sp.triu(sp.random_array((300, 300), density=0.03, random_state=rng), 1)
    model = BoltzmannMachine(sp.csr_array(weights + weights.T), rng.normal(size=300))
    sampler = GibbsSampler(burn_in=4, scan=scan)
    driver = "chromatic_groups_driver" if scan == "chromatic" else "chain_groups_driver"
    from pgm_energy._kernels import gibbs as kernels

    asked = []
    original = getattr(kernels, driver)
    monkeypatch.setattr(kernels, driver, lambda *args: asked.append(args) or original(*args))
    small = sampler.sample(model, 6, n_chains=8, rng=11)  # 8 chains: 4 lanes at 1 or 2 threads
    assert asked == []
    monkeypatch.setattr(single_site_module, "GROUPED_MIN_WORK", 0)
    grouped = sampler.sample(model, 6, n_chains=8, rng=11)
    assert asked and asked[0][0] == 4
    np.testing.assert_array_equal(grouped.states, small.states)


@pytest.mark.parametrize("scan", SCANS)
def test_same_rng_same_samples_and_different_rng_different_samples(scan):
    model = machine()
    sampler = GibbsSampler(burn_in=5, scan=scan)
    first = sampler.sample(model, 50, rng=42).states
    np.testing.assert_array_equal(first, sampler.sample(model, 50, rng=42).states)
    np.testing.assert_array_equal(first, sampler.sample(model, 50, rng=np.random.default_rng(42)).states)
    assert not np.array_equal(first, sampler.sample(model, 50, rng=43).states)


@pytest.mark.parametrize("scan", SCANS)
@pytest.mark.parametrize("model", [machine(12, 3), lattice(72)], ids=["small", "lattice"])
def test_samples_do_not_depend_on_the_thread_count(scan, model, monkeypatch):
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.fail("this test needs Numba to allow at least 2 threads")
    monkeypatch.setattr(single_site_module, "PARALLEL_CLASS_SIZE", 1)  # 2 threads, 1 chain: split classes
    sampler = GibbsSampler(burn_in=2, scan=scan)
    results = []
    for threads in (1, 2):
        with numba_threads(threads):
            # one chain (the lattice's classes are then split across threads) and several
            results.append([sampler.sample(model, 3, n_chains=k, rng=7).states for k in (1, 3)])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


def test_chromatic_parallel_classes_and_parallel_chains_draw_the_same_states(monkeypatch):
    model = lattice(64)
    sampler = GibbsSampler(burn_in=2, scan="chromatic")
    with numba_threads(2):
        monkeypatch.setattr(single_site_module, "PARALLEL_CLASS_SIZE", 1)
        by_class = sampler.sample(model, 3, n_chains=1, rng=3)
        monkeypatch.setattr(single_site_module, "PARALLEL_CLASS_SIZE", 10**9)
        by_chain = sampler.sample(model, 3, n_chains=1, rng=3)
    assert by_class.info["parallel_over"] == "classes" and by_chain.info["parallel_over"] == "chains"
    np.testing.assert_array_equal(by_class.states, by_chain.states)


def test_the_faster_runner_takes_the_chunks_and_the_slower_is_retried():
    calls = []

    def slow(start, stop):
        calls.append(("slow", start, stop))
        time.sleep(0.002 * (stop - start))

    def fast(start, stop):
        calls.append(("fast", start, stop))

    chooser = FasterOfTwo(slow, fast)
    for start in range(0, 40, 2):
        chooser(start, start + 2)
    names = [name for name, _, _ in calls]
    assert names[:4] == ["slow", "fast", "slow", "fast"]  # the probes alternate
    after = names[4:]
    assert after.count("slow") == sum(1 for k in range(4, 20) if k % FasterOfTwo.RETRY == 0)
    assert chooser.used == [2 * names.count("slow"), 2 * names.count("fast")]
    # every sweep ran exactly once, in order
    assert [(start, stop) for _, start, stop in calls] == [(s, s + 2) for s in range(0, 40, 2)]


def test_switching_kernels_mid_run_changes_no_draw(monkeypatch):
    model = lattice(32)
    sampler = GibbsSampler(burn_in=5, scan="chromatic")
    with numba_threads(2):
        monkeypatch.setattr(single_site_module, "PARALLEL_CLASS_SIZE", 1)
        monkeypatch.setattr("pgm_energy._launch.TARGET_SECONDS", 0.0)  # one sweep a chunk: both kernels run
        switched = sampler.sample(model, 20, n_chains=1, rng=5, progress=False)
        monkeypatch.setattr(single_site_module, "PARALLEL_CLASS_SIZE", 10**9)
        by_chain = sampler.sample(model, 20, n_chains=1, rng=5, progress=False)
    assert switched.info["parallel_over"] == "classes"
    assert 0 < switched.info["sweeps_over_classes"] < switched.info["sweeps"]
    np.testing.assert_array_equal(switched.states, by_chain.states)


@pytest.mark.parametrize("scan", SCANS)
def test_dense_and_csr_kernels_draw_the_same_states(scan, monkeypatch):
    dense_model, sparse_model = machine(10, 5), machine(10, 5, sparse=True)
    monkeypatch.setattr(layout_module, "CSR_DENSITY", 0.0)
    dense = GibbsSampler(burn_in=10, scan=scan).sample(dense_model, 40, rng=1)
    monkeypatch.setattr(layout_module, "CSR_DENSITY", 1.0)
    csr = GibbsSampler(burn_in=10, scan=scan).sample(sparse_model, 40, rng=1)
    assert (dense.info["storage"], csr.info["storage"]) == ("dense", "csr")
    np.testing.assert_array_equal(dense.states, csr.states)


@pytest.mark.parametrize("scan", SCANS)
def test_evidence_is_clamped_and_overrides_initial_states(scan):
    model = machine(8)
    evidence = {"v0": 1, "v3": 0, "v7": 1}
    initial = np.zeros(8, dtype=np.uint8)
    result = GibbsSampler(burn_in=0, scan=scan).sample(model, 30, evidence=evidence, initial_states=initial, rng=2)
    for name, value in evidence.items():
        assert np.all(result.states[:, :, model.index(name)] == value)


def test_evidence_on_every_unit_gives_that_state():
    model = machine(4)
    evidence = dict(zip(model.names, [1, 0, 0, 1]))
    for scan in SCANS:
        result = GibbsSampler(burn_in=1, scan=scan).sample(model, 5, evidence=evidence, rng=0)
        assert np.all(result.states == np.array([1, 0, 0, 1], dtype=np.uint8))


def test_initial_states_start_the_chains():
    # Biases of +-60 at T = 1 pin every unit after one sweep, whatever the start;
    # without burn-in the first draw already shows it, and two starts give the same draws.
    model = BoltzmannMachine(np.zeros((3, 3)), [60.0, -60.0, 60.0])
    for start in ([0, 1, 0], [[1, 1, 1], [0, 0, 0]]):
        result = GibbsSampler(burn_in=0).sample(model, 2, n_chains=2, initial_states=start, rng=0)
        assert np.all(result.states == np.array([1, 0, 1], dtype=np.uint8))


def test_keep_last_keeps_only_the_final_state():
    model = machine()
    full = GibbsSampler(burn_in=4, thin=3).sample(model, 6, rng=9)
    last = GibbsSampler(burn_in=4, thin=3).sample(model, 6, rng=9, keep="last")
    assert last.states.shape == (4, 1, model.n_units)
    np.testing.assert_array_equal(last.states[:, 0], full.states[:, -1])


def test_progress_bar_does_not_change_the_samples(monkeypatch, progress_updates):
    updates = progress_updates
    model = machine()
    for scan in SCANS:
        updates.clear()
        quiet = GibbsSampler(burn_in=150, scan=scan).sample(model, 120, rng=4, progress=False)
        # every kernel call one sweep: the most finely split run gives the bits of the default split
        with monkeypatch.context() as patch:
            patch.setattr("pgm_energy._launch.TARGET_SECONDS", 0.0)
            shown = GibbsSampler(burn_in=150, scan=scan).sample(model, 120, rng=4, progress=True)
        np.testing.assert_array_equal(quiet.states, shown.states)
        assert updates == [1] * (270)


def test_model_sample_delegates_to_gibbs_sampler():
    model = machine()
    direct = GibbsSampler(burn_in=7, thin=2, scan="random").sample(model, 11, n_chains=2, rng=5)
    via_model = model.sample(11, burn_in=7, thin=2, scan="random", n_chains=2, rng=5)
    np.testing.assert_array_equal(direct.states, via_model.states)
    with pytest.raises(TypeError):
        model.sample(11, bogus=1)


def test_temperature_changes_the_distribution():
    model = machine()
    cold = GibbsSampler(burn_in=50).sample(model, 300, temperature=0.05, rng=1)
    hot = GibbsSampler(burn_in=50).sample(model, 300, temperature=50.0, rng=1)
    assert cold.temperature == 0.05 and hot.temperature == 50.0
    assert cold.energies.mean() < hot.energies.mean()


@pytest.mark.parametrize(
    "options, error",
    [
        ({"burn_in": -1}, ValidationError),
        ({"burn_in": 1.5}, ParameterTypeError),
        ({"thin": 0}, ValidationError),
        ({"scan": "diagonal"}, ValidationError),
        ({"scan": None}, ValidationError),
        ({"n_sweeps": 3}, TypeError),
    ],
)
def test_bad_constructor_arguments(options, error):
    with pytest.raises(error):
        GibbsSampler(**options)


def test_errors_name_the_parameter_and_value():
    with pytest.raises(ValidationError, match=r"scan.*'diagonal'"):
        GibbsSampler(scan="diagonal")
    with pytest.raises(ValidationError, match=r"thin.*0"):
        GibbsSampler(thin=0)


@pytest.mark.parametrize(
    "args, options, error",
    [
        ((0,), {}, ValidationError),
        ((True,), {}, ParameterTypeError),
        ((5,), {"n_chains": 0}, ValidationError),
        ((5,), {"n_chains": 2.0}, ParameterTypeError),
        ((5,), {"evidence": {"nope": 1}}, EvidenceError),
        ((5,), {"evidence": {"v0": 2}}, EvidenceError),
        ((5,), {"evidence": [("v0", 1)]}, ParameterTypeError),
        ((5,), {"temperature": 0.0}, ValidationError),
        ((5,), {"temperature": -1.0}, ValidationError),
        ((5,), {"temperature": "hot"}, ParameterTypeError),
        ((5,), {"rng": "seed"}, ParameterTypeError),
        ((5,), {"rng": -3}, ValidationError),
        ((5,), {"initial_states": [0, 1]}, StateError),
        ((5,), {"initial_states": np.full(9, 2)}, StateError),
        ((5,), {"initial_states": np.zeros((3, 9))}, StateError),
        ((5,), {"progress": "yes"}, ParameterTypeError),
        ((5,), {"keep": "first"}, ValidationError),
        ((5,), {"unknown": 1}, TypeError),
    ],
)
def test_bad_sample_arguments(args, options, error):
    with pytest.raises(error):
        GibbsSampler(burn_in=1).sample(machine(), *args, **options)


def test_non_model_is_rejected():
    with pytest.raises(ParameterTypeError, match="model must be"):
        GibbsSampler().sample(np.zeros((2, 2)), 5)


def test_states_memory_is_exactly_one_byte_per_unit_and_draw():
    model = machine()
    result = GibbsSampler(burn_in=0).sample(model, 100, n_chains=3, rng=0)
    assert result.states.nbytes == 3 * 100 * model.n_units
    assert result.states.base is None or result.states.base.nbytes == result.states.nbytes


def test_rbm_is_dispatched_to_block_gibbs():
    from pgm_energy import RestrictedBoltzmannMachine

    rbm = RestrictedBoltzmannMachine.random(5, 3, scale=1.0, rng=0)
    for scan in SCANS:  # the scan does not apply to RBMs
        result = GibbsSampler(burn_in=10, thin=2, scan=scan).sample(rbm, 30, n_chains=2, rng=3)
        assert result.info["scan"] == "block" and result.names == rbm.names
        assert result.states.shape == (2, 30, 8)
        states = result.flat_states()
        np.testing.assert_allclose(result.energies.ravel(), rbm.energy(states[:, :5], states[:, 5:]), atol=1e-12)
    evidence = {"v1": 1, "h2": 0}
    clamped = GibbsSampler(burn_in=10).sample(rbm, 30, evidence=evidence, rng=4)
    assert np.all(clamped.states[:, :, 1] == 1) and np.all(clamped.states[:, :, 7] == 0)
    full = GibbsSampler(burn_in=10, thin=2).sample(rbm, 30, rng=5)
    last = GibbsSampler(burn_in=10, thin=2).sample(rbm, 30, rng=5, keep="last")
    np.testing.assert_array_equal(last.states[:, 0], full.states[:, -1])
