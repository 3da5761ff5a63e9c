"""Sampler hardening (issue 11): counts too large for memory get a named error, never a MemoryError.

Long runs never hold an array per sweep (inverse temperatures and record slots are made a
kernel call at a time), schedules longer than ``schedules.MAX_LENGTH`` are refused, and
allocations sized by a user's counts become a ``ModelSizeError`` naming them.
"""

import numpy as np
import pytest

from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine, ais, schedules
from pgm_energy.exceptions import ModelSizeError
from pgm_energy.samplers import GibbsSampler, ParallelTemperingSampler, SimulatedAnnealingSampler
from pgm_energy.samplers._pipeline import record_slots as _record_slots

BM = BoltzmannMachine([[0.0, 1.0], [1.0, 0.0]], [0.5, -0.2])
RBM = RestrictedBoltzmannMachine.random(4, 3, rng=0)
HUGE = 10**12


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: GibbsSampler(burn_in=1).sample(BM, 1, n_chains=HUGE), "n_chains=1000000000000"),
        (lambda: GibbsSampler(burn_in=1).sample(BM, 1, n_chains=10**20), "n_chains=100000000000000000000"),
        (lambda: GibbsSampler(burn_in=1).sample(RBM, 1, n_chains=HUGE), "n_chains=1000000000000"),
        (lambda: GibbsSampler(burn_in=1).sample(BM, HUGE), "draws"),
        (lambda: GibbsSampler(burn_in=1).sample(RBM, HUGE), "draws"),
        (lambda: SimulatedAnnealingSampler(n_sweeps=3).sample(BM, HUGE), "n_samples=1000000000000"),
        (lambda: SimulatedAnnealingSampler(n_sweeps=HUGE), "n_sweeps must be at most"),
        (lambda: ParallelTemperingSampler([1, 2], burn_in=1).sample(BM, 1, n_chains=HUGE), "n_chains=1000000000000"),
        (lambda: ParallelTemperingSampler([1, 2], burn_in=1).sample(BM, HUGE), "draws"),
        (lambda: ais.log_partition_function(RBM, n_runs=HUGE), "n_runs=1000000000000"),
        (lambda: ais.log_partition_function(RBM, betas=HUGE), "betas must be at most"),
        (lambda: schedules.ais_betas(HUGE), "n_steps must be at most"),
        (lambda: schedules.linear(1, 0, HUGE), "n must be at most"),
        (lambda: schedules.geometric(2, 1, HUGE), "n must be at most"),
    ],
)
def test_counts_too_large_for_memory_are_a_named_error(call, match):
    with pytest.raises(ModelSizeError, match=match):
        call()


def test_pgmpy_drop_in_with_too_many_rows_is_a_named_error():
    from pgm_energy.interop.pgmpy_gibbs import GibbsSampling

    sampler = GibbsSampling(BM.to_markov_network())
    with pytest.raises(ModelSizeError, match="size=1000000000000 rows"):
        sampler.sample(size=HUGE, seed=0)


@pytest.mark.parametrize("keep", ["all", "last"])
@pytest.mark.parametrize("burn_in, thin, n_samples", [(0, 1, 5), (3, 2, 4), (7, 3, 1)])
def test_record_slots_by_range_match_the_whole_run(keep, burn_in, thin, n_samples):
    n_sweeps = burn_in + n_samples * thin
    whole = np.full(n_sweeps, -1)
    if keep == "last":
        whole[-1] = 0
    else:
        recorded = np.arange(burn_in + thin - 1, n_sweeps, thin)
        whole[recorded] = np.arange(recorded.shape[0])
    pieces = [_record_slots(a, min(a + 2, n_sweeps), n_sweeps, burn_in, thin, keep) for a in range(0, n_sweeps, 2)]
    np.testing.assert_array_equal(np.concatenate(pieces), whole)


def _dbn(shape, seed):
    from pgm_energy import DeepBeliefNetwork

    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 1.0, size=(shape[k], shape[k + 1])) for k in range(len(shape) - 1)]
    biases = [rng.normal(0, 1.0, size=size) for size in shape]
    return DeepBeliefNetwork(weights, biases)


def test_belief_network_sampling_and_enumeration_do_not_depend_on_the_split(monkeypatch):
    from pgm_energy import SigmoidBeliefNetwork

    sbn = SigmoidBeliefNetwork.random([3, 4, 2], rng=1)
    dbn = _dbn((3, 3, 2), 2)

    def everything():
        return [
            sbn.gibbs_posterior({"v0": 1}, 30, n_chains=3, burn_in=17, thin=2, rng=3).states,
            dbn.gibbs_posterior({dbn.names[0]: 0}, 30, n_chains=3, burn_in=17, thin=2, rng=3).states,
            np.array([sbn.query([sbn.names[-1]], joint=False)[sbn.names[-1]].values]),
        ]

    monkeypatch.setattr("pgm_energy._launch.TARGET_SECONDS", 1e9)
    whole = everything()
    monkeypatch.setattr("pgm_energy._launch.TARGET_SECONDS", 0.0)
    for a, b in zip(whole, everything()):
        np.testing.assert_array_equal(a, b)
