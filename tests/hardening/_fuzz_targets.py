"""The public-API fuzzer's registry, junk values, oracle and crash-proof worker.

Used by ``tests/hardening/test_fuzz_api.py`` (small budget, CI) and by
``benchmarks/fuzz_api.py`` (large budget). One module so that both run exactly the
same cases.

* ``REGISTRY`` maps an entry point name to a :class:`Target`: a function building
  VALID arguments (small models, 2-6 units) and the names of the parameters the
  fuzzer may replace. ``covers`` lists the public callables (``module.Qualname``
  or ``module.Class.method``) the entry exercises, so that a meta-test can fail
  when new public API has no entry.
* ``JUNK`` maps a junk kind to a factory ``(valid_value, ctx) -> junk``. A fuzz
  case is plain data, ``(target, ((param, junk_kind), ...))``, so it can be sent
  to a worker subprocess and printed as a one-line reproducer.
* :func:`run_case` calls the entry point and classifies the outcome with the
  oracle of issue 11 (see :func:`classify`).
* :class:`Worker` runs cases in a subprocess (address-space cap, per-call alarm,
  hard timeout from the parent): a segfault or hang is recorded, never fatal.

Run as a script (``python _fuzz_targets.py --worker``) it is the worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import io as _io
import os
import pickle
import pkgutil
import resource
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

#: per-call alarm inside the worker (a Python-level timeout; generous: a cold Numba cache compiles for tens of seconds)
CALL_TIMEOUT = 60
#: the parent kills a worker that has not answered after this long (a kernel that ignores signals)
HARD_TIMEOUT = 120
#: extra address space the worker may map beyond what it holds after its imports
ADDRESS_SPACE_CAP = 4 << 30

UNKNOWN_KEYWORD = "**unknown_keyword"
#: junk kinds that name no existing file (each case runs in a fresh empty folder, so 'junk' names none either):
#: FileNotFoundError is the right answer when the parameter is one the call reads (``Target.inputs``)
MISSING_PATH_KINDS = ("path_missing", "path_missing_dir", "str", "empty_str")


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class Target:
    """One public entry point: how to call it with valid arguments, and what may be fuzzed."""

    name: str
    build: Callable[["Context"], tuple[Callable, dict]]
    params: tuple[str, ...]
    covers: tuple[str, ...]
    aliases: dict = field(default_factory=dict)
    kind: str = "py"  # "py": build returns (callable, kwargs); "cli": build returns a list of (param, tokens)
    #: an exception type the entry raises on every call by design (a method that exists to point elsewhere)
    refuses: type | None = None
    #: a valid call legitimately takes over a second: left out of the CI budget, fuzzed by the large runner
    slow: bool = False
    #: parameters that name a file the call reads: FileNotFoundError is the right answer for a missing one
    inputs: tuple[str, ...] = ()
    #: the result documents NaN as a missing value (a table's column): a NaN is not a wrong answer
    nan_ok: bool = False


REGISTRY: dict[str, Target] = {}


def target(name, params=(), *, covers=None, aliases=None, kind="py", refuses=None, slow=False, inputs=(),
           nan_ok=False):
    """Register the decorated builder as the entry point ``name``."""

    def register(build):
        if name in REGISTRY:
            raise RuntimeError(f"duplicate fuzz target {name}")
        REGISTRY[name] = Target(name, build, tuple(params), tuple(covers or (name,)), dict(aliases or {}), kind, refuses,
                                slow, tuple(inputs), nan_ok)
        return build

    return register


class Context:
    """Per-worker resources: pristine data files, and a fresh working folder for every case.

    Each case runs in its own new folder, which is also the process's current directory
    (:meth:`begin_case`): a relative path among the junk (``'junk'``, ``'-'``) can neither
    write into the repository nor find a file an earlier case left behind. Data files
    are written once per worker into a private folder no call is given, and copied into
    the case's folder on first use, so a case that overwrites one (``sample -o
    nonbinary.csv``) cannot change what later cases read.
    """

    def __init__(self, root: Path | None = None):
        self.base = Path(root or tempfile.mkdtemp(prefix="pgm_fuzz_"))
        self.base.mkdir(parents=True, exist_ok=True)
        self._pristine = self.base / "pristine"
        self._cases = self.base / "cases"
        #: the current case's folder (the base folder between cases)
        self.root = self.base
        self._previous_cwd: str | None = None
        #: ``param -> junk value`` of the case being built (the oracle checks messages against it)
        self.junk: dict[str, Any] = {}

    def begin_case(self) -> Path:
        """Make a fresh folder for one case and move the process into it."""
        self._cases.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="case_", dir=self._cases))
        self._previous_cwd = os.getcwd()
        os.chdir(self.root)
        self.junk = {}
        return self.root

    def end_case(self) -> None:
        """Go back to where the case started and delete its folder (whatever the call wrote there)."""
        folder, self.root = self.root, self.base
        if self._previous_cwd is not None:
            os.chdir(self._previous_cwd)
            self._previous_cwd = None
        if folder != self.base:
            shutil.rmtree(folder, ignore_errors=True)

    def file(self, name: str, writer: Callable[[Path], None]) -> Path:
        """The case's own copy of a data file (models, data), from a pristine copy written once per worker."""
        pristine = self._pristine / name
        if not pristine.exists():
            self._pristine.mkdir(parents=True, exist_ok=True)
            try:
                writer(pristine)
            except BaseException:
                pristine.unlink(missing_ok=True)
                raise
        path = self.root / name
        if not path.exists():
            shutil.copyfile(pristine, path)
        return path

    def out(self, name: str) -> Path:
        """An output path in the case's folder (nothing there yet)."""
        path = self.root / "out" / name
        path.parent.mkdir(exist_ok=True)
        return path


# --------------------------------------------------------------------------- small valid inputs
DATA = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0], [0, 0, 1], [1, 1, 1], [0, 1, 0]], dtype=np.uint8)
DATA4 = np.array([[0, 1, 1, 0], [1, 0, 1, 1], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=np.uint8)


def pe():
    import pgm_energy

    return pgm_energy


def rbm(n_visible=3, n_hidden=2, seed=0):
    return pe().RestrictedBoltzmannMachine.random(n_visible, n_hidden, scale=0.5, rng=seed)


def bm(n=4, seed=0, sparse=False):
    generator = np.random.default_rng(seed)
    weights = generator.normal(0, 0.5, (n, n))
    weights = np.triu(weights, 1)
    weights = weights + weights.T
    if sparse:
        import scipy.sparse as sp

        weights = sp.csr_array(weights)
    visible = np.array([True] * (n - 1) + [False])
    return pe().BoltzmannMachine(weights, generator.normal(0, 0.5, n), visible=visible)


def sbn(seed=0):
    return pe().SigmoidBeliefNetwork.random([3, 2], rng=seed)


def dbn(seed=0):
    return pe().DeepBeliefNetwork.from_rbms([rbm(3, 2, seed), rbm(2, 2, seed + 1)])


def dboltz(seed=0):
    return pe().DeepBoltzmannMachine.random([3, 2, 2], scale=0.5, rng=seed)


def potts(seed=0, cardinalities=(3, 2, 4)):
    generator = np.random.default_rng(seed)
    couplings = {(0, 1): generator.normal(0, 0.5, (cardinalities[0], cardinalities[1])),
                 (1, 2): generator.normal(0, 0.5, (cardinalities[1], cardinalities[2]))}
    return pe().PottsMachine(list(cardinalities), [generator.normal(0, 0.5, k) for k in cardinalities], couplings,
                             state_names={"v0": ["a", "b", "c"][:cardinalities[0]]}, visible=[True, True, False])


def crbm(seed=0):
    return pe().CategoricalRBM.random([3, 2, 4], 2, scale=0.5, rng=seed, state_names={"v0": ["a", "b", "c"]})


def grbm(seed=0):
    return pe().GaussianBernoulliRBM.random(3, 2, scale=0.5, sigma=0.8, rng=seed)


#: real-valued rows for the Gaussian-Bernoulli RBM
REAL = np.array([[0.3, -1.2, 2.0], [1.0, 0.0, -0.5]])


def saved(ctx: Context, kind: str) -> Path:
    models = {"rbm": rbm, "bm": bm, "sbn": sbn, "dbn": dbn, "potts": potts, "crbm": crbm, "grbm": grbm}
    return ctx.file(f"{kind}.npz", lambda path: pe().save(models[kind](), path))


def data_file(ctx: Context, suffix: str) -> Path:
    def write(path):
        if suffix == ".npy":
            np.save(path, DATA)
        else:
            path.write_text("v0,v1,v2\n" + "\n".join(",".join(map(str, row)) for row in DATA) + "\n")

    return ctx.file("data" + suffix, write)


def markov_network():
    return bm().to_markov_network()


def bayesian_network():
    return sbn().to_bayesian_network()


def sample_set():
    return rbm().sample(4, n_chains=2, burn_in=2, rng=0)


def history():
    learning = importlib.import_module("pgm_energy.learning")
    return learning.TrainingHistory([{"epoch": 1.0, "log_likelihood": -2.0}, {"epoch": 2.0, "log_likelihood": -1.5}])


# --------------------------------------------------------------------------- entries: models
MODEL_ALIASES = {"model": ("model", "rbm", "machine", "network", "sbn", "dbn")}


@target("pgm_energy.models.boltzmann.BoltzmannMachine",
        ["weights", "biases", "visible", "names", "temperature", "offset"])
def _bm_new(ctx):
    model = bm()
    return pe().BoltzmannMachine, dict(weights=np.array(model.weights), biases=np.array(model.biases),
                                       visible=np.array(model.visible), names=list(model.names),
                                       temperature=1.0, offset=0.0)


@target("BoltzmannMachine(sparse)", ["weights", "biases"], covers=())
def _bm_new_sparse(ctx):
    model = bm(sparse=True)
    return pe().BoltzmannMachine, dict(weights=model.weights, biases=np.array(model.biases))


@target("pgm_energy.models.boltzmann.BoltzmannMachine.from_ising",
        ["h", "J", "offset", "visible", "names", "temperature"])
def _bm_from_ising(ctx):
    ising = bm().to_ising()
    return pe().BoltzmannMachine.from_ising, dict(h=np.array(ising.h), J=np.array(ising.J), offset=ising.offset,
                                                  visible=None, names=None, temperature=1.0)


@target("pgm_energy.models.boltzmann.BoltzmannMachine.hebbian", ["patterns", "names", "temperature"])
def _bm_hebbian(ctx):
    return pe().BoltzmannMachine.hebbian, dict(patterns=DATA4.copy(), names=None, temperature=1.0)


@target("pgm_energy.models.boltzmann.BoltzmannMachine.from_networkx", ["graph", "nodes"])
def _bm_from_networkx(ctx):
    return pe().BoltzmannMachine.from_networkx, dict(graph=bm().graph, nodes=None)


@target("pgm_energy.models.boltzmann.BoltzmannMachine.from_markov_network", ["markov_network"])
def _bm_from_mn(ctx):
    return pe().BoltzmannMachine.from_markov_network, dict(markov_network=markov_network())


def _states(model, rows=3, seed=0):
    return np.random.default_rng(seed).integers(0, 2, (rows, model.n_units)).astype(np.uint8)


for _method in ("energy", "local_fields", "unnormalized_log_probability", "conditional_probabilities"):
    def _bm_states_method(ctx, _method=_method):
        model = bm()
        return getattr(model, _method), dict(states=_states(model))

    target(f"pgm_energy.models.boltzmann.BoltzmannMachine.{_method}", ["states"])(_bm_states_method)

    def _bm_sparse_states_method(ctx, _method=_method):
        model = bm(sparse=True)
        return getattr(model, _method), dict(states=_states(model))

    target(f"BoltzmannMachine(sparse).{_method}", ["states"], covers=())(_bm_sparse_states_method)


@target("pgm_energy.models.boltzmann.BoltzmannMachine.with_temperature", ["temperature"])
def _bm_with_t(ctx):
    return bm().with_temperature, dict(temperature=2.0)


@target("pgm_energy.models.boltzmann.BoltzmannMachine.dense_weights")
def _bm_dense(ctx):
    return bm(sparse=True).dense_weights, {}


@target("pgm_energy.models.boltzmann.BoltzmannMachine.to_ising")
def _bm_to_ising(ctx):
    return bm().to_ising, {}


@target("pgm_energy.models.boltzmann.BoltzmannMachine.fit", ["data", "trainer", "visible", "rng", "progress"])
def _bm_fit(ctx):
    learning = importlib.import_module("pgm_energy.learning")
    trainer = learning.BoltzmannLearning(epochs=1, batch_size=2, burn_in=1, monitor=())
    return bm().fit, dict(data=DATA.copy(), trainer=trainer, visible=None, rng=0, progress=False)


@target("pgm_energy.models.potts.PottsMachine",
        ["cardinalities", "fields", "couplings", "names", "state_names", "visible", "temperature", "offset"])
def _potts_new(ctx):
    model = potts()
    return pe().PottsMachine, dict(cardinalities=list(model.cardinalities), fields=[np.array(f) for f in model.fields],
                                   couplings={edge: np.array(c) for edge, c in model.couplings.items()},
                                   names=list(model.names), state_names=model.state_names,
                                   visible=np.array(model.visible), temperature=1.0, offset=0.0)


def _potts_states(model, rows=3, seed=0):
    generator = np.random.default_rng(seed)
    return np.stack([generator.integers(0, k, rows) for k in model.cardinalities], axis=1)


for _method in ("energy", "local_fields", "unnormalized_log_probability", "conditional_probabilities"):
    def _potts_states_method(ctx, _method=_method):
        model = potts()
        return getattr(model, _method), dict(states=_potts_states(model))

    target(f"pgm_energy.models.potts.PottsMachine.{_method}", ["states"])(_potts_states_method)


@target("pgm_energy.models.potts.PottsMachine.coupling", ["a", "b"])
def _potts_coupling(ctx):
    return potts().coupling, dict(a="v0", b=1)


@target("pgm_energy.models.potts.PottsMachine.state_index", ["variable", "state"])
def _potts_state_index(ctx):
    return potts().state_index, dict(variable="v0", state="b")


@target("pgm_energy.models.potts.PottsMachine.with_temperature", ["temperature"])
def _potts_with_t(ctx):
    return potts().with_temperature, dict(temperature=2.0)


@target("pgm_energy.models.potts.PottsMachine.to_boltzmann_machine")
def _potts_to_bm(ctx):
    return potts(cardinalities=(2, 2, 2)).to_boltzmann_machine, {}


@target("pgm_energy.models.potts.PottsMachine.from_boltzmann_machine", ["machine"], aliases=MODEL_ALIASES)
def _potts_from_bm(ctx):
    return pe().PottsMachine.from_boltzmann_machine, dict(machine=bm())


@target("pgm_energy.models.potts.PottsMachine.from_markov_network", ["markov_network"],
        covers=("pgm_energy.models.potts.PottsMachine.from_markov_network",
                "pgm_energy.interop.pgmpy_potts.from_markov_network"))
def _potts_from_mn(ctx):
    return pe().PottsMachine.from_markov_network, dict(markov_network=potts().to_markov_network())


@target("pgm_energy.interop.pgmpy_potts.to_markov_network", ["model"], aliases=MODEL_ALIASES)
def _potts_to_mn(ctx):
    return importlib.import_module("pgm_energy.interop.pgmpy_potts").to_markov_network, dict(model=potts())


@target("ExactInference(Potts).map_query", ["variables", "evidence"], covers=())
def _potts_map_query(ctx):
    return _inference().ExactInference(potts()).map_query, dict(variables=["v0", "h0"], evidence={"v1": 1})


@target("GibbsInference(Potts).query", ["variables", "evidence", "joint"], covers=())
def _potts_gibbs_query(ctx):
    return _inference().GibbsInference(potts(), n_samples=20, rng=0).query, dict(variables=["v0", "h0"],
                                                                                   evidence={"v1": 1}, joint=True)


@target("GibbsSampler.sample(CategoricalRBM)", ["n_samples", "n_chains", "evidence", "rng"], covers=(),
        aliases=MODEL_ALIASES)
def _gibbs_crbm(ctx):
    def call(n_samples, n_chains, evidence, rng):
        return _samplers().GibbsSampler(burn_in=2).sample(crbm(), n_samples, n_chains=n_chains, evidence=evidence,
                                                          rng=rng, progress=False)

    return call, dict(n_samples=4, n_chains=2, evidence={"v0": "b", "h1": 1}, rng=0)


@target("exact.query(Potts)", ["model", "variables", "evidence", "joint", "max_units"], covers=(),
        aliases=MODEL_ALIASES)
def _exact_query_potts(ctx):
    return _exact("query"), dict(model=potts(), variables=["h0", "v0"], evidence={"v1": 1}, joint=True, max_units=30)


@target("exact.marginals(Potts)", ["model", "evidence", "max_units"], covers=(), aliases=MODEL_ALIASES)
def _exact_marginals_potts(ctx):
    return _exact("marginals"), dict(model=potts(), evidence={"v0": "c"}, max_units=30)


@target("exact.log_likelihood(Potts)", ["model", "data", "max_units"], covers=(), aliases=MODEL_ALIASES)
def _exact_ll_potts(ctx):
    return _exact("log_likelihood"), dict(model=potts(), data=np.array([[0, 1], [2, 0]]), max_units=30)


@target("pgm_energy.models.categorical_rbm.CategoricalRBM",
        ["weights", "visible_bias", "hidden_bias", "cardinalities", "visible_names", "hidden_names", "state_names",
         "temperature"])
def _crbm_new(ctx):
    model = crbm()
    return pe().CategoricalRBM, dict(weights=np.array(model.weights), visible_bias=np.array(model.visible_bias),
                                     hidden_bias=np.array(model.hidden_bias), cardinalities=list(model.cardinalities),
                                     visible_names=None, hidden_names=None, state_names={"v0": ["a", "b", "c"]},
                                     temperature=1.0)


@target("pgm_energy.models.categorical_rbm.CategoricalRBM.random", ["cardinalities", "n_hidden", "scale", "rng"])
def _crbm_random(ctx):
    return pe().CategoricalRBM.random, dict(cardinalities=[3, 2], n_hidden=2, scale=0.1, rng=0)


_CRBM_VISIBLE = np.array([[0, 1, 3], [2, 0, 0]])
_HIDDEN2 = np.array([[0, 1], [1, 1]], dtype=np.uint8)

for _method, _params in (("energy", ["visible", "hidden"]), ("unnormalized_log_probability", ["visible", "hidden"]),
                         ("free_energy", ["visible"]), ("one_hot", ["visible"]), ("hidden_probabilities", ["visible"]),
                         ("visible_probabilities", ["hidden"])):
    def _crbm_method(ctx, _method=_method, _params=tuple(_params)):
        values = {"visible": _CRBM_VISIBLE.copy(), "hidden": _HIDDEN2.copy()}
        return getattr(crbm(), _method), {name: values[name] for name in _params}

    target(f"pgm_energy.models.categorical_rbm.CategoricalRBM.{_method}", _params)(_crbm_method)


@target("pgm_energy.models.categorical_rbm.CategoricalRBM.state_index", ["variable", "state"])
def _crbm_state_index(ctx):
    return crbm().state_index, dict(variable="v0", state="c")


@target("pgm_energy.models.categorical_rbm.CategoricalRBM.with_temperature", ["temperature"])
def _crbm_with_t(ctx):
    return crbm().with_temperature, dict(temperature=2.0)


@target("pgm_energy.models.categorical_rbm.CategoricalRBM.to_potts_machine")
def _crbm_to_potts(ctx):
    return crbm().to_potts_machine, {}


@target("pgm_energy.models.gaussian_rbm.GaussianBernoulliRBM",
        ["weights", "visible_bias", "hidden_bias", "sigma", "visible_names", "hidden_names", "temperature"])
def _grbm_new(ctx):
    model = grbm()
    return pe().GaussianBernoulliRBM, dict(weights=np.array(model.weights), visible_bias=np.array(model.visible_bias),
                                           hidden_bias=np.array(model.hidden_bias), sigma=np.array(model.sigma),
                                           visible_names=None, hidden_names=None, temperature=1.0)


@target("pgm_energy.models.gaussian_rbm.GaussianBernoulliRBM.random", ["n_visible", "n_hidden", "scale", "sigma", "rng"])
def _grbm_random(ctx):
    return pe().GaussianBernoulliRBM.random, dict(n_visible=3, n_hidden=2, scale=0.1, sigma=1.0, rng=0)


for _method, _params in (("energy", ["visible", "hidden"]), ("unnormalized_log_probability", ["visible", "hidden"]),
                         ("free_energy", ["visible"]), ("hidden_probabilities", ["visible"]),
                         ("visible_mean", ["hidden"])):
    def _grbm_method(ctx, _method=_method, _params=tuple(_params)):
        values = {"visible": REAL.copy(), "hidden": _HIDDEN2.copy()}
        return getattr(grbm(), _method), {name: values[name] for name in _params}

    target(f"pgm_energy.models.gaussian_rbm.GaussianBernoulliRBM.{_method}", _params)(_grbm_method)


@target("pgm_energy.models.gaussian_rbm.GaussianBernoulliRBM.with_temperature", ["temperature"])
def _grbm_with_t(ctx):
    return grbm().with_temperature, dict(temperature=2.0)


@target("pgm_energy.models.gaussian_rbm.GaussianBernoulliRBM.to_markov_network",
        refuses=importlib.import_module("pgm_energy.exceptions").ConversionError)
def _grbm_to_mn(ctx):
    return grbm().to_markov_network, {}


for _label, _factory, _evidence in (("CategoricalRBM", crbm, {"v0": "c", "h1": 1}),
                                    ("GaussianBernoulliRBM", grbm, {"v0": 0.5, "h1": 1})):
    def _exact_logz_other(ctx, _factory=_factory, _evidence=_evidence):
        return _exact("log_partition_function"), dict(model=_factory(), evidence=dict(_evidence), max_units=30)

    def _exact_marginals_other(ctx, _factory=_factory, _evidence=_evidence):
        return _exact("marginals"), dict(model=_factory(), evidence=dict(_evidence), max_units=30)

    def _exact_entropy_other(ctx, _factory=_factory):
        return _exact("entropy"), dict(model=_factory(), max_units=30)

    target(f"exact.log_partition_function({_label})", ["model", "evidence", "max_units"], covers=(),
           aliases=MODEL_ALIASES)(_exact_logz_other)
    target(f"exact.marginals({_label})", ["model", "evidence", "max_units"], covers=(),
           aliases=MODEL_ALIASES)(_exact_marginals_other)
    target(f"exact.entropy({_label})", ["model", "max_units"], covers=(), aliases=MODEL_ALIASES)(_exact_entropy_other)


@target("exact.query(CategoricalRBM)", ["model", "variables", "evidence", "joint", "max_units"], covers=(),
        aliases=MODEL_ALIASES)
def _exact_query_crbm(ctx):
    return _exact("query"), dict(model=crbm(), variables=["h0", "v2"], evidence=None, joint=True, max_units=30)


@target("exact.log_likelihood(CategoricalRBM)", ["model", "data", "max_units"], covers=(), aliases=MODEL_ALIASES)
def _exact_ll_crbm(ctx):
    return _exact("log_likelihood"), dict(model=crbm(), data=_CRBM_VISIBLE.copy(), max_units=30)


@target("exact.query(GaussianBernoulliRBM)", ["model", "variables", "evidence", "joint", "max_units"], covers=(),
        aliases=MODEL_ALIASES)
def _exact_query_grbm(ctx):
    return _exact("query"), dict(model=grbm(), variables=["h0", "h1"], evidence={"v2": -0.3}, joint=True, max_units=30)


@target("exact.log_likelihood(GaussianBernoulliRBM)", ["model", "data", "max_units"], covers=(), aliases=MODEL_ALIASES)
def _exact_ll_grbm(ctx):
    return _exact("log_likelihood"), dict(model=grbm(), data=REAL.copy(), max_units=30)


@target("pgm_energy.models.rbm.RestrictedBoltzmannMachine",
        ["weights", "visible_bias", "hidden_bias", "visible_names", "hidden_names", "temperature"])
def _rbm_new(ctx):
    model = rbm()
    return pe().RestrictedBoltzmannMachine, dict(weights=np.array(model.weights),
                                                 visible_bias=np.array(model.visible_bias),
                                                 hidden_bias=np.array(model.hidden_bias),
                                                 visible_names=None, hidden_names=None, temperature=1.0)


@target("pgm_energy.models.rbm.RestrictedBoltzmannMachine.random", ["n_visible", "n_hidden", "scale", "rng"])
def _rbm_random(ctx):
    return pe().RestrictedBoltzmannMachine.random, dict(n_visible=3, n_hidden=2, scale=0.1, rng=0)


@target("pgm_energy.models.rbm.RestrictedBoltzmannMachine.energy", ["visible", "hidden"])
def _rbm_energy(ctx):
    return rbm().energy, dict(visible=DATA[:3].copy(), hidden=np.array([[0, 1], [1, 1], [0, 0]], np.uint8))


@target("pgm_energy.models.rbm.RestrictedBoltzmannMachine.unnormalized_log_probability", ["visible", "hidden"])
def _rbm_ulp(ctx):
    return rbm().unnormalized_log_probability, dict(visible=DATA[:3].copy(),
                                                    hidden=np.array([[0, 1], [1, 1], [0, 0]], np.uint8))


@target("pgm_energy.models.rbm.RestrictedBoltzmannMachine.hidden_probabilities", ["visible"])
def _rbm_hp(ctx):
    return rbm().hidden_probabilities, dict(visible=DATA.copy())


@target("pgm_energy.models.rbm.RestrictedBoltzmannMachine.visible_probabilities", ["hidden"])
def _rbm_vp(ctx):
    return rbm().visible_probabilities, dict(hidden=np.array([[0, 1], [1, 0]], np.uint8))


@target("pgm_energy.models.rbm.RestrictedBoltzmannMachine.free_energy", ["visible"])
def _rbm_fe(ctx):
    return rbm().free_energy, dict(visible=DATA.copy())


@target("pgm_energy.models.rbm.RestrictedBoltzmannMachine.with_temperature", ["temperature"])
def _rbm_with_t(ctx):
    return rbm().with_temperature, dict(temperature=0.5)


@target("pgm_energy.models.rbm.RestrictedBoltzmannMachine.to_boltzmann_machine")
def _rbm_to_bm(ctx):
    return rbm().to_boltzmann_machine, {}


@target("pgm_energy.models.rbm.RestrictedBoltzmannMachine.fit", ["data", "trainer", "validation", "rng", "progress"])
def _rbm_fit(ctx):
    trainer = _learning().ContrastiveDivergence(epochs=1, batch_size=2, monitor=())
    return rbm().fit, dict(data=DATA.copy(), trainer=trainer, validation=None, progress=False, rng=0)


@target("pgm_energy.models.sigmoid_belief.SigmoidBeliefNetwork", ["weights", "biases", "names", "temperature"])
def _sbn_new(ctx):
    model = sbn()
    return pe().SigmoidBeliefNetwork, dict(weights=[np.array(w) for w in model.weights],
                                           biases=[np.array(b) for b in model.biases], names=None, temperature=1.0)


@target("pgm_energy.models.sigmoid_belief.SigmoidBeliefNetwork.random", ["layer_sizes", "scale", "rng"])
def _sbn_random(ctx):
    return pe().SigmoidBeliefNetwork.random, dict(layer_sizes=[3, 2], scale=1.0, rng=0)


for _method in ("parents", "conditional_table", "layer_of", "index"):
    def _sbn_name_method(ctx, _method=_method):
        return getattr(sbn(), _method), dict(name="v1")

    target(f"pgm_energy.models.sigmoid_belief.SigmoidBeliefNetwork.{_method}", ["name"])(_sbn_name_method)


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork.layer_of", ["name"])
def _dbn_layer_of(ctx):
    return dbn().layer_of, dict(name="h1_0")


@target("pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine", ["weights", "biases", "names", "temperature"])
def _dboltz_new(ctx):
    model = dboltz()
    return pe().DeepBoltzmannMachine, dict(weights=[np.array(w) for w in model.weights],
                                           biases=[np.array(b) for b in model.biases], names=None, temperature=1.0)


@target("pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine.random", ["layer_sizes", "scale", "rng"])
def _dboltz_random(ctx):
    return pe().DeepBoltzmannMachine.random, dict(layer_sizes=[3, 2, 2], scale=1.0, rng=0)


@target("pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine.layer_of", ["name"])
def _dboltz_layer_of(ctx):
    return dboltz().layer_of, dict(name="h1_0")


@target("pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine.with_temperature", ["temperature"])
def _dboltz_with_t(ctx):
    return dboltz().with_temperature, dict(temperature=2.0)


for _method in ("energy", "unnormalized_log_probability"):
    def _dboltz_states_method(ctx, _method=_method):
        model = dboltz()
        return getattr(model, _method), dict(states=_states(model))

    target(f"pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine.{_method}", ["states"])(_dboltz_states_method)


@target("pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine.layer_probabilities", ["states", "layer"])
def _dboltz_layer_probabilities(ctx):
    model = dboltz()
    return model.layer_probabilities, dict(states=_states(model), layer=1)


for _method in ("to_boltzmann_machine", "to_bipartite_rbm"):
    def _dboltz_plain_method(ctx, _method=_method):
        return getattr(dboltz(), _method), {}

    target(f"pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine.{_method}")(_dboltz_plain_method)


@target("pgm_energy.models.sigmoid_belief.SigmoidBeliefNetwork.with_temperature", ["temperature"])
def _sbn_with_t(ctx):
    return sbn().with_temperature, dict(temperature=2.0)


for _method in ("log_probability", "conditional_probabilities"):
    def _sbn_states_method(ctx, _method=_method):
        model = sbn()
        return getattr(model, _method), dict(states=_states(model))

    target(f"pgm_energy.models.sigmoid_belief.SigmoidBeliefNetwork.{_method}", ["states"])(_sbn_states_method)


@target("pgm_energy.models.sigmoid_belief.SigmoidBeliefNetwork.sample", ["n_samples", "rng"])
def _sbn_sample(ctx):
    return sbn().sample, dict(n_samples=5, rng=0)


@target("pgm_energy.models.sigmoid_belief.SigmoidBeliefNetwork.gibbs_posterior",
        ["evidence", "n_samples", "n_chains", "burn_in", "thin", "rng"])
def _sbn_gibbs_posterior(ctx):
    return sbn().gibbs_posterior, dict(evidence={"v0": 1}, n_samples=5, n_chains=2, burn_in=3, thin=1, rng=0)


@target("pgm_energy.models.sigmoid_belief.SigmoidBeliefNetwork.query", ["variables", "evidence", "joint", "max_units"])
def _sbn_query(ctx):
    return sbn().query, dict(variables=["h1_0"], evidence={"v0": 1}, joint=True, max_units=20)


@target("pgm_energy.models.sigmoid_belief.SigmoidBeliefNetwork.log_marginal_likelihood", ["visible", "max_units"])
def _sbn_lml(ctx):
    return sbn().log_marginal_likelihood, dict(visible=DATA.copy(), max_units=20)


@target("pgm_energy.models.sigmoid_belief.SigmoidBeliefNetwork.to_bayesian_network")
def _sbn_to_bn(ctx):
    return sbn().to_bayesian_network, {}


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork",
        ["weights", "biases", "recognition_weights", "recognition_biases", "names"])
def _dbn_new(ctx):
    model = dbn()
    return pe().DeepBeliefNetwork, dict(weights=[np.array(w) for w in model.weights],
                                        biases=[np.array(b) for b in model.biases],
                                        recognition_weights=None, recognition_biases=None, names=None)


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork.from_rbms", ["rbms", "names"])
def _dbn_from_rbms(ctx):
    return pe().DeepBeliefNetwork.from_rbms, dict(rbms=[rbm(3, 2, 0), rbm(2, 2, 1)], names=None)


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork.fit_greedy", ["data", "layer_sizes", "trainer", "rng"])
def _dbn_fit_greedy(ctx):
    learning = importlib.import_module("pgm_energy.learning")
    trainer = learning.ContrastiveDivergence(epochs=1, batch_size=2, monitor=())
    return pe().DeepBeliefNetwork.fit_greedy, dict(data=DATA.copy(), layer_sizes=[2, 2], trainer=trainer, rng=0,
                                                   progress=False)


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork.directed_part", ["prior"])
def _dbn_directed(ctx):
    return dbn().directed_part, dict(prior=None)


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork.to_bayesian_network", ["prior"])
def _dbn_to_bn(ctx):
    return dbn().to_bayesian_network, dict(prior=None)


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork.unnormalized_log_probability", ["states"])
def _dbn_ulp(ctx):
    model = dbn()
    return model.unnormalized_log_probability, dict(states=_states(model))


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork.log_probability", ["states", "max_units"])
def _dbn_lp(ctx):
    model = dbn()
    return model.log_probability, dict(states=_states(model), max_units=30)


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork.log_marginal_likelihood", ["visible", "max_units"])
def _dbn_lml(ctx):
    return dbn().log_marginal_likelihood, dict(visible=DATA.copy(), max_units=20)


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork.transform", ["data", "layer"])
def _dbn_transform(ctx):
    return dbn().transform, dict(data=DATA.copy(), layer=None)


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork.sample", ["n_samples", "burn_in", "rng"])
def _dbn_sample(ctx):
    return dbn().sample, dict(n_samples=4, burn_in=3, rng=0)


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork.gibbs_posterior",
        ["evidence", "n_samples", "n_chains", "burn_in", "thin", "rng"])
def _dbn_gibbs_posterior(ctx):
    return dbn().gibbs_posterior, dict(evidence={"v0": 1}, n_samples=4, n_chains=2, burn_in=3, thin=1, rng=0)


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork.query",
        ["variables", "evidence", "joint", "method", "max_units", "n_samples", "n_chains", "burn_in", "rng"])
def _dbn_query(ctx):
    return dbn().query, dict(variables=["h1_0"], evidence={"v0": 1}, joint=True, method="exact", max_units=20,
                             n_samples=20, n_chains=2, burn_in=3, rng=0)


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork.fine_tune",
        ["data", "epochs", "learning_rate", "k", "batch_size", "weight_decay", "rng"])
def _dbn_fine_tune(ctx):
    return dbn().fine_tune, dict(data=DATA.copy(), epochs=1, learning_rate=0.01, k=1, batch_size=2,
                                 weight_decay=0.0, rng=0)


@target("pgm_energy.models.deep_belief.DeepBeliefNetwork.log_likelihood_bound",
        ["data", "n_samples", "log_z", "n_runs", "betas", "max_units", "rng"])
def _dbn_llb(ctx):
    return dbn().log_likelihood_bound, dict(data=DATA.copy(), n_samples=2, log_z=None, n_runs=4, betas=None,
                                            max_units=20, rng=0)


@target("pgm_energy.models._deep_belief_parts.HybridGraph.moral_graph")
def _dbn_moral(ctx):
    return dbn().hybrid_graph.moral_graph, {}


# Methods every model inherits (EnergyModel / LayeredModel): one entry per concrete class.
_MODEL_FACTORIES = {
    "pgm_energy.models.boltzmann.BoltzmannMachine": bm,
    "pgm_energy.models.rbm.RestrictedBoltzmannMachine": rbm,
    "pgm_energy.models.sigmoid_belief.SigmoidBeliefNetwork": sbn,
    "pgm_energy.models.deep_belief.DeepBeliefNetwork": dbn,
    "pgm_energy.models.potts.PottsMachine": potts,
    "pgm_energy.models.categorical_rbm.CategoricalRBM": crbm,
    "pgm_energy.models.gaussian_rbm.GaussianBernoulliRBM": grbm,
    "pgm_energy.models.deep_boltzmann.DeepBoltzmannMachine": dboltz,
}

for _cls, _factory in _MODEL_FACTORIES.items():
    def _index(ctx, _factory=_factory):
        return _factory().index, dict(name="v0")

    if "sigmoid_belief" not in _cls:
        target(f"{_cls}.index", ["name"])(_index)

    def _save(ctx, _factory=_factory):
        return _factory().save, dict(path=ctx.out("model.npz"))

    target(f"{_cls}.save", ["path"])(_save)

    def _to_mn(ctx, _factory=_factory):
        return _factory().to_markov_network, {}

    if _factory is not grbm:  # real-valued units have no pgmpy network: its own entry checks the refusal
        target(f"{_cls}.to_markov_network")(_to_mn)

    def _predict(ctx, _factory=_factory, _method="predict"):
        import pandas as pd

        model = _factory()
        frame = pd.DataFrame(DATA[:3, :2], columns=list(model.names[:2]))
        return getattr(model, _method), dict(data=frame)

    if _factory in (bm, rbm):  # layered models and Potts machines have no predict
        target(f"{_cls}.predict", ["data"])(_predict)
        target(f"{_cls}.predict_probability", ["data"])(
            lambda ctx, _predict=_predict: _predict(ctx, _method="predict_probability"))

    def _properties(ctx, _factory=_factory):
        model = _factory()

        def read_all():
            names = sorted(n for n, v in inspect.getmembers(type(model)) if isinstance(v, property) and n[0] != "_")
            return {name: getattr(model, name) for name in names}

        return read_all, {}

    target(f"{_cls}.<properties>", covers=())(_properties)

for _cls, _factory in (("pgm_energy.models.boltzmann.BoltzmannMachine", bm),
                       ("pgm_energy.models.rbm.RestrictedBoltzmannMachine", rbm)):
    def _sample(ctx, _factory=_factory):
        return _factory().sample, dict(n_samples=4, n_chains=2, burn_in=3, thin=1, scan="sequential",
                                       evidence=None, initial_states=None, temperature=None, rng=0, keep="all")

    target(f"{_cls}.sample", ["n_samples", "n_chains", "burn_in", "thin", "scan", "evidence", "initial_states",
                              "temperature", "rng", "keep", "dtype"])(_sample)


# --------------------------------------------------------------------------- io
@target("pgm_energy.io.save", ["model", "path"])
def _save_fn(ctx):
    return pe().save, dict(model=rbm(), path=ctx.out("saved.npz"))


@target("pgm_energy.io.load", ["path"], inputs=["path"])
def _load_fn(ctx):
    return pe().load, dict(path=saved(ctx, "rbm"))


@target("pgm_energy.io.read_npz", ["path", "what"], aliases={"what": ("",)}, inputs=["path"])  # what= labels messages
def _read_npz(ctx):
    io_module = importlib.import_module("pgm_energy.io")
    return io_module.read_npz, dict(path=saved(ctx, "bm"), what="model file")


@target("pgm_energy.io.resolve_output_path", ["path", "name"], aliases={"name": ("",)})  # name= labels messages
def _resolve_output_path(ctx):
    io_module = importlib.import_module("pgm_energy.io")
    return io_module.resolve_output_path, dict(path=ctx.out("resolved.npz"), name="path")


@target("pgm_energy.io.atomic_write", ["path", "write", "name"], aliases={"name": ("",)})  # name= labels messages
def _atomic_write(ctx):
    io_module = importlib.import_module("pgm_energy.io")
    return io_module.atomic_write, dict(path=ctx.out("written.bin"), write=lambda handle: handle.write(b"ok"),
                                        name="path")


@target("pgm_energy.io.atomic_savez", ["path", "arrays"])
def _atomic_savez(ctx):
    io_module = importlib.import_module("pgm_energy.io")
    return io_module.atomic_savez, dict(path=ctx.out("arrays.npz"), arrays={"a": np.arange(3)})


# --------------------------------------------------------------------------- exact
def _exact(name):
    return getattr(importlib.import_module("pgm_energy.exact"), name)


for _name in ("log_partition_function", "marginals"):
    def _exact_model_evidence(ctx, _name=_name):
        return _exact(_name), dict(model=rbm(), evidence={"v0": 1}, max_units=30)

    target(f"pgm_energy.exact.{_name}", ["model", "evidence", "max_units"], aliases=MODEL_ALIASES)(
        _exact_model_evidence)

for _name in ("mean_energy", "entropy", "helmholtz_free_energy"):
    def _exact_model(ctx, _name=_name):
        return _exact(_name), dict(model=bm(), max_units=30)

    target(f"pgm_energy.exact.{_name}", ["model", "max_units"], aliases=MODEL_ALIASES)(_exact_model)


@target("pgm_energy.exact.query", ["model", "variables", "evidence", "joint", "max_units"], aliases=MODEL_ALIASES)
def _exact_query(ctx):
    return _exact("query"), dict(model=bm(), variables=["v0", "v1"], evidence={"v2": 0}, joint=True, max_units=30)


@target("pgm_energy.exact.log_likelihood", ["model", "data", "max_units"], aliases=MODEL_ALIASES)
def _exact_ll(ctx):
    return _exact("log_likelihood"), dict(model=rbm(), data=DATA.copy(), max_units=30)


@target("pgm_energy.exact.log_probability", ["model", "states", "max_units"], aliases=MODEL_ALIASES)
def _exact_lp(ctx):
    model = bm()
    return _exact("log_probability"), dict(model=model, states=_states(model), max_units=30)


# --------------------------------------------------------------------------- ais
def _ais(name):
    return getattr(importlib.import_module("pgm_energy.ais"), name)


for _label, _factory, _rows in (("CategoricalRBM", crbm, lambda: np.array([[2, 0, 3], [0, 1, 1]])),
                                ("GaussianBernoulliRBM", grbm, lambda: REAL.copy())):
    def _ais_logz_other(ctx, _factory=_factory, _rows=_rows):
        return _ais("log_partition_function"), dict(rbm=_factory(), n_runs=4, betas=np.linspace(0, 1, 20),
                                                    base="data", data=_rows(), rng=0)

    def _ais_ll_other(ctx, _factory=_factory, _rows=_rows):
        return _ais("estimate_log_likelihood"), dict(rbm=_factory(), data=_rows(), n_runs=4,
                                                     betas=np.linspace(0, 1, 20), base="data", rng=0)

    target(f"ais.log_partition_function({_label})", ["rbm", "n_runs", "betas", "base", "data", "rng"],
           covers=(), aliases={"rbm": ("rbm", "model")})(_ais_logz_other)
    target(f"ais.estimate_log_likelihood({_label})", ["rbm", "data", "n_runs", "betas", "base", "rng"],
           covers=(), aliases={"rbm": ("rbm", "model")})(_ais_ll_other)


@target("pgm_energy.ais.log_partition_function", ["rbm", "n_runs", "betas", "base", "data", "rng", "client"],
        aliases={"rbm": ("rbm", "model")})
def _ais_logz(ctx):
    return _ais("log_partition_function"), dict(rbm=rbm(), n_runs=4, betas=np.linspace(0, 1, 20), base="data",
                                                data=DATA.copy(), rng=0, client=None)


@target("pgm_energy.ais.estimate_log_likelihood", ["rbm", "data", "n_runs", "betas", "base", "rng", "client"],
        aliases={"rbm": ("rbm", "model")})
def _ais_ll(ctx):
    return _ais("estimate_log_likelihood"), dict(rbm=rbm(), data=DATA.copy(), n_runs=4,
                                                 betas=np.linspace(0, 1, 20), base="data", rng=0, client=None)


@target("pgm_energy.ais.base_visible_bias", ["data"])
def _ais_base(ctx):
    return _ais("base_visible_bias"), dict(data=DATA.copy())


# --------------------------------------------------------------------------- samplers
def _samplers():
    return importlib.import_module("pgm_energy.samplers")


@target("pgm_energy.samplers.gibbs.GibbsSampler", ["burn_in", "thin", "scan", "dtype"])
def _gibbs_new(ctx):
    return _samplers().GibbsSampler, dict(burn_in=3, thin=1, scan="sequential", dtype="float64")


@target("pgm_energy.samplers.gibbs.GibbsSampler.sample",
        ["model", "n_samples", "n_chains", "evidence", "initial_states", "temperature", "rng", "progress", "keep",
         "client"],
        aliases=MODEL_ALIASES)
def _gibbs_sample(ctx):
    model = bm()
    return _samplers().GibbsSampler(burn_in=3).sample, dict(
        model=model, n_samples=4, n_chains=2, evidence={"v0": 1}, initial_states=_states(model, 2),
        temperature=None, rng=0, progress=False, keep="all", client=None)


@target("GibbsSampler(chromatic,sparse).sample", ["model", "n_samples", "evidence", "initial_states", "temperature"],
        covers=(), aliases=MODEL_ALIASES)
def _gibbs_sample_sparse(ctx):
    model = bm(sparse=True)
    return _samplers().GibbsSampler(burn_in=3, scan="chromatic").sample, dict(
        model=model, n_samples=4, n_chains=2, evidence=None, initial_states=_states(model, 2), temperature=1.5, rng=0)


@target("GibbsSampler(auto,sparse).sample", ["model", "n_samples", "evidence", "initial_states", "temperature"],
        covers=(), aliases=MODEL_ALIASES)
def _gibbs_sample_auto(ctx):
    model = bm(sparse=True)  # scan="auto" inspects the model's graph: junk models must be refused first
    return _samplers().GibbsSampler(burn_in=3, scan="auto").sample, dict(
        model=model, n_samples=4, n_chains=2, evidence=None, initial_states=_states(model, 2), temperature=1.5, rng=0)


@target("pgm_energy.samplers.annealing.SimulatedAnnealingSampler", ["schedule", "n_sweeps", "scan", "acceptance"])
def _sa_new(ctx):
    return _samplers().SimulatedAnnealingSampler, dict(schedule=None, n_sweeps=10, scan="sequential",
                                                       acceptance="heat-bath")


@target("pgm_energy.samplers.annealing.SimulatedAnnealingSampler.sample",
        ["model", "n_samples", "evidence", "initial_states", "rng", "client"], aliases=MODEL_ALIASES)
def _sa_sample(ctx):
    model = bm()
    return _samplers().SimulatedAnnealingSampler(n_sweeps=10).sample, dict(
        model=model, n_samples=3, evidence={"v1": 0}, initial_states=_states(model, 3), rng=0, client=None)


@target("SimulatedAnnealingSampler(schedule).sample", ["schedule"], covers=())
def _sa_schedule(ctx):
    # the constructor's schedule is the parameter under test; the call makes it take effect
    def call(schedule):
        return _samplers().SimulatedAnnealingSampler(schedule=schedule).sample(bm(), 2, rng=0)

    return call, dict(schedule=np.geomspace(5.0, 0.1, 10))


@target("pgm_energy.samplers.annealing.default_schedule", ["model", "n_sweeps", "evidence"], aliases=MODEL_ALIASES)
def _default_schedule(ctx):
    annealing = importlib.import_module("pgm_energy.samplers.annealing")
    return annealing.default_schedule, dict(model=bm(), n_sweeps=10, evidence=None)


@target("pgm_energy.samplers.tempering.ParallelTemperingSampler",
        ["temperatures", "swap_interval", "burn_in", "thin", "scan"])
def _pt_new(ctx):
    return _samplers().ParallelTemperingSampler, dict(temperatures=[1.0, 1.5, 2.0], swap_interval=1, burn_in=3,
                                                      thin=1, scan="sequential")


@target("pgm_energy.samplers.tempering.ParallelTemperingSampler.sample",
        ["model", "n_samples", "n_chains", "evidence", "initial_states", "rng", "progress", "client"],
        aliases=MODEL_ALIASES)
def _pt_sample(ctx):
    model = bm()
    return _samplers().ParallelTemperingSampler([1.0, 2.0], burn_in=3).sample, dict(
        model=model, n_samples=4, n_chains=2, evidence=None, initial_states=_states(model, 2), rng=0, progress=False,
        client=None)


@target("ParallelTemperingSampler(temperatures).sample", ["temperatures"], covers=())
def _pt_temperatures(ctx):
    def call(temperatures):
        return _samplers().ParallelTemperingSampler(temperatures, burn_in=2).sample(bm(), 3, n_chains=1, rng=0)

    return call, dict(temperatures=[1.0, 2.0])


@target("pgm_energy.samplers.sampleset.SampleSet", ["states", "energies", "names", "temperature", "info"])
def _sampleset_new(ctx):
    sample = sample_set()
    return _samplers().SampleSet, dict(states=np.array(sample.states), energies=np.array(sample.energies),
                                       names=list(sample.names), temperature=1.0, info=None)


for _method, _params, _valid in (("autocorrelation", ["max_lag"], dict(max_lag=2)), ("effective_sample_size", [], {}),
                                 ("flat_states", [], {}), ("lowest", ["n"], dict(n=2)),
                                 ("marginal_standard_errors", [], {}), ("marginals", [], {}),
                                 ("split_r_hat", [], {}), ("to_pandas", [], {})):
    def _sampleset_method(ctx, _method=_method, _valid=_valid):
        return getattr(sample_set(), _method), dict(_valid)

    target(f"pgm_energy.samplers.sampleset.SampleSet.{_method}", _params)(_sampleset_method)


def potts_sample_set():
    return _samplers().GibbsSampler(burn_in=2).sample(potts(), 6, n_chains=2, rng=0, progress=False)


@target("pgm_energy.samplers.categorical_sampleset.CategoricalSampleSet",
        ["states", "energies", "names", "state_names", "temperature", "info"])
def _categorical_sampleset_new(ctx):
    sample = potts_sample_set()
    return _samplers().CategoricalSampleSet, dict(states=np.array(sample.states), energies=np.array(sample.energies),
                                                  names=list(sample.names), state_names=sample.state_names,
                                                  temperature=1.0, info=None)


for _method, _params, _valid in (("autocorrelation", ["max_lag"], dict(max_lag=2)), ("effective_sample_size", [], {}),
                                 ("flat_states", [], {}), ("lowest", ["n"], dict(n=2)),
                                 ("marginal_standard_errors", [], {}), ("marginals", [], {}),
                                 ("split_r_hat", [], {}), ("to_pandas", [], {})):
    def _categorical_sampleset_method(ctx, _method=_method, _valid=_valid):
        return getattr(potts_sample_set(), _method), dict(_valid)

    target(f"pgm_energy.samplers.categorical_sampleset.CategoricalSampleSet.{_method}", _params)(
        _categorical_sampleset_method)


def gaussian_sample_set():
    return _samplers().GibbsSampler(burn_in=2).sample(grbm(), 6, n_chains=2, rng=0, progress=False)


@target("pgm_energy.samplers.real_sampleset.RealSampleSet", ["states", "energies", "names", "temperature", "info"])
def _real_sampleset_new(ctx):
    sample = gaussian_sample_set()
    return _samplers().RealSampleSet, dict(states=np.array(sample.states), energies=np.array(sample.energies),
                                           names=list(sample.names), temperature=1.0, info=None)


for _method, _params, _valid in (("autocorrelation", ["max_lag"], dict(max_lag=2)), ("effective_sample_size", [], {}),
                                 ("flat_states", [], {}), ("lowest", ["n"], dict(n=2)),
                                 ("marginal_standard_errors", [], {}), ("marginals", [], {}),
                                 ("split_r_hat", [], {}), ("to_pandas", [], {})):
    def _real_sampleset_method(ctx, _method=_method, _valid=_valid):
        return getattr(gaussian_sample_set(), _method), dict(_valid)

    target(f"pgm_energy.samplers.real_sampleset.RealSampleSet.{_method}", _params)(_real_sampleset_method)


@target("GibbsSampler.sample(GaussianBernoulliRBM)", ["n_samples", "n_chains", "evidence", "initial_states",
                                                      "temperature", "rng", "keep"], covers=())
def _gibbs_gaussian(ctx):
    def call(n_samples, n_chains, evidence, initial_states, temperature, rng, keep):
        return _samplers().GibbsSampler(burn_in=2).sample(
            grbm(), n_samples, n_chains=n_chains, evidence=evidence, initial_states=initial_states,
            temperature=temperature, rng=rng, progress=False, keep=keep)

    return call, dict(n_samples=3, n_chains=2, evidence={"v0": 0.5}, initial_states=None, temperature=None, rng=0,
                      keep="all")


@target("ParallelTemperingSampler.sample(Potts)", ["n_samples", "n_chains", "evidence", "initial_states", "rng"],
        covers=(), aliases=MODEL_ALIASES)
def _tempering_potts(ctx):
    def call(n_samples, n_chains, evidence, initial_states, rng):
        return _samplers().ParallelTemperingSampler([1.0, 2.0], burn_in=2).sample(
            potts(), n_samples, n_chains=n_chains, evidence=evidence, initial_states=initial_states, rng=rng,
            progress=False)

    return call, dict(n_samples=3, n_chains=2, evidence=None, initial_states=None, rng=0)


@target("ParallelTemperingSampler.sample(GaussianBernoulliRBM)", ["n_samples", "n_chains", "evidence", "initial_states",
                                                                  "rng"], covers=())
def _tempering_gaussian(ctx):
    def call(n_samples, n_chains, evidence, initial_states, rng):
        return _samplers().ParallelTemperingSampler([1.0, 2.0], burn_in=2).sample(
            grbm(), n_samples, n_chains=n_chains, evidence=evidence, initial_states=initial_states, rng=rng,
            progress=False)

    return call, dict(n_samples=3, n_chains=2, evidence={"h0": 1}, initial_states=None, rng=0)


@target("GibbsSampler.sample(DeepBoltzmannMachine)", ["n_samples", "n_chains", "evidence", "initial_states",
                                                      "temperature", "rng", "keep"], covers=())
def _gibbs_deep(ctx):
    def call(n_samples, n_chains, evidence, initial_states, temperature, rng, keep):
        return _samplers().GibbsSampler(burn_in=2).sample(
            dboltz(), n_samples, n_chains=n_chains, evidence=evidence, initial_states=initial_states,
            temperature=temperature, rng=rng, progress=False, keep=keep)

    return call, dict(n_samples=3, n_chains=2, evidence={"h1_0": 1}, initial_states=None, temperature=None, rng=0,
                      keep="all")


@target("GibbsSampler.sample(Potts)", ["n_samples", "n_chains", "evidence", "initial_states", "temperature", "rng",
                                       "keep"], covers=(), aliases=MODEL_ALIASES)
def _gibbs_potts(ctx):
    def call(n_samples, n_chains, evidence, initial_states, temperature, rng, keep):
        return _samplers().GibbsSampler(burn_in=2).sample(potts(), n_samples, n_chains=n_chains, evidence=evidence,
                                                          initial_states=initial_states, temperature=temperature,
                                                          rng=rng, keep=keep, progress=False)

    return call, dict(n_samples=4, n_chains=2, evidence={"v0": "b"}, initial_states=[0, 1, 2], temperature=None,
                      rng=0, keep="all")


@target("SimulatedAnnealingSampler.sample(Potts)", ["n_samples", "evidence", "initial_states", "rng"], covers=(),
        aliases=MODEL_ALIASES)
def _anneal_potts(ctx):
    def call(n_samples, evidence, initial_states, rng):
        return _samplers().SimulatedAnnealingSampler(n_sweeps=10).sample(
            potts(), n_samples, evidence=evidence, initial_states=initial_states, rng=rng, progress=False)

    return call, dict(n_samples=3, evidence={"h0": 1}, initial_states=None, rng=0)


# --------------------------------------------------------------------------- inference
def _inference():
    return importlib.import_module("pgm_energy.inference")


@target("pgm_energy.inference.most_probable_state", ["model", "evidence", "max_units"], aliases=MODEL_ALIASES)
def _mps(ctx):
    return _inference().most_probable_state, dict(model=bm(), evidence={"v0": 1}, max_units=30)


@target("pgm_energy.inference.ExactInference", ["model", "max_units"], aliases=MODEL_ALIASES)
def _exact_inference_new(ctx):
    return _inference().ExactInference, dict(model=rbm(), max_units=30)


@target("pgm_energy.inference.GibbsInference",
        ["model", "n_samples", "n_chains", "burn_in", "thin", "scan", "n_annealing_runs", "schedule", "n_sweeps", "rng"],
        aliases=MODEL_ALIASES)
def _gibbs_inference_new(ctx):
    return _inference().GibbsInference, dict(model=rbm(), n_samples=20, n_chains=2, burn_in=3, thin=1, scan=None,
                                             n_annealing_runs=2, schedule=None, n_sweeps=10, rng=0)


def _engine(kind):
    if kind == "ExactInference":
        return _inference().ExactInference(rbm())
    return _inference().GibbsInference(rbm(), n_samples=20, n_chains=2, burn_in=3, n_annealing_runs=2, n_sweeps=10, rng=0)


for _kind in ("ExactInference", "GibbsInference"):
    _methods = [("query", ["variables", "evidence", "joint"], dict(variables=["v0"], evidence={"h0": 1}, joint=True)),
                ("map_query", ["variables", "evidence"], dict(variables=["v0", "v1"], evidence={"h1": 0})),
                ("most_probable_state", ["variables", "evidence"], dict(variables=["v0", "v1"], evidence={"h1": 0})),
                ("predict", ["data", "include_latents", "include_observed"], None),
                ("predict_probability", ["data", "include_latents"], None)]
    if _kind == "GibbsInference":
        _methods += [("query_with_errors", ["variables", "evidence", "joint"],
                      dict(variables=["v0"], evidence={"h0": 1}, joint=True)),
                     ("predict_probability_with_errors", ["data", "include_latents"], None)]
    for _method, _params, _valid in _methods:
        def _inference_method(ctx, _kind=_kind, _method=_method, _valid=_valid):
            if _valid is None:
                import pandas as pd

                _valid = dict(data=pd.DataFrame(DATA[:3, :2], columns=["v0", "v1"]), include_latents=False)
                if _method == "predict":
                    _valid["include_observed"] = True
            return getattr(_engine(_kind), _method), dict(_valid)

        target(f"pgm_energy.inference.{_kind}.{_method}", _params)(_inference_method)


# belief networks: estimators, samplers and trainers moved out of the model files (issue 12)
# max_iterations and tolerance are a deep Boltzmann machine's: left out of the valid call, refused for a DBN
@target("pgm_energy.ais.log_likelihood_bound",
        ["dbn", "data", "n_samples", "log_z", "n_runs", "betas", "max_iterations", "tolerance", "max_units", "rng"])
def _ais_llb(ctx):
    return importlib.import_module("pgm_energy.ais").log_likelihood_bound, dict(
        dbn=dbn(), data=DATA.copy(), n_samples=2, log_z=None, n_runs=4, betas=None, max_units=20, rng=0)


@target("pgm_energy.samplers.belief.ancestral_sample", ["sbn", "n_samples", "rng"])
def _belief_ancestral(ctx):
    return importlib.import_module("pgm_energy.samplers.belief").ancestral_sample, dict(sbn=sbn(), n_samples=5, rng=0)


@target("pgm_energy.samplers.belief.deep_belief_sample", ["dbn", "n_samples", "burn_in", "rng"])
def _belief_dbn_sample(ctx):
    return importlib.import_module("pgm_energy.samplers.belief").deep_belief_sample, dict(
        dbn=dbn(), n_samples=4, burn_in=3, rng=0)


@target("pgm_energy.samplers.belief.gibbs_posterior",
        ["network", "evidence", "n_samples", "n_chains", "burn_in", "thin", "rng"])
def _belief_gibbs_posterior(ctx):
    return importlib.import_module("pgm_energy.samplers.belief").gibbs_posterior, dict(
        network=dbn(), evidence={"v0": 1}, n_samples=4, n_chains=2, burn_in=3, thin=1, rng=0)


@target("pgm_energy.samplers.belief.gibbs_query",
        ["dbn", "variables", "evidence", "joint", "n_samples", "n_chains", "burn_in", "rng"])
def _belief_gibbs_query(ctx):
    return importlib.import_module("pgm_energy.samplers.belief").gibbs_query, dict(
        dbn=dbn(), variables=["h1_0"], evidence={"v0": 1}, joint=True, n_samples=20, n_chains=2, burn_in=3, rng=0)


@target("pgm_energy.learning.deep_belief.fit_greedy", ["data", "layer_sizes", "trainer", "rng", "progress"])
def _learning_fit_greedy(ctx):
    learning = importlib.import_module("pgm_energy.learning")
    trainer = learning.ContrastiveDivergence(epochs=1, batch_size=2, monitor=())
    return importlib.import_module("pgm_energy.learning.deep_belief").fit_greedy, dict(
        data=DATA.copy(), layer_sizes=[2, 2], trainer=trainer, rng=0, progress=False)


@target("pgm_energy.learning.deep_belief.fine_tune",
        ["dbn", "data", "epochs", "learning_rate", "k", "batch_size", "weight_decay", "rng"])
def _learning_fine_tune(ctx):
    return importlib.import_module("pgm_energy.learning.deep_belief").fine_tune, dict(
        dbn=dbn(), data=DATA.copy(), epochs=1, learning_rate=0.01, k=1, batch_size=2, weight_decay=0.0, rng=0)


@target("pgm_energy.learning.deep_belief.UpDownFineTuning",
        ["epochs", "learning_rate", "k", "batch_size", "weight_decay", "checkpoint_every", "checkpoint_path",
         "binarize"])
def _up_down_new(ctx):
    return importlib.import_module("pgm_energy.learning.deep_belief").UpDownFineTuning, dict(
        epochs=1, learning_rate=0.01, k=1, batch_size=2, weight_decay=0.0, checkpoint_every=None,
        checkpoint_path=None, binarize=None)


@target("pgm_energy.learning.deep_belief.UpDownFineTuning.fit",
        ["model_or_size", "data", "validation", "rng", "callbacks", "progress", "resume_from"], inputs=["resume_from"])
def _up_down_fit(ctx):
    trainer = importlib.import_module("pgm_energy.learning.deep_belief").UpDownFineTuning(epochs=1, batch_size=2)
    return trainer.fit, dict(model_or_size=dbn(), data=DATA.copy(), validation=None, rng=0, callbacks=(),
                             progress=False, resume_from=None)


# --------------------------------------------------------------------------- deep Boltzmann machines
#: evidence and a DataFrame of visible columns for dboltz() (units v0-v2, h1_0, h1_1, h2_0, h2_1)
_DEEP_EVIDENCE = {"v0": 1, "h2_1": 0}


def _deep_frame():
    import pandas as pd

    return pd.DataFrame(DATA[:3, :2], columns=["v0", "v1"])


def _deep_engine(kind):
    inference = _inference()
    if kind == "ExactInference":
        return inference.ExactInference(dboltz())
    if kind == "GibbsInference":
        return inference.GibbsInference(dboltz(), n_samples=20, n_chains=2, burn_in=3, n_annealing_runs=2,
                                         n_sweeps=10, rng=0)
    return inference.MeanFieldInference(dboltz())


@target("inference.most_probable_state(DeepBoltzmannMachine)", ["evidence", "max_units"], covers=())
def _mps_deep(ctx):
    return (lambda **options: _inference().most_probable_state(dboltz(), **options)), dict(
        evidence=dict(_DEEP_EVIDENCE), max_units=30)


@target("ExactInference(DeepBoltzmannMachine)", ["max_units"], covers=())
def _exact_inference_deep_new(ctx):
    return (lambda **options: _inference().ExactInference(dboltz(), **options)), dict(max_units=30)


@target("GibbsInference(DeepBoltzmannMachine)",
        ["n_samples", "n_chains", "burn_in", "thin", "scan", "n_annealing_runs", "schedule", "n_sweeps", "rng"],
        covers=())
def _gibbs_inference_deep_new(ctx):
    # the options take effect in a query: the call builds and queries
    def build_and_query(**options):
        return _inference().GibbsInference(dboltz(), **options).query(["h1_0"], evidence=dict(_DEEP_EVIDENCE))

    return build_and_query, dict(n_samples=20, n_chains=2, burn_in=3, thin=1, scan=None, n_annealing_runs=2,
                                 schedule=None, n_sweeps=10, rng=0)


@target("pgm_energy.inference.MeanFieldInference", ["model", "max_iterations", "tolerance"], aliases=MODEL_ALIASES)
def _mean_field_inference_new(ctx):
    # the options take effect in a query: the call builds and queries
    def build_and_query(**options):
        return _inference().MeanFieldInference(**options).posterior_means(dict(_DEEP_EVIDENCE))

    return build_and_query, dict(model=dboltz(), max_iterations=100, tolerance=1e-7)


@target("pgm_energy.inference.MeanFieldInference.posterior_means", ["evidence"])
def _mean_field_posterior_means(ctx):
    return _deep_engine("MeanFieldInference").posterior_means, dict(evidence=dict(_DEEP_EVIDENCE))


for _kind in ("ExactInference", "GibbsInference", "MeanFieldInference"):
    _methods = [("query", ["variables", "evidence", "joint"], dict(variables=["v2", "h1_0"], evidence=_DEEP_EVIDENCE,
                                                                   joint=True)),
                ("map_query", ["variables", "evidence"], dict(variables=["v1", "h1_1"], evidence=_DEEP_EVIDENCE)),
                ("most_probable_state", ["variables", "evidence"], dict(variables=None, evidence=_DEEP_EVIDENCE)),
                ("predict", ["data", "include_latents", "include_observed"], None),
                ("predict_probability", ["data", "include_latents"], None)]
    if _kind == "GibbsInference":
        _methods += [("query_with_errors", ["variables", "evidence", "joint"],
                      dict(variables=["h2_0"], evidence=_DEEP_EVIDENCE, joint=True)),
                     ("predict_probability_with_errors", ["data", "include_latents"], None)]
    for _method, _params, _valid in _methods:
        def _deep_inference_method(ctx, _kind=_kind, _method=_method, _valid=_valid):
            if _valid is None:
                _valid = dict(data=_deep_frame(), include_latents=True)
                if _method == "predict":
                    _valid["include_observed"] = False
            valid = {name: dict(value) if isinstance(value, dict) else value for name, value in _valid.items()}
            return getattr(_deep_engine(_kind), _method), valid

        # MeanFieldInference is answered by no other model kind: its methods' entries are the public ones
        _name = (f"pgm_energy.inference.MeanFieldInference.{_method}" if _kind == "MeanFieldInference"
                 else f"{_kind}(DeepBoltzmannMachine).{_method}")
        target(_name, _params, covers=None if _kind == "MeanFieldInference" else ())(_deep_inference_method)


for _name in ("log_partition_function", "marginals", "entropy"):
    def _exact_deep(ctx, _name=_name):
        options = dict(max_units=30) if _name == "entropy" else dict(evidence=dict(_DEEP_EVIDENCE), max_units=30)
        return _exact(_name), dict(model=dboltz(), **options)

    _params = ["model", "max_units"] + ([] if _name == "entropy" else ["evidence"])
    target(f"exact.{_name}(DeepBoltzmannMachine)", _params, covers=(), aliases=MODEL_ALIASES)(_exact_deep)


@target("exact.log_likelihood(DeepBoltzmannMachine)", ["model", "data", "max_units"], covers=(), aliases=MODEL_ALIASES)
def _exact_ll_deep(ctx):
    return _exact("log_likelihood"), dict(model=dboltz(), data=DATA.copy(), max_units=30)


@target("ais.log_partition_function(DeepBoltzmannMachine)", ["rbm", "n_runs", "betas", "base", "data", "rng"],
        covers=(), aliases={"rbm": ("rbm", "model")})
def _ais_logz_deep(ctx):
    return _ais("log_partition_function"), dict(rbm=dboltz(), n_runs=4, betas=np.linspace(0, 1, 20), base="data",
                                                data=DATA.copy(), rng=0)


@target("ais.estimate_log_likelihood(DeepBoltzmannMachine)", ["data", "n_runs", "betas", "base", "rng"], covers=(),
        refuses=importlib.import_module("pgm_energy.exceptions").ParameterTypeError)
def _ais_ll_deep(ctx):
    return _ais("estimate_log_likelihood"), dict(rbm=dboltz(), data=DATA.copy(), n_runs=4,
                                                 betas=np.linspace(0, 1, 20), base="data", rng=0)


# n_samples is a deep belief network's: left out of the valid call, refused for a deep Boltzmann machine.
# max_units=0: log Z by AIS (a junk max_units may switch to the exact one)
@target("ais.log_likelihood_bound(DeepBoltzmannMachine)",
        ["dbn", "data", "n_samples", "log_z", "n_runs", "betas", "max_iterations", "tolerance", "max_units", "rng"],
        covers=(), aliases={"dbn": ("dbn", "model")})
def _ais_llb_deep(ctx):
    return _ais("log_likelihood_bound"), dict(dbn=dboltz(), data=DATA.copy(), log_z=None, n_runs=4,
                                              betas=np.linspace(0, 1, 20), max_iterations=100, tolerance=1e-7,
                                              max_units=0, rng=0)


# --------------------------------------------------------------------------- learning
def _learning():
    return importlib.import_module("pgm_energy.learning")


_TRAINER_CALL_PARAMS = ["model_or_size", "data", "validation", "rng", "callbacks", "progress", "resume_from"]
_TRAINER_INPUTS = ["resume_from"]


@target("pgm_energy.learning.contrastive_divergence.ContrastiveDivergence",
        ["k", "persistent", "n_chains", "tempering", "learning_rate", "momentum", "weight_decay", "sparsity_target",
         "sparsity_cost", "sparsity_decay", "batch_size", "epochs", "dtype", "averaging", "monitor", "monitor_every",
         "checkpoint_every", "checkpoint_path", "binarize"])
def _cd_new(ctx):
    # The constructor's parameters only matter once fit runs: the call builds and fits.
    def build_and_fit(**options):
        trainer = _learning().ContrastiveDivergence(**options)
        return trainer.fit(2, DATA.copy(), rng=0, progress=False)

    return build_and_fit, dict(k=1, persistent=False, n_chains=None, tempering=None, learning_rate=0.05,
                               momentum=None, weight_decay=1e-4, sparsity_target=None, sparsity_cost=0.01,
                               sparsity_decay=0.95, batch_size=2, epochs=2, dtype="float64", averaging=None,
                               monitor="auto", monitor_every=None, checkpoint_every=1,
                               checkpoint_path=ctx.out("cd.ckpt.npz"), binarize=None)


@target("pgm_energy.learning.contrastive_divergence.ContrastiveDivergence.fit", _TRAINER_CALL_PARAMS,
        inputs=_TRAINER_INPUTS)
def _cd_fit(ctx):
    return _learning().ContrastiveDivergence(epochs=2, batch_size=2).fit, dict(
        model_or_size=rbm(), data=DATA.copy(), validation=DATA[:2].copy(), rng=0, callbacks=(), progress=False,
        resume_from=None)


@target("ContrastiveDivergence.fit(resume_from)", ["resume_from"], covers=(), inputs=_TRAINER_INPUTS)
def _cd_resume(ctx):
    def write(path):
        _learning().ContrastiveDivergence(epochs=1, batch_size=2, checkpoint_every=1, checkpoint_path=path,
                                          persistent=True, averaging=None).fit(2, DATA.copy(), rng=0, progress=False)

    path = ctx.file("resume.ckpt.npz", write)
    # averaging=None: an averaged run's checkpoint is tied to its epoch count
    trainer = _learning().ContrastiveDivergence(epochs=2, batch_size=2, persistent=True, averaging=None)
    return trainer.fit, dict(model_or_size=2, data=DATA.copy(), rng=0, progress=False, resume_from=path)


@target("pgm_energy.learning.exact_gradient.ExactGradient",
        ["method", "learning_rate", "momentum", "weight_decay", "epochs", "batch_size", "memory", "max_units",
         "monitor", "monitor_every", "checkpoint_every", "checkpoint_path", "binarize"])
def _eg_new(ctx):
    def build_and_fit(**options):
        return _learning().ExactGradient(**options).fit(2, DATA.copy(), rng=0, progress=False)

    return build_and_fit, dict(method="momentum", learning_rate=0.1, momentum=0.9, weight_decay=0.0, epochs=2,
                               batch_size=None, memory=10, max_units=20, monitor="auto", monitor_every=None,
                               checkpoint_every=1, checkpoint_path=ctx.out("eg.ckpt.npz"), binarize=None)


@target("pgm_energy.learning.exact_gradient.ExactGradient.fit", _TRAINER_CALL_PARAMS, inputs=_TRAINER_INPUTS)
def _eg_fit(ctx):
    return _learning().ExactGradient(epochs=2).fit, dict(
        model_or_size=rbm(), data=DATA.copy(), validation=DATA[:2].copy(), rng=0, callbacks=(), progress=False,
        resume_from=None)


def _visible_potts():
    generator = np.random.default_rng(1)
    return pe().PottsMachine([3, 2, 2], None, {(0, 1): generator.normal(0, 0.5, (3, 2)),
                                               (1, 2): generator.normal(0, 0.5, (2, 2))},
                             state_names={"v0": ["a", "b", "c"]})


_POTTS_ROWS = np.array([[0, 1, 1], [2, 0, 1], [1, 1, 0], [0, 0, 0]])


@target("pgm_energy.learning.pseudo_likelihood.PseudoLikelihood",
        ["learning_rate", "momentum", "l2", "batch_size", "epochs", "monitor", "monitor_every", "checkpoint_every",
         "checkpoint_path", "dtype"])
def _pl_new(ctx):
    def build_and_fit(**options):
        return _learning().PseudoLikelihood(**options).fit(_visible_potts(), _POTTS_ROWS.copy(), rng=0, progress=False)

    return build_and_fit, dict(learning_rate=0.5, momentum=0.5, l2=1e-4, batch_size=None, epochs=2, monitor=None,
                               monitor_every=None, checkpoint_every=1, checkpoint_path=ctx.out("pl.ckpt.npz"),
                               dtype="float64")


@target("pgm_energy.learning.pseudo_likelihood.PseudoLikelihood.fit", _TRAINER_CALL_PARAMS, inputs=_TRAINER_INPUTS)
def _pl_fit(ctx):
    return _learning().PseudoLikelihood(epochs=2).fit, dict(
        model_or_size=_visible_potts(), data=_POTTS_ROWS.copy(), validation=_POTTS_ROWS[:2].copy(), rng=0,
        callbacks=(), progress=False, resume_from=None)


#: real-valued rows for GaussianBernoulliCD (3 columns, as grbm())
GDATA = np.array([[0.3, -1.2, 2.0], [1.0, 0.0, -0.5], [-0.7, 0.4, 1.1], [0.2, 0.9, -1.3]])


def _gaussian_cd():
    return importlib.import_module("pgm_energy.learning.gaussian_cd")


@target("pgm_energy.learning.gaussian_cd.GaussianBernoulliCD",
        ["k", "persistent", "n_chains", "learning_rate", "sigma_learning_rate", "learn_sigma", "min_sigma",
         "momentum", "weight_decay", "batch_size", "epochs", "averaging", "dtype", "monitor", "monitor_every",
         "checkpoint_every", "checkpoint_path"])
def _gcd_new(ctx):
    def build_and_fit(**options):
        return _gaussian_cd().GaussianBernoulliCD(**options).fit(2, GDATA.copy(), rng=0, progress=False)

    return build_and_fit, dict(k=1, persistent=False, n_chains=None, learning_rate=0.05, sigma_learning_rate=None,
                               learn_sigma=True, min_sigma=1e-2, momentum=None, weight_decay=1e-4, batch_size=2,
                               epochs=2, averaging=None, dtype="float64", monitor="auto", monitor_every=None,
                               checkpoint_every=1, checkpoint_path=ctx.out("gcd.ckpt.npz"))


@target("pgm_energy.learning.gaussian_cd.GaussianBernoulliCD.fit", _TRAINER_CALL_PARAMS, inputs=_TRAINER_INPUTS)
def _gcd_fit(ctx):
    return _gaussian_cd().GaussianBernoulliCD(epochs=2, batch_size=2).fit, dict(
        model_or_size=grbm(), data=GDATA.copy(), validation=GDATA[:2].copy(), rng=0, callbacks=(), progress=False,
        resume_from=None)


@target("GaussianBernoulliCD.fit(resume_from)", ["resume_from"], covers=(), inputs=_TRAINER_INPUTS)
def _gcd_resume(ctx):
    def write(path):
        _gaussian_cd().GaussianBernoulliCD(epochs=1, batch_size=2, checkpoint_every=1, checkpoint_path=path,
                                           averaging=None).fit(2, GDATA.copy(), rng=0, progress=False)

    path = ctx.file("gcd_resume.ckpt.npz", write)
    trainer = _gaussian_cd().GaussianBernoulliCD(epochs=2, batch_size=2, averaging=None)
    return trainer.fit, dict(model_or_size=2, data=GDATA.copy(), rng=0, progress=False, resume_from=path)


@target("pgm_energy.learning.gaussian_cd.initial_gaussian_rbm", ["n_hidden", "data", "visible_names", "rng", "min_sigma"])
def _gcd_initial(ctx):
    return _gaussian_cd().initial_gaussian_rbm, dict(n_hidden=2, data=GDATA.copy(), visible_names=None, rng=0,
                                                     min_sigma=1e-2)


def _gaussian_exact():
    return importlib.import_module("pgm_energy.learning.gaussian_exact")


@target("pgm_energy.learning.gaussian_exact.GaussianExactGradient",
        ["method", "learning_rate", "momentum", "weight_decay", "epochs", "batch_size", "memory", "max_units",
         "min_sigma", "monitor", "monitor_every", "checkpoint_every", "checkpoint_path"])
def _gexact_new(ctx):
    def build_and_fit(**options):
        return _gaussian_exact().GaussianExactGradient(**options).fit(2, GDATA.copy(), rng=0, progress=False)

    return build_and_fit, dict(method="lbfgs", learning_rate=0.01, momentum=0.9, weight_decay=1e-4, epochs=2,
                               batch_size=None, memory=5, max_units=20, min_sigma=1e-2, monitor="auto",
                               monitor_every=None, checkpoint_every=1, checkpoint_path=ctx.out("gexact.ckpt.npz"))


@target("pgm_energy.learning.gaussian_exact.GaussianExactGradient.fit", _TRAINER_CALL_PARAMS, inputs=_TRAINER_INPUTS)
def _gexact_fit(ctx):
    return _gaussian_exact().GaussianExactGradient(epochs=2).fit, dict(
        model_or_size=grbm(), data=GDATA.copy(), validation=GDATA[:2].copy(), rng=0, callbacks=(), progress=False,
        resume_from=None)


@target("GaussianExactGradient.fit(resume_from)", ["resume_from"], covers=(), inputs=_TRAINER_INPUTS)
def _gexact_resume(ctx):
    def write(path):
        _gaussian_exact().GaussianExactGradient(epochs=1, checkpoint_every=1, checkpoint_path=path).fit(
            2, GDATA.copy(), rng=0, progress=False)

    path = ctx.file("gexact_resume.ckpt.npz", write)
    return _gaussian_exact().GaussianExactGradient(epochs=2).fit, dict(
        model_or_size=2, data=GDATA.copy(), rng=0, progress=False, resume_from=path)


@target("pgm_energy.learning.gaussian_exact.gaussian_log_likelihood_gradient", ["model", "data", "max_units"])
def _gexact_gradient(ctx):
    return _gaussian_exact().gaussian_log_likelihood_gradient, dict(model=grbm(), data=GDATA.copy(), max_units=20)


def _whitening():
    return importlib.import_module("pgm_energy.learning.whitening")


@target("pgm_energy.learning.whitening.Whitening", ["regularization"])
def _whitening_new(ctx):
    return (lambda **options: _whitening().Whitening(**options).fit(GDATA.copy())), dict(regularization=1e-3)


@target("pgm_energy.learning.whitening.Whitening.fit", ["data"])
def _whitening_fit(ctx):
    return _whitening().Whitening().fit, dict(data=GDATA.copy())


@target("pgm_energy.learning.whitening.Whitening.transform", ["data"])
def _whitening_transform(ctx):
    return _whitening().Whitening().fit(GDATA.copy()).transform, dict(data=GDATA.copy())


@target("pgm_energy.learning.whitening.Whitening.inverse_transform", ["data"])
def _whitening_inverse(ctx):
    return _whitening().Whitening().fit(GDATA.copy()).inverse_transform, dict(data=GDATA.copy())


CDATA = np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0], [0, 0, 1]])


@target("pgm_energy.learning.categorical_cd.CategoricalCD",
        ["k", "persistent", "n_chains", "learning_rate", "momentum", "weight_decay", "batch_size", "epochs",
         "cardinalities", "averaging", "dtype", "monitor", "monitor_every", "checkpoint_every", "checkpoint_path"])
def _ccd_new(ctx):
    def build_and_fit(**options):
        return _learning().CategoricalCD(**options).fit(2, CDATA.copy(), rng=0, progress=False)

    return build_and_fit, dict(k=1, persistent=False, n_chains=None, learning_rate=0.05, momentum=None,
                               weight_decay=1e-4, batch_size=2, epochs=2, cardinalities=None, averaging=None,
                               dtype="float64", monitor="auto", monitor_every=None, checkpoint_every=1,
                               checkpoint_path=ctx.out("ccd.ckpt.npz"))


@target("pgm_energy.learning.categorical_cd.CategoricalCD.fit", _TRAINER_CALL_PARAMS, inputs=_TRAINER_INPUTS)
def _ccd_fit(ctx):
    return _learning().CategoricalCD(epochs=2, batch_size=2).fit, dict(
        model_or_size=2, data=CDATA.copy(), validation=CDATA[:2].copy(), rng=0, callbacks=(), progress=False,
        resume_from=None)


@target("CategoricalCD.fit(resume_from)", ["resume_from"], covers=(), inputs=_TRAINER_INPUTS)
def _ccd_resume(ctx):
    def write(path):
        _learning().CategoricalCD(epochs=1, batch_size=2, checkpoint_every=1, checkpoint_path=path,
                                  averaging=None).fit(2, CDATA.copy(), rng=0, progress=False)

    path = ctx.file("ccd_resume.ckpt.npz", write)
    trainer = _learning().CategoricalCD(epochs=2, batch_size=2, averaging=None)
    return trainer.fit, dict(model_or_size=2, data=CDATA.copy(), rng=0, progress=False, resume_from=path)


@target("pgm_energy.learning.categorical_cd.initial_categorical_rbm",
        ["n_hidden", "data", "cardinalities", "rng", "visible_names", "state_names"])
def _ccd_initial(ctx):
    return importlib.import_module("pgm_energy.learning.categorical_cd").initial_categorical_rbm, dict(
        n_hidden=2, data=CDATA.copy(), cardinalities=[3, 2, 3], rng=0, visible_names=None, state_names=None)


def _deep_learning():
    return importlib.import_module("pgm_energy.learning.deep_boltzmann")


@target("pgm_energy.learning.deep_boltzmann.pretrain_deep_boltzmann",
        ["data", "hidden_sizes", "epochs", "learning_rate", "weight_decay", "batch_size", "binarize", "rng",
         "return_errors"])
def _pretrain_deep(ctx):
    return _deep_learning().pretrain_deep_boltzmann, dict(data=DATA.copy(), hidden_sizes=[2, 2], epochs=2,
                                                           learning_rate=0.05, weight_decay=2e-4, batch_size=2,
                                                           binarize=None, rng=0, return_errors=True)


@target("pgm_energy.learning._streamed.streamed", ["data", "block_rows"])
def _streamed(ctx):
    # the wrapper is lazy: the call builds it and fits, which reads and checks the rows block by block
    def build_and_fit(data, block_rows):
        rows = _learning().streamed(data, block_rows=block_rows)
        return _learning().ContrastiveDivergence(epochs=1, batch_size=2, monitor=None).fit(2, rows, rng=0,
                                                                                           progress=False)

    return build_and_fit, dict(data=DATA.copy(), block_rows=3)


@target("pgm_energy.learning._streamed.StreamedRows", ["data", "block_rows"])
def _streamed_rows(ctx):
    def build_and_fit(data, block_rows):
        rows = importlib.import_module("pgm_energy.learning._streamed").StreamedRows(data, block_rows)
        return _learning().ContrastiveDivergence(epochs=1, batch_size=2, monitor=None).fit(2, rows, rng=0,
                                                                                           progress=False)

    return build_and_fit, dict(data=DATA.copy(), block_rows=3)


def _asserts():
    return importlib.import_module("pgm_energy.testing.asserts")


@target("pgm_energy.testing.asserts.assert_samples_match",
        ["samples", "target", "variables", "cardinalities", "alpha", "test", "min_expected", "rare"])
def _assert_samples(ctx):
    draws = np.random.default_rng(0).choice(2, size=(300, 2), p=[0.4, 0.6])  # 0/1: a bool copy is the same draws
    return _asserts().assert_samples_match, dict(samples=draws, target=[0.4, 0.6], variables=[0],
                                                 cardinalities=[2], alpha=1e-3, test="chi2", min_expected=5.0,
                                                 rare="refuse")


def _named_frame():
    """300 independent draws of a 3-state column 'a' holding state names."""
    import pandas as pd

    names = np.array(["x", "y", "z"], dtype=object)[np.random.default_rng(0).choice(3, 300, p=[0.2, 0.3, 0.5])]
    return pd.DataFrame({"a": pd.Series(names, dtype=object)})  # object: junk may put a number among the names


NAMED_STATES = {"a": ["x", "y", "z"]}


@target("pgm_energy.testing.asserts.assert_marginals_match",
        ["samples", "marginals", "state_names", "alpha", "test", "min_expected", "rare"])
def _assert_marginals(ctx):
    return _asserts().assert_marginals_match, dict(samples=_named_frame(), marginals={"a": [0.2, 0.3, 0.5]},
                                                   state_names=dict(NAMED_STATES), alpha=1e-3, test="g",
                                                   min_expected=5.0, rare="pool")


@target("pgm_energy.testing.asserts.GoodnessOfFit", ["samples", "alpha", "test", "min_expected", "rare", "state_names"],
        covers=("pgm_energy.testing.asserts.GoodnessOfFit", "pgm_energy.testing.asserts.GoodnessOfFit.check"))
def _goodness_of_fit(ctx):
    def build_and_check(**options):
        checks = _asserts().GoodnessOfFit(**options)
        checks.joint(["a"], [0.2, 0.3, 0.5])
        checks.check()
        return checks.p_values

    return build_and_check, dict(samples=_named_frame(), alpha=1e-3, test="chi2", min_expected=5.0, rare="refuse",
                                 state_names=dict(NAMED_STATES))


@target("pgm_energy.testing.asserts.GoodnessOfFit.joint", ["variables", "target", "cardinalities"])
def _goodness_of_fit_joint(ctx):
    checks = _asserts().GoodnessOfFit(_named_frame(), state_names=dict(NAMED_STATES))
    return checks.joint, dict(variables=["a"], target=[0.2, 0.3, 0.5], cardinalities=[3])


@target("pgm_energy.testing.asserts.GoodnessOfFit.marginals", ["marginals"])
def _goodness_of_fit_marginals(ctx):
    checks = _asserts().GoodnessOfFit(_named_frame(), state_names=dict(NAMED_STATES))
    return checks.marginals, dict(marginals=[[0.2, 0.3, 0.5]])


@target("pgm_energy.testing.asserts.joint_frequencies", ["samples", "variables", "cardinalities", "state_names"])
def _joint_frequencies(ctx):
    return _asserts().joint_frequencies, dict(samples=_named_frame(), variables=["a"], cardinalities=[3],
                                              state_names=dict(NAMED_STATES))


@target("pgm_energy.testing.asserts.total_variation", ["samples", "target", "variables", "cardinalities", "state_names"])
def _total_variation(ctx):
    return _asserts().total_variation, dict(samples=_named_frame(), target=[0.2, 0.3, 0.5], variables=["a"],
                                            cardinalities=[3], state_names=dict(NAMED_STATES))


@target("pgm_energy.testing.asserts.assert_same_distribution", ["model_a", "model_b", "max_units", "rtol", "atol"])
def _assert_same(ctx):
    return _asserts().assert_same_distribution, dict(model_a=bm(), model_b=bm(), max_units=20, rtol=1e-9, atol=1e-12)


def _invariants():
    return importlib.import_module("pgm_energy.testing.invariants")


@target("pgm_energy.testing.invariants.check_log_probability", ["model", "log_unnormalised", "max_units", "atol"],
        aliases=MODEL_ALIASES)
def _check_log_probability(ctx):
    model = bm()
    return _invariants().check_log_probability, dict(
        model=model, log_unnormalised=lambda s: float(-model.energy(s)) / model.temperature, max_units=16, atol=1e-9)


@target("pgm_energy.testing.invariants.check_temperature_scaling",
        ["model", "at_temperature", "temperatures", "max_units", "atol"], aliases=MODEL_ALIASES)
def _check_temperature_scaling(ctx):
    model = bm()
    return _invariants().check_temperature_scaling, dict(model=model, at_temperature=model.with_temperature,
                                                         temperatures=(0.5, 2.0), max_units=16, atol=1e-9)


@target("pgm_energy.testing.invariants.check_conditionals", ["model", "conditional", "max_units", "atol"],
        aliases=MODEL_ALIASES)
def _check_conditionals(ctx):
    model = bm()

    def conditional(state, unit):
        options = np.repeat(state[None, :], 2, axis=0)
        options[:, unit] = [0, 1]
        logits = -np.asarray(model.energy(options)) / model.temperature
        return np.exp(logits - np.logaddexp(*logits))

    return _invariants().check_conditionals, dict(model=model, conditional=conditional, max_units=16, atol=1e-9)


@target("pgm_energy.testing.invariants.check_conversion",
        ["model", "network", "max_units", "evidence_per_unit", "atol"], aliases=MODEL_ALIASES)
def _check_conversion(ctx):
    model = bm()
    return _invariants().check_conversion, dict(model=model, network=model.to_markov_network(), max_units=16,
                                                evidence_per_unit=False, atol=1e-9)


@target("pgm_energy.distributed.fit_many", ["runs", "data", "validation", "rng", "client"],
        nan_ok=True)  # the table's log_likelihood is NaN without validation data, as documented
def _fit_many(ctx):
    learning = importlib.import_module("pgm_energy.learning")
    runs = [(learning.ContrastiveDivergence(epochs=1, batch_size=2, monitor=None), 2)]
    return importlib.import_module("pgm_energy.distributed").fit_many, dict(
        runs=runs, data=DATA.copy(), validation=DATA.copy(), rng=0, client=None)


@target("pgm_energy.learning.deep_boltzmann.DeepBoltzmannPCD",
        ["learning_rate", "momentum", "weight_decay", "n_chains", "k", "mean_field_iterations", "mean_field_tolerance",
         "averaging", "batch_size", "epochs", "monitor", "monitor_every", "checkpoint_every", "checkpoint_path",
         "binarize", "dtype"])
def _dbm_pcd_new(ctx):
    # The constructor's parameters only matter once fit runs: the call builds and fits.
    def build_and_fit(**options):
        return _deep_learning().DeepBoltzmannPCD(**options).fit([2, 2], DATA.copy(), rng=0, progress=False)

    return build_and_fit, dict(learning_rate=0.05, momentum=0.5, weight_decay=2e-4, n_chains=None, k=1,
                               mean_field_iterations=10, mean_field_tolerance=1e-5, averaging=1, batch_size=2,
                               epochs=2, monitor="auto", monitor_every=None, checkpoint_every=1,
                               checkpoint_path=ctx.out("dbm.ckpt.npz"), binarize=None, dtype="float32")


@target("pgm_energy.learning.deep_boltzmann.DeepBoltzmannPCD.fit", _TRAINER_CALL_PARAMS, inputs=_TRAINER_INPUTS)
def _dbm_pcd_fit(ctx):
    return _deep_learning().DeepBoltzmannPCD(epochs=2, batch_size=2, k=1).fit, dict(
        model_or_size=dboltz(), data=DATA.copy(), validation=DATA[:2].copy(), rng=0, callbacks=(), progress=False,
        resume_from=None)


@target("DeepBoltzmannPCD.fit(resume_from)", ["resume_from"], covers=(), inputs=_TRAINER_INPUTS)
def _dbm_pcd_resume(ctx):
    def write(path):
        _deep_learning().DeepBoltzmannPCD(epochs=1, batch_size=2, k=1, checkpoint_every=1,
                                          checkpoint_path=path).fit([2, 2], DATA.copy(), rng=0, progress=False)

    path = ctx.file("dbm_resume.ckpt.npz", write)
    trainer = _deep_learning().DeepBoltzmannPCD(epochs=2, batch_size=2, k=1)
    return trainer.fit, dict(model_or_size=[2, 2], data=DATA.copy(), rng=0, progress=False, resume_from=path)


@target("pgm_energy.learning.boltzmann.BoltzmannLearning",
        ["learning_rate", "epochs", "batch_size", "n_chains", "sweeps", "burn_in", "momentum", "weight_decay",
         "clamped_chains", "estimator", "monitor", "monitor_every", "checkpoint_every", "checkpoint_path", "binarize"])
def _bl_new(ctx):
    def build_and_fit(**options):
        return _learning().BoltzmannLearning(**options).fit(bm(), DATA.copy(), rng=0, progress=False)

    return build_and_fit, dict(learning_rate=0.05, epochs=2, batch_size=2, n_chains=None, sweeps=1, burn_in=2,
                               momentum=0.5, weight_decay=1e-4, clamped_chains="per_example", estimator="conditional",
                               monitor="auto", monitor_every=None, checkpoint_every=1,
                               checkpoint_path=ctx.out("bl.ckpt.npz"), binarize=None)


@target("pgm_energy.learning.boltzmann.BoltzmannLearning.fit",
        ["model", "data", "visible", "validation", "rng", "callbacks", "progress", "resume_from"],
        aliases=MODEL_ALIASES, inputs=_TRAINER_INPUTS)
def _bl_fit(ctx):
    return _learning().BoltzmannLearning(epochs=2, batch_size=2, burn_in=2).fit, dict(
        model=bm(), data=DATA.copy(), visible=None, validation=DATA[:2].copy(), rng=0, callbacks=(), progress=False,
        resume_from=None)


@target("pgm_energy.learning.callbacks.EarlyStopping", ["metric", "patience", "mode", "min_delta", "restore_best"])
def _es_new(ctx):
    # The callback's parameters matter during a fit: the call builds it and trains with it.
    def build_and_fit(**options):
        callback = _learning().EarlyStopping(**options)
        return _learning().ContrastiveDivergence(epochs=3, batch_size=2).fit(
            2, DATA.copy(), rng=0, progress=False, callbacks=[callback])

    return build_and_fit, dict(metric="log_likelihood", patience=1, mode="max", min_delta=0.0, restore_best=True)


@target("pgm_energy.learning.callbacks.EarlyStopping.final_model", ["model", "history"], aliases=MODEL_ALIASES)
def _es_final(ctx):
    return _learning().EarlyStopping("log_likelihood", patience=1).final_model, dict(model=rbm(), history=history())


@target("EarlyStopping.__call__", ["epoch", "model", "history"], covers=(), aliases=MODEL_ALIASES)
def _es_call(ctx):
    return _learning().EarlyStopping("log_likelihood", patience=1), dict(epoch=1, model=rbm(), history=history())


@target("pgm_energy.learning._result.TrainingHistory", ["records"])
def _history_new(ctx):
    return _learning().TrainingHistory, dict(records=[{"epoch": 1.0, "loss": 0.5}])


@target("pgm_energy.learning._result.TrainingHistory.append", ["record"])
def _history_append(ctx):
    return history().append, dict(record={"epoch": 3.0, "log_likelihood": -1.0})


@target("pgm_energy.learning._result.TrainingHistory.from_arrays", ["arrays"])
def _history_from_arrays(ctx):
    return _learning().TrainingHistory.from_arrays, dict(arrays=history().to_arrays())


@target("pgm_energy.learning._result.TrainingHistory.last", ["metric"])
def _history_last(ctx):
    return history().last, dict(metric="log_likelihood")


for _method in ("last_record", "to_arrays", "to_pandas"):
    target(f"pgm_energy.learning._result.TrainingHistory.{_method}")(
        lambda ctx, _method=_method: (getattr(history(), _method), {}))


@target("TrainingHistory.__getitem__", ["metric"], covers=())
def _history_getitem(ctx):
    return history().__getitem__, dict(metric="log_likelihood")


def _monitors():
    return importlib.import_module("pgm_energy.learning.monitors")


@target("pgm_energy.learning.monitors.pseudo_log_likelihood", ["rbm", "data"], aliases={"rbm": ("rbm", "model")})
def _pll(ctx):
    return _monitors().pseudo_log_likelihood, dict(rbm=rbm(), data=DATA.copy())


# spec is the trainers' monitor= option: messages say "monitor"
@target("pgm_energy.learning.monitors.check_monitor_spec", ["spec"], aliases={"spec": ("monitor",)})
def _check_spec(ctx):
    return _monitors().check_monitor_spec, dict(spec=("log_likelihood", "pseudo_log_likelihood"))


@target("pgm_energy.learning.monitors.history_keys")
def _history_keys(ctx):
    return _monitors().history_keys, {}


@target("pgm_energy.learning.monitors.build_monitors", ["spec", "template", "train", "validation", "seed"],
        aliases={"spec": ("monitor",)})
def _build_monitors(ctx):
    return _monitors().build_monitors, dict(spec="auto", template=rbm(), train=DATA.copy(),
                                            validation=DATA[:2].copy(), seed=0)


_MONITOR_CLASSES = {"FreeEnergyGap": {}, "PseudoLogLikelihood": {}, "ExactLogLikelihood": {"max_units": 30},
                    "AISLogLikelihood": {"n_runs": 4}}
for _name, _options in _MONITOR_CLASSES.items():
    def _monitor_new(ctx, _name=_name, _options=_options):
        # A monitor is used by a trainer: the call builds it and trains with it.
        def build_and_fit(**options):
            monitor = getattr(_monitors(), _name)(**options)
            return _learning().ContrastiveDivergence(epochs=1, batch_size=2, monitor=[monitor]).fit(
                2, DATA.copy(), validation=DATA[:2].copy(), rng=0, progress=False)

        return build_and_fit, dict(_options)

    target(f"pgm_energy.learning.monitors.{_name}", list(_options))(_monitor_new)

    def _monitor_prepare(ctx, _name=_name, _options=_options):
        monitor = getattr(_monitors(), _name)(**_options)
        return monitor.prepare, dict(template=rbm(), train=DATA.copy(), validation=DATA[:2].copy().astype(float),
                                     subset=DATA[:3].copy().astype(float), seed=0)

    target(f"pgm_energy.learning.monitors.{_name}.prepare", ["template", "train", "validation", "subset", "seed"])(
        _monitor_prepare)

    def _monitor_call(ctx, _name=_name, _options=_options):
        monitor = getattr(_monitors(), _name)(**_options)
        monitor.prepare(rbm(), DATA.copy(), DATA[:2].astype(float), DATA[:3].astype(float), 0)
        return monitor, dict(model=rbm(), epoch=1)

    target(f"{_name}.__call__", ["model", "epoch"], covers=(), aliases=MODEL_ALIASES)(_monitor_call)


@target("pgm_energy.learning.monitors.MeanFieldBound", ["n_runs", "betas", "exact_log_z", "max_units"])
def _mean_field_bound_new(ctx):
    # A monitor is used by a trainer: the call builds it and trains a deep Boltzmann machine with it.
    def build_and_fit(**options):
        monitor = _monitors().MeanFieldBound(**options)
        return _deep_learning().DeepBoltzmannPCD(epochs=1, batch_size=2, k=1, monitor=[monitor]).fit(
            [2, 2], DATA.copy(), validation=DATA[:2].copy(), rng=0, progress=False)

    return build_and_fit, dict(n_runs=4, betas=20, exact_log_z=False, max_units=30)


@target("pgm_energy.learning.monitors.MeanFieldBound.prepare", ["template", "train", "validation", "subset", "seed"])
def _mean_field_bound_prepare(ctx):
    monitor = _monitors().MeanFieldBound(n_runs=4, betas=20)
    return monitor.prepare, dict(template=dboltz(), train=DATA.copy(), validation=DATA[:2].copy().astype(float),
                                 subset=DATA[:3].copy().astype(float), seed=0)


@target("MeanFieldBound.__call__", ["model", "epoch"], covers=(), aliases=MODEL_ALIASES)
def _mean_field_bound_call(ctx):
    monitor = _monitors().MeanFieldBound(n_runs=4, betas=20)
    monitor.prepare(dboltz(), DATA.copy(), DATA[:2].astype(float), DATA[:3].astype(float), 0)
    return monitor, dict(model=dboltz(seed=1), epoch=1)


target("pgm_energy.learning.monitors.Monitor", covers=("pgm_energy.learning.monitors.Monitor",
                                                        "pgm_energy.learning.monitors.Monitor.prepare"))(
    lambda ctx: ((lambda: _monitors().Monitor().prepare(rbm(), DATA, None, DATA.astype(float), 0)), {}))


def _boltzmann_learning():
    return importlib.import_module("pgm_energy.learning.boltzmann")


@target("pgm_energy.learning.boltzmann.resolve_visible", ["model", "visible"], aliases=MODEL_ALIASES)
def _resolve_visible(ctx):
    return _boltzmann_learning().resolve_visible, dict(model=bm(), visible=None)


@target("pgm_energy.learning.boltzmann.prepare_graph", ["model", "visible"], aliases=MODEL_ALIASES)
def _prepare_graph(ctx):
    model = bm()
    return _boltzmann_learning().prepare_graph, dict(model=model, visible=np.array(model.visible))


@target("pgm_energy.learning.boltzmann.graph_from_edges", ["n_units", "rows", "cols", "visible"])
def _graph_from_edges(ctx):
    return _boltzmann_learning().graph_from_edges, dict(n_units=3, rows=np.array([0, 1]), cols=np.array([1, 2]),
                                                        visible=np.array([True, True, False]))


def _bl_pieces():
    """A prepared graph, parameters and chains, as BoltzmannLearning builds them."""
    module = _boltzmann_learning()
    model = bm()
    graph, edge_weights = module.prepare_graph(model, np.array(model.visible))
    data = DATA.astype(np.uint8)
    chains = module.new_chains(graph, data, n_clamped=2, n_chains=2, generator=np.random.default_rng(0))
    biases = np.array(model.biases, dtype=np.float64)
    return module, graph, np.asarray(edge_weights, dtype=np.float64), biases, data, chains


@target("pgm_energy.learning.boltzmann.new_chains", ["graph", "data", "n_clamped", "n_chains", "generator"])
def _new_chains(ctx):
    module, graph, _, _, data, _ = _bl_pieces()
    return module.new_chains, dict(graph=graph, data=data, n_clamped=2, n_chains=2,
                                   generator=np.random.default_rng(0))


@target("pgm_energy.learning.boltzmann.estimate_gradient",
        ["graph", "edge_weights", "biases", "beta", "batch", "rows", "chains", "sweeps", "estimator"])
def _estimate_gradient(ctx):
    module, graph, edge_weights, biases, data, chains = _bl_pieces()
    return module.estimate_gradient, dict(graph=graph, edge_weights=edge_weights, biases=biases, beta=1.0,
                                          batch=data[:2], rows=np.array([0, 1]), chains=chains, sweeps=1,
                                          estimator="conditional")


@target("pgm_energy.learning.boltzmann.burn_in",
        ["graph", "edge_weights", "biases", "beta", "chains", "data", "rows", "sweeps"])
def _burn_in(ctx):
    module, graph, edge_weights, biases, data, chains = _bl_pieces()
    rows = np.array([0, 1])
    return module.burn_in, dict(graph=graph, edge_weights=edge_weights, biases=biases, beta=1.0, chains=chains,
                                data=data[rows], rows=rows, sweeps=1)


@target("pgm_energy.learning.boltzmann.phase_statistics",
        ["graph", "storage", "biases", "beta", "samples", "clamped_units", "estimator"])
def _phase_statistics(ctx):
    module, graph, edge_weights, biases, data, chains = _bl_pieces()
    # the storage phase_statistics documents taking
    storage = importlib.import_module("pgm_energy.learning._boltzmann_graph").kernel_weights(graph, edge_weights)
    return module.phase_statistics, dict(graph=graph, storage=storage, biases=biases, beta=1.0,
                                         samples=np.array(chains.fantasy), clamped_units=np.array(graph.visible),
                                         estimator="conditional")


@target("pgm_energy.learning.contrastive_divergence.hinton_momentum", ["epoch"])
def _hinton_momentum(ctx):
    return importlib.import_module("pgm_energy.learning.contrastive_divergence").hinton_momentum, dict(epoch=3)


@target("pgm_energy.learning.contrastive_divergence.initial_rbm", ["n_hidden", "data", "visible_names", "rng"])
def _initial_rbm(ctx):
    return importlib.import_module("pgm_energy.learning.contrastive_divergence").initial_rbm, dict(
        n_hidden=2, data=DATA.copy(), visible_names=("v0", "v1", "v2"), rng=np.random.default_rng(0))


@target("pgm_energy.learning.exact_gradient.log_likelihood_gradient", ["rbm", "data", "max_units"],
        aliases={"rbm": ("rbm", "model")})
def _ll_gradient(ctx):
    return importlib.import_module("pgm_energy.learning.exact_gradient").log_likelihood_gradient, dict(
        rbm=rbm(), data=DATA.copy(), max_units=20)


# --------------------------------------------------------------------------- interop
def _interop(name):
    return importlib.import_module(f"pgm_energy.interop.{name}")


@target("pgm_energy.interop.pgmpy.to_markov_network", ["model"], aliases=MODEL_ALIASES)
def _to_mn(ctx):
    return _interop("pgmpy").to_markov_network, dict(model=rbm())


@target("pgm_energy.interop.pgmpy.from_markov_network", ["markov_network"])
def _from_mn(ctx):
    return _interop("pgmpy").from_markov_network, dict(markov_network=markov_network())


@target("pgm_energy.interop.pgmpy.to_bayesian_network", ["sbn"], aliases={"sbn": ("sbn", "model", "network")})
def _to_bn(ctx):
    return _interop("pgmpy").to_bayesian_network, dict(sbn=sbn())


@target("pgm_energy.interop.pgmpy.binary_factor", ["variables", "values"])
def _binary_factor(ctx):
    return _interop("pgmpy").binary_factor, dict(variables=["a", "b"], values=np.array([1.0, 2.0, 3.0, 4.0]))


@target("pgm_energy.interop.pgmpy.variable_elimination_query", ["markov_network", "variables", "evidence"])
def _ve_query(ctx):
    return _interop("pgmpy").variable_elimination_query, dict(markov_network=markov_network(),
                                                              variables=["v0"], evidence={"v1": 1})


@target("pgm_energy.interop.pgmpy_gibbs.GibbsSampling", ["model"])
def _pgmpy_gibbs_new(ctx):
    return _interop("pgmpy_gibbs").GibbsSampling, dict(model=bayesian_network())


@target("pgm_energy.interop.pgmpy_gibbs.GibbsSampling.sample",
        ["start_state", "size", "seed", "include_latents", "evidence", "burn_in", "thin", "state_names"])
def _pgmpy_gibbs_sample(ctx):
    return _interop("pgmpy_gibbs").GibbsSampling(markov_network()).sample, dict(
        start_state=None, size=5, seed=0, include_latents=False, evidence=None, burn_in=2, thin=1, state_names=False)


@target("GibbsSampling(BayesianNetwork).sample(restarts)", ["size", "evidence", "restarts"], covers=())
def _pgmpy_gibbs_restarts(ctx):
    return _interop("pgmpy_gibbs").GibbsSampling(bayesian_network()).sample, dict(size=6, evidence=None, restarts=3)


@target("pgm_energy.interop.pgmpy_gibbs.GibbsSampling.generate_sample",
        ["start_state", "size", "include_latents", "seed", "evidence"])
def _pgmpy_gibbs_generate(ctx):
    sampler = _interop("pgmpy_gibbs").GibbsSampling(markov_network())

    def consume(**options):
        return list(sampler.generate_sample(**options))

    return consume, dict(start_state=None, size=3, include_latents=False, seed=0, evidence=None)


@target("pgm_energy.interop.pgmpy_gibbs.GibbsSampling.set_start_state", ["start_state"])
def _pgmpy_gibbs_start(ctx):
    return _interop("pgmpy_gibbs").GibbsSampling(markov_network()).set_start_state, dict(start_state=None)


@target("pgm_energy.interop.pgmpy_sampling.BayesianModelSampling", ["model"])
def _pgmpy_sampling_new(ctx):
    return _interop("pgmpy_sampling").BayesianModelSampling, dict(model=bayesian_network())


@target("pgm_energy.interop.pgmpy_sampling.compile_network", ["model"])
def _pgmpy_compile_network(ctx):
    return _interop("pgmpy_sampling").compile_network, dict(model=bayesian_network())


@target("pgm_energy.interop.pgmpy_sampling.BayesianModelSampling.forward_sample",
        ["size", "include_latents", "seed", "show_progress", "partial_samples", "n_jobs"])
def _pgmpy_forward(ctx):
    return _interop("pgmpy_sampling").BayesianModelSampling(bayesian_network()).forward_sample, dict(
        size=5, include_latents=False, seed=0, show_progress=False, partial_samples=None, n_jobs=-1)


@target("pgm_energy.interop.pgmpy_sampling.BayesianModelSampling.likelihood_weighted_sample",
        ["evidence", "size", "include_latents", "seed", "show_progress", "n_jobs"])
def _pgmpy_weighted(ctx):
    return _interop("pgmpy_sampling").BayesianModelSampling(bayesian_network()).likelihood_weighted_sample, dict(
        evidence=[], size=5, include_latents=False, seed=0, show_progress=False, n_jobs=-1)


@target("pgm_energy.interop.pgmpy_sampling.BayesianModelSampling.rejection_sample",
        ["evidence", "size", "include_latents", "seed", "show_progress", "partial_samples"])
def _pgmpy_rejection(ctx):
    return _interop("pgmpy_sampling").BayesianModelSampling(bayesian_network()).rejection_sample, dict(
        evidence=[], size=5, include_latents=False, seed=0, show_progress=False, partial_samples=None)


@target("pgm_energy.interop.pgmpy_sampling.ApproxInference", ["model"])
def _approx_new(ctx):
    return _interop("pgmpy_sampling").ApproxInference, dict(model=bayesian_network())


def _first_node():
    return list(bayesian_network().nodes())[0]


@target("pgm_energy.interop.pgmpy_sampling.ApproxInference.query",
        ["variables", "n_samples", "samples", "evidence", "virtual_evidence", "joint", "state_names", "show_progress",
         "seed"])
def _approx_query(ctx):
    return _interop("pgmpy_sampling").ApproxInference(bayesian_network()).query, dict(
        variables=[_first_node()], n_samples=50, samples=None, evidence=None, virtual_evidence=None, joint=True,
        state_names=None, show_progress=False, seed=0)


@target("pgm_energy.interop.pgmpy_sampling.ApproxInference.map_query",
        ["variables", "n_samples", "samples", "evidence", "virtual_evidence", "state_names", "show_progress", "seed"])
def _approx_map(ctx):
    return _interop("pgmpy_sampling").ApproxInference(bayesian_network()).map_query, dict(
        variables=[_first_node()], n_samples=50, samples=None, evidence=None, virtual_evidence=None,
        state_names=None, show_progress=False, seed=0)


@target("pgm_energy.interop.pgmpy_gibbs.compile_factors", ["factors", "variables"])
def _compile_factors(ctx):
    network = markov_network()
    return _interop("pgmpy_gibbs").compile_factors, dict(factors=list(network.get_factors()),
                                                         variables=list(network.nodes()))


@target("pgm_energy.interop.networkx.to_networkx", ["model"], aliases=MODEL_ALIASES)
def _to_nx(ctx):
    return _interop("networkx").to_networkx, dict(model=bm())


@target("pgm_energy.interop.networkx.from_networkx", ["graph", "nodes", "sparse"])
def _from_nx(ctx):
    return _interop("networkx").from_networkx, dict(graph=bm().graph, nodes=None, sparse=None)


@target("from_networkx(int labels)", ["graph", "nodes"], covers=())
def _from_nx_int(ctx):
    import networkx as nx

    graph = nx.path_graph(4)
    nx.set_edge_attributes(graph, 0.5, "weight")
    return _interop("networkx").from_networkx, dict(graph=graph, nodes=None)


@target("pgm_energy.interop.dimod.to_bqm", ["model", "vartype"], aliases=MODEL_ALIASES)
def _to_bqm(ctx):
    return _interop("dimod").to_bqm, dict(model=bm(), vartype="BINARY")


@target("pgm_energy.interop.dimod.from_bqm", ["bqm", "temperature", "sparse"])
def _from_bqm(ctx):
    return _interop("dimod").from_bqm, dict(bqm=_interop("dimod").to_bqm(bm()), temperature=1.0, sparse=None)


@target("pgm_energy.interop._dimod_sampler.BoltzmannSampler.sample",
        ["bqm", "num_reads", "num_sweeps", "num_sweeps_per_beta", "beta_range", "beta_schedule_type", "seed",
         "initial_states", "randomize_order", "scan", "proposal_acceptance_criteria"],
        covers=("pgm_energy.interop.dimod.BoltzmannSampler", "pgm_energy.interop.dimod.BoltzmannSampler.sample"))
def _dimod_sample(ctx):
    sampler = _interop("dimod").BoltzmannSampler()
    return sampler.sample, dict(bqm=_interop("dimod").to_bqm(bm()), num_reads=3, num_sweeps=10,
                                num_sweeps_per_beta=1, beta_range=None, beta_schedule_type="geometric", seed=0,
                                initial_states=None, randomize_order=False, scan=None,
                                proposal_acceptance_criteria="Gibbs")


def _sklearn():
    return _interop("sklearn").BernoulliRBM


_SK_PARAMS = {"n_components": 2, "learning_rate": 0.1, "batch_size": 2, "n_iter": 2, "verbose": 0, "random_state": 0,
              "k": 1, "persistent": True, "momentum": 0.0, "weight_decay": 0.0, "shuffle": True, "dtype": None,
              "out_of_range": "error", "binarize": None, "log_z": "auto", "ais_runs": 4, "ais_steps": None}


@target("pgm_energy.interop.sklearn.BernoulliRBM", list(_SK_PARAMS))
def _sk_new(ctx):
    # scikit-learn estimators validate in fit: the call builds, fits and scores.
    def build_fit_score(**params):
        estimator = _sklearn()(**params).fit(DATA.astype(float))
        return estimator.score_samples(DATA.astype(float))

    return build_fit_score, dict(_SK_PARAMS)


def _fitted_sk():
    return _sklearn()(n_components=2, n_iter=1, batch_size=2, random_state=0).fit(DATA.astype(float))


for _method, _params in (("fit", ["X", "y"]), ("partial_fit", ["X", "y"]), ("fit_transform", ["X", "y"]),
                         ("transform", ["X"]), ("score_samples", ["X"]), ("gibbs", ["v"])):
    def _sk_method(ctx, _method=_method, _params=_params):
        estimator = _fitted_sk() if _method in ("transform", "score_samples", "gibbs") else _sklearn()(
            n_components=2, n_iter=1, batch_size=2, random_state=0)
        valid = {name: (DATA.astype(float) if name in ("X", "v") else None) for name in _params}
        return getattr(estimator, _method), valid

    target(f"pgm_energy.interop.sklearn.BernoulliRBM.{_method}", _params)(_sk_method)

# get_params / set_params / get_feature_names_out are scikit-learn's own (inherited, not fuzzed here).


def _sklearn_gaussian():
    return _interop("sklearn_gaussian").GaussianBernoulliRBM


#: real-valued rows for the Gaussian estimator (six rows: fit needs more than one)
_SKG_X = np.array([[0.3, -1.2, 2.0], [1.0, 0.0, -0.5], [-0.7, 0.4, 1.1], [0.2, 0.9, -1.3], [1.5, -0.3, 0.0],
                   [-1.1, 0.6, 0.8]])
_SKG_PARAMS = {"n_components": 2, "method": "cd", "learning_rate": 0.01, "batch_size": 2, "n_iter": 2, "k": 1,
               "weight_decay": 1e-2, "standardize": True, "whiten": False, "random_state": 0, "verbose": 0}


@target("pgm_energy.interop.sklearn_gaussian.GaussianBernoulliRBM", list(_SKG_PARAMS))
def _skg_new(ctx):
    # scikit-learn estimators validate in fit: the call builds, fits and scores.
    def build_fit_score(**params):
        estimator = _sklearn_gaussian()(**params).fit(_SKG_X)
        return estimator.score_samples(_SKG_X)

    return build_fit_score, dict(_SKG_PARAMS)


def _fitted_skg():
    return _sklearn_gaussian()(n_components=2, n_iter=1, batch_size=2, random_state=0).fit(_SKG_X)


for _method, _params in (("fit", ["X", "y"]), ("transform", ["X"]), ("score_samples", ["X"]), ("score", ["X", "y"])):
    def _skg_method(ctx, _method=_method, _params=_params):
        estimator = _sklearn_gaussian()(n_components=2, n_iter=1, batch_size=2, random_state=0) if _method == "fit" \
            else _fitted_skg()
        valid = {name: (_SKG_X if name == "X" else None) for name in _params}
        return getattr(estimator, _method), valid

    target(f"pgm_energy.interop.sklearn_gaussian.GaussianBernoulliRBM.{_method}", _params)(_skg_method)


# --------------------------------------------------------------------------- datasets, schedules, plotting, demo
def _datasets():
    return importlib.import_module("pgm_energy.datasets")


@target("pgm_energy.datasets.bars_and_stripes", ["n"])
def _bars(ctx):
    return _datasets().bars_and_stripes, dict(n=2)


@target("pgm_energy.datasets.load_digits", ["binarize", "threshold", "test_size", "rng"])
def _load_digits(ctx):
    return _datasets().load_digits, dict(binarize=True, threshold=0.5, test_size=0.2, rng=0)


@target("pgm_energy.datasets.load_mnist_5k", ["binarize", "threshold", "test_size", "rng"], slow=True)
def _load_mnist(ctx):
    return _datasets().load_mnist_5k, dict(binarize=True, threshold=0.5, test_size=0.2, rng=0)


def _schedules():
    return importlib.import_module("pgm_energy.schedules")


for _name, _valid in (("linear", dict(t_start=5.0, t_end=0.5, n=5)), ("geometric", dict(t_start=5.0, t_end=0.5, n=5)),
                      ("exponential", dict(t_start=5.0, decay=0.9, n=5)),
                      ("inverse_linear", dict(t_start=5.0, t_end=0.5, n=5))):
    target(f"pgm_energy.schedules.{_name}", list(_valid))(
        lambda ctx, _name=_name, _valid=_valid: (getattr(_schedules(), _name), dict(_valid)))


@target("pgm_energy.schedules.as_temperatures", ["schedule", "name", "allow_zero"],
        aliases={"name": ("",)})  # name= is the label messages use: with junk there, any message is fine
def _as_temperatures(ctx):
    return _schedules().as_temperatures, dict(schedule=[2.0, 1.0, 0.5], name="schedule", allow_zero=True)


@target("pgm_energy.schedules.ais_betas", ["n_steps"])
def _ais_betas(ctx):
    return _schedules().ais_betas, dict(n_steps=10)


def _plotting():
    return importlib.import_module("pgm_energy.plotting")


@target("pgm_energy.plotting.tile_images", ["images", "image_shape", "n_columns", "padding", "scale"])
def _tile(ctx):
    return _plotting().tile_images, dict(images=np.random.default_rng(0).random((3, 4)), image_shape=(2, 2),
                                         n_columns=None, padding=1, scale="each")


@target("pgm_energy.plotting.plot_images",
        ["images", "image_shape", "title", "caption", "colorbar_label", "n_columns", "padding", "scale"])
def _plot_images(ctx):
    return _plotting().plot_images, dict(images=np.random.default_rng(0).random((3, 4)), image_shape=(2, 2), title="t",
                                         caption="c", colorbar_label="l", n_columns=None, padding=1, scale="each")


@target("pgm_energy.plotting.save_figure", ["figure", "path", "dpi"])
def _save_figure(ctx):
    return _plotting().save_figure, dict(figure=_plotting().plot_images(np.eye(4), (2, 2)), path=ctx.out("p.png"), dpi=50)


@target("pgm_energy.demo.independent_pixel_log_likelihood", ["train", "test"])
def _indep(ctx):
    return importlib.import_module("pgm_energy.demo").independent_pixel_log_likelihood, dict(
        train=DATA.copy(), test=DATA[:2].copy())


@target("pgm_energy.demo.run_demo", ["n_hidden", "epochs", "seed", "output_dir", "progress", "out"], slow=True)
def _run_demo(ctx):
    return importlib.import_module("pgm_energy.demo").run_demo, dict(
        n_hidden=1, epochs=1, seed=0, output_dir=ctx.root / "demo", progress=False, out=_io.StringIO())


# --------------------------------------------------------------------------- testing strategies
def _testing():
    return importlib.import_module("pgm_energy.testing")


def _draw(strategy_factory):
    """Call a strategy factory, then draw one example (the draw is where bad options surface)."""

    def call(**options):
        strategy = strategy_factory(**options)
        from hypothesis import HealthCheck, given, settings

        drawn = []

        @settings(max_examples=1, database=None, derandomize=True, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(strategy)
        def take(value):
            drawn.append(value)

        take()
        return drawn[0]

    return call


for _name, _valid in (("boltzmann_machines", dict(min_units=1, max_units=4, weight_scale=2.0, bias_scale=None,
                                                  hidden=True, complete=False, sparse=False, temperature=1.0,
                                                  offset=0.0, names=None)),
                      ("restricted_boltzmann_machines", dict(min_visible=1, max_visible=3, min_hidden=1, max_hidden=3,
                                                             weight_scale=2.0, bias_scale=None, temperature=1.0,
                                                             names=None)),
                      ("temperatures", dict(min_value=0.25, max_value=4.0))):
    target(f"pgm_energy.testing.strategies.{_name}", list(_valid))(
        lambda ctx, _name=_name, _valid=_valid: (_draw(getattr(_testing(), _name)), dict(_valid)))

for _name, _valid in (("binary_states", dict(batch=2)), ("visible_states", dict(batch=2)),
                      ("hidden_states", dict(batch=2)), ("evidence", dict(variables=None, min_size=0, max_size=2))):
    target(f"pgm_energy.testing.strategies.{_name}", ["model"] + list(_valid), aliases=MODEL_ALIASES)(
        lambda ctx, _name=_name, _valid=_valid: (_draw(getattr(_testing(), _name)), dict(model=rbm(), **_valid)))


for _name, _valid in (("potts_machines", dict(min_variables=1, max_variables=3, min_states=1, max_states=3,
                                              coupling_scale=2.0, field_scale=None, hidden=True, state_names=False,
                                              temperature=1.0, offset=0.0)),
                      ("categorical_rbms", dict(min_visible=1, max_visible=3, min_states=2, max_states=3, min_hidden=1,
                                                max_hidden=3, weight_scale=2.0, bias_scale=None, temperature=1.0)),
                      ("gaussian_bernoulli_rbms", dict(min_visible=1, max_visible=3, min_hidden=1, max_hidden=3,
                                                       weight_scale=1.0, bias_scale=None, min_sigma=0.5, max_sigma=2.0,
                                                       temperature=1.0))):
    target(f"pgm_energy.testing.categorical_strategies.{_name}", list(_valid))(
        lambda ctx, _name=_name, _valid=_valid: (_draw(getattr(_testing(), _name)), dict(_valid)))

target("pgm_energy.testing.deep_strategies.deep_boltzmann_machines",
       ["min_layers", "max_layers", "min_units", "max_units", "weight_scale", "bias_scale", "temperature"])(
    lambda ctx: (_draw(_testing().deep_boltzmann_machines),
                 dict(min_layers=3, max_layers=4, min_units=1, max_units=2, weight_scale=2.0, bias_scale=None,
                      temperature=1.0)))

target("pgm_energy.testing.deep_strategies.sigmoid_belief_networks",
       ["min_layers", "max_layers", "min_units", "max_units", "weight_scale", "bias_scale", "temperature"])(
    lambda ctx: (_draw(_testing().sigmoid_belief_networks),
                 dict(min_layers=2, max_layers=3, min_units=1, max_units=2, weight_scale=2.0, bias_scale=None,
                      temperature=1.0)))
target("pgm_energy.testing.deep_strategies.deep_belief_networks",
       ["min_layers", "max_layers", "min_units", "max_units", "weight_scale", "bias_scale"])(
    lambda ctx: (_draw(_testing().deep_belief_networks),
                 dict(min_layers=3, max_layers=4, min_units=1, max_units=2, weight_scale=2.0, bias_scale=None)))
target("pgm_energy.testing.pgmpy_strategies.discrete_bayesian_networks",
       ["dag", "min_nodes", "max_nodes", "max_parents", "max_cardinality", "state_names", "zero_probability"])(
    lambda ctx: (_draw(_testing().discrete_bayesian_networks),
                 dict(dag=None, min_nodes=1, max_nodes=3, max_parents=2, max_cardinality=3, state_names=True,
                      zero_probability=0.2)))
target("pgm_energy.testing.pgmpy_strategies.discrete_markov_networks",
       ["graph", "min_nodes", "max_nodes", "max_degree", "max_cardinality", "state_names", "zero_probability"])(
    lambda ctx: (_draw(_testing().discrete_markov_networks),
                 dict(graph=None, min_nodes=1, max_nodes=3, max_degree=2, max_cardinality=3, state_names=True,
                      zero_probability=0.2)))
target("pgm_energy.testing.pgmpy_strategies.pgmpy_evidence", ["model", "max_size"])(
    lambda ctx: (_draw(_testing().pgmpy_evidence), dict(model=bayesian_network(), max_size=2)))

for _name, _factory, _valid in (("categorical_states", potts, dict(batch=2)),
                                ("real_states", grbm, dict(batch=2, scale=3.0)),
                                ("categorical_evidence", potts, dict(min_size=0, max_size=2))):
    target(f"pgm_energy.testing.categorical_strategies.{_name}", ["model"] + list(_valid), aliases=MODEL_ALIASES)(
        lambda ctx, _name=_name, _factory=_factory, _valid=_valid: (_draw(getattr(_testing(), _name)),
                                                                    dict(model=_factory(), **_valid)))


# --------------------------------------------------------------------------- CLI
CLI_ALIASES = {
    "--chains": ("--chains", "chains", "n_chains"), "-n": ("-n", "n_samples", "argument -n"),
    "--burn-in": ("--burn-in", "burn_in"), "--thin": ("--thin", "thin"), "--temperature": ("--temperature", "temperature"),
    "--evidence": ("--evidence", "evidence"), "--seed": ("--seed", "seed", "rng"), "-o": ("-o", "--output", "output"),
    "--hidden": ("--hidden", "hidden", "n_hidden"), "--epochs": ("--epochs", "epochs"),
    "--batch-size": ("--batch-size", "batch_size"), "--learning-rate": ("--learning-rate", "learning_rate"),
    "--weight-decay": ("--weight-decay", "weight_decay"), "-k": ("-k", "argument -k", " k "),
    "--runs": ("--runs", "runs", "n_runs"), "--data": ("--data", "DATA", "data"), "--scan": ("--scan", "scan"),
    "--method": ("--method", "method"), "--dtype": ("--dtype", "dtype"), "--output-dir": ("--output-dir", "output_dir"),
    "model": ("model", "MODEL", "file"), "data": ("data", "DATA", "file"),
}


@target("pgm_energy.cli.main[sample]", ["model", "-n", "--chains", "--burn-in", "--thin", "--scan", "--temperature",
                                        "--evidence", "--seed", "-o"],
        covers=("pgm_energy.cli.main",), aliases=CLI_ALIASES, kind="cli", inputs=["model"])
def _cli_sample(ctx):
    return [("command", ["sample"]), ("model", [str(saved(ctx, "rbm"))]), ("-n", ["-n", "3"]),
            ("--chains", ["--chains", "2"]), ("--burn-in", ["--burn-in", "2"]), ("--thin", ["--thin", "1"]),
            ("--scan", ["--scan", "sequential"]), ("--temperature", ["--temperature", "1.0"]),
            ("--evidence", ["--evidence", "v0=1"]), ("--seed", ["--seed", "0"]),
            ("-o", ["-o", str(ctx.out("samples.csv"))]), ("--no-progress", ["--no-progress"])]


@target("pgm_energy.cli.main[train]", ["data", "--hidden", "-o", "--epochs", "--batch-size", "--learning-rate",
                                       "--weight-decay", "-k", "--dtype", "--seed"],
        covers=("pgm_energy.cli.main",), aliases=CLI_ALIASES, kind="cli", inputs=["data"])
def _cli_train(ctx):
    return [("command", ["train"]), ("data", [str(data_file(ctx, ".csv"))]), ("--hidden", ["--hidden", "2"]),
            ("-o", ["-o", str(ctx.out("trained.npz"))]), ("--epochs", ["--epochs", "1"]),
            ("--batch-size", ["--batch-size", "2"]), ("--learning-rate", ["--learning-rate", "0.1"]),
            ("--weight-decay", ["--weight-decay", "0"]), ("-k", ["-k", "1"]), ("--dtype", ["--dtype", "float64"]),
            ("--seed", ["--seed", "0"]), ("--no-progress", ["--no-progress"])]


@target("pgm_energy.cli.main[logz]", ["model", "--method", "--runs", "--data", "--seed"],
        covers=("pgm_energy.cli.main",), aliases=CLI_ALIASES, kind="cli", inputs=["model", "--data"])
def _cli_logz(ctx):
    return [("command", ["logz"]), ("model", [str(saved(ctx, "rbm"))]), ("--method", ["--method", "ais"]),
            ("--runs", ["--runs", "4"]), ("--data", ["--data", str(data_file(ctx, ".npy"))]),
            ("--seed", ["--seed", "0"])]


@target("pgm_energy.cli.main[logz bm]", ["model", "--method"], covers=("pgm_energy.cli.main",),
        aliases=CLI_ALIASES, kind="cli", inputs=["model"])
def _cli_logz_bm(ctx):
    return [("command", ["logz"]), ("model", [str(saved(ctx, "bm"))]), ("--method", ["--method", "auto"])]


@target("pgm_energy.cli.main[demo]", ["--hidden", "--epochs", "--seed", "--output-dir"],
        covers=("pgm_energy.cli.main",), aliases=CLI_ALIASES, kind="cli", slow=True)
def _cli_demo(ctx):
    return [("command", ["demo"]), ("--hidden", ["--hidden", "1"]), ("--epochs", ["--epochs", "1"]),
            ("--seed", ["--seed", "0"]), ("--output-dir", ["--output-dir", str(ctx.root / "demo_cli")]),
            ("--no-progress", ["--no-progress"])]


# --------------------------------------------------------------------------- self-test entries (oracle and worker)
if os.environ.get("PGM_FUZZ_SELFTEST"):
    def _selftest(behaviour):
        def call(x=1):
            if behaviour == "segfault":
                import ctypes

                ctypes.string_at(0)  # reads address 0: SIGSEGV
            if behaviour == "nan":
                return np.array([1.0, np.nan])
            if behaviour == "index_error":
                return [][0]
            if behaviour == "replace" and isinstance(x, str):  # an unchecked atomic write over the path given
                with open(x + ".tmp", "wb") as handle:
                    handle.write(b"x")
                os.replace(x + ".tmp", x)
                return x
            if behaviour == "named":
                from pgm_energy.exceptions import ValidationError

                raise ValidationError(f"x must be 1, got {x!r}")
            return x

        return call

    for _behaviour in ("segfault", "nan", "index_error", "named", "fine", "replace"):
        target(f"<selftest {_behaviour}>", ["x"], covers=())(lambda ctx, _b=_behaviour: (_selftest(_b), dict(x=1)))


# --------------------------------------------------------------------------- public surface (for the meta-test)
#: plain record types: they store what they are given and compute nothing
RECORD_TYPES_NOTE = "a NamedTuple/dataclass record: stores its fields, validates and computes nothing"


def _is_record(obj) -> bool:
    return inspect.isclass(obj) and ((issubclass(obj, tuple) and hasattr(obj, "_fields")) or dataclasses.is_dataclass(obj))


def public_modules() -> list[str]:
    import pgm_energy

    names = ["pgm_energy"]
    for info in pkgutil.walk_packages(pgm_energy.__path__, "pgm_energy."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.append(info.name)
    return sorted(names)


def public_callables() -> dict[str, str]:
    """Every public callable: ``key -> where it is exported``. Keys as in ``Target.covers``.

    Functions and classes in the ``__all__`` of each public module, and the public
    methods (defined in pgm_energy) of those classes. Exceptions, constants and
    plain record types (see :data:`RECORD_TYPES_NOTE`) are left out; a record type's
    own methods are not.
    """
    found: dict[str, str] = {}
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            try:
                obj = getattr(module, name)
            except AttributeError:
                obj = importlib.import_module(f"{module_name}.{name}")
            if inspect.ismodule(obj) or not callable(obj):
                continue
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue
            if not getattr(obj, "__module__", "").startswith("pgm_energy"):
                continue
            owner = f"{obj.__module__}.{obj.__qualname__}"
            if not _is_record(obj):
                found.setdefault(owner, f"{module_name}.{name}")
            if not inspect.isclass(obj):
                continue
            for attribute in dir(obj):
                if attribute.startswith("_"):
                    continue
                raw = inspect.getattr_static(obj, attribute)
                function = raw.__func__ if isinstance(raw, (classmethod, staticmethod)) else raw
                if isinstance(raw, property) or not callable(function):
                    continue
                if not getattr(function, "__module__", "").startswith("pgm_energy"):
                    continue
                found.setdefault(f"{owner}.{attribute}", f"{module_name}.{name}.{attribute}")
    return found


def covered() -> set[str]:
    return {key for entry in REGISTRY.values() for key in entry.covers}


# --------------------------------------------------------------------------- junk
def _sparse(data, indices, indptr, shape):
    """A CSR array from raw arrays, built without any scipy routine touching the indices."""
    import scipy.sparse as sp

    return sp.csr_array((np.asarray(data), np.asarray(indices), np.asarray(indptr)), shape=shape)


def _n(valid) -> int:
    """A size for junk arrays: the valid value's width when it has one."""
    try:
        array = np.asarray(valid)
        if array.dtype != object and array.ndim >= 1 and array.shape[-1] > 0:
            return int(array.shape[-1])
    except Exception:
        pass
    return 3


def _derive(transform):
    """Junk derived from a valid array-like value (or from a 0/1 array when the valid value is not one)."""

    def factory(valid, ctx):
        try:
            base = np.array(valid)
            if base.dtype == object or base.dtype.kind not in "biuf" or base.ndim == 0 or base.size == 0:
                raise TypeError
        except Exception:
            base = np.array([[0, 1, 1], [1, 0, 1]], dtype=np.uint8)
        return transform(base)

    return factory


def _with(value_kind, value):
    def transform(base):
        out = base.astype(np.float64 if isinstance(value, float) else np.int64)
        out.flat[0] = value
        return out

    return transform


def _elementwise(valid, ctx):
    """A list/tuple of arrays with its first element spoiled (for weights=[W1, W2] and the like)."""
    if isinstance(valid, (list, tuple)) and valid and isinstance(valid[0], np.ndarray):
        items = list(valid)
        items[0] = np.full_like(items[0], np.nan, dtype=np.float64)
        if hasattr(valid, "_make"):  # a NamedTuple (BoltzmannChains) takes its fields one by one
            return valid._make(items)
        return type(valid)(items)
    return [np.full(3, np.nan)]


def _wrong_columns(valid, ctx):
    import pandas as pd

    if isinstance(valid, pd.DataFrame):
        return valid.rename(columns={valid.columns[0]: "no_such_unit"})
    return pd.DataFrame({"no_such_unit": [0, 1], "v0": [1, 0]})


def _frame_nonbinary(valid, ctx):
    import pandas as pd

    if isinstance(valid, pd.DataFrame):
        frame = valid.copy()
        frame.iloc[0, 0] = 7
        return frame
    return pd.DataFrame({"v0": [2, 0], "v1": [0.5, 1]})


def _frame_duplicate_columns(valid, ctx):
    import pandas as pd

    return pd.DataFrame([[0, 1], [1, 0]], columns=["v0", "v0"])


def _garbage_file(valid, ctx):
    return ctx.file("garbage.npz", lambda path: path.write_bytes(os.urandom(256)))


def _device(ctx) -> Path:
    """A character device in the case's folder, standing in for ``/dev/null``.

    The fuzzer runs as root on CI machines: a call that wrongly writes a file over the
    junk path (atomically: a rename) would replace the system's ``/dev/null`` with a
    regular file, breaking every process on the machine. This null-device node of the
    case's own behaves the same (reads empty, swallows writes, is not a regular file);
    without the right to make device nodes, a socket file is the non-regular stand-in.
    """
    path = ctx.root / "null_device"
    if not os.path.lexists(path):
        try:
            os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # Linux's null device
        except (OSError, AttributeError):
            import socket

            with socket.socket(socket.AF_UNIX) as server:
                server.bind(str(path))
    return path


def _replaced_device(ctx) -> bool:
    """Whether the call turned the case's device junk (:func:`_device`) into a regular file."""
    try:
        return stat.S_ISREG(os.lstat(ctx.root / "null_device").st_mode)
    except FileNotFoundError:
        return False


def _dict_evidence(mapping):
    return lambda valid, ctx: dict(mapping)


JUNK: dict[str, Callable[[Any, Context], Any]] = {
    "none": lambda v, c: None,
    "true": lambda v, c: True,
    "false": lambda v, c: False,
    "str": lambda v, c: "junk",
    "empty_str": lambda v, c: "",
    "bytes": lambda v, c: b"\x00\xff",
    "nan": lambda v, c: float("nan"),
    "inf": lambda v, c: float("inf"),
    "-inf": lambda v, c: float("-inf"),
    "-1": lambda v, c: -1,
    "0": lambda v, c: 0,
    "1.5": lambda v, c: 1.5,
    "tiny": lambda v, c: 1e-310,
    "1e308": lambda v, c: 1e308,
    "10**12": lambda v, c: 10**12,
    "2**63": lambda v, c: 2**63,
    "-2**63": lambda v, c: -(2**63),
    "np.int64": lambda v, c: np.int64(2),
    "np.float32_nan": lambda v, c: np.float32("nan"),
    "complex": lambda v, c: 1 + 2j,
    "object": lambda v, c: object(),
    "dict": lambda v, c: {"a": 1},
    "empty_dict": lambda v, c: {},
    "set": lambda v, c: {1, 2},
    "generator": lambda v, c: (x for x in range(3)),
    "empty_list": lambda v, c: [],
    "ragged": lambda v, c: [[0, 1], [1]],
    "list_of_str": lambda v, c: ["a", "b"],
    "callable": lambda v, c: (lambda *a, **k: None),
    "empty_array": lambda v, c: np.empty((0,)),
    "empty_2d": lambda v, c: np.empty((0, _n(v))),
    "scalar_array": lambda v, c: np.array(1.0),
    # arrays derived from the valid value
    "add_axis": _derive(lambda a: a[None]),
    "drop_axis": _derive(lambda a: a.ravel()),
    "extra_column": _derive(lambda a: np.concatenate([a, a[..., :1]], axis=-1)),
    "drop_column": _derive(lambda a: a[..., :-1]),
    "transpose": _derive(lambda a: np.ascontiguousarray(a.T)),
    "dtype_object": _derive(lambda a: a.astype(object)),
    "dtype_str": _derive(lambda a: a.astype(str)),
    "dtype_complex": _derive(lambda a: a.astype(complex) + 1j),
    "dtype_bool": _derive(lambda a: a.astype(bool)),
    "int8_2": _derive(lambda a: np.full(a.shape, 2, dtype=np.int8)),
    "nonbinary_2": _derive(_with("2", 2)),
    "nonbinary_-1": _derive(_with("-1", -1)),
    "nonbinary_0.5": _derive(_with("0.5", 0.5)),
    "nan_inside": _derive(_with("nan", float("nan"))),
    "inf_inside": _derive(_with("inf", float("inf"))),
    "huge_inside": _derive(_with("huge", 1e308)),
    "negative_inside": _derive(_with("neg", -5.0)),
    "non_contiguous": _derive(lambda a: np.repeat(a, 2, axis=-1)[..., ::2] if a.ndim else a),
    "elementwise_nan": _elementwise,
    # sparse matrices with bad structure (built raw: scipy's C++ routines would crash on them)
    "sparse_bad_index": lambda v, c: _sparse([1.0, 1, 2, 2], [1, 0, 1002, 1], [0, 1, 3, 4], (3, 3)),
    "sparse_negative_index": lambda v, c: _sparse([1.0, 1], [-5, 0], [0, 1, 2, 2], (3, 3)),
    "sparse_bad_indptr": lambda v, c: _sparse([1.0, 1], [1, 0], [0, 7, 2, 2], (3, 3)),
    "sparse_complex": lambda v, c: _sparse([1 + 1j, 1 + 1j], [1, 0], [0, 1, 2, 2], (3, 3)),
    "sparse_nan": lambda v, c: _sparse([np.nan, np.nan], [1, 0], [0, 1, 2, 2], (3, 3)),
    "sparse_nonsquare": lambda v, c: _sparse([1.0], [0], [0, 1, 1], (2, 3)),
    # evidence-like dicts
    "evidence_unknown": _dict_evidence({"no_such_unit": 1}),
    "evidence_value_2": _dict_evidence({"v0": 2}),
    "evidence_value_nan": _dict_evidence({"v0": float("nan")}),
    "evidence_key_int": _dict_evidence({0: 1}),
    "evidence_value_str": _dict_evidence({"v0": "maybe"}),
    # pandas
    "frame_wrong_columns": _wrong_columns,
    "frame_nonbinary": _frame_nonbinary,
    "frame_duplicate_columns": _frame_duplicate_columns,
    # paths
    "path_directory": lambda v, c: c.root,
    "path_missing": lambda v, c: c.root / "missing" / "x.npz",
    "path_missing_dir": lambda v, c: str(c.root / "no_dir" / "sub" / "x.csv"),
    "path_dev_null": lambda v, c: str(_device(c)),
    "path_garbage": _garbage_file,
}

#: junk for command-line values (strings only)
CLI_JUNK: dict[str, Callable[[Context], str]] = {
    "empty": lambda c: "",
    "-1": lambda c: "-1",
    "0": lambda c: "0",
    "1.5": lambda c: "1.5",
    "nan": lambda c: "nan",
    "inf": lambda c: "inf",
    "-inf": lambda c: "-inf",
    "1e999": lambda c: "1e999",
    "1e-310": lambda c: "1e-310",
    "10**12": lambda c: "1000000000000",
    "2**63": lambda c: "9223372036854775808",
    "word": lambda c: "junk",
    "dash": lambda c: "-",
    "nul": lambda c: "a\x00b",
    "evidence_bad": lambda c: "v0=2,,=",
    "evidence_unknown": lambda c: "zz=1",
    "evidence_repeat": lambda c: "v0=1,v0=0",
    "path_directory": lambda c: str(c.root),
    "path_missing": lambda c: str(c.root / "missing" / "x.npz"),
    "path_missing_csv": lambda c: str(c.root / "missing" / "x.csv"),
    "path_dir_named_csv": lambda c: str(_dir_named(c, "d.csv")),
    "path_dir_named_npz": lambda c: str(_dir_named(c, "d.npz")),
    "path_dev_null": lambda c: str(_device(c)),
    "path_garbage": lambda c: str(_garbage_file(None, c)),
    "path_txt": lambda c: str(c.root / "x.txt"),
    "path_nonbinary_csv": lambda c: str(c.file("nonbinary.csv", lambda p: p.write_text("a,b\n2,0\n0,1\n"))),
    "path_dup_header_csv": lambda c: str(c.file("dup.csv", lambda p: p.write_text("a,a\n1,0\n0,1\n"))),
    "path_headerless_csv": lambda c: str(c.file("nohead.csv", lambda p: p.write_text("1,0\n0,1\n1,1\n"))),
    "path_empty_csv": lambda c: str(c.file("empty.csv", lambda p: p.write_text(""))),
    "path_pickle_npy": lambda c: str(c.file("obj.npy", lambda p: np.save(p, np.array([{}], dtype=object),
                                                                          allow_pickle=True))),
}
CLI_DROP = "**drop"  # remove the option altogether


def _dir_named(ctx, name):
    path = ctx.root / name
    path.mkdir(exist_ok=True)
    return path


# --------------------------------------------------------------------------- cases and the oracle
Case = tuple  # (target name, ((param, junk kind), ...))


def describe_case(case: Case) -> str:
    name, changes = case
    return f"{name}: " + (", ".join(f"{param}={kind}" for param, kind in changes) or "valid arguments")


def build_call(case: Case, ctx: Context):
    """``(callable, args, kwargs, fuzzed)`` for a Python target; ``argv`` for a CLI target."""
    name, changes = case
    entry = REGISTRY[name]
    if entry.kind == "cli":
        parts = [(param, list(tokens)) for param, tokens in entry.build(ctx)]
        for param, kind in changes:
            if param == UNKNOWN_KEYWORD:
                parts.append((param, ["--no-such-option", "1"]))
                continue
            for part in parts:
                if part[0] == param:
                    if kind == CLI_DROP:
                        part[1].clear()
                    else:
                        part[1][-1] = ctx.junk[param] = CLI_JUNK[kind](ctx)
        return [token for _, tokens in parts for token in tokens]
    function, kwargs = entry.build(ctx)
    kwargs = dict(kwargs)
    for param, kind in changes:
        if param == UNKNOWN_KEYWORD:
            kwargs["no_such_keyword"] = 1
        else:
            kwargs[param] = ctx.junk[param] = JUNK[kind](kwargs.get(param), ctx)
    return function, kwargs


def reproducer(case: Case) -> str:
    """A one-line description precise enough to rebuild the call (see ``build_call``)."""
    return f"python tests/hardening/_fuzz_targets.py --replay {case[0]!r} " + " ".join(
        f"{param}={kind}" for param, kind in case[1])


def _has_nan(value, depth=0) -> bool:
    """Whether a float result (scalar, array, sample set, factor, record, model) holds a NaN."""
    if depth > 4 or value is None or isinstance(value, (str, bytes, bool)):
        return False
    if isinstance(value, (float, np.floating, complex, np.complexfloating)):
        return bool(np.isnan(value))
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "fc" and bool(np.isnan(value).any())
    if isinstance(value, dict):
        return any(_has_nan(item, depth + 1) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_nan(item, depth + 1) for item in value[:1000])
    module = type(value).__module__ or ""
    if module.startswith("pandas"):
        try:
            numbers = value.select_dtypes("number").to_numpy() if hasattr(value, "select_dtypes") else value.to_numpy()
            return numbers.dtype.kind in "fc" and bool(np.isnan(numbers).any())
        except Exception:
            return False
    if module.startswith("scipy.sparse"):
        return _has_nan(value.data, depth + 1)
    for attribute in ("states", "energies", "values", "weights", "biases", "visible_bias", "hidden_bias", "model",
                      "log_z", "log_weights", "mean", "records", "components_", "intercept_hidden_",
                      "intercept_visible_"):
        if attribute in ("values",) and not module.startswith("pgmpy"):
            continue
        try:
            item = getattr(value, attribute)
        except Exception:
            continue
        if callable(item):
            continue
        if _has_nan(item, depth + 1):
            return True
    return False


#: junk that only changes an array's shape: a conflict between two arrays may be reported against either
SHAPE_KINDS = frozenset({"add_axis", "drop_axis", "extra_column", "drop_column", "transpose", "empty_array",
                         "empty_2d", "scalar_array"})


def _names_param(message: str, entry: Target, changes) -> bool:
    """Whether the message names a fuzzed parameter (an alias, or its singular: 'variable' for 'variables')."""
    text = message.lower()
    params = [param for param, _ in changes if param != UNKNOWN_KEYWORD]
    if changes and all(kind in SHAPE_KINDS for _, kind in changes):
        params = list(entry.params)
    for param in params:
        names = entry.aliases.get(param, ()) + (param,) + ((param[:-1],) if param.endswith("s") else ())
        if any(name.lower() in text for name in names):
            return True
    return False


def _mentions(message: str, value) -> bool:
    """Whether a message echoes a path value (``''`` counts for the empty path)."""
    if not isinstance(value, (str, os.PathLike)):
        return False
    text = os.fspath(value)
    return isinstance(text, str) and ((bool(text) and text in message) or repr(text) in message)


def _missing_input_named(entry: Target, changes, junk: dict, message: str, kinds=MISSING_PATH_KINDS) -> bool:
    """A missing-file answer is right: a fuzzed input path names no file and the message names it or its parameter."""
    for param, kind in changes:
        if param in entry.inputs and kind in kinds:
            names = entry.aliases.get(param, ()) + (param,)
            if _mentions(message, junk.get(param)) or any(name.lower() in message.lower() for name in names):
                return True
    return False


#: command-line junk that names no existing file (every token but the paths to existing files and folders)
CLI_MISSING_KINDS = ("empty", "-1", "0", "1.5", "nan", "inf", "-inf", "1e999", "1e-310", "10**12", "2**63", "word",
                     "evidence_bad", "evidence_unknown", "evidence_repeat", "path_missing", "path_missing_csv",
                     "path_txt")


def classify(case: Case, outcome: tuple, junk: dict | None = None) -> dict:
    """Apply issue 11's oracle. ``outcome`` is ``("return", value)``, ``("raise", error)`` or ``("cli", code, stderr)``.

    ``junk`` maps each fuzzed parameter to the value it was given (see ``Context.junk``): a
    missing-file answer must echo the path (or name the parameter).
    """
    junk = junk or {}
    from pgm_energy.exceptions import PGMEnergyError, TrainingDivergedError

    name, changes = case
    entry = REGISTRY[name]
    params = [param for param, _ in changes if param != UNKNOWN_KEYWORD]
    unknown_keyword = any(param == UNKNOWN_KEYWORD for param, _ in changes)

    def verdict(status, detail, error=""):
        return {"status": status, "detail": detail[:600], "error": error}

    if outcome[0] == "cli":
        _, code, stderr = outcome
        if "Traceback" in stderr:
            return verdict("fail", "traceback on stderr: " + stderr.strip().splitlines()[-1], "Traceback")
        if code in (0, None):
            return verdict("fine", "exit 0")
        if code in (1, 2):  # the CLI's documented statuses: 1 error while working, 2 usage error
            if not changes or _names_param(stderr, entry, changes) or unknown_keyword:
                return verdict("named", stderr.strip().splitlines()[-1] if stderr.strip() else "exit 2")
            missing = any(text in stderr for text in ("No such file", "not found", "does not exist"))
            if missing and _missing_input_named(entry, changes, junk, stderr, CLI_MISSING_KINDS):
                return verdict("named", stderr.strip().splitlines()[-1])
            return verdict("fail", f"exit {code}, message does not name the option: " + stderr.strip()[-300:],
                           "unnamed")
        return verdict("fail", f"exit code {code}: {stderr.strip()[-300:]}", f"exit{code}")

    if outcome[0] == "return":
        if _has_nan(outcome[1]) and not entry.nan_ok:
            return verdict("fail", "returned a NaN", "NaN result")
        return verdict("fine", "returned")

    error = outcome[1]
    kind = type(error).__name__
    message = str(error)
    if isinstance(error, _Timeout):
        return verdict("slow", f"no answer within {CALL_TIMEOUT} s", "slow")
    if entry.refuses is not None and type(error) is entry.refuses:
        return verdict("fine", f"refused by design: {kind}: {message}")
    if isinstance(error, TrainingDivergedError):
        return verdict("named", f"{kind}: {message}")
    if unknown_keyword and isinstance(error, TypeError):  # as Python raises it for an unexpected keyword
        return verdict("named", f"{kind}: {message}")
    if isinstance(error, PGMEnergyError) and isinstance(error, (ValueError, TypeError)):
        if not changes or _names_param(message, entry, changes):
            return verdict("named" if changes else "fail", f"{kind}: {message}",
                           "" if changes else "error on valid input")
        return verdict("fail", f"{kind} does not name {'/'.join(params)}: {message}", f"{kind} (unnamed)")
    if isinstance(error, FileNotFoundError) and _missing_input_named(entry, changes, junk, message):
        return verdict("named", f"{kind}: {message}")
    return verdict("fail", f"{kind}: {message}", kind)


class _Timeout(BaseException):
    """Raised by the per-call alarm (BaseException: library ``except Exception`` must not swallow it)."""


def _alarm(signum, frame):
    raise _Timeout()


def run_case(case: Case, ctx: Context) -> dict:
    """Build and run one case in this process; return the oracle's verdict."""
    ctx.begin_case()
    try:
        return _run_in_case_folder(case, ctx)
    finally:
        ctx.end_case()


def _run_in_case_folder(case: Case, ctx: Context) -> dict:
    name, changes = case
    entry = REGISTRY[name]
    try:
        prepared = build_call(case, ctx)
    except Exception as error:  # the harness itself failed: report, never count as the library's
        return {"status": "harness", "detail": f"building the call failed: {type(error).__name__}: {error}",
                "error": "harness"}
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(CALL_TIMEOUT)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", RuntimeWarning)
            if entry.kind == "cli":
                from pgm_energy.cli import main

                stdout, stderr = _io.StringIO(), _io.StringIO()
                code = 0
                with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                    try:
                        code = main(prepared)
                    except SystemExit as exit_:
                        code = exit_.code if isinstance(exit_.code, int) or exit_.code is None else 1
                        if not isinstance(exit_.code, int) and exit_.code is not None:
                            stderr.write(str(exit_.code))
                    except _Timeout:
                        raise
                    except BaseException:
                        stderr.write(traceback.format_exc())
                        code = 1
                outcome = ("cli", code, stderr.getvalue())
            else:
                function, kwargs = prepared
                outcome = ("return", function(**kwargs))
    except _Timeout as error:
        outcome = ("raise", error)
    except (KeyboardInterrupt, SystemExit) as error:
        outcome = ("raise", error)
    except BaseException as error:
        outcome = ("raise", error)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if any(kind == "path_dev_null" for _, kind in changes) and _replaced_device(ctx):
        return {"status": "fail", "detail": "wrote a regular file over the character device given as "
                f"{'/'.join(param for param, kind in changes if kind == 'path_dev_null')} (as root, over /dev/null)",
                "error": "device replaced"}
    try:
        return classify(case, outcome, ctx.junk)
    except BaseException as error:
        return {"status": "fail", "detail": f"checking the result raised {type(error).__name__}: {error}",
                "error": type(error).__name__}


def applicable_junk(entry: Target) -> list[str]:
    return list(CLI_JUNK) + [CLI_DROP] if entry.kind == "cli" else list(JUNK)


# --------------------------------------------------------------------------- the worker subprocess
def _send(stream, obj):
    payload = pickle.dumps(obj)
    stream.write(struct.pack("<Q", len(payload)) + payload)
    stream.flush()


def _receive(stream):
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError
    (size,) = struct.unpack("<Q", header)
    return pickle.loads(stream.read(size))


def _cap_address_space() -> None:
    """Cap the address space at what the worker holds now plus 4 GiB: a huge allocation fails fast."""
    try:
        with open("/proc/self/status") as status:
            held = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    except (OSError, StopIteration):
        held = 0
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = held + ADDRESS_SPACE_CAP
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def worker_main() -> None:
    """Serve cases from stdin; answers go to the original stdout (the library's prints go to stderr)."""
    channel_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    channel_in = sys.stdin.buffer
    os.environ.setdefault("TQDM_DISABLE", "1")
    import pgm_energy  # noqa: F401  (import and warm up before the cap)
    import pgm_energy.exact  # noqa: F401
    import pgm_energy.learning  # noqa: F401
    import pgm_energy.samplers  # noqa: F401

    ctx = Context(os.environ.get("PGM_FUZZ_ROOT") or None)
    first = True
    while True:
        try:
            case = _receive(channel_in)
        except EOFError:
            return
        if first:
            # the first case loads pgmpy/scipy/numba pieces; cap memory after imports settle
            first = False
            _cap_address_space()
        verdict = run_case(case, ctx)
        if _touches_raw_sparse(case):
            # a malformed sparse array handed to scipy's unchecked C++ routines may have written out
            # of bounds without failing: shake the heap now, so a crash is charged to this case
            _heap_probe()
        _send(channel_out, verdict)


def _touches_raw_sparse(case: Case) -> bool:
    return any(kind.startswith("sparse_") for _, kind in case[1])


def _heap_probe() -> None:
    """Free garbage and churn allocations of many sizes: glibc aborts here if the heap is corrupt."""
    import gc

    gc.collect()
    keep = []
    for size in (8, 24, 40, 64, 100, 256, 1000, 4096, 20000, 200000):
        for _ in range(20):
            keep.append(np.empty(size // 8 + 1))
            keep.append(bytearray(size))
            keep.append([None] * (size // 8))
        keep = keep[::2]
    del keep
    gc.collect()


class Worker:
    """Runs cases in a subprocess; a crash or hang is a verdict, and the worker is restarted."""

    def __init__(self, log_path: Path | None = None, root: Path | None = None, env: dict | None = None):
        self.log_path = Path(log_path or tempfile.mkstemp(prefix="pgm_fuzz_worker_", suffix=".log")[1])
        self._owns_root = root is None
        # the worker starts in this folder and runs each case in a fresh folder inside it (Context.begin_case)
        self.root = Path(root or tempfile.mkdtemp(prefix="pgm_fuzz_root_"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.process = None
        self.restarts = 0
        self.history: list = []  # cases run by the current worker process
        self.env = dict(env or {})

    def _start(self):
        environment = dict(os.environ, PGM_FUZZ_ROOT=str(self.root), TQDM_DISABLE="1",
                           PYTHONFAULTHANDLER="1", **self.env)
        self.log = open(self.log_path, "ab")
        self.log_offset = self.log.tell()
        self.process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                        env=environment, cwd=str(self.root))

    def _stop(self):
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.process = None
            self.log.close()

    def run(self, case: Case, timeout: float = HARD_TIMEOUT) -> dict:
        if self.process is None:
            self._start()
            self.history = []
            timeout += 120  # imports and first compilations
        self.history.append(case)
        try:
            _send(self.process.stdin, case)
            ready, _, _ = select.select([self.process.stdout], [], [], timeout)
            if not ready:
                self._stop()
                self.restarts += 1
                return {"status": "slow", "detail": f"no answer within {timeout:.0f} s (killed; ignores SIGALRM)",
                        "error": "hang"}
            return _receive(self.process.stdout)
        except (EOFError, BrokenPipeError, pickle.UnpicklingError):
            self.process.wait()
            code = self.process.returncode
            tail = self._log_tail()
            self._stop()
            self.restarts += 1
            how = f"killed by signal {-code} ({signal.Signals(-code).name})" if code and code < 0 else f"exit {code}"
            suspects = "" if _touches_raw_sparse(case) else "; earlier cases with raw sparse junk in this worker: " + (
                "; ".join(describe_case(earlier) for earlier in self.history[:-1] if _touches_raw_sparse(earlier))
                or "none")
            return {"status": "fail", "detail": f"worker crashed: {how}; {tail}{suspects}", "error": f"crash ({how})"}

    def _log_tail(self) -> str:
        """Where the worker died: the innermost frame and the innermost pgm_energy frame of faulthandler's dump."""
        try:
            self.log.flush()
            with open(self.log_path, "rb") as log:
                log.seek(self.log_offset)
                lines = log.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        starts = [i for i, line in enumerate(lines) if "most recent call first" in line]
        if not starts:
            return " | ".join(lines[-4:])[-400:]
        frames = []
        for line in lines[starts[-1] + 1:]:
            if not line.strip().startswith("File "):
                break
            frames.append(line.strip())
        ours = [frame for frame in frames if "/pgm_energy/" in frame]
        picked = frames[:1] + ours[:1]
        return " <- ".join(dict.fromkeys(picked))

    def close(self):
        if self.process is not None and self.process.poll() is None:
            try:
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (subprocess.TimeoutExpired, OSError):
                pass
        self._stop()
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------- the hypothesis driver
def target_names(*, include_slow: bool) -> list[str]:
    return sorted(name for name, entry in REGISTRY.items() if include_slow or not entry.slow)


def case_strategy(names: list[str]):
    """A strategy of cases: an entry, one (sometimes two) of its parameters, junk for each."""
    from hypothesis import strategies as st

    @st.composite
    def cases(draw):
        name = draw(st.sampled_from(names))
        entry = REGISTRY[name]
        choices = list(entry.params) + [UNKNOWN_KEYWORD]
        count = 2 if len(choices) > 2 and draw(st.integers(0, 3)) == 0 else 1
        params = draw(st.lists(st.sampled_from(choices), min_size=count, max_size=count, unique=True))
        junk = applicable_junk(entry)
        return name, tuple((param, "-" if param == UNKNOWN_KEYWORD else draw(st.sampled_from(junk)))
                           for param in params)

    return cases()


def fuzz(worker: "Worker", n_examples: int, names: list[str], *, derandomize: bool, seed: int | None = None,
         on_result: Callable[[Case, dict], None]) -> None:
    """Run ``n_examples`` hypothesis-generated cases in ``worker``; every verdict goes to ``on_result``.

    Nothing is raised on a failing verdict, so hypothesis neither stops nor shrinks: one
    run reports every distinct failure (a case changes one or two parameters of a valid
    call, which is already minimal).
    """
    from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings

    @settings(max_examples=n_examples, deadline=None, derandomize=derandomize, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case_strategy(names))
    def one(case):
        on_result(case, worker.run(case))

    if seed is not None and not derandomize:
        one = hypothesis_seed(seed)(one)
    one()


def failure_key(case: Case, verdict: dict) -> tuple:
    """Cases failing the same way on the same entry and parameter are one finding."""
    return case[0], tuple(param for param, _ in case[1]), verdict["error"]


def _replay(argv: list[str]) -> None:
    """``--replay NAME param=kind ...``: run one case here and print its verdict (for reproducers)."""
    name, *changes = argv
    case = (name, tuple(tuple(item.split("=", 1)) for item in changes))
    ctx = Context()  # a temporary folder: relative junk paths never land where the replay was started
    try:
        print(describe_case(case))
        print(run_case(case, ctx))
        if REGISTRY[name].kind == "py":  # once more, unguarded, for the traceback
            ctx.begin_case()
            try:
                function, kwargs = build_call(case, ctx)
                function(**kwargs)
            except Exception:
                traceback.print_exc()
            finally:
                ctx.end_case()
    finally:
        shutil.rmtree(ctx.base, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker_main()
    elif sys.argv[1:2] == ["--replay"]:
        _replay(sys.argv[2:])
    else:
        raise SystemExit("usage: _fuzz_targets.py --worker | --replay NAME [param=junk ...]")

