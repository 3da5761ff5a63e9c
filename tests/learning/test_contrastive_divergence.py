"""ContrastiveDivergence: initialisation, schedules, averaging, learning, model.fit, engine vs reference."""

from __future__ import annotations

import numpy as np
import pytest

from pgm_energy import RestrictedBoltzmannMachine, exact
from pgm_energy.exceptions import ValidationError
from pgm_energy.learning import ContrastiveDivergence
from pgm_energy.learning.contrastive_divergence import hinton_momentum, initial_rbm


def test_hinton_initialisation():
    rng = np.random.default_rng(0)
    data = (rng.random((4000, 30)) < np.linspace(0.05, 0.95, 30)).astype(np.float32)
    data[:, 0] = 0  # a unit that is never on gets a finite bias (p clipped to 0.001)
    model = initial_rbm(200, data, tuple(f"v{i}" for i in range(30)), np.random.default_rng(1))
    assert model.weights.shape == (30, 200)
    assert abs(model.weights.std() - 0.01) < 0.0005 and abs(model.weights.mean()) < 0.0005
    np.testing.assert_array_equal(model.hidden_bias, 0.0)
    p = data.mean(axis=0, dtype=np.float64)
    np.testing.assert_allclose(model.visible_bias[1:], np.log(p[1:] / (1 - p[1:])), rtol=1e-6)
    assert model.visible_bias[0] == pytest.approx(np.log(0.001 / 0.999))


def test_schedules_and_momentum_default(engine, small_binary):
    assert [hinton_momentum(e) for e in (1, 5, 6, 100)] == [0.5, 0.5, 0.9, 0.9]
    assert [ContrastiveDivergence(persistent=False).momentum(e) for e in (1, 6)] == [0.5, 0.9]  # CD: Hinton's
    assert [ContrastiveDivergence().momentum(e) for e in (1, 6)] == [0.0, 0.0]  # the default is PCD: none
    assert [ContrastiveDivergence(persistent=True).momentum(e) for e in (1, 6)] == [0.0, 0.0]  # PCD: none
    assert ContrastiveDivergence(persistent=True, momentum=0.5).momentum(9) == 0.5
    trainer = ContrastiveDivergence(k=[1, 2, 3])
    assert [trainer.k(e) for e in (1, 2, 3, 4, 10)] == [1, 2, 3, 3, 3]
    grows = ContrastiveDivergence(k=lambda epoch: 1 + epoch // 2)
    assert [grows.k(e) for e in (1, 2, 5)] == [1, 2, 3]
    bad = ContrastiveDivergence(k=lambda epoch: 0, epochs=2, monitor=None, batch_size=10)
    with pytest.raises(ValidationError, match=r"k\(1\) must be >= 1"):
        bad.fit(3, small_binary, rng=0, progress=False)
    with pytest.raises(ValidationError, match="averaging"):
        ContrastiveDivergence(averaging=1.5)
    with pytest.raises(ValidationError, match="temperature"):
        ContrastiveDivergence(epochs=1, monitor=None, batch_size=10).fit(
            RestrictedBoltzmannMachine.random(8, 2, temperature=2.0), small_binary, progress=False
        )


def test_averaging_returns_the_mean_of_the_last_epochs(engine, small_binary):
    seen = []

    def remember(epoch, model, history):
        seen.append(model)

    options = dict(epochs=6, batch_size=10, monitor=None, learning_rate=0.05)
    averaged = ContrastiveDivergence(averaging=3, **options).fit(3, small_binary, rng=2, callbacks=[remember], progress=False)
    expected = np.mean([model.weights for model in seen[3:]], axis=0)
    np.testing.assert_allclose(averaged.model.weights, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(averaged.model.hidden_bias, np.mean([m.hidden_bias for m in seen[3:]], axis=0), atol=1e-15)
    # a fraction: half of 6 epochs is the same window
    half = ContrastiveDivergence(averaging=0.5, **options).fit(3, small_binary, rng=2, progress=False)
    np.testing.assert_array_equal(half.model.weights, averaged.model.weights)
    plain = ContrastiveDivergence(**options).fit(3, small_binary, rng=2, progress=False)
    np.testing.assert_array_equal(plain.model.weights, seen[-1].weights)


@pytest.mark.parametrize(
    "options",
    [dict(k=1, persistent=False), dict(k=3, persistent=False),
     dict(persistent=True, n_chains=50, learning_rate=0.2, epochs=100)],
    ids=["CD-1", "CD-3", "PCD"],
)
def test_training_raises_the_exact_log_likelihood_on_bars_and_stripes(engine, bas3, options):
    data = np.tile(bas3, (10, 1))
    settings = dict(epochs=60, batch_size=10, learning_rate=0.1, monitor=None)
    settings.update(options)
    result = ContrastiveDivergence(**settings).fit(12, data, rng=0, progress=False)
    independent = exact.log_likelihood(initial_rbm(12, data.astype(float), None, np.random.default_rng(0)), data)
    reached = exact.log_likelihood(result.model, data)
    # measured: CD-1 -3.51, CD-3 about -3.3, PCD (no momentum, its default) -3.5 to -4.3 over
    # seeds 0-3; the independent-unit start is -6.24, the optimum -ln 14 = -2.64
    assert reached > independent + 0.7
    assert reached < -np.log(len(bas3)) + 1e-9


def test_sparsity_target_pulls_hidden_activity_down(engine, small_binary):
    options = dict(epochs=40, batch_size=10, learning_rate=0.05, monitor=None)
    free = ContrastiveDivergence(**options).fit(6, small_binary, rng=0, progress=False).model
    sparse = ContrastiveDivergence(sparsity_target=0.05, sparsity_cost=0.5, **options).fit(6, small_binary, rng=0, progress=False).model
    assert sparse.hidden_probabilities(small_binary).mean() < free.hidden_probabilities(small_binary).mean() - 0.05


def test_model_fit_pgmpy_style(engine, small_binary, monkeypatch):
    import pandas as pd

    from pgm_energy.learning import contrastive_divergence

    monkeypatch.setattr(contrastive_divergence, "AUTO_UPDATES", 300)  # the default run, shortened

    names = [f"x{i}" for i in range(8)]
    start = RestrictedBoltzmannMachine.random(8, 3, rng=0, visible_names=names)
    frame = pd.DataFrame(small_binary, columns=names)
    trainer = ContrastiveDivergence(epochs=3, batch_size=10, monitor=None)
    trained = start.fit(frame, trainer=trainer, rng=4, progress=False)
    assert isinstance(trained, RestrictedBoltzmannMachine) and trained.visible_names == tuple(names)
    np.testing.assert_array_equal(trained.weights, trainer.fit(start, small_binary, rng=4, progress=False).model.weights)
    default = start.fit(small_binary, rng=4, progress=False)  # ContrastiveDivergence() defaults
    assert default.n_hidden == 3 and not np.array_equal(default.weights, start.weights)


def test_engine_and_reference_agree_in_expectation(reference_engine):
    """One CD-1 epoch from the same state: mean updates of the engine and the reference agree.

    Averaged over many seeds the sampled updates converge to the same expected update; the
    tolerance is 5 standard errors of the difference.
    """
    from pgm_energy.learning import _cd_engine

    rng = np.random.default_rng(0)
    model = RestrictedBoltzmannMachine(rng.normal(0, 0.5, (6, 4)), rng.normal(0, 0.5, 6), rng.normal(0, 0.5, 4))
    data = rng.integers(0, 2, size=(8, 6)).astype(np.float64)
    order = np.arange(8, dtype=np.int64)
    updates = {}
    for name, module in (("engine", _cd_engine), ("reference", reference_engine)):
        deltas = []
        for seed in range(400):
            state = module.new_state(model.weights, model.visible_bias, model.hidden_bias, n_chains=0, n_streams=8,
                                     dtype=np.float64, rng=np.random.default_rng(seed))
            module.cd_epoch(state, data, order, batch_size=8, k=1, persistent=False, learning_rate=1.0, momentum=0.0,
                            weight_decay=0.0, sparsity_target=None, sparsity_cost=0.0)
            deltas.append(np.concatenate([(state.weights - model.weights).ravel(), state.visible_bias - model.visible_bias,
                                          state.hidden_bias - model.hidden_bias]))
        updates[name] = np.array(deltas)
    difference = updates["engine"].mean(axis=0) - updates["reference"].mean(axis=0)
    standard_error = np.sqrt(updates["engine"].var(axis=0) / 400 + updates["reference"].var(axis=0) / 400) + 1e-12
    assert np.all(np.abs(difference) < 5 * standard_error)
