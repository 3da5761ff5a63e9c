"""Hypothesis strategies for the models beyond binary units: Potts machines, categorical and Gaussian RBMs.

As in :mod:`pgm_energy.testing.strategies`: every strategy draws valid objects, parameters are
checked when the strategy is built (a :class:`~pgm_energy.exceptions.ValidationError` or a
``TypeError`` naming the parameter), floats are finite and bounded by a scale, and failing
examples shrink towards few variables, few states, and parameters near 0.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from .._validation import describe
from ..exceptions import ParameterTypeError, ValidationError
from ._reproduce import noted
from ..models import CategoricalRBM, GaussianBernoulliRBM, PottsMachine
from .strategies import (
    _as_strategy,
    _batch_shapes,
    _bounded_floats,
    _check_bool_value,
    _check_energy_budget,
    _check_offset_value,
    _check_range,
    _check_scale,
    _check_temperature_value,
)

__all__ = [
    "potts_machines",
    "categorical_rbms",
    "gaussian_bernoulli_rbms",
    "categorical_states",
    "real_states",
    "categorical_evidence",
]


def _state_labels(draw, k: int, named: bool):
    """State names of a variable with ``k`` states: the default indices, or drawn distinct short strings."""
    if not named:
        return None
    return draw(st.lists(st.text("abcxyz", min_size=1, max_size=3), min_size=k, max_size=k, unique=True))


def potts_machines(*, min_variables=1, max_variables=5, min_states=1, max_states=4, coupling_scale=2.0,
                   field_scale=None, hidden=True, state_names=False, temperature=1.0,
                   offset=0.0) -> SearchStrategy[PottsMachine]:
    """Valid :class:`~pgm_energy.PottsMachine` instances.

    Each pair of variables is an edge or not (drawn); an edge gets a ``k_i x k_j`` matrix with
    entries in ``[-coupling_scale, coupling_scale]``, fields lie in ``[-field_scale, field_scale]``.

    Parameters
    ----------
    min_variables, max_variables : int, default 1 and 5
    min_states, max_states : int, default 1 and 4
        Bounds on every variable's number of states.
    coupling_scale : float, default 2.0
    field_scale : float, optional
        Default ``coupling_scale``.
    hidden : bool, default True
        Draw a random visible mask; with False every variable is visible.
    state_names : bool or strategy of bool, default False
        Draw string state names (else the indices ``0 .. k - 1``).
    temperature, offset : float or strategy of float

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings, strategies as st
    >>> from pgm_energy.testing import categorical_states, potts_machines
    >>> @settings(max_examples=10)
    ... @given(potts_machines(max_variables=4), st.data())
    ... def test_probabilities_sum_to_one(model, data):
    ...     state = data.draw(categorical_states(model))
    ...     p = model.conditional_probabilities(state)
    ...     assert all(abs(p[part].sum() - 1) < 1e-12 for part in model.state_slices)
    >>> test_probabilities_sum_to_one()
    """
    min_variables, max_variables = _check_range(min_variables, max_variables, "min_variables", "max_variables",
                                                lower=1)
    min_states, max_states = _check_range(min_states, max_states, "min_states", "max_states", lower=1)
    coupling_scale = _check_scale(coupling_scale, "coupling_scale")
    field_scale = coupling_scale if field_scale is None else _check_scale(field_scale, "field_scale")
    _check_energy_budget(max_variables * (max_variables - 1) // 2 * max_states**2, max_variables * max_states,
                         coupling_scale, field_scale, ("coupling_scale", "field_scale"))
    hidden = _check_bool_value(hidden, "hidden")
    named_strategy = _as_strategy(state_names, lambda value: _check_bool_value(value, "state_names"))
    temperature_strategy = _as_strategy(temperature, _check_temperature_value)
    offset_strategy = _as_strategy(offset, _check_offset_value)
    coupling_elements, field_elements = _bounded_floats(coupling_scale), _bounded_floats(field_scale)

    @st.composite
    def draw_machine(draw):
        n = draw(st.integers(min_variables, max_variables))
        cards = draw(st.lists(st.integers(min_states, max_states), min_size=n, max_size=n))
        visible = draw(st.lists(st.booleans(), min_size=n, max_size=n)) if hidden else [True] * n
        fields = [np.array(draw(st.lists(field_elements, min_size=k, max_size=k))) for k in cards]
        couplings = {}
        for i in range(n):
            for j in range(i + 1, n):
                if draw(st.booleans()):
                    size = cards[i] * cards[j]
                    values = draw(st.lists(coupling_elements, min_size=size, max_size=size))
                    couplings[(i, j)] = np.array(values).reshape(cards[i], cards[j])
        model = PottsMachine(cards, fields, couplings, visible=visible, temperature=draw(temperature_strategy),
                             offset=draw(offset_strategy))
        if draw(named_strategy):
            labels = {name: _state_labels(draw, k, True) for name, k in zip(model.names, cards)}
            model = PottsMachine(cards, fields, couplings, visible=visible, state_names=labels,
                                 temperature=model.temperature, offset=model.offset)
        return noted(model)

    return draw_machine()


def categorical_rbms(*, min_visible=1, max_visible=4, min_states=2, max_states=4, min_hidden=1, max_hidden=4,
                     weight_scale=2.0, bias_scale=None, temperature=1.0) -> SearchStrategy[CategoricalRBM]:
    """Valid :class:`~pgm_energy.CategoricalRBM` instances (softmax visible variables, binary hidden units).

    Parameters
    ----------
    min_visible, max_visible, min_states, max_states, min_hidden, max_hidden : int
        Bounds on the visible variables, their numbers of states and the hidden units.
    weight_scale : float, default 2.0
    bias_scale : float, optional
        Default ``weight_scale``.
    temperature : float or strategy of float
    """
    min_visible, max_visible = _check_range(min_visible, max_visible, "min_visible", "max_visible", lower=1)
    min_states, max_states = _check_range(min_states, max_states, "min_states", "max_states", lower=1)
    min_hidden, max_hidden = _check_range(min_hidden, max_hidden, "min_hidden", "max_hidden", lower=1)
    weight_scale = _check_scale(weight_scale, "weight_scale")
    bias_scale = weight_scale if bias_scale is None else _check_scale(bias_scale, "bias_scale")
    _check_energy_budget(max_visible * max_states * max_hidden, max_visible * max_states + max_hidden,
                         weight_scale, bias_scale)
    temperature_strategy = _as_strategy(temperature, _check_temperature_value)
    weight_elements, bias_elements = _bounded_floats(weight_scale), _bounded_floats(bias_scale)

    @st.composite
    def draw_rbm(draw):
        n_visible = draw(st.integers(min_visible, max_visible))
        n_hidden = draw(st.integers(min_hidden, max_hidden))
        cards = draw(st.lists(st.integers(min_states, max_states), min_size=n_visible, max_size=n_visible))
        total = sum(cards)
        weights = np.array(draw(st.lists(weight_elements, min_size=total * n_hidden, max_size=total * n_hidden)))
        visible_bias = np.array(draw(st.lists(bias_elements, min_size=total, max_size=total)))
        hidden_bias = np.array(draw(st.lists(bias_elements, min_size=n_hidden, max_size=n_hidden)))
        return noted(CategoricalRBM(weights.reshape(total, n_hidden), visible_bias, hidden_bias,
                                    cardinalities=cards, temperature=draw(temperature_strategy)))

    return draw_rbm()


def gaussian_bernoulli_rbms(*, min_visible=1, max_visible=4, min_hidden=1, max_hidden=4, weight_scale=1.0,
                            bias_scale=None, min_sigma=0.5, max_sigma=2.0,
                            temperature=1.0) -> SearchStrategy[GaussianBernoulliRBM]:
    """Valid :class:`~pgm_energy.GaussianBernoulliRBM` instances.

    Standard deviations are drawn in ``[min_sigma, max_sigma]`` (both > 0); weights and biases
    within their scales.
    """
    min_visible, max_visible = _check_range(min_visible, max_visible, "min_visible", "max_visible", lower=1)
    min_hidden, max_hidden = _check_range(min_hidden, max_hidden, "min_hidden", "max_hidden", lower=1)
    weight_scale = _check_scale(weight_scale, "weight_scale")
    bias_scale = weight_scale if bias_scale is None else _check_scale(bias_scale, "bias_scale")
    min_sigma, max_sigma = _check_scale(min_sigma, "min_sigma"), _check_scale(max_sigma, "max_sigma")
    if not 0 < min_sigma <= max_sigma:
        raise ValidationError(f"need 0 < min_sigma <= max_sigma, got min_sigma={min_sigma!r} and max_sigma={max_sigma!r}")
    temperature_strategy = _as_strategy(temperature, _check_temperature_value)
    weight_elements, bias_elements = _bounded_floats(weight_scale), _bounded_floats(bias_scale)
    sigma_elements = st.floats(min_sigma, max_sigma, allow_nan=False, allow_infinity=False, allow_subnormal=False)

    @st.composite
    def draw_rbm(draw):
        n_visible = draw(st.integers(min_visible, max_visible))
        n_hidden = draw(st.integers(min_hidden, max_hidden))
        size = n_visible * n_hidden
        weights = np.array(draw(st.lists(weight_elements, min_size=size, max_size=size))).reshape(n_visible, n_hidden)
        return noted(GaussianBernoulliRBM(
            weights, np.array(draw(st.lists(bias_elements, min_size=n_visible, max_size=n_visible))),
            np.array(draw(st.lists(bias_elements, min_size=n_hidden, max_size=n_hidden))),
            np.array(draw(st.lists(sigma_elements, min_size=n_visible, max_size=n_visible))),
            temperature=draw(temperature_strategy),
        ))

    return draw_rbm()


def _cardinalities_of(model) -> list[int]:
    """The cardinalities of the variables whose states are drawn: all of a Potts machine's, a categorical RBM's visible ones."""
    if isinstance(model, (PottsMachine, CategoricalRBM)):
        return [int(k) for k in model.cardinalities]
    raise ParameterTypeError(f"model must be a PottsMachine or CategoricalRBM, got {describe(model)}")


def categorical_states(model, *, batch=None) -> SearchStrategy[np.ndarray]:
    """State indices of every variable of a Potts machine (or the visible variables of a categorical RBM).

    Parameters
    ----------
    model : PottsMachine or CategoricalRBM
    batch : None, int or strategy of int
        None: one state, shape (n,); else rows of shape (batch, n).
    """
    cards = _cardinalities_of(model)
    shapes = _batch_shapes(batch, len(cards))

    @st.composite
    def draw_states(draw):
        shape = draw(shapes)
        rows = 1 if len(shape) == 1 else shape[0]
        values = np.array([[draw(st.integers(0, k - 1)) for k in cards] for _ in range(rows)], dtype=np.int64)
        return values.reshape(shape)

    return draw_states()


def real_states(model, *, batch=None, scale=3.0) -> SearchStrategy[np.ndarray]:
    """Real visible values of a Gaussian-Bernoulli RBM, within ``scale`` standard deviations of the biases."""
    if not isinstance(model, GaussianBernoulliRBM):
        raise ParameterTypeError(f"model must be a GaussianBernoulliRBM, got {describe(model)}")
    scale = _check_scale(scale, "scale")
    shapes = _batch_shapes(batch, model.n_visible)
    offsets = st.floats(-scale, scale, allow_nan=False, allow_infinity=False, allow_subnormal=False)

    @st.composite
    def draw_states(draw):
        shape = draw(shapes)
        rows = 1 if len(shape) == 1 else shape[0]
        z = np.array(draw(st.lists(offsets, min_size=rows * model.n_visible, max_size=rows * model.n_visible)))
        values = model.visible_bias + model.sigma * z.reshape(rows, model.n_visible)
        return values.reshape(shape)

    return draw_states()


def categorical_evidence(model: PottsMachine, *, min_size=0, max_size=None) -> SearchStrategy[dict]:
    """Evidence ``{variable name: state name}`` over distinct variables of a Potts machine."""
    if not isinstance(model, PottsMachine):
        raise ParameterTypeError(f"model must be a PottsMachine, got {describe(model)}")
    max_size = model.n_variables if max_size is None else max_size
    min_size, max_size = _check_range(min_size, max_size, "min_size", "max_size", lower=0)
    labels = model.state_names

    @st.composite
    def draw_evidence(draw):
        chosen = draw(st.lists(st.sampled_from(model.names), min_size=min(min_size, model.n_variables),
                               max_size=min(max_size, model.n_variables), unique=True))
        return {name: draw(st.sampled_from(labels[name])) for name in chosen}

    return draw_evidence()
