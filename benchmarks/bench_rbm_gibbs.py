#!/usr/bin/env python
"""RBM block Gibbs: pgm_energy against its two matrix products alone and a NumPy reference.

Run from the repository root::

    python benchmarks/bench_rbm_gibbs.py                  # 784x500, 100 chains, BLAS threads 1 and 2
    python benchmarks/bench_rbm_gibbs.py --threads 1      # one BLAS thread only
    python benchmarks/bench_rbm_gibbs.py --sweeps 100 --rounds 9 --json out.json
    python benchmarks/bench_rbm_gibbs.py --chains 4,7,15,100 --dtypes float32   # small chain counts

One sweep = sample all hidden units given the visible ones, then all visible units
given the hidden ones (2 * 100 * 784 * 500 multiply-adds). Measured per BLAS thread
count (threadpoolctl), in rounds that interleave the three workloads so that their
ratios are taken under the same machine load; figures are medians over the rounds:

* ``2 matmuls``: ``np.matmul(V, W, out=...)`` and ``np.matmul(H, W.T, out=...)`` on the
  same preallocated buffers: the bound of any block Gibbs step that uses BLAS;
* ``pgm_energy``: ``pgm_energy.samplers._block.sample_rbm`` (the RBM path of
  ``GibbsSampler``), every sweep recorded, setup excluded (``info["seconds"]["sampling"]``);
* ``NumPy``: preallocated matmul + bias + ``scipy.special.expit`` + ``Generator.random``
  + compare, the usual vectorised implementation.

Also checks that the same ``rng`` gives identical samples under every BLAS thread count.
Requires threadpoolctl. Prints a Markdown report on stdout.
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
    sys.exit("bench_rbm_gibbs.py needs threadpoolctl: pip install threadpoolctl")

from scipy.special import expit

import numba

from pgm_energy import RestrictedBoltzmannMachine
from pgm_energy.samplers._block import sample_rbm


def _model(n_visible, n_hidden, scale):
    rng = np.random.default_rng(2024)
    return RestrictedBoltzmannMachine(
        rng.normal(0.0, scale, (n_visible, n_hidden)),
        rng.normal(0.0, 0.5, n_visible),
        rng.normal(0.0, 0.5, n_hidden),
    )


def _time_matmuls(rbm, n_chains, sweeps, dtype):
    weights = np.ascontiguousarray(rbm.weights, dtype=dtype)
    weights_t = np.ascontiguousarray(weights.T)
    rng = np.random.default_rng(0)
    visible = rng.integers(0, 2, (n_chains, rbm.n_visible)).astype(dtype)
    hidden = rng.integers(0, 2, (n_chains, rbm.n_hidden)).astype(dtype)
    hidden_pre = np.empty_like(hidden)
    visible_pre = np.empty_like(visible)
    start = time.perf_counter()
    for _ in range(sweeps):
        np.matmul(visible, weights, out=hidden_pre)
        np.matmul(hidden, weights_t, out=visible_pre)
    return (time.perf_counter() - start) / sweeps


def _time_numpy(rbm, n_chains, sweeps, dtype):
    weights = np.ascontiguousarray(rbm.weights, dtype=dtype)
    weights_t = np.ascontiguousarray(weights.T)
    b = rbm.visible_bias.astype(dtype)
    c = rbm.hidden_bias.astype(dtype)
    rng = np.random.default_rng(0)
    visible = rng.integers(0, 2, (n_chains, rbm.n_visible)).astype(dtype)
    hidden = np.empty((n_chains, rbm.n_hidden), dtype)
    hidden_p = np.empty_like(hidden)
    visible_p = np.empty_like(visible)
    hidden_u = np.empty_like(hidden)
    visible_u = np.empty_like(visible)
    hidden_bool = np.empty(hidden.shape, bool)
    visible_bool = np.empty(visible.shape, bool)
    start = time.perf_counter()
    for _ in range(sweeps):
        np.matmul(visible, weights, out=hidden_p)
        hidden_p += c
        expit(hidden_p, out=hidden_p)
        rng.random(out=hidden_u, dtype=dtype)
        np.less(hidden_u, hidden_p, out=hidden_bool)
        hidden[...] = hidden_bool
        np.matmul(hidden, weights_t, out=visible_p)
        visible_p += b
        expit(visible_p, out=visible_p)
        rng.random(out=visible_u, dtype=dtype)
        np.less(visible_u, visible_p, out=visible_bool)
        visible[...] = visible_bool
    return (time.perf_counter() - start) / sweeps


def _time_ours(rbm, n_chains, sweeps, dtype):
    _, info = sample_rbm(rbm, sweeps, n_chains=n_chains, rng=1, dtype=dtype)
    return info["seconds"]["per_sweep"]


def _same_across_threads(rbm, n_chains, sweeps, dtype, thread_counts):
    results = []
    for threads in thread_counts:
        with threadpool_limits(threads, user_api="blas"):
            states, _ = sample_rbm(rbm, sweeps, n_chains=n_chains, rng=7, dtype=dtype)
        results.append(states)
    return all(np.array_equal(results[0], other) for other in results[1:])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visible", type=int, default=784)
    parser.add_argument("--hidden", type=int, default=500)
    parser.add_argument("--chains", default="100", help="chain counts, comma separated")
    parser.add_argument("--scale", type=float, default=0.05, help="standard deviation of the weights")
    parser.add_argument("--sweeps", type=int, default=60, help="sweeps per timed run")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds; medians are reported")
    parser.add_argument("--threads", default="1,2", help="BLAS thread counts, comma separated")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--json", help="also write the raw numbers here")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    thread_counts = [int(t) for t in args.threads.split(",")]
    dtypes = args.dtypes.split(",")
    chain_counts = [int(c) for c in args.chains.split(",")]
    rbm = _model(args.visible, args.hidden, args.scale)

    # Warm-up: compile (or load from cache) both kernel specialisations.
    for dtype in dtypes:
        sample_rbm(rbm, 2, n_chains=5, rng=0, dtype=dtype)

    rows = []
    raw = {}
    for threads in thread_counts:
        with threadpool_limits(threads, user_api="blas"):
            for dtype in dtypes:
                for chains in chain_counts:
                    updates = chains * (args.visible + args.hidden)
                    flops = 2 * 2 * chains * args.visible * args.hidden
                    # fewer chains, more sweeps: each timed run does about the same work
                    sweeps = max(args.sweeps, args.sweeps * 100 // chains)
                    times = {"2 matmuls": [], "pgm_energy": [], "NumPy": []}
                    for _ in range(args.rounds):
                        times["2 matmuls"].append(_time_matmuls(rbm, chains, sweeps, dtype))
                        times["pgm_energy"].append(_time_ours(rbm, chains, sweeps, dtype))
                        times["NumPy"].append(_time_numpy(rbm, chains, sweeps, dtype))
                    raw[f"{threads}:{dtype}:{chains}"] = times
                    gemm = statistics.median(times["2 matmuls"])
                    for name, values in times.items():
                        per_sweep = statistics.median(values)
                        rows.append((threads, dtype, chains, name, per_sweep, updates / per_sweep, per_sweep / gemm,
                                     flops / per_sweep / 1e9))
                print(f"done: {threads} BLAS thread(s), {dtype}", file=sys.stderr)
    identical = {dtype: _same_across_threads(rbm, chain_counts[-1], 20, dtype, thread_counts) for dtype in dtypes}

    blas = [f"{i.get('internal_api')} {i.get('version')}" for i in threadpool_info() if i.get("user_api") == "blas"]
    print(f"# RBM block Gibbs, {args.visible}x{args.hidden}, {args.chains} chains\n")
    print(f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs; "
          f"load average before: {', '.join(f'{x:.2f}' for x in load_before)}")
    print(f"- numpy {np.__version__}, numba {numba.__version__}, BLAS: {', '.join(blas)}")
    print(f"- weights N(0, {args.scale}^2), biases N(0, 0.25); {args.sweeps} sweeps per run (times 100 / chains "
          f"below 100 chains), median of {args.rounds} interleaved rounds; the fused Numba step is serial (1 thread)")
    print(f"- same rng, identical samples under BLAS threads {args.threads} ({chain_counts[-1]} chains): "
          + ", ".join(f"{d}: {'yes' if ok else 'NO'}" for d, ok in identical.items()))
    print(f"- load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print("| BLAS threads | dtype | chains | method | ms / sweep | unit updates / s | time / 2 matmuls "
          "| GFLOP/s (matmul work) |")
    print("|---:|---|---:|---|---:|---:|---:|---:|")
    for threads, dtype, chains, name, per_sweep, rate, ratio, gflops in rows:
        print(f"| {threads} | {dtype} | {chains} | {name} | {per_sweep * 1e3:.3f} | {rate:.3g} | {ratio:.2f}x "
              f"| {gflops:.1f} |")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"args": vars(args), "times": raw, "identical": identical}, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
