"""Concurrent and forked use of the parallel kernels (issue 11, item 14).

Each scenario runs in a subprocess with a timeout, so an abort or a hang fails the test
instead of taking the suite down:

* Numba's ``workqueue`` threading layer is not thread safe: two threads launching parallel
  kernels at once used to abort the process. Launches are now serialised under it.
* With GNU OpenMP (the ``omp`` layer), a child forked after a parallel kernel ran cannot
  start threads (Numba aborts the child, so a fork-based ``multiprocessing.Pool`` hung).
  Such children now run serial twins of the kernels, which give the same bits.
"""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="fork and threading layers as on Linux")

SETUP = textwrap.dedent(
    """
    import numpy as np
    import scipy.sparse as sp
    from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine, ais, exact
    from pgm_energy.samplers import GibbsSampler

    rng = np.random.default_rng(0)
    n = 300
    w = np.triu(rng.normal(size=(n, n)) * (rng.random((n, n)) < 0.02), 1)
    sparse = BoltzmannMachine(sp.csr_array(w + w.T), rng.normal(size=n) * 0.1)
    small = BoltzmannMachine(w[:16, :16] + w[:16, :16].T, np.zeros(16))
    rbm = RestrictedBoltzmannMachine.random(20, 16, scale=0.2, rng=0)

    def work(seed):
        a = GibbsSampler(burn_in=5).sample(sparse, 20, n_chains=8, rng=seed).states
        b = GibbsSampler(burn_in=5, scan="chromatic").sample(sparse, 20, n_chains=8, rng=seed).states
        c = ais.log_partition_function(rbm, n_runs=4, betas=50, rng=seed).log_weights.tolist()
        return [int(a.sum()), int(b.sum()), exact.log_partition_function(small), exact.marginals(rbm).tolist(), c]
    """
)

THREADS = SETUP + textwrap.dedent(
    """
    import threading
    import numba

    expected = [work(seed) for seed in range(4)]
    results = {}

    def worker(seed):
        for _ in range(3):
            results[seed] = work(seed)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[seed] for seed in range(4)] == expected
    print("ok", numba.threading_layer())
    """
)

FORK = SETUP + textwrap.dedent(
    """
    import multiprocessing
    import numba

    expected = [work(seed) for seed in range(2)]  # the parent starts its thread pool first
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert pool.map(work, range(2)) == expected
    print("ok", numba.threading_layer())
    """
)


def _run(code, layer=None, timeout=420):
    env = dict(os.environ)
    if layer is not None:
        env["NUMBA_THREADING_LAYER"] = layer
    try:
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"the child hung (no answer in {timeout} s); stderr: {error.stderr!r}")
    assert done.returncode == 0, f"exit status {done.returncode}; stderr:\n{done.stderr[-3000:]}"
    return done.stdout.split()


def test_threads_sampling_at_once_under_the_workqueue_layer():
    assert _run(THREADS, layer="workqueue") == ["ok", "workqueue"]


def test_threads_sampling_at_once_under_the_default_layer():
    assert _run(THREADS)[0] == "ok"


def test_fork_pool_after_sampling_gives_the_parents_bits():
    # with GNU OpenMP (Linux default without TBB) this used to abort the children and hang the pool
    assert _run(FORK)[0] == "ok"
