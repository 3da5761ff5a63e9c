"""Learning quality (issue 4 §8): exact log-likelihoods reached by our trainers, with the targets.

Prints one Markdown table (run, train and test log-likelihood, seconds, target, met / not met).
Every log-likelihood is exact (:mod:`pgm_energy.exact` enumerates the smaller layer), in nats
per image, mean over the rows.

Rows
----
digits (binarized x/16 > 0.5, 80/20 split by ``train_test_split(random_state=0)``), 20 hidden:

- the PCD recipe: PCD-1, batch 20, learning rate 0.02, **momentum 0**, weight decay 1e-3,
  3000 epochs, parameters averaged over the last 10% of the epochs. Targets: test >= -18.0
  nats in <= 30 s.
- the same recipe for 10,000 epochs, then finished by the exact gradient (:class:`ExactGradient`,
  40 full-batch steps, learning rate 0.1, momentum 0.9, weight decay 1e-4). Target >= -17.8.
- the 3000- and the 10,000-epoch models finished by full-batch L-BFGS on the exact objective
  (``ExactGradient(method="lbfgs")``, weight decay and iteration count of ``DIGITS_LBFGS_FINISH``).
  Those two numbers were chosen on a validation split of the TRAINING data only (never the test
  set): ``--choose-finish`` reruns that choice (PCD and the finish on 80% of the training rows,
  the validation log-likelihood of the other 20% printed every 20 iterations).
- CD-1, CD-10, PCD-1 and the exact gradient on the same wall-clock budget: each run's epoch
  count is sized from a short timed run so that it fills the budget (the load of a shared
  machine makes the real time differ; it is printed), with the same learning rate, momentum 0,
  weight decay and averaging as the recipe. The exact gradient starts from the same kind of
  initial model and takes full-batch steps.
- baselines: independent Bernoulli pixels (training frequencies clipped to [1e-3, 1 - 1e-3]) and
  scikit-learn's ``BernoulliRBM`` (20 components, batch 10, best of three learning rates by test
  log-likelihood).

bars and stripes 4×4 (30 patterns; optimum -ln 30 = -3.401), 16 hidden, trained and evaluated on
the 30 patterns:

- exact gradient (target >= -3.45), the PCD recipe (target >= -3.6: PCD-1, 100 persistent
  chains, batch 10, learning rate 0.05, momentum 0, 10,000 epochs, averaging over the last half),
  and CD-1, CD-10, PCD-1, exact gradient on one shared budget.

Usage (from the repository root)::

    python benchmarks/bench_learning_quality.py            # the figures (~6 minutes on 2 busy cores)
    python benchmarks/bench_learning_quality.py --quick    # a smoke run with small budgets (~1 minute)
    python benchmarks/bench_learning_quality.py --choose-finish   # the validation curves behind DIGITS_LBFGS_FINISH

Wall-clock timings on a shared machine: the load average is printed with the table. Exit
status 1 when a target is not met (full mode only).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

from pgm_energy import RestrictedBoltzmannMachine, exact
from pgm_energy.datasets import bars_and_stripes, load_digits
from pgm_energy.exceptions import TrainingDivergedError
from pgm_energy.learning import ContrastiveDivergence, ExactGradient, TrainingResult

# ---------------------------------------------------------------------------- the recipes
#: digits, 20 hidden: PCD-1 with momentum 0 (Hinton's 0.5 -> 0.9 is too large a step for PCD here: -18.2)
#: and weight decay 1e-3 (with 1e-4 the test figure depends on the seed: -17.97 and -18.02)
DIGITS_PCD = dict(persistent=True, k=1, batch_size=20, learning_rate=0.02, momentum=0.0, weight_decay=1e-3, averaging=0.1)
DIGITS_PCD_EPOCHS = 3000
#: the exact-gradient finish (full batch) starts from the same PCD recipe run longer: the finish
#: gains little (heavy-ball steps above an effective 1.0 diverge from a trained model), the epochs more
DIGITS_LONG_PCD_EPOCHS = 10_000
DIGITS_FINISH = dict(learning_rate=0.1, momentum=0.9, weight_decay=1e-4)
DIGITS_FINISH_EPOCHS = 40
#: the L-BFGS finish: weight decay and iterations chosen on a validation split of the training data
#: (``--choose-finish``; see its docstring), not on the test set. From the 10,000-epoch PCD model
#: (validation -17.525): wd 5e-4 -17.508 / -17.478 / -17.467 / -17.474 after 25 / 100 / 150 / 200
#: iterations; wd 3e-4 best -17.477 (150); wd 1e-3 best -17.504 (140); wd 1e-4 best -17.519 (6)
#: then falls (overfits); wd 3e-3 -17.85. Applied unchanged to the 3000-epoch model.
DIGITS_LBFGS_FINISH = dict(method="lbfgs", weight_decay=5e-4)
DIGITS_LBFGS_ITERATIONS = 150
#: exact gradient from scratch on digits (full batch); 25 steps: lr 0.3 -23.6, lr 1.0 -25.3 (oscillates), lr 0.1 -24.65
DIGITS_EXACT = dict(learning_rate=0.3, momentum=0.9, weight_decay=1e-4)
#: bars and stripes, 16 hidden: exact gradient
BAS_EXACT = dict(learning_rate=0.5, momentum=0.9, weight_decay=0.0)
BAS_EXACT_EPOCHS = 1000
#: bars and stripes, 16 hidden: PCD-1 on the 30 patterns, many chains, momentum 0, long averaging
BAS_PCD = dict(persistent=True, k=1, n_chains=100, batch_size=10, learning_rate=0.05, momentum=0.0, weight_decay=0.0, averaging=0.5)
BAS_PCD_EPOCHS = 10_000


def timed_fit(trainer, model_or_size, data, *, rng=0):
    """``(result, seconds)``; a diverged run reports its last finite model (and says so on stderr)."""
    began = time.perf_counter()
    try:
        result = trainer.fit(model_or_size, data, rng=rng, progress=False)
    except TrainingDivergedError as error:
        print(f"{trainer!r} diverged at epoch {error.epoch}; using its last finite model", file=sys.stderr)
        result = TrainingResult(error.model, error.history, "diverged")
    return result, time.perf_counter() - began


def epochs_for_budget(make_trainer, n_hidden, data, budget, probe_epochs):
    """Epochs that fill ``budget`` seconds, timed on probe runs of growing length (after a warm-up).

    The probe grows until it lasts a tenth of the budget, so a noisy machine misjudges less.
    """
    make_trainer(1).fit(n_hidden, data, rng=0, progress=False)  # compile / load the kernels
    while True:
        _, seconds = timed_fit(make_trainer(probe_epochs), n_hidden, data)
        if seconds >= budget / 10:
            return max(1, int(budget * probe_epochs / seconds))
        probe_epochs *= 4


def independent_pixels(train, test):
    p = np.clip(train.mean(axis=0), 1e-3, 1 - 1e-3)
    return float(np.mean(test @ np.log(p) + (1 - test) @ np.log1p(-p)))


def sklearn_best(train, test, n_hidden, learning_rates, n_iter):
    from sklearn.neural_network import BernoulliRBM

    best = (-np.inf, None, 0.0)
    for rate in learning_rates:
        began = time.perf_counter()
        rbm = BernoulliRBM(n_components=n_hidden, learning_rate=rate, n_iter=n_iter, batch_size=10, random_state=0)
        rbm.fit(train)
        seconds = time.perf_counter() - began
        ours = RestrictedBoltzmannMachine(rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_)
        value = exact.log_likelihood(ours, test)
        if value > best[0]:
            best = (value, rate, seconds)
    return best


class Table:
    """Rows of the report; a target is a (threshold, what) pair checked on one figure."""

    def __init__(self):
        self.rows = []

    def add(self, name, train_ll, test_ll, seconds, note="", target=None):
        verdict = ""
        if target is not None:
            threshold, value, text = target
            verdict = "met" if value >= threshold else "**NOT met**"
            note = f"{note}; " if note else ""
            note += f"target {text}"
        self.rows.append((name, train_ll, test_ll, seconds, note, verdict))

    def missed(self):
        return [row[0] for row in self.rows if row[5] == "**NOT met**"]

    def print(self):
        fmt = lambda x: "" if x is None or np.isnan(x) else f"{x:.3f}"
        print("| run | train LL | test LL | seconds | note | target |")
        print("|---|---:|---:|---:|---|---|")
        for name, train_ll, test_ll, seconds, note, verdict in self.rows:
            print(f"| {name} | {fmt(train_ll)} | {fmt(test_ll)} | {seconds:.1f} | {note} | {verdict} |")


def digits_rows(table, quick):
    split = load_digits(binarize=True, test_size=0.2, rng=0)
    train, test = split.train.astype(np.float64), split.test.astype(np.float64)
    ll = lambda model: (exact.log_likelihood(model, train), exact.log_likelihood(model, test))

    # --- the PCD recipe, then the exact-gradient finish
    epochs = 100 if quick else DIGITS_PCD_EPOCHS
    ContrastiveDivergence(**DIGITS_PCD, epochs=1, monitor=None).fit(20, train, rng=0, progress=False)  # warm the JIT
    pcd, pcd_seconds = timed_fit(ContrastiveDivergence(**DIGITS_PCD, epochs=epochs, monitor=None), 20, train)
    pcd_epochs = epochs
    train_ll, test_ll = ll(pcd.model)
    table.add(f"digits: PCD-1 recipe, {epochs} epochs", train_ll, test_ll, pcd_seconds, "batch 20, lr 0.02, momentum 0, wd 1e-3, averaging last 10%",
              None if quick else (-18.0, min(test_ll, -18.0 if pcd_seconds <= 30 else -np.inf), "test >= -18.0 in <= 30 s"))
    epochs = 200 if quick else DIGITS_LONG_PCD_EPOCHS
    long_pcd, seconds = timed_fit(ContrastiveDivergence(**DIGITS_PCD, epochs=epochs, monitor=None), 20, train)
    table.add(f"digits: PCD-1 recipe, {epochs} epochs", *ll(long_pcd.model), seconds, "the same recipe, longer")
    finish_epochs = 3 if quick else DIGITS_FINISH_EPOCHS
    finished, finish_seconds = timed_fit(ExactGradient(**DIGITS_FINISH, epochs=finish_epochs, monitor=None), long_pcd.model, train)
    train_ll, test_ll = ll(finished.model)
    table.add(f"digits: + exact-gradient finish, {finish_epochs} full-batch steps", train_ll, test_ll, seconds + finish_seconds,
              f"lr {DIGITS_FINISH['learning_rate']}, momentum {DIGITS_FINISH['momentum']}, wd {DIGITS_FINISH['weight_decay']}; "
              f"finish alone {finish_seconds:.1f} s", None if quick else (-17.8, test_ll, "test >= -17.8"))

    iterations = 3 if quick else DIGITS_LBFGS_ITERATIONS
    for start, start_seconds, start_epochs in ((pcd, pcd_seconds, pcd_epochs), (long_pcd, seconds, epochs)):
        finished, finish_seconds = timed_fit(ExactGradient(**DIGITS_LBFGS_FINISH, epochs=iterations, monitor=None), start.model, train)
        train_ll, test_ll = ll(finished.model)
        evaluations = int(sum(finished.history["evaluations"]))
        table.add(f"digits: PCD-1 recipe, {start_epochs} epochs + L-BFGS finish, {iterations} iterations", train_ll, test_ll,
                  start_seconds + finish_seconds,
                  f"wd {DIGITS_LBFGS_FINISH['weight_decay']}, {evaluations} exact evaluations; finish alone {finish_seconds:.1f} s",
                  None if quick else (-17.8, test_ll, "test >= -17.8"))

    # --- CD-1, CD-10, PCD-1 and the exact gradient on one wall-clock budget
    budget = 5.0 if quick else 30.0
    cd_options = {key: value for key, value in DIGITS_PCD.items() if key != "persistent"}
    contenders = {
        "CD-1": lambda n: ContrastiveDivergence(**{**cd_options, "k": 1}, epochs=n, monitor=None),
        "CD-10": lambda n: ContrastiveDivergence(**{**cd_options, "k": 10}, epochs=n, monitor=None),
        "PCD-1": lambda n: ContrastiveDivergence(**DIGITS_PCD, epochs=n, monitor=None),
        "exact gradient": lambda n: ExactGradient(**DIGITS_EXACT, epochs=n, monitor=None),
        "exact gradient, L-BFGS": lambda n: ExactGradient(**DIGITS_LBFGS_FINISH, epochs=n, monitor=None),
    }
    for name, make in contenders.items():
        n = epochs_for_budget(make, 20, train, budget, 1 if name.startswith("exact gradient") else 20)
        result, seconds = timed_fit(make(n), 20, train)
        table.add(f"digits: {name}, {budget:.0f} s budget", *ll(result.model), seconds, f"{n} epochs")

    table.add("digits: independent Bernoulli pixels", independent_pixels(train, train), independent_pixels(train, test), 0.0)
    rates = (0.01, 0.05, 0.1)
    n_iter = 10 if quick else 100
    value, rate, seconds = sklearn_best(train, test, 20, rates, n_iter)
    table.add(f"digits: scikit-learn BernoulliRBM, best of lr {rates}", None, value, seconds,
              f"best lr {rate}, {n_iter} iterations, batch 10")


def choose_finish(pcd_epochs_options=(3000, DIGITS_LONG_PCD_EPOCHS), weight_decays=(1e-4, 3e-4, 5e-4, 1e-3), iterations=200):
    """Print the validation curves from which ``DIGITS_LBFGS_FINISH`` was chosen (training data only).

    The training rows are split 80/20 by ``train_test_split(random_state=0)``; the PCD recipe and
    the L-BFGS finish run on the 80%, and the exact log-likelihood of the 20% is printed every
    20 iterations. The test rows are not loaded into this function's decision at all.
    """
    from sklearn.model_selection import train_test_split

    train = load_digits(binarize=True, test_size=0.2, rng=0).train.astype(np.float64)
    fit_rows, validation = train_test_split(train, test_size=0.2, random_state=0)
    for pcd_epochs in pcd_epochs_options:
        pcd, _ = timed_fit(ContrastiveDivergence(**DIGITS_PCD, epochs=pcd_epochs, monitor=None), 20, fit_rows)
        print(f"PCD {pcd_epochs} epochs: validation {exact.log_likelihood(pcd.model, validation):.4f}", flush=True)
        for weight_decay in weight_decays:
            curve = []

            def record(epoch, model, history):
                if epoch % 20 == 0:
                    curve.append(round(exact.log_likelihood(model, validation), 4))

            ExactGradient(method="lbfgs", weight_decay=weight_decay, epochs=iterations, monitor=None).fit(
                pcd.model, fit_rows, callbacks=[record], progress=False)
            print(f"  L-BFGS wd {weight_decay}: validation at iterations 20, 40, ...: {curve}", flush=True)


def bars_rows(table, quick):
    bas = bars_and_stripes(4).astype(np.float64)
    ll = lambda model: exact.log_likelihood(model, bas)
    optimum = -np.log(len(bas))

    epochs = 200 if quick else BAS_EXACT_EPOCHS
    result, seconds = timed_fit(ExactGradient(**BAS_EXACT, epochs=epochs, monitor=None), 16, bas)
    value = ll(result.model)
    table.add(f"bars&stripes 4x4: exact gradient, {epochs} steps", value, None, seconds,
              f"lr 0.5, momentum 0.9; optimum {optimum:.3f}", None if quick else (-3.45, value, ">= -3.45"))

    epochs = 500 if quick else BAS_PCD_EPOCHS
    result, seconds = timed_fit(ContrastiveDivergence(**BAS_PCD, epochs=epochs, monitor=None), 16, bas)
    value = ll(result.model)
    table.add(f"bars&stripes 4x4: PCD-1 recipe, {epochs} epochs", value, None, seconds,
              "100 chains, batch 10, lr 0.05, momentum 0, averaging last 50%", None if quick else (-3.6, value, ">= -3.6"))

    budget = 3.0 if quick else 10.0
    cd_options = {key: value for key, value in BAS_PCD.items() if key not in ("persistent", "n_chains")}
    contenders = {
        "CD-1": lambda n: ContrastiveDivergence(**{**cd_options, "k": 1}, epochs=n, monitor=None),
        "CD-10": lambda n: ContrastiveDivergence(**{**cd_options, "k": 10}, epochs=n, monitor=None),
        "PCD-1": lambda n: ContrastiveDivergence(**BAS_PCD, epochs=n, monitor=None),
        "exact gradient": lambda n: ExactGradient(**BAS_EXACT, epochs=n, monitor=None),
    }
    for name, make in contenders.items():
        n = epochs_for_budget(make, 16, bas, budget, 10)
        result, seconds = timed_fit(make(n), 16, bas)
        table.add(f"bars&stripes 4x4: {name}, {budget:.0f} s budget", ll(result.model), None, seconds, f"{n} epochs")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small budgets (a smoke run, not the figures; no targets)")
    parser.add_argument("--choose-finish", action="store_true", help="print the validation curves behind DIGITS_LBFGS_FINISH")
    options = parser.parse_args(argv)
    if options.choose_finish:
        choose_finish()
        return 0
    load_before = os.getloadavg()
    started = time.perf_counter()
    table = Table()
    digits_rows(table, options.quick)
    bars_rows(table, options.quick)
    print(f"load average (1, 5, 15 min) before: {tuple(round(x, 2) for x in load_before)}, "
          f"after: {tuple(round(x, 2) for x in os.getloadavg())}; {os.cpu_count()} cores; "
          f"total {time.perf_counter() - started:.0f} s{' (--quick: smoke run, targets not checked)' if options.quick else ''}")
    print()
    table.print()
    return 1 if table.missed() else 0


if __name__ == "__main__":
    sys.exit(main())
