"""Importing pgm_energy stays light: no pgmpy, hypothesis, matplotlib, or Numba compilation."""

import subprocess
import sys


def test_import_does_not_load_heavy_or_optional_packages():
    code = (
        "import sys, pgm_energy; "
        "print(sorted(m for m in ('pgmpy', 'hypothesis', 'matplotlib', 'numba', 'torch', 'pandas') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr


def test_public_names_are_exported():
    import pgm_energy

    for name in pgm_energy.__all__:
        assert getattr(pgm_energy, name) is not None
    assert not {"DBN", "MarkovNetwork", "BayesianNetwork", "GibbsSampling"} & set(dir(pgm_energy))
