#!/usr/bin/env python
"""Digits classification through ``Pipeline([rbm, LogisticRegression])``: pgm_energy against scikit-learn.

Run from the repository root::

    python benchmarks/bench_sklearn_pipeline.py                    # 5 rounds, 1 BLAS thread
    python benchmarks/bench_sklearn_pipeline.py --rounds 9 --threads 2 --seeds 0 1 2

The same pipeline, ``BernoulliRBM(n_components, learning_rate, n_iter, batch_size=10)`` then
``LogisticRegression(C)``, is fitted with ``pgm_energy.sklearn.BernoulliRBM`` and with
``sklearn.neural_network.BernoulliRBM`` on the digits split of issue 4 (``x/16 > 0.5``,
``train_test_split(test_size=0.2, random_state=0)``) and, as scikit-learn's own example
does, on grey levels ``x/16``. Reported per data set and estimator: test accuracy (mean
and range over ``--seeds``, the RBM's ``random_state``), and the median over
interleaved rounds of the pipeline's fit time and of the RBM's seconds per pass (the
two estimators alternate within each round, so their ratio is measured under the same
machine load). Logistic regression on the raw pixels is the baseline. The first
pgm_energy fit (Numba compilation) is excluded. Prints a Markdown report.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir))

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import BernoulliRBM as SklearnRBM  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from pgm_energy.datasets import load_digits  # noqa: E402
from pgm_energy.sklearn import BernoulliRBM as PgmRBM  # noqa: E402


def data_sets():
    grey = load_digits(binarize=False)
    train, test, train_target, test_target = train_test_split(
        grey.data / 16.0, grey.target, test_size=0.2, random_state=0
    )
    binary = load_digits(binarize=True, test_size=0.2, rng=0)
    return {
        "binary (x/16 > 0.5)": (binary.train.astype(np.float64), binary.test.astype(np.float64), binary.train_target, binary.test_target),
        "grey (x/16)": (train, test, train_target, test_target),
    }


def pipeline(rbm_class, args, seed):
    rbm = rbm_class(
        n_components=args.n_components, learning_rate=args.learning_rate, n_iter=args.n_iter, batch_size=10, random_state=seed
    )
    return Pipeline([("rbm", rbm), ("logistic", LogisticRegression(C=args.C, max_iter=5000))])


def timed_fit(model, train, train_target):
    start = time.perf_counter()
    model.fit(train, train_target)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-components", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=0.05)
    parser.add_argument("--n-iter", type=int, default=20)
    parser.add_argument("--C", type=float, default=10.0)
    args = parser.parse_args(argv)
    estimators = {"pgm_energy": PgmRBM, "scikit-learn": SklearnRBM}
    print(f"# RBM + LogisticRegression on digits ({os.uname().nodename}, load {os.getloadavg()[0]:.2f}, "
          f"{args.threads} BLAS thread(s))\n")
    print(f"n_components={args.n_components}, learning_rate={args.learning_rate}, n_iter={args.n_iter}, "
          f"batch_size=10, C={args.C}; accuracy over seeds {args.seeds}; times: median of {args.rounds} rounds\n")
    print("| data | model | test accuracy (mean [min, max]) | pipeline fit s | RBM s/pass | time ratio pgm/sk |")
    print("|---|---|---|---|---|---|")
    with threadpool_limits(limits=args.threads):
        for data_name, (train, test, train_target, test_target) in data_sets().items():
            raw = LogisticRegression(C=args.C, max_iter=5000).fit(train, train_target).score(test, test_target)
            accuracies = {name: [] for name in estimators}
            for seed in args.seeds:
                for name, rbm_class in estimators.items():
                    accuracies[name].append(pipeline(rbm_class, args, seed).fit(train, train_target).score(test, test_target))
            timed_fit(pipeline(PgmRBM, args, 0), train, train_target)  # warm: Numba compilation
            fit_seconds = {name: [] for name in estimators}
            rbm_seconds = {name: [] for name in estimators}
            for _ in range(args.rounds):
                for name, rbm_class in estimators.items():
                    fit_seconds[name].append(timed_fit(pipeline(rbm_class, args, 0), train, train_target))
                    rbm = rbm_class(n_components=args.n_components, learning_rate=args.learning_rate, n_iter=args.n_iter,
                                    batch_size=10, random_state=0)
                    rbm_seconds[name].append(timed_fit(rbm, train, None) / args.n_iter)
            medians = {name: statistics.median(values) for name, values in fit_seconds.items()}
            per_pass = {name: statistics.median(values) for name, values in rbm_seconds.items()}
            for name in estimators:
                values = accuracies[name]
                ratio = f"{per_pass['pgm_energy'] / per_pass['scikit-learn']:.2f} (RBM), " \
                        f"{medians['pgm_energy'] / medians['scikit-learn']:.2f} (pipeline)" if name == "pgm_energy" else ""
                print(f"| {data_name} | {name} | {np.mean(values):.4f} [{min(values):.4f}, {max(values):.4f}] | "
                      f"{medians[name]:.3f} | {per_pass[name]:.4f} | {ratio} |")
            print(f"| {data_name} | raw pixels + LogisticRegression | {raw:.4f} | | | |")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
