"""GaussianBernoulliRBM: energies, free energies and conditionals against their definitions; checks; files."""

import io

import numpy as np
import pytest
from scipy.special import expit, logsumexp
from scipy.stats import norm

from pgm_energy.exceptions import ConversionError, ParameterTypeError, StateError, UnknownUnitError, ValidationError
from pgm_energy.models.gaussian_rbm import GaussianBernoulliRBM

from conftest_gaussian import direct_energy, hidden_states, random_gaussian_rbm


def visible_batch(model, n_states, seed=0):
    return np.random.default_rng(seed + 100).normal(0.0, 2.0, (n_states, model.n_visible))


# --------------------------------------------------------------------------- energies
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("temperature", [1.0, 0.6])
def test_energy_is_the_definition(seed, temperature):
    model = random_gaussian_rbm(seed, 4, 3, temperature=temperature)
    H = hidden_states(3)
    V = visible_batch(model, len(H), seed)
    expected = np.array([direct_energy(model, v, h) for v, h in zip(V, H)])
    np.testing.assert_allclose(model.energy(V, H), expected, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(model.unnormalized_log_probability(V, H), -expected / temperature,
                               rtol=1e-13, atol=1e-13)
    # one state gives a float; a single state is broadcast against a batch
    assert isinstance(model.energy(V[2], H[2]), float)
    assert model.energy(V[2], H[2]) == pytest.approx(expected[2], abs=1e-13)
    np.testing.assert_allclose(model.energy(V[0], H), [direct_energy(model, V[0], h) for h in H], atol=1e-13)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("temperature", [1.0, 0.5, 2.5])
def test_free_energy_sums_the_hidden_layer_out(seed, temperature):
    model = random_gaussian_rbm(seed, 3, 5, temperature=temperature)
    H = hidden_states(5)
    V = visible_batch(model, 6, seed)
    for v, free_energy in zip(V, model.free_energy(V)):
        log_mass = logsumexp([-direct_energy(model, v, h) / temperature for h in H])
        assert free_energy == pytest.approx(-temperature * log_mass, rel=1e-13, abs=1e-12)
    assert isinstance(model.free_energy(V[0]), float)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("temperature", [1.0, 1.7])
def test_hidden_probabilities_match_energy_differences(seed, temperature):
    model = random_gaussian_rbm(seed, 3, 4, temperature=temperature)
    V = visible_batch(model, 5, seed)
    probabilities = model.hidden_probabilities(V)
    assert probabilities.shape == (5, 4)
    others = hidden_states(4)[[0, 6, 11, 15]]  # the hidden units are independent given v: any context will do
    for v, p in zip(V, probabilities):
        for h in others:
            for j in range(4):
                on, off = h.copy(), h.copy()
                on[j], off[j] = 1.0, 0.0
                log_odds = -(direct_energy(model, v, on) - direct_energy(model, v, off)) / temperature
                # both tails, since the logit of a probability near 1 cannot be recovered from it
                assert p[j] == pytest.approx(expit(log_odds), rel=1e-12)
                assert 1.0 - p[j] == pytest.approx(expit(-log_odds), rel=1e-12, abs=2e-16)
    np.testing.assert_allclose(model.hidden_probabilities(V[1]), probabilities[1], rtol=1e-14)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("temperature", [1.0, 0.4, 3.0])
def test_visible_units_given_the_hidden_are_gaussian(seed, temperature):
    model = random_gaussian_rbm(seed, 3, 4, temperature=temperature)
    H = hidden_states(4)
    means = model.visible_mean(H)
    np.testing.assert_allclose(means, model.visible_bias + H @ model.weights.T, atol=1e-14)
    np.testing.assert_allclose(model.visible_std, model.sigma * np.sqrt(temperature), rtol=1e-15)
    g = np.random.default_rng(seed)
    for h, mean in zip(H, means):
        v, w = g.normal(0.0, 2.0, (2, 3))
        ratio = -(direct_energy(model, v, h) - direct_energy(model, w, h)) / temperature
        gaussian = norm.logpdf(v, mean, model.visible_std).sum() - norm.logpdf(w, mean, model.visible_std).sum()
        assert ratio == pytest.approx(gaussian, rel=1e-11, abs=1e-11)
    np.testing.assert_array_equal(model.visible_mean(H[3]), means[3])


def test_weights_of_fifty_neither_overflow_nor_lose_probabilities():
    model = random_gaussian_rbm(1, 3, 4, weight_scale=50.0)
    V = visible_batch(model, 4)
    H = hidden_states(4)
    for v, free_energy in zip(V, model.free_energy(V)):
        assert free_energy == pytest.approx(-logsumexp([-direct_energy(model, v, h) for h in H]), rel=1e-12)
    probabilities = model.hidden_probabilities(V)
    assert np.all((probabilities >= 0) & (probabilities <= 1))


# --------------------------------------------------------------------------- parameters and names
def test_parameters_names_and_temperature():
    model = GaussianBernoulliRBM(np.ones((2, 3)), [0.5, -1.0], [0.0, 1.0, 2.0], [0.5, 2.0],
                                 visible_names=["x", "y"], hidden_names=["a", "b", "c"], temperature=0.25)
    assert (model.n_visible, model.n_hidden, model.n_units) == (2, 3, 5)
    assert model.names == ("x", "y", "a", "b", "c") and model.visible_names == ("x", "y")
    assert model.hidden_names == ("a", "b", "c") and model.index("b") == 3
    np.testing.assert_allclose(model.log_sigma, np.log([0.5, 2.0]))
    np.testing.assert_allclose(model.visible_std, [0.25, 1.0])
    # sum |c| + sum_i (1 + |b_i| + sum_j |W_ij|)^2 / (2 sigma_i^2)
    assert model.energy_bound == pytest.approx(3.0 + 4.5**2 / 0.5 + 5.0**2 / 8.0)
    assert repr(model) == "GaussianBernoulliRBM(n_visible=2, n_hidden=3, temperature=0.25)"
    hot = model.with_temperature(2.0)
    assert hot.temperature == 2.0 and model.temperature == 0.25 and hot.names == model.names
    np.testing.assert_array_equal(hot.sigma, model.sigma)
    with pytest.raises(UnknownUnitError):
        model.index("z")
    with pytest.raises(ParameterTypeError):
        model.index(3)


def test_random_machines():
    model = GaussianBernoulliRBM.random(5, 3, scale=0.1, sigma=0.5, rng=4, hidden_names=["a", "b", "c"])
    assert model.weights.shape == (5, 3) and model.hidden_names == ("a", "b", "c")
    np.testing.assert_array_equal(model.sigma, np.full(5, 0.5))
    np.testing.assert_array_equal(model.visible_bias, 0.0)
    np.testing.assert_array_equal(model.weights, GaussianBernoulliRBM.random(5, 3, scale=0.1, rng=4).weights)
    assert 0.01 < model.weights.std() < 0.3
    per_unit = GaussianBernoulliRBM.random(3, 2, sigma=[1.0, 2.0, 3.0], scale=0.0)
    np.testing.assert_array_equal(per_unit.sigma, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(per_unit.weights, 0.0)
    with pytest.raises(ValidationError, match="sigma"):
        GaussianBernoulliRBM.random(3, 2, sigma=0.0)
    with pytest.raises(ValidationError, match="scale"):
        GaussianBernoulliRBM.random(3, 2, scale=-1.0)
    with pytest.raises(ValidationError, match="n_hidden"):
        GaussianBernoulliRBM.random(3, 0)


def test_the_machine_is_immutable():
    model = random_gaussian_rbm(0)
    arrays = (model.weights, model.visible_bias, model.hidden_bias, model.sigma, model.log_sigma, model.visible_std)
    for array in arrays:
        assert not array.flags.writeable
        with pytest.raises(ValueError):
            array[0] = 1.0
    with pytest.raises(AttributeError, match="immutable"):
        model._sigma = np.ones(3)
    with pytest.raises(AttributeError, match="immutable"):
        del model._weights
    # the constructor copies: changing the caller's arrays changes nothing
    sigma = np.ones(3)
    copy = GaussianBernoulliRBM(np.zeros((3, 2)), np.zeros(3), np.zeros(2), sigma)
    sigma[0] = 5.0
    assert copy.sigma[0] == 1.0


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf, -0.0])
def test_sigma_must_be_positive_and_finite(bad):
    sigma = np.array([1.0, bad, 2.0])
    with pytest.raises(ValidationError, match="sigma") as error:
        GaussianBernoulliRBM(np.zeros((3, 2)), np.zeros(3), np.zeros(2), sigma)
    assert str(bad) in str(error.value) and "index" in str(error.value)


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(sigma=[1.0, 2.0]), "sigma of length 3"),
        (dict(sigma=[[1.0, 2.0, 3.0]]), "sigma must be 1-dimensional"),
        (dict(sigma=["a", "b", "c"]), "sigma must be an array of real numbers"),
        (dict(sigma=[1.0, 1j, 1.0]), "sigma must be real"),
        (dict(sigma=[1e-80, 1.0, 1.0]), "sigma is too small"),
        (dict(weights=np.zeros(3)), "weights must be 2-dimensional"),
        (dict(weights=np.zeros((3, 0)), hidden_bias=np.zeros(0)), "at least one"),
        (dict(weights=np.full((3, 2), 1e150)), "weights is too large"),
        (dict(visible_bias=[0.0, np.nan, 0.0]), "visible_bias must be finite"),
        (dict(hidden_bias=[0.0]), "hidden_bias of length 2"),
        (dict(visible_names=["a", "a", "b"]), "visible_names must be unique"),
        (dict(visible_names=["a", "b", "c"], hidden_names=["c", "d"]), "must be unique"),
        (dict(temperature=0.0), "temperature"),
        (dict(temperature=1e-160), "temperature is too small"),
    ],
)
def test_bad_parameters_are_refused_by_name(change, match):
    arguments = dict(weights=np.ones((3, 2)), visible_bias=np.zeros(3), hidden_bias=np.zeros(2), sigma=np.ones(3))
    arguments.update(change)
    with pytest.raises(ValidationError, match=match):
        GaussianBernoulliRBM(**arguments)


def test_bad_states_are_refused_by_name():
    model = random_gaussian_rbm(0)
    h = np.zeros(4)
    with pytest.raises(StateError, match=r"visible must hold finite real numbers, got nan at index \(1,\)"):
        model.energy([0.0, np.nan, 1.0], h)
    with pytest.raises(StateError, match="visible must have shape"):
        model.free_energy(np.zeros((2, 4)))
    with pytest.raises(StateError, match="visible must be an array of real numbers"):
        model.hidden_probabilities(["1", "2", "3"])
    with pytest.raises(StateError, match="visible must be an array of real numbers"):
        model.free_energy([1.0, 2j, 0.0])
    with pytest.raises(StateError, match="hidden must contain only 0 and 1"):
        model.energy(np.zeros(3), [0, 0.5, 1, 0])
    with pytest.raises(StateError, match="hidden must have shape"):
        model.visible_mean(np.zeros(3))
    with pytest.raises(StateError, match="same number of states"):
        model.energy(np.zeros((2, 3)), np.zeros((3, 4)))
    # finite but so large that the energy overflows: named, never inf or NaN (nor a RuntimeWarning)
    with pytest.raises(StateError, match="visible\\[1\\] is too far"):
        model.free_energy([[0.0, 0.0, 0.0], [1e300, 0.0, 0.0]])
    with pytest.raises(StateError, match="visible\\[1\\] is too far"):
        model.hidden_probabilities([[0.0, 0.0, 0.0], [1e308, -1e308, 1e308]])
    probabilities = model.hidden_probabilities([1e300, 0.0, 0.0])  # large inputs, but finite: 0 or 1
    assert np.all((probabilities == 0) | (probabilities == 1))
    with pytest.raises(StateError, match="visible\\[0\\] is too far"):
        model.unnormalized_log_probability([1e300, 0.0, 0.0], h)


# --------------------------------------------------------------------------- conversions and files
def test_graph_and_markov_network():
    model = GaussianBernoulliRBM([[1.0, 0.0], [0.0, -2.0]], [0.1, 0.2], [0.3, 0.4], [1.5, 2.5])
    graph = model.graph
    assert graph.nodes["v1"] == {"bias": 0.2, "sigma": 2.5, "visible": True, "bipartite": 0}
    assert graph.nodes["h0"] == {"bias": 0.3, "visible": False, "bipartite": 1}
    assert sorted(graph.edges(data="weight")) == [("v0", "h0", 1.0), ("v1", "h1", -2.0)]
    with pytest.raises(ConversionError, match="real-valued"):
        model.to_markov_network()


def _through_npz(arrays):
    """What a model file holds after a round trip through ``np.savez`` (plain ``.npy`` members)."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}


def test_file_members_round_trip():
    model = random_gaussian_rbm(3, temperature=0.7).with_temperature(0.7)
    model = GaussianBernoulliRBM(model.weights, model.visible_bias, model.hidden_bias, model.sigma,
                                 visible_names=["a", "b", "c"], temperature=0.7)
    arrays = model._to_arrays()
    assert set(arrays) == set(GaussianBernoulliRBM._FILE_MEMBERS)
    assert GaussianBernoulliRBM._FILE_KIND == "GaussianBernoulliRBM"
    loaded = GaussianBernoulliRBM._from_arrays(_through_npz(arrays))
    for name in ("weights", "visible_bias", "hidden_bias", "sigma"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(model, name))
    assert loaded.names == model.names and loaded.temperature == 0.7
    V = visible_batch(model, 3)
    np.testing.assert_array_equal(loaded.free_energy(V), model.free_energy(V))


@pytest.mark.parametrize(
    "damage, match",
    [
        (lambda a: a.pop("sigma"), "'sigma' is missing"),
        (lambda a: a.update(extra=np.zeros(2)), "unexpected members"),
        (lambda a: a.update(sigma=np.ones((3, 1))), "'sigma' must be 1-dimensional"),
        (lambda a: a.update(sigma=np.array(["a", "b", "c"])), "'sigma' has dtype"),
        (lambda a: a.update(sigma=-np.ones(3)), "sigma must hold standard deviations > 0"),
        (lambda a: a.update(sigma=np.ones(2)), "sigma of length 3"),
        (lambda a: a.update(weights=np.ones((2, 4))), "visible_bias of length 2"),
        (lambda a: a.update(temperature=np.array([1.0])), "'temperature' must be 0-dimensional"),
        (lambda a: a.update(hidden_names=np.array([1, 2, 3, 4])), "'hidden_names' has dtype"),
        (lambda a: a.update(visible_names=np.array(["a", "b"])), "visible_names must have 3 entries"),
    ],
)
def test_damaged_file_members_are_named_errors(damage, match):
    arrays = dict(random_gaussian_rbm(0)._to_arrays())
    damage(arrays)
    with pytest.raises(ValidationError, match=match):
        GaussianBernoulliRBM._from_arrays(arrays)
