"""ExactInference on Potts machines answers as pgmpy's VariableElimination on the converted network."""

import warnings

import numpy as np
import pytest

from pgm_energy.exceptions import EvidenceError, ModelSizeError, ValidationError
from pgm_energy.inference import ExactInference

from conftest_potts import random_potts


def pgmpy_inference(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.inference import VariableElimination

    return VariableElimination(model.to_markov_network())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_queries_and_map_queries_agree_with_variable_elimination(seed):
    model = random_potts(seed, cardinalities=(3, 2, 4, 3), state_names={"v0": ["a", "b", "c"]})
    ours, theirs = ExactInference(model), pgmpy_inference(model)
    assert isinstance(ours, ExactInference)
    for variables, evidence in ((["v0"], {"v2": 1}), (["v0", "v3"], {"v1": 0}), (["v2"], {"v0": "b"})):
        factor = ours.query(variables, evidence=evidence)
        reference = theirs.query(variables, evidence=evidence, show_progress=False)
        reference.normalize()
        np.testing.assert_allclose(factor.values, np.transpose(reference.values, [reference.variables.index(v)
                                                                                  for v in variables]), atol=1e-12)
        assert ours.map_query(variables, evidence=evidence) == theirs.map_query(variables, evidence=evidence,
                                                                                show_progress=False)
    joint = ours.map_query()
    assert joint == ours.most_probable_state()
    energies = {tuple(s): model.energy(s) for s in np.ndindex(*model.cardinalities)}
    best = min(energies, key=energies.get)
    assert [model.state_index(name, joint[name]) for name in model.names] == list(best)


def test_bad_requests_are_refused():
    model = random_potts(3)
    engine = ExactInference(model)
    with pytest.raises(EvidenceError, match="both queried and given"):
        engine.map_query(["v0"], evidence={"v0": 1})
    with pytest.raises(EvidenceError, match="not a state"):
        engine.map_query(["v0"], evidence={"v1": 5})
    with pytest.raises(ValidationError, match="binary models"):
        engine.predict(None)
    big = random_potts(4, cardinalities=(8,) * 7, p_edge=0.2)
    with pytest.raises(ModelSizeError, match="2\\*\\*20|1048576"):
        ExactInference(big).map_query()


def test_gibbs_inference_estimates_the_exact_answers():
    from pgm_energy.inference import GibbsInference

    model = random_potts(5, cardinalities=(3, 2, 4), state_names={"v0": ["a", "b", "c"]})
    sampled, exact = GibbsInference(model, n_samples=20_000, rng=0), ExactInference(model)
    assert isinstance(sampled, GibbsInference)
    estimate = sampled.query(["v0", "v2"], evidence={"v1": 1})
    truth = exact.query(["v0", "v2"], evidence={"v1": 1})
    assert estimate.state_names == truth.state_names
    # 80,000 draws (4 chains): a cell's standard error is below 0.004 even with an autocorrelation time of 5
    np.testing.assert_allclose(estimate.values, truth.values, atol=0.02)
    singles = sampled.query(["v2"], joint=False)
    np.testing.assert_allclose(singles["v2"].values, exact.query(["v2"]).values, atol=0.02)
    assert sampled.most_probable_state() == exact.most_probable_state()
    assert sampled.map_query(["v0"]) == exact.map_query(["v0"])
    with pytest.raises(ValidationError, match="binary models"):
        sampled.query_with_errors(["v0"])
