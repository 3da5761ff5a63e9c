"""Invariant checks to call on your own models, samplers' conditionals and conversions, by exact enumeration.

Each check enumerates every joint state of a small model (``max_units``, 16 by default) and raises
:class:`~pgm_energy.testing.DistributionMismatch` (an ``AssertionError``) naming the first state
where the invariant fails:

- :func:`check_log_probability`: your unnormalised log-probability equals ``-E(x) / T`` up to a
  constant;
- :func:`check_conditionals`: your conditional ``p(x_i = k | rest)`` equals the normalised
  ``exp(-E / T)`` over the states of unit ``i`` (the rule Gibbs samplers use);
- :func:`check_conversion`: a pgmpy network made from a model (by your conversion) answers every
  single-variable query, with and without evidence, as the model's exact distribution does
  (pgmpy's ``VariableElimination`` is the reference engine for the network);
- :func:`check_temperature_scaling`: the model your code makes for a temperature ``T`` has the
  distribution ``exp(-E(x) / T) / Z``: a model at ``T`` is the model with its parameters over ``T``.
"""

from __future__ import annotations

import itertools
import math
import numbers

import numpy as np

from .._validation import check_bool, check_int, check_positive_temperature, check_sequence, describe
from ..exceptions import ParameterTypeError, ValidationError
from ._samples import probabilities_array
from .asserts import DistributionMismatch

__all__ = ["check_conditionals", "check_conversion", "check_log_probability", "check_temperature_scaling"]


def _states(model, max_units: int) -> tuple[np.ndarray, np.ndarray]:
    """Every joint state of ``model`` (rows, C order: the last unit fastest) and its cardinalities."""
    from ..models import BoltzmannMachine, PottsMachine, RestrictedBoltzmannMachine

    if not isinstance(model, (BoltzmannMachine, RestrictedBoltzmannMachine, PottsMachine)):
        raise ParameterTypeError(
            f"model must be a BoltzmannMachine, RestrictedBoltzmannMachine or PottsMachine, got {describe(model)}")
    max_units = check_int(max_units, "max_units", minimum=1)
    cards = (np.asarray(model.cardinalities, dtype=np.int64) if isinstance(model, PottsMachine)
             else np.full(model.n_units, 2, dtype=np.int64))
    if cards.shape[0] > max_units:
        raise ValidationError(f"the checks enumerate every state: the model has {cards.shape[0]} units > "
                              f"max_units={max_units}")
    states = np.array(list(itertools.product(*[range(int(c)) for c in cards])), dtype=np.int64)
    return states.reshape(-1, cards.shape[0]), cards


def _energies(model, states: np.ndarray) -> np.ndarray:
    from ..models import RestrictedBoltzmannMachine

    if isinstance(model, RestrictedBoltzmannMachine):
        return np.asarray(model.energy(states[:, : model.n_visible], states[:, model.n_visible:]), dtype=np.float64)
    return np.asarray(model.energy(states), dtype=np.float64)


#: the smallest tolerance the checks accept: two float64 routes to one number differ by rounding
MIN_ATOL = 1e-15


def _check_tolerance(atol) -> float:
    if isinstance(atol, bool) or not isinstance(atol, numbers.Real) or not MIN_ATOL <= float(atol) < math.inf:
        raise ValidationError(f"atol must be a number of at least {MIN_ATOL:g} (two float64 computations of one "
                              f"number differ by rounding), got {describe(atol)}")
    return float(atol)


def _probabilities(value, name: str) -> np.ndarray:
    """A user function's returned distribution as float64, or a ParameterTypeError naming the function."""
    array = probabilities_array(value, f"what {name} returns").ravel()
    if not np.all(np.isfinite(array)):
        raise ParameterTypeError(f"{name} must return finite probabilities, returned {describe(value)}")
    return array


def _number(value, name: str) -> float:
    """A user function's returned number, or a ParameterTypeError naming the function."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) and not (
            isinstance(value, np.ndarray) and value.size == 1 and np.isrealobj(value)):
        raise ParameterTypeError(f"{name} must return a real number, returned {describe(value)}")
    return float(value)


def check_log_probability(model, log_unnormalised, *, max_units=16, atol=1e-9) -> None:
    """Check that ``log_unnormalised(state)`` is ``-E(state) / T`` plus one constant, for every state.

    Parameters
    ----------
    model : BoltzmannMachine, RestrictedBoltzmannMachine or PottsMachine
    log_unnormalised : callable(ndarray of shape (n_units,)) -> float
        Yours: for example the log of a product of your converted factors.
    max_units : int, default 16
    atol : float, default 1e-9
        Tolerance on the differences (nats).

    Raises
    ------
    DistributionMismatch
        Naming the state where the difference moves away from the first state's.
    """
    if not callable(log_unnormalised):
        raise ParameterTypeError(f"log_unnormalised must be a callable, got {describe(log_unnormalised)}")
    atol = _check_tolerance(atol)
    states, _ = _states(model, max_units)
    reference = -_energies(model, states) / model.temperature
    yours = np.array([_number(log_unnormalised(state), "log_unnormalised") for state in states])
    gaps = yours - reference
    moved = np.flatnonzero(np.abs(gaps - gaps[0]) > atol)
    if moved.size:
        k = int(moved[0])
        raise DistributionMismatch(
            f"log_unnormalised is not -E/T plus a constant: at state {states[k].tolist()} it differs from -E/T by "
            f"{gaps[k]:.12g}, at state {states[0].tolist()} by {gaps[0]:.12g}"
        )


def check_conditionals(model, conditional, *, max_units=16, atol=1e-9) -> None:
    """Check ``conditional(state, unit)`` against ``p(x_unit = k | rest) ∝ exp(-E / T)`` at every state and unit.

    Parameters
    ----------
    conditional : callable(ndarray of shape (n_units,), int) -> array of shape (cardinality,)
        Yours: the distribution of unit ``unit`` given the other units of ``state`` (the value of
        ``state[unit]`` must not matter).
    """
    if not callable(conditional):
        raise ParameterTypeError(f"conditional must be a callable, got {describe(conditional)}")
    atol = _check_tolerance(atol)
    states, cards = _states(model, max_units)
    for state in states:
        for unit in range(cards.shape[0]):
            options = np.repeat(state[None, :], cards[unit], axis=0)
            options[:, unit] = np.arange(cards[unit])
            logits = -_energies(model, options) / model.temperature
            exact = np.exp(logits - logits.max())
            exact /= exact.sum()
            yours = _probabilities(conditional(state.copy(), unit), "conditional")
            if yours.shape != exact.shape or not np.allclose(yours, exact, rtol=0.0, atol=atol):
                raise DistributionMismatch(
                    f"conditional at state {state.tolist()}, unit {unit}: {yours.tolist()} against the energy's "
                    f"{exact.tolist()}"
                )


def check_temperature_scaling(model, at_temperature, *, temperatures=(0.5, 2.0), max_units=16, atol=1e-9) -> None:
    """Check that ``at_temperature(T)`` is ``model`` at temperature ``T``: ``p(x) = exp(-E(x) / T) / Z``.

    ``E`` is ``model``'s energy, which does not depend on the temperature, so the model at ``T``
    is also the model with every parameter divided by ``T`` at temperature 1: the check holds
    for either construction and catches a parameter left unscaled, or a temperature applied twice.

    Parameters
    ----------
    model : BoltzmannMachine, RestrictedBoltzmannMachine or PottsMachine
    at_temperature : callable(float) -> model of the same units
        Yours: for example a schedule's model builder, or a conversion round trip of
        ``model.with_temperature(T)``.
    temperatures : sequence of positive float, default (0.5, 2.0)
    max_units : int, default 16
    atol : float, default 1e-9
        Tolerance on the probabilities.

    Raises
    ------
    DistributionMismatch
        Naming the temperature and the state with the largest difference.
    """
    if not callable(at_temperature):
        raise ParameterTypeError(f"at_temperature must be a callable, got {describe(at_temperature)}")
    atol = _check_tolerance(atol)
    temperatures = [check_positive_temperature(t, f"temperatures[{k}]")
                    for k, t in enumerate(check_sequence(temperatures, "temperatures"))]
    if not temperatures:
        raise ValidationError("temperatures must hold at least one temperature, got none")
    states, _ = _states(model, max_units)
    energies = _energies(model, states)
    for temperature in temperatures:
        other = at_temperature(temperature)
        if type(other) is not type(model):
            raise ParameterTypeError(f"at_temperature({temperature}) must return a {type(model).__name__}, returned "
                                     f"{describe(other)}")
        if list(other.names) != list(model.names):
            raise DistributionMismatch(f"at_temperature({temperature}) returned a model over {list(other.names)[:6]}, "
                                       f"not over the model's units {list(model.names)[:6]}")
        expected = _normalised(-energies / temperature)
        yours = _normalised(-_energies(other, states) / other.temperature)
        worst = int(np.argmax(np.abs(yours - expected)))
        if abs(yours[worst] - expected[worst]) > atol:
            raise DistributionMismatch(
                f"at_temperature({temperature}) is not the model at T = {temperature}: at state "
                f"{states[worst].tolist()} p = {yours[worst]:.12g} against exp(-E/T)/Z = {expected[worst]:.12g}")


def _normalised(log_weights: np.ndarray) -> np.ndarray:
    weights = np.exp(log_weights - log_weights.max())
    return weights / weights.sum()


def check_conversion(model, network, *, max_units=16, evidence_per_unit=True, atol=1e-9) -> None:
    """Check that a pgmpy network converted from ``model`` answers every single-variable query as ``model`` does.

    For each variable: its marginal without evidence and, with ``evidence_per_unit``, given each
    state of each other variable (of positive probability). The network is asked through pgmpy's
    ``VariableElimination`` (normalised), the model through :func:`pgm_energy.exact.query`.

    Parameters
    ----------
    network : pgmpy DiscreteMarkovNetwork or DiscreteBayesianNetwork
        Its variables are the model's names; states are matched by position (index ``k`` of
        ``network``'s state names is state ``k`` of the model).
    """
    import warnings

    from .. import exact

    states, cards = _states(model, max_units)
    atol = _check_tolerance(atol)
    evidence_per_unit = check_bool(evidence_per_unit, "evidence_per_unit")
    if not (hasattr(network, "nodes") and hasattr(network, "check_model")) or isinstance(network, type) or \
            not (hasattr(network, "get_factors") or hasattr(network, "get_cpds")):
        raise ParameterTypeError(f"network must be a pgmpy DiscreteMarkovNetwork or DiscreteBayesianNetwork, got "
                                 f"{describe(network)}")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")
        from pgmpy.inference import VariableElimination
    engine = VariableElimination(network)
    names = list(model.names)
    if set(map(str, network.nodes())) != set(names):
        raise DistributionMismatch(f"the network's variables {sorted(map(str, network.nodes()))[:6]} are not the "
                                   f"model's {sorted(names)[:6]}")
    joint = np.asarray(exact.query(model, names, max_units=max_units).values, dtype=np.float64)
    cases = [{}]
    if evidence_per_unit:
        cases += [{names[j]: k} for j in range(len(names)) for k in range(int(cards[j]))]
    for case in cases:
        for i, name in enumerate(names):
            if name in case:
                continue
            table = joint
            for j, k in ((names.index(v), k) for v, k in case.items()):
                table = np.take(table, [k], axis=j)
            marginal = table.sum(axis=tuple(a for a in range(table.ndim) if a != i)).ravel()
            if marginal.sum() <= 0:
                continue  # evidence of probability zero: no query to compare
            marginal /= marginal.sum()
            pgmpy_evidence = {v: _state_name(network, v, k) for v, k in case.items()}
            answer = engine.query([name], evidence=pgmpy_evidence or None, show_progress=False)
            theirs = np.asarray(answer.values, dtype=np.float64).ravel()
            theirs = theirs / theirs.sum()
            if theirs.shape != marginal.shape or not np.allclose(theirs, marginal, rtol=0.0, atol=atol):
                raise DistributionMismatch(
                    f"the network's p({name} | {case or 'no evidence'}) = {theirs.tolist()}, the model's "
                    f"{marginal.tolist()}"
                )


def _state_name(network, variable, index):
    """The name of state ``index`` of ``variable`` in a Bayesian network's CPD or a Markov network's factors."""
    factors = [cpd.to_factor() for cpd in network.get_cpds()] if hasattr(network, "cpds") and network.cpds \
        else network.get_factors()
    for factor in factors:
        if variable in factor.variables:
            return factor.state_names[variable][index]
    raise DistributionMismatch(f"the network has no factor over {variable!r}")
