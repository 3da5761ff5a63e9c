"""Issue 11, item 5 (training): Ctrl-C during a long fit() is answered within a second.

One subprocess runs three long calls in turn; the test sends SIGINT during each and times the
answer. Before the fix, a CD epoch on the Numba path was one kernel call, the burn-in of
BoltzmannLearning one call over every training vector, and ExactGradient's thread pool waited
for the whole enumeration: each went on for seconds after the signal (the burn-in interruption
even escaped fit() as KeyboardInterrupt).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process needs POSIX")

CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    from pgm_energy.learning import ContrastiveDivergence, ExactGradient
    from pgm_energy.learning.boltzmann import BoltzmannLearning

    def say(*words):
        print(*words, flush=True)

    checkpoint = sys.argv[1]
    rng = np.random.default_rng(0)
    # compile (or load) every kernel first, so that the signals arrive inside the long calls
    small = (rng.random((40, 8)) < 0.3).astype(np.uint8)
    ContrastiveDivergence(epochs=1, batch_size=10, monitor=None, k=2).fit(4, small, rng=0, progress=False)
    BoltzmannLearning(epochs=1, batch_size=10, monitor=None).fit(3, small, rng=0, progress=False)
    ExactGradient(epochs=1, monitor=None).fit(3, small, rng=0, progress=False)

    # 1. CD on the Numba path (16000 weights): a short epoch 1 (CD-1), then epochs of CD-40 of
    #    several seconds; SIGINT in epoch 2
    data = (rng.random((30000, 400)) < 0.3).astype(np.uint8)
    trainer = ContrastiveDivergence(epochs=20, batch_size=20, k=[1, 40], monitor=None, checkpoint_every=1,
                                    checkpoint_path=checkpoint)
    result = trainer.fit(40, data, rng=0, callbacks=[lambda epoch, model, history: say("ready") if epoch == 1 else None],
                         progress=False)
    with np.load(checkpoint) as saved:
        same = np.array_equal(saved["model__weights"], result.model.weights) and int(saved["epoch"]) == 1
    say("result", result.stop_reason, len(result.history), same)

    # 2. BoltzmannLearning: the burn-in of 5000 clamped chains, about 4 s
    data = (rng.random((5000, 40)) < 0.3).astype(np.uint8)
    say("ready")
    result = BoltzmannLearning(epochs=1, batch_size=10, monitor=None, burn_in=1000).fit(20, data, rng=0, progress=False)
    say("result", result.stop_reason, len(result.history), result.model.n_units == 60)

    # 3. ExactGradient: one gradient enumerates 2**20 hidden states against 600 visible units, about 2 s
    data = (rng.random((100, 600)) < 0.3).astype(np.uint8)
    say("ready")
    result = ExactGradient(epochs=1, monitor=None).fit(20, data, rng=0, progress=False)
    say("result", result.stop_reason, len(result.history), True)
    """
)


def test_sigint_interrupts_long_fits_within_a_second(tmp_path):
    checkpoint = tmp_path / "run.npz"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        [sys.executable, str(script), str(checkpoint)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environment,
    )
    watchdog = threading.Timer(240, child.kill)
    watchdog.start()
    try:
        answers = []
        for delay in (0.3, 0.7, 0.5):  # into epoch 2, into the burn-in, into the enumeration
            assert child.stdout.readline().split() == ["ready"], child.stderr.read()
            before = checkpoint.read_bytes() if not answers else None
            time.sleep(delay)
            signalled = time.perf_counter()
            child.send_signal(signal.SIGINT)
            line = child.stdout.readline().split()
            answers.append((time.perf_counter() - signalled, line))
            if before is not None:
                assert checkpoint.read_bytes() == before  # the checkpoint of epoch 1, untouched
        child.wait(timeout=30)
    finally:
        watchdog.cancel()
        child.kill()
    assert child.returncode == 0, child.stderr.read()
    for seconds, line in answers:
        assert line[:2] == ["result", "interrupted"] and line[3] == "True", answers
        assert seconds < 1.0, answers
    assert answers[0][1][2] == "1"  # CD returned the model of epoch 1, the one in the checkpoint
    assert answers[1][1][2] == "0" and answers[2][1][2] == "0"
    with np.load(checkpoint) as saved:
        assert int(saved["epoch"]) == 1
