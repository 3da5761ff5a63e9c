"""One vocabulary: every public sampler, trainer and inference entry names its options alike.

The signatures are read, not written down twice: a new entry that says ``seed`` or ``n_reads``, or
gives ``max_units`` another default, fails here. The pgmpy, scikit-learn and dimod drop-ins speak
their host's vocabulary (``seed``, ``random_state``, ``num_reads``, ``show_progress``) and are not
read.
"""

from __future__ import annotations

import importlib
import inspect

import numpy as np
import pytest

from pgm_energy._validation import DEFAULT_MAX_UNITS

# Modules whose public entries (``__all__``) are samplers, estimators, inference or trainers.
SAMPLING_MODULES = ["pgm_energy.samplers", "pgm_energy.samplers.belief", "pgm_energy.inference", "pgm_energy.exact",
                    "pgm_energy.ais"]
TRAINING_MODULES = ["pgm_energy.learning"]
MODEL_MODULE = "pgm_energy.models"
# Model methods that hand off to samplers, estimators or trainers (the rest are parameters and energies).
MODEL_HAND_OFFS = {"sample", "gibbs_posterior", "query", "fit", "fine_tune", "fit_greedy", "log_likelihood_bound",
                   "log_marginal_likelihood", "log_probability"}

# The one name for each idea, and the names it replaces.
SYNONYMS = {
    "rng": {"seed", "random_state", "random_seed", "generator"},
    "n_samples": {"n_reads", "num_reads", "num_samples", "size", "n_draws"},
    "progress": {"show_progress", "verbose", "progress_bar"},
    "temperature": {"T", "temp"},
    "evidence": {"observed", "clamped"},
    "max_units": {"max_variables", "max_size"},
}
# Deprecated aliases kept for one release; each warns and names its replacement (tested below).
DEPRECATED = {("SimulatedAnnealingSampler.sample", "n_reads"), ("GibbsInference.__init__", "n_reads")}
# pgmpy's own query signature, kept so that the engines can stand in for VariableElimination.
PGMPY_SIGNATURES = {("ExactInference.query", "show_progress"), ("ExactInference.map_query", "show_progress"),
                    ("GibbsInference.query", "show_progress"), ("GibbsInference.map_query", "show_progress"),
                    ("MeanFieldInference.query", "show_progress"), ("MeanFieldInference.map_query", "show_progress")}

# The defaults every entry shares, by role (None: the option is required where it appears).
SHARED_DEFAULTS = {"rng": None, "progress": True, "max_units": DEFAULT_MAX_UNITS}
ROLE_DEFAULTS = {
    # sampling: how many chains a call runs; the sampled model's own temperature; float64 products,
    # the precision of every other answer of the package
    "sampling": {"n_chains": 4, "temperature": None, "dtype": "float64"},
    # training: persistent chains default to the batch size; float32 products (the gradient's
    # sampling noise is far above float32 rounding, and the products are twice as fast)
    "training": {"n_chains": None, "dtype": "float32"},
}


def _entries():
    """``(label, role, callable)`` for every public entry read here."""
    found = []

    def add(label, role, function):
        try:
            inspect.signature(function)
        except (TypeError, ValueError):
            return
        found.append((label, role, function))

    for role, modules in (("sampling", SAMPLING_MODULES), ("training", TRAINING_MODULES)):
        for module_name in modules:
            module = importlib.import_module(module_name)
            for name in module.__all__:
                obj = getattr(module, name)
                if inspect.isclass(obj):
                    if issubclass(obj, BaseException) or not callable(getattr(obj, "__init__", None)):
                        continue
                    if obj.__module__.startswith("pgm_energy.learning._result") or name.startswith(("Training", "STOP")):
                        continue
                    add(f"{name}.__init__", role, obj.__init__)
                    for method_name, method in vars(obj).items():
                        if not method_name.startswith("_") and inspect.isfunction(method):
                            add(f"{name}.{method_name}", role, method)
                    for base in obj.__mro__[1:]:
                        if base.__module__.startswith("pgm_energy"):
                            for method_name, method in vars(base).items():
                                if not method_name.startswith("_") and inspect.isfunction(method):
                                    add(f"{name}.{method_name}", role, method)
                elif inspect.isfunction(obj):
                    add(name, role, obj)
    models = importlib.import_module(MODEL_MODULE)
    for name in models.__all__:
        cls = getattr(models, name)
        for method_name in sorted(MODEL_HAND_OFFS):  # a set: sorted, so every process collects one order
            method = getattr(cls, method_name, None)
            if method is not None:
                role = "training" if method_name in {"fit", "fine_tune", "fit_greedy"} else "sampling"
                add(f"{name}.{method_name}", role, method)
    return found


ENTRIES = _entries()


def test_the_vocabulary_reads_enough_entries():
    labels = {label for label, _, _ in ENTRIES}
    for expected in ["GibbsSampler.sample", "SimulatedAnnealingSampler.sample", "ParallelTemperingSampler.sample",
                     "ContrastiveDivergence.__init__", "ContrastiveDivergence.fit", "BoltzmannLearning.fit",
                     "ExactInference.query", "GibbsInference.__init__", "log_partition_function", "marginals",
                     "DeepBeliefNetwork.gibbs_posterior", "UpDownFineTuning.fit", "fit_greedy"]:
        assert expected in labels, expected
    assert len(ENTRIES) > 60


@pytest.mark.parametrize("label, role, function", ENTRIES, ids=[label for label, _, _ in ENTRIES])
def test_one_name_per_idea(label, role, function):
    parameters = inspect.signature(function).parameters
    for canonical, others in SYNONYMS.items():
        for other in others & set(parameters):
            if (label, other) in DEPRECATED or (label, other) in PGMPY_SIGNATURES:
                continue
            pytest.fail(f"{label} says {other!r} where the package says {canonical!r}")


@pytest.mark.parametrize("label, role, function", ENTRIES, ids=[label for label, _, _ in ENTRIES])
def test_one_default_per_option(label, role, function):
    defaults = SHARED_DEFAULTS | ROLE_DEFAULTS[role]
    for name, parameter in inspect.signature(function).parameters.items():
        if name not in defaults or parameter.default is inspect.Parameter.empty:
            continue  # a required option (e.g. the evidence of a posterior) has no default to agree on
        if name == "temperature" and label.endswith("__init__"):
            continue  # a model's or ladder's own temperature, not a sampling option
        expected = defaults[name]
        assert parameter.default == expected and type(parameter.default) is type(expected), (
            f"{label}: {name}={parameter.default!r}, the package's default is {expected!r}"
        )


@pytest.mark.parametrize("label, role, function", ENTRIES, ids=[label for label, _, _ in ENTRIES])
def test_options_after_the_data_are_keyword_only(label, role, function):
    for name, parameter in inspect.signature(function).parameters.items():
        if name in {"rng", "progress", "max_units", "dtype", "n_chains"} and (label, name) not in PGMPY_SIGNATURES:
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, f"{label}: {name} is not keyword-only"


def test_every_sampler_that_records_draws_has_progress_and_rng():
    for label, role, function in ENTRIES:
        if label.endswith(".sample") or label.endswith("gibbs_posterior") or label.endswith(".fit"):
            parameters = inspect.signature(function).parameters
            if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
                continue  # a one-line hand-off passing its options through (checked on the target)
            assert "rng" in parameters, label
            if not label.startswith(("SigmoidBeliefNetwork.sample", "ancestral")):  # one vectorised pass
                assert "progress" in parameters, label


@pytest.mark.parametrize("label, alias", sorted(DEPRECATED))
def test_deprecated_aliases_warn_and_name_their_replacement(label, alias):
    from pgm_energy import BoltzmannMachine
    from pgm_energy.inference import GibbsInference
    from pgm_energy.samplers import SimulatedAnnealingSampler

    machine = BoltzmannMachine([[0.0, 1.0], [1.0, 0.0]], [0.0, 0.0])
    calls = {
        ("SimulatedAnnealingSampler.sample", "n_reads"): lambda: SimulatedAnnealingSampler(n_sweeps=5).sample(
            machine, n_reads=2, rng=0),
        ("GibbsInference.__init__", "n_reads"): lambda: GibbsInference(machine, n_reads=2),
    }
    with pytest.warns(DeprecationWarning, match="deprecated"):
        calls[(label, alias)]()


def test_every_sampler_reports_the_same_info_keys():
    from pgm_energy import BoltzmannMachine, RestrictedBoltzmannMachine
    from pgm_energy.samplers import GibbsSampler, ParallelTemperingSampler, SimulatedAnnealingSampler

    machine = BoltzmannMachine([[0.0, 0.5], [0.5, 0.0]], [0.1, -0.2])
    rbm = RestrictedBoltzmannMachine(np.array([[0.3]]), [0.0], [0.1])
    results = [
        GibbsSampler(burn_in=1).sample(machine, 2, rng=0),
        GibbsSampler(burn_in=1).sample(rbm, 2, rng=0),
        SimulatedAnnealingSampler(n_sweeps=3).sample(machine, 2, rng=0),
        ParallelTemperingSampler([1.0, 2.0], burn_in=1).sample(machine, 2, rng=0),
    ]
    common = {"sampler", "scan", "sweeps", "n_threads", "unit_updates", "unit_updates_per_second", "seconds"}
    for result in results:
        assert common <= set(result.info), (result.info["sampler"], common - set(result.info))
        assert {"setup", "sampling", "energies"} <= set(result.info["seconds"])
