"""SampleSet: contents, estimates, pgmpy layout and MCMC diagnostics on series of known law.

Every random series has a fixed seed; each tolerance is stated next to its test
with the spread it was set against (measured over 40 seeds: the relative standard
deviation of the ESS estimate is ~2% for the iid series and ~3% for the AR(1)-like
chain below, so the tolerances are 5 standard deviations or more).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pgm_energy import ValidationError
from pgm_energy.samplers.sampleset import SampleSet


def make(states, energies=None, names=None):
    states = np.asarray(states, dtype=np.uint8)
    if energies is None:
        energies = np.zeros(states.shape[:2])
    names = names or [f"u{i}" for i in range(states.shape[2])]
    return SampleSet(states, energies, names, temperature=1.0)


def bernoulli_chains(seed, n_chains, n_draws, p):
    rng = np.random.default_rng(seed)
    return (rng.random((n_chains, n_draws, len(p))) < np.asarray(p)).astype(np.uint8)


def sticky_chains(seed, n_chains, n_draws, p, rho):
    """Binary AR(1)-like chains: keep the last state with probability rho, else draw Bernoulli(p) afresh.

    Stationary law Bernoulli(p); autocorrelation at lag k is rho**k, so the
    integrated autocorrelation time is (1 + rho) / (1 - rho).
    """
    rng = np.random.default_rng(seed)
    out = np.empty((n_chains, n_draws, 1), dtype=np.uint8)
    for chain in range(n_chains):
        keep = rng.random(n_draws) < rho
        fresh = rng.random(n_draws) < p
        state = rng.random() < p  # start in the stationary law
        for t in range(n_draws):
            if not keep[t]:
                state = fresh[t]
            out[chain, t, 0] = state
    return out


# --------------------------------------------------------------------------- contents
def test_contents_are_read_only_and_shaped():
    states = bernoulli_chains(0, 3, 7, [0.5, 0.5])
    energies = np.arange(21.0).reshape(3, 7)
    ss = SampleSet(states, energies, ["a", "b"], temperature=2.0, info={"sweeps": 7})
    assert (ss.n_chains, ss.n_draws, ss.n_units, len(ss)) == (3, 7, 2, 21)
    assert ss.states.dtype == np.uint8 and ss.names == ("a", "b") and ss.temperature == 2.0
    assert ss.info == {"sweeps": 7}
    with pytest.raises(ValueError):
        ss.states[0, 0, 0] = 1
    with pytest.raises(ValueError):
        ss.energies[0, 0] = 1.0
    np.testing.assert_array_equal(ss.flat_states(), states.reshape(21, 2))


@pytest.mark.parametrize(
    "states, energies, names",
    [
        (np.zeros((2, 3)), np.zeros((2,)), ["a", "b", "c"]),  # not 3-D
        (np.full((1, 2, 1), 2), np.zeros((1, 2)), ["a"]),  # not 0/1
        (np.zeros((1, 2, 1)), np.zeros((2, 1)), ["a"]),  # energies misshaped
        (np.zeros((1, 2, 2)), np.zeros((1, 2)), ["a", "a"]),  # duplicate names
    ],
)
def test_constructor_rejects_bad_input(states, energies, names):
    with pytest.raises(ValidationError):
        SampleSet(states, energies, names, temperature=1.0)


def test_marginals_are_column_means_over_all_chains():
    states = np.array([[[1, 0, 1], [1, 0, 0]], [[0, 0, 1], [1, 1, 1]]])
    np.testing.assert_allclose(make(states).marginals(), [0.75, 0.25, 0.75])


def test_to_pandas_is_pgmpys_layout():
    states = np.array([[[1, 0], [0, 0]], [[0, 1], [1, 1]]])
    df = make(states, names=["x", "y"]).to_pandas()
    assert list(df.columns) == ["x", "y"]
    assert all(dtype == np.int64 for dtype in df.dtypes)
    # chain after chain
    assert df.to_numpy().tolist() == [[1, 0], [0, 0], [0, 1], [1, 1]]
    pd.testing.assert_index_equal(df.index, pd.RangeIndex(4))


def test_lowest_returns_distinct_states_by_ascending_energy():
    states = np.array([[[1, 0], [0, 1], [1, 0], [1, 1]], [[0, 0], [0, 1], [1, 1], [1, 0]]])
    energies = np.array([[-3.0, -1.0, -3.0, 2.0], [0.5, -1.0, 2.0, -3.0]])
    ss = make(states, energies)
    best, best_energies = ss.lowest()
    assert best.tolist() == [[1, 0]] and best_energies.tolist() == [-3.0]
    best, best_energies = ss.lowest(10)  # only 4 distinct states exist
    assert best.tolist() == [[1, 0], [0, 1], [0, 0], [1, 1]]
    assert best_energies.tolist() == [-3.0, -1.0, 0.5, 2.0]
    assert best.dtype == np.uint8


def test_lowest_breaks_energy_ties_toward_the_lowest_state():
    states = np.array([[[1, 1], [0, 1], [1, 0]]])
    best, energies = make(states, np.array([[-2.0, -2.0, -2.0]])).lowest(2)
    assert best.tolist() == [[0, 1], [1, 0]] and energies.tolist() == [-2.0, -2.0]
    with pytest.raises(ValidationError):
        make(states).lowest(0)


# --------------------------------------------------------------------------- diagnostics
def test_ess_of_iid_bernoulli_draws_is_the_number_of_draws():
    # 4 chains x 5000 iid draws: ESS ~ 20000 (relative sd of the estimate ~2%); tolerance 12%.
    ss = make(bernoulli_chains(1, 4, 5000, [0.3, 0.5, 0.9]))
    ess = ss.effective_sample_size()
    np.testing.assert_allclose(ess, 20000, rtol=0.12)
    # and the standard errors follow: sqrt(p(1-p)/n) within sqrt(1.12) - 1 < 6%
    p = ss.marginals()
    np.testing.assert_allclose(ss.marginal_standard_errors(), np.sqrt(p * (1 - p) / 20000), rtol=0.06)


def test_ess_of_a_sticky_chain_matches_its_integrated_time():
    # rho = 0.8: tau = (1 + rho) / (1 - rho) = 9, so ESS ~ 80000 / 9 ~ 8889 (relative sd ~3%); tolerance 15%.
    rho = 0.8
    ss = make(sticky_chains(2, 4, 20000, 0.3, rho))
    tau = (1 + rho) / (1 - rho)
    np.testing.assert_allclose(ss.effective_sample_size(), 80000 / tau, rtol=0.15)


def test_autocorrelation_of_a_sticky_chain():
    rho = 0.8
    ss = make(sticky_chains(3, 4, 20000, 0.3, rho))
    acf = ss.autocorrelation(max_lag=5)
    assert acf.shape == (1, 6)
    assert acf[0, 0] == pytest.approx(1.0, abs=1e-12)
    # standard error of a lag-k estimate here ~ sqrt(tau / 80000) ~ 0.011; tolerance 0.04
    np.testing.assert_allclose(acf[0], rho ** np.arange(6), atol=0.04)


def test_autocorrelation_lag_zero_is_one_and_iid_lags_are_small():
    ss = make(bernoulli_chains(4, 2, 4000, [0.2, 0.6]))
    acf = ss.autocorrelation()
    assert acf.shape == (2, 4000)
    np.testing.assert_allclose(acf[:, 0], 1.0, atol=1e-12)
    # iid: |rho_k| ~ 1/sqrt(8000) ~ 0.011; tolerance 0.05 on lags 1..10
    assert np.all(np.abs(acf[:, 1:11]) < 0.05)
    with pytest.raises(ValidationError, match="max_lag"):
        ss.autocorrelation(max_lag=4000)


def test_split_r_hat_is_one_for_iid_chains():
    # 8 half-chains of 2500 iid draws: R-hat - 1 has sd ~1e-4; tolerance 0.01.
    r_hat = make(bernoulli_chains(5, 4, 5000, [0.3, 0.5])).split_r_hat()
    np.testing.assert_allclose(r_hat, 1.0, atol=0.01)


def test_split_r_hat_flags_chains_stuck_at_different_values():
    # Chain 0 sits near 0, chain 1 near 1: between-chain variance dwarfs the within.
    rng = np.random.default_rng(6)
    states = np.stack([rng.random((1000, 1)) < 0.05, rng.random((1000, 1)) < 0.95]).astype(np.uint8)
    assert make(states).split_r_hat()[0] > 1.1


def test_split_r_hat_flags_a_trend_within_one_chain():
    # Every chain drifts from ~0 to ~1 across its length: split halves disagree.
    rng = np.random.default_rng(7)
    ramp = np.linspace(0.05, 0.95, 2000)
    states = (rng.random((4, 2000, 1)) < ramp[None, :, None]).astype(np.uint8)
    assert make(states).split_r_hat()[0] > 1.1


def test_split_r_hat_is_infinite_for_chains_constant_at_different_values():
    states = np.zeros((2, 10, 1), dtype=np.uint8)
    states[1] = 1
    assert make(states).split_r_hat()[0] == np.inf


def test_constant_unit_has_no_ess_or_r_hat_and_zero_error():
    states = bernoulli_chains(8, 2, 50, [0.5, 0.5])
    states[:, :, 1] = 1
    ss = make(states)
    assert np.isnan(ss.effective_sample_size()[1]) and np.isnan(ss.split_r_hat()[1])
    assert ss.marginal_standard_errors().iloc[1] == 0.0
    assert np.isfinite(ss.effective_sample_size()[0])


def test_diagnostics_need_four_draws():
    ss = make(bernoulli_chains(9, 2, 3, [0.5]))
    with pytest.raises(ValidationError, match="4 draws"):
        ss.effective_sample_size()
    with pytest.raises(ValidationError, match="4 draws"):
        ss.split_r_hat()
