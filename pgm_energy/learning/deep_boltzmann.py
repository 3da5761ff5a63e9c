r"""Training deep Boltzmann machines: greedy layer-wise pretraining, then joint training by mean field and PCD.

The recipe of Salakhutdinov & Hinton (2009, "Deep Boltzmann machines", AISTATS; 2012, "An efficient
learning procedure for deep Boltzmann machines", *Neural Computation* 24).

Pretraining (:func:`pretrain_deep_boltzmann`)
---------------------------------------------
A stack of RBMs is trained bottom-up, each on the hidden probabilities of the one below, then
composed into one machine. In the composed machine every middle layer gets input from *two*
neighbours, where its RBM saw one; to keep the total input of each layer about right, the RBMs are
trained with that input doubled:

* the bottom RBM (``v - h1``) computes ``p(h1 | v) = sigmoid(c + 2 W^T v)`` (the visible layer counted
  twice) and ``p(v | h1) = sigmoid(b + W h1)``;
* the top RBM (``h_{L-1} - h_L``) computes ``p(h_L | h_{L-1}) = sigmoid(c + W^T h_{L-1})`` and
  ``p(h_{L-1} | h_L) = sigmoid(b + 2 W h_L)``;
* a middle RBM doubles both directions (which is the 2012 paper's "train normally, halve the
  weights" up to the learning rate).

The composed machine takes each RBM's weights as they are, the visible bias of the bottom RBM, the
hidden bias of the top one, and for a middle layer the mean of the two biases it received (its
hidden bias below and its visible bias above: each RBM supplied half the layer's input). Each RBM is
trained by CD-1 with momentum and weight decay on mini-batches (NumPy: a few seconds per layer on
digits).

Joint training (:class:`DeepBoltzmannPCD`)
------------------------------------------
The gradient of the mean log-likelihood is, for each weight matrix,
``<x_l x_{l+1}^T>_{p(h|v) data} - <x_l x_{l+1}^T>_{model}`` (and the same for the biases with single
layers). For each mini-batch:

* positive phase: the mean-field posterior ``mu`` of the hidden layers given the rows
  (:mod:`pgm_energy._mean_field`; started bottom-up with doubled weights, at most
  ``mean_field_iterations`` sweeps of all odd then all even layers), used in place of the intractable
  ``p(h | v)`` (this maximises the variational lower bound, not the likelihood itself);
* negative phase: ``n_chains`` persistent chains (Tieleman 2008), each advanced ``k`` two-colour block
  Gibbs sweeps (all odd layers given the even ones, then all even layers, the visible layer
  included), with the current parameters;
* ``step = <mu_l mu_{l+1}^T>_batch - <x_l x_{l+1}^T>_chains - weight_decay W_l``;
  ``velocity = momentum velocity + learning_rate step``; ``theta += velocity`` (no decay on biases).

The run's parameters can be averaged over its last epochs (``averaging``), which smooths PCD's
noise as for the other trainers. All randomness of an epoch comes from a generator seeded by the
run's seed and the epoch number, so a checkpoint between epochs resumes bit for bit.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._blas import one_thread
from .._mean_field import initial_means, mean_field
from .._validation import check_int, check_rng, describe
from ..exceptions import ParameterTypeError, ValidationError
from ..models import DeepBoltzmannMachine
from ..models._base import MAX_PARAMETERS
from ._trainer import (
    MAX_EPOCHS,
    MAX_GIBBS_STEPS,
    RUNAWAY_BOUND,
    Deferred,
    Trainer,
    check_chain_entries,
    check_nonnegative_float,
    check_positive_int,
    trainer_options,
)
from .contrastive_divergence import ContrastiveDivergence, _check_momentum, _Schedule, hinton_momentum
from .monitors import check_monitor_spec

__all__ = ["DeepBoltzmannPCD", "pretrain_deep_boltzmann", "DEEP_MONITORS"]

_POSITIVE_PHASES = ("mean_field", "gibbs")
#: the monitors ``monitor=`` may name for a deep Boltzmann machine
DEEP_MONITORS = ("log_likelihood", "log_likelihood_bound")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` in the dtype of ``x`` (tanh form: no overflow)."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _field(parameters, layers: list, layer: int) -> np.ndarray:
    """The input of ``layer`` from its neighbours' states, biases included (T = 1)."""
    field = parameters.biases[layer] + (layers[layer - 1] @ parameters.weights[layer - 1] if layer else 0.0)
    if layer < len(layers) - 1:
        field = field + layers[layer + 1] @ parameters.weights[layer].T
    return field


def _block_gibbs(parameters, layers: list, generator, sweeps: int, *, clamp_visible: bool) -> None:
    """``sweeps`` two-colour sweeps of 0/1 ``layers`` in place: all odd layers, then all even ones.

    Uniforms are drawn layer by layer in that order, in the layers' dtype.
    """
    order = list(range(1, len(layers), 2)) + list(range(2 if clamp_visible else 0, len(layers), 2))
    for _ in range(sweeps):
        for layer in order:
            probabilities = _sigmoid(_field(parameters, layers, layer))
            layers[layer][...] = generator.random(probabilities.shape, dtype=layers[layer].dtype) < probabilities


class _Parameters(NamedTuple):
    """The layers' parameters in the training dtype, in the shape :mod:`pgm_energy._mean_field` reads."""

    weights: list
    biases: list
    temperature: float = 1.0

    @property
    def n_layers(self) -> int:
        return len(self.biases)

    @property
    def n_visible(self) -> int:
        return self.biases[0].shape[0]

    @property
    def layer_sizes(self) -> tuple:
        return tuple(bias.shape[0] for bias in self.biases)


def _check_hidden_sizes(sizes, name: str) -> tuple[int, ...]:
    """At least two hidden layer sizes, each an int >= 1."""
    if (
        isinstance(sizes, (str, bytes))
        or not isinstance(sizes, (list, tuple, np.ndarray))
        or (isinstance(sizes, np.ndarray) and sizes.ndim != 1)  # 0-d: not iterable; 2-d: rows
    ):
        raise ParameterTypeError(
            f"{name} must be a DeepBoltzmannMachine or a list of hidden layer sizes (at least 2), got {describe(sizes)}"
        )
    sizes = tuple(check_int(size, f"{name}[{k}]", minimum=1) for k, size in enumerate(sizes))
    if len(sizes) < 2:
        raise ValidationError(
            f"{name} must list at least 2 hidden layer sizes (one is an RBM: use ContrastiveDivergence), got {list(sizes)}"
        )
    return sizes


def _parameter_count(n_visible: int, sizes) -> int:
    layers = (n_visible, *sizes)
    return sum(a * b for a, b in zip(layers[:-1], layers[1:]))


def _visible_log_odds(data: np.ndarray) -> np.ndarray:
    """Hinton's starting visible bias: the log-odds of each column's mean, clipped to [0.001, 0.999]."""
    p = np.clip(np.asarray(data, dtype=np.float64).mean(axis=0), 1e-3, 1 - 1e-3)
    return np.log(p / (1 - p))


# ---------------------------------------------------------------------------- pretraining
@np.errstate(over="ignore", invalid="ignore")  # a run that overflows is refused after its epoch, by name
def _train_doubled_rbm(data, n_hidden, up, down, *, epochs, learning_rate, weight_decay, batch_size, generator):
    """CD-1 for an RBM whose upward (``up``) and downward (``down``) inputs are multiplied by 1 or 2.

    ``data`` holds probabilities or 0/1 values, shape (n_rows, n_visible). Returns
    ``(W, b, c, reconstruction_errors)``: the error per epoch is the mean squared difference
    between the rows and their one-step reconstructions' probabilities.
    """
    n_rows, n_visible = data.shape
    weights = generator.normal(0.0, 0.01, size=(n_visible, n_hidden))
    b = _visible_log_odds(data)
    c = np.zeros(n_hidden)
    velocities = [np.zeros_like(weights), np.zeros_like(b), np.zeros_like(c)]
    errors = []
    for epoch in range(1, epochs + 1):
        momentum = hinton_momentum(epoch)
        order = generator.permutation(n_rows)
        error = 0.0
        for start in range(0, n_rows, batch_size):
            batch = data[order[start : start + batch_size]]
            positive = _sigmoid(up * (batch @ weights) + c)
            hidden = (generator.random(positive.shape) < positive).astype(np.float64)
            reconstruction = _sigmoid(down * (hidden @ weights.T) + b)
            negative = _sigmoid(up * (reconstruction @ weights) + c)
            error += float(np.sum(np.square(batch - reconstruction)))
            n = batch.shape[0]
            steps = (
                (batch.T @ positive - reconstruction.T @ negative) / n - weight_decay * weights,
                batch.mean(axis=0) - reconstruction.mean(axis=0),
                positive.mean(axis=0) - negative.mean(axis=0),
            )
            for parameter, velocity, step in zip((weights, b, c), velocities, steps):
                velocity *= momentum
                velocity += learning_rate * step
                parameter += velocity
        largest = max(float(np.max(np.abs(parameter))) for parameter in (weights, b, c))
        if not largest <= RUNAWAY_BOUND[np.dtype(np.float64)]:  # NaN too
            raise ValidationError(
                f"pretraining diverged in epoch {epoch}: a parameter reached magnitude {largest:.3g}, beyond "
                f"{RUNAWAY_BOUND[np.dtype(np.float64)]:.3g} (try a smaller learning_rate={learning_rate!r} or a "
                f"smaller learning_rate * weight_decay={learning_rate * weight_decay!r})"
            )
        errors.append(error / (n_rows * n_visible))
    return weights, b, c, errors


def pretrain_deep_boltzmann(data, hidden_sizes, *, epochs=20, learning_rate=0.05, weight_decay=2e-4, batch_size=20,
                            binarize=None, rng=None, return_errors=False):
    """Greedy layer-wise pretraining of a deep Boltzmann machine (see the module docstring).

    Parameters
    ----------
    data : array_like of 0/1, shape (n_rows, n_visible), or pandas.DataFrame
        Its columns name the visible units of the machine.
    hidden_sizes : sequence of int >= 1, at least 2
        Units of ``h1, ..., hL``.
    epochs : int, 1 to 10**9 (the trainers' ``MAX_EPOCHS``), default 20
        CD-1 epochs per RBM.
    learning_rate : float > 0, default 0.05
    weight_decay : float >= 0, default 2e-4
    batch_size : int >= 1, default 20
    binarize : float, optional
        As the trainers': values above it are 1.
    rng : None, int or numpy.random.Generator
    return_errors : bool, default False
        Also return the reconstruction error per epoch of each RBM.

    Returns
    -------
    DeepBoltzmannMachine
        At temperature 1; ``(machine, errors)`` with ``errors[l]`` a list of floats when
        ``return_errors``.

    Examples
    --------
    >>> import numpy as np
    >>> data = (np.random.default_rng(0).random((200, 12)) < 0.3).astype(np.uint8)
    >>> dbm = pretrain_deep_boltzmann(data, [8, 4], epochs=2, rng=0)
    >>> dbm.layer_sizes
    (12, 8, 4)
    """
    sizes = _check_hidden_sizes(hidden_sizes, "hidden_sizes")
    epochs = check_positive_int(epochs, "epochs", maximum=MAX_EPOCHS)
    learning_rate = check_nonnegative_float(learning_rate, "learning_rate", strict=True)
    weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
    batch_size = check_positive_int(batch_size, "batch_size")
    if not isinstance(return_errors, (bool, np.bool_)):
        raise ParameterTypeError(f"return_errors must be True or False, got {describe(return_errors)}")
    checker = DeepBoltzmannPCD(binarize=binarize, batch_size=batch_size)
    rows, visible_names = checker._check_data(data, None, "data")
    if batch_size > rows.shape[0]:
        raise ValidationError(f"batch_size={batch_size} is larger than the data ({rows.shape[0]} rows)")
    count = _parameter_count(rows.shape[1], sizes)
    if count > MAX_PARAMETERS:
        raise ValidationError(f"hidden_sizes={list(sizes)} with {rows.shape[1]} visible units need {count} weights, "
                              f"more than {MAX_PARAMETERS}")
    generator = check_rng(rng)
    below = np.asarray(rows, dtype=np.float64)
    weights, visible_biases, hidden_biases, errors = [], [], [], []
    top = len(sizes) - 1
    for layer, size in enumerate(sizes):
        up = 1.0 if layer == top else 2.0
        down = 1.0 if layer == 0 else 2.0
        w, b, c, layer_errors = _train_doubled_rbm(
            below, size, up, down, epochs=epochs, learning_rate=learning_rate, weight_decay=weight_decay,
            batch_size=batch_size, generator=generator,
        )
        weights.append(w)
        visible_biases.append(b)
        hidden_biases.append(c)
        errors.append(layer_errors)
        below = _sigmoid(up * (below @ w) + c)  # the next RBM's data: this one's hidden probabilities
    biases = [visible_biases[0]]
    for layer in range(1, len(sizes)):
        biases.append(0.5 * (hidden_biases[layer - 1] + visible_biases[layer]))
    biases.append(hidden_biases[-1])
    names = list(visible_names) + [f"h{k}_{j}" for k, size in enumerate(sizes, start=1) for j in range(size)]
    machine = DeepBoltzmannMachine(weights, biases, names=names)
    return (machine, errors) if return_errors else machine


# ---------------------------------------------------------------------------- joint training
class DeepBoltzmannPCD(Trainer):
    """Joint training of a deep Boltzmann machine: mean-field positive phase, persistent chains (PCD).

    See the module docstring for what one update computes. Start from
    :func:`pretrain_deep_boltzmann`'s machine (the recipe of Salakhutdinov & Hinton), or from a list
    of hidden layer sizes (small random weights, visible biases at the data's log-odds).

    Parameters
    ----------
    learning_rate : float > 0, callable ``epoch -> float`` or sequence, default 0.005
    momentum : float in [0, 1], callable or sequence, default Hinton's schedule (0.5, then 0.9 from epoch 6)
    weight_decay : float >= 0, default 2e-4
        L2 penalty on the weights (not the biases).
    n_chains : int >= 1, optional
        Persistent chains (fantasy particles); default: as many as the rows of a mini-batch.
    k : int >= 1, default 5
        Two-colour block Gibbs sweeps of the chains per update.
    mean_field_iterations : int >= 1, default 30
        Cap on the mean-field sweeps per mini-batch.
    mean_field_tolerance : float >= 0, default 1e-5
        Mean-field stops when no mean moves by more than this in a sweep.
    positive_phase : {"mean_field", "gibbs"}, default "mean_field"
        How ``p(h | v)`` of the rows is stood for: the mean-field fixed point (Salakhutdinov & Hinton),
        or one persistent chain per training row, advanced ``k`` two-colour sweeps with its row
        clamped each time the row is in a batch (its odd layers enter as conditional means: an
        unbiased estimate of the posterior statistics in the chains' stationary limit).
    averaging : None, int >= 1 or float in (0, 1], default None
        Return the mean of the parameters over the last ``averaging`` epochs (a fraction: of the
        run's epochs).
    batch_size : int >= 1, default 100
    epochs, monitor, monitor_every, checkpoint_every, checkpoint_path, binarize, dtype
        As :class:`~pgm_energy.learning._trainer.Trainer`. ``monitor`` names come from
        :data:`DEEP_MONITORS`: ``"log_likelihood"`` (exact, by enumerating the odd layers) and
        ``"log_likelihood_bound"`` (:class:`~pgm_energy.learning.monitors.MeanFieldBound`: the
        mean-field bound and the AIS ``log Z`` it uses). ``"auto"``: the exact log-likelihood when the
        odd layers have at most 20 units, else the bound.

    Notes
    -----
    The history reports ``mean_field_sweeps``: the mean number of sweeps mean field took per
    mini-batch in the epoch (at the cap: raise ``mean_field_iterations``).

    Examples
    --------
    >>> import numpy as np
    >>> data = (np.random.default_rng(0).random((200, 12)) < 0.3).astype(np.uint8)
    >>> start = pretrain_deep_boltzmann(data, [8, 4], epochs=2, rng=0)
    >>> result = DeepBoltzmannPCD(epochs=2, batch_size=50, monitor=None).fit(start, data, rng=0, progress=False)
    >>> result.model.layer_sizes, result.stop_reason
    ((12, 8, 4), 'completed')
    """

    _model_types = (DeepBoltzmannMachine,)
    _binary_state = ("chains", "positive_chains")

    def __init__(self, *, learning_rate=0.005, momentum=hinton_momentum, weight_decay=2e-4, n_chains=None, k=5,
                 mean_field_iterations=30, mean_field_tolerance=1e-5, positive_phase="mean_field", averaging=None, batch_size=100, epochs=50,
                 monitor="auto", monitor_every=None, checkpoint_every=None, checkpoint_path=None, binarize=None,
                 dtype="float32"):
        self.learning_rate = _Schedule(learning_rate, "learning_rate",
                                       lambda value, name: check_nonnegative_float(value, name, strict=True))
        self.momentum = _Schedule(momentum, "momentum", _check_momentum)
        self.weight_decay = check_nonnegative_float(weight_decay, "weight_decay")
        self.n_chains = None if n_chains is None else check_positive_int(n_chains, "n_chains")
        self.k = check_positive_int(k, "k", maximum=MAX_GIBBS_STEPS)
        self.mean_field_iterations = check_positive_int(mean_field_iterations, "mean_field_iterations")
        self.mean_field_tolerance = check_nonnegative_float(mean_field_tolerance, "mean_field_tolerance")
        if not isinstance(positive_phase, str) or positive_phase not in _POSITIVE_PHASES:
            raise ValidationError(f"positive_phase must be one of {_POSITIVE_PHASES!r}, got {describe(positive_phase)}")
        self.positive_phase = positive_phase
        self.averaging = ContrastiveDivergence._check_averaging(averaging)
        options = trainer_options(locals())
        options["monitor"] = check_monitor_spec(monitor, model_kind="a deep Boltzmann machine", names=DEEP_MONITORS)
        super().__init__(**options, dtype=dtype)

    # ------------------------------------------------------------------ options
    def _settings(self) -> dict:
        return {
            **super()._settings(),
            "learning_rate": self.learning_rate.describe(),
            "momentum": self.momentum.describe(),
            "weight_decay": self.weight_decay,
            "n_chains": self.n_chains,
            "k": self.k,
            "mean_field_iterations": self.mean_field_iterations,
            "mean_field_tolerance": self.mean_field_tolerance,
            "positive_phase": self.positive_phase,
            "averaging": self.averaging,
        }

    def _resume_settings(self) -> tuple[str, ...]:
        extra = ("averaging",) if self.averaging is None else ("averaging", "epochs")
        return ("batch_size", "dtype", "n_chains", "positive_phase", *extra)

    def _averaged_epochs(self) -> int:
        return ContrastiveDivergence._averaged_epochs(self)

    def _n_chains(self, data) -> int:
        if self.n_chains is not None:
            return self.n_chains
        return self.batch_size if self.batch_size is not None else data.shape[0]

    def _check_size(self, size):
        return _check_hidden_sizes(size, "model_or_size")

    def _size_of(self, model):
        return tuple(model.layer_sizes[1:])

    def _parameter_count(self, n_visible: int, n_hidden) -> int:
        return _parameter_count(n_visible, n_hidden)

    def _check_model(self, model) -> None:
        if model.temperature != 1.0:
            raise ValidationError(
                f"training starts from a model at temperature 1, got temperature={model.temperature!r} "
                "(use model.with_temperature(1.0) or rescale its parameters)"
            )

    # ------------------------------------------------------------------ the state
    def _initial_model(self, model_or_size, data, visible_names, rng):
        if isinstance(model_or_size, DeepBoltzmannMachine):
            return model_or_size
        sizes = (data.shape[1], *self._check_size(model_or_size))
        weights = [rng.normal(0.0, 0.01, size=(a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        biases = [_visible_log_odds(data)] + [np.zeros(size) for size in sizes[1:]]
        names = list(visible_names) + [f"h{k}_{j}" for k, size in enumerate(sizes[1:], start=1) for j in range(size)]
        return DeepBoltzmannMachine(weights, biases, names=names)

    def _initial_state(self, model, data, rng):
        dtype = self.dtype
        n_chains = self._n_chains(data)
        check_chain_entries(n_chains, model.n_units, f"n_chains={n_chains}")
        # chains start at training rows, their hidden layers drawn bottom-up with doubled weights
        start = np.asarray(data[rng.integers(0, data.shape[0], size=n_chains)], dtype=np.float64)
        means = initial_means(model, start)
        chains = np.concatenate([means[0]] + [(rng.random(m.shape) < m).astype(np.float64) for m in means[1:]], axis=1)
        state = {"chains": chains.astype(dtype), "seeds": rng.integers(0, 2**62, size=1, dtype=np.int64),
                 "sum_count": np.zeros(1, dtype=np.int64)}
        if self.positive_phase == "gibbs":
            # one chain of the hidden layers per training row, started from a bottom-up draw
            means = initial_means(model, np.asarray(data, dtype=np.float64))
            state["positive_chains"] = np.concatenate(
                [(rng.random(m.shape) < m) for m in means[1:]], axis=1).astype(dtype)
        for k, matrix in enumerate(model.weights):
            state[f"weights{k}"] = np.array(matrix, dtype=dtype, order="C")
            state[f"weights_velocity{k}"] = np.zeros(matrix.shape, dtype=dtype)
            state[f"sum_weights{k}"] = np.zeros(matrix.shape)
        for k, bias in enumerate(model.biases):
            state[f"bias{k}"] = np.array(bias, dtype=dtype)
            state[f"bias_velocity{k}"] = np.zeros(bias.shape, dtype=dtype)
            state[f"sum_bias{k}"] = np.zeros(bias.shape)
        return state

    @staticmethod
    def _n_layers(state) -> int:
        return sum(1 for name in state if name.startswith("bias") and name[4:].isdigit())

    def _current(self, state) -> _Parameters:
        n = self._n_layers(state)
        return _Parameters([state[f"weights{k}"] for k in range(n - 1)], [state[f"bias{k}"] for k in range(n)])

    # ------------------------------------------------------------------ the epoch
    def _run_epoch(self, state, data, order, epoch):
        generator = np.random.default_rng([int(state["seeds"][0]), epoch])
        rows = self.batch_size if self.batch_size is not None else data.shape[0]
        rate, momentum = self.learning_rate(epoch), self.momentum(epoch)
        sweeps, batches = 0, 0
        with one_thread():
            for start in range(0, order.shape[0], rows):
                batch = data[order[start : start + rows]]
                indices = order[start : start + rows]
                sweeps += self._update(state, indices, batch, generator, rate, momentum)
                batches += 1
        if epoch > self.epochs - self._averaged_epochs():
            for name in [name for name in state if name.startswith("sum_") and name != "sum_count"]:
                state[name] += state[name[4:]]
            state["sum_count"][0] += 1
        return {"mean_field_sweeps": sweeps / batches} if self.positive_phase == "mean_field" else {}

    def _update(self, state, rows, batch, generator, rate, momentum) -> int:
        """One mini-batch update of ``state`` in place; returns the mean-field sweeps it took (0 for Gibbs).

        ``rows`` are the batch's row indices in the training data (they pick its positive chains).
        """
        parameters = self._current(state)
        n_layers = parameters.n_layers
        dtype = self.dtype
        offsets = np.concatenate([[0], np.cumsum(parameters.layer_sizes)])
        if self.positive_phase == "mean_field":
            posterior = mean_field(parameters, initial_means(parameters, batch),
                                   max_iterations=self.mean_field_iterations, tolerance=self.mean_field_tolerance)
            positive, sweeps = [np.asarray(layer, dtype=dtype) for layer in posterior.means], posterior.n_iterations
        else:
            # persistent chains of the hidden layers, one per training row, with the row clamped
            hidden = state["positive_chains"][rows]
            layers = [np.asarray(batch, dtype=dtype)] + [hidden[:, offsets[k] - offsets[1] : offsets[k + 1] - offsets[1]]
                                                         for k in range(1, n_layers)]
            _block_gibbs(parameters, layers, generator, self.k, clamp_visible=True)
            state["positive_chains"][rows] = np.concatenate(layers[1:], axis=1)
            # Rao-Blackwellised statistics: each odd layer by its conditional mean given the even ones
            positive = [layer if k % 2 == 0 else _sigmoid(_field(parameters, layers, k)) for k, layer in enumerate(layers)]
            sweeps = 0
        chains = state["chains"]
        layers = [chains[:, offsets[k] : offsets[k + 1]] for k in range(n_layers)]  # views: updated in place
        _block_gibbs(parameters, layers, generator, self.k, clamp_visible=False)
        n, m = batch.shape[0], chains.shape[0]
        for k in range(n_layers):
            if k < n_layers - 1:
                step = (positive[k].T @ positive[k + 1]) / n - (layers[k].T @ layers[k + 1]) / m
                if self.weight_decay:
                    step -= self.weight_decay * state[f"weights{k}"]
                velocity = state[f"weights_velocity{k}"]
                velocity *= momentum
                velocity += rate * step
                state[f"weights{k}"] += velocity
            step = positive[k].mean(axis=0) - layers[k].mean(axis=0)
            velocity = state[f"bias_velocity{k}"]
            velocity *= momentum
            velocity += rate * step
            state[f"bias{k}"] += velocity
        return sweeps

    # ------------------------------------------------------------------ models and checkpoints
    def _parameters(self, state) -> tuple:
        return tuple(state[name] for name in state if name.startswith(("weights", "bias")) and name[-1].isdigit()
                     and "velocity" not in name)

    def _model(self, weights, biases, template) -> DeepBoltzmannMachine:
        return DeepBoltzmannMachine([np.asarray(w, dtype=np.float64) for w in weights],
                                    [np.asarray(b, dtype=np.float64) for b in biases], names=template.names)

    def _model_from(self, state, template):
        parameters = self._current(state)
        return self._model(parameters.weights, parameters.biases, template)

    def _deferred_model(self, state, template):
        parameters = self._current(state)
        weights = [w.copy() for w in parameters.weights]
        biases = [b.copy() for b in parameters.biases]
        return Deferred(lambda: self._model(weights, biases, template))

    def _final_model(self, state, template):
        count = int(state["sum_count"][0])
        if count == 0:
            return self._model_from(state, template)
        n = self._n_layers(state)
        return self._model([state[f"sum_weights{k}"] / count for k in range(n - 1)],
                           [state[f"sum_bias{k}"] / count for k in range(n)], template)

    def _state_arrays(self, state) -> dict:
        return dict(state)

    def _restore(self, arrays, template, data):
        expected = self._initial_state(template, data, np.random.default_rng(0)).keys()
        missing = [name for name in expected if name not in arrays]
        if missing:
            raise ValidationError(f"the checkpoint lacks the training state {missing!r}")
        state = {name: np.ascontiguousarray(arrays[name]).copy() for name in expected}
        if state["weights0"].dtype != self.dtype:
            raise ValidationError(f"the checkpoint was trained in {state['weights0'].dtype}, this trainer uses {self.dtype}")
        return state

    def _state_layout(self, template, data) -> dict:
        state = self._initial_state(template, data, np.random.default_rng(0))
        return {name: (np.shape(value), np.asarray(value).dtype) for name, value in state.items()}

    def _check_state_values(self, arrays, template, epoch, damaged) -> None:
        averaged = self._averaged_epochs()
        expected = max(0, min(epoch, self.epochs) - (self.epochs - averaged)) if averaged else 0
        if int(arrays["sum_count"][0]) != expected:
            raise damaged(f"'sum_count' must be {expected} (averaged epochs so far), got {int(arrays['sum_count'][0])}")
        limit = expected * RUNAWAY_BOUND[self.dtype]
        for name in [name for name in arrays if name.startswith("sum_") and name != "sum_count"]:
            if arrays[name].size and np.abs(arrays[name]).max() > limit:
                raise damaged(f"'{name}' is beyond {expected} times the runaway bound")
