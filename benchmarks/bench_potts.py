#!/usr/bin/env python
"""Potts machines: Gibbs sweeps on a lattice against the binary kernel and the pgmpy drop-in, side by side.

Run from the repository root::

    python benchmarks/bench_potts.py                  # 256x256, q = 3 and 10, 4 chains
    python benchmarks/bench_potts.py --side 128 --sweeps 50 --threads 1

Model: a periodic ``side x side`` lattice of q-state variables, the ferromagnetic Potts coupling
``C_ij = J I_q`` (J = 0.5) and random fields N(0, 0.1²) (seed 0), at T = 1. Measured, each the best
of ``--repeats`` calls after a warm-up call (compilation excluded), as variable updates per second:

* ours: ``GibbsSampler(burn_in=sweeps - 1).sample(potts, 1, n_chains=C, keep="last")`` (sequential scan);
* the binary kernel on the same lattice (an Ising ``BoltzmannMachine``, default scan, same sweeps and chains);
* the pgmpy drop-in ``pgm_energy.interop.pgmpy.GibbsSampling`` on ``potts.to_markov_network()`` of a
  ``--pgmpy-side`` lattice (one chain, its own kernel for any pgmpy network);
* pgmpy's own ``GibbsSampling`` cannot be built for these networks (it tabulates every variable's
  conditional over all joint states of the others); it is timed on a 3x3 lattice, q = 3, for the record.
"""

from __future__ import annotations

import os

os.environ.setdefault("TQDM_DISABLE", "1")

import argparse
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")


def lattice_edges(side):
    index = np.arange(side * side).reshape(side, side)
    right = np.stack([index.ravel(), np.roll(index, -1, 1).ravel()], axis=1)
    down = np.stack([index.ravel(), np.roll(index, -1, 0).ravel()], axis=1)
    return np.concatenate([right, down])


def potts_lattice(side, q, coupling=0.5, seed=0):
    from pgm_energy import PottsMachine

    g = np.random.default_rng(seed)
    edges = lattice_edges(side)
    block = coupling * np.eye(q)
    couplings = {(int(i), int(j)): block for i, j in edges}
    return PottsMachine([q] * side * side, g.normal(0, 0.1, (side * side, q)), couplings)


def ising_lattice(side, coupling=0.5):
    import scipy.sparse as sp

    from pgm_energy import BoltzmannMachine

    edges = lattice_edges(side)
    n = side * side
    w = sp.coo_array((np.full(edges.shape[0], coupling), (edges[:, 0], edges[:, 1])), shape=(n, n))
    return BoltzmannMachine.from_ising(np.zeros(n), (w + w.T).tocsr())


def best_rate(run, updates, repeats):
    run()  # compile or load the kernels
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return updates / best, best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=256)
    parser.add_argument("--states", default="3,10", help="comma-separated q")
    parser.add_argument("--sweeps", type=int, default=20)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pgmpy-side", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None, help="Numba threads (default: all)")
    args = parser.parse_args(argv)
    import numba

    if args.threads:
        numba.set_num_threads(args.threads)
    from pgm_energy.interop.pgmpy import GibbsSampling
    from pgm_energy.samplers import GibbsSampler

    n = args.side * args.side
    print(f"# Potts Gibbs sweeps: {args.side}x{args.side} periodic lattice, {args.sweeps} sweeps, {args.chains} chains, "
          f"Numba threads {numba.get_num_threads()}, load {os.getloadavg()[0]:.2f}\n")
    print("| q | ours (Potts kernel) | binary kernel, same lattice | pgmpy drop-in, "
          f"{args.pgmpy_side}x{args.pgmpy_side}, 1 chain | ours / binary |")
    print("|---|---|---|---|---|")
    ising = ising_lattice(args.side)
    sampler = GibbsSampler(burn_in=args.sweeps - 1)
    binary_rate, _ = best_rate(
        lambda: sampler.sample(ising, 1, n_chains=args.chains, keep="last", rng=0, progress=False),
        n * args.sweeps * args.chains, args.repeats)
    for q in (int(v) for v in args.states.split(",")):
        potts = potts_lattice(args.side, q)
        ours_rate, _ = best_rate(
            lambda: sampler.sample(potts, 1, n_chains=args.chains, keep="last", rng=0, progress=False),
            n * args.sweeps * args.chains, args.repeats)
        small = potts_lattice(args.pgmpy_side, q)
        network = small.to_markov_network()
        dropin = GibbsSampling(network)
        rows = 20
        dropin_rate, _ = best_rate(lambda: dropin.sample(size=rows, seed=0), small.n_variables * (rows - 1),
                                   args.repeats)
        print(f"| {q} | {ours_rate:.3g} updates/s | {binary_rate:.3g} | {dropin_rate:.3g} | "
              f"{ours_rate / binary_rate:.2f} |", flush=True)
    try:
        from pgmpy.sampling import GibbsSampling as PgmpyGibbs

        tiny = potts_lattice(3, 3).to_markov_network()
        started = time.perf_counter()
        own = PgmpyGibbs(tiny)
        built = time.perf_counter() - started
        started = time.perf_counter()
        own.sample(size=50, seed=0)
        sampled = time.perf_counter() - started
        print(f"\npgmpy's own GibbsSampling, 3x3 lattice, q = 3: built in {built:.2f} s, "
              f"{9 * 49 / sampled:.3g} updates/s")
    except Exception as error:  # noqa: BLE001 - the record of a failure is the result here
        print(f"\npgmpy's own GibbsSampling, 3x3 lattice, q = 3: {type(error).__name__}: {error}")


if __name__ == "__main__":
    main()
