r"""Contrastive divergence (CD-k) and persistent CD for Gaussian-Bernoulli RBMs, with the standard deviations learned.

:class:`GaussianBernoulliCD` trains a :class:`~pgm_energy.models.gaussian_rbm.GaussianBernoulliRBM`
on real-valued data with the fit loop of :class:`~pgm_energy.learning._trainer.Trainer` (history,
callbacks, checkpoints, exact resume, divergence guard, Ctrl-C).

The gradient (Cho, Ilin & Raiko 2011; Melchior, Wang & Wiskott 2017)
--------------------------------------------------------------------
The energy is ``E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - c.h - sum_ij (v_i / sigma_i^2) W_ij h_j``.
Write ``z_i = log sigma_i`` (so ``sigma_i^2 = exp(2 z_i)``, always positive, and a step in ``z``
is a relative change of ``sigma``), ``s_i = 1 / sigma_i^2`` and
``a_j(v) = c_j + sum_i W_ij v_i s_i`` (the hidden inputs), ``p_j(v) = sigmoid(a_j(v))``. Summing
out ``h`` gives the free energy

.. math::

    F(v) = \sum_i \frac{(v_i - b_i)^2}{2 \sigma_i^2} - \sum_j \operatorname{softplus}(a_j(v)),
    \qquad \log p(v) = -F(v) - \log Z,

and for any parameter ``theta`` the mean log-likelihood ``L`` of the data has the gradient
``dL/dtheta = <-dF/dtheta>_data - <-dF/dtheta>_model`` (``d log Z / d theta = <-dF/dtheta>_model``).
The derivatives of ``F`` (``softplus' = sigmoid``):

* ``dF/dW_ij = -s_i v_i p_j(v)``;  ``dF/db_i = -s_i (v_i - b_i)``;  ``dF/dc_j = -p_j(v)``;
* ``dF/dz_i``: the quadratic term gives ``d/dz_i [(v_i - b_i)^2 exp(-2 z_i) / 2] = -s_i (v_i - b_i)^2``,
  and each hidden input ``d a_j / d z_i = -2 W_ij v_i s_i``, so
  ``-sum_j p_j(v) d a_j / d z_i = 2 s_i v_i (W p(v))_i``. Hence

  .. math::

      \frac{\partial F}{\partial z_i} = -s_i (v_i - b_i)^2 + 2 s_i v_i (W p(v))_i, \qquad
      \frac{\partial L}{\partial z_i} = s_i \big\langle (v_i - b_i)^2 - 2 v_i (W p(v))_i \big\rangle_\text{data}
                                      - s_i \big\langle (v_i - b_i)^2 - 2 v_i (W p(v))_i \big\rangle_\text{model}.

  (The same as ``<-dE/dz_i>`` with ``h`` replaced by its conditional mean ``p(v)``: the hidden
  layer summed out. Cho et al. 2011 and Melchior et al. 2017 give this gradient for this energy;
  here it is written in ``z = log sigma``.)

What one update computes (Hinton's guide, UTML TR 2010-003, §§3, 9, 10, 13.2)
-----------------------------------------------------------------------------
For a mini-batch ``V`` of ``n`` rows and ``m`` negative chains:

* positive statistics from the data with probabilities ``P0 = p(h | V)``;
* the negative phase: CD-k starts each chain at its data row, PCD (Tieleman 2008) at the
  ``n_chains`` persistent visible states; ``k`` block-Gibbs steps, each ``h ~ Bernoulli(p(h | v))``
  (sampled) then ``v ~ N(b + W h, sigma^2)`` (sampled: with the mean ``b + W h`` instead the
  negative phase would have no visible noise, and the ``sigma`` gradient would drive ``sigma`` to
  the floor); the statistics use the last visible samples ``Vk`` and the hidden **probabilities**
  ``Pk = p(h | Vk)`` (the hidden layer summed out, less noise);
* the updates (``<.>`` the batch means; ``velocity = momentum velocity + step``, ``theta += velocity``):

  - ``W``: ``learning_rate (<V' P0> - <Vk' Pk> - weight_decay W)``;  ``b``: ``learning_rate (<V> - <Vk>)``;
  - ``c``: ``learning_rate (<P0> - <Pk>)``;
  - ``z = log sigma``: ``sigma_learning_rate * dL/dz`` with the estimate above (data terms from
    ``V, P0``, model terms from ``Vk, Pk``), then ``z >= log(min_sigma)``.

  The ``W`` and ``b`` steps are Hinton's rule ``<v h>_data - <v h>_model``: the likelihood gradient
  above multiplied by ``sigma_i^2`` row by row (``dL/dW_ij = s_i (<v_i p_j>_data - <v_i p_j>_model)``).
  A positive diagonal rescaling of the gradient has the same fixed points and is still an ascent
  direction; this one keeps the steps from growing as ``1 / sigma^2`` when a unit's ``sigma``
  shrinks (the raw gradient multiplies the step of a unit with ``sigma = 0.2`` by 25, a classic
  cause of divergence of Gaussian RBMs), and makes training equivariant to rescaling a column
  of the data (``W``, ``b`` and ``sigma`` are in the data's units, ``W / sigma`` and ``c`` are not
  affected), up to rounding.

The stabilisations, and why
---------------------------
* ``log sigma`` rather than ``sigma``: unconstrained, and a step is a relative change, so a
  small ``sigma`` cannot be stepped through zero.
* ``sigma_learning_rate`` (default ``learning_rate / 10``): the ``sigma`` gradient is as noisy as the
  others, but ``sigma`` enters every energy and every hidden input as ``1 / sigma^2``; a ``sigma`` that
  shrinks faster than ``W`` and ``b`` can follow sharpens the model before its means fit, slows
  the chains' mixing and spirals (the instability Cho et al. 2011 describe; Krizhevsky 2009 fixes
  ``sigma = 1`` rather than learn it). A smaller step lets the means lead.
* ``min_sigma`` (default 1e-2, in the data's units: standardise the data): the likelihood of a
  Gaussian with a learned variance is unbounded (a unit whose ``sigma`` collapses on a constant
  column, or on one value of a dequantised grey level, gains without bound), and energies grow
  as ``1 / sigma^2``. The floor stops the collapse; a starting ``sigma`` below it is raised to it
  when ``learn_sigma`` (velocity components pushing below the floor are zeroed).
* momentum (default: 0 for PCD, whose chains must keep up with the parameters; for CD 0.5 for five
  epochs then 0.9, Hinton's guide §9), weight decay (L2 on ``W``, §10), mini-batches (§4), and
  ``averaging`` of the parameters over the last epochs (of ``log sigma`` for ``sigma``), as
  :class:`~pgm_energy.learning.ContrastiveDivergence`.

A new model (``fit(n_hidden, data)``) starts at the maximum-likelihood diagonal Gaussian: ``b``
the column means, ``sigma`` the column standard deviations (at least ``min_sigma``), ``c = 0``
and ``W_ij ~ N(0, (0.01 sigma_i)^2)`` (Hinton's ``N(0, 0.01^2)`` in units of each column's spread).

Randomness and reproducibility
------------------------------
An epoch draws from ``numpy.random.default_rng([seed, epoch])``, ``seed`` a state array drawn from
the run's generator when the state is built: an epoch is a function of the state, the epoch
number and the row order, so a resumed run draws what the uninterrupted run drew. Products of a
mini-batch run on one BLAS thread (small products; also the same bits whatever the BLAS pool).
The epoch is vectorised NumPy. Measured on digits (64 visible, 20 hidden, batches of 20, a busy
2-core machine): 0.115 ms per CD-1 or PCD-1 update and 0.23 ms per CD-5 update, the same in
float32 and float64 (NumPy's per-call overhead dominates: about 20 calls per update). The binary
trainer's Numba engine updates the same shapes several times faster; a kernel here would cut
the default 1000-epoch digits run (about 16 s) by a similar factor, at a first-call compile cost
of seconds. Not written yet: the NumPy epoch is the reference a kernel would have to match.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._blas import one_thread
from .._validation import check_names, describe
from ..exceptions import ParameterTypeError, StateError, ValidationError
from ..models.gaussian_rbm import GaussianBernoulliRBM
from ._real_data import check_real_data
from .monitors import check_monitor_spec
from ._trainer import (
    MAX_GIBBS_STEPS,
    RUNAWAY_BOUND,
    Deferred,
    Trainer,
    check_chain_entries,
    check_nonnegative_float,
    check_positive_int,
)
from .contrastive_divergence import ContrastiveDivergence, _check_momentum, _Schedule, hinton_momentum

__all__ = ["GaussianBernoulliCD", "initial_gaussian_rbm", "GAUSSIAN_MONITORS", "AUTO_UPDATES"]

#: parameter updates of a run with ``epochs="auto"``: 1000 epochs of the 1437 digits in batches of 20
#: (benchmarks/bench_gaussian_digits.py; see the class docstring)
AUTO_UPDATES = 72_000
#: the monitors ``monitor=`` may name: those of :mod:`.monitors` that measure Gaussian-Bernoulli RBMs
GAUSSIAN_MONITORS = ("log_likelihood", "free_energy_gap", "reconstruction_error")
#: the smallest ``min_sigma`` accepted: with it, the model's energy bound stays far below its
#: limit for every parameter within the runaway bound
SMALLEST_MIN_SIGMA = 1e-10
#: the largest ``min_sigma`` accepted (a floor far beyond any standardised data)
LARGEST_MIN_SIGMA = 1e10
#: largest magnitude of the data :func:`initial_gaussian_rbm` accepts: its means, spreads and weights
#: stay far below the models' limit on parameter magnitudes (1e150)
MAX_DATA_MAGNITUDE = 1e100
# log sigma beyond this makes sigma = exp(log sigma) overflow float64: treated as divergence
_LOG_SIGMA_LIMIT = 700.0
# Initial weights: N(0, (_WEIGHT_SCALE * sigma_i)^2), Hinton's 0.01 in units of each column's spread.
_WEIGHT_SCALE = 0.01


class GaussianCDState(NamedTuple):
    """The working state of a run: parameters and velocities in the training dtype, chains, seeds, sums."""

    weights: np.ndarray  # (n_visible, n_hidden)
    visible_bias: np.ndarray  # (n_visible,)
    hidden_bias: np.ndarray  # (n_hidden,)
    log_sigma: np.ndarray  # (n_visible,)
    weights_velocity: np.ndarray
    visible_velocity: np.ndarray
    hidden_velocity: np.ndarray
    log_sigma_velocity: np.ndarray
    chains: np.ndarray  # (n_chains, n_visible) persistent visible states; (0, n_visible) for CD
    seeds: np.ndarray  # int64 (2,): the epochs' sampling seed, the monitors' seed
    sum_weights: np.ndarray  # float64 running sums for averaging
    sum_visible_bias: np.ndarray
    sum_hidden_bias: np.ndarray
    sum_log_sigma: np.ndarray
    sum_count: np.ndarray  # int64 (1,)


def _sigmoid(x):
    """``1 / (1 + exp(-x))`` in place of ``x`` (exp overflow gives exactly 0: the caller ignores the warning)."""
    np.negative(x, out=x)
    np.exp(x, out=x)
    x += 1.0
    np.reciprocal(x, out=x)
    return x


def _column_moments(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column means and standard deviations in float64, without overflow for large values (scaled by the largest)."""
    data = np.asarray(data, dtype=np.float64)
    scale = np.max(np.abs(data), axis=0)
    scale[scale == 0] = 1.0
    scaled = data / scale
    return scaled.mean(axis=0) * scale, scaled.std(axis=0) * scale


def initial_gaussian_rbm(n_hidden, data, visible_names=None, rng=None, *, min_sigma=1e-2) -> GaussianBernoulliRBM:
    """The starting model of :class:`GaussianBernoulliCD`: the maximum-likelihood diagonal Gaussian, small weights.

    ``b`` the column means, ``sigma`` the column standard deviations (raised to ``min_sigma``),
    ``c = 0``, ``W_ij ~ N(0, (0.01 sigma_i)^2)``.

    Parameters
    ----------
    n_hidden : int >= 1
    data : ndarray of finite real numbers, shape (n_samples >= 1, n_visible >= 1)
    visible_names : sequence of str, optional
    rng : None, int or numpy.random.Generator
    min_sigma : float > 0, default 1e-2
    """
    from .._validation import check_int, check_rng
    from ..models._gaussian_parts import check_real_states
    from ._trainer import MAX_PARAMETERS

    n_hidden = check_int(n_hidden, "n_hidden", minimum=1)
    min_sigma = check_nonnegative_float(min_sigma, "min_sigma", strict=True)
    if not SMALLEST_MIN_SIGMA <= min_sigma <= LARGEST_MIN_SIGMA:
        raise ValidationError(f"min_sigma must be from {SMALLEST_MIN_SIGMA:g} to {LARGEST_MIN_SIGMA:g}, got {min_sigma!r}")
    if not (isinstance(data, np.ndarray) and data.ndim == 2):
        raise StateError(f"data must be a 2-D array (n_samples, n_visible) of real numbers, got {describe(data)}")
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise ValidationError(f"data must hold at least one sample of at least one unit, got shape {data.shape}")
    data, _ = check_real_states(data, data.shape[1], "data")
    largest = float(np.max(np.abs(data)))
    if largest > MAX_DATA_MAGNITUDE:
        raise ValidationError(f"data holds values up to {largest:.3g}, beyond {MAX_DATA_MAGNITUDE:g}; standardise the data")
    if data.shape[1] * n_hidden > MAX_PARAMETERS:
        raise ValidationError(f"n_hidden={n_hidden} with {data.shape[1]} visible units needs more than {MAX_PARAMETERS} weights")
    if visible_names is not None:
        visible_names = check_names(visible_names, data.shape[1], "visible_names")
    generator = check_rng(rng)
    means, spreads = _column_moments(data)
    sigma = np.maximum(spreads, min_sigma)
    weights = generator.normal(0.0, _WEIGHT_SCALE, size=(data.shape[1], n_hidden)) * sigma[:, None]
    return GaussianBernoulliRBM(weights, means, np.zeros(n_hidden), sigma, visible_names=visible_names)


def _check_k(value, name):
    return check_positive_int(value, name, maximum=MAX_GIBBS_STEPS)


class GaussianBernoulliCD(Trainer):
    r"""Train a Gaussian-Bernoulli RBM by contrastive divergence (CD-k) or persistent CD, ``sigma`` learned as ``log sigma``.

    The update, its derivation and the reason for each stabilisation are in the module docstring
    (:mod:`pgm_energy.learning.gaussian_cd`). In short: positive statistics ``p(h | v)`` of the
    data; a negative phase of ``k`` block-Gibbs steps (``h`` Bernoulli samples, ``v`` samples of
    ``N(b + W h, sigma^2)``) from the data (CD) or from persistent chains (PCD); the last hidden
    layer enters as probabilities; ``W`` and ``b`` follow Hinton's ``<v h>_data - <v h>_model``
    (the likelihood gradient times ``sigma_i^2``), ``c`` its gradient, ``log sigma`` its exact
    gradient estimate with its own, smaller learning rate, floored at ``log(min_sigma)``.

    The defaults are the recipe chosen on a validation split of the training digits
    (``benchmarks/bench_gaussian_digits.py``; 64 dequantised grey levels, 20 hidden units): CD-5
    with Hinton's momentum, learning rate 0.01, weight decay 1e-2, batches of 20, averaging over
    the last 10% of the epochs, ``epochs="auto"`` (:data:`AUTO_UPDATES`, 72,000 updates: 1000
    epochs there). Validation log-likelihoods of that search (nats per image, 1150 training rows,
    one seed; runs differ by about 0.8 nats between seeds): CD-5 with momentum 0.9, 1000 epochs,
    50.4 (factor analysis with 40 factors: 50.6); 300 epochs 49.6; PCD-1 (no momentum) at its best
    learning rate, 1000 epochs, 48.8; weight decay 1e-3 or 3e-2 instead of 1e-2, 0.5 to 1 nat less.
    It is one data set: treat the defaults as a starting point.

    **Standardise the data** (zero mean, unit variance per column, as in Hinton's guide §13.2): the
    defaults (``min_sigma``, the learning rates) are in those units. A new model starts at the
    maximum-likelihood diagonal Gaussian of the data (column means and standard deviations).

    Parameters
    ----------
    k : int >= 1, callable or sequence of int, default 5
        Gibbs steps per update, as in :class:`~pgm_energy.learning.ContrastiveDivergence`.
    persistent : bool, default False
        PCD (``n_chains`` visible chains kept across updates; each update draws their hidden layer
        from ``p(h | v)`` under the current parameters) instead of CD-k (chains start at the data).
    n_chains : int >= 1, optional
        Persistent chains; default ``batch_size``. Only with ``persistent=True``.
    learning_rate : float > 0, default 0.01
        Step size of ``W``, ``b`` and ``c`` per mini-batch.
    sigma_learning_rate : float >= 0, optional
        Step size of ``log sigma``; default ``learning_rate / 10``. Ignored with ``learn_sigma=False``.
    learn_sigma : bool, default True
        False keeps the standard deviations exactly those of the starting model (for a new model,
        the column standard deviations), bit for bit.
    min_sigma : float, default 1e-2
        Floor of the standard deviations (in the data's units), at least 1e-10; with
        ``learn_sigma`` a starting ``sigma`` below it is raised to it.
    momentum : float in [0, 1], callable or sequence, optional
        Default (None): 0 for PCD; for CD 0.5 for the first 5 epochs, then 0.9. Applied to every
        parameter, ``log sigma`` included.
    weight_decay : float >= 0, default 1e-2
        L2 penalty on the weights (``- weight_decay W`` in each step of ``W``).
    batch_size : int >= 1 or None, default 20
        Rows per update (None: the full batch); the last batch of an epoch may be smaller.
    epochs : int >= 1 or "auto", default "auto"
        ``"auto"``: ``ceil(AUTO_UPDATES / updates per epoch)`` epochs, about :data:`AUTO_UPDATES`
        parameter updates per run.
    averaging : int >= 1, float in (0, 1] or None, default 0.1
        Return the mean of the parameters (of ``log sigma`` for ``sigma``) over the last epochs,
        as :class:`~pgm_energy.learning.ContrastiveDivergence`.
    dtype : "float32" or "float64", default "float32"
        Precision of the training arrays (the returned model is float64).
    monitor : "auto", None, or sequence of names and Monitor objects
        The shared monitors (:mod:`pgm_energy.learning.monitors`) that measure Gaussian-Bernoulli
        RBMs, by the names in :data:`GAUSSIAN_MONITORS` or as objects: ``"log_likelihood"`` (exact
        mean log density in nats on the fixed training subset and the validation data; ``n_hidden``
        at most the monitor's ``max_units``, checked before the first epoch), ``"free_energy_gap"``
        (needs validation data) and ``"reconstruction_error"`` (mean over rows of
        ``sum_i (v_i - (b + W h)_i)^2``, ``h ~ p(h | v)``: CD records it after every epoch for free,
        PCD measures it on 256 rows of the subset). ``"auto"``: the free-energy gap with validation
        data, the exact log-likelihood up to 20 hidden units, and PCD's reconstruction error.
        Measured every ``monitor_every`` epochs (CD's reconstruction error, and PCD's when named,
        after every epoch) on the current (not averaged) parameters.
    monitor_every, checkpoint_every, checkpoint_path
        See :class:`~pgm_energy.learning._trainer.Trainer`.

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy.learning.gaussian_cd import GaussianBernoulliCD
    >>> data = np.random.default_rng(0).normal(size=(100, 4))
    >>> result = GaussianBernoulliCD(epochs=3, batch_size=10).fit(3, data, rng=0, progress=False)
    >>> result.model.n_hidden, len(result.history), sorted(result.history.to_pandas().columns)
    (3, 3, ['log_likelihood', 'reconstruction_error', 'seconds'])
    """

    _model_types = (GaussianBernoulliRBM,)
    _binary_state = ()

    def __init__(
        self,
        *,
        k=5,
        persistent=False,
        n_chains=None,
        learning_rate=0.01,
        sigma_learning_rate=None,
        learn_sigma=True,
        min_sigma=1e-2,
        momentum=None,
        weight_decay=1e-2,
        batch_size=20,
        epochs="auto",
        averaging=0.1,
        dtype="float32",
        monitor="auto",
        monitor_every=None,
        checkpoint_every=None,
        checkpoint_path=None,
    ):
        spec = check_monitor_spec(monitor, model_kind="a Gaussian-Bernoulli RBM", names=GAUSSIAN_MONITORS)
        super().__init__(batch_size=batch_size, epochs=epochs, monitor=spec,
                         monitor_every=monitor_every,
                         checkpoint_every=checkpoint_every, checkpoint_path=checkpoint_path, binarize=None,
                         dtype=dtype)
        self.k = _Schedule(k, "k", _check_k)
        if not isinstance(persistent, (bool, np.bool_)):
            raise ParameterTypeError(f"persistent must be True or False, got {describe(persistent)}")
        self.persistent = bool(persistent)
        if n_chains is not None:
            if not self.persistent:
                raise ValidationError(f"n_chains={n_chains!r} only applies with persistent=True")
            n_chains = check_positive_int(n_chains, "n_chains")
        self.n_chains = n_chains
        self.learning_rate = check_nonnegative_float(learning_rate, "learning_rate", strict=True)
        if not isinstance(learn_sigma, (bool, np.bool_)):
            raise ParameterTypeError(f"learn_sigma must be True or False, got {describe(learn_sigma)}")
        self.learn_sigma = bool(learn_sigma)
        self.sigma_learning_rate = (
            self.learning_rate / 10.0 if sigma_learning_rate is None
            else check_nonnegative_float(sigma_learning_rate, "sigma_learning_rate")
        )
        self.min_sigma = check_nonnegative_float(min_sigma, "min_sigma", strict=True)
        if not SMALLEST_MIN_SIGMA <= self.min_sigma <= LARGEST_MIN_SIGMA:
            raise ValidationError(
                f"min_sigma must be from {SMALLEST_MIN_SIGMA:g} to {LARGEST_MIN_SIGMA:g}, got {min_sigma!r}")
        if momentum is None:
            momentum = 0.0 if self.persistent else hinton_momentum
        self.momentum = _Schedule(momentum, "momentum", _check_momentum)
        self.weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        self.averaging = ContrastiveDivergence._check_averaging(averaging)

    def _epoch_monitors(self) -> list:
        """PCD's reconstruction error on the monitors' training subset (CD's epochs give it for free), as
        :class:`~pgm_energy.learning.ContrastiveDivergence` does."""
        from .monitors import SampledReconstruction

        if not self.persistent:
            return []
        if self.monitor == "auto":
            return [SampledReconstruction(np.float64, every_epoch=False)]
        if "reconstruction_error" in self.monitor:
            return [SampledReconstruction(np.float64)]
        return []

    # ------------------------------------------------------------------ options
    def _epochs_for(self, data) -> int:
        if self.epochs != "auto":
            return self.epochs
        return max(1, -(-AUTO_UPDATES // -(-data.shape[0] // self._batch_rows(data))))

    def _averaged_epochs(self) -> int:
        return ContrastiveDivergence._averaged_epochs(self)

    def _batch_rows(self, data) -> int:
        return self.batch_size if self.batch_size is not None else data.shape[0]

    def _n_chains(self, data) -> int:
        if not self.persistent:
            return 0
        return self.n_chains if self.n_chains is not None else self._batch_rows(data)

    def _settings(self) -> dict:
        return {
            **super()._settings(),
            "k": self.k.describe(),
            "persistent": self.persistent,
            "n_chains": self.n_chains,
            "learning_rate": self.learning_rate,
            "sigma_learning_rate": self.sigma_learning_rate,
            "learn_sigma": self.learn_sigma,
            "min_sigma": self.min_sigma,
            "momentum": self.momentum.describe(),
            "weight_decay": self.weight_decay,
            "averaging": self.averaging,
        }

    def _resume_settings(self) -> tuple[str, ...]:
        extra = ("averaging",) if self.averaging is None else ("averaging", "epochs")
        return ("batch_size", "dtype", "persistent", "n_chains", "learn_sigma", "min_sigma", *extra)

    # ------------------------------------------------------------------ data
    def fit(self, model_or_size, data, *, validation=None, rng=None, callbacks=(), progress=True, resume_from=None):
        """Train and return the model with its history; see :meth:`Trainer.fit` and the class docstring.

        Parameters
        ----------
        model_or_size : GaussianBernoulliRBM or int
            A starting model (at temperature 1; unchanged) or the number of hidden units of a new one.
        data, validation : array_like of finite real numbers, shape (n_samples, n_visible), or pandas.DataFrame
            Non-finite values are refused (a StateError naming ``data`` or ``validation``).
        rng, callbacks, progress, resume_from
            As :meth:`Trainer.fit`.
        """
        return super().fit(model_or_size, data, validation=validation, rng=rng, callbacks=callbacks,
                           progress=progress, resume_from=resume_from)

    def _check_data(self, data, visible_names, name: str = "data"):
        """Real-valued rows as a C-contiguous array in the training dtype, and the visible names."""
        return check_real_data(data, visible_names, name, self.dtype)

    # ------------------------------------------------------------------ models
    def _check_model(self, model) -> None:
        if model.temperature != 1.0:
            raise ValidationError(
                f"training starts from a model at temperature 1, got temperature={model.temperature!r} "
                "(a Gaussian-Bernoulli RBM at temperature T is not a rescaled model at temperature 1)"
            )

    def _initial_model(self, model_or_size, data, visible_names, rng):
        if isinstance(model_or_size, GaussianBernoulliRBM):
            model = model_or_size
        else:
            model = initial_gaussian_rbm(int(model_or_size), data, visible_names, rng, min_sigma=self.min_sigma)
        return model

    def _initial_state(self, model, data, rng):
        dtype = self.dtype
        n_chains = self._n_chains(data)
        check_chain_entries(n_chains, model.n_visible + model.n_hidden, f"n_chains={n_chains}")
        log_sigma = np.log(model.sigma)
        if self.learn_sigma:
            log_sigma = np.maximum(log_sigma, math.log(self.min_sigma))
        # chains: one ancestral draw of the starting model's hidden biases, then v | h
        p = 1.0 / (1.0 + np.exp(-np.asarray(model.hidden_bias)))
        hidden = (rng.random((n_chains, model.n_hidden)) < p).astype(np.float64)
        chains = hidden @ model.weights.T + model.visible_bias + np.exp(log_sigma) * rng.standard_normal(
            (n_chains, model.n_visible))
        seeds = rng.integers(0, 2**62, size=2, dtype=np.int64)
        weights = np.array(model.weights, dtype=dtype, order="C")
        return GaussianCDState(
            weights=weights, visible_bias=np.array(model.visible_bias, dtype=dtype),
            hidden_bias=np.array(model.hidden_bias, dtype=dtype), log_sigma=log_sigma.astype(dtype),
            weights_velocity=np.zeros_like(weights), visible_velocity=np.zeros(model.n_visible, dtype=dtype),
            hidden_velocity=np.zeros(model.n_hidden, dtype=dtype), log_sigma_velocity=np.zeros(model.n_visible, dtype=dtype),
            chains=np.ascontiguousarray(chains, dtype=dtype), seeds=seeds,
            sum_weights=np.zeros(model.weights.shape), sum_visible_bias=np.zeros(model.n_visible),
            sum_hidden_bias=np.zeros(model.n_hidden), sum_log_sigma=np.zeros(model.n_visible),
            sum_count=np.zeros(1, dtype=np.int64),
        )

    # ------------------------------------------------------------------ the epoch
    def _run_epoch(self, state, data, order, epoch):
        generator = np.random.default_rng([int(state.seeds[0]), epoch])
        rows = self._batch_rows(data)
        k, momentum = self.k(epoch), self.momentum(epoch)
        error = 0.0
        with one_thread():
            for start in range(0, order.shape[0], rows):
                batch = data[order[start : start + rows]] if rows < data.shape[0] else data
                error += self._update(state, batch, generator, k, momentum)
        if epoch > self.epochs - self._averaged_epochs():
            for total, current in zip((state.sum_weights, state.sum_visible_bias, state.sum_hidden_bias, state.sum_log_sigma),
                                      (state.weights, state.visible_bias, state.hidden_bias, state.log_sigma)):
                total += current
            state.sum_count[0] += 1
        return {} if self.persistent else {"reconstruction_error": error / data.shape[0]}

    def _update(self, state, batch, generator, k, momentum) -> float:
        """One mini-batch update of ``state`` in place; returns CD's summed reconstruction error (0 for PCD)."""
        weights, b, c, log_sigma = state.weights, state.visible_bias, state.hidden_bias, state.log_sigma
        dtype = weights.dtype
        precision = np.exp(-2.0 * log_sigma)  # 1 / sigma^2
        sigma = np.exp(log_sigma)
        positive = _sigmoid((batch * precision) @ weights + c)  # P0 = p(h | data)
        if self.persistent:
            visible = state.chains
            probabilities = _sigmoid((visible * precision) @ weights + c)
        else:
            visible, probabilities = batch, positive
        error = 0.0
        for step in range(k):
            hidden = (generator.random(probabilities.shape, dtype=dtype) < probabilities).astype(dtype)
            mean = hidden @ weights.T
            mean += b
            if step == 0 and not self.persistent:
                error = float(np.sum(np.square(batch - mean), dtype=np.float64))
            noise = generator.standard_normal(mean.shape, dtype=dtype)
            noise *= sigma
            visible = mean + noise
            probabilities = _sigmoid((visible * precision) @ weights + c)
        if self.persistent:
            state.chains[...] = visible
        n, m = batch.shape[0], visible.shape[0]
        rate, velocity = self.learning_rate, state.weights_velocity
        # W, b: Hinton's <v h>_data - <v h>_model (the gradient times sigma_i^2); c: its gradient
        step_weights = batch.T @ positive
        step_weights /= n
        step_weights -= (visible.T @ probabilities) / m
        if self.weight_decay:
            step_weights -= self.weight_decay * weights
        step_visible = batch.mean(axis=0) - visible.mean(axis=0)
        step_hidden = positive.mean(axis=0) - probabilities.mean(axis=0)
        if self.learn_sigma:
            # dL/dz_i = s_i [<(v_i - b_i)^2 - 2 v_i (W p)_i>_data - <...>_model]   (module docstring)
            data_term = np.square(batch - b) - 2.0 * batch * (positive @ weights.T)
            model_term = np.square(visible - b) - 2.0 * visible * (probabilities @ weights.T)
            step_sigma = precision * (data_term.mean(axis=0) - model_term.mean(axis=0))
        for parameter, velocity, step, size in (
            (weights, state.weights_velocity, step_weights, rate),
            (b, state.visible_velocity, step_visible, rate),
            (c, state.hidden_velocity, step_hidden, rate),
        ):
            velocity *= momentum
            velocity += size * step
            parameter += velocity
        if self.learn_sigma:
            velocity = state.log_sigma_velocity
            velocity *= momentum
            velocity += self.sigma_learning_rate * step_sigma
            log_sigma += velocity
            floor = dtype.type(math.log(self.min_sigma))
            below = log_sigma < floor
            if below.any():
                log_sigma[below] = floor
                velocity[below] = np.maximum(velocity[below], 0)
        return error

    # ------------------------------------------------------------------ models and checkpoints
    def _parameters(self, state) -> tuple:
        return (state.weights, state.visible_bias, state.hidden_bias, state.log_sigma)

    def _finite(self, state) -> bool:
        return bool(
            np.isfinite(state.weights).all() and np.isfinite(state.visible_bias).all()
            and np.isfinite(state.hidden_bias).all() and np.isfinite(state.weights_velocity).all()
            and np.isfinite(state.log_sigma).all() and (state.log_sigma < _LOG_SIGMA_LIMIT).all()
            and np.isfinite(state.chains).all()
        )

    def _sigma_of(self, log_sigma, template) -> np.ndarray:
        if not self.learn_sigma:
            return template.sigma  # bit for bit the starting model's
        return np.exp(np.asarray(log_sigma, dtype=np.float64))

    def _model(self, weights, visible_bias, hidden_bias, log_sigma, template) -> GaussianBernoulliRBM:
        return GaussianBernoulliRBM(
            np.asarray(weights, dtype=np.float64), np.asarray(visible_bias, dtype=np.float64),
            np.asarray(hidden_bias, dtype=np.float64), self._sigma_of(log_sigma, template),
            visible_names=template.visible_names, hidden_names=template.hidden_names,
        )

    def _model_from(self, state, template):
        return self._model(state.weights, state.visible_bias, state.hidden_bias, state.log_sigma, template)

    def _deferred_model(self, state, template):
        copies = tuple(np.array(array, copy=True) for array in self._parameters(state))
        return Deferred(lambda: self._model(*copies, template))

    def _final_model(self, state, template):
        count = int(state.sum_count[0])
        if count == 0:
            return self._model_from(state, template)
        return self._model(state.sum_weights / count, state.sum_visible_bias / count, state.sum_hidden_bias / count,
                           state.sum_log_sigma / count, template)

    def _state_arrays(self, state) -> dict:
        return state._asdict()

    def _restore(self, arrays, template, data):
        missing = [name for name in GaussianCDState._fields if name not in arrays]
        if missing:
            raise ValidationError(f"the checkpoint lacks the training state {missing!r}")
        state = GaussianCDState(**{name: np.ascontiguousarray(arrays[name]).copy() for name in GaussianCDState._fields})
        if state.weights.dtype != self.dtype:
            raise ValidationError(f"the checkpoint was trained in {state.weights.dtype}, this trainer uses {self.dtype}")
        return state

    def _check_state_values(self, arrays, template, epoch, damaged) -> None:
        averaged = self._averaged_epochs()
        expected = max(0, min(epoch, self.epochs) - (self.epochs - averaged)) if averaged else 0
        if int(arrays["sum_count"][0]) != expected:
            raise damaged(f"'sum_count' must be {expected} (averaged epochs so far), got {int(arrays['sum_count'][0])}")
        log_sigma = arrays["log_sigma"]
        if self.learn_sigma and log_sigma.size and log_sigma.min() < log_sigma.dtype.type(math.log(self.min_sigma)):
            raise damaged(f"'log_sigma' must be at least log(min_sigma) = {math.log(self.min_sigma):.6g}")
        if log_sigma.size and log_sigma.max() >= _LOG_SIGMA_LIMIT:
            raise damaged(f"'log_sigma' must be below {_LOG_SIGMA_LIMIT} (sigma = exp(log_sigma) finite)")
        limit = expected * RUNAWAY_BOUND[self.dtype]
        for name in ("sum_weights", "sum_visible_bias", "sum_hidden_bias", "sum_log_sigma"):
            if arrays[name].size and np.abs(arrays[name]).max() > limit:
                raise damaged(f"'{name}' is beyond {expected} times the runaway bound")
