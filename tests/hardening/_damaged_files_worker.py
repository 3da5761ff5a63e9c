"""Worker of ``test_damaged_files.py``: load each listed file, print one outcome line per file.

Usage: ``python _damaged_files_worker.py MODE LIST START`` where MODE is ``model``,
``checkpoint`` or ``selftest`` (a file holding ``crash`` aborts, ``hang`` sleeps) and LIST a file of tab-separated ``index  path  original`` lines. For every
line from START on it prints ``begin<TAB>index`` before the attempt and
``end<TAB>index<TAB>outcome<TAB>detail`` after it, flushed, so that the parent knows which
file was in progress if this process dies (segfault, abort) or hangs.

Outcomes: ``loaded-same`` / ``loaded-different`` (a model was returned; it passed every
constructor check), ``resumed`` (a checkpoint was resumed), else the exception's class name
(``ModelFileError``, ``ValidationError``, ... or anything unexpected).
"""

from __future__ import annotations

import os
import sys
import time


def same_model(loaded, original) -> bool:
    import numpy as np

    if type(loaded) is not type(original):
        return False
    mine, theirs = loaded._to_arrays(), original._to_arrays()
    return mine.keys() == theirs.keys() and all(
        np.asarray(mine[key]).dtype == np.asarray(theirs[key]).dtype and np.array_equal(mine[key], theirs[key])
        for key in mine
    )


def checkpoint_runner():
    """Resume a 2-epoch CD run from a (damaged) checkpoint of its first epoch."""
    import numpy as np

    from pgm_energy import RestrictedBoltzmannMachine
    from pgm_energy.learning import ContrastiveDivergence

    data = (np.random.default_rng(5).random((12, 4)) < 0.5).astype(np.int8)
    start = RestrictedBoltzmannMachine.random(4, 3, rng=1)

    def resume(path):
        trainer = ContrastiveDivergence(epochs=2, batch_size=4, monitor=None)
        trainer.fit(start, data, resume_from=path, progress=False, rng=0)
        return "resumed"

    return resume


def main(mode: str, listing: str, first: int) -> None:
    from pgm_energy import load

    resume = checkpoint_runner() if mode == "checkpoint" else None
    originals = {}
    with open(listing, encoding="utf-8") as handle:
        lines = [line.rstrip("\n").split("\t") for line in handle]
    if resume is not None and lines:
        resume(lines[0][2])  # compile the kernels on the intact checkpoint, outside any file's time limit
    print("ready", flush=True)
    for index, path, original in lines[first:]:
        print(f"begin\t{index}", flush=True)
        detail = ""
        try:
            if mode == "selftest":  # the parent's crash and hang handling, tested on purpose
                content = open(path, "rb").read()
                if content == b"crash":
                    os.abort()
                if content == b"hang":
                    time.sleep(600)
                outcome = "loaded-same"
            elif resume is not None:
                outcome = resume(path)
            else:
                if original not in originals:
                    originals[original] = load(original)
                outcome = "loaded-same" if same_model(load(path), originals[original]) else "loaded-different"
        except BaseException as error:  # noqa: BLE001 - every outcome is reported, none is fatal here
            outcome = type(error).__name__
            detail = str(error).replace("\n", " ").replace("\t", " ")[:300]
        print(f"end\t{index}\t{outcome}\t{detail}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
