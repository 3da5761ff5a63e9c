"""Shared test configuration: hypothesis profiles and pgmpy's progress bars."""

import os

os.environ.setdefault("TQDM_DISABLE", "1")  # pgmpy's inference bars ignore its own config

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
