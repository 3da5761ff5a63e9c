"""Fixtures shared by the sampler tests."""

import pytest


@pytest.fixture
def progress_updates(monkeypatch):
    """The updates of every progress bar drawn during the test, with stderr taken for a terminal.

    Each bar checks on close that its updates add up to its total; the list is the test's to
    read and clear.
    """
    import tqdm.auto

    updates = []

    class RecordingBar:
        def __init__(self, total, **options):
            self.total = total

        def update(self, n):
            updates.append(n)

        def close(self):
            assert sum(updates) == self.total

    monkeypatch.setattr("pgm_energy._progress._stderr_is_terminal", lambda: True)  # bars only on terminals
    monkeypatch.setattr(tqdm.auto, "tqdm", RecordingBar)
    return updates
