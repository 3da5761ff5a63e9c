"""``pgm-energy warmup`` and NUMBA_CACHE_DIR: a warmed cache makes a new process compile nothing.

Each check runs fresh interpreters with their own temporary ``NUMBA_CACHE_DIR`` (Numba reads
it at import). The default suite warms one step (block Gibbs, ~8 s cold); the full warmup
takes minutes on an empty cache and runs when ``PGM_ENERGY_FULL_WARMUP_TEST=1``.
"""

import io
import json
import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace

import pytest

from pgm_energy.cli import main

#: a child that checks its recorder on a function of its own, runs ``CALLS`` and prints the
#: dispatchers Numba compiled (not loaded from the cache), then how many it loaded from the cache
_RECORD_COMPILES = """
import json, sys
from numba.core import caching, event
compiled, loaded = [], []
class Recorder(event.Listener):
    def on_start(self, ev):
        pass
    def on_end(self, ev):
        compiled.append(ev.data["dispatcher"].py_func.__qualname__)
event.register("numba:compile", Recorder())
original = caching.Cache.load_overload
def load_overload(self, sig, target_context):
    result = original(self, sig, target_context)
    if result is not None:
        loaded.append(self._name)
    return result
caching.Cache.load_overload = load_overload
from numba import njit
@njit(cache=False)
def recorder_probe(x):
    return x + 1
recorder_probe(1)
assert compiled == ["recorder_probe"], compiled  # the recorder sees compilations
compiled.clear()
exec(sys.argv[1])
print(json.dumps(compiled))
print(len(loaded))
"""


def _run(arguments, cache_dir, **kwargs):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    return subprocess.run([sys.executable, *arguments], env=env, capture_output=True, text=True, timeout=1200, **kwargs)


def _compiled_by(calls: str, cache_dir) -> list:
    """Dispatchers compiled by ``calls`` in a new process; fails unless it loaded some from the cache."""
    done = _run(["-c", _RECORD_COMPILES, textwrap.dedent(calls)], cache_dir)
    assert done.returncode == 0, done.stderr
    *_, compiled, n_loaded = done.stdout.splitlines()
    # the control: the calls do run cached kernels (an empty list of compilations means something)
    assert int(n_loaded) > 0
    return json.loads(compiled)


_RBM_CALLS = """
import numpy as np
from pgm_energy import RestrictedBoltzmannMachine
from pgm_energy.samplers import GibbsSampler
g = np.random.default_rng(5)
rbm = RestrictedBoltzmannMachine(g.normal(0, 0.3, (30, 11)), g.normal(0, 0.2, 30), g.normal(0, 0.2, 11))
for dtype in ("float64", "float32"):
    GibbsSampler(burn_in=3, dtype=dtype).sample(rbm, 5, n_chains=3, rng=1, progress=False)
"""


def test_a_warmed_step_leaves_nothing_to_compile_in_a_new_process(tmp_path):
    warmed = _run(["-m", "pgm_energy.cli", "warmup", "--only", "block-gibbs", "--no-progress"], tmp_path / "warm")
    assert warmed.returncode == 0, warmed.stderr
    assert "(NUMBA_CACHE_DIR)" in warmed.stdout and "block-gibbs" in warmed.stdout
    assert _compiled_by(_RBM_CALLS, tmp_path / "warm") == []


@pytest.mark.skipif(os.environ.get("PGM_ENERGY_FULL_WARMUP_TEST") != "1",
                    reason="minutes on an empty cache: set PGM_ENERGY_FULL_WARMUP_TEST=1")
def test_the_full_warmup_covers_the_first_calls_of_users(tmp_path):
    warmed = _run(["-m", "pgm_energy.cli", "warmup", "--quiet"], tmp_path)
    assert warmed.returncode == 0 and warmed.stdout == "", warmed.stderr
    calls = """
    import numpy as np, scipy.sparse as sp
    from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine, exact, ais, datasets
    from pgm_energy.learning import ContrastiveDivergence
    from pgm_energy.samplers import GibbsSampler, SimulatedAnnealingSampler
    side = 40
    index = np.arange(side * side).reshape(side, side)
    rows = np.concatenate([index.ravel(), index.ravel()])
    cols = np.concatenate([np.roll(index, -1, 1).ravel(), np.roll(index, -1, 0).ravel()])
    w = sp.coo_array((np.ones(rows.shape[0]), (rows, cols)), shape=(side * side, side * side))
    lattice = BoltzmannMachine.from_ising(np.zeros(side * side), (w + w.T).tocsr())
    for scan in ("sequential", "chromatic"):
        for n_chains in (1, 4, 8):
            GibbsSampler(burn_in=2, scan=scan).sample(lattice, 3, n_chains=n_chains, rng=0, progress=False)
    SimulatedAnnealingSampler(n_sweeps=5).sample(lattice, rng=0, progress=False)
    x = datasets.load_digits().data[:200]
    rbm = ContrastiveDivergence(epochs=1).fit(12, x, rng=0, progress=False).model
    exact.log_partition_function(rbm)
    ais.log_partition_function(rbm, n_runs=4, betas=20, rng=0)
    g = np.random.default_rng(0)
    weights = np.triu(g.normal(0, 0.5, (16, 16)), 1)
    exact.log_partition_function(BoltzmannMachine(weights + weights.T, np.zeros(16)))
    """
    assert _compiled_by(calls, tmp_path) == []


def test_cache_location_names_numba_cache_dir_and_whether_it_is_writable(tmp_path):
    report = "from pgm_energy._warmup import cache_location; print(repr(tuple(cache_location())))"
    done = _run(["-c", report], tmp_path / "cache")
    path, source, writable = eval(done.stdout)  # a tuple of str, str, bool printed by the child
    assert source == "NUMBA_CACHE_DIR" and writable and path.startswith(str(tmp_path / "cache"))
    blocked = tmp_path / "a_file"
    blocked.write_text("")
    done = _run(["-c", report], blocked / "cache")  # cannot be created: Numba falls back elsewhere
    path, source, writable = eval(done.stdout)
    assert source != "NUMBA_CACHE_DIR" and not path.startswith(str(blocked))


def test_warmup_command_warns_when_the_cache_cannot_be_written(monkeypatch):
    from pgm_energy import _warmup as warmup

    monkeypatch.setattr(warmup, "cache_location", lambda: warmup.CacheLocation("/read/only", "user cache", False))
    monkeypatch.setattr(warmup, "run_warmup", lambda only, progress: [("gibbs", 0.5)])
    out = io.StringIO()
    from pgm_energy import cli

    status = cli.run_warmup(SimpleNamespace(quiet=False, only=None, progress=False), out=out)
    assert status == 0
    assert "/read/only" in out.getvalue() and "not writable" in out.getvalue() and "NUMBA_CACHE_DIR" in out.getvalue()


def test_warmup_refuses_unknown_steps():
    from pgm_energy.exceptions import ValidationError
    from pgm_energy._warmup import run_warmup

    with pytest.raises(ValidationError, match="nonsense"):
        run_warmup(only=["nonsense"], progress=False)
    with pytest.raises(ValidationError, match="gibbs"):
        run_warmup(only="gibbs", progress=False)  # a string, not a list of names
    assert main(["warmup", "--only", "nonsense"]) == 2
