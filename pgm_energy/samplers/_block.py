"""Block Gibbs sampling of restricted Boltzmann machines: BLAS products plus a fused Numba step.

A *sweep* samples every hidden unit given the visible layer, then every visible
unit given the hidden layer. Each layer update is exact Gibbs for the bipartite
model (the units of one layer are conditionally independent given the other), so
every state recorded after a sweep is a draw from the chain.

Used by :class:`pgm_energy.samplers.gibbs.GibbsSampler` for RBMs; the function is
also usable on its own.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from .._kernels.block_gibbs import layer_margins, layer_scratch, sample_layer
from .._kernels.rng import seed_streams
from .._validation import (
    check_array_size,
    check_bool,
    check_evidence,
    check_float_dtype,
    check_int,
    check_positive_temperature,
    check_rng,
    check_sweeps,
    describe,
)
from ..exceptions import ParameterTypeError, StateError

__all__ = ["sample_rbm"]

# Sweeps between progress-bar updates (keeps the per-sweep cost free of Python calls).
_PROGRESS_EVERY = 64


def _check_initial_states(initial_states, n_chains: int, n_units: int) -> np.ndarray | None:
    """None, or uint8 states of shape (n_chains, n_units)."""
    if initial_states is None:
        return None
    try:
        array = np.asarray(initial_states)
    except (TypeError, ValueError) as error:
        raise StateError(f"initial_states must be an array of 0/1 values, got {describe(initial_states)}") from error
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_) or np.iscomplexobj(array):
        raise StateError(f"initial_states must be an array of 0/1 values, got dtype {array.dtype}")
    if array.shape not in ((n_units,), (n_chains, n_units)):
        raise StateError(
            f"initial_states must have shape ({n_units},) or (n_chains, {n_units}) = ({n_chains}, {n_units}), "
            f"got {array.shape}"
        )
    binary = (array == 0) | (array == 1)
    if not np.all(binary):
        bad = tuple(int(i) for i in np.argwhere(~binary)[0])
        raise StateError(f"initial_states must contain only 0 and 1, got {array[bad].item()!r} at index {bad}")
    return np.broadcast_to(array, (n_chains, n_units)).astype(np.uint8)


def _product_columns(n_chains: int) -> int:
    """Columns of the product buffers: ``n_chains``, rounded up to a multiple of 4 when it is 2 or 3 past one.

    OpenBLAS 0.3.31's sgemm/dgemm here is slow for narrow right operands whose width is
    2 or 3 modulo 4: measured on 784x500 (1 thread, ns per unit update), 7 chains 71 -> 37
    with 8 columns, 15 chains 35 -> 23 with 16, 31 chains 27 -> 20 with 32, 6 chains 63 -> 51;
    1 past a multiple of 4 the extra work does not pay (9 chains 45 -> 51 with 12).
    """
    if n_chains >= 3 and n_chains % 4 >= 2:
        return n_chains + 4 - n_chains % 4
    return n_chains


def _blas_threads():
    """Thread counts of the loaded BLAS libraries (threadpoolctl), or None when unavailable."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    return [info.get("num_threads") for info in threadpool_info() if info.get("user_api") == "blas"] or None


class _Progress:
    """A tqdm bar when tqdm is installed, else a plain line on stderr."""

    def __init__(self, total: int, enabled: bool):
        self._bar = None
        self._enabled = enabled
        self._total = total
        self._done = 0
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return
        self._bar = tqdm(total=total, unit="sweep", desc="block Gibbs")

    def update(self, done: int) -> None:
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.update(done - self._done)
        else:
            print(f"\rblock Gibbs: {done}/{self._total} sweeps", end="", file=sys.stderr, flush=True)
        self._done = done

    def close(self) -> None:
        if not self._enabled:
            return
        if self._bar is not None:
            self._bar.close()
        else:
            print(file=sys.stderr)


def sample_rbm(
    rbm,
    n_samples,
    *,
    n_chains=1,
    burn_in=0,
    thin=1,
    evidence=None,
    initial_states=None,
    temperature=None,
    rng=None,
    progress=False,
    dtype="float64",
):
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
        Show a progress bar (tqdm when installed).
    dtype : {"float32", "float64"}
        Precision of the parameters and products. float32 is about twice as fast;
        it samples the machine whose parameters (divided by the temperature) are
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
    start = time.perf_counter()
    from ..models.rbm import RestrictedBoltzmannMachine

    if not isinstance(rbm, RestrictedBoltzmannMachine):
        raise ParameterTypeError(f"rbm must be a RestrictedBoltzmannMachine, got {describe(rbm)}")
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    n_chains = check_int(n_chains, "n_chains", minimum=1)
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    thin = check_int(thin, "thin", minimum=1)
    check_array_size(
        n_chains * n_samples * rbm.n_units, f"n_chains={n_chains} chains of n_samples={n_samples} draws of {rbm.n_units} units"
    )
    check_sweeps(burn_in, n_samples, thin)
    progress = check_bool(progress, "progress")
    dtype = check_float_dtype(dtype)
    temperature = (
        rbm.temperature if temperature is None else check_positive_temperature(temperature, energy_scale=rbm.energy_bound)
    )
    clamped = check_evidence(evidence, rbm.names)
    n_visible, n_hidden = rbm.n_visible, rbm.n_hidden
    n_units = n_visible + n_hidden
    initial = _check_initial_states(initial_states, n_chains, n_units)
    generator = check_rng(rng)

    # Parameters at temperature 1, in the working dtype; rows[j] = weights into unit j.
    weights = np.ascontiguousarray(rbm.weights / temperature, dtype=dtype)  # (n_visible, n_hidden)
    weights_t = np.ascontiguousarray(weights.T)  # (n_hidden, n_visible)
    visible_bias = (rbm.visible_bias / temperature).astype(dtype)
    hidden_bias = (rbm.hidden_bias / temperature).astype(dtype)
    visible_limit = layer_margins(weights, visible_bias, dtype)
    hidden_limit = layer_margins(weights_t, hidden_bias, dtype)

    streams = seed_streams(generator, n_chains)
    if initial is None:
        initial = generator.integers(0, 2, size=(n_chains, n_units), dtype=np.uint8)
    clamp_mask = np.zeros(n_units, dtype=np.uint8)
    for index, value in clamped.items():
        clamp_mask[index] = 1
        initial[:, index] = value
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
    from .gibbs import _allocate_states

    states = _allocate_states((n_chains, n_samples, n_units))
    if not update_visible:  # a fully clamped layer is never touched again: fill its columns once
        states[:, :, :n_visible] = initial[:, None, :n_visible]
    if not update_hidden:
        states[:, :, n_visible:] = initial[:, None, n_visible:]

    total = burn_in + n_samples * thin
    bar = _Progress(total, bool(progress))
    setup = time.perf_counter()
    record_at = burn_in + thin - 1  # sweep index (0-based) of the next kept draw
    drawn = 0
    matmul = np.matmul
    for sweep in range(total):
        record = -1
        if sweep == record_at:
            record = drawn
            drawn += 1
            record_at += thin
        if update_hidden:
            matmul(weights_t, visible, out=hidden_pre)
            sample_layer(hidden_pre, hidden_bias, hidden_limit, weights_t, visible, hidden_clamped,
                         streams, hidden, states, record, n_visible, scratch)
        if update_visible:
            matmul(weights, hidden, out=visible_pre)
            sample_layer(visible_pre, visible_bias, visible_limit, weights, hidden, visible_clamped,
                         streams, visible, states, record, 0, scratch)
        if progress and (sweep + 1) % _PROGRESS_EVERY == 0:
            bar.update(sweep + 1)
    bar.update(total)
    bar.close()
    finish = time.perf_counter()

    sampling = finish - setup
    updated = (n_hidden if update_hidden else 0) + (n_visible if update_visible else 0)
    info = {
        "sweeps": total,
        "burn_in": burn_in,
        "thin": thin,
        "n_chains": n_chains,
        "dtype": dtype.name,
        "temperature": temperature,
        "threads": {"numba": 1, "blas": _blas_threads()},
        "seconds": {
            "setup": setup - start,
            "sampling": sampling,
            "per_sweep": sampling / total,
        },
        "unit_updates_per_second": (n_chains * updated * total / sampling) if sampling > 0 else float("inf"),
    }
    return states, info
