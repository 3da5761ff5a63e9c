"""Persistent CD with a parallel-tempering negative phase (Desjardins et al. 2010; Salakhutdinov 2009).

Each of the ``n_chains`` persistent fantasy particles is a ladder of replicas, one per
temperature ``1 = T_0 < T_1 < ... < T_{R-1}``; replica ``t`` is a chain of the RBM at
temperature ``T_t``, i.e. the RBM with weights and biases divided by ``T_t``
(``p_t(v, h) ∝ exp(-beta_t E(v, h))``, ``beta_t = 1 / T_t``). Per update (per mini-batch):

1. positive phase and optional reconstruction error exactly as plain PCD
   (:mod:`pgm_energy.learning._cd_engine`, BLAS path);
2. ``k`` times: one block-Gibbs step of every replica at its own temperature
   (``h ~ p_t(h | v)`` then ``v ~ p_t(v | h)``, two BLAS products over all ``R * n_chains``
   replicas), then one round of swaps between neighbouring temperatures, pairs ``(t, t+1)``
   with ``t`` even and odd in alternate rounds (the parity is kept in the state), accepted
   with probability ``min(1, exp((beta_t - beta_{t+1}) (E_t - E_{t+1})))``, where ``E`` is the
   **joint** energy ``E(v, h) = -v'Wh - b'v - c'h`` of each replica's current ``(v, h)``: the
   Gibbs step and the swap each leave the product of the tempered joint distributions
   invariant, so the ``T = 1`` replicas remain a valid chain of the model (the joint energy
   costs no product: ``v'Wh = v . (W h)``, and ``W h`` is the visible layer's input);
3. negative statistics from the ``T = 1`` replicas only: their visible states and
   ``p(h | v)`` (one more product over ``n_chains`` rows), then the same update as PCD
   (:func:`pgm_energy._kernels.cd.apply_update`).

Products per update: ``1`` (+1 for the reconstruction) ``+ 2 k R n_chains / batch`` rows-worth
of layer products ``+ n_chains`` rows ``+`` the gradient product; ``R = 1`` would be PCD-k.

Randomness and checkpoints: the positive phase draws from ``CDState.streams`` as plain PCD;
replica row ``r`` from ``TemperedState.replica_streams[r]``, particle ``c``'s swaps from
``swap_streams[c]``. Everything lives in the state's arrays (with the swap parity), so a
checkpoint of them resumes exactly. BLAS determinism caveats: see ``_cd_engine``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .._kernels import cd as _cd
from .._kernels import tempered_cd as _pt
from .._kernels.rng import seed_streams
from .._launch import run_chunked
from ._cd_engine import BlasBatches, check_epoch, epoch_windows, update_settings

__all__ = ["TemperedState", "new_tempered_state", "tempered_epoch", "swap_rates"]


class TemperedState(NamedTuple):
    """The replica ladders of tempered PCD; arrays updated in place by :func:`tempered_epoch`.

    Attributes
    ----------
    betas : float64 ndarray, shape (n_temperatures,)
        Inverse temperatures, decreasing, ``betas[0] == 1``.
    replicas : ndarray, shape (n_temperatures * n_chains, n_visible), training dtype
        0/1 visible states; row ``t * n_chains + c`` is particle ``c`` at ``betas[t]``.
    replica_streams : uint64 ndarray, shape (n_temperatures * n_chains,)
    swap_streams : uint64 ndarray, shape (n_chains,)
    swap_round : int64 ndarray, shape (1,)
        Swap rounds done so far (their parity alternates).
    swap_accepted, swap_attempted : int64 ndarrays, shape (n_temperatures - 1,)
        Per neighbouring pair, over the last epoch (reset by :func:`tempered_epoch`).
    """

    betas: np.ndarray
    replicas: np.ndarray
    replica_streams: np.ndarray
    swap_streams: np.ndarray
    swap_round: np.ndarray
    swap_accepted: np.ndarray
    swap_attempted: np.ndarray


def new_tempered_state(chains, temperatures, rng) -> TemperedState:
    """Ladders whose every replica starts at its particle's state in ``chains``.

    Parameters
    ----------
    chains : ndarray, shape (n_chains, n_visible)
        The persistent chains of the CDState (their dtype is the training dtype).
    temperatures : sequence of float
        Increasing, starting at 1 (validated by the trainer).
    rng : numpy.random.Generator
        Seeds the replica streams, then the swap streams.
    """
    betas = 1.0 / np.asarray(temperatures, dtype=np.float64)
    n_ladder = betas.shape[0]
    n_chains = chains.shape[0]
    replicas = np.ascontiguousarray(np.tile(chains, (n_ladder, 1)))
    return TemperedState(
        betas=betas,
        replicas=replicas,
        replica_streams=seed_streams(rng, n_ladder * n_chains),
        swap_streams=seed_streams(rng, n_chains),
        swap_round=np.zeros(1, dtype=np.int64),
        swap_accepted=np.zeros(n_ladder - 1, dtype=np.int64),
        swap_attempted=np.zeros(n_ladder - 1, dtype=np.int64),
    )


def _check(state, tempered):
    n_chains, n_visible = state.chains.shape
    n_ladder = tempered.betas.shape[0]
    if n_ladder < 2 or tempered.betas[0] != 1.0 or not np.all(np.diff(tempered.betas) < 0):
        raise ValueError(f"tempered.betas must start at 1 and decrease, got {tempered.betas!r}")
    if tempered.replicas.shape != (n_ladder * n_chains, n_visible) or tempered.replicas.dtype != state.weights.dtype \
            or not tempered.replicas.flags.c_contiguous:
        raise ValueError(f"tempered.replicas must be a C-contiguous {state.weights.dtype} array of shape "
                         f"({n_ladder * n_chains}, {n_visible}), got {tempered.replicas.dtype} {tempered.replicas.shape}")
    if tempered.replica_streams.shape != (n_ladder * n_chains,) or tempered.swap_streams.shape != (n_chains,):
        raise ValueError("tempered streams do not match the ladder and the chains")
    for name in ("swap_accepted", "swap_attempted"):
        if getattr(tempered, name).shape != (n_ladder - 1,):
            raise ValueError(f"tempered.{name} must have shape ({n_ladder - 1},)")


def tempered_epoch(state, tempered, data, order, *, batch_size, k, learning_rate, momentum, weight_decay,
                   sparsity_target, sparsity_cost, sparsity_decay=0.95, reconstruction=True):
    """One epoch of tempered PCD-k over ``data[order]``; ``state`` and ``tempered`` are updated in place.

    Parameters
    ----------
    state : pgm_energy.learning._cd_engine.CDState
        Parameters, velocities, streams of the positive phase; ``state.chains`` receives a
        copy of the ``T = 1`` replicas at the end of the epoch.
    tempered : TemperedState
    data, order, batch_size, k, learning_rate, momentum, weight_decay, sparsity_target, sparsity_cost, sparsity_decay
        As :func:`pgm_energy.learning._cd_engine.cd_epoch` with ``persistent=True``.
    reconstruction : bool, default True
        False skips the reconstruction product and returns NaN.

    Returns
    -------
    float
        Sum over the epoch's rows and visible units of ``(x - p(v | h0))**2`` (NaN without
        ``reconstruction``). The swap counts of the epoch are in ``tempered.swap_accepted``
        and ``tempered.swap_attempted``.
    """
    batch_size, k = int(batch_size), int(k)
    check_epoch(state, data, order, batch_size, k, True, "blas")
    _check(state, tempered)
    reconstruction = bool(reconstruction)
    settings = update_settings(learning_rate, momentum, weight_decay, sparsity_target, sparsity_cost, sparsity_decay)
    n_rows = order.shape[0]
    batch = min(batch_size, n_rows)
    n_chains = state.chains.shape[0]
    n_replicas = tempered.betas.shape[0] * n_chains
    batches = BlasBatches(state, settings, batch, n_chains, max(batch, n_replicas))
    ladder = _Ladder(batches, tempered, n_replicas)
    cold = tempered.replicas[:n_chains]  # the T = 1 replicas (a view)
    chain_rows = np.arange(n_chains, dtype=np.int64)
    tempered.swap_accepted[:] = 0
    tempered.swap_attempted[:] = 0
    error = [0.0]

    def run_window(rows_data, rows_order):
        rows = rows_order.shape[0]

        def run(first_batch, stop_batch):
            for start in range(first_batch * batch, min(stop_batch * batch, rows), batch):
                views = batches.views(min(batch, rows - start), n_chains)
                error[0] += batches.positive_phase(rows_data, rows_order, start, views, reconstruction)
                for _ in range(k):
                    ladder.step()
                # negative statistics from the T = 1 replicas: their states and p(h | v)
                _cd.gather_batch(cold, chain_rows, 0, views.negative, batches.statistics.negative_visible_sum)
                batches.negative_statistics(views)
                batches.update(views)
        # Batches in calls of about 0.15 s (the shared launcher): Ctrl-C is held to the end of a
        # call, never raised inside a kernel's return.
        run_chunked(-(-rows // batch), run)

    for rows_data, rows_order in epoch_windows(data, order, batch):  # one window in memory; blocks streamed
        run_window(rows_data, rows_order)
    np.copyto(state.chains, cold)
    return float(error[0]) if reconstruction else math.nan


class _Ladder:
    """The tempered negative phase: a block-Gibbs step of every replica at its temperature, then a swap round.

    The products go through the work buffers of a :class:`~pgm_energy.learning._cd_engine.BlasBatches`.
    """

    def __init__(self, batches, tempered, n_replicas):
        self.batches, self.tempered = batches, tempered
        self.n_chains = batches.state.chains.shape[0]
        self.hidden_pre = batches.hidden_pre[:n_replicas]
        self.hidden_states = batches.hidden_states[:n_replicas]
        self.visible_pre = batches.visible_pre[:n_replicas]
        self.visible_probs = np.empty((n_replicas, batches.weights.shape[0]), dtype=batches.weights.dtype)
        self.energies = np.empty(n_replicas, dtype=np.float64)

    def step(self):
        batches, tempered, n_chains = self.batches, self.tempered, self.n_chains
        np.matmul(tempered.replicas, batches.weights, out=self.hidden_pre)
        _pt.tempered_hidden(self.hidden_pre, batches.hidden_bias, tempered.betas, n_chains, tempered.replica_streams,
                            self.hidden_states)
        np.matmul(self.hidden_states, batches.weights_t, out=self.visible_pre)
        _pt.tempered_visible(self.visible_pre, batches.visible_bias, batches.hidden_bias, self.hidden_states,
                             tempered.betas, n_chains, tempered.replica_streams, self.visible_probs, tempered.replicas,
                             self.energies)
        _pt.swap_round(tempered.replicas, self.energies, tempered.betas, n_chains, int(tempered.swap_round[0] % 2),
                       tempered.swap_streams, tempered.swap_accepted, tempered.swap_attempted)
        tempered.swap_round[0] += 1


def swap_rates(tempered) -> dict[str, float]:
    """``{"swap_rate_min", "swap_rate_mean"}`` over the neighbouring pairs tried in the last epoch.

    Each pair's rate is its accepted / attempted swaps; pairs never attempted (possible in an
    epoch of a single update, by the even/odd alternation) are left out; NaN when none was.
    """
    attempted = tempered.swap_attempted
    tried = attempted > 0
    if not tried.any():
        return {"swap_rate_min": math.nan, "swap_rate_mean": math.nan}
    rates = tempered.swap_accepted[tried] / attempted[tried]
    return {"swap_rate_min": float(rates.min()), "swap_rate_mean": float(rates.mean())}
