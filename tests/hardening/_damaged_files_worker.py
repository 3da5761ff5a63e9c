"""Worker of ``test_damaged_files.py``: load each listed file, print one outcome line per file.

Usage: ``python _damaged_files_worker.py MODE LIST START`` where MODE is ``model``,
``checkpoint`` or ``selftest`` (a file holding ``crash`` aborts, ``hang`` sleeps) and LIST a file of tab-separated ``index  path  original`` lines. For every
line from START on it prints ``begin<TAB>index`` before the attempt and
``end<TAB>index<TAB>outcome<TAB>detail`` after it, flushed, so that the parent knows which
file was in progress if this process dies (segfault, abort) or hangs.

Outcomes: ``loaded-same`` / ``loaded-different`` (a model was returned; it passed every
constructor check), ``resumed`` (a checkpoint was resumed), else the exception's class name
(``ModelFileError``, ``ValidationError``, ... or anything unexpected).

In ``checkpoint`` mode each file is resumed by the run of :func:`training_runs` its original
is named after (``original-NAME.npz``).
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


def training_runs():
    """The 2-epoch runs whose first-epoch checkpoints are damaged: name -> (trainer factory, start model, data).

    The factory takes extra trainer options (the parent adds ``checkpoint_every``/``checkpoint_path``).
    """
    import numpy as np

    from pgm_energy import DeepBoltzmannMachine, RestrictedBoltzmannMachine
    from pgm_energy.learning import ContrastiveDivergence, DeepBoltzmannPCD

    data = (np.random.default_rng(5).random((12, 4)) < 0.5).astype(np.int8)
    return {
        "cd": (lambda **options: ContrastiveDivergence(epochs=2, batch_size=4, monitor=None, **options),
               RestrictedBoltzmannMachine.random(4, 3, rng=1), data),
        "dbm-pcd": (lambda **options: DeepBoltzmannPCD(epochs=2, batch_size=4, k=1, mean_field_iterations=5,
                                                       monitor=None, **options),
                    DeepBoltzmannMachine.random([4, 3, 2], scale=0.1, rng=1), data),
    }


def run_name(original: str) -> str:
    """The run a checkpoint belongs to, from its original's name ``original-NAME.npz``."""
    return os.path.basename(original).removeprefix("original-").removesuffix(".npz")


def checkpoint_runner():
    """Resume a 2-epoch run from a (damaged) checkpoint of its first epoch, the run named by ``original``."""
    runs = training_runs()

    def resume(path, original):
        new_trainer, start, data = runs[run_name(original)]
        new_trainer().fit(start, data, resume_from=path, progress=False, rng=0)
        return "resumed"

    return resume


def main(mode: str, listing: str, first: int) -> None:
    from pgm_energy import load

    resume = checkpoint_runner() if mode == "checkpoint" else None
    originals = {}
    with open(listing, encoding="utf-8") as handle:
        lines = [line.rstrip("\n").split("\t") for line in handle]
    if resume is not None:
        for original in dict.fromkeys(line[2] for line in lines[first:]):
            resume(original, original)  # compile the kernels on the intact checkpoints, outside any file's time limit
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
                outcome = resume(path, original)
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
