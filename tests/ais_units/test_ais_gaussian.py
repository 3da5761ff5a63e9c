"""AIS for Gaussian-Bernoulli RBMs (pgm_energy._ais_gaussian) against exact enumeration and closed forms.

Oracles: ``pgm_energy.exact`` (the hidden layer enumerated, the visible one integrated), the
intermediate models' own ``free_energy`` (NumPy: every AIS distribution is a Gaussian-Bernoulli RBM
at T = 1 with weights ``beta W``, visible bias ``(1 - beta) m + beta b``, hidden bias ``beta c / T``
and standard deviations ``sigma sqrt(T)``), and closed forms for a target equal to the base.
Statistical checks use fixed seeds; tolerances are declared multiples of the reported standard
error plus a small absolute term.
"""

import math

import numba
import numpy as np
import pytest
from scipy import stats

from pgm_energy import _ais_gaussian as gais
from pgm_energy import _launch, exact
from pgm_energy.ais import AISResult, LikelihoodEstimate
from pgm_energy.exceptions import ParameterTypeError, StateError, ValidationError
from pgm_energy.models.categorical_rbm import CategoricalRBM
from pgm_energy.models.gaussian_rbm import GaussianBernoulliRBM

#: |AIS - exact| < SIGMAS * log_z_std + ABSOLUTE (the declared tolerance of the accuracy tests)
SIGMAS = 4.0
ABSOLUTE = 0.02


def random_model(n_visible, n_hidden, scale, seed, temperature=1.0):
    """Weights and hidden biases of order ``scale``, visible biases of order 1, sigma in [0.5, 2]."""
    g = np.random.default_rng(seed)
    return GaussianBernoulliRBM(
        g.normal(0.0, scale, (n_visible, n_hidden)), g.normal(0.0, 1.0, n_visible), g.normal(0.0, scale, n_hidden),
        np.exp(g.uniform(-0.7, 0.7, n_visible)), temperature=temperature,
    )


def random_data(model, n_rows, seed):
    """Rows around shifted visible biases, wider than the model's sigma: a base unlike the target."""
    g = np.random.default_rng(seed)
    centre = model.visible_bias + g.normal(0.0, 0.5, model.n_visible)
    return g.normal(centre, 1.3 * model.sigma, (n_rows, model.n_visible))


def path_model(model, base_mean, beta):
    """The AIS distribution at ``beta`` as a Gaussian-Bernoulli RBM at T = 1."""
    t = model.temperature
    return GaussianBernoulliRBM(
        beta * model.weights, (1.0 - beta) * base_mean + beta * model.visible_bias, beta * model.hidden_bias / t,
        model.sigma * math.sqrt(t),
    )


CASES = {
    "4x6 s0.5": dict(n_visible=4, n_hidden=6, scale=0.5, seed=1),
    "8x10 s0.4": dict(n_visible=8, n_hidden=10, scale=0.4, seed=2),
    "3x8 s1.0": dict(n_visible=3, n_hidden=8, scale=1.0, seed=3),
    "5x5 s0.8 T1.6": dict(n_visible=5, n_hidden=5, scale=0.8, seed=4, temperature=1.6),
    "6x9 s0.3 T0.5": dict(n_visible=6, n_hidden=9, scale=0.3, seed=5, temperature=0.5),
}


# ---------------------------------------------------------------------------- accuracy against exact
@pytest.mark.parametrize("base", ["data", "model"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_log_z_matches_exact_within_the_reported_error(case, base):
    model = random_model(**CASES[case])
    truth = exact.log_partition_function(model)
    data = random_data(model, 200, CASES[case]["seed"] + 100) if base == "data" else None
    result = gais.log_partition_function(model, n_runs=100, betas=1000, base=base, data=data, rng=7)
    assert isinstance(result, AISResult)
    assert result.n_steps == 1000 and result.log_weights.shape == (100,)
    assert abs(result.log_z - truth) < SIGMAS * result.log_z_std + ABSOLUTE
    assert result.lower < result.log_z < result.upper


def test_base_closed_form_and_a_target_equal_to_the_base_are_exact():
    """Zero weights and hidden biases, base = the model's means: every weight is exactly 1 and
    log Z = n_hidden log 2 + sum_i log(sqrt(2 pi T) sigma_i)."""
    g = np.random.default_rng(11)
    sigma = np.exp(g.uniform(-1.0, 1.0, 4))
    model = GaussianBernoulliRBM(np.zeros((4, 3)), g.normal(0.0, 3.0, 4), np.zeros(3), sigma, temperature=0.6)
    closed_form = 3 * math.log(2.0) + float(np.sum(np.log(np.sqrt(2 * math.pi * 0.6) * sigma)))
    assert exact.log_partition_function(model) == pytest.approx(closed_form, abs=1e-12)
    for betas in ([0.0, 1.0], 50):
        result = gais.log_partition_function(model, n_runs=9, betas=betas, base="model", rng=0)
        np.testing.assert_array_equal(result.log_weights, 0.0)
        assert result.log_z_base == pytest.approx(closed_form, abs=1e-12)
        assert result.log_z == pytest.approx(closed_form, abs=1e-12)
        assert result.log_z_std == 0.0 and result.lower == result.upper == result.log_z
    # base="data" whose column means are exactly the visible biases: the same
    data = np.stack([model.visible_bias, model.visible_bias])
    result = gais.log_partition_function(model, n_runs=4, betas=20, data=data, rng=0)
    np.testing.assert_array_equal(result.log_weights, 0.0)


# ---------------------------------------------------------------------------- the weights themselves
@pytest.mark.parametrize("base", ["data", "model"])
def test_one_step_weights_are_free_energy_differences_and_the_base_draws_are_right(base):
    """betas=[0, 1]: each log weight is F_0(v) - F_1(v) for the run's base draw v, with F_beta the
    free energy of the intermediate model, and the draws are N(m, sigma^2 T) (Kolmogorov-Smirnov
    per unit, false-failure rate 1e-4 each; means within 5 standard errors)."""
    model = random_model(4, 5, 0.8, seed=21, temperature=1.4)
    data = random_data(model, 50, 22) if base == "data" else None
    n_runs = 20000
    log_weights, states, log_z_base, _ = gais._run(model, n_runs, [0.0, 1.0], base, data, 23)
    base_mean = data.mean(axis=0) if base == "data" else model.visible_bias
    start, end = path_model(model, base_mean, 0.0), path_model(model, base_mean, 1.0)
    expected = start.free_energy(states) - end.free_energy(states)
    np.testing.assert_allclose(log_weights, expected, rtol=1e-12, atol=1e-10)
    std = model.sigma * math.sqrt(model.temperature)
    assert log_z_base == pytest.approx(5 * math.log(2.0) + float(np.sum(np.log(np.sqrt(2 * math.pi) * std))), abs=1e-12)
    z = (states - base_mean) / std
    for i in range(model.n_visible):
        assert stats.kstest(z[:, i], "norm").pvalue > 1e-4
    assert np.all(np.abs(z.mean(axis=0)) < 5 / math.sqrt(n_runs))
    assert abs(np.corrcoef(z[:, 0], z[:, 1])[0, 1]) < 5 / math.sqrt(n_runs)


@pytest.mark.parametrize("base", ["data", "model"])
@pytest.mark.parametrize("betas", [[0.0, 1.0], [0.0, 0.5, 1.0]])
def test_few_steps_are_unbiased_in_the_weight_mean_not_in_its_log(betas, base):
    """E[w] = Z / Z_A whatever the schedule when each transition leaves its p_k invariant (the
    two-step schedule checks the Gibbs sweep at beta = 0.5, means interpolated): 100,000 runs put
    the truth within 4 delta-method sigmas (false-failure rate 6e-5). The mean of log w is
    biased low (Jensen)."""
    model = random_model(3, 4, 0.4, seed=31)
    data = random_data(model, 60, 32) if base == "data" else None
    truth = exact.log_partition_function(model)
    result = gais.log_partition_function(model, n_runs=100_000, betas=betas, base=base, data=data, rng=33)
    assert result.log_z_std < 0.01
    assert abs(result.log_z - truth) < 4 * result.log_z_std
    log_w = result.log_weights
    assert result.log_z_base + log_w.mean() < truth - 4 * log_w.std(ddof=1) / math.sqrt(log_w.size)


def test_large_couplings_do_not_overflow():
    """Couplings of +-30 over small sigmas (hidden inputs in the hundreds): no RuntimeWarning (an
    error under the test config), one-step weights exact, finite annealed weights, and the
    estimate not above the truth by more than its noise (AIS's log Z is a stochastic lower bound)."""
    g = np.random.default_rng(41)
    model = GaussianBernoulliRBM(g.choice([-30.0, 30.0], (3, 4)), g.normal(0.0, 1.0, 3), g.choice([-30.0, 30.0], 4),
                                 np.full(3, 0.5))
    log_weights, states, _, _ = gais._run(model, 300, [0.0, 1.0], "model", None, 0)
    bias = model.visible_bias
    expected = path_model(model, bias, 0.0).free_energy(states) - path_model(model, bias, 1.0).free_energy(states)
    np.testing.assert_allclose(log_weights, expected, rtol=1e-12, atol=1e-8)
    annealed = gais.log_partition_function(model, n_runs=20, betas=500, base="model", rng=0)
    assert np.all(np.isfinite(annealed.log_weights))
    assert annealed.log_z < exact.log_partition_function(model) + 1.0


# ---------------------------------------------------------------------------- reproducibility
def test_same_rng_same_bits_whatever_the_threads_and_the_split(monkeypatch):
    model = random_model(6, 7, 0.6, seed=51)
    data = random_data(model, 80, 52)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = gais.log_partition_function(model, n_runs=9, betas=300, data=data, rng=5)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = gais.log_partition_function(model, n_runs=9, betas=300, data=data, rng=5)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one.log_weights, two.log_weights)
    assert one.log_z == two.log_z
    again = gais.log_partition_function(model, n_runs=9, betas=300, data=data, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(again.log_weights, one.log_weights)
    other = gais.log_partition_function(model, n_runs=9, betas=300, data=data, rng=6)
    assert not np.array_equal(other.log_weights, one.log_weights)
    single = gais.log_partition_function(model, n_runs=1, betas=300, data=data, rng=5)
    assert single.log_weights[0] == one.log_weights[0]
    assert single.log_z_std == math.inf
    monkeypatch.setattr(_launch, "TARGET_SECONDS", 0.0)  # one step per kernel call
    split = gais.log_partition_function(model, n_runs=9, betas=300, data=data, rng=5)
    np.testing.assert_array_equal(split.log_weights, one.log_weights)


# ---------------------------------------------------------------------------- log-likelihood
@pytest.mark.parametrize("base", ["data", "model"])
def test_estimate_log_likelihood_matches_exact(base):
    model = random_model(5, 8, 0.5, seed=61, temperature=1.3)
    data = random_data(model, 120, 62)
    truth = exact.log_likelihood(model, data)
    estimate = gais.estimate_log_likelihood(model, data, betas=1000, base=base, rng=4)
    assert isinstance(estimate, LikelihoodEstimate)
    assert abs(estimate.mean - truth) < SIGMAS * estimate.log_z.log_z_std + ABSOLUTE
    numerator = np.mean(-model.free_energy(data) / model.temperature)
    assert estimate.mean == pytest.approx(numerator - estimate.log_z.log_z, abs=1e-12)
    assert estimate.lower == pytest.approx(numerator - estimate.log_z.upper, abs=1e-12)
    assert estimate.upper == pytest.approx(numerator - estimate.log_z.lower, abs=1e-12)
    assert estimate.lower < estimate.mean < estimate.upper


def test_dataframes_are_reordered_by_column():
    pd = pytest.importorskip("pandas")
    model = random_model(4, 3, 0.5, seed=71)
    data = random_data(model, 30, 72)
    frame = pd.DataFrame(data, columns=model.visible_names)[list(reversed(model.visible_names))].assign(extra=1.0)
    from_frame = gais.estimate_log_likelihood(model, frame, n_runs=5, betas=50, rng=1)
    from_array = gais.estimate_log_likelihood(model, data, n_runs=5, betas=50, rng=1)
    assert from_frame.mean == from_array.mean
    with pytest.raises(ValidationError, match="data is missing columns.*v2"):
        gais.log_partition_function(model, data=frame.drop(columns="v2"))


# ---------------------------------------------------------------------------- bad input
def test_bad_input_names_the_parameter():
    model = random_model(3, 3, 0.5, seed=81)
    data = random_data(model, 10, 82)
    other = CategoricalRBM.random([2, 3], 2, rng=0)
    with pytest.raises(ParameterTypeError, match="model must be a GaussianBernoulliRBM"):
        gais.log_partition_function(other)
    with pytest.raises(ParameterTypeError, match="model must be a GaussianBernoulliRBM"):
        gais.estimate_log_likelihood(other, data)
    for n_runs, error in [(0, ValidationError), (2.0, ParameterTypeError), (True, ParameterTypeError)]:
        with pytest.raises(error, match="n_runs"):
            gais.log_partition_function(model, n_runs=n_runs)
    for betas, error in [
        (0, ValidationError), (True, ParameterTypeError), ([0.0, 0.5], ValidationError), ([0.1, 1.0], ValidationError),
        ([0.0, 0.6, 0.5, 1.0], ValidationError), ([0.0, float("inf"), 1.0], ValidationError), ("fast", ValidationError),
    ]:
        with pytest.raises(error, match="betas"):
            gais.log_partition_function(model, betas=betas)
    with pytest.raises(ValidationError, match="base='uniform' is not available.*real-valued"):
        gais.log_partition_function(model, base="uniform")
    with pytest.raises(ValidationError, match="base='uniform'"):
        gais.estimate_log_likelihood(model, data, base="uniform")
    with pytest.raises(ValidationError, match="base must be None or one of"):
        gais.log_partition_function(model, base=3)
    with pytest.raises(ValidationError, match="base='data' needs data"):
        gais.log_partition_function(model, base="data")
    with pytest.raises(ValidationError, match="only used with base='data'"):
        gais.log_partition_function(model, base="model", data=data)
    with pytest.raises(StateError, match="data must have shape"):
        gais.log_partition_function(model, data=data[:, :2])
    bad = data.copy()
    bad[3, 1] = np.nan
    with pytest.raises(StateError, match=r"data must hold finite real numbers.*\(3, 1\)"):
        gais.log_partition_function(model, data=bad)
    with pytest.raises(StateError, match="data must hold finite real numbers"):
        gais.estimate_log_likelihood(model, np.where(np.isnan(bad), np.inf, bad))
    with pytest.raises(StateError, match="data must be an array of real numbers"):
        gais.log_partition_function(model, data=np.full((2, 3), "1.5"))
    with pytest.raises(StateError, match="data"):
        gais.log_partition_function(model, data=np.full((2, 3), 1.5e308))
    with pytest.raises(ValidationError, match="data must hold at least one sample"):
        gais.log_partition_function(model, data=np.zeros((0, 3)))
    with pytest.raises(ParameterTypeError, match="rng"):
        gais.log_partition_function(model, rng="seed")
    with pytest.raises(TypeError):
        gais.estimate_log_likelihood(model, data, data=data)
