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
import warnings

import numpy as np

from ._progress import progress_bar
from ._validation import describe
from .exceptions import ParameterTypeError, ValidationError

__all__ = ["resolve_client", "run_by_blocks", "block_bounds", "n_workers", "share"]

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


def block_bounds(n_items: int, n_blocks: int, multiple: int = 1) -> list[tuple[int, int]]:
    """``n_items`` split into at most ``n_blocks`` contiguous ``(first, last)`` ranges of near-equal size.

    With ``multiple > 1`` every range starts at a multiple of ``multiple`` (whole groups of that
    many items; the last group may be short).
    """
    n_groups = -(-n_items // multiple)
    n_blocks = max(1, min(n_blocks, n_groups))
    edges = np.minimum(np.linspace(0, n_groups, n_blocks + 1).round().astype(int) * multiple, n_items)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def n_workers(client) -> int:
    """Workers the scheduler knows now (at least 1).

    Asked of the scheduler on each call: ``client.scheduler_info()`` returns a cached identity that
    the client's periodic refresh may overwrite, between the fetch and the read, with one listing no
    workers (seen once in CI as a 2-worker cluster counted as 1).
    """
    return max(1, len(client.nthreads()))


def _apply(function, pieces, *args, numba_threads=None):
    """``function(*args, *pieces)`` on a worker: one block of pieces, on at most ``numba_threads`` Numba threads."""
    if numba_threads is not None:
        import numba

        # Thread-local, so set in the thread that runs the task. The worker's environment alone does not
        # do it when the user's main module imports numba at its top: a spawned worker imports that
        # module, and with it numba, before the cluster's environment is applied.
        numba.set_num_threads(min(numba_threads, numba.config.NUMBA_NUM_THREADS))
    return function(*args, *pieces)


def _held(value):
    """A task's answer: the value it was given (see :func:`share`)."""
    return value


def share(client, value):
    """``value`` on the cluster, as a future Dask computes again if the worker holding it dies.

    ``client.scatter`` would lose it: scattered data live only on workers, and Dask's active memory
    manager drops the extra replicas even of a broadcast, so killing the one worker left holding
    them loses them for good ("can't be recovered"), and every block needing them is cancelled
    (seen in a test that SIGKILLs a worker). The argument of a task stays in the scheduler's
    graph, so a lost answer is recomputed. The value travels to each worker once either way.
    """
    with warnings.catch_warnings():  # the value is in the graph on purpose: the warning's advice is scatter
        warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
        return client.submit(_held, value, pure=False)


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic, np.dtype))


def run_by_blocks(client, function, args: tuple, pieces, *, multiple: int = 1, progress: bool = False,
                  description: str = "blocks", unit: str = "piece", on_block=None):
    """``function(*args, *pieces)``, in process or split by blocks of pieces across a cluster.

    ``function`` computes independent pieces, one per row of each array of ``pieces`` (their
    random streams, starting states, ...), and returns an array with one entry per piece, or a
    tuple of such arrays and other values. A module-level function is sent to the workers by
    reference. Every argument of ``args`` that is not a scalar (the model, its arrays) goes to
    every worker once. The blocks' arrays are joined in piece order, so the answer is the
    in-process answer, bit for bit, whatever the number of workers; a returned value that is not
    an array comes back as the list of the blocks' values.

    Parameters
    ----------
    client : distributed.Client or None
    function : callable
    args : tuple
    pieces : ndarray or tuple of ndarray, each of shape (n_pieces, ...)
    multiple : int >= 1, default 1
        Blocks start at multiples of this many pieces (see :func:`block_bounds`): for a
        ``function`` that works on fixed groups of pieces.
    progress : bool, default False
        On a cluster, a progress bar (``description``, counting ``unit``) over the pieces of the
        blocks done, on stderr when it is a terminal. In process, ``function`` shows its own.
    on_block : callable(int), optional
        Also called in the calling process with the pieces of each block as it completes.

    Returns
    -------
    ndarray or tuple
        In process: ``function``'s own answer (a non-array value is not listed).

    Raises
    ------
    KeyboardInterrupt
        Ctrl-C while the blocks run: the blocks not yet done are cancelled first.
    """
    single = isinstance(pieces, np.ndarray)
    pieces = (pieces,) if single else tuple(pieces)
    if client is None:
        return function(*args, *pieces)
    from distributed import as_completed

    blocks = block_bounds(pieces[0].shape[0], BLOCKS_PER_WORKER * n_workers(client), multiple)
    shared = [arg if _is_scalar(arg) else share(client, arg) for arg in args]
    # the embedded clusters run one worker per core: one Numba thread each (a user's cluster keeps its own setting)
    threads = 1 if any(client is local for local in _LOCAL_CLIENTS.values()) else None
    futures = [
        client.submit(_apply, function, [piece[first:last] for piece in pieces], *shared, numba_threads=threads,
                      pure=False)
        for first, last in blocks
    ]
    sizes = {future.key: last - first for future, (first, last) in zip(futures, blocks)}
    label = f"{description} on {len(blocks)} blocks, {n_workers(client)} workers"
    try:
        with progress_bar(progress, pieces[0].shape[0], unit=unit, description=label) as bar:
            if bar.shown or on_block is not None:
                for future in as_completed(futures, loop=client.loop):
                    bar.update(sizes[future.key])
                    if on_block is not None:
                        on_block(sizes[future.key])
            results = client.gather(futures)
    except BaseException:
        client.cancel(futures)  # Ctrl-C (or a failed block): nothing keeps running for this call
        raise
    if not isinstance(results[0], tuple):
        return np.concatenate(results)
    return tuple(
        np.concatenate(parts) if isinstance(parts[0], np.ndarray) else list(parts) for parts in zip(*results)
    )
