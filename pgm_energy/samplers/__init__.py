"""Samplers for Boltzmann machines: Gibbs, simulated annealing, parallel tempering.

Each returns a :class:`SampleSet`. Importing this package does not import Numba:
kernels compile (or load from the cache) on the first call.
"""

from .annealing import SimulatedAnnealingSampler
from .gibbs import GibbsSampler
from .sampleset import SampleSet
from .tempering import ParallelTemperingSampler

__all__ = ["SampleSet", "GibbsSampler", "SimulatedAnnealingSampler", "ParallelTemperingSampler"]
