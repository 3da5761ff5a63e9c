"""Without matplotlib the demo prints one line instead of figures and runs everything else.

The branch with matplotlib (three PNG figures written) is tested by tests/test_cli.py.
"""

import io
import sys

from pgm_energy.demo import run_demo


def test_without_matplotlib_the_demo_says_so_in_one_line_and_runs_the_rest(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises ImportError
    out = io.StringIO()
    result = run_demo(n_hidden=2, epochs=1, seed=1, output_dir=tmp_path / "figures", progress=False, out=out)
    text = out.getvalue()
    skipped = [line for line in text.splitlines() if "matplotlib" in line]
    assert skipped == ['figures skipped: matplotlib is not installed (pip install "pgm-energy[plot]")']
    assert result["figures"] == {} and list((tmp_path / "figures").iterdir()) == []
    for heading in ("A deep belief network", "hidden causes", "Sampling against the exact answer"):
        assert heading in text  # everything after the figures still ran
    assert result["deep_belief"]["tuned_bound"].mean < 0.0

