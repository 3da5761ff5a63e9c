r"""Exact answers for Gaussian-Bernoulli RBMs: the hidden layer enumerated, the visible one integrated.

:mod:`pgm_energy.exact` hands a :class:`~pgm_energy.models.gaussian_rbm.GaussianBernoulliRBM` to
the functions here, which are named and called as its own.

The integral. For a hidden state ``h`` write ``a = W h``. Completing the square in each
``v_i``,

.. math::

    -\frac{E(v, h)}{T} = \frac{c^\top h}{T}
        - \sum_i \frac{(v_i - b_i - a_i)^2 - (b_i + a_i)^2 + b_i^2}{2 \sigma_i^2 T},

so ``p(v | h)`` is Gaussian with mean ``b + W h`` and standard deviations ``sigma sqrt(T)``, and
each ``v_i`` integrates to :math:`\sqrt{2 \pi T}\, \sigma_i`. Hence

.. math::

    Z(T) = \sum_h \int e^{-E(v, h)/T} dv
         = (2 \pi T)^{n_v / 2} \prod_i \sigma_i
           \sum_h \exp\Big(\underbrace{\frac{c^\top h}{T}
           + \sum_i \frac{(b_i + (W h)_i)^2 - b_i^2}{2 \sigma_i^2 T}}_{\phi(h)}\Big),

and ``p(h) = exp(phi(h)) / sum_h' exp(phi(h'))``. The ``2**n_hidden`` hidden states are walked in
Gray-code order by :mod:`pgm_energy._kernels.gaussian_enumeration` (``a`` updated by one column
of ``W`` per step), streamed in log space, in blocks over the top hidden bits run in parallel.

Moments. Given ``h``, ``E[(v_i - b_i)^2] = sigma_i^2 T + a_i^2`` and ``E[v_i] = b_i + a_i``, so

.. math::

    E[E(v, h) \mid h] = \frac{n_v T}{2} - T \phi(h), \qquad
    U = \langle E \rangle = T \Big(\frac{n_v}{2} - \langle \phi \rangle\Big), \qquad
    S = -\langle \log p(v, h) \rangle = \log Z + U / T,

``S`` the entropy of the joint distribution: differential in ``v``, discrete in ``h`` (it is
the entropy of ``p(h)`` plus :math:`\sum_i \tfrac12 \log(2 \pi e \sigma_i^2 T)`, and may be
negative). Densities and entropies are in nats, with respect to Lebesgue measure on ``v``.

Evidence. Hidden units are clamped to 0/1 and visible units to real values, both by name.
A clamped hidden unit shifts the visible means; a clamped visible unit ``x_i`` adds
``x_i W_ij / sigma_i^2`` to each hidden unit's bias and is not integrated. With evidence,
``log_partition_function`` is the log of the sum over the free hidden states of the integral
over the free visible units: ``log p(evidence)`` is its difference with ``log Z``, the log of a
probability times a density when visible units are observed (with every visible unit observed
it is ``-F_T(v) / T``). The size guard counts the free hidden units: at most
``max_units`` of them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

from ._launch import block_prefix_bits, run_blocks
from ._validation import check_bool, check_int, check_query_variables, check_states, describe
from .exceptions import EvidenceError, ModelSizeError, ParameterTypeError, ValidationError
from .models._gaussian_parts import check_real_states
from .models.gaussian_rbm import GaussianBernoulliRBM

__all__ = ["log_partition_function", "marginals", "query", "log_probability", "log_likelihood", "mean_energy",
           "entropy", "check_evidence"]

#: blocks that balance two to many cores
_PREFIX_BITS = 8
#: below this many unit updates an enumeration runs on one thread (waking a pool costs more)
_SERIAL_WORK_LIMIT = 2.0**18
#: rough speed on one core, unit updates per second (:func:`_cost_per_state`), for the guard's message
_UNIT_UPDATES_PER_SECOND = 3.0e8


def _cost_per_state(n_visible: int, n_hidden: int, with_moments: bool) -> float:
    """Unit updates per hidden state (for the block split, the serial choice and the guard's estimate).

    The Gray-code step and ``phi`` are a pass over the visible units each, the streamed
    log-sum-exp costs about 10 (an ``exp``), and the moments add the hidden sums.
    """
    return 2.0 * n_visible + 10.0 + (n_hidden if with_moments else 0)


class _Problem(NamedTuple):
    """The free units at the model's temperature, whitened as the kernel takes them."""

    coupling: np.ndarray  # (n_free_hidden, n_free_visible): W_ij / (sigma_i sqrt(T)), one row per hidden unit
    centre: np.ndarray  # (n_free_visible,): the visible means given the clamped hidden units, whitened
    hidden_bias: np.ndarray  # (n_free_hidden,): c_j / T plus what the clamped visible units add
    constant: float  # the log-weight of the clamped part and the Gaussian normalisers
    free_hidden: np.ndarray  # hidden index of each enumerated unit, in enumeration order


class _Solution(NamedTuple):
    log_z: float  # with evidence: log of the sum over the free states of the integral
    mean_phi: float  # <phi(h)>, phi without the constant (nan unless asked for)
    hidden_means: np.ndarray | None  # p(h_j = 1 | evidence) of the free hidden units, in enumeration order
    block_log_mass: np.ndarray  # per block, the constant included
    problem: _Problem


def check_evidence(model: GaussianBernoulliRBM, evidence, name: str = "evidence"):
    """``evidence`` ({unit name: value}) as ``({hidden index: 0/1}, {visible index: float})``.

    Hidden units take exactly 0 or 1; visible units a finite real number (not a bool).
    """
    if evidence is None:
        return {}, {}
    if not isinstance(evidence, Mapping):
        raise ParameterTypeError(f"{name} must be a dict of unit name -> value, got {describe(evidence)}")
    index = {unit: i for i, unit in enumerate(model.names)}
    n_visible = model.n_visible
    hidden, visible = {}, {}
    for unit, value in evidence.items():
        if not isinstance(unit, str) or unit not in index:
            raise EvidenceError(f"{name} names {describe(unit)}, which is not a unit of the model")
        i = index[unit]
        if i < n_visible:
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not math.isfinite(value):
                raise EvidenceError(
                    f"{name}[{unit!r}] must be a finite real number (a value of a real-valued visible unit), "
                    f"got {describe(value)}"
                )
            visible[i] = float(value)
        else:
            if not isinstance(value, (numbers.Real, np.bool_)) or value not in (0, 1):
                raise EvidenceError(f"{name}[{unit!r}] must be 0 or 1 (a hidden unit), got {describe(value)}")
            hidden[i - n_visible] = int(value)
    return hidden, visible


def _flatten(model: GaussianBernoulliRBM, hidden: dict[int, int], visible: dict[int, float], leading=()) -> _Problem:
    """Clamp the evidence and whiten at the model's temperature; the hidden units ``leading`` enumerated last.

    With ``u_i = 1 / (sigma_i sqrt(T))``, ``k = W[:, clamped] y`` the clamped hidden units' shift of
    the visible means and ``x`` the clamped visible values (module docstring):

    * a free visible unit integrates to ``log(sqrt(2 pi T) sigma_i) + k~_i (b~_i + k~_i / 2)`` plus
      the free hidden part, whose centre is ``b~_i + k~_i`` (``~``: times ``u_i``);
    * a clamped visible unit adds ``-((x_i - b_i) u_i)^2 / 2 + (x_i u_i)(k_i u_i)`` and gives each
      free hidden unit ``(x_i u_i)(W_ij u_i)``, the ``x_i W_ij / (sigma_i^2 T)`` of the module docstring.

    ``leading`` are put at the end of the enumeration order, reversed, so that they are the top
    bits of the block index, the first one most significant (:func:`query`).
    """
    temperature = model.temperature
    weights, b, sigma = model.weights, model.visible_bias, model.sigma
    u = 1.0 / sigma / math.sqrt(temperature)
    clamped_h = np.array(sorted(hidden), dtype=np.int64)
    y = np.array([hidden[j] for j in clamped_h], dtype=np.float64)
    others = [j for j in range(model.n_hidden) if j not in hidden and j not in leading]
    free_h = np.array(others + list(leading)[::-1], dtype=np.int64)
    clamped_v = np.array(sorted(visible), dtype=np.int64)
    x = np.array([visible[i] for i in clamped_v], dtype=np.float64)
    free_v = np.setdiff1d(np.arange(model.n_visible), clamped_v)
    with np.errstate(over="ignore", invalid="ignore"):  # huge visible evidence: refused below
        shift = weights[:, clamped_h] @ y * u  # k~
        centre = b * u + shift
        coupling = np.ascontiguousarray((weights[np.ix_(free_v, free_h)] * u[free_v, None]).T)
        x_scaled = x * u[clamped_v]
        clamped_coupling = weights[np.ix_(clamped_v, free_h)] * u[clamped_v, None]
        hidden_bias = model.hidden_bias[free_h] / temperature + x_scaled @ clamped_coupling
        deviation = (x - b[clamped_v]) * u[clamped_v]
        constant = (
            free_v.shape[0] * 0.5 * math.log(2.0 * math.pi * temperature)
            + float(np.log(sigma[free_v]).sum())
            + float(shift[free_v] @ (b[free_v] * u[free_v] + 0.5 * shift[free_v]))
            - 0.5 * float(deviation @ deviation)
            + float(x_scaled @ shift[clamped_v])
            + float(model.hidden_bias[clamped_h] @ y) / temperature
        )
    if not (math.isfinite(constant) and np.isfinite(hidden_bias).all()):
        raise EvidenceError(
            "evidence gives visible values too far from the model's visible means: their log density overflows float64"
        )
    return _Problem(coupling, np.ascontiguousarray(centre[free_v]), np.ascontiguousarray(hidden_bias), constant, free_h)


def _guard(model: GaussianBernoulliRBM, n_free: int, max_units: int, *, table_bits: int = 0) -> None:
    """Refuse to enumerate more than ``max_units`` free hidden units per table entry, before any work."""
    n_summed = n_free - table_bits
    if n_summed <= max_units:
        return
    # in log10: 2**n overflows a float for n >= 1024
    log10_states = n_free * math.log10(2.0)
    log10_seconds = log10_states + math.log10(_cost_per_state(model.n_visible, 0, False) / _UNIT_UPDATES_PER_SECOND)
    table = f" ({2**table_bits} joint table entries of 2**{n_summed} each)" if table_bits else ""
    raise ModelSizeError(
        f"exact enumeration of the {n_free} free hidden units of a GaussianBernoulliRBM visits 2**{n_free} = "
        f"{_power_of_ten(log10_states)} hidden states{table} (roughly {_power_of_ten(log10_seconds)} s on one core), "
        f"more than max_units={max_units} allows; pass max_units={n_summed} to run it anyway, clamp hidden units "
        "with evidence, or use a sampler"
    )


def _power_of_ten(log10_value: float) -> str:
    exponent = math.floor(log10_value)
    return f"{10 ** (log10_value - exponent):.3g}e{exponent:+03d}"


def _enumerate(problem: _Problem, with_moments: bool, n_leading: int = 0):
    """The kernel's per-block sums, in time-bounded calls (Ctrl-C between them).

    The blocks fix at least the top ``n_leading`` bits (and 8, to share the work between cores).
    """
    from ._kernels import gaussian_enumeration

    n, n_visible = problem.coupling.shape
    cost_per_state = _cost_per_state(n_visible, n, with_moments)
    work = 2.0**n * cost_per_state
    n_prefix = block_prefix_bits(n, cost_per_state, max(_PREFIX_BITS, n_leading))
    kernel = (gaussian_enumeration.gaussian_block_sums if work > _SERIAL_WORK_LIMIT
              else gaussian_enumeration.gaussian_block_sums_serial)
    n_blocks = 1 << n_prefix
    return run_blocks(kernel, n_blocks, problem.coupling, problem.centre, problem.hidden_bias, n_prefix, with_moments,
                      serial=gaussian_enumeration.gaussian_block_sums_serial, cost_per_block=work / n_blocks)


def _solve(model, evidence, max_units, *, with_moments: bool, leading=()) -> _Solution:
    if not isinstance(model, GaussianBernoulliRBM):
        raise ParameterTypeError(f"model must be a GaussianBernoulliRBM, got {describe(model)}")
    max_units = check_int(max_units, "max_units", minimum=0)
    hidden, visible = check_evidence(model, evidence)
    n_free = model.n_hidden - len(hidden)
    _guard(model, n_free, max_units, table_bits=len(leading))
    problem = _flatten(model, hidden, visible, leading)
    log_mass, block_phi, block_hidden = _enumerate(problem, with_moments, len(leading))
    log_z = float(logsumexp(log_mass))
    means, mean_phi = None, float("nan")
    if with_moments:
        share = np.exp(log_mass - log_z)
        share /= share.sum()
        # rounding may leave a probability a few ulps outside [0, 1]
        means = np.clip(share @ block_hidden, 0.0, 1.0)
        mean_phi = float(share @ block_phi)
    return _Solution(log_z + problem.constant, mean_phi, means, log_mass + problem.constant, problem)


def log_partition_function(model, *, evidence=None, max_units) -> float:
    """Exact ``log Z(T) = log sum_h integral exp(-E(v, h) / T) dv``.

    Parameters
    ----------
    model : GaussianBernoulliRBM
    evidence : dict of str -> value, optional
        Hidden units 0/1, visible units real numbers; with evidence, the log of the sum over
        the free hidden states of the integral over the free visible units (module docstring).
    max_units : int
        Most free hidden units enumerated (``2**max_units`` hidden states).

    Returns
    -------
    float

    Raises
    ------
    ModelSizeError
        More than ``max_units`` free hidden units.
    EvidenceError
        Unknown units, a hidden value other than 0/1, a visible value that is not a finite number.
    """
    return _solve(model, evidence, max_units, with_moments=False).log_z


def _hidden_marginals(model, evidence, max_units) -> np.ndarray:
    """``p(h_j = 1 | evidence)`` of every hidden unit, shape (n_hidden,); clamped units hold their value."""
    solution = _solve(model, evidence, max_units, with_moments=True)
    hidden, _ = check_evidence(model, evidence)
    probabilities = np.empty(model.n_hidden)
    for j, value in hidden.items():
        probabilities[j] = value
    probabilities[solution.problem.free_hidden] = solution.hidden_means
    return probabilities


def marginals(model, *, evidence=None, max_units):
    """Exact ``p(h_j = 1 | evidence)`` of every hidden unit.

    Returns
    -------
    pandas.Series, shape (n_hidden,)
        Indexed by ``model.hidden_names`` (index name ``"unit"``), named ``"p(on)"``; clamped
        hidden units hold their evidence value. The visible units are real-valued and have no
        ``p(on)``: given ``h`` they are Gaussian (``model.visible_mean``, ``model.visible_std``).
    """
    from ._math import by_unit

    return by_unit(_hidden_marginals(model, evidence, max_units), model.hidden_names, "p(on)")


def query(model, variables, *, evidence=None, joint=True, max_units):
    """Exact posterior over hidden ``variables`` given ``evidence``, as pgmpy factors (states 0 and 1).

    The queried units are the top bits of the enumeration's blocks, so a joint table of ``k``
    units costs one enumeration of the free hidden units; ``max_units`` bounds the units summed
    per entry. Visible units are refused: they are real-valued.

    Returns
    -------
    pgmpy.factors.discrete.DiscreteFactor, or dict of str -> DiscreteFactor when ``joint=False``
    """
    from .interop.pgmpy import binary_factor

    if not isinstance(model, GaussianBernoulliRBM):
        raise ParameterTypeError(f"model must be a GaussianBernoulliRBM, got {describe(model)}")
    joint = check_bool(joint, "joint")
    max_units = check_int(max_units, "max_units", minimum=0)
    hidden, visible = check_evidence(model, evidence)
    clamped = {**visible, **{model.n_visible + j: value for j, value in hidden.items()}}
    variables = check_query_variables(variables, model.names, clamped, joint=joint)
    for name in variables:
        if model.index(name) < model.n_visible:
            raise ValidationError(
                f"variables names {name!r}, a real-valued visible unit; exact queries answer the binary hidden units "
                "(given them, the visible units are Gaussian: model.visible_mean, model.visible_std)"
            )
    if not joint:
        probabilities = _hidden_marginals(model, evidence, max_units)
        picked = {name: probabilities[model.index(name) - model.n_visible] for name in variables}
        return {name: binary_factor([name], np.array([1.0 - p, p])) for name, p in picked.items()}
    targets = [model.index(name) - model.n_visible for name in variables]
    solution = _solve(model, evidence, max_units, with_moments=False, leading=targets)
    # block index = the targets' assignment (first target most significant), then extra low bits
    cells = logsumexp(solution.block_log_mass.reshape(1 << len(targets), -1), axis=1)
    return binary_factor(variables, np.exp(cells - logsumexp(cells)))


def log_probability(model, states, *, max_units):
    """Exact joint log density ``log p(v, h) = -E(v, h) / T - log Z``, in nats.

    A density in ``v`` (Lebesgue measure) and a probability in ``h``.

    Parameters
    ----------
    states : array_like, shape (n_units,) or (n_states, n_units)
        Visible values (finite reals) then hidden values (0/1), in the order of ``model.names``.

    Returns
    -------
    float or ndarray of shape (n_states,)
    """
    if not isinstance(model, GaussianBernoulliRBM):
        raise ParameterTypeError(f"model must be a GaussianBernoulliRBM, got {describe(model)}")
    batch, single = check_real_states(states, model.n_units, "states")
    check_states(batch[:, model.n_visible:], model.n_hidden, f"states[:, {model.n_visible}:] (the hidden units)")
    energies = model._energies(batch[:, : model.n_visible], batch[:, model.n_visible:], "states")
    log_z = log_partition_function(model, max_units=max_units)
    with np.errstate(over="ignore"):
        values = -energies / model.temperature - log_z
    if not np.isfinite(values).all():
        raise ValidationError(f"states[{int(np.argmin(np.isfinite(values)))}] has a log density below float64's range")
    return float(values[0]) if single else values


def log_likelihood(model, data, *, max_units) -> float:
    """Exact mean log density ``(1/m) sum_k log p(v_k) = -F_T(v_k) / T - log Z``, in nats, hidden units summed out.

    Parameters
    ----------
    data : array_like of real numbers, shape (n_samples, n_visible) or (n_visible,)
        Columns in the order of ``model.visible_names``; a pandas DataFrame's columns are picked
        by those names.

    Returns
    -------
    float
    """
    if not isinstance(model, GaussianBernoulliRBM):
        raise ParameterTypeError(f"model must be a GaussianBernoulliRBM, got {describe(model)}")
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        missing = [name for name in model.visible_names if name not in data.columns]
        if missing:
            raise ValidationError(f"data is missing columns for visible units {missing[:5]!r}")
        data = data[list(model.visible_names)].to_numpy()
    batch, _ = check_real_states(data, model.n_visible, "data")
    if batch.shape[0] == 0:
        raise ValidationError("data must hold at least one sample, got 0 rows")
    free_energies = model._free_energies(batch, "data")
    log_z = log_partition_function(model, max_units=max_units)
    with np.errstate(over="ignore"):
        value = float(np.mean(-free_energies / model.temperature)) - log_z
    if not math.isfinite(value):
        raise ValidationError("data holds rows whose log density is below float64's range")
    return value


def mean_energy(model, *, max_units) -> float:
    """Internal energy ``U = <E(v, h)> = T (n_visible / 2 - <phi(h)>)`` (module docstring)."""
    solution = _solve(model, None, max_units, with_moments=True)
    return model.temperature * (0.5 * model.n_visible - solution.mean_phi)


def entropy(model, *, max_units) -> float:
    """Entropy of the joint distribution ``S = log Z + U / T``, in nats (differential in ``v``: may be negative)."""
    solution = _solve(model, None, max_units, with_moments=True)
    return solution.log_z + 0.5 * model.n_visible - solution.mean_phi
