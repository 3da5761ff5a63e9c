"""Samplers for Boltzmann machines and Potts machines: Gibbs, simulated annealing, parallel tempering.

Each returns a :class:`SampleSet`. Importing this package does not import Numba:
kernels compile (or load from the cache) on the first call.
"""

from .annealing import SimulatedAnnealingSampler
from .categorical_sampleset import CategoricalSampleSet
from .gibbs import GibbsSampler
from .real_sampleset import RealSampleSet
from .sampleset import SampleSet
from .tempering import ParallelTemperingSampler

__all__ = ["SampleSet", "CategoricalSampleSet", "RealSampleSet", "GibbsSampler", "SimulatedAnnealingSampler", "ParallelTemperingSampler"]
