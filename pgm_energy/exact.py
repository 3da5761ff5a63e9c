"""The exact oracle: log Z, marginals, queries, most probable states, likelihoods and thermodynamics.

All by enumeration: general Boltzmann machines in Gray-code order with incremental
local fields (Numba, split across cores); restricted machines sum one layer in
closed form and enumerate the other. Everything is streamed in log space: no
``2**n`` table is ever held (a joint query holds its ``2**k`` entries, ``k <= 20``),
and weights of +-50 neither overflow nor underflow.

All functions take the size of the enumeration from the units left free after
the evidence is clamped and refuse more than ``max_units`` enumerated units
(default 30) with a :class:`~pgm_energy.exceptions.ModelSizeError`.

Potts machines (categorical variables) are enumerated in mixed radix by
:mod:`pgm_energy._potts_enumeration`, which the functions here hand them to: their
evidence and answers use state names (pgmpy's convention), ``marginals`` is a Series
indexed by (variable, state), and the guard allows ``2**max_units`` joint states.
Categorical RBMs (:mod:`pgm_energy._categorical_enumeration`) and Gaussian-Bernoulli RBMs
(:mod:`pgm_energy._gaussian_enumeration`) enumerate their hidden layer and sum the visible one
in closed form (a log-sum-exp per categorical variable; a Gaussian integral); ``max_units``
counts their free hidden units.

Conventions: natural logarithms (nats), Boltzmann's constant 1, so
``F = -T log Z``, ``U = <E>``, ``S = -sum p log p`` and ``F = U - T S``.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

from ._launch import block_prefix_bits, run_blocks
from ._math import log_sum_exp
from ._validation import (
    DEFAULT_MAX_UNITS,
    MAX_QUERY_VARIABLES,
    check_bool,
    check_evidence,
    check_int,
    check_query_variables,
    check_states,
    describe,
)
from .exceptions import ModelSizeError, ParameterTypeError
from .models import (BoltzmannMachine, CategoricalRBM, DeepBoltzmannMachine, GaussianBernoulliRBM, PottsMachine,
                     RestrictedBoltzmannMachine)

__all__ = [
    "DEFAULT_MAX_UNITS",
    "log_partition_function",
    "marginals",
    "query",
    "log_likelihood",
    "log_probability",
    "mean_energy",
    "entropy",
    "helmholtz_free_energy",
]

#: default limit on the number of enumerated units (2**30 states)
# Blocks of states handed to the parallel kernels: 2**8 blocks balance two to many cores.
_PREFIX_BITS = 8
# A bipartite state with moments costs about 64 pairwise unit updates per analytic unit
# (an exp, a log1p and a division against one multiply-add).
_BIPARTITE_UNIT_COST = 64.0
# Rough enumeration speed on one core (unit updates per second), only used to estimate
# the cost quoted in the size-guard message.
_UNIT_UPDATES_PER_SECOND = {"pairwise": 3.0e9, "bipartite": 4.0e9}
# Below this many unit updates an enumeration runs on one thread: waking a pool costs more.
_SERIAL_WORK_LIMIT = 2.0**18
# The product kernel (log Z of an RBM, 2**m * n_analytic unit updates) runs on one thread up to
# this much work, about 30 ms on one core (an RBM of 64 x 20 units is below it): sharing it out
# would save at most half of that per call, while a first call that takes the parallel kernel
# compiles it (2-3 s, docs/architecture.md), which the serial one spares.
_PRODUCT_SERIAL_WORK_LIMIT = 2.0**27


class _Pairwise(NamedTuple):
    """Free part of a general machine at T = 1: ``E'(s) = -1/2 s'Ws - b's + constant``."""

    weights: np.ndarray  # (n_free, n_free), C-contiguous
    biases: np.ndarray  # (n_free,)
    constant: float
    free: np.ndarray  # model indices of the free units


class _Bipartite(NamedTuple):
    """Free part of an RBM at T = 1: ``E'(v, h) = -v'Wh - b'v - c'h + constant``."""

    weights: np.ndarray  # (n_free_visible, n_free_hidden)
    visible_bias: np.ndarray
    hidden_bias: np.ndarray
    constant: float
    free_visible: np.ndarray  # model indices
    free_hidden: np.ndarray


class _Enumeration(NamedTuple):
    """What one enumeration returns, in units of T = 1."""

    log_z: float
    mean_energy: float  # <E / T>, offset included
    free: np.ndarray  # model indices of the free units
    free_means: np.ndarray | None  # p(s_i = 1) of the free units, in the order of ``free``


#: model kinds whose enumeration lives in a module of its own (this layer), by class; the
#: public functions below hand such a model to the function of the same name there
_ORACLES = {
    PottsMachine: "_potts_enumeration",
    CategoricalRBM: "_categorical_enumeration",
    GaussianBernoulliRBM: "_gaussian_enumeration",
    DeepBoltzmannMachine: "_deep_boltzmann_enumeration",
}


def _oracle(model):
    """The module that enumerates ``model``'s kind, or None for the binary machines (this module)."""
    from importlib import import_module

    name = _ORACLES.get(type(model))
    return None if name is None else import_module(f"{__package__}.{name}")


def _check_model(model) -> None:
    if not isinstance(model, (BoltzmannMachine, RestrictedBoltzmannMachine, *_ORACLES)):
        raise ParameterTypeError(
            f"model must be a BoltzmannMachine, RestrictedBoltzmannMachine, PottsMachine, CategoricalRBM, "
            f"GaussianBernoulliRBM or DeepBoltzmannMachine, "
            f"got {type(model).__name__}: {describe(model)}"
        )


def _flatten(model, clamped: dict[int, int]):
    """Condition ``model`` on ``clamped`` (unit index -> 0/1) and scale to T = 1.

    The constructors refuse a temperature that would make ``parameters / T`` overflow
    (``model.energy_bound / T`` is within ``MAX_ENERGY_SCALE``), so the scaling stays finite.
    """
    temperature = model.temperature
    if isinstance(model, RestrictedBoltzmannMachine):
        n_visible = model.n_visible
        weights = model.weights / temperature
        b = model.visible_bias / temperature
        c = model.hidden_bias / temperature
        clamped_v = np.array([i for i in clamped if i < n_visible], dtype=np.int64)
        clamped_h = np.array([i - n_visible for i in clamped if i >= n_visible], dtype=np.int64)
        value_v = np.array([clamped[i] for i in clamped_v], dtype=np.float64)
        value_h = np.array([clamped[i + n_visible] for i in clamped_h], dtype=np.float64)
        free_v = np.setdiff1d(np.arange(n_visible), clamped_v)
        free_h = np.setdiff1d(np.arange(model.n_hidden), clamped_h)
        constant = -(value_v @ weights[np.ix_(clamped_v, clamped_h)] @ value_h) - b[clamped_v] @ value_v - c[clamped_h] @ value_h
        return _Bipartite(
            np.ascontiguousarray(weights[np.ix_(free_v, free_h)]),
            b[free_v] + weights[np.ix_(free_v, clamped_h)] @ value_h,
            c[free_h] + value_v @ weights[np.ix_(clamped_v, free_h)],
            float(constant),
            free_v,
            free_h + n_visible,
        )
    n_units = model.n_units
    clamped_idx = np.array(sorted(clamped), dtype=np.int64)
    values = np.array([clamped[i] for i in clamped_idx], dtype=np.float64)
    free = np.setdiff1d(np.arange(n_units), clamped_idx)
    weights = model.weights
    b = model.biases / temperature
    if model.is_sparse:
        free_block = weights[free][:, free].toarray()
        cross = np.asarray(weights[free][:, clamped_idx] @ values).ravel()
        clamped_quadratic = float(values @ (weights[clamped_idx][:, clamped_idx] @ values))
    else:
        free_block = weights[np.ix_(free, free)]
        cross = weights[np.ix_(free, clamped_idx)] @ values
        clamped_quadratic = float(values @ weights[np.ix_(clamped_idx, clamped_idx)] @ values)
    constant = (-0.5 * clamped_quadratic / temperature - b[clamped_idx] @ values + model.offset / temperature)
    return _Pairwise(
        np.ascontiguousarray(free_block / temperature, dtype=np.float64),
        b[free] + cross / temperature,
        float(constant),
        free,
    )


def _power_of_ten(log10_value: float) -> str:
    """Format 10**log10_value without overflow, e.g. '1.07e+09'."""
    exponent = math.floor(log10_value)
    return f"{10 ** (log10_value - exponent):.3g}e{exponent:+03d}"


def _guard(model, clamped: dict[int, int], max_units: int, *, table_bits: int = 0) -> None:
    """Refuse an enumeration over more than ``max_units`` units, before any array is built.

    ``table_bits`` (k > 0): the enumeration is repeated for each of the ``2**k`` entries of a
    joint table (in one pass: the targets are enumerated too), which the quoted time includes.
    """
    if isinstance(model, RestrictedBoltzmannMachine):
        n_clamped_visible = sum(1 for i in clamped if i < model.n_visible)
        free_visible = model.n_visible - n_clamped_visible
        free_hidden = model.n_hidden - (len(clamped) - n_clamped_visible)
        n, larger = min(free_visible, free_hidden), max(free_visible, free_hidden)
        what = f"the smaller free layer ({n} units) of an RBM"
        cost_per_state = larger / _UNIT_UPDATES_PER_SECOND["bipartite"]
    else:
        n = model.n_units - len(clamped)
        what = f"{n} free units of a Boltzmann machine"
        cost_per_state = max(n, 1) / _UNIT_UPDATES_PER_SECOND["pairwise"]
    if n <= max_units:
        return
    # In log10, since 2**n overflows a float for n >= 1024.
    log10_states = n * math.log10(2.0)
    log10_seconds = (n + table_bits) * math.log10(2.0) + math.log10(cost_per_state)
    table = f" for each of the 2**{table_bits} entries of the joint table" if table_bits else ""
    raise ModelSizeError(
        f"exact enumeration of {what} visits 2**{n} = {_power_of_ten(log10_states)} states{table} "
        f"(roughly {_power_of_ten(log10_seconds)} s on one core), more than max_units={max_units} allows; "
        f"pass max_units={n} to run it anyway, clamp units with evidence, or use a sampler"
    )


def _block_shares(log_mass: np.ndarray, log_z: float) -> np.ndarray:
    """Each block's share of Z, summing to 1 up to one rounding."""
    share = np.exp(log_mass - log_z)
    return share / share.sum()


def _pick(parallel_kernel, serial_kernel, work: float):
    """The serial kernel for small enumerations: waking a thread pool costs more than the work."""
    return parallel_kernel if work > _SERIAL_WORK_LIMIT else serial_kernel


def _block_sums(parallel_kernel, serial_kernel, work: float, n_prefix: int, *args):
    """The block kernel's results for all its ``2**n_prefix`` blocks (``kernel(*args, first, count)``).

    In time-bounded kernel calls (:func:`pgm_energy._launch.run_blocks`: Ctrl-C between
    them, the bits of one call).
    """
    kernel = _pick(parallel_kernel, serial_kernel, work)
    n_blocks = 1 << n_prefix
    return run_blocks(kernel, n_blocks, *args, serial=serial_kernel, cost_per_block=work / n_blocks)


def _enumerate(problem, *, with_moments: bool) -> _Enumeration:
    from ._kernels import enumeration

    if isinstance(problem, _Pairwise):
        n = problem.biases.shape[0]
        n_prefix = block_prefix_bits(n, n, _PREFIX_BITS)
        log_mass, block_energy, block_state = _block_sums(
            enumeration.pairwise_block_sums, enumeration.pairwise_block_sums_serial, 2.0**n * n, n_prefix,
            problem.weights, problem.biases, n_prefix, with_moments,
        )
        log_z = float(logsumexp(log_mass))
        share = _block_shares(log_mass, log_z)
        # Rounding may leave a probability a few ulps outside [0, 1]; clip to the exact range.
        means = np.clip(share @ block_state, 0.0, 1.0) if with_moments else None
        return _Enumeration(
            log_z - problem.constant,
            float(share @ block_energy) + problem.constant,
            problem.free,
            means,
        )
    weights, b, c = problem.weights, problem.visible_bias, problem.hidden_bias
    free = np.concatenate([problem.free_visible, problem.free_hidden])
    # Enumerate the smaller layer; the larger one is summed in closed form.
    enumerate_hidden = c.shape[0] <= b.shape[0]
    if enumerate_hidden:
        coupling, analytic_bias, enumerated_bias = np.ascontiguousarray(weights.T), b, c
    else:
        coupling, analytic_bias, enumerated_bias = np.ascontiguousarray(weights), c, b
    n_enumerated, n_analytic = coupling.shape
    if not with_moments:
        # log Z alone: the product kernel (no exp or log per analytic unit and state).
        from ._kernels.bipartite import bipartite_log_mass

        work = 2.0**n_enumerated * n_analytic
        log_mass = bipartite_log_mass(
            coupling, analytic_bias, enumerated_bias, parallel=work > _PRODUCT_SERIAL_WORK_LIMIT,
        )
        return _Enumeration(float(logsumexp(log_mass)) - problem.constant, float("nan"), free, None)
    n_prefix = block_prefix_bits(n_enumerated, _BIPARTITE_UNIT_COST * n_analytic, _PREFIX_BITS)
    log_mass, block_energy, block_analytic, block_enumerated = _block_sums(
        enumeration.bipartite_block_sums, enumeration.bipartite_block_sums_serial, 2.0**n_enumerated * n_analytic,
        n_prefix, coupling, analytic_bias, enumerated_bias, n_prefix, True,
    )
    log_z = float(logsumexp(log_mass))
    share = _block_shares(log_mass, log_z)
    layers = [share @ block_analytic, share @ block_enumerated]
    means = np.clip(np.concatenate(layers if enumerate_hidden else layers[::-1]), 0.0, 1.0)
    return _Enumeration(log_z - problem.constant, float(share @ block_energy) + problem.constant, free, means)


def _solve(model, evidence, max_units, *, with_moments):
    _check_model(model)
    max_units = check_int(max_units, "max_units", minimum=0)
    clamped = check_evidence(evidence, model.names)
    _guard(model, clamped, max_units)
    problem = _flatten(model, clamped)
    return _enumerate(problem, with_moments=with_moments), clamped


def log_partition_function(model, *, evidence=None, max_units=DEFAULT_MAX_UNITS) -> float:
    """Exact ``log Z(T) = log sum_s exp(-E(s) / T)``.

    Parameters
    ----------
    model : BoltzmannMachine or RestrictedBoltzmannMachine
    evidence : dict of str -> 0/1, optional
        With evidence, the log of the sum over the states that agree with it
        (so ``log p(evidence) = log_partition_function(model, evidence=e) - log_partition_function(model)``).
    max_units : int, default 30
        Largest number of enumerated units allowed (a general machine's free
        units, or an RBM's smaller free layer).

    Returns
    -------
    float

    Raises
    ------
    ModelSizeError
        If the enumeration exceeds ``max_units``.
    EvidenceError
        For unknown variables or values other than 0/1 in ``evidence``.
    """
    if (oracle := _oracle(model)) is not None:
        return oracle.log_partition_function(model, evidence=evidence, max_units=max_units)
    result, _ = _solve(model, evidence, max_units, with_moments=False)
    return result.log_z


def _marginal_array(model, *, evidence=None, max_units=DEFAULT_MAX_UNITS) -> np.ndarray:
    """:func:`marginals` as a plain array of shape (n_units,), in the order of ``model.names``."""
    result, clamped = _solve(model, evidence, max_units, with_moments=True)
    probabilities = np.empty(model.n_units)
    for index, value in clamped.items():
        probabilities[index] = value
    probabilities[result.free] = result.free_means
    return probabilities


def marginals(model, *, evidence=None, max_units=DEFAULT_MAX_UNITS):
    """Exact ``p(s_i = 1 | evidence)`` for every unit, labelled by unit name.

    Parameters
    ----------
    model : BoltzmannMachine or RestrictedBoltzmannMachine
    evidence : dict of str -> 0/1, optional
    max_units : int, default 30
        Largest number of enumerated units allowed.

    Returns
    -------
    pandas.Series, shape (n_units,)
        Indexed by ``model.names`` (in that order, index name ``"unit"``), named
        ``"p(on)"``; clamped units hold their evidence value. ``.to_numpy()``
        gives the plain array; a slice such as ``[:n_visible]`` is positional.

    Examples
    --------
    >>> from pgm_energy import BoltzmannMachine
    >>> bm = BoltzmannMachine([[0.0, 2.0], [2.0, 0.0]], [-1.0, -0.5])
    >>> marginals(bm, evidence={"v1": 1})
    unit
    v0    0.731059
    v1    1.000000
    Name: p(on), dtype: float64
    """
    from ._math import by_unit

    if (oracle := _oracle(model)) is not None:
        return oracle.marginals(model, evidence=evidence, max_units=max_units)
    return by_unit(_marginal_array(model, evidence=evidence, max_units=max_units), model.names, "p(on)")


# --------------------------------------------------------------------------- joint tables
# A joint table of k targets has 2**k entries (8 bytes each). It is filled by the cheapest of
# these plans, by estimated cost in unit updates (2**n enumerated states cost about n each):
#
# * one pass (any model): every free unit but an RBM's larger layer of non-target units is
#   enumerated in one Gray-code walk whose consecutive states share their targets
#   (_kernels/enumeration.cell_log_masses), the RBM layer summed with a softplus per unit;
# * one layer (RBMs, either layer): that layer is enumerated by the product kernel of
#   _kernels/bipartite.py, its targets being the outer bits, once per assignment of the
#   other layer's targets (none when every target lies in the enumerated layer).
_SOFTPLUS_COST = 40.0  # an exp and a log1p
_PRODUCT_UNIT_COST = 1.0  # a unit of the product kernel
_CALL_COST = 5.0e4  # the Python work around one kernel call


def _cells_to_table(cells: np.ndarray, n_targets: int, n_extra: int) -> np.ndarray:
    """Sum out the ``n_extra`` low bits of the cells (units split off only to share the work)."""
    if n_extra == 0:
        return cells
    return log_sum_exp(cells.reshape(1 << n_targets, 1 << n_extra), axis=1)


def _states(n_units: int) -> float:
    """``2.0**n_units`` for comparing costs, capped where a float would overflow."""
    return 2.0 ** min(n_units, 1000)


def _free_units(problem) -> tuple[np.ndarray, np.ndarray]:
    """Model indices and biases of a flattened problem's free units (an RBM's visible ones first)."""
    if isinstance(problem, _Pairwise):
        return problem.free, problem.biases
    return (
        np.concatenate([problem.free_visible, problem.free_hidden]),
        np.concatenate([problem.visible_bias, problem.hidden_bias]),
    )


def _couplings(problem, rows: list[int], columns: list[int]) -> np.ndarray:
    """Rows and columns (positions in :func:`_free_units`) of the symmetric coupling matrix of the free units.

    For an RBM, without building the whole matrix: the visible-hidden blocks are the
    weights, the others zero.
    """
    if isinstance(problem, _Pairwise):
        return np.ascontiguousarray(problem.weights[np.ix_(rows, columns)])
    n_v = problem.free_visible.shape[0]
    rows, columns = np.asarray(rows, dtype=np.int64), np.asarray(columns, dtype=np.int64)
    row_visible, column_visible = rows < n_v, columns < n_v
    out = np.zeros((rows.shape[0], columns.shape[0]))
    out[np.ix_(row_visible, ~column_visible)] = problem.weights[np.ix_(rows[row_visible], columns[~column_visible] - n_v)]
    out[np.ix_(~row_visible, column_visible)] = problem.weights[np.ix_(columns[column_visible], rows[~row_visible] - n_v)].T
    return out


def _one_pass_plan(problem, targets: list[int]):
    """``(cost, run)``: the joint table in one enumeration of :func:`cell_log_masses`.

    The enumerated units are ordered ``summed, extra, targets (reversed)``, so that the
    kernel's cell bits are the extra units (low bits), then the targets, the first one most
    significant. Extra units are split off the summed ones only so that there are enough
    blocks to share between threads.
    """
    free, biases = _free_units(problem)
    position = {int(unit): k for k, unit in enumerate(free)}
    target_positions = [position[unit] for unit in targets]
    chosen = set(target_positions)
    others = [k for k in range(free.shape[0]) if k not in chosen]
    analytic: list[int] = []
    if isinstance(problem, _Bipartite):
        n_v = problem.free_visible.shape[0]
        visible = [k for k in others if k < n_v]
        hidden = [k for k in others if k >= n_v]
        analytic, others = (visible, hidden) if len(visible) > len(hidden) else (hidden, visible)
    n_enumerated = len(targets) + len(others)
    cost_per_state = n_enumerated + _SOFTPLUS_COST * len(analytic)
    cost = _states(n_enumerated) * cost_per_state
    n_prefix = block_prefix_bits(n_enumerated, cost_per_state, _PREFIX_BITS)
    n_extra = min(max(0, n_prefix - len(targets)), len(others))
    order = others + target_positions[::-1]

    def run():
        from ._kernels import enumeration

        (cells,) = _block_sums(
            enumeration.cell_log_masses, enumeration.cell_log_masses_serial, cost, n_prefix,
            _couplings(problem, order, order), biases[order], _couplings(problem, order, analytic), biases[analytic],
            len(others) - n_extra, n_prefix,
        )
        return _cells_to_table(cells.ravel(), len(targets), n_extra) - problem.constant

    return cost, run


def _layer_plan(problem, targets: list[int], enumerated_layer: int):
    """``(cost, run)``: an RBM's joint table by the product kernel over one layer (0 visible, 1 hidden).

    :func:`~pgm_energy._kernels.bipartite.bipartite_log_mass` enumerates the free units of
    that layer: its non-target units are the inner bits (and extra outer bits beyond the
    kernel's inner limit), its targets the top outer bits, first target most significant;
    the other layer's non-target units are summed in closed form. The other layer's
    targets, if any, are conditioned on one assignment at a time (a kernel call each),
    which shifts the enumerated biases.
    """
    from ._kernels.bipartite import choose_split

    if enumerated_layer == 0:
        free, coupling, enumerated_bias = problem.free_visible, problem.weights, problem.visible_bias
        other_free, other_bias = problem.free_hidden, problem.hidden_bias
    else:
        free, coupling, enumerated_bias = problem.free_hidden, problem.weights.T, problem.hidden_bias
        other_free, other_bias = problem.free_visible, problem.visible_bias
    position = {int(unit): k for k, unit in enumerate(free)}
    other_position = {int(unit): k for k, unit in enumerate(other_free)}
    inner = [unit for unit in targets if unit in position]  # cell bits of the kernel
    looped = [unit for unit in targets if unit in other_position]  # one kernel call per assignment
    looped_positions = [other_position[unit] for unit in looped]
    chosen = {position[unit] for unit in inner}
    others = [k for k in range(free.shape[0]) if k not in chosen]
    analytic = sorted(set(range(other_free.shape[0])) - set(looped_positions))
    order = others + [position[unit] for unit in inner][::-1]
    m, n = len(order), len(analytic)
    m_in = min(len(others), choose_split(m, n)[0])
    work = _states(m) * n * _PRODUCT_UNIT_COST
    cost = 2.0 ** len(looped) * (_CALL_COST + work)

    def run():
        from ._kernels.bipartite import bipartite_log_mass

        layer_coupling = np.ascontiguousarray(coupling[np.ix_(order, analytic)])
        cross = coupling[np.ix_(order, looped_positions)]  # how each looped target shifts the enumerated biases
        table = np.empty((1 << len(looped), 1 << len(inner)))
        for row, assignment in enumerate(itertools.product((0.0, 1.0), repeat=len(looped))):
            values = np.array(assignment)
            cells = bipartite_log_mass(
                layer_coupling, other_bias[analytic], enumerated_bias[order] + cross @ values,
                m_in=m_in, parallel=work > _PRODUCT_SERIAL_WORK_LIMIT,
            )
            table[row] = _cells_to_table(cells, len(inner), len(others) - m_in) + other_bias[looped_positions] @ values
        # Axes: the looped targets, then the enumerated ones; put them in the order asked for.
        axes = looped + inner
        table = table.reshape((2,) * len(targets)).transpose([axes.index(unit) for unit in targets])
        return table.ravel() - problem.constant

    return cost, run


def _joint_log_masses(model, clamped: dict[int, int], targets: list[int], max_units: int) -> np.ndarray:
    """``log sum`` of ``exp(-E / T)`` over the states agreeing with ``clamped`` and each assignment of ``targets``.

    One entry per assignment, in ``itertools.product`` order (the first target most
    significant). ``max_units`` bounds the units summed per entry; the whole table costs
    about one enumeration of the free units, targets included (see the plans above).
    """
    _guard(model, {**clamped, **dict.fromkeys(targets, 0)}, max_units, table_bits=len(targets))
    problem = _flatten(model, clamped)
    plans = [_one_pass_plan(problem, targets)]
    if isinstance(problem, _Bipartite):
        plans += [_layer_plan(problem, targets, layer) for layer in (0, 1)]
    _, run = min(plans, key=lambda plan: plan[0])
    return run()


def query(model, variables, *, evidence=None, joint=True, max_units=DEFAULT_MAX_UNITS):
    """Exact posterior over ``variables`` given ``evidence``, as pgmpy factors.

    Interchangeable with ``pgmpy.inference.VariableElimination(...).query`` on
    ``model.to_markov_network()``, except that the result is normalized.

    Parameters
    ----------
    model : BoltzmannMachine or RestrictedBoltzmannMachine
    variables : list of str
        Variables to query (not in ``evidence``); at most 20 for a joint table.
    evidence : dict of str -> 0/1, optional
    joint : bool, default True
        One joint factor (values in C order, the last variable fastest), or a
        dict name -> single-variable factor.

    Returns
    -------
    pgmpy.factors.discrete.DiscreteFactor or dict of str -> DiscreteFactor
        States are named 0 and 1.
    """
    from .interop.pgmpy import binary_factor

    _check_model(model)
    if (oracle := _oracle(model)) is not None:
        return oracle.query(model, variables, evidence=evidence, joint=joint, max_units=max_units)
    joint = check_bool(joint, "joint")
    max_units = check_int(max_units, "max_units", minimum=0)
    clamped = check_evidence(evidence, model.names)
    variables = check_query_variables(variables, model.names, clamped, joint=joint)
    if not joint:
        probabilities = _marginal_array(model, evidence=evidence, max_units=max_units)
        return {
            name: binary_factor([name], np.array([1.0 - probabilities[model.index(name)], probabilities[model.index(name)]]))
            for name in variables
        }
    log_mass = _joint_log_masses(model, clamped, [model.index(name) for name in variables], max_units)
    return binary_factor(variables, np.exp(log_mass - log_sum_exp(log_mass)))


# --------------------------------------------------------------------------- most probable states
def _ground_state(model, clamped: dict[int, int], max_units: int) -> np.ndarray:
    """Joint minimum-energy state of all units (uint8, model order) given the clamped units."""
    from ._kernels.ground_state import bipartite_ground_state, pairwise_ground_state

    _guard(model, clamped, max_units)
    problem = _flatten(model, clamped)
    state = np.zeros(model.n_units, dtype=np.uint8)
    for index, value in clamped.items():
        state[index] = value
    if isinstance(problem, _Pairwise):
        free_state, _ = pairwise_ground_state(problem.weights, problem.biases)
        state[problem.free] = free_state
        return state
    weights, b, c = problem.weights, problem.visible_bias, problem.hidden_bias
    if c.shape[0] <= b.shape[0]:  # enumerate the hidden layer, minimise over the visible one
        hidden, visible, _ = bipartite_ground_state(
            np.ascontiguousarray(weights.T), b, c, enumerated_first=False
        )
    else:
        visible, hidden, _ = bipartite_ground_state(np.ascontiguousarray(weights), c, b, enumerated_first=True)
    state[problem.free_visible] = visible
    state[problem.free_hidden] = hidden
    return state


def _marginal_mode(model, clamped: dict[int, int], targets: list[int], max_units: int) -> np.ndarray:
    """Most probable joint assignment of ``targets`` given ``clamped``, the other free units summed out.

    ``targets`` are unit indices in model order; returns their values (uint8, same
    order). Ties go to the first assignment in ``itertools.product`` order (the
    first target most significant). When every free unit is a target this is the
    joint most probable state of :func:`_ground_state`.
    """
    free = [i for i in range(model.n_units) if i not in clamped]
    target_set = set(targets)
    summed = [i for i in free if i not in target_set]
    if not summed:
        return _ground_state(model, clamped, max_units)[targets]
    if isinstance(model, RestrictedBoltzmannMachine) and all(i >= model.n_visible for i in summed) and all(
        i < model.n_visible for i in targets
    ):
        # Free visible units are the targets and every free hidden unit is summed out:
        # minimise the free energy F(v) by enumerating the free visible units.
        from ._kernels.ground_state import bipartite_ground_state

        if len(targets) > max_units:
            raise ModelSizeError(
                f"the most probable values of {len(targets)} visible units with the hidden units summed out "
                f"enumerate 2**{len(targets)} states, more than max_units={max_units} allows; "
                f"pass max_units={len(targets)} to run it anyway, observe more units, or include the latents"
            )
        problem = _flatten(model, clamped)
        visible, _, _ = bipartite_ground_state(
            np.ascontiguousarray(problem.weights), problem.hidden_bias, problem.visible_bias, marginalize=True
        )
        position = {int(unit): k for k, unit in enumerate(problem.free_visible)}
        return visible[[position[i] for i in targets]]
    # General case: the joint posterior table of the targets (one enumeration pass).
    if len(targets) > MAX_QUERY_VARIABLES:
        raise ModelSizeError(
            f"the most probable values of {len(targets)} units with other units summed out need a table of "
            f"2**{len(targets)} entries; at most {MAX_QUERY_VARIABLES} are allowed here: observe more units, or "
            "ask for the joint most probable state of every unobserved unit (most_probable_state, or "
            "predict with include_latents=True)"
        )
    log_mass = _joint_log_masses(model, clamped, targets, max_units)
    row = int(np.argmax(np.exp(log_mass - log_sum_exp(log_mass))))  # first maximum: lowest index on ties
    return np.array([(row >> (len(targets) - 1 - k)) & 1 for k in range(len(targets))], dtype=np.uint8)


def log_probability(model, states, *, max_units=DEFAULT_MAX_UNITS):
    """Exact ``log p(s)`` of complete states (all units, visible and hidden).

    Parameters
    ----------
    states : array_like of 0/1, shape (n_units,) or (n_states, n_units)
        For an RBM: visible units then hidden units.

    Returns
    -------
    float or ndarray of shape (n_states,)
    """
    _check_model(model)
    if (oracle := _oracle(model)) is not None:
        return oracle.log_probability(model, states, max_units=max_units)
    batch, single = check_states(states, model.n_units)
    log_z = log_partition_function(model, max_units=max_units)
    if isinstance(model, RestrictedBoltzmannMachine):
        energies = model.energy(batch[:, : model.n_visible], batch[:, model.n_visible :])
    else:
        energies = model.energy(batch)
    values = -np.asarray(energies) / model.temperature - log_z
    return float(values[0]) if single else values


def log_likelihood(model, data, *, max_units=DEFAULT_MAX_UNITS) -> float:
    """Exact mean log-likelihood ``(1/m) sum_k log p(v_k)`` of visible data, summing over hidden units.

    Parameters
    ----------
    model : BoltzmannMachine or RestrictedBoltzmannMachine
    data : array_like of 0/1, shape (n_samples, n_visible) or (n_visible,)
        Columns in the order of ``model.visible_names``; a pandas DataFrame is
        reordered by its column names.

    Returns
    -------
    float
        Mean log-probability in nats.
    """
    _check_model(model)
    if (oracle := _oracle(model)) is not None:
        return oracle.log_likelihood(model, data, max_units=max_units)
    from .models._base import visible_rows

    batch = visible_rows(model, data)
    log_z = log_partition_function(model, max_units=max_units)
    if isinstance(model, RestrictedBoltzmannMachine):
        return float(np.mean(-model.free_energy(batch) / model.temperature) - log_z)
    rows, counts = np.unique(batch.astype(np.int8), axis=0, return_inverse=False, return_counts=True)
    total = 0.0
    for row, count in zip(rows, counts):
        evidence = dict(zip(model.visible_names, row.tolist()))
        total += count * log_partition_function(model, evidence=evidence, max_units=max_units)
    return float(total / batch.shape[0] - log_z)


def helmholtz_free_energy(model, *, max_units=DEFAULT_MAX_UNITS) -> float:
    """Helmholtz free energy ``F = -T log Z``."""
    _check_model(model)
    return -model.temperature * log_partition_function(model, max_units=max_units)


def mean_energy(model, *, max_units=DEFAULT_MAX_UNITS) -> float:
    """Internal energy ``U = <E>`` under the model's Boltzmann distribution."""
    _check_model(model)
    if (oracle := _oracle(model)) is not None:
        return oracle.mean_energy(model, max_units=max_units)
    result, _ = _solve(model, None, max_units, with_moments=True)
    return model.temperature * result.mean_energy


def entropy(model, *, max_units=DEFAULT_MAX_UNITS) -> float:
    """Entropy ``S = -sum_s p(s) log p(s)`` in nats (equal to ``(U - F) / T``)."""
    _check_model(model)
    if (oracle := _oracle(model)) is not None:
        return oracle.entropy(model, max_units=max_units)
    result, _ = _solve(model, None, max_units, with_moments=True)
    return result.log_z + result.mean_energy
