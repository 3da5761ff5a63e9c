"""Python source that rebuilds a model of the package: what a strategy notes for hypothesis's falsifying example.

A generated model's ``repr`` shows its shape, not its parameters; the note shows a constructor call
with every parameter (``float.hex``-exact floats are not needed: ``repr`` of a float round-trips), so
a failing example can be pasted into a test.
"""

from __future__ import annotations

import numpy as np
from hypothesis import note

__all__ = ["model_source", "noted"]


def _array(values) -> str:
    array = np.asarray(values.toarray() if hasattr(values, "toarray") else values, dtype=np.float64)
    return f"np.array({array.tolist()!r})"


def model_source(model) -> str:
    """A Python expression (``np`` and ``pgm_energy`` imported as such) that rebuilds ``model``.

    Parameters
    ----------
    model : BoltzmannMachine, RestrictedBoltzmannMachine, PottsMachine, CategoricalRBM,
        GaussianBernoulliRBM, DeepBoltzmannMachine, SigmoidBeliefNetwork or DeepBeliefNetwork

    Returns
    -------
    str
    """
    from .. import models

    kind = type(model).__name__
    common = f"temperature={model.temperature!r}"
    if isinstance(model, models.DeepBeliefNetwork):
        weights = ", ".join(_array(w) for w in model.weights)
        biases = ", ".join(_array(b) for b in model.biases)
        recognition = ", ".join(_array(w) for w in model.recognition_weights)
        recognition_biases = ", ".join(_array(b) for b in model.recognition_biases)
        return (f"pgm_energy.{kind}([{weights}], [{biases}], recognition_weights=[{recognition}], "
                f"recognition_biases=[{recognition_biases}], names={list(model.names)!r})")
    if isinstance(model, (models.DeepBoltzmannMachine, models.SigmoidBeliefNetwork)):
        weights = ", ".join(_array(w) for w in model.weights)
        biases = ", ".join(_array(b) for b in model.biases)
        return f"pgm_energy.{kind}([{weights}], [{biases}], names={list(model.names)!r}, {common})"
    if isinstance(model, models.BoltzmannMachine):
        return (f"pgm_energy.{kind}({_array(model.weights)}, {_array(model.biases)}, "
                f"visible={np.asarray(model.visible).tolist()!r}, names={list(model.names)!r}, {common}, "
                f"offset={model.offset!r})")
    if isinstance(model, models.PottsMachine):
        fields = "[" + ", ".join(_array(f) for f in model.fields) + "]"
        couplings = "{" + ", ".join(f"{tuple(int(i) for i in key)!r}: {_array(value)}"
                                    for key, value in model.couplings.items()) + "}"
        return (f"pgm_energy.{kind}({[int(c) for c in model.cardinalities]!r}, {fields}, {couplings}, "
                f"names={list(model.names)!r}, state_names={ {k: list(v) for k, v in model.state_names.items()}!r}, "
                f"visible={np.asarray(model.visible).tolist()!r}, {common}, offset={model.offset!r})")
    names = f"visible_names={list(model.visible_names)!r}, hidden_names={list(model.hidden_names)!r}"
    if isinstance(model, models.CategoricalRBM):
        return (f"pgm_energy.{kind}({_array(model.weights)}, {_array(model.visible_bias)}, {_array(model.hidden_bias)}, "
                f"cardinalities={[int(c) for c in model.cardinalities]!r}, {names}, "
                f"state_names={ {k: list(model.state_names[k]) for k in model.visible_names}!r}, {common})")
    if isinstance(model, models.GaussianBernoulliRBM):
        return (f"pgm_energy.{kind}({_array(model.weights)}, {_array(model.visible_bias)}, {_array(model.hidden_bias)}, "
                f"{_array(model.sigma)}, {names}, {common})")
    if isinstance(model, models.RestrictedBoltzmannMachine):
        return (f"pgm_energy.{kind}({_array(model.weights)}, {_array(model.visible_bias)}, {_array(model.hidden_bias)}, "
                f"{names}, {common})")
    raise TypeError(f"no source for a {kind}")


def noted(model):
    """``model``, after ``hypothesis.note`` of the source that rebuilds it."""
    note(f"{type(model).__name__} drawn: {model_source(model)}")
    return model
