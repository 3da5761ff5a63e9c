"""Hypothesis strategies for Boltzmann machines, RBMs, states and evidence.

Every strategy here draws *valid* objects: symmetric zero-diagonal finite
weights, biases bounded by a scale, binary ``uint8`` states of the right
length, evidence dictionaries over real variable names. Parameters are checked
when the strategy is built, so a mistake in a test is reported at once with a
:class:`~pgm_energy.exceptions.ValidationError` (a ``ValueError``) or a
``TypeError`` (the package's ``ParameterTypeError``) naming the parameter.

Floats are drawn with ``allow_nan=False, allow_infinity=False,
allow_subnormal=False`` inside ``[-scale, scale]``; hypothesis shrinks them
towards 0 and unit counts towards their minimum, so a failing example shrinks
to a small machine with few, simple weights.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from hypothesis.strategies import SearchStrategy

from .._math import is_sparse
from .._validation import MAX_ENERGY_SCALE, check_array_size, check_int, describe
from ..exceptions import ParameterTypeError, ValidationError
from ._reproduce import noted
from ..models import BoltzmannMachine, RestrictedBoltzmannMachine

__all__ = [
    "boltzmann_machines",
    "restricted_boltzmann_machines",
    "binary_states",
    "visible_states",
    "hidden_states",
    "evidence",
    "temperatures",
]

_SMALLEST_NORMAL = float(np.finfo(np.float64).tiny)


# ---------------------------------------------------------------------- parameter checks
def _check_scale(value, name: str) -> float:
    """A finite scale >= 0 that is 0 or at least the smallest normal float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterTypeError(f"{name} must be a real number >= 0, got {describe(value)}")
    scale = float(value)
    if not math.isfinite(scale) or scale < 0.0:
        raise ValidationError(f"{name} must be finite and >= 0, got {value!r}")
    if 0.0 < scale < _SMALLEST_NORMAL:
        raise ValidationError(
            f"{name} must be 0 or at least {_SMALLEST_NORMAL!r} (subnormal floats are not drawn), got {value!r}"
        )
    return scale


def _check_energy_budget(n_weights: int, n_biases: int, weight_scale: float, bias_scale: float,
                         names: tuple = ("weight_scale", "bias_scale")) -> None:
    """Refuse scales whose largest drawable model the constructors would refuse (its energy bound beyond 1e150).

    ``names``: the strategy's own names of the two scales (a Potts machine's couplings and fields).
    """
    bound = n_weights * weight_scale + n_biases * bias_scale
    if bound > MAX_ENERGY_SCALE:
        raise ValidationError(
            f"{names[0]}={weight_scale!r} and {names[1]}={bias_scale!r} are too large: the largest model drawn "
            f"would have parameters whose absolute values sum to {bound:.3g}, beyond MAX_ENERGY_SCALE "
            f"({MAX_ENERGY_SCALE:.0e}), which the model constructors refuse"
        )


def _check_range(minimum, maximum, min_name: str, max_name: str, *, lower: int) -> tuple[int, int]:
    minimum = check_int(minimum, min_name, minimum=lower)
    maximum = check_int(maximum, max_name, minimum=lower)
    if maximum < minimum:
        raise ValidationError(f"{max_name} must be >= {min_name} = {minimum}, got {max_name}={maximum}")
    return minimum, maximum


def _check_temperature_value(value, name: str = "temperature") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterTypeError(f"{name} must be a real number > 0 or a hypothesis strategy, got {describe(value)}")
    temperature = float(value)
    if not math.isfinite(temperature) or temperature <= 0.0:
        raise ValidationError(f"{name} must be finite and > 0, got {value!r}")
    return temperature


def _check_offset_value(value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterTypeError(f"offset must be a real number or a hypothesis strategy, got {describe(value)}")
    offset = float(value)
    if not math.isfinite(offset):
        raise ValidationError(f"offset must be finite, got {value!r}")
    return offset


def _check_bool_value(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ParameterTypeError(f"{name} must be True, False or a hypothesis strategy of booleans, got {describe(value)}")
    return bool(value)


def _as_strategy(value, check) -> SearchStrategy:
    """A strategy for ``value``: a fixed value is checked now, a strategy's draws when drawn."""
    if isinstance(value, SearchStrategy):
        return value.map(check)
    return st.just(check(value))


def _check_names_strategy(names, name: str = "names"):
    if names is not None and not isinstance(names, SearchStrategy):
        raise ParameterTypeError(
            f"{name} must be None (default names) or a hypothesis strategy of strings, got {describe(names)}"
        )
    return names


def _bounded_floats(scale: float) -> SearchStrategy:
    """Finite normal floats in [-scale, scale] (exactly 0.0 when scale is 0)."""
    if scale == 0.0:
        return st.just(0.0)
    return st.floats(
        min_value=-scale,
        max_value=scale,
        allow_nan=False,
        allow_infinity=False,
        allow_subnormal=False,
    )


def _check_model(model, name: str = "model"):
    if not isinstance(model, (BoltzmannMachine, RestrictedBoltzmannMachine)):
        raise ParameterTypeError(
            f"{name} must be a BoltzmannMachine or RestrictedBoltzmannMachine, got {describe(model)}"
        )
    return model


#: most rows a drawn batch of states may have, and most units a state may have when ``model`` is
#: a number; a drawn array holds at most ``MAX_STATE_ENTRIES`` entries (100 MB of uint8). Beyond
#: these a mistaken count would exhaust memory instead of failing the test with a named error.
MAX_BATCH = 10**6
MAX_UNITS = 10**6
MAX_STATE_ENTRIES = 10**8


def _check_batch(rows, length: int) -> tuple[int, int]:
    rows = check_int(rows, "batch", minimum=0)
    if rows > MAX_BATCH:
        raise ValidationError(f"batch must be at most {MAX_BATCH} rows, got {rows}")
    check_array_size(rows * length, f"batch={rows} rows of {length} units", limit=MAX_STATE_ENTRIES)
    return rows, length


def _batch_shapes(batch, length: int) -> SearchStrategy:
    """Shapes ``(length,)`` for ``batch=None``, else ``(rows, length)`` with ``0 <= rows <= MAX_BATCH``."""
    if batch is None:
        return st.just((length,))
    if isinstance(batch, SearchStrategy):
        return batch.map(lambda rows: _check_batch(rows, length))
    return st.just(_check_batch(batch, length))


def _binary_arrays(length: int, batch) -> SearchStrategy:
    return _batch_shapes(batch, length).flatmap(
        lambda shape: hnp.arrays(np.uint8, shape, elements=st.integers(0, 1))
    )


# ---------------------------------------------------------------------- public strategies
def temperatures(*, min_value=0.25, max_value=4.0) -> SearchStrategy[float]:
    """Temperatures ``T`` drawn from ``[min_value, max_value]``.

    Parameters
    ----------
    min_value, max_value : float, default 0.25 and 4.0
        Finite, ``0 < min_value <= max_value``.

    Returns
    -------
    SearchStrategy of float

    Raises
    ------
    ValidationError
        If the bounds are not finite, not positive or in the wrong order.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from pgm_energy.testing import boltzmann_machines, temperatures
    >>> @settings(max_examples=5)
    ... @given(boltzmann_machines(max_units=3, temperature=temperatures(min_value=0.5, max_value=2.0)))
    ... def test_warm(bm):
    ...     assert 0.5 <= bm.temperature <= 2.0
    >>> test_warm()
    """
    low = _check_temperature_value(min_value, "min_value")
    high = _check_temperature_value(max_value, "max_value")
    if high < low:
        raise ValidationError(f"max_value must be >= min_value = {low!r}, got {max_value!r}")
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def boltzmann_machines(
    *,
    min_units=1,
    max_units=8,
    weight_scale=2.0,
    bias_scale=None,
    hidden=True,
    complete=False,
    sparse=False,
    temperature=1.0,
    offset=0.0,
    names=None,
) -> SearchStrategy[BoltzmannMachine]:
    """Valid :class:`~pgm_energy.BoltzmannMachine` instances.

    Each pair of units is an edge or not (drawn), and an edge gets a weight in
    ``[-weight_scale, weight_scale]``; the weight matrix is symmetric with a zero
    diagonal by construction. Biases lie in ``[-bias_scale, bias_scale]``.

    Parameters
    ----------
    min_units, max_units : int, default 1 and 8
        Bounds on the number of units, ``1 <= min_units <= max_units``.
    weight_scale : float, default 2.0
        Bound on the absolute value of every weight (0 gives no edges).
    bias_scale : float, optional
        Bound on the absolute value of every bias (default: ``weight_scale``).
    hidden : bool, default True
        Draw a random visible mask (any unit may be hidden); with False, every
        unit is visible.
    complete : bool, default False
        Draw a weight for every pair of units (dense graphs; a drawn weight may
        still be 0) instead of first drawing which pairs are edges.
    sparse : bool or strategy of bool, default False
        Store the weights as a SciPy CSR matrix; ``hypothesis.strategies.booleans()``
        draws both storages.
    temperature : float or strategy of float, default 1.0
        Temperature ``T > 0`` (see :func:`temperatures`).
    offset : float or strategy of float, default 0.0
        Constant energy offset.
    names : strategy of str, optional
        Draw unique unit names from this strategy (default ``v0, ..., h0, ...``).

    Returns
    -------
    SearchStrategy of BoltzmannMachine

    Raises
    ------
    ValidationError
        For bounds out of order or below 1, or a negative or non-finite scale
        or temperature.
    TypeError
        For parameters of the wrong type (e.g. ``sparse="yes"``).

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings, strategies as st
    >>> from pgm_energy.testing import binary_states, boltzmann_machines
    >>> @settings(max_examples=10)
    ... @given(boltzmann_machines(max_units=5, sparse=st.booleans()), st.data())
    ... def test_fields(bm, data):
    ...     s = data.draw(binary_states(bm))
    ...     z = bm.biases + bm.dense_weights() @ s
    ...     np.testing.assert_allclose(bm.local_fields(s), z, rtol=1e-12, atol=1e-12)
    >>> test_fields()
    """
    min_units, max_units = _check_range(min_units, max_units, "min_units", "max_units", lower=1)
    weight_scale = _check_scale(weight_scale, "weight_scale")
    bias_scale = weight_scale if bias_scale is None else _check_scale(bias_scale, "bias_scale")
    # the symmetric matrix stores each weight twice; a drawn offset is bounded separately
    _check_energy_budget(max_units * (max_units - 1), max_units, weight_scale, bias_scale)
    hidden = _check_bool_value(hidden, "hidden")
    complete = _check_bool_value(complete, "complete")
    sparse_strategy = _as_strategy(sparse, lambda value: _check_bool_value(value, "sparse"))
    temperature_strategy = _as_strategy(temperature, _check_temperature_value)
    offset_strategy = _as_strategy(offset, _check_offset_value)
    names = _check_names_strategy(names)
    weights_elements = _bounded_floats(weight_scale)
    bias_elements = _bounded_floats(bias_scale)

    @st.composite
    def draw_machine(draw):
        n_units = draw(st.integers(min_units, max_units))
        if hidden:
            visible = np.array(draw(st.lists(st.booleans(), min_size=n_units, max_size=n_units)), dtype=bool)
        else:
            visible = np.ones(n_units, dtype=bool)
        weights = np.zeros((n_units, n_units))
        for i in range(n_units):
            for j in range(i + 1, n_units):
                if complete or draw(st.booleans()):
                    weights[i, j] = weights[j, i] = draw(weights_elements)
        biases = np.array(draw(st.lists(bias_elements, min_size=n_units, max_size=n_units)), dtype=np.float64)
        unit_names = None
        if names is not None:
            unit_names = draw(st.lists(names, min_size=n_units, max_size=n_units, unique=True))
        stored = sp.csr_array(weights) if draw(sparse_strategy) else weights
        return noted(BoltzmannMachine(
            stored,
            biases,
            visible=visible,
            names=unit_names,
            temperature=draw(temperature_strategy),
            offset=draw(offset_strategy),
        ))

    return draw_machine()


def restricted_boltzmann_machines(
    *,
    min_visible=1,
    max_visible=8,
    min_hidden=1,
    max_hidden=6,
    weight_scale=2.0,
    bias_scale=None,
    temperature=1.0,
    names=None,
) -> SearchStrategy[RestrictedBoltzmannMachine]:
    """Valid :class:`~pgm_energy.RestrictedBoltzmannMachine` instances.

    Parameters
    ----------
    min_visible, max_visible : int, default 1 and 8
        Bounds on the number of visible units, ``1 <= min_visible <= max_visible``.
    min_hidden, max_hidden : int, default 1 and 6
        Bounds on the number of hidden units, ``1 <= min_hidden <= max_hidden``.
    weight_scale : float, default 2.0
        Bound on the absolute value of every weight.
    bias_scale : float, optional
        Bound on the absolute value of every visible and hidden bias (default: ``weight_scale``).
    temperature : float or strategy of float, default 1.0
        Temperature ``T > 0`` (see :func:`temperatures`).
    names : strategy of str, optional
        Draw unique unit names from this strategy (default ``v0, ...`` and ``h0, ...``).

    Returns
    -------
    SearchStrategy of RestrictedBoltzmannMachine

    Raises
    ------
    ValidationError
        For bounds out of order or below 1, or a negative or non-finite scale
        or temperature.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings, strategies as st
    >>> from pgm_energy.testing import restricted_boltzmann_machines, visible_states
    >>> @settings(max_examples=10)
    ... @given(restricted_boltzmann_machines(max_visible=4, max_hidden=3), st.data())
    ... def test_probabilities(rbm, data):
    ...     v = data.draw(visible_states(rbm))
    ...     p = rbm.hidden_probabilities(v)
    ...     assert p.shape == (rbm.n_hidden,) and np.all((p >= 0) & (p <= 1))
    >>> test_probabilities()
    """
    min_visible, max_visible = _check_range(min_visible, max_visible, "min_visible", "max_visible", lower=1)
    min_hidden, max_hidden = _check_range(min_hidden, max_hidden, "min_hidden", "max_hidden", lower=1)
    weight_scale = _check_scale(weight_scale, "weight_scale")
    bias_scale = weight_scale if bias_scale is None else _check_scale(bias_scale, "bias_scale")
    _check_energy_budget(max_visible * max_hidden, max_visible + max_hidden, weight_scale, bias_scale)
    temperature_strategy = _as_strategy(temperature, _check_temperature_value)
    names = _check_names_strategy(names)
    weights_elements = _bounded_floats(weight_scale)
    bias_elements = _bounded_floats(bias_scale)

    @st.composite
    def draw_rbm(draw):
        n_visible = draw(st.integers(min_visible, max_visible))
        n_hidden = draw(st.integers(min_hidden, max_hidden))
        weights = draw(hnp.arrays(np.float64, (n_visible, n_hidden), elements=weights_elements))
        visible_bias = draw(hnp.arrays(np.float64, (n_visible,), elements=bias_elements))
        hidden_bias = draw(hnp.arrays(np.float64, (n_hidden,), elements=bias_elements))
        visible_names = hidden_names = None
        if names is not None:
            unit_names = draw(st.lists(names, min_size=n_visible + n_hidden, max_size=n_visible + n_hidden, unique=True))
            visible_names, hidden_names = unit_names[:n_visible], unit_names[n_visible:]
        return noted(RestrictedBoltzmannMachine(
            weights,
            visible_bias,
            hidden_bias,
            visible_names=visible_names,
            hidden_names=hidden_names,
            temperature=draw(temperature_strategy),
        ))

    return draw_rbm()


def _length(model, which: str) -> int:
    if isinstance(model, numbers.Integral) and not isinstance(model, bool):
        n_units = check_int(model, "model", minimum=0)
        if n_units > MAX_UNITS:
            raise ValidationError(f"model must be at most {MAX_UNITS} units when given as a number, got {n_units}")
        return n_units
    from ..models import DeepBoltzmannMachine

    if not isinstance(model, (BoltzmannMachine, RestrictedBoltzmannMachine, DeepBoltzmannMachine)):
        raise ParameterTypeError(
            "model must be a BoltzmannMachine, a RestrictedBoltzmannMachine, a DeepBoltzmannMachine or a number of "
            f"units, got {describe(model)}"
        )
    return {"all": model.n_units, "visible": model.n_visible, "hidden": model.n_hidden}[which]


def binary_states(model, *, batch=None) -> SearchStrategy[np.ndarray]:
    """0/1 states of every unit of ``model``, as ``uint8`` arrays.

    Parameters
    ----------
    model : BoltzmannMachine, RestrictedBoltzmannMachine or int
        The model (for an RBM the state holds the visible units, then the hidden
        ones, the order of ``model.names``) or simply the number of units (at most ``MAX_UNITS``).
    batch : None, int or strategy of int, optional
        None draws one state of shape ``(n_units,)``; a number of rows ``0 <= k <= MAX_BATCH``
        draws a batch of shape ``(k, n_units)``.

    Returns
    -------
    SearchStrategy of numpy.ndarray of uint8

    Examples
    --------
    >>> from hypothesis import given, settings, strategies as st
    >>> from pgm_energy import BoltzmannMachine
    >>> from pgm_energy.testing import binary_states
    >>> bm = BoltzmannMachine([[0.0, 1.0], [1.0, 0.0]], [0.0, 0.0])
    >>> @settings(max_examples=10)
    ... @given(binary_states(bm, batch=st.integers(1, 4)))
    ... def test_energies(states):
    ...     assert bm.energy(states).shape == (states.shape[0],)
    >>> test_energies()
    """
    return _binary_arrays(_length(model, "all"), batch)


def visible_states(model, *, batch=None) -> SearchStrategy[np.ndarray]:
    """0/1 states of the visible units of ``model`` (in the order of ``model.visible_names``).

    Parameters
    ----------
    model : BoltzmannMachine, RestrictedBoltzmannMachine or int
        The model, or the number of visible units.
    batch : None, int or strategy of int, optional
        As in :func:`binary_states`.

    Returns
    -------
    SearchStrategy of numpy.ndarray of uint8

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from pgm_energy import RestrictedBoltzmannMachine
    >>> from pgm_energy.testing import visible_states
    >>> rbm = RestrictedBoltzmannMachine.random(3, 2, rng=0)
    >>> @settings(max_examples=5)
    ... @given(visible_states(rbm, batch=2))
    ... def test_free_energy(v):
    ...     assert rbm.free_energy(v).shape == (2,)
    >>> test_free_energy()
    """
    return _binary_arrays(_length(model, "visible"), batch)


def hidden_states(model, *, batch=None) -> SearchStrategy[np.ndarray]:
    """0/1 states of the hidden units of ``model`` (in the order of ``model.hidden_names``).

    Parameters
    ----------
    model : BoltzmannMachine, RestrictedBoltzmannMachine or int
        The model, or the number of hidden units.
    batch : None, int or strategy of int, optional
        As in :func:`binary_states`.

    Returns
    -------
    SearchStrategy of numpy.ndarray of uint8

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from pgm_energy import RestrictedBoltzmannMachine
    >>> from pgm_energy.testing import hidden_states
    >>> rbm = RestrictedBoltzmannMachine.random(3, 2, rng=0)
    >>> @settings(max_examples=5)
    ... @given(hidden_states(rbm))
    ... def test_visible_probabilities(h):
    ...     assert rbm.visible_probabilities(h).shape == (3,)
    >>> test_visible_probabilities()
    """
    return _binary_arrays(_length(model, "hidden"), batch)


def evidence(model, *, variables=None, min_size=0, max_size=None) -> SearchStrategy[dict[str, int]]:
    """Evidence dictionaries ``name -> 0 or 1`` over a random subset of the variables.

    Parameters
    ----------
    model : BoltzmannMachine or RestrictedBoltzmannMachine
    variables : sequence of str, optional
        The variables evidence may name (default: every unit of ``model``),
        e.g. ``model.visible_names``.
    min_size, max_size : int, optional
        Bounds on the number of observed variables (default 0 and all of them).

    Returns
    -------
    SearchStrategy of dict of str -> int

    Raises
    ------
    ValidationError
        If ``variables`` names a unit the model does not have or repeats one,
        or the size bounds are impossible.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from pgm_energy import RestrictedBoltzmannMachine
    >>> from pgm_energy.testing import evidence
    >>> rbm = RestrictedBoltzmannMachine.random(4, 2, rng=0)
    >>> @settings(max_examples=10)
    ... @given(evidence(rbm, variables=rbm.visible_names, min_size=1))
    ... def test_observed(e):
    ...     assert set(e) <= set(rbm.visible_names) and set(e.values()) <= {0, 1}
    >>> test_observed()
    """
    _check_model(model)
    if variables is None:
        variables = list(model.names)
    else:
        if (
            isinstance(variables, str)
            or not hasattr(variables, "__iter__")
            or is_sparse(variables)  # iterating one runs scipy on indices that may be damaged
            or (isinstance(variables, np.ndarray) and variables.ndim != 1)  # 0-d: not iterable; 2-d: rows
        ):
            raise ParameterTypeError(f"variables must be a sequence of variable names, got {describe(variables)}")
        variables = list(variables)
        known = set(model.names)
        for variable in variables:
            if not isinstance(variable, str) or variable not in known:  # before hashing: arrays are unhashable
                raise ValidationError(f"variables names {variable!r}, which is not a unit of the model")
        if len(set(variables)) != len(variables):
            raise ValidationError(f"variables must not repeat a name, got {variables!r}")
    min_size = check_int(min_size, "min_size", minimum=0)
    max_size = len(variables) if max_size is None else check_int(max_size, "max_size", minimum=0)
    if max_size < min_size:
        raise ValidationError(f"max_size must be >= min_size = {min_size}, got {max_size}")
    if min_size > len(variables):
        raise ValidationError(
            f"min_size must be at most the number of variables ({len(variables)}), got {min_size}"
        )
    if not variables:
        return st.just({})
    return st.dictionaries(
        st.sampled_from(variables), st.integers(0, 1), min_size=min_size, max_size=min(max_size, len(variables))
    )
