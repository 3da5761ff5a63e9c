"""Argument checks of the public Boltzmann-learning functions (:mod:`pgm_energy.learning.boltzmann`).

The public functions check their arguments here and call the unchecked bodies of
``_boltzmann_graph``, ``_boltzmann_chains`` and ``_boltzmann_gradient``, which the trainer uses
directly on arrays it built itself.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import check_finite_array, check_int, check_states, check_vector, describe
from ..exceptions import ParameterTypeError, StateError, ValidationError
from ..models import BoltzmannMachine
from ._boltzmann_chains import BoltzmannChains
from ._boltzmann_graph import BoltzmannGraph, edges_graph
from ._trainer import check_nonnegative_float

__all__ = [
    "MAX_CHAIN_ENTRIES", "MAX_SWEEPS", "as_array", "check_machine", "check_mask", "check_graph", "check_parameters",
    "check_edges", "check_biases_beta", "check_states_of", "check_data_rows", "check_sweeps", "check_chain_memory", "check_chains",
    "check_batch", "check_choice", "check_storage", "visible_mask",
]

#: largest number of chain entries (bytes) new_chains allocates
MAX_CHAIN_ENTRIES = 2**31
#: most sweeps per call (the kernels take one temperature per sweep: 8 MiB of them)
MAX_SWEEPS = 2**20


def as_array(values):
    """``values`` as an ndarray when it is an ndarray, list or tuple NumPy can read; else None."""
    if not isinstance(values, (np.ndarray, list, tuple)):
        return None
    try:
        return np.asarray(values)
    except (ValueError, TypeError):  # ragged
        return None


def check_machine(model, name: str) -> None:
    if not isinstance(model, BoltzmannMachine):
        raise ParameterTypeError(f"{name} must be a BoltzmannMachine, got {describe(model)}")


def check_mask(visible, n_units: int, name: str) -> np.ndarray:
    """A boolean mask of shape (n_units,) (a copy)."""
    array = as_array(visible)
    if array is None or array.dtype != np.bool_ or array.shape != (n_units,):
        raise ValidationError(f"{name} must be a boolean mask of shape ({n_units},), got {describe(visible)}")
    return array.copy()


def check_graph(graph) -> BoltzmannGraph:
    """``graph`` rebuilt from its edges and visible units, which must reproduce every field."""
    if not isinstance(graph, BoltzmannGraph):
        raise ParameterTypeError(
            f"graph must be a BoltzmannGraph (from prepare_graph or graph_from_edges), got {describe(graph)}"
        )
    n_units = check_int(graph.n_units, "graph.n_units", minimum=1)
    visible = np.asarray(graph.visible) if isinstance(graph.visible, np.ndarray) else None
    if visible is None or visible.ndim != 1 or (visible.size and (
            visible.dtype.kind not in "iu" or visible.min() < 0 or visible.max() >= n_units)):
        raise ValidationError(f"graph.visible must be a 1-d array of unit indices below {n_units}")
    mask = np.zeros(n_units, dtype=bool)
    mask[visible] = True
    rebuilt = edges_graph(*check_edges(n_units, graph.rows, graph.cols, mask))
    for field in BoltzmannGraph._fields:
        if not np.array_equal(np.asarray(getattr(graph, field)), np.asarray(getattr(rebuilt, field))):
            raise ValidationError(f"graph.{field} does not match the graph's edges (build it with prepare_graph)")
    return rebuilt


def check_edges(n_units, rows, cols, visible) -> tuple:
    """``(n_units, rows, cols, visible)`` checked for :func:`~._boltzmann_graph.edges_graph` (int64 edges, a mask copy)."""
    n_units = check_int(n_units, "n_units", minimum=1)
    if n_units > MAX_CHAIN_ENTRIES:  # not one chain would fit; also keeps rows * n_units + cols in int64
        raise ValidationError(f"n_units must be an integer from 1 to {MAX_CHAIN_ENTRIES}, got {n_units}")
    edges = []
    for name, values in (("rows", rows), ("cols", cols)):
        array = as_array(values)
        if array is None or array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
            raise ValidationError(f"{name} must be a 1-d sequence of unit indices, got {describe(values)}")
        edges.append(array.astype(np.int64))
    rows, cols = edges
    if rows.shape != cols.shape:
        raise ValidationError(f"rows and cols must have one length, got {rows.shape[0]} and {cols.shape[0]}")
    if rows.size and not (rows.min() >= 0 and (cols > rows).all() and cols.max() < n_units):
        raise ValidationError(f"edges (rows[e], cols[e]) must satisfy 0 <= rows[e] < cols[e] < n_units={n_units}")
    key = rows * n_units + cols
    if rows.size > 1 and not (np.diff(key) > 0).all():
        raise ValidationError("edges must be distinct and in row-major order (sorted by row, then column)")
    return n_units, rows, cols, check_mask(visible, n_units, "visible")


def check_biases_beta(graph: BoltzmannGraph, biases, beta):
    biases = check_vector(biases, "biases", graph.n_units)
    return biases, check_nonnegative_float(beta, "beta", strict=True)


def check_parameters(graph, edge_weights, biases, beta):
    graph = check_graph(graph)
    edge_weights = check_vector(edge_weights, "edge_weights", graph.n_edges)
    biases, beta = check_biases_beta(graph, biases, beta)
    return graph, edge_weights, biases, beta


def check_states_of(states, n_columns: int, name: str, *, allow_empty: bool = True) -> np.ndarray:
    """A 2-D array of 0/1 with ``n_columns`` columns, as uint8."""
    raw = as_array(states)
    if raw is None or raw.ndim != 2:
        raise StateError(f"{name} must be a 2-D array of 0/1 with {n_columns} columns, got {describe(states)}")
    array, _ = check_states(raw, n_columns, name)
    if not allow_empty and array.shape[0] == 0:
        raise ValidationError(f"{name} must hold at least one row, got shape {array.shape}")
    return array.astype(np.uint8)


def check_data_rows(data, graph, name: str, *, allow_empty: bool) -> np.ndarray:
    return check_states_of(data, graph.visible.shape[0], name, allow_empty=allow_empty)


def check_sweeps(sweeps, name: str, minimum: int, n_recorded: int = 0) -> int:
    """Sweeps >= minimum, at most :data:`MAX_SWEEPS`, and a recorded output that fits in memory."""
    sweeps = check_int(sweeps, name, minimum=minimum)
    if sweeps > MAX_SWEEPS or sweeps * n_recorded > MAX_CHAIN_ENTRIES:
        raise ValidationError(
            f"{name}={sweeps} is too many: at most {MAX_SWEEPS}, and the recorded states (sweeps x rows x units) "
            f"at most {MAX_CHAIN_ENTRIES}"
        )
    return sweeps


def check_chain_memory(n_entries: int) -> None:
    if n_entries > MAX_CHAIN_ENTRIES:
        raise ValidationError(f"n_clamped and n_chains ask for {n_entries} chain entries, more than {MAX_CHAIN_ENTRIES}")


def check_chains(chains, graph: BoltzmannGraph) -> BoltzmannChains:
    """The chains themselves (they are updated in place), after checking every array."""
    if not isinstance(chains, BoltzmannChains):
        raise ParameterTypeError(f"chains must be BoltzmannChains (from new_chains), got {describe(chains)}")
    for states, streams, name in ((chains.clamped, chains.clamped_streams, "clamped"),
                                  (chains.fantasy, chains.fantasy_streams, "fantasy")):
        if not (isinstance(states, np.ndarray) and states.dtype == np.uint8 and states.ndim == 2
                and states.shape[1] == graph.n_units and states.flags.c_contiguous and states.flags.writeable):
            raise ValidationError(f"chains.{name} must be a writeable C-contiguous uint8 array with {graph.n_units} columns")
        if not ((states == 0) | (states == 1)).all():
            raise StateError(f"chains.{name} must hold 0/1 unit states")
        if not (isinstance(streams, np.ndarray) and streams.dtype == np.uint64 and streams.shape == (states.shape[0],)
                and streams.flags.writeable and streams.all()):
            raise ValidationError(f"chains.{name}_streams must be {states.shape[0]} non-zero uint64 stream states")
    if chains.fantasy.shape[0] == 0:
        raise ValidationError("chains.fantasy must hold at least one chain")
    return chains


def check_batch(batch, rows, graph, chains, name: str):
    """The batch as uint8 0/1 and its clamped-chain rows (distinct, in range), as int64."""
    batch = check_data_rows(batch, graph, name, allow_empty=True)
    array = as_array(rows)
    if array is None or array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise ValidationError(f"rows must be a 1-d array of clamped-chain indices, got {describe(rows)}")
    rows = array.astype(np.int64)
    if rows.shape[0] != batch.shape[0]:
        raise ValidationError(f"rows must name one clamped chain per row of {name} ({batch.shape[0]}), got {rows.shape[0]}")
    n_clamped = chains.clamped.shape[0]
    if rows.size and (rows.min() < 0 or rows.max() >= n_clamped or np.unique(rows).size != rows.size):
        raise ValidationError(f"rows must be distinct clamped-chain indices below {n_clamped}")
    return batch, rows


def check_choice(value, name: str, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(f"{name} must be one of {', '.join(map(repr, choices))}, got {describe(value)}")
    return value


def check_storage(storage, graph: BoltzmannGraph) -> tuple:
    """``storage`` (the 5-tuple of kernel weights) checked against ``graph``; the arrays the kernels may read."""
    if not isinstance(storage, tuple) or len(storage) != 5:
        raise ParameterTypeError(f"storage must be the 5-tuple of kernel_weights(graph, edge_weights), got {describe(storage)}")
    indptr, indices, data, dense_w, dense = storage
    if dense is not graph.dense:
        raise ValidationError(f"storage must be {'dense' if graph.dense else 'CSR'} weights, as graph.dense says")
    if dense:
        weights = check_finite_array(dense_w, "storage weights", ndim=2)
        if weights.shape != (graph.n_units,) * 2 or not np.array_equal(weights, weights.T):
            raise ValidationError(f"storage weights must be a symmetric ({graph.n_units}, {graph.n_units}) matrix")
        storage = (indptr, indices, data, weights, True)
    else:
        if not (isinstance(indptr, np.ndarray) and np.array_equal(indptr, graph.indptr)
                and isinstance(indices, np.ndarray) and np.array_equal(indices, graph.indices)):
            raise ValidationError("storage must hold the CSR pattern of graph (indptr, indices)")
        storage = (graph.indptr, graph.indices, check_vector(data, "storage data", graph.indices.shape[0]), dense_w, False)
    return storage


def visible_mask(model, visible) -> np.ndarray:
    """The mask of :func:`pgm_energy.learning.boltzmann.resolve_visible`."""
    check_machine(model, "model")
    n_units = model.n_units
    if visible is None:
        mask = np.array(model.visible, dtype=bool)
    else:
        if not isinstance(visible, (list, tuple, np.ndarray)) or (isinstance(visible, np.ndarray) and visible.ndim != 1):
            raise ParameterTypeError(
                f"visible must be a 1-d sequence of unit names or indices (or a boolean mask), got {describe(visible)}"
            )
        items = list(np.asarray(visible).tolist()) if isinstance(visible, np.ndarray) else list(visible)
        array = as_array(visible) if len(items) else np.zeros(0, dtype=np.int64)
        if array is None:  # ragged: some item is itself a sequence
            raise ParameterTypeError(f"visible must hold unit names or integer indices, got {describe(visible)}")
        if array.dtype == np.bool_:
            if array.shape != (n_units,):
                raise ValidationError(f"visible as a boolean mask must have shape ({n_units},), got {array.shape}")
            mask = array.copy()
        else:
            indices = []
            for item in items:
                if isinstance(item, str):
                    if item not in model.names:
                        raise ValidationError(f"visible names {item!r}, which is not a unit of the model")
                    indices.append(model.names.index(item))
                elif isinstance(item, numbers.Integral) and not isinstance(item, (bool, np.bool_)):
                    if not 0 <= int(item) < n_units:
                        raise ValidationError(f"visible index {item!r} is out of range for {n_units} units")
                    indices.append(int(item))
                else:
                    raise ParameterTypeError(f"visible must hold unit names or integer indices, got {describe(item)}")
            if len(set(indices)) != len(indices):
                raise ValidationError(f"visible must not repeat a unit, got {describe(visible)}")
            if indices != sorted(indices):
                raise ValidationError(
                    f"visible must list units in the model's order (the data's columns follow it), got {describe(visible)}"
                )
            mask = np.zeros(n_units, dtype=bool)
            mask[indices] = True
    if not mask.any():
        raise ValidationError("visible must name at least one unit (the data has to be clamped somewhere)")
    return mask
