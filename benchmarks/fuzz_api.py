"""Large-budget run of the public-API fuzzer (issue 11): counts and every distinct failure.

Runs the same hypothesis cases as ``tests/hardening/test_fuzz_api.py`` (registry, junk
and oracle in ``tests/hardening/_fuzz_targets.py``), in a worker subprocess that is
restarted after a crash or a hang, so a segfault is recorded, not fatal. Every case
runs in its own fresh temporary folder (also its current directory; deleted after the
case), so the run writes nothing where it was started. Also fuzzes
the entries too slow for CI (a valid call takes over a second) unless ``--no-slow``.

Usage::

    python benchmarks/fuzz_api.py                      # 5000 cases, derandomized
    python benchmarks/fuzz_api.py --examples 20000 --seed 7 --json fuzz.json
    python benchmarks/fuzz_api.py --sweep all --no-slow   # every entry x parameter x junk kind, once

Prints: tried / returned fine / named error / slow / anything else, then one line per
distinct failure (entry, parameters, outcome, count) with a reproducer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "hardening"))

import _fuzz_targets as F  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=int(os.environ.get("PGM_ENERGY_FUZZ_EXAMPLES", "5000")),
                        help="hypothesis examples, one call each (default 5000 or $PGM_ENERGY_FUZZ_EXAMPLES)")
    parser.add_argument("--seed", type=int, default=None, help="random exploration with this seed (default: derandomized)")
    parser.add_argument("--no-slow", action="store_true", help="leave out the entries whose valid call takes > 1 s")
    parser.add_argument("--sweep", default=None, metavar="KIND[,KIND...]",
                        help="instead of hypothesis: every parameter of every entry with each of these junk kinds "
                             "(e.g. sparse_bad_index,sparse_bad_indptr), or 'all' for every applicable kind "
                             "(about 95,000 cases: some 30 minutes in the restartable worker)")
    parser.add_argument("--json", type=Path, default=None, help="also write counts and failures here")
    parser.add_argument("--log", type=Path, default=None, help="worker stderr log (default: a temporary file)")
    arguments = parser.parse_args(argv)

    names = F.target_names(include_slow=not arguments.no_slow)
    worker = F.Worker(log_path=arguments.log)
    counts: Counter = Counter()
    per_target: Counter = Counter()
    failures: dict = {}
    started = time.perf_counter()

    def record(case, verdict):
        counts[verdict["status"]] += 1
        per_target[case[0]] += 1
        if verdict["status"] in ("fail", "harness", "slow"):
            key = F.failure_key(case, verdict) + (verdict["status"],)
            case0, verdict0, n = failures.get(key, (case, verdict, 0))
            failures[key] = (case0, verdict0, n + 1)
        tried = sum(counts.values())
        if tried % 500 == 0:
            print(f"  {tried} cases, {time.perf_counter() - started:.0f} s, {dict(counts)}", file=sys.stderr, flush=True)

    try:
        if arguments.sweep:
            kinds = None if arguments.sweep == "all" else arguments.sweep.split(",")
            for name in names:
                entry = F.REGISTRY[name]
                for param in entry.params:
                    for kind in F.applicable_junk(entry) if kinds is None else kinds:
                        if kind in F.applicable_junk(entry):
                            case = (name, ((param, kind),))
                            record(case, worker.run(case))
        else:
            # the registry's valid calls first: every entry is tried at least once
            for name in names:
                record((name, ()), worker.run((name, ())))
            F.fuzz(worker, arguments.examples, names, derandomize=arguments.seed is None, seed=arguments.seed,
                   on_result=record)
    finally:
        worker.close()
    elapsed = time.perf_counter() - started

    tried = sum(counts.values())
    print(f"fuzz_api: {tried} calls over {len(per_target)} of {len(names)} entries in {elapsed:.0f} s "
          f"(worker restarts: {worker.restarts})")
    print(f"  tried {tried} / returned fine {counts['fine']} / named error {counts['named']} / "
          f"slow {counts['slow']} / anything else {counts['fail'] + counts['harness']}"
          + (f" (of which harness errors {counts['harness']})" if counts["harness"] else ""))
    print(f"  distinct failures: {sum(1 for key in failures if key[-1] != 'slow')}, slow: "
          f"{sum(1 for key in failures if key[-1] == 'slow')}")
    for key, (case, verdict, n) in sorted(failures.items(), key=lambda item: (item[0][-1], item[0][0], item[0][1])):
        detail = verdict["detail"] if verdict["error"].startswith("crash") else verdict["detail"][:300]
        print(f"- [{verdict['status']}] {F.describe_case(case)} -> {detail}  [{n}x]")
        print(f"    {F.reproducer(case)}")
    if arguments.json:
        arguments.json.write_text(json.dumps({
            "tried": tried, "counts": dict(counts), "seconds": elapsed, "entries": len(names),
            "failures": [{"case": [case[0], [list(change) for change in case[1]]], "verdict": verdict, "count": n}
                         for (case, verdict, n) in failures.values()],
        }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
