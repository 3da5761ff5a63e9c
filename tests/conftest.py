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


# The suite's declared false-failure rate, measured rather than estimated: with
# PGM_ENERGY_RATE_LOG=FILE, every GoodnessOfFit.check (which every statistical assert of the
# testing kit ends in) appends its test and alpha to FILE (xdist workers too), and the run ends
# with their sum, a union bound on the probability that the run fails by chance. The kit's own
# meta-tests (tests/testing_kit) call the asserts at alpha = 0.05 on purpose and count as META each.
_RATE_LOG = os.environ.get("PGM_ENERGY_RATE_LOG")
if _RATE_LOG:
    import json

    from pgm_energy.testing import asserts as _asserts

    _check = _asserts.GoodnessOfFit.check

    def _logged_check(self):
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]
        with open(_RATE_LOG, "a") as log:
            log.write(json.dumps({"test": test, "alpha": self.alpha, "tests": len(self._fits)}) + "\n")
        return _check(self)

    _asserts.GoodnessOfFit.check = _logged_check

    def pytest_terminal_summary(terminalreporter):
        if not os.path.exists(_RATE_LOG):
            return
        with open(_RATE_LOG) as log:
            records = [json.loads(line) for line in log]
        suite = [r for r in records if not r["test"].startswith("tests/testing_kit/")]
        functions = {r["test"] for r in suite}
        terminalreporter.write_line(
            f"declared false-failure rate: {len(suite)} checks ({sum(r['tests'] for r in suite)} χ²/G tests) in "
            f"{len(functions)} test functions, alpha summing to {sum(r['alpha'] for r in suite):.3g}")
