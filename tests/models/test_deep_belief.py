"""DeepBeliefNetwork: construction, compiled Markov network, exact and Gibbs queries, bound, training, files.

Independent oracles: pgmpy's VariableElimination and partition function on the compiled
DiscreteMarkovNetwork (built from pgmpy's own CPD factors), brute-force sums over every
state in plain NumPy, the closed-form RBM marginal (a DBN whose top RBM is the first RBM
flipped has the first RBM's p(v): the complementary prior of Hinton, Osindero & Teh, 2006),
and pgm_energy.exact for the top RBM.
"""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import logsumexp

from pgm_energy import (
    DeepBeliefNetwork,
    EvidenceError,
    ModelSizeError,
    ParameterTypeError,
    RestrictedBoltzmannMachine,
    SigmoidBeliefNetwork,
    StateError,
    ValidationError,
    exact,
    load,
)
from pgm_energy.interop.pgmpy import variable_elimination_query
from pgm_energy.learning import TrainingResult

SHAPES = [(3, 2, 2), (2, 3, 2), (4, 3, 1), (2, 2, 2, 2), (1, 2, 3)]


def random_dbn(shape, seed, scale=1.5):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, scale, size=(shape[k], shape[k + 1])) for k in range(len(shape) - 1)]
    biases = [rng.normal(0, scale, size=size) for size in shape]
    recognition = [rng.normal(0, scale, size=(shape[k], shape[k + 1])) for k in range(len(shape) - 2)]
    recognition_biases = [rng.normal(0, scale, size=shape[k + 1]) for k in range(len(shape) - 2)]
    return DeepBeliefNetwork(weights, biases, recognition_weights=recognition, recognition_biases=recognition_biases)


def all_states(n):
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.float64)


def log_sigmoid(a):
    return -np.logaddexp(0.0, -a)


def brute_force_log_joint(dbn, states):
    """log p(x) of full states from the definition, log Z_top by summing the top RBM over every state."""
    top = len(dbn.weights)
    sizes = dbn.layer_sizes
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    rbm_states = all_states(sizes[top - 1] + sizes[top])
    x, h = rbm_states[:, : sizes[top - 1]], rbm_states[:, sizes[top - 1] :]
    w, b, c = dbn.weights[-1], dbn.biases[top - 1], dbn.biases[top]
    log_z = logsumexp(np.einsum("si,ij,sj->s", x, w, h) + x @ b + h @ c)
    values = []
    for state in states:
        layer = [state[offsets[k] : offsets[k + 1]] for k in range(top + 1)]
        total = layer[top - 1] @ w @ layer[top] + layer[top - 1] @ b + layer[top] @ c - log_z
        for k in range(top - 1):
            a = dbn.weights[k] @ layer[k + 1] + dbn.biases[k]
            total += np.sum(np.where(layer[k] == 1, log_sigmoid(a), log_sigmoid(-a)))
        values.append(total)
    return np.array(values)


# --------------------------------------------------------------------------- construction
def test_default_names_layers_and_sizes():
    dbn = random_dbn((3, 2, 2), 0)
    assert dbn.names == ("v0", "v1", "v2", "h1_0", "h1_1", "h2_0", "h2_1")
    assert dbn.layers == (("v0", "v1", "v2"), ("h1_0", "h1_1"), ("h2_0", "h2_1"))
    assert dbn.layer_sizes == (3, 2, 2) and dbn.n_layers == 3 and dbn.n_visible == 3 and dbn.n_hidden == 4
    assert dbn.layer_of("h1_1") == 1 and dbn.layer_of("v2") == 0 and dbn.layer_of("h2_0") == 2
    top = dbn.top_rbm
    assert top.visible_names == ("h1_0", "h1_1") and top.hidden_names == ("h2_0", "h2_1")
    np.testing.assert_array_equal(top.weights, dbn.weights[-1])


def test_from_rbms_maps_parameters_and_ties_recognition():
    rbms = [RestrictedBoltzmannMachine.random(n, m, scale=1.0, rng=k) for k, (n, m) in enumerate([(4, 3), (3, 2)])]
    rbms = [RestrictedBoltzmannMachine(r.weights, r.visible_bias + 0.5, r.hidden_bias - 0.25) for r in rbms]
    dbn = DeepBeliefNetwork.from_rbms(rbms)
    np.testing.assert_array_equal(dbn.weights[0], rbms[0].weights)
    np.testing.assert_array_equal(dbn.biases[0], rbms[0].visible_bias)
    np.testing.assert_array_equal(dbn.biases[1], rbms[1].visible_bias)  # RBM 0's hidden bias is not generative
    np.testing.assert_array_equal(dbn.biases[2], rbms[1].hidden_bias)
    np.testing.assert_array_equal(dbn.recognition_weights[0], rbms[0].weights)
    np.testing.assert_array_equal(dbn.recognition_biases[0], rbms[0].hidden_bias)
    assert dbn.is_tied
    assert not random_dbn((3, 2, 2), 0).is_tied


def test_parameters_are_read_only_copies_and_model_is_immutable():
    weights = [np.ones((2, 2)), np.ones((2, 1))]
    dbn = DeepBeliefNetwork(weights, [np.zeros(2), np.zeros(2), np.zeros(1)])
    weights[0][0, 0] = 5.0
    assert dbn.weights[0][0, 0] == 1.0
    with pytest.raises(ValueError):
        dbn.weights[0][0, 0] = 2.0
    with pytest.raises(AttributeError):
        dbn.foo = 1


@pytest.mark.parametrize(
    "weights, biases, error",
    [
        ([np.ones((2, 2))], [np.zeros(2), np.zeros(2)], ValidationError),  # one RBM only
        ([np.ones((2, 2)), np.ones((3, 1))], [np.zeros(2), np.zeros(2), np.zeros(1)], ValidationError),
        ([np.ones((2, 2)), np.ones((2, 1))], [np.zeros(2), np.zeros(2)], ValidationError),
        ([np.ones((2, 2)), np.ones((2, 1)) * np.nan], [np.zeros(2), np.zeros(2), np.zeros(1)], ValidationError),
        (np.ones((2, 2)), [np.zeros(2), np.zeros(2)], ParameterTypeError),
    ],
)
def test_bad_parameters_are_rejected(weights, biases, error):
    with pytest.raises(error):
        DeepBeliefNetwork(weights, biases)


def test_from_rbms_rejects_mismatched_and_wrong_inputs():
    a, b = RestrictedBoltzmannMachine.random(4, 3, rng=0), RestrictedBoltzmannMachine.random(2, 2, rng=1)
    with pytest.raises(ValidationError, match="rbms\\[0\\] has 3 hidden units"):
        DeepBeliefNetwork.from_rbms([a, b])
    with pytest.raises(ValidationError):
        DeepBeliefNetwork.from_rbms([a])
    with pytest.raises(ParameterTypeError):
        DeepBeliefNetwork.from_rbms(a)
    with pytest.raises(ParameterTypeError):
        DeepBeliefNetwork.from_rbms([a, "rbm"])
    with pytest.raises(ValidationError, match="temperature"):
        DeepBeliefNetwork.from_rbms([a, RestrictedBoltzmannMachine.random(3, 2, rng=0, temperature=2.0)])


def test_unknown_keywords_raise_type_error():
    dbn = random_dbn((2, 2, 2), 0)
    with pytest.raises(TypeError):
        dbn.query(["h1_0"], method="exact", bogus=1)
    with pytest.raises(TypeError):
        dbn.sample(3, n_sweeps=4)
    with pytest.raises(TypeError):
        DeepBeliefNetwork.from_rbms([], bogus=1)


def test_no_dbn_acronym_is_exported():
    import pgm_energy
    import pgm_energy.models

    assert "DeepBeliefNetwork" in pgm_energy.__all__
    for module in (pgm_energy, pgm_energy.models):
        assert not [name for name in dir(module) if name.upper() == "DBN"]


# --------------------------------------------------------------------------- the joint and the compiled network
@pytest.mark.parametrize("shape", SHAPES)
def test_joint_sums_to_one_and_matches_the_definition(shape):
    dbn = random_dbn(shape, sum(shape))
    states = all_states(dbn.n_units)
    ours = dbn.log_probability(states)
    np.testing.assert_allclose(ours, brute_force_log_joint(dbn, states), rtol=0, atol=1e-10)
    assert abs(logsumexp(ours)) < 1e-10


@pytest.mark.parametrize("shape", SHAPES)
def test_compiled_markov_network_has_the_top_rbm_partition_function(shape):
    dbn = random_dbn(shape, 10 + sum(shape))
    network = dbn.to_markov_network()
    assert network.check_model()
    assert set(network.nodes()) == set(dbn.names)
    assert set(network.latents) == set(dbn.hidden_names)
    log_z = exact.log_partition_function(dbn.top_rbm)
    assert math.isclose(math.log(network.get_partition_function()), log_z, abs_tol=1e-10)
    # The compiled structure is the hybrid graph's moral graph.
    moral = dbn.hybrid_graph.moral_graph()
    assert {frozenset(e) for e in network.edges()} == {frozenset(e) for e in moral.edges()}


@given(
    sizes=st.lists(st.integers(1, 3), min_size=3, max_size=4),
    seed=st.integers(0, 2**31),
    scale=st.floats(0.0, 4.0),
)
def test_property_compiled_partition_function_equals_top_rbm(sizes, seed, scale):
    dbn = random_dbn(tuple(sizes), seed, scale=scale)
    network = dbn.to_markov_network()
    assert math.isclose(
        math.log(network.get_partition_function()), exact.log_partition_function(dbn.top_rbm), rel_tol=0, abs_tol=1e-9
    )


def test_hybrid_graph_parts_share_the_penultimate_layer():
    dbn = random_dbn((3, 2, 2, 2), 1)
    graph = dbn.hybrid_graph
    assert set(graph.undirected.nodes) == set(dbn.layers[2] + dbn.layers[3])
    assert set(graph.directed.nodes) == set(dbn.layers[0] + dbn.layers[1] + dbn.layers[2])
    assert graph.shared_nodes == list(dbn.layers[2])
    assert graph.undirected.number_of_edges() == 4
    assert graph.directed.number_of_edges() == 3 * 2 + 2 * 2
    layer = dict(graph.directed.nodes(data="layer"))
    assert all(layer[parent] == layer[child] + 1 for parent, child in graph.directed.edges)
    assert graph.directed.edges["h1_0", "v2"]["weight"] == dbn.weights[0][2, 0]
    moral = graph.moral_graph()
    assert moral.has_edge("h1_0", "h1_1") and moral.edges["h1_0", "h1_1"]["moral"]


def test_zero_weights_are_no_edges_in_graph_and_network():
    weights = [np.array([[1.0, 0.0], [0.0, 0.0]]), np.array([[0.5], [0.0]])]
    dbn = DeepBeliefNetwork(weights, [np.zeros(2), np.array([0.3, -0.2]), np.zeros(1)])
    graph = dbn.hybrid_graph
    assert list(graph.directed.edges) == [("h1_0", "v0")]
    assert list(graph.undirected.edges) == [("h1_0", "h2_0")]
    network = dbn.to_markov_network()
    assert network.check_model()
    log_z = exact.log_partition_function(dbn.top_rbm)
    assert math.isclose(math.log(network.get_partition_function()), log_z, abs_tol=1e-12)


# --------------------------------------------------------------------------- queries
QUERIES = [
    ((3, 2, 2), ["h1_0", "h1_1"], {"v0": 1, "v1": 0, "v2": 1}),
    ((3, 2, 2), ["h2_1", "h1_0"], {"v0": 1}),
    ((2, 3, 2), ["h1_2", "v1"], {"v0": 0, "h2_0": 1}),
    ((4, 3, 1), ["h2_0"], {"v0": 1, "v1": 1, "v2": 0, "v3": 1}),
    ((2, 2, 2, 2), ["h2_0", "h3_1", "h1_1"], {"v0": 1, "v1": 0}),
    ((2, 2, 2, 2), ["v0", "h1_0"], {"h3_0": 1, "h2_1": 0}),
    ((1, 2, 3), ["h2_2", "h2_0", "h1_1"], None),
]


@pytest.mark.parametrize("shape, variables, evidence", QUERIES)
def test_exact_queries_agree_with_pgmpy_variable_elimination(shape, variables, evidence):
    dbn = random_dbn(shape, 7 * len(variables) + sum(shape))
    ours = dbn.query(variables, evidence)
    theirs = variable_elimination_query(dbn.to_markov_network(), variables, evidence=evidence)
    assert list(ours.variables) == variables
    np.testing.assert_allclose(ours.values, theirs.values, rtol=0, atol=1e-12)
    marginals = dbn.query(variables, evidence, joint=False)
    for position, name in enumerate(variables):
        single = variable_elimination_query(dbn.to_markov_network(), [name], evidence=evidence)
        np.testing.assert_allclose(marginals[name].values, single.values, rtol=0, atol=1e-12)
        axes = tuple(a for a in range(len(variables)) if a != position)
        np.testing.assert_allclose(ours.values.sum(axis=axes), single.values, rtol=0, atol=1e-12)


def test_exact_query_agrees_with_brute_force_conditioning():
    dbn = random_dbn((2, 3, 2), 3)
    states = all_states(dbn.n_units)
    log_p = dbn.log_probability(states)
    keep = (states[:, dbn.index("v0")] == 1) & (states[:, dbn.index("v1")] == 0)
    p = np.exp(log_p[keep] - logsumexp(log_p[keep]))
    cells = states[keep][:, [dbn.index("h2_1"), dbn.index("h1_0")]] @ [2, 1]
    expected = np.bincount(cells.astype(int), weights=p, minlength=4)
    np.testing.assert_allclose(dbn.query(["h2_1", "h1_0"], {"v0": 1, "v1": 0}).values.ravel(), expected, atol=1e-12)


def test_gibbs_query_is_close_to_exact():
    dbn = random_dbn((3, 2, 2), 5, scale=1.0)
    evidence = {"v0": 1, "v2": 0}
    exact_values = dbn.query(["h1_0", "h2_1"], evidence).values.ravel()
    sampled = dbn.query(["h1_0", "h2_1"], evidence, method="gibbs", n_samples=5000, n_chains=8, burn_in=200, rng=0)
    np.testing.assert_allclose(sampled.values.ravel(), exact_values, atol=0.02)
    marginals = dbn.query(["h1_0", "v1"], evidence, joint=False, method="gibbs", n_samples=5000, n_chains=8, rng=1)
    exact_marginals = dbn.query(["h1_0", "v1"], evidence, joint=False)
    for name in ("h1_0", "v1"):
        assert abs(marginals[name].values[1] - exact_marginals[name].values[1]) < 0.02


def test_gibbs_posterior_is_reproducible_and_keeps_evidence():
    dbn = random_dbn((3, 2, 2), 6)
    first = dbn.gibbs_posterior({"v0": 1, "h2_0": 0}, 50, n_chains=3, burn_in=10, rng=4)
    second = dbn.gibbs_posterior({"v0": 1, "h2_0": 0}, 50, n_chains=3, burn_in=10, rng=4)
    np.testing.assert_array_equal(first.states, second.states)
    assert first.states.shape == (3, 50, dbn.n_units)
    assert np.all(first.states[..., dbn.index("v0")] == 1) and np.all(first.states[..., dbn.index("h2_0")] == 0)
    np.testing.assert_allclose(first.energies, -dbn.unnormalized_log_probability(first.flat_states()).reshape(3, 50))


def test_query_errors():
    dbn = random_dbn((3, 2, 2), 0)
    with pytest.raises(EvidenceError):
        dbn.query(["nope"])
    with pytest.raises(EvidenceError):
        dbn.query(["v0"], {"v0": 1})
    with pytest.raises(EvidenceError):
        dbn.query(["h1_0"], {"v0": 2})
    with pytest.raises(ValidationError, match="method"):
        dbn.query(["h1_0"], method="bp")
    with pytest.raises(ParameterTypeError):
        dbn.query("h1_0")
    big = DeepBeliefNetwork([np.zeros((16, 16)), np.zeros((16, 2))], [np.zeros(16), np.zeros(16), np.zeros(2)])
    with pytest.raises(ModelSizeError, match="max_units=30"):
        big.query(["h1_0"])  # 32 free units below the top layer
    with pytest.raises(ModelSizeError):
        big.query(["h1_0"], {f"v{i}": 1 for i in range(16)}, max_units=15)
    answer = big.query(["h1_0"], {f"v{i}": 1 for i in range(16)}, joint=False)  # 16 free units
    assert answer["h1_0"].values[1] == pytest.approx(0.5, abs=1e-12)


# --------------------------------------------------------------------------- bound, explaining away
def flipped(rbm):
    return RestrictedBoltzmannMachine(rbm.weights.T, rbm.hidden_bias, rbm.visible_bias)


def exact_bound(dbn, v):
    """sum_h q(h|v) [log p(v, h) - log q(h|v)] over every hidden state below the top, by brute force."""
    top = len(dbn.weights)
    sizes = dbn.layer_sizes
    n_mid = sum(sizes[1:top])
    mids = all_states(n_mid)
    n_top = sizes[top]
    tops = all_states(n_top)
    log_z = exact.log_partition_function(dbn.top_rbm)
    log_terms, log_q = [], []
    for mid in mids:
        layers = [np.asarray(v, dtype=float)]
        start = 0
        for k in range(1, top):
            layers.append(mid[start : start + sizes[k]])
            start += sizes[k]
        lq = 0.0
        for k in range(top - 1):
            a = layers[k] @ dbn.recognition_weights[k] + dbn.recognition_biases[k]
            lq += np.sum(np.where(layers[k + 1] == 1, log_sigmoid(a), log_sigmoid(-a)))
        full = np.hstack([np.tile(np.concatenate(layers), (tops.shape[0], 1)), tops])
        log_terms.append(logsumexp(dbn.unnormalized_log_probability(full)) - log_z)
        log_q.append(lq)
    q = np.exp(np.array(log_q))
    return float(np.sum(q * (np.array(log_terms) - np.array(log_q))))


def test_complementary_prior_dbn_has_the_first_rbm_likelihood_and_a_tight_bound():
    rbm = RestrictedBoltzmannMachine(
        np.random.default_rng(0).normal(0, 1.2, size=(4, 3)), [0.3, -0.5, 0.1, 0.0], [-0.2, 0.4, 0.1]
    )
    dbn = DeepBeliefNetwork.from_rbms([rbm, flipped(rbm)])
    visible = all_states(4)
    expected = -rbm.free_energy(visible) - exact.log_partition_function(rbm)
    np.testing.assert_allclose(dbn.log_marginal_likelihood(visible), expected, atol=1e-10)
    # q(h|v) is then the true posterior, so the bound is tight for every v
    for v, target in zip(visible, expected):
        assert exact_bound(dbn, v) == pytest.approx(target, abs=1e-10)


@pytest.mark.parametrize("shape", [(3, 2, 2), (2, 2, 2, 2)])
def test_bound_estimate_matches_brute_force_and_stays_below_log_likelihood(shape):
    dbn = random_dbn(shape, 11)
    data = all_states(shape[0])
    log_likelihood = dbn.log_marginal_likelihood(data)
    bounds = np.array([exact_bound(dbn, v) for v in data])
    assert np.all(bounds <= log_likelihood + 1e-12)
    assert np.any(bounds < log_likelihood - 1e-3)  # untied random recognition: not tight
    estimate = dbn.log_likelihood_bound(data, n_samples=4000, rng=0)
    assert estimate.log_z_method == "exact"
    assert estimate.log_z == pytest.approx(exact.log_partition_function(dbn.top_rbm))
    assert abs(estimate.mean - bounds.mean()) < 5 * estimate.standard_error, (estimate, bounds.mean())
    np.testing.assert_allclose(estimate.per_row, bounds, atol=0.2)
    given_z = dbn.log_likelihood_bound(data, n_samples=4000, rng=0, log_z=estimate.log_z)
    assert given_z.mean == estimate.mean and given_z.log_z_method == "given"


def test_bound_uses_ais_for_a_large_top_rbm():
    rng = np.random.default_rng(1)
    dbn = DeepBeliefNetwork(
        [rng.normal(0, 0.1, (6, 24)), rng.normal(0, 0.1, (24, 22))], [np.zeros(6), np.zeros(24), np.zeros(22)]
    )
    data = rng.integers(0, 2, size=(30, 6))
    # 22 units in the smaller layer: exact by default, AIS beyond max_units
    bound = dbn.log_likelihood_bound(data, n_samples=2, n_runs=20, betas=200, max_units=20, rng=0)
    assert bound.log_z_method == "ais" and bound.log_z_std < 0.05
    truth = exact.log_partition_function(dbn.top_rbm)  # 22 enumerated units: still feasible here
    assert abs(bound.log_z - truth) < 5 * bound.log_z_std + 1e-3


def test_directed_part_shows_explaining_away_while_the_rbm_posterior_factorizes():
    """Two hidden causes with positive weights to an observed effect: independent a priori, dependent given it."""
    rbm = RestrictedBoltzmannMachine([[3.0, 3.0], [0.5, -0.5]], [-4.0, 0.0], [-1.0, -1.0])
    top = RestrictedBoltzmannMachine.random(2, 2, scale=0.5, rng=0)
    dbn = DeepBeliefNetwork.from_rbms([rbm, top])
    sbn = dbn.directed_part()
    assert isinstance(sbn, SigmoidBeliefNetwork) and sbn.layer_sizes == (2, 2)
    marginals = exact.marginals(dbn.top_rbm)[:2]
    np.testing.assert_allclose(1 / (1 + np.exp(-sbn.biases[-1])), marginals, atol=1e-12)

    def correlation(joint):
        p = joint.values
        p1, p2 = p[1].sum(), p[:, 1].sum()
        return (p[1, 1] - p1 * p2) / math.sqrt(p1 * (1 - p1) * p2 * (1 - p2))

    prior = sbn.query(["h1_0", "h1_1"])
    posterior = sbn.query(["h1_0", "h1_1"], {"v0": 1, "v1": 1})
    assert abs(correlation(prior)) < 1e-12
    assert correlation(posterior) < -0.1
    rbm_posterior = exact.query(rbm, ["h0", "h1"], evidence={"v0": 1, "v1": 1})
    assert abs(correlation(rbm_posterior)) < 1e-12
    bayesian = dbn.to_bayesian_network()
    assert bayesian.check_model()
    np.testing.assert_allclose(
        variable_elimination_query(bayesian.to_markov_model(), ["h1_0", "h1_1"], evidence={"v0": 1, "v1": 1}).values,
        posterior.values,
        atol=1e-12,
    )
    with pytest.raises(ValidationError):
        dbn.directed_part([0.5])
    with pytest.raises(ValidationError):
        dbn.directed_part([0.5, 1.5])


# --------------------------------------------------------------------------- recognition, sampling
def test_transform_is_the_mean_field_up_pass():
    dbn = random_dbn((3, 2, 2, 2), 2)
    data = all_states(3)
    sig = lambda a: 1 / (1 + np.exp(-a))  # noqa: E731
    first = sig(data @ dbn.recognition_weights[0] + dbn.recognition_biases[0])
    second = sig(first @ dbn.recognition_weights[1] + dbn.recognition_biases[1])
    third = sig(second @ dbn.weights[2] + dbn.biases[3])
    np.testing.assert_allclose(dbn.transform(data, layer=1), first)
    np.testing.assert_allclose(dbn.transform(data, layer=2), second)
    np.testing.assert_allclose(dbn.transform(data), third)
    with pytest.raises(ValidationError):
        dbn.transform(data, layer=4)
    with pytest.raises(StateError):
        dbn.transform([[0.5, 0, 1]])


def test_sample_shape_energies_and_reproducibility():
    dbn = random_dbn((3, 2, 2), 3)
    first = dbn.sample(200, burn_in=20, rng=9)
    second = dbn.sample(200, burn_in=20, rng=9)
    np.testing.assert_array_equal(first.states, second.states)
    assert first.states.shape == (1, 200, dbn.n_units) and first.states.dtype == np.uint8
    np.testing.assert_allclose(first.energies[0], -dbn.unnormalized_log_probability(first.states[0]))


# --------------------------------------------------------------------------- training
class RecordingTrainer:
    """Returns prepared RBMs and records the data each layer was trained on."""

    def __init__(self, rbms):
        self.rbms, self.seen = list(rbms), []

    def fit(self, n_hidden, data, *, rng=None, progress=True):
        self.seen.append(np.array(data))
        rbm = self.rbms[len(self.seen) - 1]
        assert rbm.n_hidden == n_hidden
        return TrainingResult(rbm, None, "completed")


def test_fit_greedy_trains_each_layer_on_samples_of_the_layer_below():
    rng = np.random.default_rng(0)
    first = RestrictedBoltzmannMachine(rng.normal(0, 2, (5, 3)), np.zeros(5), [1.0, -1.0, 0.0])
    second = RestrictedBoltzmannMachine(rng.normal(0, 1, (3, 2)), np.zeros(3), np.zeros(2))
    data = np.tile(np.array([[1, 0, 1, 1, 0], [0, 1, 0, 0, 1]], dtype=np.uint8), (2000, 1))
    trainer = RecordingTrainer([first, second])
    dbn = DeepBeliefNetwork.fit_greedy(data, [3, 2], trainer=trainer, rng=1, progress=False)
    np.testing.assert_array_equal(trainer.seen[0], data)
    upper = trainer.seen[1]
    assert upper.shape == (4000, 3) and set(np.unique(upper)) <= {0, 1}
    expected = first.hidden_probabilities(data)
    for row in range(2):  # the sampled activities have the recognition probabilities as means
        rows = slice(row, None, 2)
        np.testing.assert_allclose(upper[rows].mean(axis=0), expected[row], atol=0.05)
    reference = DeepBeliefNetwork.from_rbms([first, second])
    for ours, theirs in zip(dbn.weights + dbn.biases, reference.weights + reference.biases):
        np.testing.assert_array_equal(ours, theirs)


def test_fit_greedy_with_contrastive_divergence_and_dataframe_names():
    pd = pytest.importorskip("pandas")
    from pgm_energy.datasets import bars_and_stripes
    from pgm_energy.learning import ContrastiveDivergence

    data = pd.DataFrame(bars_and_stripes(3), columns=[f"pixel{i}" for i in range(9)])
    trainer = ContrastiveDivergence(epochs=3, batch_size=2, monitor=None)
    dbn = DeepBeliefNetwork.fit_greedy(data, [4, 3], trainer=trainer, rng=0, progress=False)
    again = DeepBeliefNetwork.fit_greedy(data, [4, 3], trainer=trainer, rng=0, progress=False)
    assert dbn.visible_names == tuple(data.columns) and dbn.layer_sizes == (9, 4, 3) and dbn.is_tied
    for ours, theirs in zip(dbn.weights, again.weights):
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(ValidationError):
        DeepBeliefNetwork.fit_greedy(data, [4], trainer=trainer, rng=0, progress=False)
    with pytest.raises(StateError):
        DeepBeliefNetwork.fit_greedy(np.full((4, 9), 0.5), [4, 3], trainer=trainer, progress=False)
    with pytest.raises(ParameterTypeError):
        DeepBeliefNetwork.fit_greedy(data, [4, 3], trainer="cd", progress=False)


def test_fine_tune_unties_recognition_and_raises_the_bound():
    from pgm_energy.datasets import bars_and_stripes

    data = bars_and_stripes(3)
    rng = np.random.default_rng(3)
    rbm = RestrictedBoltzmannMachine(rng.normal(0, 0.5, (9, 4)), np.zeros(9), np.zeros(4))
    dbn = DeepBeliefNetwork.from_rbms([rbm, flipped(rbm)])
    tuned = dbn.fine_tune(data, epochs=60, learning_rate=0.05, batch_size=2, rng=0)
    again = dbn.fine_tune(data, epochs=60, learning_rate=0.05, batch_size=2, rng=0)
    assert dbn.is_tied and not tuned.is_tied
    for ours, theirs in zip(tuned.weights + tuned.recognition_weights, again.weights + again.recognition_weights):
        np.testing.assert_array_equal(ours, theirs)
    before = np.mean([exact_bound(dbn, v) for v in data])
    after = np.mean([exact_bound(tuned, v) for v in data])
    assert after > before + 0.5, (before, after)
    with pytest.raises(ValidationError):
        dbn.fine_tune(data, learning_rate=0.0)


# --------------------------------------------------------------------------- files
def test_save_and_load_round_trip(tmp_path):
    dbn = random_dbn((3, 2, 2, 1), 4)
    renamed = DeepBeliefNetwork(
        dbn.weights, dbn.biases, recognition_weights=dbn.recognition_weights,
        recognition_biases=dbn.recognition_biases, names=[f"u{i}" for i in range(dbn.n_units)],
    )
    path = tmp_path / "dbn.npz"
    renamed.save(path)
    loaded = load(path)
    assert isinstance(loaded, DeepBeliefNetwork) and loaded.names == renamed.names
    for a, b in zip(
        loaded.weights + loaded.biases + loaded.recognition_weights + loaded.recognition_biases,
        renamed.weights + renamed.biases + renamed.recognition_weights + renamed.recognition_biases,
    ):
        np.testing.assert_array_equal(a, b)


def test_compilation_refuses_tables_that_are_too_large():
    weights = [np.full((2, 17), 0.1), np.full((17, 1), 0.1)]
    dbn = DeepBeliefNetwork(weights, [np.zeros(2), np.zeros(17), np.zeros(1)])
    with pytest.raises(ModelSizeError, match="fan-in 17"):
        dbn.to_markov_network()


def test_gibbs_posterior_does_not_depend_on_the_thread_count():
    import numba

    dbn = random_dbn((3, 3, 2), 8)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = dbn.gibbs_posterior({"v0": 1}, 30, n_chains=4, burn_in=5, rng=3).states
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(one, dbn.gibbs_posterior({"v0": 1}, 30, n_chains=4, burn_in=5, rng=3).states)


def test_extreme_weights_stay_finite_in_log_space():
    dbn = random_dbn((3, 2, 2), 12, scale=50.0)
    states = all_states(dbn.n_units)
    log_p = dbn.log_probability(states)
    assert np.all(np.isfinite(log_p) | (log_p == -np.inf)) and abs(logsumexp(log_p)) < 1e-9
    np.testing.assert_allclose(log_p, brute_force_log_joint(dbn, states), rtol=1e-12, atol=1e-9)
    posterior = dbn.query(["h1_0", "h2_1"], {"v0": 1, "v1": 0})
    assert np.all(np.isfinite(posterior.values)) and posterior.values.sum() == pytest.approx(1.0)
    bound = dbn.log_likelihood_bound(all_states(3), n_samples=3, rng=0)
    assert np.all(np.isfinite(bound.per_row))
