"""Per-epoch measurements of a model in training: free-energy gap, pseudo- and exact log-likelihood, AIS.

A trainer's ``monitor=`` option chooses what runs and ``monitor_every=`` how often; the
reconstruction error comes from each epoch itself for CD (free: it is the first step of the
chains) and from :class:`SampledReconstruction` for PCD: on the monitors' schedule with
``monitor="auto"``, after every epoch when ``monitor`` names ``"reconstruction_error"``. Every monitor
is deterministic given the run's seed: the training subset it measures on is drawn once, at
the start, and AIS draws from a generator keyed by ``(seed, epoch)``, so a resumed run
measures exactly what the uninterrupted run measured.

History keys (mean over rows, in nats where a log-probability):

=================================== ==========================================================
``reconstruction_error``            mean over rows of sum over units of (v - p(v | h))^2, h ~ p(h | v): CD,
                                    over the epoch's rows as they are trained (always); PCD, over
                                    the fixed training subset with the model at the end of the
                                    epoch (every ``monitor_every`` epochs with ``monitor="auto"``,
                                    every epoch when named)
``free_energy_gap``                 mean F on a fixed training subset minus mean F on validation
                                    (Hinton's guide §6: positive and growing means overfitting)
``pseudo_log_likelihood``           sum over units of log p(v_i | v_-i), exact, fixed training subset
``validation_pseudo_log_likelihood`` the same on the validation data
``log_likelihood``                  exact mean log p(v) on the fixed training subset
``validation_log_likelihood``       exact mean log p(v) on the validation data
``ais_log_likelihood``              AIS estimate on the training subset (and ``validation_ais_log_likelihood``)
``log_likelihood_bound``            deep Boltzmann machines: the mean-field lower bound on the training subset
                                    (and ``validation_log_likelihood_bound``), with the ``log_z`` used and
                                    its AIS standard deviation ``log_z_std`` (0 when exact)
=================================== ==========================================================
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np

from .._blas import one_thread
from .._math import softplus
from .._validation import DEFAULT_MAX_UNITS, check_int, check_states, describe
from ..exceptions import ParameterTypeError, ValidationError
from ..models import RestrictedBoltzmannMachine

__all__ = [
    "Monitor",
    "FreeEnergyGap",
    "PseudoLogLikelihood",
    "ExactLogLikelihood",
    "AISLogLikelihood",
    "MeanFieldBound",
    "MONITOR_NAMES",
    "EPOCH_KEYS",
    "history_keys",
    "build_monitors",
    "check_monitor_spec",
    "pseudo_log_likelihood",
]

#: history keys a trainer's epoch records itself (besides "epoch" and "seconds"): CD's reconstruction
#: error, the exact-gradient and Boltzmann trainers' gradient norms, tempered PCD's swap rates, the deep
#: Boltzmann trainer's mean-field sweeps per mini-batch
EPOCH_KEYS = ("seconds", "reconstruction_error", "gradient_norm", "log_likelihood_before", "swap_rate_min", "swap_rate_mean",
              "mean_field_sweeps")
# Keys declared by every Monitor subclass defined so far (built-in and user-defined), in definition order.
_SUBCLASS_KEYS: dict[str, None] = {}

#: largest smaller-layer size for which "auto" includes the exact log-likelihood
AUTO_EXACT_LAYER_LIMIT = 20
#: rows of the fixed training subset when there is no validation data
DEFAULT_SUBSET_ROWS = 1000
#: for RBMs with Gaussian or categorical visible units, "auto" includes the exact log-likelihood when
#: 2**n_hidden hidden states times the visible states summed per hidden state stay below this (2**27:
#: about a second; 20 hidden units of 64 real units, 16 of 64 17-state variables)
AUTO_EXACT_WORK = 2**27
# Elements of the (rows, units, hidden) block the pseudo-likelihood builds at once (~64 MB float64).
_PSEUDO_BLOCK_ELEMENTS = 8_000_000


def pseudo_log_likelihood(rbm: RestrictedBoltzmannMachine, data: np.ndarray) -> np.ndarray:
    """Exact ``sum_i log p(v_i | v_-i)`` for each row, at the model's temperature.

    Every unit of every row is flipped (not one random unit, as scikit-learn's
    ``score_samples`` does), so the value is deterministic.
    ``log p(v_i | v_-i) = -softplus((F(v) - F(v^(i))) / T)`` with ``v^(i)`` the row with unit ``i`` flipped.

    Parameters
    ----------
    rbm : RestrictedBoltzmannMachine
    data : array_like of 0/1, shape (n_samples, n_visible) or (n_visible,)
        Exactly 0 or 1 (a single row counts as one sample). Grey levels are refused: the
        pseudo-likelihood of a value that is not a state means nothing.

    Returns
    -------
    ndarray, shape (n_samples,)

    Raises
    ------
    ParameterTypeError
        If ``rbm`` is not a RestrictedBoltzmannMachine.
    StateError
        If ``data`` is not 0/1 or has another number of columns than ``rbm.n_visible``.
    """
    if not isinstance(rbm, RestrictedBoltzmannMachine):
        raise ParameterTypeError(f"rbm must be a RestrictedBoltzmannMachine, got {describe(rbm)}")
    v, _ = check_states(data, rbm.n_visible, "data")
    temperature = rbm.temperature
    weights = rbm.weights / temperature
    b = rbm.visible_bias / temperature
    c = rbm.hidden_bias / temperature
    n_rows, n_visible = v.shape
    n_hidden = weights.shape[1]
    result = np.empty(n_rows)
    step = max(1, _PSEUDO_BLOCK_ELEMENTS // (n_visible * n_hidden))
    for start in range(0, n_rows, step):
        block = v[start : start + step]
        activation = block @ weights + c  # (rows, hidden)
        delta = 1.0 - 2.0 * block  # +1 where the flip turns a unit on, -1 where off
        flipped = activation[:, None, :] + delta[:, :, None] * weights[None, :, :]  # (rows, visible, hidden)
        # (F(v) - F(v^(i))) / T = b_i delta_i + sum_j [softplus(flipped_ij) - softplus(activation_j)]
        difference = b * delta + softplus(flipped).sum(axis=2) - softplus(activation).sum(axis=1)[:, None]
        result[start : start + step] = -softplus(difference).sum(axis=1)
    return result


class Monitor:
    """A measurement taken on the model every few epochs.

    Subclasses set ``name`` and implement :meth:`__call__`; :meth:`prepare` receives the
    data once before the first epoch. ``keys`` lists the history keys :meth:`__call__` may
    return; a subclass that does not set it returns ``name`` and ``"validation_" + name``.
    Every subclass's keys are known to :func:`history_keys`, so that
    :class:`~pgm_energy.learning.EarlyStopping` can refuse a misspelt metric at once.
    """

    name = "monitor"
    keys: tuple[str, ...] = ()
    #: measured after every epoch, not only every ``monitor_every`` epochs
    every_epoch = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "keys" not in cls.__dict__:
            cls.keys = (cls.name, f"validation_{cls.name}")
        keys = cls.keys
        if isinstance(keys, str) or not all(isinstance(key, str) and key for key in keys):
            raise ParameterTypeError(f"{cls.__name__}.keys must be a tuple of non-empty strings, got {keys!r}")
        _SUBCLASS_KEYS.update(dict.fromkeys(keys))

    def prepare(self, template, train: np.ndarray, validation: np.ndarray | None, subset: np.ndarray, seed: int) -> None:
        """Remember the data: ``subset`` is the fixed training subset (rows of ``train``)."""
        self.validation = validation
        self.subset = subset
        self.seed = seed

    def __call__(self, model, epoch: int) -> dict[str, float]:
        raise NotImplementedError

    def _check_call(self, model, epoch, *, rbm: bool = True) -> int:
        """Check a measurement's arguments (and that :meth:`prepare` ran); return ``epoch`` as an int.

        ``rbm``: only binary RBMs; otherwise every kind :func:`build_monitors` prepares for.
        """
        if "subset" not in self.__dict__:
            raise ValidationError(f"{type(self).__name__} has no data yet: call prepare(...) before measuring")
        kinds = (RestrictedBoltzmannMachine,) if rbm else _template_kinds()
        if not isinstance(model, kinds):
            expected = " or ".join(kind.__name__ for kind in kinds)
            raise ParameterTypeError(f"model must be a {expected}, got {describe(model)}")
        if model.n_visible != self.subset.shape[1]:
            raise ValidationError(
                f"model has {model.n_visible} visible units, the monitor's data {self.subset.shape[1]} columns"
            )
        return check_int(epoch, "epoch", minimum=1)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _require_rbm(model, what: str) -> None:
    if not isinstance(model, RestrictedBoltzmannMachine):
        raise ParameterTypeError(f"template must be a RestrictedBoltzmannMachine for monitor {what!r}, got {describe(model)}")


def _template_kinds() -> tuple[type, ...]:
    """The models monitors measure: binary machines and RBMs, Gaussian-Bernoulli RBMs (real-valued rows),
    categorical RBMs (rows of state indices) and deep Boltzmann machines."""
    from ..models import BoltzmannMachine, CategoricalRBM, DeepBoltzmannMachine
    from ..models.gaussian_rbm import GaussianBernoulliRBM

    return (RestrictedBoltzmannMachine, BoltzmannMachine, GaussianBernoulliRBM, CategoricalRBM, DeepBoltzmannMachine)


def _deep_enumeration(template) -> tuple[int, int]:
    """A deep Boltzmann machine's exact log-likelihood: the odd layers' units (enumerated) and the even ones'."""
    odd = sum(template.layer_sizes[1::2])
    return odd, template.n_units - odd


def _free_energy_kinds() -> tuple[type, ...]:
    """The models with a free energy (an RBM of any unit type): the free-energy gap measures them."""
    from ..models import CategoricalRBM
    from ..models.gaussian_rbm import GaussianBernoulliRBM

    return (RestrictedBoltzmannMachine, GaussianBernoulliRBM, CategoricalRBM)


def _check_rows(template, rows, name: str) -> np.ndarray:
    """``rows`` as states of ``template``'s visible units: 0/1, finite reals (Gaussian), or state indices (categorical)."""
    from .._validation import check_categorical_states
    from ..models import CategoricalRBM
    from ..models._gaussian_parts import check_real_states
    from ..models.gaussian_rbm import GaussianBernoulliRBM

    if isinstance(template, GaussianBernoulliRBM):
        return check_real_states(rows, template.n_visible, name)[0]
    if isinstance(template, CategoricalRBM):
        return check_categorical_states(rows, np.asarray(template.cardinalities, dtype=np.int64), name)[0]
    return check_states(rows, template.n_visible, name)[0]


class FreeEnergyGap(Monitor):
    """Mean free energy of the training subset minus that of the validation data."""

    name = "free_energy_gap"
    keys = ("free_energy_gap",)

    def prepare(self, template, train, validation, subset, seed):
        if not isinstance(template, _free_energy_kinds()):
            raise ParameterTypeError(
                f"template must be a RestrictedBoltzmannMachine, GaussianBernoulliRBM or CategoricalRBM for monitor "
                f"{self.name!r}, got {describe(template)}"
            )
        if validation is None:
            raise ValidationError("monitor 'free_energy_gap' needs validation data: pass fit(..., validation=...)")
        super().prepare(template, train, validation, subset, seed)

    def __call__(self, model, epoch):
        self._check_call(model, epoch, rbm=False)
        if not hasattr(model, "free_energy"):
            raise ParameterTypeError(f"model must have a free energy (an RBM), got {describe(model)}")
        gap = np.mean(model.free_energy(self.subset)) - np.mean(model.free_energy(self.validation))
        return {"free_energy_gap": float(gap)}


class PseudoLogLikelihood(Monitor):
    """Exact pseudo-log-likelihood (all units) on the training subset and the validation data."""

    name = "pseudo_log_likelihood"

    def prepare(self, template, train, validation, subset, seed):
        _require_rbm(template, self.name)
        super().prepare(template, train, validation, subset, seed)

    def __call__(self, model, epoch):
        self._check_call(model, epoch)
        values = {"pseudo_log_likelihood": float(np.mean(pseudo_log_likelihood(model, self.subset)))}
        if self.validation is not None:
            values["validation_pseudo_log_likelihood"] = float(np.mean(pseudo_log_likelihood(model, self.validation)))
        return values


class ExactLogLikelihood(Monitor):
    """Exact mean log-likelihood by enumeration (:mod:`pgm_energy.exact`), training subset and validation.

    Parameters
    ----------
    max_units : int, default 30
        Passed to the exact functions (the size guard).
    """

    name = "log_likelihood"

    def __init__(self, *, max_units=DEFAULT_MAX_UNITS):
        # checked here, not at the first measurement, which comes after an epoch of work
        self.max_units = check_int(max_units, "max_units", minimum=1)

    def prepare(self, template, train, validation, subset, seed):
        """Refuse, before the first epoch, a model whose enumerated layer is larger than ``max_units``."""
        from ..exceptions import ModelSizeError

        if not isinstance(template, _template_kinds()):
            raise ParameterTypeError(
                "template must be a RestrictedBoltzmannMachine, BoltzmannMachine, GaussianBernoulliRBM or "
                f"CategoricalRBM for monitor {self.name!r}, got {describe(template)}"
            )
        from ..models import DeepBoltzmannMachine

        if isinstance(template, RestrictedBoltzmannMachine):
            size, what = min(template.n_visible, template.n_hidden), "the smaller layer"
        elif isinstance(template, DeepBoltzmannMachine):
            size, what = _deep_enumeration(template)[0], "the odd layers (h1, h3, ...)"
        elif isinstance(template, _free_energy_kinds()):  # Gaussian or categorical: the hidden layer is enumerated
            size, what = template.n_hidden, "the hidden layer"
        else:
            size, what = template.n_units, "every unit"
        if size > self.max_units:
            raise ModelSizeError(
                f"monitor 'log_likelihood' enumerates {what}: {size} units is more than max_units={self.max_units}; "
                "leave it out of monitor= (or measure with AIS)"
            )
        super().prepare(template, train, validation, subset, seed)

    def __call__(self, model, epoch):
        from .. import exact

        self._check_call(model, epoch, rbm=False)
        if isinstance(model, RestrictedBoltzmannMachine):
            # One log Z for both data sets.
            log_z = exact.log_partition_function(model, max_units=self.max_units)
            values = {"log_likelihood": float(np.mean(-model.free_energy(self.subset)) / model.temperature - log_z)}
            if self.validation is not None:
                values["validation_log_likelihood"] = float(
                    np.mean(-model.free_energy(self.validation)) / model.temperature - log_z
                )
            return values
        values = {"log_likelihood": exact.log_likelihood(model, self.subset, max_units=self.max_units)}
        if self.validation is not None:
            values["validation_log_likelihood"] = exact.log_likelihood(model, self.validation, max_units=self.max_units)
        return values

    def __repr__(self) -> str:
        return f"ExactLogLikelihood(max_units={self.max_units})"


class AISLogLikelihood(Monitor):
    """AIS estimate of the mean log-likelihood (:func:`pgm_energy.ais.estimate_log_likelihood`).

    Parameters
    ----------
    **options
        Passed to ``estimate_log_likelihood`` (``n_runs``, ``betas``, ``base``); ``rng`` is
        derived from the run's seed and the epoch.
    """

    name = "ais"
    keys = ("ais_log_likelihood", "validation_ais_log_likelihood")

    def __init__(self, **options):
        if "rng" in options:
            raise ParameterTypeError("AISLogLikelihood derives its rng from the training run; do not pass rng")
        # A misspelt option would otherwise fail at the first measurement, after an epoch of work.
        unknown = sorted(set(options) - {"n_runs", "betas", "base"})
        if unknown:
            raise ParameterTypeError(f"AISLogLikelihood got unknown options {unknown}; known: ['base', 'betas', 'n_runs']")
        self.options = options

    def prepare(self, template, train, validation, subset, seed):
        _require_rbm(template, self.name)
        super().prepare(template, train, validation, subset, seed)

    def __call__(self, model, epoch):
        from ..ais import estimate_log_likelihood

        epoch = self._check_call(model, epoch)
        generator = np.random.default_rng([self.seed, epoch])
        values = {"ais_log_likelihood": float(estimate_log_likelihood(model, self.subset, rng=generator, **self.options).mean)}
        if self.validation is not None:
            estimate = estimate_log_likelihood(model, self.validation, rng=generator, **self.options)
            values["validation_ais_log_likelihood"] = float(estimate.mean)
        return values

    def __repr__(self) -> str:
        return f"AISLogLikelihood(**{self.options!r})"


class MeanFieldBound(Monitor):
    """A deep Boltzmann machine's mean-field lower bound on the mean log-likelihood, and the ``log Z`` it uses.

    :func:`pgm_energy.ais.log_likelihood_bound` on the training subset and the validation data,
    with one ``log Z`` for both: by AIS (the data-free ``"model"`` base; ``rng`` keyed by the run's
    seed and the epoch), or exact when ``exact_log_z`` and the machine's smaller parity side has at
    most ``max_units`` units. Beside the exact log-likelihood (:class:`ExactLogLikelihood`), it shows
    how tight the bound is; beside the exact ``log Z``, how good AIS is.

    Parameters
    ----------
    n_runs : int >= 1, default 100
    betas : None, int or array, default 1000
        AIS schedule (see :func:`pgm_energy.ais.log_partition_function`).
    exact_log_z : bool, default False
        Enumerate ``log Z`` when possible instead of estimating it.
    max_units : int, default 30
    """

    name = "log_likelihood_bound"
    keys = ("log_likelihood_bound", "validation_log_likelihood_bound", "log_z", "log_z_std")

    def __init__(self, *, n_runs=100, betas=1000, exact_log_z=False, max_units=DEFAULT_MAX_UNITS):
        from ..ais import _check_betas

        self.n_runs = check_int(n_runs, "n_runs", minimum=1)
        _check_betas(betas)  # refused now, not after an epoch of work
        self.betas = betas
        if not isinstance(exact_log_z, (bool, np.bool_)):
            raise ParameterTypeError(f"exact_log_z must be True or False, got {describe(exact_log_z)}")
        self.exact_log_z = bool(exact_log_z)
        self.max_units = check_int(max_units, "max_units", minimum=0)

    def prepare(self, template, train, validation, subset, seed):
        from ..models import DeepBoltzmannMachine

        if not isinstance(template, DeepBoltzmannMachine):
            raise ParameterTypeError(f"template must be a DeepBoltzmannMachine for monitor {self.name!r}, got {describe(template)}")
        super().prepare(template, train, validation, subset, seed)

    def __call__(self, model, epoch):
        from .. import ais
        from ..models import DeepBoltzmannMachine

        epoch = self._check_call(model, epoch, rbm=False)
        if not isinstance(model, DeepBoltzmannMachine):
            raise ParameterTypeError(f"model must be a DeepBoltzmannMachine for monitor {self.name!r}, got {describe(model)}")
        generator = np.random.default_rng([self.seed, epoch])
        smaller = min(_deep_enumeration(model))
        if self.exact_log_z and smaller <= self.max_units:
            from .. import exact

            log_z, log_z_std = exact.log_partition_function(model, max_units=self.max_units), 0.0
        else:
            estimate = ais.log_partition_function(model, n_runs=self.n_runs, betas=self.betas, base="model",
                                                  rng=generator)
            log_z, log_z_std = estimate.log_z, estimate.log_z_std
        values = {
            "log_likelihood_bound": ais.log_likelihood_bound(model, self.subset, log_z=log_z).mean,
            "log_z": float(log_z),
            "log_z_std": float(log_z_std),
        }
        if self.validation is not None:
            values["validation_log_likelihood_bound"] = ais.log_likelihood_bound(model, self.validation, log_z=log_z).mean
        return values

    def __repr__(self) -> str:
        return (f"MeanFieldBound(n_runs={self.n_runs}, betas={self.betas!r}, exact_log_z={self.exact_log_z}, "
                f"max_units={self.max_units})")


#: multiply-adds below which a product runs on one BLAS thread
_SMALL_PRODUCT = 2**24


class SampledReconstruction(Monitor):
    """The reconstruction error of PCD: on the fixed training subset, with the model at the end of the epoch.

    ``mean over rows of sum_i (v_i - p(v_i | h))^2`` with ``h ~ p(h | v)`` drawn from a generator
    keyed by ``(seed, epoch)`` (a resumed run measures the same), and the products in the
    training ``dtype``, over :attr:`MAX_ROWS` rows of the subset drawn once (seeded by ``seed``).
    PCD's epochs do not reconstruct their rows (that would cost a product per update); this
    costs two products of those rows (about 1% of a PCD-1 epoch of 10,000 MNIST rows), and it
    leaves the training itself untouched: a run draws the same numbers with or without it.

    Parameters
    ----------
    dtype : float32 or float64
        Precision of the products.
    every_epoch : bool, default True
        Measure after every epoch (as CD's free reconstruction error is), else every
        ``monitor_every`` epochs like the other monitors.
    """

    name = "reconstruction_error"
    keys = ("reconstruction_error",)
    #: rows measured: a progress figure, whose standard error is 1/16 of the rows' spread
    MAX_ROWS = 256

    def __init__(self, dtype, *, every_epoch=True):
        self.dtype = np.dtype(dtype)
        self.every_epoch = bool(every_epoch)

    def prepare(self, template, train, validation, subset, seed):
        from ..models.gaussian_rbm import GaussianBernoulliRBM

        if not isinstance(template, GaussianBernoulliRBM):
            _require_rbm(template, self.name)
        super().prepare(template, train, validation, subset, seed)
        rows = subset
        if rows.shape[0] > self.MAX_ROWS:  # a random sample of the subset (not its first rows: data may be sorted)
            rows = rows[np.sort(np.random.default_rng([seed, 2]).choice(rows.shape[0], self.MAX_ROWS, replace=False))]
        self._rows = np.ascontiguousarray(rows, dtype=self.dtype)

    def __call__(self, model, epoch):
        from ..models.gaussian_rbm import GaussianBernoulliRBM

        if isinstance(model, GaussianBernoulliRBM):
            epoch = self._check_call(model, epoch, rbm=False)
            # real visible units: the error of the conditional mean b + W h, in float64
            generator = np.random.default_rng([self.seed, epoch, 1])
            rows = np.asarray(self._rows, dtype=np.float64)
            probabilities = model.hidden_probabilities(rows)
            hidden = (generator.random(probabilities.shape) < probabilities).astype(np.float64)
            error = np.sum(np.square(rows - model.visible_mean(hidden)))
            return {"reconstruction_error": float(error) / rows.shape[0]}
        epoch = self._check_call(model, epoch)
        dtype, rows = self.dtype, self._rows
        scale = 1.0 / model.temperature
        weights = (model.weights if scale == 1.0 else model.weights * scale).astype(dtype)
        generator = np.random.default_rng([self.seed, epoch, 1])  # not AIS's stream (seed, epoch)
        # Small products on one BLAS thread (a pool of two took 8 ms instead of 0.04 on a busy machine).
        small = rows.shape[0] * weights.size <= _SMALL_PRODUCT
        with np.errstate(over="ignore"), (one_thread() if small else nullcontext()):  # exp(-inf) = 0: exact sigmoid
            hidden = rows @ weights
            hidden += (model.hidden_bias * scale).astype(dtype)
            probabilities = 1.0 / (1.0 + np.exp(-hidden))
            states = (generator.random(probabilities.shape, dtype=dtype) < probabilities).astype(dtype)
            visible = states @ weights.T
            visible += (model.visible_bias * scale).astype(dtype)
            visible = 1.0 / (1.0 + np.exp(-visible))
        visible -= rows
        return {"reconstruction_error": float(np.sum(np.square(visible), dtype=np.float64)) / rows.shape[0]}

    def __repr__(self) -> str:
        return f"SampledReconstruction({self.dtype.name!r}, every_epoch={self.every_epoch})"


#: names accepted in ``monitor=``; "reconstruction_error" is always recorded (it costs nothing)
MONITOR_NAMES = {
    "reconstruction_error": None,
    "free_energy_gap": FreeEnergyGap,
    "pseudo_log_likelihood": PseudoLogLikelihood,
    "log_likelihood": ExactLogLikelihood,
    "ais": AISLogLikelihood,
    "log_likelihood_bound": MeanFieldBound,
}


def history_keys() -> tuple[str, ...]:
    """Every history key a run can record: :data:`EPOCH_KEYS` and the keys of every Monitor subclass.

    User-defined :class:`Monitor` subclasses add their ``keys`` when they are defined.
    """
    return tuple(dict.fromkeys((*EPOCH_KEYS, *_SUBCLASS_KEYS)))


def check_monitor_spec(spec, *, model_kind=None, names=None):
    """Validate a ``monitor=`` option; returns "auto" or a tuple of names and Monitor objects.

    Accepted: ``"auto"``, ``None`` / ``()`` (nothing beyond the reconstruction error), a single
    name, or a sequence of names from :data:`MONITOR_NAMES` and :class:`Monitor` instances.
    ``names``: the names a trainer of ``model_kind`` (e.g. "a categorical RBM") takes; another
    known name is refused now, not after the first epoch.
    """
    if spec is None:
        return ()
    if isinstance(spec, str):
        if spec == "auto":
            return "auto"
        spec = (spec,)
    if isinstance(spec, Monitor):
        spec = (spec,)
    if not isinstance(spec, (list, tuple)):
        # Not any iterable: iterating a dict, a generator or a malformed sparse matrix is garbage or worse.
        raise ParameterTypeError(f"monitor must be 'auto', None, or a list/tuple of names or Monitors, got {describe(spec)}")
    items = tuple(spec)
    for item in items:
        if isinstance(item, str):
            if item not in MONITOR_NAMES:
                raise ValidationError(f"monitor names an unknown monitor {item!r}; known: {sorted(MONITOR_NAMES)}")
            if names is not None and item not in names:
                raise ValidationError(
                    f"monitor names {item!r}, which measures binary RBMs only; {model_kind} takes {list(names)}")
        elif not isinstance(item, Monitor):
            raise ParameterTypeError(f"monitor entries must be names or Monitor objects, got {describe(item)}")
    return items


def _auto(template, validation) -> list[Monitor]:
    from ..models import DeepBoltzmannMachine

    monitors: list[Monitor] = []
    if isinstance(template, RestrictedBoltzmannMachine):
        if validation is not None:
            monitors.append(FreeEnergyGap())
        if min(template.n_visible, template.n_hidden) <= AUTO_EXACT_LAYER_LIMIT:
            monitors.append(ExactLogLikelihood())
    elif isinstance(template, _free_energy_kinds()):  # Gaussian or categorical RBM: the hidden layer is enumerated
        if validation is not None:
            monitors.append(FreeEnergyGap())
        # a categorical visible variable costs its number of states per hidden state (17 grey levels: 17)
        width = sum(template.cardinalities) if hasattr(template, "cardinalities") else template.n_visible
        if template.n_hidden <= AUTO_EXACT_LAYER_LIMIT and 2.0**template.n_hidden * width <= AUTO_EXACT_WORK:
            monitors.append(ExactLogLikelihood())
    elif isinstance(template, DeepBoltzmannMachine):
        enumerated, summed = _deep_enumeration(template)
        if enumerated <= AUTO_EXACT_LAYER_LIMIT and 2.0**enumerated * summed <= AUTO_EXACT_WORK:
            monitors.append(ExactLogLikelihood())
        else:
            monitors.append(MeanFieldBound())
    elif template.n_units <= AUTO_EXACT_LAYER_LIMIT:
        monitors.append(ExactLogLikelihood())
    return monitors


def build_monitors(spec, template, train: np.ndarray, validation: np.ndarray | None, *, seed: int,
                   extra=()) -> list[Monitor]:
    """Prepared monitors for one run: those ``spec`` asks for, then the trainer's own ``extra`` ones.

    ``"auto"``: the free-energy gap when there is validation data (RBMs), and the exact
    log-likelihood when the RBM's smaller layer has at most 20 units (a general machine: at
    most 20 units in all). The fixed training subset has as many rows as the validation data
    (at most all training rows), or ``min(n_rows, 1000)`` without validation data; it is drawn
    from a generator seeded by ``seed``.
    """
    spec = check_monitor_spec(spec)
    extra = list(extra)
    if spec == () and not extra:  # nothing to measure: a trainer of any model may run without monitors
        check_int(seed, "seed", minimum=0)
        return []
    if not isinstance(template, _template_kinds()):
        raise ParameterTypeError(
            "template must be a RestrictedBoltzmannMachine, BoltzmannMachine or GaussianBernoulliRBM, "
            f"got {describe(template)}"
        )
    n_visible = template.n_visible
    # The trainer has checked the data; only its layout is checked here (no float64 copy of it
    # all), and the rows the monitors use are checked as states below.
    # (or streamed training data, a bound StreamedRows: the subset below is all the monitors read of it)
    if not hasattr(train, "shape") or hasattr(train, "nnz") or train.ndim != 2 or train.shape[0] == 0 \
            or train.shape[1] != n_visible:  # a sparse matrix is not among the trainers' checked data
        raise ValidationError(f"train must be an array of shape (n_rows >= 1, {n_visible}), got {describe(train)}")
    if validation is not None:
        validation = _check_rows(template, validation, "validation")
    seed = check_int(seed, "seed", minimum=0)
    if spec == "auto":
        monitors = _auto(template, validation)
    else:
        monitors = [item if isinstance(item, Monitor) else MONITOR_NAMES[item]() for item in spec if item != "reconstruction_error"]
    monitors += extra
    if not monitors:
        return []
    n_rows = train.shape[0]
    size = min(n_rows, validation.shape[0] if validation is not None else DEFAULT_SUBSET_ROWS)
    rows = np.sort(np.random.default_rng(seed).choice(n_rows, size=size, replace=False))
    subset = _check_rows(template, train[rows], "train")
    for monitor in monitors:
        monitor.prepare(template, train, validation, subset, seed)
    return monitors
