"""Hypothesis fuzzer over every public entry point (issue 11, "Suites that keep it fixed").

Each case takes a valid call from the registry in ``_fuzz_targets.py`` and replaces one
(sometimes two) of its parameters with junk. Anything raised must be a PGMEnergyError
that is also a ValueError/TypeError and names the parameter (a TypeError for an
unknown keyword, FileNotFoundError echoing the path for a missing input file); never
another exception, a NaN result, a traceback from the CLI or a crash. Calls run in a
worker subprocess with an address-space cap and timeouts, so a segfault fails this
test instead of killing pytest; each case runs in its own fresh temporary folder
(its current directory), so a relative junk path never writes into the repository.

Budget: ``PGM_ENERGY_FUZZ_EXAMPLES`` (default 450 cases: about 11 s with a warm Numba
cache; a cold cache adds the kernels' first compilations, paid once for the whole suite).
Entries whose valid call takes over a second are left to the large budget, which runs
from ``benchmarks/fuzz_api.py``. Derandomized (same cases every run); failures are not
shrunk but collected, so one run lists every distinct one with a ``--replay`` line.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent


def _load_targets():
    # tests run with --import-mode=importlib: the registry is loaded from its path, once,
    # under the name the worker subprocess uses too.
    if "_fuzz_targets" in sys.modules:
        return sys.modules["_fuzz_targets"]
    spec = importlib.util.spec_from_file_location("_fuzz_targets", HERE / "_fuzz_targets.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["_fuzz_targets"] = module
    spec.loader.exec_module(module)
    return module


F = _load_targets()
BUDGET = int(os.environ.get("PGM_ENERGY_FUZZ_EXAMPLES", "450"))


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    runner = F.Worker(log_path=root / "worker.log", root=root / "scratch")
    yield runner
    runner.close()


def _report(failures: dict) -> str:
    lines = [f"{len(failures)} distinct failure(s):"]
    for (name, params, error), (case, verdict, count) in sorted(failures.items()):
        lines.append(f"- {F.describe_case(case)} -> {verdict['detail']}  [{count} case(s)]")
        lines.append(f"    replay: {F.reproducer(case)}")
    return "\n".join(lines)


def test_every_public_callable_has_a_fuzz_entry():
    public = F.public_callables()
    missing = sorted(set(public) - F.covered())
    assert not missing, "public callables without an entry in tests/hardening/_fuzz_targets.py: " + ", ".join(
        f"{key} (exported as {public[key]})" for key in missing)


def test_registry_is_consistent():
    for name, entry in F.REGISTRY.items():
        assert len(set(entry.params)) == len(entry.params), name
        assert F.UNKNOWN_KEYWORD not in entry.params, name
        assert entry.kind in ("py", "cli"), name


@pytest.mark.parametrize("part", [0, 1])
def test_every_entry_accepts_its_valid_arguments(worker, part):
    """The registry's valid calls return normally, without NaN (this also checks the registry).

    In two halves (every other entry), so that two pytest-xdist workers can share the work: on an
    empty kernel cache the calls compile most of the package's kernels.
    """
    failures = {}
    for name in F.target_names(include_slow=False)[part::2]:
        case = (name, ())
        verdict = worker.run(case)
        if verdict["status"] != "fine":
            failures[F.failure_key(case, verdict)] = (case, verdict, 1)
    assert not failures, _report(failures)


def test_junk_gets_a_named_error(worker):
    failures: dict = {}
    counts = {"fine": 0, "named": 0, "slow": 0, "fail": 0, "harness": 0}

    def record(case, verdict):
        counts[verdict["status"]] += 1
        if verdict["status"] in ("fail", "harness"):
            key = F.failure_key(case, verdict)
            first = failures.get(key, (case, verdict, 0))
            failures[key] = (first[0], first[1], first[2] + 1)

    F.fuzz(worker, BUDGET, F.target_names(include_slow=False), derandomize=True, on_result=record)
    assert sum(counts.values()) > 0
    assert not failures, f"{counts}\n" + _report(failures)


def test_worker_and_oracle_catch_what_they_should(tmp_path):
    """The harness itself: a segfault, a NaN and an IndexError are failures; a named error is not."""
    runner = F.Worker(log_path=tmp_path / "worker.log", root=tmp_path / "scratch", env={"PGM_FUZZ_SELFTEST": "1"})
    try:
        verdicts = {behaviour: runner.run((f"<selftest {behaviour}>", (("x", "str"),)))
                    for behaviour in ("nan", "index_error", "named", "fine", "segfault")}
        after_crash = runner.run(("<selftest fine>", ()))
        replaced = runner.run(("<selftest replace>", (("x", "path_dev_null"),)))
    finally:
        runner.close()
    assert verdicts["segfault"]["status"] == "fail" and "SIGSEGV" in verdicts["segfault"]["error"], verdicts
    assert verdicts["nan"]["error"] == "NaN result", verdicts
    assert verdicts["index_error"]["error"] == "IndexError", verdicts
    assert verdicts["named"]["status"] == "named", verdicts
    assert verdicts["fine"]["status"] == "fine", verdicts
    assert after_crash["status"] == "fine" and runner.restarts == 1
    assert replaced["error"] == "device replaced", replaced
    case = ("pgm_energy.schedules.ais_betas", (("n_steps", "str"),))
    assert F.classify(case, ("raise", _error("threshold must be 1")))["error"] == "ValidationError (unnamed)"
    assert F.classify(case, ("raise", _error("n_steps must be an int, got 'junk'")))["status"] == "named"
    assert F.classify(case, ("raise", ValueError("n_steps must be an int")))["error"] == "ValueError"


def test_cases_run_in_fresh_folders_with_fresh_data_files(tmp_path, monkeypatch):
    """A relative junk path lands in the case's own folder, and no case sees another's writes."""
    outside = tmp_path / "started_here"
    outside.mkdir()
    monkeypatch.chdir(outside)
    ctx = F.Context(tmp_path / "base")
    # `train -o junk` writes a model file named junk: into the case folder, never where the run started
    wrote_junk = F.run_case(("pgm_energy.cli.main[train]", (("-o", "word"),)), ctx)
    # `sample -o <nonbinary.csv>` overwrites that data file (in its own case) ...
    overwrote = F.run_case(("pgm_energy.cli.main[sample]", (("-o", "path_nonbinary_csv"),)), ctx)
    # ... so `train <nonbinary.csv>` must still get the 2s of a fresh copy, and refuse them
    trained = F.run_case(("pgm_energy.cli.main[train]", (("data", "path_nonbinary_csv"),)), ctx)
    # and a relative name no case created stays missing
    missing = F.run_case(("pgm_energy.io.load", (("path", "str"),)), ctx)
    assert wrote_junk["status"] == "fine" and overwrote["status"] == "fine", (wrote_junk, overwrote)
    assert trained["status"] == "named" and "binary" in trained["detail"].lower(), trained
    assert missing["status"] == "named" and "FileNotFoundError" in missing["detail"], missing
    assert os.listdir(outside) == [] and os.getcwd() == str(outside)
    assert os.listdir(ctx.base / "cases") == []  # each case folder is deleted when the case ends


def test_device_junk_is_the_case_own_node_never_the_system_dev_null(tmp_path):
    """A call that wrongly renames a file over the device junk must not replace the machine's /dev/null."""
    ctx = F.Context(tmp_path / "base")
    folder = ctx.begin_case()
    try:
        python_junk = Path(F.JUNK["path_dev_null"](None, ctx))
        cli_junk = Path(F.CLI_JUNK["path_dev_null"](ctx))
        assert python_junk == cli_junk and python_junk.parent == folder
        assert not stat.S_ISREG(os.stat(python_junk).st_mode)  # still junk a writer must refuse
    finally:
        ctx.end_case()


def test_oracle_takes_a_missing_file_only_for_an_input_path():
    """FileNotFoundError is right for a missing input path when it echoes the path; not for an output path."""
    def missing(path, text="No such file or directory"):
        return FileNotFoundError(2, text, path)

    read = ("pgm_energy.io.read_npz", (("path", "str"),))
    assert F.classify(read, ("raise", missing("junk")), {"path": "junk"})["status"] == "named"
    assert F.classify(read, ("raise", FileNotFoundError("gone")), {"path": "junk"})["status"] == "fail"
    resume = ("ContrastiveDivergence.fit(resume_from)", (("resume_from", "empty_str"),))
    assert F.classify(resume, ("raise", missing("")), {"resume_from": ""})["status"] == "named"
    write = ("pgm_energy.io.save", (("path", "str"),))
    assert F.classify(write, ("raise", missing("junk")), {"path": "junk"})["status"] == "fail"
    cli = ("pgm_energy.cli.main[train]", (("data", "word"),))
    assert F.classify(cli, ("cli", 1, "pgm-energy: error: not found\n"), {"data": "x.csv"})["status"] == "fail"
    assert F.classify(cli, ("cli", 1, "pgm-energy: error: 'x.csv' not found\n"), {"data": "x.csv"})["status"] == "named"


def test_elementwise_junk_keeps_a_named_tuple_type():
    """``chains=elementwise_nan`` builds (a NamedTuple takes its fields one by one)."""
    ctx = F.Context()
    try:
        function, kwargs = F.build_call(("pgm_energy.learning.boltzmann.estimate_gradient",
                                         (("chains", "elementwise_nan"),)), ctx)
    finally:
        shutil.rmtree(ctx.base, ignore_errors=True)
    assert type(kwargs["chains"]).__name__ == "BoltzmannChains" and np.isnan(kwargs["chains"][0]).all()


def _error(message):
    from pgm_energy.exceptions import ValidationError

    return ValidationError(message)
