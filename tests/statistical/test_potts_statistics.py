"""Gibbs sampling of Potts machines against the exact oracle, with declared error rates
(``pgm_energy.testing.GoodnessOfFit``).

Each test function runs m chi-squared tests at level ALPHA / m (Bonferroni; counts corrected for
autocorrelation), so it fails by chance with probability <= ALPHA = 1e-4. Seeds are fixed.
"""

import itertools

import numpy as np
import pytest

from pgm_energy import PottsMachine, exact
from pgm_energy.samplers import GibbsSampler
from pgm_energy.testing import GoodnessOfFit

ALPHA = 1e-4  # false-failure rate of each test function


def random_potts(seed, cardinalities, *, scale=1.0, p_edge=0.6, temperature=1.0):
    g = np.random.default_rng(seed)
    couplings = {(i, j): g.uniform(-scale, scale, (cardinalities[i], cardinalities[j]))
                 for i, j in itertools.combinations(range(len(cardinalities)), 2) if g.random() < p_edge}
    return PottsMachine(cardinalities, [g.uniform(-scale, scale, k) for k in cardinalities], couplings,
                        temperature=temperature, state_names={"v0": [f"s{a}" for a in range(cardinalities[0])]})


def goodness_of_fit(samples, model, groups, evidence=None) -> GoodnessOfFit:
    """One χ² test per group of variables (their exact joint in C order), at ALPHA for them all."""
    gof = GoodnessOfFit(samples, alpha=ALPHA)
    for columns in groups:
        factor = exact.query(model, [model.names[c] for c in columns], evidence=evidence)
        gof.joint(columns, factor.values, cardinalities=[model.cardinalities[c] for c in columns])
    return gof


@pytest.mark.parametrize("scan", ["sequential", "chromatic"])
@pytest.mark.parametrize("seed, cardinalities", [(0, (3, 2, 4, 3, 2)), (1, (5, 3, 3)), (2, (2, 2, 2, 3, 2, 2))])
def test_gibbs_joints_match_exact(scan, seed, cardinalities):
    model = random_potts(seed, cardinalities, temperature=1.2)
    samples = GibbsSampler(burn_in=200, scan=scan).sample(model, 25_000, n_chains=4, rng=seed, progress=False)
    n = len(cardinalities)
    groups = [[i] for i in range(n)] + [[0, n - 1], [1, 2]]
    goodness_of_fit(samples, model, groups).check()
    # the marginals agree with exact.marginals within a few standard errors
    error = (samples.marginals() - exact.marginals(model)).abs()
    assert (error <= 6 * samples.marginal_standard_errors() + 1e-3).all()


def test_clamped_sampling_follows_the_conditional():
    model = random_potts(3, (3, 4, 2, 3))
    evidence = {"v0": "s2", "v3": 1}
    samples = GibbsSampler(burn_in=200).sample(model, 25_000, n_chains=4, rng=5, evidence=evidence, progress=False)
    assert (samples.states[:, :, 0] == 2).all() and (samples.states[:, :, 3] == 1).all()
    goodness_of_fit(samples, model, [[1], [2], [1, 2]], evidence=evidence).check()


def test_the_check_can_fail():
    # draws from another model are rejected: the test has power
    model = random_potts(4, (3, 3, 3))
    other = random_potts(5, (3, 3, 3))
    samples = GibbsSampler(burn_in=100).sample(other, 20_000, n_chains=4, rng=0, progress=False)
    assert goodness_of_fit(samples, model, [[0, 1, 2]]).p_values[0][1] < 1e-6


def test_categorical_rbm_block_gibbs_matches_exact():
    from pgm_energy import CategoricalRBM

    rbm = CategoricalRBM.random([3, 2, 4], 3, scale=1.0, rng=2, state_names={"v0": ["a", "b", "c"]})
    samples = GibbsSampler(burn_in=100).sample(rbm, 25_000, n_chains=4, rng=9, progress=False)
    assert samples.info["scan"] == "chromatic" and samples.states.shape[2] == 6
    embedded = rbm.to_potts_machine()
    groups = [[0], [1], [2], [3], [4], [5], [0, 3], [2, 5]]
    goodness_of_fit(samples, embedded, groups).check()
    # the categorical RBM's own exact answers index the same (variable, state) cells
    np.testing.assert_allclose(exact.marginals(rbm).to_numpy(), exact.marginals(embedded).to_numpy(), atol=1e-12)


# ----------------------------------------------------------------------------- parallel tempering
def ferromagnet(n=6, q=3, coupling=1.5):
    """Every pair coupled by ``coupling`` on equal states: its q aligned states are separated by barriers
    of about ``coupling * (n / 2)**2``, which plain Gibbs does not cross in thousands of sweeps."""
    couplings = {(i, j): coupling * np.eye(q) for i, j in itertools.combinations(range(n), 2)}
    fields = [np.zeros(q) for _ in range(n)]
    fields[0] = np.array([0.3, 0.0, -0.2])
    return PottsMachine([q] * n, fields, couplings)


@pytest.mark.parametrize("scan", ["sequential", "chromatic"])
def test_tempering_draws_match_exact_where_gibbs_is_trapped(scan):
    from pgm_energy.samplers import ParallelTemperingSampler

    model = ferromagnet()
    start = np.zeros(model.n_variables, dtype=np.int64)  # every chain starts in mode 0
    ladder = [1.0, 1.5, 2.2, 3.3, 5.0, 7.5]
    tempered = ParallelTemperingSampler(ladder, burn_in=100, swap_interval=2, scan=scan).sample(
        model, 8_000, n_chains=4, initial_states=start, rng=5, progress=False)
    assert tempered.temperature == 1.0 and tempered.info["target_index"] == 0
    assert (tempered.info["swap_acceptance"] > 0.05).all()
    n = model.n_variables
    goodness_of_fit(tempered, model, [[0], [2], [n - 1]]).check()  # each variable: which aligned mode, how often
    # plain Gibbs from the same start stays in its mode: the first variable's marginal is far off
    plain = GibbsSampler(burn_in=200, scan=scan).sample(model, 2_000, n_chains=4, initial_states=start, rng=5,
                                                        progress=False)
    exact_first = exact.marginals(model).loc["v0"].to_numpy()
    assert np.abs(plain.marginals().loc["v0"].to_numpy() - exact_first).max() > 0.3


def test_tempering_keeps_evidence_and_its_bits_do_not_depend_on_the_cut(monkeypatch):
    from pgm_energy.samplers import ParallelTemperingSampler

    model = random_potts(3, (3, 2, 4, 3))
    sampler = ParallelTemperingSampler([1.0, 2.0, 3.0], burn_in=5, thin=2, swap_interval=3)
    first = sampler.sample(model, 30, n_chains=2, evidence={"v1": 1}, rng=9, progress=False)
    assert (first.states[:, :, 1] == 1).all()
    monkeypatch.setattr("pgm_energy._launch.TARGET_SECONDS", 0.0)
    np.testing.assert_array_equal(
        sampler.sample(model, 30, n_chains=2, evidence={"v1": 1}, rng=9, progress=False).states, first.states)


def test_tempering_a_categorical_rbm_matches_its_exact_visible_marginals():
    from pgm_energy import CategoricalRBM
    from pgm_energy.samplers import ParallelTemperingSampler

    g = np.random.default_rng(4)
    rbm = CategoricalRBM(g.normal(0, 0.8, (3 + 2 + 3, 3)), g.normal(size=8), g.normal(size=3), cardinalities=[3, 2, 3])
    samples = ParallelTemperingSampler([1.0, 1.5, 2.2], burn_in=100, swap_interval=2).sample(
        rbm, 8_000, n_chains=4, rng=1, progress=False)
    assert samples.info["scan"] == "chromatic"
    potts = rbm.to_potts_machine()
    goodness_of_fit(samples, potts, [[0], [1], [2], [0, 2]]).check()
