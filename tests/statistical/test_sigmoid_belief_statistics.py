"""Sigmoid belief network samplers against exact enumeration, with declared error rates
(``pgm_energy.testing.GoodnessOfFit``).

Each chi-squared test function fails by chance with probability <= ALPHA = 1e-4 (Bonferroni over
its tests, autocorrelation-corrected counts). Total variation on a joint over 6 units must be
<= 0.02 at 1e5 draws, as in the sampler tests. The exact answers come from
``SigmoidBeliefNetwork.query``, itself checked against pgmpy's VariableElimination in
tests/models/test_sigmoid_belief.py. Seeds are fixed, so the suite is deterministic.
"""

import numpy as np
import pytest

from pgm_energy import SigmoidBeliefNetwork
from pgm_energy.testing import GoodnessOfFit, total_variation

ALPHA = 1e-4  # false-failure rate of each test function
N_DRAWS = 100_000  # pooled over chains
TV_BOUND = 0.02


def exact_joint(sbn, columns, evidence=None):
    names = [sbn.names[c] for c in columns]
    factor = sbn.query(names, evidence)
    assert list(factor.variables) == names
    return np.asarray(factor.values, dtype=np.float64).ravel()


def exact_marginals(sbn, evidence=None):
    """p(x_i = 1 | evidence) of every unit (evidence units hold their value)."""
    evidence = dict(evidence or {})
    free = [name for name in sbn.names if name not in evidence]
    factors = sbn.query(free, evidence, joint=False)
    return np.array([float(factors[name].values[1]) if name in factors else evidence[name] for name in sbn.names])


def check_against_exact(sbn, states, evidence=None):
    """Chi-squared on single marginals, three pairs and a 4-unit joint; TV on a 6-unit joint."""
    clamped = {sbn.index(name) for name in (evidence or {})}
    free = [i for i in range(sbn.n_units) if i not in clamped]
    assert len(free) >= 6
    gof = GoodnessOfFit(states, alpha=ALPHA)
    on = exact_marginals(sbn, evidence)
    gof.marginals({c: on[c] for c in free})
    for pair in [(free[0], free[-1]), (free[1], free[2]), (free[-2], free[-3])]:
        gof.joint(pair, exact_joint(sbn, pair, evidence))
    gof.joint(free[-4:], exact_joint(sbn, free[-4:], evidence))
    gof.check()
    six = free[-6:]
    distance = total_variation(states, exact_joint(sbn, six, evidence), variables=six)
    assert distance <= TV_BOUND, f"total variation {distance:.4f} > {TV_BOUND} on units {six}"


@pytest.mark.parametrize("shape, seed", [((3, 3, 2), 1), ((2, 4, 3), 2)])
def test_ancestral_samples_match_exact_distribution(shape, seed):
    sbn = SigmoidBeliefNetwork.random(shape, scale=1.5, rng=seed)
    draws = sbn.sample(N_DRAWS, rng=100 + seed)
    check_against_exact(sbn, draws.states)


def explaining_away_network():
    """Four hidden causes with strong positive weights to two rare visible effects."""
    rng = np.random.default_rng(0)
    return SigmoidBeliefNetwork(
        [rng.uniform(2.0, 4.0, (2, 4)), rng.normal(0.0, 1.0, (4, 2))],
        [np.full(2, -4.0), rng.normal(-1.0, 0.5, 4), np.zeros(2)],
    )


@pytest.mark.parametrize(
    "build, evidence",
    [
        # hidden causes given a whole visible vector
        (lambda: SigmoidBeliefNetwork.random((3, 4, 3), scale=1.5, rng=10), {"v0": 1, "v1": 0, "v2": 1}),
        # both effects observed: the causes compete (posterior covariance of h1_0, h1_1 is -0.076)
        (explaining_away_network, {"v0": 1, "v1": 1}),
        # evidence inside the network: unobserved visible units are sampled too
        (lambda: SigmoidBeliefNetwork.random((4, 3, 2), scale=1.5, rng=9), {"v1": 1, "h1_1": 0, "h2_0": 1}),
    ],
    ids=["visible-evidence", "explaining-away", "evidence-inside"],
)
def test_gibbs_posterior_matches_exact_conditionals(build, evidence):
    sbn = build()
    result = sbn.gibbs_posterior(evidence, N_DRAWS // 4, n_chains=4, burn_in=200, thin=2, rng=7)
    for name, value in evidence.items():
        assert np.all(result.states[:, :, sbn.index(name)] == value)
    check_against_exact(sbn, result.states, evidence)


def test_gibbs_without_evidence_matches_the_prior():
    sbn = SigmoidBeliefNetwork.random((3, 3, 2), scale=1.5, rng=4, temperature=1.6)
    result = sbn.gibbs_posterior(None, N_DRAWS // 4, n_chains=4, burn_in=200, thin=2, rng=8)
    check_against_exact(sbn, result.states)
