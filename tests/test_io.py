"""Model files: round trips, pickle-free content, atomic writes and damaged files."""

from __future__ import annotations

import os
import zipfile
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
