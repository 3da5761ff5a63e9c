"""Training energy-based models: contrastive divergence, exact gradient, Boltzmann learning.

Every trainer has ``fit(model_or_size, data, *, validation=None, rng=None, callbacks=(),
progress=True, ...)`` returning a :class:`TrainingResult` ``(model, history, stop_reason)``.
"""

from ._result import STOP_REASONS, TrainingHistory, TrainingResult

__all__ = [
    "TrainingHistory",
    "TrainingResult",
    "STOP_REASONS",
]
