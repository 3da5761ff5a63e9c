"""The ``pgm-energy`` command line."""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

__all__ = ["main"]


def _parse_evidence(text: str | None) -> dict[str, int]:
    """'a=1,b=0' -> {'a': 1, 'b': 0}."""
    evidence: dict[str, int] = {}
    if not text:
        return evidence
    for item in text.split(","):
        name, separator, value = item.partition("=")
        if not separator or value.strip() not in ("0", "1") or not name.strip():
            raise ValueError(f"--evidence items must look like name=0 or name=1, got {item!r}")
        evidence[name.strip()] = int(value)
    return evidence


def run_sample(arguments, out=None) -> int:
    """``pgm-energy sample``: Gibbs samples of a saved model, written as CSV or .npy."""
    from pathlib import Path

    from .io import load
    from .samplers import GibbsSampler

    out = sys.stdout if out is None else out
    model = load(arguments.model)
    sampler = GibbsSampler(burn_in=arguments.burn_in, thin=arguments.thin, scan=arguments.scan)
    samples = sampler.sample(
        model,
        arguments.n,
        n_chains=arguments.chains,
        evidence=_parse_evidence(arguments.evidence),
        temperature=arguments.temperature,
        rng=arguments.seed,
        progress=arguments.progress,
    )
    destination = arguments.output
    if destination is None or destination == "-":
        samples.to_pandas().to_csv(out, index=False)
        return 0
    path = Path(destination)
    if path.suffix == ".npy":
        np.save(path, samples.states)
    elif path.suffix == ".csv":
        samples.to_pandas().to_csv(path, index=False)
    else:
        raise ValueError(f"--output must end in .csv or .npy, got {destination!r}")
    print(
        f"wrote {samples.n_chains} chains x {samples.n_draws} draws x {samples.n_units} units to {path} "
        f"({samples.info['timings']['sampling']:.2f} s of sampling)",
        file=sys.stderr,
    )
    return 0


#: ``logz --method auto`` enumerates an RBM's smaller layer up to this size (2^20 states: about a second)
_AUTO_EXACT_RBM_LAYER = 20


def _read_data(path_text: str):
    """Training data from a .npy array or a .csv file with a header line of visible names."""
    from pathlib import Path

    path = Path(path_text)
    if path.suffix == ".npy":
        return np.load(path, allow_pickle=False)
    if path.suffix == ".csv":
        import pandas as pd

        return pd.read_csv(path)
    raise ValueError(f"DATA must end in .npy or .csv, got {path_text!r}")


def run_train(arguments, out=None) -> int:
    """``pgm-energy train``: contrastive divergence on a data file, model written to ``-o``."""
    from .learning import ContrastiveDivergence

    out = sys.stdout if out is None else out
    data = _read_data(arguments.data)
    trainer = ContrastiveDivergence(
        k=arguments.k,
        persistent=arguments.persistent,
        learning_rate=arguments.learning_rate,
        weight_decay=arguments.weight_decay,
        batch_size=arguments.batch_size,
        epochs=arguments.epochs,
        dtype=arguments.dtype,
        monitor=("reconstruction_error",),
    )
    started = time.perf_counter()
    result = trainer.fit(arguments.hidden, data, rng=arguments.seed, progress=arguments.progress)
    result.model.save(arguments.output)
    print(
        f"{result.stop_reason}: {len(result.history)} epochs in {time.perf_counter() - started:.2f} s, "
        f"reconstruction error {result.history.last('reconstruction_error'):.4f}; model written to {arguments.output}",
        file=out,
    )
    return 0


def run_logz(arguments, out=None) -> int:
    """``pgm-energy logz``: the log partition function of a saved model, exact or by AIS."""
    from . import exact
    from .io import load
    from .models import RestrictedBoltzmannMachine

    out = sys.stdout if out is None else out
    model = load(arguments.model)
    method = arguments.method
    if method == "auto":
        if isinstance(model, RestrictedBoltzmannMachine):
            method = "exact" if min(model.n_visible, model.n_hidden) <= _AUTO_EXACT_RBM_LAYER else "ais"
        else:
            method = "exact"  # AIS here is for RBMs; exact.py's size guard explains a model too large
    started = time.perf_counter()
    if method == "exact":
        log_z = exact.log_partition_function(model)
        print(f"log Z = {log_z:.10g} (exact, {time.perf_counter() - started:.2f} s)", file=out)
        return 0
    if not isinstance(model, RestrictedBoltzmannMachine):
        raise ValueError(f"--method ais needs a RestrictedBoltzmannMachine, the file holds a {type(model).__name__}")
    from . import ais

    data = None if arguments.data is None else _read_data(arguments.data)
    base = "uniform" if data is None else "data"
    estimate = ais.log_partition_function(model, n_runs=arguments.runs, base=base, data=data, rng=arguments.seed)
    print(
        f"log Z = {estimate.log_z:.10g} +- {estimate.log_z_std:.3g} (AIS, {arguments.runs} runs, {base} base; "
        f"+-3 sigma bounds [{estimate.lower:.6g}, {estimate.upper:.6g}]; {time.perf_counter() - started:.2f} s)",
        file=out,
    )
    return 0


def _progress_option(parser) -> None:
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=sys.stderr.isatty(),
                        help="progress bar on stderr (default: when stderr is a terminal)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pgm-energy", description="Energy-based models as pgmpy graphical models.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="train an RBM on 8x8 digits; exact and AIS log-likelihood, figures, pgmpy queries, sampling"
    )
    demo.add_argument("--hidden", type=int, default=20, help="hidden units, 1..20 (default 20)")
    demo.add_argument("--epochs", type=int, default=1000, help="epochs of persistent CD (default 1000)")
    demo.add_argument("--seed", type=int, default=0, help="seed of every random draw (default 0)")
    demo.add_argument("--output-dir", default="pgm_energy_demo", help="folder for the PNG figures (default pgm_energy_demo)")
    _progress_option(demo)

    train = commands.add_parser("train", help="train an RBM by contrastive divergence on DATA (.npy, or .csv with a header of names)")
    train.add_argument("data", help="binary training data: .npy array or .csv with a header line of visible names")
    train.add_argument("--hidden", type=int, required=True, help="hidden units")
    train.add_argument("-o", "--output", required=True, help="where to write the trained model (.npz)")
    train.add_argument("--epochs", type=int, default=20)
    train.add_argument("--batch-size", type=int, default=20)
    train.add_argument("--learning-rate", type=float, default=0.01)
    train.add_argument("--weight-decay", type=float, default=1e-4)
    train.add_argument("-k", type=int, default=1, help="Gibbs steps per update (CD-k; default 1)")
    train.add_argument("--persistent", action="store_true", help="persistent CD (fantasy chains kept across updates)")
    train.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    train.add_argument("--seed", type=int, default=None)
    _progress_option(train)

    logz = commands.add_parser("logz", help="log partition function of a saved model: exact, or AIS for large RBMs")
    logz.add_argument("model", help="a .npz model file")
    logz.add_argument("--method", default="auto", choices=["auto", "exact", "ais"],
                      help="auto: exact when the smaller RBM layer (or the BM) is small enough, else AIS")
    logz.add_argument("--runs", type=int, default=100, help="AIS runs (default 100)")
    logz.add_argument("--data", default=None, help="training data (.npy/.csv) for AIS's data-based starting distribution")
    logz.add_argument("--seed", type=int, default=None)

    sample = commands.add_parser("sample", help="Gibbs samples of a model saved with model.save(): CSV (default, to stdout) or .npy")
    sample.add_argument("model", help="a .npz model file")
    sample.add_argument("-n", type=int, required=True, help="draws per chain")
    sample.add_argument("--chains", type=int, default=1, help="independent chains (default 1)")
    sample.add_argument("--burn-in", type=int, default=1000, help="sweeps discarded first (default 1000)")
    sample.add_argument("--thin", type=int, default=1, help="sweeps between draws (default 1)")
    sample.add_argument("--scan", default="sequential", choices=["sequential", "random", "chromatic"])
    sample.add_argument("--temperature", type=float, default=None, help="default: the model's")
    sample.add_argument("--evidence", default=None, help="clamped units, e.g. v0=1,h3=0")
    sample.add_argument("--seed", type=int, default=None)
    sample.add_argument("-o", "--output", default=None, help="file ending in .csv or .npy (default: CSV on stdout)")
    _progress_option(sample)
    return parser


def main(argv=None) -> int:
    """Entry point of the ``pgm-energy`` console script."""
    parser = _parser()
    arguments = parser.parse_args(argv)
    if arguments.command == "demo":
        if not 1 <= arguments.hidden <= 20:
            parser.error(f"--hidden must be between 1 and 20 (exact log-likelihood), got {arguments.hidden}")
        if arguments.epochs < 1:
            parser.error(f"--epochs must be at least 1, got {arguments.epochs}")
        from .demo import run_demo

        run_demo(
            n_hidden=arguments.hidden,
            epochs=arguments.epochs,
            seed=arguments.seed,
            output_dir=arguments.output_dir,
            progress=arguments.progress,
        )
        return 0
    handlers = {"train": run_train, "logz": run_logz, "sample": run_sample}
    from .exceptions import PGMEnergyError

    try:
        return handlers[arguments.command](arguments)
    except (PGMEnergyError, ValueError, TypeError, FileNotFoundError) as error:
        parser.exit(2, f"pgm-energy {arguments.command}: error: {error}\n")


if __name__ == "__main__":
    raise SystemExit(main())
