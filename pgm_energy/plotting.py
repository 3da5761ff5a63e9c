"""Pictures of images, filters and samples, written as PNG without any plotting library.

Only NumPy and the standard library's ``zlib`` are used, so the demo and the examples can
always write their figures; matplotlib (extra ``[plot]``) is not needed here.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from ._validation import check_finite_array, check_int, describe
from .exceptions import ParameterTypeError, ValidationError

__all__ = ["tile_images", "write_png"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: largest picture written (pixels after zoom): 2**28, 256 MB of grey levels
_MAX_PIXELS = 2**28
_SCALES = ("each", "all", "none")


def tile_images(images, image_shape, *, n_columns=None, padding=1, scale="each") -> np.ndarray:
    """Arrange flat images on a grid, as one grey-level picture.

    Parameters
    ----------
    images : array_like, shape (n_images, height * width)
        Flat row-major images (pixels, weights of a hidden unit, probabilities...).
    image_shape : tuple of int
        ``(height, width)`` of one image.
    n_columns : int >= 1, optional
        Images per row of the grid; default ``ceil(sqrt(n_images))``.
    padding : int >= 0, default 1
        Black pixels between images.
    scale : {"each", "all", "none"}, default "each"
        Map each image's own range to [0, 255] (filters), the range of all images
        together, or take values as already in [0, 1] (binary images, probabilities).

    Returns
    -------
    ndarray of uint8, shape (rows * (height + padding) - padding, n_columns * (width + padding) - padding)
    """
    images = check_finite_array(images, "images", ndim=2)
    if (
        not isinstance(image_shape, (tuple, list, np.ndarray))
        or (isinstance(image_shape, np.ndarray) and image_shape.ndim != 1)
        or len(image_shape) != 2
    ):
        raise ParameterTypeError(f"image_shape must be a (height, width) pair of ints, got {describe(image_shape)}")
    height, width = (check_int(side, f"image_shape[{axis}]", minimum=1) for axis, side in enumerate(image_shape))
    if images.shape[1] != height * width:
        raise ValidationError(
            f"images have {images.shape[1]} pixels, image_shape={(height, width)!r} needs {height * width}"
        )
    n_images = images.shape[0]
    if n_images == 0:
        raise ValidationError("images must hold at least one image")
    n_columns = int(np.ceil(np.sqrt(n_images))) if n_columns is None else check_int(n_columns, "n_columns", minimum=1)
    padding = check_int(padding, "padding", minimum=0)
    if not isinstance(scale, str) or scale not in _SCALES:
        raise ValidationError(f"scale must be 'each', 'all' or 'none', got {describe(scale)}")
    n_rows = -(-n_images // n_columns)
    # Python ints: the canvas size is checked before anything is allocated
    canvas_shape = (n_rows * (height + padding) - padding, n_columns * (width + padding) - padding)
    if canvas_shape[0] * canvas_shape[1] > _MAX_PIXELS:
        raise ValidationError(
            f"the picture would have {canvas_shape[0]} x {canvas_shape[1]} pixels (n_columns={n_columns}, "
            f"padding={padding}, image_shape={(height, width)!r}), more than {_MAX_PIXELS}; use fewer columns or less padding"
        )
    if scale == "each":
        low = images.min(axis=1, keepdims=True)
        span = images.max(axis=1, keepdims=True) - low
    elif scale == "all":
        low = images.min()
        span = images.max() - low
    elif scale == "none":
        if images.min() < 0.0 or images.max() > 1.0:
            raise ValidationError("scale='none' needs values in [0, 1]; use scale='each' or 'all'")
        low, span = 0.0, 1.0
    levels = np.divide(images - low, span, out=np.zeros_like(images), where=np.asarray(span) > 0)
    pixels = np.rint(levels * 255.0).astype(np.uint8)
    canvas = np.zeros(canvas_shape, np.uint8)
    for k in range(n_images):
        top = (k // n_columns) * (height + padding)
        left = (k % n_columns) * (width + padding)
        canvas[top : top + height, left : left + width] = pixels[k].reshape(height, width)
    return canvas


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def write_png(path, picture, *, zoom=1) -> Path:
    """Write a grey-level picture as an 8-bit PNG file (atomically).

    Parameters
    ----------
    path : str or os.PathLike
        Destination; its folder must exist.
    picture : array_like of uint8, shape (height, width)
        Grey levels, 0 black to 255 white (for example from :func:`tile_images`).
    zoom : int >= 1, default 1
        Each pixel becomes a ``zoom × zoom`` block (small digits are easier to see).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    try:
        picture = np.asarray(picture)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise ValidationError(f"picture must be a non-empty 2-d uint8 array, got {describe(picture)}") from error
    if picture.ndim != 2 or picture.dtype != np.uint8 or picture.size == 0:
        raise ValidationError(f"picture must be a non-empty 2-d uint8 array, got {picture.dtype} of shape {picture.shape}")
    zoom = check_int(zoom, "zoom", minimum=1)
    if picture.size * zoom * zoom > _MAX_PIXELS:
        raise ValidationError(
            f"zoom={zoom} makes a picture of {picture.size * zoom * zoom} pixels, more than PNG files here hold ({_MAX_PIXELS})"
        )
    from .io import atomic_write, resolve_output_path

    resolve_output_path(path)  # before the work, not after it
    picture = np.repeat(np.repeat(picture, zoom, axis=0), zoom, axis=1)
    height, width = picture.shape
    # every scanline starts with filter type 0 (none)
    raw = np.hstack([np.zeros((height, 1), np.uint8), picture]).tobytes()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale, no interlace
    content = _PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")
    atomic_write(path, lambda handle: handle.write(content))
    return Path(path)
