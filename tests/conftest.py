"""Shared test configuration: hypothesis profiles (the testing kit's) and pgmpy's progress bars."""

import os
import signal

os.environ.setdefault("TQDM_DISABLE", "1")  # pgmpy's inference bars ignore its own config
# Child interpreters (``python -c``, ``python -m``) import the pgm_energy this suite tests, not a
# source tree in the working directory: without this, a suite run from a checkout against an
# installed package starts children that import the checkout and compile every kernel again
# into the checkout's own Numba cache (Python >= 3.11; the same as ``python -P``).
os.environ["PYTHONSAFEPATH"] = "1"

from hypothesis import settings

from pgm_energy.testing.pytest_plugin import register_profiles

# The suite runs on the testing kit's profiles (derandomised 'ci': reproducible on every run; no
# deadline in either, since the first call of a Numba kernel compiles for seconds), with a smaller
# budget of 40 examples: some 300 property tests must fit CI's time. The plugin registers them at
# pytest_configure, after this file is read, so they are registered here first (idempotent);
# --pgm-energy-profile or PGM_ENERGY_HYPOTHESIS_PROFILE still loads one of the kit's own.
register_profiles()
settings.register_profile("suite-ci", settings.get_profile("pgm-energy-ci"), max_examples=40)
settings.register_profile("suite-dev", settings.get_profile("pgm-energy-dev"), max_examples=40)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite-ci" if os.environ.get("CI") else "suite-dev"))

# A shell that starts the suite in the background without job control (``pytest &``, nohup)
# sets SIGINT to "ignore", and child processes inherit that: every Ctrl-C test would then
# fail. Python's own handler here also gives the children the default action again (a
# handled signal is reset at exec, an ignored one is not).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
