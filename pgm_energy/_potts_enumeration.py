"""Exact answers for Potts machines by enumeration: log Z, marginals, queries, likelihoods.

:mod:`pgm_energy.exact` hands a :class:`~pgm_energy.models.PottsMachine` to the functions here.
Evidence clamps variables (by state name or index, pgmpy's convention); the clamped variables'
couplings fold into the fields of their free neighbours, and the free variables are enumerated in
mixed radix by :mod:`pgm_energy._kernels.mixed_radix`, queried variables first so that each block
of the enumeration is one cell of the joint table. The size guard counts joint states: at most
``2**max_units`` (the binary machines' limit, in states).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

from ._launch import run_blocks
from ._validation import check_bool, check_int, describe
from .exceptions import EvidenceError, ModelSizeError, ParameterTypeError, StateError, ValidationError
from .models._potts_parts import neighbour_lists
from .models.potts import PottsMachine

__all__ = ["log_partition_function", "marginals", "query", "log_probability", "log_likelihood", "mean_energy",
           "entropy", "check_evidence"]

#: blocks that balance two to many cores
_MIN_BLOCKS = 256
#: most unit updates in one block: about 0.1 s of the Potts kernel on one core (measured: a block of
#: 3**16 states, 1.3e8 updates, took 0.8 s), so that Ctrl-C is answered within a fraction of a second
_BLOCK_WORK = 2.0**24
#: below this many state visits an enumeration runs on one thread (waking a pool costs more)
_SERIAL_WORK_LIMIT = 2.0**18
#: rough speed, state visits per second on one core, for the size guard's message
_VISITS_PER_SECOND = 2.0e8


class _Problem(NamedTuple):
    """The free variables of a Potts machine at T = 1, in enumeration order, as the kernel takes them."""

    cardinalities: np.ndarray
    fields: np.ndarray
    field_start: np.ndarray
    adjacency_start: np.ndarray
    neighbour: np.ndarray
    block_start: np.ndarray
    stride_self: np.ndarray
    stride_other: np.ndarray
    couplings: np.ndarray
    constant: float  # the energy of the clamped part (offset included), at T = 1
    free: np.ndarray  # model index of each enumerated variable


def check_evidence(model: PottsMachine, evidence, name: str = "evidence") -> dict[int, int]:
    """``evidence`` ({variable name: state name or index}) as {variable index: state index}."""
    if evidence is None:
        return {}
    if not isinstance(evidence, dict):
        raise ParameterTypeError(f"{name} must be a dict of variable name -> state, got {describe(evidence)}")
    clamped = {}
    for variable, state in evidence.items():
        if not isinstance(variable, str) or variable not in model.names:
            raise EvidenceError(f"{name} names {describe(variable)}, which is not a variable of the model")
        try:
            clamped[model.index(variable)] = model.state_index(variable, state)
        except EvidenceError as error:  # the model's message, with the parameter it came from
            raise EvidenceError(f"{name}[{variable!r}]: {error}") from None
    return clamped


def _flatten(model: PottsMachine, clamped: dict[int, int], leading: list[int]) -> _Problem:
    """Clamp ``clamped``, put the variables ``leading`` first, scale to T = 1."""
    temperature = model.temperature
    cards = np.array(model.cardinalities, dtype=np.int64)
    fields = [f / temperature for f in model.fields]
    couplings = {edge: c / temperature for edge, c in model.couplings.items()}
    constant = model.offset / temperature
    free = [i for i in leading] + [i for i in range(model.n_variables) if i not in clamped and i not in leading]
    position = {variable: p for p, variable in enumerate(free)}
    fields = [f.copy() for f in fields]
    for i, a in clamped.items():
        constant -= fields[i][a]
    kept = []
    for (i, j), c in couplings.items():
        if i in clamped and j in clamped:
            constant -= c[clamped[i], clamped[j]]
        elif i in clamped:
            fields[j] += c[clamped[i], :]
        elif j in clamped:
            fields[i] += c[:, clamped[j]]
        else:
            kept.append((position[i], position[j], c))
    n = len(free)
    free_cards = cards[free] if n else np.zeros(0, dtype=np.int64)
    field_start = np.concatenate([[0], np.cumsum(free_cards)]).astype(np.int64)
    flat_fields = np.concatenate([fields[i] for i in free]) if n else np.zeros(0)
    sizes = np.array([c.size for _, _, c in kept], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64) if kept else np.zeros(0, dtype=np.int64)
    pairs = np.array([(u, v, c.shape[1]) for u, v, c in kept], dtype=np.int64).reshape(len(kept), 3)
    adjacency_start, neighbour, block_start, stride_self, stride_other = neighbour_lists(
        n, pairs[:, 0], pairs[:, 1], pairs[:, 2], starts)
    flat_couplings = np.concatenate([np.ascontiguousarray(c).ravel() for _, _, c in kept]) if kept else np.zeros(0)
    return _Problem(
        free_cards, np.ascontiguousarray(flat_fields, dtype=np.float64), field_start, adjacency_start, neighbour,
        block_start, stride_self, stride_other, flat_couplings, float(constant), np.array(free, dtype=np.int64),
    )


def _guard(model: PottsMachine, clamped: dict[int, int], max_units: int) -> None:
    states = math.prod(k for i, k in enumerate(model.cardinalities) if i not in clamped)
    # compared by bit length first: 2**max_units of a huge max_units would take forever to build
    if max_units < states.bit_length() and states > 2**max_units:
        seconds = states * (1 + 2 * model.n_edges / max(model.n_variables, 1)) / _VISITS_PER_SECOND
        raise ModelSizeError(
            f"exact enumeration of this PottsMachine visits {states:.3g} joint states of its "
            f"{model.n_variables - len(clamped)} free variables, more than 2**max_units = 2**{max_units}; "
            f"that would take about {seconds:.3g} s on one core. Raise max_units, add evidence, or sample instead"
        )


def _enumerate(problem: _Problem, n_prefix: int, with_marginals: bool):
    """The kernel's per-block sums over all blocks of the ``n_prefix`` leading variables."""
    from ._kernels import mixed_radix

    n_blocks = int(np.prod(problem.cardinalities[:n_prefix])) if n_prefix else 1
    n = problem.cardinalities.shape[0]
    states = float(np.prod(problem.cardinalities.astype(float))) if n else 1.0
    work = states * _cost_per_state(problem, with_marginals)
    kernel = mixed_radix.potts_block_sums if work > _SERIAL_WORK_LIMIT else mixed_radix.potts_block_sums_serial
    args = (problem.cardinalities, problem.fields, problem.field_start, problem.adjacency_start, problem.neighbour,
            problem.block_start, problem.stride_self, problem.stride_other, problem.couplings, n_prefix,
            with_marginals)
    return run_blocks(kernel, n_blocks, *args, serial=mixed_radix.potts_block_sums_serial,
                      cost_per_block=work / n_blocks)


def _balanced_prefix(cardinalities: np.ndarray, minimum: int, cost_per_state: float) -> int:
    """The fewest leading variables (at least ``minimum``) fixed per block: at least _MIN_BLOCKS blocks,
    and each block's states (the rest) costing at most :data:`_BLOCK_WORK` unit updates.

    The second bound keeps a block a short piece of a kernel call (Ctrl-C is answered between
    calls, and a call covers at least one block): 256 blocks of 3**22 states would each take a second.
    """
    prefix, blocks = minimum, int(np.prod(cardinalities[:minimum])) if minimum else 1
    remaining = float(np.prod(cardinalities[prefix:].astype(float)))
    while prefix < cardinalities.shape[0] and (blocks < _MIN_BLOCKS or remaining * cost_per_state > _BLOCK_WORK):
        blocks *= int(cardinalities[prefix])
        remaining /= float(cardinalities[prefix])
        prefix += 1
    return prefix


def _cost_per_state(problem: _Problem, with_marginals: bool) -> float:
    """Unit updates per enumerated state: the field update, its neighbours, the marginal sums."""
    n = problem.cardinalities.shape[0]
    return 1.0 + problem.neighbour.shape[0] / max(n, 1) + (n if with_marginals else 0)


class _Solution(NamedTuple):
    log_z: float  # log of the sum over the free states of exp(-E / T), clamped part included
    mean_energy: float  # <E / T>
    problem: _Problem
    marginals: np.ndarray | None  # flat over the free variables' states
    block_log_mass: np.ndarray


def _solve(model, evidence, max_units, *, with_marginals: bool, leading=()) -> tuple[_Solution, dict[int, int]]:
    if not isinstance(model, PottsMachine):
        raise ParameterTypeError(f"model must be a PottsMachine, got {describe(model)}")
    max_units = check_int(max_units, "max_units", minimum=0)
    clamped = check_evidence(model, evidence)
    _guard(model, clamped, max_units)
    problem = _flatten(model, clamped, list(leading))
    n_prefix = _balanced_prefix(problem.cardinalities, len(leading), _cost_per_state(problem, with_marginals))
    log_mass, block_energy, block_marginals = _enumerate(problem, n_prefix, with_marginals)
    log_z = float(logsumexp(log_mass))
    share = np.exp(log_mass - log_z)
    share /= share.sum()
    means = np.clip(share @ block_marginals, 0.0, 1.0) if with_marginals else None
    solution = _Solution(log_z - problem.constant, float(share @ block_energy) + problem.constant, problem, means,
                         log_mass - problem.constant)
    return solution, clamped


def log_partition_function(model, *, evidence=None, max_units) -> float:
    solution, _ = _solve(model, evidence, max_units, with_marginals=False)
    return solution.log_z


def _marginal_tables(model, evidence, max_units) -> list[np.ndarray]:
    """``p(s_i = a | evidence)`` of every variable, one vector per variable (clamped ones one-hot)."""
    solution, clamped = _solve(model, evidence, max_units, with_marginals=True)
    tables = [np.zeros(k) for k in model.cardinalities]
    for i, a in clamped.items():
        tables[i][a] = 1.0
    start = solution.problem.field_start
    for p, i in enumerate(solution.problem.free.tolist()):
        tables[i] = solution.marginals[start[p]:start[p + 1]].copy()
    return tables


def marginals(model, *, evidence=None, max_units):
    """Every variable's exact marginal: a pandas Series indexed by (variable, state name), named ``"p"``."""
    import pandas as pd

    tables = _marginal_tables(model, evidence, max_units)
    state_names = model.state_names
    index = pd.MultiIndex.from_tuples(
        [(name, state) for name in model.names for state in state_names[name]], names=["variable", "state"]
    )
    return pd.Series(np.concatenate(tables), index=index, name="p")


def query(model, variables, *, evidence=None, joint=True, max_units):
    """Exact posterior over ``variables`` as pgmpy ``DiscreteFactor``s with the model's state names."""
    from .interop.pgmpy_potts import _categorical_factor as categorical_factor

    joint = check_bool(joint, "joint")
    clamped = check_evidence(model, evidence)
    variables = _check_variables(model, variables, clamped)
    state_names = model.state_names
    if not joint:
        tables = _marginal_tables(model, evidence, max_units)
        return {
            name: categorical_factor([name], [model.cardinalities[model.index(name)]], tables[model.index(name)],
                                     {name: state_names[name]})
            for name in variables
        }
    targets = [model.index(name) for name in variables]
    solution, _ = _solve(model, evidence, max_units, with_marginals=False, leading=targets)
    cards = [model.cardinalities[i] for i in targets]
    n_cells = math.prod(cards)
    # the blocks of one cell are consecutive (targets lead the prefix): combine them
    cells = logsumexp(solution.block_log_mass.reshape(n_cells, -1), axis=1)
    values = np.exp(cells - logsumexp(cells)).reshape(cards)
    return categorical_factor(list(variables), cards, values, {name: state_names[name] for name in variables})


def _check_variables(model, variables, clamped) -> list[str]:
    from ._validation import MAX_QUERY_VARIABLES

    if isinstance(variables, (str, bytes)) or not isinstance(variables, (list, tuple, np.ndarray)) \
            or (isinstance(variables, np.ndarray) and variables.ndim != 1):
        raise ParameterTypeError(f"variables must be a list of variable names, got {describe(variables)}")
    variables = [str(v) if isinstance(v, np.str_) else v for v in variables]
    if not variables or len(set(map(repr, variables))) != len(variables):
        raise ValidationError(f"variables must be a non-empty list of distinct names, got {variables!r}")
    for name in variables:
        if not isinstance(name, str) or name not in model.names:
            raise EvidenceError(f"variables names {describe(name)}, which is not a variable of the model")
        if model.index(name) in clamped:
            raise EvidenceError(f"variable {name!r} is both queried and given as evidence")
    if len(variables) > MAX_QUERY_VARIABLES:
        raise ValidationError(
            f"a joint query holds at most {MAX_QUERY_VARIABLES} variables, got {len(variables)}; ask joint=False"
        )
    return variables


def log_probability(model, states, *, max_units):
    """Exact ``log p(s)`` of complete states (state indices, shape (n_variables,) or (n_states, n_variables))."""
    log_z = log_partition_function(model, max_units=max_units)
    values = np.asarray(model.unnormalized_log_probability(states)) - log_z
    return float(values) if values.ndim == 0 else values


def log_likelihood(model, data, *, max_units) -> float:
    """Exact mean ``log p(v)`` of rows of the visible variables' states (hidden ones summed out).

    ``data``: state indices, shape (n_samples, n_visible), columns in the order of
    ``model.visible_names`` (a DataFrame is reordered by its column names and may hold state names).
    """
    from ._validation import check_categorical_states

    visible_names = model.visible_names
    visible_index = [model.index(name) for name in visible_names]
    if hasattr(data, "columns"):
        missing = [name for name in visible_names if name not in data.columns]
        if missing:
            raise ValidationError(f"data is missing columns for visible variables {missing[:5]!r}")
        frame = data[list(visible_names)]
        try:
            data = np.array([[model.state_index(name, value) for name, value in zip(visible_names, row)]
                             for row in frame.itertuples(index=False)],
                            dtype=np.int64).reshape(len(frame), len(visible_names))
        except EvidenceError as error:
            raise StateError(f"data: {error}") from error
    cards = np.array([model.cardinalities[i] for i in visible_index], dtype=np.int64)
    batch, _ = check_categorical_states(data, cards, "data")
    if batch.shape[0] == 0:
        raise ValidationError("data must hold at least one sample, got 0 rows")
    log_z = log_partition_function(model, max_units=max_units)
    if model.n_hidden == 0:
        return float(np.mean(model.unnormalized_log_probability(batch)) - log_z)
    rows, counts = np.unique(batch, axis=0, return_counts=True)
    total = 0.0
    for row, count in zip(rows, counts):
        evidence = {name: int(code) for name, code in zip(visible_names, row.tolist())}
        # codes, not names: state_index takes an index when the names are strings, and the names
        # themselves when they are integers; pass the name to be exact either way
        evidence = {name: model.state_names[name][code] for name, code in evidence.items()}
        total += count * log_partition_function(model, evidence=evidence, max_units=max_units)
    return float(total / batch.shape[0] - log_z)


def mean_energy(model, *, max_units) -> float:
    solution, _ = _solve(model, None, max_units, with_marginals=False)
    return model.temperature * solution.mean_energy


def entropy(model, *, max_units) -> float:
    solution, _ = _solve(model, None, max_units, with_marginals=False)
    return solution.log_z + solution.mean_energy
