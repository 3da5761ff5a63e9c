"""Exact answers for Potts machines against brute force and pgmpy's VariableElimination."""

import os

import numpy as np
import pytest
from scipy.special import logsumexp

from pgm_energy import BoltzmannMachine, PottsMachine, exact
from pgm_energy.exceptions import ConversionError, EvidenceError, ModelSizeError
from pgm_energy.interop.pgmpy import variable_elimination_query

from conftest_potts import all_states, random_potts


def brute_force(model, evidence_codes=None):
    """(log Z, probabilities of every state, the states) with the clamped variables fixed."""
    states = all_states(model.cardinalities)
    if evidence_codes:
        keep = np.all([states[:, i] == a for i, a in evidence_codes.items()], axis=0)
        states = states[keep]
    log_weights = model.unnormalized_log_probability(states)
    log_z = logsumexp(log_weights)
    return log_z, np.exp(log_weights - log_z), states


CASES = [
    dict(cardinalities=(3, 2, 4, 3)),
    dict(cardinalities=(1, 5, 2)),
    dict(cardinalities=(2, 2, 2, 2, 2, 3), p_edge=0.4),
    dict(cardinalities=(6,)),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("seed", [0, 1])
def test_log_z_marginals_energy_and_entropy_match_brute_force(case, seed):
    model = random_potts(seed, temperature=0.9, offset=0.7, **CASES[case])
    log_z, p, states = brute_force(model)
    assert exact.log_partition_function(model) == pytest.approx(log_z, abs=1e-12)
    marginals = exact.marginals(model)
    for i, name in enumerate(model.names):
        expected = [p[states[:, i] == a].sum() for a in range(model.cardinalities[i])]
        np.testing.assert_allclose(marginals[name].to_numpy(), expected, atol=1e-13)
    energy = model.energy(states)
    assert exact.mean_energy(model) == pytest.approx(p @ energy, abs=1e-11)
    assert exact.entropy(model) == pytest.approx(-(p @ np.log(p)), abs=1e-11)
    assert exact.helmholtz_free_energy(model) == pytest.approx(-0.9 * log_z, abs=1e-11)
    np.testing.assert_allclose(exact.log_probability(model, states[:7]), np.log(p[:7]), atol=1e-12)


def test_evidence_by_state_name_or_index():
    model = random_potts(3, state_names={"v0": ["a", "b", "c"], "v2": [10, 11, 12, 13]})
    log_z, p, states = brute_force(model, {0: 2, 2: 1})
    for evidence in ({"v0": "c", "v2": 11}, {"v0": 2, "v2": 11}):
        assert exact.log_partition_function(model, evidence=evidence) == pytest.approx(log_z, abs=1e-12)
    marginals = exact.marginals(model, evidence={"v0": "c", "v2": 11})
    np.testing.assert_array_equal(marginals["v0"].to_numpy(), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(marginals["v1"].to_numpy(), [p[states[:, 1] == a].sum() for a in range(2)], atol=1e-13)
    assert list(marginals["v2"].index) == [10, 11, 12, 13]
    with pytest.raises(EvidenceError, match="not a state of variable 'v2'"):
        exact.log_partition_function(model, evidence={"v2": 1})
    with pytest.raises(EvidenceError, match="not a variable"):
        exact.log_partition_function(model, evidence={"zz": 1})


@pytest.mark.parametrize("seed", range(3))
def test_joint_queries_match_brute_force_and_variable_elimination(seed):
    model = random_potts(seed, cardinalities=(3, 2, 4, 3, 2), state_names={"v3": ["x", "y", "z"]}, temperature=1.4)
    _, p, states = brute_force(model, {1: 1})
    factor = exact.query(model, ["v3", "v0", "v4"], evidence={"v1": 1})
    expected = np.zeros((3, 3, 2))
    for s, w in zip(states, p):
        expected[s[3], s[0], s[4]] += w
    np.testing.assert_allclose(factor.values, expected, atol=1e-14)
    assert factor.state_names["v3"] == ["x", "y", "z"]
    reference = variable_elimination_query(model.to_markov_network(), ["v3", "v0", "v4"], evidence={"v1": 1})
    np.testing.assert_allclose(factor.values, reference.values, atol=1e-12)
    singles = exact.query(model, ["v2", "v3"], evidence={"v1": 1}, joint=False)
    np.testing.assert_allclose(singles["v2"].values, [p[states[:, 2] == a].sum() for a in range(4)], atol=1e-13)
    assert singles["v3"].state_names == {"v3": ["x", "y", "z"]}


def test_log_likelihood_sums_out_hidden_variables():
    model = random_potts(5, cardinalities=(3, 2, 4, 3), visible=[True, False, True, False],
                         state_names={"v0": ["a", "b", "c"]})
    log_z, p, states = brute_force(model)
    data = np.array([[0, 1], [2, 3], [0, 1], [1, 0]])
    expected = np.mean([np.log(p[(states[:, 0] == a) & (states[:, 2] == b)].sum()) for a, b in data])
    assert exact.log_likelihood(model, data) == pytest.approx(expected, abs=1e-12)
    import pandas as pd

    # a DataFrame: columns picked by name (in any order), states by their names
    visible = pd.DataFrame({model.visible_names[1]: data[:, 1], model.visible_names[0]: ["a", "c", "a", "b"]})
    assert exact.log_likelihood(model, visible) == pytest.approx(expected, abs=1e-12)


def test_fully_visible_log_likelihood_is_the_mean_log_probability():
    model = random_potts(6)
    log_z, p, states = brute_force(model)
    rows = states[[0, 5, 9, 9]]
    assert exact.log_likelihood(model, rows) == pytest.approx(np.mean(np.log(p[[0, 5, 9, 9]])), abs=1e-12)


def test_binary_potts_machines_answer_as_boltzmann_machines():
    g = np.random.default_rng(3)
    w = np.triu(g.normal(size=(6, 6)), 1)
    bm = BoltzmannMachine(w + w.T, g.normal(size=6), temperature=0.7, offset=0.2)
    potts = PottsMachine.from_boltzmann_machine(bm)
    assert exact.log_partition_function(potts) == pytest.approx(exact.log_partition_function(bm), abs=1e-12)
    marginals = exact.marginals(potts, evidence={"v2": 1})
    np.testing.assert_allclose(marginals.xs(1, level="state").to_numpy(),
                               exact.marginals(bm, evidence={"v2": 1}).to_numpy(), atol=1e-13)


def test_the_size_guard_counts_joint_states():
    model = PottsMachine([4] * 12, None, {})  # 4**12 = 2**24 states
    with pytest.raises(ModelSizeError, match="2\\*\\*max_units = 2\\*\\*20"):
        exact.log_partition_function(model, max_units=20)
    # evidence shrinks the enumeration below the guard
    evidence = {f"v{i}": 0 for i in range(3)}
    assert exact.log_partition_function(model, evidence=evidence, max_units=20) == pytest.approx(9 * np.log(4))


@pytest.mark.skipif(os.environ.get("PGM_ENERGY_PARALLEL_TWIN_TESTS") != "1",
                    reason="compiles the parallel kernel (seconds on an empty cache): set PGM_ENERGY_PARALLEL_TWIN_TESTS=1")
def test_the_parallel_kernel_and_its_serial_twin_give_the_same_bits():
    from pgm_energy import _potts_enumeration as potts_exact
    from pgm_energy._kernels import mixed_radix

    model = random_potts(8, cardinalities=(3,) * 11, p_edge=0.3)  # 177,147 states: the parallel kernel
    problem = potts_exact._flatten(model, {}, [])
    args = tuple(problem[:9]) + (5, True)
    parallel = mixed_radix.potts_block_sums(*args)
    serial = mixed_radix.potts_block_sums_serial(*args)
    for a, b in zip(parallel, serial):
        np.testing.assert_array_equal(a, b)
    log_z, _, _ = brute_force(model)
    assert exact.log_partition_function(model) == pytest.approx(log_z, abs=1e-10)


# ------------------------------------------------------------------ pgmpy networks in, Potts machines out
def _network(reordered=False):
    """A pairwise network with two factors on one pair, two on one variable, and state names.

    ``reordered``: the second factor on (weather, traffic) lists its variables and their states in
    another order (the same function); pgmpy's own products refuse that, the conversion aligns it.
    """
    from pgmpy.factors.discrete import DiscreteFactor
    from pgmpy.models import DiscreteMarkovNetwork

    g = np.random.default_rng(11)
    network = DiscreteMarkovNetwork([("weather", "traffic"), ("traffic", "mood"), ("weather", "mood")],
                                    latents={"traffic"})
    states = {"weather": ["sun", "rain", "snow"], "traffic": ["low", "high"], "mood": [0, 1, 2, 3]}
    second = g.random((3, 2)) + 0.1  # over (weather, traffic) in the canonical state order
    if reordered:
        # rows: traffic high, low; columns: weather snow, sun, rain
        second_factor = DiscreteFactor(["traffic", "weather"], [2, 3], second.T[[1, 0]][:, [2, 0, 1]],
                                       state_names={"traffic": ["high", "low"], "weather": ["snow", "sun", "rain"]})
    else:
        second_factor = DiscreteFactor(["weather", "traffic"], [3, 2], second, state_names=states)
    network.add_factors(
        DiscreteFactor(["weather", "traffic"], [3, 2], g.random(6) + 0.1, state_names=states),
        second_factor,
        DiscreteFactor(["traffic", "mood"], [2, 4], g.random(8) + 0.1, state_names=states),
        DiscreteFactor(["weather", "mood"], [3, 4], g.random(12) + 0.1, state_names=states),
        DiscreteFactor(["mood"], [4], g.random(4) + 0.1, state_names=states),
        DiscreteFactor(["mood"], [4], g.random(4) + 0.1, state_names=states),
    )
    network.check_model()
    return network


_QUERIES = ([["weather"], {"mood": 2}], [["mood", "traffic"], {"weather": "rain"}], [["traffic", "weather", "mood"], None])


def test_any_pairwise_network_converts_exactly():
    network = _network()
    model = PottsMachine.from_markov_network(network)
    assert model.cardinalities == (3, 2, 4) and model.hidden_names == ("traffic",)
    assert model.state_names["weather"] == ["sun", "rain", "snow"]
    product = network.get_factors()[0]
    for factor in network.get_factors()[1:]:
        product = product * factor
    assert exact.log_partition_function(model) == pytest.approx(np.log(product.values.sum()), abs=1e-12)
    for variables, evidence in _QUERIES:
        ours = exact.query(model, variables, evidence=evidence)
        reference = variable_elimination_query(network, variables, evidence=evidence)
        np.testing.assert_allclose(ours.values, reference.values, atol=1e-12)
        assert ours.state_names == reference.state_names
    # and back again: the same distribution and Z
    again = model.to_markov_network()
    again.check_model()
    assert exact.log_partition_function(PottsMachine.from_markov_network(again)) == pytest.approx(
        exact.log_partition_function(model), abs=1e-12)


def test_factors_listing_states_in_another_order_are_aligned_by_name():
    canonical = PottsMachine.from_markov_network(_network())
    aligned = PottsMachine.from_markov_network(_network(reordered=True))
    assert aligned.state_names == canonical.state_names
    states = all_states(canonical.cardinalities)
    np.testing.assert_allclose(aligned.energy(states), canonical.energy(states), atol=1e-14)


def test_networks_a_potts_machine_cannot_hold_are_refused():
    from pgmpy.factors.discrete import DiscreteFactor
    from pgmpy.models import DiscreteMarkovNetwork

    triple = DiscreteMarkovNetwork([("a", "b"), ("b", "c"), ("a", "c")])
    triple.add_factors(DiscreteFactor(["a", "b", "c"], [2, 2, 3], np.ones(12)))
    with pytest.raises(ConversionError, match="3 variables; a Potts machine holds only unary and pairwise"):
        PottsMachine.from_markov_network(triple)
    zero = DiscreteMarkovNetwork([("a", "b")])
    zero.add_factors(DiscreteFactor(["a", "b"], [2, 3], [1, 0, 1, 1, 1, 1]))
    with pytest.raises(ConversionError, match="zero"):
        PottsMachine.from_markov_network(zero)
