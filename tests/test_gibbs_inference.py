"""GibbsInference: sampled queries against the exact oracle, with their standard errors.

Fixed seeds throughout. A sampled table is accepted when every entry is within
5 of its own Monte Carlo standard errors (plus 1e-3 for entries near 0 or 1) of
the exact value: for a well-mixed chain each z-score is about N(0, 1), so with
the ~50 entries checked here a false failure has probability ~3e-5. The errors
themselves are checked for calibration: the mean squared z-score must lie in
[0.3, 3] (its expectation is 1).
"""

from __future__ import annotations

import numpy as np
import pytest

from pgm_energy import BoltzmannMachine, EvidenceError, ModelSizeError, ParameterTypeError, RestrictedBoltzmannMachine
from pgm_energy import exact
from pgm_energy.inference import ExactInference, GibbsInference, SampledQuery


def random_bm(seed, n, *, scale=0.8):
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.normal(0.0, scale, size=(n, n)), 1)
    return BoltzmannMachine(upper + upper.T, rng.normal(0.0, scale, size=n))


def random_rbm(seed, n_visible, n_hidden, *, scale=0.8):
    rng = np.random.default_rng(seed)
    return RestrictedBoltzmannMachine(
        rng.normal(0.0, scale, size=(n_visible, n_hidden)),
        rng.normal(0.0, scale, size=n_visible),
        rng.normal(0.0, scale, size=n_hidden),
    )


MODELS = [random_bm(1, 7), random_rbm(2, 5, 3)]


def z_scores(estimate, errors, exact_values):
    estimate, errors, exact_values = (np.asarray(a, dtype=float).ravel() for a in (estimate, errors, exact_values))
    return (estimate - exact_values) / np.maximum(errors, 1e-12), np.abs(estimate - exact_values) <= 5 * errors + 1e-3


@pytest.mark.parametrize("index", [0, 1])
def test_joint_query_matches_the_exact_posterior_within_its_errors(index):
    model = MODELS[index]
    names = list(model.names)
    gibbs = GibbsInference(model, n_samples=5000, n_chains=4, burn_in=200, rng=10 + index)
    squared = []
    for evidence in ({}, {names[1]: 1}, {names[0]: 0, names[-1]: 1}):
        variables = [n for n in names if n not in evidence][:3]
        result = gibbs.query_with_errors(variables, evidence=evidence)
        assert isinstance(result, SampledQuery)
        assert list(result.factor.variables) == variables
        assert result.factor.values.sum() == pytest.approx(1.0, abs=1e-12)
        assert result.standard_errors.shape == (2, 2, 2)
        expected = exact.query(model, variables, evidence=evidence).values
        z, ok = z_scores(result.factor.values, result.standard_errors, expected)
        assert ok.all(), (evidence, result.factor.values, expected, result.standard_errors)
        squared.extend(z**2)
        # the draws came from the clamped chain
        for name, value in evidence.items():
            assert np.all(result.samples.states[:, :, model.index(name)] == value)
    assert 0.3 <= np.mean(squared) <= 3.0


@pytest.mark.parametrize("index", [0, 1])
def test_marginal_query_matches_the_exact_marginals(index):
    model = MODELS[index]
    gibbs = GibbsInference(model, n_samples=5000, n_chains=4, burn_in=200, rng=20 + index)
    variables = list(model.names)
    result = gibbs.query_with_errors(variables, joint=False)
    expected = exact.marginals(model)
    for k, name in enumerate(variables):
        factor, errors = result.factor[name], result.standard_errors[name]
        assert list(factor.variables) == [name] and errors.shape == (2,)
        _, ok = z_scores(factor.values, errors, [1 - expected[k], expected[k]])
        assert ok.all(), name
    plain = GibbsInference(model, n_samples=5000, n_chains=4, burn_in=200, rng=20 + index).query(variables, joint=False)
    for name in variables:  # query() is query_with_errors().factor, same rng -> same answer
        np.testing.assert_array_equal(plain[name].values, result.factor[name].values)


def test_same_rng_same_answer_and_successive_queries_differ():
    model = MODELS[0]
    a = GibbsInference(model, n_samples=500, rng=5)
    b = GibbsInference(model, n_samples=500, rng=5)
    first = a.query(["v0", "v1"]).values
    np.testing.assert_array_equal(first, b.query(["v0", "v1"]).values)
    assert not np.array_equal(first, a.query(["v0", "v1"]).values)


def test_query_validation():
    gibbs = GibbsInference(MODELS[0], n_samples=10)
    with pytest.raises(EvidenceError, match="both queried and given"):
        gibbs.query(["v0"], evidence={"v0": 1})
    with pytest.raises(EvidenceError, match="'nope'"):
        gibbs.query(["nope"])
    with pytest.raises(EvidenceError, match="2"):
        gibbs.query(["v0"], evidence={"v1": 2})
    with pytest.raises(ParameterTypeError):
        gibbs.query("v0")
    big = GibbsInference(random_bm(3, 22), n_samples=10)
    with pytest.raises(ModelSizeError, match="joint=False"):
        big.query(list(big.model.names))
    with pytest.raises(TypeError):
        GibbsInference(MODELS[0], n_sample=10)
    with pytest.raises(ParameterTypeError):
        GibbsInference("model")


# --------------------------------------------------------------------------- map_query (annealing)
def test_map_query_finds_the_exact_joint_map():
    for seed in range(3):
        model = random_bm(30 + seed, 10, scale=2.0)
        gibbs = GibbsInference(model, n_reads=16, rng=seed)
        exact_map = ExactInference(model)
        assert gibbs.map_query() == exact_map.map_query()
        evidence = {"v3": 1}
        assert gibbs.map_query(["v0", "v5"], evidence=evidence) == exact_map.map_query(["v0", "v5"], evidence=evidence)
    rbm = random_rbm(40, 8, 4, scale=2.0)
    assert GibbsInference(rbm, rng=1).map_query() == ExactInference(rbm).map_query()


def test_map_query_validation():
    gibbs = GibbsInference(MODELS[0], n_reads=2)
    with pytest.raises(EvidenceError, match="both queried and given"):
        gibbs.map_query(["v0"], evidence={"v0": 1})
    with pytest.raises(EvidenceError, match="'nope'"):
        gibbs.map_query(["nope"])
