"""Contrastive divergence (CD-k) and persistent CD for categorical RBMs (softmax visible variables).

:class:`CategoricalCD` trains a :class:`~pgm_energy.models.CategoricalRBM` from rows of state
indices (or a pandas DataFrame of state names), with the fit loop of
:class:`~pgm_energy.learning._trainer.Trainer` (history, callbacks, checkpoints, exact resume,
divergence guard, Ctrl-C).

What one update computes (Hinton 2010, secs. 3, 9-10; Salakhutdinov, Mnih & Hinton 2007 for softmax units)
------------------------------------------------------------------------------------------------------
Write ``x`` for the one-hot encoding of a row (``x[o_i + a] = 1`` when variable ``i`` is in state
``a``, ``o_i = field_offsets[i]``). With ``E(v, h) = -b.x - c.h - x' W h`` the gradient of the mean
log-likelihood is ``<x h'>_data - <x h'>_model`` for ``W``, ``<x>_data - <x>_model`` for ``b`` and
``<h>_data - <h>_model`` for ``c``, where the data expectation takes ``h ~ p(h | v)``. For a
mini-batch of ``n`` rows and ``m`` negative chains:

* positive statistics with probabilities: ``P0 = p(h | x) = sigmoid(c + sum_i W[o_i + v_i])``;
  ``grad_W[o_i + v_i] += P0 / n`` for every variable ``i`` of every row, ``grad_b[o_i + v_i] += 1/n``,
  ``grad_c += P0 / n``;
* CD-k: the chain of row ``r`` starts from ``h0 ~ P0`` (sampled) and alternates
  ``v_t ~ p(v | h_{t-1})`` (one categorical draw per variable: the softmax of
  ``b[o_i + a] + W[o_i + a] . h`` over ``a``) and ``h_t ~ p(h | v_t)``; the last hidden layer
  enters the statistics as probabilities ``Pk = p(h | v_k)``; the visible states are always
  sampled (one-of-k states, never probabilities);
* PCD-k (Tieleman 2008): the same ``k`` steps from ``n_chains`` persistent chains (state indices),
  which keep their hidden layer between updates as :class:`~pgm_energy.learning.ContrastiveDivergence`'s
  do: an update's first ``h`` is drawn from the ``Pk`` the previous update computed; only the
  first update of an epoch computes ``p(h | chain)`` afresh (so an epoch depends on the state
  alone and a checkpoint between epochs resumes exactly);
* negative statistics ``grad_W[o_i + v_i] -= Pk / m``, ``grad_b[o_i + v_i] -= 1/m``, ``grad_c -= Pk/m``;
* ``velocity = momentum velocity + learning_rate (grad - weight_decay W)``; ``theta += velocity``
  (decay on the weights only).

The reconstruction error of CD (free: the first negative step computes the softmax anyway) is
``sum_i sum_a (x[o_i + a] - p(v_i = a | h0))**2`` summed over the epoch's rows.

Why a gather kernel rather than BLAS
------------------------------------
A one-hot row has ``n_visible`` ones among ``sum(k)`` entries (64 of 1088 for 17-state digits), so
``x W`` is the sum of ``n_visible`` rows of ``W``, and the statistics add ``P`` to ``n_visible``
rows of the gradient. The kernels below do exactly that; only the softmax of the negative phase
touches every row of ``W`` (``sum(k) x n_hidden`` multiply-adds per chain and step, over the
hidden units that are on, read from a transposed copy of ``W`` kept in step with it, so that the
loop runs over contiguous memory). Measured on digits (64 x 17 states, 20 hidden, PCD-1, batch
20, float64; ``benchmarks/bench_categorical_digits.py --speed``, load 0.9): the serial Numba
kernel 0.224 ms per update, the same update with dense one-hot matrices and NumPy/BLAS products
0.478 ms. The kernel is kept (and it is serial, which makes its bits independent of threads).

Randomness and reproducibility
------------------------------
Row ``r`` of a batch and chain ``r`` draw from ``streams[r]`` (xorshift64*, :mod:`pgm_energy._kernels.rng`):
hidden units in index order, ``h_j = 1`` when ``u < p_j``; then one uniform per visible variable,
in variable order, compared with the running sum of ``exp(z_a - max z)`` over ``a = 0 .. k - 1``
(the convention of :mod:`pgm_energy._kernels.potts_gibbs`, with its clamped exponential: a state
less likely than ``exp(-40)`` relative to the variable's likeliest is drawn with probability at
most ``4.2e-18``). Every kernel is serial and sums in a fixed order in float64, so the same
state and row order give the same bits whatever the thread count, and however the epoch is cut
into time-bounded calls (:func:`pgm_energy._launch.run_chunked`).

The kernels are in :mod:`pgm_energy._kernels.categorical_cd`; the epoch's launcher is
:func:`categorical_cd_epoch` of :mod:`._categorical_engine`.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._kernels.categorical_cd import CategoricalCDState
from .._kernels.rng import seed_streams
from .._validation import check_names, check_sequence, describe
from ..exceptions import ParameterTypeError, StateError, ValidationError
from ..models import CategoricalRBM
from ..models._base import MAX_PARAMETERS
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
from ._categorical_engine import categorical_cd_epoch
from .contrastive_divergence import _Schedule, ContrastiveDivergence

__all__ = ["CategoricalCD", "initial_categorical_rbm", "AUTO_UPDATES", "CATEGORICAL_MONITORS"]

#: parameter updates of a run with ``epochs="auto"`` (the default): chosen on a validation split of
#: 17-state digits (benchmarks/bench_categorical_digits.py --tune; see the class docstring)
AUTO_UPDATES = 50_000
#: the monitors ``monitor=`` may name: those of :mod:`.monitors` that measure categorical RBMs
CATEGORICAL_MONITORS = ("log_likelihood", "free_energy_gap", "reconstruction_error")
# Initial visible biases log p_i(a) use frequencies clipped below at this value (as the binary
# initialisation clips p to [0.001, 0.999]): a state never seen starts at about -6.9.
_PROBABILITY_CLIP = 1e-3


# ============================================================================ kernels
# ============================================================================ the trainer
def initial_categorical_rbm(n_hidden, data, cardinalities, rng, *, visible_names=None, state_names=None):
    """The starting point of :meth:`CategoricalCD.fit`: weights N(0, 0.01²), ``b_i(a) = log p_i(a)``, hidden biases 0.

    ``p_i(a)`` is the frequency of state ``a`` of variable ``i`` in ``data``, clipped below at
    0.001 and renormalised, so an unseen state starts at about -6.9 (the softmax analogue of
    Hinton's ``log(p / (1 - p))``, guide §8; with two states ``b(1) - b(0)`` is that very value).

    Parameters
    ----------
    n_hidden : int >= 1
    data : array_like of int, shape (n_samples >= 1, n_visible)
        State indices, ``data[:, i]`` in ``0 .. cardinalities[i] - 1``.
    cardinalities : sequence of int >= 1, length n_visible
    rng : None, int or numpy.random.Generator
    visible_names, state_names
        As :class:`~pgm_energy.models.CategoricalRBM` takes them.
    """
    from .._validation import check_categorical_states, check_int, check_rng

    n_hidden = check_int(n_hidden, "n_hidden", minimum=1)
    cards = np.asarray(CategoricalCD._check_cardinalities(cardinalities), dtype=np.int64)
    try:
        data, _ = check_categorical_states(data, cards, "data")
    except StateError as error:  # the data and the cardinalities disagree: say with which
        raise StateError(f"{error} (cardinalities={cards.tolist()})") from error
    if data.shape[0] == 0:
        raise ValidationError("data must hold at least one sample, got 0 rows")
    total = int(cards.sum())
    if total * n_hidden > MAX_PARAMETERS:
        raise ValidationError(f"n_hidden={n_hidden} with {total} visible states needs more than {MAX_PARAMETERS} weights")
    rng = check_rng(rng)
    offsets = np.concatenate([[0], np.cumsum(cards)]).astype(np.int64)
    counts = np.bincount((offsets[:-1] + data).ravel(), minlength=total).astype(np.float64)
    frequencies = np.maximum(counts / data.shape[0], _PROBABILITY_CLIP)
    sums = np.add.reduceat(frequencies, offsets[:-1])
    visible_bias = np.log(frequencies) - np.repeat(np.log(sums), cards)
    weights = rng.normal(0.0, 0.01, size=(total, n_hidden))
    return CategoricalRBM(weights, visible_bias, np.zeros(n_hidden), cardinalities=cards.tolist(),
                          visible_names=visible_names, state_names=state_names)


def _check_k(value, name):
    return check_positive_int(value, name, maximum=MAX_GIBBS_STEPS)


def _check_momentum(value, name):
    return check_nonnegative_float(value, name, maximum=1.0)


class CategoricalCD(Trainer):
    """Train a :class:`~pgm_energy.models.CategoricalRBM` by contrastive divergence (CD-k) or persistent CD (PCD).

    The update is the binary :class:`~pgm_energy.learning.ContrastiveDivergence`'s with softmax
    visible variables (module docstring): positive statistics from ``p(h | v)``, a negative
    phase of ``k`` block-Gibbs steps (``h`` Bernoulli, one categorical draw per visible variable),
    the last hidden layer as probabilities, momentum and weight decay as in Hinton's guide.

    The defaults are a measured recipe (``benchmarks/bench_categorical_digits.py --tune``: 17-state
    digits, 20 hidden, seed 0, ranked on a validation split of the training rows, 1149 + 288):
    PCD-1, no momentum, learning rate 0.01, weight decay 1e-3, batches of 20, parameters averaged
    over the last 10% of the epochs, ``epochs="auto"`` (as many epochs as make :data:`AUTO_UPDATES`,
    50,000, updates), float32 (the package's training default; the kernels sum in float64 either way, and
    the test scores below moved by at most 0.1 nats from the float64 runs). Validation log-likelihoods
    (float64 runs): these defaults -91.73 (10.7 s); 100,000
    updates -91.85, 200,000 -92.01 (more updates overfit 1149 rows); learning rate 0.005 / 0.02
    -91.94 / -92.31; weight decay 1e-4 -92.83; CD-1 with Hinton's momentum -92.57; independent
    pixels -107.11. The spread between candidates (0.1-1.1 nats) is of the order of seed noise
    for the closest ones.

    Data
    ----
    ``fit(model_or_size, data)`` takes rows of **state indices**, ``data[r, i]`` in
    ``0 .. k_i - 1`` (any integer dtype, or whole floats), or a pandas DataFrame whose columns
    are the visible names and whose values are state indices or **state names**. The
    cardinalities ``k_i`` are those of the starting model, or, for ``fit(n_hidden, data)``, the
    ``cardinalities=`` option, else ``data.max(axis=0) + 1`` (a state never seen in the training
    rows beyond the largest one seen cannot be learnt: pass ``cardinalities=`` when the validation
    data or later queries may hold it). A DataFrame column of names (object, string or category
    dtype) gives a new model the state names of that column: a category dtype's categories in
    order, else the distinct values sorted; for a given model its values are looked up among the
    model's state names.

    Parameters
    ----------
    k : int >= 1, callable or sequence of int, default 1
        Gibbs steps per update; as in :class:`ContrastiveDivergence`.
    persistent : bool, default True
        PCD (``n_chains`` chains kept across updates, with their hidden layer) instead of CD-k.
    n_chains : int >= 1, optional
        Persistent chains; default ``batch_size``. Only with ``persistent=True``.
    learning_rate : float > 0, default 0.01
    momentum : float in [0, 1], callable or sequence, optional
        Default: 0 for PCD; for CD 0.5 for five epochs then 0.9 (Hinton's guide §9).
    weight_decay : float >= 0, default 1e-3
        L2 penalty on the weights (not the biases).
    batch_size : int >= 1 or None, default 20
    epochs : int >= 1 or "auto", default "auto"
        ``"auto"``: ``ceil(AUTO_UPDATES / updates per epoch)`` epochs (50,000 updates; 695 epochs
        of the 1437 digits' training rows, about 11 s).
    cardinalities : sequence of int >= 1, optional
        The number of states of each visible variable of a new model (``fit(n_hidden, data)``);
        default ``data.max(axis=0) + 1``. With a starting model it must equal the model's, if given.
    averaging : int >= 1, float in (0, 1] or None, default 0.1
        Return the mean of the parameters over the last epochs, as :class:`ContrastiveDivergence`.
    dtype : "float32" or "float64", default "float32" (the package's training default)
        Precision of the stored parameters and velocities; the kernels sum in float64 either way,
        so float32 saves memory, not time (measured: the same speed on digits).
    monitor : "auto", None, or sequence of names and Monitor objects
        The shared monitors (:mod:`pgm_energy.learning.monitors`) that measure categorical RBMs,
        by the names in :data:`CATEGORICAL_MONITORS` or as objects: ``"log_likelihood"`` (exact,
        on a fixed training subset of at most 1000 rows and on the validation data),
        ``"free_energy_gap"`` (needs validation data) and ``"reconstruction_error"`` (CD records
        it after every epoch for free, PCD never). ``"auto"``: the free-energy gap with validation
        data, and the exact log-likelihood when ``2**n_hidden * sum(k) <= 2**27`` (about a
        second). They are measured every ``monitor_every`` epochs on the current (not averaged)
        parameters.
    monitor_every, checkpoint_every, checkpoint_path
        See :class:`~pgm_energy.learning._trainer.Trainer`.

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy.learning.categorical_cd import CategoricalCD
    >>> data = np.random.default_rng(0).integers(0, 3, size=(100, 5))
    >>> result = CategoricalCD(epochs=3, batch_size=10).fit(4, data, rng=0, progress=False)
    >>> result.model.cardinalities, len(result.history)
    ((3, 3, 3, 3, 3), 3)
    """

    _model_types = (CategoricalRBM,)
    _binary_state = ()

    def __init__(
        self,
        *,
        k=1,
        persistent=True,
        n_chains=None,
        learning_rate=0.01,
        momentum=None,
        weight_decay=1e-3,
        batch_size=20,
        epochs="auto",
        cardinalities=None,
        averaging=0.1,
        dtype="float32",
        monitor="auto",
        monitor_every=None,
        checkpoint_every=None,
        checkpoint_path=None,
    ):
        spec = check_monitor_spec(monitor, model_kind="a categorical RBM", names=CATEGORICAL_MONITORS)
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
        if momentum is None:
            from .contrastive_divergence import hinton_momentum

            momentum = 0.0 if self.persistent else hinton_momentum
        self.momentum = _Schedule(momentum, "momentum", _check_momentum)
        self.weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        self.cardinalities = None if cardinalities is None else self._check_cardinalities(cardinalities)
        self.averaging = ContrastiveDivergence._check_averaging(averaging)
        self._run = {}

    # ------------------------------------------------------------------ option checks
    @staticmethod
    def _check_cardinalities(cardinalities) -> tuple[int, ...]:
        if isinstance(cardinalities, (str, bytes, dict, set, frozenset)) or not hasattr(cardinalities, "__len__"):
            raise ParameterTypeError(f"cardinalities must be a sequence of ints >= 1, got {describe(cardinalities)}")
        values = []
        for i, value in enumerate(np.asarray(cardinalities, dtype=object).ravel().tolist()
                                  if isinstance(cardinalities, np.ndarray) else check_sequence(cardinalities,
                                                                                                 "cardinalities")):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
                raise ParameterTypeError(f"cardinalities[{i}] must be an int >= 1, got {describe(value)}")
            if not 1 <= int(value) <= 2**31:
                raise ValidationError(f"cardinalities[{i}] must be an int from 1 to 2**31, got {value!r}")
            values.append(int(value))
        if isinstance(cardinalities, np.ndarray) and cardinalities.ndim != 1:
            raise ValidationError(f"cardinalities must be 1-d, got shape {cardinalities.shape}")
        if not values:
            raise ValidationError("cardinalities must not be empty")
        return tuple(values)

    def _epochs_for(self, data) -> int:
        if self.epochs != "auto":
            return self.epochs
        updates_per_epoch = -(-data.shape[0] // self._batch_rows(data))
        return max(1, -(-AUTO_UPDATES // updates_per_epoch))

    def _averaged_epochs(self) -> int:
        return ContrastiveDivergence._averaged_epochs(self)

    def _batch_rows(self, data) -> int:
        return self.batch_size if self.batch_size is not None else data.shape[0]

    def _n_chains(self, data) -> int:
        if not self.persistent:
            return 0
        return self.n_chains if self.n_chains is not None else self._batch_rows(data)

    def _settings(self) -> dict:
        settings = super()._settings()
        del settings["binarize"]
        return {
            **settings,
            "k": self.k.describe(),
            "persistent": self.persistent,
            "n_chains": self.n_chains,
            "learning_rate": self.learning_rate,
            "momentum": self.momentum.describe(),
            "weight_decay": self.weight_decay,
            "cardinalities": None if self.cardinalities is None else list(self.cardinalities),
            "averaging": self.averaging,
        }

    def _resume_settings(self) -> tuple[str, ...]:
        extra = ("averaging",) if self.averaging is None else ("averaging", "epochs")
        return ("batch_size", "dtype", "persistent", "n_chains", "cardinalities", *extra)

    # ------------------------------------------------------------------ data
    def fit(self, model_or_size, data, *, validation=None, rng=None, callbacks=(), progress=True, resume_from=None):
        """Train and return the model with its history; see :meth:`Trainer.fit` and the class docstring.

        ``data`` and ``validation``: rows of state indices, shape (n_rows, n_visible), or pandas
        DataFrames of state indices or state names (columns: the visible names).
        """
        self._run = {"model": model_or_size if isinstance(model_or_size, CategoricalRBM) else None}
        try:
            return super().fit(model_or_size, data, validation=validation, rng=rng, callbacks=callbacks,
                               progress=progress, resume_from=resume_from)
        finally:
            self._run = {}

    def _check_model(self, model) -> None:
        if model.temperature != 1.0:
            raise ValidationError(
                f"training starts from a model at temperature 1, got temperature={model.temperature!r}; "
                "rescale its parameters (weights / T, biases / T) into a model at temperature 1"
            )
        if self.cardinalities is not None and tuple(model.cardinalities) != self.cardinalities:
            raise ValidationError(
                f"cardinalities={list(self.cardinalities)} differ from the model's {list(model.cardinalities)}"
            )
        if self._run.get("cards") is not None and tuple(model.cardinalities) != self._run["cards"]:
            raise ValidationError(
                f"the model has cardinalities {list(model.cardinalities)}, the data's are {list(self._run['cards'])}"
            )

    def _parameter_count(self, n_visible: int, n_hidden: int) -> int:
        return int(sum(self._run["cards"])) * n_hidden

    def _check_data(self, data, visible_names, name: str = "data"):
        """Rows of state indices as a C-contiguous int64 array, and the visible names."""
        model = self._run.get("model")
        named = {}  # column index -> state names read from a DataFrame (new models)
        if hasattr(data, "columns") and hasattr(data, "to_numpy"):
            columns = [str(column) if isinstance(column, str) else column for column in data.columns]
            if visible_names is None:
                visible_names = check_names(columns, len(columns), f"{name} columns")
            else:
                missing = [unit for unit in visible_names if unit not in columns]
                extra = [column for column in columns if column not in visible_names]
                if missing or extra:
                    raise ValidationError(
                        f"{name} columns must be the visible names of the model; missing {missing[:5]!r}, "
                        f"unexpected {extra[:5]!r}"
                    )
                data = data[list(visible_names)]
            if data.shape[0] == 0:
                raise ValidationError(f"{name} must hold at least one sample, got shape {data.shape}")
            array = np.empty(data.shape, dtype=np.int64)
            for i, column_name in enumerate(visible_names):
                column = data[column_name]
                array[:, i] = self._column_indices(column, i, column_name, name, model, named)
        else:
            try:
                array = np.asarray(data)
            except (TypeError, ValueError) as error:
                raise StateError(f"{name} must be a 2-D array of state indices, got {describe(data)}") from error
            array = self._integer_states(array, name)
            if array.ndim != 2:
                raise StateError(f"{name} must be 2-D (n_samples, n_visible), got shape {array.shape}")
        n_features = array.shape[1] if visible_names is None else len(visible_names)
        if array.shape[1] != n_features:
            raise ValidationError(f"{name} must have {n_features} columns (one per visible variable"
                              + (" of the model" if name == "data" else ", as in the model and data")
                              + f"), got shape {array.shape}")
        if array.shape[0] == 0:
            raise ValidationError(f"{name} must hold at least one sample, got shape {array.shape}")
        if array.shape[1] == 0:
            raise ValidationError(f"{name} must have at least one column, got shape {array.shape}")
        if visible_names is None:
            visible_names = tuple(f"v{i}" for i in range(n_features))
        if name == "data":
            self._resolve_cardinalities(array, named, visible_names)
        cards = np.asarray(self._run["cards"], dtype=np.int64)
        if array.shape[1] != cards.shape[0]:
            raise ValidationError(f"{name} must have {cards.shape[0]} columns, got shape {array.shape}")
        bad = array >= cards
        if bad.any():
            r, i = (int(v) for v in np.argwhere(bad)[0])
            raise StateError(
                f"{name} holds state {int(array[r, i])} of variable {visible_names[i]!r} (index {(r, i)}), which has "
                f"{int(cards[i])} states ({self._run['cards_from']}); pass cardinalities= to a new model's trainer"
            )
        return np.ascontiguousarray(array), visible_names

    @staticmethod
    def _integer_states(array, name):
        if array.dtype == object:
            try:
                array = array.astype(np.float64)
            except (TypeError, ValueError) as error:
                raise StateError(f"{name} must hold integer state indices, got dtype object") from error
        if array.dtype == np.bool_ or array.dtype.kind not in "iuf":
            raise StateError(f"{name} must be an array of integer state indices, got dtype {array.dtype}")
        if array.dtype.kind == "f":
            whole = np.isfinite(array) & (array == np.round(array))
            if not whole.all():
                bad = tuple(int(i) for i in np.argwhere(~whole)[0])
                raise StateError(f"{name} must hold whole numbers (state indices), got {array[bad]!r} at index {bad}")
        if array.size and array.min() < 0:
            bad = tuple(int(i) for i in np.argwhere(array < 0)[0])
            raise StateError(f"{name} must hold state indices >= 0, got {array[bad]!r} at index {bad}")
        if array.size and array.max() >= 2**31:
            raise StateError(f"{name} holds a state index of {array.max()!r}, beyond 2**31")
        return array.astype(np.int64)

    def _column_indices(self, column, i, column_name, name, model, named):
        """State indices of one DataFrame column: names looked up (a model's, or the run's), numbers as indices."""
        values = column.to_numpy()
        known = self._run.get("state_names")
        if model is not None:
            names = model.state_names[column_name]
        elif known is not None:
            names = known.get(column_name)
        else:
            names = None
        numeric = values.dtype.kind in "iuf" and values.dtype != np.bool_
        if names is not None and not (numeric and all(type(label) is int for label in names)):
            lookup = {label: index for index, label in enumerate(names)}
            by_index = all(isinstance(label, str) for label in names)
            out = np.empty(values.shape[0], dtype=np.int64)
            for r, value in enumerate(values.tolist()):
                index = lookup.get(value)
                if index is None and by_index and isinstance(value, numbers.Integral) and not isinstance(value, bool):
                    index = int(value) if 0 <= int(value) < len(names) else None
                if index is None:
                    raise StateError(f"{name} column {column_name!r} holds {value!r}, not a state of it "
                                     f"(states {list(names)[:8]!r})")
                out[r] = index
            return out
        if numeric:
            return self._integer_states(values.reshape(-1, 1), f"{name} column {column_name!r}")[:, 0]
        if name != "data" or model is not None:
            raise StateError(f"{name} column {column_name!r} holds {values.dtype} values, not state indices")
        # a new model: the column's names become its states
        categories = getattr(getattr(column, "cat", None), "categories", None)
        try:
            labels = list(categories) if categories is not None else sorted(set(values.tolist()), key=str)
        except TypeError as error:
            raise StateError(f"{name} column {column_name!r} holds values that are not state names") from error
        for label in labels:
            if isinstance(label, bool) or not isinstance(label, (str, numbers.Integral)):
                raise StateError(f"{name} column {column_name!r} holds {label!r}; state names are str or int")
        labels = [label if isinstance(label, str) else int(label) for label in labels]
        named[i] = labels
        lookup = {label: index for index, label in enumerate(labels)}
        return np.array([lookup[value if isinstance(value, str) else int(value)] for value in values.tolist()],
                        dtype=np.int64)

    def _resolve_cardinalities(self, array, named, visible_names):
        model = self._run.get("model")
        if model is not None:
            self._run.update(cards=tuple(model.cardinalities), cards_from="the model's")
            return
        if named:
            self._run["state_names"] = {visible_names[i]: labels for i, labels in named.items()}
        if self.cardinalities is not None:
            if len(self.cardinalities) != array.shape[1]:
                raise ValidationError(
                    f"cardinalities has {len(self.cardinalities)} entries, data {array.shape[1]} columns"
                )
            for i, labels in named.items():
                if self.cardinalities[i] != len(labels):
                    raise ValidationError(
                        f"cardinalities[{i}]={self.cardinalities[i]} but data column {visible_names[i]!r} names "
                        f"{len(labels)} states"
                    )
            self._run.update(cards=self.cardinalities, cards_from="cardinalities=")
            return
        cards = array.max(axis=0) + 1
        for i, labels in named.items():
            cards[i] = len(labels)
        self._run.update(cards=tuple(int(c) for c in cards), cards_from="the largest state in the training data + 1")

    # ------------------------------------------------------------------ hooks
    def _initial_model(self, model_or_size, data, visible_names, rng):
        if isinstance(model_or_size, CategoricalRBM):
            return model_or_size
        count = int(sum(self._run["cards"])) * int(model_or_size)
        if count > MAX_PARAMETERS:
            raise ValidationError(f"model_or_size={model_or_size} needs {count} weights, more than {MAX_PARAMETERS}")
        return initial_categorical_rbm(int(model_or_size), data, self._run["cards"], rng, visible_names=visible_names,
                                       state_names=self._run.get("state_names"))

    def _initial_state(self, model, data, rng):
        n_chains = self._n_chains(data)
        check_chain_entries(n_chains, model.n_visible + model.n_hidden, f"n_chains={n_chains}")
        dtype = self.dtype
        streams = seed_streams(rng, max(self._batch_rows(data), n_chains, 1))
        # chains start at independent draws of the visible biases' softmax (the model without weights)
        chains = np.empty((n_chains, model.n_visible), dtype=np.int64)
        offsets = model.field_offsets
        for i in range(model.n_visible):
            logits = model.visible_bias[offsets[i]:offsets[i + 1]]
            p = np.exp(logits - logits.max())
            chains[:, i] = rng.choice(logits.shape[0], size=n_chains, p=p / p.sum())
        # once the monitors' seed (they now take theirs from the shared loop); still drawn, so that a run
        # draws what it drew before, and kept in the state, so that earlier checkpoints resume
        monitor_seed = np.array([rng.integers(0, 2**62)], dtype=np.int64)
        weights = np.array(model.weights, dtype=dtype, order="C")
        return CategoricalCDState(
            weights=weights, visible_bias=np.array(model.visible_bias, dtype=dtype),
            hidden_bias=np.array(model.hidden_bias, dtype=dtype), weights_velocity=np.zeros_like(weights),
            visible_velocity=np.zeros(model.visible_bias.shape, dtype=dtype),
            hidden_velocity=np.zeros(model.n_hidden, dtype=dtype), chains=chains, streams=streams,
            sum_weights=np.zeros(model.weights.shape), sum_visible_bias=np.zeros(model.visible_bias.shape),
            sum_hidden_bias=np.zeros(model.n_hidden), sum_count=np.zeros(1, dtype=np.int64), monitor_seed=monitor_seed,
        )

    def _run_epoch(self, state, data, order, epoch):
        offsets = np.concatenate([[0], np.cumsum(self._run["cards"])]).astype(np.int64)
        error = categorical_cd_epoch(
            state, data, order, offsets, batch_size=self._batch_rows(data), k=self.k(epoch),
            persistent=self.persistent, learning_rate=self.learning_rate, momentum=self.momentum(epoch),
            weight_decay=self.weight_decay,
        )
        if epoch > self.epochs - self._averaged_epochs():
            for total, current in zip((state.sum_weights, state.sum_visible_bias, state.sum_hidden_bias),
                                      (state.weights, state.visible_bias, state.hidden_bias)):
                total += current
            state.sum_count[0] += 1
        return {} if self.persistent else {"reconstruction_error": error / data.shape[0]}

    # ------------------------------------------------------------------ models and checkpoints
    def _parameters(self, state) -> tuple:
        return (state.weights, state.visible_bias, state.hidden_bias)

    def _finite(self, state) -> bool:
        return bool(np.isfinite(state.weights).all() and np.isfinite(state.visible_bias).all()
                    and np.isfinite(state.hidden_bias).all() and np.isfinite(state.weights_velocity).all())

    @staticmethod
    def _model(weights, visible_bias, hidden_bias, template) -> CategoricalRBM:
        return CategoricalRBM(
            np.asarray(weights, dtype=np.float64), np.asarray(visible_bias, dtype=np.float64),
            np.asarray(hidden_bias, dtype=np.float64), cardinalities=template.cardinalities,
            visible_names=template.visible_names, hidden_names=template.hidden_names,
            state_names={name: template.state_names[name] for name in template.visible_names},
        )

    def _model_from(self, state, template):
        return self._model(state.weights, state.visible_bias, state.hidden_bias, template)

    def _deferred_model(self, state, template):
        copies = tuple(np.array(array, copy=True) for array in self._parameters(state))
        return Deferred(lambda: self._model(*copies, template))

    def _final_model(self, state, template):
        count = int(state.sum_count[0])
        if count == 0:
            return self._model_from(state, template)
        return self._model(state.sum_weights / count, state.sum_visible_bias / count, state.sum_hidden_bias / count,
                           template)

    def _state_arrays(self, state) -> dict:
        return state._asdict()

    def _restore(self, arrays, template, data):
        missing = [name for name in CategoricalCDState._fields if name not in arrays]
        if missing:
            raise ValidationError(f"the checkpoint lacks the training state {missing!r}")
        state = CategoricalCDState(**{name: np.ascontiguousarray(arrays[name]).copy()
                                      for name in CategoricalCDState._fields})
        if state.weights.dtype != self.dtype:
            raise ValidationError(f"the checkpoint was trained in {state.weights.dtype}, this trainer uses {self.dtype}")
        return state

    def _check_state_values(self, arrays, template, epoch, damaged) -> None:
        averaged = self._averaged_epochs()
        expected = max(0, min(epoch, self.epochs) - (self.epochs - averaged)) if averaged else 0
        if int(arrays["sum_count"][0]) != expected:
            raise damaged(f"'sum_count' must be {expected} (averaged epochs so far), got {int(arrays['sum_count'][0])}")
        chains = arrays["chains"]
        if chains.size and not (chains < np.asarray(template.cardinalities)).all():
            raise damaged("'chains' must hold state indices below each variable's cardinality")
        limit = expected * RUNAWAY_BOUND[self.dtype]
        for name in ("sum_weights", "sum_visible_bias", "sum_hidden_bias"):
            if arrays[name].size and np.abs(arrays[name]).max() > limit:
                raise damaged(f"'{name}' is beyond {expected} times the runaway bound")
