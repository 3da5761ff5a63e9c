"""SigmoidBeliefNetwork: construction, probabilities, pgmpy conversion, exact queries, Gibbs kernel, files.

Independent oracles: a plain-Python product of sigmoids for log p(x), pgmpy's
VariableElimination on the converted DiscreteBayesianNetwork for every exact query,
and brute-force log-odds for the Markov-blanket Gibbs conditional.
"""

import itertools
import math
import warnings

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgm_energy import (
    EvidenceError,
    ModelSizeError,
    ParameterTypeError,
    SigmoidBeliefNetwork,
    StateError,
    ValidationError,
    load,
)
from pgm_energy.interop.pgmpy import to_bayesian_network, variable_elimination_query

SHAPES = [(2, 3, 4), (3, 3), (1, 2, 5), (4,), (2, 2, 2, 2)]


def all_states(n):
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.float64)


def plain_log_probability(sbn, state):
    """log p(x) as a sum of log-sigmoids, one unit at a time, in plain Python (log(1 - s(a)) = log s(-a))."""
    total = 0.0
    offsets = np.concatenate([[0], np.cumsum(sbn.layer_sizes)])
    for k in range(sbn.n_layers):
        for i in range(sbn.layer_sizes[k]):
            a = float(sbn.biases[k][i])
            if k < sbn.n_layers - 1:
                a += sum(float(sbn.weights[k][i, j]) * state[offsets[k + 1] + j] for j in range(sbn.layer_sizes[k + 1]))
            total += log_sigmoid(a / sbn.temperature if state[offsets[k] + i] == 1 else -a / sbn.temperature)
    return total


def log_sigmoid(a):
    """log(1 / (1 + e^-a)) in plain Python, exact for large |a| (never exponentiates a large number)."""
    return -math.log1p(math.exp(-a)) if a >= 0 else a - math.log1p(math.exp(a))


def reference(sbn, variables, evidence=None):
    """pgmpy VariableElimination on the converted Bayesian network, normalized, in the asked order."""
    return variable_elimination_query(sbn.to_bayesian_network(), variables, evidence=evidence or {})


# --------------------------------------------------------------------------- construction
def test_default_names_follow_layers_bottom_first():
    sbn = SigmoidBeliefNetwork.random([2, 3, 1], rng=0)
    assert sbn.names == ("v0", "v1", "h1_0", "h1_1", "h1_2", "h2_0")
    assert sbn.layers == (("v0", "v1"), ("h1_0", "h1_1", "h1_2"), ("h2_0",))
    assert sbn.visible_names == ("v0", "v1") and sbn.n_hidden == 4
    assert sbn.layer_of("h1_2") == 1 and sbn.layer_of("v1") == 0
    assert sbn.parents("v0") == ("h1_0", "h1_1", "h1_2") and sbn.parents("h2_0") == ()


def test_custom_names_and_zero_weight_is_no_edge():
    sbn = SigmoidBeliefNetwork([[[1.5, 0.0]]], [[0.0], [0.1, -0.2]], names=["e", "a", "b"])
    assert sbn.names == ("e", "a", "b")
    assert sbn.parents("e") == ("a",)
    graph = sbn.graph
    assert set(graph.edges) == {("a", "e")} and graph.edges["a", "e"]["weight"] == 1.5
    assert graph.nodes["e"]["visible"] and graph.nodes["b"]["layer"] == 1


@pytest.mark.parametrize(
    "weights, biases, match",
    [
        ([np.zeros((2, 2))], [np.zeros(2), np.zeros(3)], r"weights\[0\] must have shape"),
        ([], [np.zeros(2), np.zeros(3)], "one matrix per pair"),
        ([np.zeros((2, 3))], [np.zeros(2), [0.0, np.nan, 0.0]], r"biases\[1\] must be finite"),
        ([np.full((2, 3), np.inf)], [np.zeros(2), np.zeros(3)], r"weights\[0\] must be finite"),
        ([], [], "at least one layer"),
        ([np.zeros((2, 0))], [np.zeros(2), np.zeros(0)], "at least one unit"),
        ([np.zeros(3)], [np.zeros(3), np.zeros(1)], "2-dimensional"),
    ],
)
def test_bad_parameters_are_rejected(weights, biases, match):
    with pytest.raises(ValidationError, match=match):
        SigmoidBeliefNetwork(weights, biases)


def test_bad_types_names_and_temperature():
    with pytest.raises(ParameterTypeError, match="biases"):
        SigmoidBeliefNetwork([], np.zeros(3))
    with pytest.raises(ParameterTypeError, match="weights"):
        SigmoidBeliefNetwork(np.zeros((2, 2)), [np.zeros(2), np.zeros(2)])
    with pytest.raises(ValidationError, match="duplicates"):
        SigmoidBeliefNetwork([np.zeros((1, 2))], [np.zeros(1), np.zeros(2)], names=["a", "b", "a"])
    with pytest.raises(ValidationError, match="3 entries"):
        SigmoidBeliefNetwork([np.zeros((1, 2))], [np.zeros(1), np.zeros(2)], names=["a", "b"])
    with pytest.raises(ValidationError, match="temperature"):
        SigmoidBeliefNetwork([], [np.zeros(2)], temperature=0.0)
    with pytest.raises(TypeError):
        SigmoidBeliefNetwork([], [np.zeros(2)], nmes=["a", "b"])


def test_model_is_immutable_and_parameters_are_copied():
    weights = np.ones((2, 2))
    sbn = SigmoidBeliefNetwork([weights], [np.zeros(2), np.zeros(2)])
    weights[0, 0] = 5.0
    assert sbn.weights[0][0, 0] == 1.0
    with pytest.raises(ValueError):
        sbn.weights[0][0, 0] = 2.0
    with pytest.raises(AttributeError):
        sbn.temperature = 2.0
    warmer = sbn.with_temperature(2.0)
    assert warmer.temperature == 2.0 and sbn.temperature == 1.0


# --------------------------------------------------------------------------- probabilities
@pytest.mark.parametrize("shape", SHAPES)
def test_log_probability_matches_plain_product_and_normalizes(shape):
    sbn = SigmoidBeliefNetwork.random(shape, scale=1.5, rng=sum(shape), temperature=1.3)
    states = all_states(sbn.n_units)
    log_p = sbn.log_probability(states)
    expected = [plain_log_probability(sbn, state) for state in states]
    np.testing.assert_allclose(log_p, expected, rtol=0, atol=1e-10)
    assert math.isclose(np.exp(log_p).sum(), 1.0, abs_tol=1e-12)
    assert sbn.log_probability(states[3]) == pytest.approx(expected[3], abs=1e-12)


def test_extreme_weights_stay_finite():
    # weights of +-50: probabilities of e^-100 and below, all in log space
    sbn = SigmoidBeliefNetwork([np.full((2, 2), 50.0)], [np.full(2, -50.0), np.full(2, 50.0)])
    log_p = sbn.log_probability(all_states(4))
    assert np.all(np.isfinite(log_p))
    assert log_p[0] == pytest.approx(-100.0, abs=1e-9)  # both parents off: e^-50 each
    assert sbn.log_probability([1, 1, 1, 1]) == pytest.approx(-4 * math.log1p(math.exp(-50.0)), abs=1e-12)
    factor = sbn.query(["h1_0"], {"v0": 0})
    assert np.all(np.isfinite(factor.values)) and factor.values.sum() == pytest.approx(1.0)
    assert np.all(np.isfinite(sbn.log_marginal_likelihood(all_states(2))))


def test_conditional_probabilities_are_sigmoids_of_parents():
    sbn = SigmoidBeliefNetwork([[[2.0, -1.0]]], [[0.5], [0.0, 1.0]], names=["e", "a", "b"])
    probabilities = sbn.conditional_probabilities([[0, 1, 1], [1, 0, 1]])
    sig = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    np.testing.assert_allclose(probabilities, [[sig(1.5), sig(0.0), sig(1.0)], [sig(-0.5), sig(0.0), sig(1.0)]])


def test_bad_states_are_rejected():
    sbn = SigmoidBeliefNetwork.random([2, 2], rng=0)
    with pytest.raises(StateError, match="only 0 and 1"):
        sbn.log_probability([0, 2, 1, 0])
    with pytest.raises(StateError, match="shape"):
        sbn.log_probability([0, 1, 1])
    with pytest.raises(StateError):
        sbn.log_marginal_likelihood([0.5, 1])


# --------------------------------------------------------------------------- pgmpy
@pytest.mark.parametrize("shape", SHAPES)
def test_bayesian_network_cpds_are_the_sigmoids(shape):
    sbn = SigmoidBeliefNetwork.random(shape, scale=2.0, rng=3, temperature=0.8)
    network = sbn.to_bayesian_network()
    assert network.check_model()
    assert set(network.nodes) == set(sbn.names) and set(network.latents) == set(sbn.hidden_names)
    rng = np.random.default_rng(1)
    for name in sbn.names:
        cpd = network.get_cpds(name)
        values = cpd.get_values()
        np.testing.assert_allclose(values.sum(axis=0), 1.0, rtol=0, atol=1e-12)
        parents = sbn.parents(name)
        assert set(network.get_parents(name)) == set(parents)
        # entries for random parent assignments, read by state name: independent of the column order
        layer = sbn.layer_of(name)
        local = sbn.index(name) - sum(sbn.layer_sizes[:layer])
        for _ in range(4):
            assignment = {p: int(rng.integers(2)) for p in parents}
            a = float(sbn.biases[layer][local])
            for p, value in assignment.items():
                a += float(sbn.weights[layer][local, sbn.index(p) - sum(sbn.layer_sizes[: layer + 1])]) * value
            p_on = 1.0 / (1.0 + math.exp(-a / sbn.temperature))
            assert cpd.get_value(**{name: 1, **assignment}) == pytest.approx(p_on, rel=1e-12)
            assert cpd.get_value(**{name: 0, **assignment}) == pytest.approx(1.0 - p_on, rel=1e-9)


def test_conditional_table_layout_is_itertools_product():
    sbn = SigmoidBeliefNetwork([[[1.0, 2.0, 4.0]]], [[-3.0], [0.0, 0.0, 0.0]])
    parents, table = sbn.conditional_table("v0")
    assert parents == ("h1_0", "h1_1", "h1_2")
    for column, assignment in enumerate(itertools.product((0, 1), repeat=3)):
        a = -3.0 + np.dot([1.0, 2.0, 4.0], assignment)
        assert table[1, column] == pytest.approx(1 / (1 + math.exp(-a)))
        assert table[0, column] == pytest.approx(1 / (1 + math.exp(a)))


def test_fan_in_above_sixteen_is_a_model_size_error():
    sbn = SigmoidBeliefNetwork([np.ones((2, 17))], [np.zeros(2), np.zeros(17)], names=None)
    with pytest.raises(ModelSizeError, match=r"unit 'v0' has fan-in 17"):
        sbn.to_bayesian_network()
    with pytest.raises(ModelSizeError, match="fan-in 17"):
        to_bayesian_network(sbn)
    # 16 parents is allowed: 2**16 columns
    sixteen = SigmoidBeliefNetwork([np.ones((1, 16))], [np.zeros(1), np.zeros(16)])
    assert sixteen.conditional_table("v0")[1].shape == (2, 2**16)


def test_to_bayesian_network_rejects_other_models():
    from pgm_energy import RestrictedBoltzmannMachine

    with pytest.raises(ParameterTypeError, match="SigmoidBeliefNetwork"):
        to_bayesian_network(RestrictedBoltzmannMachine.random(2, 2, rng=0))


@pytest.mark.parametrize("shape", [(2, 3, 4), (3, 3), (1, 2, 5)])
@pytest.mark.parametrize("seed", [0, 1])
def test_exact_queries_agree_with_pgmpy_variable_elimination(shape, seed):
    sbn = SigmoidBeliefNetwork.random(shape, scale=2.0, rng=10 * seed + len(shape))
    names = sbn.names
    rng = np.random.default_rng(seed)
    hidden = list(sbn.hidden_names)
    cases = [
        ([hidden[0], hidden[-1]], {name: int(rng.integers(2)) for name in sbn.visible_names}),
        ([names[0], hidden[1]], None),
        ([hidden[-1], hidden[0], names[-1 if sbn.n_visible == 1 else 1]][: 3 if sbn.n_visible > 1 else 2],
         {names[0]: 1, hidden[1]: 0}),
        (list(hidden), {name: 1 for name in sbn.visible_names}),
    ]
    for variables, evidence in cases:
        ours = sbn.query(variables, evidence)
        theirs = reference(sbn, variables, evidence)
        assert list(ours.variables) == variables
        np.testing.assert_allclose(ours.values, theirs.values, rtol=0, atol=1e-10)
        marginals = sbn.query(variables, evidence, joint=False)
        for name in variables:
            np.testing.assert_allclose(marginals[name].values, reference(sbn, [name], evidence).values, rtol=0, atol=1e-10)


def test_queries_at_a_temperature_equal_the_scaled_network():
    sbn = SigmoidBeliefNetwork.random([2, 3, 2], scale=2.0, rng=7, temperature=2.5)
    scaled = SigmoidBeliefNetwork([w / 2.5 for w in sbn.weights], [b / 2.5 for b in sbn.biases])
    evidence = {"v0": 1, "v1": 0}
    np.testing.assert_allclose(
        sbn.query(["h1_0", "h2_1"], evidence).values, scaled.query(["h1_0", "h2_1"], evidence).values, rtol=0, atol=1e-12
    )
    np.testing.assert_allclose(
        sbn.query(["h1_0", "h2_1"], evidence).values, reference(sbn, ["h1_0", "h2_1"], evidence).values, atol=1e-10
    )


@pytest.mark.parametrize("shape", [(2, 3, 4), (3, 3), (1, 2, 5)])
def test_log_marginal_likelihood_agrees_with_pgmpy(shape):
    sbn = SigmoidBeliefNetwork.random(shape, scale=1.5, rng=5)
    visible = all_states(sbn.n_visible)
    log_p = sbn.log_marginal_likelihood(visible)
    joint = reference(sbn, list(sbn.visible_names)).values.ravel()  # C order = itertools.product order
    np.testing.assert_allclose(np.exp(log_p), joint, rtol=1e-10, atol=0)
    assert sbn.log_marginal_likelihood(visible[1]) == pytest.approx(log_p[1], abs=1e-12)
    # repeated rows share one enumeration and keep their order
    np.testing.assert_allclose(sbn.log_marginal_likelihood(visible[[1, 0, 1]]), log_p[[1, 0, 1]])


def test_markov_network_of_the_moral_graph_has_partition_function_one():
    sbn = SigmoidBeliefNetwork.random([2, 2, 2], rng=4)
    network = sbn.to_markov_network()
    assert network.check_model()
    factor = variable_elimination_query(network, ["h1_0"], evidence={"v0": 1})
    np.testing.assert_allclose(factor.values, sbn.query(["h1_0"], {"v0": 1}).values, atol=1e-10)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning)
        assert network.get_partition_function() == pytest.approx(1.0, abs=1e-12)


def test_query_errors_and_size_guard():
    sbn = SigmoidBeliefNetwork.random([2, 3, 4], rng=0)
    with pytest.raises(EvidenceError, match="both queried"):
        sbn.query(["v0"], {"v0": 1})
    with pytest.raises(EvidenceError, match="'nope'"):
        sbn.query(["nope"])
    with pytest.raises(EvidenceError, match="must be 0 or 1"):
        sbn.query(["h1_0"], {"v0": 2})
    with pytest.raises(ParameterTypeError, match="string"):
        sbn.query("h1_0")
    with pytest.raises(ValidationError, match="at least one"):
        sbn.query([])
    with pytest.raises(ModelSizeError, match=r"2\*\*7 .*max_units=6"):
        sbn.query(["h1_0"], {"v0": 1, "v1": 1}, max_units=6)
    with pytest.raises(ModelSizeError, match="max_units=6"):
        sbn.log_marginal_likelihood([0, 1], max_units=6)
    wide = SigmoidBeliefNetwork.random([21, 1], rng=0)
    with pytest.raises(ModelSizeError, match="joint query over 21 variables"):
        wide.query(list(wide.names[:21]), joint=True)
    wider = SigmoidBeliefNetwork.random([31, 1], rng=0)
    with pytest.raises(ModelSizeError, match="32 unobserved units"):
        wider.query(["v0"])
    assert sbn.query(["h1_0"], {"v0": 1, "v1": 1}, max_units=7).values.sum() == pytest.approx(1.0)


def test_no_free_unit_but_the_query_and_everything_observed():
    sbn = SigmoidBeliefNetwork.random([1, 1], rng=2)
    factor = sbn.query(["h1_0"], {"v0": 1})
    ratio = math.exp(sbn.log_probability([1, 1]) - sbn.log_probability([1, 0]))
    assert factor.values[1] / factor.values[0] == pytest.approx(ratio)
    single_layer = SigmoidBeliefNetwork([], [[0.3, -0.4]])
    assert single_layer.log_marginal_likelihood([1, 0]) == pytest.approx(single_layer.log_probability([1, 0]))


def test_no_predict_methods_to_refuse():
    # issue 12: the base class promises no method a subclass refuses; belief networks answer
    # through query() and gibbs_posterior() and have no predict()
    sbn = SigmoidBeliefNetwork.random([2, 2], rng=0)
    assert not hasattr(sbn, "predict") and not hasattr(sbn, "predict_probability")


# --------------------------------------------------------------------------- sampling
def test_ancestral_sample_shape_energies_and_reproducibility():
    sbn = SigmoidBeliefNetwork.random([3, 2, 2], rng=1)
    draws = sbn.sample(500, rng=3)
    assert draws.states.shape == (1, 500, 7) and draws.states.dtype == np.uint8
    assert draws.names == sbn.names and draws.info["sampler"] == "ancestral"
    np.testing.assert_allclose(draws.energies[0], -sbn.log_probability(draws.states[0]))
    np.testing.assert_array_equal(draws.states, sbn.sample(500, rng=3).states)
    with pytest.raises(TypeError):
        sbn.sample(5, n_chains=2)
    with pytest.raises(ValidationError, match="n_samples"):
        sbn.sample(0)


def test_gibbs_keeps_evidence_and_is_reproducible_whatever_the_thread_count():
    sbn = SigmoidBeliefNetwork.random([3, 3, 2], scale=2.0, rng=2)
    evidence = {"v0": 1, "v2": 0, "h1_1": 1}
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = sbn.gibbs_posterior(evidence, 200, n_chains=3, burn_in=10, thin=2, rng=11)
        numba.set_num_threads(threads)
        many = sbn.gibbs_posterior(evidence, 200, n_chains=3, burn_in=10, thin=2, rng=11)
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(one.states, many.states)
    assert one.states.shape == (3, 200, 8) and one.info["sweeps"] == 410
    for name, value in evidence.items():
        assert np.all(one.states[:, :, sbn.index(name)] == value)
    np.testing.assert_allclose(one.energies, -sbn.log_probability(one.states.reshape(-1, 8)).reshape(3, 200))
    with pytest.raises(EvidenceError):
        sbn.gibbs_posterior({"v9": 1}, 10)
    with pytest.raises(ValidationError, match="thin"):
        sbn.gibbs_posterior(evidence, 10, thin=0)
    with pytest.raises(TypeError):
        sbn.gibbs_posterior(evidence, 10, scan="random")


@pytest.mark.parametrize("scale", [1.0, 50.0])
def test_markov_blanket_log_odds_kernel_matches_brute_force(scale):
    from pgm_energy._kernels.sigmoid_belief import log_odds

    sbn = SigmoidBeliefNetwork.random([3, 4, 2], scale=scale, rng=8, temperature=1.7)
    ptr, index, weight = sbn._csr(children=True)
    rng = np.random.default_rng(0)
    for _ in range(20):
        state = rng.integers(0, 2, sbn.n_units).astype(np.uint8)
        activations = sbn._pre_activations(state[None].astype(np.float64))[0]
        for i in range(sbn.n_units):
            on, off = state.copy(), state.copy()
            on[i], off[i] = 1, 0
            expected = plain_log_probability(sbn, on) - plain_log_probability(sbn, off)
            got = log_odds(state, activations, i, ptr, index, weight)
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-9 * scale)


# --------------------------------------------------------------------------- files
def test_save_load_round_trip(tmp_path):
    sbn = SigmoidBeliefNetwork.random([2, 3, 1], rng=0, names=["a", "b", "c", "d", "e", "f"], temperature=1.5)
    path = tmp_path / "sbn.npz"
    sbn.save(path)
    loaded = load(path)
    assert isinstance(loaded, SigmoidBeliefNetwork)
    assert loaded.names == sbn.names and loaded.temperature == 1.5 and loaded.layer_sizes == (2, 3, 1)
    for ours, theirs in zip(sbn.weights + sbn.biases, loaded.weights + loaded.biases):
        np.testing.assert_array_equal(ours, theirs)


# --------------------------------------------------------------------------- properties
finite = st.floats(-10.0, 10.0, allow_nan=False)
positive = st.floats(0.01, 10.0, allow_nan=False)


@given(w_a=positive, w_b=positive, b_effect=finite, b_a=finite, b_b=finite)
def test_explaining_away_observing_one_cause_never_raises_the_other(w_a, w_b, b_effect, b_a, b_b):
    # two causes with positive weights to one observed effect
    sbn = SigmoidBeliefNetwork([[[w_a, w_b]]], [[b_effect], [b_a, b_b]], names=["effect", "a", "b"])
    given_effect = sbn.query(["b"], {"effect": 1}).values[1]
    given_both = sbn.query(["b"], {"effect": 1, "a": 1}).values[1]
    assert given_both <= given_effect + 1e-12
    # and the effect itself makes the cause more probable than its prior
    prior = 1 / (1 + math.exp(-b_b))
    assert given_effect >= prior - 1e-12


@given(
    weights=st.lists(st.floats(-50.0, 50.0, allow_nan=False), min_size=6, max_size=6),
    biases=st.lists(st.floats(-50.0, 50.0, allow_nan=False), min_size=5, max_size=5),
    temperature=st.floats(0.1, 10.0),
)
def test_every_cpd_column_sums_to_one(weights, biases, temperature):
    sbn = SigmoidBeliefNetwork(
        [np.reshape(weights, (2, 3))], [biases[:2], biases[2:]], temperature=temperature
    )
    for name in sbn.names:
        _, table = sbn.conditional_table(name)
        assert np.all(table >= 0) and np.all(table <= 1)
        np.testing.assert_allclose(table.sum(axis=0), 1.0, rtol=0, atol=1e-12)
