"""What layered models (sigmoid belief networks, deep belief networks) share: layers of named units."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import DEFAULT_MAX_UNITS, check_energy_scale, check_finite_array, check_int, check_names, describe
from ..exceptions import ParameterTypeError, ValidationError
from ._base import INTEGER, EnergyModel, check_file_members, file_member, file_names, readonly

__all__ = ["LayeredModel", "DEFAULT_MAX_UNITS", "check_layer_sizes", "check_list", "check_layer_biases", "check_layer_weights",
           "check_layers_energy_scale"]



def check_layer_sizes(layer_sizes, name: str = "layer_sizes") -> list[int]:
    """``layer_sizes`` as a list of ints >= 1 (possibly empty: callers say how many layers they need)."""
    if (
        isinstance(layer_sizes, (str, bytes))
        or not isinstance(layer_sizes, (Sequence, np.ndarray))
        or (isinstance(layer_sizes, np.ndarray) and layer_sizes.ndim != 1)  # 0-d: not iterable; 2-d: rows
    ):
        raise ParameterTypeError(f"{name} must be a sequence of ints, got {describe(layer_sizes)}")
    return [check_int(size, f"{name}[{k}]", minimum=1) for k, size in enumerate(layer_sizes)]


def check_list(values, name: str, what: str) -> list:
    """``values`` as a list, refusing (ParameterTypeError) anything but a list or tuple of ``what``."""
    if not isinstance(values, (list, tuple)):
        raise ParameterTypeError(f"{name} must be a list of {what}, got {describe(values)}")
    return list(values)


def check_layer_biases(vectors, name: str = "biases") -> list[np.ndarray]:
    """Read-only float64 copies of the bias vectors ``name[k]``, each finite and of at least one unit."""
    checked = []
    for k, vector in enumerate(vectors):
        vector = check_finite_array(vector, f"{name}[{k}]", ndim=1)
        if vector.shape[0] == 0:
            raise ValidationError(f"{name}[{k}] must have at least one unit, got shape {vector.shape}")
        checked.append(readonly(vector.copy()))
    return checked


def check_layer_weights(matrices, sizes, name: str = "weights") -> list[np.ndarray]:
    """Read-only float64 copies of ``name[k]``, each finite and of shape ``(sizes[k], sizes[k + 1])``."""
    checked = []
    for k, matrix in enumerate(matrices):
        matrix = check_finite_array(matrix, f"{name}[{k}]", ndim=2)
        expected = (sizes[k], sizes[k + 1])
        if matrix.shape != expected:
            raise ValidationError(
                f"{name}[{k}] must have shape (n_{k}, n_{k + 1}) = {expected} to match the layer sizes "
                f"(biases[{k}] and biases[{k + 1}]), got {matrix.shape}"
            )
        checked.append(readonly(matrix.copy()))
    return checked


def check_layers_energy_scale(what: str, **arrays) -> float:
    """The energy bound of the lists of parameter arrays given by keyword (``weights=[...]``), checked.

    See :func:`pgm_energy._validation.check_energy_scale`; entries are named ``weights[k]`` etc.
    """
    return check_energy_scale(
        {f"{name}[{k}]": array for name, values in arrays.items() for k, array in enumerate(values)}, what
    )


class LayeredModel(EnergyModel):
    """Base class of models whose units come in layers, listed bottom (visible) layer first.

    Subclasses call :meth:`_set_layers` in their constructor; units are numbered layer by
    layer, so layer ``k`` holds the units ``offsets[k] .. offsets[k + 1] - 1``.
    """

    __slots__ = ()

    def _set_layers(self, sizes, names) -> None:
        """Store the layer sizes, their offsets and the unit names (default ``v{i}``, ``h{k}_{j}``)."""
        self._layer_sizes = tuple(int(size) for size in sizes)
        self._offsets = tuple(int(x) for x in np.concatenate([[0], np.cumsum(self._layer_sizes)]))
        if names is None:
            default = [f"v{i}" for i in range(self._layer_sizes[0])]
            for k, size in enumerate(self._layer_sizes[1:], start=1):
                default += [f"h{k}_{j}" for j in range(size)]
            self._names = tuple(default)
        else:
            self._names = check_names(names, self._offsets[-1], "names")

    @property
    def weights(self) -> tuple[np.ndarray, ...]:
        """``weights[k]``, shape (n_k, n_{k+1}), read-only: between layer ``k`` and the layer above
        (a deep belief network's last one is its top RBM's)."""
        return self._weights

    @property
    def biases(self) -> tuple[np.ndarray, ...]:
        """``biases[k]``, shape (n_k,), read-only, one per layer (a sigmoid belief network's last is
        its top layer's prior; a deep belief network's last two are its top RBM's)."""
        return self._biases

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Units per layer, bottom (visible) layer first."""
        return self._layer_sizes

    @property
    def n_layers(self) -> int:
        """Number of layers, the visible one included."""
        return len(self._layer_sizes)

    @property
    def names(self) -> tuple[str, ...]:
        """Unit names, layer by layer, bottom layer first."""
        return self._names

    @property
    def layers(self) -> tuple[tuple[str, ...], ...]:
        """Names of the units of each layer, bottom layer first."""
        return tuple(self._names[self._offsets[k] : self._offsets[k + 1]] for k in range(self.n_layers))

    @property
    def n_visible(self) -> int:
        """Units of the bottom layer."""
        return self._layer_sizes[0]

    @property
    def n_hidden(self) -> int:
        """Units above the bottom layer."""
        return self.n_units - self.n_visible

    @property
    def visible_names(self) -> tuple[str, ...]:
        """Names of the bottom layer."""
        return self._names[: self.n_visible]

    @property
    def hidden_names(self) -> tuple[str, ...]:
        """Names of every unit above the bottom layer."""
        return self._names[self.n_visible :]

    def layer_of(self, name: str) -> int:
        """Layer index (0 = bottom) of the unit called ``name``."""
        return int(np.searchsorted(self._offsets, self.index(name), side="right")) - 1

    # ------------------------------------------------------------------ files
    def _layer_arrays(self) -> dict[str, np.ndarray]:
        """Sizes, names, ``biases_k`` and ``weights_k`` for a model file (subclasses add the rest)."""
        arrays = {
            "layer_sizes": np.array(self._layer_sizes, dtype=np.int64),
            "names": np.array(self._names, dtype=str),
        }
        arrays.update({f"biases_{k}": vector for k, vector in enumerate(self._biases)})
        arrays.update({f"weights_{k}": matrix for k, matrix in enumerate(self._weights)})
        return arrays

    @staticmethod
    def _read_layer_arrays(arrays, extra=()) -> tuple[list, list, list[str]]:
        """Inverse of :meth:`_layer_arrays`: ``(weights, biases, names)``, each member checked.

        ``extra`` maps the number of layers to the names of the other members the subclass's
        file holds; any member beyond those is refused.
        """
        sizes = file_member(arrays, "layer_sizes", ndim=1, kinds=INTEGER)
        n_layers = sizes.shape[0]
        if n_layers == 0:
            raise ValidationError("the member 'layer_sizes' must list at least one layer, got []")
        expected = ["layer_sizes", "names"] + [f"biases_{k}" for k in range(n_layers)]
        expected += [f"weights_{k}" for k in range(n_layers - 1)]
        check_file_members(arrays, expected + list(extra(n_layers) if extra else ()))
        biases = [file_member(arrays, f"biases_{k}", ndim=1) for k in range(n_layers)]
        declared = [int(size) for size in sizes]
        if declared != [vector.shape[0] for vector in biases]:
            raise ValidationError(
                f"the member 'layer_sizes' = {declared} does not match the bias vectors' lengths "
                f"{[vector.shape[0] for vector in biases]}"
            )
        weights = [file_member(arrays, f"weights_{k}", ndim=2) for k in range(n_layers - 1)]
        return weights, biases, file_names(arrays, "names")
