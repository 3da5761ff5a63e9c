"""Small numerically stable elementwise functions in plain NumPy.

Kept here (rather than importing scipy.special) so that ``import pgm_energy`` stays light.
"""

import numpy as np

__all__ = ["sigmoid", "softplus", "log_sum_exp", "is_sparse", "by_unit"]


def sigmoid(x) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow: exp is only taken of ``-|x|``."""
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(x) -> np.ndarray:
    """``log(1 + exp(x))``, stable for any finite x."""
    return np.logaddexp(0.0, x)


def log_sum_exp(values: np.ndarray, axis=None):
    """``log(sum(exp(values)))`` along ``axis`` (all entries when None); an all ``-inf`` slice gives ``-inf``.

    Parameters
    ----------
    values : ndarray of float64
    axis : int, optional

    Returns
    -------
    float (``axis=None``) or ndarray, the shape of ``values`` without ``axis``
    """
    peak = np.max(values, axis=axis, keepdims=True)
    safe = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        result = safe + np.log(np.sum(np.exp(values - safe), axis=axis, keepdims=True))
    return float(result.ravel()[0]) if axis is None else np.squeeze(result, axis=axis)


def is_sparse(value) -> bool:
    """True for a scipy.sparse matrix or array, without importing scipy.sparse."""
    return type(value).__module__.startswith("scipy.sparse")


def by_unit(values, names, name: str):
    """``values`` (one per unit) as a pandas Series indexed by unit name (index name ``"unit"``), named ``name``.

    The one labelled form of per-unit answers (exact and sampled marginals, their errors), so
    that two of them subtract unit by unit. pandas is imported here, on first use.
    """
    import pandas as pd

    return pd.Series(np.asarray(values), index=pd.Index(list(names), name="unit"), name=name)
