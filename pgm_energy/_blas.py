"""The BLAS libraries' thread pools (threadpoolctl), found once per process.

Finding the loaded libraries reads the process's memory map (milliseconds), so the controller is
made once; thread counts are read, and limits set, afresh at each use.
"""

from __future__ import annotations

__all__ = ["controller", "one_thread", "thread_counts"]

_CONTROLLER = None


def controller():
    """The process's cached ``threadpoolctl.ThreadpoolController``."""
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


def thread_counts() -> list[int] | None:
    """Current thread counts of the loaded BLAS libraries, or None when none is found."""
    return [library.num_threads for library in controller().select(user_api="blas").lib_controllers] or None


def one_thread():
    """A context in which BLAS runs on one thread.

    For small products (a multi-threaded BLAS wakes its pool for microseconds of work, and waits
    for a descheduled thread when another process holds a core: a 1000 × 64 × 20 product took 8 ms
    on two threads of a busy machine, 0.035 ms on one) and for code whose own threads already
    occupy the cores.
    """
    return controller().limit(limits=1, user_api="blas")
