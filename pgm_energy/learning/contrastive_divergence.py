"""Contrastive divergence (CD-k) and persistent CD for RBMs, with the practical recipe of Hinton's guide.

The update loop itself runs in :mod:`pgm_energy.learning._cd_engine` (BLAS products, Numba
sampling); this module holds the options, the initialisation and the schedules, and inherits
the fit loop (checks, history, monitors, callbacks, checkpoints) from
:class:`~pgm_energy.learning._trainer.Trainer`.

References: G. Hinton, *A Practical Guide to Training Restricted Boltzmann Machines* (UTML TR
2010-003); T. Tieleman, *Training RBMs using approximations to the likelihood gradient* (ICML 2008).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from .._validation import check_binary, check_int, check_names, check_rng, describe
from ..exceptions import ModelFileError, ParameterTypeError, StateError, ValidationError
from ..models import RestrictedBoltzmannMachine
from ._streamed import StreamedRows
from ._trainer import (
    MAX_GIBBS_STEPS,
    RUNAWAY_BOUND,
    Deferred,
    Trainer,
    check_chain_entries,
    check_nonnegative_float,
    check_positive_int,
    trainer_options,
)

__all__ = ["ContrastiveDivergence", "hinton_momentum", "initial_rbm"]

#: momentum of Hinton's guide §9: 0.5 while the parameters change fast, then 0.9
HINTON_MOMENTUM = (0.5, 0.9)
HINTON_MOMENTUM_SWITCH = 5
#: parameter updates of a run with ``epochs="auto"`` (the default): measured on digits and bars and
#: stripes (benchmarks/bench_cd_defaults.py; see the class docstring)
AUTO_UPDATES = 100_000
#: highest temperature of the ladder ``tempering=n`` builds (1, ..., 10, geometric)
DEFAULT_MAX_TEMPERATURE = 10.0
#: most replicas ``tempering=n`` builds (ladders of tens of temperatures are the norm; each replica
#: costs a Gibbs step per chain and update)
MAX_TEMPERING_REPLICAS = 2**12
# Initial visible biases log(p / (1 - p)) use p clipped to [eps, 1 - eps], so pixels that are
# always off (or on) start at about -/+6.9 instead of -/+inf.
_BIAS_PROBABILITY_CLIP = 1e-3


def hinton_momentum(epoch: int) -> float:
    """0.5 for epochs 1-5, then 0.9 (Hinton 2010, §9); ``epoch`` counts from 1."""
    epoch = check_int(epoch, "epoch", minimum=1)
    return HINTON_MOMENTUM[0] if epoch <= HINTON_MOMENTUM_SWITCH else HINTON_MOMENTUM[1]


def initial_rbm(n_hidden: int, data: np.ndarray, visible_names, rng: np.random.Generator) -> RestrictedBoltzmannMachine:
    """Hinton's starting point (guide §8): weights N(0, 0.01²), visible biases log(p / (1 - p)), hidden biases 0.

    ``p`` is each column's mean, clipped to [0.001, 0.999] so that a unit that is always off
    (or on) starts at about -6.9 (or +6.9) instead of an infinite bias.

    Parameters
    ----------
    n_hidden : int >= 1
    data : ndarray of 0/1, shape (n_samples >= 1, n_visible >= 1), or a bound StreamedRows
        Any numeric or bool dtype; not copied (streamed data: the column sums taken when bound).
    visible_names : sequence of str, length n_visible, or None (``v0``, ``v1``, ...)
    rng : None, int or numpy.random.Generator
    """
    from ._trainer import MAX_PARAMETERS

    n_hidden = check_int(n_hidden, "n_hidden", minimum=1)
    shape = getattr(data, "shape", None)
    if not isinstance(data, (np.ndarray, StreamedRows)) or len(shape) != 2:
        raise StateError(f"data must be a 2-D array (n_samples, n_visible) of 0/1, got {describe(data)}")
    if isinstance(data, np.ndarray):  # streamed rows were checked block by block when bound
        data = check_binary(data, shape[1], "data")  # no float64 copy: the mean is taken in float64
    if data.shape[0] == 0 or data.shape[1] == 0:
        raise ValidationError(f"data must hold at least one sample of at least one unit, got shape {data.shape}")
    if data.shape[1] * n_hidden > MAX_PARAMETERS:
        raise ValidationError(f"n_hidden={n_hidden} with {data.shape[1]} visible units needs more than {MAX_PARAMETERS} weights")
    if visible_names is not None:  # None: the model's default names
        if isinstance(visible_names, np.ndarray) and visible_names.ndim != 1:
            raise ParameterTypeError(f"visible_names must be a sequence of strings, got {describe(visible_names)}")
        if isinstance(visible_names, (list, tuple, np.ndarray)) and len(visible_names) != data.shape[1]:
            raise ValidationError(
                f"visible_names must name the {data.shape[1]} columns of data, got {len(visible_names)} names"
            )
        visible_names = check_names(visible_names, data.shape[1], "visible_names")
    rng = check_rng(rng)
    n_visible = data.shape[1]
    weights = rng.normal(0.0, 0.01, size=(n_visible, n_hidden))
    means = data._column_means() if isinstance(data, StreamedRows) else data.mean(axis=0, dtype=np.float64)
    p = np.clip(means, _BIAS_PROBABILITY_CLIP, 1.0 - _BIAS_PROBABILITY_CLIP)
    return RestrictedBoltzmannMachine(weights, np.log(p) - np.log1p(-p), np.zeros(n_hidden), visible_names=visible_names)


class _Schedule:
    """A value per epoch from a constant, a callable ``epoch -> value`` or a sequence (last entry repeats)."""

    def __init__(self, value, name: str, check):
        self.name, self._check = name, check
        if callable(value):
            self._kind, self._value = "callable", value
        elif isinstance(value, Sequence) and not isinstance(value, str):
            values = tuple(check(item, f"{name}[{i}]") for i, item in enumerate(value))
            if not values:
                raise ValidationError(f"{name} must not be an empty sequence, got {value!r}")
            self._kind, self._value = "sequence", values
        else:
            self._kind, self._value = "constant", check(value, name)

    def __call__(self, epoch: int):
        if self._kind == "constant":
            return self._value
        if self._kind == "sequence":
            return self._value[min(epoch, len(self._value)) - 1]
        return self._check(self._value(epoch), f"{self.name}({epoch})")

    def describe(self):
        return self._value if self._kind != "callable" else getattr(self._value, "__name__", repr(self._value))


def _check_k(value, name):
    return check_positive_int(value, name, maximum=MAX_GIBBS_STEPS)


def _check_momentum(value, name):
    return check_nonnegative_float(value, name, maximum=1.0)


class _State(NamedTuple):
    cd: Any  # the engine's CDState, updated in place
    sums: tuple  # float64 running sums of (weights, visible_bias, hidden_bias) for averaging
    count: np.ndarray  # shape (1,), epochs summed
    tempered: Any = None  # the TemperedState of tempered PCD (pgm_energy.learning._tempered), else None


class ContrastiveDivergence(Trainer):
    """Train an RBM by contrastive divergence (CD-k) or persistent CD (PCD).

    The defaults are a measured recipe, not a starting point to tune: PCD-1 (``persistent=True``)
    with no momentum, learning rate 0.03, weight decay 1e-3, batches of 20, parameters averaged
    over the last 10% of the epochs, and ``epochs="auto"``: as many epochs as make
    :data:`AUTO_UPDATES` (100,000) parameter updates. Measured with
    ``benchmarks/bench_cd_defaults.py`` (exact log-likelihoods, seeds 0, 1, 2):

    * digits (binarized x/16 > 0.5, 80/20 split), 20 hidden, 1389 epochs, 2-4 s: test
      -17.944, -17.981, -18.055 nats (the documented PCD recipe, 3000 epochs: -17.924, -18.039,
      -18.076; the defaults before issue 13, CD-1 for 20 epochs with Hinton's momentum: -20.27,
      -20.22, -20.33);
    * bars and stripes 4×4 (30 patterns), 16 hidden, 50,000 epochs, about 10 s: -3.530, -3.529,
      -3.564 nats (the recipe -3.481, -3.490, -3.513; optimum -3.401);
    * a 784 × 500 MNIST model: about 2,000,000 row visits, about 160 s on one core (200 epochs of
      10,000 rows, or 34 of 60,000). Pass ``epochs=`` to choose.

    Why these: PCD beats CD at equal cost on both sets (docs/training.md, "on the same budget");
    momentum multiplies the step while the persistent chains must keep up with the parameters;
    weight decay 1e-3 keeps the weights small enough for the chains to mix (with 1e-4 bars and
    stripes ended 0.06 nats lower, digits the same); averaging removes most of the noise of the
    chains' updates; a budget of updates rather than of epochs gives a small data set as many
    updates as a large one (30 rows get 50,000 epochs, 1437 rows 1389). Changed after 0.1.0
    (issue 13): the defaults were CD-1, learning rate 0.01, weight decay 1e-4, no averaging, 20
    epochs; pass ``persistent=False, learning_rate=0.01, weight_decay=1e-4, averaging=None,
    epochs=20`` to train as before.

    Parameters
    ----------
    k : int >= 1, callable or sequence of int, default 1
        Gibbs steps per update (each at most :data:`~pgm_energy.learning._trainer.MAX_GIBBS_STEPS`, 2**20): a constant, a callable ``epoch -> k`` (epochs count from 1),
        or one value per epoch (the last value repeats).
    persistent : bool, default True
        Keep ``n_chains`` fantasy chains across updates (PCD, Tieleman 2008) instead of
        restarting the chain at the data (False: CD-k). The chains keep their hidden layer too:
        an update's first hidden states are drawn from ``p(h | v)`` as the previous update's
        negative statistics computed it (as Tieleman 2008 and scikit-learn's ``BernoulliRBM``).
    n_chains : int >= 1, optional
        Number of persistent chains; default ``batch_size``. Only with ``persistent=True``.
        Chains times units (times tempering replicas) must stay within
        :data:`~pgm_energy.learning._trainer.MAX_CHAIN_ENTRIES` (2**31), checked by ``fit``.
    tempering : None, int from 2 to :data:`MAX_TEMPERING_REPLICAS` (4096) or sequence of float, optional
        Parallel-tempering negative phase for PCD (Desjardins et al. 2010): each persistent
        chain becomes a ladder of replicas, one per temperature, that make a block-Gibbs
        step each at their own temperature (the RBM with weights and biases divided by
        ``T``) and then try to swap with their neighbours (Metropolis on the joint energy
        ``E(v, h)``); the ``T = 1`` replicas give the negative statistics. Either the
        temperatures (strictly increasing, the first exactly 1), or their number: ``n``
        temperatures spaced geometrically from 1 to :data:`DEFAULT_MAX_TEMPERATURE`. Only with
        ``persistent=True``. Each epoch's history records ``swap_rate_min`` and
        ``swap_rate_mean``, the acceptance rates of swaps between neighbouring temperatures.
        Costs about ``n`` times PCD's negative phase; always the BLAS path.
    learning_rate : float > 0, default 0.03
    momentum : float in [0, 1], callable or sequence, optional
        Default (None): for CD, 0.5 for the first 5 epochs, then 0.9 (Hinton's guide §9);
        for persistent CD, 0. Momentum multiplies the effective step by up to 10, and the
        fantasy chains must keep up with the parameters (Tieleman 2008 uses none): measured on
        digits (20 hidden, lr 0.01, 3000 epochs) Hinton's momentum cost 0.2 nats of test
        log-likelihood, and about 2 nats on 4×4 bars and stripes (docs/training.md).
    weight_decay : float >= 0, default 1e-3
        L2 penalty on the weights (not the biases).
    sparsity_target : float in (0, 1), optional
        Target mean activation of each hidden unit (guide §11); None disables the penalty.
    sparsity_cost : float >= 0, default 0.01
    sparsity_decay : float in [0, 1), default 0.95
        Decay of the running estimate of each hidden unit's activation.
    batch_size : int >= 1 or None, default 20
        Rows per update (None: full batch); the last batch of an epoch may be smaller.
    epochs : int >= 1 or "auto", default "auto"
        Passes over the data; ``"auto"``: ``ceil(AUTO_UPDATES / updates per epoch)`` epochs, so
        that every run makes about :data:`AUTO_UPDATES` (100,000) parameter updates.
    dtype : "float32" or "float64", default "float32"
    averaging : int >= 1, float in (0, 1] or None, default 0.1
        Return the average of the parameters at the end of each of the last ``averaging``
        epochs (an int), or of the last fraction ``averaging`` of the epochs (a float; at least
        one epoch), instead of the last parameters. Averaging over the end of a PCD run removes
        much of the noise of the chains' updates. Monitors and callbacks see the current
        (not averaged) parameters; only the final model is averaged, and only when the run
        completes all its epochs. None: the last parameters.
    monitor, monitor_every, checkpoint_every, checkpoint_path, binarize
        See :class:`~pgm_energy.learning._trainer.Trainer`. The ``reconstruction_error`` of CD
        comes free from each epoch (its rows as they are trained); PCD measures it on the
        monitors' fixed training subset (256 of its rows: two products of them; the run
        itself draws the same numbers with or without it), every ``monitor_every`` epochs with
        ``monitor="auto"`` and after every epoch when ``monitor`` names ``"reconstruction_error"``.

    Notes
    -----
    A new model (``fit(n_hidden, data)``) starts with weights drawn from N(0, 0.01²), visible
    biases ``log(p / (1 - p))`` of each column's mean ``p`` (clipped to [0.001, 0.999]) and
    zero hidden biases (Hinton's guide §8). Each epoch visits the rows in a fresh random order.

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy.learning import ContrastiveDivergence
    >>> data = np.random.default_rng(0).integers(0, 2, size=(100, 6))
    >>> result = ContrastiveDivergence(epochs=3, batch_size=10, monitor=None).fit(4, data, rng=0, progress=False)
    >>> result.model.n_hidden, len(result.history)
    (4, 3)
    """

    _model_types = (RestrictedBoltzmannMachine,)
    _streams_data = True  # a memmap, a Dask array or streamed(...) is read a block at a time

    def __init__(
        self,
        *,
        k=1,
        persistent=True,
        n_chains=None,
        tempering=None,
        learning_rate=0.03,
        momentum=None,
        weight_decay=1e-3,
        sparsity_target=None,
        sparsity_cost=0.01,
        sparsity_decay=0.95,
        batch_size=20,
        epochs="auto",
        dtype="float32",
        averaging=0.1,
        monitor="auto",
        monitor_every=None,
        checkpoint_every=None,
        checkpoint_path=None,
        binarize=None,
    ):
        super().__init__(**trainer_options(locals()), dtype=dtype)
        self.k = _Schedule(k, "k", _check_k)
        if not isinstance(persistent, (bool, np.bool_)):
            raise ParameterTypeError(f"persistent must be True or False, got {describe(persistent)}")
        self.persistent = bool(persistent)
        if n_chains is not None:
            if not self.persistent:
                raise ValidationError(f"n_chains={n_chains!r} only applies with persistent=True")
            n_chains = check_positive_int(n_chains, "n_chains")
        self.n_chains = n_chains
        self.tempering = self._check_tempering(tempering)
        self.learning_rate = check_nonnegative_float(learning_rate, "learning_rate", strict=True)
        if momentum is None:
            momentum = 0.0 if self.persistent else hinton_momentum
        self.momentum = _Schedule(momentum, "momentum", _check_momentum)
        self.weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        if sparsity_target is not None:
            sparsity_target = check_nonnegative_float(sparsity_target, "sparsity_target", maximum=1.0)
            if not 0.0 < sparsity_target < 1.0:
                raise ValidationError(f"sparsity_target must be in (0, 1), got {sparsity_target!r}")
        self.sparsity_target = sparsity_target
        self.sparsity_cost = check_nonnegative_float(sparsity_cost, "sparsity_cost")
        self.sparsity_decay = check_nonnegative_float(sparsity_decay, "sparsity_decay", maximum=1.0)
        if self.sparsity_decay >= 1.0:
            raise ValidationError(f"sparsity_decay must be < 1, got {sparsity_decay!r}")
        self.averaging = self._check_averaging(averaging)

    def _check_tempering(self, tempering):
        """None, or the ladder of temperatures as a tuple of floats (1 first, increasing)."""
        if tempering is None:
            return None
        if not self.persistent:
            raise ValidationError(f"tempering={tempering!r} only applies with persistent=True (tempered PCD)")
        if isinstance(tempering, (bool, np.bool_)):
            raise ParameterTypeError(f"tempering must be None, an int >= 2 or a sequence of temperatures, got {describe(tempering)}")
        if isinstance(tempering, numbers.Integral):
            n = check_int(tempering, "tempering", minimum=2)
            if n > MAX_TEMPERING_REPLICAS:  # refused before building the ladder
                raise ValidationError(f"tempering must be an int from 2 to {MAX_TEMPERING_REPLICAS}, got {n}")
            return tuple(float(t) for t in np.geomspace(1.0, DEFAULT_MAX_TEMPERATURE, n))
        if isinstance(tempering, str) or not isinstance(tempering, (Sequence, np.ndarray)):
            raise ParameterTypeError(f"tempering must be None, an int >= 2 or a sequence of temperatures, got {describe(tempering)}")
        ladder = []
        for i, value in enumerate(np.asarray(tempering, dtype=object).ravel() if isinstance(tempering, np.ndarray) else tempering):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
                raise ParameterTypeError(f"tempering[{i}] must be a real temperature, got {describe(value)}")
            ladder.append(float(value))
        if isinstance(tempering, np.ndarray) and tempering.ndim != 1:
            raise ValidationError(f"tempering must be a 1-d sequence of temperatures, got shape {tempering.shape}")
        if len(ladder) < 2:
            raise ValidationError(f"tempering needs at least two temperatures (use tempering=None for plain PCD), got {tempering!r}")
        if not all(math.isfinite(t) for t in ladder):
            raise ValidationError(f"tempering must hold finite temperatures, got {tempering!r}")
        if ladder[0] != 1.0:
            raise ValidationError(f"tempering must start at temperature 1 (the model's), got {tempering!r}")
        if any(b <= a for a, b in zip(ladder, ladder[1:])):
            raise ValidationError(f"tempering must be strictly increasing, got {tempering!r}")
        return tuple(ladder)

    @staticmethod
    def _check_averaging(averaging):
        if averaging is None:
            return None
        if isinstance(averaging, bool) or not isinstance(averaging, numbers.Real):
            raise ParameterTypeError(f"averaging must be None, an int >= 1 or a fraction in (0, 1], got {describe(averaging)}")
        if isinstance(averaging, numbers.Integral):
            return check_int(averaging, "averaging", minimum=1)
        value = float(averaging)
        if not 0.0 < value <= 1.0:
            raise ValidationError(f"averaging must be an int >= 1 or a fraction in (0, 1], got {averaging!r}")
        return value

    def _epochs_for(self, data) -> int:
        """``epochs``, or for ``"auto"`` as many epochs as make :data:`AUTO_UPDATES` parameter updates."""
        if self.epochs != "auto":
            return self.epochs
        updates_per_epoch = -(-data.shape[0] // self._batch_rows(data))
        return max(1, -(-AUTO_UPDATES // updates_per_epoch))

    def _averaged_epochs(self) -> int:
        """How many final epochs the returned parameters average (0: no averaging)."""
        if self.averaging is None:
            return 0
        if isinstance(self.averaging, int):
            return min(self.averaging, self.epochs)
        return max(1, int(round(self.averaging * self.epochs)))

    def _settings(self) -> dict:
        return {
            **super()._settings(),
            "k": self.k.describe(),
            "persistent": self.persistent,
            "n_chains": self.n_chains,
            "tempering": None if self.tempering is None else list(self.tempering),
            "learning_rate": self.learning_rate,
            "momentum": self.momentum.describe(),
            "weight_decay": self.weight_decay,
            "sparsity_target": self.sparsity_target,
            "sparsity_cost": self.sparsity_cost,
            "sparsity_decay": self.sparsity_decay,
            "averaging": self.averaging,
        }

    # ------------------------------------------------------------------ hooks
    def _check_model(self, model) -> None:
        if model.temperature != 1.0:
            raise ValidationError(
                f"training starts from a model at temperature 1, got temperature={model.temperature!r}; "
                "rescale its parameters (weights / T, biases / T) into a model at temperature 1"
            )

    def _initial_model(self, model_or_size, data, visible_names, rng):
        if isinstance(model_or_size, RestrictedBoltzmannMachine):
            return model_or_size
        return initial_rbm(int(model_or_size), data, visible_names, rng)

    def _batch_rows(self, data) -> int:
        return self.batch_size if self.batch_size is not None else data.shape[0]

    def _n_chains(self, data) -> int:
        if not self.persistent:
            return 0
        return self.n_chains if self.n_chains is not None else self._batch_rows(data)

    def _initial_state(self, model, data, rng):
        from . import _cd_engine  # imported on first use: it loads Numba

        n_chains = self._n_chains(data)
        n_replicas = 1 if self.tempering is None else len(self.tempering)
        check_chain_entries(
            n_chains * n_replicas, model.n_visible + model.n_hidden,
            f"n_chains={n_chains}" + ("" if self.tempering is None else f" with {n_replicas} tempering replicas"),
        )
        state = _cd_engine.new_state(
            model.weights, model.visible_bias, model.hidden_bias,
            n_chains=n_chains, n_streams=max(self._batch_rows(data), n_chains), dtype=self.dtype, rng=rng,
        )
        if self.sparsity_target is not None:
            state.hidden_activity[...] = self.sparsity_target
        sums = (np.zeros(model.weights.shape), np.zeros(model.n_visible), np.zeros(model.n_hidden))
        tempered = None
        if self.tempering is not None:
            from ._tempered import new_tempered_state

            tempered = new_tempered_state(state.chains, self.tempering, rng)
        return _State(state, sums, np.zeros(1, dtype=np.int64), tempered)

    def _run_epoch(self, state, data, order, epoch):
        from . import _cd_engine

        # PCD's reconstruction error is measured by a monitor (see _epoch_monitors): the epoch
        # would pay a product per update for it.
        options = {"reconstruction": False} if self.persistent else {}
        if state.tempered is not None:
            from ._tempered import swap_rates, tempered_epoch

            error = tempered_epoch(
                state.cd, state.tempered, data, order,
                batch_size=self._batch_rows(data), k=self.k(epoch),
                learning_rate=self.learning_rate, momentum=self.momentum(epoch), weight_decay=self.weight_decay,
                sparsity_target=self.sparsity_target, sparsity_cost=self.sparsity_cost,
                sparsity_decay=self.sparsity_decay, reconstruction=False,
            )
            metrics = swap_rates(state.tempered)
        else:
            metrics = {}
            error = _cd_engine.cd_epoch(
                state.cd, data, order,
                batch_size=self._batch_rows(data), k=self.k(epoch), persistent=self.persistent,
                learning_rate=self.learning_rate, momentum=self.momentum(epoch), weight_decay=self.weight_decay,
                sparsity_target=self.sparsity_target, sparsity_cost=self.sparsity_cost,
                sparsity_decay=self.sparsity_decay, **options,
            )
        if epoch > self.epochs - self._averaged_epochs():
            for total, current in zip(state.sums, (state.cd.weights, state.cd.visible_bias, state.cd.hidden_bias)):
                total += current
            state.count[0] += 1
        if "reconstruction" in options:
            return metrics
        return {"reconstruction_error": float(error) / data.shape[0], **metrics}

    def _epoch_monitors(self) -> list:
        """PCD: the reconstruction error on the monitors' fixed training subset, when ``monitor`` asks for it.

        CD's epochs compute it for free (the reconstruction is the chains' first step); PCD's
        chains do not start at the data, so it is measured after the epoch instead, on at most
        256 rows (:class:`~pgm_energy.learning.monitors.SampledReconstruction`): with the other
        monitors under ``monitor="auto"``, after every epoch when ``monitor`` names it.
        """
        from .monitors import SampledReconstruction

        if not self.persistent:
            return []
        if self.monitor == "auto":
            return [SampledReconstruction(self.dtype, every_epoch=False)]
        if "reconstruction_error" in self.monitor:
            return [SampledReconstruction(self.dtype)]
        return []

    def _parameters(self, state) -> tuple:
        return (state.cd.weights, state.cd.visible_bias, state.cd.hidden_bias)

    _binary_state = ("cd_chains", "pt_replicas")

    def _resume_settings(self) -> tuple[str, ...]:
        # The chains' layout depends on persistent / n_chains / tempering; the running sums of
        # averaging cover the epochs after `epochs - averaged epochs`, so a checkpoint only
        # continues to the same average with the same window.
        extra = ("averaging",) if self.averaging is None else ("averaging", "epochs")
        return (*super()._resume_settings(), "persistent", "n_chains", "tempering", *extra)

    def _check_state_values(self, arrays, template, epoch, damaged) -> None:
        averaged = self._averaged_epochs()
        expected = max(0, min(epoch, self.epochs) - (self.epochs - averaged)) if averaged else 0
        if int(arrays["sum_count"][0]) != expected:
            raise damaged(f"'sum_count' must be {expected} (averaged epochs so far), got {int(arrays['sum_count'][0])}")
        activity = arrays["cd_hidden_activity"]
        if activity.size and not (activity.min() >= 0.0 and activity.max() <= 1.0):
            raise damaged("'cd_hidden_activity' (a running mean of probabilities) must lie in [0, 1]")
        # sums of `expected` parameter sets, each within the runaway bound
        limit = expected * RUNAWAY_BOUND[self.dtype]
        for name in ("sum_weights", "sum_visible_bias", "sum_hidden_bias"):
            if arrays[name].size and np.abs(arrays[name]).max() > limit:
                raise damaged(f"'{name}' is beyond {expected} times the runaway bound")

    def _finite(self, state) -> bool:
        cd = state.cd
        return bool(
            np.isfinite(cd.weights).all() and np.isfinite(cd.visible_bias).all() and np.isfinite(cd.hidden_bias).all()
            and np.isfinite(cd.weights_velocity).all()
        )

    @staticmethod
    def _model(weights, visible_bias, hidden_bias, template) -> RestrictedBoltzmannMachine:
        return RestrictedBoltzmannMachine(
            np.asarray(weights, dtype=np.float64), np.asarray(visible_bias, dtype=np.float64),
            np.asarray(hidden_bias, dtype=np.float64),
            visible_names=template.visible_names, hidden_names=template.hidden_names,
        )

    def _model_from(self, state, template):
        return self._model(state.cd.weights, state.cd.visible_bias, state.cd.hidden_bias, template)

    def _deferred_model(self, state, template):
        # Copying three arrays costs microseconds; building a model (float64 copies, checks of
        # names and values) was most of an epoch's time on small data (bars and stripes).
        copies = tuple(np.array(array, copy=True) for array in self._parameters(state))
        return Deferred(lambda: self._model(*copies, template))

    def _final_model(self, state, template):
        count = int(state.count[0])
        if count == 0:
            return self._model_from(state, template)
        return self._model(*(total / count for total in state.sums), template)

    def _state_arrays(self, state) -> dict:
        arrays = {f"cd_{key}": value for key, value in state.cd._asdict().items()}
        arrays.update(sum_weights=state.sums[0], sum_visible_bias=state.sums[1], sum_hidden_bias=state.sums[2])
        arrays["sum_count"] = state.count
        if state.tempered is not None:
            arrays.update({f"pt_{key}": value for key, value in state.tempered._asdict().items()})
        return arrays

    def _restore(self, arrays, template, data):
        from . import _cd_engine

        fields = _cd_engine.CDState._fields
        missing = [name for name in fields if f"cd_{name}" not in arrays]
        if missing:
            raise ValidationError(f"the checkpoint lacks the training state {missing!r}")
        cd = _cd_engine.CDState(**{name: np.ascontiguousarray(arrays[f"cd_{name}"]).copy() for name in fields})
        if cd.weights.dtype != self.dtype:
            raise ValidationError(f"the checkpoint was trained in {cd.weights.dtype}, this trainer uses {self.dtype}")
        sums = tuple(np.array(arrays[key], dtype=np.float64) for key in ("sum_weights", "sum_visible_bias", "sum_hidden_bias"))
        tempered = None
        if self.tempering is not None:
            from ._tempered import TemperedState

            missing = [name for name in TemperedState._fields if f"pt_{name}" not in arrays]
            if missing:
                raise ValidationError(f"the checkpoint lacks the tempering state {missing!r} (written without tempering?)")
            tempered = TemperedState(**{name: np.ascontiguousarray(arrays[f"pt_{name}"]).copy()
                                        for name in TemperedState._fields})
            if not np.array_equal(tempered.betas, 1.0 / np.asarray(self.tempering)):
                raise ModelFileError(f"the checkpoint was trained with another tempering ladder than {self.tempering!r}")
        return _State(cd, sums, np.array(arrays["sum_count"], dtype=np.int64).reshape(1), tempered)
