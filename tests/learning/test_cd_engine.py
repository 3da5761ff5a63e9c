"""The CD/PCD engine (pgm_energy.learning._cd_engine) against independent computations.

* A plain-NumPy/Python re-implementation of the documented update (float64, exact
  ``scipy.special.expit``) that replays the same xorshift64* draws in pure Python integers:
  both engine paths must match it to rounding, whole epochs included.
* The CD-1 estimate on many rows points along the exact log-likelihood gradient, obtained
  by enumeration and checked by finite differences of ``pgm_energy.exact.log_likelihood``.
* PCD chains, dtype agreement, determinism, thread counts.
"""

import numba
import numpy as np
import pytest
from scipy.special import expit

from pgm_energy import RestrictedBoltzmannMachine, exact
from pgm_energy.learning import _cd_engine
from pgm_energy.learning._cd_engine import CDState, cd_epoch, new_state

_MASK = (1 << 64) - 1
_MULTIPLIER = 0x2545F4914F6CDD1D


def _uniforms(streams, index, count):
    """``count`` draws of xorshift64* stream ``index`` (pure Python ints); advances ``streams``."""
    x = int(streams[index])
    out = np.empty(count)
    for t in range(count):
        x ^= x >> 12
        x ^= (x << 25) & _MASK
        x ^= x >> 27
        out[t] = (((x * _MULTIPLIER) & _MASK) >> 11) * 2.0**-53
    streams[index] = x
    return out


def _draw(probs, streams, index):
    return (_uniforms(streams, index, probs.shape[0]) < probs).astype(float)


def _reference_epoch(params, chains, streams, data, order, *, batch_size, k, persistent, reconstruction,
                     learning_rate, momentum, weight_decay, sparsity_cost, sparsity_target, sparsity_decay):
    """The documented CD-k / PCD-k epoch, written directly from the formulas (float64)."""
    w, b, c, vw, vb, vc, q = (np.array(p, dtype=float) for p in params)
    chains = np.array(chains, dtype=float)
    streams = streams.copy()
    error = 0.0
    kept = None  # PCD: p(h | v_k) of the last update's negative statistics (none before the epoch's first)
    for start in range(0, len(order), batch_size):
        x = data[order[start:start + batch_size]].astype(float)
        n = len(x)
        p0 = expit(x @ w + c)
        if not persistent or reconstruction:
            h0 = np.array([_draw(p0[r], streams, r) for r in range(n)])
            pv = expit(h0 @ w.T + b)
            error += np.sum((x - pv) ** 2)
        if persistent:
            negative = chains
            for r in range(len(negative)):
                for step in range(k):
                    first = kept is not None and step == 0  # the chain's hidden layer kept from the last update
                    h = _draw(kept[r] if first else expit(negative[r] @ w + c), streams, r)
                    negative[r] = _draw(expit(h @ w.T + b), streams, r)
        else:
            negative = np.empty_like(x)
            for r in range(n):
                v = _draw(pv[r], streams, r)
                for step in range(1, k + 1):
                    if step > 1:
                        v = _draw(expit(h @ w.T + b), streams, r)
                    if step < k:
                        h = _draw(expit(v @ w + c), streams, r)
                negative[r] = v
        pk = expit(negative @ w + c)
        kept = pk if persistent else None
        m = len(negative)
        q = sparsity_decay * q + (1 - sparsity_decay) * p0.mean(axis=0)
        push = sparsity_cost * (sparsity_target - q)
        grad_w = x.T @ p0 / n - negative.T @ pk / m + np.outer(x.mean(axis=0), push)
        grad_b = x.mean(axis=0) - negative.mean(axis=0)
        grad_c = p0.mean(axis=0) - pk.mean(axis=0) + push
        vw = momentum * vw + learning_rate * (grad_w - weight_decay * w)
        vb = momentum * vb + learning_rate * grad_b
        vc = momentum * vc + learning_rate * grad_c
        w, b, c = w + vw, b + vb, c + vc
    return (w, b, c, vw, vb, vc, q), chains, streams, error


def _problem(seed, n_visible=7, n_hidden=5, n_rows=11, dtype=np.float64, n_chains=0, n_streams=6, real=False):
    rng = np.random.default_rng(seed)
    state = new_state(rng.normal(0, 0.8, (n_visible, n_hidden)), rng.normal(0, 0.5, n_visible),
                      rng.normal(0, 0.5, n_hidden), n_chains=n_chains, n_streams=n_streams, dtype=dtype, rng=rng,
                      sparsity_target=0.1)
    data = (rng.random((n_rows, n_visible)) < 0.4).astype(dtype)
    if real:  # Bernoulli means in [0, 1] (the scikit-learn drop-in passes grey levels)
        data *= rng.random((n_rows, n_visible)).astype(dtype)
    order = rng.permutation(n_rows).astype(np.int64)
    return state, data, order


def _copy(state):
    return CDState(*(np.array(a, copy=True) for a in state))


_SETTINGS = dict(learning_rate=0.3, momentum=0.5, weight_decay=0.01, sparsity_cost=0.2, sparsity_target=0.1,
                 sparsity_decay=0.9)


@pytest.fixture(params=["numba", "blas-dense", "blas-sparse"])
def path(request, monkeypatch):
    """The engine's paths; on the BLAS path, every visible-side product dense (BLAS) or sparse."""
    if request.param == "numba":
        return "numba"
    # a density limit of 1 takes every product sparse; below 0, none
    _limit_sparse_products(monkeypatch, 1.0 if request.param == "blas-sparse" else -1.0)
    return "blas"


def _limit_sparse_products(monkeypatch, limit):
    """The BLAS path's density limit for the sparse products, whatever BLAS's thread count."""
    monkeypatch.setattr(_cd_engine, "SPARSE_MAX_DENSITY", limit)
    monkeypatch.setattr(_cd_engine, "SPARSE_MAX_DENSITY_THREADED", limit)


@pytest.mark.parametrize("k, persistent, reconstruction, n_chains, real",
                         [(1, False, True, 0, False), (3, False, True, 0, False), (1, True, True, 4, False),
                          (2, True, False, 6, False), (1, False, True, 0, True), (2, True, True, 3, True)])
def test_epoch_matches_the_formula_with_the_same_draws(path, k, persistent, reconstruction, n_chains, real):
    # 11 rows in batches of 4: two full batches and a last one of 3, two epochs in a row.
    state, data, order = _problem(1 + k + n_chains, n_chains=n_chains, real=real)
    params = (state.weights, state.visible_bias, state.hidden_bias, state.weights_velocity,
              state.visible_velocity, state.hidden_velocity, state.hidden_activity)
    chains, streams = state.chains.copy(), state.streams.copy()
    for epoch in range(2):
        params, chains, streams, expected_error = _reference_epoch(
            params, chains, streams, data, order, batch_size=4, k=k, persistent=persistent,
            reconstruction=reconstruction, **_SETTINGS)
        error = cd_epoch(state, data, order, batch_size=4, k=k, persistent=persistent,
                         reconstruction=reconstruction, path=path, **_SETTINGS)
        got = (state.weights, state.visible_bias, state.hidden_bias, state.weights_velocity,
               state.visible_velocity, state.hidden_velocity, state.hidden_activity)
        for name, value, reference in zip(("W", "b", "c", "vW", "vb", "vc", "q"), got, params):
            np.testing.assert_allclose(value, reference, rtol=1e-10, atol=1e-12, err_msg=f"{name}, epoch {epoch}")
        np.testing.assert_array_equal(state.streams, streams)
        if persistent:
            np.testing.assert_array_equal(state.chains, chains)
        if reconstruction:
            assert error == pytest.approx(expected_error, rel=1e-12)
        else:
            assert np.isnan(error)


def _exact_gradient(model, data):
    """d mean log p(v) / d(W, b, c) by enumerating the visible states (tiny models)."""
    w, b, c = model.weights, model.visible_bias, model.hidden_bias
    n_visible = w.shape[0]
    states = ((np.arange(2**n_visible)[:, None] >> np.arange(n_visible)) & 1).astype(float)
    log_weight = states @ b + np.logaddexp(0, states @ w + c).sum(axis=1)  # -F(v)
    prob = np.exp(log_weight - np.logaddexp.reduce(log_weight))
    hidden = expit(states @ w + c)
    model_w = states.T @ (prob[:, None] * hidden)
    data_hidden = expit(data @ w + c)
    return (data.T @ data_hidden / len(data) - model_w, data.mean(0) - prob @ states,
            data_hidden.mean(0) - prob @ hidden)


def test_exact_gradient_helper_matches_finite_differences_of_exact_log_likelihood():
    rng = np.random.default_rng(5)
    model = RestrictedBoltzmannMachine(rng.normal(0, 0.7, (4, 3)), rng.normal(0, 0.5, 4), rng.normal(0, 0.5, 3))
    data = (rng.random((9, 4)) < 0.5).astype(float)
    grad_w, grad_b, grad_c = _exact_gradient(model, data)

    def mean_ll(w, b, c):
        return exact.log_likelihood(RestrictedBoltzmannMachine(w, b, c), data)  # the mean over rows

    h = 1e-5
    w, b, c = model.weights.copy(), model.visible_bias.copy(), model.hidden_bias.copy()
    for i, j in [(0, 0), (3, 2), (1, 1)]:
        up, down = w.copy(), w.copy()
        up[i, j] += h
        down[i, j] -= h
        assert (mean_ll(up, b, c) - mean_ll(down, b, c)) / (2 * h) == pytest.approx(grad_w[i, j], abs=1e-7)
    up, down = b.copy(), b.copy()
    up[2] += h
    down[2] -= h
    assert (mean_ll(w, up, c) - mean_ll(w, down, c)) / (2 * h) == pytest.approx(grad_b[2], abs=1e-7)
    up, down = c.copy(), c.copy()
    up[1] += h
    down[1] -= h
    assert (mean_ll(w, b, up) - mean_ll(w, b, down)) / (2 * h) == pytest.approx(grad_c[1], abs=1e-7)


@pytest.mark.parametrize("path", ["numba", "blas"])
def test_cd1_points_along_the_exact_gradient(path):
    # One CD-1 update from 20,000 rows (one batch, no momentum or decay) is learning_rate
    # times the CD-1 estimate; its sampling noise is ~1/sqrt(20000) of the entries' scale.
    rng = np.random.default_rng(11)
    n_visible, n_hidden = 8, 4
    target = RestrictedBoltzmannMachine(rng.normal(0, 1.5, (n_visible, n_hidden)), rng.normal(0, 1, n_visible),
                                        rng.normal(0, 1, n_hidden))
    states = ((np.arange(2**n_visible)[:, None] >> np.arange(n_visible)) & 1).astype(float)
    log_p = -target.free_energy(states) - exact.log_partition_function(target)  # exact draws from the target
    data = np.ascontiguousarray(states[rng.choice(len(states), size=20_000, p=np.exp(log_p) / np.exp(log_p).sum())])
    start = RestrictedBoltzmannMachine(rng.normal(0, 0.1, (n_visible, n_hidden)), np.zeros(n_visible),
                                       np.zeros(n_hidden))
    state = new_state(start.weights, start.visible_bias, start.hidden_bias, n_chains=0, n_streams=len(data),
                      dtype=np.float64, rng=rng)
    cd_epoch(state, data, np.arange(len(data), dtype=np.int64), batch_size=len(data), k=1, persistent=False,
             learning_rate=1.0, momentum=0.0, weight_decay=0.0, sparsity_target=None, sparsity_cost=0.0, path=path)
    estimate = np.concatenate([(state.weights - start.weights).ravel(), state.visible_bias, state.hidden_bias])
    truth = np.concatenate([g.ravel() for g in _exact_gradient(start, data)])
    cosine = estimate @ truth / np.linalg.norm(estimate) / np.linalg.norm(truth)
    assert cosine > 0.9, cosine


def _digits_subset(n_rows, dtype):
    from pgm_energy.datasets import load_digits

    return np.ascontiguousarray(load_digits().data[:n_rows], dtype=dtype)


def _train(dtype, path, *, seed=3, epochs=3, persistent=False, n_hidden=20, n_rows=400, batch_size=20):
    data = _digits_subset(n_rows, dtype)
    rng = np.random.default_rng(seed)
    n_chains = batch_size if persistent else 0
    state = new_state(rng.normal(0, 0.01, (64, n_hidden)), np.zeros(64), np.zeros(n_hidden), n_chains=n_chains,
                      n_streams=batch_size, dtype=dtype, rng=rng)
    start = _copy(state)
    errors = []
    for _ in range(epochs):
        errors.append(cd_epoch(state, data, rng.permutation(n_rows), batch_size=batch_size, k=1,
                               persistent=persistent, learning_rate=0.05, momentum=0.5, weight_decay=1e-4,
                               sparsity_target=None, sparsity_cost=0.0, path=path))
    return start, state, np.array(errors)


@pytest.mark.parametrize("path", ["numba", "blas"])
def test_pcd_chains_evolve_and_stay_binary(path):
    start, state, _ = _train(np.float32, path, persistent=True, epochs=2)
    assert state.chains.dtype == np.float32 and state.chains.shape == start.chains.shape
    assert np.isin(state.chains, (0.0, 1.0)).all()
    changed = np.mean(state.chains != start.chains)
    assert changed > 0.05  # a chain that never moved would fail this
    # and the persistent chains are the ones the negative phase used: plain CD leaves none
    _, cd_state, _ = _train(np.float32, path, persistent=False, epochs=1)
    assert cd_state.chains.shape == (0, 64)


@pytest.mark.parametrize("path", ["numba", "blas"])
def test_float32_and_float64_agree(path):
    # Same streams, so the two dtypes draw the same uniforms; their probabilities differ by
    # ~1e-7, so only rare draws flip. After 3 epochs the updates must agree closely.
    start32, state32, errors32 = _train(np.float32, path)
    start64, state64, errors64 = _train(np.float64, path)
    update32 = state32.weights.astype(np.float64) - start32.weights
    update64 = state64.weights - start64.weights
    assert np.linalg.norm(update32 - update64) < 0.05 * np.linalg.norm(update64)
    np.testing.assert_allclose(errors32, errors64, rtol=0.01)
    np.testing.assert_allclose(state32.hidden_bias, state64.hidden_bias, atol=0.05 * np.abs(state64.hidden_bias).max())


@pytest.mark.parametrize("path", ["numba", "blas"])
@pytest.mark.parametrize("persistent", [False, True])
def test_same_seed_same_result(path, persistent):
    _, first, errors_first = _train(np.float32, path, persistent=persistent, epochs=2)
    _, second, errors_second = _train(np.float32, path, persistent=persistent, epochs=2)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(errors_first, errors_second)
    _, other, _ = _train(np.float32, path, persistent=persistent, epochs=2, seed=4)
    assert not np.array_equal(first.weights, other.weights)


def test_numba_path_is_independent_of_the_thread_count():
    previous = numba.get_num_threads()
    try:
        results = []
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            results.append(_train(np.float64, "numba", persistent=True, epochs=2)[1:])
    finally:
        numba.set_num_threads(previous)
    (state_1, errors_1), (state_2, errors_2) = results
    for a, b in zip(state_1, state_2):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(errors_1, errors_2)


@pytest.mark.parametrize("path", ["numba", "blas"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_reconstruction_error_with_deterministic_hidden_states(path, dtype):
    # Hidden inputs of +-39 or more: p(h | v) is 0 or 1 to within 1e-16, so h0 is known
    # without replaying any draw, and the error is sum (x - sigmoid(b + W h0))^2.
    rng = np.random.default_rng(8)
    n_visible, n_hidden, n_rows = 12, 6, 30
    data = (rng.random((n_rows, n_visible)) < 0.5).astype(dtype)
    weights = rng.choice([-0.5, 0.5], size=(n_visible, n_hidden))
    hidden_bias = np.where(rng.random(n_hidden) < 0.5, -45.0, 45.0)  # |input| >= 45 - 12 * 0.5 for 0/1 rows
    visible_bias = rng.normal(0, 1, n_visible)
    # learning_rate 0 keeps the parameters fixed across the batches
    state = new_state(weights, visible_bias, hidden_bias, n_chains=0, n_streams=7, dtype=dtype, rng=rng)
    error = cd_epoch(state, data, rng.permutation(n_rows), batch_size=7, k=1, persistent=False, learning_rate=0.0,
                     momentum=0.0, weight_decay=0.0, sparsity_target=None, sparsity_cost=0.0, path=path)
    w = weights.astype(dtype).astype(np.float64)
    hidden_input = data @ w + hidden_bias.astype(dtype)
    assert np.abs(hidden_input).min() >= 39
    h0 = (hidden_input > 0).astype(float)
    expected = np.sum((data - expit(h0 @ w.T + visible_bias.astype(dtype))) ** 2)
    assert error == pytest.approx(expected, rel=1e-5 if dtype == np.float32 else 1e-12)


def test_wiring_mistakes_are_refused():
    state, data, order = _problem(0, n_chains=0)
    options = dict(batch_size=4, k=1, learning_rate=0.1, momentum=0.0, weight_decay=0.0, sparsity_target=None,
                   sparsity_cost=0.0)
    with pytest.raises(ValueError, match="chains"):
        cd_epoch(state, data, order, persistent=True, **options)
    with pytest.raises(ValueError, match="streams"):
        cd_epoch(state, data, order, persistent=False, **{**options, "batch_size": 8})
    with pytest.raises(ValueError, match="data"):
        cd_epoch(state, data.astype(np.float32), order, persistent=False, **options)
    with pytest.raises(ValueError, match="path"):
        cd_epoch(state, data, order, persistent=False, path="gpu", **options)


@pytest.mark.parametrize("path", ["numba", "blas"])
def test_order_may_select_a_subset_of_the_rows(path):
    state, data, _ = _problem(2, n_rows=11)
    twin = _copy(state)
    rows = np.array([9, 2, 2, 5, 0], dtype=np.int64)
    options = dict(batch_size=3, k=1, persistent=False, learning_rate=0.1, momentum=0.0, weight_decay=0.0,
                   sparsity_target=None, sparsity_cost=0.0, path=path)
    error = cd_epoch(state, data, rows, **options)
    expected = cd_epoch(twin, np.ascontiguousarray(data[rows]), np.arange(5, dtype=np.int64), **options)
    assert error == expected
    for a, b in zip(state, twin):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="order"):
        cd_epoch(state, data, np.array([0, 11], dtype=np.int64), **options)


def _count_calls(monkeypatch, module, name, calls):
    original = getattr(module, name)

    def counted(*args):
        calls[name] = calls.get(name, 0) + 1
        return original(*args)

    monkeypatch.setattr(module, name, counted)


@pytest.mark.parametrize("density, sparse_expected", [(0.05, True), (0.6, False)])
def test_blas_path_skips_zeros_only_for_sparse_rows(monkeypatch, density, sparse_expected):
    # Binary rows at 5% density take the sparse products (at the lower of the two limits); at 60%, BLAS's. Either way the epoch
    # equals the dense products' to rounding (float64: the probabilities differ in their last
    # bits, too little to change a draw in one epoch).
    from pgm_energy._kernels import sparse_products

    g = np.random.default_rng(11)
    data = (g.random((60, 40)) < density).astype(np.float64)
    results = []
    for limit in (min(_cd_engine.SPARSE_MAX_DENSITY, _cd_engine.SPARSE_MAX_DENSITY_THREADED), -1.0):
        _limit_sparse_products(monkeypatch, limit)
        calls = {}
        for name in ("rows_product", "columns_product"):
            _count_calls(monkeypatch, sparse_products, name, calls)
        # visible biases at the data's log-odds keep the chains' samples about as dense as the data
        log_odds = np.full(40, np.log(density / (1 - density)))
        state = new_state(np.random.default_rng(2).normal(0, 0.01, (40, 30)), log_odds, np.zeros(30),
                          n_chains=10, n_streams=10, dtype=np.float64, rng=np.random.default_rng(3))
        state.chains[:] = data[:10]
        cd_epoch(state, data, np.arange(60), batch_size=10, k=1, persistent=True, path="blas", **_SETTINGS)
        results.append(state)
        if limit >= 0:
            # per update: the batch's and the chains' products, and the gradient
            assert calls == ({"rows_product": 12, "columns_product": 6} if sparse_expected else {})
        else:
            assert calls == {}
    for name, a, b in zip(CDState._fields, *results):
        if name == "streams":
            np.testing.assert_array_equal(a, b)
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=name)
