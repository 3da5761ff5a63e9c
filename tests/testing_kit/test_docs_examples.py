"""The worked examples of docs/testing.md run and pass (each block's test functions are called)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
BLOCKS = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)


@pytest.mark.parametrize("block", range(len(BLOCKS)))
def test_the_worked_example_passes(block):
    namespace = {}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")
        exec(compile(BLOCKS[block], f"docs/testing.md block {block}", "exec"), namespace)
    tests = [value for name, value in namespace.items() if name.startswith("test_") and callable(value)]
    assert tests, "the block defines no test"
    for test in tests:
        test()
