"""AIS runs split across Dask worker processes give the in-process answer, bit for bit.

Every run's random streams are drawn in the calling process before any run starts, so the blocks
a cluster runs only decide where each run happens. Checked on a LocalCluster of 2 worker processes
(one thread each) for every model kind AIS takes, and on 1 worker.
"""

from __future__ import annotations

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from pgm_energy import (  # noqa: E402
    CategoricalRBM,
    DeepBoltzmannMachine,
    GaussianBernoulliRBM,
    RestrictedBoltzmannMachine,
    ais,
)
from pgm_energy._cluster import block_bounds, resolve_client  # noqa: E402
from pgm_energy.exceptions import ParameterTypeError, ValidationError  # noqa: E402


def models():
    g = np.random.default_rng(0)
    rbm = RestrictedBoltzmannMachine(g.normal(0, 0.5, (12, 6)), g.normal(0, 0.5, 12), g.normal(0, 0.5, 6))
    categorical = CategoricalRBM.random([3, 2, 4, 2], 5, scale=0.5, rng=1)
    gaussian = GaussianBernoulliRBM(g.normal(0, 0.3, (5, 4)), g.normal(size=5), g.normal(size=4), np.full(5, 0.8))
    deep = DeepBoltzmannMachine.random([8, 5, 4], scale=0.7, rng=2)
    return {"rbm": rbm, "categorical": categorical, "gaussian": gaussian, "deep": deep}


@pytest.mark.parametrize("kind", ["rbm", "categorical", "gaussian", "deep"])
def test_the_cluster_computes_the_in_process_log_weights_bit_for_bit(client, kind):
    model = models()[kind]
    here = ais.log_partition_function(model, n_runs=11, betas=200, rng=5)  # compiles and caches the kernel first
    there = ais.log_partition_function(model, n_runs=11, betas=200, rng=5, client=client)
    np.testing.assert_array_equal(here.log_weights, there.log_weights)
    assert here.log_z == there.log_z and here.log_z_std == there.log_z_std


def test_estimate_log_likelihood_on_the_cluster_is_the_in_process_estimate(client):
    model = models()["rbm"]
    data = (np.random.default_rng(3).random((30, 12)) < 0.4).astype(np.uint8)
    here = ais.estimate_log_likelihood(model, data, n_runs=7, betas=100, rng=1)
    there = ais.estimate_log_likelihood(model, data, n_runs=7, betas=100, rng=1, client=client)
    assert here.mean == there.mean
    np.testing.assert_array_equal(here.log_z.log_weights, there.log_z.log_weights)


def test_more_runs_than_blocks_and_fewer_runs_than_workers(client):
    model = models()["rbm"]
    for n_runs in (1, 3, 17):
        here = ais.log_partition_function(model, n_runs=n_runs, betas=50, rng=n_runs)
        there = ais.log_partition_function(model, n_runs=n_runs, betas=50, rng=n_runs, client=client)
        np.testing.assert_array_equal(here.log_weights, there.log_weights)


def test_blocks_cover_every_run_once_in_order():
    for n_items, n_blocks in ((1, 4), (5, 4), (17, 4), (100, 3)):
        bounds = block_bounds(n_items, n_blocks)
        assert bounds[0][0] == 0 and bounds[-1][1] == n_items
        assert all(a[1] == b[0] for a, b in zip(bounds[:-1], bounds[1:]))
        assert len(bounds) == min(n_items, n_blocks)


@pytest.mark.parametrize(
    "value, error, match",
    [
        (3, ParameterTypeError, "client"),
        ("cluster", ValidationError, "client='cluster'"),
        ("local:0", ValidationError, "local:N"),
        ("local:x", ValidationError, "local:N"),
    ],
)
def test_a_bad_client_is_named(value, error, match):
    with pytest.raises(error, match=match):
        resolve_client(value)
    with pytest.raises(error, match=match):
        ais.log_partition_function(models()["rbm"], n_runs=2, betas=10, client=value)


def test_local_names_an_embedded_cluster_made_once_and_reused(embedded_cluster_closed):
    from pgm_energy import _cluster

    first = resolve_client("local:1")
    assert resolve_client("local:1") is first
    assert _cluster.n_workers(first) == 1
    model = models()["rbm"]
    here = ais.log_partition_function(model, n_runs=5, betas=50, rng=2)
    there = ais.log_partition_function(model, n_runs=5, betas=50, rng=2, client="local:1")
    np.testing.assert_array_equal(here.log_weights, there.log_weights)


def test_a_worker_killed_mid_run_changes_nothing(run_killing_a_worker):
    """SIGKILL one of two worker processes while its blocks run: Dask runs them again, same streams, same bits."""
    model = RestrictedBoltzmannMachine.random(784, 300, scale=0.05, rng=0)
    options = dict(n_runs=8, betas=2000, base="uniform", rng=9)  # about 0.5 s per block of 2 runs on one core
    here = ais.log_partition_function(model, **options)
    there = run_killing_a_worker(lambda client: ais.log_partition_function(model, **options, client=client),
                                 lambda client: ais.log_partition_function(model, n_runs=2, betas=10, client=client))
    np.testing.assert_array_equal(here.log_weights, there.log_weights)


def test_the_cli_runs_ais_on_a_scheduler_with_the_same_result(tmp_path, capsys, embedded_cluster_closed):
    from pgm_energy import save
    from pgm_energy.cli import main

    path = tmp_path / "dbm.npz"
    save(models()["deep"], path)
    arguments = ["logz", str(path), "--method", "ais", "--runs", "6", "--seed", "4"]
    assert main(arguments) == 0
    here = capsys.readouterr().out
    assert main([*arguments, "--scheduler", "local:1"]) == 0
    there = capsys.readouterr().out
    assert "on local:1" in there
    assert here.split("(")[0] == there.split("(")[0]  # "log Z = ... +- ..." to the printed digits
    assert main([*arguments, "--scheduler", "cluster"]) == 2  # a one-line usage error
    assert "argument --scheduler" in capsys.readouterr().err
