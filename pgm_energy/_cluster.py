"""Dask clusters for independent work: which client a ``client=`` argument names, and one task per block.

The package's parallel work is made of independent pieces (AIS runs, chains), each with its own
random streams drawn in the calling process before any piece runs. So a run split into blocks
of pieces on any number of workers computes exactly what the in-process run computes: the blocks
only decide where each piece runs. Dask (``distributed``) schedules the blocks; a block whose
worker dies is run again elsewhere, from the same streams, with the same result.

``client=`` takes ``None`` (in process), ``"local"`` (an embedded ``LocalCluster`` of one worker
process per core, one thread each, made once per Python process and reused), ``"local:N"`` (``N``
worker processes), a scheduler address such as ``"tcp://10.0.0.5:8786"``, or a
``distributed.Client``. Install the extra: ``pip install "pgm_energy[distributed]"``.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from ._validation import describe
from .exceptions import ParameterTypeError, ValidationError

__all__ = ["resolve_client", "run_by_blocks", "block_bounds", "n_workers"]

_LOCAL_CLIENTS: dict[int, object] = {}
_LOCK = threading.Lock()
#: blocks per worker: more than one lets a fast worker take over part of a slow one's share
BLOCKS_PER_WORKER = 2


def _import_distributed():
    try:
        import distributed
    except ImportError as error:  # pragma: no cover - the extra is installed in the test environment
        raise ImportError(
            'client= needs Dask\'s distributed package: pip install "pgm_energy[distributed]"'
        ) from error
    return distributed


def _local_client(n_workers: int):
    """The embedded cluster of ``n_workers`` single-threaded worker processes (made once, then reused)."""
    distributed = _import_distributed()
    with _LOCK:
        client = _LOCAL_CLIENTS.get(n_workers)
        if client is None or client.status in ("closed", "closing"):
            # One thread per worker, and one Numba and BLAS thread in it: the workers are the parallelism.
            cluster = distributed.LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"},
            )
            client = distributed.Client(cluster, set_as_default=False)
            _LOCAL_CLIENTS[n_workers] = client
        return client


def resolve_client(client):
    """The ``distributed.Client`` a ``client=`` argument names, or None for in-process work.

    Parameters
    ----------
    client : None, "local", "local:N", a scheduler address (str) or distributed.Client

    Returns
    -------
    distributed.Client or None

    Raises
    ------
    ParameterTypeError
        For any other type.
    ValidationError
        For a malformed ``"local:N"``.
    """
    if client is None:
        return None
    if isinstance(client, str):
        if client == "local":
            return _local_client(os.cpu_count() or 1)
        if client.startswith("local:"):
            count = client[len("local:") :]
            if not count.isdigit() or int(count) < 1 or int(count) > 1024:
                raise ValidationError(f"client={client!r}: 'local:N' needs N, the worker processes, from 1 to 1024")
            return _local_client(int(count))
        if "://" in client:
            return _import_distributed().Client(client, set_as_default=False)
        raise ValidationError(
            f"client={client!r} is not 'local', 'local:N' or a scheduler address such as 'tcp://host:8786'"
        )
    distributed = _import_distributed()
    if isinstance(client, distributed.Client):
        return client
    raise ParameterTypeError(
        f"client must be None, 'local', 'local:N', a scheduler address or a distributed.Client, got {describe(client)}"
    )


def block_bounds(n_items: int, n_blocks: int) -> list[tuple[int, int]]:
    """``n_items`` split into at most ``n_blocks`` contiguous ``(first, last)`` ranges of near-equal size."""
    n_blocks = max(1, min(n_blocks, n_items))
    edges = np.linspace(0, n_items, n_blocks + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def n_workers(client) -> int:
    """Workers the scheduler knows now (at least 1)."""
    return max(1, len(client.scheduler_info(n_workers=-1).get("workers", {})))


def _apply(function, streams, *args, numba_threads=None):
    """``function(*args, streams)`` on a worker: one block of pieces, on at most ``numba_threads`` Numba threads."""
    if numba_threads is not None:
        import numba

        # Thread-local, so set in the thread that runs the task. The worker's environment alone does not
        # do it when the user's main module imports numba at its top: a spawned worker imports that
        # module, and with it numba, before the cluster's environment is applied.
        numba.set_num_threads(min(numba_threads, numba.config.NUMBA_NUM_THREADS))
    return function(*args, streams)


def run_by_blocks(client, function, args: tuple, streams: np.ndarray):
    """``function(*args, streams)``, in process or split by blocks of rows of ``streams`` across a cluster.

    ``function`` computes independent pieces, one per row of ``streams`` (its random streams), and
    returns an array with one entry per piece (or a tuple of such arrays); a module-level function
    is sent to the workers by reference. The arrays of ``args`` (the model's) go to every worker
    once. The blocks' results are joined in piece order, so the answer is the in-process answer,
    bit for bit, whatever the number of workers.

    Parameters
    ----------
    client : distributed.Client or None
    function : callable
    args : tuple
    streams : ndarray, shape (n_pieces, ...)

    Returns
    -------
    ndarray or tuple of ndarray
    """
    if client is None:
        return function(*args, streams)
    blocks = block_bounds(streams.shape[0], BLOCKS_PER_WORKER * n_workers(client))
    # hash=False: a fresh key per call (identical arrays scattered by an earlier call may be being released)
    shared = [
        client.scatter(arg, broadcast=True, hash=False) if isinstance(arg, np.ndarray) else arg for arg in args
    ]
    # the embedded clusters run one worker per core: one Numba thread each (a user's cluster keeps its own setting)
    threads = 1 if any(client is local for local in _LOCAL_CLIENTS.values()) else None
    futures = [
        client.submit(_apply, function, streams[first:last], *shared, numba_threads=threads, pure=False)
        for first, last in blocks
    ]
    results = client.gather(futures)
    if isinstance(results[0], tuple):
        return tuple(np.concatenate(parts) for parts in zip(*results))
    return np.concatenate(results)
