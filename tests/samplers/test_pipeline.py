"""The shared chain pipeline: one schema, one evidence check, one RBM conversion, renamed arguments."""

import ast
import pathlib
import subprocess
import sys
import warnings

import numpy as np
import pytest

import pgm_energy.samplers as samplers
from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine
from pgm_energy.exceptions import StateError, ValidationError
from pgm_energy.samplers import GibbsSampler, ParallelTemperingSampler, SimulatedAnnealingSampler
from pgm_energy.samplers._pipeline import check_initial_states


def _bm(n=6, seed=0):
    generator = np.random.default_rng(seed)
    weights = np.triu(generator.normal(0, 0.8, (n, n)), 1)
    return BoltzmannMachine(weights + weights.T, generator.normal(0, 0.5, n))


def _rbm(seed=1):
    generator = np.random.default_rng(seed)
    return RestrictedBoltzmannMachine(generator.normal(0, 0.7, (4, 3)), generator.normal(0, 0.3, 4),
                                      generator.normal(0, 0.3, 3))


def _results():
    bm, rbm = _bm(), _rbm()
    return {
        "gibbs": GibbsSampler(burn_in=2).sample(bm, 5, n_chains=2, rng=0),
        "gibbs-chromatic": GibbsSampler(burn_in=2, scan="chromatic").sample(bm, 5, n_chains=2, rng=0),
        "block": GibbsSampler(burn_in=2).sample(rbm, 5, n_chains=2, rng=0),
        "annealing": SimulatedAnnealingSampler(n_sweeps=5).sample(rbm, 3, rng=0),
        "tempering": ParallelTemperingSampler([1.0, 2.0], burn_in=2).sample(rbm, 5, n_chains=2, rng=0),
    }


def test_every_sampler_gives_the_same_info_schema():
    common = {"sampler", "scan", "sweeps", "n_threads", "unit_updates", "unit_updates_per_second", "seconds"}
    for name, result in _results().items():
        info = result.info
        assert common <= set(info), name
        assert set(info["seconds"]) == {"setup", "sampling", "energies"}, name
        assert all(seconds >= 0 for seconds in info["seconds"].values()), name
        assert "timings" not in info and info["unit_updates"] > 0, name


def test_unit_updates_count_the_free_units_of_every_sweep():
    model = _bm()
    result = GibbsSampler(burn_in=3, thin=2).sample(model, 4, n_chains=2, evidence={"v0": 1}, rng=0)
    assert result.info["unit_updates"] == 2 * (3 + 4 * 2) * (model.n_units - 1)
    annealed = SimulatedAnnealingSampler(n_sweeps=7).sample(model, 3, rng=0)
    assert annealed.info["unit_updates"] == 3 * 7 * model.n_units


def test_n_reads_is_a_deprecated_alias_of_n_samples():
    model, sampler = _bm(), SimulatedAnnealingSampler(n_sweeps=10)
    new = sampler.sample(model, 3, rng=5)
    with pytest.warns(DeprecationWarning, match="n_samples"):
        old = sampler.sample(model, n_reads=3, rng=5)
    np.testing.assert_array_equal(new.states, old.states)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sampler.sample(model, rng=0).n_chains == 10  # the default, without a warning
        assert sampler.sample(model, n_samples=2, rng=0).n_chains == 2
    for both in ({"n_samples": 3, "n_reads": 3}, {"n_samples": 10, "n_reads": 3}):
        with pytest.raises(TypeError, match="n_reads"):
            sampler.sample(model, rng=0, **both)
    with pytest.raises(TypeError, match="n_reads"):
        sampler.sample(model, 3, n_reads=3)
    with pytest.warns(DeprecationWarning), pytest.raises(ValidationError, match="n_reads must be >= 1"):
        sampler.sample(model, n_reads=0)  # messages use the name the caller used


def test_annealing_messages_name_n_samples():
    model = _bm()
    with pytest.raises(StateError, match=r"\(n_samples, 6\) = \(2, 6\)"):
        SimulatedAnnealingSampler(n_sweeps=3).sample(model, 2, initial_states=np.zeros((3, 6)))


@pytest.mark.parametrize("dtype", [np.float32, np.dtype("float32"), "float32", "f4"])
def test_gibbs_sampler_takes_the_dtypes_the_trainers_take(dtype):
    sampler = GibbsSampler(burn_in=3, dtype=dtype)
    assert sampler.dtype == "float32"
    rbm = _rbm()
    np.testing.assert_array_equal(
        sampler.sample(rbm, 4, rng=2).states, GibbsSampler(burn_in=3, dtype="float32").sample(rbm, 4, rng=2).states
    )


@pytest.mark.parametrize("dtype", [np.int32, "float16", None, True, np.zeros(2)])
def test_gibbs_sampler_refuses_other_dtypes_by_name(dtype):
    with pytest.raises(ValidationError, match="dtype must be 'float32' or 'float64'"):
        GibbsSampler(dtype=dtype)


def test_an_rbm_is_converted_once_for_annealing_and_tempering(monkeypatch):
    rbm = _rbm()
    calls = []
    original = RestrictedBoltzmannMachine.to_boltzmann_machine
    monkeypatch.setattr(RestrictedBoltzmannMachine, "to_boltzmann_machine",
                        lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    for _ in range(2):
        SimulatedAnnealingSampler(n_sweeps=5).sample(rbm, 2, evidence={"v0": 1}, rng=0)
        ParallelTemperingSampler([1.0, 2.0], burn_in=1).sample(rbm, 2, rng=0)
        samplers.annealing.default_schedule(rbm, 5)
    assert len(calls) == 1


def test_the_caches_let_their_models_go():
    import gc
    import weakref

    from pgm_energy.samplers import _layout

    rbm = _rbm()
    SimulatedAnnealingSampler(n_sweeps=3, scan="chromatic").sample(rbm, 2, rng=0)
    general = _layout.as_boltzmann_machine(rbm)
    assert general in _layout._LAYOUTS and general in _layout._COLOURINGS
    gone = weakref.ref(rbm), weakref.ref(general)
    del rbm, general
    gc.collect()
    assert all(ref() is None for ref in gone)


@pytest.mark.parametrize(
    "module, model",
    [("gibbs", "bm"), ("gibbs", "rbm"), ("annealing", "bm"), ("annealing", "rbm"), ("tempering", "rbm")],
)
def test_evidence_is_checked_once_per_call(module, model, monkeypatch):
    import pgm_energy._validation as validation

    seen = []
    real = validation.check_evidence

    def spy(*args, **kwargs):
        seen.append(1)
        return real(*args, **kwargs)

    for name in ("gibbs", "annealing", "tempering", "_block"):
        monkeypatch.setattr(f"pgm_energy.samplers.{name}.check_evidence", spy)
    machine = _bm() if model == "bm" else _rbm()
    sampler = {
        "gibbs": GibbsSampler(burn_in=1),
        "annealing": SimulatedAnnealingSampler(n_sweeps=3),
        "tempering": ParallelTemperingSampler([1.0, 2.0], burn_in=1),
    }[module]
    sampler.sample(machine, 2, evidence={"v1": 0}, rng=0)
    assert len(seen) == 1


def test_one_initial_state_check_for_chains_and_replicas():
    start = np.array([[0, 1, 1], [1, 0, 0]])
    np.testing.assert_array_equal(check_initial_states(start, 3, n_chains=2), start)
    np.testing.assert_array_equal(check_initial_states(start[0], 3, n_chains=2), start[[0, 0]])
    replicas = check_initial_states(start, 3, n_chains=2, n_ladder=2)
    np.testing.assert_array_equal(replicas, start[[0, 0, 1, 1]])
    each = np.arange(12).reshape(2, 2, 3) % 2
    np.testing.assert_array_equal(check_initial_states(each, 3, n_chains=2, n_ladder=2), each.reshape(4, 3))
    assert check_initial_states(None, 3, n_chains=2) is None
    given = check_initial_states(start[0], 3, n_chains=2)
    assert given.dtype == np.uint8 and given.flags.c_contiguous and given.flags.writeable
    with pytest.raises(StateError, match=r"must have shape \(3,\) or \(n_chains, 3\) = \(2, 3\), got \(2, 2, 3\)"):
        check_initial_states(each, 3, n_chains=2)
    with pytest.raises(StateError, match=r"got 2 at index \(0, 1\)"):
        check_initial_states([[0, 2, 0], [0, 0, 0]], 3, n_chains=2)


def test_samplers_import_no_private_names_from_each_other():
    folder = pathlib.Path(samplers.__file__).parent
    offending = []
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                offending += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
    assert not offending, offending


def test_block_gibbs_progress_counts_every_sweep(progress_updates):
    from pgm_energy.samplers._block import sample_rbm

    updates = progress_updates
    quiet, _ = sample_rbm(_rbm(), 130, n_chains=2, rng=0)
    shown, _ = sample_rbm(_rbm(), 130, n_chains=2, rng=0, progress=True)
    np.testing.assert_array_equal(quiet, shown)
    assert sum(updates) == 130 and updates[:2] == [64, 64]


def test_importing_the_samplers_loads_no_numba_and_no_tqdm():
    code = "import sys, pgm_energy.samplers; print(sorted({'numba', 'tqdm'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
