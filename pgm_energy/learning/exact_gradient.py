"""The true gradient of the mean log-likelihood of a small RBM, and a trainer that follows it.

For an RBM at temperature 1 and data ``v_1..v_m`` the mean log-likelihood
``L = (1/m) sum_k log p(v_k)`` has the gradient

.. math::

    \\partial L / \\partial W = \\langle v\\, \\sigma(c + W^\\top v)^\\top \\rangle_\\text{data}
        - \\langle v h^\\top \\rangle_\\text{model},\\quad
    \\partial L / \\partial b = \\langle v \\rangle_\\text{data} - \\langle v \\rangle_\\text{model},\\quad
    \\partial L / \\partial c = \\langle \\sigma(c + W^\\top v) \\rangle_\\text{data} - \\langle h \\rangle_\\text{model}.

The model expectations are exact: the smaller layer ``x`` is enumerated (at most
``max_units`` units) and the other layer ``y`` is summed in closed form, so with
``a(x) = bias_y + C^T x`` (``C`` the couplings from x to y)

    p(x) = softmax_x [ bias_x . x + sum_j softplus(a_j(x)) ],   E[y | x] = sigmoid(a(x)),
    <x> = sum_x p(x) x,   <y> = sum_x p(x) sigmoid(a(x)),   <x y^T> = sum_x p(x) x sigmoid(a(x))^T.

States are enumerated in Gray-code order by a Numba kernel with a running maximum of the
log-weights (log space: no overflow for weights of +-50). The cost is about
``2**n_small * n_large`` exponentials and ``2**n_small * n_small * n_large / 2`` additions
per gradient.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validation import check_int, describe
from ..exceptions import ModelSizeError, ParameterTypeError, ValidationError
from ..models import RestrictedBoltzmannMachine
from ._trainer import Trainer, check_nonnegative_float
from .contrastive_divergence import _check_momentum, _Schedule, initial_rbm

__all__ = ["ExactGradient", "LikelihoodGradient", "log_likelihood_gradient", "DEFAULT_MAX_UNITS"]

#: largest smaller layer the exact gradient enumerates by default (2**20 states)
DEFAULT_MAX_UNITS = 20
# Blocks of states for the kernel (2**8 share out over any number of cores).
_PREFIX_BITS = 8
# Below this many unit updates the serial kernel runs (a thread pool costs more).
_PARALLEL_WORK = 2.0**18


class LikelihoodGradient(NamedTuple):
    """The exact gradient of the mean log-likelihood, and the value itself."""

    weights: np.ndarray  # (n_visible, n_hidden)
    visible_bias: np.ndarray  # (n_visible,)
    hidden_bias: np.ndarray  # (n_hidden,)
    log_likelihood: float  # mean log p(v) in nats at the parameters the gradient was taken at
    log_z: float


def _softplus_and_sigmoid(activation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``softplus(a)`` and ``sigmoid(a)`` from one exponential of ``-|a|``."""
    e = np.exp(-np.abs(activation))
    softplus = np.maximum(activation, 0.0) + np.log1p(e)
    inverse = 1.0 / (1.0 + e)
    sigmoid = np.where(activation >= 0.0, inverse, e * inverse)
    return softplus, sigmoid


def _model_moments(coupling, bias_x, bias_y):
    """Exact ``<x>, <y>, <x y^T>`` and ``log Z`` for ``E(x, y) = -x^T C y - bias_x^T x - bias_y^T y``.

    ``x`` (``n_x = coupling.shape[0]`` units) is enumerated by the Numba kernel of
    :mod:`pgm_energy._kernels.exact_gradient`; ``y`` is summed in closed form.
    """
    from .._kernels.exact_gradient import bipartite_moment_blocks, bipartite_moment_blocks_serial

    n_x, n_y = coupling.shape
    kernel = bipartite_moment_blocks if (2.0**n_x) * n_y > _PARALLEL_WORK else bipartite_moment_blocks_serial
    top, total, sum_x, sum_y, sum_xy = kernel(
        np.ascontiguousarray(coupling, dtype=np.float64),
        np.ascontiguousarray(bias_x, dtype=np.float64),
        np.ascontiguousarray(bias_y, dtype=np.float64),
        min(n_x, _PREFIX_BITS),
    )
    # Combine the blocks in a fixed order against the largest maximum.
    share = np.exp(top - top.max())
    z = float(share @ total)
    return share @ sum_x / z, share @ sum_y / z, np.tensordot(share, sum_xy, axes=1) / z, float(top.max() + np.log(z))


def log_likelihood_gradient(rbm: RestrictedBoltzmannMachine, data, *, max_units=DEFAULT_MAX_UNITS) -> LikelihoodGradient:
    """Exact gradient of the mean log-likelihood of ``data`` with respect to the RBM's parameters.

    Parameters
    ----------
    rbm : RestrictedBoltzmannMachine
        At temperature 1 (the parameters are those of the energy at T = 1).
    data : ndarray of 0/1, shape (n_samples, n_visible)
    max_units : int, default 20
        Largest smaller layer enumerated (``2**max_units`` states).

    Returns
    -------
    LikelihoodGradient
        ``(weights, visible_bias, hidden_bias, log_likelihood, log_z)``; the arrays have
        the shapes of the parameters.

    Raises
    ------
    ModelSizeError
        If both layers have more than ``max_units`` units.
    """
    if not isinstance(rbm, RestrictedBoltzmannMachine):
        raise ParameterTypeError(f"rbm must be a RestrictedBoltzmannMachine, got {describe(rbm)}")
    max_units = check_int(max_units, "max_units", minimum=1)
    _check_size(rbm.n_visible, rbm.n_hidden, max_units)
    if rbm.temperature != 1.0:
        raise ValidationError(f"the gradient is taken at temperature 1, got a model at temperature {rbm.temperature!r}")
    v = np.asarray(data, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != rbm.n_visible or v.shape[0] == 0:
        raise ValidationError(f"data must have shape (n_samples >= 1, {rbm.n_visible}), got {v.shape}")
    return _gradient(rbm.weights, rbm.visible_bias, rbm.hidden_bias, v)


def _gradient(weights, b, c, v) -> LikelihoodGradient:
    """The gradient on plain float64 arrays (no checks: the trainer's inner loop)."""
    softplus, hidden_given_data = _softplus_and_sigmoid(v @ weights + c)
    mean_negative_free_energy = float(np.mean(v @ b + softplus.sum(axis=1)))
    n_visible, n_hidden = weights.shape
    if n_hidden <= n_visible:
        mean_h, mean_v, mean_hv, log_z = _model_moments(np.ascontiguousarray(weights.T), c, b)
        mean_vh = mean_hv.T
    else:
        mean_v, mean_h, mean_vh, log_z = _model_moments(np.ascontiguousarray(weights), b, c)
    m = v.shape[0]
    return LikelihoodGradient(
        v.T @ hidden_given_data / m - mean_vh,
        v.mean(axis=0) - mean_v,
        hidden_given_data.mean(axis=0) - mean_h,
        mean_negative_free_energy - log_z,
        log_z,
    )


def _check_size(n_visible: int, n_hidden: int, max_units: int) -> None:
    if min(n_visible, n_hidden) > max_units:
        raise ModelSizeError(
            f"the exact gradient enumerates the smaller layer: {min(n_visible, n_hidden)} units "
            f"(2**{min(n_visible, n_hidden)} states) is more than max_units={max_units}; "
            "use ContrastiveDivergence, or pass a larger max_units"
        )


class _State(NamedTuple):
    weights: np.ndarray
    visible_bias: np.ndarray
    hidden_bias: np.ndarray
    weights_velocity: np.ndarray
    visible_velocity: np.ndarray
    hidden_velocity: np.ndarray


class ExactGradient(Trainer):
    """Gradient ascent on the exact mean log-likelihood of a small RBM.

    For RBMs with ``min(n_visible, n_hidden) <= max_units`` (default 20): every update uses
    the true gradient (:func:`log_likelihood_gradient`), so this is the yardstick for the bias
    of CD and PCD, and a way to finish a PCD run (pass the PCD model to :meth:`fit`).

    Parameters
    ----------
    learning_rate : float > 0, default 0.1
    momentum : float in [0, 1], callable ``epoch -> momentum`` or sequence, default 0.9
        Heavy-ball momentum: ``Δθ ← momentum Δθ + learning_rate (∇L − weight_decay W)``.
    weight_decay : float >= 0, default 0.0
        L2 penalty on the weights (not the biases).
    epochs : int >= 1, default 100
        Passes over the data; with the full batch, one update per epoch.
    batch_size : int >= 1 or None, default None
        None: full batch (the exact gradient of the whole data's likelihood). Mini-batches
        still compute the exact model term for every update.
    max_units : int, default 20
        Largest smaller layer that is enumerated.
    monitor, monitor_every, checkpoint_every, checkpoint_path, binarize
        See :class:`~pgm_energy.learning._trainer.Trainer`. Training runs in float64.

    Notes
    -----
    Each epoch records ``gradient_norm`` (Frobenius norm of the last update's gradient of all
    parameters) and ``log_likelihood_before`` (the exact mean log-likelihood of the batch the
    last gradient was taken on, at the parameters before that update; with the full batch, the
    training log-likelihood at the start of the epoch). A new model starts as in
    :class:`ContrastiveDivergence`.
    """

    _model_types = (RestrictedBoltzmannMachine,)

    def __init__(
        self,
        *,
        learning_rate=0.1,
        momentum=0.9,
        weight_decay=0.0,
        epochs=100,
        batch_size=None,
        max_units=DEFAULT_MAX_UNITS,
        monitor="auto",
        monitor_every=None,
        checkpoint_every=None,
        checkpoint_path=None,
        binarize=None,
    ):
        super().__init__(
            batch_size=batch_size,
            epochs=epochs,
            monitor=monitor,
            monitor_every=monitor_every,
            checkpoint_every=checkpoint_every,
            checkpoint_path=checkpoint_path,
            binarize=binarize,
            dtype="float64",
        )
        self.learning_rate = check_nonnegative_float(learning_rate, "learning_rate", strict=True)
        self.momentum = _Schedule(momentum, "momentum", _check_momentum)
        self.weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        self.max_units = check_int(max_units, "max_units", minimum=1)

    def _settings(self) -> dict:
        return {
            **super()._settings(),
            "learning_rate": self.learning_rate,
            "momentum": self.momentum.describe(),
            "weight_decay": self.weight_decay,
            "max_units": self.max_units,
        }

    def _check_model(self, model) -> None:
        _check_size(model.n_visible, model.n_hidden, self.max_units)
        if model.temperature != 1.0:
            raise ValidationError(
                f"training starts from a model at temperature 1, got temperature={model.temperature!r}"
            )

    def _initial_model(self, model_or_size, data, visible_names, rng):
        if isinstance(model_or_size, RestrictedBoltzmannMachine):
            return model_or_size
        _check_size(data.shape[1], int(model_or_size), self.max_units)
        return initial_rbm(int(model_or_size), data, visible_names, rng)

    def _initial_state(self, model, data, rng):
        arrays = [np.array(model.weights), np.array(model.visible_bias), np.array(model.hidden_bias)]
        return _State(*arrays, *(np.zeros_like(array) for array in arrays))

    def _run_epoch(self, state, data, order, epoch):
        rows = self.batch_size if self.batch_size is not None else data.shape[0]
        momentum = self.momentum(epoch)
        for start in range(0, order.shape[0], rows):
            batch = data[order[start : start + rows]] if rows < data.shape[0] else data
            gradient = _gradient(state.weights, state.visible_bias, state.hidden_bias, batch)
            steps = (
                gradient.weights - self.weight_decay * state.weights,
                gradient.visible_bias,
                gradient.hidden_bias,
            )
            for parameter, velocity, step in zip(state[:3], state[3:], steps):
                velocity *= momentum
                velocity += self.learning_rate * step
                parameter += velocity
        norm = float(np.sqrt(sum(float(np.sum(step * step)) for step in steps)))
        return {"gradient_norm": norm, "log_likelihood_before": gradient.log_likelihood}

    def _model_from(self, state, template):
        return RestrictedBoltzmannMachine(
            state.weights, state.visible_bias, state.hidden_bias,
            visible_names=template.visible_names, hidden_names=template.hidden_names,
        )

    def _state_arrays(self, state) -> dict:
        return state._asdict()

    def _restore(self, arrays, template, data):
        try:
            return _State(*(np.array(arrays[name], dtype=np.float64) for name in _State._fields))
        except KeyError as error:
            raise ValidationError(f"the checkpoint lacks the training state {error}") from None
