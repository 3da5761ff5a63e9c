"""PseudoLikelihood: its gradient, what it learns, and the shared loop's guarantees."""

import itertools

import numpy as np
import pandas as pd
import pytest

from pgm_energy import PottsMachine, exact
from pgm_energy.exceptions import ParameterTypeError, StateError, ValidationError
from pgm_energy.learning import PseudoLikelihood

from conftest_potts import all_states

CARDS = [3, 2, 4, 3]
EDGES = [(0, 1), (1, 2), (2, 3), (0, 3)]


def generating_machine(seed=0, temperature=1.0):
    g = np.random.default_rng(seed)
    return PottsMachine(CARDS, [g.normal(size=k) for k in CARDS],
                        {e: g.normal(size=(CARDS[e[0]], CARDS[e[1]])) for e in EDGES}, temperature=temperature,
                        state_names={"v0": ["a", "b", "c"]})


def exact_samples(model, n, seed):
    states = all_states(model.cardinalities)
    p = np.exp(model.unnormalized_log_probability(states) - exact.log_partition_function(model))
    return states[np.random.default_rng(seed).choice(len(states), size=n, p=p / p.sum())]


def log_pseudo_likelihood(model, rows):
    """The objective from its definition: conditionals through energy differences."""
    total = 0.0
    for row in rows:
        for i, k in enumerate(model.cardinalities):
            changed = np.repeat(row[None, :], k, axis=0)
            changed[:, i] = np.arange(k)
            log_weights = -model.energy(changed) / model.temperature
            total += log_weights[row[i]] - np.logaddexp.reduce(log_weights)
    return total / rows.shape[0]


def test_the_gradient_is_the_derivative_of_the_pseudo_likelihood():
    model = generating_machine(1, temperature=1.3)
    rows = exact_samples(model, 40, seed=2)
    trainer = PseudoLikelihood()
    trainer._structure = model
    parameters = np.concatenate([model.flat_fields, model.flat_couplings])
    value, gradient = trainer._gradient(parameters, rows, model)
    assert value == pytest.approx(log_pseudo_likelihood(model, rows), abs=1e-12)
    step = 1e-6
    for index in np.random.default_rng(0).choice(parameters.size, 12, replace=False):
        shifted = []
        for sign in (1, -1):
            moved = parameters.copy()
            moved[index] += sign * step
            shifted.append(trainer._model_from(type("S", (), {"parameters": moved})(), model))
        numeric = (log_pseudo_likelihood(shifted[0], rows) - log_pseudo_likelihood(shifted[1], rows)) / (2 * step)
        assert gradient[index] == pytest.approx(numeric, abs=1e-7)


def test_it_learns_the_generating_distribution():
    truth = generating_machine(0)
    data = exact_samples(truth, 20_000, seed=3)
    start = PottsMachine(CARDS, None, {e: np.zeros((CARDS[e[0]], CARDS[e[1]])) for e in EDGES},
                         state_names=truth.state_names)
    result = PseudoLikelihood(epochs=120, learning_rate=1.0, momentum=0.9, l2=0.0).fit(start, data, progress=False)
    history = result.history["pseudo_log_likelihood"]
    assert history[-1] > history[0]
    states = all_states(CARDS)
    fitted = np.exp(result.model.unnormalized_log_probability(states) - exact.log_partition_function(result.model))
    target = np.exp(truth.unnormalized_log_probability(states) - exact.log_partition_function(truth))
    # 20,000 draws over 72 states: the empirical distribution itself is ~0.02 away in total variation
    assert 0.5 * np.abs(fitted - target).sum() < 0.04
    assert exact.log_likelihood(result.model, data) > exact.log_likelihood(truth, data) - 0.01
    assert result.model.state_names == truth.state_names


def test_state_names_in_a_dataframe_read_as_the_indices():
    truth = generating_machine(0)
    data = exact_samples(truth, 200, seed=4)
    frame = pd.DataFrame({name: [truth.state_names[name][code] for code in data[:, i]]
                          for i, name in enumerate(truth.names)})[list(reversed(truth.names))]
    trainer = PseudoLikelihood(epochs=3)
    from_array = trainer.fit(truth, data, rng=0, progress=False).model
    from_frame = trainer.fit(truth, frame, rng=0, progress=False).model
    np.testing.assert_array_equal(from_array.flat_couplings, from_frame.flat_couplings)


def test_mini_batches_are_reproducible_and_resume_exactly(tmp_path):
    truth = generating_machine(0)
    data = exact_samples(truth, 500, seed=5)
    trainer = PseudoLikelihood(epochs=6, batch_size=50)
    first = trainer.fit(truth, data, rng=1, progress=False).model
    again = trainer.fit(truth, data, rng=1, progress=False).model
    np.testing.assert_array_equal(first.flat_couplings, again.flat_couplings)
    path = tmp_path / "pl.npz"
    PseudoLikelihood(epochs=3, batch_size=50, checkpoint_every=1, checkpoint_path=path).fit(
        truth, data, rng=1, progress=False)
    resumed = PseudoLikelihood(epochs=6, batch_size=50, checkpoint_every=1, checkpoint_path=tmp_path / "b.npz").fit(
        truth, data, rng=1, progress=False, resume_from=path).model
    np.testing.assert_array_equal(resumed.flat_couplings, first.flat_couplings)
    np.testing.assert_array_equal(resumed.flat_fields, first.flat_fields)


def test_bad_inputs_are_refused_by_name():
    truth = generating_machine(0)
    with pytest.raises(ParameterTypeError, match="fits a given PottsMachine"):
        PseudoLikelihood().fit(3, np.zeros((4, 4), dtype=int), progress=False)
    hidden = PottsMachine([2, 2], None, {}, visible=[True, False])
    with pytest.raises(ValidationError, match="hidden variables"):
        PseudoLikelihood().fit(hidden, np.zeros((4, 1), dtype=int), progress=False)
    with pytest.raises(StateError, match="not a state of variable 1"):
        PseudoLikelihood().fit(truth, np.array([[0, 2, 0, 0]]), progress=False)
    with pytest.raises(ValidationError, match="momentum"):
        PseudoLikelihood(momentum=1.0)
    with pytest.raises(ValidationError, match="learning_rate"):
        PseudoLikelihood(learning_rate=0.0)
