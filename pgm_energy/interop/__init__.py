"""Conversions to and from other libraries (pgmpy, networkx).

Submodules import their library lazily; ``pgm_energy.interop.pgmpy`` is the
only module of the package that imports pgmpy.
"""

__all__ = ["pgmpy", "networkx", "dimod"]
