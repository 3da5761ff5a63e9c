"""Model files: ``.npz`` archives without pickle, written atomically, read defensively.

A file holds the model's arrays plus two markers, ``__pgm_energy_kind__`` (the
class) and ``__pgm_energy_format__`` (the format version), so a foreign,
truncated or corrupted file is recognised and reported instead of half-loaded.

Three helpers here are shared with training checkpoints:

* :func:`resolve_output_path` checks an output path before any work is done;
* :func:`atomic_savez` writes through symlinks, atomically, never onto a special file;
* :func:`read_npz` is the one reader: whatever the bytes, it returns arrays or raises
  :class:`~pgm_energy.exceptions.ModelFileError` (a missing file stays ``FileNotFoundError``).
"""

from __future__ import annotations

import collections
import math
import os
import secrets
import stat
import struct
import warnings
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ._validation import describe
from .exceptions import ModelFileError, ParameterTypeError, PGMEnergyError, ValidationError
from .models import (BoltzmannMachine, CategoricalRBM, DeepBeliefNetwork, DeepBoltzmannMachine, GaussianBernoulliRBM,
                     PottsMachine, RestrictedBoltzmannMachine, SigmoidBeliefNetwork)

__all__ = ["save", "load", "atomic_write", "atomic_savez", "read_npz", "resolve_output_path", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_KIND_KEY = "__pgm_energy_kind__"
_VERSION_KEY = "__pgm_energy_format__"
_KINDS = {
    cls._FILE_KIND: cls
    for cls in (BoltzmannMachine, RestrictedBoltzmannMachine, SigmoidBeliefNetwork, DeepBeliefNetwork, PottsMachine,
                CategoricalRBM, GaussianBernoulliRBM, DeepBoltzmannMachine)
}

#: suffix of the temporary files behind an atomic write: ``.{name}.{pid}.{random}.pgm-energy-tmp``
TEMPORARY_SUFFIX = ".pgm-energy-tmp"
#: deflate cannot expand data by more than about 1032:1, so a member declaring more is lying
_MAX_COMPRESSION_RATIO = 1100
#: bytes a member may take beyond ratio * compressed size (tiny members, headers)
_SIZE_SLACK = 1 << 16
#: dtype kinds a file may hold: bool, integers, floats, complex (refused later where not
#: expected), fixed-width text; never objects (pickle), void/structured or datetimes
_ALLOWED_DTYPE_KINDS = frozenset("biufcUS")


# --------------------------------------------------------------------------- output paths
def _check_label(value, parameter: str) -> str:
    """A label used in messages (``name=``, ``what=``): a str, checked before it is formatted into one."""
    if not isinstance(value, str):
        raise ParameterTypeError(f"{parameter} must be a str, got {describe(value)}")
    return value


def _fspath(path, name: str) -> str:
    """``path`` as a non-empty ``str`` (bytes paths and other objects are refused)."""
    _check_label(name, "name")
    if not isinstance(path, (str, os.PathLike)):
        raise ParameterTypeError(f"{name} must be a str or os.PathLike path, got {describe(path)}")
    text = os.fspath(path)
    if not isinstance(text, str):
        raise ParameterTypeError(f"{name} must be a str path, got {describe(path)}")
    if not text:
        raise ValidationError(f"{name} must not be empty, got {path!r}")
    if "\x00" in text:
        raise ValidationError(f"{name} must not contain the NUL character, got {path!r}")
    return text


def _temporary_name(target: Path) -> Path:
    """A fresh temporary name next to ``target`` that says who wrote it (the PID)."""
    return target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(6)}{TEMPORARY_SUFFIX}"


def _file_type(mode: int) -> str:
    for test, label in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return label
    return "not a regular file"


def resolve_output_path(path, name: str = "path") -> Path:
    """Check that ``path`` can receive a new file and return the real target.

    Symlinks are followed (also dangling ones, whose target is then created), so
    writing to the returned path replaces the file the user meant and never the link.
    The check leaves nothing behind.

    Parameters
    ----------
    path : str or os.PathLike
        Where a file is about to be written.
    name : str, default "path"
        The parameter's name, used in error messages.

    Returns
    -------
    pathlib.Path
        The absolute target path, symlinks resolved.

    Raises
    ------
    ParameterTypeError
        If ``path`` is not a ``str`` or ``os.PathLike``.
    ValidationError
        If the target exists and is not a regular file (a directory, a device such as
        ``/dev/null``, a FIFO, a socket), if its folder does not exist or is not a
        directory, or if the folder is not writable (tested by creating and removing
        a temporary file: ``os.access`` is wrong for root and on some file systems).
    """
    text = _fspath(path, name)
    target = Path(os.path.realpath(text))
    try:
        info = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as error:  # a symlink loop, a file used as a folder, no permission
        raise ValidationError(f"{name} {text!r} cannot be written: {error.strerror or error}") from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise ValidationError(
            f"{name} {text!r} is {_file_type(info.st_mode)}; a file can only be written to a new path "
            "or over a regular file"
        )
    folder = target.parent
    if not folder.is_dir():
        raise ValidationError(f"{name} {text!r} cannot be written: the folder {str(folder)!r} does not exist")
    probe = _temporary_name(target)
    try:
        descriptor = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as error:
        raise ValidationError(
            f"{name} {text!r} cannot be written: the folder {str(folder)!r} is not writable "
            f"({error.strerror or error})"
        ) from None
    os.close(descriptor)
    os.unlink(probe)
    return target


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, it belongs to someone else
        return True
    except (OverflowError, ValueError):
        return False  # not a possible PID
    return True


def _remove_stale_temporaries(target: Path) -> None:
    """Remove temporary files of ``target`` left by writers that are no longer running."""
    prefix = f".{target.name}."
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(TEMPORARY_SUFFIX)):
            continue
        middle = entry.name[len(prefix) : -len(TEMPORARY_SUFFIX)].split(".")
        if len(middle) != 2 or not middle[0].isdigit():
            continue
        if _process_alive(int(middle[0])):
            continue  # a live writer (maybe this very process, in another thread) is using it
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
        except OSError:
            pass  # someone else removed it first, or it cannot be removed: harmless


def atomic_write(path, write, *, name: str = "path") -> Path:
    """Write a file with ``write(binary_handle)`` through a temporary file renamed into place.

    A crash or Ctrl-C mid-write leaves the previous file at ``path`` intact. A symlink is
    written through: its target is replaced (atomically, from a temporary file in the target's
    folder) and the link stays. The temporary file is named
    ``.{name}.{pid}.{random}.pgm-energy-tmp``; temporary files of the same target left by a
    process that no longer runs are removed by the next write. An existing file keeps its
    permission bits; a new file gets ``0o666`` less the umask.

    Parameters
    ----------
    path : str or path-like
        Where to write (checked by :func:`resolve_output_path` before anything is written).
    write : callable(handle)
        Writes the content to a binary file handle.
    name : str, default "path"
        The parameter's name, for error messages (``"checkpoint_path"``, ``"--output"``).

    Returns
    -------
    pathlib.Path
        The file written (a symlink's target).

    Raises
    ------
    ParameterTypeError, ValidationError
        From :func:`resolve_output_path`, before anything is written.
    OSError
        If writing fails (disk full, ...); the previous file is then untouched.
    """
    target = resolve_output_path(path, name)
    if not callable(write):  # before any temporary file exists
        raise ParameterTypeError(f"write must be a callable taking a binary file handle, got {describe(write)}")
    _remove_stale_temporaries(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    temporary = _temporary_name(target)
    # Like mkstemp, but with the usual permissions (0o666 less the umask) instead of 0o600.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(target.parent)
    return target


def atomic_savez(path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` as ``.npz`` with :func:`atomic_write` (model files, checkpoints).

    Raises
    ------
    ParameterTypeError, ValidationError
        From :func:`resolve_output_path`, before anything is written; also if an array
        holds Python objects (they would need pickle).
    OSError
        If writing fails (disk full, ...); the previous file is then untouched.
    """
    if not isinstance(arrays, Mapping) or not all(isinstance(key, str) and key for key in arrays):
        raise ParameterTypeError(f"arrays must be a dict of member name (str) -> array, got {describe(arrays)}")
    for key, value in arrays.items():
        if np.asarray(value).dtype.hasobject:
            raise ValidationError(f"array {key!r} holds Python objects, which model files do not store (no pickle)")
    atomic_write(path, lambda handle: np.savez(handle, **arrays))


def _sync_folder(folder: Path) -> None:
    """Make the rename durable; not every platform or file system can sync a folder."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# --------------------------------------------------------------------------- reading
#: what a damaged archive or member can raise inside zipfile, zlib and NumPy's header parser
_DAMAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    NotImplementedError,
    RuntimeError,  # zipfile: encrypted member, unsupported features
    SyntaxError,
    RecursionError,
    UserWarning,  # NumPy's "created on Python 2" header repair, turned into an error below
)


def _open_regular_file(text: str, what: str):
    """Open ``text`` for reading only if it is a regular file (never a FIFO or a device)."""
    try:
        info = os.stat(text)
    except FileNotFoundError:
        raise
    except OSError as error:
        raise ModelFileError(f"path={text!r} is not a readable {what}: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ModelFileError(f"path={text!r} is not a readable {what}: it is {_file_type(info.st_mode)}")
    try:
        # O_NONBLOCK: if the path was swapped for a FIFO since the stat, opening must not hang.
        descriptor = os.open(text, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise
    except OSError as error:
        raise ModelFileError(f"path={text!r} is not a readable {what}: {error.strerror or error}") from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        os.close(descriptor)
        raise ModelFileError(f"path={text!r} is not a readable {what}: it is {_file_type(info.st_mode)}")
    return os.fdopen(descriptor, "rb"), info.st_size


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> np.ndarray:
    """One ``.npy`` member, its declared size checked against the archive before allocating."""
    with archive.open(member) as stream:
        version = np.lib.format.read_magic(stream)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"unsupported .npy format version {version}")
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            shape, fortran_order, dtype = reader(stream)
        header_size = stream.tell()
        if not all(type(length) is int and length >= 0 for length in shape):
            raise ValueError(f"member {member.filename!r} declares an impossible shape {shape!r}")
        if dtype.hasobject:
            raise ValueError(f"member {member.filename!r} holds pickled Python objects (pickle is never loaded)")
        if dtype.kind not in _ALLOWED_DTYPE_KINDS or dtype.fields is not None or dtype.subdtype is not None:
            raise ValueError(f"member {member.filename!r} has an unsupported dtype {dtype}")
        if dtype.itemsize == 0:
            raise ValueError(f"member {member.filename!r} has an empty dtype {dtype}")
        count = math.prod(shape)
        if header_size + count * dtype.itemsize != member.file_size:
            raise ValueError(
                f"member {member.filename!r} declares shape {shape} of {dtype} "
                f"({count * dtype.itemsize} bytes) but holds {member.file_size - header_size} bytes"
            )
        buffer = bytearray(count * dtype.itemsize)
        if stream.readinto(buffer) != len(buffer) or stream.read(1):
            raise ValueError(f"member {member.filename!r} is shorter or longer than declared")
    array = np.frombuffer(buffer, dtype=dtype, count=count)
    array = array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
    return array


def _check_directory(archive: zipfile.ZipFile, file_size: int) -> list[zipfile.ZipInfo]:
    """The members, refused before anything is decompressed if their sizes cannot be true."""
    members = archive.infolist()
    counts = collections.Counter(member.filename for member in members)
    if len(counts) != len(members):
        duplicates = sorted(name for name, count in counts.items() if count > 1)
        raise ValueError(f"duplicate members {duplicates[:5]!r}")
    total = 0
    for member in members:
        if not member.filename.endswith(".npy"):
            raise ValueError(f"member {member.filename!r} is not a .npy array")
        if member.compress_type == zipfile.ZIP_STORED:
            limit = member.compress_size
        elif member.compress_type == zipfile.ZIP_DEFLATED:
            limit = member.compress_size * _MAX_COMPRESSION_RATIO + _SIZE_SLACK
        else:
            raise ValueError(f"member {member.filename!r} uses an unsupported compression ({member.compress_type})")
        if member.file_size > limit or member.compress_size > file_size:
            raise ValueError(
                f"member {member.filename!r} declares {member.file_size} bytes from {member.compress_size} "
                f"stored bytes in a file of {file_size} bytes"
            )
        total += member.file_size
    # members may overlap inside the archive, so also bound their sum by the file's size
    if total > file_size * _MAX_COMPRESSION_RATIO + _SIZE_SLACK:
        raise ValueError(f"members declare {total} bytes in all, impossible for a file of {file_size} bytes")
    return members


def read_npz(path, *, what: str = "model file") -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` file, whatever the file holds, without pickle.

    Only regular files are opened (a FIFO or ``/dev/zero`` would block or never end).
    Every member's declared shape and dtype are checked against the archive's sizes
    before any memory is allocated, so a small damaged file cannot exhaust memory.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    what : str, default "model file"
        What the file should be, for error messages (e.g. ``"training checkpoint"``).

    Returns
    -------
    dict of str to numpy.ndarray
        Member name (without ``.npy``) -> array, in native byte order, writable.
        Dtypes are bool, integer, float, complex or fixed-width text.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ParameterTypeError
        If ``path`` is not a ``str`` or ``os.PathLike``.
    ModelFileError
        For anything else: not a regular file, unreadable, not a zip archive, truncated,
        corrupted (bad CRC, bad compressed data), duplicate or foreign members, pickled
        objects, sizes that contradict the declared shapes.
    """
    _check_label(what, "what")
    text = _fspath(path, "path")
    handle, file_size = _open_regular_file(text, what)
    with handle:
        if handle.read(6) == b"\x93NUMPY":
            raise ModelFileError(f"path={text!r} is a single NumPy array, not a {what} (an .npz archive)")
        handle.seek(0)
        try:
            with zipfile.ZipFile(handle) as archive:
                members = _check_directory(archive, file_size)
                return {member.filename[: -len(".npy")]: _read_member(archive, member) for member in members}
        except MemoryError:
            # sizes were checked against the file, so only a file that is itself huge gets here
            raise ModelFileError(f"path={text!r} is not a readable {what}: it declares more data than fits in memory") from None
        except _DAMAGE as error:
            raise ModelFileError(f"path={text!r} is not a readable {what}: {error}") from error


def save(model, path) -> None:
    """Write ``model`` to ``path`` (a ``.npz`` file; the name is used as given).

    The file is written to a temporary name in the same folder and renamed into
    place, so an interrupted save never leaves a half-written model behind. A symlink
    is written through (its target is replaced, the link stays).

    Raises
    ------
    TypeError
        If ``model`` is not a pgm_energy model or ``path`` not a path.
    ValidationError
        If ``path`` exists and is not a regular file (a directory, a device, a FIFO, ...),
        or its folder does not exist or is not writable; checked before anything is written.
    """
    if not isinstance(model, tuple(_KINDS.values())):
        raise ParameterTypeError(f"model must be a pgm_energy model, got {type(model).__name__}")
    arrays = dict(model._to_arrays())
    arrays[_KIND_KEY] = np.array(type(model)._FILE_KIND)
    arrays[_VERSION_KEY] = np.array(FORMAT_VERSION)
    atomic_savez(path, arrays)


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
        corrupted, foreign, written by a newer format version, not a regular file).
    """
    arrays = read_npz(path, what="pgm_energy model file")
    path = os.fspath(path)
    if _KIND_KEY not in arrays or _VERSION_KEY not in arrays:
        raise ModelFileError(f"path={path!r} is not a pgm_energy model file (no kind/format markers)")
    kind_marker, version_marker = arrays.pop(_KIND_KEY), arrays.pop(_VERSION_KEY)
    if version_marker.shape != () or not np.issubdtype(version_marker.dtype, np.integer):
        raise ModelFileError(f"path={path!r} has an unreadable format version {describe(version_marker)}")
    if kind_marker.shape != () or kind_marker.dtype.kind != "U":
        raise ModelFileError(f"path={path!r} has an unreadable model kind {describe(kind_marker)}")
    kind, version = str(kind_marker), int(version_marker)
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"path={path!r} has model format version {version}; this pgm_energy reads version {FORMAT_VERSION}"
        )
    if kind not in _KINDS:
        raise ModelFileError(f"path={path!r} holds an unknown model kind {kind!r}")
    try:
        return _KINDS[kind]._from_arrays(arrays)
    except (KeyError, TypeError, ValueError, PGMEnergyError) as error:
        raise ModelFileError(f"path={path!r} holds a damaged {kind}: {error}") from error
