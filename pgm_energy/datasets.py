"""Small binary data sets for examples and tests (no download needed)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import check_finite_array

__all__ = ["Digits", "load_digits"]


class Digits(NamedTuple):
    """The 8×8 handwritten digits of scikit-learn.

    Attributes
    ----------
    data : ndarray, shape (1797, 64)
        uint8 0/1 pixels when binarized, else float64 intensities 0..16; row-major 8×8 images.
    target : ndarray of int, shape (1797,)
        The digit each image shows.
    """

    data: np.ndarray
    target: np.ndarray


def load_digits(*, binarize: bool = True, threshold: float = 8.0) -> Digits:
    """Load scikit-learn's embedded 8×8 digits (1797 images), optionally as binary pixels.

    Parameters
    ----------
    binarize : bool, default True
        Turn each pixel into 1 if its intensity (0..16) is at least ``threshold``, else 0.
    threshold : float, default 8.0
        Intensity at and above which a pixel is on.

    Returns
    -------
    Digits
        ``(data, target)``; ``data`` has shape (1797, 64).

    Examples
    --------
    >>> from pgm_energy.datasets import load_digits
    >>> digits = load_digits()
    >>> digits.data.shape, digits.data.dtype.name
    ((1797, 64), 'uint8')
    """
    from sklearn.datasets import load_digits as sklearn_load_digits

    threshold = float(check_finite_array(threshold, "threshold", ndim=0))
    bunch = sklearn_load_digits()
    images = np.asarray(bunch.data, dtype=np.float64)
    data = (images >= threshold).astype(np.uint8) if binarize else images
    return Digits(data, np.asarray(bunch.target))
