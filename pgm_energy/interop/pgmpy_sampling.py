"""A fast drop-in for ``pgmpy.sampling.BayesianModelSampling``: forward, rejection and likelihood-weighted samples.

``BayesianModelSampling(model)`` compiles a pgmpy ``DiscreteBayesianNetwork`` once (a
topological order, each CPD as running sums over its columns: time and memory linear in the
CPD tables) and draws rows with the Numba kernels of :mod:`pgm_energy._kernels.ancestral`, in
parallel over rows.

Compatible with pgmpy (1.1.x):

- ``forward_sample(size=1, include_latents=False, seed=None, show_progress=True,
  partial_samples=None, n_jobs=-1)``, ``rejection_sample(evidence=[], size=1, ...)`` and
  ``likelihood_weighted_sample(evidence=[], size=1, ...)`` return pandas DataFrames with one
  column per node in ``model.nodes()`` order holding STATE NAMES (the likelihood-weighted
  sample adds a float ``_weight`` column), as pgmpy's do. The columns are pandas
  ``Categorical`` of the state names (pgmpy's are ``str``): the same values and comparisons,
  built ten times faster in a byte per cell; ``frame.astype(str)`` gives pgmpy's dtypes;
- ``evidence`` is a list of pgmpy ``State(var, state)`` tuples (state names); a dict
  ``{var: state name}`` is accepted too;
- ``partial_samples`` fixes some variables row by row, as pgmpy's does;
- ``include_latents=False`` drops the model's latent variables.

Differences, on purpose:

- ``seed`` (None, an int or a ``numpy.random.Generator``) never touches NumPy's global RNG; the
  same seed gives the same rows whatever the number of threads;
- ``show_progress`` and ``n_jobs`` are accepted and ignored: no progress bar, and the rows are
  drawn on Numba's threads;
- ``rejection_sample`` draws until each row matches the evidence, and raises a named error,
  instead of looping forever, when the evidence has probability zero (or below about
  ``1 / max_tries``).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from .._kernels.ancestral import Network, forward_rows, rejection_rows
from .._launch import first_chunk, run_chunked
from .._validation import check_bool, check_int, check_state_names_map, describe, refuse_out_of_memory
from ..exceptions import ConversionError, EvidenceError, ModelSizeError, ParameterTypeError, ValidationError

__all__ = ["ApproxInference", "BayesianModelSampling", "compile_network"]

#: draws a row of ``rejection_sample`` makes before the evidence is called (nearly) impossible
MAX_REJECTION_TRIES = 10**6


class CompiledNetwork:
    """A Bayesian network as flat arrays (:class:`~pgm_energy._kernels.ancestral.Network`) and its names.

    Attributes
    ----------
    network : Network
    variables : list of str
        Node names in ``model.nodes()`` order (the kernels' node indices).
    state_names : list of list
        The state names of each node.
    latents : set
    """

    def __init__(self, network, variables, state_names, latents):
        self.network, self.variables, self.state_names, self.latents = network, variables, state_names, latents
        self.index = {name: i for i, name in enumerate(variables)}

    def state_index(self, variable, state, what: str) -> int:
        """The index of ``state`` (a state name, or an index where the node has no names) of ``variable``."""
        if variable not in self.index:
            raise EvidenceError(f"{what} names {variable!r}, which is not a node of the model")
        names = self.state_names[self.index[variable]]
        if state in names:
            return names.index(state)
        raise EvidenceError(f"{what}: {variable!r} has no state {state!r}; its states are {names!r}")


def compile_network(model) -> CompiledNetwork:
    """Compile a pgmpy ``DiscreteBayesianNetwork`` (checked by ``check_model()``) for the ancestral kernels.

    Raises
    ------
    ParameterTypeError
        For anything else.
    ConversionError
        For a model whose ``check_model()`` fails or whose CPD columns do not sum to a positive number.
    """
    from pgmpy.models import DiscreteBayesianNetwork

    if not isinstance(model, DiscreteBayesianNetwork):
        raise ParameterTypeError(f"model must be a pgmpy DiscreteBayesianNetwork, got {describe(model)}")
    try:
        model.check_model()
    except Exception as error:  # pgmpy raises ValueError and others: report them as one named error
        raise ConversionError(f"model fails pgmpy's check_model(): {error}") from error
    import networkx as nx

    variables = [str(node) if not isinstance(node, str) else node for node in model.nodes()]
    nodes = list(model.nodes())
    index = {node: i for i, node in enumerate(nodes)}
    order = np.array([index[node] for node in nx.topological_sort(model)], dtype=np.int64)
    n = len(nodes)
    cards = np.empty(n, dtype=np.int64)
    parent_ptr = np.zeros(n + 1, dtype=np.int64)
    parent_lists, stride_lists, tables, state_names = [], [], [], []
    for i, node in enumerate(nodes):
        cpd = model.get_cpds(node)
        cards[i] = cpd.variable_card
        parents = list(cpd.variables[1:])
        parent_cards = [int(c) for c in cpd.cardinality[1:]]
        strides = np.ones(len(parents), dtype=np.int64)
        for k in range(len(parents) - 2, -1, -1):
            strides[k] = strides[k + 1] * parent_cards[k + 1]
        parent_lists.append([index[p] for p in parents])
        stride_lists.append(strides)
        parent_ptr[i + 1] = parent_ptr[i] + len(parents)
        values = np.asarray(cpd.get_values(), dtype=np.float64)  # (card, n_columns), last parent fastest
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise ConversionError(f"the CPD of {node!r} holds negative or non-finite probabilities")
        sums = np.cumsum(values.T, axis=1)  # (n_columns, card): each column's running sums
        if np.any(sums[:, -1] <= 0):
            raise ConversionError(f"the CPD of {node!r} has a column of zeros")
        tables.append(sums.ravel())
        state_names.append(list(cpd.state_names[node]) if node in cpd.state_names else list(range(cards[i])))
    offsets = np.zeros(n, dtype=np.int64)
    offsets[1:] = np.cumsum([table.shape[0] for table in tables])[:-1]
    network = Network(
        order, cards, parent_ptr,
        np.array([p for parents in parent_lists for p in parents], dtype=np.int64),
        np.concatenate(stride_lists) if stride_lists else np.zeros(0, dtype=np.int64),
        offsets, np.concatenate(tables),
    )
    return CompiledNetwork(network, variables, state_names, set(getattr(model, "latents", ())))


def _generator(seed) -> np.random.Generator:
    if seed is None or isinstance(seed, np.random.Generator):
        return seed if seed is not None else np.random.default_rng()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ParameterTypeError(f"seed must be None, a non-negative int or a numpy.random.Generator, got {describe(seed)}")


class BayesianModelSampling:
    """Drop-in for ``pgmpy.sampling.BayesianModelSampling`` (see the module docstring).

    Parameters
    ----------
    model : pgmpy DiscreteBayesianNetwork

    Examples
    --------
    >>> from pgmpy.models import DiscreteBayesianNetwork
    >>> from pgmpy.factors.discrete import TabularCPD
    >>> from pgm_energy.interop.pgmpy import BayesianModelSampling
    >>> network = DiscreteBayesianNetwork([("rain", "wet")])
    >>> network.add_cpds(TabularCPD("rain", 2, [[0.8], [0.2]]),
    ...                  TabularCPD("wet", 2, [[0.9, 0.1], [0.1, 0.9]], evidence=["rain"], evidence_card=[2]))
    >>> rows = BayesianModelSampling(network).forward_sample(size=5, seed=0)
    >>> list(rows.columns), len(rows)
    (['rain', 'wet'], 5)
    """

    def __init__(self, model):
        self.model = model
        self._compiled = compile_network(model)

    @property
    def topological_order(self) -> list:
        """The nodes in the order they are drawn."""
        return [self._compiled.variables[i] for i in self._compiled.network.order]

    # ------------------------------------------------------------------ arguments
    def _evidence(self, evidence) -> np.ndarray:
        """int64 per node: the evidence state index, or -1."""
        compiled = self._compiled
        fixed = np.full(len(compiled.variables), -1, dtype=np.int64)
        if evidence is None:
            return fixed
        if isinstance(evidence, Mapping):
            pairs = list(evidence.items())
        elif isinstance(evidence, (list, tuple)):
            pairs = []
            for item in evidence:
                if not (isinstance(item, tuple) and len(item) == 2):
                    raise EvidenceError(f"evidence must hold State(var, state) pairs, got {describe(item)}")
                pairs.append((item[0], item[1]))
        else:
            raise ParameterTypeError(
                f"evidence must be a list of State(var, state) or a dict var -> state, got {describe(evidence)}")
        for variable, state in pairs:
            index = compiled.state_index(variable, state, "evidence")
            node = compiled.index[variable]
            if fixed[node] >= 0 and fixed[node] != index:
                raise EvidenceError(f"evidence gives {variable!r} two different states")
            fixed[node] = index
        return fixed

    def _size(self, size) -> int:
        size = check_int(size, "size", minimum=0)
        return size

    def _frame(self, states: np.ndarray, include_latents, weights=None):
        import pandas as pd

        compiled = self._compiled
        include_latents = check_bool(include_latents, "include_latents")
        columns = {}
        for node, name in enumerate(compiled.variables):
            if not include_latents and name in compiled.latents:
                continue
            # a categorical of the state names: the values pgmpy gives, built from the codes without a copy of
            # a string per cell (10x faster on alarm, and a byte per cell)
            columns[name] = pd.Categorical.from_codes(states[:, node], categories=compiled.state_names[node])
        frame = pd.DataFrame(columns, columns=list(columns))
        if weights is not None:
            frame["_weight"] = weights
        return frame

    def _dtype(self):
        return np.min_scalar_type(int(self._compiled.network.cards.max()) - 1)

    def _forward(self, size: int, fixed_rows: np.ndarray, seed):
        """States (size, n_nodes) and weights of forward draws with per-row fixed nodes (one row broadcasts)."""
        compiled = self._compiled
        n_nodes = len(compiled.variables)
        generator = _generator(seed)
        key = np.uint64(generator.integers(1, 2**63))
        with refuse_out_of_memory(f"size={size} rows of {n_nodes} nodes"):
            states = np.empty((size, n_nodes), dtype=self._dtype())
            weights = np.empty(size)

        def run(first, last):
            if fixed_rows.shape[0] == 1:
                forward_rows(compiled.network, fixed_rows[0], key, first, states[first:last], weights[first:last])
            else:  # rows with their own fixed nodes (partial_samples): one call per distinct row would be slower
                for row in range(first, last):
                    forward_rows(compiled.network, fixed_rows[row], key, row, states[row:row + 1],
                                 weights[row:row + 1])

        run_chunked(size, run, first=first_chunk(float(n_nodes)))
        return states, weights

    def _partial(self, partial_samples, size) -> np.ndarray:
        compiled = self._compiled
        fixed = np.full((1, len(compiled.variables)), -1, dtype=np.int64)
        if partial_samples is None:
            return fixed
        if not (hasattr(partial_samples, "columns") and hasattr(partial_samples, "iloc")):
            raise ParameterTypeError(f"partial_samples must be a pandas DataFrame, got {describe(partial_samples)}")
        if len(partial_samples) != size:
            raise ValidationError(f"partial_samples must have size={size} rows, got {len(partial_samples)}")
        fixed = np.full((size, len(compiled.variables)), -1, dtype=np.int64)
        for column in partial_samples.columns:
            node = compiled.index.get(column)
            if node is None:
                raise EvidenceError(f"partial_samples names {column!r}, which is not a node of the model")
            names = compiled.state_names[node]
            lookup = {name: i for i, name in enumerate(names)}
            try:
                fixed[:, node] = [lookup[value] for value in partial_samples[column].tolist()]
            except KeyError as error:
                raise EvidenceError(f"partial_samples: {column!r} has no state {error.args[0]!r}") from None
        return fixed

    # ------------------------------------------------------------------ pgmpy's methods
    def forward_sample(self, size=1, include_latents=False, seed=None, show_progress=True, partial_samples=None,
                       n_jobs=-1):
        """``size`` independent draws of the joint distribution, as a DataFrame of state names.

        Parameters as pgmpy's (``show_progress`` and ``n_jobs`` are ignored).
        """
        check_bool(show_progress, "show_progress")
        size = self._size(size)
        fixed = self._partial(partial_samples, size)
        states, _ = self._forward(size, fixed, seed)
        return self._frame(states, include_latents)

    def likelihood_weighted_sample(self, evidence=[], size=1, include_latents=False, seed=None, show_progress=True,
                                   n_jobs=-1):  # noqa: B006 - pgmpy's signature
        """``size`` draws with the evidence nodes fixed, each weighted by the evidence's probability given its parents.

        Returns
        -------
        pandas.DataFrame
            State names, and the ``_weight`` column.
        """
        check_bool(show_progress, "show_progress")
        size = self._size(size)
        fixed = self._evidence(evidence)
        states, weights = self._forward(size, fixed[None, :], seed)
        return self._frame(states, include_latents, weights)

    def rejection_sample(self, evidence=[], size=1, include_latents=False, seed=None, show_progress=True,
                         partial_samples=None):  # noqa: B006 - pgmpy's signature
        """``size`` draws of the distribution given the evidence: forward draws until each matches it.

        Raises
        ------
        EvidenceError
            When a row found no match in :data:`MAX_REJECTION_TRIES` draws: the evidence has
            probability zero, or about ``1 / MAX_REJECTION_TRIES`` or less (use
            ``likelihood_weighted_sample`` then).
        """
        check_bool(show_progress, "show_progress")
        size = self._size(size)
        wanted = self._evidence(evidence)
        if not (wanted >= 0).any() or partial_samples is not None:
            if partial_samples is not None and (wanted >= 0).any():
                raise ValidationError("rejection_sample takes evidence or partial_samples, not both")
            return self.forward_sample(size, include_latents, seed, show_progress, partial_samples)
        compiled = self._compiled
        generator = _generator(seed)
        key = np.uint64(generator.integers(1, 2**63))
        states = np.empty((size, len(compiled.variables)), dtype=self._dtype())
        tries = np.empty(size, dtype=np.int64)

        def run(first, last):
            rejection_rows(compiled.network, wanted, key, first, MAX_REJECTION_TRIES, states[first:last],
                           tries[first:last])
            if (tries[first:last] < 0).any():
                raise EvidenceError(
                    f"evidence {evidence!r} was not matched in {MAX_REJECTION_TRIES:,} forward draws: it has "
                    "probability zero (or close to it); likelihood_weighted_sample gives weights instead"
                )

        run_chunked(size, run, first=first_chunk(float(len(compiled.variables))))
        return self._frame(states, include_latents)


class ApproxInference:
    """Drop-in for ``pgmpy.inference.ApproxInference`` on a Bayesian network: answers from fast samples.

    ``query`` and ``map_query`` have pgmpy's signatures and return what pgmpy's return (a
    ``DiscreteFactor``, a dict of them with ``joint=False``, or a dict ``{variable: state name}``).
    The samples come from :class:`BayesianModelSampling`: forward draws without evidence, and with
    evidence likelihood-weighted draws whose weights make the frequencies (pgmpy draws by rejection,
    which fails on rare evidence; both estimate the same conditional distribution). The factors'
    states follow the model's state names (pgmpy orders them as first seen in the samples).
    ``virtual_evidence`` is not supported (a named error).

    Parameters
    ----------
    model : pgmpy DiscreteBayesianNetwork

    Examples
    --------
    >>> from pgmpy.utils import get_example_model  # doctest: +SKIP
    >>> answer = ApproxInference(get_example_model("asia")).query(["lung"], evidence={"smoke": "yes"}, seed=0)
    ... # doctest: +SKIP
    """

    def __init__(self, model):
        self.model = model
        self._sampler = BayesianModelSampling(model)

    def _frequencies(self, variables, n_samples, samples, evidence, virtual_evidence, state_names, seed):
        """Normalised (weighted) joint frequencies over ``variables`` and their state names."""
        compiled = self._sampler._compiled
        if virtual_evidence is not None:
            raise ValidationError("virtual_evidence is not supported by this drop-in; use pgmpy's ApproxInference")
        if isinstance(variables, str) or not isinstance(variables, (list, tuple)) or not variables:
            raise ParameterTypeError(f"variables must be a non-empty list of node names, got {describe(variables)}")
        for variable in variables:
            try:
                known = variable in compiled.index
            except TypeError:  # unhashable: an array, a list
                known = False
            if not known:
                raise ValidationError(f"variables names {describe(variable)}, which is not a node of the model")
        if samples is None:
            n_samples = check_int(n_samples, "n_samples", minimum=1)
            empty = isinstance(evidence, (Mapping, list, tuple)) and len(evidence) == 0
            try:
                if evidence is not None and not empty:  # anything else is checked (and named) by the sampler
                    samples = self._sampler.likelihood_weighted_sample(evidence=evidence, size=n_samples, seed=seed,
                                                                        include_latents=True)
                else:
                    samples = self._sampler.forward_sample(size=n_samples, seed=seed, include_latents=True)
            except ModelSizeError as error:
                raise ModelSizeError(f"n_samples={n_samples}: {error}") from error
        elif not hasattr(samples, "columns"):
            raise ParameterTypeError(f"samples must be a pandas DataFrame, got {describe(samples)}")
        given = {} if state_names is None else check_state_names_map(state_names)
        names = {v: given[v] if v in given else list(compiled.state_names[compiled.index[v]]) for v in variables}
        codes = []
        for v in variables:
            if v not in samples.columns:
                raise ValidationError(f"samples have no column {v!r}")
            import pandas as pd

            code = pd.Categorical(samples[v], categories=names[v]).codes.astype(np.int64)
            if (code < 0).any():
                bad = samples[v].iloc[int(np.flatnonzero(code < 0)[0])]
                source = " (from state_names)" if v in given else ""
                raise ValidationError(f"samples: {v!r} holds {bad!r}, not one of its states {names[v]!r}{source}")
            codes.append(code)
        shape = [len(names[v]) for v in variables]
        weights = samples["_weight"].to_numpy(dtype=np.float64) if "_weight" in samples.columns else None
        flat = np.ravel_multi_index(codes, shape) if codes[0].shape[0] else np.zeros(0, dtype=np.int64)
        counts = np.bincount(flat, weights=weights, minlength=int(np.prod(shape))).astype(np.float64)
        if not counts.sum() > 0:
            raise EvidenceError("no sample carries weight: the evidence has probability zero, or nearly")
        return (counts / counts.sum()).reshape(shape), names

    def query(self, variables, n_samples=10000, samples=None, evidence=None, virtual_evidence=None, joint=True,
              state_names=None, show_progress=True, seed=None):
        """The (weighted) sample frequencies of ``variables`` given ``evidence``: a DiscreteFactor, or a dict of them.

        Parameters as pgmpy's ``ApproxInference.query`` (``show_progress`` is ignored).
        """
        from pgmpy.factors.discrete import DiscreteFactor

        check_bool(show_progress, "show_progress")
        joint = check_bool(joint, "joint")
        table, names = self._frequencies(variables, n_samples, samples, evidence, virtual_evidence, state_names,
                                         seed)
        if joint:
            return DiscreteFactor(list(variables), list(table.shape), table, state_names=names)
        factors = {}
        for axis, v in enumerate(variables):
            marginal = table.sum(axis=tuple(k for k in range(table.ndim) if k != axis))
            factors[v] = DiscreteFactor([v], [marginal.shape[0]], marginal, state_names={v: names[v]})
        return factors

    def map_query(self, variables, n_samples=10000, samples=None, evidence=None, virtual_evidence=None,
                  state_names=None, show_progress=True, seed=None):
        """The most frequent joint state of ``variables`` in the (weighted) samples: ``{variable: state name}``."""
        check_bool(show_progress, "show_progress")
        table, names = self._frequencies(variables, n_samples, samples, evidence, virtual_evidence, state_names,
                                         seed)
        best = np.unravel_index(int(np.argmax(table)), table.shape)
        return {v: names[v][int(k)] for v, k in zip(variables, best)}
