"""The product kernel for an RBM's exact log Z against an independent NumPy reference.

The reference sums one layer in closed form with ``np.logaddexp(0, x)`` per unit and
state, and adds everything up with ``math.fsum``; it shares no code with the kernel
(no split into inner and outer units, no classes of units, no running product).
Small models are also checked against a brute force over both layers.
"""

from __future__ import annotations

import itertools
import math

import numba
import numpy as np
import pytest
from scipy.special import logsumexp

from pgm_energy import RestrictedBoltzmannMachine, exact
from pgm_energy._kernels.bipartite import bipartite_log_mass, choose_split
from pgm_energy._kernels.enumeration import bipartite_block_sums


def close(value, expected, rtol=1e-12):
    """|value - expected| <= rtol * max(1, |expected|): relative, floored at 1 nat."""
    return abs(value - expected) <= rtol * max(1.0, abs(expected))


# --------------------------------------------------------------------------- references
def reference_log_z(coupling, analytic_bias, enumerated_bias):
    """log sum_e exp(q.e + sum_i logaddexp(0, p_i + (C^T e)_i)), every state written out."""
    m, n = coupling.shape
    log_weights = []
    for start in range(0, 1 << m, 4096):
        codes = np.arange(start, min(start + 4096, 1 << m))
        states = ((codes[:, None] >> np.arange(m)) & 1).astype(np.float64)
        fields = analytic_bias + states @ coupling
        softplus = np.logaddexp(0.0, fields)
        for row in range(len(codes)):
            linear = math.fsum(states[row] * enumerated_bias)
            log_weights.append(math.fsum(np.append(softplus[row], linear)))
    log_weights = np.array(log_weights)
    top = log_weights.max()
    return top + math.log(math.fsum(np.exp(log_weights - top)))


def reference_rbm(model, evidence=None):
    """log Z of an RBM (with evidence) by the reference, summing out the visible layer."""
    evidence = evidence or {}
    t = model.temperature
    w, b, c = model.weights / t, model.visible_bias / t, model.hidden_bias / t
    fixed_v = {model.index(k): v for k, v in evidence.items() if k in model.visible_names}
    fixed_h = {model.index(k) - model.n_visible: v for k, v in evidence.items() if k in model.hidden_names}
    free_v = [i for i in range(model.n_visible) if i not in fixed_v]
    free_h = [j for j in range(model.n_hidden) if j not in fixed_h]
    vv = np.zeros(model.n_visible)
    hh = np.zeros(model.n_hidden)
    for i, v in fixed_v.items():
        vv[i] = v
    for j, v in fixed_h.items():
        hh[j] = v
    # energy terms among clamped units, and the fields they put on the free ones
    constant = vv @ w @ hh + b @ vv + c @ hh
    field_v = b[free_v] + w[np.ix_(free_v, list(fixed_h))] @ hh[list(fixed_h)]
    field_h = c[free_h] + vv[list(fixed_v)] @ w[np.ix_(list(fixed_v), free_h)]
    block = w[np.ix_(free_v, free_h)]
    if len(free_h) <= len(free_v):  # enumerate the hidden layer
        return constant + reference_log_z(block.T, field_v, field_h)
    return constant + reference_log_z(block, field_h, field_v)


def brute_rbm(model):
    """log Z by enumerating every joint (v, h)."""
    t = model.temperature
    values = []
    for v in itertools.product((0.0, 1.0), repeat=model.n_visible):
        v = np.array(v)
        for h in itertools.product((0.0, 1.0), repeat=model.n_hidden):
            h = np.array(h)
            values.append((v @ model.weights @ h + model.visible_bias @ v + model.hidden_bias @ h) / t)
    values = np.array(values)
    top = values.max()
    return top + math.log(math.fsum(np.exp(values - top)))


def kernel_log_z(coupling, analytic_bias, enumerated_bias, **options):
    return float(logsumexp(bipartite_log_mass(coupling, analytic_bias, enumerated_bias, **options)))


def random_problem(rng, m, n, scale, bias_scale=None):
    bias_scale = scale if bias_scale is None else bias_scale
    return (
        rng.normal(0.0, scale, (m, n)),
        rng.normal(0.0, bias_scale, n),
        rng.normal(0.0, bias_scale, m),
    )


# --------------------------------------------------------------------------- kernel vs reference
@pytest.mark.parametrize(
    "m, n, scale",
    [
        (0, 5, 1.0),  # nothing enumerated
        (3, 0, 1.0),  # nothing summed in closed form
        (1, 1, 1.0),
        (4, 9, 0.1),
        (10, 30, 1.0),  # exactly the inner bits
        (13, 40, 3.0),  # outer states, one per group
        (15, 25, 1.0),  # groups of several outer states
        (12, 60, 50.0),  # huge weights: units in every class
        (12, 20, 400.0),  # ranges too wide for the product: the scalar fallback
    ],
)
def test_kernel_matches_reference(m, n, scale):
    rng = np.random.default_rng(1000 * m + n)
    coupling, p, q = random_problem(rng, m, n, scale)
    assert close(kernel_log_z(coupling, p, q), reference_log_z(coupling, p, q))


def test_uniform_weights_of_plus_minus_50():
    rng = np.random.default_rng(50)
    coupling = rng.uniform(-50.0, 50.0, (12, 30))
    p = rng.uniform(-50.0, 50.0, 30)
    q = rng.uniform(-50.0, 50.0, 12)
    expected = reference_log_z(coupling, p, q)
    assert close(kernel_log_z(coupling, p, q), expected)
    # any split of the enumerated layer gives the same answer
    for m_in, group in [(0, 1), (3, 4), (7, 8), (12, 1)]:
        assert close(kernel_log_z(coupling, p, q, m_in=m_in, group=group), expected)


def test_ten_thousand_analytic_units():
    rng = np.random.default_rng(10_000)
    coupling, p, q = random_problem(rng, 3, 10_000, 1.0)
    assert close(kernel_log_z(coupling, p, q), reference_log_z(coupling, p, q))
    coupling, p, q = random_problem(rng, 3, 10_000, 0.05, bias_scale=30.0)
    assert close(kernel_log_z(coupling, p, q), reference_log_z(coupling, p, q))


def test_products_far_beyond_the_float_range_are_renormalised():
    # 400 units at x in [20, 39]: the product of (1 + e^x) is near 2**(400 * 43)
    rng = np.random.default_rng(7)
    coupling = rng.uniform(0.0, 1.9, (10, 400))
    p = np.full(400, 20.0)
    q = rng.normal(0.0, 1.0, 10)
    log_mass = bipartite_log_mass(coupling, p, q)
    assert np.all(np.isfinite(log_mass))
    assert close(float(logsumexp(log_mass)), reference_log_z(coupling, p, q))


@pytest.mark.parametrize("bias", [-100.0, -40.5, -39.5, 39.5, 40.5, 100.0, 700.0, -700.0])
def test_units_near_and_beyond_the_cuts(bias):
    # x in [bias, bias + 1]: units on both sides of the +-40 cuts and of the 650 cap
    rng = np.random.default_rng(int(abs(bias)))
    coupling = rng.uniform(0.0, 0.1, (10, 50))
    p = np.full(50, bias) + rng.uniform(0.0, 0.01, 50)
    q = rng.normal(0.0, 1.0, 10)
    assert close(kernel_log_z(coupling, p, q), reference_log_z(coupling, p, q))


@pytest.mark.parametrize("top", [640.0, 655.0, 705.0, 715.0, 760.0])
def test_wide_ranges_near_the_exp_limit(top):
    # every unit spans [top - 720, top] over the inner states: exp(top) alone may overflow
    rng = np.random.default_rng(int(top))
    coupling = np.full((10, 6), 72.0) + rng.uniform(-0.5, 0.5, (10, 6))
    p = top - coupling.sum(axis=0) + rng.uniform(-3.0, 0.0, 6)
    q = rng.normal(0.0, 5.0, 10)
    assert close(kernel_log_z(coupling, p, q), reference_log_z(coupling, p, q))


@pytest.mark.parametrize("bias", [-30.0, -3.0, 0.0, 10.0, 35.0])
def test_wide_units_in_the_dominant_state(bias):
    # Couplings of +-150 make every unit wide (its range spans far beyond both cuts),
    # while enumerated biases below -sum|C| make the all-off state dominate, where every
    # unit sits at x = bias: the scalar fallback must get softplus(bias) right there.
    rng = np.random.default_rng(int(bias) + 100)
    coupling = rng.choice([-150.0, 150.0], (12, 3)) + rng.uniform(-1.0, 1.0, (12, 3))
    p = np.full(3, bias) + rng.uniform(-0.5, 0.5, 3)
    q = -np.abs(coupling).sum(axis=1) - 50.0
    expected = reference_log_z(coupling, p, q)
    assert abs(expected - np.logaddexp(0.0, p).sum()) < 1e-15 * 3 + 1e-20  # the setup works
    assert close(kernel_log_z(coupling, p, q), expected)


def test_every_group_and_tile_agrees():
    rng = np.random.default_rng(3)
    coupling, p, q = random_problem(rng, 11, 37, 2.0)
    expected = reference_log_z(coupling, p, q)
    for m_in, group, tile in [(0, 1, 1), (5, 1, 1), (5, 16, 8), (6, 2, 64), (8, 8, 256), (11, 1, 1024)]:
        value = kernel_log_z(coupling, p, q, m_in=m_in, group=group, tile=tile)
        assert close(value, expected), (m_in, group, tile)


def test_same_bits_whatever_the_thread_count():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("Numba has a single thread on this machine")
    rng = np.random.default_rng(11)
    coupling, p, q = random_problem(rng, 16, 50, 1.0)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = bipartite_log_mass(coupling, p, q)
        numba.set_num_threads(2)
        two = bipartite_log_mass(coupling, p, q)
    finally:
        numba.set_num_threads(before)
    assert one.tobytes() == two.tobytes()


def test_agrees_with_the_gray_code_kernel():
    rng = np.random.default_rng(5)
    for m, n, scale in [(9, 30, 1.0), (14, 20, 5.0)]:
        coupling, p, q = random_problem(rng, m, n, scale)
        log_mass, _, _, _ = bipartite_block_sums(coupling, p, q, min(m, 8), False)
        assert close(kernel_log_z(coupling, p, q), float(logsumexp(log_mass)))


def test_choose_split_respects_the_table_limit():
    assert choose_split(20, 784) == (10, 8)
    assert choose_split(0, 5) == (0, 1)
    m_in, _ = choose_split(20, 10_000)
    assert 10_000 * 2**m_in <= 2**22


# --------------------------------------------------------------------------- through exact.py
@pytest.mark.parametrize(
    "n_visible, n_hidden, scale",
    [(1, 1, 1.0), (6, 4, 1.0), (3, 8, 2.0), (5, 5, 50.0)],
)
def test_log_partition_function_matches_brute_force(n_visible, n_hidden, scale):
    rng = np.random.default_rng(n_visible * 31 + n_hidden)
    model = RestrictedBoltzmannMachine(
        rng.normal(0.0, scale, (n_visible, n_hidden)),
        rng.normal(0.0, scale, n_visible),
        rng.normal(0.0, scale, n_hidden),
        temperature=1.7,
    )
    assert close(exact.log_partition_function(model), brute_rbm(model))


@pytest.mark.parametrize(
    "n_visible, n_hidden",
    [(40, 12), (9, 60), (3, 10_000)],  # the visible layer is the smaller one in the last two
)
def test_log_partition_function_matches_reference(n_visible, n_hidden):
    rng = np.random.default_rng(n_visible + n_hidden)
    model = RestrictedBoltzmannMachine(
        rng.normal(0.0, 1.0, (n_visible, n_hidden)),
        rng.normal(0.0, 1.0, n_visible),
        rng.normal(0.0, 1.0, n_hidden),
    )
    assert close(exact.log_partition_function(model), reference_rbm(model))


def test_evidence_leaving_no_enumerated_unit():
    rng = np.random.default_rng(2)
    model = RestrictedBoltzmannMachine(rng.normal(0, 3.0, (6, 3)), rng.normal(0, 1, 6), rng.normal(0, 1, 3))
    cases = [
        {"h0": 1, "h1": 0, "h2": 1},  # hidden all clamped: nothing left to enumerate
        {f"v{i}": i % 2 for i in range(6)},  # visible all clamped
        {**{f"v{i}": 1 for i in range(6)}, "h0": 0, "h1": 1, "h2": 1},  # everything clamped
        {"v0": 1, "h2": 0},
    ]
    for evidence in cases:
        assert close(exact.log_partition_function(model, evidence=evidence), reference_rbm(model, evidence))


def test_agrees_with_the_moments_path():
    rng = np.random.default_rng(8)
    model = RestrictedBoltzmannMachine(
        rng.normal(0, 2.0, (30, 11)), rng.normal(0, 1, 30), rng.normal(0, 1, 11)
    )
    fast = exact.log_partition_function(model)
    # S = log Z + U / T, both from the moments (Gray-code) path
    slow = exact.entropy(model) - exact.mean_energy(model) / model.temperature
    assert close(fast, slow, rtol=1e-10)
