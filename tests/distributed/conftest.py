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


@pytest.fixture(scope="session")
def run_killing_a_worker(disposable_client):
    """``run(call, warm_up)``: ``call(client)`` on the disposable cluster while one worker is SIGKILLed mid-block.

    ``warm_up(client)`` runs first (the workers load the kernels). The worker is killed as soon as
    it runs one of the call's blocks (a loaded machine is slow to start them); the test fails if it
    never did, or if the call did not finish. Returns the call's result.
    """
    import os
    import signal
    import threading
    import time

    def run(call, warm_up):
        client = disposable_client()
        warm_up(client)
        victim = next(iter(client.run(os.getpid).values()))
        result = {}

        def run_call():
            try:
                result["value"] = call(client)
            except BaseException as error:  # shown by the assert below
                result["error"] = error

        runner = threading.Thread(target=run_call)
        runner.start()
        address = next(a for a, p in client.run(os.getpid).items() if p == victim)
        deadline = time.monotonic() + 20
        busy = False
        while not busy and time.monotonic() < deadline:
            busy = bool(client.processing().get(address, ()))
            time.sleep(0.005)
        os.kill(victim, signal.SIGKILL)
        runner.join(timeout=120)
        assert "value" in result, (f"the run did not finish after a worker was killed: "
                                   f"{result.get('error', 'still running after 120 s')!r}")
        assert busy, "the killed worker had no block running: the test proves nothing (make the run longer)"
        return result["value"]

    return run


@pytest.fixture
def embedded_cluster_closed():
    """Close the embedded ``"local:1"`` cluster a test made (``_cluster`` keeps it for reuse otherwise)."""
    yield
    from pgm_energy import _cluster

    client = _cluster._LOCAL_CLIENTS.pop(1, None)
    if client is not None:
        cluster = client.cluster
        client.close()
        cluster.close()
