"""What the statistical asserts are given, read and aligned: draws and target distributions.

Draws come as arrays of state indices, as sample sets of the package, or as pandas frames (pgmpy's
samplers return those, holding state names or indices). Targets come as arrays of probabilities or
as pgmpy ``DiscreteFactor`` s (``VariableElimination.query``, ``exact.query``), which carry their
variables and state names: the draws' columns and states are matched to them by name.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from .._validation import check_int, check_sequence, check_state_names_map, describe
from ..exceptions import ParameterTypeError, StateError, ValidationError

#: most cells one test may have (the counts are a dense array)
MAX_CELLS = 2**24
#: ``Draws.select``'s target when there is none (frequencies only)
NO_TARGET = object()


def probabilities_array(values, name: str) -> np.ndarray:
    """Real float64 probabilities (not yet checked for range or sum), or a ParameterTypeError naming ``name``."""
    if hasattr(values, "nnz") or isinstance(values, (str, bytes, Mapping)):
        raise ParameterTypeError(f"{name} must be an array of probabilities, got {describe(values)}")
    try:
        array = np.asarray(values)
        if np.iscomplexobj(array) or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
            raise TypeError(array.dtype)
        return array.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise ParameterTypeError(f"{name} must be an array of probabilities, got {describe(values)}") from error


def is_factor(target) -> bool:
    """Whether ``target`` is a pgmpy ``DiscreteFactor`` (or quacks like one)."""
    return all(hasattr(target, name) for name in ("variables", "values", "state_names", "cardinality"))


class Draws:
    """Draws of state indices as chains, with the labels of their columns where the input has them.

    Parameters
    ----------
    samples : SampleSet, pandas DataFrame, or array of state indices
        A sample set or a 3-D array (n_chains, n_draws, n_columns) holds chains; a 2-D array
        (n_draws, n_columns) or a frame holds independent rows.

    Attributes
    ----------
    chains : bool
        Whether the rows are chains (their autocorrelation is to be measured).
    labels : list or None
        Column labels: a frame's columns or a sample set's variable names (None for arrays).
    """

    def __init__(self, samples):
        self.frame = None
        self.labels = None
        if hasattr(samples, "states") and hasattr(samples, "info"):  # a SampleSet of the package
            states, self.chains, self.labels = np.asarray(samples.states), True, list(samples.names)
        elif hasattr(samples, "columns") and hasattr(samples, "to_numpy") and hasattr(samples, "iloc"):
            if len(samples) == 0 or len(samples.columns) == 0:
                raise StateError(f"samples must hold draws, got a frame of shape {samples.shape}")
            self.frame, self.chains, self.labels = samples, False, list(samples.columns)
            self.shape = (1, len(samples), len(samples.columns))
            return
        else:
            if samples is None or isinstance(samples, (str, bytes, Mapping)) or not hasattr(samples, "__len__"):
                raise ParameterTypeError(f"samples must be an array of state indices, a SampleSet or a DataFrame, "
                                         f"got {describe(samples)}")
            try:
                states = np.asarray(samples)
            except (TypeError, ValueError) as error:
                raise StateError(f"samples must be an array of state indices, got {describe(samples)}") from error
            self.chains = states.ndim == 3
            if states.ndim == 2:
                states = states[None, :, :]
        if states.ndim != 3 or states.shape[1] == 0 or states.shape[2] == 0:
            raise StateError(
                f"samples must be draws of shape (n_draws, n_variables) or (n_chains, n_draws, n_variables), "
                f"got shape {states.shape}"
            )
        self.states = _indices(states, "samples")
        self.shape = self.states.shape

    # ------------------------------------------------------------------ columns
    def positions(self, variables, factor=None) -> list:
        """Column positions of ``variables`` (labels, or positions where the input has no labels or is not a frame).

        ``None`` means the factor's variables when both sides have names, else every column.
        """
        if variables is None:
            if factor is not None and self.labels is not None:
                variables = list(factor.variables)
            else:
                return list(range(self.shape[2]))
        positions = [self._position(v) for v in check_sequence(variables, "variables")]
        if not positions or len(set(positions)) < len(positions):
            raise ValidationError(f"variables must name distinct columns of samples, got {describe(variables)}")
        return positions

    def _position(self, variable) -> int:
        if self.labels is not None:
            try:
                return self.labels.index(variable)
            except (ValueError, TypeError):
                pass
        if self.frame is None and isinstance(variable, numbers.Integral) and not isinstance(variable, bool):
            position = check_int(variable, "variables", minimum=0)
            if position < self.shape[2]:
                return position
        shown = self.labels[:8] if self.labels is not None else f"0 to {self.shape[2] - 1}"
        raise ValidationError(f"variables: {variable!r} is not a column of samples (columns: {shown})")

    def label(self, position: int):
        return self.labels[position] if self.labels is not None else position

    # ------------------------------------------------------------------ states
    def picked(self, positions: list, state_names: Mapping | None) -> np.ndarray:
        """State indices of the columns at ``positions``, shape (n_chains, n_draws, len(positions))."""
        if self.frame is None:
            return self.states[:, :, positions]
        columns = [self._frame_codes(self.labels[p], (state_names or {}).get(self.labels[p])) for p in positions]
        return np.stack(columns, axis=-1)[None, :, :]

    def _frame_codes(self, label, names) -> np.ndarray:
        """One frame column as state indices: names looked up in ``names``; integers are indices already."""
        column = self.frame[label]
        values = column.to_numpy()
        integers = np.issubdtype(values.dtype, np.integer) or values.dtype == np.bool_
        if names is not None and not (integers and not all(isinstance(n, numbers.Integral) for n in names)):
            lookup = {name: index for index, name in enumerate(names)}
            try:
                codes = np.fromiter((lookup.get(v, -1) for v in values), dtype=np.int64, count=len(values))
            except TypeError as error:  # an unhashable value
                raise StateError(f"samples: column {label!r} holds values that are not states") from error
            unknown = codes < 0
            if unknown.any():
                raise StateError(f"samples: column {label!r} holds {values[unknown][0]!r}, which is not one of its "
                                 f"states {list(names)[:8]}")
            return codes
        if not integers:
            raise StateError(f"samples: column {label!r} holds {values.dtype} values, not state indices: pass "
                             f"state_names={{{label!r}: [...]}} or a pgmpy factor as the target")
        return _indices(values, f"samples column {label!r}")

    # ------------------------------------------------------------------ a test's inputs
    def select(self, variables, target, cardinalities, state_names=None):
        """The picked draws, their labels, cardinalities and target table (None without a target).

        Returns
        -------
        picked : ndarray of int64, shape (n_chains, n_draws, k)
        labels : list, length k
        cards : list of int, length k
        table : ndarray of float64 of shape ``cards``, or None
        """
        if target is None:
            raise ParameterTypeError("target must be an array of probabilities or a pgmpy factor, got None")
        factor = target if is_factor(target) else None
        state_names = _check_state_names(state_names, self.frame is not None)
        positions = self.positions(variables, factor)
        labels = [self.label(p) for p in positions]
        if factor is not None:
            aligned = _aligned_factor(factor, labels if self.labels is not None else None)
            state_names = {**{v: aligned[2][i] for i, v in enumerate(labels)}, **(state_names or {})}
        cards = _cardinalities(cardinalities, len(positions), target, factor, labels, state_names)
        picked = self.picked(positions, state_names)
        if np.any(picked < 0) or np.any(picked >= np.array(cards)):
            raise StateError(f"samples hold states outside the cardinalities {cards} of variables {labels}")
        if target is NO_TARGET:
            return picked, labels, cards, None
        table = _normalised(aligned[0], "target") if factor is not None else _probabilities(target, cards)
        if table.size != int(np.prod(cards)):
            raise ValidationError(f"target must hold {int(np.prod(cards))} probabilities (cardinalities {cards}), "
                                  f"got {table.size}")
        return picked, labels, cards, table.reshape(tuple(cards))


def _indices(values: np.ndarray, name: str) -> np.ndarray:
    if not (np.issubdtype(values.dtype, np.integer) or values.dtype == np.bool_):
        numeric = np.issubdtype(values.dtype, np.number) and not np.iscomplexobj(values)
        if not numeric or not np.all(np.isfinite(values)) or not np.all(np.equal(np.mod(values, 1), 0)):
            raise StateError(f"{name} must hold state indices (integers); real-valued draws need another test")
        if np.abs(values).max() >= 2.0**62:  # no cardinality is that large; the cast would overflow
            raise StateError(f"{name} holds a state index of {np.abs(values).max():g}: not a state of any variable")
    return values.astype(np.int64, copy=False)


def _check_state_names(state_names, frame: bool):
    if state_names is None:
        return None
    checked = check_state_names_map(state_names)
    if not frame:
        raise ValidationError("state_names applies to DataFrame samples (arrays and sample sets hold state indices)")
    return checked


def _aligned_factor(factor, labels):
    """(values, cardinalities, state names) of a pgmpy factor with its axes in the order of ``labels``."""
    variables = list(factor.variables)
    if labels is None:
        order = list(range(len(variables)))
    else:
        missing = [v for v in labels if v not in variables]
        if missing or len(labels) != len(variables):
            raise ValidationError(f"target is a factor over {variables}, not over the tested variables {labels}")
        order = [variables.index(v) for v in labels]
    values = np.transpose(np.asarray(factor.values, dtype=np.float64), order)
    names = [list(factor.state_names.get(variables[i], range(int(factor.cardinality[i])))) for i in order]
    return values, [int(factor.cardinality[i]) for i in order], names


def _cardinalities(cardinalities, k, target, factor, labels, state_names) -> list:
    if cardinalities is None:
        if factor is not None:
            cardinalities = [len(state_names[v]) for v in labels]
        elif state_names and all(v in state_names for v in labels):
            cardinalities = [len(state_names[v]) for v in labels]
        else:
            shape = np.shape(target) if target is not NO_TARGET and not hasattr(target, "nnz") else ()
            cardinalities = list(shape) if len(shape) == k else [2] * k
    cards = [check_int(c, "cardinalities", minimum=1) for c in check_sequence(cardinalities, "cardinalities")]
    if len(cards) != k:
        raise ValidationError(f"cardinalities must give one count per variable ({k}), got {cards}")
    if int(np.prod(cards)) > MAX_CELLS:
        raise ValidationError(f"cardinalities {cards} make {int(np.prod(cards))} cells: test fewer variables")
    return cards


def _probabilities(target, cards) -> np.ndarray:
    """An array target: finite, non-negative, summing to 1 (not normalised for the caller)."""
    table = probabilities_array(target, "target")
    _check_finite(table, "target")
    total = table.sum()
    if not abs(total - 1.0) <= 1e-9:
        raise ValidationError(f"target probabilities must sum to 1, got {total!r}")
    return table


def _normalised(values: np.ndarray, name: str) -> np.ndarray:
    """A factor's values over their sum: pgmpy's factors (a Markov network's VE answer) need not sum to 1."""
    _check_finite(values, name)
    total = values.sum()
    if not total > 0:
        raise ValidationError(f"{name} is a factor of total {total!r}: it defines no distribution")
    return values / total


def _check_finite(values: np.ndarray, name: str) -> None:
    if np.any(values < 0) or not np.all(np.isfinite(values)):
        raise ValidationError(f"{name} must hold finite non-negative probabilities")
