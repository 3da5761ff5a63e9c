"""The Ising form of a Boltzmann machine: spins sigma = 2 s - 1 in {-1, +1}, the energy kept exactly.

``E(sigma) = -1/2 sigma^T J sigma - h^T sigma + offset`` equals the machine's
``E(s) = -1/2 s^T W s - b^T s + offset_bm`` for every state when ``J = W / 4``,
``h = b / 2 + W 1 / 4`` and ``offset = offset_bm - 1' W 1 / 8 - sum(b) / 2``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .._math import is_sparse
from .._validation import check_finite_array
from ..exceptions import ValidationError
from ._base import check_bias
from ._symmetric import check_symmetric_weights

if TYPE_CHECKING:
    import scipy.sparse

__all__ = ["IsingModel", "ising_form", "boltzmann_form"]


class IsingModel(NamedTuple):
    """Ising form of a Boltzmann machine over spins sigma in {-1, +1}.

    ``E(sigma) = -1/2 sigma^T J sigma - h^T sigma + offset``, with ``J``
    symmetric with zero diagonal (so the pair term is ``-sum_{i<j} J_ij sigma_i sigma_j``).
    """

    h: np.ndarray
    J: "np.ndarray | scipy.sparse.csr_array"
    offset: float


def ising_form(weights, biases, offset) -> IsingModel:
    """The Ising form of the machine ``(weights, biases, offset)``; ``J`` keeps the storage (dense or CSR)."""
    row_sums = np.asarray(weights.sum(axis=1)).ravel()
    couplings = weights * 0.25
    fields = 0.5 * biases + 0.25 * row_sums
    offset = offset - 0.125 * row_sums.sum() - 0.5 * biases.sum()
    return IsingModel(fields, couplings, float(offset))


def boltzmann_form(h, J, offset) -> tuple:
    """``(weights, biases, offset)`` of the machine whose energy equals the Ising energy, ``h`` and ``J`` checked.

    Raises
    ------
    ValidationError
        For a ``J`` that is not symmetric with a zero diagonal, an ``h`` of the wrong length,
        or values whose conversion overflows float64.
    """
    couplings = check_symmetric_weights(J, "J")
    n_units = couplings.shape[0]
    fields = check_bias(h, "h", n_units, "J", couplings.shape)
    offset = float(check_finite_array(offset, "offset", ndim=0))
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused by name below
        row_sums = np.asarray(couplings.sum(axis=1)).ravel()
        weights = couplings * 4.0
        biases = 2.0 * fields - 2.0 * row_sums
        bm_offset = offset + 0.5 * row_sums.sum() + fields.sum() - row_sums.sum()
    coupling_values = couplings.data if is_sparse(couplings) else couplings
    weight_values = weights.data if is_sparse(weights) else weights
    if not (np.isfinite(bm_offset) and np.all(np.isfinite(biases)) and np.all(np.isfinite(weight_values))):
        # (the machine's own check refuses large but finite results, naming its weights and biases)
        raise ValidationError(
            "h and J are too large: the machine's W = 4 J and b = 2 h - 2 J 1 overflow float64 (largest |h| = "
            f"{float(np.abs(fields).max())!r}, largest |J| = {float(np.abs(coupling_values).max(initial=0.0))!r}, "
            f"offset={offset!r}); rescale them"
        )
    # offset_bm = offset_ising + 1/8 1'W1 + 1/2 sum(b) with W = 4J, b = 2h - 2J1
    return weights, biases, bm_offset
