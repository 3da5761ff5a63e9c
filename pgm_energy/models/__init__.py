"""Models: general and restricted Boltzmann machines, deep Boltzmann machines, Potts machines, categorical and
Gaussian-Bernoulli RBMs, sigmoid and deep belief networks."""

from .boltzmann import BoltzmannMachine, IsingModel
from .rbm import RestrictedBoltzmannMachine
from .sigmoid_belief import SigmoidBeliefNetwork
from .deep_belief import DeepBeliefNetwork
from .potts import PottsMachine
from .categorical_rbm import CategoricalRBM
from .gaussian_rbm import GaussianBernoulliRBM
from .deep_boltzmann import DeepBoltzmannMachine

__all__ = ["BoltzmannMachine", "IsingModel", "RestrictedBoltzmannMachine", "SigmoidBeliefNetwork", "DeepBeliefNetwork",
           "PottsMachine", "CategoricalRBM", "GaussianBernoulliRBM", "DeepBoltzmannMachine"]
