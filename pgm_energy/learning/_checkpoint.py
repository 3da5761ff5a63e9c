"""Training checkpoints: one ``.npz`` file that lets a run continue exactly where it stopped.

A checkpoint holds a format marker, the trainer's name and settings (JSON), a digest of the
training data, the epoch, the run's random generator state (JSON), the seed of the monitors,
the model of the epoch (``model__*``), the trainer's state arrays (``state__*``) and the history
(``history__*``). It is written atomically (:func:`pgm_energy.io.atomic_savez`); reading it
checks every member before use (:func:`read_checkpoint`), so that a damaged or tampered file
is refused with :class:`~pgm_energy.exceptions.ModelFileError` and a sound file of other
settings or data with :class:`~pgm_energy.exceptions.ValidationError`.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .._validation import describe
from ..exceptions import ModelFileError, ParameterTypeError, PGMEnergyError, ValidationError
from ..io import atomic_savez, read_npz
from ._result import TrainingHistory

__all__ = [
    "CHECKPOINT_FORMAT", "data_digest", "generator_state_json", "generator_from_json", "write_checkpoint",
    "read_checkpoint", "check_state_arrays", "checkpoint_history",
]

#: version of the checkpoint file layout
CHECKPOINT_FORMAT = 1
_MARKER = "__pgm_energy_checkpoint__"
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


# ---------------------------------------------------------------------------- RNG state as JSON
def _to_json(value):
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, np.integer):
        return int(value)
    raise TypeError(f"cannot store {type(value).__name__} in a checkpoint")


def _from_json(value):
    if isinstance(value, dict):
        if "__ndarray__" in value:
            dtype = np.dtype(value["dtype"])
            # generator states hold only small integer arrays (MT19937's key): refuse anything
            # else before allocating (a tampered "<U2000000000" would ask for gigabytes)
            if dtype.kind not in "iu":
                raise ValueError(f"a generator state holds integer arrays, not {dtype}")
            return np.array(value["__ndarray__"], dtype=dtype)
        return {key: _from_json(item) for key, item in value.items()}
    return value


def generator_state_json(generator: np.random.Generator) -> str:
    """The generator's ``bit_generator.state`` as a JSON string."""
    return json.dumps(generator.bit_generator.state, default=_to_json)


def generator_from_json(text: str) -> np.random.Generator:
    """A new generator in the state written by :func:`generator_state_json`."""
    state = _from_json(json.loads(text))
    kind = state.get("bit_generator") if isinstance(state, dict) else None
    if kind not in _BIT_GENERATORS:
        raise ModelFileError(f"checkpoint holds an unknown random generator {kind!r}")
    bit_generator = getattr(np.random, kind)()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


# ---------------------------------------------------------------------------- files
def data_digest(array) -> str:
    """Fingerprint of the training data, so a checkpoint is not resumed on other data.

    ``array``: the checked data, in memory or a bound StreamedRows (hashed block by block: the
    same digest as the same rows in memory).
    """
    hasher = hashlib.blake2b(digest_size=16)
    hasher.update(repr((tuple(array.shape), array.dtype.str)).encode())
    blocks = ((0, array),) if isinstance(array, np.ndarray) else array._blocks()
    for _, block in blocks:
        hasher.update(np.ascontiguousarray(block).tobytes())
    return hasher.hexdigest()



def _members(arrays: dict, prefix: str) -> dict:
    """The members of a checkpoint whose names start with ``prefix``, the prefix removed."""
    return {key[len(prefix):]: value for key, value in arrays.items() if key.startswith(prefix)}


def write_checkpoint(trainer, path, *, epoch, generator, monitor_seed, state, model, history, digest) -> None:
    """Write the checkpoint of ``trainer`` after ``epoch`` to ``path`` (atomically)."""
    arrays = {
        _MARKER: np.array(CHECKPOINT_FORMAT),
        "trainer": np.array(type(trainer).__name__),
        "settings": np.array(json.dumps(trainer._settings(), sort_keys=True, default=str)),
        "data_digest": np.array(digest),
        "epoch": np.array(epoch, dtype=np.int64),
        "rng_state": np.array(generator_state_json(generator)),
        "monitor_seed": np.array(monitor_seed, dtype=np.int64),
        "model_kind": np.array(type(model)._FILE_KIND),
    }
    arrays.update({f"model__{key}": value for key, value in model._to_arrays().items()})
    arrays.update({f"state__{key}": np.asarray(value) for key, value in trainer._state_arrays(state).items()})
    arrays.update({f"history__{key}": value for key, value in history.to_arrays().items()})
    atomic_savez(path, arrays)


def read_checkpoint(trainer, path, visible_names, data, digest):
    """Everything needed to continue from ``path``, each member checked before use.

    A file that is not an intact checkpoint of this trainer's layout (damaged, tampered
    with: missing or extra members, wrong dtypes or shapes, bad JSON, NaN, chains that are
    not 0/1, zero random streams) raises :class:`ModelFileError`; a sound checkpoint
    written with other settings, data or model raises :class:`ValidationError`.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterTypeError(f"resume_from must be a str or path-like, got {describe(path)}")
    if isinstance(os.fspath(path), str) and not os.fspath(path):
        raise ValidationError("resume_from must name a checkpoint file, got ''")
    where = f"resume_from={str(path)!r}"
    try:
        arrays = read_npz(path, what="training checkpoint")
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, f"{where}: no such checkpoint file", str(path)) from None
    except PGMEnergyError as error:  # the reader names its own parameter, "path"
        raise type(error)(f"{where}: {error}") from None
    path = Path(path)

    def damaged(problem: str) -> ModelFileError:
        return ModelFileError(f"{where} is a damaged training checkpoint: {problem}")

    marker = arrays.get(_MARKER)
    if marker is None or marker.shape != () or marker.dtype.kind not in "iu" or int(marker) != CHECKPOINT_FORMAT:
        raise ModelFileError(f"{where} is not a pgm_energy training checkpoint (format {CHECKPOINT_FORMAT})")
    for key in ("trainer", "settings", "data_digest", "rng_state", "model_kind", "epoch", "monitor_seed"):
        if key not in arrays:
            raise damaged(f"the member {key!r} is missing")
        kinds = "iu" if key in ("epoch", "monitor_seed") else "U"
        if arrays[key].shape != () or arrays[key].dtype.kind not in kinds:
            expected = "an integer" if kinds == "iu" else "a text"
            raise damaged(f"{key!r} must be {expected} scalar, got {arrays[key].dtype} of shape {arrays[key].shape}")
    writer = str(arrays["trainer"])
    if writer != type(trainer).__name__:
        raise ValidationError(f"{where} was written by {writer}, not {type(trainer).__name__}")
    try:
        saved = json.loads(str(arrays["settings"]))
    except (ValueError, RecursionError) as error:
        raise damaged(f"'settings' is not valid JSON ({error})") from None
    if not isinstance(saved, dict):
        raise damaged(f"'settings' must be a JSON object, got {type(saved).__name__}")
    current = json.loads(json.dumps(trainer._settings(), sort_keys=True, default=str))
    for key in trainer._resume_settings():
        if saved.get(key) != current.get(key):
            raise ValidationError(
                f"{where} was trained with {key}={saved.get(key)!r}, this trainer has {current.get(key)!r}"
            )
    if str(arrays["data_digest"]) != digest:
        raise ValidationError(f"{where} was trained on other data than the data given")
    epoch = int(arrays["epoch"])
    if not 1 <= epoch <= 2**31:
        raise damaged(f"'epoch' must be a completed epoch (>= 1), got {epoch}")
    if not 0 <= int(arrays["monitor_seed"]) < 2**62:
        raise damaged(f"'monitor_seed' must be in [0, 2**62), got {int(arrays['monitor_seed'])}")
    kind = str(arrays["model_kind"])
    # the kinds this trainer trains (a model class's file kind names it in the checkpoint)
    kinds = {cls._FILE_KIND: cls for cls in trainer._model_types}
    if kind not in kinds:
        raise damaged(f"it holds a model of kind {kind!r}, which {type(trainer).__name__} does not train")
    try:
        template = kinds[kind]._from_arrays(_members(arrays, "model__"))
    except (KeyError, TypeError, ValueError, IndexError, PGMEnergyError) as error:
        raise damaged(f"its model is unreadable ({error})") from None
    if visible_names is not None and tuple(template.visible_names) != tuple(visible_names):
        raise ValidationError(f"{where} holds a model with other visible units than the data")
    trainer._check_model(template)
    state_arrays = _members(arrays, "state__")
    try:
        layout = trainer._state_layout(template, data)
    except PGMEnergyError as error:  # the stored model does not fit the data or the settings
        raise damaged(f"its model does not fit this trainer and data ({error})") from None
    check_state_arrays(trainer, state_arrays, layout, template, epoch, damaged)
    try:
        state = trainer._restore(state_arrays, template, data)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        if isinstance(error, PGMEnergyError) and not isinstance(error, ModelFileError):
            raise  # another trainer setting (for example a tempering ladder): the user's choice
        raise damaged(str(error)) from None
    from ._trainer import RUNAWAY_BOUND  # (the trainer module imports this one)

    largest, bound = trainer._largest_parameter(state), RUNAWAY_BOUND[trainer.dtype]
    if largest > bound:  # never written: the run checks every epoch before its checkpoint
        raise damaged(f"a parameter of magnitude {largest:.3g} is beyond the runaway bound {bound:.3g}")
    # The stored model is the model of the stored state (it was written from it): a
    # difference means one of them was altered.
    stored = _members(arrays, "model__")
    rebuilt = trainer._model_from(state, template)._to_arrays()
    if set(rebuilt) != set(stored) or any(
        np.asarray(value).dtype != stored[key].dtype or not np.array_equal(value, stored[key])
        for key, value in rebuilt.items()
    ):
        raise damaged("its model is not the model of its training state (one of them was altered)")
    history = checkpoint_history(_members(arrays, "history__"), epoch, damaged)
    try:
        generator = generator_from_json(str(arrays["rng_state"]))
    except ModelFileError as error:
        raise damaged(str(error)) from None
    except (ValueError, TypeError, KeyError, OverflowError, AttributeError, RecursionError) as error:
        raise damaged(f"'rng_state' is not a random generator's state ({type(error).__name__}: {error})") from None
    return generator, template, state, history, epoch, int(arrays["monitor_seed"])


def check_state_arrays(trainer, arrays, layout, template, epoch, damaged) -> None:
    """Refuse state arrays that do not have exactly the layout of this trainer, or bad values."""
    missing = sorted(set(layout) - set(arrays))
    extra = sorted(set(arrays) - set(layout))
    if missing or extra:
        raise damaged(f"its training state lacks {missing!r} and has unexpected {extra!r} (written with other settings?)")
    for name, (shape, dtype) in layout.items():
        array = arrays[name]
        if array.dtype != dtype or array.shape != tuple(shape):
            raise damaged(f"state array {name!r} must be {dtype} of shape {tuple(shape)}, got {array.dtype} of shape {array.shape}")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise damaged(f"state array {name!r} holds NaN or infinite values")
        if array.dtype == np.uint64 and array.size and not array.all():
            raise damaged(f"state array {name!r} (random streams) holds a zero state")
        if array.dtype.kind == "i" and array.size and array.min() < 0:
            raise damaged(f"state array {name!r} holds a negative count {int(array.min())}")
        if name in trainer._binary_state and not ((array == 0) | (array == 1)).all():
            raise damaged(f"state array {name!r} must hold 0/1 unit states")
    trainer._check_state_values(arrays, template, epoch, damaged)


def checkpoint_history(columns, epoch, damaged) -> TrainingHistory:
    """The history stored in a checkpoint of ``epoch`` epochs, checked."""
    for name, values in columns.items():
        if values.dtype != np.float64 or values.shape != (epoch,):
            raise damaged(f"history {name!r} must be float64 of shape ({epoch},), got {values.dtype} of shape {values.shape}")
    if "epoch" not in columns or not np.array_equal(columns["epoch"], np.arange(1, epoch + 1)):
        raise damaged(f"its history must number the epochs 1 to {epoch}")
    return TrainingHistory.from_arrays(columns)
