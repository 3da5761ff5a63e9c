"""Block Gibbs sampling of restricted Boltzmann machines: BLAS products plus a fused Numba step.

A *sweep* samples every hidden unit given the visible layer, then every visible
unit given the hidden layer. Each layer update is exact Gibbs for the bipartite
model (the units of one layer are conditionally independent given the other), so
every state recorded after a sweep is a draw from the chain.

Used by :class:`pgm_energy.samplers.gibbs.GibbsSampler` for RBMs; the function is
also usable on its own.
"""

from __future__ import annotations

import numpy as np

from .._blas import thread_counts as blas_thread_counts
from .._progress import progress_bar
from .._validation import (
    check_bool, check_evidence, check_float_dtype, check_int, check_positive_temperature, check_rng, describe,
)
from ..exceptions import ParameterTypeError
from ._pipeline import (
    Stopwatch, allocate_draws, check_draw_sizes, check_initial_states, run_chains, starting_states, with_cluster,
)

__all__ = ["block_gibbs_chains", "block_gibbs_groups", "run_block_gibbs", "sample_rbm"]

# Sweeps between progress-bar updates (keeps the per-sweep cost free of Python calls).
_PROGRESS_EVERY = 64


def _product_columns(n_chains: int) -> int:
    """Columns of the product buffers: ``n_chains``, rounded up to a multiple of 4 when it is 2 or 3 past one.

    OpenBLAS's sgemm/dgemm is slow for narrow right operands whose width is 2 or 3 modulo 4,
    and the padding columns cost less than they save; 1 past a multiple of 4 they do not pay
    (figures in docs/benchmarks.md).
    """
    if n_chains >= 3 and n_chains % 4 >= 2:
        return n_chains + 4 - n_chains % 4
    return n_chains


def sample_rbm(rbm, n_samples, *, n_chains=1, burn_in=0, thin=1, evidence=None, initial_states=None, temperature=None,
               rng=None, progress=False, dtype="float64"):
    """Block Gibbs samples of a restricted Boltzmann machine.

    Each sweep samples all hidden units given the visible ones, then all visible units
    given the hidden ones. ``burn_in`` sweeps are discarded, then one state is kept
    every ``thin`` sweeps, ``n_samples`` times per chain.

    Parameters
    ----------
    rbm : RestrictedBoltzmannMachine
    n_samples : int >= 1
        Draws kept per chain.
    n_chains : int >= 1
        Independent chains, sampled together (the rows of the matrix products).
    burn_in : int >= 0
    thin : int >= 1
    evidence : dict of str -> 0/1, optional
        Clamped units: they keep their value and the others are sampled from the
        conditional distribution given them.
    initial_states : array_like of 0/1, shape (n_units,) or (n_chains, n_units), optional
        Start of every chain (visible then hidden). Clamped units take their evidence
        value whatever is given here. Default: uniformly random 0/1 states from ``rng``.
    temperature : float > 0, optional
        Default ``rbm.temperature``. The weights and biases are divided by it once.
    rng : None, int or numpy.random.Generator
        Seeds one xorshift64* stream per chain (drawn first), then the random initial
        states. The same ``rng`` gives the same samples whatever the Numba or BLAS
        thread count (see :mod:`pgm_energy._kernels.block_gibbs`).
    progress : bool
        Show a progress bar (tqdm, on stderr when it is a terminal).
    dtype : {"float32", "float64"}
        Precision of the parameters and products. float32 is faster; it samples the machine whose parameters (divided by the temperature) are
        rounded to float32, with 24-bit uniforms (two from each step of a chain's
        stream), so each conditional probability is resolved to 2**-24 (6e-8).

    Returns
    -------
    states : ndarray of uint8, shape (n_chains, n_samples, n_visible + n_hidden)
        Visible units then hidden units (the order of ``rbm.names``).
    info : dict
        ``sweeps``, ``burn_in``, ``thin``, ``n_chains``, ``dtype``, ``temperature``,
        ``threads`` (``{"numba": 1, "blas": [...]}``: the fused step is serial, the
        products use the BLAS threads), ``seconds`` (``setup``, ``sampling``,
        ``per_sweep``) and ``unit_updates_per_second``.

    Raises
    ------
    ValidationError, ParameterTypeError, StateError, EvidenceError
        For bad arguments; messages name the parameter and echo the value.
    ModelSizeError
        For more than ``MAX_SWEEPS`` (2**28) sweeps ``burn_in + n_samples * thin``, or more
        draws than ``MAX_ARRAY_ENTRIES`` (2**31) unit states.
    """
    watch = Stopwatch()
    from ..models.rbm import RestrictedBoltzmannMachine

    if not isinstance(rbm, RestrictedBoltzmannMachine):
        raise ParameterTypeError(f"rbm must be a RestrictedBoltzmannMachine, got {describe(rbm)}")
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    n_chains = check_int(n_chains, "n_chains", minimum=1)
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    thin = check_int(thin, "thin", minimum=1)
    check_draw_sizes(n_samples, n_chains, rbm.n_units, burn_in, thin, "all")
    progress = check_bool(progress, "progress")
    dtype = check_float_dtype(dtype)
    temperature = (
        rbm.temperature if temperature is None else check_positive_temperature(temperature, energy_scale=rbm.energy_bound)
    )
    clamped = check_evidence(evidence, rbm.names)
    initial = check_initial_states(initial_states, rbm.n_units, n_chains=n_chains)
    generator = check_rng(rng)
    states, info = run_block_gibbs(
        rbm, n_samples, n_chains=n_chains, burn_in=burn_in, thin=thin, clamped=clamped, initial=initial,
        temperature=temperature, generator=generator, progress=progress, dtype=dtype, watch=watch,
    )
    sampling = watch.sampling
    updates = info.pop("unit_updates")
    info["seconds"] = {
        "setup": watch.prepared_at - watch.started, "sampling": sampling, "per_sweep": sampling / info["sweeps"],
    }
    info["unit_updates_per_second"] = updates / sampling if sampling > 0 else float("inf")
    return states, info


def run_block_gibbs(rbm, n_draws: int, *, n_chains: int, burn_in: int, thin: int, clamped: dict, initial,
                    temperature: float, generator, progress: bool, dtype: np.dtype, watch: Stopwatch, client=None):
    """Block Gibbs sweeps of ``rbm`` with arguments already checked (see :func:`sample_rbm`).

    Parameters
    ----------
    clamped : dict of int -> 0/1
        Unit index -> evidence value (``check_evidence``).
    initial : uint8 ndarray, shape (n_chains, n_units), or None
        From :func:`~pgm_energy.samplers._pipeline.check_initial_states`; None draws random
        states from ``generator`` after the chains' streams are seeded.
    watch : Stopwatch
        Marked prepared before the first sweep and sampled after the last.
    client : distributed.Client, optional
        Run the chains on this cluster, in groups of :data:`CHAINS_PER_PRODUCT` (see
        :func:`block_gibbs_groups`).

    Returns
    -------
    states : uint8 ndarray, shape (n_chains, n_draws, n_visible + n_hidden)
    info : dict
        ``sweeps``, ``burn_in``, ``thin``, ``n_chains``, ``dtype``, ``temperature``, ``threads``
        and ``unit_updates`` (and ``cluster`` with ``client``).
    """
    from .._kernels.rng import seed_streams

    streams = seed_streams(generator, n_chains)
    initial = starting_states(initial, n_chains, rbm.n_units, clamped, generator)
    clamp_mask = np.zeros(rbm.n_units, dtype=np.uint8)
    clamp_mask[list(clamped)] = 1
    watch.prepared()
    states, threads = run_chains(
        client, block_gibbs_chains if client is None else block_gibbs_groups,
        (rbm, n_draws, burn_in, thin, clamp_mask, temperature, dtype), (initial, streams), progress=progress,
        description="block Gibbs", multiple=CHAINS_PER_PRODUCT,
    )
    watch.sampled()
    total = burn_in + n_draws * thin
    updated = int((clamp_mask[: rbm.n_visible] == 0).any()) * rbm.n_visible + int(
        (clamp_mask[rbm.n_visible :] == 0).any()) * rbm.n_hidden
    info = {
        "sweeps": total,
        "burn_in": burn_in,
        "thin": thin,
        "n_chains": n_chains,
        "dtype": dtype.name,
        "temperature": temperature,
        "threads": threads[0],
        "unit_updates": n_chains * updated * total,
    }
    return states, with_cluster(info, client, len(threads))


#: chains multiplied together by a run on a cluster. The BLAS may round a column of a product
#: differently by the product's width (OpenBLAS has kernels for small and for narrow products), so
#: a chain's draws are fixed by the chains multiplied with it: fixed groups, whatever the blocks,
#: make them the same for any number of workers. A run of at most this many chains is one group,
#: the in-process product.
CHAINS_PER_PRODUCT = 16


def block_gibbs_groups(rbm, n_draws: int, burn_in: int, thin: int, clamp_mask: np.ndarray, temperature: float,
                       dtype: np.dtype, progress: bool, initial: np.ndarray, streams: np.ndarray):
    """:func:`block_gibbs_chains` of each group of :data:`CHAINS_PER_PRODUCT` chains in turn: one block of a
    run on a cluster (blocks start at multiples of a group)."""
    groups = [
        block_gibbs_chains(rbm, n_draws, burn_in, thin, clamp_mask, temperature, dtype, progress,
                           initial[first:first + CHAINS_PER_PRODUCT], streams[first:first + CHAINS_PER_PRODUCT])
        for first in range(0, initial.shape[0], CHAINS_PER_PRODUCT)
    ]
    return np.concatenate([states for states, _ in groups]), groups[0][1]


def block_gibbs_chains(rbm, n_draws: int, burn_in: int, thin: int, clamp_mask: np.ndarray, temperature: float,
                       dtype: np.dtype, progress: bool, initial: np.ndarray, streams: np.ndarray):
    """Block Gibbs chains of ``rbm`` from their starting states and streams: one block of a (possibly split) run.

    A chain's draws depend on its row of ``initial`` and ``streams``, and on the number of chains
    multiplied with it, through the BLAS's rounding (see :data:`CHAINS_PER_PRODUCT`).

    Parameters
    ----------
    clamp_mask : uint8 ndarray, shape (n_units,)
        1 for a clamped unit (its value is in ``initial``).
    initial : uint8 ndarray, shape (n_chains, n_units)
        Starting states, evidence applied.
    streams : uint64 ndarray, shape (n_chains,)

    Returns
    -------
    states : uint8 ndarray, shape (n_chains, n_draws, n_visible + n_hidden)
    threads : dict
        ``{"numba": 1, "blas": [...]}``: the fused step is serial, the products use the BLAS threads.
    """
    # Numba loads on first use
    from .._kernels.block_gibbs import Layer, layer_margins, layer_sampler, layer_scratch

    n_chains = initial.shape[0]
    streams = np.array(streams)  # advanced in place (a worker's block may be read-only)
    n_visible, n_hidden = rbm.n_visible, rbm.n_hidden
    n_units = n_visible + n_hidden

    # Parameters at temperature 1, in the working dtype; rows[j] = weights into unit j.
    weights = np.ascontiguousarray(rbm.weights / temperature, dtype=dtype)  # (n_visible, n_hidden)
    weights_t = np.ascontiguousarray(weights.T)  # (n_hidden, n_visible)
    visible_bias = (rbm.visible_bias / temperature).astype(dtype)
    hidden_bias = (rbm.hidden_bias / temperature).astype(dtype)
    visible_limit = layer_margins(weights, visible_bias, dtype)
    hidden_limit = layer_margins(weights_t, hidden_bias, dtype)

    visible_clamped = np.ascontiguousarray(clamp_mask[:n_visible])
    hidden_clamped = np.ascontiguousarray(clamp_mask[n_visible:])
    update_visible = not visible_clamped.all()
    update_hidden = not hidden_clamped.all()

    # Chain-minor layout: one row per unit, one column per chain (the fused step then runs
    # contiguous loops over the chains); the products are W.T @ visible and W @ hidden.
    # Padding columns (zero states, never sampled) give OpenBLAS a better shape.
    n_columns = _product_columns(n_chains)
    visible = np.zeros((n_visible, n_columns), dtype=dtype)
    hidden = np.zeros((n_hidden, n_columns), dtype=dtype)
    visible[:, :n_chains] = initial[:, :n_visible].T
    hidden[:, :n_chains] = initial[:, n_visible:].T
    visible_pre = np.empty((n_visible, n_columns), dtype=dtype)
    hidden_pre = np.empty((n_hidden, n_columns), dtype=dtype)
    scratch = layer_scratch(dtype, n_chains, max(n_visible, n_hidden))
    hidden_layer = Layer(hidden_pre, hidden_bias, hidden_limit, weights_t, visible, hidden_clamped)
    visible_layer = Layer(visible_pre, visible_bias, visible_limit, weights, hidden, visible_clamped)

    states = allocate_draws((n_chains, n_draws, n_units))
    draw_hidden = layer_sampler(hidden_layer, streams, hidden, states, n_visible, scratch)
    draw_visible = layer_sampler(visible_layer, streams, visible, states, 0, scratch)
    if not update_visible:  # a fully clamped layer is never touched again: fill its columns once
        states[:, :, :n_visible] = initial[:, None, :n_visible]
    if not update_hidden:
        states[:, :, n_visible:] = initial[:, None, n_visible:]

    total = burn_in + n_draws * thin
    record_at = burn_in + thin - 1  # sweep index (0-based) of the next kept draw
    drawn = 0
    matmul = np.matmul
    with progress_bar(progress, total, unit="sweep", description="block Gibbs") as bar:
        report = bar.shown
        for sweep in range(total):
            record = -1
            if sweep == record_at:
                record = drawn
                drawn += 1
                record_at += thin
            if update_hidden:
                matmul(weights_t, visible, out=hidden_pre)
                draw_hidden(record)
            if update_visible:
                matmul(weights, hidden, out=visible_pre)
                draw_visible(record)
            if report and (sweep + 1) % _PROGRESS_EVERY == 0:
                bar.update(_PROGRESS_EVERY)
        bar.update(total % _PROGRESS_EVERY)
    return states, {"numba": 1, "blas": blas_thread_counts()}
