"""Draws of categorical variables (Potts machines): state indices, marginals per state, diagnostics per variable."""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_names, describe
from ..exceptions import ValidationError
from ._pipeline import state_dtype
from .sampleset import SampleSet

__all__ = ["CategoricalSampleSet"]


class CategoricalSampleSet(SampleSet):
    """States of categorical variables drawn by a sampler, with their energies and diagnostics.

    ``states`` hold state indices (variable ``i`` in ``0 .. k_i - 1``) in the smallest unsigned
    integer type that fits; :meth:`to_pandas` gives the state names, as pgmpy's samplers do.
    :meth:`marginals` estimates ``p(s_i = a)`` for every variable and state. The diagnostics
    treat each (variable, state) indicator as a scalar chain and report, per variable, the
    smallest effective sample size and the largest split R-hat of its states' indicators.

    Parameters
    ----------
    states : array_like of int, shape (n_chains, n_draws, n_variables)
    energies : array_like, shape (n_chains, n_draws)
    names : sequence of str, length n_variables
    state_names : mapping
        ``{variable name: [state names]}``; fixes each variable's cardinality.
    temperature : float
    info : mapping, optional
    """

    def __init__(self, states, energies, names, *, state_names, temperature, info=None):
        try:
            array = np.asarray(states)
        except (TypeError, ValueError) as error:  # ragged nesting
            raise ValidationError(f"states must be an array of state indices, got {describe(states)}") from error
        if array.ndim != 3 or array.dtype.kind not in "iu":
            raise ValidationError(f"states must be integers of shape (n_chains, n_draws, n_variables), got {describe(states)}")
        names = check_names(names, array.shape[2])
        labels = self._check_state_names(state_names, names, array.shape[2])
        cards = np.array([len(labels[name]) for name in names])
        if array.size and (array.min() < 0 or np.any(array.max(axis=(0, 1)) >= cards)):
            raise ValidationError("states must hold state indices below each variable's number of states")
        indicator = (array > 0).astype(np.uint8)  # the base class checks the rest on a 0/1 stand-in
        super().__init__(indicator, energies, names, temperature=temperature, info=info)
        self._states = array.astype(state_dtype(cards), copy=True)
        self._states.flags.writeable = False
        self._state_labels = tuple(tuple(labels[name]) for name in names)

    @staticmethod
    def _check_state_names(state_names, names, n_variables) -> dict:
        if not isinstance(state_names, dict) or set(state_names) != set(names):
            raise ValidationError(
                f"state_names must map each of the {n_variables} variables to its states, got {describe(state_names)}"
            )
        labels = {}
        for name in names:
            states = state_names[name]
            if isinstance(states, (str, bytes)) or not isinstance(states, (list, tuple, np.ndarray)) or len(states) == 0:
                raise ValidationError(f"state_names[{name!r}] must be a non-empty list of state names, got {describe(states)}")
            labels[name] = list(states)
        return labels

    @classmethod
    def _with_lazy_energies(cls, states, compute_energies, names, *, temperature, info, state_labels=None):
        """As :meth:`SampleSet._with_lazy_energies`; ``state_labels``: each variable's state names, in the order of ``names``."""
        self = super()._with_lazy_energies(states, compute_energies, names, temperature=temperature, info=info)
        self._state_labels = state_labels
        return self

    @property
    def state_names(self) -> dict:
        """``{variable name: [state names]}``, a new dict."""
        return {name: list(states) for name, states in zip(self.names, self._state_labels)}

    @property
    def cardinalities(self) -> tuple[int, ...]:
        return tuple(len(states) for states in self._state_labels)

    def __repr__(self) -> str:
        return (f"CategoricalSampleSet(n_chains={self.n_chains}, n_draws={self.n_draws}, "
                f"n_variables={self.n_units}, temperature={self.temperature:g})")

    def to_pandas(self):
        """The draws as a DataFrame in pgmpy's layout: one column per variable holding its state names."""
        import pandas as pd

        flat = self.flat_states()
        return pd.DataFrame({
            name: np.array(self._state_labels[i], dtype=object)[flat[:, i]] for i, name in enumerate(self.names)
        })

    def _indicator_columns(self) -> list[tuple[str, object, int, int]]:
        return [(name, label, i, a) for i, name in enumerate(self.names)
                for a, label in enumerate(self._state_labels[i])]

    def _marginal_array(self) -> np.ndarray:
        """Frequency of every (variable, state), flat in variable then state order."""
        flat = self.flat_states()
        return np.concatenate([
            np.bincount(flat[:, i].astype(np.int64), minlength=k) / max(flat.shape[0], 1)
            for i, k in enumerate(self.cardinalities)
        ])

    def _index(self):
        import pandas as pd

        return pd.MultiIndex.from_tuples([(name, label) for name, label, _, _ in self._indicator_columns()],
                                         names=["variable", "state"])

    def marginals(self):
        """Monte Carlo estimate of ``p(s_i = a)``: a Series indexed by (variable, state), named ``"p"``.

        Indexed as :func:`pgm_energy.exact.marginals` of a Potts machine, so their difference is
        the error of each estimate.
        """
        import pandas as pd

        return pd.Series(self._marginal_array(), index=self._index(), name="p")

    def marginal_standard_errors(self):
        """``sqrt(p (1 - p) / ESS)`` of every (variable, state) indicator, indexed as :meth:`marginals`."""
        import pandas as pd

        p = self._marginal_array()
        ess = self._indicator_ess()
        with np.errstate(invalid="ignore", divide="ignore"):
            errors = np.sqrt(p * (1.0 - p) / ess)
        return pd.Series(np.where(np.isnan(ess), 0.0, errors), index=self._index(), name="standard error")

    def _series(self) -> np.ndarray:
        """Indicator series of every (variable, state), shape (n_chains, sum(k), n_draws)."""
        columns = self._indicator_columns()
        series = np.empty((self.n_chains, len(columns), self.n_draws))
        for t, (_, _, i, a) in enumerate(columns):
            series[:, t, :] = self._states[:, :, i] == a
        return series

    def _indicator_ess(self) -> np.ndarray:
        return super().effective_sample_size()

    def _per_variable(self, values: np.ndarray, reduce) -> np.ndarray:
        out = np.empty(self.n_units)
        start = 0
        for i, k in enumerate(self.cardinalities):
            part = values[start:start + k]
            defined = part[~np.isnan(part)]
            out[i] = reduce(defined) if defined.size else np.nan
            start += k
        return out

    def effective_sample_size(self) -> np.ndarray:
        """Per variable, the smallest ESS of its states' indicators, shape (n_variables,) (NaN: never changed)."""
        return self._per_variable(self._indicator_ess(), np.min)

    def split_r_hat(self) -> np.ndarray:
        """Per variable, the largest split R-hat of its states' indicators, shape (n_variables,)."""
        return self._per_variable(super().split_r_hat(), np.max)

    def autocorrelation(self, max_lag: int | None = None) -> np.ndarray:
        """Autocorrelation of each (variable, state) indicator, averaged over chains, shape (sum(k), max_lag + 1)."""
        if max_lag is not None:
            check_int(max_lag, "max_lag", minimum=0)
        return super().autocorrelation(max_lag)
