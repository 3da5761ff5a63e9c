"""scikit-learn drop-ins: ``from pgm_energy.sklearn import BernoulliRBM, GaussianBernoulliRBM``.

``BernoulliRBM`` is a drop-in for scikit-learn's own; ``GaussianBernoulliRBM`` is a transformer for
real-valued data (scikit-learn has none), whose ``score_samples`` is the log density in the
original feature space. The implementations live in :mod:`pgm_energy.interop.sklearn` and
:mod:`pgm_energy.interop.sklearn_gaussian`; importing this module imports scikit-learn
(``import pgm_energy`` alone does not).
"""

from .interop.sklearn import BernoulliRBM, EstimatorParameterError
from .interop.sklearn_gaussian import GaussianBernoulliRBM

__all__ = ["BernoulliRBM", "EstimatorParameterError", "GaussianBernoulliRBM"]
