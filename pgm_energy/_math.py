"""Small numerically stable elementwise functions in plain NumPy.

Kept here (rather than importing scipy.special) so that ``import pgm_energy`` stays light.
"""

import numpy as np

__all__ = ["sigmoid", "softplus", "is_sparse"]


def sigmoid(x) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow: exp is only taken of ``-|x|``."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(x) -> np.ndarray:
    """``log(1 + exp(x))``, stable for any finite x."""
    return np.logaddexp(0.0, x)


def is_sparse(value) -> bool:
    """True for a scipy.sparse matrix or array, without importing scipy.sparse."""
    return type(value).__module__.startswith("scipy.sparse")
