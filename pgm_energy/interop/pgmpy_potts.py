"""Exact conversion between Potts machines and pairwise pgmpy ``DiscreteMarkovNetwork``s of any cardinality.

A machine becomes one factor per edge, ``exp(C_ij / T)``, with each variable's fields folded
into exactly one of its edge factors (pgmpy's variable elimination merges identical factors on one
scope, so several factors on a scope are avoided), a unary factor for a variable without edges,
and the offset folded into the first factor, so the network's partition function is the machine's
``Z(T)``. State names travel both ways; hidden variables are the network's ``latents``.

Any pairwise network converts back: unary factors add to the fields, pairwise factors to the
couplings (several on one pair add up), factors over no variable to the offset.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from .._validation import describe
from ..exceptions import ConversionError, ParameterTypeError
from ..models.potts import PottsMachine
from .pgmpy import _LOG_RANGE, _factor_label, _import_pgmpy

__all__ = ["to_markov_network", "from_markov_network"]


def _categorical_factor(variables: Sequence[str], cardinalities: Sequence[int], values: np.ndarray, state_names: dict):
    """A pgmpy ``DiscreteFactor`` over ``variables`` with the given state names (values in C order)."""
    DiscreteFactor, _ = _import_pgmpy()
    cards = [int(k) for k in cardinalities]
    return DiscreteFactor(list(variables), cards, np.asarray(values, dtype=np.float64).reshape(cards),
                          state_names={name: list(state_names[name]) for name in variables})


def to_markov_network(model: PottsMachine):
    """Convert a :class:`PottsMachine` to a pgmpy ``DiscreteMarkovNetwork`` with the same distribution and Z.

    Returns
    -------
    pgmpy.models.DiscreteMarkovNetwork
        Passes ``check_model()``; the product of its factors is ``exp(-E(s) / T)`` for every state,
        offset included; variables keep their state names; hidden variables are ``latents``.

    Raises
    ------
    ConversionError
        If a factor entry would overflow or underflow float64 (pgmpy stores factors in linear space).
    """
    if not isinstance(model, PottsMachine):
        raise ParameterTypeError(f"model must be a PottsMachine, got {describe(model)}")
    DiscreteFactor, DiscreteMarkovNetwork = _import_pgmpy()
    temperature = model.temperature
    names, cards, state_names = model.names, model.cardinalities, model.state_names
    fields = [f / temperature for f in model.fields]
    placed = np.zeros(model.n_variables, dtype=bool)
    log_tables = []
    for (i, j), c in model.couplings.items():
        table = c / temperature
        if not placed[i]:
            table = table + fields[i][:, None]
        if not placed[j]:
            table = table + fields[j][None, :]
        placed[i] = placed[j] = True
        log_tables.append(([names[i], names[j]], table))
    for i in np.flatnonzero(~placed).tolist():
        log_tables.append(([names[i]], fields[i].copy()))
    log_tables[0] = (log_tables[0][0], log_tables[0][1] - model.offset / temperature)
    network = DiscreteMarkovNetwork(latents=list(model.hidden_names))
    network.add_nodes_from(names)
    network.add_edges_from((names[i], names[j]) for i, j in model.edges.tolist())
    factors = []
    for scope, log_values in log_tables:
        largest = float(np.max(np.abs(log_values)))
        if largest > _LOG_RANGE:
            raise ConversionError(
                f"the factor over {scope} would hold exp({largest:.4g}), outside the float64 range pgmpy's "
                "linear-space tables can hold; lower the parameters or raise the temperature"
            )
        factors.append(_categorical_factor(scope, [cards[model.index(v)] for v in scope], np.exp(log_values),
                                          state_names))
    network.add_factors(*factors)
    return network


def _check_state_names(variable, states) -> list:
    for state in states:
        if isinstance(state, (bool, np.bool_)) or not isinstance(state, (str, numbers.Integral)):
            raise ConversionError(
                f"the states of {variable!r} must be named by str or int to convert, got {state!r} "
                f"({type(state).__name__})"
            )
    return [state if isinstance(state, str) else int(state) for state in states]


def from_markov_network(markov_network) -> PottsMachine:
    """Convert any pairwise pgmpy ``DiscreteMarkovNetwork`` exactly to a :class:`PottsMachine` at T = 1.

    Unary and pairwise factors of any cardinality, any number per scope; factors over no variable
    become part of the offset, so ``log Z`` is preserved. Each variable keeps the state names (and
    their order) of the first factor that holds it; other factors are aligned to them by name.
    Variables listed in ``latents`` become hidden.

    Raises
    ------
    ConversionError
        For a factor over three or more variables (a Potts machine is pairwise; such a factor would
        need a hidden variable per configuration, which changes the model), a zero, negative or
        non-finite entry (an energy model needs positive potentials), a variable that no factor
        holds, disagreeing cardinalities or state names, or a variable or state name that is not
        a str (variables) or a str/int (states).
    """
    DiscreteFactor, DiscreteMarkovNetwork = _import_pgmpy()
    if not isinstance(markov_network, DiscreteMarkovNetwork):
        raise ParameterTypeError(f"markov_network must be a pgmpy DiscreteMarkovNetwork, got {describe(markov_network)}")
    names = list(markov_network.nodes())
    for name in names:
        if not isinstance(name, str) or not name:
            raise ConversionError(f"variable names must be non-empty strings, got {name!r}")
    index = {name: k for k, name in enumerate(names)}
    states_of: dict[str, list] = {}
    unary: dict[int, np.ndarray] = {}
    pairs: dict[tuple[int, int], np.ndarray] = {}
    offset = 0.0
    for factor in markov_network.get_factors():
        scope = list(factor.scope())
        if len(scope) > 2:
            raise ConversionError(
                f"{_factor_label(factor)} has {len(scope)} variables; a Potts machine holds only unary and pairwise "
                "factors (triangulating or adding a hidden variable per configuration would change the model)"
            )
        values = np.asarray(factor.values, dtype=np.float64)
        if not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise ConversionError(
                f"{_factor_label(factor)} has a zero, negative or non-finite entry; an energy model needs strictly "
                "positive potentials (a zero is an infinite energy)"
            )
        for axis, variable in enumerate(scope):
            if variable not in index:
                raise ConversionError(f"{_factor_label(factor)} names {variable!r}, which is not a node of the network")
            states = _check_state_names(variable, factor.state_names[variable])
            canonical = states_of.setdefault(variable, states)
            if states != canonical:
                if len(states) != len(canonical) or sorted(map(repr, states)) != sorted(map(repr, canonical)):
                    raise ConversionError(
                        f"{_factor_label(factor)} gives {variable!r} the states {states!r}, but another factor "
                        f"gives it {canonical!r}"
                    )
                order = [states.index(state) for state in canonical]
                values = np.take(values, order, axis=axis)
        log_values = np.log(values)
        if len(scope) == 0:
            offset -= float(np.sum(log_values))
        elif len(scope) == 1:
            i = index[scope[0]]
            unary[i] = unary.get(i, 0.0) + log_values
        else:
            i, j = index[scope[0]], index[scope[1]]
            if i == j:
                raise ConversionError(f"{_factor_label(factor)} repeats a variable")
            if i > j:
                i, j, log_values = j, i, log_values.T
            pairs[(i, j)] = pairs.get((i, j), 0.0) + log_values
    missing = [name for name in names if name not in states_of]
    if missing:
        raise ConversionError(f"variables {missing[:5]!r} are in no factor, so their states are unknown")
    cardinalities = [len(states_of[name]) for name in names]
    fields = [unary.get(i, np.zeros(k)) for i, k in enumerate(cardinalities)]
    latents = set(markov_network.latents)
    return PottsMachine(
        cardinalities, fields, pairs, names=names, state_names={name: states_of[name] for name in names},
        visible=[name not in latents for name in names], offset=offset,
    )
