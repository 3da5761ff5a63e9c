#!/usr/bin/env python
"""Out-of-core training (issue 16): a 2 GB memmap and the same rows as a Dask array, trained in bounded memory.

Run from the repository root::

    python benchmarks/bench_out_of_core.py                  # 2 GiB of 784-column binary rows
    python benchmarks/bench_out_of_core.py --gigabytes 0.25 # quicker

Steps, printed as one Markdown report:

1. Synthetic data: rows of 784 Bernoulli units (each column its own rate in [0.05, 0.5]), generated
   block by block (block ``b`` from a generator seeded ``(seed, b)``) and written to an ``.npy``
   memmap of ``uint8`` (``--folder``, removed afterwards unless ``--keep``).
2. In a fresh process each: ``ContrastiveDivergence(epochs=1, batch_size=100)`` (PCD-1) of a
   784x``--hidden`` RBM on (a) the memmap and (b) a Dask array of the same blocks made on the fly
   by ``dask.delayed`` (no file, no copy of the data). Each reports the fit's seconds and the
   process's peak resident memory (``VmHWM``), and a digest of the trained weights.
3. For scale: the peak memory of the same process fitting 1,000 in-memory rows.

The goal: peak memory under 500 MB for 2 GB of data, and the two fits equal bit for bit (the same
rows, the same blocks, the same ``rng``). That a streamed fit equals its in-memory twin bit for
bit is checked by tests/learning/test_streamed.py (2 GB in memory would be 8 GB of float32 here).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
N_VISIBLE = 784

CHILD = textwrap.dedent("""
    import hashlib, json, sys, time
    import numpy as np
    sys.path.insert(0, {repo!r})
    from pgm_energy.learning import ContrastiveDivergence
    from pgm_energy.learning._streamed import DEFAULT_BLOCK_BYTES

    kind, path, n_rows, hidden, seed = {kind!r}, {path!r}, {n_rows}, {hidden}, {seed}
    block_rows = DEFAULT_BLOCK_BYTES // ({n_visible} * 4)  # the streamed blocks of float32 rows

    def block(index):
        first = index * block_rows
        count = min(block_rows, n_rows - first)
        generator = np.random.default_rng((seed, index))
        rates = np.random.default_rng(seed).uniform(0.05, 0.5, {n_visible})
        return (generator.random((count, {n_visible})) < rates).astype(np.uint8)

    if kind == "memmap":
        data = np.load(path, mmap_mode="r")
    elif kind == "dask":
        import dask
        import dask.array as da
        n_blocks = -(-n_rows // block_rows)
        data = da.concatenate([
            da.from_delayed(dask.delayed(block)(i), shape=(min(block_rows, n_rows - i * block_rows), {n_visible}),
                            dtype=np.uint8)
            for i in range(n_blocks)
        ])
    else:
        data = block(0)[:1000]
    trainer = ContrastiveDivergence(epochs=1, batch_size=100, monitor=None)
    began = time.perf_counter()
    result = trainer.fit(hidden, data, rng=0, progress=False)
    seconds = time.perf_counter() - began
    # VmHWM, not ru_maxrss: Linux carries a parent's peak into a child's ru_maxrss across fork and exec
    peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024
    digest = hashlib.blake2b(result.model.weights.tobytes(), digest_size=8).hexdigest()
    print(json.dumps({{"seconds": seconds, "peak_mb": peak, "digest": digest}}))
""")


def _write(path: Path, n_rows: int, seed: int) -> float:
    """The memmap of ``n_rows`` rows, written block by block as the children generate them; seconds taken."""
    sys.path.insert(0, str(REPO))
    from pgm_energy.learning._streamed import DEFAULT_BLOCK_BYTES

    block_rows = DEFAULT_BLOCK_BYTES // (N_VISIBLE * 4)
    rates = np.random.default_rng(seed).uniform(0.05, 0.5, N_VISIBLE)
    began = time.perf_counter()
    rows = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(n_rows, N_VISIBLE))
    for index, first in enumerate(range(0, n_rows, block_rows)):
        count = min(block_rows, n_rows - first)
        rows[first:first + count] = np.random.default_rng((seed, index)).random((count, N_VISIBLE)) < rates
    rows.flush()
    del rows
    return time.perf_counter() - began


def _child(kind: str, path: Path, n_rows: int, hidden: int, seed: int) -> dict:
    code = CHILD.format(repo=str(REPO), kind=kind, path=str(path), n_rows=n_rows, hidden=hidden, seed=seed,
                        n_visible=N_VISIBLE)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"the {kind} fit failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--folder", default=None, help="where the memmap goes (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the memmap")
    options = parser.parse_args()
    n_rows = int(options.gigabytes * 2**30) // N_VISIBLE
    folder = Path(options.folder or tempfile.mkdtemp(prefix="pgm_energy_ooc_"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "rows.npy"
    try:
        print("# Out-of-core training: a memmap and a Dask array\n")
        print(f"- machine: {os.cpu_count()} CPUs; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"- data: {n_rows:,} rows x {N_VISIBLE} binary units, uint8: {n_rows * N_VISIBLE / 2**30:.2f} GiB")
        print(f"- fit: ContrastiveDivergence(epochs=1, batch_size=100) (PCD-1), {N_VISIBLE}x{options.hidden} RBM, "
              "rng=0, each in a fresh process\n")
        written = _write(path, n_rows, options.seed)
        print(f"Memmap written in {written:.1f} s.\n")
        rows = {}
        for kind in ("in memory (1,000 rows: the process's baseline)", "memmap", "dask"):
            key = kind.split()[0]
            rows[key] = _child("small" if key == "in" else key, path, n_rows, options.hidden, options.seed)
        print("| data | fit (s) | rows per second | peak memory (MB) | weights digest |")
        print("|---|---:|---:|---:|---|")
        for key, label in (("in", "1,000 rows in memory"), ("memmap", "memmap"), ("dask", "Dask array (delayed blocks)")):
            result = rows[key]
            count = 1000 if key == "in" else n_rows
            print(f"| {label} | {result['seconds']:.1f} | {count / result['seconds']:,.0f} | {result['peak_mb']:.0f} "
                  f"| {result['digest']} |")
        same = rows["memmap"]["digest"] == rows["dask"]["digest"]
        worst = max(rows["memmap"]["peak_mb"], rows["dask"]["peak_mb"])
        print(f"\nMemmap and Dask fits equal bit for bit: {same}. Peak memory {worst:.0f} MB (goal < 500 MB) "
              f"for {n_rows * N_VISIBLE / 2**20:,.0f} MB of data.")
        print(f"Load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
