"""Block Gibbs sampling of RBMs: shapes, dtypes, reproducibility, evidence, errors, the fused kernel."""

import numpy as np
import pytest
from scipy.special import expit

from pgm_energy import RestrictedBoltzmannMachine
from pgm_energy._kernels.block_gibbs import (
    Layer,
    layer_margins,
    layer_sampler,
    layer_scratch,
    sigmoid_row,
    summation_error_bound,
)
from pgm_energy._kernels.rng import next_uniform, seed_streams, xorshift_step
from pgm_energy.exceptions import EvidenceError, ParameterTypeError, StateError, ValidationError
from pgm_energy.samplers._block import sample_rbm



def _rbm(n_visible=5, n_hidden=3, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    return RestrictedBoltzmannMachine(
        rng.normal(0, scale, (n_visible, n_hidden)), rng.normal(0, 1, n_visible), rng.normal(0, 1, n_hidden)
    )


# ---------------------------------------------------------------- the fused kernel
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_row_accuracy(dtype):
    x = np.linspace(-100, 100, 200_001).astype(dtype)
    out = np.empty_like(x)
    sigmoid_row(x, np.zeros_like(x), out)
    reference = expit(x.astype(np.float64))
    error = np.abs(out - reference)
    if dtype == np.float32:
        # 2**(-a log2 e) with the exponent rounded to float32: a relative error of |a| 2**-23 in
        # exp(-a), i.e. p (1 - p) |a| 2**-23 in p; plus 4e-7 p for the polynomial and the roundings;
        # the cap |a| <= 80 as an absolute floor
        bound = 4e-7 * reference + reference * (1 - reference) * np.abs(x.astype(np.float64)) * 2.0**-23 + 2e-35
        assert np.all(error <= bound)
        assert error.max() <= 2.0**-22  # well inside SIGMOID_ERROR (2**-19), which the margins assume
    else:
        assert np.all(error <= 2e-15 * reference + 1e-304)
    extreme = np.array([-1e4, -750, 0.0, 750, 1e4], dtype=dtype)
    sigmoid_row(extreme, np.zeros_like(extreme), out[:5])
    assert np.all(np.isfinite(out[:5])) and out[0] >= 0 and out[2] == 0.5 and out[4] == 1.0


def _float32_uniforms(streams, c, m):
    """Chain c's float32 draws for m units: two 24-bit fields (bits 40-63, then 16-39) of each
    xorshift64* output, one output per pair of units; an odd last unit leaves the second unused."""
    draws = []
    while len(draws) < m:
        streams[c], _ = xorshift_step(streams[c])
        y = int(streams[c]) * 0x2545F4914F6CDD1D % 2**64
        draws += [(y >> 40) / 2**24, ((y >> 16) & 0xFFFFFF) / 2**24]
    return draws[:m]


def _reference_layer(bias, rows, other, streams):
    """Plain loops: unit j of chain c is [u < sigmoid(a)], a exact in float64; u from rng.next_uniform
    (float64 rows) or from _float32_uniforms (float32 rows)."""
    n, m = other.shape[0], rows.shape[0]
    out = np.empty((n, m))
    for c in range(n):
        if rows.dtype == np.float32:
            uniforms = _float32_uniforms(streams, c, m)
        else:
            uniforms = [next_uniform(streams, c) for _ in range(m)]
        for j in range(m):
            a = float(bias[j]) + sum(float(rows[j, k]) for k in range(rows.shape[1]) if other[c, k])
            out[c, j] = uniforms[j] < expit(a)
    return out


def test_float32_uniforms_are_uniform():
    """The two 24-bit fields of each output: uniform (chi-squared on 64 cells each and on their
    8 x 8 joint) and uncorrelated; alpha 1e-4 per check."""
    from scipy.stats import chi2

    streams = seed_streams(np.random.default_rng(9), 1)
    draws = np.array(_float32_uniforms(streams, 0, 200_000)).reshape(-1, 2)
    for counts in (np.bincount((draws[:, 0] * 64).astype(int), minlength=64),
                   np.bincount((draws[:, 1] * 64).astype(int), minlength=64),
                   np.bincount((draws[:, 0] * 8).astype(int) * 8 + (draws[:, 1] * 8).astype(int), minlength=64)):
        expected = counts.sum() / 64
        assert chi2.sf(((counts - expected) ** 2 / expected).sum(), 63) > 1e-4
    assert abs(np.corrcoef(draws[:, 0], draws[:, 1])[0, 1]) < 4.5 / np.sqrt(len(draws))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_chains", [1, 4, 7])
@pytest.mark.parametrize("m", [6, 7])
@pytest.mark.parametrize("force_exact", [False, True])
def test_sample_layer_matches_plain_loops(dtype, n_chains, m, force_exact):
    """The vectorised loop over chains, the one-chain-at-a-time path (n_chains < 4), an odd
    number of units (float32 pairs them) and the exact path give the reference draws."""
    rng = np.random.default_rng(3)
    k = 9
    rows = rng.normal(0, 2, (m, k)).astype(dtype)
    bias = rng.normal(0, 1, m).astype(dtype)
    other = rng.integers(0, 2, (n_chains, k)).astype(dtype)
    limit = layer_margins(rows, bias, dtype)
    if force_exact:  # every draw takes the exact path
        limit = np.full(m, 2.0, dtype)
    streams = seed_streams(rng, n_chains)
    expected_streams = streams.copy()
    expected = _reference_layer(bias, rows, other, expected_streams)
    # chain-minor layout: one row per unit, one column per chain
    out = np.full((m, n_chains), 7, dtype=dtype)
    states = np.zeros((n_chains, 3, m + 2), np.uint8)
    other_t = np.ascontiguousarray(other.T)
    pre = (rows @ other_t).astype(dtype)
    layer_sampler(Layer(pre, bias, limit, rows, other_t, np.zeros(m, np.uint8)), streams, out, states, 2,
                  layer_scratch(dtype, n_chains, m))(1)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.T, expected)
    np.testing.assert_array_equal(states[:, 1, 2:], expected)
    np.testing.assert_array_equal(streams, expected_streams)
    assert not states[:, [0, 2]].any() and not states[:, 1, :2].any()


def test_sample_layer_records_wide_layers():
    """The transposing record (eight units per word, blocks of chains) on sizes that are not
    multiples of eight, more chains than one block, and a nonzero offset."""
    rng = np.random.default_rng(8)
    m, k, n = 21, 5, 300
    rows = rng.normal(0, 1, (m, k)).astype(np.float32)
    bias = rng.normal(0, 1, m).astype(np.float32)
    other = rng.integers(0, 2, (k, n)).astype(np.float32)
    out = np.empty((m, n), np.float32)
    states = np.zeros((n, 2, m + 3), np.uint8)
    layer_sampler(Layer(rows @ other, bias, layer_margins(rows, bias, np.float32), rows, other, np.zeros(m, np.uint8)),
                  seed_streams(rng, n), out, states, 3, layer_scratch(np.float32, n, m))(1)
    np.testing.assert_array_equal(states[:, 1, 3:], out.T)
    assert 0 < out.mean() < 1 and not states[:, 0].any() and not states[:, 1, :3].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [2, 6])
def test_sample_layer_keeps_clamped_units(dtype, n):
    """Clamped units keep their value, and their draws are still consumed (the stream is the same)."""
    rng = np.random.default_rng(4)
    m, k = 5, 4
    rows = rng.normal(0, 1, (m, k)).astype(dtype)
    bias = np.array([50.0, -50.0, 0.0, 50.0, -50.0], dtype)  # unclamped they would be 1 and 0
    other = np.ascontiguousarray(rng.integers(0, 2, (n, k)).astype(dtype).T)
    out = np.zeros((m, n), dtype)
    out[0] = 0.0
    out[1] = 1.0
    clamped = np.array([1, 1, 0, 0, 0], np.uint8)
    limit = layer_margins(rows, bias, dtype)
    streams = seed_streams(rng, n)
    free_streams = streams.copy()
    states = np.zeros((n, 1, m), np.uint8)
    layer_sampler(Layer(rows @ other, bias, limit, rows, other, clamped), streams, out, states, 0,
                  layer_scratch(dtype, n, m))(0)
    assert np.all(out[0] == 0) and np.all(out[1] == 1)
    assert np.all(out[3] == 1) and np.all(out[4] == 0)
    np.testing.assert_array_equal(states[:, 0], out.T)
    free_out = np.zeros((m, n), dtype)
    layer_sampler(Layer(rows @ other, bias, limit, rows, other, np.zeros(m, np.uint8)), free_streams, free_out,
                  np.zeros((n, 1, m), np.uint8), 0, layer_scratch(dtype, n, m))(-1)
    np.testing.assert_array_equal(streams, free_streams)
    np.testing.assert_array_equal(out[2:], free_out[2:])


def test_margins_bound_blas_discrepancy():
    """The bound D covers the real float32 BLAS error (1 vs 2 threads, and row blocking)."""
    import threadpoolctl

    rng = np.random.default_rng(5)
    w = rng.normal(0, 0.05, (300, 200)).astype(np.float32)
    bias = rng.normal(0, 0.5, 200).astype(np.float32)
    x = rng.integers(0, 2, (64, 300)).astype(np.float32)
    spread = summation_error_bound(np.ascontiguousarray(w.T), bias, np.float32)  # D_j
    exact = x.astype(np.float64) @ w.astype(np.float64) + bias
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        fast = [x @ w + bias, np.concatenate([x[:13] @ w, x[13:] @ w]) + bias]
    with threadpoolctl.threadpool_limits(2, user_api="blas"):
        fast.append(x @ w + bias)
    for value in fast:
        assert np.all(np.abs(value - exact) <= spread)
    limit = layer_margins(np.ascontiguousarray(w.T), bias, np.float32)
    assert limit.dtype == np.float32 and np.all(limit >= spread / 4 + 2.0**-19)


# ---------------------------------------------------------------- sample_rbm
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_shapes_dtype_info(dtype):
    rbm = _rbm()
    states, info = sample_rbm(rbm, 7, n_chains=3, burn_in=2, thin=3, rng=0, dtype=dtype)
    assert states.shape == (3, 7, 8) and states.dtype == np.uint8
    assert set(np.unique(states)) <= {0, 1}
    assert info["sweeps"] == 2 + 7 * 3 and info["dtype"] == dtype and info["thin"] == 3
    assert info["threads"]["numba"] == 1
    assert info["temperature"] == 1.0 and info["seconds"]["sampling"] >= 0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_rng_same_samples(dtype):
    rbm = _rbm(12, 9)
    a, _ = sample_rbm(rbm, 20, n_chains=6, rng=11, dtype=dtype)
    b, _ = sample_rbm(rbm, 20, n_chains=6, rng=np.random.default_rng(11), dtype=dtype)
    c, _ = sample_rbm(rbm, 20, n_chains=6, rng=12, dtype=dtype)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n_chains", [5, 6, 7, 11])
def test_chains_are_independent_streams(dtype, n_chains):
    """A chain's draws depend on its own stream only: adding chains (past the one-chain-at-a-time
    path, with or without padding columns in the products) leaves the first four unchanged,
    given the same seeds and initial states."""
    from pgm_energy.samplers._block import _product_columns

    assert [_product_columns(n) for n in (1, 2, 3, 4, 5, 6, 7, 11, 100)] == [1, 2, 4, 4, 5, 8, 8, 12, 100]
    rbm = _rbm(6, 4)
    start = np.random.default_rng(0).integers(0, 2, (n_chains, 10))
    # seed_streams draws the seeds one after another, so 4 seeds are a prefix of more
    seeds = seed_streams(np.random.default_rng(3), n_chains)
    assert np.array_equal(seeds[:4], seed_streams(np.random.default_rng(3), 4))
    more, _ = sample_rbm(rbm, 15, n_chains=n_chains, rng=3, initial_states=start, dtype=dtype)
    four, _ = sample_rbm(rbm, 15, n_chains=4, rng=3, initial_states=start[:4], dtype=dtype)
    np.testing.assert_array_equal(more[:4], four)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_thread_count_independence(dtype):
    """Same rng, identical samples with 1 and 2 BLAS threads (whose float products differ)."""
    import threadpoolctl

    rbm = RestrictedBoltzmannMachine.random(300, 200, scale=0.05, rng=1)
    results = []
    for threads in (1, 2):
        with threadpoolctl.threadpool_limits(threads, user_api="blas"):
            states, _ = sample_rbm(rbm, 15, n_chains=64, rng=5, dtype=dtype)
        results.append(states)
    np.testing.assert_array_equal(results[0], results[1])


def test_evidence_is_clamped():
    rbm = _rbm(6, 4, scale=3.0)
    evidence = {"v0": 1, "v3": 0, "h1": 1}
    states, _ = sample_rbm(rbm, 50, n_chains=4, rng=0, evidence=evidence,
                           initial_states=np.zeros(10, int))
    assert np.all(states[:, :, 0] == 1) and np.all(states[:, :, 3] == 0) and np.all(states[:, :, 7] == 1)
    free = states[:, :, [1, 2, 4, 5, 6, 8, 9]]
    assert 0 < free.mean() < 1


@pytest.mark.parametrize("evidence", [
    {f"v{i}": i % 2 for i in range(6)},
    {f"h{j}": 1 for j in range(4)},
    {**{f"v{i}": 1 for i in range(6)}, **{f"h{j}": 0 for j in range(4)}},
])
def test_fully_clamped_layers(evidence):
    rbm = _rbm(6, 4)
    states, _ = sample_rbm(rbm, 30, n_chains=3, rng=2, evidence=evidence)
    names = rbm.names
    for name, value in evidence.items():
        assert np.all(states[:, :, names.index(name)] == value)
    assert set(np.unique(states)) <= {0, 1}


def test_initial_states_single_and_per_chain():
    rbm = _rbm(4, 2)
    # thin=1, burn_in=0: the first draw is one sweep after the start; with huge biases it is fixed
    strong = RestrictedBoltzmannMachine(np.zeros((4, 2)), [60.0, -60, 60, -60], [-60.0, 60])
    states, _ = sample_rbm(strong, 2, n_chains=3, rng=0, initial_states=[0, 1, 0, 1, 1, 0])
    assert np.all(states == np.array([1, 0, 1, 0, 0, 1]))
    per_chain = np.random.default_rng(0).integers(0, 2, (3, 6))
    states, _ = sample_rbm(rbm, 2, n_chains=3, rng=0, initial_states=per_chain.astype(bool))
    assert states.shape == (3, 2, 6)


def test_temperature():
    rbm = _rbm(5, 3)
    hot, info = sample_rbm(rbm, 5, n_chains=2, rng=0, temperature=2.0)
    same, _ = sample_rbm(rbm.with_temperature(2.0), 5, n_chains=2, rng=0)
    np.testing.assert_array_equal(hot, same)
    assert info["temperature"] == 2.0


def test_progress_bar(capsys):
    states, _ = sample_rbm(_rbm(), 130, n_chains=2, rng=0, progress=True)
    assert states.shape == (2, 130, 8)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_samples": 0}, ValidationError, "n_samples must be >= 1"),
        ({"n_samples": 2.5}, ParameterTypeError, "n_samples must be an integer"),
        ({"n_chains": 0}, ValidationError, "n_chains must be >= 1"),
        ({"burn_in": -1}, ValidationError, "burn_in must be >= 0"),
        ({"thin": 0}, ValidationError, "thin must be >= 1"),
        ({"temperature": 0.0}, ValidationError, "temperature must be finite and > 0"),
        ({"temperature": "hot"}, ParameterTypeError, "temperature must be a real number"),
        ({"dtype": "float16"}, ValidationError, "dtype must be 'float32' or 'float64', got 'float16'"),
        ({"dtype": None}, ValidationError, "dtype must be"),
        ({"dtype": "int64"}, ValidationError, "dtype must be"),
        ({"evidence": {"x9": 1}}, EvidenceError, "'x9', which is not a variable"),
        ({"evidence": {"v0": 2}}, EvidenceError, r"evidence\['v0'\] must be 0 or 1, got 2"),
        ({"evidence": [("v0", 1)]}, ParameterTypeError, "evidence must be a dict"),
        ({"initial_states": [0, 1]}, StateError, r"initial_states must have shape \(8,\) or \(n_chains, 8\)"),
        ({"initial_states": np.full(8, 0.5)}, StateError, "initial_states must contain only 0 and 1, got 0.5"),
        ({"initial_states": np.zeros((3, 8))}, StateError, r"\(n_chains, 8\) = \(2, 8\), got \(3, 8\)"),
        ({"initial_states": ["a"] * 8}, StateError, "initial_states must be an array of 0/1 values"),
        ({"rng": "seed"}, ParameterTypeError, "rng must be None, an int or a numpy.random.Generator"),
        ({"rng": -1}, ValidationError, "rng must be None, a non-negative int"),
        ({"progress": "yes"}, ParameterTypeError, "progress must be True or False"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    arguments = {"n_samples": 3, "n_chains": 2, **kwargs}
    n_samples = arguments.pop("n_samples")
    with pytest.raises(error, match=match):
        sample_rbm(_rbm(), n_samples, **arguments)


def test_not_an_rbm():
    with pytest.raises(ParameterTypeError, match="rbm must be a RestrictedBoltzmannMachine"):
        sample_rbm(np.zeros((3, 3)), 2)


def test_unknown_keyword():
    with pytest.raises(TypeError):
        sample_rbm(_rbm(), 2, chains=3)
