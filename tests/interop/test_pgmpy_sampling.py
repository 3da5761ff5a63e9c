"""The pgmpy BayesianModelSampling drop-in, and Gibbs start states on networks pgmpy ships.

Forward and rejection rows are independent draws, so their joint (or, on larger networks, each
node's marginal) is checked against pgmpy's VariableElimination by a χ² test at a declared
false-failure rate (``pgm_energy.testing``, matching the frames' state names to VE's factors);
likelihood-weighted estimates within 5 standard errors of the weighted mean
(Kish's effective sample size). Seeds are fixed, so a run is reproducible.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest

from pgm_energy.exceptions import EvidenceError, ParameterTypeError, ValidationError
from pgm_energy.interop.pgmpy import BayesianModelSampling, GibbsSampling
from pgm_energy.testing import GoodnessOfFit, assert_samples_match

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")
    from pgmpy.factors.discrete import State, TabularCPD
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork
    from pgmpy.sampling import BayesianModelSampling as PgmpySampling

ALPHA = 1e-4  # declared false-failure rate of each test function


@functools.lru_cache(maxsize=None)
def bundled(name):
    """A network pgmpy ships (no download)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.utils import get_example_model

        return get_example_model(name)


def student():
    network = DiscreteBayesianNetwork([("diff", "grade"), ("intel", "grade"), ("grade", "letter")])
    network.add_cpds(
        TabularCPD("diff", 2, [[0.6], [0.4]], state_names={"diff": ["easy", "hard"]}),
        TabularCPD("intel", 2, [[0.7], [0.3]], state_names={"intel": ["low", "high"]}),
        TabularCPD("grade", 3, [[0.3, 0.05, 0.9, 0.5], [0.4, 0.25, 0.08, 0.3], [0.3, 0.7, 0.02, 0.2]],
                   evidence=["intel", "diff"], evidence_card=[2, 2],
                   state_names={"grade": ["A", "B", "C"], "intel": ["low", "high"], "diff": ["easy", "hard"]}),
        TabularCPD("letter", 2, [[0.1, 0.4, 0.99], [0.9, 0.6, 0.01]], evidence=["grade"], evidence_card=[3],
                   state_names={"letter": ["weak", "strong"], "grade": ["A", "B", "C"]}),
    )
    return network


def exact_marginal(model, variable, evidence=None):
    result = VariableElimination(model).query([variable], evidence=evidence, show_progress=False)
    names = list(model.get_cpds(variable).state_names[variable])
    values = np.array([result.get_value(**{variable: name}) for name in names])
    return names, values / values.sum()


def exact_joint(model, variables, evidence=None):
    return VariableElimination(model).query(variables, evidence=evidence, joint=True, show_progress=False)


# --------------------------------------------------------------------------- distributions
def test_forward_rows_follow_the_joint_distribution():
    model = student()
    frame = BayesianModelSampling(model).forward_sample(size=300_000, seed=1)
    variables = ["diff", "intel", "grade", "letter"]
    assert_samples_match(frame, exact_joint(model, variables), alpha=ALPHA)


def test_forward_marginals_of_alarm_match_variable_elimination():
    model = bundled("alarm")
    frame = BayesianModelSampling(model).forward_sample(size=40_000, seed=2)
    checks = GoodnessOfFit(frame, alpha=ALPHA, rare="pool")  # 37 tests: ALPHA / 37 each, ALPHA for the family
    for node in model.nodes():  # states too rare to test alone are pooled; states of probability zero must be absent
        checks.joint([node], VariableElimination(model).query([node], show_progress=False))
    checks.check()


def test_rejection_rows_follow_the_conditional_distribution():
    model = student()
    frame = BayesianModelSampling(model).rejection_sample(evidence=[State("letter", "strong")], size=150_000, seed=3)
    assert (frame["letter"] == "strong").all()
    variables = ["diff", "intel", "grade"]
    assert_samples_match(frame, exact_joint(model, variables, {"letter": "strong"}), alpha=ALPHA)


@pytest.mark.parametrize("name, evidence", [("asia", {"dysp": "yes", "xray": "no"}), ("child", {"LowerBodyO2": "<5"})])
def test_likelihood_weighted_estimates_match_the_posterior(name, evidence):
    model = bundled(name)
    frame = BayesianModelSampling(model).likelihood_weighted_sample(evidence=list(evidence.items()), size=60_000,
                                                                  seed=4)
    weights = frame["_weight"].to_numpy()
    assert (weights >= 0).all() and weights.max() <= 1.0
    ess = weights.sum() ** 2 / (weights ** 2).sum()
    for node in model.nodes():
        if node in evidence:
            assert (frame[node] == evidence[node]).all()
            continue
        names, posterior = exact_marginal(model, node, evidence)
        for state, p in zip(names, posterior):
            estimate = weights[(frame[node] == state).to_numpy()].sum() / weights.sum()
            assert abs(estimate - p) <= 5 * np.sqrt(max(p * (1 - p), 1e-4) / ess) + 1e-9, (node, state)


# --------------------------------------------------------------------------- pgmpy's layout
def test_frames_have_pgmpys_columns_and_values():
    model = bundled("asia")
    ours, theirs = BayesianModelSampling(model), PgmpySampling(model)
    mine = ours.forward_sample(size=200, seed=0)
    reference = theirs.forward_sample(size=200, seed=0, show_progress=False)
    assert list(mine.columns) == list(reference.columns) and len(mine) == 200
    for column in mine.columns:
        assert set(mine[column].astype(str)) <= set(model.get_cpds(column).state_names[column])
    assert (mine.astype(str).dtypes == reference.dtypes).all()  # pgmpy's str columns, after astype(str)
    weighted = ours.likelihood_weighted_sample(evidence=[State("smoke", "yes")], size=10, seed=0)
    reference = theirs.likelihood_weighted_sample(evidence=[State("smoke", "yes")], size=10, seed=0,
                                                  show_progress=False)
    assert list(weighted.columns) == list(reference.columns) and weighted.columns[-1] == "_weight"


def test_same_seed_same_rows_and_the_global_rng_untouched():
    sampler = BayesianModelSampling(bundled("asia"))
    np.random.seed(5)
    before = np.random.random()
    np.random.seed(5)
    first = sampler.forward_sample(size=1000, seed=7)
    assert np.random.random() == before
    pd.testing.assert_frame_equal(first, sampler.forward_sample(size=1000, seed=7))
    assert not first.equals(sampler.forward_sample(size=1000, seed=8))
    generator = np.random.default_rng(3)
    pd.testing.assert_frame_equal(sampler.forward_sample(size=50, seed=generator),
                                  sampler.forward_sample(size=50, seed=np.random.default_rng(3)))


def test_partial_samples_and_latents():
    model = student()
    model.latents = {"intel"}
    sampler = BayesianModelSampling(model)
    partial = pd.DataFrame({"diff": ["hard", "easy", "hard"]})
    frame = sampler.forward_sample(size=3, seed=0, partial_samples=partial)
    assert list(frame["diff"].astype(str)) == ["hard", "easy", "hard"] and "intel" not in frame.columns
    assert "intel" in sampler.forward_sample(size=3, seed=0, include_latents=True).columns
    assert len(sampler.forward_sample(size=0)) == 0


def test_bad_arguments_are_named():
    sampler = BayesianModelSampling(student())
    with pytest.raises(EvidenceError, match="'mood'"):
        sampler.likelihood_weighted_sample(evidence=[State("mood", "low")])
    with pytest.raises(EvidenceError, match="no state 'D'"):
        sampler.rejection_sample(evidence={"grade": "D"})
    with pytest.raises(ParameterTypeError, match="seed"):
        sampler.forward_sample(seed=-1)
    with pytest.raises(ValidationError, match="size"):
        sampler.forward_sample(size=-2)
    with pytest.raises(ParameterTypeError, match="DiscreteBayesianNetwork"):
        BayesianModelSampling("asia")
    with pytest.raises(ValidationError, match="partial_samples"):
        sampler.forward_sample(size=2, partial_samples=pd.DataFrame({"diff": ["easy"]}))


def test_rejection_of_impossible_evidence_is_named_instead_of_looping():
    model = student()
    model.get_cpds("letter").values[1, 2] = 0.0  # grade C never gets a strong letter
    model.get_cpds("letter").values[0, 2] = 1.0
    sampler = BayesianModelSampling(model)
    frame = sampler.rejection_sample(evidence={"letter": "strong", "grade": "B"}, size=100, seed=0)
    assert (frame["grade"] == "B").all()
    with pytest.raises(EvidenceError, match="probability zero"):
        sampler.rejection_sample(evidence={"letter": "strong", "grade": "C"}, size=3, seed=0)


# --------------------------------------------------------------------------- Gibbs starts
@pytest.mark.parametrize("name", ["insurance"])  # the full sweep over all 24: benchmarks/bench_pgmpy_networks.py
def test_gibbs_starts_on_networks_with_deterministic_cpds(name):
    """These networks have zero CPD entries: a random start had probability zero and could not be repaired."""
    model = bundled(name)
    sampler = GibbsSampling(model)
    frame = sampler.sample(size=50, seed=0)
    assert frame.shape == (50, len(model.nodes()))
    node = next(iter(model.nodes()))
    state = model.get_cpds(node).state_names[node][0]
    evidence_run = GibbsSampling(model).sample(size=20, seed=1, evidence={node: state})
    assert (evidence_run[node] == 0).all()


def test_gibbs_names_evidence_of_probability_zero():
    model = student()
    model.get_cpds("letter").values[1, 2] = 0.0
    model.get_cpds("letter").values[0, 2] = 1.0
    with pytest.raises(EvidenceError, match="probability zero"):
        GibbsSampling(model).sample(size=5, seed=0, evidence={"letter": "strong", "grade": "C"})


def deterministic_chain():
    """x -> y = x -> z = y, and x -> w noisy: single-site Gibbs cannot flip x (y and z would disagree)."""
    network = DiscreteBayesianNetwork([("x", "y"), ("y", "z"), ("x", "w")])
    copy = [[1.0, 0.0], [0.0, 1.0]]
    network.add_cpds(TabularCPD("x", 2, [[0.3], [0.7]]),
                     TabularCPD("y", 2, copy, evidence=["x"], evidence_card=[2]),
                     TabularCPD("z", 2, copy, evidence=["y"], evidence_card=[2]),
                     TabularCPD("w", 2, [[0.9, 0.2], [0.1, 0.8]], evidence=["x"], evidence_card=[2]))
    return network


def test_plain_gibbs_is_trapped_by_deterministic_relations_and_restarts_reach_the_marginals():
    from scipy.stats import binomtest

    from pgm_energy.exceptions import MixingWarning

    sampler = GibbsSampling(deterministic_chain())
    with pytest.warns(MixingWarning, match=r"restarts=N"):
        trapped = sampler.sample(size=4000, seed=0)
    assert trapped["x"].nunique() == 1  # one region only: P(x = 1) estimated as 0 or 1, exactly 0.7
    with warnings.catch_warnings():
        warnings.simplefilter("error", MixingWarning)
        sampler.sample(size=10, seed=1)  # said once per sampler
    chains = 400
    frame = GibbsSampling(deterministic_chain()).sample(size=chains * 10, seed=0, restarts=chains, burn_in=3)
    regions = frame["x"].to_numpy().reshape(chains, 10)
    assert (regions == regions[:, :1]).all()  # each chain stays in its region...
    # ... and the regions are drawn with their probabilities: P(x = 1) = 0.7 (binomial test at ALPHA)
    assert binomtest(int(regions[:, 0].sum()), chains, 0.7).pvalue > ALPHA
    given = GibbsSampling(deterministic_chain()).sample(size=chains * 10, seed=1, restarts=chains, burn_in=3,
                                                         evidence={"w": 1})
    posterior = 0.7 * 0.8 / (0.3 * 0.1 + 0.7 * 0.8)
    assert binomtest(int(given["x"].to_numpy()[::10].sum()), chains, posterior).pvalue > ALPHA


def test_restarts_are_refused_where_they_cannot_work():
    from pgm_energy import BoltzmannMachine

    sampler = GibbsSampling(deterministic_chain())
    with pytest.raises(ValidationError, match="start_state or restarts"):
        sampler.sample(start_state={"x": 0, "y": 0, "z": 0, "w": 0}, size=4, restarts=2)
    with pytest.raises(ValidationError, match="restarts=5 chains need"):
        sampler.sample(size=4, restarts=5)
    with pytest.raises(ValidationError, match="restarts"):
        sampler.sample(size=4, restarts=0)
    markov = GibbsSampling(BoltzmannMachine([[0.0, 1.0], [1.0, 0.0]], [0.0, 0.0]).to_markov_network())
    with pytest.raises(ValidationError, match="Bayesian network"):
        markov.sample(size=4, restarts=2)


def test_approx_inference_answers_as_pgmpys_from_fast_samples():
    from pgmpy.inference import ApproxInference as PgmpyApproxInference

    from pgm_energy.interop.pgmpy import ApproxInference

    model = bundled("asia")
    evidence = {"smoke": "yes", "dysp": "yes"}
    ours = ApproxInference(model)
    answer = ours.query(["lung", "bronc"], evidence=evidence, n_samples=100_000, seed=0)
    exact = VariableElimination(model).query(["lung", "bronc"], evidence=evidence, show_progress=False)
    theirs = PgmpyApproxInference(model).query(["lung", "bronc"], evidence=evidence, n_samples=2000, seed=0,
                                               show_progress=False)
    assert type(answer) is type(theirs) and set(answer.variables) == set(theirs.variables)
    for lung in ("yes", "no"):
        for bronc in ("yes", "no"):
            assert abs(answer.get_value(lung=lung, bronc=bronc) - exact.get_value(lung=lung, bronc=bronc)) < 0.01
    marginals = ours.query(["lung", "bronc"], joint=False, n_samples=50_000, seed=1)
    assert set(marginals) == {"lung", "bronc"} and abs(marginals["lung"].get_value(lung="yes") - 0.055) < 0.01
    assert ours.map_query(["lung", "bronc"], evidence=evidence, seed=0) == {"lung": "no", "bronc": "yes"}
    # samples given: their (weighted) frequencies
    samples = BayesianModelSampling(model).likelihood_weighted_sample(evidence=list(evidence.items()), size=20_000,
                                                                      seed=2)
    from_samples = ours.query(["lung"], samples=samples)
    weights = samples["_weight"].to_numpy()
    expected = weights[(samples["lung"] == "yes").to_numpy()].sum() / weights.sum()
    assert abs(from_samples.get_value(lung="yes") - expected) < 1e-12
    with pytest.raises(ValidationError, match="virtual_evidence"):
        ours.query(["lung"], virtual_evidence=[object()])
    with pytest.raises(ValidationError, match="'mood'"):
        ours.query(["mood"])
