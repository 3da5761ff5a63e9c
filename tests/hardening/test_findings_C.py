"""Fuzzer findings of group C (issue 11): samplers, pgmpy/dimod interop, schedules, plotting.

Each case failed before its fix with an error that was not a pgm_energy error naming the
parameter (a plain ValueError/TypeError, an AttributeError, a ComplexWarning, a NaN
result), or ran until killed. Small models only: the whole file runs in a few seconds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pgm_energy as pe
from pgm_energy import plotting, schedules
from pgm_energy._validation import MAX_SWEEPS
from pgm_energy.exceptions import ModelSizeError, ParameterTypeError, PGMEnergyError, ValidationError
from pgm_energy.samplers import GibbsSampler, ParallelTemperingSampler, SimulatedAnnealingSampler

RBM = pe.RestrictedBoltzmannMachine.random(3, 2, rng=0)
BM = RBM.to_boltzmann_machine()
HUGE = 2**63  # does not fit the kernels' int64 sweep counters


def _named(error_type, match, call):
    """``call()`` raises ``error_type`` (a PGMEnergyError) whose message matches ``match``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning or RuntimeWarning is a failure too
        with pytest.raises(error_type, match=match) as caught:
            call()
    assert isinstance(caught.value, PGMEnergyError)
    return caught.value


# --------------------------------------------------------------------------- 11, 16: counts
@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: RBM.sample(4, burn_in=HUGE, rng=0), "burn_in=9223372036854775808"),
        (lambda: RBM.sample(4, thin=HUGE, rng=0), "thin=9223372036854775808"),
        (lambda: BM.sample(4, burn_in=MAX_SWEEPS, rng=0), "burn_in=268435456 \\+ n_samples=1"),
        (lambda: GibbsSampler(burn_in=0).sample(BM, MAX_SWEEPS + 1, keep="last"), "n_samples=268435457"),
        (lambda: GibbsSampler(burn_in=0).sample(RBM, MAX_SWEEPS + 1, keep="last"), "n_samples=268435457"),
        (lambda: ParallelTemperingSampler([1.0, 2.0], burn_in=HUGE), "burn_in=9223372036854775808"),
        (lambda: ParallelTemperingSampler([1.0, 2.0], thin=2**27).sample(BM, 3), "n_samples=3 x thin=134217728"),
        (lambda: pe.samplers._block.sample_rbm(RBM, 1, thin=HUGE), "thin=9223372036854775808"),
    ],
)
def test_sweep_counts_beyond_max_sweeps_are_refused_up_front(call, match):
    import pgm_energy.samplers._block  # noqa: F401  (the block sampler's own entry point)

    _named(ModelSizeError, match, call)


def test_chain_counts_are_refused_before_the_initial_states_are_blamed():
    start = np.zeros((3, BM.n_units), np.uint8)
    _named(ModelSizeError, "n_samples=1000000000000", lambda: SimulatedAnnealingSampler(n_sweeps=10).sample(
        BM, 10**12, initial_states=start))
    _named(ModelSizeError, "n_chains=1000000000000", lambda: GibbsSampler(burn_in=1).sample(
        BM, 1, n_chains=10**12, initial_states=start))
    _named(ModelSizeError, "n_chains=1000000000000", lambda: ParallelTemperingSampler([1.0, 2.0], burn_in=1).sample(
        BM, 1, n_chains=10**12, initial_states=start))
    # a small n_samples that disagrees with the initial states: the message names n_samples, not n_chains
    _named(ValidationError, r"\(n_samples, 5\) = \(2, 5\)", lambda: SimulatedAnnealingSampler(n_sweeps=10).sample(
        BM, 2, initial_states=start))


def test_a_run_of_max_sweeps_keeping_the_last_draw_holds_no_array_per_sweep(monkeypatch):
    # (at the bound: the per-sweep arrays of 2**28 sweeps would take 4 GiB; the first chunk is all that is made)
    import pgm_energy.samplers.gibbs as gibbs

    made = []

    def spy(start, stop, *args, **keywords):
        made.append(stop - start)
        raise KeyboardInterrupt  # stop after the first kernel call's arrays

    monkeypatch.setattr(gibbs.pipeline, "record_slots", spy)
    with pytest.raises(KeyboardInterrupt):
        GibbsSampler(burn_in=MAX_SWEEPS - 1).sample(BM, 1, keep="last", rng=0)
    assert made and made[0] < 10**7


# --------------------------------------------------------------------------- 14: pgmpy GibbsSampling drop-in
def _malformed_sparse():
    """A CSR array whose indptr points past its data (iterating it raises scipy's ValueError)."""
    import scipy.sparse as sp

    return sp.csr_array((np.array([1.0, 1.0]), np.array([1, 0]), np.array([0, 7, 2, 2])), shape=(3, 3))


@pytest.fixture(scope="module")
def pgmpy_gibbs():
    from pgm_energy.interop.pgmpy_gibbs import GibbsSampling

    return GibbsSampling(RBM.to_markov_network())


def test_pgmpy_gibbs_arguments_are_named(pgmpy_gibbs):
    sampler = pgmpy_gibbs
    _named(ParameterTypeError, "size must be an integer, got None", lambda: sampler.generate_sample(size=None))
    _named(ParameterTypeError, "include_latents", lambda: sampler.generate_sample(include_latents=np.array([1, 0])))
    _named(ParameterTypeError, "include_latents", lambda: sampler.sample(size=3, include_latents=np.array([1, 0])))
    _named(ValidationError, "start_state must hold one state index per variable",
           lambda: sampler.set_start_state([[0, 1], [1]]))
    _named(ValidationError, r"start_state\['v0'\] must be a state index", lambda: sampler.set_start_state(
        [[0, 1], [1], 0, 0, 0]))
    _named(ParameterTypeError, "start_state", lambda: sampler.sample(start_state=np.array(1), size=2))
    _named(ModelSizeError, "burn_in=9223372036854775808", lambda: sampler.sample(size=3, burn_in=HUGE))
    _named(ModelSizeError, "thin=9223372036854775808", lambda: sampler.sample(size=3, thin=HUGE))
    _named(ModelSizeError, "size=1000000000000 rows", lambda: sampler.sample(size=10**12, burn_in=HUGE))
    _named(ParameterTypeError, "start_state", lambda: sampler.set_start_state(_malformed_sparse()))


def test_pgmpy_gibbs_valid_calls_still_work(pgmpy_gibbs):
    rows = pgmpy_gibbs.sample(size=3, seed=0, include_latents=True)
    assert rows.shape == (3, RBM.n_units)
    states = list(pgmpy_gibbs.generate_sample(size=2, seed=0, include_latents=np.True_))
    assert len(states) == 2 and len(states[0]) == RBM.n_units


def test_compile_factors_checks_its_arguments(pgmpy_gibbs):
    from pgm_energy.interop.pgmpy_gibbs import compile_factors

    factors = list(RBM.to_markov_network().get_factors())
    names = list(RBM.names)
    _named(ParameterTypeError, "factors must be an iterable", lambda: compile_factors(None, ["a"]))
    _named(ParameterTypeError, "factors must hold pgmpy DiscreteFactors", lambda: compile_factors([np.zeros(2)], ["a"]))
    _named(ParameterTypeError, "factors must be an iterable", lambda: compile_factors(np.array(1.0), ["a"]))
    _named(ParameterTypeError, "factors must be an iterable", lambda: compile_factors(_malformed_sparse(), ["a"]))
    _named(ParameterTypeError, "variables must be a list", lambda: compile_factors(factors, None))
    _named(ParameterTypeError, "variables must be hashable", lambda: compile_factors(factors, [["v0"]]))
    _named(ValidationError, "variables must not repeat", lambda: compile_factors(factors, names + names[:1]))
    compiled, _, cardinalities = compile_factors(iter(factors), np.array(names))
    assert compiled.n_factors == len(factors) and set(cardinalities) == set(names)


# --------------------------------------------------------------------------- 15: dimod sampler
@pytest.fixture(scope="module")
def bqm():
    pytest.importorskip("dimod")
    from pgm_energy.interop.dimod import to_bqm

    return to_bqm(BM)


@pytest.mark.parametrize(
    "options, error, match",
    [
        (dict(beta_range=np.array([0.1 + 1j, 3])), ValidationError, "beta_range must be real"),
        (dict(beta_schedule_type="custom", beta_schedule=[1j, 2]), ValidationError, "beta_schedule must be real"),
        (dict(initial_states={"zz": 1}), ValidationError, r"initial_states must be samples-like.*\{'zz': 1\}"),
        (dict(initial_states=float("inf")), ValidationError, "initial_states must be samples-like.*inf"),
        (dict(initial_states=-(2**63)), ValidationError, "initial_states must be samples-like"),
        (dict(seed=1e308), ValidationError, "seed must be None.*1e\\+308"),
        (dict(seed=True), ValidationError, "seed must be None.*True"),
        (dict(num_reads=10**12), ModelSizeError, "num_reads=1000000000000"),
        (dict(num_sweeps=10**12), ModelSizeError, "num_sweeps must be at most"),
        (dict(num_sweeps=HUGE), ModelSizeError, "num_sweeps must be at most"),
        (dict(beta_schedule_type="custom", beta_schedule=np.ones(1000), num_sweeps_per_beta=10**6),
         ModelSizeError, "num_sweeps_per_beta must be at most"),
    ],
)
def test_dimod_sampler_arguments_are_named(bqm, options, error, match):
    from pgm_energy.interop.dimod import BoltzmannSampler

    _named(error, match, lambda: BoltzmannSampler().sample(bqm, **options))


def test_dimod_sampler_valid_initial_states_still_work(bqm):
    from pgm_energy.interop.dimod import BoltzmannSampler

    start = (np.zeros((2, BM.n_units), np.int8), list(bqm.variables))
    result = BoltzmannSampler().sample(bqm, initial_states=start, num_sweeps=5, seed=np.int64(1))
    assert len(result) == 2


# --------------------------------------------------------------------------- 22: schedules
def test_inverse_linear_refuses_temperatures_whose_inverse_overflows():
    with np.errstate(all="raise"):
        _named(ValidationError, "t_start=1e-310", lambda: schedules.inverse_linear(1e-310, 1.0, 5))
        _named(ValidationError, "t_end=1e-310", lambda: schedules.inverse_linear(1.0, 1e-310, 5))


def test_as_temperatures_takes_only_bools_and_a_string_name():
    _named(ParameterTypeError, "allow_zero", lambda: schedules.as_temperatures([2.0, 1.0], allow_zero=np.array([1, 0])))
    _named(ParameterTypeError, "name must be a string", lambda: schedules.as_temperatures([2.0, 1.0], name=None))
    np.testing.assert_array_equal(schedules.as_temperatures([2.0, 0.0], allow_zero=np.True_), [2.0, 0.0])


# --------------------------------------------------------------------------- 23: plotting
@pytest.mark.parametrize(
    "options, error, match",
    [
        (dict(image_shape=True), ParameterTypeError, "image_shape must be a \\(height, width\\) pair"),
        (dict(image_shape=np.array(2)), ParameterTypeError, "image_shape must be a \\(height, width\\) pair"),
        (dict(image_shape=(2, "a")), ParameterTypeError, r"image_shape\[1\]"),
        (dict(image_shape=[2, [2, 3]]), ParameterTypeError, r"image_shape\[1\]"),
        (dict(scale=np.array([1, 2])), ValidationError, "scale must be 'each', 'all' or 'none'"),
        (dict(scale=None), ValidationError, "scale must be 'each', 'all' or 'none', got None"),
        (dict(n_columns=10**12), ValidationError, "n_columns=1000000000000"),
        (dict(padding=10**12), ValidationError, "padding=1000000000000"),
    ],
)
def test_tile_images_arguments_are_named(options, error, match):
    arguments = dict(images=np.zeros((3, 4)), image_shape=(2, 2)) | options
    _named(error, match, lambda: plotting.tile_images(**arguments))


def test_plot_images_refuses_a_ragged_picture():
    _named(ValidationError, "images must be", lambda: plotting.plot_images([[0, 1], [2]], (1, 2)))


def test_tile_images_valid_calls_are_unchanged():
    picture = plotting.tile_images(np.arange(12.0).reshape(3, 4), np.array([2, 2]), n_columns=5)
    assert picture.shape == (2, 14)  # empty columns stay black, as before
    np.testing.assert_array_equal(picture[:, :2], [[0, 85], [170, 255]])


# --------------------------------------------------------------------------- 25: pgmpy binary_factor
@pytest.mark.parametrize(
    "variables, values, error, match",
    [
        (np.int64(2), [1.0, 2, 3, 4], ParameterTypeError, "variables must be a list"),
        (np.array("a"), [1.0, 2], ParameterTypeError, "variables must be a list"),
        ("ab", [1.0, 2, 3, 4], ParameterTypeError, "variables must be a list.*'ab'"),
        (["a", "a"], [1.0, 2, 3, 4], ValidationError, "variables must be unique"),
        (["a", 1], [1.0, 2, 3, 4], ValidationError, "variables must be non-empty strings"),
        (["a", "b"], 0, ValidationError, r"values must hold 2\*\*2 entries"),
        (["a", "b"], [1.0, 2, 3, np.nan], ValidationError, "values must be finite"),
        (["a", "b"], np.array([1, 2, 3, 4j]), ValidationError, "values must be real"),
        (["a", "b"], [1.0, -2, 3, 4], ValidationError, "values must be >= 0"),
    ],
)
def test_binary_factor_arguments_are_named(variables, values, error, match):
    from pgm_energy.interop.pgmpy import binary_factor

    _named(error, match, lambda: binary_factor(variables, values))


def test_binary_factor_and_elimination_queries_take_arrays_of_names():
    from pgm_energy.interop.pgmpy import binary_factor, variable_elimination_query

    factor = binary_factor(np.array(["a", "b"]), [[1.0, 2.0], [3.0, 4.0]])
    assert factor.variables == ["a", "b"] and factor.values.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    network = RBM.to_markov_network()
    _named(ParameterTypeError, "variables must be a list", lambda: variable_elimination_query(network, np.array("v0")))
    marginal = variable_elimination_query(network, np.array(["v0"]))
    assert marginal.values.sum() == pytest.approx(1.0)
