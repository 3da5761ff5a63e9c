"""Boltzmann learning for general machines (issue 4 §5), checked against exact enumeration.

The reference below enumerates all 2**n states in plain NumPy (it shares no code with
pgm_energy): the exact data term uses, for each data vector, the exact conditional
distribution of the hidden units given it; the model term the exact moments of p(s).
"""

import functools
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import logsumexp

from pgm_energy import BoltzmannMachine, exact
from pgm_energy.exceptions import ParameterTypeError, TrainingDivergedError, ValidationError
from pgm_energy.learning import TrainingResult
from pgm_energy.learning.boltzmann import (
    BoltzmannLearning,
    burn_in,
    estimate_gradient,
    new_chains,
    prepare_graph,
)


# ---------------------------------------------------------------------------- the independent reference
@functools.lru_cache(maxsize=None)
def _all_states(n):
    states = np.array(list(itertools.product((0.0, 1.0), repeat=n)))
    states.flags.writeable = False
    return states


def reference_moments(weights, biases, visible, data, temperature=1.0):
    """Exact ``(data_pairs, data_means, model_pairs, model_means, mean_log_likelihood)``.

    Pairs are full (n, n) matrices of ``<s_i s_j>``; ``data`` rows give the visible units in
    the order of ``np.flatnonzero(visible)``. The data term averages, over the rows, the
    moments of the exact conditional distribution p(h | v = row).
    """
    states = _all_states(len(biases))
    log_weight = (0.5 * np.sum((states @ weights) * states, axis=1) + states @ biases) / temperature
    log_z = logsumexp(log_weight)
    p = np.exp(log_weight - log_z)
    model_pairs = states.T @ (states * p[:, None])
    model_means = p @ states
    # Group the states by their visible part: code = the visible bits read as a binary number.
    columns = np.flatnonzero(visible)
    powers = 2.0 ** np.arange(len(columns))
    state_codes = (states[:, columns] @ powers).astype(np.int64)
    row_codes = (np.asarray(data, dtype=float) @ powers).astype(np.int64)
    shift = log_weight.max()  # the weights here are small: exp(log_weight - max) cannot underflow to 0
    unnormalized = np.exp(log_weight - shift)
    visible_mass = np.bincount(state_codes, weights=unnormalized, minlength=2 ** len(columns))
    log_marginal = shift + np.log(visible_mass[row_codes])  # log sum_h exp(-E(v, h) / T) per row
    # Mean over rows of p(h | v = row), as a weight on every state.
    row_counts = np.bincount(row_codes, minlength=2 ** len(columns))
    q = unnormalized * row_counts[state_codes] / visible_mass[state_codes] / len(row_codes)
    data_pairs = states.T @ (states * q[:, None])
    data_means = q @ states
    return data_pairs, data_means, model_pairs, model_means, float(np.mean(log_marginal) - log_z)


def exact_ascent(start, data, *, learning_rate, momentum, steps):
    """Full-batch ascent along the exact gradient with the trainer's momentum rule, on the start's edges."""
    weights, biases = start.dense_weights(), np.array(start.biases)
    edges = weights != 0
    weights_velocity, biases_velocity = np.zeros_like(weights), np.zeros_like(biases)
    for _ in range(steps):
        data_pairs, data_means, model_pairs, model_means, _ = reference_moments(weights, biases, start.visible, data)
        weights_velocity = momentum * weights_velocity + learning_rate * (data_pairs - model_pairs) * edges
        biases_velocity = momentum * biases_velocity + learning_rate * (data_means - model_means)
        weights, biases = weights + weights_velocity, biases + biases_velocity
    return reference_moments(weights, biases, start.visible, data)[-1]


def _symmetric(matrix):
    upper = np.triu(matrix, 1)
    return upper + upper.T


def _cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


# ---------------------------------------------------------------------------- small problems
# Data: two "shifted" copies of 2-bit patterns plus noise rows; not a product distribution,
# so the hidden units and couplings have something to explain.
DATA_4 = np.array(
    [[1, 1, 0, 0], [0, 0, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0]] * 2
)
DATA_6 = np.array(
    [[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1], [1, 1, 0, 0, 1, 1], [0, 0, 1, 1, 0, 0]] * 2
)


def dense_problem(scale=0.8):
    """4 visible + 3 hidden units, fully connected (21 edges), dense storage."""
    rng = np.random.default_rng(11)
    weights = _symmetric(rng.normal(0.0, scale, (7, 7)))
    biases = rng.normal(0.0, 0.5, 7)
    visible = np.arange(7) < 4
    return BoltzmannMachine(weights, biases, visible=visible), DATA_4


def sparse_problem(scale=0.8):
    """6 visible + 4 hidden units on 12 edges (a ring of the visible units, each hidden unit on 1-2 of them and a
    hidden pair), stored as scipy.sparse: the Gibbs kernels read CSR (density 24/100 < 25%)."""
    rng = np.random.default_rng(12)
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (0, 5), (0, 6), (3, 6), (1, 7), (4, 8), (2, 9), (8, 9)]
    rows, cols = np.array(edges).T
    values = rng.normal(0.0, scale, len(edges))
    weights = sp.csr_array((np.concatenate([values, values]), (np.concatenate([rows, cols]), np.concatenate([cols, rows]))), shape=(10, 10))
    biases = rng.normal(0.0, 0.5, 10)
    visible = np.arange(10) < 6
    return BoltzmannMachine(weights, biases, visible=visible), DATA_6


PROBLEMS = {"dense": dense_problem, "sparse": sparse_problem}


def _exact_gradient_on_edges(model, data, graph):
    data_pairs, data_means, model_pairs, model_means, _ = reference_moments(
        model.dense_weights(), model.biases, model.visible, data, model.temperature
    )
    return (
        np.concatenate([(data_pairs - model_pairs)[graph.rows, graph.cols], data_means - model_means]),
        (data_pairs[graph.rows, graph.cols], data_means, model_pairs[graph.rows, graph.cols], model_means),
    )


# ---------------------------------------------------------------------------- the gradient estimator
# Sample size of the estimate: every data row has its own clamped chain (16 or 12 rows), 400
# fantasy chains; 200 burn-in sweeps, then 25 recorded sweeps per phase:
# 400 (or 300) clamped states and 10,000 free states.
N_CHAINS, BURN_IN, SWEEPS = 400, 200, 25


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
@pytest.mark.parametrize("estimator", ["conditional", "samples"])
def test_estimated_gradient_points_along_the_exact_gradient(kind, estimator):
    model, data = PROBLEMS[kind]()
    graph, edge_weights = prepare_graph(model, np.asarray(model.visible))
    assert graph.dense == (kind == "dense")  # both kernel storages are exercised
    exact_gradient, (data_pairs, data_means, model_pairs, model_means) = _exact_gradient_on_edges(model, data, graph)

    generator = np.random.default_rng(2024)
    rows = np.arange(len(data))
    chains = new_chains(graph, data, n_clamped=len(data), n_chains=N_CHAINS, generator=generator)
    biases = np.array(model.biases)
    burn_in(graph, edge_weights, biases, 1.0, chains, data, rows, BURN_IN)
    gradient = estimate_gradient(graph, edge_weights, biases, 1.0, data, rows, chains, sweeps=SWEEPS, estimator=estimator)
    estimate = np.concatenate([gradient.edge_weights, gradient.biases])

    assert gradient.data.n_samples == len(data) * SWEEPS
    assert gradient.model.n_samples == N_CHAINS * SWEEPS
    assert _cosine(estimate, exact_gradient) > 0.95
    # The hidden units' part alone (edges touching a hidden unit, hidden biases): the clamped
    # phase must sample p(h | v), not p(h) or nothing.
    hidden = ~np.asarray(model.visible)
    touches_hidden = np.concatenate([hidden[graph.rows] | hidden[graph.cols], hidden])
    assert _cosine(estimate[touches_hidden], exact_gradient[touches_hidden]) > 0.9
    # Each phase's moments, entry by entry (standard errors here are below 0.02).
    np.testing.assert_allclose(gradient.data.pairs, data_pairs, atol=0.06)
    np.testing.assert_allclose(gradient.data.means, data_means, atol=0.06)
    np.testing.assert_allclose(gradient.model.pairs, model_pairs, atol=0.03)
    np.testing.assert_allclose(gradient.model.means, model_means, atol=0.03)


def test_fully_visible_clamped_phase_is_exact():
    model, _ = dense_problem()
    model = BoltzmannMachine(model.weights, model.biases)  # all 7 units visible
    data = np.random.default_rng(3).integers(0, 2, size=(9, 7))
    graph, edge_weights = prepare_graph(model, np.asarray(model.visible))
    chains = new_chains(graph, data, n_clamped=9, n_chains=5, generator=np.random.default_rng(0))
    before = chains.clamped.copy()
    gradient = estimate_gradient(graph, edge_weights, np.array(model.biases), 1.0, data, np.arange(9), chains, sweeps=3)
    # Plain data moments, to rounding: no sampling happened in the clamped phase.
    np.testing.assert_allclose(gradient.data.pairs, (data.T @ data / 9.0)[graph.rows, graph.cols], rtol=0, atol=1e-12)
    np.testing.assert_allclose(gradient.data.means, data.mean(axis=0), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(chains.clamped, before)
    data_pairs, data_means, *_ = reference_moments(model.dense_weights(), model.biases, model.visible, data)
    np.testing.assert_allclose(gradient.data.pairs, data_pairs[graph.rows, graph.cols], atol=1e-12)


def test_estimate_is_deterministic_given_the_streams():
    model, data = sparse_problem()
    results = []
    for _ in range(2):
        graph, edge_weights = prepare_graph(model, np.asarray(model.visible))
        chains = new_chains(graph, data, n_clamped=len(data), n_chains=7, generator=np.random.default_rng(5))
        gradient = estimate_gradient(graph, edge_weights, np.array(model.biases), 1.0, data, np.arange(len(data)), chains, sweeps=2)
        results.append((gradient.edge_weights, gradient.biases, chains.fantasy.copy(), chains.clamped.copy()))
    for first, second in zip(*results):
        np.testing.assert_array_equal(first, second)


# ---------------------------------------------------------------------------- training
def _small_start(kind):
    """The problem's graph with small random couplings (a realistic starting point)."""
    model, data = PROBLEMS[kind](scale=0.1)
    return BoltzmannMachine(model.weights, np.zeros(model.n_units), visible=model.visible), data


@pytest.mark.parametrize("kind", sorted(PROBLEMS))
def test_training_raises_the_exact_log_likelihood(kind):
    start, data = _small_start(kind)
    epochs, batch_size, learning_rate, momentum = 150, 4, 0.05, 0.9
    trainer = BoltzmannLearning(
        learning_rate=learning_rate, epochs=epochs, batch_size=batch_size, n_chains=50, sweeps=3,
        momentum=momentum, weight_decay=0.0, monitor=None,
    )
    result = trainer.fit(start, data, rng=7, progress=False)
    assert isinstance(result, TrainingResult) and result.stop_reason == "completed"
    trained = result.model
    *_, before = reference_moments(start.dense_weights(), start.biases, start.visible, data)
    *_, after = reference_moments(trained.dense_weights(), trained.biases, trained.visible, data)
    # The package's own exact likelihood (with hidden units) agrees with the reference.
    assert exact.log_likelihood(trained, data) == pytest.approx(after, abs=1e-9)
    assert exact.log_likelihood(start, data) == pytest.approx(before, abs=1e-9)
    # The same number of updates along the exact gradient, full batch: the stochastic run
    # must get at least half of its gain (seeds 0-3 gave 72-99%), and a clear gain in nats.
    steps = epochs * (len(data) // batch_size)
    reachable = exact_ascent(start, data, learning_rate=learning_rate, momentum=momentum, steps=steps)
    assert reachable > before + 0.5
    assert after - before > 0.5 * (reachable - before)


def test_sparse_model_stays_sparse_and_only_its_edges_are_learned():
    start, data = _small_start("sparse")
    trained = BoltzmannLearning(epochs=3, batch_size=6, monitor=None).fit(start, data, rng=0, progress=False).model
    assert trained.is_sparse
    np.testing.assert_array_equal(trained.weights.indptr, start.weights.indptr)
    np.testing.assert_array_equal(trained.weights.indices, start.weights.indices)
    assert not np.array_equal(trained.weights.data, start.weights.data)
    assert trained.names == start.names and trained.temperature == start.temperature

    dense_start = BoltzmannMachine(start.dense_weights(), start.biases, visible=start.visible)
    dense_trained = BoltzmannLearning(epochs=3, batch_size=6, monitor=None).fit(dense_start, data, rng=0, progress=False).model
    assert not dense_trained.is_sparse
    np.testing.assert_array_equal(dense_trained.weights == 0, dense_start.weights == 0)
    # Same graph and streams: the storage does not change the numbers.
    np.testing.assert_allclose(dense_trained.dense_weights(), trained.dense_weights(), rtol=0, atol=1e-12)


def test_same_rng_same_model_whatever_the_thread_count(monkeypatch):
    import numba

    from pgm_energy.learning import _boltzmann_chains

    start, data = _small_start("dense")
    trainer = BoltzmannLearning(epochs=4, batch_size=8, sweeps=2, monitor=None)
    # Small runs use one thread by design; force the kernels onto every thread for this run.
    monkeypatch.setattr(_boltzmann_chains, "PARALLEL_WORK", 0)
    first = trainer.fit(start, data, rng=3, progress=False).model
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        second = trainer.fit(start, data, rng=3, progress=False).model
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(first.weights, second.weights)
    np.testing.assert_array_equal(first.biases, second.biases)


def test_monitor_auto_records_the_exact_log_likelihood():
    start, data = _small_start("dense")
    result = BoltzmannLearning(epochs=2, batch_size=8, monitor_every=1).fit(start, data, rng=0, progress=False)
    assert result.history["log_likelihood"][-1] == pytest.approx(exact.log_likelihood(result.model, data), abs=1e-9)
    assert np.all(result.history["gradient_norm"] > 0)


def test_resume_continues_exactly(tmp_path):
    start, data = _small_start("sparse")
    path = tmp_path / "run.npz"
    options = dict(epochs=6, batch_size=4, sweeps=2, momentum=0.9, monitor=None)
    full = BoltzmannLearning(**options).fit(start, data, rng=9, progress=False)
    stopped = BoltzmannLearning(checkpoint_every=1, checkpoint_path=path, **options).fit(
        start, data, rng=9, progress=False, callbacks=[lambda epoch, model, history: epoch == 3]
    )
    assert stopped.stop_reason == "callback" and len(stopped.history) == 3
    resumed = BoltzmannLearning(**options).fit(start, data, progress=False, resume_from=path)
    np.testing.assert_array_equal(resumed.model.weights.toarray(), full.model.weights.toarray())
    np.testing.assert_array_equal(resumed.model.biases, full.model.biases)


def test_per_slot_clamped_chains_train_too():
    start, data = _small_start("dense")
    trainer = BoltzmannLearning(epochs=40, batch_size=4, sweeps=3, clamped_chains="per_slot", monitor=None)
    trained = trainer.fit(start, data, rng=1, progress=False).model
    assert exact.log_likelihood(trained, data) > exact.log_likelihood(start, data) + 0.3


def test_int_model_builds_a_fully_connected_machine():
    result = BoltzmannLearning(epochs=2, batch_size=8, monitor=None).fit(2, DATA_4, rng=0, progress=False)
    model = result.model
    assert model.n_visible == 4 and model.n_hidden == 2 and model.n_edges == 15
    assert model.visible_names == ("v0", "v1", "v2", "v3")


# ---------------------------------------------------------------------------- visible=
def test_visible_by_names_indices_or_mask():
    start, data = _small_start("dense")  # visible: units 0-3
    all_visible = BoltzmannMachine(start.weights, start.biases)
    trainer = BoltzmannLearning(epochs=1, batch_size=8, monitor=None)
    by_default = trainer.fit(start, data, rng=0, progress=False).model
    for visible in (["v0", "v1", "v2", "v3"], [0, 1, 2, 3], np.arange(7) < 4):
        trained = trainer.fit(all_visible, data, visible=visible, rng=0, progress=False).model
        np.testing.assert_array_equal(trained.visible, np.arange(7) < 4)
        np.testing.assert_array_equal(trained.weights, by_default.weights)
    # Another choice of visible units changes the model's mask.
    other = trainer.fit(start, data, visible=[2, 3, 4, 5], rng=0, progress=False).model
    np.testing.assert_array_equal(other.visible, [False, False, True, True, True, True, False])


@pytest.mark.parametrize(
    "visible, error",
    [
        (["v1", "v0", "v2", "v3"], ValidationError),  # out of the model's order
        (["v0", "nope", "v2", "v3"], ValidationError),
        ([0, 0, 1, 2], ValidationError),
        ([0, 1, 2, 9], ValidationError),
        ([], ValidationError),
        ("v0", ParameterTypeError),
        ([0.5, 1, 2, 3], ParameterTypeError),
        (np.ones(3, dtype=bool), ValidationError),
    ],
)
def test_bad_visible_is_refused(visible, error):
    start, data = _small_start("dense")
    with pytest.raises(error, match="visible"):
        BoltzmannLearning(epochs=1, batch_size=8, monitor=None).fit(start, data, visible=visible, progress=False)


def test_data_must_match_the_visible_units():
    start, data = _small_start("dense")
    with pytest.raises(ValidationError, match="4 columns"):
        BoltzmannLearning(epochs=1, batch_size=8, monitor=None).fit(start, data[:, :3], progress=False)
    with pytest.raises(ValidationError, match="visible"):
        BoltzmannLearning(epochs=1, monitor=None).fit(2, DATA_4, visible=[0, 1], progress=False)


@pytest.mark.parametrize(
    "options, error",
    [
        (dict(learning_rate=0.0), ValidationError),
        (dict(sweeps=0), ValidationError),
        (dict(burn_in=-1), ValidationError),
        (dict(momentum=1.0), ValidationError),
        (dict(weight_decay=-1e-3), ValidationError),
        (dict(estimator="exact"), ValidationError),
        (dict(clamped_chains="per_batch"), ValidationError),
        (dict(n_chains=2.5), ParameterTypeError),
        (dict(learning_rat=0.1), TypeError),
    ],
)
def test_bad_options_are_refused(options, error):
    with pytest.raises(error):
        BoltzmannLearning(**options)


def test_divergence_raises_with_the_last_finite_model():
    start, data = _small_start("dense")
    trainer = BoltzmannLearning(learning_rate=1e300, momentum=0.9, epochs=50, batch_size=8, monitor=None)
    with pytest.raises(TrainingDivergedError) as caught:
        trainer.fit(start, data, rng=0, progress=False)
    error = caught.value
    assert len(error.history) == error.epoch - 1
    assert np.isfinite(error.model.weights).all() and np.isfinite(error.model.biases).all()


# ---------------------------------------------------------------------------- BoltzmannMachine.fit
def test_boltzmann_machine_fit_returns_the_trained_machine():
    start, data = _small_start("dense")
    trainer = BoltzmannLearning(epochs=3, batch_size=8, monitor=None)
    trained = start.fit(data, trainer=trainer, rng=4, progress=False)
    expected = trainer.fit(start, data, rng=4, progress=False).model
    assert isinstance(trained, BoltzmannMachine)
    np.testing.assert_array_equal(trained.weights, expected.weights)
    all_visible = BoltzmannMachine(start.weights, start.biases)
    relabelled = all_visible.fit(data, trainer=trainer, visible=["v0", "v1", "v2", "v3"], rng=4, progress=False)
    np.testing.assert_array_equal(relabelled.visible, start.visible)
    with pytest.raises(ParameterTypeError, match="trainer"):
        start.fit(data, trainer="boltzmann")
