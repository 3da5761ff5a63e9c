"""Figures of images, filters and samples.

:func:`tile_images` arranges flat images on a grid with NumPy alone. :func:`plot_images` draws
such a grid as a matplotlib figure with a title, a caption and a colour bar, and
:func:`save_figure` writes any matplotlib figure atomically (through
:func:`pgm_energy.io.atomic_write`). matplotlib is the optional extra ``plot``
(``pip install "pgm-energy[plot]"``); it is imported only when a figure is drawn or saved, so
``import pgm_energy.plotting`` does not import it.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ._validation import check_finite_array, check_int, describe
from .exceptions import ParameterTypeError, ValidationError

__all__ = ["tile_images", "plot_images", "save_figure"]

#: largest picture drawn or written, in pixels: 2**28 (256 MB of grey levels)
_MAX_PIXELS = 2**28
#: below this, matplotlib's font renderer fails on a 6-point label (less than one pixel per em: FreeType refuses it)
_MIN_DPI = 20.0
_SCALES = ("each", "all", "none")
_PLOT_EXTRA = 'matplotlib is not installed; figures need the plot extra: pip install "pgm-energy[plot]"'
# tiles of 8x8 pixels come out about 0.6 inch wide: large enough to see single pixels
_INCHES_PER_PIXEL = 0.075
_MAX_GRID_INCHES = 7.5
# padding between images: a colour outside the grey scale, so it never reads as a value
_PADDING_COLOUR = "#8fb3d9"


class _Grid(NamedTuple):
    """Checked images and where they go: ``images`` (n_images, height * width), float64."""

    images: np.ndarray
    height: int
    width: int
    n_columns: int
    padding: int
    shape: tuple[int, int]


def _check_grid(images, image_shape, n_columns, padding, scale) -> _Grid:
    """The arguments that :func:`tile_images` and :func:`plot_images` share, checked."""
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
    shape = (n_rows * (height + padding) - padding, n_columns * (width + padding) - padding)
    if shape[0] * shape[1] > _MAX_PIXELS:
        raise ValidationError(
            f"the picture would have {shape[0]} x {shape[1]} pixels (n_columns={n_columns}, "
            f"padding={padding}, image_shape={(height, width)!r}), more than {_MAX_PIXELS}; use fewer columns or less padding"
        )
    return _Grid(images, height, width, n_columns, padding, shape)


def _levels(images: np.ndarray, scale: str) -> np.ndarray:
    """``images`` mapped to [0, 1] as ``scale`` says (see :func:`tile_images`)."""
    if scale == "each":
        low = images.min(axis=1, keepdims=True)
        span = images.max(axis=1, keepdims=True) - low
    elif scale == "all":
        low = images.min()
        span = images.max() - low
    else:
        if images.min() < 0.0 or images.max() > 1.0:
            raise ValidationError("scale='none' needs values in [0, 1]; use scale='each' or 'all'")
        low, span = 0.0, 1.0
    return np.divide(images - low, span, out=np.zeros_like(images), where=np.asarray(span) > 0)


def _place(grid: _Grid, values: np.ndarray, fill) -> np.ndarray:
    """``values`` (one row per image) laid out on the grid's canvas, ``fill`` between them."""
    canvas = np.full(grid.shape, fill, dtype=values.dtype)
    for k, image in enumerate(values):
        top = (k // grid.n_columns) * (grid.height + grid.padding)
        left = (k % grid.n_columns) * (grid.width + grid.padding)
        canvas[top : top + grid.height, left : left + grid.width] = image.reshape(grid.height, grid.width)
    return canvas


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
        Grey levels, 0 black to 255 white; empty places of the last row stay black.

    Raises
    ------
    ParameterTypeError
        If ``image_shape`` is not a pair of ints, or a count is not an int.
    ValidationError
        If the images are empty, not finite, do not have ``height * width`` pixels, the
        picture would exceed 2**28 pixels, or ``scale="none"`` meets values outside [0, 1].

    Examples
    --------
    >>> tile_images([[0.0, 1.0, 1.0, 0.0]], (2, 2), scale="none")
    array([[  0, 255],
           [255,   0]], dtype=uint8)
    """
    grid = _check_grid(images, image_shape, n_columns, padding, scale)
    pixels = np.rint(_levels(grid.images, scale) * 255.0).astype(np.uint8)
    return _place(grid, pixels, 0)


def _check_text(value, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ParameterTypeError(f"{name} must be a string or None, got {describe(value)}")
    return value


def _import_matplotlib():
    """The matplotlib module, or an ImportError that says which extra to install."""
    try:
        import matplotlib
        import matplotlib.figure  # noqa: F401  (the object API: no pyplot, no global figure state)
    except ImportError as error:
        raise ImportError(_PLOT_EXTRA) from error
    return matplotlib


def plot_images(
    images,
    image_shape,
    *,
    title=None,
    caption=None,
    colorbar_label=None,
    n_columns=None,
    padding=1,
    scale="each",
):
    """Draw flat images on a grid as a matplotlib figure, with a colour bar.

    The grid is laid out as by :func:`tile_images`; the padding between images is drawn in a
    light blue that is not on the grey scale. matplotlib (extra ``plot``) is imported here.

    Parameters
    ----------
    images : array_like, shape (n_images, height * width)
        The flat images, as for :func:`tile_images`.
    image_shape : (int, int)
        Their ``(height, width)``.
    title : str, optional
        Title above the grid: what the images are.
    caption : str, optional
        Text under the grid: how to read it (what one tile is, in which order).
    colorbar_label : str, optional
        What the grey levels measure (for example ``"p(pixel = 1)"`` or ``"weight"``).
    n_columns : int >= 1, optional
        Images per row; default ``ceil(sqrt(n_images))``.
    padding : int >= 0, default 1
        Pixels between images.
    scale : {"each", "all", "none"}, default "each"
        ``"each"``: every image stretched from its own lowest (black) to its own highest
        value (white), for filters whose ranges differ; the colour bar then reads "lowest"
        to "highest". ``"all"``: one grey scale for all images, the colour bar in their units.
        ``"none"``: values already in [0, 1] (binary images, probabilities), shown as they are.

    Returns
    -------
    matplotlib.figure.Figure
        A figure not registered with ``pyplot`` (nothing global is touched): save it with
        :func:`save_figure` or ``figure.savefig``.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    ParameterTypeError
        If ``image_shape`` is not a pair of ints, a count is not an int, or a text is not a string.
    ValidationError
        As :func:`tile_images`.

    Examples
    --------
    >>> import numpy as np
    >>> figure = plot_images(np.eye(4), (2, 2), title="Four one-pixel images", scale="none")
    >>> figure.axes[0].get_title()
    'Four one-pixel images'
    """
    grid = _check_grid(images, image_shape, n_columns, padding, scale)
    title = _check_text(title, "title")
    caption = _check_text(caption, "caption")
    colorbar_label = _check_text(colorbar_label, "colorbar_label")
    levels = _levels(grid.images, scale)
    matplotlib = _import_matplotlib()

    if scale == "all":
        shown, low, high = grid.images, float(grid.images.min()), float(grid.images.max())
        if high == low:  # a constant image: any non-empty range shows it
            high = low + 1.0
    else:
        shown, low, high = levels, 0.0, 1.0
    canvas = _place(grid, shown, np.nan)  # NaN marks the padding, drawn in the "bad" colour
    inches = min(_INCHES_PER_PIXEL, _MAX_GRID_INCHES / max(grid.shape))
    size = (grid.shape[1] * inches + 1.6, max(grid.shape[0] * inches, 1.2) + 1.2)
    figure = matplotlib.figure.Figure(figsize=size, layout="constrained")
    axes = figure.add_subplot()
    colours = matplotlib.colormaps["gray"].with_extremes(bad=_PADDING_COLOUR)
    picture = axes.imshow(canvas, cmap=colours, vmin=low, vmax=high, interpolation="nearest")
    axes.set_xticks([])
    axes.set_yticks([])
    if title is not None:
        axes.set_title(title)
    if caption is not None:
        axes.set_xlabel(caption)
    # the colour bar as an inset of the image's axes: exactly as tall as the grid it explains
    bar = figure.colorbar(picture, cax=axes.inset_axes([1.02, 0.0, 0.025, 1.0]), label=colorbar_label)
    if scale == "each":
        bar.set_ticks([0.0, 1.0], labels=["lowest", "highest"])
    return figure


def save_figure(figure, path, *, dpi=100) -> Path:
    """Write a matplotlib figure to a file, atomically.

    The format is the one the file name's suffix names (``.png``, ``.svg``, ``.pdf``, any
    that matplotlib writes). The file is written as :func:`pgm_energy.io.atomic_write` writes:
    through a temporary file renamed into place, so an interrupted save leaves the previous
    file intact, and a symlink is written through.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        For example from :func:`plot_images`.
    path : str or os.PathLike
        Destination; its folder must exist.
    dpi : real number >= 20, default 100
        Resolution of raster formats; the figure may have at most 2**28 pixels.

    Returns
    -------
    pathlib.Path
        ``path``, as a Path.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    ParameterTypeError
        If ``figure`` is not a matplotlib Figure, ``path`` not a path or ``dpi`` not a number.
    ValidationError
        If the suffix of ``path`` is not a format matplotlib writes, ``path`` cannot be
        written (see :func:`pgm_energy.io.resolve_output_path`), or ``dpi`` is below 20 or
        makes a picture of more than 2**28 pixels. Nothing is written then.
    """
    from .io import atomic_write, resolve_output_path

    matplotlib = _import_matplotlib()
    if not isinstance(figure, matplotlib.figure.Figure):
        raise ParameterTypeError(f"figure must be a matplotlib Figure, got {describe(figure)}")
    if isinstance(dpi, bool) or not isinstance(dpi, numbers.Real):
        raise ParameterTypeError(f"dpi must be a real number > 0, got {describe(dpi)}")
    dpi = float(dpi)
    width, height = (float(side) for side in figure.get_size_inches())  # Python floats: inf, not a warning, on overflow
    if not dpi >= _MIN_DPI or not width * height * dpi * dpi <= _MAX_PIXELS:
        raise ValidationError(
            f"dpi must be >= {_MIN_DPI:g} and keep the {width:g} x {height:g} inch figure within {_MAX_PIXELS} pixels, "
            f"got {dpi!r}"
        )
    resolve_output_path(path)  # type and place checked before the suffix is read from it
    suffix = Path(os.fspath(path)).suffix.lower().lstrip(".")
    formats = figure.canvas.get_supported_filetypes()
    if suffix not in formats:
        raise ValidationError(
            f"path {os.fspath(path)!r} must end in the suffix of a format matplotlib writes "
            f"({', '.join('.' + name for name in sorted(formats))}), got {('.' + suffix) if suffix else 'no suffix'}"
        )
    # a tight box: labels of inset axes (colour bars) lie outside the layout's own box
    atomic_write(path, lambda handle: figure.savefig(handle, format=suffix, dpi=dpi, bbox_inches="tight"))
    return Path(path)
