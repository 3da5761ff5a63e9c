"""A deep belief network compiled into one pgmpy ``DiscreteMarkovNetwork``."""

from __future__ import annotations

import numpy as np

__all__ = ["compile_markov_network"]


def compile_markov_network(dbn):
    """The exact joint distribution of ``dbn`` compiled into one pgmpy ``DiscreteMarkovNetwork``.

    The factors are the top RBM's (one per edge, biases folded in, as
    :func:`pgm_energy.interop.pgmpy.to_markov_network`) and, for every unit of layers
    ``0 .. L - 2``, its sigmoid CPD as a factor over the unit and its parents
    (``TabularCPD.to_factor``); the edges are the top RBM's, each unit's edges to its
    parents and the moralization edges between its parents. Since every CPD sums to one over
    its unit, the product of the factors is ``exp(-E_top) prod_k p(x^(k) | x^(k+1))`` and the
    network's partition function equals the top RBM's ``Z``. Hidden units are ``latents``.

    Raises
    ------
    ModelSizeError
        If a unit has more than 16 parents (its table would exceed 2**16 columns).
    ConversionError
        If a top-RBM factor entry overflows float64 (see the interop function).
    """
    from .pgmpy import to_bayesian_network, to_markov_network

    top = len(dbn.weights)
    directed = dbn.directed_part(np.full(dbn.layer_sizes[top - 1], 0.5))
    bayesian = to_bayesian_network(directed)  # size errors come first, before anything is built
    network = to_markov_network(dbn.top_rbm)
    lower = dbn.names[: dbn._offsets[top - 1]]
    network.add_nodes_from(lower)
    factors = []
    for name in lower:
        parents = list(bayesian.get_parents(name))
        network.add_edges_from((name, parent) for parent in parents)
        network.add_edges_from(
            (parent, other) for a, parent in enumerate(parents) for other in parents[a + 1 :]
        )
        factors.append(bayesian.get_cpds(name).to_factor())
    network.add_factors(*factors)
    network.latents = list(dbn.hidden_names)
    return network
