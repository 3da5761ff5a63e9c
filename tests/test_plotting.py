"""PNG writing and image tiling, read back by an independent decoder."""

import struct
import zlib

import numpy as np
import pytest

from pgm_energy.exceptions import ValidationError
from pgm_energy.plotting import tile_images, write_png


def _read_png_by_hand(path):
    """Parse chunks per the PNG spec (CRC checked), return the grey-level array."""
    content = path.read_bytes()
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(content):
        (length,) = struct.unpack(">I", content[position : position + 4])
        kind = content[position + 4 : position + 8]
        payload = content[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", content[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + payload)
        chunks.setdefault(kind, b"")
        chunks[kind] += payload
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour, interlace) == (8, 0, 0) and b"IEND" in chunks
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, width + 1)
    assert np.all(rows[:, 0] == 0)
    return rows[:, 1:]


def test_png_round_trip_with_zoom(tmp_path):
    picture = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    path = write_png(tmp_path / "p.png", picture, zoom=2)
    decoded = _read_png_by_hand(path)
    np.testing.assert_array_equal(decoded, np.repeat(np.repeat(picture, 2, 0), 2, 1))
    image = pytest.importorskip("PIL.Image")
    np.testing.assert_array_equal(np.asarray(image.open(path)), decoded)


def test_tiles_place_each_image_with_padding():
    images = np.array([[0, 1, 1, 0], [1, 1, 1, 1], [0, 0, 0, 1]], dtype=float)
    canvas = tile_images(images, (2, 2), n_columns=2, padding=1, scale="none")
    assert canvas.shape == (5, 5)
    np.testing.assert_array_equal(canvas[:2, :2], [[0, 255], [255, 0]])
    np.testing.assert_array_equal(canvas[:2, 3:], [[255, 255], [255, 255]])
    np.testing.assert_array_equal(canvas[3:, :2], [[0, 0], [0, 255]])
    assert np.all(canvas[2, :] == 0) and np.all(canvas[:, 2] == 0) and np.all(canvas[3:, 3:] == 0)


def test_each_scaling_stretches_every_image_to_full_range():
    canvas = tile_images(np.array([[-2.0, 0.0, 2.0, 1.0]]), (2, 2), scale="each")
    np.testing.assert_array_equal(canvas, [[0, 128], [255, 191]])


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: tile_images(np.zeros((2, 5)), (2, 2)), "pixels"),
        (lambda: tile_images(np.full((1, 4), 2.0), (2, 2), scale="none"), "scale"),
        (lambda: tile_images(np.zeros((1, 4)), (2, 2), scale="log"), "scale"),
        (lambda: tile_images(np.zeros((0, 4)), (2, 2)), "at least one"),
        (lambda: write_png("x.png", np.zeros((2, 2))), "uint8"),
    ],
)
def test_bad_input(call, fragment):
    with pytest.raises(ValidationError, match=fragment):
        call()
