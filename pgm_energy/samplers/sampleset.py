"""SampleSet: the states drawn by a sampler, their energies, and MCMC diagnostics."""

from __future__ import annotations

import numbers
import time
from collections.abc import Callable, Mapping

import numpy as np

from .._math import by_unit
from .._validation import check_finite_array, check_int, check_names, describe
from ..exceptions import ParameterTypeError, ValidationError

__all__ = ["SampleSet"]


def _autocovariance(series: np.ndarray) -> np.ndarray:
    """Autocovariance of each row along the last axis, by FFT (biased estimator, lag 0..n-1).

    Parameters
    ----------
    series : ndarray, shape (..., n)

    Returns
    -------
    ndarray, shape (..., n)
    """
    n = series.shape[-1]
    centred = series - series.mean(axis=-1, keepdims=True)
    size = 1 << (2 * n - 1).bit_length()
    spectrum = np.fft.rfft(centred, n=size, axis=-1)
    return np.fft.irfft(spectrum * np.conj(spectrum), n=size, axis=-1)[..., :n] / n


def _array(values, name: str) -> np.ndarray:
    try:
        return np.asarray(values)
    except (TypeError, ValueError) as error:  # ragged nesting
        raise ValidationError(f"{name} must be an array of 0 and 1, got {describe(values)}") from error


class SampleSet:
    """States drawn by a sampler, with their energies and diagnostics.

    Parameters
    ----------
    states : array_like of 0/1, shape (n_chains, n_draws, n_units)
        Stored as uint8.
    energies : array_like, shape (n_chains, n_draws)
        Energy of each state under the sampled model (temperature-independent).
    names : sequence of str, length n_units
    temperature : float
        Temperature the draws target (the final one for annealing).
    info : mapping, optional
        Sampler details. The samplers of this package all give ``sampler``, ``scan``,
        ``sweeps``, ``n_threads``, ``unit_updates``, ``unit_updates_per_second`` and
        ``seconds`` (``setup``, ``sampling``, ``energies``), plus their own (acceptance or
        swap rates, schedule, ...).

    Notes
    -----
    The samplers of this package compute ``energies`` when they are first asked for
    (``energies``, :meth:`lowest`, pickling or copying), not when the draws are made: a run
    that only needs its states does not pay for them. The values are the same either way
    (``model.energy`` of each state) and are kept after the first access;
    ``info["seconds"]["energies"]`` is 0.0 until then, and the time they took afterwards.

    Diagnostics treat each unit as a scalar chain: ``effective_sample_size`` and
    ``split_r_hat`` follow Gelman et al., *Bayesian Data Analysis* (3rd ed., 2013,
    sec. 11.4-11.5), with Geyer's initial monotone sequence truncating the
    autocorrelation sum. A unit constant over all draws has no defined ESS or R-hat (NaN).
    """

    def __init__(self, states, energies, names, *, temperature, info: Mapping | None = None):
        states = np.asarray(states) if isinstance(states, np.ndarray) else _array(states, "states")
        if states.ndim != 3:
            raise ValidationError(f"states must have shape (n_chains, n_draws, n_units), got {states.shape}")
        if states.dtype.kind not in "biu":
            raise ValidationError(f"states must be an integer or boolean array of 0 and 1, got dtype {states.dtype}")
        # For unsigned integers one max() suffices (no boolean temporaries the size of the states).
        if np.issubdtype(states.dtype, np.unsignedinteger) or states.dtype == np.bool_:
            binary = states.size == 0 or states.max() <= 1
        else:
            binary = bool(np.all((states == 0) | (states == 1)))
        if not binary:
            raise ValidationError("states must contain only 0 and 1")
        energies = check_finite_array(energies, "energies")
        if energies.shape != states.shape[:2]:
            raise ValidationError(f"energies must have shape {states.shape[:2]}, got {energies.shape}")
        if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) or not 0.0 <= temperature < np.inf:
            raise ValidationError(f"temperature must be a finite real number >= 0, got {describe(temperature)}")
        if info is not None and not isinstance(info, Mapping):
            raise ParameterTypeError(f"info must be a dict or None, got {describe(info)}")
        self._states = states.astype(np.uint8, copy=False)
        self._states.flags.writeable = False
        self._energies = energies
        self._energies.flags.writeable = False
        self._names = check_names(names, states.shape[2])
        self._temperature = float(temperature)
        self.info = dict(info or {})
        self._pending_energies = None

    @classmethod
    def _with_lazy_energies(cls, states: np.ndarray, compute_energies: Callable[[], np.ndarray], names, *,
                            temperature: float, info: dict) -> SampleSet:
        """A SampleSet whose energies are ``compute_energies()``, called on their first access.

        For the samplers' pipeline, which has checked everything the public constructor checks:
        ``states`` is a uint8 array of 0/1 of shape (n_chains, n_draws, n_units) (made
        read-only here), ``names`` has n_units entries, ``compute_energies`` returns a finite
        float64 array of shape (n_chains, n_draws), and ``info["seconds"]`` is a dict (its
        ``"energies"`` entry is set to 0.0 now, and to the seconds the computation took then).
        """
        self = cls.__new__(cls)
        self._states = states
        self._states.flags.writeable = False
        self._energies = None
        self._pending_energies = compute_energies
        self._names = tuple(names)
        self._temperature = float(temperature)
        self.info = dict(info)
        self.info["seconds"]["energies"] = 0.0
        return self

    def __getstate__(self) -> dict:
        # A pickle or copy holds the energies themselves, never the callable (nor the model it refers to).
        self.energies  # noqa: B018 - computes pending energies
        return self.__dict__.copy()

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_pending_energies", None)  # pickles made before energies were lazy
        for array in (self._states, self._energies):  # pickle does not keep the flag
            array.flags.writeable = False

    # ------------------------------------------------------------------ contents
    @property
    def states(self) -> np.ndarray:
        """uint8 states, shape (n_chains, n_draws, n_units), read-only."""
        return self._states

    @property
    def energies(self) -> np.ndarray:
        """Energies, shape (n_chains, n_draws), read-only (computed on the first access, see Notes)."""
        if self._pending_energies is not None:
            started = time.perf_counter()
            energies = self._pending_energies()
            energies.flags.writeable = False
            self._energies, self._pending_energies = energies, None
            seconds = self.info.get("seconds")
            if isinstance(seconds, dict):
                seconds["energies"] = time.perf_counter() - started
        return self._energies

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    @property
    def temperature(self) -> float:
        return self._temperature

    @property
    def n_chains(self) -> int:
        return self._states.shape[0]

    @property
    def n_draws(self) -> int:
        return self._states.shape[1]

    @property
    def n_units(self) -> int:
        return self._states.shape[2]

    def __len__(self) -> int:
        return self.n_chains * self.n_draws

    def __repr__(self) -> str:
        return (
            f"SampleSet(n_chains={self.n_chains}, n_draws={self.n_draws}, n_units={self.n_units}, "
            f"temperature={self._temperature:g})"
        )

    def flat_states(self) -> np.ndarray:
        """All draws chain after chain, shape (n_chains * n_draws, n_units)."""
        return self._states.reshape(-1, self.n_units)

    def to_pandas(self):
        """The draws as a pandas DataFrame in pgmpy's layout: one int64 column per variable name.

        Rows run chain after chain.
        """
        import pandas as pd

        return pd.DataFrame(self.flat_states().astype(np.int64), columns=list(self._names))

    # ------------------------------------------------------------------ estimates
    def marginals(self):
        """Monte Carlo estimate of ``p(s_i = 1)`` for every unit, labelled by unit name.

        Returns
        -------
        pandas.Series, shape (n_units,)
            Indexed by ``names`` (index name ``"unit"``), named ``"p(on)"``, as
            :func:`pgm_energy.exact.marginals`: ``samples.marginals() - exact.marginals(model)``
            is the error of each unit. ``.to_numpy()`` gives the plain array.
        """
        return by_unit(self._marginal_array(), self._names, "p(on)")

    def marginal_standard_errors(self):
        """Monte Carlo standard error of each marginal, ``sqrt(p (1 - p) / ESS)``, labelled by unit name.

        Returns
        -------
        pandas.Series, shape (n_units,)
            Indexed as :meth:`marginals`, named ``"standard error"``; 0 for a unit that never
            changed (its ESS is undefined).
        """
        return by_unit(self._standard_error_array(), self._names, "standard error")

    def _marginal_array(self) -> np.ndarray:
        """:meth:`marginals` as a plain array in the order of ``names``, shape (n_units,)."""
        return self._states.mean(axis=(0, 1), dtype=np.float64)

    def _standard_error_array(self) -> np.ndarray:
        """:meth:`marginal_standard_errors` as a plain array, shape (n_units,)."""
        p = self._marginal_array()
        ess = self.effective_sample_size()
        with np.errstate(invalid="ignore", divide="ignore"):
            errors = np.sqrt(p * (1.0 - p) / ess)
        return np.where(np.isnan(ess), 0.0, errors)

    def lowest(self, n: int = 1):
        """The ``n`` distinct states of lowest energy among the draws.

        Returns
        -------
        states : ndarray of uint8, shape (k, n_units), k <= n
        energies : ndarray, shape (k,), ascending
        """
        n = check_int(n, "n", minimum=1)
        flat = self.flat_states()
        energies = self.energies.ravel()
        unique, first = np.unique(flat, axis=0, return_index=True)
        order = np.argsort(energies[first], kind="stable")[:n]
        return unique[order], energies[first][order]

    # ------------------------------------------------------------------ diagnostics
    def _series(self) -> np.ndarray:
        """Per-chain scalar series of every unit, shape (n_chains, n_units, n_draws)."""
        return np.moveaxis(self._states, 2, 1).astype(np.float64)

    def autocorrelation(self, max_lag: int | None = None) -> np.ndarray:
        """Autocorrelation of each unit's chain, averaged over chains.

        Returns
        -------
        ndarray, shape (n_units, max_lag + 1)
            Lag 0 is 1; a constant unit gives NaN.
        """
        max_lag = self.n_draws - 1 if max_lag is None else check_int(max_lag, "max_lag", minimum=0)
        if max_lag >= self.n_draws:
            raise ValidationError(f"max_lag must be < n_draws = {self.n_draws}, got {max_lag}")
        covariance = _autocovariance(self._series()).mean(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            return covariance[:, : max_lag + 1] / covariance[:, :1]

    def effective_sample_size(self) -> np.ndarray:
        """Effective sample size of each unit over all chains, shape (n_units,).

        Requires at least 4 draws per chain.
        """
        if self.n_draws < 4:
            raise ValidationError(f"effective_sample_size needs >= 4 draws per chain, got {self.n_draws}")
        series = self._series()
        n_chains, _, n_draws = series.shape
        autocovariance = _autocovariance(series)  # (chains, units, draws)
        chain_means = series.mean(axis=2)
        within = autocovariance[:, :, 0].mean(axis=0) * n_draws / (n_draws - 1.0)
        between_over_n = chain_means.var(axis=0, ddof=1) if n_chains > 1 else np.zeros(series.shape[1])
        variance_plus = within * (n_draws - 1.0) / n_draws + between_over_n
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = 1.0 - (within[:, None] - autocovariance.mean(axis=0)) / variance_plus[:, None]
        rho[:, 0] = 1.0
        ess = np.empty(series.shape[1])
        for unit in range(series.shape[1]):
            if not variance_plus[unit] > 0:
                ess[unit] = np.nan
                continue
            ess[unit] = n_chains * n_draws / self._integrated_time(rho[unit])
        return ess

    @staticmethod
    def _integrated_time(rho: np.ndarray) -> float:
        """1 + 2 sum of autocorrelations, truncated by Geyer's initial monotone sequence."""
        n = rho.shape[0]
        pairs = rho[: n - n % 2].reshape(-1, 2).sum(axis=1)  # Gamma_k = rho_2k + rho_2k+1
        total, previous = 0.0, np.inf
        for value in pairs:
            if not value > 0:
                break
            value = min(value, previous)  # enforce a monotone sequence
            total += value
            previous = value
        return max(2.0 * total - 1.0, 1.0 / np.log10(max(n, 10)))

    def split_r_hat(self) -> np.ndarray:
        """Split R-hat of each unit (chains cut in halves), shape (n_units,); ~1 at convergence.

        Requires at least 4 draws per chain. Half-chains that are each constant give
        ``inf`` when they disagree and ``NaN`` when they all agree.
        """
        if self.n_draws < 4:
            raise ValidationError(f"split_r_hat needs >= 4 draws per chain, got {self.n_draws}")
        half = self.n_draws // 2
        series = self._series()
        halves = np.concatenate([series[:, :, :half], series[:, :, -half:]], axis=0)  # (2m, units, half)
        chain_means = halves.mean(axis=2)
        within = halves.var(axis=2, ddof=1).mean(axis=0)
        between_over_n = chain_means.var(axis=0, ddof=1)
        variance_plus = within * (half - 1.0) / half + between_over_n
        with np.errstate(invalid="ignore", divide="ignore"):
            r_hat = np.sqrt(variance_plus / within)
        # Every half-chain constant: identical halves carry no information (NaN);
        # halves stuck at different values are the worst non-convergence (inf).
        stuck = np.where(between_over_n > 0, np.inf, np.nan)
        return np.where(within > 0, r_hat, stuck)
