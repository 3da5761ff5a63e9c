"""Energy-based models: general and restricted Boltzmann machines."""

from .boltzmann import BoltzmannMachine, IsingModel
from .rbm import RestrictedBoltzmannMachine

__all__ = ["BoltzmannMachine", "IsingModel", "RestrictedBoltzmannMachine"]
