"""The parts of :class:`~pgm_energy.models.potts.PottsMachine` that check its parameters and files."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from .._validation import check_finite_array, check_int, describe
from ..exceptions import ParameterTypeError, UnknownUnitError, ValidationError
from ._base import BOOLEAN, INTEGER, TEXT, check_file_members, file_member, file_names, file_scalar, readonly

__all__ = ["check_cardinalities", "check_fields", "check_couplings", "check_state_names", "variable_index",
           "file_arrays", "arguments_from_file", "neighbour_lists"]

_FILE_MEMBERS = ("cardinalities", "fields", "edges", "couplings", "names", "visible", "temperature", "offset",
                 "state_labels", "state_label_is_int")


def check_cardinalities(cardinalities) -> np.ndarray:
    if isinstance(cardinalities, (str, bytes, Mapping)) or not isinstance(cardinalities, (Sequence, np.ndarray)):
        raise ParameterTypeError(f"cardinalities must be a sequence of integers >= 1, got {describe(cardinalities)}")
    values = list(np.asarray(cardinalities).ravel()) if isinstance(cardinalities, np.ndarray) else list(cardinalities)
    if isinstance(cardinalities, np.ndarray) and cardinalities.ndim != 1:
        raise ValidationError(f"cardinalities must be 1-dimensional, got shape {cardinalities.shape}")
    if not values:
        raise ValidationError("cardinalities must name at least one variable, got an empty sequence")
    checked = [check_int(value, f"cardinalities[{i}]", minimum=1) for i, value in enumerate(values)]
    return readonly(np.array(checked, dtype=np.int64))


def check_fields(fields, cardinalities: np.ndarray) -> np.ndarray:
    """The flat field vector (length ``sum(k_i)``): variable ``i``'s values one after another."""
    n = cardinalities.shape[0]
    if fields is None:
        return np.zeros(int(cardinalities.sum()))
    if isinstance(fields, np.ndarray) and fields.ndim == 2:
        if fields.shape[0] != n or np.any(cardinalities != fields.shape[1]):
            raise ValidationError(
                f"fields as a 2-d array needs shape ({n}, k) with every cardinality k, got {fields.shape} "
                f"for cardinalities {describe(cardinalities.tolist())}"
            )
        return check_finite_array(fields, "fields").ravel().copy()
    if isinstance(fields, (str, bytes, Mapping)) or not isinstance(fields, (Sequence, np.ndarray)) \
            or (isinstance(fields, np.ndarray) and fields.ndim == 0):
        raise ParameterTypeError(f"fields must be a sequence of {n} vectors (one per variable), got {describe(fields)}")
    if len(fields) != n:
        raise ValidationError(f"fields must hold {n} vectors (one per variable), got {len(fields)}")
    parts = []
    for i, (vector, k) in enumerate(zip(fields, cardinalities.tolist())):
        part = check_finite_array(vector, f"fields[{i}]", ndim=1)
        if part.shape[0] != k:
            raise ValidationError(f"fields[{i}] must have length {k} (cardinalities[{i}] = {k}), got {part.shape[0]}")
        parts.append(part)
    return np.concatenate(parts)


def variable_index(key, names: tuple[str, ...], what: str) -> int:
    """The index of the variable named (or indexed) by ``key`` among ``names``."""
    if isinstance(key, str):
        try:
            return names.index(key)
        except ValueError:
            raise UnknownUnitError(f"{what} names {key!r}, which is not a variable of the model") from None
    if isinstance(key, (bool, np.bool_)) or not isinstance(key, numbers.Integral):
        raise ParameterTypeError(f"{what} must name variables by name (str) or index (int), got {describe(key)}")
    if not 0 <= int(key) < len(names):
        raise UnknownUnitError(f"{what} has variable index {int(key)}, outside 0 .. {len(names) - 1}")
    return int(key)

def check_couplings(couplings, names: tuple[str, ...], cardinalities: np.ndarray):
    """``{(a, b): matrix}`` as (edges (m, 2) with i < j in lexicographic order, offsets (m + 1,), flat matrices)."""
    if not isinstance(couplings, Mapping):
        raise ParameterTypeError(f"couplings must be a mapping {{(a, b): matrix}}, got {describe(couplings)}")
    cards = cardinalities.tolist()
    blocks: dict[tuple[int, int], np.ndarray] = {}
    for key, matrix in couplings.items():
        if not isinstance(key, tuple) or len(key) != 2:
            raise ValidationError(f"couplings keys must be pairs of variables (a, b), got {describe(key)}")
        i, j = (variable_index(part, names, f"couplings key {key!r}") for part in key)
        if i == j:
            raise ValidationError(f"couplings key {key!r} couples variable {names[i]!r} with itself")
        block = check_finite_array(matrix, f"couplings[{key!r}]", ndim=2)
        if block.shape != (cards[i], cards[j]):
            raise ValidationError(
                f"couplings[{key!r}] must have shape ({cards[i]}, {cards[j]}) (the cardinalities of "
                f"{names[i]!r} and {names[j]!r}), got {block.shape}"
            )
        if i > j:
            i, j, block = j, i, block.T
        if (i, j) in blocks:
            raise ValidationError(
                f"couplings gives the edge ({names[i]!r}, {names[j]!r}) twice; add the matrices into one"
            )
        blocks[(i, j)] = block
    order = sorted(blocks)
    edges = np.array(order, dtype=np.int64).reshape(len(order), 2)
    sizes = [cards[i] * cards[j] for i, j in order]
    offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)
    flat = np.concatenate([blocks[edge].ravel() for edge in order]) if order else np.zeros(0)
    return edges, offsets, np.ascontiguousarray(flat, dtype=np.float64)

def check_state_names(state_names, names: tuple[str, ...], cardinalities: np.ndarray) -> tuple[tuple, ...]:
    """The state names of every variable (default ``0 .. k - 1``), each a tuple of str or int."""
    given = {} if state_names is None else state_names
    if not isinstance(given, Mapping):
        raise ParameterTypeError(f"state_names must be a mapping {{variable name: state names}}, got {describe(state_names)}")
    labels = [tuple(range(k)) for k in cardinalities.tolist()]
    for variable, states in given.items():
        i = variable_index(variable, names, "state_names")
        k = int(cardinalities[i])
        if isinstance(states, (str, bytes)) or not isinstance(states, (Sequence, np.ndarray)):
            raise ParameterTypeError(f"state_names[{variable!r}] must be a sequence of {k} names, got {describe(states)}")
        states = list(states)
        if len(states) != k:
            raise ValidationError(f"state_names[{variable!r}] must hold {k} names (the variable's states), got {len(states)}")
        clean = []
        for state in states:
            if isinstance(state, (bool, np.bool_)) or not isinstance(state, (str, numbers.Integral)):
                raise ValidationError(f"state_names[{variable!r}] must be str or int, got {state!r}")
            if isinstance(state, str) and "\x00" in state:
                raise ValidationError(f"state_names[{variable!r}] must not contain the NUL character, got {state!r}")
            clean.append(str(state) if isinstance(state, str) else int(state))
        if len(set(map(repr, clean))) != k:
            raise ValidationError(f"state_names[{variable!r}] must be unique, got {states!r}")
        labels[i] = tuple(clean)
    return tuple(labels)


def file_arrays(model) -> dict[str, np.ndarray]:
    """The members of a Potts machine's model file (state names as text, with a flag for integer names)."""
    labels = [label for states in model.state_names.values() for label in states]
    return {
        "cardinalities": np.array(model.cardinalities, dtype=np.int64),
        "fields": np.concatenate(model.fields),
        "edges": model.edges,
        "couplings": np.concatenate([c.ravel() for c in model.couplings.values()]) if model.n_edges else np.zeros(0),
        "names": np.array(model.names, dtype=str),
        "visible": model.visible,
        "temperature": np.float64(model.temperature),
        "offset": np.float64(model.offset),
        "state_labels": np.array([str(label) for label in labels], dtype=str).reshape(len(labels)),
        "state_label_is_int": np.array([type(label) is int for label in labels], dtype=bool).reshape(len(labels)),
    }

def arguments_from_file(arrays) -> dict:
    """The constructor's arguments from a model file's members, each checked (a damaged file gets a named error)."""
    check_file_members(arrays, _FILE_MEMBERS)
    cardinalities = file_member(arrays, "cardinalities", ndim=1, kinds=INTEGER)
    if cardinalities.size == 0 or np.any(cardinalities < 1) or np.any(cardinalities > 2**31):
        raise ValidationError("the member 'cardinalities' must hold integers from 1 to 2**31")
    total = int(cardinalities.sum())
    fields = file_member(arrays, "fields", ndim=1)
    edges = file_member(arrays, "edges", ndim=2, kinds=INTEGER)
    flat = file_member(arrays, "couplings", ndim=1)
    labels = file_member(arrays, "state_labels", ndim=1, kinds=TEXT)
    is_int = file_member(arrays, "state_label_is_int", ndim=1, kinds=BOOLEAN)
    if fields.shape[0] != total or labels.shape[0] != total or is_int.shape[0] != total:
        raise ValidationError(f"the members 'fields', 'state_labels' and 'state_label_is_int' must hold {total} entries")
    n = cardinalities.shape[0]
    if edges.shape[1:] != (2,) or (edges.size and (edges.min() < 0 or edges.max() >= n)):
        raise ValidationError(f"the member 'edges' must be pairs of variable indices below {n}")
    sizes = cardinalities[edges[:, 0]] * cardinalities[edges[:, 1]] if edges.size else np.zeros(0, dtype=np.int64)
    if int(sizes.sum()) != flat.shape[0]:
        raise ValidationError(f"the member 'couplings' must hold {int(sizes.sum())} entries, got {flat.shape[0]}")
    names = file_names(arrays, "names")
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    couplings = {
        (int(i), int(j)): flat[starts[e]:starts[e + 1]].reshape(int(cardinalities[i]), int(cardinalities[j]))
        for e, (i, j) in enumerate(edges)
    }
    offsets = np.concatenate([[0], np.cumsum(cardinalities)]).astype(np.int64)
    state_names = {}
    if len(names) == n:
        for i in range(n):
            row = []
            for label, integral in zip(labels[offsets[i]:offsets[i + 1]].tolist(), is_int[offsets[i]:offsets[i + 1]].tolist()):
                if integral:
                    try:
                        row.append(int(label))
                    except ValueError:
                        raise ValidationError(f"the state label {label!r} is marked an integer but is not one") from None
                else:
                    row.append(str(label))
            state_names[names[i]] = row
    return dict(
        cardinalities=cardinalities.astype(np.int64).tolist(),
        fields=[fields[offsets[i]:offsets[i + 1]] for i in range(n)],
        couplings=couplings,
        names=names,
        state_names=state_names,
        visible=file_member(arrays, "visible", ndim=1, kinds=BOOLEAN),
        temperature=file_scalar(arrays, "temperature"),
        offset=file_scalar(arrays, "offset"),
    )



def neighbour_lists(n: int, first: np.ndarray, second: np.ndarray, second_cardinality: np.ndarray,
                    block_start: np.ndarray) -> tuple[np.ndarray, ...]:
    """The kernels' neighbour lists of ``n`` variables coupled by stored matrices.

    Parameters
    ----------
    n : int
    first, second : int64 arrays, shape (n_edges,)
        The variables of each edge; its matrix has shape (k_first, k_second), row-major.
    second_cardinality : int64 array, shape (n_edges,)
        ``k_second`` of each edge.
    block_start : int64 array, shape (n_edges,)
        Where each matrix starts in the flat couplings.

    Returns
    -------
    adjacency_start : int64 (n + 1,)
    neighbour, entry_start, stride_self, stride_other : int64 (2 * n_edges,)
        For entry ``t`` of variable ``u`` (``adjacency_start[u] <= t < adjacency_start[u + 1]``):
        ``C(a, b) = couplings[entry_start[t] + a * stride_self[t] + b * stride_other[t]]``, ``a`` the
        state of ``u`` and ``b`` that of ``neighbour[t]`` (one stored matrix serves both variables).
    """
    ones = np.ones_like(second_cardinality)
    owner = np.concatenate([first, second])
    order = np.argsort(owner, kind="stable")  # each variable's entries in edge order
    neighbour = np.concatenate([second, first])[order]
    entry_start = np.concatenate([block_start, block_start])[order]
    stride_self = np.concatenate([second_cardinality, ones])[order]
    stride_other = np.concatenate([ones, second_cardinality])[order]
    adjacency_start = np.concatenate([[0], np.cumsum(np.bincount(owner, minlength=n))]).astype(np.int64)
    return (adjacency_start, neighbour.astype(np.int64), entry_start.astype(np.int64), stride_self.astype(np.int64),
            stride_other.astype(np.int64))
