"""The exception hierarchy of pgm_energy.

Every error raised on purpose by the package derives from :class:`PGMEnergyError`.
Errors about bad values also derive from :class:`ValueError` (and errors about
bad types from :class:`TypeError`), so code written against the standard
exceptions keeps working.
"""

__all__ = [
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
    "ConvergenceWarning",
    "MixingWarning",
]


class PGMEnergyError(Exception):
    """Base class of every error raised on purpose by pgm_energy."""


class ValidationError(PGMEnergyError, ValueError):
    """A parameter has a bad value (shape, symmetry, finiteness, range, ...)."""


class ParameterTypeError(PGMEnergyError, TypeError):
    """A parameter has the wrong type (for example a string where a list of names is needed)."""


class StateError(ValidationError):
    """A unit state is not 0 or 1, or a batch of states has the wrong shape."""


class EvidenceError(ValidationError):
    """Evidence names an unknown variable, gives a value other than 0/1, or contradicts itself."""


class ModelSizeError(PGMEnergyError, ValueError):
    """An exact computation would enumerate more states than the size limit allows."""


class ConversionError(PGMEnergyError, ValueError):
    """A model cannot be converted exactly to or from another representation."""


class ModelFileError(PGMEnergyError, ValueError):
    """A model file is truncated, corrupted, of an unknown format or not a pgm_energy file."""


class TrainingDivergedError(PGMEnergyError, ArithmeticError):
    """Training produced a NaN or infinite parameter; nothing the user had is lost.

    Attributes
    ----------
    model : EnergyModel
        The last model whose parameters were all finite (the one before the bad update).
    history : TrainingHistory
        The per-epoch history up to and including that model's epoch.
    epoch : int
        The epoch (counted from 1) during which the divergence happened.
    """

    def __init__(self, message: str, *, model, history, epoch: int):
        super().__init__(message)
        self.model = model
        self.history = history
        self.epoch = epoch


class CheckpointWriteError(PGMEnergyError, OSError):
    """A training checkpoint could not be written during a run; the trained model is not lost.

    Raised by ``fit`` when writing a checkpoint fails mid-run (disk full, the folder removed,
    ...). The previous checkpoint file, if any, is untouched; ``__cause__`` is the original error
    and ``errno`` its error number (None when it had none).

    Attributes
    ----------
    model : EnergyModel
        The model after the epoch whose checkpoint failed (after the last epoch: the final
        model, averaged if the trainer averages).
    history : TrainingHistory
        The per-epoch history up to and including that epoch.
    epoch : int
        The epoch (counted from 1) whose checkpoint could not be written.
    path : str
        The checkpoint path.
    """

    def __init__(self, message: str, *, model, history, epoch: int, path, errno=None):
        super().__init__(message)
        self.errno = errno
        self.model = model
        self.history = history
        self.epoch = epoch
        self.path = str(path)


class UnknownMetricError(ValidationError, KeyError):
    """A metric name that a training history has not recorded.

    Also a :class:`KeyError`, as for a missing key of a mapping (``history["name"]``).
    """

    # KeyError would show the message in quotes; read it as the ValueError it also is.
    __str__ = ValidationError.__str__


class UnknownUnitError(ValidationError, KeyError):
    """A unit name that the model does not have (``model.index("x")``, queried variables).

    Also a :class:`KeyError`, as for a missing key of a mapping.
    """

    __str__ = ValidationError.__str__


class ConvergenceWarning(UserWarning):
    """An iterative approximation stopped at its iteration cap before meeting its tolerance.

    The answer returned is the last iterate (e.g. the mean-field posterior of a deep Boltzmann
    machine); raise the cap, loosen the tolerance, or check the answer against a sampler.
    """


class MixingWarning(UserWarning):
    """A sampler's chain may not reach every state of positive probability.

    Single-site Gibbs sampling changes one variable at a time; where a model has deterministic
    relations (zero probabilities), two states of positive probability can be separated by
    states of probability zero, which the chain never enters, so it stays in one region of the
    support and its frequencies are those of that region. The warning names the remedy the
    sampler offers (for example restarts from independent draws).
    """
