"""The generator's one home: every form of a draw agrees with the plain xorshift64* definition."""

import numpy as np
from numba import njit

from pgm_energy._kernels.rng import (
    bernoulli,
    bernoulli_log_odds,
    bits_uniform,
    next_uniform,
    seed_streams,
    state_uniform,
    uniform_pair32,
    xorshift_bits,
    xorshift_next,
    xorshift_step,
)

MULTIPLIER = 0x2545F4914F6CDD1D
MASK = (1 << 64) - 1


def _reference_stream(seed, n):
    """xorshift64* in Python integers: the states and the 64-bit outputs of ``n`` steps."""
    x, states, outputs = int(seed), [], []
    for _ in range(n):
        x ^= x >> 12
        x ^= (x << 25) & MASK
        x ^= x >> 27
        states.append(x)
        outputs.append((x * MULTIPLIER) & MASK)
    return states, outputs


@njit(cache=False)
def _draw_forms(seed, n, probability):
    states = np.empty(n, dtype=np.uint64)
    columns = np.empty((n, 6))
    x = y = z = seed
    streams = np.array([seed])
    for t in range(n):
        x = xorshift_next(x)
        y, bits = xorshift_bits(y)
        z, u = xorshift_step(z)
        states[t] = x
        first, second = uniform_pair32(x)
        columns[t, 0] = bits_uniform(bits)
        columns[t, 1] = state_uniform(x)
        columns[t, 2] = u
        columns[t, 3] = next_uniform(streams, 0)
        columns[t, 4] = first
        columns[t, 5] = second
    w = seed
    draws = np.empty(n, dtype=np.bool_)
    for t in range(n):
        w, draws[t] = bernoulli(w, probability)
    return states, columns, draws


@njit(cache=False)
def _log_odds_draws(log_odds, uniforms):
    out = np.empty(log_odds.shape[0], dtype=np.uint8)
    for t in range(log_odds.shape[0]):
        out[t] = bernoulli_log_odds(log_odds[t], uniforms[t])
    return out


def test_every_form_of_a_draw_is_the_reference_stream():
    seed = seed_streams(np.random.default_rng(3), 1)[0]
    n = 2000
    states, columns, draws = _draw_forms(seed, n, 0.3)
    ref_states, outputs = _reference_stream(seed, n)
    np.testing.assert_array_equal(states, np.array(ref_states, dtype=np.uint64))
    uniforms = np.array([(o >> 11) * 2.0**-53 for o in outputs])
    for k in range(4):
        np.testing.assert_array_equal(columns[:, k], uniforms)
    np.testing.assert_array_equal(columns[:, 4], np.array([(o >> 40) * 2.0**-24 for o in outputs]))
    np.testing.assert_array_equal(columns[:, 5], np.array([((o >> 16) & 0xFFFFFF) * 2.0**-24 for o in outputs]))
    np.testing.assert_array_equal(draws, uniforms < 0.3)


def test_bernoulli_log_odds_is_the_sigmoid_comparison_and_never_overflows():
    rng = np.random.default_rng(4)
    log_odds = np.concatenate([rng.normal(0, 5, 5000), [800.0, -800.0, 0.0]])
    uniforms = np.concatenate([rng.random(5000), [0.999, 0.0, 0.5]])
    with np.errstate(over="ignore"):
        expected = (uniforms < 1.0 / (1.0 + np.exp(-log_odds))).astype(np.uint8)
    np.testing.assert_array_equal(_log_odds_draws(log_odds, uniforms), expected)


def test_rows_of_uniforms_and_normals_come_from_their_own_streams():
    """fill_uniforms / fill_normals: row i depends on stream i only, and the numbers have the right law."""
    from scipy import stats

    from pgm_energy._kernels.rng import fill_normals, fill_uniforms, seed_streams, uniforms

    streams = seed_streams(np.random.default_rng(0), 4)
    rows = np.empty((4, 100_001))
    fill_normals(streams.copy(), rows)
    alone = np.empty((1, 100_001))
    fill_normals(streams[2:3].copy(), alone)
    np.testing.assert_array_equal(alone[0], rows[2])
    # Kolmogorov-Smirnov against N(0, 1) at a 1e-4 false-failure rate per row (fixed seed)
    assert min(stats.kstest(row, "norm").pvalue for row in rows) > 1e-4
    assert abs(rows.mean()) < 5 * (1 / np.sqrt(rows.size)) and abs(rows.var() - 1) < 5 * np.sqrt(2 / rows.size)
    flat = np.empty((4, 50_000))
    fill_uniforms(streams.copy(), flat)
    assert min(stats.kstest(row, "uniform").pvalue for row in flat) > 1e-4
    one_each = uniforms(streams.copy())
    np.testing.assert_array_equal(one_each, flat[:, 0])  # the first uniform of each stream
