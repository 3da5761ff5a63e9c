"""Exact conversion between Boltzmann machines and pgmpy ``DiscreteMarkovNetwork``s,
and from sigmoid belief networks to pgmpy ``DiscreteBayesianNetwork``s.

pgmpy is imported only in :mod:`pgm_energy.interop` (here and in the ``GibbsSampling``
drop-in of :mod:`pgm_energy.interop.pgmpy_gibbs`), lazily, inside functions, since
``import pgmpy`` costs seconds.

A machine becomes one pairwise factor per edge, with each unit's bias folded
into exactly one of its edge factors and a unary factor for a unit without
edges: pgmpy's variable elimination silently merges identical factors on the
same scope, so several factors on one scope are avoided. The constant offset
is folded into the first factor so the network's partition function equals the
machine's ``Z(T)`` exactly. Hidden units become the network's ``latents``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from .._validation import check_finite_array, check_names, describe
from ..exceptions import ConversionError, EvidenceError, ParameterTypeError, ValidationError
from ..models import BoltzmannMachine, RestrictedBoltzmannMachine, SigmoidBeliefNetwork

__all__ = [
    "to_markov_network",
    "from_markov_network",
    "to_bayesian_network",
    "binary_factor",
    "variable_elimination_query",
    "BINARY_STATES",
    "GibbsSampling",
    "BayesianModelSampling",
    "ApproxInference",
]

#: the state names given to every binary variable: state index = unit value
BINARY_STATES = (0, 1)
_LOG_RANGE = 700.0  # exp() of anything larger overflows float64 tables


def _import_pgmpy():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")
        from pgmpy.factors.discrete import DiscreteFactor
        from pgmpy.models import DiscreteMarkovNetwork
    return DiscreteFactor, DiscreteMarkovNetwork


def _variable_list(variables) -> list:
    """``variables`` as a list: a list, tuple or 1-D array of names (a string or a 0-d array is no list)."""
    if (
        isinstance(variables, (str, bytes))
        or not isinstance(variables, (Sequence, np.ndarray))
        or (isinstance(variables, np.ndarray) and variables.ndim != 1)
    ):
        raise ParameterTypeError(f"variables must be a list of variable names, got {describe(variables)}")
    return list(variables)


def binary_factor(variables: Sequence[str], values: np.ndarray):
    """A pgmpy ``DiscreteFactor`` over binary variables with states named 0 and 1.

    Parameters
    ----------
    variables : sequence of str, length k
        Distinct non-empty names (a list, tuple or 1-D array).
    values : array_like of float >= 0, 2**k entries in C order (the last variable changes fastest)
        Finite, non-negative potentials (probabilities, counts, ``exp(-E)``); any shape
        with 2**k entries, read in C order.

    Raises
    ------
    ParameterTypeError
        ``variables`` is not a list, tuple or 1-D array of names.
    ValidationError
        A name is empty, not a string or repeated; ``values`` is not real, finite and
        non-negative, or does not hold 2**k entries.
    """
    variables = _variable_list(variables)
    variables = list(check_names(variables, len(variables), "variables"))
    table = check_finite_array(values, "values")
    if table.size != 2 ** len(variables):
        raise ValidationError(
            f"values must hold 2**{len(variables)} entries (one per state of the variables "
            f"{describe(variables)}), got {describe(values)} with {table.size}"
        )
    if np.any(table < 0):
        raise ValidationError(f"values must be >= 0 (potentials), got {table.ravel()[np.argmax(table.ravel() < 0)]!r}")
    DiscreteFactor, _ = _import_pgmpy()
    return DiscreteFactor(
        variables,
        [2] * len(variables),
        table.reshape([2] * len(variables)),
        state_names={name: list(BINARY_STATES) for name in variables},
    )


def _upper_edges(model: BoltzmannMachine):
    """Edges (i, j, w_ij) with i < j and w_ij != 0, in row-major order."""
    if model.is_sparse:
        upper = sp.triu(model.weights, k=1, format="coo")
        order = np.lexsort((upper.col, upper.row))
        return upper.row[order], upper.col[order], upper.data[order]
    rows, cols = np.nonzero(np.triu(model.weights, 1))
    return rows, cols, model.weights[rows, cols]


def to_markov_network(model):
    """Convert a machine to a pgmpy ``DiscreteMarkovNetwork`` with the same distribution and Z.

    Parameters
    ----------
    model : BoltzmannMachine or RestrictedBoltzmannMachine
        An RBM is converted through its exact embedding
        (:meth:`RestrictedBoltzmannMachine.to_boltzmann_machine`).

    Returns
    -------
    pgmpy.models.DiscreteMarkovNetwork
        Passes ``check_model()``; variables are the unit names with states 0 and 1,
        hidden units are listed in ``latents``, and the product of the factors is
        ``exp(-E(s) / T)`` for every state, offset included.

    Raises
    ------
    ConversionError
        If a factor entry ``exp(-E / T)`` would overflow or underflow float64
        (pgmpy stores factors in linear space).
    """
    if isinstance(model, RestrictedBoltzmannMachine):
        model = model.to_boltzmann_machine()
    if not isinstance(model, BoltzmannMachine):
        raise ParameterTypeError(f"model must be a BoltzmannMachine or RestrictedBoltzmannMachine, got {type(model).__name__}")
    DiscreteFactor, DiscreteMarkovNetwork = _import_pgmpy()
    temperature = model.temperature
    names = model.names
    biases = model.biases / temperature
    rows, cols, weights = _upper_edges(model)
    bias_placed = np.zeros(model.n_units, dtype=bool)
    log_offset = -model.offset / temperature
    log_tables = []
    for i, j, w in zip(rows.tolist(), cols.tolist(), (weights / temperature).tolist()):
        # log phi(s_i, s_j) = w s_i s_j + u_i s_i + u_j s_j, u = bias if not yet placed elsewhere
        u_i = 0.0 if bias_placed[i] else biases[i]
        u_j = 0.0 if bias_placed[j] else biases[j]
        bias_placed[i] = bias_placed[j] = True
        log_tables.append(([names[i], names[j]], np.array([0.0, u_j, u_i, w + u_i + u_j])))
    for i in np.flatnonzero(~bias_placed).tolist():
        log_tables.append(([names[i]], np.array([0.0, biases[i]])))
    log_tables[0][1][:] += log_offset
    network = DiscreteMarkovNetwork(
        latents=[name for name, visible in zip(names, model.visible.tolist()) if not visible]
    )
    network.add_nodes_from(names)
    network.add_edges_from((names[i], names[j]) for i, j in zip(rows.tolist(), cols.tolist()))
    factors = []
    for scope, log_values in log_tables:
        if np.max(np.abs(log_values)) > _LOG_RANGE:
            raise ConversionError(
                f"the factor over {scope} would hold exp({np.max(np.abs(log_values)):.4g}), outside the "
                "float64 range pgmpy's linear-space tables can hold; lower the weights or raise the temperature"
            )
        factors.append(
            DiscreteFactor(
                scope,
                [2] * len(scope),
                np.exp(log_values).reshape([2] * len(scope)),
                state_names={name: list(BINARY_STATES) for name in scope},
            )
        )
    network.add_factors(*factors)
    return network


def to_bayesian_network(sbn):
    """Convert a sigmoid belief network to a pgmpy ``DiscreteBayesianNetwork`` with the same distribution.

    Parameters
    ----------
    sbn : SigmoidBeliefNetwork

    Returns
    -------
    pgmpy.models.DiscreteBayesianNetwork
        Passes ``check_model()``. One node per unit (states named 0 and 1), an edge
        parent -> child per non-zero weight, and one ``TabularCPD`` per unit holding the
        sigmoid evaluated at every parent configuration
        (:meth:`SigmoidBeliefNetwork.conditional_table`: columns in
        ``itertools.product`` order of the parents, the last parent fastest, as pgmpy
        expects). Units above the bottom layer are listed in ``latents``.

    Raises
    ------
    ModelSizeError
        If a unit has more than 16 parents (its table would exceed 2**16 columns); the
        message names the unit and its fan-in.
    """
    if not isinstance(sbn, SigmoidBeliefNetwork):
        raise ParameterTypeError(f"sbn must be a SigmoidBeliefNetwork, got {type(sbn).__name__}")
    tables = {name: sbn.conditional_table(name) for name in sbn.names}  # size errors before importing pgmpy
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")
        from pgmpy.factors.discrete import TabularCPD
        from pgmpy.models import DiscreteBayesianNetwork

    network = DiscreteBayesianNetwork()
    network.add_nodes_from(sbn.names)
    network.add_edges_from((parent, name) for name, (parents, _) in tables.items() for parent in parents)
    network.latents = set(sbn.hidden_names)  # pgmpy accepts latents only once they are nodes
    cpds = []
    for name, (parents, table) in tables.items():
        cpds.append(
            TabularCPD(
                name,
                2,
                table,
                evidence=list(parents) or None,
                evidence_card=[2] * len(parents) or None,
                state_names={variable: list(BINARY_STATES) for variable in (name, *parents)},
            )
        )
    network.add_cpds(*cpds)
    return network


def _factor_label(factor) -> str:
    return f"factor over {list(factor.scope())}"


def from_markov_network(markov_network) -> BoltzmannMachine:
    """Convert a binary pairwise pgmpy ``DiscreteMarkovNetwork`` exactly to a machine at T = 1.

    Any number of unary and pairwise factors per scope is allowed, and factors
    over no variable become part of the offset, so ``log Z`` is preserved.
    A variable's first state (index 0, whatever its state name) is unit value 0.
    Variables listed in ``latents`` become hidden units.

    Raises
    ------
    ConversionError
        For a factor over three or more variables, a variable with other than
        two states, a zero or negative factor entry, inconsistent state names,
        or a variable name that is not a non-empty string.
    """
    DiscreteFactor, DiscreteMarkovNetwork = _import_pgmpy()
    if not isinstance(markov_network, DiscreteMarkovNetwork):
        raise ParameterTypeError(f"markov_network must be a pgmpy DiscreteMarkovNetwork, got {type(markov_network).__name__}")
    names = list(markov_network.nodes())
    for name in names:
        if not isinstance(name, str) or not name:
            raise ConversionError(f"variable names must be non-empty strings, got {name!r}")
    index = {name: k for k, name in enumerate(names)}
    n_units = len(names)
    states_of: dict[str, list] = {}
    biases = np.zeros(n_units)
    offset = 0.0
    pairs: dict[tuple[int, int], float] = {}
    for factor in markov_network.get_factors():
        scope = list(factor.scope())
        if len(scope) > 2:
            raise ConversionError(f"{_factor_label(factor)} has {len(scope)} variables; a Boltzmann machine holds only unary and pairwise factors")
        for variable, cardinality in zip(scope, factor.cardinality):
            if variable not in index:
                raise ConversionError(f"{_factor_label(factor)} names {variable!r}, which is not a node of the network")
            if cardinality != 2:
                raise ConversionError(f"{_factor_label(factor)}: variable {variable!r} has {cardinality} states; Boltzmann machine units are binary")
        values = np.asarray(factor.values, dtype=np.float64)
        if not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise ConversionError(
                f"{_factor_label(factor)} has a zero, negative or non-finite entry; an energy model needs strictly positive potentials"
            )
        # Align each axis with the variable's canonical state order (first factor seen).
        for axis, variable in enumerate(scope):
            states = list(factor.state_names[variable])
            canonical = states_of.setdefault(variable, states)
            if states != canonical:
                if sorted(map(repr, states)) != sorted(map(repr, canonical)):
                    raise ConversionError(
                        f"{_factor_label(factor)} names the states of {variable!r} {states!r}, "
                        f"but another factor names them {canonical!r}"
                    )
                values = np.flip(values, axis=axis)
        log_values = np.log(values)
        if len(scope) == 0:
            offset -= float(np.sum(log_values))
        elif len(scope) == 1:
            i = index[scope[0]]
            biases[i] += log_values[1] - log_values[0]
            offset -= log_values[0]
        else:
            i, j = index[scope[0]], index[scope[1]]
            if i == j:
                raise ConversionError(f"{_factor_label(factor)} repeats a variable")
            biases[i] += log_values[1, 0] - log_values[0, 0]
            biases[j] += log_values[0, 1] - log_values[0, 0]
            key = (min(i, j), max(i, j))
            pairs[key] = pairs.get(key, 0.0) + (
                log_values[1, 1] - log_values[1, 0] - log_values[0, 1] + log_values[0, 0]
            )
            offset -= log_values[0, 0]
    rows = np.array([i for i, _ in pairs] + [j for _, j in pairs], dtype=np.int64)
    cols = np.array([j for _, j in pairs] + [i for i, _ in pairs], dtype=np.int64)
    data = np.array(list(pairs.values()) * 2, dtype=np.float64)
    weights = sp.csr_array((data, (rows, cols)), shape=(n_units, n_units))
    # Small networks are returned dense (the usual case for exact work); large ones stay sparse.
    dense_limit = 2048
    latents = set(markov_network.latents)
    visible = np.array([name not in latents for name in names], dtype=bool)
    return BoltzmannMachine(
        weights.toarray() if n_units <= dense_limit else weights,
        biases,
        visible=visible,
        names=names,
        offset=offset,
    )


def _same_state(given, known) -> bool:
    """``given`` names the state ``known``: equal integers (any integer type, not bools), or equal strings."""
    if isinstance(given, (bool, np.bool_)) or isinstance(known, (bool, np.bool_)):
        return False
    if isinstance(given, numbers.Integral) and isinstance(known, numbers.Integral):
        return int(given) == int(known)
    return isinstance(given, str) and isinstance(known, str) and given == known


def _check_query(markov_network, variables, evidence) -> tuple[list, dict]:
    """The query's variables (distinct nodes) and evidence (node -> one of its state names), checked."""
    _, DiscreteMarkovNetwork = _import_pgmpy()
    from pgmpy.models import DiscreteBayesianNetwork

    if not isinstance(markov_network, (DiscreteMarkovNetwork, DiscreteBayesianNetwork)):
        raise ParameterTypeError(
            "markov_network must be a pgmpy DiscreteMarkovNetwork or DiscreteBayesianNetwork, "
            f"got {describe(markov_network)}"
        )
    variables = _variable_list(variables)
    nodes = set(markov_network.nodes())
    for name in variables:
        if not isinstance(name, str) or name not in nodes:
            raise EvidenceError(f"variables names {describe(name)}, which is not a variable of the network")
    if not variables or len(set(variables)) != len(variables):
        raise ValidationError(f"variables must be a non-empty list of distinct names, got {variables!r}")
    if evidence is None:
        evidence = {}
    if not isinstance(evidence, Mapping):
        raise ParameterTypeError(f"evidence must be a dict of variable name -> state name, got {describe(evidence)}")
    states = markov_network.states if hasattr(markov_network, "states") else {}
    for name, state in evidence.items():
        if not isinstance(name, str) or name not in nodes:
            raise EvidenceError(f"evidence names {describe(name)}, which is not a variable of the network")
        if name in variables:
            raise EvidenceError(f"variable {name!r} is both queried and given as evidence")
        allowed = list(states.get(name, ()))
        if not any(_same_state(state, known) for known in allowed):
            raise EvidenceError(f"evidence {name}={describe(state)} is not one of its states {allowed!r}")
    return variables, dict(evidence)


def variable_elimination_query(markov_network, variables, *, evidence=None):
    """pgmpy ``VariableElimination`` query on a Markov network, normalized.

    pgmpy's default greedy elimination path explodes on dense bipartite graphs
    (RBMs) and its named heuristics are ignored on Markov networks, so the
    variables to eliminate are ordered explicitly: fewest neighbours first.

    Parameters
    ----------
    markov_network : pgmpy.models.DiscreteMarkovNetwork
    variables : list of str
    evidence : dict of str -> state name, optional

    Returns
    -------
    pgmpy.factors.discrete.DiscreteFactor
        Normalized joint over ``variables`` (pgmpy returns Z-scaled tables on Markov networks).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")
        from pgmpy.inference import VariableElimination

    variables, evidence = _check_query(markov_network, variables, evidence)
    kept = set(variables) | set(evidence)
    order = sorted(
        (node for node in markov_network.nodes() if node not in kept),
        key=lambda node: markov_network.degree(node),
    )
    result = VariableElimination(markov_network).query(
        list(variables), evidence=evidence or None, elimination_order=order, show_progress=False
    )
    result.normalize()
    # pgmpy returns the variables in an order of its own choosing; restore the requested one.
    DiscreteFactor, _ = _import_pgmpy()
    variables = list(variables)
    axes = [result.variables.index(name) for name in variables]
    return DiscreteFactor(
        variables,
        [result.cardinality[axis] for axis in axes],
        np.transpose(result.values, axes),
        state_names={name: result.state_names[name] for name in variables},
    )


from .pgmpy_gibbs import GibbsSampling  # noqa: E402
from .pgmpy_sampling import ApproxInference, BayesianModelSampling  # noqa: E402
