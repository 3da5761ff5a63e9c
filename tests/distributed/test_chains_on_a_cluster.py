"""Sampler chains split across Dask worker processes give the in-process draws, bit for bit.

Each chain's starting state and random stream are drawn in the calling process, so the blocks a
cluster runs only decide where each chain runs. Checked on a LocalCluster of 2 worker processes
(one thread each) for every sampler path that takes ``client=``, with the blocks cut 2, 4 and 6
ways, and with one worker killed mid-run.
"""

from __future__ import annotations

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from pgm_energy import (  # noqa: E402
    BoltzmannMachine,
    CategoricalRBM,
    DeepBoltzmannMachine,
    GaussianBernoulliRBM,
    PottsMachine,
    RestrictedBoltzmannMachine,
)
from pgm_energy import _cluster  # noqa: E402
from pgm_energy.samplers import GibbsSampler, ParallelTemperingSampler, SimulatedAnnealingSampler  # noqa: E402


def _machine(n=14, seed=0):
    g = np.random.default_rng(seed)
    w = np.triu(g.normal(0, 0.6, (n, n)), 1)
    return BoltzmannMachine(w + w.T, g.normal(0, 0.5, n))


def _ring(n=16, seed=1):  # sparse and bipartite: "auto" picks the chromatic scan
    g = np.random.default_rng(seed)
    w = np.zeros((n, n))
    for i in range(n):
        w[i, (i + 1) % n] = w[(i + 1) % n, i] = g.normal(0, 0.8)
    return BoltzmannMachine(w, g.normal(0, 0.3, n))


def _potts(n=9, q=3, seed=2):
    g = np.random.default_rng(seed)
    return PottsMachine([q] * n, None, {(i, i + 1): g.normal(0, 0.6, (q, q)) for i in range(n - 1)})


def _gaussian():
    g = np.random.default_rng(6)
    return GaussianBernoulliRBM(g.normal(0, 0.3, (5, 4)), g.normal(size=5), g.normal(size=4), np.full(5, 0.8))


CASES = {
    "gibbs-sequential": lambda: (GibbsSampler(burn_in=20, scan="sequential"), _machine(), {"n_chains": 9}),
    "gibbs-random": lambda: (GibbsSampler(burn_in=20, scan="random"), _machine(), {"n_chains": 9}),
    "gibbs-chromatic": lambda: (GibbsSampler(burn_in=20), _ring(), {"n_chains": 9, "evidence": {"v3": 1}}),
    "gibbs-last": lambda: (GibbsSampler(burn_in=20), _machine(), {"n_chains": 7, "keep": "last"}),
    # at most CHAINS_PER_PRODUCT (16) chains: the cluster's one group is the in-process product
    "block-float64": lambda: (GibbsSampler(burn_in=10), RestrictedBoltzmannMachine.random(30, 12, scale=0.4, rng=3),
                              {"n_chains": 16, "evidence": {"v0": 1, "h2": 0}}),
    "block-float32": lambda: (GibbsSampler(burn_in=10, dtype="float32"),
                              RestrictedBoltzmannMachine.random(30, 12, scale=0.4, rng=3), {"n_chains": 13}),
    "block-deep": lambda: (GibbsSampler(burn_in=10), DeepBoltzmannMachine.random([10, 6, 4], scale=0.6, rng=4),
                           {"n_chains": 10}),
    "potts": lambda: (GibbsSampler(burn_in=10), _potts(), {"n_chains": 9, "evidence": {"v1": 2}}),
    "categorical-rbm": lambda: (GibbsSampler(burn_in=10), CategoricalRBM.random([3, 2, 4], 5, scale=0.5, rng=1),
                                {"n_chains": 9}),
    "annealing": lambda: (SimulatedAnnealingSampler(n_sweeps=60), _machine(), {}),
    "annealing-potts": lambda: (SimulatedAnnealingSampler(n_sweeps=60), _potts(), {}),
    "tempering": lambda: (ParallelTemperingSampler([1.0, 1.6, 2.5], burn_in=10), _machine(), {"n_chains": 7}),
    "tempering-chromatic": lambda: (ParallelTemperingSampler([1.0, 2.0], burn_in=10, scan="chromatic"), _ring(),
                                    {"n_chains": 7}),
    "gaussian": lambda: (GibbsSampler(burn_in=10), _gaussian(), {"n_chains": 11, "evidence": {"v1": 0.3}}),
    "tempering-gaussian": lambda: (ParallelTemperingSampler([1.0, 1.8], burn_in=10), _gaussian(), {"n_chains": 6}),
    "tempering-potts": lambda: (ParallelTemperingSampler([1.0, 1.7, 3.0], burn_in=10, swap_interval=2), _potts(),
                                {"n_chains": 7, "evidence": {"v1": 2}}),
    "tempering-categorical-rbm": lambda: (ParallelTemperingSampler([1.0, 2.0], burn_in=10, scan="chromatic"),
                                          CategoricalRBM.random([3, 2, 4], 5, scale=0.5, rng=1), {"n_chains": 5}),
}


def _draw(case, **options):
    sampler, model, settings = CASES[case]()
    n_samples = 9 if isinstance(sampler, SimulatedAnnealingSampler) else 15
    return sampler.sample(model, n_samples, rng=11, progress=False, **settings, **options)


@pytest.mark.parametrize("case", list(CASES))
def test_the_cluster_draws_the_in_process_states_bit_for_bit(client, case, monkeypatch):
    here = _draw(case)
    for blocks_per_worker in (1, 2, 3):  # 2, 4 and 6 blocks on the 2 workers
        monkeypatch.setattr(_cluster, "BLOCKS_PER_WORKER", blocks_per_worker)
        there = _draw(case, client=client)
        np.testing.assert_array_equal(there.states, here.states)
        assert there.info["cluster"]["workers"] == 2
        group = 16 if case.startswith("block") or "gaussian" in case else 1  # block Gibbs: groups of 16 chains
        assert there.info["cluster"]["blocks"] == min(2 * blocks_per_worker, -(-there.n_chains // group))
    np.testing.assert_array_equal(there.energies, here.energies)
    for key in ("swap_acceptance", "swap_attempts"):  # pooled over every ensemble of every block
        if key in here.info:
            np.testing.assert_array_equal(there.info[key], here.info[key])
    assert "cluster" not in here.info


def test_workers_are_counted_by_the_scheduler_not_the_clients_cached_identity(client, monkeypatch):
    """The client's periodic refresh can leave a cached identity listing no workers (a 2-worker cluster
    was once counted as 1 in CI): the count must not read that cache."""
    monkeypatch.setattr(client, "scheduler_info", lambda *a, **k: {"workers": {}})
    assert _cluster.n_workers(client) == 2
    assert _draw("gibbs-sequential", client=client).info["cluster"]["workers"] == 2


def test_diagnostics_span_every_chain_of_every_block(client):
    here, there = _draw("gibbs-sequential"), _draw("gibbs-sequential", client=client)
    assert there.n_chains == 9 and there.info["cluster"]["blocks"] == 4
    np.testing.assert_array_equal(there.effective_sample_size(), here.effective_sample_size())


def test_blocks_start_at_whole_groups():
    for n_items in range(1, 60):
        for n_blocks in (1, 2, 3, 4, 8):
            for multiple in (1, 4, 16):
                bounds = _cluster.block_bounds(n_items, n_blocks, multiple)
                assert bounds[0][0] == 0 and bounds[-1][1] == n_items
                assert all(a[1] == b[0] for a, b in zip(bounds[:-1], bounds[1:]))
                assert all(first % multiple == 0 for first, _ in bounds)
                assert len(bounds) == min(n_blocks, -(-n_items // multiple))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_block_gibbs_of_many_chains_draws_the_same_bits_for_every_split(client, monkeypatch, dtype):
    """Beyond 16 chains the cluster multiplies fixed groups of 16 (the BLAS may round a wider product's
    columns differently): the same bits however the groups are spread, and the in-process chains
    up to that rounding, which flips a draw only where a uniform falls within it."""
    from pgm_energy.samplers import _block

    model = RestrictedBoltzmannMachine.random(64, 20, scale=0.3, rng=5)  # small enough for OpenBLAS's small kernels
    sampler = GibbsSampler(burn_in=20, dtype=dtype)
    runs = []
    for blocks_per_worker in (1, 2, 3):
        monkeypatch.setattr(_cluster, "BLOCKS_PER_WORKER", blocks_per_worker)
        runs.append(sampler.sample(model, 10, n_chains=41, rng=3, progress=False, client=client))
        assert runs[-1].info["cluster"]["blocks"] == min(2 * blocks_per_worker, 3)
    for run in runs[1:]:
        np.testing.assert_array_equal(run.states, runs[0].states)
    # the cluster's run is the in-process run of the same groups, one after the other
    from pgm_energy._kernels.rng import seed_streams

    generator = np.random.default_rng(3)
    streams = seed_streams(generator, 41)
    initial = generator.integers(0, 2, size=(41, 84), dtype=np.uint8)  # as the sampler draws them
    grouped, _ = _block.block_gibbs_groups(model, 10, 20, 1, np.zeros(84, dtype=np.uint8), 1.0, np.dtype(dtype),
                                           False, initial, streams)
    np.testing.assert_array_equal(grouped, runs[0].states)
    # and the in-process run of all 41 chains in one product: the same chains, so the same draws unless a
    # rounding difference of the wider product moves a probability across its uniform (about 1e-16 a
    # draw; this seed's 34,440 draws are checked)
    here = sampler.sample(model, 10, n_chains=41, rng=3, progress=False)
    np.testing.assert_array_equal(here.states, runs[0].states)


def test_gaussian_rbm_chains_beyond_one_group_draw_the_same_bits_for_every_split(client, monkeypatch):
    sampler = ParallelTemperingSampler([1.0, 1.5], burn_in=5)
    runs = []
    for blocks_per_worker in (1, 2):
        monkeypatch.setattr(_cluster, "BLOCKS_PER_WORKER", blocks_per_worker)
        runs.append(sampler.sample(_gaussian(), 6, n_chains=37, rng=8, progress=False, client=client))
    np.testing.assert_array_equal(runs[1].states, runs[0].states)
    np.testing.assert_array_equal(runs[1].info["swap_attempts"], runs[0].info["swap_attempts"])
    here = sampler.sample(_gaussian(), 6, n_chains=37, rng=8, progress=False)
    np.testing.assert_allclose(here.states, runs[0].states, rtol=0, atol=1e-12)  # the products' rounding at most


def test_ctrl_c_while_blocks_run_cancels_them(client):
    """An interrupt in the caller (here raised by the progress callback) cancels the blocks not yet done."""

    def interrupt(_):
        raise KeyboardInterrupt

    def slow(seconds, pieces):
        import time

        time.sleep(seconds)
        return pieces

    with pytest.raises(KeyboardInterrupt):
        _cluster.run_by_blocks(client, slow, (0.5,), np.arange(8), on_block=interrupt)
    import time

    deadline = time.monotonic() + 10
    while any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(client.processing().values())


def test_a_worker_killed_mid_run_changes_nothing(run_killing_a_worker):
    """SIGKILL one of two worker processes while its chains run: Dask runs them again, same streams, same bits."""
    model = RestrictedBoltzmannMachine.random(400, 200, scale=0.05, rng=0)
    sampler = GibbsSampler(burn_in=3000)
    options = dict(n_chains=64, keep="last", rng=9, progress=False)  # 4 blocks of 16 chains, about 0.5 s each
    here = sampler.sample(model, 1, **options)
    there = run_killing_a_worker(lambda client: sampler.sample(model, 1, **options, client=client),
                                 lambda client: GibbsSampler(burn_in=1).sample(model, 1, n_chains=4, client=client))
    np.testing.assert_array_equal(here.states, there.states)


def test_the_cli_samples_on_a_scheduler_with_the_same_draws(tmp_path, capsys, embedded_cluster_closed):
    from pgm_energy import save
    from pgm_energy.cli import main

    path = tmp_path / "bm.npz"
    save(_machine(), path)
    arguments = ["sample", str(path), "-n", "5", "--chains", "6", "--burn-in", "10", "--seed", "4"]
    assert main([*arguments, "-o", str(tmp_path / "here.npy")]) == 0
    assert main([*arguments, "--scheduler", "local:1", "-o", str(tmp_path / "there.npy")]) == 0
    message = capsys.readouterr().err
    assert "on 1 workers" in message
    np.testing.assert_array_equal(np.load(tmp_path / "there.npy"), np.load(tmp_path / "here.npy"))
    assert main([*arguments, "--scheduler", "nowhere"]) == 2
    assert "argument --scheduler" in capsys.readouterr().err


def test_the_progress_bar_counts_chains_and_runs_across_workers(client, monkeypatch):
    """The bar of a run on a cluster is updated as blocks finish, by their chains (or AIS runs)."""
    from pgm_energy import ais

    bars = []

    class Bar:
        shown = True

        def __init__(self, enabled, total, *, unit, description):
            self.enabled, self.total, self.unit, self.description, self.counts = enabled, total, unit, description, []
            bars.append(self)

        def update(self, count):
            self.counts.append(count)

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            return None

    monkeypatch.setattr(_cluster, "progress_bar", Bar)
    model = RestrictedBoltzmannMachine.random(40, 20, scale=0.05, rng=0)
    GibbsSampler(burn_in=10).sample(model, 1, n_chains=40, keep="last", rng=0, client=client)
    ais.log_partition_function(model, n_runs=8, betas=30, rng=0, client=client, progress=False)
    gibbs, runs = bars
    assert (gibbs.enabled, gibbs.total, gibbs.unit) == (True, 40, "chain")
    assert gibbs.description == "block Gibbs on 3 blocks, 2 workers" and sorted(gibbs.counts) == [8, 16, 16]
    assert (runs.enabled, runs.total, runs.unit, sum(runs.counts)) == (False, 8, "run", 8)


def test_shared_arguments_survive_the_death_of_every_worker_holding_them(disposable_client):
    """A model shared with the workers is computed again when its holders die (scattered data would be lost)."""
    import os
    import signal

    client = disposable_client()
    value = np.arange(1000.0)
    shared = _cluster.share(client, value)
    shared.result(timeout=60)
    pids = client.run(os.getpid)
    for address in client.who_has([shared])[shared.key]:
        os.kill(pids[address], signal.SIGKILL)
    assert client.submit(np.sum, shared, pure=False).result(timeout=120) == value.sum()
