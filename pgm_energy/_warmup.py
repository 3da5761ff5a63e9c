"""Compile (or load) every Numba kernel of the ordinary paths once: ``pgm-energy warmup``.

Numba compiles a kernel on its first call in a process and, with ``cache=True``, writes the
machine code to an on-disk cache that later processes load in milliseconds. Where that cache
lives is Numba's choice: the folder named by the ``NUMBA_CACHE_DIR`` environment variable when
it is set, else a ``__pycache__`` folder beside the package's kernels when that is writable,
else a per-user folder (``~/.cache/numba`` on Linux). A container image or a CI job that starts
from an empty cache pays every compilation again; running :func:`run_warmup` once (for example
``RUN pgm-energy warmup`` in a Dockerfile, after setting ``NUMBA_CACHE_DIR``) pays it once.

Each step makes a few small public calls that take the same kernels, with the same argument
types, as the calls of that kind on models of any size: the kernel specialisations depend on
dtypes, on the storage the model gets (dense or sparse weights, padded rows of a lattice), on
the number of chains per thread (1, 2 or 4 interleaved) and on the rule, not on the sizes.
See docs/deployment.md.
"""

from __future__ import annotations

import os
import time
from typing import Callable, NamedTuple

import numpy as np

__all__ = ["STEPS", "CacheLocation", "WarmupStep", "cache_location", "run_warmup"]


class WarmupStep(NamedTuple):
    """One step of the warmup: a ``name`` (for ``--only``), a ``description`` and the calls it makes."""

    name: str
    description: str
    run: Callable[[], None]


class CacheLocation(NamedTuple):
    """Where Numba reads and writes the package's compiled kernels.

    Attributes
    ----------
    path : str
        The folder of the kernels' cache files.
    source : str
        ``"NUMBA_CACHE_DIR"``, ``"beside the package"`` or ``"user cache"`` (Numba's fallback when
        the package's folder is read-only; Numba also falls back, silently, when the folder
        ``NUMBA_CACHE_DIR`` names cannot be created), or ``"none"``.
    writable : bool
        Whether this process can write there. If not, every process compiles its kernels again.
    """

    path: str
    source: str
    writable: bool


def cache_location() -> CacheLocation:
    """The folder where Numba caches the package's kernels in this process, and whether it is writable.

    Numba picks the folder when a kernel is defined (importing the kernels compiles nothing), in
    this order: ``NUMBA_CACHE_DIR``; ``__pycache__`` beside the kernels' source, if writable; a
    per-user folder. This asks the cache of one of the package's kernels which it picked.
    """
    from ._kernels import gibbs

    kernel = gibbs.initialise_fields
    cache = getattr(kernel, "_cache", None)
    path = getattr(cache, "_cache_path", None)
    if path is None:  # caching disabled (NUMBA_DISABLE_JIT) or a Numba without this attribute
        return CacheLocation("(none)", "none", False)
    source_folder = os.path.dirname(os.path.abspath(kernel.py_func.__code__.co_filename))
    requested = os.environ.get("NUMBA_CACHE_DIR")
    if requested and os.path.abspath(path).startswith(os.path.abspath(requested) + os.sep):
        source = "NUMBA_CACHE_DIR"
    elif os.path.dirname(os.path.abspath(path)) == source_folder:
        source = "beside the package"
    else:
        source = "user cache"
    return CacheLocation(path, source, _writable(path))


def _writable(path: str) -> bool:
    """Whether a file can be created in ``path`` (made if missing), checked by creating one."""
    import tempfile

    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".pgm-energy-write-check"):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------------------- the models of the steps
def _lattice(side: int):
    """A periodic ``side`` x ``side`` lattice with random couplings, sparse: degree 4, two colours, padded rows."""
    import scipy.sparse as sp

    from .models import BoltzmannMachine

    index = np.arange(side * side).reshape(side, side)
    rows = np.concatenate([index.ravel(), index.ravel()])
    cols = np.concatenate([np.roll(index, -1, 1).ravel(), np.roll(index, -1, 0).ravel()])
    values = np.random.default_rng(0).normal(0.0, 0.5, rows.shape[0])
    n = side * side
    upper = sp.coo_array((values, (rows, cols)), shape=(n, n))
    return BoltzmannMachine((upper + upper.T).tocsr(), np.zeros(n))


def _sparse_machine(n_units: int = 60, degree: int = 8):
    """A sparse machine whose rows are too long for padded rows (plain CSR rows), with visible and hidden units."""
    import scipy.sparse as sp

    from .models import BoltzmannMachine

    generator = np.random.default_rng(1)
    upper = sp.random_array((n_units, n_units), density=degree / n_units / 2, rng=generator, format="coo")
    upper = sp.triu(upper, 1)
    weights = (upper + upper.T).tocsr()
    return BoltzmannMachine(weights, generator.normal(0.0, 0.3, n_units), visible=np.arange(n_units) < n_units // 2)


def _dense_machine(n_units: int = 12):
    """A dense machine (all pairs coupled) with visible and hidden units."""
    from .models import BoltzmannMachine

    generator = np.random.default_rng(2)
    weights = np.triu(generator.normal(0.0, 0.5, (n_units, n_units)), 1)
    return BoltzmannMachine(weights + weights.T, generator.normal(0.0, 0.3, n_units), visible=np.arange(n_units) < n_units // 2)


def _rbm(n_visible: int = 16, n_hidden: int = 8):
    from .models import RestrictedBoltzmannMachine

    generator = np.random.default_rng(3)
    return RestrictedBoltzmannMachine(generator.normal(0.0, 0.3, (n_visible, n_hidden)), generator.normal(0.0, 0.2, n_visible),
                                      generator.normal(0.0, 0.2, n_hidden))


def _binary_data(n_rows: int, n_columns: int, density: float = 0.4) -> np.ndarray:
    return (np.random.default_rng(4).random((n_rows, n_columns)) < density).astype(np.float64)


def _chain_counts() -> tuple[int, ...]:
    """Chain counts taking each driver: one chain per loop, and 2 and 4 chains interleaved per thread."""
    from .samplers._pipeline import thread_count

    threads = thread_count()
    return 1, 2 * threads, 4 * threads


# ---------------------------------------------------------------------------- the steps
def _gibbs() -> None:
    from .samplers import GibbsSampler

    models = (_lattice(8), _sparse_machine(), _dense_machine())
    for scan in ("sequential", "random", "chromatic"):
        sampler = GibbsSampler(burn_in=1, scan=scan)
        for model in models:
            for n_chains in _chain_counts():
                sampler.sample(model, 2, n_chains=n_chains, rng=0, progress=False)
            sampler.sample(model, 2, n_chains=1, evidence={model.names[0]: 1}, rng=0, progress=False)
    # one chain on fewer threads than colour classes this large: classes split across threads
    GibbsSampler(burn_in=0, scan="chromatic").sample(_lattice(91), 1, n_chains=1, rng=0, progress=False)


def _annealing() -> None:
    from .samplers import SimulatedAnnealingSampler

    for acceptance in ("heat-bath", "metropolis"):
        for scan in ("sequential", "random", "chromatic"):
            sampler = SimulatedAnnealingSampler(n_sweeps=3, scan=scan, acceptance=acceptance)
            for model in (_lattice(8), _sparse_machine(), _dense_machine(), _rbm()):
                for n_samples in _chain_counts():
                    sampler.sample(model, n_samples, rng=0, progress=False)


def _tempering() -> None:
    from .samplers import ParallelTemperingSampler

    for scan in ("sequential", "random", "chromatic"):
        sampler = ParallelTemperingSampler([1.0, 2.0], burn_in=1, scan=scan)
        for model in (_lattice(8), _dense_machine(), _rbm()):
            sampler.sample(model, 2, n_chains=2, rng=0, progress=False)


def _block_gibbs() -> None:
    from .samplers import GibbsSampler

    rbm = _rbm()
    for dtype in ("float64", "float32"):
        sampler = GibbsSampler(burn_in=1, dtype=dtype)
        for n_chains in _chain_counts():
            sampler.sample(rbm, 2, n_chains=n_chains, rng=0, progress=False)
        sampler.sample(rbm, 2, n_chains=2, evidence={rbm.names[0]: 1, rbm.names[-1]: 0}, rng=0, progress=False)


def _exact() -> None:
    from . import exact
    from .inference import ExactInference

    for model in (_dense_machine(8), _rbm(10, 6)):
        exact.marginals(model, evidence={model.names[0]: 1})
        exact.entropy(model)
    # sizes above and below the enumerations' thresholds for splitting work across threads
    for model in (_dense_machine(8), _dense_machine(20), _rbm(10, 6), _rbm(64, 20)):
        exact.log_partition_function(model)
        engine = ExactInference(model)
        engine.query([model.names[1], model.names[2]], evidence={model.names[0]: 0})
        engine.map_query(evidence={model.names[0]: 0})
    exact.log_partition_function(_rbm(160, 20))  # above the product kernel's serial limit (64 x 20 is below)
    rbm = _rbm(10, 6)
    exact.log_likelihood(rbm, _binary_data(8, 10))


def _ais() -> None:
    from . import ais

    rbm = _rbm()
    data = _binary_data(20, rbm.n_visible)
    ais.log_partition_function(rbm, n_runs=4, betas=10, rng=0)
    ais.log_partition_function(rbm, n_runs=4, betas=10, data=data, rng=0)
    ais.estimate_log_likelihood(rbm, data, n_runs=4, betas=10, rng=0)


def _contrastive_divergence() -> None:
    from .learning import ContrastiveDivergence

    data = _binary_data(40, 16)
    for dtype in ("float32", "float64"):
        ContrastiveDivergence(epochs=1, batch_size=10, dtype=dtype).fit(6, data, rng=0, progress=False)
        ContrastiveDivergence(epochs=1, batch_size=10, persistent=True, k=2, momentum=0.5, sparsity_target=0.1,
                              dtype=dtype).fit(6, data, rng=0, progress=False)
        # the BLAS path (tempering always takes it) with the sparse products of binary data
        ContrastiveDivergence(epochs=1, batch_size=20, persistent=True, tempering=[1.0, 2.0],
                              dtype=dtype).fit(4, _binary_data(40, 16, density=0.02), rng=0, progress=False)


def _other_learning() -> None:
    from .learning import BoltzmannLearning, ExactGradient

    ExactGradient(epochs=1).fit(4, _binary_data(20, 8), rng=0, progress=False)
    data = _binary_data(20, 6)
    for model in (_dense_machine(8), _sparse_machine(8, 4)):
        BoltzmannLearning(epochs=1).fit(model, data, visible=np.arange(8) < 6, rng=0, progress=False)


def _belief_networks() -> None:
    from .learning import ContrastiveDivergence
    from .models import DeepBeliefNetwork, SigmoidBeliefNetwork

    data = _binary_data(40, 12)
    dbn = DeepBeliefNetwork.fit_greedy(data, [12, 6, 4], trainer=ContrastiveDivergence(epochs=1, batch_size=20),
                                       rng=0, progress=False)
    tuned = dbn.fine_tune(data, epochs=1, rng=0)
    tuned.sample(2, burn_in=1, rng=0)
    tuned.gibbs_posterior({tuned.names[0]: 1}, 2, n_chains=2, burn_in=1, rng=0)
    tuned.log_likelihood_bound(data[:4], n_samples=2, n_runs=4, betas=10, rng=0)
    sbn = SigmoidBeliefNetwork.random([3, 4, 5], rng=0)
    sbn.sample(2, rng=0)
    sbn.gibbs_posterior({sbn.names[-1]: 1}, 2, n_chains=2, burn_in=1, rng=0)
    sbn.query([sbn.names[0]], evidence={sbn.names[-1]: 1})


#: every step, in the order :func:`run_warmup` runs them
STEPS = (
    WarmupStep("gibbs", "single-site Gibbs sampling (sequential, random, chromatic scans)", _gibbs),
    WarmupStep("block-gibbs", "block Gibbs sampling of RBMs (float64, float32)", _block_gibbs),
    WarmupStep("annealing", "simulated annealing (heat bath, Metropolis)", _annealing),
    WarmupStep("tempering", "parallel tempering", _tempering),
    WarmupStep("exact", "exact log Z, marginals, queries", _exact),
    WarmupStep("ais", "annealed importance sampling", _ais),
    WarmupStep("cd", "contrastive divergence (CD, PCD, tempered)", _contrastive_divergence),
    WarmupStep("learning", "exact-gradient and Boltzmann learning", _other_learning),
    WarmupStep("belief", "deep belief and sigmoid belief networks", _belief_networks),
)


def run_warmup(*, only=None, progress=True) -> list[tuple[str, float]]:
    """Run the warmup :data:`STEPS` (or those named in ``only``); returns ``(name, seconds)`` of each step.

    Parameters
    ----------
    only : sequence of str, optional
        Names of the steps to run (see :data:`STEPS`); default all.
    progress : bool, default True
        Show a progress bar (one step at a time) on stderr when it is a terminal.

    Returns
    -------
    list of (str, float)
        Each step's name and wall time in seconds.

    Raises
    ------
    ValidationError
        If ``only`` names a step that does not exist.
    """
    from ._progress import progress_bar
    from ._validation import check_bool
    from .exceptions import ValidationError

    progress = check_bool(progress, "progress")
    names = [step.name for step in STEPS]
    if only is not None:
        unknown = [name for name in only if name not in names]
        if isinstance(only, str) or unknown:
            raise ValidationError(f"only must be a list of step names among {names}, got {only!r}")
    steps = [step for step in STEPS if only is None or step.name in only]
    timings = []
    with progress_bar(progress, len(steps), unit="step", description="warmup", delay=0.0) as bar:
        for step in steps:
            bar.set_postfix({"step": step.name})
            started = time.perf_counter()
            step.run()
            timings.append((step.name, time.perf_counter() - started))
            bar.update(1)
    return timings
