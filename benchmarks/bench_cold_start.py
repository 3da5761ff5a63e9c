#!/usr/bin/env python
"""First calls in fresh processes: what a new install (cold Numba cache) and a warm one pay.

Run from the repository root::

    python benchmarks/bench_cold_start.py                      # every path, cold then warm, 1 repeat
    python benchmarks/bench_cold_start.py --only gibbs_seq_4 demo --repeats 3
    python benchmarks/bench_cold_start.py --json out.json --top 8

For each path (a short script of public calls, below) a fresh interpreter runs it with
``NUMBA_CACHE_DIR`` pointed at a new empty folder (cold), then a second fresh interpreter
runs it again on that folder (warm). Each child records, through Numba's event API
(``numba:compile``), every dispatcher it compiles with its signature and its compile time
(inclusive of the callees it compiles, and exclusive), and times every on-disk cache
lookup (``Cache.load_overload``). The parent prints per path: cold wall, warm wall,
compile seconds, signatures compiled and loaded, the dispatchers that cost most, and
the package's kernels compiled for more than one signature in one path.
With ``--repeats N`` the walls are medians of N (each repeat a new empty cache).

Wall = import of pgm_energy and the path's calls (the interpreter's own start is not
included; it is the same for every path). Thread counts are those of the environment
(``NUMBA_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``); the report prints them and the load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

#: a lattice machine of the issue (256x256 periodic ferromagnet, sparse) built without extra packages
_LATTICE = """
import numpy as np, scipy.sparse as sp
from pgm_energy import BoltzmannMachine
def lattice(side):
    index = np.arange(side * side).reshape(side, side)
    rows = np.concatenate([index.ravel(), index.ravel()])
    cols = np.concatenate([np.roll(index, -1, 1).ravel(), np.roll(index, -1, 0).ravel()])
    n = side * side
    w = sp.coo_array((np.ones(rows.shape[0]), (rows, cols)), shape=(n, n))
    return BoltzmannMachine.from_ising(np.zeros(n), (w + w.T).tocsr())
"""

_SMALL_MODELS = """
import numpy as np
from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine
g = np.random.default_rng(0)
w = np.triu(g.normal(0, 0.5, (20, 20)), 1)
bm = BoltzmannMachine(w + w.T, g.normal(0, 0.3, 20))
rbm = RestrictedBoltzmannMachine(g.normal(0, 0.1, (64, 20)), np.zeros(64), np.zeros(20))
"""

#: name -> (setup, timed statement): the first call a user makes on that path
PATHS = {
    "gibbs_default_4": (_LATTICE, "from pgm_energy.samplers import GibbsSampler\n"
                        "GibbsSampler().sample(lattice(256), 300, n_chains=4, rng=0, progress=False)"),
    "gibbs_seq_4": (_LATTICE, "from pgm_energy.samplers import GibbsSampler\n"
                    "GibbsSampler(scan='sequential').sample(lattice(256), 300, n_chains=4, rng=0, progress=False)"),
    "gibbs_seq_1": (_LATTICE, "from pgm_energy.samplers import GibbsSampler\n"
                    "GibbsSampler(scan='sequential').sample(lattice(256), 300, n_chains=1, rng=0, progress=False)"),
    "gibbs_chrom_4": (_LATTICE, "from pgm_energy.samplers import GibbsSampler\n"
                      "GibbsSampler(scan='chromatic').sample(lattice(256), 300, n_chains=4, rng=0, progress=False)"),
    "gibbs_chrom_1": (_LATTICE, "from pgm_energy.samplers import GibbsSampler\n"
                      "GibbsSampler(scan='chromatic').sample(lattice(256), 300, n_chains=1, rng=0, progress=False)"),
    "gibbs_small_bm": (_SMALL_MODELS, "from pgm_energy.samplers import GibbsSampler\n"
                       "GibbsSampler().sample(bm, 1000, rng=0, progress=False)"),
    "rbm_block": (_SMALL_MODELS, "from pgm_energy.samplers import GibbsSampler\n"
                  "GibbsSampler().sample(rbm, 1000, rng=0, progress=False)"),
    "annealing": (_LATTICE, "from pgm_energy.samplers import SimulatedAnnealingSampler\n"
                  "SimulatedAnnealingSampler().sample(lattice(64), rng=0, progress=False)"),
    "tempering": (_SMALL_MODELS, "from pgm_energy.samplers import ParallelTemperingSampler\n"
                  "ParallelTemperingSampler([1.0, 1.5, 2.25]).sample(bm, 200, rng=0, progress=False)"),
    "cd_digits": ("from pgm_energy import datasets\nx = datasets.load_digits()[0]\n",
                  "from pgm_energy.learning import ContrastiveDivergence\n"
                  "ContrastiveDivergence(epochs=5).fit(20, x, rng=0, progress=False)"),
    "cd_default_digits": ("from pgm_energy.datasets import load_digits\n"
                          "x = load_digits(binarize=True, test_size=0.2, rng=0).train\n",
                          "from pgm_energy.learning import ContrastiveDivergence\n"
                          "ContrastiveDivergence(epochs=1).fit(20, x, rng=0, progress=False)"),
    "pcd_digits": ("from pgm_energy import datasets\nx = datasets.load_digits()[0]\n",
                   "from pgm_energy.learning import ContrastiveDivergence\n"
                   "ContrastiveDivergence(epochs=5, persistent=True).fit(20, x, rng=0, progress=False)"),
    "boltzmann_learning": (_SMALL_MODELS + "data = (g.random((200, 10)) < 0.5).astype(float)\n",
                           "from pgm_energy.learning import BoltzmannLearning\n"
                           "BoltzmannLearning(epochs=3).fit(BoltzmannMachine(np.zeros((14, 14)), np.zeros(14), "
                           "visible=np.arange(14) < 10), data, rng=0, progress=False)"),
    "exact_logz_bm": (_SMALL_MODELS, "from pgm_energy import exact\nexact.log_partition_function(bm)"),
    "exact_logz_rbm": (_SMALL_MODELS, "from pgm_energy import exact\nexact.log_partition_function(rbm)"),
    "ais": (_SMALL_MODELS, "from pgm_energy import ais\nais.log_partition_function(rbm, rng=0)"),
    "demo": ("import pgm_energy.cli as cli, tempfile\nd = tempfile.mkdtemp()\n",
             "assert cli.main(['demo', '--output-dir', d, '--no-progress']) == 0"),
}

_CHILD = r'''
import json, sys, time
began = time.perf_counter()
import numba
from numba.core import caching, event

compiles, stack, loads = [], [], []

class Recorder(event.Listener):
    def on_start(self, ev):
        stack.append([time.perf_counter(), 0.0])
    def on_end(self, ev):
        start, inner = stack.pop()
        spent = time.perf_counter() - start
        if stack:
            stack[-1][1] += spent
        d = ev.data["dispatcher"]
        compiles.append({"name": d.py_func.__module__ + "." + d.py_func.__qualname__,
                         "args": str(tuple(ev.data["args"]))[:300], "inclusive": spent,
                         "exclusive": spent - inner})

event.register("numba:compile", Recorder())
original = caching.Cache.load_overload
def load_overload(self, sig, target_context):
    start = time.perf_counter()
    result = original(self, sig, target_context)
    loads.append({"name": self._name, "hit": result is not None, "seconds": time.perf_counter() - start})
    return result
caching.Cache.load_overload = load_overload

import pgm_energy
imported = time.perf_counter()
exec(compile(SETUP, "<setup>", "exec"))
ready = time.perf_counter()
exec(compile(STATEMENT, "<statement>", "exec"))
done = time.perf_counter()
json.dump({"import": imported - began, "setup": ready - imported, "call": done - ready, "wall": done - began,
           "compiles": compiles, "loads": loads, "threads": numba.get_num_threads()}, sys.stdout)
'''


def run_child(name: str, cache_dir: str) -> dict:
    """Run path ``name`` in a fresh interpreter with ``NUMBA_CACHE_DIR=cache_dir``; its JSON record."""
    setup, statement = PATHS[name]
    source = f"SETUP = {textwrap.dedent(setup)!r}\nSTATEMENT = {statement!r}\n" + _CHILD
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir, MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, "-c", source], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout[done.stdout.index('{"import"'):])


def summarise(record: dict, top: int) -> dict:
    """Totals and the ``top`` dispatchers by exclusive compile time of one child's record."""
    by_name: dict = {}
    for item in record["compiles"]:
        entry = by_name.setdefault(item["name"], {"seconds": 0.0, "signatures": 0})
        entry["seconds"] += item["exclusive"]
        entry["signatures"] += 1
    ranked = sorted(by_name.items(), key=lambda kv: -kv[1]["seconds"])[:top]
    hits = [load for load in record["loads"] if load["hit"]]
    repeated = {name: entry["signatures"] for name, entry in by_name.items()
                if entry["signatures"] > 1 and ".ol_" not in name and "<locals>.impl" not in name}
    return {
        "wall": record["wall"], "import": record["import"], "call": record["call"], "repeated": repeated,
        "compile_seconds": sum(item["exclusive"] for item in record["compiles"]), "signatures_compiled": len(record["compiles"]),
        "dispatchers_compiled": len(by_name), "signatures_loaded": len(hits),
        "load_seconds": sum(load["seconds"] for load in hits), "top": ranked, "threads": record["threads"],
    }


def measure(name: str, repeats: int, top: int) -> dict:
    """Cold then warm runs of path ``name``, ``repeats`` times each on a new cache."""
    cold, warm = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="numba-cold-") as cache_dir:
            cold.append(summarise(run_child(name, cache_dir), top))
            warm.append(summarise(run_child(name, cache_dir), top))
    return {"cold": cold, "warm": warm}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(PATHS), default=list(PATHS))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--top", type=int, default=5, help="dispatchers listed per path")
    parser.add_argument("--json", default=None, help="also write the full results here")
    args = parser.parse_args(argv)
    results = {}
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; NUMBA_NUM_THREADS="
          f"{os.environ.get('NUMBA_NUM_THREADS', '(unset)')}, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}\n")
    print("| path | cold wall s | compile s | signatures compiled (dispatchers) | warm wall s | signatures loaded "
          "(load s) | top dispatchers, exclusive compile s (signatures) |")
    print("|---|---|---|---|---|---|---|")
    for name in args.only:
        print(f"running {name}", file=sys.stderr, flush=True)
        try:
            result = results[name] = measure(name, args.repeats, args.top)
        except RuntimeError as error:
            print(f"| {name} | failed: {str(error).splitlines()[-1]} |", flush=True)
            continue
        cold, warm = result["cold"], result["warm"]
        first = cold[0]
        tops = "; ".join(f"{n.split('.', 1)[1]} {e['seconds']:.1f} ({e['signatures']})" for n, e in first["top"])
        print(f"| {name} | {statistics.median(c['wall'] for c in cold):.1f} | "
              f"{statistics.median(c['compile_seconds'] for c in cold):.1f} | "
              f"{first['signatures_compiled']} ({first['dispatchers_compiled']}) | "
              f"{statistics.median(w['wall'] for w in warm):.2f} | "
              f"{warm[0]['signatures_loaded']} ({statistics.median(w['load_seconds'] for w in warm):.2f}) | {tops} |",
              flush=True)
    for name, result in results.items():
        repeated = result["cold"][0]["repeated"]
        if repeated:
            listed = ", ".join(f"{n.split('.', 1)[1]} ({count})" for n, count in sorted(repeated.items()))
            print(f"\n{name}: kernels compiled for several signatures: {listed}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
