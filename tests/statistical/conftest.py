"""Load the goodness-of-fit helpers shared by the statistical tests.

pytest runs with ``--import-mode=importlib``, under which test modules cannot
import a sibling file; ``_gof.py`` is loaded here once, by path, as ``_gof``.
"""

import importlib.util
import sys
from pathlib import Path

if "_gof" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("_gof", Path(__file__).with_name("_gof.py"))
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["_gof"] = _module
    _spec.loader.exec_module(_module)
