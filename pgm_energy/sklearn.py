"""scikit-learn drop-ins: ``from pgm_energy.sklearn import BernoulliRBM``.

The implementation lives in :mod:`pgm_energy.interop.sklearn`; importing this module
imports scikit-learn (``import pgm_energy`` alone does not).
"""

from .interop.sklearn import BernoulliRBM, EstimatorParameterError

__all__ = ["BernoulliRBM", "EstimatorParameterError"]
