"""Shared test configuration: hypothesis profiles and pgmpy's progress bars."""

import os
import signal

os.environ.setdefault("TQDM_DISABLE", "1")  # pgmpy's inference bars ignore its own config
# Child interpreters (``python -c``, ``python -m``) import the pgm_energy this suite tests, not a
# source tree in the working directory: without this, a suite run from a checkout against an
# installed package starts children that import the checkout and compile every kernel again
# into the checkout's own Numba cache (Python >= 3.11; the same as ``python -P``).
os.environ["PYTHONSAFEPATH"] = "1"

from hypothesis import HealthCheck, settings

# 'ci': derandomized (reproducible on every run) and no deadline, since the first
# call of a Numba kernel compiles for seconds. 'dev': random exploration, still no deadline.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# A shell that starts the suite in the background without job control (``pytest &``, nohup)
# sets SIGINT to "ignore", and child processes inherit that: every Ctrl-C test would then
# fail. Python's own handler here also gives the children the default action again (a
# handled signal is reset at exec, an ignored one is not).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
