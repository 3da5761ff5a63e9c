"""fit_many: sweeps of trainers, the same results in process and on a cluster, scored on validation data."""

from __future__ import annotations

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from pgm_energy import exact  # noqa: E402
from pgm_energy.distributed import fit_many  # noqa: E402
from pgm_energy.exceptions import ParameterTypeError, ValidationError  # noqa: E402
from pgm_energy.learning import CategoricalCD, ContrastiveDivergence, DeepBoltzmannPCD  # noqa: E402


def data():
    rows = (np.random.default_rng(0).random((240, 10)) < 0.3).astype(np.uint8)
    return rows[:200], rows[200:]


def runs():
    return {
        "cd lr 0.05": (ContrastiveDivergence(learning_rate=0.05, epochs=4, monitor=None), 4),
        "pcd lr 0.02": (ContrastiveDivergence(persistent=True, learning_rate=0.02, epochs=4, monitor=None), 6),
        "dbm": (DeepBoltzmannPCD(epochs=2, batch_size=50, monitor=None), [4, 3]),
    }


def test_the_cluster_gives_the_in_process_results_bit_for_bit(client):
    train, valid = data()
    here = fit_many(runs(), train, validation=valid, rng=3)
    there = fit_many(runs(), train, validation=valid, rng=3, client=client)
    for a, b in zip(here.results, there.results):
        for x, y in zip(a.model._to_arrays().values(), b.model._to_arrays().values()):
            np.testing.assert_array_equal(x, y)
    assert list(here.table["log_likelihood"]) == list(there.table["log_likelihood"])
    assert list(here.table["seed"]) == list(there.table["seed"])


def test_each_run_is_the_trainers_own_fit_with_its_seed_and_is_scored_exactly():
    train, valid = data()
    sweep = fit_many(runs(), train, validation=valid, rng=3)
    table = sweep.table
    assert list(table["name"]) == ["cd lr 0.05", "pcd lr 0.02", "dbm"]
    assert list(table["method"]) == ["exact", "exact", "exact"]
    for (trainer, size), seed, result, score in zip(runs().values(), table["seed"], sweep.results,
                                                    table["log_likelihood"]):
        alone = trainer.fit(size, train, validation=valid, rng=int(seed), progress=False)
        for x, y in zip(alone.model._to_arrays().values(), result.model._to_arrays().values()):
            np.testing.assert_array_equal(x, y)
        assert score == pytest.approx(exact.log_likelihood(result.model, valid), abs=1e-12)
    assert np.all(table["epochs"] == [4, 4, 2])


def test_without_validation_data_there_is_no_score():
    train, _ = data()
    sweep = fit_many([(ContrastiveDivergence(epochs=1, monitor=None), 3)], train, rng=0)
    assert sweep.table["method"][0] == "none" and np.isnan(sweep.table["log_likelihood"][0])
    assert sweep.table["name"][0] == "run0"


def test_bad_runs_are_named():
    train, _ = data()
    with pytest.raises(ParameterTypeError, match="runs"):
        fit_many(ContrastiveDivergence(), train)
    with pytest.raises(ValidationError, match="at least one"):
        fit_many([], train)
    with pytest.raises(ParameterTypeError, match=r"runs\['run0'\]"):
        fit_many([(object(), 3)], train)
    with pytest.raises(ParameterTypeError, match="client"):
        fit_many([(ContrastiveDivergence(epochs=1), 3)], train, client=5)
    with pytest.raises(ValidationError):  # a trainer's own check, raised from the run
        fit_many([(CategoricalCD(epochs=1), 3)], train[:, :0])
