"""Learning quality (issue 4 §8): exact test log-likelihoods reached by our trainers and by scikit-learn.

Prints one Markdown table. Every log-likelihood is exact (pgm_energy.exact, enumerating the
20-unit hidden layer), in nats per image, mean over the rows.

Rows:
- digits (binarized x/16 > 0.5, 80/20 split by train_test_split(random_state=0)), 20 hidden:
  the PCD recipe (PCD-1, batch 20, learning rate 0.01, weight decay 1e-4), then finished with
  the exact gradient; CD-1, CD-10, PCD-1 and the exact gradient on the same wall-clock budget;
  independent Bernoulli pixels (training frequencies, clipped to [1e-3, 1-1e-3]); scikit-learn
  BernoulliRBM (20 components, best of three learning rates by test log-likelihood).
- bars and stripes 4x4 (30 patterns; optimum -ln 30 = -3.401), 16 hidden: exact gradient and
  PCD with parameter averaging, trained and evaluated on the 30 patterns.

Usage::

    python benchmarks/bench_learning_quality.py            # full (several minutes)
    python benchmarks/bench_learning_quality.py --quick    # a smoke run with small budgets

Timings are wall-clock on this (shared) machine; the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from pgm_energy import RestrictedBoltzmannMachine, exact
from pgm_energy.datasets import bars_and_stripes, load_digits
from pgm_energy.learning import ContrastiveDivergence, ExactGradient


class Budget:
    """Callback stopping a run after ``seconds`` of wall-clock time."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.start = time.perf_counter()

    def __call__(self, epoch, model, history):
        return time.perf_counter() - self.start > self.seconds


def timed_fit(trainer, model_or_size, data, *, rng=0, budget=None):
    callbacks = [Budget(budget)] if budget is not None else []
    began = time.perf_counter()
    result = trainer.fit(model_or_size, data, rng=rng, callbacks=callbacks, progress=False)
    return result, time.perf_counter() - began


def independent_pixels(train, test):
    p = np.clip(train.mean(axis=0), 1e-3, 1 - 1e-3)
    return float(np.mean(test @ np.log(p) + (1 - test) @ np.log1p(-p)))


def sklearn_best(train, test, n_hidden, learning_rates, n_iter):
    from sklearn.neural_network import BernoulliRBM

    best = (-np.inf, None, 0.0)
    for rate in learning_rates:
        began = time.perf_counter()
        rbm = BernoulliRBM(n_components=n_hidden, learning_rate=rate, n_iter=n_iter, batch_size=10, random_state=0)
        rbm.fit(train.astype(np.float64))
        seconds = time.perf_counter() - began
        ours = RestrictedBoltzmannMachine(rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_)
        value = exact.log_likelihood(ours, test)
        if value > best[0]:
            best = (value, rate, seconds)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small budgets (a smoke run, not the figures)")
    options = parser.parse_args(argv)
    quick = options.quick

    split = load_digits(binarize=True, test_size=0.2, rng=0)
    train, test = split.train.astype(np.float64), split.test.astype(np.float64)
    rows = []

    def add(name, model, seconds, note=""):
        rows.append((name, exact.log_likelihood(model, train), exact.log_likelihood(model, test), seconds, note))

    # --- the PCD recipe, then an exact-gradient finish
    recipe_epochs = 100 if quick else 3000
    recipe = ContrastiveDivergence(
        persistent=True, k=1, batch_size=20, learning_rate=0.01, weight_decay=1e-4, epochs=recipe_epochs,
        monitor=None, averaging=0.1,
    )
    pcd, seconds = timed_fit(recipe, 20, train)
    add(f"digits: PCD-1 recipe ({recipe_epochs} epochs, batch 20, lr 0.01, wd 1e-4, averaging last 10%)", pcd.model, seconds)
    finish_epochs = 5 if quick else 60
    finisher = ExactGradient(learning_rate=0.05, momentum=0.9, weight_decay=1e-4, epochs=finish_epochs, monitor=None)
    finished, finish_seconds = timed_fit(finisher, pcd.model, train)
    add(f"digits: + exact-gradient finish ({finish_epochs} full-batch steps, lr 0.05, momentum 0.9)",
        finished.model, seconds + finish_seconds, f"finish alone {finish_seconds:.1f} s")

    # --- the same wall-clock budget for every estimator
    budget = 5.0 if quick else 30.0
    contenders = {
        "CD-1": ContrastiveDivergence(k=1, batch_size=20, learning_rate=0.01, weight_decay=1e-4, epochs=100000, monitor=None),
        "CD-10": ContrastiveDivergence(k=10, batch_size=20, learning_rate=0.01, weight_decay=1e-4, epochs=100000, monitor=None),
        "PCD-1": ContrastiveDivergence(persistent=True, batch_size=20, learning_rate=0.01, weight_decay=1e-4, epochs=100000, monitor=None),
        "exact gradient": ExactGradient(learning_rate=0.05, momentum=0.9, weight_decay=1e-4, epochs=100000, monitor=None),
    }
    for name, trainer in contenders.items():
        result, seconds = timed_fit(trainer, 20, train, budget=budget)
        add(f"digits: {name}, {budget:.0f} s budget", result.model, seconds, f"{len(result.history)} epochs")

    baseline = independent_pixels(train, test)
    rows.append(("digits: independent Bernoulli pixels", independent_pixels(train, train), baseline, 0.0, ""))
    rates = (0.01, 0.05, 0.1)
    value, rate, seconds = sklearn_best(train, test, 20, rates, 10 if quick else 100)
    rows.append((f"digits: scikit-learn BernoulliRBM, best of lr {rates}", float("nan"), value, seconds,
                 f"best lr {rate}, {10 if quick else 100} iterations, batch 10"))

    # --- bars and stripes 4x4, 16 hidden
    bas = bars_and_stripes(4).astype(np.float64)
    eg_epochs = 200 if quick else 1000
    exact_bas, seconds = timed_fit(ExactGradient(learning_rate=0.5, momentum=0.9, epochs=eg_epochs, monitor=None), 16, bas)
    rows.append((f"bars&stripes 4x4: exact gradient ({eg_epochs} steps, lr 0.5, momentum 0.9)",
                 exact.log_likelihood(exact_bas.model, bas), float("nan"), seconds, "optimum -3.401"))
    data = np.tile(bas, (10, 1))
    pcd_epochs = 200 if quick else 3000
    pcd_bas, seconds = timed_fit(
        ContrastiveDivergence(persistent=True, n_chains=100, batch_size=10, learning_rate=0.01, weight_decay=0.0,
                              epochs=pcd_epochs, averaging=0.2, monitor=None), 16, data,
    )
    rows.append((f"bars&stripes 4x4: PCD-1 ({pcd_epochs} epochs, 100 chains, lr 0.01, averaging last 20%)",
                 exact.log_likelihood(pcd_bas.model, bas), float("nan"), seconds, "optimum -3.401"))

    print(f"load average before/after: {LOAD_BEFORE} / {os.getloadavg()}")
    print()
    print("| run | train LL | test LL | seconds | note |")
    print("|---|---:|---:|---:|---|")
    for name, train_ll, test_ll, seconds, note in rows:
        fmt = lambda x: "" if np.isnan(x) else f"{x:.3f}"
        print(f"| {name} | {fmt(train_ll)} | {fmt(test_ll)} | {seconds:.1f} | {note} |")


LOAD_BEFORE = os.getloadavg()

if __name__ == "__main__":
    main()
