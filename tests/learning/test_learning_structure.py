"""The shape of the learning code: bundled kernel arguments, one set of shared trainer options."""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest

from pgm_energy.learning._trainer import TRAINER_OPTIONS, Trainer, trainer_options

_KERNEL_MODULES = ("cd", "tempered_cd", "boltzmann_learning", "exact_gradient")
#: the issue's bound on a kernel's parameters ("about 10"): arrays and settings come bundled
_MAX_KERNEL_PARAMETERS = 10


@pytest.mark.parametrize("name", _KERNEL_MODULES)
def test_learning_kernels_take_bundles_not_long_argument_lists(name):
    module = importlib.import_module(f"pgm_energy._kernels.{name}")
    for attribute, value in vars(module).items():
        function = getattr(value, "py_func", None)  # a Numba dispatcher
        if function is None or function.__module__ != module.__name__:
            continue
        count = len(inspect.signature(function).parameters)
        assert count <= _MAX_KERNEL_PARAMETERS, f"{name}.{attribute} takes {count} parameters"


def test_every_trainer_passes_the_shared_options_through_one_helper():
    from pgm_energy.learning import BoltzmannLearning, ContrastiveDivergence, ExactGradient

    for cls in (ContrastiveDivergence, ExactGradient, BoltzmannLearning):
        assert issubclass(cls, Trainer)
        parameters = inspect.signature(cls).parameters
        assert set(TRAINER_OPTIONS) <= set(parameters), cls.__name__
    options = {name: object() for name in (*TRAINER_OPTIONS, "self", "k")}
    assert trainer_options(options) == {name: options[name] for name in TRAINER_OPTIONS}
    trainer = ExactGradient(epochs=7, batch_size=3, monitor=None, monitor_every=2, binarize=0.5)
    assert (trainer.epochs, trainer.batch_size, trainer.monitor, trainer.monitor_every, trainer.binarize) == (7, 3, (), 2, 0.5)


def test_apply_update_reads_its_bundles_by_position():
    """The BLAS path hands apply_update plain tuples (typed faster by Numba): same update as the NamedTuples."""
    from pgm_energy._kernels import cd
    from pgm_energy.learning._cd_engine import new_state

    def fresh():
        state = new_state(np.full((4, 3), 0.1), np.zeros(4), np.zeros(3), n_chains=0, n_streams=2, dtype=np.float64,
                          rng=np.random.default_rng(0))
        statistics = cd.BatchStatistics(np.full((4, 3), 0.2), np.ones(4), np.full(3, 0.5), np.full(4, 0.25),
                                        np.full(3, 0.75), np.zeros(3))
        return state, statistics

    settings = cd.UpdateSettings(0.1, 0.5, 1e-3, 0.01, 0.1, 0.95)
    named, named_statistics = fresh()
    cd.apply_update(named, named_statistics, 2, 3, settings)
    plain, plain_statistics = fresh()
    cd.apply_update(tuple(plain), tuple(plain_statistics), 2, 3, tuple(settings))
    for a, b in zip(named, plain):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(named.weights, np.full((4, 3), 0.1))
