"""pgm_energy.inference.ExactInference and most_probable_state against independent oracles.

- ``query`` against pgmpy's VariableElimination on ``model.to_markov_network()``
  (normalized here, explicit elimination order: the larger layer of an RBM first);
- ``map_query``, ``most_probable_state``, ``predict`` and ``predict_probability``
  against a brute force written here: every joint state in ``itertools.product``
  order (unit 0 most significant), energies summed pair by pair, ``np.argmax``
  for the most probable state (its first maximum is the promised tie-break).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from pgm_energy import (
    BoltzmannMachine,
    EvidenceError,
    ModelSizeError,
    ParameterTypeError,
    RestrictedBoltzmannMachine,
    StateError,
    ValidationError,
)
from pgm_energy.inference import ExactInference, most_probable_state

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=r".*pgmpy\.estimators\.StructureScore.*")
    from pgmpy.inference import VariableElimination

RTOL = 1e-9


# --------------------------------------------------------------------------- brute force
class Brute:
    """All joint states of a model (rows in product order, columns in ``names`` order) and log p."""

    def __init__(self, model):
        self.names = list(model.names)
        self.hidden = set(model.hidden_names)
        n = len(self.names)
        self.states = np.array(list(itertools.product((0, 1), repeat=n)), dtype=np.int64).reshape(-1, n)
        s = self.states.astype(np.float64)
        if isinstance(model, RestrictedBoltzmannMachine):
            nv = model.n_visible
            w, b, c = model.weights, model.visible_bias, model.hidden_bias
            energy = -(s[:, :nv] @ b) - s[:, nv:] @ c
            for i in range(nv):
                for j in range(model.n_hidden):
                    energy -= w[i, j] * s[:, i] * s[:, nv + j]
        else:
            w = model.dense_weights()
            energy = model.offset - s @ model.biases
            for i in range(n):
                for j in range(i + 1, n):
                    energy -= w[i, j] * s[:, i] * s[:, j]
        self.energy = energy
        self.log_weight = -energy / model.temperature

    def mask(self, evidence):
        keep = np.ones(len(self.states), dtype=bool)
        for name, value in (evidence or {}).items():
            keep &= self.states[:, self.names.index(name)] == value
        return keep

    def joint_map(self, evidence=None):
        keep = self.mask(evidence)
        rows = np.flatnonzero(keep)
        return self.states[rows[int(np.argmax(self.log_weight[keep]))]]

    def posterior(self, variables, evidence=None):
        """Normalized table over ``variables`` (product order, first variable most significant)."""
        keep = self.mask(evidence)
        columns = [self.names.index(v) for v in variables]
        codes = self.states[keep][:, columns] @ (1 << np.arange(len(variables) - 1, -1, -1))
        weights = np.exp(self.log_weight[keep] - self.log_weight[keep].max())
        table = np.bincount(codes, weights=weights, minlength=1 << len(variables))
        return table / table.sum()

    def most_probable_of(self, variables, evidence=None):
        """argmax of the posterior table of ``variables`` (others summed out), as a list of 0/1."""
        code = int(np.argmax(self.posterior(variables, evidence)))
        k = len(variables)
        return [(code >> (k - 1 - i)) & 1 for i in range(k)]


def pgmpy_query(model, variables, evidence=None):
    """pgmpy VariableElimination on the model's Markov network, normalized, axes in ``variables`` order."""
    network = model.to_markov_network()
    kept = set(variables) | set(evidence or {})
    hidden = set(model.hidden_names)
    # Larger layer (for an RBM: the visible one here) first, as pgmpy's greedy path explodes on bipartite graphs.
    order = [n for n in model.names if n not in kept and n not in hidden] + [n for n in model.names if n not in kept and n in hidden]
    result = VariableElimination(network).query(
        list(variables), evidence=evidence or None, elimination_order=order, show_progress=False
    )
    result.normalize()
    axes = [result.variables.index(v) for v in variables]
    values = np.transpose(result.values, axes)
    # pgmpy keys values by state index; our state names are 0 and 1 in that order.
    for v in variables:
        assert list(result.state_names[v]) == [0, 1]
    return values


# --------------------------------------------------------------------------- models
def random_bm(seed, n_visible, n_hidden=0, *, scale=1.5, sparse=False, temperature=1.0, offset=0.0):
    rng = np.random.default_rng(seed)
    n = n_visible + n_hidden
    upper = np.triu(rng.normal(0.0, scale, size=(n, n)), 1)
    if sparse:
        upper *= rng.random((n, n)) < 0.4
    weights = upper + upper.T
    visible = [True] * n_visible + [False] * n_hidden
    rng.shuffle(visible)  # hidden units interleaved with visible ones
    return BoltzmannMachine(
        sp.csr_array(weights) if sparse else weights,
        rng.normal(0.0, scale, size=n),
        visible=visible,
        temperature=temperature,
        offset=offset,
    )


def random_rbm(seed, n_visible, n_hidden, *, scale=1.5, temperature=1.0):
    rng = np.random.default_rng(seed)
    return RestrictedBoltzmannMachine(
        rng.normal(0.0, scale, size=(n_visible, n_hidden)),
        rng.normal(0.0, scale, size=n_visible),
        rng.normal(0.0, scale, size=n_hidden),
        temperature=temperature,
    )


MODELS = {
    "bm-dense": lambda: random_bm(1, 6, 3, temperature=0.7, offset=2.5),
    "bm-sparse": lambda: random_bm(2, 5, 4, sparse=True),
    "bm-visible-only": lambda: random_bm(3, 9),
    "bm-pm50": lambda: random_bm(4, 5, 3, scale=50.0),
    "rbm-wide": lambda: random_rbm(5, 7, 3, temperature=1.3),
    "rbm-tall": lambda: random_rbm(6, 3, 7),
    "rbm-pm50": lambda: random_rbm(7, 6, 4, scale=50.0),
}


@pytest.fixture(params=sorted(MODELS), scope="module")
def model(request):
    return MODELS[request.param]()


def some_evidence(model, seed, k):
    rng = np.random.default_rng(seed)
    names = rng.choice(list(model.names), size=k, replace=False)
    return {str(name): int(rng.integers(0, 2)) for name in names}


# --------------------------------------------------------------------------- most_probable_state
def test_most_probable_state_matches_brute_force(model):
    brute = Brute(model)
    for k in range(4):
        evidence = some_evidence(model, k, k)
        state, energy = most_probable_state(model, evidence=evidence)
        expected = brute.joint_map(evidence)
        np.testing.assert_array_equal(state, expected)
        assert state.dtype == np.uint8 and state.shape == (model.n_units,)
        row = int(expected @ (1 << np.arange(model.n_units - 1, -1, -1)))
        assert abs(energy - brute.energy[row]) <= RTOL * (1 + abs(brute.energy[row]))


def test_most_probable_state_does_not_depend_on_temperature():
    bm = random_bm(11, 8, 2)
    state, energy = most_probable_state(bm)
    hot_state, hot_energy = most_probable_state(bm.with_temperature(25.0))
    np.testing.assert_array_equal(state, hot_state)
    assert energy == pytest.approx(hot_energy, rel=1e-12)


def test_most_probable_state_breaks_ties_toward_the_lowest_index():
    # Integer weights make ties exact; brute force's first argmax is the lowest index.
    for seed in range(10):
        rng = np.random.default_rng(seed)
        upper = np.triu(rng.integers(-1, 2, size=(7, 7)), 1).astype(float)
        bm = BoltzmannMachine(upper + upper.T, rng.integers(-1, 2, size=7).astype(float))
        rbms = [
            RestrictedBoltzmannMachine(
                rng.integers(-1, 2, size=(nv, nh)).astype(float), rng.integers(-1, 2, size=nv).astype(float),
                rng.integers(-1, 2, size=nh).astype(float),
            )
            for nv, nh in [(3, 5), (5, 3)]  # either layer enumerated
        ]
        for m in [bm, *rbms]:
            np.testing.assert_array_equal(most_probable_state(m)[0], Brute(m).joint_map())


def test_most_probable_state_with_every_unit_clamped():
    bm = random_bm(12, 4)
    evidence = {"v0": 1, "v1": 0, "v2": 1, "v3": 1}
    state, energy = most_probable_state(bm, evidence=evidence)
    assert state.tolist() == [1, 0, 1, 1]
    assert energy == pytest.approx(bm.energy([1, 0, 1, 1]), rel=1e-12)


def test_most_probable_state_size_guard():
    bm = random_bm(13, 12)
    with pytest.raises(ModelSizeError, match="max_units"):
        most_probable_state(bm, max_units=10)
    # Evidence frees the guard: 2 clamped units leave 10.
    state, _ = most_probable_state(bm, evidence={"v0": 0, "v1": 1}, max_units=10)
    np.testing.assert_array_equal(state, Brute(bm).joint_map({"v0": 0, "v1": 1}))
    # An RBM is limited by its smaller layer only.
    rbm = random_rbm(14, 40, 6)
    assert most_probable_state(rbm, max_units=6)[0].shape == (46,)
    with pytest.raises(ModelSizeError):
        most_probable_state(rbm, max_units=5)


@pytest.mark.parametrize(
    "evidence, error",
    [
        ({"nope": 1}, EvidenceError),
        ({"v0": 2}, EvidenceError),
        ({"v0": 0.5}, EvidenceError),
        ({"v0": "1"}, EvidenceError),
        ([("v0", 1)], ParameterTypeError),
    ],
)
def test_most_probable_state_rejects_bad_evidence(evidence, error):
    with pytest.raises(error, match="evidence"):
        most_probable_state(random_bm(15, 3), evidence=evidence)


def test_most_probable_state_rejects_other_models():
    with pytest.raises(ParameterTypeError, match="model"):
        most_probable_state(np.zeros((3, 3)))


# --------------------------------------------------------------------------- query
def test_query_matches_pgmpy_variable_elimination(model):
    inference = ExactInference(model)
    names = list(model.names)
    for k in range(3):
        evidence = some_evidence(model, 100 + k, k)
        free = [n for n in names if n not in evidence]
        variables = [free[-1], free[0], free[len(free) // 2]]  # not in model order
        factor = inference.query(variables, evidence=evidence)
        assert list(factor.variables) == variables
        np.testing.assert_allclose(factor.values, pgmpy_query(model, variables, evidence), rtol=1e-8, atol=1e-12)
        marginals = inference.query(variables, evidence=evidence, joint=False)
        for v in variables:
            np.testing.assert_allclose(marginals[v].values, pgmpy_query(model, [v], evidence), rtol=1e-8, atol=1e-12)


def test_query_rejects_contradictions_and_unknown_names():
    inference = ExactInference(random_bm(16, 4))
    with pytest.raises(EvidenceError, match="'v1'"):
        inference.query(["v1"], evidence={"v1": 0})
    with pytest.raises(EvidenceError, match="'x'"):
        inference.query(["x"])
    with pytest.raises(EvidenceError, match="2"):
        inference.query(["v0"], evidence={"v1": 2})


# --------------------------------------------------------------------------- map_query
def test_most_probable_state_method_is_the_joint_map(model):
    inference = ExactInference(model)
    brute = Brute(model)
    for k in range(3):
        evidence = some_evidence(model, 200 + k, k)
        expected = brute.joint_map(evidence)
        result = inference.most_probable_state(evidence=evidence)
        free = [n for n in model.names if n not in evidence]
        assert list(result) == free
        assert result == {n: int(expected[model.index(n)]) for n in free}
        assert all(type(value) is int for value in result.values())
        subset = free[::-2]
        assert inference.most_probable_state(subset, evidence=evidence) == {
            n: int(expected[model.index(n)]) for n in subset
        }
        # map_query of every unobserved unit sums nothing out: the same joint MAP
        assert inference.map_query(evidence=evidence) == result


def test_map_query_is_the_marginal_map(model):
    inference = ExactInference(model)
    brute = Brute(model)
    for k in range(2):
        evidence = some_evidence(model, 210 + k, 2 * k)
        free = [n for n in model.names if n not in evidence]
        for subset in (free[::-2], free[1:3], [free[-1]]):
            result = inference.map_query(subset, evidence=evidence)
            assert list(result) == subset
            assert all(type(value) is int for value in result.values())
            assert list(result.values()) == brute.most_probable_of(subset, evidence), (subset, evidence)


def test_map_query_agrees_with_pgmpy_where_the_joint_map_does_not():
    # p(A=1, B=0, C=0) = 3/(3 + 4 + tiny) is the single most probable state, but
    # the four states with A=0 together outweigh it: the marginal MAP of A is 0.
    bm = BoltzmannMachine(
        [[0.0, -20.0, -20.0], [-20.0, 0.0, 0.0], [-20.0, 0.0, 0.0]], [np.log(3.0), 0.0, 0.0], names=["A", "B", "C"]
    )
    marginal_map = VariableElimination(bm.to_markov_network()).map_query(["A"], show_progress=False)
    assert marginal_map == {"A": 0}
    assert ExactInference(bm).map_query(["A"]) == marginal_map
    assert ExactInference(bm).most_probable_state(["A"]) == {"A": 1}
    assert ExactInference(bm).map_query() == ExactInference(bm).most_probable_state() == {"A": 1, "B": 0, "C": 0}


@pytest.mark.parametrize("method", ["map_query", "most_probable_state"])
def test_map_query_validation(method):
    inference = ExactInference(random_bm(17, 4))
    call = getattr(inference, method)
    with pytest.raises(EvidenceError, match="both queried and given"):
        call(["v0", "v1"], evidence={"v1": 1})
    with pytest.raises(EvidenceError, match="'zz'"):
        call(["zz"])
    with pytest.raises(EvidenceError, match="'zz'"):
        call(evidence={"zz": 1})
    with pytest.raises(EvidenceError, match=r"-1"):
        call(evidence={"v0": -1})
    with pytest.raises(ParameterTypeError, match="string"):
        call("v0")
    with pytest.raises(ValidationError, match="repeat"):
        call(["v0", "v0"])
    assert call([]) == {}
    with pytest.raises(ModelSizeError):
        getattr(ExactInference(random_bm(18, 6), max_units=3), method)()


def test_map_query_of_more_than_20_units_with_others_summed_out_is_refused():
    bm = random_bm(27, 23, scale=0.1)
    with pytest.raises(ModelSizeError, match="most_probable_state"):
        ExactInference(bm).map_query(list(bm.names[:21]))


# --------------------------------------------------------------------------- predict
def frame(model, seed, columns, n_rows=12):
    """Rows of random 0/1 observations with repeats, under a non-default index."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 2, size=(4, len(columns)))[rng.integers(0, 4, size=n_rows)]
    return pd.DataFrame(values, columns=columns, index=[f"r{i}" for i in range(n_rows)][::-1])


@pytest.mark.parametrize("include_latents", [False, True])
def test_predict_matches_brute_force(model, include_latents):
    brute = Brute(model)
    names = list(model.names)
    visible = list(model.visible_names)
    observed = visible[1::2]
    data = frame(model, 300, observed)
    result = ExactInference(model).predict(data, include_latents=include_latents)
    targets = [n for n in names if n not in observed and (include_latents or n in visible)]
    assert list(result.columns) == targets
    assert list(result.index) == list(data.index)
    assert all(dtype == np.int64 for dtype in result.dtypes)
    for label, row in data.iterrows():
        evidence = {k: int(v) for k, v in row.items()}
        if include_latents:  # the joint MAP of every unobserved unit
            joint = brute.joint_map(evidence)
            expected = [int(joint[names.index(n)]) for n in targets]
        else:  # most probable visible values, hidden units summed out
            expected = brute.most_probable_of(targets, evidence)
        assert result.loc[label].tolist() == expected, label


def explaining_models():
    """Models where the joint MAP of (A, B, C) is (1, 0, 0) but A's marginal MAP is 0.

    p(A=1, B=0, C=0) is 3 / (7 + tiny): the single most probable state, yet the
    four states with A = 0 together weigh 4. B and C are hidden; D is an
    unrelated visible unit, observed in the data.
    """
    bm = BoltzmannMachine(
        [[0.0, -20.0, -20.0, 0.0], [-20.0, 0.0, 0.0, 0.0], [-20.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
        [np.log(3.0), 0.0, 0.0, 0.3],
        names=["A", "B", "C", "D"],
        visible=[True, False, False, True],
    )
    rbm = RestrictedBoltzmannMachine(
        [[-20.0, -20.0], [0.0, 0.0]], [np.log(3.0), 0.3], [0.0, 0.0], visible_names=["A", "D"], hidden_names=["B", "C"]
    )
    return [bm, rbm]


@pytest.mark.parametrize("index", [0, 1])
def test_predict_sums_out_hidden_units_unless_they_are_predicted(index):
    model = explaining_models()[index]
    data = pd.DataFrame({"D": [0, 1]})
    inference = ExactInference(model)
    assert inference.predict(data)["A"].tolist() == [0, 0]
    joint = inference.predict(data, include_latents=True)
    assert joint[["A", "B", "C"]].to_numpy().tolist() == [[1, 0, 0], [1, 0, 0]]
    assert inference.map_query(["A"], evidence={"D": 0}) == {"A": 0}
    assert inference.most_probable_state(["A"], evidence={"D": 0}) == {"A": 1}


def test_predict_with_hidden_columns_observed():
    bm = random_bm(19, 5, 3)
    hidden = list(bm.hidden_names)
    observed = [bm.visible_names[0], hidden[0]]
    data = frame(bm, 301, observed, n_rows=6)
    result = ExactInference(bm).predict(data)
    targets = [n for n in bm.visible_names if n not in observed]
    assert list(result.columns) == targets
    brute = Brute(bm)
    for label, row in data.iterrows():
        assert result.loc[label].tolist() == brute.most_probable_of(targets, row.to_dict())


def test_predict_include_observed_returns_the_whole_frame():
    bm = random_bm(26, 5, 2)
    inference = ExactInference(bm)
    data = frame(bm, 303, ["v3", "v0"], n_rows=6)
    predicted = inference.predict(data)
    whole = inference.predict(data, include_observed=True)
    assert list(whole.columns) == ["v3", "v0", *predicted.columns]
    pd.testing.assert_frame_equal(whole[["v3", "v0"]], data)
    pd.testing.assert_frame_equal(whole[list(predicted.columns)], predicted)
    # repeated index labels and bool observations: rows and dtypes kept as given
    repeated = data.astype(bool).set_axis(["a", "a", "b", "b", "c", "c"])
    whole = inference.predict(repeated, include_observed=True)
    pd.testing.assert_frame_equal(whole[["v3", "v0"]], repeated)
    np.testing.assert_array_equal(whole[list(predicted.columns)].to_numpy(), predicted.to_numpy())
    with pytest.raises(ParameterTypeError, match="include_observed"):
        inference.predict(data, include_observed="yes")


def test_predict_accepts_bool_float_and_object_zero_one():
    bm = random_bm(20, 4)
    inference = ExactInference(bm)
    ints = pd.DataFrame({"v0": [0, 1, 1], "v2": [1, 0, 1]})
    expected = inference.predict(ints)
    for converted in (ints.astype(bool), ints.astype(float), ints.astype(object)):
        pd.testing.assert_frame_equal(inference.predict(converted), expected)


def test_predict_empty_frame():
    bm = random_bm(21, 4)
    result = ExactInference(bm).predict(pd.DataFrame({"v0": pd.Series([], dtype=np.int64)}))
    assert list(result.columns) == ["v1", "v2", "v3"] and len(result) == 0
    probabilities = ExactInference(bm).predict_probability(pd.DataFrame({"v0": pd.Series([], dtype=np.int64)}))
    assert len(probabilities) == 0 and len(probabilities.columns) == 6


@pytest.mark.parametrize("include_latents", [False, True])
def test_predict_probability_matches_brute_force(model, include_latents):
    brute = Brute(model)
    names = list(model.names)
    observed = list(model.visible_names)[::2]
    data = frame(model, 302, observed, n_rows=7)
    result = ExactInference(model).predict_probability(data, include_latents=include_latents)
    targets = [n for n in names if n not in observed and (include_latents or n in model.visible_names)]
    # pgmpy's naming: f"{variable}_{state name}" for each state, in state order.
    assert list(result.columns) == [f"{n}_{s}" for n in targets for s in (0, 1)]
    assert list(result.index) == list(data.index)
    for label, row in data.iterrows():
        evidence = row.to_dict()
        for n in targets:
            p = brute.posterior([n], evidence)
            np.testing.assert_allclose(result.loc[label, [f"{n}_0", f"{n}_1"]].to_numpy(float), p, rtol=1e-8, atol=1e-12)


def test_predict_summing_out_hidden_units_of_a_large_rbm_uses_the_visible_layer_guard():
    rbm = random_rbm(22, 30, 2)
    data = pd.DataFrame(np.zeros((2, 25), dtype=int), columns=list(rbm.visible_names[:25]))
    result = ExactInference(rbm, max_units=5).predict(data)
    assert list(result.columns) == list(rbm.visible_names[25:])
    with pytest.raises(ModelSizeError, match="max_units"):
        ExactInference(rbm, max_units=4).predict(data)


def test_predict_summing_out_hidden_units_of_a_general_machine_is_limited_to_20_targets():
    bm = random_bm(25, 22, 1, scale=0.1)
    data = pd.DataFrame({bm.visible_names[0]: [0]})
    with pytest.raises(ModelSizeError, match="include_latents=True"):
        ExactInference(bm).predict(data)
    assert ExactInference(bm).predict(data, include_latents=True).shape == (1, 22)


@pytest.mark.parametrize("method", ["predict", "predict_probability"])
def test_predict_validation(method):
    inference = ExactInference(random_bm(23, 4, 1))
    call = getattr(inference, method)
    with pytest.raises(EvidenceError, match="'x'"):
        call(pd.DataFrame({"x": [0]}))
    with pytest.raises(EvidenceError, match="0"):
        call(pd.DataFrame({0: [0]}))
    with pytest.raises(StateError, match=r"'v0'.*2.*row 'b'"):
        call(pd.DataFrame({"v0": [0, 2]}, index=["a", "b"]))
    with pytest.raises(StateError, match="0.5"):
        call(pd.DataFrame({"v0": [0.5]}))
    with pytest.raises(StateError, match="NaN"):
        call(pd.DataFrame({"v0": [0.0, np.nan]}))
    with pytest.raises(StateError, match="NaN"):
        call(pd.DataFrame({"v0": pd.array([1, None], dtype="Int64")}))
    with pytest.raises(StateError, match="'1'"):
        call(pd.DataFrame({"v0": ["1"]}))
    with pytest.raises(ValidationError, match="repeated"):
        call(pd.DataFrame([[0, 1]], columns=["v0", "v0"]))
    with pytest.raises(ParameterTypeError, match="DataFrame"):
        call(np.zeros((2, 2)))
    with pytest.raises(ValidationError, match="no variable to predict"):
        call(pd.DataFrame({n: [0] for n in ["v0", "v1", "v2", "v3"]}))
    with pytest.raises(ValidationError, match="no variable to predict"):
        call(pd.DataFrame({n: [0] for n in ["v0", "v1", "v2", "v3", "h0"]}), include_latents=True)
    with pytest.raises(ParameterTypeError, match="include_latents"):
        call(pd.DataFrame({"v0": [0]}), include_latents="yes")
    with pytest.raises(TypeError):
        call(pd.DataFrame({"v0": [0]}), latents=True)


def test_exact_inference_constructor_validation():
    with pytest.raises(ParameterTypeError):
        ExactInference("model")
    with pytest.raises(ValidationError, match="max_units"):
        ExactInference(random_bm(24, 3), max_units=-1)
    with pytest.raises(TypeError):
        ExactInference(random_bm(24, 3), units=3)


def test_model_predict_methods_delegate_to_exact_inference():
    import pandas as pd

    from pgm_energy import RestrictedBoltzmannMachine
    from pgm_energy.inference import ExactInference

    rbm = RestrictedBoltzmannMachine.random(5, 3, scale=2.0, rng=11)
    data = pd.DataFrame({"v0": [0, 1, 1], "v3": [1, 0, 1]})
    pd.testing.assert_frame_equal(rbm.predict(data), ExactInference(rbm).predict(data))
    pd.testing.assert_frame_equal(rbm.predict_probability(data), ExactInference(rbm).predict_probability(data))
