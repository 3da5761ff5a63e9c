"""D-Wave Ocean interop: binary quadratic models and a ``dimod.Sampler`` around the annealer.

dimod (the optional extra ``dimod``: ``pip install 'pgm-energy[dimod]'``) is imported
only when one of these functions is called, or when :class:`BoltzmannSampler` is
first looked up.

Conventions
-----------
pgm_energy writes energies with minus signs; dimod with plus signs::

    pgm_energy, units s in {0,1}:      E(s) = -1/2 s^T W s - b^T s + offset
    dimod BINARY (QUBO):               E(s) = sum_i a_i s_i + sum_{i<j} q_ij s_i s_j + offset
    pgm_energy Ising (to_ising()):     E(sigma) = -1/2 sigma^T J sigma - h^T sigma + offset
    dimod SPIN (Ising):                E(sigma) = sum_i h'_i sigma_i + sum_{i<j} J'_ij sigma_i sigma_j + offset

so ``a = -b``, ``q_ij = -W_ij``, ``h' = -h``, ``J'_ij = -J_ij``, and the offset is
carried unchanged: a model and its binary quadratic model give every state the
same energy. A binary quadratic model has no temperature and no visible/hidden
split, so :func:`to_bqm` drops them and :func:`from_bqm` takes the temperature
as an argument.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._validation import check_positive_temperature, describe
from ..exceptions import ConversionError, ParameterTypeError, ValidationError
from ..models import BoltzmannMachine, RestrictedBoltzmannMachine

__all__ = ["to_bqm", "from_bqm", "BoltzmannSampler"]

#: like :func:`pgm_energy.interop.networkx.from_networkx`: sparse weights above this many units
_SPARSE_ABOVE = 2048


def _import_dimod():
    try:
        import dimod
    except ImportError as error:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "pgm_energy.interop.dimod needs dimod (D-Wave Ocean): pip install 'pgm-energy[dimod]'"
        ) from error
    return dimod


def _as_vartype(vartype):
    dimod = _import_dimod()
    try:
        return dimod.as_vartype(vartype)
    except (TypeError, ValueError) as error:
        raise ValidationError(f"vartype must be 'BINARY' or 'SPIN', got {describe(vartype)}") from error


def _upper_triangle(weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and values of the strict upper triangle (each edge once), dense or CSR input."""
    if sp.issparse(weights):
        upper = sp.triu(sp.csr_array(weights), k=1, format="coo")
        return upper.row.astype(np.int64), upper.col.astype(np.int64), np.asarray(upper.data, dtype=np.float64)
    rows, cols = np.nonzero(np.triu(weights, 1))
    return rows.astype(np.int64), cols.astype(np.int64), np.asarray(weights[rows, cols], dtype=np.float64)


def to_bqm(model, *, vartype="BINARY"):
    """The model's energy function as a ``dimod.BinaryQuadraticModel``.

    Parameters
    ----------
    model : BoltzmannMachine or RestrictedBoltzmannMachine
        An RBM is converted through its BM embedding (visible units first).
    vartype : {"BINARY", "SPIN"} or dimod.Vartype, default "BINARY"
        ``BINARY``: variables are the units ``s in {0, 1}`` (a QUBO). ``SPIN``:
        variables are ``sigma = 2 s - 1`` and the biases come from
        :meth:`BoltzmannMachine.to_ising`.

    Returns
    -------
    dimod.BinaryQuadraticModel
        Variables are the unit names, in the model's order; for every state its
        ``energy`` equals ``model.energy`` (offset included). Sparse weights
        stay sparse (no ``n_units**2`` array is formed). The model's temperature
        and visible mask are not part of a binary quadratic model.

    Raises
    ------
    ParameterTypeError
        For a model that is not a Boltzmann machine.
    ValidationError
        For an unknown ``vartype``.

    Examples
    --------
    >>> from pgm_energy import BoltzmannMachine
    >>> from pgm_energy.interop.dimod import to_bqm
    >>> bm = BoltzmannMachine([[0.0, 1.5], [1.5, 0.0]], [-0.5, 0.25], names=["a", "b"])
    >>> bqm = to_bqm(bm)
    >>> float(bqm.energy({"a": 1, "b": 1})), float(bm.energy([1, 1]))
    (-1.25, -1.25)
    """
    dimod = _import_dimod()
    if isinstance(model, RestrictedBoltzmannMachine):
        model = model.to_boltzmann_machine()
    if not isinstance(model, BoltzmannMachine):
        raise ParameterTypeError(
            f"model must be a BoltzmannMachine or RestrictedBoltzmannMachine, got {type(model).__name__}: {describe(model)}"
        )
    vartype = _as_vartype(vartype)
    if vartype is dimod.SPIN:
        fields, couplings, offset = model.to_ising()
        linear = -np.asarray(fields, dtype=np.float64)
        rows, cols, values = _upper_triangle(couplings)
    else:
        linear = -np.asarray(model.biases, dtype=np.float64)
        rows, cols, values = _upper_triangle(model.weights)
        offset = model.offset
    return dimod.BinaryQuadraticModel.from_numpy_vectors(
        linear, (rows, cols, -values), float(offset), vartype, variable_order=list(model.names)
    )


def _bqm_arrays(bqm, variables: list):
    """``(linear, (rows, cols, values), offset)`` of ``bqm`` in ``variables`` order, float64, each edge once."""
    linear, (rows, cols, values), offset = bqm.to_numpy_vectors(variable_order=variables)
    return (
        np.asarray(linear, dtype=np.float64),
        (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64), np.asarray(values, dtype=np.float64)),
        float(offset),
    )


def _machine_from_arrays(dimod, vartype, linear, quadratic, offset, *, names, temperature, sparse) -> BoltzmannMachine:
    """The machine whose energy equals the dimod energy ``linear . x + sum q_ij x_i x_j + offset``."""
    n = linear.shape[0]
    rows, cols, values = quadratic
    # dimod gives each interaction once; -q on both (i, j) and (j, i) makes the symmetric W (or J)
    symmetric = sp.coo_array(
        (np.concatenate([-values, -values]), (np.concatenate([rows, cols]), np.concatenate([cols, rows]))),
        shape=(n, n),
    ).tocsr()
    weights = symmetric if sparse else symmetric.toarray()
    if vartype is dimod.SPIN:
        return BoltzmannMachine.from_ising(-linear, weights, offset, names=names, temperature=temperature)
    return BoltzmannMachine(weights, -linear, names=names, temperature=temperature, offset=offset)


def _check_bqm(bqm):
    dimod = _import_dimod()
    if not isinstance(bqm, dimod.BinaryQuadraticModel):
        raise ParameterTypeError(f"bqm must be a dimod.BinaryQuadraticModel, got {type(bqm).__name__}: {describe(bqm)}")
    if bqm.vartype not in (dimod.BINARY, dimod.SPIN):  # pragma: no cover - dimod has no other BQM vartype
        raise ConversionError(f"bqm must have vartype BINARY or SPIN, got {bqm.vartype!r}")
    return dimod


def from_bqm(bqm, *, temperature=1.0, sparse=None) -> BoltzmannMachine:
    """The Boltzmann machine with the energy function of a binary quadratic model.

    Parameters
    ----------
    bqm : dimod.BinaryQuadraticModel
        BINARY (variables are the units) or SPIN (variables are ``sigma = 2 s - 1``;
        the machine is built with :meth:`BoltzmannMachine.from_ising`). Variable
        labels must be non-empty strings; they become the unit names, in the
        bqm's variable order.
    temperature : float > 0, default 1.0
        Temperature of the machine (a bqm has none).
    sparse : bool, optional
        Store the weights as CSR (default: when there are more than 2048
        variables). Sparse conversion never forms an ``n**2`` array.

    Returns
    -------
    BoltzmannMachine
        All units visible; ``energy`` of each state equals ``bqm.energy`` of the
        corresponding sample (offset included).

    Raises
    ------
    ParameterTypeError
        If ``bqm`` is not a ``dimod.BinaryQuadraticModel``.
    ConversionError
        For an empty bqm, or variable labels that are not non-empty strings
        (relabel first, e.g. ``bqm.relabel_variables({v: f"x{v}" for v in bqm.variables}, inplace=False)``).

    Examples
    --------
    >>> import dimod
    >>> from pgm_energy.interop.dimod import from_bqm
    >>> bqm = dimod.BinaryQuadraticModel({"a": 1.0}, {("a", "b"): -2.0}, 0.5, "BINARY")
    >>> bm = from_bqm(bqm)
    >>> float(bm.energy([1, 1])), float(bqm.energy({"a": 1, "b": 1}))
    (-0.5, -0.5)
    """
    dimod = _check_bqm(bqm)
    temperature = check_positive_temperature(temperature)
    if sparse is not None and not isinstance(sparse, (bool, np.bool_)):
        raise ParameterTypeError(f"sparse must be None, True or False, got {describe(sparse)}")
    variables = list(bqm.variables)
    if not variables:
        raise ConversionError("bqm has no variables; a BoltzmannMachine needs at least one unit")
    for label in variables:
        if not isinstance(label, str) or not label or "\x00" in label:
            raise ConversionError(
                f"bqm variable labels must be non-empty strings to become unit names, got {label!r} "
                f"({type(label).__name__}); relabel first, for example "
                "bqm.relabel_variables({v: f'x{v}' for v in bqm.variables}, inplace=False)"
            )
    linear, quadratic, offset = _bqm_arrays(bqm, variables)
    if sparse is None:
        sparse = len(variables) > _SPARSE_ABOVE
    return _machine_from_arrays(
        dimod, bqm.vartype, linear, quadratic, offset, names=variables, temperature=temperature, sparse=bool(sparse)
    )


def __getattr__(name):
    # BoltzmannSampler subclasses dimod.Sampler, so it is built (and dimod imported) on first use.
    if name == "BoltzmannSampler":
        _import_dimod()
        from ._dimod_sampler import BoltzmannSampler

        return BoltzmannSampler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
