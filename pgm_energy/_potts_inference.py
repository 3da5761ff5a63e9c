"""pgmpy-style exact inference on Potts machines: ``query``, ``map_query``, ``most_probable_state``.

:class:`~pgm_energy.inference.ExactInference` and :class:`~pgm_energy.inference.GibbsInference` hand a
:class:`~pgm_energy.models.PottsMachine` to :class:`PottsExactInference` and :class:`PottsGibbsInference`
(their subclasses). Answers use state names, as pgmpy's
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
from .inference import ExactInference, GibbsInference

__all__ = ["PottsExactInference", "PottsGibbsInference"]

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
        if isinstance(variables, (str, bytes)) or not isinstance(variables, (list, tuple, np.ndarray)) \
                or (isinstance(variables, np.ndarray) and variables.ndim != 1):
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


class PottsGibbsInference(GibbsInference):
    """Sampled inference on a Potts machine (see :class:`~pgm_energy.inference.GibbsInference`).

    ``query`` estimates the joint table of the asked variables from the frequencies of their cells
    among Gibbs draws (normalised, state names kept); ``map_query`` returns the most frequent
    assignment the draws visit; ``most_probable_state`` the lowest-energy state over the annealing
    runs. Evidence and answers use state names.
    """

    _variables = PottsExactInference._variables

    def query(self, variables, evidence=None, joint=True, show_progress=False):
        """Estimated posterior over ``variables``: a pgmpy ``DiscreteFactor`` (or a dict of them with ``joint=False``)."""
        from ._validation import check_bool
        from .interop.pgmpy_potts import _categorical_factor

        joint = check_bool(joint, "joint")  # before the sampling it would otherwise follow
        _, variables = self._variables(variables, evidence)
        if not variables:
            raise ValidationError("variables must name at least one variable")
        model = self.model
        states = self._sample(evidence).flat_states()
        names = model.state_names
        if not joint:
            return {name: self._table([name], states, _categorical_factor, names) for name in variables}
        return self._table(list(variables), states, _categorical_factor, names)

    def _table(self, variables, states, build, names):
        model = self.model
        cards = [model.cardinalities[model.index(name)] for name in variables]
        cells = np.zeros(states.shape[0], dtype=np.int64)
        for name, k in zip(variables, cards):
            cells = cells * k + states[:, model.index(name)].astype(np.int64)
        counts = np.bincount(cells, minlength=math.prod(cards)).astype(np.float64)
        return build(variables, cards, (counts / counts.sum()).reshape(cards), {name: names[name] for name in variables})

    def map_query(self, variables=None, evidence=None, show_progress=False) -> dict:
        """The most frequent assignment of ``variables`` among the draws (others summed out), as state names."""
        _, variables = self._variables(variables, evidence)
        if not variables:
            return {}
        model = self.model
        states = self._sample(evidence).flat_states()[:, [model.index(name) for name in variables]]
        candidates, counts = np.unique(states, axis=0, return_counts=True)
        best = candidates[int(np.argmax(counts))]
        return {name: model.state_names[name][int(code)] for name, code in zip(variables, best)}

    def most_probable_state(self, variables=None, evidence=None) -> dict:
        """The lowest-energy state found by the annealing runs, restricted to ``variables`` (state names)."""
        _, asked = self._variables(variables, evidence)
        state = self._anneal(evidence)
        return {name: self.model.state_names[name][int(state[self.model.index(name)])] for name in asked}

    def predict(self, data, **options):
        """Refused, as :meth:`PottsExactInference.predict`."""
        raise ValidationError("predict is for binary models; use map_query(variables, evidence) per row of a PottsMachine")

    def predict_probability(self, data, **options):
        """Refused, as :meth:`PottsExactInference.predict_probability`."""
        raise ValidationError("predict_probability is for binary models; use query(variables, evidence) per row")

    def query_with_errors(self, *args, **kwargs):
        """Refused for Potts machines: use :meth:`query` and the sample set's standard errors."""
        raise ValidationError("query_with_errors is for binary models; use GibbsSampler(...).sample(...).marginal_standard_errors()")
