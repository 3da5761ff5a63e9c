r"""Exact maximum likelihood for Gaussian-Bernoulli RBMs with a small hidden layer.

:class:`GaussianExactGradient` is :class:`~pgm_energy.learning.ExactGradient` for a
:class:`~pgm_energy.models.gaussian_rbm.GaussianBernoulliRBM`: every update follows the true
gradient of the mean log-likelihood in ``(W, b, c, log sigma)``
(:func:`gaussian_log_likelihood_gradient`; its derivation is in
:mod:`pgm_energy.learning._gaussian_likelihood`), by full-batch L-BFGS (default) or by gradient
ascent with momentum. The hidden layer is enumerated, the visible one integrated in closed form:
``2**n_hidden`` hidden states, so up to about 20 hidden units (0.03 s per gradient for 64 visible
and 20 hidden units on one core, about 0.1 s with 1,437 rows of data).

Why it exists. Contrastive divergence follows a biased estimate of this gradient; this trainer
follows the gradient itself, so it measures how far CD stops from the likelihood's optimum, and
it trains models CD trains poorly. On the 8x8 digits (``benchmarks/bench_gaussian_digits.py``,
20 hidden units) it lifts CD-5's models by 0.3-0.4 nats only: they sit near a local optimum,
below factor analysis. On ZCA-whitened digits (:class:`~pgm_energy.learning.whitening.Whitening`),
where CD barely moves from its start, it reaches 51.7 nats per test image, above factor analysis
(49.2); the table is in docs/training.md.

The constraint. The likelihood of a Gaussian with a learned variance is unbounded (a
standard deviation that shrinks onto a constant column gains without bound), so ``sigma`` is
kept at least ``min_sigma``: L-BFGS's line search projects each trial point onto the floor (a
``sigma`` at the floor that the direction pushes lower stays there while the other parameters
move; the sufficient-decrease test uses the step actually taken), momentum steps are projected
the same way (with the velocity components pushing below the floor zeroed), and a starting
``sigma`` below the floor is raised to it. A column held at the floor (a constant one) makes the
problem ill-conditioned (a precision of ``1 / min_sigma**2`` beside ones near 1): training still
climbs, slowly; leave constant columns out (``pgm_energy.sklearn.GaussianBernoulliRBM`` does).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._validation import DEFAULT_MAX_UNITS, describe
from ..exceptions import ModelSizeError, ParameterTypeError, StateError, ValidationError
from ..models.gaussian_rbm import GaussianBernoulliRBM
from ._gaussian_likelihood import GaussianLikelihoodGradient, likelihood_gradient
from ._trainer import check_nonnegative_float
from .exact_gradient import ExactGradient
from ._real_data import check_real_data
from .gaussian_cd import LARGEST_MIN_SIGMA, SMALLEST_MIN_SIGMA, initial_gaussian_rbm

__all__ = ["GaussianExactGradient", "GaussianLikelihoodGradient", "gaussian_log_likelihood_gradient"]

# log sigma beyond this makes sigma = exp(log sigma) overflow float64: outside the constraint, or divergence
_LOG_SIGMA_LIMIT = 700.0


def _check_hidden(n_hidden: int, max_units: int) -> None:
    if n_hidden > max_units:
        raise ModelSizeError(
            f"the exact gradient enumerates the hidden layer: {n_hidden} hidden units (2**{n_hidden} states) is more "
            f"than max_units={max_units}; use GaussianBernoulliCD, or pass a larger max_units"
        )


def gaussian_log_likelihood_gradient(model: GaussianBernoulliRBM, data, *, max_units=DEFAULT_MAX_UNITS):
    """Exact gradient of the mean log-likelihood of ``data`` in ``(W, b, c, log sigma)``.

    Parameters
    ----------
    model : GaussianBernoulliRBM
        At temperature 1.
    data : array_like of finite real numbers, shape (n_samples >= 1, n_visible)
    max_units : int, default 30
        Most hidden units enumerated (``2**max_units`` hidden states).

    Returns
    -------
    GaussianLikelihoodGradient
        ``(weights, visible_bias, hidden_bias, log_sigma, log_likelihood, log_z)``: the gradient
        (ascent direction) with the shapes of the parameters, the mean log density in nats and
        ``log Z``.

    Raises
    ------
    ModelSizeError
        More than ``max_units`` hidden units.
    """
    from .._validation import check_int
    from ..models._gaussian_parts import check_real_states

    if not isinstance(model, GaussianBernoulliRBM):
        raise ParameterTypeError(f"model must be a GaussianBernoulliRBM, got {describe(model)}")
    max_units = check_int(max_units, "max_units", minimum=1)
    _check_hidden(model.n_hidden, max_units)
    if model.temperature != 1.0:
        raise ValidationError(f"the gradient is taken at temperature 1, got a model at temperature {model.temperature!r}")
    rows, single = check_real_states(data, model.n_visible, "data")
    if single or rows.shape[0] == 0:
        raise ValidationError(f"data must have shape (n_samples >= 1, {model.n_visible}), got {np.shape(data)}")
    with np.errstate(over="ignore", invalid="ignore"):  # refused below, by name, rather than warned about
        gradient = likelihood_gradient(np.array(model.weights), np.array(model.visible_bias),
                                       np.array(model.hidden_bias), np.log(model.sigma), rows)
    if not all(np.all(np.isfinite(part)) for part in gradient):
        raise StateError("data holds values so large that the log-likelihood or its gradient overflows float64")
    return gradient


class _GaussianState(NamedTuple):
    weights: np.ndarray  # (n_visible, n_hidden)
    visible_bias: np.ndarray  # (n_visible,)
    hidden_bias: np.ndarray  # (n_hidden,)
    log_sigma: np.ndarray  # (n_visible,)
    weights_velocity: np.ndarray
    visible_velocity: np.ndarray
    hidden_velocity: np.ndarray
    log_sigma_velocity: np.ndarray


class _GaussianLikelihood:
    """The Gaussian-Bernoulli RBM for :class:`ExactGradient` (the members are described on ``_RBMLikelihood``)."""

    model_type = GaussianBernoulliRBM
    state_type = _GaussianState

    def __init__(self, min_sigma: float):
        self.min_sigma = min_sigma
        self.floor = math.log(min_sigma)

    @staticmethod
    def shapes(n_visible: int, n_hidden: int) -> list[tuple[int, ...]]:
        return [(n_visible, n_hidden), (n_visible,), (n_hidden,), (n_visible,)]

    @staticmethod
    def hidden_count(n_parameters: int, n_visible: int) -> int:
        return (n_parameters - 2 * n_visible) // (n_visible + 1)

    @staticmethod
    def check_size(n_visible: int, n_hidden: int, max_units: int) -> None:
        _check_hidden(n_hidden, max_units)

    def initial_model(self, n_hidden, data, visible_names, rng):
        return initial_gaussian_rbm(n_hidden, data, visible_names, rng, min_sigma=self.min_sigma)

    def parameters(self, model) -> tuple[np.ndarray, ...]:
        log_sigma = np.maximum(np.log(model.sigma), self.floor)  # a starting sigma below the floor is raised
        return (np.array(model.weights), np.array(model.visible_bias), np.array(model.hidden_bias), log_sigma)

    @staticmethod
    def gradient(parameters, data) -> tuple[float, tuple[np.ndarray, ...]]:
        gradient = likelihood_gradient(*parameters, data)
        return gradient.log_likelihood, (gradient.weights, gradient.visible_bias, gradient.hidden_bias, gradient.log_sigma)

    @staticmethod
    def model(parameters, template):
        weights, visible_bias, hidden_bias, log_sigma = parameters
        return GaussianBernoulliRBM(weights, visible_bias, hidden_bias, np.exp(log_sigma),
                                    visible_names=template.visible_names, hidden_names=template.hidden_names)

    def feasible(self, parameters) -> bool:
        return bool(np.min(parameters[3]) >= self.floor and np.max(parameters[3]) < _LOG_SIGMA_LIMIT)

    def held(self, parameters, gradient):
        # gradient: of the minimised objective -J; descent moves log sigma by -gradient, below the floor when > 0
        log_sigma, slope = parameters[3], gradient[3]
        # within rounding of the floor (a sigma of exactly min_sigma may come back from exp/log an ulp above)
        at_floor = (log_sigma <= self.floor + 1e-12 * max(1.0, abs(self.floor))) & (slope > 0.0)
        if not at_floor.any():
            return None
        mask = [np.zeros(part.size, dtype=bool) for part in parameters]
        mask[3] = at_floor.ravel()
        return np.concatenate(mask)

    def project(self, parameters, velocities) -> None:
        log_sigma = parameters[3]
        below = log_sigma < self.floor
        if below.any():
            log_sigma[below] = self.floor
            if velocities is not None:
                velocities[3][below] = np.maximum(velocities[3][below], 0.0)


class GaussianExactGradient(ExactGradient):
    """Maximum likelihood for a Gaussian-Bernoulli RBM by its exact gradient (small hidden layers).

    The gradient, the reason for this trainer and the ``sigma`` floor are in the module
    docstring (:mod:`pgm_energy.learning.gaussian_exact`). Training runs in float64; the loop
    is :class:`~pgm_energy.learning._trainer.Trainer`'s (history, callbacks, checkpoints, exact
    resume, divergence guard, Ctrl-C). **Standardise the data** (``min_sigma`` is in its units).

    Parameters
    ----------
    method : {"lbfgs", "momentum"}, default "lbfgs"
        As :class:`~pgm_energy.learning.ExactGradient` (there, the default is ``"momentum"``):
        full-batch L-BFGS on ``J = mean log-likelihood - weight_decay/2 |W|^2``, one
        quasi-Newton iteration per epoch, or heavy-ball gradient ascent.
    learning_rate : float > 0, default 0.01
        Step of ``method="momentum"``.
    momentum : float in [0, 1], callable or sequence, default 0.9
        Of ``method="momentum"``.
    weight_decay : float >= 0, default 0.0
        L2 penalty on the weights.
    epochs : int >= 1, default 500
        L-BFGS iterations (or passes over the data with ``"momentum"``).
    batch_size : int >= 1 or None, default None
        Full batch (needed by ``"lbfgs"``); mini-batches with ``"momentum"``.
    memory : int, default 10
        L-BFGS correction pairs.
    max_units : int, default 30
        Most hidden units enumerated.
    min_sigma : float, default 1e-2
        Floor of the standard deviations, from 1e-10 to 1e10 (data units).
    monitor : "auto", None or sequence of names
        ``"log_likelihood"`` (exact, training subset and validation data) and
        ``"free_energy_gap"`` (needs validation data). ``"auto"``: both where they apply (the
        log-likelihood up to 20 hidden units).
    monitor_every, checkpoint_every, checkpoint_path
        See :class:`~pgm_energy.learning._trainer.Trainer`.

    Notes
    -----
    Each epoch records ``gradient_norm`` and ``log_likelihood_before`` (the exact mean
    log-likelihood of the training data at the start of the iteration), and with ``"lbfgs"``
    ``objective``, ``step_length`` and ``evaluations``, as :class:`ExactGradient`. A new model
    (``fit(n_hidden, data)``) starts as :class:`GaussianBernoulliCD`'s: the maximum-likelihood
    diagonal Gaussian with small random weights. Passing a CD-trained model continues from it.

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy.learning.gaussian_exact import GaussianExactGradient
    >>> data = np.random.default_rng(0).normal(size=(200, 4))
    >>> result = GaussianExactGradient(epochs=20).fit(3, data, rng=0, progress=False)
    >>> history = result.history.to_pandas()
    >>> bool(history["log_likelihood_before"].iloc[-1] > history["log_likelihood_before"].iloc[0])
    True
    """

    _model_types = (GaussianBernoulliRBM,)

    def __init__(
        self,
        *,
        method="lbfgs",
        learning_rate=0.01,
        momentum=0.9,
        weight_decay=0.0,
        epochs=500,
        batch_size=None,
        memory=10,
        max_units=DEFAULT_MAX_UNITS,
        min_sigma=1e-2,
        monitor="auto",
        monitor_every=None,
        checkpoint_every=None,
        checkpoint_path=None,
    ):
        super().__init__(method=method, learning_rate=learning_rate, momentum=momentum, weight_decay=weight_decay,
                         epochs=epochs, batch_size=batch_size, memory=memory, max_units=max_units, monitor=monitor,
                         monitor_every=monitor_every, checkpoint_every=checkpoint_every,
                         checkpoint_path=checkpoint_path, binarize=None)
        self.min_sigma = check_nonnegative_float(min_sigma, "min_sigma", strict=True)
        if not SMALLEST_MIN_SIGMA <= self.min_sigma <= LARGEST_MIN_SIGMA:
            raise ValidationError(
                f"min_sigma must be from {SMALLEST_MIN_SIGMA:g} to {LARGEST_MIN_SIGMA:g}, got {min_sigma!r}")
        self._likelihood = _GaussianLikelihood(self.min_sigma)

    def _settings(self) -> dict:
        return {**super()._settings(), "min_sigma": self.min_sigma}

    def _resume_settings(self) -> tuple[str, ...]:
        return (*super()._resume_settings(), "min_sigma")

    def _parameter_count(self, n_visible: int, n_hidden: int) -> int:
        return n_visible * n_hidden

    def _finite(self, state) -> bool:
        log_sigma = getattr(state, "log_sigma", None)  # L-BFGS never accepts a step beyond the limit
        return super()._finite(state) and (log_sigma is None or bool((log_sigma < _LOG_SIGMA_LIMIT).all()))

    def _check_data(self, data, visible_names, name: str = "data"):
        return check_real_data(data, visible_names, name, self.dtype)

    def _check_state_values(self, arrays, template, epoch, damaged) -> None:
        super()._check_state_values(arrays, template, epoch, damaged)
        if "log_sigma" in arrays and arrays["log_sigma"].size and arrays["log_sigma"].min() < self._likelihood.floor:
            raise damaged(f"'log_sigma' must be at least log(min_sigma) = {self._likelihood.floor:.6g}")
