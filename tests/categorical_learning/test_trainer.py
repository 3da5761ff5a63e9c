"""CategoricalCD: the gradient it follows, what it learns, its equivalence with binary CD, its bits, its errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pgm_energy import exact
from pgm_energy.exceptions import ParameterTypeError, StateError, ValidationError
from pgm_energy.learning import ContrastiveDivergence
from pgm_energy.learning.categorical_cd import CategoricalCD, categorical_cd_epoch, initial_categorical_rbm
from pgm_energy.models import CategoricalRBM

CARDS = [3, 4, 2, 3, 4]


def true_model(cards=CARDS, n_hidden=3, scale=1.5, seed=4):
    """A small CategoricalRBM with strong weights, centred per variable, and hidden biases that
    keep the hidden units off half the time: its test log-likelihood is 0.47 nats above that of
    independent variables (seed 4, scale 1.5)."""
    generator = np.random.default_rng(seed)
    total = sum(cards)
    weights = generator.normal(0.0, scale, (total, n_hidden))
    starts = np.cumsum([0] + list(cards[:-1]))
    weights -= np.repeat(np.add.reduceat(weights, starts, axis=0) / np.array(cards)[:, None], cards, axis=0)
    return CategoricalRBM(weights, generator.normal(0.0, 0.3, total), -0.5 * np.abs(weights).sum(axis=0) / len(cards),
                          cardinalities=cards)


def ancestral_samples(model, n, seed):
    """Exact draws: h from p(h) by enumerating the hidden layer, then v | h per variable (softmax)."""
    generator = np.random.default_rng(seed)
    hidden_states = np.array(list(itertools.product([0, 1], repeat=model.n_hidden)), dtype=float)
    offsets = model.field_offsets
    log_p = hidden_states @ model.hidden_bias
    fields = hidden_states @ model.weights.T + model.visible_bias
    for i in range(model.n_visible):
        block = fields[:, offsets[i]:offsets[i + 1]]
        top = block.max(axis=1, keepdims=True)
        log_p += (top[:, 0] + np.log(np.exp(block - top).sum(axis=1)))
    p_h = np.exp(log_p - log_p.max())
    hidden = hidden_states[generator.choice(len(p_h), size=n, p=p_h / p_h.sum())]
    probabilities = model.visible_probabilities(hidden)
    rows = np.empty((n, model.n_visible), dtype=np.int64)
    for i in range(model.n_visible):
        block = probabilities[:, offsets[i]:offsets[i + 1]]
        u = generator.random((n, 1))
        rows[:, i] = np.minimum((np.cumsum(block, axis=1) < u).sum(axis=1), block.shape[1] - 1)
    return rows


def independent_log_likelihood(train, test, cards):
    total = 0.0
    for i, k in enumerate(cards):
        counts = np.bincount(train[:, i], minlength=k) + 0.5
        total += np.log(counts / counts.sum())[test[:, i]].mean()
    return total


@pytest.fixture(scope="module")
def synthetic():
    model = true_model()
    return model, ancestral_samples(model, 2000, seed=2), ancestral_samples(model, 2000, seed=3)


# ---------------------------------------------------------------------------- the gradient
def finite_difference_gradient(model, data, step=1e-5):
    """Central differences of the exact mean log-likelihood in every parameter."""
    arrays = {"weights": model.weights, "visible_bias": model.visible_bias, "hidden_bias": model.hidden_bias}
    gradient = {}
    for name, array in arrays.items():
        grad = np.zeros(array.shape)
        for index in np.ndindex(array.shape):
            values = []
            for sign in (1.0, -1.0):
                changed = {key: value.copy() for key, value in arrays.items()}
                changed[name][index] += sign * step
                values.append(exact.log_likelihood(CategoricalRBM(**changed, cardinalities=model.cardinalities), data))
            grad[index] = (values[0] - values[1]) / (2 * step)
        gradient[name] = grad
    return gradient


def test_long_chain_negative_phase_follows_the_exact_gradient():
    # One full-batch PCD update with learning rate 1, no momentum, no decay: the change of each
    # parameter is the estimated gradient. 40,000 chains of 30 steps each (from the biases'
    # softmax) sample the model nearly exactly; the Monte Carlo error of a statistic is about
    # 0.5 / sqrt(40000) = 0.0025, so 0.02 is 8 standard errors.
    model = true_model(n_hidden=2, scale=0.8, seed=4)
    data = ancestral_samples(true_model(n_hidden=2, scale=1.2, seed=5), 50, seed=6)
    expected = finite_difference_gradient(model, data)
    trainer = CategoricalCD(n_chains=40_000, batch_size=None, epochs=1, monitor=None, averaging=None)
    trainer._run = {"cards": tuple(CARDS)}
    state = trainer._initial_state(model, data, np.random.default_rng(7))
    before = [np.array(a) for a in (state.weights, state.visible_bias, state.hidden_bias)]
    categorical_cd_epoch(state, data, np.arange(data.shape[0], dtype=np.int64), model.field_offsets,
                         batch_size=data.shape[0], k=30, persistent=True, learning_rate=1.0, momentum=0.0,
                         weight_decay=0.0)
    for name, old, new in zip(("weights", "visible_bias", "hidden_bias"), before,
                              (state.weights, state.visible_bias, state.hidden_bias)):
        np.testing.assert_allclose(new - old, expected[name], atol=0.02, err_msg=name)
    # and the positive phase alone is exact: with the negative statistics of the exact model
    # expectations removed, what is left is <x h>_data (checked through the exact gradient above)


def test_cd_statistics_use_probabilities_in_the_positive_phase():
    # With k large the CD estimate approaches the same gradient (chains from each data row).
    model = true_model(n_hidden=2, scale=0.8, seed=4)
    data = np.repeat(ancestral_samples(true_model(n_hidden=2, scale=1.2, seed=5), 50, seed=6), 400, axis=0)
    expected = finite_difference_gradient(model, data[::400])
    trainer = CategoricalCD(persistent=False, batch_size=None, epochs=1, monitor=None, averaging=None)
    trainer._run = {"cards": tuple(CARDS)}
    state = trainer._initial_state(model, data, np.random.default_rng(8))
    before = np.array(state.weights)
    categorical_cd_epoch(state, data, np.arange(data.shape[0], dtype=np.int64), model.field_offsets,
                         batch_size=data.shape[0], k=30, persistent=False, learning_rate=1.0, momentum=0.0,
                         weight_decay=0.0)
    np.testing.assert_allclose(state.weights - before, expected["weights"], atol=0.02)


# ---------------------------------------------------------------------------- learning
def test_learning_raises_the_exact_test_log_likelihood(synthetic):
    truth, train, test = synthetic
    trainer = CategoricalCD(epochs=150, learning_rate=0.02, monitor=None)  # 15,000 updates, 0.2 s
    start = initial_categorical_rbm(3, train, CARDS, np.random.default_rng(0))
    result = trainer.fit(3, train, rng=0, progress=False)
    before = exact.log_likelihood(start, test)
    after = exact.log_likelihood(result.model, test)
    best = exact.log_likelihood(truth, test)
    independent = independent_log_likelihood(train, test, CARDS)
    assert after > before + 0.3  # measured: 0.43
    assert after > independent + 0.3
    # declared tolerance: within 0.06 nats of the generating model (measured: 0.037, of which about
    # 0.015 is the finite sample of 2000 rows for ~60 free parameters)
    assert after > best - 0.06
    assert result.model.cardinalities == tuple(CARDS)


def test_two_state_model_learns_as_binary_cd():
    binary_truth = true_model(cards=[2] * 6, n_hidden=3, scale=1.5, seed=12)
    data = ancestral_samples(binary_truth, 1500, seed=13)
    test = ancestral_samples(binary_truth, 1500, seed=14)
    categorical = CategoricalCD(epochs=100, monitor=None).fit(3, data, rng=0, progress=False).model
    binary = ContrastiveDivergence(epochs=100, learning_rate=0.02, monitor=None).fit(3, data, rng=0, progress=False).model
    # The categorical parameters in binary form: W = W(1) - W(0), b = b(1) - b(0).
    offsets = categorical.field_offsets[:-1]
    as_binary_weights = categorical.weights[offsets + 1] - categorical.weights[offsets]
    assert as_binary_weights.shape == binary.weights.shape
    ll_categorical = exact.log_likelihood(categorical, test)
    ll_binary = exact.log_likelihood(binary, test.astype(np.uint8))
    ll_truth = exact.log_likelihood(binary_truth, test)
    assert abs(ll_categorical - ll_binary) < 0.03, (ll_categorical, ll_binary)
    assert ll_categorical > ll_truth - 0.05


# ---------------------------------------------------------------------------- bits
@pytest.mark.parametrize("options", [dict(), dict(persistent=False, k=2), dict(dtype="float32", n_chains=7)])
def test_same_seed_same_bits(synthetic, options):
    _, train, _ = synthetic
    first = CategoricalCD(epochs=3, monitor=None, **options).fit(3, train[:300], rng=5, progress=False).model
    second = CategoricalCD(epochs=3, monitor=None, **options).fit(3, train[:300], rng=5, progress=False).model
    other = CategoricalCD(epochs=3, monitor=None, **options).fit(3, train[:300], rng=6, progress=False).model
    for name in ("weights", "visible_bias", "hidden_bias"):
        assert np.array_equal(getattr(first, name), getattr(second, name))
    assert not np.array_equal(first.weights, other.weights)


def test_bits_do_not_depend_on_how_the_epoch_is_cut(synthetic, monkeypatch):
    from pgm_energy import _launch

    _, train, _ = synthetic
    whole = CategoricalCD(epochs=2, monitor=None).fit(3, train[:300], rng=5, progress=False).model
    monkeypatch.setattr(_launch, "TARGET_SECONDS", 0.0)  # one batch per kernel call
    cut = CategoricalCD(epochs=2, monitor=None).fit(3, train[:300], rng=5, progress=False).model
    assert np.array_equal(whole.weights, cut.weights)


@pytest.mark.parametrize("persistent", [True, False])
def test_resume_equals_the_uninterrupted_run(synthetic, tmp_path, persistent):
    _, train, valid = synthetic
    options = dict(epochs=6, persistent=persistent, monitor="log_likelihood", monitor_every=2)
    path = tmp_path / "run.npz"
    full = CategoricalCD(**options).fit(3, train[:200], validation=valid[:50], rng=3, progress=False)
    stopped = CategoricalCD(**options, checkpoint_every=3, checkpoint_path=path).fit(
        3, train[:200], validation=valid[:50], rng=3, progress=False, callbacks=lambda epoch, model, history: epoch == 3)
    assert stopped.stop_reason == "callback"
    resumed = CategoricalCD(**options).fit(3, train[:200], validation=valid[:50], progress=False, resume_from=path)
    for name in ("weights", "visible_bias", "hidden_bias"):
        assert np.array_equal(getattr(full.model, name), getattr(resumed.model, name))
    columns = full.history.to_pandas().drop(columns="seconds")
    np.testing.assert_array_equal(columns.to_numpy(), resumed.history.to_pandas().drop(columns="seconds").to_numpy())
    assert "validation_log_likelihood" in columns


def test_monitor_records_exact_log_likelihood(synthetic):
    truth, train, valid = synthetic
    result = CategoricalCD(epochs=4, monitor=["log_likelihood", "free_energy_gap"], monitor_every=2).fit(
        truth, train[:300], validation=valid[:100], rng=0, progress=False)
    frame = result.history.to_pandas()
    assert np.isnan(frame["log_likelihood"].iloc[0]) and not np.isnan(frame["log_likelihood"].iloc[1])
    assert list(frame.index) == [1, 2, 3, 4]
    assert "free_energy_gap" in frame


# ---------------------------------------------------------------------------- data forms
def test_dataframe_of_state_names(synthetic):
    pd = pytest.importorskip("pandas")
    _, train, _ = synthetic
    names = {"a": ["x", "y", "z"], "b": [10, 20, 30, 40], "c": ["off", "on"], "d": ["p", "q", "r"],
             "e": ["A", "B", "C", "D"]}
    frame = pd.DataFrame({column: [names[column][s] for s in train[:200, i]] for i, column in enumerate(names)})
    frame["a"] = pd.Categorical(frame["a"], categories=["x", "y", "z"])
    trainer = CategoricalCD(epochs=2, monitor=None)
    model = trainer.fit(2, frame, rng=0, progress=False).model
    assert model.visible_names == ("a", "b", "c", "d", "e")
    assert model.state_names["a"] == ["x", "y", "z"] and model.state_names["c"] == ["off", "on"]
    # names of an object column: the distinct values seen, sorted ("q" never occurs in these rows)
    assert model.state_names["d"] == ["p", "r"] and model.cardinalities[3] == 2
    # column b holds integers: indices of a new model (the largest, 40, gives 41 states)
    assert model.cardinalities[1] == 41
    # a given model reads the names (and columns in any order) as the indices they stand for
    again = trainer.fit(model, frame[["e", "d", "c", "b", "a"]], rng=0, progress=False).model
    indices = train[:200].copy()
    indices[:, 1] = np.array(names["b"])[indices[:, 1]]  # b: the integers themselves, as indices
    indices[:, 3] = np.where(indices[:, 3] == 2, 1, 0)  # d: "p" -> 0, "r" -> 1
    by_index = trainer.fit(model, indices, rng=0, progress=False).model
    assert np.array_equal(again.weights, by_index.weights)


def test_cardinalities_option_and_unseen_states(synthetic):
    _, train, _ = synthetic
    model = CategoricalCD(epochs=1, monitor=None, cardinalities=[3, 5, 2, 4, 4]).fit(2, train[:100], rng=0,
                                                                                     progress=False).model
    assert model.cardinalities == (3, 5, 2, 4, 4)
    small = train[:100].copy()
    small[:, 1] = np.minimum(small[:, 1], 2)  # state 3 of variable 1 never seen in training
    with pytest.raises(StateError, match=r"validation holds state 3 of variable 'v1'.*cardinalities="):
        CategoricalCD(epochs=1, monitor=None).fit(2, small, validation=train, rng=0, progress=False)


# ---------------------------------------------------------------------------- errors
@pytest.mark.parametrize("options, error, words", [
    (dict(k=0), ValidationError, "k"),
    (dict(learning_rate=-1.0), ValidationError, "learning_rate"),
    (dict(learning_rate="fast"), ParameterTypeError, "learning_rate"),
    (dict(momentum=1.5), ValidationError, "momentum"),
    (dict(weight_decay=float("nan")), ValidationError, "weight_decay"),
    (dict(persistent=False, n_chains=4), ValidationError, "n_chains"),
    (dict(persistent="yes"), ParameterTypeError, "persistent"),
    (dict(cardinalities=[3, 0]), ValidationError, r"cardinalities\[1\]"),
    (dict(cardinalities="abc"), ParameterTypeError, "cardinalities"),
    (dict(cardinalities=[2.5]), ParameterTypeError, r"cardinalities\[0\]"),
    (dict(monitor="pseudo_log_likelihood"), ValidationError, "monitor"),
    (dict(monitor=[3]), ParameterTypeError, "monitor"),
    (dict(averaging=0), ValidationError, "averaging"),
    (dict(batch_size=0), ValidationError, "batch_size"),
    (dict(epochs="many"), ParameterTypeError, "epochs"),
    (dict(dtype="float16"), ValidationError, "dtype"),
    (dict(checkpoint_every=2), ValidationError, "checkpoint_path"),
])
def test_bad_options_are_named(options, error, words):
    with pytest.raises((error, ValidationError, ParameterTypeError), match=words):
        CategoricalCD(**options)


@pytest.mark.parametrize("data, error, words", [
    (np.array([[0, 1], [1, -1]]), StateError, "state indices >= 0"),
    (np.array([[0.0, 1.5], [1.0, 0.0]]), StateError, "whole numbers"),
    (np.array([[True, False], [False, True]]), StateError, "integer state indices"),
    (np.array([0, 1, 2]), StateError, "2-D"),
    (np.array([["a", "b"], ["b", "a"]]), StateError, "state indices"),
    (np.zeros((0, 2), dtype=int), ValidationError, "at least one sample"),
])
def test_bad_data_is_named(data, error, words):
    with pytest.raises(error, match=words):
        CategoricalCD(epochs=1, batch_size=1, monitor=None).fit(2, data, rng=0, progress=False)


def test_divergence_is_caught_with_the_last_good_model(synthetic):
    from pgm_energy.exceptions import TrainingDivergedError

    _, train, _ = synthetic
    # learning_rate * weight_decay = 100: every update multiplies the weights by about -99
    with pytest.raises(TrainingDivergedError, match="diverged") as caught:
        CategoricalCD(epochs=50, learning_rate=10.0, weight_decay=10.0, monitor=None).fit(2, train[:200], rng=0,
                                                                                           progress=False)
    assert isinstance(caught.value.model, CategoricalRBM)


def test_bad_fit_arguments_are_named(synthetic):
    truth, train, _ = synthetic
    trainer = CategoricalCD(epochs=1, monitor=None)
    with pytest.raises(ValidationError, match="temperature"):
        trainer.fit(truth.with_temperature(2.0), train[:50], progress=False)
    with pytest.raises(ValidationError, match="columns"):
        trainer.fit(truth, train[:50, :3], progress=False)
    with pytest.raises(StateError, match="state 3 of variable 'v0'"):
        trainer.fit(truth, np.full((50, 5), 3), progress=False)
    with pytest.raises(ValidationError, match="batch_size=20 is larger"):
        trainer.fit(2, train[:5], progress=False)
    with pytest.raises(ParameterTypeError, match="model_or_size"):
        trainer.fit("two", train[:50], progress=False)
    with pytest.raises(ValidationError, match="cardinalities"):
        CategoricalCD(epochs=1, monitor=None, cardinalities=[3, 4, 2, 4, 4]).fit(truth, train[:50], progress=False)
    with pytest.raises(ValidationError, match="free_energy_gap.*validation"):
        CategoricalCD(epochs=1, monitor="free_energy_gap").fit(2, train[:50], rng=0, progress=False)


def test_initial_model_checks_its_arguments(synthetic):
    _, train, _ = synthetic
    model = initial_categorical_rbm(2, train, CARDS, 0)
    frequencies = np.bincount(train[:, 2], minlength=2) / train.shape[0]
    np.testing.assert_allclose(np.exp(model.visible_bias[model.state_slices[2]]), frequencies)
    with pytest.raises(ValidationError, match="n_hidden"):
        initial_categorical_rbm(0, train, CARDS, 0)
    with pytest.raises(StateError, match="data"):
        initial_categorical_rbm(2, train, [2] * 5, 0)
    with pytest.raises(ValidationError, match=r"cardinalities\[0\]"):
        initial_categorical_rbm(2, train, [0] * 5, 0)
