"""The testing kit's statistical asserts keep their declared error rates, and reject what they should.

Rates are measured over many seeds and compared with the declared ones by binomial tests at
1e-4 (so each of these meta-tests fails by chance with probability at most about 1e-4; the
seeds are fixed, so a run is reproducible).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest, chi2, ncx2

from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine, exact
from pgm_energy.exceptions import StateError, ValidationError
from pgm_energy.samplers import GibbsSampler
from pgm_energy.testing import (
    DistributionMismatch,
    GoodnessOfFit,
    TooFewSamples,
    assert_marginals_match,
    assert_same_distribution,
    assert_samples_match,
    joint_frequencies,
    total_variation,
)

TARGET = np.array([0.2, 0.3, 0.5])
META = 1e-4  # false-failure rate of each rate check below


def _rate(check, seeds) -> int:
    failures = 0
    for seed in seeds:
        try:
            check(np.random.default_rng(seed))
        except DistributionMismatch:
            failures += 1
    return failures


@pytest.mark.parametrize("test", ["chi2", "g"])
def test_samples_of_the_target_fail_at_the_declared_rate(test):
    seeds = range(600)
    failures = _rate(lambda g: assert_samples_match(g.choice(3, size=(400, 1), p=TARGET), TARGET, cardinalities=[3],
                                                    alpha=0.05, test=test), seeds)
    assert binomtest(failures, len(seeds), 0.05).pvalue > META, f"{failures} of {len(seeds)} failed at alpha 0.05"


@pytest.mark.parametrize("test", ["chi2", "g"])
def test_a_wrong_distribution_is_rejected_at_the_predicted_power(test):
    wrong = np.array([0.25, 0.3, 0.45])
    n = 600
    # noncentrality: Pearson's n * sum((q - p)^2 / p); the G-test's 2n KL(q || p) (both ~ 4.6 here)
    noncentrality = n * float(np.sum((wrong - TARGET) ** 2 / TARGET)) if test == "chi2" else \
        2 * n * float(np.sum(wrong * np.log(wrong / TARGET)))
    power = float(ncx2.sf(chi2.isf(0.05, 2), 2, noncentrality))  # 0.83 / 0.84 here
    seeds = range(500)
    rejections = _rate(lambda g: assert_samples_match(g.choice(3, size=(n, 1), p=wrong), TARGET, cardinalities=[3],
                                                      alpha=0.05, test=test), seeds)
    assert binomtest(rejections, len(seeds), power).pvalue > META, (rejections, power)


def test_marginals_keep_the_rate_and_reject_one_shifted_marginal_at_the_predicted_power():
    p = np.array([0.3, 0.5, 0.7, 0.4])
    seeds = range(600)
    draws = lambda g, q: (g.random((500, 4)) < q).astype(np.int64)  # noqa: E731
    failures = _rate(lambda g: assert_marginals_match(draws(g, p), p, alpha=0.05), seeds)
    # four independent tests at 0.05 / 4 each: the whole assert fails at 1 - (1 - 0.0125)^4 = 4.9%
    assert binomtest(failures, len(seeds), 1 - (1 - 0.05 / 4) ** 4).pvalue > META, failures
    shifted = p + np.array([0.0, 0.0, 0.0, 0.08])  # only the last unit is wrong
    noncentrality = 500 * (0.08 ** 2 / 0.4 + 0.08 ** 2 / 0.6)
    single = float(ncx2.sf(chi2.isf(0.05 / 4, 1), 1, noncentrality))  # the shifted unit's test at 0.0125
    power = 1 - (1 - single) * (1 - 0.05 / 4) ** 3  # or any of the three right ones, by chance
    rejections = _rate(lambda g: assert_marginals_match(draws(g, shifted), p, alpha=0.05), range(400))
    assert binomtest(rejections, 400, power).pvalue > META, (rejections, power)


def test_correlated_chains_keep_the_rate_through_their_autocorrelation_time():
    """A lazy two-state chain (it stays put with probability 0.9): its draws are worth ~19x fewer."""

    def chains(g, n_chains=4, n_draws=3000):
        # each step redraws the state (p(1) = 0.3) with probability 0.1, else keeps it: a state is the
        # fresh draw of the chain's last redraw (the first step always redraws)
        moves = g.random((n_chains, n_draws)) < 0.1
        moves[:, 0] = True
        fresh = (g.random((n_chains, n_draws)) < 0.3).astype(np.int64)
        last = np.maximum.accumulate(np.where(moves, np.arange(n_draws), 0), axis=1)
        return np.take_along_axis(fresh, last, axis=1)[:, :, None]

    seeds = range(200)
    target = [0.7, 0.3]
    corrected = _rate(lambda g: assert_samples_match(chains(g), target, alpha=0.05), seeds)
    naive = _rate(lambda g: assert_samples_match(chains(g).reshape(-1, 1), target, alpha=0.05), seeds)
    assert naive > 4 * corrected  # treating the draws as independent fails most of the time
    assert binomtest(corrected, len(seeds), 0.05, alternative="greater").pvalue > META, corrected


def test_refusals_and_zero_probability_draws():
    with pytest.raises(TooFewSamples, match="expected count"):
        assert_samples_match(np.zeros((20, 1), dtype=int), [0.9, 0.1])
    with pytest.raises(DistributionMismatch, match="p-value 0"):
        assert_samples_match(np.array([[0], [1]] * 50), [1.0, 0.0])  # a state of probability zero was drawn
    with pytest.raises(ValueError, match="alpha"):
        assert_samples_match(np.zeros((50, 1), dtype=int), [0.5, 0.5], alpha=1.5)
    with pytest.raises(ValueError, match="sum to 1"):
        assert_samples_match(np.zeros((50, 1), dtype=int), [0.5, 0.6])
    with pytest.raises(ValueError, match="outside the cardinalities"):
        assert_samples_match(np.full((50, 1), 3), [0.5, 0.5])


def test_gibbs_draws_pass_and_wrong_marginals_fail():
    g = np.random.default_rng(1)
    w = np.triu(g.normal(0, 0.6, (6, 6)), 1)
    model = BoltzmannMachine(w + w.T, g.normal(0, 0.5, 6))
    draws = GibbsSampler(burn_in=100).sample(model, 4000, n_chains=4, rng=2)
    marginals = exact.marginals(model)
    assert len(assert_marginals_match(draws, marginals)) == 6
    joint = exact.query(model, ["v0", "v1", "v2"]).values.ravel()
    assert_samples_match(draws, joint, variables=[0, 1, 2])
    shifted = np.clip(np.asarray(marginals) + 0.08, 0, 1)
    with pytest.raises(DistributionMismatch, match="of 6 tests rejected"):
        assert_marginals_match(draws, shifted)


def test_same_distribution_holds_for_temperature_and_rescaled_weights_and_fails_otherwise():
    rbm = RestrictedBoltzmannMachine.random(5, 3, scale=0.8, rng=0)
    hot = RestrictedBoltzmannMachine(rbm.weights, rbm.visible_bias, rbm.hidden_bias, temperature=2.0)
    scaled = RestrictedBoltzmannMachine(rbm.weights / 2, rbm.visible_bias / 2, rbm.hidden_bias / 2)
    assert_same_distribution(hot, scaled)  # a model at T is the model with parameters / T
    with pytest.raises(DistributionMismatch, match="differ at"):
        assert_same_distribution(rbm, scaled)
    with pytest.raises(ValidationError, match="max_units"):
        assert_same_distribution(rbm, rbm, max_units=4)


def test_a_collection_of_tests_keeps_the_rate_of_its_alpha():
    """Five tests of one sample set (four marginals and a joint, not independent) fail together at <= alpha."""

    def check(g):
        draws = g.integers(0, 2, size=(300, 4))
        checks = GoodnessOfFit(draws, alpha=0.05)
        checks.marginals([0.5] * 4)
        checks.joint([0, 1], np.full((2, 2), 0.25))
        checks.check()

    seeds = range(800)
    failures = _rate(check, seeds)
    # Bonferroni bounds the rate from above (here about 0.04: the tests are positively dependent)
    assert binomtest(failures, len(seeds), 0.05, alternative="greater").pvalue > META, failures
    assert failures > 0.02 * len(seeds)  # and is not so loose that the collection never fails


def test_a_collection_names_every_rejected_test_and_refuses_to_check_nothing():
    draws = np.random.default_rng(3).integers(0, 2, size=(4000, 3))
    checks = GoodnessOfFit(draws)
    assert checks.marginals({0: [0.5, 0.5], 2: [0.8, 0.2]})[0] > 1e-3
    checks.joint([1, 0], np.full((2, 2), 0.25))
    assert [columns for columns, _ in checks.p_values] == [(0,), (2,), (1, 0)]
    with pytest.raises(DistributionMismatch, match=r"1 of 3 tests rejected[\s\S]*variables \[2\]") as caught:
        checks.check()
    assert caught.value.p_value == checks.p_values[1][1]
    with pytest.raises(StateError, match="no test was added"):
        GoodnessOfFit(draws).check()
    with pytest.raises(ValidationError, match="distinct"):
        GoodnessOfFit(draws).joint([1, 1], np.full((2, 2), 0.25))


def test_one_chain_given_as_three_dimensions_is_measured_as_a_chain():
    """Shape (1, n_draws, n_variables) is one chain (autocorrelated); shape (n_draws, n_variables) is independent rows."""
    g = np.random.default_rng(4)
    sticky = np.repeat(g.integers(0, 2, 400), 25)[:, None]  # each fresh draw repeated 25 times
    target = [0.5, 0.5]
    as_chain = GoodnessOfFit(sticky[None]).joint([0], target)
    as_rows = GoodnessOfFit(sticky).joint([0], target)
    assert as_rows < 1e-9 < 1e-2 < as_chain  # the chain's statistic is divided by its autocorrelation time


def test_joint_frequencies_and_total_variation_are_the_empirical_ones():
    draws = np.array([[0, 1], [0, 1], [1, 2], [0, 0]])
    frequencies = joint_frequencies(draws, cardinalities=[2, 3])
    np.testing.assert_array_equal(frequencies, [[0.25, 0.5, 0.0], [0.0, 0.0, 0.25]])
    assert joint_frequencies(draws[:, :1]).tolist() == [0.75, 0.25]
    target = np.full((2, 3), 1 / 6)
    assert total_variation(draws, target) == pytest.approx(0.5 * np.abs(frequencies - target).sum())
    assert total_variation(draws, [0.75, 0.25], variables=[0]) == 0.0


# ---------------------------------------------------------------------------- pgmpy frames and factors
def test_frames_of_state_names_are_matched_to_pgmpy_factors_by_name():
    import warnings

    from pgmpy.inference import VariableElimination

    from pgm_energy.interop.pgmpy import BayesianModelSampling

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.utils import get_example_model

        model = get_example_model("sachs")  # 11 nodes of states LOW, AVG, HIGH; Erk -> Akt
    frame = BayesianModelSampling(model).forward_sample(size=20_000, seed=1)
    ve = VariableElimination(model)
    joint = ve.query(["Akt", "Erk"], joint=True, show_progress=False)
    # some cells are expected under 5 times: refused, unless pooled
    with pytest.raises(TooFewSamples, match="rare='pool'"):
        assert_samples_match(frame, joint)
    assert_samples_match(frame, joint, rare="pool")  # variables, cardinalities and states from the factor
    assert_samples_match(frame, joint, variables=["Erk", "Akt"], rare="pool")  # the axes follow the variables
    assert_marginals_match(frame, {v: ve.query([v], show_progress=False) for v in ("Akt", "Erk", "Mek")},
                           rare="pool")
    conditional = ve.query(["Akt"], evidence={"Erk": "HIGH"}, show_progress=False)
    with pytest.raises(DistributionMismatch, match=r"variables \['Akt'\]"):
        assert_samples_match(frame, conditional, rare="pool")
    # the same frame by explicit state names (here in another order), against an array target
    names = {"Akt": ["HIGH", "AVG", "LOW"], "Erk": ["HIGH", "AVG", "LOW"]}
    table = np.transpose(joint.values, [list(joint.variables).index(v) for v in ("Akt", "Erk")])
    for axis, v in enumerate(("Akt", "Erk")):
        table = np.take(table, [list(joint.state_names[v]).index(s) for s in names[v]], axis=axis)
    assert_samples_match(frame, table, variables=["Akt", "Erk"], state_names=names, rare="pool")
    frequencies = joint_frequencies(frame, variables=["Akt", "Erk"], state_names=names)
    assert frequencies.shape == (3, 3) and total_variation(frame, joint) < 0.02
    np.testing.assert_allclose(frequencies, table, atol=0.02)


def test_frames_of_indices_a_markov_factor_and_named_refusals():
    from pgmpy.factors.discrete import DiscreteFactor

    g = np.random.default_rng(5)
    p = np.array([[0.1, 0.3], [0.4, 0.2]])
    cells = g.choice(4, size=5000, p=p.ravel())
    import pandas as pd

    frame = pd.DataFrame({"a": cells // 2, "b": cells % 2})
    unnormalised = DiscreteFactor(["a", "b"], [2, 2], 7 * p, state_names={"a": ["x", "y"], "b": ["u", "v"]})
    assert_samples_match(frame, unnormalised)  # integer columns are indices; a factor is normalised
    with pytest.raises(ValidationError, match="not over the tested variables"):
        assert_samples_match(frame, unnormalised, variables=["a"])
    with pytest.raises(ValidationError, match="'c' is not a column"):
        assert_samples_match(frame, [0.5, 0.5], variables=["c"])
    named = pd.DataFrame({"a": np.where(cells // 2 == 1, "y", "x"), "b": "u"})
    with pytest.raises(StateError, match="pass state_names"):
        assert_samples_match(named, [0.5, 0.5], variables=["a"])
    with pytest.raises(StateError, match="'b' holds 'u', which is not one of its states"):
        assert_samples_match(named, [0.5, 0.5], variables=["b"], state_names={"b": ["on", "off"]})
    with pytest.raises(ValidationError, match="state_names applies to DataFrame"):
        assert_samples_match(cells[:, None] % 2, [0.5, 0.5], state_names={0: ["x", "y"]})


def test_pooling_rare_cells_keeps_the_declared_rate():
    target = np.array([0.6, 0.37, 0.02, 0.01])  # 200 draws: the last two cells are expected 4 and 2 times
    with pytest.raises(TooFewSamples, match="rare='pool'"):
        assert_samples_match(np.zeros((200, 1), dtype=int), target, cardinalities=[4])
    seeds = range(600)
    failures = _rate(lambda g: assert_samples_match(g.choice(4, size=(200, 1), p=target), target, alpha=0.05,
                                                    rare="pool"), seeds)
    assert binomtest(failures, len(seeds), 0.05).pvalue > META, failures
    with pytest.raises(DistributionMismatch, match="p-value 0"):  # a state of probability zero still fails
        assert_samples_match(np.array([[0]] * 99 + [[2]]), [0.5, 0.5, 0.0], rare="pool")
    assert assert_samples_match(np.zeros((100, 1), dtype=int), [0.999, 0.001], rare="pool") == 1.0  # one cell left
