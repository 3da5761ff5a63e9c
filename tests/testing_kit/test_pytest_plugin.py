"""The pytest plugin (entry point ``pgm_energy``) registers the hypothesis profiles and loads one when asked."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points

import pytest

PROBE = textwrap.dedent("""
    from hypothesis import settings

    def test_profile():
        current = settings.default
        print(f"PROFILE max_examples={current.max_examples} derandomize={current.derandomize} "
              f"deadline={current.deadline}")
""")


def _run(tmp_path, *arguments, env=None):
    (tmp_path / "test_probe.py").write_text(PROBE)
    # without CI variables: hypothesis itself turns to its own "ci" settings when it sees one
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PGM_ENERGY_HYPOTHESIS_PROFILE", "PYTEST_ADDOPTS", "HYPOTHESIS_PROFILE", "CI",
                                  "GITHUB_ACTIONS", "TF_BUILD", "BUILDKITE", "CIRCLECI", "CIRRUS_CI", "CODEBUILD_BUILD_ID",
                                  "GITLAB_CI", "HEROKU_TEST_RUN_ID", "TEAMCITY_VERSION", "bamboo.buildKey")}
    environment.update(env or {})
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "--rootdir", str(tmp_path), str(tmp_path / "test_probe.py"), *arguments],
                          capture_output=True, text=True, cwd=tmp_path, env=environment, timeout=120)
    return done


def test_the_plugin_is_an_installed_entry_point():
    assert any(e.name == "pgm_energy" and e.value == "pgm_energy.testing.pytest_plugin"
               for e in entry_points(group="pytest11"))


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_profile_is_loaded_by_option_or_environment(tmp_path, how):
    if how == "option":
        done = _run(tmp_path, "--pgm-energy-profile=thorough")
    else:
        done = _run(tmp_path, env={"PGM_ENERGY_HYPOTHESIS_PROFILE": "ci"})
    assert done.returncode == 0, done.stdout + done.stderr
    expected = "max_examples=1000 derandomize=False deadline=None" if how == "option" else \
        "max_examples=50 derandomize=True deadline=None"
    assert f"PROFILE {expected}" in done.stdout


def test_nothing_changes_unless_asked_and_a_bad_name_is_a_usage_error(tmp_path):
    done = _run(tmp_path)
    assert done.returncode == 0 and "PROFILE max_examples=100 derandomize=False deadline=0:00:00.200000" in done.stdout  # hypothesis's own
    bad = _run(tmp_path, env={"PGM_ENERGY_HYPOTHESIS_PROFILE": "fast"})
    assert bad.returncode != 0 and "PGM_ENERGY_HYPOTHESIS_PROFILE='fast' is not one of ci, dev, thorough" in bad.stderr
