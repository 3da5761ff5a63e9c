"""Model constructors and files under hostile input (issue 11, items 1, 7 and 9).

Malformed sparse matrices used to reach scipy's unchecked compiled routines
(``sum_duplicates``, ``diagonal``, ``W - W.T``) and crash the interpreter or corrupt
its heap, so those cases run in a subprocess: the test sees a crash as a crash.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from pgm_energy import (
    BoltzmannMachine,
    DeepBeliefNetwork,
    ParameterTypeError,
    RestrictedBoltzmannMachine,
    SigmoidBeliefNetwork,
    ValidationError,
)
from pgm_energy._validation import MAX_ENERGY_SCALE

FORMATS = ["csr", "csc", "coo", "bsr", "dia", "lil", "dok"]
CONSTRUCTORS = [getattr(sp, f"{layout}_{flavour}") for layout in FORMATS for flavour in ("array", "matrix")]
WEIGHTS = np.array([[0.0, 1.0, 0.0, -2.0], [1.0, 0.0, 0.5, 0.0], [0.0, 0.5, 0.0, 3.0], [-2.0, 0.0, 3.0, 0.0]])

# Each case damages a valid matrix's index arrays in place (scipy checks them only when it
# builds the object), then hands it to the constructor (or to from_ising). Printed per case:
# the exception's class name, or "accepted".
MALFORMED_SCRIPT = textwrap.dedent(
    r"""
    import json, os, sys, tempfile
    import numpy as np, scipy.sparse as sp
    from pgm_energy import BoltzmannMachine, load

    W = np.array(json.loads(sys.argv[1]))

    def damage(layout, flavour, how):
        m = getattr(sp, f"{layout}_{flavour}")(W)
        if layout in ("csr", "csc", "bsr"):
            if how == "index":
                m.indices[1] = 1002
            elif how == "negative":
                m.indices[0] = -5
            elif how == "indptr":
                m.indptr[1], m.indptr[2] = m.indptr[2] + 1, m.indptr[1]
            else:
                m.indptr = m.indptr[:-1]
        elif layout == "coo":
            coords = m.coords
            if how == "index":
                coords[0][1] = 1002
            elif how == "negative":
                coords[1][0] = -5
            elif how == "indptr":
                m.coords = (coords[0][:-1], coords[1])
            else:
                m.coords = (coords[0].astype(float), coords[1])
        elif layout == "dia":
            if how in ("index", "negative"):
                m.offsets = m.offsets.astype(float)
            elif how == "indptr":
                m.offsets = m.offsets[:-1]
            else:
                m.data = m.data[0]
        elif layout == "lil":
            if how == "index":
                m.rows[0] = [1, 1002]; m.data[0] = [1.0, 2.0]
            elif how == "negative":
                m.rows[0] = [-5]; m.data[0] = [1.0]
            elif how == "indptr":
                m.rows[0] = [1, 3]; m.data[0] = [1.0]
            else:
                m.rows[1] = ["a"]; m.data[1] = [1.0]
        else:  # dok: scipy keeps the entries in a plain dict
            if how == "index":
                m._dict[(1002, 0)] = 1.0
            elif how == "negative":
                m._dict[(0, -5)] = 1.0
            elif how == "indptr":
                m._dict[(0, 1, 2)] = 1.0
            else:
                m._dict[(0.5, 1)] = 1.0
        return m

    def outcome(call):
        try:
            call()
        except Exception as error:
            return type(error).__name__
        return "accepted"

    results = {}
    for layout in ["csr", "csc", "coo", "bsr", "dia", "lil", "dok"]:
        for flavour in ("array", "matrix"):
            for how in ("index", "negative", "indptr", "other"):
                results[f"{layout}_{flavour}/{how}"] = outcome(
                    lambda: BoltzmannMachine(damage(layout, flavour, how), np.zeros(len(W))))
                results[f"{layout}_{flavour}/{how}/from_ising"] = outcome(
                    lambda: BoltzmannMachine.from_ising(np.zeros(len(W)), damage(layout, flavour, how)))
    # the issue's reproducer, through the constructor and through a model file
    reproducer = (np.array([1.0, 1, 2, 2]), np.array([1, 0, 1002, 1]), np.array([0, 1, 3, 4]))
    results["issue"] = outcome(lambda: BoltzmannMachine(sp.csr_array(reproducer, shape=(3, 3)), np.zeros(3)))
    try:
        BoltzmannMachine(sp.csr_array(reproducer, shape=(3, 3)), np.zeros(3))
    except Exception as error:
        results["issue/message"] = str(error)
    path = os.path.join(tempfile.mkdtemp(), "m.npz")
    np.savez(path, weights_data=reproducer[0], weights_indices=reproducer[1], weights_indptr=reproducer[2],
             biases=np.zeros(3), visible=np.ones(3, bool), names=np.array(["a", "b", "c"]),
             temperature=np.float64(1), offset=np.float64(0),
             __pgm_energy_kind__=np.array("BoltzmannMachine"), __pgm_energy_format__=np.array(1))
    results["issue/load"] = outcome(lambda: load(path))
    # a file whose indptr claims a huge number of stored entries (std::bad_alloc before)
    content = dict(np.load(path)); content["weights_indices"] = np.array([1, 0, 2, 1])
    content["weights_indptr"] = np.array([0, 1, 3, 2**40])
    np.savez(path, **content)
    results["huge_indptr/load"] = outcome(lambda: load(path))
    # the heap must still be sound: real work after all of that
    good = BoltzmannMachine(sp.csr_array(W), np.zeros(len(W)))
    results["afterwards"] = str(float(good.energy(np.ones(len(W)))))
    print(json.dumps(results))
    """
)


def test_malformed_sparse_weights_of_every_format_are_refused_without_crashing():
    run = subprocess.run(
        [sys.executable, "-c", MALFORMED_SCRIPT, json.dumps(WEIGHTS.tolist())],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, f"the process died ({run.returncode}): {run.stderr[-2000:]}"
    results = json.loads(run.stdout.strip().splitlines()[-1])
    assert results.pop("afterwards") == str(-2.5)
    assert results.pop("issue/load") == "ModelFileError"
    assert results.pop("huge_indptr/load") == "ModelFileError"
    assert re.fullmatch(r"weights is a malformed sparse matrix: its indices\[2\] = .*1002.* is outside \[0, 3\)", results.pop("issue/message"))
    wrong = {case: result for case, result in results.items() if result != "ValidationError"}
    assert not wrong
    assert len(results) == len(CONSTRUCTORS) * 4 * 2 + 1


@pytest.mark.parametrize("constructor", CONSTRUCTORS, ids=lambda c: c.__name__)
def test_every_sparse_format_gives_the_same_machine(constructor):
    machine = BoltzmannMachine(constructor(WEIGHTS), np.arange(4.0))
    assert machine.is_sparse and machine.n_edges == 4
    np.testing.assert_array_equal(machine.dense_weights(), WEIGHTS)
    reference = BoltzmannMachine(WEIGHTS, np.arange(4.0))
    states = np.array([[1, 0, 1, 1], [1, 1, 1, 1], [0, 1, 1, 0]])
    np.testing.assert_array_equal(machine.energy(states), reference.energy(states))


def test_sparse_duplicates_add_up_as_in_scipy():
    rows, cols = np.array([0, 1, 0, 1]), np.array([1, 0, 1, 0])
    machine = BoltzmannMachine(sp.coo_array((np.array([1.0, 1.0, 2.0, 2.0]), (rows, cols)), shape=(2, 2)), np.zeros(2))
    np.testing.assert_array_equal(machine.dense_weights(), [[0.0, 3.0], [3.0, 0.0]])


@pytest.mark.parametrize("constructor", CONSTRUCTORS, ids=lambda c: c.__name__)
def test_complex_sparse_weights_are_refused(constructor):
    """scipy's cast to float64 dropped the imaginary part without a word."""
    with pytest.raises(ValidationError, match=r"weights must be real, got complex"):
        BoltzmannMachine(constructor(WEIGHTS * (1 + 0.5j)), np.zeros(4))


def test_sparse_shape_is_checked_against_the_biases_before_converting():
    huge = sp.coo_array((np.array([1.0, 1.0]), (np.array([0, 1]), np.array([1, 0]))), shape=(10**12, 10**12))
    with pytest.raises(ValidationError, match=r"weights has shape \(1000000000000, 1000000000000\) but biases has 2"):
        BoltzmannMachine(huge, np.zeros(2))


# --------------------------------------------------------------------------- magnitudes (item 9)
def overflowing_models(value):
    """Each model kind with one parameter of size ``value``."""
    pair = np.array([[0.0, value], [value, 0.0]])
    return {
        "BoltzmannMachine": lambda: BoltzmannMachine(pair, np.zeros(2)),
        "sparse BoltzmannMachine": lambda: BoltzmannMachine(sp.csr_array(pair), np.zeros(2)),
        "BoltzmannMachine offset": lambda: BoltzmannMachine(np.zeros((2, 2)), np.zeros(2), offset=value),
        "from_ising": lambda: BoltzmannMachine.from_ising(np.zeros(2), pair / 4),
        "RestrictedBoltzmannMachine": lambda: RestrictedBoltzmannMachine([[value]], [0.0], [0.0]),
        "RestrictedBoltzmannMachine hidden_bias": lambda: RestrictedBoltzmannMachine([[0.0]], [0.0], [value]),
        "SigmoidBeliefNetwork": lambda: SigmoidBeliefNetwork([[[value]]], [[0.0], [0.0]]),
        "DeepBeliefNetwork": lambda: DeepBeliefNetwork([[[0.0]], [[value]]], [[0.0], [0.0], [0.0]]),
    }


@pytest.mark.parametrize("kind", list(overflowing_models(1.0)))
def test_parameters_that_would_overflow_are_refused(kind):
    """Weights of 1e308 gave -inf energies and NaN log partition functions without a word."""
    with pytest.raises(ValidationError, match=r"is too large: .*1e\+308.*overflow float64") as info:
        overflowing_models(1e308)[kind]()
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("kind", list(overflowing_models(1.0)))
def test_large_but_safe_parameters_are_kept(kind):
    model = overflowing_models(MAX_ENERGY_SCALE / 8)[kind]()
    assert model is not None


def test_energy_scale_bound_counts_every_parameter():
    many = np.full((2, 2), MAX_ENERGY_SCALE / 3.5)
    with pytest.raises(ValidationError, match=r"weights is too large.*sum to 1.14e\+150"):
        RestrictedBoltzmannMachine(many, [0.0, 0.0], [0.0, 0.0])
    machine = BoltzmannMachine([[0.0, 1e149], [1e149, 0.0]], [1e149, -1e149])
    assert np.all(np.isfinite(machine.energy([[1, 1], [0, 1], [1, 0]])))


# --------------------------------------------------------------------------- trainer type (item 9)
@pytest.mark.parametrize("trainer", ["cd", 3, object()])
def test_rbm_fit_names_a_wrong_trainer(trainer):
    rbm = RestrictedBoltzmannMachine.random(3, 2, rng=0)
    with pytest.raises(ParameterTypeError, match=r"trainer must be a trainer of restricted Boltzmann machines"):
        rbm.fit(np.zeros((4, 3)), trainer=trainer)


def test_rbm_fit_refuses_a_trainer_of_another_model_kind():
    from pgm_energy.learning import BoltzmannLearning

    with pytest.raises(ParameterTypeError, match=r"trainer .*BoltzmannLearning"):
        RestrictedBoltzmannMachine.random(3, 2, rng=0).fit(np.zeros((4, 3)), trainer=BoltzmannLearning())


# --------------------------------------------------------------------------- unit lookups
@pytest.mark.parametrize("name", [None, float("nan"), np.int64(2), sp.csr_array(np.eye(2)), ["v0"]], ids=repr)
def test_index_refuses_a_name_that_is_not_a_string(name):
    """Comparing a sparse matrix with the names raised a TypeError from a NumPy ufunc."""
    models = [
        BoltzmannMachine(WEIGHTS, np.zeros(4)),
        RestrictedBoltzmannMachine.random(2, 2, rng=0),
        SigmoidBeliefNetwork.random([2, 1], rng=0),
    ]
    for model in models:
        with pytest.raises(ParameterTypeError, match=r"name must be a unit name \(a str\), got"):
            model.index(name)
    with pytest.raises(ParameterTypeError, match="name must be a unit name"):
        models[2].parents(name)


# --------------------------------------------------------------------------- dense arrays that are not real numbers
@pytest.mark.parametrize(
    "weights, pattern",
    [
        (np.array([[0.0, 1 + 2j], [1 - 2j, 0.0]]), r"weights must be real, got complex values \(dtype complex128\)"),
        (np.array([["0", "1.5"], ["1.5", "0"]]), r"weights must be an array of real numbers, got dtype <U3"),
        (np.array([[0, 1], [1, 0]], dtype="datetime64[s]"), r"weights must be an array of real numbers, got dtype"),
    ],
    ids=["complex", "text", "datetime"],
)
def test_dense_parameters_must_be_real_numbers(weights, pattern):
    """A complex ndarray used to lose its imaginary part with only a ComplexWarning; text was parsed."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning on the way to the error either
        with pytest.raises(ValidationError, match=pattern):
            BoltzmannMachine(weights, np.zeros(2))
        with pytest.raises(ValidationError, match=pattern):
            RestrictedBoltzmannMachine(weights, np.zeros(2), np.zeros(2))


def test_visible_accepts_a_zero_one_sequence_and_from_networkx_passes_options_through():
    import networkx as nx

    weights = np.array([[0.0, 1.0], [1.0, 0.0]])
    machine = BoltzmannMachine(weights, [0.0, 0.0], visible=[1, 0])
    assert machine.names == ("v0", "h0") and machine.visible.dtype == np.bool_
    assert machine.visible.tolist() == [True, False]
    graph = nx.path_graph(3)  # integer labels, no weights
    built = BoltzmannMachine.from_networkx(graph, default_weight=0.5, sparse=True)
    assert built.is_sparse and built.names == ("0", "1", "2")
    assert built.weights.toarray()[0, 1] == 0.5


def test_unknown_unit_names_are_a_named_error_that_is_also_a_key_error():
    from pgm_energy import UnknownUnitError, exact
    from pgm_energy.exceptions import EvidenceError

    machine = BoltzmannMachine(np.zeros((2, 2)), [0.0, 0.0])
    with pytest.raises(UnknownUnitError, match="name 'x' is not a unit") as caught:
        machine.index("x")
    assert isinstance(caught.value, KeyError) and isinstance(caught.value, ValueError)
    # an unhashable entry among queried variables: named, not TypeError('unhashable')
    with pytest.raises(EvidenceError, match="variables names array"):
        exact.query(machine, [np.array([1.0])])


def test_sparse_query_variables_are_refused_before_scipy_iterates_them():
    from pgm_energy import RestrictedBoltzmannMachine, exact
    from pgm_energy.exceptions import ParameterTypeError

    malformed = sp.csr_array((np.array([1.0, 1.0]), np.array([1, 0]), np.array([0, 7, 2, 2])), shape=(3, 3))
    with pytest.raises(ParameterTypeError, match="variables must be a list"):
        exact.query(RestrictedBoltzmannMachine.random(3, 2, rng=0), malformed)
