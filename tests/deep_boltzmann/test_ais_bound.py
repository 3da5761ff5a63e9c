"""AIS for a deep Boltzmann machine's log Z, and its mean-field lower bound on log p(v).

Independent oracles: ``pgm_energy.exact`` (enumeration of the bipartite embedding) for log Z and
log p(v); the gap of the bound, ``KL(q || p(h | v))``, by brute-force enumeration of every hidden
state with the energies of ``to_boltzmann_machine()`` (a second closed form of the bound:
``log p(v) - KL``); zero weights, where the factorial q is the exact posterior. AIS checks use
fixed seeds; their tolerances are stated where they are used.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp

from pgm_energy import DeepBeliefNetwork, DeepBoltzmannMachine, RestrictedBoltzmannMachine, ais, exact
from pgm_energy._mean_field import initial_means, mean_field
from pgm_energy.exceptions import (ConvergenceWarning, ModelSizeError, ParameterTypeError, StateError,
                                   ValidationError)

SIZES = [(8, 5, 4), (6, 4, 5, 3)]
# AIS runs and intermediate distributions of the log Z checks: enough for a standard deviation of
# about 0.01 nats on these machines, in well under a second.
N_RUNS, N_BETAS = 100, 1000
# |AIS - exact| must be within 4 reported standard deviations AND within this many nats: the
# delta-method standard deviation is itself estimated, so the fixed bound guards against a
# degenerate (near-zero) spread hiding a biased estimate.
LOG_Z_TOLERANCE = 0.1


def machine(sizes, seed=0, scale=1.0, bias_scale=0.5, temperature=1.0):
    g = np.random.default_rng(seed)
    return DeepBoltzmannMachine([g.normal(0, scale, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])],
                                [g.normal(0, bias_scale, n) for n in sizes], temperature=temperature)


def random_rows(n_rows, n_visible, seed):
    g = np.random.default_rng(seed)
    return (g.random((n_rows, n_visible)) < g.random(n_visible)).astype(np.uint8)


def all_states(n):
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.float64)


def brute_force_gap(model, rows, hidden_means):
    """``(log p(v), KL(q || p(h | v)))`` per row, by enumerating every hidden state.

    ``hidden_means`` (n_rows, n_hidden units, layer by layer) are q's; the energies are the general
    machine's, in the deep machine's unit order (visible layer first).
    """
    general = model.to_boltzmann_machine()
    hidden = all_states(model.n_units - model.n_visible)
    log_z = exact.log_partition_function(model)
    log_p, kl = [], []
    for v, mu in zip(rows, hidden_means):
        assert np.all((mu > 0) & (mu < 1))  # log q finite for every hidden state
        states = np.hstack([np.broadcast_to(v, (hidden.shape[0], v.shape[0])), hidden])
        log_joint = -general.energy(states) / model.temperature  # log p*(v, h)
        log_marginal = logsumexp(log_joint)  # log p*(v)
        log_posterior = log_joint - log_marginal  # log p(h | v)
        log_q = hidden @ np.log(mu) + (1 - hidden) @ np.log1p(-mu)
        log_p.append(log_marginal - log_z)
        kl.append(float(np.sum(np.exp(log_q) * (log_q - log_posterior))))
    return np.array(log_p), np.array(kl)


def hidden_means(model, rows):
    """The mean-field q of the bound (its defaults), hidden layers side by side."""
    fit = mean_field(model, initial_means(model, np.asarray(rows, dtype=np.float64)))
    assert fit.converged
    return np.hstack(fit.means[1:])


# ---------------------------------------------------------------------------- log Z by AIS
@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("base", ["model", "uniform", "data"])
def test_ais_log_z_agrees_with_exact(sizes, base):
    model = machine(sizes, seed=1)
    data = random_rows(60, sizes[0], seed=2) if base == "data" else None
    result = ais.log_partition_function(model, n_runs=N_RUNS, betas=N_BETAS, base=base, data=data, rng=3)
    truth = exact.log_partition_function(model)
    assert result.n_steps == N_BETAS and result.log_weights.shape == (N_RUNS,)
    assert 0 < result.log_z_std < 0.05
    error = abs(result.log_z - truth)
    assert error <= 4 * result.log_z_std and error <= LOG_Z_TOLERANCE, (result.log_z, truth, result.log_z_std)
    assert result.lower <= result.log_z <= result.upper


def test_ais_log_z_at_a_temperature():
    model = machine((6, 4, 5, 3), seed=4, temperature=1.7)
    result = ais.log_partition_function(model, n_runs=N_RUNS, betas=N_BETAS, rng=5)
    truth = exact.log_partition_function(model)
    assert abs(result.log_z - truth) <= min(4 * result.log_z_std, LOG_Z_TOLERANCE)


@pytest.mark.parametrize("base", ["model", "uniform"])
def test_ais_is_the_bipartite_rbm_ais_bit_for_bit(base):
    """The even-layer bases "model" and "uniform" are the RBM's: same seed, same bits."""
    model = machine((8, 5, 4), seed=6)
    deep = ais.log_partition_function(model, n_runs=10, betas=50, base=base, rng=7)
    flat = ais.log_partition_function(model.to_bipartite_rbm(), n_runs=10, betas=50, base=base, rng=7)
    assert deep.log_z == flat.log_z and deep.log_z_base == flat.log_z_base
    np.testing.assert_array_equal(deep.log_weights, flat.log_weights)


def test_ais_same_rng_same_bits_and_the_data_base():
    model = machine((6, 4, 5, 3), seed=8)
    data = random_rows(30, 6, seed=9)
    runs = [ais.log_partition_function(model, n_runs=10, betas=50, data=data, rng=rng)
            for rng in (10, 10, np.random.default_rng(10), 11)]
    for other in runs[1:3]:
        np.testing.assert_array_equal(other.log_weights, runs[0].log_weights)
    assert not np.array_equal(runs[3].log_weights, runs[0].log_weights)
    # base=None with data is "data": the visible layer's base biases from the data marginals, the
    # other even layer's (h2) the machine's own; log Z_A = n_odd log 2 + sum softplus(a)
    on = data.sum(axis=0)
    visible = np.log(on + 1.0) - np.log(data.shape[0] - on + 1.0)
    a = np.concatenate([visible, model.biases[2]])
    n_odd = model.layer_sizes[1] + model.layer_sizes[3]
    expected = n_odd * math.log(2) + float(np.sum(np.logaddexp(0, a)))
    assert runs[0].log_z_base == pytest.approx(expected, rel=1e-14)
    # a DataFrame's columns are picked by the visible names, in any order
    frame = pd.DataFrame(data[:, ::-1], columns=list(model.visible_names)[::-1])
    from_frame = ais.log_partition_function(model, n_runs=10, betas=50, data=frame, rng=10)
    np.testing.assert_array_equal(from_frame.log_weights, runs[0].log_weights)


# ---------------------------------------------------------------------------- the mean-field bound
@pytest.mark.parametrize("sizes, temperature", [((8, 5, 4), 1.0), ((6, 4, 5, 3), 1.0), ((6, 4, 5, 3), 1.7)])
def test_bound_is_log_p_minus_the_kl_gap(sizes, temperature):
    model = machine(sizes, seed=12, temperature=temperature)
    rows = random_rows(12, sizes[0], seed=13)
    bound = ais.log_likelihood_bound(model, rows)
    log_p, kl = brute_force_gap(model, rows, hidden_means(model, rows))
    np.testing.assert_allclose(bound.per_row, log_p - kl, rtol=0, atol=1e-10)
    assert np.all(kl > 0) and np.all(bound.per_row < log_p)
    assert bound.mean == pytest.approx(float(np.mean(bound.per_row)), abs=1e-13)
    assert bound.mean <= exact.log_likelihood(model, rows)
    assert float(np.mean(log_p)) == pytest.approx(exact.log_likelihood(model, rows), abs=1e-10)
    assert bound.standard_error == 0.0 and bound.log_z_std == 0.0 and bound.log_z_method == "exact"
    assert bound.log_z == exact.log_partition_function(model)


def test_with_zero_weights_the_bound_is_exact():
    """The hidden units are then independent of everything: q = p(h | v), the gap is 0."""
    sizes = (6, 4, 5, 3)
    g = np.random.default_rng(14)
    model = DeepBoltzmannMachine([np.zeros((a, b)) for a, b in zip(sizes[:-1], sizes[1:])],
                                 [g.normal(0, 1, n) for n in sizes], temperature=1.3)
    rows = random_rows(10, 6, seed=15)
    bound = ais.log_likelihood_bound(model, rows)
    expected = [exact.log_likelihood(model, row[None]) for row in rows]
    np.testing.assert_allclose(bound.per_row, expected, rtol=0, atol=1e-12)


def test_log_z_given_exact_or_by_ais():
    model = machine((8, 5, 4), seed=16)
    rows = random_rows(20, 8, seed=17)
    exact_bound = ais.log_likelihood_bound(model, rows)
    truth = exact.log_partition_function(model)
    assert exact_bound.log_z_method == "exact" and exact_bound.log_z == truth
    given = ais.log_likelihood_bound(model, rows, log_z=truth)
    assert given.log_z_method == "given" and given.log_z == truth and given.log_z_std == 0.0
    np.testing.assert_array_equal(given.per_row, exact_bound.per_row)
    shifted = ais.log_likelihood_bound(model, rows, log_z=truth + 1.0)
    np.testing.assert_allclose(shifted.per_row, exact_bound.per_row - 1.0, rtol=0, atol=1e-12)
    # the smaller side (h1: 5 units) above max_units: AIS from the "model" base, with the same seed
    # semantics as ais.log_partition_function
    by_ais = ais.log_likelihood_bound(model, rows, n_runs=N_RUNS, betas=N_BETAS, max_units=4, rng=18)
    assert by_ais.log_z_method == "ais" and by_ais.log_z_std > 0
    reference = ais.log_partition_function(model, n_runs=N_RUNS, betas=N_BETAS, base="model", rng=18)
    assert by_ais.log_z == reference.log_z and by_ais.log_z_std == reference.log_z_std
    assert abs(by_ais.log_z - truth) <= min(4 * by_ais.log_z_std, LOG_Z_TOLERANCE)
    np.testing.assert_allclose(by_ais.per_row, exact_bound.per_row + truth - by_ais.log_z, rtol=0, atol=1e-12)


def test_a_machine_too_large_to_enumerate_gets_an_ais_log_z():
    model = DeepBoltzmannMachine.random([20, 40, 40], scale=0.05, rng=19)
    rows = random_rows(15, 20, seed=20)
    bound = ais.log_likelihood_bound(model, rows, n_runs=20, betas=200, max_units=10, rng=21)
    assert bound.log_z_method == "ais" and bound.standard_error == 0.0
    assert math.isfinite(bound.log_z) and 0 < bound.log_z_std < 0.1
    # weights this small leave log Z near that of the fair coins, 100 log 2
    assert abs(bound.log_z - 100 * math.log(2)) < 5
    assert bound.per_row.shape == (15,) and np.all(np.isfinite(bound.per_row))
    with pytest.raises(ModelSizeError, match="max_units"):  # what the bound avoids by deciding on the size first
        exact.log_partition_function(model, max_units=10)


def test_an_unconverged_mean_field_warns_and_still_bounds():
    model = machine((8, 5, 4), seed=22, scale=2.0)
    rows = random_rows(10, 8, seed=23)
    with pytest.warns(ConvergenceWarning, match="max_iterations=1"):
        loose = ais.log_likelihood_bound(model, rows, max_iterations=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tight = ais.log_likelihood_bound(model, rows)
    assert np.all(loose.per_row <= tight.per_row + 1e-12)
    assert tight.mean <= exact.log_likelihood(model, rows)
    with pytest.warns(ConvergenceWarning):
        ais.log_likelihood_bound(model, rows, max_iterations=0)


def test_the_bound_reads_a_dataframe_by_visible_names():
    model = machine((6, 4, 5, 3), seed=24)
    rows = random_rows(8, 6, seed=25)
    frame = pd.DataFrame(rows[:, ::-1], columns=list(model.visible_names)[::-1]).assign(extra=1)
    np.testing.assert_array_equal(ais.log_likelihood_bound(model, frame).per_row,
                                  ais.log_likelihood_bound(model, rows).per_row)


# ---------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def small():
    return machine((6, 4, 5, 3), seed=26)


def test_bad_data_is_refused(small):
    rows = random_rows(4, 6, seed=27)
    with pytest.raises(StateError, match="data"):
        ais.log_likelihood_bound(small, rows[:, :5])
    with pytest.raises(StateError, match="data"):
        ais.log_likelihood_bound(small, rows + 0.5)
    with pytest.raises(ValidationError, match="at least one sample"):
        ais.log_likelihood_bound(small, np.zeros((0, 6)))
    with pytest.raises(ValidationError, match="missing columns"):
        ais.log_likelihood_bound(small, pd.DataFrame(rows, columns=list("abcdef")))
    with pytest.raises(StateError, match="data"):
        ais.log_partition_function(small, data=rows[:, :5])
    with pytest.raises(StateError, match="data"):
        ais.log_partition_function(small, data=rows * 2)


@pytest.mark.parametrize("log_z", [1e308, "below", "above", float("nan"), float("inf")])
def test_an_impossible_log_z_is_refused(small, log_z):
    """``|E| <= energy_bound`` over ``n`` units puts ``log Z`` within ``n log 2 +- energy_bound / T``."""
    rows = random_rows(4, 6, seed=28)
    centre, radius = small.n_units * math.log(2), small.energy_bound / small.temperature
    log_z = {"below": centre - radius - 1e-3, "above": centre + radius + 1e-3}.get(log_z, log_z)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        words = re.escape(f"log_z={log_z!r} is impossible") if math.isfinite(log_z) else "log_z"
        with pytest.raises(ValidationError, match=words):
            ais.log_likelihood_bound(small, rows, log_z=log_z)
    # the extremes themselves are possible values
    assert ais.log_likelihood_bound(small, rows, log_z=centre - radius).log_z_method == "given"
    with pytest.raises((ValidationError, ParameterTypeError), match="log_z"):
        ais.log_likelihood_bound(small, rows, log_z="x")


def test_options_of_the_other_kind_are_refused(small):
    rows = random_rows(4, 6, seed=29)
    with pytest.raises(ValidationError, match="n_samples does not apply to a DeepBoltzmannMachine"):
        ais.log_likelihood_bound(small, rows, n_samples=10)
    g = np.random.default_rng(0)
    dbn = DeepBeliefNetwork([g.normal(0, 1, (6, 3)), g.normal(0, 1, (3, 2))], [np.zeros(6), np.zeros(3), np.zeros(2)])
    with pytest.raises(ValidationError, match="max_iterations and tolerance do not apply to a DeepBeliefNetwork"):
        ais.log_likelihood_bound(dbn, rows, max_iterations=100, tolerance=1e-7)
    with pytest.raises(ValidationError, match="tolerance does not apply"):
        ais.log_likelihood_bound(dbn, rows, tolerance=1e-3)
    # the deep belief network's own options still work, its default n_samples too
    assert ais.log_likelihood_bound(dbn, rows, n_samples=2, rng=0).log_z_method == "exact"
    assert ais.log_likelihood_bound(dbn, rows, rng=0).per_row.shape == (4,)


@pytest.mark.parametrize("options, error, words", [
    (dict(max_iterations=-1), ValidationError, "max_iterations"),
    (dict(max_iterations=1.5), ParameterTypeError, "max_iterations"),
    (dict(tolerance=-1e-3), ValidationError, "tolerance"),
    (dict(tolerance=float("nan")), ValidationError, "tolerance"),
    (dict(tolerance=True), ParameterTypeError, "tolerance"),
    (dict(max_units=-1), ValidationError, "max_units"),
    (dict(n_runs=0), ValidationError, "n_runs"),
    (dict(betas=[0.0, 0.5]), ValidationError, "betas"),
])
def test_bad_bound_options_are_named(small, options, error, words):
    with pytest.raises(error, match=words):
        ais.log_likelihood_bound(small, random_rows(3, 6, seed=30), **options)


@pytest.mark.parametrize("options, error, words", [
    (dict(base="nope"), ValidationError, "base"),
    (dict(base="data"), ValidationError, "needs data"),
    (dict(base="model", data=np.zeros((2, 6))), ValidationError, "only used with base='data'"),
    (dict(n_runs="3"), ParameterTypeError, "n_runs"),
    (dict(betas=0), ValidationError, "betas"),
])
def test_bad_ais_options_are_named(small, options, error, words):
    with pytest.raises(error, match=words):
        ais.log_partition_function(small, **options)


def test_other_models_are_refused_as_before():
    rbm = RestrictedBoltzmannMachine.random(6, 2, rng=0)
    with pytest.raises(ParameterTypeError, match="dbn must be a DeepBeliefNetwork or a DeepBoltzmannMachine"):
        ais.log_likelihood_bound(rbm, np.zeros((2, 6)))
    with pytest.raises(ParameterTypeError, match="rbm must be"):
        ais.log_partition_function("not a model")


def test_estimate_log_likelihood_refuses_a_deep_boltzmann_machine(small):
    words = r"no closed-form free energy.*ais\.log_likelihood_bound.*exact\.log_likelihood"
    with pytest.raises(ParameterTypeError, match=words):
        ais.estimate_log_likelihood(small, random_rows(3, 6, seed=31))
