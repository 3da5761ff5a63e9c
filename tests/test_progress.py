"""The shared progress bar: drawn only when asked for and stderr is a terminal."""

import io
import sys

from pgm_energy._progress import ProgressBar, progress_bar


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_bar_not_asked_for_or_not_on_a_terminal_is_silent(monkeypatch, capsys):
    assert not progress_bar(False, 10, unit="sweep", description="Gibbs").shown
    bar = progress_bar(True, 10, unit="sweep", description="Gibbs")  # stderr is captured: not a terminal
    assert not bar.shown
    bar.update(3)
    bar.set_postfix({"loss": 1.0})
    bar.close()
    assert capsys.readouterr().err == ""


class _Recorder:
    """Stands in for tqdm (the suite sets TQDM_DISABLE, which tqdm reads at import)."""

    made = []

    def __init__(self, **options):
        self.options, self.n, self.postfix, self.closed = options, options.get("initial", 0), None, False
        _Recorder.made.append(self)

    def update(self, n):
        self.n += n

    def set_postfix(self, values, refresh):
        self.postfix = values

    def close(self):
        self.closed = True


def test_a_bar_on_a_terminal_counts_shows_metrics_and_closes(monkeypatch):
    import tqdm.auto

    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(tqdm.auto, "tqdm", _Recorder)
    with progress_bar(True, 10, unit="epoch", description="CD", initial=2, delay=0.0) as bar:
        assert isinstance(bar, ProgressBar) and bar.shown
        bar.set_postfix({"loss": 0.5})
        bar.update(8)
    made = _Recorder.made[-1]
    assert made.options == dict(total=10, initial=2, unit="epoch", desc="CD", file=terminal, delay=0.0)
    assert made.n == 10 and made.postfix == {"loss": 0.5} and made.closed
    assert not bar.shown  # closed on exit; a second close is harmless
    bar.close()


def test_a_closed_or_odd_stderr_shows_no_bar(monkeypatch):
    monkeypatch.setattr(sys, "stderr", None)
    assert not progress_bar(True, 5, unit="sweep", description="x").shown
    closed = io.StringIO()
    closed.close()  # isatty() on a closed stream raises ValueError
    monkeypatch.setattr(sys, "stderr", closed)
    assert not progress_bar(True, 5, unit="sweep", description="x").shown
