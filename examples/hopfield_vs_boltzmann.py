"""The three problems of binary Hopfield networks, and how stochastic units escape them.

A Hopfield network is a Boltzmann machine at temperature zero: each unit turns on
when its local field is positive, so the energy never increases and the state
slides into the nearest minimum. The seed lists three problems:

1. bad efficiency: only about 0.14 patterns per unit can be stored;
2. spurious states: mixtures of stored patterns are minima too;
3. no escape: once in a wrong minimum, zero-temperature dynamics stay there.

Stochastic units at T > 0 can climb out of shallow minima; annealing T down to 0
lets the state settle in a deep one. Every number below is measured.

Run: python examples/hopfield_vs_boltzmann.py
"""

import numpy as np

from pgm_energy import BoltzmannMachine
from pgm_energy.samplers import SimulatedAnnealingSampler
from pgm_energy.schedules import geometric

rng = np.random.default_rng(2024)
N_UNITS = 100


def recall(memory, starts, seed):
    """Zero-temperature asynchronous dynamics from each start state."""
    return SimulatedAnnealingSampler(schedule=np.zeros(20)).sample(
        memory, len(starts), initial_states=starts, rng=seed
    ).states[:, 0, :]


print("1. Efficiency: recall of stored patterns, starting from each pattern with 10% of its bits flipped")
print(f"   {'patterns':>8s} {'per unit':>9s} {'recalled exactly':>17s} {'bits wrong':>11s}")
for n_patterns in (5, 10, 14, 20, 30):
    patterns = rng.integers(0, 2, size=(n_patterns, N_UNITS))
    memory = BoltzmannMachine.hebbian(patterns)
    noisy = patterns ^ (rng.random(patterns.shape) < 0.10)
    final = recall(memory, noisy, seed=n_patterns)
    exact = np.mean(np.all(final == patterns, axis=1))
    wrong = np.mean(final != patterns)
    print(f"   {n_patterns:8d} {n_patterns / N_UNITS:9.2f} {exact:17.0%} {wrong:11.1%}")

print("\n2. Spurious states: the majority vote of three stored patterns")
patterns = rng.integers(0, 2, size=(3, N_UNITS))
memory = BoltzmannMachine.hebbian(patterns)
mixture = (patterns.sum(axis=0) >= 2).astype(np.uint8)
settled = recall(memory, mixture[None, :], seed=1)[0]
overlap = [np.mean(settled == p) for p in patterns]
print(f"   after zero-temperature dynamics the mixture agrees with the patterns on "
      f"{', '.join(f'{o:.0%}' for o in overlap)} of the units: it is a minimum of its own")
print(f"   energies: stored patterns {np.round(memory.energy(patterns), 2)}, "
      f"the spurious state {memory.energy(settled):.2f}")

print("\n3. Escape: 100 runs started in the spurious state")
starts = np.repeat(settled[None, :], 100, axis=0)
stuck = recall(memory, starts, seed=2)
stuck_at_pattern = np.mean([any(np.array_equal(s, p) for p in patterns) for s in stuck])
schedule = np.concatenate([geometric(3.0, 0.05, 400), np.zeros(10)])
annealed = SimulatedAnnealingSampler(schedule=schedule).sample(memory, 100, initial_states=starts, rng=3)
final = annealed.states[:, 0, :]
found = np.mean([any(np.array_equal(s, p) or np.array_equal(s, 1 - p) for p in patterns) for s in final])
print(f"   zero temperature (Hopfield):      reach a stored pattern in {stuck_at_pattern:4.0%} of runs, "
      f"mean energy {memory.energy(stuck).mean():.2f}")
print(f"   annealed from T = 3 to 0 (Boltzmann): reach a stored pattern (or its negation) in {found:4.0%} of runs, "
      f"mean energy {annealed.energies.mean():.2f}")
