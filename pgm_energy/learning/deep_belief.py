"""Training of deep belief networks: greedy layer-wise stacking and up-down fine-tuning.

- :func:`fit_greedy` trains one RBM per layer, bottom up (Hinton, Osindero & Teh, 2006), with any
  RBM trainer, and stacks them into a :class:`~pgm_energy.DeepBeliefNetwork` with tied
  recognition weights.
- :class:`UpDownFineTuning` is the contrastive wake-sleep ("up-down") algorithm of the same paper
  (appendix B) as a :class:`~pgm_energy.learning.Trainer`: the shared loop gives it the history,
  callbacks, checkpoints, exact resumption, divergence detection and Ctrl-C handling of the
  other trainers.

:meth:`DeepBeliefNetwork.fit_greedy` and :meth:`DeepBeliefNetwork.fine_tune` hand off here.
"""

from __future__ import annotations

import copy

import numpy as np

from .._math import sigmoid
from .._validation import (
    MAX_SWEEPS,
    check_array_size,
    check_finite_array,
    check_int,
    check_names,
    check_rng,
    check_states,
    describe,
)
from ..exceptions import ParameterTypeError, StateError, TrainingDivergedError, ValidationError
from ..models import DeepBeliefNetwork, RestrictedBoltzmannMachine
from ..models.deep_belief import network_rows
from ..models._layered import check_layer_sizes
from ._trainer import RUNAWAY_BOUND, Trainer, generator_from_json, generator_state_json

__all__ = ["fit_greedy", "UpDownFineTuning", "fine_tune"]

# Bytes of the checkpoint member holding the epoch generator's state (JSON, space-padded): a fixed
# size, so the checkpoint layout does not depend on the digits of the state; MT19937 needs ~8 kB.
_GENERATOR_BYTES = 16384


# ---------------------------------------------------------------------------- greedy stacking
def fit_greedy(data, layer_sizes, *, trainer=None, rng=None, progress=True) -> DeepBeliefNetwork:
    """Greedy layer-wise training (Hinton, Osindero & Teh, 2006): one RBM per layer, bottom up.

    RBM ``k`` is trained on the data (``k = 0``) or on the activities of the hidden layer of
    RBM ``k - 1`` driven by the data below it. The activities are **binary samples**: each row
    of the layer below gives one sample of ``p(h | x)``, drawn once (not redrawn each epoch).
    Hinton et al. pass samples or probabilities in different places; samples are chosen
    here because each RBM then models binary vectors, as it assumes, and the trainers take
    binary data. The stacked RBMs become a network with tied recognition weights
    (:meth:`DeepBeliefNetwork.from_rbms`).

    Parameters
    ----------
    data : array_like of 0/1, shape (n_samples, n_visible), or pandas.DataFrame
        A DataFrame's columns name the visible units.
    layer_sizes : sequence of int >= 1, length >= 2
        Hidden units per layer, bottom first (the visible layer is given by ``data``).
    trainer : trainer or sequence of trainers, optional
        An object with ``fit(n_hidden, data, rng=..., progress=...) -> TrainingResult``,
        such as :class:`~pgm_energy.learning.ContrastiveDivergence`, for every layer, or one
        per layer. Default ``ContrastiveDivergence()`` for each layer: its defaults make about
        100,000 parameter updates per layer (``epochs="auto"``), which is thorough but not quick
        on large data; pass ``ContrastiveDivergence(epochs=...)`` for a shorter run.
    rng : None, int or numpy.random.Generator
        Drives every trainer and every sample of the hidden activities.
    progress : bool, default True
        Passed to the trainers.

    Returns
    -------
    DeepBeliefNetwork
    """
    sizes = check_layer_sizes(layer_sizes)
    if len(sizes) < 2:
        raise ValidationError(
            f"layer_sizes must hold at least 2 hidden layers, got {list(layer_sizes)!r}; "
            "for one hidden layer train a RestrictedBoltzmannMachine"
        )
    if trainer is None:
        from .contrastive_divergence import ContrastiveDivergence

        trainers = [ContrastiveDivergence() for _ in sizes]
    elif isinstance(trainer, (list, tuple)):
        if len(trainer) != len(sizes):
            raise ValidationError(
                f"trainer must be one trainer or one per layer ({len(sizes)}), got a sequence of {len(trainer)}"
            )
        trainers = list(trainer)
    else:
        trainers = [trainer] * len(sizes)
    for k, item in enumerate(trainers):
        if not callable(getattr(item, "fit", None)):
            raise ParameterTypeError(f"trainer must have a fit() method, got {describe(item)} for layer {k}")
    if not isinstance(progress, (bool, np.bool_)):
        raise ParameterTypeError(f"progress must be True or False, got {describe(progress)}")
    visible_names = None
    if hasattr(data, "columns") and hasattr(data, "to_numpy"):
        visible_names = check_names([str(column) for column in data.columns], data.shape[1], "data columns")
        data = data.to_numpy()
    try:
        shape = np.shape(data)
    except (TypeError, ValueError):  # ragged nesting
        shape = None
    if shape is None or len(shape) != 2:
        raise StateError(f"data must be a 2-D array (n_samples, n_visible) of 0/1 values, got {describe(data)}")
    layer_data, _ = check_states(data, shape[1], "data")
    if layer_data.shape[0] == 0:
        raise ValidationError("data must hold at least one sample, got 0 rows")
    generator = check_rng(rng)
    layer_data = layer_data.astype(np.uint8)
    rbms = []
    for k, (n_hidden, fitter) in enumerate(zip(sizes, trainers)):
        result = fitter.fit(n_hidden, layer_data, rng=generator, progress=bool(progress))
        rbm = getattr(result, "model", result)
        if not isinstance(rbm, RestrictedBoltzmannMachine) or rbm.n_hidden != n_hidden:
            raise ParameterTypeError(
                f"the trainer of layer {k} must return a RestrictedBoltzmannMachine with {n_hidden} hidden units, "
                f"got {describe(rbm)}"
            )
        rbms.append(rbm)
        if k < len(sizes) - 1:
            probabilities = sigmoid(layer_data @ rbm.weights + rbm.hidden_bias)
            layer_data = (generator.random(probabilities.shape) < probabilities).astype(np.uint8)
    names = None
    if visible_names is not None:
        names = list(visible_names) + [f"h{k}_{j}" for k, size in enumerate(sizes, start=1) for j in range(size)]
    return DeepBeliefNetwork.from_rbms(rbms, names=names)


# ---------------------------------------------------------------------------- up-down fine-tuning
class _UpDownState:
    """The parameters being tuned (float64 copies) and the generator of the epochs' draws."""

    __slots__ = ("generative_weights", "generative_biases", "recognition_weights", "recognition_biases",
                 "top_weights", "top_visible_bias", "top_hidden_bias", "generator")

    def parts(self) -> list:
        """Every parameter array, in a fixed order."""
        return [*self.generative_weights, *self.generative_biases, *self.recognition_weights,
                *self.recognition_biases, self.top_weights, self.top_visible_bias, self.top_hidden_bias]


class UpDownFineTuning(Trainer):
    """Up-down fine-tuning of a deep belief network (the contrastive wake-sleep of Hinton, Osindero & Teh, 2006, appendix B).

    For each mini-batch: a *wake* (up) pass samples every layer up to ``L - 1`` from the
    recognition model; the generative weights of each directed layer move towards
    reconstructing the layer below from the layer above (the delta rule
    ``(x^(k) - p(x^(k) | x^(k+1))) x^(k+1)'``); the top RBM is updated by CD-``k``
    started from the wake states of layer ``L - 1``; a *sleep* (down) pass samples the
    directed layers from the generative model, starting at the top RBM's negative-phase
    states, and the recognition weights move towards recovering each layer from the one
    below (``x^(k) (x^(k+1) - q(x^(k+1) | x^(k)))'``). Plain gradient steps of size
    ``learning_rate`` (no momentum), an L2 ``weight_decay`` on the weights only; every
    gradient of a mini-batch is computed from the parameters before its step.

    ``fit(dbn, data)`` returns a new network with untied recognition weights (``dbn`` is
    unchanged); it takes a :class:`~pgm_energy.DeepBeliefNetwork`, not a number of units.

    Parameters
    ----------
    epochs : int, 1 to 10**9 (the trainers' ``MAX_EPOCHS``), default 10
    learning_rate : float > 0, default 0.01
    k : int, 1 to 2**28, default 3
        Alternating Gibbs steps of the top RBM's negative phase (the paper uses 3, then more).
    batch_size : int >= 1 or None, default 20
        Rows per mini-batch (None: the whole data set).
    weight_decay : float >= 0, default 0
    checkpoint_every, checkpoint_path, binarize
        As for every :class:`~pgm_energy.learning.Trainer`.

    Notes
    -----
    Random draws: the epochs draw their shuffles and their wake, Gibbs and sleep samples from
    one generator, a copy of ``rng`` taken when the run starts, in the order
    :meth:`DeepBeliefNetwork.fine_tune` has always used (so both give the same bits); its
    state is part of every checkpoint. Monitors are not available (they measure RBMs and
    Boltzmann machines).
    """

    _model_types = (DeepBeliefNetwork,)
    #: set by :func:`fine_tune` only: the generator the epochs draw from (else a copy of ``rng``)
    _epoch_generator = None

    def __init__(self, *, epochs=10, learning_rate=0.01, k=3, batch_size=20, weight_decay=0.0,
                 checkpoint_every=None, checkpoint_path=None, binarize=None):
        self.k = check_int(k, "k", minimum=1)
        check_array_size(self.k, f"k={self.k}", limit=MAX_SWEEPS, unit="Gibbs steps per mini-batch")
        self.learning_rate = float(check_finite_array(learning_rate, "learning_rate", ndim=0))
        if self.learning_rate <= 0:
            raise ValidationError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        self.weight_decay = float(check_finite_array(weight_decay, "weight_decay", ndim=0))
        if self.weight_decay < 0:
            raise ValidationError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
        super().__init__(batch_size=batch_size, epochs=epochs, monitor=None, checkpoint_every=checkpoint_every,
                         checkpoint_path=checkpoint_path, binarize=binarize, dtype="float64")

    def _settings(self) -> dict:
        return {**super()._settings(), "learning_rate": self.learning_rate, "k": self.k,
                "weight_decay": self.weight_decay}

    # ------------------------------------------------------------------ hooks
    def _initial_model(self, model_or_size, data, visible_names, rng):
        if not isinstance(model_or_size, DeepBeliefNetwork):
            raise ParameterTypeError(
                "model_or_size must be the DeepBeliefNetwork to fine-tune (train one with fit_greedy), "
                f"got {describe(model_or_size)}"
            )
        return model_or_size

    def _initial_state(self, model, data, rng):
        state = _UpDownState()
        top = len(model.weights)
        state.generative_weights = [w.copy() for w in model.weights[: top - 1]]
        state.generative_biases = [b.copy() for b in model.biases[: top - 1]]
        state.recognition_weights = [w.copy() for w in model.recognition_weights]
        state.recognition_biases = [b.copy() for b in model.recognition_biases]
        state.top_weights = model.weights[-1].copy()
        state.top_visible_bias = model.biases[top - 1].copy()
        state.top_hidden_bias = model.biases[top].copy()
        # A copy taken before the loop draws from rng: the epochs draw from it alone (see Notes).
        state.generator = copy.deepcopy(rng) if self._epoch_generator is None else self._epoch_generator
        return state

    def _run_epoch(self, state, data, order, epoch) -> dict:
        # The loop's ``order`` is not used: the shuffle comes from the epoch generator, followed by
        # the epoch's samples, in the order DeepBeliefNetwork.fine_tune has always drawn them.
        generator = state.generator
        n_rows = data.shape[0]
        order = generator.permutation(n_rows)
        batch_size = n_rows if self.batch_size is None else self.batch_size
        for start in range(0, n_rows, batch_size):
            self._update(state, data[order[start : start + batch_size]])
        return {}

    def _update(self, state, v) -> None:
        """One wake-sleep step on the mini-batch ``v`` (float64 0/1 rows)."""
        generator = state.generator

        def draw(probabilities):
            return (generator.random(probabilities.shape) < probabilities).astype(np.float64)

        G, g = state.generative_weights, state.generative_biases
        R, r = state.recognition_weights, state.recognition_biases
        W, b_top, c_top = state.top_weights, state.top_visible_bias, state.top_hidden_bias
        learning_rate, weight_decay = self.learning_rate, self.weight_decay
        top = len(G) + 1
        m = v.shape[0]
        wake = [v]
        for layer in range(top - 1):
            wake.append(draw(sigmoid(wake[-1] @ R[layer] + r[layer])))
        positive_x = wake[-1]
        positive_h = sigmoid(positive_x @ W + c_top)
        hidden = draw(positive_h)
        negative_x = positive_x
        negative_h = positive_h
        for _step in range(self.k):
            negative_x = draw(sigmoid(hidden @ W.T + b_top))
            negative_h = sigmoid(negative_x @ W + c_top)
            hidden = draw(negative_h)
        sleep = [None] * top
        sleep[top - 1] = negative_x
        for layer in range(top - 2, -1, -1):
            sleep[layer] = draw(sigmoid(sleep[layer + 1] @ G[layer].T + g[layer]))
        # every gradient is computed from the parameters before this batch's step
        generative_steps = []
        for layer in range(top - 1):
            error = wake[layer] - sigmoid(wake[layer + 1] @ G[layer].T + g[layer])
            generative_steps.append((error.T @ wake[layer + 1] / m, error.mean(axis=0)))
        recognition_steps = []
        for layer in range(top - 1):
            error = sleep[layer + 1] - sigmoid(sleep[layer] @ R[layer] + r[layer])
            recognition_steps.append((sleep[layer].T @ error / m, error.mean(axis=0)))
        top_step = (
            (positive_x.T @ positive_h - negative_x.T @ negative_h) / m,
            (positive_x - negative_x).mean(axis=0),
            (positive_h - negative_h).mean(axis=0),
        )
        for layer in range(top - 1):
            G[layer] += learning_rate * (generative_steps[layer][0] - weight_decay * G[layer])
            g[layer] += learning_rate * generative_steps[layer][1]
            R[layer] += learning_rate * (recognition_steps[layer][0] - weight_decay * R[layer])
            r[layer] += learning_rate * recognition_steps[layer][1]
        W += learning_rate * (top_step[0] - weight_decay * W)
        b_top += learning_rate * top_step[1]
        c_top += learning_rate * top_step[2]

    def _model_from(self, state, template):
        return DeepBeliefNetwork(
            state.generative_weights + [state.top_weights],
            state.generative_biases + [state.top_visible_bias, state.top_hidden_bias],
            recognition_weights=state.recognition_weights,
            recognition_biases=state.recognition_biases,
            names=template.names,
        )

    def _parameters(self, state) -> tuple:
        return tuple(state.parts())

    def _check_divergence(self, state, epoch, last_good, history) -> None:
        """As every trainer (NaN, infinity or beyond :data:`RUNAWAY_BOUND`), naming this trainer's step sizes."""
        largest = max((float(np.max(np.abs(part))) for part in state.parts() if part.size), default=0.0)
        bound = RUNAWAY_BOUND[self.dtype]
        if largest <= bound:
            return
        raise TrainingDivergedError(
            f"fine-tuning diverged in epoch {epoch}: a parameter reached magnitude {largest:.3g}, beyond "
            f"{bound:.3g} (try a smaller learning_rate={self.learning_rate!r} or a smaller learning_rate * "
            f"weight_decay={self.learning_rate * self.weight_decay!r}); the error's .model is the last good network",
            model=last_good,
            history=history,
            epoch=epoch,
        )

    # ------------------------------------------------------------------ checkpoints
    def _state_arrays(self, state) -> dict:
        arrays = {}
        for part in ("generative_weights", "generative_biases", "recognition_weights", "recognition_biases"):
            arrays.update({f"{part}_{k}": value for k, value in enumerate(getattr(state, part))})
        arrays.update(top_weights=state.top_weights, top_visible_bias=state.top_visible_bias,
                      top_hidden_bias=state.top_hidden_bias)
        text = generator_state_json(state.generator).encode("ascii")
        if len(text) > _GENERATOR_BYTES:
            raise ValidationError(f"the random generator's state needs {len(text)} bytes, more than a checkpoint holds")
        arrays["epoch_generator"] = np.frombuffer(text.ljust(_GENERATOR_BYTES), dtype=np.uint8).copy()
        return arrays

    def _restore(self, arrays, template, data):
        state = _UpDownState()
        n_directed = len(template.weights) - 1
        for part in ("generative_weights", "generative_biases", "recognition_weights", "recognition_biases"):
            setattr(state, part, [np.array(arrays[f"{part}_{k}"], dtype=np.float64) for k in range(n_directed)])
        state.top_weights = np.array(arrays["top_weights"], dtype=np.float64)
        state.top_visible_bias = np.array(arrays["top_visible_bias"], dtype=np.float64)
        state.top_hidden_bias = np.array(arrays["top_hidden_bias"], dtype=np.float64)
        state.generator = generator_from_json(bytes(arrays["epoch_generator"]).decode("ascii"))
        return state


def fine_tune(dbn, data, *, epochs=10, learning_rate=0.01, k=3, batch_size=20, weight_decay=0.0, rng=None):
    """:meth:`DeepBeliefNetwork.fine_tune`: :class:`UpDownFineTuning` with a batch larger than the data taken whole.

    Returns
    -------
    DeepBeliefNetwork
    """
    batch = network_rows(dbn, data)
    trainer = UpDownFineTuning(epochs=epochs, learning_rate=learning_rate, k=k, batch_size=batch_size,
                               weight_decay=weight_decay)
    if trainer.batch_size is not None:  # fine_tune has always taken a batch beyond the data as one batch of every row
        trainer.batch_size = min(trainer.batch_size, batch.shape[0])
    # The epochs draw from rng itself and the loop from a copy, so that a Generator passed in ends
    # in the state fine_tune has always left it in (the next call that uses it draws the same).
    generator = check_rng(rng)
    trainer._epoch_generator = generator
    return trainer.fit(dbn, batch, rng=copy.deepcopy(generator), progress=False).model
