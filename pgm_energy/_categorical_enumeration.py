"""Exact answers for categorical RBMs by enumerating the hidden layer: log Z, marginals, queries, likelihoods.

For a :class:`~pgm_energy.models.categorical_rbm.CategoricalRBM` the visible variables are
independent given the hidden units, so

    Z(T) = sum_h exp(c.h / T) prod_i sum_a exp((b_i(a) + W_i(a, .).h) / T),

one log-sum-exp per visible variable and hidden state. The hidden layer is walked in Gray-code
order by :mod:`pgm_energy._kernels.categorical_enumeration` (O(sum k) per state), split into
blocks run in parallel through :func:`pgm_energy._launch.run_blocks` (Ctrl-C between calls).

Evidence clamps visible variables (by state name, or by index when the names are strings:
pgmpy's convention, as for Potts machines) and hidden units (0 or 1): a clamped visible
variable adds its field and shifts the hidden biases by its weight row, a clamped hidden unit
adds its row to the visible inputs. The size guard counts the free hidden units: more than
``max_units`` raises :class:`~pgm_energy.exceptions.ModelSizeError` before any work.
Answers name states as :func:`pgm_energy._potts_enumeration` does, hidden units with the
states 0 and 1, so that every answer equals that of ``model.to_potts_machine()``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

from ._launch import block_prefix_bits, run_blocks
from ._potts_enumeration import check_evidence
from ._validation import (MAX_QUERY_VARIABLES, check_bool, check_categorical_states, check_int, check_query_variables,
                          describe)
from .exceptions import ModelSizeError, ParameterTypeError, ValidationError
from .models.categorical_rbm import CategoricalRBM

__all__ = ["log_partition_function", "marginals", "query", "log_probability", "log_likelihood", "mean_energy",
           "entropy"]

#: blocks of hidden states per enumeration at least (2**8 balance two to many cores)
_PREFIX_BITS = 8
#: an exp and its share of a log, in unit updates (multiply-adds), for block sizes and chunking
_EXP_COST = 8.0
#: below this many unit updates an enumeration runs on one thread: waking the pool (and compiling
#: the parallel kernel on a first call, 2-3 s) costs more than the work
_SERIAL_WORK_LIMIT = 2.0**22
#: rough speed on one core, hidden states times visible states per second, for the guard's message
_VISITS_PER_SECOND = 1.0e8


class _Problem(NamedTuple):
    """The free part of a categorical RBM at T = 1, as the kernel takes it."""

    hidden_rows: np.ndarray  # (n_free_hidden, n_free_states): W[:, j] / T of each free hidden unit, C-contiguous
    visible_bias: np.ndarray  # (n_free_states,): b / T plus the rows of the clamped hidden units that are on
    field_start: np.ndarray  # (n_free_visible + 1,)
    hidden_bias: np.ndarray  # (n_free_hidden,): c / T plus the weights of the clamped visible states
    constant: float  # E / T of the clamped part
    free_visible: np.ndarray  # model index of each free visible variable
    free_hidden: np.ndarray  # hidden index (0 .. n_hidden - 1) of each enumerated unit, in enumeration order


def _check_model(model) -> None:
    if not isinstance(model, CategoricalRBM):
        raise ParameterTypeError(f"model must be a CategoricalRBM, got {describe(model)}")


def _flatten(model: CategoricalRBM, clamped: dict[int, int], last_hidden=()) -> _Problem:
    """Clamp ``clamped`` ({unit index: state index}) and scale to T = 1.

    ``last_hidden`` (hidden indices, free) are enumerated last, in reverse order, so that the
    first of them is the most significant bit of a block index (a joint table in C order).
    """
    temperature = model.temperature
    n_visible, offsets = model.n_visible, model.field_offsets
    weights = model.weights / temperature
    b = model.visible_bias / temperature
    c = model.hidden_bias / temperature
    rows_v = np.array([offsets[i] + a for i, a in sorted(clamped.items()) if i < n_visible], dtype=np.int64)
    on_h = np.array([i - n_visible for i, a in sorted(clamped.items()) if i >= n_visible and a == 1], dtype=np.int64)
    clamped_h = {i - n_visible for i in clamped if i >= n_visible}
    free_visible = np.array([i for i in range(n_visible) if i not in clamped], dtype=np.int64)
    last = list(last_hidden)
    free_hidden = np.array([j for j in range(model.n_hidden) if j not in clamped_h and j not in last] + last[::-1],
                           dtype=np.int64)
    cross = weights[np.ix_(rows_v, on_h)]
    constant = -(b[rows_v].sum() + c[on_h].sum() + cross.sum())
    sizes = np.diff(offsets)[free_visible]
    states = np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in free_visible]) if free_visible.size \
        else np.zeros(0, dtype=np.int64)
    visible_bias = b[states] + weights[np.ix_(states, on_h)].sum(axis=1)
    hidden_bias = c[free_hidden] + weights[np.ix_(rows_v, free_hidden)].sum(axis=0)
    return _Problem(
        np.ascontiguousarray(weights[np.ix_(states, free_hidden)].T), np.ascontiguousarray(visible_bias),
        np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64), np.ascontiguousarray(hidden_bias),
        float(constant), free_visible, free_hidden,
    )


def _guard(model: CategoricalRBM, clamped: dict[int, int], max_units: int, repeats: int = 1) -> None:
    """Refuse to enumerate more than ``max_units`` free hidden units, before any array is built.

    ``repeats``: the enumeration runs once per joint state of a query's visible variables, which
    the quoted time includes.
    """
    n = model.n_hidden - sum(1 for i in clamped if i >= model.n_visible)
    if n <= max_units:
        return
    states = sum(k for i, k in enumerate(model.cardinalities) if i not in clamped)
    # in log10: 2**n overflows a float for n >= 1024
    log10_states = n * math.log10(2.0)
    log10_seconds = log10_states + math.log10(repeats * (states + n) / _VISITS_PER_SECOND)
    again = f", {repeats} times over (once per joint state of the queried visible variables)" if repeats > 1 else ""
    raise ModelSizeError(
        f"exact enumeration of this CategoricalRBM visits the 2**{n} = {_power_of_ten(log10_states)} states of its "
        f"{n} free hidden units{again} (roughly {_power_of_ten(log10_seconds)} s on one core), more than "
        f"max_units={max_units} allows; pass max_units={n} "
        "to run it anyway, clamp hidden units with evidence, or use a sampler"
    )


def _power_of_ten(log10_value: float) -> str:
    """``10**log10_value`` formatted without overflow, e.g. '1.07e+09'."""
    exponent = math.floor(log10_value)
    return f"{10 ** (log10_value - exponent):.3g}e{exponent:+03d}"


class _Solution(NamedTuple):
    log_z: float  # log of the sum over the free states of exp(-E / T), clamped part included
    mean_energy: float  # <E / T>, clamped part included (NaN without moments)
    problem: _Problem
    hidden_means: np.ndarray | None  # p(h_j = 1) of the free hidden units, in enumeration order
    visible_means: np.ndarray | None  # p(v_i = a) of the free visible variables, flat
    block_log_mass: np.ndarray  # log mass of each block of the hidden enumeration, clamped part included


def _solve(model, clamped: dict[int, int], *, with_moments: bool, last_hidden=()) -> _Solution:
    """Enumerate the free hidden units of ``model`` given ``clamped`` (checked and guarded by the caller)."""
    from ._kernels import categorical_enumeration as kernels

    problem = _flatten(model, clamped, last_hidden)
    n, n_states = problem.hidden_bias.shape[0], problem.visible_bias.shape[0]
    cost = n_states * (_EXP_COST + (3.0 if with_moments else 0.0)) + (n if with_moments else 1)
    n_prefix = block_prefix_bits(n, cost, max(min(_PREFIX_BITS, n), len(last_hidden)))
    work = 2.0**n * cost
    kernel = kernels.categorical_block_sums if work > _SERIAL_WORK_LIMIT else kernels.categorical_block_sums_serial
    n_blocks = 1 << n_prefix
    log_mass, moments = run_blocks(
        kernel, n_blocks, problem.hidden_rows, problem.visible_bias, problem.field_start, problem.hidden_bias,
        n_prefix, with_moments, serial=kernels.categorical_block_sums_serial, cost_per_block=work / n_blocks,
    )
    log_z = float(logsumexp(log_mass))
    if not with_moments:
        return _Solution(log_z - problem.constant, math.nan, problem, None, None, log_mass - problem.constant)
    share = np.exp(log_mass - log_z)
    share /= share.sum()
    means = share @ moments
    # rounding may leave a probability a few ulps outside [0, 1]
    return _Solution(log_z - problem.constant, float(means[0]) + problem.constant, problem,
                     np.clip(means[1:1 + n], 0.0, 1.0), np.clip(means[1 + n:], 0.0, 1.0), log_mass - problem.constant)


def _prepare(model, evidence, max_units) -> tuple[dict[int, int], int]:
    _check_model(model)
    max_units = check_int(max_units, "max_units", minimum=0)
    return check_evidence(model, evidence), max_units


def log_partition_function(model, *, evidence=None, max_units) -> float:
    """Exact ``log Z(T)``, or with evidence the log of the sum over the states that agree with it.

    Parameters
    ----------
    model : CategoricalRBM
    evidence : dict, optional
        ``{visible variable: state name or index}`` and ``{hidden unit: 0 or 1}``.
    max_units : int
        Largest number of free hidden units enumerated (``2**max_units`` hidden states).

    Returns
    -------
    float

    Raises
    ------
    ModelSizeError
        With more than ``max_units`` free hidden units.
    EvidenceError
        For an unknown variable or a state it does not have.
    """
    clamped, max_units = _prepare(model, evidence, max_units)
    _guard(model, clamped, max_units)
    return _solve(model, clamped, with_moments=False).log_z


def _marginal_tables(model, evidence, max_units) -> list[np.ndarray]:
    """``p(x = s | evidence)`` of every unit, one vector per unit in ``model.names`` order (clamped ones one-hot)."""
    clamped, max_units = _prepare(model, evidence, max_units)
    _guard(model, clamped, max_units)
    solution = _solve(model, clamped, with_moments=True)
    n_visible = model.n_visible
    tables = [np.zeros(k) for k in model.cardinalities] + [np.zeros(2) for _ in range(model.n_hidden)]
    for i, a in clamped.items():
        tables[i][a] = 1.0
    start = solution.problem.field_start
    for p, i in enumerate(solution.problem.free_visible.tolist()):
        tables[i] = solution.visible_means[start[p]:start[p + 1]].copy()
    for p, j in enumerate(solution.problem.free_hidden.tolist()):
        on = solution.hidden_means[p]
        tables[n_visible + j] = np.array([1.0 - on, on])
    return tables


def marginals(model, *, evidence=None, max_units):
    """Every unit's exact marginal: a pandas Series indexed by (variable, state), named ``"p"``.

    Visible variables are listed with their state names, hidden units with the states 0 and 1
    (``p(h_j = 1)`` at ``(h_j, 1)``), in the order of ``model.names``: the index of
    ``marginals(model.to_potts_machine())``.
    """
    import pandas as pd

    tables = _marginal_tables(model, evidence, max_units)
    state_names = model.state_names
    index = pd.MultiIndex.from_tuples(
        [(name, state) for name in model.names for state in state_names[name]], names=["variable", "state"]
    )
    return pd.Series(np.concatenate(tables), index=index, name="p")


def query(model, variables, *, evidence=None, joint=True, max_units):
    """Exact posterior over ``variables`` as pgmpy ``DiscreteFactor``s with the model's state names.

    A joint table enumerates the hidden layer once per joint state of its visible variables; its
    hidden variables are the enumeration's top bits, so they cost nothing more. At most
    ``2**20`` entries (:data:`~pgm_energy._validation.MAX_QUERY_VARIABLES`).
    """
    from .interop.pgmpy_potts import _categorical_factor as categorical_factor

    joint = check_bool(joint, "joint")
    clamped, max_units = _prepare(model, evidence, max_units)
    variables = check_query_variables(variables, model.names, clamped, joint=joint)
    state_names = model.state_names
    cards = {name: len(state_names[name]) for name in variables}
    if not joint:
        tables = _marginal_tables(model, evidence, max_units)
        return {name: categorical_factor([name], [cards[name]], tables[model.index(name)], {name: state_names[name]})
                for name in variables}
    n_cells = math.prod(cards.values())
    if n_cells > 2**MAX_QUERY_VARIABLES:
        raise ModelSizeError(
            f"a joint query over {variables!r} builds a table of {n_cells} entries, more than the "
            f"2**{MAX_QUERY_VARIABLES} allowed; query fewer variables, or ask joint=False for marginals"
        )
    visible = [name for name in variables if model.index(name) < model.n_visible]
    hidden = [name for name in variables if model.index(name) >= model.n_visible]
    last_hidden = [model.index(name) - model.n_visible for name in hidden]
    visible_cells = math.prod(cards[name] for name in visible)
    _guard(model, {**clamped, **{model.index(name): 0 for name in visible}}, max_units, repeats=visible_cells)
    rows = []
    for cell in np.ndindex(*(cards[name] for name in visible)):
        given = {**clamped, **{model.index(name): a for name, a in zip(visible, cell)}}
        solution = _solve(model, given, with_moments=False, last_hidden=last_hidden)
        # the queried hidden units are the top bits of the block index, the first one most significant
        rows.append(logsumexp(solution.block_log_mass.reshape(2 ** len(hidden), -1), axis=1))
    cells = np.concatenate(rows)
    table = np.exp(cells - logsumexp(cells)).reshape([cards[name] for name in visible + hidden])
    order = [(visible + hidden).index(name) for name in variables]
    return categorical_factor(list(variables), [cards[name] for name in variables], np.transpose(table, order),
                              {name: state_names[name] for name in variables})


def _all_cardinalities(model) -> np.ndarray:
    return np.array(list(model.cardinalities) + [2] * model.n_hidden, dtype=np.int64)


def log_probability(model, states, *, max_units):
    """Exact ``log p(v, h)`` of complete states.

    Parameters
    ----------
    model : CategoricalRBM
    states : array_like of int, shape (n_units,) or (n_states, n_units)
        Visible state indices then hidden 0/1, in the order of ``model.names``.

    Returns
    -------
    float or ndarray of shape (n_states,)
    """
    _check_model(model)
    batch, single = check_categorical_states(states, _all_cardinalities(model), "states")
    log_z = log_partition_function(model, max_units=max_units)
    values = model.unnormalized_log_probability(batch[:, :model.n_visible], batch[:, model.n_visible:]) - log_z
    return float(values[0]) if single else values


def log_likelihood(model, data, *, max_units) -> float:
    """Exact mean ``log p(v) = -F_T(v) / T - log Z`` of rows of visible states (hidden units summed out).

    ``data``: state indices, shape (n_samples, n_visible) or (n_visible,), columns in the order of
    ``model.visible_names`` (a DataFrame is reordered by its column names and may hold state names).
    """
    _check_model(model)
    visible_names = model.visible_names
    if hasattr(data, "columns"):
        missing = [name for name in visible_names if name not in data.columns]
        if missing:
            raise ValidationError(f"data is missing columns for visible variables {missing[:5]!r}")
        frame = data[list(visible_names)]
        codes = [[model.state_index(name, value) for name, value in zip(visible_names, row)]
                 for row in frame.itertuples(index=False)]
        data = np.array(codes, dtype=np.int64).reshape(len(frame), len(visible_names))
    batch, _ = check_categorical_states(data, np.array(model.cardinalities, dtype=np.int64), "data")
    if batch.shape[0] == 0:
        raise ValidationError("data must hold at least one sample, got 0 rows")
    log_z = log_partition_function(model, max_units=max_units)
    return float(np.mean(-model.free_energy(batch) / model.temperature) - log_z)


def mean_energy(model, *, max_units) -> float:
    """Internal energy ``U = <E>``."""
    clamped, max_units = _prepare(model, None, max_units)
    _guard(model, clamped, max_units)
    return model.temperature * _solve(model, clamped, with_moments=True).mean_energy


def entropy(model, *, max_units) -> float:
    """Entropy ``S = log Z + <E> / T`` in nats."""
    clamped, max_units = _prepare(model, None, max_units)
    _guard(model, clamped, max_units)
    solution = _solve(model, clamped, with_moments=True)
    return solution.log_z + solution.mean_energy
