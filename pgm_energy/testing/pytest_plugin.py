"""A pytest plugin that registers hypothesis profiles suited to Numba-compiled code (entry point ``pgm_energy``).

Installed with the package, pytest loads it in every run; it changes nothing until asked:

- ``pytest --pgm-energy-profile=ci`` (or the environment variable
  ``PGM_ENERGY_HYPOTHESIS_PROFILE=ci``) loads the profile ``pgm-energy-ci``;
- the profiles are registered either way, so a ``conftest.py`` may load one by name
  (``settings.load_profile("pgm-energy-dev")``).

Profiles:

``pgm-energy-ci``
    Derandomised (the same examples on every run: a failure reproduces), no deadline (the
    first call of a Numba kernel compiles for seconds), 50 examples, the falsifying example's
    blob printed, the too-slow health check off.
``pgm-energy-dev``
    Random exploration, no deadline, 100 examples.
``pgm-energy-thorough``
    Random exploration, no deadline, 1,000 examples: for a nightly job.

Without hypothesis installed the plugin does nothing.
"""

from __future__ import annotations

import os

PROFILES = ("ci", "dev", "thorough")
ENVIRONMENT_VARIABLE = "PGM_ENERGY_HYPOTHESIS_PROFILE"


def register_profiles() -> bool:
    """Register the three profiles with hypothesis; False when hypothesis is not installed."""
    try:
        from hypothesis import HealthCheck, settings
    except ImportError:
        return False
    slow = [HealthCheck.too_slow]
    settings.register_profile("pgm-energy-ci", derandomize=True, deadline=None, max_examples=50, print_blob=True,
                              suppress_health_check=slow)
    settings.register_profile("pgm-energy-dev", derandomize=False, deadline=None, max_examples=100,
                              suppress_health_check=slow)
    settings.register_profile("pgm-energy-thorough", derandomize=False, deadline=None, max_examples=1000,
                              suppress_health_check=slow)
    return True


def pytest_addoption(parser):
    group = parser.getgroup("pgm_energy")
    group.addoption(
        "--pgm-energy-profile", choices=PROFILES, default=None,
        help=f"load the hypothesis profile pgm-energy-NAME (also ${ENVIRONMENT_VARIABLE}): ci (derandomised, "
             "no deadline), dev or thorough",
    )


def pytest_configure(config):
    if not register_profiles():
        return
    chosen = config.getoption("--pgm-energy-profile", default=None) or os.environ.get(ENVIRONMENT_VARIABLE)
    if chosen is None:
        return
    if chosen not in PROFILES:
        import pytest

        raise pytest.UsageError(f"{ENVIRONMENT_VARIABLE}={chosen!r} is not one of {', '.join(PROFILES)}")
    from hypothesis import settings

    settings.load_profile(f"pgm-energy-{chosen}")
