"""Fuzzer findings of group D (issue 11): deep Boltzmann machines and their inference, bound and training.

Each case failed before its fix with an error that was not a pgm_energy error naming the
parameter (a MemoryError, numpy's plain ValueError). Small models only: the whole file runs
in well under a second.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pgm_energy import DeepBoltzmannMachine
from pgm_energy.exceptions import ModelSizeError, PGMEnergyError


def _named(error_type, match, call):
    """``call()`` raises ``error_type`` (a PGMEnergyError) whose message matches ``match``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning is a failure too
        with pytest.raises(error_type, match=match) as caught:
            call()
    assert isinstance(caught.value, PGMEnergyError)
    return caught.value


# --------------------------------------------------------------------------- DeepBoltzmannMachine.random
@pytest.mark.parametrize(
    "sizes, match",
    [
        ([10**6, 10**6, 2], r"layer_sizes=\[1000000, 1000000, 2\] weights and biases make 1000004000002 entries"),
        ([10**12, 2, 2], r"layer_sizes=\[1000000000000, 2, 2\]"),
    ],
)
def test_random_refuses_layer_sizes_beyond_max_parameters_before_allocating(sizes, match):
    # (was a MemoryError from numpy, asked for terabytes)
    _named(ModelSizeError, match, lambda: DeepBoltzmannMachine.random(sizes, rng=0))


def test_random_takes_a_negative_zero_scale_as_zero():
    # (was numpy's plain "ValueError: scale < 0": -0.0 passed the check `scale < 0`, numpy's normal refused it)
    for scale in (-0.0, 0.0, np.float64(-0.0)):
        model = DeepBoltzmannMachine.random([3, 2, 2], scale=scale, rng=0)
        assert all(not np.any(w) for w in model.weights)


def test_random_draws_are_unchanged_by_the_size_check():
    generator = np.random.default_rng(7)
    expected = [generator.normal(0.0, 0.3, size=(4, 3)), generator.normal(0.0, 0.3, size=(3, 2))]
    model = DeepBoltzmannMachine.random([4, 3, 2], scale=0.3, rng=7)
    assert all(np.array_equal(w, e) for w, e in zip(model.weights, expected))
    assert all(not np.any(b) for b in model.biases)
