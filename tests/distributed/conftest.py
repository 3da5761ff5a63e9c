"""One LocalCluster of 2 worker processes (one thread each) for the tests of this folder.

Starting a cluster and importing the package in its workers costs seconds: the tests share one.
The tests that kill a worker share another (its nanny restarts the killed worker).
"""

import pytest


@pytest.fixture(scope="session")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="session")
def disposable_client():
    """A second 2-worker cluster, for the tests that kill a worker process: 2 workers again on each use."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(cluster, set_as_default=False)

    def ready():
        client.wait_for_workers(2, timeout=60)
        return client

    yield ready
    client.close()
    cluster.close()
