"""BoltzmannMachine.hebbian: a Hopfield memory built with Hebb's rule."""

import numpy as np
import pytest

from pgm_energy import BoltzmannMachine, StateError, ValidationError


def ising_energy(patterns_01, states_01):
    """-1/2 sigma' J sigma with J = (1/n) sum_p sigma_p sigma_p', zero diagonal, computed directly."""
    p = 2.0 * np.asarray(patterns_01, dtype=float) - 1.0
    s = 2.0 * np.asarray(states_01, dtype=float) - 1.0
    n = p.shape[1]
    energies = []
    for state in s:
        total = 0.0
        for i in range(n):
            for j in range(i + 1, n):
                total -= (p[:, i] * p[:, j]).sum() / n * state[i] * state[j]
        energies.append(total)
    return np.array(energies)


def test_energies_equal_the_hopfield_energy():
    rng = np.random.default_rng(0)
    patterns = rng.integers(0, 2, size=(3, 10))
    memory = BoltzmannMachine.hebbian(patterns)
    states = rng.integers(0, 2, size=(20, 10))
    np.testing.assert_allclose(memory.energy(states), ising_energy(patterns, states), atol=1e-12)


def test_few_random_patterns_are_fixed_points_of_zero_temperature_dynamics():
    rng = np.random.default_rng(1)
    n_units = 64
    patterns = rng.integers(0, 2, size=(3, n_units))  # 3 patterns << 0.138 n: stable with high probability
    memory = BoltzmannMachine.hebbian(patterns)
    fields = memory.local_fields(patterns)
    # at T = 0 a unit turns on iff its field is positive: every stored unit must already agree
    assert np.all((fields > 0) == (patterns == 1))


def test_negated_patterns_are_stored_too():
    patterns = np.array([[1, 0, 1, 1, 0, 0, 1, 0]])
    memory = BoltzmannMachine.hebbian(patterns)
    assert memory.energy(patterns[0]) == pytest.approx(memory.energy(1 - patterns[0]))


def test_bad_patterns_are_rejected():
    with pytest.raises(StateError, match="patterns"):
        BoltzmannMachine.hebbian([[0, 2, 1]])
    with pytest.raises(ValidationError, match="patterns"):
        BoltzmannMachine.hebbian(np.zeros((0, 4)))
