"""Launching Numba kernels: in short time-bounded chunks, thread safe and fork safe.

Three things every long kernel call needs, in one place:

* **Interruption.** Python runs its SIGINT handler (``KeyboardInterrupt``) only between
  bytecodes, never inside a compiled kernel. :func:`run_chunked` cuts a long run into
  successive kernel calls of about :data:`TARGET_SECONDS` each (the chunk size adapts to the
  measured speed), so Ctrl-C is answered within a fraction of a second. Callers only use it
  where a split run gives the same bits as one call (kernels that carry their state, streams
  and counters across calls).
* **Thread safety.** Numba's ``workqueue`` threading layer aborts the process when two
  threads launch parallel kernels at once. :func:`call` holds a process-wide lock around
  every parallel launch unless the layer in use is known to be thread safe (``tbb``, ``omp``).
* **Fork safety.** With GNU OpenMP (Numba's ``omp`` layer on Linux) a process forked after a
  parallel kernel ran cannot launch parallel kernels any more (Numba prints "Terminating:
  fork() called from a process already using GNU OpenMP" and the child dies, so a fork-based
  ``multiprocessing.Pool`` hangs). A fork handler marks such children; there :func:`call`
  runs a serial twin of the kernel (the same Python function compiled without
  ``parallel=True``, cached separately), which gives the same bits on one thread.

See docs/sampling.md, "Threads, processes and Ctrl-C".
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
import types

__all__ = [
    "BLOCK_WORK", "FIRST_CALL_WORK", "TARGET_SECONDS", "block_prefix_bits", "call", "first_chunk", "run_blocks",
    "run_chunked", "serial_twin",
]

#: wall time aimed at for one kernel call of a chunked run (Ctrl-C is answered after at most about this)
TARGET_SECONDS = 0.15
# A chunk grows by at most this factor from one call to the next (the first chunks are tiny,
# and a short call measured on a noisy machine must not set a chunk that runs for seconds).
_MAX_GROWTH = 8.0

_LOCK = threading.Lock()
# Threading layers that tolerate concurrent launches from several threads (Numba docs,
# "Selecting a threading layer for safe parallel execution").
_THREAD_SAFE_LAYERS = ("tbb", "omp")
_layer: str | None = None  # the layer Numba picked, once a parallel kernel has run
_serial_only = False  # set in a child forked after a fork-unsafe layer was started
_TWINS: dict = {}


def _threading_layer() -> str | None:
    """Numba's threading layer, or None while no parallel kernel has run (the layer is not chosen yet)."""
    global _layer
    if _layer is None:
        import numba

        try:
            _layer = numba.threading_layer()
        except ValueError:
            return None
    return _layer


def _fork_unsafe_layer_started() -> bool:
    """True when this process runs GNU OpenMP worker threads, which a forked child cannot use."""
    if _threading_layer() != "omp":
        return False
    try:
        from numba.np.ufunc import omppool

        return omppool.openmp_vendor == "GNU"
    except (ImportError, AttributeError):  # unknown build: assume the unsafe GNU runtime
        return True


def _after_fork_in_child() -> None:
    global _serial_only, _LOCK
    _LOCK = threading.Lock()  # the parent's lock may have been held by another thread at fork time
    if _fork_unsafe_layer_started():
        _serial_only = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def serial_twin(dispatcher):
    """The kernel of ``dispatcher`` compiled without ``parallel=True`` (``prange`` runs as ``range``).

    The twin is built from a renamed copy of the Python function: Numba's on-disk cache is keyed
    by the function's name, not by its ``parallel`` flag, so a twin of the same function would
    load the parallel machine code cached by the other.
    """
    twin = _TWINS.get(dispatcher)
    if twin is None:
        from numba import njit

        function = dispatcher.py_func
        copy = types.FunctionType(
            function.__code__, function.__globals__, function.__name__ + "_serial", function.__defaults__,
            function.__closure__,
        )
        copy.__qualname__ = function.__qualname__ + "_serial"
        copy.__module__ = function.__module__
        copy.__doc__ = function.__doc__
        twin = njit(cache=True, nogil=True)(copy)
        _TWINS[dispatcher] = twin
    return twin


def call(kernel, *args, serial=None):
    """Call the Numba kernel ``kernel(*args)`` safely for threads and forked processes.

    Parameters
    ----------
    kernel : numba dispatcher
        A ``parallel=True`` kernel (any other dispatcher is called as it is).
    serial : numba dispatcher, optional
        A serial kernel with the same results, used in a forked child that cannot start
        threads (default: :func:`serial_twin` of ``kernel``).
    """
    parallel = bool(getattr(kernel, "targetoptions", {}).get("parallel"))
    if not parallel:
        return kernel(*args)
    if _serial_only:
        return (serial if serial is not None else serial_twin(kernel))(*args)
    layer = _threading_layer()
    if layer in _THREAD_SAFE_LAYERS:
        return kernel(*args)
    with _LOCK:  # workqueue (not thread safe), or the layer is not chosen yet
        return kernel(*args)


class _DeferredInterrupt:
    """A SIGINT handler that only records the signal, for :func:`run_chunked` to act on between calls.

    Python runs signal handlers between bytecodes, and Numba may run a little Python while a
    kernel returns its results (unpickling constants); ``KeyboardInterrupt`` raised there
    surfaces as a ``SystemError``. So during a chunked run the signal is recorded and the
    previous handler is called after the kernel call, where it raises cleanly.
    """

    def __init__(self, previous):
        self.previous = previous
        self.pending = None

    def __call__(self, signum, frame):
        self.pending = (signum, frame)

    def deliver(self) -> None:
        """Run the previous handler for a recorded signal (``KeyboardInterrupt`` by default)."""
        if self.pending is None:
            return
        signum, frame = self.pending
        self.pending = None
        previous = self.previous
        if callable(previous):
            previous(signum, frame)  # default_int_handler raises KeyboardInterrupt
        elif previous == signal.SIG_DFL:
            raise KeyboardInterrupt


def _defer_interrupts():
    """Install a :class:`_DeferredInterrupt` for SIGINT, or return None where that is not possible or needed."""
    if threading.current_thread() is not threading.main_thread():
        return None  # signals go to the main thread; a worker thread's calls need nothing
    try:
        previous = signal.getsignal(signal.SIGINT)
    except (ValueError, OSError):
        return None
    if previous is None or previous == signal.SIG_IGN or isinstance(previous, _DeferredInterrupt):
        return None  # ignored, installed outside Python, or an enclosing chunked run defers already
    deferred = _DeferredInterrupt(previous)
    try:
        signal.signal(signal.SIGINT, deferred)
    except (ValueError, OSError):
        return None
    return deferred


def run_chunked(total: int, run, *, first: int = 1, on_chunk=None, target: float | None = None) -> None:
    """Call ``run(start, stop)`` over ``[0, total)`` in successive chunks of about ``target`` seconds.

    The first chunk holds ``first`` items; every later one is sized from the speed measured
    on the previous ones, growing by at most 8x a call, so a short run costs a few calls and a
    long one a kernel call every ~``target`` seconds. A SIGINT (Ctrl-C) that arrives during
    a call is acted on right after it: ``KeyboardInterrupt`` (or the program's own handler).

    Parameters
    ----------
    total : int >= 0
        Items (sweeps, blocks, steps...) to process.
    run : callable(start, stop)
        Processes items ``start .. stop - 1``; it must give the same results however the
        range is split (the caller's guarantee).
    first : int >= 1
        Size of the first chunk (a caller's estimate of a cheap call).
    on_chunk : callable(n_done), optional
        Called after each chunk with its size (progress bars).
    target : float, optional
        Seconds aimed at per call (default :data:`TARGET_SECONDS`, read at each call; 0 makes
        every chunk one item, which tests use to check that a split changes nothing).
    """
    target = TARGET_SECONDS if target is None else target
    deferred = _defer_interrupts()
    try:
        start = 0
        size = max(1, int(first)) if target > 0 else 1
        while start < total:
            stop = min(start + size, total)
            began = time.perf_counter()
            run(start, stop)
            elapsed = time.perf_counter() - began
            if deferred is not None:
                deferred.deliver()
            if on_chunk is not None:
                on_chunk(stop - start)
            done = stop - start
            start = stop
            growth = _MAX_GROWTH if elapsed <= 0.0 else min(_MAX_GROWTH, target / elapsed)
            size = max(1, int(done * growth))
    finally:
        if deferred is not None:
            signal.signal(signal.SIGINT, deferred.previous)
            deferred.deliver()


#: unit updates (multiply-adds) a first kernel call may cost: a few milliseconds, so short runs
#: stay one call and long ones measure their speed on a call that cannot hold up Ctrl-C
FIRST_CALL_WORK = 2.0**22


def first_chunk(cost_per_item: float) -> int:
    """Items of a first chunk costing about :data:`FIRST_CALL_WORK` unit updates (at least 1)."""
    return max(1, int(FIRST_CALL_WORK // max(float(cost_per_item), 1.0)))


def run_blocks(kernel, n_blocks: int, *args, serial=None, cost_per_block: float | None = None):
    """``kernel(*args, first, count)`` over blocks ``0 .. n_blocks - 1`` in time-bounded calls, concatenated.

    For the enumeration kernels, which compute independent blocks of states and return a
    tuple of arrays with one row per block: every block's result is the same whatever range
    a call covers, so the concatenation equals one call. The first call covers one block
    per Numba thread.

    Parameters
    ----------
    kernel : numba dispatcher
        Called as ``kernel(*args, first, count)`` through :func:`call`.
    n_blocks : int >= 1
    serial : numba dispatcher, optional
        As in :func:`call`.
    cost_per_block : float, optional
        Unit updates per block: a cheap enumeration is then one call (default: the first call
        covers one block per Numba thread).

    Returns
    -------
    tuple of ndarray
    """
    import numba
    import numpy as np

    pieces = []

    def run(start, stop):
        pieces.append(call(kernel, *args, start, stop - start, serial=serial))

    first = numba.get_num_threads() if cost_per_block is None else first_chunk(cost_per_block)
    run_chunked(n_blocks, run, first=first)
    return tuple(np.concatenate([piece[k] for piece in pieces]) for k in range(len(pieces[0])))


#: most work in one enumeration block, in unit updates (a block stays a short piece of one kernel call)
BLOCK_WORK = 2.0**27


def block_prefix_bits(n: int, cost_per_state: float, minimum: int = 8) -> int:
    """Units an enumeration fixes per block, so that one block is a short piece of a kernel call.

    ``minimum`` (8: ``2**8`` blocks balance two to many cores), or more when a block of
    ``2**(n - prefix)`` states costing ``cost_per_state`` unit updates each would exceed
    :data:`BLOCK_WORK`: then the blocks get more numerous instead of larger. A pairwise
    machine (cost ``n``) keeps 8 up to 30 units.
    """
    block_bits = max(0, math.floor(math.log2(BLOCK_WORK / max(cost_per_state, 1.0))))
    return min(n, max(minimum, n - block_bits))
