"""pgm_energy.interop.sklearn_gaussian.GaussianBernoulliRBM: scikit-learn's contract and a true log density."""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import integrate
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from pgm_energy import ParameterTypeError, ValidationError, exact
from pgm_energy.interop.sklearn import EstimatorParameterError
from pgm_energy.interop.sklearn_gaussian import GaussianBernoulliRBM

SMALL = dict(n_components=2, n_iter=3, random_state=0)


def _data(n=300, seed=0):
    """Three correlated features on different scales and offsets, two clusters."""
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, 2, size=n)[:, None]
    base = rng.normal(size=(n, 3)) + 2.5 * cluster * np.array([1.0, -1.0, 0.5])
    return base @ np.array([[3.0, 0.0, 0.0], [1.5, 0.4, 0.0], [0.0, 1.0, 2.0]]) + np.array([10.0, -5.0, 100.0])


# ---------------------------------------------------------------------- scikit-learn's checks
# Every check runs and must pass: no expected failures are declared. scikit-learn itself skips
# check_array_api_input unless SCIPY_ARRAY_API=1 was set before SciPy was imported; it is run
# in a subprocess with that variable below.
@parametrize_with_checks(
    [
        GaussianBernoulliRBM(**SMALL),
        GaussianBernoulliRBM(method="exact", whiten=True, **SMALL),
        GaussianBernoulliRBM(n_components=3, n_iter=2, batch_size=5, standardize=False, random_state=0),
    ]
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "check",
    [
        # scikit-learn runs these on its own estimators (sklearn/tests/test_common.py), not in check_estimator.
        "check_param_validation",
        "check_dataframe_column_names_consistency",
        "check_set_output_transform",
        "check_set_output_transform_pandas",
        "check_global_output_transform_pandas",
        "check_transformer_get_feature_names_out",
        "check_transformer_get_feature_names_out_pandas",
        "check_get_feature_names_out_error",
    ],
)
def test_scikit_learns_extra_checks_pass(check):
    import sklearn.utils.estimator_checks as estimator_checks

    if "pandas" in check:
        pytest.importorskip("pandas")
    with warnings.catch_warnings():
        # The pandas-output checks mix fits with and without feature names on purpose.
        warnings.filterwarnings("ignore", message=".*feature names", category=UserWarning)
        getattr(estimator_checks, check)("GaussianBernoulliRBM", GaussianBernoulliRBM(**SMALL))


def test_array_api_check_passes_with_scipy_array_api():
    script = (
        "from sklearn.utils.estimator_checks import check_array_api_input\n"
        "from pgm_energy.interop.sklearn_gaussian import GaussianBernoulliRBM\n"
        "check_array_api_input('GaussianBernoulliRBM', GaussianBernoulliRBM(n_components=2, n_iter=3, random_state=0),"
        " array_namespace='numpy', expect_only_array_outputs=False)\n"
        "print('passed')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], env=dict(os.environ, SCIPY_ARRAY_API="1"),
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0 and result.stdout.strip() == "passed", result.stdout + result.stderr


def test_tags_refuse_sparse_and_nan():
    tags = GaussianBernoulliRBM().__sklearn_tags__()
    assert tags.input_tags.sparse is False and tags.input_tags.allow_nan is False
    assert tags.transformer_tags.preserves_dtype == ["float64"]


# ---------------------------------------------------------------------- the log density
def _mixture_log_density(estimator, X):
    """log p(x) computed independently: the machine as a mixture of 2**n_hidden Gaussians, mapped back to x.

    Completing the square in v, p(v) = sum_h pi_h N(v; b + W h, diag(sigma^2)) with
    log pi_h = c.h + sum_i ((b + W h)_i^2 - b_i^2) / (2 sigma_i^2) + const. The preprocessing is
    affine, x = centre + v @ L, so each component is a Gaussian in x with covariance
    L' diag(sigma^2) L: no free energy, no log Z, no Jacobian from the module under test.
    """
    model = estimator.model_
    weights, b, c, sigma = model.weights, model.visible_bias, model.hidden_bias, model.sigma
    hidden = np.array(list(itertools.product((0.0, 1.0), repeat=model.n_hidden)))
    means = hidden @ weights.T + b
    log_pi = hidden @ c + ((means**2 - b**2) / (2 * sigma**2)).sum(axis=1)
    log_pi -= logsumexp(log_pi)
    n = X.shape[1]
    scale = np.ones(n) if estimator.scale_ is None else estimator.scale_
    centre = np.zeros(n) if estimator.mean_ is None else estimator.mean_
    inverse, shift = np.eye(n), np.zeros(n)
    if estimator.whitening_ is not None:  # v = (y - m) A  <=>  y = v A^-1 + m
        inverse, shift = np.linalg.inv(estimator.whitening_.matrix_), estimator.whitening_.mean_
    linear = inverse * scale[None, :]  # x = centre + shift * scale + v @ linear
    covariance = linear.T @ np.diag(sigma**2) @ linear
    components = [multivariate_normal(centre + shift * scale + mean @ linear, covariance).logpdf(X) for mean in means]
    return logsumexp(log_pi[:, None] + np.reshape(components, (len(means), -1)), axis=0)


@pytest.mark.parametrize("standardize, whiten", [(True, False), (False, False), (True, True), (False, True)])
@pytest.mark.parametrize("method", ["cd", "exact"])
def test_score_samples_is_the_log_density_of_the_original_rows(method, standardize, whiten):
    X = _data()
    rbm = GaussianBernoulliRBM(n_components=2, n_iter=30, method=method, standardize=standardize, whiten=whiten,
                               random_state=0).fit(X)
    scores = rbm.score_samples(X[:50])
    assert scores.dtype == np.float64 and scores.shape == (50,)
    np.testing.assert_allclose(scores, _mixture_log_density(rbm, X[:50]), rtol=0, atol=1e-8)
    assert rbm.score(X[:50]) == pytest.approx(scores.mean(), abs=1e-12)


@pytest.mark.parametrize("standardize, whiten", [(True, False), (False, False), (True, True)])
def test_score_is_exact_log_likelihood_of_the_preprocessed_rows_plus_the_jacobian(standardize, whiten):
    X = _data()
    rbm = GaussianBernoulliRBM(n_components=3, n_iter=20, standardize=standardize, whiten=whiten, random_state=1).fit(X)
    y = X[:40]
    if standardize:
        y = (y - X.mean(axis=0)) / X.std(axis=0)
    if whiten:
        y = rbm.whitening_.transform(y)
    jacobian = (-np.log(X.std(axis=0)).sum() if standardize else 0.0) + (rbm.whitening_.log_det if whiten else 0.0)
    assert rbm.score(X[:40]) == pytest.approx(exact.log_likelihood(rbm.model_, y) + jacobian, abs=1e-8)
    assert rbm.log_z_ == pytest.approx(exact.log_partition_function(rbm.model_), abs=1e-12)


@pytest.mark.parametrize("standardize", [True, False])
def test_the_density_of_one_feature_integrates_to_one(standardize):
    x = _data()[:, :1]
    rbm = GaussianBernoulliRBM(n_components=2, n_iter=50, method="exact", standardize=standardize, random_state=0).fit(x)
    centre, spread = float(x.mean()), float(x.std())
    points = rbm.model_.visible_mean(np.array(list(itertools.product((0, 1), repeat=2))))[:, 0]
    if standardize:
        points = centre + spread * points
    total, error = integrate.quad(lambda t: float(np.exp(rbm.score_samples([[t]])[0])), centre - 15 * spread,
                                  centre + 15 * spread, points=sorted(points), limit=200)
    assert total == pytest.approx(1.0, abs=1e-6), (total, error)


@pytest.mark.parametrize("standardize, whiten", [(True, False), (False, False), (True, True)])
def test_the_density_of_two_features_integrates_to_one(standardize, whiten):
    x = _data()[:, :2]
    rbm = GaussianBernoulliRBM(n_components=2, n_iter=40, method="exact", standardize=standardize, whiten=whiten,
                               random_state=0).fit(x)
    axes = [np.linspace(m - 10 * s, m + 10 * s, 801) for m, s in zip(x.mean(axis=0), x.std(axis=0))]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 2)
    density = np.exp(rbm.score_samples(grid)).reshape(801, 801)
    total = integrate.simpson(integrate.simpson(density, x=axes[1], axis=1), x=axes[0])
    assert total == pytest.approx(1.0, abs=1e-4)


def test_standardisation_jacobian_follows_a_change_of_units():
    X = _data()
    factors = np.array([2.0, 8.0, 0.5])  # powers of two: the standardised rows are the same bits
    first = GaussianBernoulliRBM(**SMALL).fit(X)
    rescaled = GaussianBernoulliRBM(**SMALL).fit(X * factors)
    np.testing.assert_array_equal(first.components_, rescaled.components_)
    np.testing.assert_allclose(rescaled.score_samples(X * factors), first.score_samples(X) - np.log(factors).sum(),
                               rtol=0, atol=1e-10)
    # any affine change of units, with the deterministic exact trainer (equal up to rounding, which
    # 20 L-BFGS iterations amplify to about 1e-5 nats; the Jacobian here is log(2.1) = 0.74 nats)
    options = dict(n_components=2, n_iter=20, method="exact", random_state=0)
    shifted = GaussianBernoulliRBM(**options).fit(X * [3.0, 0.1, 7.0] - 40.0)
    plain = GaussianBernoulliRBM(**options).fit(X)
    np.testing.assert_allclose(shifted.score_samples(X * [3.0, 0.1, 7.0] - 40.0),
                               plain.score_samples(X) - np.log([3.0, 0.1, 7.0]).sum(), rtol=0, atol=1e-4)


def test_whitening_jacobian_is_its_log_determinant():
    X = _data()
    rbm = GaussianBernoulliRBM(n_components=2, n_iter=10, whiten=True, random_state=0).fit(X)
    white = rbm.whitening_.transform((X[:30] - rbm.mean_) / rbm.scale_)
    model_space = -rbm.model_.free_energy(white) - rbm.log_z_
    expected = -np.log(rbm.scale_).sum() + rbm.whitening_.log_det
    np.testing.assert_allclose(rbm.score_samples(X[:30]) - model_space, expected, rtol=0, atol=1e-9)
    assert rbm.whitening_.log_det == pytest.approx(np.log(abs(np.linalg.det(rbm.whitening_.matrix_))), abs=1e-9)


def test_log_z_beyond_twenty_hidden_units_is_a_seeded_ais_estimate():
    X = _data()
    options = dict(n_components=21, n_iter=3, random_state=2)
    rbm = GaussianBernoulliRBM(**options).fit(X)
    again = GaussianBernoulliRBM(**options).fit(X)
    assert rbm.log_z_ == again.log_z_  # seeded from random_state
    truth = exact.log_partition_function(rbm.model_, max_units=30)
    assert rbm.log_z_ != truth and rbm.log_z_ == pytest.approx(truth, abs=0.05)


# ---------------------------------------------------------------------- what the estimator exposes
def test_attributes_agree_with_the_model():
    X = _data()
    rbm = GaussianBernoulliRBM(n_components=4, n_iter=5, random_state=0).fit(X)
    model = rbm.model_
    assert rbm.components_.shape == (4, 3) and rbm.n_features_in_ == 3 and not hasattr(rbm, "feature_names_in_")
    np.testing.assert_array_equal(rbm.components_, model.weights.T)
    np.testing.assert_array_equal(rbm.intercept_hidden_, model.hidden_bias)
    np.testing.assert_array_equal(rbm.intercept_visible_, model.visible_bias)
    np.testing.assert_array_equal(rbm.sigma_, model.sigma)
    np.testing.assert_allclose(rbm.mean_, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(rbm.scale_, X.std(axis=0), rtol=1e-12)
    assert rbm.whitening_ is None and len(rbm.history_) == 5
    features = rbm.transform(X)
    assert features.dtype == np.float64 and features.shape == (300, 4)
    np.testing.assert_allclose(features, model.hidden_probabilities((X - rbm.mean_) / rbm.scale_), rtol=0, atol=1e-12)
    assert rbm.get_feature_names_out().tolist() == [f"gaussianbernoullirbm{j}" for j in range(4)]
    raw = GaussianBernoulliRBM(standardize=False, **SMALL).fit(X)
    assert raw.mean_ is None and raw.scale_ is None


def test_unfitted_estimator_refuses_and_has_no_fitted_attributes():
    rbm = GaussianBernoulliRBM()
    for name in ("model_", "components_", "log_z_", "mean_", "whitening_"):
        assert not hasattr(rbm, name)
    for method in ("transform", "score_samples", "score"):
        with pytest.raises(NotFittedError):
            getattr(rbm, method)(np.zeros((2, 3)))


def test_constant_features_get_the_floor_and_do_not_stall_the_exact_trainer():
    X = _data()
    X[:, 1] = 4.0
    rbm = GaussianBernoulliRBM(n_components=3, n_iter=15, method="exact", random_state=0).fit(X)
    assert rbm.scale_[1] == 1.0 and rbm.sigma_[1] == 1e-2 and np.all(rbm.components_[:, 1] == 0)
    assert rbm.intercept_visible_[1] == 0.0  # the standardised constant
    progress = rbm.history_["log_likelihood_before"]
    # L-BFGS steps every iteration (on the floor, the constant unit would make every step infeasible)
    assert np.all(rbm.history_["step_length"] > 0) and np.all(np.diff(progress) > 0), progress
    np.testing.assert_allclose(rbm.score_samples(X[:20]), _mixture_log_density(rbm, X[:20]), rtol=0, atol=1e-8)
    single = GaussianBernoulliRBM(**SMALL).fit(X[:1])  # one row: every feature constant, nothing to train
    assert np.all(single.components_ == 0) and np.all(single.transform(X[:3]) == 0.5)


def test_pipeline_with_logistic_regression_classifies_digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    pipeline = make_pipeline(GaussianBernoulliRBM(n_components=20, n_iter=20, random_state=0),
                             LogisticRegression(max_iter=2000))
    # One BLAS thread: two-thread OpenBLAS on a busy 2-core machine slows LogisticRegression badly.
    with threadpool_limits(limits=1):
        pipeline.fit(X[:600], y[:600])
        accuracy = pipeline.score(X[1000:1400], y[1000:1400])
    # Measured: 0.89 (n_components=50: 0.94); chance is 0.1.
    assert accuracy > 0.85, accuracy
    assert pipeline[:1].transform(X[:5]).shape == (5, 20)


def test_clone_is_unfitted_with_the_same_parameters():
    rbm = GaussianBernoulliRBM(n_components=3, method="exact", whiten=True, n_iter=4, random_state=5).fit(_data())
    copy = clone(rbm)
    assert copy.get_params() == rbm.get_params() and not hasattr(copy, "model_")
    np.testing.assert_array_equal(copy.fit(_data()).score_samples(_data()[:10]), rbm.score_samples(_data()[:10]))


@pytest.mark.parametrize("method", ["cd", "exact"])
def test_same_random_state_gives_identical_bits(method):
    X = _data()
    first = GaussianBernoulliRBM(n_components=3, n_iter=5, method=method, random_state=3).fit(X)
    second = GaussianBernoulliRBM(n_components=3, n_iter=5, method=method, random_state=3).fit(X)
    for name in ("components_", "intercept_hidden_", "intercept_visible_", "sigma_"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    np.testing.assert_array_equal(first.transform(X), second.transform(X))
    np.testing.assert_array_equal(first.score_samples(X), second.score_samples(X))
    other = GaussianBernoulliRBM(n_components=3, n_iter=5, method=method, random_state=4).fit(X)
    assert not np.array_equal(first.components_, other.components_)
    generator = GaussianBernoulliRBM(n_components=3, n_iter=5, method=method, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(generator.fit(X).components_, first.components_)  # int 3 means default_rng(3)


def test_dataframe_feature_names_become_unit_names():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(_data(), columns=["height", "weight", "age"])
    rbm = GaussianBernoulliRBM(**SMALL).fit(frame)
    assert rbm.feature_names_in_.tolist() == ["height", "weight", "age"]
    assert rbm.model_.visible_names == ("height", "weight", "age")
    out = rbm.set_output(transform="pandas").transform(frame)
    assert out.columns.tolist() == ["gaussianbernoullirbm0", "gaussianbernoullirbm1"]


def test_verbose_prints_one_line_per_pass():
    output = io.StringIO()
    with redirect_stdout(output):
        GaussianBernoulliRBM(n_components=2, n_iter=3, verbose=1, random_state=0).fit(_data())
    lines = output.getvalue().splitlines()
    assert len(lines) == 3 and lines[0].startswith("[GaussianBernoulliRBM] Iteration 1, reconstruction error = ")


# ---------------------------------------------------------------------- bad parameters and input
@pytest.mark.parametrize(
    "options",
    [
        {"n_components": 0},
        {"method": "pcd"},
        {"learning_rate": 0.0},
        {"batch_size": 0},
        {"n_iter": 0},
        {"k": 0},
        {"weight_decay": -1e-3},
        {"standardize": "yes"},
        {"whiten": 1},
        {"random_state": "seed"},
        {"verbose": "loud"},
        {"n_components": True},
        {"learning_rate": True},
        {"batch_size": True},
        {"n_iter": True},
        {"k": True},
        {"weight_decay": False},
        {"random_state": True},
        {"n_components": 21, "method": "exact"},
    ],
)
def test_bad_parameters_are_refused_at_fit_naming_them(options):
    rbm = GaussianBernoulliRBM(**options)  # scikit-learn's contract: __init__ only stores
    name = next(iter(options))
    with pytest.raises(EstimatorParameterError, match=f"'{name}' parameter") as info:
        rbm.fit(_data())
    assert isinstance(info.value, InvalidParameterError) and isinstance(info.value, ValidationError)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError):
        GaussianBernoulliRBM(n_hidden=5)


def test_bad_input_is_a_pgm_energy_error_naming_x():
    rbm = GaussianBernoulliRBM(**SMALL).fit(_data())
    nan = _data()[:5]
    nan[2, 1] = np.nan
    for method in ("fit", "transform", "score_samples"):
        with pytest.raises(ValidationError, match=rf"^X is not valid input for {method}: .*NaN"):
            getattr(rbm, method)(nan)
        with pytest.raises(ParameterTypeError, match=rf"^X is not valid input for {method}: sparse input"):
            getattr(rbm, method)(sp.csr_array(_data()[:5]))
    with pytest.raises(ValidationError, match="X has 2 features, but GaussianBernoulliRBM is expecting 3"):
        rbm.transform(np.zeros((4, 2)))
    with pytest.raises(ValidationError, match="0 sample"):
        GaussianBernoulliRBM().fit(np.zeros((0, 3)))
    with pytest.raises(ValidationError, match="whiten=True .* 1 sample"):
        GaussianBernoulliRBM(whiten=True).fit(np.ones((1, 3)))
