"""pgmpy-style exact inference on Potts machines: ``query``, ``map_query``, ``most_probable_state``.

:class:`~pgm_energy.inference.ExactInference` hands a :class:`~pgm_energy.models.PottsMachine` to
:class:`PottsExactInference` (its subclass). Answers use state names, as pgmpy's
``VariableElimination`` on ``model.to_markov_network()`` does; MAP answers come from the joint
table of the asked variables (at most 2**20 cells), so they are exact, with ties going to the
first assignment in C order (the first variable most significant).
"""

from __future__ import annotations

import math

import numpy as np

from ._potts_enumeration import check_evidence
from ._validation import MAX_QUERY_VARIABLES, describe
from .exceptions import EvidenceError, ModelSizeError, ParameterTypeError, ValidationError
from .inference import ExactInference

__all__ = ["PottsExactInference"]

#: most cells of a joint table a MAP answer reads
_MAX_CELLS = 2**20


class PottsExactInference(ExactInference):
    """Exact inference on a Potts machine (see :class:`~pgm_energy.inference.ExactInference`).

    ``query`` returns pgmpy ``DiscreteFactor``s with the machine's state names; ``map_query`` and
    ``most_probable_state`` return ``{variable: state name}``; evidence takes state names (or
    indices where the names are strings).
    """

    def _variables(self, variables, evidence) -> tuple[dict[int, int], list[str]]:
        model = self.model
        clamped = check_evidence(model, evidence)
        if variables is None:
            return clamped, [name for i, name in enumerate(model.names) if i not in clamped]
        if isinstance(variables, (str, bytes)) or not isinstance(variables, (list, tuple, np.ndarray)):
            raise ParameterTypeError(f"variables must be a list of variable names, got {describe(variables)}")
        variables = list(variables)
        for name in variables:
            if not isinstance(name, str) or name not in model.names:
                raise EvidenceError(f"variables names {describe(name)}, which is not a variable of the model")
            if model.index(name) in clamped:
                raise EvidenceError(f"variable {name!r} is both queried and given as evidence")
        if len(set(variables)) != len(variables):
            raise ValidationError(f"variables must be distinct, got {variables!r}")
        return clamped, variables

    def _table_mode(self, variables, evidence) -> dict:
        model = self.model
        cells = math.prod(model.cardinalities[model.index(name)] for name in variables)
        if cells > _MAX_CELLS or len(variables) > MAX_QUERY_VARIABLES:
            raise ModelSizeError(
                f"a MAP answer over {len(variables)} variables reads a joint table of {cells:.3g} cells, more than "
                f"{_MAX_CELLS}; ask fewer variables or add evidence"
            )
        factor = self.query(list(variables), evidence=evidence, joint=True)
        cell = np.unravel_index(int(np.argmax(factor.values)), factor.values.shape)
        return {name: factor.state_names[name][int(code)] for name, code in zip(factor.variables, cell)}

    def map_query(self, variables=None, evidence=None, show_progress=False) -> dict:
        """The most probable joint assignment of ``variables`` (others summed out), as state names.

        Parameters
        ----------
        variables : list of str, optional
            Default: every variable not in ``evidence`` (then the joint MAP).
        evidence : dict of str -> state name, optional
        show_progress : bool
            Accepted for compatibility with pgmpy.

        Raises
        ------
        ModelSizeError
            When the joint table of ``variables`` would hold more than 2**20 cells.
        """
        _, variables = self._variables(variables, evidence)
        if not variables:
            return {}
        mode = self._table_mode(variables, evidence)
        return {name: mode[name] for name in variables}

    def most_probable_state(self, variables=None, evidence=None) -> dict:
        """The single most probable state of every unobserved variable, restricted to ``variables``."""
        clamped, asked = self._variables(variables, evidence)
        free = [name for i, name in enumerate(self.model.names) if i not in clamped]
        if not free:
            return {}
        mode = self._table_mode(free, evidence)
        return {name: mode[name] for name in asked}

    def predict(self, data, **options):
        """Refused: the DataFrame predictions are written for 0/1 units (use :meth:`map_query` per row)."""
        raise ValidationError("predict is for binary models; use map_query(variables, evidence) per row of a PottsMachine")

    def predict_probability(self, data, **options):
        """Refused, as :meth:`predict` (use :meth:`query` per row)."""
        raise ValidationError("predict_probability is for binary models; use query(variables, evidence) per row")
