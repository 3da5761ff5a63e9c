r"""Mean-field posteriors of deep Boltzmann machines: the fixed point of the factorised approximation.

For a deep Boltzmann machine with some units clamped (the data, or evidence), the mean-field
approximation replaces the posterior over the free units by a product of independent Bernoulli
distributions with means :math:`\mu`, chosen to maximise the variational lower bound

.. math::

    \log p(x_{clamped}) \ge \mathcal{L}(\mu)
        = \mathbb{E}_q\!\left[-E(x)/T\right] + \mathcal{H}(q) - \log Z ,

where, because no edge joins two units of a layer and ``q`` factorises, the expected energy is the
energy evaluated at the means. Setting the gradient to zero gives the fixed point
``mu_l = sigmoid((b_l + W_{l-1}^T mu_{l-1} + W_l mu_{l+1}) / T)`` for the free units of each layer.

The updates here sweep the odd layers (``h1, h3, ...``) and then the even ones: units of one
parity share no edge, so updating a whole parity at once is exact coordinate ascent on
:math:`\mathcal{L}`, which never decreases and so converges (to a local optimum; Salakhutdinov &
Hinton 2009, "Deep Boltzmann machines", AISTATS, section 3). Rows are processed together.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np



def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` in the dtype of ``x`` (the tanh form cannot overflow)."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _dtype(model):
    """The working precision: the parameters' (float32 when a trainer runs in float32), at least float32."""
    return np.result_type(model.weights[0].dtype, np.float32)

__all__ = ["MeanField", "initial_means", "evidence_mean_field", "mean_field", "bound_terms"]

#: default cap on the number of parity sweeps and the convergence threshold on the largest change of a mean
DEFAULT_MAX_ITERATIONS = 100
DEFAULT_TOLERANCE = 1e-7


class MeanField(NamedTuple):
    """The mean-field fixed point of a batch of rows.

    Attributes
    ----------
    means : list of ndarray, ``means[l]`` of shape (n_rows, n_l)
        Every layer, the clamped units holding their clamped values.
    n_iterations : int
        Parity sweeps (odd layers then even layers) performed.
    converged : bool
        Whether the largest change of a mean in the last sweep was at most the tolerance.
    """

    means: list
    n_iterations: int
    converged: bool


def _field(model, means: list, layer: int) -> np.ndarray:
    """``(b_l + W_{l-1}^T mu_{l-1} + W_l mu_{l+1}) / T`` for every row, shape (n_rows, n_l)."""
    field = means[layer - 1] @ model.weights[layer - 1] if layer > 0 else 0.0
    if layer < model.n_layers - 1:
        field = field + means[layer + 1] @ model.weights[layer].T
    return (field + model.biases[layer]) / model.temperature


def initial_means(model, visible: np.ndarray) -> list:
    """A bottom-up start: each hidden layer from the one below with doubled weights (the layer above absent).

    Doubling stands in for the missing top-down input (Salakhutdinov & Hinton 2012, "An efficient
    learning procedure for deep Boltzmann machines", section 4); the top layer gets single weights.

    Parameters
    ----------
    visible : ndarray, shape (n_rows, n_visible)

    Returns
    -------
    list of ndarray, ``[visible, mu_1, ..., mu_L]``
    """
    means = [np.asarray(visible, dtype=_dtype(model))]
    top = model.n_layers - 1
    for layer in range(1, model.n_layers):
        factor = 1.0 if layer == top else 2.0
        field = (factor * (means[-1] @ model.weights[layer - 1]) + model.biases[layer]) / model.temperature
        means.append(sigmoid(field))
    return means


def evidence_mean_field(model, clamped: dict[int, int], *, max_iterations=DEFAULT_MAX_ITERATIONS,
                        tolerance=DEFAULT_TOLERANCE) -> MeanField:
    """The mean-field posterior given evidence on any units (one row).

    Free visible units start at 1/2, then each hidden layer bottom-up as in :func:`initial_means`
    (clamped units holding their values throughout).

    Parameters
    ----------
    clamped : dict of int -> 0/1
        Unit index (the model's order, layer by layer) -> value.

    Returns
    -------
    MeanField
        ``means[l]`` of shape (1, n_l).
    """
    offsets = np.concatenate([[0], np.cumsum(model.layer_sizes)])
    free, values = [], []
    for layer, size in enumerate(model.layer_sizes):
        mask = np.ones(size, dtype=bool)
        value = np.full(size, 0.5)
        for unit, state in clamped.items():
            if offsets[layer] <= unit < offsets[layer + 1]:
                mask[unit - offsets[layer]] = False
                value[unit - offsets[layer]] = state
        free.append(mask)
        values.append(value)
    means = [values[0][None, :]]
    top = model.n_layers - 1
    for layer in range(1, model.n_layers):
        factor = 1.0 if layer == top else 2.0
        start = sigmoid((factor * (means[-1] @ model.weights[layer - 1]) + model.biases[layer]) / model.temperature)
        means.append(np.where(free[layer], start, values[layer][None, :]))
    return mean_field(model, means, free, max_iterations=max_iterations, tolerance=tolerance)


def mean_field(model, means: list, free: list | None = None, *, max_iterations=DEFAULT_MAX_ITERATIONS,
               tolerance=DEFAULT_TOLERANCE) -> MeanField:
    """Iterate the mean-field fixed point from ``means`` (not modified).

    Parameters
    ----------
    model : DeepBoltzmannMachine
    means : list of ndarray, one per layer, ``means[l]`` of shape (n_rows, n_l)
        The start; clamped units hold their clamped values (0 or 1).
    free : list of (None or ndarray of bool, shape (n_l,)), optional
        Which units of each layer are free; ``None`` for a layer means all of it. Default:
        the visible layer clamped, every hidden unit free.
    max_iterations : int >= 0
    tolerance : float >= 0

    Returns
    -------
    MeanField
    """
    means = [np.array(layer, dtype=_dtype(model)) for layer in means]
    if free is None:
        free = [np.zeros(model.n_visible, dtype=bool)] + [None] * (model.n_layers - 1)
    order = list(range(1, model.n_layers, 2)) + list(range(2, model.n_layers, 2)) + [0]
    order = [layer for layer in order if free[layer] is None or free[layer].any()]
    change = np.inf
    iteration = 0
    while iteration < max_iterations and change > tolerance:
        change = 0.0
        for layer in order:
            updated = sigmoid(_field(model, means, layer))
            mask = free[layer]
            if mask is None:
                change = max(change, float(np.max(np.abs(updated - means[layer]), initial=0.0)))
                means[layer] = updated
            else:
                change = max(change, float(np.max(np.abs(updated[:, mask] - means[layer][:, mask]), initial=0.0)))
                means[layer][:, mask] = updated[:, mask]
        iteration += 1
    return MeanField(means, iteration, bool(change <= tolerance))


def _bernoulli_entropy(mu: np.ndarray) -> np.ndarray:
    """Entropy in nats of independent Bernoulli(mu) units, summed over the last axis (0 log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = -(np.where(mu > 0, mu * np.log(mu), 0.0) + np.where(mu < 1, (1 - mu) * np.log1p(-mu), 0.0))
    return terms.sum(axis=-1)


def bound_terms(model, means: list) -> np.ndarray:
    """``E_q[-E(x) / T] + H(q)`` per row: the variational lower bound on ``log p*(clamped)`` (``log Z`` not subtracted).

    Parameters
    ----------
    means : list of ndarray, ``means[l]`` of shape (n_rows, n_l)
        Clamped units hold their values (entropy 0); free units their means.

    Returns
    -------
    ndarray, shape (n_rows,)
    """
    t = model.temperature
    value = sum(layer @ bias for layer, bias in zip(means, model.biases))
    for k, matrix in enumerate(model.weights):
        value = value + np.einsum("ni,ij,nj->n", means[k], matrix, means[k + 1], optimize=True)
    return value / t + sum(_bernoulli_entropy(layer) for layer in means)

