"""Sampling of belief networks: ancestral draws and Gibbs sampling of posteriors.

- :func:`ancestral_sample`: independent draws of a :class:`~pgm_energy.SigmoidBeliefNetwork`, top
  layer first, each layer given the one above.
- :func:`deep_belief_sample`: draws of a :class:`~pgm_energy.DeepBeliefNetwork`: block Gibbs in its
  top RBM (:class:`~pgm_energy.samplers.GibbsSampler`), then one ancestral pass down.
- :func:`gibbs_posterior`: ``p(x | evidence)`` of either network by single-site Gibbs sampling over
  each unit's Markov blanket (Numba kernels :mod:`pgm_energy._kernels.sigmoid_belief` and
  :mod:`pgm_energy._kernels.deep_belief`; one xorshift stream per chain, so the draws do not
  depend on the thread count).
- :func:`gibbs_query`: a deep belief network's query answered from :func:`gibbs_posterior` draws.

The model methods ``sample``, ``gibbs_posterior`` and ``query(method="gibbs")`` hand off here.
"""

from __future__ import annotations

import time

import numpy as np

from .._math import sigmoid
from .._validation import check_array_size, check_evidence, check_int, check_rng, check_sweeps, describe
from ..exceptions import ParameterTypeError
from ..models import DeepBeliefNetwork, SigmoidBeliefNetwork
from .._launch import call
from .._validation import check_bool
from ._pipeline import Stopwatch, check_draw_sizes, record_slots, run_sweeps, thread_count
from .sampleset import SampleSet

__all__ = ["ancestral_sample", "deep_belief_sample", "gibbs_posterior", "gibbs_query"]


def _check_network(network, name: str, kinds: tuple) -> None:
    """Refuse (ParameterTypeError) a ``network`` that is not one of ``kinds``."""
    if not isinstance(network, kinds):
        expected = " or ".join(kind.__name__ for kind in kinds)
        raise ParameterTypeError(f"{name} must be a {expected}, got {describe(network)}")


def _ancestral_states(sbn, n_samples: int, generator: np.random.Generator) -> np.ndarray:
    """``n_samples`` independent draws of a sigmoid belief network's ``p(x)``, uint8, shape (n_samples, n_units)."""
    offsets, weights, biases, temperature = sbn._offsets, sbn.weights, sbn.biases, sbn.temperature
    n_layers = sbn.n_layers
    states = np.empty((n_samples, sbn.n_units), dtype=np.uint8)
    # Top layer first: each layer is drawn given the one above it.
    for k in range(n_layers - 1, -1, -1):
        lo, hi = offsets[k], offsets[k + 1]
        activations = np.broadcast_to(biases[k], (n_samples, hi - lo))
        if k < n_layers - 1:
            activations = states[:, hi : offsets[k + 2]] @ weights[k].T + biases[k]
        probabilities = sigmoid(activations / temperature)
        states[:, lo:hi] = generator.random((n_samples, hi - lo)) < probabilities
    return states


def ancestral_sample(sbn, n_samples, *, rng=None) -> SampleSet:
    """Independent draws of a sigmoid belief network's ``p(x)``, top layer first, each layer given the one above.

    Parameters
    ----------
    sbn : SigmoidBeliefNetwork
    n_samples : int >= 1
    rng : None, int or numpy.random.Generator

    Returns
    -------
    SampleSet
        One chain of ``n_samples`` independent draws: ``states`` (1, n_samples, n_units) uint8 in
        the order of ``sbn.names``, ``energies`` equal to ``-log p(x)``, ``info["sampler"] == "ancestral"``.
    """
    _check_network(sbn, "sbn", (SigmoidBeliefNetwork,))
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    check_array_size(n_samples * sbn.n_units, f"n_samples={n_samples} draws of {sbn.n_units} units")
    generator = check_rng(rng)
    watch = Stopwatch()
    watch.prepared()
    states = _ancestral_states(sbn, n_samples, generator)
    watch.sampled()
    energies = -sbn._log_probabilities(states.astype(np.float64))
    info = _info(watch, sampler="ancestral", scan="ancestral", sweeps=1, unit_updates=n_samples * sbn.n_units)
    return SampleSet(states[None], energies[None], sbn.names, temperature=sbn.temperature, info=info)


def deep_belief_sample(dbn, n_samples, *, burn_in=1000, rng=None, progress=True) -> SampleSet:
    """Draws of a deep belief network: block Gibbs in the top RBM, then one ancestral pass down.

    Each draw comes from its own chain: ``burn_in`` block-Gibbs sweeps of the top RBM from a
    uniformly random start (chains in parallel), then the layers below are sampled top-down
    from their sigmoid conditionals. The draws are independent; they follow ``p(x)`` as far as
    ``burn_in`` sweeps bring the top RBM to equilibrium.

    Parameters
    ----------
    dbn : DeepBeliefNetwork
    n_samples : int >= 1
    burn_in : int >= 0, default 1000
    rng : None, int or numpy.random.Generator
    progress : bool, default True
        A progress bar over the top RBM's sweeps (see :func:`gibbs_posterior`).

    Returns
    -------
    SampleSet
        One chain of ``n_samples`` draws: ``states`` (1, n_samples, n_units) uint8 in the
        order of ``dbn.names``, ``energies`` equal to ``-unnormalized_log_probability`` (so
        ``p ~ exp(-energy)`` up to ``Z_top``), ``info["sampler"] == "top_gibbs_then_ancestral"``.
    """
    from .gibbs import GibbsSampler

    _check_network(dbn, "dbn", (DeepBeliefNetwork,))
    watch = Stopwatch()
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    # checked here, not by the top RBM's sampler, so the errors name this function's parameters
    check_array_size(n_samples * dbn.n_units, f"n_samples={n_samples} draws of {dbn.n_units} units")
    check_sweeps(burn_in, 0, 1)
    generator = check_rng(rng)
    progress = check_bool(progress, "progress")
    weights, biases, offsets = dbn.weights, dbn.biases, dbn._offsets
    top = len(weights)
    watch.prepared()
    # keep="last" with one draw: burn_in sweeps, then the draw (burn_in + 1 sweeps in all)
    top_draws = GibbsSampler(burn_in=burn_in).sample(
        dbn.top_rbm, 1, n_chains=n_samples, rng=generator, keep="last", progress=progress
    )
    states = np.empty((n_samples, dbn.n_units), dtype=np.uint8)
    states[:, offsets[top - 1] :] = top_draws.states[:, 0, :]
    for k in range(top - 2, -1, -1):
        above = states[:, offsets[k + 1] : offsets[k + 2]].astype(np.float64)
        probabilities = sigmoid(above @ weights[k].T + biases[k])
        states[:, offsets[k] : offsets[k + 1]] = generator.random(probabilities.shape) < probabilities
    watch.sampled()
    energies = -dbn._log_mass(states.astype(np.float64))
    info = _info(
        watch, sampler="top_gibbs_then_ancestral", scan="top block Gibbs, then ancestral", sweeps=burn_in + 1,
        unit_updates=n_samples * ((burn_in + 1) * dbn.top_rbm.n_units + offsets[top - 1]), burn_in=burn_in,
    )
    return SampleSet(states[None], energies[None], dbn.names, temperature=1.0, info=info)


# ---------------------------------------------------------------------------- Gibbs posteriors
def _sigmoid_belief_chains(sbn, clamped, generator, n_chains, slots, out, progress) -> int:
    """Run the chains of a sigmoid belief network; returns the unit updates per chain and sweep."""
    from .._kernels import sigmoid_belief as kernels

    # chains start from independent ancestral draws of the prior with the evidence clamped
    states = _ancestral_states(sbn, n_chains, generator)
    for index, value in clamped.items():
        states[:, index] = value
    states = np.ascontiguousarray(states)
    activations = np.ascontiguousarray(sbn._pre_activations(states.astype(np.float64)))
    free = np.array([i for i in range(sbn.n_units) if i not in clamped], dtype=np.int64)
    children = kernels.Children(*sbn._csr(children=True))
    streams = _streams(generator, n_chains)
    run_sweeps(
        slots.shape[0],
        lambda start, stop: call(kernels.run_chains, states, activations, free, children, slots[start:stop], out, streams),
        cost_per_sweep=n_chains * (free.shape[0] + children.index.shape[0]),
        progress=progress,
        description="belief Gibbs",
    )
    return free.shape[0]


def _deep_belief_chains(dbn, clamped, generator, n_chains, slots, out, progress) -> int:
    """Run the chains of a deep belief network; returns the unit updates per chain and sweep."""
    from .._kernels.deep_belief import TopLayer, run_chains
    from .._kernels.sigmoid_belief import Children

    weights, biases, offsets = dbn.weights, dbn.biases, dbn._offsets
    top = len(weights)
    n_lower = offsets[top]
    # chains start from uniformly random states with the evidence clamped
    states = generator.integers(0, 2, size=(n_chains, dbn.n_units), dtype=np.uint8)
    for index, value in clamped.items():
        states[:, index] = value
    lower = np.ascontiguousarray(states[:, :n_lower])
    upper = np.ascontiguousarray(states[:, n_lower:])
    # Pre-activations of layers 0 .. L-2; the kernel writes those of layer L-1 each sweep.
    activations = np.zeros((n_chains, n_lower))
    lower_float = lower.astype(np.float64)
    for k in range(top - 1):
        activations[:, offsets[k] : offsets[k + 1]] = (
            lower_float[:, offsets[k + 1] : offsets[k + 2]] @ weights[k].T + biases[k]
        )
    free = np.array(dbn._free_lower(clamped), dtype=np.int64)
    top_free = np.array([j for j, i in enumerate(dbn._top_indices()) if i not in clamped], dtype=np.int64)
    # the children of layers 0 .. L-1 are those of the directed part (any prior: it has no children)
    children = Children(*dbn.directed_part(np.full(dbn.layer_sizes[top - 1], 0.5))._csr(children=True))
    top_layer = TopLayer(np.ascontiguousarray(weights[-1]), np.ascontiguousarray(biases[top - 1]),
                         np.ascontiguousarray(biases[top]), offsets[top - 1])
    streams = _streams(generator, n_chains)
    run_sweeps(
        slots.shape[0],
        lambda start, stop: call(
            run_chains, lower, upper, activations, free, top_free, children, top_layer, slots[start:stop], out, streams
        ),
        cost_per_sweep=n_chains * (free.shape[0] + children.index.shape[0] + top_layer.weights.size),
        progress=progress,
        description="belief Gibbs",
    )
    return free.shape[0] + top_free.shape[0]


def _info(watch, *, sampler, scan, sweeps, unit_updates, **particular) -> dict:
    """``SampleSet.info`` in the samplers' one schema (see :mod:`pgm_energy.samplers._pipeline`); energies just computed."""
    finished = time.perf_counter()
    sampling = watch.sampling
    return {
        "sampler": sampler, "scan": scan, "sweeps": sweeps, **particular, "n_threads": thread_count(),
        "unit_updates": unit_updates,
        "unit_updates_per_second": unit_updates / sampling if sampling > 0 else float("inf"),
        "seconds": {"setup": watch.prepared_at - watch.started, "sampling": sampling, "energies": finished - watch.sampled_at},
    }


def _streams(generator, n_chains):
    from .._kernels.rng import seed_streams

    return seed_streams(generator, n_chains)


def gibbs_posterior(network, evidence, n_samples, *, n_chains=4, burn_in=1000, thin=1, rng=None,
                    progress=True) -> SampleSet:
    """Draws of ``p(x | evidence)`` of a sigmoid or deep belief network by Gibbs sampling.

    Sigmoid belief network: every unit not in ``evidence`` (hidden causes and unobserved
    visible units) is updated in a sequential scan from its full conditional, which involves
    its parents, its children and the children's other parents, in log space (see
    :mod:`pgm_energy._kernels.sigmoid_belief`). Chains start from independent ancestral draws
    of the prior with the evidence clamped.

    Deep belief network: a sweep draws the top layer as a block from the top RBM's
    ``p(x^(L) | x^(L-1))`` (its units are independent given the layer below), then updates every
    free unit of layers ``0 .. L - 1`` one at a time from its full conditional. Given the top
    layer, those layers form a sigmoid belief network whose top layer has the factorial prior
    with log-odds ``biases[L-1] + weights[L-1] x^(L)``, so the single-site step is the same
    Markov-blanket step. Chains start from uniformly random states with the evidence clamped.

    Chains run in parallel (Numba), each with its own xorshift stream, so the draws do not
    depend on the thread count.

    Parameters
    ----------
    network : SigmoidBeliefNetwork or DeepBeliefNetwork
    evidence : dict of str -> 0/1 or None
        Clamped units (never updated).
    n_samples : int >= 1
        Draws per chain, one every ``thin`` sweeps after ``burn_in`` sweeps.
    n_chains : int >= 1, default 4
    burn_in : int >= 0, default 1000
    thin : int >= 1, default 1
    rng : None, int or numpy.random.Generator
    progress : bool, default True
        A progress bar over sweeps on stderr, drawn when stderr is a terminal and the call
        lasts more than half a second.

    Returns
    -------
    SampleSet
        ``states`` (n_chains, n_samples, n_units) uint8 of every unit in the order of
        ``network.names`` (evidence units hold their values); ``energies`` equal to ``-log p(x)``
        (sigmoid belief network: the joint, evidence included) or to
        ``-unnormalized_log_probability`` (deep belief network); ``info`` with ``sweeps``,
        ``burn_in``, ``thin``, ``evidence`` and the samplers' common keys (``unit_updates``, ``seconds``, ...).
        ``marginals()`` and ``marginal_standard_errors()`` give posterior estimates with
        Monte Carlo errors.

    Raises
    ------
    EvidenceError
        For unknown variables or values other than 0/1 in ``evidence``.
    ModelSizeError
        For draws or a sweep schedule too large to hold.
    """
    _check_network(network, "network", (SigmoidBeliefNetwork, DeepBeliefNetwork))
    watch = Stopwatch()
    clamped = check_evidence(evidence, network.names)
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    n_chains = check_int(n_chains, "n_chains", minimum=1)
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    thin = check_int(thin, "thin", minimum=1)
    progress = check_bool(progress, "progress")
    # the draws and the sweep schedule (one slot per sweep) are checked before anything is allocated
    n_sweeps = check_draw_sizes(n_samples, n_chains, network.n_units, burn_in, thin, "all")
    generator = check_rng(rng)
    deep = isinstance(network, DeepBeliefNetwork)
    slots = record_slots(0, n_sweeps, n_sweeps, burn_in, thin, "all")
    n_units = network.n_units
    out = np.empty((n_chains, n_samples, n_units), dtype=np.uint8)
    run = _deep_belief_chains if deep else _sigmoid_belief_chains
    watch.prepared()
    updates = run(network, clamped, generator, n_chains, slots, out, progress)
    watch.sampled()
    if deep:
        energies = -network._log_mass(out.reshape(-1, n_units).astype(np.float64)).reshape(n_chains, n_samples)
    else:
        energies = np.empty((n_chains, n_samples))
        for chain in range(n_chains):
            energies[chain] = -network._log_probabilities(out[chain].astype(np.float64))
    info = _info(
        watch, sampler="gibbs_posterior", scan="top block, then sequential below" if deep else "sequential",
        sweeps=slots.shape[0], unit_updates=n_chains * slots.shape[0] * updates, burn_in=burn_in, thin=thin,
        evidence={network.names[i]: v for i, v in clamped.items()},
    )
    return SampleSet(out, energies, network.names, temperature=network.temperature, info=info)


def gibbs_query(dbn, variables, evidence=None, joint=True, *, n_samples=10_000, n_chains=4, burn_in=1000, rng=None):
    """A deep belief network's posterior estimated from :func:`gibbs_posterior` draws (relative frequencies).

    Parameters
    ----------
    dbn : DeepBeliefNetwork
    variables, evidence, joint
        As :meth:`DeepBeliefNetwork.query`.
    n_samples, n_chains, burn_in, rng
        Draws per chain, chains, sweeps discarded and the random source of :func:`gibbs_posterior`.

    Returns
    -------
    pgmpy.factors.discrete.DiscreteFactor or dict of str -> DiscreteFactor
        The joint table of the draws' frequencies (C order, the last variable fastest), or one
        factor per variable.
    """
    from .._belief_enumeration import check_query
    from ..interop.pgmpy import binary_factor

    _check_network(dbn, "dbn", (DeepBeliefNetwork,))
    _, joint, variables, targets = check_query(dbn, variables, evidence, joint)
    draws = gibbs_posterior(dbn, evidence, n_samples, n_chains=n_chains, burn_in=burn_in, rng=rng)
    flat = draws.flat_states()
    if joint:
        shifts = np.arange(len(targets) - 1, -1, -1, dtype=np.int64)
        cells = flat[:, targets].astype(np.int64) @ (1 << shifts)
        counts = np.bincount(cells, minlength=1 << len(targets)).astype(np.float64)
        return binary_factor(variables, counts / counts.sum())
    means = flat[:, targets].mean(axis=0)
    return {name: binary_factor([name], [1.0 - p, p]) for name, p in zip(variables, means.tolist())}
