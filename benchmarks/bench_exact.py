#!/usr/bin/env python
"""Exact log Z: ``pgm_energy.exact`` against pgmpy, measured side by side in one run.

Run from the repository root::

    python benchmarks/bench_exact.py                # full run (a few minutes)
    python benchmarks/bench_exact.py --quick        # smaller set, fewer repeats (~1 minute)
    python benchmarks/bench_exact.py --threads 1    # one Numba thread and one BLAS thread
    python benchmarks/bench_exact.py --cases bm24,rbm784x20,bm30   # only some rows
    python benchmarks/bench_exact.py --joint        # joint queries of k = 4..20 units instead

It prints machine information, the thread counts in force, and one Markdown table.
For every case it measures

* ours, warm: ``pgm_energy.exact.log_partition_function`` after the kernels are
  compiled (median of several calls; one call when a call takes longer than ``--slow``);
* ours, first call: the same call in a fresh Python process, model already built,
  so it includes ``import numba``, loading the compiled kernels from Numba's cache and
  the run itself (the cache was filled beforehand by a separate cold-compile process,
  whose time is reported above the table);
* pgmpy: ``model.to_markov_network()`` (conversion, timed separately), then
  ``DiscreteMarkovNetwork.get_partition_function()`` (a dense 2**n table) and
  ``VariableElimination(mn).query([one variable], elimination_order=[all others],
  show_progress=False)`` with an explicit order (larger RBM layer first), summing the
  unnormalized result for Z; ratios are pgmpy inference time / ours warm.

With ``--joint`` it times ``exact.query(model, k variables, joint=True)`` (a table of
``2**k`` entries, filled in one enumeration pass) against pgmpy's
``VariableElimination(mn).query(variables, joint=True, elimination_order=[the others])``,
normalized, and reports the largest difference between the two tables.

pgmpy cases are only attempted when the 2**n table is small enough (``--pf-max-units``)
and the simulated elimination fits the memory and time budgets (``--pgmpy-max-gb``,
``--pgmpy-max-seconds``); a SIGALRM timer (``--pgmpy-timeout``) guards the rest.
See benchmarks/README.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("TQDM_DISABLE", "1")  # pgmpy's progress bars ignore its own config

import argparse
import json
import math
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")

REPO = Path(__file__).resolve().parent.parent
# Rough cost of pgmpy's factor products on the reference machine (seconds per table entry
# touched), used only to decide what to attempt: VE ~15 ns, the dense product ~5 ns.
_VE_SECONDS_PER_ENTRY = 15e-9
_PF_SECONDS_PER_ENTRY = 5e-9
_BYTES_PER_ENTRY = 8


# --------------------------------------------------------------------------- joint-query cases
@dataclass(frozen=True)
class JointCase:
    model: str  # a name of CASES
    variables: tuple  # (visible, hidden) counts for an RBM, (k,) for a BM: the first units of each
    quick: bool = True

    def names(self, model) -> list[str]:
        if len(self.variables) == 1:
            return list(model.names[: self.variables[0]])
        n_visible, n_hidden = self.variables
        return list(model.visible_names[:n_visible]) + list(model.hidden_names[:n_hidden])

    @property
    def label(self) -> str:
        if len(self.variables) == 1:
            return f"k={self.variables[0]}"
        return f"k={sum(self.variables)} ({self.variables[0]} visible, {self.variables[1]} hidden)"


JOINT_CASES = [
    *(JointCase("bm20", (k,), quick=k % 8 == 4) for k in (4, 8, 12, 16, 20)),
    *(JointCase("rbm20x10", (k, 0), quick=k != 8) for k in (4, 8, 12)),
    JointCase("rbm20x10", (6, 4)),
    JointCase("rbm784x20", (4, 0), quick=False),
    JointCase("rbm784x20", (0, 12), quick=False),
]


# --------------------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "bm" (dense general machine) or "rbm"
    shape: tuple  # (n,) or (n_visible, n_hidden)
    scale: float
    seed: int = 0
    quick: bool = True  # part of --quick
    target: float | None = None  # seconds, warm, for the summary line

    @property
    def label(self) -> str:
        if self.kind == "bm":
            return f"dense BM n={self.shape[0]}"
        return f"RBM {self.shape[0]}×{self.shape[1]}"

    @property
    def n_units(self) -> int:
        return int(sum(self.shape))

    @property
    def n_enumerated(self) -> int:
        return self.shape[0] if self.kind == "bm" else min(self.shape)

    def spec(self) -> dict:
        return {"kind": self.kind, "shape": list(self.shape), "scale": self.scale, "seed": self.seed}


CASES = [
    Case("bm12", "bm", (12,), 0.3),
    Case("bm16", "bm", (16,), 0.3),
    Case("bm20", "bm", (20,), 0.3),
    Case("bm24", "bm", (24,), 0.3, target=1.0),
    Case("bm30", "bm", (30,), 0.3, quick=False, target=60.0),
    Case("rbm20x10", "rbm", (20, 10), 0.1),
    Case("rbm40x12", "rbm", (40, 12), 0.1),
    Case("rbm784x12", "rbm", (784, 12), 0.1),
    Case("rbm784x20", "rbm", (784, 20), 0.1, target=1.0),
]


def build_model(spec: dict):
    """The benchmark models: a dense BM with N(0, scale^2) weights and biases, or RBM.random."""
    from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine

    if spec["kind"] == "bm":
        (n,) = spec["shape"]
        rng = np.random.default_rng(spec["seed"])
        upper = np.triu(rng.normal(0.0, spec["scale"], size=(n, n)), 1)
        return BoltzmannMachine(upper + upper.T, rng.normal(0.0, spec["scale"], size=n))
    n_visible, n_hidden = spec["shape"]
    return RestrictedBoltzmannMachine.random(n_visible, n_hidden, scale=spec["scale"], rng=spec["seed"])


def ve_query_and_order(model) -> tuple[list[str], list[str]]:
    """One query variable and an explicit order for the rest (an RBM's larger layer first)."""
    from pgm_energy import RestrictedBoltzmannMachine

    names = list(model.names)
    if isinstance(model, RestrictedBoltzmannMachine):
        visible, hidden = list(model.visible_names), list(model.hidden_names)
        larger, smaller = (visible, hidden) if len(visible) >= len(hidden) else (hidden, visible)
        return [smaller[-1]], larger + smaller[:-1]
    return [names[0]], names[1:]


# --------------------------------------------------------------------------- timing
def fmt_time(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None or not math.isfinite(ratio):
        return "—"
    return f"{ratio:.3g}×" if ratio < 1000 else f"{ratio:,.0f}×"


@dataclass
class Timing:
    seconds: float  # median, or the single run
    runs: int
    result: object = None
    fastest: float | None = None

    def cell(self) -> str:
        return f"{fmt_time(self.seconds)} [{self.runs}]"


def measure(fn, *, slow: float, min_repeats: int, max_repeats: int, budget: float) -> Timing:
    """Median of repeated calls; the first call is a warm-up unless it alone exceeds ``slow``."""
    start = time.perf_counter()
    result = fn()
    first = time.perf_counter() - start
    if first > slow:
        return Timing(first, 1, result, first)
    times: list[float] = []
    while len(times) < max_repeats and (len(times) < min_repeats or sum(times) < budget):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return Timing(statistics.median(times), len(times), result, min(times))


class _Timeout(Exception):
    pass


def _alarm(signum, frame):  # pragma: no cover - only on a timeout
    raise _Timeout()


def with_timeout(seconds: float, fn):
    """Run fn() under a SIGALRM timer (interrupts Python code between NumPy operations)."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --------------------------------------------------------------------------- pgmpy cost model
def simulate_elimination(scopes: list[tuple[str, ...]], order: list[str]) -> tuple[int, int]:
    """Replay pgmpy's classic VE on scopes only.

    Returns (entries of every table created, which pgmpy keeps referenced until the end,
    plus the largest product; an upper bound on the entries touched by the products).
    """
    live: dict[int, frozenset] = {}
    by_var: dict[str, set[int]] = {}
    for k, scope in enumerate(scopes):
        live[k] = frozenset(scope)
        for var in scope:
            by_var.setdefault(var, set()).add(k)
    next_id = len(scopes)
    created = largest = touched = 0
    for var in order:
        ids = by_var.pop(var, set())
        union: set = set().union(*(live[k] for k in ids))
        # factor_product multiplies pairwise; bound each product by the final table size
        touched += len(ids) * 2 ** len(union)
        largest = max(largest, 2 ** len(union))
        for k in ids:
            for other in live.pop(k):
                if other != var:
                    by_var[other].discard(k)
        new_scope = frozenset(union - {var})
        live[next_id] = new_scope
        for other in new_scope:
            by_var[other].add(next_id)
        next_id += 1
        created += 2 ** len(new_scope)
    return created + 2 * largest, touched


def pf_cost(n_units: int, n_factors: int) -> tuple[int, int]:
    """get_partition_function multiplies every factor into one 2**n table."""
    return 3 * 2**n_units, n_factors * 2**n_units


def fmt_bytes(n_bytes: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= size:
            return f"{n_bytes / size:.3g} {unit}"
    return f"{n_bytes:.0f} B"


# --------------------------------------------------------------------------- machine info
def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def cpu_model() -> str:
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def memory_gib() -> tuple[float | None, float | None]:
    values = {}
    for line in _read("/proc/meminfo").splitlines():
        key, _, rest = line.partition(":")
        if key in ("MemTotal", "MemAvailable"):
            values[key] = int(rest.split()[0]) / 2**20
    return values.get("MemTotal"), values.get("MemAvailable")


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def git_state() -> str:
    try:
        commit = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "pgm_energy"],
            capture_output=True, text=True, timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "n/a"
    if not commit:
        return "n/a"
    changed = len(dirty.splitlines()) if dirty else 0
    return f"{commit}" + (f" + {changed} uncommitted change(s) under pgm_energy/" if changed else "")


def blas_description(blas_threads: int) -> tuple[str, object]:
    """Limit BLAS threads with threadpoolctl when available; describe what is in force."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS") if k in os.environ}
        return f"threadpoolctl not installed; not limited (env: {env or 'none set'})", None
    limiter = threadpool_limits(limits=blas_threads, user_api="blas")
    pools = [
        f"{p.get('internal_api')} {p.get('version')} ({p.get('threading_layer', '?')} threading, "
        f"{p.get('num_threads')} thread(s), arch {p.get('architecture', '?')})"
        for p in threadpool_info()
        if p.get("user_api") == "blas"
    ]
    return "; ".join(pools) or "no BLAS pool found", limiter


# --------------------------------------------------------------------------- first call in a fresh process
def child_main(spec_json: str) -> None:
    """``--_child``: time the first log Z call in this fresh process (model already built)."""
    spec = json.loads(spec_json)
    start = time.perf_counter()
    from pgm_energy.exact import log_partition_function

    imported = time.perf_counter() - start
    model = build_model(spec)
    start = time.perf_counter()
    log_z = log_partition_function(model)
    first = time.perf_counter() - start
    out = {"import_exact_s": imported, "first_call_s": first, "log_z": log_z}
    if spec.get("second"):
        start = time.perf_counter()
        log_partition_function(model)
        out["second_call_s"] = time.perf_counter() - start
    print(json.dumps(out))


def run_child(spec: dict, *, cache_dir: str, numba_threads: int, blas_threads: int, timeout: float) -> dict:
    env = dict(os.environ)
    env.update(
        NUMBA_CACHE_DIR=cache_dir,
        NUMBA_NUM_THREADS=str(numba_threads),
        OPENBLAS_NUM_THREADS=str(blas_threads),
        MKL_NUM_THREADS=str(blas_threads),
        TQDM_DISABLE="1",
    )
    try:
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--_child", json.dumps(spec)],
            capture_output=True, text=True, env=env, timeout=timeout, cwd=str(REPO),
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- main
@dataclass
class Row:
    case: Case
    log_z: float | None = None
    ours: Timing | None = None
    first: dict = field(default_factory=dict)
    convert: Timing | None = None
    pf: Timing | None = None
    pf_note: str = ""
    ve: Timing | None = None
    ve_note: str = ""
    rel_diffs: dict = field(default_factory=dict)


def rel_diff(ours: float, theirs: float) -> float:
    if not math.isfinite(theirs):
        return math.inf
    return abs(ours - theirs) / max(abs(theirs), 1e-300)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the 30-unit BM, fewer repeats, tighter pgmpy budget")
    parser.add_argument("--threads", type=int, default=None, help="Numba threads (default: all Numba may use)")
    parser.add_argument("--blas-threads", type=int, default=None, help="BLAS threads (default: same as --threads)")
    parser.add_argument("--cases", default=None, help="comma-separated case names (see --list)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--no-pgmpy", action="store_true", help="time only pgm_energy")
    parser.add_argument("--joint", action="store_true", help="time joint queries of k = 4..20 units instead of log Z")
    parser.add_argument("--no-first-call", action="store_true", help="skip the fresh-process first-call timings")
    parser.add_argument("--first-call-limit", type=float, default=5.0,
                        help="measure the first call in a fresh process only when a warm call takes less (s)")
    parser.add_argument("--slow", type=float, default=2.0, help="a call longer than this is timed once (s)")
    parser.add_argument("--pf-max-units", type=int, default=22, help="largest n for get_partition_function")
    parser.add_argument("--pgmpy-max-gb", type=float, default=2.0, help="skip pgmpy cases whose tables exceed this")
    parser.add_argument("--pgmpy-max-seconds", type=float, default=None,
                        help="skip pgmpy cases estimated to take longer (default 120, quick 5)")
    parser.add_argument("--pgmpy-timeout", type=float, default=300.0, help="SIGALRM guard per pgmpy call (s)")
    parser.add_argument("--tolerance", type=float, default=1e-8, help="relative log Z agreement required")
    parser.add_argument("--json", default=None, help="also write the raw results to this file")
    parser.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args._child is not None:
        child_main(args._child)
        return 0
    if args.list:
        for case in CASES:
            print(f"{case.name:10s} {case.label:18s} {'quick+full' if case.quick else 'full only'}")
        return 0
    cases = [c for c in CASES if c.quick or not args.quick]
    if args.cases:
        wanted = [name.strip() for name in args.cases.split(",") if name.strip()]
        unknown = sorted(set(wanted) - {c.name for c in CASES})
        if unknown:
            print(f"unknown case(s) {unknown}; see --list", file=sys.stderr)
            return 2
        cases = [c for c in CASES if c.name in wanted]
    repeats = dict(min_repeats=3, max_repeats=5, budget=1.0) if args.quick else dict(min_repeats=5, max_repeats=15, budget=3.0)
    max_seconds = args.pgmpy_max_seconds if args.pgmpy_max_seconds is not None else (5.0 if args.quick else 120.0)
    load_start = load_average()
    wall_start = time.perf_counter()

    import numba
    import scipy

    import pgm_energy
    from pgm_energy.exact import log_partition_function

    numba_threads = args.threads or numba.config.NUMBA_NUM_THREADS
    if not 1 <= numba_threads <= numba.config.NUMBA_NUM_THREADS:
        print(f"--threads must be in 1..{numba.config.NUMBA_NUM_THREADS} (NUMBA_NUM_THREADS)", file=sys.stderr)
        return 2
    numba.set_num_threads(numba_threads)
    blas_threads = args.blas_threads or numba_threads
    blas_info, _limiter = blas_description(blas_threads)  # keep the limiter alive for the whole run

    if args.joint:
        return joint_main(args, repeats, max_seconds, numba_threads, blas_threads, blas_info, load_start)

    # Compile (or load from cache) both kernels in this process on tiny models.
    log("warming up pgm_energy kernels ...")
    warm_start = time.perf_counter()
    log_partition_function(build_model({"kind": "bm", "shape": [6], "scale": 0.3, "seed": 0}))
    log_partition_function(build_model({"kind": "rbm", "shape": [6, 3], "scale": 0.1, "seed": 0}))
    warm_up_s = time.perf_counter() - warm_start
    threading_layer = numba.threading_layer()

    # Cold compile in fresh processes with an empty cache directory; this also fills the
    # cache that the per-case first-call processes then load.
    cache_dir = tempfile.mkdtemp(prefix="bench_exact_numba_cache_")
    child = dict(cache_dir=cache_dir, numba_threads=numba_threads, blas_threads=blas_threads, timeout=600.0)
    jit = {}
    if not args.no_first_call:
        for kind, shape in (("bm", [6]), ("rbm", [6, 3])):
            log(f"cold-compiling the {kind} kernel in a fresh process ...")
            spec = {"kind": kind, "shape": shape, "scale": 0.1, "seed": 0, "second": True}
            jit[kind] = {"cold": run_child(spec, **child), "cached": run_child(spec, **child)}

    pgmpy_version = import_pgmpy_s = None
    if not args.no_pgmpy:
        log("importing and warming up pgmpy ...")
        start = time.perf_counter()
        import pgmpy
        from pgmpy.inference import VariableElimination

        import_pgmpy_s = time.perf_counter() - start
        pgmpy_version = pgmpy.__version__
        tiny = build_model({"kind": "bm", "shape": [5], "scale": 0.3, "seed": 0})
        tiny_mn = tiny.to_markov_network()
        tiny_mn.get_partition_function()
        query, order = ve_query_and_order(tiny)
        VariableElimination(tiny_mn).query(query, elimination_order=order, show_progress=False)

    rows: list[Row] = []
    for case in cases:
        row = Row(case)
        rows.append(row)
        model = build_model(case.spec())
        log(f"[{case.name}] ours ...")
        row.ours = measure(lambda: log_partition_function(model), slow=args.slow, **repeats)
        row.log_z = float(row.ours.result)
        if not args.no_first_call:
            if row.ours.seconds <= args.first_call_limit:
                row.first = run_child(case.spec(), **child)
            else:
                row.first = {"error": f"not measured (warm call > {args.first_call_limit:g} s)"}
        if args.no_pgmpy:
            continue

        log(f"[{case.name}] pgmpy to_markov_network ...")
        row.convert = measure(model.to_markov_network, slow=args.slow, **repeats)
        mn = row.convert.result
        scopes = [tuple(f.scope()) for f in mn.get_factors()]

        # (1) get_partition_function: one dense 2**n table
        n = case.n_units
        memory, entries = pf_cost(n, len(scopes))
        if n > args.pf_max_units:
            row.pf_note = f"not attempted: 2^{n} dense table"
        elif memory * _BYTES_PER_ENTRY > args.pgmpy_max_gb * 1e9:
            row.pf_note = f"not attempted: ~{fmt_bytes(memory * _BYTES_PER_ENTRY)} table"
        elif entries * _PF_SECONDS_PER_ENTRY > max_seconds:
            row.pf_note = f"not attempted: est. {fmt_time(entries * _PF_SECONDS_PER_ENTRY)}"
        else:
            log(f"[{case.name}] pgmpy get_partition_function ...")
            try:
                row.pf = with_timeout(args.pgmpy_timeout, lambda: measure(
                    mn.get_partition_function, slow=args.slow, **repeats))
                value = float(row.pf.result)
                row.rel_diffs["get_partition_function"] = rel_diff(row.log_z, math.log(value) if value > 0 else -math.inf)
            except _Timeout:
                row.pf_note = f"timed out after {args.pgmpy_timeout:g} s"
            except MemoryError:
                row.pf_note = "MemoryError"

        # (2) variable elimination with an explicit order
        query, order = ve_query_and_order(model)
        memory, entries = simulate_elimination(scopes, order)
        if memory * _BYTES_PER_ENTRY > args.pgmpy_max_gb * 1e9:
            row.ve_note = f"not attempted: ~{fmt_bytes(memory * _BYTES_PER_ENTRY)} of VE tables"
        elif entries * _VE_SECONDS_PER_ENTRY > max_seconds:
            row.ve_note = f"not attempted: est. {fmt_time(entries * _VE_SECONDS_PER_ENTRY)}"
        else:
            log(f"[{case.name}] pgmpy VariableElimination ...")

            def ve():
                return VariableElimination(mn).query(query, elimination_order=order, show_progress=False)

            try:
                row.ve = with_timeout(args.pgmpy_timeout, lambda: measure(ve, slow=args.slow, **repeats))
                total = float(np.sum(row.ve.result.values))
                row.rel_diffs["VariableElimination"] = rel_diff(row.log_z, math.log(total) if total > 0 else -math.inf)
            except _Timeout:
                row.ve_note = f"timed out after {args.pgmpy_timeout:g} s"
            except MemoryError:
                row.ve_note = "MemoryError"
        del mn
        row.convert.result = None
        if row.pf:
            row.pf.result = None
        if row.ve:
            row.ve.result = None

    shutil.rmtree(cache_dir, ignore_errors=True)
    total_s = time.perf_counter() - wall_start
    load_end = load_average()
    mem_total, mem_available = memory_gib()

    # ------------------------------------------------------------------- report
    out = []
    out.append("## Exact log Z: pgm_energy vs pgmpy")
    out.append("")
    out.append(f"- command: `python {' '.join([Path(sys.argv[0]).as_posix()] + sys.argv[1:])}`"
               f" ({'quick' if args.quick else 'full'} mode)")
    out.append(f"- machine: {cpu_model()}, {os.cpu_count()} logical CPUs "
               f"({len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'} usable), "
               f"{mem_total:.1f} GiB RAM ({mem_available:.1f} GiB available at the end); "
               f"{platform.system()} {platform.release()}")
    out.append(f"- load average (1/5/15 min): {load_start} at start, {load_end} at the end; run took {total_s:.0f} s")
    out.append(f"- software: Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
               f"Numba {numba.__version__}, pgmpy {pgmpy_version or 'not used'}, pgm_energy {pgm_energy.__version__} "
               f"(git {git_state()})")
    out.append(f"- threads: Numba {numba_threads} of {numba.config.NUMBA_NUM_THREADS} "
               f"(numba.set_num_threads, threading layer '{threading_layer}'); BLAS limited to {blas_threads}: {blas_info}")
    out.append(f"- pgmpy runs single-threaded NumPy code in linear space (BLAS barely used); "
               f"its imports (models + inference) took {fmt_time(import_pgmpy_s)}" if import_pgmpy_s is not None
               else "- pgmpy: not run (--no-pgmpy)")
    line = f"- JIT: in-process warm-up of both kernels {fmt_time(warm_up_s)}"
    for kind, label in (("bm", "general-BM kernel"), ("rbm", "RBM kernel")):
        if kind in jit:
            cold, cached = jit[kind]["cold"], jit[kind]["cached"]
            if "error" in cold or "error" in cached:
                line += f"; {label}: {cold.get('error') or cached.get('error')}"
            else:
                line += (f"; {label} first call on a 6-unit model in a fresh process: "
                         f"{fmt_time(cold['first_call_s'])} with an empty cache (compile), "
                         f"{fmt_time(cached['first_call_s'])} from the cache "
                         f"(second call {fmt_time(cached.get('second_call_s'))})")
    out.append(line)
    out.append("")
    header = ["case", "enum. units", "log Z (ours)", "ours: first call", "ours: warm",
              "pgmpy: to_markov_network", "pgmpy: get_partition_function", "PF / ours",
              "pgmpy: VE (explicit order)", "VE / ours", "agreement (rel. diff of log Z)"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join(["---"] * len(header)) + "|")
    for row in rows:
        case = row.case
        if "first_call_s" in row.first:
            first = fmt_time(row.first["first_call_s"])
        else:
            first = row.first.get("error", "—") if row.first else "—"
        pf = row.pf.cell() if row.pf else (row.pf_note or "—")
        ve = row.ve.cell() if row.ve else (row.ve_note or "—")
        pf_ratio = fmt_ratio(row.pf.seconds / row.ours.seconds) if row.pf else "—"
        ve_ratio = fmt_ratio(row.ve.seconds / row.ours.seconds) if row.ve else "—"
        if row.rel_diffs:
            worst = max(row.rel_diffs.values())
            agreement = ("ok" if worst <= args.tolerance else "MISMATCH") + f" ({worst:.1e})"
        else:
            agreement = "—"
        enumerated = f"2^{case.n_enumerated}" + ("" if case.kind == "bm" else f" × {max(case.shape)}")
        out.append("| " + " | ".join([
            f"{case.label} (`{case.name}`)", enumerated, f"{row.log_z:.10g}", first, row.ours.cell(),
            row.convert.cell() if row.convert else "—", pf, pf_ratio, ve, ve_ratio, agreement,
        ]) + " |")
    out.append("")
    out.append("Times: median of the calls after one warm-up call, `[k]` = number of timed calls "
               f"(`[1]` = one call, used when a call takes over {args.slow:g} s). "
               "'ours: first call' = the first `log_partition_function` call in a fresh process with the model built "
               "(includes `import numba` and loading the compiled kernel from Numba's cache). "
               "Ratios = pgmpy inference time / ours warm (conversion not included). "
               f"Agreement: worst relative difference of log Z against the pgmpy results, 'ok' if ≤ {args.tolerance:g}. "
               "Dense BMs: symmetric N(0, 0.3²) weights and N(0, 0.3²) biases (seed 0); "
               "RBMs: `RestrictedBoltzmannMachine.random(n_v, n_h, scale=0.1, rng=0)`.")
    targets = [row for row in rows if row.case.target is not None]
    if targets:
        out.append("")
        out.append("Targets (ours, warm): " + "; ".join(
            f"{row.case.label} < {fmt_time(row.case.target)}: "
            f"{'met' if row.ours.seconds < row.case.target else 'NOT met'} ({fmt_time(row.ours.seconds)})"
            for row in targets))
    print("\n".join(out))

    if args.json:
        payload = {
            "args": vars(args), "numba_threads": numba_threads, "blas_threads": blas_threads,
            "load_start": load_start, "load_end": load_end, "jit": jit, "warm_up_s": warm_up_s,
            "rows": [
                {
                    "case": row.case.name, "log_z": row.log_z,
                    "ours_s": row.ours.seconds, "ours_min_s": row.ours.fastest, "ours_runs": row.ours.runs,
                    "first_call": row.first,
                    "convert_s": row.convert.seconds if row.convert else None,
                    "pf_s": row.pf.seconds if row.pf else None, "pf_runs": row.pf.runs if row.pf else None,
                    "pf_note": row.pf_note,
                    "ve_s": row.ve.seconds if row.ve else None, "ve_runs": row.ve.runs if row.ve else None,
                    "ve_note": row.ve_note,
                    "rel_diffs": row.rel_diffs,
                }
                for row in rows
            ],
        }
        Path(args.json).write_text(json.dumps(payload, indent=2, default=str))
    mismatched = any(max(row.rel_diffs.values(), default=0.0) > args.tolerance for row in rows)
    return 1 if mismatched else 0


def joint_main(args, repeats, max_seconds, numba_threads, blas_threads, blas_info, load_start) -> int:
    """``--joint``: joint query tables, ours against pgmpy's VariableElimination, one Markdown table."""
    import numba

    from pgm_energy import exact

    cases = [case for case in JOINT_CASES if case.quick or not args.quick]
    if args.cases:
        cases = [case for case in cases if case.model in args.cases.split(",")]
    specs = {case.name: case.spec() for case in CASES}
    log("warming up pgm_energy kernels ...")
    for name in ("bm12", "rbm20x10"):
        model = build_model(specs[name])
        for case in (JointCase(name, (3,)), JointCase(name, (2, 1))):
            exact.query(model, case.names(model)[:3])
    ve_class = None
    if not args.no_pgmpy:
        from pgmpy.inference import VariableElimination as ve_class
    out = ["## Joint queries: pgm_energy vs pgmpy", ""]
    out.append(f"- command: `python {' '.join([Path(sys.argv[0]).as_posix()] + sys.argv[1:])}`")
    out.append(f"- threads: Numba {numba_threads} (layer '{numba.threading_layer()}'); BLAS limited to "
               f"{blas_threads}: {blas_info}; load average at start {load_start}; git {git_state()}")
    out.append("")
    header = ["model", "query", "table", "ours: warm", "pgmpy: VE joint (explicit order)", "VE / ours",
              "agreement (max abs diff)"]
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "|".join(["---"] * len(header)) + "|")
    models = {}
    for case in cases:
        model = models.setdefault(case.model, build_model(specs[case.model]))
        variables = case.names(model)
        log(f"[{case.model} {case.label}] ours ...")
        ours = measure(lambda: exact.query(model, variables).values, slow=args.slow, **repeats)
        ve_cell, ratio, agreement = "—", "—", "—"
        if ve_class is not None:
            mn = model.to_markov_network()
            order = [name for name in model.names if name not in set(variables)]
            memory, entries = simulate_elimination([tuple(f.scope()) for f in mn.get_factors()], order)
            memory += 2 ** len(variables) * len(mn.get_factors())  # the joint product of what is left
            if memory * _BYTES_PER_ENTRY > args.pgmpy_max_gb * 1e9:
                ve_cell = f"not attempted: ~{fmt_bytes(memory * _BYTES_PER_ENTRY)} of tables"
            elif entries * _VE_SECONDS_PER_ENTRY > max_seconds:
                ve_cell = f"not attempted: est. {fmt_time(entries * _VE_SECONDS_PER_ENTRY)}"
            else:
                log(f"[{case.model} {case.label}] pgmpy VariableElimination ...")

                def ve():
                    return ve_class(mn).query(variables, elimination_order=order, joint=True, show_progress=False)

                try:
                    theirs = with_timeout(args.pgmpy_timeout, lambda: measure(ve, slow=args.slow, **repeats))
                    table = np.transpose(theirs.result.values, [theirs.result.variables.index(v) for v in variables])
                    agreement = f"{np.max(np.abs(table / table.sum() - ours.result)):.1e}"
                    ve_cell, ratio = theirs.cell(), fmt_ratio(theirs.seconds / ours.seconds)
                except _Timeout:
                    ve_cell = f"timed out after {args.pgmpy_timeout:g} s"
                except MemoryError:
                    ve_cell = "MemoryError"
        label = next(case_.label for case_ in CASES if case_.name == case.model)
        out.append("| " + " | ".join([
            label, case.label, f"2^{len(variables)}", ours.cell(), ve_cell, ratio, agreement,
        ]) + " |")
    out.append("")
    out.append(f"Times: median after one warm-up call, `[k]` = timed calls; load average at the end {load_average()}.")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
