"""Damaged-file corpus (issue 11): hundreds of deterministic mutations of every model kind's file
and of training checkpoints (contrastive divergence, deep Boltzmann PCD), each loaded in a worker
subprocess.

A load may give back a model (some damage is harmless, e.g. in the zip comment; the model
then passed every constructor check) or raise ``ModelFileError``; for checkpoints a
``ValidationError`` (a sound checkpoint that does not match the trainer or data) is also
fine. Anything else - another exception, a crash of the worker, a hang over 10 s - fails
with the list of files. The worker is restarted after a crash or hang, so one bad file
does not hide the others. Counts are printed (run with ``-s`` to see them).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import selectors
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path
from unittest import mock

import numpy as np
import scipy.sparse as sp

import pgm_energy.exceptions as exceptions
from pgm_energy import (
    BoltzmannMachine,
    DeepBeliefNetwork,
    DeepBoltzmannMachine,
    RestrictedBoltzmannMachine,
    SigmoidBeliefNetwork,
    save,
)
from pgm_energy.io import atomic_savez, read_npz

WORKER = Path(__file__).with_name("_damaged_files_worker.py")
PER_FILE_SECONDS = 10.0
STARTUP_SECONDS = 180.0  # importing, and for checkpoints compiling the CD kernels once
SEED = 20261206


# --------------------------------------------------------------------------- originals
def original_models():
    rng = np.random.default_rng(3)
    upper = np.triu(rng.normal(size=(4, 4)), 1)
    dense = BoltzmannMachine(upper + upper.T, rng.normal(size=4), visible=[True, True, False, True], offset=0.5)
    n = 6
    couplings = sp.coo_array((rng.normal(size=n - 1), (np.arange(n - 1), np.arange(1, n))), shape=(n, n))
    sparse = BoltzmannMachine(sp.csr_array(couplings + couplings.T), rng.normal(size=n), temperature=1.5)
    rbm = RestrictedBoltzmannMachine(rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=2), temperature=0.75)
    sbn = SigmoidBeliefNetwork.random([3, 2, 1], rng=4)
    dbn = DeepBeliefNetwork(
        [rng.normal(size=(3, 2)), rng.normal(size=(2, 2))],
        [rng.normal(size=3), rng.normal(size=2), rng.normal(size=2)],
        recognition_weights=[rng.normal(size=(3, 2))],
        recognition_biases=[rng.normal(size=2)],
    )
    from pgm_energy import CategoricalRBM, GaussianBernoulliRBM, PottsMachine

    potts = PottsMachine([3, 2, 4], [rng.normal(size=k) for k in (3, 2, 4)],
                         {(0, 1): rng.normal(size=(3, 2)), (1, 2): rng.normal(size=(2, 4))},
                         state_names={"v0": ["a", "b", "c"], "h0": [10, 20, 30, 40]}, visible=[True, True, False])
    categorical = CategoricalRBM.random([3, 2], 2, scale=0.5, rng=5, state_names={"v1": ["x", "y"]})
    gaussian = GaussianBernoulliRBM.random(3, 2, scale=0.5, sigma=[0.5, 1.0, 2.0], rng=6)
    dbm = DeepBoltzmannMachine([rng.normal(size=(3, 2)), rng.normal(size=(2, 2))],
                               [rng.normal(size=3), rng.normal(size=2), rng.normal(size=2)],
                               names=["a", "b", "c", "h1_0", "h1_1", "top0", "top1"], temperature=1.25)
    return {"bm-dense": dense, "bm-sparse": sparse, "rbm": rbm, "sbn": sbn, "dbn": dbn, "potts": potts,
            "categorical-rbm": categorical, "gaussian-rbm": gaussian, "dbm": dbm}


@contextlib.contextmanager
def fixed_zip_time():
    """Zip members carry the time they were written: fix it, so the same bytes are damaged every run."""
    with mock.patch.object(zipfile.time, "localtime", return_value=time.struct_time((2026, 1, 1, 0, 0, 0, 3, 1, 0))):
        yield


# --------------------------------------------------------------------------- building blocks
def read_members(raw: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def zip_members(members, compression=zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": duplicates are wanted here
        for name, data in members:
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data, compress_type=compression)
    return buffer.getvalue()


def npy(value) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, value, allow_pickle=True)
    return buffer.getvalue()


def parse_npy(data: bytes):
    stream = io.BytesIO(data)
    np.lib.format.read_magic(stream)
    shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    return shape, fortran, dtype, data[stream.tell():]


def relabel(data: bytes, *, shape=None, fortran=None, descr=None) -> bytes:
    """The same payload under a header that says something else."""
    old_shape, old_fortran, old_dtype, payload = parse_npy(data)
    header = {
        "descr": np.lib.format.dtype_to_descr(old_dtype) if descr is None else descr,
        "fortran_order": old_fortran if fortran is None else fortran,
        "shape": old_shape if shape is None else shape,
    }
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + payload


def replaced(members, index, data=None, name=None):
    out = list(members)
    old_name, old_data = out[index]
    out[index] = (old_name if name is None else name, old_data if data is None else data)
    return out


SHAPE_LIES = [(10**13,), (2**62, 2**62), "reversed", "extra", "scalar", "longer"]
DTYPE_LIES = ["<f4", "<i8", "|b1", "<c16", "|O", "<U2", ">f8", "|V8", "<M8[s]", "|S3"]
MARKER_EDITS = [
    ("__pgm_energy_kind__", np.array("RestrictedBoltzmannMachine")),
    ("__pgm_energy_kind__", np.array("BoltzmannMachine")),
    ("__pgm_energy_kind__", np.array("SigmoidBeliefNetwork")),
    ("__pgm_energy_kind__", np.array("DeepBeliefNetwork")),
    ("__pgm_energy_kind__", np.array("DeepBoltzmannMachine")),
    ("__pgm_energy_kind__", np.array("")),
    ("__pgm_energy_kind__", np.array(b"BoltzmannMachine")),
    ("__pgm_energy_kind__", np.array(["BoltzmannMachine"])),
    ("__pgm_energy_format__", np.array(0)),
    ("__pgm_energy_format__", np.array(2)),
    ("__pgm_energy_format__", np.array(-1)),
    ("__pgm_energy_format__", np.array("1")),
    ("__pgm_energy_format__", np.array(1.0)),
    ("__pgm_energy_format__", np.array([1])),
    ("__pgm_energy_checkpoint__", np.array(2)),
]


def lied_shape(shape, lie):
    if lie == "reversed":
        return tuple(reversed(shape)) if len(shape) > 1 else shape + (1,)
    if lie == "extra":
        return (1,) + tuple(shape)
    if lie == "scalar":
        return ()
    if lie == "longer":
        return tuple(shape[:-1]) + (shape[-1] + 1,) if shape else (2,)
    return lie


def mutations(raw: bytes, rng: np.random.Generator):
    """``(label, bytes)`` for every kind of damage to the archive ``raw``."""
    size = len(raw)
    members = read_members(raw)
    for cut in sorted({0, 1, 4, 10, 29, 30, 64, size - 1, size - 10, size - 22, size - 23,
                       *np.linspace(0, size - 1, 16).astype(int).tolist()}):
        yield f"truncate@{cut}", raw[:cut]
    for position in rng.choice(size, size=min(size, 40), replace=False):
        damaged = bytearray(raw)
        damaged[position] ^= 1 << int(rng.integers(8))
        yield f"bitflip@{position}", bytes(damaged)
    directory = raw.rfind(b"PK\x01\x02")
    headers = [i for i in range(size) if raw.startswith(b"{'descr'", i)]
    for position in list(rng.choice(np.arange(directory, size), 10, replace=False)) + headers[:10]:
        damaged = bytearray(raw)
        damaged[position] ^= 0xFF
        yield f"invert@{position}", bytes(damaged)
    for position in rng.choice(size - 8, 6, replace=False):
        damaged = bytearray(raw)
        damaged[position : position + 8] = b"\xff" * 8 if position % 2 else b"\x00" * 8
        yield f"overwrite8@{position}", bytes(damaged)
    compressed = zip_members(members, zipfile.ZIP_DEFLATED)
    yield "deflated-intact", compressed
    for position in rng.choice(len(compressed), 15, replace=False):
        damaged = bytearray(compressed)
        damaged[position] ^= 1 << int(rng.integers(8))
        yield f"deflated-bitflip@{position}", bytes(damaged)
    for cut in np.linspace(1, len(compressed) - 1, 5).astype(int):
        yield f"deflated-truncate@{cut}", compressed[:cut]
    for i, (name, data) in enumerate(members):
        shape, fortran, dtype, _ = parse_npy(data)
        for lie in SHAPE_LIES:
            yield f"{name}:shape={lie}", zip_members(replaced(members, i, relabel(data, shape=lied_shape(shape, lie))))
        for j, descr in enumerate(DTYPE_LIES):
            if (i + j) % 3 == 0:  # a third of the dtype lies per member, each lie on every third member
                yield f"{name}:dtype={descr}", zip_members(replaced(members, i, relabel(data, descr=descr)))
        yield f"{name}:fortran={not fortran}", zip_members(replaced(members, i, relabel(data, fortran=not fortran)))
        value = np.load(io.BytesIO(data), allow_pickle=False)
        for label, other in [
            ("0-d", value.reshape(-1)[0] if value.size else np.float64(0.0)),
            ("2-d", value.reshape(1, -1)),
            ("3-d", value.reshape(1, 1, -1)),
            ("pickled", np.array([value, None], dtype=object)),
            ("empty", value.reshape(-1)[:0]),
            ("nan", np.full(value.shape, np.nan)),
            ("huge-value", np.full(value.shape, 1e308)),
        ]:
            yield f"{name}:{label}", zip_members(replaced(members, i, npy(other)))
        yield f"{name}:removed", zip_members(members[:i] + members[i + 1:])
        yield f"{name}:duplicated", zip_members(members + [(name, npy(np.zeros(3)))])
        yield f"{name}:renamed", zip_members(replaced(members, i, name=name[:-4]))
        if i + 1 < len(members):
            swapped = replaced(replaced(members, i, members[i + 1][1]), i + 1, data)
            yield f"{name}<->{members[i + 1][0]}", zip_members(swapped)
    names = [name for name, _ in members]
    for key, value in MARKER_EDITS:
        if f"{key}.npy" in names:
            yield f"marker {key}={value!r}", zip_members(replaced(members, names.index(f"{key}.npy"), npy(value)))
    yield "extra member", zip_members(members + [("extra.npy", npy(np.ones(2)))])
    yield "zip comment", raw[:-2] + (5).to_bytes(2, "little") + b"hello" if raw[-2:] == b"\x00\x00" else raw


def foreign_bytes(rng):
    yield "empty", b""
    yield "random-100", rng.bytes(100)
    yield "random-5000", rng.bytes(5000)
    yield "text", b"weights: [[0, 1], [1, 0]]\n"
    yield "plain npy", npy(np.zeros((3, 3)))
    yield "zip of nothing", zip_members([])
    yield "zip of a text file", zip_members([("readme.txt", b"hello")])
    yield "PK header only", b"PK\x03\x04" + b"\x00" * 26


# --------------------------------------------------------------------------- the runner
def run_in_workers(mode: str, cases, folder: Path, per_file_seconds: float = PER_FILE_SECONDS) -> dict[int, tuple[str, str]]:
    """Outcome of every case, running one worker at a time and restarting it after a crash or hang."""
    listing = folder / f"{mode}-cases.tsv"
    listing.write_text("".join(f"{i}\t{path}\t{original}\n" for i, (path, original) in enumerate(cases)), encoding="utf-8")
    results: dict[int, tuple[str, str]] = {}
    start = 0
    while start < len(cases):
        process = subprocess.Popen(
            [sys.executable, str(WORKER), mode, str(listing), str(start)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONFAULTHANDLER": ""},
        )
        start = _follow(process, start, len(cases), results, per_file_seconds)
    return results


def _follow(process, start: int, n_cases: int, results: dict, per_file_seconds: float) -> int:
    """Record the worker's outcomes until it finishes, dies or hangs; return where to go on from.

    The pipe is read raw (``os.read``), not through a buffered file object, so that ``select``
    sees every line as it comes and a time limit always applies to the file in progress.
    """
    descriptor = process.stdout.fileno()
    selector = selectors.DefaultSelector()
    selector.register(descriptor, selectors.EVENT_READ)
    pending, current, deadline = b"", None, time.monotonic() + STARTUP_SECONDS
    try:
        while True:
            if b"\n" not in pending:
                if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                    failed = current if current is not None else start
                    results[failed] = ("hang", f"no answer within {per_file_seconds} s")
                    return failed + 1
                chunk = os.read(descriptor, 65536)
                if not chunk:  # the worker died
                    failed = current if current is not None else start
                    results[failed] = ("crash", f"worker exited with {process.wait()}")
                    return failed + 1
                pending += chunk
                continue
            line, pending = pending.split(b"\n", 1)
            fields = line.decode("utf-8", "replace").split("\t")
            if fields[0] == "begin":
                current, deadline = int(fields[1]), time.monotonic() + per_file_seconds
            elif fields[0] == "end":
                results[int(fields[1])] = (fields[2], fields[3] if len(fields) > 3 else "")
                current = None
                if int(fields[1]) == n_cases - 1:
                    return n_cases
    finally:
        selector.close()
        process.kill()
        process.wait()
        process.stdout.close()


def write_cases(folder: Path, originals: dict[str, Path], rng, *, foreign=True, thin=None):
    """The damaged files of every original, and their labels.

    ``thin`` maps an original's name to ``k``: of its per-member damage (the labels naming a
    ``.npy`` member) only every k-th case is kept. Every mutation is still drawn, so the random
    stream, and with it every other original's corpus, is the same.
    """
    cases, labels = [], []
    for kind, original in originals.items():
        raw = original.read_bytes()
        step = (thin or {}).get(kind, 1)
        for n, (label, damaged) in enumerate(mutations(raw, rng)):
            if n % step and ".npy" in label:
                continue
            path = folder / f"{kind}-{len(cases):04d}.npz"
            path.write_bytes(damaged)
            cases.append((path, original))
            labels.append(f"{kind} {label}")
    if foreign:
        first = next(iter(originals.values()))
        for label, damaged in foreign_bytes(rng):
            path = folder / f"foreign-{len(cases):04d}.npz"
            path.write_bytes(damaged)
            cases.append((path, first))
            labels.append(f"foreign {label}")
    return cases, labels


def summary(what, results, accepted_errors, fine):
    outcomes = [outcome for outcome, _ in results.values()]
    loaded = sum(outcome in fine for outcome in outcomes)
    named = {name: outcomes.count(name) for name in sorted(accepted_errors) if name in outcomes}
    other = len(outcomes) - loaded - sum(named.values())
    line = f"{what}: tried {len(outcomes)}, loaded fine {loaded}, " + ", ".join(f"{k} {v}" for k, v in named.items())
    print(f"\n{line}, other {other}")
    return other


def failures(results, labels, accepted):
    return [
        f"{labels[i]}: {outcome} {detail}"
        for i, (outcome, detail) in sorted(results.items())
        if outcome not in accepted
    ]


# --------------------------------------------------------------------------- the tests
def test_the_runner_records_crashes_and_hangs_and_goes_on(tmp_path):
    """A crash or a hang is recorded for the file in progress and a new worker does the rest."""
    contents = [b"fine", b"crash", b"fine", b"hang", b"fine", b"crash"]
    cases = []
    for i, content in enumerate(contents):
        path = tmp_path / f"case-{i}"
        path.write_bytes(content)
        cases.append((path, path))
    results = run_in_workers("selftest", cases, tmp_path, per_file_seconds=1.0)
    assert [results[i][0] for i in range(len(contents))] == ["loaded-same", "crash", "loaded-same", "hang", "loaded-same", "crash"]


def test_damaged_model_files_load_or_raise_model_file_error(tmp_path):
    originals = {}
    with fixed_zip_time():
        for kind, model in original_models().items():
            originals[kind] = tmp_path / f"original-{kind}.npz"
            save(model, originals[kind])
    cases, labels = write_cases(tmp_path, originals, np.random.default_rng(SEED))
    assert len(cases) >= 500
    results = run_in_workers("model", cases, tmp_path)
    assert len(results) == len(cases)
    accepted = {"loaded-same", "loaded-different", "ModelFileError"}
    other = summary("damaged model files", results, {"ModelFileError"}, {"loaded-same", "loaded-different"})
    bad = failures(results, labels, accepted)
    assert not bad and other == 0, f"{len(bad)} damaged files gave something else:\n" + "\n".join(bad[:60])
    # the intact deflated copies load as the very same models
    assert all(results[i][0] == "loaded-same" for i, label in enumerate(labels) if label.endswith("deflated-intact"))


def _worker_module():
    """The worker's module (its training runs), loaded from its path as the tests run with --import-mode=importlib."""
    spec = importlib.util.spec_from_file_location("_damaged_files_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def checkpoint_of_first_epoch(folder: Path, name: str, run) -> Path:
    """Run the worker's 2-epoch training ``run`` and keep the checkpoint written after epoch 1.

    Saved as ``original-NAME.npz``: the worker resumes each damaged copy with the run of that name.
    """
    new_trainer, start, data = run
    path, kept = folder / f"{name}.ckpt.npz", folder / f"original-{name}.npz"

    def keep_first(epoch, model, history):
        if epoch == 1:
            kept.write_bytes(path.read_bytes())
        return False

    trainer = new_trainer(checkpoint_every=1, checkpoint_path=path)
    trainer.fit(start, data, progress=False, rng=0, callbacks=[keep_first])
    # the same checkpoint, written the same way, without what varies from run to run
    arrays = read_npz(kept, what="training checkpoint")
    assert arrays["history__seconds"].shape == (1,)
    arrays["history__seconds"] = np.array([0.5])
    with fixed_zip_time():
        atomic_savez(kept, arrays)
    return kept


#: per-member damage kept of each checkpoint (every k-th case): the deep machine's checkpoint holds
#: the same few arrays for each of its layers, checked alike, so a third of its 789 such cases is kept
#: (263, beside its 115 cases of damage to the archive's bytes, all kept; the CD checkpoint gives 733)
CHECKPOINT_THINNING = {"dbm-pcd": 3}


def test_damaged_checkpoints_resume_or_raise_a_named_error(tmp_path):
    runs = _worker_module().training_runs()
    originals = {name: checkpoint_of_first_epoch(tmp_path, name, run) for name, run in runs.items()}
    cases, labels = write_cases(tmp_path, originals, np.random.default_rng(SEED + 1), foreign=False,
                                thin=CHECKPOINT_THINNING)
    results = run_in_workers("checkpoint", cases, tmp_path)
    assert len(results) == len(cases)
    validation = {cls.__name__ for cls in vars(exceptions).values() if isinstance(cls, type) and issubclass(cls, exceptions.ValidationError)}
    accepted = {"resumed", "ModelFileError"} | validation
    other = summary("damaged checkpoints", results, accepted - {"resumed"}, {"resumed"})
    bad = failures(results, labels, accepted)
    assert not bad and other == 0, f"{len(bad)} damaged checkpoints gave something else:\n" + "\n".join(bad[:60])
    # every run's intact deflated copy resumes
    assert all(results[i][0] == "resumed" for i, label in enumerate(labels) if label.endswith("deflated-intact"))
