"""pgm_energy: energy-based models (Boltzmann machines, RBMs) as pgmpy graphical models.

Importing the package is cheap: it does not import pgmpy, hypothesis, matplotlib
or numba. Submodules such as :mod:`pgm_energy.exact` load on first use.
"""

from importlib import import_module

from .exceptions import (
    CheckpointWriteError,
    ConversionError,
    EvidenceError,
    ModelFileError,
    ModelSizeError,
    ParameterTypeError,
    PGMEnergyError,
    StateError,
    TrainingDivergedError,
    UnknownMetricError,
    UnknownUnitError,
    ValidationError,
)
from .io import load, save
from .models import (
    BoltzmannMachine,
    CategoricalRBM,
    GaussianBernoulliRBM,
    DeepBeliefNetwork,
    DeepBoltzmannMachine,
    IsingModel,
    PottsMachine,
    RestrictedBoltzmannMachine,
    SigmoidBeliefNetwork,
)

__version__ = "0.1.0"

__all__ = [
    "BoltzmannMachine",
    "RestrictedBoltzmannMachine",
    "SigmoidBeliefNetwork",
    "DeepBeliefNetwork",
    "IsingModel",
    "PottsMachine",
    "CategoricalRBM",
    "GaussianBernoulliRBM",
    "DeepBoltzmannMachine",
    "load",
    "save",
    "PGMEnergyError",
    "ValidationError",
    "ParameterTypeError",
    "StateError",
    "EvidenceError",
    "ModelSizeError",
    "ConversionError",
    "ModelFileError",
    "TrainingDivergedError",
    "CheckpointWriteError",
    "UnknownMetricError",
    "UnknownUnitError",
    "exact",
    "ais",
    "interop",
    "datasets",
    "testing",
]

_LAZY_SUBMODULES = {"exact", "ais", "interop", "datasets", "testing"}


def __getattr__(name):
    # Submodules are imported on first access so that `import pgm_energy` stays light.
    if name in _LAZY_SUBMODULES:
        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
