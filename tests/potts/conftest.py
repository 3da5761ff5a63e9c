"""Shared builders of the Potts machine tests: random machines and every joint state."""

import itertools
import sys

import numpy as np

from pgm_energy import PottsMachine

# the test modules import these helpers as ``conftest_potts`` (pytest's importlib mode has no package here)
sys.modules.setdefault("conftest_potts", sys.modules[__name__])


def random_potts(seed, cardinalities=(3, 2, 4, 3), p_edge=0.7, **options):
    g = np.random.default_rng(seed)
    n = len(cardinalities)
    couplings = {(i, j): g.normal(size=(cardinalities[i], cardinalities[j]))
                 for i, j in itertools.combinations(range(n), 2) if g.random() < p_edge}
    return PottsMachine(cardinalities, [g.normal(size=k) for k in cardinalities], couplings, **options)


def all_states(cardinalities):
    return np.array(list(itertools.product(*[range(k) for k in cardinalities])), dtype=np.int64)
