"""Draws of real-valued and binary units together (Gaussian-Bernoulli RBMs): means, not probabilities."""

from __future__ import annotations

import numpy as np

from .._validation import check_names, describe
from ..exceptions import ValidationError
from .._math import by_unit
from .sampleset import SampleSet

__all__ = ["RealSampleSet"]


class RealSampleSet(SampleSet):
    """States with real-valued units drawn by a sampler, with their energies and diagnostics.

    ``states`` are float64 (a Gaussian-Bernoulli RBM's visible values, then its hidden 0/1).
    :meth:`marginals` estimates each unit's mean (for a binary unit, ``p(on)``);
    :meth:`marginal_standard_errors` is ``sd / sqrt(ESS)``; the diagnostics (ESS, split R-hat,
    autocorrelation) treat each unit as a scalar chain, as for binary units.

    Parameters
    ----------
    states : array_like of finite reals, shape (n_chains, n_draws, n_units)
    energies : array_like, shape (n_chains, n_draws)
    names : sequence of str, length n_units
    temperature : float
    info : mapping, optional
    """

    def __init__(self, states, energies, names, *, temperature, info=None):
        try:
            array = np.asarray(states)
        except (TypeError, ValueError) as error:  # ragged nesting
            raise ValidationError(f"states must be an array of real numbers, got {describe(states)}") from error
        if array.ndim != 3 or array.dtype.kind not in "iuf" or array.dtype == np.float16:
            raise ValidationError(f"states must be real numbers of shape (n_chains, n_draws, n_units), got {describe(states)}")
        array = array.astype(np.float64)
        if not np.isfinite(array).all():
            raise ValidationError("states must be finite")
        names = check_names(names, array.shape[2])
        super().__init__(np.zeros(array.shape, dtype=np.uint8), energies, names, temperature=temperature, info=info)
        self._states = array
        self._states.flags.writeable = False

    def __repr__(self) -> str:
        return (f"RealSampleSet(n_chains={self.n_chains}, n_draws={self.n_draws}, n_units={self.n_units}, "
                f"temperature={self.temperature:g})")

    def to_pandas(self):
        """The draws as a DataFrame: one float64 column per unit, rows chain after chain."""
        import pandas as pd

        return pd.DataFrame(self.flat_states(), columns=list(self.names))

    def marginals(self):
        """Monte Carlo estimate of each unit's mean (``p(on)`` for a binary unit), a Series named ``"mean"``."""
        return by_unit(self._marginal_array(), self.names, "mean")

    def _standard_error_array(self) -> np.ndarray:
        spread = self._states.reshape(-1, self.n_units).std(axis=0)
        ess = self.effective_sample_size()
        with np.errstate(invalid="ignore", divide="ignore"):
            errors = spread / np.sqrt(ess)
        return np.where(np.isnan(ess), 0.0, errors)

    def lowest(self, n: int = 1):
        """The ``n`` distinct states of lowest energy among the draws.

        Returns
        -------
        states : ndarray of float64, shape (k, n_units), k <= n
        energies : ndarray, shape (k,), ascending
        """
        return super().lowest(n)
