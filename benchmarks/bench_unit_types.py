#!/usr/bin/env python
"""Training speed by unit type: binary, categorical and Gaussian-Bernoulli RBMs on the same digits.

Run from the repository root::

    python benchmarks/bench_unit_types.py            # 3 rounds, 20 hidden, PCD-1, batch 20

Each trainer fits 20 hidden units to the 1437 training digits (binary: thresholded; categorical:
17 grey levels; Gaussian: dequantised and standardised) by PCD-1 with batches of 20, monitors off,
for ``--epochs`` epochs; the figure is milliseconds per parameter update (best of ``--rounds``, after
a warm-up fit that compiles the kernels), with the ratio to the binary trainer. One BLAS thread.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from pgm_energy.datasets import _split_like_scikit_learn, load_digits
from pgm_energy.learning import CategoricalCD, ContrastiveDivergence, GaussianBernoulliCD


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    grey = load_digits(binarize=False).data.astype(np.int64)
    train = grey[_split_like_scikit_learn(grey.shape[0], 0.2, 0)[0]]
    dequantised = (train + np.random.default_rng(0).random(train.shape)) / 17.0
    standardised = (dequantised - dequantised.mean(0)) / np.where(dequantised.std(0) > 0, dequantised.std(0), 1.0)
    cases = {
        "binary (ContrastiveDivergence, 64 units)": (
            lambda epochs: ContrastiveDivergence(persistent=True, batch_size=20, epochs=epochs, monitor=None),
            (train / 16 > 0.5).astype(np.float64)),
        "categorical (CategoricalCD, 64 x 17 states)": (
            lambda epochs: CategoricalCD(persistent=True, batch_size=20, epochs=epochs, cardinalities=[17] * 64,
                                         monitor=None), train),
        "Gaussian (GaussianBernoulliCD, 64 real)": (
            lambda epochs: GaussianBernoulliCD(k=1, persistent=True, batch_size=20, epochs=epochs, monitor=None),
            standardised),
    }
    updates = args.epochs * -(-train.shape[0] // 20)
    results = {}
    with threadpool_limits(1):
        for name, (make, data) in cases.items():
            make(1).fit(20, data, rng=0, progress=False)
            best = float("inf")
            for _ in range(args.rounds):
                started = time.perf_counter()
                make(args.epochs).fit(20, data, rng=0, progress=False)
                best = min(best, time.perf_counter() - started)
            results[name] = 1e3 * best / updates
    print(f"# PCD-1 updates, 20 hidden, batch 20, {args.epochs} epochs, best of {args.rounds}; "
          f"load {os.getloadavg()[0]:.2f}\n")
    print("| trainer | ms per update | ratio to binary |")
    print("|---|---:|---:|")
    base = results[next(iter(results))]
    for name, ms in results.items():
        print(f"| {name} | {ms:.3f} | {ms / base:.2f} |")


if __name__ == "__main__":
    main()
