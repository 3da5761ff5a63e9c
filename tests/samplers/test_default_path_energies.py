"""The samplers' energies are computed on first access: same values, cached, picklable, never by repr."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine
from pgm_energy.samplers import GibbsSampler, ParallelTemperingSampler, SimulatedAnnealingSampler


def machine(n_units=10, seed=0):
    rng = np.random.default_rng(seed)
    weights = np.triu(rng.normal(size=(n_units, n_units)) * (rng.random((n_units, n_units)) < 0.4), 1)
    return BoltzmannMachine(sp.csr_array(weights + weights.T), rng.normal(size=n_units), offset=0.75)


def rbm(seed=1):
    rng = np.random.default_rng(seed)
    return RestrictedBoltzmannMachine(rng.normal(size=(6, 4)), rng.normal(size=6), rng.normal(size=4))


def model_energies(model, states):
    """The model's own energy of every draw, shape (n_chains, n_draws): the values before energies were lazy."""
    flat = states.reshape(-1, states.shape[2])
    if isinstance(model, RestrictedBoltzmannMachine):
        values = model.energy(flat[:, : model.n_visible], flat[:, model.n_visible :])
    else:
        values = model.energy(flat)
    return values.reshape(states.shape[:2])


def pending(result) -> bool:
    return result._pending_energies is not None


SAMPLERS = {
    "gibbs": lambda: GibbsSampler(burn_in=4, thin=2).sample(machine(), 9, n_chains=3, rng=5),
    "gibbs_keep_last": lambda: GibbsSampler(burn_in=4).sample(machine(), 9, n_chains=3, keep="last", rng=5),
    "block_gibbs": lambda: GibbsSampler(burn_in=4).sample(rbm(), 9, n_chains=3, rng=6),
    "annealing": lambda: SimulatedAnnealingSampler(n_sweeps=20).sample(machine(), 5, rng=7),
    "annealing_rbm": lambda: SimulatedAnnealingSampler(n_sweeps=20).sample(rbm(), 5, rng=7),
    "tempering": lambda: ParallelTemperingSampler([1.0, 2.0], burn_in=3).sample(machine(), 8, n_chains=2, rng=8),
}
MODELS = {"gibbs": machine, "gibbs_keep_last": machine, "block_gibbs": rbm, "annealing": machine,
          "annealing_rbm": rbm, "tempering": machine}


@pytest.mark.parametrize("name", SAMPLERS)
def test_energies_are_the_models_energies_computed_once_on_first_access(name):
    result = SAMPLERS[name]()
    assert pending(result) and result.info["seconds"]["energies"] == 0.0
    repr(result), len(result), result.marginals(), result.flat_states()  # none of these needs the energies
    assert pending(result)
    energies = result.energies
    assert not pending(result) and result.info["seconds"]["energies"] > 0.0
    np.testing.assert_array_equal(energies, model_energies(MODELS[name](), result.states))  # same bits
    assert result.energies is energies and not energies.flags.writeable
    with pytest.raises(ValueError):
        energies[0, 0] = 1.0


def test_lowest_computes_the_energies():
    result = SAMPLERS["gibbs"]()
    states, energies = result.lowest(3)
    assert not pending(result)
    np.testing.assert_array_equal(energies, machine().energy(states))
    assert np.all(np.diff(energies) >= 0)


DUPLICATES = {"pickle": lambda result: pickle.loads(pickle.dumps(result)), "copy": copy.copy,
              "deepcopy": copy.deepcopy}


@pytest.mark.parametrize("how", DUPLICATES)
def test_pickles_and_copies_hold_the_energies_not_the_model(how):
    result = SAMPLERS["gibbs"]()
    if how == "pickle":
        assert b"BoltzmannMachine" not in pickle.dumps(result)
    twin = DUPLICATES[how](result)
    assert not pending(twin)
    np.testing.assert_array_equal(twin.energies, result.energies)
    np.testing.assert_array_equal(twin.states, result.states)
    assert twin.info == result.info and twin.names == result.names
    assert not twin.states.flags.writeable and not twin.energies.flags.writeable


def test_the_public_constructor_takes_an_array_as_before():
    from pgm_energy.samplers import SampleSet

    states = np.zeros((2, 3, 4), dtype=np.uint8)
    result = SampleSet(states, np.arange(6.0).reshape(2, 3), list("abcd"), temperature=1.0)
    assert not pending(result)
    np.testing.assert_array_equal(result.energies, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(result)).energies, result.energies)
