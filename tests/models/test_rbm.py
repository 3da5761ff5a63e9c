"""RestrictedBoltzmannMachine: energies, conditionals, free energy, immutability, random.

Expected values are worked out by hand in the comments or recomputed here by an
independent route (enumeration over the hidden layer, Python ``math`` with fsum).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine

# 3 visible x 2 hidden
W = np.array([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]])
VB = np.array([0.1, -0.2, 0.3])
HB = np.array([-1.0, 0.5])


def rbm(**options):
    return RestrictedBoltzmannMachine(W, VB, HB, **options)


def hand_energy(v, h):
    """-sum_ij v_i W_ij h_j - b.v - c.h in plain Python."""
    energy = 0.0
    for i in range(3):
        energy -= VB[i] * v[i]
        for j in range(2):
            energy -= W[i][j] * v[i] * h[j]
    for j in range(2):
        energy -= HB[j] * h[j]
    return energy


def log_sum_exp(values):
    top = max(values)
    return top + math.log(math.fsum(math.exp(x - top) for x in values))


STATES = [(v, h) for v in itertools.product((0, 1), repeat=3) for h in itertools.product((0, 1), repeat=2)]


# --------------------------------------------------------------------------- energies
@pytest.mark.parametrize(
    "v, h, expected",
    [
        ((0, 0, 0), (0, 0), 0.0),
        ((1, 0, 0), (1, 0), -(1.0 + 0.1 - 1.0)),  # -W00 - b0 - c0 = -0.1
        ((1, 1, 1), (1, 1), -(1.0 - 2.0 + 0.5 + 3.0) - (0.1 - 0.2 + 0.3) - (-1.0 + 0.5)),  # -2.5 - 0.2 + 0.5 = -2.2
        ((0, 0, 1), (0, 1), -(3.0 + 0.3 + 0.5)),  # -3.8
        ((1, 1, 0), (0, 1), -(-2.0) - (0.1 - 0.2) - 0.5),  # 2 + 0.1 - 0.5 = 1.6
    ],
)
def test_energy_hand_values(v, h, expected):
    value = rbm().energy(v, h)
    assert isinstance(value, float)
    assert value == pytest.approx(expected, abs=1e-15)


def test_energy_of_every_state_and_batches():
    model = rbm()
    v = np.array([s[0] for s in STATES])
    h = np.array([s[1] for s in STATES])
    energies = model.energy(v, h)
    assert energies.shape == (len(STATES),)
    np.testing.assert_allclose(energies, [hand_energy(*s) for s in STATES], atol=1e-14)


def test_single_state_broadcasts_against_a_batch():
    model = rbm()
    hidden = np.array(list(itertools.product((0, 1), repeat=2)))
    np.testing.assert_allclose(model.energy([1, 0, 1], hidden), [hand_energy((1, 0, 1), h) for h in hidden.tolist()], atol=1e-14)
    visible = np.array(list(itertools.product((0, 1), repeat=3)))
    np.testing.assert_allclose(model.energy(visible, [0, 1]), [hand_energy(v, (0, 1)) for v in visible.tolist()], atol=1e-14)


def test_energy_equals_the_boltzmann_machine_embedding():
    model = rbm(visible_names=["a", "b", "c"], hidden_names=["x", "y"], temperature=1.5)
    bm = model.to_boltzmann_machine()
    assert isinstance(bm, BoltzmannMachine)
    assert bm.names == ("a", "b", "c", "x", "y") and bm.temperature == 1.5 and bm.offset == 0.0
    np.testing.assert_array_equal(bm.visible, [True, True, True, False, False])
    expected_weights = np.zeros((5, 5))
    expected_weights[:3, 3:] = W
    expected_weights[3:, :3] = W.T
    np.testing.assert_array_equal(bm.weights, expected_weights)
    np.testing.assert_array_equal(bm.biases, np.concatenate([VB, HB]))
    for v, h in STATES:
        assert bm.energy(v + h) == pytest.approx(hand_energy(v, h), abs=1e-14)


def test_unnormalized_log_probability():
    model = rbm(temperature=0.5)
    for v, h in STATES:
        assert model.unnormalized_log_probability(v, h) == pytest.approx(-hand_energy(v, h) / 0.5, abs=1e-14)


# --------------------------------------------------------------------------- conditionals
def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


@pytest.mark.parametrize("temperature", [1.0, 0.4, 2.5])
def test_hidden_probabilities(temperature):
    model = rbm(temperature=temperature)
    # v = (1, 1, 0): c + v'W = (-1 + 1 + 0.5, 0.5 - 2 + 0) = (0.5, -1.5)
    expected = [sigmoid(0.5 / temperature), sigmoid(-1.5 / temperature)]
    np.testing.assert_allclose(model.hidden_probabilities([1, 1, 0]), expected, rtol=1e-14)


@pytest.mark.parametrize("temperature", [1.0, 0.4, 2.5])
def test_visible_probabilities(temperature):
    model = rbm(temperature=temperature)
    # h = (1, 1): b + W h = (0.1 + 1 - 2, -0.2 + 0.5, 0.3 + 3) = (-0.9, 0.3, 3.3)
    expected = [sigmoid(-0.9 / temperature), sigmoid(0.3 / temperature), sigmoid(3.3 / temperature)]
    np.testing.assert_allclose(model.visible_probabilities([1, 1]), expected, rtol=1e-14)


def test_conditionals_agree_with_energies_and_are_batched():
    """p(h_j = 1 | v) from energies alone: the layers are conditionally independent."""
    model = rbm(temperature=0.7)
    visible = np.array(list(itertools.product((0, 1), repeat=3)))
    batch = model.hidden_probabilities(visible)
    assert batch.shape == (8, 2)
    for row, v in zip(batch, visible.tolist()):
        for j in range(2):
            on = [0, 0]
            on[j] = 1
            # the other hidden unit cancels between on and off
            a, b = -hand_energy(v, on) / 0.7, -hand_energy(v, (0, 0)) / 0.7
            assert row[j] == pytest.approx(1.0 / (1.0 + math.exp(b - a)), rel=1e-13)
    hidden = np.array(list(itertools.product((0, 1), repeat=2)))
    assert model.visible_probabilities(hidden).shape == (4, 3)


# --------------------------------------------------------------------------- free energy
def free_energy_by_enumeration(v, weights, b, c, temperature):
    """F_T(v) = -T log sum_h exp(-E(v, h)/T) with E summed with fsum, over all hidden states."""
    n_hidden = len(c)
    v_w = [math.fsum(v[i] * weights[i][j] for i in range(len(v))) for j in range(n_hidden)]
    b_v = math.fsum(b[i] * v[i] for i in range(len(v)))
    terms = []
    for h in itertools.product((0, 1), repeat=n_hidden):
        minus_energy = b_v + math.fsum(h[j] * (v_w[j] + c[j]) for j in range(n_hidden))
        terms.append(minus_energy / temperature)
    return -temperature * log_sum_exp(terms)


@pytest.mark.parametrize("temperature", [1.0, 0.3, 4.0])
def test_free_energy_by_enumeration_over_hidden(temperature):
    model = rbm(temperature=temperature)
    visible = np.array(list(itertools.product((0, 1), repeat=3)))
    got = model.free_energy(visible)
    assert got.shape == (8,)
    expected = [free_energy_by_enumeration(v, W.tolist(), VB, HB, temperature) for v in visible.tolist()]
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-13)
    single = model.free_energy([1, 0, 1])
    assert isinstance(single, float) and single == pytest.approx(expected[5], rel=1e-13)


def test_free_energy_hand_value():
    # v = (0, 0, 0): F = -(softplus(-1) + softplus(0.5)) = -(log(1 + e^-1) + log(1 + e^0.5))
    expected = -(math.log1p(math.exp(-1.0)) + math.log1p(math.exp(0.5)))
    assert rbm().free_energy([0, 0, 0]) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_free_energy_with_weights_of_50(sign):
    """Pre-activations of +-150: exp() of them overflows or underflows, log space must not."""
    n_visible, n_hidden = 3, 4
    weights = np.full((n_visible, n_hidden), 50.0 * sign)
    model = RestrictedBoltzmannMachine(weights, np.full(n_visible, 50.0), np.zeros(n_hidden))
    got = model.free_energy([1, 1, 1])
    # each hidden pre-activation is 150*sign; softplus(150) = 150 + log1p(e^-150), softplus(-150) = log1p(e^-150)
    softplus = 150.0 + math.log1p(math.exp(-150.0)) if sign > 0 else math.log1p(math.exp(-150.0))
    expected = -150.0 - n_hidden * softplus
    assert np.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-15)
    if sign < 0:
        # -150 - 4 e^-150: the tiny term is lost in float64 but nothing is NaN or inf
        assert got == -150.0
    assert got == pytest.approx(free_energy_by_enumeration([1, 1, 1], weights.tolist(), [50.0] * 3, [0.0] * 4, 1.0), rel=1e-15)


def test_free_energy_mixed_weights_of_50_at_low_temperature():
    rng = np.random.default_rng(7)
    weights = rng.choice([-50.0, 50.0], size=(6, 5))
    b, c = rng.choice([-50.0, 50.0], size=6), rng.choice([-50.0, 50.0], size=5)
    model = RestrictedBoltzmannMachine(weights, b, c, temperature=0.1)  # pre-activations up to +-3500
    visible = np.array(list(itertools.product((0, 1), repeat=6)))
    got = model.free_energy(visible)
    assert np.all(np.isfinite(got))
    expected = [free_energy_by_enumeration(v, weights.tolist(), b.tolist(), c.tolist(), 0.1) for v in visible.tolist()]
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-12)


def test_free_energy_with_10000_visible_units():
    rng = np.random.default_rng(8)
    n_visible, n_hidden = 10_000, 3
    weights = rng.normal(0.0, 0.3, size=(n_visible, n_hidden))
    b, c = rng.normal(0.1, 1.0, size=n_visible), rng.normal(0.0, 1.0, size=n_hidden)
    model = RestrictedBoltzmannMachine(weights, b, c, temperature=1.3)
    data = rng.integers(0, 2, size=(3, n_visible))
    got = model.free_energy(data)
    assert np.all(np.isfinite(got))
    w_list, b_list, c_list = weights.tolist(), b.tolist(), c.tolist()
    for value, v in zip(got, data.tolist()):
        expected = free_energy_by_enumeration(v, w_list, b_list, c_list, 1.3)
        assert abs(expected) > 100  # a large free energy, summed over 10,000 terms
        assert value == pytest.approx(expected, rel=1e-12)


def test_free_energy_is_temperature_scaled():
    """F_T of the model at T equals T * F_1 of the model with W/T, b/T, c/T."""
    hot = rbm(temperature=3.0)
    scaled = RestrictedBoltzmannMachine(W / 3.0, VB / 3.0, HB / 3.0)
    visible = np.array(list(itertools.product((0, 1), repeat=3)))
    np.testing.assert_allclose(hot.free_energy(visible), 3.0 * scaled.free_energy(visible), rtol=1e-14)


# --------------------------------------------------------------------------- immutability and copies
def test_parameter_arrays_are_read_only():
    model = rbm()
    for array in (model.weights, model.visible_bias, model.hidden_bias):
        assert not array.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1.0


def test_input_arrays_are_copied():
    weights, b, c = W.copy(), VB.copy(), HB.copy()
    model = RestrictedBoltzmannMachine(weights, b, c)
    weights[0, 0] = b[0] = c[0] = 100.0
    assert model.weights[0, 0] == 1.0 and model.visible_bias[0] == 0.1 and model.hidden_bias[0] == -1.0


@pytest.mark.parametrize("attribute", ["weights", "visible_bias", "hidden_bias", "temperature", "_weights", "anything"])
def test_attribute_assignment_raises(attribute):
    model = rbm()
    with pytest.raises(AttributeError):
        setattr(model, attribute, 1.0)
    assert model.energy([1, 1, 1], [1, 1]) == pytest.approx(-2.2)


def test_with_temperature_returns_a_changed_copy():
    model = rbm(visible_names=["a", "b", "c"], hidden_names=["x", "y"])
    cold = model.with_temperature(0.25)
    assert cold is not model and model.temperature == 1.0 and cold.temperature == 0.25
    assert cold.visible_names == ("a", "b", "c") and cold.hidden_names == ("x", "y")
    np.testing.assert_array_equal(cold.weights, W)
    np.testing.assert_array_equal(cold.visible_bias, VB)
    np.testing.assert_array_equal(cold.hidden_bias, HB)
    # v = (1, 1, 0): c + v'W = (0.5, -1.5)
    np.testing.assert_allclose(cold.hidden_probabilities([1, 1, 0]), [sigmoid(2.0), sigmoid(-6.0)], rtol=1e-14)


# --------------------------------------------------------------------------- names, repr
def test_default_and_custom_names():
    model = rbm()
    assert model.names == ("v0", "v1", "v2", "h0", "h1")
    assert model.visible_names == ("v0", "v1", "v2") and model.hidden_names == ("h0", "h1")
    assert model.n_visible == 3 and model.n_hidden == 2 and model.n_units == 5
    named = rbm(visible_names=["p", "q", "r"], hidden_names=["cause"] + ["other"])
    assert named.names == ("p", "q", "r", "cause", "other")
    assert named.index("cause") == 3
    with pytest.raises(KeyError):
        named.index("v0")


def test_repr():
    text = repr(rbm(temperature=2.0))
    assert text.startswith("RestrictedBoltzmannMachine(")
    for part in ("n_visible=3", "n_hidden=2", "temperature=2"):
        assert part in text


# --------------------------------------------------------------------------- random
def test_random_is_reproducible_with_an_int_seed():
    a = RestrictedBoltzmannMachine.random(20, 7, rng=123)
    b = RestrictedBoltzmannMachine.random(20, 7, rng=123)
    np.testing.assert_array_equal(a.weights, b.weights)
    c = RestrictedBoltzmannMachine.random(20, 7, rng=124)
    assert not np.array_equal(a.weights, c.weights)


def test_random_is_reproducible_with_generators_in_the_same_state():
    a = RestrictedBoltzmannMachine.random(20, 7, rng=np.random.default_rng(5))
    b = RestrictedBoltzmannMachine.random(20, 7, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.weights, b.weights)


def test_random_advances_a_shared_generator():
    generator = np.random.default_rng(9)
    first = RestrictedBoltzmannMachine.random(10, 4, rng=generator)
    second = RestrictedBoltzmannMachine.random(10, 4, rng=generator)
    assert not np.array_equal(first.weights, second.weights)


def test_random_does_not_touch_the_global_numpy_rng():
    np.random.seed(0)
    expected = np.random.random()
    np.random.seed(0)
    RestrictedBoltzmannMachine.random(50, 10, rng=None)
    RestrictedBoltzmannMachine.random(50, 10, rng=3)
    assert np.random.random() == expected


def test_random_distribution_and_options():
    model = RestrictedBoltzmannMachine.random(
        400, 250, scale=0.05, rng=11, visible_names=[f"x{i}" for i in range(400)], temperature=2.0
    )
    assert model.weights.shape == (400, 250)
    # 100,000 draws of N(0, 0.05^2): the sample std is within 1 % with overwhelming probability
    assert model.weights.std() == pytest.approx(0.05, rel=0.01)
    assert abs(model.weights.mean()) < 5 * 0.05 / math.sqrt(100_000)
    np.testing.assert_array_equal(model.visible_bias, np.zeros(400))
    np.testing.assert_array_equal(model.hidden_bias, np.zeros(250))
    assert model.visible_names[0] == "x0" and model.hidden_names[0] == "h0" and model.temperature == 2.0


def test_random_with_zero_scale_has_zero_weights():
    model = RestrictedBoltzmannMachine.random(4, 3, scale=0.0, rng=1)
    np.testing.assert_array_equal(model.weights, np.zeros((4, 3)))
    np.testing.assert_allclose(model.hidden_probabilities([1, 0, 1, 1]), [0.5, 0.5, 0.5])
