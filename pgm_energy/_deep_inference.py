"""pgmpy-style exact and Gibbs inference on deep Boltzmann machines, through their bipartite embedding.

:class:`~pgm_energy.inference.ExactInference` and :class:`~pgm_energy.inference.GibbsInference` hand a
:class:`~pgm_energy.models.DeepBoltzmannMachine` to the subclasses here. A deep machine *is* an RBM
once its units are reordered (:meth:`~pgm_energy.models.DeepBoltzmannMachine.to_bipartite_rbm`: the even
layers one side, the odd layers the other), so every primitive of the engines is the RBM engine's,
with unit indices translated both ways: exact answers enumerate the smaller parity and sum the other
in closed form; annealing runs on the RBM; Gibbs draws come from the two-colour block sampler.
Answers are in the deep machine's own unit order and names.
"""

from __future__ import annotations

import numpy as np

from .inference import ExactInference, GibbsInference

__all__ = ["BipartiteView", "DeepExactInference", "DeepGibbsInference"]


class BipartiteView:
    """A deep machine's bipartite RBM and the translation of unit indices between the two.

    Attributes
    ----------
    rbm : RestrictedBoltzmannMachine
        ``model.to_bipartite_rbm()`` (same names, energies and distribution).
    to_rbm : ndarray of int, shape (n_units,)
        ``to_rbm[i]`` is the RBM index of the deep machine's unit ``i``.
    """

    def __init__(self, model):
        self.rbm = model.to_bipartite_rbm()
        order = np.concatenate([model._parity_units(0), model._parity_units(1)])  # RBM index -> model index
        self.to_rbm = np.empty_like(order)
        self.to_rbm[order] = np.arange(order.shape[0])

    def clamped(self, clamped: dict[int, int]) -> dict[int, int]:
        """Evidence keyed by model index, keyed by RBM index."""
        return {int(self.to_rbm[unit]): value for unit, value in clamped.items()}

    def units(self, units: list[int]) -> list[int]:
        """Model indices as RBM indices, same order."""
        return [int(self.to_rbm[unit]) for unit in units]

    def state(self, rbm_state: np.ndarray) -> np.ndarray:
        """A state of every RBM unit (RBM order) in the model's unit order."""
        return rbm_state[self.to_rbm]


class DeepExactInference(ExactInference):
    """Exact inference on a deep Boltzmann machine (see :class:`~pgm_energy.inference.ExactInference`).

    ``max_units`` bounds the smaller free parity (the units of ``h1, h3, ...`` or of ``v, h2, ...``
    not in the evidence): the other one is summed in closed form.
    """

    def __init__(self, model, **options):
        super().__init__(model, **options)
        self._view = BipartiteView(model)
        self._inner = ExactInference(self._view.rbm, max_units=self.max_units)

    def _joint_mode(self, clamped):
        return self._view.state(self._inner._joint_mode(self._view.clamped(clamped)))

    def _marginal_mode(self, clamped, targets):
        return self._inner._marginal_mode(self._view.clamped(clamped), self._view.units(targets))

    def _row_probabilities(self, clamped, targets):
        return self._inner._row_probabilities(self._view.clamped(clamped), self._view.units(targets))


class DeepGibbsInference(GibbsInference):
    """Gibbs inference on a deep Boltzmann machine (see :class:`~pgm_energy.inference.GibbsInference`).

    Draws come from the two-colour block sampler (all odd layers given the even ones, then all
    even layers), in the deep machine's unit order; annealing runs on the bipartite RBM.
    """

    def __init__(self, model, **options):
        super().__init__(model, **options)
        self._view = BipartiteView(model)

    def _anneal(self, evidence) -> np.ndarray:
        from .samplers.annealing import SimulatedAnnealingSampler

        sampler = SimulatedAnnealingSampler(**self._annealing_options)
        result = sampler.sample(self._view.rbm, self.n_annealing_runs, evidence=evidence or None, rng=self._rng,
                                progress=False)
        states, _ = result.lowest()
        return self._view.state(states[0])
