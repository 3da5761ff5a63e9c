"""A first fit on an empty Numba cache compiles each kernel once and no parallel kernel.

The CD epoch kernel's shared row helpers are compiled once per type (not once per call site,
nor once more for a literal count), and the exact log-likelihood monitor of a digits-sized
RBM runs the serial product kernel. A fresh interpreter with its own empty
``NUMBA_CACHE_DIR`` records every compilation through Numba's event API.
"""

import json
import os
import subprocess
import sys
import textwrap

_FIRST_FIT = """
import json
from numba.core import event
compiled = []
class Recorder(event.Listener):
    def on_start(self, ev):
        pass
    def on_end(self, ev):
        dispatcher = ev.data["dispatcher"]
        compiled.append([dispatcher.py_func.__module__, dispatcher.py_func.__qualname__,
                         bool(dispatcher.targetoptions.get("parallel"))])
event.register("numba:compile", Recorder())
import numpy as np
from pgm_energy import datasets
from pgm_energy.learning import ContrastiveDivergence
x = datasets.load_digits()[0][:200]
result = ContrastiveDivergence(epochs=1).fit(20, x, rng=0, progress=False)
assert "log_likelihood" in result.history.metrics, result.history.metrics
print(json.dumps(compiled))
"""


def test_a_first_cd_fit_compiles_each_kernel_once_and_no_parallel_kernel(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(_FIRST_FIT)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    compiled = json.loads(done.stdout.splitlines()[-1])
    ours = [(module, name, parallel) for module, name, parallel in compiled if module.startswith("pgm_energy.")]
    assert [name for _, name, parallel in ours if parallel] == []
    names = [name for _, name, _ in ours]
    assert names.count("train_epoch") == 1
    # the two layer-input variants (data rows, 0/1 states), each for one signature
    assert names.count("_make_layer_input.<locals>.layer_input") == 2
    assert "_some_groups_serial" in names
    repeated = sorted({name for name in names if names.count(name) > 1} - {"_make_layer_input.<locals>.layer_input"})
    assert repeated == []

