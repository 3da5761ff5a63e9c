r"""ZCA whitening with its log-Jacobian: a real-valued model fitted to whitened data is a density on the original data.

A Gaussian-Bernoulli RBM has one standard deviation per visible unit: the Gaussian around each
of its ``2**n_hidden`` means is axis-aligned, so with few hidden units it models the linear
correlations of the data poorly (a full-covariance Gaussian alone beats it on the digits).
Whitening the data first (Krizhevsky 2009 trained Gaussian RBMs on ZCA-whitened images) gives
the model a full shared covariance for free: with a fixed invertible ``A``, ``y = A (x - m)``,

.. math::

    \log p_X(x) = \log p_Y(A (x - m)) + \log |\det A|,

so an exact ``log p_Y`` (:func:`pgm_energy.exact.log_likelihood`) stays an exact log density of
``x`` once :attr:`Whitening.log_det` is added. ZCA takes ``A = (C + \epsilon I)^{-1/2}`` (``C`` the
covariance of the training rows): the symmetric whitening, the one closest to the identity, so
the whitened units stay tied to the original pixels.
"""

from __future__ import annotations

import numpy as np

from .._validation import describe
from ..exceptions import ParameterTypeError, StateError, ValidationError
from ._trainer import check_nonnegative_float

__all__ = ["Whitening"]

#: largest magnitude accepted in the data: squares and sums of products stay far from overflow
MAX_MAGNITUDE = 1e100


class Whitening:
    """ZCA whitening fitted to training rows, with the log-Jacobian that makes densities comparable.

    Parameters
    ----------
    regularization : float >= 0, default 1e-3
        ``epsilon`` added to the covariance's eigenvalues (in the data's squared units: a
        floor on directions of (near) zero variance, which would otherwise be stretched
        without bound). 0 needs a covariance of full rank.

    Attributes
    ----------
    mean_ : ndarray, shape (n_features,)
    matrix_ : ndarray, shape (n_features, n_features)
        ``A``, symmetric: ``transform(x) = (x - mean_) @ matrix_``.
    log_det : float
        ``log |det A|``: add it to a log density of the whitened rows to get one of the original rows.

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy.learning.whitening import Whitening
    >>> x = np.random.default_rng(0).normal(size=(500, 3)) @ np.array([[2.0, 0, 0], [1, 1, 0], [0, 0, 0.5]])
    >>> white = Whitening().fit(x)
    >>> bool(np.allclose(np.cov(white.transform(x), rowvar=False, bias=True), np.eye(3), atol=1e-2))
    True
    >>> bool(np.allclose(white.inverse_transform(white.transform(x)), x))
    True
    """

    def __init__(self, regularization=1e-3):
        self.regularization = check_nonnegative_float(regularization, "regularization")

    def fit(self, data) -> "Whitening":
        """Fit the mean and ``A`` to ``data``, shape (n_samples >= 2, n_features >= 1), finite reals; returns self."""
        rows = self._check(data, "data")
        if rows.shape[0] < 2:
            raise ValidationError(f"data must hold at least 2 rows to estimate a covariance, got shape {rows.shape}")
        mean = rows.mean(axis=0)
        centred = rows - mean
        covariance = centred.T @ centred / rows.shape[0]
        values, vectors = np.linalg.eigh(covariance)
        values = np.maximum(values, 0.0) + self.regularization  # rounding can leave -1e-17
        if not values.min() > 0.0:
            raise ValidationError(
                "the data's covariance is singular (a constant column, or columns that are combinations of others); "
                f"pass regularization > 0, got regularization={self.regularization!r}"
            )
        self.mean_ = mean
        self.matrix_ = (vectors * values**-0.5) @ vectors.T
        self.log_det = float(-0.5 * np.sum(np.log(values)))
        return self

    def transform(self, data) -> np.ndarray:
        """``(data - mean_) @ matrix_``: shape (n_samples, n_features), float64."""
        rows = self._check(data, "data", fitted=True)
        return (rows - self.mean_) @ self.matrix_

    def inverse_transform(self, data) -> np.ndarray:
        """The original rows of whitened ones: ``data @ inverse(matrix_) + mean_``."""
        rows = self._check(data, "data", fitted=True)
        return np.linalg.solve(self.matrix_, rows.T).T + self.mean_

    def _check(self, data, name: str, *, fitted: bool = False) -> np.ndarray:
        if fitted and not hasattr(self, "matrix_"):
            raise ValidationError("this Whitening is not fitted yet: call fit(data) first")
        if isinstance(data, (str, bytes)) or data is None:
            raise ParameterTypeError(f"{name} must be a 2-D array of real numbers, got {describe(data)}")
        try:
            rows = np.asarray(data)
        except (TypeError, ValueError) as error:
            raise StateError(f"{name} must be a 2-D array of real numbers, got {describe(data)}") from error
        if not (np.issubdtype(rows.dtype, np.number) or rows.dtype == np.bool_) or np.iscomplexobj(rows):
            raise StateError(f"{name} must hold real numbers, got dtype {rows.dtype}")
        if rows.ndim != 2 or rows.shape[1] == 0:
            raise StateError(f"{name} must be 2-D (n_samples, n_features >= 1), got shape {rows.shape}")
        rows = rows.astype(np.float64)
        if not np.isfinite(rows).all():
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(rows))[0])
            raise StateError(f"{name} must hold finite numbers, got {rows[bad]!r} at index {bad}")
        largest = float(np.max(np.abs(rows))) if rows.size else 0.0
        if largest > MAX_MAGNITUDE:
            raise StateError(f"{name} holds values up to {largest:.3g}, beyond {MAX_MAGNITUDE:g} (their covariance "
                             "would overflow); standardise the data")
        if fitted and rows.shape[1] != self.matrix_.shape[0]:
            raise ValidationError(f"{name} must have {self.matrix_.shape[0]} columns (as the fitted data), got shape {rows.shape}")
        return rows

    def __repr__(self) -> str:
        return f"Whitening(regularization={self.regularization!r})"
