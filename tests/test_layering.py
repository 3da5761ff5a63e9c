"""The import contracts of pyproject.toml ([tool.importlinter]) hold, and they can fail.

``lint-imports`` checks them: dependency arrows point down the layers, every module placed in
them (so the kernels import nothing of the package but their launcher, and the models only
kernels, validation and exceptions, plus lazy hand-offs listed one by one), and pgmpy is
imported in ``pgm_energy.interop`` only.
"""

import ast
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import pgm_energy

pytest.importorskip("importlinter")

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
CONTRACTS = {contract["id"]: contract for contract in CONFIG["contracts"]}
LINT_IMPORTS = shutil.which("lint-imports", path=os.path.dirname(sys.executable)) or shutil.which("lint-imports")


def _lint(package_parent: Path) -> subprocess.CompletedProcess:
    """Run lint-imports with the project's contracts on the package found under ``package_parent``."""
    environment = dict(os.environ, PYTHONPATH=str(package_parent))
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=package_parent, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )


def test_the_package_keeps_every_contract():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken" in result.stdout


def test_broken_contracts_are_reported(tmp_path):
    copy = tmp_path / "pgm_energy"
    shutil.copytree(ROOT / "pgm_energy", copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "_kernels" / "rng.py", "a", encoding="utf-8") as source:
        source.write("\nfrom ..exceptions import ValidationError  # a kernel reaching up\n")
    with open(copy / "models" / "rbm.py", "a", encoding="utf-8") as source:
        source.write("\nfrom ..samplers import GibbsSampler  # not a lazy hand-off\n")
    with open(copy / "exact.py", "a", encoding="utf-8") as source:
        source.write("\nimport pgmpy  # pgmpy outside interop/\n")
    with open(copy / "_validation.py", "a", encoding="utf-8") as source:
        source.write("\nfrom . import learning  # an arrow pointing up\n")
    (copy / "unplaced.py").write_text('"""A module in no layer."""\n', encoding="utf-8")
    result = _lint(tmp_path)
    assert result.returncode == 1
    assert f"Contracts: 0 kept, {len(CONTRACTS)} broken" in result.stdout, result.stdout + result.stderr
    for importer, imported in [("pgm_energy._kernels.rng", "pgm_energy.exceptions"),
                               ("pgm_energy.models.rbm", "pgm_energy.samplers"), ("pgm_energy.exact", "pgmpy"),
                               ("pgm_energy._validation", "pgm_energy.learning")]:
        assert f"{importer} -> {imported}" in result.stdout
    assert "pgm_energy.unplaced" in result.stdout


def _function_level_lines(path: Path) -> set[int]:
    """Line numbers of the import statements inside a function of ``path``."""
    lines = set()
    for function in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            lines |= {node.lineno for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom))}
    return lines


def test_what_the_models_import_from_layers_above_is_imported_lazily():
    """Each import of a model from a layer above (listed in ignore_imports) is inside a function: a hand-off."""
    import grimp

    graph = grimp.build_graph("pgm_energy", cache_dir=None)
    for expression in CONTRACTS["layers"]["ignore_imports"]:
        importer, imported = (part.strip() for part in expression.split("->"))
        if not importer.startswith("pgm_energy.models"):
            continue
        details = graph.get_import_details(importer=importer, imported=imported)
        assert details, f"{expression}: no such import any more; remove it from pyproject.toml"
        path = Path(pgm_energy.__file__).parent.joinpath(*importer.split(".")[1:])
        path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        lazy = _function_level_lines(path)
        eager = [detail["line_number"] for detail in details if detail["line_number"] not in lazy]
        assert not eager, f"{importer} imports {imported} at module level (lines {eager}), not in a hand-off"
