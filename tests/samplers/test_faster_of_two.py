"""The chromatic scan of one chain on several threads picks, chunk by chunk, the faster of two identical kernels."""

import time

import numba
import numpy as np

from pgm_energy import BoltzmannMachine
from pgm_energy.samplers import GibbsSampler
from pgm_energy.samplers import _single_site as single_site_module
from pgm_energy.samplers._single_site import FasterOfTwo


def lattice(side):
    import scipy.sparse as sp

    n = side * side
    rows, cols = [], []
    for r in range(side):
        for c in range(side):
            i = r * side + c
            rows += [i, i]
            cols += [r * side + (c + 1) % side, ((r + 1) % side) * side + c]
    upper = sp.coo_matrix((np.full(len(rows), 0.4), (rows, cols)), shape=(n, n))
    return BoltzmannMachine(sp.csr_matrix(upper + upper.T), np.zeros(n))


def test_the_faster_runner_takes_the_chunks_and_the_slower_is_retried():
    calls = []

    def slow(start, stop):
        calls.append(("slow", start, stop))
        time.sleep(0.002 * (stop - start))

    def fast(start, stop):
        calls.append(("fast", start, stop))

    chooser = FasterOfTwo(slow, fast)
    for start in range(0, 40, 2):
        chooser(start, start + 2)
    names = [name for name, _, _ in calls]
    assert names[:4] == ["slow", "fast", "slow", "fast"]  # the probes alternate
    after = names[4:]
    assert after.count("slow") == sum(1 for k in range(4, 20) if k % FasterOfTwo.RETRY == 0)
    assert chooser.used == [2 * names.count("slow"), 2 * names.count("fast")]
    # every sweep ran exactly once, in order
    assert [(start, stop) for _, start, stop in calls] == [(s, s + 2) for s in range(0, 40, 2)]


def test_switching_kernels_mid_run_changes_no_draw(monkeypatch):
    model = lattice(32)
    sampler = GibbsSampler(burn_in=5, scan="chromatic")
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(2)
        monkeypatch.setattr(single_site_module, "PARALLEL_CLASS_SIZE", 1)
        monkeypatch.setattr("pgm_energy._launch.TARGET_SECONDS", 0.0)  # one sweep a chunk: both kernels run
        switched = sampler.sample(model, 20, n_chains=1, rng=5, progress=False)
        monkeypatch.setattr(single_site_module, "PARALLEL_CLASS_SIZE", 10**9)
        by_chain = sampler.sample(model, 20, n_chains=1, rng=5, progress=False)
    finally:
        numba.set_num_threads(previous)
    assert switched.info["parallel_over"] == "classes"
    assert 0 < switched.info["sweeps_over_classes"] < switched.info["sweeps"]
    np.testing.assert_array_equal(switched.states, by_chain.states)
