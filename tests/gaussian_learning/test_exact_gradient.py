"""The exact log-likelihood gradient of Gaussian-Bernoulli RBMs, GaussianExactGradient, and ZCA whitening."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from pgm_energy import exact
from pgm_energy.exceptions import ModelSizeError, ParameterTypeError, StateError, ValidationError
from pgm_energy.learning import _gaussian_likelihood
from pgm_energy.learning._gaussian_likelihood import hidden_moments, likelihood_gradient
from pgm_energy.learning.gaussian_exact import GaussianExactGradient, gaussian_log_likelihood_gradient
from pgm_energy.learning.whitening import Whitening
from pgm_energy.models import GaussianBernoulliRBM, RestrictedBoltzmannMachine


def random_model(n_visible, n_hidden, seed, scale=0.7):
    rng = np.random.default_rng(seed)
    return GaussianBernoulliRBM(rng.normal(0, scale, (n_visible, n_hidden)), rng.normal(size=n_visible),
                                rng.normal(size=n_hidden), np.exp(rng.normal(0, 0.3, n_visible)))


def data_for(n_rows, n_visible, seed):
    return np.random.default_rng(seed + 100).normal(size=(n_rows, n_visible))


# ----------------------------------------------------------------------------- the gradient
@pytest.mark.parametrize("n_hidden", [1, 2, 5, 9])
def test_log_z_and_log_likelihood_match_the_gray_code_enumeration(n_hidden):
    model, data = random_model(5, n_hidden, n_hidden), data_for(30, 5, n_hidden)
    gradient = gaussian_log_likelihood_gradient(model, data)
    assert gradient.log_z == pytest.approx(exact.log_partition_function(model), abs=1e-12)
    assert gradient.log_likelihood == pytest.approx(exact.log_likelihood(model, data), abs=1e-12)


def test_the_gradient_is_the_derivative_of_the_exact_log_likelihood():
    """Central differences of :func:`exact.log_likelihood` (another enumeration) in every parameter."""
    model, data = random_model(3, 4, 7), data_for(25, 3, 7)
    gradient = gaussian_log_likelihood_gradient(model, data)
    parameters = [model.weights, model.visible_bias, model.hidden_bias, np.log(model.sigma)]

    def log_likelihood(arrays):
        weights, b, c, log_sigma = arrays
        return exact.log_likelihood(GaussianBernoulliRBM(weights, b, c, np.exp(log_sigma)), data)

    step = 1e-5
    for which, analytic in enumerate(gradient[:4]):
        for index in np.ndindex(parameters[which].shape):
            arrays = [np.array(array, dtype=float) for array in parameters]
            arrays[which][index] += step
            up = log_likelihood(arrays)
            arrays[which][index] -= 2 * step
            down = log_likelihood(arrays)
            assert analytic[index] == pytest.approx((up - down) / (2 * step), abs=1e-7), (which, index)


def test_blocks_and_their_rescaling_do_not_change_the_moments(monkeypatch):
    # Large weights: the largest log-weight changes from block to block (the rescaling path).
    model = random_model(4, 8, 3, scale=6.0)
    arrays = (np.array(model.weights), np.array(model.visible_bias), np.array(model.hidden_bias), np.log(model.sigma))
    whole = hidden_moments(*arrays)
    monkeypatch.setattr(_gaussian_likelihood, "_BLOCK_ENTRIES", 16)  # one high pattern per block
    split = hidden_moments(*arrays)
    assert np.isfinite(whole[0]) and whole[0] == pytest.approx(exact.log_partition_function(model), rel=1e-13)
    assert split[0] == pytest.approx(whole[0], rel=1e-13)
    np.testing.assert_allclose(split[1], whole[1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(split[2], whole[2], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.diag(whole[2]), whole[1], rtol=1e-12)  # <h_j h_j> = <h_j>
    np.testing.assert_allclose(whole[1], exact.marginals(model)[list(model.hidden_names)].to_numpy(), rtol=1e-10)


def test_gradient_refuses_what_it_cannot_take():
    model = random_model(3, 4, 0)
    with pytest.raises(ParameterTypeError, match="model must be a GaussianBernoulliRBM"):
        gaussian_log_likelihood_gradient(RestrictedBoltzmannMachine.random(3, 4, rng=0), np.zeros((2, 3)))
    with pytest.raises(ModelSizeError, match="max_units=3"):
        gaussian_log_likelihood_gradient(model, np.zeros((2, 3)), max_units=3)
    with pytest.raises(ValidationError, match="temperature"):
        gaussian_log_likelihood_gradient(model.with_temperature(2.0), np.zeros((2, 3)))
    with pytest.raises(StateError):
        gaussian_log_likelihood_gradient(model, np.array([[0.0, np.nan, 1.0]]))
    with pytest.raises(ValidationError, match="n_samples >= 1"):
        gaussian_log_likelihood_gradient(model, np.zeros(3))


# ----------------------------------------------------------------------------- the trainer
def two_cluster_data(n, seed):
    rng = np.random.default_rng(seed)
    centres = np.array([[2.0, -1.0, 0.5, 0.0], [-1.5, 1.0, -0.5, 1.0]])
    return centres[rng.integers(0, 2, n)] + rng.normal(0, 0.4, (n, 4))


def test_lbfgs_climbs_the_exact_likelihood_to_a_stationary_point():
    data = two_cluster_data(300, 0)
    result = GaussianExactGradient(epochs=150, monitor=None).fit(2, data, rng=0, progress=False)
    history = result.history.to_pandas()
    assert (np.diff(history["objective"]) >= -1e-12).all()  # each accepted step raises J
    final = exact.log_likelihood(result.model, data)
    assert final == pytest.approx(history["objective"].iloc[-1], abs=1e-9)  # no weight decay: J is the likelihood
    assert history["gradient_norm"].iloc[-1] < 1e-3
    diagonal = np.mean(np.sum(-0.5 * ((data - data.mean(0)) / data.std(0)) ** 2 - np.log(data.std(0) * np.sqrt(2 * np.pi)), 1))
    assert final > diagonal + 1.0  # the clusters are modelled: far above the independent Gaussian


def test_momentum_steps_raise_the_likelihood_and_resume_gives_the_same_bits(tmp_path):
    data = two_cluster_data(200, 1)
    trainer = GaussianExactGradient(method="momentum", learning_rate=0.01, epochs=6, batch_size=50, monitor=None,
                                    checkpoint_every=3, checkpoint_path=tmp_path / "run.npz")
    full = trainer.fit(3, data, rng=4, progress=False)
    climb = GaussianExactGradient(method="momentum", learning_rate=0.03, epochs=100, monitor=None).fit(3, data, rng=4, progress=False)
    before = climb.history.to_pandas()["log_likelihood_before"]
    assert before.iloc[-1] > before.iloc[0] + 0.5
    three = GaussianExactGradient(method="momentum", learning_rate=0.01, epochs=6, batch_size=50, monitor=None,
                                  checkpoint_every=3, checkpoint_path=tmp_path / "half.npz")
    three.epochs = 3
    three.fit(3, data, rng=4, progress=False)
    three.epochs = 6
    resumed = three.fit(3, data, resume_from=tmp_path / "half.npz", progress=False)
    for name in ("weights", "visible_bias", "hidden_bias", "sigma"):
        np.testing.assert_array_equal(getattr(resumed.model, name), getattr(full.model, name))


@pytest.mark.parametrize("method", ["lbfgs", "momentum"])
def test_sigma_stays_at_least_min_sigma_on_a_constant_column(method):
    data = two_cluster_data(100, 2)
    data[:, 1] = 0.25  # its likelihood grows without bound as sigma_1 -> 0
    trainer = GaussianExactGradient(method=method, epochs=40, min_sigma=0.05, monitor=None, learning_rate=0.002)
    model = trainer.fit(2, data, rng=0, progress=False).model
    assert model.sigma.min() >= 0.05 * (1 - 1e-12)
    assert model.sigma[1] == pytest.approx(0.05, rel=1e-6)  # held at the floor


def test_a_constant_column_at_the_floor_does_not_stop_the_other_parameters():
    # The column's sigma sits at the floor from the start and every direction pushes it lower: the
    # projected line search keeps it there and still climbs in the other parameters.
    # (Before the projection, every trial point left the floor and the search ended at step 0.)
    # The column's precision, 1e4, makes the problem ill-conditioned: progress is slow, not stopped;
    # the scikit-learn wrapper leaves constant columns out of training for that reason.
    data = two_cluster_data(200, 7)
    data[:, 2] = 0.0
    result = GaussianExactGradient(epochs=30, min_sigma=1e-2, monitor=None).fit(2, data, rng=0, progress=False)
    history = result.history.to_pandas()
    assert (history["step_length"] > 0).all()
    assert (np.diff(history["objective"]) > 0).all()
    assert result.model.sigma[2] == pytest.approx(1e-2, rel=1e-9)


def test_a_starting_sigma_below_the_floor_is_raised_and_a_cd_model_is_continued():
    data = two_cluster_data(100, 3)
    start = GaussianBernoulliRBM(np.zeros((4, 2)), data.mean(0), np.zeros(2), np.full(4, 1e-3))
    model = GaussianExactGradient(epochs=5, min_sigma=0.1, monitor=None).fit(start, data, progress=False).model
    assert model.sigma.min() >= 0.1 * (1 - 1e-12)


def test_monitors_record_the_exact_validation_log_likelihood():
    data, validation = two_cluster_data(150, 4), two_cluster_data(60, 5)
    result = GaussianExactGradient(epochs=4, monitor_every=2).fit(2, data, validation=validation, rng=0, progress=False)
    history = result.history.to_pandas()
    assert {"log_likelihood", "validation_log_likelihood", "free_energy_gap"} <= set(history.columns)
    last = history.iloc[-1]
    assert last["validation_log_likelihood"] == pytest.approx(exact.log_likelihood(result.model, validation), abs=1e-9)


def test_a_runaway_momentum_step_is_reported_as_divergence_with_the_last_good_model():
    from pgm_energy.exceptions import TrainingDivergedError

    data = two_cluster_data(100, 2)
    data[:, 1] = 0.25
    with pytest.raises(TrainingDivergedError) as caught:
        GaussianExactGradient(method="momentum", epochs=40, learning_rate=0.05, monitor=None).fit(2, data, rng=0, progress=False)
    assert isinstance(caught.value.model, GaussianBernoulliRBM) and np.isfinite(caught.value.model.sigma).all()


def test_the_trainer_refuses_what_it_cannot_train():
    data = two_cluster_data(20, 6)
    with pytest.raises(ParameterTypeError):
        GaussianExactGradient(epochs=1).fit(RestrictedBoltzmannMachine.random(4, 2, rng=0), data, progress=False)
    with pytest.raises(ModelSizeError, match="max_units=3"):
        GaussianExactGradient(epochs=1, max_units=3).fit(4, data, progress=False)
    with pytest.raises(StateError, match="data must hold finite"):
        GaussianExactGradient(epochs=1).fit(2, np.vstack([data, [np.nan] * 4]), progress=False)
    with pytest.raises(ValidationError, match="min_sigma"):
        GaussianExactGradient(min_sigma=1e-20)
    with pytest.raises(ValidationError, match="lbfgs"):
        GaussianExactGradient(batch_size=10)


# ----------------------------------------------------------------------------- whitening
def test_whitened_gaussian_density_plus_log_det_is_the_full_covariance_gaussian():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(5, 5))
    x = rng.normal(size=(400, 5)) @ mixing + rng.normal(size=5)
    white = Whitening(regularization=1e-2).fit(x)
    y = white.transform(x)
    np.testing.assert_allclose(np.cov(y, rowvar=False, bias=True), np.eye(5) - 1e-2 * np.linalg.inv(
        np.cov(x, rowvar=False, bias=True) + 1e-2 * np.eye(5)), atol=1e-10)
    standard = -0.5 * np.sum(y * y, axis=1) - 2.5 * np.log(2 * np.pi)
    reference = multivariate_normal(x.mean(0), np.cov(x, rowvar=False, bias=True) + 1e-2 * np.eye(5)).logpdf(x)
    np.testing.assert_allclose(standard + white.log_det, reference, rtol=1e-12)
    np.testing.assert_allclose(white.inverse_transform(y), x, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(white.matrix_, white.matrix_.T)  # ZCA: symmetric


def test_whitening_refuses_bad_input():
    with pytest.raises(ValidationError, match="singular"):
        Whitening(regularization=0.0).fit(np.column_stack([np.arange(5.0), np.ones(5)]))
    with pytest.raises(ValidationError, match="not fitted"):
        Whitening().transform(np.zeros((2, 2)))
    white = Whitening().fit(np.random.default_rng(0).normal(size=(10, 3)))
    with pytest.raises(ValidationError, match="3 columns"):
        white.transform(np.zeros((2, 2)))
    with pytest.raises(StateError, match="finite"):
        white.transform(np.array([[0.0, np.inf, 0.0]]))
    with pytest.raises(StateError):
        white.transform(np.array([["a", "b", "c"]]))
    with pytest.raises(ParameterTypeError):
        white.transform(None)
    with pytest.raises(ValidationError, match="at least 2 rows"):
        Whitening().fit(np.zeros((1, 3)))
    with pytest.raises(ValidationError, match="regularization"):
        Whitening(regularization=-1.0)
