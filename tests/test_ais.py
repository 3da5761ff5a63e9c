"""Annealed importance sampling (pgm_energy.ais) against exact enumeration and closed forms.

Independent oracles: ``pgm_energy.exact`` (enumeration), the models' ``free_energy``
(NumPy, for every importance weight of a one- or two-step schedule), closed forms for
a target equal to the base, and a float64 reference for the kernel's float32 fast path.
Statistical checks use fixed seeds and state their false-failure rates.
"""

import math

import numba
import numpy as np
import pytest
from scipy import stats

from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine, ais, exact
from pgm_energy._kernels import ais as kernels
from pgm_energy.exceptions import ParameterTypeError, StateError, ValidationError
from pgm_energy.schedules import ais_betas


def random_rbm(n_visible, n_hidden, scale, seed, temperature=1.0):
    g = np.random.default_rng(seed)
    return RestrictedBoltzmannMachine(
        g.normal(0.0, scale, (n_visible, n_hidden)),
        g.normal(0.0, scale, n_visible),
        g.normal(0.0, scale, n_hidden),
        temperature=temperature,
    )


def random_data(n_rows, n_visible, seed):
    """Binary rows with column means drawn uniformly: a base model unlike the target."""
    g = np.random.default_rng(seed)
    return (g.random((n_rows, n_visible)) < g.random(n_visible)).astype(np.uint8)


def all_states(n):
    return ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(np.float64)


def log_unnormalised(rbm, base_bias, beta, visible):
    """``log p*_beta(v)`` of the AIS path through the model's own free energy (T = 1 scaling)."""
    t = rbm.temperature
    path = RestrictedBoltzmannMachine(
        beta * rbm.weights / t,
        (1.0 - beta) * base_bias + beta * rbm.visible_bias / t,
        beta * rbm.hidden_bias / t,
    )
    return -path.free_energy(visible)


# ---------------------------------------------------------------------------- the schedule
def test_default_schedule_is_salakhutdinov_murray():
    betas = ais_betas()
    assert betas.shape == (14501,) and betas[0] == 0.0 and betas[-1] == 1.0
    steps = np.diff(betas)
    # 500 steps of 1e-3, 4000 of 1e-4, 10000 of 1e-5
    np.testing.assert_allclose(steps[:500], 1e-3, rtol=1e-9)
    np.testing.assert_allclose(steps[500:4500], 1e-4, rtol=1e-8)
    np.testing.assert_allclose(steps[4500:], 1e-5, rtol=1e-7)
    assert betas[500] == 0.5 and betas[4500] == 0.9
    np.testing.assert_array_equal(ais_betas(4), [0.0, 0.25, 0.5, 0.75, 1.0])
    with pytest.raises(ValidationError, match="n_steps"):
        ais_betas(0)
    with pytest.raises(ParameterTypeError, match="n_steps"):
        ais_betas(2.5)


# ---------------------------------------------------------------------------- accuracy against exact
CASES = {
    "10x8 s0.3": dict(n_visible=10, n_hidden=8, scale=0.3, seed=1),
    "16x6 s1.0": dict(n_visible=16, n_hidden=6, scale=1.0, seed=2),
    "12x10 s0.7": dict(n_visible=12, n_hidden=10, scale=0.7, seed=3),
    "14x9 s1.0 T1.5": dict(n_visible=14, n_hidden=9, scale=1.0, seed=4, temperature=1.5),
}


@pytest.mark.parametrize("base", ["data", "uniform"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_log_z_matches_exact(case, base):
    """3000 steps, 100 runs: observed errors are ~0.005-0.01 nats (1 sigma), tolerance 0.05.

    Band: the truth must be inside the reported +-3 sigma band for at least 2 of 3 seeds
    and inside +-5 sigma for all (false-failure rate under the normal approximation of the
    delta method ~3 * 0.0027**2 + 3 * 6e-7, about 2e-5 per case).
    """
    rbm = random_rbm(**CASES[case])
    truth = exact.log_partition_function(rbm)
    data = random_data(300, rbm.n_visible, CASES[case]["seed"] + 100) if base == "data" else None
    inside = 0
    for seed in range(3):
        result = ais.log_partition_function(rbm, betas=3000, base=base, data=data, rng=seed)
        assert abs(result.log_z - truth) < 0.05
        assert abs(result.log_z - truth) < 5 * result.log_z_std
        inside += result.lower <= truth <= result.upper
        assert result.n_steps == 3000 and result.log_weights.shape == (100,)
        assert result.lower < result.log_z < result.upper
    assert inside >= 2


def test_band_is_the_delta_method_of_the_weights():
    rbm = random_rbm(8, 5, 0.8, seed=7)
    result = ais.log_partition_function(rbm, n_runs=50, betas=200, base="uniform", rng=3)
    w = np.exp(result.log_weights - result.log_weights.max())
    mean, error = w.mean(), w.std(ddof=1) / math.sqrt(w.size)
    shift = result.log_z_base + result.log_weights.max()
    assert result.log_z == pytest.approx(shift + math.log(mean), abs=1e-12)
    assert result.log_z_std == pytest.approx(error / mean, rel=1e-12)
    assert result.lower == pytest.approx(shift + math.log(mean - 3 * error), abs=1e-12)
    assert result.upper == pytest.approx(shift + math.log(mean + 3 * error), abs=1e-12)
    assert result.log_z_base == pytest.approx((8 + 5) * math.log(2.0), abs=1e-12)


def test_target_equal_to_base_gives_the_closed_form_exactly():
    data = random_data(40, 9, seed=5)
    bias = ais.base_visible_bias(data)
    # Laplace-smoothed marginals, an independent formula
    p = (data.sum(axis=0) + 1.0) / (data.shape[0] + 2.0)
    np.testing.assert_allclose(bias, np.log(p / (1 - p)), rtol=1e-12, atol=1e-12)
    rbm = RestrictedBoltzmannMachine(np.zeros((9, 4)), bias, np.zeros(4))
    result = ais.log_partition_function(rbm, n_runs=7, betas=50, data=data, rng=0)
    closed_form = 4 * math.log(2.0) + float(np.sum(np.log1p(np.exp(bias))))
    assert result.log_z == pytest.approx(closed_form, abs=1e-12)
    assert result.log_z == pytest.approx(exact.log_partition_function(rbm), abs=1e-12)
    np.testing.assert_array_equal(result.log_weights, 0.0)
    assert result.log_z_std == 0.0 and result.lower == result.upper == result.log_z
    zero = RestrictedBoltzmannMachine(np.zeros((5, 3)), np.zeros(5), np.zeros(3))
    uniform = ais.log_partition_function(zero, n_runs=3, betas=10, base="uniform", rng=0)
    assert uniform.log_z == pytest.approx(8 * math.log(2.0), abs=1e-12)


# ---------------------------------------------------------------------------- the weights themselves
@pytest.mark.parametrize("base", ["data", "uniform"])
def test_one_step_weights_are_exact_ratios_and_the_base_draws_are_right(base):
    """betas=[0, 1]: each log weight is log p*_1(v) - log p*_0(v) for the drawn v (checked
    against free energies of all 2**6 states), and the v decoded from the weights follow the
    base distribution (chi-square, false-failure rate 1e-4)."""
    rbm = random_rbm(6, 4, 0.9, seed=11)
    data = random_data(50, 6, seed=12)
    base_bias = ais.base_visible_bias(data) if base == "data" else np.zeros(6)
    states = all_states(6)
    expected = log_unnormalised(rbm, base_bias, 1.0, states) - log_unnormalised(rbm, base_bias, 0.0, states)
    assert np.min(np.diff(np.sort(expected))) > 1e-6  # the map v -> weight is one-to-one
    n_runs = 20000
    result = ais.log_partition_function(
        rbm, n_runs=n_runs, betas=[0.0, 1.0], base=base, data=data if base == "data" else None, rng=13
    )
    distance = np.abs(result.log_weights[:, None] - expected[None, :])
    decoded = np.argmin(distance, axis=1)
    assert np.max(distance[np.arange(n_runs), decoded]) < 1e-11
    base_p = np.exp(states @ base_bias - np.sum(np.logaddexp(0.0, base_bias)))
    counts = np.bincount(decoded, minlength=64)
    chi2 = np.sum((counts - n_runs * base_p) ** 2 / (n_runs * base_p))
    assert chi2 < stats.chi2.ppf(1 - 1e-4, df=63)


def test_two_step_weights_are_sums_of_exact_ratios():
    rbm = random_rbm(5, 3, 1.2, seed=21, temperature=0.8)
    data = random_data(30, 5, seed=22)
    base_bias = ais.base_visible_bias(data)
    states = all_states(5)
    first = log_unnormalised(rbm, base_bias, 0.3, states) - log_unnormalised(rbm, base_bias, 0.0, states)
    second = log_unnormalised(rbm, base_bias, 1.0, states) - log_unnormalised(rbm, base_bias, 0.3, states)
    possible = (first[:, None] + second[None, :]).ravel()
    result = ais.log_partition_function(rbm, n_runs=500, betas=[0.0, 0.3, 1.0], data=data, rng=1)
    assert np.max(np.min(np.abs(result.log_weights[:, None] - possible[None, :]), axis=1)) < 1e-11


@pytest.mark.parametrize("base, max_std", [("data", 0.02), ("uniform", 0.002)])
@pytest.mark.parametrize("betas", [[0.0, 1.0], [0.0, 0.5, 1.0]])
def test_few_steps_are_unbiased_in_the_weight_mean_not_in_its_log(betas, base, max_std):
    """E[w] = Z / Z_0 exactly whatever the schedule (if the transitions leave each p_k
    invariant), so exp(log_z) is unbiased: 200,000 runs put the truth within 4 delta-method
    sigmas (false-failure rate 6e-5; ``max_std`` makes the check sensitive to biases above
    4 * max_std nats). The mean of log w is biased low (Jensen): more than 4 of its own
    standard errors below the truth."""
    rbm = random_rbm(6, 4, 0.8, seed=31)
    data = random_data(60, 6, seed=32) if base == "data" else None
    truth = exact.log_partition_function(rbm)
    result = ais.log_partition_function(rbm, n_runs=200_000, betas=betas, base=base, data=data, rng=33)
    assert abs(result.log_z - truth) < 4 * result.log_z_std
    assert result.log_z_std < max_std
    log_w = result.log_weights
    log_mean_log = result.log_z_base + log_w.mean()
    assert log_mean_log < truth - 4 * log_w.std(ddof=1) / math.sqrt(log_w.size)


def test_large_weights_do_not_overflow():
    """Weights of +-50: no RuntimeWarning (errors under the test config), finite answers,
    and every one-step weight still an exact ratio."""
    g = np.random.default_rng(41)
    rbm = RestrictedBoltzmannMachine(
        g.choice([-50.0, 50.0], size=(6, 3)), g.choice([-50.0, 50.0], 6), g.choice([-50.0, 50.0], 3)
    )
    states = all_states(6)
    expected = log_unnormalised(rbm, np.zeros(6), 1.0, states) - log_unnormalised(rbm, np.zeros(6), 0.0, states)
    result = ais.log_partition_function(rbm, n_runs=300, betas=[0.0, 1.0], base="uniform", rng=0)
    assert np.max(np.min(np.abs(result.log_weights[:, None] - expected[None, :]), axis=1)) < 1e-9
    annealed = ais.log_partition_function(rbm, n_runs=20, betas=500, base="uniform", rng=0)
    assert np.all(np.isfinite(annealed.log_weights)) and math.isfinite(annealed.log_z)
    # AIS estimates Z without bias, so log Z only by a stochastic lower bound: far above is a bug.
    assert annealed.log_z < exact.log_partition_function(rbm) + 1.0


def test_single_run_has_no_spread_estimate():
    rbm = random_rbm(6, 3, 0.5, seed=51)
    result = ais.log_partition_function(rbm, n_runs=1, betas=20, base="uniform", rng=0)
    assert math.isfinite(result.log_z)
    assert result.log_z_std == math.inf and result.lower == -math.inf and result.upper == math.inf


# ---------------------------------------------------------------------------- the float32 fast path
def test_fast_visible_probabilities_stay_within_their_margins():
    """The float32 probabilities against a float64 reference, for moderate and huge weights."""
    g = np.random.default_rng(61)
    for scale in (0.1, 3.0, 50.0):
        n_visible, n_hidden = 300, 24
        weights = g.normal(0.0, scale, (n_visible, n_hidden))
        base_bias = g.normal(0.0, 2.0, n_visible)
        delta = g.normal(0.0, scale, n_visible)
        margin = kernels.visible_margins(weights, base_bias, delta)
        weights_t = np.ascontiguousarray(weights.T)
        acc = np.empty(n_visible, np.float32)
        prob = np.empty(n_visible, np.float32)
        for beta in (0.0, 0.37, 0.90001, 1.0):
            on = np.flatnonzero(g.random(n_hidden) < 0.5).astype(np.int64)
            kernels._fast_visible_probabilities(
                base_bias.astype(np.float32), delta.astype(np.float32), weights_t.astype(np.float32),
                on, on.size, beta, acc, prob,
            )
            a = base_bias + beta * (delta + weights[:, on].sum(axis=1))
            reference = np.exp(-np.logaddexp(0.0, -a))
            assert np.all(np.abs(prob.astype(np.float64) - reference) <= margin)


def test_close_calls_are_decided_by_the_exact_probability():
    """Uniforms placed just either side of the exact probability, closer than float32 can
    resolve: the states must be those of the float64 comparison."""
    g = np.random.default_rng(71)
    n_visible, n_hidden = 64, 5
    weights = g.normal(0.0, 1.0, (n_visible, n_hidden))
    base_bias = g.normal(0.0, 1.0, n_visible)
    delta = g.normal(0.0, 1.0, n_visible)
    weights_t = np.ascontiguousarray(weights.T)
    on_hidden = np.array([0, 2, 3], dtype=np.int64)
    beta = 0.61
    a = base_bias + beta * (delta + weights[:, on_hidden].sum(axis=1))
    exact_p = np.exp(-np.logaddexp(0.0, -a))
    offset = np.where(np.arange(n_visible) % 2 == 0, -1e-12, 1e-12) * np.maximum(exact_p, 1e-3)
    uniforms = exact_p + offset
    fast = (exact_p + 3e-7 * np.where(offset < 0, -1.0, 1.0)).astype(np.float32)  # float32 on the wrong side
    margin = kernels.visible_margins(weights, base_bias, delta)
    on = np.empty(n_visible, np.int64)
    count = kernels._draw_visible(
        fast, uniforms, margin, base_bias, delta, weights_t, on_hidden, on_hidden.size, beta, on
    )
    np.testing.assert_array_equal(on[:count], np.flatnonzero(uniforms < exact_p))


# ---------------------------------------------------------------------------- reproducibility
def test_same_rng_same_bits_whatever_the_thread_count():
    rbm = random_rbm(13, 7, 0.8, seed=81)
    data = random_data(100, 13, seed=82)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = ais.log_partition_function(rbm, n_runs=9, betas=300, data=data, rng=5)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = ais.log_partition_function(rbm, n_runs=9, betas=300, data=data, rng=5)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one.log_weights, two.log_weights)
    assert one.log_z == two.log_z
    again = ais.log_partition_function(rbm, n_runs=9, betas=300, data=data, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(again.log_weights, one.log_weights)
    other = ais.log_partition_function(rbm, n_runs=9, betas=300, data=data, rng=6)
    assert not np.array_equal(other.log_weights, one.log_weights)
    # A run's streams are the first seeds drawn, so one run alone (the serial kernel) repeats run 0.
    single = ais.log_partition_function(rbm, n_runs=1, betas=300, data=data, rng=5)
    assert single.log_weights[0] == one.log_weights[0]


# ---------------------------------------------------------------------------- log-likelihood
def test_default_schedule_on_a_trained_digits_model():
    """Issue 4's accuracy target on a real model: a 64x20 RBM trained by persistent CD on the
    binarised digits (the benchmark trains 300 epochs; 100 here to stay fast), the default
    14,500-step schedule, base = data marginals: within 0.1 nats of exact and inside the
    +-3 sigma band. Measured on such models: log-weight spread ~0.07 nats, errors ~0.01 with
    100 runs (benchmarks/bench_ais.py); 40 runs here (speed): sigma ~0.012, so 0.1 nats is an
    ~8 sigma margin."""
    from pgm_energy.datasets import load_digits
    from pgm_energy.learning import ContrastiveDivergence

    train = load_digits(test_size=0.2, rng=0).train
    trainer = ContrastiveDivergence(
        k=1, persistent=True, learning_rate=0.01, momentum=0.0, weight_decay=1e-4, averaging=0.1, batch_size=20,
        epochs=100, monitor=None,
    )
    rbm = trainer.fit(20, train, rng=0, progress=False).model
    truth = exact.log_partition_function(rbm)
    result = ais.log_partition_function(rbm, n_runs=40, data=train, rng=0)
    assert result.n_steps == 14500
    assert abs(result.log_z - truth) < 0.1
    assert result.lower <= truth <= result.upper


@pytest.mark.parametrize("base", ["data", "uniform"])
def test_estimate_log_likelihood_matches_exact(base):
    rbm = random_rbm(15, 8, 0.7, seed=91, temperature=1.3)
    data = random_data(120, 15, seed=92)
    truth = exact.log_likelihood(rbm, data)
    estimate = ais.estimate_log_likelihood(rbm, data, betas=3000, base=base, rng=4)
    assert abs(estimate.mean - truth) < 0.05
    numerator = np.mean(-rbm.free_energy(data) / rbm.temperature)
    assert estimate.mean == pytest.approx(numerator - estimate.log_z.log_z, abs=1e-12)
    assert estimate.lower == pytest.approx(numerator - estimate.log_z.upper, abs=1e-12)
    assert estimate.upper == pytest.approx(numerator - estimate.log_z.lower, abs=1e-12)
    assert estimate.lower < estimate.mean < estimate.upper
    assert estimate.lower - 2 * (estimate.upper - estimate.lower) <= truth <= estimate.upper + 2 * (
        estimate.upper - estimate.lower
    )


def test_estimate_log_likelihood_reorders_dataframe_columns():
    pd = pytest.importorskip("pandas")
    rbm = random_rbm(7, 4, 0.5, seed=95)
    data = random_data(30, 7, seed=96)
    frame = pd.DataFrame(data, columns=rbm.visible_names)[list(reversed(rbm.visible_names))]
    from_frame = ais.estimate_log_likelihood(rbm, frame, n_runs=5, betas=50, rng=1)
    from_array = ais.estimate_log_likelihood(rbm, data, n_runs=5, betas=50, rng=1)
    assert from_frame.mean == from_array.mean


# ---------------------------------------------------------------------------- bad input
def test_bad_input():
    rbm = random_rbm(5, 3, 0.5, seed=99)
    data = random_data(10, 5, seed=98)
    bm = BoltzmannMachine(np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ParameterTypeError, match="rbm must be a RestrictedBoltzmannMachine"):
        ais.log_partition_function(bm, base="uniform")
    with pytest.raises(ParameterTypeError, match="rbm"):
        ais.estimate_log_likelihood(bm, data)
    for n_runs, error in [(0, ValidationError), (-3, ValidationError), (2.0, ParameterTypeError), (True, ParameterTypeError)]:
        with pytest.raises(error, match="n_runs"):
            ais.log_partition_function(rbm, n_runs=n_runs, base="uniform")
    for betas, error in [
        (0, ValidationError),
        (True, ParameterTypeError),
        ([0.0, 0.5], ValidationError),
        ([0.1, 1.0], ValidationError),
        ([0.0], ValidationError),
        ([0.0, 0.6, 0.5, 1.0], ValidationError),
        ([0.0, 0.5, 0.5, 1.0], ValidationError),
        ([[0.0, 1.0]], ValidationError),
        ([0.0, float("nan"), 1.0], ValidationError),
        ("fast", ValidationError),
    ]:
        with pytest.raises(error, match="betas"):
            ais.log_partition_function(rbm, betas=betas, base="uniform")
    with pytest.raises(ValidationError, match="base must be None or one of"):
        ais.log_partition_function(rbm, base="gaussian")
    with pytest.raises(ValidationError, match="base='data' needs data"):
        ais.log_partition_function(rbm, base="data")
    with pytest.raises(ValidationError, match="only used with base='data'"):
        ais.log_partition_function(rbm, base="uniform", data=data)
    with pytest.raises(StateError, match="data"):
        ais.log_partition_function(rbm, data=data[:, :4])
    with pytest.raises(StateError, match="only 0 and 1"):
        ais.log_partition_function(rbm, data=data * 2)
    with pytest.raises(ValidationError, match="at least one sample"):
        ais.log_partition_function(rbm, data=np.zeros((0, 5)))
    with pytest.raises(StateError, match="only 0 and 1"):
        ais.estimate_log_likelihood(rbm, data + 0.5)
    with pytest.raises(ParameterTypeError, match="rng"):
        ais.log_partition_function(rbm, base="uniform", rng="seed")
    with pytest.raises(TypeError):
        ais.log_partition_function(rbm, base="uniform", n_chains=10)
    with pytest.raises(TypeError):
        ais.estimate_log_likelihood(rbm, data, data=data)


def test_lazy_submodule():
    import pgm_energy

    assert pgm_energy.ais is ais
