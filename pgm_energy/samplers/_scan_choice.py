"""``scan="auto"``: the single-site scan a model is sampled with, decided from the model alone.

The chromatic scan updates a colour class at a time (its units are conditionally independent),
so the classes of one chain run in parallel and vectorise; but each update recomputes the
unit's local field from its neighbours instead of reading a cached one, and every class is
one pass over the states. It pays on sparse two-colourable (bipartite) graphs such as
lattices: two long classes and few neighbours per unit. With more colours, more neighbours or
dense weights the sequential scan with cached fields is faster (the measurements behind the
rule are summarised in docs/sampling.md, "Gibbs sampling").

The choice depends on the model only, never on the thread count or the number of chains, so
the same ``rng`` gives the same draws on any machine.
"""

from __future__ import annotations

import weakref

import numpy as np

from ._layout import layout_of

__all__ = ["AUTO", "MAX_COMPONENTS", "choose_scan", "is_bipartite"]

AUTO = "auto"

#: a graph with more connected components (with edges) than this is sampled sequentially
MAX_COMPONENTS = 64

_CHOICES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def choose_scan(model) -> str:
    """``"chromatic"`` for a machine whose weights are stored CSR and whose graph is bipartite, else ``"sequential"``.

    The storage is :func:`~pgm_energy.samplers._layout.layout_of`'s (CSR when at most a
    quarter of the weights are non-zero), whatever array type the model was given.

    Cached per model (models are immutable).
    """
    choice = _CHOICES.get(model)
    if choice is None:
        layout = layout_of(model)
        sparse_bipartite = not layout.dense and is_bipartite(layout.indptr, layout.indices)
        choice = "chromatic" if sparse_bipartite else "sequential"
        _CHOICES[model] = choice
    return choice


def _depth_parity(predecessors: np.ndarray) -> np.ndarray:
    """Parity of each unit's depth in the breadth-first forest given by ``predecessors`` (< 0: a root or unreached).

    Pointer jumping: ``parity[i]`` is the parity of the path from ``i`` to ``ancestor[i]``;
    each step jumps to the ancestor's ancestor, so a tree of depth d takes about log2(d)
    vectorised steps.
    """
    linked = predecessors >= 0
    ancestor = np.where(linked, predecessors, np.arange(predecessors.shape[0]))
    parity = linked.astype(np.int8)
    while np.any(ancestor != ancestor[ancestor]):
        parity ^= parity[ancestor]
        ancestor = ancestor[ancestor]
    return parity


def is_bipartite(indptr: np.ndarray, indices: np.ndarray) -> bool:
    """Whether the undirected graph of a symmetric CSR pattern is bipartite (has no odd cycle).

    Each connected component is 2-coloured by the parity of the depth in a breadth-first
    tree (SciPy), and the graph is bipartite when no edge joins two units of the same parity.
    A graph of more than :data:`MAX_COMPONENTS` components with edges is answered False
    (a cost bound: each component is one search over all units).

    Parameters
    ----------
    indptr : int ndarray, shape (n_units + 1,)
    indices : int ndarray, shape (n_edges,)
        Row ``i``'s neighbours are ``indices[indptr[i]:indptr[i + 1]]``; each edge appears in
        both rows.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import breadth_first_order

    n = indptr.shape[0] - 1
    degrees = np.diff(indptr)
    pattern = sp.csr_array((np.ones(indices.shape[0], dtype=np.int8), indices, indptr), shape=(n, n))
    parity = np.zeros(n, dtype=np.int8)
    unvisited = degrees > 0  # isolated units take either colour
    for _ in range(MAX_COMPONENTS):
        if not unvisited.any():
            return True
        members, predecessors = breadth_first_order(pattern, int(np.argmax(unvisited)), directed=True,
                                                    return_predecessors=True)
        parity[members] = _depth_parity(predecessors)[members]
        unvisited[members] = False
        # the component's edges: rows `members` of the pattern (the first, usually largest, decides most graphs)
        counts = degrees[members]
        offsets = np.repeat(indptr[members] - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
        if np.any(np.repeat(parity[members], counts) == parity[indices[offsets]]):
            return False
    return not unvisited.any()
