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
    expected = exact.marginals(model).to_numpy()
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


# --------------------------------------------------------------------------- most_probable_state (annealing), map_query
def test_most_probable_state_finds_the_exact_joint_map():
    for seed in range(3):
        model = random_bm(30 + seed, 10, scale=2.0)
        gibbs = GibbsInference(model, n_annealing_runs=16, rng=seed)
        exact_map = ExactInference(model)
        assert gibbs.most_probable_state() == exact_map.most_probable_state()
        evidence = {"v3": 1}
        assert gibbs.most_probable_state(["v0", "v5"], evidence=evidence) == exact_map.most_probable_state(
            ["v0", "v5"], evidence=evidence
        )
        # every unobserved unit asked: map_query sums nothing out and anneals too
        assert gibbs.map_query(evidence=evidence) == exact_map.map_query(evidence=evidence)
    rbm = random_rbm(40, 8, 4, scale=2.0)
    assert GibbsInference(rbm, rng=1).map_query() == ExactInference(rbm).map_query()


def test_map_query_of_some_units_is_the_sampled_marginal_map():
    """The explaining-away machine: joint MAP A = 1, marginal MAP A = 0 (frequency gap ~25 errors)."""
    for model in explaining_models():
        gibbs = GibbsInference(model, n_samples=5000, n_chains=4, burn_in=100, rng=9)
        assert gibbs.map_query(["A"], evidence={"D": 1}) == ExactInference(model).map_query(["A"], evidence={"D": 1})
        assert gibbs.map_query(["A"], evidence={"D": 1}) == {"A": 0}
        assert gibbs.most_probable_state(["A"], evidence={"D": 1}) == {"A": 1}


def test_map_query_validation():
    gibbs = GibbsInference(MODELS[0], n_annealing_runs=2)
    with pytest.raises(EvidenceError, match="both queried and given"):
        gibbs.map_query(["v0"], evidence={"v0": 1})
    with pytest.raises(EvidenceError, match="'nope'"):
        gibbs.map_query(["nope"])


# --------------------------------------------------------------------------- predict, predict_probability
import pandas as pd  # noqa: E402

from pgm_energy import StateError, ValidationError  # noqa: E402


def observations(columns, seed, n_rows=8):
    """Random 0/1 rows (three distinct ones, repeated) under a non-default index."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 2, size=(3, len(columns)))[rng.integers(0, 3, size=n_rows)]
    return pd.DataFrame(values, columns=columns, index=[f"r{i}" for i in range(n_rows)][::-1])


def explaining_models():
    """The joint MAP of (A, B, C) is (1, 0, 0), but A's marginal MAP (B, C summed out) is 0.

    p(A=1, B=0, C=0) = 3/7 (up to e**-20 terms) is the single most probable state, yet the four
    states with A = 0 weigh 4/7 together; B and C are hidden, D an unrelated observed unit.
    """
    bm = BoltzmannMachine(
        [[0.0, -20.0, -20.0, 0.0], [-20.0, 0.0, 0.0, 0.0], [-20.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
        [np.log(3.0), 0.0, 0.0, 0.3],
        names=["A", "B", "C", "D"],
        visible=[True, False, False, True],
    )
    rbm = RestrictedBoltzmannMachine(
        [[-20.0, -20.0], [0.0, 0.0]], [np.log(3.0), 0.3], [0.0, 0.0], visible_names=["A", "D"], hidden_names=["B", "C"]
    )
    return [bm, rbm]


@pytest.mark.parametrize("index", [0, 1])
def test_predict_sums_out_hidden_units_by_the_sampled_mode_unless_they_are_predicted(index):
    """The sampled mode (frequency for the general machine, exact free energy for the RBM)
    gives A = 0, the joint MAP by annealing (1, 0, 0): ExactInference's answers. The frequency
    gap 4/7 - 3/7 is ~25 standard errors at 20000 draws."""
    model = explaining_models()[index]
    data = pd.DataFrame({"D": [0, 1, 0]}, index=[5, 3, 9])
    gibbs = GibbsInference(model, n_samples=5000, n_chains=4, burn_in=100, rng=7)
    exact_answer = ExactInference(model)
    result = gibbs.predict(data)
    pd.testing.assert_frame_equal(result, exact_answer.predict(data))
    assert result["A"].tolist() == [0, 0, 0]
    joint = gibbs.predict(data, include_latents=True)
    pd.testing.assert_frame_equal(joint, exact_answer.predict(data, include_latents=True))


@pytest.mark.parametrize("include_latents", [False, True])
def test_predict_matches_exact_inference_on_random_models(include_latents):
    """Random 7-unit machine (every unit visible: always the annealed joint MAP) and 6x4 RBM
    (hidden units summed out unless predicted), several observed patterns each."""
    for model, seed in ((random_bm(50, 7, scale=1.5), 1), (random_rbm(51, 6, 4, scale=1.5), 2)):
        visible = list(model.visible_names)
        data = observations(visible[::3], seed)
        gibbs = GibbsInference(model, n_samples=3000, n_chains=4, burn_in=100, n_annealing_runs=16, rng=seed)
        expected = ExactInference(model).predict(data, include_latents=include_latents)
        pd.testing.assert_frame_equal(gibbs.predict(data, include_latents=include_latents), expected)


def test_predict_with_hidden_columns_observed():
    """Observed hidden units are evidence: the RBM's free-energy score keeps their terms."""
    rbm = random_rbm(52, 5, 3, scale=1.5)
    data = observations(["v0", "h1"], 3)
    gibbs = GibbsInference(rbm, n_samples=3000, n_chains=4, burn_in=100, rng=3)
    pd.testing.assert_frame_equal(gibbs.predict(data), ExactInference(rbm).predict(data))


@pytest.mark.parametrize("index", [0, 1])
def test_predict_probability_matches_exact_within_its_errors(index):
    """Every entry within 5 of its own standard errors (+1e-3) of the exact posterior marginal."""
    model = MODELS[index]
    visible = list(model.visible_names)
    data = observations(visible[1::2], 30 + index)
    gibbs = GibbsInference(model, n_samples=5000, n_chains=4, burn_in=200, rng=40 + index)
    probabilities, errors = gibbs.predict_probability_with_errors(data, include_latents=True)
    expected = ExactInference(model).predict_probability(data, include_latents=True)
    assert list(probabilities.columns) == list(expected.columns) == list(errors.columns)
    assert list(probabilities.index) == list(data.index) == list(errors.index)
    _, ok = z_scores(probabilities.to_numpy(), errors.to_numpy(), expected.to_numpy())
    assert ok.all(), (probabilities - expected, errors)
    values = probabilities.to_numpy()
    np.testing.assert_allclose(values[:, 0::2] + values[:, 1::2], 1.0, atol=1e-12)
    assert (errors.to_numpy() > 0).all() and (errors.to_numpy() < 0.02).all()
    # identical rows get identical estimates (one sampling run per distinct row)
    for _, group in probabilities.groupby([data[c] for c in data.columns]):
        assert (group.nunique() == 1).all()
    # same rng, same answer; predict_probability is the first half of the pair
    again = GibbsInference(model, n_samples=5000, n_chains=4, burn_in=200, rng=40 + index)
    pd.testing.assert_frame_equal(again.predict_probability(data, include_latents=True), probabilities)


def test_predict_probability_sums_out_hidden_units():
    """Default: only the missing visible units are reported, with the hidden units summed out."""
    model = explaining_models()[1]
    data = pd.DataFrame({"D": [1, 0]})
    gibbs = GibbsInference(model, n_samples=5000, n_chains=4, burn_in=100, rng=8)
    probabilities, errors = gibbs.predict_probability_with_errors(data)
    assert list(probabilities.columns) == ["A_0", "A_1"]
    expected = ExactInference(model).predict_probability(data).to_numpy()
    _, ok = z_scores(probabilities.to_numpy(), errors.to_numpy(), expected)
    assert ok.all()
    assert abs(probabilities["A_1"].iloc[0] - 3 / 7) < 0.03


def test_predict_empty_frame_and_validation():
    model = MODELS[1]
    gibbs = GibbsInference(model, n_samples=10, rng=0)
    empty = pd.DataFrame({"v0": pd.Series([], dtype=np.int64)})
    result = gibbs.predict(empty)
    assert result.shape == (0, 4) and list(result.columns) == ["v1", "v2", "v3", "v4"]
    probabilities, errors = gibbs.predict_probability_with_errors(empty)
    assert probabilities.shape == errors.shape == (0, 8)
    with pytest.raises(EvidenceError, match="'x9'"):
        gibbs.predict(pd.DataFrame({"x9": [0]}))
    with pytest.raises(StateError, match="missing value"):
        gibbs.predict_probability(pd.DataFrame({"v0": [0, np.nan]}))
    with pytest.raises(StateError, match=r"got 2 at row 1"):
        gibbs.predict(pd.DataFrame({"v0": [0, 2]}))
    with pytest.raises(ValidationError, match="no variable to predict"):
        gibbs.predict(pd.DataFrame({name: [0] for name in model.visible_names}))
    with pytest.raises(ParameterTypeError, match="include_latents must be True or False"):
        gibbs.predict(pd.DataFrame({"v0": [0]}), include_latents="yes")
    with pytest.raises(ParameterTypeError, match="data must be a pandas DataFrame"):
        gibbs.predict_probability([[0, 1]])
