"""Deep belief network samplers against exact enumeration, with declared error rates
(``pgm_energy.testing.GoodnessOfFit``).

Each chi-squared test function fails by chance with probability <= ALPHA = 1e-4 (Bonferroni over
its tests, autocorrelation-corrected counts). Total variation on a joint over 6 units must be
<= 0.02 at 1e5 draws, as in the other sampler tests. The exact answers come from
``DeepBeliefNetwork.query(method="exact")``, itself checked against pgmpy's VariableElimination on
the compiled Markov network in tests/models/test_deep_belief.py. Seeds are fixed.

``sample`` runs ``burn_in`` block-Gibbs sweeps of the top RBM per draw; on these small, weakly
coupled machines 50 sweeps are far beyond the mixing time (the total-variation bound would
catch a residual bias of 0.02).
"""

import numpy as np
import pytest

from pgm_energy import DeepBeliefNetwork
from pgm_energy.testing import GoodnessOfFit, total_variation

ALPHA = 1e-4  # false-failure rate of each test function
N_DRAWS = 100_000  # pooled over chains
TV_BOUND = 0.02


def random_dbn(shape, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, scale, size=(shape[k], shape[k + 1])) for k in range(len(shape) - 1)]
    biases = [rng.normal(0, scale, size=size) for size in shape]
    return DeepBeliefNetwork(weights, biases)


def exact_joint(dbn, columns, evidence=None):
    names = [dbn.names[c] for c in columns]
    factor = dbn.query(names, evidence)
    assert list(factor.variables) == names
    return np.asarray(factor.values, dtype=np.float64).ravel()


def exact_marginals(dbn, evidence=None):
    evidence = dict(evidence or {})
    free = [name for name in dbn.names if name not in evidence]
    factors = dbn.query(free, evidence, joint=False)
    return np.array([float(factors[name].values[1]) if name in factors else evidence[name] for name in dbn.names])


def check_against_exact(dbn, states, evidence=None):
    """Chi-squared on single marginals, three cross-layer pairs and a 4-unit joint; TV on a 6-unit joint."""
    clamped = {dbn.index(name) for name in (evidence or {})}
    free = [i for i in range(dbn.n_units) if i not in clamped]
    assert len(free) >= 6
    gof = GoodnessOfFit(states, alpha=ALPHA)
    on = exact_marginals(dbn, evidence)
    gof.marginals({c: on[c] for c in free})
    for pair in [(free[0], free[-1]), (free[1], free[len(free) // 2]), (free[-2], free[-3])]:
        gof.joint(pair, exact_joint(dbn, pair, evidence))
    gof.joint(free[-4:], exact_joint(dbn, free[-4:], evidence))
    gof.check()
    six = free[-6:]
    distance = total_variation(states, exact_joint(dbn, six, evidence), variables=six)
    assert distance <= TV_BOUND, f"total variation {distance:.4f} > {TV_BOUND} on units {six}"


@pytest.mark.parametrize("shape, seed", [((3, 3, 2), 1), ((2, 2, 2, 2), 2)])
def test_samples_match_the_exact_joint(shape, seed):
    dbn = random_dbn(shape, seed)
    draws = dbn.sample(N_DRAWS, burn_in=50, rng=100 + seed)
    check_against_exact(dbn, draws.states)


@pytest.mark.parametrize(
    "shape, seed, evidence",
    [((3, 3, 3), 3, {"v0": 1, "v2": 0}), ((2, 3, 2, 2), 4, {"v0": 1, "v1": 1})],
)
def test_gibbs_posterior_matches_the_exact_posterior(shape, seed, evidence):
    dbn = random_dbn(shape, seed, scale=1.5)
    draws = dbn.gibbs_posterior(evidence, N_DRAWS // 20, n_chains=20, burn_in=500, rng=200 + seed)
    check_against_exact(dbn, draws.states, evidence)
