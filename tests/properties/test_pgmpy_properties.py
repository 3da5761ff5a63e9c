"""pgmpy as the independent oracle, and exact round trips through DiscreteMarkovNetwork."""

import itertools
import warnings

import networkx as nx
import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine, exact
from pgm_energy.testing import boltzmann_machines, evidence, restricted_boltzmann_machines, temperatures

from _property_helpers import (
    all_states,
    bm_energies,
    factor_log_table,
    joint_log_probabilities,
    log_sum_exp,
    state_index,
    tolerance,
)

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")
    from pgmpy.factors.discrete import DiscreteFactor
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteMarkovNetwork

offsets = st.floats(-5, 5, allow_subnormal=False)
# T >= 0.5 keeps every pgmpy table (linear space) far from float64 overflow for up to 12 units.
oracle_machines = boltzmann_machines(
    max_units=12, sparse=st.booleans(), temperature=temperatures(min_value=0.5), offset=offsets
)
oracle_rbms = restricted_boltzmann_machines(max_visible=7, max_hidden=5, temperature=temperatures(min_value=0.5))
complete_machines = boltzmann_machines(
    min_units=8, max_units=12, complete=True, temperature=temperatures(min_value=0.5), offset=offsets
)


def _elimination_order(model, keep):
    """Every variable not in ``keep``; for an RBM the larger layer first."""
    if isinstance(model, RestrictedBoltzmannMachine):
        layers = sorted([list(model.visible_names), list(model.hidden_names)], key=len, reverse=True)
        names = layers[0] + layers[1]
    else:
        names = list(model.names)
    return [name for name in names if name not in keep]


# pgmpy facts these tests rely on (pgmpy 1.1.2, measured):
# * on a Markov network the query answer is UNNORMALIZED;
# * the classic path (an explicit elimination_order) drops the constant left when a
#   connected component is eliminated completely, and drops every factor whose scope
#   lies inside the evidence; its normalized answers are right, its sum is Z only when
#   one query variable per connected component is kept and there is no evidence;
# * the "greedy" path contracts every factor (scalars included), so its sum is
#   Z restricted to the evidence; fine for the <= 12 variables used here.


@settings(max_examples=30)
@given(st.one_of(oracle_machines, oracle_rbms, complete_machines), st.data())
def test_log_z_and_marginals_equal_variable_elimination(model, data):
    network = model.to_markov_network()
    # one query variable in every connected component, so VE eliminates no component completely
    components = [sorted(component) for component in nx.connected_components(network)]
    representatives = [data.draw(st.sampled_from(component)) for component in components]
    factor = VariableElimination(network).query(
        representatives,
        elimination_order=_elimination_order(model, set(representatives)),
        joint=True,
        show_progress=False,
    )
    values = np.asarray(factor.values, dtype=np.float64)
    atol = tolerance(model, 1e-10)
    np.testing.assert_allclose(np.log(values.sum()), exact.log_partition_function(model), rtol=1e-10, atol=atol)
    marginals = exact.marginals(model).to_numpy()
    for axis, variable in enumerate(factor.variables):
        others = tuple(k for k in range(values.ndim) if k != axis)
        per_state = values.sum(axis=others) / values.sum()
        state_one = list(factor.state_names[variable]).index(1)
        np.testing.assert_allclose(per_state[state_one], marginals[model.index(variable)], rtol=1e-8, atol=1e-10)


@settings(max_examples=30)
@given(st.one_of(oracle_machines, oracle_rbms), st.data())
def test_evidence_equals_variable_elimination(model, data):
    assume(model.n_units >= 2)
    variable = data.draw(st.sampled_from(model.names))
    others = [name for name in model.names if name != variable]
    observed = data.draw(evidence(model, variables=others, min_size=1))
    inference = VariableElimination(model.to_markov_network())
    # normalized posterior from the classic path with an explicit elimination order
    factor = inference.query(
        [variable],
        evidence=observed,
        elimination_order=_elimination_order(model, {variable, *observed}),
        joint=True,
        show_progress=False,
    )
    values = np.asarray(factor.values, dtype=np.float64)
    answer = exact.query(model, [variable], evidence=observed)
    for state in (0, 1):
        np.testing.assert_allclose(
            answer.get_value(**{variable: state}),
            values[list(factor.state_names[variable]).index(state)] / values.sum(),
            rtol=1e-8,
            atol=1e-10,
        )
    # Z restricted to the evidence from the contraction path, which keeps every factor
    contracted = inference.query([variable], evidence=observed, elimination_order="greedy", show_progress=False)
    np.testing.assert_allclose(
        np.log(np.asarray(contracted.values).sum()),
        exact.log_partition_function(model, evidence=observed),
        rtol=1e-10,
        atol=tolerance(model, 1e-10),
    )


@settings(max_examples=30)
@given(st.one_of(boltzmann_machines(max_units=7, sparse=st.booleans(), temperature=temperatures(), offset=offsets), oracle_rbms))
def test_markov_network_factors_multiply_to_the_boltzmann_weight(model):
    network = model.to_markov_network()
    assert network.check_model()
    assert set(network.nodes()) == set(model.names)
    assert set(network.latents) == set(model.hidden_names)
    states = all_states(model.n_units)
    factors = network.get_factors()
    log_products = np.array(
        [sum(factor_log_table(f, dict(zip(model.names, state.astype(int).tolist()))) for f in factors) for state in states]
    )
    log_weights, log_z = joint_log_probabilities(model)
    atol = tolerance(model, 1e-10)
    np.testing.assert_allclose(log_products, log_weights + log_z, rtol=1e-10, atol=atol)


@settings(max_examples=30)
@given(st.one_of(boltzmann_machines(max_units=7, sparse=st.booleans(), temperature=temperatures(), offset=offsets), oracle_rbms))
def test_machine_to_markov_network_and_back(model):
    back = BoltzmannMachine.from_markov_network(model.to_markov_network())
    assert back.temperature == 1.0
    assert sorted(back.names) == sorted(model.names)
    assert set(back.hidden_names) == set(model.hidden_names)
    # bring the returned units into the model's order, then compare every state
    order = [back.index(name) for name in model.names]
    states = all_states(model.n_units)
    back_states = np.empty_like(states)
    back_states[:, order] = states
    expected_log_p, expected_log_z = joint_log_probabilities(model)
    back_log_weights = -bm_energies(back, back_states)
    back_log_z = log_sum_exp(back_log_weights)
    atol = tolerance(model, 1e-10)
    np.testing.assert_allclose(back_log_z, expected_log_z, rtol=1e-10, atol=atol)
    np.testing.assert_allclose(back_log_weights - back_log_z, expected_log_p, rtol=1e-10, atol=atol)
    np.testing.assert_allclose(exact.log_partition_function(back), expected_log_z, rtol=1e-10, atol=atol)


STATE_NAMES = (("off", "on"), ("no", "yes"), (0, 1), ("b", "a"), ("low", "high"), (1, 0))


@st.composite
def markov_networks(draw, *, consistent_states=True, max_variables=5):
    """A random binary pairwise DiscreteMarkovNetwork plus an independent record of its factors.

    Several factors per edge, unary factors, strictly positive tables, per-variable
    state names; with ``consistent_states=False`` a factor may list a variable's
    two states in the other order.
    """
    n = draw(st.integers(1, max_variables))
    names = draw(
        st.lists(st.text(alphabet="abcxyz_", min_size=1, max_size=3), min_size=n, max_size=n, unique=True)
    )
    states = {name: list(draw(st.sampled_from(STATE_NAMES))) for name in names}
    latents = [name for name in names if draw(st.booleans())]
    edges = [(a, b) for a, b in itertools.combinations(names, 2) if draw(st.booleans())]
    log_entries = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    records = []  # (scope, state lists, table)

    def add(scope):
        state_lists = []
        for variable in scope:
            listed = list(states[variable])
            if not consistent_states and draw(st.booleans()):
                listed.reverse()
            state_lists.append(listed)
        table = np.exp(np.array(draw(st.lists(log_entries, min_size=2 ** len(scope), max_size=2 ** len(scope)))))
        records.append((list(scope), state_lists, table.reshape([2] * len(scope))))

    for a, b in edges:
        for _ in range(draw(st.integers(1, 3))):
            add((a, b) if draw(st.booleans()) else (b, a))
    for name in names:
        touched = any(name in edge for edge in edges)
        for _ in range(draw(st.integers(0 if touched else 1, 2))):
            add((name,))
    draw(st.randoms()).shuffle(records)
    network = DiscreteMarkovNetwork(latents=list(latents))
    network.add_nodes_from(names)
    network.add_edges_from(edges)
    network.add_factors(
        *(
            DiscreteFactor(scope, [2] * len(scope), table.copy(), state_names=dict(zip(scope, state_lists)))
            for scope, state_lists, table in records
        )
    )
    assert network.check_model()
    return network, names, states, records


def _brute_force_log_weights(names, states, records):
    """log prod_f f(x) for every assignment, variables in ``names`` order, each variable's states in ``states`` order."""
    out = []
    for values in itertools.product((0, 1), repeat=len(names)):
        assignment = {name: states[name][k] for name, k in zip(names, values)}
        total = 0.0
        for scope, state_lists, table in records:
            index = tuple(state_list.index(assignment[v]) for v, state_list in zip(scope, state_lists))
            total += np.log(table[index])
        out.append(total)
    return np.array(out)


def _check_network_round_trip(network, names, states, records, *, relabel):
    expected = _brute_force_log_weights(names, states, records)
    expected_log_z = log_sum_exp(expected)
    bm = BoltzmannMachine.from_markov_network(network)
    assert sorted(bm.names) == sorted(names)
    assert set(bm.hidden_names) == set(network.latents)
    order = [bm.index(name) for name in names]
    units = all_states(len(names))
    bm_states = np.empty_like(units)
    bm_states[:, order] = units
    np.testing.assert_allclose(exact.log_partition_function(bm), expected_log_z, rtol=1e-10, atol=1e-9)
    actual = -bm_energies(bm, bm_states)
    np.testing.assert_allclose(log_sum_exp(actual), expected_log_z, rtol=1e-10, atol=1e-9)
    # unit value k is state states[name][k] (consistent tables); otherwise some relabelling must match
    flips = [np.zeros(len(names), dtype=int)] if not relabel else [np.array(f) for f in itertools.product((0, 1), repeat=len(names))]
    matched = False
    for flip in flips:
        index = state_index(np.abs(units - flip))
        if np.allclose(actual[index], expected, rtol=1e-10, atol=1e-9):
            matched = True
            break
    assert matched, "the machine's distribution is not the network's under any relabelling of the states"
    # and back to pgmpy: the new network's factors multiply to the same weights, log Z included
    again = bm.to_markov_network()
    assert again.check_model()
    assert set(again.latents) == set(network.latents)
    again_log = np.array(
        [sum(factor_log_table(f, dict(zip(bm.names, s.astype(int).tolist()))) for f in again.get_factors()) for s in bm_states]
    )
    np.testing.assert_allclose(again_log, actual, rtol=1e-10, atol=1e-9)


@settings(max_examples=40)
@given(markov_networks())
def test_markov_network_to_machine_and_back(drawn):
    network, names, states, records = drawn
    _check_network_round_trip(network, names, states, records, relabel=False)


@settings(max_examples=25)
@given(markov_networks(consistent_states=False, max_variables=4))
def test_markov_network_with_reordered_state_names(drawn):
    network, names, states, records = drawn
    _check_network_round_trip(network, names, states, records, relabel=True)


def test_markov_network_strategy_draws_several_factors_per_scope():
    """Guard: the generator above really produces duplicate scopes and unary factors."""
    seen = {"duplicate": False, "unary": False, "reordered": False}

    @settings(max_examples=60, database=None)
    @given(markov_networks(consistent_states=False))
    def look(drawn):
        _, _, states, records = drawn
        scopes = [frozenset(scope) for scope, _, _ in records if len(scope) == 2]
        seen["duplicate"] |= len(scopes) != len(set(scopes))
        seen["unary"] |= any(len(scope) == 1 for scope, _, _ in records)
        seen["reordered"] |= any(
            state_list != states[v] for scope, lists, _ in records for v, state_list in zip(scope, lists)
        )

    look()
    assert all(seen.values()), seen

