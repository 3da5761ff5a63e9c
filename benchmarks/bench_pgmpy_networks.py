#!/usr/bin/env python
"""The pgmpy drop-ins on every discrete Bayesian network pgmpy ships (issue 17).

Run from the repository root::

    python benchmarks/bench_pgmpy_networks.py                 # all 24 networks
    python benchmarks/bench_pgmpy_networks.py --only asia alarm --rows 20000

For each network (``pgmpy.utils.get_example_model``: bundled with pgmpy, no download), one
Markdown row:

- nodes, and how many CPDs hold a zero (deterministic entries);
- pgmpy's load time, and the build time of our ``BayesianModelSampling`` and ``GibbsSampling``;
- our ``forward_sample`` and ``likelihood_weighted_sample`` rows per second, and pgmpy's own
  (run only where its call is expected to take under ``--pgmpy-budget`` seconds, extrapolated
  from a small call), with the ratio;
- whether our Gibbs chain starts (the start state of positive probability) and its sweeps per second;
- agreement with ``VariableElimination``: each node's forward marginal against VE's by a χ² test
  at 1e-3 / n_nodes (the family at 1e-3), and each node's likelihood-weighted posterior given the
  evidence against VE's within z standard errors (Kish's effective sample size; z for 1e-3 over
  all node states), where VE answers within ``--ve-budget`` seconds a query.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
warnings.filterwarnings("ignore")

NETWORKS = ["asia", "cancer", "earthquake", "sachs", "survey", "alarm", "barley", "child", "insurance", "mildew",
            "water", "hailfinder", "hepar2", "win95pts", "andes", "diabetes", "link", "munin1", "munin2", "munin3",
            "munin4", "pathfinder", "pigs", "munin"]


def timed(function):
    began = time.perf_counter()
    result = function()
    return time.perf_counter() - began, result


def agreement(model, frame, budget: float) -> str:
    """'k/n nodes pass' for the nodes' χ² tests against VE, or why not run."""
    from pgmpy.inference import VariableElimination
    from scipy.stats import chi2

    nodes = list(model.nodes())
    engine = VariableElimination(model)
    alpha = 1e-3 / len(nodes)
    passed = 0
    began = time.perf_counter()
    for k, node in enumerate(nodes):
        if time.perf_counter() - began > budget * max(1, k):
            return f"{passed}/{k} nodes pass (VE stopped: over {budget:.0f} s a query)"
        result = engine.query([node], show_progress=False)
        names = list(model.get_cpds(node).state_names[node])
        probs = np.array([result.get_value(**{node: name}) for name in names])
        probs = probs / probs.sum()
        counts = frame[node].value_counts().reindex(names, fill_value=0).to_numpy().astype(float)
        if counts[probs == 0].sum() > 0:
            return f"{passed}/{len(nodes)}: a zero-probability state of {node!r} was drawn"
        keep = probs * counts.sum() >= 5
        if keep.sum() < 2:
            passed += 1
            continue
        observed = np.append(counts[keep], counts[~keep].sum())
        expected = np.append(probs[keep], probs[~keep].sum()) * counts.sum()
        if expected[-1] < 5:
            observed[-2] += observed[-1]
            expected[-2] += expected[-1]
            observed, expected = observed[:-1], expected[:-1]
        statistic = float(np.sum((observed - expected) ** 2 / expected))
        passed += chi2.sf(statistic, len(observed) - 1) > alpha
    return f"{passed}/{len(nodes)} nodes pass"


def weighted_agreement(model, frame, evidence: dict, budget: float) -> str:
    """'k/n nodes pass': each likelihood-weighted posterior estimate within z standard errors of VE's.

    The standard error of a weighted frequency ``p`` is ``sqrt(p (1 - p) / ESS)`` with Kish's
    effective sample size; ``z`` is the two-sided normal quantile at 1e-3 over all the node states tested.
    """
    from pgmpy.inference import VariableElimination
    from scipy.stats import norm

    weights = frame["_weight"].to_numpy()
    ess = weights.sum() ** 2 / (weights ** 2).sum()
    nodes = [node for node in model.nodes() if node not in evidence]
    n_tests = sum(len(model.get_cpds(node).state_names[node]) for node in nodes)
    z = norm.isf(1e-3 / (2 * n_tests))
    engine = VariableElimination(model)
    passed = 0
    began = time.perf_counter()
    for k, node in enumerate(nodes):
        if time.perf_counter() - began > budget * max(1, k):
            return f"{passed}/{k} (VE stopped)"
        result = engine.query([node], evidence=evidence, show_progress=False)
        names = list(model.get_cpds(node).state_names[node])
        probs = np.array([result.get_value(**{node: name}) for name in names])
        probs = probs / probs.sum()
        column = frame[node].to_numpy()
        ok = True
        for name, p in zip(names, probs):
            estimate = weights[column == name].sum() / weights.sum()
            if abs(estimate - p) > z * np.sqrt(max(p * (1 - p), 1.0 / ess) / ess):
                ok = False
        passed += ok
    return f"{passed}/{len(nodes)} (ESS {ess:,.0f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", default=None, choices=NETWORKS)
    parser.add_argument("--rows", type=int, default=100_000, help="forward rows of our sampler (default 100,000)")
    parser.add_argument("--weighted-rows", type=int, default=20_000)
    parser.add_argument("--pgmpy-budget", type=float, default=30.0, help="seconds pgmpy's own call may take")
    parser.add_argument("--ve-budget", type=float, default=5.0, help="seconds a VE query may take")
    options = parser.parse_args()
    import numba
    from pgmpy.sampling import BayesianModelSampling as PgmpySampling
    from pgmpy.utils import get_example_model

    from pgm_energy.interop.pgmpy import BayesianModelSampling, GibbsSampling

    print("# pgmpy's bundled discrete networks: our drop-ins against pgmpy\n")
    print(f"- machine: {os.cpu_count()} CPUs, Numba threads {numba.get_num_threads()}; load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"- forward rows {options.rows:,}, likelihood-weighted rows {options.weighted_rows:,} (evidence: the last "
          "node in topological order, a leaf, at its most frequent forward state); pgmpy's calls where expected under "
          f"{options.pgmpy_budget:.0f} s\n")
    print("| network | nodes | zero CPDs | load (s) | build (s) | forward rows/s | pgmpy rows/s | x | weighted rows/s "
          "| pgmpy rows/s | x | Gibbs start | sweeps/s | agreement with VE | given the evidence |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---|")
    for name in options.only or NETWORKS:
        load, model = timed(lambda: get_example_model(name))
        zeros = sum(int((np.asarray(cpd.get_values()) == 0).any()) for cpd in model.cpds)
        build, sampler = timed(lambda: BayesianModelSampling(model))
        sampler.forward_sample(size=10, seed=0)  # kernels loaded
        seconds, frame = timed(lambda: sampler.forward_sample(size=options.rows, seed=1))
        ours = options.rows / seconds
        last = sampler.topological_order[-1]  # a leaf: the weights vary, unlike evidence on a root
        evidence = [(last, frame[last].mode().iloc[0])]
        weighted_seconds, weighted_frame = timed(lambda: sampler.likelihood_weighted_sample(
            evidence=evidence, size=options.weighted_rows, seed=2))
        weighted = options.weighted_rows / weighted_seconds
        theirs = their_weighted = float("nan")
        reference = PgmpySampling(model)
        probe, _ = timed(lambda: reference.forward_sample(size=200, seed=0, show_progress=False))
        if probe * options.rows / 200 < options.pgmpy_budget:
            size = options.rows
        else:
            size = max(200, int(200 * options.pgmpy_budget / max(probe, 1e-9) / 4))
        their_seconds, _ = timed(lambda: reference.forward_sample(size=size, seed=0, show_progress=False))
        theirs = size / their_seconds
        weighted_size = min(options.weighted_rows, size)
        their_weighted_seconds, _ = timed(lambda: reference.likelihood_weighted_sample(
            evidence=[__import__("pgmpy").factors.discrete.State(*evidence[0])], size=weighted_size, seed=0,
            show_progress=False))
        their_weighted = weighted_size / their_weighted_seconds
        try:
            gibbs_build, gibbs = timed(lambda: GibbsSampling(model))
            gibbs.sample(size=2, seed=0)
            sweep_seconds, _ = timed(lambda: gibbs.sample(size=1000, seed=1))
            start, sweeps = "yes", f"{1000 / sweep_seconds:,.0f}"
        except Exception as error:  # report, do not stop the sweep over networks
            start, sweeps = f"no: {type(error).__name__}", "—"
        verdict = agreement(model, frame, options.ve_budget)
        given = weighted_agreement(model, weighted_frame, dict(evidence), options.ve_budget)
        print(f"| {name} | {len(model.nodes())} | {zeros} | {load:.2f} | {build:.2f} | {ours:,.0f} | {theirs:,.0f} | "
              f"{ours / theirs:.0f} | {weighted:,.0f} | {their_weighted:,.0f} | {weighted / their_weighted:.0f} | "
              f"{start} | {sweeps} | {verdict} | {given} |", flush=True)
    print(f"\nLoad average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
