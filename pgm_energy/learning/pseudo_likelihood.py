r"""Learning a fully visible Potts machine by maximum pseudo-likelihood (Besag 1975).

The mean log pseudo-likelihood of rows ``x^(1..m)`` is

.. math::

    \ell(\theta) = \frac1m \sum_r \sum_i \log p(x_i^{(r)} \mid x_{-i}^{(r)}),
    \qquad p(x_i = a \mid x_{-i}) = \operatorname{softmax}_a(z_{ia} / T),

with the local fields :math:`z_{ia} = f_i(a) + \sum_j C_{ij}(a, x_j)`. It needs no partition
function, and it is consistent: with enough data its maximiser tends to the true parameters.
With the one-hot rows :math:`o` and the residuals :math:`\rho = o - p` (both of shape
``(m, sum k)``), at T = 1,

.. math::

    \partial \ell / \partial f_i(a) = \overline{\rho_{ia}}, \qquad
    \partial \ell / \partial C_{ij}(a, b) = \overline{\rho_{ia}\, o_{jb}} + \overline{o_{ia}\, \rho_{jb}}

(means over rows; each coupling enters the conditionals of both of its variables). At temperature
``T`` every gradient is divided by ``T``. The trainer climbs it with heavy-ball momentum, an L2
penalty on the couplings only (the fields carry each variable's frequencies and need none), on
mini-batches or the full batch, through the shared loop (history, callbacks, checkpoints, exact
resume, divergence guard, Ctrl-C). The structure (which pairs are coupled) is the starting model's.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from .._validation import check_categorical_states, check_names, describe
from ..exceptions import ParameterTypeError, StateError, ValidationError
from ..models import PottsMachine
from ._trainer import Trainer, check_nonnegative_float

__all__ = ["PseudoLikelihood"]


class _State(NamedTuple):
    parameters: np.ndarray  # fields (sum k), then the couplings in the order of the model's edges
    velocity: np.ndarray


class PseudoLikelihood(Trainer):
    """Fit a fully visible :class:`~pgm_energy.PottsMachine` by maximum pseudo-likelihood.

    Parameters
    ----------
    learning_rate : float > 0, default 0.5
    momentum : float in [0, 1), default 0.5
    l2 : float >= 0, default 1e-4
        Penalty ``l2/2 * sum C**2`` on the couplings.
    batch_size : int, optional
        Rows per update (default: the whole data set, a deterministic ascent).
    epochs : int, default 100
    monitor, monitor_every, checkpoint_every, checkpoint_path, dtype
        As every trainer (:class:`~pgm_energy.learning.ContrastiveDivergence`); the epoch reports
        ``pseudo_log_likelihood`` (the mean over the epoch's batches, before their updates).

    Notes
    -----
    :meth:`fit` takes the starting machine (its edges, cardinalities, state names and temperature
    are kept) and data of state indices, or a DataFrame holding state names; a machine with hidden
    variables is refused (pseudo-likelihood needs every variable observed).

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy import PottsMachine
    >>> from pgm_energy.learning import PseudoLikelihood
    >>> start = PottsMachine([3, 3], None, {(0, 1): np.zeros((3, 3))})
    >>> data = np.array([[0, 0], [1, 1], [2, 2], [0, 0], [1, 2]])
    >>> fitted = PseudoLikelihood(epochs=50, monitor=None).fit(start, data, progress=False).model
    >>> bool(fitted.couplings[(0, 1)][0, 0] > fitted.couplings[(0, 1)][0, 1])
    True
    """

    _model_types = (PottsMachine,)

    def __init__(self, *, learning_rate=0.5, momentum=0.5, l2=1e-4, batch_size=None, epochs=100, monitor=None,
                 monitor_every=None, checkpoint_every=None, checkpoint_path=None, dtype="float32"):
        self.learning_rate = check_nonnegative_float(learning_rate, "learning_rate", strict=True)
        self.momentum = check_nonnegative_float(momentum, "momentum")
        if self.momentum >= 1.0:
            raise ValidationError(f"momentum must be in [0, 1), got {momentum!r}")
        self.l2 = check_nonnegative_float(l2, "l2")
        super().__init__(batch_size=batch_size, epochs=epochs, monitor=monitor, monitor_every=monitor_every,
                         checkpoint_every=checkpoint_every, checkpoint_path=checkpoint_path, dtype=dtype)
        self._structure = None

    def _settings(self) -> dict:
        return {**super()._settings(), "learning_rate": self.learning_rate, "momentum": self.momentum, "l2": self.l2}

    # ------------------------------------------------------------------ inputs
    def _visible_names_of(self, model_or_size, data):
        if isinstance(model_or_size, numbers.Integral) and not isinstance(model_or_size, bool):
            raise ParameterTypeError(
                "PseudoLikelihood fits a given PottsMachine (its edges and cardinalities are the structure): "
                f"model_or_size must be one, got a number, {model_or_size!r}"
            )
        names = super()._visible_names_of(model_or_size, data)
        self._structure = model_or_size  # the data are read with its cardinalities and state names
        return names

    def _check_model(self, model) -> None:
        if model.n_hidden:
            raise ValidationError(
                f"PseudoLikelihood needs every variable observed; the machine has hidden variables "
                f"{list(model.hidden_names)[:5]!r}"
            )

    def _check_data(self, data, visible_names, name: str = "data"):
        """Rows of state indices (an array), or a DataFrame of state names matched to the variables by column."""
        model = self._structure
        if hasattr(data, "columns") and hasattr(data, "to_numpy"):
            columns = list(data.columns)
            if sorted(map(str, columns)) != sorted(visible_names):
                raise ValidationError(f"{name} columns must be the variables {list(visible_names)[:5]!r}..., "
                                      f"got {columns[:5]!r}")
            frame = data[list(visible_names)]
            try:
                rows = [[model.state_index(variable, value) for variable, value in zip(visible_names, row)]
                        for row in frame.itertuples(index=False)]
            except Exception as error:  # a state name the variable does not have
                raise StateError(f"{name}: {error}") from error
            array = np.array(rows, dtype=np.int64).reshape(len(frame), len(visible_names))
        else:
            array = data
        batch, _ = check_categorical_states(array, np.array(model.cardinalities, dtype=np.int64), name)
        if batch.ndim != 2 or np.ndim(array) != 2:
            raise StateError(f"{name} must be 2-D (n_samples, n_variables), got {describe(data)}")
        if batch.shape[0] == 0:
            raise ValidationError(f"{name} must hold at least one sample, got 0 rows")
        return np.ascontiguousarray(batch), check_names(visible_names, batch.shape[1])

    # ------------------------------------------------------------------ the state
    def _initial_model(self, model_or_size, data, visible_names, rng):
        return model_or_size

    def _initial_state(self, model, data, rng):
        parameters = np.concatenate([model.flat_fields, model.flat_couplings]).astype(self.dtype)
        return _State(parameters, np.zeros_like(parameters))

    def _state_arrays(self, state) -> dict:
        return {"parameters": state.parameters, "velocity": state.velocity}

    def _restore(self, arrays, template, data):
        return _State(np.array(arrays["parameters"], dtype=self.dtype), np.array(arrays["velocity"], dtype=self.dtype))

    def _model_from(self, state, template):
        n_fields = template.field_offsets[-1]
        fields, flat = state.parameters[:n_fields].astype(np.float64), state.parameters[n_fields:].astype(np.float64)
        offsets, cards = template.coupling_offsets, template.cardinalities
        couplings = {
            (int(i), int(j)): flat[offsets[e]:offsets[e + 1]].reshape(cards[i], cards[j])
            for e, (i, j) in enumerate(template.edges)
        }
        return PottsMachine(cards, [fields[template.field_offsets[i]:template.field_offsets[i + 1]]
                                    for i in range(template.n_variables)],
                            couplings, names=template.names, state_names=template.state_names,
                            visible=template.visible, temperature=template.temperature)

    # ------------------------------------------------------------------ the epoch
    def _gradient(self, parameters, rows, template):
        """(mean log pseudo-likelihood, its gradient) at ``parameters`` on ``rows`` (m, n) of state indices."""
        starts = template.field_offsets
        n_fields = starts[-1]
        cards = template.cardinalities
        temperature = template.temperature
        m = rows.shape[0]
        z = np.tile(parameters[:n_fields], (m, 1))
        blocks = []
        for e, (i, j) in enumerate(template.edges):
            lo, hi = n_fields + template.coupling_offsets[e], n_fields + template.coupling_offsets[e + 1]
            block = parameters[lo:hi].reshape(cards[i], cards[j])
            blocks.append((i, j, lo, hi))
            z[:, starts[i]:starts[i + 1]] += block[:, rows[:, j]].T
            z[:, starts[j]:starts[j + 1]] += block[rows[:, i], :]
        z /= temperature
        one_hot = np.zeros_like(z)
        value = 0.0
        probabilities = np.empty_like(z)
        for i in range(template.n_variables):
            part = z[:, starts[i]:starts[i + 1]]
            shifted = part - part.max(axis=1, keepdims=True)
            log_norm = np.log(np.exp(shifted).sum(axis=1))
            probabilities[:, starts[i]:starts[i + 1]] = np.exp(shifted - log_norm[:, None])
            chosen = rows[:, i]
            one_hot[np.arange(m), starts[i] + chosen] = 1.0
            value += float(np.mean(shifted[np.arange(m), chosen] - log_norm))
        residual = one_hot - probabilities
        gradient = np.zeros_like(parameters)
        gradient[:n_fields] = residual.mean(axis=0)
        for i, j, lo, hi in blocks:
            ri, oi = residual[:, starts[i]:starts[i + 1]], one_hot[:, starts[i]:starts[i + 1]]
            rj, oj = residual[:, starts[j]:starts[j + 1]], one_hot[:, starts[j]:starts[j + 1]]
            gradient[lo:hi] = ((ri.T @ oj + oi.T @ rj) / m).ravel()
        return value, gradient / temperature

    def _run_epoch(self, state, data, order, epoch) -> dict:
        template = self._template_of(state)
        n_fields = template.field_offsets[-1]
        batch = data.shape[0] if self.batch_size is None else self.batch_size
        values = []
        for start in range(0, order.shape[0], batch):
            rows = data[order[start:start + batch]]
            value, gradient = self._gradient(state.parameters.astype(np.float64), rows, template)
            gradient[n_fields:] -= self.l2 * state.parameters[n_fields:]
            state.velocity[:] = self.momentum * state.velocity + self.learning_rate * gradient
            state.parameters[:] += state.velocity
            values.append(value)
        return {"pseudo_log_likelihood": float(np.mean(values))}

    def _template_of(self, state):
        return self._structure

    def __repr__(self) -> str:
        return (f"PseudoLikelihood(learning_rate={self.learning_rate}, momentum={self.momentum}, l2={self.l2}, "
                f"batch_size={self.batch_size}, epochs={self.epochs})")
