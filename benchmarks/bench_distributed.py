#!/usr/bin/env python
"""Work split across Dask worker processes: speed-up and per-task overhead (issue 16).

Run from the repository root (needs the ``distributed`` extra)::

    python benchmarks/bench_distributed.py            # AIS on a 784x500 RBM: in process, 1 and 2 workers
    python benchmarks/bench_distributed.py --quick    # a smaller schedule

Printed as one Markdown report: machine load and thread counts, then for AIS (``n_runs`` runs of
``betas`` equal steps on a random 784x500 RBM, weights N(0, 0.05^2)) and for block Gibbs (64
chains of the same RBM, 2,000 sweeps, the last state kept; a cluster multiplies groups of 16 chains):

* in process on 1 Numba (and BLAS) thread and on 2 (the baseline a user has without a cluster);
* on a ``LocalCluster`` of 1 and of 2 worker processes, one thread each (Numba 1 thread per worker),
  the cluster started and its kernels loaded before timing; the speed-up of 2 workers over 1;
* the overhead per task: the time of the same call with a 2-step schedule (AIS) or a single sweep
  (Gibbs) -- all scheduling, data transfer and gathering, next to no computation -- divided by its
  number of tasks;
* that every result equals the in-process one bit for bit.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# numba is imported in main(), not here: spawned workers import this module, and numba imported at
# its top would fix their thread count before the cluster's environment (NUMBA_NUM_THREADS=1) applies
from distributed import Client, LocalCluster  # noqa: E402

from pgm_energy import RestrictedBoltzmannMachine, ais  # noqa: E402
from pgm_energy.samplers import GibbsSampler  # noqa: E402
from pgm_energy._cluster import BLOCKS_PER_WORKER  # noqa: E402


def _numba_threads():
    import numba

    return numba.get_num_threads()


def timed(function, repeats):
    times, result = [], None
    for _ in range(repeats):
        began = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def _threadpool_limits(n):
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n, user_api="blas")


#: assumed network bandwidth from the client to each worker (the model is sent to every worker once)
BANDWIDTH = 1e9


def predicted_time(compute: float, n_groups: int, workers: int, overhead: float, model_bytes: int) -> float:
    """Seconds of a job of ``compute`` single-core seconds in ``n_groups`` equal groups on ``workers`` workers.

    Blocks: ``min(2 * workers, n_groups)`` (two per worker, as ``run_by_blocks`` cuts them), whole
    groups each; a worker runs ``ceil(blocks / workers)`` of them, each costing its compute plus
    ``overhead``; the model goes to every worker, one after the other, at :data:`BANDWIDTH`.
    """
    blocks = min(BLOCKS_PER_WORKER * workers, n_groups)
    per_block = compute * (-(-n_groups // blocks)) / n_groups
    return -(-blocks // workers) * (per_block + overhead) + workers * model_bytes / BANDWIDTH


def _predictions(sections, rows, per_worker, rbm, n_runs, n_chains):
    """Speed-ups at 8, 64 and 512 workers predicted from this run's 1-worker time and per-task overhead."""
    model_bytes = rbm.weights.nbytes + rbm.visible_bias.nbytes + rbm.hidden_bias.nbytes
    groups = {"AIS": n_runs, "block Gibbs": -(-n_chains // 16)}
    print("\n## Beyond this machine, on paper\n")
    print(f"Model sent once to each worker: {model_bytes / 1e6:.1f} MB (at {BANDWIDTH / 1e9:.0f} GB/s). Per task: "
          "in, the block's streams (AIS: 64 B a run, 8 lanes of uint64; Gibbs: 16 chains x "
          f"({rbm.n_units} B state + 8 B stream)); out, one float64 per AIS run, or the kept draws (n_chains x n_draws x n_units bytes). "
          "Predicted by `predicted_time` from the measured 1-worker time and overhead per task:\n")
    print("| job | pieces | 1 worker (s) | 8 workers | 64 workers | 512 workers |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in sections:
        overhead = float(rows[name][-1][2].split()[0]) / 1000
        one = per_worker[name][1]
        tasks_one = min(groups[name], BLOCKS_PER_WORKER)
        compute = max(one - tasks_one * overhead, 1e-9)
        for scale in (1, 100):
            n_groups = groups[name] * scale
            total = compute * scale
            label = name + ("" if scale == 1 else f" x {scale}")
            pieces = (n_runs if name == "AIS" else n_chains) * scale
            cells = []
            for workers in (8, 64, 512):
                seconds = predicted_time(total, n_groups, workers, overhead, model_bytes)
                cells.append(f"{seconds:.2f} s ({(total + tasks_one * overhead) / seconds:.0f}x)")
            print(f"| {label} | {pieces:,} | {total + tasks_one * overhead:.1f} | " + " | ".join(cells) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    import numba

    n_runs, steps = (100, 200) if options.quick else (100, 1000)
    n_chains, sweeps = 64, (400 if options.quick else 2000)
    rbm = RestrictedBoltzmannMachine.random(784, 500, scale=0.05, rng=0)
    gibbs = GibbsSampler(burn_in=sweeps - 1)
    print("# Work across Dask workers: AIS runs and Gibbs chains of a 784x500 RBM\n")
    print(f"- machine: {os.cpu_count()} CPUs; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())} before")
    print(f"- AIS: {n_runs} runs x {steps} equal steps; block Gibbs: {n_chains} chains x {sweeps} sweeps "
          f"(float64, the last state kept); median of {options.repeats} calls after one untimed call\n")

    def ais_call(client=None, betas=steps):
        return ais.log_partition_function(rbm, n_runs=n_runs, betas=betas, base="uniform", rng=0, client=client)

    def chains_call(client=None, burn_in=sweeps - 1):
        sampler = gibbs if burn_in == sweeps - 1 else GibbsSampler(burn_in=burn_in)
        return sampler.sample(rbm, 1, n_chains=n_chains, keep="last", rng=0, progress=False, client=client)

    sections = {
        "AIS": dict(call=ais_call, tasks=lambda workers: min(n_runs, BLOCKS_PER_WORKER * workers),
                    light=lambda client: ais_call(client, betas=2), bits=lambda result: result.log_weights),
        "block Gibbs": dict(call=chains_call, tasks=lambda workers: min(-(-n_chains // 16), BLOCKS_PER_WORKER * workers),
                            light=lambda client: chains_call(client, burn_in=0), bits=lambda result: result.states),
    }
    rows = {name: [] for name in sections}
    reference = {}
    for threads in (1, 2):
        numba.set_num_threads(threads)
        with _threadpool_limits(threads):
            for name, section in sections.items():
                section["call"]()
                seconds, result = timed(section["call"], options.repeats)
                reference.setdefault(name, section["bits"](result))
                rows[name].append((f"in process, {threads} Numba and BLAS thread(s)", seconds, "—",
                                   bool(np.array_equal(section["bits"](result), reference[name]))))
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    per_worker = {name: {} for name in sections}
    for workers in (1, 2):
        env = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0", env=env) as cluster, \
                Client(cluster, set_as_default=False) as client:
            worker_threads = sorted(set(client.run(_numba_threads).values()))
            for name, section in sections.items():
                section["call"](client)  # workers load the kernels
                seconds, result = timed(lambda: section["call"](client), options.repeats)
                tasks = section["tasks"](workers)
                overhead, _ = timed(lambda: section["light"](client), options.repeats)
                per_worker[name][workers] = seconds
                rows[name].append((f"LocalCluster, {workers} worker process(es), Numba threads {worker_threads}",
                                   seconds, f"{1000 * overhead / tasks:.1f} ms ({tasks} tasks)",
                                   bool(np.array_equal(section["bits"](result), reference[name]))))
    overheads = {}
    for name in sections:
        print(f"\n## {name}\n")
        print("| where | time (s) | overhead per task | same bits as in process |")
        print("|---|---:|---|---|")
        for where, seconds, overhead, same in rows[name]:
            print(f"| {where} | {seconds:.2f} | {overhead} | {same} |")
        print(f"\nSpeed-up of 2 workers over 1: {per_worker[name][1] / per_worker[name][2]:.2f}x (goal >= 1.7x).")
    _predictions(sections, rows, per_worker, rbm, n_runs, n_chains)
    print(f"\nLoad average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
