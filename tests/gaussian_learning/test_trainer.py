"""GaussianBernoulliCD: the gradient it follows, what it learns, sigma, its bits, resume, its errors."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pgm_energy import exact
from pgm_energy.exceptions import (
    ModelSizeError,
    ParameterTypeError,
    StateError,
    TrainingDivergedError,
    ValidationError,
)
from pgm_energy.learning.gaussian_cd import GaussianBernoulliCD, initial_gaussian_rbm
from pgm_energy.models import GaussianBernoulliRBM


# ----------------------------------------------------------------------------- helpers
def balanced_model(weights, visible_bias, sigma, seed=0):
    """A GaussianBernoulliRBM whose hidden biases cancel each unit's quadratic gain, so that no
    hidden state dominates p(h) (the quadratic term grows as W^2 / sigma^2)."""
    weights, visible_bias, sigma = (np.asarray(a, dtype=float) for a in (weights, visible_bias, sigma))
    hidden_bias = -((weights**2 + 2 * visible_bias[:, None] * weights) / (2 * sigma[:, None] ** 2)).sum(axis=0)
    return GaussianBernoulliRBM(weights, visible_bias, hidden_bias, sigma)


def ancestral_samples(model, n, seed):
    """Exact draws: h from p(h) by enumerating the hidden layer, then v | h ~ N(b + W h, sigma^2)."""
    generator = np.random.default_rng(seed)
    states = np.array(list(itertools.product([0, 1], repeat=model.n_hidden)), dtype=float)
    means = states @ model.weights.T + model.visible_bias
    # log p(h) = c.h + sum_i ((b_i + (W h)_i)^2 - b_i^2) / (2 sigma_i^2) + const
    log_p = states @ model.hidden_bias + ((means**2 - model.visible_bias**2) / (2 * model.sigma**2)).sum(axis=1)
    p = np.exp(log_p - log_p.max())
    picked = generator.choice(len(p), size=n, p=p / p.sum())
    return means[picked] + model.sigma * generator.standard_normal((n, model.n_visible))


def exact_gradient_by_differences(model, data, step=1e-5):
    """Central differences of exact.log_likelihood in W, b, c and log sigma."""
    parameters = {"weights": model.weights, "visible_bias": model.visible_bias, "hidden_bias": model.hidden_bias,
                  "log_sigma": np.log(model.sigma)}

    def log_likelihood(values):
        return exact.log_likelihood(GaussianBernoulliRBM(values["weights"], values["visible_bias"], values["hidden_bias"],
                                                         np.exp(values["log_sigma"])), data)

    gradient = {}
    for name, value in parameters.items():
        gradient[name] = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            changed = []
            for sign in (1.0, -1.0):
                values = {key: np.array(item, copy=True) for key, item in parameters.items()}
                values[name][index] += sign * step
                changed.append(log_likelihood(values))
            gradient[name][index] = (changed[0] - changed[1]) / (2 * step)
    return gradient


def tiny_model():
    return GaussianBernoulliRBM([[0.8, -0.5], [0.3, 0.9]], [0.2, -0.3], [-0.4, 0.1], [0.8, 1.2])


def one_update_trainer(k, rate):
    """Full batch, one update, no momentum, decay or averaging: the model moves by rate times the step."""
    return GaussianBernoulliCD(persistent=False, k=k, batch_size=None, epochs=1, learning_rate=rate,
                               sigma_learning_rate=rate, momentum=0.0, weight_decay=0.0, averaging=None,
                               dtype="float64", monitor=None, min_sigma=1e-10)


# ----------------------------------------------------------------------------- the gradient
def test_a_long_chain_update_follows_the_exact_gradient():
    # Data from another model, so that the gradient at tiny_model() is far from zero.
    other = balanced_model([[1.5, -1.0], [-0.5, 1.5]], [0.5, -0.5], [0.6, 0.7])
    distinct = ancestral_samples(other, 1000, seed=1)
    exact_gradient = exact_gradient_by_differences(tiny_model(), distinct)
    # CD-200 from 40 copies of each row: 40,000 chains at (practically) the model's distribution,
    # so the update is the CD-infinity update, i.e. the likelihood gradient (W, b rows times sigma^2).
    data = np.tile(distinct, (40, 1))
    rate = 1e-3
    start = tiny_model()
    moved = one_update_trainer(200, rate).fit(start, data, rng=3, progress=False).model
    sigma2 = start.sigma**2
    estimate = {
        "weights": (moved.weights - start.weights) / rate / sigma2[:, None],
        "visible_bias": (moved.visible_bias - start.visible_bias) / rate / sigma2,
        "hidden_bias": (moved.hidden_bias - start.hidden_bias) / rate,
        "log_sigma": (np.log(moved.sigma) - np.log(start.sigma)) / rate,
    }
    # Tolerance: the model term is a mean over 40,000 chains; over seeds 0-7 its standard error was at
    # most 0.0073 per component and the largest error of a run 0.013, so 0.03 is about four standard
    # errors; the exact gradient's components are 0.05 to 0.53 in magnitude.
    for name, value in exact_gradient.items():
        np.testing.assert_allclose(estimate[name], value, atol=0.03, err_msg=name)
    assert max(np.abs(value).max() for value in exact_gradient.values()) > 0.3
    # The tolerance discriminates: the W step itself (Hinton's <v h>_data - <v h>_model, without the
    # 1 / sigma^2 of the gradient) is not the gradient.
    raw = (moved.weights - start.weights) / rate
    assert np.abs(raw - exact_gradient["weights"]).max() > 0.1


# ----------------------------------------------------------------------------- learning
def structured_model():
    return balanced_model([[2.0, -1.0], [-1.5, 2.0], [1.0, 1.5], [0.5, -1.5]], [-0.5, 0.2, -1.0, 0.3],
                          [0.5, 0.7, 0.6, 0.8])


def test_learning_raises_the_exact_test_log_likelihood_to_near_the_truth():
    truth = structured_model()
    train, test = ancestral_samples(truth, 2000, seed=10), ancestral_samples(truth, 2000, seed=11)
    trainer = GaussianBernoulliCD(epochs=60, batch_size=20, learning_rate=0.05, sigma_learning_rate=0.02,
                                  weight_decay=0.0, monitor=None, dtype="float64")
    result = trainer.fit(2, train, rng=0, progress=False)
    start = initial_gaussian_rbm(2, train, rng=0)  # the diagonal Gaussian fitted to the training data
    before, after, best = (exact.log_likelihood(model, test) for model in (start, result.model, truth))
    # measured: before -6.403, after -5.033, truth -4.975 (nats per row)
    assert after > before + 1.0
    assert after > best - 0.1


def test_sigma_approaches_the_generating_sigma_on_pure_gaussians():
    # Data of a model without hidden units: independent Gaussians.
    true_sigma = np.array([0.3, 1.0, 2.5])
    true_mean = np.array([1.0, -2.0, 0.5])
    data = true_mean + true_sigma * np.random.default_rng(5).standard_normal((4000, 3))
    start = GaussianBernoulliRBM(np.full((3, 2), 0.01), np.zeros(3), np.zeros(2), np.ones(3))
    trainer = GaussianBernoulliCD(epochs=40, batch_size=50, learning_rate=0.02, sigma_learning_rate=0.02,
                                  monitor=None, dtype="float64")
    model = trainer.fit(start, data, rng=0, progress=False).model
    sample_sigma = data.std(axis=0)
    np.testing.assert_allclose(model.sigma, sample_sigma, rtol=0.05)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_learn_sigma_false_keeps_sigma_bit_for_bit(dtype):
    data = ancestral_samples(structured_model(), 300, seed=2)
    start = GaussianBernoulliRBM(np.full((4, 2), 0.1), np.zeros(4), np.zeros(2), [0.3, 1.0 / 3.0, 0.7, 1.9])
    trainer = GaussianBernoulliCD(epochs=5, learn_sigma=False, dtype=dtype, monitor="auto")
    result = trainer.fit(start, data, validation=data[:50], rng=0, progress=False)
    assert np.array_equal(result.model.sigma, start.sigma)
    assert not np.array_equal(result.model.weights, start.weights)  # it did train
    # a new model keeps the column standard deviations it starts with
    new = trainer.fit(2, data, rng=0, progress=False).model
    assert np.array_equal(new.sigma, initial_gaussian_rbm(2, np.asarray(data, dtype=dtype), rng=0).sigma)


def test_min_sigma_is_a_floor():
    data = np.random.default_rng(0).standard_normal((200, 3)) * [1.0, 1.0, 1e-4]
    model = GaussianBernoulliCD(epochs=5, min_sigma=0.05, monitor=None).fit(2, data, rng=0, progress=False).model
    assert model.sigma.min() >= 0.05 * (1 - 1e-6)
    assert model.sigma[2] == pytest.approx(0.05, rel=1e-6)


# ----------------------------------------------------------------------------- bits and resume
def run(trainer, data, **options):
    return trainer.fit(2, data, rng=7, progress=False, **options)


def assert_same_run(first, second):
    for name in ("weights", "visible_bias", "hidden_bias", "sigma"):
        assert np.array_equal(getattr(first.model, name), getattr(second.model, name)), name
    one, two = first.history.to_pandas().drop(columns="seconds"), second.history.to_pandas().drop(columns="seconds")
    assert one.equals(two)


@pytest.mark.parametrize("persistent", [True, False])
def test_the_same_seed_gives_the_same_bits(persistent):
    data = ancestral_samples(structured_model(), 200, seed=3)
    trainer = GaussianBernoulliCD(epochs=4, persistent=persistent, batch_size=15)
    first, second = run(trainer, data, validation=data[:40]), run(trainer, data, validation=data[:40])
    assert_same_run(first, second)
    other = trainer.fit(2, data, rng=8, progress=False)
    assert not np.array_equal(other.model.weights, first.model.weights)


@pytest.mark.parametrize("persistent, dtype", [(True, "float32"), (False, "float64")])
def test_checkpoint_and_resume_equal_the_uninterrupted_run(tmp_path, persistent, dtype):
    data = ancestral_samples(structured_model(), 200, seed=4)
    validation = ancestral_samples(structured_model(), 40, seed=5)
    path = tmp_path / "gaussian.ckpt.npz"

    def trainer():
        return GaussianBernoulliCD(epochs=6, persistent=persistent, batch_size=15, averaging=0.5, dtype=dtype,
                                   monitor_every=2, checkpoint_every=3, checkpoint_path=path)

    whole = run(trainer(), data, validation=validation)
    stopped = run(trainer(), data, validation=validation, callbacks=lambda epoch, model, history: epoch == 3)
    assert stopped.stop_reason == "callback" and len(stopped.history) == 3
    resumed = trainer().fit(2, data, validation=validation, rng=123, progress=False, resume_from=path)
    assert_same_run(whole, resumed)
    assert "validation_log_likelihood" in whole.history.to_pandas().columns


def test_resume_refuses_other_settings(tmp_path):
    data = ancestral_samples(structured_model(), 100, seed=4)
    path = tmp_path / "gaussian.ckpt.npz"
    GaussianBernoulliCD(epochs=2, checkpoint_every=1, checkpoint_path=path, monitor=None).fit(2, data, rng=0, progress=False)
    with pytest.raises(ValidationError, match="learn_sigma"):
        GaussianBernoulliCD(epochs=2, learn_sigma=False, monitor=None).fit(2, data, progress=False, resume_from=path)


# ----------------------------------------------------------------------------- monitors and data
def test_monitors_and_dataframes():
    pandas = pytest.importorskip("pandas")
    data = ancestral_samples(structured_model(), 200, seed=6)
    frame = pandas.DataFrame(data, columns=["a", "b", "c", "d"])
    trainer = GaussianBernoulliCD(epochs=3, persistent=True,
                                  monitor=["log_likelihood", "free_energy_gap", "reconstruction_error"])
    result = trainer.fit(2, frame, validation=frame[["d", "c", "b", "a"]].iloc[:50], rng=0, progress=False)
    history = result.history.to_pandas()
    assert {"log_likelihood", "validation_log_likelihood", "free_energy_gap", "reconstruction_error"} <= set(history.columns)
    assert result.model.visible_names == ("a", "b", "c", "d")
    log_likelihood = exact.log_likelihood(GaussianBernoulliCD(epochs=3, persistent=True, monitor=None).fit(
        2, frame, rng=0, progress=False).model, data[:50])
    assert np.isfinite(log_likelihood)
    cd = GaussianBernoulliCD(epochs=2, persistent=False, monitor=None).fit(2, data, rng=0, progress=False)
    assert list(cd.history.to_pandas().columns) == ["seconds", "reconstruction_error"]


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("options, error, match", [
    ({"learning_rate": 0.0}, ValidationError, "learning_rate"),
    ({"sigma_learning_rate": -1.0}, ValidationError, "sigma_learning_rate"),
    ({"min_sigma": 0.0}, ValidationError, "min_sigma"),
    ({"min_sigma": 1e-300}, ValidationError, "min_sigma"),
    ({"min_sigma": 1e300}, ValidationError, "min_sigma"),
    ({"learn_sigma": 1}, ParameterTypeError, "learn_sigma"),
    ({"persistent": "yes"}, ParameterTypeError, "persistent"),
    ({"persistent": False, "n_chains": 5}, ValidationError, "n_chains"),
    ({"k": 0}, ValidationError, "k"),
    ({"momentum": 1.5}, ValidationError, "momentum"),
    ({"weight_decay": float("nan")}, ValidationError, "weight_decay"),
    ({"averaging": 0.0}, ValidationError, "averaging"),
    ({"dtype": "int8"}, Exception, "dtype"),
    ({"monitor": "ais"}, ValidationError, "binary RBMs only"),
    ({"monitor": [object()]}, ParameterTypeError, "monitor"),
    ({"epochs": "forever"}, Exception, "epochs"),
])
def test_bad_options_are_named(options, error, match):
    with pytest.raises(error, match=match):
        GaussianBernoulliCD(**options)


def test_shared_monitor_objects_measure_gaussian_rbms_and_binary_only_ones_are_refused_before_training():
    from pgm_energy.learning.monitors import ExactLogLikelihood, PseudoLogLikelihood

    data = np.random.default_rng(0).standard_normal((30, 3))
    # no averaging: the model returned is the one measured after the last epoch
    result = GaussianBernoulliCD(epochs=2, averaging=None, dtype="float64", monitor=[ExactLogLikelihood(max_units=5)],
                                 monitor_every=1).fit(2, data, validation=data[:10], rng=0, progress=False)
    last = result.history.to_pandas().iloc[-1]
    assert last["validation_log_likelihood"] == pytest.approx(exact.log_likelihood(result.model, data[:10]), abs=1e-9)
    with pytest.raises(ParameterTypeError, match="RestrictedBoltzmannMachine"):
        GaussianBernoulliCD(epochs=1, monitor=[PseudoLogLikelihood()]).fit(2, data, progress=False)
    with pytest.raises(ModelSizeError, match="max_units=5"):
        GaussianBernoulliCD(epochs=1, monitor=[ExactLogLikelihood(max_units=5)]).fit(6, data, progress=False)


@pytest.mark.parametrize("bad, name", [(np.nan, "data"), (np.inf, "data"), (-np.inf, "validation")])
def test_non_finite_data_is_refused_by_name(bad, name):
    data = np.random.default_rng(0).standard_normal((20, 3))
    broken = data.copy()
    broken[4, 1] = bad
    arguments = {"data": broken, "validation": None} if name == "data" else {"data": data, "validation": broken}
    with pytest.raises(StateError, match=rf"^{name} must hold finite real numbers.*\(4, 1\)"):
        GaussianBernoulliCD(epochs=1, monitor=None).fit(2, arguments["data"], validation=arguments["validation"],
                                                        progress=False)


def test_other_bad_data_and_models():
    data = np.random.default_rng(0).standard_normal((20, 3))
    trainer = GaussianBernoulliCD(epochs=1, monitor=None)
    with pytest.raises(StateError, match=r"^data holds .* beyond 65536 .*standardise"):
        trainer.fit(2, data * 1e5, progress=False)
    GaussianBernoulliCD(epochs=1, monitor=None, dtype="float64").fit(2, data * 1e5, progress=False)  # fits float64
    with pytest.raises(ValidationError, match="data holds values up to"):
        initial_gaussian_rbm(2, data * 1e200)
    with pytest.raises(StateError, match="data must be 2-D"):
        trainer.fit(2, data[0], progress=False)
    with pytest.raises(StateError, match="real numbers"):
        trainer.fit(2, data.astype(str), progress=False)
    with pytest.raises(ValidationError, match="columns"):
        trainer.fit(GaussianBernoulliRBM.random(4, 2), data, progress=False)
    with pytest.raises(ValidationError, match="temperature"):
        trainer.fit(GaussianBernoulliRBM.random(3, 2, temperature=2.0), data, progress=False)
    with pytest.raises(ParameterTypeError, match="GaussianBernoulliRBM"):
        trainer.fit("two", data, progress=False)
    with pytest.raises(ValidationError, match="free_energy_gap"):
        GaussianBernoulliCD(epochs=1, monitor="free_energy_gap").fit(2, data, progress=False)
    with pytest.raises(ModelSizeError, match="log_likelihood"):
        GaussianBernoulliCD(epochs=1, monitor="log_likelihood").fit(31, data, progress=False)


def test_a_runaway_run_raises_with_the_last_good_model():
    data = np.random.default_rng(0).standard_normal((40, 3))
    trainer = GaussianBernoulliCD(epochs=50, learning_rate=1e6, sigma_learning_rate=1e6, monitor=None,
                                  weight_decay=0.0, dtype="float64")
    with pytest.raises(TrainingDivergedError) as caught:
        trainer.fit(2, data, rng=0, progress=False)
    assert isinstance(caught.value.model, GaussianBernoulliRBM)
