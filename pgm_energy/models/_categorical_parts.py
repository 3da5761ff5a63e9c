"""The parts of :class:`~pgm_energy.models.categorical_rbm.CategoricalRBM` that check its parameters and files.

State names are written to files as :mod:`._potts_parts` writes a Potts machine's: one text
member with every visible state's label (variable after variable) and a boolean member saying
which labels are integers, so a file of either kind reads its names back the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .._validation import check_finite_array, describe
from ..exceptions import ParameterTypeError, ValidationError
from ._base import BOOLEAN, INTEGER, TEXT, check_file_members, file_member, file_names, file_scalar
from ._potts_parts import check_cardinalities, check_state_names

__all__ = ["check_visible_cardinalities", "check_weights", "check_visible_state_names", "segment_softmax", "file_arrays",
           "arguments_from_file"]

FILE_MEMBERS = ("weights", "visible_bias", "hidden_bias", "cardinalities", "visible_names", "hidden_names",
                "state_labels", "state_label_is_int", "temperature")


#: most visible states (sum of the cardinalities) a machine may have: far beyond any array that fits
#: in memory, and low enough that the sum of the cardinalities never wraps around in int64
MAX_VISIBLE_STATES = 2**48


def check_visible_cardinalities(cardinalities) -> np.ndarray:
    """:func:`._potts_parts.check_cardinalities`, with a bound on their sum: read-only int64, shape (n_visible,).

    The int64 array of the cardinalities cannot hold an integer of 2**63 or more, and a sum beyond
    it would wrap around (to 0 rows of weights); both are a ``ValidationError`` here.
    """
    try:
        cards = check_cardinalities(cardinalities)
    except OverflowError:
        raise ValidationError(
            f"cardinalities must be integers from 1 to {MAX_VISIBLE_STATES}, got {describe(cardinalities)}"
        ) from None
    total = sum(cards.tolist())  # Python ints: no wrap-around
    if total > MAX_VISIBLE_STATES:
        raise ValidationError(
            f"cardinalities sum to {total} visible states, more than the {MAX_VISIBLE_STATES} allowed "
            "(each state is a row of the weights)"
        )
    return cards


def check_weights(weights, cardinalities: np.ndarray) -> np.ndarray:
    """The finite float64 weights, shape ``(sum(k), n_hidden)``: one row per state of each visible variable."""
    weights = check_finite_array(weights, "weights", ndim=2)
    total = int(cardinalities.sum())
    if weights.shape[0] != total:
        raise ValidationError(
            f"weights must have one row per visible state, sum(cardinalities) = {total} rows for cardinalities "
            f"{describe(cardinalities.tolist())}, got shape {weights.shape}"
        )
    if weights.shape[1] == 0:
        raise ValidationError(f"weights must have at least one hidden unit (column), got shape {weights.shape}")
    return weights


def check_visible_state_names(state_names, visible_names: tuple[str, ...], hidden_names: tuple[str, ...],
                              cardinalities: np.ndarray) -> tuple[tuple, ...]:
    """The state names of the visible variables (default ``0 .. k - 1``), each a tuple of str or int.

    Hidden units are binary with the states 0 and 1 and take no names: a key naming one is refused
    here, before :func:`._potts_parts.check_state_names` would call it an unknown variable.
    """
    if isinstance(state_names, Mapping):
        hidden = [key for key in state_names if isinstance(key, str) and key in hidden_names]
        if hidden:
            raise ValidationError(
                f"state_names names the hidden units {hidden[:5]!r}; hidden units are binary, with the states 0 and 1, "
                "and only visible variables take state names"
            )
    elif state_names is not None:
        raise ParameterTypeError(
            f"state_names must be a mapping {{variable name: state names}}, got {describe(state_names)}"
        )
    return check_state_names(state_names, visible_names, cardinalities)


def segment_softmax(z: np.ndarray, field_offsets: np.ndarray) -> np.ndarray:
    """The softmax of each variable's slice of the rows of ``z``.

    Parameters
    ----------
    z : float64 array, shape (n_rows, sum(k))
        Variable ``i``'s states at ``field_offsets[i] .. field_offsets[i + 1] - 1``.
    field_offsets : int64 array, shape (n_variables + 1,)
        Every variable has at least one state (no empty slice).

    Returns
    -------
    ndarray, shape (n_rows, sum(k))
    """
    starts = field_offsets[:-1]
    sizes = np.diff(field_offsets)
    # shifting each slice by its own maximum keeps every exp in (0, 1]
    shifted = np.exp(z - np.repeat(np.maximum.reduceat(z, starts, axis=1), sizes, axis=1))
    return shifted / np.repeat(np.add.reduceat(shifted, starts, axis=1), sizes, axis=1)


def file_arrays(model) -> dict[str, np.ndarray]:
    """The members of a categorical RBM's model file."""
    labels = [label for name in model.visible_names for label in model.state_names[name]]
    return {
        "weights": model.weights,
        "visible_bias": model.visible_bias,
        "hidden_bias": model.hidden_bias,
        "cardinalities": np.array(model.cardinalities, dtype=np.int64),
        "visible_names": np.array(model.visible_names, dtype=str),
        "hidden_names": np.array(model.hidden_names, dtype=str),
        "state_labels": np.array([str(label) for label in labels], dtype=str).reshape(len(labels)),
        "state_label_is_int": np.array([type(label) is int for label in labels], dtype=bool).reshape(len(labels)),
        "temperature": np.float64(model.temperature),
    }


def arguments_from_file(arrays) -> dict:
    """The constructor's arguments from a model file's members, each checked (a damaged file gets a named error)."""
    check_file_members(arrays, FILE_MEMBERS)
    cardinalities = file_member(arrays, "cardinalities", ndim=1, kinds=INTEGER)
    if cardinalities.size == 0 or np.any(cardinalities < 1) or np.any(cardinalities > 2**31):
        raise ValidationError("the member 'cardinalities' must hold integers from 1 to 2**31")
    total = int(cardinalities.astype(np.int64).sum())
    labels = file_member(arrays, "state_labels", ndim=1, kinds=TEXT)
    is_int = file_member(arrays, "state_label_is_int", ndim=1, kinds=BOOLEAN)
    if labels.shape[0] != total or is_int.shape[0] != total:
        raise ValidationError(f"the members 'state_labels' and 'state_label_is_int' must hold sum(cardinalities) = "
                              f"{total} entries, got {labels.shape[0]} and {is_int.shape[0]}")
    visible_names = file_names(arrays, "visible_names")
    n = cardinalities.shape[0]
    offsets = np.concatenate([[0], np.cumsum(cardinalities.astype(np.int64))])
    state_names = {}
    if len(visible_names) == n:  # otherwise the constructor names the mismatch
        for i, name in enumerate(visible_names):
            row = []
            for label, integral in zip(labels[offsets[i]:offsets[i + 1]].tolist(),
                                       is_int[offsets[i]:offsets[i + 1]].tolist()):
                if integral:
                    try:
                        row.append(int(label))
                    except ValueError:
                        raise ValidationError(
                            f"the state label {label!r} is marked an integer but is not one"
                        ) from None
                else:
                    row.append(str(label))
            state_names[name] = row
    return dict(
        weights=file_member(arrays, "weights", ndim=2),
        visible_bias=file_member(arrays, "visible_bias", ndim=1),
        hidden_bias=file_member(arrays, "hidden_bias", ndim=1),
        cardinalities=cardinalities.astype(np.int64).tolist(),
        visible_names=visible_names,
        hidden_names=file_names(arrays, "hidden_names"),
        state_names=state_names,
        temperature=file_scalar(arrays, "temperature"),
    )
