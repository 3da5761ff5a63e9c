"""Models: general and restricted Boltzmann machines, Potts machines, sigmoid and deep belief networks."""

from .boltzmann import BoltzmannMachine, IsingModel
from .rbm import RestrictedBoltzmannMachine
from .sigmoid_belief import SigmoidBeliefNetwork
from .deep_belief import DeepBeliefNetwork
from .potts import PottsMachine

__all__ = ["BoltzmannMachine", "IsingModel", "RestrictedBoltzmannMachine", "SigmoidBeliefNetwork", "DeepBeliefNetwork",
           "PottsMachine"]
