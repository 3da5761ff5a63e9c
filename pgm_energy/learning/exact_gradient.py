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

States are enumerated in blocks of ``2**n_low`` (up to 4096): a Numba kernel computes each
block's log-weights and conditional means, vectorised over states, and one matrix product per
block (BLAS) sums ``x sigmoid(a(x))^T``; blocks are combined in log space against the largest
log-weight (no overflow for weights of +-50, or any finite ones). The cost is about
``2**n_small * n_large`` divisions, no exponential in the inner loop while every field is within
+-350 (one per element beyond), and ``2**n_small * n_large * (n_low + 1)`` multiply-adds in the
products (docs/benchmarks.md has timings).

:class:`ExactGradient` follows the gradient with heavy-ball momentum or, with
``method="lbfgs"``, by full-batch L-BFGS on the deterministic objective.
"""

from __future__ import annotations

import os
import threading
from typing import NamedTuple

import numpy as np

from .._blas import one_thread
from .._launch import run_chunked
from .._validation import DEFAULT_MAX_UNITS, check_int, check_states, describe
from ..exceptions import ModelFileError, ModelSizeError, ParameterTypeError, ValidationError
from ..models import RestrictedBoltzmannMachine
from ._trainer import Trainer, check_nonnegative_float, check_positive_int, trainer_options
from .contrastive_divergence import _check_momentum, _Schedule, initial_rbm

__all__ = ["ExactGradient", "LikelihoodGradient", "log_likelihood_gradient", "DEFAULT_MAX_UNITS"]

#: most correction pairs ``"lbfgs"`` keeps (``memory``); 3 to 20 is usual, and each pair is two
#: vectors as long as the model's parameters
MAX_LBFGS_MEMORY = 2**10
# Conditionals per block of enumerated states (n_y * 2**n_low): the block's arrays stay in cache.
_BLOCK_ELEMENTS = 2**18
_MAX_LOW_BITS = 8
_METHODS = ("momentum", "lbfgs")
# L-BFGS line search: sufficient-decrease constant (Nocedal & Wright's c1) and halvings before giving up.
_ARMIJO = 1e-4
_MAX_BACKTRACKS = 30
# Below this many conditionals one thread runs (a thread pool costs more).
_PARALLEL_WORK = 2**20


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


def _bit_patterns(n_bits: int) -> np.ndarray:
    """Every 0/1 pattern of ``n_bits`` units, shape ``(2**n_bits, n_bits)``; row ``s`` holds the bits of ``s``."""
    return ((np.arange(1 << n_bits)[:, None] >> np.arange(n_bits)) & 1).astype(np.float64)


def _model_moments(coupling, bias_x, bias_y):
    """Exact ``<x>, <y>, <x y^T>`` and ``log Z`` for ``E(x, y) = -x^T C y - bias_x^T x - bias_y^T y``.

    ``x`` (``n_x = coupling.shape[0]`` units) is enumerated in blocks: the ``S = 2**n_low``
    patterns of the low units share one matrix of fields ``A = X_low C_low`` and each block adds
    the fields ``B`` of its fixed high units. A Numba kernel turns a block's fields into weights
    ``w_s`` (relative to the block's largest log-weight) and weighted conditional means
    ``w_s sigmoid(f(x_s))``; one matrix product per block against ``[X_low, 1]`` then gives its
    ``sum w x_low sigmoid^T``, ``sum w sigmoid``, ``sum w x_low`` and ``sum w``. The blocks are
    combined in a fixed order against the largest maximum (log space throughout), so the result
    does not depend on the number of threads.
    """
    from .._kernels.exact_gradient import FACTORED_LIMIT, block_conditionals_direct, block_conditionals_factored

    coupling = np.ascontiguousarray(coupling, dtype=np.float64)
    bias_x = np.asarray(bias_x, dtype=np.float64)
    bias_y = np.asarray(bias_y, dtype=np.float64)
    n_x, n_y = coupling.shape
    # Blocks of about _BLOCK_ELEMENTS conditionals: big enough for the products, small enough for cache.
    n_low = int(min(n_x, _MAX_LOW_BITS, max(1, np.floor(np.log2(_BLOCK_ELEMENTS / n_y)))))
    n_high = n_x - n_low
    low_states = _bit_patterns(n_low)  # (S, n_low)
    low_with_ones = np.hstack([low_states, np.ones((low_states.shape[0], 1))])  # (S, n_low + 1)
    low_fields = np.ascontiguousarray((low_states @ coupling[:n_low]).T)  # (n_y, S)
    low_linear = low_states @ bias_x[:n_low]
    high_states = _bit_patterns(n_high)  # (P, n_high)
    high_fields = bias_y + high_states @ coupling[n_low:]  # (P, n_y)
    high_linear = high_states @ bias_x[n_low:]
    n_blocks, n_states = high_states.shape[0], low_states.shape[0]

    factored = max(np.abs(low_fields).max(), np.abs(high_fields).max()) <= FACTORED_LIMIT
    if factored:
        exp_neg_low, exp_pos_low = np.exp(-low_fields), np.exp(low_fields)

    top = np.empty(n_blocks)
    moments = np.empty((n_blocks, n_y, n_low + 1))  # [sum w sigmoid x_low^T, sum w sigmoid]
    state_sums = np.empty((n_blocks, n_low + 1))  # [sum w x_low, sum w]

    stop = threading.Event()

    def run(blocks):
        sigmoid = np.empty((n_y, n_states))
        weight = np.empty(n_states)
        product = np.empty(n_states)
        for block in blocks:
            if stop.is_set():  # the caller was interrupted (Ctrl-C): drop the rest
                return
            if factored:
                top[block] = block_conditionals_factored(
                    low_fields, exp_neg_low, exp_pos_low, high_fields[block], low_linear, high_linear[block],
                    sigmoid, weight, product,
                )
            else:
                top[block] = block_conditionals_direct(
                    low_fields, high_fields[block], low_linear, high_linear[block], sigmoid, weight, product
                )
            np.matmul(sigmoid, low_with_ones, out=moments[block])
            np.matmul(weight, low_with_ones, out=state_sums[block])

    if n_blocks * n_states * n_y <= _PARALLEL_WORK:
        # blocks in time-bounded calls (the shared launcher holds Ctrl-C to the end of a call)
        run_chunked(n_blocks, lambda start, stop: run(range(start, stop)))
    else:
        from concurrent.futures import ThreadPoolExecutor

        # Threads over blocks, each with a one-thread BLAS: the products are small (n_y x S x
        # (n_low + 1)) and a multi-threaded BLAS competing with our threads is several times slower.
        n_workers = min(n_blocks, _worker_count())
        with one_thread(), ThreadPoolExecutor(n_workers) as pool:
            chunks = np.array_split(np.arange(n_blocks), n_workers)
            futures = [pool.submit(run, chunk) for chunk in chunks]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                # KeyboardInterrupt reaches this (main) thread while it waits: the workers stop
                # after their current block (milliseconds), so leaving the pool does not wait
                # for the whole enumeration.
                stop.set()
                raise

    share = np.exp(top - top.max())
    block_mass = share * state_sums[:, -1]
    z = float(block_mass.sum())
    mean_x = np.concatenate([share @ state_sums[:, :-1], block_mass @ high_states]) / z
    mean_y = share @ moments[:, :, -1] / z
    weighted_y = share[:, None] * moments[:, :, -1]  # (P, n_y)
    mean_xy = np.vstack([np.tensordot(share, moments[:, :, :-1], axes=1).T, high_states.T @ weighted_y]) / z
    return mean_x, mean_y, mean_xy, float(top.max() + np.log(z))


def _worker_count() -> int:
    """Threads for the enumeration: Numba's setting (``NUMBA_NUM_THREADS``), at most the cores."""
    import numba

    return max(1, min(numba.get_num_threads(), os.cpu_count() or 1))


def log_likelihood_gradient(rbm: RestrictedBoltzmannMachine, data, *, max_units=DEFAULT_MAX_UNITS) -> LikelihoodGradient:
    """Exact gradient of the mean log-likelihood of ``data`` with respect to the RBM's parameters.

    Parameters
    ----------
    rbm : RestrictedBoltzmannMachine
        At temperature 1 (the parameters are those of the energy at T = 1).
    data : ndarray of 0/1, shape (n_samples, n_visible)
    max_units : int, default 30
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
    v, single = check_states(data, rbm.n_visible, "data")
    if single or v.shape[0] == 0:
        raise ValidationError(f"data must have shape (n_samples >= 1, {rbm.n_visible}), got {np.shape(data)}")
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


class _RBMLikelihood:
    """What :class:`ExactGradient` needs to know of one kind of model: here binary RBMs.

    A kind of model with an exact likelihood gradient plugs into the trainer by a class with
    these members (:mod:`pgm_energy.learning.gaussian_exact` has the Gaussian-Bernoulli one):
    the model class, the momentum state's type (parameters first, then one velocity per
    parameter, the weights first: weight decay applies to them), the parameters' shapes, a
    starting model, the gradient, the model of some parameters, and the constraint the
    parameters must meet.
    """

    model_type = RestrictedBoltzmannMachine
    state_type = _State

    @staticmethod
    def shapes(n_visible: int, n_hidden: int) -> list[tuple[int, ...]]:
        return [(n_visible, n_hidden), (n_visible,), (n_hidden,)]

    @staticmethod
    def hidden_count(n_parameters: int, n_visible: int) -> int:
        """Hidden units of a model with ``n_parameters = n_visible * n_hidden + n_visible + n_hidden``."""
        return (n_parameters - n_visible) // (n_visible + 1)

    @staticmethod
    def check_size(n_visible: int, n_hidden: int, max_units: int) -> None:
        _check_size(n_visible, n_hidden, max_units)

    @staticmethod
    def initial_model(n_hidden, data, visible_names, rng):
        return initial_rbm(n_hidden, data, visible_names, rng)

    @staticmethod
    def parameters(model) -> tuple[np.ndarray, ...]:
        return (np.array(model.weights), np.array(model.visible_bias), np.array(model.hidden_bias))

    @staticmethod
    def gradient(parameters, data) -> tuple[float, tuple[np.ndarray, ...]]:
        """The mean log-likelihood of ``data`` and its gradient, one array per parameter."""
        gradient = _gradient(*parameters, data)
        return gradient.log_likelihood, (gradient.weights, gradient.visible_bias, gradient.hidden_bias)

    @staticmethod
    def model(parameters, template):
        return RestrictedBoltzmannMachine(*parameters, visible_names=template.visible_names,
                                          hidden_names=template.hidden_names)

    @staticmethod
    def feasible(parameters) -> bool:
        """Whether the parameters are inside the constraint (none for RBMs)."""
        return True

    @staticmethod
    def held(parameters, gradient):
        """Flat mask of the parameters at a bound whose descent direction (``-gradient`` of the minimised
        objective) points beyond it, or None (RBMs have no bound)."""
        return None

    @staticmethod
    def project(parameters, velocities) -> None:
        """Bring parameters back inside the constraint in place, and a momentum step's velocities (or None) (none for RBMs)."""


class _QuasiNewtonState(NamedTuple):
    """L-BFGS state: the flat parameters ``[W.ravel(), b, c]``, the objective there, and the memory."""

    parameters: np.ndarray  # (n,)
    objective: np.ndarray  # (1,): -(mean log-likelihood - weight_decay/2 |W|^2); NaN before the first evaluation
    gradient: np.ndarray  # (n,)
    steps: np.ndarray  # (memory, n): parameter changes s_k, oldest first
    gradient_changes: np.ndarray  # (memory, n): gradient changes y_k
    n_pairs: np.ndarray  # (1,) int64: how many rows of the memory are filled


def _unflatten(flat, shapes) -> tuple[np.ndarray, ...]:
    """Views of the flat parameter vector, one per shape, in order."""
    views, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        views.append(flat[start : start + size].reshape(shape))
        start += size
    return tuple(views)


def _two_loop_direction(gradient, steps, gradient_changes):
    """``-H g`` by the L-BFGS two-loop recursion (Nocedal & Wright 2006, algorithm 7.4); pairs oldest first."""
    q = gradient.copy()
    n_pairs = steps.shape[0]
    rho = 1.0 / np.einsum("kn,kn->k", steps, gradient_changes)
    alpha = np.empty(n_pairs)
    for k in range(n_pairs - 1, -1, -1):
        alpha[k] = rho[k] * (steps[k] @ q)
        q -= alpha[k] * gradient_changes[k]
    # initial inverse Hessian gamma I from the newest pair (their eq. 7.20)
    q *= (steps[-1] @ gradient_changes[-1]) / (gradient_changes[-1] @ gradient_changes[-1])
    for k in range(n_pairs):
        beta = rho[k] * (gradient_changes[k] @ q)
        q += (alpha[k] - beta) * steps[k]
    return -q


class ExactGradient(Trainer):
    """Gradient ascent on the exact mean log-likelihood of a small RBM.

    For RBMs with ``min(n_visible, n_hidden) <= max_units`` (default 20): every update uses
    the true gradient (:func:`log_likelihood_gradient`), so this is the yardstick for the bias
    of CD and PCD, and a way to finish a PCD run (pass the PCD model to :meth:`fit`).

    Parameters
    ----------
    method : {"momentum", "lbfgs"}, default "momentum"
        ``"momentum"``: gradient ascent with heavy-ball momentum. ``"lbfgs"``: full-batch
        limited-memory BFGS (Nocedal & Wright 2006, ch. 7) on the deterministic objective
        ``J = mean log-likelihood − weight_decay/2 |W|²``, one quasi-Newton iteration per epoch,
        with a backtracking (Armijo) line search that starts at the unit step; each trial
        point costs one enumeration, which gives the objective and its gradient together.
        Usually far fewer iterations than momentum steps for the same objective; no step size
        to tune.
    learning_rate : float > 0, default 0.1
        Step size of ``method="momentum"`` (unused by ``"lbfgs"``).
    momentum : float in [0, 1], callable ``epoch -> momentum`` or sequence, default 0.9
        Heavy-ball momentum of ``method="momentum"``:
        ``Δθ ← momentum Δθ + learning_rate (∇L − weight_decay W)`` (unused by ``"lbfgs"``).
    weight_decay : float >= 0, default 0.0
        L2 penalty on the weights (not the biases).
    epochs : int >= 1, default 100
        Passes over the data; with the full batch, one update (or L-BFGS iteration) per epoch.
    batch_size : int >= 1 or None, default None
        None: full batch (the exact gradient of the whole data's likelihood). Mini-batches
        still compute the exact model term for every update. ``"lbfgs"`` needs the full batch.
    memory : int, 1 to :data:`MAX_LBFGS_MEMORY` (1024), default 10
        Correction pairs kept by ``"lbfgs"``.
    max_units : int, default 30
        Largest smaller layer that is enumerated.
    monitor, monitor_every, checkpoint_every, checkpoint_path, binarize
        See :class:`~pgm_energy.learning._trainer.Trainer`. Training runs in float64.

    Notes
    -----
    Each epoch records ``gradient_norm`` (Frobenius norm of the last update's gradient of all
    parameters, weight decay included) and ``log_likelihood_before`` (the exact mean
    log-likelihood of the batch the last gradient was taken on, at the parameters before that
    update; with the full batch, the training log-likelihood at the start of the epoch). With
    ``"lbfgs"`` each epoch also records ``objective`` (``J`` after the iteration),
    ``step_length`` (the accepted multiple of the quasi-Newton direction; 0 when the line
    search found no increase, which leaves the model unchanged: the optimum is reached to
    rounding) and ``evaluations`` (enumerations in the iteration). A new model starts as in
    :class:`ContrastiveDivergence`.

    To stop ``"lbfgs"`` by held-out data rather than by a fixed ``epochs``, pass a validation
    split of the training data and an :class:`~pgm_energy.learning.EarlyStopping` callback on
    ``"validation_log_likelihood"``.
    """

    _model_types = (RestrictedBoltzmannMachine,)
    #: the kind of model trained (:class:`_RBMLikelihood` describes what it provides)
    _likelihood = _RBMLikelihood()

    def __init__(
        self,
        *,
        method="momentum",
        learning_rate=0.1,
        momentum=0.9,
        weight_decay=0.0,
        epochs=100,
        batch_size=None,
        memory=10,
        max_units=DEFAULT_MAX_UNITS,
        monitor="auto",
        monitor_every=None,
        checkpoint_every=None,
        checkpoint_path=None,
        binarize=None,
    ):
        super().__init__(**trainer_options(locals()), dtype="float64")
        self.learning_rate = check_nonnegative_float(learning_rate, "learning_rate", strict=True)
        self.momentum = _Schedule(momentum, "momentum", _check_momentum)
        self.weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        self.max_units = check_int(max_units, "max_units", minimum=1)
        if not isinstance(method, str):
            raise ParameterTypeError(f"method must be a string, got {describe(method)}")
        if method not in _METHODS:
            raise ValidationError(f"method must be one of {_METHODS}, got {method!r}")
        if method == "lbfgs" and self.batch_size is not None:
            raise ValidationError(f"method='lbfgs' needs the full batch (batch_size=None), got batch_size={batch_size!r}")
        self.method = method
        self.memory = check_positive_int(memory, "memory", maximum=MAX_LBFGS_MEMORY)

    def _settings(self) -> dict:
        return {
            **super()._settings(),
            "method": self.method,
            "memory": self.memory,
            "learning_rate": self.learning_rate,
            "momentum": self.momentum.describe(),
            "weight_decay": self.weight_decay,
            "max_units": self.max_units,
        }

    def _check_model(self, model) -> None:
        self._likelihood.check_size(model.n_visible, model.n_hidden, self.max_units)
        if model.temperature != 1.0:
            raise ValidationError(
                f"training starts from a model at temperature 1, got temperature={model.temperature!r}"
            )

    def _initial_model(self, model_or_size, data, visible_names, rng):
        if isinstance(model_or_size, self._likelihood.model_type):
            return model_or_size
        self._likelihood.check_size(data.shape[1], int(model_or_size), self.max_units)
        return self._likelihood.initial_model(int(model_or_size), data, visible_names, rng)

    def _initial_state(self, model, data, rng):
        arrays = self._likelihood.parameters(model)
        if self.method == "lbfgs":
            n = sum(array.size for array in arrays)
            return _QuasiNewtonState(
                np.concatenate([array.ravel() for array in arrays]), np.full(1, np.nan), np.zeros(n),
                np.zeros((self.memory, n)), np.zeros((self.memory, n)), np.zeros(1, dtype=np.int64),
            )
        return self._likelihood.state_type(*arrays, *(np.zeros_like(array) for array in arrays))

    def _unflatten(self, parameters, n_visible):
        likelihood = self._likelihood
        return _unflatten(parameters, likelihood.shapes(n_visible, likelihood.hidden_count(parameters.size, n_visible)))

    def _objective(self, parameters, data):
        """``(-J, -grad J)`` at the flat ``parameters`` (one enumeration gives both); ``(inf, None)`` outside the constraint."""
        arrays = self._unflatten(parameters, data.shape[1])
        if not self._likelihood.feasible(arrays):
            return np.inf, None
        log_likelihood, gradient = self._likelihood.gradient(arrays, data)
        weights = arrays[0]
        value = log_likelihood - 0.5 * self.weight_decay * float(np.sum(weights * weights))
        ascent = np.concatenate([(gradient[0] - self.weight_decay * weights).ravel(), *(part.ravel() for part in gradient[1:])])
        return -value, -ascent

    def _run_quasi_newton_iteration(self, state, data):
        evaluations = 0
        if np.isnan(state.objective[0]):
            state.objective[0], state.gradient[:] = self._objective(state.parameters, data)
            evaluations += 1
        # the log-likelihood at the start of the iteration (for the history's log_likelihood_before)
        weights = self._unflatten(state.parameters, data.shape[1])[0]
        before = -state.objective[0] + 0.5 * self.weight_decay * float(np.sum(weights * weights))
        n_pairs = int(state.n_pairs[0])
        # Parameters held at a bound that the descent direction pushes beyond are left out of this
        # iteration (their gradient components zeroed), so that they do not dominate the direction.
        held = self._likelihood.held(self._unflatten(state.parameters, data.shape[1]),
                                     self._unflatten(state.gradient, data.shape[1]))
        gradient = state.gradient if held is None else np.where(held, 0.0, state.gradient)
        if n_pairs:
            direction = _two_loop_direction(gradient, state.steps[-n_pairs:], state.gradient_changes[-n_pairs:])
        else:
            direction = -gradient
        slope = float(gradient @ direction)
        if not slope < 0.0:  # not a descent direction (should not happen with the curvature check): restart
            state.n_pairs[0] = n_pairs = 0
            direction, slope = -gradient, -float(gradient @ gradient)
        step_length = 1.0
        accepted = False
        for _ in range(_MAX_BACKTRACKS):
            trial = state.parameters + step_length * direction
            # onto the constraint (a projected line search; a no-op for RBMs): a parameter at its bound
            # that the direction pushes beyond it stays there while the others move
            self._likelihood.project(self._unflatten(trial, data.shape[1]), None)
            decrease = float(gradient @ (trial - state.parameters))  # the first-order change of the step taken
            if not decrease < 0.0:
                step_length *= 0.5
                continue
            value, trial_gradient = self._objective(trial, data)
            evaluations += 1
            if value <= state.objective[0] + _ARMIJO * decrease:  # sufficient decrease (NaN fails)
                accepted = True
                break
            step_length *= 0.5
        if accepted:
            step = trial - state.parameters
            change = trial_gradient - state.gradient
            if held is not None:
                change[held] = 0.0
            if step @ change > 1e-12 * float(np.sqrt((step @ step) * (change @ change))):  # keep H positive definite
                state.steps[:-1] = state.steps[1:]
                state.gradient_changes[:-1] = state.gradient_changes[1:]
                state.steps[-1], state.gradient_changes[-1] = step, change
                state.n_pairs[0] = min(n_pairs + 1, self.memory)
            state.parameters[:] = trial
            state.objective[0] = value
            state.gradient[:] = trial_gradient
        else:
            step_length = 0.0
        return {
            "gradient_norm": float(np.sqrt(state.gradient @ state.gradient)),
            "log_likelihood_before": before,
            "objective": -float(state.objective[0]),
            "step_length": step_length,
            "evaluations": float(evaluations),
        }

    def _run_epoch(self, state, data, order, epoch):
        if self.method == "lbfgs":
            return self._run_quasi_newton_iteration(state, data)
        rows = self.batch_size if self.batch_size is not None else data.shape[0]
        momentum = self.momentum(epoch)
        for start in range(0, order.shape[0], rows):
            batch = data[order[start : start + rows]] if rows < data.shape[0] else data
            half = len(state) // 2
            parameters, velocities = state[:half], state[half:]
            log_likelihood, gradient = self._likelihood.gradient(parameters, batch)
            steps = (gradient[0] - self.weight_decay * parameters[0], *gradient[1:])
            for parameter, velocity, step in zip(parameters, velocities, steps):
                velocity *= momentum
                velocity += self.learning_rate * step
                parameter += velocity
            self._likelihood.project(parameters, velocities)
        norm = float(np.sqrt(sum(float(np.sum(step * step)) for step in steps)))
        return {"gradient_norm": norm, "log_likelihood_before": log_likelihood}

    def _model_from(self, state, template):
        if isinstance(state, _QuasiNewtonState):
            arrays = [array.copy() for array in self._unflatten(state.parameters, template.n_visible)]
        else:
            arrays = list(state[: len(state) // 2])
        return self._likelihood.model(arrays, template)

    def _state_arrays(self, state) -> dict:
        return state._asdict()

    def _resume_settings(self) -> tuple[str, ...]:
        return (*super()._resume_settings(), "method", "memory")

    def _check_state_values(self, arrays, template, epoch, damaged) -> None:
        if self.method == "lbfgs" and int(arrays["n_pairs"][0]) > self.memory:
            raise damaged(f"'n_pairs' must be at most memory={self.memory}, got {int(arrays['n_pairs'][0])}")

    def _parameters(self, state) -> tuple:
        if isinstance(state, _QuasiNewtonState):
            return (state.parameters,)
        return tuple(state[: len(state) // 2])

    def _finite(self, state) -> bool:
        if isinstance(state, _QuasiNewtonState):  # objective is NaN until the first evaluation
            return bool(np.isfinite(state.parameters).all())
        return super()._finite(state)

    def _restore(self, arrays, template, data):
        try:
            if self.method == "lbfgs":
                state = _QuasiNewtonState(
                    *(np.array(arrays[name], dtype=np.float64) for name in _QuasiNewtonState._fields[:-1]),
                    np.array(arrays["n_pairs"], dtype=np.int64),
                )
                # The objective and its gradient are a function of the parameters (computed the
                # same way whatever the thread count): one enumeration tells whether they were altered.
                objective, gradient = self._objective(state.parameters, data)
                if objective != state.objective[0] or not np.array_equal(gradient, state.gradient):
                    raise ModelFileError("its 'objective' and 'gradient' are not those of its parameters")
                return state
            state_type = self._likelihood.state_type
            return state_type(*(np.array(arrays[name], dtype=np.float64) for name in state_type._fields))
        except KeyError as error:
            raise ValidationError(f"the checkpoint lacks the training state {error}") from None
