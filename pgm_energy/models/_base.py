"""What every energy model shares: names, temperature, immutability, files."""

from __future__ import annotations

import numpy as np

from .._validation import check_finite_array, check_states, describe
from ..exceptions import ParameterTypeError, UnknownUnitError, ValidationError

__all__ = [
    "EnergyModel",
    "UndirectedModel",
    "MAX_PARAMETERS",
    "check_bias",
    "readonly",
    "file_member",
    "file_scalar",
    "file_names",
    "check_file_members",
    "visible_rows",
    "check_visible",
    "default_names",
]

#: dtype kinds of the members of a model file
REAL = "iuf"
INTEGER = "iu"
TEXT = "U"
BOOLEAN = "b"


#: largest number of weights of a model that a ``random`` constructor or a trainer's
#: ``fit(n_hidden, data)`` creates (2 GiB of float64; training holds several arrays of that size)
MAX_PARAMETERS = 2**28


def check_bias(values, name: str, length: int, weights_name: str, weights_shape) -> np.ndarray:
    """A finite float64 vector ``name`` of the ``length`` that the weights fix.

    A wrong length names the weights too: either may be the one that is wrong.
    """
    vector = check_finite_array(values, name, ndim=1)
    if vector.shape[0] != length:
        raise ValidationError(
            f"{weights_name} of shape {tuple(weights_shape)} needs {name} of length {length}, "
            f"got {name} of shape {vector.shape}"
        )
    return vector


def visible_rows(model, data, name: str = "data") -> np.ndarray:
    """Rows of visible states of ``model``: float64, shape (n_rows >= 1, n_visible), each 0/1.

    A pandas DataFrame's columns are picked by the model's visible names (others are ignored).
    """
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        missing = [unit for unit in model.visible_names if unit not in data.columns]
        if missing:
            raise ValidationError(f"{name} is missing columns for visible units {missing[:5]!r}")
        data = data[list(model.visible_names)].to_numpy()
    batch, _ = check_states(data, model.n_visible, name)
    if batch.shape[0] == 0:
        raise ValidationError(f"{name} must hold at least one sample, got 0 rows")
    return batch


def check_visible(visible, n_units: int) -> np.ndarray:
    """The visible mask: booleans, or integers that are all 0 or 1 (as networkx / pandas hand them over)."""
    if visible is None:
        return readonly(np.ones(n_units, dtype=bool))
    try:
        mask = None if isinstance(visible, (str, bytes)) else np.array(visible, copy=True)
    except (TypeError, ValueError):  # ragged nesting
        mask = None
    if mask is None or mask.ndim != 1:
        raise ValidationError(f"visible must be a sequence of {n_units} booleans, got {describe(visible)}")
    if mask.dtype.kind in "iu" and np.isin(mask, (0, 1)).all():
        mask = mask.astype(bool)
    if mask.dtype != np.bool_:
        raise ValidationError(
            f"visible must be a boolean (or 0/1) mask of length {n_units}, got dtype {mask.dtype}: {describe(visible)}"
        )
    if mask.shape != (n_units,):
        raise ValidationError(f"visible must have shape ({n_units},), got {mask.shape}")
    return readonly(mask)


def default_names(visible: np.ndarray) -> tuple[str, ...]:
    """Visible units are named v0, v1, ..., hidden units h0, h1, ... in order."""
    counters = {True: 0, False: 0}
    names = []
    for is_visible in visible.tolist():
        names.append(f"{'v' if is_visible else 'h'}{counters[is_visible]}")
        counters[is_visible] += 1
    return tuple(names)


def readonly(array: np.ndarray) -> np.ndarray:
    """Return ``array`` marked read-only (models never change after construction)."""
    array.flags.writeable = False
    return array


def file_member(arrays, key: str, *, ndim: int, kinds: str = REAL) -> np.ndarray:
    """The member ``key`` of a model file, checked for presence, dimension and dtype kind.

    A damaged file gets a named error here instead of an ``IndexError`` or a silent
    conversion further on (``pgm_energy.load`` reports it as ``ModelFileError``).
    """
    if key not in arrays:
        raise ValidationError(f"the member {key!r} is missing")
    value = np.asarray(arrays[key])
    if value.ndim != ndim:
        raise ValidationError(f"the member {key!r} must be {ndim}-dimensional, got shape {value.shape}")
    if value.dtype.kind not in kinds:
        raise ValidationError(f"the member {key!r} has dtype {value.dtype}, expected {_KIND_NAMES[kinds]}")
    return value


_KIND_NAMES = {REAL: "real numbers", INTEGER: "integers", TEXT: "text", BOOLEAN: "booleans"}


def check_file_members(arrays, expected) -> None:
    """Refuse members a model file of this kind never holds (a swapped or foreign member)."""
    unexpected = sorted(set(arrays) - set(expected))
    if unexpected:
        raise ValidationError(f"unexpected members {unexpected[:5]!r}")


def file_scalar(arrays, key: str) -> float:
    """A real 0-dimensional member as a Python float."""
    return float(file_member(arrays, key, ndim=0))


def file_names(arrays, key: str) -> list[str]:
    """A 1-dimensional text member as a list of ``str``."""
    return [str(name) for name in file_member(arrays, key, ndim=1, kinds=TEXT)]


class EnergyModel:
    """Base class of the binary energy-based models.

    Subclasses store their parameters as read-only arrays, a tuple of unit
    names and a temperature, and implement ``_to_arrays`` / ``_from_arrays``
    for :mod:`pgm_energy.io`.
    """

    __slots__ = ()
    #: the name stored in model files; unique per subclass
    _FILE_KIND: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """Names of all units, in the order of the model's arrays."""
        raise NotImplementedError  # every subclass defines it

    @property
    def n_units(self) -> int:
        """Number of units."""
        return len(self.names)

    @property
    def temperature(self) -> float:
        """Temperature T > 0: p(s) is proportional to exp(-E(s) / T)."""
        return self._temperature

    @property
    def energy_bound(self) -> float:
        """The sum of the absolute values of all parameters: a bound on ``|E(s)|`` and on every local field.

        Constructors refuse parameters whose bound exceeds ``MAX_ENERGY_SCALE`` (1e150) and a
        temperature that would push ``energy_bound / temperature`` beyond it, so no computation
        on a model can overflow float64 (see docs/concepts.md).
        """
        return self._energy_bound

    def index(self, name: str) -> int:
        """Position of the unit called ``name`` in the model's arrays.

        Raises
        ------
        ParameterTypeError
            If ``name`` is not a string (unit names always are).
        UnknownUnitError
            If no unit has that name (also a ``KeyError``).
        """
        if not isinstance(name, str):
            # comparing arbitrary objects with the names may raise anything (arrays, sparse matrices)
            raise ParameterTypeError(f"name must be a unit name (a str), got {describe(name)}")
        try:
            return self.names.index(name)
        except ValueError:
            raise UnknownUnitError(f"name {name!r} is not a unit of the model") from None

    def save(self, path) -> None:
        """Write the model to ``path`` as a ``.npz`` file (no pickle, atomic).

        See Also
        --------
        pgm_energy.load : read it back.
        """
        from ..io import save

        save(self, path)

    @property
    def graph(self):
        """A new networkx ``Graph`` of the model.

        Nodes are unit names with attributes ``bias`` and ``visible``; edges carry
        ``weight`` (zero weights are no edge); the graph attributes hold
        ``temperature`` and ``offset``. See :func:`pgm_energy.interop.networkx.to_networkx`.
        """
        from ..interop.networkx import to_networkx

        return to_networkx(self)

    def to_markov_network(self):
        """The model as a pgmpy ``DiscreteMarkovNetwork`` (one factor per edge).

        See :func:`pgm_energy.interop.pgmpy.to_markov_network`.
        """
        from ..interop.pgmpy import to_markov_network

        return to_markov_network(self)

    def __setattr__(self, name, value):
        if hasattr(self, "_frozen"):
            raise AttributeError(
                f"{type(self).__name__} is immutable; use methods such as "
                "with_temperature() to get a changed copy"
            )
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is immutable; its attributes cannot be deleted")

    def _freeze(self) -> None:
        object.__setattr__(self, "_frozen", True)


class UndirectedModel(EnergyModel):
    """Base class of the Boltzmann-machine family (general and restricted machines).

    Adds what the Gibbs samplers and the exact inference engine do for every undirected
    binary model: :meth:`sample`, :meth:`predict` and :meth:`predict_probability`, each a
    hand-off. Belief networks sample and answer queries their own way (``sample``,
    ``gibbs_posterior``, ``query``) and do not have these methods.
    """

    __slots__ = ()

    def sample(self, n_samples, **options):
        """Draw ``n_samples`` states per chain with a :class:`~pgm_energy.samplers.GibbsSampler`.

        ``burn_in``, ``thin``, ``scan`` and ``dtype`` in ``options`` configure the sampler; the
        other options (``n_chains``, ``evidence``, ``initial_states``, ``temperature``,
        ``rng``, ``progress``, ``keep``) go to :meth:`GibbsSampler.sample`.

        Returns
        -------
        SampleSet
        """
        from ..samplers.gibbs import GibbsSampler

        settings = {key: options.pop(key) for key in ("burn_in", "thin", "scan", "dtype") if key in options}
        return GibbsSampler(**settings).sample(self, n_samples, **options)

    def predict(self, data, **options):
        """Fill the missing columns of a DataFrame with their most probable values (pgmpy's convention).

        See :meth:`pgm_energy.inference.ExactInference.predict` (exact, by enumeration).
        """
        from ..inference import ExactInference

        return ExactInference(self).predict(data, **options)

    def predict_probability(self, data, **options):
        """Probabilities of each state of the missing columns given each row (pgmpy's convention).

        See :meth:`pgm_energy.inference.ExactInference.predict_probability`.
        """
        from ..inference import ExactInference

        return ExactInference(self).predict_probability(data, **options)
