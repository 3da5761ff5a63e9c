"""Every bad input raises a clear exception.

Bad values raise a subclass of both :class:`pgm_energy.PGMEnergyError` and
:class:`ValueError`; wrong types raise :class:`TypeError`. The message names
the parameter and echoes the offending value (checked with ``match=``).
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from pgm_energy import (
    BoltzmannMachine,
    EvidenceError,
    ModelSizeError,
    PGMEnergyError,
    RestrictedBoltzmannMachine,
    StateError,
    ValidationError,
    exact,
)

W3 = np.array([[0.0, 1.0, -2.0], [1.0, 0.0, 0.5], [-2.0, 0.5, 0.0]])
B3 = np.array([0.1, -0.2, 0.3])


def bm3():
    return BoltzmannMachine(W3, B3, visible=[True, True, False])


def rbm23():
    return RestrictedBoltzmannMachine(np.arange(6.0).reshape(2, 3) / 10, [0.1, 0.2], [0.0, -0.1, 0.2])


def asymmetric():
    w = W3.copy()
    w[1, 0] = 2.0
    return w


def with_diagonal():
    w = W3.copy()
    w[1, 1] = 3.0
    return w


def with_entry(value, where=(0, 2)):
    w = W3.copy()
    w[where] = w[where[::-1]] = value
    return w


def check(call, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        call()
    if issubclass(error, ValueError):
        assert isinstance(info.value, PGMEnergyError)
        assert isinstance(info.value, ValueError)
    else:
        assert isinstance(info.value, TypeError)
    return info.value


# --------------------------------------------------------------------------- constructors
CONSTRUCTION = {
    # BoltzmannMachine weights
    "bm_weights_not_square": (lambda: BoltzmannMachine(np.zeros((2, 3)), [0, 0]), ValidationError, r"weights.*square.*\(2, 3\)"),
    "bm_weights_1d": (lambda: BoltzmannMachine([0.0, 1.0, 2.0], [0, 0, 0]), ValidationError, r"weights.*2-dimensional.*\(3,\)"),
    "bm_weights_3d": (lambda: BoltzmannMachine(np.zeros((2, 2, 2)), [0, 0]), ValidationError, r"weights.*2-dimensional.*\(2, 2, 2\)"),
    "bm_weights_empty": (lambda: BoltzmannMachine(np.zeros((0, 0)), []), ValidationError, r"weights.*non-empty.*\(0, 0\)"),
    "bm_weights_strings": (lambda: BoltzmannMachine("abc", [0, 0]), ValidationError, r"weights.*'abc'"),
    "bm_weights_ragged": (lambda: BoltzmannMachine([[0, 1], [1]], [0, 0]), ValidationError, r"weights.*\[\[0, 1\], \[1\]\]"),
    "bm_weights_complex": (lambda: BoltzmannMachine([[0, 1j], [1j, 0]], [0, 0]), ValidationError, r"weights.*(real|complex)"),
    "bm_weights_asymmetric": (lambda: BoltzmannMachine(asymmetric(), B3), ValidationError, r"weights.*symmetric.*weights\[0, 1\].*1\.0.*weights\[1, 0\].*2\.0"),
    "bm_weights_asymmetric_sparse": (lambda: BoltzmannMachine(sp.csr_array(asymmetric()), B3), ValidationError, r"weights.*symmetric.*1\.0.*2\.0"),
    "bm_weights_diagonal": (lambda: BoltzmannMachine(with_diagonal(), B3), ValidationError, r"weights.*diagonal.*weights\[1, 1\].*3\.0"),
    "bm_weights_diagonal_sparse": (lambda: BoltzmannMachine(sp.csr_array(with_diagonal()), B3), ValidationError, r"weights.*diagonal.*weights\[1, 1\].*3\.0"),
    "bm_weights_nan": (lambda: BoltzmannMachine(with_entry(np.nan), B3), ValidationError, r"weights.*finite.*nan"),
    "bm_weights_inf": (lambda: BoltzmannMachine(with_entry(np.inf), B3), ValidationError, r"weights.*finite.*inf"),
    "bm_weights_minus_inf": (lambda: BoltzmannMachine(with_entry(-np.inf), B3), ValidationError, r"weights.*finite.*-inf"),
    "bm_weights_nan_sparse": (lambda: BoltzmannMachine(sp.csr_array(with_entry(np.nan)), B3), ValidationError, r"weights.*finite.*(?i:nan)"),
    "bm_weights_inf_sparse": (lambda: BoltzmannMachine(sp.csr_array(with_entry(np.inf)), B3), ValidationError, r"weights.*finite.*inf"),
    "bm_weights_sparse_not_square": (lambda: BoltzmannMachine(sp.csr_array(np.ones((2, 3))), [0, 0]), ValidationError, r"weights.*square.*\(2, 3\)"),
    # BoltzmannMachine other parameters
    "bm_biases_length": (lambda: BoltzmannMachine(W3, [0.0, 1.0]), ValidationError, r"biases.*length 3.*\(2,\)"),
    "bm_biases_2d": (lambda: BoltzmannMachine(W3, [[0.0, 1.0, 2.0]]), ValidationError, r"biases.*1-dimensional.*\(1, 3\)"),
    "bm_biases_nan": (lambda: BoltzmannMachine(W3, [0.0, np.nan, 1.0]), ValidationError, r"biases.*finite.*nan.*\(1,\)"),
    "bm_biases_inf": (lambda: BoltzmannMachine(W3, [0.0, 1.0, np.inf]), ValidationError, r"biases.*finite.*inf.*\(2,\)"),
    "bm_visible_ints": (lambda: BoltzmannMachine(W3, B3, visible=[1, 2, 1]), ValidationError, r"visible.*bool.*0/1.*int.*\[1, 2, 1\]"),
    "bm_visible_floats": (lambda: BoltzmannMachine(W3, B3, visible=[1.0, 0.0, 1.0]), ValidationError, r"visible.*bool.*float.*\[1\.0, 0\.0, 1\.0\]"),
    "bm_visible_strings": (lambda: BoltzmannMachine(W3, B3, visible=["yes", "no", "yes"]), ValidationError, r"visible.*bool.*'yes'"),
    "bm_visible_length": (lambda: BoltzmannMachine(W3, B3, visible=[True, False]), ValidationError, r"visible.*\(3,\).*\(2,\)"),
    "bm_names_duplicate": (lambda: BoltzmannMachine(W3, B3, names=["a", "b", "a"]), ValidationError, r"names.*unique.*'a'"),
    "bm_names_empty_string": (lambda: BoltzmannMachine(W3, B3, names=["a", "", "c"]), ValidationError, r"names.*non-empty.*''"),
    "bm_names_not_strings": (lambda: BoltzmannMachine(W3, B3, names=["a", 7, "c"]), ValidationError, r"names.*strings.*7"),
    "bm_names_count": (lambda: BoltzmannMachine(W3, B3, names=["a", "b"]), ValidationError, r"names.*3.*2"),
    "bm_names_a_string": (lambda: BoltzmannMachine(W3, B3, names="abc"), TypeError, r"names.*'abc'"),
    "bm_offset_nan": (lambda: BoltzmannMachine(W3, B3, offset=np.nan), ValidationError, r"offset.*nan"),
    "bm_offset_vector": (lambda: BoltzmannMachine(W3, B3, offset=[1.0, 2.0]), ValidationError, r"offset.*\(2,\)"),
    "bm_unknown_keyword": (lambda: BoltzmannMachine(W3, B3, bias=B3), TypeError, r"'bias'"),
    "bm_positional_options": (lambda: BoltzmannMachine(W3, B3, None), TypeError, r"positional"),
    # Ising form
    "ising_J_asymmetric": (lambda: BoltzmannMachine.from_ising([0.0, 0.0], [[0.0, 1.0], [2.0, 0.0]]), ValidationError, r"\bJ\b.*symmetric"),
    "ising_J_nan": (lambda: BoltzmannMachine.from_ising([0.0, 0.0], [[0.0, np.nan], [np.nan, 0.0]]), ValidationError, r"\bJ\b.*nan"),
    "ising_h_length": (lambda: BoltzmannMachine.from_ising([0.0, 0.0, 0.0], [[0.0, 1.0], [1.0, 0.0]]), ValidationError, r"\bh\b.*length 2.*\(3,\)"),
    "ising_offset_inf": (lambda: BoltzmannMachine.from_ising([0.0, 0.0], [[0.0, 1.0], [1.0, 0.0]], np.inf), ValidationError, r"offset.*inf"),
    # RestrictedBoltzmannMachine
    "rbm_weights_1d": (lambda: RestrictedBoltzmannMachine([1.0, 2.0], [0, 0], [0]), ValidationError, r"weights.*2-dimensional.*\(2,\)"),
    "rbm_weights_no_visible": (lambda: RestrictedBoltzmannMachine(np.zeros((0, 3)), [], [0, 0, 0]), ValidationError, r"weights.*\(0, 3\)"),
    "rbm_weights_no_hidden": (lambda: RestrictedBoltzmannMachine(np.zeros((3, 0)), [0, 0, 0], []), ValidationError, r"weights.*\(3, 0\)"),
    "rbm_weights_nan": (lambda: RestrictedBoltzmannMachine([[0.0, 1.0], [np.nan, 0.0]], [0, 0], [0, 0]), ValidationError, r"weights.*nan.*\(1, 0\)"),
    "rbm_weights_inf": (lambda: RestrictedBoltzmannMachine([[0.0, np.inf]], [0], [0, 0]), ValidationError, r"weights.*inf.*\(0, 1\)"),
    "rbm_visible_bias_length": (lambda: RestrictedBoltzmannMachine(np.zeros((2, 3)), [0, 0, 0], [0, 0, 0]), ValidationError, r"visible_bias.*length 2.*\(3,\)"),
    "rbm_hidden_bias_length": (lambda: RestrictedBoltzmannMachine(np.zeros((2, 3)), [0, 0], [0, 0]), ValidationError, r"hidden_bias.*length 3.*\(2,\)"),
    "rbm_visible_bias_nan": (lambda: RestrictedBoltzmannMachine(np.zeros((2, 3)), [np.nan, 0], [0, 0, 0]), ValidationError, r"visible_bias.*nan"),
    "rbm_hidden_bias_inf": (lambda: RestrictedBoltzmannMachine(np.zeros((2, 3)), [0, 0], [0, -np.inf, 0]), ValidationError, r"hidden_bias.*-inf"),
    "rbm_visible_names_duplicate": (lambda: RestrictedBoltzmannMachine(np.zeros((2, 1)), [0, 0], [0], visible_names=["x", "x"]), ValidationError, r"visible_names.*unique.*'x'"),
    "rbm_hidden_names_empty": (lambda: RestrictedBoltzmannMachine(np.zeros((2, 1)), [0, 0], [0], hidden_names=[""]), ValidationError, r"hidden_names.*non-empty.*''"),
    "rbm_hidden_names_count": (lambda: RestrictedBoltzmannMachine(np.zeros((2, 1)), [0, 0], [0], hidden_names=["a", "b"]), ValidationError, r"hidden_names.*1.*2"),
    "rbm_names_shared_between_layers": (lambda: RestrictedBoltzmannMachine(np.zeros((2, 1)), [0, 0], [0], visible_names=["a", "b"], hidden_names=["a"]), ValidationError, r"names.*unique.*'a'"),
    "rbm_random_no_visible": (lambda: RestrictedBoltzmannMachine.random(0, 3), ValidationError, r"n_visible.*>= 1.*0"),
    "rbm_random_negative_hidden": (lambda: RestrictedBoltzmannMachine.random(3, -2), ValidationError, r"n_hidden.*-2"),
    "rbm_random_float_size": (lambda: RestrictedBoltzmannMachine.random(2.5, 3), TypeError, r"n_visible.*2\.5"),
    "rbm_random_negative_scale": (lambda: RestrictedBoltzmannMachine.random(2, 3, scale=-0.1), ValidationError, r"scale.*-0\.1"),
    "rbm_random_nan_scale": (lambda: RestrictedBoltzmannMachine.random(2, 3, scale=np.nan), ValidationError, r"scale.*nan"),
    "rbm_random_negative_seed": (lambda: RestrictedBoltzmannMachine.random(2, 3, rng=-1), ValidationError, r"rng.*-1"),
    "rbm_random_string_seed": (lambda: RestrictedBoltzmannMachine.random(2, 3, rng="seed"), TypeError, r"rng.*'seed'"),
    "rbm_random_legacy_randomstate": (lambda: RestrictedBoltzmannMachine.random(2, 3, rng=np.random.RandomState(0)), TypeError, r"rng.*RandomState"),
}

TEMPERATURES = {
    "zero": (0.0, ValidationError, r"temperature.*> 0.*0\.0"),
    "zero_int": (0, ValidationError, r"temperature.*> 0.*\b0\b"),
    "negative": (-1.5, ValidationError, r"temperature.*-1\.5"),
    "nan": (float("nan"), ValidationError, r"temperature.*nan"),
    "inf": (float("inf"), ValidationError, r"temperature.*inf"),
    "minus_inf": (float("-inf"), ValidationError, r"temperature.*-inf"),
    "string": ("1.0", TypeError, r"temperature.*'1\.0'"),
    "none": (None, TypeError, r"temperature.*None"),
    "bool": (True, TypeError, r"temperature.*True"),
}


@pytest.mark.parametrize("case", list(CONSTRUCTION))
def test_constructor_rejects(case):
    call, error, pattern = CONSTRUCTION[case]
    check(call, error, pattern)


@pytest.mark.parametrize("value", list(TEMPERATURES))
@pytest.mark.parametrize(
    "build",
    [
        lambda t: BoltzmannMachine(W3, B3, temperature=t),
        lambda t: RestrictedBoltzmannMachine(np.zeros((2, 3)), [0, 0], [0, 0, 0], temperature=t),
        lambda t: bm3().with_temperature(t),
        lambda t: rbm23().with_temperature(t),
        lambda t: RestrictedBoltzmannMachine.random(2, 2, rng=0, temperature=t),
        lambda t: BoltzmannMachine.from_ising([0.0, 0.0], [[0.0, 1.0], [1.0, 0.0]], temperature=t),
    ],
    ids=["bm", "rbm", "bm.with_temperature", "rbm.with_temperature", "rbm.random", "from_ising"],
)
def test_bad_temperature(build, value):
    temperature, error, pattern = TEMPERATURES[value]
    check(lambda: build(temperature), error, pattern)


# --------------------------------------------------------------------------- states
BAD_STATES = {
    "half": ([0, 0.5, 1], r"0 and 1.*0\.5.*\(1,\)"),
    "two": ([0, 1, 2], r"0 and 1.*2.*\(2,\)"),
    "minus_one": ([-1, 0, 1], r"0 and 1.*-1.*\(0,\)"),
    "nan": ([0.0, np.nan, 1.0], r"0 and 1.*nan"),
    "inf": ([0.0, 1.0, np.inf], r"0 and 1.*inf"),
    "batch_row": ([[0, 0, 0], [1, 0, 3]], r"0 and 1.*3.*\(1, 2\)"),
    "too_short": ([0, 1], r"\(3,\).*\(2,\)"),
    "too_long": ([0, 1, 1, 0], r"\(3,\).*\(4,\)"),
    "three_dimensional": (np.zeros((1, 1, 3)), r"\(1, 1, 3\)"),
    "scalar": (1, r"\(3,\).*\(\)"),
    "strings": (["0", "1", "0"], r"0/1.*<U1"),
}


@pytest.mark.parametrize("case", list(BAD_STATES))
@pytest.mark.parametrize(
    "method", ["energy", "local_fields", "conditional_probabilities", "unnormalized_log_probability"]
)
def test_bm_methods_reject_bad_states(method, case):
    states, pattern = BAD_STATES[case]
    check(lambda: getattr(bm3(), method)(states), StateError, r"states.*" + pattern)


@pytest.mark.parametrize("case", list(BAD_STATES))
def test_exact_log_probability_rejects_bad_states(case):
    states, pattern = BAD_STATES[case]
    check(lambda: exact.log_probability(bm3(), states), StateError, r"states.*" + pattern)


RBM_STATE_CASES = {
    # (call, pattern): visible has 2 units, hidden 3
    "energy_visible_half": (lambda m: m.energy([0.5, 1], [0, 1, 0]), r"visible.*0 and 1.*0\.5"),
    "energy_hidden_two": (lambda m: m.energy([0, 1], [0, 2, 0]), r"hidden.*0 and 1.*2"),
    "energy_hidden_short": (lambda m: m.energy([0, 1], [0, 1]), r"hidden.*\(3,\).*\(2,\)"),
    "energy_visible_long": (lambda m: m.energy([0, 1, 1], [0, 1, 0]), r"visible.*\(2,\).*\(3,\)"),
    "energy_batches_differ": (lambda m: m.energy(np.zeros((3, 2)), np.zeros((2, 3))), r"visible and hidden.*3.*2"),
    "free_energy_minus_one": (lambda m: m.free_energy([-1, 1]), r"visible.*0 and 1.*-1"),
    "free_energy_short": (lambda m: m.free_energy([1]), r"visible.*\(2,\).*\(1,\)"),
    "hidden_probabilities_nan": (lambda m: m.hidden_probabilities([np.nan, 1]), r"visible.*0 and 1.*nan"),
    "visible_probabilities_two": (lambda m: m.visible_probabilities([0, 0, 2]), r"hidden.*0 and 1.*2"),
    "visible_probabilities_given_visible": (lambda m: m.visible_probabilities([0, 1]), r"hidden.*\(3,\).*\(2,\)"),
    "unnormalized_log_probability_half": (lambda m: m.unnormalized_log_probability([1, 1], [0.5, 0, 0]), r"hidden.*0\.5"),
    "exact_log_probability_visible_only": (lambda m: exact.log_probability(m, [0, 1]), r"states.*\(5,\).*\(2,\)"),
}


@pytest.mark.parametrize("case", list(RBM_STATE_CASES))
def test_rbm_methods_reject_bad_states(case):
    call, pattern = RBM_STATE_CASES[case]
    check(lambda: call(rbm23()), StateError, pattern)


DATA_CASES = {
    "value_two": (np.array([[0, 1], [2, 0]]), StateError, r"data.*0 and 1.*2.*\(1, 0\)"),
    "value_half": (np.array([0.5, 1.0]), StateError, r"data.*0 and 1.*0\.5"),
    "wrong_width": (np.array([[0, 1, 1]]), StateError, r"data.*\(2,\).*\(1, 3\)"),
    "no_rows": (np.zeros((0, 2)), ValidationError, r"data.*0 rows"),
    "frame_missing_column": (pd.DataFrame({"v0": [0, 1], "x": [1, 1]}), ValidationError, r"data.*missing.*'v1'"),
}


@pytest.mark.parametrize("case", list(DATA_CASES))
@pytest.mark.parametrize("model", [bm3, rbm23], ids=["bm", "rbm"])
def test_log_likelihood_rejects_bad_data(model, case):
    data, error, pattern = DATA_CASES[case]
    check(lambda: exact.log_likelihood(model(), data), error, pattern)


# --------------------------------------------------------------------------- evidence and queries
EVIDENCE_CASES = {
    "unknown_name": ({"zz": 1}, EvidenceError, r"evidence.*'zz'.*not a variable"),
    "value_two": ({"v0": 2}, EvidenceError, r"evidence\['v0'\].*0 or 1.*\b2\b"),
    "value_half": ({"v0": 0.5}, EvidenceError, r"evidence\['v0'\].*0 or 1.*0\.5"),
    "value_minus_one": ({"v1": -1}, EvidenceError, r"evidence\['v1'\].*0 or 1.*-1"),
    "value_nan": ({"v0": float("nan")}, EvidenceError, r"evidence\['v0'\].*nan"),
    "value_string": ({"v0": "1"}, EvidenceError, r"evidence\['v0'\].*'1'"),
    "value_none": ({"v0": None}, EvidenceError, r"evidence\['v0'\].*None"),
    "index_not_name": ({0: 1}, EvidenceError, r"evidence.*\b0\b.*not a variable"),
    "name_of_another_model": ({"h7": 0}, EvidenceError, r"evidence.*'h7'.*not a variable"),
    "not_a_dict": ([("v0", 1)], TypeError, r"evidence.*dict.*\('v0', 1\)"),
}

EVIDENCE_FUNCTIONS = {
    "log_partition_function": lambda m, e: exact.log_partition_function(m, evidence=e),
    "marginals": lambda m, e: exact.marginals(m, evidence=e),
    "query_joint": lambda m, e: exact.query(m, ["h0"], evidence=e),
    "query_marginal": lambda m, e: exact.query(m, ["h0"], evidence=e, joint=False),
}


@pytest.mark.parametrize("case", list(EVIDENCE_CASES))
@pytest.mark.parametrize("function", list(EVIDENCE_FUNCTIONS))
@pytest.mark.parametrize("model", [bm3, rbm23], ids=["bm", "rbm"])
def test_bad_evidence(model, function, case):
    evidence, error, pattern = EVIDENCE_CASES[case]
    check(lambda: EVIDENCE_FUNCTIONS[function](model(), evidence), error, pattern)


QUERY_CASES = {
    "variable_in_evidence": (lambda m: exact.query(m, ["v0", "h0"], evidence={"v0": 1}), EvidenceError, r"'v0'.*queried.*evidence"),
    "variable_in_evidence_marginal": (lambda m: exact.query(m, ["v0"], evidence={"v0": 0}, joint=False), EvidenceError, r"'v0'.*queried.*evidence"),
    "unknown_variable": (lambda m: exact.query(m, ["v0", "zz"]), EvidenceError, r"variables.*'zz'.*not a variable"),
    "no_variables": (lambda m: exact.query(m, []), ValidationError, r"variables.*at least one.*\[\]"),
    "repeated_variable": (lambda m: exact.query(m, ["v0", "v0"]), ValidationError, r"variables.*repeat.*\['v0', 'v0'\]"),
    "a_string": (lambda m: exact.query(m, "v0"), TypeError, r"variables.*string 'v0'"),
    "not_iterable": (lambda m: exact.query(m, 5), TypeError, r"variables.*5"),
}


@pytest.mark.parametrize("case", list(QUERY_CASES))
@pytest.mark.parametrize("model", [bm3, rbm23], ids=["bm", "rbm"])
def test_bad_query(model, case):
    call, error, pattern = QUERY_CASES[case]
    check(lambda: call(model()), error, pattern)


def test_joint_query_over_more_than_20_variables_is_refused():
    bm = BoltzmannMachine(np.zeros((21, 21)), np.zeros(21))
    check(lambda: exact.query(bm, list(bm.names)), ModelSizeError, r"21 variables.*2\*\*21.*20.*joint=False")


# --------------------------------------------------------------------------- size guard
EXACT_FUNCTIONS = {
    "log_partition_function": lambda m, k: exact.log_partition_function(m, max_units=k),
    "log_partition_function_evidence": lambda m, k: exact.log_partition_function(m, evidence={m.names[0]: 1}, max_units=k - 1),
    "marginals": lambda m, k: exact.marginals(m, max_units=k),
    "query_joint": lambda m, k: exact.query(m, [m.names[0]], max_units=k - 1),
    "query_marginal": lambda m, k: exact.query(m, [m.names[0]], joint=False, max_units=k),
    "log_probability": lambda m, k: exact.log_probability(m, np.zeros(m.n_units), max_units=k),
    "log_likelihood": lambda m, k: exact.log_likelihood(m, np.zeros(m.n_visible), max_units=k),
    "mean_energy": lambda m, k: exact.mean_energy(m, max_units=k),
    "entropy": lambda m, k: exact.entropy(m, max_units=k),
    "helmholtz_free_energy": lambda m, k: exact.helmholtz_free_energy(m, max_units=k),
}


@pytest.mark.parametrize("function", list(EXACT_FUNCTIONS))
def test_size_guard_bm(function):
    """5 free units (4 after clamping one) against a limit one below: the message says how to raise it."""
    bm = BoltzmannMachine(np.zeros((5, 5)), np.zeros(5))
    limit = 4
    free = 4 if function in ("log_partition_function_evidence", "query_joint") else 5
    error = check(lambda: EXACT_FUNCTIONS[function](bm, limit), ModelSizeError, rf"2\*\*{free}.*max_units={free - 1}\b")
    assert f"pass max_units={free}" in str(error)


@pytest.mark.parametrize("shape", [(3, 9), (9, 3)])
@pytest.mark.parametrize("function", list(EXACT_FUNCTIONS))
def test_size_guard_rbm_counts_the_smaller_layer(function, shape):
    rbm = RestrictedBoltzmannMachine(np.zeros(shape), np.zeros(shape[0]), np.zeros(shape[1]))
    # the smaller layer has 3 units; clamping one unit of the 9-unit layer leaves it at 3
    call = {
        "log_partition_function_evidence": lambda: exact.log_partition_function(
            rbm, evidence={"v8" if shape[0] == 9 else "h8": 1}, max_units=2
        ),
        "query_joint": lambda: exact.query(rbm, ["v8" if shape[0] == 9 else "h8"], max_units=2),
    }.get(function, lambda: EXACT_FUNCTIONS[function](rbm, 2))
    error = check(call, ModelSizeError, r"smaller free layer \(3 units\).*max_units=2\b")
    assert "pass max_units=3" in str(error)


def test_size_guard_limit_is_inclusive():
    bm = BoltzmannMachine(np.zeros((5, 5)), np.zeros(5))
    assert exact.log_partition_function(bm, max_units=5) == pytest.approx(5 * np.log(2.0), rel=1e-14)


@pytest.mark.parametrize(
    "value, error, pattern",
    [(-1, ValidationError, r"max_units.*>= 0.*-1"), (2.5, TypeError, r"max_units.*integer.*2\.5"), ("30", TypeError, r"max_units.*'30'")],
)
def test_bad_max_units(value, error, pattern):
    check(lambda: exact.log_partition_function(bm3(), max_units=value), error, pattern)


@pytest.mark.parametrize("function", list(EXACT_FUNCTIONS))
def test_exact_functions_reject_a_non_model(function):
    class Impostor:
        names = ("v0",)
        visible_names = ("v0",)
        n_units = n_visible = 1
        temperature = 1.0

    check(lambda: EXACT_FUNCTIONS[function](Impostor(), 30), TypeError, r"model.*BoltzmannMachine.*Impostor")


def lattice_weights(side):
    """Nearest-neighbour coupling 1.0 on a side x side grid, CSR, built without dense arrays."""
    path = sp.diags_array([np.ones(side - 1), np.ones(side - 1)], offsets=[-1, 1], shape=(side, side))
    eye = sp.eye_array(side)
    return sp.csr_array(sp.kron(path, eye) + sp.kron(eye, path))


@pytest.fixture(scope="module")
def lattice_bm():
    weights = lattice_weights(256)
    return BoltzmannMachine(weights, np.zeros(256 * 256))


@pytest.mark.parametrize("function", list(EXACT_FUNCTIONS))
def test_size_guard_fires_before_any_large_allocation(lattice_bm, function):
    """65,536 sparse units: the guard must refuse at once, without densifying anything.

    A dense copy of the weights would be 34 GB; even one dense row block of the
    free units would show up in the traced peak.
    """
    tracemalloc.start()
    try:
        start = time.perf_counter()
        with pytest.raises(ModelSizeError, match=r"65536|65535") as info:
            EXACT_FUNCTIONS[function](lattice_bm, 30)
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "pass max_units=" in str(info.value)
    assert elapsed < 2.0
    # log_probability / log_likelihood validate a 65,536-wide state first (0.5 MB as float64)
    assert peak < 8 * 2**20, f"peak traced allocation {peak / 2**20:.1f} MiB"


def test_size_guard_fires_before_copying_a_large_rbm():
    rbm = RestrictedBoltzmannMachine(np.zeros((1500, 1200)), np.zeros(1500), np.zeros(1200))  # 14 MB of weights
    tracemalloc.start()
    try:
        with pytest.raises(ModelSizeError, match=r"smaller free layer \(1200 units\)"):
            exact.marginals(rbm, evidence={"v0": 1})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20, f"peak traced allocation {peak / 2**20:.1f} MiB"
