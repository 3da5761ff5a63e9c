"""Hypothesis strategies for layered models: deep Boltzmann machines, sigmoid belief networks, deep belief networks.

As in :mod:`pgm_energy.testing.strategies`: parameters are checked when the strategy is built,
floats are finite and bounded by a scale, and failing examples shrink towards three layers of
one unit and parameters near 0.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

from ..models import DeepBeliefNetwork, DeepBoltzmannMachine, SigmoidBeliefNetwork
from ._reproduce import noted
from .strategies import _as_strategy, _bounded_floats, _check_energy_budget, _check_range, _check_scale, _check_temperature_value

__all__ = ["deep_belief_networks", "deep_boltzmann_machines", "sigmoid_belief_networks"]


def deep_boltzmann_machines(*, min_layers=3, max_layers=4, min_units=1, max_units=3, weight_scale=2.0, bias_scale=None,
                            temperature=1.0) -> SearchStrategy[DeepBoltzmannMachine]:
    """Valid :class:`~pgm_energy.DeepBoltzmannMachine` instances.

    Parameters
    ----------
    min_layers, max_layers : int, default 3 and 4
        Bounds on the number of layers, the visible one included (``3 <= min_layers <= max_layers``).
    min_units, max_units : int, default 1 and 3
        Bounds on the units of each layer (``1 <= min_units <= max_units``).
    weight_scale : float, default 2.0
        Bound on the absolute value of every weight.
    bias_scale : float, optional
        Bound on the absolute value of every bias (default: ``weight_scale``).
    temperature : float or strategy of float, default 1.0

    Returns
    -------
    SearchStrategy of DeepBoltzmannMachine

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> from pgm_energy.testing import deep_boltzmann_machines
    >>> @settings(max_examples=10)
    ... @given(deep_boltzmann_machines())
    ... def test_embedding_keeps_energies(dbm):
    ...     state = np.ones(dbm.n_units)
    ...     assert np.isclose(dbm.energy(state), dbm.to_boltzmann_machine().energy(state))
    >>> test_embedding_keeps_energies()
    """
    layers = _layer_parameters(min_layers, max_layers, min_units, max_units, weight_scale, bias_scale, fewest=3)
    temperature_strategy = _as_strategy(temperature, _check_temperature_value)

    @st.composite
    def draw_machine(draw):
        weights, biases = draw(layers)
        return noted(DeepBoltzmannMachine(weights, biases, temperature=draw(temperature_strategy)))

    return draw_machine()


def _layer_parameters(min_layers, max_layers, min_units, max_units, weight_scale, bias_scale, *, fewest: int):
    """The checked bounds' strategy of ``(weights, biases)`` of a layered model (layers bottom first)."""
    min_layers, max_layers = _check_range(min_layers, max_layers, "min_layers", "max_layers", lower=fewest)
    min_units, max_units = _check_range(min_units, max_units, "min_units", "max_units", lower=1)
    weight_scale = _check_scale(weight_scale, "weight_scale")
    bias_scale = weight_scale if bias_scale is None else _check_scale(bias_scale, "bias_scale")
    _check_energy_budget((max_layers - 1) * max_units**2, max_layers * max_units, weight_scale, bias_scale)
    weight_elements, bias_elements = _bounded_floats(weight_scale), _bounded_floats(bias_scale)

    @st.composite
    def draw_layers(draw):
        sizes = draw(st.lists(st.integers(min_units, max_units), min_size=min_layers, max_size=max_layers))
        weights = [draw(hnp.arrays(np.float64, (a, b), elements=weight_elements)) for a, b in zip(sizes[:-1], sizes[1:])]
        biases = [draw(hnp.arrays(np.float64, (n,), elements=bias_elements)) for n in sizes]
        return weights, biases

    return draw_layers()


def sigmoid_belief_networks(*, min_layers=2, max_layers=3, min_units=1, max_units=3, weight_scale=2.0, bias_scale=None,
                            temperature=1.0) -> SearchStrategy[SigmoidBeliefNetwork]:
    """Valid :class:`~pgm_energy.SigmoidBeliefNetwork` instances (layers listed bottom first).

    Parameters
    ----------
    min_layers, max_layers : int, default 2 and 3
        Bounds on the number of layers, the visible one included (``2 <= min_layers <= max_layers``).
    min_units, max_units, weight_scale, bias_scale, temperature
        As :func:`deep_boltzmann_machines`.

    Returns
    -------
    SearchStrategy of SigmoidBeliefNetwork
    """
    layers = _layer_parameters(min_layers, max_layers, min_units, max_units, weight_scale, bias_scale, fewest=2)
    temperature_strategy = _as_strategy(temperature, _check_temperature_value)

    @st.composite
    def draw_network(draw):
        weights, biases = draw(layers)
        return noted(SigmoidBeliefNetwork(weights, biases, temperature=draw(temperature_strategy)))

    return draw_network()


def deep_belief_networks(*, min_layers=3, max_layers=4, min_units=1, max_units=3, weight_scale=2.0,
                         bias_scale=None) -> SearchStrategy[DeepBeliefNetwork]:
    """Valid :class:`~pgm_energy.DeepBeliefNetwork` instances: a top RBM over sigmoid layers, recognition tied.

    Parameters
    ----------
    min_layers, max_layers : int, default 3 and 4
        Bounds on the number of layers, the visible one included (``3 <= min_layers <= max_layers``).
    min_units, max_units, weight_scale, bias_scale
        As :func:`deep_boltzmann_machines`.

    Returns
    -------
    SearchStrategy of DeepBeliefNetwork
    """
    layers = _layer_parameters(min_layers, max_layers, min_units, max_units, weight_scale, bias_scale, fewest=3)

    @st.composite
    def draw_network(draw):
        weights, biases = draw(layers)
        return noted(DeepBeliefNetwork(weights, biases))

    return draw_network()
