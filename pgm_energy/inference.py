"""pgmpy-style inference on Boltzmann machines: ``query``, ``map_query``, ``predict``.

Two engines share one interface and answer what pgmpy's ``VariableElimination``
answers on ``model.to_markov_network()``: :class:`ExactInference` by enumeration
(the oracle of :mod:`pgm_energy.exact`, up to ``max_units`` enumerated units),
:class:`GibbsInference` from Gibbs samples (with Monte Carlo standard errors) and
simulated annealing. Potts machines and deep Boltzmann machines get subclasses of
both (state names; the bipartite embedding). A third engine, :class:`MeanFieldInference`,
answers for deep Boltzmann machines from their mean-field posterior, an approximation.

``map_query(variables, evidence)`` is pgmpy's marginal MAP: the most probable
joint assignment of ``variables``, every other unobserved unit summed out;
``predict`` fills a DataFrame's missing columns the same way. The joint MAP (the
single most probable state of every unobserved unit) is ``most_probable_state``.
The two differ whenever the summed-out units are correlated with the asked ones.
Unit values are 0 and 1, which are also the pgmpy state names of our models.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._inference_frames import prediction_frame, prediction_rows, spread, state_frame
from ._validation import (
    DEFAULT_MAX_UNITS,
    MarkedDefault,
    check_bool,
    check_evidence,
    check_int,
    check_query_variables,
    check_rng,
    describe,
    renamed_option,
)
from .exceptions import ParameterTypeError, ValidationError
from .exact import _check_model, _ground_state, _marginal_array, _marginal_mode
from .models import DeepBoltzmannMachine, PottsMachine, RestrictedBoltzmannMachine

__all__ = ["most_probable_state", "ExactInference", "GibbsInference", "MeanFieldInference", "SampledQuery"]


def _energy(model, state: np.ndarray) -> float:
    if isinstance(model, RestrictedBoltzmannMachine):
        return float(model.energy(state[: model.n_visible], state[model.n_visible :]))
    return float(model.energy(state))


def most_probable_state(model, *, evidence=None, max_units=DEFAULT_MAX_UNITS):
    """The joint most probable state (minimum energy), exactly, by enumeration.

    Parameters
    ----------
    model : BoltzmannMachine, RestrictedBoltzmannMachine or DeepBoltzmannMachine
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
        When more than ``max_units`` units would be enumerated.
    EvidenceError
        For unknown variables or values other than 0/1 in ``evidence``.

    See Also
    --------
    ExactInference.most_probable_state : the same state as a dict of the unobserved units.
    ExactInference.map_query : pgmpy's marginal MAP of some units, the others summed out.

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
    if isinstance(model, DeepBoltzmannMachine):
        from ._deep_inference import BipartiteView

        view = BipartiteView(model)
        state = view.state(_ground_state(view.rbm, view.clamped(clamped), max_units))
    else:
        state = _ground_state(model, clamped, max_units)
    return state, _energy(model, state)


# --------------------------------------------------------------------------- engines of other model kinds
#: model kinds answered by subclasses of the engines, in modules of their own (imported on use: they
#: import this one): Potts machines use state names, deep machines their bipartite embedding
_KIND_ENGINES = {
    (PottsMachine, "ExactInference"): ("_potts_inference", "PottsExactInference"),
    (PottsMachine, "GibbsInference"): ("_potts_inference", "PottsGibbsInference"),
    (DeepBoltzmannMachine, "ExactInference"): ("_deep_inference", "DeepExactInference"),
    (DeepBoltzmannMachine, "GibbsInference"): ("_deep_inference", "DeepGibbsInference"),
}


def _kind_engine(cls, base, model):
    """The class ``base(model)`` builds: ``cls``, or the subclass for ``model``'s kind.

    A subclass, so ``isinstance(ExactInference(potts), ExactInference)`` holds and ``__init__``
    still runs; a subclass named explicitly is kept as it is.
    """
    from importlib import import_module

    if cls is not base:
        return cls
    where = _KIND_ENGINES.get((type(model), base.__name__))
    if where is None:
        return cls
    return getattr(import_module(f"{__package__}.{where[0]}"), where[1])


# --------------------------------------------------------------------------- the shared interface
class _Engine:
    """The pgmpy-style methods both engines share, written once over three primitives.

    A subclass sets ``self.model`` and, for ``clamped`` (unit index -> 0/1) and
    ``targets`` (unit indices in model order), answers ``_joint_mode(clamped)`` (the
    most probable state of every unit, model order), ``_marginal_mode(clamped,
    targets)`` (the most probable values of ``targets``, other free units summed out)
    and ``_row_probabilities(clamped, targets)`` (``p(target = 1)`` and its standard
    errors, None when exact).
    """

    def _query_arguments(self, variables, evidence) -> tuple[dict[int, int], list[str]]:
        """Validated evidence (index -> value) and the variables asked for (default: every unobserved unit)."""
        names = self.model.names
        clamped = check_evidence(evidence, names)
        if variables is None:
            return clamped, [name for i, name in enumerate(names) if i not in clamped]
        return clamped, check_query_variables(variables, names, clamped, joint=False, allow_empty=True)

    def _evidence_names(self, clamped: dict[int, int]) -> dict[str, int]:
        names = self.model.names
        return {names[i]: value for i, value in clamped.items()}

    def _mode(self, clamped: dict[int, int], targets: list[int]) -> np.ndarray:
        """Most probable values of ``targets``: marginal when some free unit is left out, joint otherwise."""
        if len(clamped) + len(targets) < self.model.n_units:
            return self._marginal_mode(clamped, targets)
        return self._joint_mode(clamped)[targets]

    def map_query(self, variables=None, evidence=None, show_progress=False) -> dict[str, int]:
        """The most probable joint assignment of ``variables``, the other unobserved units summed out.

        What pgmpy's ``VariableElimination.map_query`` answers on
        ``model.to_markov_network()`` (marginal MAP): the argmax over assignments
        of ``variables`` of ``p(variables | evidence)``. :class:`ExactInference`
        computes it by enumeration. :class:`GibbsInference` estimates it: by
        annealing when no unit is summed out (as :meth:`most_probable_state`),
        otherwise as the best assignment among those its Gibbs draws visit
        (scored exactly for an RBM whose summed-out units are all hidden, the
        most frequent one otherwise).

        Parameters
        ----------
        variables : list of str, optional
            Variables to maximise over, none of them in ``evidence``. Default:
            every unit not in ``evidence`` (their joint most probable state). pgmpy
            treats a missing or empty list as every variable and then ignores the
            evidence; here an empty list gives ``{}``.
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
            (exact) When an enumeration exceeds ``max_units``, or when more than 20
            variables are asked with other units summed out (a table of 2**k entries;
            an RBM's visible units with its hidden units summed out are not limited).

        Notes
        -----
        Ties go to the first assignment in lexicographic order, unit order as in
        the model (the lowest-indexed unit most significant). pgmpy breaks ties in
        the order of its internal factor; exact ties are rare with real-valued weights.
        """
        model = self.model
        clamped, variables = self._query_arguments(variables, evidence)
        targets = sorted(model.index(name) for name in variables)
        if not targets:
            return {}
        values = dict(zip(targets, self._mode(clamped, targets).tolist()))
        return {name: int(values[model.index(name)]) for name in variables}

    def most_probable_state(self, variables=None, evidence=None) -> dict[str, int]:
        """The single most probable state of every unobserved unit (joint MAP), restricted to ``variables``.

        :class:`ExactInference`: exactly (minimum energy, by enumeration; see the
        module-level :func:`most_probable_state` for the whole state and its energy).
        :class:`GibbsInference`: the lowest-energy state over ``n_annealing_runs``
        annealing runs (a heuristic: no guarantee of the exact optimum).

        Parameters
        ----------
        variables : list of str, optional
            Variables to report (default: every unit not in ``evidence``). All
            unobserved units are maximised jointly; unlike :meth:`map_query`, none
            is summed out.
        evidence : dict of str -> 0/1, optional

        Returns
        -------
        dict of str -> int
            As :meth:`map_query`, which raises the same errors (except the limit on
            summed-out tables, since nothing is summed out here).
        """
        clamped, variables = self._query_arguments(variables, evidence)
        state = self._joint_mode(clamped)
        return {name: int(state[self.model.index(name)]) for name in variables}

    def predict(self, data, *, include_latents=False, include_observed=False):
        """Fill the model's variables missing from ``data`` with their most probable values.

        For each distinct row of ``data`` (its values as evidence), the missing
        columns get :meth:`map_query` of those columns: hidden units not in
        ``data`` are summed out, unless ``include_latents=True`` adds them to the
        predicted columns (then the prediction is the joint most probable state of
        every unobserved unit). Identical rows are solved once.

        Parameters
        ----------
        data : pandas.DataFrame
            Columns: a subset of the model's variable names, values 0/1 (no NaN:
            a column is observed in every row or predicted in every row).
        include_latents : bool, default False
            Also predict the hidden units missing from ``data``.
        include_observed : bool, default False
            Return the whole frame, as pgmpy's ``predict`` does: ``data``'s columns
            (values unchanged) followed by the predicted ones. The default returns
            only the predicted columns, which earlier versions returned and
            ``data.join(result)`` expects.

        Returns
        -------
        pandas.DataFrame
            The predicted columns (int64, in model order), after ``data``'s own
            columns if ``include_observed``. Rows: ``data``'s index, in ``data``'s
            order (pgmpy sorts its answer by the index).

        Raises
        ------
        EvidenceError, StateError, ValidationError
            A column that is not a model variable; a value other than 0/1, or NaN;
            no variable left to predict.
        ModelSizeError
            (exact) When one row's enumeration exceeds ``max_units``; with hidden
            units summed out of a general machine, also when more than 20 variables
            are predicted.
        """
        include_observed = check_bool(include_observed, "include_observed")
        rows = prediction_rows(self.model, data, include_latents)
        solved = np.empty((rows.unique.shape[0], len(rows.targets)), dtype=np.int64)
        for k in range(rows.unique.shape[0]):
            solved[k] = self._mode(rows.clamped(k), rows.targets)
        names = [self.model.names[i] for i in rows.targets]
        return prediction_frame(data, names, spread(solved, rows.inverse), include_observed)

    def _probability_frames(self, data, include_latents):
        """``predict_probability``'s frame and the frame of its standard errors (zero when exact)."""
        rows = prediction_rows(self.model, data, include_latents)
        ones = np.empty((rows.unique.shape[0], len(rows.targets)))
        errors = np.zeros_like(ones)
        for k in range(rows.unique.shape[0]):
            ones[k], row_errors = self._row_probabilities(rows.clamped(k), rows.targets)
            if row_errors is not None:
                errors[k] = row_errors
        ones, errors = spread(ones, rows.inverse), spread(errors, rows.inverse)
        names = [self.model.names[i] for i in rows.targets]
        return state_frame(names, 1.0 - ones, ones, data.index), state_frame(names, errors, errors, data.index)

    def predict_probability(self, data, *, include_latents=False):
        """Posterior probability of each state of each variable missing from ``data``.

        For each row, ``p(name = state | row)`` with every other unobserved unit
        summed out: computed exactly by :class:`ExactInference`; estimated by
        :class:`GibbsInference` as the fraction of ``n_chains x n_samples`` Gibbs
        draws (the row clamped, after ``burn_in``) in which the variable is in that
        state, with standard error ``sqrt(p (1 - p) / ESS)`` (see
        :meth:`GibbsInference.predict_probability_with_errors`).

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
            them (only the predicted variables, as pgmpy); the two sum to 1.
            Index: ``data``'s.

        Raises
        ------
        As :meth:`predict`.
        """
        return self._probability_frames(data, include_latents)[0]


# --------------------------------------------------------------------------- exact engine
class ExactInference(_Engine):
    """Exact pgmpy-style inference on a Boltzmann machine or RBM, by enumeration.

    A drop-in for ``pgmpy.inference.VariableElimination(model.to_markov_network())``
    on our models; its query results are normalized, and it offers the joint MAP
    as :meth:`most_probable_state` next to pgmpy's marginal :meth:`map_query`.

    Parameters
    ----------
    model : BoltzmannMachine, RestrictedBoltzmannMachine, PottsMachine or DeepBoltzmannMachine
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
    >>> inference.map_query(["v0"])
    {'v0': 1}
    >>> inference.map_query(evidence={"v1": 0})
    {'v0': 0}
    >>> inference.predict(pd.DataFrame({"v0": [0, 1]}))
       v1
    0   0
    1   1
    >>> inference.predict(pd.DataFrame({"v0": [0, 1]}), include_observed=True)
       v0  v1
    0   0   0
    1   1   1
    """

    def __new__(cls, model=None, **options):
        return super().__new__(_kind_engine(cls, ExactInference, model))

    def __init__(self, model, *, max_units=DEFAULT_MAX_UNITS):
        _check_model(model)
        self.model = model
        self.max_units = check_int(max_units, "max_units", minimum=0)

    def __repr__(self) -> str:
        return f"ExactInference({self.model!r}, max_units={self.max_units})"

    def _joint_mode(self, clamped):
        return _ground_state(self.model, clamped, self.max_units)

    def _marginal_mode(self, clamped, targets):
        return _marginal_mode(self.model, clamped, targets, self.max_units)

    def _row_probabilities(self, clamped, targets):
        evidence = self._evidence_names(clamped)
        return _marginal_array(self.model, evidence=evidence, max_units=self.max_units)[targets], None

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
        errors[cells] = series._standard_error_array()
    return errors


def _free_energy_scores(model, clamped: dict[int, int], targets: list[int], candidates: np.ndarray) -> np.ndarray:
    """``log sum_h exp(-E(v, h) / T)`` over the free hidden units, up to a constant, for each candidate.

    ``targets`` are visible units and ``candidates`` (shape (n_candidates, len(targets)))
    their values; every other visible unit is clamped.
    """
    n_visible = model.n_visible
    visible = np.zeros((candidates.shape[0], n_visible))
    hidden = np.zeros(model.n_hidden)
    observed_hidden = np.zeros(model.n_hidden, dtype=bool)
    for unit, value in clamped.items():
        if unit < n_visible:
            visible[:, unit] = value
        else:
            hidden[unit - n_visible] = value
            observed_hidden[unit - n_visible] = True
    visible[:, targets] = candidates
    t = model.temperature
    inputs = model.hidden_bias + visible @ model.weights  # (candidates, n_hidden)
    scores = (visible @ model.visible_bias + inputs[:, observed_hidden] @ hidden[observed_hidden]) / t
    scores += np.logaddexp(0.0, inputs[:, ~observed_hidden] / t).sum(axis=1)
    return scores


# the default n_annealing_runs, told apart from an explicit 16 so that n_reads together with it is refused
_DEFAULT_ANNEALING_RUNS = MarkedDefault(16)


class GibbsInference(_Engine):
    """pgmpy-style inference answered by Gibbs sampling and annealing.

    Parameters
    ----------
    model : BoltzmannMachine, RestrictedBoltzmannMachine, PottsMachine or DeepBoltzmannMachine
    n_samples : int, default 10_000
        Draws per chain for each query.
    n_chains : int, default 4
        Independent chains (needed for split R-hat and a sound standard error).
    burn_in, thin, scan : optional
        Passed to :class:`~pgm_energy.samplers.GibbsSampler` (its defaults when omitted).
    n_annealing_runs : int, default 16
        Annealing restarts for :meth:`most_probable_state` (and :meth:`map_query`
        or :meth:`predict` when no unit is summed out).
    schedule, n_sweeps : optional
        Passed to :class:`~pgm_energy.samplers.SimulatedAnnealingSampler` (its defaults when omitted).
    rng : None, int or numpy.random.Generator
        Seeds every query in turn: the same ``rng`` and the same sequence of
        calls give the same answers.
    n_reads : int, optional
        Deprecated alias of ``n_annealing_runs``; emits a DeprecationWarning.

    Notes
    -----
    :meth:`query` returns normalized ``DiscreteFactor``s, as pgmpy does;
    :meth:`query_with_errors` adds their standard errors and the samples. Each
    query, and each distinct row of ``predict``'s data, is one sampling or
    annealing run. Annealing is a heuristic (see :class:`ExactInference` for small
    models); a marginal mode is chosen among the assignments the draws visit, so
    with many variables and a flat posterior it is only as good as the sampling.
    """

    def __new__(cls, model=None, **options):
        return super().__new__(_kind_engine(cls, GibbsInference, model))

    def __init__(self, model, *, n_samples=10_000, n_chains=4, burn_in=None, thin=None, scan=None,
                 n_annealing_runs=_DEFAULT_ANNEALING_RUNS, schedule=None, n_sweeps=None, rng=None, n_reads=None):
        _check_model(model)
        self.model = model
        self.n_samples = check_int(n_samples, "n_samples", minimum=1)
        self.n_chains = check_int(n_chains, "n_chains", minimum=1)
        runs, runs_name = renamed_option(n_annealing_runs, n_reads, name="n_annealing_runs", old_name="n_reads",
                                         where="GibbsInference", default=_DEFAULT_ANNEALING_RUNS)
        self.n_annealing_runs = check_int(runs, runs_name, minimum=1)
        self._gibbs_options = {k: v for k, v in dict(burn_in=burn_in, thin=thin, scan=scan).items() if v is not None}
        self._annealing_options = {
            k: v for k, v in dict(schedule=schedule, n_sweeps=n_sweeps).items() if v is not None
        }
        self._rng = check_rng(rng)

    def __repr__(self) -> str:
        return f"GibbsInference({self.model!r}, n_samples={self.n_samples}, n_chains={self.n_chains})"

    def _anneal(self, evidence) -> np.ndarray:
        """The lowest-energy state (uint8, model order) over ``n_annealing_runs`` annealing runs."""
        from .samplers.annealing import SimulatedAnnealingSampler

        sampler = SimulatedAnnealingSampler(**self._annealing_options)
        result = sampler.sample(self.model, self.n_annealing_runs, evidence=evidence or None, rng=self._rng,
                                progress=False)
        states, _ = result.lowest()
        return states[0]

    def _sample(self, evidence):
        from .samplers.gibbs import GibbsSampler

        sampler = GibbsSampler(**self._gibbs_options)
        return sampler.sample(
            self.model, self.n_samples, n_chains=self.n_chains, evidence=evidence or None, rng=self._rng, progress=False
        )

    # ------------------------------------------------------------------ the engine's primitives
    def _joint_mode(self, clamped):
        return self._anneal(self._evidence_names(clamped))

    def _marginal_mode(self, clamped, targets):
        """Most probable visited assignment of ``targets`` (the other unobserved units summed out).

        The candidates are the distinct assignments of ``targets`` among the draws. For an
        RBM whose summed-out units are all hidden, each candidate's posterior is known up to
        a constant in closed form (a free energy) and the best candidate is exact among
        those visited; otherwise, the most frequent candidate. Ties: the first in
        lexicographic order (unit 0 most significant), as :class:`ExactInference`.
        """
        model = self.model
        samples = self._sample(self._evidence_names(clamped))
        candidates, counts = np.unique(samples.flat_states()[:, targets], axis=0, return_counts=True)
        asked = set(targets)
        summed = [i for i in range(model.n_units) if i not in clamped and i not in asked]
        if (
            isinstance(model, RestrictedBoltzmannMachine)
            and all(i < model.n_visible for i in targets)
            and all(i >= model.n_visible for i in summed)
        ):
            return candidates[int(np.argmax(_free_energy_scores(model, clamped, targets, candidates)))]
        return candidates[int(np.argmax(counts))]

    def _check_draws_for_errors(self) -> None:
        """Standard errors come from an effective sample size, which needs at least 4 draws per chain."""
        if self.n_samples < 4:
            raise ValidationError(
                f"n_samples={self.n_samples} draws per chain are too few for query and predict_probability: their "
                "standard errors need an effective sample size, from at least 4 draws per chain; pass n_samples >= 4"
            )

    def _row_probabilities(self, clamped, targets):
        self._check_draws_for_errors()
        samples = self._sample(self._evidence_names(clamped))
        return samples._marginal_array()[targets], samples._standard_error_array()[targets]

    # ------------------------------------------------------------------ queries
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
        self._check_draws_for_errors()
        samples = self._sample(evidence)
        columns = [model.index(name) for name in variables]
        if not joint:
            p = samples._marginal_array()[columns]
            e = samples._standard_error_array()[columns]
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
        return self._probability_frames(data, include_latents)


# --------------------------------------------------------------------------- mean-field engine
class MeanFieldInference(_Engine):
    """pgmpy-style inference on a deep Boltzmann machine from its mean-field posterior.

    For the evidence of each query, the posterior over the unobserved units is approximated by
    independent Bernoulli units with the means of the mean-field fixed point (the approximation a
    deep Boltzmann machine is trained with; Salakhutdinov & Hinton 2009). Answers come in
    milliseconds for machines of any size, but they are approximations: the fixed point is a local
    optimum of a lower bound, it ignores every correlation between unobserved units, and it is
    typically over-confident (means pushed towards 0 or 1) where the true posterior is spread over
    several modes. :class:`ExactInference` (small machines) and :class:`GibbsInference` answer the
    same queries exactly or with Monte Carlo error bars.

    Parameters
    ----------
    model : DeepBoltzmannMachine
    max_iterations : int >= 1, default 100
        Cap on the parity sweeps (all odd layers, then all even layers) of the fixed-point iteration.
    tolerance : float >= 0, default 1e-7
        The iteration stops when no mean moves by more than this in a sweep.

    Warns
    -----
    ConvergenceWarning
        When a query's iteration reaches ``max_iterations`` first (its last iterate is used).

    Notes
    -----
    :meth:`query` with ``joint=True`` returns the product of the approximate marginals (the
    factorised posterior itself); :meth:`map_query`, :meth:`most_probable_state` and
    :meth:`predict` return each unit's more probable value under it (the mode of a product is the
    product of the modes; a mean of exactly 1/2 gives 0).

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy import DeepBoltzmannMachine
    >>> from pgm_energy.inference import ExactInference, MeanFieldInference
    >>> dbm = DeepBoltzmannMachine.random([6, 4, 3], scale=0.3, rng=0)
    >>> approximate = MeanFieldInference(dbm).query(["h2_0"], evidence={"v0": 1}).values
    >>> exact = ExactInference(dbm).query(["h2_0"], evidence={"v0": 1}).values
    >>> bool(np.allclose(approximate, exact, atol=0.01))
    True
    """

    def __init__(self, model, *, max_iterations=100, tolerance=1e-7):
        from ._validation import check_finite_array

        if not isinstance(model, DeepBoltzmannMachine):
            raise ParameterTypeError(
                f"model must be a DeepBoltzmannMachine, got {type(model).__name__}: {describe(model)}"
            )
        self.model = model
        self.max_iterations = check_int(max_iterations, "max_iterations", minimum=1)
        if isinstance(tolerance, (bool, np.bool_)):
            raise ParameterTypeError(f"tolerance must be a float >= 0, got {tolerance!r}")
        tolerance = check_finite_array(tolerance, "tolerance", ndim=0)
        if tolerance < 0:
            raise ValidationError(f"tolerance must be >= 0, got {float(tolerance)!r}")
        self.tolerance = float(tolerance)

    def __repr__(self) -> str:
        return (f"MeanFieldInference({self.model!r}, max_iterations={self.max_iterations}, "
                f"tolerance={self.tolerance:g})")

    def posterior_means(self, evidence=None) -> np.ndarray:
        """The mean-field ``q(unit = 1)`` of every unit given ``evidence`` (evidence units hold their values).

        Parameters
        ----------
        evidence : dict of str -> 0/1, optional

        Returns
        -------
        ndarray, shape (n_units,)
            In the order of ``model.names``.
        """
        return self._means(check_evidence(evidence, self.model.names))

    def _means(self, clamped: dict[int, int]) -> np.ndarray:
        import warnings

        from ._mean_field import evidence_mean_field
        from .exceptions import ConvergenceWarning

        result = evidence_mean_field(self.model, clamped, max_iterations=self.max_iterations,
                                     tolerance=self.tolerance)
        if not result.converged:
            warnings.warn(
                f"mean field did not converge within max_iterations={self.max_iterations} sweeps "
                f"(tolerance={self.tolerance:g}); the last iterate is used",
                ConvergenceWarning, stacklevel=4,
            )
        return np.concatenate([layer[0] for layer in result.means])

    # ------------------------------------------------------------------ the engine's primitives
    def _joint_mode(self, clamped):
        return (self._means(clamped) > 0.5).astype(np.uint8)

    def _marginal_mode(self, clamped, targets):
        return self._joint_mode(clamped)[targets]

    def _row_probabilities(self, clamped, targets):
        return self._means(clamped)[targets], None

    def query(self, variables, evidence=None, joint=True, show_progress=False):
        """The mean-field posterior over ``variables`` given ``evidence``.

        Parameters and validation as :meth:`ExactInference.query` (at most 20 variables in a
        joint table).

        Returns
        -------
        DiscreteFactor or dict of str -> DiscreteFactor
            Normalized; a joint table is the product of the variables' approximate marginals.
        """
        from .interop.pgmpy import binary_factor

        model = self.model
        joint = check_bool(joint, "joint")
        clamped = check_evidence(evidence, model.names)
        variables = check_query_variables(variables, model.names, clamped, joint=joint)
        p = self._means(clamped)[[model.index(name) for name in variables]]
        if not joint:
            return {name: binary_factor([name], [1.0 - p[k], p[k]]) for k, name in enumerate(variables)}
        table = np.ones(1)
        for value in p:
            table = np.multiply.outer(table, [1.0 - value, value]).ravel()
        return binary_factor(variables, table)
