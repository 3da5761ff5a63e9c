"""pgm_energy.sklearn.BernoulliRBM: scikit-learn's contract, a true log-likelihood, strict input."""

from __future__ import annotations

import io
import itertools
import pickle
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, logsumexp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import check_estimator
from threadpoolctl import threadpool_limits

from pgm_energy import ModelSizeError, TrainingDivergedError, ValidationError, exact
from pgm_energy.datasets import load_digits
from pgm_energy.sklearn import BernoulliRBM, EstimatorParameterError

OUT_OF_RANGE_MESSAGE = "X must hold values in [0, 1]"


@pytest.fixture(scope="module")
def digits():
    return load_digits(binarize=True, test_size=0.2, rng=0)


# ---------------------------------------------------------------------- check_estimator
def _caused_by(exception, kind, message) -> bool:
    """True when ``exception`` or an exception it was raised from is a ``kind`` whose message starts with ``message``."""
    seen = set()
    while exception is not None and id(exception) not in seen:
        seen.add(id(exception))
        if isinstance(exception, kind) and str(exception).startswith(message):
            return True
        exception = exception.__cause__ or exception.__context__
    return False


def _run_checks(estimator):
    results = check_estimator(estimator, on_fail=None, on_skip=None)
    statuses = {result["status"] for result in results}
    assert statuses <= {"passed", "failed", "skipped"}, statuses  # nothing marked as expected to fail
    # The only skip allowed is environmental: array-API checks need SCIPY_ARRAY_API=1 at import.
    skipped = [r for r in results if r["status"] == "skipped"]
    assert all(r["check_name"] == "check_array_api_input" for r in skipped), _summary(skipped)
    return [r for r in results if r["status"] != "skipped"]


def _summary(results) -> str:
    return "\n".join(f"{r['check_name']}: {r['status']}: {type(r['exception']).__name__}: {r['exception']}" for r in results)


def test_check_estimator_passes_every_check_when_clipping_and_binarizing():
    estimator = BernoulliRBM(n_components=3, n_iter=3, batch_size=5, out_of_range="clip", binarize=0.5, random_state=0)
    results = _run_checks(estimator)
    not_passed = [r for r in results if r["status"] != "passed"]
    assert not not_passed, _summary(not_passed)
    assert len(results) > 40  # the whole suite ran


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
        "check_estimators_partial_fit_n_features",
    ],
)
def test_scikit_learns_extra_checks_pass(check):
    import sklearn.utils.estimator_checks as estimator_checks

    estimator = BernoulliRBM(n_components=3, n_iter=3, batch_size=5, out_of_range="clip", binarize=0.5, random_state=0)
    with warnings.catch_warnings():
        # The pandas-output checks mix fits with and without feature names on purpose.
        warnings.filterwarnings("ignore", message=".*feature names", category=UserWarning)
        getattr(estimator_checks, check)("BernoulliRBM", estimator)


def test_check_estimator_passes_every_check_with_the_defaults():
    """The defaults pass every check scikit-learn's own BernoulliRBM passes, and the two it fails.

    Measured with scikit-learn 1.9.1: its BernoulliRBM passes 42 of 45 checks (fails
    check_methods_sample_order_invariance and check_methods_subset_invariance, its score_samples
    being random; check_array_api_input is skipped), ours with the defaults 44 of 45 (same skip).
    """
    results = _run_checks(BernoulliRBM(n_components=3, n_iter=3, batch_size=5, random_state=0))
    not_passed = [r for r in results if r["status"] != "passed"]
    assert not not_passed, _summary(not_passed)
    assert len(results) > 40


def test_check_estimator_with_out_of_range_error_fails_only_on_its_documented_refusal():
    estimator = BernoulliRBM(n_components=3, n_iter=3, batch_size=5, random_state=0, out_of_range="error")
    results = _run_checks(estimator)
    failed = [r for r in results if r["status"] == "failed"]
    unexplained = [r for r in failed if not _caused_by(r["exception"], ValidationError, OUT_OF_RANGE_MESSAGE)]
    assert not unexplained, _summary(unexplained)
    assert failed, "expected scikit-learn's out-of-range test data to be refused"


# ---------------------------------------------------------------------- pipeline
def test_pipeline_with_logistic_regression_classifies_digits(digits):
    def accuracy(n_iter):
        pipeline = Pipeline(
            [
                ("rbm", BernoulliRBM(n_components=100, learning_rate=0.05, n_iter=n_iter, random_state=0)),
                ("logistic", LogisticRegression(C=10.0, max_iter=2000)),
            ]
        )
        # One BLAS thread: two-thread OpenBLAS on a busy 2-core machine slows LogisticRegression 40x.
        with threadpool_limits(limits=1):
            pipeline.fit(digits.train, digits.train_target)
            return pipeline.score(digits.test, digits.test_target), pipeline

    trained, pipeline = accuracy(20)
    untrained, _ = accuracy(0)
    # Measured on this split: trained 0.93, untrained (random N(0, 0.01^2) features) 0.82; logistic
    # regression on the raw pixels 0.93 and scikit-learn's BernoulliRBM in the same pipeline
    # 0.925-0.958 over random_state 0-2 (benchmarks/bench_sklearn_pipeline.py).
    assert trained >= 0.90, trained
    assert trained >= untrained + 0.05, (trained, untrained)
    assert pipeline.named_steps["rbm"].get_feature_names_out()[:2].tolist() == ["bernoullirbm0", "bernoullirbm1"]


def test_documented_pipeline_with_min_max_scaler_scores_grey_digits():
    """MinMaxScaler -> BernoulliRBM -> LogisticRegression on grey digits, 80/20: the scaled test pixels
    reach 1.07 (beyond what the scaler saw); the default clips them, so `score` works."""
    from sklearn.preprocessing import MinMaxScaler

    split = load_digits(binarize=False, test_size=0.2, rng=0)
    pipeline = Pipeline(
        [
            ("scale", MinMaxScaler()),
            ("rbm", BernoulliRBM(n_components=100, learning_rate=0.05, n_iter=20, random_state=0)),
            ("logistic", LogisticRegression(C=10.0, max_iter=1000)),
        ]
    )
    with threadpool_limits(limits=1):
        pipeline.fit(split.train, split.train_target)
        assert pipeline[:1].transform(split.test).max() > 1.0  # the case this test is about
        accuracy = pipeline.score(split.test, split.test_target)
    assert accuracy > 0.9, accuracy
    scores = pipeline[:2].score_samples(split.test)  # grey levels are scored too (see score_samples)
    assert scores.shape == (360,) and np.all(np.isfinite(scores)) and np.all(scores < 0)


# ---------------------------------------------------------------------- the log-likelihood
def _exact_log_marginal(model, visible):
    """log p(v) by summing exact.log_probability of (v, h) over every hidden state h."""
    hidden = np.array(list(itertools.product((0, 1), repeat=model.n_hidden)), dtype=np.float64)
    values = []
    for v in visible:
        states = np.hstack([np.broadcast_to(v, (hidden.shape[0], v.shape[0])), hidden])
        values.append(logsumexp(exact.log_probability(model, states)))
    return np.array(values)


def test_score_samples_is_the_exact_log_likelihood(digits):
    rbm = BernoulliRBM(n_components=6, learning_rate=0.05, n_iter=5, random_state=0).fit(digits.train)
    rows = digits.test[:25]
    scores = rbm.score_samples(rows)
    assert scores.dtype == np.float64 and scores.shape == (25,)
    np.testing.assert_allclose(scores, _exact_log_marginal(rbm.model_, rows.astype(np.float64)), rtol=0, atol=1e-9)
    assert np.mean(rbm.score_samples(digits.test)) == pytest.approx(
        exact.log_likelihood(rbm.model_, digits.test), abs=1e-9
    )


def test_score_samples_with_ais_is_close_to_exact_and_deterministic(digits):
    features = digits.train[:, 20:42]  # 22 pixels, 21 hidden units: "auto" picks AIS
    options = dict(n_components=21, learning_rate=0.05, n_iter=5, random_state=1, ais_runs=50, ais_steps=2000)
    rbm = BernoulliRBM(**options).fit(features)
    scores = rbm.score_samples(features[:40])
    assert np.array_equal(scores, rbm.score_samples(features[:40]))  # cached log Z
    again = BernoulliRBM(**options).fit(features)
    assert np.array_equal(scores, again.score_samples(features[:40]))  # seeded by random_state
    exact_scores = BernoulliRBM(**options, log_z="exact").fit(features).score_samples(features[:40])
    # Issue 4's AIS accuracy target: within 0.1 nats of the exact value.
    np.testing.assert_allclose(scores, exact_scores, rtol=0, atol=0.1)
    assert not np.array_equal(scores, exact_scores)  # the AIS path did run


def test_score_samples_follows_further_training(digits):
    rbm = BernoulliRBM(n_components=5, n_iter=2, random_state=0).fit(digits.train)
    rows = digits.test[:20]
    before = rbm.score_samples(rows)
    rbm.partial_fit(digits.train)
    after = rbm.score_samples(rows)
    np.testing.assert_allclose(after, _exact_log_marginal(rbm.model_, rows.astype(np.float64)), atol=1e-9)
    assert not np.allclose(before, after)


def test_training_raises_the_exact_log_likelihood(digits):
    rbm = BernoulliRBM(n_components=10, learning_rate=0.05, n_iter=1, random_state=0)
    first = rbm.fit(digits.train).score_samples(digits.test).mean()
    for _ in range(9):
        rbm.partial_fit(digits.train)
    later = rbm.score_samples(digits.test).mean()
    independent_pixels = digits.train.mean(axis=0).clip(1e-3, 1 - 1e-3)
    baseline = np.mean(np.log(np.where(digits.test == 1, independent_pixels, 1 - independent_pixels)).sum(axis=1))
    assert later > first + 1.0, (first, later)
    assert later > baseline, (later, baseline)


def test_exact_is_refused_beyond_the_enumeration_limit():
    X = np.random.default_rng(0).integers(0, 2, size=(20, 31)).astype(float)
    rbm = BernoulliRBM(n_components=31, n_iter=1, random_state=0, log_z="exact").fit(X)
    with pytest.raises(ModelSizeError):
        rbm.score_samples(X)


# ---------------------------------------------------------------------- what the estimator exposes
def test_attributes_and_model_agree(digits):
    rbm = BernoulliRBM(n_components=7, n_iter=2, batch_size=12, random_state=0).fit(digits.train)
    assert rbm.components_.shape == (7, 64)
    assert rbm.intercept_hidden_.shape == (7,) and rbm.intercept_visible_.shape == (64,)
    assert rbm.h_samples_.shape == (12, 7) and set(np.unique(rbm.h_samples_)) <= {0.0, 1.0}
    assert rbm.n_features_in_ == 64
    model = rbm.model_
    np.testing.assert_array_equal(model.weights, rbm.components_.T)
    np.testing.assert_array_equal(model.visible_bias, rbm.intercept_visible_)
    np.testing.assert_array_equal(model.hidden_bias, rbm.intercept_hidden_)
    np.testing.assert_allclose(rbm.transform(digits.test), model.hidden_probabilities(digits.test), atol=1e-12)
    assert rbm.history_["reconstruction_error"].shape == (2,)
    rbm.components_[0, 0] += 1.0  # in-place edits reach the model, as with scikit-learn's arrays
    assert rbm.model_.weights[0, 0] == model.weights[0, 0] + 1.0


def test_unfitted_attributes_are_absent():
    rbm = BernoulliRBM()
    for name in ("components_", "intercept_hidden_", "intercept_visible_", "model_", "h_samples_"):
        assert not hasattr(rbm, name)


def test_initialisation_is_scikit_learns(digits):
    rbm = BernoulliRBM(n_components=50, n_iter=0, random_state=0).fit(digits.train)
    assert np.all(rbm.intercept_hidden_ == 0) and np.all(rbm.intercept_visible_ == 0)
    assert abs(rbm.components_.std() - 0.01) < 0.001 and abs(rbm.components_.mean()) < 0.001


def test_partial_fit_passes_reproduce_fit(digits):
    options = dict(n_components=8, n_iter=3, random_state=0, momentum=0.5, weight_decay=1e-4)
    fitted = BernoulliRBM(**options).fit(digits.train)
    streamed = BernoulliRBM(**options)
    for _ in range(3):
        streamed.partial_fit(digits.train)
    np.testing.assert_array_equal(fitted.components_, streamed.components_)
    np.testing.assert_array_equal(fitted.intercept_visible_, streamed.intercept_visible_)
    np.testing.assert_array_equal(fitted.intercept_hidden_, streamed.intercept_hidden_)


def test_partial_fit_refuses_changed_structure(digits):
    rbm = BernoulliRBM(n_components=4, random_state=0).partial_fit(digits.train[:50])
    rbm.set_params(persistent=False)
    with pytest.raises(ValidationError, match="persistent"):
        rbm.partial_fit(digits.train[:50])
    rbm.set_params(persistent=True, batch_size=40)  # more rows per batch: more random streams, same chains
    rbm.partial_fit(digits.train[:100])
    assert rbm.h_samples_.shape == (10, 4)


def test_float32_is_preserved_and_float64_is_the_default(digits):
    X32 = digits.train.astype(np.float32)
    rbm32 = BernoulliRBM(n_components=5, n_iter=2, random_state=0).fit(X32)
    assert rbm32.components_.dtype == np.float32 and rbm32.transform(X32).dtype == np.float32
    assert rbm32.model_.weights.dtype == np.float64
    rbm64 = BernoulliRBM(n_components=5, n_iter=2, random_state=0).fit(digits.train)  # uint8 input
    assert rbm64.components_.dtype == np.float64
    forced = BernoulliRBM(n_components=5, n_iter=2, random_state=0, dtype="float32").fit(digits.train)
    assert forced.components_.dtype == np.float32
    np.testing.assert_allclose(forced.components_, rbm64.components_, atol=1e-3)


def test_dataframe_feature_names_become_unit_names(digits):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(digits.train[:, :10], columns=[f"pixel{i}" for i in range(10)])
    rbm = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(frame)
    assert rbm.feature_names_in_.tolist() == list(frame.columns)
    assert rbm.model_.visible_names == tuple(frame.columns)
    assert rbm.set_output(transform="pandas").transform(frame).columns.tolist() == ["bernoullirbm0", "bernoullirbm1", "bernoullirbm2"]


def test_sparse_input_trains_like_dense(digits):
    dense = BernoulliRBM(n_components=6, n_iter=2, random_state=0).fit(digits.train)
    sparse = BernoulliRBM(n_components=6, n_iter=2, random_state=0).fit(sp.csr_array(digits.train.astype(float)))
    np.testing.assert_array_equal(dense.components_, sparse.components_)
    np.testing.assert_allclose(sparse.transform(sp.csr_array(digits.test.astype(float))), dense.transform(digits.test))
    np.testing.assert_allclose(sparse.score_samples(sp.csr_matrix(digits.test.astype(float))), dense.score_samples(digits.test))


def test_bernoulli_means_are_accepted_for_training_and_transform():
    grey = load_digits(binarize=False).data / 16.0  # grey levels in [0, 1], as after MinMaxScaler
    rbm = BernoulliRBM(n_components=10, n_iter=2, random_state=0).fit(grey)
    assert rbm.transform(grey).shape == (grey.shape[0], 10)
    assert np.all(np.isfinite(rbm.score_samples(grey)))  # score_samples accepts what fit accepts
    binarized = BernoulliRBM(n_components=10, n_iter=2, random_state=0, binarize=0.5).fit(grey)
    np.testing.assert_array_equal(binarized.score_samples(grey), binarized.score_samples((grey > 0.5).astype(float)))


def test_gibbs_step_matches_the_exact_one_step_distribution():
    rbm = BernoulliRBM(n_components=3, n_iter=0, random_state=0).fit(np.zeros((4, 4)))
    rng = np.random.default_rng(1)
    rbm.components_[...] = rng.normal(0.0, 1.5, size=(3, 4))
    rbm.intercept_visible_[...] = rng.normal(0.0, 1.0, size=4)
    rbm.intercept_hidden_[...] = rng.normal(0.0, 1.0, size=3)
    v = np.array([1.0, 0.0, 1.0, 1.0])
    # E[v'_i | v] = sum_h p(h | v) p(v'_i = 1 | h), by enumerating the 8 hidden states.
    p_h = expit(v @ rbm.components_.T + rbm.intercept_hidden_)
    expected = np.zeros(4)
    for h in itertools.product((0, 1), repeat=3):
        h = np.array(h, dtype=float)
        weight = np.prod(np.where(h == 1, p_h, 1 - p_h))
        expected += weight * expit(rbm.components_.T @ h + rbm.intercept_visible_)
    n = 20000
    samples = rbm.gibbs(np.tile(v, (n, 1)))
    assert samples.dtype == np.bool_ and samples.shape == (n, 4)
    standard_error = np.sqrt(expected * (1 - expected) / n)
    # 5 standard errors per unit: a false failure about once in 10**6 runs.
    np.testing.assert_array_less(np.abs(samples.mean(axis=0) - expected), 5 * standard_error)
    assert not np.array_equal(samples, rbm.gibbs(np.tile(v, (n, 1))))  # the stream moves on


def test_same_random_state_same_results_and_clone_is_unfitted(digits):
    first = BernoulliRBM(n_components=5, n_iter=2, random_state=3).fit(digits.train)
    second = BernoulliRBM(n_components=5, n_iter=2, random_state=3).fit(digits.train)
    np.testing.assert_array_equal(first.components_, second.components_)
    np.testing.assert_array_equal(first.gibbs(digits.test), second.gibbs(digits.test))
    other = BernoulliRBM(n_components=5, n_iter=2, random_state=4).fit(digits.train)
    assert not np.array_equal(first.components_, other.components_)
    assert not hasattr(clone(first), "components_")
    # scikit-learn's RandomState and NumPy's Generator are accepted too, and advanced by fit.
    state = np.random.RandomState(0)
    assert not np.array_equal(
        BernoulliRBM(n_components=5, n_iter=1, random_state=state).fit(digits.train).components_,
        BernoulliRBM(n_components=5, n_iter=1, random_state=state).fit(digits.train).components_,
    )
    from_generator = BernoulliRBM(n_components=5, n_iter=2, random_state=np.random.default_rng(3)).fit(digits.train)
    np.testing.assert_array_equal(from_generator.components_, first.components_)  # int 3 means default_rng(3)


def test_pickle_round_trip_keeps_training_state(digits):
    rbm = BernoulliRBM(n_components=5, n_iter=1, random_state=0).fit(digits.train)
    copy = pickle.loads(pickle.dumps(rbm))
    np.testing.assert_array_equal(copy.score_samples(digits.test), rbm.score_samples(digits.test))
    rbm.partial_fit(digits.train)
    copy.partial_fit(digits.train)
    np.testing.assert_array_equal(copy.components_, rbm.components_)


def test_verbose_prints_one_line_per_pass(digits):
    output = io.StringIO()
    with redirect_stdout(output):
        BernoulliRBM(n_components=4, n_iter=3, verbose=1, random_state=0).fit(digits.train)
    lines = output.getvalue().splitlines()
    assert len(lines) == 3 and lines[0].startswith("[BernoulliRBM] Iteration 1, reconstruction error = ")


# ---------------------------------------------------------------------- bad input
def test_values_outside_the_unit_interval_are_refused_with_their_position():
    X = np.zeros((5, 3))
    X[2, 1] = 1.5
    with pytest.raises(ValidationError, match=r"got 1\.5 at row 2, column 1 in fit.*out_of_range='clip'"):
        BernoulliRBM(n_components=2, out_of_range="error").fit(X)
    sparse = sp.csr_array(np.where(np.arange(15).reshape(5, 3) == 13, -0.25, 0.0))
    with pytest.raises(ValidationError, match=r"got -0\.25 at row 4, column 1 in partial_fit"):
        BernoulliRBM(n_components=2, out_of_range="error").partial_fit(sparse)
    rbm = BernoulliRBM(n_components=2, n_iter=1, random_state=0, out_of_range="error").fit(np.zeros((5, 3)))
    for method in ("transform", "gibbs", "score_samples", "partial_fit"):
        with pytest.raises(ValidationError, match=rf"got 1\.5 at row 2, column 1 in {method}"):
            getattr(rbm, method)(X)


def test_clip_is_the_default():
    X = np.array([[0.0, 1.02], [-0.01, 0.5]])
    rbm = BernoulliRBM(n_components=2, n_iter=1, random_state=0).fit(X)
    np.testing.assert_array_equal(rbm.transform(X), rbm.transform(np.clip(X, 0, 1)))
    np.testing.assert_array_equal(rbm.score_samples(X), rbm.score_samples(np.clip(X, 0, 1)))
    assert X[0, 1] == 1.02  # the caller's array is untouched


def test_score_samples_of_grey_rows_is_a_lower_bound_on_the_expected_log_likelihood():
    """For x in [0, 1]: -F(x) - log Z <= E[log p(v)] with v_i ~ Bernoulli(x_i) (enumerated), equal at 0/1."""
    rbm = BernoulliRBM(n_components=2, n_iter=0, random_state=0).fit(np.eye(3))
    rng = np.random.default_rng(5)
    rbm.components_[...] = rng.normal(0.0, 2.0, size=(2, 3))
    rbm.intercept_visible_[...] = rng.normal(0.0, 1.0, size=3)
    rbm.intercept_hidden_[...] = rng.normal(0.0, 1.0, size=2)
    states = np.array(list(itertools.product((0.0, 1.0), repeat=3)))
    log_p = _exact_log_marginal(rbm.model_, states)
    grey = np.array([[0.2, 0.5, 0.9], [1.0, 0.0, 0.5], [0.0, 1.0, 1.0]])
    scores = rbm.score_samples(grey)
    for x, score in zip(grey, scores):
        weights = np.prod(np.where(states == 1.0, x, 1.0 - x), axis=1)
        assert score <= weights @ log_p + 1e-12
    assert scores[2] == pytest.approx(log_p[3], abs=1e-12)  # a binary row: exactly log p(v)


@pytest.mark.parametrize(
    "options",
    [
        {"n_components": 0},
        {"learning_rate": 0.0},
        {"batch_size": 0},
        {"n_iter": -1},
        {"k": 0},
        {"persistent": "yes"},
        {"momentum": 1.0},
        {"weight_decay": -1e-3},
        {"dtype": "float16"},
        {"out_of_range": "ignore"},
        {"binarize": 1.0},
        {"log_z": "sampled"},
        {"ais_runs": 1},
        {"ais_steps": 0},
        {"random_state": "seed"},
    ],
)
def test_bad_parameters_are_refused_at_fit(options):
    rbm = BernoulliRBM(**options)  # scikit-learn's contract: __init__ only stores
    name = next(iter(options))
    for method in ("fit", "partial_fit"):
        with pytest.raises(EstimatorParameterError, match=f"'{name}' parameter") as info:
            getattr(rbm, method)(np.eye(3))
        assert isinstance(info.value, InvalidParameterError) and isinstance(info.value, ValidationError)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError):
        BernoulliRBM(n_hidden=5)


def test_wrong_feature_count_nan_and_empty_input_are_refused():
    rbm = BernoulliRBM(n_components=2, n_iter=1, random_state=0).fit(np.eye(3))
    with pytest.raises(ValueError, match="3 features"):
        rbm.transform(np.eye(4))
    with pytest.raises(ValueError, match="NaN"):
        BernoulliRBM().fit(np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="0 sample"):
        BernoulliRBM().fit(np.zeros((0, 3)))


def test_divergence_keeps_the_last_finite_parameters(monkeypatch):
    from pgm_energy.learning import _cd_engine

    X = np.tile([[1.0, 0.0, 1.0, 0.0]], (20, 1))
    rbm = BernoulliRBM(n_components=3, n_iter=1, random_state=0).fit(X)
    before = rbm.components_.copy()

    real_epoch = _cd_engine.cd_epoch

    def diverging_epoch(state, *args, **kwargs):
        """The real epoch, then a NaN in the weights: what an exploding update leaves behind."""
        error = real_epoch(state, *args, **kwargs)
        state.weights[0, 0] = np.nan
        return error

    monkeypatch.setattr(_cd_engine, "cd_epoch", diverging_epoch)
    with pytest.raises(TrainingDivergedError, match="pass 2") as info:
        rbm.partial_fit(X)
    np.testing.assert_array_equal(rbm.components_, before)
    np.testing.assert_array_equal(info.value.model.weights, before.T)
    assert info.value.epoch == 2 and len(info.value.history) == 1
    assert np.all(rbm.transform(X) >= 0)  # still usable


def test_malformed_sparse_input_is_refused_before_scipy_reads_it():
    bad_index = sp.csr_array((np.array([1.0, 1, 1, 1]), np.array([1, 0, 1002, 1]), np.array([0, 1, 3, 4])), shape=(3, 3), copy=False)
    bad_indptr = sp.csr_array((np.array([1.0, 1.0]), np.array([1, 0]), np.array([0, 7, 2, 2])), shape=(3, 3), copy=False)
    rbm = BernoulliRBM(n_components=2, n_iter=1, random_state=0).fit(np.eye(3))
    for bad in (bad_index, bad_indptr):
        with pytest.raises(ValidationError, match="X"):
            BernoulliRBM(n_components=2).fit(bad)
        for method in ("transform", "score_samples", "partial_fit"):
            with pytest.raises(ValidationError, match="X"):
                getattr(rbm, method)(bad)
        with pytest.raises(ValidationError, match="v"):
            rbm.gibbs(bad)


@pytest.mark.parametrize("name", ["n_components", "batch_size", "n_iter", "k", "random_state"])
def test_booleans_are_not_integers(name):
    with pytest.raises(EstimatorParameterError, match=f"'{name}' parameter"):
        BernoulliRBM(**{name: True}).fit(np.eye(3))


@pytest.mark.parametrize("options, match", [({"n_components": 10**12}, "n_components="), ({"batch_size": 10**12}, "batch_size="),
                                            ({"batch_size": 2**63}, "batch_size=")])
def test_sizes_no_machine_holds_are_refused_naming_them(options, match):
    with pytest.raises(ModelSizeError, match=match):
        BernoulliRBM(**options).fit(np.eye(3))


def test_finite_runaway_training_is_divergence():
    X = np.tile(np.eye(3), (4, 1))
    with pytest.raises(TrainingDivergedError, match="learning_rate=1e[+]?308") as info:
        BernoulliRBM(n_components=2, learning_rate=1e308, n_iter=2, random_state=0).fit(X)
    assert np.all(np.abs(info.value.model.weights) < 1e6)


@pytest.mark.parametrize("junk", [None, "junk", [[0, 1], [1]], np.zeros((2, 3, 1)), {"a": 1}, np.array([[np.nan, 0, 1]])])
def test_junk_input_is_a_pgm_energy_error_naming_it(junk):
    from pgm_energy import PGMEnergyError

    rbm = BernoulliRBM(n_components=2, n_iter=1, random_state=0).fit(np.eye(3))
    for method, name in (("transform", "X"), ("score_samples", "X"), ("gibbs", "v"), ("partial_fit", "X")):
        with pytest.raises(PGMEnergyError, match=rf"^{name} is not valid input for {method}"):
            getattr(rbm, method)(junk)
