"""Model files: ``.npz`` archives without pickle, written atomically.

A file holds the model's arrays plus two markers, ``__pgm_energy_kind__`` (the
class) and ``__pgm_energy_format__`` (the format version), so a foreign,
truncated or corrupted file is recognised and reported instead of half-loaded.
"""

from __future__ import annotations

import os
import secrets
import zipfile
from pathlib import Path

import numpy as np

from .exceptions import ModelFileError, ParameterTypeError, PGMEnergyError
from .models import BoltzmannMachine, DeepBeliefNetwork, RestrictedBoltzmannMachine, SigmoidBeliefNetwork

__all__ = ["save", "load", "atomic_savez", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_KIND_KEY = "__pgm_energy_kind__"
_VERSION_KEY = "__pgm_energy_format__"
_KINDS = {
    cls._FILE_KIND: cls
    for cls in (BoltzmannMachine, RestrictedBoltzmannMachine, SigmoidBeliefNetwork, DeepBeliefNetwork)
}


def save(model, path) -> None:
    """Write ``model`` to ``path`` (a ``.npz`` file; the name is used as given).

    The file is written to a temporary name in the same folder and renamed into
    place, so an interrupted save never leaves a half-written model behind.

    Raises
    ------
    TypeError
        If ``model`` is not a pgm_energy model.
    """
    if not isinstance(model, tuple(_KINDS.values())):
        raise ParameterTypeError(f"model must be a pgm_energy model, got {type(model).__name__}")
    path = Path(path)
    arrays = dict(model._to_arrays())
    arrays[_KIND_KEY] = np.array(type(model)._FILE_KIND)
    arrays[_VERSION_KEY] = np.array(FORMAT_VERSION)
    atomic_savez(path, arrays)


def atomic_savez(path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` as ``.npz`` through a temporary file renamed into place.

    A crash or Ctrl-C mid-write leaves the previous file at ``path`` intact (used by model
    files and training checkpoints).
    """
    path = Path(path)
    # Like mkstemp, but with the usual permissions (0o666 less the umask) instead of 0o600.
    temporary = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            np.savez(handle, **arrays)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path):
    """Read a model written by :func:`save` or ``model.save``.

    Returns
    -------
    BoltzmannMachine, RestrictedBoltzmannMachine, SigmoidBeliefNetwork or DeepBeliefNetwork

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ModelFileError
        If the file is not a readable pgm_energy model file (truncated,
        corrupted, foreign, written by a newer format version).
    """
    path = Path(path)
    try:
        content = np.load(path, allow_pickle=False)
        if not isinstance(content, np.lib.npyio.NpzFile):
            raise ModelFileError(f"{str(path)!r} is a single NumPy array, not a pgm_energy model file")
        with content:
            arrays = {key: content[key] for key in content.files}
    except (FileNotFoundError, ModelFileError):
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, NotImplementedError, RuntimeError) as error:
        # zipfile raises NotImplementedError / RuntimeError for damaged directory entries
        raise ModelFileError(f"{str(path)!r} is not a readable pgm_energy model file: {error}") from error
    if _KIND_KEY not in arrays or _VERSION_KEY not in arrays:
        raise ModelFileError(f"{str(path)!r} is not a pgm_energy model file (no kind/format markers)")
    kind_marker, version_marker = arrays.pop(_KIND_KEY), arrays.pop(_VERSION_KEY)
    if version_marker.shape != () or not np.issubdtype(version_marker.dtype, np.integer):
        raise ModelFileError(f"{str(path)!r} has an unreadable format version {version_marker!r}")
    if kind_marker.shape != () or kind_marker.dtype.kind != "U":
        raise ModelFileError(f"{str(path)!r} has an unreadable model kind {kind_marker!r}")
    kind, version = str(kind_marker), int(version_marker)
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{str(path)!r} has model format version {version}; this pgm_energy reads version {FORMAT_VERSION}"
        )
    if kind not in _KINDS:
        raise ModelFileError(f"{str(path)!r} holds an unknown model kind {kind!r}")
    try:
        return _KINDS[kind]._from_arrays(arrays)
    except (KeyError, TypeError, ValueError, PGMEnergyError) as error:
        raise ModelFileError(f"{str(path)!r} holds a damaged {kind}: {error}") from error
