"""The documentation site builds with --strict and leaves nothing public out.

``mkdocs build --strict`` fails on a broken link, a missing snippet or an API reference that
does not resolve. On top of that: every page is in the navigation, every example has a page
that includes its source, and every class and function that a public module exports in
``__all__`` appears in the generated API reference.
"""

import ast
import os
import re
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings_handlers.python")

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MKDOCS_YML = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(folder)],
        cwd=ROOT, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"), capture_output=True, text=True, timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return folder


def _inventory(site: Path) -> set[str]:
    """The object names of the site's ``objects.inv`` (Sphinx inventory v2: 4 header lines, then zlib)."""
    body = zlib.decompress((site / "objects.inv").read_bytes().split(b"\n", 4)[4]).decode("utf-8")
    return {line.split(" ", 1)[0] for line in body.splitlines() if line.strip()}


def _public_exports():
    """``(module, package, name)`` for each class or function in a public module's ``__all__``.

    Read from the source, not imported. ``package`` is where the name may be documented: the
    module itself if it is a package, else the package holding it (a name loaded lazily is
    documented from the private module that defines it). ALL_CAPS constants and submodules
    are left out: they are described in the text of their module's page.
    """
    for path in sorted((ROOT / "pgm_energy").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        if any(part.startswith("_") for part in parts[1:]):
            continue
        module = ".".join(parts)
        package = module if is_package else module.rpartition(".")[0]
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == "__all__" for target in node.targets):
                for name in ast.literal_eval(node.value):
                    submodule = path.parent / name if is_package else None
                    if name.isupper() or (submodule and (submodule.is_dir() or submodule.with_suffix(".py").exists())):
                        continue
                    yield module, package, name


def test_the_site_builds_and_documents_every_public_class_and_function(site):
    documented = _inventory(site)
    missing = [
        f"{module}.{name}"
        for module, package, name in _public_exports()
        if f"{module}.{name}" not in documented
        and not any(entry.startswith(package + ".") and entry.endswith("." + name) for entry in documented)
    ]
    assert not missing, "not in the API reference (add them to a page of docs/reference/): " + ", ".join(missing)
    for figure in ("filters", "samples", "deep_belief_samples"):
        assert (site / "figures" / f"{figure}.png").is_file()


def test_every_page_is_in_the_navigation():
    listed = set(re.findall(r"^\s*-\s*(?:[^:\n]+:\s*)?([\w/.-]+\.md)\s*$", MKDOCS_YML, flags=re.M))
    pages = {str(path.relative_to(DOCS)) for path in DOCS.rglob("*.md")}
    assert pages == listed, f"pages not in mkdocs.yml's nav: {sorted(pages - listed)}; nav entries without a page: {sorted(listed - pages)}"


def test_every_example_has_a_page_that_includes_its_source():
    for script in sorted((ROOT / "examples").glob("*.py")):
        page = DOCS / "examples" / f"{script.stem}.md"
        assert page.is_file(), f"{script.name} has no page in docs/examples/"
        assert f'--8<-- "examples/{script.name}"' in page.read_text(encoding="utf-8")
