"""Models: general and restricted Boltzmann machines, sigmoid belief networks."""

from .boltzmann import BoltzmannMachine, IsingModel
from .rbm import RestrictedBoltzmannMachine
from .sigmoid_belief import SigmoidBeliefNetwork

__all__ = ["BoltzmannMachine", "IsingModel", "RestrictedBoltzmannMachine", "SigmoidBeliefNetwork"]
