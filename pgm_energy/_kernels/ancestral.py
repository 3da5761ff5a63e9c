"""Ancestral (forward) sampling of a discrete Bayesian network compiled to flat arrays.

Layout (integer arrays int64):

- ``order``: the nodes in a topological order (every parent before its children).
- ``cards[v]``: the cardinality of node ``v``.
- ``parent_ptr`` / ``parents`` / ``parent_strides`` (CSR over nodes): the parents of ``v``
  are ``parents[parent_ptr[v]:parent_ptr[v+1]]``, and the column of the CPD of ``v`` for a
  parent configuration is ``sum(state[parent] * stride)`` (the last parent fastest, as
  pgmpy's ``TabularCPD`` columns).
- ``cumulative`` (float64) and ``cpd_offset``: for node ``v`` and column ``c``, the running
  sums of ``P(v = 0 | c), P(v = 1 | c), ...`` are ``cumulative[cpd_offset[v] + c * cards[v] + s]``.

A row draws each free node in ``order`` from its CPD column given the parents already drawn:
``u * total < cumulative[s]`` for the first state ``s``, where ``total`` is the column's last
running sum (so rounding never picks a state past the last of positive probability, and a
state of probability zero is never drawn). A node fixed by evidence keeps its value and
multiplies the row's weight by its probability (likelihood weighting).

Row ``r`` draws from the stream ``block_stream(key, r)``: its values depend on ``key`` and ``r``
only, so the rows are the same whatever the number of threads or calls.
"""

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from .rng import block_stream, xorshift_step

__all__ = ["Network", "forward_rows", "rejection_rows"]


class Network(NamedTuple):
    """A compiled network (see the module docstring)."""

    order: np.ndarray
    cards: np.ndarray
    parent_ptr: np.ndarray
    parents: np.ndarray
    parent_strides: np.ndarray
    cpd_offset: np.ndarray
    cumulative: np.ndarray


@njit(cache=True, nogil=True, inline="always")
def _column(network, node, row_states):
    index = 0
    for k in range(network.parent_ptr[node], network.parent_ptr[node + 1]):
        index += row_states[network.parents[k]] * network.parent_strides[k]
    return network.cpd_offset[node] + index * network.cards[node]


@njit(cache=True, nogil=True, inline="always")
def _draw_state(cumulative, start, card, x):
    """A state of the CPD column whose running sums start at ``start``: ``(new x, state)``."""
    x, u = xorshift_step(x)
    target = u * cumulative[start + card - 1]
    state = 0
    while state < card - 1 and not target < cumulative[start + state]:
        state += 1
    return x, state


@njit(cache=True, nogil=True, inline="always")
def _draw_row(network, fixed, x, row_states):
    """One ancestral draw into ``row_states`` from stream state ``x``: ``(new x, weight of the fixed nodes)``."""
    weight = 1.0
    cumulative, cards = network.cumulative, network.cards
    for position in range(network.order.shape[0]):
        node = network.order[position]
        start = _column(network, node, row_states)
        card = cards[node]
        if fixed[node] >= 0:
            state = fixed[node]
            below = cumulative[start + state - 1] if state > 0 else 0.0
            weight *= (cumulative[start + state] - below) / cumulative[start + card - 1]
            row_states[node] = state
            continue
        x, state = _draw_state(cumulative, start, card, x)
        row_states[node] = state
    return x, weight


@njit(cache=True, nogil=True, inline="always")
def _draw_matching(network, wanted, x, row_states):
    """One ancestral draw that stops at the first node drawn against ``wanted``: ``(new x, matched)``."""
    cumulative, cards = network.cumulative, network.cards
    for position in range(network.order.shape[0]):
        node = network.order[position]
        start = _column(network, node, row_states)
        card = cards[node]
        x, state = _draw_state(cumulative, start, card, x)
        row_states[node] = state
        if wanted[node] >= 0 and state != wanted[node]:
            return x, False
    return x, True


@njit(cache=True, nogil=True, parallel=True)
def forward_rows(network, fixed, key, first_row, out, weights):
    """Rows ``first_row ..`` of a forward (or likelihood-weighted) sample: ``out`` and ``weights`` filled.

    Parameters
    ----------
    network : Network
    fixed : int64 array, shape (n_nodes,)
        The evidence state of a node, or -1 for a node that is drawn.
    key : uint64
        The call's key: row ``r`` draws from ``block_stream(key, r)``.
    first_row : int
        The global index of ``out``'s first row (a call covers a range of rows).
    out : integer array, shape (n_rows, n_nodes)
        The states of each row, by node index.
    weights : float64 array, shape (n_rows,)
        The product over fixed nodes of their probability given their parents (1.0 without evidence).
    """
    for row in prange(out.shape[0]):
        x = block_stream(key, np.uint64(first_row + row))
        row_states = np.empty(out.shape[1], dtype=np.int64)
        x, weight = _draw_row(network, fixed, x, row_states)
        for node in range(out.shape[1]):
            out[row, node] = row_states[node]
        weights[row] = weight


@njit(cache=True, nogil=True, parallel=True)
def rejection_rows(network, wanted, key, first_row, max_tries, out, tries):
    """Rows ``first_row ..`` of a rejection sample: each row draws until it matches ``wanted`` (or gives up).

    A draw stops at the first evidence node it draws against its evidence (the rest of the row
    cannot be kept), so a rare evidence costs draws of its ancestors only.

    Parameters
    ----------
    wanted : int64 array, shape (n_nodes,)
        The evidence state of a node, or -1 for a node without evidence.
    max_tries : int
        Draws a row makes at most; a row that found no match has ``tries[row] == -1``.
    out : integer array, shape (n_rows, n_nodes)
    tries : int64 array, shape (n_rows,)
        The draws each row took.
    """
    for row in prange(out.shape[0]):
        x = block_stream(key, np.uint64(first_row + row))
        row_states = np.empty(out.shape[1], dtype=np.int64)
        tries[row] = -1
        for attempt in range(max_tries):
            x, matched = _draw_matching(network, wanted, x, row_states)
            if matched:
                tries[row] = attempt + 1
                break
        for node in range(out.shape[1]):
            out[row, node] = row_states[node]
