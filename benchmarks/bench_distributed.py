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
    for name in sections:
        print(f"\n## {name}\n")
        print("| where | time (s) | overhead per task | same bits as in process |")
        print("|---|---:|---|---|")
        for where, seconds, overhead, same in rows[name]:
            print(f"| {where} | {seconds:.2f} | {overhead} | {same} |")
        print(f"\nSpeed-up of 2 workers over 1: {per_worker[name][1] / per_worker[name][2]:.2f}x (goal >= 1.7x).")
    print(f"\nLoad average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
