"""Exact conversion to and from pgmpy, checked against pgmpy's VariableElimination.

pgmpy is the independent oracle here: its factor products and eliminations share
no code with pgm_energy's enumeration. Networks built by hand are checked by a
brute-force product of their factors, looked up by state name.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from pgm_energy import BoltzmannMachine, ConversionError, PGMEnergyError, RestrictedBoltzmannMachine, exact
from pgm_energy.interop.pgmpy import from_markov_network, to_markov_network

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")
    from pgmpy.factors.discrete import DiscreteFactor
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteMarkovNetwork


# --------------------------------------------------------------------------- helpers
def pair_sum_energy(weights, biases, offset, state):
    n = len(biases)
    energy = offset
    for i in range(n):
        energy -= biases[i] * state[i]
        for j in range(i + 1, n):
            energy -= weights[i][j] * state[i] * state[j]
    return energy


def factor_value(factor, assignment):
    """The entry of ``factor`` for ``assignment`` (variable -> state name), looked up by name."""
    index = tuple(list(factor.state_names[v]).index(assignment[v]) for v in factor.scope())
    return float(np.asarray(factor.values)[index]) if index else float(np.asarray(factor.values))


def network_log_weight(network, assignment):
    return math.fsum(math.log(factor_value(f, assignment)) for f in network.get_factors())


def ve_table(network, variables, evidence=None, elimination_order=None):
    """VE's answer over ``variables`` in itertools.product order, normalized, plus its mass (Z restricted to the evidence)."""
    inference = VariableElimination(network)
    options = {"show_progress": False}
    if elimination_order is not None:
        options["elimination_order"] = elimination_order
    result = inference.query(list(variables), evidence=evidence, **options)
    mass = float(result.values.sum())
    table = np.array(
        [result.get_value(**dict(zip(variables, a))) for a in itertools.product((0, 1), repeat=len(variables))]
    )
    return table / mass, mass


def random_bm(n, *, seed, density=0.6, n_hidden=0, temperature=1.0, offset=0.0, isolated=(), sparse=False):
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.normal(size=(n, n)) * (rng.random((n, n)) < density), 1)
    for k in isolated:
        upper[k, :] = upper[:, k] = 0.0
    weights = upper + upper.T
    visible = np.ones(n, dtype=bool)
    visible[n - n_hidden:] = False
    return BoltzmannMachine(
        sp.csr_array(weights) if sparse else weights, rng.normal(size=n),
        visible=visible, temperature=temperature, offset=offset,
    )


# --------------------------------------------------------------------------- to_markov_network
def test_to_markov_network_structure():
    bm = random_bm(7, seed=1, n_hidden=2, temperature=1.7, offset=2.5, isolated=(3,))
    weights = bm.weights
    edges = {frozenset((bm.names[i], bm.names[j])) for i in range(7) for j in range(i + 1, 7) if weights[i, j] != 0}
    assert len(edges) == bm.n_edges > 0
    network = to_markov_network(bm)
    assert isinstance(network, DiscreteMarkovNetwork)
    assert network.check_model()
    assert set(network.nodes()) == set(bm.names)
    assert {frozenset(e) for e in network.edges()} == edges
    assert set(network.latents) == {"h0", "h1"} == set(bm.hidden_names)
    factors = network.get_factors()
    pair_scopes = [frozenset(f.scope()) for f in factors if len(f.scope()) == 2]
    unary_scopes = [f.scope()[0] for f in factors if len(f.scope()) == 1]
    assert all(len(f.scope()) in (1, 2) for f in factors)
    assert sorted(map(sorted, pair_scopes)) == sorted(map(sorted, edges))  # exactly one factor per edge
    isolated = [name for name in bm.names if not any(name in e for e in edges)]
    assert isolated == ["v3"]
    assert unary_scopes == isolated  # a unary factor only for units without edges
    for factor in factors:
        assert list(factor.cardinality) == [2] * len(factor.scope())
        for variable in factor.scope():
            assert list(factor.state_names[variable]) == [0, 1]


def test_product_of_factors_is_the_boltzmann_weight_of_every_state():
    bm = random_bm(6, seed=2, n_hidden=1, temperature=0.8, offset=-1.25, isolated=(0,))
    network = to_markov_network(bm)
    weights = bm.weights.tolist()
    for state in itertools.product((0, 1), repeat=6):
        expected = -pair_sum_energy(weights, bm.biases.tolist(), -1.25, state) / 0.8
        assert network_log_weight(network, dict(zip(bm.names, state))) == pytest.approx(expected, abs=1e-12)


def test_machine_without_edges_gets_one_unary_factor_per_unit():
    bm = BoltzmannMachine(np.zeros((3, 3)), [0.5, -1.0, 2.0], offset=0.5)
    network = to_markov_network(bm)
    assert network.check_model()
    assert sorted(f.scope()[0] for f in network.get_factors()) == ["v0", "v1", "v2"]
    assert len(network.get_factors()) == 3
    # Z = e^-0.5 (1 + e^0.5)(1 + e^-1)(1 + e^2)
    z = math.exp(-0.5) * (1 + math.exp(0.5)) * (1 + math.exp(-1)) * (1 + math.exp(2))
    total = sum(math.exp(network_log_weight(network, dict(zip(bm.names, s)))) for s in itertools.product((0, 1), repeat=3))
    assert total == pytest.approx(z, rel=1e-13)


def test_rbm_to_markov_network():
    rbm = RestrictedBoltzmannMachine.random(4, 3, scale=1.0, rng=3, hidden_names=["x", "y", "z"])
    network = rbm.to_markov_network()
    assert network.check_model()
    assert set(network.latents) == {"x", "y", "z"}
    assert len(network.get_factors()) == 12
    for factor in network.get_factors():
        scope = factor.scope()
        assert len(scope) == 2 and len({name in rbm.hidden_names for name in scope}) == 2  # one unit per layer
    for v in itertools.product((0, 1), repeat=4):
        for h in itertools.product((0, 1), repeat=3):
            expected = -rbm.energy(v, h)
            assert network_log_weight(network, dict(zip(rbm.names, v + h))) == pytest.approx(expected, abs=1e-12)


def test_sparse_machine_to_markov_network():
    bm = random_bm(9, seed=4, density=0.3, sparse=True)
    dense = BoltzmannMachine(bm.dense_weights(), bm.biases)
    a, b = to_markov_network(bm), to_markov_network(dense)
    assert a.check_model()
    assert {frozenset(e) for e in a.edges()} == {frozenset(e) for e in b.edges()}
    for state in itertools.product((0, 1), repeat=9):
        assignment = dict(zip(bm.names, state))
        assert network_log_weight(a, assignment) == pytest.approx(network_log_weight(b, assignment), abs=1e-12)


@pytest.mark.parametrize(
    "make, pattern",
    [
        (lambda: BoltzmannMachine([[0.0, 800.0], [800.0, 0.0]], [0.0, 0.0]), r"factor over \['v0', 'v1'\].*exp\(800"),
        (lambda: BoltzmannMachine([[0.0, 1.0], [1.0, 0.0]], [0.0, 0.0], temperature=1e-3), r"factor over.*exp\(1000"),
        (lambda: BoltzmannMachine(np.zeros((2, 2)), [0.0, -900.0]), r"factor over \['v1'\].*exp\(900"),
        (lambda: RestrictedBoltzmannMachine([[1.0], [-750.0]], [0.0, 0.0], [0.0]), r"factor over \['v1', 'h0'\].*exp\(750"),
    ],
    ids=["weight", "low_temperature", "bias_of_isolated_unit", "rbm"],
)
def test_factor_entries_beyond_float64_are_refused(make, pattern):
    with pytest.raises(ConversionError, match=pattern) as info:
        to_markov_network(make())
    assert isinstance(info.value, PGMEnergyError) and isinstance(info.value, ValueError)


def test_to_markov_network_rejects_other_objects():
    with pytest.raises(TypeError, match="model"):
        to_markov_network({"weights": [[0, 1], [1, 0]]})


# --------------------------------------------------------------------------- VariableElimination agrees
@pytest.mark.parametrize(
    "evidence", [None, {"v1": 1}, {"v0": 0, "h1": 1}], ids=["none", "visible", "visible_and_hidden"]
)
def test_variable_elimination_agrees_with_exact_on_a_bm(evidence):
    bm = random_bm(8, seed=5, density=0.5, n_hidden=3, temperature=1.4, offset=0.9)
    network = to_markov_network(bm)
    variables = ["v4", "h2", "v2"]
    table, mass = ve_table(network, variables, evidence)
    factor = exact.query(bm, variables, evidence=evidence)
    np.testing.assert_allclose(factor.values.ravel(), table, rtol=1e-10)
    # VE's unnormalized mass is Z restricted to the evidence, offset included
    assert exact.log_partition_function(bm, evidence=evidence) == pytest.approx(math.log(mass), rel=1e-11)
    marginals = exact.query(bm, variables, evidence=evidence, joint=False)
    for k, name in enumerate(variables):
        p1 = table.reshape(2, 2, 2).sum(axis=tuple(a for a in range(3) if a != k))[1]
        np.testing.assert_allclose(marginals[name].values, [1 - p1, p1], rtol=1e-10)


def test_variable_elimination_agrees_on_a_sparse_grid():
    side = 4
    path = sp.diags_array([np.ones(side - 1)] * 2, offsets=[-1, 1], shape=(side, side))
    weights = sp.csr_array(0.8 * (sp.kron(path, sp.eye_array(side)) + sp.kron(sp.eye_array(side), path)))
    bm = BoltzmannMachine(weights, np.linspace(-1, 1, side * side), temperature=0.9)
    network = to_markov_network(bm)
    assert network.check_model() and len(network.get_factors()) == bm.n_edges == 24
    _, mass = ve_table(network, ["v5"])
    assert exact.log_partition_function(bm) == pytest.approx(math.log(mass), rel=1e-12)
    table, _ = ve_table(network, ["v0", "v15"], {"v5": 1, "v10": 0})
    np.testing.assert_allclose(exact.query(bm, ["v0", "v15"], evidence={"v5": 1, "v10": 0}).values.ravel(), table, rtol=1e-10)


@pytest.mark.parametrize("shape", [(4, 9), (9, 4)])
def test_variable_elimination_agrees_with_exact_on_an_rbm(shape):
    n_visible, n_hidden = shape
    rbm = RestrictedBoltzmannMachine.random(n_visible, n_hidden, scale=0.8, rng=6, temperature=1.2)
    network = to_markov_network(rbm)
    evidence = {"v1": 1, "h2": 0}
    variables = ["v0", "h1"]
    larger, smaller = (rbm.visible_names, rbm.hidden_names) if n_visible > n_hidden else (rbm.hidden_names, rbm.visible_names)
    order = [name for name in larger + smaller if name not in evidence and name not in variables]
    table, mass = ve_table(network, variables, evidence, elimination_order=order)
    np.testing.assert_allclose(exact.query(rbm, variables, evidence=evidence).values.ravel(), table, rtol=1e-10)
    assert exact.log_partition_function(rbm, evidence=evidence) == pytest.approx(math.log(mass), rel=1e-11)
    full_order = [name for name in larger + smaller if name != "v0"]
    _, total = ve_table(network, ["v0"], elimination_order=full_order)
    assert exact.log_partition_function(rbm) == pytest.approx(math.log(total), rel=1e-11)


# --------------------------------------------------------------------------- from_markov_network
def network_with(nodes, edges, factors, latents=()):
    network = DiscreteMarkovNetwork(latents=list(latents))
    network.add_nodes_from(nodes)
    network.add_edges_from(edges)
    network.add_factors(*factors)
    return network


def assert_exact_conversion(network, bm, state_of):
    """For every state of ``bm``: -E(s) equals log of the product of the network's factors.

    ``state_of[name]`` maps unit value 0/1 to the network's state name.
    """
    assert bm.temperature == 1.0
    for state in itertools.product((0, 1), repeat=bm.n_units):
        assignment = {name: state_of[name][value] for name, value in zip(bm.names, state)}
        assert -bm.energy(state) == pytest.approx(network_log_weight(network, assignment), abs=1e-12)


def test_from_markov_network_several_factors_per_edge_unary_and_constant_factors():
    rng = np.random.default_rng(7)

    def positive(*shape):
        return rng.uniform(0.2, 3.0, size=shape)

    names = {"a": ["lo", "hi"], "b": ["lo", "hi"], "c": ["lo", "hi"], "d": ["lo", "hi"], "e": ["lo", "hi"]}

    def factor(scope, values):
        return DiscreteFactor(scope, [2] * len(scope), values, state_names={v: names[v] for v in scope})

    factors = [
        factor(["a", "b"], positive(2, 2)),
        factor(["b", "a"], positive(2, 2)),  # second factor on the same edge, scope reversed
        factor(["a", "b"], positive(2, 2)),  # and a third
        factor(["b", "c"], positive(2, 2)),
        factor(["c", "a"], positive(2, 2)),
        factor(["a"], positive(2)),
        factor(["a"], positive(2)),  # two unary factors on one unit
        factor(["d"], positive(2)),  # an isolated unit with a unary factor
        DiscreteFactor([], [], np.array(3.5)),  # a constant factor
    ]
    network = network_with(list(names), [("a", "b"), ("b", "c"), ("c", "a")], factors, latents=["c", "e"])
    bm = from_markov_network(network)
    assert isinstance(bm, BoltzmannMachine) and bm.names == ("a", "b", "c", "d", "e")
    np.testing.assert_array_equal(bm.visible, [True, True, False, True, False])
    assert bm.hidden_names == ("c", "e")
    assert bm.n_edges == 3
    assert_exact_conversion(network, bm, {name: ["lo", "hi"] for name in names})
    # so log Z is kept as well, constant factor included: compare with pgmpy's own total
    brute = math.fsum(
        math.exp(network_log_weight(network, dict(zip(names, (["lo", "hi"][s] for s in state)))))
        for state in itertools.product((0, 1), repeat=5)
    )
    assert exact.log_partition_function(bm) == pytest.approx(math.log(brute), rel=1e-12)
    # pgmpy's VE needs a factor on every node: without the free unit e, Z halves
    without_e = network_with(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "a")], factors, latents=["c"])
    _, mass = ve_table(without_e, ["a"])
    assert 2 * mass == pytest.approx(brute, rel=1e-12)


def test_from_markov_network_with_reversed_state_order_across_factors():
    first = DiscreteFactor(["a", "b"], [2, 2], [1.0, 2.0, 3.0, 4.0], state_names={"a": ["off", "on"], "b": ["x", "y"]})
    second = DiscreteFactor(["b", "a"], [2, 2], [1.0, 2.0, 3.0, 5.0], state_names={"a": ["on", "off"], "b": ["x", "y"]})
    third = DiscreteFactor(["a"], [2], [7.0, 11.0], state_names={"a": ["on", "off"]})
    network = network_with(["a", "b"], [("a", "b")], [first, second, third])
    bm = from_markov_network(network)
    # unit value 0 is the first state the first factor names: a = off, b = x
    state_of = {"a": ["off", "on"], "b": ["x", "y"]}
    assert_exact_conversion(network, bm, state_of)
    # by hand: weight(a, b) = first * second * third
    #   (off, x) = 1 * 2 * 11 = 22, (off, y) = 2 * 5 * 11 = 110, (on, x) = 3 * 1 * 7 = 21, (on, y) = 4 * 3 * 7 = 84
    assert exact.log_partition_function(bm) == pytest.approx(math.log(22 + 110 + 21 + 84), rel=1e-14)
    assert exact.marginals(bm)["a"] == pytest.approx((21 + 84) / 237, rel=1e-13)  # p(a = on)


def test_from_markov_network_with_integer_state_names_and_latents():
    rbm = RestrictedBoltzmannMachine.random(3, 2, scale=1.0, rng=8)
    bm = from_markov_network(to_markov_network(rbm))
    assert bm.names == rbm.names and bm.hidden_names == rbm.hidden_names
    for v in itertools.product((0, 1), repeat=3):
        for h in itertools.product((0, 1), repeat=2):
            assert bm.energy(v + h) == pytest.approx(rbm.energy(v, h), abs=1e-12)


@pytest.mark.parametrize("temperature", [1.0, 0.6])
def test_round_trip_bm_network_bm(temperature):
    bm = random_bm(6, seed=9, n_hidden=2, temperature=temperature, offset=1.75, isolated=(2,))
    back = from_markov_network(to_markov_network(bm))
    assert back.names == bm.names and back.temperature == 1.0
    np.testing.assert_array_equal(back.visible, bm.visible)
    np.testing.assert_allclose(back.weights, bm.weights / temperature, atol=1e-12)
    np.testing.assert_allclose(back.biases, bm.biases / temperature, atol=1e-12)
    assert back.offset == pytest.approx(1.75 / temperature, abs=1e-12)
    assert exact.log_partition_function(back) == pytest.approx(exact.log_partition_function(bm), rel=1e-12)


# --------------------------------------------------------------------------- conversion errors
def bad_network(kind):
    if kind == "three_variables":
        return network_with(
            ["a", "b", "c"], [("a", "b"), ("b", "c"), ("a", "c")],
            [DiscreteFactor(["a", "b", "c"], [2, 2, 2], np.arange(1.0, 9.0))],
        )
    if kind == "three_states":
        return network_with(["a", "b"], [("a", "b")], [DiscreteFactor(["a", "b"], [3, 2], np.arange(1.0, 7.0))])
    if kind == "zero_entry":
        return network_with(["a", "b"], [("a", "b")], [DiscreteFactor(["a", "b"], [2, 2], [1.0, 0.0, 2.0, 3.0])])
    if kind == "negative_entry":
        return network_with(["a"], [], [DiscreteFactor(["a"], [2], [1.0, -2.0])])
    if kind == "inconsistent_state_names":
        return network_with(
            ["a"], [],
            [
                DiscreteFactor(["a"], [2], [1.0, 2.0], state_names={"a": ["x", "y"]}),
                DiscreteFactor(["a"], [2], [1.0, 2.0], state_names={"a": ["x", "z"]}),
            ],
        )
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind, pattern",
    [
        ("three_variables", r"factor over \['a', 'b', 'c'\].*3 variables"),
        ("three_states", r"factor over \['a', 'b'\].*'a' has 3 states"),
        ("zero_entry", r"factor over \['a', 'b'\].*zero"),
        ("negative_entry", r"factor over \['a'\].*negative"),
        ("inconsistent_state_names", r"factor over \['a'\].*states of 'a'.*'z'"),
    ],
)
def test_from_markov_network_conversion_errors(kind, pattern):
    with pytest.raises(ConversionError, match=pattern) as info:
        from_markov_network(bad_network(kind))
    assert isinstance(info.value, ValueError)


def test_from_markov_network_rejects_other_objects():
    with pytest.raises(TypeError, match="DiscreteMarkovNetwork"):
        from_markov_network(BoltzmannMachine(np.zeros((2, 2)), [0, 0]))
