"""Model files: round trips, pickle-free content, atomic writes and damaged files."""

from __future__ import annotations

import io
import os
import signal
import socket
import stat
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from pgm_energy import (
    BoltzmannMachine,
    ModelFileError,
    PGMEnergyError,
    RestrictedBoltzmannMachine,
    ValidationError,
    load,
    save,
)

KIND_KEY = "__pgm_energy_kind__"
VERSION_KEY = "__pgm_energy_format__"


def dense_bm():
    rng = np.random.default_rng(1)
    upper = np.triu(rng.normal(size=(5, 5)), 1)
    upper[0, 3] = 0.0  # a missing edge must stay missing
    return BoltzmannMachine(
        upper + upper.T,
        rng.normal(size=5),
        visible=[True, False, True, True, False],
        names=["alpha", "β", "c", "d_3", "hidden unit"],
        temperature=1.75,
        offset=-3.25,
    )


def sparse_bm():
    n = 300
    rows = np.arange(n - 1)
    couplings = np.linspace(0.5, 2.0, n - 1) * np.where(rows % 2, -1.0, 1.0)  # none of them zero
    weights = sp.coo_array((couplings, (rows, rows + 1)), shape=(n, n))
    weights = sp.csr_array(weights + weights.T)
    visible = np.arange(n) % 3 != 0
    return BoltzmannMachine(weights, np.linspace(-1, 1, n), visible=visible, temperature=0.5, offset=12.0)


def rbm():
    rng = np.random.default_rng(2)
    return RestrictedBoltzmannMachine(
        rng.normal(size=(4, 3)),
        rng.normal(size=4),
        rng.normal(size=3),
        visible_names=["pixel0", "pixel1", "pixel2", "pixel3"],
        hidden_names=["cause_a", "cause_b", "cause_c"],
        temperature=2.5,
    )


def assert_same_bm(loaded, original):
    assert type(loaded) is BoltzmannMachine
    assert loaded.is_sparse == original.is_sparse
    np.testing.assert_array_equal(loaded.dense_weights(), original.dense_weights())
    np.testing.assert_array_equal(loaded.biases, original.biases)
    np.testing.assert_array_equal(loaded.visible, original.visible)
    assert loaded.visible.dtype == np.bool_
    assert loaded.names == original.names
    assert all(type(name) is str for name in loaded.names)
    assert loaded.temperature == original.temperature
    assert loaded.offset == original.offset
    assert loaded.n_edges == original.n_edges


def assert_same_rbm(loaded, original):
    assert type(loaded) is RestrictedBoltzmannMachine
    np.testing.assert_array_equal(loaded.weights, original.weights)
    np.testing.assert_array_equal(loaded.visible_bias, original.visible_bias)
    np.testing.assert_array_equal(loaded.hidden_bias, original.hidden_bias)
    assert loaded.visible_names == original.visible_names
    assert loaded.hidden_names == original.hidden_names
    assert loaded.temperature == original.temperature


# --------------------------------------------------------------------------- round trips
def test_dense_round_trip(tmp_path):
    model = dense_bm()
    save(model, tmp_path / "dense.npz")
    loaded = load(tmp_path / "dense.npz")
    assert_same_bm(loaded, model)
    states = np.array([[1, 0, 1, 1, 0], [0, 1, 1, 0, 1]])
    np.testing.assert_array_equal(loaded.energy(states), model.energy(states))


def test_sparse_round_trip_stays_sparse(tmp_path):
    model = sparse_bm()
    save(model, tmp_path / "sparse.npz")
    loaded = load(tmp_path / "sparse.npz")
    assert_same_bm(loaded, model)
    assert sp.issparse(loaded.weights)
    assert loaded.n_edges == 299


def test_rbm_round_trip(tmp_path):
    model = rbm()
    save(model, tmp_path / "rbm.npz")
    assert_same_rbm(load(tmp_path / "rbm.npz"), model)


def test_method_save_and_string_paths(tmp_path):
    model = rbm()
    path = str(tmp_path / "via_method.npz")
    model.save(path)
    assert_same_rbm(load(path), model)


def test_loaded_model_is_immutable(tmp_path):
    save(dense_bm(), tmp_path / "m.npz")
    loaded = load(tmp_path / "m.npz")
    with pytest.raises(ValueError):
        loaded.biases[0] = 1.0
    with pytest.raises(ValueError):
        loaded.weights[0, 1] = 1.0
    with pytest.raises(AttributeError):
        loaded.temperature = 3.0


def test_path_is_used_exactly_as_given(tmp_path):
    """No '.npz' is appended behind the user's back."""
    save(dense_bm(), tmp_path / "model.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bin"]
    assert_same_bm(load(tmp_path / "model.bin"), dense_bm())


@pytest.mark.parametrize("make", [dense_bm, sparse_bm, rbm], ids=["dense", "sparse", "rbm"])
def test_files_load_with_allow_pickle_false_and_hold_markers(tmp_path, make):
    save(make(), tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as content:
        arrays = {key: content[key] for key in content.files}  # would raise on any object array
    assert str(arrays[KIND_KEY]) == type(make()).__name__
    assert int(arrays[VERSION_KEY]) == 1
    assert all(array.dtype != object for array in arrays.values())


def test_save_rejects_a_non_model(tmp_path):
    with pytest.raises(TypeError, match=r"model.*dict"):
        save({"weights": np.zeros((2, 2))}, tmp_path / "x.npz")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- atomic writes
def test_save_leaves_no_temporary_file(tmp_path):
    save(dense_bm(), tmp_path / "a.npz")
    save(rbm(), tmp_path / "b.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npz", "b.npz"]


def test_save_overwrites_an_existing_file(tmp_path):
    path = tmp_path / "m.npz"
    save(dense_bm(), path)
    save(rbm(), path)
    assert_same_rbm(load(path), rbm())
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


@pytest.mark.parametrize("failure", [OSError("disk full"), KeyboardInterrupt()], ids=["OSError", "KeyboardInterrupt"])
def test_failing_save_keeps_the_old_file_and_cleans_up(tmp_path, monkeypatch, failure):
    path = tmp_path / "m.npz"
    save(dense_bm(), path)
    before = path.read_bytes()

    def broken_savez(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a zip archive")  # something reaches the disk first
        raise failure

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(type(failure)):
        save(rbm(), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
    assert_same_bm(load(path), dense_bm())


def test_failing_first_save_creates_nothing(tmp_path, monkeypatch):
    def broken_savez(file, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save(dense_bm(), tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_into_a_missing_folder(tmp_path):
    with pytest.raises(ValidationError, match=r"path .*m\.npz.*folder.*does not exist"):
        save(dense_bm(), tmp_path / "no" / "such" / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_saved_file_has_ordinary_permissions(tmp_path):
    """The temporary file behind the atomic write must not leave the model readable by its owner only."""
    save(dense_bm(), tmp_path / "m.npz")
    reference = tmp_path / "reference"
    reference.write_bytes(b"")  # what open() gives under the current umask
    assert (tmp_path / "m.npz").stat().st_mode & 0o777 == reference.stat().st_mode & 0o777


# --------------------------------------------------------------------------- damaged or foreign files
def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.npz")


def assert_model_file_error(path, pattern=None):
    with pytest.raises(ModelFileError, match=pattern) as info:
        load(path)
    assert isinstance(info.value, PGMEnergyError) and isinstance(info.value, ValueError)
    assert str(path) in str(info.value)  # the message names the file
    return info.value


@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.5, 0.9, 0.999])
def test_truncated_file(tmp_path, fraction):
    path = tmp_path / "m.npz"
    save(rbm(), path)
    raw = path.read_bytes()
    path.write_bytes(raw[: int(len(raw) * fraction)])
    assert_model_file_error(path)


def written_models(tmp_path):
    path = tmp_path / "m.npz"
    save(rbm(), path)
    return path, path.read_bytes()


def load_or_model_file_error(path, original):
    """Loading damaged bytes either fails with ModelFileError or gives back the very same model."""
    try:
        loaded = load(path)
    except ModelFileError:
        return "error"
    assert_same_rbm(loaded, original)
    return "same"


@pytest.mark.parametrize("mask", [0xFF, 0x01], ids=["invert", "low_bit"])
def test_corrupted_bytes_never_give_another_exception_or_a_different_model(tmp_path, mask):
    path, raw = written_models(tmp_path)
    outcomes = {"error": 0, "same": 0}
    for position in range(0, len(raw), 3):
        damaged = bytearray(raw)
        damaged[position] ^= mask
        path.write_bytes(bytes(damaged))
        outcomes[load_or_model_file_error(path, rbm())] += 1
    assert outcomes["error"] > 0.5 * len(range(0, len(raw), 3))  # CRC checks catch damaged data


def central_directory(raw):
    position = raw.index(b"PK\x01\x02")
    return position


@pytest.mark.parametrize(
    "offset, value",
    [(10, b"\x63\x00"), (8, b"\x01\x00"), (6, b"\x64\x00")],
    ids=["compression_method", "encrypted_flag", "version_needed"],
)
def test_damaged_zip_directory_entry(tmp_path, offset, value):
    """Damage in the zip directory (not the data) must also be reported as ModelFileError."""
    path, raw = written_models(tmp_path)
    start = central_directory(raw) + offset
    damaged = raw[:start] + value + raw[start + len(value):]
    path.write_bytes(damaged)
    assert_model_file_error(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.npz"
    path.write_bytes(b"")
    assert_model_file_error(path)


def test_text_file(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("weights: [[0, 1], [1, 0]]\n")
    assert_model_file_error(path)


def test_foreign_npz_without_markers(tmp_path):
    path = tmp_path / "foreign.npz"
    np.savez(path, weights=np.zeros((2, 2)), biases=np.zeros(2))
    assert_model_file_error(path, r"not a pgm_energy model file.*marker")


def test_plain_npy(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.zeros((3, 3)))
    assert_model_file_error(path, r"single NumPy array")


def test_pickled_object_array(tmp_path):
    path = tmp_path / "pickled.npz"
    arrays = dict(dense_bm()._to_arrays())
    arrays[KIND_KEY] = np.array("BoltzmannMachine")
    arrays[VERSION_KEY] = np.array(1)
    arrays["names"] = np.array(list(dense_bm().names), dtype=object)
    np.savez(path, **arrays)
    assert_model_file_error(path, r"pickle")


def marked_file(path, arrays, *, kind="BoltzmannMachine", version=1):
    content = dict(arrays)
    content[KIND_KEY] = np.array(kind)
    content[VERSION_KEY] = np.array(version)
    np.savez(path, **content)
    return path


def bm_arrays():
    return {
        "weights": np.array([[0.0, 1.0], [1.0, 0.0]]),
        "biases": np.array([0.5, -0.5]),
        "visible": np.array([True, True]),
        "names": np.array(["a", "b"]),
        "temperature": np.float64(1.0),
        "offset": np.float64(0.0),
    }


def test_hand_written_file_loads(tmp_path):
    """The file layout the format promises, written without the package: it must load."""
    loaded = load(marked_file(tmp_path / "m.npz", bm_arrays()))
    assert loaded.names == ("a", "b")
    assert loaded.energy([1, 1]) == pytest.approx(-1.0)


def test_unknown_kind(tmp_path):
    path = marked_file(tmp_path / "m.npz", bm_arrays(), kind="DeepThoughtMachine")
    assert_model_file_error(path, r"unknown model kind 'DeepThoughtMachine'")


def test_future_format_version(tmp_path):
    path = marked_file(tmp_path / "m.npz", bm_arrays(), version=2)
    assert_model_file_error(path, r"format version 2.*reads version 1")


@pytest.mark.parametrize("version", ["one", [1, 1]], ids=["string", "vector"])
def test_unreadable_format_version(tmp_path, version):
    path = marked_file(tmp_path / "m.npz", bm_arrays(), version=version)
    assert_model_file_error(path)


@pytest.mark.parametrize(
    "change",
    [
        lambda a: a.pop("biases"),
        lambda a: a.update(weights=np.array([[0.0, 1.0], [2.0, 0.0]])),
        lambda a: a.update(temperature=np.float64(-1.0)),
        lambda a: a.update(names=np.array(["a", "a"])),
        lambda a: a.update(visible=np.array([1, 0])),
    ],
    ids=["missing_member", "asymmetric_weights", "negative_temperature", "duplicate_names", "int_visible_mask"],
)
def test_damaged_content_of_a_well_marked_file(tmp_path, change):
    arrays = bm_arrays()
    change(arrays)
    path = marked_file(tmp_path / "m.npz", arrays)
    assert_model_file_error(path, r"damaged BoltzmannMachine")


def test_rbm_kind_with_bm_content(tmp_path):
    path = marked_file(tmp_path / "m.npz", bm_arrays(), kind="RestrictedBoltzmannMachine")
    assert_model_file_error(path, r"damaged RestrictedBoltzmannMachine")


def test_file_written_by_save_is_a_plain_zip_of_npy_members(tmp_path):
    save(rbm(), tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "m.npz") as archive:
        members = sorted(archive.namelist())
    assert all(name.endswith(".npy") for name in members)
    assert f"{KIND_KEY}.npy" in members and f"{VERSION_KEY}.npy" in members
    assert Path(tmp_path / "m.npz").stat().st_size > 0
    assert os.listdir(tmp_path) == ["m.npz"]


# --------------------------------------------------------------------------- output paths (issue 11, item 2/3)
from pgm_energy.exceptions import ParameterTypeError  # noqa: E402
from pgm_energy.io import TEMPORARY_SUFFIX, atomic_savez, read_npz, resolve_output_path  # noqa: E402


def character_device(tmp_path):
    """A character device to write at: our own node when root may make one, else /dev/null (not writable then)."""
    if os.geteuid() == 0:
        node = tmp_path / "null-device"
        os.mknod(node, 0o666 | stat.S_IFCHR, os.stat("/dev/null").st_rdev)
        return node
    return Path("/dev/null")


def special_files(tmp_path):
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "socket.npz"))
    return {"directory": folder, "FIFO": fifo, "socket": tmp_path / "socket.npz", "character device": character_device(tmp_path)}, server


def test_save_refuses_special_files_and_leaves_them_alone(tmp_path):
    files, server = special_files(tmp_path)
    with server:
        for label, path in files.items():
            mode = os.stat(path).st_mode
            with pytest.raises(ValidationError, match=rf"path '{path}' is a.*{label.split()[-1]}") as info:
                save(dense_bm(), path)
            assert isinstance(info.value, ValueError)
            assert os.stat(path).st_mode == mode, label  # still the same kind of file
            with pytest.raises(ValidationError):
                resolve_output_path(path)
            # a symlink to a special file is no way around it
            link = tmp_path / f"link-to-{path.name}"
            link.symlink_to(path)
            with pytest.raises(ValidationError):
                save(dense_bm(), link)
            assert link.is_symlink() and os.stat(path).st_mode == mode
    assert not [name for name in os.listdir(tmp_path) if name.endswith(TEMPORARY_SUFFIX)]


def test_save_writes_through_a_symlink(tmp_path):
    (tmp_path / "models").mkdir()
    target = tmp_path / "models" / "real.npz"
    save(dense_bm(), target)
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    save(rbm(), link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert_same_rbm(load(target), rbm())
    assert os.listdir(tmp_path / "models") == ["real.npz"] and sorted(os.listdir(tmp_path)) == ["latest.npz", "models"]


def test_save_through_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.npz"
    link.symlink_to(tmp_path / "new.npz")
    assert resolve_output_path(link) == tmp_path / "new.npz"
    assert not (tmp_path / "new.npz").exists()  # the check alone creates nothing
    save(rbm(), link)
    assert link.is_symlink()
    assert_same_rbm(load(tmp_path / "new.npz"), rbm())


@pytest.mark.parametrize("bad, error", [(3, ParameterTypeError), (b"m.npz", ParameterTypeError), (None, ParameterTypeError), ("", ValidationError)])
def test_resolve_output_path_types(bad, error):
    with pytest.raises(error, match="checkpoint_path"):
        resolve_output_path(bad, "checkpoint_path")


def test_resolve_output_path_folder_problems(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(ValidationError, match=r"out .*file/m\.npz.*cannot be written"):
        resolve_output_path(tmp_path / "file" / "m.npz", "out")
    loop = tmp_path / "loop.npz"
    loop.symlink_to(loop)
    with pytest.raises(ValidationError, match="out"):
        resolve_output_path(loop, "out")
    assert resolve_output_path(str(tmp_path / "m.npz")) == tmp_path / "m.npz"
    assert sorted(os.listdir(tmp_path)) == ["file", "loop.npz"]  # no probe left behind


def test_resolve_output_path_tries_the_folder_for_real(tmp_path, monkeypatch):
    """os.access says yes to root everywhere; a read-only file system says no only when written to."""
    real_open = os.open

    def read_only_file_system(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            raise OSError(30, "Read-only file system")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only_file_system)
    with pytest.raises(ValidationError, match=r"path .*m\.npz.*not writable.*Read-only file system"):
        save(dense_bm(), tmp_path / "m.npz")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


def test_overwriting_keeps_the_file_mode(tmp_path):
    path = tmp_path / "m.npz"
    save(dense_bm(), path)
    os.chmod(path, 0o640)
    save(rbm(), path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert_same_rbm(load(path), rbm())


def test_stale_temporary_files_of_dead_writers_are_removed(tmp_path):
    path = tmp_path / "m.npz"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)  # that process has exited (a PID is not reused this fast)
    stale = tmp_path / f".m.npz.{dead_pid}.0a1b2c{TEMPORARY_SUFFIX}"
    live = tmp_path / f".m.npz.{os.getppid()}.0a1b2c{TEMPORARY_SUFFIX}"  # a live process's write in progress
    other = tmp_path / f".other.npz.{dead_pid}.0a1b2c{TEMPORARY_SUFFIX}"  # another target's
    for leftover in (stale, live, other):
        leftover.write_bytes(b"PK\x03\x04 half")
    save(dense_bm(), path)
    assert sorted(os.listdir(tmp_path)) == sorted(["m.npz", live.name, other.name])


def test_temporary_file_name_says_who_writes_it(tmp_path, monkeypatch):
    seen = []

    def spy(file, **arrays):
        seen.extend(os.listdir(tmp_path))  # the temporary file exists while it is written
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", spy)
    with pytest.raises(OSError):
        save(dense_bm(), tmp_path / "m.npz")
    assert len(seen) == 1 and seen[0].startswith(f".m.npz.{os.getpid()}.") and seen[0].endswith(TEMPORARY_SUFFIX)


@pytest.mark.parametrize("arrays", [[np.zeros(2)], {1: np.zeros(2)}, None], ids=["list", "int key", "None"])
def test_atomic_savez_needs_a_dict_of_named_arrays(tmp_path, arrays):
    with pytest.raises(ParameterTypeError, match="arrays must be a dict"):
        atomic_savez(tmp_path / "x.npz", arrays)
    assert os.listdir(tmp_path) == []


def test_atomic_savez_refuses_object_arrays(tmp_path):
    with pytest.raises(ValidationError, match="'names'.*objects"):
        atomic_savez(tmp_path / "x.npz", {"names": np.array(["a", None], dtype=object)})
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------- read_npz (issue 11, item 7)
def npy_bytes(header_shape, dtype, payload: bytes) -> bytes:
    """A .npy member whose header may lie about the shape of ``payload``."""
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        stream, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": header_shape}
    )
    return stream.getvalue() + payload


def zip_of(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path


def marked_members(arrays, kind="BoltzmannMachine"):
    content = {**arrays, KIND_KEY: np.array(kind), VERSION_KEY: np.array(1)}
    members = []
    for key, value in content.items():
        stream = io.BytesIO()
        np.save(stream, value)
        members.append((f"{key}.npy", stream.getvalue()))
    return members


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflated"])
def test_huge_declared_shape_is_refused_before_allocating(tmp_path, compression):
    """A 2 KB file declaring 10**13 floats gave MemoryError."""
    members = [(name, data) for name, data in marked_members(bm_arrays()) if name != "biases.npy"]
    members.append(("biases.npy", npy_bytes((10**13,), np.float64, b"\x00" * 16)))
    path = zip_of(tmp_path / "m.npz", members, compression)
    assert path.stat().st_size < 4000
    assert_model_file_error(path, r"biases.*declares shape \(10000000000000,\)")


def test_member_that_declares_fewer_bytes_than_it_holds(tmp_path):
    members = [(name, data) for name, data in marked_members(bm_arrays()) if name != "biases.npy"]
    members.append(("biases.npy", npy_bytes((1,), np.float64, b"\x00" * 16)))
    assert_model_file_error(zip_of(tmp_path / "m.npz", members), r"biases.*declares shape")


def test_zip_member_declaring_an_impossible_uncompressed_size(tmp_path):
    """The zip directory itself lies (10**12 bytes from a few compressed bytes): refused before reading."""
    path = zip_of(tmp_path / "m.npz", marked_members(bm_arrays()), zipfile.ZIP_DEFLATED)
    raw = bytearray(path.read_bytes())
    start = raw.index(b"PK\x01\x02")  # first central directory entry: uncompressed size at +24
    raw[start + 24 : start + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    assert_model_file_error(path, r"declares 4294967280 bytes")


def test_corrupted_deflate_stream_gives_model_file_error_not_zlib_error(tmp_path):
    path = zip_of(tmp_path / "m.npz", marked_members(bm_arrays()), zipfile.ZIP_DEFLATED)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("weights.npy")
    data_start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[data_start] = 0xFF  # block type 3 is reserved: zlib.error "invalid block type"
    path.write_bytes(bytes(raw))
    error = assert_model_file_error(path)
    assert isinstance(error.__cause__, zlib.error)


def test_duplicate_members(tmp_path):
    members = marked_members(bm_arrays())
    stream = io.BytesIO()
    np.save(stream, np.array([5.0, 5.0]))
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = zip_of(tmp_path / "m.npz", members + [("biases.npy", stream.getvalue())])
    assert_model_file_error(path, r"duplicate members \['biases.npy'\]")


@pytest.mark.parametrize(
    "member, value, pattern",
    [
        ("biases", np.float64(0.5), r"'biases' must be 1-dimensional"),
        ("names", np.array([[b"a", b"b"]]), r"'names' must be 1-dimensional"),
        ("names", np.array([1, 2]), r"'names' has dtype int64, expected text"),
        ("weights", np.array([[0, 1 + 1j], [1 - 1j, 0]]), r"'weights' has dtype complex128"),
        ("temperature", np.array([1.0]), r"'temperature' must be 0-dimensional"),
        ("visible", np.array([1, 1]), r"'visible' has dtype int64, expected booleans"),
        ("weights_data", np.array([1.0]), r"unexpected members \['weights_data'\]"),
    ],
)
def test_wrongly_shaped_or_typed_members(tmp_path, member, value, pattern):
    arrays = bm_arrays()
    arrays[member] = value
    assert_model_file_error(marked_file(tmp_path / "m.npz", arrays), r"damaged BoltzmannMachine.*" + pattern)


def test_zero_dimensional_layer_sizes(tmp_path):
    """models/_layered.py took len() of a 0-d layer_sizes: IndexError."""
    from pgm_energy import SigmoidBeliefNetwork

    path = tmp_path / "sbn.npz"
    save(SigmoidBeliefNetwork.random([2, 1], rng=0), path)
    content = read_npz(path)
    content["layer_sizes"] = np.int64(2)
    np.savez(path, **content)
    assert_model_file_error(path, r"damaged SigmoidBeliefNetwork.*'layer_sizes' must be 1-dimensional")


def test_non_native_byte_order_and_fortran_order_are_read_right(tmp_path):
    weights = np.asfortranarray(np.array([[0.0, 1.5, 0.0], [1.5, 0.0, -2.0], [0.0, -2.0, 0.0]]).astype(">f8"))
    arrays = {**bm_arrays(), "weights": weights, "biases": np.array([1.0, 2.0, 3.0], dtype=">f8"),
              "visible": np.array([True, True, True]), "names": np.array(["a", "b", "c"])}
    content = read_npz(marked_file(tmp_path / "m.npz", arrays))
    assert content["weights"].dtype == np.float64 and content["weights"].dtype.isnative
    np.testing.assert_array_equal(content["weights"], weights)
    assert load(tmp_path / "m.npz").energy([1, 1, 1]) == pytest.approx(-(1.5 - 2.0) - 6.0)


def test_read_npz_never_opens_a_fifo_or_a_device(tmp_path):
    """A FIFO would block open() forever and /dev/zero would be read forever."""
    files, server = special_files(tmp_path)
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("read_npz blocked"))
    signal.alarm(10)
    try:
        with server:
            for label, path in [*files.items(), ("zero", Path("/dev/zero"))]:
                with pytest.raises(ModelFileError, match=rf"'{path}' is not a readable training checkpoint: it is"):
                    read_npz(path, what="training checkpoint")
                with pytest.raises(ModelFileError):
                    load(path)
    finally:
        signal.alarm(0)


def test_read_npz_missing_file_and_bad_path_types(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_npz(tmp_path / "absent.npz")
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to(tmp_path / "absent.npz")
    with pytest.raises(FileNotFoundError):
        read_npz(dangling)
    with pytest.raises(ParameterTypeError, match="path"):
        read_npz(17)


def test_random_bytes_get_no_pickle_advice(tmp_path):
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(0).bytes(3000))
    error = assert_model_file_error(path)
    assert "allow_pickle" not in str(error)


def test_message_labels_must_be_strings_before_they_are_formatted(tmp_path):
    import scipy.sparse as sp

    from pgm_energy.exceptions import ParameterTypeError
    from pgm_energy.io import read_npz, resolve_output_path

    # formatting a malformed sparse matrix into a message runs scipy on its unchecked indices
    malformed = sp.csr_array((np.array([1.0, 1.0]), np.array([1, -5]), np.array([0, 1, 2])), shape=(2, 2))
    with pytest.raises(ParameterTypeError, match="name must be a str"):
        resolve_output_path(tmp_path / "x.npz", malformed)
    with pytest.raises(ParameterTypeError, match="what must be a str"):
        read_npz(tmp_path / "x.npz", what=malformed)
