"""Load the brute-force helpers shared by the property tests.

pytest runs with ``--import-mode=importlib``, under which test modules cannot
import a sibling file; the helpers are loaded here once, by path, under the
module name ``_property_helpers``.
"""

import importlib.util
import sys
from pathlib import Path

if "_property_helpers" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("_property_helpers", Path(__file__).with_name("_property_helpers.py"))
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["_property_helpers"] = _module
    _spec.loader.exec_module(_module)
