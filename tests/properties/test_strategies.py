"""The public strategies of pgm_energy.testing draw what they promise and reject bad parameters."""

import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine, ValidationError
from pgm_energy.testing import (
    binary_states,
    boltzmann_machines,
    evidence,
    hidden_states,
    restricted_boltzmann_machines,
    temperatures,
    visible_states,
)

TINY = np.finfo(np.float64).tiny


def _normal_or_zero(values):
    values = np.abs(np.asarray(values, dtype=np.float64))
    return bool(np.all((values == 0) | (values >= TINY)))


@given(
    st.integers(1, 6).flatmap(lambda low: st.tuples(st.just(low), st.integers(low, 7))),
    st.sampled_from([0.0, 0.5, 3.0]),
    st.data(),
)
def test_boltzmann_machines_respect_their_parameters(bounds, scale, data):
    low, high = bounds
    bm = data.draw(
        boltzmann_machines(min_units=low, max_units=high, weight_scale=scale, bias_scale=2 * scale, sparse=st.booleans())
    )
    assert isinstance(bm, BoltzmannMachine)
    assert low <= bm.n_units <= high
    weights = bm.dense_weights()
    assert np.array_equal(weights, weights.T) and np.all(np.diagonal(weights) == 0)
    assert np.all(np.abs(weights) <= scale) and np.all(np.abs(bm.biases) <= 2 * scale)
    assert _normal_or_zero(weights) and _normal_or_zero(bm.biases)
    assert bm.temperature == 1.0 and bm.offset == 0.0


@settings(max_examples=20)
@given(
    boltzmann_machines(hidden=False, sparse=True, temperature=2.5, offset=-1.5, complete=True),
    boltzmann_machines(temperature=temperatures(min_value=0.5, max_value=2.0), offset=st.floats(-3, 3)),
)
def test_boltzmann_machine_options(fixed, drawn):
    assert fixed.is_sparse and bool(np.all(fixed.visible))
    assert fixed.temperature == 2.5 and fixed.offset == -1.5
    assert 0.5 <= drawn.temperature <= 2.0 and -3 <= drawn.offset <= 3


def test_boltzmann_machines_draw_hidden_units_edges_and_both_storages():
    """Guard: over a run the strategy reaches hidden units, edges, empty graphs and both storages."""
    seen = set()

    @settings(max_examples=80, database=None)
    @given(boltzmann_machines(sparse=st.booleans()))
    def look(bm):
        seen.add("hidden" if bm.n_hidden else "all visible")
        seen.add("edges" if bm.n_edges else "no edges")
        seen.add("sparse" if bm.is_sparse else "dense")

    look()
    assert seen == {"hidden", "all visible", "edges", "no edges", "sparse", "dense"}


_NAME_CHARACTERS = st.characters(exclude_characters="\x00")  # NUL is refused in unit names


@given(
    boltzmann_machines(names=st.text(_NAME_CHARACTERS, min_size=1, max_size=3)),
    restricted_boltzmann_machines(names=st.text(_NAME_CHARACTERS, min_size=1)),
)
def test_drawn_names_are_unique_non_empty_strings(bm, rbm):
    for model in (bm, rbm):
        assert len(set(model.names)) == model.n_units
        assert all(isinstance(name, str) and name for name in model.names)


@given(
    restricted_boltzmann_machines(min_visible=2, max_visible=4, min_hidden=3, max_hidden=3, weight_scale=1.0, bias_scale=0.25),
)
def test_rbms_respect_their_parameters(rbm):
    assert isinstance(rbm, RestrictedBoltzmannMachine)
    assert 2 <= rbm.n_visible <= 4 and rbm.n_hidden == 3
    assert np.all(np.abs(rbm.weights) <= 1.0)
    assert np.all(np.abs(rbm.visible_bias) <= 0.25) and np.all(np.abs(rbm.hidden_bias) <= 0.25)
    assert _normal_or_zero(rbm.weights) and rbm.temperature == 1.0


@given(st.one_of(boltzmann_machines(), restricted_boltzmann_machines()), st.data())
def test_state_strategies_have_the_right_shapes(model, data):
    single = data.draw(binary_states(model))
    assert single.dtype == np.uint8 and single.shape == (model.n_units,)
    assert set(np.unique(single).tolist()) <= {0, 1}
    rows = data.draw(st.integers(0, 4))
    batch = data.draw(binary_states(model, batch=rows))
    assert batch.shape == (rows, model.n_units) and set(np.unique(batch).tolist()) <= {0, 1}
    drawn_rows = data.draw(visible_states(model, batch=st.integers(1, 3)))
    assert drawn_rows.dtype == np.uint8 and 1 <= drawn_rows.shape[0] <= 3 and drawn_rows.shape[1] == model.n_visible
    assert data.draw(hidden_states(model)).shape == (model.n_hidden,)
    assert data.draw(binary_states(5)).shape == (5,)


@given(st.one_of(boltzmann_machines(), restricted_boltzmann_machines()), st.data())
def test_evidence_names_real_variables_with_binary_values(model, data):
    observed = data.draw(evidence(model))
    assert set(observed) <= set(model.names)
    assert all(type(value) is int and value in (0, 1) for value in observed.values())
    restricted = data.draw(evidence(model, variables=model.hidden_names, min_size=min(1, model.n_hidden)))
    assert set(restricted) <= set(model.hidden_names)
    assert len(restricted) >= min(1, model.n_hidden)
    exact_size = data.draw(evidence(model, min_size=1, max_size=1))
    assert len(exact_size) == 1


@pytest.mark.parametrize(
    ("factory", "kwargs", "error", "message"),
    [
        (boltzmann_machines, {"min_units": 0}, ValidationError, "min_units"),
        (boltzmann_machines, {"min_units": 5, "max_units": 3}, ValidationError, "max_units"),
        (boltzmann_machines, {"max_units": 2.5}, TypeError, "max_units"),
        (boltzmann_machines, {"weight_scale": -1.0}, ValidationError, "weight_scale"),
        (boltzmann_machines, {"weight_scale": math.nan}, ValidationError, "weight_scale"),
        (boltzmann_machines, {"weight_scale": math.inf}, ValidationError, "weight_scale"),
        (boltzmann_machines, {"weight_scale": 1e-310}, ValidationError, "weight_scale"),
        (boltzmann_machines, {"bias_scale": -2.0}, ValidationError, "bias_scale"),
        (boltzmann_machines, {"temperature": 0.0}, ValidationError, "temperature"),
        (boltzmann_machines, {"temperature": -1.0}, ValidationError, "temperature"),
        (boltzmann_machines, {"temperature": "hot"}, TypeError, "temperature"),
        (boltzmann_machines, {"offset": math.inf}, ValidationError, "offset"),
        (boltzmann_machines, {"sparse": "yes"}, TypeError, "sparse"),
        (boltzmann_machines, {"hidden": 1}, TypeError, "hidden"),
        (boltzmann_machines, {"names": ["a", "b"]}, TypeError, "names"),
        (boltzmann_machines, {"max_unit": 3}, TypeError, "max_unit"),
        (restricted_boltzmann_machines, {"min_hidden": 0}, ValidationError, "min_hidden"),
        (restricted_boltzmann_machines, {"min_visible": 3, "max_visible": 2}, ValidationError, "max_visible"),
        (restricted_boltzmann_machines, {"weight_scale": -0.5}, ValidationError, "weight_scale"),
        (restricted_boltzmann_machines, {"temperature": math.nan}, ValidationError, "temperature"),
        (temperatures, {"min_value": 0.0}, ValidationError, "min_value"),
        (temperatures, {"min_value": 2.0, "max_value": 1.0}, ValidationError, "max_value"),
    ],
)
def test_bad_parameters_are_rejected_when_the_strategy_is_built(factory, kwargs, error, message):
    with pytest.raises(error, match=message):
        factory(**kwargs)


def test_bad_model_and_evidence_parameters():
    bm = BoltzmannMachine(np.zeros((2, 2)), [0.0, 0.0])
    with pytest.raises(TypeError, match="model"):
        binary_states("not a model")
    with pytest.raises(ValidationError, match="batch"):
        binary_states(bm, batch=-1)
    with pytest.raises(ValidationError, match="'x'"):
        evidence(bm, variables=["v0", "x"])
    with pytest.raises(ValidationError, match="repeat"):
        evidence(bm, variables=["v0", "v0"])
    with pytest.raises(ValidationError, match="min_size"):
        evidence(bm, min_size=3)
    with pytest.raises(ValidationError, match="max_size"):
        evidence(bm, min_size=2, max_size=1)
    with pytest.raises(TypeError, match="model"):
        evidence(3)


def test_a_strategy_drawing_bad_values_fails_loudly():
    @settings(max_examples=5, database=None)
    @given(boltzmann_machines(temperature=st.just(-1.0)))
    def draw(bm):
        pass

    with pytest.raises(ValidationError, match="temperature"):
        draw()


def test_sparse_storage_is_csr():
    @settings(max_examples=10, database=None)
    @given(boltzmann_machines(sparse=True))
    def check(bm):
        assert isinstance(bm.weights, sp.csr_array)

    check()


def test_importing_the_package_does_not_import_hypothesis():
    code = "import sys, pgm_energy; assert 'hypothesis' not in sys.modules; import pgm_energy.testing; assert 'hypothesis' in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_scales_whose_models_the_constructors_refuse_are_refused_up_front():
    from pgm_energy.exceptions import ValidationError
    from pgm_energy.testing import strategies as strategies_module

    with pytest.raises(ValidationError, match="weight_scale=1e\\+300.*MAX_ENERGY_SCALE"):
        strategies_module.boltzmann_machines(weight_scale=1e300)
    with pytest.raises(ValidationError, match="weight_scale=1e\\+149"):
        strategies_module.restricted_boltzmann_machines(weight_scale=1e149)
    strategies_module.boltzmann_machines(weight_scale=1e100)  # within the budget: fine
