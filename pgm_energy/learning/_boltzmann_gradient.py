"""The moments of both phases of Boltzmann learning and the gradient estimate they give.

``<s_i s_j>_data - <s_i s_j>_model`` (and the same for ``<s_i>``) from one batch: the clamped
phase sweeps the hidden units of the batch's clamped chains (or is exact without hidden units),
the free phase sweeps every unit of the fantasy chains; the moments average the states after
every sweep, read with one of :data:`ESTIMATORS`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._boltzmann_chains import clamp, run_sweeps
from ._boltzmann_graph import kernel_layout

__all__ = ["ESTIMATORS", "PhaseStatistics", "BoltzmannGradient", "moments", "gradient_estimate"]

#: ``"conditional"``: Rao-Blackwellised statistics (each sampled free unit's state replaced by its
#: conditional mean ``sigmoid(z_i / T)``, averaged symmetrically over a pair); ``"samples"``: the plain
#: co-occurrence counts of the sampled states (the seed's estimator). Both estimate the same moments.
ESTIMATORS = ("conditional", "samples")


class PhaseStatistics(NamedTuple):
    """Moments estimated in one phase.

    Attributes
    ----------
    pairs : ndarray, shape (n_edges,)
        ``<s_i s_j>`` for each edge of the graph.
    means : ndarray, shape (n_units,)
        ``<s_i>``.
    n_samples : int
        Number of states the moments average over (the batch rows for an exact clamped phase).
    """

    pairs: np.ndarray
    means: np.ndarray
    n_samples: int


class BoltzmannGradient(NamedTuple):
    """``<.>_data - <.>_model`` for the edge weights and biases, with both phases' moments.

    Attributes
    ----------
    edge_weights : ndarray, shape (n_edges,)
    biases : ndarray, shape (n_units,)
    data, model : PhaseStatistics
    """

    edge_weights: np.ndarray
    biases: np.ndarray
    data: PhaseStatistics
    model: PhaseStatistics


def moments(graph, storage, biases, beta, samples, clamped_units, estimator: str) -> PhaseStatistics:
    """:func:`pgm_energy.learning.boltzmann.phase_statistics` on checked arguments."""
    n_samples = samples.shape[0]
    indptr, indices, data, dense_w, dense = storage
    if not dense:
        from .._kernels.boltzmann_learning import CSRWeights, Edges, csr_moment_sums

        clamped = np.zeros(graph.n_units, dtype=np.bool_)
        clamped[clamped_units] = True
        pair_sums = np.empty(graph.n_edges)
        mean_sums = np.empty(graph.n_units)
        csr_moment_sums(
            np.ascontiguousarray(samples, dtype=np.uint8), clamped, estimator == "conditional", float(beta), biases,
            CSRWeights(indptr, indices, data), Edges(graph.rows, graph.cols), pair_sums, mean_sums,
        )
        return PhaseStatistics(pair_sums / (2.0 * n_samples), mean_sums / n_samples, n_samples)
    from scipy.special import expit

    states = np.asarray(samples, dtype=np.float64)
    if estimator == "conditional":
        expectations = expit(beta * (states @ dense_w + biases))
        expectations[:, clamped_units] = states[:, clamped_units]
    else:
        expectations = states
    means = expectations.mean(axis=0)
    products = states.T @ expectations
    pairs = (products[graph.rows, graph.cols] + products[graph.cols, graph.rows]) / (2.0 * n_samples)
    return PhaseStatistics(pairs, means, n_samples)


def gradient_estimate(graph, edge_weights, biases, beta, batch, rows, chains, *, sweeps, estimator) -> BoltzmannGradient:
    layout = kernel_layout(graph, edge_weights, biases)
    storage = layout.weight_arrays
    if graph.hidden.shape[0] == 0:
        states = np.zeros((batch.shape[0], graph.n_units), dtype=np.uint8)
        states[:, graph.visible] = batch
        data_samples = states
    else:
        states, streams = clamp(chains, graph, batch, rows)
        data_samples = run_sweeps(states, streams, graph.hidden, sweeps, beta, layout, record=True)
        chains.clamped[rows] = states
        chains.clamped_streams[rows] = streams
    data_phase = moments(graph, storage, biases, beta, data_samples, graph.visible, estimator)
    all_units = np.arange(graph.n_units, dtype=np.int64)
    model_samples = run_sweeps(chains.fantasy, chains.fantasy_streams, all_units, sweeps, beta, layout, record=True)
    model_phase = moments(graph, storage, biases, beta, model_samples, np.zeros(0, dtype=np.int64), estimator)
    return BoltzmannGradient(
        data_phase.pairs - model_phase.pairs, data_phase.means - model_phase.means, data_phase, model_phase
    )
