"""Joint query tables in one enumeration pass, against a brute force written here in plain NumPy.

``exact.query(..., joint=True)`` fills a table of ``2**k`` entries by the cheapest of
its plans (one Gray-code pass over every free unit; for an RBM, the product kernel over
one layer, once per assignment of the other layer's targets). Each plan is
checked against the brute force, including k = 20 on a 20-unit machine, whose joint table is
the whole distribution. Results must not depend on the thread count nor on how the run is
cut into kernel calls.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import numba
import numpy as np
import pytest

from pgm_energy import exact
from pgm_energy.exceptions import ModelSizeError

sys.path.insert(0, os.path.dirname(__file__))
from test_exact import brute_of, joint_table, random_bm, random_rbm  # noqa: E402

RTOL = 1e-11


def brute_bm_table(model, variables, evidence=None):
    """Normalized joint table of ``variables`` (first one most significant) of a general machine.

    Every state of the free units is written out in chunks (energy as ``-1/2 s'Ws - b's``
    in NumPy) and the log-weights summed over the units that are not asked for.
    """
    evidence = evidence or {}
    names = list(model.names)
    weights = np.asarray(model.weights.toarray() if hasattr(model.weights, "toarray") else model.weights)
    weights, biases = weights / model.temperature, np.asarray(model.biases) / model.temperature
    summed = [name for name in names if name not in evidence and name not in variables]
    order = list(variables) + summed  # the code's bits, most significant first
    columns = [names.index(name) for name in order]
    n = len(order)
    log_weight = np.empty(1 << n)
    chunk = 1 << 14
    for start in range(0, 1 << n, chunk):
        codes = np.arange(start, min(start + chunk, 1 << n))
        states = np.zeros((codes.shape[0], len(names)))
        for name, value in evidence.items():
            states[:, names.index(name)] = value
        states[:, columns] = (codes[:, None] >> np.arange(n - 1, -1, -1)) & 1
        log_weight[start : start + codes.shape[0]] = 0.5 * np.sum((states @ weights) * states, axis=1) + states @ biases
    cells = log_weight.reshape(1 << len(variables), 1 << len(summed))
    top = cells.max()
    table = np.exp(cells - top).sum(axis=1)
    return table / table.sum()


def assert_table(factor, expected):
    np.testing.assert_allclose(factor.values.ravel(order="C"), expected, rtol=RTOL, atol=1e-300)


# --------------------------------------------------------------------------- general machines
def test_every_unit_of_a_20_unit_machine_in_shuffled_order():
    model = random_bm(20, seed=71, scale=0.6, temperature=0.9)
    variables = list(np.random.default_rng(1).permutation(model.names))
    assert_table(exact.query(model, variables), brute_bm_table(model, variables))


@pytest.mark.parametrize("k", [1, 3, 8, 13])
def test_some_units_of_a_machine_with_evidence(k):
    model = random_bm(17, seed=72, scale=1.5, n_hidden=4, offset=3.0)
    evidence = {"v0": 1, model.names[5]: 0}
    rng = np.random.default_rng(k)
    variables = [str(name) for name in rng.permutation([n for n in model.names if n not in evidence])[:k]]
    assert_table(exact.query(model, variables, evidence=evidence), brute_bm_table(model, variables, evidence))


def test_weights_of_plus_minus_50():
    model = random_bm(12, seed=73, scale=50.0)
    variables = list(model.names[::2])
    factor = exact.query(model, variables)
    expected = brute_bm_table(model, variables)
    assert np.all(np.isfinite(factor.values))
    np.testing.assert_allclose(factor.values.ravel(), expected, rtol=1e-9, atol=1e-15)


# --------------------------------------------------------------------------- RBMs: each plan
RBM_CASES = {
    # targets in the visible layer, then the hidden one, then both; with evidence on both layers
    "visible": (lambda: random_rbm(11, 7, seed=74, scale=1.2), ["v3", "v0", "v9", "v5"], {"h2": 1}),
    "hidden": (lambda: random_rbm(9, 10, seed=75, temperature=0.7), ["h1", "h8", "h0"], {"v4": 0}),
    "mixed": (lambda: random_rbm(10, 9, seed=76), ["h3", "v2", "v7", "h0", "v1"], {"v0": 1, "h5": 0}),
    # more summed visible units than the product kernel's inner bits: extra outer bits
    "wide": (lambda: random_rbm(15, 3, seed=77), ["v14"], None),
}


def _plans(model, variables, evidence):
    clamped = {model.index(name): value for name, value in (evidence or {}).items()}
    targets = [model.index(name) for name in variables]
    problem = exact._flatten(model, clamped)
    return {
        "one_pass": exact._one_pass_plan(problem, targets),
        "visible_layer": exact._layer_plan(problem, targets, 0),
        "hidden_layer": exact._layer_plan(problem, targets, 1),
    }


@pytest.mark.parametrize("case", list(RBM_CASES))
def test_every_plan_of_an_rbm_matches_the_brute_force(case):
    make, variables, evidence = RBM_CASES[case]
    model = make()
    brute = brute_of(model)
    expected_log = np.array([
        brute.log_z_given({**(evidence or {}), **dict(zip(variables, assignment))})
        for assignment in itertools.product((0, 1), repeat=len(variables))
    ])
    for name, (_, run) in _plans(model, variables, evidence).items():
        np.testing.assert_allclose(run(), expected_log, rtol=1e-12, atol=1e-12, err_msg=name)
    assert_table(exact.query(model, variables, evidence=evidence), joint_table(brute, variables, evidence))


def test_a_wide_rbm_with_a_few_visible_targets_enumerates_the_hidden_layer_once_per_entry():
    # the product kernel over the hidden layer per entry beats enumerating 5 targets + 20 hidden
    # units with a softplus per visible unit, and enumerating the 400 visible units
    model = random_rbm(400, 20, seed=78, scale=0.1)
    costs = {name: cost for name, (cost, _) in _plans(model, ["v0", "v1", "v2", "v3", "v4"], None).items()}
    assert min(costs, key=costs.get) == "hidden_layer"


# --------------------------------------------------------------------------- determinism and guard
def _tables(bm_units=16, rbm_shape=(12, 9)):
    """One table of each kind; the default sizes run the parallel kernels."""
    bm = random_bm(bm_units, seed=79)
    rbm = random_rbm(*rbm_shape, seed=80)
    return (
        exact.query(bm, list(bm.names[3:13])).values,  # one pass, parallel
        _plans(rbm, ["v1", "h2", "h7", "v11"], None)["one_pass"][1](),  # with an analytic layer, parallel
        exact.query(rbm, ["v1", "h2", "h7", "v11"]).values,  # a layer, once per looped target
        exact.query(rbm, ["v1", "v4", "v11"]).values,  # a layer, once
    )


def test_same_bits_whatever_the_number_of_numba_threads():
    if numba.config.NUMBA_NUM_THREADS < 2:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
             f"{__file__}::test_same_bits_whatever_the_number_of_numba_threads"],
            env=dict(os.environ, NUMBA_NUM_THREADS="2"), capture_output=True, text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = _tables()
        numba.set_num_threads(2)
        double = _tables()
    finally:
        numba.set_num_threads(before)
    for a, b in zip(single, double):
        assert a.tobytes() == b.tobytes()


def test_same_bits_when_every_kernel_call_is_one_block(monkeypatch):
    from pgm_energy import _launch

    small = dict(bm_units=13, rbm_shape=(12, 8))  # 256 blocks, mostly of serial kernels: quick calls
    whole = _tables(**small)
    monkeypatch.setattr(_launch, "TARGET_SECONDS", 0.0)
    for a, b in zip(whole, _tables(**small)):
        assert a.tobytes() == b.tobytes()


def test_the_guard_counts_the_units_summed_per_entry_and_names_the_table():
    model = random_bm(8, seed=81)
    with pytest.raises(ModelSizeError, match=r"2\*\*5 = .* states for each of the 2\*\*3 entries of the joint table"):
        exact.query(model, ["v0", "v1", "v2"], max_units=4)
    assert exact.query(model, ["v0", "v1", "v2"], max_units=5).values.shape == (2, 2, 2)


_INTERRUPTED_CHILD = r"""
import numpy as np, time
from pgm_energy import BoltzmannMachine, exact
rng = np.random.default_rng(0)
upper = np.triu(rng.normal(0.0, 0.3, (32, 32)), 1)
big = BoltzmannMachine(upper + upper.T, np.zeros(32))
# the kernels the long query runs, compiled first (16 units: past the serial limit, as the long query)
exact.query(BoltzmannMachine(upper[:16, :16] + upper[:16, :16].T, np.zeros(16)), ["v0", "v1", "v2", "v3"])
print("started", flush=True)
try:
    exact.query(big, ["v0", "v1", "v2", "v3"])  # 2**32 states: minutes
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process needs POSIX")
def test_ctrl_c_stops_a_long_joint_query_within_a_second():
    import signal
    import time

    child = subprocess.Popen([sys.executable, "-c", _INTERRUPTED_CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "started"
        time.sleep(0.5)
        child.send_signal(signal.SIGINT)
        sent = time.perf_counter()
        assert child.stdout.readline().strip() == "interrupted"
        assert time.perf_counter() - sent < 1.0
    finally:
        child.kill()
        child.wait()
