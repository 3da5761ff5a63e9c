"""Exact answers for categorical RBMs against brute force over (v, h) and the Potts machine oracle.

``pgm_energy.exact`` does not hand a CategoricalRBM to ``_categorical_enumeration`` yet (its
``_ORACLES`` registry is the integrator's), so the functions are called from the module here;
``exact`` is called on ``model.to_potts_machine()``, an independent enumeration (mixed radix over
every variable) of the same distribution.
"""

import math
import os

import numba
import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp

from pgm_energy import RestrictedBoltzmannMachine, exact
from pgm_energy import _categorical_enumeration as categorical
from pgm_energy._kernels import categorical_enumeration as kernels
from pgm_energy.exceptions import EvidenceError, ModelSizeError, ParameterTypeError, StateError, ValidationError
from pgm_energy.models.categorical_rbm import CategoricalRBM

from conftest_categorical import all_visible, brute_force, random_crbm

MAX = dict(max_units=30)

CASES = [
    dict(cardinalities=(3, 2, 4), n_hidden=3),
    dict(cardinalities=(1, 5, 2), n_hidden=4, temperature=0.7),
    dict(cardinalities=(2, 2, 2, 2), n_hidden=2, scale=2.0, temperature=1.9),
    dict(cardinalities=(6,), n_hidden=5, state_names={"v0": list("abcdef")}),
]


@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("seed", [0, 1])
def test_log_z_marginals_energy_and_entropy_match_brute_force_and_the_potts_oracle(case, seed):
    model = random_crbm(seed, **CASES[case])
    potts = model.to_potts_machine()
    log_z, p, v, h = brute_force(model)
    assert categorical.log_partition_function(model, **MAX) == pytest.approx(log_z, abs=1e-12)
    assert categorical.log_partition_function(model, **MAX) == pytest.approx(exact.log_partition_function(potts),
                                                                             abs=1e-12)
    marginals = categorical.marginals(model, **MAX)
    reference = exact.marginals(potts)
    assert marginals.index.equals(reference.index) and marginals.name == "p"
    np.testing.assert_allclose(marginals.to_numpy(), reference.to_numpy(), rtol=0, atol=1e-12)
    for i, name in enumerate(model.visible_names):
        expected = [p[v[:, i] == a].sum() for a in range(model.cardinalities[i])]
        np.testing.assert_allclose(marginals[name].to_numpy(), expected, atol=1e-13)
    for j, name in enumerate(model.hidden_names):
        assert marginals[(name, 1)] == pytest.approx(p[h[:, j] == 1].sum(), abs=1e-13)
    energy = model.energy(v, h)
    assert categorical.mean_energy(model, **MAX) == pytest.approx(p @ energy, abs=1e-11)
    assert categorical.mean_energy(model, **MAX) == pytest.approx(exact.mean_energy(potts), abs=1e-11)
    assert categorical.entropy(model, **MAX) == pytest.approx(-(p @ np.log(p)), abs=1e-11)
    states = np.hstack([v, h])[::7]
    np.testing.assert_allclose(categorical.log_probability(model, states, **MAX), np.log(p[::7]), atol=1e-12)
    assert categorical.log_probability(model, states[2], **MAX) == pytest.approx(np.log(p[14]), abs=1e-12)


def test_evidence_by_state_name_index_and_hidden_value():
    model = random_crbm(3, cardinalities=(3, 2, 4), n_hidden=4,
                        state_names={"v0": ["a", "b", "c"], "v2": [10, 11, 12, 13]})
    potts = model.to_potts_machine()
    log_z, p, v, h = brute_force(model, {0: 2, 2: 1, 4: 1})  # v0 = "c", v2 = 11, h1 = 1
    by_numpy_integers = {"v0": "c", "v2": np.int64(11), "h1": np.int64(1)}
    for evidence in ({"v0": "c", "v2": 11, "h1": 1}, {"v0": 2, "v2": 11, "h1": 1}, by_numpy_integers):
        assert categorical.log_partition_function(model, evidence=evidence, **MAX) == pytest.approx(log_z, abs=1e-12)
    evidence = {"v0": "c", "v2": 11, "h1": 1}
    marginals = categorical.marginals(model, evidence=evidence, **MAX)
    np.testing.assert_allclose(marginals.to_numpy(), exact.marginals(potts, evidence=evidence).to_numpy(), atol=1e-12)
    np.testing.assert_array_equal(marginals["v0"].to_numpy(), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(marginals["h1"].to_numpy(), [0.0, 1.0])
    assert list(marginals["v2"].index) == [10, 11, 12, 13]
    np.testing.assert_allclose(marginals["v1"].to_numpy(), [p[v[:, 1] == a].sum() for a in range(2)], atol=1e-13)
    assert marginals[("h3", 1)] == pytest.approx(p[h[:, 3] == 1].sum(), abs=1e-13)
    # every unit clamped: one state, its weight
    everything = {"v0": "a", "v1": 1, "v2": 13, "h0": 0, "h1": 1, "h2": 1, "h3": 0}
    weight = model.unnormalized_log_probability([0, 1, 3], [0, 1, 1, 0])
    assert categorical.log_partition_function(model, evidence=everything, **MAX) == pytest.approx(weight, abs=1e-12)
    only_hidden = {"h0": 1, "h1": 0, "h2": 1, "h3": 1}
    assert categorical.log_partition_function(model, evidence=only_hidden, **MAX) == pytest.approx(
        exact.log_partition_function(potts, evidence=only_hidden), abs=1e-12)


@pytest.mark.parametrize("evidence, error, message", [
    ({"v2": 1}, EvidenceError, "not a state of variable 'v2'"),
    ({"v0": "d"}, EvidenceError, "not a state of variable 'v0'"),
    ({"h0": 2}, EvidenceError, "not a state of variable 'h0'"),
    ({"h0": 0.5}, EvidenceError, "not a state of variable 'h0'"),
    ({"zz": 1}, EvidenceError, "not a variable"),
    ({1: 1}, EvidenceError, "not a variable"),
    ([("v1", 1)], ParameterTypeError, "evidence must be a dict"),
])
def test_bad_evidence_is_refused(evidence, error, message):
    model = random_crbm(3, state_names={"v0": ["a", "b", "c"], "v2": [10, 11, 12, 13]})
    with pytest.raises(error, match=message):
        categorical.log_partition_function(model, evidence=evidence, **MAX)
    with pytest.raises(error, match=message):
        categorical.marginals(model, evidence=evidence, **MAX)


@pytest.mark.parametrize("seed", range(3))
def test_log_likelihood_matches_the_potts_oracle_and_brute_force(seed):
    model = random_crbm(seed, cardinalities=(3, 2, 4), n_hidden=4, temperature=1.2)
    g = np.random.default_rng(seed)
    data = np.stack([g.integers(0, k, 9) for k in model.cardinalities], axis=1)
    ours = categorical.log_likelihood(model, data, **MAX)
    assert ours == pytest.approx(exact.log_likelihood(model.to_potts_machine(), data), abs=1e-12)
    _, p, v, _ = brute_force(model)
    visible = all_visible(model.cardinalities)
    p_visible = {tuple(row): p[np.all(v == row, axis=1)].sum() for row in visible}
    assert ours == pytest.approx(np.mean([np.log(p_visible[tuple(row)]) for row in data]), abs=1e-12)
    single = categorical.log_likelihood(model, data[3], **MAX)
    assert single == pytest.approx(np.log(p_visible[tuple(data[3])]), abs=1e-12)


def test_log_likelihood_of_a_dataframe_reorders_columns_and_reads_state_names():
    model = random_crbm(4, state_names={"v0": ["a", "b", "c"], "v2": [10, 11, 12, 13]})
    frame = pd.DataFrame({"v2": [11, 13, 10], "extra": [0, 0, 0], "v1": [0, 1, 1], "v0": ["c", "a", "b"]})
    codes = np.array([[2, 0, 1], [0, 1, 3], [1, 1, 0]])
    assert categorical.log_likelihood(model, frame, **MAX) == pytest.approx(
        categorical.log_likelihood(model, codes, **MAX), abs=1e-14)
    with pytest.raises(ValidationError, match="missing columns"):
        categorical.log_likelihood(model, frame.drop(columns="v1"), **MAX)
    with pytest.raises(EvidenceError, match="not a state of variable 'v2'"):
        categorical.log_likelihood(model, frame.assign(v2=[1, 2, 3]), **MAX)
    with pytest.raises(StateError, match="not a state of variable 2"):
        categorical.log_likelihood(model, [[0, 0, 4]], **MAX)
    with pytest.raises(ValidationError, match="at least one sample"):
        categorical.log_likelihood(model, np.zeros((0, 3), dtype=int), **MAX)


@pytest.mark.parametrize("temperature", [1.0, 0.6])
def test_a_two_state_machine_has_the_log_likelihood_of_its_binary_rbm(temperature):
    model = random_crbm(5, cardinalities=(2,) * 6, n_hidden=4, temperature=temperature)
    w, b = model.weights, model.visible_bias
    rbm = RestrictedBoltzmannMachine(w[1::2] - w[0::2], b[1::2] - b[0::2], model.hidden_bias + w[0::2].sum(axis=0),
                                     temperature=temperature)
    data = np.random.default_rng(0).integers(0, 2, (20, 6))
    assert categorical.log_likelihood(model, data, **MAX) == pytest.approx(exact.log_likelihood(rbm, data), abs=1e-12)
    # the energies differ by the constant -sum_i b_i(0), so log Z by sum_i b_i(0) / T
    assert categorical.log_partition_function(model, **MAX) == pytest.approx(
        exact.log_partition_function(rbm) + b[0::2].sum() / temperature, abs=1e-12)
    np.testing.assert_allclose(categorical.marginals(model, **MAX).xs(1, level="state").to_numpy(),
                               exact.marginals(rbm).to_numpy(), atol=1e-13)


@pytest.mark.parametrize("seed", range(2))
def test_joint_and_single_queries_match_the_potts_oracle(seed):
    model = random_crbm(seed, cardinalities=(3, 2, 4, 2), n_hidden=4, temperature=1.4,
                        state_names={"v0": ["x", "y", "z"]})
    potts = model.to_potts_machine()
    for variables, evidence in ([["h2", "v2", "v0", "h0"], {"v1": 1}], [["v3"], None], [["h1", "h3"], {"h0": 1}],
                                [["v0", "v2"], {"h2": 0, "v3": 1}]):
        ours = categorical.query(model, variables, evidence=evidence, **MAX)
        reference = exact.query(potts, variables, evidence=evidence)
        assert ours.variables == variables and ours.state_names == reference.state_names
        np.testing.assert_allclose(ours.values, reference.values, rtol=0, atol=1e-12)
    # against brute force: p(h2, v2 | v1 = 1)
    _, p, v, h = brute_force(model, {1: 1})
    factor = categorical.query(model, ["h2", "v2"], evidence={"v1": 1}, **MAX)
    expected = np.zeros((2, 4))
    np.add.at(expected, (h[:, 2], v[:, 2]), p)
    np.testing.assert_allclose(factor.values, expected, atol=1e-13)
    singles = categorical.query(model, ["v0", "h3"], evidence={"v1": 1}, joint=False, **MAX)
    np.testing.assert_allclose(singles["v0"].values, [p[v[:, 0] == a].sum() for a in range(3)], atol=1e-13)
    assert singles["v0"].state_names == {"v0": ["x", "y", "z"]}
    np.testing.assert_allclose(singles["h3"].values, [p[h[:, 3] == a].sum() for a in range(2)], atol=1e-13)


def test_query_refusals():
    model = random_crbm(6)
    with pytest.raises(EvidenceError, match="both queried and given"):
        categorical.query(model, ["v0"], evidence={"v0": 1}, **MAX)
    with pytest.raises(EvidenceError, match="not a variable"):
        categorical.query(model, ["nope"], **MAX)
    with pytest.raises(ValidationError, match="repeat"):
        categorical.query(model, ["v0", "v0"], **MAX)
    with pytest.raises(ParameterTypeError, match="joint"):
        categorical.query(model, ["v0"], joint="yes", **MAX)
    wide = CategoricalRBM.random([40] * 4, 2, rng=0)  # 40**4 > 2**20 entries
    with pytest.raises(ModelSizeError, match="table of 2560000 entries"):
        categorical.query(wide, list(wide.visible_names), **MAX)


def test_weights_of_fifty_neither_overflow_nor_underflow():
    model = random_crbm(7, cardinalities=(3, 4, 2), n_hidden=5, scale=50.0)
    log_z, p, v, h = brute_force(model)
    ours = categorical.log_partition_function(model, **MAX)
    assert math.isfinite(ours) and ours == pytest.approx(log_z, rel=1e-14)
    marginals = categorical.marginals(model, **MAX)
    assert np.all(np.isfinite(marginals)) and np.all((marginals >= 0) & (marginals <= 1))
    np.testing.assert_allclose(marginals.to_numpy(), exact.marginals(model.to_potts_machine()).to_numpy(), atol=1e-12)


def test_the_size_guard_counts_free_hidden_units_before_any_work(monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("the guard must refuse before the enumeration starts")

    model = CategoricalRBM.random([3, 4], 3000, rng=0)
    monkeypatch.setattr(categorical, "_solve", no_work)
    for call in (lambda: categorical.log_partition_function(model, **MAX),
                 lambda: categorical.marginals(model, **MAX),
                 lambda: categorical.query(model, ["v0", "h2"], **MAX),
                 lambda: categorical.log_likelihood(model, [[0, 0]], **MAX),
                 lambda: categorical.entropy(model, **MAX)):
        with pytest.raises(ModelSizeError, match="2\\*\\*3000 = .*e\\+903 states of its 3000 free hidden units"):
            call()
    monkeypatch.undo()
    small = CategoricalRBM.random([3, 4], 12, rng=0)
    with pytest.raises(ModelSizeError, match="2\\*\\*12 = 4.1e\\+03 states.*max_units=10"):
        categorical.log_partition_function(small, max_units=10)
    # clamping hidden units shrinks the enumeration below the guard
    evidence = {"h0": 1, "h5": 0}
    assert categorical.log_partition_function(small, evidence=evidence, max_units=10) == pytest.approx(
        exact.log_partition_function(small.to_potts_machine(), evidence=evidence), abs=1e-12)
    with pytest.raises(ValidationError, match="max_units"):
        categorical.log_partition_function(small, max_units=-1)
    with pytest.raises(ParameterTypeError, match="max_units"):
        categorical.log_partition_function(small, max_units=2.5)


def test_other_models_are_refused():
    rbm = RestrictedBoltzmannMachine.random(3, 2, rng=0)
    for function in (categorical.log_partition_function, categorical.marginals, categorical.mean_energy):
        with pytest.raises(ParameterTypeError, match="CategoricalRBM"):
            function(rbm, max_units=30)
    with pytest.raises(ParameterTypeError, match="CategoricalRBM"):
        categorical.log_likelihood(rbm, [[0, 1, 0]], max_units=30)


@pytest.mark.skipif(os.environ.get("PGM_ENERGY_PARALLEL_TWIN_TESTS") != "1",
                    reason="compiles the parallel kernel (seconds on an empty cache): set PGM_ENERGY_PARALLEL_TWIN_TESTS=1")
def test_the_parallel_kernel_and_its_serial_twin_give_the_same_bits():
    model = random_crbm(8, cardinalities=(3, 2, 4), n_hidden=20, scale=0.7)
    problem = categorical._flatten(model, {})
    args = (problem.hidden_rows, problem.visible_bias, problem.field_start, problem.hidden_bias, 9)
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        for with_moments in (False, True):
            parallel = kernels.categorical_block_sums(*args, with_moments)
            serial = kernels.categorical_block_sums_serial(*args, with_moments)
            for a, b in zip(parallel, serial):
                np.testing.assert_array_equal(a, b)
            # blocks computed in pieces concatenate to the same bits as one call (run_blocks' chunks)
            pieces = [kernels.categorical_block_sums_serial(*args, with_moments, first, count)
                      for first, count in ((0, 100), (100, 1), (101, 411))]
            for k in range(2):
                np.testing.assert_array_equal(np.concatenate([piece[k] for piece in pieces]), serial[k])
    finally:
        numba.set_num_threads(previous)
    # the other way round: the 24 visible states, the hidden layer summed by the free energy
    visible = all_visible(model.cardinalities)
    assert categorical.log_partition_function(model, **MAX) == pytest.approx(
        logsumexp(-model.free_energy(visible) / model.temperature), abs=1e-10)
