"""pgmpy-style inference on Boltzmann machines: ``query``, ``map_query``, ``predict``.

Two engines share one interface:

- :class:`ExactInference` answers by enumeration (the exact oracle of
  :mod:`pgm_energy.exact` and the ground-state kernels), up to ``max_units``
  enumerated units;
- :class:`GibbsInference` answers from Gibbs samples (with Monte Carlo standard
  errors) and finds the most probable state by simulated annealing with restarts.

``map_query`` here is the **joint** MAP: the single most probable assignment of
every unobserved unit, then restricted to the asked variables. pgmpy's
``VariableElimination.map_query`` is *marginal* MAP instead (the argmax of the
marginal over the asked variables, with the others summed out); the two differ
whenever the other unobserved units are correlated with the asked ones.

Unit values are 0 and 1, which are also the pgmpy state names of our models.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from ._validation import check_bool, check_evidence, check_int, check_query_variables, check_rng, describe
from .exceptions import EvidenceError, ModelSizeError, ParameterTypeError, StateError, ValidationError
from .models import BoltzmannMachine, RestrictedBoltzmannMachine

__all__ = ["most_probable_state", "ExactInference", "GibbsInference", "SampledQuery"]

DEFAULT_MAX_UNITS = 30


# --------------------------------------------------------------------------- validation
def _check_model(model) -> None:
    if not isinstance(model, (BoltzmannMachine, RestrictedBoltzmannMachine)):
        raise ParameterTypeError(
            f"model must be a BoltzmannMachine or RestrictedBoltzmannMachine, got {type(model).__name__}: {describe(model)}"
        )


def _check_data(model, data) -> tuple[list[str], np.ndarray]:
    """Validate a DataFrame of observed 0/1 values; return its columns and an int8 array."""
    import pandas as pd

    if not isinstance(data, pd.DataFrame):
        raise ParameterTypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    columns = list(data.columns)
    names = set(model.names)
    for column in columns:
        if not isinstance(column, str) or column not in names:
            raise EvidenceError(f"data has a column {column!r}, which is not a variable of the model")
    if len(set(columns)) != len(columns):
        duplicates = sorted({c for c in columns if columns.count(c) > 1})
        raise ValidationError(f"data has repeated columns {duplicates!r}")
    values = np.empty((len(data), len(columns)), dtype=np.int8)
    for k, column in enumerate(columns):
        raw = data[column].to_numpy()
        if raw.dtype == object or not (np.issubdtype(raw.dtype, np.number) or raw.dtype == np.bool_):
            # Object or categorical columns: every entry must be a real 0/1 (not "1", not None).
            ok = np.array(
                [isinstance(x, (numbers.Real, np.bool_)) and not isinstance(x, str) and x in (0, 1) for x in raw],
                dtype=bool,
            )
        else:
            ok = (raw == 0) | (raw == 1)
        if not ok.all():
            row = int(np.flatnonzero(~ok)[0])
            value = raw[row]
            value = value.item() if isinstance(value, np.generic) else value  # echo 2, not np.int64(2)
            what = "a missing value (NaN)" if _is_missing(value) else f"{value!r}"
            raise StateError(
                f"data[{column!r}] must contain only 0 and 1, got {what} at row {data.index[row]!r}; "
                "fill or drop missing observations before predicting (a column is either observed or predicted)"
            )
        values[:, k] = np.asarray(raw, dtype=np.float64).astype(np.int8)
    return columns, values


def _map_query_arguments(model, variables, evidence) -> tuple[dict[int, int], list[str]]:
    """Validated evidence (index -> value) and the variables a MAP query reports (default: all unobserved)."""
    clamped = check_evidence(evidence, model.names)
    if variables is None:
        return clamped, [name for i, name in enumerate(model.names) if i not in clamped]
    return clamped, check_query_variables(variables, model.names, clamped, joint=False, allow_empty=True)


def _is_missing(value) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- exact MAP
def _ground_state(model, clamped: dict[int, int], max_units: int) -> np.ndarray:
    """Joint minimum-energy state of all units (uint8, model order) given the clamped units."""
    from ._kernels.ground_state import bipartite_ground_state, pairwise_ground_state
    from .exact import _Pairwise, _flatten, _guard

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


def _most_probable_of(model, clamped: dict[int, int], targets: list[int], max_units: int) -> np.ndarray:
    """Most probable joint assignment of the ``targets`` units given ``clamped``, others summed out.

    Returns the values of ``targets`` (uint8, in the given order). When every
    unclamped unit is a target this is the joint MAP (ground state).
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
        from .exact import _flatten

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
    # General case: the joint posterior table of the targets (each entry one enumeration).
    from .exact import MAX_QUERY_VARIABLES, query

    if len(targets) > MAX_QUERY_VARIABLES:
        raise ModelSizeError(
            f"the most probable values of {len(targets)} units with other units summed out need a table of "
            f"2**{len(targets)} entries; at most {MAX_QUERY_VARIABLES} are allowed here: observe more units "
            "or pass include_latents=True (the joint MAP of every unobserved unit)"
        )
    names = model.names
    evidence = {names[i]: value for i, value in clamped.items()}
    table = query(model, [names[i] for i in targets], evidence=evidence, max_units=max_units)
    row = int(np.argmax(table.values.ravel()))  # first maximum: lowest index on ties
    return np.array([(row >> (len(targets) - 1 - k)) & 1 for k in range(len(targets))], dtype=np.uint8)


def _energy(model, state: np.ndarray) -> float:
    if isinstance(model, RestrictedBoltzmannMachine):
        return float(model.energy(state[: model.n_visible], state[model.n_visible :]))
    return float(model.energy(state))


def most_probable_state(model, *, evidence=None, max_units=DEFAULT_MAX_UNITS):
    """The joint most probable state (minimum energy), exactly, by enumeration.

    Parameters
    ----------
    model : BoltzmannMachine or RestrictedBoltzmannMachine
    evidence : dict of str -> 0/1, optional
        Units clamped to the given values.
    max_units : int, default 30
        Largest number of enumerated units allowed: a general machine's free
        units, or the smaller free layer of an RBM (the other layer is
        minimised in closed form).

    Returns
    -------
    state : ndarray of uint8, shape (n_units,)
        In the order of ``model.names`` (an RBM: visible then hidden), evidence included.
    energy : float
        ``E(state)`` at the model's parameters (offset included, not divided by T).

    Raises
    ------
    ModelSizeError
        If the enumeration exceeds ``max_units``.
    EvidenceError
        For unknown variables or values other than 0/1 in ``evidence``.

    Notes
    -----
    The temperature does not change the most probable state. Ties are broken
    toward the lexicographically first state (unit 0 most significant); energies
    within ``1e-10 * (1 + sum |W_ij| + sum |b_i|)`` count as tied, which only
    matters for energies not exactly representable in floating point.

    Examples
    --------
    >>> from pgm_energy import BoltzmannMachine
    >>> bm = BoltzmannMachine([[0.0, 2.0], [2.0, 0.0]], [-1.0, -0.5])
    >>> state, energy = most_probable_state(bm)
    >>> state.tolist(), energy
    ([1, 1], -0.5)
    """
    _check_model(model)
    max_units = check_int(max_units, "max_units", minimum=0)
    clamped = check_evidence(evidence, model.names)
    state = _ground_state(model, clamped, max_units)
    return state, _energy(model, state)


# --------------------------------------------------------------------------- predictions
class _Predictions:
    """Validation of ``predict``'s DataFrame, shared by both engines (``self.model`` is set)."""

    def _targets(self, columns, include_latents: bool) -> list[int]:
        model = self.model
        observed = set(columns)
        hidden = set(model.hidden_names)
        targets = [
            i for i, name in enumerate(model.names) if name not in observed and (include_latents or name not in hidden)
        ]
        if not targets:
            raise ValidationError(
                "data leaves no variable to predict: every "
                + ("unit" if include_latents else "visible unit (pass include_latents=True to predict hidden units)")
                + " is a column of data"
            )
        return targets

    def _rows(self, data, include_latents):
        """Validated columns, target unit indices, the unique observed rows and the row -> unique map."""
        if not isinstance(include_latents, (bool, np.bool_)):
            raise ParameterTypeError(f"include_latents must be True or False, got {describe(include_latents)}")
        columns, values = _check_data(self.model, data)
        targets = self._targets(columns, bool(include_latents))
        column_units = [self.model.index(name) for name in columns]
        if values.shape[0] == 0:
            return targets, column_units, values, np.zeros(0, dtype=np.int64)
        unique, inverse = np.unique(values, axis=0, return_inverse=True)
        return targets, column_units, unique, inverse.reshape(-1)


def _probability_frame(names, targets, ones, index):
    """pgmpy's ``predict_probability`` layout: columns ``{name}_0``, ``{name}_1`` per target."""
    import pandas as pd

    frame = {}
    for k, unit in enumerate(targets):
        frame[f"{names[unit]}_0"] = 1.0 - ones[:, k]
        frame[f"{names[unit]}_1"] = ones[:, k]
    return pd.DataFrame(frame, index=index)


def _error_frame(names, targets, errors, index):
    """Standard errors in the layout of :func:`_probability_frame` (equal for both states)."""
    import pandas as pd

    frame = {}
    for k, unit in enumerate(targets):
        frame[f"{names[unit]}_0"] = errors[:, k]
        frame[f"{names[unit]}_1"] = errors[:, k]
    return pd.DataFrame(frame, index=index)


# --------------------------------------------------------------------------- exact engine
class ExactInference(_Predictions):
    """Exact pgmpy-style inference on a Boltzmann machine or RBM, by enumeration.

    A drop-in for ``pgmpy.inference.VariableElimination(model.to_markov_network())``
    on our models, with two differences: results are normalized, and
    :meth:`map_query` is the joint MAP (see the module docstring).

    Parameters
    ----------
    model : BoltzmannMachine or RestrictedBoltzmannMachine
    max_units : int, default 30
        Size guard: largest number of enumerated units (free units of a general
        machine, the smaller free layer of an RBM).

    Examples
    --------
    >>> import pandas as pd
    >>> from pgm_energy import BoltzmannMachine
    >>> bm = BoltzmannMachine([[0.0, 2.0], [2.0, 0.0]], [-1.0, -0.5])
    >>> inference = ExactInference(bm)
    >>> inference.map_query()
    {'v0': 1, 'v1': 1}
    >>> inference.map_query(evidence={"v1": 0})
    {'v0': 0}
    >>> inference.predict(pd.DataFrame({"v0": [0, 1]}))
       v1
    0   0
    1   1
    """

    def __init__(self, model, *, max_units=DEFAULT_MAX_UNITS):
        _check_model(model)
        self.model = model
        self.max_units = check_int(max_units, "max_units", minimum=0)

    def __repr__(self) -> str:
        return f"ExactInference({self.model!r}, max_units={self.max_units})"

    def query(self, variables, evidence=None, joint=True, show_progress=False):
        """Exact posterior over ``variables`` given ``evidence``.

        Parameters
        ----------
        variables : list of str
            At most 20 variables for a joint table; none of them in ``evidence``.
        evidence : dict of str -> 0/1, optional
        joint : bool, default True
            One joint ``DiscreteFactor`` (C order: the last variable fastest), or a
            dict name -> single-variable factor.
        show_progress : bool
            Accepted for compatibility with pgmpy; there is no progress bar.

        Returns
        -------
        pgmpy.factors.discrete.DiscreteFactor or dict of str -> DiscreteFactor
            Normalized; states named 0 and 1.

        See Also
        --------
        pgm_energy.exact.query
        """
        from .exact import query

        return query(self.model, variables, evidence=evidence, joint=joint, max_units=self.max_units)

    def map_query(self, variables=None, evidence=None, show_progress=False) -> dict[str, int]:
        """The joint most probable assignment, restricted to ``variables``.

        Parameters
        ----------
        variables : list of str, optional
            Variables to report (default: every unit not in ``evidence``). They
            are read off the single most probable joint state of **all**
            unobserved units; this is not pgmpy's marginal MAP, which maximises
            the marginal of ``variables`` with the other units summed out.
        evidence : dict of str -> 0/1, optional
        show_progress : bool
            Accepted for compatibility with pgmpy; there is no progress bar.

        Returns
        -------
        dict of str -> int
            Values 0/1, in the order of ``variables`` (default: model order).

        Raises
        ------
        EvidenceError
            Unknown names, values other than 0/1, or a variable also in ``evidence``.
        ModelSizeError
            If the enumeration exceeds ``max_units``.
        """
        model = self.model
        clamped, variables = _map_query_arguments(model, variables, evidence)
        state = _ground_state(model, clamped, self.max_units)
        return {name: int(state[model.index(name)]) for name in variables}

    def predict(self, data, *, include_latents=False):
        """Fill the model's variables missing from ``data`` with their most probable values.

        For each row, the predicted columns get the single most probable joint
        assignment given that row's observed values. Hidden units not in
        ``data`` are summed out, unless ``include_latents=True`` adds them to
        the predicted columns (then the prediction is the joint MAP of every
        unobserved unit). Identical rows are solved once.

        Parameters
        ----------
        data : pandas.DataFrame
            Columns: a subset of the model's variable names, values 0/1 (no NaN:
            a column is observed in every row or predicted in every row).
        include_latents : bool, default False
            Also predict the hidden units missing from ``data``.

        Returns
        -------
        pandas.DataFrame
            Only the predicted columns (int64, in model order), with ``data``'s
            index. (pgmpy 1.1's ``predict`` returns the observed columns too; join
            them with ``data.join(result)``.)

        Raises
        ------
        EvidenceError
            A column that is not a model variable.
        StateError
            A value other than 0/1, or NaN.
        ValidationError
            When no variable is left to predict.
        ModelSizeError
            When one row's enumeration exceeds ``max_units``; with hidden units
            summed out of a general machine, also when more than 20 variables are predicted.
        """
        import pandas as pd

        targets, column_units, unique, inverse = self._rows(data, include_latents)
        solved = np.empty((unique.shape[0], len(targets)), dtype=np.int64)
        for k, row in enumerate(unique):
            clamped = dict(zip(column_units, row.tolist()))
            solved[k] = _most_probable_of(self.model, clamped, targets, self.max_units)
        names = [self.model.names[i] for i in targets]
        return pd.DataFrame(solved[inverse] if len(inverse) else solved[:0], index=data.index, columns=names)

    def predict_probability(self, data, *, include_latents=False):
        """Posterior probability of each state of each variable missing from ``data``.

        Parameters
        ----------
        data : pandas.DataFrame
            As for :meth:`predict`.
        include_latents : bool, default False
            Also report the hidden units missing from ``data``.

        Returns
        -------
        pandas.DataFrame
            Columns ``f"{name}_0"`` and ``f"{name}_1"`` for each predicted
            variable (model order), as pgmpy's ``predict_probability`` names
            them; each holds ``p(name = state | row)`` with every other
            unobserved unit summed out. Index: ``data``'s.

        Raises
        ------
        As :meth:`predict`.
        """
        from .exact import marginals

        targets, column_units, unique, inverse = self._rows(data, include_latents)
        solved = np.empty((unique.shape[0], len(targets)))
        names = self.model.names
        for k, row in enumerate(unique):
            evidence = {names[i]: value for i, value in zip(column_units, row.tolist())}
            solved[k] = marginals(self.model, evidence=evidence, max_units=self.max_units)[targets]
        ones = solved[inverse] if len(inverse) else solved[:0]
        return _probability_frame(names, targets, ones, data.index)


# --------------------------------------------------------------------------- sampled engine
class SampledQuery(NamedTuple):
    """A query answered from samples, with its Monte Carlo standard errors.

    Attributes
    ----------
    factor : DiscreteFactor or dict of str -> DiscreteFactor
        The normalized estimate, exactly what :meth:`GibbsInference.query` returns.
    standard_errors : ndarray or dict of str -> ndarray
        Standard error of each entry of ``factor.values`` (same shape, or one
        array of shape (2,) per variable): ``sqrt(p (1 - p) / ESS)`` with the
        effective sample size of that entry's indicator over all chains. An
        entry never visited has estimate 0 and error 0: the error formula says
        nothing about states the chains did not reach.
    samples : SampleSet
        The draws the estimate comes from (for diagnostics such as ``split_r_hat``).
    """

    factor: object
    standard_errors: object
    samples: object


# Indicator series are built in chunks of this many joint states to bound memory.
_INDICATOR_CHUNK = 256


def _indicator_errors(codes: np.ndarray, n_cells: int) -> np.ndarray:
    """Standard errors of the frequencies of each code (shape (n_chains, n_draws)) via SampleSet's ESS."""
    from .samplers.sampleset import SampleSet

    errors = np.zeros(n_cells)
    visited = np.unique(codes)
    for start in range(0, visited.shape[0], _INDICATOR_CHUNK):
        cells = visited[start : start + _INDICATOR_CHUNK]
        indicators = (codes[:, :, None] == cells[None, None, :]).astype(np.uint8)
        series = SampleSet(
            indicators, np.zeros(codes.shape), [f"cell{c}" for c in cells.tolist()], temperature=1.0
        )
        errors[cells] = series.marginal_standard_errors()
    return errors


class GibbsInference(_Predictions):
    """pgmpy-style inference answered by Gibbs sampling (queries) and annealing (MAP).

    Parameters
    ----------
    model : BoltzmannMachine or RestrictedBoltzmannMachine
    n_samples : int, default 10_000
        Draws per chain for each query.
    n_chains : int, default 4
        Independent chains (needed for split R-hat and a sound standard error).
    burn_in, thin, scan : optional
        Passed to :class:`~pgm_energy.samplers.GibbsSampler` (its defaults when omitted).
    n_reads : int, default 16
        Annealing restarts for :meth:`map_query`.
    schedule, n_sweeps : optional
        Passed to :class:`~pgm_energy.samplers.SimulatedAnnealingSampler` (its defaults when omitted).
    rng : None, int or numpy.random.Generator
        Seeds every query in turn: the same ``rng`` and the same sequence of
        calls give the same answers.

    Notes
    -----
    :meth:`query` returns plain normalized ``DiscreteFactor``s, as pgmpy does;
    :meth:`query_with_errors` returns the same estimate together with its Monte
    Carlo standard errors and the samples. :meth:`map_query` is the joint MAP
    found by annealing: the lowest-energy state over ``n_reads`` restarts, which
    is a heuristic (no guarantee of the exact optimum; see
    :class:`ExactInference` for small models). :meth:`predict` and
    :meth:`predict_probability` follow pgmpy's model conventions, as
    :meth:`ExactInference.predict` does, with one sampling or annealing run per
    distinct row of the data.
    """

    def __init__(
        self,
        model,
        *,
        n_samples=10_000,
        n_chains=4,
        burn_in=None,
        thin=None,
        scan=None,
        n_reads=16,
        schedule=None,
        n_sweeps=None,
        rng=None,
    ):
        _check_model(model)
        self.model = model
        self.n_samples = check_int(n_samples, "n_samples", minimum=1)
        self.n_chains = check_int(n_chains, "n_chains", minimum=1)
        self.n_reads = check_int(n_reads, "n_reads", minimum=1)
        self._gibbs_options = {k: v for k, v in dict(burn_in=burn_in, thin=thin, scan=scan).items() if v is not None}
        self._annealing_options = {
            k: v for k, v in dict(schedule=schedule, n_sweeps=n_sweeps).items() if v is not None
        }
        self._rng = check_rng(rng)

    def __repr__(self) -> str:
        return f"GibbsInference({self.model!r}, n_samples={self.n_samples}, n_chains={self.n_chains})"

    def _anneal(self, evidence) -> np.ndarray:
        """The lowest-energy state (uint8, model order) over ``n_reads`` annealing runs."""
        from .samplers.annealing import SimulatedAnnealingSampler

        sampler = SimulatedAnnealingSampler(**self._annealing_options)
        result = sampler.sample(self.model, n_reads=self.n_reads, evidence=evidence or None, rng=self._rng)
        states, _ = result.lowest()
        return states[0]

    def _sample(self, evidence):
        from .samplers.gibbs import GibbsSampler

        sampler = GibbsSampler(**self._gibbs_options)
        return sampler.sample(
            self.model, self.n_samples, n_chains=self.n_chains, evidence=evidence or None, rng=self._rng
        )

    def query_with_errors(self, variables, evidence=None, joint=True) -> SampledQuery:
        """Estimate the posterior over ``variables`` given ``evidence``, with standard errors.

        Parameters and validation as :meth:`ExactInference.query` (at most 20
        variables in a joint table).

        Returns
        -------
        SampledQuery
            ``(factor, standard_errors, samples)``.
        """
        from .interop.pgmpy import binary_factor

        model = self.model
        joint = check_bool(joint, "joint")
        clamped = check_evidence(evidence, model.names)
        variables = check_query_variables(variables, model.names, clamped, joint=joint)
        samples = self._sample(evidence)
        columns = [model.index(name) for name in variables]
        if not joint:
            p = samples.marginals()[columns]
            e = samples.marginal_standard_errors()[columns]
            factors = {name: binary_factor([name], [1.0 - p[k], p[k]]) for k, name in enumerate(variables)}
            errors = {name: np.array([e[k], e[k]]) for k, name in enumerate(variables)}
            return SampledQuery(factors, errors, samples)
        states = samples.states[:, :, columns].astype(np.int64)  # (chains, draws, k)
        weights = 1 << np.arange(len(variables) - 1, -1, -1, dtype=np.int64)  # first variable most significant
        codes = states @ weights
        n_cells = 1 << len(variables)
        counts = np.bincount(codes.ravel(), minlength=n_cells).astype(np.float64)
        values = counts / counts.sum()
        errors = _indicator_errors(codes, n_cells)
        shape = [2] * len(variables)
        return SampledQuery(binary_factor(variables, values), errors.reshape(shape), samples)

    def query(self, variables, evidence=None, joint=True, show_progress=False):
        """Estimate the posterior over ``variables`` given ``evidence`` from Gibbs samples.

        Returns
        -------
        DiscreteFactor or dict of str -> DiscreteFactor
            Normalized frequencies (C order, the last variable fastest). For
            standard errors use :meth:`query_with_errors`.
        """
        return self.query_with_errors(variables, evidence=evidence, joint=joint).factor

    def map_query(self, variables=None, evidence=None, show_progress=False) -> dict[str, int]:
        """The joint most probable assignment found by simulated annealing with restarts.

        The lowest-energy state over ``n_reads`` independent annealing runs
        (evidence clamped), restricted to ``variables`` (default: every unit
        not in ``evidence``). As :meth:`ExactInference.map_query`, this is the
        joint MAP, not pgmpy's marginal MAP; unlike it, it is a heuristic.

        Returns
        -------
        dict of str -> int
        """
        model = self.model
        clamped, variables = _map_query_arguments(model, variables, evidence)
        state = self._anneal(evidence)
        return {name: int(state[model.index(name)]) for name in variables}

    # ------------------------------------------------------------------ pgmpy model conventions
    def _row_evidence(self, column_units, row) -> dict[str, int]:
        names = self.model.names
        return {names[i]: int(value) for i, value in zip(column_units, row.tolist())}

    def _sampled_mode(self, samples, targets: list[int], column_units: list[int], row) -> np.ndarray:
        """Most probable visited assignment of ``targets`` (the other unobserved units summed out).

        The candidates are the distinct assignments of ``targets`` among the draws. For an
        RBM the summed-out units are hidden, so each candidate's posterior is known up to a
        constant in closed form (a free energy) and the best candidate is exact among those
        visited; for a general machine, the most frequent candidate. Ties: the first in
        lexicographic order (unit 0 most significant), as :class:`ExactInference`.
        """
        model = self.model
        candidates, counts = np.unique(samples.flat_states()[:, targets], axis=0, return_counts=True)
        if not isinstance(model, RestrictedBoltzmannMachine):
            return candidates[int(np.argmax(counts))]
        n_visible = model.n_visible
        visible = np.zeros((candidates.shape[0], n_visible))
        hidden = np.zeros(model.n_hidden)
        observed_hidden = np.zeros(model.n_hidden, dtype=bool)
        for unit, value in zip(column_units, row.tolist()):
            if unit < n_visible:
                visible[:, unit] = value
            else:
                hidden[unit - n_visible] = value
                observed_hidden[unit - n_visible] = True
        visible[:, targets] = candidates  # targets are visible units here (the hidden ones are summed out)
        t = model.temperature
        inputs = model.hidden_bias + visible @ model.weights  # (candidates, n_hidden)
        # log sum over the free hidden units of exp(-E(v, h) / T), up to a constant
        scores = (visible @ model.visible_bias + inputs[:, observed_hidden] @ hidden[observed_hidden]) / t
        scores += np.logaddexp(0.0, inputs[:, ~observed_hidden] / t).sum(axis=1)
        return candidates[int(np.argmax(scores))]

    def predict(self, data, *, include_latents=False):
        """Fill the model's variables missing from ``data`` with their most probable values.

        The semantics of :meth:`ExactInference.predict`, estimated; for each distinct
        row of ``data`` (its values as evidence):

        * when no unobserved unit is summed out (``include_latents=True``, or no
          hidden unit is missing from ``data``), the joint MAP of the missing units,
          by annealing with ``n_reads`` restarts (as :meth:`map_query`): a heuristic
          that can miss the optimum of a hard model;
        * otherwise (missing hidden units summed out), the mode of the sampled
          joint distribution of the predicted columns: ``n_chains x n_samples`` Gibbs
          draws given the row, then the best of the distinct assignments they visit
          -- exactly scored for an RBM (closed-form free energy of the hidden units),
          the most frequent one for a general machine. An assignment never visited
          cannot be chosen, so with many predicted columns and a flat posterior the
          answer is only as good as the sampling.

        Parameters
        ----------
        data : pandas.DataFrame
            Columns: a subset of the model's variable names, values 0/1 (no NaN).
        include_latents : bool, default False
            Also predict the hidden units missing from ``data``.

        Returns
        -------
        pandas.DataFrame
            Only the predicted columns (int64, in model order), with ``data``'s index.

        Raises
        ------
        EvidenceError, StateError, ValidationError
            As :meth:`ExactInference.predict`.
        """
        import pandas as pd

        targets, column_units, unique, inverse = self._rows(data, include_latents)
        free = set(range(self.model.n_units)) - set(column_units)
        summed = free - set(targets)
        solved = np.empty((unique.shape[0], len(targets)), dtype=np.int64)
        for k, row in enumerate(unique):
            evidence = self._row_evidence(column_units, row)
            if summed:
                solved[k] = self._sampled_mode(self._sample(evidence), targets, column_units, row)
            else:
                solved[k] = self._anneal(evidence)[targets]
        names = [self.model.names[i] for i in targets]
        return pd.DataFrame(solved[inverse] if len(inverse) else solved[:0], index=data.index, columns=names)

    def predict_probability_with_errors(self, data, *, include_latents=False):
        """:meth:`predict_probability` and the Monte Carlo standard error of each entry.

        Returns
        -------
        probabilities : pandas.DataFrame
            As :meth:`predict_probability`.
        standard_errors : pandas.DataFrame
            Same columns and index: ``sqrt(p (1 - p) / ESS)`` for the entry's variable,
            ``ESS`` the effective sample size of its draws over all chains (equal for
            ``{name}_0`` and ``{name}_1``). An estimate of exactly 0 or 1 has error 0,
            which says only that the state was never (or always) seen in the draws.
        """
        targets, column_units, unique, inverse = self._rows(data, include_latents)
        ones = np.empty((unique.shape[0], len(targets)))
        errors = np.empty_like(ones)
        for k, row in enumerate(unique):
            samples = self._sample(self._row_evidence(column_units, row))
            ones[k] = samples.marginals()[targets]
            errors[k] = samples.marginal_standard_errors()[targets]
        if len(inverse):
            ones, errors = ones[inverse], errors[inverse]
        else:
            ones, errors = ones[:0], errors[:0]
        names = self.model.names
        return (_probability_frame(names, targets, ones, data.index),
                _error_frame(names, targets, errors, data.index))

    def predict_probability(self, data, *, include_latents=False):
        """Posterior probability of each state of each variable missing from ``data``, sampled.

        For each distinct row of ``data``: ``n_chains x n_samples`` Gibbs draws with the
        row's values clamped as evidence (after ``burn_in``), and for each predicted
        variable the fraction of draws in which it is 1 -- a Monte Carlo estimate of
        ``p(name = 1 | row)`` with every other unobserved unit summed out, the
        quantity :meth:`ExactInference.predict_probability` computes exactly. Its
        standard error is ``sqrt(p (1 - p) / ESS)`` (ESS: effective sample size of the
        variable's draws, at most ``n_chains x n_samples``); get the errors with
        :meth:`predict_probability_with_errors`.

        Parameters
        ----------
        data : pandas.DataFrame
            As for :meth:`predict`.
        include_latents : bool, default False
            Also report the hidden units missing from ``data``.

        Returns
        -------
        pandas.DataFrame
            Columns ``f"{name}_0"`` and ``f"{name}_1"`` for each predicted variable
            (model order), as pgmpy names them; the two sum to 1. Index: ``data``'s.

        Raises
        ------
        As :meth:`predict`.
        """
        return self.predict_probability_with_errors(data, include_latents=include_latents)[0]
