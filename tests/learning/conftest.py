"""Fixtures of the learning tests: the CD engine, the plain-NumPy reference engine, and small data."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest



def load_reference_engine():
    """tests/learning/_reference_cd.py as a module (pytest's importlib mode has no package here)."""
    spec = importlib.util.spec_from_file_location("pgm_energy_tests_reference_cd", Path(__file__).with_name("_reference_cd.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def engine():
    """The engine ContrastiveDivergence uses: the package's own (tests swap its functions with monkeypatch)."""
    return importlib.import_module("pgm_energy.learning._cd_engine")


@pytest.fixture
def reference_engine():
    return load_reference_engine()


def bars_and_stripes(n: int) -> np.ndarray:
    """Every n x n image whose rows are all equal (stripes) or whose columns are all equal (bars).

    2 * 2**n - 2 distinct patterns (all-off and all-on are both a bar and a stripe), as rows of n*n.
    """
    patterns = set()
    for bits in itertools.product((0, 1), repeat=n):
        stripes = np.repeat(np.array(bits)[:, None], n, axis=1)
        patterns.add(tuple(stripes.ravel()))
        patterns.add(tuple(stripes.T.ravel()))
    return np.array(sorted(patterns), dtype=np.uint8)


@pytest.fixture
def bas3():
    data = bars_and_stripes(3)
    assert data.shape == (14, 9)
    return data


@pytest.fixture
def small_binary():
    """60 rows of 8 correlated binary units (two groups of four that tend to agree)."""
    rng = np.random.default_rng(42)
    group = rng.integers(0, 2, size=(60, 2))
    noise = rng.random((60, 8)) < 0.1
    return (np.repeat(group, 4, axis=1) ^ noise).astype(np.uint8)
