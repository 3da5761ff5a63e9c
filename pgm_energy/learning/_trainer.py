"""The shared fit loop of every trainer: checks, epochs, history, monitors, callbacks, checkpoints.

How to write a trainer
----------------------
Subclass :class:`Trainer`, call ``super().__init__(batch_size=..., epochs=..., ...)`` from your
keyword-only ``__init__`` (after validating your own options), and implement these hooks:

``_initial_model(self, model_or_size, data, visible_names, rng) -> model``
    The starting model: ``model_or_size`` itself when it is a model (already checked to match the
    data's columns by :meth:`Trainer._visible_names_of`), else a new model built from the size.
``_initial_state(self, model, data, rng) -> state``
    Your mutable working state (any object), for example parameters in the training dtype,
    momentum velocities, persistent chains and per-chain RNG streams drawn from ``rng``.
``_run_epoch(self, state, data, order, epoch) -> dict[str, float]``
    One pass over ``data[order]`` (``order`` is a fresh int64 permutation drawn by the loop from the
    run's generator; ``epoch`` counts from 1), updating ``state`` in place. Return the metrics the
    epoch produced for free (for example ``{"reconstruction_error": ...}``); they enter the history.
    All randomness must come from ``state`` (streams seeded by ``_initial_state``) or from the
    order, never from a fresh generator, so that a resumed run draws the same numbers.
``_model_from(self, state, template) -> model``
    A new immutable model holding the current parameters of ``state``; ``template`` (the initial
    model) supplies names and temperature. Only called when :meth:`_finite` is True.
``_state_arrays(self, state) -> dict[str, ndarray]``
    Everything in ``state`` needed to continue exactly (parameters, velocities, chains, streams,
    averages), for checkpoints. Keys are plain identifiers.
``_restore(self, arrays, template, data) -> state``
    The inverse of :meth:`_state_arrays`.

Optional hooks: ``_epoch_monitors()`` (monitors the trainer adds to those of ``monitor=``, for a
metric its epochs do not produce for free; default none), ``_epochs_for(data)`` (the epochs of a
run on these data; overriding it lets the trainer accept ``epochs="auto"``),
``_deferred_model(state, template)`` (a :class:`Deferred` model built from a copy of the
parameters only if the run ends at that epoch, for epochs whose model no monitor, callback or
checkpoint needs; default: the model itself), ``_final_model(state, template)`` (the model
returned after the last epoch, for example parameter averages; default :meth:`_model_from`),
``_finite(state)`` (default: every
floating array of :meth:`_state_arrays` is finite), ``_parameters(state)`` (the arrays the runaway
check of :data:`RUNAWAY_BOUND` looks at; default: every floating state array), ``_settings()`` (a
JSON-able dict of the options recorded in checkpoints; extend it with ``{**super()._settings(), ...}``),
``_resume_settings()`` (the keys of the settings a checkpoint must share to be resumed: add those
that shape the state), ``_state_layout(template, data)`` (``{name: (shape, dtype)}`` of the state
arrays; default: read off a fresh ``_initial_state``), ``_check_state_values(arrays, template,
epoch, damaged)`` (value checks of a checkpoint's state) and ``_check_model(model)``. Set the class
attribute ``_model_types`` to the model classes the trainer accepts and ``_binary_state`` to the
names of state arrays that hold 0/1 unit states.

The loop (:meth:`Trainer.fit`) does the rest: input checks (arrays or pandas DataFrames, binarizing,
sizes), the per-epoch shuffle drawn from ``rng``, the history, monitors every ``monitor_every``
epochs (:mod:`pgm_energy.learning.monitors`), callbacks (:mod:`pgm_energy.learning.callbacks`),
atomic checkpoints (the path checked before the first epoch; a failed write raises
:class:`CheckpointWriteError` carrying the model) and exact resumption (every member of the
checkpoint checked before use), divergence detection (:class:`TrainingDivergedError` carrying the
last good model, for NaN, infinity or parameters beyond :data:`RUNAWAY_BOUND`), Ctrl-C (returns
the model of the last completed epoch; the hooks must return to Python at least every fraction of
a second, see docs/training.md) and the progress bar.

Random draws of a fresh run, in order: ``_initial_model``, ``_initial_state``, one integer seeding
the monitors, then one permutation per epoch. A checkpoint stores the generator's state, so
``fit(..., resume_from=path)`` draws exactly what the uninterrupted run would have drawn.
"""

from __future__ import annotations

import math
import numbers
import os
import time
from pathlib import Path

import numpy as np

from .._progress import progress_bar
from .._validation import check_float_dtype, check_int, check_names, check_rng, describe
from ..exceptions import (
    CheckpointWriteError,
    ParameterTypeError,
    StateError,
    TrainingDivergedError,
    ValidationError,
)
from ..io import resolve_output_path
from ..models import RestrictedBoltzmannMachine
from ..models._base import MAX_PARAMETERS  # the largest model fit(n_hidden, data) creates; re-exported
from ._checkpoint import (  # generator_*_json: exported here too, for the trainers' own generators
    CHECKPOINT_FORMAT,
    data_digest,
    generator_from_json,
    generator_state_json,
    read_checkpoint,
    write_checkpoint,
)
from ._result import TrainingHistory, TrainingResult

__all__ = ["Trainer", "CHECKPOINT_FORMAT", "RUNAWAY_BOUND", "generator_from_json", "generator_state_json"]

#: Largest parameter magnitude a run may reach before it counts as diverged, per training dtype.
#: At these magnitudes the spacing of representable numbers is 1/8 (float32: 2**20 ~ 1.0e6;
#: float64: 2**49 ~ 5.6e14): each energy term built from such a parameter is rounded by up to
#: 1/16 nat, learning steps of the usual sizes round away, and every sigmoid it enters is
#: saturated to exactly 0 or 1 unless other terms cancel it to within that rounding. A run that
#: gets there is running away (typically ``learning_rate * weight_decay > 2``), not learning.
RUNAWAY_BOUND = {np.dtype(np.float32): 2.0**20, np.dtype(np.float64): 2.0**49}
#: largest ``epochs`` a trainer accepts (also the CLI's ``--epochs``): far beyond any real run, and
#: it keeps epoch numbers exact in the float64 history and the int64 checkpoint; Ctrl-C stops a
#: long run with the model of the last completed epoch
MAX_EPOCHS = 10**9
#: largest number of Gibbs steps per update (CD's ``k``): the kernels count steps in int64, and
#: more than a million steps per mini-batch is a run that never finishes, not a setting
MAX_GIBBS_STEPS = 2**20
#: largest number of chain entries (chains x units, summed over replicas) a trainer allocates
#: (2 GiB of uint8 states, with random streams and float buffers besides; as BoltzmannLearning's new_chains)
MAX_CHAIN_ENTRIES = 2**31


# ---------------------------------------------------------------------------- option checks
#: the options every trainer takes and hands to :meth:`Trainer.__init__` (besides ``dtype``)
TRAINER_OPTIONS = ("batch_size", "epochs", "monitor", "monitor_every", "checkpoint_every", "checkpoint_path", "binarize")


def trainer_options(arguments: dict) -> dict:
    """The :data:`TRAINER_OPTIONS` among a subclass's ``__init__`` arguments, for ``super().__init__(**...)``.

    A subclass lists the shared options in its own signature (so that its documentation and
    ``inspect.signature`` show them) and passes them on in one line:
    ``super().__init__(**trainer_options(locals()), dtype=dtype)``.
    """
    return {name: arguments[name] for name in TRAINER_OPTIONS}


def check_positive_int(value, name: str, *, maximum: int | None = None) -> int:
    """An int >= 1 (bools rejected), and at most ``maximum`` when given."""
    value = check_int(value, name, minimum=1)
    if maximum is not None and value > maximum:
        raise ValidationError(f"{name} must be an integer from 1 to {maximum}, got {value}")
    return value


def check_chain_entries(n_chains: int, n_units: int, what: str) -> None:
    """Refuse, before allocating, chains of more than :data:`MAX_CHAIN_ENTRIES` entries.

    ``what`` names the parameters that asked for them, with their values (``"n_chains=10**12"``).
    """
    if n_chains * n_units > MAX_CHAIN_ENTRIES:
        raise ValidationError(
            f"{what}: {n_chains} chains of {n_units} units are more than {MAX_CHAIN_ENTRIES} chain entries; "
            "use fewer chains"
        )


def check_nonnegative_float(value, name: str, *, maximum: float | None = None, strict: bool = False) -> float:
    """A finite real number >= 0 (> 0 when ``strict``), optionally <= ``maximum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterTypeError(f"{name} must be a real number, got {describe(value)}")
    number = float(value)
    if not math.isfinite(number) or number < 0 or (strict and number == 0) or (maximum is not None and number > maximum):
        bound = "> 0" if strict else ">= 0"
        upper = f" and <= {maximum}" if maximum is not None else ""
        raise ValidationError(f"{name} must be finite, {bound}{upper}, got {value!r}")
    return number


# ---------------------------------------------------------------------------- the base class
class Trainer:
    """Base class of the trainers: the options every trainer shares and the fit loop.

    Parameters
    ----------
    batch_size : int >= 1, or None
        Rows per update; None means the whole data set (full batch).
    epochs : int, 1 to :data:`MAX_EPOCHS` (10**9), or "auto"
        Passes over the data; ``"auto"`` only for trainers that size their runs from the data
        (:class:`~pgm_energy.learning.ContrastiveDivergence`).
    monitor : "auto", None, or sequence of str or Monitor
        What to measure on the model every ``monitor_every`` epochs, besides what the epoch
        itself reports; see :func:`pgm_energy.learning.monitors.build_monitors`.
    monitor_every : int >= 1, or None
        Epochs between monitor evaluations (the last epoch is always monitored). None: about
        20 evaluations per run, ``max(1, epochs // 20)``.
    checkpoint_every : int >= 1, or None
        Write a checkpoint to ``checkpoint_path`` after every that many epochs (and after the last).
    checkpoint_path : str or path-like, optional
        Required with ``checkpoint_every``. Written atomically (temporary file, then rename).
    binarize : float, optional
        Threshold turning non-binary data into 0/1 (``x > binarize`` is 1). Without it,
        data other than 0/1 is refused.
    dtype : "float32" or "float64"
        Precision of the training arrays.
    """

    #: model classes :meth:`fit` accepts as a starting model
    _model_types: tuple[type, ...] = (RestrictedBoltzmannMachine,)

    def __init__(
        self,
        *,
        batch_size=None,
        epochs=10,
        monitor="auto",
        monitor_every=None,
        checkpoint_every=None,
        checkpoint_path=None,
        binarize=None,
        dtype="float64",
    ):
        self.batch_size = None if batch_size is None else check_positive_int(batch_size, "batch_size")
        if isinstance(epochs, str) and epochs == "auto" and type(self)._epochs_for is not Trainer._epochs_for:
            self.epochs = "auto"
        else:
            self.epochs = check_positive_int(epochs, "epochs", maximum=MAX_EPOCHS)
        from .monitors import check_monitor_spec

        self.monitor = check_monitor_spec(monitor)
        self.monitor_every = None if monitor_every is None else check_positive_int(monitor_every, "monitor_every")
        self.checkpoint_every = None if checkpoint_every is None else check_positive_int(checkpoint_every, "checkpoint_every")
        if checkpoint_path is not None and not isinstance(checkpoint_path, (str, os.PathLike)):
            raise ParameterTypeError(f"checkpoint_path must be a str or path-like, got {describe(checkpoint_path)}")
        if self.checkpoint_every is not None and checkpoint_path is None:
            raise ValidationError(f"checkpoint_every={self.checkpoint_every} needs a checkpoint_path, got None")
        self.checkpoint_path = None if checkpoint_path is None else Path(checkpoint_path)
        if binarize is not None:
            if isinstance(binarize, bool) or not isinstance(binarize, numbers.Real):
                raise ParameterTypeError(f"binarize must be None or a real threshold, got {describe(binarize)}")
            if not math.isfinite(binarize):
                raise ValidationError(f"binarize must be a finite threshold, got {binarize!r}")
            binarize = float(binarize)
        self.binarize = binarize
        self.dtype = check_float_dtype(dtype)

    # ------------------------------------------------------------------ hooks (override)
    def _initial_model(self, model_or_size, data, visible_names, rng):
        raise NotImplementedError

    def _initial_state(self, model, data, rng):
        raise NotImplementedError

    def _run_epoch(self, state, data, order, epoch) -> dict:
        raise NotImplementedError

    def _model_from(self, state, template):
        raise NotImplementedError

    def _state_arrays(self, state) -> dict:
        raise NotImplementedError

    def _restore(self, arrays, template, data):
        raise NotImplementedError

    def _final_model(self, state, template):
        return self._model_from(state, template)

    def _finite(self, state) -> bool:
        return all(
            bool(np.isfinite(array).all())
            for array in self._state_arrays(state).values()
            if np.issubdtype(np.asarray(array).dtype, np.floating)
        )

    def _parameters(self, state) -> tuple:
        """The model's parameters in ``state`` (arrays), for the runaway check; default: every
        floating array of :meth:`_state_arrays`."""
        return tuple(
            array for array in self._state_arrays(state).values() if np.issubdtype(np.asarray(array).dtype, np.floating)
        )

    def _largest_parameter(self, state) -> float:
        """The largest magnitude among :meth:`_parameters` (0 for none); called only on finite states."""
        return max((float(np.max(np.abs(array))) for array in self._parameters(state) if np.size(array)), default=0.0)

    def _check_model(self, model) -> None:
        """Refuse a starting model the trainer cannot train (override to add limits)."""

    def _deferred_model(self, state, template):
        """The model of ``state`` now, or a :class:`Deferred` that builds it later from a copy of the parameters.

        The loop asks for it after epochs whose model nothing looks at (no monitor, callback or
        checkpoint due), to keep as the last good model. Default: the model itself; a trainer
        whose models cost more to build than to copy returns a :class:`Deferred`.
        """
        return self._model_from(state, template)

    def _epochs_for(self, data) -> int:
        """The number of epochs of a run on ``data`` (the checked training array).

        Default: ``epochs`` itself. A trainer that overrides this accepts ``epochs="auto"``
        and decides here how many epochs "auto" means for these data.
        """
        return self.epochs

    def _epoch_monitors(self) -> list:
        """Monitors the trainer adds to those of ``monitor=`` (for metrics its epochs do not give for free)."""
        return []

    def _parameter_count(self, n_visible: int, n_hidden) -> int:
        """Weights of a new model of size ``n_hidden`` (checked by :meth:`_check_size`; an RBM's; override for other models)."""
        return n_visible * n_hidden

    def _resume_settings(self) -> tuple[str, ...]:
        """Keys of :meth:`_settings` a checkpoint must share with the trainer resuming it."""
        return ("batch_size", "dtype", "binarize")

    def _settings(self) -> dict:
        """The options recorded in a checkpoint (JSON-able)."""
        return {
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "binarize": self.binarize,
            "dtype": self.dtype.name,
        }

    # ------------------------------------------------------------------ input checks
    def _visible_names_of(self, model_or_size, data) -> tuple[str, ...] | None:
        """The visible names the data must match, or None when the data decides them."""
        if isinstance(model_or_size, self._model_types):
            self._check_model(model_or_size)
            return model_or_size.visible_names
        self._check_size(model_or_size)
        return None

    def _check_size(self, size):
        """``model_or_size`` when it is not a model: the size of a new one, checked (override for other shapes).

        Default: a number of hidden units (int >= 1).
        """
        if isinstance(size, numbers.Integral) and not isinstance(size, bool):
            return check_int(size, "model_or_size", minimum=1)
        allowed = ", ".join(cls.__name__ for cls in self._model_types)
        raise ParameterTypeError(
            f"model_or_size must be a {allowed} or a number of hidden units (int >= 1), got {describe(size)}"
        )

    def _size_of(self, model):
        """What ``model_or_size`` would be to describe ``model``'s shape (default: its number of hidden units)."""
        return model.n_hidden

    #: whether ``fit`` reads the training data a block at a time (:mod:`._streamed`): the trainer's
    #: ``_run_epoch`` then takes a :class:`~pgm_energy.learning.StreamedRows` (see its ``_windows``)
    _streams_data = False

    def _check_streamed(self, data, visible_names):
        """Training data read a block at a time (a streaming trainer's memmap, Dask array or StreamedRows).

        The layout is checked now and every block's values once (``StreamedRows._bind``), with
        the conversion of :meth:`_converted`; nothing is loaded whole.

        Returns
        -------
        StreamedRows, tuple of str
            Bound to the training dtype, and the visible names.
        """
        from ._streamed import StreamedRows

        rows = StreamedRows(data, getattr(data, "block_rows", None))
        self._check_layout(rows.shape, rows.dtype, visible_names, "data")
        if visible_names is None:
            visible_names = tuple(f"v{i}" for i in range(rows.shape[1]))

        def convert(block, first_row):
            return self._converted(block, "data", first_row)

        return rows._bind(convert, self.dtype), visible_names

    def _check_data(self, data, visible_names, name: str = "data") -> tuple[np.ndarray, tuple[str, ...]]:
        """Data as a C-contiguous 0/1 array in the training dtype, and its visible names.

        A DataFrame's columns are matched to ``visible_names`` by name (reordered); with
        ``visible_names=None`` the columns become the names.
        """
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
            try:
                array = data.to_numpy()
            except (TypeError, ValueError) as error:
                raise StateError(f"{name} must hold numbers, got {describe(data)}") from error
        else:
            try:
                array = np.asarray(data)
            except (TypeError, ValueError) as error:
                raise StateError(f"{name} must be a 2-D array of 0/1 values, got {describe(data)}") from error
        if array.dtype == object:
            try:
                array = array.astype(np.float64)
            except (TypeError, ValueError) as error:
                raise StateError(f"{name} must hold numbers, got dtype object") from error
        self._check_layout(array.shape, array.dtype, visible_names, name)
        if visible_names is None:
            visible_names = tuple(f"v{i}" for i in range(array.shape[1]))
        return self._converted(array, name, 0), visible_names

    @staticmethod
    def _check_layout(shape, dtype, visible_names, name) -> None:
        """Refuse data that are not a non-empty 2-D numeric array with one column per visible name."""
        if not (np.issubdtype(dtype, np.number) or dtype == np.bool_) or np.issubdtype(dtype, np.complexfloating):
            raise StateError(f"{name} must be a 2-D array of 0/1 values, got dtype {dtype}")
        if len(shape) != 2:
            raise StateError(f"{name} must be 2-D (n_samples, n_visible), got shape {tuple(shape)}")
        n_features = shape[1] if visible_names is None else len(visible_names)
        if shape[1] != n_features:
            raise ValidationError(
                f"{name} must have {n_features} columns (one per visible unit"
                + (" of the model" if name == "data" else ", as in the model and data") + f"), got shape {tuple(shape)}"
            )
        if shape[0] == 0:
            raise ValidationError(f"{name} must hold at least one sample, got shape {tuple(shape)}")
        if shape[1] == 0:
            raise ValidationError(f"{name} must have at least one column, got shape {tuple(shape)}")

    def _converted(self, array: np.ndarray, name: str, first_row: int) -> np.ndarray:
        """``array`` (rows from ``first_row`` on) checked finite and 0/1 (or binarized), in the training dtype."""
        if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
            raise StateError(f"{name} must be finite, got {array[bad]!r} at index {(bad[0] + first_row, *bad[1:])}")
        if self.binarize is not None:
            array = array > self.binarize
        else:
            binary = (array == 0) | (array == 1)
            if not binary.all():
                bad = tuple(int(i) for i in np.argwhere(~binary)[0])
                raise StateError(
                    f"{name} must contain only 0 and 1, got {array[bad]!r} at index {(bad[0] + first_row, *bad[1:])}; "
                    "pass binarize=threshold to turn values above the threshold into 1"
                )
        return np.ascontiguousarray(array, dtype=self.dtype)

    # ------------------------------------------------------------------ checkpoints


    def _state_layout(self, template, data) -> dict:
        """``{name: (shape, dtype)}`` of every array :meth:`_state_arrays` holds for ``template`` and ``data``.

        Default: read off a fresh :meth:`_initial_state` (cheap for most trainers; override when
        building the state costs real work).
        """
        state = self._initial_state(template, data, np.random.default_rng(0))
        return {name: (np.shape(value), np.asarray(value).dtype) for name, value in self._state_arrays(state).items()}

    #: state arrays holding 0/1 unit states (checked on resume)
    _binary_state: tuple[str, ...] = ()

    def _check_state_values(self, arrays, template, epoch, damaged) -> None:
        """Trainer-specific checks of the restored arrays' values (override; raise ``damaged(problem)``)."""



    # ------------------------------------------------------------------ the loop
    def fit(self, model_or_size, data, *, validation=None, rng=None, callbacks=(), progress=True, resume_from=None):
        """Train and return the model with its history.

        Parameters
        ----------
        model_or_size : model or int
            A model to continue from (unchanged; a new one is returned), or the number of
            hidden units of a new model initialised by the trainer.
        data : array_like of 0/1, shape (n_samples, n_visible), or pandas.DataFrame
            Training data. A DataFrame's columns are the visible names (matched by name to a
            given model's visible names; they name the units of a new model).
        validation : array_like or DataFrame, optional
            Held-out data for the monitors (free-energy gap, validation log-likelihood).
        rng : None, int or numpy.random.Generator
            Source of every random draw (initial weights, chains, shuffles). Ignored with
            ``resume_from``: the checkpoint's generator state is restored instead.
        callbacks : sequence of callables
            Each called after every epoch as ``callback(epoch, model, history)``; a true return
            value stops training (see :mod:`pgm_energy.learning.callbacks`).
        progress : bool, default True
            A tqdm progress bar on stderr when it is a terminal; nothing when False.
        resume_from : str or path-like, optional
            A checkpoint written by this trainer (``checkpoint_every``) on the same data and
            settings: training continues from its epoch and ends exactly as the uninterrupted
            run would have. ``model_or_size`` must describe the same model (or be an int).

        Returns
        -------
        TrainingResult
            ``(model, history, stop_reason)``. ``stop_reason`` is ``"completed"``,
            ``"callback"`` or ``"interrupted"`` (Ctrl-C: the model of the last completed epoch).

        Raises
        ------
        TrainingDivergedError
            If a parameter became NaN or infinite, or ran away beyond :data:`RUNAWAY_BOUND`;
            carries the last good model and its history.
        CheckpointWriteError
            If a checkpoint could not be written mid-run (an ``OSError``: disk full, folder
            removed, ...); carries the model of the epoch, its history and the epoch.
        StateError, ValidationError
            For non-binary data (without ``binarize``), a wrong number of columns, empty
            data, a batch larger than the data, or a ``checkpoint_path`` that cannot be
            written (checked before the first epoch).
        ModelFileError
            If ``resume_from`` is not an intact checkpoint (damaged, tampered with, or its
            arrays do not fit the trainer's settings and data).
        """
        if not isinstance(progress, (bool, np.bool_)):
            raise ParameterTypeError(f"progress must be True or False, got {describe(progress)}")
        callbacks = _check_callbacks(callbacks)
        visible_names = self._visible_names_of(model_or_size, data)
        from ._streamed import StreamedRows, is_out_of_core

        for what, value in (("data", data), ("validation", validation)):
            if isinstance(value, StreamedRows) and not (what == "data" and self._streams_data):
                raise ValidationError(
                    f"{what}: {type(self).__name__} takes its {what} in memory, not streamed; pass an array "
                    "(ContrastiveDivergence reads its training data a block at a time)"
                )
        if self._streams_data and is_out_of_core(data):
            train, visible_names = self._check_streamed(data, visible_names)
        else:
            train, visible_names = self._check_data(data, visible_names, "data")
        valid = None if validation is None else self._check_data(validation, visible_names, "validation")[0]  # in memory
        if self.batch_size is None and not isinstance(train, np.ndarray):
            raise ValidationError(
                f"batch_size=None (the full batch) would hold all {train.shape[0]} rows of the streamed data in "
                "memory; pass a batch_size"
            )
        if self.batch_size is not None and self.batch_size > train.shape[0]:
            raise ValidationError(
                f"batch_size={self.batch_size} is larger than the data ({train.shape[0]} rows); "
                f"use a smaller batch_size or batch_size=None for the full batch (where a default trainer is "
                f"used, pass one, e.g. trainer={type(self).__name__}(batch_size={train.shape[0]}))"
            )
        option = self.epochs
        self.epochs = self._epochs_for(train)  # "auto" resolved for these data, for this run only
        try:
            return self._train(model_or_size, train, valid, visible_names, rng, callbacks, progress, resume_from)
        finally:
            self.epochs = option

    def _train(self, model_or_size, train, valid, visible_names, rng, callbacks, progress, resume_from):
        """The loop of :meth:`fit`, on checked data, with ``self.epochs`` a number."""
        given_model = isinstance(model_or_size, self._model_types)
        if not given_model:
            count = self._parameter_count(train.shape[1], self._check_size(model_or_size))
            if count > MAX_PARAMETERS:
                raise ValidationError(
                    f"model_or_size={model_or_size} hidden units with {train.shape[1]} visible units need {count} "
                    f"weights, more than {MAX_PARAMETERS}"
                )
        if self.checkpoint_every is not None:
            # Found now, not after hours of training: a folder that is missing or not writable,
            # a directory or a device in the checkpoint's place.
            resolve_output_path(self.checkpoint_path, "checkpoint_path")
        digest = data_digest(train) if (self.checkpoint_every is not None or resume_from is not None) else ""
        if resume_from is None:
            generator = check_rng(rng)
            template = self._initial_model(model_or_size, train, visible_names, generator)
            try:
                state = self._initial_state(template, train, generator)  # may be long (burn-in sweeps)
            except KeyboardInterrupt:
                return TrainingResult(template, TrainingHistory(), "interrupted")
            monitor_seed = int(generator.integers(0, 2**62))
            history, start = TrainingHistory(), 0
        else:
            generator, template, state, history, start, monitor_seed = read_checkpoint(
                self, resume_from, visible_names if given_model else None, train, digest,
            )
            if given_model and self._size_of(model_or_size) != self._size_of(template):
                raise ValidationError(f"resume_from={str(resume_from)!r} holds a model of another shape than model_or_size")
            if not given_model and self._size_of(template) != self._check_size(model_or_size):
                raise ValidationError(
                    f"resume_from={str(resume_from)!r} holds a model of size {self._size_of(template)!r} "
                    f"(hidden units), not model_or_size={model_or_size!r}"
                )
            if start > self.epochs:
                raise ValidationError(
                    f"resume_from={str(resume_from)!r} holds epoch {start}, beyond this trainer's epochs={self.epochs}"
                )
        from .monitors import build_monitors

        monitors = build_monitors(self.monitor, template, train, valid, seed=monitor_seed, extra=self._epoch_monitors())
        every = self.monitor_every if self.monitor_every is not None else max(1, self.epochs // 20)
        last_good = self._model_from(state, template) if start else template
        stop_reason = "completed"
        bar = progress_bar(bool(progress), self.epochs, unit="epoch", description=type(self).__name__, initial=start)
        n_rows = train.shape[0]
        streaming = not isinstance(train, np.ndarray)  # a bound StreamedRows: an epoch's order on its blocks
        try:
            for epoch in range(start + 1, self.epochs + 1):
                began = time.perf_counter()
                order = (train._epoch_order(generator) if streaming
                         else generator.permutation(n_rows).astype(np.int64, copy=False))
                # Overflow is expected when training diverges; it is reported below, not warned about.
                with np.errstate(over="ignore", invalid="ignore"):
                    metrics = self._run_epoch(state, train, order, epoch)
                seconds = time.perf_counter() - began
                self._check_divergence(state, epoch, last_good, history)
                record = {"epoch": epoch, "seconds": seconds, **metrics}
                scheduled = epoch % every == 0 or epoch == self.epochs
                due = [monitor for monitor in monitors if scheduled or monitor.every_epoch]
                checkpoint_due = self.checkpoint_every is not None and (
                    epoch % self.checkpoint_every == 0 or epoch == self.epochs)
                if due or checkpoint_due or callbacks:
                    model = last_good = self._model_from(state, template)
                else:  # nothing looks at this epoch's model: build it only if the run ends here
                    model, last_good = None, self._deferred_model(state, template)
                for monitor in due:
                    record.update(monitor(model, epoch))
                history.append(record)
                if checkpoint_due:
                    try:
                        write_checkpoint(
                            self, self.checkpoint_path, epoch=epoch, generator=generator, monitor_seed=monitor_seed,
                            state=state, model=model, history=history, digest=digest,
                        )
                    except (OSError, ValidationError) as error:  # disk full, folder gone, path replaced
                        kept = self._final_model(state, template) if epoch == self.epochs else model
                        raise CheckpointWriteError(
                            f"could not write the checkpoint of epoch {epoch} to checkpoint_path="
                            f"{str(self.checkpoint_path)!r}: {error}; the error's .model is the model of "
                            "that epoch (the previous checkpoint file is untouched)",
                            model=kept, history=history, epoch=epoch, path=self.checkpoint_path,
                            errno=getattr(error, "errno", None),
                        ) from error
                if bar.shown:
                    bar.set_postfix({key: f"{value:.4g}" for key, value in record.items() if key not in ("epoch", "seconds")})
                bar.update(1)
                # Every callback sees every epoch, even when an earlier one asks to stop.
                answers = [bool(callback(epoch, model, history)) for callback in callbacks]
                if any(answers):
                    stop_reason = "callback"
                    break
        except KeyboardInterrupt:
            stop_reason = "interrupted"
        finally:
            bar.close()
        # A completed run ends with the final model (averaged, if averaging), also when resumed
        # from a checkpoint of its last epoch, so that no epoch ran here.
        final = self._final_model(state, template) if stop_reason == "completed" else _built(last_good)
        for callback in callbacks:
            finish = getattr(callback, "final_model", None)
            if finish is not None:
                final = finish(final, history)
        return TrainingResult(final, history, stop_reason)

    def _check_divergence(self, state, epoch, last_good, history) -> None:
        """Raise :class:`TrainingDivergedError` (carrying ``last_good``) for a NaN, infinite or runaway parameter."""
        if not self._finite(state):
            problem = "a parameter became NaN or infinite"
        else:
            largest = self._largest_parameter(state)
            bound = RUNAWAY_BOUND[self.dtype]
            if not largest > bound:
                return
            problem = (
                f"a parameter reached magnitude {largest:.3g}, beyond {bound:.3g} (the runaway bound for "
                f"{self.dtype.name})"
            )
        hint = "a smaller learning_rate or a smaller learning_rate * weight_decay"
        if self.dtype == np.float32:
            hint += ", or dtype='float64'"
        raise TrainingDivergedError(
            f"training diverged in epoch {epoch}: {problem} (try {hint}); "
            "the error's .model is the last good model",
            model=_built(last_good),
            history=history,
            epoch=epoch,
        )

    def __repr__(self) -> str:
        options = ", ".join(f"{key}={value!r}" for key, value in self._settings().items())
        return f"{type(self).__name__}({options})"



class Deferred:
    """A model built only when asked for (:func:`_built`): ``build()`` returns it."""

    __slots__ = ("build",)

    def __init__(self, build):
        self.build = build


def _built(model):
    return model.build() if isinstance(model, Deferred) else model


def _check_callbacks(callbacks) -> tuple:
    if callable(callbacks):
        callbacks = (callbacks,)
    if isinstance(callbacks, (str, bytes, dict)) or not isinstance(callbacks, (list, tuple)):
        raise ParameterTypeError(f"callbacks must be a callable or a list/tuple of callables, got {describe(callbacks)}")
    callbacks = tuple(callbacks)
    for callback in callbacks:
        if not callable(callback):
            raise ParameterTypeError(f"callbacks must be callables callback(epoch, model, history), got {describe(callback)}")
    return callbacks
