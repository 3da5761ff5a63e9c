"""Inference about hidden causes at any layer of a deep Boltzmann machine: exact, Gibbs and mean-field.

Exact answers are checked against pgmpy's VariableElimination on the converted network and against
brute force of the embedding; Gibbs answers against the exact ones within declared Monte Carlo
error; mean-field answers against the fixed-point equations, closed forms and weak-coupling limits.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from pgmpy.inference import VariableElimination

from pgm_energy import DeepBoltzmannMachine
from pgm_energy._math import sigmoid
from pgm_energy.exceptions import ConvergenceWarning, EvidenceError, ParameterTypeError, ValidationError
from pgm_energy.inference import ExactInference, GibbsInference, MeanFieldInference, most_probable_state


def machine(sizes=(4, 3, 3), seed=0, scale=1.0, temperature=1.0):
    g = np.random.default_rng(seed)
    return DeepBoltzmannMachine([g.normal(0, scale, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])],
                                [g.normal(0, 0.5, n) for n in sizes], temperature=temperature)


def all_states(n):
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.float64)


def brute_posterior(model, evidence):
    """Every state consistent with ``evidence`` and its probability (brute force of the embedding)."""
    states = all_states(model.n_units)
    keep = np.ones(states.shape[0], dtype=bool)
    for name, value in evidence.items():
        keep &= states[:, model.index(name)] == value
    states = states[keep]
    log_p = -model.energy(states) / model.temperature
    p = np.exp(log_p - log_p.max())
    return states, p / p.sum()


EVIDENCE_CASES = [{}, {"v0": 1}, {"h2_1": 0, "v2": 1}, {"h1_0": 1}]


@pytest.mark.parametrize("evidence", EVIDENCE_CASES)
def test_exact_queries_at_every_layer_equal_pgmpy_variable_elimination(evidence):
    model = machine(temperature=1.3)
    reference = VariableElimination(model.to_markov_network())
    engine = ExactInference(model)
    free = [name for name in model.names if name not in evidence]
    for variables in (free[:1], [free[0], free[-1]], [n for n in free if n.startswith("h2")]):
        expected = reference.query(variables, evidence=evidence, show_progress=False)
        expected.normalize()
        got = engine.query(variables, evidence=evidence)
        assert got.variables == variables
        np.testing.assert_allclose(got.values, expected.values, atol=1e-12)
    marginals = engine.query(free, evidence=evidence, joint=False)
    for name in free:
        expected = reference.query([name], evidence=evidence, show_progress=False)
        expected.normalize()
        np.testing.assert_allclose(marginals[name].values, expected.values, atol=1e-12)


@pytest.mark.parametrize("evidence", EVIDENCE_CASES)
def test_exact_map_answers_equal_brute_force(evidence):
    model = machine(seed=1)
    engine = ExactInference(model)
    states, p = brute_posterior(model, evidence)
    # joint MAP: the single most probable state
    best = states[int(np.argmax(p))]
    state, energy = most_probable_state(model, evidence=evidence)
    np.testing.assert_array_equal(state, best)
    assert energy == pytest.approx(model.energy(best), abs=1e-12)
    assert engine.most_probable_state(evidence=evidence) == {
        name: int(best[i]) for i, name in enumerate(model.names) if name not in evidence
    }
    # marginal MAP of two units of different layers, the rest summed out
    free = [name for name in model.names if name not in evidence]
    asked = [free[1], free[-2]]
    columns = [model.index(name) for name in asked]
    masses = {}
    for state, mass in zip(states, p):
        key = tuple(int(x) for x in state[columns])
        masses[key] = masses.get(key, 0.0) + mass
    best_pair = max(sorted(masses), key=lambda key: masses[key])
    assert engine.map_query(asked, evidence=evidence) == dict(zip(asked, best_pair))


def test_exact_predict_probability_fills_hidden_causes_of_each_row():
    model = machine(seed=2)
    data = pd.DataFrame({"v0": [0, 1, 1], "v1": [1, 1, 0], "v2": [0, 0, 1], "v3": [1, 0, 1]})
    result = ExactInference(model).predict_probability(data, include_latents=True)
    for row in range(3):
        evidence = {name: int(data[name].iloc[row]) for name in data.columns}
        states, p = brute_posterior(model, evidence)
        for name in model.hidden_names:
            assert result[f"{name}_1"].iloc[row] == pytest.approx(p @ states[:, model.index(name)], abs=1e-12)
    predicted = ExactInference(model).predict(data, include_latents=True)
    assert list(predicted.columns) == list(model.hidden_names)


def test_the_engines_of_a_deep_machine_are_subclasses_of_the_public_ones():
    model = machine()
    assert isinstance(ExactInference(model), ExactInference)
    assert isinstance(GibbsInference(model), GibbsInference)
    assert "DeepExact" in type(ExactInference(model)).__name__


def test_gibbs_queries_match_exact_within_their_standard_errors():
    model = machine(seed=3, scale=1.5)
    evidence = {"v1": 1, "h2_0": 0}
    variables = ["h1_0", "h1_2", "v3"]
    exact = ExactInference(model).query(variables, evidence=evidence).values.ravel()
    estimate = GibbsInference(model, n_samples=4000, n_chains=4, rng=7).query_with_errors(variables, evidence=evidence)
    values, errors = estimate.factor.values.ravel(), estimate.standard_errors.ravel()
    # 8 cells, each |z| < 4.5: a false failure has probability below 8 * 7e-6
    assert np.all(np.abs(values - exact) < 4.5 * np.maximum(errors, 1e-3))
    # the joint MAP by annealing (on the bipartite embedding) finds the exact one on this small model
    assert GibbsInference(model, rng=0).most_probable_state(evidence=evidence) == \
        ExactInference(model).most_probable_state(evidence=evidence)


def test_mean_field_answers_are_a_fixed_point_of_the_mean_field_equations():
    model = machine(sizes=(5, 4, 3, 2), seed=4)
    evidence = {"v0": 1, "h2_1": 0, "h3_0": 1}
    engine = MeanFieldInference(model, tolerance=1e-12, max_iterations=10_000)
    means = engine.posterior_means(evidence)
    offsets = np.concatenate([[0], np.cumsum(model.layer_sizes)])
    mu = [means[offsets[k] : offsets[k + 1]] for k in range(model.n_layers)]
    for layer in range(model.n_layers):
        # mu_l = sigmoid((b_l + W_{l-1}^T mu_{l-1} + W_l mu_{l+1}) / T), for every free unit of layer l
        field = model.biases[layer].copy()
        if layer > 0:
            field += mu[layer - 1] @ model.weights[layer - 1]
        if layer < model.n_layers - 1:
            field += model.weights[layer] @ mu[layer + 1]
        expected = sigmoid(field / model.temperature)
        names = model.layers[layer]
        for k, name in enumerate(names):
            if name in evidence:
                assert means[model.index(name)] == evidence[name]
            else:
                assert means[model.index(name)] == pytest.approx(expected[k], abs=1e-10)


def test_mean_field_is_exact_without_weights_and_close_under_weak_coupling():
    g = np.random.default_rng(5)
    sizes = (4, 3, 3)
    biases = [g.normal(0, 1, n) for n in sizes]
    free_model = DeepBoltzmannMachine([np.zeros((4, 3)), np.zeros((3, 3))], biases, temperature=0.7)
    means = MeanFieldInference(free_model).posterior_means({"v1": 1})
    expected = sigmoid(np.concatenate(biases) / 0.7)
    expected[1] = 1.0
    np.testing.assert_allclose(means, expected, atol=1e-12)
    # weights of scale s: the mean-field error of a marginal is O(s^2)
    for scale, bound in ((0.05, 2e-3), (0.01, 1e-4)):
        model = DeepBoltzmannMachine([g.normal(0, scale, (4, 3)), g.normal(0, scale, (3, 3))], biases)
        exact = ExactInference(model).query(list(model.hidden_names), evidence={"v0": 1}, joint=False)
        approximate = MeanFieldInference(model).query(list(model.hidden_names), evidence={"v0": 1}, joint=False)
        for name in model.hidden_names:
            assert abs(approximate[name].values[1] - exact[name].values[1]) < bound


def test_mean_field_joint_table_is_the_product_of_its_marginals_and_modes_follow_the_means():
    model = machine(seed=6)
    engine = MeanFieldInference(model)
    evidence = {"v0": 0}
    table = engine.query(["h1_0", "h2_2"], evidence=evidence)
    marginals = engine.query(["h1_0", "h2_2"], evidence=evidence, joint=False)
    np.testing.assert_allclose(table.values, np.outer(marginals["h1_0"].values, marginals["h2_2"].values),
                               atol=1e-15)
    means = engine.posterior_means(evidence)
    assert engine.map_query(["h1_0", "h2_2"], evidence=evidence) == {
        "h1_0": int(means[model.index("h1_0")] > 0.5), "h2_2": int(means[model.index("h2_2")] > 0.5)
    }
    frame = engine.predict_probability(pd.DataFrame({"v0": [0]}), include_latents=True)
    assert frame["h1_0_1"].iloc[0] == pytest.approx(means[model.index("h1_0")], abs=1e-15)


def test_mean_field_warns_when_it_stops_at_its_cap_and_refuses_bad_arguments():
    model = machine(seed=7, scale=2.0)
    with pytest.warns(ConvergenceWarning, match="max_iterations=1"):
        MeanFieldInference(model, max_iterations=1).posterior_means({"v0": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MeanFieldInference(model).posterior_means({"v0": 1})
    with pytest.raises(ParameterTypeError, match="DeepBoltzmannMachine"):
        MeanFieldInference(model.to_bipartite_rbm())
    with pytest.raises(ValidationError, match="tolerance"):
        MeanFieldInference(model, tolerance=-1.0)
    with pytest.raises(ValidationError, match="max_iterations"):
        MeanFieldInference(model, max_iterations=0)
    with pytest.raises(EvidenceError, match="h9_0"):
        MeanFieldInference(model).query(["h1_0"], evidence={"h9_0": 1})
    with pytest.raises(EvidenceError):
        MeanFieldInference(model).query(["h1_0"], evidence={"h1_0": 1})
