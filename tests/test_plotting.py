"""Image tiling (NumPy only), figures drawn with matplotlib and saved atomically."""

import subprocess
import sys

import numpy as np
import pytest

from pgm_energy.exceptions import ParameterTypeError, ValidationError
from pgm_energy.plotting import plot_images, save_figure, tile_images

matplotlib = pytest.importorskip("matplotlib")


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
        (lambda: plot_images(np.zeros((2, 5)), (2, 2)), "pixels"),
        (lambda: plot_images(np.full((1, 4), 2.0), (2, 2), scale="none"), "scale"),
    ],
)
def test_bad_input(call, fragment):
    with pytest.raises(ValidationError, match=fragment):
        call()


def _shown(figure) -> np.ndarray:
    """The array the figure's grid image displays (padding as NaN)."""
    (image,) = figure.axes[0].get_images()
    return np.ma.filled(image.get_array().astype(float), np.nan)


def test_figure_shows_the_tiled_values_with_its_texts():
    images = np.array([[-2.0, 0.0, 2.0, 1.0], [5.0, 5.0, 5.0, 5.0], [0.0, 1.0, 0.0, 1.0]])
    figure = plot_images(images, (2, 2), title="Three images", caption="one per tile", colorbar_label="weight",
                         n_columns=2, scale="all")
    (main,) = figure.axes
    (bar,) = main.child_axes  # the colour bar, inset beside the grid
    assert (main.get_title(), main.get_xlabel(), bar.get_ylabel()) == ("Three images", "one per tile", "weight")
    shown = _shown(figure)
    assert shown.shape == tile_images(images, (2, 2), n_columns=2, scale="all").shape == (5, 5)
    np.testing.assert_array_equal(shown[:2, :2], [[-2.0, 0.0], [2.0, 1.0]])  # "all": the values themselves
    np.testing.assert_array_equal(shown[:2, 3:], [[5.0, 5.0], [5.0, 5.0]])
    assert np.all(np.isnan(shown[2, :])) and np.all(np.isnan(shown[:, 2])) and np.all(np.isnan(shown[3:, 3:]))
    (image,) = main.get_images()
    assert image.get_clim() == (-2.0, 5.0)  # the colour bar spans every image, in their units


def test_each_scaling_labels_the_colour_bar_lowest_to_highest():
    figure = plot_images(np.array([[-2.0, 0.0, 2.0, 1.0]]), (2, 2), scale="each")
    np.testing.assert_array_equal(_shown(figure), [[0.0, 0.5], [1.0, 0.75]])
    assert [label.get_text() for label in figure.axes[0].child_axes[0].get_yticklabels()] == ["lowest", "highest"]


def test_png_and_svg_are_written_and_read_back(tmp_path):
    figure = plot_images(np.eye(4), (2, 2), title="t", scale="none")
    png = save_figure(figure, tmp_path / "grid.png", dpi=50)
    assert png == tmp_path / "grid.png" and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from matplotlib.image import imread

    pixels = imread(png)
    assert pixels.ndim == 3 and min(pixels.shape[:2]) > 50
    svg = save_figure(figure, str(tmp_path / "grid.svg"))
    assert b"<svg" in svg.read_bytes()[:1000]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["grid.png", "grid.svg"]  # no temporary left


def test_save_writes_through_a_symlink_and_replaces_the_old_file(tmp_path):
    target = tmp_path / "real.png"
    target.write_bytes(b"old")
    link = tmp_path / "link.png"
    link.symlink_to(target)
    save_figure(plot_images(np.eye(4), (2, 2)), link)
    assert link.is_symlink() and target.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("arguments", "error", "fragment"),
    [
        (dict(figure="not a figure"), ParameterTypeError, "figure must be a matplotlib Figure"),
        (dict(path="grid.unknown"), ValidationError, "suffix"),
        (dict(path="grid"), ValidationError, "no suffix"),
        (dict(dpi=0), ValidationError, "dpi"),
        (dict(dpi=2), ValidationError, "dpi must be >= 20"),
        (dict(dpi=10**9), ValidationError, "dpi"),
        (dict(dpi="high"), ParameterTypeError, "dpi"),
        (dict(path=b"grid.png"), ParameterTypeError, "path"),
    ],
)
def test_save_refuses_bad_arguments_and_writes_nothing(tmp_path, monkeypatch, arguments, error, fragment):
    monkeypatch.chdir(tmp_path)
    call = dict(figure=plot_images(np.eye(4), (2, 2)), path="grid.png") | arguments
    with pytest.raises(error, match=fragment):
        save_figure(**call)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["title", "caption", "colorbar_label"])
def test_texts_must_be_strings(name):
    with pytest.raises(ParameterTypeError, match=name):
        plot_images(np.eye(4), (2, 2), **{name: 3})


def test_without_matplotlib_figures_say_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    np.testing.assert_array_equal(tile_images(np.eye(4), (2, 2), scale="none")[:2, :2], [[255, 0], [0, 0]])
    with pytest.raises(ImportError, match=r"pgm-energy\[plot\]"):
        plot_images(np.eye(4), (2, 2))
    with pytest.raises(ImportError, match=r"pgm-energy\[plot\]"):
        save_figure(object(), "grid.png")


def test_importing_plotting_does_not_import_matplotlib():
    code = "import sys, pgm_energy.plotting; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
