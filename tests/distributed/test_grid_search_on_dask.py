"""scikit-learn's GridSearchCV on the drop-in estimators runs on a Dask cluster through joblib's Dask backend."""

from __future__ import annotations

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
joblib = pytest.importorskip("joblib")

from sklearn.model_selection import GridSearchCV  # noqa: E402

from pgm_energy.sklearn import BernoulliRBM  # noqa: E402


def search(**options):
    # The score: the true mean log-likelihood of the held-out rows (score_samples is exact for small
    # models). A lambda, which cloudpickle sends by value: a function of this test module would be sent
    # by reference, and the workers cannot import the tests.
    return GridSearchCV(BernoulliRBM(n_components=4, n_iter=3, random_state=0), {"learning_rate": [0.01, 0.1]},
                        cv=2, scoring=lambda estimator, rows, y=None: float(np.mean(estimator.score_samples(rows))),
                        **options)


def test_grid_search_through_joblibs_dask_backend_scores_as_in_process():
    rows = (np.random.default_rng(0).random((200, 16)) < 0.3).astype(float)
    here = search().fit(rows)
    # a cluster of threads: joblib's Dask backend is what is tested (worker processes are, in the other files)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster, \
            distributed.Client(cluster):  # joblib's Dask backend uses the default client
        with joblib.parallel_config(backend="dask"):
            there = search(n_jobs=-1).fit(rows)
    np.testing.assert_array_equal(here.cv_results_["mean_test_score"], there.cv_results_["mean_test_score"])
    assert here.best_params_ == there.best_params_
    np.testing.assert_array_equal(here.best_estimator_.components_, there.best_estimator_.components_)
