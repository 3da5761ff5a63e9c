"""RBM block Gibbs against the exact oracle: marginals, pair marginals, joints, clamped sampling.

Design
------
* Draws are independent: every chain contributes one draw, taken after ``BURN_IN`` sweeps
  from a uniformly random start (``n_chains = N``, ``n_samples = 1``), so no autocorrelation
  correction is needed.
* The burn-in is long enough by construction: for each model the test computes the exact
  transition matrix of the visible chain (the joint chain mixes at the same rate) and asserts
  ``|lambda_2| ** BURN_IN <= 1e-9``, so the draws' distribution is within 1e-9 of the target
  in total variation per unit of initial distance.
* Chi-squared tests (``pgm_energy.testing.GoodnessOfFit``): each test function runs ``m`` of them
  at level ``ALPHA / m`` (Bonferroni), so it fails by chance with probability at most
  ``ALPHA = 1e-4``; a test refuses to run (``TooFewSamples``) when an expected cell count is below 5.
* Total variation on the joint of four units must be at most 0.02 with 1e5 draws (the sampling
  noise alone is about 0.005 there).
* float32 samples the machine whose parameters are rounded to float32; the difference in
  probabilities (~1e-7) is far below what 1e5 draws can see.
"""

import itertools

import numpy as np
import pytest
from scipy.special import expit

from pgm_energy import RestrictedBoltzmannMachine, exact
from pgm_energy.samplers._block import sample_rbm
from pgm_energy.testing import GoodnessOfFit, total_variation

ALPHA = 1e-4  # false-failure rate of each test function
N_DRAWS = 100_000
BURN_IN = 60
TV_BOUND = 0.02


# ------------------------------------------------------------------ helpers
def _all_states(n):
    return np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.float64)


def second_eigenvalue(rbm):
    """|lambda_2| of the visible chain v -> h -> v' of block Gibbs (exact, n_visible, n_hidden <= 8)."""
    v = _all_states(rbm.n_visible)
    h = _all_states(rbm.n_hidden)
    t = rbm.temperature
    ph = expit((v @ rbm.weights + rbm.hidden_bias) / t)  # (V, n_hidden)
    pv = expit((h @ rbm.weights.T + rbm.visible_bias) / t)  # (H, n_visible)
    p_h_given_v = np.prod(np.where(h[None, :, :] == 1, ph[:, None, :], 1 - ph[:, None, :]), axis=2)
    p_v_given_h = np.prod(np.where(v[None, :, :] == 1, pv[:, None, :], 1 - pv[:, None, :]), axis=2)
    moduli = np.sort(np.abs(np.linalg.eigvals(p_h_given_v @ p_v_given_h)))[::-1]
    return float(moduli[1]) if moduli.size > 1 else 0.0


def conditioned(rbm, evidence):
    """The RBM over the free units given evidence (clamped units folded into the biases)."""
    names = rbm.names
    v_free = [i for i in range(rbm.n_visible) if names[i] not in evidence]
    h_free = [j for j in range(rbm.n_hidden) if names[rbm.n_visible + j] not in evidence]
    v_values = np.array([evidence.get(names[i], 0) for i in range(rbm.n_visible)], float)
    h_values = np.array([evidence.get(names[rbm.n_visible + j], 0) for j in range(rbm.n_hidden)], float)
    w = rbm.weights
    return RestrictedBoltzmannMachine(
        w[np.ix_(v_free, h_free)],
        (rbm.visible_bias + w @ h_values)[v_free],
        (rbm.hidden_bias + v_values @ w)[h_free],
        temperature=rbm.temperature,
    )


def random_rbm(n_visible, n_hidden, seed, scale=1.0, temperature=1.0):
    rng = np.random.default_rng(seed)
    return RestrictedBoltzmannMachine(
        rng.normal(0, scale, (n_visible, n_hidden)),
        rng.normal(0, 1, n_visible),
        rng.normal(0, 1, n_hidden),
        temperature=temperature,
    )


def draws(rbm, dtype, seed, evidence=None):
    states, _ = sample_rbm(rbm, 1, n_chains=N_DRAWS, burn_in=BURN_IN, rng=seed, dtype=dtype, evidence=evidence)
    return states[:, 0, :]


# ------------------------------------------------------------------ the oracle-side checks
MODELS = [
    pytest.param((6, 4, 101, 1.0, 1.0), id="6x4"),
    pytest.param((5, 7, 202, 0.8, 1.0), id="5x7"),
    pytest.param((8, 4, 303, 1.5, 2.0), id="8x4-T2"),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spec", MODELS)
def test_marginals_pairs_and_joint(spec, dtype):
    n_visible, n_hidden, seed, scale, temperature = spec
    rbm = random_rbm(n_visible, n_hidden, seed, scale, temperature)
    assert second_eigenvalue(rbm) ** BURN_IN <= 1e-9, "burn-in too short for this model"
    states = draws(rbm, dtype, seed)
    names = rbm.names
    n = rbm.n_units

    gof = GoodnessOfFit(states, alpha=ALPHA)  # independent draws: one per chain
    gof.marginals(exact.marginals(rbm).to_numpy())
    # visible-hidden, visible-visible and hidden-hidden pairs
    pairs = [(0, n_visible), (1, n - 1), (0, 1), (n_visible, n_visible + 1), (n_visible - 1, n_visible)]
    for a, b in pairs:
        gof.joint([a, b], exact.query(rbm, [names[a], names[b]]).values)
    four = [0, 1, n_visible, n - 1]
    joint4 = exact.query(rbm, [names[c] for c in four]).values
    gof.joint(four, joint4)
    gof.check()
    tv = total_variation(states, joint4, variables=four)
    assert tv <= TV_BOUND, f"total variation {tv:.4f} > {TV_BOUND} on units {four}"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clamped_sampling_matches_exact_conditionals(dtype):
    rbm = random_rbm(6, 5, 404, 1.2)
    evidence = {"v1": 1, "v4": 0, "h2": 1}
    assert second_eigenvalue(conditioned(rbm, evidence)) ** BURN_IN <= 1e-9
    states = draws(rbm, dtype, 9, evidence=evidence)
    names = rbm.names
    for name, value in evidence.items():
        assert np.all(states[:, names.index(name)] == value)
    free = [i for i, name in enumerate(names) if name not in evidence]
    gof = GoodnessOfFit(states, alpha=ALPHA)
    expected = exact.marginals(rbm, evidence=evidence).to_numpy()
    gof.marginals({i: expected[i] for i in free})
    three = [free[0], free[2], free[-1]]
    joint = exact.query(rbm, [names[c] for c in three], evidence=evidence).values
    gof.joint(three, joint)
    gof.check()
    assert total_variation(states, joint, variables=three) <= TV_BOUND


def test_the_checks_can_fail():
    """The same checks reject a wrong sampler: draws of the model at T = 1 against the oracle at T = 1.3."""
    rbm = random_rbm(6, 4, 101, 1.0)
    states = draws(rbm, "float64", 1)
    wrong = exact.query(rbm.with_temperature(1.3), ["v0", "v1", "h0", "h3"]).values
    assert GoodnessOfFit(states).joint([0, 1, 6, 9], wrong) < ALPHA
