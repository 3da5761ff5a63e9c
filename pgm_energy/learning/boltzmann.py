r"""Boltzmann learning for general Boltzmann machines with hidden units.

The learning rule of Ackley, Hinton & Sejnowski (1985), the seed's rule:

.. math::

    \Delta w_{ij} = \varepsilon \left(\langle s_i s_j \rangle_\text{data} - \langle s_i s_j \rangle_\text{model}\right),
    \qquad
    \Delta b_i = \varepsilon \left(\langle s_i \rangle_\text{data} - \langle s_i \rangle_\text{model}\right).

The *clamped* (data) phase fixes the visible units to a training vector and samples
the hidden units from ``p(h | v)``; the *free* (model) phase samples every unit from
``p(s)``. Both phases use persistent single-site Gibbs chains (the heat-bath kernels of
:mod:`pgm_energy._kernels.gibbs`, with cached local fields): fantasy chains for the
free phase, and for the clamped phase one hidden-state chain per training vector
(``clamped_chains="per_example"``) or per batch slot (``"per_slot"``). A machine
without hidden units has an exact clamped phase (the data statistics themselves).

Only the couplings of the model's graph are learned (the non-zero pattern of the
initial weights); a sparse model stays sparse. The difference of statistics is ``T``
times the gradient of the mean log-likelihood with respect to ``(W, b)`` at the
model's temperature ``T`` (``T = 1`` for most models), so the rule ascends the
likelihood.

The pieces below the trainer are plain functions over flat arrays so they can be
tested against exact enumeration: :func:`prepare_graph` fixes the structure,
:func:`new_chains` draws the persistent chains, :func:`estimate_gradient` runs both
phases for one batch and returns the statistics (updating the chains in place).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int, describe
from ..exceptions import ParameterTypeError, ValidationError
from ..models import BoltzmannMachine
from ._boltzmann_chains import BoltzmannChains, fresh_chains, run_burn_in
from ._boltzmann_checks import (
    as_array,
    check_batch,
    check_biases_beta,
    check_chain_memory,
    check_chains,
    check_choice,
    check_data_rows,
    check_edges,
    check_graph,
    check_machine,
    check_mask,
    check_parameters,
    check_states_of,
    check_storage,
    check_sweeps,
    visible_mask,
)
from ._boltzmann_graph import BoltzmannGraph, csr_data, dense_weights, edges_graph, model_graph
from ._boltzmann_gradient import ESTIMATORS, BoltzmannGradient, PhaseStatistics, gradient_estimate, moments
from ._trainer import Trainer, check_chain_entries, check_nonnegative_float, check_positive_int, trainer_options

__all__ = [
    "BoltzmannLearning",
    "BoltzmannGraph",
    "BoltzmannChains",
    "PhaseStatistics",
    "BoltzmannGradient",
    "ESTIMATORS",
    "prepare_graph",
    "new_chains",
    "estimate_gradient",
    "phase_statistics",
    "graph_from_edges",
    "burn_in",
    "resolve_visible",
]


def prepare_graph(model, visible: np.ndarray) -> tuple[BoltzmannGraph, np.ndarray]:
    """The structure of ``model`` with the units of boolean mask ``visible`` clamped in the data phase.

    The learned edges are the non-zero couplings of ``model``.

    Parameters
    ----------
    model : BoltzmannMachine
    visible : ndarray of bool, shape (n_units,)

    Returns
    -------
    graph : BoltzmannGraph
    edge_weights : ndarray of float64, shape (n_edges,)
        The model's coupling on each edge (writable copy).
    """
    check_machine(model, "model")
    return model_graph(model, check_mask(visible, model.n_units, "visible"))


def graph_from_edges(n_units: int, rows, cols, visible: np.ndarray) -> BoltzmannGraph:
    """A :class:`BoltzmannGraph` from its edges ``(rows[e], cols[e])``, ``rows < cols``, in row-major order.

    Parameters
    ----------
    n_units : int, 1 to 2**31
    rows, cols : array_like of int, shape (n_edges,)
    visible : ndarray of bool, shape (n_units,)
    """
    return edges_graph(*check_edges(n_units, rows, cols, visible))


# ---------------------------------------------------------------------------- chains
def new_chains(graph: BoltzmannGraph, data: np.ndarray, *, n_clamped: int, n_chains: int, generator) -> BoltzmannChains:
    """Fresh persistent chains: hidden units uniformly random; fantasy visible units from random data rows.

    Parameters
    ----------
    graph : BoltzmannGraph
    data : ndarray of 0/1, shape (n_rows, n_visible)
        Training data (visible units in the order of ``graph.visible``).
    n_clamped : int
        Clamped chains (``n_rows`` per example, ``batch_size`` per slot).
    n_chains : int
        Fantasy chains.
    generator : numpy.random.Generator

    Returns
    -------
    BoltzmannChains
    """
    graph = check_graph(graph)
    data = check_data_rows(data, graph, "data", allow_empty=False)
    n_clamped = check_int(n_clamped, "n_clamped", minimum=0)
    n_chains = check_int(n_chains, "n_chains", minimum=1)
    if not isinstance(generator, np.random.Generator):
        raise ParameterTypeError(f"generator must be a numpy.random.Generator, got {describe(generator)}")
    check_chain_memory((n_clamped + n_chains) * graph.n_units)
    return fresh_chains(graph, data, n_clamped=n_clamped, n_chains=n_chains, generator=generator)


def burn_in(graph, edge_weights, biases, beta, chains: BoltzmannChains, data, rows, sweeps: int) -> None:
    """Run ``sweeps`` sweeps on the fantasy chains and on the clamped chains ``rows`` (clamped to ``data``).

    Nothing is recorded; the chains and streams are updated in place.
    """
    graph, edge_weights, biases, beta = check_parameters(graph, edge_weights, biases, beta)
    chains = check_chains(chains, graph)
    data, rows = check_batch(data, rows, graph, chains, "data")
    sweeps = check_sweeps(sweeps, "sweeps", 0)
    run_burn_in(graph, edge_weights, biases, beta, chains, data, rows, sweeps)


# ---------------------------------------------------------------------------- statistics
def phase_statistics(graph, storage, biases, beta, samples, clamped_units, estimator: str) -> PhaseStatistics:
    """Pair and single moments of sampled states.

    Parameters
    ----------
    graph : BoltzmannGraph
    storage : tuple
        Kernel weights from :func:`kernel_weights`.
    biases : ndarray, shape (n_units,)
    beta : float
        Inverse temperature.
    samples : ndarray of 0/1, shape (n_samples, n_units)
    clamped_units : ndarray of int64
        Units that were not sampled (their states are exact, never replaced by a conditional mean).
    estimator : {"conditional", "samples"}

    Returns
    -------
    PhaseStatistics

    Notes
    -----
    ``"conditional"`` uses ``E[s_i s_j] = E[s_i E[s_j | s_-j]]`` for ``i != j``: with
    ``x_j = sigmoid(beta z_j)`` (``x = s`` on clamped units) each pair moment is the mean
    of ``(s_i x_j + x_i s_j) / 2`` and each single moment the mean of ``x_i``: unbiased
    for the same moments as the raw counts when the chains are at equilibrium, with a
    smaller variance.
    """
    graph = check_graph(graph)
    storage = check_storage(storage, graph)
    biases, beta = check_biases_beta(graph, biases, beta)
    samples = check_states_of(samples, graph.n_units, "samples", allow_empty=False)
    clamped_units = as_array(clamped_units)
    if clamped_units is None or clamped_units.ndim != 1 or (clamped_units.size and (
            clamped_units.dtype.kind not in "iu" or clamped_units.min() < 0 or clamped_units.max() >= graph.n_units)):
        raise ValidationError(f"clamped_units must be a 1-d array of unit indices below {graph.n_units}")
    estimator = check_choice(estimator, "estimator", ESTIMATORS)
    return moments(graph, storage, biases, beta, samples, clamped_units.astype(np.int64), estimator)


def estimate_gradient(
    graph: BoltzmannGraph,
    edge_weights: np.ndarray,
    biases: np.ndarray,
    beta: float,
    batch: np.ndarray,
    rows: np.ndarray,
    chains: BoltzmannChains,
    *,
    sweeps: int,
    estimator: str = "conditional",
) -> BoltzmannGradient:
    """One estimate of ``<.>_data - <.>_model`` from a batch; advances the persistent chains.

    Parameters
    ----------
    graph : BoltzmannGraph
    edge_weights : ndarray of float64, shape (n_edges,)
    biases : ndarray of float64, shape (n_units,)
    beta : float
        Inverse temperature ``1 / T`` of the model.
    batch : ndarray of 0/1, shape (batch_size, n_visible)
        Visible data, columns in the order of ``graph.visible``.
    rows : ndarray of int64, shape (batch_size,)
        Which clamped chains hold the batch's hidden states (the data rows for
        per-example chains, ``arange(batch_size)`` for per-slot chains).
    chains : BoltzmannChains
        Updated in place: clamped chains ``rows``, every fantasy chain, their streams.
    sweeps : int >= 1
        Gibbs sweeps per phase; the moments average the states after every sweep of
        every chain (``batch_size * sweeps`` clamped and ``n_chains * sweeps`` free states).
    estimator : {"conditional", "samples"}
        See :data:`ESTIMATORS`.

    Returns
    -------
    BoltzmannGradient

    Notes
    -----
    Without hidden units the clamped phase is exact: the moments of ``batch`` itself.
    """
    graph, edge_weights, biases, beta = check_parameters(graph, edge_weights, biases, beta)
    chains = check_chains(chains, graph)
    batch, rows = check_batch(batch, rows, graph, chains, "batch")
    if batch.shape[0] == 0:
        raise ValidationError("batch must hold at least one row")
    recorded = max(batch.shape[0], chains.fantasy.shape[0]) * graph.n_units
    sweeps = check_sweeps(sweeps, "sweeps", 1, recorded)
    estimator = check_choice(estimator, "estimator", ESTIMATORS)
    return gradient_estimate(graph, edge_weights, biases, beta, batch, rows, chains, sweeps=sweeps, estimator=estimator)


# ---------------------------------------------------------------------------- the trainer
_CLAMPED_CHAINS = ("per_example", "per_slot")


class _State:
    """Mutable working state of one run (all float64): parameters, velocities and chains."""

    __slots__ = ("graph", "edge_weights", "biases", "edge_velocity", "bias_velocity", "chains", "beta")

    def __init__(self, graph, edge_weights, biases, edge_velocity, bias_velocity, chains, beta):
        self.graph = graph
        self.edge_weights = edge_weights
        self.biases = biases
        self.edge_velocity = edge_velocity
        self.bias_velocity = bias_velocity
        self.chains = chains
        self.beta = beta


def resolve_visible(model, visible) -> np.ndarray:
    """The boolean visible mask meant by ``visible`` for ``model`` (see :meth:`BoltzmannLearning.fit`).

    Parameters
    ----------
    model : BoltzmannMachine
    visible : None, sequence of str, sequence of int, or array_like of bool of length n_units
        None: the model's own mask. Names or indices must be distinct and listed in the
        model's order (ascending index), so the data's column order is never ambiguous.

    Returns
    -------
    ndarray of bool, shape (n_units,)
    """
    return visible_mask(model, visible)


class BoltzmannLearning(Trainer):
    r"""Boltzmann learning for general Boltzmann machines, visible and hidden units, dense or sparse.

    Each update estimates :math:`\langle s_i s_j\rangle_\text{data} - \langle s_i s_j\rangle_\text{model}`
    (and the same for :math:`\langle s_i\rangle`) on a batch with persistent Gibbs chains
    (:func:`estimate_gradient`) and moves the parameters with momentum and L2 weight decay
    (Hinton 2010, §9-10):

    .. math::

        \Delta\theta \leftarrow \mu\,\Delta\theta + \varepsilon\,(g - \lambda\,w), \qquad \theta \leftarrow \theta + \Delta\theta,

    with :math:`g` the difference of statistics and the decay :math:`\lambda w` on the
    couplings only. Only the edges of the starting model's graph are learned (its non-zero
    couplings; a zero stays a zero, a sparse model stays sparse), the biases of every unit
    too; the offset and temperature are kept.

    Parameters
    ----------
    learning_rate : float > 0, default 0.05
        :math:`\varepsilon`.
    epochs : int >= 1, default 100
    batch_size : int >= 1 or None, default 10
        Training vectors per update (None: the whole data set).
    n_chains : int >= 1 or None, default None
        Persistent fantasy chains of the free phase (None: the batch size).
    sweeps : int >= 1, default 1
        Gibbs sweeps per phase and update (sequential heat bath over the free units). The
        moments average the states after every sweep.
    burn_in : int >= 0, default 10
        Sweeps run once at the start on every chain (clamped chains clamped to their data)
        before any statistics are taken.
    momentum : float in [0, 1), default 0.5
    weight_decay : float >= 0, default 1e-4
        L2 penalty :math:`\lambda` on the couplings.
    clamped_chains : {"per_example", "per_slot"}, default "per_example"
        Where the hidden states of the clamped phase persist: one chain per training vector
        (it resumes where that vector left it, the better estimate; memory ``n_rows * n_units``
        bytes), or one per batch position (re-clamped to a new vector each update).
        Irrelevant without hidden units: the clamped phase is then exact.
    estimator : {"conditional", "samples"}, default "conditional"
        How moments are read from the sampled states (see :data:`ESTIMATORS`).
    monitor, monitor_every, checkpoint_every, checkpoint_path, binarize
        As in :class:`~pgm_energy.learning._trainer.Trainer` (``"auto"`` records the exact
        log-likelihood for machines of at most 20 units).

    Notes
    -----
    The free phase samples at the model's temperature ``T``; the difference of statistics is
    ``T`` times the gradient of the mean log-likelihood. Every random draw comes from
    per-chain streams seeded from ``rng``, so a run is the same whatever the thread count.

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy import BoltzmannMachine
    >>> from pgm_energy.learning.boltzmann import BoltzmannLearning
    >>> rng = np.random.default_rng(0)
    >>> weights = rng.normal(0.0, 0.1, (5, 5)); weights = np.triu(weights, 1) + np.triu(weights, 1).T
    >>> start = BoltzmannMachine(weights, np.zeros(5), visible=[True, True, True, False, False])
    >>> data = np.array([[0, 0, 0], [1, 1, 1]] * 5)
    >>> trainer = BoltzmannLearning(epochs=5, batch_size=5, monitor=None)
    >>> trained = trainer.fit(start, data, rng=0, progress=False).model
    >>> trained.n_edges == start.n_edges
    True
    """

    _model_types = (BoltzmannMachine,)

    def __init__(
        self,
        *,
        learning_rate=0.05,
        epochs=100,
        batch_size=10,
        n_chains=None,
        sweeps=1,
        burn_in=10,
        momentum=0.5,
        weight_decay=1e-4,
        clamped_chains="per_example",
        estimator="conditional",
        monitor="auto",
        monitor_every=None,
        checkpoint_every=None,
        checkpoint_path=None,
        binarize=None,
    ):
        self.learning_rate = check_nonnegative_float(learning_rate, "learning_rate", strict=True)
        self.n_chains = None if n_chains is None else check_positive_int(n_chains, "n_chains")
        self.sweeps = check_sweeps(sweeps, "sweeps", 1)
        self.burn_in = check_sweeps(burn_in, "burn_in", 0)
        self.momentum = check_nonnegative_float(momentum, "momentum")
        if self.momentum >= 1.0:
            raise ValidationError(f"momentum must be in [0, 1), got {momentum!r}")
        self.weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        self.clamped_chains = check_choice(clamped_chains, "clamped_chains", _CLAMPED_CHAINS)
        self.estimator = check_choice(estimator, "estimator", ESTIMATORS)
        # The Gibbs kernels work in float64 whatever the data, so the dtype is fixed.
        super().__init__(**trainer_options(locals()), dtype="float64")

    def _settings(self) -> dict:
        return {
            **super()._settings(),
            "learning_rate": self.learning_rate,
            "n_chains": self.n_chains,
            "sweeps": self.sweeps,
            "burn_in": self.burn_in,
            "momentum": self.momentum,
            "weight_decay": self.weight_decay,
            "clamped_chains": self.clamped_chains,
            "estimator": self.estimator,
        }

    # ------------------------------------------------------------------ fit
    def fit(self, model, data, *, visible=None, validation=None, rng=None, callbacks=(), progress=True, resume_from=None):
        """Train ``model`` on ``data`` and return the trained model with its history.

        Parameters
        ----------
        model : BoltzmannMachine or int
            The starting machine: its graph (non-zero couplings) is the set of learned edges,
            so start from small random couplings on the edges you want. An int ``n`` builds a
            fully connected machine of the data's visible units plus ``n`` hidden units with
            couplings drawn from N(0, 0.01²) and visible biases ``log(p / (1 - p))`` of the data.
        data : array_like of 0/1, shape (n_samples, n_visible), or pandas.DataFrame
            Columns in the order of the visible units in the model (ascending index); a
            DataFrame is matched by column names (the visible units' names).
        visible : None, sequence of str or int, or boolean mask of length n_units
            Which units the data clamps. None (default): the model's own ``visible`` mask.
            Otherwise names or indices, distinct and in the model's order; the returned model
            carries this mask. Not allowed with an int ``model``.
        validation, rng, callbacks, progress, resume_from
            As in :meth:`pgm_energy.learning._trainer.Trainer.fit`.

        Returns
        -------
        TrainingResult
            ``(model, history, stop_reason)``; ``model`` is a new :class:`BoltzmannMachine`
            with the same names, graph, storage (dense or sparse), temperature and offset.

        Raises
        ------
        ParameterTypeError
            For a model that is not a BoltzmannMachine or an int, or a ``visible`` of the wrong type.
        ValidationError, StateError
            For unknown, repeated or unordered ``visible`` units, ``visible`` with an int model,
            data that does not match the visible units, and the checks of the base class.
        TrainingDivergedError
            If a parameter became NaN or infinite (carries the last finite model).
        """
        if isinstance(model, BoltzmannMachine):
            mask = resolve_visible(model, visible)
            if not np.array_equal(mask, model.visible):
                model = model._replace(visible=mask)
        elif visible is not None:
            raise ValidationError(f"visible= needs a BoltzmannMachine to name units of, got model={describe(model)}")
        return super().fit(
            model, data, validation=validation, rng=rng, callbacks=callbacks, progress=progress, resume_from=resume_from
        )

    # ------------------------------------------------------------------ hooks
    def _initial_model(self, model_or_size, data, visible_names, rng):
        if isinstance(model_or_size, BoltzmannMachine):
            return model_or_size
        n_visible = data.shape[1]
        n_units = n_visible + int(model_or_size)
        upper = np.triu(rng.normal(0.0, 0.01, size=(n_units, n_units)), 1)
        # Hinton (2010) §8: visible biases at the log-odds of the data's unit means.
        means = np.clip(data.mean(axis=0), 1e-3, 1.0 - 1e-3)
        biases = np.concatenate([np.log(means / (1.0 - means)), np.zeros(n_units - n_visible)])
        mask = np.arange(n_units) < n_visible
        names = list(visible_names) + [f"h{j}" for j in range(n_units - n_visible)]
        return BoltzmannMachine(upper + upper.T, biases, visible=mask, names=names)

    def _parameter_count(self, n_visible: int, n_hidden: int) -> int:
        return (n_visible + n_hidden) ** 2  # fully connected: a dense weight matrix

    def _check_model(self, model) -> None:
        if model.n_visible == 0:
            raise ValidationError("model has no visible units: pass visible= to say which units the data clamps")

    def _n_slots(self, n_rows: int) -> int:
        return n_rows if self.batch_size is None else self.batch_size

    def _initial_state(self, model, data, rng):
        graph, edge_weights = model_graph(model, np.asarray(model.visible))
        n_rows = data.shape[0]
        n_slots = self._n_slots(n_rows)
        n_clamped = n_rows if self.clamped_chains == "per_example" else n_slots
        n_chains = self.n_chains if self.n_chains is not None else n_slots
        check_chain_entries(n_clamped + n_chains, graph.n_units, f"n_chains={n_chains} and {n_clamped} clamped chains")
        chains = fresh_chains(graph, data, n_clamped=n_clamped, n_chains=n_chains, generator=rng)
        state = _State(
            graph,
            edge_weights,
            np.array(model.biases, dtype=np.float64),
            np.zeros_like(edge_weights),
            np.zeros(graph.n_units),
            chains,
            1.0 / model.temperature,
        )
        rows = np.arange(n_clamped, dtype=np.int64)
        run_burn_in(graph, state.edge_weights, state.biases, state.beta, chains, data[rows], rows, self.burn_in)
        return state

    def _run_epoch(self, state, data, order, epoch) -> dict:
        n_rows = data.shape[0]
        step = self._n_slots(n_rows)
        squared_norms = []
        for start in range(0, n_rows, step):
            rows = order[start : start + step]
            chain_rows = rows if self.clamped_chains == "per_example" else np.arange(rows.shape[0], dtype=np.int64)
            gradient = gradient_estimate(
                state.graph, state.edge_weights, state.biases, state.beta, data[rows], chain_rows, state.chains,
                sweeps=self.sweeps, estimator=self.estimator,
            )
            state.edge_velocity *= self.momentum
            state.edge_velocity += self.learning_rate * (gradient.edge_weights - self.weight_decay * state.edge_weights)
            state.bias_velocity *= self.momentum
            state.bias_velocity += self.learning_rate * gradient.biases
            state.edge_weights += state.edge_velocity
            state.biases += state.bias_velocity
            squared_norms.append(float(gradient.edge_weights @ gradient.edge_weights + gradient.biases @ gradient.biases))
            if not (np.isfinite(state.edge_weights).all() and np.isfinite(state.biases).all()):
                break  # the loop reports the divergence; sampling with NaN fields would be meaningless
        # Root-mean-square over the epoch's updates of the estimated gradient's norm: it
        # shrinks toward the sampling noise as data and model moments meet.
        return {"gradient_norm": float(np.sqrt(np.mean(squared_norms)))}

    def _model_from(self, state, template):
        graph = state.graph
        if template.is_sparse:
            import scipy.sparse as sp

            weights = sp.csr_array(
                (csr_data(graph, state.edge_weights), graph.indices.copy(), graph.indptr.copy()),
                shape=(graph.n_units, graph.n_units),
            )
        else:
            weights = dense_weights(graph, state.edge_weights)
        return template._replace(weights=weights, biases=state.biases.copy())

    def _parameters(self, state) -> tuple:
        return (state.edge_weights, state.biases)

    _binary_state = ("clamped", "fantasy")

    def _resume_settings(self) -> tuple[str, ...]:
        return (*super()._resume_settings(), "n_chains", "clamped_chains")

    def _state_layout(self, template, data) -> dict:
        # Without building a state: that would run the burn-in sweeps.
        graph, _ = model_graph(template, np.asarray(template.visible))
        n_edges, n_units, n_rows = graph.n_edges, graph.n_units, data.shape[0]
        n_clamped = n_rows if self.clamped_chains == "per_example" else self._n_slots(n_rows)
        n_chains = self.n_chains if self.n_chains is not None else self._n_slots(n_rows)
        real, index, unit, stream = np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.uint8), np.dtype(np.uint64)
        return {
            "edge_rows": ((n_edges,), index), "edge_cols": ((n_edges,), index), "edge_weights": ((n_edges,), real),
            "biases": ((n_units,), real), "edge_velocity": ((n_edges,), real), "bias_velocity": ((n_units,), real),
            "clamped": ((n_clamped, n_units), unit), "clamped_streams": ((n_clamped,), stream),
            "fantasy": ((n_chains, n_units), unit), "fantasy_streams": ((n_chains,), stream),
        }

    def _check_state_values(self, arrays, template, epoch, damaged) -> None:
        graph, _ = model_graph(template, np.asarray(template.visible))
        if not (np.array_equal(arrays["edge_rows"], graph.rows) and np.array_equal(arrays["edge_cols"], graph.cols)):
            raise damaged("its learned edges ('edge_rows', 'edge_cols') are not the couplings of its model")

    def _state_arrays(self, state) -> dict:
        chains = state.chains
        return {
            "edge_rows": state.graph.rows,
            "edge_cols": state.graph.cols,
            "edge_weights": state.edge_weights,
            "biases": state.biases,
            "edge_velocity": state.edge_velocity,
            "bias_velocity": state.bias_velocity,
            "clamped": chains.clamped,
            "clamped_streams": chains.clamped_streams,
            "fantasy": chains.fantasy,
            "fantasy_streams": chains.fantasy_streams,
        }

    def _restore(self, arrays, template, data):
        try:
            graph = edges_graph(template.n_units, arrays["edge_rows"], arrays["edge_cols"], np.asarray(template.visible))
            chains = BoltzmannChains(
                np.ascontiguousarray(arrays["clamped"], dtype=np.uint8),
                np.ascontiguousarray(arrays["clamped_streams"], dtype=np.uint64),
                np.ascontiguousarray(arrays["fantasy"], dtype=np.uint8),
                np.ascontiguousarray(arrays["fantasy_streams"], dtype=np.uint64),
            )
            state = _State(
                graph,
                np.array(arrays["edge_weights"], dtype=np.float64),
                np.array(arrays["biases"], dtype=np.float64),
                np.array(arrays["edge_velocity"], dtype=np.float64),
                np.array(arrays["bias_velocity"], dtype=np.float64),
                chains,
                1.0 / template.temperature,
            )
        except KeyError as error:
            from ..exceptions import ModelFileError

            raise ModelFileError(f"checkpoint lacks the BoltzmannLearning state array {error}") from None
        n_clamped = data.shape[0] if self.clamped_chains == "per_example" else self._n_slots(data.shape[0])
        if chains.clamped.shape != (n_clamped, graph.n_units) or state.edge_weights.shape != graph.rows.shape:
            raise ValidationError("the checkpoint's chains or parameters do not fit this trainer's settings and data")
        return state


