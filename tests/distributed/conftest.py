"""One LocalCluster of 2 worker processes (one thread each) for the tests of this folder.

Starting a cluster and importing the package in its workers costs seconds: the tests share one.
A test that kills a worker makes its own cluster.
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
