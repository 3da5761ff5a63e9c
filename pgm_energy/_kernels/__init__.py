"""Numba kernels on flat float64 arrays. They import nothing else from the package
and trust their inputs: every check happens at the public boundary."""
