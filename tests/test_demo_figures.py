"""The demo's figures: drawn with matplotlib when it is there, one line instead when it is not."""

import io
import sys

import pytest

from pgm_energy.demo import run_demo


def _run(output_dir):
    out = io.StringIO()
    result = run_demo(n_hidden=2, epochs=1, seed=1, output_dir=output_dir, progress=False, out=out)
    return result, out.getvalue()


def test_without_matplotlib_the_demo_says_so_in_one_line_and_runs_the_rest(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    result, text = _run(tmp_path / "figures")
    skipped = [line for line in text.splitlines() if "matplotlib" in line]
    assert skipped == ['figures skipped: matplotlib is not installed (pip install "pgm-energy[plot]")']
    assert result["figures"] == {} and list((tmp_path / "figures").iterdir()) == []
    for heading in ("A deep belief network", "hidden causes", "Sampling against the exact answer"):
        assert heading in text  # everything after the figures still ran
    assert result["deep_belief"]["tuned_bound"].mean < 0.0


def test_with_matplotlib_the_demo_writes_titled_figures(tmp_path):
    pytest.importorskip("matplotlib")
    result, text = _run(tmp_path)
    assert sorted(result["figures"]) == ["deep_belief_samples", "filters", "samples"]
    for path in result["figures"].values():
        assert path.parent == tmp_path and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert str(path) in text
    assert "figures skipped" not in text
