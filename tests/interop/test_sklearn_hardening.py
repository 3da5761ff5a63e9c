"""The scikit-learn drop-in under Ctrl-C and absurd counts: nothing lost, nothing run for ever."""

from __future__ import annotations

import numpy as np
import pytest

from pgm_energy.learning import _cd_engine
from pgm_energy.sklearn import BernoulliRBM


def _data():
    rng = np.random.default_rng(0)
    return (rng.random((60, 8)) < 0.4).astype(np.float64)


def test_an_interrupted_pass_changes_nothing_and_training_continues_as_if_it_never_ran(monkeypatch):
    X = _data()
    reference = BernoulliRBM(n_components=4, n_iter=1, batch_size=10, random_state=0).fit(X)
    reference.partial_fit(X)

    estimator = BernoulliRBM(n_components=4, n_iter=1, batch_size=10, random_state=0).fit(X)
    real_epoch = _cd_engine.cd_epoch

    def interrupted(state, *args, **options):
        real_epoch(state, *args, **options)  # the pass updates everything in place ...
        raise KeyboardInterrupt  # ... and then Ctrl-C arrives

    monkeypatch.setattr(_cd_engine, "cd_epoch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        estimator.partial_fit(X)
    monkeypatch.setattr(_cd_engine, "cd_epoch", real_epoch)
    assert len(estimator.history_) == 1
    estimator.partial_fit(X)  # same bits as a run that was never interrupted
    np.testing.assert_array_equal(estimator.components_, reference.components_)
    np.testing.assert_array_equal(estimator.intercept_hidden_, reference.intercept_hidden_)
    np.testing.assert_array_equal(estimator.intercept_visible_, reference.intercept_visible_)


@pytest.mark.parametrize("option", [{"k": 10**12}, {"k": 2**63}, {"n_iter": 10**12}, {"ais_steps": 10**12}])
def test_counts_beyond_the_package_limits_are_refused_before_training(option):
    from pgm_energy import PGMEnergyError

    settings = {"n_components": 2, "n_iter": 1, "batch_size": 2, "random_state": 0, **option}
    name = next(iter(option))
    with pytest.raises(PGMEnergyError, match=f"'{name}' parameter") as caught:
        BernoulliRBM(**settings).fit(_data())
    assert isinstance(caught.value, ValueError)
