"""Conversions to and from other libraries, and drop-ins for their samplers and estimators.

``pgmpy`` (with its ``GibbsSampling`` drop-in from ``pgmpy_gibbs``), ``networkx``,
``dimod`` and ``sklearn``. Submodules import their library lazily; no module
outside this package imports pgmpy.
"""

__all__ = ["pgmpy", "networkx", "dimod"]
