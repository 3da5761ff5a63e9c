"""Out-of-core training: memmaps, Dask arrays and streamed(...) read a block of rows at a time.

The epoch order is defined on blocks (pgm_energy/learning/_streamed.py), so a streamed fit equals
its in-memory twin (the same rows in memory, wrapped with the same block_rows) bit for bit, and a
fit of data that fit in one block equals the plain in-memory fit.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pgm_energy.exceptions import ParameterTypeError, StateError, ValidationError
from pgm_energy.learning import ContrastiveDivergence, ExactGradient, StreamedRows, streamed


def _data(n_rows=500, n_visible=24, seed=0):
    return (np.random.default_rng(seed).random((n_rows, n_visible)) < 0.3).astype(np.uint8)


def _memmap(tmp_path, data, name="rows.npy"):
    path = tmp_path / name
    np.save(path, data)
    return np.load(path, mmap_mode="r")


TRAINERS = {
    "pcd-numba": dict(epochs=3, batch_size=20, monitor=None),
    "cd-numba": dict(epochs=3, batch_size=20, persistent=False, monitor=None),
    "pcd-tempered": dict(epochs=2, batch_size=20, tempering=3, monitor=None),
    "pcd-small-batches": dict(epochs=2, batch_size=7, monitor=None),
}


@pytest.mark.parametrize("case", list(TRAINERS))
def test_a_memmap_trains_as_its_in_memory_twin_bit_for_bit(tmp_path, case):
    data = _data()
    trainer = ContrastiveDivergence(**TRAINERS[case])
    twin = trainer.fit(6, streamed(data, block_rows=130), rng=1, progress=False)  # 130: batches straddle blocks
    there = trainer.fit(6, streamed(_memmap(tmp_path, data), block_rows=130), rng=1, progress=False)
    np.testing.assert_array_equal(there.model.weights, twin.model.weights)
    np.testing.assert_array_equal(there.model.visible_bias, twin.model.visible_bias)
    np.testing.assert_array_equal(there.model.hidden_bias, twin.model.hidden_bias)
    in_memory = trainer.fit(6, data, rng=1, progress=False)  # another order (one permutation of all rows)
    assert not np.array_equal(in_memory.model.weights, twin.model.weights)


@pytest.mark.parametrize("persistent", [True, False])
def test_the_blas_path_streams_too(persistent):
    data = _data(300, 160)  # 160 x 130 weights: beyond the Numba path's size
    trainer = ContrastiveDivergence(epochs=2, batch_size=16, persistent=persistent, monitor=None)
    twin = trainer.fit(130, streamed(data, block_rows=70), rng=2, progress=False)
    dask_array = pytest.importorskip("dask.array").from_array(data, chunks=(50, 160))
    there = trainer.fit(130, streamed(dask_array, block_rows=70), rng=2, progress=False)
    np.testing.assert_array_equal(there.model.weights, twin.model.weights)


def test_data_of_one_block_train_as_the_plain_in_memory_fit(tmp_path):
    """A memmap or a Dask array given as is streams in 32 MB blocks: small data are one block, the in-memory order."""
    data = _data()
    trainer = ContrastiveDivergence(epochs=3, batch_size=20)
    here = trainer.fit(6, data, validation=data[:40], rng=3, progress=False)
    there = trainer.fit(6, _memmap(tmp_path, data), validation=data[:40], rng=3, progress=False)
    np.testing.assert_array_equal(there.model.weights, here.model.weights)
    def untimed(history):
        return [{key: value for key, value in record.items() if key != "seconds"} for record in history.records]

    assert untimed(there.history) == untimed(here.history)  # the monitors read the same subset
    dask_array = pytest.importorskip("dask.array").from_array(data, chunks=(64, 24))
    np.testing.assert_array_equal(trainer.fit(6, dask_array, validation=data[:40], rng=3, progress=False).model.weights,
                                  here.model.weights)


def test_an_epoch_visits_blocks_then_rows_within_each_and_batches_cross_blocks():
    rows = StreamedRows(np.arange(23 * 2).reshape(23, 2), block_rows=5)
    bound = rows._bind(lambda block, first: np.ascontiguousarray(block, dtype=np.float64), np.dtype(np.float64))
    order = bound._epoch_order(np.random.default_rng(0))
    assert sorted(order.tolist()) == list(range(23))
    # the blocks of 5 rows (the last of 3) are visited whole, one after the other, in a shuffled order
    block_of = (order // 5).tolist()
    runs = [block_of[0]] + [b for a, b in zip(block_of[:-1], block_of[1:]) if b != a]
    assert sorted(runs) == [0, 1, 2, 3, 4] and runs != [0, 1, 2, 3, 4]
    assert all(block_of.count(block) == (3 if block == 4 else 5) for block in runs)
    batches = []
    for window, local in bound._windows(order, 4):
        batches += [window[local[i:i + 4], 0] // 2 for i in range(0, local.shape[0], 4)]
    expected = [order[i:i + 4] for i in range(0, 23, 4)]
    assert [b.tolist() for b in batches] == [e.tolist() for e in expected]


def test_a_bad_value_mid_file_is_named_with_its_row(tmp_path):
    data = _data(400, 8)
    data[333, 5] = 7
    with pytest.raises(StateError, match=r"only 0 and 1, got \S*7\)? at index \(333, 5\)"):
        ContrastiveDivergence(epochs=1, batch_size=10).fit(3, streamed(_memmap(tmp_path, data), block_rows=50),
                                                          progress=False)
    floats = data.astype(np.float32)
    floats[333, 5] = np.nan
    with pytest.raises(StateError, match=r"finite, got \S*nan\)? at index \(333, 5\)"):
        ContrastiveDivergence(epochs=1, batch_size=10).fit(3, streamed(floats, block_rows=50), progress=False)


def test_binarize_applies_block_by_block():
    grey = np.random.default_rng(4).random((300, 10))
    trainer = ContrastiveDivergence(epochs=2, batch_size=10, binarize=0.5, monitor=None)
    twin = trainer.fit(4, streamed(grey > 0.5, block_rows=64), rng=0, progress=False)
    there = trainer.fit(4, streamed(grey, block_rows=64), rng=0, progress=False)
    np.testing.assert_array_equal(there.model.weights, twin.model.weights)


def test_refusals_are_named():
    data = _data(100, 6)
    with pytest.raises(ValidationError, match="batch_size=None"):
        ContrastiveDivergence(epochs=1, batch_size=None).fit(3, streamed(data, block_rows=10), progress=False)
    with pytest.raises(ValidationError, match="data: ExactGradient takes its data in memory"):
        ExactGradient(epochs=1).fit(3, streamed(data), progress=False)
    with pytest.raises(ValidationError, match="validation: ContrastiveDivergence takes its validation in memory"):
        ContrastiveDivergence(epochs=1, batch_size=10).fit(3, data, validation=streamed(data), progress=False)
    with pytest.raises(ParameterTypeError, match="block_rows"):
        streamed(data, block_rows=2.5)
    with pytest.raises(ValidationError, match="block_rows"):
        streamed(data, block_rows=0)
    with pytest.raises(ParameterTypeError, match="sliceable by rows"):
        streamed(42)
    with pytest.raises(StateError, match="2-D"):
        streamed(np.zeros(5))
    with pytest.raises(ValidationError, match="columns"):
        ContrastiveDivergence(epochs=1, batch_size=5).fit(
            ContrastiveDivergence(epochs=1, batch_size=5, monitor=None).fit(3, data, progress=False).model,
            streamed(np.zeros((20, 4), dtype=np.uint8)), progress=False)


def test_a_checkpointed_streamed_run_resumes_to_the_uninterrupted_model(tmp_path):
    data = _memmap(tmp_path, _data(300, 12))
    whole = ContrastiveDivergence(epochs=4, batch_size=16, monitor=None).fit(5, streamed(data, block_rows=64), rng=7,
                                                                             progress=False)
    path = tmp_path / "run.npz"
    stopped = ContrastiveDivergence(epochs=4, batch_size=16, monitor=None, checkpoint_every=1,
                                    checkpoint_path=path).fit(5, streamed(data, block_rows=64), rng=7, progress=False,
                                                              callbacks=lambda epoch, model, history: epoch == 2)
    assert stopped.stop_reason == "callback"
    resumed = ContrastiveDivergence(epochs=4, batch_size=16, monitor=None).fit(
        5, streamed(data, block_rows=64), resume_from=path, progress=False)
    np.testing.assert_array_equal(resumed.model.weights, whole.model.weights)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_reading_a_memmap_keeps_one_block_in_memory(tmp_path):
    """A pass over a 512 MB memmap (a sparse file of zeros) in 8 MB blocks raises the peak memory by far less."""
    script = textwrap.dedent(f"""
        import numpy as np
        from pgm_energy.learning._streamed import StreamedRows
        rows = np.lib.format.open_memmap({str(tmp_path / 'big.npy')!r}, mode="w+", dtype=np.uint8,
                                         shape=(2**19, 1024))
        del rows
        data = np.load({str(tmp_path / 'big.npy')!r}, mmap_mode="r")
        def peak():  # kB; VmHWM, not ru_maxrss, which a child inherits from its parent's peak
            return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
        before = peak()
        bound = StreamedRows(data, 8192)._bind(lambda block, first: block, np.dtype(np.uint8))
        after = peak()
        print(int(bound.column_sums.sum()), (after - before) // 1024)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    total, grown_mb = map(int, done.stdout.split())
    assert total == 0
    assert grown_mb < 100, f"peak memory grew by {grown_mb} MB reading a 512 MB memmap in 8 MB blocks"
