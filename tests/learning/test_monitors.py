"""Monitors: each value recomputed by an independent route (enumeration, direct formulas)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pgm_energy import RestrictedBoltzmannMachine, exact
from pgm_energy.exceptions import ParameterTypeError, ValidationError
from pgm_energy.learning.monitors import (
    ExactLogLikelihood,
    FreeEnergyGap,
    PseudoLogLikelihood,
    build_monitors,
    pseudo_log_likelihood,
)


def random_rbm(n_visible, n_hidden, seed, scale=1.0, temperature=1.0):
    rng = np.random.default_rng(seed)
    return RestrictedBoltzmannMachine(
        rng.normal(0, scale, (n_visible, n_hidden)), rng.normal(0, scale, n_visible), rng.normal(0, scale, n_hidden),
        temperature=temperature,
    )


@pytest.mark.parametrize("temperature", [1.0, 2.5])
def test_pseudo_log_likelihood_against_enumerated_conditionals(temperature):
    rbm = random_rbm(5, 3, seed=0, scale=2.0, temperature=temperature)
    data = np.random.default_rng(1).integers(0, 2, size=(7, 5))
    # log p(v_i | v_-i) from the joint p(v), itself enumerated over all hidden states
    def log_p_visible(v):
        return np.logaddexp.reduce([-rbm.energy(v, np.array(h)) / temperature for h in itertools.product((0, 1), repeat=3)])

    expected = []
    for row in data:
        total = 0.0
        for i in range(5):
            flipped = row.copy()
            flipped[i] = 1 - flipped[i]
            total += log_p_visible(row) - np.logaddexp(log_p_visible(row), log_p_visible(flipped))
        expected.append(total)
    np.testing.assert_allclose(pseudo_log_likelihood(rbm, data), expected, rtol=1e-12, atol=1e-12)


def test_pseudo_log_likelihood_equals_log_likelihood_for_independent_units():
    """With no weights the units are independent: p(v_i | v_-i) = p(v_i), so PLL = LL exactly."""
    rbm = RestrictedBoltzmannMachine(np.zeros((6, 2)), np.linspace(-2, 2, 6), np.array([0.3, -1.0]))
    data = np.random.default_rng(3).integers(0, 2, size=(10, 6))
    assert np.mean(pseudo_log_likelihood(rbm, data)) == pytest.approx(exact.log_likelihood(rbm, data), abs=1e-12)


def test_exact_log_likelihood_and_free_energy_gap_monitors():
    rbm = random_rbm(6, 4, seed=2)
    rng = np.random.default_rng(4)
    train = rng.integers(0, 2, size=(40, 6)).astype(np.float32)
    validation = rng.integers(0, 2, size=(9, 6)).astype(np.float32)
    monitors = build_monitors(["log_likelihood", "free_energy_gap", "reconstruction_error"], rbm, train, validation, seed=7)
    assert [type(m) for m in monitors] == [ExactLogLikelihood, FreeEnergyGap]
    subset = monitors[0].subset
    assert subset.shape == (9, 6)  # as many training rows as validation rows
    # the subset is made of training rows, fixed by the seed
    assert all(any(np.array_equal(row, t) for t in train) for row in subset)
    again = build_monitors(["log_likelihood"], rbm, train, validation, seed=7)[0].subset
    np.testing.assert_array_equal(subset, again)
    values = {}
    for monitor in monitors:
        values.update(monitor(rbm, 1))
    assert values["log_likelihood"] == pytest.approx(exact.log_likelihood(rbm, subset), abs=1e-12)
    assert values["validation_log_likelihood"] == pytest.approx(exact.log_likelihood(rbm, validation), abs=1e-12)
    gap = np.mean(rbm.free_energy(subset)) - np.mean(rbm.free_energy(validation))
    assert values["free_energy_gap"] == pytest.approx(gap, abs=1e-12)


def test_auto_and_errors():
    small = random_rbm(6, 4, seed=2)
    train = np.zeros((5, 6))
    assert [type(m) for m in build_monitors("auto", small, train, train, seed=0)] == [FreeEnergyGap, ExactLogLikelihood]
    assert [type(m) for m in build_monitors("auto", small, train, None, seed=0)] == [ExactLogLikelihood]
    wide = random_rbm(30, 25, seed=0)
    assert build_monitors("auto", wide, np.zeros((5, 30)), None, seed=0) == []
    assert build_monitors(None, small, train, None, seed=0) == []
    with pytest.raises(ValidationError, match="validation"):
        build_monitors(["free_energy_gap"], small, train, None, seed=0)
    pll = build_monitors([PseudoLogLikelihood()], small, train, None, seed=0)[0]
    assert set(pll(small, 1)) == {"pseudo_log_likelihood"}


def test_ais_monitor_uses_the_ais_module():
    from pgm_energy import ais
    from pgm_energy.learning.monitors import AISLogLikelihood

    rbm = random_rbm(6, 3, seed=8, scale=0.5)
    train = np.random.default_rng(0).integers(0, 2, size=(20, 6))
    monitor = build_monitors([AISLogLikelihood(n_runs=50, betas=np.linspace(0, 1, 300))], rbm, train, None, seed=3)[0]
    first, second = monitor(rbm, 4), monitor(rbm, 4)
    assert first == second  # keyed by (seed, epoch): deterministic
    assert first["ais_log_likelihood"] == pytest.approx(exact.log_likelihood(rbm, monitor.subset), abs=0.05)
    assert hasattr(ais, "estimate_log_likelihood")


def test_pseudo_log_likelihood_refuses_what_is_not_a_state_or_an_rbm():
    from pgm_energy.exceptions import ParameterTypeError, StateError

    rbm = random_rbm(2, 2, seed=0)
    with pytest.raises(StateError, match=r"data must contain only 0 and 1, got np.int64\(2\)|data must contain only 0 and 1, got 2"):
        pseudo_log_likelihood(rbm, [[2, 5]])
    with pytest.raises(StateError, match=r"data must have shape \(2,\)"):
        pseudo_log_likelihood(rbm, [[1, 0, 1]])
    with pytest.raises(ParameterTypeError, match="rbm must be a RestrictedBoltzmannMachine"):
        pseudo_log_likelihood(None, [[1, 0]])
    # one row is one sample
    np.testing.assert_array_equal(pseudo_log_likelihood(rbm, [1, 0]), pseudo_log_likelihood(rbm, [[1, 0]]))


def test_monitor_options_are_checked_at_construction_not_after_an_epoch():
    from pgm_energy.exceptions import ParameterTypeError
    from pgm_energy.learning.monitors import AISLogLikelihood

    with pytest.raises(ParameterTypeError, match="max_units"):
        ExactLogLikelihood(max_units="30")
    with pytest.raises(ValidationError, match="max_units"):
        ExactLogLikelihood(max_units=0)
    with pytest.raises(ParameterTypeError, match=r"unknown options \['n_run'\]"):
        AISLogLikelihood(n_run=10)


def test_monitor_spec_and_build_arguments_are_checked():
    import scipy.sparse as sp

    from pgm_energy.exceptions import ParameterTypeError, StateError
    from pgm_energy.learning.monitors import check_monitor_spec

    # a malformed sparse matrix is refused without iterating it (scipy would read out of bounds)
    bad = sp.csr_array((np.array([1.0, 1.0]), np.array([1, 0]), np.array([0, 7, 2, 2])), shape=(3, 3), copy=False)
    for spec in (bad, {"log_likelihood": 1}, (name for name in ["log_likelihood"]), 3):
        with pytest.raises(ParameterTypeError, match="monitor must be"):
            check_monitor_spec(spec)
    rbm = random_rbm(3, 2, seed=0)
    train = np.zeros((4, 3))
    for template in (None, "rbm", 3.0):
        with pytest.raises(ParameterTypeError, match="template"):
            build_monitors("auto", template, train, None, seed=0)
    with pytest.raises(ValidationError, match="train must be an array of shape"):
        build_monitors("auto", rbm, np.zeros((4, 2)), None, seed=0)
    with pytest.raises(StateError, match="train must contain only 0 and 1"):
        build_monitors("auto", rbm, np.full((4, 3), 0.5), None, seed=0)
    with pytest.raises(StateError, match="validation"):
        build_monitors("auto", rbm, train, np.full((2, 3), 2.0), seed=0)
    with pytest.raises(ValidationError, match="seed"):
        build_monitors("auto", rbm, train, None, seed=-1)


def test_monitors_for_rbms_name_the_template_they_refuse():
    from pgm_energy import BoltzmannMachine
    from pgm_energy.exceptions import ParameterTypeError
    from pgm_energy.learning.monitors import AISLogLikelihood

    machine = BoltzmannMachine(np.zeros((2, 2)), np.zeros(2))
    for monitor in (FreeEnergyGap(), PseudoLogLikelihood(), AISLogLikelihood()):
        with pytest.raises(ParameterTypeError, match="template must be a RestrictedBoltzmannMachine"):
            monitor.prepare(machine, np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2)), 0)
        with pytest.raises(ParameterTypeError, match="template"):
            monitor.prepare(None, np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((2, 2)), 0)


def test_measurements_check_model_epoch_and_preparation():
    from pgm_energy.exceptions import ParameterTypeError
    from pgm_energy.learning.monitors import AISLogLikelihood

    rbm = random_rbm(3, 2, seed=0)
    train = np.zeros((4, 3))
    with pytest.raises(ValidationError, match="call prepare"):
        PseudoLogLikelihood()(rbm, 1)
    for monitor in build_monitors([FreeEnergyGap(), PseudoLogLikelihood(), ExactLogLikelihood(), AISLogLikelihood(n_runs=2)],
                                  rbm, train, train, seed=0):
        with pytest.raises(ParameterTypeError, match="model must be a RestrictedBoltzmannMachine"):
            monitor(None, 1)
        with pytest.raises(TypeError, match="epoch"):
            monitor(rbm, None)
        with pytest.raises(ValidationError, match="4 visible units"):
            monitor(random_rbm(4, 2, seed=0), 1)


def test_no_monitors_for_a_model_the_monitors_do_not_measure():
    """monitor=None lets a trainer of another kind of model (a belief network) use the shared loop."""
    assert build_monitors(None, object(), np.zeros((3, 2)), None, seed=0) == []
    with pytest.raises(ParameterTypeError, match="template"):
        build_monitors("auto", object(), np.zeros((3, 2)), None, seed=0)
