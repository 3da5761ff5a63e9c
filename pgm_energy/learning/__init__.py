"""Training energy-based models: contrastive divergence, exact gradient, Boltzmann learning, deep belief networks,
deep Boltzmann machines, pseudo-likelihood for Potts machines.

Every trainer has ``fit(model_or_size, data, *, validation=None, rng=None, callbacks=(),
progress=True, resume_from=None)`` returning a :class:`TrainingResult` ``(model, history,
stop_reason)``; the shared loop is :class:`~pgm_energy.learning._trainer.Trainer`.
"""

from ._result import STOP_REASONS, TrainingHistory, TrainingResult
from .callbacks import EarlyStopping
from .contrastive_divergence import ContrastiveDivergence
from .deep_belief import UpDownFineTuning, fit_greedy
from .deep_boltzmann import DeepBoltzmannPCD, pretrain_deep_boltzmann
from .categorical_cd import CategoricalCD
from .exact_gradient import ExactGradient
from .gaussian_cd import GaussianBernoulliCD
from .gaussian_exact import GaussianExactGradient
from .pseudo_likelihood import PseudoLikelihood
from ._streamed import StreamedRows, streamed

__all__ = [
    "ContrastiveDivergence",
    "ExactGradient",
    "CategoricalCD",
    "GaussianBernoulliCD",
    "GaussianExactGradient",
    "PseudoLikelihood",
    "BoltzmannLearning",
    "UpDownFineTuning",
    "fit_greedy",
    "DeepBoltzmannPCD",
    "pretrain_deep_boltzmann",
    "EarlyStopping",
    "StreamedRows",
    "streamed",
    "TrainingHistory",
    "TrainingResult",
    "STOP_REASONS",
]


def __getattr__(name):
    # BoltzmannLearning lives in its own module, imported on first use.
    if name == "BoltzmannLearning":
        from .boltzmann import BoltzmannLearning

        return BoltzmannLearning
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
