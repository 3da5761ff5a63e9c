"""The exact oracle against an independent brute force written here in plain NumPy.

Every expected value below comes from enumerating all joint states with
``itertools.product`` and a hand-written log-sum-exp; nothing is copied from
the package's output. The package enumerates in Gray-code order in blocks of
``2**8`` (Numba); models with more than 8 enumerated units are included so that
the Gray-code walk inside a block is exercised, not only the block prefixes.
"""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine, exact

RTOL = 1e-10


# --------------------------------------------------------------------------- brute force
def lse(values, axis=None):
    """log(sum(exp(values))) with the maximum shifted out (written here, not scipy's)."""
    values = np.asarray(values, dtype=np.float64)
    top = np.max(values, axis=axis, keepdims=True)
    out = top + np.log(np.sum(np.exp(values - top), axis=axis, keepdims=True))
    return out.item() if axis is None else np.squeeze(out, axis=axis)


def all_states(n):
    return np.array(list(itertools.product((0.0, 1.0), repeat=n))).reshape(-1, n)


class BruteBM:
    """Every joint state of a general machine with its energy, enumerated by brute force.

    ``states`` rows are in ``model.names`` order; ``energy`` is E(s), offset included,
    written as a sum over pairs i < j (not the 1/2 s'Ws form the package uses).
    """

    def __init__(self, weights, biases, *, offset, temperature, names, visible_names):
        weights = np.asarray(weights, dtype=np.float64)
        n = len(biases)
        self.states = all_states(n)
        energy = np.full(len(self.states), float(offset))
        for i in range(n):
            energy -= biases[i] * self.states[:, i]
            for j in range(i + 1, n):
                energy -= weights[i, j] * self.states[:, i] * self.states[:, j]
        self.energy = energy
        self.temperature = temperature
        self.names = list(names)
        self.visible_names = list(visible_names)
        self.log_weight = -energy / temperature
        self.log_z = lse(self.log_weight)

    def _mask(self, evidence):
        mask = np.ones(len(self.states), dtype=bool)
        for name, value in (evidence or {}).items():
            mask &= self.states[:, self.names.index(name)] == value
        return mask

    def log_z_given(self, evidence):
        return lse(self.log_weight[self._mask(evidence)])

    def marginals(self, evidence=None):
        mask = self._mask(evidence)
        weights = np.exp(self.log_weight[mask] - lse(self.log_weight[mask]))
        return weights @ self.states[mask]

    def mean_energy(self):
        return float(np.exp(self.log_weight - self.log_z) @ self.energy)

    def entropy(self):
        log_p = self.log_weight - self.log_z
        return float(-(np.exp(log_p) @ log_p))

    def random_states(self, rng, k):
        """k distinct complete states and their exact log-probabilities."""
        rows = rng.choice(len(self.states), size=min(k, len(self.states)), replace=False)
        return self.states[rows], self.log_weight[rows] - self.log_z


class BruteRBM(BruteBM):
    """Every joint state (v, h) of an RBM as a (2**n_visible, 2**n_hidden) table of -E/T."""

    def __init__(self, weights, b, c, *, temperature, names, visible_names):
        weights = np.asarray(weights, dtype=np.float64)
        n_visible, n_hidden = weights.shape
        self.n_visible = n_visible
        self.v_states, self.h_states = all_states(n_visible), all_states(n_hidden)
        v, h = self.v_states, self.h_states
        self.energy = -(v @ weights @ h.T) - (v @ np.asarray(b))[:, None] - (h @ np.asarray(c))[None, :]
        self.temperature = temperature
        self.names = list(names)
        self.visible_names = list(visible_names)
        self.log_weight = -self.energy / temperature
        self.log_z = lse(self.log_weight)

    def _masks(self, evidence):
        v_mask = np.ones(len(self.v_states), dtype=bool)
        h_mask = np.ones(len(self.h_states), dtype=bool)
        for name, value in (evidence or {}).items():
            k = self.names.index(name)
            if k < self.n_visible:
                v_mask &= self.v_states[:, k] == value
            else:
                h_mask &= self.h_states[:, k - self.n_visible] == value
        return v_mask, h_mask

    def log_z_given(self, evidence):
        v_mask, h_mask = self._masks(evidence)
        return lse(self.log_weight[np.ix_(v_mask, h_mask)])

    def marginals(self, evidence=None):
        v_mask, h_mask = self._masks(evidence)
        block = self.log_weight[np.ix_(v_mask, h_mask)]
        p = np.exp(block - lse(block))
        return np.concatenate([p.sum(axis=1) @ self.v_states[v_mask], p.sum(axis=0) @ self.h_states[h_mask]])

    def mean_energy(self):
        return float(np.sum(np.exp(self.log_weight - self.log_z) * self.energy))

    def entropy(self):
        log_p = self.log_weight - self.log_z
        return float(-np.sum(np.exp(log_p) * log_p))

    def random_states(self, rng, k):
        rows = rng.integers(len(self.v_states), size=k)
        cols = rng.integers(len(self.h_states), size=k)
        states = np.hstack([self.v_states[rows], self.h_states[cols]])
        return states, self.log_weight[rows, cols] - self.log_z


def joint_table(brute, variables, evidence=None):
    """Normalized table over ``variables`` in itertools.product order (last fastest)."""
    log_mass = []
    for assignment in itertools.product((0, 1), repeat=len(variables)):
        conditioned = dict(evidence or {})
        conditioned.update(zip(variables, assignment))
        log_mass.append(brute.log_z_given(conditioned))
    log_mass = np.array(log_mass)
    return np.exp(log_mass - lse(log_mass))


def brute_log_likelihood(brute, data):
    total = 0.0
    for row in np.asarray(data):
        total += brute.log_z_given(dict(zip(brute.visible_names, row.tolist()))) - brute.log_z
    return total / len(data)


def brute_of(model):
    if isinstance(model, RestrictedBoltzmannMachine):
        return BruteRBM(
            model.weights, model.visible_bias, model.hidden_bias,
            temperature=model.temperature, names=model.names, visible_names=model.visible_names,
        )
    weights = model.weights.toarray() if sp.issparse(model.weights) else model.weights
    return BruteBM(
        weights, model.biases, offset=model.offset, temperature=model.temperature,
        names=model.names, visible_names=model.visible_names,
    )


# --------------------------------------------------------------------------- models
def random_bm(n, *, seed, scale=1.0, n_hidden=0, temperature=1.0, offset=0.0, sparse=False, density=1.0):
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.normal(0.0, scale, size=(n, n)), 1)
    upper *= np.triu(rng.random((n, n)) < density, 1)
    weights = upper + upper.T
    biases = rng.normal(0.0, scale, size=n)
    visible = np.ones(n, dtype=bool)
    if n_hidden:
        visible[rng.choice(n, size=n_hidden, replace=False)] = False
    return BoltzmannMachine(
        sp.csr_array(weights) if sparse else weights, biases,
        visible=visible, temperature=temperature, offset=offset,
    )


def random_rbm(n_visible, n_hidden, *, seed, scale=1.0, temperature=1.0):
    rng = np.random.default_rng(seed)
    return RestrictedBoltzmannMachine(
        rng.normal(0.0, scale, size=(n_visible, n_hidden)),
        rng.normal(0.0, scale, size=n_visible),
        rng.normal(0.0, scale, size=n_hidden),
        temperature=temperature,
    )


MODELS = {
    # 5 units: everything fits in the 2**8 block prefixes
    "bm5_hidden_T1.3_offset": lambda: random_bm(5, seed=1, n_hidden=2, temperature=1.3, offset=0.7),
    # 11 and 13 units: the Gray-code walk inside each block runs
    "bm11_T0.6": lambda: random_bm(11, seed=2, n_hidden=3, temperature=0.6, offset=-2.5),
    "bm13_sparse_T2": lambda: random_bm(13, seed=3, n_hidden=4, temperature=2.0, sparse=True, density=0.4),
    "bm9_few_edges": lambda: random_bm(9, seed=4, density=0.2),
    # 18 units: 1024 Gray-code steps per block with energies of size ~100 (drift would show)
    "bm18_scale3": lambda: random_bm(18, seed=10, scale=3.0, n_hidden=5, offset=4.0),
    "rbm3x9": lambda: random_rbm(3, 9, seed=5),
    "rbm9x3": lambda: random_rbm(9, 3, seed=6, temperature=0.8),
    "rbm10x11_T1.7": lambda: random_rbm(10, 11, seed=7, temperature=1.7),
    "rbm12x9": lambda: random_rbm(12, 9, seed=8),
    "rbm1x1": lambda: random_rbm(1, 1, seed=9),
}

@pytest.fixture(params=list(MODELS), scope="module")
def model_and_brute(request):
    """Each model once per module, with its brute-force enumeration."""
    model = MODELS[request.param]()
    return model, brute_of(model)


def some_evidence(model, rng):
    """Evidence on up to two visible and (for RBMs / BMs with hidden units) one hidden unit."""
    names = list(model.names)
    chosen = {}
    visible = list(model.visible_names)
    for name in rng.choice(visible, size=min(2, len(visible) - 1), replace=False):
        chosen[str(name)] = int(rng.integers(2))
    hidden = list(model.hidden_names)
    if hidden:
        chosen[str(rng.choice(hidden))] = int(rng.integers(2))
    assert set(chosen) <= set(names)
    return chosen


# --------------------------------------------------------------------------- the oracle
def test_log_partition_function(model_and_brute):
    model, brute = model_and_brute
    assert exact.log_partition_function(model) == pytest.approx(brute.log_z, rel=RTOL, abs=1e-10)


def test_log_partition_function_with_evidence(model_and_brute):
    model, brute = model_and_brute
    evidence = some_evidence(model, np.random.default_rng(11))
    got = exact.log_partition_function(model, evidence=evidence)
    assert got == pytest.approx(brute.log_z_given(evidence), rel=RTOL, abs=1e-10)


def test_marginals_without_evidence(model_and_brute):
    model, brute = model_and_brute
    np.testing.assert_allclose(exact.marginals(model), brute.marginals(), rtol=1e-9, atol=1e-12)


def test_marginals_are_labelled_by_unit_name():
    rbm = RestrictedBoltzmannMachine([[1.0, -2.0], [0.5, 0.0], [0.0, 1.5]], [0.1, -0.3, 0.2], [0.4, -1.0])
    result = exact.marginals(rbm, evidence={"h1": 1})
    assert isinstance(result, pd.Series)
    assert list(result.index) == list(rbm.names) and result.index.name == "unit" and result.name == "p(on)"
    assert result["h1"] == 1.0
    np.testing.assert_array_equal(result.to_numpy(), exact._marginal_array(rbm, evidence={"h1": 1}))


def test_marginals_with_evidence(model_and_brute):
    model, brute = model_and_brute
    evidence = some_evidence(model, np.random.default_rng(12))
    got = exact.marginals(model, evidence=evidence)
    np.testing.assert_allclose(got, brute.marginals(evidence), rtol=1e-9, atol=1e-12)
    for name, value in evidence.items():
        assert got[name] == value


def test_query_joint_table_is_c_order_last_variable_fastest(model_and_brute):
    model, brute = model_and_brute
    names = list(model.names)
    variables = [names[-1], names[0], names[len(names) // 2]] if len(names) >= 3 else names[::-1]
    factor = exact.query(model, variables)
    assert list(factor.variables) == variables
    assert list(factor.cardinality) == [2] * len(variables)
    for variable in variables:
        assert list(factor.state_names[variable]) == [0, 1]
    np.testing.assert_allclose(factor.values.ravel(order="C"), joint_table(brute, variables), rtol=1e-9, atol=1e-14)
    # the same entries through pgmpy's own state-name lookup
    for assignment, expected in zip(itertools.product((0, 1), repeat=len(variables)), joint_table(brute, variables)):
        assert factor.get_value(**dict(zip(variables, assignment))) == pytest.approx(expected, rel=1e-9, abs=1e-14)


def test_query_joint_with_evidence(model_and_brute):
    model, brute = model_and_brute
    evidence = some_evidence(model, np.random.default_rng(13))
    free = [name for name in model.names if name not in evidence]
    variables = free[-2:][::-1]
    factor = exact.query(model, variables, evidence=evidence)
    np.testing.assert_allclose(factor.values.ravel(), joint_table(brute, variables, evidence), rtol=1e-9, atol=1e-14)
    assert factor.values.sum() == pytest.approx(1.0, abs=1e-12)


def test_query_not_joint_is_a_dict_of_marginal_factors(model_and_brute):
    model, brute = model_and_brute
    evidence = some_evidence(model, np.random.default_rng(14))
    variables = [name for name in model.names if name not in evidence][:3]
    result = exact.query(model, variables, evidence=evidence, joint=False)
    assert isinstance(result, dict) and list(result) == variables
    expected = brute.marginals(evidence)
    for name in variables:
        factor = result[name]
        assert list(factor.variables) == [name]
        p1 = expected[model.names.index(name)]
        np.testing.assert_allclose(factor.values, [1 - p1, p1], rtol=1e-9, atol=1e-12)


def test_log_probability_of_complete_states(model_and_brute):
    model, brute = model_and_brute
    states, expected = brute.random_states(np.random.default_rng(15), 20)
    got = exact.log_probability(model, states)
    assert got.shape == (len(states),)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
    single = exact.log_probability(model, states[0].astype(int))
    assert isinstance(single, float)
    assert single == pytest.approx(expected[0], rel=1e-10, abs=1e-10)


def test_log_likelihood_of_visible_data(model_and_brute):
    model, brute = model_and_brute
    rng = np.random.default_rng(16)
    data = rng.integers(0, 2, size=(7, model.n_visible))
    data[3] = data[0]  # repeated rows count twice
    got = exact.log_likelihood(model, data)
    assert got == pytest.approx(brute_log_likelihood(brute, data), rel=1e-10, abs=1e-10)


def test_mean_energy_entropy_and_free_energy(model_and_brute):
    model, brute = model_and_brute
    assert exact.mean_energy(model) == pytest.approx(brute.mean_energy(), rel=1e-9, abs=1e-9)
    assert exact.entropy(model) == pytest.approx(brute.entropy(), rel=1e-9, abs=1e-9)
    assert exact.helmholtz_free_energy(model) == pytest.approx(-brute.temperature * brute.log_z, rel=1e-10, abs=1e-10)


# --------------------------------------------------------------------------- particular cases
def test_bm_hand_example_two_units():
    # E(s) = -1.5 s0 s1 + 0.5 s0 - 0.25 s1 + 1; Z = sum of exp(-E) over 4 states, by hand.
    bm = BoltzmannMachine([[0.0, 1.5], [1.5, 0.0]], [-0.5, 0.25], offset=1.0)
    energies = {(0, 0): 1.0, (0, 1): 0.75, (1, 0): 1.5, (1, 1): -0.25}
    z = sum(math.exp(-e) for e in energies.values())
    assert exact.log_partition_function(bm) == pytest.approx(math.log(z), rel=1e-14)
    p_s0 = (math.exp(-1.5) + math.exp(0.25)) / z
    p_s1 = (math.exp(-0.75) + math.exp(0.25)) / z
    np.testing.assert_allclose(exact.marginals(bm), [p_s0, p_s1], rtol=1e-13)
    # p(s1 = 1 | s0 = 1) = sigma(local field 0.25 + 1.5)
    assert exact.marginals(bm, evidence={"v0": 1})["v1"] == pytest.approx(1 / (1 + math.exp(-1.75)), rel=1e-13)
    u = sum(e * math.exp(-e) for e in energies.values()) / z
    assert exact.mean_energy(bm) == pytest.approx(u, rel=1e-13)
    assert exact.entropy(bm) == pytest.approx(math.log(z) + u, rel=1e-13)


def test_bm_without_hidden_units_log_likelihood_is_log_probability():
    model = random_bm(6, seed=21, temperature=0.9, offset=3.0)
    brute = brute_of(model)
    data = np.array([[1, 0, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1]])
    expected = np.mean([brute.log_weight[int("".join(map(str, row)), 2)] - brute.log_z for row in data])
    assert exact.log_likelihood(model, data) == pytest.approx(expected, rel=1e-11)
    assert exact.log_likelihood(model, data) == pytest.approx(np.mean(exact.log_probability(model, data)), rel=1e-11)


@pytest.mark.parametrize("kind", ["bm", "rbm"])
def test_log_likelihood_accepts_a_dataframe_with_shuffled_columns(kind):
    model = random_bm(7, seed=22, n_hidden=3) if kind == "bm" else random_rbm(5, 4, seed=23)
    brute = brute_of(model)
    data = np.random.default_rng(24).integers(0, 2, size=(6, model.n_visible))
    frame = pd.DataFrame(data, columns=list(model.visible_names))
    shuffled = frame[list(np.random.default_rng(25).permutation(frame.columns))]
    assert list(shuffled.columns) != list(model.visible_names)
    frame_value = exact.log_likelihood(model, shuffled)
    assert frame_value == pytest.approx(brute_log_likelihood(brute, data), rel=1e-11)
    assert frame_value == exact.log_likelihood(model, data)


def test_rbm_evidence_on_both_layers_against_brute_force():
    model = random_rbm(10, 11, seed=31, scale=0.8, temperature=1.3)
    brute = brute_of(model)
    evidence = {"v0": 1, "v4": 0, "v9": 1, "h2": 1, "h7": 0, "h10": 0}
    assert exact.log_partition_function(model, evidence=evidence) == pytest.approx(brute.log_z_given(evidence), rel=1e-11)
    np.testing.assert_allclose(exact.marginals(model, evidence=evidence), brute.marginals(evidence), rtol=1e-9, atol=1e-13)
    variables = ["h3", "v5", "h0"]
    table = exact.query(model, variables, evidence=evidence)
    np.testing.assert_allclose(table.values.ravel(), joint_table(brute, variables, evidence), rtol=1e-9, atol=1e-14)


def test_rbm_with_every_unit_clamped():
    model = random_rbm(3, 2, seed=32)
    brute = brute_of(model)
    evidence = {"v0": 1, "v1": 0, "v2": 1, "h0": 0, "h1": 1}
    assert exact.log_partition_function(model, evidence=evidence) == pytest.approx(brute.log_z_given(evidence), rel=1e-12)


def test_bm_with_every_unit_clamped():
    model = random_bm(4, seed=33, offset=1.5)
    brute = brute_of(model)
    evidence = {"v0": 1, "v1": 1, "v2": 0, "v3": 1}
    assert exact.log_partition_function(model, evidence=evidence) == pytest.approx(brute.log_z_given(evidence), rel=1e-12)


@pytest.mark.parametrize("temperature", [0.25, 1.0, 4.0])
def test_temperature_equals_scaled_parameters(temperature):
    """A model at T has the distribution of the model with W/T, b/T at T = 1 (and log Z shifts by -offset/T)."""
    model = random_bm(10, seed=34, temperature=temperature, offset=2.0)
    scaled = BoltzmannMachine(model.weights / temperature, model.biases / temperature, offset=2.0 / temperature)
    assert exact.log_partition_function(model) == pytest.approx(exact.log_partition_function(scaled), rel=1e-12)
    np.testing.assert_allclose(exact.marginals(model), exact.marginals(scaled), rtol=1e-11)
    assert exact.log_partition_function(model) == pytest.approx(brute_of(model).log_z, rel=1e-11)


def test_helmholtz_identity_f_equals_u_minus_ts_against_brute_force():
    model = random_rbm(6, 8, seed=35, temperature=2.5)
    brute = brute_of(model)
    f = exact.helmholtz_free_energy(model)
    assert f == pytest.approx(-2.5 * brute.log_z, rel=1e-11)
    assert f == pytest.approx(brute.mean_energy() - 2.5 * brute.entropy(), rel=1e-9)


# --------------------------------------------------------------------------- stability
def big_weight_bm(n, seed, magnitude=50.0):
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.choice([-magnitude, magnitude], size=(n, n)), 1)
    return BoltzmannMachine(upper + upper.T, rng.choice([-magnitude, magnitude], size=n), offset=-30.0)


@pytest.mark.parametrize(
    "make",
    [
        lambda: big_weight_bm(7, 41),
        lambda: big_weight_bm(12, 42),
        lambda: RestrictedBoltzmannMachine(*(np.random.default_rng(43).choice([-50.0, 50.0], size=s) for s in [(9, 10), 9, 10])),
        lambda: RestrictedBoltzmannMachine(*(np.random.default_rng(44).choice([-50.0, 50.0], size=s) for s in [(4, 7), 4, 7])),
    ],
    ids=["bm7", "bm12", "rbm9x10", "rbm4x7"],
)
def test_weights_of_plus_minus_50_stay_finite_and_exact(make):
    model = make()
    brute = brute_of(model)  # log space throughout: exp() never sees a positive argument
    log_z = exact.log_partition_function(model)
    assert np.isfinite(log_z)
    assert log_z == pytest.approx(brute.log_z, rel=1e-12)
    marginals = exact.marginals(model)
    assert np.all(np.isfinite(marginals))
    np.testing.assert_allclose(marginals, brute.marginals(), atol=1e-12)
    assert exact.mean_energy(model) == pytest.approx(brute.mean_energy(), rel=1e-12)
    # the entropy is a tiny difference of two numbers of size ~1e2..1e3: compare absolutely
    assert exact.entropy(model) == pytest.approx(brute.entropy(), abs=1e-9)
    # evidence on the improbable value of a unit: its log-mass is hundreds of nats below log Z
    evidence = {model.names[0]: 1 - int(round(brute.marginals()[0]))}
    conditioned = exact.log_partition_function(model, evidence=evidence)
    assert conditioned == pytest.approx(brute.log_z_given(evidence), rel=1e-12)
    np.testing.assert_allclose(exact.marginals(model, evidence=evidence), brute.marginals(evidence), atol=1e-12)
    data = np.random.default_rng(45).integers(0, 2, size=(3, model.n_visible))
    assert exact.log_likelihood(model, data) == pytest.approx(brute_log_likelihood(brute, data), rel=1e-12)
    states, expected = brute.random_states(np.random.default_rng(46), 5)
    np.testing.assert_allclose(exact.log_probability(model, states), expected, rtol=1e-12)


def test_bm_weights_1000_at_temperature_1():
    """exp(-E) would be exp(1020) here; only log-space code survives."""
    model = BoltzmannMachine(
        np.array([[0, 1000.0, -1000.0], [1000.0, 0, 1000.0], [-1000.0, 1000.0, 0]]), [10.0, -20.0, 30.0]
    )
    # -E(s) = sum_{i<j} W_ij s_i s_j + b.s for the 8 states, by hand:
    # 000: 0, 100: 10, 010: -20, 001: 30, 110: 990, 101: -960, 011: 1010, 111: 1020
    minus_e = [0, 10, -20, 30, 990, -960, 1010, 1020]
    expected = 1020 + math.log(sum(math.exp(x - 1020) for x in minus_e))
    assert exact.log_partition_function(model) == pytest.approx(expected, rel=1e-14)
    total = sum(math.exp(x - 1020) for x in minus_e)
    # states with s0 = 1: 100, 110, 101, 111; s1 = 1: 010, 110, 011, 111; s2 = 1: 001, 101, 011, 111
    on = {0: [1, 4, 5, 7], 1: [2, 4, 6, 7], 2: [3, 5, 6, 7]}
    expected_marginals = [sum(math.exp(minus_e[k] - 1020) for k in on[i]) / total for i in range(3)]
    np.testing.assert_allclose(exact.marginals(model), expected_marginals, rtol=1e-12)
    assert expected_marginals[0] == pytest.approx(1 / (1 + math.exp(-10)), rel=1e-12)  # the hand example is not trivial
    assert exact.log_probability(model, [1, 1, 1]) == pytest.approx(1020 - expected, abs=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda: BoltzmannMachine(
            np.array([[0, 1000.0, -1000.0], [1000.0, 0, 1000.0], [-1000.0, 1000.0, 0]]), [10.0, -20.0, 30.0]
        ),
        lambda: big_weight_bm(12, 42),
        lambda: RestrictedBoltzmannMachine(*(np.random.default_rng(43).choice([-50.0, 50.0], size=s) for s in [(9, 10), 9, 10])),
    ],
    ids=["bm3_w1000", "bm12_w50", "rbm9x10_w50"],
)
def test_marginals_are_probabilities_even_when_nearly_certain(make):
    """p(s_i = 1) must lie in [0, 1]: a value of 1 + 5e-14 breaks rng.binomial(1, p) and log1p(-p)."""
    model = make()
    for evidence in (None, {model.names[-1]: 1}):
        marginals = exact.marginals(model, evidence=evidence)
        assert np.all((marginals >= 0.0) & (marginals <= 1.0)), marginals[(marginals < 0) | (marginals > 1)]


def test_rbm_10000_visible_3_hidden_closed_form_against_numpy_enumeration():
    rng = np.random.default_rng(51)
    n_visible, n_hidden = 10_000, 3
    weights = rng.normal(0.0, 0.2, size=(n_visible, n_hidden))
    b = rng.normal(0.0, 0.5, size=n_visible)
    c = rng.normal(0.0, 3.0, size=n_hidden)
    model = RestrictedBoltzmannMachine(weights, b, c, temperature=1.5)
    t = 1.5
    hidden = all_states(n_hidden)  # 8 rows
    # log sum_v exp(-E(v, h)/T) = c.h/T + sum_i softplus((b_i + (W h)_i)/T), each hidden state separately
    per_hidden = (hidden @ c) / t + np.logaddexp(0.0, (b[None, :] + hidden @ weights.T) / t).sum(axis=1)
    log_z = lse(per_hidden)
    assert exact.log_partition_function(model) == pytest.approx(log_z, rel=1e-12)

    p_h = np.exp(per_hidden - log_z)
    expected_hidden = p_h @ hidden
    sigmoid = 1.0 / (1.0 + np.exp(-(b[None, :] + hidden @ weights.T) / t))
    expected_visible = p_h @ sigmoid
    got = exact.marginals(model)
    np.testing.assert_allclose(got[n_visible:], expected_hidden, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(got[:n_visible], expected_visible, rtol=1e-10, atol=1e-14)

    data = rng.integers(0, 2, size=(4, n_visible)).astype(float)
    # log p(v) = log sum_h exp(-E(v,h)/T) - log Z, enumerated over the 8 hidden states
    minus_energy = (data @ b)[:, None] / t + (data @ weights @ hidden.T + (hidden @ c)[None, :]) / t
    expected_ll = np.mean(lse(minus_energy, axis=1) - log_z)
    assert exact.log_likelihood(model, data) == pytest.approx(expected_ll, rel=1e-12)

    # U = sum_h p(h) [ -c.h - sum_i sigma_i (b_i + (W h)_i) ]: mean energy of the visible layer given h
    energy_given_h = -(hidden @ c) - (sigmoid * (b[None, :] + hidden @ weights.T)).sum(axis=1)
    assert exact.mean_energy(model) == pytest.approx(p_h @ energy_given_h, rel=1e-10)


def numpy_rbm_log_z(weights, b, c, temperature, evidence=None):
    """Enumerate the smaller layer in NumPy and sum the larger one in closed form (log space)."""
    weights, b, c = np.asarray(weights) / temperature, np.asarray(b) / temperature, np.asarray(c) / temperature
    if len(c) > len(b):  # enumerate the visible layer instead: swap the roles
        weights, b, c = weights.T, c, b
    states = all_states(len(c))
    for column, value in (evidence or {}).items():
        states = states[states[:, column] == value]
    per_state = states @ c + np.logaddexp(0.0, b[None, :] + states @ weights.T).sum(axis=1)
    return lse(per_state)


@pytest.mark.parametrize("scale", [0.3, 5.0, 60.0])
@pytest.mark.parametrize("shape", [(30, 14), (14, 30), (200, 12)], ids=["30x14", "14x30", "200x12"])
def test_rbm_log_z_with_a_large_enumerated_layer_against_numpy(shape, scale):
    """Up to 2**14 enumerated states against 30 summed units; weights from tiny to +-hundreds."""
    n_visible, n_hidden = shape
    rng = np.random.default_rng(71)
    weights = rng.normal(0.0, scale, size=shape)
    b, c = rng.normal(0.0, scale, size=n_visible), rng.normal(0.0, scale, size=n_hidden)
    model = RestrictedBoltzmannMachine(weights, b, c, temperature=0.9)
    expected = numpy_rbm_log_z(weights, b, c, 0.9)
    got = exact.log_partition_function(model)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-9)
    # the same through evidence on the enumerated (smaller) layer: p(unit = 1) from two log Zs
    smaller_first = model.hidden_names[0] if n_hidden <= n_visible else model.visible_names[0]
    conditioned = exact.log_partition_function(model, evidence={smaller_first: 1})
    assert conditioned == pytest.approx(numpy_rbm_log_z(weights, b, c, 0.9, {0: 1}), rel=1e-12, abs=1e-9)
    p1 = exact.marginals(model)[smaller_first]
    assert math.exp(conditioned - got) == pytest.approx(p1, rel=1e-8, abs=1e-12)


# --------------------------------------------------------------------------- determinism
def _results(model):
    evidence = {model.names[1]: 1}
    return (
        exact.log_partition_function(model),
        exact.marginals(model, evidence=evidence),
        exact.mean_energy(model),
        exact.entropy(model),
        exact.query(model, [model.names[0], model.names[-1]]).values,
    )


def _assert_identical(first, second):
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("which", ["bm14", "rbm11x12"])
def test_results_are_identical_run_to_run(which):
    model = random_bm(14, seed=61) if which == "bm14" else random_rbm(11, 12, seed=62)
    _assert_identical(_results(model), _results(model))


@pytest.mark.parametrize("which", ["bm14", "rbm11x12", "rbm12x11", "rbm30x14"])
def test_results_do_not_depend_on_the_number_of_numba_threads(which):
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        # a one-core machine: run this very test again in a process given two Numba threads
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             f"{__file__}::test_results_do_not_depend_on_the_number_of_numba_threads[{which}]"],
            env=dict(os.environ, NUMBA_NUM_THREADS="2"), capture_output=True, text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return
    model = {
        "bm14": lambda: random_bm(14, seed=63),
        "rbm11x12": lambda: random_rbm(11, 12, seed=64),
        "rbm12x11": lambda: random_rbm(12, 11, seed=65),
        "rbm30x14": lambda: random_rbm(30, 14, seed=66, scale=2.0),
    }[which]()
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = _results(model)
        numba.set_num_threads(2)
        double = _results(model)
    finally:
        numba.set_num_threads(before)
    _assert_identical(single, double)
    if isinstance(model, RestrictedBoltzmannMachine):
        expected = numpy_rbm_log_z(model.weights, model.visible_bias, model.hidden_bias, model.temperature)
    else:
        expected = brute_of(model).log_z
    assert single[0] == pytest.approx(expected, rel=1e-11)
