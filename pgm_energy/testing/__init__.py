"""A testing kit for code built on pgm_energy: hypothesis strategies (binary, Potts, categorical,
Gaussian-Bernoulli and deep models) and statistical asserts with declared error rates
(:mod:`pgm_energy.testing.asserts`).

Importing this module imports hypothesis (``pip install hypothesis``);
``import pgm_energy`` alone never does.

Examples
--------
>>> import numpy as np
>>> from hypothesis import given, settings, strategies as st
>>> from pgm_energy.testing import binary_states, boltzmann_machines
>>> @settings(max_examples=10)
... @given(boltzmann_machines(max_units=4), st.data())
... def test_energy_is_finite(bm, data):
...     assert np.isfinite(bm.energy(data.draw(binary_states(bm))))
>>> test_energy_is_finite()
"""

try:
    import hypothesis  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "pgm_energy.testing needs hypothesis; install it with `pip install hypothesis` "
        "(or `pip install pgm-energy[test]`)"
    ) from error

from .categorical_strategies import (
    categorical_evidence,
    categorical_rbms,
    categorical_states,
    gaussian_bernoulli_rbms,
    potts_machines,
    real_states,
)
from .asserts import (
    DistributionMismatch,
    GoodnessOfFit,
    TooFewSamples,
    assert_marginals_match,
    assert_same_distribution,
    assert_samples_match,
    joint_frequencies,
    total_variation,
)
from .deep_strategies import deep_belief_networks, deep_boltzmann_machines, sigmoid_belief_networks
from .invariants import check_conditionals, check_conversion, check_log_probability, check_temperature_scaling
from .pgmpy_strategies import discrete_bayesian_networks, discrete_markov_networks, pgmpy_evidence
from .strategies import (
    binary_states,
    boltzmann_machines,
    evidence,
    hidden_states,
    restricted_boltzmann_machines,
    temperatures,
    visible_states,
)

__all__ = [
    "boltzmann_machines",
    "restricted_boltzmann_machines",
    "binary_states",
    "visible_states",
    "hidden_states",
    "evidence",
    "temperatures",
    "potts_machines",
    "categorical_rbms",
    "gaussian_bernoulli_rbms",
    "categorical_states",
    "real_states",
    "categorical_evidence",
    "deep_boltzmann_machines",
    "sigmoid_belief_networks",
    "deep_belief_networks",
    "discrete_bayesian_networks",
    "discrete_markov_networks",
    "pgmpy_evidence",
    "assert_samples_match",
    "assert_marginals_match",
    "assert_same_distribution",
    "DistributionMismatch",
    "GoodnessOfFit",
    "joint_frequencies",
    "total_variation",
    "check_log_probability",
    "check_conditionals",
    "check_conversion",
    "check_temperature_scaling",
    "TooFewSamples",
]
