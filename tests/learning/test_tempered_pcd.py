"""Persistent CD with a parallel-tempering negative phase (ContrastiveDivergence(tempering=...))."""

from __future__ import annotations

import numpy as np
import pytest

from pgm_energy import RestrictedBoltzmannMachine, exact
from pgm_energy.exceptions import ParameterTypeError, ValidationError
from pgm_energy.learning import ContrastiveDivergence
from pgm_energy.learning._cd_engine import new_state
from pgm_energy.learning._tempered import new_tempered_state, swap_rates, tempered_epoch
from pgm_energy.learning.contrastive_divergence import DEFAULT_MAX_TEMPERATURE
from pgm_energy.testing import GoodnessOfFit, total_variation


def _visible_distribution(model) -> np.ndarray:
    """Exact p(v) over every visible state, C order (the first visible unit most significant)."""
    return np.asarray(exact.query(model, list(model.visible_names)).values, dtype=np.float64).ravel()


def _tiny_rbm() -> RestrictedBoltzmannMachine:
    """4 x 3 RBM with strong weights: the tempered distributions differ visibly from T = 1."""
    rng = np.random.default_rng(5)
    return RestrictedBoltzmannMachine(rng.normal(0, 1.5, (4, 3)), rng.normal(0, 1.0, 4), rng.normal(0, 1.0, 3))


def test_replicas_sample_the_exact_tempered_distributions_when_parameters_are_frozen():
    """learning_rate = momentum = weight_decay = 0 freezes the RBM: every replica must then be a valid
    chain of the RBM at its temperature (the swaps included), checked by chi-squared (Bonferroni over the
    three temperatures, alpha = 1e-4, draws' autocorrelation accounted for) and total variation < 0.02."""
    model = _tiny_rbm()
    temperatures = [1.0, 1.7, 3.0]
    n_chains, n_steps, burn_in = 64, 1500, 50
    generator = np.random.default_rng(0)
    state = new_state(model.weights, model.visible_bias, model.hidden_bias, n_chains=n_chains, n_streams=n_chains,
                      dtype=np.float64, rng=generator)
    tempered = new_tempered_state(state.chains, temperatures, generator)
    data = np.zeros((1, 4))
    order = np.zeros(1, dtype=np.int64)
    draws = np.empty((n_steps, len(temperatures) * n_chains, 4), dtype=np.uint8)
    accepted = np.zeros(len(temperatures) - 1)
    for step in range(burn_in + n_steps):
        tempered_epoch(state, tempered, data, order, batch_size=1, k=1, learning_rate=0.0, momentum=0.0,
                       weight_decay=0.0, sparsity_target=None, sparsity_cost=0.0)
        if step >= burn_in:
            draws[step - burn_in] = tempered.replicas
            accepted += tempered.swap_accepted
    np.testing.assert_array_equal(state.weights, model.weights)  # frozen indeed
    np.testing.assert_array_equal(state.chains, tempered.replicas[:n_chains])
    assert np.all(accepted > 0.05 * n_steps * n_chains / 2)  # the swaps do happen (each pair every other step)
    # (n_chains, n_draws, n_temperatures * 4): particle c's ladder side by side, temperature t in columns 4t..4t+3
    states = draws.reshape(n_steps, len(temperatures), n_chains, 4).transpose(2, 0, 1, 3).reshape(n_chains, n_steps, -1)
    fit = GoodnessOfFit(states, alpha=1e-4)
    for t, temperature in enumerate(temperatures):
        exact_p = _visible_distribution(model.with_temperature(temperature))
        columns = range(4 * t, 4 * t + 4)
        fit.joint(columns, exact_p)
        assert total_variation(states, exact_p, variables=columns) < 0.02
    fit.check()


def test_the_replicas_differ_from_the_cold_distribution():
    """Guard for the test above: the hot distributions are far (TV > 0.1) from the T = 1 one, so a
    swap rule that mixed the temperatures up would move the T = 1 replicas away from p(v)."""
    model = _tiny_rbm()
    cold = _visible_distribution(model)
    for temperature in (1.7, 3.0):
        assert 0.5 * np.abs(_visible_distribution(model.with_temperature(temperature)) - cold).sum() > 0.1


def _trainer(**options):
    settings = dict(persistent=True, tempering=[1.0, 2.0, 4.0], epochs=6, batch_size=7, n_chains=5,
                    learning_rate=0.05, monitor=None, dtype="float64")
    settings.update(options)
    return ContrastiveDivergence(**settings)


def test_swap_rates_are_recorded_per_epoch_and_in_unit_interval(bas3):
    result = _trainer(monitor=["reconstruction_error"]).fit(6, bas3, rng=3, progress=False)
    for name in ("swap_rate_min", "swap_rate_mean", "reconstruction_error"):
        values = result.history[name]
        assert values.shape == (6,) and np.all(np.isfinite(values))
    assert np.all((0.0 <= result.history["swap_rate_min"]) & (result.history["swap_rate_min"] <= 1.0))
    assert np.all(result.history["swap_rate_min"] <= result.history["swap_rate_mean"])
    assert np.all(result.history["swap_rate_mean"] <= 1.0)


def test_swap_rates_helper_skips_pairs_never_tried():
    class Counts:
        swap_accepted = np.array([3, 0, 1])
        swap_attempted = np.array([4, 0, 4])

    assert swap_rates(Counts) == {"swap_rate_min": 0.25, "swap_rate_mean": 0.5}
    Counts.swap_attempted = np.zeros(3, dtype=np.int64)
    rates = swap_rates(Counts)
    assert np.isnan(rates["swap_rate_min"]) and np.isnan(rates["swap_rate_mean"])


def test_resume_with_tempering_continues_exactly(bas3, tmp_path):
    data = bas3
    full = _trainer(epochs=7).fit(5, data, rng=11, progress=False)
    path = tmp_path / "run.npz"

    def stop_at_five(epoch, model, history):
        return epoch == 5

    _trainer(epochs=7, checkpoint_every=2, checkpoint_path=path).fit(
        5, data, rng=11, callbacks=[stop_at_five], progress=False)
    with np.load(path) as content:
        assert "state__pt_replicas" in content.files and "state__pt_swap_streams" in content.files
    resumed = _trainer(epochs=7).fit(5, data, resume_from=path, rng=999, progress=False)
    np.testing.assert_array_equal(resumed.model.weights, full.model.weights)
    np.testing.assert_array_equal(resumed.model.hidden_bias, full.model.hidden_bias)
    for name in ("swap_rate_min", "swap_rate_mean"):
        np.testing.assert_array_equal(resumed.history[name], full.history[name])
    # another ladder, or no tempering, cannot resume this checkpoint
    with pytest.raises(ValidationError, match="tempering"):
        _trainer(epochs=7, tempering=[1.0, 3.0, 4.0]).fit(5, data, resume_from=path, progress=False)


def test_tempering_changes_the_run_but_plain_pcd_is_unchanged(bas3):
    data = bas3
    plain = _trainer(tempering=None).fit(5, data, rng=2, progress=False)
    again = _trainer(tempering=None).fit(5, data, rng=2, progress=False)
    tempered = _trainer().fit(5, data, rng=2, progress=False)
    np.testing.assert_array_equal(plain.model.weights, again.model.weights)
    assert "swap_rate_min" not in plain.history.metrics
    assert not np.array_equal(plain.model.weights, tempered.model.weights)


def test_integer_tempering_builds_a_geometric_ladder():
    trainer = ContrastiveDivergence(persistent=True, tempering=3)
    np.testing.assert_allclose(trainer.tempering, [1.0, np.sqrt(DEFAULT_MAX_TEMPERATURE), DEFAULT_MAX_TEMPERATURE])
    assert ContrastiveDivergence(persistent=True, tempering=np.array([1.0, 2.0])).tempering == (1.0, 2.0)


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        (dict(persistent=False, tempering=[1.0, 2.0]), ValidationError, "persistent=True"),
        (dict(persistent=True, tempering=1), ValidationError, "tempering"),
        (dict(persistent=True, tempering=[1.0]), ValidationError, "at least two"),
        (dict(persistent=True, tempering=[0.5, 2.0]), ValidationError, "start at temperature 1"),
        (dict(persistent=True, tempering=[1.0, 3.0, 2.0]), ValidationError, "strictly increasing"),
        (dict(persistent=True, tempering=[1.0, 1.0]), ValidationError, "strictly increasing"),
        (dict(persistent=True, tempering=[1.0, float("inf")]), ValidationError, "finite"),
        (dict(persistent=True, tempering=[1.0, "2"]), ParameterTypeError, r"tempering\[1\]"),
        (dict(persistent=True, tempering=True), ParameterTypeError, "tempering"),
        (dict(persistent=True, tempering="hot"), ParameterTypeError, "tempering"),
        (dict(persistent=True, tempering=np.ones((2, 2))), ValidationError, "1-d"),
    ],
)
def test_tempering_validation(options, error, match):
    with pytest.raises(error, match=match):
        ContrastiveDivergence(**options)


def test_tempered_pcd_escapes_where_plain_pcd_gets_stuck(bas3):
    """Bars-and-stripes 3 x 3 (14 patterns, optimum -ln 14 = -2.64 nats), 16 hidden, 10 chains, batch 2,
    learning rate 0.1, 600 epochs: plain PCD's chains lag behind the fast-changing model and the exact
    log-likelihood stalls; with 8 temperatures (1 to 10) the same number of updates ends at least 1 nat
    higher, for each of three seeds (measured: PCD -7.83 / -10.05 / -10.84, tempered -3.02 / -3.91 / -3.93;
    before the chains kept their hidden layer between updates, PCD -6.27 / -8.23 / -7.78)."""
    options = dict(persistent=True, epochs=600, batch_size=2, n_chains=10, learning_rate=0.1, momentum=0.5,
                   weight_decay=0.0, averaging=None, monitor=None)
    for seed in range(3):
        plain = ContrastiveDivergence(**options).fit(16, bas3, rng=seed, progress=False)
        tempered = ContrastiveDivergence(**options, tempering=8).fit(16, bas3, rng=seed, progress=False)
        plain_ll = exact.log_likelihood(plain.model, bas3)
        tempered_ll = exact.log_likelihood(tempered.model, bas3)
        assert tempered_ll > plain_ll + 1.0, (seed, plain_ll, tempered_ll)
        assert tempered_ll < -np.log(len(bas3)) + 1e-9  # the bound every model obeys
