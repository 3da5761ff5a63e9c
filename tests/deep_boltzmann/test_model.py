"""DeepBoltzmannMachine: energies, conditionals and embeddings against brute force; exact answers; files."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

from pgm_energy import DeepBoltzmannMachine, exact, load
from pgm_energy.exceptions import ModelFileError, ParameterTypeError, StateError, ValidationError


def machine(sizes=(3, 2, 3), seed=0, scale=0.8, temperature=1.0):
    g = np.random.default_rng(seed)
    return DeepBoltzmannMachine([g.normal(0, scale, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])],
                                [g.normal(0, 0.5, n) for n in sizes], temperature=temperature)


def all_states(n):
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.float64)


def brute_log_z(model):
    states = all_states(model.n_units)
    return logsumexp(-model.energy(states) / model.temperature)


@pytest.mark.parametrize("sizes", [(3, 2, 3), (2, 3, 2, 2)])
def test_energy_is_the_sum_over_adjacent_layers_and_the_embeddings_keep_it(sizes):
    model = machine(sizes)
    states = all_states(model.n_units)
    # written from the definition: -sum_l x_l W_l x_{l+1} - sum_l b_l x_l
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    layers = [states[:, offsets[k] : offsets[k + 1]] for k in range(len(sizes))]
    expected = -sum(layer @ bias for layer, bias in zip(layers, model.biases))
    for k, weights in enumerate(model.weights):
        expected -= np.einsum("ni,ij,nj->n", layers[k], weights, layers[k + 1])
    np.testing.assert_allclose(model.energy(states), expected, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(model.to_boltzmann_machine().energy(states), expected, rtol=1e-13, atol=1e-13)
    rbm = model.to_bipartite_rbm()
    order = [model.index(name) for name in rbm.names]
    reordered = states[:, order]
    np.testing.assert_allclose(rbm.energy(reordered[:, : rbm.n_visible], reordered[:, rbm.n_visible :]), expected,
                               rtol=1e-13, atol=1e-13)
    assert rbm.hidden_names == model.layers[1] + (model.layers[3] if len(sizes) > 3 else ())


def test_layer_conditionals_are_the_energy_differences():
    model = machine((3, 2, 3), temperature=1.3)
    rng = np.random.default_rng(1)
    states = rng.integers(0, 2, size=(20, model.n_units)).astype(float)
    for layer, names in enumerate(model.layers):
        probabilities = model.layer_probabilities(states, layer)
        for j, name in enumerate(names):
            on, off = states.copy(), states.copy()
            on[:, model.index(name)], off[:, model.index(name)] = 1, 0
            difference = (model.energy(off) - model.energy(on)) / model.temperature
            np.testing.assert_allclose(probabilities[:, j], 1 / (1 + np.exp(-difference)), rtol=1e-12)


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_exact_answers_equal_brute_force_of_the_joint(temperature):
    model = machine((3, 2, 3), seed=2, temperature=temperature)
    states = all_states(model.n_units)
    log_weights = -model.energy(states) / temperature
    log_z = logsumexp(log_weights)
    assert exact.log_partition_function(model) == pytest.approx(log_z, abs=1e-12)
    p = np.exp(log_weights - log_z)
    np.testing.assert_allclose(exact.marginals(model).to_numpy(), p @ states, atol=1e-12)
    assert exact.marginals(model).index.tolist() == list(model.names)
    # log p(v): every hidden unit of both parities summed
    visible = states[:, :3]
    data = np.array([[1, 0, 1], [0, 0, 0], [1, 0, 1], [1, 1, 1]], dtype=float)
    expected = np.mean([logsumexp(log_weights[(visible == row).all(axis=1)]) - log_z for row in data])
    assert exact.log_likelihood(model, data) == pytest.approx(expected, abs=1e-12)
    np.testing.assert_allclose(exact.log_probability(model, states[:5]), log_weights[:5] - log_z, atol=1e-12)
    factor = exact.query(model, ["h1_0", "v2"], evidence={"h2_1": 1})
    mask = states[:, model.index("h2_1")] == 1
    conditional = np.exp(log_weights[mask] - logsumexp(log_weights[mask]))
    table = np.zeros((2, 2))
    for state, weight in zip(states[mask], conditional):
        table[int(state[model.index("h1_0")]), int(state[model.index("v2")])] += weight
    np.testing.assert_allclose(factor.values, table, atol=1e-12)


def test_a_three_layer_machine_with_a_small_odd_side_is_exact_beyond_brute_force():
    # 40 + 12 units on the even side, 8 on the odd side: 2**8 states enumerated, 2**60 joint states
    model = machine((40, 8, 12), seed=3, scale=0.1)
    rbm = model.to_bipartite_rbm()
    assert exact.log_partition_function(model) == pytest.approx(exact.log_partition_function(rbm), abs=0)
    # the same log Z from the general embedding's pgmpy network would be out of reach; check against the
    # odd side summed by hand: log Z = log sum_odd exp(c.odd) prod_even (1 + exp(b + W odd))
    odd = all_states(8)
    log_terms = odd @ rbm.hidden_bias + np.logaddexp(0, odd @ rbm.weights.T + rbm.visible_bias).sum(axis=1)
    assert exact.log_partition_function(model) == pytest.approx(logsumexp(log_terms), abs=1e-10)


def test_graph_and_pgmpy_network_are_undirected_and_exact():
    from pgmpy.inference import VariableElimination

    model = machine((2, 2, 2), seed=4)
    graph = model.graph
    assert graph.number_of_edges() == 8 and not graph.is_directed()  # 2x2 + 2x2, adjacent layers only
    network = model.to_markov_network()
    answer = VariableElimination(network).query(["v0"], evidence={"h2_1": 1}, show_progress=False)
    answer.normalize()  # pgmpy 1.1 leaves a Markov network's answer unnormalised (docs/notes: pgmpy)
    np.testing.assert_allclose(answer.values, exact.query(model, ["v0"], evidence={"h2_1": 1}).values, atol=1e-12)


def test_files_round_trip_and_refuse_damage(tmp_path):
    model = machine((3, 2, 3), temperature=1.5)
    path = tmp_path / "dbm.npz"
    model.save(path)
    loaded = load(path)
    assert isinstance(loaded, DeepBoltzmannMachine) and loaded.layer_sizes == model.layer_sizes
    assert loaded.temperature == 1.5 and loaded.names == model.names
    for a, b in zip(loaded.weights, model.weights):
        np.testing.assert_array_equal(a, b)
    (tmp_path / "bad.npz").write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelFileError):
        load(tmp_path / "bad.npz")


def test_bad_arguments_are_named():
    g = np.random.default_rng(0)
    with pytest.raises(ValidationError, match="at least 2 matrices"):
        DeepBoltzmannMachine([g.normal(size=(2, 2))], [np.zeros(2), np.zeros(2)])
    with pytest.raises(ValidationError, match="one vector per layer"):
        DeepBoltzmannMachine([g.normal(size=(2, 2)), g.normal(size=(2, 2))], [np.zeros(2), np.zeros(2)])
    with pytest.raises(ValidationError, match=r"weights\[1\]"):
        DeepBoltzmannMachine([g.normal(size=(2, 2)), g.normal(size=(3, 2))], [np.zeros(2)] * 3)
    with pytest.raises(ParameterTypeError, match="weights"):
        DeepBoltzmannMachine("W", [np.zeros(2)] * 3)
    model = machine()
    with pytest.raises(StateError):
        model.energy(np.full(8, 2.0))
    with pytest.raises(ValidationError, match="layer must be from 0 to 2"):
        model.layer_probabilities(np.zeros(8), 3)
    with pytest.raises(ValidationError, match="at least 3 layers"):
        DeepBoltzmannMachine.random([3, 2])
    assert DeepBoltzmannMachine.random([3, 2, 2], rng=0).layer_sizes == (3, 2, 2)


def test_gibbs_sampling_is_the_two_colour_block_sampler_and_matches_exact_marginals():
    """GibbsSampler on the machine: block updates of the odd layers, then the even ones (its bipartite RBM).

    Each marginal within 4.5 standard errors (sd / sqrt(ESS)): a false-failure rate below 1e-4 for the
    8 units together; a fixed seed.
    """
    from pgm_energy.samplers import GibbsSampler

    model = machine((3, 2, 3), seed=5)
    samples = GibbsSampler(burn_in=100).sample(model, 20_000, n_chains=4, rng=3, progress=False)
    assert samples.names == model.names and samples.info["scan"] == "block"
    error = (samples.marginals() - exact.marginals(model)).abs()
    assert (error <= 4.5 * samples.marginal_standard_errors()).all(), error
    np.testing.assert_allclose(samples.energies[:, :5], model.energy(samples.states[:, :5].reshape(-1, 8)).reshape(4, 5),
                               rtol=1e-12)
    evidence = {"h1_1": 1, "v0": 0}
    conditioned = GibbsSampler(burn_in=100).sample(model, 20_000, n_chains=4, evidence=evidence, rng=4, progress=False)
    assert (conditioned.states[:, :, model.index("h1_1")] == 1).all()
    error = (conditioned.marginals() - exact.marginals(model, evidence=evidence)).abs()
    assert (error <= 4.5 * conditioned.marginal_standard_errors() + 1e-12).all(), error
    start = np.zeros(8, dtype=np.uint8)
    start[model.index("h2_2")] = 1
    first = GibbsSampler(burn_in=0).sample(model, 1, n_chains=1, initial_states=start, rng=0, progress=False)
    assert first.states.shape == (1, 1, 8)


def test_the_blocked_log_likelihood_equals_one_enumeration_per_row(monkeypatch):
    from pgm_energy import _deep_boltzmann_enumeration as oracle

    model = machine((6, 5, 4, 3), seed=6, temperature=1.3)
    data = np.random.default_rng(7).integers(0, 2, size=(30, 6))
    monkeypatch.setattr(oracle, "_PATTERNS_PER_BLOCK", 16)  # 2**(5 + 3) odd patterns: 16 blocks
    monkeypatch.setattr(oracle, "_blocked_is_cheaper", lambda *args: True)  # whatever the cost rule picks
    blocked = exact.log_likelihood(model, data)
    rbm = model.to_bipartite_rbm()
    log_z = exact.log_partition_function(rbm)
    per_row = np.mean([exact.log_partition_function(rbm, evidence=dict(zip(model.visible_names, row.tolist())))
                       for row in data]) - log_z
    assert blocked == pytest.approx(per_row, abs=1e-10)
