r"""A drop-in for scikit-learn's ``BernoulliRBM`` whose ``score_samples`` is the true log-likelihood.

:class:`BernoulliRBM` takes the constructor parameters of
:class:`sklearn.neural_network.BernoulliRBM` (plus a few of ours), exposes the same fitted
attributes, and works wherever a scikit-learn transformer does (``Pipeline``, ``clone``,
grid search, ``set_output``). Training runs in pgm_energy's contrastive-divergence engine
(:mod:`pgm_energy.learning._cd_engine`); the fitted machine is available as an immutable
:class:`~pgm_energy.RestrictedBoltzmannMachine` through ``model_``.

Differences from scikit-learn, all on purpose:

- ``score_samples`` returns ``log p(v) = -F(v) - log Z``, deterministic: ``log Z`` by exact
  enumeration when the smaller layer has at most 20 units, else by annealed importance
  sampling seeded at fit time (scikit-learn returns a randomised pseudo-likelihood).
  It accepts what ``fit`` accepts: a grey level ``x`` in ``[0, 1]`` enters the same formula
  ``-F(x) - log Z`` (as in scikit-learn's), which for such rows is a lower bound (Jensen)
  on the expected log-likelihood of binary rows drawn with probabilities ``x``.
- Values outside ``[0, 1]`` are clipped into it by default (``out_of_range="clip"``: test
  pixels a ``MinMaxScaler`` maps slightly beyond 1); ``out_of_range="error"`` refuses them.
  scikit-learn uses them unchanged, outside the model's domain.
- ``partial_fit`` makes one pass over the given rows in mini-batches of ``batch_size``
  (the convention of ``MLPClassifier`` and ``SGDClassifier``), so ``n_iter`` calls of
  ``partial_fit(X)`` reproduce ``fit(X)``; scikit-learn's ``BernoulliRBM.partial_fit``
  makes a single update with all the rows as one batch.
- Rows are shuffled every pass (``shuffle=True``); scikit-learn visits them in order.

This module imports scikit-learn (>= 1.6) when it is imported; ``import pgm_energy`` does not.
"""

from __future__ import annotations

import hashlib
import numbers
import time

import numpy as np
from scipy.special import expit

try:
    from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
    from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions
    from sklearn.utils.extmath import safe_sparse_dot
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as error:  # pragma: no cover - depends on the installed scikit-learn
    raise ImportError(
        "pgm_energy.sklearn needs scikit-learn >= 1.6 (validate_data and __sklearn_tags__): "
        "pip install -U scikit-learn"
    ) from error

from .._math import is_sparse, softplus
from .._validation import check_rng, check_sparse_matrix, describe, refuse_out_of_memory
from ..exceptions import ModelSizeError, ParameterTypeError, TrainingDivergedError, ValidationError
from ..learning._trainer import MAX_EPOCHS, MAX_GIBBS_STEPS, RUNAWAY_BOUND
from ..schedules import MAX_LENGTH
from ..models import RestrictedBoltzmannMachine

__all__ = ["BernoulliRBM", "EstimatorParameterError"]

#: ``log_z="auto"`` enumerates exactly when the smaller layer has at most this many units (2**20 states)
EXACT_MAX_UNITS = 20
# Standard deviation of the initial weights: Hinton's guide, and scikit-learn's BernoulliRBM.
_INITIAL_WEIGHT_SCALE = 0.01
# Rows of the binary stand-in for the training marginals that defines the AIS base model
# (marginals resolved to 1/2000, ample for a base distribution; see _ais_base_data).
_AIS_BASE_ROWS = 2000


class EstimatorParameterError(InvalidParameterError, ValidationError):
    """A constructor parameter of :class:`BernoulliRBM` has a bad type or value.

    Both scikit-learn's ``InvalidParameterError`` (so scikit-learn's tooling recognises it)
    and pgm_energy's :class:`~pgm_energy.exceptions.ValidationError`; hence also a
    ``ValueError`` and a ``TypeError``.
    """


class BernoulliRBM(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    r"""Bernoulli restricted Boltzmann machine with scikit-learn's interface and a true log-likelihood.

    Binary visible and hidden units,
    :math:`E(v, h) = -v^\top W h - b^\top v - c^\top h` with ``W = components_.T``,
    ``b = intercept_visible_`` and ``c = intercept_hidden_``; trained by persistent
    contrastive divergence (PCD-1, Tieleman 2008) as scikit-learn's ``BernoulliRBM`` is.

    Parameters
    ----------
    n_components : int >= 1, default 256
        Number of binary hidden units.
    learning_rate : float > 0, default 0.1
        Step size applied to the gradient averaged over a mini-batch (as scikit-learn,
        which divides its summed update by the batch size).
    batch_size : int >= 1, default 10
        Rows per mini-batch; also the number of persistent chains (fixed at the first fit).
    n_iter : int >= 0, default 10
        Passes over the training data in :meth:`fit`.
    verbose : int or bool, default 0
        Print the reconstruction error and time of each pass.
    random_state : None, int, numpy.random.RandomState or numpy.random.Generator
        Seeds the initial weights, the chains, the shuffles, :meth:`gibbs` and the AIS
        estimate of ``log Z``. An int gives reproducible results.
    k : int >= 1, default 1
        Gibbs steps per update (CD-k / PCD-k).
    persistent : bool, default True
        Persistent chains (PCD, scikit-learn's algorithm); False restarts the chains at the
        data every update (CD-k).
    momentum : float in [0, 1), default 0.0
        Momentum of the parameter updates (Hinton 2010, section 9); scikit-learn has none.
    weight_decay : float >= 0, default 0.0
        L2 penalty on the weights: ``learning_rate * weight_decay * W`` is subtracted each update.
    shuffle : bool, default True
        Shuffle the rows before each pass (scikit-learn's ``BernoulliRBM`` does not).
    dtype : {None, "float32", "float64"}, default None
        Training precision. None follows the input as scikit-learn does: float32 data
        trains in float32, anything else in float64.
    out_of_range : {"clip", "error"}, default "clip"
        Inputs belong in ``[0, 1]`` (binary, or Bernoulli means such as grey levels scaled
        by ``MinMaxScaler``). ``"clip"`` clips other values into ``[0, 1]`` in every method
        (test data a scaler maps slightly outside the range it saw, e.g. 1.07, becomes 1;
        the caller's array is not modified); ``"error"`` refuses them with their position.
    binarize : None or float in [0, 1), default None
        Threshold applied to every input (``fit``, ``partial_fit``, ``transform``, ``gibbs``,
        ``score_samples``) after the range check: ``x > binarize`` becomes 1, else 0 (as
        ``BernoulliNB(binarize=...)``). None uses the values as given (see
        :meth:`score_samples` for grey levels).
    log_z : {"auto", "exact", "ais"}, default "auto"
        How :meth:`score_samples` obtains ``log Z``: exact enumeration
        (:func:`pgm_energy.exact.log_partition_function`), annealed importance sampling
        (:func:`pgm_energy.ais.log_partition_function`), or exact when
        ``min(n_features, n_components) <= 20`` and AIS otherwise.
    ais_runs : int >= 2, default 100
        AIS importance weights.
    ais_steps : None or int >= 1, default None
        AIS intermediate distributions: None is the 14,500-step schedule of Salakhutdinov &
        Murray (2008); an int ``K`` is ``K`` equal steps.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Weight matrix (``W.T``).
    intercept_hidden_ : ndarray of shape (n_components,)
        Hidden biases ``c``.
    intercept_visible_ : ndarray of shape (n_features,)
        Visible biases ``b``.
    h_samples_ : ndarray of shape (n_chains, n_components)
        Hidden states sampled from ``p(h | v)`` of the persistent chains after the last
        update (``n_chains = batch_size``; 0 rows when ``persistent=False``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during fit, when ``X`` was a DataFrame with string column names.
    model_ : RestrictedBoltzmannMachine
        The fitted machine (float64 copy, ``weights = components_.T``); visible names are
        the feature names when known.
    history_ : pgm_energy.learning.TrainingHistory
        One record per pass: ``epoch``, ``seconds``, ``reconstruction_error`` (mean over
        rows of the summed squared error of one reconstruction).

    Raises
    ------
    EstimatorParameterError
        (from ``fit``/``partial_fit``) for a bad constructor parameter.
    ValidationError
        For inputs outside ``[0, 1]`` when ``out_of_range="error"``.
    TrainingDivergedError
        When an update produced a NaN or infinite parameter; the estimator keeps the last
        finite parameters and the error carries them as ``model``.

    Notes
    -----
    Sparse input (CSR/CSC) is accepted as scikit-learn's ``BernoulliRBM`` accepts it;
    ``fit``, ``partial_fit`` and ``score_samples`` densify it (``n_samples * n_features``
    values in the training dtype), ``transform`` and ``gibbs`` do not.

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy.sklearn import BernoulliRBM
    >>> X = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    >>> rbm = BernoulliRBM(n_components=2, n_iter=20, random_state=0).fit(X)
    >>> rbm.transform(X).shape
    (4, 2)
    >>> bool(np.all(rbm.score_samples(X) < 0))  # log-probabilities of the rows
    True
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [Interval(numbers.Real, 0, None, closed="neither")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        # upper bounds: the package's limits on counts (docs/concepts.md), so a typo is refused, not run for ever
        "n_iter": [Interval(numbers.Integral, 0, MAX_EPOCHS, closed="both")],
        "verbose": ["verbose"],
        "random_state": ["random_state", np.random.Generator],
        "k": [Interval(numbers.Integral, 1, MAX_GIBBS_STEPS, closed="both")],
        "persistent": ["boolean"],
        "momentum": [Interval(numbers.Real, 0, 1, closed="left")],
        "weight_decay": [Interval(numbers.Real, 0, None, closed="left")],
        "shuffle": ["boolean"],
        "dtype": [StrOptions({"float32", "float64"}), None],
        "out_of_range": [StrOptions({"error", "clip"})],
        "binarize": [Interval(numbers.Real, 0, 1, closed="left"), None],
        "log_z": [StrOptions({"auto", "exact", "ais"})],
        "ais_runs": [Interval(numbers.Integral, 2, None, closed="left")],
        "ais_steps": [Interval(numbers.Integral, 1, MAX_LENGTH, closed="both"), None],
    }

    def __init__(
        self,
        n_components=256,
        *,
        learning_rate=0.1,
        batch_size=10,
        n_iter=10,
        verbose=0,
        random_state=None,
        k=1,
        persistent=True,
        momentum=0.0,
        weight_decay=0.0,
        shuffle=True,
        dtype=None,
        out_of_range="clip",
        binarize=None,
        log_z="auto",
        ais_runs=100,
        ais_steps=None,
    ):
        # scikit-learn's contract: store the parameters, validate them in fit.
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.verbose = verbose
        self.random_state = random_state
        self.k = k
        self.persistent = persistent
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.shuffle = shuffle
        self.dtype = dtype
        self.out_of_range = out_of_range
        self.binarize = binarize
        self.log_z = log_z
        self.ais_runs = ais_runs
        self.ais_steps = ais_steps

    # ------------------------------------------------------------------ scikit-learn plumbing
    def _validate_params(self):
        """scikit-learn's parameter validation, raising an :class:`EstimatorParameterError`."""
        try:
            super()._validate_params()
        except InvalidParameterError as error:
            raise EstimatorParameterError(str(error)) from None
        for name in ("n_components", "batch_size", "n_iter", "k", "ais_runs", "ais_steps"):
            # scikit-learn's Interval(Integral) lets True and False through
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)):
                raise EstimatorParameterError(f"The '{name}' parameter of {type(self).__name__} must be an int, got {value!r}.")
        if isinstance(self.random_state, (bool, np.bool_)):
            raise EstimatorParameterError(
                f"The 'random_state' parameter of {type(self).__name__} must be None, an int, a RandomState or a "
                f"Generator, got {self.random_state!r}."
            )

    def __sklearn_is_fitted__(self) -> bool:
        return "_state" in self.__dict__

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"] if self.dtype is None else [self.dtype]
        return tags

    def _fitted_state(self, attribute: str):
        state = self.__dict__.get("_state")
        if state is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attribute!r} (call fit first)")
        return state

    # The fitted parameters live once, in the engine's working state (C-contiguous, updated in
    # place); the scikit-learn attributes are views of it, so in-place edits reach the model.
    @property
    def components_(self) -> np.ndarray:
        return self._fitted_state("components_").weights.T

    @components_.setter
    def components_(self, value):
        state = self._fitted_state("components_")
        self._assign(state.weights.T, value, "components_")

    @property
    def intercept_hidden_(self) -> np.ndarray:
        return self._fitted_state("intercept_hidden_").hidden_bias

    @intercept_hidden_.setter
    def intercept_hidden_(self, value):
        self._assign(self._fitted_state("intercept_hidden_").hidden_bias, value, "intercept_hidden_")

    @property
    def intercept_visible_(self) -> np.ndarray:
        return self._fitted_state("intercept_visible_").visible_bias

    @intercept_visible_.setter
    def intercept_visible_(self, value):
        self._assign(self._fitted_state("intercept_visible_").visible_bias, value, "intercept_visible_")

    @staticmethod
    def _assign(target: np.ndarray, value, name: str) -> None:
        array = np.asarray(value)
        if array.shape != target.shape:
            raise ValidationError(f"{name} must have shape {target.shape}, got {describe(value)}")
        if not np.all(np.isfinite(array)):
            raise ValidationError(f"{name} must be finite, got {describe(value)}")
        target[...] = array

    @property
    def _n_features_out(self) -> int:
        return self._fitted_state("_n_features_out").hidden_bias.shape[0]

    @property
    def model_(self) -> RestrictedBoltzmannMachine:
        state = self._fitted_state("model_")
        names = None
        feature_names = self.__dict__.get("feature_names_in_")
        if feature_names is not None:
            names = [str(name) for name in feature_names]
            hidden_names = {f"h{j}" for j in range(state.hidden_bias.shape[0])}
            if (
                any(not name or "\x00" in name or name in hidden_names for name in names)
                or len(set(names)) != len(names)
            ):
                names = None  # not usable as unit names: the model keeps v0, v1, ...
        return RestrictedBoltzmannMachine(
            np.asarray(state.weights, dtype=np.float64),
            np.asarray(state.visible_bias, dtype=np.float64),
            np.asarray(state.hidden_bias, dtype=np.float64),
            visible_names=names,
        )

    # ------------------------------------------------------------------ input
    def _check_input(self, X, *, reset: bool, method: str):
        """Validated ``X`` (float32/float64, dense or CSR) with the range policy and ``binarize`` applied."""
        if is_sparse(X):
            # scipy's compiled conversions trust the index arrays: check them with NumPy first
            # (an out-of-range index would make scikit-learn's validation read out of bounds).
            check_sparse_matrix(X, "v" if method == "gibbs" else "X")
        name = "v" if method == "gibbs" else "X"
        try:
            X = validate_data(self, X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32), reset=reset)
        except (ValueError, TypeError) as error:
            if isinstance(error, (ValidationError, ParameterTypeError)):
                raise
            # scikit-learn's message, kept (its checks match it), as pgm_energy's error naming the input
            kind = ParameterTypeError if isinstance(error, TypeError) else ValidationError
            raise kind(f"{name} is not valid input for {method}: {error}") from error
        if is_sparse(X):
            X = X.tocsr()
            values = X.data
        else:
            values = X
        if values.size and (values.min() < 0.0 or values.max() > 1.0):
            if self.out_of_range == "error":
                row, column, value = _first_outside(X)
                raise ValidationError(
                    f"X must hold values in [0, 1] (binary data, or Bernoulli means such as grey levels "
                    f"scaled by MinMaxScaler), got {value!r} at row {row}, column {column} in {method}; "
                    "rescale the data, or pass out_of_range='clip' to clip it into [0, 1]"
                )
            X = X.copy()
            if is_sparse(X):
                np.clip(X.data, 0.0, 1.0, out=X.data)
            else:
                np.clip(X, 0.0, 1.0, out=X)
        if self.binarize is not None:
            threshold = float(self.binarize)
            if is_sparse(X):
                X = X.copy()
                X.data = (X.data > threshold).astype(X.dtype)
                X.eliminate_zeros()
            else:
                X = (X > threshold).astype(X.dtype)
        return X

    def _training_dtype(self, X) -> np.dtype:
        if self.dtype is not None:
            return np.dtype(self.dtype)
        return np.dtype(np.float32) if X.dtype == np.float32 else np.dtype(np.float64)

    @staticmethod
    def _dense(X, dtype) -> np.ndarray:
        array = X.toarray() if is_sparse(X) else X
        return np.ascontiguousarray(array, dtype=dtype)

    # ------------------------------------------------------------------ training
    def _initialize_checked(self, n_features: int, dtype: np.dtype, rng: np.random.Generator) -> None:
        """:meth:`_initialize`, with sizes no machine can hold refused as a ModelSizeError naming them."""
        from ..models._base import MAX_PARAMETERS

        if self.n_components * n_features > MAX_PARAMETERS:
            raise ModelSizeError(
                f"n_components={self.n_components} hidden units x {n_features} features is more than "
                f"{MAX_PARAMETERS} weights; use fewer components"
            )
        with refuse_out_of_memory(f"batch_size={self.batch_size} persistent chains of {n_features} units"):
            self._initialize(n_features, dtype, rng)

    def _initialize(self, n_features: int, dtype: np.dtype, rng: np.random.Generator) -> None:
        """Fresh parameters (weights N(0, 0.01^2), zero biases), chains and bookkeeping."""
        from ..learning import TrainingHistory, _cd_engine  # _cd_engine imports Numba: load it on first fit

        # Drawn as (n_components, n_features) like scikit-learn's components_, stored transposed.
        weights = rng.normal(0.0, _INITIAL_WEIGHT_SCALE, size=(self.n_components, n_features)).T
        n_chains = self.batch_size if self.persistent else 0
        self._state = _cd_engine.new_state(
            weights,
            np.zeros(n_features),
            np.zeros(self.n_components),
            n_chains=n_chains,
            n_streams=max(self.batch_size, n_chains),
            dtype=dtype,
            rng=rng,
        )
        # Three streams from one seed: shuffles (and extra chain streams), sampling outside the
        # engine (h_samples_, gibbs), and AIS. Kept apart so that n_iter calls of partial_fit
        # draw the same shuffles as fit, and repeated score_samples calls agree.
        self._rng = rng
        self._sampling_rng = np.random.default_rng(rng.integers(2**63))
        self._ais_seed = int(rng.integers(2**63))
        self._persistent_chains = bool(self.persistent)
        self._visible_sums = np.zeros(n_features)
        self._n_samples_seen = 0
        self._log_z_cache = None
        self.history_ = TrainingHistory()

    def _check_continuation(self) -> None:
        """Parameters fixed at initialisation must not have changed between partial_fit calls."""
        state = self._state
        if self.n_components != state.hidden_bias.shape[0]:
            raise ValidationError(
                f"n_components={self.n_components!r} differs from the fitted {state.hidden_bias.shape[0]} "
                "hidden units; call fit to start again"
            )
        if bool(self.persistent) != self._persistent_chains:
            raise ValidationError(
                f"persistent={self.persistent!r} differs from the value the chains were built with; "
                "call fit to start again"
            )
        if state.streams.shape[0] < self.batch_size:
            # A larger batch needs more per-row random streams: extend them from the same generator.
            from .._kernels.rng import seed_streams

            extra = seed_streams(self._rng, self.batch_size - state.streams.shape[0])
            self._state = state._replace(streams=np.concatenate([state.streams, extra]))

    def _one_pass(self, data: np.ndarray) -> None:
        """One pass of CD/PCD updates over the rows of ``data`` (already in the training dtype).

        A pass that diverges or is interrupted (Ctrl-C) leaves the estimator exactly as it was
        before the pass: parameters, velocities, chains, random streams and generator.
        """
        from ..learning import _cd_engine

        state = self._state
        before = [np.array(field, copy=True) for field in state]
        rng_state = self._rng.bit_generator.state
        order = self._rng.permutation(data.shape[0]) if self.shuffle else np.arange(data.shape[0])
        start = time.perf_counter()
        try:
            error = _cd_engine.cd_epoch(
                state,
                data,
                np.ascontiguousarray(order, dtype=np.int64),
                batch_size=self.batch_size,
                k=self.k,
                persistent=self.persistent,
                learning_rate=float(self.learning_rate),
                momentum=float(self.momentum),
                weight_decay=float(self.weight_decay),
                sparsity_target=None,
                sparsity_cost=0.0,
            )
        except KeyboardInterrupt:
            self._restore(before, rng_state)
            raise
        seconds = time.perf_counter() - start
        epoch = len(self.history_) + 1
        bound = RUNAWAY_BOUND[np.dtype(state.weights.dtype)]
        parameters = (state.weights, state.visible_bias, state.hidden_bias)
        # Non-finite, or beyond the trainers' runaway bound (a finite divergence, e.g. learning_rate=1e308).
        if not all(np.isfinite(array).all() and not (np.abs(array) > bound).any() for array in parameters):
            self._restore(before, rng_state)
            raise TrainingDivergedError(
                f"training diverged in pass {epoch} (a parameter became NaN, infinite or larger than {bound:g}); the estimator "
                f"keeps the parameters from before that pass; lower learning_rate={self.learning_rate!r}",
                model=self.model_,
                history=self.history_,
                epoch=epoch,
            )
        self._visible_sums += data.sum(axis=0, dtype=np.float64)
        self._n_samples_seen += data.shape[0]
        self._log_z_cache = None
        reconstruction_error = float(error) / data.shape[0]
        self.history_.append({"epoch": epoch, "seconds": seconds, "reconstruction_error": reconstruction_error})
        if self.verbose:
            print(
                f"[{type(self).__name__}] Iteration {epoch}, reconstruction error = "
                f"{reconstruction_error:.4f}, time = {seconds:.2f}s"
            )

    def _restore(self, arrays, rng_state) -> None:
        """Put the working state back, in place, to ``arrays`` (one per field) and the generator to ``rng_state``."""
        for target, saved in zip(self._state, arrays):
            target[...] = saved
        self._rng.bit_generator.state = rng_state

    def _sample_chain_hiddens(self) -> None:
        """``h_samples_``: hidden states drawn from ``p(h | v)`` of the persistent chains."""
        state = self._state
        probabilities = expit(state.chains @ state.weights + state.hidden_bias)
        self.h_samples_ = (self._sampling_rng.random(probabilities.shape) < probabilities).astype(state.weights.dtype)

    def fit(self, X, y=None):
        """Fit the machine to ``X`` with ``n_iter`` passes of (persistent) contrastive divergence.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Values in ``[0, 1]``: binary data or Bernoulli means.
        y : ignored

        Returns
        -------
        self : BernoulliRBM
        """
        self._validate_params()
        X = self._check_input(X, reset=True, method="fit")
        dtype = self._training_dtype(X)
        data = self._dense(X, dtype)
        self._initialize_checked(data.shape[1], dtype, _generator(self.random_state))
        for _ in range(self.n_iter):
            self._one_pass(data)
        self._sample_chain_hiddens()
        return self

    def partial_fit(self, X, y=None):
        """One pass of updates over the rows of ``X``, in mini-batches of ``batch_size``.

        The first call initialises the machine as :meth:`fit` does; later calls continue
        from the current parameters, chains and random state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Values in ``[0, 1]``.
        y : ignored

        Returns
        -------
        self : BernoulliRBM
        """
        self._validate_params()
        first_call = not self.__sklearn_is_fitted__()
        X = self._check_input(X, reset=first_call, method="partial_fit")
        if first_call:
            dtype = self._training_dtype(X)
            self._initialize_checked(X.shape[1], dtype, _generator(self.random_state))
        else:
            self._check_continuation()
        self._one_pass(self._dense(X, self._state.weights.dtype))
        self._sample_chain_hiddens()
        return self

    # ------------------------------------------------------------------ inference
    def transform(self, X):
        """Hidden activation probabilities ``p(h = 1 | v = X)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Values in ``[0, 1]``.

        Returns
        -------
        ndarray of shape (n_samples, n_components)
            In the training dtype.
        """
        check_is_fitted(self)
        X = self._check_input(X, reset=False, method="transform")
        return self._mean_hiddens(X)

    def _mean_hiddens(self, X) -> np.ndarray:
        state = self._state
        pre_activation = safe_sparse_dot(X.astype(state.weights.dtype, copy=False), state.weights, dense_output=True)
        pre_activation += state.hidden_bias
        return expit(pre_activation, out=pre_activation)

    def gibbs(self, v):
        """One block-Gibbs step from ``v``: sample ``h ~ p(h | v)``, then ``v' ~ p(v | h)``.

        Successive calls continue the estimator's random stream (seeded by ``random_state``).

        Parameters
        ----------
        v : {array-like, sparse matrix} of shape (n_samples, n_features)
            Visible states (values in ``[0, 1]``).

        Returns
        -------
        ndarray of bool, shape (n_samples, n_features)
            The new visible sample (booleans, as scikit-learn returns).
        """
        check_is_fitted(self)
        v = self._check_input(v, reset=False, method="gibbs")
        state = self._state
        hidden_probabilities = self._mean_hiddens(v)
        hidden = (self._sampling_rng.random(hidden_probabilities.shape) < hidden_probabilities).astype(state.weights.dtype)
        visible_probabilities = expit(hidden @ state.weights.T + state.visible_bias)
        return self._sampling_rng.random(visible_probabilities.shape) < visible_probabilities

    def score_samples(self, X):
        """Log-likelihood ``log p(v) = -F(v) - log Z`` of each row, in nats.

        Deterministic: ``log Z`` is exact (``log_z="exact"``, or ``"auto"`` when the smaller
        layer has at most 20 units) or an AIS estimate seeded at fit time, computed once per
        fitted parameters and cached.

        Grey levels: a row ``x`` with values strictly between 0 and 1 (Bernoulli means, as
        ``fit`` and ``transform`` accept) is scored by the same formula, ``-F(x) - log Z``
        with ``F(x) = -b.x - sum_j softplus(c_j + (x W)_j)``, the formula scikit-learn's
        ``score_samples`` also applies to grey levels. ``-F`` is convex, so this is a lower
        bound (Jensen) on ``E[log p(v)]`` for binary ``v`` drawn unit by unit with
        probabilities ``x``, with equality when ``x`` is binary. Use ``binarize=`` to score
        thresholded rows instead.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Values in ``[0, 1]`` (after ``out_of_range`` and ``binarize`` are applied).

        Returns
        -------
        ndarray of float64, shape (n_samples,)

        Raises
        ------
        ValidationError
            For values outside ``[0, 1]`` when ``out_of_range="error"``.
        ModelSizeError
            With ``log_z="exact"`` when the smaller layer has more than 30 units.
        """
        check_is_fitted(self)
        X = self._check_input(X, reset=False, method="score_samples")
        data = self._dense(X, np.float64)
        model = self.model_
        return -_free_energy(model, data) - self._log_partition_function(model)

    def _score_method(self, model: RestrictedBoltzmannMachine) -> str:
        if self.log_z != "auto":
            return self.log_z
        return "exact" if min(model.n_visible, model.n_hidden) <= EXACT_MAX_UNITS else "ais"

    def _log_partition_function(self, model: RestrictedBoltzmannMachine) -> float:
        """``log Z`` of ``model``, cached per parameters and scoring settings."""
        method = self._score_method(model)
        base = self._ais_base_data() if method == "ais" else None
        digest = hashlib.blake2b(digest_size=16)
        for array in (model.weights, model.visible_bias, model.hidden_bias):
            digest.update(array.tobytes())
        if base is not None:
            digest.update(base.sum(axis=0).tobytes())
        key = (method, digest.hexdigest(), self.ais_runs, self.ais_steps, self._ais_seed)
        cache = self.__dict__.get("_log_z_cache")
        if cache is not None and cache[0] == key:
            return cache[1]
        if method == "exact":
            from .. import exact

            log_z = exact.log_partition_function(model)
        else:
            from .. import ais

            log_z = ais.log_partition_function(
                model, n_runs=self.ais_runs, betas=self.ais_steps, base="data", data=base, rng=self._ais_seed
            ).log_z
        self._log_z_cache = (key, float(log_z))
        return float(log_z)

    def _ais_base_data(self) -> np.ndarray:
        """Binary rows whose column means are the training data's, defining the AIS base model.

        The base model only depends on each unit's count of ones, so a stand-in of at most
        2000 rows with those counts replaces the training data, which is not kept (and may
        hold Bernoulli means rather than 0/1).
        """
        n_rows = max(1, min(self._n_samples_seen, _AIS_BASE_ROWS))
        means = self._visible_sums / max(self._n_samples_seen, 1)
        ones = np.rint(means * n_rows).astype(np.int64)
        return (np.arange(n_rows)[:, None] < ones[None, :]).astype(np.uint8)


def _free_energy(model: RestrictedBoltzmannMachine, data: np.ndarray) -> np.ndarray:
    """``F(x) = -b.x - sum_j softplus(c_j + (x W)_j)`` for rows in ``[0, 1]`` (the model's temperature is 1).

    The model's own :meth:`free_energy` takes only 0/1 states; this is the same formula,
    continued to grey levels for :meth:`BernoulliRBM.score_samples`.
    """
    return -(data @ model.visible_bias) - softplus(data @ model.weights + model.hidden_bias).sum(axis=1)


def _generator(random_state) -> np.random.Generator:
    """A Generator from scikit-learn's ``random_state`` (None, int, RandomState) or a Generator."""
    if isinstance(random_state, np.random.RandomState):
        # As scikit-learn does with a RandomState: draw from it (so it advances) to seed this fit.
        return np.random.default_rng(int(random_state.randint(0, 2**32, dtype=np.int64)))
    if isinstance(random_state, (np.random.Generator, numbers.Integral)) or random_state is None:
        return check_rng(random_state)
    raise ParameterTypeError(
        f"random_state must be None, an int, a numpy RandomState or a numpy Generator, got {describe(random_state)}"
    )


def _first_outside(X) -> tuple[int, int, float]:
    """Row, column and value of the first entry of ``X`` outside [0, 1] (dense or CSR)."""
    if is_sparse(X):
        position = int(np.flatnonzero((X.data < 0.0) | (X.data > 1.0))[0])
        row = int(np.searchsorted(X.indptr, position, side="right") - 1)
        return row, int(X.indices[position]), float(X.data[position])
    row, column = (int(i) for i in np.argwhere((X < 0.0) | (X > 1.0))[0])
    return row, column, float(X[row, column])
