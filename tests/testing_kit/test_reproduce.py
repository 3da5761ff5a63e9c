"""A generated model's note is source that rebuilds it: a falsifying example can be pasted into a test."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pgm_energy
from pgm_energy import exact
from pgm_energy.testing import (
    boltzmann_machines,
    categorical_rbms,
    deep_belief_networks,
    deep_boltzmann_machines,
    gaussian_bernoulli_rbms,
    potts_machines,
    restricted_boltzmann_machines,
    sigmoid_belief_networks,
)
from pgm_energy.testing._reproduce import model_source

STRATEGIES = {
    "bm": boltzmann_machines(max_units=4, hidden=True, sparse=st.booleans(), names=st.sampled_from("abcdefgh")),
    "rbm": restricted_boltzmann_machines(max_visible=3, max_hidden=2, temperature=st.floats(0.5, 2.0)),
    "potts": potts_machines(max_variables=3, max_states=3, state_names=st.booleans(), hidden=True),
    "categorical": categorical_rbms(max_visible=2, max_hidden=2),
    "gaussian": gaussian_bernoulli_rbms(max_visible=2, max_hidden=2),
    "deep": deep_boltzmann_machines(max_units=2),
    "sigmoid-belief": sigmoid_belief_networks(max_units=2, temperature=st.floats(0.5, 2.0)),
    "deep-belief": deep_belief_networks(max_units=2),
}


@pytest.mark.parametrize("kind", list(STRATEGIES))
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_the_note_rebuilds_the_model(kind, data):
    model = data.draw(STRATEGIES[kind])
    rebuilt = eval(model_source(model), {"np": np, "pgm_energy": pgm_energy})
    assert type(rebuilt) is type(model) and rebuilt.names == model.names and rebuilt.temperature == model.temperature
    if kind == "gaussian":
        for name in ("weights", "visible_bias", "hidden_bias", "sigma"):
            np.testing.assert_array_equal(getattr(rebuilt, name), getattr(model, name))
        return
    if kind.endswith("belief"):
        for mine, theirs in zip((*model.weights, *model.biases), (*rebuilt.weights, *rebuilt.biases)):
            np.testing.assert_array_equal(theirs, mine)
        states = np.array(np.meshgrid(*[[0, 1]] * model.n_units)).reshape(model.n_units, -1).T
        np.testing.assert_array_equal(rebuilt.log_probability(states), model.log_probability(states))
        assert rebuilt.temperature == model.temperature
        return
    # the same distribution, exactly: the same log Z and the same energies of every state
    assert exact.log_partition_function(rebuilt) == exact.log_partition_function(model)


def test_a_failing_property_prints_the_models_source():
    @settings(max_examples=20, deadline=None, database=None)
    @given(restricted_boltzmann_machines(max_visible=2, max_hidden=1))
    def property_that_fails(rbm):
        assert abs(rbm.weights).max() < 0.5

    with pytest.raises(AssertionError) as failure:
        property_that_fails()
    # hypothesis attaches the falsifying example's notes to the error it raises
    assert "RestrictedBoltzmannMachine drawn: pgm_energy.RestrictedBoltzmannMachine(np.array(" in \
        "\n".join(getattr(failure.value, "__notes__", []))
