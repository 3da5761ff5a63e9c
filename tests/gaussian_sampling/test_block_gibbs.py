"""Block Gibbs of Gaussian-Bernoulli RBMs through GibbsSampler, against exact moments.

Statistical checks use the sampler's own standard errors (sd / sqrt(ESS)) with a bound of 4.5
standard errors per estimate: a false failure rate below 7e-6 per estimate, below 1e-3 for the
file's estimates together (about 100), with fixed seeds.
"""

from __future__ import annotations

import numpy as np
import pytest

from pgm_energy import exact
from pgm_energy.exceptions import EvidenceError, StateError, ValidationError
from pgm_energy.learning._gaussian_likelihood import hidden_moments
from pgm_energy.models import GaussianBernoulliRBM
from pgm_energy.samplers import GibbsSampler
from pgm_energy.samplers.real_sampleset import RealSampleSet

BOUND = 4.5


def machine(seed=0, n_visible=4, n_hidden=3, scale=0.6):
    rng = np.random.default_rng(seed)
    return GaussianBernoulliRBM(rng.normal(0, scale, (n_visible, n_hidden)), rng.normal(size=n_visible),
                                rng.normal(0, 0.5, n_hidden), np.exp(rng.normal(0, 0.2, n_visible)))


def assert_within(estimate, errors, expected, what):
    z = np.abs(np.asarray(estimate) - np.asarray(expected)) / np.maximum(np.asarray(errors), 1e-12)
    assert (z < BOUND).all(), f"{what}: z = {np.round(z, 2)}"


def exact_moments(model):
    """Exact means of every unit, and variances of the visible ones, from p(h) (the hidden layer enumerated)."""
    log_sigma = np.log(model.sigma)
    _, mean_h, second = hidden_moments(np.array(model.weights), np.array(model.visible_bias),
                                       np.array(model.hidden_bias), log_sigma)
    mean_v = model.visible_bias + model.weights @ mean_h
    covariance_h = second - np.outer(mean_h, mean_h)
    variance_v = model.sigma**2 + np.einsum("ij,jk,ik->i", model.weights, covariance_h, model.weights)
    return np.concatenate([mean_v, mean_h]), variance_v


def test_draws_have_the_exact_means_and_variances():
    model = machine(1)
    samples = GibbsSampler(burn_in=50).sample(model, 20_000, n_chains=4, rng=3, progress=False)
    assert isinstance(samples, RealSampleSet) and samples.states.dtype == np.float64
    assert samples.info["scan"] == "block"
    means, variances = exact_moments(model)
    assert_within(samples.marginals().to_numpy(), samples.marginal_standard_errors().to_numpy(), means, "means")
    # hidden means are p(h_j = 1): the exact marginals of the Gray-code enumeration, an independent oracle
    np.testing.assert_allclose(means[4:], exact.marginals(model).to_numpy(), rtol=1e-10)
    visible = samples.flat_states()[:, :4]
    ess = samples.effective_sample_size()[:4]
    # the standard error of a sample variance: sqrt((m4 - var^2) / ESS), m4 the fourth central moment
    # (a mixture of Gaussians is not Gaussian: its m4 is measured, not assumed to be 3 var^2)
    centred = visible - visible.mean(axis=0)
    fourth = np.mean(centred**4, axis=0)
    assert_within(visible.var(axis=0), np.sqrt((fourth - visible.var(axis=0) ** 2) / ess), variances, "visible variances")
    assert set(np.unique(samples.flat_states()[:, 4:])) <= {0.0, 1.0}


def test_visible_evidence_gives_the_exact_conditional_hidden_marginals_and_temperature_scales():
    model = machine(2)
    evidence = {"v0": 0.7, "v2": -1.1}
    samples = GibbsSampler(burn_in=20).sample(model, 10_000, n_chains=4, evidence=evidence, temperature=1.7, rng=4,
                                              progress=False)
    flat = samples.flat_states()
    assert (flat[:, 0] == 0.7).all() and (flat[:, 2] == -1.1).all()
    expected = exact.marginals(model.with_temperature(1.7), evidence=evidence).to_numpy()
    assert_within(samples.marginals().to_numpy()[4:], samples.marginal_standard_errors().to_numpy()[4:], expected,
                  "hidden marginals given visible evidence at T = 1.7")


def test_hidden_evidence_gives_the_conditional_gaussian():
    model = machine(3)
    evidence = {"h0": 1, "h1": 0, "h2": 1}
    samples = GibbsSampler(burn_in=1).sample(model, 5_000, n_chains=2, evidence=evidence, rng=5, progress=False)
    visible = samples.flat_states()[:, :4]
    mean = model.visible_bias + model.weights @ np.array([1.0, 0.0, 1.0])
    errors = model.sigma / np.sqrt(visible.shape[0])  # independent draws: every sweep draws v | h afresh
    assert_within(visible.mean(axis=0), errors, mean, "v | h means")


def test_same_rng_same_bits_whatever_the_cut_and_keep_last_is_the_last_draw(monkeypatch):
    model = machine(4)
    sampler = GibbsSampler(burn_in=7, thin=3)
    first = sampler.sample(model, 40, n_chains=3, rng=11, progress=False)
    monkeypatch.setattr("pgm_energy._launch.TARGET_SECONDS", 0.0)  # one sweep per call
    cut = sampler.sample(model, 40, n_chains=3, rng=11, progress=False)
    np.testing.assert_array_equal(cut.states, first.states)
    last = sampler.sample(model, 40, n_chains=3, rng=11, progress=False, keep="last")
    np.testing.assert_array_equal(last.states[:, 0], first.states[:, -1])
    assert not np.array_equal(sampler.sample(model, 40, n_chains=3, rng=12, progress=False).states, first.states)


def test_energies_are_the_models_and_initial_states_are_used():
    model = machine(5)
    start = np.concatenate([np.full(4, 0.5), [1.0, 0.0, 1.0]])
    samples = GibbsSampler(burn_in=0).sample(model, 3, n_chains=2, initial_states=start, rng=0, progress=False)
    flat = samples.flat_states()
    np.testing.assert_allclose(samples.energies.ravel(), model.energy(flat[:, :4], flat[:, 4:]), rtol=1e-12)
    assert samples.to_pandas().columns.tolist() == list(model.names)


def test_bad_arguments_are_named():
    model = machine(6)
    with pytest.raises(StateError, match="initial_states"):
        GibbsSampler().sample(model, 2, initial_states=np.zeros(3), rng=0)
    with pytest.raises(StateError, match="0/1 for the hidden units"):
        GibbsSampler().sample(model, 2, initial_states=np.full(7, 0.5), rng=0)
    with pytest.raises(ValidationError, match="scan='auto'"):
        GibbsSampler(scan="chromatic").sample(model, 2, rng=0)
    with pytest.raises(EvidenceError):
        GibbsSampler().sample(model, 2, evidence={"nope": 1.0}, rng=0)
    with pytest.raises(EvidenceError):
        GibbsSampler().sample(model, 2, evidence={"h0": 0.5}, rng=0)
    with pytest.raises(ValidationError, match="keep"):
        GibbsSampler().sample(model, 2, keep="first", rng=0)


def test_ctrl_c_between_calls_keeps_the_model(monkeypatch):
    import pgm_energy._launch as launch

    model = machine(7)
    weights = model.weights.copy()
    calls = []
    original = launch.run_chunked

    def interrupting(total, run, **options):
        def once(start, stop):
            calls.append(start)
            if len(calls) == 2:
                raise KeyboardInterrupt
            run(start, stop)

        return original(total, once, **options)

    monkeypatch.setattr("pgm_energy.samplers._pipeline.run_chunked", interrupting)
    monkeypatch.setattr("pgm_energy._launch.TARGET_SECONDS", 0.0)
    with pytest.raises(KeyboardInterrupt):
        GibbsSampler(burn_in=0).sample(model, 100, rng=0, progress=False)
    np.testing.assert_array_equal(model.weights, weights)


def two_mode_machine():
    """One hidden unit moving the visible means by 6 sigma: the two modes (h = 0, h = 1) balanced, with
    p(h = 1 | v) about e^-54 at one mode's centre, so that block Gibbs stays where it starts."""
    weights = np.full((3, 1), 6.0)
    visible_bias = np.zeros(3)
    hidden_bias = np.array([-(weights[:, 0] ** 2).sum() / 2.0 + 0.4])  # p(h = 1) = sigmoid(0.4)
    return GaussianBernoulliRBM(weights, visible_bias, hidden_bias, np.ones(3))


def test_tempering_crosses_between_modes_that_trap_block_gibbs():
    from pgm_energy.samplers import ParallelTemperingSampler

    model = two_mode_machine()
    start = np.array([0.0, 0.0, 0.0, 0.0])  # the h = 0 mode
    expected = exact.marginals(model).to_numpy()[0]  # sigmoid(0.4), by enumeration
    plain = GibbsSampler(burn_in=10).sample(model, 2_000, n_chains=4, initial_states=start, rng=2, progress=False)
    assert abs(plain.marginals().to_numpy()[3] - expected) > 0.5  # never left the start
    ladder = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    tempered = ParallelTemperingSampler(ladder, burn_in=200).sample(model, 20_000, n_chains=4, initial_states=start,
                                                                     rng=2, progress=False)
    assert isinstance(tempered, RealSampleSet) and tempered.temperature == 1.0
    assert (tempered.info["swap_acceptance"] > 0.05).all()
    assert_within(tempered.marginals().to_numpy()[3], tempered.marginal_standard_errors().to_numpy()[3], expected,
                  "p(h = 1) under tempering")
    means, _ = exact_moments(model)
    assert_within(tempered.marginals().to_numpy()[:3], tempered.marginal_standard_errors().to_numpy()[:3], means[:3],
                  "visible means under tempering")
