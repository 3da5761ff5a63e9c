"""Single-site Gibbs kernels: the cell-table decisions, chain interleaving ("lanes"), and a plain reference."""

import math
import os

import numpy as np
import pytest
import scipy.sparse as sp
from numba import njit

from pgm_energy._kernels import gibbs as kernels
from pgm_energy._kernels.rng import bits_uniform, block_stream, next_uniform, seed_streams, xorshift_bits

CELLS = 1 << kernels._CELL_BITS
NO_PADDING = (np.zeros(0, dtype=np.int64), np.zeros(0), 0)

#: The lane drivers are compiled per (lanes, acceptance rule, row width): eight variants of each,
#: about 5 s of compilation each on an empty cache. By default the tests run the four variants of
#: a covering array (each pair of values of any two of the three appears in one of them);
#: ``PGM_ENERGY_ALL_LANE_VARIANTS=1`` runs all eight.
ALL_LANE_VARIANTS = os.environ.get("PGM_ENERGY_ALL_LANE_VARIANTS") == "1"


def _lane_counts(acceptance, padded):
    """Lane counts tested for this rule and row layout: (4, heat bath, CSR), (2, heat bath, padded),
    (2, Metropolis, CSR), (4, Metropolis, padded); both with ``PGM_ENERGY_ALL_LANE_VARIANTS=1``.

    (4, heat bath, CSR) is the variant a sampler runs for many chains on an irregular sparse
    machine, also exercised by tests/kernels/test_gibbs_bundles.py.
    """
    if ALL_LANE_VARIANTS:
        return (2, 4)
    return (4,) if (acceptance == kernels.HEAT_BATH) != padded else (2,)


@njit(cache=False)
def _table_decisions(old, z, beta, bits, acceptance, summed=True):
    """(table decision with its fallback, log-space decision, fallback taken) for each input."""
    n = z.shape[0]
    fast = np.empty(n, dtype=np.uint8)
    slow = np.empty(n, dtype=np.uint8)
    fell_back = np.empty(n, dtype=np.bool_)
    for k in range(n):
        new, ambiguous = kernels._decide(old[k], z[k], beta[k], bits[k], acceptance, summed)
        if ambiguous:
            new = kernels._decide_exactly(old[k], z[k], beta[k], bits[k], acceptance)
        fast[k] = new
        fell_back[k] = ambiguous
        slow[k] = kernels._update(old[k], z[k], beta[k], bits_uniform(bits[k]), acceptance)
    return fast, slow, fell_back


def _hard_inputs(acceptance, n=200_000, seed=0):
    """Random bits with statistics ``y`` at, just around and far from the decision boundary of their uniform."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2**64, size=n, dtype=np.uint64, endpoint=False)
    bits[:64] = np.arange(64, dtype=np.uint64)  # u = 0
    bits[64:128] = np.uint64(2**64 - 1) - np.arange(64, dtype=np.uint64)  # the largest u
    edges = (rng.integers(0, CELLS, size=n).astype(np.uint64) << np.uint64(64 - kernels._CELL_BITS))
    bits[128:1000] = edges[128:1000]  # u on a cell edge
    u = (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53
    with np.errstate(divide="ignore"):
        boundary = np.log(u) if acceptance == kernels.METROPOLIS else np.log(u) - np.log1p(-u)
    offsets = np.array([0.0, 1e-13, -1e-13, 1e-10, -1e-10, 1e-9, -1e-9, 2e-9, -2e-9, 3e-9, -3e-9, 1e-6, -1e-6, 0.01, -0.01])
    y = boundary + offsets[rng.integers(0, offsets.size, size=n)]
    far = rng.random(n) < 0.2
    y[far] = rng.normal(scale=10.0, size=far.sum())
    y[:10] = [np.inf, -np.inf, 0.0, 40.0, -40.0, 41.0, -41.0, 1e300, -1e300, 36.7]
    old = rng.integers(0, 2, size=n).astype(np.uint8)
    beta = rng.choice([1.0, 0.37, 8.0], size=n)
    if acceptance == kernels.METROPOLIS:
        z = y * (1.0 - 2.0 * old) / beta  # y = beta (1 - 2 old) z, up to rounding
    else:
        z = y / beta
    z = np.where(np.isfinite(z), z, np.sign(z) * 1e300)
    return old, z, beta, bits


@pytest.mark.parametrize("acceptance", [kernels.HEAT_BATH, kernels.METROPOLIS], ids=["heat-bath", "metropolis"])
def test_cell_table_decisions_equal_the_log_space_test(acceptance):
    old, z, beta, bits = _hard_inputs(acceptance)
    fast, slow, fell_back = _table_decisions(old, z, beta, bits, acceptance)
    np.testing.assert_array_equal(fast, slow)
    other_form = _table_decisions(old, z, beta, bits, acceptance, False)  # the and-ed ambiguity test
    np.testing.assert_array_equal(other_form[0], slow)
    np.testing.assert_array_equal(other_form[2], fell_back)
    # near-boundary inputs fall back; random ones rarely do (about one in CELLS)
    assert 0.05 < fell_back.mean() < 0.95
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2**64, size=100_000, dtype=np.uint64, endpoint=False)
    z = rng.normal(scale=2.0, size=bits.size)
    old = rng.integers(0, 2, size=bits.size).astype(np.uint8)
    _, _, fell_back = _table_decisions(old, z, np.ones(bits.size), bits, acceptance)
    assert fell_back.mean() < 4.0 / CELLS


@pytest.mark.parametrize("acceptance", [kernels.HEAT_BATH, kernels.METROPOLIS], ids=["heat-bath", "metropolis"])
def test_decisions_agree_with_the_exact_test_in_numpy(acceptance):
    """Away from the boundary (where rounding cannot matter), the decision is the textbook one."""
    rng = np.random.default_rng(2)
    n = 100_000
    bits = rng.integers(0, 2**64, size=n, dtype=np.uint64, endpoint=False)
    u = (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53
    z = rng.normal(scale=3.0, size=n)
    old = rng.integers(0, 2, size=n).astype(np.uint8)
    beta = np.full(n, 0.8)
    fast, _, _ = _table_decisions(old, z, beta, bits, acceptance)
    if acceptance == kernels.METROPOLIS:
        y = beta * (1.0 - 2.0 * old) * z
        accept = u < np.exp(y)
        expected = np.where(accept, 1 - old, old)
        clear = np.abs(np.log(u) - y) > 1e-6
    else:
        y = beta * z
        expected = (u * (1.0 + np.exp(-y)) < 1.0).astype(np.uint8)
        clear = np.abs(np.log(u) - np.log1p(-u) - y) > 1e-6
    assert clear.mean() > 0.99
    np.testing.assert_array_equal(fast[clear], expected[clear])


def test_cell_tables_bracket_their_cells():
    """Each cell's [lo, hi] holds logit(u) (log(u)) for every uniform of the cell, with room to spare."""
    j = np.arange(CELLS)
    first = j / CELLS  # smallest uniform of cell j
    last = (j + 1) / CELLS - 2.0**-53  # largest
    with np.errstate(divide="ignore"):
        for table, f in ((kernels._LOGIT_CELLS, lambda u: np.log(u) - np.log1p(-u)), (kernels._LOG_CELLS, np.log)):
            lo, hi = table[0::2], table[1::2]
            assert np.all(lo < hi) and np.all(np.diff(lo) > 0) and np.all(np.diff(hi) > 0)
            assert np.all(lo <= f(first) - kernels._PAD / 2) and np.all(f(last) + kernels._PAD / 2 <= hi)
    assert kernels._LOGIT_CELLS[-1] >= math.log(2.0**53 - 1) + kernels._PAD


# ---------------------------------------------------------------------------- whole sweeps
def _graph(n_units, degree, seed):
    rng = np.random.default_rng(seed)
    weights = sp.random(n_units, n_units, density=degree / n_units, random_state=seed, data_rvs=rng.standard_normal)
    weights = sp.triu(weights, 1)
    weights = (weights + weights.T).tocsr()
    weights.sort_indices()
    return weights, rng.normal(size=n_units)


def _run(weights, biases, states, free, scan, acceptance, betas, streams, lanes, padded=False):
    states = states.copy()
    streams = streams.copy()
    fields = np.empty(states.shape)
    arrays = (weights.indptr.astype(np.int64), weights.indices.astype(np.int64), weights.data.astype(np.float64),
              np.zeros((0, 0)), False)
    kernels.initialise_fields(states, fields, biases, *arrays)
    slots = np.arange(betas.shape[0], dtype=np.int64)
    out = np.empty((states.shape[0], betas.shape[0], states.shape[1]), dtype=np.uint8)
    if lanes == 1:
        assert not padded
        kernels.run_chains(kernels.Chains(states, fields, streams), free, scan, acceptance, betas,
                           kernels.Record(slots, out), kernels.Weights(*arrays))
    else:
        padding = kernels.padded_rows(*arrays[:3]) if padded else NO_PADDING
        assert padding[2] in kernels.PAD_WIDTHS or not padded
        driver = kernels.chain_groups_driver(lanes, acceptance, padding[2])
        driver(kernels.Chains(states, fields, streams), free, betas, kernels.Record(slots, out), kernels.Weights(*arrays),
               kernels.PaddedRows(*padding))
    return out, fields, streams


def _chromatic_runs(weights, biases, class_ptr, class_units, states, keys, sweep_offset, acceptance, betas, padded):
    """Draws of chromatic sweeps: one chain at a time over CSR rows, then in groups (:func:`_lane_counts`)."""
    arrays = (biases, *_csr(weights), np.zeros((0, 0)), False)
    padding = kernels.padded_rows(*_csr(weights)) if padded else NO_PADDING
    slots = np.arange(betas.shape[0], dtype=np.int64)
    shape = (states.shape[0], betas.shape[0], states.shape[1])
    lane_counts = _lane_counts(acceptance, padded)
    runs = [np.empty(shape, dtype=np.uint8) for _ in range(1 + len(lane_counts))]
    colouring = kernels.Colouring(class_ptr, class_units)
    kernels.run_chromatic_chains(kernels.Chains(states.copy(), np.empty((states.shape[0], 0)), keys), colouring, sweep_offset,
                                 acceptance, betas, kernels.Record(slots, runs[0]), arrays[0], kernels.Weights(*arrays[1:]))
    for lanes, out in zip(lane_counts, runs[1:]):
        driver = kernels.chromatic_groups_driver(lanes, acceptance, padding[2])
        driver(kernels.Chains(states.copy(), np.empty((states.shape[0], 0)), keys), colouring, sweep_offset, betas,
               kernels.Record(slots, out), arrays[0], kernels.Weights(*arrays[1:]), kernels.PaddedRows(*padding))
    return runs


def _bounded_degree_graph(n_units, max_degree, seed):
    """Random couplings on a random graph whose degrees are at most ``max_degree`` (and vary)."""
    rng = np.random.default_rng(seed)
    degree = np.zeros(n_units, dtype=np.int64)
    rows, cols = [], []
    for _ in range(n_units * max_degree):
        i, j = rng.integers(0, n_units, size=2)
        if i != j and degree[i] < max_degree and degree[j] < max_degree and (i, j) not in zip(rows, cols):
            rows += [i, j]
            cols += [j, i]
            degree[i] += 1
            degree[j] += 1
    weights = sp.coo_matrix((np.repeat(rng.normal(size=len(rows) // 2), 2), (rows, cols)), shape=(n_units, n_units)).tocsr()
    weights.sort_indices()
    return weights, rng.normal(size=n_units)


def test_padded_rows_hold_the_csr_rows_then_zero_weights():
    weights, _ = _bounded_degree_graph(60, 4, seed=11)
    indptr, indices, data = weights.indptr.astype(np.int64), weights.indices.astype(np.int64), weights.data
    pad_indices, pad_data, width = kernels.padded_rows(indptr, indices, data)
    assert width == 4 and np.diff(indptr).min() < 4
    for i in range(60):
        row = slice(i * width, (i + 1) * width)
        degree = indptr[i + 1] - indptr[i]
        np.testing.assert_array_equal(pad_indices[row][:degree], indices[indptr[i]:indptr[i + 1]])
        np.testing.assert_array_equal(pad_data[row][:degree], data[indptr[i]:indptr[i + 1]])
        assert np.all(pad_indices[row][degree:] == i) and np.all(pad_data[row][degree:] == 0.0)
    # rows too long for every width, or mostly padding: no padded rows
    assert kernels.padded_rows(*_csr(_bounded_degree_graph(60, 6, seed=11)[0]))[2] == 0
    sparse_ring = sp.diags([np.ones(199)], [1], shape=(200, 200)).tocsr()  # degree 1, width 4 would be 75% padding
    assert kernels.padded_rows(*_csr(sparse_ring))[2] == 0


def _csr(weights):
    return weights.indptr.astype(np.int64), weights.indices.astype(np.int64), weights.data.astype(np.float64)


# Padded rows are independent of the acceptance rule (the rule is one decision per update, the
# same code for either row layout); on an empty kernel cache each rule's padded drivers cost about
# 10 s to compile, so the Metropolis twin runs with PGM_ENERGY_ALL_LANE_VARIANTS=1 only. Metropolis
# lanes are checked over CSR rows by test_lanes_give_the_states_of_one_chain_at_a_time.
@pytest.mark.parametrize("acceptance", [
    kernels.HEAT_BATH,
    pytest.param(kernels.METROPOLIS, marks=pytest.mark.skipif(
        not ALL_LANE_VARIANTS, reason="compiles the Metropolis padded drivers: set PGM_ENERGY_ALL_LANE_VARIANTS=1")),
], ids=["heat-bath", "metropolis"])
@pytest.mark.parametrize("max_degree", [3, 4])
def test_padded_lanes_give_the_states_of_csr_sweeps(acceptance, max_degree):
    weights, biases = _bounded_degree_graph(90, max_degree, seed=max_degree)
    rng = np.random.default_rng(12)
    n_chains = 7
    states = rng.integers(0, 2, size=(n_chains, 90), dtype=np.uint8)
    betas = np.tile(np.array([[0.3], [1.0], [np.inf], [2.5]]), (1, 3))
    streams = seed_streams(rng, n_chains)
    reference = _run(weights, biases, states, np.arange(90), kernels.SEQUENTIAL, acceptance, betas, streams, 1)
    for lanes in _lane_counts(acceptance, padded=True):
        result = _run(weights, biases, states, np.arange(90), kernels.SEQUENTIAL, acceptance, betas, streams, lanes, padded=True)
        np.testing.assert_array_equal(result[0], reference[0])
        np.testing.assert_array_equal(result[1], reference[1])
        np.testing.assert_array_equal(result[2], reference[2])
    # chromatic: padded lane sweeps against one chain at a time over CSR rows
    from pgm_energy import BoltzmannMachine
    from pgm_energy.samplers._layout import colour_classes as _colour_classes

    class_ptr, class_units = _colour_classes(BoltzmannMachine(weights, biases), np.arange(90))
    keys = seed_streams(rng, n_chains)
    one_at_a_time, *grouped = _chromatic_runs(weights, biases, class_ptr, class_units, states, keys, 3, acceptance, betas, padded=True)
    for out in grouped:
        np.testing.assert_array_equal(out, one_at_a_time)


@pytest.mark.parametrize("acceptance", [kernels.HEAT_BATH, kernels.METROPOLIS], ids=["heat-bath", "metropolis"])
@pytest.mark.parametrize("degree", [4, 40], ids=["sparse", "dense-rows"])
@pytest.mark.parametrize("clamped", [False, True])
def test_lanes_give_the_states_of_one_chain_at_a_time(acceptance, degree, clamped):
    weights, biases = _graph(120, degree, seed=degree)
    rng = np.random.default_rng(3)
    n_chains = 7  # groups of 4, 2 and 1 (4 lanes), or 2, 2, 2 and 1
    states = rng.integers(0, 2, size=(n_chains, 120), dtype=np.uint8)
    free = np.flatnonzero(rng.random(120) < 0.8) if clamped else np.arange(120)
    betas = np.tile(np.array([[0.3], [1.0], [np.inf], [2.5], [0.7]]), (1, 3))  # columns: chains differ
    betas[1, 1] = np.inf  # a group with one zero-temperature lane
    streams = seed_streams(rng, n_chains)
    reference = _run(weights, biases, states, free, kernels.SEQUENTIAL, acceptance, betas, streams, 1)
    for lanes in _lane_counts(acceptance, padded=False):
        result = _run(weights, biases, states, free, kernels.SEQUENTIAL, acceptance, betas, streams, lanes)
        np.testing.assert_array_equal(result[0], reference[0])
        np.testing.assert_array_equal(result[1], reference[1])  # the cached fields, bit for bit
        np.testing.assert_array_equal(result[2], reference[2])


def test_sequential_sweeps_match_a_plain_reference():
    """Python loops: z from scratch, u from rng.next_uniform, the textbook test ``u < sigmoid(beta z)``."""
    weights, biases = _graph(30, 5, seed=4)
    dense = weights.toarray()
    rng = np.random.default_rng(5)
    n_chains, n_sweeps, beta = 5, 6, 0.9
    states = rng.integers(0, 2, size=(n_chains, 30), dtype=np.uint8)
    streams = seed_streams(rng, n_chains)
    out, _, _ = _run(weights, biases, states, np.arange(30), kernels.SEQUENTIAL, kernels.HEAT_BATH,
                     np.full((n_sweeps, 1), beta), streams, 4)
    expected = np.empty_like(out)
    reference_streams = streams.copy()
    for c in range(n_chains):
        s = states[c].astype(np.float64)
        for sweep in range(n_sweeps):
            for i in range(30):
                u = next_uniform(reference_streams, c)
                z = biases[i] + dense[i] @ s
                s[i] = 1.0 if u < 1.0 / (1.0 + math.exp(-beta * z)) else 0.0
            expected[c, sweep] = s
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("acceptance", [kernels.HEAT_BATH, kernels.METROPOLIS], ids=["heat-bath", "metropolis"])
def test_chromatic_lanes_and_parallel_classes_draw_the_same_states(acceptance):
    from pgm_energy import BoltzmannMachine
    from pgm_energy.samplers._layout import colour_classes as _colour_classes

    weights, biases = _graph(150, 5, seed=6)
    class_ptr, class_units = _colour_classes(BoltzmannMachine(weights, biases), np.arange(150))
    assert class_ptr.shape[0] > 3  # not bipartite: several classes
    rng = np.random.default_rng(7)
    n_chains = 7
    states = rng.integers(0, 2, size=(n_chains, 150), dtype=np.uint8)
    keys = seed_streams(rng, n_chains)
    betas = np.tile(np.array([[0.3], [1.0], [np.inf], [2.5]]), (1, 3))
    betas[1, 1] = np.inf
    results = _chromatic_runs(weights, biases, class_ptr, class_units, states, keys, 5, acceptance, betas, padded=False)
    arrays = (biases, *_csr(weights), np.zeros((0, 0)), False)
    slots = np.arange(betas.shape[0], dtype=np.int64)
    out = np.empty_like(results[0])
    kernels.run_chromatic(kernels.Chains(states.copy(), np.empty((states.shape[0], 0)), keys),
                          kernels.Colouring(class_ptr, class_units), 5, acceptance, betas, kernels.Record(slots, out),
                          arrays[0], kernels.Weights(*arrays[1:]))
    for other in results[1:] + [out]:
        np.testing.assert_array_equal(other, results[0])


def test_chromatic_sweeps_match_a_plain_reference():
    """Python loops: classes in turn, z from scratch, one xorshift stream per class block started at
    ``block_stream(key, sweep * n_units + block start)``, the textbook test ``u < sigmoid(beta z)``."""
    from pgm_energy import BoltzmannMachine
    from pgm_energy.samplers._layout import colour_classes as _colour_classes

    side, block = 50, kernels._BLOCK
    n_units = side * side
    index = np.arange(n_units).reshape(side, side)  # periodic lattice, random couplings: 2 colours
    rows = np.concatenate([index.ravel(), index.ravel()])
    cols = np.concatenate([np.roll(index, -1, axis=1).ravel(), np.roll(index, -1, axis=0).ravel()])
    rng = np.random.default_rng(8)
    weights = sp.coo_matrix((rng.normal(size=rows.size), (rows, cols)), shape=(n_units, n_units))
    weights = (weights + weights.T).tocsr()
    weights.sort_indices()
    biases = rng.normal(size=n_units)
    dense = weights.toarray()
    class_ptr, class_units = _colour_classes(BoltzmannMachine(weights, biases), np.arange(n_units))
    assert np.diff(class_ptr).max() > block  # some classes span several blocks
    rng = np.random.default_rng(9)
    n_chains, n_sweeps, beta, offset = 5, 3, 0.8, 2
    states = rng.integers(0, 2, size=(n_chains, n_units), dtype=np.uint8)
    keys = seed_streams(rng, n_chains)
    arrays = (biases, *_csr(weights), np.zeros((0, 0)), False)
    slots = np.arange(n_sweeps, dtype=np.int64)
    out = np.empty((n_chains, n_sweeps, n_units), dtype=np.uint8)
    padding = kernels.padded_rows(*_csr(weights))
    kernels.chromatic_groups_driver(_lane_counts(kernels.HEAT_BATH, padded=True)[0], kernels.HEAT_BATH, padding[2])(
        kernels.Chains(states.copy(), np.empty((n_chains, 0)), keys), kernels.Colouring(class_ptr, class_units), offset,
        np.full((n_sweeps, 1), beta), kernels.Record(slots, out), arrays[0], kernels.Weights(*arrays[1:]),
        kernels.PaddedRows(*padding))
    expected = np.empty_like(out)
    for c in range(n_chains):
        s = states[c].astype(np.float64)
        for sweep in range(n_sweeps):
            for k in range(class_ptr.shape[0] - 1):
                for lo in range(class_ptr[k], class_ptr[k + 1], block):
                    x = np.uint64(block_stream(keys[c], np.uint64((offset + sweep) * n_units + lo)))
                    for t in range(lo, min(lo + block, class_ptr[k + 1])):
                        i = class_units[t]
                        x, bits = (np.uint64(v) for v in xorshift_bits(x))
                        z = biases[i] + dense[i] @ s
                        s[i] = 1.0 if bits_uniform(bits) < 1.0 / (1.0 + math.exp(-beta * z)) else 0.0
            expected[c, sweep] = s
    np.testing.assert_array_equal(out, expected)
