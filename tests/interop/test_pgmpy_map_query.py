"""map_query and predict answer what pgmpy answers: VariableElimination.map_query on the converted network.

pgmpy's map_query is marginal MAP: the argmax of the posterior table of the asked
variables, every other unobserved variable summed out. The machines here are small
and real-valued (no exact ties), so pgmpy's answer is unique; with exact ties on the
all-zero assignment both pick it (pgmpy's first entry, our lexicographic first).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine, exact
from pgm_energy.inference import ExactInference, GibbsInference
from pgm_energy.interop.pgmpy import to_markov_network

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")
    from pgmpy.inference import VariableElimination


def random_bm(seed, n, *, scale=1.0, hidden=0):
    """The issue's 'random machine': normal weights and biases of standard deviation ``scale``."""
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.normal(0.0, scale, size=(n, n)), 1)
    visible = [True] * (n - hidden) + [False] * hidden
    return BoltzmannMachine(upper + upper.T, rng.normal(0.0, scale, size=n), visible=visible)


def random_rbm(seed, n_visible, n_hidden, *, scale=1.0):
    rng = np.random.default_rng(seed)
    return RestrictedBoltzmannMachine(
        rng.normal(0.0, scale, size=(n_visible, n_hidden)),
        rng.normal(0.0, scale, size=n_visible),
        rng.normal(0.0, scale, size=n_hidden),
    )


def pgmpy_map_query(model, variables, evidence=None):
    answer = VariableElimination(to_markov_network(model)).map_query(
        list(variables), evidence=evidence or None, show_progress=False
    )
    return {name: int(value) for name, value in answer.items()}


def test_the_issues_five_unit_machine():
    # Seed 0: the joint MAP has v0 = 0, yet p(v0 = 1) = 0.511 (the issue's machine said 0.517).
    bm = random_bm(0, 5)
    p_on = float(exact.marginals(bm)["v0"])
    assert 0.5 < p_on < 0.52
    inference = ExactInference(bm)
    assert inference.most_probable_state(["v0"]) == {"v0": 0}
    assert pgmpy_map_query(bm, ["v0"]) == {"v0": 1}
    assert inference.map_query(["v0"]) == {"v0": 1}
    # the sampled engine estimates the same marginal MAP (a margin of ~6 standard errors)
    assert GibbsInference(bm, n_samples=10_000, n_chains=4, burn_in=100, rng=5).map_query(["v0"]) == {"v0": 1}


MODELS = {
    "bm5": lambda: random_bm(1, 5),
    "bm7-hidden": lambda: random_bm(2, 7, scale=1.5, hidden=3),
    "rbm4x3": lambda: random_rbm(3, 4, 3, scale=1.5),
    "rbm3x5": lambda: random_rbm(4, 3, 5, scale=1.5),
}


@pytest.mark.parametrize("key", sorted(MODELS))
def test_map_query_matches_pgmpy_with_and_without_evidence(key):
    model = MODELS[key]()
    names = list(model.names)
    inference = ExactInference(model)
    rng = np.random.default_rng(7)
    checked = 0
    for evidence in ({}, {names[-1]: 1}, {names[0]: 0, names[2]: 1}):
        free = [n for n in names if n not in evidence]
        for size in (1, 2, 3):
            for _ in range(2):
                variables = [str(v) for v in rng.choice(free, size=size, replace=False)]
                expected = pgmpy_map_query(model, variables, evidence)
                assert inference.map_query(variables, evidence=evidence) == expected, (variables, evidence)
                checked += 1
    assert checked == 18


def test_map_query_ties_on_the_all_zero_assignment_agree_with_pgmpy():
    bm = BoltzmannMachine(np.zeros((4, 4)), np.zeros(4))
    assert pgmpy_map_query(bm, ["v2", "v0"]) == ExactInference(bm).map_query(["v2", "v0"]) == {"v0": 0, "v2": 0}


def test_predict_answers_pgmpys_map_query_row_by_row_and_returns_the_whole_frame():
    model = random_bm(8, 6, scale=1.5, hidden=2)  # v0..v3 visible, h0, h1 hidden
    data = pd.DataFrame({"v3": [1, 0, 1, 1], "v1": [0, 0, 1, 0]}, index=[7, 3, 5, 3])
    whole = ExactInference(model).predict(data, include_observed=True)
    # pgmpy's layout: the data's columns, then the predicted ones
    assert list(whole.columns) == ["v3", "v1", "v0", "v2"]
    pd.testing.assert_frame_equal(whole[["v3", "v1"]], data)
    for position, (_, row) in enumerate(data.iterrows()):
        expected = pgmpy_map_query(model, ["v0", "v2"], {k: int(v) for k, v in row.items()})
        assert whole.iloc[position][["v0", "v2"]].to_dict() == expected
    only = ExactInference(model).predict(data)
    pd.testing.assert_frame_equal(only, whole[["v0", "v2"]])


def test_gibbs_map_query_sums_out_through_the_free_energy_of_an_rbm():
    rbm = random_rbm(9, 3, 4, scale=1.5)
    exact_answer = ExactInference(rbm).map_query(["v0", "v2"], evidence={"v1": 1})
    assert exact_answer == pgmpy_map_query(rbm, ["v0", "v2"], {"v1": 1})
    gibbs = GibbsInference(rbm, n_samples=2000, n_chains=2, burn_in=50, rng=11)
    assert gibbs.map_query(["v0", "v2"], evidence={"v1": 1}) == exact_answer
    # every unobserved unit asked: nothing summed out, the annealed joint MAP
    assert gibbs.map_query(evidence={"v1": 1}) == ExactInference(rbm).most_probable_state(evidence={"v1": 1})
