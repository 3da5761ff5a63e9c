"""Regression tests for the fuzzer findings of group B (learning, CLI, demo) of issue 11.

Every case is refused before any work (no training epoch runs): each test is fast.
"""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
import scipy.sparse as sp

import pgm_energy as pe
from pgm_energy import cli, demo
from pgm_energy.exceptions import ParameterTypeError, StateError, ValidationError
from pgm_energy.learning import BoltzmannLearning, ContrastiveDivergence, ExactGradient
from pgm_energy.learning._trainer import MAX_EPOCHS, MAX_GIBBS_STEPS

X = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0], [0, 0, 1]])
# a CSR matrix whose indptr points past its data: scipy's product with it reads out of bounds
DAMAGED = sp.csr_array((np.array([1.0, 1.0]), np.array([1, 0]), np.array([0, 7, 2, 2])), shape=(3, 3))
HUGE = 2**63  # does not fit int64


def _bm():
    return pe.RestrictedBoltzmannMachine.random(3, 2, rng=0).to_boltzmann_machine()


# ---------------------------------------------------------------- item 9: counts of the trainers
@pytest.mark.parametrize("epochs", [MAX_EPOCHS + 1, 10**12, HUGE])
@pytest.mark.parametrize("trainer", [ContrastiveDivergence, BoltzmannLearning, ExactGradient])
def test_epochs_beyond_the_maximum_are_refused(trainer, epochs):
    # were accepted: fit ran "forever" (2**63 epochs)
    with pytest.raises(ValidationError, match=rf"epochs must be an integer from 1 to {MAX_EPOCHS}, got {epochs}"):
        trainer(epochs=epochs)


def test_epochs_at_the_maximum_are_accepted():
    assert ContrastiveDivergence(epochs=MAX_EPOCHS).epochs == MAX_EPOCHS


@pytest.mark.parametrize("k", [MAX_GIBBS_STEPS + 1, HUGE, [1, HUGE]])
def test_cd_k_beyond_the_maximum_is_refused(k):
    # k=10**12 ran forever; k=2**63 overflowed the kernel's int64 and "diverged"
    with pytest.raises(ValidationError, match=r"k(\[1\])? must be an integer from 1 to 1048576"):
        ContrastiveDivergence(k=k)


def test_cd_k_from_a_callable_beyond_the_maximum_is_refused():
    trainer = ContrastiveDivergence(k=lambda epoch: HUGE, epochs=1, batch_size=2, monitor=())
    with pytest.raises(ValidationError, match=r"k\(1\) must be an integer from 1 to 1048576"):
        trainer.fit(2, X, rng=0, progress=False)


@pytest.mark.parametrize("n_chains", [10**12, HUGE])
def test_persistent_chains_beyond_memory_are_refused_naming_n_chains(n_chains):
    # were MemoryError / plain ValueError "Maximum allowed dimension exceeded"
    trainer = ContrastiveDivergence(persistent=True, n_chains=n_chains, epochs=1, batch_size=2, monitor=())
    with pytest.raises(ValidationError, match=rf"n_chains={n_chains}: .* more than 2147483648 chain entries"):
        trainer.fit(2, X, rng=0, progress=False)


def test_tempering_ladder_beyond_the_maximum_is_refused():
    # np.geomspace of 10**12 temperatures was a MemoryError
    with pytest.raises(ValidationError, match=r"tempering must be an int from 2 to 4096, got 1000000000000"):
        ContrastiveDivergence(persistent=True, tempering=10**12)


def test_boltzmann_learning_chains_beyond_memory_are_refused_naming_n_chains():
    trainer = BoltzmannLearning(n_chains=10**12, epochs=1, batch_size=2, monitor=())
    with pytest.raises(ValidationError, match=r"n_chains=1000000000000 and 4 clamped chains: "):
        trainer.fit(_bm(), X, rng=0, progress=False)


def test_lbfgs_memory_beyond_the_maximum_is_refused():
    # was a plain ValueError "Maximum allowed dimension exceeded" from np.zeros
    with pytest.raises(ValidationError, match=rf"memory must be an integer from 1 to 1024, got {HUGE}"):
        ExactGradient(method="lbfgs", memory=HUGE)


# ---------------------------------------------------------------- item 10: default trainer, small data
def test_default_trainer_batch_larger_than_data_says_how_to_fix_it():
    data = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0], [0, 0, 1], [1, 1, 1], [0, 0, 0]])
    with pytest.raises(ValidationError, match=r"batch_size=20 is larger than the data \(6 rows\).*"
                                              r"trainer=ContrastiveDivergence\(batch_size=6\)"):
        pe.DeepBeliefNetwork.fit_greedy(data, [2, 2], rng=0, progress=False)


# ---------------------------------------------------------------- item 19: independent_pixel_log_likelihood
@pytest.mark.parametrize(
    ("train", "test", "error", "message"),
    [
        (X, DAMAGED, StateError, r"test must be a dense 2-D array of 0/1 values \(use .toarray\(\)\)"),  # was SIGSEGV
        (sp.csr_array(X), X, StateError, r"train must be a dense 2-D array"),
        (None, X, StateError, r"train must be a 2-D array .* got None"),  # was AttributeError
        (np.float32("nan"), X, StateError, r"train must be a 2-D array .* got np.float32\(nan\)"),  # was IndexError
        (X, np.array([[0, np.nan, 1]]), StateError, r"test must contain only 0 and 1, got np.float64\(nan\)"),  # was NaN
        (X, X.astype(complex), StateError, r"test .* dtype complex128"),  # was a ComplexWarning
        (X, X[:, :2], StateError, r"test must have 3 columns \(as train\), got shape \(4, 2\)"),
        (X, X[:0], ValidationError, r"test must hold at least one image .* got shape \(0, 3\)"),
        (X * 2, X, StateError, r"train must contain only 0 and 1, got np.int64\(2\)"),
    ],
)
def test_independent_pixel_log_likelihood_refuses_bad_images(train, test, error, message):
    with pytest.raises(error, match=message):
        demo.independent_pixel_log_likelihood(train, test)


def test_independent_pixel_log_likelihood_value_is_unchanged():
    p = (X.sum(axis=0) + 1.0) / (X.shape[0] + 2.0)
    expected = np.mean((X * np.log(p) + (1 - X) * np.log1p(-p)).sum(axis=1))
    assert demo.independent_pixel_log_likelihood(X.astype(np.uint8), X.astype(bool)) == pytest.approx(expected, rel=1e-15)


# ---------------------------------------------------------------- item 20: run_demo's options, before any work
@pytest.mark.parametrize(
    ("option", "error", "message"),
    [
        (dict(out=b"x"), ParameterTypeError, r"out must be a text file-like object with a write method, got b'x'"),
        (dict(output_dir={1}), ParameterTypeError, r"output_dir must be a str or os.PathLike path, got \{1\}"),
        (dict(output_dir="a\x00b"), ValidationError, r"output_dir must not contain the NUL character"),
        (dict(n_hidden="junk"), ParameterTypeError, r"n_hidden must be an integer, got 'junk'"),
        (dict(n_hidden=31), ValidationError, r"n_hidden must be at most 30"),
        (dict(epochs=10**12), ValidationError, r"epochs must be an integer from 1 to 1000000000, got 1000000000000"),
        (dict(seed=-1), ValidationError, r"seed must be >= 0, got -1"),
        (dict(progress=np.array([1, 0])), ParameterTypeError, r"progress must be True or False"),
    ],
)
def test_run_demo_refuses_bad_options_before_any_work(tmp_path, option, error, message):
    options = dict(n_hidden=1, epochs=1, output_dir=tmp_path / "demo", progress=False, out=io.StringIO())
    options.update(option)
    with pytest.raises(error, match=message):
        demo.run_demo(**options)
    assert not (tmp_path / "demo").exists()  # refused before the folder is made


# ---------------------------------------------------------------- items 17, 18: the command line
@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--epochs", "1", "--hidden", "1", "--output-dir", "a\x00b", "--no-progress"],
         r"--output-dir must not contain the NUL character"),  # was exit 1, "embedded null byte"
        (["demo", "--epochs", "1000000000000"], r"--epochs: must be an integer from 1 to 1000000000"),
        (["train", "data.npy", "--hidden", "2", "-o", "model.npz", "--epochs", "1000000001"],
         r"--epochs: must be an integer from 1 to 1000000000"),
        (["train", "data.npy", "--hidden", "2", "-o", "model.npz", "-k", "1048577"],
         r"-k: must be an integer from 1 to 1048576"),
    ],
)
def test_cli_refuses_bad_demo_and_train_options_as_usage_errors(capsys, argv, message):
    assert cli.main(argv) == cli.EXIT_USAGE
    assert re.search(message, capsys.readouterr().err)


# ---------------------------------------------------------------- fuzz: learning.boltzmann.graph_from_edges
@pytest.mark.parametrize("n_units", [10**12, HUGE])
def test_graph_from_edges_refuses_n_units_beyond_int64_keys(n_units):
    # 10**12 blamed visible; 2**63 raised OverflowError computing the edge keys
    from pgm_energy.learning.boltzmann import graph_from_edges

    with pytest.raises(ValidationError, match=rf"n_units must be an integer from 1 to 2147483648, got {n_units}"):
        graph_from_edges(n_units, [0, 1], [1, 2], np.array([True, True, False]))
