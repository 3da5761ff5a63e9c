"""AIS for categorical RBMs (pgm_energy._ais_categorical) against exact enumeration and closed forms.

Oracles: ``pgm_energy.exact`` (enumeration of the hidden layer, the softmax visible layer summed in
closed form), the model's own ``free_energy`` (NumPy) for every weight of a one-step schedule, and
closed forms for a target equal to the base. Statistical checks use fixed seeds; tolerances are
declared multiples of the reported standard error plus a small absolute term.
"""

import math

import numba
import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from pgm_energy import _ais_categorical as cais
from pgm_energy import _launch, exact
from pgm_energy.ais import AISResult, LikelihoodEstimate
from pgm_energy.exceptions import ParameterTypeError, StateError, ValidationError
from pgm_energy.models.categorical_rbm import CategoricalRBM
from pgm_energy.models.gaussian_rbm import GaussianBernoulliRBM

#: |AIS - exact| < SIGMAS * log_z_std + ABSOLUTE (the declared tolerance of the accuracy tests)
SIGMAS = 4.0
ABSOLUTE = 0.02


def random_model(cards, n_hidden, scale, seed, temperature=1.0):
    g = np.random.default_rng(seed)
    total = int(sum(cards))
    return CategoricalRBM(
        g.normal(0.0, scale, (total, n_hidden)), g.normal(0.0, scale, total), g.normal(0.0, scale, n_hidden),
        cardinalities=cards, temperature=temperature,
    )


def random_data(model, n_rows, seed):
    """Rows of state indices, each variable with its own random state frequencies (unlike the model)."""
    g = np.random.default_rng(seed)
    columns = [g.choice(k, size=n_rows, p=g.dirichlet(np.ones(k))) for k in model.cardinalities]
    return np.stack(columns, axis=1).astype(np.int64)


def path_log_marginal(model, base_bias, beta, states):
    """``log p*_beta(v)`` of the AIS path through CategoricalRBM.free_energy (parameters / T at T = 1)."""
    t = model.temperature
    path = CategoricalRBM(
        beta * model.weights / t, (1.0 - beta) * base_bias + beta * model.visible_bias / t,
        beta * model.hidden_bias / t, cardinalities=model.cardinalities,
    )
    return -path.free_energy(states)


CASES = {
    "3-2-4-5 x6 s0.8": dict(cards=[3, 2, 4, 5], n_hidden=6, scale=0.8, seed=1),
    "2x8 x10 s0.5": dict(cards=[2] * 8, n_hidden=10, scale=0.5, seed=2),
    "1-6-3 x8 s1.0": dict(cards=[1, 6, 3], n_hidden=8, scale=1.0, seed=3),
    "4-4-4 x5 s1.0 T1.5": dict(cards=[4, 4, 4], n_hidden=5, scale=1.0, seed=4, temperature=1.5),
    "3-3-3-3-2 x10 s1.5": dict(cards=[3, 3, 3, 3, 2], n_hidden=10, scale=1.5, seed=5),
}


# ---------------------------------------------------------------------------- accuracy against exact
@pytest.mark.parametrize("base", ["data", "model", "uniform"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_log_z_matches_exact_within_the_reported_error(case, base):
    model = random_model(**CASES[case])
    truth = exact.log_partition_function(model)
    data = random_data(model, 200, CASES[case]["seed"] + 100) if base == "data" else None
    result = cais.log_partition_function(model, n_runs=100, betas=1000, base=base, data=data, rng=7)
    assert isinstance(result, AISResult)
    assert result.n_steps == 1000 and result.log_weights.shape == (100,)
    assert abs(result.log_z - truth) < SIGMAS * result.log_z_std + ABSOLUTE
    assert result.lower < result.log_z < result.upper


def test_base_closed_form_and_a_target_equal_to_the_base_are_exact():
    """Zero weights and hidden biases, base = the model's visible biases: every weight is exactly 1."""
    cards = [3, 1, 5, 2]
    g = np.random.default_rng(11)
    bias = g.normal(0.0, 2.0, sum(cards))
    model = CategoricalRBM(np.zeros((11, 4)), bias, np.zeros(4), cardinalities=cards, temperature=0.7)
    closed_form = 4 * math.log(2.0) + sum(
        float(logsumexp(bias[s] / 0.7)) for s in model.state_slices
    )
    for betas in ([0.0, 1.0], 50):
        result = cais.log_partition_function(model, n_runs=9, betas=betas, base="model", rng=0)
        np.testing.assert_array_equal(result.log_weights, 0.0)
        assert result.log_z_base == pytest.approx(closed_form, abs=1e-12)
        assert result.log_z == pytest.approx(exact.log_partition_function(model), abs=1e-12)
        assert result.log_z_std == 0.0 and result.lower == result.upper == result.log_z
    # base="data" of a model whose visible biases are the data's smoothed log-frequencies
    data = random_data(model, 40, 12)
    fitted = CategoricalRBM(np.zeros((11, 3)), cais.base_visible_bias(model, data), np.zeros(3), cardinalities=cards)
    result = cais.log_partition_function(fitted, n_runs=5, betas=20, data=data, rng=0)
    np.testing.assert_array_equal(result.log_weights, 0.0)
    assert result.log_z == pytest.approx(exact.log_partition_function(fitted), abs=1e-12)
    # uniform base of a model with all parameters zero: log Z = sum log k_i + n_hidden log 2
    zero = CategoricalRBM(np.zeros((11, 3)), np.zeros(11), np.zeros(3), cardinalities=cards)
    uniform = cais.log_partition_function(zero, n_runs=3, betas=10, base="uniform", rng=0)
    assert uniform.log_z == pytest.approx(math.log(3 * 1 * 5 * 2) + 3 * math.log(2.0), abs=1e-12)


def test_base_visible_bias_is_the_laplace_smoothed_frequencies():
    model = random_model([3, 2, 4], 2, 0.1, seed=13)
    data = random_data(model, 25, 14)
    bias = cais.base_visible_bias(model, data)
    for i, (slot, k) in enumerate(zip(model.state_slices, model.cardinalities)):
        counts = np.bincount(data[:, i], minlength=k)
        np.testing.assert_allclose(np.exp(bias[slot]), (counts + 1.0) / (25 + k), rtol=1e-12)


# ---------------------------------------------------------------------------- the weights themselves
@pytest.mark.parametrize("base", ["data", "uniform"])
def test_one_step_weights_are_exact_ratios_and_the_base_draws_are_right(base):
    """betas=[0, 1]: each log weight is log p*_1(v) - log p*_0(v) of the run's base draw v (free
    energies in NumPy), and the draws follow the base (chi-square per variable, false-failure
    rate 1e-4 each)."""
    model = random_model([3, 2, 5], 4, 0.9, seed=21)
    data = random_data(model, 50, 22) if base == "data" else None
    n_runs = 20000
    log_weights, states, log_z_base, _ = cais._run(model, n_runs, [0.0, 1.0], base, data, 23)
    base_bias = cais.base_visible_bias(model, data) if base == "data" else np.zeros(10)
    expected = path_log_marginal(model, base_bias, 1.0, states) - path_log_marginal(model, base_bias, 0.0, states)
    np.testing.assert_allclose(log_weights, expected, rtol=0, atol=1e-11)
    for i, (slot, k) in enumerate(zip(model.state_slices, model.cardinalities)):
        p = np.exp(base_bias[slot] - logsumexp(base_bias[slot]))
        counts = np.bincount(states[:, i], minlength=k)
        assert counts.shape == (k,)
        chi2 = np.sum((counts - n_runs * p) ** 2 / (n_runs * p))
        assert chi2 < stats.chi2.ppf(1 - 1e-4, df=k - 1)


@pytest.mark.parametrize("betas", [[0.0, 1.0], [0.0, 0.5, 1.0]])
def test_few_steps_are_unbiased_in_the_weight_mean_not_in_its_log(betas):
    """E[w] = Z / Z_A whatever the schedule when each transition leaves its p_k invariant (the
    two-step schedule checks the Gibbs sweep at beta = 0.5): 100,000 runs put the truth within
    4 delta-method sigmas (false-failure rate 6e-5). The mean of log w is biased low (Jensen)."""
    model = random_model([3, 2, 4], 4, 0.7, seed=31)
    data = random_data(model, 60, 32)
    truth = exact.log_partition_function(model)
    result = cais.log_partition_function(model, n_runs=100_000, betas=betas, data=data, rng=33)
    assert result.log_z_std < 0.01
    assert abs(result.log_z - truth) < 4 * result.log_z_std
    log_w = result.log_weights
    assert result.log_z_base + log_w.mean() < truth - 4 * log_w.std(ddof=1) / math.sqrt(log_w.size)


def test_large_parameters_do_not_overflow():
    """Parameters of +-50: no RuntimeWarning (an error under the test config), finite weights,
    each one-step weight an exact ratio, and the annealed estimate not above the truth by more
    than its noise (AIS's log Z is a stochastic lower bound)."""
    g = np.random.default_rng(41)
    cards = [3, 2, 3]
    model = CategoricalRBM(g.choice([-50.0, 50.0], (8, 3)), g.choice([-50.0, 50.0], 8), g.choice([-50.0, 50.0], 3),
                           cardinalities=cards)
    log_weights, states, _, _ = cais._run(model, 300, [0.0, 1.0], "uniform", None, 0)
    expected = path_log_marginal(model, np.zeros(8), 1.0, states) - path_log_marginal(model, np.zeros(8), 0.0, states)
    np.testing.assert_allclose(log_weights, expected, rtol=1e-13, atol=1e-9)
    annealed = cais.log_partition_function(model, n_runs=20, betas=500, base="uniform", rng=0)
    assert np.all(np.isfinite(annealed.log_weights))
    assert annealed.log_z < exact.log_partition_function(model) + 1.0


# ---------------------------------------------------------------------------- reproducibility
def test_same_rng_same_bits_whatever_the_threads_and_the_split(monkeypatch):
    model = random_model([3, 4, 2, 2], 7, 0.8, seed=51)
    data = random_data(model, 80, 52)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = cais.log_partition_function(model, n_runs=9, betas=300, data=data, rng=5)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = cais.log_partition_function(model, n_runs=9, betas=300, data=data, rng=5)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one.log_weights, two.log_weights)
    assert one.log_z == two.log_z
    again = cais.log_partition_function(model, n_runs=9, betas=300, data=data, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(again.log_weights, one.log_weights)
    other = cais.log_partition_function(model, n_runs=9, betas=300, data=data, rng=6)
    assert not np.array_equal(other.log_weights, one.log_weights)
    # a run's streams are the first seeds drawn: one run alone (the serial kernel) repeats run 0
    single = cais.log_partition_function(model, n_runs=1, betas=300, data=data, rng=5)
    assert single.log_weights[0] == one.log_weights[0]
    assert single.log_z_std == math.inf
    # one step per kernel call (every call resumes the runs' states and streams): the same bits
    monkeypatch.setattr(_launch, "TARGET_SECONDS", 0.0)
    split = cais.log_partition_function(model, n_runs=9, betas=300, data=data, rng=5)
    np.testing.assert_array_equal(split.log_weights, one.log_weights)


# ---------------------------------------------------------------------------- log-likelihood
@pytest.mark.parametrize("base", ["data", "uniform"])
def test_estimate_log_likelihood_matches_exact(base):
    model = random_model([3, 2, 4, 3], 8, 0.7, seed=61, temperature=1.3)
    data = random_data(model, 120, 62)
    truth = exact.log_likelihood(model, data)
    estimate = cais.estimate_log_likelihood(model, data, betas=1000, base=base, rng=4)
    assert isinstance(estimate, LikelihoodEstimate)
    assert abs(estimate.mean - truth) < SIGMAS * estimate.log_z.log_z_std + ABSOLUTE
    numerator = np.mean(-model.free_energy(data) / model.temperature)
    assert estimate.mean == pytest.approx(numerator - estimate.log_z.log_z, abs=1e-12)
    assert estimate.lower == pytest.approx(numerator - estimate.log_z.upper, abs=1e-12)
    assert estimate.upper == pytest.approx(numerator - estimate.log_z.lower, abs=1e-12)
    assert estimate.lower < estimate.mean < estimate.upper


def test_dataframes_are_reordered_by_column_and_read_by_state_name():
    pd = pytest.importorskip("pandas")
    g = np.random.default_rng(71)
    names = {"colour": ["red", "green", "blue"], "size": [10, 20], "shape": ["a", "b", "c", "d"]}
    model = CategoricalRBM(g.normal(0, 0.5, (9, 3)), g.normal(0, 0.5, 9), g.normal(0, 0.5, 3), cardinalities=[3, 2, 4],
                           visible_names=list(names), state_names=names)
    data = random_data(model, 30, 72)
    frame = pd.DataFrame({unit: [names[unit][s] for s in data[:, i]] for i, unit in enumerate(names)})
    frame = frame[["shape", "size", "colour"]].assign(extra=1)
    np.testing.assert_array_equal(cais.visible_rows(model, frame), data)
    from_frame = cais.estimate_log_likelihood(model, frame, n_runs=5, betas=50, rng=1)
    from_array = cais.estimate_log_likelihood(model, data, n_runs=5, betas=50, rng=1)
    assert from_frame.mean == from_array.mean
    np.testing.assert_array_equal(
        cais.base_visible_bias(model, frame), cais.base_visible_bias(model, data)
    )
    with pytest.raises(StateError, match=r"data\['colour'\].*'purple'"):
        cais.log_partition_function(model, data=frame.assign(colour="purple"))
    with pytest.raises(ValidationError, match="data is missing columns.*size"):
        cais.log_partition_function(model, data=frame.drop(columns="size"))


# ---------------------------------------------------------------------------- bad input
def test_bad_input_names_the_parameter():
    model = random_model([3, 2], 3, 0.5, seed=81)
    data = random_data(model, 10, 82)
    other = GaussianBernoulliRBM.random(2, 3, rng=0)
    with pytest.raises(ParameterTypeError, match="model must be a CategoricalRBM"):
        cais.log_partition_function(other, base="uniform")
    with pytest.raises(ParameterTypeError, match="model must be a CategoricalRBM"):
        cais.estimate_log_likelihood(other, data)
    for n_runs, error in [(0, ValidationError), (2.0, ParameterTypeError), (True, ParameterTypeError)]:
        with pytest.raises(error, match="n_runs"):
            cais.log_partition_function(model, n_runs=n_runs, base="uniform")
    for betas, error in [
        (0, ValidationError), (True, ParameterTypeError), ([0.0, 0.5], ValidationError), ([0.1, 1.0], ValidationError),
        ([0.0, 0.6, 0.5, 1.0], ValidationError), ([[0.0, 1.0]], ValidationError),
        ([0.0, float("nan"), 1.0], ValidationError), ("fast", ValidationError),
    ]:
        with pytest.raises(error, match="betas"):
            cais.log_partition_function(model, betas=betas, base="uniform")
    with pytest.raises(ValidationError, match="base must be None or one of"):
        cais.log_partition_function(model, base="gaussian")
    with pytest.raises(ValidationError, match="base='data' needs data"):
        cais.log_partition_function(model, base="data")
    with pytest.raises(ValidationError, match="only used with base='data'"):
        cais.log_partition_function(model, base="model", data=data)
    with pytest.raises(StateError, match="data must have shape"):
        cais.log_partition_function(model, data=data[:, :1])
    with pytest.raises(StateError, match=r"data\[\d+, 1\] = .* is not a state of variable 1"):
        cais.log_partition_function(model, data=data + np.array([0, 2]))
    with pytest.raises(StateError, match="data must hold whole numbers"):
        cais.estimate_log_likelihood(model, data + 0.5)
    with pytest.raises(ValidationError, match="data must hold at least one sample"):
        cais.log_partition_function(model, data=np.zeros((0, 2), dtype=int))
    with pytest.raises(ParameterTypeError, match="rng"):
        cais.log_partition_function(model, base="uniform", rng="seed")
    with pytest.raises(TypeError):
        cais.estimate_log_likelihood(model, data, data=data)
