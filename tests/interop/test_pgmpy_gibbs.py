"""The pgmpy GibbsSampling drop-in: API compatibility with pgmpy, and correctness against VE.

Statistical tests compare sampled frequencies with pgmpy's VariableElimination (the
independent oracle; normalized by hand, since on Markov networks it returns unnormalized
tables). The rows of one Gibbs chain are dependent, so every statistical test first
computes the exact transition matrix of one systematic-scan sweep from the VE joint and
thins the chain until the correlation left between rows (|λ₂|^thin) is below 1%; χ² tests
of the joint and of every marginal (``pgm_energy.testing.GoodnessOfFit``) then apply, at a
declared false-failure rate ``ALPHA`` per test function (seeds are fixed, so a run is
reproducible); they refuse to run when an expected count is below 5. A total-variation bound
(≤ 0.02 at 10^5 draws) is checked on every joint.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from pgm_energy.exceptions import ConversionError, EvidenceError, ParameterTypeError, ValidationError
from pgm_energy.interop.pgmpy import GibbsSampling
from pgm_energy.testing import GoodnessOfFit, total_variation

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")
    from pgmpy.factors.discrete import DiscreteFactor, State, TabularCPD
    from pgmpy.inference import VariableElimination
    from pgmpy.models import DiscreteBayesianNetwork, DiscreteMarkovNetwork
    from pgmpy.sampling import BayesianModelSampling
    from pgmpy.sampling import GibbsSampling as PgmpyGibbsSampling

ALPHA = 1e-4  # declared false-failure rate of each test function
N_DRAWS = 100_000
TV_BOUND = 0.02


# --------------------------------------------------------------------------- models
def random_factor(rng, variables, cards, scale=0.7, state_names=None):
    values = np.exp(rng.normal(0.0, scale, size=int(np.prod(cards))))
    return DiscreteFactor(variables, cards, values, state_names=state_names or {})


def markov_3state(seed=0):
    """4 variables (3, 3, 2, 3 states), two 3-variable factors, one pair factor; 54 joint states."""
    rng = np.random.default_rng(seed)
    names = {"A": ["a0", "a1", "a2"], "B": ["b0", "b1", "b2"], "C": ["off", "on"], "D": ["d0", "d1", "d2"]}
    card = {v: len(s) for v, s in names.items()}

    def factor(*variables):
        return random_factor(rng, list(variables), [card[v] for v in variables],
                             state_names={v: names[v] for v in variables})

    mn = DiscreteMarkovNetwork([("A", "B"), ("B", "C"), ("A", "C"), ("C", "D"), ("B", "D"), ("A", "D")], latents=[])
    mn.add_factors(factor("A", "B", "C"), factor("B", "C", "D"), factor("D", "A"))
    mn.check_model()
    return mn


def markov_chain_3state(seed=1):
    """5 variables, cardinality 3 throughout except one binary, with 3-variable factors; 162 states."""
    rng = np.random.default_rng(seed)
    card = {"V": 3, "W": 3, "X": 2, "Y": 3, "Z": 3}
    mn = DiscreteMarkovNetwork([("V", "W"), ("W", "X"), ("V", "X"), ("X", "Y"), ("Y", "Z"), ("X", "Z")], latents=[])
    mn.add_factors(
        random_factor(rng, ["V", "W", "X"], [3, 3, 2], scale=0.5),
        random_factor(rng, ["X", "Y", "Z"], [2, 3, 3], scale=0.5),
        random_factor(rng, ["Y"], [3], scale=0.5),
    )
    mn.check_model()
    return mn, card


def student_network():
    """A small Bayesian network with string state names, a 3-state variable and zero CPD entries."""
    bn = DiscreteBayesianNetwork([("diff", "grade"), ("intel", "grade"), ("intel", "sat"), ("grade", "letter")])
    bn.add_cpds(
        TabularCPD("diff", 2, [[0.6], [0.4]], state_names={"diff": ["easy", "hard"]}),
        TabularCPD("intel", 2, [[0.7], [0.3]], state_names={"intel": ["low", "high"]}),
        TabularCPD(
            "grade", 3,
            # columns: (diff, intel) = (easy, low), (easy, high), (hard, low), (hard, high)
            [[0.3, 0.9, 0.0, 0.5],
             [0.4, 0.1, 0.3, 0.3],
             [0.3, 0.0, 0.7, 0.2]],
            evidence=["diff", "intel"], evidence_card=[2, 2],
            state_names={"grade": ["A", "B", "C"], "diff": ["easy", "hard"], "intel": ["low", "high"]},
        ),
        TabularCPD("sat", 2, [[0.9, 0.2], [0.1, 0.8]], evidence=["intel"], evidence_card=[2],
                   state_names={"sat": ["bad", "good"], "intel": ["low", "high"]}),
        TabularCPD("letter", 2, [[0.1, 0.4, 0.9], [0.9, 0.6, 0.1]], evidence=["grade"], evidence_card=[3],
                   state_names={"letter": ["no", "yes"], "grade": ["A", "B", "C"]}),
    )
    bn.check_model()
    return bn


def tiny_markov():
    mn = DiscreteMarkovNetwork([("A", "B"), ("B", "C")], latents=[])
    mn.add_factors(DiscreteFactor(["A", "B"], [2, 3], np.arange(1, 7)),
                   DiscreteFactor(["B", "C"], [3, 2], np.arange(1, 7)))
    return mn


# --------------------------------------------------------------------------- oracle
def exact_joint(model, sampler, evidence=None):
    """VE's joint over the free variables (sampler column order, state index order), normalized."""
    evidence = evidence or {}
    free = [v for v in sampler.variables.tolist() if v not in evidence]
    result = VariableElimination(model).query(free, evidence=evidence or None, joint=True, show_progress=False)
    values = np.transpose(result.values, [result.variables.index(v) for v in free])
    for axis, v in enumerate(free):
        order = [list(result.state_names[v]).index(name) for name in sampler.state_names[v]]
        values = np.take(values, order, axis=axis)
    return free, values / values.sum()


def sweep_second_eigenvalue(joint):
    """|λ₂| of the exact transition matrix of one systematic sweep (axes in scan order) on the support."""
    shape = joint.shape
    p = joint.ravel()
    support = np.flatnonzero(p > 0)
    where = {s: k for k, s in enumerate(support)}
    sweep = np.eye(len(support))
    for axis in range(len(shape)):
        step = np.zeros((len(support), len(support)))
        for k, s in enumerate(support):
            x = list(np.unravel_index(s, shape))
            neighbours = []
            for value in range(shape[axis]):
                x[axis] = value
                neighbours.append(np.ravel_multi_index(x, shape))
            weights = p[neighbours]
            for t, w in zip(neighbours, weights):
                if w > 0:
                    step[k, where[t]] = w / weights.sum()
        sweep = sweep @ step
    moduli = np.sort(np.abs(np.linalg.eigvals(sweep)))[::-1]
    assert abs(moduli[0] - 1.0) < 1e-9
    return moduli[1] if len(moduli) > 1 else 0.0


def thin_for(joint, residual=0.01, limit=60):
    lam = sweep_second_eigenvalue(joint)
    assert lam < 1 - 1e-9, "the chain is not ergodic on this model"
    thin = 1 if lam < residual else math.ceil(math.log(residual) / math.log(lam))
    assert thin <= limit, f"the test model mixes too slowly (|λ₂| = {lam:.3f})"
    return thin


def check_against_oracle(model, sampler, seed, evidence=None):
    free, joint = exact_joint(model, sampler, evidence)
    thin = thin_for(joint)
    frame = sampler.sample(size=N_DRAWS, seed=seed, evidence=evidence, burn_in=50, thin=thin)
    if evidence:
        for name, value in evidence.items():
            assert (frame[name] == sampler.state_names[name].index(value)).all()
    # the thinned rows are independent to within 1%: tested as rows, state indices in the sampler's order
    checks = GoodnessOfFit(frame, alpha=ALPHA)
    checks.joint(free, joint)
    assert total_variation(frame, joint, variables=free) <= TV_BOUND
    for v in free:  # each single-variable marginal against its own VE query
        result = VariableElimination(model).query([v], evidence=evidence or None, show_progress=False)
        checks.joint([v], np.array([result.get_value(**{v: name}) for name in sampler.state_names[v]]) /
                     result.values.sum())
    checks.check()
    return thin


# --------------------------------------------------------------------------- statistics
def test_markov_network_3state_3ary_matches_variable_elimination():
    mn = markov_3state()
    check_against_oracle(mn, GibbsSampling(mn), seed=11)


def test_markov_network_with_evidence_matches_conditional():
    mn = markov_3state()
    check_against_oracle(mn, GibbsSampling(mn), seed=12, evidence={"C": "on"})


def test_second_markov_network_with_unary_factor_and_two_evidence_variables():
    mn, _ = markov_chain_3state()
    sampler = GibbsSampling(mn)
    check_against_oracle(mn, sampler, seed=13)
    check_against_oracle(mn, sampler, seed=14, evidence={"X": 1, "Z": 2})


def test_bayesian_network_with_zero_cpd_entries_matches_variable_elimination():
    bn = student_network()
    sampler = GibbsSampling(bn)
    check_against_oracle(bn, sampler, seed=21)


def test_bayesian_network_with_evidence_matches_conditional():
    bn = student_network()
    check_against_oracle(bn, GibbsSampling(bn), seed=22, evidence={"letter": "yes", "sat": "good"})


# --------------------------------------------------------------------------- pgmpy compatibility
PGMPY_DROP_WARNING = "ignore:.*inplace keyword in DataFrame.drop.*"  # inside pgmpy's own sample()


@pytest.mark.filterwarnings(PGMPY_DROP_WARNING)
def test_same_layout_as_pgmpy_on_markov_network():
    mn = tiny_markov()
    ours = GibbsSampling(mn)
    theirs = PgmpyGibbsSampling(mn)
    start = [State("A", 1), State("B", 2), State("C", 0)]
    a = ours.sample(start_state=start, size=7, seed=3)
    state = np.random.get_state()
    try:
        b = theirs.sample(start_state=start, size=7, seed=3)
    finally:
        np.random.set_state(state)  # pgmpy seeds the global RNG
    assert list(a.columns) == list(b.columns) == ["A", "B", "C"]
    assert a.columns.dtype == b.columns.dtype
    assert list(a.dtypes) == list(b.dtypes)
    assert a.shape == b.shape
    assert a.index.equals(b.index)
    assert a.iloc[0].tolist() == b.iloc[0].tolist() == [1, 2, 0]
    assert list(ours.variables) == list(theirs.variables)
    assert ours.cardinalities == theirs.cardinalities


@pytest.mark.filterwarnings(PGMPY_DROP_WARNING)
def test_same_layout_as_pgmpy_on_bayesian_network_with_latents():
    bn = student_network()
    bn.latents = {"intel"}
    ours, theirs = GibbsSampling(bn), PgmpyGibbsSampling(bn)
    state = np.random.get_state()
    try:
        b = theirs.sample(size=4, seed=0)
        b_all = theirs.sample(size=2, include_latents=True)
    finally:
        np.random.set_state(state)
    a = ours.sample(size=4, seed=0)
    a_all = ours.sample(size=2, include_latents=True)
    assert list(a.columns) == list(b.columns) and "intel" not in a.columns
    assert list(a_all.columns) == list(b_all.columns) and "intel" in a_all.columns
    assert list(a.dtypes) == list(b.dtypes) and all(d == np.int64 for d in a.dtypes)
    assert len(a) == 4 and len(a_all) == 2


def test_chain_persists_between_calls_like_pgmpy():
    mn = tiny_markov()
    sampler = GibbsSampling(mn)
    first = sampler.sample(size=5, seed=1)
    second = sampler.sample(size=5, seed=2)
    assert second.iloc[0].tolist() == first.iloc[-1].tolist()
    assert [s.state for s in sampler.state] == second.iloc[-1].tolist()
    assert [s.var for s in sampler.state] == ["A", "B", "C"]


def test_row_zero_is_the_start_state_and_size_counts_rows():
    mn = markov_3state()
    sampler = GibbsSampling(mn)
    frame = sampler.sample(start_state=[2, 0, 1, 1], size=1)
    assert frame.shape == (1, 4) and frame.iloc[0].tolist() == [2, 0, 1, 1]
    frame = sampler.sample(start_state=np.array([0, 1, 0, 2]), size=3)
    assert frame.shape == (3, 4) and frame.iloc[0].tolist() == [0, 1, 0, 2]


def test_dict_start_state_by_state_names():
    mn = markov_3state()
    sampler = GibbsSampling(mn)
    frame = sampler.sample(start_state={"D": "d2", "A": "a1", "C": "on", "B": "b0"}, size=2, seed=0)
    assert frame.iloc[0].tolist() == [1, 0, 1, 2]
    sampler.set_start_state({"A": "a0", "B": "b2", "C": "off", "D": "d1"})
    assert [s.state for s in sampler.state] == [0, 2, 0, 1]


def test_samples_are_state_indices_unless_state_names_are_asked_for():
    bn = student_network()
    sampler = GibbsSampling(bn)
    indices = sampler.sample(size=50, seed=3, evidence={"letter": "yes"})
    assert all(dtype == np.int64 for dtype in indices.dtypes)  # pgmpy's GibbsSampling: indices
    names = GibbsSampling(bn).sample(size=50, seed=3, evidence={"letter": "yes"}, state_names=True)
    assert list(names.columns) == list(indices.columns)
    for column in indices.columns:
        assert names[column].tolist() == [sampler.state_names[column][k] for k in indices[column]]
    assert (names["letter"] == "yes").all()
    # the column types of pgmpy's forward_sample, which returns names
    reference = BayesianModelSampling(bn).forward_sample(5, seed=0, show_progress=False)
    assert dict(names.dtypes) == dict(reference[list(names.columns)].dtypes)


def test_generate_sample_yields_states_after_each_sweep():
    bn = student_network()
    bn.latents = {"intel"}
    sampler = GibbsSampling(bn)
    states = list(sampler.generate_sample(size=3, seed=0))
    assert len(states) == 3
    assert all(isinstance(s, State) for row in states for s in row)
    assert [s.var for s in states[0]] == [v for v in sampler.variables if v != "intel"]


# --------------------------------------------------------------------------- randomness
def test_same_seed_same_samples_and_global_rng_untouched():
    mn = markov_3state()
    before = np.random.get_state()
    a = GibbsSampling(mn).sample(size=200, seed=42)
    b = GibbsSampling(mn).sample(size=200, seed=42)
    c = GibbsSampling(mn).sample(size=200, seed=43)
    GibbsSampling(mn).sample(size=50)  # no seed: the sampler's own generator
    d = GibbsSampling(mn).sample(size=200, seed=np.random.default_rng(42))
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, d)
    assert not a.equals(c)


def test_unseeded_samplers_differ():
    mn = markov_3state()
    assert not GibbsSampling(mn).sample(size=100).equals(GibbsSampling(mn).sample(size=100))


# --------------------------------------------------------------------------- evidence, burn-in, thinning
def test_evidence_is_clamped_and_persisting_chain_keeps_it_until_changed():
    mn = markov_3state()
    sampler = GibbsSampling(mn)
    frame = sampler.sample(size=300, seed=0, evidence={"A": "a2", "D": "d0"})
    assert (frame["A"] == 2).all() and (frame["D"] == 0).all()
    assert frame["B"].nunique() > 1
    frame = sampler.sample(size=300, seed=1, evidence={"A": "a0"})
    assert (frame["A"] == 0).all() and frame["D"].nunique() > 1


def test_burn_in_and_thin_follow_the_same_chain():
    mn = markov_3state()
    full = GibbsSampling(mn).sample(start_state=[0, 0, 0, 0], size=31, seed=5)
    thinned = GibbsSampling(mn).sample(start_state=[0, 0, 0, 0], size=6, seed=5, burn_in=5, thin=5)
    pd.testing.assert_frame_equal(thinned.reset_index(drop=True), full.iloc[5::5].reset_index(drop=True))


# --------------------------------------------------------------------------- zero potentials
def deterministic_network():
    """B = A and C = A deterministically: 2 of the 8 states have positive probability."""
    bn = DiscreteBayesianNetwork([("A", "B"), ("A", "C")])
    bn.add_cpds(
        TabularCPD("A", 2, [[0.3], [0.7]]),
        TabularCPD("B", 2, [[1.0, 0.0], [0.0, 1.0]], evidence=["A"], evidence_card=[2]),
        TabularCPD("C", 2, [[1.0, 0.0], [0.0, 1.0]], evidence=["A"], evidence_card=[2]),
    )
    return bn


def test_random_start_of_probability_zero_is_repaired():
    bn = deterministic_network()
    for seed in range(20):
        frame = GibbsSampling(bn).sample(size=20, seed=seed)
        assert (frame["A"] == frame["B"]).all() and (frame["A"] == frame["C"]).all()


def test_stuck_start_state_raises_and_leaves_the_chain_unchanged():
    bn = deterministic_network()
    sampler = GibbsSampling(bn)
    sampler.sample(start_state=[1, 1, 1], size=2, seed=0)
    with pytest.raises(ValidationError, match="stuck.*'A'"):
        sampler.sample(start_state=[0, 1, 0], size=5, seed=0)
    assert [s.state for s in sampler.state] == [1, 1, 1]


def test_evidence_of_probability_zero_raises():
    bn = deterministic_network()
    with pytest.raises(EvidenceError, match="probability zero"):
        GibbsSampling(bn).sample(size=5, seed=0, evidence={"A": 0, "B": 1})
    with pytest.raises(EvidenceError, match="probability zero"):
        GibbsSampling(bn).sample(size=5, seed=0, evidence={"B": 0, "C": 1})


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"evidence": {"Q": "a0"}}, EvidenceError, "'Q'"),
        ({"evidence": {"A": "a9"}}, EvidenceError, "'a9'.*'a0', 'a1', 'a2'"),
        ({"evidence": {"A": 0}}, EvidenceError, "0 is not a state name"),
        ({"evidence": ["A"]}, ParameterTypeError, "evidence"),
        ({"start_state": [0, 1]}, ValidationError, "one state index per variable"),
        ({"start_state": [0, 3, 0, 0]}, ValidationError, r"start_state\['B'\].*0\.\.2.*3"),
        ({"start_state": {"A": "a0"}}, ValidationError, "missing"),
        ({"start_state": {"A": "zz", "B": "b0", "C": "on", "D": "d0"}}, ValidationError, "'zz'"),
        ({"start_state": "A"}, ParameterTypeError, "start_state"),
        ({"start_state": {"A": "a0", "B": "b0", "C": "on", "D": "d0"}, "evidence": {"A": "a1"}}, EvidenceError, "'A'"),
        ({"size": 0}, ValidationError, "size"),
        ({"size": 2.5}, ParameterTypeError, "size"),
        ({"seed": "x"}, ParameterTypeError, "seed"),
        ({"seed": -1}, ValidationError, "seed"),
        ({"thin": 0}, ValidationError, "thin"),
        ({"burn_in": -1}, ValidationError, "burn_in"),
        ({"state_names": "yes"}, ParameterTypeError, "state_names"),
    ],
)
def test_bad_arguments_raise_named_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        GibbsSampling(markov_3state()).sample(**kwargs)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError):
        GibbsSampling(tiny_markov()).sample(size=2, n_chains=3)


def test_bad_models_raise_conversion_errors():
    with pytest.raises(ConversionError, match="DiscreteMarkovNetwork or DiscreteBayesianNetwork"):
        GibbsSampling("not a model")
    bn = DiscreteBayesianNetwork([("A", "B")])
    bn.add_cpds(TabularCPD("A", 2, [[0.5], [0.5]]))
    with pytest.raises(ConversionError, match="no CPD.*'B'"):
        GibbsSampling(bn)
    mn = DiscreteMarkovNetwork([("A", "B")], latents=[])
    mn.add_node("C")
    mn.add_factors(DiscreteFactor(["A", "B"], [2, 2], [1, 2, 3, 4]))
    with pytest.raises(ConversionError, match="'C'.*no factor"):
        GibbsSampling(mn)
    mn = DiscreteMarkovNetwork([("A", "B")], latents=[])
    mn.add_factors(DiscreteFactor(["A", "B"], [2, 2], [1, -2, 3, 4]))
    with pytest.raises(ConversionError, match=r"-2\.0 at flat index 1"):
        GibbsSampling(mn)
    with pytest.raises(ValidationError, match="without a model"):
        GibbsSampling().sample()


def test_state_names_in_another_order_are_aligned():
    """Two factors list the states of B in different orders: the tables are permuted to agree."""
    mn = DiscreteMarkovNetwork([("A", "B"), ("B", "C")], latents=[])
    f1 = DiscreteFactor(["A", "B"], [2, 2], [1, 1, 1, 1], state_names={"A": [0, 1], "B": ["x", "y"]})
    f2 = DiscreteFactor(["B", "C"], [2, 2], [1e-9, 1e-9, 1, 1], state_names={"B": ["y", "x"], "C": [0, 1]})
    mn.add_factors(f1, f2)
    frame = GibbsSampling(mn).sample(size=2000, seed=0)
    assert frame["B"].mean() < 0.01  # B = "x" (index 0) almost surely


# --------------------------------------------------------------------------- scale
def grid_network(side, seed=0):
    rng = np.random.default_rng(seed)
    name = [[f"x{i}_{j}" for j in range(side)] for i in range(side)]
    edges = [(name[i][j], name[i][j + 1]) for i in range(side) for j in range(side - 1)]
    edges += [(name[i][j], name[i + 1][j]) for i in range(side - 1) for j in range(side)]
    mn = DiscreteMarkovNetwork(edges, latents=[])
    mn.add_factors(*[DiscreteFactor([u, v], [2, 2], np.exp(rng.normal(0, 0.5, 4))) for u, v in edges])
    return mn


def test_builds_and_samples_a_grid_pgmpy_cannot_build():
    mn = grid_network(30)
    start = time.perf_counter()
    sampler = GibbsSampling(mn)
    built = time.perf_counter() - start
    frame = sampler.sample(size=50, seed=0)
    assert frame.shape == (50, 900)
    assert built < 5.0  # pgmpy needs hours for 5x5
