"""Checks of the Gaussian-Bernoulli RBM: standard deviations, real-valued visible states, magnitudes."""

from __future__ import annotations

import numpy as np

from .._validation import MAX_ENERGY_SCALE, check_finite_array, describe
from ..exceptions import StateError, ValidationError

__all__ = ["check_sigma", "energy_bound", "check_real_states", "refuse_overflow"]


def check_sigma(values, length: int, weights_shape) -> np.ndarray:
    """The standard deviations: a finite float64 vector of ``length`` entries, every one > 0.

    Zero, negative, NaN and infinite entries are refused (a ValidationError naming ``sigma``
    and echoing the value); a wrong length names the weights too, as ``check_bias`` does.
    """
    sigma = check_finite_array(values, "sigma", ndim=1)
    if sigma.shape[0] != length:
        raise ValidationError(
            f"weights of shape {tuple(weights_shape)} needs sigma of length {length}, got sigma of shape {sigma.shape}"
        )
    bad = np.flatnonzero(~(sigma > 0.0))
    if bad.size:
        raise ValidationError(
            f"sigma must hold standard deviations > 0, got {float(sigma[bad[0]])!r} at index {int(bad[0])}"
        )
    return sigma


def energy_bound(weights, visible_bias, hidden_bias, sigma) -> float:
    """``sum_j |c_j| + sum_i (1 + |b_i| + sum_j |W_ij|)^2 / (2 sigma_i^2)``, refused beyond ``MAX_ENERGY_SCALE``.

    It bounds ``|E(v, h)|`` for every hidden state and every visible state within one unit of
    the visible biases, and ``T`` times the log-weight ``phi(h)`` of every hidden state that the
    exact enumeration sums; so neither overflows float64, nor do their squares, and ``1 / sigma^2``
    stays finite (the energy of a unit deviation ``v_i - b_i = 1`` is ``1 / (2 sigma_i^2)``).

    Parameters
    ----------
    weights : ndarray, shape (n_visible, n_hidden)
    visible_bias, sigma : ndarray, shape (n_visible,)
    hidden_bias : ndarray, shape (n_hidden,)

    Returns
    -------
    float

    Raises
    ------
    ValidationError
        Naming ``sigma`` (the smallest standard deviation of the worst visible unit), when the
        bound exceeds ``MAX_ENERGY_SCALE``.
    """
    with np.errstate(over="ignore"):
        reach = (1.0 + np.abs(visible_bias) + np.abs(weights).sum(axis=1)) / sigma
        per_unit = 0.5 * reach * reach
        total = float(np.abs(hidden_bias).sum() + per_unit.sum())
    if total <= MAX_ENERGY_SCALE:
        return total
    worst = int(np.argmax(per_unit))
    raise ValidationError(
        f"sigma is too small for the other parameters: sigma[{worst}] = {float(sigma[worst])!r} gives energies of "
        f"up to {total:.3g} (the bound sum_j |c_j| + sum_i (1 + |b_i| + sum_j |W_ij|)^2 / (2 sigma_i^2)), beyond "
        f"{MAX_ENERGY_SCALE:.0e}, so energies and log-weights could overflow float64; use larger standard deviations "
        "or smaller weights and biases"
    )


def check_real_states(values, n_units: int, name: str) -> tuple[np.ndarray, bool]:
    """Real-valued visible states: finite numbers, shape (n_units,) or (n_states, n_units).

    Booleans and integers are accepted as the numbers they are; text, objects and complex
    numbers are refused (NumPy would parse ``"1.5"`` or drop an imaginary part silently).

    Returns
    -------
    batch : float64 ndarray, shape (n_states, n_units)
    single : bool
        True when one state (a 1-d array) was given.

    Raises
    ------
    StateError
        Naming ``name``, for a wrong dtype or shape or a non-finite entry.
    """
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as error:  # ragged nesting
        raise StateError(f"{name} must be an array of real numbers, got {describe(values)}") from error
    if array.dtype.kind not in "biuf":
        raise StateError(f"{name} must be an array of real numbers, got dtype {array.dtype}: {describe(values)}")
    if array.ndim not in (1, 2) or array.shape[-1] != n_units:
        raise StateError(f"{name} must have shape ({n_units},) or (n_states, {n_units}), got {array.shape}")
    values = array.astype(np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        bad = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise StateError(f"{name} must hold finite real numbers, got {float(values[bad])!r} at index {bad}")
    return np.atleast_2d(values), array.ndim == 1


def refuse_overflow(values: np.ndarray, name: str) -> np.ndarray:
    """``values`` (shape (n_states,) or (n_states, k)) when all are finite; a StateError naming ``name`` otherwise.

    Only visible values far beyond the model's scale (say 1e200 with sigma = 1) overflow an
    energy, a free energy or a hidden unit's input; the caller computes under
    ``np.errstate(over="ignore", invalid="ignore")`` and hands the result here.
    """
    finite = np.isfinite(values)
    bad = np.flatnonzero(~(finite if finite.ndim == 1 else finite.all(axis=1)))
    if bad.size:
        raise StateError(
            f"{name}[{int(bad[0])}] is too far from the model's visible means: its energy overflows float64"
        )
    return values
