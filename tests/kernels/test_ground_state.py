"""Ground-state kernels against a plain NumPy brute force over every state.

The reference writes out all ``2**n`` states in ``itertools.product`` order (unit 0
most significant), computes each energy as a sum over pairs ``i < j`` and takes
``np.argmin``, whose first minimum is the tie-break the kernels promise (lowest
state index). Ties are only tested with integer weights, whose energies are
exact in floating point, so "tied" is unambiguous for both sides.
"""

from __future__ import annotations

import itertools

import numba
import numpy as np
import pytest

from pgm_energy._kernels.ground_state import bipartite_ground_state, pairwise_ground_state


def all_states(n):
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.float64).reshape(-1, n)


def symmetric(rng, n, scale=1.0, integer=False):
    if integer:
        upper = rng.integers(-1, 2, size=(n, n)).astype(np.float64)
    else:
        upper = rng.uniform(-scale, scale, size=(n, n))
    upper = np.triu(upper, 1)
    return np.ascontiguousarray(upper + upper.T)


def brute_pairwise(weights, biases):
    n = biases.shape[0]
    states = all_states(n)
    energy = -(states @ biases)
    for i in range(n):
        for j in range(i + 1, n):
            energy -= weights[i, j] * states[:, i] * states[:, j]
    k = int(np.argmin(energy))
    return states[k].astype(np.uint8), float(energy[k])


def brute_bipartite(weights, b, c):
    """argmin over (v, h) of -v'Wh - b'v - c'h, states in (v, h) product order."""
    nv, nh = weights.shape
    states = all_states(nv + nh)
    v, h = states[:, :nv], states[:, nv:]
    energy = -np.einsum("si,ij,sj->s", v, weights, h) - v @ b - h @ c
    k = int(np.argmin(energy))
    return states[k, :nv].astype(np.uint8), states[k, nv:].astype(np.uint8), float(energy[k])


def brute_free_energy_argmin(weights, b, c):
    nv = weights.shape[0]
    v = all_states(nv)
    free = -(v @ b) - np.logaddexp(0.0, c + v @ weights).sum(axis=1)
    k = int(np.argmin(free))
    return v[k].astype(np.uint8), float(free[k])


def rbm_ground_state(weights, b, c, *, enumerate_hidden):
    """(v, h, energy) by the kernel, enumerating the requested layer."""
    if enumerate_hidden:
        h, v, e = bipartite_ground_state(np.ascontiguousarray(weights.T), b, c, enumerated_first=False)
    else:
        v, h, e = bipartite_ground_state(np.ascontiguousarray(weights), c, b, enumerated_first=True)
    return v, h, e


# --------------------------------------------------------------------------- general machines
@pytest.mark.parametrize("n", [1, 2, 5, 9, 13])
@pytest.mark.parametrize("scale", [1.0, 50.0])
def test_pairwise_matches_brute_force(n, scale):
    rng = np.random.default_rng(1000 * n + int(scale))
    for _ in range(4):
        weights = symmetric(rng, n, scale)
        biases = rng.uniform(-scale, scale, size=n)
        state, energy = pairwise_ground_state(weights, biases)
        expected_state, expected_energy = brute_pairwise(weights, biases)
        np.testing.assert_array_equal(state, expected_state)
        assert state.dtype == np.uint8
        assert abs(energy - expected_energy) <= 1e-9 * (1 + abs(expected_energy))


def test_pairwise_answer_does_not_depend_on_blocks_or_threads():
    rng = np.random.default_rng(7)
    n = 11
    weights, biases = symmetric(rng, n, integer=True), rng.integers(-1, 2, size=n).astype(np.float64)
    expected, _ = brute_pairwise(weights, biases)
    for n_prefix in range(n + 1):
        state, _ = pairwise_ground_state(weights, biases, n_prefix=n_prefix)
        np.testing.assert_array_equal(state, expected, err_msg=f"n_prefix={n_prefix}")
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        state, _ = pairwise_ground_state(weights, biases)
    finally:
        numba.set_num_threads(threads)
    np.testing.assert_array_equal(state, expected)


@pytest.mark.parametrize("seed", range(12))
def test_pairwise_ties_go_to_the_lowest_state_index(seed):
    # Weights and biases in {-1, 0, 1}: many exact ties among the minima.
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 10))
    weights = symmetric(rng, n, integer=True)
    biases = rng.integers(-1, 2, size=n).astype(np.float64)
    state, _ = pairwise_ground_state(weights, biases)
    np.testing.assert_array_equal(state, brute_pairwise(weights, biases)[0])


def test_pairwise_all_states_tied_gives_all_zeros():
    state, energy = pairwise_ground_state(np.zeros((10, 10)), np.zeros(10))
    np.testing.assert_array_equal(state, np.zeros(10, dtype=np.uint8))
    assert energy == 0.0


def test_pairwise_spin_flip_symmetric_pair_of_ground_states():
    # Ferromagnetic chain with b_i = -1/2 sum_j W_ij: E(s) = E(1 - s); ground states 00..0 and 11..1.
    n = 8
    weights = np.zeros((n, n))
    for i in range(n - 1):
        weights[i, i + 1] = weights[i + 1, i] = 2.0
    biases = -0.5 * weights.sum(axis=1)
    state, _ = pairwise_ground_state(weights, biases)
    np.testing.assert_array_equal(state, np.zeros(n, dtype=np.uint8))
    # The other ground state wins once unit 0 prefers 1 by a margin far above the tolerance.
    biases[0] += 1e-6
    state, _ = pairwise_ground_state(weights, biases)
    np.testing.assert_array_equal(state, np.ones(n, dtype=np.uint8))


def test_pairwise_no_units():
    state, energy = pairwise_ground_state(np.zeros((0, 0)), np.zeros(0))
    assert state.shape == (0,) and energy == 0.0


# --------------------------------------------------------------------------- bipartite models
@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (7, 3), (6, 6), (10, 2), (2, 10)])
@pytest.mark.parametrize("scale", [1.0, 50.0])
@pytest.mark.parametrize("enumerate_hidden", [True, False])
def test_bipartite_matches_brute_force(shape, scale, enumerate_hidden):
    rng = np.random.default_rng(shape[0] * 100 + shape[1] + int(scale))
    for _ in range(3):
        weights = rng.uniform(-scale, scale, size=shape)
        b, c = rng.uniform(-scale, scale, size=shape[0]), rng.uniform(-scale, scale, size=shape[1])
        v, h, energy = rbm_ground_state(weights, b, c, enumerate_hidden=enumerate_hidden)
        ev, eh, expected = brute_bipartite(weights, b, c)
        np.testing.assert_array_equal(v, ev)
        np.testing.assert_array_equal(h, eh)
        assert abs(energy - expected) <= 1e-9 * (1 + abs(expected))


@pytest.mark.parametrize("seed", range(16))
def test_bipartite_ties_go_to_the_lowest_state_index(seed):
    # The tie-break is on the whole state (visible then hidden), whichever layer is enumerated.
    rng = np.random.default_rng(seed)
    nv, nh = (int(k) for k in rng.integers(1, 7, size=2))
    weights = rng.integers(-1, 2, size=(nv, nh)).astype(np.float64)
    b = rng.integers(-1, 2, size=nv).astype(np.float64)
    c = rng.integers(-1, 2, size=nh).astype(np.float64)
    ev, eh, _ = brute_bipartite(weights, b, c)
    for enumerate_hidden in (True, False):
        v, h, _ = rbm_ground_state(weights, b, c, enumerate_hidden=enumerate_hidden)
        np.testing.assert_array_equal(np.concatenate([v, h]), np.concatenate([ev, eh]), err_msg=f"{enumerate_hidden=}")


def test_bipartite_all_tied_gives_zeros():
    v, h, e = rbm_ground_state(np.zeros((4, 9)), np.zeros(4), np.zeros(9), enumerate_hidden=False)
    assert not v.any() and not h.any() and e == 0.0


@pytest.mark.parametrize("shape", [(1, 3), (5, 4), (9, 6), (4, 12)])
@pytest.mark.parametrize("scale", [1.0, 50.0])
def test_bipartite_marginalized_minimises_the_free_energy(shape, scale):
    rng = np.random.default_rng(shape[0] * 31 + shape[1])
    for _ in range(3):
        weights = rng.uniform(-scale, scale, size=shape)
        b, c = rng.uniform(-scale, scale, size=shape[0]), rng.uniform(-scale, scale, size=shape[1])
        v, h, free = bipartite_ground_state(np.ascontiguousarray(weights), c, b, marginalize=True)
        expected_v, expected_free = brute_free_energy_argmin(weights, b, c)
        np.testing.assert_array_equal(v, expected_v)
        assert abs(free - expected_free) <= 1e-9 * (1 + abs(expected_free))
        np.testing.assert_array_equal(h, (c + v @ weights > 0).astype(np.uint8))


def test_bipartite_marginalized_ties_go_to_the_lowest_state_index():
    # No coupling and zero biases: F(v) is the same for every v.
    v, _, _ = bipartite_ground_state(np.zeros((6, 3)), np.zeros(3), np.zeros(6), marginalize=True)
    assert not v.any()
    # Units 0 and 2 have bias +1, the others 0: the zero-bias units are tied and take 0.
    b = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    v, _, _ = bipartite_ground_state(np.zeros((6, 3)), np.zeros(3), b, marginalize=True)
    np.testing.assert_array_equal(v, [1, 0, 1, 0, 0, 0])


def test_bipartite_blocks_do_not_change_the_answer():
    rng = np.random.default_rng(3)
    weights = rng.integers(-1, 2, size=(10, 4)).astype(np.float64)
    b, c = rng.integers(-1, 2, size=10).astype(np.float64), rng.integers(-1, 2, size=4).astype(np.float64)
    expected = brute_bipartite(weights, b, c)[:2]
    for n_prefix in range(11):
        v, h, _ = bipartite_ground_state(np.ascontiguousarray(weights), c, b, n_prefix=n_prefix)
        np.testing.assert_array_equal(np.concatenate([v, h]), np.concatenate(expected), err_msg=f"{n_prefix=}")


def test_bipartite_empty_enumerated_layer():
    c = np.array([1.0, -1.0, 0.0])
    e, a, score = bipartite_ground_state(np.zeros((0, 3)), c, np.zeros(0))
    assert e.shape == (0,)
    np.testing.assert_array_equal(a, [1, 0, 0])
    assert score == -1.0
