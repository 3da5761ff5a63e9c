"""The invariant checks accept correct code and catch the typical mistakes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from pgm_energy import BoltzmannMachine, PottsMachine, RestrictedBoltzmannMachine
from pgm_energy.exceptions import ParameterTypeError, ValidationError
from pgm_energy.testing import (
    DistributionMismatch,
    boltzmann_machines,
    check_conditionals,
    check_conversion,
    check_log_probability,
    check_temperature_scaling,
)


def machine():
    g = np.random.default_rng(0)
    w = np.triu(g.normal(0, 0.8, (4, 4)), 1)
    return BoltzmannMachine(w + w.T, g.normal(0, 0.5, 4), temperature=1.5)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@settings(max_examples=15, deadline=None)
@given(boltzmann_machines(max_units=4))
def test_correct_code_passes_on_generated_machines(model):
    def log_unnormalised(state):  # -E / T written out: s.W.s / 2 + b.s, divided by T (up to the offset)
        return (0.5 * state @ np.asarray(model.weights.toarray() if hasattr(model.weights, "toarray")
                                         else model.weights) @ state + model.biases @ state) / model.temperature

    check_log_probability(model, log_unnormalised)

    def conditional(state, unit):
        weights = model.weights.toarray() if hasattr(model.weights, "toarray") else np.asarray(model.weights)
        field = weights[unit] @ state - weights[unit, unit] * state[unit] + model.biases[unit]
        p = sigmoid(field / model.temperature)
        return [1 - p, p]

    check_conditionals(model, conditional)


def test_a_wrong_log_probability_and_a_wrong_conditional_are_caught():
    model = machine()
    with pytest.raises(DistributionMismatch, match="not -E/T plus a constant"):
        check_log_probability(model, lambda s: 0.5 * s @ model.weights @ s + model.biases @ s)  # forgot T
    with pytest.raises(DistributionMismatch, match="conditional at state"):
        check_conditionals(model, lambda s, i: [1 - sigmoid(model.weights[i] @ s + model.biases[i]),
                                                 sigmoid(model.weights[i] @ s + model.biases[i])])  # forgot T


def test_the_packages_conversions_pass_and_a_broken_one_is_caught():
    model = machine()
    check_conversion(model, model.to_markov_network())
    rbm = RestrictedBoltzmannMachine.random(3, 2, scale=0.7, rng=1)
    check_conversion(rbm, rbm.to_markov_network())
    potts = PottsMachine([3, 2, 3], None, {(0, 1): np.array([[0.5, -0.2], [0.1, 0.3], [-0.4, 0.2]]),
                                           (1, 2): np.array([[0.3, 0.0, -0.5], [0.2, 0.4, 0.1]])})
    check_conversion(potts, potts.to_markov_network())
    broken = model.to_markov_network()
    factor = broken.get_factors()[0]
    factor.values = factor.values[::-1].copy()  # a conversion that swaps a factor's states
    with pytest.raises(DistributionMismatch, match="the network's p"):
        check_conversion(model, broken)


def test_temperature_scaling_holds_for_both_constructions_and_catches_an_unscaled_bias():
    model = machine()  # at T = 1.5
    check_temperature_scaling(model, model.with_temperature)
    check_temperature_scaling(model, lambda t: BoltzmannMachine(model.weights / t, model.biases / t),
                              temperatures=[0.4, 1.0, 3.0])  # parameters over T, at temperature 1
    with pytest.raises(DistributionMismatch, match=r"at_temperature\(0.5\) is not the model at T = 0.5"):
        check_temperature_scaling(model, lambda t: BoltzmannMachine(model.weights / t, model.biases))
    rbm = RestrictedBoltzmannMachine.random(3, 2, scale=0.9, rng=2)
    check_temperature_scaling(rbm, lambda t: RestrictedBoltzmannMachine(rbm.weights / t, rbm.visible_bias / t,
                                                                        rbm.hidden_bias / t))
    with pytest.raises(ParameterTypeError, match="must return a RestrictedBoltzmannMachine"):
        check_temperature_scaling(rbm, lambda t: model)
    with pytest.raises(ValidationError, match="temperatures"):
        check_temperature_scaling(model, model.with_temperature, temperatures=[0.0])


def test_a_bayesian_network_is_checked_too():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.models import DiscreteBayesianNetwork

    model = BoltzmannMachine(np.zeros((2, 2)), np.array([0.3, -0.7]))  # uncoupled: a network without edges
    on = sigmoid(np.array([0.3, -0.7]))
    network = DiscreteBayesianNetwork()
    network.add_nodes_from(model.names)
    network.add_cpds(*[TabularCPD(name, 2, [[1 - p], [p]]) for name, p in zip(model.names, on)])
    check_conversion(model, network)
    network.get_cpds("v1").values = network.get_cpds("v1").values[::-1].copy()
    with pytest.raises(DistributionMismatch, match="v1"):
        check_conversion(model, network)


def test_bad_arguments_are_named():
    with pytest.raises(ParameterTypeError, match="log_unnormalised"):
        check_log_probability(machine(), 3)
    with pytest.raises(ValidationError, match="max_units"):
        check_conditionals(machine(), lambda s, i: [0.5, 0.5], max_units=2)
    with pytest.raises(ParameterTypeError, match="model"):
        check_log_probability("bm", lambda s: 0.0)
    with pytest.raises(ParameterTypeError, match="log_unnormalised must return a real number"):
        check_log_probability(machine(), lambda s: None)
    with pytest.raises(ParameterTypeError, match="conditional must return finite probabilities"):
        check_conditionals(machine(), lambda s, i: [np.nan, 1.0])
    with pytest.raises(ParameterTypeError, match="network"):
        check_conversion(machine(), "network.bif")
    with pytest.raises(ValidationError, match="atol"):
        check_log_probability(machine(), lambda s: 0.0, atol=0.0)
