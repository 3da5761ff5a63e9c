"""The pgm-energy command line on bad input, unwritable outputs, Ctrl-C and closed pipes.

Every user error is one line ``pgm-energy: error: ...`` on stderr with exit status 2 (usage,
found before any work) or 1 (while working); never a traceback.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pgm_energy import RestrictedBoltzmannMachine, load
from pgm_energy.cli import main


def run(arguments, capsys):
    """(exit status, stdout, stderr) of main(arguments)."""
    status = main([str(argument) for argument in arguments])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_line_error(err: str) -> str:
    assert err.startswith("pgm-energy: error: "), err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture
def files(tmp_path):
    """A small binary data set (.npy and .csv) and a saved model in tmp_path."""
    rng = np.random.default_rng(0)
    data = rng.integers(0, 2, size=(40, 5)).astype(np.uint8)
    np.save(tmp_path / "data.npy", data)
    lines = ["a,b,c,d,e"] + [",".join(map(str, row)) for row in data]
    (tmp_path / "data.csv").write_text("\n".join(lines) + "\n")
    RestrictedBoltzmannMachine.random(4, 2, scale=1.0, rng=0).save(tmp_path / "model.npz")
    return tmp_path


def test_version(capsys):
    from importlib.metadata import version

    status, out, _ = run(["--version"], capsys)
    assert status == 0 and out.strip() == f"pgm-energy {version('pgm-energy')}"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["sample", "{model}", "-n", "2", "--chains", "0"], "argument --chains: must be an integer from 1"),
        (["sample", "{model}", "-n", "x"], "argument -n: must be an integer"),
        (["sample", "{model}", "-n", "2", "--burn-in", "-1"], "argument --burn-in"),
        (["sample", "{model}", "-n", "2", "--temperature", "nan"], "argument --temperature: must be a finite number > 0"),
        (["sample", "{model}", "-n", "2", "--temperature", "0"], "argument --temperature"),
        (["sample", "{model}", "-n", "2", "--seed", "-3"], "argument --seed: must be a non-negative integer"),
        (["train", "{data}", "--hidden", "2", "-o", "m.npz", "--learning-rate", "-1"], "argument --learning-rate"),
        (["train", "{data}", "--hidden", "2", "-o", "m.npz", "--binarize", "inf"], "argument --binarize"),
        (["logz", "{model}", "--runs", "1"], "argument --runs"),
        (["train", "{data}", "-o", "m.npz"], "required: --hidden"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_option_values_are_one_line_usage_errors(files, capsys, arguments, message):
    arguments = [a.format(model=files / "model.npz", data=files / "data.npy") for a in arguments]
    status, _, err = run(arguments, capsys)
    assert status == 2
    assert message in assert_one_line_error(err)


def test_a_huge_request_is_refused_before_allocating(files, capsys):
    started = time.perf_counter()
    status, _, err = run(["sample", files / "model.npz", "-n", "10", "--chains", 10**12], capsys)
    assert status == 2 and "--chains 1000000000000" in assert_one_line_error(err) and "memory" in err
    status, _, err = run(["train", files / "data.npy", "--hidden", 10**12, "-o", files / "m.npz"], capsys)
    assert status == 2 and "--hidden 1000000000000" in assert_one_line_error(err)
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize(
    "output, message",
    [
        ("{tmp}", "is a directory"),
        ("{tmp}/missing/x.npz", "does not exist"),
        ("{device}", "is a character device"),
        ("/proc/pgm-energy-test.npz", "cannot be written"),  # not writable, even for root
    ],
    ids=["directory", "missing_folder", "device", "unwritable"],
)
def test_outputs_are_checked_before_any_work(files, capsys, output, message):
    device = files / "null-device"
    try:  # our own character device when root may make one: a wrong write never touches the machine's /dev/null
        os.mknod(device, 0o666 | stat.S_IFCHR, os.stat("/dev/null").st_rdev)
    except (PermissionError, AttributeError):
        device = Path("/dev/null")  # not writable by a normal user anyway
    output = output.format(tmp=files, device=device)
    # the input files do not exist: the output is checked first, before any work
    status, _, err = run(["train", files / "absent.npy", "--hidden", "2", "-o", output], capsys)
    assert status == 2 and "--output" in assert_one_line_error(err) and message in err
    status, _, err = run(["sample", files / "absent.npz", "-n", "2", "-o", output], capsys)
    assert status == 2 and "--output" in assert_one_line_error(err)
    assert stat.S_ISCHR(os.stat(device).st_mode)  # the device is still a device


def test_sample_to_a_missing_folder_and_an_existing_directory(files, capsys):
    status, _, err = run(["sample", files / "model.npz", "-n", "2", "-o", files / "missing" / "x.csv"], capsys)
    assert status == 2 and "does not exist" in assert_one_line_error(err)
    (files / "d.csv").mkdir()
    status, _, err = run(["sample", files / "model.npz", "-n", "2", "-o", files / "d.csv"], capsys)
    assert status == 2 and "is a directory" in assert_one_line_error(err)


@pytest.mark.parametrize(
    "content, message",
    [
        ("a,b,a\n0,1,0\n", "repeats the column names ['a']"),
        ("0,1,0\n1,1,0\n", "has no header line"),
        (",a,b\n0,1,0\n", "empty column name"),
        ("a,b\nx,1\n", "column 'a' holds values that are not numbers"),
        ("a,b\n1,\n", "missing or non-finite value at row 0, column 'b'"),
        ("", "is empty"),
        ("a,b\n0,0.5\n", "got 0.5 at row 0, column 'b'; pass --binarize THRESHOLD"),
    ],
    ids=["duplicate_header", "no_header", "index_column", "text", "missing_value", "empty", "grey"],
)
def test_csv_data_that_cannot_be_trained_on_is_refused_clearly(files, capsys, content, message):
    (files / "bad.csv").write_text(content)
    status, _, err = run(["train", files / "bad.csv", "--hidden", "2", "-o", files / "m.npz"], capsys)
    assert status == 1 and message in assert_one_line_error(err)
    assert "binarize=" not in err  # no advice about an option the CLI lacks
    assert not (files / "m.npz").exists()


def test_binarize_option_trains_on_grey_data(files, capsys):
    (files / "grey.csv").write_text("a,b\n0.2,0.9\n0.7,0.1\n0.6,0.8\n")
    arguments = ["--hidden", "2", "--batch-size", "1", "--epochs", "2", "--seed", "0", "--no-progress"]
    status, out, err = run(["train", files / "grey.csv", *arguments, "--binarize", "0.5", "-o", files / "g.npz"], capsys)
    assert status == 0, err
    (files / "binary.csv").write_text("a,b\n0,1\n1,0\n1,1\n")
    assert run(["train", files / "binary.csv", *arguments, "-o", files / "b.npz"], capsys)[0] == 0
    np.testing.assert_array_equal(load(files / "g.npz").weights, load(files / "b.npz").weights)


def test_unreadable_data_and_model_files(files, capsys):
    (files / "x.csv").mkdir()
    status, _, err = run(["train", files / "x.csv", "--hidden", "2", "-o", files / "m.npz"], capsys)
    assert status == 1 and "is a directory" in assert_one_line_error(err)
    (files / "noise.npy").write_bytes(bytes(range(256)) * 4)
    status, _, err = run(["train", files / "noise.npy", "--hidden", "2", "-o", files / "m.npz"], capsys)
    assert status == 1 and "is not a .npy file" in assert_one_line_error(err) and "pickle" not in err
    with open(files / "huge.npy", "wb") as handle:  # declares 10**13 rows in a tiny file
        np.lib.format.write_array_header_1_0(handle, {"descr": "<f8", "fortran_order": False, "shape": (10**13, 3)})
        handle.write(b"\0" * 64)
    status, _, err = run(["train", files / "huge.npy", "--hidden", "2", "-o", files / "m.npz"], capsys)
    assert status == 1 and "is not a readable .npy array" in assert_one_line_error(err)
    status, _, err = run(["logz", files / "absent.npz"], capsys)
    assert status == 1 and "does not exist" in assert_one_line_error(err)
    status, _, err = run(["logz", files / "noise.npy"], capsys)
    assert status == 1 and "not a readable pgm_energy model file" in assert_one_line_error(err)


def test_sample_writes_through_a_symlink_atomically_and_keeps_the_mode(files, capsys):
    target = files / "real.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    link = files / "link.csv"
    link.symlink_to(target)
    status, _, err = run(["sample", files / "model.npz", "-n", "3", "--burn-in", "1", "--seed", "1", "-o", link, "--no-progress"], capsys)
    assert status == 0, err
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().splitlines()[0] == "v0,v1,v2,v3,h0,h1" and len(target.read_text().splitlines()) == 4
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in files.iterdir() if p.name.startswith(".")) == []  # no temporary left


def test_a_model_that_cannot_be_saved_after_training_is_kept(files, capsys, monkeypatch):
    import tempfile

    destination = str(files / "m.npz")
    original = RestrictedBoltzmannMachine.save

    def full_disk(self, path):
        if str(path) == destination:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), destination)
        original(self, path)

    monkeypatch.setattr(RestrictedBoltzmannMachine, "save", full_disk)
    (files / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(files / "tmp"))
    status, _, err = run(["train", files / "data.npy", "--hidden", "2", "--epochs", "1", "-o", destination, "--no-progress"], capsys)
    assert status == 1
    assert "No space left on device" in assert_one_line_error(err) and "nothing was written there" in err
    [kept] = (files / "tmp").iterdir()
    assert str(kept) in err and load(kept).n_hidden == 2
    assert not os.path.exists(destination)


def test_keyboard_interrupt_anywhere_exits_130(files, capsys, monkeypatch):
    from pgm_energy.samplers import GibbsSampler

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(GibbsSampler, "sample", interrupted)
    status, _, err = run(["sample", files / "model.npz", "-n", "2", "-o", files / "s.npy"], capsys)
    assert status == 130 and err == "pgm-energy: interrupted\n"
    assert not (files / "s.npy").exists()


def _cli(*arguments, **options):
    return subprocess.Popen([sys.executable, "-m", "pgm_energy.cli", *map(str, arguments)], **options)


def test_sigint_during_training_exits_130_and_keeps_the_last_epoch(files):
    previous = RestrictedBoltzmannMachine.random(5, 7, rng=1)
    previous.save(files / "model5.npz")
    before = (files / "model5.npz").read_bytes()
    process = _cli(
        "train", files / "data.npy", "--hidden", "3", "--epochs", 10**7, "--seed", "0", "-o", files / "model5.npz",
        "--verbose", "--no-progress", stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        first = process.stderr.readline()
        assert first.startswith("epoch 1/"), first
        process.send_signal(signal.SIGINT)
        sent = time.perf_counter()
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert time.perf_counter() - sent < 5
    assert process.returncode == 130, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("pgm-energy: interrupted after epoch ") and "model5.interrupted.npz" in last, err
    assert "Traceback" not in err
    kept = load(files / "model5.interrupted.npz")
    assert kept.n_hidden == 3 and kept.visible_names == ("v0", "v1", "v2", "v3", "v4")
    assert (files / "model5.npz").read_bytes() == before  # OUTPUT untouched


def test_closed_stdout_pipe_exits_quietly(files):
    process = _cli("sample", files / "model.npz", "-n", 50_000, "--burn-in", "0", "--seed", "0", "--no-progress",
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout.readline() == b"v0,v1,v2,v3,h0,h1\n"
        process.stdout.close()  # as `| head -1` does
        err = process.stderr.read()
        process.wait(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 141 and err == b""
    # a short answer to a reader that has already gone (its last print flushed at exit)
    buffered = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}  # as for a user
    process = _cli("logz", files / "model.npz", stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=buffered)
    process.stdout.close()
    try:
        err = process.stderr.read()
        process.wait(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 141 and err == b""


def test_demo_checks_its_output_folder_before_training(files, capsys):
    from pgm_energy.demo import run_demo
    from pgm_energy.exceptions import ValidationError

    started = time.perf_counter()
    status, _, err = run(["demo", "--output-dir", files / "data.csv"], capsys)
    assert status == 2 and "--output-dir" in assert_one_line_error(err) and "not a folder" in err
    with pytest.raises(ValidationError, match="output_dir .* cannot be created"):
        run_demo(output_dir="/proc/pgm-energy-demo", out=None)
    assert time.perf_counter() - started < 5  # refused before any training


def test_data_columns_named_like_hidden_units_and_nul_in_paths(files, capsys):
    (files / "drawn.csv").write_text("v0,h0,h1\n0,1,0\n1,1,1\n")  # e.g. the output of `pgm-energy sample`
    status, _, err = run(["train", files / "drawn.csv", "--hidden", "2", "--batch-size", "1", "-o", files / "m.npz"], capsys)
    assert status == 1 and "DATA" in assert_one_line_error(err) and "['h0', 'h1']" in err
    status, _, err = run(["logz", "a\x00b.npz"], capsys)
    assert status == 2 and "MODEL must not contain the NUL character" in assert_one_line_error(err)
