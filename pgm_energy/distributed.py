"""Many trainings at once: hyperparameter and seed sweeps, in process or on a Dask cluster.

:func:`fit_many` fits a list of ``(trainer, model_or_size)`` runs on the same data and returns
their :class:`~pgm_energy.learning.TrainingResult`\\ s with a table that scores each trained model
on the validation data: the exact log-likelihood where the model can be enumerated, else an AIS
estimate (RBMs) or the mean-field bound (deep Boltzmann machines). ``client=`` sends each run to a
worker of a Dask cluster (:mod:`pgm_energy._cluster`: ``"local"``, ``"local:N"``, an address or a
``distributed.Client``); the data go to every worker once.

Same ``rng``, same bits: each run's seed is drawn here, in run order, before any run starts, so
the results do not depend on the cluster, the number of workers or the order in which runs finish.
AIS runs (``client=`` of :mod:`pgm_energy.ais`) are split across workers the same way.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._cluster import resolve_client, share
from ._validation import check_rng, describe
from .exceptions import ModelSizeError, ParameterTypeError, StateError, ValidationError

__all__ = ["fit_many", "SweepResult"]


class SweepResult(NamedTuple):
    """The runs of :func:`fit_many`, in the order given.

    Attributes
    ----------
    results : list of TrainingResult
    table : pandas.DataFrame
        One row per run: ``name``, ``trainer`` (its repr), ``stop_reason``, ``epochs``,
        ``seconds`` (the epochs' training time), ``seed`` (the run's ``rng``), ``log_likelihood``
        (mean over the validation rows; NaN without validation data) and ``method`` (``"exact"``,
        ``"ais"``, ``"bound"`` or ``"none"``).
    """

    results: list
    table: object


def _check_runs(runs) -> tuple[list[str], list[tuple]]:
    """Names and ``(trainer, model_or_size)`` pairs from a list of pairs or a dict name -> pair."""
    from .learning._trainer import Trainer

    if isinstance(runs, dict):
        names, pairs = [str(name) for name in runs], list(runs.values())
    elif isinstance(runs, (list, tuple)):
        names, pairs = [f"run{k}" for k in range(len(runs))], list(runs)
    else:
        raise ParameterTypeError(f"runs must be a list of (trainer, model_or_size) pairs or a dict of them, "
                                 f"got {describe(runs)}")
    if not pairs:
        raise ValidationError("runs must hold at least one (trainer, model_or_size) pair, got none")
    for name, pair in zip(names, pairs):
        if not isinstance(pair, tuple) or len(pair) != 2 or not isinstance(pair[0], Trainer):
            raise ParameterTypeError(f"runs[{name!r}] must be a pair (trainer, model_or_size) with a pgm_energy trainer, "
                                     f"got {describe(pair)}")
    return names, pairs


def _fit_one(trainer, model_or_size, data, validation, seed):
    """One run, on a worker or in process (module level: sent to the workers by reference)."""
    return trainer.fit(model_or_size, data, validation=validation, rng=seed, progress=False)


def _score(model, validation, seed) -> tuple[float, str]:
    """Mean validation log-likelihood: exact when enumerable, else AIS (RBMs) or the mean-field bound (DBMs)."""
    if validation is None:
        return math.nan, "none"
    try:
        return _scored(model, validation, seed)
    except (StateError, ValidationError) as error:  # the scorers name their input "data"
        raise type(error)(f"validation: {error}") from error


def _scored(model, validation, seed) -> tuple[float, str]:
    from . import ais, exact
    from .models import DeepBoltzmannMachine

    try:
        return float(exact.log_likelihood(model, validation)), "exact"
    except ModelSizeError:
        pass
    except ParameterTypeError:
        return math.nan, "none"
    if isinstance(model, DeepBoltzmannMachine):
        return float(ais.log_likelihood_bound(model, validation, rng=seed).mean), "bound"
    try:
        return float(ais.estimate_log_likelihood(model, validation, rng=seed).mean), "ais"
    except ParameterTypeError:
        return math.nan, "none"


def fit_many(runs, data, *, validation=None, rng=None, client=None) -> SweepResult:
    """Fit every ``(trainer, model_or_size)`` run on ``data``; score the models on ``validation``.

    Parameters
    ----------
    runs : list of (Trainer, model or size) pairs, or dict name -> pair
        Each trainer's ``fit(model_or_size, data, validation=validation, rng=seed, progress=False)``.
    data, validation : as the trainers' ``fit`` take them
    rng : None, int or numpy.random.Generator
        Draws one seed per run, in run order, before any run starts.
    client : None, "local", "local:N", a scheduler address or distributed.Client
        Where the runs go: in process (None, one after the other) or one task per run on a cluster.

    Returns
    -------
    SweepResult
        ``(results, table)``; the same ``rng`` gives the same results, bit for bit, with or
        without a cluster.

    Examples
    --------
    >>> import numpy as np
    >>> from pgm_energy.learning import ContrastiveDivergence
    >>> data = (np.random.default_rng(0).random((200, 12)) < 0.3).astype(np.uint8)
    >>> runs = {f"lr={rate}": (ContrastiveDivergence(learning_rate=rate, epochs=5, monitor=None), 4)
    ...         for rate in (0.01, 0.1)}
    >>> sweep = fit_many(runs, data[:150], validation=data[150:], rng=0)
    >>> list(sweep.table["name"]), list(sweep.table["method"])
    (['lr=0.01', 'lr=0.1'], ['exact', 'exact'])
    """
    import pandas as pd

    names, pairs = _check_runs(runs)
    cluster = resolve_client(client)
    seeds = [int(seed) for seed in check_rng(rng).integers(0, 2**62, size=len(pairs))]
    if cluster is None:
        results = [_fit_one(trainer, model, data, validation, seed) for (trainer, model), seed in zip(pairs, seeds)]
    else:
        shared_data = share(cluster, data)  # recomputed, not lost, if the worker holding it dies
        shared_validation = None if validation is None else share(cluster, validation)
        futures = [cluster.submit(_fit_one, trainer, model, shared_data, shared_validation, seed, pure=False)
                   for (trainer, model), seed in zip(pairs, seeds)]
        results = cluster.gather(futures)
    rows = []
    for name, (trainer, _), seed, result in zip(names, pairs, seeds, results):
        log_likelihood, method = _score(result.model, validation, seed)
        history = result.history
        rows.append({
            "name": name, "trainer": repr(trainer), "stop_reason": result.stop_reason, "epochs": len(history),
            "seconds": float(np.nansum(history["seconds"])) if len(history) else 0.0, "seed": seed,
            "log_likelihood": log_likelihood, "method": method,
        })
    return SweepResult(list(results), pd.DataFrame(rows))
