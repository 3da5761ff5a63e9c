"""Models: general and restricted Boltzmann machines, sigmoid belief networks, deep belief networks."""

from .boltzmann import BoltzmannMachine, IsingModel
from .rbm import RestrictedBoltzmannMachine
from .sigmoid_belief import SigmoidBeliefNetwork
from .deep_belief import DeepBeliefNetwork

__all__ = ["BoltzmannMachine", "IsingModel", "RestrictedBoltzmannMachine", "SigmoidBeliefNetwork", "DeepBeliefNetwork"]
