"""Training data read a block of rows at a time: memmaps, Dask arrays and anything sliceable by rows.

A trainer that streams (``ContrastiveDivergence``) never holds more than a block of rows (plus
one mini-batch carried between blocks): the data of an epoch come block after block, and the
epoch's order is defined on blocks so that this is possible:

1. the blocks (``block_rows`` consecutive rows each, the last one perhaps shorter) are visited in
   an order drawn by ``generator.permutation(n_blocks)``;
2. the rows of each block, in visiting order, in an order drawn by ``generator.permutation(len)``;
3. mini-batches are consecutive slices of that order, across block boundaries (a batch that
   straddles two blocks is carried over), the last one perhaps smaller.

Data of a single block get one ``generator.permutation(n_rows)`` (step 1 draws nothing): the
in-memory order, so such a fit equals the fit of the in-memory array bit for bit. For more rows,
the in-memory twin of a streamed fit is the fit of ``streamed(np.asarray(data), block_rows=...)``
with the same ``block_rows``: the same order, the same batches, the same bits.
"""

from __future__ import annotations

import mmap
import numbers

import numpy as np

from .._math import is_sparse
from .._validation import check_int, describe
from ..exceptions import ParameterTypeError, StateError, ValidationError

__all__ = ["StreamedRows", "streamed", "is_out_of_core", "DEFAULT_BLOCK_BYTES"]

#: default size of a block in the training dtype: well under the 500 MB a 2 GB data set may use
DEFAULT_BLOCK_BYTES = 32 * 2**20


def _is_dask_array(data) -> bool:
    return type(data).__module__.split(".")[0] == "dask" and hasattr(data, "chunks") and hasattr(data, "compute")


def is_out_of_core(data) -> bool:
    """True for data a streaming trainer reads a block at a time: StreamedRows, a NumPy memmap or a Dask array."""
    return isinstance(data, (StreamedRows, np.memmap)) or _is_dask_array(data)


def _mapping_of(array):
    """The ``mmap`` behind a NumPy memmap (or a view of one), or None."""
    while array is not None:
        mapping = getattr(array, "_mmap", None)
        if isinstance(mapping, mmap.mmap):
            return mapping
        array = getattr(array, "base", None)
    return None


class StreamedRows:
    """Rows of a large 2-D array, read ``block_rows`` at a time, for a streaming trainer's ``fit``.

    Made by :func:`streamed` (or by ``fit`` itself for a memmap or a Dask array). A trainer binds
    it to its conversion (dtype, ``binarize``), reading every block once to check the values.

    Parameters
    ----------
    data : array sliceable by rows, shape (n_samples, n_visible)
    block_rows : int >= 1, optional

    Attributes
    ----------
    source : the array read
    shape : tuple (n_rows, n_columns)
    block_rows : int or None
        Rows per block; None until bound, then ``DEFAULT_BLOCK_BYTES`` worth of rows of the
        training dtype unless given.
    """

    def __init__(self, data, block_rows=None):
        source = data.source if isinstance(data, StreamedRows) else data
        shape = getattr(source, "shape", None)
        if is_sparse(source):
            raise ParameterTypeError(f"data must be dense rows (a sparse matrix is not streamed), got {describe(source)}")
        if not hasattr(source, "__getitem__") or shape is None or getattr(source, "dtype", None) is None:
            raise ParameterTypeError(
                f"data must be an array sliceable by rows (NumPy array or memmap, Dask array, HDF5 or zarr "
                f"dataset), got {describe(source)}"
            )
        if len(shape) != 2:
            raise StateError(f"data must be 2-D (n_samples, n_visible), got shape {tuple(shape)}")
        self.source = source
        self.shape = (int(shape[0]), int(shape[1]))
        self.ndim = 2
        self.block_rows = None if block_rows is None else check_int(block_rows, "block_rows", minimum=1)
        self._convert = None
        self.dtype = np.dtype(source.dtype)

    def __repr__(self) -> str:
        return f"StreamedRows(shape={self.shape}, block_rows={self.block_rows}, source={type(self.source).__name__})"

    # ------------------------------------------------------------------ reading
    def _read_raw(self, first: int, last: int) -> np.ndarray:
        """Rows ``first .. last - 1`` of the source as a NumPy array (a copy, nothing mapped kept resident)."""
        block = self.source[first:last]
        if _is_dask_array(block):
            block = block.compute()
        block = np.array(block, copy=True)
        mapping = _mapping_of(self.source)
        if mapping is not None:
            # The pages just read stay in the page cache, but not in this process's memory: a pass over
            # a memmap larger than memory then holds one block, not the whole file.
            try:
                mapping.madvise(mmap.MADV_DONTNEED)
            except (AttributeError, OSError, ValueError):  # pragma: no cover - platforms without madvise
                pass
        return block

    def _bind(self, convert, dtype: np.dtype) -> "StreamedRows":
        """A copy whose blocks are converted by ``convert(block, first_row)`` into ``dtype``; every block is read once.

        Parameters
        ----------
        convert : callable(ndarray, int) -> ndarray
            The trainer's checks and conversion of a block starting at row ``first_row`` (its
            errors name the row in the whole data).
        dtype : numpy.dtype
            The training dtype (sizes the default blocks).

        Returns
        -------
        StreamedRows
            With ``block_rows`` fixed and ``column_sums`` (float64 sums of the converted values).
        """
        bound = StreamedRows(self.source, self.block_rows)
        if bound.block_rows is None:
            bound.block_rows = max(1, DEFAULT_BLOCK_BYTES // max(1, self.shape[1] * np.dtype(dtype).itemsize))
        bound._convert = convert
        bound.dtype = np.dtype(dtype)
        sums = np.zeros(self.shape[1])
        for first, block in bound._blocks():
            sums += block.sum(axis=0, dtype=np.float64)
        bound.column_sums = sums
        return bound

    def _read(self, first: int, last: int) -> np.ndarray:
        """Converted rows ``first .. last - 1``: C-contiguous, in the training dtype."""
        if self._convert is None:
            raise ValidationError("a StreamedRows is read after a trainer binds it (fit does)")
        return self._convert(self._read_raw(first, last), first)

    def _blocks(self):
        """``(first_row, rows)`` of every block, in row order."""
        for first in range(0, self.shape[0], self.block_rows):
            yield first, self._read(first, min(first + self.block_rows, self.shape[0]))

    def __getitem__(self, rows) -> np.ndarray:
        """Converted rows at the sorted indices ``rows`` (a monitor's fixed subset), read block by block."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.empty((rows.shape[0], self.shape[1]), dtype=self.dtype)
        for first, last in _runs_by_block(rows, self.block_rows):
            block_first = rows[first] // self.block_rows * self.block_rows
            block = self._read(block_first, min(block_first + self.block_rows, self.shape[0]))
            out[first:last] = block[rows[first:last] - block_first]
        return out

    def _column_means(self) -> np.ndarray:
        """float64 column means from the sums taken by :meth:`_bind` (exact for 0/1 values: the in-memory means)."""
        return self.column_sums / self.shape[0]

    # ------------------------------------------------------------------ an epoch
    @property
    def n_blocks(self) -> int:
        """Blocks of the data (``block_rows`` is fixed once a trainer binds the rows)."""
        return -(-self.shape[0] // self.block_rows)

    def _epoch_order(self, generator) -> np.ndarray:
        """The rows of one epoch in order (int64, shape (n_rows,)): see the module docstring."""
        n_rows, size = self.shape[0], self.block_rows
        if self.n_blocks == 1:
            return generator.permutation(n_rows).astype(np.int64, copy=False)
        order = np.empty(n_rows, dtype=np.int64)
        at = 0
        for block in generator.permutation(self.n_blocks).tolist():
            first = block * size
            count = min(size, n_rows - first)
            order[at:at + count] = first + generator.permutation(count)
            at += count
        return order

    def _windows(self, order: np.ndarray, batch_rows: int):
        """``(rows, local_order)`` pairs covering ``order`` in whole batches of ``batch_rows`` (the last perhaps short).

        ``rows`` holds the rows a batch straddling a block boundary carried over, then the next
        block's rows; ``local_order`` indexes ``rows`` in the epoch's order. Batches are the
        consecutive slices of ``order``, as an in-memory epoch makes them.
        """
        carried = np.empty((0, self.shape[1]), dtype=self.dtype)
        at = 0
        while at < order.shape[0]:
            first = int(order[at]) // self.block_rows * self.block_rows
            last = min(first + self.block_rows, self.shape[0])
            count = last - first
            block = self._read(first, last)
            rows = np.concatenate([carried, block]) if carried.shape[0] else block
            local = np.concatenate([np.arange(carried.shape[0], dtype=np.int64),
                                    carried.shape[0] + (order[at:at + count] - first)])
            at += count
            whole = local.shape[0] if at >= order.shape[0] else local.shape[0] // batch_rows * batch_rows
            if whole:
                yield rows, local[:whole]
            carried = np.ascontiguousarray(rows[local[whole:]])


def _runs_by_block(rows: np.ndarray, block_rows: int):
    """``(first, last)`` index ranges of the sorted ``rows`` that fall in one block each."""
    if rows.shape[0] == 0:
        return []
    blocks = rows // block_rows
    edges = np.flatnonzero(np.diff(blocks)) + 1
    bounds = np.concatenate([[0], edges, [rows.shape[0]]])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def streamed(data, *, block_rows=None) -> StreamedRows:
    """Training data that a streaming trainer's ``fit`` reads ``block_rows`` rows at a time.

    ``fit`` streams a NumPy memmap or a Dask array by itself (blocks of about 32 MB); wrap data
    to choose the block size, or to fit an in-memory array in the same order as a streamed one
    (the in-memory twin: same ``block_rows``, same ``rng``, same model bit for bit).

    Parameters
    ----------
    data : array sliceable by rows, shape (n_samples, n_visible)
        A NumPy array or memmap, a Dask array, an HDF5 (h5py) or zarr dataset.
    block_rows : int >= 1, optional
        Rows per block (default: 32 MB of rows in the trainer's dtype). Peak memory is about
        two blocks and a mini-batch, plus the model.

    Returns
    -------
    StreamedRows

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy.learning import ContrastiveDivergence, streamed
    >>> rows = np.random.default_rng(0).integers(0, 2, size=(100, 6))
    >>> trainer = ContrastiveDivergence(epochs=2, batch_size=10, monitor=None)
    >>> result = trainer.fit(3, streamed(rows, block_rows=30), rng=0, progress=False)
    >>> result.model.n_hidden
    3
    """
    if isinstance(block_rows, bool) or not (block_rows is None or isinstance(block_rows, numbers.Integral)):
        raise ParameterTypeError(f"block_rows must be None or an int >= 1, got {describe(block_rows)}")
    return StreamedRows(data, block_rows)
