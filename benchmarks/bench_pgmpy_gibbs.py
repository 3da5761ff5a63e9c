#!/usr/bin/env python
"""pgm_energy's GibbsSampling drop-in against ``pgmpy.sampling.GibbsSampling``, side by side in one run.

Run from the repository root::

    python benchmarks/bench_pgmpy_gibbs.py                 # 4x4 grid both ways, 100x100 grid ours
    python benchmarks/bench_pgmpy_gibbs.py --samples 100,1000,10000  # rows drawn on the 4x4 grid
    python benchmarks/bench_pgmpy_gibbs.py --threads 1     # Numba and BLAS thread counts

Model: an L×L grid ``DiscreteMarkovNetwork`` of binary variables with one pairwise factor per
edge, entries exp(N(0, 0.5²)) (seed 0). For the 4×4 grid both samplers are built from the same
network and draw ``--samples`` rows (several sizes, one construction) (each row after one sweep over the 16 variables):

* construction: ``GibbsSampling(model)`` (pgmpy: once, it takes seconds; ours: median of
  ``--repeats``);
* sampling: ``sample(size=N, seed=...)`` (pgmpy: once; ours: median of ``--repeats`` calls after
  one warm-up call that loads/compiles the Numba kernels, whose time is reported separately);
* total = construction + sampling; the ratios are pgmpy / ours.

Then ours alone on a 100×100 grid (pgmpy cannot build a 5×5 one: its constructor tabulates
every variable's conditional over all 2^(n−1) states of the others). The drop-in runs one chain
on one thread whatever the thread counts; they are printed for the record.
"""

from __future__ import annotations

import os

os.environ.setdefault("TQDM_DISABLE", "1")  # pgmpy's sampling bar ignores its own config

import argparse
import platform
import statistics
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")
warnings.filterwarnings("ignore", message=r".*inplace keyword in DataFrame\.drop.*")


def grid_network(side, seed=0):
    from pgmpy.factors.discrete import DiscreteFactor
    from pgmpy.models import DiscreteMarkovNetwork

    rng = np.random.default_rng(seed)
    name = [[f"x{i}_{j}" for j in range(side)] for i in range(side)]
    edges = [(name[i][j], name[i][j + 1]) for i in range(side) for j in range(side - 1)]
    edges += [(name[i][j], name[i + 1][j]) for i in range(side - 1) for j in range(side)]
    network = DiscreteMarkovNetwork(edges, latents=[])
    network.add_factors(*[DiscreteFactor([u, v], [2, 2], np.exp(rng.normal(0.0, 0.5, 4))) for u, v in edges])
    return network


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def median_time(function, repeats):
    return statistics.median(timed(function)[0] for _ in range(repeats))


def thread_counts():
    import numba

    blas = "unknown (threadpoolctl not installed)"
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(f"{i['internal_api']} {i['num_threads']}" for i in threadpool_info()
                         if i.get("user_api") == "blas") or "none loaded"
    except ImportError:
        pass
    return numba.get_num_threads(), blas


def fmt_seconds(seconds):
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", default="100,1000",
                        help="rows drawn on the 4x4 grid, comma-separated (default 100,1000)")
    parser.add_argument("--side", type=int, default=4, help="grid side for the comparison with pgmpy (default 4)")
    parser.add_argument("--big-side", type=int, default=100, help="grid side for ours alone (default 100)")
    parser.add_argument("--big-samples", type=int, default=1000, help="rows drawn on the big grid (default 1000)")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats of our calls (median)")
    parser.add_argument("--threads", type=int, default=None, help="Numba threads (and BLAS threads)")
    parser.add_argument("--no-pgmpy", action="store_true", help="skip pgmpy (ours only)")
    args = parser.parse_args(argv)

    if args.threads is not None:
        import numba

        numba.set_num_threads(args.threads)
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(args.threads, user_api="blas")
        except ImportError:
            pass

    import pgmpy
    from pgmpy.sampling import GibbsSampling as PgmpyGibbs

    from pgm_energy.interop.pgmpy import GibbsSampling

    side = args.side
    sizes = [int(x) for x in str(args.samples).split(",")]
    n_vars = side * side
    network = grid_network(side)
    print(f"building the {side}x{side} and {args.big_side}x{args.big_side} grids ...", file=sys.stderr)
    big = grid_network(args.big_side)

    # ours on the small grid
    warm_build, ours = timed(lambda: GibbsSampling(network))
    jit, _ = timed(lambda: ours.sample(size=max(sizes), seed=0))  # loads (or compiles) the kernels
    ours_build = median_time(lambda: GibbsSampling(network), args.repeats)
    if not args.no_pgmpy:
        print(f"pgmpy: building GibbsSampling on the {side}x{side} grid (seconds) ...", file=sys.stderr)
        pgmpy_build, theirs = timed(lambda: PgmpyGibbs(network))

    rows, gaps, ratios = [], [], []
    label0 = f"{side}×{side} grid"
    if not args.no_pgmpy:
        rows.append((f"{label0}: construction", fmt_seconds(pgmpy_build), fmt_seconds(ours_build),
                     f"{pgmpy_build / ours_build:,.0f}×"))
    else:
        rows.append((f"{label0}: construction", "–", fmt_seconds(ours_build), "–"))
    for n_rows in sizes:
        label = f"{side}×{side} grid, {n_rows} rows"
        ours_sample = median_time(lambda: ours.sample(size=n_rows, seed=1), args.repeats)
        ours_frame = ours.sample(size=n_rows, seed=2)
        ours_total = ours_build + ours_sample
        sweeps = n_rows - 1  # row 0 is the start state
        site_rate_ours = sweeps * n_vars / ours_sample
        if args.no_pgmpy:
            rows.append((f"{label}: sampling", "–", fmt_seconds(ours_sample), "–"))
            continue
        print(f"pgmpy: sampling {n_rows} rows ...", file=sys.stderr)
        state = np.random.get_state()
        pgmpy_sample, theirs_frame = timed(lambda: theirs.sample(size=n_rows, seed=0))
        np.random.set_state(state)
        assert list(theirs_frame.columns) == list(ours_frame.columns)
        assert theirs_frame.shape == ours_frame.shape
        assert list(theirs_frame.dtypes) == list(ours_frame.dtypes)
        gaps.append(float(np.max(np.abs(theirs_frame.to_numpy().mean(0) - ours_frame.to_numpy().mean(0)))))
        pgmpy_total = pgmpy_build + pgmpy_sample
        site_rate_pgmpy = sweeps * n_vars / pgmpy_sample
        ratios.append(pgmpy_total / ours_total)
        rows.append((f"{label}: sampling", fmt_seconds(pgmpy_sample), fmt_seconds(ours_sample),
                     f"{pgmpy_sample / ours_sample:,.0f}×"))
        rows.append((f"{label}: construction + sampling", fmt_seconds(pgmpy_total), fmt_seconds(ours_total),
                     f"**{pgmpy_total / ours_total:,.0f}×**"))
        rows.append((f"{label}: site updates/s (sampling only)", f"{site_rate_pgmpy:.3g}", f"{site_rate_ours:.3g}",
                     f"{site_rate_ours / site_rate_pgmpy:,.0f}×"))

    # ours alone on the big grid
    big_side, big_rows = args.big_side, args.big_samples
    print(f"ours: {big_side}x{big_side} grid ...", file=sys.stderr)
    big_build, big_sampler = timed(lambda: GibbsSampling(big))
    big_sample = median_time(lambda: big_sampler.sample(size=big_rows, seed=3), max(1, args.repeats // 3))
    big_rate = (big_rows - 1) * big_side * big_side / big_sample
    big_label = f"{big_side}×{big_side} grid ({big_side * big_side:,} variables), {big_rows} rows"
    rows.append((f"{big_label}: construction", "cannot build 5×5", fmt_seconds(big_build), "–"))
    rows.append((f"{big_label}: sampling", "–", fmt_seconds(big_sample), "–"))
    rows.append((f"{big_label}: site updates/s", "–", f"{big_rate:.3g}", "–"))

    numba_threads, blas = thread_counts()
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    print("## pgmpy GibbsSampling vs pgm_energy.interop.pgmpy.GibbsSampling\n")
    print(f"- machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {', '.join(f'{x:.2f}' for x in load)}")
    print(f"- software: Python {platform.python_version()}, NumPy {np.__version__}, pgmpy {pgmpy.__version__}")
    print(f"- threads: Numba {numba_threads}, BLAS {blas}; the drop-in runs one chain on one thread, "
          "pgmpy is single-threaded Python")
    print(f"- ours: median of {args.repeats} calls after a warm-up; first call in this process "
          f"(kernel load/compile + sampling) {fmt_seconds(jit)}, first construction {fmt_seconds(warm_build)}; "
          "pgmpy: one call each")
    if not args.no_pgmpy:
        print("- sanity: same columns, dtypes and shape; largest gap between the two samplers' "
              f"per-variable means: {', '.join(f'{g:.3f}' for g in gaps)} (rows: {args.samples})")
    print()
    print("| case | pgmpy | pgm_energy | pgmpy / ours |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    if not args.no_pgmpy:
        verdicts = ", ".join(f"{n} rows: {r:,.0f}× ({'met' if r >= 1e4 else 'NOT met'})" for n, r in zip(sizes, ratios))
        print(f"\nTarget ≥ 10^4× faster including construction: {verdicts}.")


if __name__ == "__main__":
    main()
