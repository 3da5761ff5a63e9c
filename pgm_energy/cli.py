"""The ``pgm-energy`` command line.

Errors are one line, ``pgm-energy: error: ...`` on stderr, never a traceback. Exit status:

=====  =====================================================================================
0      success
1      an error while working: an input file missing, unreadable or damaged, data that is
       not 0/1, training that diverged, an output that could not be written
2      a usage error, found before any work: a bad option value, an output path that
       cannot be written (a directory, a device, a missing or read-only folder), a request
       too large for this machine's memory
130    interrupted by Ctrl-C (``train`` first writes the model of the last completed epoch
       to ``OUTPUT`` with ``.interrupted`` before its suffix; ``OUTPUT`` itself is untouched)
141    standard output was closed early (``pgm-energy sample ... | head``): quietly, as
       tools killed by SIGPIPE (128 + 13)
=====  =====================================================================================
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["main"]

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

# Counts beyond this are refused by argparse (Numba kernels count in int64).
_MAX_COUNT = 2**53
# Rows of samples formatted at once when writing CSV (about 1 MB of text per 64-unit block).
_CSV_BLOCK_ROWS = 1 << 14


class _Failure(Exception):
    """An error to print as one line, with its exit status."""

    def __init__(self, message: str, status: int = EXIT_FAILURE):
        super().__init__(message)
        self.status = status


def _usage(message: str) -> _Failure:
    return _Failure(message, EXIT_USAGE)


# ------------------------------------------------------------------ option types
def _count(minimum: int, maximum: int | None = None):
    """An argparse type: an integer in [minimum, maximum] (default maximum 2**53)."""
    bound = "2**53" if maximum is None else str(maximum)
    maximum = _MAX_COUNT if maximum is None else maximum

    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}") from None
        if not minimum <= value <= maximum:
            raise argparse.ArgumentTypeError(f"must be an integer from {minimum} to {bound}, got {text!r}")
        return value

    return parse


def _epochs():
    """The type of ``--epochs``: at most the trainers' MAX_EPOCHS (10**9)."""
    from .learning._trainer import MAX_EPOCHS

    return _count(1, MAX_EPOCHS)


def _gibbs_steps():
    """The type of ``-k``: at most the trainers' MAX_GIBBS_STEPS (2**20)."""
    from .learning._trainer import MAX_GIBBS_STEPS

    return _count(1, MAX_GIBBS_STEPS)


def _real(*, minimum: float | None = None, strict: bool = False):
    """An argparse type: a finite float, ``> minimum`` (strict) or ``>= minimum``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        bad = not math.isfinite(value) or (
            minimum is not None and (value <= minimum if strict else value < minimum)
        )
        if bad:
            bound = "" if minimum is None else f" {'>' if strict else '>='} {minimum:g}"
            raise argparse.ArgumentTypeError(f"must be a finite number{bound}, got {text!r}")
        return value

    return parse


def _scheduler(text: str) -> str:
    """``local``, ``local:N`` or a scheduler address (``tcp://host:port``): where AIS runs or chains go."""
    if text == "local" or (text.startswith("local:") and text[6:].isdigit() and 1 <= int(text[6:]) <= 1024) \
            or "://" in text:
        return text
    raise argparse.ArgumentTypeError(f"must be 'local', 'local:N' (N worker processes) or an address such as "
                                     f"'tcp://host:8786', got {text!r}")


def _seed(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


# ------------------------------------------------------------------ checks before work
def _physical_memory() -> int:
    """Bytes of RAM (16 GiB when the platform does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        return 16 << 30


def _check_memory(n_bytes: int, what: str) -> None:
    """Refuse, before allocating, a request larger than this machine's memory."""
    available = _physical_memory()
    if n_bytes > available:
        raise _usage(f"{what} needs about {n_bytes / 2**30:.3g} GiB of memory; this machine has {available / 2**30:.3g} GiB")


def _output_path(text: str, option: str = "--output") -> Path:
    """``text`` checked as a place for a new file (before any work); the real target."""
    from .exceptions import ValidationError
    from .io import resolve_output_path

    try:
        return resolve_output_path(text, option)
    except ValidationError as error:
        raise _usage(str(error)) from None


def _input_file(text: str, what: str) -> Path:
    """An input path that exists and is not a directory (FIFOs, as from ``<(...)``, are fine)."""
    if "\x00" in text:
        raise _usage(f"{what} must not contain the NUL character, got {text!r}")
    path = Path(text)
    try:
        if path.is_dir():
            raise _Failure(f"{what} {text!r} is a directory, not a file")
        path.stat()
    except FileNotFoundError:
        raise _Failure(f"{what} {text!r} does not exist") from None
    except OSError as error:
        raise _Failure(f"{what} {text!r} cannot be read: {error.strerror or error}") from None
    return path


def _parse_evidence(text: str | None) -> dict[str, object]:
    """'a=1,b=0' -> {'a': 1, 'b': 0}; a value that is not an integer is a real number ('v0=0.25', a
    Gaussian unit) or a state name ('colour=red', a Potts variable). The model's own check decides
    whether a value fits the unit (a binary unit takes 0/1 only)."""
    import math

    evidence: dict[str, object] = {}
    if not text:
        return evidence
    for item in text.split(","):
        name, separator, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not separator or not name or not value:
            raise _usage(f"--evidence items must look like name=value (e.g. v0=1), got {item!r}")
        try:
            evidence[name] = int(value)
        except ValueError:
            try:
                number = float(value)
            except ValueError:
                evidence[name] = value  # a state name
            else:
                if not math.isfinite(number):
                    raise _usage(f"--evidence values must be finite, got {item!r}") from None
                evidence[name] = number
    return evidence


# ------------------------------------------------------------------ reading data
def _read_data(path_text: str, option: str = "DATA"):
    """Data from a .npy array or a .csv file with one header line of distinct column names."""
    suffix = Path(path_text).suffix
    if suffix not in (".npy", ".csv"):
        raise _usage(f"{option} must end in .npy or .csv, got {path_text!r}")
    path = _input_file(path_text, option)
    if suffix == ".npy":
        return _read_npy(path, path_text, option)
    return _read_csv(path, path_text, option)


def _read_npy(path: Path, text: str, option: str) -> np.ndarray:
    if not path.is_file():  # a pipe can be neither memory-mapped nor read twice
        raise _Failure(f"{option} {text!r} is not a regular file; a .npy array is read from a file")
    try:
        with open(path, "rb") as handle:
            magic = handle.read(6)
        if magic != b"\x93NUMPY":
            # Without this, NumPy takes any other bytes for a pickle and advises allow_pickle.
            raise _Failure(f"{option} {text!r} is not a .npy file (it does not start with NumPy's header)")
        # A memory map checks the declared shape against the file size before anything is
        # allocated (a 100-byte file declaring 10**13 rows is refused, not a MemoryError).
        array = np.array(np.load(path, mmap_mode="r", allow_pickle=False))
    except (ValueError, OSError, EOFError, TypeError, OverflowError) as error:
        raise _Failure(f"{option} {text!r} is not a readable .npy array: {_reason(error)}") from None
    return array


def _read_csv(path: Path, text: str, option: str):
    import csv

    import pandas as pd

    try:
        with open(path, newline="", encoding="utf-8") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise _Failure(f"{option} {text!r} is not a readable CSV file: {error}") from None
    if not header:
        raise _Failure(f"{option} {text!r} is empty; it needs a header line of column names, then rows of 0/1")
    names = [name.strip() for name in header]
    if all(_is_number(name) for name in names):
        raise _Failure(
            f"{option} {text!r} has no header line (its first line {','.join(header)[:60]!r} is data); "
            "add a first line of column names, for example v0,v1,..."
        )
    if any(not name for name in names):
        position = names.index("")
        raise _Failure(
            f"{option} {text!r} has an empty column name (column {position}); every column needs a name "
            "(a file written by pandas with index=True has an unnamed index column: write it with index=False)"
        )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise _Failure(f"{option} {text!r} repeats the column names {duplicates[:5]}; every column needs its own name")
    try:
        frame = pd.read_csv(path, header=0, names=names, dtype=None)
    except (ValueError, OSError, UnicodeDecodeError) as error:  # pandas' ParserError is a ValueError
        raise _Failure(f"{option} {text!r} is not a readable CSV file: {error}") from None
    non_numeric = [column for column in frame.columns if not pd.api.types.is_numeric_dtype(frame[column])]
    if non_numeric:
        raise _Failure(f"{option} {text!r}: column {non_numeric[0]!r} holds values that are not numbers")
    return frame


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_binary(data, binarize: float | None, option: str, text: str) -> None:
    """Refuse data that is not 0/1 (unless ``--binarize``), naming the row and column."""
    values = data.to_numpy() if hasattr(data, "to_numpy") else data
    if not (np.issubdtype(values.dtype, np.number) or values.dtype == np.bool_) or np.iscomplexobj(values):
        raise _Failure(f"{option} {text!r} must hold numbers, got dtype {values.dtype}")
    if values.ndim != 2:
        raise _Failure(f"{option} {text!r} must be a 2-D table (rows x units), got shape {values.shape}")
    if np.issubdtype(values.dtype, np.floating):
        missing = ~np.isfinite(values)
        if missing.any():
            row, column = (int(i) for i in np.argwhere(missing)[0])
            raise _Failure(f"{option} {text!r} has a missing or non-finite value at row {row}, {_column(data, column)}")
    if binarize is not None:
        return
    binary = (values == 0) | (values == 1)
    if not binary.all():
        row, column = (int(i) for i in np.argwhere(~binary)[0])
        raise _Failure(
            f"{option} {text!r} must hold only 0 and 1, got {values[row, column].item()!r} at row {row}, "
            f"{_column(data, column)}; pass --binarize THRESHOLD to turn values above THRESHOLD into 1"
        )


def _column(data, index: int) -> str:
    return f"column {data.columns[index]!r}" if hasattr(data, "columns") else f"column {index}"


def _hidden_index(name) -> int | None:
    """``j`` for a default hidden-unit name ``"h{j}"``, else None."""
    text = str(name)
    if len(text) > 1 and text[0] == "h" and text[1:].isascii() and text[1:].isdigit() and str(int(text[1:])) == text[1:]:
        return int(text[1:])
    return None


def _load_model(text: str):
    from .io import load

    _input_file(text, "MODEL")
    return load(text)  # ModelFileError for anything but an intact model file


# ------------------------------------------------------------------ writing
def _write_atomically(destination: str, write) -> Path:
    """Write a file with ``write(binary_handle)`` as models are written (:func:`pgm_energy.io.atomic_write`)."""
    from .io import atomic_write

    _output_path(destination)  # the CLI's own message for a bad --output
    return atomic_write(destination, write, name="--output")


def _write_csv(samples, handle) -> None:
    """The draws as CSV (header of names, then one row per draw, chain after chain) in blocks.

    Binary draws are written as digits directly; categorical draws as their state names and
    real-valued ones in full precision (through pandas, as ``samples.to_pandas()`` shows them).
    """
    states = samples.flat_states()
    handle.write((",".join(samples.names) + "\n").encode())
    if type(samples).__name__ != "SampleSet":  # CategoricalSampleSet, RealSampleSet
        frame = samples.to_pandas()
        for start in range(0, len(frame), _CSV_BLOCK_ROWS):
            block = frame.iloc[start : start + _CSV_BLOCK_ROWS]
            handle.write(block.to_csv(header=False, index=False, float_format="%.17g", lineterminator="\n").encode())
        return
    n_units = states.shape[1]
    # Every unit becomes two bytes: the digit and ',' (or '\n' after the last unit).
    separators = np.full(n_units, ord(","), dtype=np.uint8)
    separators[-1] = ord("\n")
    for start in range(0, states.shape[0], _CSV_BLOCK_ROWS):
        block = states[start : start + _CSV_BLOCK_ROWS]
        text = np.empty((block.shape[0], n_units, 2), dtype=np.uint8)
        text[:, :, 0] = block + ord("0")
        text[:, :, 1] = separators
        handle.write(text.tobytes())


def _binary_stdout(out):
    """A binary handle on ``out`` (its buffer for a real stream) and whether it is text only."""
    buffer = getattr(out, "buffer", None)
    return (buffer, False) if buffer is not None else (out, True)


def _save_model(model, destination: str) -> None:
    """``model.save(destination)``; when that fails, save to a fresh file in the temp folder and say so."""
    import tempfile

    from .exceptions import PGMEnergyError

    try:
        model.save(destination)
        return
    except (OSError, PGMEnergyError) as error:
        reason = _reason(error)
    try:
        descriptor, fallback = tempfile.mkstemp(prefix="pgm-energy-model-", suffix=".npz")
        os.close(descriptor)
        model.save(fallback)
    except (OSError, PGMEnergyError) as error:
        raise _Failure(
            f"could not write the trained model to {destination!r} ({reason}); nothing was written there, "
            f"and saving it to the temporary folder failed too ({_reason(error)}): the model is lost"
        ) from None
    raise _Failure(
        f"could not write the trained model to {destination!r} ({reason}); nothing was written there; "
        f"the model was saved to {fallback!r} instead"
    )


def _reason(error: BaseException) -> str:
    """An exception as text for one line: an OSError as its message and file name."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror if error.filename is None else f"{error.strerror}: {str(error.filename)!r}"
    return str(error) or type(error).__name__


def _interrupted_path(destination: str) -> str:
    """``model.npz`` -> ``model.interrupted.npz`` (next to ``OUTPUT``, which is left as it was)."""
    path = Path(destination)
    return str(path.with_name(f"{path.stem}.interrupted{path.suffix}"))


# ------------------------------------------------------------------ commands
def run_sample(arguments, out=None) -> int:
    """``pgm-energy sample``: Gibbs samples of a saved model, written as CSV or .npy."""
    from .exceptions import EvidenceError
    from .samplers import GibbsSampler

    out = sys.stdout if out is None else out
    destination = arguments.output
    to_stdout = destination is None or destination == "-"
    if not to_stdout:
        if Path(destination).suffix not in (".csv", ".npy"):
            raise _usage(f"--output must end in .csv or .npy, got {destination!r}")
        _output_path(destination)
    evidence = _parse_evidence(arguments.evidence)
    model = _load_model(arguments.model)
    # The draws as uint8 and their float64 energies, and the flat copy written out.
    _check_memory(
        2 * arguments.chains * arguments.n * (model.n_units + 8),
        f"--chains {arguments.chains} x -n {arguments.n} draws of {model.n_units} units",
    )
    sampler = GibbsSampler(burn_in=arguments.burn_in, thin=arguments.thin, scan=arguments.scan)
    try:
        samples = sampler.sample(
            model,
            arguments.n,
            n_chains=arguments.chains,
            evidence=evidence,
            temperature=arguments.temperature,
            rng=arguments.seed,
            progress=arguments.progress,
            client=arguments.scheduler,
        )
    except EvidenceError as error:
        raise _usage(f"--evidence {arguments.evidence}: {error}") from None
    if to_stdout:
        handle, text_only = _binary_stdout(out)
        if text_only:
            import io

            buffer = io.BytesIO()
            _write_csv(samples, buffer)
            out.write(buffer.getvalue().decode())
        else:
            out.flush()
            _write_csv(samples, handle)
            handle.flush()
        return 0
    if Path(destination).suffix == ".npy":
        target = _write_atomically(destination, lambda handle: np.save(handle, samples.states))
    else:
        target = _write_atomically(destination, lambda handle: _write_csv(samples, handle))
    print(
        f"wrote {samples.n_chains} chains x {samples.n_draws} draws x {samples.n_units} units to {target} "
        f"({samples.info['seconds']['sampling']:.2f} s of sampling"
        + (f" on {samples.info['cluster']['workers']} workers)" if "cluster" in samples.info else ")"),
        file=sys.stderr,
    )
    return 0


#: ``logz --method auto`` enumerates an RBM's smaller layer up to this size (2^20 states: about a second)
_AUTO_EXACT_RBM_LAYER = 20


class _EpochLog:
    """``--verbose``: one line per completed epoch on stderr (a callback of ``fit``)."""

    def __init__(self, epochs: int):
        self.epochs = epochs

    def __call__(self, epoch, model, history) -> bool:
        error = history.last_record().get("reconstruction_error", math.nan)
        print(f"epoch {epoch}/{self.epochs}: reconstruction error {error:.4f}", file=sys.stderr, flush=True)
        return False


def run_train(arguments, out=None) -> int:
    """``pgm-energy train``: contrastive divergence on a data file, model written to ``-o``.

    Ctrl-C stops after the current epoch: the model of the last completed epoch is written
    to ``OUTPUT`` with ``.interrupted`` before its suffix (``OUTPUT`` is not replaced by a
    half-trained model) and the exit status is 130.
    """
    from .exceptions import TrainingDivergedError
    from .learning import ContrastiveDivergence

    out = sys.stdout if out is None else out
    _output_path(arguments.output)
    data = _read_data(arguments.data)
    _check_binary(data, arguments.binarize, "DATA", arguments.data)
    n_visible = data.shape[1]
    if hasattr(data, "columns"):
        # The hidden units are named h0, h1, ...: a data column of the same name cannot be a visible unit.
        clash = [name for name in data.columns if _hidden_index(name) is not None and _hidden_index(name) < arguments.hidden]
        if clash:
            raise _Failure(
                f"DATA {arguments.data!r} has columns named {clash[:5]}, which are the names of the hidden "
                f"units h0..h{arguments.hidden - 1}; rename those columns"
            )
    # weights, their velocity and gradient, in float64 at most
    _check_memory(4 * 8 * n_visible * arguments.hidden, f"--hidden {arguments.hidden} with {n_visible} visible units")
    trainer = ContrastiveDivergence(
        k=arguments.k,
        persistent=arguments.persistent,
        learning_rate=arguments.learning_rate,
        weight_decay=arguments.weight_decay,
        batch_size=arguments.batch_size,
        epochs=arguments.epochs,
        averaging=None,  # the run is what the options say: the model of the last epoch
        dtype=arguments.dtype,
        binarize=arguments.binarize,
        monitor=("reconstruction_error",),
    )
    callbacks = [_EpochLog(arguments.epochs)] if arguments.verbose else []
    started = time.perf_counter()
    try:
        result = trainer.fit(arguments.hidden, data, rng=arguments.seed, progress=arguments.progress, callbacks=callbacks)
    except TrainingDivergedError as error:
        raise _Failure(f"{error}; nothing was written to {arguments.output!r}") from None
    epochs = len(result.history)
    if result.stop_reason == "interrupted":
        if epochs == 0:
            print("pgm-energy: interrupted before the first epoch completed; nothing was written", file=sys.stderr)
            return EXIT_INTERRUPTED
        kept = _interrupted_path(arguments.output)
        try:
            result.model.save(kept)
        except Exception as error:  # report, still exit 130: the user asked to stop
            print(f"pgm-energy: interrupted after epoch {epochs}; the model could not be written to {kept!r}: "
                  f"{_reason(error)}", file=sys.stderr)
            return EXIT_INTERRUPTED
        print(
            f"pgm-energy: interrupted after epoch {epochs} of {arguments.epochs}; the model of epoch {epochs} "
            f"was written to {kept} ({arguments.output} is unchanged)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    _save_model(result.model, arguments.output)
    print(
        f"{result.stop_reason}: {epochs} epochs in {time.perf_counter() - started:.2f} s, "
        f"reconstruction error {result.history.last('reconstruction_error'):.4f}; model written to {arguments.output}",
        file=out,
    )
    return 0


def run_warmup(arguments, out=None) -> int:
    """``pgm-energy warmup``: compile (or load) every kernel once and say where the cache is (see :mod:`pgm_energy._warmup`)."""
    from ._warmup import cache_location, run_warmup as warmup

    out = sys.stdout if out is None else out
    location = cache_location()
    if not arguments.quiet:
        print(f"Numba cache: {location.path} ({location.source})", file=out)
        if os.environ.get("NUMBA_CACHE_DIR") and location.source != "NUMBA_CACHE_DIR":
            print(f"warning: NUMBA_CACHE_DIR={os.environ['NUMBA_CACHE_DIR']} cannot be used; Numba caches in the "
                  "folder above instead", file=out)
        if not location.writable:
            print("warning: the cache folder is not writable: every process will compile the kernels again; "
                  "set NUMBA_CACHE_DIR to a writable folder", file=out)
    started = time.perf_counter()
    timings = warmup(only=arguments.only, progress=arguments.progress and not arguments.quiet)
    if not arguments.quiet:
        for name, seconds in timings:
            print(f"  {name:<12} {seconds:7.1f} s", file=out)
        print(f"warmed {len(timings)} steps in {time.perf_counter() - started:.1f} s", file=out)
    return 0


def run_logz(arguments, out=None) -> int:
    """``pgm-energy logz``: the log partition function of a saved model, exact or by AIS."""
    from . import exact
    from .models import CategoricalRBM, DeepBoltzmannMachine, GaussianBernoulliRBM, RestrictedBoltzmannMachine

    out = sys.stdout if out is None else out
    model = _load_model(arguments.model)
    method = arguments.method
    rbm_kinds = (RestrictedBoltzmannMachine, CategoricalRBM, GaussianBernoulliRBM, DeepBoltzmannMachine)
    if method == "auto":
        if isinstance(model, RestrictedBoltzmannMachine):
            method = "exact" if min(model.n_visible, model.n_hidden) <= _AUTO_EXACT_RBM_LAYER else "ais"
        elif isinstance(model, DeepBoltzmannMachine):  # exact through its bipartite RBM: the smaller parity
            odd = sum(model.layer_sizes[1::2])
            method = "exact" if min(odd, model.n_units - odd) <= _AUTO_EXACT_RBM_LAYER else "ais"
        elif isinstance(model, rbm_kinds):  # their hidden layer is the one enumerated
            method = "exact" if model.n_hidden <= _AUTO_EXACT_RBM_LAYER else "ais"
        else:
            method = "exact"  # AIS here is for RBMs; exact.py's size guard explains a model too large
    started = time.perf_counter()
    if method == "exact":
        log_z = exact.log_partition_function(model)
        print(f"log Z = {log_z:.10g} (exact, {time.perf_counter() - started:.2f} s)", file=out)
        return 0
    if not isinstance(model, rbm_kinds):
        raise _usage(f"--method ais needs an RBM (binary, categorical or Gaussian-Bernoulli) or a deep Boltzmann "
                     f"machine, the file holds a {type(model).__name__}")
    from . import ais

    data = None
    if arguments.data is not None and not isinstance(model, RestrictedBoltzmannMachine):
        raise _usage(f"--data sets the AIS base of a binary RBM; for a {type(model).__name__} leave it out "
                     "(the base is the model's own visible biases)")
    if arguments.data is not None:
        data = _read_data(arguments.data, "--data")
        _check_binary(data, arguments.binarize, "--data", arguments.data)
        if arguments.binarize is not None:
            data = (data > arguments.binarize).astype(np.uint8)
    # AIS keeps a visible and a hidden state (and a few float64 vectors) per run
    _check_memory(4 * 8 * arguments.runs * model.n_units, f"--runs {arguments.runs} with {model.n_units} units")
    base = "model" if data is None else "data"  # the zero-weight base with the model's own visible bias
    estimate = ais.log_partition_function(model, n_runs=arguments.runs, base=base, data=data, rng=arguments.seed,
                                          client=arguments.scheduler, progress=arguments.progress)
    where = "" if arguments.scheduler is None else f" on {arguments.scheduler}"
    print(
        f"log Z = {estimate.log_z:.10g} +- {estimate.log_z_std:.3g} (AIS{where}, {arguments.runs} runs, {base} base; "
        f"+-3 sigma bounds [{estimate.lower:.6g}, {estimate.upper:.6g}]; {time.perf_counter() - started:.2f} s)",
        file=out,
    )
    return 0


def run_demo(arguments, out=None) -> int:
    """``pgm-energy demo``: see :func:`pgm_energy.demo.run_demo`."""
    from .demo import _prepare_output_dir, run_demo as demo
    from .exceptions import ValidationError

    try:
        _prepare_output_dir(arguments.output_dir, "--output-dir")
    except ValidationError as error:
        raise _usage(str(error)) from None
    demo(
        n_hidden=arguments.hidden,
        epochs=arguments.epochs,
        seed=arguments.seed,
        output_dir=arguments.output_dir,
        progress=arguments.progress,
        out=out,
    )
    return 0


# ------------------------------------------------------------------ the parser
class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one line ``pgm-energy: error: ...`` (exit status 2)."""

    def error(self, message):
        command = self.prog.removeprefix("pgm-energy").strip()
        where = f"{command}: " if command else ""
        self.exit(EXIT_USAGE, f"pgm-energy: error: {where}{message} (see {self.prog} --help)\n")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pgm-energy")
    except PackageNotFoundError:  # running from a source tree that is not installed
        from . import __version__

        return __version__


def _progress_option(parser) -> None:
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=sys.stderr.isatty(),
                        help="progress bar on stderr (default: when stderr is a terminal)")


def _binarize_option(parser, what: str) -> None:
    parser.add_argument("--binarize", type=_real(), default=None, metavar="THRESHOLD",
                        help=f"turn {what} values above THRESHOLD into 1 and the others into 0 (default: {what} must be 0/1)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pgm-energy",
        description="Energy-based models as pgmpy graphical models.",
        epilog="Exit status: 0 success, 1 error while working, 2 usage error, 130 interrupted (Ctrl-C), "
        "141 output pipe closed.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="train an RBM on 8x8 digits; exact and AIS log-likelihood, figures, pgmpy queries, sampling"
    )
    demo.add_argument("--hidden", type=_count(1), default=20, help="hidden units, 1..20 (default 20)")
    demo.add_argument("--epochs", type=_epochs(), default=1000, help="epochs of persistent CD, at most 10**9 (default 1000)")
    demo.add_argument("--seed", type=_seed, default=0, help="seed of every random draw (default 0)")
    demo.add_argument("--output-dir", default="pgm_energy_demo", help="folder for the PNG figures (default pgm_energy_demo)")
    _progress_option(demo)

    train = commands.add_parser(
        "train", help="train an RBM by contrastive divergence on DATA (.npy, or .csv with a header of names)",
        description="Train an RBM by contrastive divergence. Ctrl-C stops after the current epoch and writes "
        "that epoch's model to OUTPUT with '.interrupted' before the suffix (exit status 130).",
    )
    train.add_argument("data", help="binary training data: .npy array or .csv with a header line of visible names")
    train.add_argument("--hidden", type=_count(1), required=True, help="hidden units")
    train.add_argument("-o", "--output", required=True, help="where to write the trained model (.npz)")
    train.add_argument("--epochs", type=_epochs(), default=20, help="at most 10**9 (default 20)")
    train.add_argument("--batch-size", type=_count(1), default=20)
    train.add_argument("--learning-rate", type=_real(minimum=0.0, strict=True), default=0.01)
    train.add_argument("--weight-decay", type=_real(minimum=0.0), default=1e-4)
    train.add_argument("-k", type=_gibbs_steps(), default=1, help="Gibbs steps per update (CD-k), at most 2**20 (default 1)")
    train.add_argument("--persistent", action="store_true", help="persistent CD (fantasy chains kept across updates)")
    train.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    train.add_argument("--seed", type=_seed, default=None)
    _binarize_option(train, "DATA")
    train.add_argument("-v", "--verbose", action="store_true", help="one line per epoch on stderr")
    _progress_option(train)

    logz = commands.add_parser("logz", help="log partition function of a saved model: exact, or AIS for large RBMs")
    logz.add_argument("model", help="a .npz model file")
    logz.add_argument("--method", default="auto", choices=["auto", "exact", "ais"],
                      help="auto: exact when the smaller RBM layer (or the BM) is small enough, else AIS")
    logz.add_argument("--runs", type=_count(2), default=100, help="AIS runs (default 100)")
    logz.add_argument("--data", default=None, help="training data (.npy/.csv) for AIS's data-based starting distribution")
    _binarize_option(logz, "--data")
    logz.add_argument("--seed", type=_seed, default=None)
    logz.add_argument("--scheduler", type=_scheduler, default=None,
                      help="run AIS on a Dask cluster: 'local' (a worker process per core), 'local:N', or a "
                           "scheduler address (extra [distributed]); the same --seed gives the same result; the "
                           "progress bar counts finished runs")
    _progress_option(logz)

    sample = commands.add_parser("sample", help="Gibbs samples of a model saved with model.save(): CSV (default, to stdout) or .npy")
    sample.add_argument("model", help="a .npz model file")
    sample.add_argument("-n", type=_count(1), required=True, help="draws per chain")
    sample.add_argument("--chains", type=_count(1), default=1, help="independent chains (default 1)")
    sample.add_argument("--burn-in", type=_count(0), default=1000, help="sweeps discarded first (default 1000)")
    sample.add_argument("--thin", type=_count(1), default=1, help="sweeps between draws (default 1)")
    sample.add_argument("--scan", default="auto", choices=["auto", "sequential", "random", "chromatic"],
                        help="order of single-site updates (default auto: as GibbsSampler)")
    sample.add_argument("--temperature", type=_real(minimum=0.0, strict=True), default=None, help="default: the model's")
    sample.add_argument("--evidence", default=None,
                        help="clamped units, e.g. v0=1,h3=0 (a state name for a Potts variable, a real number for "
                             "a Gaussian unit)")
    sample.add_argument("--seed", type=_seed, default=None)
    sample.add_argument("--scheduler", type=_scheduler, default=None,
                        help="run the chains on a Dask cluster: 'local' (a worker process per core), 'local:N', or "
                             "a scheduler address (extra [distributed]); the same --seed gives the same draws; the "
                             "progress bar counts finished chains")
    sample.add_argument("-o", "--output", default=None,
                        help="file ending in .csv or .npy, written atomically (default or '-': CSV on stdout)")
    _progress_option(sample)

    warmup = commands.add_parser(
        "warmup", help="compile every kernel once into Numba's cache (e.g. RUN pgm-energy warmup in a Dockerfile)",
        description="Compile (or load) every Numba kernel the package uses, so that later processes sharing the "
        "cache compile nothing. The cache is NUMBA_CACHE_DIR when set, else beside the package (or a per-user "
        "folder when that is read-only). See docs/deployment.md.",
    )
    from ._warmup import STEPS

    warmup.add_argument("--only", nargs="+", default=None, choices=[step.name for step in STEPS], metavar="STEP",
                        help="warm only these steps: " + ", ".join(step.name for step in STEPS))
    warmup.add_argument("-q", "--quiet", action="store_true", help="print nothing (errors aside)")
    _progress_option(warmup)
    return parser


def _check_demo_arguments(arguments) -> None:
    if not 1 <= arguments.hidden <= 20:
        raise _usage(f"--hidden must be between 1 and 20 (exact log-likelihood), got {arguments.hidden}")


def _silence_stdout() -> None:
    """After EPIPE: point stdout at /dev/null so that the interpreter's last flush cannot fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a real file (captured in tests): nothing will flush to a pipe


def main(argv=None) -> int:
    """Entry point of the ``pgm-energy`` console script; returns the exit status.

    Never raises for a user error or an interruption: the error is printed as one line on
    stderr and the status returned (see the module docstring for the codes).
    """
    from .exceptions import PGMEnergyError

    parser = _parser()
    try:
        arguments = parser.parse_args(argv)
    except SystemExit as exit:  # usage error, --help, --version: argparse has printed
        return exit.code if isinstance(exit.code, int) else EXIT_USAGE
    handlers = {"demo": run_demo, "train": run_train, "logz": run_logz, "sample": run_sample, "warmup": run_warmup}
    try:
        if arguments.command == "demo":
            _check_demo_arguments(arguments)
        status = handlers[arguments.command](arguments)
        sys.stdout.flush()  # here, not at exit, where a closed pipe would print a traceback-like warning
        return status
    except KeyboardInterrupt:
        print("pgm-energy: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except _Failure as failure:
        message, status = str(failure), failure.status
    except MemoryError:
        message, status = "out of memory (use smaller sizes)", EXIT_FAILURE
    except (PGMEnergyError, ValueError, TypeError, OSError) as error:
        message, status = _reason(error), EXIT_FAILURE
    print(f"pgm-energy: error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
