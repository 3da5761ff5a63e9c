r"""A scikit-learn transformer for real-valued data: the Gaussian-Bernoulli RBM, with a true log density.

:class:`GaussianBernoulliRBM` wraps pgm_energy's
:class:`~pgm_energy.models.gaussian_rbm.GaussianBernoulliRBM` (real visible units with learned
standard deviations, binary hidden units) and its trainers,
:class:`~pgm_energy.learning.GaussianBernoulliCD` (``method="cd"``) and
:class:`~pgm_energy.learning.GaussianExactGradient` (``method="exact"``), behind scikit-learn's
transformer interface: ``fit``, ``transform`` (the hidden probabilities ``p(h = 1 | x)``: features
for a classifier in a ``Pipeline``), ``score_samples``, ``score``, ``clone``, ``set_output``.

scikit-learn has no Gaussian RBM: its ``BernoulliRBM`` takes values in ``[0, 1]``, and the two
pull requests that proposed a Gaussian one were closed unmerged. So this class has no
scikit-learn original to be a drop-in for; it follows the naming of
:class:`pgm_energy.sklearn.BernoulliRBM` and ``sklearn.neural_network.BernoulliRBM``
(``n_components``, ``n_iter``, ``components_``, ``intercept_hidden_``, ``intercept_visible_``).
What differs from scikit-learn's ``BernoulliRBM``, on purpose:

- The inputs are real numbers, standardised by default (``standardize=True``: the trainers'
  defaults are in units of one standard deviation) and optionally ZCA-whitened
  (``whiten=True``, :class:`~pgm_energy.learning.whitening.Whitening`), which gives the model a
  full shared covariance. Both are fitted in ``fit`` and applied in every method.
- ``score_samples`` is the true log density of each row in the space of the **original**
  data, in nats: ``-F(y) - log Z`` of the preprocessed row ``y``, plus the log-Jacobian of the
  preprocessing, so it integrates to 1 over the data space and compares across settings of
  ``standardize`` and ``whiten``. ``log Z`` is computed once in ``fit``: exactly up to 20
  hidden units, else by annealed importance sampling seeded from ``random_state``.
  (scikit-learn's ``BernoulliRBM.score_samples`` is a randomised pseudo-likelihood.)
- A feature constant in the training rows is not trained: it gets no weights and the
  trainers' floor ``sigma = 1e-2`` (training units) around its value (a unit on the floor
  stalls the exact trainer's L-BFGS).
- There is no ``partial_fit`` and no ``gibbs``; sparse input is refused (the preprocessing
  would densify it).

This module imports scikit-learn (>= 1.6) when it is imported; ``import pgm_energy`` does not.
"""

from __future__ import annotations

import numbers
from contextlib import contextmanager

import numpy as np
import scipy.sparse

from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ..exceptions import ModelSizeError, ParameterTypeError, StateError, ValidationError
from ..learning import GaussianBernoulliCD, GaussianExactGradient, TrainingHistory
from ..learning._trainer import MAX_EPOCHS, MAX_GIBBS_STEPS
from ..learning.whitening import Whitening
from ..models import GaussianBernoulliRBM as _Model
from ..models._base import MAX_PARAMETERS
from .sklearn import EXACT_MAX_UNITS, EstimatorParameterError, _generator

__all__ = ["GaussianBernoulliRBM"]

#: AIS importance weights for ``log Z`` beyond :data:`EXACT_MAX_UNITS` hidden units (with the
#: 14,500-step schedule of Salakhutdinov & Murray: about 4 s for 64 features and 30 hidden units)
AIS_RUNS = 100
# Standard deviation of a feature constant in the training rows (training units): the trainers' min_sigma.
_CONSTANT_SIGMA = 1e-2


class GaussianBernoulliRBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    r"""Gaussian-Bernoulli restricted Boltzmann machine with scikit-learn's transformer interface.

    Real-valued visible units ``v`` (the preprocessed features) and binary hidden units ``h``,
    :math:`E(v, h) = \sum_i (v_i - b_i)^2 / (2\sigma_i^2) - c^\top h - \sum_{ij} (v_i / \sigma_i^2) W_{ij} h_j`
    with ``W = components_.T``, ``b = intercept_visible_``, ``c = intercept_hidden_`` and
    ``sigma = sigma_`` (see :class:`~pgm_energy.models.gaussian_rbm.GaussianBernoulliRBM`).

    Parameters
    ----------
    n_components : int >= 1, default 20
        Number of binary hidden units (at most 20 with ``method="exact"``).
    method : {"cd", "exact"}, default "cd"
        ``"cd"``: contrastive divergence, :class:`~pgm_energy.learning.GaussianBernoulliCD` (CD-k,
        momentum 0.5 then 0.9, parameters averaged over the last 10% of the passes).
        ``"exact"``: maximum likelihood by full-batch L-BFGS on the exact gradient,
        :class:`~pgm_energy.learning.GaussianExactGradient` (enumerates ``2**n_components``
        hidden states).
    learning_rate : float > 0, default 0.01
        Step size of CD per mini-batch (the standard deviations learn at a tenth of it).
        Ignored with ``method="exact"``.
    batch_size : int >= 1, default 20
        Rows per CD update (at most the number of rows). Ignored with ``method="exact"``.
    n_iter : int >= 1, default 100
        Passes over the data (``"cd"``) or L-BFGS iterations (``"exact"``).
    k : int >= 1, default 5
        Gibbs steps per CD update. Ignored with ``method="exact"``.
    weight_decay : float >= 0, default 1e-2
        L2 penalty on the weights.
    standardize : bool, default True
        Centre each feature and divide it by its standard deviation (1 for a constant feature)
        before training, in every method.
    whiten : bool, default False
        ZCA-whiten the (standardised) features (:class:`~pgm_energy.learning.whitening.Whitening`,
        regularisation 1e-3); needs at least 2 rows.
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        Seeds the initial weights, the sampling of CD and the AIS estimate of ``log Z``. An int
        gives the same bits on every fit.
    verbose : int or bool, default 0
        Print one line per pass (CD's reconstruction error, or the exact log-likelihood).

    Attributes
    ----------
    model_ : pgm_energy.models.GaussianBernoulliRBM
        The fitted machine, on the preprocessed features (visible names: the feature names when
        usable as unit names).
    components_ : ndarray of shape (n_components, n_features)
        ``W.T`` (a copy of ``model_.weights.T``).
    intercept_hidden_ : ndarray of shape (n_components,)
    intercept_visible_ : ndarray of shape (n_features,)
    sigma_ : ndarray of shape (n_features,)
        Standard deviations of the visible units, in preprocessed units.
    mean_, scale_ : ndarray of shape (n_features,) or None
        The training mean and standard deviation of each feature (None without ``standardize``).
    whitening_ : pgm_energy.learning.whitening.Whitening or None
        The whitening fitted to the standardised rows (None without ``whiten``).
    log_z_ : float
        ``log Z`` of ``model_`` (exact up to 20 hidden units, else an AIS estimate).
    history_ : pgm_energy.learning.TrainingHistory
        The trainer's record of each pass.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when ``X`` had string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy.interop.sklearn_gaussian import GaussianBernoulliRBM
    >>> X = np.random.default_rng(0).normal(size=(200, 3))
    >>> rbm = GaussianBernoulliRBM(n_components=2, n_iter=5, random_state=0).fit(X)
    >>> rbm.transform(X).shape
    (200, 2)
    >>> rbm.score_samples(X[:4]).shape  # log densities of the rows, in nats
    (4,)
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "method": [StrOptions({"cd", "exact"})],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_iter": [Interval(numbers.Integral, 1, MAX_EPOCHS, closed="both")],
        "k": [Interval(numbers.Integral, 1, MAX_GIBBS_STEPS, closed="both")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "standardize": ["boolean"],
        "whiten": ["boolean"],
        "random_state": ["random_state", np.random.Generator],
        "verbose": ["verbose"],
    }

    def __init__(self, n_components=20, *, method="cd", learning_rate=0.01, batch_size=20, n_iter=100, k=5,
                 weight_decay=1e-2, standardize=True, whiten=False, random_state=None, verbose=0):
        # scikit-learn's contract: store the parameters, validate them in fit.
        self.n_components = n_components
        self.method = method
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.k = k
        self.weight_decay = weight_decay
        self.standardize = standardize
        self.whiten = whiten
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ scikit-learn plumbing
    def _validate_params(self):
        """scikit-learn's parameter validation, raising an :class:`EstimatorParameterError`."""
        try:
            super()._validate_params()
        except InvalidParameterError as error:
            raise EstimatorParameterError(str(error)) from None
        for name in ("n_components", "learning_rate", "batch_size", "n_iter", "k", "weight_decay", "random_state"):
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)):  # scikit-learn's Interval and "random_state" let booleans through
                raise EstimatorParameterError(
                    f"The '{name}' parameter of {type(self).__name__} must be a number, not a boolean; got {value!r}."
                )
        if self.method == "exact" and self.n_components > EXACT_MAX_UNITS:
            raise EstimatorParameterError(
                f"The 'n_components' parameter of {type(self).__name__} must be at most {EXACT_MAX_UNITS} with "
                f"method='exact' (it enumerates 2**n_components hidden states), got {self.n_components!r}; "
                "use method='cd'."
            )

    def __sklearn_is_fitted__(self) -> bool:
        return "model_" in self.__dict__

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    def _check_input(self, X, *, reset: bool, method: str) -> np.ndarray:
        """``X`` validated by scikit-learn as a finite float64 2-D array; its errors become pgm_energy's naming ``X``."""
        if scipy.sparse.issparse(X):
            raise ParameterTypeError(f"X is not valid input for {method}: sparse input is not supported "
                                     f"({type(X).__name__}); the standardisation densifies it anyway, pass X.toarray()")
        try:
            return validate_data(self, X, accept_sparse=False, dtype=np.float64, reset=reset)
        except (ValueError, TypeError) as error:
            if isinstance(error, (ValidationError, ParameterTypeError)):
                raise
            # scikit-learn's message, kept (its checks match it), as pgm_energy's error naming the input
            kind = ParameterTypeError if isinstance(error, TypeError) else ValidationError
            raise kind(f"X is not valid input for {method}: {error}") from error

    def _preprocess(self, X: np.ndarray) -> np.ndarray:
        """The rows as the model sees them: standardised, then whitened, per the fitted settings.

        A StateError naming the row when a value is so far out that this overflows.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            if self.mean_ is not None:
                X = (X - self.mean_) / self.scale_
            if self.whitening_ is not None and np.isfinite(X).all():
                X = self.whitening_.transform(X)
        if not np.isfinite(X).all():
            row = int(np.argwhere(~np.isfinite(X))[0, 0])
            raise StateError(f"X[{row}] is too far from the training data: its preprocessed value overflows float64")
        return np.ascontiguousarray(X, dtype=np.float64)

    # ------------------------------------------------------------------ training
    def fit(self, X, y=None):
        """Fit the preprocessing, then train the machine on the preprocessed rows and compute ``log Z``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite real numbers (a DataFrame's string column names become ``feature_names_in_``).
        y : ignored

        Returns
        -------
        self : GaussianBernoulliRBM

        Raises
        ------
        EstimatorParameterError
            For a bad constructor parameter.
        ModelSizeError
            When ``n_components * n_features`` weights are more than any model holds.
        ValidationError, ParameterTypeError
            For an ``X`` that is not a finite 2-D array of numbers, or is sparse (naming ``X``; also
            from the other methods).
        TrainingDivergedError
            When training produced a NaN or runaway parameter (from the trainer; it carries the last good model).
        """
        self._validate_params()
        X = self._check_input(X, reset=True, method="fit")
        n_samples, n_features = X.shape
        if self.n_components * n_features > MAX_PARAMETERS:
            raise ModelSizeError(
                f"n_components={self.n_components} hidden units x {n_features} features is more than "
                f"{MAX_PARAMETERS} weights; use fewer components"
            )
        if self.whiten and n_samples < 2:
            raise ValidationError("whiten=True estimates a covariance: X must hold at least 2 samples, got 1 sample")
        rng = _generator(self.random_state)
        ais_seed = int(rng.integers(2**63))
        self.__dict__.pop("model_", None)  # a refit that fails leaves the estimator unfitted
        mean, scale, constant = _moments(X)
        self.mean_, self.scale_ = (mean, scale) if self.standardize else (None, None)
        self.whitening_ = None
        with _naming_x("fit"):
            data = self._preprocess(X)
            if self.whiten:
                self.whitening_ = Whitening().fit(data)
                data = self._preprocess(X)
            trained, self.history_ = None, TrainingHistory()
            if not constant.all():  # else nothing to learn (one row, or constant features): no training
                callbacks = (self._print_pass,) if self.verbose else ()
                result = self._trainer(n_samples).fit(self.n_components, np.ascontiguousarray(data[:, ~constant]),
                                                      rng=rng, callbacks=callbacks, progress=False)
                trained, self.history_ = result.model, result.history
            model = _named(_with_constant_features(trained, data, constant, self.n_components),
                           getattr(self, "feature_names_in_", None))
        self.components_ = np.array(model.weights.T)
        self.intercept_hidden_ = np.array(model.hidden_bias)
        self.intercept_visible_ = np.array(model.visible_bias)
        self.sigma_ = np.array(model.sigma)
        self._n_features_out = self.n_components
        self._log_jacobian = (0.0 if self.scale_ is None else -float(np.sum(np.log(self.scale_)))) + (
            0.0 if self.whitening_ is None else self.whitening_.log_det)
        self.log_z_ = _log_partition_function(model, data, ais_seed)
        self.model_ = model  # last: the estimator counts as fitted once everything is set
        return self

    def _trainer(self, n_samples: int):
        if self.method == "exact":
            return GaussianExactGradient(epochs=int(self.n_iter), weight_decay=float(self.weight_decay), monitor=None)
        return GaussianBernoulliCD(
            k=int(self.k), learning_rate=float(self.learning_rate), weight_decay=float(self.weight_decay),
            batch_size=min(int(self.batch_size), n_samples), epochs=int(self.n_iter), dtype="float64", monitor=None,
        )

    def _print_pass(self, epoch, model, history) -> None:
        """The ``verbose`` line of a pass (a trainer callback)."""
        record = history.records[-1]
        shown = "".join(f"{key.replace('_', ' ')} = {record[key]:.4f}, " for key in
                        ("reconstruction_error", "log_likelihood_before") if key in record)
        print(f"[{type(self).__name__}] Iteration {epoch}, {shown}time = {record['seconds']:.2f}s")

    # ------------------------------------------------------------------ inference
    def transform(self, X):
        """Hidden activation probabilities ``p(h = 1 | x)`` of the preprocessed rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of float64, shape (n_samples, n_components)
        """
        check_is_fitted(self)
        X = self._check_input(X, reset=False, method="transform")
        with _naming_x("transform"):
            return np.asarray(self.model_.hidden_probabilities(self._preprocess(X)), dtype=np.float64)

    def score_samples(self, X):
        r"""Log density of each row in the space of the original features, in nats.

        With ``y`` the preprocessed row, :math:`\log p(x) = -F(y) - \log Z + \log|\det J|`:
        ``F`` the model's free energy, ``log Z = log_z_``, and the log-Jacobian of the
        preprocessing ``-sum(log scale_)`` (standardisation) plus ``whitening_.log_det``
        (whitening). Deterministic: ``log Z`` was fixed at fit.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of float64, shape (n_samples,)
            A log density: it may be positive.
        """
        check_is_fitted(self)
        X = self._check_input(X, reset=False, method="score_samples")
        with _naming_x("score_samples"):
            free_energy = np.asarray(self.model_.free_energy(self._preprocess(X)), dtype=np.float64)
        return -free_energy - self.log_z_ + self._log_jacobian

    def score(self, X, y=None):
        """Mean log density of the rows of ``X`` (the mean of :meth:`score_samples`), in nats.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        float
        """
        return float(np.mean(self.score_samples(X)))


def _moments(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column means, standard deviations (1 for a constant column) and the constant columns, without overflow."""
    largest = np.max(np.abs(X), axis=0)
    largest[largest == 0] = 1.0
    scaled = X / largest
    mean, std = scaled.mean(axis=0), scaled.std(axis=0)
    # constant up to the rounding of its mean (as StandardScaler), or a spread that underflows
    constant = (std <= 10 * np.finfo(np.float64).eps * np.maximum(np.abs(mean), 1.0)) | (std * largest == 0)
    return mean * largest, np.where(constant, 1.0, std * largest), constant


@contextmanager
def _naming_x(method: str):
    """Re-raise the model's and the trainers' errors about the rows (``visible``, ``data``, a parameter) naming ``X``."""
    try:
        yield
    except ValidationError as error:
        kind = StateError if isinstance(error, StateError) else ValidationError
        raise kind(f"X is not valid input for {method}: {error}") from error


def _with_constant_features(trained, data: np.ndarray, constant: np.ndarray, n_hidden: int) -> _Model:
    """The machine on every feature: ``trained`` on the varying ones, each constant one an independent floor Gaussian.

    A constant feature gets no weights, its value as visible bias and the trainers' floor
    ``sigma = 1e-2``: the maximum likelihood under that floor (without weights the unit separates
    from the others). Not trained: a unit on the floor stalls the exact trainer's L-BFGS.
    """
    n_features = data.shape[1]
    weights, hidden_bias = np.zeros((n_features, n_hidden)), np.zeros(n_hidden)
    visible_bias, sigma = data[0].copy(), np.full(n_features, _CONSTANT_SIGMA)
    if trained is not None:
        weights[~constant] = trained.weights
        visible_bias[~constant] = trained.visible_bias
        sigma[~constant] = trained.sigma
        hidden_bias = np.array(trained.hidden_bias)
    return _Model(weights, visible_bias, hidden_bias, sigma)


def _named(model: _Model, feature_names) -> _Model:
    """``model`` with the feature names as visible names, when they are usable as unit names."""
    if feature_names is None or set(map(str, feature_names)) & set(model.hidden_names):
        return model
    try:
        return _Model(model.weights, model.visible_bias, model.hidden_bias, model.sigma,
                      visible_names=[str(name) for name in feature_names])
    except ValidationError:  # empty, duplicated or NUL-holding names: keep v0, v1, ...
        return model


def _log_partition_function(model: _Model, data: np.ndarray, seed: int) -> float:
    """``log Z`` of ``model``: exact up to :data:`EXACT_MAX_UNITS` hidden units, else AIS from the training rows' means."""
    if model.n_hidden <= EXACT_MAX_UNITS:
        from .. import exact

        return float(exact.log_partition_function(model))
    from .. import ais

    return float(ais.log_partition_function(model, n_runs=AIS_RUNS, base="data", data=data, rng=seed).log_z)
