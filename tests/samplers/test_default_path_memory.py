"""keep="last" runs in constant memory: no kernel call holds more than MAX_SWEEPS_PER_CALL sweeps of arrays."""

from __future__ import annotations

import itertools
import tracemalloc

import numpy as np
import pytest

from pgm_energy import BoltzmannMachine
from pgm_energy.samplers import GibbsSampler, ParallelTemperingSampler
from pgm_energy.samplers import _pipeline as pipeline

TWO_UNITS = BoltzmannMachine([[0.0, 0.5], [0.5, 0.0]], [0.1, -0.2])


def peak_bytes(n_sweeps: int) -> int:
    GibbsSampler(burn_in=1).sample(TWO_UNITS, 1, n_chains=1, keep="last", rng=0)  # compiled, caches warm
    tracemalloc.start()
    try:
        GibbsSampler(burn_in=n_sweeps - 1).sample(TWO_UNITS, 1, n_chains=1, keep="last", rng=0, progress=False)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_keep_last_peak_memory_does_not_grow_with_the_sweeps():
    # Without the cap the first kernel call alone covers ~1e6 sweeps of this model (24+ MB of
    # per-sweep arrays); with it a call holds at most 2**18 sweeps: 16 bytes each and one temporary.
    bound = 32 * pipeline.MAX_SWEEPS_PER_CALL + (2 << 20)
    short, long = peak_bytes(1 << 19), peak_bytes(1 << 22)
    assert long < bound, (long, bound)
    assert long < 1.5 * short + (1 << 20), (short, long)


def test_the_cap_changes_no_bit(monkeypatch):
    runs = {
        "gibbs_last": lambda: GibbsSampler(burn_in=50).sample(TWO_UNITS, 3, keep="last", rng=1).states,
        "gibbs_all": lambda: GibbsSampler(burn_in=7, thin=3).sample(TWO_UNITS, 20, rng=2).states,
        "tempering": lambda: ParallelTemperingSampler([1.0, 2.0], burn_in=9, thin=2).sample(TWO_UNITS, 11, rng=3).states,
    }
    whole = {name: run() for name, run in runs.items()}
    monkeypatch.setattr(pipeline, "MAX_SWEEPS_PER_CALL", 4)
    for name, run in runs.items():
        np.testing.assert_array_equal(run(), whole[name], err_msg=name)


def reference_slots(start, stop, n_sweeps, burn_in, thin, keep):
    """Slot of each sweep by its definition: the last sweep (keep="last"), or after burn_in every thin-th one."""
    out = []
    for sweep in range(start, stop):
        if keep == "last":
            out.append(0 if sweep == n_sweeps - 1 else -1)
        else:
            offset = sweep - (burn_in + thin - 1)
            out.append(offset // thin if offset >= 0 and offset % thin == 0 else -1)
    return np.array(out, dtype=np.int64)


@pytest.mark.parametrize("burn_in, thin, n_samples", list(itertools.product([0, 1, 6], [1, 2, 5], [1, 4])))
def test_record_slots_follow_their_definition_on_every_range(burn_in, thin, n_samples):
    n_sweeps = burn_in + n_samples * thin
    for keep in ("all", "last"):
        for start in range(n_sweeps + 1):
            for stop in range(start, n_sweeps + 1):
                got = pipeline.record_slots(start, stop, n_sweeps, burn_in, thin, keep)
                assert got.dtype == np.int64
                np.testing.assert_array_equal(got, reference_slots(start, stop, n_sweeps, burn_in, thin, keep))
