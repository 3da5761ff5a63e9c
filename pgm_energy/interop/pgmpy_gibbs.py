"""A fast drop-in for ``pgmpy.sampling.GibbsSampling`` on any discrete pgmpy model.

``GibbsSampling(model)`` accepts a pgmpy ``DiscreteMarkovNetwork`` (any cardinalities,
factors of any arity) or ``DiscreteBayesianNetwork`` (each CPD becomes a factor through
``cpd.to_factor()``). The factors are compiled to flat log-potential tables, so building
the sampler costs time and memory linear in the total size of the factor tables; pgmpy's
own class tabulates every variable's conditional over every joint state of all the other
variables (exponential: a 5×5 grid cannot be built). A sweep is done by a Numba kernel
(:mod:`pgm_energy._kernels.discrete_gibbs`).

Compatible with pgmpy (1.1.x):

- ``sample(start_state=None, size=1, seed=None, include_latents=False)`` returns a pandas
  DataFrame with one int64 column per variable (``str`` of the variable name, in the order
  of ``model.nodes()``) holding state INDICES, as pgmpy's ``GibbsSampling`` does (while
  ``evidence`` and a dict ``start_state`` take state NAMES, as pgmpy's inference does);
  ``state_names=True`` returns the names instead, as pgmpy's
  ``BayesianModelSampling.forward_sample`` does. Row 0 is the start state and each further
  row follows one systematic-scan sweep over the variables in that order;
- without ``start_state`` the first call starts from a uniformly random state and later
  calls continue the chain where the previous call stopped (its last row is the next
  call's row 0), as pgmpy does;
- ``include_latents=False`` drops the model's latent variables;
- ``variables``, ``cardinalities``, ``latents``, ``state``, ``set_start_state`` and
  ``generate_sample`` behave as pgmpy's.

pgmpy's defects fixed:

- ``start_state`` may be a dict ``{variable: state name}``, a list of pgmpy ``State``
  tuples (variable, state index), or a sequence of state indices in variable order;
- ``seed`` (None, an int or a ``numpy.random.Generator``) never touches NumPy's global RNG,
  and the same seed from the same chain state gives the same samples (the random start
  state included);
- keyword-only ``evidence={variable: state name}`` clamps variables;
- no progress bar; construction does not explode.

Extras (keyword-only): ``evidence``, ``burn_in`` (sweeps discarded before row 0),
``thin`` (sweeps between rows) and ``state_names``.

Zero potentials (deterministic CPDs) are supported. A random start state of probability
zero is repaired (a short noisy descent on the number of zero factors) before sampling;
a user-given start state is used as given. If a variable has probability zero in every
one of its states given the others, sampling stops with a clear error.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Mapping

import numpy as np

from .._kernels.discrete_gibbs import FactorGraph, count_impossible, factor_positions, gibbs_run, repair_state
from .._kernels.rng import seed_streams
from .pgmpy_sampling import compile_network
from .._launch import first_chunk, run_chunked
from .._math import is_sparse
from .._validation import check_array_size, check_bool, check_int, check_sweeps, describe, refuse_out_of_memory
from ..exceptions import ConversionError, EvidenceError, MixingWarning, ParameterTypeError, ValidationError

__all__ = ["GibbsSampling", "compile_factors"]

_REPAIR_SWEEPS = 2000
_REPAIR_NOISE = 0.1
#: likelihood-weighted forward draws a Bayesian network's chain tries for a start of positive probability
_FORWARD_START_ROWS = 1 << 16
#: likelihood-weighted draws resampled for the start states of ``restarts`` (at least 64 per start)
_RESTART_POOL = 1 << 15


class _Stuck(Exception):
    """Internal: a kernel call found a variable with no state of positive probability."""


def _pgmpy_classes():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")
        from pgmpy.models import DiscreteBayesianNetwork, DiscreteMarkovNetwork
    return DiscreteBayesianNetwork, DiscreteMarkovNetwork


def _state_class():
    from pgmpy.factors.discrete import State

    return State


class _Compiled:
    """Flat arrays of a discrete factor graph (see :mod:`pgm_energy._kernels.discrete_gibbs`)."""

    __slots__ = ("cards", "log_table", "factor_offset", "factor_ptr", "factor_vars",
                 "factor_strides", "var_ptr", "entry_factor", "entry_stride", "graph")

    def __init__(self, **arrays):
        for key, value in arrays.items():
            value.setflags(write=False)
            setattr(self, key, value)
        #: the arrays of a site update, as the kernels take them
        self.graph = FactorGraph(self.cards, self.var_ptr, self.entry_factor, self.entry_stride, self.log_table)

    @property
    def n_factors(self) -> int:
        return self.factor_offset.shape[0]


def _factor_label(scope) -> str:
    return "factor(" + ", ".join(repr(v) for v in scope) + ")"


def _check_factor_graph(factors, variables) -> tuple[list, list]:
    """``factors`` and ``variables`` of :func:`compile_factors` as lists, their types checked."""
    from pgmpy.factors.discrete import DiscreteFactor

    if (
        isinstance(variables, (str, bytes, Mapping))
        or not isinstance(variables, (list, tuple, np.ndarray))
        or (isinstance(variables, np.ndarray) and variables.ndim != 1)
    ):
        raise ParameterTypeError(f"variables must be a list of the model's variables, got {describe(variables)}")
    variables = list(variables)
    for var in variables:
        try:
            hash(var)
        except TypeError:
            raise ParameterTypeError(f"variables must be hashable names, got {describe(var)}") from None
    if len(set(variables)) != len(variables):
        raise ValidationError(f"variables must not repeat a name, got {describe(variables)}")
    if (
        isinstance(factors, (str, bytes, Mapping, DiscreteFactor, np.ndarray))  # (arrays hold no factors)
        or is_sparse(factors)  # iterating a malformed sparse matrix raises scipy's own errors
        or not isinstance(factors, Iterable)
    ):
        raise ParameterTypeError(f"factors must be an iterable of pgmpy DiscreteFactors, got {describe(factors)}")
    factors = list(factors)
    for factor in factors:
        if not isinstance(factor, DiscreteFactor):
            raise ParameterTypeError(f"factors must hold pgmpy DiscreteFactors, got {describe(factor)}")
    return factors, variables


def compile_factors(factors, variables):
    """Compile pgmpy ``DiscreteFactor``s over ``variables`` to flat log-potential arrays.

    Parameters
    ----------
    factors : iterable of pgmpy DiscreteFactor
    variables : sequence of hashable
        The model's variables; factor scopes must be subsets of it.

    Returns
    -------
    compiled : _Compiled
    state_names : dict variable -> list of state names
    cardinalities : dict variable -> int

    Raises
    ------
    ParameterTypeError
        ``factors`` is not an iterable of pgmpy ``DiscreteFactor``s, or ``variables`` is not a
        list, tuple or 1-D array of hashable names.
    ValidationError
        ``variables`` repeats a name.
    ConversionError
        A factor names an unknown variable or repeats one, cardinalities or state names
        disagree between factors, a potential is negative, NaN or infinite, a factor is
        zero everywhere, or a variable is in no factor.

    The cost is linear in the total size of the tables.
    """
    factors, variables = _check_factor_graph(factors, variables)
    index = {var: i for i, var in enumerate(variables)}
    n = len(index)
    cards = [0] * n
    state_names: dict = {}
    tables, sizes, scopes, strides, all_scopes = [], [], [], [], []
    for factor in factors:
        scope = list(factor.variables)
        all_scopes.append(scope)
        if len(set(scope)) != len(scope):
            raise ConversionError(f"{_factor_label(scope)} repeats a variable")
        factor_cards = factor.cardinality.tolist()
        values = factor.values
        names_of = factor.state_names or {}
        scope_index = []
        for axis, var in enumerate(scope):
            i = index.get(var)
            if i is None:
                raise ConversionError(
                    f"{_factor_label(scope)} names {var!r}, which is not a variable of the model"
                )
            scope_index.append(i)
            card = factor_cards[axis]
            if cards[i] == 0:
                cards[i] = card
            elif cards[i] != card:
                raise ConversionError(
                    f"{_factor_label(scope)} gives {var!r} cardinality {card}, another factor gives {cards[i]}"
                )
            names = names_of.get(var)
            names = list(range(card)) if names is None else list(names)
            known = state_names.setdefault(var, names)
            if names is not known and names != known:
                if len(names) != len(known) or set(map(repr, names)) != set(map(repr, known)):
                    raise ConversionError(
                        f"{_factor_label(scope)} names the states of {var!r} {names!r}, another factor {known!r}"
                    )
                # same names in another order: permute this axis into the canonical order
                where = {repr(name): k for k, name in enumerate(names)}
                values = np.take(np.asarray(values).reshape(factor_cards),
                                 [where[repr(name)] for name in known], axis=axis)
        table = np.asarray(values, dtype=np.float64).ravel()
        stride, scope_strides = 1, []
        for card in reversed(factor_cards):
            scope_strides.append(stride)
            stride *= card
        if table.shape[0] != stride:
            raise ConversionError(
                f"{_factor_label(scope)} has {table.shape[0]} values for cardinalities {factor_cards}"
            )
        scope_strides.reverse()
        tables.append(table)
        sizes.append(stride)
        scopes.extend(scope_index)
        strides.extend(scope_strides)
    missing = [var for var, i in index.items() if cards[i] == 0]
    if missing:
        raise ConversionError(
            f"variables {missing[:5]!r} are in no factor (their cardinality is unknown)"
        )
    cards = np.array(cards, dtype=np.int64)
    n_factors = len(tables)
    potentials = np.concatenate(tables) if tables else np.zeros(0)
    sizes = np.array(sizes, dtype=np.int64)
    factor_offset = np.zeros(n_factors, dtype=np.int64)
    if n_factors:
        np.cumsum(sizes[:-1], out=factor_offset[1:])
    # checks on all tables at once; the message names the first bad factor
    bad = ~(np.isfinite(potentials) & (potentials >= 0))
    if bad.any():
        k = int(np.argmax(bad))
        f = int(np.searchsorted(factor_offset, k, side="right")) - 1
        raise ConversionError(
            f"{_factor_label(all_scopes[f])} has potential {float(potentials[k])!r} at flat index "
            f"{k - int(factor_offset[f])}; potentials must be finite and >= 0"
        )
    if n_factors:
        positive = np.add.reduceat((potentials > 0).astype(np.int64), factor_offset)
        if (positive == 0).any():
            f = int(np.argmin(positive))
            raise ConversionError(f"{_factor_label(all_scopes[f])} is zero everywhere: the model has probability zero")
    with np.errstate(divide="ignore"):
        log_table = np.log(potentials)
    lengths = np.array([len(scope) for scope in all_scopes], dtype=np.int64)
    factor_ptr = np.zeros(n_factors + 1, dtype=np.int64)
    np.cumsum(lengths, out=factor_ptr[1:])
    factor_vars = np.array(scopes, dtype=np.int64)
    factor_strides = np.array(strides, dtype=np.int64)
    # CSR over variables: every (factor, scope slot) sorted by variable (stable: factor order)
    entry_owner = np.repeat(np.arange(n_factors, dtype=np.int64), lengths)
    order = np.argsort(factor_vars, kind="stable")
    var_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(factor_vars, minlength=n), out=var_ptr[1:])
    compiled = _Compiled(
        cards=cards,
        log_table=log_table,
        factor_offset=factor_offset,
        factor_ptr=factor_ptr,
        factor_vars=factor_vars,
        factor_strides=factor_strides,
        var_ptr=var_ptr,
        entry_factor=np.ascontiguousarray(entry_owner[order]),
        entry_stride=np.ascontiguousarray(factor_strides[order]),
    )
    cardinalities = {var: int(cards[i]) for var, i in index.items()}
    return compiled, state_names, cardinalities


def _generator(seed) -> np.random.Generator:
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise ValidationError(f"seed must be None, a non-negative int or a Generator, got {seed!r}")
        return np.random.default_rng(int(seed))
    raise ParameterTypeError(
        f"seed must be None, an int or a numpy.random.Generator, got {describe(seed)}"
    )


class GibbsSampling:
    """Gibbs sampling of a discrete pgmpy model: a fast drop-in for ``pgmpy.sampling.GibbsSampling``.

    Parameters
    ----------
    model : pgmpy DiscreteMarkovNetwork or DiscreteBayesianNetwork, optional
        The model. Without one (pgmpy allows it) the sampler cannot sample.

    Attributes
    ----------
    variables : ndarray
        The variables, in the order of ``model.nodes()`` (the column order of the samples).
    cardinalities : dict
        Variable -> number of states.
    state_names : dict
        Variable -> list of its state names (index = state index in the samples).
    latents : set
        The model's latent variables (dropped from samples unless ``include_latents``).

    Raises
    ------
    ConversionError
        ``model`` is not a discrete pgmpy network, a CPD is missing, or its factors are
        inconsistent (see :func:`compile_factors`).

    Examples
    --------
    >>> from pgmpy.factors.discrete import TabularCPD
    >>> from pgmpy.models import DiscreteBayesianNetwork
    >>> from pgm_energy.interop.pgmpy import GibbsSampling
    >>> bn = DiscreteBayesianNetwork([("rain", "wet")])
    >>> bn.add_cpds(TabularCPD("rain", 2, [[0.8], [0.2]], state_names={"rain": ["no", "yes"]}),
    ...             TabularCPD("wet", 2, [[0.9, 0.1], [0.1, 0.9]], evidence=["rain"], evidence_card=[2],
    ...                        state_names={"wet": ["no", "yes"], "rain": ["no", "yes"]}))
    >>> samples = GibbsSampling(bn).sample(size=1000, seed=0, evidence={"wet": "yes"})
    >>> samples.shape
    (1000, 2)
    """

    def __init__(self, model=None):
        self._compiled = None
        self._network = None
        self._deterministic: list = []
        self._warned = False
        self._column_index = None
        self._state = None
        self._rng = np.random.default_rng()
        self.variables = np.array([])
        self.cardinalities: dict = {}
        self.state_names: dict = {}
        self.latents: set = set()
        if model is None:
            return
        DiscreteBayesianNetwork, DiscreteMarkovNetwork = _pgmpy_classes()
        if isinstance(model, DiscreteBayesianNetwork):
            nodes = list(model.nodes())
            cpds = {cpd.variable: cpd for cpd in model.cpds}
            missing = [node for node in nodes if node not in cpds]
            if missing:
                raise ConversionError(f"the Bayesian network has no CPD for {missing[:5]!r}")
            factors = (cpds[node].to_factor() for node in nodes)
        elif isinstance(model, DiscreteMarkovNetwork):
            nodes = list(model.nodes())
            factors = model.get_factors()
        else:
            raise ConversionError(
                "model must be a pgmpy DiscreteMarkovNetwork or DiscreteBayesianNetwork, "
                f"got {type(model).__name__}"
            )
        for node in nodes:
            if node is None or (isinstance(node, str) and not node):
                raise ConversionError(f"variable names must be non-empty, got {node!r}")
        self._compiled, self.state_names, self.cardinalities = compile_factors(factors, nodes)
        # a Bayesian network starts its chains at a forward (likelihood-weighted) draw: positive probability
        self._network = compile_network(model).network if isinstance(model, DiscreteBayesianNetwork) else None
        self.variables = np.array(nodes)
        self._nodes = nodes
        self.latents = set(getattr(model, "latents", None) or ())
        self._columns = [str(node) for node in nodes]
        if len(set(self._columns)) != len(self._columns):
            raise ConversionError("variable names must stay distinct as strings (they name the columns)")
        self._index = {node: i for i, node in enumerate(nodes)}
        for i, column in enumerate(self._columns):
            self._index.setdefault(column, i)
        c = self._compiled
        # factors with a zero: deterministic relations, which single-site updates may not cross
        zero_entries = np.isneginf(c.log_table)
        self._deterministic = [
            self._factor_scope_label(f) for f in range(c.n_factors)
            if zero_entries[c.factor_offset[f]:(c.factor_offset[f + 1] if f + 1 < c.n_factors
                                                 else c.log_table.shape[0])].any()
        ]
        self._warned = False

    # ------------------------------------------------------------------ helpers
    def _require_model(self):
        if self._compiled is None:
            raise ValidationError("this GibbsSampling was built without a model: pass one to the constructor")

    def _variable(self, name, what: str) -> int:
        try:
            return self._index[name]
        except (KeyError, TypeError):
            error = EvidenceError if what == "evidence" else ValidationError
            raise error(f"{what} names {name!r}, which is not a variable of the model") from None

    def _state_index(self, var_index: int, name, what: str) -> int:
        node = self._nodes[var_index]
        names = self.state_names[node]
        for k, candidate in enumerate(names):
            try:
                if bool(candidate == name):
                    return k
            except (TypeError, ValueError):
                continue
        error = EvidenceError if what == "evidence" else ValidationError
        raise error(f"{what}[{node!r}] = {name!r} is not a state name of {node!r}; its states are {names!r}")

    def _evidence(self, evidence) -> dict[int, int]:
        if evidence is None:
            return {}
        if not isinstance(evidence, Mapping):
            raise ParameterTypeError(
                f"evidence must be a dict of variable -> state name, got {describe(evidence)}"
            )
        clean = {}
        for name, value in evidence.items():
            i = self._variable(name, "evidence")
            if i in clean:
                raise EvidenceError(f"evidence names {self._nodes[i]!r} twice")
            clean[i] = self._state_index(i, value, "evidence")
        return clean

    def _start_state(self, start_state, clamp) -> np.ndarray:
        n = len(self._nodes)
        state = np.full(n, -1, dtype=np.int64)
        if isinstance(start_state, Mapping):
            for name, value in start_state.items():
                i = self._variable(name, "start_state")
                state[i] = self._state_index(i, value, "start_state")
        elif (
            isinstance(start_state, (str, bytes))
            or not hasattr(start_state, "__iter__")
            or (isinstance(start_state, np.ndarray) and start_state.ndim != 1)  # a 0-d array cannot be iterated
            or is_sparse(start_state)  # iterating a malformed sparse matrix raises scipy's own errors
        ):
            raise ParameterTypeError(
                "start_state must be a dict of variable -> state name, a list of (variable, index) "
                f"States or a sequence of {n} state indices, got {describe(start_state)}"
            )
        else:
            items = list(start_state)
            if items and all(isinstance(item, tuple) and len(item) == 2 for item in items):
                # pgmpy's form: State(var, state index) tuples
                for name, value in items:
                    i = self._variable(name, "start_state")
                    state[i] = self._check_index(i, value)
            else:
                # each item is checked to be an index below (no np.asarray: ragged lists would raise)
                if len(items) != n:
                    raise ValidationError(
                        f"start_state must hold one state index per variable ({n}), got {len(items)} items: "
                        f"{describe(start_state)}"
                    )
                for i, value in enumerate(items):
                    state[i] = self._check_index(i, value)
        for i, k in clamp.items():
            if state[i] >= 0 and state[i] != k:
                raise EvidenceError(
                    f"start_state gives {self._nodes[i]!r} state index {int(state[i])}, "
                    f"the evidence {self.state_names[self._nodes[i]][k]!r} (index {k})"
                )
            state[i] = k
        missing = [self._nodes[i] for i in np.flatnonzero(state < 0)]
        if missing:
            raise ValidationError(f"start_state must assign every variable; missing {missing[:5]!r}")
        return state

    def _check_index(self, i: int, value) -> int:
        card = int(self._compiled.cards[i])
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or not 0 <= value < card:
            raise ValidationError(
                f"start_state[{self._nodes[i]!r}] must be a state index in 0..{card - 1}, got {value!r}"
            )
        return int(value)

    # ------------------------------------------------------------------ pgmpy API
    @property
    def state(self):
        """The current state of the chain as pgmpy ``State(var, index)`` tuples, or None."""
        if self._state is None:
            return None
        State = _state_class()
        return [State(var, int(s)) for var, s in zip(self._nodes, self._state)]

    @state.setter
    def state(self, value):
        self.set_start_state(value)

    def set_start_state(self, start_state):
        """Set the chain's state (any ``start_state`` form accepted by :meth:`sample`; None resets)."""
        self._require_model()
        self._state = None if start_state is None else self._start_state(start_state, {})

    def sample(self, start_state=None, size=1, seed=None, include_latents=False, *,
               evidence=None, burn_in=0, thin=1, state_names=False, restarts=None):
        """Draw ``size`` rows of a Gibbs chain (row 0 is the start state).

        Parameters
        ----------
        start_state : dict, list of State, sequence of int, optional
            ``{variable: state name}``, pgmpy ``State(variable, index)`` tuples, or one state
            index per variable in ``variables`` order. Evidence variables may be omitted.
            Default: continue the chain, or a random state of positive probability on the
            first call.
        size : int >= 1
            Number of rows returned.
        seed : None, int or numpy.random.Generator
            Randomness of this call (start state and sweeps). None draws from the sampler's
            own generator. The global NumPy RNG is never used.
        include_latents : bool
            Keep the columns of the model's latent variables.
        evidence : dict, keyword-only
            ``{variable: state name}``; these variables are clamped and never updated.
        burn_in : int >= 0, keyword-only
            Sweeps run and discarded before row 0.
        thin : int >= 1, keyword-only
            Sweeps between consecutive rows.
        state_names : bool, default False, keyword-only
            Return each variable's state names (``self.state_names[variable][index]``)
            instead of state indices.
        restarts : int >= 1, optional, keyword-only
            A Bayesian network with deterministic relations: run this many chains instead of
            one, each from a likelihood-weighted forward draw (the evidence fixed) resampled in
            proportion to its weight from a pool of at least 32,768 draws, so that the regions of
            the support that single-site updates cannot move between are visited in proportion to
            their posterior probability. Each chain runs ``burn_in`` sweeps, then gives its share
            of the ``size`` rows (the first chains one more when ``size`` does not divide),
            chain after chain; the sampler continues from the last chain. Not with ``start_state``.

        Returns
        -------
        pandas.DataFrame, shape (size, n_columns)
            One column per variable (``str`` of its name): int64 state indices, as
            pgmpy's ``GibbsSampling.sample`` returns them (pgmpy has no option for
            names there), or with ``state_names=True`` the state names, as pgmpy's
            ``BayesianModelSampling.forward_sample`` returns them.

        Raises
        ------
        ValidationError, EvidenceError, ParameterTypeError
            Bad argument (the message names it); sampling reaches a variable every state of
            which has probability zero (then the chain is left unchanged).
        """
        self._require_model()
        size = check_int(size, "size", minimum=1)
        burn_in = check_int(burn_in, "burn_in", minimum=0)
        thin = check_int(thin, "thin", minimum=1)
        n_variables = len(self._nodes)
        check_array_size(size * n_variables, f"size={size} rows of {n_variables} variables")
        check_sweeps(burn_in, size, thin, n_draws_name="size")
        include_latents = check_bool(include_latents, "include_latents")
        state_names = check_bool(state_names, "state_names")
        generator = _generator(seed)
        if generator is None:
            generator = self._rng
        clamp = self._evidence(evidence)
        c = self._compiled
        if restarts is not None:
            return self._sample_restarts(restarts, start_state, size, generator, clamp, burn_in, thin,
                                         include_latents, state_names)
        self._warn_deterministic()
        random_start = False
        if start_state is not None:
            state = self._start_state(start_state, clamp)
        elif self._state is None:
            state = np.array([generator.integers(card) for card in c.cards], dtype=np.int64)
            random_start = True
        else:
            state = self._state.copy()
        for i, k in clamp.items():
            state[i] = k
        free = np.array([i for i in range(state.shape[0]) if i not in clamp], dtype=np.int64)
        streams = seed_streams(generator, 1)
        position = np.empty(c.n_factors, dtype=np.int64)
        factor_positions(state, c.factor_offset, c.factor_ptr, c.factor_vars, c.factor_strides, position)
        if clamp:
            self._check_evidence_possible(clamp, position)
        if random_start and self._network is not None:
            found = self._forward_start(clamp, generator)
            if found is not None:
                state = found
                factor_positions(state, c.factor_offset, c.factor_ptr, c.factor_vars, c.factor_strides, position)
        if random_start and count_impossible(c.log_table, position) > 0:
            left = repair_state(c.graph, state, position, free, streams, 0, _REPAIR_SWEEPS, _REPAIR_NOISE)
            if left > 0:
                error = EvidenceError if clamp else ValidationError
                searched = (f"{_FORWARD_START_ROWS:,} likelihood-weighted forward draws and " if self._network
                            is not None else "")
                raise error(
                    f"no state of positive probability found to start from after {searched}{_REPAIR_SWEEPS} "
                    "sweeps of a search over the zero entries"
                    + (": the evidence has probability zero, or nearly" if clamp else "")
                    + "; pass a start_state of positive probability"
                )
        with refuse_out_of_memory(f"size={size} rows of {state.shape[0]} variables"):
            out = np.empty((size, state.shape[0]), dtype=np.int64)
        variable, sweep = self._run(state, free, position, streams, burn_in, thin, out)
        if variable >= 0:
            raise ValidationError(
                f"Gibbs sampling is stuck at sweep {sweep}: every state of {self._nodes[variable]!r} "
                "has probability zero given the current values of the other variables "
                "(the start state has probability zero and the chain cannot leave it); "
                "pass a start_state of positive probability"
            )
        self._state = state
        return self._frame(out, include_latents, state_names)

    def _frame(self, out, include_latents, state_names):
        import pandas as pd

        if self._column_index is None:
            self._column_index = pd.Index(self._columns)
        frame = pd.DataFrame(out, columns=self._column_index, copy=False)
        if not include_latents and self.latents:
            frame = frame.drop(columns=[str(v) for v in self.latents if str(v) in frame.columns])
        return self._named(frame) if state_names else frame

    def _sample_restarts(self, restarts, start_state, size, generator, clamp, burn_in, thin, include_latents,
                         state_names):
        """:meth:`sample` with ``restarts`` chains from resampled likelihood-weighted draws (arguments checked)."""
        restarts = check_int(restarts, "restarts", minimum=1)
        if self._network is None:
            raise ValidationError("restarts needs a Bayesian network (its forward draws start the chains)")
        if start_state is not None:
            raise ValidationError("restarts draws its own start states: pass start_state or restarts, not both")
        if restarts > size:
            raise ValidationError(f"restarts={restarts} chains need at least as many rows, got size={size}")
        c = self._compiled
        starts = self._resampled_starts(clamp, restarts, generator)
        free = np.array([i for i in range(len(self._nodes)) if i not in clamp], dtype=np.int64)
        with refuse_out_of_memory(f"size={size} rows of {len(self._nodes)} variables"):
            out = np.empty((size, len(self._nodes)), dtype=np.int64)
        shares = np.full(restarts, size // restarts)
        shares[: size % restarts] += 1
        first = 0
        for start, share in zip(starts, shares.tolist()):
            state = start.copy()
            position = np.empty(c.n_factors, dtype=np.int64)
            factor_positions(state, c.factor_offset, c.factor_ptr, c.factor_vars, c.factor_strides, position)
            variable, sweep = self._run(state, free, position, seed_streams(generator, 1), burn_in, thin,
                                        out[first:first + share])
            if variable >= 0:  # a resampled draw has positive probability: a chain from it cannot get stuck
                raise ValidationError(f"Gibbs sampling is stuck at sweep {sweep} of a restarted chain")
            first += share
            self._state = state
        return self._frame(out, include_latents, state_names)

    def _factor_scope_label(self, f: int) -> str:
        c = self._compiled
        return "(" + ", ".join(str(self._nodes[int(v)]) for v in c.factor_vars[c.factor_ptr[f]:c.factor_ptr[f + 1]]) + ")"

    def _warn_deterministic(self) -> None:
        """Say once per sampler what zero entries mean for mixing, and the remedy."""
        if self._warned or not self._deterministic:
            return
        self._warned = True
        shown = ", ".join(self._deterministic[:5]) + (" ..." if len(self._deterministic) > 5 else "")
        remedy = ("pass restarts=N to run N chains from independent likelihood-weighted draws resampled by weight"
                  if self._network is not None else "compare runs from several start states")
        warnings.warn(
            f"{len(self._deterministic)} factors hold zero probabilities (deterministic relations), over {shown}: "
            "single-site Gibbs cannot cross states of probability zero, so a chain may stay in one region of the "
            f"support and give that region's frequencies; {remedy}",
            MixingWarning, stacklevel=3,
        )

    def _resampled_starts(self, clamp: dict, count: int, generator) -> np.ndarray:
        """``count`` start states of a Bayesian network, drawn from the posterior by sampling-importance-resampling.

        :data:`_RESTART_POOL` (or 64 per start, if more) likelihood-weighted forward draws with the
        evidence fixed, resampled with replacement in proportion to their weights: as the pool
        grows, each start's region of the support is drawn with its posterior probability, which
        the chains' single-site updates (that stay in their region) cannot correct.
        """
        pool = max(_RESTART_POOL, 64 * count)
        rows, weights = self._weighted_draws(clamp, np.uint64(generator.integers(1, 2**63)), 0, pool)
        total = weights.sum()
        if not total > 0:
            raise EvidenceError(
                f"no likelihood-weighted draw of {pool:,} gave the evidence a positive weight: it has probability "
                "zero, or nearly"
            )
        return rows[generator.choice(pool, size=count, p=weights / total)]

    def _weighted_draws(self, clamp: dict, key, first: int, count: int):
        """Rows ``first .. first + count - 1`` of the likelihood-weighted forward draws keyed ``key`` (the
        evidence ``clamp`` fixed): states (count, n_variables) and weights (count,)."""
        from .._kernels.ancestral import forward_rows

        fixed = np.full(len(self._nodes), -1, dtype=np.int64)
        for i, k in clamp.items():
            fixed[i] = k
        rows = np.empty((count, len(self._nodes)), dtype=np.int64)
        weights = np.empty(count)
        forward_rows(self._network, fixed, key, first, rows, weights)
        return rows, weights

    def _forward_start(self, clamp: dict, generator) -> np.ndarray | None:
        """A state of positive probability of a Bayesian network: the first likelihood-weighted forward draw
        (the evidence fixed, every other node drawn from its CPD) of positive weight, or None.

        Without evidence every forward draw has positive probability; with evidence, draws are made
        in growing batches, :data:`_FORWARD_START_ROWS` in all.
        """
        key = np.uint64(generator.integers(1, 2**63))
        first, batch = 0, 1 if not clamp else 64
        while first < _FORWARD_START_ROWS:
            rows, weights = self._weighted_draws(clamp, key, first, batch)
            positive = np.flatnonzero(weights > 0)
            if positive.size:
                return rows[positive[0]].copy()
            first += batch
            batch = min(batch * 8, _FORWARD_START_ROWS - first)
        return None

    def _named(self, frame):
        """``frame`` with each state index replaced by the state's name (pgmpy's ``Series.map``)."""
        names_of = {column: self.state_names[node] for column, node in zip(self._columns, self._nodes)}
        return frame.apply(lambda column: column.map(dict(enumerate(names_of[column.name]))))

    def _run(self, state, free, position, streams, burn_in, thin, out):
        """``burn_in`` sweeps, then ``out[0]``, then a row every ``thin`` sweeps: :func:`gibbs_run` in pieces.

        The sweeps run in time-bounded kernel calls (Ctrl-C is answered between them); each
        call continues the chain (``state``, ``position``, ``streams``), so the rows are those
        of one call. Returns ``(variable, sweep)`` as :func:`gibbs_run` does, the sweep
        counted from the start.
        """
        c = self._compiled
        scratch = np.empty((1, state.shape[0]), dtype=np.int64)
        failure = [(-1, -1)]
        # a sweep reads every (variable, factor) entry once per state of the variable
        sweep_cost = float(c.entry_factor.shape[0]) * float(c.cards.max(initial=2))

        def sweeps(first, last, n_burn, rows, offset):
            if failure[0][0] >= 0:
                return
            variable, sweep = gibbs_run(c.graph, state, position, free, streams, 0, n_burn, thin, rows)
            if variable >= 0:
                failure[0] = (variable, offset + sweep)
                raise _Stuck

        try:
            # burn-in: ``last - first`` sweeps per call (the row it records is thrown away)
            run_chunked(
                burn_in, lambda first, last: sweeps(first, last, last - first, scratch, first),
                first=first_chunk(sweep_cost),
            )
            out[0] = state
            # row r is recorded after ``thin`` more sweeps than row r - 1
            run_chunked(
                out.shape[0] - 1,
                lambda first, last: sweeps(first, last, thin, out[1 + first:1 + last], burn_in + first * thin),
                first=first_chunk(sweep_cost * thin),
            )
        except _Stuck:
            pass
        return failure[0]

    def _check_evidence_possible(self, clamp, position):
        c = self._compiled
        for f in np.flatnonzero(c.log_table[position] == -np.inf).tolist():
            scope = c.factor_vars[c.factor_ptr[f]:c.factor_ptr[f + 1]]
            if all(int(v) in clamp for v in scope):
                names = {self._nodes[int(v)]: self.state_names[self._nodes[int(v)]][clamp[int(v)]]
                         for v in scope}
                raise EvidenceError(f"the evidence {names!r} has probability zero")

    def generate_sample(self, start_state=None, size=1, include_latents=False, seed=None, *,
                        evidence=None):
        """Yield ``size`` states, one after each sweep, as lists of pgmpy ``State(var, index)``.

        As pgmpy's generator (state indices, not names), but computed in one kernel call when
        the first state is asked for, and without the start state. Latent variables are left out unless
        ``include_latents``. ``size`` and ``include_latents`` are checked at the call, the
        other arguments (as by :meth:`sample`) when the first state is asked for.
        """
        size = check_int(size, "size", minimum=1)
        include_latents = check_bool(include_latents, "include_latents")
        return self._generate(start_state, size, include_latents, seed, evidence)

    def _generate(self, start_state, size, include_latents, seed, evidence):
        frame = self.sample(start_state, size + 1, seed, include_latents=True, evidence=evidence)
        State = _state_class()
        keep = [(k, var) for k, var in enumerate(self._nodes) if include_latents or var not in self.latents]
        rows = frame.to_numpy()
        for r in range(1, size + 1):
            yield [State(var, int(rows[r, k])) for k, var in keep]
